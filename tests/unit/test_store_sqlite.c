/* test_store_sqlite.c - unit tests for the SQLite driver of the store
 * (lib/store/driver_sqlite.c and its schema), called directly through
 * nq__driver_sqlite: connection settings, the migrations, parameters and
 * rows, the statement cache, and how SQLite's errors map to the store's
 * codes. Each test gets a fresh database in its own temporary directory. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../lib/store/store_internal.h"

static const nq__driver *const drv = &nq__driver_sqlite;

/* ---- fixture -------------------------------------------------------------- */

typedef struct fx {
    char dir[64];
    char path[128];
    nq__db *db; /* connected and migrated */
} fx;

/* Remove the temporary directory and the files in it (the database, its
 * -wal and -shm, and whatever a test wrote there). */
static void rm_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        unlinkat(dirfd(d), e->d_name, 0);
    }
    closedir(d);
    rmdir(dir);
}

static void must(int rc, const nq_err *e, const char *what)
{
    if (rc != NQ_OK)
        fail_msg("%s: %s (%s)", what, e->msg, nq_code_name(rc));
}

static void migrate(nq__db *db)
{
    nq_err e;
    for (int i = 0; i < drv->n_migrations; i++) {
        must(drv->exec(db, drv->begin_write, 0, NULL, NULL, NULL, NULL, &e), &e, "begin");
        must(drv->script(db, drv->migrations[i], &e), &e, "migration");
        must(drv->exec(db, "COMMIT", 0, NULL, NULL, NULL, NULL, &e), &e, "commit");
    }
}

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    snprintf(f->dir, sizeof f->dir, "/tmp/nq-store-XXXXXX");
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    snprintf(f->path, sizeof f->path, "%s/store.db", f->dir);
    nq_err e;
    if (drv->connect(f->path, &f->db, &e) != NQ_OK) {
        fprintf(stderr, "connect %s: %s\n", f->path, e.msg);
        rm_dir(f->dir);
        free(f);
        return -1;
    }
    migrate(f->db);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    drv->disconnect(f->db);
    rm_dir(f->dir);
    free(f);
    return 0;
}

/* ---- collecting rows ------------------------------------------------------- */

#define ROWS_MAX 8
#define COLS_MAX 12

typedef struct rows {
    int n, ncol, stop_after; /* stop_after 0 = read all */
    int is_null[ROWS_MAX][COLS_MAX];
    size_t len[ROWS_MAX][COLS_MAX];
    char val[ROWS_MAX][COLS_MAX][128];
} rows;

static int collect(void *user, int n, const char *const *vals, const size_t *lens)
{
    rows *r = user;
    if (r->n < ROWS_MAX) {
        r->ncol = n;
        for (int i = 0; i < n && i < COLS_MAX; i++) {
            r->is_null[r->n][i] = vals[i] == NULL;
            r->len[r->n][i] = lens[i];
            if (vals[i])
                snprintf(r->val[r->n][i], sizeof r->val[r->n][i], "%.*s", (int)lens[i], vals[i]);
        }
    }
    r->n++;
    return r->stop_after && r->n >= r->stop_after;
}

static int query(nq__db *db, const char *sql, int n, const char *const *params, rows *r, nq_err *e)
{
    memset(r, 0, sizeof *r);
    return drv->exec(db, sql, n, params, collect, r, NULL, e);
}

/* The single value of a one-row query, as text ("NULL" for SQL NULL). */
static const char *value(nq__db *db, const char *sql, int n, const char *const *params, rows *r)
{
    nq_err e;
    must(query(db, sql, n, params, r, &e), &e, sql);
    assert_int_equal(r->n, 1);
    return r->is_null[0][0] ? "NULL" : r->val[0][0];
}

static int run(nq__db *db, const char *sql, int n, const char *const *params, nq_err *e)
{
    return drv->exec(db, sql, n, params, NULL, NULL, NULL, e);
}

/* ---- the driver and its connection ----------------------------------------- */

