/* pt_plan.c - the read-only part of a parallel tempering run: ladder ends,
 * replica count, warm-up length and the integer kernel's weights.
 *
 * Ladder ends: the hot end accepts a typical uphill move (twice the RMS
 * local field of a random state) half of the time, so the hottest replica
 * decorrelates within a few sweeps; the cold end accepts the smallest
 * possible uphill move (twice the smallest coefficient) 1% of the time, so
 * the coldest replica sits in a local minimum's basin. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pt_plan.h"
#include "solve_internal.h"

#define PT_DEFAULT_SWEEPS 2000
#define PT_DEFAULT_REPLICAS 32
#define PT_WARMUP_MAX 1000
#define PT_MAX_SPIN_BYTES (256u << 20) /* default replica count shrinks above this */
#define PT_MAX_TABLE_ENTRIES (1u << 20)
#define PT_INT_FIELD_MAX (1 << 29)
#define PT_POLL_WORK (1 << 20) /* field updates between polls: well under 1 ms */

/* Hot end: a typical uphill move accepted half the time (the ladder
 * spans hotter than sa's start: the hottest replica must decorrelate). */
static void default_betas(const nq_model *is, double *hot, double *cold)
{
    nq__beta_range(is, 0.5, 0.01, hot, cold);
}

/* Table rows cover opposing fields up to where the hottest acceptance
 * drops under 2^-32; a table past PT_MAX_TABLE_ENTRIES (very wide integer
 * coefficients) is not worth its cache misses: the floating kernel runs. */
static int setup_integer(pt_plan *p)
{
    p->scale = nq__integer_scale(p->is, PT_INT_FIELD_MAX);
    if (p->scale == 0.0)
        return NQ_OK;
    p->h_int = malloc(((size_t)p->n + 1) * sizeof *p->h_int);
    p->w2_int = malloc(((size_t)p->is->nnz + 1) * sizeof *p->w2_int);
    if (!p->h_int || !p->w2_int)
        return NQ_ENOMEM;
    for (int32_t i = 0; i < p->n; i++)
        p->h_int[i] = (int32_t)(p->is->linear[i] * p->scale);
    for (int64_t k = 0; k < p->is->nnz; k++)
        p->w2_int[k] = (int32_t)(2.0 * p->is->w[k] * p->scale);
    int32_t dmax = nq__max_field(p->is, p->h_int, p->w2_int);
    double hot_cut = 32.0 * log(2.0) * p->scale / (2.0 * p->beta_hot);
    int32_t span = hot_cut < dmax ? (int32_t)hot_cut + 1 : dmax;
    p->stride = span + 1;
    p->integer = (double)p->stride * p->replicas <= PT_MAX_TABLE_ENTRIES;
    return NQ_OK;
}

/* Replicas are only worth their memory up to a point: the default count
 * shrinks so that one thread's spins and integer fields stay under
 * PT_MAX_SPIN_BYTES. */
static int32_t default_replicas(int32_t n)
{
    int64_t fit = (int64_t)PT_MAX_SPIN_BYTES / (5 * ((int64_t)n + 1));
    if (fit < 2)
        return 2;
    return fit < PT_DEFAULT_REPLICAS ? (int32_t)fit : PT_DEFAULT_REPLICAS;
}

static void set_ladder(pt_plan *p, const nq_solve_opts *o)
{
    default_betas(p->is, &p->beta_hot, &p->beta_cold);
    if (o->beta_min > 0.0)
        p->beta_hot = o->beta_min;
    if (o->beta_max > 0.0)
        p->beta_cold = o->beta_max;
    if (p->beta_cold < p->beta_hot)
        p->beta_cold = p->beta_hot;
    p->replicas = o->replicas > 0 ? o->replicas : default_replicas(p->n);
    p->sweeps = o->sweeps > 0 ? o->sweeps : PT_DEFAULT_SWEEPS;
    p->warmup = p->sweeps / 4 < PT_WARMUP_MAX ? p->sweeps / 4 : PT_WARMUP_MAX;
    p->adapt = p->replicas >= 3; /* else nothing moves between the fixed ends */
}

/* An attempt costs O(1), an accepted flip one update per neighbour (all n
 * with a dense row); hot replicas accept up to about half their attempts. */
static int32_t poll_interval(const nq_model *is)
{
    double degree = is->dense ? (double)is->n : (double)is->nnz / (is->n ? is->n : 1);
    double attempts = PT_POLL_WORK / (degree + 8.0);
    return attempts < 64.0 ? 64 : (int32_t)attempts;
}

int nq__pt_plan_init(pt_plan *p, const nq_model *m, const nq_solve_opts *o, nq_err *err)
{
    memset(p, 0, sizeof *p);
    int rc = nq__ising_view(m, &p->own, &p->is, err);
    if (rc)
        return rc;
    p->o = o;
    p->n = m->n;
    p->poll = poll_interval(p->is);
    set_ladder(p, o);
    rc = setup_integer(p);
    if (rc) {
        nq__pt_plan_free(p);
        return nq_err_set(err, rc, NULL, "out of memory preparing parallel tempering");
    }
    return NQ_OK;
}

void nq__pt_plan_free(pt_plan *p)
{
    if (!p)
        return;
    nq_model_free(&p->own);
    free(p->h_int);
    free(p->w2_int);
    memset(p, 0, sizeof *p);
}
