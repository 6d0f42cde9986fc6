/* test_decision.c - the decision engine (lib/units/nqba/decision_*.c):
 * every table action and the hit policies through it, pure policies,
 * infeasible models and their irreducible conflicts, baselines,
 * alternatives, contributions, tight constraints, and bad requests with the
 * pointers they report.
 *
 * Answers are checked against a brute-force enumeration written here: the
 * model the rules should produce is written out by hand (the request's
 * model with the rule's effect spelled as "fixed", "veto", a coefficient or
 * an rhs), every assignment of it is evaluated, and the decision's answer
 * must reach the best score found.
 *
 * Documents are written with ' for " and ` for \" so that FEEL string
 * literals stay readable: 'region': '`EU`' is "region": "\"EU\"". */
/* cmocka needs these first, in this order. */
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

#include "nqba/cqm.h"
#include "nqba/decision.h"
#include "nqba/json.h"

#define MAX_VARS 16

/* ---- helpers ------------------------------------------------------------- */

static json_t *doc(const char *text)
{
    size_t n = strlen(text), k = 0;
    char *buf = malloc(2 * n + 1);
    assert_non_null(buf);
    for (size_t i = 0; i < n; i++) {
        if (text[i] == '`')
            buf[k++] = '\\';
        buf[k++] = text[i] == '\'' || text[i] == '`' ? '"' : text[i];
    }
    json_t *root = NULL;
    nq_err e;
    if (nq_json_parse(buf, k, "test", NULL, &root, &e))
        fail_msg("test document does not parse: %s: %s\n%s", e.where, e.msg, buf);
    free(buf);
    return root;
}

static void parse_ok(const char *text, nq_decision_req *req)
{
    json_t *d = doc(text);
    nq_err e;
    nq_err_clear(&e);
    if (nq_decision_parse(d, req, &e))
        fail_msg("request does not parse: %s: %s", e.where, e.msg);
    json_decref(d);
}

static void parse_fails(const char *text, int code, const char *where)
{
    json_t *d = doc(text);
    nq_decision_req req;
    nq_err e;
    nq_err_clear(&e);
    int rc = nq_decision_parse(d, &req, &e);
    if (rc != code || strcmp(e.where, where) != 0)
        fail_msg("expected %d at '%s', got %d at '%s': %s\n%s", code, where, rc, e.where, e.msg,
                 text);
    assert_int_equal(req.n_tables, 0); /* empty after an error */
    assert_null(req.tables);
    json_decref(d);
}

/* Parse, run and return the answer document. */
static json_t *decide(const char *text)
{
    nq_decision_req req;
    nq_decision_res res;
    nq_err e;
    parse_ok(text, &req);
    nq_err_clear(&e);
    if (nq_decision_run(&req, NULL, NULL, &res, &e))
        fail_msg("run failed: %s: %s", e.where, e.msg);
    json_t *answer = nq_decision_to_json(&res);
    assert_non_null(answer);
    nq_decision_res_free(&res);
    nq_decision_req_free(&req);
    return answer;
}

static void run_fails(const char *text, int code, const char *where)
{
    nq_decision_req req;
    nq_decision_res res;
    nq_err e;
    parse_ok(text, &req);
    nq_err_clear(&e);
    int rc = nq_decision_run(&req, NULL, NULL, &res, &e);
    if (rc != code || strcmp(e.where, where) != 0)
        fail_msg("expected %d at '%s', got %d at '%s': %s", code, where, rc, e.where, e.msg);
    assert_null(res.rules); /* empty after an error */
    nq_decision_req_free(&req);
}

static const char *status(const json_t *a)
{
    return json_string_value(json_object_get(a, "status"));
}

static double num(const json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_number(v))
        fail_msg("member '%s' is missing or not a number", key);
    return json_number_value(v);
}

static void model_ok(const char *text, nq_cqm *m)
{
    json_t *d = doc(text);
    nq_err e;
    if (nq_cqm_from_json(d, "", m, &e))
        fail_msg("model does not parse: %s: %s", e.where, e.msg);
    json_decref(d);
}

/* ---- brute force ---------------------------------------------------------- */

typedef struct brute {
    double best_score;
    int n_feasible;
} brute;

/* Every assignment within the bounds, evaluated; fixes and vetoes make the
 * ones that break them infeasible. */
static brute brute_force(const nq_cqm *m)
{
    brute b = {INFINITY, 0};
    int64_t v[MAX_VARS];
    assert_true(m->n_vars <= MAX_VARS);
    for (int32_t i = 0; i < m->n_vars; i++)
        v[i] = m->vars[i].lb;
    for (;;) {
        nq_cqm_eval ev;
        assert_int_equal(nq_cqm_evaluate(m, v, &ev, NULL), 0);
        if (ev.feasible) {
            b.n_feasible++;
            if (ev.score < b.best_score)
                b.best_score = ev.score;
        }
        nq_cqm_eval_free(&ev);
        int32_t i = 0;
        while (i < m->n_vars && ++v[i] > m->vars[i].ub)
            v[i] = m->vars[i].lb, i++;
        if (i == m->n_vars)
            break;
    }
    return b;
}