static void test_driver_fields(void **state)
{
    (void)state;
    assert_string_equal(drv->name, "sqlite");
    assert_string_equal(drv->begin_write, "BEGIN IMMEDIATE");
    assert_null(drv->migrate_lock);
    assert_int_equal(drv->row_locks, 0);
    assert_int_equal(drv->n_migrations, NQ__SCHEMA_SQLITE_VERSIONS);
    assert_true(drv->n_migrations >= 1);
    for (int i = 0; i < drv->n_migrations; i++)
        assert_non_null(drv->migrations[i]);
}

static void test_connection_settings(void **state)
{
    fx *f = *state;
    rows r;
    assert_string_equal(value(f->db, "PRAGMA journal_mode", 0, NULL, &r), "wal");
    assert_string_equal(value(f->db, "PRAGMA synchronous", 0, NULL, &r), "2"); /* FULL */
    assert_string_equal(value(f->db, "PRAGMA foreign_keys", 0, NULL, &r), "1");
    assert_string_equal(value(f->db, "PRAGMA busy_timeout", 0, NULL, &r), "10000");
    assert_string_equal(value(f->db, "PRAGMA recursive_triggers", 0, NULL, &r), "1");
    assert_true(drv->alive(f->db));

    nq__db *mem = NULL;
    nq_err e;
    must(drv->connect(":memory:", &mem, &e), &e, ":memory:");
    assert_string_equal(value(mem, "SELECT 40 + 2", 0, NULL, &r), "42");
    drv->disconnect(mem);
    drv->disconnect(NULL);
}

/* ---- the schema -------------------------------------------------------------- */

static void test_schema(void **state)
{
    fx *f = *state;
    rows r;
    assert_string_equal(value(f->db,
                              "SELECT count(*) FROM sqlite_master WHERE type = 'table' "
                              "AND name NOT LIKE 'sqlite_%'",
                              0, NULL, &r),
                        "16"); /* version 1's 15, and version 2's refresh_tokens */
    nq_err e;
    must(query(f->db,
               "SELECT name FROM sqlite_master WHERE type = 'index' "
               "AND name NOT LIKE 'sqlite_%' ORDER BY name",
               0, NULL, &r, &e),
         &e, "indexes");
    assert_int_equal(r.n, 4);
    assert_string_equal(r.val[0][0], "decisions_created");
    assert_string_equal(r.val[1][0], "decisions_unit_seq");
    assert_string_equal(r.val[2][0], "jobs_state");
    assert_string_equal(r.val[3][0], "refresh_tokens_family");
    must(query(f->db, "SELECT name FROM sqlite_master WHERE type = 'trigger' ORDER BY name", 0,
               NULL, &r, &e),
         &e, "triggers");
    assert_int_equal(r.n, 3);
    assert_string_equal(r.val[0][0], "audit_head_no_delete");
    assert_string_equal(r.val[1][0], "audit_log_no_delete");
    assert_string_equal(r.val[2][0], "audit_log_no_update");

    /* Seeds: the five roles and the head of an empty chain. */
    must(query(f->db, "SELECT name, description FROM roles ORDER BY name", 0, NULL, &r, &e), &e,
         "roles");
    assert_int_equal(r.n, 5);
    const char *names[] = {"admin", "analyst", "auditor", "operator", "viewer"};
    for (int i = 0; i < 5; i++) {
        assert_string_equal(r.val[i][0], names[i]);
        assert_true(r.len[i][1] > 0);
    }
    must(query(f->db, "SELECT id, seq, hash FROM audit_head", 0, NULL, &r, &e), &e, "head");
    assert_int_equal(r.n, 1);
    assert_string_equal(r.val[0][0], "1");
    assert_string_equal(r.val[0][1], "0");
    assert_int_equal(r.len[0][2], 64);
    assert_int_equal(strspn(r.val[0][2], "0"), 64);
    /* There is one head row, ever. */
    const char *p2[] = {"2"};
    assert_int_equal(
        run(f->db, "INSERT INTO audit_head (id, seq, hash) VALUES ($1, 0, 'x')", 1, p2, &e),
        NQ_EINVAL);
}

/* ---- parameters, rows, changes ----------------------------------------------- */

static const char put_decision_sql[] =
    "INSERT INTO decisions (id, unit, kind, request, result, solver, status, latency, \"user\", "
    "quantum_enhanced, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";

