/* test_compliance.c - the business/compliance assessment unit:
 *  - the synthetic CSF 2.0 assessment of ../shared/data/compliance/README.md
 *    reproduces every score of reference_results.json, overall and per function;
 *  - the remediation plan equals GLPK's exact optimum (built here, directly
 *    with glpk.h, not through the engine's bridge) on generated instances up
 *    to 150 actions with dependencies, checked by an independent tally;
 *  - expired evidence, a custom catalog with a mapping, the diff, HTML
 *    escaping, business health, and bad inputs with their JSON pointers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h> /* after the headers it needs */

#include <glpk.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nqba/assess.h"
#include "data_file.h"
#include "nqba/compliance.h"

static json_t *g_ref; /* reference_results.json */

static char *slurp(const char *name)
{
    return data_file("compliance", name, NULL);
}

static int setup(void **state)
{
    (void)state;
    char *ref = slurp("reference_results.json");
    g_ref = ref ? json_loads(ref, 0, NULL) : NULL;
    free(ref);
    return g_ref ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    json_decref(g_ref);
    return 0;
}

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

/* Parse and run a request; NULL (and err filled) when either refuses. */
static json_t *assess(const json_t *req, nq_err *err)
{
    nq_assess_req r;
    json_t *ans = NULL;
    nq_err_clear(err);
    if (nq_assess_parse(req, &r, err))
        return NULL;
    if (nq_assess_run(&r, NULL, &ans, err))
        ans = NULL;
    nq_assess_req_free(&r);
    if (ans)
        expect_finite(ans);
    return ans;
}

static json_t *assess_text(const char *text, nq_err *err)
{
    json_error_t je;
    json_t *req = json_loads(text, 0, &je);
    if (!req)
        fail_msg("bad test JSON: %s: %s", je.text, text);
    json_t *ans = assess(req, err);
    json_decref(req);
    return ans;
}

/* ---- the reference ---------------------------------------------------------------------- */

static json_t *reference_request(void)
{
    json_t *answers = json_array();
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(g_ref, "assignment"), i, a) {
        json_t *x = json_pack("{s:O, s:O}", "control", json_object_get(a, "subcategory_id"),
                              "result", json_object_get(a, "result"));
        if (json_is_integer(json_object_get(a, "score")))
            json_object_set(x, "maturity", json_object_get(a, "score"));
        json_array_append_new(answers, x);
    }
    return json_pack("{s:s, s:s, s:o}", "framework", "nist-csf-2.0", "as_of", "2025-06-30",
                     "answers", answers);
}

static void expect_num(const json_t *got, const json_t *want, const char *what)
{
    if (!json_is_number(got) || fabs(json_number_value(got) - json_number_value(want)) > 1e-6)
        fail_msg("%s: got %g, want %g", what, json_number_value(got), json_number_value(want));
}

/* Every reference metric against the answer's name for it. */
static void compare(const json_t *got, const json_t *want, const char *scope)
{
    static const char *const names[][2] = {
        {"n_assessable", "n_controls"},
        {"ciso_progress_pct", "progress_pct"},
        {"ciso_avg_score", "avg_score"},
        {"ciso_sum_score", "sum_score"},
        {"ciso_sum_max", "sum_max"},
        {"ciso_avg_of_avg_score", "avg_of_avg_score"},
        {"drata_ready_by_controls_pct", "ready_by_controls_pct"},
        {"drata_ready_by_requirements_pct", "ready_by_requirements_pct"},
        {"xccdf_flat_unweighted_pct", "xccdf_flat_unweighted_pct"}};
    char what[128];
    int checked = 0;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(what, sizeof what, "%s %s", scope, names[i][0]);
        const json_t *w = json_object_get(want, names[i][0]);
        assert_non_null(w);
        expect_num(json_object_get(got, names[i][1]), w, what);
        checked++;
    }
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(want, "result_counts"), k, v) {
        snprintf(what, sizeof what, "%s result_counts.%s", scope, k);
        expect_num(json_object_get(json_object_get(got, "result_counts"), k), v, what);
        checked++;
    }
    /* Every metric the reference lists was compared. */
    assert_int_equal(checked, (int)json_object_size(want) - 1 + 5);
}

