/* driver_pg.c - the PostgreSQL driver: one libpq connection per nq__db.
 *
 * Statements are prepared once per connection and found again by the
 * address of their SQL text (the common code passes literals), so a hot
 * statement costs one round trip (Bind/Execute) instead of a parse and a
 * plan each time. Parameters and results travel as text and the server
 * infers parameter types from the statement, which is what lets the same
 * SQL serve SQLite too.
 *
 * Errors are classified by SQLSTATE, not by message text: messages are
 * translated by the server's lc_messages, SQLSTATEs are not. */
#include <errno.h>
#include <libpq-fe.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nqba/clock.h"
#include "store_internal.h"

/* Prepared statements kept per connection. The common code uses a few
 * dozen distinct statements; the cap only matters if something generates
 * SQL, and then the oldest statement is deallocated on the server. */
#define NQ__PG_STMT_CAP 128
#define NQ__PG_NAME_MAX 24
/* Columns handed to a row callback (arrays on the stack). */
#define NQ__PG_COLS_MAX 64
/* libpq's connection messages run to two lines; room for them plus the
 * host, port and database in front. */
#define NQ__PG_MSG_MAX 512
/* Password spans looked for in a URL libpq could not parse. */
#define NQ__PG_SECRETS_MAX 4

typedef struct nq__pg_stmt {
    const char *sql; /* the caller's string (the key), NULL = free slot */
    char name[NQ__PG_NAME_MAX];
} nq__pg_stmt;

struct nq__db {
    PGconn *conn;
    nq__pg_stmt stmts[NQ__PG_STMT_CAP];
    int next;              /* slot for the next new statement: the oldest once all are used */
    unsigned long next_id; /* statement names nq1, nq2, ... never reused */
};

typedef struct nq__pg_span {
    const char *p;
    size_t n;
} nq__pg_span;

/* ---- messages ------------------------------------------------------------ */

/* Copy libpq's text into out as one line: libpq ends its messages with a
 * newline and indents hints with a tab, which would break a log line or
 * an HTTP problem document. */
static void nq__pg_line(char *out, size_t cap, const char *in)
{
    size_t k = 0;
    int space = 0;
    for (; in && *in && k + 1 < cap; in++) {
        char c = *in;
        if (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
            space = k > 0;
            continue;
        }
        if (space) {
            if (k + 2 >= cap)
                break;
            out[k++] = ' ';
            space = 0;
        }
        out[k++] = c;
    }
    out[k] = '\0';
}

/* Replace each occurrence of the n bytes at secret in s (a string in a
 * buffer of cap bytes) with "***", truncating when the buffer is full. */
static void nq__pg_mask(char *s, size_t cap, const char *secret, size_t n)
{
    static const char stars[] = "***";
    const size_t ns = sizeof stars - 1;
    size_t len = strlen(s);
    char *p = s;
    while (n > 0 && (p = memmem(p, len - (size_t)(p - s), secret, n)) != NULL) {
        size_t at = (size_t)(p - s);
        if (at + ns > cap - 1) {
            s[at] = '\0'; /* no room for the mask: cut the secret off instead */
            return;
        }
        size_t tail = len - at - n;
        if (at + ns + tail > cap - 1)
            tail = cap - 1 - at - ns;
        memmove(p + ns, p + n, tail);
        memcpy(p, stars, ns);
        len = at + ns + tail;
        s[len] = '\0';
        p += ns; /* past the mask, so a secret made of '*' cannot loop */
    }
}

/* Where a password may sit in a connection string libpq could not parse
 * (so its own parser cannot tell us): the URI's user:password@ part and
 * any password=value, in a URI query or in key=value form. libpq's parse
 * errors quote parts of the string, and the message must not carry them. */