/* The assignment of an answer, read back on model m. */
static void answer_values(const nq_cqm *m, const json_t *asg, int64_t *v)
{
    nq_err e;
    memset(v, 0, MAX_VARS * sizeof *v);
    if (nq_cqm_values_from_json(m, asg, "", v, &e))
        fail_msg("answer assignment does not fit the model: %s: %s", e.where, e.msg);
}

static double score_on(const nq_cqm *m, const json_t *asg, int *feasible)
{
    int64_t v[MAX_VARS];
    nq_cqm_eval ev;
    answer_values(m, asg, v);
    assert_int_equal(nq_cqm_evaluate(m, v, &ev, NULL), 0);
    double s = ev.score;
    *feasible = ev.feasible;
    nq_cqm_eval_free(&ev);
    return s;
}

/* The answer is feasible on the expected model and as good as brute force
 * finds; returns that best score. */
static double expect_optimum(const json_t *answer, const char *expected_model)
{
    nq_cqm m;
    model_ok(expected_model, &m);
    brute b = brute_force(&m);
    assert_true(b.n_feasible > 0);
    int feasible;
    double s = score_on(&m, json_object_get(answer, "assignment"), &feasible);
    assert_true(feasible);
    assert_true(fabs(s - b.best_score) < 1e-9);
    assert_string_equal(status(answer), "optimal");
    assert_true(json_is_true(json_object_get(answer, "feasible")));
    nq_cqm_free(&m);
    return s;
}

static const char *value_of(const json_t *answer, const char *var, char *buf, size_t cap)
{
    json_t *v = json_object_get(json_object_get(answer, "assignment"), var);
    if (json_is_string(v))
        snprintf(buf, cap, "%s", json_string_value(v));
    else
        snprintf(buf, cap, "%lld", (long long)json_integer_value(v));
    return buf;
}

/* ---- the model the tests decide on ------------------------------------------ */

/* Without rules: site a (1), x = 1 (-2) and n = 2 (-3) under cap 2x + n <= 4,
 * score -4; x = 0, n = 3 would give -3.5. */
#define VARS                                                                                       \
    "'variables': [{'name': 'site', 'type': 'choice', 'options': ['a', 'b', 'c']},"                \
    " {'name': 'x', 'type': 'binary'}, {'name': 'n', 'type': 'integer', 'lb': 0, 'ub': 3}]"
#define OBJ(a)                                                                                     \
    "'objective': {'linear': {'site=a': " a ", 'site=b': 2, 'site=c': 3, 'x': -2, 'n': -1.5}}"
#define CONS(cap)                                                                                  \
    "'constraints': [{'name': 'cap', 'linear': {'x': 2, 'n': 1}, 'sense': '<=', 'rhs': " cap "},"  \
    " {'name': 'need', 'linear': {'site=c': 1, 'n': 1}, 'sense': '>=', 'rhs': 1}]"
#define MODEL VARS ", " OBJ("1") ", " CONS("4")

static void test_no_rules(void **state)
{
    (void)state;
    json_t *a = decide("{" MODEL "}");
    assert_true(expect_optimum(a, "{" MODEL "}") == -4);
    assert_null(json_object_get(a, "rules"));
    assert_null(json_object_get(a, "conflicts"));
    assert_string_equal(json_string_value(json_object_get(a, "sense")), "minimize");
    json_decref(a);
}

/* ---- actions and hit policies ---------------------------------------------- */

/* The best score without rules: each action test below must end elsewhere. */
static double free_best(void)
{
    nq_cqm m;
    model_ok("{" MODEL "}", &m);
    double s = brute_force(&m).best_score;
    nq_cqm_free(&m);
    assert_true(s == -4);
    return s;
}

/* first: rule 0 matches gold and fixes site = c and x = 0 (a boolean). */
static void test_fix_first(void **state)
{
    (void)state;
    json_t *a =
        decide("{" MODEL ", 'rules': [{'name': 'pick', 'hit_policy': 'first',"
               " 'inputs': [{'name': 'tier'}],"
               " 'outputs': [{'name': 'where', 'action': {'fix': 'site'}},"
               "             {'name': 'x_on', 'type': 'boolean', 'action': {'fix': 'x'}}],"
               " 'rules': [{'when': {'tier': '`gold`'}, 'then': {'where': 'c', 'x_on': false}},"
               "           {'when': {'tier': '-'}, 'then': {'where': 'b', 'x_on': true}}]}],"
               " 'facts': {'tier': 'gold'}}");
    /* c (3) with n = 3 (-4.5): -1.5. */
    double s = expect_optimum(
        a, "{'variables': [{'name': 'site', 'type': 'choice',"
           " 'options': ['a', 'b', 'c'], 'fixed': 'c'},"
           " {'name': 'x', 'type': 'binary', 'fixed': 0},"
           " {'name': 'n', 'type': 'integer', 'lb': 0, 'ub': 3}], " OBJ("1") ", " CONS("4") "}");
    assert_true(s == -1.5 && s != free_best());
    char buf[64];
    assert_string_equal(value_of(a, "site", buf, sizeof buf), "c");
    json_t *acts = json_object_get(a, "actions");
    assert_int_equal(json_array_size(acts), 2);
    json_t *act = json_array_get(acts, 0);
    assert_string_equal(json_string_value(json_object_get(act, "action")), "fix");
    assert_string_equal(json_string_value(json_object_get(act, "target")), "site");
    assert_string_equal(json_string_value(json_object_get(act, "value")), "c");
    assert_int_equal(json_integer_value(json_object_get(act, "rule")), 0);
    assert_string_equal(json_string_value(json_object_get(act, "source")),
                        "/rules/0/rules/0/then/where");
    assert_true(json_is_false(json_object_get(json_array_get(acts, 1), "value")));
    json_t *r0 = json_array_get(json_object_get(a, "rules"), 0);
    assert_int_equal(json_integer_value(json_object_get(r0, "selected")), 0);
    json_decref(a);
}

