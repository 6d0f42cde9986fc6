/* optimize.c - nq_pf_optimize: input checks, dispatch to the objective's
 * solver, and the figures of the result. The mean-variance objectives are
 * QPs (optimize_qp.c), min_cvar an LP (cvar.c), risk parity a Newton
 * method (riskparity.c); HRP and the cardinality search live in hrp.c and
 * cardinality.c. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "optimize_internal.h"

static const char *const objective_names[NQ_PF_OBJECTIVES] = {
    "min_volatility",        "max_sharpe", "efficient_return", "efficient_risk",
    "max_quadratic_utility", "min_cvar",   "risk_parity",      "hrp"};

const char *nq_pf_objective_name(nq_pf_objective o)
{
    return (int)o >= 0 && (int)o < NQ_PF_OBJECTIVES ? objective_names[o] : "unknown";
}

int nq_pf_objective_parse(const char *name, nq_pf_objective *out)
{
    for (int k = 0; name && k < NQ_PF_OBJECTIVES; k++)
        if (strcmp(name, objective_names[k]) == 0) {
            *out = (nq_pf_objective)k;
            return NQ_OK;
        }
    return NQ_ENOTFOUND;
}

void nq_pf_spec_default(nq_pf_spec *s)
{
    *s = (nq_pf_spec){.objective = NQ_PF_MIN_VOLATILITY,
                      .rf = 0.02,
                      .risk_aversion = 1.0,
                      .beta = 0.95,
                      .max_turnover = -1.0,
                      .frequency = NQ_PF_FREQUENCY,
                      .seed = 1};
}

void nq_pf_result_free(nq_pf_result *r)
{
    if (!r)
        return;
    free(r->w);
    memset(r, 0, sizeof *r);
}

static int needs_mu(nq_pf_objective o)
{
    return o == NQ_PF_MAX_SHARPE || o == NQ_PF_EFFICIENT_RETURN || o == NQ_PF_EFFICIENT_RISK ||
           o == NQ_PF_MAX_QUADRATIC_UTILITY;
}

/* err->where "/name/i" (j < 0) or "/name/i/j". */
static int bad_at(nq_err *err, const char *name, int32_t i, int32_t j, const char *why)
{
    char where[64];
    if (j < 0)
        snprintf(where, sizeof where, "/%s/%d", name, (int)i);
    else
        snprintf(where, sizeof where, "/%s/%d/%d", name, (int)i, (int)j);
    return nq_err_set(err, NQ_EINVAL, where, "%s", why);
}

static int check_mu_cov(const nq_pf_spec *s, nq_err *err)
{
    int32_t n = s->n;
    if (!s->mu && needs_mu(s->objective))
        return nq_err_set(err, NQ_EINVAL, "/mu", "%s needs expected returns",
                          nq_pf_objective_name(s->objective));
    if (!s->S && s->objective != NQ_PF_MIN_CVAR)
        return nq_err_set(err, NQ_EINVAL, "/cov_matrix", "%s needs a covariance matrix",
                          nq_pf_objective_name(s->objective));
    for (int32_t i = 0; s->mu && i < n; i++)
        if (!isfinite(s->mu[i]))
            return bad_at(err, "mu", i, -1, "not a finite number");
    double dmax = 0.0;
    for (int32_t i = 0; s->S && i < n; i++)
        dmax = fmax(dmax, fabs(s->S[(size_t)i * n + i]));
    for (int32_t i = 0; s->S && i < n; i++)
        for (int32_t j = 0; j < n; j++) {
            double a = s->S[(size_t)i * n + j], b = s->S[(size_t)j * n + i];
            if (!isfinite(a))
                return bad_at(err, "cov_matrix", i, j, "not a finite number");
            if (i == j && a < 0.0)
                return bad_at(err, "cov_matrix", i, j, "a negative variance");
            if (fabs(a - b) > 1e-10 * dmax)
                return bad_at(err, "cov_matrix", i, j, "not symmetric");
        }
    return NQ_OK;
}

static int check_bounds(const nq_pf_spec *s, nq_err *err)
{
    double lo = 0.0, hi = 0.0;
    for (int32_t i = 0; i < s->n; i++) {
        double l = s->lb ? s->lb[i] : 0.0, u = s->ub ? s->ub[i] : 1.0;
        if (!isfinite(l) || !isfinite(u) || l > u)
            return bad_at(err, "bounds", i, -1, "bounds must be finite with lower <= upper");
        lo += l, hi += u;
    }
    if (lo > 1.0 + 1e-12 || hi < 1.0 - 1e-12)
        return nq_err_set(err, NQ_EINVAL, "/bounds",
                          "the weights cannot sum to 1: lower bounds "
                          "sum to %.10g, upper bounds to %.10g",
                          lo, hi);
    return NQ_OK;
}

