/* sa_plan.c - schedule and integer tables for simulated annealing.
 *
 * Schedule: geometric in beta from a hot end, where a typical uphill move
 * (twice the RMS local field of a random state) is accepted a quarter of the
 * time, to a cold end, where the smallest possible uphill move (twice the
 * smallest coefficient) is accepted 1% of the time. Starting hotter than
 * that only randomizes an already random state, and wastes sweeps. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "metropolis.h"
#include "sa_plan.h"
#include "solve_internal.h"

#define SA_DEFAULT_SWEEPS 1000
#define SA_MAX_TABLE_BYTES (64u << 20)
#define SA_INT_FIELD_MAX (1 << 29)

void nq__sa_default_betas(const nq_model *is, double *beta_min, double *beta_max)
{
    nq__beta_range(is, 0.25, 0.01, beta_min, beta_max);
}

static int fill_schedule(sa_plan *p, const nq_solve_opts *o)
{
    double b0, b1;
    nq__sa_default_betas(p->is, &b0, &b1);
    if (o->beta_min > 0.0)
        b0 = o->beta_min;
    if (o->beta_max > 0.0)
        b1 = o->beta_max;
    p->beta = malloc((size_t)p->sweeps * sizeof *p->beta);
    if (!p->beta)
        return NQ_ENOMEM;
    double ratio = p->sweeps > 1 ? pow(b1 / b0, 1.0 / (p->sweeps - 1)) : 1.0;
    double b = p->sweeps > 1 ? b0 : b1;
    for (int32_t t = 0; t < p->sweeps; t++, b *= ratio)
        p->beta[t] = b;
    return NQ_OK;
}

/* Flipping a spin whose field opposes it by d scaled units raises the
 * energy by 2 d / scale. */
static int fill_tables(sa_plan *p, int32_t dmax)
{
    double bmin = p->beta[0] < p->beta[p->sweeps - 1] ? p->beta[0] : p->beta[p->sweeps - 1];
    double hot_cut = 32.0 * log(2.0) * p->scale / (2.0 * bmin);
    int32_t span = hot_cut < dmax ? (int32_t)hot_cut + 1 : dmax;
    p->stride = span + 1;
    if ((double)p->stride * p->sweeps * sizeof(uint32_t) > SA_MAX_TABLE_BYTES)
        return 1; /* too large: the caller falls back to the float kernel */
    p->thr = malloc((size_t)p->stride * (size_t)p->sweeps * sizeof *p->thr);
    p->cut = malloc((size_t)p->sweeps * sizeof *p->cut);
    if (!p->thr || !p->cut)
        return NQ_ENOMEM;
    for (int32_t t = 0; t < p->sweeps; t++)
        p->cut[t] = nq__mh_table(p->beta[t], p->scale, p->stride, p->thr + (size_t)t * p->stride);
    return NQ_OK;
}

/* int16 copies of the integer coefficients when every field fits. */
static int setup_lanes(sa_plan *p, int64_t reads, int32_t dmax)
{
    /* With few reads most lanes would be padding, and on dense models a
     * padded batch costs more than the scalar kernel's reads. */
    if (reads < NQ__SA_LANES / 2 || p->n > NQ__SA_LANE_MAX_VARS || dmax > NQ__SA_LANE_FIELD_MAX)
        return NQ_OK;
    p->h_h = malloc(((size_t)p->n + 1) * sizeof *p->h_h);
    p->w2_h = malloc(((size_t)p->is->nnz + 1) * sizeof *p->w2_h);
    if (!p->h_h || !p->w2_h)
        return NQ_ENOMEM;
    for (int32_t i = 0; i < p->n; i++)
        p->h_h[i] = (int16_t)p->h_int[i];
    for (int64_t k = 0; k < p->is->nnz; k++)
        p->w2_h[k] = (int16_t)p->w2_int[k];
    p->lanes = NQ__SA_LANES;
    return NQ_OK;
}

static int setup_integer(sa_plan *p, int64_t reads)
{
    p->scale = nq__integer_scale(p->is, SA_INT_FIELD_MAX);
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
    int rc = setup_lanes(p, reads, dmax);
    if (rc || p->lanes)
        return rc;
    rc = fill_tables(p, dmax);
    if (rc < 0)
        return rc;
    p->integer = rc == 0;
    return NQ_OK;
}

int nq__sa_plan_init(sa_plan *p, const nq_model *m, const nq_solve_opts *o, nq_err *err)
{
    memset(p, 0, sizeof *p);
    int rc = nq__ising_view(m, &p->own, &p->is, err);
    if (rc)
        return rc;
    p->n = m->n;
    p->sweeps = o->sweeps > 0 ? o->sweeps : SA_DEFAULT_SWEEPS;
    rc = fill_schedule(p, o);
    if (!rc)
        rc = setup_integer(p, o->reads > 0 ? o->reads : NQ__SA_DEFAULT_READS);
    if (rc) {
        nq__sa_plan_free(p);
        return nq_err_set(err, rc, NULL, "out of memory preparing the annealer");
    }
    return NQ_OK;
}

void nq__sa_plan_free(sa_plan *p)
{
    if (!p)
        return;
    nq_model_free(&p->own);
    free(p->beta);
    free(p->h_int);
    free(p->w2_int);
    free(p->thr);
    free(p->cut);
    free(p->h_h);
    free(p->w2_h);
    memset(p, 0, sizeof *p);
}
