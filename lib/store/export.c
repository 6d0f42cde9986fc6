/* export.c - backup and restore: the store as JSON lines (the format is in
 * store.h) and back.
 *
 * Export reads inside one read transaction, so the decisions, the audit
 * entries and the head all come from one snapshot: a head that matches
 * the last entry even while a server appends. Rows are read in pages by
 * seq (keyset, not offset) because the PostgreSQL driver holds a
 * statement's whole result in memory; a page bounds what it holds.
 *
 * Import runs in one write transaction from begin to end. Audit entries go
 * in verbatim, with their seq and hashes: the chain's hashes are over the
 * stored text, so nothing may be re-encoded. The append-only triggers
 * forbid UPDATE and DELETE only, so inserting the entries and updating the
 * head row is allowed. The importer checks that the file's entries form
 * one chain from entry 1 to the audit_head line (the links, not the
 * entries' own hashes: recomputing those is nq_store_audit_verify's job,
 * and it runs on the result). */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nqba/json.h"
#include "store_internal.h"

#define HASH_HEX 64
#define ID_HEX 32
#define NAME_MAX_LEN 64 /* unit, kind, status: what nq_store_put_decision accepts */
/* Latest time accepted: 9e12 s (year ~287,000) keeps at_us within int64. */
#define TIME_MAX 9e12

/* Decision rows carry two documents each, audit rows a few short strings. */
#define DECISION_PAGE 50
#define AUDIT_PAGE 500
#define STR_(x) #x
#define STR(x) STR_(x)

static const char SQL_READ_BEGIN[] = "BEGIN";
static const char SQL_SNAPSHOT[] = "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY";
/* created_at in whole microseconds: a column read as text would come back
 * with SQLite's 15 significant digits, short of a microsecond today. */
static const char SQL_DECISION_PAGE[] =
    "SELECT seq, id, unit, kind, solver, status, latency, \"user\", quantum_enhanced, "
    "CAST(ROUND(created_at * 1000000) AS BIGINT), request, result FROM decisions"
    " WHERE seq > CAST($1 AS BIGINT)"
    " AND (CAST($2 AS DOUBLE PRECISION) IS NULL OR created_at >= CAST($2 AS DOUBLE PRECISION))"
    " ORDER BY seq LIMIT " STR(DECISION_PAGE);
static const char SQL_AUDIT_PAGE[] =
    "SELECT seq, at_us, actor, action, target, request_hash, result_hash, detail, prev_hash, "
    "entry_hash FROM audit_log WHERE seq > CAST($1 AS BIGINT)"
    " AND (CAST($2 AS BIGINT) IS NULL OR at_us >= CAST($2 AS BIGINT))"
    " ORDER BY seq LIMIT " STR(AUDIT_PAGE);
static const char SQL_ANY_AUDIT[] = "SELECT seq FROM audit_log ORDER BY seq LIMIT 1";
/* ON CONFLICT DO NOTHING (both backends) reports a stored id as 0 rows
 * changed, where a failed INSERT would abort a PostgreSQL transaction
 * before the id could be named. */
static const char SQL_IMPORT_DECISION[] =
    "INSERT INTO decisions (id, unit, kind, request, result, solver, status, latency, \"user\", "
    "quantum_enhanced, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
    " ON CONFLICT (id) DO NOTHING";
static const char SQL_IMPORT_AUDIT[] =
    "INSERT INTO audit_log (seq, at_us, actor, action, target, request_hash, result_hash, "
    "detail, prev_hash, entry_hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";
static const char SQL_SET_HEAD[] = "UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1";

/* The columns of SQL_DECISION_PAGE and SQL_AUDIT_PAGE, in order. */
enum {
    D_SEQ,
    D_ID,
    D_UNIT,
    D_KIND,
    D_SOLVER,
    D_STATUS,
    D_LAT,
    D_USER,
    D_QE,
    D_AT_US,
    D_REQ,
    D_RES,
    D_N
};
enum { A_SEQ, A_AT, A_ACTOR, A_N = 10 };
static const char *const AUDIT_COLS[A_N] = {"seq",       "at_us",        "actor",       "action",
                                            "target",    "request_hash", "result_hash", "detail",
                                            "prev_hash", "entry_hash"};


/* ---- export ----------------------------------------------------------------- */

