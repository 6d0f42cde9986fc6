/* server.c - the application: its parts (metrics, jobs, access log, HTTP
 * daemon), the dispatch of every request, and what is recorded when a
 * request completes.
 *
 * Shutdown comes in two steps so that the caller can wait in between
 * (cmd_serve.c waits for running jobs, up to --drain seconds, while still
 * answering on open connections): begin (refuse jobs, /readyz 503, stop
 * accepting connections), then free (end parked requests and streams,
 * close connections, cancel what is left). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nqba/buf.h"
#include "nqba/clock.h"
#include "srv.h"

/* ---- dispatch ---- */

static void too_large(srv_app *a, http_req *req, http_res *res)
{
    char detail[96];
    snprintf(detail, sizeof detail, "the body is larger than %lld bytes", a->cfg.max_body);
    srv_problem(res, req, 413, "too-large", detail, NULL);
}

/* What a worker answers: its health and its metrics, nothing else. */
static int worker_route(const srv_route *r)
{
    return r->handler == srv_h_healthz || r->handler == srv_h_readyz || r->handler == srv_h_metrics;
}

static void dispatch(void *cls, http_req *req, http_res *res)
{
    srv_app *a = cls;
    srv_match m;
    srv_trace_ids(req);
    srv_route_match(req->method, req->path, req->arena, &m);
    req->route = m.pattern;
    if (req->body_too_large) {
        too_large(a, req, res);
    } else if (m.kind == SRV_MATCH_NO_PATH) {
        srv_problem(res, req, 404, "not-found", "no such route", NULL);
    } else if (m.kind == SRV_MATCH_NO_METHOD) {
        char detail[128];
        snprintf(detail, sizeof detail, "allowed: %s", m.allow);
        srv_problem(res, req, 405, "method-not-allowed", detail, NULL);
        http_res_header(res, "Allow", nq_arena_strdup(req->arena, m.allow));
    } else if (a->cfg.role == SRV_ROLE_WORKER && !worker_route(m.route)) {
        srv_problem(res, req, 404, "not-found", "a worker serves only /healthz, /readyz and /metrics",
                    NULL);
    } else {
        /* In the request's arena: handlers read it as req->principal. */
        srv_principal *who = nq_arena_alloc(req->arena, sizeof *who);
        if (!who) {
            srv_problem(res, req, 500, "internal", "out of memory", NULL);
        } else if (srv_rate_check(a, req, res, m.route, NULL) == 0 &&
                   srv_authorize(a, req, res, m.route, who) == 0 &&
                   srv_rate_check(a, req, res, m.route, who) == 0) {
            req->principal = who;
            m.route->handler(a, req, res, m.id);
        }
    }
}

/* Methods outside this list share one label, so clients cannot grow the
 * set of metric series. */
