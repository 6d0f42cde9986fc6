/* cqm_pool.c - the best distinct feasible assignments found, kept sorted
 * by score. Small (alternatives + 1), so insertion is a shift. */
#include <stdlib.h>
#include <string.h>

#include "cqm_search.h"

int nq__cqm_pool_init(nq__cqm_pool *p, int32_t cap, int32_t n_vars)
{
    memset(p, 0, sizeof *p);
    p->cap = cap < 1 ? 1 : cap;
    p->n_vars = n_vars;
    size_t nv = (size_t)(n_vars ? n_vars : 1);
    p->vals = malloc((size_t)p->cap * nv * sizeof *p->vals);
    p->score = malloc((size_t)p->cap * sizeof *p->score);
    p->hash = malloc((size_t)p->cap * sizeof *p->hash);
    if (!p->vals || !p->score || !p->hash) {
        nq__cqm_pool_free(p);
        return NQ_ENOMEM;
    }
    return 0;
}

void nq__cqm_pool_free(nq__cqm_pool *p)
{
    if (!p)
        return;
    free(p->vals);
    free(p->score);
    free(p->hash);
    memset(p, 0, sizeof *p);
}

int nq__cqm_pool_wants(const nq__cqm_pool *p, double score)
{
    return p->n < p->cap || score < p->score[p->n - 1];
}

void nq__cqm_pool_offer(nq__cqm_pool *p, uint64_t hash, double score, const int64_t *vals)
{
    if (!nq__cqm_pool_wants(p, score))
        return;
    size_t nv = (size_t)p->n_vars;
    for (int32_t i = 0; i < p->n; i++)
        if (p->hash[i] == hash && memcmp(p->vals + (size_t)i * nv, vals, nv * sizeof *vals) == 0)
            return;
    int32_t pos = p->n < p->cap ? p->n++ : p->n - 1;
    /* Equal scores keep arrival order: the first found stays first. */
    while (pos > 0 && p->score[pos - 1] > score) {
        p->score[pos] = p->score[pos - 1];
        p->hash[pos] = p->hash[pos - 1];
        memcpy(p->vals + (size_t)pos * nv, p->vals + (size_t)(pos - 1) * nv, nv * sizeof *vals);
        pos--;
    }
    p->score[pos] = score;
    p->hash[pos] = hash;
    memcpy(p->vals + (size_t)pos * nv, vals, nv * sizeof *vals);
}
