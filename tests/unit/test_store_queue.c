/* test_store_queue.c - the shared job queue (include/nqba/queue.h) on
 * PostgreSQL: the exact request text, claim order, SKIP LOCKED under
 * concurrent workers, lease expiry with stale tokens, poison jobs,
 * idempotency keys, cancellation, notifications (and a listener that
 * loses its connection), counts; and the refusal on SQLite.
 *
 * The PostgreSQL tests need NQ_TEST_PG_URL (scripts/testdb.sh) and are
 * skipped without it; each runs in a fresh schema (store_fixture.h).
 * Notifications are database-wide, not per schema, so the listener tests
 * only look at payloads naming their own jobs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h> /* after the headers it needs */

#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nqba/clock.h"
#include "nqba/queue.h"
#include "store_fixture.h"

/* Keys in no sorted order and a number with a trailing zero: JSONB would
 * give back {"a": [1.50, 2], "z": 1}. */
#define BODY "{\"z\":1,\"a\":[1.50,2]}"
#define BODY_TEXT "{\"y\":true,\"b\":\"text\"}"
#define HASH_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define HASH_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

/* ---- helpers ------------------------------------------------------------------ */

static nq_store *open_url(const char *url, int pool)
{
    nq_store *s = NULL;
    nq_err err;
    nq_err_clear(&err);
    int rc = nq_store_open(url, pool, &s, &err);
    if (rc)
        print_message("open: %s\n", err.msg);
    assert_int_equal(rc, NQ_OK);
    rc = nq_store_migrate(s, NULL, &err);
    if (rc)
        print_message("migrate: %s\n", err.msg);
    assert_int_equal(rc, NQ_OK);
    return s;
}

/* A migrated store in a fresh schema; skips the test without a server. */
static nq_store *open_pg(backend *b, int pool)
{
    int f = fresh("postgresql", b);
    if (f == 1)
        skip();
    assert_int_equal(f, 0);
    return open_url(b->url, pool);
}

static void must(int rc, const nq_err *err, const char *what)
{
    if (rc)
        print_message("%s: %d %s: %s\n", what, rc, err->where, err->msg);
    assert_int_equal(rc, NQ_OK);
}

static void enqueue_full(nq_store *s, const char *priority, const char *request,
                         const char *request_text, char id[33])
{
    nq_queue_job j = {"solve", priority, request, request_text, NULL, NULL};
    nq_err err;
    int existing = -1;
    must(nq_queue_enqueue(s, &j, id, &existing, &err), &err, "enqueue");
    assert_int_equal(existing, 0);
    assert_int_equal(strlen(id), 32);
    assert_int_equal(strspn(id, "0123456789abcdef"), 32);
}

static void enqueue(nq_store *s, const char *priority, char id[33])
{
    enqueue_full(s, priority, BODY, NULL, id);
}

/* Claim expecting a job (got = 1). */
static void claim(nq_store *s, const char *node, double lease, int max_attempts,
                  nq_queue_claimed *c)
{
    nq_err err;
    int got = -1, poisoned = -1;
    must(nq_queue_claim(s, node, lease, max_attempts, c, &got, &poisoned, &err), &err, "claim");
    assert_int_equal(got, 1);
    assert_int_equal(poisoned, 0);
    assert_int_equal(strlen(c->token), 32);
}

static void claim_none(nq_store *s)
{
    nq_queue_claimed c;
    nq_err err;
    int got = -1;
    must(nq_queue_claim(s, "node-x", 30, 3, &c, &got, NULL, &err), &err, "claim");
    assert_int_equal(got, 0);
    assert_null(c.request);
}

/* As claim_none, reporting how many candidates were failed as poison. */
static void claim_none_counting(nq_store *s, int *poisoned)
{
    nq_queue_claimed c;
    nq_err err;
    int got = -1;
    must(nq_queue_claim(s, "node-x", 30, 3, &c, &got, poisoned, &err), &err, "claim");
    assert_int_equal(got, 0);
}

