/* sb_plan.c - the coupling matrix and constants of simulated bifurcation.
 *
 * Our Ising energy E(s) = sum h_i s_i + sum_{i<j} w_ij s_i s_j becomes the
 * field-free SB form -1/2 sum_ij J_ij s_i s_j with J = -W plus one
 * auxiliary spin a coupled by J_ia = -h_i: the two agree on s_i s_a. The
 * extended problem has no field, so it keeps the x -> -x symmetry of the
 * bifurcation (pinning x_a, a plain external field, was no better). J is
 * stored in float divided by a power of two at least max |J|, so no weight
 * overflows and integer weights below 2^24 stay exact. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sb_plan.h"
#include "solve_internal.h"

#define SB_DEFAULT_STEPS 1000
#define SB_A0 1.0
#define SB_BSB_DT_MAX 1.25
#define SB_DSB_DT_MAX 1.0
/* c0 = SB_C0 a0 / (sigma sqrt(N)), sigma the RMS off-diagonal J_ij. */
#define SB_C0_BALLISTIC 0.7
#define SB_C0_DISCRETE 0.5
#define SB_BSB_STABILITY 0.75
#define SB_DSB_KICK 2.0
/* bSB momentum kicks: amplitude per sqrt(time) at the start. */
#define SB_BSB_NOISE 0.5
#define SB_EVAL_EVERY 20
/* Power iteration for the spectral radius: steps, safety margin on the
 * (low) estimate, and the largest cost worth paying before a run. */
#define SB_POWER_ITERS 30
#define SB_POWER_MARGIN 1.05
#define SB_POWER_MAX_MACS (1LL << 30)

static double max_abs_coupling(const nq_model *is)
{
    double mx = 0.0;
    for (int32_t i = 0; i < is->n; i++)
        mx = fabs(is->linear[i]) > mx ? fabs(is->linear[i]) : mx;
    for (int64_t k = 0; k < is->nnz; k++)
        mx = fabs(is->w[k]) > mx ? fabs(is->w[k]) : mx;
    return mx;
}

/* Power of two >= mx (1 for an all-zero model). */
static double pow2_scale(double mx)
{
    if (!(mx > 0.0))
        return 1.0;
    int ex;
    double f = frexp(mx, &ex);
    return ldexp(1.0, f == 0.5 ? ex - 1 : ex);
}

static int has_field(const nq_model *is)
{
    for (int32_t i = 0; i < is->n; i++)
        if (is->linear[i] != 0.0)
            return 1;
    return 0;
}

static void *alloc_aligned(size_t bytes)
{
    size_t size = (bytes + 63) / 64 * 64;
    return aligned_alloc(64, size ? size : 64);
}

static int build_dense(sb_plan *p, double scale)
{
    const nq_model *is = p->is;
    p->ld = ((int64_t)p->ne + SB_LANES - 1) / SB_LANES * SB_LANES;
    p->dense = alloc_aligned((size_t)p->ne * (size_t)p->ld * sizeof *p->dense);
    if (!p->dense)
        return NQ_ENOMEM;
    memset(p->dense, 0, (size_t)p->ne * (size_t)p->ld * sizeof *p->dense);
    for (int32_t i = 0; i < p->n; i++) {
        float *row = p->dense + (int64_t)i * p->ld;
        for (int64_t k = is->row[i]; k < is->row[i + 1]; k++)
            row[is->col[k]] = (float)(-is->w[k] / scale);
        if (p->ne > p->n) {
            row[p->n] = (float)(-is->linear[i] / scale);
            p->dense[(int64_t)p->n * p->ld + i] = row[p->n];
        }
    }
    return NQ_OK;
}

/* The model's CSR rows, each followed by its auxiliary entry, then the
 * auxiliary row (every variable with a field). */
