/* leads.c - timings and accuracy of Sigma Select lead scoring on the UCI
 * bank marketing data (bank-additional-full.csv, `duration` dropped):
 * training the logistic model and the trees on split S1 (32,950 rows),
 * scoring 1,000 leads with models read back from their JSON documents,
 * and the test AUCs against reference_results.json. Each time is the
 * median of repeated runs. Writes a markdown section to stdout.
 * Usage: bench_leads [SHARED_DIR]   (default ../shared) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_data.h"
#include "bench_machine.h"
#include "nqba/clock.h"
#include "nqba/leads.h"

#define REF_S1_LR 0.7928876362092552
#define REF_S2_LR 0.7935193561551417
#define REF_S1_HGB 0.7995803162885042
#define REF_S1_OBJ 9072.0879

static void die(const char *what, const nq_err *err)
{
    fprintf(stderr, "bench_leads: %s: %s: %s\n", what, err->where, err->msg);
    exit(1);
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *t, int n)
{
    qsort(t, (size_t)n, sizeof *t, cmp_d);
    return t[n / 2];
}

/* Median training time of `reps` runs; the last model is kept in *m. */
static double train_time(const nq_leads_data *d, const nq_leads_split *s, nq_leads_algo algo,
                         int reps, nq_leads_model *m)
{
    double t[32];
    nq_leads_train_opts o;
    nq_leads_train_opts_default(&o, algo);
    nq_err err = {0};
    for (int r = 0; r < reps; r++) {
        if (r)
            nq_leads_model_free(m);
        double t0 = nq_clock_s();
        if (nq_leads_train(d, s, &o, m, &err))
            die("train", &err);
        t[r] = nq_clock_s() - t0;
    }
    return median(t, reps);
}

/* The model through its JSON document, as a stored model would be. */
static void reload(const nq_leads_model *m, nq_leads_model *out, double *load_ms)
{
    json_t *doc = NULL;
    nq_err err = {0};
    if (nq_leads_model_to_json(m, &doc, &err))
        die("to_json", &err);
    double t0 = nq_clock_s();
    if (nq_leads_model_from_json(doc, out, &err))
        die("from_json", &err);
    *load_ms = (nq_clock_s() - t0) * 1e3;
    json_decref(doc);
}

static double score_time(const nq_leads_model *m, const nq_leads_batch *b, nq_leads_explain how,
                         int reps)
{
    double t[64];
    nq_err err = {0};
    nq_leads_score_opts o;
    nq_leads_score_opts_default(&o);
    o.explain = how;
    for (int r = 0; r < reps; r++) {
        nq_leads_scores s;
        double t0 = nq_clock_s();
        if (nq_leads_score(m, b, &o, &s, &err))
            die("score", &err);
        t[r] = nq_clock_s() - t0;
        nq_leads_scores_free(&s);
    }
    return median(t, reps) * 1e3;
}

typedef struct timings {
    double load_ms, lr_s, gbt_s, lr_load_ms, gbt_load_ms, lr_score_ms, gbt_score_ms, fast_score_ms;
} timings;

