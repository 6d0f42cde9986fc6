/* driver_sqlite.c - the SQLite driver of the store: one connection is one
 * sqlite3 handle with a small cache of prepared statements.
 *
 * A connection is used by one thread at a time (the pool hands it out), so
 * handles are opened with SQLITE_OPEN_NOMUTEX and the cache needs no lock.
 * Durability: WAL with synchronous=FULL, so a COMMIT that returned has
 * reached the disk. Writers queue on the database lock for up to
 * busy_timeout before a statement fails with SQLITE_BUSY.
 *
 * Statements are cached under the address of their SQL text, which the
 * interface requires to be a literal: a lookup is a pointer comparison, and
 * two literals with the same text simply get two entries. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_internal.h"

/* sqlite3_changes64 and sqlite3_total_changes64 arrived in 3.37. */
#if SQLITE_VERSION_NUMBER < 3037000
#error "the SQLite driver needs SQLite 3.37 or newer"
#endif

#define SQ_CACHE_MAX 64   /* prepared statements kept per connection */
#define SQ_COLS_MAX 64    /* columns of a result row */
#define SQ_PARAMS_MAX 999 /* $1..$999: multi-row inserts of a group commit use ~200 */
#define SQ_BUSY_MS "10000"

typedef struct sq_stmt {
    const char *sql; /* the key: the caller's literal */
    sqlite3_stmt *stmt;
    int need;      /* the highest $n the statement uses */
    int *slot;     /* slot[k - 1]: the bind index of $k (0: unused); need entries */
    uint64_t used; /* tick of the last use, for evicting the least recent */
} sq_stmt;

struct nq__db {
    sqlite3 *h;
    int broken; /* the file is not (or no longer) a usable database */
    int n_cached;
    uint64_t tick;
    sq_stmt cache[SQ_CACHE_MAX];
};

/* ---- errors --------------------------------------------------------------- */

/* The store's code for a SQLite result code, extended codes included (the
 * low byte is the primary code). Conditions of the database rather than
 * of the statement - full, read-only, unreachable, locked past the busy
 * timeout, damaged - are NQ_EUNAVAIL, so the server answers 503 and a
 * client retries later; a constraint (unique key, CHECK, foreign key,
 * RAISE(ABORT) in a trigger) is the caller's conflicting write. */
static int sq_code(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_FULL:
    case SQLITE_READONLY:
    case SQLITE_CANTOPEN:
    case SQLITE_IOERR:
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
        return NQ_EUNAVAIL;
    case SQLITE_CONSTRAINT:
        return NQ_EINVAL;
    default:
        return NQ_EIO;
    }
}

/* Fill err for rc with msg (SQLite's own message), and remember when the
 * file itself is unusable so that alive() makes the pool drop the
 * connection. */
static int sq_fail(nq__db *db, int rc, const char *msg, nq_err *err)
{
    int primary = rc & 0xff;
    if (primary == SQLITE_NOTADB || primary == SQLITE_CORRUPT)
        db->broken = 1;
    return nq_err_set(err, sq_code(rc), NULL, "%s", msg ? msg : sqlite3_errstr(rc));
}

/* ---- connections ------------------------------------------------------------ */

/* Why a file could not be opened: SQLite says only "unable to open
 * database file", the system error says whether the directory is missing
 * or access is denied. */
static int sq_open_failed(sqlite3 *h, const char *path, nq_err *err)
{
    if (!h)
        return nq_err_set(err, NQ_ENOMEM, NULL, "cannot open %s: out of memory", path);
    int sys = sqlite3_system_errno(h);
    if (sys == 0)
        return nq_err_set(err, NQ_EUNAVAIL, NULL, "cannot open %s: %s", path, sqlite3_errmsg(h));
    return nq_err_set(err, NQ_EUNAVAIL, NULL, "cannot open %s: %s (%s)", path, sqlite3_errmsg(h),
                      strerror(sys));
}

