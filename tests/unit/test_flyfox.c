/* test_flyfox.c - the FLYFOX AI unit end to end (JSON request in, answer
 * out) on the data of ../shared/data/energy: the 2024-06-12 home schedule
 * with and without battery, LP and on/off loads, against the reference
 * costs; the classic 10-unit commitment from its CSV files; the answers'
 * invariants recomputed here from the schedule. */
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

#include "nqba/flyfox.h"
#include "data_file.h"

#define N 48

static char *slurp(const char *name)
{
    return data_file("energy", name, NULL);
}

/* 2024-06-12, 48 half-hours: load (NaN interpolated), PV (NaN = 0) and the
 * first 48 import prices, as the data README describes. */
static void day_series(double *load, double *pv, double *price)
{
    char *text = slurp("emhass_long_train_data_30min.csv");
    assert_non_null(text);
    char *p = strstr(text, "\n2024-06-12 00:00");
    assert_non_null(p);
    double raw[N + 16];
    for (int k = 0; k < 8; k++) /* 8 rows before, for the interpolation */
        do
            p--;
        while (p > text && p[-1] != '\n');
    p--;
    for (int i = 0; i < N + 16; i++) {
        p = strchr(p, '\n') + 1;
        char *c1 = strchr(p, ','), *c2 = strchr(c1 + 1, ',');
        raw[i] = c1[1] == ',' ? NAN : strtod(c1 + 1, NULL);
        if (i >= 8 && i < 8 + N)
            pv[i - 8] = c2[1] == ',' ? 0.0 : strtod(c2 + 1, NULL);
    }
    for (int i = 8; i < 8 + N; i++) {
        int a = i, b = i;
        while (isnan(raw[a]))
            a--;
        while (isnan(raw[b]))
            b++;
        load[i - 8] = a == b ? raw[i] : raw[a] + (raw[b] - raw[a]) * (i - a) / (double)(b - a);
    }
    free(text);
    text = slurp("emhass_data_load_cost_forecast.csv");
    assert_non_null(text);
    p = text;
    for (int i = 0; i < N; i++)
        price[i] = strtod(strchr(p, ',') + 1, &p);
    free(text);
}

static json_t *array_of(const double *v, int n)
{
    json_t *a = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(a, json_real(v[i]));
    return a;
}

/* The reference request; battery and on/off loads as asked. */
static json_t *request(int battery, int on_off)
{
    double load[N], pv[N], price[N];
    day_series(load, pv, price);
    json_t *doc = json_pack(
        "{s:f, s:o, s:o, s:o, s:f, s:{s:f, s:f}, s:[{s:s, s:f, s:f, s:b}, {s:s, s:f, s:f, s:b}]}",
        "dt_h", 0.5, "load_w", array_of(load, N), "pv_w", array_of(pv, N), "price_import",
        array_of(price, N), "price_export", 0.065, "grid", "import_max_w", 9000.0, "export_max_w",
        9000.0, "loads", "name", "def0", "nominal_w", 3000.0, "hours_per_day", 5.0, "on_off",
        on_off, "name", "def1", "nominal_w", 750.0, "hours_per_day", 8.0, "on_off", on_off);
    assert_non_null(doc);
    if (battery)
        json_object_set_new(doc, "battery",
                            json_pack("{s:f, s:f, s:f}", "capacity_wh", 5000.0, "charge_max_w",
                                      1000.0, "discharge_max_w", 1000.0));
    return doc;
}

static double num(const json_t *o, const char *k)
{
    const json_t *v = json_object_get(o, k);
    assert_true(json_is_number(v));
    return json_number_value(v);
}

/* Balance, battery dynamics and load energy, from the answer alone. */
static void check_answer(const json_t *doc, const json_t *ans)
{
    const json_t *s = json_object_get(ans, "schedule"), *req_load = json_object_get(doc, "load_w"),
                 *req_pv = json_object_get(doc, "pv_w");
    const json_t *imp = json_object_get(s, "import_w"), *exp = json_object_get(s, "export_w"),
                 *ch = json_object_get(s, "charge_w"), *dis = json_object_get(s, "discharge_w"),
                 *soc = json_object_get(s, "soc"), *loads = json_object_get(s, "loads");
    double e[2] = {0, 0};
    for (int t = 0; t < N; t++) {
        double def = 0;
        const char *name;
        json_t *series;
        int j = 0;
        json_object_foreach((json_t *)loads, name, series) {
            double p = json_number_value(json_array_get(series, (size_t)t));
            def += p;
            e[j++] += p * 0.5;
        }
        double in = json_number_value(json_array_get(req_pv, (size_t)t)) +
                    json_number_value(json_array_get(imp, (size_t)t)) +
                    json_number_value(json_array_get(dis, (size_t)t));
        double out = json_number_value(json_array_get(req_load, (size_t)t)) + def +
                     json_number_value(json_array_get(ch, (size_t)t)) +
                     json_number_value(json_array_get(exp, (size_t)t));
        assert_true(fabs(in - out) < 1e-4);
        if (json_object_get(doc, "battery")) {
            double e0 = 5000 * json_number_value(json_array_get(soc, (size_t)t)),
                   e1 = 5000 * json_number_value(json_array_get(soc, (size_t)t + 1));
            double want = e0 + 0.5 * (0.95 * json_number_value(json_array_get(ch, (size_t)t)) -
                                      json_number_value(json_array_get(dis, (size_t)t)) / 0.95);
            assert_true(fabs(e1 - want) < 1e-4);
            assert_true(e1 >= 0.3 * 5000 - 1e-4 && e1 <= 0.9 * 5000 + 1e-4);
        }
    }
    assert_true(fabs(e[0] - 15000) < 1e-4 && fabs(e[1] - 6000) < 1e-4);
}

