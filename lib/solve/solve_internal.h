/* solve_internal.h - pieces shared by the solvers (not public). */
#ifndef NQBA_SOLVE_INTERNAL_H
#define NQBA_SOLVE_INTERNAL_H

#include "nqba/rng.h"
#include "nqba/solve.h"

/* Allocate out->state and out->read_energies (reads entries, may be 0)
 * and fill the header fields. */
int nq__result_init(nq_result *out, const char *solver, const nq_model *m, int64_t reads,
                    nq_err *err);

/* Store a spin state as the result state, converting to bits for QUBO
 * models, and set out->energy to the exact energy in the model. */
void nq__result_set_spins(nq_result *out, const nq_model *m, const int8_t *spins);

/* The Ising form of m without copying when m already is one: *is points
 * at m or at *own, which the caller frees with nq_model_free either way. */
int nq__ising_view(const nq_model *m, nq_model *own, const nq_model **is, nq_err *err);

/* Clamp the thread count to [1, NQ_SOLVE_MAX_THREADS]. */
int nq__threads(const nq_solve_opts *o);

/* Uniformly random spins from rng (one draw per 64 spins). */
void nq__random_spins(int8_t *s, int32_t n, nq_rng *rng);

/* Smallest scale in {1, 2, 4} that makes every coefficient of the Ising
 * model an integer with every |h_i| + sum_j |w_ij| below field_max, or 0
 * when there is none. Integer QUBO models have quarter-integer Ising
 * couplings, hence 4. */
double nq__integer_scale(const nq_model *is, double field_max);

/* Largest |field| a spin can see: max_i |h_i| + sum_j |w2_ij| / 2, over
 * scaled integer terms (w2 = twice the scaled couplings). */
int32_t nq__max_field(const nq_model *is, const int32_t *h_int, const int32_t *w2_int);

/* Inverse temperatures where a typical uphill move (twice the RMS local
 * field of a random state) is accepted with probability hot_accept, and
 * the smallest one (twice the smallest coefficient) with cold_accept.
 * Both 1 for a model without coefficients. */
void nq__beta_range(const nq_model *is, double hot_accept, double cold_accept, double *hot,
                    double *cold);

/* Tolerance for "energy reached the target" comparisons. */
int nq__reached(double energy, const nq_solve_opts *o);

#endif
