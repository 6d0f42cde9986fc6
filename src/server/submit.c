/* submit.c - the POST routes: check the request, validate the body on the
 * HTTP thread (parsing only, so bad input is answered at once), queue a
 * job, and answer within the sync budget or with 202 and where to look.
 *
 * Waiting for the budget does not hold the HTTP thread: the answer is
 * deferred (http.h) and the parker looks at the job when the job service
 * says jobs ended (on_finished), at the end of the budget, and every
 * SYNC_POLL_S besides (a safety net), so one slow job never delays the
 * other connections of its event loop. */
#include <string.h>
#include <strings.h>

#include "nqba/clock.h"
#include "nqba/strhash.h"
#include "srv.h"

#define IDEMPOTENCY_KEY_MAX 256
#define SYNC_POLL_S 0.01


/* ---- request headers ---- */

/* application/json, any case, optionally followed by parameters. */
static int is_json_type(const char *v)
{
    if (!v)
        return 0;
    while (*v == ' ' || *v == '\t')
        v++;
    size_t n = strlen("application/json");
    if (strncasecmp(v, "application/json", n) != 0)
        return 0;
    v += n;
    while (*v == ' ' || *v == '\t')
        v++;
    return *v == '\0' || *v == ';';
}

static int parse_priority(const char *v, nq_job_priority *out)
{
    *out = NQ_PRIO_NORMAL;
    if (!v || strcasecmp(v, "normal") == 0)
        return 0;
    if (strcasecmp(v, "high") == 0)
        *out = NQ_PRIO_HIGH;
    else if (strcasecmp(v, "low") == 0)
        *out = NQ_PRIO_LOW;
    else
        return -1;
    return 0;
}

/* Prefer: a comma-separated list of preferences, each possibly with
 * parameters ("respond-async, wait=5"). */
static int prefers_async(const char *v)
{
    const char *want = "respond-async";
    size_t n = strlen(want);
    while (v && *v) {
        while (*v == ' ' || *v == '\t' || *v == ',')
            v++;
        if (strncasecmp(v, want, n) == 0 && strchr(" \t,;=", v[n]))
            return 1;
        v = strchr(v, ',');
    }
    return 0;
}

/* Nesting deeper than max, counted on the raw text before parsing: the
 * parser's own recursion stops at 2048 levels with a syntax error, and a
 * too-deep document is 413 whatever its depth. */
static int too_deep(const char *s, size_t n, int max)
{
    int depth = 0, in_str = 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (in_str) {
            if (ch == '\\')
                i++;
            else if (ch == '"')
                in_str = 0;
        } else if (ch == '"') {
            in_str = 1;
        } else if (ch == '[' || ch == '{') {
            if (++depth > max)
                return 1;
        } else if (ch == ']' || ch == '}') {
            depth--;
        }
    }
    return 0;
}

/* Checks that need no parsing; 0 when the request may go on. */
static int check_headers(http_req *req, http_res *res, nq_job_priority *prio)
{
    if (!is_json_type(http_req_header(req, "Content-Type"))) {
        srv_problem(res, req, 415, "unsupported-media-type",
                    "the body must be JSON (Content-Type: application/json)", NULL);
        return -1;
    }
    if (parse_priority(http_req_header(req, "X-Priority"), prio)) {
        srv_problem(res, req, 400, "bad-header", "X-Priority must be high, normal or low", NULL);
        return -1;
    }
    const char *key = http_req_header(req, "Idempotency-Key");
    if (key && (!key[0] || strlen(key) > IDEMPOTENCY_KEY_MAX)) {
        srv_problem(res, req, 400, "bad-header", "Idempotency-Key must be 1..256 bytes", NULL);
        return -1;
    }
    return 0;
}

/* A body that does not parse: 413 when it nests too deep, whatever else
 * is wrong with it, else the parser's error. Every document deeper than
 * the limit fails the parse, so the raw count runs only then, not on
 * every body. */
static void parse_problem(srv_app *a, http_req *req, http_res *res, const nq_err *err)
{
    if (too_deep(req->body, req->body_len, a->json.max_depth)) {
        char detail[80];
        snprintf(detail, sizeof detail, "nesting is deeper than %d levels", a->json.max_depth);
        srv_problem(res, req, 413, "too-large", detail, NULL);
        return;
    }
    srv_problem_err(res, req, err, 1);
}

/* ---- answers ---- */

static void add_job_headers(http_req *req, http_res *res, const char *id)
{
    const char *copy = nq_arena_strdup(req->arena, id);
    http_res_header(res, "X-Job-Id", copy);
}

