/* test_cqm_json.c - constrained models and assignments read from JSON.
 *
 * Documents are written with single quotes, which doc() turns into double
 * quotes, so that the JSON stays readable inside C string literals. Every
 * expected number below is worked out by hand in the comment next to it. */
/* cmocka needs these first, in this order. */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
/* clang-format on */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nqba/cqm.h"
#include "nqba/json.h"

/* ---- helpers ---------------------------------------------------------- */

static json_t *parse_text(const char *text)
{
    nq_err err;
    json_t *root = NULL;
    int rc = nq_json_parse(text, strlen(text), "t", NULL, &root, &err);
    if (rc)
        print_error("document does not parse: %s: %s\n", err.where, err.msg);
    assert_int_equal(rc, 0);
    return root;
}

/* Parse a document written with ' for ". */
static json_t *doc(const char *quoted)
{
    char *text = strdup(quoted);
    assert_non_null(text);
    for (char *p = text; *p; p++)
        if (*p == '\'')
            *p = '"';
    json_t *root = parse_text(text);
    free(text);
    return root;
}

static void build_ok(const char *quoted, nq_cqm *m)
{
    json_t *root = doc(quoted);
    nq_err err;
    nq_err_clear(&err);
    int rc = nq_cqm_from_json(root, "", m, &err);
    if (rc)
        print_error("unexpected failure: %s: %s\n", err.where, err.msg);
    assert_int_equal(rc, 0);
    json_decref(root);
}

static int model_is_zero(const nq_cqm *m)
{
    nq_cqm zero;
    memset(&zero, 0, sizeof zero);
    return memcmp(m, &zero, sizeof zero) == 0;
}

static int32_t atom_of(const nq_cqm *m, const char *ref)
{
    int a = nq_cqm_atom(m, ref, NULL);
    assert_true(a >= 0);
    return a;
}

/* Coefficient of atom in the linear part of a finished expression. */
static double lin_w(const nq_cqm_expr *e, int32_t atom)
{
    for (int32_t i = 0; i < e->n_lin; i++)
        if (e->lin[i].atom == atom)
            return e->lin[i].w;
    return 0;
}

static double quad_w(const nq_cqm_expr *e, int32_t a, int32_t b)
{
    int32_t lo = a < b ? a : b, hi = a < b ? b : a;
    for (int32_t i = 0; i < e->n_quad; i++)
        if (e->quad[i].a == lo && e->quad[i].b == hi)
            return e->quad[i].w;
    return 0;
}

/* ---- a full document ----------------------------------------------------- */

static const char *const full_doc =
    "{'name': 'demo', 'description': 'every feature once',"
    " 'rules': [{'when': 'x'}], 'facts': {'a': 1}, 'options': {'solver': 'exact'},"
    " 'baseline': {'x1': 0},"
    " 'variables': ["
    "  {'name': 'x1', 'type': 'binary'},"
    "  {'name': 'n', 'type': 'integer', 'lb': -2, 'ub': 10},"
    "  {'name': 'site', 'type': 'choice', 'options': ['berlin', 'paris', 'rome'],"
    "   'veto': ['rome']},"
    "  {'name': 'y', 'type': 'binary', 'fixed': true},"
    "  {'name': 'k', 'type': 'integer', 'lb': 0, 'ub': 5, 'fixed': 3},"
    "  {'name': 's2', 'type': 'choice', 'options': ['a', 'b'], 'fixed': 'b'}],"
    " 'objective': {'sense': 'max', 'offset': 1.5,"
    "  'linear': {'x1': 3, 'site=berlin': 2.5, 'n': -1},"
    "  'quadratic': [['x1', 'n', 1.5], ['site=paris', 'x1', -2]],"
    "  'groups': [{'name': 'travel cost', 'linear': {'y': 4, 'k': 0.5},"
    "              'quadratic': [['n', 'n', 0.25]]}]},"
    " 'constraints': ["
    "  {'name': 'budget', 'linear': {'x1': 4, 'n': 2}, 'quadratic': [['x1', 'n', 1]],"
    "   'sense': '<=', 'rhs': 10},"
    "  {'linear': {'site=paris': 1, 's2=a': 1}, 'sense': 'ge', 'rhs': 1, 'weight': 5},"
    "  {'name': 'eq', 'linear': {'k': 1, 'y': 1}, 'sense': '=', 'rhs': 4, 'hard': true},"
    "  {'name': 'soft2', 'linear': {'n': 1}, 'sense': 'eq', 'rhs': 0, 'hard': false,"
    "   'weight': 0.5}]}";

