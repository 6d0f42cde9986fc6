/* goliath_parse.c - a portfolio-optimization request, checked field by
 * field (docs/api/portfolio.md). What depends on the data (a target return
 * no portfolio reaches, bounds that cannot sum to 1) is found by the
 * optimizer and reported against the same field names. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "goliath_json.h"
#include "nqba/json.h"

void nq_goliath_req_free(nq_goliath_req *req)
{
    if (!req)
        return;
    nq__gl_universe_free(&req->u);
    free(req->lb);
    free(req->ub);
    free(req->sector_names);
    free(req->sector);
    free(req->sector_min);
    free(req->sector_max);
    free(req->holdings);
    free(req->latest);
    memset(req, 0, sizeof *req);
}

/* ---- weight bounds: [lo, hi] for all, or {asset: [lo, hi]} ---------------------- */

static int bound_pair(const json_t *v, const char *at, double *lo, double *hi, nq_err *err)
{
    if (!json_is_array(v) || json_array_size(v) != 2)
        return nq_err_set(err, NQ_EINVAL, at, "expected [lower, upper]");
    char p0[NQ_JSON_PTR_MAX], p1[NQ_JSON_PTR_MAX];
    nq_json_ptr_index(p0, at, 0);
    nq_json_ptr_index(p1, at, 1);
    if (nq_json_as_number(json_array_get(v, 0), p0, lo, err) ||
        nq_json_as_number(json_array_get(v, 1), p1, hi, err))
        return NQ_EINVAL;
    if (*lo < -1 || *hi > 1 || *lo > *hi)
        return nq_err_set(err, NQ_EINVAL, at, "need -1 <= lower <= upper <= 1");
    return NQ_OK;
}

static int weight_bounds(const json_t *doc, nq_goliath_req *r, nq_err *err)
{
    const json_t *v = json_object_get(doc, "weight_bounds");
    if (!v)
        return NQ_OK;
    int32_t n = r->u.n;
    r->lb = malloc((size_t)n * sizeof *r->lb);
    r->ub = malloc((size_t)n * sizeof *r->ub);
    if (!r->lb || !r->ub)
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    double lo = 0, hi = 1;
    if (json_is_array(v)) {
        int rc = bound_pair(v, "/weight_bounds", &lo, &hi, err);
        for (int32_t i = 0; !rc && i < n; i++) {
            r->lb[i] = lo;
            r->ub[i] = hi;
        }
        return rc;
    }
    if (!json_is_object(v))
        return nq_err_set(err, NQ_EINVAL, "/weight_bounds",
                          "expected [lower, upper] or {asset: [lower, upper]}");
    for (int32_t i = 0; i < n; i++) {
        r->lb[i] = 0;
        r->ub[i] = 1;
    }
    const char *name;
    const json_t *item;
    char at[NQ_JSON_PTR_MAX];
    json_object_foreach((json_t *)v, name, item) {
        nq_json_ptr_key(at, "/weight_bounds", name);
        int32_t i = nq__gl_asset(&r->u, name);
        if (i < 0)
            return nq_err_set(err, NQ_EINVAL, at, "'%s' is not one of the assets", name);
        if (bound_pair(item, at, &r->lb[i], &r->ub[i], err))
            return NQ_EINVAL;
    }
    return NQ_OK;
}

/* ---- sectors: {asset: sector}, caps and floors {sector: weight} ------------------ */

static int sector_index(nq_goliath_req *r, const char *name)
{
    for (int32_t s = 0; s < r->n_sectors; s++)
        if (!strcmp(r->sector_names[s], name))
            return s;
    return -1;
}

