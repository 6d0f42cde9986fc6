/* service_internal.h - what the files of lib/service share (private).
 *
 * Locking: one mutex, the hub's, guards every job, the queue, the id and
 * idempotency maps, the cache and every subscription. Work under it is
 * short (pointer moves, a few small strings); solving happens outside it.
 * The metrics registry has its own mutex and never calls back, so the
 * order is always hub, then metrics.
 *
 * The hub is reference counted: the job service holds one reference and
 * every subscription another, so a subscriber may still read its final
 * event and unsubscribe after nq_jobs_free. Jobs are reference counted too
 * (the id map, a running worker, a waiter and each subscription hold one),
 * which lets a finished job leave the map while someone still looks at it. */
#ifndef NQBA_SERVICE_INTERNAL_H
#define NQBA_SERVICE_INTERNAL_H

#include <pthread.h>
#include <stddef.h>

#include "nqba/buf.h"
#include "nqba/service.h"

/* ---- string-keyed chained hash map (svc_map.c) ---------------------------- */

typedef struct nq__map_node {
    char *key;
    void *val;
    struct nq__map_node *next;
} nq__map_node;

typedef struct nq__map {
    nq__map_node **slots;
    size_t n_slots, n;
} nq__map;

void nq__map_init(nq__map *m);
/* Insert or replace; NQ_ENOMEM leaves the map unchanged. */
int nq__map_put(nq__map *m, const char *key, void *val);
void *nq__map_get(const nq__map *m, const char *key);
/* Remove and return the value (NULL when absent). */
void *nq__map_del(nq__map *m, const char *key);
/* Free the nodes (not the values). */
void nq__map_free(nq__map *m);

/* ---- process metrics (metrics_process.c) ------------------------------------ */

/* Append process_* metrics to a rendering; skips what /proc does not tell. */
void nq__metrics_process(nq_buf *b);

/* ---- the lock everything shares (job_hub.c) ------------------------------- */

typedef struct nq__hub {
    pthread_mutex_t mu;
    int refs; /* under mu */
} nq__hub;

int nq__hub_new(nq__hub **out);
void nq__hub_ref(nq__hub *h); /* with mu held */
/* Drop a reference with mu held; mu is unlocked on return either way. */
void nq__hub_unref_unlock(nq__hub *h);

/* ---- jobs (jobs.c, job_store.c) --------------------------------------------- */

/* Why a cancel flag was raised: that decides the final state. */
enum {
    NQ__WHY_NONE = 0,
    NQ__WHY_USER = 1,     /* nq_jobs_cancel: ends cancelled */
    NQ__WHY_TIMEOUT = 2,  /* job_timeout: ends failed "timeout" */
    NQ__WHY_SHUTDOWN = 3, /* nq_jobs_free past the drain: ends cancelled */
    NQ__WHY_SOFT = 4      /* nq_job_soft_deadline: ends as the function says */
};

#define NQ__SOLVER_LABEL_MAX 40

typedef struct nq__sub nq__sub;

typedef struct nq__job {
    char id[33];
    char hash[65];
    char *kind;
    char *idem_key; /* NULL or owned copy */
    json_t *request;
    char *request_text; /* the body as received, until persisted (NULL: none given) */
    void *prepared; /* taken from the submit; released once fn has run */
    void (*prepared_free)(void *);
    nq_job_fn fn;
    nq_job_priority prio;
    nq_job_state state;
    int cached;
    int mirror; /* run by another process, fed from the shared queue (job_mirror.c) */
    int refs;
    double created_wall, started_wall, finished_wall;
    double started_mono, finished_mono;
    double deadline_mono, soft_mono; /* job_timeout and soft deadlines; 0 = none */
    atomic_int cancel;               /* read by the solver without the lock */
    int why;                         /* NQ__WHY_* */
    int has_progress;
    double best_energy, prog_elapsed, prog_fraction;
    double last_event_mono;
    char solver[NQ__SOLVER_LABEL_MAX]; /* reported by the job fn, "" if none */
    char found_by[NQ__SOLVER_LABEL_MAX]; /* likewise */
    char *result_text; /* succeeded: the result as compact JSON, immutable once set */
    size_t result_len;
    char err_code[24];                 /* failed: "invalid", "timeout", ... */
    nq_err err;
    pthread_cond_t done;           /* broadcast when the job finishes */
    nq__sub *subs;                 /* live subscriptions */
    struct nq__job *qprev, *qnext; /* queue links while queued */
    struct nq__job *fnext;         /* finished-order list while kept */
    /* Between its run and its durable write (persist_batch): the outcome
     * of the run, and the link in the store queue. */
    struct nq__job *snext;
    char *s_text;
    int s_rc, s_has_result;
} nq__job;

struct nq_job_ctx {
    nq_jobs *jobs;
    nq__job *job;
};

/* The LRU result cache (cache.c); every call with the hub lock held. */
typedef struct nq__cache nq__cache;
int nq__cache_new(int capacity, nq__cache **out);
void nq__cache_free(nq__cache *c);
/* Insert (takes a new reference on result); drops the least recently used. */
void nq__cache_put(nq__cache *c, const char *hash, json_t *result);
/* The cached value itself (borrowed, valid while the lock is held), or NULL. */
const json_t *nq__cache_peek(nq__cache *c, const char *hash);
void nq__cache_remove(nq__cache *c, const char *hash);
/* A result's text: stored as a JSON string; the lookup's text is borrowed
 * (valid while the lock is held), NULL when absent. */
