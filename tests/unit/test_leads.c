/* test_leads.c - Sigma Select lead scoring (leads.h): the UCI bank
 * marketing references (reference_results.json) for logistic regression on
 * splits S1 and S2, the tree model's AUC, metrics against brute force,
 * model documents (round trips, tampering), scoring and bad input.
 * Each model is trained once per process (lazily, shared by the tests). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nqba/json.h"
#include "data_file.h"
#include "nqba/leads.h"
#include "nqba/rng.h"

#define REF_S1_AUC 0.7928876362092552
#define REF_S1_LOGLOSS 0.2784604496076596
#define REF_S1_ACC 0.8991260014566642
#define REF_S1_OBJECTIVE 9072.0879
#define REF_S2_AUC 0.7935193561551417

static char *slurp(const char *name, size_t *len)
{
    return data_file("lead_scoring", name, len);
}

static void fail_err(int rc, const nq_err *err)
{
    if (rc)
        print_message("error %d at '%s': %s\n", rc, err->where, err->msg);
    assert_int_equal(rc, NQ_OK);
}

/* ---- the shared fixture ---------------------------------------------------- */

static struct {
    int loaded;
    nq_leads_data bank;
    nq_leads_split s1, s2;
    nq_leads_model lr1, lr2, gbt1;
    int have_lr1, have_lr2, have_gbt1;
    nq_csv sample; /* bank-additional.csv (4,119 rows): leads to score */
} fx;

static const char *const dropped[] = {"duration"};

static void need_bank(void)
{
    if (fx.loaded)
        return;
    size_t len = 0, ilen = 0;
    char *text = slurp("bank-additional-full.csv", &len);
    char *idx = slurp("bank-additional-full_test_idx_sklearn_rs0.txt", &ilen);
    char *small = NULL;
    size_t slen = 0;
    if (!text || !idx || !(small = slurp("bank-additional.csv", &slen))) {
        free(text);
        free(idx);
        print_message("bank data not found (NQ_SHARED_DIR): skipped\n");
        skip();
    }
    nq_err err = {0};
    nq_leads_data_opts o = {.outcome = "y", .positive = "yes", .drop = dropped, .n_drop = 1};
    fail_err(nq_leads_data_from_text(text, len, ';', "bank", &o, &fx.bank, &err), &err);
    int32_t *test = NULL, n = 0;
    fail_err(nq_leads_parse_indices(idx, ilen, 1000000, &test, &n, &err), &err);
    fail_err(nq_leads_split_indices(&fx.bank, test, n, &fx.s1, &err), &err);
    fail_err(nq_leads_split_mod5(&fx.bank, &fx.s2, &err), &err);
    nq_csv_limits lim;
    nq_csv_limits_default(&lim);
    lim.sep = ';';
    fail_err(nq_csv_parse(small, slen, "sample", &lim, &fx.sample, &err), &err);
    free(test);
    free(text);
    free(idx);
    free(small);
    fx.loaded = 1;
}

static const nq_leads_model *lr_s1(void)
{
    need_bank();
    if (!fx.have_lr1) {
        nq_leads_train_opts o;
        nq_leads_train_opts_default(&o, NQ_LEADS_LOGISTIC);
        nq_err err = {0};
        fail_err(nq_leads_train(&fx.bank, &fx.s1, &o, &fx.lr1, &err), &err);
        fx.have_lr1 = 1;
    }
    return &fx.lr1;
}

static const nq_leads_model *gbt_s1(void)
{
    need_bank();
    if (!fx.have_gbt1) {
        nq_leads_train_opts o;
        nq_leads_train_opts_default(&o, NQ_LEADS_GBT);
        nq_err err = {0};
        fail_err(nq_leads_train(&fx.bank, &fx.s1, &o, &fx.gbt1, &err), &err);
        fx.have_gbt1 = 1;
    }
    return &fx.gbt1;
}