static int sector_map(const json_t *map, nq_goliath_req *r, nq_err *err)
{
    int32_t n = r->u.n;
    r->sector = malloc((size_t)n * sizeof *r->sector);
    r->sector_names = calloc(NQ_PF_MAX_SECTORS, sizeof *r->sector_names);
    if (!r->sector || !r->sector_names)
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    for (int32_t i = 0; i < n; i++)
        r->sector[i] = -1;
    const char *name;
    const json_t *item;
    char at[NQ_JSON_PTR_MAX];
    json_object_foreach((json_t *)map, name, item) {
        nq_json_ptr_key(at, "/sectors", name);
        int32_t i = nq__gl_asset(&r->u, name);
        if (i < 0)
            return nq_err_set(err, NQ_EINVAL, at, "'%s' is not one of the assets", name);
        const char *sec = json_string_value(item);
        if (!sec || !sec[0] || strlen(sec) >= NQ_PF_NAME_MAX)
            return nq_err_set(err, NQ_EINVAL, at, "a sector name of 1..%d bytes",
                              NQ_PF_NAME_MAX - 1);
        int s = sector_index(r, sec);
        if (s < 0) {
            if (r->n_sectors == NQ_PF_MAX_SECTORS)
                return nq_err_set(err, NQ_ELIMIT, at, "at most %d sectors", NQ_PF_MAX_SECTORS);
            s = r->n_sectors++;
            memcpy(r->sector_names[s], sec, strlen(sec) + 1);
        }
        r->sector[i] = s;
    }
    return NQ_OK;
}

static int sector_limits(const json_t *doc, const char *key, nq_goliath_req *r, double *out,
                         nq_err *err)
{
    const json_t *v = json_object_get(doc, key);
    char ptr[NQ_JSON_PTR_MAX], at[NQ_JSON_PTR_MAX];
    nq_json_ptr_key(ptr, "", key);
    if (!v)
        return NQ_OK;
    if (!json_is_object(v))
        return nq_err_set(err, NQ_EINVAL, ptr, "expected {sector: weight}");
    const char *name;
    const json_t *item;
    json_object_foreach((json_t *)v, name, item) {
        nq_json_ptr_key(at, ptr, name);
        int s = sector_index(r, name);
        if (s < 0)
            return nq_err_set(err, NQ_EINVAL, at, "'%s' is not a sector named in /sectors", name);
        if (nq_json_as_number(item, at, &out[s], err))
            return NQ_EINVAL;
        if (out[s] < 0 || out[s] > 1)
            return nq_err_set(err, NQ_EINVAL, at, "a weight in [0, 1]");
    }
    return NQ_OK;
}

static int sectors(const json_t *doc, nq_goliath_req *r, nq_err *err)
{
    json_t *map = NULL;
    int rc = nq_json_get_typed(doc, "", "sectors", 0, JSON_OBJECT, &map, err);
    if (rc)
        return rc;
    if (!map) {
        if (json_object_get(doc, "sector_caps") || json_object_get(doc, "sector_floors"))
            return nq_err_set(err, NQ_EINVAL, "/sectors", "sector caps need the sector map");
        return NQ_OK;
    }
    if ((rc = sector_map(map, r, err)))
        return rc;
    r->sector_min = malloc(NQ_PF_MAX_SECTORS * sizeof *r->sector_min);
    r->sector_max = malloc(NQ_PF_MAX_SECTORS * sizeof *r->sector_max);
    if (!r->sector_min || !r->sector_max)
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    for (int s = 0; s < NQ_PF_MAX_SECTORS; s++)
        r->sector_min[s] = r->sector_max[s] = NAN;
    if ((rc = sector_limits(doc, "sector_caps", r, r->sector_max, err)) ||
        (rc = sector_limits(doc, "sector_floors", r, r->sector_min, err)))
        return rc;
    return NQ_OK;
}

/* ---- holdings, prices, scalars ---------------------------------------------------- */

static int holdings(const json_t *doc, nq_goliath_req *r, nq_err *err)
{
    double *h = NULL;
    int rc = nq__gl_per_asset(doc, "holdings", &r->u, 0, 0, 1e12, &h, err);
    if (rc || !h)
        return rc;
    r->holdings = malloc((size_t)r->u.n * sizeof *r->holdings);
    for (int32_t i = 0; !rc && r->holdings && i < r->u.n; i++) {
        if (h[i] != floor(h[i]))
            rc = nq_err_set(err, NQ_EINVAL, "/holdings", "'%s': whole shares", r->u.names[i]);
        r->holdings[i] = (int64_t)h[i];
    }
    free(h);
    if (!rc && !r->holdings)
        rc = nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    return rc;
}