static int nq__pg_secrets(const char *url, nq__pg_span *out, int cap)
{
    int k = 0;
    const char *s = strstr(url, "://");
    if (s) {
        s += 3;
        /* libpq ends the user information at the first '@' before a '/' */
        size_t auth = strcspn(s, "@/");
        const char *colon = s[auth] == '@' ? memchr(s, ':', auth) : NULL;
        if (colon && k < cap)
            out[k++] = (nq__pg_span){colon + 1, (size_t)(s + auth - colon - 1)};
    }
    for (const char *p = url; k < cap && (p = strstr(p, "password")) != NULL;) {
        const char *v = p + strlen("password");
        p = v;
        v += strspn(v, " \t");
        if (*v != '=')
            continue;
        v++;
        v += strspn(v, " \t");
        size_t n = 0;
        if (*v == '\'') { /* key='quoted value' with backslash escapes */
            v++;
            while (v[n] && v[n] != '\'')
                n += (v[n] == '\\' && v[n + 1]) ? 2 : 1;
        } else {
            n = strcspn(v, " \t\r\n&");
        }
        if (n > 0)
            out[k++] = (nq__pg_span){v, n};
        p = v + n;
    }
    return k;
}

/* Mask the password of url (raw spans, and the parsed value when known)
 * wherever it appears in msg. */
static void nq__pg_scrub(char *msg, size_t cap, const char *url, const char *password)
{
    nq__pg_span sp[NQ__PG_SECRETS_MAX];
    int n = nq__pg_secrets(url, sp, NQ__PG_SECRETS_MAX);
    for (int i = 0; i < n; i++)
        nq__pg_mask(msg, cap, sp[i].p, sp[i].n);
    if (password)
        nq__pg_mask(msg, cap, password, strlen(password));
}

/* ---- errors -------------------------------------------------------------- */

static int nq__pg_state_is(const char *st, const char *const *list)
{
    for (; *list; list++) {
        size_t n = strlen(*list);
        if (strncmp(st, *list, n) == 0)
            return 1;
    }
    return 0;
}

/* The nq_code for a failed command. Classes and codes, not messages:
 *   23 integrity, P0001 RAISE in a trigger           -> EINVAL (the write conflicts)
 *   08 connection, 53 resources (53100 disk full),
 *   57P01..57P03 shutdown, 25006 read-only transaction,
 *   40001 serialization, 40P01 deadlock              -> EUNAVAIL (retry later / elsewhere)
 * 08P01 (protocol violation) is the exception in class 08: with the
 * connection still up it is a malformed request (a wrong parameter count),
 * which no retry fixes. */
static int nq__pg_code(PGconn *conn, const PGresult *res)
{
    static const char *const invalid[] = {"23", "P0001", NULL};
    static const char *const unavail[] = {"08", "53", "57P01", "57P02", "57P03",
                                          "25006", "40001", "40P01", NULL};
    if (!res || PQstatus(conn) != CONNECTION_OK)
        return NQ_EUNAVAIL;
    const char *st = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    if (!st || strlen(st) != 5)
        return NQ_EIO;
    if (nq__pg_state_is(st, invalid))
        return NQ_EINVAL;
    if (strcmp(st, "08P01") == 0)
        return NQ_EIO;
    if (nq__pg_state_is(st, unavail))
        return NQ_EUNAVAIL;
    return NQ_EIO;
}

/* Fill err from a failed command and return its code. res may be NULL
 * (libpq could not even build a result: out of memory or no connection). */
static int nq__pg_fail(PGconn *conn, const PGresult *res, nq_err *err)
{
    const char *text = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    if (!text && res)
        text = PQresultErrorMessage(res);
    if (!text || !*text)
        text = PQerrorMessage(conn);
    char msg[NQ__PG_MSG_MAX];
    nq__pg_line(msg, sizeof msg, text);
    if (!*msg)
        snprintf(msg, sizeof msg, "%s", res ? PQresStatus(PQresultStatus(res)) : "no result");
    return nq_err_set(err, nq__pg_code(conn, res), NULL, "%s", msg);
}

/* ---- connect ------------------------------------------------------------- */

/* The library does not write to stderr; notices (NOTICE, WARNING from
 * DROP ... IF EXISTS and the like) are dropped. */
static void nq__pg_quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

static const char *nq__pg_or(const char *s, const char *dflt)
{
    return s && *s ? s : dflt;
}

static int nq__pg_connect_failed(PGconn *conn, const char *url, const char *password, nq_err *err)
{
    char why[NQ__PG_MSG_MAX], msg[2 * NQ__PG_MSG_MAX];
    nq__pg_line(why, sizeof why, PQerrorMessage(conn));
    snprintf(msg, sizeof msg, "cannot connect to PostgreSQL database \"%s\" at %s:%s: %s",
             nq__pg_or(PQdb(conn), "?"), nq__pg_or(PQhost(conn), "?"),
             nq__pg_or(PQport(conn), "?"), why);
    nq__pg_scrub(msg, sizeof msg, url, password);
    return nq_err_set(err, NQ_EUNAVAIL, NULL, "%s", msg);
}

