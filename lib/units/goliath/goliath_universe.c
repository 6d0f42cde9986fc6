/* goliath_universe.c - the assets of a Goliath request and what is known of
 * them: a price table (CSV text or JSON rows) or expected returns and a
 * covariance given directly, and the models that turn prices into mu and S.
 * Every field is checked here so that a bad request is a 422 naming the
 * field, never a NaN in an answer. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "goliath_json.h"
#include "nqba/json.h"

void nq__gl_universe_free(nq_goliath_universe *u)
{
    if (!u)
        return;
    free(u->names);
    nq_prices_free(&u->prices);
    free(u->mu);
    free(u->S);
    memset(u, 0, sizeof *u);
}

int32_t nq__gl_asset(const nq_goliath_universe *u, const char *name)
{
    for (int32_t i = 0; i < u->n; i++)
        if (!strcmp(u->names[i], name))
            return i;
    return -1;
}

/* ---- price tables ------------------------------------------------------------ */

static int table_names(const json_t *assets, const char *ptr, nq_prices *p, nq_err *err)
{
    char at[NQ_JSON_PTR_MAX];
    for (size_t i = 0; i < json_array_size(assets); i++) {
        const json_t *v = json_array_get(assets, i);
        nq_json_ptr_index(at, ptr, i);
        if (!json_is_string(v) || json_string_length(v) == 0 ||
            json_string_length(v) >= NQ_PF_NAME_MAX)
            return nq_err_set(err, NQ_EINVAL, at, "an asset name: a string of 1..%d bytes",
                              NQ_PF_NAME_MAX - 1);
        memcpy(p->names[i], json_string_value(v), json_string_length(v) + 1);
    }
    return NQ_OK;
}

static int table_row(const json_t *row, const char *ptr, int32_t t, nq_prices *p, nq_err *err)
{
    char at[NQ_JSON_PTR_MAX], cell[NQ_JSON_PTR_MAX];
    nq_json_ptr_index(at, ptr, (size_t)t);
    if (!json_is_array(row) || json_array_size(row) != (size_t)p->n)
        return nq_err_set(err, NQ_EINVAL, at, "a row of %d prices (null when missing)",
                          (int)p->n);
    for (int32_t i = 0; i < p->n; i++) {
        const json_t *v = json_array_get(row, (size_t)i);
        double x = NAN;
        nq_json_ptr_index(cell, at, (size_t)i);
        if (!json_is_null(v) && nq_json_as_number(v, cell, &x, err))
            return NQ_EINVAL;
        p->p[(size_t)t * p->n + i] = x;
    }
    return NQ_OK;
}

int nq__gl_price_table(const json_t *v, const char *ptr, nq_prices *out, nq_err *err)
{
    static const char *const keys[] = {"assets", "dates", "rows", NULL};
    char at[NQ_JSON_PTR_MAX];
    json_t *assets = NULL, *dates = NULL, *rows = NULL;
    memset(out, 0, sizeof *out);
    if (!json_is_object(v))
        return nq_err_set(err, NQ_EINVAL, ptr, "expected an object {assets, dates, rows}");
    int rc = nq_json_check_keys(v, ptr, keys, err);
    if (!rc)
        rc = nq_json_get_typed(v, ptr, "assets", 1, JSON_ARRAY, &assets, err);
    if (!rc)
        rc = nq_json_get_typed(v, ptr, "rows", 1, JSON_ARRAY, &rows, err);
    if (!rc)
        rc = nq_json_get_typed(v, ptr, "dates", 0, JSON_ARRAY, &dates, err);
    if (rc)
        return rc;
    size_t n = json_array_size(assets), t = json_array_size(rows);
    nq_json_ptr_key(at, ptr, "rows");
    if (n < 1 || n > NQ_PF_MAX_ASSETS || t > NQ_PF_MAX_ROWS || n * t > NQ_PF_MAX_CELLS)
        return nq_err_set(err, NQ_ELIMIT, at, "1..%d assets, at most %d rows and %d prices",
                          NQ_PF_MAX_ASSETS, NQ_PF_MAX_ROWS, NQ_PF_MAX_CELLS);
    if (dates && json_array_size(dates) != t)
        return nq_err_set(err, NQ_EINVAL, ptr, "dates: %zu, rows: %zu; one date per row",
                          json_array_size(dates), t);
    if ((rc = nq_prices_alloc(out, (int32_t)n, (int32_t)t, err)))
        return rc;
    nq_json_ptr_key(at, ptr, "assets");
    rc = table_names(assets, at, out, err);
    nq_json_ptr_key(at, ptr, "rows");
    for (size_t r = 0; !rc && r < t; r++)
        rc = table_row(json_array_get(rows, r), at, (int32_t)r, out, err);
    for (size_t r = 0; !rc && dates && r < t; r++) {
        const char *d = json_string_value(json_array_get(dates, r));
        if (d && strlen(d) < NQ_PF_DATE_MAX)
            memcpy(out->dates[r], d, strlen(d) + 1);
        else
            rc = nq_err_set(err, NQ_EINVAL, ptr, "dates/%zu: a string under %d bytes", r,
                            NQ_PF_DATE_MAX);
    }
    if (rc)
        nq_prices_free(out);
    return rc;
}

