/* sigma_routes.c - Sigma Select on the server: stored lead-scoring models
 * (listed, read, found by name for a scoring request) and what a lead job
 * leaves in the store: a trained model as a new version in the models
 * table; scored leads with their personal fields sealed, while the
 * decision keeps the request with those fields blanked. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "nqba/buf.h"
#include "nqba/csv.h"
#include "nqba/json.h"
#include "nqba/sigma.h"
#include "srv.h"

#define LEAD_MODEL_KIND "lead-model"

/* ---- routes: the models -------------------------------------------------------------------- */

void srv_h_lead_models(srv_app *a, http_req *req, http_res *res, const char *id)
{
    (void)id;
    static const char *const known[] = {NULL};
    if (srv_args_known(req, res, known) || srv_no_store(a, req, res))
        return;
    json_t *list = NULL;
    nq_err err;
    nq_err_clear(&err);
    int rc = nq_store_list_models(a->store, LEAD_MODEL_KIND, &list, &err);
    srv_query_answer(req, res, rc, &err, rc ? NULL : json_pack("{s:o}", "models", list));
}

void srv_h_lead_model_get(srv_app *a, http_req *req, http_res *res, const char *id)
{
    static const char *const known[] = {"version", NULL};
    if (srv_args_known(req, res, known) || srv_no_store(a, req, res))
        return;
    const char *v = srv_arg(req, "version");
    int version = v ? atoi(v) : 0;
    if (v && version < 1) {
        srv_problem(res, req, 400, "bad-query", "version: a number from 1", "/version");
        return;
    }
    json_t *m = NULL;
    nq_err err;
    nq_err_clear(&err);
    int rc = nq_store_get_model(a->store, id, version, &m, &err);
    const char *kind = json_string_value(json_object_get(m, "kind"));
    if (!rc && (!kind || strcmp(kind, LEAD_MODEL_KIND) != 0)) {
        json_decref(m);
        m = NULL;
        rc = nq_err_set(&err, NQ_ENOTFOUND, "name", "no lead-scoring model named '%.64s'", id);
    }
    /* The trees can weigh megabytes: their summary is what a reader wants. */
    json_t *doc = m ? json_object_get(m, "document") : NULL;
    if (doc)
        json_object_del(doc, "gbt");
    srv_query_answer(req, res, rc, &err, m);
}

/* A scoring request naming a stored model gets its document. */
int srv_sigma_resolve(srv_app *a, json_t *doc, json_t **out, int *pinned, nq_err *err)
{
    *out = NULL;
    *pinned = 1;
    const json_t *ref = json_object_get(doc, "model");
    if (!json_is_string(ref))
        return nq_err_set(err, NQ_EINVAL, "/model", "the name of a stored model");
    if (json_object_get(doc, "model_document"))
        return nq_err_set(err, NQ_EINVAL, "/model_document", "is filled in by the server");
    int64_t version = 0;
    int rc = nq_json_get_int(doc, "", "model_version", 0, 1, 1000000000, &version, err);
    if (rc)
        return rc;
    if (!a->store)
        return nq_err_set(err, NQ_EUNAVAIL, "/model", "this server runs without a store");
    json_t *m = NULL;
    rc = nq_store_get_model(a->store, json_string_value(ref), (int)version, &m, err);
    const char *kind = json_string_value(json_object_get(m, "kind"));
    if (!rc && (!kind || strcmp(kind, LEAD_MODEL_KIND) != 0))
        rc = nq_err_set(err, NQ_ENOTFOUND, "/model", "no lead-scoring model named '%.64s'",
                        json_string_value(ref));
    if (rc == NQ_ENOTFOUND && strcmp(err->where, "/model") != 0) {
        char msg[NQ_ERR_MSG_MAX];
        snprintf(msg, sizeof msg, "%s", err->msg);
        rc = nq_err_set(err, NQ_ENOTFOUND, version ? "/model_version" : "/model", "%s", msg);
    }
    json_t *full = rc ? NULL : json_deep_copy(doc);
    if (!rc && (!full ||
                json_object_set(full, "model_document", json_object_get(m, "document")) ||
                json_object_set(full, "model_version", json_object_get(m, "version"))))
        rc = nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    *pinned = version > 0; /* "the latest" may be another model tomorrow */
    json_decref(m);
    if (rc) {
        json_decref(full);
        return rc;
    }
    *out = full;
    return NQ_OK;
}

