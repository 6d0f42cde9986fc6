/* test_cli_portfolio.c - `nqba portfolio optimize|risk` as a user runs it:
 * options and files in, the answer (JSON or a summary) out, and errors that
 * name the file and line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h> /* after the headers it needs */

#include "cli_run.h"

static void prices_path(const env *e, char out[PATH_MAX_LEN])
{
    snprintf(out, PATH_MAX_LEN, "%s/data/portfolio/pypfopt_stock_prices.csv", e->shared);
}

static void test_min_volatility_json(void **state)
{
    env *e = *state;
    char prices[PATH_MAX_LEN];
    prices_path(e, prices);
    run_out r;
    nqba(e, &r, NULL, "portfolio", "optimize", "--prices", prices, "--objective",
         "min_volatility", "--frontier", "5", "--json", NULL);
    assert_int_equal(r.status, 0);
    json_t *ans = run_json(e, &r);
    const json_t *perf = json_object_get(ans, "performance");
    /* reference_results.json: min_volatility */
    assert_true(fabs(num(perf, "volatility") - 0.1591508451413) < 1e-6);
    assert_true(fabs(num(perf, "expected_return") - 0.1505682139873) < 1e-6);
    assert_int_equal(json_array_size(json_object_get(ans, "frontier")), 5);
    json_decref(ans);
    run_free(&r);
}

static void test_summary_and_request_file(void **state)
{
    env *e = *state;
    char prices[PATH_MAX_LEN], req[PATH_MAX_LEN];
    prices_path(e, prices);
    write_tmp_str(e, "req.json", "{\"objective\": \"efficient_return\", \"target_return\": 0.25}",
                  req);
    run_out r;
    nqba(e, &r, NULL, "portfolio", "optimize", req, "--prices", prices, "--budget", "10000",
         NULL);
    assert_int_equal(r.status, 0);
    expect_contains(r.out, "Efficient return portfolio");
    expect_contains(r.out, "Expected annual return 25.00%");
    expect_contains(r.out, "Whole shares for 10000.00");
    run_free(&r);
}

static void test_errors_name_file_and_line(void **state)
{
    env *e = *state;
    char bad[PATH_MAX_LEN];
    write_tmp_str(e, "bad.csv", "date,A,B\n1,10,20\n2,x,21\n3,11,22\n", bad);
    run_out r;
    nqba(e, &r, NULL, "portfolio", "optimize", "--prices", bad, NULL);
    assert_int_equal(r.status, 2);
    expect_contains(r.err, "bad.csv: line 3");
    expect_contains(r.err, "column A");
    run_free(&r);
    nqba(e, &r, NULL, "portfolio", "optimize", "--prices", bad, "--max-assets", "x", NULL);
    assert_int_equal(r.status, 2);
    run_free(&r);
    nqba(e, &r, NULL, "portfolio", "rebalance", NULL);
    assert_int_equal(r.status, 2);
    run_free(&r);
}

static void test_risk_with_benchmark(void **state)
{
    env *e = *state;
    char prices[PATH_MAX_LEN], spy[PATH_MAX_LEN];
    prices_path(e, prices);
    snprintf(spy, sizeof spy, "%s/data/portfolio/pypfopt_spy_prices.csv", e->shared);
    run_out r;
    nqba(e, &r, NULL, "portfolio", "risk", "--prices", prices, "--benchmark", spy, "--json",
         NULL);
    assert_int_equal(r.status, 0);
    json_t *ans = run_json(e, &r);
    const json_t *risk = json_object_get(ans, "risk");
    /* reference_results.json: equal_weight_var_cvar_95, riskfolio_def */
    assert_true(fabs(num(json_object_get(risk, "historical"), "var") - 0.016748899891587565) <
                1e-12);
    assert_true(num(risk, "beta") > 0.5 && num(risk, "beta") < 2);
    json_decref(ans);
    run_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_min_volatility_json),
        cmocka_unit_test(test_summary_and_request_file),
        cmocka_unit_test(test_errors_name_file_and_line),
        cmocka_unit_test(test_risk_with_benchmark),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
