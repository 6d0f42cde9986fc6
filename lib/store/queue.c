/* queue.c - the job queue several nodes share, in PostgreSQL's jobs table
 * (include/nqba/queue.h; the design is in docs/internals/queue.md).
 *
 * Each operation is one statement, so one round trip: the claim picks a
 * row with FOR UPDATE SKIP LOCKED and updates it in the same statement,
 * and the notifications go out from the statement that made the change
 * (NOTIFY is delivered at commit, so a listener never hears of a row it
 * cannot read yet). Lease times come from the database's clock, never a
 * node's: nodes whose clocks disagree still agree on when a lease ends.
 * Every write after a claim names the claim's lease token and requires the
 * job to be running, so a worker whose lease was taken over changes
 * nothing. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nqba/queue.h"
#include "nqba/randid.h"
#include "store_internal.h"

/* Poison rows one claim fails before giving up for this call: each costs
 * a round trip, and a caller that got nothing simply asks again. */
#define NQ__QUEUE_POISON_MAX 16
/* The longest lease: a worker that needs more heartbeats more often. */
#define NQ__QUEUE_LEASE_MAX 86400.0
/* Short columns read into fixed buffers (ids, hashes, states, booleans). */
#define NQ__QUEUE_COLS 4
#define NQ__QUEUE_VAL 72

#define NQ__NOW "extract(epoch FROM clock_timestamp())::double precision"

/* The ON CONFLICT target names the partial unique index on idem_key, so a
 * repeated key inserts nothing and returns no row (the caller then reads
 * the existing job); any other conflict still fails. */
static const char SQL_ENQUEUE[] =
    "WITH ins AS ("
    " INSERT INTO jobs (id, kind, state, priority, prio, body, request_text, idem_key,"
    " request_hash, created_at)"
    " VALUES ($1, $2, 'queued', $3, $4::smallint, $5, $6, $7, $8, " NQ__NOW ")"
    " ON CONFLICT (idem_key) WHERE idem_key IS NOT NULL DO NOTHING"
    " RETURNING id)"
    " SELECT id, pg_notify('" NQ_QUEUE_WORK "', ''),"
    " pg_notify('" NQ_QUEUE_EVENTS "', id || ' queued') FROM ins";
static const char SQL_IDEM_FIND[] = "SELECT id, request_hash FROM jobs WHERE idem_key = $1";

/* $1 node, $2 lease token, $3 lease seconds, $4 max attempts. The
 * candidate's previous state tells a reclaim from a first claim; a
 * candidate that used up its attempts is failed instead of run. */
/* A candidate ends here instead of running when a cancel was asked while
 * it ran (its worker died before seeing it: "cancelled") or when it used
 * up its attempts (poison: "failed"). */
static const char SQL_CLAIM[] =
    "WITH now_db AS (SELECT " NQ__NOW " AS t),"
    " cand AS ("
    " SELECT id, state AS was, cancel_requested AS cancel,"
    " NOT cancel_requested AND attempts >= $4::int AS poison FROM jobs"
    " WHERE state = 'queued' OR (state = 'running' AND lease_until < (SELECT t FROM now_db))"
    " ORDER BY prio, created_at LIMIT 1 FOR UPDATE SKIP LOCKED),"
    " upd AS ("
    " UPDATE jobs j SET"
    " state = CASE WHEN c.cancel THEN 'cancelled' WHEN c.poison THEN 'failed' ELSE 'running' END,"
    " node = CASE WHEN c.poison OR c.cancel THEN j.node ELSE $1 END,"
    " lease_token = CASE WHEN c.poison OR c.cancel THEN NULL ELSE $2 END,"
    " lease_until = CASE WHEN c.poison OR c.cancel THEN NULL"
    " ELSE (SELECT t FROM now_db) + $3::double precision END,"
    " attempts = CASE WHEN c.poison OR c.cancel THEN j.attempts ELSE j.attempts + 1 END,"
    " started_at = COALESCE(j.started_at, (SELECT t FROM now_db)),"
    " finished_at = CASE WHEN c.poison OR c.cancel THEN (SELECT t FROM now_db) END,"
    " error = CASE WHEN c.poison THEN ('{\"code\":\"internal\",\"pointer\":null,"
    "\"detail\":\"gave up after ' || j.attempts || ' attempts: the workers running it"
    " stopped (lease expired)\"}')::json ELSE j.error END"
    " FROM cand c WHERE j.id = c.id"
    " RETURNING j.id, j.kind, j.priority, j.body, COALESCE(j.request_text, j.body),"
    " j.attempts, j.created_at, c.was = 'running' AS reclaimed, c.poison OR c.cancel AS ended,"
    " c.poison)"
    " SELECT u.*, pg_notify('" NQ_QUEUE_EVENTS "',"
    " u.id || CASE WHEN u.ended THEN ' final' ELSE ' running' END) FROM upd u";