void nq__cache_put_text(nq__cache *c, const char *hash, const char *text, size_t len);
const char *nq__cache_get_text(nq__cache *c, const char *hash, size_t *len);

typedef struct nq__worker {
    nq_jobs *jobs;
    int index; /* its slot */
    pthread_t thread;
} nq__worker;

struct nq_jobs {
    nq__hub *hub;
    nq_jobs_config cfg;
    nq_metrics *metrics; /* not owned; may be NULL */
    nq__cache *cache;    /* NULL when disabled */
    nq__cache *body_cache; /* raw body hash -> {"job","text"} (body_cache.c); NULL when disabled */
    nq__map ids;         /* id -> nq__job (one reference) */
    nq__map idem;        /* idempotency key -> nq__job (borrowed from ids) */
    nq__job *qhead[3], *qtail[3];
    int64_t counts[5]; /* jobs per state, kept ones only */
    int queued, running;
    nq__job *fhead, *ftail; /* finished jobs, oldest first */
    int n_finished;
    atomic_int accepting; /* read without the lock by nq_jobs_accepting */
    int draining, stopping;
    pthread_cond_t work;  /* a job was queued, or stopping */
    pthread_cond_t idle;  /* a running job finished */
    pthread_cond_t watch; /* the watchdog's wake-up */
    /* When the sleeping watchdog wakes by itself (HUGE_VAL: never): a new
     * deadline wakes it only when earlier, not on every job start. */
    double watch_at;
    int n_workers;
    nq__worker *workers;
    nq__job **slots; /* the job each worker runs, or NULL */
    int has_watchdog;
    pthread_t watchdog;
    /* The store stage (job_persist.c), with persist_batch only: jobs that
     * ran, oldest first, waiting for their write. */
    nq__job *shead, *stail;
    struct nq__store_batch *store_batch; /* the store thread's working space */
    int store_stopping, has_storer;
    pthread_cond_t store_work;
    pthread_t storer;
};

/* job_store.c: ids, the finished-job list, idempotency keys, states. */
/* Takes s->request and s->prepared over, also on failure. */
int nq__job_new(const nq_job_submit *s, const char *hash, nq__job **out);
/* Release a job's prepared input (without the lock: it may be a big model). */
void nq__job_drop_prepared(nq__job *job);
void nq__job_unref(nq__job *job); /* hub lock held */
int nq__store_add(nq_jobs *j, nq__job *job);
nq__job *nq__store_find(nq_jobs *j, const char *id);
/* Move job to state, keeping counts and the nqba_jobs gauge right. */
void nq__set_state(nq_jobs *j, nq__job *job, nq_job_state st);
/* A job just finished: keep it, drop the oldest beyond max_jobs_kept. */
void nq__store_retire(nq_jobs *j, nq__job *job);
void nq__store_clear(nq_jobs *j);
void nq__make_id(char out[33]);

/* job_worker.c: the queue and the threads (hub lock held unless noted). */
void nq__queue_push(nq_jobs *j, nq__job *job);
void nq__queue_remove(nq_jobs *j, nq__job *job);
/* Set a final state, deliver the final events, wake waiters, retire. The
 * job may be freed on return unless the caller holds a reference. */
void nq__job_finished(nq_jobs *j, nq__job *job, nq_job_state st);
/* job_persist.c: a job's record for the persist hooks, and the store
 * stage. nq__job_record runs with the hub lock held (it copies the names
 * the job reported into n, which rec then points to); nq__job_stored
 * applies a hook's outcome prc/pe to the run's rc, text and e, and returns
 * the job's code (a failed write fails a job that succeeded). */
typedef struct nq__rec_names {
    char solver[NQ__SOLVER_LABEL_MAX], found_by[NQ__SOLVER_LABEL_MAX];
} nq__rec_names;
void nq__job_record(const nq__job *job, int ok, const char *text, nq__rec_names *n,
                    nq_job_record *rec);
int nq__job_stored(nq__job *job, int rc, char **text, nq_err *e, int prc, const nq_err *pe);

/* A job has run (and is stored, if the service stores): free its worker
 * slot (-1: none), decide its final state, count it, wake its waiters.
 * Takes *text over when the job succeeded. */
void nq__job_complete(nq_jobs *j, nq__job *job, int slot, int rc, int has_result, char **text,
                      const nq_err *e);
void *nq__worker_main(void *arg);   /* arg: nq__worker; takes the lock itself */
void *nq__storer_main(void *arg);   /* arg: nq_jobs; takes the lock itself */
typedef struct nq__store_batch nq__store_batch;
int nq__store_batch_new(nq__store_batch **out);
void nq__store_batch_free(nq__store_batch *b); /* NULL ok */
void *nq__watchdog_main(void *arg); /* arg: nq_jobs; takes the lock itself */

/* job_events.c: subscriptions; every function with the hub lock held
 * except the public ones. */
void nq__events_progress(nq__job *job);
void nq__events_final(nq__job *job);
/* The "progress" and "error" objects of a job (new values). */
json_t *nq__progress_json(const nq__job *job);
json_t *nq__error_json(const nq__job *job);

/* job_json.c */

#endif