/* The settings of every connection. busy_timeout comes first: switching
 * to WAL takes a lock that another connection opening at the same moment
 * may hold. recursive_triggers makes the deletes done by INSERT OR
 * REPLACE fire delete triggers, so the append-only audit log cannot be
 * overwritten that way (builds differ in the default). */
static const char sq_setup_sql[] = "PRAGMA busy_timeout = " SQ_BUSY_MS ";"
                                   "PRAGMA journal_mode = WAL;"
                                   "PRAGMA synchronous = FULL;"
                                   "PRAGMA foreign_keys = ON;"
                                   "PRAGMA recursive_triggers = ON;";

static int sq_setup(nq__db *db, const char *path, nq_err *err)
{
    char *msg = NULL;
    int rc = sqlite3_exec(db->h, sq_setup_sql, NULL, NULL, &msg);
    if (rc == SQLITE_OK)
        return NQ_OK;
    /* The first statement that reads the file is where a file that is not
     * a database shows up; whatever the reason, the connection is of no
     * use, so this is NQ_EUNAVAIL. */
    rc = nq_err_set(err, NQ_EUNAVAIL, NULL, "cannot use %s: %s", path,
                    msg ? msg : sqlite3_errstr(rc));
    sqlite3_free(msg);
    return rc;
}

/* url is a file path, ":memory:", or a "file:" URI (for its parameters,
 * such as mode=ro for a read-only connection). The directory must exist;
 * the file is created when missing. */
static int sq_connect(const char *url, nq__db **out, nq_err *err)
{
    *out = NULL;
    if (!url || !*url)
        return nq_err_set(err, NQ_EINVAL, "url", "empty SQLite database path");
    nq__db *db = calloc(1, sizeof *db);
    if (!db)
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI;
    int rc = sqlite3_open_v2(url, &db->h, flags, NULL);
    if (rc != SQLITE_OK) {
        int code = sq_open_failed(db->h, url, err);
        sqlite3_close_v2(db->h); /* a handle comes back even when opening fails */
        free(db);
        return code;
    }
    sqlite3_extended_result_codes(db->h, 1);
    rc = sq_setup(db, url, err);
    if (rc != NQ_OK) {
        sqlite3_close_v2(db->h);
        free(db);
        return rc;
    }
    *out = db;
    return NQ_OK;
}

static void sq_disconnect(nq__db *db)
{
    if (!db)
        return;
    for (int i = 0; i < db->n_cached; i++) {
        sqlite3_finalize(db->cache[i].stmt);
        free(db->cache[i].slot);
    }
    sqlite3_close_v2(db->h);
    free(db);
}

static int sq_alive(nq__db *db)
{
    return db && db->h && !db->broken;
}

/* ---- the statement cache ------------------------------------------------------ */

/* The number of $k a parameter is, or -1 when it is not of that form (?,
 * :name, $name): the interface passes parameters by number only, and a
 * misspelt one would otherwise stay NULL unnoticed. */
static long sq_param_number(const char *name)
{
    if (!name || name[0] != '$' || name[1] < '1' || name[1] > '9')
        return -1;
    char *end;
    long k = strtol(name + 1, &end, 10);
    return *end || k > SQ_PARAMS_MAX ? -1 : k;
}

/* The highest $n a statement uses, and where each $k binds (*slot,
 * malloc'd, NULL when none): found once per statement, since SQLite's own
 * lookup by name is a scan, quadratic over a multi-row insert's ~200.
 * -1 for a parameter not of the $n form, -2 out of memory. */
static int sq_params_map(sqlite3_stmt *st, int **slot)
{
    int need = 0, count = sqlite3_bind_parameter_count(st);
    *slot = NULL;
    for (int i = 1; i <= count; i++) {
        long k = sq_param_number(sqlite3_bind_parameter_name(st, i));
        if (k < 0)
            return -1;
        if (k > need)
            need = (int)k;
    }
    if (!need)
        return 0;
    if (!(*slot = calloc((size_t)need, sizeof **slot)))
        return -2;
    for (int i = 1; i <= count; i++)
        (*slot)[sq_param_number(sqlite3_bind_parameter_name(st, i)) - 1] = i;
    return need;
}