static void check_full_vars(const nq_cqm *m)
{
    assert_int_equal(m->n_vars, 6);
    assert_int_equal(m->n_atoms, 9); /* x1 n site(3) y k s2(2) */
    static const nq_cqm_kind kinds[] = {NQ_CQM_BINARY, NQ_CQM_INTEGER, NQ_CQM_CHOICE,
                                        NQ_CQM_BINARY, NQ_CQM_INTEGER, NQ_CQM_CHOICE};
    static const int64_t lb[] = {0, -2, 0, 0, 0, 0}, ub[] = {1, 10, 2, 1, 5, 1};
    for (int32_t i = 0; i < 6; i++) {
        assert_int_equal(m->vars[i].kind, kinds[i]);
        assert_int_equal(m->vars[i].lb, lb[i]);
        assert_int_equal(m->vars[i].ub, ub[i]);
    }
    assert_int_equal(nq_cqm_find_var(m, "site"), 2);
    assert_int_equal(m->vars[2].n_options, 3);
    assert_string_equal(m->vars[2].labels[1], "paris");
    assert_int_equal(atom_of(m, "site=berlin"), 2);
    assert_int_equal(atom_of(m, "site=rome"), 4);
    assert_int_equal(atom_of(m, "s2=b"), 8);
    assert_non_null(m->vars[2].vetoed);
    assert_int_equal(m->vars[2].vetoed[0] + m->vars[2].vetoed[1], 0);
    assert_int_equal(m->vars[2].vetoed[2], 1);
    assert_int_equal(m->vars[0].fixed, 0);
    assert_true(m->vars[3].fixed && m->vars[3].fixed_value == 1);
    assert_true(m->vars[4].fixed && m->vars[4].fixed_value == 3);
    assert_true(m->vars[5].fixed && m->vars[5].fixed_value == 1);
}

static void check_full_objective(const nq_cqm *m)
{
    assert_int_equal(m->maximize, 1);
    assert_true(m->offset == 1.5);
    assert_int_equal(m->n_groups, 2);
    assert_string_equal(m->groups[0].name, "objective");
    assert_string_equal(m->groups[1].name, "travel cost");
    const nq_cqm_expr *g0 = &m->groups[0].e, *g1 = &m->groups[1].e;
    assert_int_equal(g0->n_lin, 3);
    assert_true(lin_w(g0, 0) == 3 && lin_w(g0, 1) == -1 && lin_w(g0, 2) == 2.5);
    assert_int_equal(g0->n_quad, 2);
    assert_true(quad_w(g0, 0, 1) == 1.5 && quad_w(g0, 0, 3) == -2);
    assert_int_equal(g1->n_lin, 2);
    assert_true(lin_w(g1, 5) == 4 && lin_w(g1, 6) == 0.5);
    assert_int_equal(g1->n_quad, 1); /* n*n: an integer square stays quadratic */
    assert_true(quad_w(g1, 1, 1) == 0.25);
}

static void check_full_constraints(const nq_cqm *m)
{
    static const char *const names[] = {"budget", "c1", "eq", "soft2"};
    static const nq_cqm_sense senses[] = {NQ_CQM_LE, NQ_CQM_GE, NQ_CQM_EQ, NQ_CQM_EQ};
    static const double rhs[] = {10, 1, 4, 0}, weight[] = {0, 5, 0, 0.5};
    static const int hard[] = {1, 0, 1, 0};
    assert_int_equal(m->n_cons, 4);
    for (int32_t c = 0; c < 4; c++) {
        assert_string_equal(m->cons[c].name, names[c]);
        assert_int_equal(m->cons[c].sense, senses[c]);
        assert_true(m->cons[c].rhs == rhs[c]);
        assert_int_equal(!!m->cons[c].hard, hard[c]);
        if (!hard[c])
            assert_true(m->cons[c].weight == weight[c]);
    }
    assert_true(lin_w(&m->cons[0].e, 0) == 4 && lin_w(&m->cons[0].e, 1) == 2);
    assert_true(quad_w(&m->cons[0].e, 0, 1) == 1);
    assert_true(lin_w(&m->cons[1].e, 3) == 1 && lin_w(&m->cons[1].e, 7) == 1);
}

static void test_full_model(void **state)
{
    (void)state;
    nq_cqm m;
    build_ok(full_doc, &m);
    check_full_vars(&m);
    check_full_objective(&m);
    check_full_constraints(&m);
    nq_cqm_free(&m);
    assert_true(model_is_zero(&m));
}

