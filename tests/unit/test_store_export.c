/* test_store_export.c - backup and restore (lib/store/export.c): export a
 * store as JSON lines, import them into a fresh store and compare, across
 * backends (SQLite always; PostgreSQL when NQ_TEST_PG_URL names a server,
 * each store in a schema of its own, as in test_store.c).
 *
 * A restore is right when the target's own export equals the source's
 * line for line (compared as JSON, since PostgreSQL reorders object keys),
 * every decision reads back equal, and the audit chain verifies with the
 * same head. A refused import must leave the target as it was. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
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
    rc = nq_store_migrate(s, NULL, &err);
    if (rc)
        print_message("migrate: %s %s\n", err.where, err.msg);
    assert_int_equal(rc, NQ_OK);
    return s;
}

/* A fresh, migrated store of the kind, or NULL when it is skipped. */
static nq_store *store_of(const char *kind, backend *b)
{
    int f = fresh(kind, b);
    if (f == 1)
        return NULL;
    assert_int_equal(f, 0);
    return open_migrated(b);
}

/* ---- content ------------------------------------------------------------------ */

static void make_id(int i, char out[33])
{
    snprintf(out, 33, "%032x", i);
}

/* Decision i at time at: documents with nesting, escapes, non-ASCII text,
 * a newline between members (the export must still be one line per
 * object), reals and an int64 edge; every third one failed (no result). */
static void put(nq_store *s, int i, double at)
{
    nq_decision_rec d;
    memset(&d, 0, sizeof d);
    make_id(i, d.id);
    d.unit = i % 2 ? "nqba" : "engine";
    d.kind = i % 2 ? "decision-engine" : "solve";
    char req[256], res[128];
    snprintf(req, sizeof req,
             "{\"n\": %d,\n \"name\": \"r\\u00e9q \\\"%d\\\"\\n\", \"w\": [0.1, -2.5e-3, "
             "9223372036854775807], \"nested\": {\"a\": {\"b\": [true, null, {}]}}}",
             i, i);
    snprintf(res, sizeof res, "{\"value\": %d.5, \"x\": [1, 0, 1]}", i);
    d.request = req;
    d.result = i % 3 == 0 ? NULL : res;
    d.solver = i % 3 == 0 ? "" : "milp";
    d.status = i % 3 == 0 ? "failed" : "succeeded";
    d.latency_s = 0.0012345 * i;
    d.user = i % 2 ? "alice" : NULL;
    d.quantum_enhanced = i % 4 == 0;
    d.created_at = at;
    nq_err err;
    int rc = nq_store_put_decision(s, &d, &err);
    if (rc)
        print_message("put %d: %s\n", i, err.msg);
    assert_int_equal(rc, NQ_OK);
}

static void audit(nq_store *s, const char *actor, const char *detail, double at)
{
    nq_audit_entry e = {actor, "login", NULL, NULL, NULL, detail, at};
    nq_err err;
    assert_int_equal(nq_store_audit(s, &e, &err), NQ_OK);
}

/* Seven decisions and two plain audit entries, times 1700000001.25 + i. */
static void populate(nq_store *s)
{
    for (int i = 1; i <= 7; i++)
        put(s, i, 1700000001.25 + i);
    audit(s, "bob", "{\"ip\": \"127.0.0.1\",\n \"note\": \"\\u00fcber\"}", 1700000010.5);
    audit(s, NULL, NULL, 1700000011.000001);
}

/* ---- lines -------------------------------------------------------------------- */

typedef struct lines {
    char *v[4096];
    size_t n;
    size_t stop_after; /* the line function stops after this many (0: never) */
} lines;

static int collect(void *user, const char *line, size_t len)
{
    lines *l = user;
    assert_true(l->n < sizeof l->v / sizeof l->v[0]);
    assert_null(memchr(line, '\n', len));
    l->v[l->n] = malloc(len + 1);
    assert_non_null(l->v[l->n]);
    memcpy(l->v[l->n], line, len);
    l->v[l->n][len] = '\0';
    l->n++;
    return l->stop_after && l->n >= l->stop_after;
}

