/* job_worker.c - the priority queue, the worker threads and the watchdog.
 *
 * The queue is three FIFO lists, one per priority; a worker always takes
 * the oldest job of the highest non-empty priority. Lists are doubly
 * linked so a queued job is cancelled in O(1).
 *
 * A worker runs the job function without the hub lock; the function sees
 * only its request and prepared input (both immutable after submit, and
 * read only by the worker) and its cancel flag (atomic).
 * The final state is decided by why the flag was raised, not by what the
 * function returned: a user's cancel or a shutdown ends "cancelled" even if
 * the solver returned its best-so-far, and the watchdog's ends "failed"
 * with the error code "timeout". */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nqba/clock.h"
#include "nqba/cond.h"
#include "nqba/solve.h"
#include "canon.h"
#include "service_internal.h"

void nq__queue_push(nq_jobs *j, nq__job *job)
{
    int p = job->prio;
    job->qnext = NULL;
    job->qprev = j->qtail[p];
    if (j->qtail[p])
        j->qtail[p]->qnext = job;
    else
        j->qhead[p] = job;
    j->qtail[p] = job;
    j->queued++;
}

void nq__queue_remove(nq_jobs *j, nq__job *job)
{
    int p = job->prio;
    if (job->qprev)
        job->qprev->qnext = job->qnext;
    else
        j->qhead[p] = job->qnext;
    if (job->qnext)
        job->qnext->qprev = job->qprev;
    else
        j->qtail[p] = job->qprev;
    job->qprev = job->qnext = NULL;
    j->queued--;
}

static nq__job *queue_pop(nq_jobs *j)
{
    if (j->draining)
        return NULL;
    for (int p = 0; p < 3; p++)
        if (j->qhead[p]) {
            nq__job *job = j->qhead[p];
            nq__queue_remove(j, job);
            return job;
        }
    return NULL;
}

void nq__job_finished(nq_jobs *j, nq__job *job, nq_job_state st)
{
    nq__job_drop_prepared(job); /* a queued job cancelled: it never ran */
    job->finished_wall = nq_clock_wall_s();
    job->finished_mono = nq_clock_s();
    nq__set_state(j, job, st);
    nq__events_final(job);
    pthread_cond_broadcast(&job->done);
    nq__store_retire(j, job);
}

static void start(nq_jobs *j, nq__job *job, int slot)
{
    job->started_wall = nq_clock_wall_s();
    job->started_mono = nq_clock_s();
    if (j->cfg.job_timeout > 0)
        job->deadline_mono = job->started_mono + j->cfg.job_timeout;
    nq__set_state(j, job, NQ_JOB_RUNNING);
    j->running++;
    j->slots[slot] = job;
    job->refs++; /* the worker's own, so retirement can never free it under us */
    if (j->metrics)
        nq_metrics_inc(j->metrics, "nqba_cache_misses_total", NULL, 1);
    if (job->deadline_mono > 0 && job->deadline_mono < j->watch_at)
        pthread_cond_signal(&j->watch);
}

/* Takes *text over when the job succeeded (the job then owns it). */
static nq_job_state outcome(nq_jobs *j, nq__job *job, int rc, int has_result, char **text,
                            const nq_err *e)
{
    if (job->why == NQ__WHY_USER || job->why == NQ__WHY_SHUTDOWN)
        return NQ_JOB_CANCELLED;
    if (job->why == NQ__WHY_TIMEOUT) {
        snprintf(job->err_code, sizeof job->err_code, "timeout");
        nq_err_set(&job->err, NQ_ECANCEL, NULL, "the job ran longer than the job timeout (%g s)",
                   j->cfg.job_timeout);
        return NQ_JOB_FAILED;
    }
    if (rc == NQ_OK && has_result && *text) {
        job->result_text = *text;
        job->result_len = strlen(*text);
        *text = NULL;
        return NQ_JOB_SUCCEEDED;
    }
    job->err = *e;
    if (rc == NQ_OK && has_result)
        nq_err_set(&job->err, rc = NQ_ENOMEM, NULL, "out of memory writing the result");
    else if (rc == NQ_OK)
        nq_err_set(&job->err, rc = NQ_EINTERNAL, NULL, "the job returned no result");
    snprintf(job->err_code, sizeof job->err_code, "%s", nq_code_name(rc));
    return NQ_JOB_FAILED;
}

void nq__job_complete(nq_jobs *j, nq__job *job, int slot, int rc, int has_result, char **text,
                      const nq_err *e)
{
    if (slot >= 0)
        j->slots[slot] = NULL;
    j->running--;
    nq_job_state st = outcome(j, job, rc, has_result, text, e);
    if (st == NQ_JOB_SUCCEEDED && j->cache)
        nq__cache_put_text(j->cache, job->hash, job->result_text, job->result_len);
    if (j->metrics) {
        char labels[NQ__SOLVER_LABEL_MAX + 16];
        snprintf(labels, sizeof labels, "kind=%s", job->kind);
        nq_metrics_observe(j->metrics, "nqba_job_duration_seconds", labels,
                           nq_clock_s() - job->started_mono);
        snprintf(labels, sizeof labels, "solver=%s", job->solver);
        if (job->solver[0])
            nq_metrics_inc(j->metrics, "nqba_solver_runs_total", labels, 1);
    }
    nq__job_finished(j, job, st);
    pthread_cond_broadcast(&j->idle);
    nq__job_unref(job);
}

