/* store_internal.h - what the files of lib/store share (private): the
 * driver interface each database backend implements, and the connection
 * pool in front of it.
 *
 * Everything above the drivers (decisions, audit chain, migrations runner)
 * is written once in SQL both backends accept:
 *   - parameters are $1..$n, always passed as text (NULL = SQL NULL); the
 *     database converts them by the column's type;
 *   - results come back as text too (NULL for SQL NULL);
 *   - times are DOUBLE PRECISION seconds since the Unix epoch (UTC);
 *   - JSON documents are TEXT in SQLite and JSONB in PostgreSQL;
 *   - identifiers that are keywords are double-quoted ("user").
 * The schema itself differs per backend (types, keys, triggers), so each
 * driver carries its own list of migrations. */
#ifndef NQBA_STORE_INTERNAL_H
#define NQBA_STORE_INTERNAL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "nqba/store.h"

/* One connection of a driver (opaque to the common code). */
typedef struct nq__db nq__db;

/* A result row: n columns as text, vals[i] NULL for SQL NULL, lens[i] its
 * length. Return nonzero to stop reading rows (exec then returns NQ_OK). */
typedef int (*nq__row_fn)(void *user, int n, const char *const *vals, const size_t *lens);

typedef struct nq__driver {
    const char *name; /* "sqlite" or "postgresql" */
    /* Open one connection for url (the part after the scheme is the
     * driver's business). Errors: NQ_EINVAL for a malformed url,
     * NQ_EUNAVAIL when the database cannot be reached or opened. */
    int (*connect)(const char *url, nq__db **out, nq_err *err);
    void (*disconnect)(nq__db *db);
    /* One statement with n text parameters $1..$n; rows go to fn (may be
     * NULL), *changes (may be NULL) gets the rows inserted/updated/deleted.
     * sql must be a string that outlives the connection (a literal): the
     * prepared statement is cached per connection under its address.
     * Errors: NQ_EUNAVAIL when the connection is lost, the disk is full or
     * the database is read-only; NQ_EINVAL for a constraint violation
     * (unique key, check, trigger); NQ_EIO for anything else. */
    int (*exec)(nq__db *db, const char *sql, int n, const char *const *params, nq__row_fn fn,
                void *user, int64_t *changes, nq_err *err);
    /* Several statements without parameters or rows (a migration), run
     * inside the caller's transaction. */
    int (*script)(nq__db *db, const char *sql, nq_err *err);
    /* Is the connection still usable (after an error, the pool drops a
     * connection that is not)? */
    int (*alive)(nq__db *db);
    /* Starts a transaction that will write: "BEGIN IMMEDIATE" for SQLite
     * (takes the write lock at once, so two writers never deadlock on an
     * upgrade), "BEGIN" for PostgreSQL. */
    const char *begin_write;
    /* Run first in each migration transaction so that nodes starting at
     * once apply a migration once: an advisory lock for PostgreSQL; NULL
     * for SQLite (begin_write already serializes writers). */
    const char *migrate_lock;
    /* 1 when SELECT ... FOR UPDATE locks rows (PostgreSQL); SQLite has no
     * row locks and needs none inside begin_write. */
    int row_locks;
    /* The schema, one script per version (index 0 = version 1). */
    const char *const *migrations;
    int n_migrations;
    /* Notifications, on a connection of its own (not a pooled one: it
     * keeps listening between calls). NULL where the database has none
     * (SQLite). listen subscribes the connection to channel (a name the
     * caller checked: 1..NQ__CHANNEL_MAX - 1 of [a-z0-9_]). wait_notify
     * waits up to timeout seconds: 1 with the payload in buf (cut to
     * cap - 1), 0 on timeout, NQ_EUNAVAIL when the connection is lost. */
    int (*listen)(nq__db *db, const char *channel, nq_err *err);
    int (*wait_notify)(nq__db *db, double timeout, char *buf, size_t cap, nq_err *err);
} nq__driver;

#define NQ__CHANNEL_MAX 64 /* PostgreSQL's identifiers: 63 bytes */

extern const nq__driver nq__driver_sqlite;
extern const nq__driver nq__driver_postgresql;

/* The SQLite migrations (schema_sqlite.c), one script per version. The
 * count is a macro so that the driver's static initializer can use it. */
#define NQ__SCHEMA_SQLITE_VERSIONS 3
extern const char *const nq__schema_sqlite[NQ__SCHEMA_SQLITE_VERSIONS];
/* The PostgreSQL migrations (schema_pg.c): script i brings the schema to
 * version i + 1. The count is also a macro because the driver table is a
 * static initializer, where an extern const int is not a constant;
 * schema_pg.c checks at compile time that the two agree. */