typedef struct exporter {
    nq_store_line_fn fn;
    void *user;
    nq_err *err;
    int rc;             /* what stopped the rows, if anything */
    int rows;           /* rows of the current page */
    long long last_seq; /* the page's last seq: the next page starts after it */
} exporter;

/* A JSON object built member by member; the first member that could not
 * be made is remembered instead of checking each one. */
typedef struct builder {
    json_t *o;
    const char *bad;
} builder;

static void put(builder *b, const char *key, json_t *v)
{
    if (b->bad) {
        json_decref(v);
        return;
    }
    if (!v || json_object_set_new(b->o, key, v)) /* set_new takes v even when it fails */
        b->bad = key;
}

/* Stored text as a JSON string: NULL (not UTF-8, or no memory) fails put. */
static json_t *text_or_null(const char *v, size_t len)
{
    return v ? json_stringn(v, len) : json_null();
}

static json_t *document(const char *text, size_t len)
{
    return text ? json_loadb(text, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL) : json_null();
}

static int truthy(const char *v)
{
    return v && (v[0] == '1' || v[0] == 't' || v[0] == 'T');
}

static int emit(exporter *ex, builder *b, const char *what)
{
    if (b->bad) {
        json_decref(b->o);
        return nq_err_set(ex->err, NQ_EIO, NULL, "%s: its %s cannot be written as JSON", what,
                          b->bad);
    }
    char *line = json_dumps(b->o, JSON_COMPACT);
    json_decref(b->o);
    if (!line)
        return nq_err_set(ex->err, NQ_ENOMEM, NULL, "out of memory writing %s", what);
    size_t len = strlen(line);
    int rc = NQ_OK;
    if (len > NQ_STORE_LINE_MAX)
        rc = nq_err_set(ex->err, NQ_ELIMIT, NULL,
                        "%s is a line of %zu bytes, more than the %zu MiB an import reads", what,
                        len, NQ_STORE_LINE_MAX >> 20);
    else if (ex->fn(ex->user, line, len))
        rc = nq_err_set(ex->err, NQ_ECANCEL, NULL, "the export was stopped by its caller");
    free(line);
    return rc;
}

static int decision_line(exporter *ex, const char *const *v, const size_t *lens)
{
    char what[64];
    snprintf(what, sizeof what, "decision %.32s", v[D_ID] ? v[D_ID] : "?");
    if (!v[D_SEQ] || !v[D_ID] || !v[D_LAT] || !v[D_AT_US] || !v[D_REQ])
        return nq_err_set(ex->err, NQ_EIO, NULL, "%s: unreadable row", what);
    builder b = {json_object(), NULL};
    put(&b, "type", json_string("decision"));
    put(&b, "seq", json_integer(strtoll(v[D_SEQ], NULL, 10)));
    put(&b, "id", text_or_null(v[D_ID], lens[D_ID]));
    put(&b, "unit", text_or_null(v[D_UNIT], lens[D_UNIT]));
    put(&b, "kind", text_or_null(v[D_KIND], lens[D_KIND]));
    put(&b, "request", document(v[D_REQ], lens[D_REQ]));
    put(&b, "result", document(v[D_RES], lens[D_RES]));
    put(&b, "solver", text_or_null(v[D_SOLVER], lens[D_SOLVER]));
    put(&b, "status", text_or_null(v[D_STATUS], lens[D_STATUS]));
    put(&b, "latency_s", json_real(strtod(v[D_LAT], NULL)));
    put(&b, "user", text_or_null(v[D_USER], lens[D_USER]));
    put(&b, "quantum_enhanced", json_boolean(truthy(v[D_QE])));
    put(&b, "created_at", json_real((double)strtoll(v[D_AT_US], NULL, 10) / 1e6));
    return emit(ex, &b, what);
}

static int audit_line(exporter *ex, const char *const *v, const size_t *lens)
{
    char what[64];
    snprintf(what, sizeof what, "audit entry %.24s", v[A_SEQ] ? v[A_SEQ] : "?");
    if (!v[A_SEQ] || !v[A_AT])
        return nq_err_set(ex->err, NQ_EIO, NULL, "%s: unreadable row", what);
    builder b = {json_object(), NULL};
    put(&b, "type", json_string("audit"));
    put(&b, "seq", json_integer(strtoll(v[A_SEQ], NULL, 10)));
    put(&b, "at_us", json_integer(strtoll(v[A_AT], NULL, 10)));
    for (int i = A_ACTOR; i < A_N; i++)
        put(&b, AUDIT_COLS[i], text_or_null(v[i], lens[i]));
    return emit(ex, &b, what);
}