/* The session settings the store relies on: a commit returns only once it
 * is durable (a server configured with synchronous_commit = off would let
 * a decision be acknowledged and then lost), and no statement holds a
 * pooled connection (and its locks) for longer than 30 s. */
static int nq__pg_session(PGconn *conn, nq_err *err)
{
    PGresult *res = PQexec(conn, "SET synchronous_commit = on; SET statement_timeout = '30s'");
    int rc = NQ_OK;
    if (!res || PQresultStatus(res) != PGRES_COMMAND_OK)
        rc = nq__pg_fail(conn, res, err);
    PQclear(res);
    return rc;
}

static int nq__pg_parse(const char *url, char **password, nq_err *err)
{
    char *perr = NULL;
    *password = NULL;
    PQconninfoOption *opts = PQconninfoParse(url, &perr);
    if (!opts) {
        if (!perr)
            return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory reading the PostgreSQL URL");
        char msg[NQ__PG_MSG_MAX];
        nq__pg_line(msg, sizeof msg, perr);
        PQfreemem(perr);
        nq__pg_scrub(msg, sizeof msg, url, NULL);
        return nq_err_set(err, NQ_EINVAL, NULL, "bad PostgreSQL URL: %s", msg);
    }
    int rc = NQ_OK;
    for (const PQconninfoOption *o = opts; o->keyword; o++) {
        if (strcmp(o->keyword, "password") == 0 && o->val && *o->val) {
            *password = strdup(o->val);
            if (!*password)
                rc = nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
        }
    }
    PQconninfoFree(opts);
    return rc;
}

static int nq__pg_connect(const char *url, nq__db **out, nq_err *err)
{
    *out = NULL;
    if (!url)
        return nq_err_set(err, NQ_EINVAL, NULL, "no PostgreSQL URL");
    char *password = NULL;
    int rc = nq__pg_parse(url, &password, err);
    if (rc)
        return rc;
    /* Entries before dbname are defaults the URL overrides (expand_dbname
     * = 1): without a connect_timeout of its own, libpq would wait for the
     * kernel's TCP timeout (minutes) on a host that drops packets. */
    static const char *const keys[] = {"connect_timeout", "client_encoding",
                                       "fallback_application_name", "dbname", NULL};
    const char *const vals[] = {"5", "UTF8", "nqba", url, NULL};
    PGconn *conn = PQconnectdbParams(keys, vals, 1);
    if (!conn)
        rc = nq_err_set(err, NQ_ENOMEM, NULL, "out of memory connecting to PostgreSQL");
    else if (PQstatus(conn) != CONNECTION_OK)
        rc = nq__pg_connect_failed(conn, url, password, err);
    free(password);
    if (rc == NQ_OK) {
        PQsetNoticeProcessor(conn, nq__pg_quiet, NULL);
        rc = nq__pg_session(conn, err);
    }
    nq__db *db = NULL;
    if (rc == NQ_OK && !(db = calloc(1, sizeof *db)))
        rc = nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    if (rc) {
        PQfinish(conn);
        return rc;
    }
    db->conn = conn;
    *out = db;
    return NQ_OK;
}

static void nq__pg_disconnect(nq__db *db)
{
    if (!db)
        return;
    /* The server drops the prepared statements with the session. */
    PQfinish(db->conn);
    free(db);
}

static int nq__pg_alive(nq__db *db)
{
    return db && db->conn && PQstatus(db->conn) == CONNECTION_OK;
}

/* ---- statements ---------------------------------------------------------- */

