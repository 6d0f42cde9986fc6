/* service.h - the service layer between the HTTP server and the units:
 * a job queue with priorities and a worker pool, progress events for
 * Server-Sent Events, idempotency keys, a result cache keyed by a canonical
 * hash of the request, and a metrics registry rendered in the Prometheus
 * text format. No sockets here: the server (src/server) is a thin client. */
#ifndef NQBA_SERVICE_H
#define NQBA_SERVICE_H

#include <jansson.h>
#include <stdatomic.h>
#include <stdint.h>

#include "nqba/err.h"
#include "nqba/solve.h"

/* ---- metrics ------------------------------------------------------------ */

typedef struct nq_metrics nq_metrics; /* thread-safe */

int nq_metrics_new(nq_metrics **out);
void nq_metrics_free(nq_metrics *m);
/* Counter with labels given as "k1=v1,k2=v2" (may be NULL or ""). Created
 * on first use; at most 4096 series per registry (then ignored). */
void nq_metrics_inc(nq_metrics *m, const char *name, const char *labels, double by);
/* Gauge: set to a value. */
void nq_metrics_set(nq_metrics *m, const char *name, const char *labels, double value);
/* Histogram observation (seconds); fixed buckets 1ms .. 60s. */
void nq_metrics_observe(nq_metrics *m, const char *name, const char *labels, double value);
/* Help text shown in the exposition (# HELP name text; # TYPE set on first use). */
void nq_metrics_help(nq_metrics *m, const char *name, const char *help);
/* Render everything (plus process metrics: cpu seconds, resident memory,
 * open fds, start time) in the Prometheus text format 0.0.4. Caller frees. */
char *nq_metrics_render(nq_metrics *m);

/* ---- jobs --------------------------------------------------------------- */

typedef enum nq_job_state {
    NQ_JOB_QUEUED = 0,
    NQ_JOB_RUNNING = 1,
    NQ_JOB_SUCCEEDED = 2,
    NQ_JOB_FAILED = 3,
    NQ_JOB_CANCELLED = 4
} nq_job_state;

typedef enum nq_job_priority { NQ_PRIO_HIGH = 0, NQ_PRIO_NORMAL = 1, NQ_PRIO_LOW = 2 } nq_job_priority;

/* Names as the API, the metrics and the shared queue spell them ("queued",
 * ..., "cancelled"; "high", "normal", "low") and back: 0, or -1 for a name
 * that is none of them (exact, lower case). */
const char *nq_job_state_name(nq_job_state s);
int nq_job_state_parse(const char *name, nq_job_state *out);
const char *nq_job_priority_name(nq_job_priority p);
int nq_job_priority_parse(const char *name, nq_job_priority *out);

/* What a worker runs: computes *result (a new JSON value) from the request,
 * or fails with err (err->where a JSON pointer into the request). It must
 * poll cancel (or pass it to the solver as cancel_flag) and may call
 * progress(ctx, &p) from its thread. Runs on a worker thread, never on an
 * HTTP thread. prepared is what the route's prepare function built from
 * the request (borrowed), and request is then NULL; or prepared is NULL
 * and the function builds it from request. */
typedef struct nq_job_ctx nq_job_ctx;
typedef int (*nq_job_fn)(const json_t *request, void *prepared, const atomic_int *cancel,
                         nq_job_ctx *ctx, json_t **result, nq_err *err);
/* Report progress (thread-safe; rate-limited internally to ~20 events/s).
 * A NULL ctx is ignored, so a job function can also run outside the
 * service (tests, the CLI). */
void nq_job_progress(nq_job_ctx *ctx, const nq_progress *p);
/* Name the solver the job used, for nqba_solver_runs_total{solver}
 * (counted when the job finishes). NULL ctx ignored. */
void nq_job_report_solver(nq_job_ctx *ctx, const char *solver);
/* Name the solver that found the answer (differs from the one asked for
 * when "auto" chose), for the stored decision. NULL ctx ignored. */
