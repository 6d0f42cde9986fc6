/* test_http_api.c - the HTTP API of `nqba serve` ($NQ_BIN) where one
 * request and its answer are not enough (docs/api/http.md): the life of a
 * job (202, polling, Server-Sent Events, cancel), idempotency keys, the
 * result cache and its metrics, tracing headers and the access log,
 * keep-alive, the OpenAPI document against the routes served, the metric
 * names, limits set by options (body size, nesting, queue) and graceful
 * shutdown. Most tests share one server; those that need other options or
 * stop the server start their own.
 *
 * Solve requests that must not be answered from the cache carry a seed of
 * their own. Long jobs are simulated annealing runs on a random 500-variable
 * QUBO with far more reads than fit in their time limit, so that the time
 * limit (or a cancel) is what ends them. */
/* cmocka.h needs these first, in this order. */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
/* clang-format on */

#include <ctype.h>
#include <dirent.h>
#include <stdatomic.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_client.h"
#include "srv.h" /* the route table: what is served */

#define SOLVE "/api/v1/solve"
#define DECIDE "/api/v1/nqba/decision-engine"
#define PROBLEM "https://nqba.dev/problems/"
#define MAX_EVENTS 4096

static http_server g_srv; /* the shared server */
static http_server g_own; /* a test's own server, cleaned up by own_down even on failure */

/* ---- request bodies ---- */

/* A JSON value from a text; fails the test on a syntax error. */
static json_t *jparse(const char *text)
{
    json_error_t e;
    json_t *j = json_loads(text, 0, &e);
    if (!j)
        fail_msg("bad JSON in the test (%s): %s", e.text, text);
    return j;
}

/* Dump and free. */
static char *jdump(json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT);
    assert_non_null(s);
    json_decref(j);
    return s;
}

/* examples/qubo_small.json solved exactly: optimum -19 at (1,0,1,0,1,1),
 * found by enumeration. The seed only makes the request (and its cache
 * key) differ. */
static char *small_body(int seed)
{
    char p[HTTP_PATH_LEN];
    snprintf(p, sizeof p, "%s/examples/qubo_small.json", getenv("NQ_SOURCE_DIR"));
    json_error_t e;
    json_t *model = json_load_file(p, 0, &e);
    if (!model)
        fail_msg("%s: %s", p, e.text);
    return jdump(json_pack("{s:o, s:{s:s, s:i}}", "model", model, "options", "solver", "exact",
                           "seed", seed));
}

/* A random 500-variable QUBO (each variable linked to about four others)
 * for simulated annealing with a time limit: 100,000 reads of 1,000 sweeps
 * take minutes, so the limit (or a cancel) ends the job. */
static char *long_body(int seed, double time_limit)
{
    json_t *lin = json_object(), *quad = json_array();
    uint64_t x = 0x9e3779b97f4a7c15ull * (uint64_t)(seed + 1);
    for (int i = 0; i < 500; i++) {
        char a[16], b[16];
        snprintf(a, sizeof a, "x%d", i);
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        json_object_set_new(lin, a, json_integer((json_int_t)(x >> 60) - 8));
        for (int k = 0; k < 2; k++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            int j = (int)((x >> 33) % 500);
            if (j == i)
                continue;
            snprintf(b, sizeof b, "x%d", j);
            json_array_append_new(quad, json_pack("[s, s, i]", a, b, (int)(x >> 61) - 4));
        }
    }
    json_t *model = json_pack("{s:s, s:o, s:o}", "type", "qubo", "linear", lin, "quadratic", quad);
    return jdump(json_pack("{s:o, s:{s:s, s:i, s:f, s:i}}", "model", model, "options", "solver",
                           "sa", "seed", seed, "time_limit", time_limit, "reads", 100000));
}

/* ---- jobs ---- */

static const char *str_member(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    if (!s)
        fail_msg("member \"%s\" is missing or not a string", key);
    return s ? s : "";
}

/* POST with Prefer: respond-async; checks the 202 answer and returns the id. */
static void submit_async(int port, const char *route, const char *body, char id[64])
{
    http_resp r;
    http_post_json(port, route, "Prefer: respond-async\r\n", body, &r);
    http_expect_status(&r, 202, "async submit");
    json_t *j = http_json(&r);
    snprintf(id, 64, "%s", str_member(j, "id"));
    char loc[256], want[256];
    snprintf(want, sizeof want, "/api/v1/jobs/%s", id);
    if (!http_header(&r, "Location", loc, sizeof loc) || strcmp(loc, want))
        fail_msg("202 Location is '%s', expected '%s'",
                 http_header(&r, "Location", loc, sizeof loc) ? loc : "(absent)", want);
    json_decref(j);
    http_resp_free(&r);
}

/* GET the job; returns its snapshot (caller decrefs). */
static json_t *job_get(int port, const char *id)
{
    char path[128];
    snprintf(path, sizeof path, "/api/v1/jobs/%s", id);
    http_resp r;
    http_get(port, path, &r);
    http_expect_status(&r, 200, "GET job");
    json_t *j = http_json(&r);
    http_resp_free(&r);
    return j;
}

/* Poll until the job is in state (or timeout seconds pass: fail). Returns
 * the seconds waited. */
static double job_wait(int port, const char *id, const char *state, double timeout)
{
    double t0 = http_now();
    char last[32] = "";
    while (http_now() - t0 < timeout) {
        json_t *j = job_get(port, id);
        snprintf(last, sizeof last, "%s", str_member(j, "state"));
        json_decref(j);
        if (!strcmp(last, state))
            return http_now() - t0;
        http_sleep(0.01);
    }
    fail_msg("job %s still '%s' after %.1f s, expected '%s'", id, last, timeout, state);
    return -1;
}

static void job_delete(int port, const char *id, int status)
{
    char path[128];
    snprintf(path, sizeof path, "/api/v1/jobs/%s", id);
    http_resp r;
    http_do(port, "DELETE", path, NULL, NULL, 0, &r);
    http_expect_status(&r, status, "DELETE job");
    if (status == 409) /* already finished */
        http_expect_subset(&r, "{\"type\": \"" PROBLEM "conflict\", \"status\": 409}");
    http_resp_free(&r);
}

/* ---- Server-Sent Events ---- */

typedef struct sse_event {
    char name[32];
    char *data;
} sse_event;

/* Split an event stream into events (blank-line separated; "event:" and
 * "data:" fields; comments and other fields ignored). Returns the count. */
static int sse_parse(const char *body, sse_event *ev, int max)
{
    int n = 0;
    sse_event cur = {"message", NULL};
    int has = 0;
    for (const char *p = body; *p;) {
        size_t len = strcspn(p, "\n");
        size_t l = len && p[len - 1] == '\r' ? len - 1 : len;
        if (l == 0) {
            if (has && n < max)
                ev[n++] = cur;
            else
                free(cur.data);
            memset(&cur, 0, sizeof cur);
            snprintf(cur.name, sizeof cur.name, "message");
            has = 0;
        } else if (!strncmp(p, "event:", 6)) {
            const char *v = p + 6 + (p[6] == ' ');
            snprintf(cur.name, sizeof cur.name, "%.*s", (int)(l - (size_t)(v - p)), v);
            has = 1;
        } else if (!strncmp(p, "data:", 5)) {
            const char *v = p + 5 + (p[5] == ' ');
            size_t vl = l - (size_t)(v - p), old = cur.data ? strlen(cur.data) : 0;
            cur.data = realloc(cur.data, old + vl + 2);
            assert_non_null(cur.data);
            if (old)
                cur.data[old++] = '\n';
            memcpy(cur.data + old, v, vl);
            cur.data[old + vl] = '\0';
            has = 1;
        }
        p += len + (p[len] == '\n');
    }
    free(cur.data); /* an event not ended by a blank line is not dispatched */
    return n;
}

