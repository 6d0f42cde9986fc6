/* test_store.c - the store suite, run against every backend: SQLite in a
 * temporary directory always, PostgreSQL when NQ_TEST_PG_URL names a
 * server (scripts/testdb.sh starts one; `make test` does it), each test
 * in a schema of its own.
 *
 * Tamper tests change rows directly in SQL, as someone with database
 * access would (dropping the append-only triggers first), and expect
 * verification to name the first broken entry. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "store_fixture.h"
#include "nqba/store.h"

static nq_store *open_migrated(backend *b)
{
    nq_store *s = NULL;
    nq_err err;
    nq_err_clear(&err);
    int rc = nq_store_open(b->url, 0, &s, &err);
    if (rc)
        print_message("open %s: %s\n", b->url, err.msg);
    assert_int_equal(rc, NQ_OK);
    int applied = -1;
    rc = nq_store_migrate(s, &applied, &err);
    if (rc)
        print_message("migrate: %s %s\n", err.where, err.msg);
    assert_int_equal(rc, NQ_OK);
    assert_int_equal(applied, nq_store_latest_version(s));
    return s;
}

static void make_id(int i, char out[33])
{
    snprintf(out, 33, "%032x", i);
}

static void put(nq_store *s, int i, const char *unit, double at)
{
    nq_decision_rec d;
    memset(&d, 0, sizeof d);
    make_id(i, d.id);
    d.unit = unit;
    d.kind = strcmp(unit, "nqba") == 0 ? "decision-engine" : "solve";
    char req[64], res[64];
    snprintf(req, sizeof req, "{\"n\": %d, \"name\": \"r\\u00e9q\"}", i);
    snprintf(res, sizeof res, "{\"value\": %d.5}", i);
    d.request = req;
    d.result = res;
    d.solver = "milp";
    d.status = "succeeded";
    d.latency_s = 0.001 * i;
    d.user = i % 2 ? "alice" : NULL;
    d.quantum_enhanced = i % 3 == 0;
    d.created_at = at;
    nq_err err;
    int rc = nq_store_put_decision(s, &d, &err);
    if (rc)
        print_message("put %d: %s\n", i, err.msg);
    assert_int_equal(rc, NQ_OK);
}

static void expect_verify(nq_store *s, int ok, long long first_bad, const char *reason_part)
{
    nq_audit_report r;
    nq_err err;
    assert_int_equal(nq_store_audit_verify(s, &r, &err), NQ_OK);
    if (r.ok != ok || r.first_bad_seq != first_bad ||
        (reason_part && !strstr(r.reason, reason_part)))
        print_message("verify: ok %d bad %lld (%s)\n", r.ok, (long long)r.first_bad_seq,
                      r.reason);
    assert_int_equal(r.ok, ok);
    assert_int_equal(r.first_bad_seq, first_bad);
    if (reason_part)
        assert_non_null(strstr(r.reason, reason_part));
}

/* ---- the suite, per backend ------------------------------------------------- */

