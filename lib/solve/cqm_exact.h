/* cqm_exact.h - exhaustive enumeration of small constrained models. */
#ifndef NQBA_CQM_EXACT_H
#define NQBA_CQM_EXACT_H

#include "cqm_search.h"

/* Largest search space enumerated. */
#define NQ_CQM_EXACT_MAX_STATES (1LL << 24)

/* Number of assignments within the bounds (fixed variables count once),
 * or cap + 1 when larger than cap. */
int64_t nq__cqm_space(const nq_cqm *m, int64_t cap);

/* Enumerate every allowed assignment; every feasible one is offered to the
 * pool, so pool->vals is a proven optimum when pool->n > 0. */
int nq__cqm_exact(const nq__cqm_index *ix, const nq__cqm_search_opts *o, nq__cqm_pool *pool,
                  nq__cqm_search_out *out, int *proven_infeasible);

#endif
