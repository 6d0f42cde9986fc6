/* model_routes.c - saved decision models: POST /api/v1/nqba/models stores
 * a decision model (or a decision table set) under a name as a new
 * immutable version; GET /api/v1/nqba/models/{name} reads one back; and a
 * decision request {"model": name, "version": n, "inputs": {...}} runs a
 * saved version with its inputs as the tables' facts.
 *
 * A model's parameters are the inputs its decision tables declare: the
 * inputs a request gives must be among them, so a typo is a 422 at
 * /inputs/<name> instead of a silently ignored fact. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nqba/decision.h"
#include "srv.h"

#define KIND_DECISION "decision"

/* The input names of every table in doc's "rules" (one table or an
 * array), as a JSON array of strings without repeats. */
static json_t *parameters_of(const json_t *doc)
{
    json_t *names = json_array(), *rules = json_object_get(doc, "rules");
    size_t n = json_is_array(rules) ? json_array_size(rules) : rules ? 1 : 0;
    for (size_t t = 0; names && t < n; t++) {
        const json_t *table = json_is_array(rules) ? json_array_get(rules, t) : rules;
        json_t *in, *inputs = json_object_get(table, "inputs");
        size_t i;
        json_array_foreach(inputs, i, in)
        {
            const char *name = json_string_value(json_object_get(in, "name"));
            int seen = !name;
            json_t *have;
            size_t k;
            json_array_foreach(names, k, have) seen |= name && !strcmp(json_string_value(have), name);
            if (!seen)
                json_array_append_new(names, json_string(name));
        }
    }
    return names;
}

/* Errors inside the model document point under /model. */
static void model_problem(http_res *res, const http_req *req, const nq_err *err)
{
    nq_err e;
    char where[NQ_ERR_WHERE_MAX + 8]; /* nq_err_set truncates */
    snprintf(where, sizeof where, "/model%s", err->where[0] == '/' ? err->where : "");
    nq_err_set(&e, err->code, where, "%s", err->msg);
    srv_problem_err(res, req, &e, 0);
}

void srv_h_models_post(srv_app *a, http_req *req, http_res *res, const char *id)
{
    (void)id;
    static const char *const keys[] = {"name", "model", NULL};
    json_t *doc = NULL, *model = NULL;
    const char *name = NULL;
    nq_err err;
    nq_err_clear(&err);
    int rc = nq_json_parse(req->body, req->body_len, "request body", &a->json, &doc, &err);
    if (rc) {
        srv_problem_err(res, req, &err, 1);
        return;
    }
    if (!json_is_object(doc))
        rc = nq_err_set(&err, NQ_EINVAL, "", "expected an object");
    if (!rc)
        rc = nq_json_check_keys(doc, "", keys, &err);
    if (!rc)
        rc = nq_json_get_string(doc, "", "name", 1, NQ_STORE_MODEL_NAME_MAX, &name, &err);
    if (!rc)
        rc = nq_json_get_typed(doc, "", "model", 1, JSON_OBJECT, &model, &err);
    if (rc) {
        srv_problem_err(res, req, &err, 0);
        json_decref(doc);
        return;
    }
    nq_decision_req check;
    rc = nq_decision_parse(model, &check, &err);
    nq_decision_req_free(&check);
    if (rc) {
        model_problem(res, req, &err);
        json_decref(doc);
        return;
    }
    /* Validated first, also without a store (the fuzzer's mode). */
    if (srv_no_store(a, req, res)) {
        json_decref(doc);
        return;
    }
    char *text = json_dumps(model, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(17));
    int version = 0;
    rc = text ? nq_store_put_model(a->store, name, KIND_DECISION, text, NULL, &version, &err)
              : nq_err_set(&err, NQ_ENOMEM, NULL, "out of memory");
    free(text);
    if (rc == NQ_EINVAL && !strcmp(err.where, "name")) {
        nq_err_set(&err, NQ_EINVAL, "/name", "1..%d letters, digits, '_', '.' or '-'",
                   NQ_STORE_MODEL_NAME_MAX);
        srv_problem_err(res, req, &err, 0);
    } else if (rc) {
        srv_store_problem(res, req, &err);
    } else {
        char loc[NQ_STORE_MODEL_NAME_MAX + 40];
        snprintf(loc, sizeof loc, "/api/v1/nqba/models/%s?version=%d", name, version);
        json_t *out = json_pack("{s:s, s:i, s:s, s:o}", "name", name, "version", version, "kind",
                                KIND_DECISION, "parameters", parameters_of(model));
        http_res_json(res, 201, out);
        http_res_header(res, "Location", nq_arena_strdup(req->arena, loc));
        json_decref(out);
    }
    json_decref(doc);
}