static void test_reference_csf(void **state)
{
    (void)state;
    json_t *req = reference_request();
    nq_err err;
    json_t *ans = assess(req, &err);
    if (!ans)
        fail_msg("%s: %s", err.where, err.msg);
    json_t *scores = json_object_get(ans, "scores");
    compare(json_object_get(scores, "overall"), json_object_get(g_ref, "overall"), "overall");
    const char *fn;
    json_t *want;
    int functions = 0;
    json_object_foreach(json_object_get(g_ref, "per_function"), fn, want) {
        json_t *got = json_object_get(json_object_get(scores, "groups"), fn);
        assert_non_null(got);
        assert_string_equal(json_string_value(json_object_get(got, "level")), "function");
        compare(got, want, fn);
        functions++;
    }
    assert_int_equal(functions, 6);
    /* The assignment follows the catalog's order: k = i % 7. */
    json_t *ctl = json_object_get(ans, "controls");
    assert_int_equal(json_array_size(ctl), 106);
    static const char *const by_k[] = {"compliant",     "compliant",      "compliant",
                                       "partially_compliant", "non_compliant", "not_applicable",
                                       "not_assessed"};
    for (size_t i = 0; i < 106; i++)
        assert_string_equal(json_string_value(json_object_get(json_array_get(ctl, i), "result")),
                            by_k[i % 7]);
    json_decref(ans);
    json_decref(req);
}

static void test_builtin_catalogs(void **state)
{
    (void)state;
    nq_grc_catalog c;
    nq_err err;
    assert_int_equal(nq_grc_builtin_count(), 2);
    for (int32_t i = 0; i < nq_grc_builtin_count(); i++) {
        assert_int_equal(nq_grc_catalog_builtin(nq_grc_builtin_id(i), &c, &err), 0);
        assert_string_equal(c.id, nq_grc_builtin_id(i));
        nq_grc_catalog_free(&c);
    }
    assert_int_equal(nq_grc_catalog_builtin("nist-csf-2.0", &c, &err), 0);
    int functions = 0, categories = 0;
    for (int32_t g = 0; g < c.n_groups; g++)
        c.groups[g].depth == 0 ? functions++ : categories++;
    assert_int_equal(functions, 6);
    assert_int_equal(categories, 22);
    assert_int_equal(c.n_controls, 106);
    assert_true(c.scale_min == 1 && c.scale_max == 4);
    assert_true(nq_grc_is_withdrawn(&c, "ID.BE-01"));
    nq_grc_catalog_free(&c);
    assert_int_equal(nq_grc_catalog_builtin("nist-sp800-53r5-moderate", &c, &err), 0);
    assert_int_equal(c.n_controls, 287);
    assert_int_equal(c.n_groups, 18);
    int32_t k = nq_grc_find_control(&c, "AC-2(1)");
    assert_true(k >= 0 && k == nq_grc_find_control(&c, "ac-2.1"));
    assert_int_equal(c.controls[k].parent, nq_grc_find_control(&c, "ac-2"));
    nq_grc_catalog_free(&c);
    assert_int_equal(nq_grc_catalog_builtin("iso-27001", &c, &err), NQ_ENOTFOUND);
}

/* ---- the plan against GLPK ------------------------------------------------------------------ */

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s << 13, *s ^= *s >> 7, *s ^= *s << 17;
    return *s;
}

static double uniform(uint64_t *s, double lo, double hi)
{
    return lo + (hi - lo) * (double)(rng_next(s) >> 11) / 9007199254740992.0;
}

