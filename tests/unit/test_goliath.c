/* test_goliath.c - the Goliath Trade unit end to end (JSON request in,
 * answer out) on the PyPortfolioOpt stock prices, against the independent
 * references in ../shared/data/portfolio (reference_results.json,
 * pypfopt_weights_hrp.csv): min volatility, max Sharpe, efficient return,
 * min CVaR, HRP, the equal-weight VaR/CVaR; cardinality: the engine's
 * answer equals the exhaustive best over every 5-of-20 subset. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h> /* after the headers it needs */

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nqba/goliath.h"
#include "data_file.h"
#include "nqba/portfolio.h"

static char *g_csv;
static json_t *g_ref; /* reference_results.json: pypfopt_dataset */

static char *slurp(const char *name)
{
    return data_file("portfolio", name, NULL);
}

static int setup(void **state)
{
    (void)state;
    g_csv = slurp("pypfopt_stock_prices.csv");
    char *ref = slurp("reference_results.json");
    json_t *all = ref ? json_loads(ref, 0, NULL) : NULL;
    free(ref);
    g_ref = json_incref(json_object_get(all, "pypfopt_dataset"));
    json_decref(all);
    return g_csv && g_ref ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    free(g_csv);
    json_decref(g_ref);
    return 0;
}

/* Every real in the answer is finite (jansson cannot even hold NaN, but an
 * absent member would hide one). */
static void expect_finite(const json_t *v)
{
    size_t i;
    const char *k;
    json_t *x;
    if (json_is_real(v))
        assert_true(isfinite(json_real_value(v)));
    else if (json_is_array(v))
        json_array_foreach((json_t *)v, i, x) expect_finite(x);
    else if (json_is_object(v))
        json_object_foreach((json_t *)v, k, x) expect_finite(x);
}

/* Run a portfolio request: the price CSV plus the members of `extra`. */
static json_t *optimize(const char *extra)
{
    json_t *doc = json_loads(extra, 0, NULL);
    assert_non_null(doc);
    json_object_set_new(doc, "prices_csv", json_string(g_csv));
    nq_goliath_req r;
    nq_err err;
    int rc = nq_goliath_parse(doc, &r, &err);
    if (rc)
        print_message("parse: %s: %s\n", err.where, err.msg);
    assert_int_equal(rc, NQ_OK);
    json_t *ans = NULL;
    rc = nq_goliath_run(&r, NULL, &ans, &err);
    if (rc)
        print_message("run: %s: %s\n", err.where, err.msg);
    assert_int_equal(rc, NQ_OK);
    nq_goliath_req_free(&r);
    json_decref(doc);
    expect_finite(ans);
    return ans;
}

static double num(const json_t *o, const char *a, const char *b)
{
    const json_t *v = json_object_get(o, a);
    if (b)
        v = json_object_get(v, b);
    assert_true(json_is_number(v));
    return json_number_value(v);
}

static void expect_close(double got, double want, double tol, const char *what)
{
    if (!(fabs(got - want) <= tol))
        print_message("%s: got %.12g, want %.12g (tolerance %g)\n", what, got, want, tol);
    assert_true(fabs(got - want) <= tol);
}

static void expect_weights(const json_t *got, const json_t *want, double tol)
{
    const char *name;
    json_t *w;
    assert_int_equal(json_object_size(got), json_object_size(want));
    json_object_foreach((json_t *)want, name, w) expect_close(
        json_number_value(json_object_get(got, name)), json_number_value(w), tol, name);
}

static void check_reference(const char *extra, const char *ref_key)
{
    json_t *ans = optimize(extra), *ref = json_object_get(g_ref, ref_key);
    assert_non_null(ref);
    expect_close(num(ans, "performance", "expected_return"), num(ref, "annual_return", NULL), 1e-6,
                 "return");
    expect_close(num(ans, "performance", "volatility"), num(ref, "annual_volatility", NULL), 1e-6,
                 "volatility");
    expect_close(num(ans, "performance", "sharpe"), num(ref, "sharpe", NULL), 1e-6, "sharpe");
    expect_weights(json_object_get(ans, "weights"), json_object_get(ref, "weights"), 1e-4);
    json_decref(ans);
}

static void test_min_volatility(void **state)
{
    (void)state;
    check_reference("{\"objective\": \"min_volatility\"}", "min_volatility");
}

static void test_max_sharpe(void **state)
{
    (void)state;
    check_reference("{\"objective\": \"max_sharpe\", \"risk_free_rate\": 0.02}",
                    "max_sharpe_rf_0.02");
}

static void test_efficient_return(void **state)
{
    (void)state;
    check_reference("{\"objective\": \"efficient_return\", \"target_return\": 0.20}",
                    "efficient_return_0.20");
    check_reference("{\"objective\": \"efficient_return\", \"target_return\": 0.25}",
                    "efficient_return_0.25");
}

