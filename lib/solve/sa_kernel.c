/* sa_kernel.c - one simulated-annealing read.
 *
 * Local fields f_i = h_i + sum_j w_ij s_j are kept up to date, so a flip
 * attempt costs O(1) and an accepted flip O(degree). Spins are visited in
 * index order each sweep (cache-friendly CSR walk). The read returns the
 * lowest state seen at sweep boundaries or after a final zero-temperature
 * descent, whichever is lower. */
#include <math.h>
#include <string.h>

#include <stdlib.h>

#include "reads.h"
#include "sa_plan.h"

/* Per-thread scratch, reused across reads. */
typedef struct sa_work {
    int8_t *s;   /* current spins */
    int8_t *best;/* best spins of the current read (owned by the pool) */
    int32_t *fi; /* integer fields */
    double *fd;  /* floating fields */
    int32_t sweeps_done;
} sa_work;

static void random_spins(int8_t *s, int32_t n, nq_rng *rng)
{
    uint64_t bits = 0;
    for (int32_t i = 0; i < n; i++) {
        if ((i & 63) == 0)
            bits = nq_rng_u64(rng);
        s[i] = (bits >> (i & 63)) & 1 ? 1 : -1;
    }
}

/* ---- integer kernel ---------------------------------------------------- */

static void int_fields(const sa_plan *p, const int8_t *s, int32_t *f)
{
    for (int32_t i = 0; i < p->n; i++) {
        int32_t fi = p->h_int[i];
        for (int64_t k = p->is->row[i]; k < p->is->row[i + 1]; k++)
            fi += (p->w2_int[k] / 2) * s[p->is->col[k]];
        f[i] = fi;
    }
}

static inline void int_flip(const sa_plan *p, int8_t *s, int32_t *f, int32_t i)
{
    const int32_t *col = p->is->col;
    const int32_t *w2 = p->w2_int;
    int64_t a = p->is->row[i], b = p->is->row[i + 1];
    s[i] = (int8_t)-s[i];
    if (s[i] > 0)
        for (int64_t k = a; k < b; k++)
            f[col[k]] += w2[k];
    else
        for (int64_t k = a; k < b; k++)
            f[col[k]] -= w2[k];
}

/* Kept out of line: inlined into the read driver it compiles to a slower
 * loop (measured ~10% fewer attempts/s on G1). */
__attribute__((noinline)) static int64_t int_sweep(const sa_plan *p, int32_t t, int8_t *s, int32_t *f, nq_rng *rng)
{
    const uint32_t *thr = p->thr + (size_t)t * p->stride;
    const int32_t cut = p->cut[t];
    int64_t de = 0;
    for (int32_t i = 0; i < p->n; i++) {
        int32_t g = s[i] * f[i];
        if (g <= 0) { /* thr[0] is one half: see sa_plan.c */
            if (-g > cut || (uint32_t)(nq_rng_u64(rng) >> 32) >= thr[-g])
                continue;
        }
        de -= 2 * (int64_t)g;
        int_flip(p, s, f, i);
    }
    return de;
}

/* Flip every spin that lowers the energy until none does. */
static int64_t int_descend(const sa_plan *p, int8_t *s, int32_t *f)
{
    int64_t de = 0;
    for (int improved = 1; improved;) {
        improved = 0;
        for (int32_t i = 0; i < p->n; i++) {
            int32_t g = s[i] * f[i];
            if (g > 0) {
                de -= 2 * (int64_t)g;
                int_flip(p, s, f, i);
                improved = 1;
            }
        }
    }
    return de;
}

/* ---- floating-point kernel --------------------------------------------- */

static void dbl_fields(const sa_plan *p, const int8_t *s, double *f)
{
    for (int32_t i = 0; i < p->n; i++) {
        double fi = p->is->linear[i];
        for (int64_t k = p->is->row[i]; k < p->is->row[i + 1]; k++)
            fi += p->is->w[k] * s[p->is->col[k]];
        f[i] = fi;
    }
}

static inline void dbl_flip(const sa_plan *p, int8_t *s, double *f, int32_t i)
{
    s[i] = (int8_t)-s[i];
    double d = 2.0 * s[i];
    if (p->is->dense) {
        const double *row = p->is->dense + (size_t)i * p->n;
        for (int32_t j = 0; j < p->n; j++)
            f[j] += d * row[j];
        return;
    }
    for (int64_t k = p->is->row[i]; k < p->is->row[i + 1]; k++)
        f[p->is->col[k]] += d * p->is->w[k];
}

static double dbl_sweep(const sa_plan *p, double beta, int8_t *s, double *f, nq_rng *rng)
{
    double de = 0.0;
    for (int32_t i = 0; i < p->n; i++) {
        double g = s[i] * f[i];
        if (g <= 0.0) { /* free moves half the time: see sa_plan.c */
            double x = -2.0 * beta * g;
            if (x > 23.0 || nq_rng_double(rng) >= (g == 0.0 ? 0.5 : exp(-x)))
                continue;
        }
        de -= 2.0 * g;
        dbl_flip(p, s, f, i);
    }
    return de;
}

static double dbl_descend(const sa_plan *p, int8_t *s, double *f)
{
    double de = 0.0;
    for (int improved = 1; improved;) {
        improved = 0;
        for (int32_t i = 0; i < p->n; i++) {
            double g = s[i] * f[i];
            if (g > 1e-12 * (1.0 + fabs(f[i]))) {
                de -= 2.0 * g;
                dbl_flip(p, s, f, i);
                improved = 1;
            }
        }
    }
    return de;
}

/* ---- one read ------------------------------------------------------------ */

/* Energy changes of one sweep / of the final descent, from whichever
 * kernel the plan chose. Integer deltas are exact in a double. */
static double sweep(const sa_plan *p, sa_work *w, int32_t t, nq_rng *rng)
{
    if (p->integer)
        return (double)int_sweep(p, t, w->s, w->fi, rng);
    return dbl_sweep(p, p->beta[t], w->s, w->fd, rng);
}

static double descend(const sa_plan *p, sa_work *w)
{
    return p->integer ? (double)int_descend(p, w->s, w->fi) : dbl_descend(p, w->s, w->fd);
}

/* Energies are tracked relative to the random start: only comparisons
 * matter here, the pool recomputes the exact energy of the best state. */
static void anneal(const sa_plan *p, sa_work *w, nq_rng *rng, const nq__stop *c, int64_t read)
{
    random_spins(w->s, p->n, rng);
    if (p->integer)
        int_fields(p, w->s, w->fi);
    else
        dbl_fields(p, w->s, w->fd);
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