/* Actions with integer-ish figures and acyclic dependencies on earlier actions. */
static nq_grc_action *instance(int32_t n, uint64_t seed, nq_grc_plan_opts *o)
{
    uint64_t s = seed * 0x9E3779B97F4A7C15ULL + 1;
    nq_grc_action *a = calloc((size_t)n, sizeof *a);
    double tc = 0, te = 0;
    for (int32_t i = 0; i < n; i++) {
        a[i].control = -1;
        a[i].cost = floor(uniform(&s, 1000, 50000));
        a[i].effort = floor(uniform(&s, 1, 40));
        a[i].risk_reduction = floor(uniform(&s, 1, 100)) + (rng_next(&s) % 3 ? a[i].cost / 2000 : 0);
        tc += a[i].cost, te += a[i].effort;
        int nd = i ? (int)(rng_next(&s) % 3) : 0;
        a[i].deps = malloc(3 * sizeof *a[i].deps);
        for (int j = 0; j < nd; j++) {
            int32_t d = (int32_t)(rng_next(&s) % (uint64_t)i);
            int dup = 0;
            for (int q = 0; q < a[i].n_deps; q++)
                dup |= a[i].deps[q] == d;
            if (!dup)
                a[i].deps[a[i].n_deps++] = d;
        }
    }
    nq_grc_plan_opts_default(o);
    o->budget = floor(tc * uniform(&s, 0.2, 0.5));
    o->effort_limit = (seed % 2) ? floor(te * uniform(&s, 0.25, 0.6)) : INFINITY;
    o->seed = seed;
    return a;
}

/* The exact optimum, by GLPK's MILP built here from the actions. */
static double glpk_optimum(const nq_grc_action *a, int32_t n, const nq_grc_plan_opts *o)
{
    glp_prob *P = glp_create_prob();
    glp_set_obj_dir(P, GLP_MAX);
    glp_add_cols(P, n);
    for (int32_t i = 0; i < n; i++) {
        glp_set_col_kind(P, i + 1, GLP_BV);
        glp_set_obj_coef(P, i + 1, a[i].risk_reduction);
    }
    int *ind = malloc(((size_t)n + 1) * sizeof *ind);
    double *val = malloc(((size_t)n + 1) * sizeof *val);
    for (int r = 0; r < 2; r++) {
        if (r == 1 && !isfinite(o->effort_limit))
            break;
        int row = glp_add_rows(P, 1);
        glp_set_row_bnds(P, row, GLP_UP, 0, r == 0 ? o->budget : o->effort_limit);
        for (int32_t i = 0; i < n; i++)
            ind[i + 1] = i + 1, val[i + 1] = r == 0 ? a[i].cost : a[i].effort;
        glp_set_mat_row(P, row, n, ind, val);
    }
    for (int32_t i = 0; i < n; i++)
        for (int32_t j = 0; j < a[i].n_deps; j++) {
            int row = glp_add_rows(P, 1);
            int ix[3] = {0, i + 1, a[i].deps[j] + 1};
            double v[3] = {0, 1, -1};
            glp_set_row_bnds(P, row, GLP_UP, 0, 0);
            glp_set_mat_row(P, row, 2, ix, v);
        }
    glp_iocp parm;
    glp_init_iocp(&parm);
    parm.presolve = GLP_ON;
    parm.msg_lev = GLP_MSG_OFF;
    assert_int_equal(glp_intopt(P, &parm), 0);
    assert_int_equal(glp_mip_status(P), GLP_OPT);
    double v = glp_mip_obj_val(P);
    glp_delete_prob(P);
    free(ind);
    free(val);
    return v;
}

/* An independent check of a plan: limits, dependencies, reported sums. */
static void check_plan(const nq_grc_action *a, int32_t n, const nq_grc_plan_opts *o,
                       const nq_grc_plan *p)
{
    double cost = 0, effort = 0, value = 0;
    for (int32_t i = 0; i < n; i++) {
        if (!p->chosen[i])
            continue;
        cost += a[i].cost, effort += a[i].effort, value += a[i].risk_reduction;
        for (int32_t j = 0; j < a[i].n_deps; j++)
            assert_true(p->chosen[a[i].deps[j]]);
    }
    assert_true(cost <= o->budget + 1e-6);
    assert_true(effort <= o->effort_limit + 1e-6);
    assert_true(fabs(cost - p->cost) < 1e-6 && fabs(effort - p->effort) < 1e-6);
    assert_true(fabs(value - p->risk_reduction) < 1e-6);
}