static void lines_free(lines *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    l->n = 0;
}

static void export_all(nq_store *s, double since, lines *l)
{
    memset(l, 0, sizeof *l);
    nq_err err;
    nq_err_clear(&err);
    int rc = nq_store_export(s, since, collect, l, &err);
    if (rc)
        print_message("export: %s %s\n", err.where, err.msg);
    assert_int_equal(rc, NQ_OK);
}

static json_t *parse(const char *line)
{
    json_error_t je;
    json_t *j = json_loads(line, JSON_DECODE_ANY, &je);
    if (!j)
        fail_msg("not JSON (%s): %s", je.text, line);
    return j;
}

static const char *type_of(const json_t *o)
{
    return json_string_value(json_object_get(o, "type"));
}

/* Import every line; on an error, err says where and the import is
 * rolled back. */
static int import_all(nq_store *s, const lines *l, nq_err *err)
{
    nq_store_import *im = NULL;
    nq_err_clear(err);
    int rc = nq_store_import_begin(s, &im, err);
    if (rc)
        return rc;
    for (size_t i = 0; i < l->n && !rc; i++)
        rc = nq_store_import_line(im, l->v[i], strlen(l->v[i]), err);
    if (rc) {
        nq_err ignored;
        assert_int_equal(nq_store_import_end(im, 0, &ignored), NQ_OK);
        return rc;
    }
    return nq_store_import_end(im, 1, err);
}

static void expect_same_lines(const lines *a, const lines *b)
{
    assert_int_equal(a->n, b->n);
    for (size_t i = 0; i < a->n; i++) {
        json_t *x = parse(a->v[i]), *y = parse(b->v[i]);
        if (!json_equal(x, y))
            fail_msg("line %zu differs:\n%s\n%s", i + 1, a->v[i], b->v[i]);
        json_decref(x);
        json_decref(y);
    }
}

static void expect_same_decisions(nq_store *src, nq_store *dst, const lines *l)
{
    int seen = 0;
    for (size_t i = 0; i < l->n; i++) {
        json_t *o = parse(l->v[i]);
        if (strcmp(type_of(o), "decision") == 0) {
            const char *id = json_string_value(json_object_get(o, "id"));
            json_t *a = NULL, *b = NULL;
            nq_err err;
            assert_int_equal(nq_store_get_decision(src, id, &a, &err), NQ_OK);
            assert_int_equal(nq_store_get_decision(dst, id, &b, &err), NQ_OK);
            assert_true(json_equal(json_object_get(a, "request"), json_object_get(b, "request")));
            assert_true(json_equal(json_object_get(a, "result"), json_object_get(b, "result")));
            assert_true(json_equal(a, b));
            json_decref(a);
            json_decref(b);
            seen++;
        }
        json_decref(o);
    }
    assert_true(seen > 0);
}

static nq_audit_report verified(nq_store *s)
{
    nq_audit_report r;
    nq_err err;
    assert_int_equal(nq_store_audit_verify(s, &r, &err), NQ_OK);
    if (!r.ok)
        print_message("verify: entry %lld: %s\n", (long long)r.first_bad_seq, r.reason);
    assert_true(r.ok);
    return r;
}

/* The target holds nothing: no decision, an empty log, the zero head. */
static void expect_empty(nq_store *s)
{
    nq_decision_query q = {NULL, NULL, 0, 0, NULL, 10, 0};
    json_t *page = NULL;
    nq_err err;
    assert_int_equal(nq_store_list_decisions(s, &q, &page, &err), NQ_OK);
    assert_int_equal(json_array_size(json_object_get(page, "items")), 0);
    json_decref(page);
    nq_audit_report r = verified(s);
    assert_int_equal(r.entries, 0);
    assert_int_equal(r.head_seq, 0);
}

/* ---- round trips ------------------------------------------------------------------ */

