/* jobs.c - the job service: configuration, start and shutdown, submit
 * (idempotency keys and the result cache), wait, cancel and counts.
 * The queue and threads are in job_worker.c, records in job_store.c,
 * events in job_events.c, snapshots in job_json.c; docs/internals/service.md
 * tells how they fit together. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nqba/clock.h"
#include "nqba/cond.h"
#include "nqba/randid.h"
#include "service_internal.h"

#define MAX_WORKERS 1024
#define MAX_IDEMPOTENCY_KEY 256

void nq_jobs_config_default(nq_jobs_config *c)
{
    c->workers = 0;
    c->max_queued = 1024;
    c->max_jobs_kept = 10000;
    c->cache_entries = 1000;
    c->job_timeout = 300;
    c->persist = NULL;
    c->persist_user = NULL;
    c->persist_batch = NULL;
    c->shared_get = NULL;
    c->shared_put = NULL;
    c->shared_user = NULL;
    c->on_finished = NULL;
    c->finished_user = NULL;
}

static int check_config(const nq_jobs_config *c, nq_err *err)
{
    if (c->workers < 0 || c->workers > MAX_WORKERS)
        return nq_err_set(err, NQ_EINVAL, "workers", "must be 0..%d", MAX_WORKERS);
    if (c->max_queued < 1)
        return nq_err_set(err, NQ_EINVAL, "max_queued", "must be at least 1");
    if (c->max_jobs_kept < 1)
        return nq_err_set(err, NQ_EINVAL, "max_jobs_kept", "must be at least 1");
    if (c->cache_entries < 0)
        return nq_err_set(err, NQ_EINVAL, "cache_entries", "must be 0 or more");
    if (!(c->job_timeout >= 0))
        return nq_err_set(err, NQ_EINVAL, "job_timeout", "must be 0 or more seconds");
    return NQ_OK;
}

static int online_cores(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > MAX_WORKERS ? MAX_WORKERS : (int)n;
}

static void register_metrics(nq_metrics *m)
{
    if (!m)
        return;
    nq_metrics_help(m, "nqba_jobs", "Jobs known to the service, by state.");
    nq_metrics_help(m, "nqba_job_duration_seconds", "Run time of finished jobs, by kind.");
    nq_metrics_help(m, "nqba_solver_runs_total", "Jobs run, by the solver they used.");
    nq_metrics_help(m, "nqba_cache_hits_total", "Submits answered from the result cache.");
    nq_metrics_help(m, "nqba_cache_misses_total", "Jobs that had to run.");
    nq_metrics_inc(m, "nqba_cache_hits_total", NULL, 0);
    nq_metrics_inc(m, "nqba_cache_misses_total", NULL, 0);
    for (int i = 0; i < 5; i++) {
        char labels[32];
        snprintf(labels, sizeof labels, "state=%s", nq_job_state_name((nq_job_state)i));
        nq_metrics_set(m, "nqba_jobs", labels, 0);
    }
}

static int init_sync(nq_jobs *j)
{
    if (nq__hub_new(&j->hub))
        return NQ_ENOMEM;
    if (nq_cond_init(&j->work) || nq_cond_init(&j->idle) || nq_cond_init(&j->watch) ||
        nq_cond_init(&j->store_work))
        return NQ_ENOMEM; /* free_all destroys them all: a zeroed cond is safe to destroy */
    return NQ_OK;
}

/* Frees what init_sync and the allocations made; threads are joined. */
static void free_all(nq_jobs *j)
{
    if (j->hub) {
        pthread_mutex_lock(&j->hub->mu);
        nq__store_clear(j);
        nq__cache_free(j->cache);
        nq__cache_free(j->body_cache);
        pthread_cond_destroy(&j->work);
        pthread_cond_destroy(&j->idle);
        pthread_cond_destroy(&j->watch);
        pthread_cond_destroy(&j->store_work);
        nq__hub_unref_unlock(j->hub);
    }
    nq__store_batch_free(j->store_batch);
    free(j->workers);
    free(j->slots);
    free(j);
}

static int start_threads(nq_jobs *j)
{
    for (int i = 0; i < j->n_workers; i++) {
        j->workers[i].jobs = j;
        j->workers[i].index = i;
        if (pthread_create(&j->workers[i].thread, NULL, nq__worker_main, &j->workers[i]))
            return i;
    }
    /* Always started: soft deadlines need it even without job_timeout. */
    if (pthread_create(&j->watchdog, NULL, nq__watchdog_main, j))
        return j->n_workers;
    j->has_watchdog = 1;
    if (j->cfg.persist_batch) {
        if (nq__store_batch_new(&j->store_batch) ||
            pthread_create(&j->storer, NULL, nq__storer_main, j))
            return j->n_workers;
        j->has_storer = 1;
    }
    return -1;
}