static void test_plan_vs_glpk(void **state)
{
    (void)state;
    static const int32_t sizes[] = {5, 12, 25, 40, 60, 80, 100, 120, 150};
    int agree = 0, total = 0, engine_optimal = 0;
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++)
        for (uint64_t seed = 1; seed <= 4; seed++) {
            int32_t n = sizes[k];
            nq_grc_plan_opts o;
            nq_grc_action *a = instance(n, seed + 100 * (uint64_t)n, &o);
            nq_grc_plan p;
            nq_err err;
            assert_int_equal(nq_grc_plan_solve(a, n, &o, &p, &err), 0);
            check_plan(a, n, &o, &p);
            double best = glpk_optimum(a, n, &o);
            if (fabs(p.risk_reduction - best) > 1e-6 * (1 + fabs(best)))
                fail_msg("n=%d seed=%d: plan %.6f, GLPK optimum %.6f", (int)n, (int)seed,
                         p.risk_reduction, best);
            assert_true(p.proven_optimal);
            assert_true(p.engine.ran && p.milp.ran);
            engine_optimal += fabs(p.engine.value - best) <= 1e-6 * (1 + fabs(best));
            agree++, total++;
            nq_grc_plan_free(&p);
            nq_grc_actions_free(a, n);
        }
    assert_int_equal(agree, total);
    print_message("plan = GLPK optimum on %d of %d instances (5..150 actions); the engine "
                  "alone reached it on %d\n", agree, total, engine_optimal);
}

/* ---- JSON requests ---------------------------------------------------------------------------- */

static void test_sp80053_plan(void **state)
{
    (void)state;
    nq_err err;
    json_t *ans = assess_text("{\"framework\": \"nist-sp800-53r5-moderate\", \"as_of\": "
                              "\"2025-01-01\", \"answers\": [{\"control\": \"AC-2\", \"status\": "
                              "\"implemented\", \"maturity\": 3}], \"plan\": {\"budget\": 400000,"
                              " \"effort_limit\": 300}}",
                              &err);
    if (!ans)
        fail_msg("%s: %s", err.where, err.msg);
    json_t *plan = json_object_get(ans, "plan");
    assert_true(json_is_true(json_object_get(plan, "proven_optimal")));
    assert_true(json_number_value(json_object_get(plan, "cost_used")) <= 400000);
    assert_true(json_number_value(json_object_get(plan, "effort_used")) <= 300);
    assert_int_equal(json_array_size(json_object_get(ans, "gaps")), 286);
    /* An enhancement is chosen only with its base (when the base is a gap). */
    json_t *chosen = json_object_get(plan, "chosen");
    size_t i;
    json_t *v;
    json_array_foreach(chosen, i, v) {
        const char *id = json_string_value(v);
        const char *dot = strchr(id, '.');
        if (!dot || !strncmp(id, "ac-2.", 5))
            continue;
        char base[32];
        snprintf(base, sizeof base, "%.*s", (int)(dot - id), id);
        int found = 0;
        size_t j;
        json_t *w;
        json_array_foreach(chosen, j, w) found |= !strcmp(json_string_value(w), base);
        assert_true(found);
    }
    json_decref(ans);
}

