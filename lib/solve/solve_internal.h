/* solve_internal.h - pieces shared by the solvers (not public). */
#ifndef NQBA_SOLVE_INTERNAL_H
#define NQBA_SOLVE_INTERNAL_H

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

/* Tolerance for "energy reached the target" comparisons. */
int nq__reached(double energy, const nq_solve_opts *o);

#endif