/* Store the job before anyone can see it finished. A job whose record
 * cannot be stored fails with the store's error, and its result is
 * dropped: nothing is acknowledged that is not stored. */
static int persist(nq_jobs *j, nq__job *job, int rc, char **text, nq_err *e)
{
    int ok = rc == NQ_OK && *text;
    nq__rec_names names;
    nq_job_record rec;
    pthread_mutex_lock(&j->hub->mu);
    nq__job_record(job, ok, *text, &names, &rec);
    pthread_mutex_unlock(&j->hub->mu);
    nq_err pe;
    nq_err_clear(&pe);
    int prc = j->cfg.persist(j->cfg.persist_user, &rec, &pe);
    return nq__job_stored(job, rc, text, e, prc, &pe);
}

/* One job, without the lock. The answer's text is written here, once, on
 * the worker, and is all the job keeps of it: every reader (the HTTP
 * answer, events, the caches) copies bytes instead of walking a document,
 * and no JSON value is ever shared between threads. */
static void run(nq_jobs *j, nq__job *job, int slot)
{
    nq_job_ctx ctx = {j, job};
    json_t *result = NULL;
    char *text = NULL;
    nq_err e;
    nq_err_clear(&e);
    int rc = job->fn(job->request, job->prepared, &job->cancel, &ctx, &result, &e);
    nq__job_drop_prepared(job);
    /* Only the worker reads the request, and only in fn: a finished job
     * keeps its hash, not the document (a big model otherwise stays in
     * memory for as long as the job is kept). */
    json_decref(job->request);
    job->request = NULL;
    if (rc == NQ_OK && result)
        text = nq__compact_text(result);
    if (j->cfg.persist_batch) {
        /* The store thread writes it and finishes it; the slot is free
         * (no deadline applies to a job that has run). */
        pthread_mutex_lock(&j->hub->mu);
        j->slots[slot] = NULL;
        job->s_rc = rc;
        job->s_has_result = result != NULL;
        job->s_text = text;
        job->err = e;
        job->snext = NULL;
        if (j->stail)
            j->stail->snext = job;
        else
            j->shead = job;
        j->stail = job;
        pthread_cond_signal(&j->store_work);
        pthread_mutex_unlock(&j->hub->mu);
        json_decref(result);
        return;
    }
    if (j->cfg.persist)
        rc = persist(j, job, rc, &text, &e);
    if (rc == NQ_OK && text && j->cfg.shared_put)
        j->cfg.shared_put(j->cfg.shared_user, job->hash, text, strlen(text));
    char id[sizeof job->id];
    const char *ids[1] = {id};
    memcpy(id, job->id, sizeof id); /* the job may go once unlocked */
    pthread_mutex_lock(&j->hub->mu);
    nq__job_complete(j, job, slot, rc, result != NULL, &text, &e);
    pthread_mutex_unlock(&j->hub->mu);
    if (j->cfg.on_finished)
        j->cfg.on_finished(j->cfg.finished_user, ids, 1);
    json_decref(result); /* the job keeps its text: the document never leaves this thread */
    free(text);
}

void *nq__worker_main(void *arg)
{
    pthread_setname_np(pthread_self(), "nq-worker");
    nq__worker *w = arg;
    nq_jobs *j = w->jobs;
    pthread_mutex_lock(&j->hub->mu);
    for (;;) {
        nq__job *job;
        while (!(job = queue_pop(j)) && !j->stopping)
            pthread_cond_wait(&j->work, &j->hub->mu);
        if (!job)
            break;
        start(j, job, w->index);
        pthread_mutex_unlock(&j->hub->mu);
        run(j, job, w->index);
        pthread_mutex_lock(&j->hub->mu);
    }
    pthread_mutex_unlock(&j->hub->mu);
    nq_solve_thread_exit();
    return NULL;
}

/* Raise the flag of a job past one of its deadlines; returns the next
 * deadline still ahead (0 = none). */
static double check_deadlines(nq__job *job, double now)
{
    if (job->why != NQ__WHY_NONE && job->why != NQ__WHY_SOFT)
        return 0;
    if (job->deadline_mono > 0 && now >= job->deadline_mono) {
        job->why = NQ__WHY_TIMEOUT;
        atomic_store(&job->cancel, 1);
        return 0;
    }
    double next = job->deadline_mono;
    if (job->why == NQ__WHY_NONE && job->soft_mono > 0) {
        if (now >= job->soft_mono) {
            job->why = NQ__WHY_SOFT;
            atomic_store(&job->cancel, 1);
        } else if (next <= 0 || job->soft_mono < next) {
            next = job->soft_mono;
        }
    }
    return next;
}

/* Sleeps until the earliest deadline of a running job (or until a worker
 * starts one or a job sets a soft deadline), then raises the flag of every
 * job past its deadline. */
void *nq__watchdog_main(void *arg)
{
    pthread_setname_np(pthread_self(), "nq-watchdog");
    nq_jobs *j = arg;
    pthread_mutex_lock(&j->hub->mu);
    while (!j->stopping) {
        double now = nq_clock_s(), next = -1;
        for (int i = 0; i < j->n_workers; i++) {
            double d = j->slots[i] ? check_deadlines(j->slots[i], now) : 0;
            if (d > 0 && (next < 0 || d < next))
                next = d;
        }
        j->watch_at = next < 0 ? HUGE_VAL : next;
        nq_cond_wait_until(&j->watch, &j->hub->mu, next);
    }
    pthread_mutex_unlock(&j->hub->mu);
    return NULL;
}