static void get(nq_store *s, const char *id, nq_queue_row *r)
{
    nq_err err;
    must(nq_queue_get(s, id, r, &err), &err, "get");
}

static void expect_state(nq_store *s, const char *id, const char *state)
{
    nq_queue_row r;
    get(s, id, &r);
    assert_string_equal(r.state, state);
    nq_queue_row_free(&r);
}

static void finish(nq_store *s, const char *id, const char *token, const char *state,
                   const char *result, const char *error, int want_applied)
{
    nq_err err;
    int applied = -1;
    must(nq_queue_finish(s, id, token, state, result, error, &applied, &err), &err, "finish");
    assert_int_equal(applied, want_applied);
}

static void expect_counts(nq_store *s, int64_t q, int64_t r, int64_t ok, int64_t f, int64_t c)
{
    int64_t n[5] = {-1, -1, -1, -1, -1};
    nq_err err;
    must(nq_queue_counts(s, n, &err), &err, "counts");
    const int64_t want[5] = {q, r, ok, f, c};
    for (int i = 0; i < 5; i++)
        assert_int_equal(n[i], want[i]);
}

static void nap(double seconds)
{
    usleep((useconds_t)(seconds * 1e6));
}

/* ---- 1. the round trip ------------------------------------------------------------ */

static void test_enqueue_claim(void **state)
{
    (void)state;
    backend b;
    nq_store *s = open_pg(&b, 2);
    char id[33];
    enqueue_full(s, "normal", BODY, BODY_TEXT, id);

    nq_queue_row r;
    get(s, id, &r);
    assert_string_equal(r.id, id);
    assert_string_equal(r.kind, "solve");
    assert_string_equal(r.state, "queued");
    assert_string_equal(r.priority, "normal");
    assert_string_equal(r.node, "");
    assert_int_equal(r.attempts, 0);
    assert_true(r.created_at > 1e9);
    assert_true(r.started_at == 0 && r.finished_at == 0 && r.lease_until == 0);
    assert_null(r.result);
    double created = r.created_at;
    nq_queue_row_free(&r);

    nq_queue_claimed c;
    claim(s, "node-a", 30, 3, &c);
    assert_string_equal(c.id, id);
    assert_string_equal(c.kind, "solve");
    assert_string_equal(c.priority, "normal");
    assert_int_equal(strlen(c.request), strlen(BODY));
    assert_memory_equal(c.request, BODY, strlen(BODY));
    assert_string_equal(c.request_text, BODY_TEXT);
    assert_int_equal(c.attempts, 1);
    assert_int_equal(c.reclaimed, 0);
    assert_true(c.created_at == created);
    claim_none(s);

    get(s, id, &r);
    assert_string_equal(r.state, "running");
    assert_string_equal(r.node, "node-a");
    assert_int_equal(r.attempts, 1);
    assert_true(r.started_at >= created);
    /* The lease is the database clock's now + 30 s. */
    assert_true(r.lease_until > r.started_at + 29 && r.lease_until < r.started_at + 31);
    nq_queue_row_free(&r);

    /* The result comes back as written (JSON, not JSONB). */
    finish(s, id, c.token, "succeeded", "{\"x\":2,\"a\":1.50}", NULL, 1);
    get(s, id, &r);
    assert_string_equal(r.state, "succeeded");
    assert_string_equal(r.result, "{\"x\":2,\"a\":1.50}");
    assert_null(r.error);
    assert_true(r.finished_at >= r.started_at);
    assert_true(r.lease_until == 0);
    nq_queue_row_free(&r);
    nq_queue_claim_free(&c);

    /* request_text NULL: the decision stores the request itself. */
    enqueue(s, "low", id);
    claim(s, "node-a", 30, 3, &c);
    assert_string_equal(c.request_text, BODY);
    nq_queue_claim_free(&c);

    nq_err err;
    assert_int_equal(nq_queue_get(s, "0123456789abcdef0123456789abcdef", &r, &err), NQ_ENOTFOUND);
    nq_queue_job bad = {"solve", "urgent", BODY, NULL, NULL, NULL};
    int existing;
    assert_int_equal(nq_queue_enqueue(s, &bad, id, &existing, &err), NQ_EINVAL);
    assert_string_equal(err.where, "priority");
    nq_store_close(s);
}