static void test_full_evaluate(void **state)
{
    (void)state;
    nq_cqm m;
    build_ok(full_doc, &m);
    nq_cqm_eval ev;
    /* x1=1 n=4 site=paris y=1 k=3 s2=b.
     * objective group: 3*1 - 4 + 2.5*0 + 1.5*1*4 - 2*1*1 = 3
     * travel cost: 4*1 + 0.5*3 + 0.25*16 = 9.5; objective 1.5 + 3 + 9.5 = 14
     * budget: 4 + 8 + 4 = 16 > 10, hard, violated by 6
     * c1: 1 + 0 >= 1 holds; eq: 3 + 1 == 4 holds
     * soft2: |4 - 0| = 4, penalty 0.5 * 4 = 2; score -14 + 2 = -12 */
    int64_t a[6] = {1, 4, 1, 1, 3, 1};
    assert_int_equal(nq_cqm_evaluate(&m, a, &ev, NULL), 0);
    assert_true(fabs(ev.objective - 14) < 1e-12);
    assert_true(fabs(ev.group_value[0] - 3) < 1e-12 && fabs(ev.group_value[1] - 9.5) < 1e-12);
    assert_true(ev.lhs[0] == 16 && ev.violation[0] == 6);
    assert_true(ev.lhs[1] == 1 && ev.violation[1] == 0);
    assert_true(ev.lhs[2] == 4 && ev.violation[2] == 0);
    assert_true(ev.lhs[3] == 4 && ev.violation[3] == 4);
    assert_true(ev.penalty == 2 && fabs(ev.score - -12) < 1e-12);
    assert_int_equal(ev.feasible, 0);
    assert_int_equal(ev.n_violated, 1);
    assert_true(ev.max_violation == 6);
    nq_cqm_eval_free(&ev);
    /* x1=0 n=-2 site=berlin y=1 k=3 s2=b.
     * objective group: 0 + 2 + 2.5 + 0 + 0 = 4.5; travel cost: 4 + 1.5 + 0.25*4 = 6.5
     * objective 1.5 + 4.5 + 6.5 = 12.5; budget -4 <= 10 holds
     * c1: 0 >= 1 short by 1, penalty 5; soft2: |-2| = 2, penalty 1
     * score -12.5 + 6 = -6.5, feasible */
    int64_t b[6] = {0, -2, 0, 1, 3, 1};
    assert_int_equal(nq_cqm_evaluate(&m, b, &ev, NULL), 0);
    assert_true(fabs(ev.objective - 12.5) < 1e-12);
    assert_true(ev.lhs[0] == -4 && ev.violation[1] == 1 && ev.violation[3] == 2);
    assert_true(ev.penalty == 6 && fabs(ev.score - -6.5) < 1e-12);
    assert_int_equal(ev.feasible, 1);
    nq_cqm_eval_free(&ev);
    /* site=rome is vetoed: outside the domain. */
    b[2] = 2;
    assert_int_equal(nq_cqm_evaluate(&m, b, &ev, NULL), 0);
    assert_int_equal(ev.feasible, 0);
    assert_string_equal(ev.bad_var, "site");
    nq_cqm_eval_free(&ev);
    nq_cqm_free(&m);
}

static void test_small_models(void **state)
{
    (void)state;
    nq_cqm m;
    /* No variables: a pure policy decision. */
    build_ok("{'variables': []}", &m);
    assert_int_equal(m.n_vars, 0);
    assert_int_equal(m.maximize, 0);
    nq_cqm_eval ev;
    int64_t none = 0;
    assert_int_equal(nq_cqm_evaluate(&m, &none, &ev, NULL), 0);
    assert_true(ev.objective == 0 && ev.feasible);
    nq_cqm_eval_free(&ev);
    nq_cqm_free(&m);
    /* Default sense, squares of binaries folded, repeated terms summed,
     * names that need escaping in pointers. */
    build_ok("{'variables': [{'name': 'a/b', 'type': 'binary'}, {'name': 'c~d', 'type': 'binary'}],"
             " 'objective': {'sense': 'minimize', 'quadratic': [['a/b', 'a/b', 2], ['c~d', "
             "'a/b', 1], ['a/b', 'c~d', 1]]},"
             " 'constraints': [{'sense': 'le', 'rhs': 1, 'linear': {'a/b': 1, 'c~d': 1}}]}",
             &m);
    assert_int_equal(m.maximize, 0);
    assert_true(lin_w(&m.groups[0].e, 0) == 2);
    assert_true(quad_w(&m.groups[0].e, 0, 1) == 2);
    assert_string_equal(m.cons[0].name, "c0");
    assert_true(m.cons[0].hard);
    nq_cqm_free(&m);
}

/* The model may sit anywhere in a request; pointers start from there. */
static void test_nested_pointer(void **state)
{
    (void)state;
    json_t *root = doc("{'model': {'variables': [{'name': 'n', 'type': 'integer', 'lb': 2}]}}");
    nq_cqm m;
    nq_err err;
    assert_int_equal(nq_cqm_from_json(json_object_get(root, "model"), "/model", &m, &err),
                     NQ_EINVAL);
    assert_string_equal(err.where, "/model/variables/0/ub");
    assert_true(model_is_zero(&m));
    assert_int_equal(nq_cqm_from_json(json_object_get(root, "nothing"), "/nothing", &m, &err),
                     NQ_EINVAL);
    assert_string_equal(err.where, "/nothing");
    json_decref(root);
}

/* ---- bad models ------------------------------------------------------------ */

typedef struct bad_case {
    const char *doc; /* ' for " */
    int code;
    const char *where;
    const char *msg; /* a part of the message */
} bad_case;

#define BIN(name) "{'name': '" name "', 'type': 'binary'}"
#define SITE "{'name': 'site', 'type': 'choice', 'options': ['berlin', 'paris']}"
#define VARS1 "{'variables': [" BIN("x") "], "
#define VARS2 "{'variables': [" BIN("x") ", " SITE "], "
#define CON(body) VARS2 "'constraints': [{'sense': '<=', 'rhs': 1, " body "}]}"

