/* decisions.c - the decisions history: store one (with its audit entry, in
 * one transaction), read one, list them newest first with filters and a
 * cursor.
 *
 * The cursor is the seq of the last row of a page: the next page is the
 * rows below it. Unlike an offset it stays right while new decisions
 * arrive, and the query is an index range scan whatever the page. Filters
 * are optional through "CAST($n AS T) IS NULL OR ...", one static
 * statement (prepared once per connection) for every combination. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nqba/clock.h"
#include "nqba/sha256.h"
#include "store_internal.h"

static const char SQL_PUT_HEAD[] =
    "INSERT INTO decisions (id, unit, kind, request, result, solver, status, latency, \"user\", "
    "quantum_enhanced, created_at)";
#define PUT_COLS 11
#define COLS                                                                                   \
    "seq, id, unit, kind, solver, status, latency, \"user\", quantum_enhanced, created_at, "   \
    "request, result"
static const char SQL_GET[] = "SELECT " COLS " FROM decisions WHERE id = $1";
static const char SQL_LIST[] =
    "SELECT " COLS " FROM decisions"
    " WHERE (CAST($1 AS TEXT) IS NULL OR unit = CAST($1 AS TEXT))"
    " AND (CAST($2 AS TEXT) IS NULL OR kind = CAST($2 AS TEXT))"
    " AND (CAST($3 AS DOUBLE PRECISION) IS NULL OR created_at >= CAST($3 AS DOUBLE PRECISION))"
    " AND (CAST($4 AS DOUBLE PRECISION) IS NULL OR created_at < CAST($4 AS DOUBLE PRECISION))"
    " AND (CAST($5 AS BIGINT) IS NULL OR seq < CAST($5 AS BIGINT))"
    " ORDER BY seq DESC LIMIT CAST($6 AS INTEGER)";

enum { C_SEQ, C_ID, C_UNIT, C_KIND, C_SOLVER, C_STATUS, C_LAT, C_USER, C_QE, C_AT, C_REQ, C_RES, C_N };

#define MAX_FIELD 64 /* unit, kind, solver, status, user */

static void hash_text(const char *text, char out[65])
{
    uint8_t d[NQ_SHA256_LEN];
    nq_sha256(text, strlen(text), d);
    nq_sha256_hex(d, out);
}

static int check_rec(const nq_decision_rec *d, nq_err *err)
{
    if (!d || strlen(d->id) != 32)
        return nq_err_set(err, NQ_EINVAL, "id", "a decision id is 32 hex characters");
    const char *names[] = {"unit", "kind", "status"};
    const char *vals[] = {d->unit, d->kind, d->status};
    for (int i = 0; i < 3; i++)
        if (!vals[i] || !vals[i][0] || strlen(vals[i]) > MAX_FIELD)
            return nq_err_set(err, NQ_EINVAL, names[i], "must be 1..%d characters", MAX_FIELD);
    if (!d->request)
        return nq_err_set(err, NQ_EINVAL, "request", "a decision needs its request");
    return NQ_OK;
}

/* The audit entry of a decision. Its strings live in buf. */
typedef struct entry_buf {
    char action[MAX_FIELD + 16], req_hash[65], res_hash[65];
} entry_buf;

static nq_audit_entry entry_of(const nq_decision_rec *d, double when, entry_buf *b)
{
    snprintf(b->action, sizeof b->action, "decision.%s", d->status);
    hash_text(d->request, b->req_hash);
    if (d->result)
        hash_text(d->result, b->res_hash);
    nq_audit_entry e = {d->user, b->action, d->id, b->req_hash, d->result ? b->res_hash : NULL,
                        NULL, when};
    return e;
}

int nq__decisions_sql(nq_store *s)
{
    for (int k = 0; k < NQ__ROWS; k++)
        if (!(s->sql_decision_rows[k] = nq__rows_sql(SQL_PUT_HEAD, PUT_COLS, k + 1)))
            return NQ_ENOMEM;
    return NQ_OK;
}

/* A decision's row and audit entry as text, ready for the inserts. */
typedef struct row_buf {
    char lat[32], at[32];
    entry_buf eb;
    nq_audit_entry e;
    const char *p[PUT_COLS];
} row_buf;

static void row_of(const nq_decision_rec *d, row_buf *b)
{
    double when = d->created_at > 0 ? d->created_at : nq_clock_wall_s();
    snprintf(b->lat, sizeof b->lat, "%.9g", d->latency_s);
    snprintf(b->at, sizeof b->at, "%.6f", when);
    const char *p[PUT_COLS] = {d->id,     d->unit,   d->kind, d->request,
                               d->result, d->solver ? d->solver : "", d->status, b->lat,
                               d->user,   d->quantum_enhanced ? "1" : "0", b->at};
    memcpy(b->p, p, sizeof p);
    b->e = entry_of(d, when, &b->eb);
}

