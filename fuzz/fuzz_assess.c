/* fuzz_assess.c - libFuzzer target for the business-assessment requests.
 *
 * The input is a request document. One that parses is run when it is small
 * (a catalog of at most 300 controls, solver time limits capped) so that no
 * input can ask for seconds of work; its answer is then diffed against
 * itself and rendered as HTML. Any step may refuse its input, but only with
 * a message located by a JSON pointer; an answer must be an object whose
 * reals are all finite, and a report must hold no "<script". */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_answers.h"
#include "nqba/assess.h"
#include "nqba/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void after_run(const json_t *ans)
{
    nq_err err;
    json_t *d = NULL;
    if (nq_assess_diff(ans, ans, &d, &err))
        fuzz_die("an answer that cannot be diffed with itself", &err);
    if (json_array_size(json_object_get(d, "controls")))
        fuzz_die("an answer differs from itself", NULL);
    json_decref(d);
    char *html = NULL;
    size_t len = 0;
    if (nq_assess_report_html(ans, &html, &len, &err))
        fuzz_check_err(&err);
    else if (strstr(html, "<script") || strlen(html) != len)
        fuzz_die("a report with a script or a bad length", NULL);
    free(html);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *doc = fuzz_json(data, size, NULL);
    if (!doc)
        return 0;
    nq_err err;
    nq_assess_req r;
    if (nq_assess_parse(doc, &r, &err)) {
        fuzz_check_err(&err);
        json_decref(doc);
        return 0;
    }
    /* Runs stay in the milliseconds: the CI does 20,000 of them. */
    if (r.a.cat->n_controls <= 120) {
        r.plan.time_limit = 0;
        r.plan.engine_moves = 200;
        r.plan.milp_time_limit = 0.5;
        json_t *ans = NULL;
        if (nq_assess_run(&r, NULL, &ans, &err))
            fuzz_check_err(&err);
        else if (!json_is_object(ans))
            fuzz_die("an answer that is not an object", NULL);
        else {
            fuzz_check_finite(ans);
            after_run(ans);
        }
        json_decref(ans);
    }
    nq_assess_req_free(&r);
    json_decref(doc);
    return 0;
}