static const bad_case bad_cases[] = {
    /* names in terms */
    {VARS1 "'objective': {'linear': {'q': 1}}}", NQ_ENOTFOUND, "/objective/linear/q",
     "unknown variable 'q'"},
    {CON("'linear': {'x': 1, 'q': 2}"), NQ_ENOTFOUND, "/constraints/0/linear/q",
     "unknown variable 'q'"},
    {CON("'quadratic': [['x', 'q', 1]]"), NQ_ENOTFOUND, "/constraints/0/quadratic/0/1",
     "unknown variable 'q'"},
    {CON("'linear': {'a/b': 1}"), NQ_ENOTFOUND, "/constraints/0/linear/a~1b",
     "unknown variable 'a/b'"},
    {"{'variables': [], 'objective': {'linear': {'x': 1}}}", NQ_ENOTFOUND, "/objective/linear/x",
     "unknown variable 'x'"},
    {VARS2 "'objective': {'linear': {'site': 1}}}", NQ_EINVAL, "/objective/linear/site",
     "choice variable 'site' needs an option: write site=<label>"},
    {VARS2 "'objective': {'quadratic': [['x', 'site', 1]]}}", NQ_EINVAL, "/objective/quadratic/0/1",
     "write site=<label>"},
    {VARS2 "'objective': {'linear': {'site=rome': 1}}}", NQ_ENOTFOUND,
     "/objective/linear/site=rome", "choice variable 'site' has no option 'rome'"},
    {VARS2 "'objective': {'linear': {'x=1': 1}}}", NQ_EINVAL, "/objective/linear/x=1",
     "variable 'x' has no options: write x"},
    {VARS2 "'objective': {'groups': [{'name': 'g', 'linear': {'y': 1}}]}}", NQ_ENOTFOUND,
     "/objective/groups/0/linear/y", "unknown variable 'y'"},
    /* quadratic terms */
    {VARS1 "'objective': {'quadratic': [['x', 1]]}}", NQ_EINVAL, "/objective/quadratic/0",
     "got 2 items"},
    {VARS1 "'objective': {'quadratic': [{'a': 'x'}]}}", NQ_EINVAL, "/objective/quadratic/0",
     "got an object"},
    {VARS1 "'objective': {'quadratic': [[1, 'x', 1]]}}", NQ_EINVAL, "/objective/quadratic/0/0",
     "expected a variable name (string), got a number"},
    {VARS1 "'objective': {'quadratic': [['x', 'x', '2']]}}", NQ_EINVAL, "/objective/quadratic/0/2",
     "expected a number"},
    {VARS1 "'objective': {'quadratic': {'x': 1}}}", NQ_EINVAL, "/objective/quadratic",
     "expected an array"},
    /* coefficients */
    {VARS1 "'objective': {'linear': {'x': 'NaN'}}}", NQ_EINVAL, "/objective/linear/x",
     "expected a number, got a string"},
    {VARS1 "'objective': {'linear': {'x': 1e300}}}", NQ_ERANGE, "/objective/linear/x",
     "beyond the limit"},
    {VARS1 "'objective': {'linear': {'x': -2e15}}}", NQ_ERANGE, "/objective/linear/x",
     "beyond the limit"},
    {VARS1 "'objective': {'offset': 1e16}}", NQ_ERANGE, "/objective/offset", "beyond the limit"},
    {CON("'linear': {'x': 1}, 'weight': 1e300"), NQ_ERANGE, "/constraints/0/weight",
     "beyond the limit"},
    {VARS1 "'constraints': [{'sense': '<=', 'rhs': -1e300}]}", NQ_ERANGE, "/constraints/0/rhs",
     "beyond the limit"},
    {VARS1 "'constraints': [{'sense': '<=', 'rhs': null}]}", NQ_EINVAL, "/constraints/0/rhs",
     "expected a number, got null"},
    /* variables */
    {"{'variables': [{'name': 'n', 'type': 'integer', 'lb': 5, 'ub': 3}]}", NQ_EINVAL,
     "/variables/0/ub", "lb 5 > ub 3"},
    {"{'variables': [{'name': 'n', 'type': 'integer', 'lb': 0}]}", NQ_EINVAL, "/variables/0/ub",
     "required member is missing"},
    {"{'variables': [{'name': 'n', 'type': 'integer', 'lb': 0.5, 'ub': 2}]}", NQ_EINVAL,
     "/variables/0/lb", "expected an integer"},
    {"{'variables': [{'name': 'n', 'type': 'integer', 'lb': -2000000000, 'ub': 2}]}", NQ_ERANGE,
     "/variables/0/lb", "must be between"},
    {"{'variables': [{'name': 's', 'type': 'choice', 'options': []}]}", NQ_EINVAL,
     "/variables/0/options", "at least one option"},
    {"{'variables': [{'name': 's', 'type': 'choice'}]}", NQ_EINVAL, "/variables/0/options",
     "required member is missing"},
    {"{'variables': [{'name': 's', 'type': 'choice', 'options': ['a', 'b', 'c', 'b', 'a']}]}",
     NQ_EINVAL, "/variables/0/options/3", "option 'b' is listed twice"},
    {"{'variables': [{'name': 's', 'type': 'choice', 'options': ['a', 7]}]}", NQ_EINVAL,
     "/variables/0/options/1", "expected a string, got a number"},
    {"{'variables': [{'name': 's', 'type': 'choice', 'options': ['a', '']}]}", NQ_EINVAL,
     "/variables/0/options/1", "must not be empty"},
    {"{'variables': [" BIN("x") ", " BIN("y") ", " BIN("x") "]}", NQ_EINVAL, "/variables/2/name",
     "duplicate variable name 'x'"},
    {"{'variables': [" BIN("x") ", " SITE ", " SITE "]}", NQ_EINVAL, "/variables/2/name",
     "duplicate variable name 'site'"},
    {"{'variables': [" BIN("a=b") "]}", NQ_EINVAL, "/variables/0/name", "must not contain '='"},
    {"{'variables': [" BIN("") "]}", NQ_EINVAL, "/variables/0/name", "1..128 bytes"},
    {"{'variables': [{'name': 7, 'type': 'binary'}]}", NQ_EINVAL, "/variables/0/name",
     "expected a string"},
    {"{'variables': [{'type': 'binary'}]}", NQ_EINVAL, "/variables/0/name",
     "required member is missing"},
    {"{'variables': [{'name': 'x', 'type': 'real'}]}", NQ_EINVAL, "/variables/0/type",
     "unknown type 'real'"},
    {"{'variables': [{'name': 'x'}]}", NQ_EINVAL, "/variables/0/type",
     "required member is missing"},
    {"{'variables': [{'name': 'x', 'type': 'binary', 'lb': 0}]}", NQ_EINVAL, "/variables/0/lb",
     "\"lb\" does not apply to binary variables"},
    {"{'variables': [{'name': 'x', 'type': 'binary', 'ub': 1}]}", NQ_EINVAL, "/variables/0/ub",
     "\"ub\" does not apply to binary variables"},
    {"{'variables': [{'name': 'x', 'type': 'integer', 'lb': 0, 'ub': 1, 'options': ['a']}]}",
     NQ_EINVAL, "/variables/0/options", "\"options\" does not apply to integer variables"},
    {"{'variables': [{'name': 's', 'type': 'choice', 'options': ['a'], 'ub': 3}]}", NQ_EINVAL,
     "/variables/0/ub", "\"ub\" does not apply to choice variables"},
    {"{'variables': [{'name': 'x', 'type': 'binary', 'veto': []}]}", NQ_EINVAL, "/variables/0/veto",
     "\"veto\" does not apply to binary variables"},
    {"{'variables': [7]}", NQ_EINVAL, "/variables/0", "expected an object, got a number"},
    {"{'variables': {}}", NQ_EINVAL, "/variables", "expected an array"},
    {"{'objective': {}}", NQ_EINVAL, "/variables", "required member is missing"},
    /* fixed and veto */
    {"{'variables': [{'name': 'n', 'type': 'integer', 'lb': 0, 'ub': 5, 'fixed': 7}]}", NQ_ERANGE,
     "/variables/0/fixed", "must be between 0 and 5"},
    {"{'variables': [{'name': 'x', 'type': 'binary', 'fixed': 2}]}", NQ_ERANGE,
     "/variables/0/fixed", "must be 0 or 1"},
    {"{'variables': [{'name': 'x', 'type': 'binary', 'fixed': 'yes'}]}", NQ_EINVAL,
     "/variables/0/fixed", "expected 0, 1, false or true, got a string"},
    {"{'variables': [{'name': 's', 'type': 'choice', 'options': ['a'], 'fixed': 'b'}]}",
     NQ_ENOTFOUND, "/variables/0/fixed", "choice variable 's' has no option 'b'"},
    {"{'variables': [{'name': 's', 'type': 'choice', 'options': ['a', 'b'], 'veto': ['a', "
     "'c']}]}",
     NQ_ENOTFOUND, "/variables/0/veto/1", "choice variable 's' has no option 'c'"},
    {"{'variables': [{'name': 's', 'type': 'choice', 'options': ['a', 'b'], 'veto': 'a'}]}",
     NQ_EINVAL, "/variables/0/veto", "expected an array"},
    {"{'variables': [{'name': 's', 'type': 'choice', 'options': ['a', 'b'], 'veto': ['b'], "
     "'fixed': 'b'}]}",
     NQ_EINVAL, "/variables/0/fixed", "both fixed and vetoed"},
    /* unknown members */
    {"{'variables': [], 'varibles': []}", NQ_EINVAL, "/varibles", "unknown member"},
    {"{'variables': [{'name': 'x', 'type': 'binary', 'lbound': 0}]}", NQ_EINVAL,
     "/variables/0/lbound", "unknown member"},
    {VARS1 "'objective': {'lin': {}}}", NQ_EINVAL, "/objective/lin", "unknown member"},
    {VARS1 "'objective': {'groups': [{'name': 'g', 'weight': 2}]}}", NQ_EINVAL,
     "/objective/groups/0/weight", "unknown member"},
    {CON("'rhs2': 1"), NQ_EINVAL, "/constraints/0/rhs2", "unknown member"},
    /* objective */
    {VARS1 "'objective': {'sense': 'up'}}", NQ_EINVAL, "/objective/sense", "unknown sense 'up'"},
    {VARS1 "'objective': {'sense': 1}}", NQ_EINVAL, "/objective/sense", "expected a string"},
    {VARS1 "'objective': []}", NQ_EINVAL, "/objective", "expected an object"},
    {VARS1 "'objective': {'groups': [{'linear': {'x': 1}}]}}", NQ_EINVAL,
     "/objective/groups/0/name", "required member is missing"},
    {VARS1 "'objective': {'groups': [{'name': 'g'}, {'name': 'g'}]}}", NQ_EINVAL,
     "/objective/groups/1/name", "duplicate group name 'g'"},
    {VARS1 "'objective': {'groups': [{'name': 'objective'}]}}", NQ_EINVAL,
     "/objective/groups/0/name", "names the ungrouped terms"},
    /* constraints */
    {VARS1 "'constraints': [{'sense': '<', 'rhs': 1}]}", NQ_EINVAL, "/constraints/0/sense",
     "unknown sense '<'"},
    {VARS1 "'constraints': [{'rhs': 1}]}", NQ_EINVAL, "/constraints/0/sense",
     "required member is missing"},
    {VARS1 "'constraints': [{'sense': '<='}]}", NQ_EINVAL, "/constraints/0/rhs",
     "required member is missing"},
    {CON("'weight': 0"), NQ_ERANGE, "/constraints/0/weight", "weight must be positive, got 0"},
    {CON("'weight': -1"), NQ_ERANGE, "/constraints/0/weight", "weight must be positive, got -1"},
    {CON("'hard': false"), NQ_EINVAL, "/constraints/0/hard", "needs a \"weight\""},
    {CON("'hard': true, 'weight': 2"), NQ_EINVAL, "/constraints/0/weight", "takes no weight"},
    {CON("'hard': 1"), NQ_EINVAL, "/constraints/0/hard", "expected a boolean"},
    {VARS1 "'constraints': [{'name': 'a', 'sense': '<=', 'rhs': 1}, {'name': 'b', 'sense': '<=', "
           "'rhs': 1}, {'name': 'a', 'sense': '>=', 'rhs': 0}]}",
     NQ_EINVAL, "/constraints/2/name", "duplicate constraint name 'a'"},
    {VARS1 "'constraints': [{'name': 'c1', 'sense': '<=', 'rhs': 1}, {'sense': '<=', 'rhs': "
           "1}]}",
     NQ_EINVAL, "/constraints/1", "duplicate constraint name 'c1'"},
    {VARS1 "'constraints': [5]}", NQ_EINVAL, "/constraints/0", "expected an object"},
    {VARS1 "'constraints': {}}", NQ_EINVAL, "/constraints", "expected an array"},
};