static void test_expired_evidence(void **state)
{
    (void)state;
    nq_err err;
    json_t *ans = assess_text(
        "{\"framework\": \"nist-csf-2.0\", \"as_of\": \"2025-06-30\", \"answers\": ["
        "{\"control\": \"GV.OC-01\", \"status\": \"implemented\", \"maturity\": 4, \"evidence\": "
        "[{\"name\": \"policy\", \"hash\": \"sha256:ab\", \"collected_at\": \"2024-01-01\", "
        "\"expires_at\": \"2025-01-01\"}]},"
        "{\"control\": \"GV.OC-02\", \"status\": \"implemented\", \"maturity\": 4, \"evidence\": "
        "[{\"name\": \"charter\", \"link\": \"https://x\", \"collected_at\": \"2025-01-01\", "
        "\"expires_at\": \"2025-06-30\"}]},"
        "{\"control\": \"GV.OC-03\", \"status\": \"implemented\", \"maturity\": 4, \"evidence\": "
        "[{\"name\": \"register\", \"link\": \"https://y\", \"collected_at\": \"2025-01-01\", "
        "\"expires_at\": \"2026-01-01\"}]}]}",
        &err);
    if (!ans)
        fail_msg("%s: %s", err.where, err.msg);
    json_t *ctl = json_object_get(ans, "controls");
    assert_true(json_is_false(json_object_get(json_array_get(ctl, 0), "ready")));
    assert_true(json_is_false(json_object_get(json_array_get(ctl, 1), "ready"))); /* at as_of */
    assert_true(json_is_true(json_object_get(json_array_get(ctl, 2), "ready")));
    json_t *all = json_object_get(json_object_get(ans, "scores"), "overall");
    assert_int_equal(json_integer_value(json_object_get(all, "n_ready")), 1);
    assert_int_equal(json_integer_value(json_object_get(all, "n_expired")), 2);
    json_t *gap = json_array_get(json_object_get(ans, "gaps"), 0);
    assert_string_equal(json_string_value(json_object_get(gap, "control")), "GV.OC-01");
    assert_string_equal(json_string_value(json_object_get(gap, "kind")), "evidence_expired");
    json_decref(ans);
}

static const char CUSTOM[] =
    "{\"id\": \"acme-soc2\", \"name\": \"ACME SOC 2 controls\", \"scale\": {\"min\": 0, \"max\": "
    "5}, \"levels\": [\"criteria\", \"control\"], \"groups\": [{\"id\": \"CC6\", \"title\": "
    "\"Logical access\"}, {\"id\": \"CC7\", \"title\": \"System operations\"}], \"controls\": ["
    "{\"id\": \"CC6.1\", \"title\": \"<script>alert(1)</script> & \\\"MFA\\\"\", \"group\": "
    "\"CC6\"}, {\"id\": \"CC6.2\", \"title\": \"Access reviews\", \"group\": \"CC6\", "
    "\"depends_on\": [\"CC6.1\"]}, {\"id\": \"CC7.1\", \"title\": \"Monitoring\", \"group\": "
    "\"CC7\", \"weight\": 2}]}";

static json_t *custom_request(const char *status2)
{
    char text[4096];
    snprintf(text, sizeof text,
             "{\"custom_catalog\": %s, \"as_of\": \"2025-06-30\", \"answers\": ["
             "{\"control\": \"CC6.1\", \"status\": \"implemented\", \"maturity\": 5, \"owner\": "
             "\"IT\"}, {\"control\": \"CC6.2\", \"status\": \"%s\", \"maturity\": 2}, "
             "{\"control\": \"CC7.1\", \"result\": \"non_compliant\", \"maturity\": 1}], "
             "\"mappings\": [{\"to\": \"nist-csf-2.0\", \"map\": {\"CC6.1\": [\"PR.AA-01\", "
             "\"PR.AA-03\"], \"CC6.2\": [\"PR.AA-01\"], \"CC7.1\": [\"DE.CM-01\"]}}], "
             "\"plan\": {\"budget\": 15000}}",
             CUSTOM, status2);
    nq_err err;
    json_t *ans = assess_text(text, &err);
    if (!ans)
        fail_msg("%s: %s", err.where, err.msg);
    return ans;
}