static int teardown_all(void **state)
{
    (void)state;
    nq_leads_model_free(&fx.lr1);
    nq_leads_model_free(&fx.lr2);
    nq_leads_model_free(&fx.gbt1);
    nq_leads_split_free(&fx.s1);
    nq_leads_split_free(&fx.s2);
    nq_leads_data_free(&fx.bank);
    nq_csv_free(&fx.sample);
    return 0;
}

/* ---- references ------------------------------------------------------------ */

static void test_data_schema(void **state)
{
    (void)state;
    need_bank();
    assert_int_equal(fx.bank.rows, 41188);
    assert_int_equal(fx.bank.positives, 4640);
    assert_int_equal(fx.bank.n_cols, 19);
    assert_int_equal(nq_leads_data_col(&fx.bank, "duration"), -1);
    static const char *const numeric[] = {"age", "campaign", "pdays", "previous", "emp.var.rate",
                                          "cons.price.idx", "cons.conf.idx", "euribor3m",
                                          "nr.employed"};
    int n_num = 0;
    for (int32_t c = 0; c < fx.bank.n_cols; c++)
        n_num += fx.bank.cols[c].kind == NQ_LEADS_NUMERIC;
    assert_int_equal(n_num, 9);
    for (size_t i = 0; i < sizeof numeric / sizeof numeric[0]; i++) {
        int32_t c = nq_leads_data_col(&fx.bank, numeric[i]);
        assert_true(c >= 0);
        assert_int_equal(fx.bank.cols[c].kind, NQ_LEADS_NUMERIC);
    }
    assert_int_equal(fx.s1.n_test, 8238);
    assert_int_equal(fx.s1.test_pos, 928);
}

static void test_lr_s1(void **state)
{
    (void)state;
    const nq_leads_model *m = lr_s1();
    double d_auc = m->test.auc - REF_S1_AUC;
    double d_obj = (m->objective - REF_S1_OBJECTIVE) / REF_S1_OBJECTIVE;
    print_message("S1 LR: AUC %.7f (ref %.7f, diff %+.2e), objective %.4f (ref %.4f, rel %+.2e), "
                  "log loss %.6f (ref %.6f), %d Newton steps, %.2f s\n",
                  m->test.auc, REF_S1_AUC, d_auc, m->objective, REF_S1_OBJECTIVE, d_obj,
                  m->test.logloss, REF_S1_LOGLOSS, (int)m->newton_steps, m->train_seconds);
    assert_int_equal(m->schema.n_features, 62);
    assert_int_equal(m->test.n, 8238);
    assert_int_equal(m->test.positives, 928);
    assert_true(m->test.has_auc);
    assert_true(fabs(d_auc) <= 0.002);
    assert_true(fabs(d_auc) <= 1e-4); /* the tolerance the method allows is much tighter */
    assert_true(fabs(d_obj) <= 1e-4);
    assert_true(fabs(m->test.logloss - REF_S1_LOGLOSS) <= 1e-4);
    assert_true(fabs(m->test.accuracy - REF_S1_ACC) <= 0.002);
    assert_true(fabs(m->train.auc - 0.7951866) <= 1e-4);
    assert_string_equal(m->schema.features[1], "job=admin.");
}

static void test_lr_s2_mod5(void **state)
{
    (void)state;
    need_bank();
    assert_int_equal(fx.s2.n_test, 8237);
    assert_int_equal(fx.s2.test_pos, 928);
    assert_int_equal(fx.s2.n_train, 32951);
    nq_leads_train_opts o;
    nq_leads_train_opts_default(&o, NQ_LEADS_LOGISTIC);
    nq_err err = {0};
    fail_err(nq_leads_train(&fx.bank, &fx.s2, &o, &fx.lr2, &err), &err);
    fx.have_lr2 = 1;
    double d = fx.lr2.test.auc - REF_S2_AUC;
    print_message("S2 LR: AUC %.7f (ref %.7f, diff %+.2e)\n", fx.lr2.test.auc, REF_S2_AUC, d);
    assert_true(fabs(d) <= 0.002);
    assert_true(fabs(fx.lr2.test.logloss - 0.27572552) <= 1e-3);
}