/* n decision rows in multi-row inserts. */
static int insert_rows(nq_store *s, nq__db *db, row_buf *rows, int n, nq_err *err)
{
    const char *p[NQ__ROWS * PUT_COLS];
    int rc = NQ_OK;
    for (int at = 0; at < n && !rc; at += NQ__ROWS) {
        int k = n - at < NQ__ROWS ? n - at : NQ__ROWS;
        for (int r = 0; r < k; r++)
            memcpy(p + r * PUT_COLS, rows[at + r].p, sizeof rows[at + r].p);
        rc = s->drv->exec(db, s->sql_decision_rows[k - 1], k * PUT_COLS, p, NULL, NULL, NULL,
                          err);
    }
    if (rc == NQ_EINVAL && n == 1)
        nq_err_set(err, NQ_EINVAL, "id", "decision %s is already stored", rows[0].p[0]);
    else if (rc == NQ_EINVAL)
        nq_err_set(err, NQ_EINVAL, "id", "a decision of the batch is already stored");
    return rc;
}

/* The unit tables' inserts: literals, as every statement (the drivers
 * cache prepared statements by the address of their text). */
static const char *const SQL_UNIT_ROW[] = {
    NULL,
    "INSERT INTO portfolio_optimization (decision_id, risk_tolerance, target_return, "
    "expected_return, quantum_optimized, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    "INSERT INTO energy_optimization (decision_id, optimization_target, cost_savings, "
    "efficiency_gain, quantum_enhanced, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    "INSERT INTO lead_scoring (decision_id, lead_id, score, priority_level, quantum_enhanced, "
    "created_at) VALUES ($1, $2, $3, $4, $5, $6)"};

static int insert_unit_rows(nq_store *s, nq__db *db, nq__pending *list, row_buf *rows, int one,
                            nq_err *err)
{
    int i = 0, rc = NQ_OK;
    for (nq__pending *p = list; p && !rc; p = one ? NULL : p->next, i++) {
        const nq_unit_row *u = &p->d->unit_row;
        if (u->table <= NQ_UNIT_TABLE_NONE || u->table > NQ_UNIT_TABLE_LEAD_SCORING)
            continue;
        const char *v[6] = {p->d->id, u->v[0], u->v[1], u->v[2], rows[i].p[9], rows[i].at};
        rc = s->drv->exec(db, SQL_UNIT_ROW[u->table], 6, v, NULL, NULL, NULL, err);
    }
    return rc;
}

/* Every decision of the list (or only its first, with one) and their
 * audit entries in one transaction: all or none. The chain's head is read
 * and written once. */
static int write_batch(nq_store *s, nq__pending *list, int one, nq_err *err)
{
    int n = 0;
    for (nq__pending *p = list; p; p = one ? NULL : p->next)
        n++;
    row_buf *rows = malloc((size_t)n * sizeof *rows);
    nq__audit_row *audit = malloc((size_t)n * sizeof *audit);
    if (!rows || !audit) {
        free(rows);
        free(audit);
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    }
    int i = 0;
    for (nq__pending *p = list; p; p = one ? NULL : p->next)
        row_of(p->d, &rows[i++]);
    nq__db *db;
    nq__chain c;
    int rc = nq__tx_begin(s, &db, err);
    if (!rc) {
        rc = insert_rows(s, db, rows, n, err);
        if (!rc)
            rc = insert_unit_rows(s, db, list, rows, one, err);
        /* The head is locked last, so writers of other nodes wait for it
         * only while this transaction appends its entries and commits. */
        if (!rc)
            rc = nq__audit_open(s, db, &c, err);
        for (i = 0; i < n && !rc; i++)
            rc = nq__audit_row_make(&c, &rows[i].e, &audit[i], err);
        if (!rc)
            rc = nq__audit_insert(s, db, audit, n, err);
        if (!rc)
            rc = nq__audit_close(s, db, &c, err);
        rc = nq__tx_end(s, db, rc, err);
    }
    free(rows);
    free(audit);
    return rc;
}

/* Group commit. Every store write must also extend the one audit chain,
 * so writes serialize on its head and each would pay a durable commit on
 * its own: with many writers the queue, not the work, would make the
 * latency. Instead writers queue here and one of them at a time, the
 * leader, writes everything queued in one transaction (one commit, one
 * fsync) and hands each writer its outcome. A write waits at most for the
 * batch in progress and its own.
 *
 * All or none: should the batch fail on one decision (an id already
 * stored), each decision of it is written again on its own, so that only
 * that one fails. Other failures (the database is down) are everyone's.
 *
 * A caller's entries are linked in one go under gc_mu, and a leader takes
 * the whole list, so they always land in one batch: waiting for the last
 * one is waiting for all. */
static void lead(nq_store *s)
{
    nq__pending *batch = s->gc_head;
    s->gc_head = s->gc_tail = NULL;
    pthread_mutex_unlock(&s->gc_mu);

    nq_err berr;
    nq_err_clear(&berr);
    int brc = write_batch(s, batch, 0, &berr);
    for (nq__pending *p = batch; p; p = p->next) {
        if (brc == NQ_EINVAL && batch->next) {
            nq_err_clear(&p->err);
            p->rc = write_batch(s, p, 1, &p->err);
        } else {
            p->rc = brc;
            p->err = berr;
        }
    }
    pthread_mutex_lock(&s->gc_mu);
    /* After done is set a waiter may return and its entries vanish: read
     * next before. */
    for (nq__pending *p = batch, *next; p; p = next) {
        next = p->next;
        pthread_cond_t *wake = p->wake;
        p->done = 1;
        pthread_cond_signal(wake);
    }
    s->gc_leading = 0;
    if (s->gc_head) /* the next batch's leader */
        pthread_cond_signal(s->gc_head->wake);
}

/* Queue the k entries, lead or wait until they are written. */
static void put_pending(nq_store *s, nq__pending *mine, int k)
{
    pthread_cond_t wake;
    pthread_cond_init(&wake, NULL);
    pthread_mutex_lock(&s->gc_mu);
    for (int i = 0; i < k; i++) {
        mine[i].wake = &wake;
        if (s->gc_tail)
            s->gc_tail->next = &mine[i];
        else
            s->gc_head = &mine[i];
        s->gc_tail = &mine[i];
    }
    nq__pending *last = &mine[k - 1];
    while (!last->done) {
        if (!s->gc_leading) {
            s->gc_leading = 1;
            lead(s); /* the list holds ours (none done yet), perhaps others' */
            continue;
        }
        pthread_cond_wait(&wake, &s->gc_mu);
    }
    pthread_mutex_unlock(&s->gc_mu);
    pthread_cond_destroy(&wake);
}

int nq_store_put_decision(nq_store *s, const nq_decision_rec *d, nq_err *err)
{
    int rc;
    if (!d)
        return check_rec(d, err);
    nq_store_put_decisions(s, d, 1, &rc, err);
    return rc;
}

int nq_store_put_decisions(nq_store *s, const nq_decision_rec *d, int n, int *rc, nq_err *err)
{
    if (!d || n < 1 || n > NQ_STORE_PUT_MAX) {
        for (int i = 0; i < n && i < NQ_STORE_PUT_MAX; i++)
            rc[i] = nq_err_set(&err[i], NQ_EINVAL, NULL, "1..%d decisions per call",
                               NQ_STORE_PUT_MAX);
        return NQ_EINVAL;
    }
    nq__pending one, *mine = n == 1 ? &one : calloc((size_t)n, sizeof *mine);
    if (!mine) {
        for (int i = 0; i < n; i++)
            rc[i] = nq_err_set(&err[i], NQ_ENOMEM, NULL, "out of memory");
        return NQ_ENOMEM;
    }
    int k = 0;
    for (int i = 0; i < n; i++) {
        nq_err_clear(&err[i]);
        rc[i] = check_rec(&d[i], &err[i]);
        if (!rc[i]) {
            memset(&mine[k], 0, sizeof mine[k]);
            mine[k++].d = &d[i];
        }
    }
    if (k)
        put_pending(s, mine, k);
    int first = NQ_OK;
    for (int i = 0, at = 0; i < n; i++) {
        if (!rc[i]) {
            rc[i] = mine[at].rc;
            err[i] = mine[at++].err;
        }
        if (rc[i] && !first)
            first = rc[i];
    }
    if (mine != &one)
        free(mine);
    return first;
}

/* ---- reading --------------------------------------------------------------- */

static json_t *doc_or_null(const char *text, size_t len)
{
    json_t *v = text ? json_loadb(text, len, 0, NULL) : NULL;
    return v ? v : json_null();
}

static int truthy(const char *v)
{
    return v && (v[0] == '1' || v[0] == 't' || v[0] == 'T');
}

static json_t *str_or_null(const char *v)
{
    return v ? json_string(v) : json_null();
}

static json_t *row_json(const char *const *v, const size_t *lens, int with_documents)
{
    char when[32];
    nq_clock_rfc3339(v[C_AT] ? strtod(v[C_AT], NULL) : 0.0, when);
    json_t *o = json_pack("{s:s?, s:s?, s:s?, s:s?, s:s?, s:f, s:o, s:b, s:s}", "id", v[C_ID],
                          "unit", v[C_UNIT], "kind", v[C_KIND], "solver", v[C_SOLVER], "status",
                          v[C_STATUS], "latency_s", v[C_LAT] ? strtod(v[C_LAT], NULL) : 0.0,
                          "user", str_or_null(v[C_USER]), "quantum_enhanced", truthy(v[C_QE]),
                          "created_at", when);
    if (o && with_documents &&
        (json_object_set_new(o, "request", doc_or_null(v[C_REQ], lens[C_REQ])) ||
         json_object_set_new(o, "result", doc_or_null(v[C_RES], lens[C_RES])))) {
        json_decref(o);
        return NULL;
    }
    return o;
}

typedef struct rows {
    json_t *items;
    int with_documents, limit, n, bad;
    int saw_extra; /* a row beyond limit exists: there is a next page */
    long long last_seq;
} rows;

static int take_row(void *user, int n, const char *const *vals, const size_t *lens)
{
    rows *r = user;
    if (n != C_N)
        return r->bad = 1;
    if (r->n == r->limit) {
        r->saw_extra = 1; /* the query asks for one row more than a page */
        return 1;
    }
    json_t *o = row_json(vals, lens, r->with_documents);
    if (!o || json_array_append_new(r->items, o))
        return r->bad = 1;
    r->n++;
    r->last_seq = vals[C_SEQ] ? strtoll(vals[C_SEQ], NULL, 10) : 0;
    return 0;
}

int nq_store_get_decision(nq_store *s, const char *id, json_t **out, nq_err *err)
{
    *out = NULL;
    rows r = {json_array(), 1, 1, 0, 0, 0, 0};
    if (!r.items)
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    const char *p[1] = {id};
    int rc = nq__exec1(s, SQL_GET, 1, p, take_row, &r, NULL, err);
    if (!rc && r.bad)
        rc = nq_err_set(err, NQ_EIO, NULL, "unreadable decision row");
    if (!rc && r.n == 0)
        rc = nq_err_set(err, NQ_ENOTFOUND, "id", "no decision %s", id);
    if (!rc)
        *out = json_incref(json_array_get(r.items, 0));
    json_decref(r.items);
    return rc;
}

static int parse_cursor(const char *c, long long *out, nq_err *err)
{
    char *end;
    errno = 0;
    long long v = strtoll(c, &end, 10);
    if (!c[0] || *end || errno || v < 1 || strlen(c) > 19)
        return nq_err_set(err, NQ_EINVAL, "cursor", "not a cursor this server gave out");
    *out = v;
    return NQ_OK;
}

int nq_store_list_decisions(nq_store *s, const nq_decision_query *q, json_t **out, nq_err *err)
{
    *out = NULL;
    int limit = q->limit ? q->limit : NQ_STORE_PAGE_DEFAULT;
    if (limit < 1 || limit > NQ_STORE_PAGE_MAX)
        return nq_err_set(err, NQ_ERANGE, "limit", "must be 1..%d", NQ_STORE_PAGE_MAX);
    long long cursor = 0;
    int rc = q->cursor ? parse_cursor(q->cursor, &cursor, err) : NQ_OK;
    if (rc)
        return rc;
    char from[32], to[32], cur[24], lim[16];
    snprintf(from, sizeof from, "%.6f", q->from);
    snprintf(to, sizeof to, "%.6f", q->to);
    snprintf(cur, sizeof cur, "%lld", cursor);
    snprintf(lim, sizeof lim, "%d", limit + 1);
    const char *p[6] = {q->unit, q->kind, q->from > 0 ? from : NULL, q->to > 0 ? to : NULL,
                        cursor ? cur : NULL, lim};
    rows r = {json_array(), q->with_documents, limit, 0, 0, 0, 0};
    if (!r.items)
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    rc = nq__exec1(s, SQL_LIST, 6, p, take_row, &r, NULL, err);
    if (!rc && r.bad)
        rc = nq_err_set(err, NQ_EIO, NULL, "unreadable decision row");
    if (rc) {
        json_decref(r.items);
        return rc;
    }
    char next[24];
    snprintf(next, sizeof next, "%lld", r.last_seq);
    *out = json_pack("{s:o, s:s?}", "items", r.items, "next_cursor",
                     r.saw_extra ? next : NULL);
    return *out ? NQ_OK : nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
}