/* ---- the universe ------------------------------------------------------------- */

static int from_prices(const json_t *doc, nq_goliath_universe *u, nq_err *err)
{
    const json_t *csv = json_object_get(doc, "prices_csv"), *tab = json_object_get(doc, "prices");
    int rc;
    if (csv && tab)
        return nq_err_set(err, NQ_EINVAL, "/prices", "give prices_csv or prices, not both");
    if (csv) {
        if (!json_is_string(csv))
            return nq_err_set(err, NQ_EINVAL, "/prices_csv", "expected CSV text");
        if (json_string_length(csv) > NQ_GOLIATH_CSV_MAX)
            return nq_err_set(err, NQ_ELIMIT, "/prices_csv", "over %u bytes", NQ_GOLIATH_CSV_MAX);
        rc = nq_prices_parse_csv(json_string_value(csv), json_string_length(csv), "/prices_csv",
                                 &u->prices, err);
    } else {
        rc = nq__gl_price_table(tab, "/prices", &u->prices, err);
    }
    if (!rc)
        rc = nq_prices_check(&u->prices, csv ? "/prices_csv" : "/prices", err);
    if (rc)
        return rc;
    u->n = u->prices.n;
    u->names = malloc((size_t)u->n * sizeof *u->names);
    if (!u->names)
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    memcpy(u->names, u->prices.names, (size_t)u->n * sizeof *u->names);
    return NQ_OK;
}

static int read_cov(const json_t *cov, nq_goliath_universe *u, nq_err *err)
{
    char row_at[NQ_JSON_PTR_MAX], at[NQ_JSON_PTR_MAX];
    int32_t n = u->n;
    if (!json_is_array(cov) || json_array_size(cov) != (size_t)n)
        return nq_err_set(err, NQ_EINVAL, "/cov_matrix", "an n x n array (n = %d assets)", (int)n);
    if (!(u->S = malloc((size_t)n * n * sizeof *u->S)))
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    for (int32_t i = 0; i < n; i++) {
        const json_t *row = json_array_get(cov, (size_t)i);
        nq_json_ptr_index(row_at, "/cov_matrix", (size_t)i);
        if (!json_is_array(row) || json_array_size(row) != (size_t)n)
            return nq_err_set(err, NQ_EINVAL, row_at, "a row of %d numbers", (int)n);
        for (int32_t j = 0; j < n; j++) {
            nq_json_ptr_index(at, row_at, (size_t)j);
            if (nq_json_as_number(json_array_get(row, (size_t)j), at, &u->S[(size_t)i * n + j],
                                  err))
                return NQ_EINVAL;
        }
    }
    for (int32_t i = 0; i < n; i++) {
        double d = u->S[(size_t)i * n + i];
        nq_json_ptr_index(row_at, "/cov_matrix", (size_t)i);
        nq_json_ptr_index(at, row_at, (size_t)i);
        if (d < 0)
            return nq_err_set(err, NQ_EINVAL, at, "a variance cannot be negative");
        for (int32_t j = 0; j < i; j++) {
            double a = u->S[(size_t)i * n + j], b = u->S[(size_t)j * n + i];
            if (fabs(a - b) > 1e-10 * fmax(1.0, fmax(fabs(a), fabs(b))))
                return nq_err_set(err, NQ_EINVAL, row_at, "the matrix must be symmetric");
        }
    }
    return NQ_OK;
}

