/* goliath_models.c - from a universe to the numbers the optimizer needs
 * (expected returns, the covariance, the scenarios) and the small JSON
 * pieces both Goliath answers share. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "goliath_json.h"

int nq__gl_models(const nq_goliath_universe *u, double **mu, double **S, int *repaired,
                  double *shrinkage, nq_returns *ret, nq_returns *scen, nq_err *err)
{
    size_t n = (size_t)u->n;
    *mu = malloc(n * sizeof **mu);
    *S = malloc(n * n * sizeof **S);
    memset(ret, 0, sizeof *ret);
    memset(scen, 0, sizeof *scen);
    *repaired = 0;
    *shrinkage = 0;
    int rc = *mu && *S ? NQ_OK : nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    if (!rc && u->prices.t == 0) { /* given directly */
        memcpy(*mu, u->mu, n * sizeof **mu);
        memcpy(*S, u->S, n * n * sizeof **S);
        return nq_psd_repair(*S, u->n, repaired, err);
    }
    if (!rc)
        rc = nq_returns_from_prices(&u->prices, ret, err);
    if (!rc)
        rc = nq_expected_returns(ret, &u->mu_opts, *mu, err);
    if (!rc)
        rc = nq_risk_matrix(ret, &u->cov_opts, *S, repaired, shrinkage, err);
    if (!rc)
        rc = nq_returns_complete(ret, scen, err);
    if (rc) {
        free(*mu);
        free(*S);
        *mu = *S = NULL;
        nq_returns_free(ret);
        nq_returns_free(scen);
    }
    return rc;
}

json_t *nq__gl_named(const nq_goliath_universe *u, const double *v)
{
    json_t *o = json_object();
    for (int32_t i = 0; o && i < u->n; i++)
        if (json_object_set_new(o, u->names[i], json_real(v[i])) != 0) {
            json_decref(o);
            return NULL;
        }
    return o;
}

json_t *nq__gl_risk_json(const nq_pf_risk_report *r, double level)
{
    json_t *o = json_pack(
        "{s:i, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:{s:f, s:f}, s:{s:f, s:f}, s:{s:f, s:f}, "
        "s:f}",
        "periods", (int)r->t, "level", level, "mean", r->mean, "stdev", r->stdev,
        "annual_return", r->annual_return, "annual_volatility", r->annual_volatility, "sharpe",
        r->sharpe, "sortino", r->sortino, "historical", "var", r->var_hist, "cvar", r->cvar_hist,
        "quantile", "var", r->var_quantile, "cvar", r->cvar_quantile, "parametric", "var",
        r->var_param, "cvar", r->cvar_param, "max_drawdown", r->max_drawdown);
    if (o && r->has_beta && json_object_set_new(o, "beta", json_real(r->beta)) != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}