static void test_custom_catalog_mapping(void **state)
{
    (void)state;
    json_t *ans = custom_request("partial");
    json_t *all = json_object_get(json_object_get(ans, "scores"), "overall");
    /* AVG over 0..5, weights 1, 1, 2: (1 + 0.4 + 2 * 0.2) / 4 * 5 = 2.25 -> 2.2 */
    assert_true(fabs(json_number_value(json_object_get(all, "avg_score_exact")) - 2.25) < 1e-12);
    assert_true(fabs(json_number_value(json_object_get(all, "avg_score")) - 2.2) < 1e-12);
    assert_true(fabs(json_number_value(json_object_get(all, "xccdf_flat_pct")) - 25) < 1e-12);
    json_t *m = json_array_get(json_object_get(ans, "mapped"), 0);
    assert_string_equal(json_string_value(json_object_get(m, "framework")), "nist-csf-2.0");
    assert_int_equal(json_integer_value(json_object_get(m, "n_mapped")), 3);
    json_t *mall = json_object_get(json_object_get(m, "scores"), "overall");
    /* PR.AA-03 is covered by an implemented control only: the one ready one. */
    assert_int_equal(json_integer_value(json_object_get(mall, "n_ready")), 1);
    json_t *counts = json_object_get(mall, "result_counts");
    assert_int_equal(json_integer_value(json_object_get(counts, "partially_compliant")), 1);
    assert_int_equal(json_integer_value(json_object_get(counts, "non_compliant")), 1);
    assert_int_equal(json_integer_value(json_object_get(counts, "not_assessed")), 103);
    /* The plan: CC6.2 (5000) and CC7.1 (2 x 10 risk, 10000) fit 15000 together. */
    json_t *plan = json_object_get(ans, "plan");
    assert_int_equal(json_integer_value(json_object_get(plan, "n_chosen")), 2);
    json_t *proj = json_object_get(json_object_get(plan, "projected_scores"), "overall");
    assert_true(json_number_value(json_object_get(proj, "ready_by_controls_pct")) == 100);
    json_decref(ans);
}

static void test_diff(void **state)
{
    (void)state;
    json_t *a = custom_request("partial"), *b = custom_request("implemented");
    json_t *d = NULL;
    nq_err err;
    assert_int_equal(nq_assess_diff(a, b, &d, &err), 0);
    json_t *ctl = json_object_get(d, "controls");
    assert_int_equal(json_array_size(ctl), 1);
    json_t *c = json_array_get(ctl, 0);
    assert_string_equal(json_string_value(json_object_get(c, "id")), "CC6.2");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(c, "status"), "after")), "implemented");
    assert_true(json_is_true(json_object_get(json_object_get(c, "ready"), "after")));
    json_t *closed = json_object_get(json_object_get(d, "gaps"), "closed");
    assert_int_equal(json_array_size(closed), 1);
    json_t *delta = json_object_get(
        json_object_get(json_object_get(json_object_get(d, "scores"), "overall"),
                        "ready_by_controls_pct"),
        "delta");
    assert_true(fabs(json_number_value(delta) - 100.0 / 3) < 1e-9);
    json_decref(d);
    /* Different frameworks are refused, located. */
    json_t *csf = json_pack("{s:{s:s}, s:{}}", "framework", "id", "nist-csf-2.0", "scores");
    assert_int_equal(nq_assess_diff(a, csf, &d, &err), NQ_EINVAL);
    assert_string_equal(err.where, "/after/framework/id");
    json_decref(csf);
    json_decref(a);
    json_decref(b);
}

static void test_html_report(void **state)
{
    (void)state;
    json_t *ans = custom_request("partial");
    char *html = NULL;
    size_t len = 0;
    nq_err err;
    assert_int_equal(nq_assess_report_html(ans, &html, &len, &err), 0);
    assert_int_equal(strlen(html), len);
    assert_null(strstr(html, "<script"));
    assert_non_null(strstr(html, "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;MFA&quot;"));
    assert_non_null(strstr(html, "<!DOCTYPE html>"));
    assert_non_null(strstr(html, "Remediation plan"));
    free(html);
    json_decref(ans);
    assert_int_equal(nq_assess_report_html(json_null(), &html, &len, &err), NQ_EINVAL);
}