static void report(const char *machine, const char *cmd, const timings *t, const nq_leads_model *lr,
                   const nq_leads_model *lr2, const nq_leads_model *gbt)
{
    printf("### Lead scoring (Sigma Select)\n\n");
    printf("Machine: %s. Command: `%s`. UCI bank-additional-full.csv (41,188 rows, `duration` "
           "dropped, 62 features); split S1 = the sklearn test indices (32,950 train / 8,238 test), "
           "S2 = mod5. Medians of 5 (logistic), 3 (trees), 51 / 11 / 21 (scoring) runs; one thread.\n\n",
           machine, cmd);
    printf("| step | ms | note |\n|---|---:|---|\n");
    printf("| read + type the CSV (41,188 rows) | %.1f | |\n", t->load_ms);
    printf("| train logistic (S1, 32,950 rows) | %.1f | liblinear L2R_LR + %d exact Newton steps |\n",
           t->lr_s * 1e3, (int)lr->newton_steps);
    printf("| train trees (S1, 100 rounds, depth 5, 31 leaves) | %.1f | XGBoost hist, nthread 1 |\n",
           t->gbt_s * 1e3);
    printf("| load logistic model from JSON | %.2f | |\n", t->lr_load_ms);
    printf("| load tree model from JSON | %.2f | structural check + XGBoost load |\n",
           t->gbt_load_ms);
    printf("| score 1,000 leads, logistic | %.3f | with contributions, top 3 factors |\n",
           t->lr_score_ms);
    printf("| score 1,000 leads, trees | %.3f | with exact TreeSHAP, top 3 factors |\n", t->gbt_score_ms);
    printf("| score 1,000 leads, trees, fast explanation | %.3f | path attribution, top 3 factors |\n\n",
           t->fast_score_ms);
    printf("| model | split | test AUC | reference | difference | other |\n|---|---|---:|---:|---:|---|\n");
    printf("| logistic | S1 | %.7f | %.7f (sklearn) | %+.2e | objective %.4f vs %.4f; log loss "
           "%.6f vs 0.278460 |\n", lr->test.auc, REF_S1_LR, lr->test.auc - REF_S1_LR, lr->objective,
           REF_S1_OBJ, lr->test.logloss);
    printf("| logistic | S2 mod5 | %.7f | %.7f (sklearn) | %+.2e | %d test rows, %d positive |\n",
           lr2->test.auc, REF_S2_LR, lr2->test.auc - REF_S2_LR, (int)lr2->test.n,
           (int)lr2->test.positives);
    printf("| trees | S1 | %.6f | %.6f (sklearn HGB) | %+.2e | bar: >= 0.795 |\n\n", gbt->test.auc,
           REF_S1_HGB, gbt->test.auc - REF_S1_HGB);
    printf("| bar | measured | met |\n|---|---|---|\n");
    printf("| train logistic on 33k rows < 5 s | %.3f s | %s |\n", t->lr_s, t->lr_s < 5 ? "yes" : "no");
    printf("| score 1,000 leads (logistic) < 20 ms | %.3f ms | %s |\n", t->lr_score_ms,
           t->lr_score_ms < 20 ? "yes" : "no");
    printf("\n");
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "../shared";
    char machine[512], cmd[512];
    bench_machine(machine, sizeof machine);
    bench_cmdline(cmd, sizeof cmd, "build/bench_leads", argc, argv);
    size_t len = 0, ilen = 0;
    char *text = bench_data("bench_leads", dir, "lead_scoring", "bank-additional-full.csv", &len);
    char *idx = bench_data("bench_leads", dir, "lead_scoring",
                           "bank-additional-full_test_idx_sklearn_rs0.txt", &ilen);
    static const char *const drop[] = {"duration"};
    nq_leads_data_opts o = {.outcome = "y", .positive = "yes", .drop = drop, .n_drop = 1};
    nq_leads_data d;
    nq_leads_split s1, s2;
    nq_err err = {0};
    int32_t *test = NULL, n_test = 0;
    double t0 = nq_clock_s();
    if (nq_leads_data_from_text(text, len, ';', "bank", &o, &d, &err))
        die("data", &err);
    double t_load = (nq_clock_s() - t0) * 1e3;
    if (nq_leads_parse_indices(idx, ilen, 1000000, &test, &n_test, &err) ||
        nq_leads_split_indices(&d, test, n_test, &s1, &err) || nq_leads_split_mod5(&d, &s2, &err))
        die("split", &err);
    nq_leads_model lr, gbt, lr2, lr_s, gbt_s;
    double t_lr = train_time(&d, &s1, NQ_LEADS_LOGISTIC, 5, &lr);
    double t_gbt = train_time(&d, &s1, NQ_LEADS_GBT, 3, &gbt);
    train_time(&d, &s2, NQ_LEADS_LOGISTIC, 1, &lr2);
    double l_lr, l_gbt;
    reload(&lr, &lr_s, &l_lr);
    reload(&gbt, &gbt_s, &l_gbt);
    nq_csv table;
    nq_csv_limits lim;
    nq_csv_limits_default(&lim);
    lim.sep = ';';
    if (nq_csv_parse(text, len, "bank", &lim, &table, &err))
        die("csv", &err);
    nq_leads_batch b;
    nq_leads_batch_from_csv(&table, &b);
    b.rows = 1000;
    double s_lr = score_time(&lr_s, &b, NQ_LEADS_EXPLAIN_EXACT, 51);
    double s_gbt = score_time(&gbt_s, &b, NQ_LEADS_EXPLAIN_EXACT, 11);
    double s_fast = score_time(&gbt_s, &b, NQ_LEADS_EXPLAIN_FAST, 21);

    timings tm = {t_load, t_lr, t_gbt, l_lr, l_gbt, s_lr, s_gbt, s_fast};
    report(machine, cmd, &tm, &lr, &lr2, &gbt);
    nq_csv_free(&table);
    nq_leads_model_free(&lr);
    nq_leads_model_free(&gbt);
    nq_leads_model_free(&lr2);
    nq_leads_model_free(&lr_s);
    nq_leads_model_free(&gbt_s);
    nq_leads_split_free(&s1);
    nq_leads_split_free(&s2);
    nq_leads_data_free(&d);
    free(test);
    free(text);
    free(idx);
    return 0;
}