static int from_moments(const json_t *doc, nq_goliath_universe *u, nq_err *err)
{
    json_t *assets = NULL;
    int rc = nq_json_get_typed(doc, "", "assets", 1, JSON_ARRAY, &assets, err);
    if (rc)
        return nq_err_set(err, NQ_EINVAL, "/prices_csv",
                          "give prices (prices_csv or prices), or assets, expected_returns and "
                          "cov_matrix");
    size_t n = json_array_size(assets);
    if (n < 1 || n > NQ_PF_MAX_ASSETS)
        return nq_err_set(err, NQ_ELIMIT, "/assets", "1..%d assets", NQ_PF_MAX_ASSETS);
    u->n = (int32_t)n;
    if (!(u->names = calloc(n, sizeof *u->names)))
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    char at[NQ_JSON_PTR_MAX];
    for (size_t i = 0; i < n; i++) {
        const json_t *v = json_array_get(assets, i);
        nq_json_ptr_index(at, "/assets", i);
        if (!json_is_string(v) || !json_string_length(v) ||
            json_string_length(v) >= NQ_PF_NAME_MAX)
            return nq_err_set(err, NQ_EINVAL, at, "a name of 1..%d bytes", NQ_PF_NAME_MAX - 1);
        if (nq__gl_asset(u, json_string_value(v)) >= 0)
            return nq_err_set(err, NQ_EINVAL, at, "'%s' is listed twice", json_string_value(v));
        memcpy(u->names[i], json_string_value(v), json_string_length(v) + 1);
    }
    if (!json_object_get(doc, "expected_returns"))
        return nq_err_set(err, NQ_EINVAL, "/expected_returns", "is required with assets");
    rc = nq__gl_per_asset(doc, "expected_returns", u, NAN, -10, 10, &u->mu, err);
    for (int32_t i = 0; !rc && i < u->n; i++)
        if (isnan(u->mu[i]))
            rc = nq_err_set(err, NQ_EINVAL, "/expected_returns", "no value for '%s'",
                            u->names[i]);
    return rc ? rc : read_cov(json_object_get(doc, "cov_matrix"), u, err);
}

/* ---- models ---------------------------------------------------------------------- */

static int pick(const char *v, const char *const *names, int *out)
{
    for (int i = 0; names[i]; i++)
        if (!strcmp(v, names[i])) {
            *out = i;
            return 1;
        }
    return 0;
}

static int returns_model(const json_t *doc, nq_goliath_universe *u, nq_err *err)
{
    static const char *const keys[] = {"method", "compounding", "span", NULL};
    static const char *const methods[] = {"mean", "ema", NULL};
    json_t *m = NULL;
    const char *name = NULL;
    int rc = nq_json_get_typed(doc, "", "returns_model", 0, JSON_OBJECT, &m, err);
    if (rc || !m)
        return rc;
    if ((rc = nq_json_check_keys(m, "/returns_model", keys, err)) ||
        (rc = nq_json_get_string(m, "/returns_model", "method", 0, 16, &name, err)) ||
        (rc = nq_json_get_bool(m, "/returns_model", "compounding", 0, &u->mu_opts.compounding,
                               err)) ||
        (rc = nq_json_get_number(m, "/returns_model", "span", 0, &u->mu_opts.span, err)))
        return rc;
    int which = 0;
    if (name && !pick(name, methods, &which))
        return nq_err_set(err, NQ_EINVAL, "/returns_model/method", "mean or ema");
    u->mu_opts.method = which ? NQ_MU_EMA : NQ_MU_MEAN;
    if (!(u->mu_opts.span >= 1 && u->mu_opts.span <= 1e6))
        return nq_err_set(err, NQ_EINVAL, "/returns_model/span", "1 to 1,000,000 periods");
    return NQ_OK;
}

static int risk_model(const json_t *doc, nq_goliath_universe *u, nq_err *err)
{
    static const char *const keys[] = {"method", "span", "benchmark", NULL};
    static const char *const methods[] = {"sample", "ledoit_wolf", "exp", "semi", NULL};
    json_t *m = NULL;
    const char *name = NULL;
    int rc = nq_json_get_typed(doc, "", "risk_model", 0, JSON_OBJECT, &m, err);
    if (rc || !m)
        return rc;
    if ((rc = nq_json_check_keys(m, "/risk_model", keys, err)) ||
        (rc = nq_json_get_string(m, "/risk_model", "method", 0, 16, &name, err)) ||
        (rc = nq_json_get_number(m, "/risk_model", "span", 0, &u->cov_opts.span, err)) ||
        (rc = nq_json_get_number(m, "/risk_model", "benchmark", 0, &u->cov_opts.benchmark,
                                 err)))
        return rc;
    int which = 0;
    if (name && !pick(name, methods, &which))
        return nq_err_set(err, NQ_EINVAL, "/risk_model/method",
                          "sample, ledoit_wolf, exp or semi");
    u->cov_opts.method = (nq_cov_method)which;
    if (!(u->cov_opts.span >= 1 && u->cov_opts.span <= 1e6))
        return nq_err_set(err, NQ_EINVAL, "/risk_model/span", "1 to 1,000,000 periods");
    if (!(fabs(u->cov_opts.benchmark) < 1))
        return nq_err_set(err, NQ_EINVAL, "/risk_model/benchmark", "a return per period");
    return NQ_OK;
}

