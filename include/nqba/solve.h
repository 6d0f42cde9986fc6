/* solve.h - the engine's solvers behind one interface.
 *
 *   exact  Gray-code enumeration of every state (n <= NQ_EXACT_MAX_VARS),
 *          split over threads by the top bits.
 *   sa     simulated annealing with incrementally maintained local fields,
 *          a geometric schedule derived from the coefficients, many
 *          independent reads spread over threads (16 reads at once in
 *          vector lanes when the fields fit int16).
 *   tabu   breakout local search: one-flip tabu search with aspiration and
 *          adaptive perturbation.
 *   pt     parallel tempering with an adaptive temperature ladder.
 *   sb     simulated bifurcation, ballistic or discrete.
 *   auto   the default: exact for small models, else a portfolio of the
 *          heuristics on all threads sharing the incumbent (auto.c).
 *
 * The multi-read heuristics are deterministic for a given seed whatever the
 * thread count, as long as no time limit cuts the run short: read k always
 * uses the random stream "seed jumped k times", and ties go to the lowest
 * read index. auto is deterministic for a seed on one thread. */
#ifndef NQBA_SOLVE_H
#define NQBA_SOLVE_H

#include <stdatomic.h>
#include <stdint.h>

#include "nqba/err.h"
#include "nqba/model.h"

#define NQ_EXACT_MAX_VARS 32
#define NQ_SOLVE_MAX_THREADS 256
#define NQ_SOLVE_MAX_READS 10000000
#define NQ_SOLVE_MAX_SWEEPS 100000000

typedef struct nq_solve_opts {
    const char *solver; /* "auto" | "sa" | "tabu" | "pt" | "sb" | "exact"; NULL = "auto" */
    uint64_t seed;
    /* Independent runs; 0 = the solver's default (sa 32, tabu 4, pt 4,
     * sb 4 reads of 16 trajectories). auto sets its own per task. */
    int32_t reads;
    /* Work per read; 0 = the solver's default: sa sweeps (1000), tabu
     * flips in units of n (2000), pt sweeps of every replica (2000), sb
     * time steps (1000). */
    int32_t sweeps;
    int32_t threads;    /* 0 or 1 = one thread */
    double time_limit;  /* seconds; 0 = none */
    int has_target;     /* stop once a state with energy <= target is found */
    double target;
    double beta_min;    /* sa: 0 = derived from the coefficients */
    double beta_max;    /* sa: 0 = derived from the coefficients */
    int32_t replicas;   /* pt: temperatures per read; 0 = default */
    const char *variant;/* sb: "ballistic" (default) or "discrete" */
    /* Optional: the solver returns soon after *cancel_flag becomes nonzero,
     * as if the progress callback had cancelled (for callers that stop
     * solves from another thread without a callback). */
    const atomic_int *cancel_flag;
} nq_solve_opts;

void nq_solve_opts_default(nq_solve_opts *o);

typedef struct nq_progress {
    const char *solver;
    double best_energy;  /* best so far (model units) */
    double elapsed;      /* seconds since the solve started */
    double fraction;     /* 0..1 of the planned work */
    int64_t done, total; /* reads (sa) or chunks (exact) */
} nq_progress;

/* Called from solver threads, one call at a time. Return nonzero to cancel. */
typedef int (*nq_progress_fn)(const nq_progress *p, void *user);

typedef struct nq_result {
    char solver[16];
    char found_by[16];      /* the solver that found the state (differs for auto) */
    nq_vartype type;
    int32_t n;
    int8_t *state;          /* best state, in the model's variable type */
    double energy;          /* its energy, recomputed exactly */
    double elapsed;         /* seconds */
    double time_to_best;    /* seconds until the best state was first found */
    int64_t reads;          /* reads completed (auto: solver runs completed) */
    double *read_energies;  /* best energy of each completed read, in read order */
    int64_t attempts;       /* flip attempts (sa, pt), flips (tabu), spin updates
                             * (sb: n per step per trajectory), states (exact) */
    int target_reached;
    int timed_out;
    int cancelled;
} nq_result;

int nq_solve(const nq_model *m, const nq_solve_opts *o, nq_progress_fn cb, void *user,
             nq_result *out, nq_err *err);
void nq_result_free(nq_result *r); /* NULL ok */

/* Individual solvers (nq_solve dispatches on o->solver). */
int nq_solve_exact(const nq_model *m, const nq_solve_opts *o, nq_progress_fn cb, void *user,
                   nq_result *out, nq_err *err);
int nq_solve_sa(const nq_model *m, const nq_solve_opts *o, nq_progress_fn cb, void *user,
                nq_result *out, nq_err *err);
int nq_solve_auto(const nq_model *m, const nq_solve_opts *o, nq_progress_fn cb, void *user,
                  nq_result *out, nq_err *err);
int nq_solve_tabu(const nq_model *m, const nq_solve_opts *o, nq_progress_fn cb, void *user,
                  nq_result *out, nq_err *err);
int nq_solve_pt(const nq_model *m, const nq_solve_opts *o, nq_progress_fn cb, void *user,
                nq_result *out, nq_err *err);
int nq_solve_sb(const nq_model *m, const nq_solve_opts *o, nq_progress_fn cb, void *user,
                nq_result *out, nq_err *err);

/* Release what solvers keep per thread (GLPK's environment). Call it in a
 * thread that may have solved, just before the thread exits. */
void nq_solve_thread_exit(void);

#endif
