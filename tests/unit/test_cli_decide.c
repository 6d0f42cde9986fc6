/* test_cli_decide.c - `nqba decide` run as the real binary ($NQ_BIN): JSON
 * requests, MPS and LP models written by the test, the text summary and
 * the --json answer, option overrides, error messages with their file,
 * line or JSON pointer, exit statuses, and the shipped examples.
 *
 * Optima of the generated knapsacks come from brute force done here. */
/* cmocka.h needs these first, in this order. */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
/* clang-format on */

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_run.h"

/* ---- helpers ---------------------------------------------------------------- */

/* Write a document given with ' for " (and ` for \") to e->dir/name. */
static void write_doc(const env *e, const char *name, const char *quoted, char out[PATH_MAX_LEN])
{
    size_t n = strlen(quoted), k = 0;
    char *buf = malloc(2 * n + 1);
    assert_non_null(buf);
    for (size_t i = 0; i < n; i++) {
        if (quoted[i] == '`')
            buf[k++] = '\\';
        buf[k++] = quoted[i] == '\'' || quoted[i] == '`' ? '"' : quoted[i];
    }
    write_tmp(e, name, buf, k, out);
    free(buf);
}

static json_t *decide_json(const env *e, const char *path, const char *extra)
{
    run_out r;
    nqba(e, &r, NULL, "decide", path, "--json", extra, NULL);
    json_t *j = run_json(e, &r);
    run_free(&r);
    return j;
}

static const char *str(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    if (!s)
        fail_msg("member \"%s\" is missing or not a string", key);
    return s;
}

static void expect_failure(const env *e, const char *path, int status, const char *message)
{
    run_out r;
    nqba(e, &r, NULL, "decide", path, NULL);
    if (r.status != status)
        fail_msg("expected exit %d, got %d; stderr:\n%s", status, r.status, r.err);
    expect_contains(r.err, message);
    assert_string_equal(r.out, "");
    run_free(&r);
}

/* ---- a knapsack written three ways ------------------------------------------ */

#define N_ITEMS 8
static const int value[N_ITEMS] = {10, 13, 7, 8, 12, 4, 9, 6};
static const int weight[N_ITEMS] = {5, 7, 3, 4, 6, 2, 5, 3};
static const int capacity = 17;

static int best_value(void)
{
    int best = -1;
    for (unsigned mask = 0; mask < 1u << N_ITEMS; mask++) {
        int v = 0, w = 0;
        for (int i = 0; i < N_ITEMS; i++)
            if (mask >> i & 1)
                v += value[i], w += weight[i];
        if (w <= capacity && v > best)
            best = v;
    }
    return best;
}

/* MPS states no objective sense (readers minimize), so this one minimizes
 * the negated value. */
static void write_mps(const env *e, char path[PATH_MAX_LEN])
{
    char text[4096];
    int n = snprintf(text, sizeof text,
                     "NAME knap\nROWS\n N value\n L cap\nCOLUMNS\n MARKER 'MARKER' 'INTORG'\n");
    for (int i = 0; i < N_ITEMS; i++)
        n += snprintf(text + n, sizeof text - (size_t)n, " item%d value %d cap %d\n", i, -value[i],
                      weight[i]);
    n += snprintf(text + n, sizeof text - (size_t)n,
                  " MARKER 'MARKER' 'INTEND'\nRHS\n RHS cap %d\nBOUNDS\n", capacity);
    for (int i = 0; i < N_ITEMS; i++)
        n += snprintf(text + n, sizeof text - (size_t)n, " BV BND item%d\n", i);
    snprintf(text + n, sizeof text - (size_t)n, "ENDATA\n");
    write_tmp_str(e, "knap.mps", text, path);
}

