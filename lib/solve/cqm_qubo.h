/* cqm_qubo.h - compiling a constrained model (linear constraints) to a
 * QUBO and decoding QUBO states back to assignments. */
#ifndef NQBA_CQM_QUBO_H
#define NQBA_CQM_QUBO_H

#include "nqba/cqm.h"
#include "nqba/model.h"

#define NQ_CQM_QUBO_MAX_BITS 200000

typedef struct nq__cqm_qubo {
    int32_t n_bits;      /* bits of the variables (slack bits follow) */
    int32_t n_total;     /* all bits */
    int32_t *atom_first; /* atom: first bit */
    double *atom_k;      /* atom: constant part */
    int32_t *atom_n;     /* atom: number of bits */
} nq__cqm_qubo;

/* Nonzero when every constraint is linear. */
int nq__cqm_qubo_supported(const nq_cqm *m);
/* Build the QUBO with penalty lam[c] per constraint and one-hot penalty
 * onehot. The model must be finished. */
int nq__cqm_qubo_build(const nq_cqm *m, const double *lam, double onehot, nq__cqm_qubo *q,
                       nq_model *out, nq_err *err);
void nq__cqm_qubo_decode(const nq_cqm *m, const nq__cqm_qubo *q, const int8_t *bits,
                         int64_t *values);
void nq__cqm_qubo_free(nq__cqm_qubo *q);
/* Weight of bit `bit` of an atom's encoding (1 for 0/1 atoms). */
double nq__cqm_qubo_coef(const nq_cqm *m, int32_t atom, int32_t bit);

#endif