/* ---- persistence ---------------------------------------------------------------------------- */

int srv_sigma_store_model(srv_app *a, const nq_job_record *rec, const char *actor, nq_err *err)
{
    json_t *res = json_loads(rec->result, 0, NULL);
    const char *name = json_string_value(json_object_get(res, "name"));
    char *text = name ? json_dumps(json_object_get(res, "model"), JSON_COMPACT) : NULL;
    int version = 0;
    int rc = text ? nq_store_put_model(a->store, name, LEAD_MODEL_KIND, text, actor, &version, err)
                  : nq_err_set(err, NQ_EINTERNAL, NULL, "a training result without its model");
    free(text);
    json_decref(res);
    return rc;
}

/* The personal cells of lead i as a JSON object; name and email taken
 * from personal columns called so (any case, or containing "email"). */
typedef struct personal_row {
    json_t *doc;
    const char *name, *email;
} personal_row;

static void personal_of(const nq_csv *t, int32_t row, const char *const *cols, int32_t n,
                        personal_row *out)
{
    out->doc = json_object();
    out->name = out->email = NULL;
    for (int32_t k = 0; k < n; k++) {
        int32_t c = nq_csv_col(t, cols[k]);
        if (c < 0)
            continue;
        const char *v = nq_csv_cell(t, row, c);
        json_object_set_new(out->doc, cols[k], json_string(v));
        if (!strcasecmp(cols[k], "name") || !strcasecmp(cols[k], "full_name"))
            out->name = v;
        else if (strcasestr(cols[k], "email"))
            out->email = v;
    }
}

/* Blank the personal columns of a parsed table, written back as CSV. */
static char *redacted_csv(const nq_csv *t, const char *const *cols, int32_t n, char sep)
{
    nq_buf b;
    nq_buf_init(&b, (size_t)NQ_SIGMA_CSV_MAX + 1024);
    int rc = 0;
    for (int32_t r = -1; !rc && r < t->rows; r++) {
        for (int32_t c = 0; !rc && c < t->cols; c++) {
            const char *v = r < 0 ? t->header[c] : nq_csv_cell(t, r, c);
            for (int32_t k = 0; r >= 0 && k < n; k++)
                if (!strcmp(t->header[c], cols[k]))
                    v = "";
            rc = (c && nq_buf_putc(&b, sep)) || nq_buf_putc(&b, '"');
            for (const char *s = v; !rc && *s; s++)
                rc = *s == '"' ? nq_buf_puts(&b, "\"\"") : nq_buf_putc(&b, *s);
            rc = rc ? rc : nq_buf_putc(&b, '"');
        }
        rc = rc ? rc : nq_buf_putc(&b, '\n');
    }
    char *out = rc ? NULL : strndup(b.data ? b.data : "", b.len);
    nq_buf_free(&b);
    return out;
}

/* The leads of a scoring request as a table (leads_csv, or leads[] as
 * objects written out the same way). */
static int request_table(const json_t *req, nq_csv *t, char *sep, nq_err *err)
{
    const char *s = json_string_value(json_object_get(req, "separator"));
    *sep = s && (s[0] == ';' || s[0] == '\t') ? s[0] : ',';
    nq_csv_limits lim;
    nq_csv_limits_default(&lim);
    lim.sep = *sep;
    const json_t *csv = json_object_get(req, "leads_csv");
    if (json_is_string(csv))
        return nq_csv_parse(json_string_value(csv), json_string_length(csv), "/leads_csv", &lim,
                            t, err);
    return nq_err_set(err, NQ_EINVAL, "/leads", "no CSV");
}