static void test_gbt_s1(void **state)
{
    (void)state;
    const nq_leads_model *m = gbt_s1();
    print_message("S1 GBT: AUC %.6f (sklearn HGB 0.799580), log loss %.6f, %.2f s\n", m->test.auc,
                  m->test.logloss, m->train_seconds);
    assert_true(m->test.auc >= 0.795);
    assert_true(m->booster && m->booster_len > 0);
}

/* ---- metrics --------------------------------------------------------------- */

static double brute_auc(const double *p, const uint8_t *y, int n)
{
    double num = 0, pos = 0, neg = 0;
    for (int i = 0; i < n; i++) {
        pos += y[i];
        neg += !y[i];
        for (int j = 0; j < n; j++)
            if (y[i] && !y[j])
                num += p[i] > p[j] ? 1.0 : p[i] == p[j] ? 0.5 : 0.0;
    }
    return num / (pos * neg);
}

static void test_metrics(void **state)
{
    (void)state;
    nq_rng g;
    nq_rng_seed(&g, 7);
    enum { N = 1500 };
    static double p[N];
    static uint8_t y[N];
    for (int trial = 0; trial < 4; trial++) {
        int levels = trial == 0 ? 3 : trial == 1 ? 20 : 1000;
        for (int i = 0; i < N; i++) {
            p[i] = (double)nq_rng_below(&g, (uint64_t)levels) / (levels - 1);
            y[i] = nq_rng_double(&g) < 0.2 + 0.5 * p[i];
        }
        double auc = 0, ll = 0, want = 0;
        nq_err err = {0};
        fail_err(nq_leads_auc(p, y, N, &auc, &err), &err);
        assert_true(fabs(auc - brute_auc(p, y, N)) < 1e-12);
        fail_err(nq_leads_logloss(p, y, N, &ll, &err), &err);
        for (int i = 0; i < N; i++) {
            double q = fmin(fmax(p[i], 1e-15), 1 - 1e-15);
            want -= y[i] ? log(q) : log(1 - q);
        }
        assert_true(fabs(ll - want / N) < 1e-9);
        nq_leads_metrics m;
        fail_err(nq_leads_metrics_compute(p, y, N, 0.5, &m, &err), &err);
        assert_true(fabs(m.auc - auc) < 1e-15);
        int32_t count = 0;
        double sp = 0, sy = 0, tp = 0, ty = 0;
        for (int b = 0; b < NQ_LEADS_CALIB_BINS; b++) {
            count += m.calib[b].count;
            sp += m.calib[b].count * m.calib[b].mean_pred;
            sy += m.calib[b].count * m.calib[b].observed;
        }
        for (int i = 0; i < N; i++) {
            tp += p[i];
            ty += y[i];
        }
        assert_int_equal(count, N);
        assert_true(fabs(sp - tp) < 1e-9 && fabs(sy - ty) < 1e-9);
        assert_true(m.n_roc >= 2 && m.n_roc <= NQ_LEADS_ROC_MAX);
        assert_true(m.roc[0].fpr == 0 && m.roc[0].tpr == 0);
        assert_true(m.roc[m.n_roc - 1].fpr == 1 && m.roc[m.n_roc - 1].tpr == 1);
        for (int32_t k = 1; k < m.n_roc; k++)
            assert_true(m.roc[k].fpr >= m.roc[k - 1].fpr && m.roc[k].tpr >= m.roc[k - 1].tpr &&
                        m.roc[k].threshold < m.roc[k - 1].threshold);
    }
    /* Clipping, one class, a non-probability. */
    double p2[2] = {0.0, 1.0}, ll = 0, auc = 0;
    uint8_t y2[2] = {1, 1};
    nq_err err = {0};
    fail_err(nq_leads_logloss(p2, y2, 2, &ll, &err), &err);
    assert_true(fabs(ll - (-log(1e-15) - log1p(-1e-15)) / 2) < 1e-9);
    assert_int_equal(nq_leads_auc(p2, y2, 2, &auc, &err), NQ_EINVAL);
    p2[0] = 1.5;
    assert_int_equal(nq_leads_logloss(p2, y2, 2, &ll, &err), NQ_EINVAL);
    p2[0] = NAN;
    assert_int_equal(nq_leads_auc(p2, y2, 2, &auc, &err), NQ_EINVAL);
}

