/* test_cli_leads.c - `nqba leads train|score|assign` as a user runs it: a
 * model trained from the UCI sample and written to a file, leads scored
 * with it into a CSV, an assignment, and errors naming the file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h> /* after the headers it needs */

#include "cli_run.h"

static void test_train_and_score(void **state)
{
    env *e = *state;
    char data[PATH_MAX_LEN], model[PATH_MAX_LEN], scored[PATH_MAX_LEN], leads[PATH_MAX_LEN];
    snprintf(data, sizeof data, "%s/data/lead_scoring/bank-additional.csv", e->shared);
    path_in(e, "model.json", model);
    path_in(e, "scored.csv", scored);
    run_out r;
    nqba(e, &r, NULL, "leads", "train", "--data", data, "--separator", ";", "--outcome", "y",
         "--positive", "yes", "--out", model, "--json", NULL);
    json_t *ans = run_json(e, &r);
    double auc = num(json_object_get(json_object_get(ans, "metrics"), "test"), "auc");
    assert_true(auc > 0.70 && auc < 0.99); /* the 4,119-row sample, mod5 split */
    json_decref(ans);
    run_free(&r);
    /* Score the first rows of the same file, written out with the scores. */
    size_t len = 0;
    char *text = slurp(data, &len);
    assert_non_null(text);
    char *cut = text;
    for (int i = 0; i < 6 && cut; i++)
        cut = strchr(cut + 1, '\n');
    assert_non_null(cut);
    cut[1] = '\0';
    write_tmp_str(e, "leads.csv", text, leads);
    free(text);
    nqba(e, &r, NULL, "leads", "score", "--model", model, "--leads", leads, "--separator", ";",
         "--csv-out", scored, NULL);
    assert_int_equal(r.status, 0);
    expect_contains(r.out, "5 leads scored");
    run_free(&r);
    char *out = slurp(scored, &len);
    assert_non_null(out);
    expect_contains(out, "probability");
    expect_contains(out, "top_factors");
    free(out);
    /* A file without a column the model needs. */
    write_tmp_str(e, "short.csv", "age;job\n30;admin.\n", leads);
    nqba(e, &r, NULL, "leads", "score", "--model", model, "--leads", leads, "--separator", ";",
         NULL);
    assert_int_equal(r.status, 2);
    expect_contains(r.err, "short.csv");
    run_free(&r);
}

static void test_assign(void **state)
{
    env *e = *state;
    char req[PATH_MAX_LEN];
    write_tmp_str(e, "assign.json",
                  "{\"reps\": [{\"name\": \"ana\", \"capacity\": 1, \"skills\": [\"es\"]}, "
                  "{\"name\": \"bo\", \"capacity\": 2}], \"leads\": [{\"id\": \"L1\", \"value\": 10, "
                  "\"requires\": [\"es\"]}, {\"id\": \"L2\", \"value\": 7}, {\"id\": \"L3\", "
                  "\"value\": 5}, {\"id\": \"L4\", \"value\": 1}]}",
                  req);
    run_out r;
    nqba(e, &r, NULL, "leads", "assign", req, "--json", NULL);
    json_t *ans = run_json(e, &r);
    /* ana takes L1 (only she can); bo the two best of the rest. */
    assert_true(fabs(num(ans, "total_value") - 22) < 1e-9);
    assert_true(json_is_true(json_object_get(ans, "proven_optimal")));
    json_decref(ans);
    run_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_train_and_score),
                                       cmocka_unit_test(test_assign)};
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
