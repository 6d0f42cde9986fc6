/* test_store_pg.c - the PostgreSQL driver against a real server: the
 * schema's migrations, parameters and NULLs, the prepared-statement cache,
 * and the error mapping (constraints, triggers, read-only, lost and
 * unreachable servers, malformed URLs).
 *
 * The server is the one NQ_TEST_PG_URL names (scripts/testdb.sh starts a
 * throwaway one); without it the tests that need a server are skipped.
 * Everything runs in a schema of its own, named after the process and
 * dropped at the end, so reruns and parallel runs do not collide. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h> /* after the headers it needs */

#include <arpa/inet.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../../lib/store/store_internal.h"

#define PG (&nq__driver_postgresql)

typedef struct fixture {
    const char *url; /* NULL: no server, skip */
    nq__db *db;
    char schema[64];
} fixture;

static fixture fx;

#define NEED_PG()                                                                                  \
    do {                                                                                           \
        if (!fx.db)                                                                                \
            skip();                                                                                \
    } while (0)

/* ---- helpers --------------------------------------------------------------- */

#define MAX_ROWS 8
#define MAX_COLS 4
#define MAX_VAL 80

typedef struct rows {
    int n;          /* rows seen */
    int ncols;      /* columns of the last row */
    int stop_after; /* 0 = read all */
    char val[MAX_ROWS][MAX_COLS][MAX_VAL];
    int null[MAX_ROWS][MAX_COLS];
    size_t len[MAX_ROWS][MAX_COLS];
} rows;

static int collect(void *user, int n, const char *const *vals, const size_t *lens)
{
    rows *r = user;
    if (r->n < MAX_ROWS) {
        for (int c = 0; c < n && c < MAX_COLS; c++) {
            r->null[r->n][c] = vals[c] == NULL;
            r->len[r->n][c] = lens[c];
            snprintf(r->val[r->n][c], MAX_VAL, "%s", vals[c] ? vals[c] : "");
        }
    }
    r->ncols = n;
    r->n++;
    return r->stop_after && r->n >= r->stop_after;
}

/* One statement expected to succeed, its rows in *r (may be NULL). */
static int64_t run(nq__db *db, const char *sql, int n, const char *const *params, rows *r)
{
    nq_err err;
    int64_t changes = -1;
    nq_err_clear(&err);
    if (r)
        memset(r, 0, sizeof *r);
    int rc = PG->exec(db, sql, n, params, r ? collect : NULL, r, &changes, &err);
    if (rc != NQ_OK)
        print_error("%s: %s\n", sql, err.msg);
    assert_int_equal(rc, NQ_OK);
    return changes;
}

/* One statement expected to fail with code; err gets the details. */
static void fails(nq__db *db, const char *sql, int n, const char *const *params, int code,
                  nq_err *err)
{
    nq_err_clear(err);
    int rc = PG->exec(db, sql, n, params, NULL, NULL, NULL, err);
    if (rc != code)
        print_error("%s: got %d (%s)\n", sql, rc, err->msg);
    assert_int_equal(rc, code);
    assert_int_equal(err->code, code);
    assert_true(err->msg[0] != '\0');
}

static long long count(nq__db *db, const char *sql)
{
    rows r;
    run(db, sql, 0, NULL, &r);
    assert_int_equal(r.n, 1);
    return atoll(r.val[0][0]);
}

/* A second connection that works in the test schema. */
static nq__db *connect_in_schema(void)
{
    nq__db *db = NULL;
    nq_err err;
    assert_int_equal(PG->connect(fx.url, &db, &err), NQ_OK);
    char sql[128];
    snprintf(sql, sizeof sql, "SET search_path = %s", fx.schema);
    assert_int_equal(PG->script(db, sql, &err), NQ_OK);
    return db;
}

/* Each migration in its own transaction, as the store's runner does. */
static int migrate(nq__db *db, nq_err *err)
{
    for (int i = 0; i < PG->n_migrations; i++) {
        int rc = PG->exec(db, PG->begin_write, 0, NULL, NULL, NULL, NULL, err);
        if (rc == NQ_OK)
            rc = PG->exec(db, PG->migrate_lock, 0, NULL, NULL, NULL, NULL, err);
        if (rc == NQ_OK)
            rc = PG->script(db, PG->migrations[i], err);
        if (rc == NQ_OK)
            rc = PG->exec(db, "COMMIT", 0, NULL, NULL, NULL, NULL, err);
        if (rc != NQ_OK) {
            PG->script(db, "ROLLBACK", NULL);
            return rc;
        }
    }
    return NQ_OK;
}