/* ---- 2. order ------------------------------------------------------------------------ */

static void test_order(void **state)
{
    (void)state;
    backend b;
    nq_store *s = open_pg(&b, 2);
    char low[33], n1[33], high[33], n2[33];
    enqueue(s, "low", low);
    enqueue(s, "normal", n1);
    enqueue(s, "high", high);
    enqueue(s, "normal", n2);
    const char *want[4] = {high, n1, n2, low};
    const char *prio[4] = {"high", "normal", "normal", "low"};
    for (int i = 0; i < 4; i++) {
        nq_queue_claimed c;
        claim(s, "node-a", 30, 3, &c);
        assert_string_equal(c.id, want[i]);
        assert_string_equal(c.priority, prio[i]);
        nq_queue_claim_free(&c);
    }
    claim_none(s);
    nq_store_close(s);
}

/* ---- 3. SKIP LOCKED ------------------------------------------------------------------ */

#define JOBS 40
#define WORKERS 4

typedef struct worker {
    nq_store *s;
    char node[16];
    char ids[JOBS][33];
    int n, failed;
} worker;

/* No cmocka asserts off the main thread: failures are counted. */
static void *work(void *arg)
{
    worker *w = arg;
    for (;;) {
        nq_queue_claimed c;
        nq_err err;
        int got = 0;
        if (nq_queue_claim(w->s, w->node, 30, 3, &c, &got, NULL, &err) != NQ_OK) {
            w->failed++;
            break;
        }
        if (!got)
            break;
        if (w->n < JOBS)
            snprintf(w->ids[w->n], 33, "%s", c.id);
        w->n++;
        nq_queue_claim_free(&c);
    }
    return NULL;
}

static void test_skip_locked(void **state)
{
    (void)state;
    backend b;
    nq_store *s = open_pg(&b, WORKERS + 2);
    char ids[JOBS][33];
    for (int i = 0; i < JOBS; i++)
        enqueue(s, i % 3 == 0 ? "high" : "normal", ids[i]);
    static worker w[WORKERS];
    pthread_t t[WORKERS];
    memset(w, 0, sizeof w);
    for (int i = 0; i < WORKERS; i++) {
        w[i].s = s;
        snprintf(w[i].node, sizeof w[i].node, "node-%d", i);
        assert_int_equal(pthread_create(&t[i], NULL, work, &w[i]), 0);
    }
    for (int i = 0; i < WORKERS; i++)
        pthread_join(t[i], NULL);
    int total = 0;
    for (int i = 0; i < WORKERS; i++) {
        assert_int_equal(w[i].failed, 0);
        total += w[i].n;
    }
    assert_int_equal(total, JOBS);
    for (int k = 0; k < JOBS; k++) {
        int seen = 0;
        for (int i = 0; i < WORKERS; i++)
            for (int j = 0; j < w[i].n; j++)
                seen += strcmp(w[i].ids[j], ids[k]) == 0;
        assert_int_equal(seen, 1);
    }
    /* Each job's node is the worker that reported it. */
    for (int i = 0; i < WORKERS; i++) {
        for (int j = 0; j < w[i].n; j++) {
            nq_queue_row r;
            get(s, w[i].ids[j], &r);
            assert_string_equal(r.node, w[i].node);
            assert_int_equal(r.attempts, 1);
            nq_queue_row_free(&r);
        }
    }
    expect_counts(s, 0, JOBS, 0, 0, 0);
    nq_store_close(s);
}

/* ---- 4. lease expiry and stale tokens ------------------------------------------------ */

