/* fuzz_flyfox.c - libFuzzer target for the FLYFOX AI requests.
 *
 * The input is a request document, tried as a site schedule and as a unit
 * commitment. One that parses is run when it is small (at most 48 steps
 * and 4 loads; at most 6 units and 24 hours, with a short search) so that
 * no input can ask for seconds of work. Refusals must be located by a JSON
 * pointer; answers must be objects whose reals are all finite. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "fuzz_answers.h"
#include "nqba/flyfox.h"
#include "nqba/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void site(const json_t *doc)
{
    nq_flyfox_site_req r;
    nq_err err;
    if (nq_flyfox_site_parse(doc, &r, &err)) {
        fuzz_check_err(&err);
        return;
    }
    json_t *ans = NULL;
    if (r.site.steps <= 48 && r.site.n_loads <= 4) {
        r.site.time_limit = 0.05;
        if (nq_flyfox_site_run(&r, NULL, &ans, &err))
            fuzz_check_err(&err);
        fuzz_check_finite(ans);
    }
    json_decref(ans);
    nq_flyfox_site_req_free(&r);
}

static void uc(const json_t *doc)
{
    nq_flyfox_uc_req r;
    nq_err err;
    if (nq_flyfox_uc_parse(doc, &r, &err)) {
        fuzz_check_err(&err);
        return;
    }
    json_t *ans = NULL;
    if (r.p.n_units <= 6 && r.p.hours <= 24) {
        r.p.time_limit = 0.02;
        r.milp = 0;
        if (nq_flyfox_uc_run(&r, NULL, &ans, &err))
            fuzz_check_err(&err);
        fuzz_check_finite(ans);
    }
    json_decref(ans);
    nq_flyfox_uc_req_free(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *doc = fuzz_json(data, size, NULL);
    if (!doc)
        return 0;
    site(doc);
    uc(doc);
    json_decref(doc);
    return 0;
}