int nq__gl_universe(const json_t *doc, int need_prices, nq_goliath_universe *u, nq_err *err)
{
    memset(u, 0, sizeof *u);
    nq_mu_opts_default(&u->mu_opts);
    nq_cov_opts_default(&u->cov_opts);
    int has_prices = json_object_get(doc, "prices_csv") || json_object_get(doc, "prices");
    int rc;
    if (has_prices && (json_object_get(doc, "expected_returns") ||
                       json_object_get(doc, "cov_matrix") || json_object_get(doc, "assets")))
        rc = nq_err_set(err, NQ_EINVAL, "/expected_returns",
                        "give prices, or assets with expected_returns and cov_matrix, not both");
    else if (has_prices)
        rc = from_prices(doc, u, err);
    else if (need_prices)
        rc = nq_err_set(err, NQ_EINVAL, "/prices_csv", "prices are required (prices_csv or prices)");
    else
        rc = from_moments(doc, u, err);
    int64_t f = NQ_PF_FREQUENCY;
    if (!rc)
        rc = nq_json_get_int(doc, "", "frequency", 0, 1, 100000, &f, err);
    u->mu_opts.frequency = u->cov_opts.frequency = (int32_t)f;
    if (!rc)
        rc = returns_model(doc, u, err);
    if (!rc)
        rc = risk_model(doc, u, err);
    if (rc)
        nq__gl_universe_free(u);
    return rc;
}

/* ---- per-asset values ----------------------------------------------------------------- */

static int check_value(double x, double lo, double hi, const char *at, nq_err *err)
{
    if (x < lo || x > hi)
        return nq_err_set(err, NQ_EINVAL, at, "must be within [%g, %g]", lo, hi);
    return NQ_OK;
}

int nq__gl_per_asset(const json_t *doc, const char *key, const nq_goliath_universe *u,
                     double dflt, double lo, double hi, double **out, nq_err *err)
{
    *out = NULL;
    const json_t *v = json_object_get(doc, key);
    char ptr[NQ_JSON_PTR_MAX], at[NQ_JSON_PTR_MAX];
    nq_json_ptr_key(ptr, "", key);
    if (!v)
        return NQ_OK;
    if (!json_is_array(v) && !json_is_object(v))
        return nq_err_set(err, NQ_EINVAL, ptr, "an array of %d numbers or {asset: number}",
                          (int)u->n);
    if (json_is_array(v) && json_array_size(v) != (size_t)u->n)
        return nq_err_set(err, NQ_EINVAL, ptr, "%zu values for %d assets", json_array_size(v),
                          (int)u->n);
    double *x = malloc((size_t)u->n * sizeof *x);
    if (!x)
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    for (int32_t i = 0; i < u->n; i++)
        x[i] = dflt;
    int rc = NQ_OK;
    const char *name;
    const json_t *item;
    size_t idx;
    if (json_is_array(v)) {
        json_array_foreach(v, idx, item) {
            nq_json_ptr_index(at, ptr, idx);
            if ((rc = nq_json_as_number(item, at, &x[idx], err)) ||
                (rc = check_value(x[idx], lo, hi, at, err)))
                break;
        }
    } else {
        json_object_foreach((json_t *)v, name, item) {
            nq_json_ptr_key(at, ptr, name);
            int32_t i = nq__gl_asset(u, name);
            if (i < 0) {
                rc = nq_err_set(err, NQ_EINVAL, at, "'%s' is not one of the assets", name);
                break;
            }
            if ((rc = nq_json_as_number(item, at, &x[i], err)) ||
                (rc = check_value(x[i], lo, hi, at, err)))
                break;
        }
    }
    if (rc) {
        free(x);
        return rc;
    }
    *out = x;
    return NQ_OK;
}