static void test_lease_expiry(void **state)
{
    (void)state;
    backend b;
    nq_store *s = open_pg(&b, 2);
    nq_err err;
    char id[33];
    enqueue(s, "normal", id);
    nq_queue_claimed a, c;
    claim(s, "node-a", 0.2, 3, &a);
    assert_int_equal(a.reclaimed, 0);
    claim_none(s); /* the lease still holds */
    nap(0.4);
    claim(s, "node-b", 30, 3, &c);
    assert_string_equal(c.id, id);
    assert_int_equal(c.reclaimed, 1);
    assert_int_equal(c.attempts, 2);
    assert_string_not_equal(c.token, a.token);
    assert_memory_equal(c.request, BODY, strlen(BODY) + 1);

    nq_queue_row before, after;
    get(s, id, &before);
    assert_string_equal(before.node, "node-b");
    int cancel = -1;
    assert_int_equal(nq_queue_heartbeat(s, id, a.token, 30, &cancel, &err), NQ_ENOTFOUND);
    assert_int_equal(nq_queue_progress(s, id, a.token, "{\"p\":1}", &err), NQ_ENOTFOUND);
    finish(s, id, a.token, "succeeded", "{\"stale\":true}", NULL, 0);
    get(s, id, &after);
    assert_string_equal(after.state, "running");
    assert_string_equal(after.node, "node-b");
    assert_int_equal(after.attempts, 2);
    assert_true(after.lease_until == before.lease_until);
    assert_null(after.result);
    assert_null(after.progress);
    nq_queue_row_free(&before);
    nq_queue_row_free(&after);

    must(nq_queue_heartbeat(s, id, c.token, 60, &cancel, &err), &err, "heartbeat");
    assert_int_equal(cancel, 0);
    get(s, id, &after);
    assert_true(after.lease_until > after.started_at + 59);
    nq_queue_row_free(&after);

    const char *e = "{\"code\":\"solver\",\"pointer\":\"/n\",\"detail\":\"no\"}";
    finish(s, id, c.token, "failed", NULL, e, 1);
    finish(s, id, c.token, "failed", NULL, e, 0); /* idempotent */
    finish(s, id, c.token, "succeeded", "{}", NULL, 0);
    get(s, id, &after);
    assert_string_equal(after.state, "failed");
    assert_string_equal(after.error, e);
    nq_queue_row_free(&after);
    assert_int_equal(nq_queue_heartbeat(s, id, c.token, 30, &cancel, &err), NQ_ENOTFOUND);
    assert_int_equal(nq_queue_finish(s, id, c.token, "running", NULL, NULL, &cancel, &err),
                     NQ_EINVAL);
    nq_queue_claim_free(&a);
    nq_queue_claim_free(&c);
    nq_store_close(s);
}

/* ---- 5. poison ----------------------------------------------------------------------- */

static void test_poison(void **state)
{
    (void)state;
    backend b;
    nq_store *s = open_pg(&b, 2);
    nq_err err;
    char id[33], other[33];
    enqueue(s, "high", id);
    nq_queue_claimed c;
    claim(s, "node-a", 0.1, 2, &c);
    nq_queue_claim_free(&c);
    nap(0.25);
    claim(s, "node-b", 0.1, 2, &c);
    assert_int_equal(c.reclaimed, 1);
    assert_int_equal(c.attempts, 2);
    nq_queue_claim_free(&c);
    nap(0.25);

    int got = -1, poisoned = -1;
    must(nq_queue_claim(s, "node-c", 30, 2, &c, &got, &poisoned, &err), &err, "claim");
    assert_int_equal(got, 0);
    assert_int_equal(poisoned, 1);

    nq_queue_row r;
    get(s, id, &r);
    assert_string_equal(r.state, "failed");
    assert_int_equal(r.attempts, 2);
    assert_true(r.finished_at > 0);
    assert_true(r.lease_until == 0);
    json_t *e = json_loads(r.error, 0, NULL);
    assert_non_null(e);
    assert_string_equal(json_string_value(json_object_get(e, "code")), "internal");
    assert_true(json_is_null(json_object_get(e, "pointer")));
    const char *detail = json_string_value(json_object_get(e, "detail"));
    assert_non_null(detail);
    assert_non_null(strstr(detail, "2 attempts"));
    json_decref(e);
    nq_queue_row_free(&r);

    /* Poison is skipped on the way to a good job in the same call. */
    enqueue(s, "high", id);
    enqueue(s, "low", other);
    claim(s, "node-a", 0.1, 1, &c);
    assert_string_equal(c.id, id);
    nq_queue_claim_free(&c);
    nap(0.25);
    must(nq_queue_claim(s, "node-c", 30, 1, &c, &got, &poisoned, &err), &err, "claim");
    assert_int_equal(got, 1);
    assert_int_equal(poisoned, 1);
    assert_string_equal(c.id, other);
    nq_queue_claim_free(&c);
    expect_state(s, id, "failed");

    assert_int_equal(nq_queue_claim(s, "node-c", 30, 0, &c, &got, NULL, &err), NQ_EINVAL);
    assert_int_equal(nq_queue_claim(s, "node-c", 0, 1, &c, &got, NULL, &err), NQ_EINVAL);
    nq_store_close(s);
}

