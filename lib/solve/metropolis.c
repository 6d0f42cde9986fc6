/* metropolis.c - the Metropolis passes shared by sa and pt.
 *
 * Free moves (zero energy change) are taken with probability 1/2, not 1.
 * With sites visited in index order, always taking them carries a domain
 * wall one site further each pass in step with the pass, so two walls on a
 * ring never meet and annihilate (two antiferromagnetic rings of 30 spins
 * stayed two walls short of the optimum after 100,000 sweeps). */
#include "metropolis.h"

#include <math.h>

int32_t nq__mh_table(double beta, double scale, int32_t stride, uint32_t *row)
{
    int32_t cut = 0;
    row[0] = UINT32_C(1) << 31;
    for (int32_t d = 1; d < stride; d++) {
        double pr = exp(-2.0 * beta * d / scale) * 4294967296.0;
        row[d] = pr >= 4294967295.0 ? UINT32_MAX : (uint32_t)pr;
        if (row[d])
            cut = d;
    }
    return cut;
}

/* ---- integer kernel ---------------------------------------------------- */

void nq__mh_int_fields(const nq__mh *k, const int8_t *s, int32_t *f, int32_t lo, int32_t hi)
{
    const nq_model *is = k->is;
    for (int32_t i = lo; i < hi; i++) {
        int32_t fi = k->h_int[i];
        for (int64_t e = is->row[i]; e < is->row[i + 1]; e++)
            fi += (k->w2_int[e] / 2) * s[is->col[e]];
        f[i] = fi;
    }
}

static inline void int_flip(const nq__mh *k, int8_t *s, int32_t *f, int32_t i)
{
    const int32_t *col = k->is->col;
    const int32_t *w2 = k->w2_int;
    int64_t a = k->is->row[i], b = k->is->row[i + 1];
    s[i] = (int8_t)-s[i];
    if (s[i] > 0)
        for (int64_t e = a; e < b; e++)
            f[col[e]] += w2[e];
    else
        for (int64_t e = a; e < b; e++)
            f[col[e]] -= w2[e];
}

/* Kept out of line: inlined into a read driver it compiles to a slower
 * loop (measured ~10% fewer attempts/s on G1). */
__attribute__((noinline)) int64_t nq__mh_int_sweep(const nq__mh *k, const uint32_t *thr,
                                                   int32_t cut, int8_t *s, int32_t *f, int32_t lo,
                                                   int32_t hi, nq_rng *rng)
{
    int64_t de = 0;
    for (int32_t i = lo; i < hi; i++) {
        int32_t g = s[i] * f[i];
        if (g <= 0) {
            if (-g > cut || (uint32_t)(nq_rng_u64(rng) >> 32) >= thr[-g])
                continue;
        }
        de -= 2 * (int64_t)g;
        int_flip(k, s, f, i);
    }
    return de;
}

int64_t nq__mh_int_descend(const nq__mh *k, int8_t *s, int32_t *f, int32_t lo, int32_t hi)
{
    int64_t de = 0;
    for (int32_t i = lo; i < hi; i++) {
        int32_t g = s[i] * f[i];
        if (g > 0) {
            de -= 2 * (int64_t)g;
            int_flip(k, s, f, i);
        }
    }
    return de;
}

/* ---- floating-point kernel --------------------------------------------- */

void nq__mh_dbl_fields(const nq__mh *k, const int8_t *s, double *f, int32_t lo, int32_t hi)
{
    const nq_model *is = k->is;
    for (int32_t i = lo; i < hi; i++) {
        double fi = is->linear[i];
        for (int64_t e = is->row[i]; e < is->row[i + 1]; e++)
            fi += is->w[e] * s[is->col[e]];
        f[i] = fi;
    }
}

static inline void dbl_flip(const nq__mh *k, int8_t *s, double *f, int32_t i)
{
    const nq_model *is = k->is;
    s[i] = (int8_t)-s[i];
    double d = 2.0 * s[i];
    if (is->dense) {
        const double *row = is->dense + (size_t)i * is->n;
        for (int32_t j = 0; j < is->n; j++)
            f[j] += d * row[j];
        return;
    }
    for (int64_t e = is->row[i]; e < is->row[i + 1]; e++)
        f[is->col[e]] += d * is->w[e];
}

double nq__mh_dbl_sweep(const nq__mh *k, double beta, int8_t *s, double *f, int32_t lo, int32_t hi,
                        nq_rng *rng)
{
    double de = 0.0;
    for (int32_t i = lo; i < hi; i++) {
        double g = s[i] * f[i];
        if (g <= 0.0) {
            double x = -2.0 * beta * g;
            if (x > 23.0 || nq_rng_double(rng) >= (g == 0.0 ? 0.5 : exp(-x)))
                continue;
        }
        de -= 2.0 * g;
        dbl_flip(k, s, f, i);
    }
    return de;
}

/* The tolerance keeps rounding noise from flipping a spin back and forth. */
double nq__mh_dbl_descend(const nq__mh *k, int8_t *s, double *f, int32_t lo, int32_t hi,
                          int *flips)
{
    double de = 0.0;
    for (int32_t i = lo; i < hi; i++) {
        double g = s[i] * f[i];
        if (g > 1e-12 * (1.0 + fabs(f[i]))) {
            de -= 2.0 * g;
            dbl_flip(k, s, f, i);
            *flips = 1;
        }
    }
    return de;
}