static int build_csr(sb_plan *p, double scale)
{
    const nq_model *is = p->is;
    int aux = p->ne > p->n;
    int64_t nnz = is->nnz + (aux ? 2 * (int64_t)p->n : 0);
    p->row = malloc(((size_t)p->ne + 1) * sizeof *p->row);
    p->col = malloc(((size_t)nnz + 1) * sizeof *p->col);
    p->w = malloc(((size_t)nnz + 1) * sizeof *p->w);
    if (!p->row || !p->col || !p->w)
        return NQ_ENOMEM;
    int64_t at = 0;
    for (int32_t i = 0; i < p->n; i++) {
        p->row[i] = at;
        for (int64_t k = is->row[i]; k < is->row[i + 1]; k++, at++) {
            p->col[at] = is->col[k];
            p->w[at] = (float)(-is->w[k] / scale);
        }
        if (aux && is->linear[i] != 0.0) {
            p->col[at] = p->n;
            p->w[at++] = (float)(-is->linear[i] / scale);
        }
    }
    p->row[p->n] = at;
    for (int32_t i = 0; aux && i < p->n; i++)
        if (is->linear[i] != 0.0) {
            p->col[at] = i;
            p->w[at++] = (float)(-is->linear[i] / scale);
        }
    p->row[p->ne] = at;
    return NQ_OK;
}

/* sum_j |J_ij| and sum_j J_ij^2 of row i. */
static void row_sums(const sb_plan *p, int32_t i, double *abs_sum, double *sq_sum)
{
    const float *w = p->dense ? p->dense + (int64_t)i * p->ld : p->w + p->row[i];
    int64_t len = p->dense ? p->ne : p->row[i + 1] - p->row[i];
    double a = 0.0, q = 0.0;
    for (int64_t k = 0; k < len; k++) {
        a += fabs((double)w[k]);
        q += (double)w[k] * w[k];
    }
    *abs_sum = a;
    *sq_sum = q;
}

/* u = J v for one vector. J is symmetric, so the dense case sums rows
 * scaled by v_j (an axpy that vectorizes, unlike an ordered dot product). */
static void matvec(const sb_plan *p, const float *restrict v, float *restrict u)
{
    if (p->dense) {
        memset(u, 0, (size_t)p->ne * sizeof *u);
        for (int32_t j = 0; j < p->ne; j++) {
            const float *restrict row = p->dense + (int64_t)j * p->ld;
            float vj = v[j];
            for (int32_t i = 0; i < p->ne; i++)
                u[i] = fmaf(row[i], vj, u[i]);
        }
        return;
    }
    for (int32_t i = 0; i < p->ne; i++) {
        float s = 0.0f;
        for (int64_t k = p->row[i]; k < p->row[i + 1]; k++)
            s = fmaf(p->w[k], v[p->col[k]], s);
        u[i] = s;
    }
}

/* Growth ||J v|| / ||v|| of a random vector after SB_POWER_ITERS steps of
 * power iteration: a lower estimate of the spectral radius. */
static double power_iterate(const sb_plan *p, float *v, float *u)
{
    nq_rng rng;
    nq_rng_seed(&rng, 0x5b5b5b5bu);
    for (int32_t i = 0; i < p->ne; i++)
        v[i] = (float)nq_rng_double(&rng) - 0.5f;
    double growth = 0.0;
    for (int it = 0; it < SB_POWER_ITERS; it++) {
        double nv = 0.0, nu = 0.0;
        matvec(p, v, u);
        for (int32_t i = 0; i < p->ne; i++) {
            nv += (double)v[i] * v[i];
            nu += (double)u[i] * u[i];
        }
        if (!(nu > 0.0) || !(nv > 0.0))
            return 0.0;
        growth = sqrt(nu / nv);
        for (int32_t i = 0; i < p->ne; i++)
            v[i] = (float)(u[i] / sqrt(nu));
    }
    return growth;
}

/* Spectral radius of J: the power-iteration estimate with a margin,
 * capped by the Gershgorin bound max_i sum_j |J_ij| (also the answer when
 * the model is too big for the iteration to be cheap). Also returns the
 * sum of all J_ij^2. */