static void roundtrip(const char *from, const char *to)
{
    backend bs, bd;
    nq_store *src = store_of(from, &bs);
    if (!src)
        skip();
    nq_store *dst = store_of(to, &bd);
    if (!dst) {
        nq_store_close(src);
        skip();
    }
    populate(src);
    lines a, b;
    export_all(src, 0, &a);
    assert_int_equal(a.n, 7 + 9 + 1); /* decisions, audit entries, head */
    json_t *first = parse(a.v[0]), *last = parse(a.v[a.n - 1]);
    assert_string_equal(type_of(first), "decision");
    assert_true(json_real_value(json_object_get(first, "created_at")) == 1700000002.25);
    assert_string_equal(type_of(last), "audit_head");
    assert_int_equal(json_integer_value(json_object_get(last, "seq")), 9);
    json_decref(first);
    json_decref(last);

    nq_err err;
    int rc = import_all(dst, &a, &err);
    if (rc)
        print_message("import: %s: %s\n", err.where, err.msg);
    assert_int_equal(rc, NQ_OK);
    export_all(dst, 0, &b);
    expect_same_lines(&a, &b);
    expect_same_decisions(src, dst, &a);
    nq_audit_report r = verified(dst);
    assert_int_equal(r.entries, 9);
    assert_int_equal(r.head_seq, 9);
    /* The restored chain goes on: a new entry links to the imported head. */
    audit(dst, "carol", NULL, 0);
    r = verified(dst);
    assert_int_equal(r.head_seq, 10);
    lines_free(&a);
    lines_free(&b);
    nq_store_close(src);
    nq_store_close(dst);
    cleanup(&bs);
    cleanup(&bd);
}

static void test_sqlite_to_sqlite(void **state)
{
    (void)state;
    roundtrip("sqlite", "sqlite");
}
static void test_sqlite_to_pg(void **state)
{
    (void)state;
    roundtrip("sqlite", "postgresql");
}
static void test_pg_to_sqlite(void **state)
{
    (void)state;
    roundtrip("postgresql", "sqlite");
}
static void test_pg_to_pg(void **state)
{
    (void)state;
    roundtrip("postgresql", "postgresql");
}

/* More rows than a page of either kind: the pages join without a gap or a
 * repeat. */
static void test_many_rows(void **state)
{
    (void)state;
    backend bs, bd;
    nq_store *src = store_of("sqlite", &bs);
    nq_store *dst = store_of("sqlite", &bd);
    for (int i = 1; i <= 120; i++)
        put(src, i, 1700000000.0 + i);
    for (int i = 0; i < 420; i++)
        audit(src, "bot", NULL, 1700001000.0 + i);
    lines a, b;
    export_all(src, 0, &a);
    assert_int_equal(a.n, 120 + 540 + 1);
    for (size_t i = 0; i < 120; i++) {
        json_t *o = parse(a.v[i]);
        assert_int_equal(json_integer_value(json_object_get(o, "seq")), (json_int_t)i + 1);
        json_decref(o);
    }
    nq_err err;
    assert_int_equal(import_all(dst, &a, &err), NQ_OK);
    export_all(dst, 0, &b);
    expect_same_lines(&a, &b);
    assert_int_equal(verified(dst).entries, 540);
    lines_free(&a);
    lines_free(&b);
    nq_store_close(src);
    nq_store_close(dst);
    cleanup(&bs);
    cleanup(&bd);
}

/* ---- since ------------------------------------------------------------------------ */