/* collect without aggregation: both matching rules veto, leaving c. */
static void test_veto_collect(void **state)
{
    (void)state;
    json_t *a = decide("{" MODEL ", 'rules': {'name': 'regions', 'hit_policy': 'collect',"
                       " 'inputs': [{'name': 'region'}],"
                       " 'outputs': [{'name': 'no', 'values': ['a', 'b', 'c'],"
                       "              'action': {'veto': 'site'}}],"
                       " 'rules': [{'when': {'region': '`EU`'}, 'then': {'no': 'a'}},"
                       "           {'when': {'region': '`US`'}, 'then': {'no': 'c'}},"
                       "           {'when': {'region': '`EU`,`UK`'}, 'then': {'no': 'b'}}]},"
                       " 'facts': {'region': 'EU', 'unused': 1}}");
    double s = expect_optimum(
        a, "{'variables': [{'name': 'site', 'type': 'choice',"
           " 'options': ['a', 'b', 'c'], 'veto': ['a', 'b']},"
           " {'name': 'x', 'type': 'binary'},"
           " {'name': 'n', 'type': 'integer', 'lb': 0, 'ub': 3}], " OBJ("1") ", " CONS("4") "}");
    assert_true(s == -2 && s != free_best()); /* c (3), x = 1, n = 2 */
    char buf[64];
    assert_string_equal(value_of(a, "site", buf, sizeof buf), "c");
    json_t *acts = json_object_get(a, "actions");
    assert_int_equal(json_array_size(acts), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(acts, 1), "value")), "b");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(acts, 1), "rule")), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(acts, 0), "source")),
                        "/rules/rules/0/then/no");
    json_decref(a);
}

/* priority: both rules match; 10 ranks above 5 in "values", so rule 1's
 * 10 becomes the coefficient of site=a and b wins. */
static void test_objective_priority(void **state)
{
    (void)state;
    json_t *a = decide("{" MODEL ", 'rules': [{'name': 'cost', 'hit_policy': 'priority',"
                       " 'inputs': [{'name': 'size', 'type': 'number'}],"
                       " 'outputs': [{'name': 'cost_a', 'type': 'number', 'values': [10, 5],"
                       "              'action': {'objective': 'site=a'}}],"
                       " 'rules': [{'when': {'size': '>= 10'}, 'then': {'cost_a': 5}},"
                       "           {'when': {'size': '-'}, 'then': {'cost_a': 10}}]}],"
                       " 'facts': {'size': 12}}");
    double s = expect_optimum(a, "{" VARS ", " OBJ("10") ", " CONS("4") "}");
    assert_true(s == -3 && s != free_best()); /* b (2) - 2 - 3 */
    char buf[64];
    assert_string_equal(value_of(a, "site", buf, sizeof buf), "b");
    json_t *r0 = json_array_get(json_object_get(a, "rules"), 0);
    assert_int_equal(json_array_size(json_object_get(r0, "matched")), 2);
    assert_int_equal(json_integer_value(json_object_get(r0, "selected")), 1);
    json_decref(a);
}

/* collect + sum: rules 0 and 1 match night (1 + 1), so cap's rhs is 2: now
 * x = 0, n = 2 (-3) beats x = 1, n = 0 (-2). */
static void test_rhs_collect_sum(void **state)
{
    (void)state;
    json_t *a = decide("{" MODEL ", 'rules': {'name': 'capacity', 'hit_policy': 'collect',"
                       " 'aggregation': 'sum', 'inputs': [{'name': 'shift'}],"
                       " 'outputs': [{'name': 'cap', 'type': 'number', 'action': {'rhs': 'cap'}}],"
                       " 'rules': [{'when': {'shift': '`night`'}, 'then': {'cap': 1}},"
                       "           {'when': {'shift': '-'}, 'then': {'cap': 1}},"
                       "           {'when': {'shift': '`day`'}, 'then': {'cap': 5}}]},"
                       " 'facts': {'shift': 'night'}}");
    double s = expect_optimum(a, "{" VARS ", " OBJ("1") ", " CONS("2") "}");
    assert_true(s == -2 && s != free_best());
    char buf[64];
    assert_string_equal(value_of(a, "x", buf, sizeof buf), "0");
    assert_string_equal(value_of(a, "n", buf, sizeof buf), "2");
    json_t *cap = json_array_get(json_object_get(a, "constraints"), 0);
    assert_true(num(cap, "rhs") == 2);
    json_t *act = json_array_get(json_object_get(a, "actions"), 0);
    assert_true(json_is_null(json_object_get(act, "rule")));
    assert_string_equal(json_string_value(json_object_get(act, "source")), "/rules/outputs/0");
    assert_true(num(act, "value") == 2);
    json_decref(a);
}

