/* rand_model.h - random models and brute force for engine tests. */
#ifndef NQ_TEST_RAND_MODEL_H
#define NQ_TEST_RAND_MODEL_H

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nqba/model.h"
#include "nqba/rng.h"

/* Random model: each pair coupled with probability density, weights
 * integers in [-5, 5] or uniform reals in [-2, 2]. */
static inline void rand_model(nq_model *m, nq_vartype type, int32_t n, double density,
                              int integer, uint64_t seed)
{
    nq_rng rng;
    nq_err err;
    nq_rng_seed(&rng, seed);
    nq_builder b;
    nq_builder_init(&b, type);
    nq_builder_set_n(&b, n, &err);
    for (int32_t i = 0; i < n; i++) {
        double w = integer ? (double)((int)nq_rng_below(&rng, 11) - 5) : 4.0 * nq_rng_double(&rng) - 2.0;
        nq_builder_add_linear(&b, i, w, &err);
        for (int32_t j = i + 1; j < n; j++) {
            if (nq_rng_double(&rng) >= density)
                continue;
            w = integer ? (double)((int)nq_rng_below(&rng, 11) - 5) : 4.0 * nq_rng_double(&rng) - 2.0;
            nq_builder_add_quadratic(&b, i, j, w, &err);
        }
    }
    nq_builder_add_offset(&b, integer ? 3.0 : 0.75);
    if (nq_builder_finish(&b, m, &err))
        abort();
}

/* State number k of 2^n in the model's variable type. */
static inline void state_from_index(const nq_model *m, uint64_t k, int8_t *s)
{
    for (int32_t i = 0; i < m->n; i++) {
        int bit = (int)((k >> i) & 1);
        s[i] = m->type == NQ_QUBO ? (int8_t)bit : (int8_t)(bit ? 1 : -1);
    }
}

/* Minimum energy by evaluating every state with nq_model_energy. */
static inline double brute_force_min(const nq_model *m)
{
    int8_t s[64];
    double best = INFINITY;
    for (uint64_t k = 0; k < ((uint64_t)1 << m->n); k++) {
        state_from_index(m, k, s);
        double e = nq_model_energy(m, s);
        if (e < best)
            best = e;
    }
    return best;
}

static inline int near(double a, double b)
{
    return fabs(a - b) <= 1e-9 * (1.0 + fabs(a) + fabs(b));
}

#endif