static void test_min_cvar(void **state)
{
    (void)state;
    json_t *ans = optimize("{\"objective\": \"min_cvar\", \"beta\": 0.95}");
    json_t *ref = json_object_get(g_ref, "min_cvar_0.95_lp");
    expect_close(num(ans, "performance", "expected_return"), num(ref, "annual_return", NULL), 1e-5,
                 "return");
    expect_close(num(ans, "performance", "cvar"), num(ref, "cvar_daily", NULL), 1e-5, "cvar");
    json_decref(ans);
}

static void test_hrp(void **state)
{
    (void)state;
    json_t *ans = optimize("{\"objective\": \"hrp\"}");
    char *ref = slurp("pypfopt_weights_hrp.csv");
    assert_non_null(ref);
    const json_t *w = json_object_get(ans, "weights");
    int rows = 0;
    for (char *line = strtok(ref, "\n"); line; line = strtok(NULL, "\n")) {
        char *comma = strchr(line, ',');
        if (!comma || !strcmp(line, ",0"))
            continue;
        *comma = '\0';
        expect_close(json_number_value(json_object_get(w, line)), strtod(comma + 1, NULL), 1e-6,
                     line);
        rows++;
    }
    assert_int_equal(rows, 20);
    free(ref);
    json_decref(ans);
}

/* The equal-weight portfolio's historical VaR/CVaR in both definitions. */
static void test_equal_weight_risk(void **state)
{
    (void)state;
    json_t *doc = json_pack("{s:s, s:f}", "prices_csv", g_csv, "level", 0.95);
    nq_goliath_risk_req r;
    nq_err err;
    assert_int_equal(nq_goliath_risk_parse(doc, &r, &err), NQ_OK);
    json_t *ans = NULL;
    assert_int_equal(nq_goliath_risk_run(&r, &ans, &err), NQ_OK);
    const json_t *risk = json_object_get(ans, "risk"),
                 *ref = json_object_get(g_ref, "equal_weight_var_cvar_95");
    assert_int_equal(json_integer_value(json_object_get(risk, "periods")), 895);
    const json_t *rf = json_object_get(ref, "riskfolio_def"), *np = json_object_get(ref, "numpy_linear_def");
    expect_close(num(risk, "historical", "var"), num(rf, "VaR", NULL), 1e-12, "VaR hist");
    expect_close(num(risk, "historical", "cvar"), num(rf, "CVaR", NULL), 1e-12, "CVaR hist");
    expect_close(num(risk, "quantile", "var"), num(np, "VaR", NULL), 1e-12, "VaR quantile");
    expect_close(num(risk, "quantile", "cvar"), num(np, "CVaR", NULL), 1e-12, "CVaR quantile");
    expect_close(num(risk, "mean", NULL), num(ref, "portfolio_daily_mean", NULL), 1e-15, "mean");
    json_decref(ans);
    nq_goliath_risk_req_free(&r);
    json_decref(doc);
}

/* ---- cardinality ---------------------------------------------------------------------- */

static void moments(double **mu, double **S, int32_t *n)
{
    nq_prices p;
    nq_returns ret;
    nq_err err;
    nq_mu_opts mo;
    nq_cov_opts co;
    nq_mu_opts_default(&mo);
    nq_cov_opts_default(&co);
    assert_int_equal(nq_prices_parse_csv(g_csv, strlen(g_csv), "prices", &p, &err), NQ_OK);
    assert_int_equal(nq_returns_from_prices(&p, &ret, &err), NQ_OK);
    *n = p.n;
    *mu = malloc((size_t)p.n * sizeof **mu);
    *S = malloc((size_t)p.n * p.n * sizeof **S);
    int repaired = 0;
    assert_int_equal(nq_expected_returns(&ret, &mo, *mu, &err), NQ_OK);
    assert_int_equal(nq_risk_matrix(&ret, &co, *S, &repaired, NULL, &err), NQ_OK);
    nq_returns_free(&ret);
    nq_prices_free(&p);
}

