/* sb_kernel.c - simulated-bifurcation inner loops (see sb_kernel.h).
 *
 * The lane loops have a constant trip count of SB_LANES, which the
 * compiler turns into whole-vector operations; the dense product keeps a
 * block of rows in registers so each X row loaded feeds several FMAs. */
#include "sb_kernel.h"

#include <math.h>

#define L SB_LANES
/* Rows of the dense product computed together (accumulators in registers). */
#define ROWS 4

static void dense_rows4(const float *restrict J, int64_t ld, int32_t n, int32_t i,
                        const float *restrict X, float *restrict F)
{
    const float *j0 = J + (int64_t)i * ld, *j1 = j0 + ld, *j2 = j1 + ld, *j3 = j2 + ld;
    float a0[L] = {0}, a1[L] = {0}, a2[L] = {0}, a3[L] = {0};
    for (int32_t j = 0; j < n; j++) {
        const float *restrict xj = X + (int64_t)j * L;
        float c0 = j0[j], c1 = j1[j], c2 = j2[j], c3 = j3[j];
        for (int b = 0; b < L; b++) {
            a0[b] = fmaf(c0, xj[b], a0[b]);
            a1[b] = fmaf(c1, xj[b], a1[b]);
            a2[b] = fmaf(c2, xj[b], a2[b]);
            a3[b] = fmaf(c3, xj[b], a3[b]);
        }
    }
    float *restrict f = F + (int64_t)i * L;
    for (int b = 0; b < L; b++) {
        f[b] = a0[b];
        f[L + b] = a1[b];
        f[2 * L + b] = a2[b];
        f[3 * L + b] = a3[b];
    }
}

static void dense_row(const float *restrict J, int64_t ld, int32_t n, int32_t i,
                      const float *restrict X, float *restrict F)
{
    const float *ji = J + (int64_t)i * ld;
    float a[L] = {0};
    for (int32_t j = 0; j < n; j++) {
        const float *restrict xj = X + (int64_t)j * L;
        float c = ji[j];
        for (int b = 0; b < L; b++)
            a[b] = fmaf(c, xj[b], a[b]);
    }
    float *restrict f = F + (int64_t)i * L;
    for (int b = 0; b < L; b++)
        f[b] = a[b];
}

void nq__sb_dense_mm(const float *J, int64_t ld, int32_t n, int32_t r0, int32_t r1, const float *X,
                     float *F)
{
    int32_t i = r0;
    for (; i + ROWS <= r1; i += ROWS)
        dense_rows4(J, ld, n, i, X, F);
    for (; i < r1; i++)
        dense_row(J, ld, n, i, X, F);
}

void nq__sb_csr_mm(const int64_t *row, const int32_t *col, const float *w, int32_t r0, int32_t r1,
                   const float *X, float *F)
{
    for (int32_t i = r0; i < r1; i++) {
        /* Two accumulators hide the FMA latency on short rows. */
        float a[L] = {0}, c[L] = {0};
        int64_t k = row[i];
        for (; k + 1 < row[i + 1]; k += 2) {
            const float *restrict x0 = X + (int64_t)col[k] * L;
            const float *restrict x1 = X + (int64_t)col[k + 1] * L;
            float w0 = w[k], w1 = w[k + 1];
            for (int b = 0; b < L; b++) {
                a[b] = fmaf(w0, x0[b], a[b]);
                c[b] = fmaf(w1, x1[b], c[b]);
            }
        }
        if (k < row[i + 1]) {
            const float *restrict x0 = X + (int64_t)col[k] * L;
            float w0 = w[k];
            for (int b = 0; b < L; b++)
                a[b] = fmaf(w0, x0[b], a[b]);
        }
        float *restrict f = F + (int64_t)i * L;
        for (int b = 0; b < L; b++)
            f[b] = a[b] + c[b];
    }
}

void nq__sb_signs(int32_t n, const float *restrict X, float *restrict S)
{
    for (int64_t k = 0; k < (int64_t)n * L; k++)
        S[k] = X[k] < 0.0f ? -1.0f : 1.0f;
}

void nq__sb_step(int32_t n, float *restrict X, float *restrict Y, const float *restrict F,
                 float pull, float cdt, float adt)
{
    for (int64_t k = 0; k < (int64_t)n * L; k++) {
        float y = Y[k] + pull * X[k] + cdt * F[k];
        float x = X[k] + adt * y;
        int wall = fabsf(x) > 1.0f;
        X[k] = wall ? copysignf(1.0f, x) : x;
        Y[k] = wall ? 0.0f : y;
    }
}

void nq__sb_kick(int32_t n, float *restrict Y, const uint8_t *restrict r, float amp)
{
    float scale = 2.0f * amp / 255.0f;
    for (int64_t k = 0; k < (int64_t)n * L; k++)
        Y[k] += (float)r[k] * scale - amp;
}

void nq__sb_energies(int32_t n, const float *restrict S, const float *restrict F, double *e)
{
    double acc[L] = {0};
    for (int32_t i = 0; i < n; i++)
        for (int b = 0; b < L; b++)
            acc[b] += (double)(S[(int64_t)i * L + b] * F[(int64_t)i * L + b]);
    for (int b = 0; b < L; b++)
        e[b] = -0.5 * acc[b];
}
