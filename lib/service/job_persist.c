/* job_persist.c - a job's durable write: the record the persist hooks get,
 * and the store stage.
 *
 * With persist_batch, a worker that has run a job hands it to the store
 * queue and takes its next job; one store thread writes whatever is
 * queued in one call (one transaction, one commit) and only then finishes
 * those jobs. A durable commit costs about the same for one decision as
 * for a hundred, so under load the commits grow instead of the queue, and
 * no worker sits idle waiting for the disk. */
#include <stdlib.h>
#include <string.h>

#include "nqba/clock.h"
#include "service_internal.h"

/* Jobs per persist_batch call: a bound on the memory of one call. */
#define STORE_BATCH 256

void nq__job_record(const nq__job *job, int ok, const char *text, nq__rec_names *n,
                    nq_job_record *rec)
{
    memcpy(n->solver, job->solver, sizeof n->solver);
    memcpy(n->found_by, job->found_by, sizeof n->found_by);
    nq_job_record r = {job->id,
                       job->kind,
                       job->request_text ? job->request_text : "null",
                       ok ? text : NULL,
                       n->solver,
                       n->found_by,
                       ok ? "succeeded" : atomic_load(&job->cancel) ? "cancelled" : "failed",
                       nq_clock_s() - job->started_mono,
                       job->created_wall};
    *rec = r;
}

int nq__job_stored(nq__job *job, int rc, char **text, nq_err *e, int prc, const nq_err *pe)
{
    int ok = rc == NQ_OK && *text;
    free(job->request_text);
    job->request_text = NULL;
    if (prc == NQ_OK || !ok)
        return rc;
    free(*text);
    *text = NULL;
    *e = *pe;
    return prc ? prc : NQ_EINTERNAL;
}

/* The batch's records (their strings point into the jobs and names),
 * written without the lock; then each job gets its outcome. */
static void write_jobs(nq_jobs *j, nq__job **jobs, int n, const nq_job_record *recs, int *rc,
                       nq_err *errs)
{
    j->cfg.persist_batch(j->cfg.persist_user, recs, n, rc, errs);
    for (int i = 0; i < n; i++) {
        nq__job *job = jobs[i];
        int jrc = nq__job_stored(job, job->s_rc, &job->s_text, &job->err, rc[i], &errs[i]);
        job->s_rc = jrc;
        if (jrc == NQ_OK && job->s_text && j->cfg.shared_put)
            j->cfg.shared_put(j->cfg.shared_user, job->hash, job->s_text, strlen(job->s_text));
    }
}

/* One batch's working space: allocated with the service, so a batch never
 * needs memory it may not get. */
struct nq__store_batch {
    nq__job *jobs[STORE_BATCH];
    nq_job_record recs[STORE_BATCH];
    nq__rec_names names[STORE_BATCH];
    int rc[STORE_BATCH];
    nq_err errs[STORE_BATCH];
    char ids[STORE_BATCH][33]; /* copied for on_finished: a job may go once unlocked */
    const char *idp[STORE_BATCH];
};

int nq__store_batch_new(nq__store_batch **out)
{
    *out = malloc(sizeof **out);
    return *out ? NQ_OK : NQ_ENOMEM;
}

void nq__store_batch_free(nq__store_batch *b)
{
    free(b);
}

/* Take up to STORE_BATCH jobs off the store queue (hub lock held). */
static int take_batch(nq_jobs *j, nq__store_batch *b)
{
    int n = 0;
    while (j->shead && n < STORE_BATCH) {
        nq__job *job = j->shead;
        j->shead = job->snext;
        if (!j->shead)
            j->stail = NULL;
        job->snext = NULL;
        int ok = job->s_rc == NQ_OK && job->s_text;
        nq__job_record(job, ok, job->s_text, &b->names[n], &b->recs[n]);
        b->jobs[n++] = job;
    }
    return n;
}

void *nq__storer_main(void *arg)
{
    pthread_setname_np(pthread_self(), "nq-store");
    nq_jobs *j = arg;
    nq__store_batch *b = j->store_batch;
    pthread_mutex_lock(&j->hub->mu);
    for (;;) {
        while (!j->shead && !j->store_stopping)
            pthread_cond_wait(&j->store_work, &j->hub->mu);
        if (!j->shead)
            break;
        int n = take_batch(j, b);
        pthread_mutex_unlock(&j->hub->mu);
        write_jobs(j, b->jobs, n, b->recs, b->rc, b->errs);
        pthread_mutex_lock(&j->hub->mu);
        for (int i = 0; i < n; i++) {
            nq__job *job = b->jobs[i];
            char *text = job->s_text;
            job->s_text = NULL;
            nq_err e = job->err;
            memcpy(b->ids[i], job->id, sizeof b->ids[i]);
            b->idp[i] = b->ids[i];
            nq__job_complete(j, job, -1, job->s_rc, job->s_has_result, &text, &e);
            free(text); /* kept by the job when it succeeded (then NULL here) */
        }
        if (j->cfg.on_finished) {
            pthread_mutex_unlock(&j->hub->mu);
            j->cfg.on_finished(j->cfg.finished_user, b->idp, n);
            pthread_mutex_lock(&j->hub->mu);
        }
    }
    pthread_mutex_unlock(&j->hub->mu);
    return NULL;
}