static void accepted(srv_app *a, http_req *req, http_res *res, const char *id)
{
    char self[64], events[72];
    nq_job_state st = nq_jobs_wait(a->jobs, id, 0);
    snprintf(self, sizeof self, "/api/v1/jobs/%s", id);
    snprintf(events, sizeof events, "/api/v1/jobs/%s/events", id);
    json_t *doc = json_pack("{s:s, s:s, s:{s:s, s:s}}", "id", id, "state",
                            nq_job_state_name(st <= NQ_JOB_CANCELLED ? st : NQ_JOB_FAILED), "links",
                            "self", self, "events", events);
    http_res_json(res, 202, doc);
    json_decref(doc);
    http_res_header(res, "Location", nq_arena_strdup(req->arena, self));
    add_job_headers(req, res, id);
}

static int status_for_code_name(const char *name)
{
    for (int code = NQ_EINVAL; code >= NQ_CODE_LAST; code--)
        if (name && strcmp(nq_code_name(code), name) == 0)
            return srv_status_for_code(code);
    return 500;
}

/* The job's error as a problem, at the status its code stands for. */
static void failed(srv_app *a, http_req *req, http_res *res, const char *id, int model_ref)
{
    json_t *snap = nq_jobs_get(a->jobs, id, 0);
    json_t *e = json_object_get(snap, "error");
    const char *code = json_string_value(json_object_get(e, "code"));
    const char *ptr = json_string_value(json_object_get(e, "pointer"));
    const char *detail = json_string_value(json_object_get(e, "detail"));
    int status = status_for_code_name(code);
    const char *slug = status == 500 ? "internal" : srv_slug_for_status(status);
    if (ptr && ptr[0] != '/' && ptr[0] != '\0')
        ptr = NULL; /* a position inside a text member, not a JSON pointer */
    char mapped[NQ_ERR_WHERE_MAX];
    if (ptr && model_ref && !strncmp(ptr, "/facts", 6)) { /* the inputs became the facts */
        snprintf(mapped, sizeof mapped, "/inputs%.*s", (int)(sizeof mapped - 8), ptr + 6);
        ptr = mapped;
    }
    srv_problem(res, req, status, slug, detail ? detail : "the job failed", ptr);
    add_job_headers(req, res, id);
    json_decref(snap);
}

static void finished(srv_app *a, http_req *req, http_res *res, const char *id, nq_job_state st,
                     int cached, const char *body_key, int model_ref)
{
    if (st == NQ_JOB_SUCCEEDED) {
        size_t len = 0;
        char *text = nq_jobs_result_text(a->jobs, id, &len);
        if (!text) {
            srv_problem(res, req, 500, "internal", "the job's result is gone", NULL);
            return;
        }
        http_res_take(res, 200, "application/json", text, len);
        add_job_headers(req, res, id);
        http_res_header(res, "X-Cache", cached ? "hit" : "miss");
        if (body_key)
            nq_jobs_remember_body(a->jobs, body_key, id);
    } else if (st == NQ_JOB_FAILED) {
        failed(a, req, res, id, model_ref);
    } else {
        int stopping = atomic_load(&a->draining);
        srv_problem(res, req, stopping ? 503 : 409, stopping ? "unavailable" : "conflict",
                    "the job was cancelled", NULL);
        add_job_headers(req, res, id);
    }
}

/* ---- waiting out the sync budget ---- */

typedef struct sync_wait {
    srv_app *a;
    char id[33];
    double deadline;
    int cached;
    const char *body_key; /* NULL, or the body's repeat key (in the request arena) */
    int model_ref;        /* the request named a saved model */
} sync_wait;

/* A clash only costs the other waiter a poll. */
uint64_t srv_job_tag(const char *id)
{
    uint64_t h = nq_str_hash(id);
    return h ? h : 1;
}

static int is_final(nq_job_state st)
{
    return st >= NQ_JOB_SUCCEEDED;
}

static int sync_poll(void *cls, double now)
{
    sync_wait *w = cls;
    return now >= w->deadline || is_final(nq_jobs_wait(w->a->jobs, w->id, 0));
}

static void sync_finish(void *cls, http_req *req, http_res *res)
{
    sync_wait *w = cls;
    nq_job_state st = nq_jobs_wait(w->a->jobs, w->id, 0);
    if (is_final(st))
        finished(w->a, req, res, w->id, st, w->cached, w->body_key, w->model_ref);
    else
        accepted(w->a, req, res, w->id);
}