static double spectral_radius(const sb_plan *p, double *sum_sq)
{
    double gersh = 0.0, sq = 0.0;
    for (int32_t i = 0; i < p->ne; i++) {
        double a, q;
        row_sums(p, i, &a, &q);
        gersh = fmax(gersh, a);
        sq += q;
    }
    *sum_sq = sq;
    int64_t nnz = p->dense ? (int64_t)p->ne * p->ne : p->row[p->ne];
    if ((nnz + p->ne) * SB_POWER_ITERS > SB_POWER_MAX_MACS)
        return gersh;
    float *v = malloc((size_t)p->ne * sizeof *v), *u = malloc((size_t)p->ne * sizeof *u);
    double est = gersh;
    if (v && u)
        est = fmin(gersh, SB_POWER_MARGIN * power_iterate(p, v, u));
    free(v);
    free(u);
    return est;
}

/* bSB: dt a fraction of the symplectic-Euler stability limit of the
 * stiffest mode, 2 / sqrt(a0 (a0 + c0 rho)), and at most the papers' 1.25.
 * dSB has no linear instability, but when c0 rho dt is large whole groups
 * of spins cross from wall to wall in one step and the sign state
 * oscillates (G1: the uniform mode gives rho ~ the mean degree, 7 sigma
 * sqrt(N)); c0 rho dt <= SB_DSB_KICK prevents that. dSB's cap of 1.0 beat
 * 1.25 on a complete +-1 graph (mean cut of 8 runs, n = 2000). */
static double time_step(const sb_plan *p, double c0, double rho)
{
    if (!p->discrete)
        return fmin(SB_BSB_DT_MAX, SB_BSB_STABILITY * 2.0 / sqrt(SB_A0 * (SB_A0 + c0 * rho)));
    return c0 * rho > 0.0 ? fmin(SB_DSB_DT_MAX, SB_DSB_KICK / (c0 * rho)) : SB_DSB_DT_MAX;
}

static void set_constants(sb_plan *p, const nq_solve_opts *o)
{
    p->discrete = o->variant && !strcmp(o->variant, "discrete");
    p->steps = o->sweeps > 0 ? o->sweeps : SB_DEFAULT_STEPS;
    p->eval_every = SB_EVAL_EVERY;
    p->a0 = (float)SB_A0;
    double sq, rho = spectral_radius(p, &sq);
    double sigma_sqrt_n = p->ne > 1 ? sqrt(sq / (p->ne - 1)) : 0.0;
    double c0 = p->discrete ? SB_C0_DISCRETE : SB_C0_BALLISTIC;
    c0 = sigma_sqrt_n > 0.0 ? c0 * SB_A0 / sigma_sqrt_n : 0.0;
    p->c0 = (float)c0;
    p->dt = (float)time_step(p, c0, rho);
    p->noise = p->discrete ? 0.0f : (float)SB_BSB_NOISE;
    int64_t nnz = p->dense ? (int64_t)p->ne * p->ne : p->row[p->ne];
    double rows = SB_POLL_MACS / ((double)nnz / p->ne * SB_LANES + 1.0);
    p->poll_rows = rows >= p->ne ? p->ne : (int32_t)fmax(1.0, rows);
}

int nq__sb_plan_init(sb_plan *p, const nq_model *m, const nq_solve_opts *o, nq_err *err)
{
    memset(p, 0, sizeof *p);
    int rc = nq__ising_view(m, &p->own, &p->is, err);
    if (rc)
        return rc;
    p->n = m->n;
    p->ne = p->n + has_field(p->is);
    double scale = pow2_scale(max_abs_coupling(p->is));
    rc = p->is->dense ? build_dense(p, scale) : build_csr(p, scale);
    if (rc) {
        nq__sb_plan_free(p);
        return nq_err_set(err, rc, NULL, "out of memory preparing simulated bifurcation");
    }
    if (p->ne > 0)
        set_constants(p, o);
    return NQ_OK;
}

void nq__sb_plan_free(sb_plan *p)
{
    if (!p)
        return;
    nq_model_free(&p->own);
    free(p->dense);
    free(p->row);
    free(p->col);
    free(p->w);
    memset(p, 0, sizeof *p);
}