static void expect_cost(int battery, int on_off, double cost, double baseline)
{
    json_t *doc = request(battery, on_off);
    nq_flyfox_site_req r;
    nq_err err;
    int rc = nq_flyfox_site_parse(doc, &r, &err);
    if (rc)
        print_message("%s: %s\n", err.where, err.msg);
    assert_int_equal(rc, NQ_OK);
    json_t *ans = NULL;
    rc = nq_flyfox_site_run(&r, NULL, &ans, &err);
    if (rc)
        print_message("%s: %s\n", err.where, err.msg);
    assert_int_equal(rc, NQ_OK);
    print_message("battery %d on_off %d: cost %.6f (want %.6f), baseline %.6f, %s\n", battery,
                  on_off, num(ans, "cost_eur"), cost, num(ans, "baseline_cost_eur"),
                  json_string_value(json_object_get(ans, "status")));
    assert_true(fabs(num(ans, "cost_eur") - cost) < 1e-4);
    assert_true(fabs(num(ans, "baseline_cost_eur") - baseline) < 1e-4);
    assert_true(fabs(num(ans, "savings_eur") -
                     (num(ans, "baseline_cost_eur") - num(ans, "cost_eur"))) < 1e-9);
    assert_true(json_is_true(json_object_get(ans, "milp")) == !!on_off);
    check_answer(doc, ans);
    json_decref(ans);
    nq_flyfox_site_req_free(&r);
    json_decref(doc);
}

static void test_reference_day(void **state)
{
    (void)state;
    expect_cost(1, 0, 1.634290, 3.688792); /* LP with battery */
    expect_cost(1, 1, 1.725315, 3.688792); /* MILP, on/off loads */
    expect_cost(0, 0, 1.700743, 3.688792); /* no battery */
}

static void test_unit_commitment(void **state)
{
    (void)state;
    char *units = slurp("uc10_units.csv"), *demand = slurp("uc10_demand.csv");
    assert_non_null(units);
    assert_non_null(demand);
    json_t *doc = json_pack("{s:s, s:s, s:f}", "units_csv", units, "demand_csv", demand,
                            "reserve", 0.1);
    free(units);
    free(demand);
    nq_flyfox_uc_req r;
    nq_err err;
    assert_int_equal(nq_flyfox_uc_parse(doc, &r, &err), NQ_OK);
    json_t *ans = NULL;
    int rc = nq_flyfox_uc_run(&r, NULL, &ans, &err);
    if (rc)
        print_message("%s: %s\n", err.where, err.msg);
    assert_int_equal(rc, NQ_OK);
    double total = num(ans, "total_cost");
    print_message("10-unit UC: %.3f USD (%s)\n", total,
                  json_string_value(json_object_get(ans, "method")));
    assert_true(fabs(total - 563937.7) <= 0.001 * 563937.7);
    const json_t *commit = json_object_get(ans, "commitment");
    assert_int_equal(json_object_size(commit), 10);
    assert_string_equal(json_string_value(json_object_get(commit, "1")),
                        "111111111111111111111111");
    /* Demand met every hour by the dispatch. */
    const json_t *dispatch = json_object_get(ans, "dispatch");
    const double d1 = 700, d24 = 800;
    double s1 = 0, s24 = 0;
    const char *name;
    json_t *p;
    json_object_foreach((json_t *)dispatch, name, p) {
        s1 += json_number_value(json_array_get(p, 0));
        s24 += json_number_value(json_array_get(p, 23));
    }
    assert_true(fabs(s1 - d1) < 1e-6 && fabs(s24 - d24) < 1e-6);
    json_decref(ans);
    nq_flyfox_uc_req_free(&r);
    json_decref(doc);
}

static void expect_bad(const char *text, const char *where)
{
    json_t *doc = json_loads(text, 0, NULL);
    assert_non_null(doc);
    nq_flyfox_site_req r;
    nq_err err;
    int rc = nq_flyfox_site_parse(doc, &r, &err);
    json_t *ans = NULL;
    if (!rc) {
        rc = nq_flyfox_site_run(&r, NULL, &ans, &err);
        nq_flyfox_site_req_free(&r);
    }
    if (rc == NQ_OK || strcmp(err.where, where) != 0)
        print_message("%s: rc %d at '%s': %s\n", text, rc, err.where, err.msg);
    assert_int_equal(rc, NQ_EINVAL);
    assert_string_equal(err.where, where);
    json_decref(ans);
    json_decref(doc);
}

static void test_bad_input(void **state)
{
    (void)state;
    expect_bad("{\"load_w\": [1, 2, 3], \"price_import\": [0.1, 0.2]}", "/price_import");
    expect_bad("{\"load_w\": [1, 2], \"price_import\": 0.1, \"forecast_csv\": \"pv_w\\n5\\n\"}",
               "/pv_w");
    expect_bad("{\"price_import\": 0.1}", "/load_w");
    expect_bad("{\"load_w\": [1, -2], \"price_import\": 0.1}", "/load_w/1");
    expect_bad("{\"load_w\": [1, 2], \"price_import\": 0.1, \"objective\": \"money\"}",
               "/objective");
    expect_bad("{\"load_w\": [1, 2], \"price_import\": 0.1, \"loads\": [{\"name\": \"a\", "
               "\"nominal_w\": 100, \"hours_per_day\": 1}, {\"name\": \"a\", \"nominal_w\": 100, "
               "\"hours_per_day\": 1}]}",
               "/loads/1");
    expect_bad("{\"load_w\": [1, 2], \"price_import\": 0.1, \"battery\": {\"capacity_wh\": 1000}}",
               "/battery/charge_max_w");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_day),
        cmocka_unit_test(test_unit_commitment),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
