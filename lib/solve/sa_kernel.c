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

static int64_t int_fields(const sa_plan *p, const int8_t *s, int32_t *f)
{
    int64_t twice_e = 0;
    for (int32_t i = 0; i < p->n; i++) {
        int32_t fi = p->h_int[i];
        for (int64_t k = p->is.row[i]; k < p->is.row[i + 1]; k++)
            fi += (p->w2_int[k] / 2) * s[p->is.col[k]];
        f[i] = fi;
        twice_e += (int64_t)s[i] * (p->h_int[i] + fi);
    }
    return twice_e / 2;
}

static inline void int_flip(const sa_plan *p, int8_t *s, int32_t *f, int32_t i)
{
    const int32_t *col = p->is.col;
    const int32_t *w2 = p->w2_int;
    int64_t a = p->is.row[i], b = p->is.row[i + 1];
    s[i] = (int8_t)-s[i];
    if (s[i] > 0)
        for (int64_t k = a; k < b; k++)
            f[col[k]] += w2[k];
    else
        for (int64_t k = a; k < b; k++)
            f[col[k]] -= w2[k];
}

static int64_t int_sweep(const sa_plan *p, int32_t t, int8_t *s, int32_t *f, nq_rng *rng)
{
    const uint32_t *thr = p->thr + (size_t)t * p->stride;
    const int32_t cut = p->cut[t];
    int64_t de = 0;
    for (int32_t i = 0; i < p->n; i++) {
        int32_t g = s[i] * f[i];
        if (g < 0) {
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

static void int_read(const sa_plan *p, sa_work *w, nq_rng *rng, const nq__stop *c, int64_t read)
{
    int8_t *s = w->s;
    int32_t *f = w->fi;
    random_spins(s, p->n, rng);
    int64_t e = int_fields(p, s, f), best = e;
    memcpy(w->best, s, (size_t)p->n);
    int32_t t = 0;
    for (; t < p->sweeps; t++) {
        e += int_sweep(p, t, s, f, rng);
        if (e < best) {
            best = e;
            memcpy(w->best, s, (size_t)p->n);
        }
        if ((t & 15) == 15 && nq__should_stop(c, read)) {
            t++;
            break;
        }
    }
    e += int_descend(p, s, f);
    if (e < best)
        memcpy(w->best, s, (size_t)p->n);
    w->sweeps_done = t;
}

/* ---- floating-point kernel --------------------------------------------- */

static void dbl_fields(const sa_plan *p, const int8_t *s, double *f)
{
    for (int32_t i = 0; i < p->n; i++) {
        double fi = p->is.linear[i];
        for (int64_t k = p->is.row[i]; k < p->is.row[i + 1]; k++)
            fi += p->is.w[k] * s[p->is.col[k]];
        f[i] = fi;
    }
}

static inline void dbl_flip(const sa_plan *p, int8_t *s, double *f, int32_t i)
{
    s[i] = (int8_t)-s[i];
    double d = 2.0 * s[i];
    if (p->is.dense) {
        const double *row = p->is.dense + (size_t)i * p->n;
        for (int32_t j = 0; j < p->n; j++)
            f[j] += d * row[j];
        return;
    }
    for (int64_t k = p->is.row[i]; k < p->is.row[i + 1]; k++)
        f[p->is.col[k]] += d * p->is.w[k];
}

static double dbl_sweep(const sa_plan *p, double beta, int8_t *s, double *f, nq_rng *rng)
{
    double de = 0.0;
    for (int32_t i = 0; i < p->n; i++) {
        double g = s[i] * f[i];
        if (g < 0.0) {
            double x = -2.0 * beta * g;
            if (x > 23.0 || nq_rng_double(rng) >= exp(-x))
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

static void dbl_read(const sa_plan *p, sa_work *w, nq_rng *rng, const nq__stop *c, int64_t read)
{
    int8_t *s = w->s;
    double *f = w->fd;
    random_spins(s, p->n, rng);
    dbl_fields(p, s, f);
    double e = 0.0, best = 0.0;
    memcpy(w->best, s, (size_t)p->n);
    int32_t t = 0;
    for (; t < p->sweeps; t++) {
        e += dbl_sweep(p, p->beta[t], s, f, rng);
        if (e < best) {
            best = e;
            memcpy(w->best, s, (size_t)p->n);
        }
        if ((t & 15) == 15 && nq__should_stop(c, read)) {
            t++;
            break;
        }
    }
    e += dbl_descend(p, s, f);
    if (e < best)
        memcpy(w->best, s, (size_t)p->n);
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
    if (p->integer)
        int_read(p, w, rng, stop, read);
    else
        dbl_read(p, w, rng, stop, read);
    return (int64_t)w->sweeps_done * p->n;
}
