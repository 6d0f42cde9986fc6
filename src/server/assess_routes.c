/* assess_routes.c - stored business assessments read back: the printable
 * HTML report of one (GET .../{id}/report) and what changed since another
 * (GET .../{id}/diff?against=ID). An assessment is stored as a decision
 * (its id is the job's), so both read the decisions table. */
#include <string.h>

#include "nqba/assess.h"
#include "srv.h"

/* The stored answer of assessment id, or NULL after answering. */
static json_t *stored_answer(srv_app *a, http_req *req, http_res *res, const char *id)
{
    if (srv_no_store(a, req, res))
        return NULL;
    json_t *d = NULL;
    nq_err err;
    nq_err_clear(&err);
    int rc = nq_store_get_decision(a->store, id, &d, &err);
    if (rc) {
        if (rc == NQ_ENOTFOUND)
            srv_problem(res, req, 404, "not-found", "no such assessment", NULL);
        else
            srv_store_problem(res, req, &err);
        return NULL;
    }
    const char *kind = json_string_value(json_object_get(d, "kind"));
    json_t *result = json_object_get(d, "result");
    if (!kind || strcmp(kind, "business-assessment") != 0 || !json_is_object(result)) {
        srv_problem(res, req, 404, "not-found",
                    "no successful business assessment has that id", NULL);
        json_decref(d);
        return NULL;
    }
    json_incref(result);
    json_decref(d);
    return result;
}

void srv_h_assess_report(srv_app *a, http_req *req, http_res *res, const char *id)
{
    static const char *const known[] = {NULL};
    if (srv_args_known(req, res, known))
        return;
    json_t *ans = stored_answer(a, req, res, id);
    if (!ans)
        return;
    char *html = NULL;
    size_t len = 0;
    nq_err err;
    nq_err_clear(&err);
    if (nq_assess_report_html(ans, &html, &len, &err)) {
        srv_problem(res, req, 500, "internal", err.msg, NULL);
    } else {
        http_res_take(res, 200, "text/html; charset=utf-8", html, len);
        /* The report's only active content is its own inline style. */
        http_res_header(res, "Content-Security-Policy",
                        "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'");
        http_res_header(res, "Cache-Control", "no-store");
    }
    json_decref(ans);
}

void srv_h_assess_diff(srv_app *a, http_req *req, http_res *res, const char *id)
{
    static const char *const known[] = {"against", NULL};
    if (srv_args_known(req, res, known))
        return;
    const char *other = srv_arg(req, "against");
    if (!other || !other[0]) {
        srv_problem(res, req, 400, "bad-query", "against: the id of the earlier assessment",
                    NULL);
        return;
    }
    json_t *before = stored_answer(a, req, res, other);
    json_t *after = before ? stored_answer(a, req, res, id) : NULL;
    json_t *diff = NULL;
    nq_err err;
    nq_err_clear(&err);
    if (after && nq_assess_diff(before, after, &diff, &err))
        srv_problem(res, req, 422, "invalid-field", err.msg, NULL);
    else if (after) {
        http_res_json(res, 200, diff);
        http_res_header(res, "Cache-Control", "no-store");
    }
    json_decref(diff);
    json_decref(before);
    json_decref(after);
}
