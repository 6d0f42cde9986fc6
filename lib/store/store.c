/* store.c - opening a store, its connection pool, transactions and the
 * migrations runner. The backend is chosen by the URL's scheme; everything
 * here talks to it through the driver interface (store_internal.h).
 *
 * Pool: connections are opened lazily up to max_open and reused; a caller
 * waits when all are busy. A connection that failed in a way that leaves
 * it unusable (lost server) is closed instead of returned, so the next
 * caller reconnects: a database restart costs the requests in flight, not
 * the process. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nqba/clock.h"
#include "store_internal.h"

#define DEFAULT_POOL_PG 4
/* SQLite serializes writers anyway; a few connections let reads go on
 * beside a write (WAL). */
#define DEFAULT_POOL_SQLITE 4

static const char SQL_MIGRATIONS_TABLE[] =
    "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
    "applied_at DOUBLE PRECISION NOT NULL)";
static const char SQL_VERSION[] = "SELECT COALESCE(MAX(version), 0) FROM schema_migrations";
static const char SQL_MARK[] = "INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)";
static const char SQL_COMMIT[] = "COMMIT";
static const char SQL_ROLLBACK[] = "ROLLBACK";

static int has_prefix(const char *s, const char *p)
{
    return strncmp(s, p, strlen(p)) == 0;
}

static void free_sql(nq_store *s)
{
    for (int k = 0; k < NQ__ROWS; k++) {
        free(s->sql_decision_rows[k]);
        free(s->sql_audit_rows[k]);
    }
}

char *nq__rows_sql(const char *insert_head, int cols, int rows)
{
    size_t cap = strlen(insert_head) + 16 + (size_t)rows * (size_t)cols * 8;
    char *sql = malloc(cap);
    if (!sql)
        return NULL;
    size_t k = (size_t)snprintf(sql, cap, "%s VALUES ", insert_head);
    int n = 1;
    for (int r = 0; r < rows; r++) {
        k += (size_t)snprintf(sql + k, cap - k, "%s(", r ? ", " : "");
        for (int c = 0; c < cols; c++)
            k += (size_t)snprintf(sql + k, cap - k, "%s$%d", c ? ", " : "", n++);
        k += (size_t)snprintf(sql + k, cap - k, ")");
    }
    return sql;
}

int nq_store_open(const char *url, int pool_size, nq_store **out, nq_err *err)
{
    *out = NULL;
    if (!url || !url[0])
        return nq_err_set(err, NQ_EINVAL, "db", "no database given");
    if (pool_size < 0 || pool_size > NQ__POOL_MAX)
        return nq_err_set(err, NQ_EINVAL, "db_pool", "must be 0..%d", NQ__POOL_MAX);
    const nq__driver *drv = &nq__driver_sqlite;
    const char *target = url;
    if (has_prefix(url, "postgresql://") || has_prefix(url, "postgres://")) {
        drv = &nq__driver_postgresql;
    } else if (has_prefix(url, "sqlite:")) {
        target = url + strlen("sqlite:");
    } else if (strstr(url, "://")) {
        return nq_err_set(err, NQ_EINVAL, "db",
                          "unknown database scheme in \"%.40s\" (postgresql://... or a file path)",
                          url);
    }
    nq_store *s = calloc(1, sizeof *s);
    if (!s || !(s->url = strdup(target))) {
        free(s);
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    }
    s->drv = drv;
    if (nq__decisions_sql(s) || nq__audit_sql(s)) {
        free_sql(s);
        free(s->url);
        free(s);
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    }
    s->max_open = pool_size ? pool_size : drv == &nq__driver_sqlite ? DEFAULT_POOL_SQLITE
                                                                     : DEFAULT_POOL_PG;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->freed, NULL);
    pthread_mutex_init(&s->gc_mu, NULL);
    /* One connection now: a bad URL or a database that is down is an error
     * at start, not at the first request. */
    nq__db *db;
    int rc = nq__get(s, &db, err);
    if (rc) {
        nq_store_close(s);
        return rc;
    }
    nq__put(s, db, 0);
    *out = s;
    return NQ_OK;
}

void nq_store_close(nq_store *s)
{
    if (!s)
        return;
    for (int i = 0; i < s->n_idle; i++)
        s->drv->disconnect(s->idle[i]);
    free_sql(s); /* after the connections that prepared them */
    pthread_cond_destroy(&s->freed);
    pthread_mutex_destroy(&s->mu);
    pthread_mutex_destroy(&s->gc_mu);
    free(s->url);
    free(s);
}

const char *nq_store_backend(const nq_store *s)
{
    return s->drv->name;
}

int nq__get(nq_store *s, nq__db **out, nq_err *err)
{
    pthread_mutex_lock(&s->mu);
    while (s->n_idle == 0 && s->n_open >= s->max_open)
        pthread_cond_wait(&s->freed, &s->mu);
    if (s->n_idle > 0) {
        *out = s->idle[--s->n_idle];
        pthread_mutex_unlock(&s->mu);
        return NQ_OK;
    }
    s->n_open++; /* reserved while connecting, outside the lock */
    pthread_mutex_unlock(&s->mu);
    int rc = s->drv->connect(s->url, out, err);
    if (rc) {
        pthread_mutex_lock(&s->mu);
        s->n_open--;
        pthread_cond_signal(&s->freed);
        pthread_mutex_unlock(&s->mu);
    }
    return rc;
}