static void sse_free(sse_event *ev, int n)
{
    for (int i = 0; i < n; i++)
        free(ev[i].data);
}

/* Open a job's event stream and read its head (200, text/event-stream). */
static void sse_open(http_conn *c, int port, const char *id, http_resp *head)
{
    char path[160];
    snprintf(path, sizeof path, "/api/v1/jobs/%s/events", id);
    assert_int_equal(http_conn_open(c, port), 0);
    assert_int_equal(http_send(c, "GET", path, "Accept: text/event-stream\r\n", NULL, 0), 0);
    memset(head, 0, sizeof *head);
    if (http_read_head(c, head, http_now() + HTTP_TIMEOUT_S) != 0)
        fail_msg("GET %s: no response head", path);
    http_expect_status(head, 200, "GET events");
    char ct[128];
    if (!http_header(head, "Content-Type", ct, sizeof ct) || strncmp(ct, "text/event-stream", 17))
        fail_msg("events Content-Type is '%s'", http_header(head, "Content-Type", ct, sizeof ct)
                                                      ? ct
                                                      : "(absent)");
}

/* Read the rest of the stream (it must end within timeout) and parse it. */
static int sse_finish(http_conn *c, http_resp *head, sse_event *ev, double timeout)
{
    if (http_read_body(c, head, http_now() + timeout, 0) != 0)
        fail_msg("event stream did not end within %.0f s; got so far:\n%.2000s", timeout,
                 head->body ? head->body : "");
    int n = sse_parse(head->body, ev, MAX_EVENTS);
    for (int i = 0; i < n; i++)
        if (ev[i].data && !strcmp(ev[i].name, "progress")) {
            json_t *j = jparse(ev[i].data);
            if (!json_is_object(j))
                fail_msg("progress data is not an object: %s", ev[i].data);
            json_decref(j);
        }
    return n;
}

static int count_events(const sse_event *ev, int n, const char *name)
{
    int k = 0;
    for (int i = 0; i < n; i++)
        k += !strcmp(ev[i].name, name);
    return k;
}

/* ---- metrics ---- */

/* Sum of the samples of `name` whose labels contain every `k="v"` of want
 * (NULL-terminated, may be NULL); *count gets how many samples matched. */
static double metric_sum(const char *text, const char *name, const char *const *want, int *count)
{
    double sum = 0;
    size_t nl = strlen(name);
    *count = 0;
    for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
        if (strncmp(p, name, nl) || (p[nl] != '{' && p[nl] != ' '))
            continue;
        const char *eol = strchr(p, '\n'), *close = p[nl] == '{' ? strchr(p, '}') : p + nl;
        if (!close || (eol && close > eol))
            continue;
        char labels[1024];
        snprintf(labels, sizeof labels, "%.*s", (int)(close - p - (long)nl), p + nl);
        int ok = 1;
        for (; want && *want; want++)
            ok &= strstr(labels, *want) != NULL;
        if (!ok)
            continue;
        sum += strtod(close + (p[nl] == '{'), NULL);
        (*count)++;
    }
    return sum;
}

static char *metrics_text(int port)
{
    http_resp r;
    http_get(port, "/metrics", &r);
    http_expect_status(&r, 200, "GET /metrics");
    char *t = r.body;
    r.body = NULL;
    http_resp_free(&r);
    return t;
}

static double metric(int port, const char *name)
{
    char *t = metrics_text(port);
    int n;
    double v = metric_sum(t, name, NULL, &n);
    if (n == 0)
        fail_msg("metric %s is missing from /metrics:\n%.3000s", name, t);
    free(t);
    return v;
}

/* ---- SSE, cancel, 202 ---- */

/* A ~1 s solve: at least one progress event, then exactly one result
 * (last, its data the result document), then the stream ends. */
static void test_sse_progress_then_result(void **state)
{
    (void)state;
    char *body = long_body(101, 1.0), id[64];
    submit_async(g_srv.port, SOLVE, body, id);
    http_conn c;
    http_resp s;
    sse_open(&c, g_srv.port, id, &s);
    sse_event ev[MAX_EVENTS];
    int n = sse_finish(&c, &s, ev, 20.0);
    if (n < 2 || count_events(ev, n, "progress") < 1 || count_events(ev, n, "result") != 1 ||
        strcmp(ev[n - 1].name, "result") || strcmp(ev[0].name, "progress"))
        fail_msg("expected progress events then one result; stream:\n%.3000s", s.body);
    assert_int_equal(count_events(ev, n, "progress"), n - 1);
    json_t *res = jparse(ev[n - 1].data);
    assert_string_equal(str_member(res, "solver"), "sa");
    assert_true(json_is_number(json_object_get(res, "energy")));
    assert_int_equal(json_integer_value(json_object_get(res, "n")), 500);
    assert_true(json_is_true(json_object_get(res, "timed_out")));
    json_decref(res);
    sse_free(ev, n);
    http_resp_free(&s);
    http_conn_close(&c);
    free(body);
}

/* DELETE a running 30 s job: 200 cancelled, GET shows cancelled soon after,
 * its event stream ends with "cancelled", and a second DELETE is 409. */
static void test_cancel_running_job(void **state)
{
    (void)state;
    char *body = long_body(102, 30.0), id[64], path[128];
    submit_async(g_srv.port, SOLVE, body, id);
    job_wait(g_srv.port, id, "running", 10.0);
    http_conn c;
    http_resp s;
    sse_open(&c, g_srv.port, id, &s);
    snprintf(path, sizeof path, "/api/v1/jobs/%s", id);
    double t0 = http_now();
    http_resp r;
    http_do(g_srv.port, "DELETE", path, NULL, NULL, 0, &r);
    http_expect_status(&r, 200, "DELETE running job");
    http_expect_subset(&r, "{\"state\": \"cancelled\"}");
    json_t *j = http_json(&r);
    assert_string_equal(str_member(j, "id"), id);
    json_decref(j);
    http_resp_free(&r);
    job_wait(g_srv.port, id, "cancelled", 5.0);
    double took = http_now() - t0;
    if (took > 0.5)
        fail_msg("cancel took %.3f s to show in GET (want <= 0.5 s)", took);
    sse_event ev[MAX_EVENTS];
    int n = sse_finish(&c, &s, ev, 10.0);
    if (n < 1 || strcmp(ev[n - 1].name, "cancelled") || count_events(ev, n, "result") ||
        count_events(ev, n, "cancelled") != 1)
        fail_msg("expected the stream to end with one 'cancelled'; stream:\n%.3000s", s.body);
    sse_free(ev, n);
    http_resp_free(&s);
    http_conn_close(&c);
    job_delete(g_srv.port, id, 409);
    free(body);
}

/* Prefer: respond-async on a quick job: 202 with Location and links, then
 * polling GET until it succeeded, with the known optimum as its result;
 * the finished job's event stream is just its result. */