#define NQ__SCHEMA_PG_N 3
extern const char *const nq__schema_pg[];
extern const int nq__schema_pg_n;

#define NQ__POOL_MAX 64
/* Rows per multi-row INSERT of a group commit: a batch of n decisions
 * takes about 2n/NQ__ROWS statements instead of 2n round trips. */
#define NQ__ROWS 16

/* A decision waiting to be written by a group commit (decisions.c). */
typedef struct nq__pending {
    const nq_decision_rec *d;
    int rc;
    nq_err err;
    int done;
    /* Its caller's: a batch wakes its writers and one successor, not all
     * (the entries of one nq_store_put_decisions call share one). */
    pthread_cond_t *wake;
    struct nq__pending *next;
} nq__pending;

struct nq_store {
    const nq__driver *drv;
    char *url;
    pthread_mutex_t mu;
    pthread_cond_t freed;
    nq__db *idle[NQ__POOL_MAX]; /* connections not in use */
    int n_idle, n_open, max_open;
    /* Group commit of decisions: writers queue here; one of them at a
     * time (the leader) writes everything queued in one transaction. */
    pthread_mutex_t gc_mu;
    nq__pending *gc_head, *gc_tail;
    int gc_leading;
    /* INSERT ... VALUES with k rows (index k - 1), built at open: the
     * drivers cache prepared statements by the SQL's address, which these
     * keep for the store's life. */
    char *sql_decision_rows[NQ__ROWS];
    char *sql_audit_rows[NQ__ROWS];
};

/* "INSERT INTO table (cols) VALUES ($1, .., $c), .. k rows" (malloc'd). */
char *nq__rows_sql(const char *insert_head, int cols, int rows);
/* Build the store's multi-row statements (store.c calls them at open). */
int nq__decisions_sql(nq_store *s);
int nq__audit_sql(nq_store *s);

/* Take a connection from the pool (opening one if below max_open, else
 * waiting for one); give it back with nq__put (broken = 1 closes it). */
int nq__get(nq_store *s, nq__db **out, nq_err *err);
void nq__put(nq_store *s, nq__db *db, int broken);

/* NQ_OK when s can hold the shared job queue (PostgreSQL), else NQ_EINVAL
 * (queue.c; queue_listen.c uses it too). */
int nq__queue_check(const nq_store *s, nq_err *err);

/* exec on a pooled connection, for single statements outside transactions. */
int nq__exec1(nq_store *s, const char *sql, int n, const char *const *params, nq__row_fn fn,
              void *user, int64_t *changes, nq_err *err);

/* A write transaction on one connection: begin, the caller's statements,
 * then nq__tx_end(commit = rc == NQ_OK). */
int nq__tx_begin(nq_store *s, nq__db **out, nq_err *err);
int nq__tx_end(nq_store *s, nq__db *db, int rc, nq_err *err);

/* The audit chain inside the caller's transaction (audit.c): open reads
 * (and on PostgreSQL locks) the head, add appends entries after it, close
 * writes the new head. nq__audit_append is the three for one entry. */
typedef struct nq__chain {
    long long seq;
    char hash[65];
} nq__chain;
/* One audit row ready to insert: make computes it after the chain's head
 * (and moves the head in memory), insert writes rows in multi-row
 * statements. The row points into e's strings: keep e alive. */
typedef struct nq__audit_row {
    char seq[24], at[24], prev[65], hash[65];
    const char *f[10];
} nq__audit_row;
int nq__audit_row_make(nq__chain *c, const nq_audit_entry *e, nq__audit_row *r, nq_err *err);
int nq__audit_insert(nq_store *s, nq__db *db, nq__audit_row *rows, int n, nq_err *err);
int nq__audit_open(nq_store *s, nq__db *db, nq__chain *c, nq_err *err);
/* Read the head; lock 1 locks its row where the database has row locks
 * (as open does). A missing head row is NQ_EIO. */
int nq__audit_head(nq_store *s, nq__db *db, int lock, nq__chain *c, nq_err *err);
int nq__audit_add(nq_store *s, nq__db *db, nq__chain *c, const nq_audit_entry *e, nq_err *err);
int nq__audit_close(nq_store *s, nq__db *db, const nq__chain *c, nq_err *err);
int nq__audit_append(nq_store *s, nq__db *db, const nq_audit_entry *e, nq_err *err);

#endif
