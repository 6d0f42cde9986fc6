/* cqm_search.h - the native constrained search (tabu search with adaptive
 * constraint weights) and the pool of distinct feasible answers it fills. */
#ifndef NQBA_CQM_SEARCH_H
#define NQBA_CQM_SEARCH_H

#include <stdatomic.h>
#include <stdint.h>

#include "cqm_state.h"
#include "nqba/solve.h"

/* The best distinct feasible assignments seen, best (lowest score) first. */
typedef struct nq__cqm_pool {
    int32_t cap, n, n_vars;
    int64_t *vals;      /* cap * n_vars */
    double *score;
    uint64_t *hash;
} nq__cqm_pool;

int nq__cqm_pool_init(nq__cqm_pool *p, int32_t cap, int32_t n_vars);
void nq__cqm_pool_free(nq__cqm_pool *p);
/* Would a state of this score enter the pool? */
int nq__cqm_pool_wants(const nq__cqm_pool *p, double score);
/* Insert unless an equal assignment is there; keeps the best cap. */
void nq__cqm_pool_offer(nq__cqm_pool *p, uint64_t hash, double score, const int64_t *vals);

typedef struct nq__cqm_search_opts {
    uint64_t seed;
    double t0;               /* clock at the start of the solve */
    double deadline;         /* absolute nq_clock_s(); 0 = none */
    int64_t max_iter;        /* 0 = none */
    int32_t stall_restarts;  /* stop after this many restarts without a new best; 0 = never */
    const int64_t *start;    /* optional start assignment */
    const atomic_int *cancel;
    nq_progress_fn cb;
    void *user;
} nq__cqm_search_opts;

typedef struct nq__cqm_search_out {
    int64_t iterations;
    double time_to_best;     /* seconds since t0 */
    int64_t *least;          /* caller-allocated n_vars: least violated state seen */
    int32_t least_viol;      /* its violated hard constraints */
    double least_total;      /* its total hard violation */
    int timed_out, cancelled;
} nq__cqm_search_out;

/* Run the search; feasible states go to pool (the best is pool->vals). */
int nq__cqm_search(const nq__cqm_index *ix, const nq__cqm_search_opts *o, nq__cqm_pool *pool,
                   nq__cqm_search_out *out);

/* The QUBO path (cqm_qpath.c): compile, anneal with the engine solver
 * named in o (auto -> sa), decode and polish, for about budget seconds. */
int nq__cqm_qpath(const nq_cqm *m, const nq__cqm_index *ix, const nq_cqm_opts *o,
                  const nq__cqm_search_opts *so, double budget, nq__cqm_pool *pool,
                  nq__cqm_search_out *sout, int32_t *rounds, int32_t *qubo_vars, nq_err *err);

#endif