static void test_async_then_poll(void **state)
{
    (void)state;
    char *body = small_body(103), id[64], want[160];
    http_resp r;
    http_post_json(g_srv.port, SOLVE, "Prefer: respond-async\r\n", body, &r);
    http_expect_status(&r, 202, "async submit");
    json_t *j = http_json(&r);
    snprintf(id, sizeof id, "%s", str_member(j, "id"));
    assert_int_equal(strlen(id), 32);
    snprintf(want, sizeof want, "{\"links\": {\"self\": \"/api/v1/jobs/%s\", "
                                "\"events\": \"/api/v1/jobs/%s/events\"}}", id, id);
    http_expect_subset(&r, want);
    json_decref(j);
    http_resp_free(&r);
    job_wait(g_srv.port, id, "succeeded", 10.0);
    j = job_get(g_srv.port, id);
    json_t *res = json_object_get(j, "result");
    if (!json_is_object(res))
        fail_msg("succeeded job has no result object");
    assert_true(json_number_value(json_object_get(res, "energy")) == -19);
    assert_string_equal(str_member(j, "id"), id);
    assert_string_equal(str_member(j, "kind"), "solve");
    json_decref(j);
    http_conn c;
    http_resp s;
    sse_open(&c, g_srv.port, id, &s);
    sse_event ev[MAX_EVENTS];
    int n = sse_finish(&c, &s, ev, 10.0);
    if (n < 1 || strcmp(ev[n - 1].name, "result") || count_events(ev, n, "result") != 1)
        fail_msg("finished job: expected its result event; stream:\n%.2000s", s.body);
    sse_free(ev, n);
    http_resp_free(&s);
    http_conn_close(&c);
    free(body);
}

/* ---- idempotency and cache ---- */

/* The same key and body give the same job; the same key with another body
 * is 409 conflict. */
static void test_idempotency(void **state)
{
    (void)state;
    char *a = small_body(104), *b = small_body(105), key[128], id1[64], id2[64];
    snprintf(key, sizeof key, "Idempotency-Key: idem-%d\r\n", (int)getpid());
    http_resp r;
    http_post_json(g_srv.port, SOLVE, key, a, &r);
    http_expect_status(&r, 200, "first keyed request");
    if (!http_header(&r, "X-Job-Id", id1, sizeof id1))
        fail_msg("no X-Job-Id");
    http_resp_free(&r);
    http_post_json(g_srv.port, SOLVE, key, a, &r);
    http_expect_status(&r, 200, "repeated keyed request");
    if (!http_header(&r, "X-Job-Id", id2, sizeof id2))
        fail_msg("no X-Job-Id on the repeat");
    assert_string_equal(id1, id2);
    http_expect_subset(&r, "{\"energy\": -19}");
    http_resp_free(&r);
    http_post_json(g_srv.port, SOLVE, key, b, &r);
    http_expect_status(&r, 409, "same key, other body");
    http_expect_subset(&r, "{\"type\": \"" PROBLEM "conflict\", \"status\": 409}");
    http_resp_free(&r);
    free(a);
    free(b);
}

/* An identical request is a cache hit (also with members reordered and
 * other whitespace: the key is the canonical body); the hit counter grows
 * by exactly the hits. */
static void test_cache(void **state)
{
    (void)state;
    double hits0 = metric(g_srv.port, "nqba_cache_hits_total");
    double miss0 = metric(g_srv.port, "nqba_cache_misses_total");
    const char *body = "{\"model\": {\"linear\": {\"p\": -3, \"q\": 1}, \"quadratic\": "
                       "[[\"p\", \"q\", -1]]}, \"options\": {\"solver\": \"exact\", \"seed\": 106}}";
    const char *same = "{ \"options\":{\"seed\":106,\"solver\":\"exact\"},\n  \"model\":{"
                       "\"linear\":{\"p\":-3,\"q\":1},\"quadratic\":[[\"p\",\"q\",-1]]} }";
    const char *want[] = {"miss", "hit", "hit"};
    const char *bodies[] = {body, body, same};
    for (int i = 0; i < 3; i++) {
        http_resp r;
        char v[32];
        http_post_json(g_srv.port, SOLVE, NULL, bodies[i], &r);
        http_expect_status(&r, 200, "cache request");
        if (!http_header(&r, "X-Cache", v, sizeof v) || strcmp(v, want[i]))
            fail_msg("request %d: X-Cache is '%s', expected '%s'", i + 1,
                     http_header(&r, "X-Cache", v, sizeof v) ? v : "(absent)", want[i]);
        http_expect_subset(&r, "{\"energy\": -3, \"state\": [1, 0]}");
        http_resp_free(&r);
    }
    double hits = metric(g_srv.port, "nqba_cache_hits_total");
    double miss = metric(g_srv.port, "nqba_cache_misses_total");
    if (hits != hits0 + 2)
        fail_msg("nqba_cache_hits_total went from %g to %g, expected +2", hits0, hits);
    if (miss < miss0 + 1)
        fail_msg("nqba_cache_misses_total went from %g to %g, expected at least +1", miss0, miss);
}

/* ---- tracing, request ids, access log ---- */

static int is_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i]))
            return 0;
    return 1;
}

/* 00-<32 lowercase hex, not all 0>-<16 hex, not all 0>-01 */
static int well_formed_traceparent(const char *t)
{
    return strlen(t) == 55 && !strncmp(t, "00-", 3) && is_hex(t + 3, 32) && t[35] == '-' &&
           is_hex(t + 36, 16) && !strcmp(t + 52, "-01") &&
           strncmp(t + 3, "00000000000000000000000000000000", 32) &&
           strncmp(t + 36, "0000000000000000", 16);
}

/* GET /healthz with extra headers; the answer's traceparent and X-Request-Id. */
static void trace_get(const char *headers, char tp[128], char rid[256])
{
    http_resp r;
    http_do(g_srv.port, "GET", "/healthz", headers, NULL, 0, &r);
    http_expect_status(&r, 200, "GET /healthz");
    if (!http_header(&r, "traceparent", tp, 128))
        fail_msg("no traceparent header");
    if (!http_header(&r, "X-Request-Id", rid, 256) || !rid[0])
        fail_msg("no X-Request-Id header");
    http_resp_free(&r);
}

static void test_traceparent(void **state)
{
    (void)state;
    const char *valid = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    char h[256], tp[128], rid[256], tp2[128];
    snprintf(h, sizeof h, "traceparent: %s\r\n", valid);
    trace_get(h, tp, rid);
    assert_string_equal(tp, valid);
    trace_get(NULL, tp, rid);
    if (!well_formed_traceparent(tp))
        fail_msg("generated traceparent '%s' is not 00-<32 hex>-<16 hex>-01", tp);
    trace_get(NULL, tp2, rid);
    if (!strcmp(tp, tp2))
        fail_msg("two requests got the same generated traceparent %s", tp);
    const char *invalid[] = {"garbage", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
                             "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
                             "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"};
    for (size_t i = 0; i < sizeof invalid / sizeof *invalid; i++) {
        snprintf(h, sizeof h, "traceparent: %s\r\n", invalid[i]);
        trace_get(h, tp, rid);
        if (!strcmp(tp, invalid[i]) || !well_formed_traceparent(tp))
            fail_msg("invalid traceparent '%s' answered with '%s' (want a new one)", invalid[i],
                     tp);
    }
}

static void test_request_id(void **state)
{
    (void)state;
    char h[512], tp[128], rid[256], rid2[256];
    trace_get("X-Request-Id: req-abc_1.2\r\n", tp, rid);
    assert_string_equal(rid, "req-abc_1.2");
    trace_get(NULL, tp, rid);
    trace_get(NULL, tp, rid2);
    if (!strcmp(rid, rid2))
        fail_msg("two requests got the same generated X-Request-Id %s", rid);
    char long_id[140];
    memset(long_id, 'a', 129);
    long_id[129] = '\0';
    const char *bad[] = {long_id, "a b", "a\"b"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        snprintf(h, sizeof h, "X-Request-Id: %s\r\n", bad[i]);
        trace_get(h, tp, rid);
        if (!strcmp(rid, bad[i]))
            fail_msg("unsafe X-Request-Id '%s' was echoed (want a generated one)", bad[i]);
    }
    /* A problem body names the request too. */
    http_resp r;
    http_do(g_srv.port, "GET", "/no/such/route", "X-Request-Id: rid-in-problem\r\n", NULL, 0, &r);
    http_expect_status(&r, 404, "unknown route");
    http_expect_subset(&r, "{\"request_id\": \"rid-in-problem\"}");
    http_resp_free(&r);
}