static void join_threads(nq_jobs *j, int n_started)
{
    pthread_mutex_lock(&j->hub->mu);
    j->stopping = 1;
    pthread_cond_broadcast(&j->work);
    pthread_cond_broadcast(&j->watch);
    pthread_mutex_unlock(&j->hub->mu);
    for (int i = 0; i < n_started; i++)
        pthread_join(j->workers[i].thread, NULL);
    if (j->has_watchdog)
        pthread_join(j->watchdog, NULL);
    j->has_watchdog = 0;
    /* Last: it writes and finishes what the workers handed over. */
    if (j->has_storer) {
        pthread_mutex_lock(&j->hub->mu);
        j->store_stopping = 1;
        pthread_cond_signal(&j->store_work);
        pthread_mutex_unlock(&j->hub->mu);
        pthread_join(j->storer, NULL);
    }
    j->has_storer = 0;
}

int nq_jobs_new(const nq_jobs_config *c, nq_metrics *metrics, nq_jobs **out, nq_err *err)
{
    nq_jobs_config def;
    nq_jobs_config_default(&def);
    if (!c)
        c = &def;
    int rc = check_config(c, err);
    if (rc)
        return rc;
    nq_jobs *j = calloc(1, sizeof *j);
    if (!j)
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    j->cfg = *c;
    j->watch_at = HUGE_VAL;
    j->metrics = metrics;
    j->n_workers = c->workers ? c->workers : online_cores();
    j->workers = calloc((size_t)j->n_workers, sizeof *j->workers);
    j->slots = calloc((size_t)j->n_workers, sizeof *j->slots);
    nq__map_init(&j->ids);
    nq__map_init(&j->idem);
    atomic_init(&j->accepting, 1);
    if (!j->workers || !j->slots || init_sync(j) ||
        (c->cache_entries > 0 && (nq__cache_new(c->cache_entries, &j->cache) ||
                                  nq__cache_new(c->cache_entries, &j->body_cache)))) {
        free_all(j);
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    }
    register_metrics(metrics);
    int started = start_threads(j);
    if (started >= 0) {
        join_threads(j, started);
        free_all(j);
        return nq_err_set(err, NQ_ENOMEM, NULL, "cannot start the worker threads");
    }
    *out = j;
    return NQ_OK;
}

/* Let running jobs go on until drain seconds pass, then raise their
 * cancel flags; queued jobs are cancelled at once (none may start now). */
static void drain_jobs(nq_jobs *j, double drain)
{
    pthread_mutex_lock(&j->hub->mu);
    atomic_store(&j->accepting, 0);
    j->draining = 1;
    for (int p = 0; p < 3; p++)
        while (j->qhead[p]) {
            nq__job *job = j->qhead[p];
            nq__queue_remove(j, job);
            job->why = NQ__WHY_SHUTDOWN;
            nq__job_finished(j, job, NQ_JOB_CANCELLED);
        }
    double deadline = nq_clock_s() + (drain > 0 ? drain : 0);
    while (j->running > 0 && nq_cond_wait_until(&j->idle, &j->hub->mu, deadline))
        ;
    for (int i = 0; i < j->n_workers; i++) {
        nq__job *job = j->slots[i];
        if (job && (job->why == NQ__WHY_NONE || job->why == NQ__WHY_SOFT)) {
            job->why = NQ__WHY_SHUTDOWN;
            atomic_store(&job->cancel, 1);
        }
    }
    pthread_mutex_unlock(&j->hub->mu);
}

void nq_jobs_free(nq_jobs *j, double drain)
{
    if (!j)
        return;
    drain_jobs(j, drain);
    join_threads(j, j->n_workers);
    free_all(j);
}

void nq_jobs_stop_accepting(nq_jobs *j)
{
    atomic_store(&j->accepting, 0);
}

int nq_jobs_accepting(const nq_jobs *j)
{
    return atomic_load(&j->accepting);
}

/* ---- submit -------------------------------------------------------------- */

static int check_submit(const nq_job_submit *s, nq_err *err)
{
    if (!s || !s->kind || !s->kind[0] || !s->request || !s->fn)
        return nq_err_set(err, NQ_EINVAL, NULL, "a job needs a kind, a request and a function");
    if ((unsigned)s->priority > NQ_PRIO_LOW)
        return nq_err_set(err, NQ_EINVAL, NULL, "unknown priority %d", (int)s->priority);
    if (s->idempotency_key && strlen(s->idempotency_key) > MAX_IDEMPOTENCY_KEY)
        return nq_err_set(err, NQ_EINVAL, NULL, "Idempotency-Key longer than %d bytes",
                          MAX_IDEMPOTENCY_KEY);
    if (s->id && !nq_id_valid(s->id))
        return nq_err_set(err, NQ_EINVAL, NULL, "a job id is 32 lowercase hex digits");
    return NQ_OK;
}

