/* goliath_run.c - run a parsed portfolio request: models, the optimizer,
 * the frontier, whole shares for the budget, orders from the holdings, the
 * risk of the chosen weights over the price history, and an explanation in
 * words. Every number in the answer is finite (portfolio.h guarantees it
 * for what it returns; the rest is sums of those). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "goliath_json.h"
#include "nqba/json.h"

typedef struct run_ctx {
    const nq_goliath_req *r;
    double *mu, *S, *now_price, *w0;
    nq_returns ret, scen;
    int repaired;
    double shrinkage;
    nq_pf_spec spec;
    nq_pf_result res;
    nq_pf_allocation alloc;
    int has_alloc;
} run_ctx;

static void ctx_free(run_ctx *c)
{
    free(c->mu);
    free(c->S);
    free(c->now_price);
    free(c->w0);
    nq_returns_free(&c->ret);
    nq_returns_free(&c->scen);
    nq_pf_result_free(&c->res);
    nq_pf_allocation_free(&c->alloc);
}

/* The optimizer names its inputs; the request's fields are named a little
 * differently. */
static void rename_field(nq_err *err)
{
    static const char *const map[][2] = {{"/bounds", "/weight_bounds"},
                                         {"/rf", "/risk_free_rate"},
                                         {"/mu", "/expected_returns"},
                                         {"/sectors", "/sector_caps"},
                                         {"/scenarios", "/prices"},
                                         {"/cost", "/transaction_cost"}};
    if (!err)
        return;
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        size_t n = strlen(map[i][0]);
        if (!strncmp(err->where, map[i][0], n) && (err->where[n] == '\0' || err->where[n] == '/')) {
            char rest[NQ_ERR_WHERE_MAX];
            snprintf(rest, sizeof rest, "%s", err->where + n);
            snprintf(err->where, sizeof err->where, "%s%.200s", map[i][1], rest);
            return;
        }
    }
}

/* Today's price per share: given, else the last one in the table. */
static int prices_now(run_ctx *c, nq_err *err)
{
    const nq_goliath_req *r = c->r;
    int32_t n = r->u.n;
    if (!(c->now_price = malloc((size_t)n * sizeof *c->now_price)))
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    for (int32_t i = 0; i < n; i++) {
        double p = r->latest ? r->latest[i] : NAN;
        for (int32_t t = r->u.prices.t - 1; isnan(p) && t >= 0; t--)
            p = r->u.prices.p[(size_t)t * n + i];
        c->now_price[i] = p;
    }
    return NQ_OK;
}

static int current_weights(run_ctx *c, nq_err *err)
{
    const nq_goliath_req *r = c->r;
    int32_t n = r->u.n;
    double total = 0;
    if (!r->holdings)
        return NQ_OK;
    for (int32_t i = 0; i < n; i++) {
        if (r->holdings[i] > 0 && !(c->now_price[i] > 0))
            return nq_err_set(err, NQ_EINVAL, "/latest_prices", "no price for '%s', which is held",
                              r->u.names[i]);
        total += r->holdings[i] > 0 ? (double)r->holdings[i] * c->now_price[i] : 0;
    }
    if (!(total > 0))
        return NQ_OK; /* nothing held: all cash */
    if (!(c->w0 = calloc((size_t)n, sizeof *c->w0)))
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    for (int32_t i = 0; i < n; i++)
        if (r->holdings[i] > 0)
            c->w0[i] = (double)r->holdings[i] * c->now_price[i] / total;
    return NQ_OK;
}

static void fill_spec(run_ctx *c, const atomic_int *cancel)
{
    const nq_goliath_req *r = c->r;
    nq_pf_spec *s = &c->spec;
    *s = r->spec;
    s->n = r->u.n;
    s->mu = c->mu;
    s->S = c->S;
    s->lb = r->lb;
    s->ub = r->ub;
    s->n_sectors = r->n_sectors;
    s->sector = r->sector;
    s->sector_min = r->sector_min;
    s->sector_max = r->sector_max;
    s->w0 = c->w0;
    s->scenarios = c->scen.t ? c->scen.r : NULL;
    s->n_scenarios = c->scen.t;
    s->returns = c->ret.t ? &c->ret : NULL;
    s->frequency = r->u.mu_opts.frequency;
    s->cancel = cancel;
}

