/* metropolis.h - single-spin Metropolis passes over an Ising model with
 * incrementally kept local fields (private to lib/solve; used by sa and pt).
 *
 * f_i = h_i + sum_j w_ij s_j. Flipping s_i changes the energy by
 * -2 s_i f_i, so a flip attempt costs O(1) and an accepted flip O(degree).
 * Sites lo .. hi - 1 are visited in index order (a sequential CSR walk).
 * Integer kernel: fields in units of 1/scale, acceptance from a per-
 * temperature threshold table; floating kernel: exp, with a dense row
 * update for dense models. */
#ifndef NQBA_METROPOLIS_H
#define NQBA_METROPOLIS_H

#include <stdint.h>

#include "nqba/model.h"
#include "nqba/rng.h"

typedef struct nq__mh {
    const nq_model *is;   /* Ising form */
    const int32_t *h_int; /* integer kernel: scaled linear terms (else NULL) */
    const int32_t *w2_int;/* integer kernel: twice the scaled couplings */
} nq__mh;

/* Acceptance table for inverse temperature beta: a flip whose field
 * opposes the spin by d units (energy rise 2 d / scale) is accepted iff a
 * uniform u32 is below row[d], d < stride; returns the cut: the largest d
 * with a nonzero entry (anything beyond is never accepted). */
int32_t nq__mh_table(double beta, double scale, int32_t stride, uint32_t *row);

void nq__mh_int_fields(const nq__mh *k, const int8_t *s, int32_t *f, int32_t lo, int32_t hi);
/* One pass; returns the energy change in scaled units. */
int64_t nq__mh_int_sweep(const nq__mh *k, const uint32_t *thr, int32_t cut, int8_t *s, int32_t *f,
                         int32_t lo, int32_t hi, nq_rng *rng);
/* One zero-temperature pass (downhill flips only). */
int64_t nq__mh_int_descend(const nq__mh *k, int8_t *s, int32_t *f, int32_t lo, int32_t hi);

void nq__mh_dbl_fields(const nq__mh *k, const int8_t *s, double *f, int32_t lo, int32_t hi);
double nq__mh_dbl_sweep(const nq__mh *k, double beta, int8_t *s, double *f, int32_t lo, int32_t hi,
                        nq_rng *rng);
/* One zero-temperature pass; sets *flips when anything flipped. */
double nq__mh_dbl_descend(const nq__mh *k, int8_t *s, double *f, int32_t lo, int32_t hi,
                          int *flips);

#endif
