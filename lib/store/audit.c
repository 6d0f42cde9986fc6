/* audit.c - the append-only, hash-chained audit log.
 *
 * Each entry's hash is SHA-256 over a canonical serialization of the entry
 * (its seq, time, actor, action, target, request and result hashes and
 * detail) and the previous entry's hash. Every field is written as
 * "<length>:<bytes>;" (SQL NULL as "~;"), so no choice of field contents
 * can make two different entries serialize alike.
 *
 * The head (last seq and hash) lives in its own row, updated in the same
 * transaction as the append: it survives restarts, and it is what catches
 * a cut-off tail. Appends lock that row (PostgreSQL: SELECT ... FOR
 * UPDATE; SQLite: the write transaction), so appends from every
 * connection and node form one chain.
 *
 * Limits: the chain proves the log was not altered by someone who did not
 * also rewrite every later hash and the head. An attacker with write
 * access to the database who knows the scheme can forge a consistent
 * chain; copying the head elsewhere (logs, another system) detects that. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nqba/clock.h"
#include "nqba/sha256.h"
#include "store_internal.h"

static const char SQL_HEAD[] = "SELECT seq, hash FROM audit_head WHERE id = 1";
static const char SQL_HEAD_LOCK[] = "SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE";
static const char SQL_INSERT_HEAD[] =
    "INSERT INTO audit_log (seq, at_us, actor, action, target, request_hash, result_hash, "
    "detail, prev_hash, entry_hash)";
static const char SQL_SET_HEAD[] = "UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1";
static const char SQL_SNAPSHOT[] = "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ";
static const char SQL_SCAN[] =
    "SELECT seq, at_us, actor, action, target, request_hash, result_hash, detail, prev_hash, "
    "entry_hash FROM audit_log ORDER BY seq";

#define HASH_HEX 64
#define F_SEQ 0
#define F_AT 1
#define F_PREV 8
#define F_HASH 9
#define N_FIELDS 10

static void put_field(nq_sha256_ctx *c, const char *v, size_t len)
{
    if (!v) {
        nq_sha256_update(c, "~;", 2);
        return;
    }
    char n[24];
    int k = snprintf(n, sizeof n, "%zu:", len);
    nq_sha256_update(c, n, (size_t)k);
    nq_sha256_update(c, v, len);
    nq_sha256_update(c, ";", 1);
}

/* f[0..8]: seq, at_us, actor, action, target, request_hash, result_hash,
 * detail, prev_hash, as stored (text). */
static void entry_hash(const char *const *f, const size_t *len, char out[HASH_HEX + 1])
{
    nq_sha256_ctx c;
    uint8_t d[NQ_SHA256_LEN];
    nq_sha256_init(&c);
    nq_sha256_update(&c, "nqba-audit/1;", 13);
    for (int i = 0; i < F_HASH; i++)
        put_field(&c, f[i], f[i] ? len[i] : 0);
    nq_sha256_final(&c, d);
    nq_sha256_hex(d, out);
}

typedef struct head {
    long long seq;
    char hash[HASH_HEX + 1];
    int found;
} head;

static int read_head(void *user, int n, const char *const *vals, const size_t *lens)
{
    head *h = user;
    if (n >= 2 && vals[0] && vals[1] && lens[1] == HASH_HEX) {
        h->seq = strtoll(vals[0], NULL, 10);
        memcpy(h->hash, vals[1], HASH_HEX + 1);
        h->found = 1;
    }
    return 1;
}

static size_t opt_len(const char *s)
{
    return s ? strlen(s) : 0;
}

int nq__audit_open(nq_store *s, nq__db *db, nq__chain *c, nq_err *err)
{
    return nq__audit_head(s, db, 1, c, err);
}