static int on_decision(void *user, int n, const char *const *vals, const size_t *lens)
{
    exporter *ex = user;
    ex->rows++;
    if (n != D_N)
        ex->rc = nq_err_set(ex->err, NQ_EIO, NULL, "a decision row of %d columns", n);
    else
        ex->rc = decision_line(ex, vals, lens);
    if (!ex->rc)
        ex->last_seq = strtoll(vals[D_SEQ], NULL, 10);
    return ex->rc != NQ_OK;
}

static int on_audit(void *user, int n, const char *const *vals, const size_t *lens)
{
    exporter *ex = user;
    ex->rows++;
    if (n != A_N)
        ex->rc = nq_err_set(ex->err, NQ_EIO, NULL, "an audit row of %d columns", n);
    else
        ex->rc = audit_line(ex, vals, lens);
    if (!ex->rc)
        ex->last_seq = strtoll(vals[A_SEQ], NULL, 10);
    return ex->rc != NQ_OK;
}

/* Every page of sql (whose $1 is the seq to start after, $2 the lower
 * bound or NULL) through fn, until a page comes back short. */
static int pages(nq_store *s, nq__db *db, const char *sql, const char *bound, nq__row_fn fn,
                 int page, exporter *ex)
{
    ex->last_seq = 0;
    for (;;) {
        char after[24];
        snprintf(after, sizeof after, "%lld", ex->last_seq);
        const char *p[2] = {after, bound};
        ex->rows = 0;
        int rc = s->drv->exec(db, sql, 2, p, fn, ex, NULL, ex->err);
        if (rc || ex->rc)
            return rc ? rc : ex->rc;
        if (ex->rows < page)
            return NQ_OK;
    }
}

static int head_line(nq_store *s, nq__db *db, exporter *ex)
{
    nq__chain h;
    int rc = nq__audit_head(s, db, 0, &h, ex->err);
    if (rc)
        return rc;
    builder b = {json_object(), NULL};
    put(&b, "type", json_string("audit_head"));
    put(&b, "seq", json_integer(h.seq));
    put(&b, "hash", json_string(h.hash));
    return emit(ex, &b, "the audit head");
}

/* A read transaction, not nq__tx_begin's write one: SQLite's BEGIN
 * IMMEDIATE would hold the write lock, and so stop a server from storing
 * decisions, for the whole export. A plain BEGIN reads one WAL snapshot
 * from its first SELECT on; PostgreSQL takes a snapshot per statement
 * unless asked for REPEATABLE READ. */
static int read_begin(nq_store *s, nq__db **out, nq_err *err)
{
    int rc = nq__get(s, out, err);
    if (rc)
        return rc;
    rc = s->drv->exec(*out, SQL_READ_BEGIN, 0, NULL, NULL, NULL, NULL, err);
    if (rc) {
        nq__put(s, *out, 0);
        return rc;
    }
    if (s->drv->row_locks)
        rc = s->drv->exec(*out, SQL_SNAPSHOT, 0, NULL, NULL, NULL, NULL, err);
    return rc ? nq__tx_end(s, *out, rc, err) : NQ_OK;
}

int nq_store_export(nq_store *s, double since, nq_store_line_fn fn, void *user, nq_err *err)
{
    if (!fn)
        return nq_err_set(err, NQ_EINVAL, NULL, "no line function given");
    if (!isfinite(since) || since < 0 || since > TIME_MAX)
        return nq_err_set(err, NQ_EINVAL, "since", "must be Unix seconds, 0 or later");
    char from[40], from_us[24];
    snprintf(from, sizeof from, "%.6f", since);
    snprintf(from_us, sizeof from_us, "%lld", (long long)llround(since * 1e6));
    exporter ex = {fn, user, err, NQ_OK, 0, 0};
    nq__db *db;
    int rc = read_begin(s, &db, err);
    if (rc)
        return rc;
    rc = pages(s, db, SQL_DECISION_PAGE, since > 0 ? from : NULL, on_decision, DECISION_PAGE, &ex);
    if (!rc)
        rc = pages(s, db, SQL_AUDIT_PAGE, since > 0 ? from_us : NULL, on_audit, AUDIT_PAGE, &ex);
    if (!rc)
        rc = head_line(s, db, &ex);
    return nq__tx_end(s, db, rc, err);
}

