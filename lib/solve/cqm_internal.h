/* cqm_internal.h - shared by the constrained-model files in lib/solve. */
#ifndef NQBA_CQM_INTERNAL_H
#define NQBA_CQM_INTERNAL_H

#include "nqba/cqm.h"

/* Violation of lhs (sense) rhs, zero within the tolerance. */
double nq__cqm_violation(nq_cqm_sense sense, double lhs, double rhs);
/* nq_cqm_atom for a reference of known length n (ref[n] is its NUL). */
int nq__cqm_atom_n(const nq_cqm *m, const char *ref, size_t n, nq_err *err);

#endif
