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

static const char SQL_PUT[] =
    "INSERT INTO decisions (id, unit, kind, request, result, solver, status, latency, \"user\", "
    "quantum_enhanced, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";
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

int nq_store_put_decision(nq_store *s, const nq_decision_rec *d, nq_err *err)
{
    int rc = check_rec(d, err);
    if (rc)
        return rc;
    char lat[32], at[32], action[MAX_FIELD + 16], req_hash[65], res_hash[65];
    double when = d->created_at > 0 ? d->created_at : nq_clock_wall_s();
    snprintf(lat, sizeof lat, "%.9g", d->latency_s);
    snprintf(at, sizeof at, "%.6f", when);
    snprintf(action, sizeof action, "decision.%s", d->status);
    hash_text(d->request, req_hash);
    if (d->result)
        hash_text(d->result, res_hash);
    const char *p[11] = {d->id,     d->unit,   d->kind, d->request,
                         d->result, d->solver ? d->solver : "", d->status, lat,
                         d->user,   d->quantum_enhanced ? "1" : "0", at};
    nq_audit_entry e = {d->user, action, d->id, req_hash, d->result ? res_hash : NULL, NULL, when};
    nq__db *db;
    rc = nq__tx_begin(s, &db, err);
    if (rc)
        return rc;
    rc = s->drv->exec(db, SQL_PUT, 11, p, NULL, NULL, NULL, err);
    if (rc == NQ_EINVAL)
        nq_err_set(err, NQ_EINVAL, "id", "decision %s is already stored", d->id);
    if (!rc)
        rc = nq__audit_append(s, db, &e, err);
    return nq__tx_end(s, db, rc, err);
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
