/* handlers.c - the small routes: health, readiness, metrics, the OpenAPI
 * document, and reading or cancelling a job. The POST routes are in
 * submit.c, the event stream in sse.c, the dashboard in static_routes.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "srv.h"

void srv_h_healthz(srv_app *a, http_req *req, http_res *res, const char *id)
{
    (void)a, (void)req, (void)id;
    http_res_static(res, 200, "application/json", "{\"status\":\"ok\"}");
}

/* Ready means: accepting jobs. During shutdown load balancers must take
 * this instance out at once, while its running jobs drain. */
void srv_h_readyz(srv_app *a, http_req *req, http_res *res, const char *id)
{
    (void)req, (void)id;
    if (atomic_load(&a->draining)) {
        http_res_static(res, 503, "application/json", "{\"status\":\"draining\"}");
        return;
    }
    int64_t counts[5];
    nq_jobs_counts(a->jobs, counts);
    char body[160];
    int n = snprintf(
        body, sizeof body, "{\"status\":\"ready\",\"workers\":%d,\"queued\":%lld,\"running\":%lld}",
        a->workers, (long long)counts[NQ_JOB_QUEUED], (long long)counts[NQ_JOB_RUNNING]);
    http_res_text(res, 200, "application/json", body, (size_t)n);
}

void srv_h_metrics(srv_app *a, http_req *req, http_res *res, const char *id)
{
    (void)id;
    char *text = nq_metrics_render(a->metrics);
    if (!text) {
        srv_problem(res, req, 500, "internal", "cannot render the metrics", NULL);
        return;
    }
    http_res_take(res, 200, "text/plain; version=0.0.4; charset=utf-8", text, strlen(text));
}

void srv_h_openapi(srv_app *a, http_req *req, http_res *res, const char *id)
{
    (void)a, (void)req, (void)id;
    http_res_static(res, 200, "application/json", (const char *)srv_openapi_json);
}

void srv_h_job_get(srv_app *a, http_req *req, http_res *res, const char *id)
{
    if (a->cluster)
        (void)srv_cluster_know(a, id); /* a job queued through another node */
    json_t *snap = nq_jobs_get(a->jobs, id, 1);
    if (!snap) {
        srv_problem(res, req, 404, "not-found", "no such job", NULL);
        return;
    }
    http_res_json(res, 200, snap);
    http_res_header(res, "Cache-Control", "no-store");
    json_decref(snap);
}

void srv_h_job_cancel(srv_app *a, http_req *req, http_res *res, const char *id)
{
    nq_err err;
    nq_err_clear(&err);
    int rc = a->cluster ? srv_cluster_cancel(a, id, &err) : nq_jobs_cancel(a->jobs, id);
    if (rc == NQ_EUNAVAIL) {
        srv_problem(res, req, 503, "unavailable", "the job queue cannot be reached", NULL);
        return;
    }
    if (rc == NQ_ENOTFOUND) {
        srv_problem(res, req, 404, "not-found", "no such job", NULL);
        return;
    }
    if (rc == NQ_EINVAL) {
        srv_problem(res, req, 409, "conflict", "the job has already finished", NULL);
        return;
    }
    if (rc) {
        srv_problem(res, req, 500, "internal", nq_code_name(rc), NULL);
        return;
    }
    json_t *doc = json_pack("{s:s, s:s}", "id", id, "state", "cancelled");
    http_res_json(res, 200, doc);
    json_decref(doc);
}