/* A collect sum with no match has no value and changes nothing. */
static void test_rhs_no_match(void **state)
{
    (void)state;
    json_t *a = decide("{" MODEL ", 'rules': {'name': 'capacity', 'hit_policy': 'collect',"
                       " 'aggregation': 'sum', 'inputs': [{'name': 'shift'}],"
                       " 'outputs': [{'name': 'cap', 'type': 'number', 'action': {'rhs': 'cap'}}],"
                       " 'rules': [{'when': {'shift': '`day`'}, 'then': {'cap': 5}}]},"
                       " 'facts': {'shift': 'night'}}");
    assert_true(expect_optimum(a, "{" MODEL "}") == -4);
    assert_int_equal(json_array_size(json_object_get(a, "actions")), 0);
    json_decref(a);
}

/* unique: two matching rules are an error at the second, in the table's
 * place in the request. */
static void test_unique_conflict(void **state)
{
    (void)state;
    run_fails("{" MODEL ", 'rules': [{'name': 'ok', 'inputs': [{'name': 'j'}],"
              " 'outputs': [{'name': 'o'}], 'rules': [{'when': {}, 'then': {'o': 'v'}}]},"
              " {'name': 'clash', 'inputs': [{'name': 'k', 'type': 'number'}],"
              " 'outputs': [{'name': 'o', 'action': {'fix': 'site'}}],"
              " 'rules': [{'when': {'k': '< 5'}, 'then': {'o': 'a'}},"
              "           {'when': {'k': '> 1'}, 'then': {'o': 'b'}}]}],"
              " 'facts': {'k': 3}}",
              NQ_EINVAL, "/rules/1/rules/1");
}

/* A pure policy: tables and facts, no variables. */
static void test_policy(void **state)
{
    (void)state;
    json_t *a = decide("{'name': 'discount', 'rules': {'name': 'discount', 'hit_policy': 'first',"
                       " 'inputs': [{'name': 'tier'}, {'name': 'amount', 'type': 'number'}],"
                       " 'outputs': [{'name': 'pct', 'type': 'number'}],"
                       " 'rules': [{'when': {'tier': '`gold`', 'amount': '>= 1000'},"
                       "            'then': {'pct': 15}},"
                       "           {'when': {'tier': '`gold`'}, 'then': {'pct': 10}},"
                       "           {'when': {}, 'then': {'pct': 0}}]},"
                       " 'facts': {'tier': 'gold', 'amount': 500}}");
    assert_string_equal(status(a), "policy");
    assert_null(json_object_get(a, "assignment"));
    assert_null(json_object_get(a, "solver"));
    assert_string_equal(json_string_value(json_object_get(a, "name")), "discount");
    json_t *r0 = json_array_get(json_object_get(a, "rules"), 0);
    assert_int_equal(json_integer_value(json_object_get(r0, "selected")), 1);
    assert_true(num(json_object_get(r0, "outputs"), "pct") == 10);
    json_decref(a);
}

/* ---- infeasible models ------------------------------------------------------ */

/* z_on, xz and at_most_one can hold together; at_least_two and at_most_one
 * cannot. */
#define INFEASIBLE_MODEL                                                                           \
    "'variables': [{'name': 'x', 'type': 'binary'}, {'name': 'y', 'type': 'binary'},"              \
    " {'name': 'z', 'type': 'binary'}],"                                                           \
    " 'objective': {'linear': {'x': 1, 'y': 2, 'z': 3}},"                                          \
    " 'constraints': [{'name': 'z_on', 'linear': {'z': 1}, 'sense': '>=', 'rhs': 1},"              \
    " {'name': 'at_least_two', 'linear': {'x': 1, 'y': 1}, 'sense': '>=', 'rhs': 2},"              \
    " {'name': 'xz', 'linear': {'x': 1, 'z': 1}, 'sense': '<=', 'rhs': 2},"                        \
    " {'name': 'soft', 'linear': {'y': 1}, 'sense': '<=', 'rhs': 0, 'weight': 3},"                 \
    " {'name': 'at_most_one', 'linear': {'x': 1, 'y': 1}, 'sense': '<=', 'rhs': 1}]"

static void expect_conflict(const char *solver)
{
    char req[2048];
    snprintf(req, sizeof req,
             "{" INFEASIBLE_MODEL ", 'options': {'solver': '%s', "
             "'time_limit': 0.2}}",
             solver);
    json_t *a = decide(req);
    assert_string_equal(status(a), "infeasible");
    assert_false(json_is_true(json_object_get(a, "feasible")));
    assert_true(json_is_true(json_object_get(a, "proven")));
    assert_int_equal(json_array_size(json_object_get(a, "alternatives")), 0);
    json_t *c = json_object_get(a, "conflicts");
    assert_non_null(c);
    json_t *violated = json_object_get(c, "violated");
    assert_true(json_array_size(violated) > 0);
    json_t *want = doc("['at_least_two', 'at_most_one']");
    if (!json_equal(json_object_get(c, "irreducible"), want))
        fail_msg("irreducible: %s", json_dumps(json_object_get(c, "irreducible"), 0));
    json_decref(want);
    /* Every violated constraint named is hard and really violated. */
    nq_cqm m;
    model_ok("{" INFEASIBLE_MODEL "}", &m);
    int64_t v[MAX_VARS];
    answer_values(&m, json_object_get(a, "assignment"), v);
    nq_cqm_eval ev;
    assert_int_equal(nq_cqm_evaluate(&m, v, &ev, NULL), 0);
    assert_false(ev.feasible);
    assert_int_equal((int)json_array_size(violated), ev.n_violated);
    nq_cqm_eval_free(&ev);
    assert_int_equal(brute_force(&m).n_feasible, 0);
    nq_cqm_free(&m);
    json_decref(a);
}