/* ---- model documents --------------------------------------------------------- */

static void score_sample(const nq_leads_model *m, int32_t rows, nq_leads_scores *s)
{
    nq_leads_batch b;
    nq_leads_batch_from_csv(&fx.sample, &b);
    if (rows > 0 && rows < b.rows)
        b.rows = rows;
    nq_err err = {0};
    fail_err(nq_leads_score(m, &b, NULL, s, &err), &err);
}

static json_t *roundtrip_doc(const nq_leads_model *m)
{
    json_t *doc = NULL, *back = NULL;
    nq_err err = {0};
    fail_err(nq_leads_model_to_json(m, &doc, &err), &err);
    char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    assert_non_null(text);
    fail_err(nq_json_parse(text, strlen(text), "model", NULL, &back, &err), &err);
    free(text);
    return back;
}

static void check_roundtrip(const nq_leads_model *m)
{
    json_t *doc = roundtrip_doc(m);
    nq_leads_model back;
    nq_err err = {0};
    fail_err(nq_leads_model_from_json(doc, &back, &err), &err);
    json_decref(doc);
    nq_leads_scores a, b;
    score_sample(m, 0, &a);
    score_sample(&back, 0, &b);
    assert_int_equal(a.rows, 4119);
    for (int32_t i = 0; i < a.rows; i++) {
        assert_true(a.leads[i].p == b.leads[i].p);
        assert_int_equal(a.leads[i].score, b.leads[i].score);
        assert_int_equal(a.leads[i].tier, b.leads[i].tier);
    }
    assert_memory_equal(a.contrib, b.contrib, (size_t)a.rows * a.n_cols * sizeof(double));
    assert_true(back.test.auc == m->test.auc);
    assert_int_equal(back.schema.n_features, m->schema.n_features);
    nq_leads_scores_free(&a);
    nq_leads_scores_free(&b);
    nq_leads_model_free(&back);
}

static void test_roundtrip_lr(void **state)
{
    (void)state;
    check_roundtrip(lr_s1());
}

static void test_roundtrip_gbt(void **state)
{
    (void)state;
    check_roundtrip(gbt_s1());
}

/* Replace the value at a slash path (object keys, array indices) of doc. */
static void set_path(json_t *doc, const char *path, json_t *value)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    json_t *cur = doc;
    char *save = NULL, *tok = strtok_r(buf, "/", &save), *next;
    for (; (next = strtok_r(NULL, "/", &save)); tok = next)
        cur = json_is_array(cur) ? json_array_get(cur, (size_t)atoi(tok)) : json_object_get(cur, tok);
    assert_non_null(cur);
    if (json_is_array(cur))
        assert_int_equal(json_array_set_new(cur, (size_t)atoi(tok), value), 0);
    else
        assert_int_equal(json_object_set_new(cur, tok, value), 0);
}

static void expect_rejected(const nq_leads_model *m, const char *path, json_t *value,
                            const char *where_prefix)
{
    json_t *doc = roundtrip_doc(m);
    set_path(doc, path, value);
    nq_leads_model back;
    nq_err err = {0};
    int rc = nq_leads_model_from_json(doc, &back, &err);
    json_decref(doc);
    print_message("tampered %s -> %d at '%s': %s\n", path, rc, err.where, err.msg);
    assert_true(rc != NQ_OK);
    assert_true(!strncmp(err.where, where_prefix, strlen(where_prefix)));
}

