/* query.c - what the read routes share: query arguments (lookup, the known
 * set, time bounds) and the answers for store trouble. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nqba/clock.h"
#include "srv.h"

const char *srv_arg(const http_req *req, const char *name)
{
    for (size_t i = 0; i < req->n_args; i++)
        if (strcmp(req->args[i].name, name) == 0)
            return req->args[i].value;
    return NULL;
}

int srv_args_known(const http_req *req, http_res *res, const char *const *known)
{
    for (size_t i = 0; i < req->n_args; i++) {
        int ok = 0;
        for (int k = 0; known[k] && !ok; k++)
            ok = strcmp(req->args[i].name, known[k]) == 0;
        if (!ok) {
            char detail[160];
            snprintf(detail, sizeof detail, "unknown query parameter %.64s", req->args[i].name);
            srv_problem(res, req, 400, "bad-query", detail, NULL);
            return -1;
        }
    }
    return 0;
}

int srv_arg_time(const http_req *req, http_res *res, const char *name, double *out)
{
    const char *v = srv_arg(req, name);
    *out = 0;
    if (!v)
        return 0;
    char *end;
    errno = 0;
    double t = strtod(v, &end);
    if (v[0] && !*end && !errno && t > 0) {
        *out = t;
        return 0;
    }
    if (nq_clock_parse_rfc3339(v, out) == 0 && *out > 0)
        return 0;
    char detail[128];
    snprintf(detail, sizeof detail, "query parameter %s: expected an RFC 3339 time or Unix seconds",
             name);
    srv_problem(res, req, 400, "bad-query", detail, NULL);
    return -1;
}

void srv_store_problem(http_res *res, const http_req *req, const nq_err *err)
{
    if (err->code == NQ_ENOTFOUND) {
        srv_problem(res, req, 404, "not-found", err->msg, NULL);
        return;
    }
    int status = srv_status_for_code(err->code);
    if (err->code == NQ_EIO)
        status = 503; /* the database, not the request, is at fault */
    srv_problem(res, req, status, srv_slug_for_status(status),
                status == 503 ? "the store is unavailable" : err->msg, NULL);
}

int srv_no_store(srv_app *a, const http_req *req, http_res *res)
{
    if (a->store)
        return 0;
    srv_problem(res, req, 503, "unavailable", "this server runs without a store", NULL);
    return 1;
}

void srv_query_answer(const http_req *req, http_res *res, int rc, const nq_err *err, json_t *doc)
{
    if (rc == NQ_EINVAL || rc == NQ_ERANGE) {
        char detail[NQ_ERR_WHERE_MAX + NQ_ERR_MSG_MAX + 32];
        snprintf(detail, sizeof detail, "query parameter %s: %s", err->where, err->msg);
        srv_problem(res, req, 400, "bad-query", detail, NULL);
    } else if (rc) {
        srv_store_problem(res, req, err);
    } else {
        http_res_json(res, 200, doc);
        http_res_header(res, "Cache-Control", "no-store");
    }
    json_decref(doc);
}