static void suite_decisions(const char *kind)
{
    backend b;
    int f = fresh(kind, &b);
    if (f == 1)
        skip();
    assert_int_equal(f, 0);
    nq_store *s = open_migrated(&b);
    assert_string_equal(nq_store_backend(s), kind);
    /* Migrating again is a no-op. */
    int applied = -1, version = 0;
    nq_err err;
    assert_int_equal(nq_store_migrate(s, &applied, &err), NQ_OK);
    assert_int_equal(applied, 0);
    assert_int_equal(nq_store_schema_version(s, &version, &err), NQ_OK);
    assert_int_equal(version, nq_store_latest_version(s));

    for (int i = 1; i <= 7; i++)
        put(s, i, i <= 4 ? "nqba" : "engine", 1700000000.0 + i);
    json_t *d = NULL;
    char id[33];
    make_id(3, id);
    assert_int_equal(nq_store_get_decision(s, id, &d, &err), NQ_OK);
    assert_string_equal(json_string_value(json_object_get(d, "unit")), "nqba");
    assert_string_equal(json_string_value(json_object_get(d, "user")), "alice");
    assert_true(json_is_true(json_object_get(d, "quantum_enhanced")));
    assert_int_equal(json_integer_value(json_object_get(json_object_get(d, "request"), "n")), 3);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(d, "request"), "name")), "r\xc3\xa9q");
    assert_true(json_real_value(json_object_get(json_object_get(d, "result"), "value")) == 3.5);
    assert_string_equal(json_string_value(json_object_get(d, "created_at")),
                        "2023-11-14T22:13:23.000Z");
    json_decref(d);
    make_id(99, id);
    assert_int_equal(nq_store_get_decision(s, id, &d, &err), NQ_ENOTFOUND);

    /* The same id twice: refused, and nothing half-written (the audit
     * chain still verifies with one entry per stored decision). */
    nq_decision_rec dup = {"", "nqba", "decision-engine", "{}", NULL, "", "failed", 0, NULL, 0, 0,
                           {NQ_UNIT_TABLE_NONE, {NULL, NULL, NULL}}};
    make_id(2, dup.id);
    assert_int_equal(nq_store_put_decision(s, &dup, &err), NQ_EINVAL);
    expect_verify(s, 1, 0, NULL);

    /* Pages of 2, newest first, filtered by unit; the cursor walks on. */
    nq_decision_query q = {"nqba", NULL, 0, 0, NULL, 2, 0};
    json_t *page = NULL;
    int seen[8] = {0}, pages = 0;
    char cursor[32] = "";
    do {
        q.cursor = cursor[0] ? cursor : NULL;
        assert_int_equal(nq_store_list_decisions(s, &q, &page, &err), NQ_OK);
        json_t *items = json_object_get(page, "items"), *it;
        size_t k;
        json_array_foreach(items, k, it)
        {
            const char *iid = json_string_value(json_object_get(it, "id"));
            int n = (int)strtol(iid, NULL, 16);
            assert_true(n >= 1 && n <= 4);
            assert_null(json_object_get(it, "request"));
            seen[n]++;
        }
        const char *next = json_string_value(json_object_get(page, "next_cursor"));
        snprintf(cursor, sizeof cursor, "%s", next ? next : "");
        pages++;
        json_decref(page);
    } while (cursor[0] && pages < 10);
    assert_int_equal(pages, 2);
    for (int n = 1; n <= 4; n++)
        assert_int_equal(seen[n], 1);
    /* A time window [from, to) and documents included. */
    nq_decision_query w = {NULL, NULL, 1700000005.0, 1700000007.0, NULL, 10, 1};
    assert_int_equal(nq_store_list_decisions(s, &w, &page, &err), NQ_OK);
    json_t *items = json_object_get(page, "items");
    assert_int_equal(json_array_size(items), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(items, 0), "id")),
                        "00000000000000000000000000000006");
    assert_non_null(json_object_get(json_array_get(items, 0), "request"));
    assert_true(json_is_null(json_object_get(page, "next_cursor")));
    json_decref(page);
    nq_decision_query badq = {NULL, NULL, 0, 0, "12abc", 10, 0};
    assert_int_equal(nq_store_list_decisions(s, &badq, &page, &err), NQ_EINVAL);
    assert_string_equal(err.where, "cursor");
    badq.cursor = NULL;
    badq.limit = NQ_STORE_PAGE_MAX + 1;
    assert_int_equal(nq_store_list_decisions(s, &badq, &page, &err), NQ_ERANGE);

    /* The head survives a reopen: the next entry continues the chain. */
    nq_store_close(s);
    s = NULL;
    assert_int_equal(nq_store_open(b.url, 0, &s, &err), NQ_OK);
    nq_audit_entry e = {"bob", "login", NULL, NULL, NULL, "{\"ip\":\"127.0.0.1\"}", 0};
    assert_int_equal(nq_store_audit(s, &e, &err), NQ_OK);
    nq_audit_report r;
    assert_int_equal(nq_store_audit_verify(s, &r, &err), NQ_OK);
    assert_true(r.ok);
    assert_int_equal(r.entries, 8);
    assert_int_equal(r.head_seq, 8);
    nq_store_close(s);
    cleanup(&b);
}

/* A fresh, migrated store of the backend holding decision 1; skips the
 * test where the backend is not there. */
static nq_store *store_with_one(const char *kind, backend *b)
{
    int f = fresh(kind, b);
    if (f == 1)
        skip();
    assert_int_equal(f, 0);
    nq_store *s = open_migrated(b);
    put(s, 1, "nqba", 0);
    return s;
}