static void test_bad_models(void **state)
{
    (void)state;
    int failures = 0;
    for (size_t k = 0; k < sizeof bad_cases / sizeof bad_cases[0]; k++) {
        const bad_case *c = &bad_cases[k];
        json_t *root = doc(c->doc);
        nq_cqm m;
        memset(&m, 0x5a, sizeof m);
        nq_err err;
        nq_err_clear(&err);
        int rc = nq_cqm_from_json(root, "", &m, &err);
        if (rc != c->code || strcmp(err.where, c->where) != 0 || !strstr(err.msg, c->msg) ||
            !model_is_zero(&m)) {
            print_error("case %zu: got rc %d where '%s' msg '%s'; want rc %d where '%s' msg '%s'\n",
                        k, rc, err.where, err.msg, c->code, c->where, c->msg);
            failures++;
        }
        nq_cqm_free(&m);
        json_decref(root);
    }
    assert_int_equal(failures, 0);
}

static void test_not_an_object(void **state)
{
    (void)state;
    json_t *root = parse_text("[1, 2]");
    nq_cqm m;
    nq_err err;
    assert_int_equal(nq_cqm_from_json(root, "", &m, &err), NQ_EINVAL);
    assert_string_equal(err.where, "");
    assert_string_equal(err.msg, "expected an object, got an array");
    assert_true(model_is_zero(&m));
    assert_int_equal(nq_cqm_from_json(root, NULL, NULL, NULL), NQ_EINVAL);
    json_decref(root);
}

