/* test_cli_assess.c - `nqba assess` as a user runs it: the summary, the
 * HTML report written to a file, the answer document, a diff of two
 * answers, and errors naming the request and the field. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h> /* after the headers it needs */

#include "cli_run.h"

#define REQ(maturity)                                                                              \
    "{\"framework\": \"nist-csf-2.0\", \"as_of\": \"2025-06-30\", \"answers\": [{\"control\": "    \
    "\"GV.OC-01\", \"status\": \"implemented\", \"maturity\": 4}, {\"control\": \"GV.OC-02\", "    \
    "\"result\": \"partially_compliant\", \"maturity\": " maturity "}], \"plan\": {\"budget\": "   \
    "50000, \"effort_limit\": 40}}"

static void test_assess(void **state)
{
    env *e = *state;
    char req[PATH_MAX_LEN], html[PATH_MAX_LEN], a1[PATH_MAX_LEN], a2[PATH_MAX_LEN],
        req2[PATH_MAX_LEN];
    write_tmp_str(e, "req.json", REQ("2"), req);
    write_tmp_str(e, "req2.json", REQ("4"), req2);
    path_in(e, "report.html", html);
    run_out r;
    nqba(e, &r, NULL, "assess", req, "--html", html, NULL);
    assert_int_equal(r.status, 0);
    expect_contains(r.out, "106 controls as of 2025-06-30: 1 compliant, 1 partially compliant");
    expect_contains(r.out, "Plan:");
    run_free(&r);
    size_t len = 0;
    char *page = slurp(html, &len);
    assert_non_null(page);
    expect_contains(page, "<html");
    assert_null(strstr(page, "<script"));
    free(page);
    /* Two answers, then what changed between them. */
    nqba(e, &r, NULL, "assess", req, "--json", NULL);
    write_tmp(e, "a1.json", r.out, strlen(r.out), a1);
    run_free(&r);
    nqba(e, &r, NULL, "assess", req2, "--json", NULL);
    write_tmp(e, "a2.json", r.out, strlen(r.out), a2);
    run_free(&r);
    nqba(e, &r, NULL, "assess", "diff", a1, a2, NULL);
    json_t *d = run_json(e, &r);
    const json_t *avg = json_object_get(json_object_get(json_object_get(d, "scores"), "overall"),
                                        "avg_score");
    assert_true(fabs(num(avg, "before") - 3.0) < 1e-9 && fabs(num(avg, "after") - 4.0) < 1e-9);
    json_decref(d);
    run_free(&r);
}

static void test_errors(void **state)
{
    env *e = *state;
    char req[PATH_MAX_LEN];
    write_tmp_str(e, "bad.json",
                  "{\"framework\": \"nist-csf-2.0\", \"as_of\": \"2025-06-30\", \"answers\": "
                  "[{\"control\": \"GV.OC-01\", \"status\": \"implemented\", \"maturity\": 9}]}",
                  req);
    run_out r;
    nqba(e, &r, NULL, "assess", req, NULL);
    assert_int_equal(r.status, 2);
    expect_contains(r.err, "bad.json: /answers/0/maturity");
    run_free(&r);
    nqba(e, &r, NULL, "assess", NULL);
    assert_int_equal(r.status, 2);
    run_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_assess), cmocka_unit_test(test_errors)};
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