/* Every line of the access log is a JSON object; find the one whose
 * request_id is rid (waiting up to 3 s for it to be written). */
static json_t *log_line(const char *rid)
{
    for (double t0 = http_now(); http_now() - t0 < 3.0; http_sleep(0.02)) {
        char *text = http_slurp(g_srv.access_log, NULL);
        json_t *found = NULL;
        for (char *line = text ? strtok(text, "\n") : NULL; line; line = strtok(NULL, "\n")) {
            json_t *j = jparse(line);
            if (!json_is_object(j))
                fail_msg("access log line is not an object: %s", line);
            const char *id = json_string_value(json_object_get(j, "request_id"));
            if (!found && id && !strcmp(id, rid))
                found = json_incref(j);
            json_decref(j);
        }
        free(text);
        if (found)
            return found;
    }
    fail_msg("no access log line with request_id %s in %s", rid, g_srv.access_log);
    return NULL;
}

static void check_log_line(const char *rid, const char *tp, const char *method,
                           const char *path, int status)
{
    json_t *j = log_line(rid);
    char want[1024];
    snprintf(want, sizeof want,
             "{\"ts\": \"*\", \"request_id\": \"%s\", \"traceparent\": \"%s\", \"method\": \"%s\","
             " \"path\": \"%s\", \"status\": %d, \"bytes\": \"*\", \"duration_ms\": \"*\","
             " \"remote\": \"127.0.0.1*\"}",
             rid, tp, method, path, status);
    json_t *exp = jparse(want);
    char where[256] = "", why[768] = "";
    if (!http_subset(exp, j, where, sizeof where, why, sizeof why)) {
        char *s = json_dumps(j, JSON_COMPACT);
        fail_msg("access log line at \"%s\": %s; line: %s", where, why, s);
    }
    const char *ts = str_member(j, "ts");
    int y, mo, d, h, mi, sec;
    if (sscanf(ts, "%4d-%2d-%2dT%2d:%2d:%2d", &y, &mo, &d, &h, &mi, &sec) != 6 || y < 2000)
        fail_msg("ts '%s' is not RFC 3339", ts);
    assert_true(json_is_number(json_object_get(j, "bytes")));
    assert_true(json_is_number(json_object_get(j, "duration_ms")));
    json_decref(exp);
    json_decref(j);
}

static void test_access_log(void **state)
{
    (void)state;
    const char *tp = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    char h[256], rid[64];
    snprintf(rid, sizeof rid, "log-%d-a", (int)getpid());
    snprintf(h, sizeof h, "X-Request-Id: %s\r\ntraceparent: %s\r\n", rid, tp);
    http_resp r;
    http_do(g_srv.port, "GET", "/healthz", h, NULL, 0, &r);
    http_expect_status(&r, 200, "GET /healthz");
    http_resp_free(&r);
    check_log_line(rid, tp, "GET", "/healthz", 200);
    snprintf(rid, sizeof rid, "log-%d-b", (int)getpid());
    snprintf(h, sizeof h, "Content-Type: application/json\r\nX-Request-Id: %s\r\n"
                          "traceparent: %s\r\n", rid, tp);
    http_do(g_srv.port, "POST", DECIDE, h, "{\"bogus\": 1}", 12, &r);
    http_expect_status(&r, 422, "POST bad decision");
    http_resp_free(&r);
    check_log_line(rid, tp, "POST", DECIDE, 422);
}

/* ---- connections ---- */

/* Several requests, of each kind, on one kept-alive connection. */
/* Lines of an access log file as request ids, in order; every line must
 * be a whole JSON object. Returns the count. */
static int log_ids(const char *path, char ids[][16], int max)
{
    char *text = http_slurp(path, NULL);
    int n = 0;
    for (char *line = text ? strtok(text, "\n") : NULL; line; line = strtok(NULL, "\n")) {
        json_t *j = jparse(line);
        const char *id = json_string_value(json_object_get(j, "request_id"));
        if (!id)
            fail_msg("access log line is not a whole entry: %s", line);
        if (n < max)
            snprintf(ids[n], sizeof ids[n], "%s", id);
        n++;
        json_decref(j);
    }
    free(text);
    return n;
}

/* The access log's buffer: lines come out whole and in order, within the
 * flush interval when few, at once when they fill the buffer, and every
 * one when the log is closed right after they were written. */
static void test_access_log_buffer(void **state)
{
    (void)state;
    enum { FEW = 3, MANY = 600 }; /* MANY lines are several buffers' worth */
    static char ids[FEW + MANY + 8][16];
    char path[HTTP_PATH_LEN], rid[16];
    http_server_path(&g_srv, "buffered.log", path);
    srv_access_log l;
    nq_err err;
    assert_int_equal(srv_access_log_open(&l, path, &err), 0);
    http_req req;
    memset(&req, 0, sizeof req);
    req.method = "GET";
    req.path = "/a/path/long/enough/to/make/the/lines/fill/the/buffer/sooner";
    req.remote = "127.0.0.1";
    req.traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    req.request_id = rid;
    for (int i = 0; i < FEW; i++) {
        snprintf(rid, sizeof rid, "r%d", i);
        srv_access_log_write(&l, &req, 200, 10, 0.001);
    }
    int n = 0;
    for (double t0 = http_now(); http_now() - t0 < 5.0 && n < FEW; http_sleep(0.01))
        n = log_ids(path, ids, FEW + MANY + 8);
    assert_int_equal(n, FEW);
    for (int i = FEW; i < FEW + MANY; i++) {
        snprintf(rid, sizeof rid, "r%d", i);
        srv_access_log_write(&l, &req, 200, 10, 0.001);
    }
    assert_true(log_ids(path, ids, FEW + MANY + 8) > FEW); /* a full buffer went out */
    srv_access_log_close(&l);
    assert_int_equal(log_ids(path, ids, FEW + MANY + 8), FEW + MANY);
    for (int i = 0; i < FEW + MANY; i++) {
        snprintf(rid, sizeof rid, "r%d", i);
        assert_string_equal(ids[i], rid);
    }
}

static void test_keep_alive(void **state)
{
    (void)state;
    http_conn c;
    assert_int_equal(http_conn_open(&c, g_srv.port), 0);
    char *body = small_body(107);
    for (int i = 0; i < 3; i++) {
        http_resp r;
        assert_int_equal(http_send(&c, "GET", "/healthz", NULL, NULL, 0), 0);
        assert_int_equal(http_read(&c, "GET", &r, HTTP_TIMEOUT_S), 0);
        http_expect_status(&r, 200, "keep-alive GET");
        http_resp_free(&r);
        assert_int_equal(http_send(&c, "POST", SOLVE, "Content-Type: application/json\r\n", body,
                                   strlen(body)),
                         0);
        assert_int_equal(http_read(&c, "POST", &r, HTTP_TIMEOUT_S), 0);
        http_expect_status(&r, 200, "keep-alive POST");
        http_resp_free(&r);
        assert_int_equal(http_send(&c, "GET", "/nope", NULL, NULL, 0), 0);
        assert_int_equal(http_read(&c, "GET", &r, HTTP_TIMEOUT_S), 0);
        http_expect_status(&r, 404, "keep-alive 404");
        http_resp_free(&r);
    }
    http_conn_close(&c);
    free(body);
}

