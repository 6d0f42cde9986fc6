/* test_cli_store.c - the store administration commands run as the real
 * binary ($NQ_BIN): `nqba migrate`, `nqba export`, `nqba import` and
 * `nqba audit verify` on temporary SQLite files, their exit statuses and
 * messages, and a tampered file caught by `audit verify`. The source store
 * is filled through the library, as a server would fill it; the tampering
 * goes through the sqlite3 C API, as someone with the file would. */
/* cmocka.h needs these first, in this order. */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
/* clang-format on */

#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli_run.h"
#include "nqba/store.h"

/* ---- helpers ---------------------------------------------------------------- */

static void expect_status(const run_out *r, int status)
{
    if (r->status != status)
        fail_msg("expected exit %d, got %d; stdout:\n%s\nstderr:\n%s", status, r->status, r->out,
                 r->err);
}

/* Three decisions and a login, written through the library. */
static void fill(const char *path)
{
    nq_store *s = NULL;
    nq_err err;
    assert_int_equal(nq_store_open(path, 1, &s, &err), NQ_OK);
    assert_int_equal(nq_store_migrate(s, NULL, &err), NQ_OK);
    for (int i = 1; i <= 3; i++) {
        nq_decision_rec d = {"",
                             "nqba",
                             "decision-engine",
                             "{\"n\": 1,\n \"name\": \"caf\\u00e9\"}",
                             i == 2 ? NULL : "{\"value\": 2.5}",
                             "milp",
                             i == 2 ? "failed" : "succeeded",
                             0.25,
                             "alice",
                             0,
                             1700000000.5 + i,
                             {NQ_UNIT_TABLE_NONE, {NULL, NULL, NULL}}};
        snprintf(d.id, sizeof d.id, "%032x", i);
        assert_int_equal(nq_store_put_decision(s, &d, &err), NQ_OK);
    }
    nq_audit_entry e = {"bob", "login", NULL, NULL, NULL, "{\"ip\": \"10.0.0.1\"}", 1700000010};
    assert_int_equal(nq_store_audit(s, &e, &err), NQ_OK);
    nq_store_close(s);
}

static void run_sql(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    char *msg = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg ? msg : "?");
    sqlite3_close(db);
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* ---- tests ---------------------------------------------------------------------- */

static void test_help(void **state)
{
    const env *e = *state;
    const char *cmds[] = {"migrate", "audit", "export", "import"};
    for (size_t i = 0; i < 4; i++) {
        char want[64];
        snprintf(want, sizeof want, "usage: nqba %s", cmds[i]);
        run_out r;
        nqba(e, &r, NULL, cmds[i], "--help", NULL);
        expect_status(&r, 0);
        expect_contains(r.out, want);
        run_free(&r);
        nqba(e, &r, NULL, "help", cmds[i], NULL);
        expect_status(&r, 0);
        expect_contains(r.out, want);
        run_free(&r);
    }
    run_out r;
    nqba(e, &r, NULL, "audit", "verify", "--help", NULL);
    expect_status(&r, 0);
    expect_contains(r.out, "usage: nqba audit verify");
    run_free(&r);
    nqba(e, &r, NULL, "--help", NULL);
    expect_contains(r.out, "import");
    run_free(&r);
}

static void test_migrate(void **state)
{
    const env *e = *state;
    char db[PATH_MAX_LEN];
    path_in(e, "migrate.db", db);
    run_out r;
    nqba(e, &r, NULL, "migrate", "--db", db, NULL);
    expect_status(&r, 0);
    expect_contains(r.out, "sqlite: schema version 3 (3 migrations applied)");
    run_free(&r);
    nqba(e, &r, NULL, "migrate", "--db", db, NULL);
    expect_status(&r, 0);
    expect_contains(r.out, "(0 migrations applied)");
    run_free(&r);
    nqba(e, &r, NULL, "migrate", "--db", "mysql://x/y", NULL);
    expect_status(&r, 2);
    expect_contains(r.err, "unknown database scheme");
    run_free(&r);
}

/* migrate, export, import, audit verify: the restored store exports the
 * same bytes. */
