/* tabu_plan.h - breakout local search (tabu): the read-only plan shared by
 * all reads, the per-thread move structures, and the reader (private). */
#ifndef NQBA_TABU_PLAN_H
#define NQBA_TABU_PLAN_H

#include "nqba/model.h"
#include "nqba/solve.h"
#include "reads.h"

/* Everything that is the same for every read. Gains are "how much a flip
 * lowers the energy": flipping i lowers E by 2 s_i f_i, f_i the local field
 * h_i + sum_j w_ij s_j. */
typedef struct tabu_plan {
    const nq_model *is; /* Ising form (the model itself, or own) */
    nq_model own;
    const nq_solve_opts *o;
    int32_t n;
    int64_t moves;      /* move budget of one read: sweeps x n */
    int32_t poll;       /* moves between checks of the stop signals */
    /* Exact kernel: every coefficient times scale is an integer and
     * gains stay within +-span; the bucket key is the gain, int32 in units
     * of 1/scale. Real kernel otherwise: the key is round(gain x quant)
     * clamped to +-span. */
    int exact;
    double scale;
    double quant;
    int32_t span;
    int32_t *h_int;     /* n: scaled linear terms (exact kernel) */
    int32_t *w2_int;    /* nnz: twice the scaled couplings (exact kernel) */
    double eps;         /* real gains up to this are rounding noise */
    /* Search parameters (see docs/internals/tabu.md). */
    int32_t jump_min, jump_max; /* perturbation strength L0 and Lmax */
    int32_t tenure_min, tenure_max;
    int32_t stall;      /* T: local minima without improvement before a big jump */
    int32_t restart_stalls; /* big jumps without improvement before a restart */
    double p_directed;  /* P0: floor of the directed-perturbation probability */
} tabu_plan;

/* A bucket-list node: vertices 0..n-1, then the sentinels of the free
 * buckets, then those of the tabu buckets. */
typedef struct tabu_node {
    int32_t next, prev;
    int32_t g;          /* bucket key (vertices only) */
    int8_t s;           /* spin (vertices only) */
    int8_t tabu;        /* 1: in the tabu buckets and the wheel */
    int16_t unused;
} tabu_node;

/* Per-thread state of one search: spins, gains, bucket lists and the tabu
 * state. The clock counts flips since the last load; a spin flipped at
 * clock t with tenure d is tabu until clock t+1+d. A vertex of key g sits
 * in the list whose sentinel is node n + span + g when free, n + nb + span
 * + g when tabu (nb = 2 span + 1). Tabu vertices also sit in a timing
 * wheel of tenure_max + 1 slots (wheel nodes n.. are the slot sentinels),
 * slot u mod slots holding those tabu until clock u. */
typedef struct tabu_work {
    const tabu_plan *p;
    nq_rng *rng;        /* the read's stream (tenures) */
    int8_t *s;          /* start state, read by the load */
    int64_t clock;
    tabu_node *node;
    int32_t top[2];     /* no free / tabu sentinel above these has a vertex */
    int32_t *wnext, *wprev;
    int32_t slots;
    int32_t slot;       /* clock mod slots */
    int64_t e_int;      /* exact kernel: energy change, units of 1/scale */
    double e;           /* real kernel: energy change */
    double *gd;         /* real kernel: gains s_i f_i */
} tabu_work;

int nq__tabu_plan_init(tabu_plan *p, const nq_model *m, const nq_solve_opts *o, nq_err *err);
void nq__tabu_plan_free(tabu_plan *p);

/* Move structures (tabu_moves.c). */
int nq__tabu_moves_alloc(tabu_work *w, const tabu_plan *p);
void nq__tabu_moves_free(tabu_work *w);
/* Gains of w->s from scratch; clock 0, nothing tabu. */
void nq__tabu_load(tabu_work *w);
/* Flip i and make it tabu for a random tenure. */
void nq__tabu_move(tabu_work *w, int32_t i);
double nq__tabu_energy(const tabu_work *w);       /* relative to the last load */
void nq__tabu_spins(const tabu_work *w, int8_t *out);
/* Steepest descent, tabu or not: make the best improving move, at most
 * limit times; return the moves made (fewer than limit: a local minimum). */
int64_t nq__tabu_descend(tabu_work *w, int64_t limit);
/* Best move that is not tabu, or one reaching an energy below aspire
 * whether tabu or not; the best move when all are tabu. */
int32_t nq__tabu_pick(tabu_work *w, double aspire);

/* The search as a reader for the read pool (tabu_kernel.c). */
void *nq__tabu_work_new(const void *plan);
void nq__tabu_work_free(void *work);
int64_t nq__tabu_run(const void *plan, void *work, nq_rng *rng, const nq__stop *stop,
                     int64_t read, int8_t *best);

#endif
