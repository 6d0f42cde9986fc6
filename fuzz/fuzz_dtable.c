/* fuzz_dtable.c - libFuzzer target for decision tables.
 *
 * The input is a JSON document {"table": {...}, "facts": {...}}. A table
 * that parses is evaluated on the facts and its result turned into JSON.
 * Any step may refuse its input, but only with a located message; a result
 * must be consistent with the hit policy. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nqba/dtable.h"
#include "fuzz_answers.h"
#include "nqba/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An error must say what is wrong, and where under the part it came from. */
static void check_err(const nq_err *err, const char *prefix)
{
    if (!err->msg[0] || strncmp(err->where, prefix, strlen(prefix)) != 0)
        fuzz_die("unlocated error", err);
}

static void check_result(const nq_dtable *t, const nq_dtable_result *r)
{
    nq_dtable_policy p = nq_dtable_hit_policy(t);
    for (int32_t k = 0; k < r->n_matched; k++)
        if (r->matched[k] < 0 || r->matched[k] >= nq_dtable_n_rules(t) ||
            (k && r->matched[k] <= r->matched[k - 1]))
            fuzz_die("matched rules out of order", NULL);
    if (p == NQ_DTABLE_COLLECT ? r->n_hits != r->n_matched
                               : r->n_hits != (r->n_matched > 0))
        fuzz_die("hit count does not fit the policy", NULL);
    if (p == NQ_DTABLE_UNIQUE && r->n_matched > 1)
        fuzz_die("unique table with several matches", NULL);
    for (int32_t k = 0; k < r->n_hits; k++)
        if ((int32_t)json_object_size(r->hits[k].outputs) != nq_dtable_n_outputs(t))
            fuzz_die("hit without every output", NULL);
    if (nq_dtable_aggregation(t) == NQ_DTABLE_AGG_COUNT && r->aggregate != r->n_matched)
        fuzz_die("count differs from the matches", NULL);
}

static void run(const json_t *doc)
{
    nq_dtable *t = NULL;
    nq_err err;
    if (nq_dtable_parse(json_object_get(doc, "table"), "/table", &t, &err)) {
        check_err(&err, "/table");
        return;
    }
    nq_dtable_result r;
    if (nq_dtable_eval(t, json_object_get(doc, "facts"), "/facts", &r, &err)) {
        /* A unique/any conflict names a rule of the table. */
        if (strncmp(err.where, "/table", 6) != 0)
            check_err(&err, "/facts");
        nq_dtable_free(t);
        return;
    }
    check_result(t, &r);
    json_t *j = nq_dtable_result_to_json(t, &r);
    if (!j)
        fuzz_die("result has no JSON form", NULL);
    char *s = json_dumps(j, JSON_COMPACT);
    if (!s)
        fuzz_die("result does not serialize", NULL);
    free(s);
    json_decref(j);
    nq_dtable_result_free(&r);
    nq_dtable_free(t);
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
