/* pt_kernel.c - Metropolis sweeps for one replica at one temperature.
 *
 * Local fields f_i = h_i + sum_j w_ij s_j are kept up to date, so a flip
 * attempt costs O(1) and an accepted flip O(degree). Spins are visited in
 * index order (a sequential CSR walk). The integer kernel looks acceptance
 * up in the temperature's table and rejects flips past its cut without
 * drawing a random number; the floating kernel calls exp. */
#include <math.h>

#include "pt_plan.h"

/* ---- integer kernel ---------------------------------------------------- */

static void int_fields(const pt_plan *p, const int8_t *s, int32_t *f, int32_t lo, int32_t hi)
{
    for (int32_t i = lo; i < hi; i++) {
        int32_t fi = p->h_int[i];
        for (int64_t k = p->is->row[i]; k < p->is->row[i + 1]; k++)
            fi += (p->w2_int[k] / 2) * s[p->is->col[k]];
        f[i] = fi;
    }
}

static inline void int_flip(const pt_plan *p, int8_t *s, int32_t *f, int32_t i)
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

/* Kept out of line so the hot loop is compiled on its own (inlined into the
 * read driver it spills more registers). */
__attribute__((noinline)) static int64_t int_sweep(const pt_plan *p, const uint32_t *thr,
                                                   int32_t cut, int8_t *s, int32_t *f, int32_t lo,
                                                   int32_t hi, nq_rng *rng)
{
    int64_t de = 0;
    for (int32_t i = lo; i < hi; i++) {
        int32_t g = s[i] * f[i];
        if (g <= 0) { /* free moves half the time (thr[0]), as in sa */
            if (-g > cut || (uint32_t)(nq_rng_u64(rng) >> 32) >= thr[-g])
                continue;
        }
        de -= 2 * (int64_t)g;
        int_flip(p, s, f, i);
    }
    return de;
}

static int64_t int_descend(const pt_plan *p, int8_t *s, int32_t *f, int32_t lo, int32_t hi)
{
    int64_t de = 0;
    for (int32_t i = lo; i < hi; i++) {
        int32_t g = s[i] * f[i];
        if (g > 0) {
            de -= 2 * (int64_t)g;
            int_flip(p, s, f, i);
        }
    }
    return de;
}

/* ---- floating-point kernel --------------------------------------------- */

static void dbl_fields(const pt_plan *p, const int8_t *s, double *f, int32_t lo, int32_t hi)
{
    for (int32_t i = lo; i < hi; i++) {
        double fi = p->is->linear[i];
        for (int64_t k = p->is->row[i]; k < p->is->row[i + 1]; k++)
            fi += p->is->w[k] * s[p->is->col[k]];
        f[i] = fi;
    }
}

static inline void dbl_flip(const pt_plan *p, int8_t *s, double *f, int32_t i)
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

static double dbl_sweep(const pt_plan *p, double beta, int8_t *s, double *f, int32_t lo, int32_t hi,
                        nq_rng *rng)
{
    double de = 0.0;
    for (int32_t i = lo; i < hi; i++) {
        double g = s[i] * f[i];
        if (g <= 0.0) { /* free moves half the time, as in sa */
            double x = -2.0 * beta * g;
            if (x > 23.0 || nq_rng_double(rng) >= (g == 0.0 ? 0.5 : exp(-x)))
                continue;
        }
        de -= 2.0 * g;
        dbl_flip(p, s, f, i);
    }
    return de;
}

/* The tolerance keeps rounding noise from flipping a spin back and forth. */
static double dbl_descend(const pt_plan *p, int8_t *s, double *f, int32_t lo, int32_t hi,
                          int *flips)
{
    double de = 0.0;
    for (int32_t i = lo; i < hi; i++) {
        double g = s[i] * f[i];
        if (g > 1e-12 * (1.0 + fabs(f[i]))) {
            de -= 2.0 * g;
            dbl_flip(p, s, f, i);
            *flips = 1;
        }
    }
    return de;
}

/* ---- entry points ------------------------------------------------------- */

void nq__pt_fields(const pt_plan *p, pt_replica *r, int32_t lo, int32_t hi)
{
    if (p->integer)
        int_fields(p, r->s, r->fi, lo, hi);
    else
        dbl_fields(p, r->s, r->fd, lo, hi);
}

/* E - offset = sum_i s_i (h_i + f_i) / 2: the couplings count twice in the
 * fields, the linear terms once. */
void nq__pt_energy(const pt_plan *p, pt_replica *r)
{
    double e = 0.0;
    if (p->integer) {
        int64_t twice = 0;
        for (int32_t i = 0; i < p->n; i++)
            twice += r->s[i] * ((int64_t)p->h_int[i] + r->fi[i]);
        e = (double)(twice / 2) / p->scale;
    } else {
        for (int32_t i = 0; i < p->n; i++)
            e += r->s[i] * (p->is->linear[i] + r->fd[i]);
        e /= 2.0;
    }
    r->e = e;
}

double nq__pt_sweep(const pt_plan *p, const pt_work *w, int32_t k, pt_replica *r, int32_t lo,
                    int32_t hi, nq_rng *rng)
{
    if (p->integer)
        return (double)int_sweep(p, w->thr + (size_t)k * p->stride, w->cut[k], r->s, r->fi, lo, hi,
                                 rng) /
               p->scale;
    return dbl_sweep(p, w->beta[k], r->s, r->fd, lo, hi, rng);
}

double nq__pt_descend(const pt_plan *p, pt_replica *r, int32_t lo, int32_t hi, int *flips)
{
    if (!p->integer)
        return dbl_descend(p, r->s, r->fd, lo, hi, flips);
    int64_t de = int_descend(p, r->s, r->fi, lo, hi);
    *flips |= de != 0;
    return (double)de / p->scale;
}