void srv_h_model_get(srv_app *a, http_req *req, http_res *res, const char *id)
{
    int version = 0;
    for (size_t i = 0; i < req->n_args; i++) {
        char *end;
        long v = strtol(req->args[i].value, &end, 10);
        if (strcmp(req->args[i].name, "version") != 0 || !req->args[i].value[0] || *end ||
            v < 1 || v > 1000000000) {
            srv_problem(res, req, 400, "bad-query",
                        "the only query parameter is version, a positive integer", NULL);
            return;
        }
        version = (int)v;
    }
    if (srv_no_store(a, req, res))
        return;
    json_t *m = NULL;
    nq_err err;
    nq_err_clear(&err);
    if (nq_store_get_model(a->store, id, version, &m, &err)) {
        srv_store_problem(res, req, &err);
        return;
    }
    json_object_set_new(m, "parameters", parameters_of(json_object_get(m, "document")));
    http_res_json(res, 200, m);
    json_decref(m);
}

/* ---- running a saved model ---- */

static int check_inputs(const json_t *inputs, const json_t *params, nq_err *err)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)inputs, key, v)
    {
        int declared = 0;
        size_t i;
        json_t *p;
        json_array_foreach(params, i, p) declared |= !strcmp(json_string_value(p), key);
        if (!declared) {
            char ptr[NQ_JSON_PTR_MAX];
            nq_json_ptr_key(ptr, "/inputs", key);
            return nq_err_set(err, NQ_EINVAL, ptr,
                              "not a parameter of this model (its tables' inputs)");
        }
    }
    return NQ_OK;
}

int srv_decision_resolve(srv_app *a, json_t *doc, json_t **out, int *pinned, nq_err *err)
{
    *out = NULL;
    *pinned = 1;
    const json_t *ref = json_object_get(doc, "model");
    if (!json_is_string(ref))
        return NQ_OK; /* a model given in full */
    static const char *const keys[] = {"model", "version", "inputs", "options", NULL};
    int rc = nq_json_check_keys(doc, "", keys, err);
    int64_t version = 0;
    json_t *inputs = NULL, *opts = NULL;
    if (!rc)
        rc = nq_json_get_int(doc, "", "version", 0, 1, 1000000000, &version, err);
    if (!rc)
        rc = nq_json_get_typed(doc, "", "inputs", 0, JSON_OBJECT, &inputs, err);
    if (!rc)
        rc = nq_json_get_typed(doc, "", "options", 0, JSON_OBJECT, &opts, err);
    if (rc)
        return rc;
    if (!a->store)
        return nq_err_set(err, NQ_EUNAVAIL, "/model", "this server runs without a store");
    json_t *m = NULL;
    rc = nq_store_get_model(a->store, json_string_value(ref), (int)version, &m, err);
    if (rc == NQ_ENOTFOUND)
        return nq_err_set(err, NQ_ENOTFOUND, version ? "/version" : "/model", "%s", err->msg);
    if (rc)
        return rc;
    json_t *model = json_deep_copy(json_object_get(m, "document"));
    json_t *params = parameters_of(model);
    rc = model && params ? check_inputs(inputs, params, err)
                         : nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    /* The inputs are the facts; the request's options replace the saved
     * ones (a caller may want another seed or time limit). */
    if (!rc && ((inputs && json_object_set(model, "facts", inputs)) ||
                (opts && json_object_set(model, "options", opts))))
        rc = nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    /* Without a version the latest answers, so the same bytes may mean
     * another model tomorrow: such requests skip the byte-identical cache. */
    *pinned = version > 0;
    if (!rc && !version)
        json_object_set_new(doc, "version", json_copy(json_object_get(m, "version")));
    json_decref(params);
    json_decref(m);
    if (rc) {
        json_decref(model);
        return rc;
    }
    *out = model;
    return NQ_OK;
}