static int scalars(const json_t *doc, nq_goliath_req *r, nq_err *err)
{
    nq_pf_spec *s = &r->spec;
    double turnover = -1;
    int64_t k = 0, points = 0;
    int rc;
    if ((rc = nq_json_get_number(doc, "", "risk_free_rate", 0, &s->rf, err)) ||
        (rc = nq_json_get_number(doc, "", "target_return", 0, &s->target_return, err)) ||
        (rc = nq_json_get_number(doc, "", "target_volatility", 0, &s->target_volatility, err)) ||
        (rc = nq_json_get_number(doc, "", "risk_aversion", 0, &s->risk_aversion, err)) ||
        (rc = nq_json_get_number(doc, "", "beta", 0, &s->beta, err)) ||
        (rc = nq_json_get_number(doc, "", "max_turnover", 0, &turnover, err)) ||
        (rc = nq_json_get_number(doc, "", "transaction_cost", 0, &s->cost, err)) ||
        (rc = nq_json_get_number(doc, "", "min_weight", 0, &s->min_weight, err)) ||
        (rc = nq_json_get_number(doc, "", "budget", 0, &r->budget, err)) ||
        (rc = nq_json_get_int(doc, "", "max_assets", 0, 1, NQ_PF_MAX_ASSETS, &k, err)) ||
        (rc = nq_json_get_int(doc, "", "frontier_points", 0, 2, NQ_PF_MAX_FRONTIER, &points,
                              err)))
        return rc;
    s->max_turnover = json_object_get(doc, "max_turnover") ? turnover : -1;
    s->max_assets = (int32_t)k;
    r->frontier_points = (int32_t)points;
    if (fabs(s->rf) > 1)
        return nq_err_set(err, NQ_EINVAL, "/risk_free_rate", "an annual rate within [-1, 1]");
    if (!(s->risk_aversion > 0 && s->risk_aversion <= 1e6))
        return nq_err_set(err, NQ_EINVAL, "/risk_aversion", "must be > 0");
    if (!(s->beta > 0 && s->beta < 1))
        return nq_err_set(err, NQ_EINVAL, "/beta", "a confidence level in (0, 1)");
    if (json_object_get(doc, "max_turnover") && !(turnover >= 0 && turnover <= 2))
        return nq_err_set(err, NQ_EINVAL, "/max_turnover", "within [0, 2]");
    if (!(s->cost >= 0 && s->cost < 1))
        return nq_err_set(err, NQ_EINVAL, "/transaction_cost", "a fraction in [0, 1)");
    if (!(s->min_weight >= 0 && s->min_weight <= 1))
        return nq_err_set(err, NQ_EINVAL, "/min_weight", "within [0, 1]");
    if (!(r->budget >= 0 && r->budget <= 1e15))
        return nq_err_set(err, NQ_EINVAL, "/budget", "a non-negative amount");
    if (k > r->u.n)
        return nq_err_set(err, NQ_EINVAL, "/max_assets", "%lld, but there are only %d assets",
                          (long long)k, (int)r->u.n);
    return NQ_OK;
}