/* A repeat of a known key: the same request gets the same job. */
static int repeat(const nq__job *old, const char *hash, char job_id[33], int *cached, nq_err *err)
{
    if (strcmp(old->hash, hash) != 0)
        return nq_err_set(err, NQ_EINVAL, NULL, "Idempotency-Key reused with a different request");
    memcpy(job_id, old->id, 33);
    *cached = old->cached;
    return NQ_OK;
}

/* A cache hit becomes a job that is succeeded from the start, so that
 * GET /jobs/{id} and the events work for it like for any other. */
static int add_cached(nq_jobs *j, nq__job *job, const char *text, size_t len)
{
    nq__job_drop_prepared(job); /* never runs */
    if (!(job->result_text = malloc(len + 1)))
        return NQ_ENOMEM;
    memcpy(job->result_text, text, len + 1);
    job->result_len = len;
    job->cached = 1;
    job->state = NQ_JOB_SUCCEEDED;
    job->started_wall = job->finished_wall = job->created_wall;
    job->started_mono = job->finished_mono = nq_clock_s();
    if (nq__store_add(j, job))
        return NQ_ENOMEM;
    nq__store_retire(j, job);
    if (j->metrics)
        nq_metrics_inc(j->metrics, "nqba_cache_hits_total", NULL, 1);
    return NQ_OK;
}

static int add_queued(nq_jobs *j, nq__job *job, nq_err *err)
{
    if (j->queued >= j->cfg.max_queued)
        return nq_err_set(err, NQ_ELIMIT, NULL, "the job queue is full (%d jobs)", j->queued);
    if (nq__store_add(j, job))
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    nq__queue_push(j, job);
    pthread_cond_signal(&j->work);
    return NQ_OK;
}

/* Takes the job over: it is stored, or freed. shared: a hit of the shared
 * cache (or NULL), used when the local cache has none. */
static int submit_locked(nq_jobs *j, nq__job *job, const char *shared, size_t shared_len,
                         char job_id[33], int *cached, nq_err *err)
{
    int rc;
    nq__job *old = job->idem_key ? nq__map_get(&j->idem, job->idem_key) : NULL;
    if (!atomic_load(&j->accepting)) {
        rc = nq_err_set(err, NQ_ECANCEL, NULL, "the service is shutting down");
    } else if (nq__store_find(j, job->id)) { /* only a given id can collide */
        rc = nq_err_set(err, NQ_EINVAL, NULL, "job %s is already known", job->id);
    } else if (old) {
        rc = repeat(old, job->hash, job_id, cached, err);
    } else {
        size_t len = 0;
        const char *hit = j->cache ? nq__cache_get_text(j->cache, job->hash, &len) : NULL;
        if (!hit && shared) {
            hit = shared;
            len = shared_len;
            if (j->cache) /* the next repeat is a local hit */
                nq__cache_put_text(j->cache, job->hash, shared, shared_len);
        }
        rc = hit ? add_cached(j, job, hit, len) : add_queued(j, job, err);
        if (rc == NQ_ENOMEM)
            nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
        if (!rc) {
            memcpy(job_id, job->id, 33);
            *cached = job->cached;
            return NQ_OK;
        }
    }
    nq__job_unref(job);
    return rc;
}

/* Whether the local cache answers hash (then the shared one is not asked). */
static int local_hit(nq_jobs *j, const char *hash)
{
    pthread_mutex_lock(&j->hub->mu);
    int hit = j->cache && nq__cache_peek(j->cache, hash) != NULL;
    pthread_mutex_unlock(&j->hub->mu);
    return hit;
}

int nq_jobs_submit(nq_jobs *j, const nq_job_submit *s, char job_id[33], int *cached, nq_err *err)
{
    nq_err_clear(err);
    job_id[0] = '\0';
    *cached = 0;
    int rc = check_submit(s, err);
    if (rc) {
        json_decref(s ? s->request : NULL);
        if (s && s->prepared && s->prepared_free)
            s->prepared_free(s->prepared);
        return rc;
    }
    /* Hashing happens outside the lock: it walks the whole document. */
    char hash[65];
    nq_request_hash(s->kind, s->request, hash);
    nq__job *job;
    if (nq__job_new(s, hash, &job))
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    if (s->id)
        memcpy(job->id, s->id, sizeof job->id);
    else
        nq__make_id(job->id);
    char *shared = NULL;
    size_t shared_len = 0;
    if (j->cfg.shared_get && !local_hit(j, hash) &&
        j->cfg.shared_get(j->cfg.shared_user, hash, &shared, &shared_len) != 0) {
        free(shared);
        shared = NULL;
    }
    pthread_mutex_lock(&j->hub->mu);
    rc = submit_locked(j, job, shared, shared_len, job_id, cached, err);
    pthread_mutex_unlock(&j->hub->mu);
    free(shared);
    return rc;
}

