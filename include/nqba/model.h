/* model.h - QUBO and Ising models.
 *
 *   QUBO:  E(x) = offset + sum_i c_i x_i + sum_{i<j} w_ij x_i x_j,  x in {0,1}^n
 *   Ising: E(s) = offset + sum_i h_i s_i + sum_{i<j} w_ij s_i s_j,  s in {-1,1}^n
 *
 * Couplings are stored once per pair as a symmetric CSR adjacency (row i
 * lists every j != i with w_ij, so each pair appears in two rows), and
 * additionally as a dense n x n matrix when the model is dense enough for
 * that to be faster. States are int8 arrays holding 0/1 (QUBO) or -1/+1
 * (Ising). Models are built with nq_builder, which sums duplicate terms and
 * folds diagonal terms (x_i^2 = x_i, s_i^2 = 1). */
#ifndef NQBA_MODEL_H
#define NQBA_MODEL_H

#include <stdint.h>

#include "nqba/err.h"

typedef enum nq_vartype { NQ_QUBO = 0, NQ_ISING = 1 } nq_vartype;

/* Hard caps on model size; a builder refuses to grow past them. */
#define NQ_MODEL_MAX_VARS 10000000
#define NQ_MODEL_MAX_TERMS 100000000LL
/* Dense storage is added when n <= this and density >= NQ_DENSE_MIN_FILL. */
#define NQ_DENSE_MAX_VARS 4096
#define NQ_DENSE_MIN_FILL 0.25

typedef struct nq_model {
    nq_vartype type;
    int32_t n;
    double offset;
    double *linear;   /* n entries */
    int64_t *row;     /* n + 1 entries: row i is col/w[row[i] .. row[i+1]) */
    int32_t *col;     /* sorted ascending within a row */
    double *w;
    int64_t nnz;      /* entries in col/w: twice the number of pairs */
    double *dense;    /* NULL, or n*n symmetric with a zero diagonal */
    char **names;     /* NULL, or n variable names (owned) */
    int integral;     /* every coefficient and the offset are integers */
    /* Set by readers of Max-Cut graphs: the model is the Ising form
     * E = sum w_ij s_i s_j of a weighted graph, and cut = (W - E) / 2. */
    int maxcut;
    double maxcut_total_weight; /* W = sum of edge weights */
} nq_model;

typedef struct nq_builder {
    nq_vartype type;
    int32_t n;          /* variables so far (max index + 1, or set_n) */
    double offset;
    double *linear;     /* private */
    int32_t lin_cap;    /* private */
    int32_t *qi, *qj;   /* private: coupling triplets */
    double *qw;         /* private */
    int64_t qlen, qcap; /* private */
    int32_t max_vars;   /* defaults to NQ_MODEL_MAX_VARS */
    int64_t max_terms;  /* defaults to NQ_MODEL_MAX_TERMS */
} nq_builder;

void nq_builder_init(nq_builder *b, nq_vartype type);
/* Ensure at least n variables exist (coefficients start at zero). */
int nq_builder_set_n(nq_builder *b, int32_t n, nq_err *err);
int nq_builder_add_linear(nq_builder *b, int32_t i, double w, nq_err *err);
/* i == j folds into the linear term (QUBO) or the offset (Ising). */
int nq_builder_add_quadratic(nq_builder *b, int32_t i, int32_t j, double w, nq_err *err);
void nq_builder_add_offset(nq_builder *b, double k);
/* Build the model (sums duplicates, drops zero couplings) and free the
 * builder's memory. On failure the builder is freed too. */
int nq_builder_finish(nq_builder *b, nq_model *out, nq_err *err);
void nq_builder_free(nq_builder *b);

void nq_model_free(nq_model *m); /* NULL ok; leaves *m zeroed */

/* Energy of a state in the model's own variable type. */
double nq_model_energy(const nq_model *m, const int8_t *state);

/* Exact conversions (x = (1 + s) / 2). The output has the same energy for
 * corresponding states, keeps names, and drops Max-Cut metadata for QUBO. */
int nq_model_to_ising(const nq_model *m, nq_model *out, nq_err *err);
int nq_model_to_qubo(const nq_model *m, nq_model *out, nq_err *err);
int nq_model_copy(const nq_model *m, nq_model *out, nq_err *err);

/* Give the model names (takes ownership of the array and strings). */
void nq_model_set_names(nq_model *m, char **names);

/* Convert states between types: bits (0/1) <-> spins (-1/+1). */
void nq_bits_to_spins(const int8_t *bits, int8_t *spins, int32_t n);
void nq_spins_to_bits(const int8_t *spins, int8_t *bits, int32_t n);

/* Max-Cut value of a spin state of a Max-Cut model: the summed weight of
 * the couplings whose two spins differ. */
double nq_maxcut_value(const nq_model *m, const int8_t *spins);

/* Number of coupled pairs (nnz / 2). */
static inline int64_t nq_model_pairs(const nq_model *m) { return m->nnz / 2; }

#endif
