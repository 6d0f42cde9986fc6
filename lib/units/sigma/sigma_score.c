/* sigma_score.c - a scoring request (leads as CSV or JSON objects, the
 * model's document, tiers and explanations) and its answer: probability,
 * score, tier and top factors per lead, optionally the table back as CSV
 * with those columns added (docs/api/leads.md). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nqba/buf.h"
#include "nqba/json.h"
#include "nqba/sigma.h"

void nq_sigma_score_req_free(nq_sigma_score_req *r)
{
    if (!r)
        return;
    nq_leads_model_free(&r->model);
    nq_csv_free(&r->table);
    memset(r, 0, sizeof *r);
}

/* ---- leads as JSON objects: written as CSV, then read like any table -------------------- */

static int put_cell(nq_buf *b, const char *s)
{
    int rc = nq_buf_putc(b, '"');
    for (; !rc && *s; s++)
        rc = *s == '"' ? nq_buf_puts(b, "\"\"") : nq_buf_putc(b, *s);
    return rc ? rc : nq_buf_putc(b, '"');
}

static int cell_text(const json_t *v, const char *at, char *tmp, size_t cap, const char **out,
                     nq_err *err)
{
    if (!v || json_is_null(v))
        *out = "";
    else if (json_is_string(v))
        *out = json_string_value(v);
    else if (json_is_integer(v) || json_is_real(v))
        snprintf(tmp, cap, "%.17g", json_number_value(v)), *out = tmp;
    else if (json_is_boolean(v))
        *out = json_is_true(v) ? "true" : "false";
    else
        return nq_err_set(err, NQ_EINVAL, at, "a lead's values are strings, numbers or null");
    return NQ_OK;
}

static int leads_to_csv(const json_t *leads, nq_buf *b, nq_err *err)
{
    json_t *cols = json_array(); /* the header: keys in order of first appearance */
    size_t i, n = json_array_size(leads);
    const char *key;
    json_t *v;
    int rc = cols ? NQ_OK : NQ_ENOMEM;
    char at[NQ_JSON_PTR_MAX], tmp[40];
    for (i = 0; !rc && i < n; i++) {
        nq_json_ptr_index(at, "/leads", i);
        if (!json_is_object(json_array_get(leads, i))) {
            rc = nq_err_set(err, NQ_EINVAL, at, "a lead is an object {column: value}");
            break;
        }
        json_object_foreach(json_array_get(leads, i), key, v) {
            size_t k, seen = 0;
            json_t *c;
            json_array_foreach(cols, k, c) seen |= !strcmp(json_string_value(c), key);
            if (!seen)
                json_array_append_new(cols, json_string(key));
        }
    }
    for (i = 0; !rc && i < json_array_size(cols); i++)
        rc = (i && nq_buf_putc(b, ',')) || put_cell(b, json_string_value(json_array_get(cols, i)));
    for (size_t r = 0; !rc && r < n; r++) {
        rc = nq_buf_putc(b, '\n');
        for (i = 0; !rc && i < json_array_size(cols); i++) {
            const char *text = "";
            nq_json_ptr_index(at, "/leads", r);
            rc = cell_text(json_object_get(json_array_get(leads, r),
                                           json_string_value(json_array_get(cols, i))),
                           at, tmp, sizeof tmp, &text, err);
            if (!rc)
                rc = (i && nq_buf_putc(b, ',')) || put_cell(b, text);
        }
    }
    json_decref(cols);
    return rc > 0 ? nq_err_set(err, NQ_ELIMIT, "/leads", "too large") : rc;
}

static int read_leads(const json_t *doc, nq_sigma_score_req *r, nq_err *err)
{
    const json_t *csv = json_object_get(doc, "leads_csv"), *arr = json_object_get(doc, "leads");
    const char *sep_s = NULL;
    nq_csv_limits lim;
    nq_csv_limits_default(&lim);
    lim.max_rows = r->opts.max_rows;
    int rc = nq_json_get_string(doc, "", "separator", 0, 2, &sep_s, err);
    if (rc)
        return rc;
    lim.sep = sep_s && (sep_s[0] == ';' || sep_s[0] == '\t') ? sep_s[0] : ',';
    if ((csv != NULL) == (arr != NULL))
        return nq_err_set(err, NQ_EINVAL, "/leads_csv", "give leads_csv or leads (an array)");
    if (csv) {
        if (!json_is_string(csv) || json_string_length(csv) > NQ_SIGMA_CSV_MAX)
            return nq_err_set(err, NQ_EINVAL, "/leads_csv", "CSV text of at most %u bytes",
                              NQ_SIGMA_CSV_MAX);
        return nq_csv_parse(json_string_value(csv), json_string_length(csv), "/leads_csv", &lim,
                            &r->table, err);
    }
    if (!json_is_array(arr) || json_array_size(arr) < 1)
        return nq_err_set(err, NQ_EINVAL, "/leads", "an array of at least one lead");
    nq_buf b;
    nq_buf_init(&b, NQ_SIGMA_CSV_MAX);
    rc = leads_to_csv(arr, &b, err);
    lim.sep = ',';
    if (!rc)
        rc = nq_csv_parse(b.data, b.len, "/leads", &lim, &r->table, err);
    nq_buf_free(&b);
    return rc;
}

