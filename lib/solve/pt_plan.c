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

static void default_betas(const nq_model *is, double *hot, double *cold)
{
    double rms_sum = 0.0, min_abs = INFINITY;
    int32_t counted = 0;
    for (int32_t i = 0; i < is->n; i++) {
        double h = fabs(is->linear[i]), sq = h * h;
        if (h > 0.0 && h < min_abs)
            min_abs = h;
        for (int64_t k = is->row[i]; k < is->row[i + 1]; k++) {
            double a = fabs(is->w[k]);
            sq += a * a;
            if (a > 0.0 && a < min_abs)
                min_abs = a;
        }
        if (sq > 0.0) {
            rms_sum += sqrt(sq);
            counted++;
        }
    }
    if (!counted) {
        *hot = *cold = 1.0;
        return;
    }
    *hot = log(2.0) / (2.0 * rms_sum / counted);
    *cold = log(100.0) / (2.0 * min_abs);
    if (*cold < *hot)
        *cold = *hot;
}

/* Smallest scale in {1, 2, 4} that makes every coefficient an integer with
 * bounded fields, or 0 when there is none (QUBO models with integer
 * coefficients have quarter-integer Ising couplings, hence 4). */
static double integer_scale(const nq_model *is)
{
    for (double s = 1.0; s <= 4.0; s *= 2.0) {
        int ok = 1;
        for (int32_t i = 0; ok && i < is->n; i++) {
            double v = is->linear[i] * s, field = fabs(v);
            ok = v == nearbyint(v);
            for (int64_t k = is->row[i]; ok && k < is->row[i + 1]; k++) {
                double w = is->w[k] * s;
                ok = w == nearbyint(w);
                field += fabs(w);
            }
            ok = ok && field < PT_INT_FIELD_MAX;
        }
        if (ok)
            return s;
    }
    return 0.0;
}

/* Largest |field| a spin can see, in scaled units. */
static int32_t max_field(const pt_plan *p)
{
    int64_t best = 0;
    for (int32_t i = 0; i < p->n; i++) {
        int64_t f = llabs((long long)p->h_int[i]);
        for (int64_t k = p->is->row[i]; k < p->is->row[i + 1]; k++)
            f += llabs((long long)p->w2_int[k]) / 2;
        if (f > best)
            best = f;
    }
    return (int32_t)best;
}

/* Table rows cover opposing fields up to where the hottest acceptance
 * drops under 2^-32; a table past PT_MAX_TABLE_ENTRIES (very wide integer
 * coefficients) is not worth its cache misses: the floating kernel runs. */
static int setup_integer(pt_plan *p)
{
    p->scale = integer_scale(p->is);
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
    int32_t dmax = max_field(p);
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
