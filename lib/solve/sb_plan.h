/* sb_plan.h - the read-only part of a simulated-bifurcation run (private). */
#ifndef NQBA_SB_PLAN_H
#define NQBA_SB_PLAN_H

#include "nqba/model.h"
#include "nqba/solve.h"
#include "reads.h"
#include "sb_kernel.h"

/* Multiply-adds between two polls of the stop signals (~20-50 us). */
#define SB_POLL_MACS (1 << 20)

/* The SB problem: minimize -1/2 sum_ij J_ij s_i s_j over ne spins, with
 * J = -W between model variables and, when any linear term is nonzero,
 * one auxiliary spin a with J_ia = -h_i (model spin i is s_i s_a). Shared
 * by all threads without locking. */
typedef struct sb_plan {
    const nq_model *is; /* Ising form of the model (the model itself, or own) */
    nq_model own;
    int32_t n;          /* model variables */
    int32_t ne;         /* SB spins: n, or n + 1 with the auxiliary spin */
    int discrete;       /* dSB: the coupling acts on sign(x) */
    int32_t steps;      /* time steps per trajectory */
    int32_t eval_every; /* steps between energy evaluations of the sign state */
    float dt, a0, c0;
    float noise; /* bSB: momentum kick amplitude at the start, per sqrt(time) */
    /* J in float: dense ne x ld (ld a multiple of SB_LANES), or CSR. */
    float *dense;
    int64_t ld;
    int64_t *row;
    int32_t *col;
    float *w;
    /* Rows of one product between stop polls: the product of a big model
     * takes longer than the polling interval. */
    int32_t poll_rows;
} sb_plan;

int nq__sb_plan_init(sb_plan *p, const nq_model *m, const nq_solve_opts *o, nq_err *err);
void nq__sb_plan_free(sb_plan *p);

/* SB as a reader for the read pool (sb_read.c): one read is a batch of
 * SB_LANES trajectories. */
void *nq__sb_work_new(const void *plan);
void nq__sb_work_free(void *work);
int64_t nq__sb_run(const void *plan, void *work, nq_rng *rng, const nq__stop *stop, int64_t read,
                   int8_t *best);

#endif