static void write_lp(const env *e, char path[PATH_MAX_LEN])
{
    char text[4096];
    int n = snprintf(text, sizeof text, "Maximize\n value:");
    for (int i = 0; i < N_ITEMS; i++)
        n += snprintf(text + n, sizeof text - (size_t)n, " + %d item%d", value[i], i);
    n += snprintf(text + n, sizeof text - (size_t)n, "\nSubject To\n cap:");
    for (int i = 0; i < N_ITEMS; i++)
        n += snprintf(text + n, sizeof text - (size_t)n, " + %d item%d", weight[i], i);
    n += snprintf(text + n, sizeof text - (size_t)n, " <= %d\nBinary\n", capacity);
    for (int i = 0; i < N_ITEMS; i++)
        n += snprintf(text + n, sizeof text - (size_t)n, " item%d\n", i);
    snprintf(text + n, sizeof text - (size_t)n, "End\n");
    write_tmp_str(e, "knap.lp", text, path);
}

static void write_json(const env *e, const char *name, char path[PATH_MAX_LEN])
{
    char text[4096];
    int n = snprintf(text, sizeof text, "{\"variables\": [");
    for (int i = 0; i < N_ITEMS; i++)
        n += snprintf(text + n, sizeof text - (size_t)n,
                      "%s{\"name\": \"item%d\", \"type\": "
                      "\"binary\"}",
                      i ? ", " : "", i);
    n += snprintf(text + n, sizeof text - (size_t)n,
                  "],\n \"objective\": {\"sense\": \"max\", \"linear\": {");
    for (int i = 0; i < N_ITEMS; i++)
        n += snprintf(text + n, sizeof text - (size_t)n, "%s\"item%d\": %d", i ? ", " : "", i,
                      value[i]);
    n += snprintf(text + n, sizeof text - (size_t)n,
                  "}},\n \"constraints\": [{\"name\": \"cap\", \"linear\": {");
    for (int i = 0; i < N_ITEMS; i++)
        n += snprintf(text + n, sizeof text - (size_t)n, "%s\"item%d\": %d", i ? ", " : "", i,
                      weight[i]);
    snprintf(text + n, sizeof text - (size_t)n, "}, \"sense\": \"<=\", \"rhs\": %d}]}\n", capacity);
    write_tmp_str(e, name, text, path);
}

/* The answer's load fits and is worth the brute-force optimum. */
static void check_knapsack(const json_t *j, double sign)
{
    const json_t *asg = json_object_get(j, "assignment");
    int v = 0, w = 0;
    for (int i = 0; i < N_ITEMS; i++) {
        char name[16];
        snprintf(name, sizeof name, "item%d", i);
        json_int_t x = json_integer_value(json_object_get(asg, name));
        v += (int)x * value[i];
        w += (int)x * weight[i];
    }
    assert_true(w <= capacity);
    assert_int_equal(v, best_value());
    assert_true(num(j, "objective") == sign * best_value());
    assert_string_equal(str(j, "status"), "optimal");
    assert_true(flag(j, "feasible"));
}

static void test_json_request(void **state)
{
    const env *e = *state;
    char path[PATH_MAX_LEN], want[64];
    write_json(e, "knap.json", path);
    json_t *j = decide_json(e, path, NULL);
    check_knapsack(j, 1);
    assert_string_equal(str(j, "sense"), "maximize");
    json_decref(j);
    run_out r;
    nqba(e, &r, NULL, "decide", path, NULL);
    assert_int_equal(r.status, 0);
    expect_contains(r.out, "status      optimal (proven)");
    snprintf(want, sizeof want, "objective   %d (maximize)", best_value());
    expect_contains(r.out, want);
    expect_contains(r.out, "cap ");
    expect_contains(r.out, "tight");
    run_free(&r);
    /* The same from standard input. */
    nqba(e, &r, path, "decide", "-", "--json", NULL);
    j = run_json(e, &r);
    check_knapsack(j, 1);
    json_decref(j);
    run_free(&r);
}