static void test_tampered(void **state)
{
    (void)state;
    const nq_leads_model *lr = lr_s1(), *gbt = gbt_s1();
    expect_rejected(lr, "/kind", json_string("forest"), "/kind");
    expect_rejected(lr, "/logistic/coef/3", json_string("x"), "/logistic/coef/3");
    expect_rejected(lr, "/logistic/intercept", json_real(1e300), "/logistic/intercept");
    expect_rejected(lr, "/columns/1/levels/0", json_string("zzz"), "/columns/1/levels/1");
    expect_rejected(lr, "/columns/0/std", json_real(0.0), "/columns/0/std");
    expect_rejected(lr, "/columns/0/kind", json_string("text"), "/columns/0/kind");
    expect_rejected(lr, "/features/2", json_string("job=astronaut"), "/features/2");
    expect_rejected(lr, "/metrics/test/auc", json_real(1.5), "/metrics/test/auc");
    expect_rejected(lr, "/options/C", json_real(-1), "/options/C");
    expect_rejected(lr, "/extra", json_true(), "");
    expect_rejected(gbt, "/gbt/booster/learner/gradient_booster/model/trees/3/left_children/0",
                    json_integer(0), "/gbt/booster/learner/gradient_booster/model/trees/3");
    expect_rejected(gbt, "/gbt/booster/learner/gradient_booster/model/trees/5/split_indices/0",
                    json_integer(62), "/gbt/booster/learner/gradient_booster/model/trees/5/split_indices/0");
    expect_rejected(gbt, "/gbt/booster/learner/learner_model_param/num_feature", json_string("61"),
                    "/gbt/booster/learner/learner_model_param/num_feature");
    expect_rejected(gbt, "/gbt/booster/learner/objective/name", json_string("reg:squarederror"),
                    "/gbt/booster/learner/objective/name");
    expect_rejected(gbt, "/gbt/booster/learner/gradient_booster/model/gbtree_model_param/num_trees",
                    json_string("99"), "/gbt/booster/learner/gradient_booster/model");
    /* Not an object at all, and a logistic member in a tree model. */
    nq_leads_model back;
    nq_err err = {0};
    json_t *arr = json_array();
    assert_int_equal(nq_leads_model_from_json(arr, &back, &err), NQ_EINVAL);
    json_decref(arr);
    expect_rejected(gbt, "/logistic", json_object(), "/logistic");
}

/* ---- scoring --------------------------------------------------------------- */

static void test_scoring(void **state)
{
    (void)state;
    const nq_leads_model *m = lr_s1();
    nq_leads_scores s;
    score_sample(m, 500, &s);
    assert_int_equal(s.rows, 500);
    assert_int_equal(s.n_cols, 19);
    assert_true(s.base == m->intercept);
    for (int32_t i = 0; i < s.rows; i++) {
        const nq_leads_scored *l = &s.leads[i];
        double z = s.base;
        for (int32_t c = 0; c < s.n_cols; c++)
            z += s.contrib[(size_t)i * s.n_cols + c];
        assert_true(fabs(z - l->logit) < 1e-9);
        assert_true(fabs(1 / (1 + exp(-l->logit)) - l->p) < 1e-12);
        assert_int_equal(l->score, (int)floor(100 * l->p + 0.5));
        nq_leads_tier want = l->p >= 0.5 ? NQ_LEADS_HOT : l->p >= 0.3 ? NQ_LEADS_WARM
                             : l->p >= 0.15 ? NQ_LEADS_LUKEWARM : NQ_LEADS_COLD;
        assert_int_equal(l->tier, want);
        assert_int_equal(l->n_top, 3);
        double smallest_top = fabs(l->top[2].contribution);
        for (int k = 1; k < 3; k++)
            assert_true(fabs(l->top[k - 1].contribution) >= fabs(l->top[k].contribution));
        for (int32_t c = 0; c < s.n_cols; c++) {
            int in_top = c == l->top[0].col || c == l->top[1].col || c == l->top[2].col;
            if (!in_top)
                assert_true(fabs(s.contrib[(size_t)i * s.n_cols + c]) <= smallest_top);
        }
    }
    nq_leads_scores_free(&s);
    /* Trees: SHAP values and the expected value add up to the logit. */
    score_sample(gbt_s1(), 300, &s);
    for (int32_t i = 0; i < s.rows; i++) {
        double z = s.base;
        for (int32_t c = 0; c < s.n_cols; c++)
            z += s.contrib[(size_t)i * s.n_cols + c];
        assert_true(fabs(z - s.leads[i].logit) < 1e-9);
        assert_true(fabs(1 / (1 + exp(-z)) - s.leads[i].p) < 1e-4);
    }
    nq_leads_scores_free(&s);
    /* The fast (path attribution) explanation adds up the same way. */
    nq_leads_score_opts o;
    nq_leads_score_opts_default(&o);
    o.explain = NQ_LEADS_EXPLAIN_FAST;
    nq_leads_batch b;
    nq_leads_batch_from_csv(&fx.sample, &b);
    b.rows = 300;
    nq_err err = {0};
    fail_err(nq_leads_score(gbt_s1(), &b, &o, &s, &err), &err);
    for (int32_t i = 0; i < s.rows; i++) {
        double z = s.base;
        for (int32_t c = 0; c < s.n_cols; c++)
            z += s.contrib[(size_t)i * s.n_cols + c];
        assert_true(fabs(1 / (1 + exp(-z)) - s.leads[i].p) < 1e-4);
    }
    nq_leads_scores_free(&s);
}

