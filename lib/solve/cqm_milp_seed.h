/* cqm_milp_seed.h - a feasible starting point for the MILP search, built
 * from its LP relaxation (cqm_milp_seed.c). */
#ifndef NQBA_CQM_MILP_SEED_H
#define NQBA_CQM_MILP_SEED_H

#include <stdint.h>

#include "cqm_index.h"

/* lp[atom], rc[atom]: the relaxation's value and reduced cost of each
 * atom. Fills values (one per variable) and returns 1 with a point
 * satisfying every hard constraint, 0 when none was found (values then
 * undefined), NQ_ENOMEM. */
int nq__milp_seed(const nq__cqm_index *ix, const double *lp, const double *rc, int64_t *values);

#endif