static void test_round_trip(void **state)
{
    const env *e = *state;
    char src[PATH_MAX_LEN], dst[PATH_MAX_LEN], dst2[PATH_MAX_LEN], backup[PATH_MAX_LEN],
        tmp[PATH_MAX_LEN];
    path_in(e, "src.db", src);
    path_in(e, "dst.db", dst);
    path_in(e, "dst2.db", dst2);
    path_in(e, "backup.jsonl", backup);
    path_in(e, "backup.jsonl.tmp", tmp);
    fill(src);
    run_out r;
    nqba(e, &r, NULL, "export", "--db", src, "--out", backup, NULL);
    expect_status(&r, 0);
    assert_string_equal(r.out, "");
    expect_contains(r.err, "3 decisions, 4 audit entries");
    run_free(&r);
    assert_false(exists(tmp));
    size_t len = 0;
    char *saved = slurp(backup, &len);
    expect_contains(saved, "{\"type\":\"decision\",\"seq\":1,\"id\":\"000000000000000000000000000"
                           "00001\",\"unit\":\"nqba\"");
    expect_contains(saved, "\"detail\":\"{\\\"ip\\\": \\\"10.0.0.1\\\"}\"");
    expect_contains(saved, "{\"type\":\"audit_head\",\"seq\":4,\"hash\":\"");

    nqba(e, &r, NULL, "import", "--db", dst, backup, NULL);
    expect_status(&r, 0);
    expect_contains(r.out, "imported 3 decisions and 4 audit entries");
    expect_contains(r.out, "the audit log verifies: 4 entries, head at entry 4");
    run_free(&r);
    nqba(e, &r, NULL, "audit", "verify", "--db", dst, NULL);
    expect_status(&r, 0);
    expect_contains(r.out, "the audit log verifies: 4 entries, head at entry 4");
    run_free(&r);
    nqba(e, &r, NULL, "export", "--db", dst, NULL);
    expect_status(&r, 0);
    assert_string_equal(r.out, saved);
    run_free(&r);

    /* From standard input, with the store named by NQBA_DB. */
    setenv("NQBA_DB", dst2, 1);
    nqba(e, &r, backup, "import", "-", NULL);
    expect_status(&r, 0);
    expect_contains(r.out, "from stdin");
    run_free(&r);
    nqba(e, &r, NULL, "audit", "verify", "--json", NULL);
    unsetenv("NQBA_DB");
    json_t *j = run_json(e, &r);
    assert_true(flag(j, "ok"));
    assert_true(num(j, "entries") == 4);
    json_decref(j);
    run_free(&r);

    /* The restore target must be fresh. */
    nqba(e, &r, NULL, "import", "--db", dst, backup, NULL);
    expect_status(&r, 1);
    expect_contains(r.err, "backup.jsonl:1: /id: decision 00000000000000000000000000000001 is "
                           "already stored");
    run_free(&r);
    free(saved);
}

/* A bad line: FILE:LINE: reason, exit 1, and nothing imported. */
static void test_bad_line(void **state)
{
    const env *e = *state;
    char src[PATH_MAX_LEN], dst[PATH_MAX_LEN], bad[PATH_MAX_LEN];
    path_in(e, "bl-src.db", src);
    path_in(e, "bl-dst.db", dst);
    fill(src);
    run_out r;
    nqba(e, &r, NULL, "export", "--db", src, NULL);
    expect_status(&r, 0);
    /* Line 5 is the first audit entry: make its hash not hex. */
    char *text = r.out, *line5 = text;
    for (int i = 0; i < 4; i++)
        line5 = strchr(line5, '\n') + 1;
    char *h = strstr(line5, "\"entry_hash\":\"");
    assert_non_null(h);
    h[strlen("\"entry_hash\":\"")] = 'g';
    write_tmp_str(e, "bad.jsonl", text, bad);
    run_free(&r);
    nqba(e, &r, NULL, "import", "--db", dst, bad, NULL);
    expect_status(&r, 1);
    expect_contains(r.err, "bad.jsonl:5: /entry_hash: expected 64 lowercase hex digits");
    run_free(&r);
    nqba(e, &r, NULL, "audit", "verify", "--db", dst, NULL);
    expect_status(&r, 0);
    expect_contains(r.out, "0 entries");
    run_free(&r);
    nqba(e, &r, NULL, "export", "--db", dst, NULL);
    expect_status(&r, 0);
    expect_contains(r.out, "{\"type\":\"audit_head\",\"seq\":0,");
    assert_null(strstr(r.out, "decision"));
    run_free(&r);

    /* Cut short and not JSON. */
    write_tmp_str(e, "cut.jsonl", "", bad);
    nqba(e, &r, NULL, "import", "--db", dst, bad, NULL);
    expect_status(&r, 1);
    expect_contains(r.err, "cut.jsonl: the input ends before its audit_head line");
    run_free(&r);
    write_tmp_str(e, "junk.jsonl", "\n{\"type\": oops}\n", bad);
    nqba(e, &r, NULL, "import", "--db", dst, bad, NULL);
    expect_status(&r, 1);
    expect_contains(r.err, "junk.jsonl:2: not JSON");
    run_free(&r);
}