static void test_health(void **state)
{
    (void)state;
    nq_err err;
    json_t *ans = assess_text(
        "{\"framework\": \"nist-csf-2.0\", \"as_of\": \"2025-06-30\", \"answers\": [], "
        "\"health\": {\"revenue\": 1000000, \"net_income\": 50000, \"total_assets\": 800000, "
        "\"total_liabilities\": 440000, \"current_assets\": 300000, \"current_liabilities\": "
        "200000, \"uptime_pct\": 99.5, \"customer_churn_pct\": 12}}",
        &err);
    if (!ans)
        fail_msg("%s: %s", err.where, err.msg);
    json_t *h = json_object_get(ans, "health"), *s = json_object_get(h, "sub_scores");
    assert_true(fabs(json_number_value(json_object_get(json_object_get(h, "ratios"),
                                                       "net_margin")) - 0.05) < 1e-12);
    assert_true(fabs(json_number_value(json_object_get(s, "profitability")) - 50) < 1e-9);
    assert_true(fabs(json_number_value(json_object_get(s, "leverage")) - 50) < 1e-9);
    assert_true(fabs(json_number_value(json_object_get(s, "liquidity")) - 100) < 1e-9);
    assert_true(json_is_null(json_object_get(s, "delivery")));
    assert_true(fabs(json_number_value(json_object_get(h, "financial")) - 200.0 / 3) < 1e-9);
    /* Health never moves a compliance score: all 106 are not assessed. */
    json_t *all = json_object_get(json_object_get(ans, "scores"), "overall");
    assert_int_equal(json_integer_value(json_object_get(all, "progress_pct")), 0);
    json_decref(ans);
}