static int group_setup(void **state)
{
    (void)state;
    fx.url = getenv("NQ_TEST_PG_URL");
    if (!fx.url || !*fx.url) {
        fx.url = NULL;
        return 0;
    }
    nq_err err;
    if (PG->connect(fx.url, &fx.db, &err) != NQ_OK) {
        print_error("cannot connect to NQ_TEST_PG_URL: %s\n", err.msg);
        return -1;
    }
    snprintf(fx.schema, sizeof fx.schema, "nq_test_%ld_%ld", (long)getpid(), (long)time(NULL));
    char sql[256];
    snprintf(sql, sizeof sql, "DROP SCHEMA IF EXISTS %s CASCADE; CREATE SCHEMA %s; SET search_path = %s",
             fx.schema, fx.schema, fx.schema);
    if (PG->script(fx.db, sql, &err) != NQ_OK || migrate(fx.db, &err) != NQ_OK) {
        print_error("setup: %s\n", err.msg);
        return -1;
    }
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    if (!fx.db)
        return 0;
    char sql[128];
    nq_err err;
    snprintf(sql, sizeof sql, "DROP SCHEMA %s CASCADE", fx.schema);
    int rc = PG->script(fx.db, sql, &err);
    PG->disconnect(fx.db);
    fx.db = NULL;
    return rc == NQ_OK ? 0 : -1;
}

/* ---- the driver table and the schema -------------------------------------- */

static void test_driver_table(void **state)
{
    (void)state;
    assert_string_equal(PG->name, "postgresql");
    assert_string_equal(PG->begin_write, "BEGIN");
    assert_non_null(PG->migrate_lock);
    assert_int_equal(PG->row_locks, 1);
    assert_ptr_equal(PG->migrations, nq__schema_pg);
    assert_int_equal(PG->n_migrations, nq__schema_pg_n);
    assert_true(nq__schema_pg_n >= 1);
    PG->disconnect(NULL);
    assert_int_equal(PG->alive(NULL), 0);
}

static void test_migrated_schema(void **state)
{
    (void)state;
    NEED_PG();
    assert_int_equal(count(fx.db, "SELECT count(*) FROM information_schema.tables"
                                  " WHERE table_schema = current_schema()"),
                     16); /* version 1's 15, and version 2's refresh_tokens */
    assert_int_equal(count(fx.db, "SELECT count(*) FROM information_schema.triggers"
                                  " WHERE event_object_schema = current_schema()"),
                     3);
    assert_int_equal(count(fx.db, "SELECT count(*) FROM pg_indexes WHERE schemaname = current_schema()"
                                  " AND indexname IN ('decisions_unit_seq', 'decisions_created', 'jobs_state')"),
                     3);

    rows r;
    run(fx.db, "SELECT name, description FROM roles ORDER BY name", 0, NULL, &r);
    assert_int_equal(r.n, 5);
    const char *want[] = {"admin", "analyst", "auditor", "operator", "viewer"};
    for (int i = 0; i < 5; i++) {
        assert_string_equal(r.val[i][0], want[i]);
        assert_true(r.len[i][1] > 0);
    }

    run(fx.db, "SELECT id, seq, hash FROM audit_head", 0, NULL, &r);
    assert_int_equal(r.n, 1);
    assert_string_equal(r.val[0][0], "1");
    assert_string_equal(r.val[0][1], "0");
    assert_int_equal(r.len[0][2], 64);
    assert_int_equal(strspn(r.val[0][2], "0"), 64);

    /* Types the common code relies on. */
    run(fx.db, "SELECT data_type FROM information_schema.columns WHERE table_schema = current_schema()"
               " AND table_name = 'decisions' AND column_name IN ('request', 'created_at', 'user')"
               " ORDER BY column_name",
        0, NULL, &r);
    assert_int_equal(r.n, 3);
    assert_string_equal(r.val[0][0], "double precision");
    /* json, not jsonb: decisions are written far more often than queried
     * by content, and json stores the text as checked, without decomposing
     * it (a third of the cost of a write at 64 writers). */
    assert_string_equal(r.val[1][0], "json");
    assert_string_equal(r.val[2][0], "text");
}