static void test_infeasible(void **state)
{
    (void)state;
    expect_conflict("auto");   /* enumerated: proven by the solve */
    expect_conflict("native"); /* a heuristic: proven by the conflict search */
    expect_conflict("milp");
}

/* Vetoing every option leaves no assignment whatever the constraints: the
 * irreducible set is empty and the variable is named. */
static void test_infeasible_domain(void **state)
{
    (void)state;
    json_t *a =
        decide("{'variables': [{'name': 's', 'type': 'choice', 'options': ['p', 'q'],"
               " 'veto': ['p']}, {'name': 'x', 'type': 'binary'}],"
               " 'constraints': [{'name': 'c', 'linear': {'x': 1}, 'sense': '<=', 'rhs': 1}],"
               " 'rules': {'name': 'r', 'inputs': [], 'outputs': [{'name': 'v',"
               " 'action': {'veto': 's'}}], 'rules': [{'when': {}, 'then': {'v': 'q'}}]}}");
    assert_string_equal(status(a), "infeasible");
    json_t *c = json_object_get(a, "conflicts");
    assert_int_equal(json_array_size(json_object_get(c, "irreducible")), 0);
    assert_true(json_is_array(json_object_get(c, "irreducible")));
    assert_string_equal(json_string_value(json_object_get(c, "out_of_domain")), "s");
    json_decref(a);
}

/* ---- the explanation -------------------------------------------------------- */

static void test_baseline(void **state)
{
    (void)state;
    json_t *a = decide("{" MODEL ", 'baseline': {'site': 'b', 'n': 1}}");
    json_t *b = json_object_get(a, "baseline");
    assert_non_null(b);
    /* b (2), x = 0 (left out: 0), n = 1 (-1.5): 0.5; the best is -4. */
    assert_true(num(b, "objective") == 0.5);
    assert_true(num(b, "improvement") == 4.5);
    assert_true(json_is_true(json_object_get(b, "feasible")));
    assert_int_equal(json_array_size(json_object_get(b, "violated_constraints")), 0);
    json_t *want = doc("[{'variable': 'site', 'from': 'b', 'to': 'a'},"
                       " {'variable': 'x', 'from': 0, 'to': 1},"
                       " {'variable': 'n', 'from': 1, 'to': 2}]");
    assert_true(json_equal(json_object_get(b, "changed"), want));
    json_decref(want);
    json_decref(a);
    /* A maximization's improvement is the increase; an infeasible
     * baseline says so. */
    a = decide("{'variables': [{'name': 'p', 'type': 'binary'}, {'name': 'q', 'type': 'binary'}],"
               " 'objective': {'sense': 'max', 'linear': {'p': 3, 'q': 2}},"
               " 'constraints': [{'name': 'one', 'linear': {'p': 1, 'q': 1}, 'sense': '<=',"
               " 'rhs': 1}], 'baseline': {'p': 1, 'q': 1}}");
    b = json_object_get(a, "baseline");
    assert_true(num(b, "objective") == 5 && num(b, "improvement") == -2);
    assert_false(json_is_true(json_object_get(b, "feasible")));
    assert_string_equal(
        json_string_value(json_array_get(json_object_get(b, "violated_constraints"), 0)), "one");
    json_decref(a);
}

static void check_alternative(const nq_cqm *m, const json_t *best, const json_t *alt,
                              double *last_score)
{
    int feasible;
    double s = score_on(m, json_object_get(alt, "assignment"), &feasible);
    assert_true(feasible);
    assert_true(s >= *last_score - 1e-12); /* best first */
    *last_score = s;
    assert_true(fabs(num(alt, "objective") - s) < 1e-12); /* no soft constraints here */
    int64_t vb[MAX_VARS], va[MAX_VARS];
    answer_values(m, json_object_get(best, "assignment"), vb);
    answer_values(m, json_object_get(alt, "assignment"), va);
    json_t *diff = json_object_get(alt, "differs_from_best");
    size_t n_diff = 0;
    for (int32_t i = 0; i < m->n_vars; i++) {
        int listed = 0;
        for (size_t k = 0; k < json_array_size(diff); k++)
            listed |= strcmp(json_string_value(json_array_get(diff, k)), m->vars[i].name) == 0;
        assert_int_equal(listed, va[i] != vb[i]);
        n_diff += va[i] != vb[i];
    }
    assert_true(n_diff > 0);
}