static void test_bad_input(void **state)
{
    (void)state;
    static const struct {
        const char *body, *where, *msg_part;
    } cases[] = {
        {"{\"framework\": \"nist-csf-2.0\", \"as_of\": \"2025-06-30\", \"answers\": [{\"control\": "
         "\"GV.OC-01\", \"status\": \"implemented\"}, {\"control\": \"XX.YY-99\", \"status\": "
         "\"partial\"}]}", "/answers/1/control", "unknown control"},
        {"{\"framework\": \"nist-csf-2.0\", \"as_of\": \"2025-06-30\", \"answers\": [{\"control\": "
         "\"ID.BE-01\", \"status\": \"partial\"}]}", "/answers/0/control", "withdrawn"},
        {"{\"framework\": \"nist-csf-2.0\", \"as_of\": \"2025-06-30\", \"answers\": [{\"control\": "
         "\"GV.OC-01\", \"status\": \"partial\", \"maturity\": 5}]}", "/answers/0/maturity",
         "scale"},
        {"{\"framework\": \"nist-sp800-53r5-moderate\", \"as_of\": \"2025-06-30\", \"answers\": "
         "[{\"control\": \"ac-1\", \"status\": \"partial\", \"maturity\": -1}]}",
         "/answers/0/maturity", "scale"},
        {"{\"framework\": \"nist-csf-2.0\", \"as_of\": \"2025-06-30\", \"answers\": [{\"control\": "
         "\"GV.OC-01\", \"status\": \"implemented\", \"evidence\": [{\"name\": \"x\", \"hash\": "
         "\"h\", \"collected_at\": \"2025-07-01\"}]}]}", "/answers/0/evidence/0/collected_at",
         "future"},
        {"{\"framework\": \"iso-27001\", \"as_of\": \"2025-06-30\", \"answers\": []}", "/framework",
         "unknown framework"},
        {"{\"framework\": \"nist-csf-2.0\", \"as_of\": \"2025-06-30\", \"answers\": [{\"control\": "
         "\"GV.OC-01\", \"status\": \"partial\"}, {\"control\": \"GV.OC-01\", \"status\": "
         "\"implemented\"}]}", "/answers/1/control", "second answer"},
        {"{\"framework\": \"nist-sp800-53r5-moderate\", \"as_of\": \"2025-06-30\", \"answers\": "
         "[{\"control\": \"ac-2.1\", \"status\": \"partial\"}, {\"control\": \"AC-2(1)\", "
         "\"status\": \"partial\"}]}", "/answers/1/control", "second answer"},
        {"{\"framework\": \"nist-csf-2.0\", \"as_of\": \"30/06/2025\", \"answers\": []}", "/as_of",
         "RFC 3339"},
        {"{\"framework\": \"nist-csf-2.0\", \"answers\": []}", "/as_of", ""},
        {"{\"framework\": \"nist-csf-2.0\", \"as_of\": \"2025-06-30\", \"answers\": [{\"control\": "
         "\"GV.OC-01\", \"status\": \"done\"}]}", "/answers/0/status", "one of"},
        {"{\"framework\": \"nist-csf-2.0\", \"as_of\": \"2025-06-30\", \"answers\": [], \"plan\": "
         "{\"budget\": -5}}", "/plan/budget", "budget"},
        {"{\"framework\": \"nist-csf-2.0\", \"as_of\": \"2025-06-30\", \"answers\": [], \"plan\": "
         "{\"budget\": 5, \"overrides\": {\"GV.XX-01\": {\"cost\": 1}}}}",
         "/plan/overrides/GV.XX-01", "unknown control"},
        {"{\"framework\": \"nist-csf-2.0\", \"as_of\": \"2025-06-30\", \"answers\": [], \"health\":"
         " {\"net_income\": 5}}", "/health/revenue", "revenue"},
        {"{\"framework\": \"nist-csf-2.0\", \"as_of\": \"2025-06-30\", \"answers\": [], "
         "\"mappings\": [{\"to\": \"nist-sp800-53r5-moderate\", \"map\": {\"GV.OC-01\": "
         "[\"zz-9\"]}}]}", "/mappings/0/map/GV.OC-01/0", "control id"},
        {"{\"as_of\": \"2025-06-30\", \"answers\": [], \"custom_catalog\": {\"id\": \"c\", "
         "\"groups\": [{\"id\": \"A\"}], \"controls\": [{\"id\": \"a1\", \"group\": \"B\"}]}}",
         "/custom_catalog/controls/0/group", "not one of the groups"},
        {"{\"framework\": \"nist-csf-2.0\", \"as_of\": \"2025-06-30\", \"answers\": [], "
         "\"colour\": 1}", "/colour", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        nq_err err;
        json_t *ans = assess_text(cases[i].body, &err);
        if (ans)
            fail_msg("case %d was accepted", (int)i);
        assert_int_equal(err.code, NQ_EINVAL);
        if (strcmp(err.where, cases[i].where) || !strstr(err.msg, cases[i].msg_part))
            fail_msg("case %d: got %s: %s; want %s (%s)", (int)i, err.where, err.msg,
                     cases[i].where, cases[i].msg_part);
    }
}

static void test_times(void **state)
{
    (void)state;
    int64_t t;
    char buf[32];
    assert_int_equal(nq_grc_time_parse("1970-01-01", &t), 0);
    assert_true(t == 0);
    assert_int_equal(nq_grc_time_parse("2025-06-30T12:00:00+02:00", &t), 0);
    assert_string_equal(nq_grc_time_format(t, buf, sizeof buf), "2025-06-30T10:00:00Z");
    assert_int_equal(nq_grc_time_parse("2024-02-29", &t), 0);
    assert_int_equal(nq_grc_time_parse("2025-02-29", &t), NQ_EINVAL);
    assert_int_equal(nq_grc_time_parse("2025-06-30T25:00:00Z", &t), NQ_EINVAL);
    assert_int_equal(nq_grc_time_parse("2025-06-30T10:00:00", &t), NQ_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_csf),
        cmocka_unit_test(test_builtin_catalogs),
        cmocka_unit_test(test_plan_vs_glpk),
        cmocka_unit_test(test_sp80053_plan),
        cmocka_unit_test(test_expired_evidence),
        cmocka_unit_test(test_custom_catalog_mapping),
        cmocka_unit_test(test_diff),
        cmocka_unit_test(test_html_report),
        cmocka_unit_test(test_health),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_times),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