static int check_sectors(const nq_pf_spec *s, nq_err *err)
{
    if (s->n_sectors < 0 || s->n_sectors > NQ_PF_MAX_SECTORS || (s->n_sectors > 0 && !s->sector))
        return nq_err_set(err, NQ_EINVAL, "/sectors", "need 0 to %d sectors and each asset's",
                          NQ_PF_MAX_SECTORS);
    for (int32_t i = 0; s->n_sectors > 0 && i < s->n; i++)
        if (s->sector[i] < -1 || s->sector[i] >= s->n_sectors)
            return bad_at(err, "sectors", i, -1, "sector index out of range");
    for (int32_t k = 0; k < s->n_sectors; k++) {
        double lo = s->sector_min ? s->sector_min[k] : NAN;
        double hi = s->sector_max ? s->sector_max[k] : NAN;
        if (isfinite(lo) && isfinite(hi) && lo > hi)
            return bad_at(err, "sectors", k, -1, "sector minimum above its maximum");
    }
    return NQ_OK;
}

static int check_trading(const nq_pf_spec *s, nq_err *err)
{
    for (int32_t i = 0; s->w0 && i < s->n; i++)
        if (!isfinite(s->w0[i]))
            return bad_at(err, "w0", i, -1, "not a finite number");
    if (isnan(s->max_turnover) || s->max_turnover == INFINITY)
        return nq_err_set(err, NQ_EINVAL, "/max_turnover", "must be a number (< 0: no limit)");
    if (!(s->cost >= 0.0) || !isfinite(s->cost))
        return nq_err_set(err, NQ_EINVAL, "/cost", "must be finite and >= 0");
    if (s->max_assets < 0 || s->max_assets > s->n)
        return nq_err_set(err, NQ_EINVAL, "/max_assets", "must be in [0, %d]", (int)s->n);
    if (!(s->min_weight >= 0.0) || !(s->min_weight <= 1.0))
        return nq_err_set(err, NQ_EINVAL, "/min_weight", "must be in [0, 1]");
    return NQ_OK;
}

static int check_objective(const nq_pf_spec *s, nq_err *err)
{
    if (!isfinite(s->rf))
        return nq_err_set(err, NQ_EINVAL, "/rf", "must be finite");
    if (s->objective == NQ_PF_EFFICIENT_RETURN && !isfinite(s->target_return))
        return nq_err_set(err, NQ_EINVAL, "/target_return", "must be finite");
    if (s->objective == NQ_PF_EFFICIENT_RISK &&
        !(s->target_volatility > 0.0 && isfinite(s->target_volatility)))
        return nq_err_set(err, NQ_EINVAL, "/target_volatility", "must be finite and > 0");
    if (s->objective == NQ_PF_MAX_QUADRATIC_UTILITY &&
        !(s->risk_aversion > 0.0 && isfinite(s->risk_aversion)))
        return nq_err_set(err, NQ_EINVAL, "/risk_aversion", "must be finite and > 0");
    if (s->objective != NQ_PF_MIN_CVAR)
        return NQ_OK;
    if (!(s->beta > 0.0 && s->beta < 1.0))
        return nq_err_set(err, NQ_EINVAL, "/beta", "must be in (0, 1)");
    if (!s->scenarios || s->n_scenarios < 1 || s->n_scenarios > NQ_PF_MAX_ROWS ||
        (int64_t)s->n_scenarios * s->n > NQ_PF_MAX_CELLS)
        return nq_err_set(err, NQ_EINVAL, "/scenarios", "need 1 to %d scenario rows",
                          NQ_PF_MAX_ROWS);
    for (int32_t t = 0; t < s->n_scenarios; t++)
        for (int32_t i = 0; i < s->n; i++)
            if (!isfinite(s->scenarios[(size_t)t * s->n + i]))
                return bad_at(err, "scenarios", t, i, "not a finite number");
    return NQ_OK;
}

int nq__pf_check(const nq_pf_spec *s, nq_err *err)
{
    if (!s)
        return nq_err_set(err, NQ_EINVAL, NULL, "no specification");
    if ((int)s->objective < 0 || (int)s->objective >= NQ_PF_OBJECTIVES)
        return nq_err_set(err, NQ_EINVAL, "/objective", "unknown objective %d", (int)s->objective);
    if (s->n < 1 || s->n > NQ_PF_MAX_ASSETS)
        return nq_err_set(err, NQ_EINVAL, "/n", "assets must be in [1, %d]", NQ_PF_MAX_ASSETS);
    int rc = check_mu_cov(s, err);
    if (!rc)
        rc = check_bounds(s, err);
    if (!rc)
        rc = check_sectors(s, err);
    if (!rc)
        rc = check_trading(s, err);
    if (!rc)
        rc = check_objective(s, err);
    return rc;
}

