/* test_dtable.c - unit tests for decision tables (lib/units/nqba/dtable*.c):
 * every hit policy, every FEEL form, bad tables and bad facts with the
 * pointers they report, and a randomized check against a brute-force
 * evaluator written here.
 *
 * Table documents are written with ' for " and ` for \" so FEEL string
 * literals stay readable: 'region': '`EU`,`UK`' is the JSON member
 * "region": "\"EU\",\"UK\"". */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nqba/dtable.h"
#include "nqba/json.h"
#include "nqba/rng.h"

/* ---- helpers -------------------------------------------------------------- */

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

/* The document is released right away: the table must not depend on it. */
static nq_dtable *table_at(const char *text, const char *ptr)
{
    json_t *d = doc(text);
    nq_dtable *t = NULL;
    nq_err e;
    if (nq_dtable_parse(d, ptr, &t, &e))
        fail_msg("table does not parse: %s: %s", e.where, e.msg);
    json_decref(d);
    return t;
}

static nq_dtable *table(const char *text) { return table_at(text, ""); }

static int eval(const nq_dtable *t, const char *facts, nq_dtable_result *r, nq_err *e)
{
    json_t *f = doc(facts);
    nq_err_clear(e);
    int rc = nq_dtable_eval(t, f, "/facts", r, e);
    json_decref(f);
    return rc;
}

static void eval_ok(const nq_dtable *t, const char *facts, nq_dtable_result *r)
{
    nq_err e;
    if (eval(t, facts, r, &e))
        fail_msg("eval failed: %s: %s", e.where, e.msg);
}

/* The matched rules are exactly want[0..n). */
static void assert_matched(const nq_dtable_result *r, const int32_t *want, int32_t n)
{
    assert_int_equal(r->n_matched, n);
    for (int32_t k = 0; k < n; k++)
        assert_int_equal(r->matched[k], want[k]);
}

/* A single-hit result selected rule `rule` whose output `name` is `value`. */
static void assert_hit(const nq_dtable_result *r, int32_t rule, const char *name, const char *value)
{
    assert_int_equal(r->n_hits, 1);
    assert_int_equal(r->hits[0].rule, rule);
    assert_string_equal(json_string_value(json_object_get(r->hits[0].outputs, name)), value);
}

static void assert_json(json_t *v, const char *want)
{
    assert_non_null(v);
    char *s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS);
    json_t *w = doc(want);
    char *ws = json_dumps(w, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(s, ws);
    free(s);
    free(ws);
    json_decref(w);
    json_decref(v);
}

/* A site policy: rules 1 and 3 agree (berlin); 0/1 and 1/2 disagree. */
static const char site_fmt[] =
    "{'name': 'site_policy', 'hit_policy': '%s' %s,"
    " 'inputs': [{'name': 'region', 'type': 'string'}, {'name': 'revenue', 'type': 'number'},"
    "            {'name': 'regulated', 'type': 'boolean'}],"
    " 'outputs': [{'name': 'veto_site', 'type': 'string', 'values': ['paris', 'berlin', 'madrid'],"
    "              'action': {'veto': true, 'weight': 7}}],"
    " 'rules': ["
    "  {'when': {'region': '`EU`,`UK`', 'revenue': '>= 1000000'}, 'then': {'veto_site': 'paris'},"
    "   'description': 'big EU customers'},"
    "  {'when': {'regulated': true}, 'then': {'veto_site': 'berlin'}},"
    "  {'when': {'region': ' `US` '}, 'then': {'veto_site': 'madrid'}},"
    "  {'when': {'revenue': '< 1000000', 'region': 'not(`US`)', 'regulated': '-'},"
    "   'then': {'veto_site': 'berlin'}}]}";

static const char F_EU_BIG[] = "{'region': 'EU', 'revenue': 2000000, 'regulated': false}";
static const char F_EU_BIG_REG[] = "{'region': 'EU', 'revenue': 2000000, 'regulated': true}";
static const char F_UK_SMALL_REG[] = "{'region': 'UK', 'revenue': 10, 'regulated': true}";
static const char F_US_REG[] = "{'region': 'US', 'revenue': 5, 'regulated': true}";
static const char F_NONE[] = "{'region': 'APAC', 'revenue': 5000000, 'regulated': false}";

static nq_dtable *site(const char *policy, const char *extra)
{
    char text[2048];
    snprintf(text, sizeof text, site_fmt, policy, extra);
    return table(text);
}

/* ---- hit policies --------------------------------------------------------- */

static void test_unique(void **state)
{
    (void)state;
    nq_dtable *t = site("unique", "");
    nq_dtable_result r;
    nq_err e;
    eval_ok(t, F_EU_BIG, &r);
    assert_matched(&r, (int32_t[]){0}, 1);
    assert_hit(&r, 0, "veto_site", "paris");
    assert_int_equal(r.aggregated, 0);
    nq_dtable_result_free(&r);
    eval_ok(t, F_NONE, &r);
    assert_int_equal(r.n_matched, 0);
    assert_int_equal(r.n_hits, 0);
    nq_dtable_result_free(&r);
    assert_int_equal(eval(t, F_UK_SMALL_REG, &r, &e), NQ_EINVAL);
    assert_string_equal(e.where, "/rules/3");
    assert_string_equal(e.msg, "unique hit policy violated: rules 1 and 3 both match");
    assert_int_equal(r.n_hits, 0); /* emptied on error */
    assert_null(r.hits);
    assert_int_equal(eval(t, F_EU_BIG_REG, &r, &e), NQ_EINVAL);
    assert_string_equal(e.where, "/rules/1");
    assert_string_equal(e.msg, "unique hit policy violated: rules 0 and 1 both match");
    nq_dtable_free(t);
}

static void test_first(void **state)
{
    (void)state;
    nq_dtable *t = site("first", "");
    nq_dtable_result r;
    eval_ok(t, F_EU_BIG_REG, &r);
    assert_matched(&r, (int32_t[]){0, 1}, 2);
    assert_hit(&r, 0, "veto_site", "paris");
    nq_dtable_result_free(&r);
    eval_ok(t, F_US_REG, &r);
    assert_matched(&r, (int32_t[]){1, 2}, 2);
    assert_hit(&r, 1, "veto_site", "berlin");
    nq_dtable_result_free(&r);
    eval_ok(t, F_EU_BIG, &r);
    assert_hit(&r, 0, "veto_site", "paris");
    nq_dtable_result_free(&r);
    eval_ok(t, F_NONE, &r);
    assert_int_equal(r.n_hits, 0);
    nq_dtable_result_free(&r);
    nq_dtable_free(t);
}

static void test_priority_site(void **state)
{
    (void)state;
    nq_dtable *t = site("priority", "");
    nq_dtable_result r;
    eval_ok(t, F_US_REG, &r); /* berlin (rank 1) beats madrid (rank 2) */
    assert_matched(&r, (int32_t[]){1, 2}, 2);
    assert_hit(&r, 1, "veto_site", "berlin");
    nq_dtable_result_free(&r);
    eval_ok(t, F_EU_BIG_REG, &r); /* paris beats berlin */
    assert_hit(&r, 0, "veto_site", "paris");
    nq_dtable_result_free(&r);
    eval_ok(t, F_UK_SMALL_REG, &r); /* berlin twice: the earlier rule */
    assert_hit(&r, 1, "veto_site", "berlin");
    nq_dtable_result_free(&r);
    eval_ok(t, F_NONE, &r);
    assert_int_equal(r.n_hits, 0);
    nq_dtable_result_free(&r);
    nq_dtable_free(t);
}