/* Is the rest of the SQL after the first statement empty? */
static int sq_only_end(const char *tail)
{
    for (; tail && *tail; tail++)
        if (*tail != ';' && *tail != ' ' && *tail != '\t' && *tail != '\n' && *tail != '\r')
            return 0;
    return 1;
}

static int sq_prepare(nq__db *db, const char *sql, sq_stmt *out, nq_err *err)
{
    sqlite3_stmt *st = NULL;
    const char *tail = NULL;
    int rc = sqlite3_prepare_v3(db->h, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, &tail);
    if (rc != SQLITE_OK)
        return sq_fail(db, rc, sqlite3_errmsg(db->h), err);
    if (!st)
        return nq_err_set(err, NQ_EINVAL, NULL, "no SQL statement in \"%.60s\"", sql);
    if (!sq_only_end(tail)) {
        sqlite3_finalize(st);
        return nq_err_set(err, NQ_EINVAL, NULL,
                          "exec runs one statement (several go to script): \"%.60s\"", sql);
    }
    int *slot;
    int need = sq_params_map(st, &slot);
    if (need < 0) {
        sqlite3_finalize(st);
        if (need == -2)
            return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
        return nq_err_set(err, NQ_EINVAL, NULL, "parameters must be $1..$%d: \"%.60s\"",
                          SQ_PARAMS_MAX, sql);
    }
    *out = (sq_stmt){.sql = sql, .stmt = st, .need = need, .slot = slot};
    return NQ_OK;
}

/* The cached statement for sql, prepared on first use; when the cache is
 * full the least recently used statement is finalized to make room. */
static int sq_stmt_get(nq__db *db, const char *sql, sq_stmt **out, nq_err *err)
{
    db->tick++;
    for (int i = 0; i < db->n_cached; i++) {
        sq_stmt *c = &db->cache[i];
        if (c->sql == sql) {
            /* exec resets after each use already; resetting before
             * reuse too costs little and guarantees a clean start. */
            sqlite3_reset(c->stmt);
            sqlite3_clear_bindings(c->stmt);
            c->used = db->tick;
            *out = c;
            return NQ_OK;
        }
    }
    sq_stmt fresh;
    int rc = sq_prepare(db, sql, &fresh, err);
    if (rc != NQ_OK)
        return rc;
    int slot = db->n_cached;
    if (slot == SQ_CACHE_MAX) {
        slot = 0;
        for (int i = 1; i < SQ_CACHE_MAX; i++)
            if (db->cache[i].used < db->cache[slot].used)
                slot = i;
        sqlite3_finalize(db->cache[slot].stmt);
        free(db->cache[slot].slot);
    } else {
        db->n_cached++;
    }
    fresh.used = db->tick;
    db->cache[slot] = fresh;
    *out = &db->cache[slot];
    return NQ_OK;
}

/* ---- statements ---------------------------------------------------------------- */

/* Bind params[i] to $(i+1) as text (NULL as SQL NULL); a parameter the
 * statement does not use is skipped. SQLITE_STATIC binds the caller's
 * strings without a copy: exec clears every binding before it returns, so
 * they need not outlive the call. */
static int sq_bind(nq__db *db, sq_stmt *c, int n, const char *const *params, nq_err *err)
{
    if (n < c->need)
        return nq_err_set(err, NQ_EINVAL, NULL,
                          "the statement uses $%d but %d parameters came: \"%.60s\"", c->need, n,
                          c->sql);
    for (int i = 0; i < n && i < c->need; i++) {
        int idx = c->slot[i];
        if (idx == 0)
            continue;
        int rc = params[i] ? sqlite3_bind_text(c->stmt, idx, params[i], -1, SQLITE_STATIC)
                           : sqlite3_bind_null(c->stmt, idx);
        if (rc != SQLITE_OK)
            return sq_fail(db, rc, sqlite3_errmsg(db->h), err);
    }
    return NQ_OK;
}

/* The current row as text. The pointers stay valid until the next step or
 * reset: each column is converted once (text, then its length). */