static const char SQL_HEARTBEAT[] =
    "UPDATE jobs SET lease_until = " NQ__NOW " + $3::double precision"
    " WHERE id = $1 AND lease_token = $2 AND state = 'running' RETURNING cancel_requested";

static const char SQL_PROGRESS[] =
    "WITH u AS (UPDATE jobs SET progress = $3::json"
    " WHERE id = $1 AND lease_token = $2 AND state = 'running' RETURNING id)"
    " SELECT pg_notify('" NQ_QUEUE_EVENTS "', id || ' progress') FROM u";

static const char SQL_FINISH[] =
    "WITH u AS (UPDATE jobs SET state = $3, result = $4::json, error = $5::json,"
    " finished_at = " NQ__NOW ", lease_until = NULL"
    " WHERE id = $1 AND lease_token = $2 AND state = 'running' RETURNING id)"
    " SELECT pg_notify('" NQ_QUEUE_EVENTS "', id || ' final') FROM u";

/* A worker shutting down gives its job back: claimable at once, and the
 * attempt it used does not count towards poison. */
static const char SQL_RELEASE[] =
    "WITH u AS (UPDATE jobs SET state = 'queued', lease_token = NULL, lease_until = NULL,"
    " node = NULL, attempts = GREATEST(attempts - 1, 0)"
    " WHERE id = $1 AND lease_token = $2 AND state = 'running' RETURNING id)"
    " SELECT pg_notify('" NQ_QUEUE_WORK "', ''), pg_notify('" NQ_QUEUE_EVENTS "', id || ' queued')"
    " FROM u";

/* The row is locked first so that the state the answer reports is the one
 * the update acted on, even with a claim or a finish racing it. */
static const char SQL_CANCEL[] =
    "WITH cur AS (SELECT id, state FROM jobs WHERE id = $1 FOR UPDATE),"
    " u AS ("
    " UPDATE jobs j SET"
    " state = CASE WHEN c.state = 'queued' THEN 'cancelled' ELSE j.state END,"
    " finished_at = CASE WHEN c.state = 'queued' THEN " NQ__NOW " ELSE j.finished_at END,"
    " cancel_requested = (c.state = 'running') OR j.cancel_requested"
    " FROM cur c WHERE j.id = c.id AND c.state IN ('queued', 'running')"
    " RETURNING j.id)"
    " SELECT c.state,"
    " CASE WHEN u.id IS NOT NULL THEN pg_notify('" NQ_QUEUE_EVENTS "', c.id || ' cancel') END,"
    " CASE WHEN u.id IS NOT NULL AND c.state = 'queued'"
    " THEN pg_notify('" NQ_QUEUE_EVENTS "', c.id || ' final') END"
    " FROM cur c LEFT JOIN u ON u.id = c.id";

static const char SQL_GET[] =
    "SELECT id, kind, state, priority, COALESCE(node, ''), attempts, cancel_requested,"
    " created_at, started_at, finished_at, lease_until, result, error, progress"
    " FROM jobs WHERE id = $1";