static const char *method_label(const char *m)
{
    static const char *const KNOWN[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"};
    for (size_t i = 0; i < sizeof KNOWN / sizeof KNOWN[0]; i++)
        if (m && strcmp(m, KNOWN[i]) == 0)
            return KNOWN[i];
    return "other";
}

static void on_done(void *cls, const http_req *req, int status, uint64_t bytes, double seconds)
{
    srv_app *a = cls;
    if (!status)
        return; /* the client left before an answer: nothing was served */
    const char *route = req->route ? req->route : "unmatched";
    char labels[160];
    snprintf(labels, sizeof labels, "route=%s,method=%s,code=%d", route, method_label(req->method),
             status);
    nq_metrics_inc(a->metrics, "http_requests_total", labels, 1);
    snprintf(labels, sizeof labels, "route=%s", route);
    nq_metrics_observe(a->metrics, "http_request_duration_seconds", labels, seconds);
    srv_access_log_write(&a->log, req, status, bytes, seconds);
}

static void on_http_log(void *cls, const char *msg)
{
    srv_app *a = cls;
    srv_log_event(&a->log, "warn", "libmicrohttpd", "detail", msg);
}

void srv_app_log(srv_app *a, const char *level, const char *msg, const char *key, const char *value)
{
    srv_log_event(&a->log, level, msg, key, value);
}

/* ---- life cycle ---- */

static void describe_metrics(nq_metrics *m)
{
    nq_metrics_help(m, "http_requests_total", "HTTP requests by route pattern, method and status");
    nq_metrics_help(m, "http_request_duration_seconds",
                    "time from request headers to the last byte of the answer");
}

/* Jobs ended: connections parked on a sync answer for one of them look
 * now, not at their next poll. */
static void jobs_finished(void *user, const char *const *ids, int n)
{
    srv_app *a = user;
    uint64_t tags[64];
    for (int at = 0; at < n; at += 64) {
        int k = n - at < 64 ? n - at : 64;
        for (int i = 0; i < k; i++)
            tags[i] = srv_job_tag(ids[at + i]);
        pthread_mutex_lock(&a->kick_mu);
        http_daemon_kick_tags(a->kick, tags, (size_t)k);
        pthread_mutex_unlock(&a->kick_mu);
    }
}

static int make_jobs(srv_app *a, nq_err *err)
{
    nq_jobs_config jc;
    nq_jobs_config_default(&jc);
    jc.workers = a->workers;
    jc.max_queued = a->cfg.max_queue;
    jc.cache_entries = a->cfg.cache_entries;
    jc.job_timeout = a->cfg.job_timeout;
    jc.on_finished = jobs_finished;
    jc.finished_user = a;
    if (a->store) {
        jc.persist = a->cfg.role == SRV_ROLE_WORKER ? srv_worker_persist : srv_store_persist;
        jc.persist_user = a;
        /* A worker stores each claimed job on its own (it must decide per
         * job whether the lease still stands); a server batches. */
        if (a->cfg.role != SRV_ROLE_WORKER)
            jc.persist_batch = srv_store_persist_batch;
    }
    int rc = a->validate_only ? NQ_OK : srv_shared_cache_open(a, &jc, err);
    if (a->cfg.role == SRV_ROLE_WORKER) {
        /* Every claimed job runs and is stored: an answer from a cache
         * would end the job without its decision on record. */
        jc.cache_entries = 0;
        jc.shared_get = NULL;
        jc.shared_put = NULL;
    }
    return rc ? rc : nq_jobs_new(&jc, a->metrics, &a->jobs, err);
}

int srv_app_new(const srv_config *c, int validate_only, srv_app **out, nq_err *err)
{
    *out = NULL;
    size_t n_routes;
    const srv_route *routes = srv_routes(&n_routes);
    if (srv_routes_check(routes, n_routes, err))
        return NQ_EINTERNAL; /* a route nobody said who may call: do not serve */
    srv_app *a = calloc(1, sizeof *a);
    if (!a)
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    a->cfg = *c;
    a->validate_only = validate_only;
    pthread_mutex_init(&a->kick_mu, NULL); /* holds nothing until used: no destroy on errors */
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    a->workers = c->workers > 0 ? c->workers : cores > 0 ? (int)cores : 1;
    a->json.max_bytes = (size_t)c->max_body;
    a->json.max_depth = c->max_json_depth;
    atomic_init(&a->draining, 0);
    int rc = srv_access_log_open(&a->log, c->access_log, err);
    if (rc) {
        free(a);
        return rc;
    }
    if (nq_metrics_new(&a->metrics) != NQ_OK) {
        srv_access_log_close(&a->log);
        free(a);
        return nq_err_set(err, NQ_ENOMEM, NULL, "cannot create the metrics registry");
    }
    describe_metrics(a->metrics);
    /* The fuzzer's validate-only mode stores nothing and needs no database. */
    rc = validate_only ? NQ_OK : srv_store_open(a, err);
    a->cluster = !validate_only && (c->queue_shared || c->role == SRV_ROLE_WORKER);
    if (!rc && a->cluster && strcmp(nq_store_backend(a->store), "postgresql") != 0)
        rc = nq_err_set(err, NQ_EINVAL, "--db",
                        "%s needs a PostgreSQL database (--db postgresql://...)",
                        c->role == SRV_ROLE_WORKER ? "nqba worker" : "--queue shared");
    if (!rc)
        rc = make_jobs(a, err);
    /* After the jobs, which open the shared cache: rate limits share it. */
    if (!rc && !validate_only)
        rc = srv_auth_init(a, err);
    if (!rc && !validate_only)
        rc = srv_ops_start(a, err);
    if (rc) {
        srv_ops_stop(a);
        nq_jobs_free(a->jobs, 0); /* NULL when it was never made */
        srv_auth_free(a);
        srv_shared_cache_close(a);
        nq_store_close(a->store);
        nq_metrics_free(a->metrics);
        srv_access_log_close(&a->log);
        free(a);
        return rc;
    }
    *out = a;
    return NQ_OK;
}

int srv_app_listen(srv_app *a, nq_err *err)
{
    http_daemon_opts o = {
        .host = a->cfg.host,
        .port = a->cfg.port,
        .threads = a->cfg.http_threads,
        .max_connections = a->cfg.max_connections,
        .timeout_s = a->cfg.connection_timeout,
        .max_body = (size_t)a->cfg.max_body,
        .handler = dispatch,
        .done = on_done,
        .log = on_http_log,
        .cls = a,
    };
    int rc = http_daemon_start(&o, &a->http, err);
    if (!rc) {
        pthread_mutex_lock(&a->kick_mu);
        a->kick = a->http;
        pthread_mutex_unlock(&a->kick_mu);
    }
    if (!rc && a->cfg.role == SRV_ROLE_WORKER)
        rc = srv_worker_start(a, err);
    return rc;
}

int srv_app_port(const srv_app *a)
{
    return a->http ? http_daemon_port(a->http) : -1;
}

void srv_app_begin_shutdown(srv_app *a)
{
    srv_worker_stop_claiming(a);
    nq_jobs_stop_accepting(a->jobs);
    atomic_store(&a->draining, 1);
    http_daemon_quiesce(a->http);
}

int srv_app_busy(srv_app *a)
{
    int64_t counts[5];
    nq_jobs_counts(a->jobs, counts);
    return counts[NQ_JOB_QUEUED] + counts[NQ_JOB_RUNNING] > 0;
}

void srv_app_free(srv_app *a)
{
    if (!a)
        return;
    /* Connections first: their streams hold job subscriptions. Then the
     * threads that call into the job service, then the service. */
    pthread_mutex_lock(&a->kick_mu);
    a->kick = NULL;
    pthread_mutex_unlock(&a->kick_mu);
    http_daemon_stop(a->http);
    srv_worker_join(a);
    srv_ops_stop(a);
    nq_jobs_free(a->jobs, 0);
    nq_store_close(a->store); /* after the workers: they write to it until joined */
    srv_shared_cache_close(a);
    srv_auth_free(a);
    nq_metrics_free(a->metrics);
    srv_access_log_close(&a->log);
    pthread_mutex_destroy(&a->kick_mu);
    free(a);
}

/* ---- one request without sockets ---- */

/* Poll a deferred answer until it is ready, then finish it. Nothing
 * kicks this loop, so it polls every millisecond at most. */
static void run_deferred(http_req *req, http_res *res)
{
    http_defer d = res->defer;
    memset(&res->defer, 0, sizeof res->defer);
    double step = d.poll_interval < 0.001 ? d.poll_interval : 0.001;
    while (!d.poll(d.cls, nq_clock_s()))
        usleep((useconds_t)(step * 1e6) + 1);
    d.finish(d.cls, req, res);
}

/* What a stream has ready at once; a stream waits for no one here. */
static void drain_stream(http_res *res, nq_buf *out)
{
    char chunk[4096];
    ssize_t n;
    while (out->len < ((size_t)1 << 20) &&
           (n = res->stream->read(res->stream_cls, chunk, sizeof chunk, 0)) > 0)
        if (nq_buf_append(out, chunk, (size_t)n))
            break;
}

static void split_target(const char *target, nq_arena *ar, http_req *req)
{
    const char *q = strchr(target, '?');
    req->path = q ? nq_arena_strndup(ar, target, (size_t)(q - target)) : target;
    if (!req->path)
        req->path = "";
}

static void fill_reply(const http_res *res, const nq_buf *streamed, srv_reply *out)
{
    const char *data = res->stream ? streamed->data : res->body;
    size_t len = res->stream ? streamed->len : res->body_len;
    out->status = res->status;
    snprintf(out->content_type, sizeof out->content_type, "%s",
             res->content_type ? res->content_type : "");
    out->body = malloc(len + 1);
    out->body_len = out->body ? len : 0;
    if (out->body) {
        if (len)
            memcpy(out->body, data, len);
        out->body[len] = '\0';
    }
}

int srv_app_handle(srv_app *a, const char *method, const char *target,
                   const char *const (*headers)[2], size_t n_headers, const char *body,
                   size_t body_len, srv_reply *out)
{
    nq_arena ar;
    nq_arena_init(&ar, 4096, 0);
    http_req req;
    memset(&req, 0, sizeof req);
    memset(out, 0, sizeof *out);
    http_hdr *h = n_headers ? nq_arena_calloc(&ar, n_headers, sizeof *h) : NULL;
    char *copy = nq_arena_strndup(&ar, body ? body : "", body ? body_len : 0);
    if ((n_headers && !h) || !copy) {
        nq_arena_free(&ar);
        return NQ_ENOMEM;
    }
    for (size_t i = 0; i < n_headers; i++)
        h[i] = (http_hdr){headers[i][0], headers[i][1]};
    req.method = method;
    req.arena = &ar;
    split_target(target, &ar, &req);
    req.headers = h;
    req.n_headers = n_headers;
    req.body = copy;
    req.body_len = body ? body_len : 0;
    req.body_too_large = req.body_len > (size_t)a->cfg.max_body;
    req.remote = "";
    http_res res;
    http_res_init(&res);
    dispatch(a, &req, &res);
    if (res.defer.poll && res.defer.finish)
        run_deferred(&req, &res);
    nq_buf streamed;
    nq_buf_init(&streamed, 0);
    if (res.stream)
        drain_stream(&res, &streamed);
    fill_reply(&res, &streamed, out);
    nq_buf_free(&streamed);
    http_res_free(&res);
    nq_arena_free(&ar);
    return out->body ? NQ_OK : NQ_ENOMEM;
}

void srv_reply_free(srv_reply *r)
{
    if (!r)
        return;
    free(r->body);
    r->body = NULL;
    r->body_len = 0;
}