static int allocate(run_ctx *c, nq_err *err)
{
    const nq_goliath_req *r = c->r;
    if (!(r->budget > 0))
        return NQ_OK;
    int32_t n = r->u.n;
    double *p = malloc((size_t)n * sizeof *p);
    if (!p)
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    int rc = NQ_OK;
    for (int32_t i = 0; !rc && i < n; i++) {
        p[i] = c->now_price[i] > 0 ? c->now_price[i] : 1.0; /* unheld: any price will do */
        if (c->res.w[i] > 0 && !(c->now_price[i] > 0))
            rc = nq_err_set(err, NQ_EINVAL, "/latest_prices", "no price for '%s'",
                            r->u.names[i]);
    }
    if (!rc)
        rc = nq_pf_allocate(c->res.w, p, n, r->budget, &c->alloc, err);
    if (rc && !strcmp(err->where, "/budget"))
        rc = nq_err_set(err, rc, "/budget", "%.200s", err->msg);
    free(p);
    c->has_alloc = !rc;
    return rc;
}

/* ---- the answer --------------------------------------------------------------------- */

static json_t *frontier_json(run_ctx *c, nq_err *err)
{
    int32_t k = c->r->frontier_points, n = c->r->u.n;
    double *ret = malloc((size_t)k * sizeof *ret), *vol = malloc((size_t)k * sizeof *vol);
    json_t *a = NULL;
    nq_pf_spec s = c->spec;
    s.objective = NQ_PF_EFFICIENT_RETURN;
    s.max_assets = 0; /* the frontier of the continuous problem */
    s.min_weight = 0;
    if (ret && vol && nq_pf_frontier(&s, k, ret, vol, NULL, err) == NQ_OK) {
        a = json_array();
        for (int32_t i = 0; a && i < k; i++)
            json_array_append_new(a, json_pack("{s:f, s:f, s:f}", "expected_return", ret[i],
                                               "volatility", vol[i], "sharpe",
                                               vol[i] > 0 ? (ret[i] - s.rf) / vol[i] : 0.0));
    }
    (void)n;
    free(ret);
    free(vol);
    return a;
}

static json_t *allocation_json(run_ctx *c)
{
    const nq_goliath_universe *u = &c->r->u;
    json_t *shares = json_object();
    for (int32_t i = 0; shares && i < u->n; i++)
        if (c->alloc.shares[i] > 0)
            json_object_set_new(shares, u->names[i], json_integer(c->alloc.shares[i]));
    return json_pack("{s:o, s:f, s:f, s:f, s:f}", "shares", shares, "budget", c->r->budget,
                     "invested", c->alloc.invested, "leftover", c->alloc.leftover, "rmse",
                     c->alloc.rmse);
}

static json_t *orders_json(run_ctx *c, nq_err *err)
{
    int32_t n = c->r->u.n;
    int64_t *delta = malloc((size_t)n * sizeof *delta);
    double *value = malloc((size_t)n * sizeof *value), bought = 0, sold = 0;
    json_t *o = NULL;
    if (delta && value &&
        nq_pf_rebalance(c->r->holdings, c->alloc.shares, c->now_price, n, delta, value, &bought,
                        &sold, err) == NQ_OK) {
        json_t *list = json_array();
        for (int32_t i = 0; list && i < n; i++)
            if (delta[i] != 0)
                json_array_append_new(
                    list, json_pack("{s:s, s:s, s:I, s:f}", "asset", c->r->u.names[i], "side",
                                    delta[i] > 0 ? "buy" : "sell", "shares",
                                    (json_int_t)llabs(delta[i]), "value", fabs(value[i])));
        o = json_pack("{s:o, s:f, s:f}", "orders", list, "bought", bought, "sold", sold);
    }
    free(delta);
    free(value);
    return o;
}

static json_t *risk_json(run_ctx *c, nq_err *err)
{
    if (c->ret.t < 2)
        return json_null();
    double *pr = malloc((size_t)c->ret.t * sizeof *pr);
    int32_t t = 0;
    json_t *o = NULL;
    nq_pf_risk_opts ro;
    nq_pf_risk_opts_default(&ro);
    ro.rf = c->spec.rf;
    ro.frequency = c->spec.frequency;
    nq_pf_risk_report rep;
    if (pr && nq_pf_portfolio_returns(&c->ret, c->res.w, pr, &t, err) == NQ_OK) {
        if (t < 2)
            o = json_null(); /* no period where every asset had a price */
        else if (nq_pf_risk(pr, t, NULL, &ro, &rep, err) == NQ_OK)
            o = nq__gl_risk_json(&rep, ro.level);
    }
    free(pr);
    return o;
}

