/* sa_read.h - one annealing read and its per-thread workspace (private). */
#ifndef NQBA_SA_READ_H
#define NQBA_SA_READ_H

#include <stdatomic.h>

#include "nqba/clock.h"
#include "nqba/rng.h"
#include "sa_plan.h"

/* Per-thread scratch, reused across reads. */
typedef struct sa_work {
    int8_t *s;        /* current spins */
    int8_t *best;     /* best spins of the current read */
    int32_t *fi;      /* integer fields */
    double *fd;       /* floating fields */
    double energy;    /* exact energy of best (Ising form) */
    int32_t sweeps_done;
} sa_work;

/* Shared stop signals, polled every few sweeps. */
typedef struct sa_ctl {
    atomic_int *cancel;
    atomic_llong *stop_index; /* reads above this index stop early */
    double deadline;          /* nq_clock_s() value, 0 = none */
} sa_ctl;

void nq__sa_read(const sa_plan *p, sa_work *w, nq_rng *rng, const sa_ctl *c, int64_t read);

#endif