/* The server-side name of sql, preparing it on first use. */
static int nq__pg_prepared(nq__db *db, const char *sql, const char **name, nq_err *err)
{
    for (int i = 0; i < NQ__PG_STMT_CAP; i++) {
        if (db->stmts[i].sql == sql) {
            *name = db->stmts[i].name;
            return NQ_OK;
        }
    }
    nq__pg_stmt *slot = &db->stmts[db->next];
    if (slot->sql) {
        /* Evict the oldest. Should DEALLOCATE fail (an aborted transaction),
         * the server keeps an unused statement until the connection closes;
         * names are never reused, so nothing can run the wrong one. */
        char cmd[NQ__PG_NAME_MAX + 16];
        snprintf(cmd, sizeof cmd, "DEALLOCATE %s", slot->name);
        PQclear(PQexec(db->conn, cmd));
        slot->sql = NULL;
    }
    snprintf(slot->name, sizeof slot->name, "nq%lu", ++db->next_id);
    /* No parameter types: the server infers each $n from its use. */
    PGresult *res = PQprepare(db->conn, slot->name, sql, 0, NULL);
    int rc = NQ_OK;
    if (!res || PQresultStatus(res) != PGRES_COMMAND_OK)
        rc = nq__pg_fail(db->conn, res, err);
    PQclear(res);
    if (rc)
        return rc;
    slot->sql = sql;
    db->next = (db->next + 1) % NQ__PG_STMT_CAP;
    *name = slot->name;
    return NQ_OK;
}

/* Rows written by the command. PQcmdTuples also counts the rows a SELECT
 * returned, which the contract does not call changes. */
static int64_t nq__pg_changes(PGresult *res)
{
    if (strncmp(PQcmdStatus(res), "SELECT", 6) == 0)
        return 0;
    const char *t = PQcmdTuples(res);
    return *t ? strtoll(t, NULL, 10) : 0;
}

static int nq__pg_rows(PGresult *res, nq__row_fn fn, void *user, nq_err *err)
{
    int nf = PQnfields(res), nt = PQntuples(res);
    if (nf > NQ__PG_COLS_MAX)
        return nq_err_set(err, NQ_EINVAL, NULL, "the statement returns %d columns; at most %d",
                          nf, NQ__PG_COLS_MAX);
    const char *vals[NQ__PG_COLS_MAX];
    size_t lens[NQ__PG_COLS_MAX];
    for (int r = 0; r < nt; r++) {
        for (int c = 0; c < nf; c++) {
            int null = PQgetisnull(res, r, c);
            vals[c] = null ? NULL : PQgetvalue(res, r, c);
            lens[c] = null ? 0 : (size_t)PQgetlength(res, r, c);
        }
        if (fn(user, nf, vals, lens))
            break;
    }
    return NQ_OK;
}

static int nq__pg_result(nq__db *db, PGresult *res, nq__row_fn fn, void *user,
                         int64_t *changes, nq_err *err)
{
    switch (res ? PQresultStatus(res) : PGRES_FATAL_ERROR) {
    case PGRES_EMPTY_QUERY:
        return NQ_OK;
    case PGRES_COMMAND_OK:
        break;
    case PGRES_TUPLES_OK:
        if (fn) {
            int rc = nq__pg_rows(res, fn, user, err);
            if (rc)
                return rc;
        }
        break;
    case PGRES_FATAL_ERROR:
    case PGRES_NONFATAL_ERROR:
    case PGRES_BAD_RESPONSE:
        return nq__pg_fail(db->conn, res, err);
    default:
        return nq_err_set(err, NQ_EIO, NULL, "unexpected result: %s",
                          PQresStatus(PQresultStatus(res)));
    }
    if (changes)
        *changes = nq__pg_changes(res);
    return NQ_OK;
}

static int nq__pg_exec(nq__db *db, const char *sql, int n, const char *const *params,
                       nq__row_fn fn, void *user, int64_t *changes, nq_err *err)
{
    if (changes)
        *changes = 0;
    if (!db || !sql || n < 0 || (n > 0 && !params))
        return nq_err_set(err, NQ_EINVAL, NULL, "bad statement arguments");
    const char *name = NULL;
    int rc = nq__pg_prepared(db, sql, &name, err);
    if (rc)
        return rc;
    /* Text parameters (NULL = SQL NULL) and text results. */
    PGresult *res = PQexecPrepared(db->conn, name, n, params, NULL, NULL, 0);
    rc = nq__pg_result(db, res, fn, user, changes, err);
    PQclear(res);
    return rc;
}

static int nq__pg_script(nq__db *db, const char *sql, nq_err *err)
{
    if (!db || !sql)
        return nq_err_set(err, NQ_EINVAL, NULL, "bad script arguments");
    /* PQexec runs several statements in one call and stops at the first
     * error, whose result is the one returned. */
    PGresult *res = PQexec(db->conn, sql);
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    int rc = NQ_OK;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_EMPTY_QUERY)
        rc = nq__pg_fail(db->conn, res, err);
    PQclear(res);
    return rc;
}