/* ---- wait, cancel, counts, progress -------------------------------------- */

nq_job_state nq_jobs_wait(nq_jobs *j, const char *job_id, double timeout)
{
    double deadline = nq_clock_s() + (timeout > 0 ? timeout : 0);
    pthread_mutex_lock(&j->hub->mu);
    nq__job *job = nq__store_find(j, job_id);
    if (!job) {
        pthread_mutex_unlock(&j->hub->mu);
        return NQ_JOB_FAILED; /* unknown: nq_jobs_get answers NULL for it */
    }
    job->refs++;
    while (job->state < NQ_JOB_SUCCEEDED && nq_cond_wait_until(&job->done, &j->hub->mu, deadline))
        ;
    nq_job_state st = job->state;
    nq__job_unref(job);
    pthread_mutex_unlock(&j->hub->mu);
    return st;
}

int nq_jobs_cancel(nq_jobs *j, const char *job_id)
{
    int rc = NQ_OK, ended = 0;
    pthread_mutex_lock(&j->hub->mu);
    nq__job *job = nq__store_find(j, job_id);
    if (!job) {
        rc = NQ_ENOTFOUND;
    } else if (job->mirror) {
        rc = NQ_EINVAL; /* the shared queue cancels it, not this node */
    } else if (job->state == NQ_JOB_QUEUED) {
        nq__queue_remove(j, job);
        job->why = NQ__WHY_USER;
        nq__job_finished(j, job, NQ_JOB_CANCELLED);
        ended = 1;
    } else if (job->state == NQ_JOB_RUNNING) {
        if (job->why == NQ__WHY_NONE || job->why == NQ__WHY_SOFT)
            job->why = NQ__WHY_USER;
        atomic_store(&job->cancel, 1);
    } else {
        rc = NQ_EINVAL;
    }
    pthread_mutex_unlock(&j->hub->mu);
    if (ended && j->cfg.on_finished)
        j->cfg.on_finished(j->cfg.finished_user, &job_id, 1);
    return rc;
}

int nq_jobs_known(nq_jobs *j, const char *job_id)
{
    pthread_mutex_lock(&j->hub->mu);
    int known = nq__store_find(j, job_id) != NULL;
    pthread_mutex_unlock(&j->hub->mu);
    return known;
}

void nq_jobs_counts(nq_jobs *j, int64_t counts[5])
{
    pthread_mutex_lock(&j->hub->mu);
    memcpy(counts, j->counts, sizeof j->counts);
    pthread_mutex_unlock(&j->hub->mu);
}

/* Progress events are limited to one per PROGRESS_INTERVAL_S per job: the
 * solvers may report far more often, and a browser needs no more. */
#define PROGRESS_INTERVAL_S 0.05

void nq_job_progress(nq_job_ctx *ctx, const nq_progress *p)
{
    if (!ctx || !p)
        return;
    nq__job *job = ctx->job;
    double now = nq_clock_s();
    pthread_mutex_lock(&ctx->jobs->hub->mu);
    job->has_progress = 1;
    job->best_energy = p->best_energy;
    job->prog_elapsed = p->elapsed;
    job->prog_fraction = p->fraction;
    if (now - job->last_event_mono >= PROGRESS_INTERVAL_S) {
        job->last_event_mono = now;
        nq__events_progress(job);
    }
    pthread_mutex_unlock(&ctx->jobs->hub->mu);
}

void nq_job_report_solver(nq_job_ctx *ctx, const char *solver)
{
    if (!ctx || !solver)
        return;
    pthread_mutex_lock(&ctx->jobs->hub->mu);
    snprintf(ctx->job->solver, sizeof ctx->job->solver, "%s", solver);
    pthread_mutex_unlock(&ctx->jobs->hub->mu);
}

void nq_job_report_found_by(nq_job_ctx *ctx, const char *found_by)
{
    if (!ctx || !found_by)
        return;
    pthread_mutex_lock(&ctx->jobs->hub->mu);
    snprintf(ctx->job->found_by, sizeof ctx->job->found_by, "%s", found_by);
    pthread_mutex_unlock(&ctx->jobs->hub->mu);
}

void nq_job_soft_deadline(nq_job_ctx *ctx, double seconds)
{
    if (!ctx || !(seconds > 0))
        return;
    pthread_mutex_lock(&ctx->jobs->hub->mu);
    ctx->job->soft_mono = ctx->job->started_mono + seconds;
    if (ctx->job->soft_mono < ctx->jobs->watch_at)
        pthread_cond_signal(&ctx->jobs->watch);
    pthread_mutex_unlock(&ctx->jobs->hub->mu);
}
