/* sb_kernel.h - the simulated-bifurcation inner loops over plain arrays
 * (private).
 *
 * Every trajectory batch is stored structure-of-arrays, variable-major:
 * element (i, b) of an n x SB_LANES matrix sits at [i * SB_LANES + b], so
 * the SB_LANES trajectories of one variable are one contiguous, aligned
 * vector. The coupling matrix is read once per step for the whole batch.
 * Nothing here knows about models, reads or time limits, so the functions
 * can move to another device unchanged. */
#ifndef NQBA_SB_KERNEL_H
#define NQBA_SB_KERNEL_H

#include <stdint.h>

/* Trajectories advanced together (one read). 16 floats fill one 512-bit
 * vector, or two 256-bit ones. */
#define SB_LANES 16

/* F = J X for rows [r0, r1) of a dense row-major matrix J with leading
 * dimension ld (n columns used). */
void nq__sb_dense_mm(const float *J, int64_t ld, int32_t n, int32_t r0, int32_t r1, const float *X,
                     float *F);

/* F = J X for rows [r0, r1) of a CSR matrix. */
void nq__sb_csr_mm(const int64_t *row, const int32_t *col, const float *w, int32_t r0, int32_t r1,
                   const float *X, float *F);

/* S = sign(X) as +-1.0f (zero counts as +1). */
void nq__sb_signs(int32_t n, const float *X, float *S);

/* One symplectic Euler step with inelastic walls at |x| = 1:
 *   y += pull * x + cdt * F,  x += adt * y,  |x| > 1 -> x = sign(x), y = 0
 * where pull = -(a0 - a(t)) dt, cdt = c0 dt, adt = a0 dt. */
void nq__sb_step(int32_t n, float *X, float *Y, const float *F, float pull, float cdt, float adt);

/* Y += a uniform kick in [-amp, amp] made from the random bytes r. */
void nq__sb_kick(int32_t n, float *Y, const uint8_t *r, float amp);

/* e[b] = -1/2 sum_i S[i,b] F[i,b]: the energy of the sign states when
 * F = J S and the model has no field. */
void nq__sb_energies(int32_t n, const float *S, const float *F, double *e);

#endif