static json_t *explain(const run_ctx *c);

/* Attach v under key, or fail: a part that could not be made is an error
 * (err says why), never a silently missing field. */
static int attach(json_t *a, const char *key, json_t *v, int rc, nq_err *err)
{
    if (!v)
        return rc ? rc : nq_err_set(err, NQ_ENOMEM, NULL, "out of memory building the answer");
    return json_object_set_new(a, key, v) ? nq_err_set(err, NQ_ENOMEM, NULL, "out of memory")
                                           : NQ_OK;
}

static int answer_json(run_ctx *c, json_t **out, nq_err *err)
{
    const nq_goliath_universe *u = &c->r->u;
    static const char *const cov_names[] = {"sample", "ledoit_wolf", "exp", "semi"};
    nq_err_clear(err);
    json_t *a = json_pack(
        "{s:s, s:o, s:{s:f, s:f, s:f}, s:s, s:I, s:I, s:o, s:{s:s, s:b, s:f}}", "objective",
        nq_pf_objective_name(c->spec.objective), "weights", nq__gl_named(u, c->res.w),
        "performance", "expected_return", c->res.expected_return, "volatility",
        c->res.volatility, "sharpe", c->res.sharpe, "method", c->res.method, "iterations",
        (json_int_t)c->res.iterations, "held", (json_int_t)c->res.held, "expected_returns",
        nq__gl_named(u, c->mu), "risk_model", "method", cov_names[u->cov_opts.method], "repaired",
        c->repaired, "shrinkage", c->shrinkage);
    if (!a)
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory building the answer");
    int rc = NQ_OK;
    if (c->spec.objective == NQ_PF_MIN_CVAR)
        rc = attach(json_object_get(a, "performance"), "cvar", json_real(c->res.cvar), rc, err);
    if (!rc && c->spec.w0)
        rc = attach(a, "turnover", json_real(c->res.turnover), rc, err);
    if (!rc && (c->spec.max_assets > 0 || c->spec.min_weight > 0))
        rc = attach(a, "subsets_evaluated", json_integer(c->res.subsets), rc, err);
    if (!rc && c->r->frontier_points)
        rc = attach(a, "frontier", frontier_json(c, err), err->code, err);
    if (!rc && c->has_alloc)
        rc = attach(a, "allocation", allocation_json(c), rc, err);
    if (!rc && c->has_alloc && c->r->holdings)
        rc = attach(a, "rebalance", orders_json(c, err), err->code, err);
    if (!rc)
        rc = attach(a, "risk", risk_json(c, err), err->code, err);
    if (!rc)
        rc = attach(a, "explanation", explain(c), rc, err);
    if (rc)
        json_decref(a);
    else
        *out = a;
    return rc;
}

/* ---- the explanation ------------------------------------------------------------------ */

static const char *label(nq_pf_objective o)
{
    static const char *const names[NQ_PF_OBJECTIVES] = {
        "Minimum volatility", "Maximum Sharpe ratio",   "Efficient return",
        "Efficient risk",     "Maximum quadratic utility", "Minimum CVaR",
        "Risk parity",        "Hierarchical risk parity"};
    return (unsigned)o < NQ_PF_OBJECTIVES ? names[o] : "Portfolio";
}

/* The three largest weights, "MA 35.3%, FB 20.6%, PFE 19.6%". */
static void largest(const run_ctx *c, char *out, size_t cap)
{
    int32_t n = c->r->u.n, top[3] = {-1, -1, -1};
    for (int32_t i = 0; i < n; i++)
        for (int k = 0; k < 3; k++)
            if (c->res.w[i] > 0 && (top[k] < 0 || c->res.w[i] > c->res.w[top[k]])) {
                for (int m = 2; m > k; m--)
                    top[m] = top[m - 1];
                top[k] = i;
                break;
            }
    out[0] = '\0';
    for (int k = 0; k < 3 && top[k] >= 0; k++) {
        size_t len = strlen(out);
        snprintf(out + len, cap - len, "%s%.40s %.1f%%", k ? ", " : "", c->r->u.names[top[k]],
                 100 * c->res.w[top[k]]);
    }
}