int nq__audit_head(nq_store *s, nq__db *db, int lock, nq__chain *c, nq_err *err)
{
    head h = {0, "", 0};
    int rc = s->drv->exec(db, lock && s->drv->row_locks ? SQL_HEAD_LOCK : SQL_HEAD, 0, NULL,
                          read_head, &h, NULL, err);
    if (rc)
        return rc;
    if (!h.found)
        return nq_err_set(err, NQ_EIO, "audit_head", "the audit head row is missing");
    c->seq = h.seq;
    memcpy(c->hash, h.hash, sizeof c->hash);
    return NQ_OK;
}

int nq__audit_sql(nq_store *s)
{
    for (int k = 0; k < NQ__ROWS; k++)
        if (!(s->sql_audit_rows[k] = nq__rows_sql(SQL_INSERT_HEAD, N_FIELDS, k + 1)))
            return NQ_ENOMEM;
    return NQ_OK;
}

int nq__audit_row_make(nq__chain *c, const nq_audit_entry *e, nq__audit_row *r, nq_err *err)
{
    if (!e || !e->action || !e->action[0])
        return nq_err_set(err, NQ_EINVAL, "action", "an audit entry needs an action");
    double when = e->at > 0 ? e->at : nq_clock_wall_s();
    snprintf(r->seq, sizeof r->seq, "%lld", c->seq + 1);
    snprintf(r->at, sizeof r->at, "%" PRId64, (int64_t)llround(when * 1e6));
    memcpy(r->prev, c->hash, sizeof r->prev);
    const char *f[N_FIELDS] = {r->seq,         r->at,           e->actor ? e->actor : "anonymous",
                               e->action,      e->target,       e->request_hash,
                               e->result_hash, e->detail,       r->prev,
                               r->hash};
    size_t len[N_FIELDS];
    for (int i = 0; i < N_FIELDS - 1; i++)
        len[i] = opt_len(f[i]);
    entry_hash(f, len, r->hash);
    memcpy(r->f, f, sizeof r->f);
    c->seq++;
    memcpy(c->hash, r->hash, sizeof c->hash);
    return NQ_OK;
}

int nq__audit_insert(nq_store *s, nq__db *db, nq__audit_row *rows, int n, nq_err *err)
{
    const char *p[NQ__ROWS * N_FIELDS];
    int rc = NQ_OK;
    for (int at = 0; at < n && !rc; at += NQ__ROWS) {
        int k = n - at < NQ__ROWS ? n - at : NQ__ROWS;
        for (int r = 0; r < k; r++)
            memcpy(p + r * N_FIELDS, rows[at + r].f, sizeof rows[at + r].f);
        rc = s->drv->exec(db, s->sql_audit_rows[k - 1], k * N_FIELDS, p, NULL, NULL, NULL, err);
    }
    return rc;
}

int nq__audit_add(nq_store *s, nq__db *db, nq__chain *c, const nq_audit_entry *e, nq_err *err)
{
    nq__audit_row r;
    int rc = nq__audit_row_make(c, e, &r, err);
    return rc ? rc : nq__audit_insert(s, db, &r, 1, err);
}

int nq__audit_close(nq_store *s, nq__db *db, const nq__chain *c, nq_err *err)
{
    char seq[24];
    snprintf(seq, sizeof seq, "%lld", c->seq);
    const char *hp[2] = {seq, c->hash};
    return s->drv->exec(db, SQL_SET_HEAD, 2, hp, NULL, NULL, NULL, err);
}

int nq__audit_append(nq_store *s, nq__db *db, const nq_audit_entry *e, nq_err *err)
{
    nq__chain c;
    int rc = nq__audit_open(s, db, &c, err);
    if (!rc)
        rc = nq__audit_add(s, db, &c, e, err);
    if (!rc)
        rc = nq__audit_close(s, db, &c, err);
    return rc;
}

int nq_store_audit(nq_store *s, const nq_audit_entry *e, nq_err *err)
{
    nq__db *db;
    int rc = nq__tx_begin(s, &db, err);
    if (rc)
        return rc;
    rc = nq__audit_append(s, db, e, err);
    return nq__tx_end(s, db, rc, err);
}

/* ---- verification ---------------------------------------------------------- */

