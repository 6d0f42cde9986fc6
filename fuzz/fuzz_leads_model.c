/* fuzz_leads_model.c - libFuzzer target for nq_leads_model_from_json.
 *
 * Any bytes either fail to parse as JSON, fail to load as a model with a
 * located message, or load into a model that writes back to JSON and
 * scores a lead of empty cells to finite numbers. Seeds: small logistic
 * and tree models in fuzz/corpus/leads_model/. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nqba/json.h"
#include "nqba/leads.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_scores(const nq_leads_model *m)
{
    int32_t n = m->schema.n_cols;
    const char **header = calloc((size_t)n, sizeof *header), **cells = calloc((size_t)n, sizeof *cells);
    if (!header || !cells)
        abort();
    for (int32_t c = 0; c < n; c++) {
        header[c] = m->schema.cols[c].name;
        cells[c] = "";
    }
    nq_leads_batch b = {.n_cols = n, .rows = 1, .header = header, .cells = cells};
    nq_leads_scores s;
    nq_err err = {0};
    int rc = nq_leads_score(m, &b, NULL, &s, &err);
    if (rc == NQ_OK) {
        if (!isfinite(s.leads[0].p) || !isfinite(s.leads[0].logit) || s.leads[0].score < 0 ||
            s.leads[0].score > 100)
            abort();
        nq_leads_scores_free(&s);
    } else if (!err.msg[0])
        abort();
    free(header);
    free(cells);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    nq_json_limits lim = {.max_bytes = 1 << 20, .max_depth = 32};
    json_t *doc = NULL;
    nq_err err = {0};
    if (nq_json_parse((const char *)data, size, "fuzz", &lim, &doc, &err))
        return 0;
    nq_leads_model m;
    if (nq_leads_model_from_json(doc, &m, &err)) {
        if (!err.msg[0])
            abort();
        json_decref(doc);
        return 0;
    }
    json_decref(doc);
    json_t *back = NULL;
    if (nq_leads_model_to_json(&m, &back, &err))
        abort();
    json_decref(back);
    check_scores(&m);
    nq_leads_model_free(&m);
    return 0;
}