void nq_job_report_found_by(nq_job_ctx *ctx, const char *found_by);
/* Raise the job's cancel flag once it has run `seconds`: a soft deadline.
 * Unlike job_timeout the job then ends with whatever its function returns
 * (a solver returns its best so far). NULL ctx ignored. */
void nq_job_soft_deadline(nq_job_ctx *ctx, double seconds);

/* What persist receives (valid during the call). */
typedef struct nq_job_record {
    const char *id, *kind;
    const char *request; /* the body as received (JSON text) */
    const char *result;  /* JSON text, or NULL when the job did not succeed */
    const char *solver;  /* "" when none was reported */
    const char *found_by; /* "" when none was reported */
    const char *status;  /* "succeeded", "failed" or "cancelled" */
    double latency_s, created_at;
} nq_job_record;

typedef struct nq_jobs_config {
    int workers;              /* 0 = number of online cores */
    int max_queued;           /* queue capacity; beyond it submit returns NQ_ELIMIT (HTTP 429) */
    int max_jobs_kept;        /* finished jobs kept for GET (oldest dropped first) */
    int cache_entries;        /* result cache capacity (0 = no cache) */
    double job_timeout;       /* seconds; a running job is cancelled after it (0 = none) */
    /* Called on the worker, without the lock, when a job has run and before
     * anyone can see it finished: the store writes the decision here, so
     * nothing is acknowledged that is not stored. A nonzero return fails
     * the job with that code (NQ_EUNAVAIL: HTTP 503) and its result is
     * not given out. NULL = keep nothing. */
    int (*persist)(void *user, const nq_job_record *rec, nq_err *err);
    void *persist_user;
    /* Optional, instead of persist: n records in one durable write, each
     * one's outcome in rc[i] and err[i] (same meaning as persist's). It is
     * called from the service's store thread, not the worker: a worker goes
     * on to its next job while the store commits, and the jobs that finish
     * meanwhile share the next commit. A job still becomes visible as
     * finished only after its record is stored. */
    void (*persist_batch)(void *user, const nq_job_record *recs, int n, int *rc, nq_err *err);
    /* A result cache shared with other nodes (Redis), behind the local one,
     * keyed by the canonical request hash. get: 0 with a malloc'd text on a
     * hit, nonzero on a miss or when the shared cache is unreachable (then
     * the job simply runs); called on the submitting thread, without the
     * lock. put: after a job succeeded and was persisted, on its worker.
     * NULL = no shared cache. */
    int (*shared_get)(void *user, const char *hash, char **text, size_t *len);
    void (*shared_put)(void *user, const char *hash, const char *text, size_t len);
    void *shared_user;
    /* Jobs have just ended (called once per store batch, job run, cancel
     * of a queued job or mirrored end, on the thread that ended them,
     * without the lock), ids[0..n-1] being theirs: waiters that poll can
     * look now, and only those waiting on these jobs need to. Must be
     * quick; it may look at jobs (nq_jobs_wait with no timeout, the
     * getters) but not submit, cancel or wait. NULL = none. */
    void (*on_finished)(void *user, const char *const *ids, int n);
    void *finished_user;
} nq_jobs_config;


void nq_jobs_config_default(nq_jobs_config *c); /* 0, 1024, 10000, 1000, 300 */

typedef struct nq_jobs nq_jobs; /* the queue, its workers, the cache and idempotency keys */

int nq_jobs_new(const nq_jobs_config *c, nq_metrics *metrics, nq_jobs **out, nq_err *err);
/* Stop taking jobs, let running jobs finish for up to drain seconds, cancel
 * the rest (queued ones become cancelled), join the workers, free. Open
 * subscriptions stay valid (they get "cancelled", then -1) until
 * unsubscribed; no other nq_jobs_* call may run during or after it. The
 * metrics registry must outlive it. */
void nq_jobs_free(nq_jobs *j, double drain);
/* Stop accepting new jobs (submit returns NQ_ECANCEL -> HTTP 503). */
void nq_jobs_stop_accepting(nq_jobs *j);
int nq_jobs_accepting(const nq_jobs *j);

