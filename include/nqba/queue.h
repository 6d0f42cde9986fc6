/* queue.h - the job queue several nodes share, in PostgreSQL's jobs table.
 *
 * API nodes (`nqba serve --queue shared`) enqueue validated requests;
 * workers (`nqba worker`) claim them with SELECT ... FOR UPDATE SKIP LOCKED
 * so two workers never take the same row, and hold a lease they renew
 * with heartbeats. A worker that dies stops renewing: once its lease
 * expires another worker claims the job again (at-least-once). Each claim
 * gets a fresh lease token and every later write names it, so a worker
 * that lost its lease can no longer change the row: the job ends exactly
 * once. A job claimed more than max_attempts times is "poison": it is
 * failed with the reason instead of being run again.
 *
 * Events go out with NOTIFY on channel NQ_QUEUE_EVENTS, payload
 * "<id> <event>" (event: queued, running, progress, final, cancel), so API
 * nodes can follow a job whichever node it was submitted to; channel
 * NQ_QUEUE_WORK wakes idle workers when a job is queued. Notifications
 * are hints: a listener that missed some re-reads the rows.
 *
 * Everything here needs the PostgreSQL backend; on SQLite each call is
 * NQ_EINVAL ("the shared job queue needs PostgreSQL"). */
#ifndef NQBA_QUEUE_H
#define NQBA_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "nqba/err.h"
#include "nqba/store.h"

#define NQ_QUEUE_EVENTS "nqba_jobs"
#define NQ_QUEUE_WORK "nqba_work"
#define NQ_QUEUE_KIND_MAX 48
#define NQ_QUEUE_NODE_MAX 64
#define NQ_QUEUE_IDEM_MAX 256

/* What an API node enqueues (every string copied). */
typedef struct nq_queue_job {
    const char *kind;         /* "solve", "decision-engine", ... (<= 47 bytes) */
    const char *priority;     /* "high", "normal" or "low" */
    const char *request;      /* JSON text the worker runs */
    const char *request_text; /* JSON text stored with the decision; NULL = request */
    const char *idem_key;     /* Idempotency-Key header, or NULL */
    const char *request_hash; /* 64 hex: the canonical request hash (idempotency check) */
} nq_queue_job;

/* Insert a queued job with a new random id (32 hex) and wake the workers.
 * With idem_key: a key seen before with the same request_hash returns that
 * job's id and *existing = 1; with another hash it is NQ_EINVAL ("reused
 * with a different request"). */
int nq_queue_enqueue(nq_store *s, const nq_queue_job *j, char id[33], int *existing, nq_err *err);

/* A claimed job (strings malloc'd; free with nq_queue_claim_free). */
typedef struct nq_queue_claimed {
    char id[33];
    char kind[NQ_QUEUE_KIND_MAX];
    char priority[8];
    char token[33];     /* this claim's lease token */
    char *request;      /* JSON text to run */
    char *request_text; /* JSON text to store with the decision (never NULL) */
    int attempts;       /* claims so far, this one included */
    int reclaimed;      /* 1 when a previous holder's lease had expired */
    double created_at;  /* Unix seconds */
} nq_queue_claimed;
void nq_queue_claim_free(nq_queue_claimed *c);

/* Claim the next job: queued ones, and running ones whose lease expired,
 * high before normal before low, oldest first; the row becomes running
 * under node with lease_until = now + lease_s and attempts + 1. *got = 0
 * when there is none. A candidate that already had max_attempts claims is
 * failed instead (error code "internal", the detail saying it stopped its
 * workers max_attempts times) and counted in *poisoned (may be NULL); one
 * whose worker died after a cancel was asked ends cancelled. Either way
 * the claim goes on to the next candidate. */
int nq_queue_claim(nq_store *s, const char *node, double lease_s, int max_attempts,
                   nq_queue_claimed *out, int *got, int *poisoned, nq_err *err);

