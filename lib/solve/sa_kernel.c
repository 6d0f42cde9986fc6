/* sa_kernel.c - one simulated-annealing read.
 *
 * Local fields f_i = h_i + sum_j w_ij s_j are kept up to date, so a flip
 * attempt costs O(1) and an accepted flip O(degree). Spins are visited in
 * index order each sweep (cache-friendly CSR walk). The read returns the
 * lowest state seen at sweep boundaries or after a final zero-temperature
 * descent, whichever is lower. */
#include <stdlib.h>
#include <string.h>

#include "metropolis.h"
#include "reads.h"
#include "sa_plan.h"
#include "solve_internal.h"

/* Per-thread scratch, reused across reads. */
typedef struct sa_work {
    int8_t *s;   /* current spins */
    int8_t *best;/* best spins of the current read (owned by the pool) */
    int32_t *fi; /* integer fields */
    double *fd;  /* floating fields */
    int32_t sweeps_done;
} sa_work;

static nq__mh mh(const sa_plan *p)
{
    return (nq__mh){p->is, p->h_int, p->w2_int};
}

/* ---- one read ------------------------------------------------------------ */

/* Energy changes of one sweep / of the final descent, from whichever
 * kernel the plan chose. Integer deltas are exact in a double. */
static double sweep(const sa_plan *p, sa_work *w, int32_t t, nq_rng *rng)
{
    nq__mh k = mh(p);
    if (p->integer)
        return (double)nq__mh_int_sweep(&k, p->thr + (size_t)t * p->stride, p->cut[t], w->s, w->fi,
                                        0, p->n, rng);
    return nq__mh_dbl_sweep(&k, p->beta[t], w->s, w->fd, 0, p->n, rng);
}

/* Zero-temperature passes until nothing flips. */
static double descend(const sa_plan *p, sa_work *w)
{
    nq__mh k = mh(p);
    if (p->integer) {
        int64_t de = 0, step;
        while ((step = nq__mh_int_descend(&k, w->s, w->fi, 0, p->n)) != 0)
            de += step;
        return (double)de;
    }
    double de = 0.0;
    for (int flips = 1; flips;) {
        flips = 0;
        de += nq__mh_dbl_descend(&k, w->s, w->fd, 0, p->n, &flips);
    }
    return de;
}

/* Energies are tracked relative to the random start: only comparisons
 * matter here, the pool recomputes the exact energy of the best state. */
static void anneal(const sa_plan *p, sa_work *w, nq_rng *rng, const nq__stop *c, int64_t read)
{
    nq__random_spins(w->s, p->n, rng);
    nq__mh k = mh(p);
    if (p->integer)
        nq__mh_int_fields(&k, w->s, w->fi, 0, p->n);
    else
        nq__mh_dbl_fields(&k, w->s, w->fd, 0, p->n);
    double e = 0.0, best = 0.0;
    memcpy(w->best, w->s, (size_t)p->n);
    int32_t t = 0;
    for (; t < p->sweeps; t++) {
        e += sweep(p, w, t, rng);
        if (e < best) {
            best = e;
            memcpy(w->best, w->s, (size_t)p->n);
        }
        if ((t & 15) == 15 && nq__should_stop(c, read)) {
            t++;
            break;
        }
    }
    e += descend(p, w);
    if (e < best)
        memcpy(w->best, w->s, (size_t)p->n);
    w->sweeps_done = t;
}

void *nq__sa_work_new(const void *plan)
{
    const sa_plan *p = plan;
    size_t n = (size_t)p->n + 1;
    sa_work *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->s = malloc(n);
    if (p->integer)
        w->fi = malloc(n * sizeof *w->fi);
    else
        w->fd = malloc(n * sizeof *w->fd);
    if (!w->s || !(w->fi || w->fd)) {
        nq__sa_work_free(w);
        return NULL;
    }
    return w;
}

void nq__sa_work_free(void *work)
{
    sa_work *w = work;
    if (!w)
        return;
    free(w->s);
    free(w->fi);
    free(w->fd);
    free(w);
}

int64_t nq__sa_run(const void *plan, void *work, nq_rng *rng, const nq__stop *stop, int64_t read,
                   int8_t *best)
{
    const sa_plan *p = plan;
    sa_work *w = work;
    w->best = best;
    anneal(p, w, rng, stop, read);
    return (int64_t)w->sweeps_done * p->n;
}