int nq__pf_fill(const nq_pf_spec *s, nq_pf_result *out, nq_err *err)
{
    int32_t n = s->n;
    double *w = out->w, sum = 0.0;
    for (int32_t i = 0; i < n; i++) {
        if (!isfinite(w[i]))
            return nq_err_set(err, NQ_EINTERNAL, NULL, "weight %d is not finite", (int)i);
        if (fabs(w[i]) < 1e-12)
            w[i] = 0.0;
        sum += w[i];
    }
    /* The solvers meet sum w = 1 to rounding; only a visible miss is
     * corrected, so that exact answers are reported unchanged. */
    if (fabs(sum - 1.0) > 1e-12) {
        if (!(fabs(sum) > 1e-12))
            return nq_err_set(err, NQ_EINTERNAL, NULL, "the weights sum to %g", sum);
        for (int32_t i = 0; i < n; i++)
            w[i] /= sum;
    }
    out->n = n;
    out->turnover = 0.0;
    out->held = 0;
    for (int32_t i = 0; i < n; i++) {
        out->turnover += fabs(w[i] - (s->w0 ? s->w0[i] : 0.0));
        out->held += w[i] > 0.0;
    }
    out->expected_return = nq__pf_net_return(s, w);
    out->volatility = s->S ? sqrt(fmax(nq_quad(s->S, w, w, n), 0.0)) : 0.0;
    out->sharpe = out->volatility > 0.0 ? (out->expected_return - s->rf) / out->volatility : 0.0;
    if (!isfinite(out->expected_return) || !isfinite(out->volatility) || !isfinite(out->sharpe))
        return nq_err_set(err, NQ_ERANGE, NULL, "the portfolio's figures are not finite");
    return NQ_OK;
}

static int hrp(const nq_pf_spec *s, nq_pf_result *out, nq_err *err)
{
    int rc = nq__pf_hrp(s, out->w, err);
    snprintf(out->method, sizeof out->method, "hierarchical risk parity");
    return rc;
}

static int dispatch(const nq_pf_spec *s, nq_pf_result *out, nq_err *err)
{
    switch (s->objective) {
    case NQ_PF_MIN_CVAR:
        return nq__pf_min_cvar(s, out, err);
    case NQ_PF_RISK_PARITY:
        return nq__pf_risk_parity(s, out, err);
    case NQ_PF_HRP:
        return hrp(s, out, err);
    default:
        snprintf(out->method, sizeof out->method, "active-set QP");
        return nq__pf_solve_weights(s, NULL, 0.0, out->w, &out->iterations, err);
    }
}

int nq_pf_optimize(const nq_pf_spec *s, nq_pf_result *out, nq_err *err)
{
    nq_err local;
    if (!err) /* the solvers read err->where to tell infeasibilities apart */
        err = &local;
    nq_err_clear(err);
    if (!out)
        return nq_err_set(err, NQ_EINVAL, NULL, "no result");
    memset(out, 0, sizeof *out);
    int rc = nq__pf_check(s, err);
    if (rc)
        return rc;
    if (s->max_assets > 0 || s->min_weight > 0.0) {
        rc = nq__pf_cardinality(s, out, err);
        if (rc)
            nq_pf_result_free(out);
        return rc;
    }
    out->w = calloc((size_t)s->n, sizeof *out->w);
    if (!out->w)
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    rc = dispatch(s, out, err);
    if (!rc)
        rc = nq__pf_fill(s, out, err);
    if (!rc && s->objective == NQ_PF_MIN_CVAR && !s->mu) { /* mean scenario return, annual */
        double m = 0.0;
        for (int32_t t = 0; t < s->n_scenarios; t++)
            m += nq_dot(s->scenarios + (size_t)t * s->n, out->w, s->n);
        out->expected_return = m / s->n_scenarios * (s->frequency > 0 ? s->frequency : 252);
        out->sharpe =
            out->volatility > 0.0 ? (out->expected_return - s->rf) / out->volatility : 0.0;
    }
    if (rc)
        nq_pf_result_free(out);
    return rc;
}

int nq__pf_solve_subset(const nq_pf_spec *s, const unsigned char *in, double min_weight,
                        nq_pf_result *out, nq_err *err)
{
    nq_err local;
    if (!err)
        err = &local;
    if (!out->w || out->n != s->n) {
        free(out->w);
        out->w = calloc((size_t)s->n, sizeof *out->w);
        if (!out->w) {
            out->n = 0;
            return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
        }
    }
    out->n = s->n;
    out->iterations = 0;
    out->cvar = 0.0;
    snprintf(out->method, sizeof out->method, "active-set QP");
    int rc = nq__pf_solve_weights(s, in, min_weight, out->w, &out->iterations, err);
    return rc ? rc : nq__pf_fill(s, out, err);
}