/* ---- 6. idempotency ------------------------------------------------------------------ */

static void test_idempotency(void **state)
{
    (void)state;
    backend b;
    nq_store *s = open_pg(&b, 2);
    nq_err err;
    char id1[33], id2[33], id3[33];
    int existing = -1;
    nq_queue_job j = {"solve", "normal", BODY, NULL, "key-1", HASH_A};
    must(nq_queue_enqueue(s, &j, id1, &existing, &err), &err, "enqueue");
    assert_int_equal(existing, 0);
    must(nq_queue_enqueue(s, &j, id2, &existing, &err), &err, "again");
    assert_int_equal(existing, 1);
    assert_string_equal(id2, id1);

    j.request_hash = HASH_B;
    assert_int_equal(nq_queue_enqueue(s, &j, id3, &existing, &err), NQ_EINVAL);
    assert_string_equal(err.where, "Idempotency-Key");
    assert_string_equal(err.msg, "Idempotency-Key reused with a different request");
    assert_int_equal(existing, 0);

    j.idem_key = "key-2";
    j.request_hash = HASH_A;
    must(nq_queue_enqueue(s, &j, id3, &existing, &err), &err, "other key");
    assert_int_equal(existing, 0);
    assert_string_not_equal(id3, id1);

    /* Without a key the same request is a new job each time. */
    j.idem_key = NULL;
    must(nq_queue_enqueue(s, &j, id2, &existing, &err), &err, "no key");
    assert_string_not_equal(id2, id1);
    assert_string_not_equal(id2, id3);
    expect_counts(s, 3, 0, 0, 0, 0);

    /* The key stays bound to its job after the job ended. */
    nq_queue_claimed c;
    claim(s, "node-a", 30, 3, &c);
    finish(s, c.id, c.token, "succeeded", "{}", NULL, 1);
    nq_queue_claim_free(&c);
    j.idem_key = "key-1";
    must(nq_queue_enqueue(s, &j, id2, &existing, &err), &err, "after the end");
    assert_int_equal(existing, 1);
    assert_string_equal(id2, id1);
    nq_store_close(s);
}

/* ---- 7. cancel ----------------------------------------------------------------------- */