typedef struct nq_job_submit {
    const char *kind;         /* route-like name: "solve", "decision-engine"; also the solver
                               * metrics label source */
    json_t *request;          /* the parsed body: the job takes this reference over,
                               * whatever nq_jobs_submit returns (with prepared input,
                               * it is hashed and released at once) */
    void *prepared;           /* NULL, or fn's input built from request: taken over too, */
    void (*prepared_free)(void *); /* and released with this once fn has run */
    nq_job_fn fn;
    nq_job_priority priority;
    const char *idempotency_key; /* NULL or the header value (<= 256 bytes) */
    const char *request_text;    /* the body as received, for persist (copied); NULL = */
    size_t request_len;          /* the request document, compact */
    const char *id; /* NULL: a new random id; else this one (32 hex digits, not yet known
                     * here: a job claimed from the shared queue keeps its id) */
} nq_job_submit;

/* Submit. *job_id receives the id (a 32-hex-char string, NUL-terminated).
 * *cached is set when the result came from the cache (the job is then
 * already succeeded). Idempotency: the same key with the same canonical
 * request returns the existing job id; the same key with a different
 * request is NQ_EINVAL with err->msg explaining (HTTP 409). */
int nq_jobs_submit(nq_jobs *j, const nq_job_submit *s, char job_id[33], int *cached,
                   nq_err *err);

/* Wait until the job is finished or timeout seconds pass; returns its state
 * (NQ_JOB_FAILED for an unknown id, for which nq_jobs_get returns NULL). */
nq_job_state nq_jobs_wait(nq_jobs *j, const char *job_id, double timeout);

/* Snapshot of a job as JSON: {"id","kind","state","priority","created_at","started_at",
 * "finished_at" (RFC 3339 UTC or null),"elapsed_s","progress":{...}|null,"cached":bool,
 * "result": {...} (succeeded), "error": {"code","pointer","detail"} (failed)}.
 * NULL when unknown (HTTP 404). with_result = 0 leaves "result" out. */
json_t *nq_jobs_get(nq_jobs *j, const char *job_id, int with_result);

/* The result of a succeeded job (a new value the caller owns) or NULL. */
json_t *nq_jobs_result(nq_jobs *j, const char *job_id);
/* The same result as compact JSON text (malloc'd, caller frees; *len its
 * length), written once when the job finished; NULL when not succeeded. */
char *nq_jobs_result_text(nq_jobs *j, const char *job_id, size_t *len);

/* Cancel: queued -> cancelled at once; running -> its cancel flag is set
 * and the worker stops within ~50 ms (the job then ends "cancelled"; a job
 * stopped by job_timeout ends "failed" with error code "timeout").
 * Returns 0, NQ_ENOTFOUND (404), or NQ_EINVAL when already finished (409). */
int nq_jobs_cancel(nq_jobs *j, const char *job_id);

/* Events for SSE. A subscription receives every event after it starts,
 * and at least the current state first: "progress" events (data: {"best_energy",
 * "elapsed_s","fraction"}), then exactly one final event "result" (data: the
 * result), "error" (data: the error object) or "cancelled". */
typedef struct nq_job_sub nq_job_sub;
int nq_jobs_subscribe(nq_jobs *j, const char *job_id, nq_job_sub **out); /* NQ_ENOTFOUND */
/* Next event: waits up to timeout seconds. Returns 1 with *event ("progress" |
 * "result" | "error" | "cancelled") and *data (a malloc'd JSON text, caller
 * frees), 0 on timeout, -1 after the final event was delivered. */
int nq_jobs_next_event(nq_job_sub *s, double timeout, const char **event, char **data);
void nq_jobs_unsubscribe(nq_job_sub *s);

/* Repeats of a byte-identical body. nq_jobs_body_key hashes (kind, body)
 * once per request; after a job answered that body, nq_jobs_remember_body
 * records key -> that job and its result text; nq_jobs_lookup_body answers
 * a later identical body with a malloc'd copy of the result text (caller
 * frees; *len its length) and the job's id, counting a cache hit, or
 * returns NULL. No parsing, validation or new job on a hit. Lookup and
 * remember do nothing when the cache is disabled. */