/* A one-lead batch from "name=value" pairs over the bank's columns. */
static const char *const lead_header[] = {"age", "job", "marital", "education", "default", "housing",
                                          "loan", "contact", "month", "day_of_week", "campaign",
                                          "pdays", "previous", "poutcome", "emp.var.rate",
                                          "cons.price.idx", "cons.conf.idx", "euribor3m",
                                          "nr.employed", "extra"};
static const char *lead_cells[] = {"41", "astronaut", "married", "university.degree", "no", "yes",
                                   "no", "cellular", "may", "mon", "2", "999", "0", "nonexistent",
                                   "-1.8", "92.893", "-46.2", "1.299", "5099.1", "ignored"};

static void test_unseen_and_missing(void **state)
{
    (void)state;
    const nq_leads_model *models[2] = {lr_s1(), gbt_s1()};
    for (int k = 0; k < 2; k++) {
        nq_leads_batch b = {.n_cols = 20, .rows = 1, .header = lead_header, .cells = lead_cells};
        nq_leads_scores s;
        nq_err err = {0};
        fail_err(nq_leads_score(models[k], &b, NULL, &s, &err), &err);
        assert_true(s.leads[0].p > 0 && s.leads[0].p < 1);
        if (k == 0)
            assert_true(s.contrib[1] == 0.0); /* job: all-zero one-hot */
        nq_leads_scores_free(&s);
        /* Empty numeric cell: imputed (logistic) / missing (trees). */
        const char *saved = lead_cells[0];
        lead_cells[0] = "";
        fail_err(nq_leads_score(models[k], &b, NULL, &s, &err), &err);
        if (k == 0)
            assert_true(s.contrib[0] == 0.0);
        nq_leads_scores_free(&s);
        lead_cells[0] = "forty";
        assert_int_equal(nq_leads_score(models[k], &b, NULL, &s, &err), NQ_EINVAL);
        assert_string_equal(err.where, "/leads/0/age");
        lead_cells[0] = saved;
        /* A schema column missing from the header. */
        b.header = lead_header + 1;
        b.cells = lead_cells + 1;
        b.n_cols = 19;
        assert_int_equal(nq_leads_score(models[k], &b, NULL, &s, &err), NQ_EINVAL);
        assert_non_null(strstr(err.msg, "'age'"));
    }
}