/* Later rules rank higher on "level"; "score" breaks the tie between rules
 * 1-3; rules 2 and 3 tie on both, so rule order decides. */
static const char priority_tbl[] =
    "{'name': 'p', 'hit_policy': 'priority', 'inputs': [{'name': 'x', 'type': 'number'}],"
    " 'outputs': [{'name': 'level', 'values': ['high', 'low']},"
    "             {'name': 'score', 'type': 'number', 'values': [3, 2, 1]}],"
    " 'rules': [{'when': {'x': '< 10'}, 'then': {'level': 'low', 'score': 3}},"
    "           {'when': {'x': '< 5'}, 'then': {'level': 'high', 'score': 1}},"
    "           {'when': {'x': '< 3'}, 'then': {'level': 'high', 'score': 2.0}},"
    "           {'when': {'x': '< 2'}, 'then': {'level': 'high', 'score': 2}}]}";

static void test_priority_ties(void **state)
{
    (void)state;
    nq_dtable *t = table(priority_tbl);
    static const struct { const char *facts; int32_t rule; } cases[] = {
        {"{'x': 1}", 2}, {"{'x': 2.5}", 2}, {"{'x': 4}", 1}, {"{'x': 7}", 0}, {"{'x': 20}", -1},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        nq_dtable_result r;
        eval_ok(t, cases[k].facts, &r);
        assert_int_equal(r.n_hits, cases[k].rule >= 0);
        if (cases[k].rule >= 0)
            assert_int_equal(r.hits[0].rule, cases[k].rule);
        nq_dtable_result_free(&r);
    }
    nq_dtable_result r;
    eval_ok(t, "{'x': 1}", &r);
    assert_matched(&r, (int32_t[]){0, 1, 2, 3}, 4);
    assert_true(json_number_value(json_object_get(r.hits[0].outputs, "score")) == 2.0);
    nq_dtable_result_free(&r);
    nq_dtable_free(t);
}

static void test_any(void **state)
{
    (void)state;
    nq_dtable *t = site("any", "");
    nq_dtable_result r;
    nq_err e;
    eval_ok(t, F_UK_SMALL_REG, &r); /* rules 1 and 3 agree */
    assert_matched(&r, (int32_t[]){1, 3}, 2);
    assert_hit(&r, 1, "veto_site", "berlin");
    nq_dtable_result_free(&r);
    eval_ok(t, F_EU_BIG, &r);
    assert_hit(&r, 0, "veto_site", "paris");
    nq_dtable_result_free(&r);
    eval_ok(t, F_NONE, &r);
    assert_int_equal(r.n_hits, 0);
    nq_dtable_result_free(&r);
    assert_int_equal(eval(t, F_US_REG, &r, &e), NQ_EINVAL);
    assert_string_equal(e.where, "/rules/2");
    assert_string_equal(e.msg,
                        "any hit policy violated: rules 1 and 2 match with different outputs");
    nq_dtable_free(t);
}

static void test_collect_list(void **state)
{
    (void)state;
    nq_dtable *t = site("collect", "");
    nq_dtable_result r;
    eval_ok(t, F_EU_BIG_REG, &r);
    assert_matched(&r, (int32_t[]){0, 1}, 2);
    assert_int_equal(r.n_hits, 2);
    assert_int_equal(r.hits[0].rule, 0);
    assert_int_equal(r.hits[1].rule, 1);
    assert_string_equal(json_string_value(json_object_get(r.hits[1].outputs, "veto_site")),
                        "berlin");
    assert_int_equal(r.aggregated, 0);
    assert_json(nq_dtable_result_to_json(t, &r),
                "{'table': 'site_policy', 'hit_policy': 'collect', 'matched': [0, 1],"
                " 'outputs': [{'veto_site': 'paris'}, {'veto_site': 'berlin'}]}");
    nq_dtable_result_free(&r);
    eval_ok(t, F_NONE, &r);
    assert_int_equal(r.n_hits, 0);
    assert_json(nq_dtable_result_to_json(t, &r),
                "{'table': 'site_policy', 'hit_policy': 'collect', 'matched': [], 'outputs': []}");
    nq_dtable_result_free(&r);
    nq_dtable_free(t);
}

static const char fee_fmt[] =
    "{'name': 'fees', 'hit_policy': 'collect', 'aggregation': '%s',"
    " 'inputs': [{'name': 'x', 'type': 'number'}], 'outputs': [{'name': 'fee', 'type': 'number'}],"
    " 'rules': [{'when': {'x': '>= 0'}, 'then': {'fee': 10}},"
    "           {'when': {'x': '>= 5'}, 'then': {'fee': 2.5}},"
    "           {'when': {'x': '[-10..3)'}, 'then': {'fee': -1}}]}";

/* Aggregate of the fee table at x, or NAN when not aggregated. */
static double fee(const char *agg, const char *facts)
{
    char text[1024];
    snprintf(text, sizeof text, fee_fmt, agg);
    nq_dtable *t = table(text);
    nq_dtable_result r;
    eval_ok(t, facts, &r);
    double v = r.aggregated ? r.aggregate : -12345;
    nq_dtable_result_free(&r);
    nq_dtable_free(t);
    return v;
}

static void test_collect_aggregations(void **state)
{
    (void)state;
    assert_true(fee("sum", "{'x': 6}") == 12.5);
    assert_true(fee("min", "{'x': 6}") == 2.5);
    assert_true(fee("max", "{'x': 6}") == 10);
    assert_true(fee("count", "{'x': 6}") == 2);
    assert_true(fee("sum", "{'x': 1}") == 9);
    assert_true(fee("min", "{'x': 1}") == -1);
    assert_true(fee("count", "{'x': -5}") == 1);
    assert_true(fee("sum", "{'x': -5}") == -1);
    /* No hit: count is 0, the others have no value. */
    assert_true(fee("count", "{'x': -20}") == 0);
    assert_true(fee("sum", "{'x': -20}") == -12345);
    assert_true(fee("max", "{'x': -20}") == -12345);

    char text[1024];
    snprintf(text, sizeof text, fee_fmt, "sum");
    nq_dtable *t = table(text);
    nq_dtable_result r;
    eval_ok(t, "{'x': 6}", &r);
    assert_int_equal(r.n_hits, 2); /* the hits stay, for explanations */
    assert_json(nq_dtable_result_to_json(t, &r),
                "{'table': 'fees', 'hit_policy': 'collect', 'matched': [0, 1],"
                " 'aggregation': 'sum', 'outputs': 12.5}");
    nq_dtable_result_free(&r);
    eval_ok(t, "{'x': 1}", &r);
    json_t *j = nq_dtable_result_to_json(t, &r);
    assert_true(json_is_integer(json_object_get(j, "outputs"))); /* 9, not 9.0 */
    assert_json(j, "{'table': 'fees', 'hit_policy': 'collect', 'matched': [0, 2],"
                   " 'aggregation': 'sum', 'outputs': 9}");
    nq_dtable_result_free(&r);
    eval_ok(t, "{'x': -20}", &r);
    assert_json(nq_dtable_result_to_json(t, &r),
                "{'table': 'fees', 'hit_policy': 'collect', 'matched': [],"
                " 'aggregation': 'sum', 'outputs': null}");
    nq_dtable_result_free(&r);
    nq_dtable_free(t);
}