static int put_decision(nq__db *db, const char *id, const char *result, int64_t *changes, nq_err *e)
{
    const char *p[] = {id,   "nqba", "solve", "{\"n\": 1}", result,        "",
                       "ok", "0.25", NULL,    "1",          "1700000000.5"};
    return drv->exec(db, put_decision_sql, 11, p, NULL, NULL, changes, e);
}

static void test_params_and_nulls(void **state)
{
    fx *f = *state;
    nq_err e;
    int64_t changes = -1;
    must(put_decision(f->db, "d1", NULL, &changes, &e), &e, "put d1");
    assert_int_equal(changes, 1);

    rows r;
    const char *id[] = {"d1"};
    must(query(f->db,
               "SELECT id, result, \"user\", solver, latency, quantum_enhanced, created_at, "
               "request FROM decisions WHERE id = $1",
               1, id, &r, &e),
         &e, "get d1");
    assert_int_equal(r.n, 1);
    assert_int_equal(r.ncol, 8);
    assert_string_equal(r.val[0][0], "d1");
    assert_int_equal(r.len[0][0], 2);
    assert_true(r.is_null[0][1]);  /* result NULL */
    assert_true(r.is_null[0][2]);  /* user NULL */
    assert_false(r.is_null[0][3]); /* solver '' is not NULL */
    assert_int_equal(r.len[0][3], 0);
    assert_string_equal(r.val[0][4], "0.25");         /* text converted to REAL and back */
    assert_string_equal(r.val[0][5], "1");            /* to INTEGER */
    assert_string_equal(r.val[0][6], "1700000000.5"); /* seconds */
    assert_string_equal(r.val[0][7], "{\"n\": 1}");

    /* Numbers passed as text compare as numbers against numeric columns
     * and work as LIMIT. */
    const char *from[] = {"1699999999.75", "1"};
    must(query(f->db, "SELECT id FROM decisions WHERE created_at >= $1 LIMIT $2", 2, from, &r, &e),
         &e, "range");
    assert_int_equal(r.n, 1);

    /* Order, reuse and unused parameters. */
    const char *ab[] = {"a", "b", "unused"};
    assert_string_equal(value(f->db, "SELECT $2 || $1 || $2", 3, ab, &r), "bab");
    assert_string_equal(value(f->db, "SELECT $3", 3, ab, &r), "unused");
    const char *nul[] = {NULL};
    assert_string_equal(value(f->db, "SELECT $1 IS NULL", 1, nul, &r), "1");

    /* A missing parameter or one not written $n is the caller's bug. */
    assert_int_equal(run(f->db, "SELECT $3", 2, ab, &e), NQ_EINVAL);
    assert_int_equal(run(f->db, "SELECT ?", 1, ab, &e), NQ_EINVAL);
    assert_int_equal(run(f->db, "SELECT :name", 1, ab, &e), NQ_EINVAL);
    assert_int_equal(run(f->db, "SELECT $1", 1, NULL, &e), NQ_EINVAL);
    assert_true(drv->alive(f->db));
}

static void test_changes(void **state)
{
    fx *f = *state;
    nq_err e;
    static const char ins[] = "INSERT INTO companies (name, created_at) VALUES ($1, 1)";
    for (int i = 0; i < 3; i++) {
        const char *p[] = {"acme"};
        must(run(f->db, ins, 1, p, &e), &e, "insert");
    }
    int64_t changes = -1;
    must(drv->exec(f->db, "UPDATE companies SET industry = 'energy'", 0, NULL, NULL, NULL, &changes,
                   &e),
         &e, "update");
    assert_int_equal(changes, 3);
    /* A SELECT changes nothing, whatever the last UPDATE did. */
    must(drv->exec(f->db, "SELECT count(*) FROM companies", 0, NULL, NULL, NULL, &changes, &e), &e,
         "select");
    assert_int_equal(changes, 0);
    must(drv->exec(f->db, "DELETE FROM companies WHERE id > 10", 0, NULL, NULL, NULL, &changes, &e),
         &e, "delete none");
    assert_int_equal(changes, 0);
}