/* A decision of a batch: i picks the id, the request and the result. */
static void batch_rec(nq_decision_rec *d, int i, char req[64], char res[64])
{
    memset(d, 0, sizeof *d);
    make_id(i, d->id);
    d->unit = "nqba";
    d->kind = "decision-engine";
    snprintf(req, 64, "{\"n\": %d}", i);
    snprintf(res, 64, "{\"value\": %d}", 2 * i);
    d->request = req;
    d->result = res;
    d->solver = "milp";
    d->status = "succeeded";
}

/* Several writers, each a batch of BATCH_N, at once: the group commit
 * mixes them, and every one must come back with its own outcome. */
#define BATCH_THREADS 4
#define BATCH_N 25
typedef struct batch_arg {
    nq_store *s;
    int base, rc[BATCH_N], first;
} batch_arg;

static void *batch_writer(void *p)
{
    batch_arg *a = p;
    nq_decision_rec d[BATCH_N];
    char req[BATCH_N][64], res[BATCH_N][64];
    nq_err err[BATCH_N];
    for (int i = 0; i < BATCH_N; i++)
        batch_rec(&d[i], a->base + i, req[i], res[i]);
    a->first = nq_store_put_decisions(a->s, d, BATCH_N, a->rc, err);
    return NULL;
}

static void suite_batch(const char *kind)
{
    backend b;
    nq_store *s = store_with_one(kind, &b);

    /* One call, five decisions: a new one, a bad one, one already
     * stored, two new ones. Each gets its own outcome; the good ones are
     * stored, with their audit entries, and nothing else is. */
    nq_decision_rec d[5];
    char req[5][64], res[5][64];
    int ids[5] = {10, 11, 1, 12, 13}, rc[5];
    nq_err err[5];
    for (int i = 0; i < 5; i++)
        batch_rec(&d[i], ids[i], req[i], res[i]);
    d[1].unit = "";
    assert_int_equal(nq_store_put_decisions(s, d, 5, rc, err), NQ_EINVAL);
    assert_int_equal(rc[0], NQ_OK);
    assert_int_equal(rc[1], NQ_EINVAL);
    assert_string_equal(err[1].where, "unit");
    assert_int_equal(rc[2], NQ_EINVAL);
    assert_string_equal(err[2].where, "id");
    assert_int_equal(rc[3], NQ_OK);
    assert_int_equal(rc[4], NQ_OK);
    for (int i = 0; i < 5; i++) {
        json_t *got = NULL;
        nq_err e;
        char id[33];
        make_id(ids[i], id);
        int want = i == 1 ? NQ_ENOTFOUND : NQ_OK;
        assert_int_equal(nq_store_get_decision(s, id, &got, &e), want);
        if (got && i != 2) /* the stored one is the first put's */
            assert_int_equal(json_integer_value(json_object_get(
                                 json_object_get(got, "result"), "value")),
                             2 * ids[i]);
        json_decref(got);
    }
    nq_audit_report r;
    nq_err e;
    assert_int_equal(nq_store_audit_verify(s, &r, &e), NQ_OK);
    assert_true(r.ok);
    assert_int_equal(r.entries, 4);

    /* No decisions, or too many: refused. */
    assert_int_equal(nq_store_put_decisions(s, d, 0, rc, err), NQ_EINVAL);
    assert_int_equal(nq_store_put_decisions(s, NULL, 1, rc, err), NQ_EINVAL);

    /* Concurrent batches. */
    pthread_t t[BATCH_THREADS];
    batch_arg a[BATCH_THREADS];
    for (int i = 0; i < BATCH_THREADS; i++) {
        a[i].s = s;
        a[i].base = 100 + i * BATCH_N;
        assert_int_equal(pthread_create(&t[i], NULL, batch_writer, &a[i]), 0);
    }
    for (int i = 0; i < BATCH_THREADS; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(a[i].first, NQ_OK);
        for (int k = 0; k < BATCH_N; k++)
            assert_int_equal(a[i].rc[k], NQ_OK);
    }
    assert_int_equal(nq_store_audit_verify(s, &r, &e), NQ_OK);
    assert_true(r.ok);
    assert_int_equal(r.entries, 4 + BATCH_THREADS * BATCH_N);
    nq_store_close(s);
    cleanup(&b);
}

/* Tampering, one kind per fresh store of 6 entries. */
typedef struct tamper {
    const char *what;
    const char *sql; /* run after the append-only triggers are gone */
    int first_bad;
    const char *reason;
} tamper;