/* ---- limits ---------------------------------------------------------------- */

/* A document of n copies of item inside prefix ... suffix. */
static char *repeat_doc(const char *prefix, const char *item, size_t n, const char *suffix)
{
    size_t il = strlen(item), pl = strlen(prefix), sl = strlen(suffix);
    char *text = malloc(pl + n * (il + 1) + sl + 1);
    assert_non_null(text);
    char *p = text;
    memcpy(p, prefix, pl);
    p += pl;
    for (size_t k = 0; k < n; k++) {
        if (k)
            *p++ = ',';
        memcpy(p, item, il);
        p += il;
    }
    memcpy(p, suffix, sl + 1);
    return text;
}

static void expect_limit(const char *text, const char *where)
{
    json_t *root = parse_text(text);
    nq_cqm m;
    nq_err err;
    int rc = nq_cqm_from_json(root, "", &m, &err);
    if (rc != NQ_ELIMIT || strcmp(err.where, where) != 0)
        print_error("got rc %d at '%s': %s\n", rc, err.where, err.msg);
    assert_int_equal(rc, NQ_ELIMIT);
    assert_string_equal(err.where, where);
    assert_true(model_is_zero(&m));
    json_decref(root);
}

/* 100,000 variables with distinct names: refused by their count alone. */
static void test_variable_bomb(void **state)
{
    (void)state;
    size_t n = 100000;
    char *text = malloc(n * 40 + 64);
    assert_non_null(text);
    size_t len = (size_t)sprintf(text, "{\"variables\": [");
    for (size_t i = 0; i < n; i++)
        len += (size_t)sprintf(text + len, "%s{\"name\": \"v%zu\", \"type\": \"binary\"}",
                               i ? "," : "", i);
    strcpy(text + len, "]}");
    json_t *root = parse_text(text);
    free(text);
    nq_cqm m;
    nq_err err;
    assert_int_equal(nq_cqm_from_json(root, "", &m, &err), NQ_ELIMIT);
    assert_string_equal(err.where, "/variables");
    assert_string_equal(err.msg, "100000 variables exceed the limit of 20000");
    json_decref(root);
}