/* Request headers share a 16 KiB area per connection with the answer's
 * headers: 10 KB of them (twice, on one kept-alive connection) is served,
 * 20 KB is refused with 431, never a crash or a hang. */
static void test_header_size(void **state)
{
    (void)state;
    size_t sizes[] = {10000, 10000, 20000};
    int want[] = {200, 200, 431};
    http_conn c;
    assert_int_equal(http_conn_open(&c, g_srv.port), 0);
    for (int i = 0; i < 3; i++) {
        char *h = malloc(sizes[i] + 32);
        assert_non_null(h);
        int n = snprintf(h, 32, "X-Big: ");
        memset(h + n, 'a' + i, sizes[i]);
        memcpy(h + n + sizes[i], "\r\n", 3);
        http_resp r;
        int sent = http_send(&c, "GET", "/healthz", h, NULL, 0);
        free(h);
        if (want[i] == 431 && sent != 0) /* refused before all of it was read */
            break;
        assert_int_equal(http_read(&c, "GET", &r, HTTP_TIMEOUT_S), 0);
        assert_int_equal(r.status, want[i]);
        http_resp_free(&r);
    }
    http_conn_close(&c);
}

/* ---- limits on the shared server (defaults) ---- */

static char *nested_body(int depth)
{
    size_t n = (size_t)depth * 2 + 32;
    char *s = malloc(n);
    assert_non_null(s);
    int k = snprintf(s, n, "{\"model\": ");
    for (int i = 0; i < depth - 1; i++)
        s[k++] = '[';
    for (int i = 0; i < depth - 1; i++)
        s[k++] = ']';
    snprintf(s + k, n - (size_t)k, "}");
    return s;
}

/* Nesting deeper than --max-json-depth (64) is 413; shallower nesting of
 * the same (invalid) shape is judged on its content instead. */
static void test_deep_nesting(void **state)
{
    (void)state;
    const int depths[] = {200, 100, 60};
    for (int i = 0; i < 3; i++) {
        char *b = nested_body(depths[i]);
        http_resp r;
        http_post_json(g_srv.port, SOLVE, NULL, b, &r);
        if (depths[i] > 64) {
            http_expect_status(&r, 413, "deep nesting");
            http_expect_subset(&r, "{\"type\": \"" PROBLEM "too-large\", \"status\": 413}");
        } else if (r.status == 413 || r.status / 100 != 4) {
            fail_msg("depth %d: status %d, expected a 4xx other than 413", depths[i], r.status);
        }
        http_resp_free(&r);
        free(b);
    }
    /* Too deep and not even JSON (never closed): still 413, not 400. */
    char open[200];
    memset(open, '[', sizeof open - 1);
    open[sizeof open - 1] = '\0';
    http_resp r;
    http_post_json(g_srv.port, SOLVE, NULL, open, &r);
    http_expect_status(&r, 413, "deep and malformed");
    http_resp_free(&r);
}

/* A Content-Length past the default limit (16 MiB) is refused at once,
 * before (and without) the body. */
static void test_huge_content_length_default(void **state)
{
    (void)state;
    http_conn c;
    assert_int_equal(http_conn_open(&c, g_srv.port), 0);
    http_send(&c, "POST", SOLVE, "Content-Type: application/json\r\nContent-Length: 17000000\r\n",
              NULL, 0);
    http_resp r;
    if (http_read(&c, "POST", &r, 5.0) != 0)
        fail_msg("no answer within 5 s to a 17 MB Content-Length with no body (status %d)",
                 r.status);
    http_expect_status(&r, 413, "Content-Length over --max-body");
    http_resp_free(&r);
    http_conn_close(&c);
}

/* ---- OpenAPI and metrics ---- */


/* path with every {param} segment replaced by id */
static void fill_path(const char *tmpl, const char *id, char *out, size_t cap)
{
    size_t k = 0;
    for (const char *p = tmpl; *p && k + 1 < cap;) {
        if (*p == '{' && strchr(p, '}')) {
            k += (size_t)snprintf(out + k, cap - k, "%s", id);
            p = strchr(p, '}') + 1;
        } else {
            out[k++] = *p++;
        }
    }
    out[k < cap ? k : cap - 1] = '\0';
}

/* Call a documented operation; it must be routed (not 404/405, not 5xx). */
static void call_documented(const char *method, const char *tmpl, const char *id)
{
    char path[512], m[16];
    fill_path(tmpl, id, path, sizeof path);
    size_t i = 0;
    for (; method[i] && i < sizeof m - 1; i++)
        m[i] = (char)toupper((unsigned char)method[i]);
    m[i] = '\0';
    int post = !strcmp(m, "POST") || !strcmp(m, "PUT") || !strcmp(m, "PATCH");
    http_resp r;
    http_do(g_srv.port, m, path, post ? "Content-Type: application/json\r\n" : NULL,
            post ? "{}" : NULL, post ? 2 : 0, &r);
    /* A 404 about the resource (a saved model of that name) is routed; the
     * router's own 404 is not. */
    int unrouted = r.status == 404 && r.body && strstr(r.body, "no such route");
    if (unrouted || r.status == 405 || r.status >= 500 || r.status < 200)
        fail_msg("documented %s %s (%s) answered %d: %.500s", m, tmpl, path, r.status, r.body);
    http_resp_free(&r);
}

/* Every operation in /openapi.json is served, and every route served is
 * documented. The {id} routes are called with a real, finished job. */
static void test_openapi_matches_routes(void **state)
{
    (void)state;
    char *body = small_body(108), id[64];
    http_resp r;
    http_post_json(g_srv.port, SOLVE, NULL, body, &r);
    http_expect_status(&r, 200, "solve");
    if (!http_header(&r, "X-Job-Id", id, sizeof id))
        fail_msg("no X-Job-Id");
    http_resp_free(&r);
    http_get(g_srv.port, "/openapi.json", &r);
    http_expect_status(&r, 200, "GET /openapi.json");
    json_t *doc = http_json(&r), *paths = json_object_get(doc, "paths");
    const char *ver = json_string_value(json_object_get(doc, "openapi"));
    if (!ver || strncmp(ver, "3.1", 3))
        fail_msg("\"openapi\" is %s, expected 3.1.x", ver ? ver : "(missing)");
    assert_true(json_is_object(paths));
    const char *tmpl, *method;
    json_t *item, *op;
    const char *const verbs[] = {"get", "post", "put", "delete", "patch", "head", "options"};
    int ops = 0;
    json_object_foreach(paths, tmpl, item) {
        json_object_foreach(item, method, op) {
            int verb = 0;
            for (size_t v = 0; v < sizeof verbs / sizeof *verbs; v++)
                verb |= !strcmp(method, verbs[v]);
            if (!verb)
                continue;
            call_documented(method, tmpl, id);
            ops++;
        }
    }
    size_t n_routes = 0;
    const srv_route *routes = srv_routes(&n_routes);
    for (size_t i = 0; i < n_routes; i++) {
        char m[16];
        size_t k = 0;
        for (; routes[i].method[k] && k < sizeof m - 1; k++)
            m[k] = (char)tolower((unsigned char)routes[i].method[k]);
        m[k] = '\0';
        if (!json_object_get(json_object_get(paths, routes[i].pattern), m))
            fail_msg("served route %s %s is not in /openapi.json", m, routes[i].pattern);
    }
    assert_true(n_routes >= 13);
    assert_true(ops >= (int)n_routes);
    json_decref(doc);
    http_resp_free(&r);
    free(body);
}