static void test_cancel(void **state)
{
    (void)state;
    backend b;
    nq_store *s = open_pg(&b, 2);
    nq_err err;
    char queued[33], running[33];
    int now = -1, cancel = -1;
    enqueue(s, "normal", queued);
    must(nq_queue_cancel(s, queued, &now, &err), &err, "cancel queued");
    assert_int_equal(now, 1);
    nq_queue_row r;
    get(s, queued, &r);
    assert_string_equal(r.state, "cancelled");
    assert_true(r.finished_at > 0);
    nq_queue_row_free(&r);
    claim_none(s);

    enqueue(s, "normal", running);
    nq_queue_claimed c;
    claim(s, "node-a", 30, 3, &c);
    must(nq_queue_heartbeat(s, running, c.token, 30, &cancel, &err), &err, "heartbeat");
    assert_int_equal(cancel, 0);
    must(nq_queue_cancel(s, running, &now, &err), &err, "cancel running");
    assert_int_equal(now, 0);
    get(s, running, &r);
    assert_string_equal(r.state, "running");
    assert_int_equal(r.cancel_requested, 1);
    nq_queue_row_free(&r);
    must(nq_queue_heartbeat(s, running, c.token, 30, &cancel, &err), &err, "heartbeat");
    assert_int_equal(cancel, 1);
    finish(s, running, c.token, "cancelled", NULL, NULL, 1);
    nq_queue_claim_free(&c);

    assert_int_equal(nq_queue_cancel(s, running, &now, &err), NQ_EINVAL);
    assert_int_equal(nq_queue_cancel(s, queued, &now, &err), NQ_EINVAL);
    assert_int_equal(nq_queue_cancel(s, "ffffffffffffffffffffffffffffffff", &now, &err),
                     NQ_ENOTFOUND);
    expect_counts(s, 0, 0, 0, 0, 2);

    /* A cancel asked while the job ran, and its worker died before its
     * next heartbeat: the next claim ends it cancelled, it never runs again. */
    char orphan[33];
    enqueue(s, "normal", orphan);
    claim(s, "node-a", 0.1, 3, &c);
    must(nq_queue_cancel(s, orphan, &now, &err), &err, "cancel orphan");
    assert_int_equal(now, 0);
    nq_queue_claim_free(&c);
    usleep(300000);
    int poisoned = -1;
    claim_none_counting(s, &poisoned);
    assert_int_equal(poisoned, 0);
    get(s, orphan, &r);
    assert_string_equal(r.state, "cancelled");
    assert_int_equal(r.attempts, 1);
    assert_true(r.finished_at > 0);
    nq_queue_row_free(&r);
    expect_counts(s, 0, 0, 0, 0, 3);
    nq_store_close(s);
}

/* ---- 8. notifications ----------------------------------------------------------------- */

/* The next event about id within 2 s (others' payloads are skipped). */
static void expect_event(nq_queue_listener *l, const char *id, const char *event)
{
    double end = nq_clock_s() + 2.0;
    char buf[128], want[128];
    snprintf(want, sizeof want, "%s %s", id, event);
    nq_err err;
    for (;;) {
        double left = end - nq_clock_s();
        assert_true(left > 0);
        int rc = nq_queue_next(l, left, buf, sizeof buf, &err);
        if (rc < 0)
            print_message("next: %s\n", err.msg);
        assert_true(rc >= 0);
        assert_int_equal(rc, 1); /* not a timeout */
        if (strncmp(buf, id, 32) == 0) {
            assert_string_equal(buf, want);
            return;
        }
    }
}

