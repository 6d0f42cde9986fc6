/* sa_plan.h - the read-only part of a simulated-annealing run (private). */
#ifndef NQBA_SA_PLAN_H
#define NQBA_SA_PLAN_H

#include "nqba/model.h"
#include "nqba/solve.h"
#include "reads.h"

/* Everything one read needs that is the same for every read: the Ising
 * form, the integer kernel's scaled weights and acceptance tables, and the
 * temperature schedule. Shared by all threads without locking. */
typedef struct sa_plan {
    const nq_model *is; /* Ising form of the model (the model itself, or own) */
    nq_model own;
    int32_t n;
    int32_t sweeps;
    double *beta;     /* per sweep */
    /* Integer kernel: fields in units of 1/scale; used when every scaled
     * coefficient is an integer and fields fit comfortably in int32. */
    int integer;
    double scale;
    int32_t *h_int;   /* n: scaled linear terms */
    int32_t *w2_int;  /* nnz: twice the scaled couplings (the field change of a flip) */
    /* Acceptance table: a flip whose field opposes the spin by d units is
     * accepted iff a uniform u32 is below thr[t * stride + d]; d > cut[t]
     * is never accepted (probability under 2^-32). */
    uint32_t *thr;
    int32_t *cut;
    int32_t stride;
    /* Batch kernel (sa_batch.c): NQ__SA_LANES reads at once in int16 lanes,
     * chosen when every field fits int16; then lanes = NQ__SA_LANES. */
    int lanes;
    int16_t *h_h;  /* n: scaled linear terms */
    int16_t *w2_h; /* nnz: twice the scaled couplings */
} sa_plan;

#define NQ__SA_LANES 16
#define NQ__SA_DEFAULT_READS 32
/* Largest |field| the batch kernel takes: s * f and its negation stay in
 * int16, and so does every coupling of such a model. */
#define NQ__SA_LANE_FIELD_MAX 16383
/* Above this many variables the scalar kernel's 5 bytes per variable beat
 * the batch kernel's 96 per thread. */
#define NQ__SA_LANE_MAX_VARS 262144

int nq__sa_plan_init(sa_plan *p, const nq_model *m, const nq_solve_opts *o, nq_err *err);
void nq__sa_plan_free(sa_plan *p);

/* The annealer as a reader for the read pool (sa_kernel.c). */
void *nq__sa_work_new(const void *plan);
void nq__sa_work_free(void *work);
int64_t nq__sa_run(const void *plan, void *work, nq_rng *rng, const nq__stop *stop,
                   int64_t read, int8_t *best);

/* The batch kernel: `count` reads read0.. with streams lanes[0..count),
 * best = count rows of n spins. */
void *nq__sa_batch_work_new(const void *plan);
void nq__sa_batch_work_free(void *work);
int64_t nq__sa_batch_run(const void *plan, void *work, nq_rng *lanes, int count,
                         const nq__stop *stop, int64_t read0, int8_t *best);

/* Default schedule ends derived from the Ising coefficients. */
void nq__sa_default_betas(const nq_model *is, double *beta_min, double *beta_max);

#endif