static void answer(srv_app *a, http_req *req, http_res *res, const char *id, int cached,
                   const char *body_key, int model_ref)
{
    nq_job_state st = nq_jobs_wait(a->jobs, id, 0);
    if (is_final(st)) {
        finished(a, req, res, id, st, cached, body_key, model_ref);
        return;
    }
    sync_wait *w = nq_arena_alloc(req->arena, sizeof *w);
    if (a->cfg.sync_budget_ms <= 0 || !w) {
        accepted(a, req, res, id);
        return;
    }
    w->a = a;
    memcpy(w->id, id, sizeof w->id);
    w->deadline = nq_clock_s() + a->cfg.sync_budget_ms / 1000.0;
    w->cached = cached;
    w->body_key = body_key;
    w->model_ref = model_ref;
    res->defer.poll = sync_poll;
    res->defer.finish = sync_finish;
    res->defer.cls = w;
    res->defer.poll_interval = SYNC_POLL_S;
    res->defer.due = w->deadline;
    res->defer.tag = srv_job_tag(w->id);
}

/* ---- the routes ---- */

static void submit_error(http_req *req, http_res *res, int rc, const nq_err *err)
{
    if (rc == NQ_ELIMIT) {
        srv_problem(res, req, 429, "queue-full", "the job queue is full", NULL);
        http_res_header(res, "Retry-After", "1");
    } else if (rc == NQ_ECANCEL) {
        srv_problem(res, req, 503, "unavailable", "the server is shutting down", NULL);
    } else if (rc == NQ_EINVAL) {
        srv_problem(res, req, 409, "conflict", err->msg[0] ? err->msg : "idempotency key reused",
                    NULL);
    } else {
        srv_problem(res, req, 500, "internal", err->msg[0] ? err->msg : nq_code_name(rc), NULL);
    }
}

/* The key under which a plain request's body is remembered, hashed once
 * per request; NULL for keyed requests, which keep their own semantics. */
static const char *body_key(srv_app *a, http_req *req, const srv_kind *k)
{
    if (http_req_header(req, "Idempotency-Key") || a->validate_only)
        return NULL;
    char *key = nq_arena_alloc(req->arena, 65);
    if (key)
        nq_jobs_body_key(k->kind, req->body, req->body_len, key);
    return key;
}

/* A byte-identical repeat of an answered request: the stored answer text,
 * without parsing, validating or queueing (see lib/service/body_cache.c). */
static int answer_repeat(srv_app *a, http_req *req, http_res *res, const char *key)
{
    if (!key || prefers_async(http_req_header(req, "Prefer")))
        return 0;
    char id[33];
    size_t len = 0;
    char *text = nq_jobs_lookup_body(a->jobs, key, id, &len);
    if (!text)
        return 0;
    http_res_take(res, 200, "application/json", text, len);
    add_job_headers(req, res, id);
    http_res_header(res, "X-Cache", "hit");
    return 1;
}

/* A saved model's inputs became its facts: point at what the client sent. */
static void facts_to_inputs(nq_err *err)
{
    if (strncmp(err->where, "/facts", 6) != 0)
        return;
    char where[NQ_ERR_WHERE_MAX];
    size_t n = strlen(err->where + 6);
    if (n > NQ_ERR_WHERE_MAX - 8)
        n = NQ_ERR_WHERE_MAX - 8;
    memcpy(where, "/inputs", 7);
    memcpy(where + 7, err->where + 6, n);
    where[7 + n] = '\0';
    memcpy(err->where, where, n + 8);
}

/* A reference to a saved model: *doc becomes the full request, *ref_text
 * the reference as it will be stored (with the version that answered),
 * and a reference to "the latest version" loses its body key. Nonzero
 * when the request was answered (a problem). */
static int resolve(srv_app *a, http_req *req, http_res *res, const srv_kind *k, json_t **doc,
                   char **ref_text, const char **key)
{
    json_t *full = NULL;
    int pinned = 1;
    nq_err err;
    nq_err_clear(&err);
    if (k->resolve(a, *doc, &full, &pinned, &err)) {
        srv_problem_err(res, req, &err, 0);
        json_decref(*doc);
        return 1;
    }
    if (!full)
        return 0;
    *ref_text = json_dumps(*doc, JSON_COMPACT);
    json_decref(*doc);
    *doc = full;
    if (!pinned)
        *key = NULL;
    if (!*ref_text) {
        srv_problem(res, req, 500, "internal", "out of memory", NULL);
        json_decref(full);
        return 1;
    }
    return 0;
}

/* A cluster's API node: the validated request goes to the shared queue
 * (what was prepared only proved it valid; the worker prepares again). */