static void test_listen(void **state)
{
    (void)state;
    backend b;
    nq_store *s = open_pg(&b, 2);
    nq_store *other = open_url(b.url, 1); /* another node */
    nq_err err;
    nq_queue_listener *l = NULL, *wake = NULL;
    must(nq_queue_listen(s, NQ_QUEUE_EVENTS, &l, &err), &err, "listen");
    must(nq_queue_listen(s, NQ_QUEUE_WORK, &wake, &err), &err, "listen work");

    char id[33], buf[128];
    enqueue(other, "normal", id);
    expect_event(l, id, "queued");
    assert_int_equal(nq_queue_next(wake, 2.0, buf, sizeof buf, &err), 1);
    assert_string_equal(buf, "");

    nq_queue_claimed c;
    claim(other, "node-b", 30, 3, &c);
    expect_event(l, id, "running");
    must(nq_queue_progress(other, id, c.token, "{\"done\":0.5}", &err), &err, "progress");
    expect_event(l, id, "progress");
    nq_queue_row r;
    get(s, id, &r);
    assert_string_equal(r.progress, "{\"done\":0.5}");
    nq_queue_row_free(&r);
    finish(other, id, c.token, "succeeded", "{}", NULL, 1);
    expect_event(l, id, "final");
    nq_queue_claim_free(&c);

    int now;
    enqueue(other, "normal", id);
    expect_event(l, id, "queued");
    must(nq_queue_cancel(other, id, &now, &err), &err, "cancel");
    expect_event(l, id, "cancel");
    expect_event(l, id, "final");

    /* Nothing pending: 0 after about the timeout. On a channel of this
     * process's own, as other processes may be using the queue's. */
    char quiet[40];
    snprintf(quiet, sizeof quiet, "nqt_quiet_%d", (int)getpid());
    nq_queue_listener *q = NULL;
    must(nq_queue_listen(s, quiet, &q, &err), &err, "listen quiet");
    double t0 = nq_clock_s();
    assert_int_equal(nq_queue_next(q, 0.3, buf, sizeof buf, &err), 0);
    double took = nq_clock_s() - t0;
    assert_true(took >= 0.25 && took < 1.5);
    nq_queue_listener_free(q);

    /* A cut payload still ends in NUL. */
    enqueue(other, "normal", id);
    char small[8];
    assert_int_equal(nq_queue_next(l, 2.0, small, sizeof small, &err), 1);
    assert_int_equal(strlen(small), sizeof small - 1);

    nq_queue_listener *bad = NULL;
    assert_int_equal(nq_queue_listen(s, "bad channel", &bad, &err), NQ_EINVAL);
    assert_null(bad);
    nq_queue_listener_free(l);
    nq_queue_listener_free(wake);
    nq_store_close(other);
    nq_store_close(s);
}

/* The listener's connection is killed: one NQ_EUNAVAIL, then the next call
 * reconnects, listens again and hears new notifications. A channel of this
 * process's own, so that nothing else arrives first. */
static void test_listen_reconnect(void **state)
{
    (void)state;
    backend b;
    nq_store *probe = open_pg(&b, 1);
    nq_store_close(probe);
    char app[48], channel[48], url[900], sql[256], buf[128];
    snprintf(app, sizeof app, "nqtq_%d", (int)getpid());
    snprintf(channel, sizeof channel, "nqt_re_%d", (int)getpid());
    snprintf(url, sizeof url, "%s&application_name=%s", b.url, app);
    nq_store *s = open_url(url, 2);
    nq_err err;
    nq_queue_listener *l = NULL;
    must(nq_queue_listen(s, channel, &l, &err), &err, "listen");
    snprintf(sql, sizeof sql, "NOTIFY %s, 'one'", channel);
    assert_int_equal(raw(s, sql), NQ_OK);
    assert_int_equal(nq_queue_next(l, 2.0, buf, sizeof buf, &err), 1);
    assert_string_equal(buf, "one");

    snprintf(sql, sizeof sql,
             "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
             " WHERE application_name = '%s' AND query LIKE 'LISTEN%%'",
             app);
    assert_int_equal(raw(s, sql), NQ_OK);
    assert_int_equal(nq_queue_next(l, 2.0, buf, sizeof buf, &err), NQ_EUNAVAIL);
    assert_int_equal(err.code, NQ_EUNAVAIL);
    /* Reconnected: a timeout, not an error, and then notifications again. */
    assert_int_equal(nq_queue_next(l, 0.1, buf, sizeof buf, &err), 0);
    snprintf(sql, sizeof sql, "NOTIFY %s, 'two'", channel);
    assert_int_equal(raw(s, sql), NQ_OK);
    assert_int_equal(nq_queue_next(l, 2.0, buf, sizeof buf, &err), 1);
    assert_string_equal(buf, "two");
    nq_queue_listener_free(l);
    nq_store_close(s);
}

/* ---- 9. counts ------------------------------------------------------------------------ */