/* ---- parameters, rows, changes -------------------------------------------- */

static void test_params_and_nulls(void **state)
{
    (void)state;
    NEED_PG();
    const char *ins[] = {"Acme", NULL, "{\"k\": [1, 2]}", "1700000000.5"};
    rows r;
    int64_t changes = run(fx.db,
                          "INSERT INTO companies (name, industry, document, created_at)"
                          " VALUES ($1, $2, $3, $4) RETURNING id",
                          4, ins, &r);
    assert_int_equal(changes, 1);
    assert_int_equal(r.n, 1);
    assert_false(r.null[0][0]);
    char id[MAX_VAL];
    snprintf(id, sizeof id, "%s", r.val[0][0]);

    const char *key[] = {id};
    changes = run(fx.db, "SELECT name, industry, document, created_at FROM companies WHERE id = $1", 1,
                  key, &r);
    assert_int_equal(changes, 0); /* a SELECT writes nothing */
    assert_int_equal(r.n, 1);
    assert_int_equal(r.ncols, 4);
    assert_string_equal(r.val[0][0], "Acme");
    assert_int_equal(r.len[0][0], 4);
    assert_true(r.null[0][1]);
    assert_int_equal(r.len[0][1], 0);
    assert_string_equal(r.val[0][2], "{\"k\": [1, 2]}");
    assert_string_equal(r.val[0][3], "1700000000.5");

    /* NULL parameters in a WHERE, and an update's row count. */
    const char *upd[] = {"tools", id};
    assert_int_equal(run(fx.db, "UPDATE companies SET industry = $1 WHERE id = $2", 2, upd, NULL), 1);
    const char *isnull[] = {NULL};
    run(fx.db, "SELECT $1::text IS NULL, $1::text", 1, isnull, &r);
    assert_string_equal(r.val[0][0], "t");
    assert_true(r.null[0][1]);

    /* An empty string is not NULL. */
    const char *empty[] = {""};
    run(fx.db, "SELECT $1::text IS NULL, length($1::text)", 1, empty, &r);
    assert_string_equal(r.val[0][0], "f");
    assert_string_equal(r.val[0][1], "0");
}

static void test_rows_stop_and_changes(void **state)
{
    (void)state;
    NEED_PG();
    for (int i = 0; i < 3; i++) {
        const char *p[] = {i == 1 ? NULL : "x@example.com", "1700000001"};
        assert_int_equal(run(fx.db, "INSERT INTO leads (email, created_at) VALUES ($1, $2)", 2, p, NULL), 1);
    }
    rows r;
    memset(&r, 0, sizeof r);
    r.stop_after = 1;
    nq_err err;
    assert_int_equal(PG->exec(fx.db, "SELECT id FROM leads ORDER BY id", 0, NULL, collect, &r, NULL, &err),
                     NQ_OK);
    assert_int_equal(r.n, 1);

    /* No callback: the rows are read and dropped. */
    assert_int_equal(PG->exec(fx.db, "SELECT id FROM leads ORDER BY id", 0, NULL, NULL, NULL, NULL, &err),
                     NQ_OK);

    assert_int_equal(run(fx.db, "DELETE FROM leads", 0, NULL, NULL), 3);
    assert_int_equal(run(fx.db, "DELETE FROM leads", 0, NULL, NULL), 0);
}