void nq__put(nq_store *s, nq__db *db, int broken)
{
    if (broken || !s->drv->alive(db)) {
        s->drv->disconnect(db);
        db = NULL;
    }
    pthread_mutex_lock(&s->mu);
    if (db)
        s->idle[s->n_idle++] = db;
    else
        s->n_open--;
    pthread_cond_signal(&s->freed);
    pthread_mutex_unlock(&s->mu);
}

int nq__exec1(nq_store *s, const char *sql, int n, const char *const *params, nq__row_fn fn,
              void *user, int64_t *changes, nq_err *err)
{
    nq__db *db;
    int rc = nq__get(s, &db, err);
    if (rc)
        return rc;
    rc = s->drv->exec(db, sql, n, params, fn, user, changes, err);
    nq__put(s, db, 0);
    return rc;
}

int nq__tx_begin(nq_store *s, nq__db **out, nq_err *err)
{
    int rc = nq__get(s, out, err);
    if (rc)
        return rc;
    rc = s->drv->exec(*out, s->drv->begin_write, 0, NULL, NULL, NULL, NULL, err);
    if (rc)
        nq__put(s, *out, 0);
    return rc;
}

int nq__tx_end(nq_store *s, nq__db *db, int rc, nq_err *err)
{
    if (rc == NQ_OK) {
        rc = s->drv->exec(db, SQL_COMMIT, 0, NULL, NULL, NULL, NULL, err);
        if (rc) {
            /* A failed COMMIT leaves nothing written; roll back to be sure
             * the connection is out of the transaction. */
            nq_err keep = *err;
            s->drv->exec(db, SQL_ROLLBACK, 0, NULL, NULL, NULL, NULL, &keep);
        }
    } else {
        nq_err ignored;
        nq_err_clear(&ignored);
        s->drv->exec(db, SQL_ROLLBACK, 0, NULL, NULL, NULL, NULL, &ignored);
    }
    nq__put(s, db, 0);
    return rc;
}

/* ---- migrations ------------------------------------------------------------ */

static int read_int(void *user, int n, const char *const *vals, const size_t *lens)
{
    (void)lens;
    if (n > 0 && vals[0])
        *(long long *)user = strtoll(vals[0], NULL, 10);
    return 1;
}

int nq_store_latest_version(const nq_store *s)
{
    return s->drv->n_migrations;
}

int nq_store_schema_version(nq_store *s, int *version, nq_err *err)
{
    long long v = 0;
    int rc = nq__exec1(s, SQL_MIGRATIONS_TABLE, 0, NULL, NULL, NULL, NULL, err);
    if (!rc)
        rc = nq__exec1(s, SQL_VERSION, 0, NULL, read_int, &v, NULL, err);
    *version = (int)v;
    return rc;
}

/* Apply version v (1-based) unless another node did it first: the version
 * is read again under the migration lock. */
static int migrate_one(nq_store *s, int v, int *ran, nq_err *err)
{
    nq__db *db;
    int rc = nq__tx_begin(s, &db, err);
    if (rc)
        return rc;
    long long have = 0;
    if (s->drv->migrate_lock)
        rc = s->drv->exec(db, s->drv->migrate_lock, 0, NULL, NULL, NULL, NULL, err);
    if (!rc)
        rc = s->drv->exec(db, SQL_VERSION, 0, NULL, read_int, &have, NULL, err);
    if (!rc && have < v) {
        rc = s->drv->script(db, s->drv->migrations[v - 1], err);
        char vs[16], at[32];
        snprintf(vs, sizeof vs, "%d", v);
        snprintf(at, sizeof at, "%.6f", nq_clock_wall_s());
        const char *p[2] = {vs, at};
        if (!rc)
            rc = s->drv->exec(db, SQL_MARK, 2, p, NULL, NULL, NULL, err);
        if (!rc)
            *ran = 1;
    }
    if (rc && err->msg[0] && v > 0) {
        char msg[NQ_ERR_MSG_MAX];
        snprintf(msg, sizeof msg, "%s", err->msg);
        nq_err_set(err, rc, "migration", "version %d: %s", v, msg);
    }
    return nq__tx_end(s, db, rc, err);
}

int nq_store_migrate(nq_store *s, int *applied, nq_err *err)
{
    int have = 0, n = 0;
    int rc = nq_store_schema_version(s, &have, err);
    if (rc)
        return rc;
    if (have > s->drv->n_migrations)
        return nq_err_set(err, NQ_EINVAL, "migration",
                          "the database is at schema version %d, newer than this program's %d",
                          have, s->drv->n_migrations);
    for (int v = have + 1; v <= s->drv->n_migrations && !rc; v++) {
        int ran = 0;
        rc = migrate_one(s, v, &ran, err);
        n += ran;
    }
    if (applied)
        *applied = n;
    return rc;
}