static void test_counts(void **state)
{
    (void)state;
    backend b;
    nq_store *s = open_pg(&b, 2);
    nq_err err;
    expect_counts(s, 0, 0, 0, 0, 0);
    char ids[6][33];
    for (int i = 0; i < 6; i++)
        enqueue(s, "normal", ids[i]);
    nq_queue_claimed c[3];
    for (int i = 0; i < 3; i++)
        claim(s, "node-a", 30, 3, &c[i]);
    finish(s, c[0].id, c[0].token, "succeeded", "{}", NULL, 1);
    finish(s, c[1].id, c[1].token, "failed", NULL, "{\"code\":\"x\"}", 1);
    int now;
    must(nq_queue_cancel(s, ids[5], &now, &err), &err, "cancel");
    expect_counts(s, 2, 1, 1, 1, 1);
    int64_t q = -1, r = -1, removed = -1;
    must(nq_queue_pending(s, &q, &r, &err), &err, "pending");
    assert_int_equal(q, 2);
    assert_int_equal(r, 1);
    /* Pruning: nothing ended before an hour ago; everything ended before
     * a minute from now: the 3 ended jobs, and only those. */
    must(nq_queue_prune(s, nq_clock_wall_s() - 3600, &removed, &err), &err, "prune old");
    assert_int_equal(removed, 0);
    must(nq_queue_prune(s, nq_clock_wall_s() + 60, &removed, &err), &err, "prune");
    assert_int_equal(removed, 3);
    expect_counts(s, 2, 1, 0, 0, 0);
    for (int i = 0; i < 3; i++)
        nq_queue_claim_free(&c[i]);
    nq_store_close(s);
}

/* ---- 10. SQLite ------------------------------------------------------------------------- */

static void test_sqlite_refused(void **state)
{
    (void)state;
    backend b;
    assert_int_equal(fresh("sqlite", &b), 0);
    nq_store *s = open_url(b.url, 1);
    nq_err err;
    char id[33];
    int existing = -1, got = -1, n = -1;
    nq_queue_job j = {"solve", "normal", BODY, NULL, NULL, NULL};
    assert_int_equal(nq_queue_enqueue(s, &j, id, &existing, &err), NQ_EINVAL);
    assert_string_equal(err.msg, "the shared job queue needs PostgreSQL");
    nq_queue_claimed c;
    assert_int_equal(nq_queue_claim(s, "n", 30, 3, &c, &got, NULL, &err), NQ_EINVAL);
    assert_int_equal(got, 0);
    assert_int_equal(nq_queue_heartbeat(s, id, id, 30, &n, &err), NQ_EINVAL);
    assert_int_equal(nq_queue_cancel(s, id, &n, &err), NQ_EINVAL);
    int64_t counts[5];
    assert_int_equal(nq_queue_counts(s, counts, &err), NQ_EINVAL);
    nq_queue_listener *l = NULL;
    assert_int_equal(nq_queue_listen(s, NQ_QUEUE_EVENTS, &l, &err), NQ_EINVAL);
    assert_string_equal(err.msg, "the shared job queue needs PostgreSQL");
    assert_null(l);

    /* The columns exist all the same (version 3 on both backends). */
    int version = 0;
    must(nq_store_schema_version(s, &version, &err), &err, "version");
    assert_int_equal(version, 3);
    must(nq__exec1(s,
                   "SELECT body, request_text, prio, idem_key, request_hash, lease_token,"
                   " cancel_requested, progress FROM jobs",
                   0, NULL, NULL, NULL, NULL, &err),
         &err, "columns");
    nq_store_close(s);
    cleanup(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_enqueue_claim),    cmocka_unit_test(test_order),
        cmocka_unit_test(test_skip_locked),      cmocka_unit_test(test_lease_expiry),
        cmocka_unit_test(test_poison),           cmocka_unit_test(test_idempotency),
        cmocka_unit_test(test_cancel),           cmocka_unit_test(test_listen),
        cmocka_unit_test(test_listen_reconnect), cmocka_unit_test(test_counts),
        cmocka_unit_test(test_sqlite_refused),
    };
    return cmocka_run_group_tests_name("store-queue", tests, NULL, NULL);
}