static void test_stop_early(void **state)
{
    fx *f = *state;
    nq_err e;
    for (int i = 0; i < 3; i++)
        must(run(f->db, "INSERT INTO companies (name, created_at) VALUES ('c', 1)", 0, NULL, &e),
             &e, "insert");
    rows r;
    memset(&r, 0, sizeof r);
    r.stop_after = 1;
    assert_int_equal(
        drv->exec(f->db, "SELECT id FROM companies ORDER BY id", 0, NULL, collect, &r, NULL, &e),
        NQ_OK);
    assert_int_equal(r.n, 1);
    assert_string_equal(r.val[0][0], "1");

    /* Stopping after the first row of an INSERT ... RETURNING still
     * inserts every row, and the statement does not hold the database:
     * a write transaction starts at once. */
    memset(&r, 0, sizeof r);
    r.stop_after = 1;
    int64_t changes = 0;
    assert_int_equal(drv->exec(f->db,
                               "INSERT INTO companies (name, created_at) "
                               "SELECT name, 2 FROM companies RETURNING id",
                               0, NULL, collect, &r, &changes, &e),
                     NQ_OK);
    assert_int_equal(r.n, 1);
    assert_int_equal(changes, 3);
    assert_string_equal(value(f->db, "SELECT count(*) FROM companies", 0, NULL, &r), "6");
    must(run(f->db, "BEGIN IMMEDIATE", 0, NULL, &e), &e, "begin");
    must(run(f->db, "COMMIT", 0, NULL, &e), &e, "commit");
}

static void test_row_limits(void **state)
{
    fx *f = *state;
    /* 65 columns: one more than a row can carry. Static, as the cache
     * keys statements by the address of their text. */
    static char wide[512];
    size_t o = (size_t)snprintf(wide, sizeof wide, "SELECT 0");
    for (int i = 1; i < 65; i++)
        o += (size_t)snprintf(wide + o, sizeof wide - o, ",%d", i);
    assert_true(o < sizeof wide);
    rows r;
    nq_err e;
    assert_int_equal(query(f->db, wide, 0, NULL, &r, &e), NQ_EINVAL);
    assert_int_equal(run(f->db, wide, 0, NULL, &e), NQ_OK); /* no rows wanted: fine */

    assert_int_equal(run(f->db, "SELECT 1; SELECT 2", 0, NULL, &e), NQ_EINVAL);
    assert_int_equal(run(f->db, "  ", 0, NULL, &e), NQ_EINVAL);
    assert_int_equal(run(f->db, "SELECT 1;\n", 0, NULL, &e), NQ_OK);
    assert_int_equal(run(f->db, "SELEKT 1", 0, NULL, &e), NQ_EIO);
    assert_non_null(strstr(e.msg, "syntax error"));
    assert_int_equal(drv->script(f->db, "SELEKT 1", &e), NQ_EIO);
    assert_int_equal(run(f->db, "SELECT * FROM no_such_table", 0, NULL, &e), NQ_EIO);
    assert_true(drv->alive(f->db));
}

/* ---- the statement cache ------------------------------------------------------- */

/* The cache can be seen from SQL only through the sqlite_stmt table,
 * which not every build of SQLite has. */
static int have_stmt_vtab(nq__db *db)
{
    rows r;
    return strcmp(value(db,
                        "SELECT count(*) FROM pragma_compile_options "
                        "WHERE compile_options = 'ENABLE_STMTVTAB'",
                        0, NULL, &r),
                  "1") == 0;
}