static void suite_tamper(const char *kind)
{
    static const tamper cases[] = {
        {"edit", "UPDATE audit_log SET actor = 'mallory' WHERE seq = 3", 3, "edited"},
        {"delete", "DELETE FROM audit_log WHERE seq = 4", 4, "missing"},
        {"delete tail", "DELETE FROM audit_log WHERE seq = 6", 6, "deleted from the end"},
        {"reorder",
         "UPDATE audit_log SET seq = -seq WHERE seq IN (2, 3);"
         "UPDATE audit_log SET seq = CASE seq WHEN -2 THEN 3 ELSE 2 END WHERE seq < 0",
         2, NULL},
        {"insert",
         "INSERT INTO audit_log (seq, at_us, actor, action, target, request_hash, result_hash, "
         "detail, prev_hash, entry_hash) SELECT 7, at_us, 'mallory', action, target, "
         "request_hash, result_hash, detail, entry_hash, entry_hash FROM audit_log WHERE seq = 6",
         7, "edited"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        backend b;
        int f = fresh(kind, &b);
        if (f == 1)
            skip();
        assert_int_equal(f, 0);
        nq_store *s = open_migrated(&b);
        for (int i = 1; i <= 6; i++)
            put(s, i, "nqba", 1700000000.0 + i);
        expect_verify(s, 1, 0, NULL);
        int pg = strcmp(kind, "postgresql") == 0;
        assert_int_equal(raw(s, pg ? "DROP TRIGGER audit_log_no_update ON audit_log;"
                                     "DROP TRIGGER audit_log_no_delete ON audit_log"
                                   : "DROP TRIGGER audit_log_no_update;"
                                     "DROP TRIGGER audit_log_no_delete"),
                         NQ_OK);
        print_message("%s: %s\n", kind, cases[c].what);
        assert_int_equal(raw(s, cases[c].sql), NQ_OK);
        expect_verify(s, 0, cases[c].first_bad, cases[c].reason);
        nq_store_close(s);
        cleanup(&b);
    }
}

/* The append-only triggers stop plain edits. */
static void suite_append_only(const char *kind)
{
    backend b;
    nq_store *s = store_with_one(kind, &b);
    assert_int_equal(raw(s, "UPDATE audit_log SET actor = 'x'"), NQ_EINVAL);
    assert_int_equal(raw(s, "DELETE FROM audit_log"), NQ_EINVAL);
    expect_verify(s, 1, 0, NULL);
    nq_store_close(s);
    cleanup(&b);
}

static void test_sqlite_decisions(void **state) { (void)state; suite_decisions("sqlite"); }
static void test_sqlite_tamper(void **state) { (void)state; suite_tamper("sqlite"); }
static void test_sqlite_append_only(void **state) { (void)state; suite_append_only("sqlite"); }
static void test_pg_decisions(void **state) { (void)state; suite_decisions("postgresql"); }
static void test_sqlite_batch(void **state) { (void)state; suite_batch("sqlite"); }
static void test_pg_batch(void **state) { (void)state; suite_batch("postgresql"); }
static void test_pg_tamper(void **state) { (void)state; suite_tamper("postgresql"); }
static void test_pg_append_only(void **state) { (void)state; suite_append_only("postgresql"); }

static void test_bad_urls(void **state)
{
    (void)state;
    nq_store *s = NULL;
    nq_err err;
    assert_int_equal(nq_store_open("", 0, &s, &err), NQ_EINVAL);
    assert_int_equal(nq_store_open("mysql://x", 0, &s, &err), NQ_EINVAL);
    assert_non_null(strstr(err.msg, "unknown database scheme"));
    assert_int_equal(nq_store_open("/nonexistent-dir/x/nqba.db", 0, &s, &err), NQ_EUNAVAIL);
    assert_int_equal(nq_store_open("postgresql://127.0.0.1:1/none?connect_timeout=2", 0, &s, &err),
                     NQ_EUNAVAIL);
    assert_null(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_urls),
        cmocka_unit_test(test_sqlite_decisions),
        cmocka_unit_test(test_sqlite_tamper),
        cmocka_unit_test(test_sqlite_append_only),
        cmocka_unit_test(test_pg_decisions),
        cmocka_unit_test(test_sqlite_batch),
        cmocka_unit_test(test_pg_batch),
        cmocka_unit_test(test_pg_tamper),
        cmocka_unit_test(test_pg_append_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