static void test_quantile_tiers(void **state)
{
    (void)state;
    nq_leads_score_opts o;
    nq_leads_score_opts_default(&o);
    o.tier_mode = NQ_LEADS_TIER_QUANTILES;
    o.top_k = 100;
    const nq_leads_model *m = lr_s1();
    nq_leads_batch b;
    nq_leads_batch_from_csv(&fx.sample, &b);
    b.rows = 1000;
    nq_leads_scores s;
    nq_err err = {0};
    fail_err(nq_leads_score(m, &b, &o, &s, &err), &err);
    int count[4] = {0};
    for (int32_t i = 0; i < s.rows; i++)
        count[s.leads[i].tier]++;
    print_message("quantile tiers: %d hot, %d warm, %d lukewarm, %d cold\n", count[0], count[1],
                  count[2], count[3]);
    assert_true(count[0] >= 100 && count[0] + count[1] >= 300 &&
                count[0] + count[1] + count[2] >= 600);
    assert_true(s.hot >= s.warm && s.warm >= s.lukewarm);
    assert_int_equal(s.leads[0].n_top, 19);
    nq_leads_scores_free(&s);
    o.q_hot = 0.9;
    assert_int_equal(nq_leads_score(m, &b, &o, &s, &err), NQ_EINVAL);
}

/* ---- bad input ------------------------------------------------------------- */

static int data_err(const char *csv, const char *outcome, const char *positive, nq_err *err)
{
    nq_leads_data d;
    nq_leads_data_opts o = {.outcome = outcome, .positive = positive, .min_rows = 2};
    int rc = nq_leads_data_from_text(csv, strlen(csv), ',', "leads.csv", &o, &d, err);
    print_message("-> %d at '%s': %s\n", rc, err->where, err->msg);
    if (!rc)
        nq_leads_data_free(&d);
    return rc;
}

static void test_bad_input(void **state)
{
    (void)state;
    nq_err err = {0};
    const char *ok = "a,b,won\n1,x,yes\n2,y,no\n3,,yes\n";
    assert_int_equal(data_err(ok, "won", NULL, &err), NQ_OK);
    assert_int_equal(data_err(ok, "outcome", NULL, &err), NQ_EINVAL);
    assert_non_null(strstr(err.msg, "'outcome'"));
    assert_int_equal(data_err("a,won\n1,yes\n2,yes\n", "won", NULL, &err), NQ_EINVAL);
    assert_non_null(strstr(err.msg, "single class"));
    assert_int_equal(data_err("a,won\n1,yes\n2,no\n3\n", "won", NULL, &err), NQ_EPARSE);
    assert_non_null(strstr(err.msg, "line 4"));
    assert_int_equal(data_err(ok, "won", "maybe", &err), NQ_EINVAL);
    assert_non_null(strstr(err.msg, "'maybe'"));
    assert_int_equal(data_err("a,won\n1,up\n2,down\n", "won", NULL, &err), NQ_EINVAL);
    assert_int_equal(data_err("a,won\n1,up\n2,down\n", "won", "up", &err), NQ_OK);
    assert_int_equal(data_err("a,won\n1,1\n2,0\n3,2\n", "won", NULL, &err), NQ_EINVAL);
    assert_int_equal(data_err("a,won\n1,1\n", "won", NULL, &err), NQ_EINVAL); /* too few rows */
    assert_int_equal(data_err("a,won\n1,1\n2,\n", "won", NULL, &err), NQ_EINVAL);
    assert_non_null(strstr(err.msg, "line 3"));
    /* A dropped column that does not exist. */
    nq_leads_data d;
    const char *drop[] = {"nope"};
    nq_leads_data_opts o = {.outcome = "won", .drop = drop, .n_drop = 1, .min_rows = 2};
    assert_int_equal(nq_leads_data_from_text(ok, strlen(ok), ',', "x", &o, &d, &err), NQ_ENOTFOUND);
}