static void test_cache_reuse(void **state)
{
    fx *f = *state;
    static const char ins[] = "INSERT INTO companies (name, created_at) VALUES ($1, $2)";
    nq_err e;
    rows r;
    /* In one transaction: 200 synchronous commits would cost seconds on a disk. */
    must(run(f->db, "BEGIN IMMEDIATE", 0, NULL, &e), &e, "begin");
    for (int i = 0; i < 200; i++) {
        char name[32], at[32];
        snprintf(name, sizeof name, "company %d", i);
        snprintf(at, sizeof at, "%d.5", 1700000000 + i);
        const char *p[] = {name, at};
        int64_t changes = 0;
        must(drv->exec(f->db, ins, 2, p, NULL, NULL, &changes, &e), &e, "insert");
        assert_int_equal(changes, 1);
    }
    must(run(f->db, "COMMIT", 0, NULL, &e), &e, "commit");
    assert_string_equal(value(f->db, "SELECT count(DISTINCT name) FROM companies", 0, NULL, &r),
                        "200");
    const char *id[] = {"200"};
    assert_string_equal(value(f->db, "SELECT created_at FROM companies WHERE id = $1", 1, id, &r),
                        "1700000199.5");
    if (!have_stmt_vtab(f->db)) {
        print_message("sqlite_stmt not built in: cache reuse checked by results only\n");
        return;
    }
    /* One prepared statement, run 200 times. */
    assert_string_equal(value(f->db,
                              "SELECT count(*) || ' ' || max(run) FROM sqlite_stmt "
                              "WHERE sql LIKE 'INSERT INTO companies%'",
                              0, NULL, &r),
                        "1 200");
}

static void test_cache_eviction(void **state)
{
    fx *f = *state;
    enum { N = 100 };
    /* Distinct texts at distinct addresses; they must outlive the
     * connection, so they are freed after it is closed. */
    char *sql[N];
    rows r;
    for (int i = 0; i < N; i++) {
        sql[i] = malloc(32);
        assert_non_null(sql[i]);
        snprintf(sql[i], 32, "SELECT %d + $1", i);
    }
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < N; i++) {
            const char *one[] = {"1"};
            char want[16];
            snprintf(want, sizeof want, "%d", i + 1);
            assert_string_equal(value(f->db, sql[i], 1, one, &r), want);
        }
    }
    if (have_stmt_vtab(f->db))
        assert_true(atoi(value(f->db, "SELECT count(*) FROM sqlite_stmt", 0, NULL, &r)) <= 64);
    drv->disconnect(f->db);
    f->db = NULL;
    for (int i = 0; i < N; i++)
        free(sql[i]);
}

/* ---- errors ----------------------------------------------------------------------- */

static void test_constraints(void **state)
{
    fx *f = *state;
    nq_err e;
    must(put_decision(f->db, "d1", "{}", NULL, &e), &e, "put");
    assert_int_equal(put_decision(f->db, "d1", "{}", NULL, &e), NQ_EINVAL);
    assert_int_equal(e.code, NQ_EINVAL);
    assert_non_null(strstr(e.msg, "UNIQUE"));
    assert_true(drv->alive(f->db));
    must(put_decision(f->db, "d2", "{}", NULL, &e), &e, "after a violation");

    /* JSON columns hold JSON. */
    assert_int_equal(put_decision(f->db, "d3", "{not json", NULL, &e), NQ_EINVAL);
    assert_non_null(strstr(e.msg, "CHECK"));
    /* Booleans are 0 or 1. */
    assert_int_equal(run(f->db,
                         "INSERT INTO lead_scoring (quantum_enhanced, created_at) VALUES ('2', 1)",
                         0, NULL, &e),
                     NQ_EINVAL);
    /* Foreign keys are enforced. */
    const char *u[] = {"ann", "h", "nobody"};
    assert_int_equal(run(f->db,
                         "INSERT INTO users (username, password_hash, role, created_at) "
                         "VALUES ($1, $2, $3, 1)",
                         3, u, &e),
                     NQ_EINVAL);
    assert_non_null(strstr(e.msg, "FOREIGN KEY"));
    u[2] = "viewer";
    must(run(f->db,
             "INSERT INTO users (username, password_hash, role, created_at) "
             "VALUES ($1, $2, $3, 1)",
             3, u, &e),
         &e, "user");
    /* NOT NULL, and TEXT keys may not be NULL either. */
    assert_int_equal(
        run(f->db, "INSERT INTO companies (name, created_at) VALUES (NULL, 1)", 0, NULL, &e),
        NQ_EINVAL);
    assert_int_equal(run(f->db,
                         "INSERT INTO jobs (id, kind, state, priority, created_at) "
                         "VALUES (NULL, 'k', 's', 'p', 1)",
                         0, NULL, &e),
                     NQ_EINVAL);
    assert_true(drv->alive(f->db));
}

