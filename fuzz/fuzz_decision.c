/* fuzz_decision.c - libFuzzer target for decision requests.
 *
 * The input is a request document. One that parses is run with a short
 * solve (the options are capped so that an input cannot ask for seconds of
 * work) and its answer turned into JSON. Any step may refuse its input, but
 * only with a located message; an answer called feasible must evaluate as
 * feasible on the model that was solved. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nqba/decision.h"
#include "fuzz_answers.h"
#include "nqba/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void cap_options(nq_decision_opts *o)
{
    o->time_limit = 0.01;
    if (o->alternatives > 3)
        o->alternatives = 3;
    o->max_iterations = 2000;
    if (strcmp(o->solver, "exact") == 0) /* may enumerate 2^24 assignments */
        snprintf(o->solver, sizeof o->solver, "auto");
}

static void check_answer(const nq_decision_res *res)
{
    if (res->status != NQ_DECISION_OPTIMAL && res->status != NQ_DECISION_FEASIBLE)
        return;
    nq_cqm_eval ev;
    if (nq_cqm_evaluate(&res->model, res->solve.best.values, &ev, NULL))
        fuzz_die("answer does not evaluate", NULL);
    if (!ev.feasible)
        fuzz_die("infeasible answer called feasible", NULL);
    nq_cqm_eval_free(&ev);
}

static void run(const json_t *doc)
{
    nq_decision_req req;
    nq_decision_res res;
    nq_err err;
    if (nq_decision_parse(doc, &req, &err)) {
        fuzz_check_err(&err);
        return;
    }
    cap_options(&req.opts);
    if (nq_decision_run(&req, NULL, NULL, &res, &err)) {
        fuzz_check_err(&err);
        nq_decision_req_free(&req);
        return;
    }
    check_answer(&res);
    json_t *j = nq_decision_to_json(&res);
    if (!j)
        fuzz_die("answer has no JSON form", NULL);
    char *s = json_dumps(j, JSON_COMPACT);
    if (!s)
        fuzz_die("answer does not serialize", NULL);
    free(s);
    json_decref(j);
    nq_decision_res_free(&res);
    nq_decision_req_free(&req);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    nq_json_limits lim = {.max_bytes = 1 << 16, .max_depth = 16};
    json_t *doc = fuzz_json(data, size, &lim);
    if (!doc)
        return 0;
    run(doc);
    json_decref(doc);
    return 0;
}