static void expect_metric(const char *text, const char *name, const char *const *labels)
{
    int n;
    metric_sum(text, name, labels, &n);
    if (n > 0)
        return;
    char want[512] = "";
    for (; labels && *labels; labels++)
        snprintf(want + strlen(want), sizeof want - strlen(want), " %s", *labels);
    fail_msg("no sample of %s with labels {%s } in /metrics:\n%.4000s", name, want, text);
}

/* The nqba command links jemalloc (CMakeLists.txt): the live server has
 * it mapped. Sanitizer builds keep their runtime's allocator. */
/* The live server's threads carry their jobs' names (top -H, ps -L). */
static void test_thread_names(void **state)
{
    (void)state;
    static const char *const want[] = {"nq-worker", "nq-store", "nq-watchdog", "nq-parker",
                                       "nq-log",    "nq-ops",   "MHD-worker"};
    int seen[sizeof want / sizeof *want] = {0};
    char dir[64], path[128], name[64];
    snprintf(dir, sizeof dir, "/proc/%d/task", (int)g_srv.pid);
    DIR *d = opendir(dir);
    assert_non_null(d);
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%.16s/comm", dir, e->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue; /* the thread ended meanwhile */
        if (fgets(name, sizeof name, f)) {
            name[strcspn(name, "\n")] = 0;
            for (size_t k = 0; k < sizeof want / sizeof *want; k++)
                seen[k] |= strcmp(name, want[k]) == 0;
        }
        fclose(f);
    }
    closedir(d);
    for (size_t k = 0; k < sizeof want / sizeof *want; k++)
        if (!seen[k])
            fail_msg("no thread named %s in %s", want[k], dir);
}

static void test_allocator(void **state)
{
    (void)state;
#ifndef NQ_BIN_JEMALLOC
    skip();
#else
    char path[64], line[512];
    snprintf(path, sizeof path, "/proc/%d/maps", (int)g_srv.pid);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    int jemalloc = 0;
    while (fgets(line, sizeof line, f))
        if (strstr(line, "/libjemalloc.so"))
            jemalloc = 1;
    fclose(f);
    assert_true(jemalloc);
    http_resp r;
    http_get(g_srv.port, "/healthz", &r);
    assert_int_equal(r.status, 200);
    http_resp_free(&r);
#endif
}

/* ---- the parker's tagged kicks, on a daemon of its own ---- */

/* Two answers deferred with tags 1 and 2 and their own poll intervals
 * (test_kick_tags: far beyond the test, so that only a kick can make the
 * parker look at them). */
typedef struct kick_fixture {
    atomic_int polls[2], ready[2], handled;
    double interval[2];
} kick_fixture;

typedef struct kick_wait {
    kick_fixture *f;
    int k;
} kick_wait;

static int kick_poll(void *cls, double now)
{
    (void)now;
    kick_wait *w = cls;
    atomic_fetch_add(&w->f->polls[w->k], 1);
    return atomic_load(&w->f->ready[w->k]);
}

static void kick_finish(void *cls, http_req *req, http_res *res)
{
    (void)req;
    kick_wait *w = cls;
    http_res_static(res, 200, "text/plain", w->k ? "one" : "zero");
}

static void kick_handler(void *cls, http_req *req, http_res *res)
{
    kick_fixture *f = cls;
    kick_wait *w = nq_arena_alloc(req->arena, sizeof *w);
    assert_non_null(w);
    w->f = f;
    w->k = strcmp(req->path, "/wait/1") == 0;
    res->defer.poll = kick_poll;
    res->defer.finish = kick_finish;
    res->defer.cls = w;
    res->defer.poll_interval = f->interval[w->k];
    res->defer.tag = (uint64_t)w->k + 1;
    atomic_fetch_add(&f->handled, 1);
}

static void kick_fixture_init(kick_fixture *f, double interval0, double interval1)
{
    for (int k = 0; k < 2; k++) {
        atomic_init(&f->polls[k], 0);
        atomic_init(&f->ready[k], 0);
    }
    atomic_init(&f->handled, 0);
    f->interval[0] = interval0;
    f->interval[1] = interval1;
}

/* GET /wait/k on a new connection c, parked once this returns (the k
 * requests before it were). */
static void kick_park(kick_fixture *f, http_conn *c, int port, int k)
{
    assert_int_equal(http_conn_open(c, port), 0);
    assert_int_equal(http_send(c, "GET", k ? "/wait/1" : "/wait/0", NULL, NULL, 0), 0);
    for (int i = 0; i < 200 && atomic_load(&f->handled) < k + 1; i++)
        http_sleep(0.01);
    assert_int_equal(atomic_load(&f->handled), k + 1);
    http_sleep(0.05); /* parked right after the handler returned, the parker asleep again */
}

/* The answer on c within timeout seconds: 200 with body. */
static void kick_expect(http_conn *c, const char *body, double timeout)
{
    http_resp r;
    assert_int_equal(http_read(c, "GET", &r, timeout), 0);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, body);
    http_resp_free(&r);
}

static void kick_end(http_conn c[2], http_daemon *d)
{
    for (int k = 0; k < 2; k++)
        http_conn_close(&c[k]);
    http_daemon_stop(d);
}

/* A daemon of its own for a fixture with these poll intervals, and a
 * request parked on each of the two connections c. */
static http_daemon *kick_start(kick_fixture *f, double interval0, double interval1, http_conn c[2])
{
    kick_fixture_init(f, interval0, interval1);
    http_daemon_opts o = {.host = "127.0.0.1", .threads = 1, .max_connections = 16,
                          .timeout_s = 30, .max_body = 1024, .handler = kick_handler, .cls = f};
    http_daemon *d = NULL;
    nq_err err;
    assert_int_equal(http_daemon_start(&o, &d, &err), 0);
    for (int k = 0; k < 2; k++)
        kick_park(f, &c[k], http_daemon_port(d), k);
    return d;
}

static void test_kick_tags(void **state)
{
    (void)state;
    kick_fixture f;
    http_conn c[2];
    http_daemon *d = kick_start(&f, 60.0, 60.0, c);

    /* Job 0 is ready, but the kick names only tag 2: answer 1 is polled
     * (and still waits), answer 0 is left alone. */
    atomic_store(&f.ready[0], 1);
    uint64_t two = 2, one = 1;
    http_daemon_kick_tags(d, &two, 1);
    http_resp r;
    assert_int_not_equal(http_read(&c[0], "GET", &r, 0.3), 0);
    http_resp_free(&r);
    assert_int_equal(atomic_load(&f.polls[0]), 0);
    assert_int_equal(atomic_load(&f.polls[1]), 1);

    /* Its own tag answers it at once. */
    http_daemon_kick_tags(d, &one, 1);
    kick_expect(&c[0], "zero", 5.0);
    assert_int_equal(atomic_load(&f.polls[1]), 1);

    /* An untagged kick polls everything. */
    atomic_store(&f.ready[1], 1);
    http_daemon_kick(d);
    kick_expect(&c[1], "one", 5.0);
    kick_end(c, d);
}

/* Without kicks the parker polls each answer at its interval, also one
 * parked while it sleeps towards a later poll (the first answer's, a
 * minute away): it is woken for the earlier one. */