static const char audit_put_sql[] =
    "INSERT INTO audit_log (seq, at_us, actor, action, prev_hash, entry_hash) "
    "VALUES ($1, 1, 'system', 'test', 'p', 'h')";

static void test_audit_append_only(void **state)
{
    fx *f = *state;
    nq_err e;
    const char *one[] = {"1"};
    must(run(f->db, audit_put_sql, 1, one, &e), &e, "append");

    /* Inside a write transaction, as the store's code runs: the refused
     * statement fails alone and the transaction goes on. */
    must(run(f->db, "BEGIN IMMEDIATE", 0, NULL, &e), &e, "begin");
    assert_int_equal(run(f->db, "UPDATE audit_log SET actor = 'mallory'", 0, NULL, &e), NQ_EINVAL);
    assert_non_null(strstr(e.msg, "audit_log is append-only"));
    assert_int_equal(run(f->db, "DELETE FROM audit_log", 0, NULL, &e), NQ_EINVAL);
    assert_non_null(strstr(e.msg, "audit_log is append-only"));
    assert_int_equal(run(f->db,
                         "INSERT OR REPLACE INTO audit_log (seq, at_us, actor, action, prev_hash, "
                         "entry_hash) VALUES (1, 2, 'mallory', 'x', 'p', 'h')",
                         0, NULL, &e),
                     NQ_EINVAL);
    assert_int_equal(run(f->db, audit_put_sql, 1, one, &e), NQ_EINVAL); /* same seq */
    assert_int_equal(run(f->db, "DELETE FROM audit_head", 0, NULL, &e), NQ_EINVAL);
    must(run(f->db, "UPDATE audit_head SET seq = 1, hash = 'h'", 0, NULL, &e), &e, "head");
    must(run(f->db, "COMMIT", 0, NULL, &e), &e, "commit");

    rows r;
    assert_string_equal(value(f->db, "SELECT actor FROM audit_log WHERE seq = 1", 0, NULL, &r),
                        "system");
    assert_string_equal(value(f->db, "SELECT seq FROM audit_head", 0, NULL, &r), "1");

    /* Someone with access to the file can drop the guard (what the audit
     * verification tests simulate). */
    must(drv->script(f->db, "DROP TRIGGER audit_log_no_update", &e), &e, "drop");
    must(run(f->db, "UPDATE audit_log SET actor = 'mallory'", 0, NULL, &e), &e, "tamper");
}

static void test_busy(void **state)
{
    fx *f = *state;
    nq__db *other = NULL;
    nq_err e;
    must(drv->connect(f->path, &other, &e), &e, "second connection");
    rows r;
    /* Do not wait the configured 10 s for the lock. */
    value(other, "PRAGMA busy_timeout = 0", 0, NULL, &r);
    must(run(f->db, "BEGIN IMMEDIATE", 0, NULL, &e), &e, "begin");
    assert_int_equal(run(other, "BEGIN IMMEDIATE", 0, NULL, &e), NQ_EUNAVAIL);
    assert_non_null(strstr(e.msg, "locked"));
    assert_true(drv->alive(other));
    /* Readers are not blocked in WAL mode. */
    assert_string_equal(value(other, "SELECT count(*) FROM roles", 0, NULL, &r), "5");
    must(run(f->db, "COMMIT", 0, NULL, &e), &e, "commit");
    must(run(other, "BEGIN IMMEDIATE", 0, NULL, &e), &e, "begin after");
    must(run(other, "ROLLBACK", 0, NULL, &e), &e, "rollback");
    drv->disconnect(other);
}

static void test_connect_errors(void **state)
{
    fx *f = *state;
    nq__db *db = (nq__db *)1;
    nq_err e;
    assert_int_equal(drv->connect("", &db, &e), NQ_EINVAL);
    assert_null(db);

    char path[256];
    snprintf(path, sizeof path, "%s/no/such/dir/store.db", f->dir);
    assert_int_equal(drv->connect(path, &db, &e), NQ_EUNAVAIL);
    assert_null(db);
    assert_int_equal(e.code, NQ_EUNAVAIL);
    assert_non_null(strstr(e.msg, path));
    assert_non_null(strstr(e.msg, "No such file or directory"));

    /* A file that is not a database. */
    snprintf(path, sizeof path, "%s/junk.db", f->dir);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    for (int i = 0; i < 1024; i++)
        fputs("not a database ", fp);
    fclose(fp);
    assert_int_equal(drv->connect(path, &db, &e), NQ_EUNAVAIL);
    assert_null(db);
    assert_non_null(strstr(e.msg, "not a database"));
}