static void explain_bounds(const run_ctx *c, json_t *list)
{
    char names[256] = "";
    int count = 0;
    for (int32_t i = 0; c->r->ub && i < c->r->u.n; i++)
        if (c->r->ub[i] < 1 && c->res.w[i] >= c->r->ub[i] - 1e-7) {
            size_t len = strlen(names);
            if (len < sizeof names - 48)
                snprintf(names + len, sizeof names - len, "%s%.40s", count ? ", " : "",
                         c->r->u.names[i]);
            count++;
        }
    if (count)
        nq_json_say(list, "%d asset(s) at their upper weight bound: %s.", count, names);
    for (int32_t s = 0; s < c->r->n_sectors; s++) {
        double sum = 0;
        for (int32_t i = 0; i < c->r->u.n; i++)
            sum += c->r->sector[i] == s ? c->res.w[i] : 0;
        if (!isnan(c->r->sector_max[s]) && sum >= c->r->sector_max[s] - 1e-7)
            nq_json_say(list, "Sector %s is at its cap of %.1f%%.", c->r->sector_names[s],
                100 * c->r->sector_max[s]);
        if (!isnan(c->r->sector_min[s]) && sum <= c->r->sector_min[s] + 1e-7)
            nq_json_say(list, "Sector %s is at its floor of %.1f%%.", c->r->sector_names[s],
                100 * c->r->sector_min[s]);
    }
}

static json_t *explain(const run_ctx *c)
{
    json_t *list = json_array();
    char top[256];
    largest(c, top, sizeof top);
    if (!list)
        return NULL;
    nq_json_say(list, "%s portfolio (%s): %d of %d assets held; largest %s.", label(c->spec.objective),
        c->res.method, (int)c->res.held, (int)c->r->u.n, top);
    nq_json_say(list, "Expected annual return %.2f%%, volatility %.2f%%, Sharpe ratio %.3f at a "
              "risk-free rate of %.2f%%.",
        100 * c->res.expected_return, 100 * c->res.volatility, c->res.sharpe, 100 * c->spec.rf);
    if (c->spec.objective == NQ_PF_MIN_CVAR)
        nq_json_say(list, "CVaR at %.0f%%: an average loss of %.3f%% per period in the worst %.0f%% of "
                  "%d periods.",
            100 * c->spec.beta, 100 * c->res.cvar, 100 * (1 - c->spec.beta), (int)c->scen.t);
    explain_bounds(c, list);
    if (c->spec.max_assets > 0 || c->spec.min_weight > 0)
        nq_json_say(list, "Cardinality: at most %d assets, each held at %.1f%% or more; the engine "
                  "searched the subsets, %lld of them solved exactly.",
            c->spec.max_assets > 0 ? (int)c->spec.max_assets : (int)c->r->u.n,
            100 * c->spec.min_weight, (long long)c->res.subsets);
    if (c->spec.w0)
        nq_json_say(list, "Turnover %.1f%% of the portfolio's value%s.", 100 * c->res.turnover,
            c->spec.max_turnover >= 0 ? " (within the limit)" : "");
    if (c->repaired)
        nq_json_say(list, "The covariance matrix was not positive semidefinite: its negative "
                  "eigenvalues were set to 0.");
    if (c->has_alloc)
        nq_json_say(list, "Whole shares for %.2f: %.2f invested, %.2f left in cash.", c->r->budget,
            c->alloc.invested, c->alloc.leftover);
    return list;
}

int nq_goliath_run(const nq_goliath_req *r, const atomic_int *cancel, json_t **answer,
                   nq_err *err)
{
    run_ctx c;
    memset(&c, 0, sizeof c);
    c.r = r;
    *answer = NULL;
    int rc = nq__gl_models(&r->u, &c.mu, &c.S, &c.repaired, &c.shrinkage, &c.ret, &c.scen, err);
    if (!rc)
        rc = prices_now(&c, err);
    if (!rc)
        rc = current_weights(&c, err);
    if (!rc) {
        fill_spec(&c, cancel);
        rc = nq_pf_optimize(&c.spec, &c.res, err);
        rename_field(err);
    }
    if (!rc)
        rc = allocate(&c, err);
    if (!rc)
        rc = answer_json(&c, answer, err);
    ctx_free(&c);
    return rc;
}