/* ---- notifications ---------------------------------------------------------- */

/* LISTEN cannot take its channel as a parameter (it is an identifier), so
 * the command is built here, quoted, and run unprepared: it runs once per
 * connection and must not take a slot of the statement cache. */
static int nq__pg_listen(nq__db *db, const char *channel, nq_err *err)
{
    if (!db || !channel || !*channel || strlen(channel) >= NQ__CHANNEL_MAX)
        return nq_err_set(err, NQ_EINVAL, "channel", "bad channel name");
    char *ident = PQescapeIdentifier(db->conn, channel, strlen(channel));
    if (!ident)
        return nq__pg_fail(db->conn, NULL, err);
    char cmd[2 * NQ__CHANNEL_MAX + 16];
    snprintf(cmd, sizeof cmd, "LISTEN %s", ident);
    PQfreemem(ident);
    PGresult *res = PQexec(db->conn, cmd);
    int rc = NQ_OK;
    if (!res || PQresultStatus(res) != PGRES_COMMAND_OK)
        rc = nq__pg_fail(db->conn, res, err);
    PQclear(res);
    return rc;
}

static int nq__pg_lost(nq__db *db, nq_err *err)
{
    char msg[NQ__PG_MSG_MAX];
    nq__pg_line(msg, sizeof msg, PQerrorMessage(db->conn));
    return nq_err_set(err, NQ_EUNAVAIL, NULL, "lost the PostgreSQL connection: %s",
                      msg[0] ? msg : "closed by the server");
}

/* 1 with the payload of a notification libpq already read, else 0. */
static int nq__pg_take_notify(nq__db *db, char *buf, size_t cap)
{
    PGnotify *n = PQnotifies(db->conn);
    if (!n)
        return 0;
    snprintf(buf, cap, "%s", n->extra ? n->extra : "");
    PQfreemem(n);
    return 1;
}

/* Notifications arrive between commands, so nothing is sent: wait for the
 * socket to be readable, let libpq read what came, and ask it for a
 * notification. Buffered ones are taken before touching the socket, so a
 * connection that dropped after delivering them still hands them over. */
static int nq__pg_wait_notify(nq__db *db, double timeout, char *buf, size_t cap, nq_err *err)
{
    if (!db || !buf || cap == 0)
        return nq_err_set(err, NQ_EINVAL, NULL, "bad wait arguments");
    buf[0] = '\0';
    double deadline = nq_clock_s() + (timeout > 0 ? timeout : 0);
    for (;;) {
        if (nq__pg_take_notify(db, buf, cap))
            return 1;
        if (!PQconsumeInput(db->conn) || PQstatus(db->conn) != CONNECTION_OK)
            return nq__pg_lost(db, err);
        if (nq__pg_take_notify(db, buf, cap))
            return 1;
        double left = deadline - nq_clock_s();
        if (left <= 0)
            return 0;
        struct pollfd p = {.fd = PQsocket(db->conn), .events = POLLIN};
        if (p.fd < 0)
            return nq__pg_lost(db, err);
        /* Rounded up so that a wait never ends a little before its time
         * and then spins on a zero timeout. */
        double ms = left * 1000.0 + 1.0;
        if (poll(&p, 1, ms > 3.6e6 ? 3600000 : (int)ms) < 0 && errno != EINTR)
            return nq_err_set(err, NQ_EIO, NULL, "waiting for notifications: %s", strerror(errno));
    }
}

const nq__driver nq__driver_postgresql = {
    .name = "postgresql",
    .connect = nq__pg_connect,
    .disconnect = nq__pg_disconnect,
    .exec = nq__pg_exec,
    .script = nq__pg_script,
    .alive = nq__pg_alive,
    .begin_write = "BEGIN",
    /* Any constant shared by every node of the deployment; the lock is
     * released with the migration's transaction. */
    .migrate_lock = "SELECT pg_advisory_xact_lock(7302016)",
    .row_locks = 1,
    .migrations = nq__schema_pg,
    .n_migrations = NQ__SCHEMA_PG_N,
    .listen = nq__pg_listen,
    .wait_notify = nq__pg_wait_notify,
};