static void test_collect_count_any_type(void **state)
{
    (void)state;
    nq_dtable *t = site("collect", ", 'aggregation': 'count'");
    nq_dtable_result r;
    eval_ok(t, F_EU_BIG_REG, &r);
    assert_int_equal(r.aggregated, 1);
    assert_true(r.aggregate == 2);
    assert_json(nq_dtable_result_to_json(t, &r),
                "{'table': 'site_policy', 'hit_policy': 'collect', 'matched': [0, 1],"
                " 'aggregation': 'count', 'outputs': 2}");
    nq_dtable_result_free(&r);
    nq_dtable_free(t);
}

static void test_sum_overflow(void **state)
{
    (void)state;
    nq_dtable *t = table("{'name': 'big', 'hit_policy': 'collect', 'aggregation': 'sum',"
                         " 'inputs': [], 'outputs': [{'name': 'v', 'type': 'number'}],"
                         " 'rules': [{'then': {'v': 1e308}}, {'then': {'v': 1e308}}]}");
    nq_dtable_result r;
    nq_err e;
    assert_int_equal(eval(t, "{}", &r, &e), NQ_ERANGE);
    assert_string_equal(e.where, "/aggregation");
    nq_dtable_free(t);
}

static void test_to_json_single(void **state)
{
    (void)state;
    nq_dtable *t = site("priority", "");
    nq_dtable_result r;
    eval_ok(t, F_US_REG, &r);
    assert_json(nq_dtable_result_to_json(t, &r),
                "{'table': 'site_policy', 'hit_policy': 'priority', 'matched': [1, 2],"
                " 'selected': 1, 'outputs': {'veto_site': 'berlin'}}");
    nq_dtable_result_free(&r);
    eval_ok(t, F_NONE, &r);
    assert_json(nq_dtable_result_to_json(t, &r),
                "{'table': 'site_policy', 'hit_policy': 'priority', 'matched': [],"
                " 'selected': null, 'outputs': null}");
    nq_dtable_result_free(&r);
    assert_null(nq_dtable_result_to_json(NULL, &r));
    nq_dtable_free(t);
}

static void test_default_policy_and_types(void **state)
{
    (void)state;
    /* hit_policy defaults to unique, output type to string; numbers keep
     * their JSON form in outputs. */
    nq_dtable *t = table("{'name': 'd', 'inputs': [{'name': 'n', 'type': 'number'}],"
                         " 'outputs': [{'name': 's'}, {'name': 'k', 'type': 'number'},"
                         "             {'name': 'b', 'type': 'boolean'}],"
                         " 'rules': [{'when': {'n': 1}, 'then': {'s': 'one', 'k': 3, 'b': true}},"
                         "           {'when': {'n': 2},"
                         "            'then': {'s': 'two', 'k': 0.5, 'b': false}}]}");
    assert_int_equal(nq_dtable_hit_policy(t), NQ_DTABLE_UNIQUE);
    assert_int_equal(nq_dtable_output_type(t, 0), NQ_DTABLE_STRING);
    nq_dtable_result r;
    eval_ok(t, "{'n': 1}", &r);
    assert_json(json_incref(r.hits[0].outputs), "{'s': 'one', 'k': 3, 'b': true}");
    nq_dtable_result_free(&r);
    eval_ok(t, "{'n': 2.0}", &r);
    assert_json(json_incref(r.hits[0].outputs), "{'s': 'two', 'k': 0.5, 'b': false}");
    nq_dtable_result_free(&r);
    nq_dtable_free(t);
}

/* ---- FEEL ------------------------------------------------------------------- */

/* Number of rules matching fact in a one-input, one-rule table whose
 * condition is cond (both references are taken). */
static int feel(const char *type, json_t *cond, json_t *fact)
{
    json_t *tab = json_pack("{s:s, s:s, s:[{s:s, s:s}], s:[{s:s}], s:[{s:{s:o}, s:{s:s}}]}",
                            "name", "f", "hit_policy", "first", "inputs", "name", "x", "type", type,
                            "outputs", "name", "o", "rules", "when", "x", cond, "then", "o", "y");
    json_t *facts = json_pack("{s:o}", "x", fact);
    assert_non_null(tab);
    assert_non_null(facts);
    nq_dtable *t = NULL;
    nq_dtable_result r;
    nq_err e;
    if (nq_dtable_parse(tab, "", &t, &e))
        fail_msg("%s: %s", e.where, e.msg);
    if (nq_dtable_eval(t, facts, "", &r, &e))
        fail_msg("%s: %s", e.where, e.msg);
    int n = r.n_matched;
    nq_dtable_result_free(&r);
    nq_dtable_free(t);
    json_decref(tab);
    json_decref(facts);
    return n;
}

static int num(const char *cond, double x)
{
    return feel("number", json_string(cond), json_real(x));
}

static int str(const char *cond, const char *s)
{
    return feel("string", json_string(cond), json_string(s));
}

static int boolean(const char *cond, int b)
{
    return feel("boolean", json_string(cond), json_boolean(b));
}

static void test_feel_ranges(void **state)
{
    (void)state;
    static const struct { const char *cond; double x; int want; } cases[] = {
        {"[1..10]", 0.999, 0}, {"[1..10]", 1, 1},     {"[1..10]", 5, 1},     {"[1..10]", 10, 1},
        {"[1..10]", 10.001, 0}, {"(1..10)", 1, 0},    {"(1..10)", 1.0001, 1}, {"(1..10)", 10, 0},
        {"(1..10)", 9.999, 1},  {"[1..10)", 1, 1},    {"[1..10)", 10, 0},    {"(1..10]", 1, 0},
        {"(1..10]", 10, 1},     {"]1..10[", 1, 0},    {"]1..10[", 10, 0},    {"]1..10[", 5, 1},
        {"]1..10]", 1, 0},      {"]1..10]", 10, 1},   {"[1..10[", 10, 0},    {"[1..10[", 1, 1},
        {" [ 1 .. 10 ] ", 10, 1}, {"[-5..-1]", -3, 1}, {"[-5..-1]", 0, 0},    {"[5..5]", 5, 1},
        {"[-1.5..2.5e1]", 25, 1}, {"[-1.5..2.5e1]", -1.5, 1}, {"[.5..1]", 0.5, 1},
        {"[1..2]", 1.5, 1},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++)
        if (num(cases[k].cond, cases[k].x) != cases[k].want)
            fail_msg("%s on %g: want %d", cases[k].cond, cases[k].x, cases[k].want);
}

static void test_feel_comparisons_and_lists(void **state)
{
    (void)state;
    static const struct { const char *cond; double x; int want; } cases[] = {
        {"< 5", 4.9, 1},   {"< 5", 5, 0},     {"<= 5", 5, 1},    {"<= 5", 5.1, 0},
        {"> 5", 5, 0},     {"> 5", 5.1, 1},   {">=5", 5, 1},     {">=5", 4.9, 0},
        {"= 5", 5, 1},     {"= 5", 5.1, 0},   {"!= 5", 5, 0},    {"!= 5", 4, 1},
        {"5", 5, 1},       {"5", 6, 0},       {"-3.5", -3.5, 1}, {"> -1", 0, 1},
        {"1, 3, [5..7]", 3, 1}, {"1, 3, [5..7]", 2, 0}, {"1, 3, [5..7]", 6, 1},
        {"< 0, > 10", -1, 1},   {"< 0, > 10", 5, 0},    {"< 0,> 10", 11, 1},
        {"not(1, 2)", 1, 0},    {"not(1, 2)", 3, 1},    {"not([1..10])", 0, 1},
        {"not([1..10])", 5, 0}, {" not ( < 3 ) ", 2, 0}, {"not(<3)", 3, 1},
        {"-", 123, 1},          {"  -  ", -7, 1},       {"1e3", 1000, 1},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++)
        if (num(cases[k].cond, cases[k].x) != cases[k].want)
            fail_msg("%s on %g: want %d", cases[k].cond, cases[k].x, cases[k].want);
}