static const char SQL_COUNTS[] = "SELECT state, count(*) FROM jobs GROUP BY state";
/* Only the jobs not yet ended: rows the claim index covers, however many
 * ended jobs the table keeps. */
static const char SQL_PENDING[] = "SELECT state, count(*) FROM jobs"
                                  " WHERE state IN ('queued', 'running') GROUP BY state";
static const char SQL_PRUNE[] =
    "DELETE FROM jobs WHERE id IN (SELECT id FROM jobs WHERE finished_at < $1::double precision"
    " AND state IN ('succeeded', 'failed', 'cancelled') LIMIT 1000)";

/* In the order of nq_job_state (and of nq_queue_counts). */
enum { NQ__QS_QUEUED = 0, NQ__QS_RUNNING = 1, NQ__QS_ENDED = 2 };
static const char *const STATES[5] = {"queued", "running", "succeeded", "failed", "cancelled"};
static const char *const PRIOS[3] = {"high", "normal", "low"};

/* ---- helpers ------------------------------------------------------------------ */

int nq__queue_check(const nq_store *s, nq_err *err)
{
    if (!s)
        return nq_err_set(err, NQ_EINVAL, NULL, "no store");
    if (s->drv != &nq__driver_postgresql)
        return nq_err_set(err, NQ_EINVAL, NULL, "the shared job queue needs PostgreSQL");
    return NQ_OK;
}

