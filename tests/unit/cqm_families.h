/* cqm_families.h - seeded generators of classic constrained problems, for
 * tests and benchmarks: 0/1 knapsack, multi-dimensional knapsack,
 * generalized assignment, set cover, quadratic knapsack and one-hot
 * assignment. n is the number of 0/1 decisions (for choice families:
 * variables x options). Integer data, so optima are exact. */
#ifndef NQBA_CQM_FAMILIES_H
#define NQBA_CQM_FAMILIES_H

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "nqba/cqm.h"
#include "nqba/rng.h"

typedef enum fam_kind {
    FAM_KNAPSACK,
    FAM_MKP,
    FAM_GAP,
    FAM_SETCOVER,
    FAM_QKP,
    FAM_ASSIGN,
    FAM_COUNT
} fam_kind;

static const char *const FAM_NAMES[FAM_COUNT] = { "knapsack", "mkp", "gap", "setcover", "qkp",
                                                  "assign" };

static inline int64_t fam_uniform(nq_rng *r, int64_t lo, int64_t hi)
{
    return lo + (int64_t)nq_rng_below(r, (uint64_t)(hi - lo + 1));
}

static inline int fam_binaries(nq_cqm *m, int32_t n)
{
    char name[32];
    for (int32_t i = 0; i < n; i++) {
        snprintf(name, sizeof name, "x%d", (int)i);
        if (nq_cqm_add_binary(m, name, NULL) < 0)
            return -1;
    }
    return 0;
}

/* Uncorrelated knapsack, capacity half the total weight. */
static inline int fam_knapsack(nq_cqm *m, int32_t n, nq_rng *r)
{
    if (fam_binaries(m, n))
        return -1;
    m->maximize = 1;
    int c = nq_cqm_add_constraint(m, "capacity", NQ_CQM_LE, 0, 1, 0, NULL);
    double total = 0;
    for (int32_t i = 0; i < n; i++) {
        int64_t w = fam_uniform(r, 1, 100), p = fam_uniform(r, 1, 100);
        total += (double)w;
        nq_cqm_obj_linear(m, 0, i, (double)p, NULL);
        nq_cqm_con_linear(m, c, i, (double)w, NULL);
    }
    m->cons[c].rhs = floor(total / 2);
    return 0;
}

/* Five knapsack constraints, uncorrelated, tightness 1/2. */
static inline int fam_mkp(nq_cqm *m, int32_t n, nq_rng *r)
{
    if (fam_binaries(m, n))
        return -1;
    m->maximize = 1;
    for (int32_t i = 0; i < n; i++)
        nq_cqm_obj_linear(m, 0, i, (double)fam_uniform(r, 1, 100), NULL);
    for (int k = 0; k < 5; k++) {
        char name[32];
        snprintf(name, sizeof name, "dim%d", k);
        int c = nq_cqm_add_constraint(m, name, NQ_CQM_LE, 0, 1, 0, NULL);
        double total = 0;
        for (int32_t i = 0; i < n; i++) {
            int64_t w = fam_uniform(r, 1, 100);
            total += (double)w;
            nq_cqm_con_linear(m, c, i, (double)w, NULL);
        }
        m->cons[c].rhs = floor(total / 2);
    }
    return 0;
}

/* Choice variables: n_vars of them with k options each. */
static inline int fam_choices(nq_cqm *m, int32_t n_vars, int32_t k, const char *prefix)
{
    char name[32], labels_buf[64][16];
    const char *labels[64];
    for (int32_t j = 0; j < k; j++) {
        snprintf(labels_buf[j], sizeof labels_buf[j], "o%d", (int)j);
        labels[j] = labels_buf[j];
    }
    for (int32_t i = 0; i < n_vars; i++) {
        snprintf(name, sizeof name, "%s%d", prefix, (int)i);
        if (nq_cqm_add_choice(m, name, labels, k, NULL) < 0)
            return -1;
    }
    return 0;
}

/* Generalized assignment (type C): tasks choose one of k agents (about
 * five tasks per agent); agent capacity 80% of its mean load. Minimize. */
static inline int fam_gap(nq_cqm *m, int32_t n, nq_rng *r)
{
    int32_t k = (int32_t)floor(sqrt(n / 5.0) + 0.5), tasks;
    k = k < 2 ? 2 : k;
    tasks = n / k;
    if (fam_choices(m, tasks, k, "task"))
        return -1;
    for (int32_t j = 0; j < k; j++) {
        char name[32];
        snprintf(name, sizeof name, "agent%d", (int)j);
        int c = nq_cqm_add_constraint(m, name, NQ_CQM_LE, 0, 1, 0, NULL);
        double load = 0;
        for (int32_t i = 0; i < tasks; i++) {
            int32_t atom = m->vars[i].atom + j;
            int64_t req = fam_uniform(r, 5, 25);
            load += (double)req;
            nq_cqm_con_linear(m, c, atom, (double)req, NULL);
            nq_cqm_obj_linear(m, 0, atom, (double)fam_uniform(r, 10, 50), NULL);
        }
        m->cons[c].rhs = floor(0.8 * load / k);
    }
    return 0;
}