void nq_jobs_body_key(const char *kind, const char *body, size_t len, char key[65]);
void nq_jobs_remember_body(nq_jobs *j, const char key[65], const char *job_id);
char *nq_jobs_lookup_body(nq_jobs *j, const char key[65], char job_id[33], size_t *len);

/* Whether a job of that id is known here (local or mirrored, kept). */
int nq_jobs_known(nq_jobs *j, const char *job_id);

/* Counts per state (for /readyz and the nqba_jobs gauge). */
void nq_jobs_counts(nq_jobs *j, int64_t counts[5]);

/* ---- jobs run by other processes (lib/service/job_mirror.c) -------------- */
/* An API node of a cluster runs no jobs itself: workers do, and the shared
 * queue (queue.h) tells what happened. A mirrored job is a record here fed
 * from the queue, so that waiting, GET, events and the synchronous answer
 * work for it exactly as for a local job. It never runs and never times
 * out here; cancelling it is the queue's business (nq_jobs_cancel refuses
 * it with NQ_EINVAL). */
typedef struct nq_job_mirror {
    nq_job_state state;
    double started_at, finished_at; /* Unix seconds, 0 = unknown */
    const char *progress;           /* {"best_energy","elapsed_s","fraction"} text, or NULL */
    const char *result;             /* succeeded: the result text */
    const char *error;              /* failed: {"code","pointer","detail"} text */
} nq_job_mirror;

/* Track job id (queued, created at created_at). NQ_EINVAL when the id is
 * already known (then nothing changes). */
int nq_jobs_mirror_add(nq_jobs *j, const char *id, const char *kind, nq_job_priority prio,
                       double created_at);
/* Feed what the queue says. A state never moves backwards and a final
 * state is final: later updates are ignored. NQ_ENOTFOUND for an id not
 * mirrored here. */
int nq_jobs_mirror_update(nq_jobs *j, const char *id, const nq_job_mirror *m);
/* Whether id is a mirrored job. */
int nq_jobs_is_mirror(nq_jobs *j, const char *id);
/* Up to cap ids of mirrored jobs not yet final (to re-read from the queue
 * when notifications may have been missed); returns how many. */
int nq_jobs_mirror_pending(nq_jobs *j, char (*ids)[33], int cap);

/* ---- built-in job kinds (lib/service/unit_jobs.c) ------------------------ */
/* Each route has a prepare function, run on the HTTP thread before
 * queueing so bad input is answered at once (parsing only, no solving),
 * and a job function. What prepare builds (*prepared, released with
 * nq_service_prepared_free) goes to the job as its prepared argument, so
 * the request is parsed once.
 * Validation errors carry the JSON pointer of the bad member in err->where;
 * NQ_EPARSE/NQ_EINVAL/NQ_ERANGE/NQ_ENOTFOUND map to 422, NQ_ELIMIT to 413. */

/* POST /api/v1/solve: {"model": {JSON model, as nq_read_json}} or
 * {"format": "gset"|"qubo", "text": "..."}, plus optional "options":
 * {"solver","seed","time_limit","reads","sweeps","threads","target","replicas","variant"}.
 * Result: {"solver","found_by","energy","state":[...],"n","elapsed_s",
 * "time_to_best_s","reads","attempts","timed_out","cancelled","target_reached"}
 * (+ "cut" for Max-Cut models). */
#define NQ_SERVICE_MAX_VARS 1000000     /* variables in a solve model (more: NQ_ELIMIT) */
#define NQ_SERVICE_MAX_PAIRS 20000000LL /* coupled pairs in a solve model */
/* Without options.time_limit a solve stops after this many seconds (its
 * best so far, "timed_out": true), so no request runs unbounded. */
#define NQ_SERVICE_SOLVE_DEFAULT_TIME 10.0
int nq_service_solve_prepare(const json_t *request, void **prepared, nq_err *err);
int nq_service_solve_job(const json_t *request, void *prepared, const atomic_int *cancel,
                         nq_job_ctx *ctx, json_t **result, nq_err *err);

