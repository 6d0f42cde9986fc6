/* pt_plan.h - parallel tempering (replica exchange) internals (private).
 *
 * pt_plan.c   the read-only plan: Ising form, integer weights, ladder ends
 * pt_ladder.c the temperature ladder: swaps, statistics, adaptive respacing
 * pt_kernel.c fields, Metropolis sweeps, zero-temperature descent
 * pt_read.c   one read: replicas, warm-up, production, best tracking */
#ifndef NQBA_PT_PLAN_H
#define NQBA_PT_PLAN_H

#include "nqba/model.h"
#include "nqba/solve.h"
#include "reads.h"

/* Everything a read needs that is the same for every read. Shared by all
 * threads without locking. */
typedef struct pt_plan {
    const nq_model *is; /* Ising form of the model (the model itself, or own) */
    nq_model own;
    const nq_solve_opts *o; /* for the target */
    int32_t n;
    int32_t replicas;
    int32_t sweeps;             /* per replica per read, warm-up included */
    int32_t warmup;             /* sweeps spent adapting the ladder */
    int adapt;                  /* respace the ladder during warm-up (else keep it geometric) */
    int32_t poll;               /* flip attempts between polls of the stop signals */
    double beta_hot, beta_cold; /* ladder ends, never moved */
    /* Integer kernel: fields in units of 1/scale; used when every scaled
     * coefficient is an integer and the acceptance tables stay small. */
    int integer;
    double scale;
    int32_t *h_int;  /* n: scaled linear terms */
    int32_t *w2_int; /* nnz: twice the scaled couplings (the field change of a flip) */
    int32_t stride;  /* acceptance table row length: d = 0 .. stride - 1 */
} pt_plan;

/* One replica: spins, local fields (integer or floating, per the plan) and
 * its energy minus the offset, in model units. */
typedef struct pt_replica {
    int8_t *s;
    int32_t *fi;
    double *fd;
    double e;
} pt_replica;

/* Per-pair swap statistics: expected acceptance min(1, e^x) summed over
 * attempts (a lower-variance estimate than counting accepted swaps) and
 * swaps actually made. */
typedef struct pt_stats {
    double *acc_sum;
    int64_t *tries;
    int64_t *swaps;
} pt_stats;

/* Per-thread scratch, reused across reads. */
typedef struct pt_work {
    int32_t replicas;
    pt_replica *rep; /* replica slots */
    pt_replica keep; /* fields of the read's best state (spins: the pool's buffer) */
    int32_t *at;     /* at[k]: the replica at temperature k (swaps exchange these) */
    double *beta;    /* beta[k], increasing: k = 0 is the hottest */
    uint32_t *thr;   /* integer kernel: thr[k * stride + d] */
    int32_t *cut;    /* integer kernel: flips opposing by d > cut[k] are rejected */
    pt_stats stats;  /* since the last ladder change */
    double *scratch; /* 2 * replicas, for respacing */
    int64_t attempts;
} pt_work;

int nq__pt_plan_init(pt_plan *p, const nq_model *m, const nq_solve_opts *o, nq_err *err);
void nq__pt_plan_free(pt_plan *p);

/* The read pool's reader (pt_read.c). */
void *nq__pt_work_new(const void *plan);
void nq__pt_work_free(void *work);
int64_t nq__pt_run(const void *plan, void *work, nq_rng *rng, const nq__stop *stop, int64_t read,
                   int8_t *best);

/* Ladder (pt_ladder.c). */
void nq__pt_ladder_geometric(const pt_plan *p, double *beta);
void nq__pt_ladder_tables(const pt_plan *p, pt_work *w);
void nq__pt_stats_reset(const pt_plan *p, pt_stats *st);
void nq__pt_swaps(const pt_plan *p, pt_work *w, int parity, nq_rng *rng);
int nq__pt_ladder_respace(const pt_plan *p, pt_work *w);

/* Kernel (pt_kernel.c), on spins [lo, hi) so that callers can poll in
 * between: local fields from the spins; the energy from spins and fields;
 * a Metropolis sweep at temperature k; a zero-temperature pass that flips
 * every spin lowering the energy and sets *flips when it flipped any.
 * Energy changes are in model units. */
void nq__pt_fields(const pt_plan *p, pt_replica *r, int32_t lo, int32_t hi);
void nq__pt_energy(const pt_plan *p, pt_replica *r);
double nq__pt_sweep(const pt_plan *p, const pt_work *w, int32_t k, pt_replica *r, int32_t lo,
                    int32_t hi, nq_rng *rng);
double nq__pt_descend(const pt_plan *p, pt_replica *r, int32_t lo, int32_t hi, int *flips);

/* Test hook: one read of o->sweeps sweeps (stream o->seed) whose warm-up
 * adapts the ladder (adapt != 0) or keeps it geometric; rates[k] receives
 * the fraction of swaps accepted between temperatures k and k + 1 after
 * the warm-up, beta[k] the final ladder (replicas entries each; the last
 * rate is 0). */
int nq__pt_probe_rates(const nq_model *m, const nq_solve_opts *o, int adapt, double *rates,
                       double *beta, nq_err *err);

#endif