static void test_alternatives(void **state)
{
    (void)state;
    json_t *a = decide("{" MODEL ", 'options': {'alternatives': 5}}");
    nq_cqm m;
    model_ok("{" MODEL "}", &m);
    json_t *alts = json_object_get(a, "alternatives");
    assert_int_equal(json_array_size(alts), 5); /* 3 sites x 10 (x, n) pairs are feasible */
    int feasible;
    double last = score_on(&m, json_object_get(a, "assignment"), &feasible);
    for (size_t i = 0; i < json_array_size(alts); i++) {
        json_t *alt = json_array_get(alts, i);
        assert_int_equal(json_integer_value(json_object_get(alt, "rank")), (int)i + 2);
        check_alternative(&m, a, alt, &last);
        for (size_t k = 0; k < i; k++) /* distinct */
            assert_false(json_equal(json_object_get(alt, "assignment"),
                                    json_object_get(json_array_get(alts, k), "assignment")));
    }
    nq_cqm_free(&m);
    json_decref(a);
}

/* Groups, the offset and the ungrouped terms add up to the objective; soft
 * penalties are listed apart. */
static void test_contributions(void **state)
{
    (void)state;
    json_t *a =
        decide("{'variables': [{'name': 'p', 'type': 'binary'}, {'name': 'q', 'type': 'binary'},"
               " {'name': 'k', 'type': 'integer', 'lb': 0, 'ub': 4}],"
               " 'objective': {'offset': 7, 'linear': {'k': 1},"
               "  'groups': [{'name': 'rent', 'linear': {'p': 5, 'q': 3}},"
               "             {'name': 'mix', 'quadratic': [['p', 'k', -1]]}]},"
               " 'constraints': [{'name': 'one', 'linear': {'p': 1, 'q': 1}, 'sense': '>=',"
               " 'rhs': 1}, {'name': 'pq', 'linear': {'q': 1}, 'sense': '>=', 'rhs': 1,"
               " 'weight': 4}, {'name': 'kk', 'linear': {'k': 1}, 'sense': '>=', 'rhs': 2}]}");
    /* p = 1 (5) with k = 2 (2 - 2) plus the soft penalty 4 scores 11 + 4 =
     * 15; q = 1 (3) with k = 2 (2) scores 12: q, k = 2, objective 12. */
    assert_true(num(a, "objective") == 12);
    json_t *parts = json_object_get(a, "contributions");
    double sum = 0, shares = 0;
    for (size_t i = 0; i < json_array_size(parts); i++) {
        json_t *p = json_array_get(parts, i);
        const char *g = json_string_value(json_object_get(p, "group"));
        assert_string_not_equal(g, "soft penalties"); /* none: pq holds */
        sum += num(p, "value");
        shares += num(p, "share");
    }
    assert_true(fabs(sum - num(a, "objective")) < 1e-12);
    assert_true(fabs(shares - 1) < 1e-12);
    assert_int_equal(json_array_size(parts), 4); /* objective, rent, mix, offset */
    json_decref(a);
    /* With the soft constraint broken (q costs 10 now), penalties appear. */
    a = decide(
        "{'variables': [{'name': 'p', 'type': 'binary'}, {'name': 'q', 'type': 'binary'}],"
        " 'objective': {'linear': {'p': 1, 'q': 10}},"
        " 'constraints': [{'name': 'one', 'linear': {'p': 1, 'q': 1}, 'sense': '>=', 'rhs': 1},"
        " {'name': 'pq', 'linear': {'q': 1}, 'sense': '>=', 'rhs': 1, 'weight': 4}]}");
    assert_true(num(a, "objective") == 1 && num(a, "penalty") == 4);
    parts = json_object_get(a, "contributions");
    json_t *last = json_array_get(parts, json_array_size(parts) - 1);
    assert_string_equal(json_string_value(json_object_get(last, "group")), "soft penalties");
    assert_true(num(last, "value") == 4 && num(last, "share") == 0.8);
    assert_string_equal(
        json_string_value(json_array_get(json_object_get(a, "violated_constraints"), 0)), "pq");
    json_decref(a);
}

/* tight: holds with no slack; recomputed here from the assignment. */
static void test_tight(void **state)
{
    (void)state;
    json_t *a = decide("{" MODEL "}");
    nq_cqm m;
    model_ok("{" MODEL "}", &m);
    int64_t v[MAX_VARS];
    answer_values(&m, json_object_get(a, "assignment"), v);
    json_t *cons = json_object_get(a, "constraints"),
           *tight = json_object_get(a, "tight_constraints");
    assert_int_equal((int)json_array_size(cons), m.n_cons);
    size_t n_tight = 0;
    for (int32_t c = 0; c < m.n_cons; c++) {
        json_t *jc = json_array_get(cons, (size_t)c);
        double lhs = nq_cqm_expr_value(&m, &m.cons[c].e, v);
        int t = fabs(lhs - m.cons[c].rhs) <= 1e-9 * (1 + fabs(m.cons[c].rhs));
        assert_string_equal(json_string_value(json_object_get(jc, "name")), m.cons[c].name);
        assert_true(num(jc, "value") == lhs);
        assert_int_equal(json_is_true(json_object_get(jc, "tight")), t);
        assert_true(json_is_true(json_object_get(jc, "satisfied")));
        if (t)
            assert_string_equal(json_string_value(json_array_get(tight, n_tight++)),
                                m.cons[c].name);
    }
    assert_int_equal(json_array_size(tight), n_tight);
    assert_int_equal(n_tight, 1); /* cap: 2 + 2 = 4; need: 2 >= 1 has slack */
    nq_cqm_free(&m);
    json_decref(a);
}