static void test_other_limits(void **state)
{
    (void)state;
    /* One choice with too many options. */
    char *text = repeat_doc("{\"variables\": [{\"name\": \"s\", \"type\": \"choice\", "
                            "\"options\": [",
                            "\"o\"", NQ_CQM_MAX_OPTIONS + 1, "]}]}");
    expect_limit(text, "/variables/0/options");
    free(text);
    /* Ten choices of 10,000 options reach the atom limit; the eleventh
     * crosses it. */
    char *opts = repeat_doc("{\"name\": \"s\", \"type\": \"choice\", \"options\": [", "\"o\"",
                            NQ_CQM_MAX_OPTIONS, "]}");
    text = repeat_doc("{\"variables\": [", opts, 11, "]}");
    expect_limit(text, "/variables/10/options");
    free(text);
    free(opts);
    text = repeat_doc("{\"variables\": [], \"constraints\": [", "{}", NQ_CQM_MAX_CONSTRAINTS + 1,
                      "]}");
    expect_limit(text, "/constraints");
    free(text);
    text = repeat_doc("{\"variables\": [], \"objective\": {\"groups\": [", "{}", NQ_CQM_MAX_GROUPS + 1,
                      "]}}");
    expect_limit(text, "/objective/groups");
    free(text);
    /* Terms are counted before any is read, so null items stand in for
     * them (null is a shared value: the arrays cost 8 bytes an item). */
    json_t *root = json_object(), *obj = json_object(), *q1 = json_array(), *q2 = json_array();
    for (int64_t k = 0; k < NQ_CQM_MAX_TERMS / 2; k++)
        assert_int_equal(
            json_array_append_new(q1, json_null()) | json_array_append_new(q2, json_null()), 0);
    json_object_set_new(obj, "linear", json_pack("{s:i}", "x", 1));
    json_object_set_new(obj, "quadratic", q1);
    json_object_set_new(root, "variables", json_array());
    json_object_set_new(root, "objective", obj);
    json_object_set_new(root, "constraints", json_pack("[{s:o}]", "quadratic", q2));
    nq_cqm m;
    nq_err err;
    assert_int_equal(nq_cqm_from_json(root, "", &m, &err), NQ_ELIMIT);
    assert_string_equal(err.where, "/constraints/0");
    assert_string_equal(err.msg, "4000001 terms up to here exceed the limit of 4000000");
    json_decref(root);
}

/* The largest model the limits allow reads in reasonable time. */
static void test_many_constraints(void **state)
{
    (void)state;
    char *text = repeat_doc("{\"variables\": [{\"name\": \"x\", \"type\": \"binary\"}], "
                            "\"constraints\": [",
                            "{\"sense\": \"<=\", \"rhs\": 1, \"linear\": {\"x\": 1}}",
                            NQ_CQM_MAX_CONSTRAINTS, "]}");
    nq_cqm m;
    build_ok(text, &m);
    free(text);
    assert_int_equal(m.n_cons, NQ_CQM_MAX_CONSTRAINTS);
    assert_string_equal(m.cons[NQ_CQM_MAX_CONSTRAINTS - 1].name, "c19999");
    nq_cqm_free(&m);
}

/* ---- the documented examples ------------------------------------------------ */

/* The complete examples in docs/api/decision-model.md are the code blocks
 * that open with a "name" member; each must read, and its stated best
 * assignment must score what the page says. */
static char *example(const char *text, int k)
{
    const char *open = "```json\n{\n  \"name\"";
    const char *p = text;
    for (int i = 0; p && i <= k; i++) {
        p = strstr(p, open);
        if (p && i < k)
            p++;
    }
    assert_non_null(p);
    p += strlen("```json\n");
    const char *end = strstr(p, "```");
    assert_non_null(end);
    return strndup(p, (size_t)(end - p));
}

static void check_example(const char *text, int k, const char *answer, double objective,
                          double score)
{
    char *src = example(text, k);
    json_t *root = parse_text(src);
    nq_cqm m;
    nq_err err;
    int rc = nq_cqm_from_json(root, "", &m, &err);
    if (rc)
        print_error("example %d: %s: %s\n", k, err.where, err.msg);
    assert_int_equal(rc, 0);
    json_t *a = parse_text(answer);
    int64_t *v = calloc((size_t)m.n_vars, sizeof *v);
    assert_non_null(v);
    assert_int_equal(nq_cqm_values_from_json(&m, a, "", v, &err), 0);
    nq_cqm_eval ev;
    assert_int_equal(nq_cqm_evaluate(&m, v, &ev, NULL), 0);
    assert_true(ev.feasible);
    assert_true(ev.objective == objective && ev.score == score);
    nq_cqm_eval_free(&ev);
    free(v);
    json_decref(a);
    nq_cqm_free(&m);
    json_decref(root);
    free(src);
}