static int objective(const json_t *doc, nq_goliath_req *r, nq_err *err)
{
    const char *name = NULL;
    int rc = nq_json_get_string(doc, "", "objective", 0, 32, &name, err);
    if (rc || !name)
        return rc;
    if (nq_pf_objective_parse(name, &r->spec.objective) != NQ_OK)
        return nq_err_set(err, NQ_EINVAL, "/objective",
                          "one of min_volatility, max_sharpe, efficient_return, efficient_risk, "
                          "max_quadratic_utility, min_cvar, risk_parity, hrp");
    nq_pf_objective o = r->spec.objective;
    if (o == NQ_PF_EFFICIENT_RETURN && !json_object_get(doc, "target_return"))
        return nq_err_set(err, NQ_EINVAL, "/target_return", "efficient_return needs it");
    if (o == NQ_PF_EFFICIENT_RISK && !json_object_get(doc, "target_volatility"))
        return nq_err_set(err, NQ_EINVAL, "/target_volatility", "efficient_risk needs it");
    if ((o == NQ_PF_MIN_CVAR) && r->u.prices.t == 0)
        return nq_err_set(err, NQ_EINVAL, "/objective", "min_cvar needs prices (scenarios)");
    return NQ_OK;
}

static int options(const json_t *doc, nq_goliath_req *r, nq_err *err)
{
    static const char *const keys[] = {"seed", "time_limit", NULL};
    json_t *o = NULL;
    int64_t seed = 1;
    int rc = nq_json_get_typed(doc, "", "options", 0, JSON_OBJECT, &o, err);
    if (rc || !o)
        return rc;
    if ((rc = nq_json_check_keys(o, "/options", keys, err)) ||
        (rc = nq_json_get_int(o, "/options", "seed", 0, 0, INT64_MAX, &seed, err)) ||
        (rc = nq_json_get_number(o, "/options", "time_limit", 0, &r->spec.time_limit, err)))
        return rc;
    r->spec.seed = (uint64_t)seed;
    if (!(r->spec.time_limit >= 0 && r->spec.time_limit <= 3600))
        return nq_err_set(err, NQ_EINVAL, "/options/time_limit", "0 to 3600 seconds");
    return NQ_OK;
}

int nq_goliath_parse(const json_t *doc, nq_goliath_req *r, nq_err *err)
{
    static const char *const keys[] = {
        "name",          "prices_csv",      "prices",         "assets",        "expected_returns",
        "cov_matrix",    "returns_model",   "risk_model",     "frequency",     "objective",
        "risk_free_rate", "target_return",  "target_volatility", "risk_aversion", "beta",
        "weight_bounds", "sectors",         "sector_caps",    "sector_floors", "holdings",
        "latest_prices", "budget",          "max_turnover",   "transaction_cost", "max_assets",
        "min_weight",    "frontier_points", "risk_tolerance", "options",       NULL};
    memset(r, 0, sizeof *r);
    nq_pf_spec_default(&r->spec);
    if (!json_is_object(doc))
        return nq_err_set(err, NQ_EINVAL, "", "expected an object, got %s",
                          nq_json_type_name(doc));
    const char *tol = NULL;
    int rc = nq_json_check_keys(doc, "", keys, err);
    if (!rc)
        rc = nq_json_get_string(doc, "", "risk_tolerance", 0, 32, &tol, err);
    if (!rc)
        rc = nq_json_get_string(doc, "", "name", 0, 256, &tol, err);
    if (!rc)
        rc = nq__gl_universe(doc, 0, &r->u, err);
    if (!rc)
        rc = objective(doc, r, err);
    if (!rc)
        rc = scalars(doc, r, err);
    if (!rc)
        rc = weight_bounds(doc, r, err);
    if (!rc)
        rc = sectors(doc, r, err);
    if (!rc)
        rc = holdings(doc, r, err);
    if (!rc)
        rc = nq__gl_per_asset(doc, "latest_prices", &r->u, NAN, 1e-9, 1e12, &r->latest, err);
    if (!rc)
        rc = options(doc, r, err);
    if (!rc && r->holdings && !r->latest && r->u.prices.t == 0)
        rc = nq_err_set(err, NQ_EINVAL, "/latest_prices", "holdings need prices to value them");
    if (!rc && r->budget > 0 && !r->latest && r->u.prices.t == 0)
        rc = nq_err_set(err, NQ_EINVAL, "/latest_prices", "a budget needs prices per share");
    if (rc)
        nq_goliath_req_free(r);
    return rc;
}