static void test_transactions(void **state)
{
    (void)state;
    NEED_PG();
    const char *p[] = {"Rolled back", "1"};
    run(fx.db, PG->begin_write, 0, NULL, NULL);
    run(fx.db, "INSERT INTO companies (name, created_at) VALUES ($1, $2)", 2, p, NULL);
    run(fx.db, "ROLLBACK", 0, NULL, NULL);
    const char *q[] = {"Rolled back"};
    rows r;
    run(fx.db, "SELECT count(*) FROM companies WHERE name = $1", 1, q, &r);
    assert_string_equal(r.val[0][0], "0");

    /* A failed statement aborts the transaction; ROLLBACK recovers. */
    nq_err err;
    run(fx.db, PG->begin_write, 0, NULL, NULL);
    run(fx.db, "SELECT * FROM audit_head FOR UPDATE", 0, NULL, NULL);
    fails(fx.db, "SELECT 1/0", 0, NULL, NQ_EIO, &err);
    fails(fx.db, "SELECT 1", 0, NULL, NQ_EIO, &err); /* 25P02: aborted */
    run(fx.db, "ROLLBACK", 0, NULL, NULL);
    assert_int_equal(count(fx.db, "SELECT 1"), 1);
    assert_int_equal(PG->alive(fx.db), 1);
}

/* ---- the statement cache ---------------------------------------------------- */

static void test_cache_reuse(void **state)
{
    (void)state;
    NEED_PG();
    static const char *const prepared = "SELECT count(*) FROM pg_prepared_statements";
    long long before = count(fx.db, prepared);
    for (int i = 0; i < 200; i++) {
        char num[16], want[16];
        snprintf(num, sizeof num, "%d", i);
        snprintf(want, sizeof want, "%d", i + 1);
        const char *p[] = {num};
        rows r;
        run(fx.db, "SELECT $1::int + 1", 1, p, &r);
        assert_string_equal(r.val[0][0], want);
    }
    /* 200 runs, one prepared statement more. */
    assert_int_equal(count(fx.db, prepared), before + 1);
}

/* More distinct statements than the cache holds (128): the oldest are
 * deallocated on the server and prepared again when they come back. */
#define EVICT_N 150
static char evict_sql[EVICT_N][40]; /* static: the cache keys on the address */

static void test_cache_eviction(void **state)
{
    (void)state;
    NEED_PG();
    nq__db *db = connect_in_schema();
    for (int i = 0; i < EVICT_N; i++)
        snprintf(evict_sql[i], sizeof evict_sql[i], "SELECT %d + $1::int", i);
    const char *zero[] = {"0"};
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < EVICT_N; i++) {
            rows r;
            run(db, evict_sql[i], 1, zero, &r);
            assert_int_equal(atoi(r.val[0][0]), i);
        }
    }
    static const char *const prepared = "SELECT count(*) FROM pg_prepared_statements";
    assert_int_equal(count(db, prepared), 128);
    PG->disconnect(db);
}

/* ---- errors ------------------------------------------------------------------- */

static void test_constraint_violations(void **state)
{
    (void)state;
    NEED_PG();
    nq_err err;
    const char *dup[] = {"admin", "again"};
    fails(fx.db, "INSERT INTO roles (name, description) VALUES ($1, $2)", 2, dup, NQ_EINVAL, &err);
    assert_non_null(strstr(err.msg, "duplicate key"));

    const char *fk[] = {"alice", "h", "no-such-role", "1"};
    fails(fx.db, "INSERT INTO users (username, password_hash, role, created_at) VALUES ($1, $2, $3, $4)",
          4, fk, NQ_EINVAL, &err);
    const char *nn[] = {NULL, "1"};
    fails(fx.db, "INSERT INTO companies (name, created_at) VALUES ($1, $2)", 2, nn, NQ_EINVAL, &err);
    fails(fx.db, "INSERT INTO audit_head (id, seq, hash) VALUES (2, 0, 'x')", 0, NULL, NQ_EINVAL, &err);

    /* The connection is fine afterwards. */
    assert_int_equal(PG->alive(fx.db), 1);
    assert_int_equal(count(fx.db, "SELECT count(*) FROM roles"), 5);
}