static void test_doc_examples(void **state)
{
    (void)state;
    const char *dir = getenv("NQ_SOURCE_DIR");
    if (!dir) {
        print_message("  NQ_SOURCE_DIR not set, skipped\n");
        return;
    }
    char path[1024];
    snprintf(path, sizeof path, "%s/docs/api/decision-model.md", dir);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char *text = calloc(1, 1 << 20);
    assert_non_null(text);
    assert_true(fread(text, 1, (1 << 20) - 1, f) > 0);
    fclose(f);
    check_example(text, 0, "{\"tent\": 1, \"stove\": 1, \"camera\": 1, \"water\": 0}", 21, -21);
    check_example(text, 1, "{\"site\": \"paris\", \"trucks\": 3, \"night_shift\": 1}", 1280, 1280);
    free(text);
}

/* ---- assignments ------------------------------------------------------------ */

static void test_values_roundtrip(void **state)
{
    (void)state;
    nq_cqm m;
    build_ok(full_doc, &m);
    json_t *in = doc("{'x1': true, 'n': 7, 'site': 'rome', 's2': 'a', 'k': 5.0}");
    int64_t v[6] = {0, 0, 0, 1, 3, 1};
    nq_err err;
    assert_int_equal(nq_cqm_values_from_json(&m, in, "/baseline", v, &err), 0);
    const int64_t want[6] = {1, 7, 2, 1, 5, 0}; /* y keeps its 1 */
    assert_memory_equal(v, want, sizeof want);
    json_t *out = nq_cqm_values_to_json(&m, v);
    assert_non_null(out);
    char *text = json_dumps(out, JSON_SORT_KEYS | JSON_COMPACT);
    assert_string_equal(text, "{\"k\":5,\"n\":7,\"s2\":\"a\",\"site\":\"rome\",\"x1\":1,\"y\":1}");
    free(text);
    int64_t back[6] = {9, 9, 9, 9, 9, 9};
    assert_int_equal(nq_cqm_values_from_json(&m, out, "", back, &err), 0);
    assert_memory_equal(back, want, sizeof want);
    json_decref(out);
    json_decref(in);
    /* A choice index outside the options has no label to write. */
    v[2] = 7;
    out = nq_cqm_values_to_json(&m, v);
    assert_true(json_is_null(json_object_get(out, "site")));
    json_decref(out);
    nq_cqm_free(&m);
    /* An empty model gives an empty object. */
    build_ok("{'variables': []}", &m);
    out = nq_cqm_values_to_json(&m, NULL);
    assert_int_equal(json_object_size(out), 0);
    json_decref(out);
    nq_cqm_free(&m);
}

static void test_values_bad(void **state)
{
    (void)state;
    static const bad_case cases[] = {
        {"{'q': 1}", NQ_ENOTFOUND, "/baseline/q", "unknown variable 'q'"},
        {"{'x1': 1, 'site=paris': 1}", NQ_ENOTFOUND, "/baseline/site=paris", "unknown variable"},
        {"{'n': 11}", NQ_ERANGE, "/baseline/n", "must be between -2 and 10"},
        {"{'n': -3}", NQ_ERANGE, "/baseline/n", "must be between -2 and 10"},
        {"{'n': 2.5}", NQ_EINVAL, "/baseline/n", "expected an integer, got a fraction"},
        {"{'n': '2'}", NQ_EINVAL, "/baseline/n", "expected an integer, got a string"},
        {"{'n': 1e30}", NQ_ERANGE, "/baseline/n", "must be between"},
        {"{'x1': 2}", NQ_ERANGE, "/baseline/x1", "must be 0 or 1"},
        {"{'x1': null}", NQ_EINVAL, "/baseline/x1", "got null"},
        {"{'site': 'madrid'}", NQ_ENOTFOUND, "/baseline/site", "has no option 'madrid'"},
        {"{'site': 1}", NQ_EINVAL, "/baseline/site", "expected an option label"},
        {"[]", NQ_EINVAL, "/baseline", "expected an object, got an array"},
    };
    nq_cqm m;
    build_ok(full_doc, &m);
    int failures = 0;
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        json_t *in = doc(cases[k].doc);
        int64_t v[6] = {0, 0, 0, 1, 3, 1};
        const int64_t before[6] = {0, 0, 0, 1, 3, 1};
        nq_err err;
        nq_err_clear(&err);
        int rc = nq_cqm_values_from_json(&m, in, "/baseline", v, &err);
        if (rc != cases[k].code || strcmp(err.where, cases[k].where) != 0 ||
            !strstr(err.msg, cases[k].msg) || memcmp(v, before, sizeof v) != 0) {
            print_error("case %zu: got rc %d where '%s' msg '%s'\n", k, rc, err.where, err.msg);
            failures++;
        }
        json_decref(in);
    }
    assert_int_equal(failures, 0);
    nq_cqm_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_model),       cmocka_unit_test(test_full_evaluate),
        cmocka_unit_test(test_small_models),     cmocka_unit_test(test_nested_pointer),
        cmocka_unit_test(test_bad_models),       cmocka_unit_test(test_not_an_object),
        cmocka_unit_test(test_variable_bomb),    cmocka_unit_test(test_other_limits),
        cmocka_unit_test(test_many_constraints), cmocka_unit_test(test_values_roundtrip),
        cmocka_unit_test(test_values_bad),       cmocka_unit_test(test_doc_examples),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