/* A request built from a model read another way. */
static void test_from_cqm(void **state)
{
    (void)state;
    nq_cqm m;
    model_ok("{" MODEL "}", &m);
    nq_decision_req req;
    nq_decision_res res;
    assert_int_equal(nq_decision_req_from_cqm(&m, &req, NULL), 0);
    assert_int_equal(m.n_vars, 0); /* taken over */
    assert_int_equal(nq_decision_run(&req, NULL, NULL, &res, NULL), 0);
    assert_int_equal(res.status, NQ_DECISION_OPTIMAL);
    assert_true(res.best.score == -4 && res.best_feasible);
    nq_decision_res_free(&res);
    nq_decision_req_free(&req);
    nq_cqm_free(&m);
}

/* ---- bad requests ------------------------------------------------------------ */

typedef struct bad_case {
    const char *extra; /* members after the model */
    int code;
    const char *where;
} bad_case;

#define TABLE(outputs, rules)                                                                      \
    "'rules': [{'name': 't', 'inputs': [{'name': 'k'}], 'outputs': [" outputs "],"                 \
    " 'rules': [" rules "]}]"

static const bad_case bad_cases[] = {
    {"'options': {'bogus': 1}", NQ_EINVAL, "/options/bogus"},
    {"'options': {'solver': 'fast'}", NQ_EINVAL, "/options/solver"},
    {"'options': {'solver': 3}", NQ_EINVAL, "/options/solver"},
    {"'options': {'time_limit': 0}", NQ_ERANGE, "/options/time_limit"},
    {"'options': {'time_limit': 'soon'}", NQ_EINVAL, "/options/time_limit"},
    {"'options': {'alternatives': 101}", NQ_ERANGE, "/options/alternatives"},
    {"'options': {'seed': -1}", NQ_ERANGE, "/options/seed"},
    {"'options': {'max_iterations': 1.5}", NQ_EINVAL, "/options/max_iterations"},
    {"'options': []", NQ_EINVAL, "/options"},
    {"'rules': 3", NQ_EINVAL, "/rules"},
    {"'facts': [1]", NQ_EINVAL, "/facts"},
    {"'name': 7", NQ_EINVAL, "/name"},
    {"'baseline': {'q': 1}", NQ_ENOTFOUND, "/baseline/q"},
    {"'baseline': {'x': 1}", NQ_EINVAL, "/baseline"}, /* site is missing */
    {"'baseline': {'site': 'a', 'n': 9}", NQ_ERANGE, "/baseline/n"},
    {"'bogus': 1", NQ_EINVAL, "/bogus"},
    {TABLE("{'name': 'o', 'action': {'fix': 'nope'}}", ""), NQ_ENOTFOUND,
     "/rules/0/outputs/0/action/fix"},
    {TABLE("{'name': 'o'}, {'name': 'p', 'type': 'number', 'action': {'fix': 'site'}}", ""),
     NQ_EINVAL, "/rules/0/outputs/1/action/fix"},
    {TABLE("{'name': 'o', 'action': {'fix': 'n'}}", ""), NQ_EINVAL,
     "/rules/0/outputs/0/action/fix"},
    {TABLE("{'name': 'o', 'action': {'veto': 'x'}}", ""), NQ_EINVAL,
     "/rules/0/outputs/0/action/veto"},
    {TABLE("{'name': 'o', 'type': 'number', 'action': {'veto': 'site'}}", ""), NQ_EINVAL,
     "/rules/0/outputs/0/action/veto"},
    {TABLE("{'name': 'o', 'type': 'number', 'action': {'objective': 'site'}}", ""), NQ_EINVAL,
     "/rules/0/outputs/0/action/objective"},
    {TABLE("{'name': 'o', 'type': 'number', 'action': {'objective': 'site=z'}}", ""), NQ_ENOTFOUND,
     "/rules/0/outputs/0/action/objective"},
    {TABLE("{'name': 'o', 'action': {'objective': 'x'}}", ""), NQ_EINVAL,
     "/rules/0/outputs/0/action/objective"},
    {TABLE("{'name': 'o', 'type': 'number', 'action': {'rhs': 'budget'}}", ""), NQ_ENOTFOUND,
     "/rules/0/outputs/0/action/rhs"},
    {TABLE("{'name': 'o', 'type': 'number', 'action': {'rhs': 'cap', 'fix': 'x'}}", ""), NQ_EINVAL,
     "/rules/0/outputs/0/action"},
    {TABLE("{'name': 'o', 'action': {'unfix': 'x'}}", ""), NQ_EINVAL,
     "/rules/0/outputs/0/action/unfix"},
    {TABLE("{'name': 'o', 'action': 'fix x'}", ""), NQ_EINVAL, "/rules/0/outputs/0/action"},
    {TABLE("{'name': 'o', 'action': {}}", ""), NQ_EINVAL, "/rules/0/outputs/0/action"},
    {TABLE("{'name': 'o', 'action': {'rhs': 4}}", ""), NQ_EINVAL, "/rules/0/outputs/0/action/rhs"},
    {TABLE("{'name': 'o'}", "{'when': {'k': '>> 1'}, 'then': {'o': 'a'}}"), NQ_EPARSE,
     "/rules/0/rules/0/when/k"},
};