static int sq_row(sqlite3_stmt *st, int ncol, const char **vals, size_t *lens, nq_err *err)
{
    for (int i = 0; i < ncol; i++) {
        vals[i] = NULL;
        lens[i] = 0;
        if (sqlite3_column_type(st, i) == SQLITE_NULL)
            continue;
        vals[i] = (const char *)sqlite3_column_text(st, i);
        if (!vals[i])
            return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory converting a column to text");
        lens[i] = (size_t)sqlite3_column_bytes(st, i);
    }
    return NQ_OK;
}

/* Step until done or until fn asks to stop (which is not an error). */
static int sq_steps(nq__db *db, sqlite3_stmt *st, nq__row_fn fn, void *user, nq_err *err)
{
    const char *vals[SQ_COLS_MAX];
    size_t lens[SQ_COLS_MAX];
    for (;;) {
        int rc = sqlite3_step(st);
        if (rc == SQLITE_DONE)
            return NQ_OK;
        if (rc != SQLITE_ROW)
            return sq_fail(db, rc, sqlite3_errmsg(db->h), err);
        if (!fn)
            continue;
        int ncol = sqlite3_data_count(st);
        if (ncol > SQ_COLS_MAX)
            return nq_err_set(err, NQ_EINVAL, NULL, "a row of %d columns (at most %d)", ncol,
                              SQ_COLS_MAX);
        rc = sq_row(st, ncol, vals, lens, err);
        if (rc != NQ_OK)
            return rc;
        if (fn(user, ncol, (const char *const *)vals, lens))
            return NQ_OK;
    }
}

static int sq_exec(nq__db *db, const char *sql, int n, const char *const *params, nq__row_fn fn,
                   void *user, int64_t *changes, nq_err *err)
{
    if (changes)
        *changes = 0;
    if (!db || !sql || n < 0 || (n > 0 && !params))
        return nq_err_set(err, NQ_EINVAL, NULL, "exec: bad arguments");
    sq_stmt *c;
    int rc = sq_stmt_get(db, sql, &c, err);
    if (rc != NQ_OK)
        return rc;
    sqlite3_int64 before = sqlite3_total_changes64(db->h);
    rc = sq_bind(db, c, n, params, err);
    if (rc == NQ_OK)
        rc = sq_steps(db, c->stmt, fn, user, err);
    /* Reset whatever happened: a statement left running would keep its
     * read snapshot (holding back WAL checkpoints) and its bound copies of
     * the parameters, which may be whole documents. Resetting also runs an
     * INSERT ... RETURNING to its end when fn stopped early. */
    sqlite3_reset(c->stmt);
    sqlite3_clear_bindings(c->stmt);
    /* sqlite3_changes64 keeps the count of the last INSERT, UPDATE or
     * DELETE, even across a SELECT or DDL that follows; the total moves
     * only when this statement changed rows. */
    if (rc == NQ_OK && changes && sqlite3_total_changes64(db->h) != before)
        *changes = sqlite3_changes64(db->h);
    return rc;
}

static int sq_script(nq__db *db, const char *sql, nq_err *err)
{
    if (!db || !sql)
        return nq_err_set(err, NQ_EINVAL, NULL, "script: bad arguments");
    char *msg = NULL;
    int rc = sqlite3_exec(db->h, sql, NULL, NULL, &msg);
    if (rc == SQLITE_OK)
        return NQ_OK;
    rc = sq_fail(db, rc, msg, err);
    sqlite3_free(msg);
    return rc;
}

const nq__driver nq__driver_sqlite = {
    .name = "sqlite",
    .connect = sq_connect,
    .disconnect = sq_disconnect,
    .exec = sq_exec,
    .script = sq_script,
    .alive = sq_alive,
    .begin_write = "BEGIN IMMEDIATE",
    .migrate_lock = NULL,
    .row_locks = 0,
    .migrations = nq__schema_sqlite,
    .n_migrations = NQ__SCHEMA_SQLITE_VERSIONS,
    /* No notifications: the shared job queue needs PostgreSQL. */
    .listen = NULL,
    .wait_notify = NULL,
};