/* A file damaged under an open connection: the connection reports it as
 * unusable so that the pool drops it. */
static void test_damaged_file(void **state)
{
    fx *f = *state;
    char path[256];
    snprintf(path, sizeof path, "%s/damaged.db", f->dir);
    nq__db *db = NULL;
    nq_err e;
    must(drv->connect(path, &db, &e), &e, "connect");
    FILE *fp = fopen(path, "r+");
    assert_non_null(fp);
    for (int i = 0; i < 512; i++)
        fputs("garbage!", fp);
    fclose(fp);
    assert_int_equal(run(db, "SELECT count(*) FROM sqlite_master", 0, NULL, &e), NQ_EUNAVAIL);
    assert_false(drv->alive(db));
    drv->disconnect(db);
}

/* A read-only database: the connection opens and reads, a write is
 * NQ_EUNAVAIL (the tests run as root, for whom file modes do not stop
 * writes, so read-only comes from SQLite's own mode=ro). */
static void test_read_only(void **state)
{
    fx *f = *state;
    const char *one[] = {"1"};
    nq_err e;
    must(run(f->db, audit_put_sql, 1, one, &e), &e, "append");
    char uri[256];
    snprintf(uri, sizeof uri, "file:%s?mode=ro", f->path);
    nq__db *ro = NULL;
    must(drv->connect(uri, &ro, &e), &e, "read-only connection");
    rows r;
    assert_string_equal(value(ro, "SELECT count(*) FROM audit_log", 0, NULL, &r), "1");
    const char *two[] = {"2"};
    assert_int_equal(run(ro, audit_put_sql, 1, two, &e), NQ_EUNAVAIL);
    assert_non_null(strstr(e.msg, "readonly"));
    assert_int_equal(drv->script(ro, "DELETE FROM companies", &e), NQ_EUNAVAIL);
    assert_true(drv->alive(ro));
    drv->disconnect(ro);
}

/* A full disk, modelled by capping the file at its current size. */
static void test_full(void **state)
{
    fx *f = *state;
    rows r;
    char cap[64];
    snprintf(cap, sizeof cap, "%s", value(f->db, "PRAGMA page_count", 0, NULL, &r));
    static char set_cap[96];
    snprintf(set_cap, sizeof set_cap, "PRAGMA max_page_count = %s", cap);
    value(f->db, set_cap, 0, NULL, &r);

    size_t n = 200000;
    char *doc = malloc(n + 3);
    assert_non_null(doc);
    doc[0] = '"';
    memset(doc + 1, 'x', n);
    doc[n + 1] = '"';
    doc[n + 2] = '\0';
    const char *p[] = {doc};
    nq_err e;
    assert_int_equal(run(f->db,
                         "INSERT INTO companies (name, document, created_at) "
                         "VALUES ('big', $1, 1)",
                         1, p, &e),
                     NQ_EUNAVAIL);
    free(doc);
    assert_non_null(strstr(e.msg, "full"));
    assert_true(drv->alive(f->db));
    must(run(f->db, "INSERT INTO companies (name, created_at) VALUES ('small', 1)", 0, NULL, &e),
         &e, "a small row still fits");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_driver_fields),
        cmocka_unit_test_setup_teardown(test_connection_settings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_schema, setup, teardown),
        cmocka_unit_test_setup_teardown(test_params_and_nulls, setup, teardown),
        cmocka_unit_test_setup_teardown(test_changes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stop_early, setup, teardown),
        cmocka_unit_test_setup_teardown(test_row_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cache_reuse, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cache_eviction, setup, teardown),
        cmocka_unit_test_setup_teardown(test_constraints, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit_append_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_busy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_connect_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_damaged_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_full, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