static void test_bad_requests(void **state)
{
    (void)state;
    char text[4096];
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        snprintf(text, sizeof text, "{" MODEL ", %s}", bad_cases[i].extra);
        parse_fails(text, bad_cases[i].code, bad_cases[i].where);
    }
    parse_fails("[]", NQ_EINVAL, "");
    parse_fails("{'variables': [], 'rules': {'name': 't', 'inputs': [], 'outputs': [{'name': 'o',"
                " 'action': {'fix': 'x'}}], 'rules': []}}",
                NQ_ENOTFOUND, "/rules/outputs/0/action/fix");
    parse_fails("{'rules': {'name': 't', 'inputs': [], 'outputs': [], 'rules': []}, 'x': 1}",
                NQ_EINVAL, "/x");
    parse_fails("{'facts': {}}", NQ_EINVAL, "/variables");
}

/* Actions that only fail once a rule gives its value. */
#define ONE_RULE(outputs, then)                                                                    \
    "'rules': [{'name': 't', 'inputs': [], 'outputs': [" outputs "],"                              \
    " 'rules': [{'when': {}, 'then': " then "}]}]"

static void test_impossible_actions(void **state)
{
    (void)state;
    /* Fixing to a vetoed option. */
    run_fails(
        "{'variables': [{'name': 'site', 'type': 'choice', 'options': ['a', 'b'],"
        " 'veto': ['b']}], " ONE_RULE("{'name': 'o', 'action': {'fix': 'site'}}", "{'o': 'b'}") "}",
        NQ_EINVAL, "/rules/0/rules/0/then/o");
    /* A label the variable does not have. */
    run_fails("{" MODEL
              ", " ONE_RULE("{'name': 'o', 'action': {'veto': 'site'}}", "{'o': 'z'}") "}",
              NQ_ENOTFOUND, "/rules/0/rules/0/then/o");
    run_fails("{" MODEL ", " ONE_RULE("{'name': 'o', 'action': {'fix': 'site'}}", "{'o': 'z'}") "}",
              NQ_ENOTFOUND, "/rules/0/rules/0/then/o");
    /* Out of bounds, not an integer. */
    run_fails("{" MODEL ", " ONE_RULE("{'name': 'o', 'type': 'number', 'action': {'fix': 'n'}}",
                                      "{'o': 4}") "}",
              NQ_EINVAL, "/rules/0/rules/0/then/o");
    run_fails("{" MODEL ", " ONE_RULE("{'name': 'o', 'type': 'number', 'action': {'fix': 'x'}}",
                                      "{'o': 0.5}") "}",
              NQ_EINVAL, "/rules/0/rules/0/then/o");
    /* Fixing x twice, to different values, from two tables. */
    run_fails(
        "{" MODEL ", 'rules': [{'name': 'a', 'inputs': [], 'outputs': [{'name': 'o',"
        " 'type': 'number', 'action': {'fix': 'x'}}], 'rules': [{'when': {}, 'then': {'o': 1}}]},"
        " {'name': 'b', 'inputs': [], 'outputs': [{'name': 'p~/q', 'type': 'number',"
        " 'action': {'fix': 'x'}}], 'rules': [{'when': {}, 'then': {'p~/q': 0}}]}]}",
        NQ_EINVAL, "/rules/1/rules/0/then/p~0~1q");
    /* Two different right-hand sides for one constraint. */
    run_fails("{" MODEL ", 'rules': {'name': 'a', 'hit_policy': 'collect', 'inputs': [],"
              " 'outputs': [{'name': 'o', 'type': 'number', 'action': {'rhs': 'cap'}}],"
              " 'rules': [{'when': {}, 'then': {'o': 3}}, {'when': {}, 'then': {'o': 3}},"
              " {'when': {}, 'then': {'o': 2}}]}}",
              NQ_EINVAL, "/rules/rules/2/then/o");
    /* A fact of the wrong type; a missing fact. */
    run_fails("{" MODEL
              ", " TABLE("{'name': 'o'}",
                         "{'when': {'k': '`a`'}, 'then': {'o': 'v'}}") ", 'facts': {'k': 3}}",
              NQ_EINVAL, "/facts/k");
    run_fails("{" MODEL
              ", " TABLE("{'name': 'o'}", "{'when': {'k': '`a`'}, 'then': {'o': 'v'}}") "}",
              NQ_EINVAL, "/facts/k");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_rules),           cmocka_unit_test(test_fix_first),
        cmocka_unit_test(test_veto_collect),       cmocka_unit_test(test_objective_priority),
        cmocka_unit_test(test_rhs_collect_sum),    cmocka_unit_test(test_rhs_no_match),
        cmocka_unit_test(test_unique_conflict),    cmocka_unit_test(test_policy),
        cmocka_unit_test(test_infeasible),         cmocka_unit_test(test_infeasible_domain),
        cmocka_unit_test(test_baseline),           cmocka_unit_test(test_alternatives),
        cmocka_unit_test(test_contributions),      cmocka_unit_test(test_tight),
        cmocka_unit_test(test_from_cqm),           cmocka_unit_test(test_bad_requests),
        cmocka_unit_test(test_impossible_actions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