/* Numeric missing cells, categorical "(missing)", splits on a small set. */
static void test_small_data(void **state)
{
    (void)state;
    char csv[4096] = "n,c,won\n";
    for (int i = 0; i < 60; i++) {
        char line[64];
        snprintf(line, sizeof line, "%s,%s,%s\n", i % 7 == 3 ? "" : i % 2 ? "1.5" : "4",
                 i % 5 == 0 ? "" : i % 3 ? "red" : "blue", i % 4 == 0 || i % 7 == 1 ? "true" : "false");
        strcat(csv, line);
    }
    nq_leads_data d;
    nq_err err = {0};
    nq_leads_data_opts o = {.outcome = "won"};
    fail_err(nq_leads_data_from_text(csv, strlen(csv), ',', "x", &o, &d, &err), &err);
    assert_string_equal(d.positive, "true");
    assert_int_equal(d.cols[0].kind, NQ_LEADS_NUMERIC);
    assert_int_equal(d.cols[1].kind, NQ_LEADS_CATEGORICAL);
    assert_string_equal(d.cols[1].levels[0], NQ_LEADS_MISSING);
    nq_leads_split a, b, bad;
    fail_err(nq_leads_split_random(&d, 0.25, 42, &a, &err), &err);
    fail_err(nq_leads_split_random(&d, 0.25, 42, &b, &err), &err);
    assert_int_equal(a.n_test, b.n_test);
    assert_memory_equal(a.is_test, b.is_test, (size_t)d.rows);
    int32_t cls_pos = d.positives;
    assert_int_equal(a.test_pos, (int32_t)floor(0.25 * cls_pos + 0.5));
    int32_t dup[2] = {3, 3}, out_of[1] = {60};
    assert_int_equal(nq_leads_split_indices(&d, dup, 2, &bad, &err), NQ_EINVAL);
    assert_string_equal(err.where, "/test/1");
    assert_int_equal(nq_leads_split_indices(&d, out_of, 1, &bad, &err), NQ_EINVAL);
    nq_leads_train_opts to;
    nq_leads_train_opts_default(&to, NQ_LEADS_LOGISTIC);
    nq_leads_model m;
    fail_err(nq_leads_train(&d, &a, &to, &m, &err), &err);
    assert_int_equal(m.schema.n_features, 4); /* n, c=(missing), c=blue, c=red */
    assert_true(m.schema.cols[0].train_missing > 0);
    assert_true(fabs(m.schema.cols[0].impute - m.schema.cols[0].mean) == 0);
    nq_leads_model_free(&m);
    int32_t *ix = NULL, n = 0;
    assert_int_equal(nq_leads_parse_indices("1 2\n3x\n", 7, 10, &ix, &n, &err), NQ_EPARSE);
    assert_non_null(strstr(err.msg, "line 2"));
    nq_leads_split_free(&a);
    nq_leads_split_free(&b);
    nq_leads_data_free(&d);
}

static int cancel_at_half(double pct, void *user)
{
    (*(int *)user)++;
    return pct >= 50.0;
}

static void test_cancel(void **state)
{
    (void)state;
    need_bank();
    nq_leads_data d;
    nq_leads_data_opts o = {.outcome = "y", .positive = "yes", .drop = dropped, .n_drop = 1};
    nq_err err = {0};
    nq_csv *t = &fx.sample;
    fail_err(nq_leads_data_from_csv(t, &o, &d, &err), &err);
    nq_leads_train_opts to;
    nq_leads_train_opts_default(&to, NQ_LEADS_GBT);
    to.rounds = 20;
    int calls = 0;
    to.progress = cancel_at_half;
    to.user = &calls;
    nq_leads_model m;
    assert_int_equal(nq_leads_train(&d, NULL, &to, &m, &err), NQ_ECANCEL);
    assert_true(calls > 1);
    atomic_int flag = 1;
    to.progress = NULL;
    to.cancel = &flag;
    to.algo = NQ_LEADS_LOGISTIC;
    assert_int_equal(nq_leads_train(&d, NULL, &to, &m, &err), NQ_ECANCEL);
    nq_leads_data_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_metrics),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_small_data),
        cmocka_unit_test(test_data_schema),
        cmocka_unit_test(test_lr_s1),
        cmocka_unit_test(test_lr_s2_mod5),
        cmocka_unit_test(test_gbt_s1),
        cmocka_unit_test(test_roundtrip_lr),
        cmocka_unit_test(test_roundtrip_gbt),
        cmocka_unit_test(test_tampered),
        cmocka_unit_test(test_scoring),
        cmocka_unit_test(test_unseen_and_missing),
        cmocka_unit_test(test_quantile_tiers),
        cmocka_unit_test(test_cancel),
    };
    return cmocka_run_group_tests(tests, NULL, teardown_all);
}