static void since(const char *kind)
{
    backend bs, bd;
    nq_store *src = store_of(kind, &bs);
    if (!src)
        skip();
    populate(src);
    lines l;
    /* Decision 4 is at exactly this time: the bound is inclusive. */
    export_all(src, 1700000005.25, &l);
    int decisions = 0, audits = 0;
    for (size_t i = 0; i < l.n; i++) {
        json_t *o = parse(l.v[i]);
        const char *t = type_of(o);
        if (strcmp(t, "decision") == 0) {
            char id[33];
            make_id(4 + decisions, id);
            assert_string_equal(json_string_value(json_object_get(o, "id")), id);
            decisions++;
        } else if (strcmp(t, "audit") == 0) {
            assert_int_equal(json_integer_value(json_object_get(o, "seq")), 4 + audits);
            assert_true(json_integer_value(json_object_get(o, "at_us")) >= 1700000005250000);
            audits++;
        } else {
            assert_string_equal(t, "audit_head");
            assert_int_equal(json_integer_value(json_object_get(o, "seq")), 9);
            assert_int_equal(i, l.n - 1);
        }
        json_decref(o);
    }
    assert_int_equal(decisions, 4);
    assert_int_equal(audits, 6);

    /* Not a whole chain, so not a restore: refused, and nothing kept. */
    nq_store *dst = store_of("sqlite", &bd);
    nq_err err;
    assert_int_equal(import_all(dst, &l, &err), NQ_EINVAL);
    assert_string_equal(err.where, "line 5: /seq");
    assert_non_null(strstr(err.msg, "starts at entry 4"));
    expect_empty(dst);

    /* After everything: no rows, and the head alone. */
    lines_free(&l);
    export_all(src, 1800000000, &l);
    assert_int_equal(l.n, 1);
    lines_free(&l);
    assert_int_equal(nq_store_export(src, -1, collect, &l, &err), NQ_EINVAL);
    nq_store_close(src);
    nq_store_close(dst);
    cleanup(&bs);
    cleanup(&bd);
}

static void test_since_sqlite(void **state)
{
    (void)state;
    since("sqlite");
}
static void test_since_pg(void **state)
{
    (void)state;
    since("postgresql");
}

/* ---- bad input ---------------------------------------------------------------------- */

typedef struct corruption {
    int line;          /* 1-based line of the export to change */
    const char *key;   /* member to change; NULL: replace the whole line with value */
    const char *value; /* JSON text; NULL: remove the member */
    int code;
    const char *where;
    const char *msg_part;
} corruption;

/* The export has 7 decisions (lines 1-7), 9 audit entries (8-16) and the
 * head (17). */
static const corruption corruptions[] = {
    {2, "type", "\"verdict\"", NQ_EINVAL, "line 2: /type", "unknown line type"},
    {2, "type", NULL, NQ_EINVAL, "line 2: /type", "missing"},
    {2, "status", NULL, NQ_EINVAL, "line 2: /status", "missing"},
    {2, "latency_s", "\"fast\"", NQ_EINVAL, "line 2: /latency_s", "expected a number"},
    {2, "user", "5", NQ_EINVAL, "line 2: /user", "expected a string"},
    {2, "quantum_enhanced", "1", NQ_EINVAL, "line 2: /quantum_enhanced", "boolean"},
    {2, "request", "null", NQ_EINVAL, "line 2: /request", "null"},
    {2, "id", "\"0000000000000000000000000000000g\"", NQ_EINVAL, "line 2: /id", "hex"},
    {2, "id", "\"0001\"", NQ_EINVAL, "line 2: /id", "hex"},
    {2, "unit", "\"\"", NQ_EINVAL, "line 2: /unit", "empty"},
    {2, "extra", "1", NQ_EINVAL, "line 2: /extra", "unknown member"},
    {3, "id", "\"00000000000000000000000000000001\"", NQ_EINVAL, "line 3: /id", "already stored"},
    {3, NULL, "{\"type\": \"decision\",", NQ_EPARSE, "line 3", "not JSON"},
    {3, NULL, "[1, 2]", NQ_EINVAL, "line 3", "expected an object"},
    {8, "seq", "2", NQ_EINVAL, "line 8: /seq", "starts at entry 2"},
    {8, "prev_hash", "\"1000000000000000000000000000000000000000000000000000000000000000\"",
     NQ_EINVAL, "line 8: /prev_hash", "64 zeros"},
    {9, "entry_hash", "\"00\"", NQ_EINVAL, "line 9: /entry_hash", "hex"},
    {9, "prev_hash", "\"AB00000000000000000000000000000000000000000000000000000000000000\"",
     NQ_EINVAL, "line 9: /prev_hash", "lowercase hex"},
    {10, "prev_hash", "\"0000000000000000000000000000000000000000000000000000000000000000\"",
     NQ_EINVAL, "line 10: /prev_hash", "chain is broken"},
    {10, "seq", "4", NQ_EINVAL, "line 10: /seq", "follows entry 2"},
    {10, "request_hash", "\"xyz\"", NQ_EINVAL, "line 10: /request_hash", "hex"},
    {11, "action", "\"\"", NQ_EINVAL, "line 11: /action", "empty"},
    {11, "at_us", "1.5", NQ_EINVAL, "line 11: /at_us", "integer"},
    {17, "seq", "8", NQ_EINVAL, "line 17: /seq", "partial"},
    {17, "hash", "\"0000000000000000000000000000000000000000000000000000000000000000\"", NQ_EINVAL,
     "line 17: /hash", "does not match"},
    {17, "type", "\"audit\"", NQ_EINVAL, "line 17: /hash", "unknown member"},
};

