/* cqm_milp_seed.h - a feasible starting point for the MILP search, built
 * from its LP relaxation (cqm_milp_seed.c), and the MILP entry that takes
 * an index already built (cqm_milp.c). */
#ifndef NQBA_CQM_MILP_SEED_H
#define NQBA_CQM_MILP_SEED_H

#include <stdint.h>

#include "cqm_index.h"

/* lp[atom], rc[atom]: the relaxation's value and reduced cost of each
 * atom. Fills values (one per variable) and returns 1 with a point
 * satisfying every hard constraint, 0 when none was found (values then
 * undefined), NQ_ENOMEM. */
int nq__milp_seed(const nq__cqm_index *ix, const double *lp, const double *rc, int64_t *values);

/* nq_cqm_solve_milp for a caller that has already built the finished
 * model's index (nq_cqm_solve): the seed reads it instead of building its
 * own. ix may be NULL, or an index of another model, which is ignored. */
int nq__cqm_solve_milp_ix(const nq_cqm *m, const nq__cqm_index *ix, double time_limit,
                          nq_milp_result *out, nq_err *err);

#endif