/* Someone with the file drops the trigger and edits an entry. */
static void test_tampered(void **state)
{
    const env *e = *state;
    char db[PATH_MAX_LEN];
    path_in(e, "tamper.db", db);
    fill(db);
    run_out r;
    nqba(e, &r, NULL, "audit", "verify", "--db", db, NULL);
    expect_status(&r, 0);
    run_free(&r);
    run_sql(db, "DROP TRIGGER audit_log_no_update;"
                "UPDATE audit_log SET actor = 'mallory' WHERE seq = 2");
    nqba(e, &r, NULL, "audit", "verify", "--db", db, NULL);
    expect_status(&r, 1);
    expect_contains(r.out, "the audit log is BROKEN at entry 2: the entry's hash does not match "
                           "its contents (edited)");
    run_free(&r);
    nqba(e, &r, NULL, "audit", "verify", "--db", db, "--json", NULL);
    expect_status(&r, 1);
    json_t *j = json_loads(r.out, 0, NULL);
    assert_non_null(j);
    assert_false(flag(j, "ok"));
    assert_true(num(j, "first_bad_seq") == 2);
    json_decref(j);
    run_free(&r);
}

static void test_errors(void **state)
{
    const env *e = *state;
    char db[PATH_MAX_LEN], empty[PATH_MAX_LEN], missing[PATH_MAX_LEN];
    path_in(e, "err.db", db);
    path_in(e, "nothing-here.db", missing);
    fill(db);
    run_out r;
    nqba(e, &r, NULL, "audit", "verify", "--db", missing, NULL);
    expect_status(&r, 2);
    expect_contains(r.err, "no such database");
    run_free(&r);
    assert_false(exists(missing));
    write_tmp_str(e, "empty.db", "", empty);
    nqba(e, &r, NULL, "export", "--db", empty, NULL);
    expect_status(&r, 2);
    expect_contains(r.err, "schema version 0");
    run_free(&r);
    nqba(e, &r, NULL, "export", "--db", db, "--since", "yesterday", NULL);
    expect_status(&r, 2);
    expect_contains(r.err, "--since: expected an RFC 3339 time");
    run_free(&r);
    nqba(e, &r, NULL, "import", "--db", db, NULL);
    expect_status(&r, 2);
    expect_contains(r.err, "missing FILE");
    run_free(&r);
    nqba(e, &r, NULL, "import", "--db", db, missing, NULL);
    expect_status(&r, 2);
    run_free(&r);
    nqba(e, &r, NULL, "audit", "check", NULL);
    expect_status(&r, 2);
    expect_contains(r.err, "unknown subcommand 'check'");
    run_free(&r);
    nqba(e, &r, NULL, "migrate", "--json", NULL);
    expect_status(&r, 2);
    expect_contains(r.err, "unknown option '--json'");
    run_free(&r);
}

/* --since in both spellings keeps the later rows only. */
static void test_since(void **state)
{
    const env *e = *state;
    char db[PATH_MAX_LEN];
    path_in(e, "since.db", db);
    fill(db);
    const char *forms[] = {"2023-11-14T22:13:22.5Z", "1700000002.5"};
    for (size_t i = 0; i < 2; i++) {
        run_out r;
        nqba(e, &r, NULL, "export", "--db", db, "--since", forms[i], NULL);
        expect_status(&r, 0);
        assert_null(strstr(r.out, "00000000000000000000000000000001\""));
        expect_contains(r.out, "\"id\":\"00000000000000000000000000000002\"");
        expect_contains(r.out, "\"type\":\"audit\",\"seq\":2,");
        assert_null(strstr(r.out, "\"type\":\"audit\",\"seq\":1,"));
        run_free(&r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_help),       cmocka_unit_test(test_migrate),
        cmocka_unit_test(test_round_trip), cmocka_unit_test(test_bad_line),
        cmocka_unit_test(test_tampered),   cmocka_unit_test(test_errors),
        cmocka_unit_test(test_since),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