static void test_audit_append_only(void **state)
{
    (void)state;
    NEED_PG();
    nq_err err;
    const char *e[] = {"1", "1700000000000000", "system", "test", "0", "abc"};
    assert_int_equal(run(fx.db,
                         "INSERT INTO audit_log (seq, at_us, actor, action, prev_hash, entry_hash)"
                         " VALUES ($1, $2, $3, $4, $5, $6)",
                         6, e, NULL),
                     1);
    const char *upd[] = {"mallory", "1"};
    fails(fx.db, "UPDATE audit_log SET actor = $1 WHERE seq = $2", 2, upd, NQ_EINVAL, &err);
    assert_string_equal(err.msg, "audit_log is append-only");
    const char *del[] = {"1"};
    fails(fx.db, "DELETE FROM audit_log WHERE seq = $1", 1, del, NQ_EINVAL, &err);
    assert_string_equal(err.msg, "audit_log is append-only");
    fails(fx.db, "DELETE FROM audit_head", 0, NULL, NQ_EINVAL, &err);
    assert_non_null(strstr(err.msg, "audit_head"));

    /* The head itself moves (UPDATE is allowed), and the entry is intact. */
    assert_int_equal(run(fx.db, "UPDATE audit_head SET seq = seq + 1 WHERE id = 1", 0, NULL, NULL), 1);
    assert_int_equal(run(fx.db, "UPDATE audit_head SET seq = seq - 1 WHERE id = 1", 0, NULL, NULL), 1);
    assert_int_equal(count(fx.db, "SELECT count(*) FROM audit_log WHERE actor = 'system'"), 1);
}

static void test_other_errors(void **state)
{
    (void)state;
    NEED_PG();
    nq_err err;
    fails(fx.db, "SELEC 1", 0, NULL, NQ_EIO, &err);
    assert_int_equal(PG->script(fx.db, "SELECT 1; SELECT * FROM no_such_table", &err), NQ_EIO);
    assert_non_null(strstr(err.msg, "no_such_table"));
    const char *bad_json[] = {"not json", "1"};
    fails(fx.db, "INSERT INTO companies (name, document, created_at) VALUES ('j', $1, $2)", 2, bad_json,
          NQ_EIO, &err);
    /* A wrong parameter count is the caller's bug, not an outage. */
    fails(fx.db, "SELECT $1::int, $2::int", 1, (const char *const[]){"1"}, NQ_EIO, &err);
    assert_int_equal(PG->alive(fx.db), 1);
    /* Arguments the driver rejects before sending. */
    fails(fx.db, "SELECT $1::int", 1, NULL, NQ_EINVAL, &err);
    fails(fx.db, "SELECT 1", -1, NULL, NQ_EINVAL, &err);
    /* At most 64 columns. */
    static char wide[64 * 4 + 16], widest[65 * 4 + 16];
    strcpy(wide, "SELECT 1");
    for (int i = 1; i < 64; i++)
        strcat(wide, ",1");
    strcpy(widest, wide);
    strcat(widest, ",1");
    rows r;
    run(fx.db, wide, 0, NULL, &r);
    assert_int_equal(r.ncols, 64);
    nq_err_clear(&err);
    assert_int_equal(PG->exec(fx.db, widest, 0, NULL, collect, &r, NULL, &err), NQ_EINVAL);
    /* An empty script is fine. */
    assert_int_equal(PG->script(fx.db, "", &err), NQ_OK);
}

static void test_read_only(void **state)
{
    (void)state;
    NEED_PG();
    nq__db *db = connect_in_schema();
    nq_err err;
    assert_int_equal(PG->script(db, "SET default_transaction_read_only = on", &err), NQ_OK);
    const char *p[] = {"ro", "1"};
    fails(db, "INSERT INTO companies (name, created_at) VALUES ($1, $2)", 2, p, NQ_EUNAVAIL, &err);
    assert_non_null(strstr(err.msg, "read-only"));
    assert_int_equal(PG->alive(db), 1);
    assert_int_equal(count(db, "SELECT count(*) FROM roles"), 5); /* reads still work */
    PG->disconnect(db);
}

static void test_lost_connection(void **state)
{
    (void)state;
    NEED_PG();
    nq__db *db = connect_in_schema();
    rows r;
    run(db, "SELECT pg_backend_pid()", 0, NULL, &r);
    char pid[MAX_VAL];
    snprintf(pid, sizeof pid, "%s", r.val[0][0]);
    const char *p[] = {pid};
    /* The second argument waits (up to 5 s) until the backend is gone. */
    run(fx.db, "SELECT pg_terminate_backend($1::int, 5000)", 1, p, &r);
    assert_string_equal(r.val[0][0], "t");
    nq_err err;
    fails(db, "SELECT 1", 0, NULL, NQ_EUNAVAIL, &err);
    assert_int_equal(PG->alive(db), 0);
    PG->disconnect(db);
}