static void test_feel_strings_and_booleans(void **state)
{
    (void)state;
    assert_int_equal(str("\"EU\"", "EU"), 1);
    assert_int_equal(str("\"EU\"", "eu"), 0);
    assert_int_equal(str("\"EU\"", "EU "), 0);
    assert_int_equal(str(" \"EU\" , \"UK\" ", "UK"), 1);
    assert_int_equal(str("\"EU\",\"UK\"", "US"), 0);
    assert_int_equal(str("!= \"EU\"", "US"), 1);
    assert_int_equal(str("!= \"EU\"", "EU"), 0);
    assert_int_equal(str("=\"EU\"", "EU"), 1);
    assert_int_equal(str("not(\"EU\", \"UK\")", "US"), 1);
    assert_int_equal(str("not(\"EU\", \"UK\")", "UK"), 0);
    assert_int_equal(str("\"a,b\"", "a,b"), 1); /* a comma inside a literal */
    assert_int_equal(str("\"a,b\"", "a"), 0);
    assert_int_equal(str("\"say \\\"hi\\\"\\\\\"", "say \"hi\"\\"), 1);
    assert_int_equal(str("\"tab\\there\\n\"", "tab\there\n"), 1);
    assert_int_equal(str("\"\"", ""), 1);
    assert_int_equal(str("\"\"", "x"), 0);
    assert_int_equal(str("\"caf\xc3\xa9\"", "caf\xc3\xa9"), 1);
    assert_int_equal(str("-", "anything"), 1);
    assert_int_equal(boolean("true", 1), 1);
    assert_int_equal(boolean("true", 0), 0);
    assert_int_equal(boolean("false", 0), 1);
    assert_int_equal(boolean(" = false ", 1), 0);
    assert_int_equal(boolean("!= true", 0), 1);
    assert_int_equal(boolean("not(true)", 1), 0);
    assert_int_equal(boolean("true, false", 0), 1);
    /* JSON numbers and booleans are equality tests. */
    assert_int_equal(feel("number", json_integer(42), json_integer(42)), 1);
    assert_int_equal(feel("number", json_real(42.0), json_integer(42)), 1);
    assert_int_equal(feel("number", json_integer(42), json_real(42.5)), 0);
    assert_int_equal(feel("boolean", json_true(), json_true()), 1);
    assert_int_equal(feel("boolean", json_false(), json_true()), 0);
}

#define NO_VALUE "expected a number, a quoted string, true or false"

typedef struct bad_case {
    const char *type;
    const char *cond;
    int code;
    const char *msg;
} bad_case;

static const bad_case bad_conditions[] = {
    {"number", "[1..", NQ_EPARSE, "expected a number at offset 4, found the end"},
    {"number", ">=", NQ_EPARSE, "expected a number after the comparison at offset 2"},
    {"number", "not(", NQ_EPARSE, NO_VALUE " at offset 4"},
    {"number", "not(1", NQ_EPARSE, "expected ',' or ')' at offset 5"},
    {"number", "not 1", NQ_EPARSE, "expected '(' after not at offset 4, found '1'"},
    {"number", "[1..10", NQ_EPARSE, "expected ']', ')' or '[' to close the range at offset 6"},
    {"number", "[1 10]", NQ_EPARSE, "expected '..' in range at offset 3, found '1'"},
    {"number", "[1..x]", NQ_EPARSE, "expected a number at offset 4"},
    {"number", "1..", NQ_EPARSE, "expected ',' or the end at offset 1"},
    {"number", "", NQ_EPARSE, "empty condition"},
    {"number", "   ", NQ_EPARSE, "empty condition"},
    {"number", "- 5", NQ_EPARSE, "unexpected text after '-' at offset 2"},
    {"number", "-,1", NQ_EPARSE, "unexpected text after '-' at offset 1"},
    {"number", "1,,2", NQ_EPARSE, NO_VALUE " at offset 2"},
    {"number", "1 2", NQ_EPARSE, "expected ',' or the end at offset 2"},
    {"number", "1,", NQ_EPARSE, "at offset 2, found the end"},
    {"number", "> \"a\"", NQ_EPARSE, "expected a number after the comparison"},
    {"number", "+1", NQ_EPARSE, "offset 0, found '+'"},
    {"number", "1e999", NQ_ERANGE, "number is out of range"},
    {"number", "[10..1]", NQ_EINVAL, "range is empty at offset 0"},
    {"number", "(5..5]", NQ_EINVAL, "range is empty"},
    {"number", "[5..5)", NQ_EINVAL, "range is empty"},
    {"number", "\"EU\"", NQ_EINVAL, "test 0: a string literal for a number input"},
    {"number", "1, true", NQ_EINVAL, "test 1: a boolean literal for a number input"},
    {"number", "1 \x01", NQ_EPARSE, "found byte 0x01"},
    {"string", "\"EU", NQ_EPARSE, "unterminated string at offset 3"},
    {"string", "\"a\\qb\"", NQ_EPARSE, "unknown escape in string at offset 2"},
    {"string", "EU", NQ_EPARSE, NO_VALUE " at offset 0"},
    {"string", "< 5", NQ_EINVAL, "ranges and <, <=, >, >= need a number input, not a string"},
    {"string", "[1..2]", NQ_EINVAL, "need a number input, not a string"},
    {"string", "5", NQ_EINVAL, "a number literal for a string input"},
    {"boolean", "tru", NQ_EPARSE, "offset 0"},
    {"boolean", "truex", NQ_EPARSE, "offset 0"},
    {"boolean", "1", NQ_EINVAL, "a number literal for a boolean input"},
    {"boolean", "> 1", NQ_EINVAL, "need a number input, not a boolean"},
};

static void test_feel_malformed(void **state)
{
    (void)state;
    int failures = 0;
    for (size_t k = 0; k < sizeof bad_conditions / sizeof bad_conditions[0]; k++) {
        const bad_case *c = &bad_conditions[k];
        json_t *tab = json_pack("{s:s, s:[{s:s, s:s}], s:[{s:s}], s:[{s:{s:s}, s:{s:s}}]}", "name",
                                "f", "inputs", "name", "x", "type", c->type, "outputs", "name", "o",
                                "rules", "when", "x", c->cond, "then", "o", "y");
        nq_dtable *t = NULL;
        nq_err e;
        nq_err_clear(&e);
        int rc = nq_dtable_parse(tab, "", &t, &e);
        if (rc != c->code || strcmp(e.where, "/rules/0/when/x") != 0 || !strstr(e.msg, c->msg) ||
            t) {
            print_error("case %zu '%s': got rc %d where '%s' msg '%s'; want rc %d msg '%s'\n", k,
                        c->cond, rc, e.where, e.msg, c->code, c->msg);
            failures++;
        }
        nq_dtable_free(t);
        json_decref(tab);
    }
    assert_int_equal(failures, 0);
}

