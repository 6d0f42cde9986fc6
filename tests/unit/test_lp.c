/* test_lp.c - the plain LP/MILP path: the shipped energy MPS instances
 * (continuous columns) solve to their reference optima through the library
 * and through `nqba decide`; statuses for infeasible and unbounded models;
 * parse errors located by line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h> /* after the headers it needs */

#include "cli_run.h"
#include "nqba/lp.h"

static char *energy_file(const env *e, const char *name, size_t *len, char path[PATH_MAX_LEN])
{
    snprintf(path, PATH_MAX_LEN, "%s/data/energy/%s", e->shared, name);
    char *text = slurp(path, len);
    assert_non_null(text);
    return text;
}

/* reference_results.json: mps_instances */
static void expect_instance(const env *e, const char *name, int mip, double want)
{
    char path[PATH_MAX_LEN];
    size_t len;
    char *text = energy_file(e, name, &len, path);
    assert_int_equal(nq_lp_needs_plain(text, len, "mps"), 1);
    nq_lp_result r;
    nq_err err;
    assert_int_equal(nq_lp_solve(text, len, name, "mps", NULL, &r, &err), NQ_OK);
    print_message("%s: %s %.11f (want %.11f)\n", name, r.status, r.objective, want);
    assert_string_equal(r.status, "optimal");
    assert_int_equal(r.mip, mip);
    assert_int_equal(r.n_cols, 336);
    assert_int_equal(r.n_rows, 99);
    assert_true(fabs(r.objective - want) < 1e-6);
    nq_lp_result_free(&r);
    /* The same through the command line, as a user runs it. */
    run_out o;
    nqba(e, &o, NULL, "decide", path, "--json", NULL);
    json_t *doc = run_json(e, &o);
    assert_string_equal(json_string_value(json_object_get(doc, "status")), "optimal");
    assert_true(fabs(num(doc, "objective") - want) < 1e-6);
    json_decref(doc);
    run_free(&o);
    free(text);
}

static void test_energy_instances(void **state)
{
    env *e = *state;
    expect_instance(e, "hems_2024-06-12_24h_lp.mps", 0, 1.63429030579);
    expect_instance(e, "hems_2024-06-12_24h_milp.mps", 1, 1.72531495496);
}

static void solve_lp(const char *text, const char *status, double objective)
{
    nq_lp_result r;
    nq_err err;
    assert_int_equal(nq_lp_solve(text, strlen(text), "model.lp", "lp", NULL, &r, &err), NQ_OK);
    assert_string_equal(r.status, status);
    if (!strcmp(status, "optimal"))
        assert_true(fabs(r.objective - objective) < 1e-9);
    nq_lp_result_free(&r);
}

static void test_small_models(void **state)
{
    (void)state;
    solve_lp("Maximize\n obj: 3 x + 2 y\nSubject To\n c1: x + y <= 4\n c2: x + 3 y <= 6\n"
             "Bounds\n x <= 3\nEnd\n",
             "optimal", 11);
    solve_lp("Minimize\n obj: x\nSubject To\n c1: x >= 2\n c2: x <= 1\nEnd\n", "infeasible", 0);
    solve_lp("Maximize\n obj: x + y\nSubject To\n c1: x - y <= 1\nBounds\n y >= 0\nEnd\n",
             "unbounded", 0);
    /* Integer: 2.5 rounds down with a continuous partner. */
    solve_lp("Maximize\n obj: x + 0.5 z\nSubject To\n c1: x + z <= 2.5\nBounds\n z <= 1\n"
             "General\n x\nEnd\n",
             "optimal", 2.25);
    assert_int_equal(nq_lp_needs_plain("Minimize\n obj: x\nSubject To\n c: x >= 1\nGeneral\n x\nEnd\n",
                                       52, "lp"),
                     0);
}

static void test_errors(void **state)
{
    (void)state;
    nq_lp_result r;
    nq_err err;
    const char *bad = "Minimize\n obj: x +\nSubject To\n c1: x >= ) 1\nEnd\n";
    assert_int_not_equal(nq_lp_solve(bad, strlen(bad), "bad.lp", "lp", NULL, &r, &err), NQ_OK);
    assert_non_null(strstr(err.where, "bad.lp"));
    assert_int_equal(nq_lp_solve("x", 1, "m", "xlsx", NULL, &r, &err), NQ_EINVAL);
    assert_string_equal(err.where, "format");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_energy_instances),
        cmocka_unit_test(test_small_models),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