/* ---- connecting (no server needed) ------------------------------------------ */

static void test_malformed_urls(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "postgresql://[bad",
        "postgresql://nqba:s3cr3tpw@[bad",
        "postgresql://nqba@localhost/db?password=s3cr3tpw&no_such_option=1",
        "postgresql://nqba:s3c%zzr3tpw@localhost/db",
        "host=localhost password='s3cr3tpw' no_such_option=1",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        nq__db *db = (nq__db *)&fx; /* must be reset */
        nq_err err;
        nq_err_clear(&err);
        int rc = PG->connect(bad[i], &db, &err);
        if (rc != NQ_EINVAL)
            print_error("%s: got %d (%s)\n", bad[i], rc, err.msg);
        assert_int_equal(rc, NQ_EINVAL);
        assert_null(db);
        assert_true(err.msg[0] != '\0');
        assert_null(strstr(err.msg, "s3cr3t"));
        assert_null(strstr(err.msg, "%zz"));
    }
}

/* A port on 127.0.0.1 with nothing listening: bind one, read its number,
 * close it. */
static int closed_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t len = sizeof a;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    return ntohs(a.sin_port);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void test_unreachable(void **state)
{
    (void)state;
    char url[128], port[16];
    int p = closed_port();
    snprintf(port, sizeof port, ":%d", p);
    snprintf(url, sizeof url, "postgresql://nqba:s3cr3tpw@127.0.0.1:%d/nqba_test", p);
    nq__db *db = NULL;
    nq_err err;
    double t0 = now_s();
    assert_int_equal(PG->connect(url, &db, &err), NQ_EUNAVAIL);
    assert_true(now_s() - t0 < 3.0);
    assert_null(db);
    assert_non_null(strstr(err.msg, "127.0.0.1"));
    assert_non_null(strstr(err.msg, port));
    assert_non_null(strstr(err.msg, "nqba_test"));
    assert_null(strstr(err.msg, "s3cr3tpw"));
}

static void test_wrong_database_not_echoing_password(void **state)
{
    (void)state;
    NEED_PG();
    /* The test cluster trusts everyone, so a database that does not exist
     * stands in for a refused login: the server answers with an error and
     * the message must name the database but not the password. */
    char *perr = NULL;
    PQconninfoOption *opts = PQconninfoParse(fx.url, &perr);
    assert_non_null(opts);
    const char *host = "127.0.0.1", *port = "5432", *user = "nqba";
    for (PQconninfoOption *o = opts; o->keyword; o++) {
        if (!o->val)
            continue;
        if (strcmp(o->keyword, "host") == 0)
            host = o->val;
        else if (strcmp(o->keyword, "port") == 0)
            port = o->val;
        else if (strcmp(o->keyword, "user") == 0)
            user = o->val;
    }
    char conninfo[512];
    snprintf(conninfo, sizeof conninfo, "host=%s port=%s user=%s password=s3cr3tpw dbname=nq_no_such_db",
             host, port, user);
    PQconninfoFree(opts);
    nq__db *db = NULL;
    nq_err err;
    assert_int_equal(PG->connect(conninfo, &db, &err), NQ_EUNAVAIL);
    assert_null(db);
    assert_non_null(strstr(err.msg, "nq_no_such_db"));
    assert_null(strstr(err.msg, "s3cr3tpw"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_driver_table),
        cmocka_unit_test(test_migrated_schema),
        cmocka_unit_test(test_params_and_nulls),
        cmocka_unit_test(test_rows_stop_and_changes),
        cmocka_unit_test(test_transactions),
        cmocka_unit_test(test_cache_reuse),
        cmocka_unit_test(test_cache_eviction),
        cmocka_unit_test(test_constraint_violations),
        cmocka_unit_test(test_audit_append_only),
        cmocka_unit_test(test_other_errors),
        cmocka_unit_test(test_read_only),
        cmocka_unit_test(test_lost_connection),
        cmocka_unit_test(test_malformed_urls),
        cmocka_unit_test(test_unreachable),
        cmocka_unit_test(test_wrong_database_not_echoing_password),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