/* ---- import: reading a line's members ---------------------------------------- */

struct nq_store_import {
    nq_store *s;
    nq__db *db;      /* holds the transaction from begin to end */
    long line;       /* lines seen */
    int failed;      /* a line failed: only a rollback is left */
    int ended;       /* the audit_head line came */
    int audit_taken; /* the target's audit log had entries at begin */
    int64_t decisions, audit_entries;
    long long last_seq;           /* the last audit entry imported (0: none yet) */
    char last_hash[HASH_HEX + 1]; /* its entry_hash (64 zeros: none yet) */
};

static int missing(const char *key, nq_err *err)
{
    char where[NQ_JSON_PTR_MAX];
    nq_json_ptr_key(where, "", key);
    return nq_err_set(err, NQ_EINVAL, where, "required member is missing");
}

/* A member that must be there and may be null (*out NULL). */
static int get_nullable(const json_t *o, const char *key, const char **out, nq_err *err)
{
    json_t *v = json_object_get(o, key);
    *out = NULL;
    if (!v)
        return missing(key, err);
    if (json_is_null(v))
        return NQ_OK;
    return nq_json_get_string(o, "", key, 1, NQ_STORE_LINE_MAX, out, err);
}

static int is_hex(const char *s, size_t n, int lower_only)
{
    if (strlen(s) != n)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
              (!lower_only && c >= 'A' && c <= 'F')))
            return 0;
    }
    return 1;
}

/* n hex digits; the chain's own hashes are always lowercase (what
 * nq_sha256_hex writes), so that a link compares byte for byte. */
static int get_hex(const json_t *o, const char *key, size_t n, int nullable, int lower_only,
                   const char **out, nq_err *err)
{
    int rc = nullable ? get_nullable(o, key, out, err)
                      : nq_json_get_string(o, "", key, 1, NQ_STORE_LINE_MAX, out, err);
    if (rc || !*out || is_hex(*out, n, lower_only))
        return rc;
    char where[NQ_JSON_PTR_MAX];
    nq_json_ptr_key(where, "", key);
    return nq_err_set(err, NQ_EINVAL, where, "expected %zu %shex digits", n,
                      lower_only ? "lowercase " : "");
}

static int get_name(const json_t *o, const char *key, const char **out, nq_err *err)
{
    int rc = nq_json_get_string(o, "", key, 1, NAME_MAX_LEN, out, err);
    if (!rc && !(*out)[0]) {
        char where[NQ_JSON_PTR_MAX];
        nq_json_ptr_key(where, "", key);
        rc = nq_err_set(err, NQ_EINVAL, where, "must not be empty");
    }
    return rc;
}

/* A JSON document member: any value, null only when nullable (*out NULL). */
static int get_document(const json_t *o, const char *key, int nullable, json_t **out, nq_err *err)
{
    json_t *v = json_object_get(o, key);
    *out = NULL;
    if (!v)
        return missing(key, err);
    if (json_is_null(v) && !nullable) {
        char where[NQ_JSON_PTR_MAX];
        nq_json_ptr_key(where, "", key);
        return nq_err_set(err, NQ_EINVAL, where, "expected a JSON document, got null");
    }
    *out = json_is_null(v) ? NULL : v;
    return NQ_OK;
}

static int get_time(const json_t *o, const char *key, double *out, nq_err *err)
{
    int rc = nq_json_get_number(o, "", key, 1, out, err);
    if (!rc && (*out < 0 || *out > TIME_MAX)) {
        char where[NQ_JSON_PTR_MAX];
        nq_json_ptr_key(where, "", key);
        rc = nq_err_set(err, NQ_ERANGE, where, "must be between 0 and %g", TIME_MAX);
    }
    return rc;
}

/* ---- import: the three kinds of line ------------------------------------------ */

static const char *const DECISION_KEYS[] = {"type",       "seq",       "id",     "unit",
                                            "kind",       "request",   "result", "solver",
                                            "status",     "latency_s", "user",   "quantum_enhanced",
                                            "created_at", NULL};

typedef struct decision_in {
    int64_t seq;
    const char *id, *unit, *kind, *solver, *status, *user;
    json_t *request, *result; /* borrowed from the line */
    double latency, created_at;
    int qe;
} decision_in;