typedef struct walk {
    nq_audit_report *r;
    long long next_seq;
    char prev[HASH_HEX + 1];
} walk;

static int bad(walk *w, long long seq, const char *why)
{
    w->r->ok = 0;
    w->r->first_bad_seq = seq;
    snprintf(w->r->reason, sizeof w->r->reason, "%s", why);
    return 1; /* stop at the first broken link */
}

static int check_row(void *user, int n, const char *const *vals, const size_t *lens)
{
    walk *w = user;
    if (n != N_FIELDS || !vals[F_SEQ] || !vals[F_PREV] || !vals[F_HASH])
        return bad(w, w->next_seq, "an entry has missing columns");
    long long seq = strtoll(vals[F_SEQ], NULL, 10);
    w->r->entries++;
    char buf[160];
    if (seq > w->next_seq) {
        snprintf(buf, sizeof buf, "entry %lld is missing (deleted); the log jumps to %lld",
                 w->next_seq, seq);
        return bad(w, w->next_seq, buf);
    }
    if (seq < w->next_seq)
        return bad(w, seq, "entry out of sequence (inserted or renumbered)");
    char hash[HASH_HEX + 1];
    entry_hash(vals, lens, hash);
    if (lens[F_HASH] != HASH_HEX || memcmp(hash, vals[F_HASH], HASH_HEX) != 0)
        return bad(w, seq, "the entry's hash does not match its contents (edited)");
    if (lens[F_PREV] != HASH_HEX || memcmp(w->prev, vals[F_PREV], HASH_HEX) != 0)
        return bad(w, seq, "the entry does not link to the one before it "
                           "(inserted, deleted or reordered)");
    memcpy(w->prev, hash, sizeof w->prev);
    w->next_seq = seq + 1;
    return 0;
}

int nq_store_audit_verify(nq_store *s, nq_audit_report *r, nq_err *err)
{
    memset(r, 0, sizeof *r);
    r->ok = 1;
    head h = {0, "", 0};
    walk w = {r, 1, ""};
    memset(w.prev, '0', HASH_HEX);
    nq__db *db;
    /* One transaction: the head and the rows are read from one snapshot,
     * so appends running meanwhile do not look like tampering. */
    int rc = nq__tx_begin(s, &db, err);
    if (rc)
        return rc;
    /* PostgreSQL's default isolation takes a snapshot per statement. */
    if (s->drv->row_locks)
        rc = s->drv->exec(db, SQL_SNAPSHOT, 0, NULL, NULL, NULL, NULL, err);
    if (!rc)
        rc = s->drv->exec(db, SQL_HEAD, 0, NULL, read_head, &h, NULL, err);
    if (!rc)
        rc = s->drv->exec(db, SQL_SCAN, 0, NULL, check_row, &w, NULL, err);
    rc = nq__tx_end(s, db, rc, err);
    if (rc)
        return rc;
    r->head_seq = h.seq;
    if (!r->ok)
        return NQ_OK;
    char buf[160];
    if (!h.found) {
        bad(&w, w.next_seq, "the audit head row is missing");
    } else if (h.seq != w.next_seq - 1) {
        snprintf(buf, sizeof buf, "the head records entry %lld but the log ends at %lld%s", h.seq,
                 w.next_seq - 1, h.seq > w.next_seq - 1 ? " (entries deleted from the end)" : "");
        bad(&w, h.seq > w.next_seq - 1 ? w.next_seq : h.seq + 1, buf);
    } else if (memcmp(h.hash, w.prev, HASH_HEX) != 0) {
        bad(&w, h.seq, "the head's hash does not match the last entry");
    }
    return NQ_OK;
}

json_t *nq_audit_report_json(const nq_audit_report *r)
{
    return json_pack("{s:b, s:I, s:I, s:I, s:s}", "ok", r->ok, "entries", (json_int_t)r->entries,
                     "head_seq", (json_int_t)r->head_seq, "first_bad_seq",
                     (json_int_t)r->first_bad_seq, "reason", r->ok ? "" : r->reason);
}
