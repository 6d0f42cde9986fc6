/* test_cli_energy.c - `nqba energy schedule|commit` as a user runs it:
 * CSV files in, a summary or the answer document out, errors naming the
 * file and line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h> /* after the headers it needs */

#include "cli_run.h"

static void test_commit(void **state)
{
    env *e = *state;
    char units[PATH_MAX_LEN], demand[PATH_MAX_LEN];
    snprintf(units, sizeof units, "%s/data/energy/uc10_units.csv", e->shared);
    snprintf(demand, sizeof demand, "%s/data/energy/uc10_demand.csv", e->shared);
    run_out r;
    nqba(e, &r, NULL, "energy", "commit", "--units", units, "--demand", demand, "--json", NULL);
    json_t *ans = run_json(e, &r);
    /* Within 0.1% of 563,937.7 USD (../shared/data/energy/README.md). */
    assert_true(fabs(num(ans, "total_cost") - 563937.7) < 563.9);
    assert_int_equal(json_object_size(json_object_get(ans, "commitment")), 10);
    json_decref(ans);
    run_free(&r);
    nqba(e, &r, NULL, "energy", "commit", "--units", units, "--demand", demand, NULL);
    assert_int_equal(r.status, 0);
    expect_contains(r.out, "commitment (hours 1..24):");
    run_free(&r);
}

static void test_schedule(void **state)
{
    env *e = *state;
    char f[PATH_MAX_LEN], req[PATH_MAX_LEN];
    write_tmp_str(e, "forecast.csv",
                  "load_w,pv_w,price_import\n1000,0,0.1\n1000,0,0.1\n1000,500,0.3\n1000,0,0.3\n",
                  f);
    write_tmp_str(e, "site.json",
                  "{\"dt_h\": 1, \"price_export\": 0.05, \"battery\": {\"capacity_wh\": 2000, "
                  "\"charge_max_w\": 1000, \"discharge_max_w\": 1000, \"eta_charge\": 1, "
                  "\"eta_discharge\": 1, \"soc_min\": 0, \"soc_max\": 1, \"soc_initial\": 0, "
                  "\"soc_final\": 0}}",
                  req);
    run_out r;
    nqba(e, &r, NULL, "energy", "schedule", req, "--forecast", f, "--json", NULL);
    json_t *ans = run_json(e, &r);
    /* Charge 2 kWh at 0.1, use it at 0.3: 0.2 + 0.2 + (0.5 - 0.5 pv..) */
    double cost = num(ans, "cost_eur"), base = num(ans, "baseline_cost_eur");
    assert_true(cost < base);
    assert_true(fabs(base - (0.1 + 0.1 + 0.5 * 0.3 + 0.3)) < 1e-9);
    json_decref(ans);
    run_free(&r);
    char bad[PATH_MAX_LEN];
    write_tmp_str(e, "bad.csv", "load_w,price_import\n500,0.1\n600,x\n", bad);
    nqba(e, &r, NULL, "energy", "schedule", "--forecast", bad, NULL);
    assert_int_equal(r.status, 2);
    expect_contains(r.err, "bad.csv: line 3: column price_import");
    run_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_commit),
                                       cmocka_unit_test(test_schedule)};
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