/* Renew the lease by lease_s. *cancel = 1 when a cancel was asked.
 * NQ_ENOTFOUND when the lease is no longer this token's (it expired and
 * another worker claimed the job, or the job ended). */
int nq_queue_heartbeat(nq_store *s, const char *id, const char *token, double lease_s,
                       int *cancel, nq_err *err);

/* Store the latest progress (a JSON object's text) and notify "<id> progress".
 * NQ_ENOTFOUND when the lease is no longer this token's. */
int nq_queue_progress(nq_store *s, const char *id, const char *token, const char *progress,
                      nq_err *err);

/* End the job: state "succeeded" (result: JSON text), "failed" (error: JSON
 * text {"code","pointer","detail"}) or "cancelled"; notify "<id> final".
 * Only the holder of token can: *applied = 0 (and NQ_OK) when the lease
 * was lost, and the row is left as it is. */
int nq_queue_finish(nq_store *s, const char *id, const char *token, const char *state,
                    const char *result, const char *error, int *applied, nq_err *err);

/* Give a running job back: queued again, its lease and token cleared, so
 * another worker claims it at once (a worker shutting down). The attempt
 * is not counted against max_attempts. Only the holder of token can; NQ_OK either way. */
int nq_queue_release(nq_store *s, const char *id, const char *token, nq_err *err);

/* A job's row (strings malloc'd; free with nq_queue_row_free). */
typedef struct nq_queue_row {
    char id[33];
    char kind[NQ_QUEUE_KIND_MAX];
    char state[12];  /* queued, running, succeeded, failed, cancelled */
    char priority[8];
    char node[NQ_QUEUE_NODE_MAX]; /* the worker of the last claim, "" when none */
    int attempts;
    int cancel_requested;
    double created_at, started_at, finished_at, lease_until; /* 0 = NULL */
    char *result;   /* JSON text or NULL */
    char *error;    /* JSON text or NULL */
    char *progress; /* JSON text or NULL */
} nq_queue_row;
void nq_queue_row_free(nq_queue_row *r);

/* NQ_ENOTFOUND for an unknown id. */
int nq_queue_get(nq_store *s, const char *id, nq_queue_row *out, nq_err *err);

/* Cancel: a queued job becomes cancelled at once (*now = 1); a running one
 * gets cancel_requested, which its worker sees at its next heartbeat
 * (*now = 0); both notify "<id> cancel". NQ_ENOTFOUND for an unknown id,
 * NQ_EINVAL when the job already ended. */
int nq_queue_cancel(nq_store *s, const char *id, int *now, nq_err *err);

/* Jobs per state in the table: queued, running, succeeded, failed,
 * cancelled (the order of nq_job_state). */
int nq_queue_counts(nq_store *s, int64_t counts[5], nq_err *err);

/* Jobs queued and running only: cheap however many ended jobs the table
 * keeps (for gauges and polling). */
int nq_queue_pending(nq_store *s, int64_t *queued, int64_t *running, nq_err *err);

/* Delete up to 1,000 ended jobs that finished before `before` (Unix
 * seconds); *removed gets how many. Their decisions stay: the jobs table
 * is the queue, the decisions are the record. An Idempotency-Key is
 * remembered as long as its job's row. */
int nq_queue_prune(nq_store *s, double before, int64_t *removed, nq_err *err);

/* A dedicated connection that LISTENs on one channel. */
typedef struct nq_queue_listener nq_queue_listener;
int nq_queue_listen(nq_store *s, const char *channel, nq_queue_listener **out, nq_err *err);
/* Wait up to timeout seconds for a notification: 1 with its payload in
 * buf (NUL-terminated, cut to cap - 1), 0 on timeout. When the connection
 * is lost: NQ_EUNAVAIL, and the next call reconnects and listens again
 * (notifications in between are lost: re-read what matters). */
int nq_queue_next(nq_queue_listener *l, double timeout, char *buf, size_t cap, nq_err *err);
void nq_queue_listener_free(nq_queue_listener *l);

#endif