static void test_parker_interval(void **state)
{
    (void)state;
    kick_fixture f;
    http_conn c[2];
    http_daemon *d = kick_start(&f, 60.0, 0.02, c);
    /* Ready without a kick: answered within a few of its intervals. */
    atomic_store(&f.ready[1], 1);
    kick_expect(&c[1], "one", 2.0);
    assert_true(atomic_load(&f.polls[1]) >= 2);
    /* The other still waits for its own poll, a minute away; stopping
     * the daemon ends it. */
    assert_int_equal(atomic_load(&f.polls[0]), 0);
    kick_end(c, d);
}

static void test_metric_names(void **state)
{
    (void)state;
    http_resp r;
    char *body = small_body(109), id[64], path[128];
    http_post_json(g_srv.port, SOLVE, NULL, body, &r);
    http_expect_status(&r, 200, "solve");
    if (!http_header(&r, "X-Job-Id", id, sizeof id))
        fail_msg("no X-Job-Id");
    http_resp_free(&r);
    snprintf(path, sizeof path, "/api/v1/jobs/%s", id);
    http_get(g_srv.port, path, &r);
    http_resp_free(&r);
    http_get(g_srv.port, "/healthz", &r);
    http_resp_free(&r);
    char *t = metrics_text(g_srv.port);
    const char *healthz[] = {"route=\"/healthz\"", "method=\"GET\"", "code=\"200\"", NULL};
    const char *job[] = {"route=\"/api/v1/jobs/{id}\"", "method=\"GET\"", "code=\"200\"", NULL};
    const char *solve[] = {"route=\"" SOLVE "\"", "method=\"POST\"", "code=\"200\"", NULL};
    const char *dur[] = {"route=\"/healthz\"", "le=\"+Inf\"", NULL};
    const char *kind[] = {"kind=\"solve\"", NULL}, *solver[] = {"solver=\"exact\"", NULL};
    const char *q[] = {"state=\"queued\"", NULL}, *run[] = {"state=\"running\"", NULL},
               *ok[] = {"state=\"succeeded\"", NULL};
    expect_metric(t, "http_requests_total", healthz);
    expect_metric(t, "http_requests_total", job);
    expect_metric(t, "http_requests_total", solve);
    expect_metric(t, "http_request_duration_seconds_bucket", dur);
    expect_metric(t, "http_request_duration_seconds_count", NULL);
    expect_metric(t, "http_request_duration_seconds_sum", NULL);
    expect_metric(t, "nqba_jobs", q);
    expect_metric(t, "nqba_jobs", run);
    expect_metric(t, "nqba_jobs", ok);
    expect_metric(t, "nqba_job_duration_seconds_bucket", kind);
    expect_metric(t, "nqba_job_duration_seconds_count", kind);
    expect_metric(t, "nqba_solver_runs_total", solver);
    const char *plain[] = {"nqba_cache_hits_total", "nqba_cache_misses_total",
                           "process_cpu_seconds_total", "process_resident_memory_bytes",
                           "process_open_fds", "process_start_time_seconds"};
    for (size_t i = 0; i < sizeof plain / sizeof *plain; i++)
        expect_metric(t, plain[i], NULL);
    const char *types[] = {"# TYPE http_requests_total counter",
                           "# TYPE http_request_duration_seconds histogram",
                           "# TYPE nqba_jobs gauge", "# TYPE nqba_job_duration_seconds histogram"};
    for (size_t i = 0; i < sizeof types / sizeof *types; i++)
        if (!strstr(t, types[i]))
            fail_msg("/metrics lacks '%s'", types[i]);
    free(t);
    free(body);
}

/* ---- servers of their own ---- */

/* --max-body 1024: a valid body padded to 1000 bytes is served, to 2000
 * bytes it is 413; a huge Content-Length is refused without the body. */
static void test_body_limit(void **state)
{
    (void)state;
    const char *opts[] = {"--max-body", "1024", NULL};
    http_server_start(&g_own, opts);
    const char *base = "{\"model\": {\"linear\": {\"a\": -1}}, \"options\": {\"solver\": \"exact\"}}";
    const size_t sizes[] = {1000, 2000};
    const int want[] = {200, 413};
    for (int i = 0; i < 2; i++) {
        char *b = malloc(sizes[i] + 1);
        assert_non_null(b);
        memset(b, ' ', sizes[i]);
        memcpy(b, base, strlen(base));
        b[sizes[i]] = '\0';
        http_resp r;
        http_post_json(g_own.port, SOLVE, NULL, b, &r);
        http_expect_status(&r, want[i], sizes[i] < 1024 ? "body under --max-body"
                                                         : "body over --max-body");
        if (want[i] == 413)
            http_expect_subset(&r, "{\"type\": \"" PROBLEM "too-large\", \"status\": 413}");
        http_resp_free(&r);
        free(b);
    }
    http_conn c;
    assert_int_equal(http_conn_open(&c, g_own.port), 0);
    http_send(&c, "POST", DECIDE, "Content-Type: application/json\r\nContent-Length: 999999999999\r\n",
              NULL, 0);
    http_resp r;
    if (http_read(&c, "POST", &r, 5.0) != 0)
        fail_msg("no answer within 5 s to a huge Content-Length with no body (status %d)", r.status);
    http_expect_status(&r, 413, "huge Content-Length");
    http_resp_free(&r);
    http_conn_close(&c);
    assert_int_equal(http_server_stop(&g_own, 15.0), 0);
    http_server_cleanup(&g_own);
}

/* POST a solve body padded with spaces to n bytes; returns the status. */
static int post_padded(int port, size_t n)
{
    const char *base = "{\"model\": {\"linear\": {\"a\": -1}}, \"options\": {\"solver\": \"exact\"}}";
    char *b = malloc(n + 1);
    assert_non_null(b);
    memset(b, ' ', n);
    memcpy(b, base, strlen(base));
    b[n] = '\0';
    http_resp r;
    http_post_json(port, SOLVE, NULL, b, &r);
    int status = r.status;
    http_resp_free(&r);
    free(b);
    return status;
}

/* Configuration precedence: flags, then NQBA_* environment, then the config
 * file, seen through --max-body (config 1500, environment 3000, flag 1024). */
static void test_config_precedence(void **state)
{
    (void)state;
    char conf[HTTP_PATH_LEN];
    snprintf(conf, sizeof conf, "%s/nqba-test-%d.conf", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
             (int)getpid());
    FILE *f = fopen(conf, "w");
    assert_non_null(f);
    fprintf(f, "# limits\nmax-body = 1500\n");
    fclose(f);
    const char *with_flag[] = {"--config", conf, "--max-body", "1024", NULL};
    const char *no_flag[] = {"--config", conf, NULL};
    struct { const char *const *args; const char *env; int at_1000, at_2000; } runs[] = {
        {with_flag, "3000", 200, 413}, /* the flag wins */
        {no_flag, "3000", 200, 200},   /* the environment beats the file */
        {no_flag, NULL, 200, 413},     /* the file applies */
    };
    for (int i = 0; i < 3; i++) {
        if (runs[i].env)
            setenv("NQBA_MAX_BODY", runs[i].env, 1);
        else
            unsetenv("NQBA_MAX_BODY");
        http_server_start(&g_own, runs[i].args);
        unsetenv("NQBA_MAX_BODY");
        int s1 = post_padded(g_own.port, 1000), s2 = post_padded(g_own.port, 2000);
        if (s1 != runs[i].at_1000 || s2 != runs[i].at_2000)
            fail_msg("run %d: 1000 bytes -> %d (want %d), 2000 bytes -> %d (want %d)", i, s1,
                     runs[i].at_1000, s2, runs[i].at_2000);
        assert_int_equal(http_server_stop(&g_own, 15.0), 0);
        http_server_cleanup(&g_own);
    }
    unlink(conf);
}