/* A copy of l with one line changed as c says. */
static void corrupt(const lines *l, const corruption *c, lines *out)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < l->n; i++) {
        const char *text = l->v[i];
        char *changed = NULL;
        if ((int)i + 1 == c->line && !c->key) {
            text = c->value;
        } else if ((int)i + 1 == c->line) {
            json_t *o = parse(l->v[i]);
            if (c->value)
                json_object_set_new(o, c->key, parse(c->value));
            else
                json_object_del(o, c->key);
            changed = json_dumps(o, JSON_COMPACT);
            json_decref(o);
            text = changed;
        }
        collect(out, text, strlen(text));
        free(changed);
    }
}

static void test_bad_lines(void **state)
{
    (void)state;
    backend bs, bd;
    nq_store *src = store_of("sqlite", &bs);
    nq_store *dst = store_of("sqlite", &bd);
    populate(src);
    lines good;
    export_all(src, 0, &good);
    assert_int_equal(good.n, 17);
    for (size_t k = 0; k < sizeof corruptions / sizeof corruptions[0]; k++) {
        const corruption *c = &corruptions[k];
        lines bad;
        corrupt(&good, c, &bad);
        nq_err err;
        int rc = import_all(dst, &bad, &err);
        if (rc != c->code || strcmp(err.where, c->where) != 0 || !strstr(err.msg, c->msg_part))
            fail_msg("case %zu (line %d %s): got %d \"%s: %s\"", k, c->line,
                     c->key ? c->key : "text", rc, err.where, err.msg);
        expect_empty(dst);
        lines_free(&bad);
    }
    /* Cut short: everything but the head line. */
    lines cut;
    memset(&cut, 0, sizeof cut);
    for (size_t i = 0; i + 1 < good.n; i++)
        collect(&cut, good.v[i], strlen(good.v[i]));
    nq_err err;
    assert_int_equal(import_all(dst, &cut, &err), NQ_EINVAL);
    assert_non_null(strstr(err.msg, "audit_head"));
    expect_empty(dst);
    lines_free(&cut);
    /* A line after the head. */
    collect(&good, good.v[0], strlen(good.v[0]));
    assert_int_equal(import_all(dst, &good, &err), NQ_EINVAL);
    assert_string_equal(err.where, "line 18");
    expect_empty(dst);
    free(good.v[--good.n]);
    /* After all the refusals, the whole file still goes in. */
    assert_int_equal(import_all(dst, &good, &err), NQ_OK);
    assert_int_equal(verified(dst).head_seq, 9);
    lines_free(&good);
    nq_store_close(src);
    nq_store_close(dst);
    cleanup(&bs);
    cleanup(&bd);
}

/* A too long line is refused before it is parsed; blank lines are skipped
 * but counted. */
static void test_line_limits(void **state)
{
    (void)state;
    backend bd;
    nq_store *dst = store_of("sqlite", &bd);
    nq_store_import *im = NULL;
    nq_err err;
    assert_int_equal(nq_store_import_begin(dst, &im, &err), NQ_OK);
    assert_int_equal(nq_store_import_line(im, "", 0, &err), NQ_OK);
    assert_int_equal(nq_store_import_line(im, "  \r", 3, &err), NQ_OK);
    assert_int_equal(nq_store_import_line(im, "{}", NQ_STORE_LINE_MAX + 1, &err), NQ_ELIMIT);
    assert_string_equal(err.where, "line 3");
    /* Once a line failed, only a rollback is left. */
    const char head[] = "{\"type\":\"audit_head\",\"seq\":0,\"hash\":"
                        "\"0000000000000000000000000000000000000000000000000000000000000000\"}";
    assert_int_equal(nq_store_import_line(im, head, strlen(head), &err), NQ_EINVAL);
    assert_string_equal(err.where, "line 4");
    assert_int_equal(nq_store_import_end(im, 1, &err), NQ_EINVAL);
    expect_empty(dst);
    assert_int_equal(nq_store_import_end(NULL, 1, &err), NQ_OK);
    nq_store_close(dst);
    cleanup(&bd);
}