static int read_decision(const json_t *o, decision_in *d, nq_err *err)
{
    int rc = nq_json_check_keys(o, "", DECISION_KEYS, err);
    if (!rc)
        rc = nq_json_get_int(o, "", "seq", 1, 1, INT64_MAX, &d->seq, err);
    if (!rc)
        rc = get_hex(o, "id", ID_HEX, 0, 0, &d->id, err);
    if (!rc)
        rc = get_name(o, "unit", &d->unit, err);
    if (!rc)
        rc = get_name(o, "kind", &d->kind, err);
    if (!rc)
        rc = get_document(o, "request", 0, &d->request, err);
    if (!rc)
        rc = get_document(o, "result", 1, &d->result, err);
    if (!rc)
        rc = nq_json_get_string(o, "", "solver", 1, NQ_STORE_LINE_MAX, &d->solver, err);
    if (!rc)
        rc = get_name(o, "status", &d->status, err);
    if (!rc)
        rc = get_time(o, "latency_s", &d->latency, err);
    if (!rc)
        rc = get_nullable(o, "user", &d->user, err);
    if (!rc)
        rc = nq_json_get_bool(o, "", "quantum_enhanced", 1, &d->qe, err);
    if (!rc)
        rc = get_time(o, "created_at", &d->created_at, err);
    return rc;
}