static void submit_shared(srv_app *a, http_req *req, http_res *res, const srv_kind *k,
                          json_t *doc, const char *ref_text, nq_job_priority prio, const char *key)
{
    char *run = ref_text ? json_dumps(doc, JSON_COMPACT | JSON_REAL_PRECISION(17)) : NULL;
    nq_err err;
    nq_err_clear(&err);
    char id[33];
    int rc = ref_text && !run ? nq_err_set(&err, NQ_ENOMEM, NULL, "out of memory")
             : srv_cluster_submit(a, k, doc, run ? run : req->body, run ? strlen(run) : req->body_len,
                                  ref_text ? ref_text : req->body,
                                  ref_text ? strlen(ref_text) : req->body_len, prio,
                                  http_req_header(req, "Idempotency-Key"), id, &err);
    free(run);
    json_decref(doc);
    if (rc == NQ_EUNAVAIL)
        srv_problem(res, req, 503, "unavailable", "the job queue cannot be reached", NULL);
    else if (rc)
        submit_error(req, res, rc, &err);
    else if (prefers_async(http_req_header(req, "Prefer"))) {
        accepted(a, req, res, id);
        http_res_header(res, "Preference-Applied", "respond-async");
    } else
        answer(a, req, res, id, 0, key, ref_text != NULL);
}

static void submit(srv_app *a, http_req *req, http_res *res, const srv_kind *k)
{
    nq_job_priority prio;
    nq_err err;
    json_t *doc = NULL;
    void *prepared = NULL;
    nq_err_clear(&err);
    if (check_headers(req, res, &prio))
        return;
    const char *key = body_key(a, req, k);
    if (answer_repeat(a, req, res, key))
        return;
    if (nq_json_parse(req->body, req->body_len, "request body", &a->json, &doc, &err)) {
        parse_problem(a, req, res, &err);
        return;
    }
    char *ref_text = NULL; /* a saved model's request, stored as the decision's request */
    if (k->resolve && resolve(a, req, res, k, &doc, &ref_text, &key))
        return;
    if (k->prepare(doc, &prepared, &err)) {
        if (ref_text)
            facts_to_inputs(&err);
        srv_problem_err(res, req, &err, 0);
        json_decref(doc);
        free(ref_text);
        return;
    }
    if (a->validate_only) {
        k->prepared_free(prepared);
        json_decref(doc);
        free(ref_text);
        http_res_static(res, 200, "application/json", "{\"valid\":true}");
        return;
    }
    if (a->cluster) {
        k->prepared_free(prepared);
        submit_shared(a, req, res, k, doc, ref_text, prio, key);
        free(ref_text);
        return;
    }
    nq_job_submit s = {.kind = k->kind,
                       .request = doc, /* the job's from here on */
                       .prepared = prepared,
                       .prepared_free = k->prepared_free,
                       .fn = k->fn,
                       .priority = prio,
                       .idempotency_key = http_req_header(req, "Idempotency-Key"),
                       .request_text = ref_text ? ref_text : req->body,
                       .request_len = ref_text ? strlen(ref_text) : req->body_len};
    char id[33];
    int cached = 0;
    int rc = nq_jobs_submit(a->jobs, &s, id, &cached, &err);
    int model_ref = ref_text != NULL;
    free(ref_text); /* copied by the job */
    if (rc)
        submit_error(req, res, rc, &err);
    else if (prefers_async(http_req_header(req, "Prefer"))) {
        accepted(a, req, res, id);
        http_res_header(res, "Preference-Applied", "respond-async");
    } else
        answer(a, req, res, id, cached, key, model_ref);
}

/* Every POST route of a job kind is the same call with its kind. */
#define SUBMIT_ROUTE(handler, kind)                                                                \
    void handler(srv_app *a, http_req *req, http_res *res, const char *id)                         \
    {                                                                                              \
        (void)id;                                                                                  \
        submit(a, req, res, srv_kind_find(kind));                                                                \
    }

SUBMIT_ROUTE(srv_h_solve, "solve")
SUBMIT_ROUTE(srv_h_decision, "decision-engine")
SUBMIT_ROUTE(srv_h_portfolio, "portfolio-optimization")
SUBMIT_ROUTE(srv_h_risk, "risk-assessment")
SUBMIT_ROUTE(srv_h_energy, "energy-optimization")
SUBMIT_ROUTE(srv_h_uc, "unit-commitment")
SUBMIT_ROUTE(srv_h_assess, "business-assessment")
SUBMIT_ROUTE(srv_h_lead_train, "lead-model")
SUBMIT_ROUTE(srv_h_lead_score, "lead-scoring")
SUBMIT_ROUTE(srv_h_lead_assign, "lead-assignment")