static int nq__queue_index(const char *s, const char *const *names, int n)
{
    for (int i = 0; s && i < n; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    return -1;
}

/* Ids (time-ordered) and lease tokens (all random), randid.h: neither is
 * guessable from another. */
static int nq__queue_random_hex(char out[33], int time_ordered, nq_err *err)
{
    if (time_ordered ? nq_time_id(out) : nq_random_id(out))
        return nq_err_set(err, NQ_EIO, NULL, "getrandom failed: %s", strerror(errno));
    return NQ_OK;
}

static int nq__queue_lease(double lease_s, char *buf, size_t cap, nq_err *err)
{
    /* Written so that NaN fails too. */
    if (!(lease_s > 0 && lease_s <= NQ__QUEUE_LEASE_MAX))
        return nq_err_set(err, NQ_EINVAL, "lease_s", "must be in (0, %.0f] seconds",
                          NQ__QUEUE_LEASE_MAX);
    snprintf(buf, cap, "%.6f", lease_s);
    return NQ_OK;
}

static int nq__queue_text(const char *s, size_t cap, const char *where, nq_err *err)
{
    if (!s || !*s)
        return nq_err_set(err, NQ_EINVAL, where, "is required");
    if (strlen(s) >= cap)
        return nq_err_set(err, NQ_EINVAL, where, "is longer than %zu bytes", cap - 1);
    return NQ_OK;
}

/* The id and token every write after a claim names. */
static int nq__queue_lease_args(const char *id, const char *token, nq_err *err)
{
    int rc = nq__queue_text(id, 33, "id", err);
    return rc ? rc : nq__queue_text(token, 33, "token", err);
}

static char *nq__queue_dup(const char *v, size_t len)
{
    char *p = malloc(len + 1);
    if (p) {
        memcpy(p, v, len);
        p[len] = '\0';
    }
    return p;
}

static int nq__queue_bool(const char *v)
{
    return v && (v[0] == 't' || v[0] == '1');
}

/* The first row's short columns (the statements above return at most one
 * row where this is used); rows counts them all. */
typedef struct nq__queue_small {
    int rows;
    int null[NQ__QUEUE_COLS];
    char v[NQ__QUEUE_COLS][NQ__QUEUE_VAL];
} nq__queue_small;

static int nq__queue_take_small(void *user, int n, const char *const *vals, const size_t *lens)
{
    (void)lens;
    nq__queue_small *r = user;
    if (r->rows++ == 0) {
        for (int c = 0; c < n && c < NQ__QUEUE_COLS; c++) {
            r->null[c] = vals[c] == NULL;
            snprintf(r->v[c], NQ__QUEUE_VAL, "%s", vals[c] ? vals[c] : "");
        }
    }
    return 0;
}

/* ---- enqueue --------------------------------------------------------------------- */

static int nq__queue_job_check(const nq_queue_job *j, nq_err *err)
{
    if (!j)
        return nq_err_set(err, NQ_EINVAL, NULL, "no job");
    int rc = nq__queue_text(j->kind, NQ_QUEUE_KIND_MAX, "kind", err);
    if (rc)
        return rc;
    if (nq__queue_index(j->priority, PRIOS, 3) < 0)
        return nq_err_set(err, NQ_EINVAL, "priority", "must be high, normal or low");
    if (!j->request)
        return nq_err_set(err, NQ_EINVAL, "request", "is required");
    if (!j->idem_key)
        return NQ_OK;
    rc = nq__queue_text(j->idem_key, NQ_QUEUE_IDEM_MAX, "Idempotency-Key", err);
    if (rc)
        return rc;
    /* Without the hash a reused key could not be told from a new request. */
    return nq__queue_text(j->request_hash, NQ__QUEUE_VAL, "request_hash", err);
}

/* The job an Idempotency-Key already names: its id when the request is
 * the same one, NQ_EINVAL when it is another; *found 0 when the row is
 * gone again (only someone deleting rows by hand makes that happen). */
static int nq__queue_idem(nq_store *s, const nq_queue_job *j, char id[33], int *found, nq_err *err)
{
    nq__queue_small r;
    memset(&r, 0, sizeof r);
    const char *p[1] = {j->idem_key};
    int rc = nq__exec1(s, SQL_IDEM_FIND, 1, p, nq__queue_take_small, &r, NULL, err);
    *found = rc == NQ_OK && r.rows > 0;
    if (rc || !*found)
        return rc;
    if (r.null[1] || strcmp(r.v[1], j->request_hash) != 0)
        return nq_err_set(err, NQ_EINVAL, "Idempotency-Key",
                          "Idempotency-Key reused with a different request");
    snprintf(id, 33, "%.32s", r.v[0]);
    return NQ_OK;
}

int nq_queue_enqueue(nq_store *s, const nq_queue_job *j, char id[33], int *existing, nq_err *err)
{
    *existing = 0;
    id[0] = '\0';
    int rc = nq__queue_check(s, err);
    if (!rc)
        rc = nq__queue_job_check(j, err);
    if (rc)
        return rc;
    char prio[2] = {(char)('0' + nq__queue_index(j->priority, PRIOS, 3)), '\0'};
    /* Twice at most: a key whose job vanished between the insert that saw
     * it and the read that looks for it gets one more insert. */
    for (int attempt = 0; attempt < 2; attempt++) {
        char fresh_id[33];
        rc = nq__queue_random_hex(fresh_id, 1, err);
        if (rc)
            return rc;
        const char *text = j->request_text ? j->request_text : j->request;
        const char *p[8] = {fresh_id,   j->kind, j->priority, prio,
                            j->request, text,    j->idem_key, j->request_hash};
        nq__queue_small r;
        memset(&r, 0, sizeof r);
        rc = nq__exec1(s, SQL_ENQUEUE, 8, p, nq__queue_take_small, &r, NULL, err);
        if (rc)
            return rc;
        if (r.rows > 0) {
            snprintf(id, 33, "%s", fresh_id);
            return NQ_OK;
        }
        if (!j->idem_key)
            break;
        int found = 0;
        rc = nq__queue_idem(s, j, id, &found, err);
        if (rc || found) {
            *existing = rc == NQ_OK;
            return rc;
        }
    }
    return nq_err_set(err, NQ_EIO, NULL, "the job was not stored (insert returned no row)");
}

/* ---- claim ------------------------------------------------------------------------- */

void nq_queue_claim_free(nq_queue_claimed *c)
{
    if (!c)
        return;
    free(c->request);
    free(c->request_text);
    c->request = c->request_text = NULL;
}

typedef struct nq__queue_taken {
    nq_queue_claimed *out;
    int hit, poison, nomem, ended;
} nq__queue_taken;

/* id, kind, priority, body, request_text, attempts, created_at, reclaimed,
 * ended, poison, (the notification's void). */
static int nq__queue_take_claim(void *user, int n, const char *const *v, const size_t *lens)
{
    nq__queue_taken *r = user;
    if (n < 10 || !v[0] || !v[1] || !v[2])
        return 1;
    r->hit = 1;
    r->ended = nq__queue_bool(v[8]);
    r->poison = nq__queue_bool(v[9]);
    if (r->ended)
        return 1; /* ended in the statement; nothing for the caller */
    nq_queue_claimed *c = r->out;
    snprintf(c->id, sizeof c->id, "%s", v[0]);
    snprintf(c->kind, sizeof c->kind, "%s", v[1]);
    snprintf(c->priority, sizeof c->priority, "%s", v[2]);
    c->request = nq__queue_dup(v[3] ? v[3] : "null", v[3] ? lens[3] : 4);
    c->request_text = nq__queue_dup(v[4] ? v[4] : "null", v[4] ? lens[4] : 4);
    r->nomem = !c->request || !c->request_text;
    c->attempts = v[5] ? atoi(v[5]) : 0;
    c->created_at = v[6] ? strtod(v[6], NULL) : 0;
    c->reclaimed = nq__queue_bool(v[7]);
    return 1;
}

static int nq__queue_claim_args(const char *node, double lease_s, int max_attempts, char *lease,
                                size_t cap, nq_err *err)
{
    int rc = nq__queue_text(node, NQ_QUEUE_NODE_MAX, "node", err);
    if (!rc)
        rc = nq__queue_lease(lease_s, lease, cap, err);
    if (!rc && max_attempts < 1)
        rc = nq_err_set(err, NQ_EINVAL, "max_attempts", "must be at least 1");
    return rc;
}

int nq_queue_claim(nq_store *s, const char *node, double lease_s, int max_attempts,
                   nq_queue_claimed *out, int *got, int *poisoned, nq_err *err)
{
    *got = 0;
    if (poisoned)
        *poisoned = 0;
    memset(out, 0, sizeof *out);
    char lease[40], token[33], maxa[16];
    int rc = nq__queue_check(s, err);
    if (!rc)
        rc = nq__queue_claim_args(node, lease_s, max_attempts, lease, sizeof lease, err);
    if (!rc)
        rc = nq__queue_random_hex(token, 0, err);
    if (rc)
        return rc;
    snprintf(maxa, sizeof maxa, "%d", max_attempts);
    const char *p[4] = {node, token, lease, maxa};
    for (int i = 0; i <= NQ__QUEUE_POISON_MAX; i++) {
        nq__queue_taken r = {out, 0, 0, 0, 0};
        rc = nq__exec1(s, SQL_CLAIM, 4, p, nq__queue_take_claim, &r, NULL, err);
        if (!rc && r.nomem)
            /* The row is claimed all the same; its lease runs out and
             * another claim (or this worker's next) takes it again. */
            rc = nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
        if (rc || !r.hit) {
            nq_queue_claim_free(out);
            return rc;
        }
        if (!r.ended) {
            snprintf(out->token, sizeof out->token, "%s", token);
            *got = 1;
            return NQ_OK;
        }
        if (poisoned && r.poison)
            (*poisoned)++;
    }
    return NQ_OK;
}

/* ---- the holder's writes ----------------------------------------------------------- */

/* A write that only the lease's holder may make: sql with (id, token,
 * value) matches no row once the lease is gone, which is NQ_ENOTFOUND. */
static int nq__queue_held_write(nq_store *s, const char *sql, const char *id, const char *token,
                                const char *value, nq__queue_small *r, nq_err *err)
{
    memset(r, 0, sizeof *r);
    const char *p[3] = {id, token, value};
    int rc = nq__exec1(s, sql, 3, p, nq__queue_take_small, r, NULL, err);
    if (!rc && r->rows == 0)
        rc = nq_err_set(err, NQ_ENOTFOUND, "token", "the lease is no longer held");
    return rc;
}

int nq_queue_heartbeat(nq_store *s, const char *id, const char *token, double lease_s, int *cancel,
                       nq_err *err)
{
    *cancel = 0;
    char lease[40];
    int rc = nq__queue_check(s, err);
    if (!rc)
        rc = nq__queue_lease_args(id, token, err);
    if (!rc)
        rc = nq__queue_lease(lease_s, lease, sizeof lease, err);
    if (rc)
        return rc;
    nq__queue_small r;
    rc = nq__queue_held_write(s, SQL_HEARTBEAT, id, token, lease, &r, err);
    if (!rc)
        *cancel = nq__queue_bool(r.v[0]);
    return rc;
}

int nq_queue_progress(nq_store *s, const char *id, const char *token, const char *progress,
                      nq_err *err)
{
    int rc = nq__queue_check(s, err);
    if (!rc)
        rc = nq__queue_lease_args(id, token, err);
    if (!rc && !progress)
        rc = nq_err_set(err, NQ_EINVAL, "progress", "is required");
    if (rc)
        return rc;
    nq__queue_small r;
    return nq__queue_held_write(s, SQL_PROGRESS, id, token, progress, &r, err);
}

int nq_queue_finish(nq_store *s, const char *id, const char *token, const char *state,
                    const char *result, const char *error, int *applied, nq_err *err)
{
    *applied = 0;
    int rc = nq__queue_check(s, err);
    if (!rc)
        rc = nq__queue_lease_args(id, token, err);
    /* Only the three end states: queued and running are the queue's own. */
    if (!rc && nq__queue_index(state, STATES, 5) < NQ__QS_ENDED)
        rc = nq_err_set(err, NQ_EINVAL, "state", "must be succeeded, failed or cancelled");
    if (rc)
        return rc;
    nq__queue_small r;
    memset(&r, 0, sizeof r);
    const char *p[5] = {id, token, state, result, error};
    rc = nq__exec1(s, SQL_FINISH, 5, p, nq__queue_take_small, &r, NULL, err);
    if (!rc)
        *applied = r.rows;
    return rc;
}

int nq_queue_release(nq_store *s, const char *id, const char *token, nq_err *err)
{
    int rc = nq__queue_check(s, err);
    if (!rc)
        rc = nq__queue_lease_args(id, token, err);
    if (rc)
        return rc;
    const char *p[2] = {id, token};
    return nq__exec1(s, SQL_RELEASE, 2, p, NULL, NULL, NULL, err);
}

/* ---- reading and cancelling -------------------------------------------------------- */

void nq_queue_row_free(nq_queue_row *r)
{
    if (!r)
        return;
    free(r->result);
    free(r->error);
    free(r->progress);
    r->result = r->error = r->progress = NULL;
}

typedef struct nq__queue_got {
    nq_queue_row *out;
    int hit, nomem;
} nq__queue_got;

static double nq__queue_time(const char *v)
{
    return v ? strtod(v, NULL) : 0;
}

static char *nq__queue_dup_or_null(const char *v, size_t len, int *nomem)
{
    if (!v)
        return NULL;
    char *p = nq__queue_dup(v, len);
    if (!p)
        *nomem = 1;
    return p;
}

static int nq__queue_take_row(void *user, int n, const char *const *v, const size_t *lens)
{
    nq__queue_got *g = user;
    if (n != 14 || !v[0])
        return 1;
    nq_queue_row *r = g->out;
    g->hit = 1;
    snprintf(r->id, sizeof r->id, "%s", v[0]);
    snprintf(r->kind, sizeof r->kind, "%s", v[1] ? v[1] : "");
    snprintf(r->state, sizeof r->state, "%s", v[2] ? v[2] : "");
    snprintf(r->priority, sizeof r->priority, "%s", v[3] ? v[3] : "");
    snprintf(r->node, sizeof r->node, "%s", v[4] ? v[4] : "");
    r->attempts = v[5] ? atoi(v[5]) : 0;
    r->cancel_requested = nq__queue_bool(v[6]);
    r->created_at = nq__queue_time(v[7]);
    r->started_at = nq__queue_time(v[8]);
    r->finished_at = nq__queue_time(v[9]);
    r->lease_until = nq__queue_time(v[10]);
    r->result = nq__queue_dup_or_null(v[11], lens[11], &g->nomem);
    r->error = nq__queue_dup_or_null(v[12], lens[12], &g->nomem);
    r->progress = nq__queue_dup_or_null(v[13], lens[13], &g->nomem);
    return 1;
}

int nq_queue_get(nq_store *s, const char *id, nq_queue_row *out, nq_err *err)
{
    memset(out, 0, sizeof *out);
    int rc = nq__queue_check(s, err);
    if (!rc)
        rc = nq__queue_text(id, 33, "id", err);
    if (rc)
        return rc;
    nq__queue_got g = {out, 0, 0};
    const char *p[1] = {id};
    rc = nq__exec1(s, SQL_GET, 1, p, nq__queue_take_row, &g, NULL, err);
    if (!rc && g.nomem)
        rc = nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    if (!rc && !g.hit)
        rc = nq_err_set(err, NQ_ENOTFOUND, "id", "no such job");
    if (rc)
        nq_queue_row_free(out);
    return rc;
}

int nq_queue_cancel(nq_store *s, const char *id, int *now, nq_err *err)
{
    *now = 0;
    int rc = nq__queue_check(s, err);
    if (!rc)
        rc = nq__queue_text(id, 33, "id", err);
    if (rc)
        return rc;
    nq__queue_small r;
    memset(&r, 0, sizeof r);
    const char *p[1] = {id};
    rc = nq__exec1(s, SQL_CANCEL, 1, p, nq__queue_take_small, &r, NULL, err);
    if (rc)
        return rc;
    if (r.rows == 0)
        return nq_err_set(err, NQ_ENOTFOUND, "id", "no such job");
    int st = nq__queue_index(r.v[0], STATES, 5);
    if (st != NQ__QS_QUEUED && st != NQ__QS_RUNNING)
        return nq_err_set(err, NQ_EINVAL, "id", "the job already ended (%s)", r.v[0]);
    *now = st == NQ__QS_QUEUED;
    return NQ_OK;
}

static int nq__queue_take_count(void *user, int n, const char *const *v, const size_t *lens)
{
    (void)lens;
    int64_t *counts = user;
    int st = n == 2 ? nq__queue_index(v[0], STATES, 5) : -1;
    if (st >= 0 && v[1])
        counts[st] = strtoll(v[1], NULL, 10);
    return 0;
}

int nq_queue_counts(nq_store *s, int64_t counts[5], nq_err *err)
{
    memset(counts, 0, 5 * sizeof counts[0]);
    int rc = nq__queue_check(s, err);
    if (rc)
        return rc;
    return nq__exec1(s, SQL_COUNTS, 0, NULL, nq__queue_take_count, counts, NULL, err);
}

int nq_queue_pending(nq_store *s, int64_t *queued, int64_t *running, nq_err *err)
{
    int64_t counts[5] = {0};
    *queued = *running = 0;
    int rc = nq__queue_check(s, err);
    if (!rc)
        rc = nq__exec1(s, SQL_PENDING, 0, NULL, nq__queue_take_count, counts, NULL, err);
    if (!rc) {
        *queued = counts[NQ__QS_QUEUED];
        *running = counts[NQ__QS_RUNNING];
    }
    return rc;
}

int nq_queue_prune(nq_store *s, double before, int64_t *removed, nq_err *err)
{
    *removed = 0;
    int rc = nq__queue_check(s, err);
    if (rc)
        return rc;
    char t[32];
    snprintf(t, sizeof t, "%.6f", before);
    const char *p[1] = {t};
    return nq__exec1(s, SQL_PRUNE, 1, p, NULL, NULL, removed, err);
}
