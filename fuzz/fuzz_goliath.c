/* fuzz_goliath.c - libFuzzer target for the Goliath Trade requests.
 *
 * The input is a request document, tried as a portfolio request and as a
 * risk assessment. One that parses is run when it is small (at most 12
 * assets, no cardinality search, a frontier of at most 5 points) so that no
 * input can ask for seconds of work. Any step may refuse its input, but
 * only with a message located by a JSON pointer; an answer must be an
 * object whose reals are all finite. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "fuzz_answers.h"
#include "nqba/goliath.h"
#include "nqba/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void portfolio(const json_t *doc)
{
    nq_goliath_req r;
    nq_err err;
    if (nq_goliath_parse(doc, &r, &err)) {
        fuzz_check_err(&err);
        return;
    }
    json_t *ans = NULL;
    if (r.u.n <= 12 && r.u.prices.t <= 400 && r.spec.max_assets == 0 && r.spec.min_weight == 0) {
        if (r.frontier_points > 5)
            r.frontier_points = 5;
        r.budget = 0; /* the MILP may take its whole time limit */
        if (nq_goliath_run(&r, NULL, &ans, &err))
            fuzz_check_err(&err);
        else if (!json_is_object(ans))
            fuzz_die("an answer that is not an object", NULL);
        fuzz_check_finite(ans);
    }
    json_decref(ans);
    nq_goliath_req_free(&r);
}

static void risk(const json_t *doc)
{
    nq_goliath_risk_req r;
    nq_err err;
    if (nq_goliath_risk_parse(doc, &r, &err)) {
        fuzz_check_err(&err);
        return;
    }
    json_t *ans = NULL;
    if (nq_goliath_risk_run(&r, &ans, &err))
        fuzz_check_err(&err);
    fuzz_check_finite(ans);
    json_decref(ans);
    nq_goliath_risk_req_free(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *doc = fuzz_json(data, size, NULL);
    if (!doc)
        return 0;
    portfolio(doc);
    risk(doc);
    json_decref(doc);
    return 0;
}