static void feel_json_fails(const char *type, json_t *cond, const char *msg)
{
    json_t *tab = json_pack("{s:s, s:[{s:s, s:s}], s:[{s:s}], s:[{s:{s:o}, s:{s:s}}]}", "name", "f",
                            "inputs", "name", "x", "type", type, "outputs", "name", "o", "rules",
                            "when", "x", cond, "then", "o", "y");
    nq_dtable *t = NULL;
    nq_err e;
    assert_int_equal(nq_dtable_parse(tab, "", &t, &e), NQ_EINVAL);
    assert_string_equal(e.where, "/rules/0/when/x");
    if (!strstr(e.msg, msg))
        fail_msg("message '%s' lacks '%s'", e.msg, msg);
    json_decref(tab);
}

static void test_feel_json_conditions_and_limits(void **state)
{
    (void)state;
    feel_json_fails("number", json_true(), "a boolean literal for a number input");
    feel_json_fails("string", json_integer(1), "a number literal for a string input");
    feel_json_fails("number", json_null(), "expected a condition string, a number or a boolean");
    feel_json_fails("number", json_array(), "got array");
    /* 1024 bytes is allowed, 1025 is not. */
    char cond[1100];
    memset(cond, ' ', sizeof cond);
    cond[0] = '1';
    cond[1024] = '\0';
    assert_int_equal(num(cond, 1), 1);
    cond[1024] = ' ';
    cond[1025] = '\0';
    json_t *tab = json_pack("{s:s, s:[{s:s, s:s}], s:[{s:s}], s:[{s:{s:s}, s:{s:s}}]}", "name", "f",
                            "inputs", "name", "x", "type", "number", "outputs", "name", "o",
                            "rules", "when", "x", cond, "then", "o", "y");
    nq_dtable *t = NULL;
    nq_err e;
    assert_int_equal(nq_dtable_parse(tab, "", &t, &e), NQ_ELIMIT);
    assert_string_equal(e.where, "/rules/0/when/x");
    json_decref(tab);
    /* A list of 64 tests is allowed, 65 is not. */
    char list[1024] = "0";
    for (int i = 1; i < 64; i++)
        snprintf(list + strlen(list), sizeof list - strlen(list), ",%d", i);
    assert_int_equal(num(list, 63), 1);
    assert_int_equal(num(list, 64), 0);
    strcat(list, ",64");
    tab = json_pack("{s:s, s:[{s:s, s:s}], s:[{s:s}], s:[{s:{s:s}, s:{s:s}}]}", "name", "f",
                    "inputs", "name", "x", "type", "number", "outputs", "name", "o", "rules",
                    "when", "x", list, "then", "o", "y");
    assert_int_equal(nq_dtable_parse(tab, "", &t, &e), NQ_ELIMIT);
    assert_non_null(strstr(e.msg, "more than 64 tests"));
    json_decref(tab);
}

/* ---- bad tables ---------------------------------------------------------------- */

typedef struct bad_table {
    const char *text; /* fills the table after "{'name': 't'" */
    int code;
    const char *where;
    const char *msg;
} bad_table;

#define IN_X "'inputs': [{'name': 'x', 'type': 'number'}]"
#define OUT_O "'outputs': [{'name': 'o'}]"
#define RULE_OK "{'when': {'x': 1}, 'then': {'o': 'a'}}"

static const bad_table bad_tables[] = {
    {", 'hit_policy': 'most', " IN_X ", " OUT_O ", 'rules': []", NQ_EINVAL, "/hit_policy",
     "unknown value \"most\" (expected unique, first, priority, any or collect)"},
    {", 'hit_policy': 'collect', 'aggregation': 'avg', " IN_X ", " OUT_O ", 'rules': []",
     NQ_EINVAL, "/aggregation", "unknown value \"avg\""},
    {", 'aggregation': 'none', 'hit_policy': 'collect', " IN_X ", " OUT_O ", 'rules': []",
     NQ_EINVAL, "/aggregation", "unknown value \"none\""},
    {", 'hit_policy': 'first', 'aggregation': 'sum', " IN_X ", " OUT_O ", 'rules': []",
     NQ_EINVAL, "/aggregation", "aggregation needs the collect hit policy"},
    {", 'inputs': [{'name': 'x'}, {'name': 'y'}, {'name': 'x', 'type': 'number'}], " OUT_O
     ", 'rules': []",
     NQ_EINVAL, "/inputs/2/name", "duplicate input name \"x\" (also input 0)"},
    {", " IN_X ", 'outputs': [{'name': 'o'}, {'name': 'o'}], 'rules': []", NQ_EINVAL,
     "/outputs/1/name", "duplicate output name \"o\" (also output 0)"},
    {", " IN_X ", 'outputs': [{'name': 'o', 'type': 'number'}], 'rules': [" RULE_OK "]",
     NQ_EINVAL, "/rules/0/then/o", "expected a number, got a string"},
    {", " IN_X ", 'outputs': [{'name': 'o', 'values': ['a', 'b']}], 'rules': [" RULE_OK
     ", {'when': {'x': 2}, 'then': {'o': 'c'}}]",
     NQ_EINVAL, "/rules/1/then/o", "not one of the \"values\" of output \"o\""},
    {", 'hit_policy': 'priority', " IN_X ", 'outputs': [{'name': 'o', 'values': ['a']},"
     " {'name': 'p'}], 'rules': []",
     NQ_EINVAL, "/outputs/1/values", "priority hit policy"},
    {", 'hit_policy': 'collect', 'aggregation': 'sum', " IN_X ", " OUT_O ", 'rules': []",
     NQ_EINVAL, "/aggregation", "sum needs a number output, \"o\" is a string"},
    {", 'hit_policy': 'collect', 'aggregation': 'max', " IN_X
     ", 'outputs': [{'name': 'o', 'type': 'number'}, {'name': 'p', 'type': 'number'}],"
     " 'rules': []",
     NQ_EINVAL, "/aggregation", "max needs exactly one output, the table has 2"},
    {", 'color': 'red', " IN_X ", " OUT_O ", 'rules': []", NQ_EINVAL, "/color",
     "unknown member"},
    {", " IN_X ", " OUT_O ", 'rules': [{'whenn': {}, 'then': {'o': 'a'}}]", NQ_EINVAL,
     "/rules/0/whenn", "unknown member"},
    {", " IN_X ", " OUT_O ", 'rules': [{'when': {'zone': '-'}, 'then': {'o': 'a'}}]",
     NQ_EINVAL, "/rules/0/when/zone", "the table has no input \"zone\""},
    {", " IN_X ", " OUT_O ", 'rules': [{'then': {'o': 'a', 'p': 'b'}}]", NQ_EINVAL,
     "/rules/0/then/p", "the table has no output \"p\""},
    {", " IN_X ", " OUT_O ", 'rules': [{'when': {'x': 1}}]", NQ_EINVAL, "/rules/0/then",
     "required member is missing"},
    {", " IN_X ", " OUT_O ", 'rules': [{'then': {}}]", NQ_EINVAL, "/rules/0/then/o",
     "required member is missing"},
    {", " IN_X ", " OUT_O ", 'rules': [{'then': {'o': 'a'}, 'description': 5}]", NQ_EINVAL,
     "/rules/0/description", "expected a string"},
    {", 'inputs': [{'name': 'x', 'kind': 'number'}], " OUT_O ", 'rules': []", NQ_EINVAL,
     "/inputs/0/kind", "unknown member"},
    {", 'inputs': [{'name': 'x', 'type': 'date'}], " OUT_O ", 'rules': []", NQ_EINVAL,
     "/inputs/0/type", "unknown value \"date\" (expected string, number or boolean)"},
    {", 'inputs': [{'name': ''}], " OUT_O ", 'rules': []", NQ_EINVAL, "/inputs/0/name",
     "must not be empty"},
    {", 'inputs': [{'type': 'number'}], " OUT_O ", 'rules': []", NQ_EINVAL, "/inputs/0/name",
     "required member is missing"},
    {", 'inputs': [5], " OUT_O ", 'rules': []", NQ_EINVAL, "/inputs/0",
     "expected an object, got a number"},
    {", " IN_X ", 'outputs': [{'name': 'o', 'type': 'number', 'values': [1, 'b']}],"
     " 'rules': []",
     NQ_EINVAL, "/outputs/0/values/1", "expected a number, got a string"},
    {", " IN_X ", 'outputs': [{'name': 'o', 'type': 'number', 'values': [1, 2, 1.0]}],"
     " 'rules': []",
     NQ_EINVAL, "/outputs/0/values/2", "duplicate value (also entry 0)"},
    {", " IN_X ", 'outputs': [{'name': 'o', 'values': []}], 'rules': []", NQ_EINVAL,
     "/outputs/0/values", "must not be empty"},
    {", " IN_X ", 'outputs': [], 'rules': []", NQ_EINVAL, "/outputs",
     "at least one output"},
    {", " IN_X ", 'rules': []", NQ_EINVAL, "/outputs", "required member is missing"},
    {", " IN_X ", " OUT_O ", 'rules': {}", NQ_EINVAL, "/rules", "expected an array"},
    {", " IN_X ", " OUT_O ", 'rules': [[]]", NQ_EINVAL, "/rules/0", "expected an object"},
};