/* ---- targets that are not fresh ------------------------------------------------------- */

static void not_empty(const char *kind)
{
    backend bs, bd;
    nq_store *src = store_of(kind, &bs);
    if (!src)
        skip();
    nq_store *dst = store_of(kind, &bd);
    populate(src);
    audit(dst, "dave", NULL, 0);
    lines l;
    export_all(src, 0, &l);
    nq_err err;
    assert_int_equal(import_all(dst, &l, &err), NQ_EINVAL);
    assert_string_equal(err.where, "line 8");
    assert_non_null(strstr(err.msg, "the target audit log is not empty"));
    /* Nothing of the file stayed: the decisions before it are gone too. */
    nq_decision_query q = {NULL, NULL, 0, 0, NULL, 10, 0};
    json_t *page = NULL;
    assert_int_equal(nq_store_list_decisions(dst, &q, &page, &err), NQ_OK);
    assert_int_equal(json_array_size(json_object_get(page, "items")), 0);
    json_decref(page);
    nq_audit_report r = verified(dst);
    assert_int_equal(r.entries, 1);

    /* Decisions alone (the head line of an empty chain) may join a store
     * whose ids they do not share, leaving its audit log alone. */
    lines only;
    memset(&only, 0, sizeof only);
    collect(&only, l.v[0], strlen(l.v[0]));
    const char head[] = "{\"type\":\"audit_head\",\"seq\":0,\"hash\":"
                        "\"0000000000000000000000000000000000000000000000000000000000000000\"}";
    collect(&only, head, strlen(head));
    assert_int_equal(import_all(dst, &only, &err), NQ_OK);
    r = verified(dst);
    assert_int_equal(r.head_seq, 1);
    assert_int_equal(import_all(dst, &only, &err), NQ_EINVAL);
    assert_string_equal(err.where, "line 1: /id");
    assert_non_null(strstr(err.msg, "already stored"));
    lines_free(&only);
    lines_free(&l);
    nq_store_close(src);
    nq_store_close(dst);
    cleanup(&bs);
    cleanup(&bd);
}

static void test_not_empty_sqlite(void **state)
{
    (void)state;
    not_empty("sqlite");
}
static void test_not_empty_pg(void **state)
{
    (void)state;
    not_empty("postgresql");
}

/* The line function stops the export. */
static void test_cancel(void **state)
{
    (void)state;
    backend b;
    nq_store *s = store_of("sqlite", &b);
    populate(s);
    lines l;
    memset(&l, 0, sizeof l);
    l.stop_after = 2;
    nq_err err;
    assert_int_equal(nq_store_export(s, 0, collect, &l, &err), NQ_ECANCEL);
    assert_int_equal(l.n, 2);
    lines_free(&l);
    /* The connection went back to the pool out of its transaction. */
    audit(s, "erin", NULL, 0);
    assert_int_equal(verified(s).head_seq, 10);
    nq_store_close(s);
    cleanup(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sqlite_to_sqlite), cmocka_unit_test(test_sqlite_to_pg),
        cmocka_unit_test(test_pg_to_sqlite),     cmocka_unit_test(test_pg_to_pg),
        cmocka_unit_test(test_many_rows),        cmocka_unit_test(test_since_sqlite),
        cmocka_unit_test(test_since_pg),         cmocka_unit_test(test_bad_lines),
        cmocka_unit_test(test_line_limits),      cmocka_unit_test(test_not_empty_sqlite),
        cmocka_unit_test(test_not_empty_pg),     cmocka_unit_test(test_cancel),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