/* --workers 1 --max-queue 1: one job running and one queued fill it; the
 * next is 429 queue-full with Retry-After: 1. */
static void test_queue_full(void **state)
{
    (void)state;
    const char *opts[] = {"--workers", "1", "--max-queue", "1", NULL};
    http_server_start(&g_own, opts);
    char *a = long_body(110, 30.0), *b = long_body(111, 30.0), *c = long_body(112, 30.0);
    char ida[64], idb[64], v[32];
    submit_async(g_own.port, SOLVE, a, ida);
    job_wait(g_own.port, ida, "running", 10.0);
    submit_async(g_own.port, SOLVE, b, idb);
    http_resp r;
    http_get(g_own.port, "/readyz", &r);
    http_expect_subset(&r, "{\"status\": \"ready\", \"workers\": 1, \"queued\": 1, \"running\": 1}");
    http_resp_free(&r);
    http_post_json(g_own.port, SOLVE, "Prefer: respond-async\r\n", c, &r);
    http_expect_status(&r, 429, "submit to a full queue");
    http_expect_subset(&r, "{\"type\": \"" PROBLEM "queue-full\", \"status\": 429}");
    if (!http_header(&r, "Retry-After", v, sizeof v) || strcmp(v, "1"))
        fail_msg("429 without Retry-After: 1");
    http_resp_free(&r);
    job_delete(g_own.port, idb, 200);
    json_t *j = job_get(g_own.port, idb);
    assert_string_equal(str_member(j, "state"), "cancelled"); /* queued: cancelled at once */
    json_decref(j);
    job_delete(g_own.port, ida, 200);
    assert_int_equal(http_server_stop(&g_own, 15.0), 0);
    http_server_cleanup(&g_own);
    free(a);
    free(b);
    free(c);
}

/* During the drain /readyz never answers 200: a fresh connection is
 * refused (or closed) or gets 503 draining. Returns 1 once the server has
 * exited. */
static int probe_readyz_while_draining(http_server *s)
{
    http_resp r;
    int rc = http_try_for(s->port, "GET", "/readyz", NULL, NULL, 0, 1.0, &r);
    if (rc == 0 && r.status != 503)
        fail_msg("/readyz answered %d during the drain: %.300s", r.status, r.body);
    if (rc == 0)
        http_expect_subset(&r, "{\"status\": \"draining\"}");
    else if (r.status == 0 && r.seconds >= 0.9)
        fail_msg("/readyz during the drain: connection accepted, never answered");
    http_resp_free(&r);
    return http_server_wait(s, 0.05);
}

/* SIGTERM with a 30 s job running and a 1 s one finishing: /readyz turns
 * 503 (or refuses) at once, the short job's event stream still gets its
 * result, and the server exits 0 within --drain + 2 s. */
static void test_graceful_shutdown(void **state)
{
    (void)state;
    const char *opts[] = {"--drain", "2", "--workers", "2", NULL};
    http_server_start(&g_own, opts);
    char *lng = long_body(113, 30.0), *shrt = long_body(114, 1.0), idl[64], ids[64];
    submit_async(g_own.port, SOLVE, lng, idl);
    submit_async(g_own.port, SOLVE, shrt, ids);
    job_wait(g_own.port, idl, "running", 10.0);
    job_wait(g_own.port, ids, "running", 10.0);
    http_conn ka, ev;
    http_resp head;
    sse_open(&ev, g_own.port, ids, &head);
    assert_int_equal(http_conn_open(&ka, g_own.port), 0);
    http_resp r;
    assert_int_equal(http_send(&ka, "GET", "/readyz", NULL, NULL, 0), 0);
    assert_int_equal(http_read(&ka, "GET", &r, HTTP_TIMEOUT_S), 0);
    http_expect_status(&r, 200, "readyz before SIGTERM");
    http_resp_free(&r);
    double t0 = http_now();
    kill(g_own.pid, SIGTERM);
    http_sleep(0.05);
    /* On a connection that was open before: 503, or closed. */
    if (http_send(&ka, "GET", "/readyz", NULL, NULL, 0) == 0 &&
        http_read(&ka, "GET", &r, 2.0) == 0 && r.status != 503)
        fail_msg("/readyz on a kept-alive connection answered %d during the drain", r.status);
    http_resp_free(&r);
    http_conn_close(&ka);
    int exited = 0;
    while (!exited && http_now() - t0 < 2.0 + 2.0 + 0.5)
        exited = probe_readyz_while_draining(&g_own);
    double took = http_now() - t0;
    sse_event evs[MAX_EVENTS];
    http_read_body(&ev, &head, http_now() + 1.0, 0); /* what came before the server went */
    int n = sse_parse(head.body ? head.body : "", evs, MAX_EVENTS);
    if (!exited)
        fail_msg("server still running %.1f s after SIGTERM (--drain 2)", took);
    if (g_own.status != 0)
        fail_msg("server exited with %d after SIGTERM, expected 0", g_own.status);
    if (took > 4.0)
        fail_msg("server took %.2f s to exit after SIGTERM (--drain 2: want <= 4 s)", took);
    if (n < 1 || strcmp(evs[n - 1].name, "result"))
        fail_msg("the 1 s job's event stream did not end with its result during the drain:\n%.2000s",
                 head.body ? head.body : "");
    sse_free(evs, n);
    http_resp_free(&head);
    http_conn_close(&ev);
    http_server_cleanup(&g_own);
    free(lng);
    free(shrt);
}

/* ---- setup ---- */

static int server_up(void **state)
{
    (void)state;
    if (!getenv("NQ_SOURCE_DIR"))
        return -1;
    const char *opts[] = {"--workers", "2", NULL};
    http_server_start(&g_srv, opts);
    return 0;
}

static int own_down(void **state)
{
    (void)state;
    http_server_cleanup(&g_own);
    return 0;
}

static int server_down(void **state)
{
    (void)state;
    int status = http_server_stop(&g_srv, 15.0);
    if (status != 0) {
        char *err = http_server_stderr(&g_srv);
        fprintf(stderr, "nqba serve exited with %d after SIGTERM; stderr:\n%s\n", status, err);
        free(err);
    }
    http_server_cleanup(&g_srv);
    return status == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sse_progress_then_result),
        cmocka_unit_test(test_cancel_running_job),
        cmocka_unit_test(test_async_then_poll),
        cmocka_unit_test(test_idempotency),
        cmocka_unit_test(test_cache),
        cmocka_unit_test(test_traceparent),
        cmocka_unit_test(test_request_id),
        cmocka_unit_test(test_access_log),
        cmocka_unit_test(test_keep_alive),
        cmocka_unit_test(test_header_size),
        cmocka_unit_test(test_deep_nesting),
        cmocka_unit_test(test_huge_content_length_default),
        cmocka_unit_test(test_openapi_matches_routes),
        cmocka_unit_test(test_metric_names),
        cmocka_unit_test(test_allocator),
        cmocka_unit_test(test_access_log_buffer),
        cmocka_unit_test(test_thread_names),
        cmocka_unit_test(test_kick_tags),
        cmocka_unit_test(test_parker_interval),
        cmocka_unit_test_teardown(test_body_limit, own_down),
        cmocka_unit_test_teardown(test_config_precedence, own_down),
        cmocka_unit_test_teardown(test_queue_full, own_down),
        cmocka_unit_test_teardown(test_graceful_shutdown, own_down),
    };
    return cmocka_run_group_tests(tests, server_up, server_down);
}