static void engine_vs_exhaustive(nq_pf_objective obj, double min_weight)
{
    double *mu, *S;
    int32_t n;
    moments(&mu, &S, &n);
    nq_pf_spec s;
    nq_pf_spec_default(&s);
    s.objective = obj;
    s.n = n;
    s.mu = mu;
    s.S = S;
    s.max_assets = 5;
    s.min_weight = min_weight;
    nq_pf_result engine, all;
    nq_err err;
    int rc = nq_pf_optimize(&s, &engine, &err);
    if (rc)
        print_message("engine: %s: %s\n", err.where, err.msg);
    assert_int_equal(rc, NQ_OK);
    assert_int_equal(nq_pf_optimize_exhaustive(&s, &all, &err), NQ_OK);
    if (min_weight == 0)
        assert_int_equal(all.subsets, 15504); /* C(20, 5) */
    assert_true(engine.held <= 5);
    for (int32_t i = 0; i < n; i++) {
        expect_close(engine.w[i], all.w[i], 1e-6, "weight");
        assert_true(engine.w[i] == 0 || engine.w[i] >= min_weight - 1e-9);
    }
    expect_close(engine.volatility, all.volatility, 1e-9, "volatility");
    expect_close(engine.sharpe, all.sharpe, 1e-9, "sharpe");
    print_message("%s k=5 min_weight %.2f: vol %.6f sharpe %.6f; engine tried %lld subsets, "
                  "exhaustive %lld\n",
                  nq_pf_objective_name(obj), min_weight, engine.volatility, engine.sharpe,
                  (long long)engine.subsets, (long long)all.subsets);
    nq_pf_result_free(&engine);
    nq_pf_result_free(&all);
    free(mu);
    free(S);
}

static void test_cardinality_min_volatility(void **state)
{
    (void)state;
    engine_vs_exhaustive(NQ_PF_MIN_VOLATILITY, 0);
}

static void test_cardinality_max_sharpe(void **state)
{
    (void)state;
    engine_vs_exhaustive(NQ_PF_MAX_SHARPE, 0);
}

static void test_cardinality_min_weight(void **state)
{
    (void)state;
    engine_vs_exhaustive(NQ_PF_MIN_VOLATILITY, 0.1);
}

/* ---- bad input ------------------------------------------------------------------------- */

static void expect_bad(const char *doc_text, const char *where)
{
    json_t *doc = json_loads(doc_text, 0, NULL);
    assert_non_null(doc);
    nq_goliath_req r;
    nq_err err;
    int rc = nq_goliath_parse(doc, &r, &err);
    json_t *ans = NULL;
    if (!rc) {
        rc = nq_goliath_run(&r, NULL, &ans, &err);
        nq_goliath_req_free(&r);
    }
    json_decref(doc);
    json_decref(ans);
    if (rc == NQ_OK || strncmp(err.where, where, strlen(where)) != 0)
        print_message("%s: rc %d at '%s': %s\n", doc_text, rc, err.where, err.msg);
    assert_int_not_equal(rc, NQ_OK);
    assert_true(strncmp(err.where, where, strlen(where)) == 0);
}

static void test_bad_input(void **state)
{
    (void)state;
    expect_bad("{\"prices_csv\": \"date,A,B\\n1,10,20\\n2,x,21\\n3,11,22\\n\"}", "/prices_csv");
    expect_bad("{\"prices_csv\": \"date,A,B\\n1,10,20\\n\"}", "/prices_csv");
    expect_bad("{\"prices_csv\": \"date,A,B\\n1,10,20\\n2,11,20\\n3,12,20\\n\"}", "/prices_csv");
    const char *m = "\"assets\": [\"A\", \"B\"], \"expected_returns\": [0.1, 0.2], "
                    "\"cov_matrix\": [[0.04, 0.01], [0.01, 0.09]]";
    char doc[512];
    snprintf(doc, sizeof doc, "{%s, \"objective\": \"efficient_return\", \"target_return\": 0.3}", m);
    expect_bad(doc, "/target_return");
    snprintf(doc, sizeof doc, "{%s, \"max_assets\": 3}", m);
    expect_bad(doc, "/max_assets");
    snprintf(doc, sizeof doc, "{%s, \"weight_bounds\": [0, 0.4]}", m);
    expect_bad(doc, "/weight_bounds");
    snprintf(doc, sizeof doc, "{%s, \"weight_bounds\": {\"A\": [0.7, 1], \"B\": [0.5, 1]}}", m);
    expect_bad(doc, "/weight_bounds");
    expect_bad("{\"assets\": [\"A\", \"B\"], \"expected_returns\": [0.1, 0.2], "
               "\"cov_matrix\": [[0.04, 0.01], [0.02, 0.09]]}",
               "/cov_matrix");
    expect_bad("{\"assets\": [\"A\"], \"expected_returns\": [0.1], \"cov_matrix\": [[-1]]}",
               "/cov_matrix");
    snprintf(doc, sizeof doc, "{%s, \"objective\": \"min_cvar\"}", m);
    expect_bad(doc, "/objective");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_min_volatility),
        cmocka_unit_test(test_max_sharpe),
        cmocka_unit_test(test_efficient_return),
        cmocka_unit_test(test_min_cvar),
        cmocka_unit_test(test_hrp),
        cmocka_unit_test(test_equal_weight_risk),
        cmocka_unit_test(test_cardinality_min_volatility),
        cmocka_unit_test(test_cardinality_max_sharpe),
        cmocka_unit_test(test_cardinality_min_weight),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
