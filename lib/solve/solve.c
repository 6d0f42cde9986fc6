/* solve.c - option defaults, result helpers and solver dispatch. */
#include "nqba/solve.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "solve_internal.h"

void nq_solve_opts_default(nq_solve_opts *o)
{
    memset(o, 0, sizeof *o);
    o->solver = "auto";
    o->seed = 1;
    o->threads = 1;
}

void nq_result_free(nq_result *r)
{
    if (!r)
        return;
    free(r->state);
    free(r->read_energies);
    memset(r, 0, sizeof *r);
}

int nq__result_init(nq_result *out, const char *solver, const nq_model *m, int64_t reads,
                    nq_err *err)
{
    memset(out, 0, sizeof *out);
    snprintf(out->solver, sizeof out->solver, "%s", solver);
    snprintf(out->found_by, sizeof out->found_by, "%s", solver);
    out->type = m->type;
    out->n = m->n;
    out->state = calloc((size_t)(m->n ? m->n : 1), 1);
    out->read_energies = calloc((size_t)(reads ? reads : 1), sizeof *out->read_energies);
    if (!out->state || !out->read_energies) {
        nq_result_free(out);
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory for the result");
    }
    return NQ_OK;
}

void nq__result_set_spins(nq_result *out, const nq_model *m, const int8_t *spins)
{
    if (m->type == NQ_QUBO)
        nq_spins_to_bits(spins, out->state, m->n);
    else
        memcpy(out->state, spins, (size_t)m->n);
    out->energy = nq_model_energy(m, out->state);
}

int nq__ising_view(const nq_model *m, nq_model *own, const nq_model **is, nq_err *err)
{
    memset(own, 0, sizeof *own);
    if (m->type == NQ_ISING) {
        *is = m;
        return NQ_OK;
    }
    *is = own;
    return nq_model_to_ising(m, own, err);
}

int nq__threads(const nq_solve_opts *o)
{
    if (o->threads < 1)
        return 1;
    return o->threads > NQ_SOLVE_MAX_THREADS ? NQ_SOLVE_MAX_THREADS : o->threads;
}

void nq__random_spins(int8_t *s, int32_t n, nq_rng *rng)
{
    uint64_t bits = 0;
    for (int32_t i = 0; i < n; i++) {
        if ((i & 63) == 0)
            bits = nq_rng_u64(rng);
        s[i] = (bits >> (i & 63)) & 1 ? 1 : -1;
    }
}

double nq__integer_scale(const nq_model *is, double field_max)
{
    for (double sc = 1.0; sc <= 4.0; sc *= 2.0) {
        int ok = 1;
        for (int32_t i = 0; ok && i < is->n; i++) {
            double v = is->linear[i] * sc, field = fabs(v);
            ok = v == nearbyint(v);
            for (int64_t k = is->row[i]; ok && k < is->row[i + 1]; k++) {
                double w = is->w[k] * sc;
                ok = w == nearbyint(w);
                field += fabs(w);
            }
            ok = ok && field < field_max;
        }
        if (ok)
            return sc;
    }
    return 0.0;
}

int32_t nq__max_field(const nq_model *is, const int32_t *h_int, const int32_t *w2_int)
{
    int64_t best = 0;
    for (int32_t i = 0; i < is->n; i++) {
        int64_t f = llabs((long long)h_int[i]);
        for (int64_t k = is->row[i]; k < is->row[i + 1]; k++)
            f += llabs((long long)w2_int[k]) / 2;
        if (f > best)
            best = f;
    }
    return (int32_t)best;
}

void nq__beta_range(const nq_model *is, double hot_accept, double cold_accept, double *hot,
                    double *cold)
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
    *hot = -log(hot_accept) / (2.0 * rms_sum / counted);
    *cold = -log(cold_accept) / (2.0 * min_abs);
    if (*cold < *hot)
        *cold = *hot;
}

int nq__reached(double energy, const nq_solve_opts *o)
{
    if (!o->has_target)
        return 0;
    return energy <= o->target + 1e-9 * fmax(1.0, fabs(o->target));
}

static int check_opts(const nq_solve_opts *o, nq_err *err)
{
    if (o->reads < 0 || o->reads > NQ_SOLVE_MAX_READS)
        return nq_err_set(err, NQ_ERANGE, "reads", "must be in 1..%d", NQ_SOLVE_MAX_READS);
    if (o->sweeps < 0 || o->sweeps > NQ_SOLVE_MAX_SWEEPS)
        return nq_err_set(err, NQ_ERANGE, "sweeps", "must be in 1..%d", NQ_SOLVE_MAX_SWEEPS);
    if (!(o->time_limit >= 0.0) || !isfinite(o->time_limit))
        return nq_err_set(err, NQ_ERANGE, "time_limit", "must be a finite number >= 0");
    if (o->has_target && !isfinite(o->target))
        return nq_err_set(err, NQ_ERANGE, "target", "must be a finite number");
    if (o->replicas < 0 || o->replicas > 1024)
        return nq_err_set(err, NQ_ERANGE, "replicas", "must be in 1..1024");
    if (o->variant && strcmp(o->variant, "ballistic") && strcmp(o->variant, "discrete"))
        return nq_err_set(err, NQ_EINVAL, "variant", "must be ballistic or discrete");
    if (!(o->beta_min >= 0.0) || !(o->beta_max >= 0.0) || !isfinite(o->beta_min) ||
        !isfinite(o->beta_max))
        return nq_err_set(err, NQ_ERANGE, "beta", "must be finite and >= 0");
    return NQ_OK;
}

int nq_solve(const nq_model *m, const nq_solve_opts *o, nq_progress_fn cb, void *user,
             nq_result *out, nq_err *err)
{
    memset(out, 0, sizeof *out);
    int rc = check_opts(o, err);
    if (rc)
        return rc;
    const char *s = o->solver ? o->solver : "auto";
    if (!strcmp(s, "auto"))
        return nq_solve_auto(m, o, cb, user, out, err);
    if (!strcmp(s, "exact"))
        return nq_solve_exact(m, o, cb, user, out, err);
    if (!strcmp(s, "sa"))
        return nq_solve_sa(m, o, cb, user, out, err);
    if (!strcmp(s, "tabu"))
        return nq_solve_tabu(m, o, cb, user, out, err);
    if (!strcmp(s, "pt"))
        return nq_solve_pt(m, o, cb, user, out, err);
    if (!strcmp(s, "sb"))
        return nq_solve_sb(m, o, cb, user, out, err);
    return nq_err_set(err, NQ_EINVAL, "solver",
                      "unknown solver '%s' (expected auto, exact, sa, tabu, pt or sb)", s);
}