static void test_bad_tables(void **state)
{
    (void)state;
    int failures = 0;
    for (size_t k = 0; k < sizeof bad_tables / sizeof bad_tables[0]; k++) {
        const bad_table *c = &bad_tables[k];
        char text[2048];
        snprintf(text, sizeof text, "{'name': 't'%s}", c->text);
        json_t *d = doc(text);
        nq_dtable *t = NULL;
        nq_err e;
        nq_err_clear(&e);
        int rc = nq_dtable_parse(d, "", &t, &e);
        if (rc != c->code || strcmp(e.where, c->where) != 0 || !strstr(e.msg, c->msg) || t) {
            print_error("case %zu: got rc %d where '%s' msg '%s'; want rc %d where '%s' msg '%s'\n",
                        k, rc, e.where, e.msg, c->code, c->where, c->msg);
            failures++;
        }
        nq_dtable_free(t);
        json_decref(d);
    }
    assert_int_equal(failures, 0);
}

static void parse_fails(json_t *d, const char *ptr, int code, const char *where, const char *msg)
{
    nq_dtable *t = (nq_dtable *)&t; /* any non-NULL value: parse must reset it */
    nq_err e;
    assert_int_equal(nq_dtable_parse(d, ptr, &t, &e), code);
    assert_null(t);
    assert_string_equal(e.where, where);
    if (!strstr(e.msg, msg))
        fail_msg("message '%s' lacks '%s'", e.msg, msg);
    json_decref(d);
}

static void test_bad_table_shapes(void **state)
{
    (void)state;
    parse_fails(doc("[]"), "/t", NQ_EINVAL, "/t", "expected an object, got an array");
    parse_fails(doc("{'inputs': []}"), "", NQ_EINVAL, "/name", "required member is missing");
    parse_fails(doc("{'name': '', 'inputs': []}"), "", NQ_EINVAL, "/name", "must not be empty");
    char name[200];
    memset(name, 'n', 129);
    name[129] = '\0';
    json_t *d = json_pack("{s:s, s:[{s:s}], s:[{s:s}], s:[]}", "name", "t", "inputs", "name", name,
                          "outputs", "name", "o", "rules");
    parse_fails(d, "", NQ_ELIMIT, "/inputs/0/name", "more than the limit of 128");
    name[128] = '\0'; /* 128 bytes is fine */
    d = json_pack("{s:s, s:[{s:s}], s:[{s:s}], s:[]}", "name", "t", "inputs", "name", name,
                  "outputs", "name", "o", "rules");
    nq_dtable *t = NULL;
    nq_err e;
    assert_int_equal(nq_dtable_parse(d, "", &t, &e), NQ_OK);
    assert_string_equal(nq_dtable_input_name(t, 0), name);
    nq_dtable_free(t);
    json_decref(d);
    assert_int_equal(nq_dtable_parse(NULL, "", NULL, &e), NQ_EINVAL);
}

/* A table with n_in inputs, n_out outputs and n_rules rules: every rule
 * tests input 0 for equality with its number. */
static json_t *sized_table(int n_in, int n_out, int n_rules)
{
    json_t *ins = json_array(), *outs = json_array(), *rules = json_array();
    char name[32];
    for (int i = 0; i < n_in; i++) {
        snprintf(name, sizeof name, "in%d", i);
        json_array_append_new(ins, json_pack("{s:s, s:s}", "name", name, "type", "number"));
    }
    json_t *then = json_object();
    for (int o = 0; o < n_out; o++) {
        snprintf(name, sizeof name, "out%d", o);
        json_array_append_new(outs, json_pack("{s:s}", "name", name));
        json_object_set_new(then, name, json_string("v"));
    }
    for (int r = 0; r < n_rules; r++)
        json_array_append_new(rules, json_pack("{s:{s:i}, s:O}", "when", "in0", r, "then", then));
    json_decref(then);
    return json_pack("{s:s, s:s, s:o, s:o, s:o}", "name", "big", "hit_policy", "first", "inputs",
                     ins, "outputs", outs, "rules", rules);
}

static void test_size_limits(void **state)
{
    (void)state;
    json_t *d = sized_table(NQ_DTABLE_MAX_INPUTS, NQ_DTABLE_MAX_OUTPUTS, NQ_DTABLE_MAX_RULES);
    nq_dtable *t = NULL;
    nq_err e;
    assert_int_equal(nq_dtable_parse(d, "", &t, &e), NQ_OK);
    json_decref(d);
    assert_int_equal(nq_dtable_n_rules(t), 1000);
    nq_dtable_result r;
    eval_ok(t, "{'in0': 999}", &r);
    assert_int_equal(r.n_hits, 1);
    assert_int_equal(r.hits[0].rule, 999);
    assert_int_equal(json_object_size(r.hits[0].outputs), 64);
    nq_dtable_result_free(&r);
    nq_dtable_free(t);
    parse_fails(sized_table(65, 1, 1), "", NQ_ELIMIT, "/inputs", "65 entries");
    parse_fails(sized_table(1, 65, 1), "", NQ_ELIMIT, "/outputs", "65 entries");
    parse_fails(sized_table(1, 1, 1001), "", NQ_ELIMIT, "/rules", "1001 entries");
}

static void test_pointers_under_a_parent(void **state)
{
    (void)state;
    char text[2048];
    snprintf(text, sizeof text, site_fmt, "unique", "");
    json_t *d = doc(text);
    json_object_set_new(json_object_get(json_array_get(json_object_get(d, "rules"), 1), "when"),
                        "revenue", json_string("[1.."));
    parse_fails(d, "/policy/tables/2", NQ_EPARSE, "/policy/tables/2/rules/1/when/revenue",
                "expected a number");
    nq_dtable *t = table_at(text, "/policy/tables/2");
    nq_dtable_result r;
    nq_err e;
    assert_int_equal(eval(t, F_UK_SMALL_REG, &r, &e), NQ_EINVAL);
    assert_string_equal(e.where, "/policy/tables/2/rules/3");
    nq_dtable_free(t);
}