static void leads_array(json_t *req, const char *const *cols, int32_t n, nq_lead_score_rec *recs,
                        personal_row *rows, int32_t rows_n)
{
    json_t *arr = json_object_get(req, "leads");
    for (int32_t i = 0; i < rows_n; i++) {
        json_t *o = json_array_get(arr, (size_t)i);
        rows[i].doc = json_object();
        for (int32_t k = 0; k < n; k++) {
            const char *v = json_string_value(json_object_get(o, cols[k]));
            if (v) {
                json_object_set_new(rows[i].doc, cols[k], json_string(v));
                if (!strcasecmp(cols[k], "name") || !strcasecmp(cols[k], "full_name"))
                    recs[i].name = json_string_value(json_object_get(rows[i].doc, cols[k]));
                else if (strcasestr(cols[k], "email"))
                    recs[i].email = json_string_value(json_object_get(rows[i].doc, cols[k]));
            }
            json_object_del(o, cols[k]); /* the stored request keeps no personal value */
        }
    }
}

int srv_sigma_store_scores(srv_app *a, const nq_job_record *rec, const char *actor,
                           char **redacted, nq_err *err)
{
    *redacted = NULL;
    json_t *req = json_loads(rec->request, 0, NULL), *res = json_loads(rec->result, 0, NULL);
    json_t *scored = json_object_get(res, "leads");
    const char *cols[NQ_SIGMA_MAX_PERSONAL];
    int32_t n_cols = 0, n = (int32_t)json_array_size(scored);
    int rc = req && res ? nq_sigma_personal(req, cols, NQ_SIGMA_MAX_PERSONAL, &n_cols, err)
                        : nq_err_set(err, NQ_EINTERNAL, NULL, "unreadable scoring job");
    nq_lead_score_rec *recs = calloc((size_t)(n ? n : 1), sizeof *recs);
    personal_row *rows = calloc((size_t)(n ? n : 1), sizeof *rows);
    nq_csv t;
    memset(&t, 0, sizeof t);
    char sep = ',';
    if (!rc && (!recs || !rows))
        rc = nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    int from_csv = !rc && json_is_string(json_object_get(req, "leads_csv"));
    if (!rc && from_csv && !(rc = request_table(req, &t, &sep, err)))
        for (int32_t i = 0; i < n && i < t.rows; i++) {
            personal_of(&t, i, cols, n_cols, &rows[i]);
            recs[i].name = rows[i].name;
            recs[i].email = rows[i].email;
        }
    if (!rc && !from_csv)
        leads_array(req, cols, n_cols, recs, rows, n);
    char **docs = calloc((size_t)(n ? n : 1), sizeof *docs);
    for (int32_t i = 0; !rc && docs && i < n; i++) {
        const json_t *l = json_array_get(scored, (size_t)i);
        recs[i].score = (int)json_integer_value(json_object_get(l, "score"));
        recs[i].tier = json_string_value(json_object_get(l, "tier"));
        if (n_cols && json_object_size(rows[i].doc))
            recs[i].document = docs[i] = json_dumps(rows[i].doc, JSON_COMPACT);
    }
    if (!rc)
        rc = nq_store_put_lead_scores(a->store, a->fields, rec->id, recs, n, 0, actor, err);
    if (!rc && n_cols && from_csv) {
        char *csv = redacted_csv(&t, cols, n_cols, sep);
        json_object_set_new(req, "leads_csv", json_string(csv ? csv : ""));
        free(csv);
    }
    if (!rc && n_cols)
        *redacted = json_dumps(req, JSON_COMPACT);
    for (int32_t i = 0; i < n; i++) {
        json_decref(rows[i].doc);
        if (docs)
            free(docs[i]);
    }
    free(docs);
    free(rows);
    free(recs);
    nq_csv_free(&t);
    json_decref(req);
    json_decref(res);
    return rc;
}