/* ---- options ---------------------------------------------------------------------------------- */

static int tiers(const json_t *doc, nq_leads_score_opts *o, nq_err *err)
{
    static const char *const keys[] = {"mode", "hot", "warm", "lukewarm", "q_hot", "q_warm",
                                       "q_lukewarm", NULL};
    json_t *t = NULL;
    const char *mode = NULL;
    int rc = nq_json_get_typed(doc, "", "tiers", 0, JSON_OBJECT, &t, err);
    if (rc || !t)
        return rc;
    if ((rc = nq_json_check_keys(t, "/tiers", keys, err)) ||
        (rc = nq_json_get_string(t, "/tiers", "mode", 0, 16, &mode, err)) ||
        (rc = nq_json_get_number(t, "/tiers", "hot", 0, &o->hot, err)) ||
        (rc = nq_json_get_number(t, "/tiers", "warm", 0, &o->warm, err)) ||
        (rc = nq_json_get_number(t, "/tiers", "lukewarm", 0, &o->lukewarm, err)) ||
        (rc = nq_json_get_number(t, "/tiers", "q_hot", 0, &o->q_hot, err)) ||
        (rc = nq_json_get_number(t, "/tiers", "q_warm", 0, &o->q_warm, err)) ||
        (rc = nq_json_get_number(t, "/tiers", "q_lukewarm", 0, &o->q_lukewarm, err)))
        return rc;
    if (mode && strcmp(mode, "thresholds") && strcmp(mode, "quantiles"))
        return nq_err_set(err, NQ_EINVAL, "/tiers/mode", "thresholds or quantiles");
    o->tier_mode = mode && !strcmp(mode, "quantiles") ? NQ_LEADS_TIER_QUANTILES
                                                      : NQ_LEADS_TIER_THRESHOLDS;
    return NQ_OK;
}

static int model(const json_t *doc, nq_sigma_score_req *r, nq_err *err)
{
    const json_t *m = json_object_get(doc, "model"), *d = json_object_get(doc, "model_document");
    if (json_is_string(m))
        snprintf(r->model_name, sizeof r->model_name, "%.64s", json_string_value(m));
    const json_t *ver = json_object_get(doc, "model_version");
    r->model_version = json_is_integer(ver) ? (int)json_integer_value(ver) : 0;
    if (!json_is_object(d))
        return nq_err_set(err, NQ_EINVAL, "/model", "a stored model's name is required");
    int rc = nq_leads_model_from_json(d, &r->model, err);
    if (rc) { /* the document's own pointer, under the member it came in */
        char inner[NQ_ERR_WHERE_MAX];
        snprintf(inner, sizeof inner, "%s", err->where);
        snprintf(err->where, sizeof err->where, "/model_document%.200s", inner);
    }
    return rc;
}

int nq_sigma_score_parse(const json_t *doc, nq_sigma_score_req *r, nq_err *err)
{
    static const char *const keys[] = {"model",     "model_version", "model_document", "leads_csv",
                                       "leads",     "separator",     "id_column",      "personal",
                                       "top_k",     "explain",       "tiers",          "output",
                                       NULL};
    memset(r, 0, sizeof *r);
    r->id_col = -1;
    nq_leads_score_opts_default(&r->opts);
    if (!json_is_object(doc))
        return nq_err_set(err, NQ_EINVAL, "", "expected an object, got %s",
                          nq_json_type_name(doc));
    const char *explain = NULL, *id = NULL, *output = NULL;
    int64_t top_k = r->opts.top_k;
    int rc = nq_json_check_keys(doc, "", keys, err);
    if (!rc)
        rc = nq_json_get_string(doc, "", "explain", 0, 8, &explain, err);
    if (!rc)
        rc = nq_json_get_string(doc, "", "id_column", 0, NQ_LEADS_NAME_MAX, &id, err);
    if (!rc)
        rc = nq_json_get_string(doc, "", "output", 0, 8, &output, err);
    if (!rc)
        rc = nq_json_get_int(doc, "", "top_k", 0, 0, 100, &top_k, err);
    if (!rc && explain && strcmp(explain, "exact") && strcmp(explain, "fast"))
        rc = nq_err_set(err, NQ_EINVAL, "/explain", "exact or fast");
    if (!rc && output && strcmp(output, "json") && strcmp(output, "csv"))
        rc = nq_err_set(err, NQ_EINVAL, "/output", "json or csv");
    r->opts.top_k = (int32_t)top_k;
    r->opts.explain = explain && !strcmp(explain, "fast") ? NQ_LEADS_EXPLAIN_FAST
                                                          : NQ_LEADS_EXPLAIN_EXACT;
    if (!rc)
        rc = tiers(doc, &r->opts, err);
    if (!rc)
        rc = model(doc, r, err);
    if (!rc)
        rc = read_leads(doc, r, err);
    if (!rc && id && (r->id_col = nq_csv_col(&r->table, id)) < 0)
        rc = nq_err_set(err, NQ_EINVAL, "/id_column", "no column '%.64s' among the leads", id);
    if (rc)
        nq_sigma_score_req_free(r);
    return rc;
}