/* ---- facts -------------------------------------------------------------------- */

static void test_facts_errors(void **state)
{
    (void)state;
    nq_dtable *t = site("first", "");
    nq_dtable_result r;
    nq_err e;
    assert_int_equal(eval(t, "{'region': 'EU', 'regulated': true}", &r, &e), NQ_EINVAL);
    assert_string_equal(e.where, "/facts/revenue");
    assert_string_equal(e.msg, "missing input \"revenue\"");
    assert_int_equal(eval(t, "{'region': 'EU', 'revenue': '100', 'regulated': true}", &r, &e),
                     NQ_EINVAL);
    assert_string_equal(e.where, "/facts/revenue");
    assert_string_equal(e.msg, "input \"revenue\" is a number, got string");
    assert_int_equal(eval(t, "{'region': 3, 'revenue': 1, 'regulated': true}", &r, &e), NQ_EINVAL);
    assert_string_equal(e.where, "/facts/region");
    assert_int_equal(eval(t, "{'region': 'EU', 'revenue': 1, 'regulated': null}", &r, &e),
                     NQ_EINVAL);
    assert_string_equal(e.where, "/facts/regulated");
    assert_string_equal(e.msg, "input \"regulated\" is a boolean, got null");
    assert_int_equal(eval(t, "[1]", &r, &e), NQ_EINVAL);
    assert_string_equal(e.where, "/facts");
    assert_int_equal(r.n_matched, 0);
    assert_null(r.matched);
    /* Extra members are not inputs and are ignored. */
    eval_ok(t, "{'region': 'US', 'revenue': 1, 'regulated': false, 'other': [1]}", &r);
    assert_hit(&r, 2, "veto_site", "madrid");
    nq_dtable_result_free(&r);
    assert_int_equal(nq_dtable_eval(NULL, NULL, NULL, &r, &e), NQ_EINVAL);
    nq_dtable_result_free(NULL);
    nq_dtable_free(t);
}

static void test_untested_input_may_be_missing(void **state)
{
    (void)state;
    nq_dtable *t = table("{'name': 'u', 'inputs': [{'name': 'x', 'type': 'number'},"
                         " {'name': 'note'}], " OUT_O ","
                         " 'rules': [{'when': {'x': '> 0', 'note': '-'}, 'then': {'o': 'pos'}},"
                         "           {'when': {'x': '<= 0'}, 'then': {'o': 'neg'}}]}");
    nq_dtable_result r;
    nq_err e;
    eval_ok(t, "{'x': 3}", &r);
    assert_hit(&r, 0, "o", "pos");
    nq_dtable_result_free(&r);
    /* Present, it must still have the input's type. */
    assert_int_equal(eval(t, "{'x': 3, 'note': 1}", &r, &e), NQ_EINVAL);
    assert_string_equal(e.where, "/facts/note");
    nq_dtable_free(t);
}

/* ---- accessors -------------------------------------------------------------- */

static void test_accessors(void **state)
{
    (void)state;
    nq_dtable *t = site("collect", ", 'aggregation': 'count'");
    assert_string_equal(nq_dtable_name(t), "site_policy");
    assert_int_equal(nq_dtable_hit_policy(t), NQ_DTABLE_COLLECT);
    assert_int_equal(nq_dtable_aggregation(t), NQ_DTABLE_AGG_COUNT);
    assert_int_equal(nq_dtable_n_inputs(t), 3);
    assert_string_equal(nq_dtable_input_name(t, 1), "revenue");
    assert_int_equal(nq_dtable_input_type(t, 1), NQ_DTABLE_NUMBER);
    assert_int_equal(nq_dtable_input_type(t, 2), NQ_DTABLE_BOOLEAN);
    assert_int_equal(nq_dtable_n_outputs(t), 1);
    assert_string_equal(nq_dtable_output_name(t, 0), "veto_site");
    assert_int_equal(nq_dtable_output_type(t, 0), NQ_DTABLE_STRING);
    json_t *action = nq_dtable_output_action(t, 0); /* outlives the document */
    assert_non_null(action);
    assert_int_equal(json_integer_value(json_object_get(action, "weight")), 7);
    assert_true(json_is_true(json_object_get(action, "veto")));
    assert_int_equal(nq_dtable_n_rules(t), 4);
    assert_string_equal(nq_dtable_rule_description(t, 0), "big EU customers");
    assert_null(nq_dtable_rule_description(t, 1));
    assert_null(nq_dtable_rule_description(t, 4));
    assert_null(nq_dtable_input_name(t, 3));
    assert_null(nq_dtable_input_name(t, -1));
    assert_int_equal(nq_dtable_input_type(t, 9), -1);
    assert_null(nq_dtable_output_name(t, 1));
    assert_int_equal(nq_dtable_output_type(t, 1), -1);
    assert_null(nq_dtable_output_action(t, 1));
    assert_string_equal(nq_dtable_policy_name(NQ_DTABLE_ANY), "any");
    assert_string_equal(nq_dtable_agg_name(NQ_DTABLE_AGG_NONE), "none");
    assert_string_equal(nq_dtable_agg_name(NQ_DTABLE_AGG_MIN), "min");
    assert_string_equal(nq_dtable_type_name(NQ_DTABLE_BOOLEAN), "boolean");
    assert_string_equal(nq_dtable_policy_name((nq_dtable_policy)9), "unknown");
    assert_null(nq_dtable_name(NULL));
    assert_int_equal(nq_dtable_n_rules(NULL), 0);
    nq_dtable_free(t);
    nq_dtable_free(NULL);
}

/* ---- randomized -------------------------------------------------------------- */

/* A numeric test as the brute-force evaluator sees it. */
typedef struct rt_test {
    int op; /* 0 <, 1 <=, 2 >, 3 >=, 4 =, 5 !=, 6 range */
    double a, b;
    int lo_open, hi_open;
} rt_test;

typedef struct rt_cell {
    int any, negate, json_number, n;
    rt_test t[3];
} rt_cell;

static int rt_test_match(const rt_test *t, double x)
{
    switch (t->op) {
    case 0: return x < t->a;
    case 1: return x <= t->a;
    case 2: return x > t->a;
    case 3: return x >= t->a;
    case 4: return x == t->a;
    case 5: return x != t->a;
    default: {
        int lo = t->lo_open ? x > t->a : x >= t->a;
        int hi = t->hi_open ? x < t->b : x <= t->b;
        return lo && hi;
    }
    }
}

static int rt_cell_match(const rt_cell *c, double x)
{
    if (c->any)
        return 1;
    int hit = 0;
    for (int k = 0; k < c->n; k++)
        hit |= rt_test_match(&c->t[k], x);
    return c->negate ? !hit : hit;
}

static void rt_random_test(nq_rng *g, rt_test *t)
{
    memset(t, 0, sizeof *t);
    t->op = (int)nq_rng_below(g, 7);
    t->a = (double)nq_rng_below(g, 21);
    if (t->op != 6)
        return;
    t->b = t->a + (double)nq_rng_below(g, 8);
    t->lo_open = t->a < t->b && nq_rng_below(g, 2);
    t->hi_open = t->a < t->b && !t->lo_open && nq_rng_below(g, 2);
}