static int import_decision(nq_store_import *im, const json_t *o, nq_err *err)
{
    decision_in d;
    memset(&d, 0, sizeof d);
    int rc = read_decision(o, &d, err);
    if (rc)
        return rc;
    /* The documents are stored as compact JSON text (PostgreSQL normalizes
     * them anyway); %.17g and %.6f give back the exported numbers exactly. */
    char *req = json_dumps(d.request, JSON_COMPACT | JSON_ENCODE_ANY);
    char *res = d.result ? json_dumps(d.result, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    char lat[32], at[40];
    snprintf(lat, sizeof lat, "%.17g", d.latency);
    snprintf(at, sizeof at, "%.6f", d.created_at);
    const char *p[11] = {d.id, d.unit, d.kind,           req, res, d.solver, d.status,
                         lat,  d.user, d.qe ? "1" : "0", at};
    int64_t added = 0;
    if (!req || (d.result && !res))
        rc = nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    else
        rc = im->s->drv->exec(im->db, SQL_IMPORT_DECISION, 11, p, NULL, NULL, &added, err);
    if (!rc && added == 0)
        rc = nq_err_set(err, NQ_EINVAL, "/id",
                        "decision %s is already stored (restore into an empty store)", d.id);
    if (!rc)
        im->decisions++;
    free(req);
    free(res);
    return rc;
}

static const char *const AUDIT_KEYS[] = {"type",   "seq",       "at_us",        "actor",
                                         "action", "target",    "request_hash", "result_hash",
                                         "detail", "prev_hash", "entry_hash",   NULL};

typedef struct audit_in {
    int64_t seq, at_us;
    const char *actor, *action, *target, *request_hash, *result_hash, *detail, *prev, *hash;
} audit_in;

static int read_audit(const json_t *o, audit_in *a, nq_err *err)
{
    int rc = nq_json_check_keys(o, "", AUDIT_KEYS, err);
    if (!rc)
        rc = nq_json_get_int(o, "", "seq", 1, 1, INT64_MAX, &a->seq, err);
    if (!rc)
        rc = nq_json_get_int(o, "", "at_us", 1, 0, INT64_MAX, &a->at_us, err);
    if (!rc)
        rc = nq_json_get_string(o, "", "actor", 1, NQ_STORE_LINE_MAX, &a->actor, err);
    if (!rc)
        rc = get_name(o, "action", &a->action, err);
    if (!rc)
        rc = get_nullable(o, "target", &a->target, err);
    if (!rc)
        rc = get_hex(o, "request_hash", HASH_HEX, 1, 0, &a->request_hash, err);
    if (!rc)
        rc = get_hex(o, "result_hash", HASH_HEX, 1, 0, &a->result_hash, err);
    if (!rc)
        rc = get_nullable(o, "detail", &a->detail, err);
    if (!rc)
        rc = get_hex(o, "prev_hash", HASH_HEX, 0, 1, &a->prev, err);
    if (!rc)
        rc = get_hex(o, "entry_hash", HASH_HEX, 0, 1, &a->hash, err);
    return rc;
}

/* The entry continues the chain the file has built so far. */
static int check_link(const nq_store_import *im, const audit_in *a, nq_err *err)
{
    if (a->seq != im->last_seq + 1 && im->last_seq == 0)
        return nq_err_set(err, NQ_EINVAL, "/seq",
                          "the audit log starts at entry %" PRId64 ", not 1: a partial export "
                          "(--since) cannot restore it",
                          a->seq);
    if (a->seq != im->last_seq + 1)
        return nq_err_set(err, NQ_EINVAL, "/seq",
                          "entry %" PRId64 " follows entry %lld (entries missing or out of order)",
                          a->seq, im->last_seq);
    if (strcmp(a->prev, im->last_hash) != 0 && im->last_seq == 0)
        return nq_err_set(err, NQ_EINVAL, "/prev_hash", "the first entry must link to 64 zeros");
    if (strcmp(a->prev, im->last_hash) != 0)
        return nq_err_set(err, NQ_EINVAL, "/prev_hash",
                          "does not match the entry_hash of entry %lld: the chain is broken",
                          im->last_seq);
    return NQ_OK;
}

static int import_audit(nq_store_import *im, const json_t *o, nq_err *err)
{
    if (im->audit_taken)
        return nq_err_set(err, NQ_EINVAL, NULL,
                          "the target audit log is not empty: restore into a fresh store");
    audit_in a;
    memset(&a, 0, sizeof a);
    int rc = read_audit(o, &a, err);
    if (!rc)
        rc = check_link(im, &a, err);
    if (rc)
        return rc;
    char seq[24], at[24];
    snprintf(seq, sizeof seq, "%" PRId64, a.seq);
    snprintf(at, sizeof at, "%" PRId64, a.at_us);
    const char *p[A_N] = {seq,           at,       a.actor, a.action, a.target, a.request_hash,
                          a.result_hash, a.detail, a.prev,  a.hash};
    rc = im->s->drv->exec(im->db, SQL_IMPORT_AUDIT, A_N, p, NULL, NULL, NULL, err);
    if (rc)
        return rc;
    im->last_seq = a.seq;
    memcpy(im->last_hash, a.hash, HASH_HEX + 1);
    im->audit_entries++;
    return NQ_OK;
}

static const char *const HEAD_KEYS[] = {"type", "seq", "hash", NULL};

/* The head must be where the file's chain ends; the target's head row
 * moves there only when entries came (a file without any leaves the
 * target's log alone). */
static int import_head(nq_store_import *im, const json_t *o, nq_err *err)
{
    int64_t seq = 0;
    const char *hash = NULL;
    int rc = nq_json_check_keys(o, "", HEAD_KEYS, err);
    if (!rc)
        rc = nq_json_get_int(o, "", "seq", 1, 0, INT64_MAX, &seq, err);
    if (!rc)
        rc = get_hex(o, "hash", HASH_HEX, 0, 1, &hash, err);
    if (rc)
        return rc;
    if (seq != im->last_seq)
        return nq_err_set(err, NQ_EINVAL, "/seq",
                          "the head is entry %" PRId64 " but the audit entries above end at "
                          "%lld: the file is partial (--since) or cut",
                          seq, im->last_seq);
    if (strcmp(hash, im->last_hash) != 0)
        return nq_err_set(err, NQ_EINVAL, "/hash",
                          "does not match the entry_hash of the last audit entry");
    char seq_text[24];
    snprintf(seq_text, sizeof seq_text, "%" PRId64, seq);
    const char *p[2] = {seq_text, hash};
    if (im->audit_entries > 0)
        rc = im->s->drv->exec(im->db, SQL_SET_HEAD, 2, p, NULL, NULL, NULL, err);
    if (!rc)
        im->ended = 1;
    return rc;
}

/* ---- import: lines and the transaction ----------------------------------------- */

static int read_any(void *user, int n, const char *const *vals, const size_t *lens)
{
    (void)n, (void)vals, (void)lens;
    *(int *)user = 1;
    return 1;
}

int nq_store_import_begin(nq_store *s, nq_store_import **out, nq_err *err)
{
    *out = NULL;
    nq_store_import *im = calloc(1, sizeof *im);
    if (!im)
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    im->s = s;
    memset(im->last_hash, '0', HASH_HEX);
    int rc = nq__tx_begin(s, &im->db, err);
    if (rc) {
        free(im);
        return rc;
    }
    /* The head row's lock (PostgreSQL; SQLite's write transaction already
     * excludes writers) keeps appends out until the import ends. */
    nq__chain h;
    int any = 0;
    rc = nq__audit_head(s, im->db, 1, &h, err);
    if (!rc)
        rc = s->drv->exec(im->db, SQL_ANY_AUDIT, 0, NULL, read_any, &any, NULL, err);
    if (rc) {
        nq__tx_end(s, im->db, rc, err);
        free(im);
        return rc;
    }
    im->audit_taken = any || h.seq != 0;
    *out = im;
    return NQ_OK;
}

static int blank(const char *line, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r' && line[i] != '\n')
            return 0;
    return 1;
}

/* Put "line N" in front of the error's location. */
static void at_line(long n, nq_err *err)
{
    if (!err)
        return;
    char where[NQ_ERR_WHERE_MAX + 32];
    snprintf(where, sizeof where, "line %ld%s%s", n, err->where[0] ? ": " : "", err->where);
    size_t k = strnlen(where, NQ_ERR_WHERE_MAX - 1);
    memcpy(err->where, where, k);
    err->where[k] = '\0';
}

static int parse_line(const char *line, size_t len, json_t **out, nq_err *err)
{
    json_error_t je;
    *out = json_loadb(line, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &je);
    if (!*out && json_error_code(&je) == json_error_out_of_memory)
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    if (!*out)
        return nq_err_set(err, NQ_EPARSE, NULL, "not JSON: %s (column %d)", je.text, je.column);
    if (!json_is_object(*out))
        return nq_err_set(err, NQ_EINVAL, NULL, "expected an object, got %s",
                          nq_json_type_name(*out));
    return NQ_OK;
}

static int import_object(nq_store_import *im, const json_t *o, nq_err *err)
{
    const char *type = NULL;
    int rc = nq_json_get_string(o, "", "type", 1, NQ_STORE_LINE_MAX, &type, err);
    if (rc)
        return rc;
    if (strcmp(type, "decision") == 0)
        return import_decision(im, o, err);
    if (strcmp(type, "audit") == 0)
        return import_audit(im, o, err);
    if (strcmp(type, "audit_head") == 0)
        return import_head(im, o, err);
    return nq_err_set(err, NQ_EINVAL, "/type",
                      "unknown line type \"%.40s\" (decision, audit or audit_head)", type);
}

int nq_store_import_line(nq_store_import *im, const char *line, size_t len, nq_err *err)
{
    im->line++;
    if (im->failed) {
        nq_err_set(err, NQ_EINVAL, NULL, "an earlier line failed: the import can only be undone");
        at_line(im->line, err);
        return NQ_EINVAL;
    }
    json_t *o = NULL;
    int rc;
    if (len > NQ_STORE_LINE_MAX)
        rc = nq_err_set(err, NQ_ELIMIT, NULL, "the line is %zu bytes, more than %zu MiB", len,
                        NQ_STORE_LINE_MAX >> 20);
    else if (!line || blank(line, len))
        return NQ_OK;
    else if (im->ended)
        rc = nq_err_set(err, NQ_EINVAL, NULL, "nothing may follow the audit_head line");
    else
        rc = parse_line(line, len, &o, err);
    if (!rc)
        rc = import_object(im, o, err);
    json_decref(o);
    if (rc) {
        im->failed = 1;
        at_line(im->line, err);
    }
    return rc;
}

void nq_store_import_counts(const nq_store_import *im, int64_t *decisions, int64_t *audit_entries)
{
    if (decisions)
        *decisions = im->decisions;
    if (audit_entries)
        *audit_entries = im->audit_entries;
}

int nq_store_import_end(nq_store_import *im, int commit, nq_err *err)
{
    if (!im)
        return NQ_OK;
    int rc = NQ_OK;
    if (commit && im->failed)
        rc = nq_err_set(err, NQ_EINVAL, NULL, "a line failed: nothing was imported");
    else if (commit && !im->ended)
        rc = nq_err_set(err, NQ_EINVAL, NULL,
                        "the input ends before its audit_head line (cut short?): nothing was "
                        "imported");
    if (commit) {
        rc = nq__tx_end(im->s, im->db, rc, err);
    } else {
        nq_err ignored;
        nq_err_clear(&ignored);
        nq__tx_end(im->s, im->db, NQ_ECANCEL, &ignored);
    }
    free(im);
    return rc;
}