/* Set cover: n sets, n/2 elements, each set covers an element with
 * probability 5% (at least two sets per element). Minimize cost. */
static inline int fam_setcover(nq_cqm *m, int32_t n, nq_rng *r)
{
    if (fam_binaries(m, n))
        return -1;
    for (int32_t i = 0; i < n; i++)
        nq_cqm_obj_linear(m, 0, i, (double)fam_uniform(r, 1, 100), NULL);
    int32_t rows = n / 2;
    for (int32_t e = 0; e < rows; e++) {
        char name[32];
        snprintf(name, sizeof name, "cover%d", (int)e);
        int c = nq_cqm_add_constraint(m, name, NQ_CQM_GE, 1, 1, 0, NULL);
        int32_t a = (int32_t)nq_rng_below(r, (uint64_t)n), b = (int32_t)nq_rng_below(r, (uint64_t)n);
        if (b == a)
            b = (a + 1) % n;
        for (int32_t i = 0; i < n; i++)
            if (i == a || i == b || nq_rng_below(r, 100) < 5)
                nq_cqm_con_linear(m, c, i, 1, NULL);
    }
    return 0;
}

/* Quadratic knapsack (Gallo et al.): profits 1..100 with density 1/2,
 * weights 1..50, capacity random in [50, total/2]. */
static inline int fam_qkp(nq_cqm *m, int32_t n, nq_rng *r)
{
    if (fam_binaries(m, n))
        return -1;
    m->maximize = 1;
    int c = nq_cqm_add_constraint(m, "capacity", NQ_CQM_LE, 0, 1, 0, NULL);
    double total = 0;
    for (int32_t i = 0; i < n; i++) {
        int64_t w = fam_uniform(r, 1, 50);
        total += (double)w;
        nq_cqm_con_linear(m, c, i, (double)w, NULL);
        if (nq_rng_below(r, 2))
            nq_cqm_obj_linear(m, 0, i, (double)fam_uniform(r, 1, 100), NULL);
        for (int32_t j = i + 1; j < n; j++)
            if (nq_rng_below(r, 2))
                nq_cqm_obj_quadratic(m, 0, i, j, (double)fam_uniform(r, 1, 100), NULL);
    }
    int64_t half = (int64_t)(total / 2);
    m->cons[c].rhs = (double)fam_uniform(r, 50 < half ? 50 : half, half);
    return 0;
}

/* One-hot assignment: k workers each choose one of k jobs (choice
 * variables), each job taken at most once; cost 1..100. n = k * k. */
static inline int fam_assign(nq_cqm *m, int32_t n, nq_rng *r)
{
    int32_t k = 1;
    while ((k + 1) * (k + 1) <= n)
        k++;
    if (fam_choices(m, k, k, "worker"))
        return -1;
    for (int32_t j = 0; j < k; j++) {
        char name[32];
        snprintf(name, sizeof name, "job%d", (int)j);
        int c = nq_cqm_add_constraint(m, name, NQ_CQM_LE, 1, 1, 0, NULL);
        for (int32_t i = 0; i < k; i++) {
            nq_cqm_con_linear(m, c, m->vars[i].atom + j, 1, NULL);
            nq_cqm_obj_linear(m, 0, m->vars[i].atom + j, (double)fam_uniform(r, 1, 100), NULL);
        }
    }
    return 0;
}

/* Build family f at size n with a seed; 0 on success. */
static inline int fam_build(fam_kind f, int32_t n, uint64_t seed, nq_cqm *m)
{
    nq_rng r;
    nq_rng_seed(&r, seed * 1000003ULL + (uint64_t)f * 7919ULL + (uint64_t)n);
    nq_cqm_init(m);
    int rc = -1;
    switch (f) {
    case FAM_KNAPSACK: rc = fam_knapsack(m, n, &r); break;
    case FAM_MKP: rc = fam_mkp(m, n, &r); break;
    case FAM_GAP: rc = fam_gap(m, n, &r); break;
    case FAM_SETCOVER: rc = fam_setcover(m, n, &r); break;
    case FAM_QKP: rc = fam_qkp(m, n, &r); break;
    case FAM_ASSIGN: rc = fam_assign(m, n, &r); break;
    default: break;
    }
    if (rc == 0)
        rc = nq_cqm_finish(m, NULL);
    return rc;
}

/* Relative gap of score (min form) to the optimum's score, >= 0 when worse. */
static inline double fam_gap_of(double score, double opt_score)
{
    double d = score - opt_score;
    return d / (fabs(opt_score) > 1e-12 ? fabs(opt_score) : 1.0);
}

#endif