/* POST /api/v1/nqba/decision-engine: the decision request of
 * docs/api/decision-model.md; result: nq_decision_to_json. */
int nq_service_decision_prepare(const json_t *request, void **prepared, nq_err *err);
int nq_service_decision_job(const json_t *request, void *prepared, const atomic_int *cancel,
                            nq_job_ctx *ctx, json_t **result, nq_err *err);
/* Release what a prepare function built (NULL ok). One function for every
 * kind: the prepared value records its own kind. */
void nq_service_prepared_free(void *prepared);

/* POST /api/v1/goliath/portfolio-optimization and /risk-assessment
 * (lib/service/goliath_jobs.c, docs/api/portfolio.md). Their prepared
 * values are released with their own free functions. */
int nq_service_portfolio_prepare(const json_t *request, void **prepared, nq_err *err);
int nq_service_portfolio_job(const json_t *request, void *prepared, const atomic_int *cancel,
                             nq_job_ctx *ctx, json_t **result, nq_err *err);
void nq_service_portfolio_free(void *prepared);
int nq_service_risk_prepare(const json_t *request, void **prepared, nq_err *err);
int nq_service_risk_job(const json_t *request, void *prepared, const atomic_int *cancel,
                        nq_job_ctx *ctx, json_t **result, nq_err *err);
void nq_service_risk_free(void *prepared);

/* POST /api/v1/flyfox/energy-optimization and /unit-commitment
 * (lib/service/flyfox_jobs.c, docs/api/energy.md). */
int nq_service_energy_prepare(const json_t *request, void **prepared, nq_err *err);
int nq_service_energy_job(const json_t *request, void *prepared, const atomic_int *cancel,
                          nq_job_ctx *ctx, json_t **result, nq_err *err);
void nq_service_energy_free(void *prepared);
int nq_service_uc_prepare(const json_t *request, void **prepared, nq_err *err);
int nq_service_uc_job(const json_t *request, void *prepared, const atomic_int *cancel,
                      nq_job_ctx *ctx, json_t **result, nq_err *err);
void nq_service_uc_free(void *prepared);

/* POST /api/v1/nqba/business-assessment (lib/service/assess_jobs.c,
 * docs/api/assessment.md). */
int nq_service_assess_prepare(const json_t *request, void **prepared, nq_err *err);
int nq_service_assess_job(const json_t *request, void *prepared, const atomic_int *cancel,
                          nq_job_ctx *ctx, json_t **result, nq_err *err);
void nq_service_assess_free(void *prepared);

/* POST /api/v1/sigma/models (training: kind "lead-model"),
 * /api/v1/sigma/lead-assignment and /api/v1/sigma/lead-scoring (lib/service/sigma_jobs.c, docs/api/leads.md). */
int nq_service_train_prepare(const json_t *request, void **prepared, nq_err *err);
int nq_service_train_job(const json_t *request, void *prepared, const atomic_int *cancel,
                         nq_job_ctx *ctx, json_t **result, nq_err *err);
void nq_service_train_free(void *prepared);
int nq_service_score_prepare(const json_t *request, void **prepared, nq_err *err);
int nq_service_score_job(const json_t *request, void *prepared, const atomic_int *cancel,
                         nq_job_ctx *ctx, json_t **result, nq_err *err);
void nq_service_score_free(void *prepared);
int nq_service_assign_prepare(const json_t *request, void **prepared, nq_err *err);
int nq_service_assign_job(const json_t *request, void *prepared, const atomic_int *cancel,
                          nq_job_ctx *ctx, json_t **result, nq_err *err);
void nq_service_assign_free(void *prepared);

/* Canonical hash of a request for the cache and idempotency: SHA-256 hex
 * of kind + "\n" + the JSON dumped with sorted keys, compact, exact reals. */
void nq_request_hash(const char *kind, const json_t *request, char out[65]);

#endif
