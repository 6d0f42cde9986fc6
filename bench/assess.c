/* assess.c - timings of the business-assessment unit: a whole request
 * (parse, score, gaps, plan within a budget and an effort limit, projected
 * scores, the answer document) on the built-in SP 800-53 rev5 moderate
 * baseline (287 controls) and NIST CSF 2.0 (106), each with the synthetic
 * answers of the compliance reference (k = i % 7). Each figure is the
 * median of repeated runs. Writes a markdown section to stdout.
 * Usage: bench_assess [REPS]   (default 21) */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_machine.h"
#include "nqba/assess.h"
#include "nqba/clock.h"

#define BAR_MS 100.0

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The reference's assignment on any catalog, evidence on the compliant
 * ones (every 4th of them expired), and a plan over a third of the cost. */
static json_t *request(const char *framework, double budget, double effort)
{
    nq_grc_catalog c;
    nq_err err;
    if (nq_grc_catalog_builtin(framework, &c, &err)) {
        fprintf(stderr, "bench_assess: %s\n", err.msg);
        exit(1);
    }
    static const char *const result[] = {"compliant",     "compliant",      "compliant",
                                         "partially_compliant", "non_compliant", "not_applicable",
                                         "not_assessed"};
    json_t *answers = json_array();
    for (int32_t i = 0; i < c.n_controls; i++) {
        int k = i % 7;
        json_t *a = json_pack("{s:s, s:s}", "control", c.controls[i].id, "result", result[k]);
        if (k <= 4)
            json_object_set_new(a, "maturity",
                                json_real(k <= 2 ? c.scale_max : k == 3 ? 2.0 : c.scale_min + 1));
        if (k <= 2)
            json_object_set_new(a, "evidence",
                                json_pack("[{s:s, s:s, s:s, s:s}]", "name", "record", "hash",
                                          "sha256:00", "collected_at", "2024-09-01", "expires_at",
                                          i % 4 ? "2025-09-01" : "2025-03-01"));
        json_array_append_new(answers, a);
    }
    nq_grc_catalog_free(&c);
    return json_pack("{s:s, s:s, s:o, s:{s:f, s:f}}", "framework", framework, "as_of",
                     "2025-06-30", "answers", answers, "plan", "budget", budget, "effort_limit",
                     effort);
}

typedef struct timing {
    double median_ms, min_ms, max_ms;
    double engine_ms, milp_ms;
    int n_actions, n_chosen, proven;
    double value;
} timing;

static int run_once(const char *text, size_t len, timing *t, double *ms)
{
    double t0 = nq_clock_s();
    json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL), *ans = NULL;
    nq_assess_req r;
    nq_err err;
    int rc = doc ? nq_assess_parse(doc, &r, &err) : NQ_EPARSE;
    if (!rc) {
        rc = nq_assess_run(&r, NULL, &ans, &err);
        nq_assess_req_free(&r);
    }
    *ms = (nq_clock_s() - t0) * 1e3;
    if (rc) {
        fprintf(stderr, "bench_assess: %s: %s\n", err.where, err.msg);
        json_decref(doc);
        return rc;
    }
    json_t *p = json_object_get(ans, "plan");
    t->engine_ms = 1e3 * json_number_value(json_object_get(json_object_get(p, "engine"), "elapsed_s"));
    t->milp_ms = 1e3 * json_number_value(json_object_get(json_object_get(p, "milp"), "elapsed_s"));
    t->n_actions = (int)json_integer_value(json_object_get(p, "n_actions"));
    t->n_chosen = (int)json_integer_value(json_object_get(p, "n_chosen"));
    t->proven = json_is_true(json_object_get(p, "proven_optimal"));
    t->value = json_number_value(json_object_get(p, "risk_reduction"));
    json_decref(ans);
    json_decref(doc);
    return 0;
}

static int measure(const char *framework, double budget, double effort, int reps, timing *t)
{
    json_t *req = request(framework, budget, effort);
    char *text = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    double *ms = malloc((size_t)reps * sizeof *ms);
    int rc = 0;
    for (int k = 0; !rc && k < reps; k++)
        rc = run_once(text, strlen(text), t, &ms[k]);
    if (!rc) {
        qsort(ms, (size_t)reps, sizeof *ms, cmp_double);
        t->median_ms = ms[reps / 2], t->min_ms = ms[0], t->max_ms = ms[reps - 1];
    }
    free(ms);
    free(text);
    return rc;
}

int main(int argc, char **argv)
{
    int reps = argc > 1 ? atoi(argv[1]) : 21;
    if (reps < 1 || reps > 1001)
        reps = 21;
    char machine[512], cmd[512];
    bench_machine(machine, sizeof machine);
    bench_cmdline(cmd, sizeof cmd, "build/bench_assess", argc, argv);
    printf("### Business assessment\n\n");
    printf("Machine: %s. Command: `%s`. Median of %d runs of a whole request: JSON text in, "
           "parse, score, gaps, plan (engine, then GLPK), projected scores, answer document.\n\n",
           machine, cmd, reps);
    printf("| framework | controls | gaps | chosen | risk reduction | proven | engine ms | "
           "GLPK ms | median ms | min..max ms | bar |\n");
    printf("|---|---:|---:|---:|---:|---|---:|---:|---:|---|---|\n");
    static const struct {
        const char *id;
        int controls;
        double budget, effort;
    } cases[] = {{"nist-sp800-53r5-moderate", 287, 500000, 400},
                 {"nist-csf-2.0", 106, 200000, 150}};
    int fail = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        timing t;
        if (measure(cases[i].id, cases[i].budget, cases[i].effort, reps, &t)) {
            fail = 1;
            continue;
        }
        int ok = t.median_ms < BAR_MS;
        fail |= !ok && cases[i].controls == 287;
        printf("| %s | %d | %d | %d | %.1f | %s | %.2f | %.2f | %.2f | %.2f..%.2f | %s |\n",
               cases[i].id, cases[i].controls, t.n_actions, t.n_chosen, t.value,
               t.proven ? "yes" : "no", t.engine_ms, t.milp_ms, t.median_ms, t.min_ms, t.max_ms,
               ok ? "< 100 ms" : "over 100 ms");
    }
    printf("\nBudget and effort limit: 500,000 and 400 person-days (SP 800-53), 200,000 and 150 "
           "(CSF); default costing (10,000 and 10 person-days per control, times the gap's "
           "share).\n\n");
    return fail;
}