static void test_mps_and_lp(void **state)
{
    const env *e = *state;
    char mps[PATH_MAX_LEN], lp[PATH_MAX_LEN];
    write_mps(e, mps);
    json_t *j = decide_json(e, mps, NULL);
    check_knapsack(j, -1);
    assert_string_equal(str(j, "sense"), "minimize");
    json_decref(j);
    write_lp(e, lp);
    j = decide_json(e, lp, NULL);
    check_knapsack(j, 1);
    json_decref(j);
    run_out r;
    nqba(e, &r, NULL, "decide", lp, "--solver", "milp", NULL);
    assert_int_equal(r.status, 0);
    expect_contains(r.out, "status      optimal (proven)");
    expect_contains(r.out, "solver      milp (found by milp)");
    run_free(&r);
}

/* ---- options ------------------------------------------------------------------ */

static void test_options_override(void **state)
{
    const env *e = *state;
    char path[PATH_MAX_LEN];
    write_doc(e, "opts.json",
              "{'variables': [{'name': 'a', 'type': 'binary'}, {'name': 'b', 'type': 'binary'},"
              " {'name': 'c', 'type': 'binary'}],"
              " 'objective': {'linear': {'a': 1, 'b': 2, 'c': 4}},"
              " 'constraints': [{'name': 'two', 'linear': {'a': 1, 'b': 1, 'c': 1},"
              " 'sense': '>=', 'rhs': 2}], 'options': {'solver': 'exact', 'alternatives': 1}}",
              path);
    json_t *j = decide_json(e, path, NULL);
    assert_int_equal(json_array_size(json_object_get(j, "alternatives")), 1);
    assert_string_equal(str(json_object_get(j, "solver"), "requested"), "exact");
    assert_true(num(j, "objective") == 3);
    json_decref(j);
    run_out r;
    nqba(e, &r, NULL, "decide", path, "--json", "--alternatives", "3", "--solver", "native",
         "--seed", "7", "--time-limit", "0.2", NULL);
    j = run_json(e, &r);
    run_free(&r);
    /* Four feasible loads: ab 3, ac 5, bc 6, abc 7. */
    assert_int_equal(json_array_size(json_object_get(j, "alternatives")), 3);
    assert_string_equal(str(json_object_get(j, "solver"), "requested"), "native");
    json_decref(j);
    const char *bad[][2] = {{"--solver", "fastest"}, {"--time-limit", "0"},
                            {"--time-limit", "-1"},  {"--alternatives", "101"},
                            {"--seed", "-3"},        {"--format", "xml"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        nqba(e, &r, NULL, "decide", path, bad[i][0], bad[i][1], NULL);
        assert_int_equal(r.status, 2);
        expect_contains(r.err, bad[i][0]);
        assert_string_equal(r.out, "");
        run_free(&r);
    }
    nqba(e, &r, NULL, "decide", path, "--bogus", NULL);
    assert_int_equal(r.status, 2);
    expect_contains(r.err, "unknown option '--bogus'");
    run_free(&r);
    nqba(e, &r, NULL, "decide", NULL);
    assert_int_equal(r.status, 2);
    expect_contains(r.err, "missing FILE");
    run_free(&r);
}

static void test_format(void **state)
{
    const env *e = *state;
    char path[PATH_MAX_LEN], lp[PATH_MAX_LEN];
    write_json(e, "knap.data", path); /* no known extension: '{' tells JSON */
    json_t *j = decide_json(e, path, NULL);
    check_knapsack(j, 1);
    json_decref(j);
    write_lp(e, lp);
    rename(lp, path);
    expect_failure(e, path, 2, "cannot tell the format");
    j = decide_json(e, path, "--format=lp");
    check_knapsack(j, 1);
    json_decref(j);
}

/* ---- answers and errors --------------------------------------------------------- */

static void test_infeasible(void **state)
{
    const env *e = *state;
    char path[PATH_MAX_LEN];
    write_doc(e, "inf.json",
              "{'variables': [{'name': 'x', 'type': 'binary'}, {'name': 'y', 'type': 'binary'}],"
              " 'constraints': [{'name': 'both', 'linear': {'x': 1, 'y': 1}, 'sense': '>=',"
              " 'rhs': 2}, {'name': 'one', 'linear': {'x': 1, 'y': 1}, 'sense': '<=', 'rhs': 1}]}",
              path);
    run_out r;
    nqba(e, &r, NULL, "decide", path, NULL);
    assert_int_equal(r.status, 0);
    expect_contains(r.out, "INFEASIBLE");
    expect_contains(r.out, "conflict    both, one");
    run_free(&r);
    json_t *j = decide_json(e, path, NULL);
    assert_string_equal(str(j, "status"), "infeasible");
    assert_false(flag(j, "feasible"));
    json_decref(j);
}

static void test_bad_inputs(void **state)
{
    const env *e = *state;
    char path[PATH_MAX_LEN], msg[PATH_MAX_LEN + 128];
    write_doc(e, "bad.json",
              "{'variables': [{'name': 'x', 'type': 'binary'},"
              " {'name': 'n', 'type': 'integer', 'lb': 5, 'ub': 3}]}",
              path);
    snprintf(msg, sizeof msg, "nqba: %s: /variables/1/ub: lb 5 > ub 3", path);
    expect_failure(e, path, 2, msg);
    write_tmp_str(e, "syntax.json", "{\"variables\": [\n  {\"name\": \"x\",}\n]}\n", path);
    snprintf(msg, sizeof msg, "nqba: %s:2:", path);
    expect_failure(e, path, 2, msg);
    write_tmp_str(e, "bad.lp", "Minimize\n obj: x + y\nSubject To\n c1: x + y <= 1 $\nEnd\n", path);
    snprintf(msg, sizeof msg, "nqba: %s:4: ", path);
    expect_failure(e, path, 2, msg);
    path_in(e, "missing.json", path);
    snprintf(msg, sizeof msg, "nqba: %s: No such file or directory", path);
    expect_failure(e, path, 2, msg);
    expect_failure(e, e->dir, 2, "is a directory");
    /* A rule whose value cannot be applied: the rule's pointer. */
    write_doc(e, "rule.json",
              "{'variables': [{'name': 's', 'type': 'choice', 'options': ['p', 'q']}],"
              " 'rules': {'name': 't', 'inputs': [], 'outputs': [{'name': 'o',"
              " 'action': {'fix': 's'}}], 'rules': [{'when': {}, 'then': {'o': 'r'}}]}}",
              path);
    snprintf(msg, sizeof msg, "nqba: %s: /rules/rules/0/then/o: 's' has no option 'r'", path);
    expect_failure(e, path, 2, msg);
}

/* ---- the shipped examples -------------------------------------------------------- */

static void test_examples(void **state)
{
    const env *e = *state;
    const char *src = getenv("NQ_SOURCE_DIR");
    assert_non_null(src);
    const char *cases[][2] = {{"warehouse_site.json", "optimal"},
                              {"project_budget.json", "optimal"},
                              {"credit_policy.json", "policy"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char path[PATH_MAX_LEN];
        snprintf(path, sizeof path, "%s/examples/decisions/%s", src, cases[i][0]);
        json_t *j = decide_json(e, path, NULL);
        assert_string_equal(str(j, "status"), cases[i][1]);
        assert_non_null(json_object_get(j, "name"));
        json_decref(j);
        run_out r;
        nqba(e, &r, NULL, "decide", path, NULL);
        assert_int_equal(r.status, 0);
        expect_contains(r.out, "status      ");
        run_free(&r);
    }
}

static void test_help(void **state)
{
    const env *e = *state;
    run_out r;
    nqba(e, &r, NULL, "decide", "--help", NULL);
    assert_int_equal(r.status, 0);
    expect_contains(r.out, "usage: nqba decide FILE");
    expect_contains(r.out, "--alternatives");
    expect_contains(r.out, "Exit status: 0 answered");
    run_free(&r);
    nqba(e, &r, NULL, "--help", NULL);
    expect_contains(r.out, "decide");
    run_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_help),       cmocka_unit_test(test_json_request),
        cmocka_unit_test(test_mps_and_lp), cmocka_unit_test(test_options_override),
        cmocka_unit_test(test_format),     cmocka_unit_test(test_infeasible),
        cmocka_unit_test(test_bad_inputs), cmocka_unit_test(test_examples),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