static void rt_random_cell(nq_rng *g, rt_cell *c)
{
    memset(c, 0, sizeof *c);
    int kind = (int)nq_rng_below(g, 6);
    c->any = kind == 0;
    c->json_number = kind == 1;
    c->negate = kind == 2;
    c->n = kind == 0 ? 0 : kind == 1 ? 1 : 1 + (int)nq_rng_below(g, 3);
    for (int k = 0; k < c->n; k++)
        rt_random_test(g, &c->t[k]);
    if (c->json_number) {
        c->t[0].op = 4;
        c->t[0].a += 0.5 * (double)nq_rng_below(g, 2);
    }
}

/* FEEL text of c; ranges use both bracket styles. */
static json_t *rt_render(nq_rng *g, const rt_cell *c)
{
    static const char *const ops[] = {"<", "<=", ">", ">=", "=", "!="};
    if (c->json_number)
        return json_real(c->t[0].a);
    char s[256] = "";
    size_t n = 0;
    if (c->any)
        return json_string("-");
    n += (size_t)snprintf(s + n, sizeof s - n, "%s", c->negate ? "not(" : "");
    for (int k = 0; k < c->n; k++) {
        const rt_test *t = &c->t[k];
        const char *sep = k ? ", " : "";
        if (t->op < 6) {
            n += (size_t)snprintf(s + n, sizeof s - n, "%s%s %g", sep, ops[t->op], t->a);
            continue;
        }
        char lo = t->lo_open ? (nq_rng_below(g, 2) ? '(' : ']') : '[';
        char hi = t->hi_open ? (nq_rng_below(g, 2) ? ')' : '[') : ']';
        n += (size_t)snprintf(s + n, sizeof s - n, "%s%c%g..%g%c", sep, lo, t->a, t->b, hi);
    }
    snprintf(s + n, sizeof s - n, "%s", c->negate ? ")" : "");
    return json_string(s);
}

enum { RT_MAX_IN = 4, RT_MAX_RULES = 25 };

typedef struct rt_table {
    int n_in, n_rules;
    rt_cell cell[RT_MAX_RULES][RT_MAX_IN];
} rt_table;

static json_t *rt_json(nq_rng *g, const rt_table *rt, const char *policy)
{
    json_t *ins = json_array(), *rules = json_array();
    char name[16];
    for (int i = 0; i < rt->n_in; i++) {
        snprintf(name, sizeof name, "x%d", i);
        json_array_append_new(ins, json_pack("{s:s, s:s}", "name", name, "type", "number"));
    }
    for (int r = 0; r < rt->n_rules; r++) {
        json_t *when = json_object();
        for (int i = 0; i < rt->n_in; i++) {
            snprintf(name, sizeof name, "x%d", i);
            json_object_set_new(when, name, rt_render(g, &rt->cell[r][i]));
        }
        json_array_append_new(rules, json_pack("{s:o, s:{s:i}}", "when", when, "then", "o", r));
    }
    json_t *t = json_pack("{s:s, s:s, s:o, s:[{s:s, s:s}], s:o}", "name", "rt", "hit_policy",
                          policy, "inputs", ins, "outputs", "name", "o", "type", "number",
                          "rules", rules);
    if (strcmp(policy, "collect") == 0)
        json_object_set_new(t, "aggregation", json_string("count"));
    return t;
}

static nq_dtable *rt_parse(json_t *d)
{
    nq_dtable *t = NULL;
    nq_err e;
    if (nq_dtable_parse(d, "", &t, &e))
        fail_msg("random table: %s: %s", e.where, e.msg);
    json_decref(d);
    return t;
}

/* Brute force on one random fact vector against both tables. */
static void rt_check(nq_rng *g, const rt_table *rt, const nq_dtable *first,
                     const nq_dtable *count)
{
    double x[RT_MAX_IN];
    json_t *facts = json_object();
    char name[16];
    for (int i = 0; i < rt->n_in; i++) {
        x[i] = 0.5 * (double)nq_rng_below(g, 60) - 4; /* -4 .. 25.5, halves included */
        snprintf(name, sizeof name, "x%d", i);
        json_object_set_new(facts, name, json_real(x[i]));
    }
    int want_first = -1, want_count = 0;
    for (int r = 0; r < rt->n_rules; r++) {
        int m = 1;
        for (int i = 0; i < rt->n_in && m; i++)
            m = rt_cell_match(&rt->cell[r][i], x[i]);
        if (m && want_first < 0)
            want_first = r;
        want_count += m;
    }
    nq_dtable_result a, b;
    nq_err e;
    assert_int_equal(nq_dtable_eval(first, facts, "", &a, &e), NQ_OK);
    assert_int_equal(nq_dtable_eval(count, facts, "", &b, &e), NQ_OK);
    assert_int_equal(a.n_hits, want_first >= 0);
    if (want_first >= 0) {
        assert_int_equal(a.hits[0].rule, want_first);
        assert_int_equal(json_integer_value(json_object_get(a.hits[0].outputs, "o")), want_first);
    }
    assert_int_equal(b.aggregated, 1);
    assert_true(b.aggregate == want_count);
    assert_int_equal(b.n_matched, want_count);
    nq_dtable_result_free(&a);
    nq_dtable_result_free(&b);
    json_decref(facts);
}

static void test_randomized_against_brute_force(void **state)
{
    (void)state;
    nq_rng g;
    nq_rng_seed(&g, 20240611);
    for (int round = 0; round < 300; round++) {
        rt_table rt;
        rt.n_in = 1 + (int)nq_rng_below(&g, RT_MAX_IN);
        rt.n_rules = 1 + (int)nq_rng_below(&g, RT_MAX_RULES);
        for (int r = 0; r < rt.n_rules; r++)
            for (int i = 0; i < rt.n_in; i++)
                rt_random_cell(&g, &rt.cell[r][i]);
        nq_dtable *first = rt_parse(rt_json(&g, &rt, "first"));
        nq_dtable *count = rt_parse(rt_json(&g, &rt, "collect"));
        for (int k = 0; k < 40; k++)
            rt_check(&g, &rt, first, count);
        nq_dtable_free(first);
        nq_dtable_free(count);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unique),
        cmocka_unit_test(test_first),
        cmocka_unit_test(test_priority_site),
        cmocka_unit_test(test_priority_ties),
        cmocka_unit_test(test_any),
        cmocka_unit_test(test_collect_list),
        cmocka_unit_test(test_collect_aggregations),
        cmocka_unit_test(test_collect_count_any_type),
        cmocka_unit_test(test_sum_overflow),
        cmocka_unit_test(test_to_json_single),
        cmocka_unit_test(test_default_policy_and_types),
        cmocka_unit_test(test_feel_ranges),
        cmocka_unit_test(test_feel_comparisons_and_lists),
        cmocka_unit_test(test_feel_strings_and_booleans),
        cmocka_unit_test(test_feel_malformed),
        cmocka_unit_test(test_feel_json_conditions_and_limits),
        cmocka_unit_test(test_bad_tables),
        cmocka_unit_test(test_bad_table_shapes),
        cmocka_unit_test(test_size_limits),
        cmocka_unit_test(test_pointers_under_a_parent),
        cmocka_unit_test(test_facts_errors),
        cmocka_unit_test(test_untested_input_may_be_missing),
        cmocka_unit_test(test_accessors),
        cmocka_unit_test(test_randomized_against_brute_force),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
