/* job_mirror.c - records of jobs that other processes run.
 *
 * On an API node of a cluster the workers run the jobs; the node learns
 * what happened from the shared queue (notifications, then a read of the
 * row) and feeds it here. A mirrored job lives in the same id map as a
 * local one, so nq_jobs_wait, nq_jobs_get, the events and the synchronous
 * answer need no second code path. It is never in the local queue, never
 * in a worker slot and never timed out by the watchdog. */
#include <stdlib.h>
#include <string.h>

#include "nqba/clock.h"
#include "nqba/cond.h"
#include "nqba/randid.h"
#include "service_internal.h"

int nq_jobs_mirror_add(nq_jobs *j, const char *id, const char *kind, nq_job_priority prio,
                       double created_at)
{
    if (!id || !nq_id_valid(id) || !kind || (unsigned)prio > NQ_PRIO_LOW)
        return NQ_EINVAL;
    nq__job *job = calloc(1, sizeof *job);
    if (!job)
        return NQ_ENOMEM;
    job->kind = strdup(kind);
    if (!job->kind || nq_cond_init(&job->done)) {
        free(job->kind);
        free(job);
        return NQ_ENOMEM;
    }
    memcpy(job->id, id, sizeof job->id);
    job->refs = 1;
    job->mirror = 1;
    job->prio = prio;
    job->state = NQ_JOB_QUEUED;
    job->created_wall = created_at > 0 ? created_at : nq_clock_wall_s();
    atomic_init(&job->cancel, 0);
    int rc = NQ_OK;
    pthread_mutex_lock(&j->hub->mu);
    if (nq__store_find(j, id))
        rc = NQ_EINVAL;
    else if (nq__store_add(j, job))
        rc = NQ_ENOMEM;
    if (rc)
        nq__job_unref(job);
    pthread_mutex_unlock(&j->hub->mu);
    return rc;
}

/* A wall-clock time as the monotonic clock's reading then, so elapsed_s
 * of a mirrored job is measured like a local one's. */
static double mono_of(double wall)
{
    return nq_clock_s() - (nq_clock_wall_s() - wall);
}

static void take_progress(nq__job *job, const char *text)
{
    json_t *p = text ? json_loads(text, 0, NULL) : NULL;
    if (!json_is_object(p)) {
        json_decref(p);
        return;
    }
    job->has_progress = 1;
    job->best_energy = json_number_value(json_object_get(p, "best_energy"));
    job->prog_elapsed = json_number_value(json_object_get(p, "elapsed_s"));
    job->prog_fraction = json_number_value(json_object_get(p, "fraction"));
    json_decref(p);
    nq__events_progress(job);
}

static void take_error(nq__job *job, const char *text)
{
    json_t *e = text ? json_loads(text, 0, NULL) : NULL;
    const char *code = json_string_value(json_object_get(e, "code"));
    const char *ptr = json_string_value(json_object_get(e, "pointer"));
    const char *detail = json_string_value(json_object_get(e, "detail"));
    snprintf(job->err_code, sizeof job->err_code, "%s", code ? code : "internal");
    nq_err_set(&job->err, NQ_EINTERNAL, ptr, "%s", detail ? detail : "the job failed");
    json_decref(e);
}

/* Result text is copied before the lock: it may be large. */
static int finish_mirror(nq_jobs *j, nq__job *job, const nq_job_mirror *m, char **result)
{
    if (m->state == NQ_JOB_SUCCEEDED) {
        if (!*result)
            return NQ_EINVAL;
        job->result_text = *result;
        job->result_len = strlen(*result);
        *result = NULL;
    } else if (m->state == NQ_JOB_FAILED) {
        take_error(job, m->error);
    }
    if (!job->started_wall) {
        job->started_wall = m->started_at > 0 ? m->started_at : job->created_wall;
        job->started_mono = mono_of(job->started_wall);
    }
    nq__job_finished(j, job, m->state);
    if (m->finished_at > 0) {
        job->finished_wall = m->finished_at;
        job->finished_mono = mono_of(m->finished_at);
    }
    return NQ_OK;
}

int nq_jobs_mirror_update(nq_jobs *j, const char *id, const nq_job_mirror *m)
{
    if (!id || !m || (unsigned)m->state > NQ_JOB_CANCELLED)
        return NQ_EINVAL;
    char *result = m->state == NQ_JOB_SUCCEEDED && m->result ? strdup(m->result) : NULL;
    if (m->state == NQ_JOB_SUCCEEDED && !result)
        return m->result ? NQ_ENOMEM : NQ_EINVAL;
    int rc = NQ_OK, ended = 0;
    pthread_mutex_lock(&j->hub->mu);
    nq__job *job = nq__store_find(j, id);
    if (!job || !job->mirror) {
        rc = NQ_ENOTFOUND;
    } else if (job->state >= NQ_JOB_SUCCEEDED) {
        rc = NQ_OK; /* final is final: a late or repeated notice changes nothing */
    } else {
        if (m->state >= NQ_JOB_RUNNING && !job->started_wall && m->started_at > 0) {
            job->started_wall = m->started_at;
            job->started_mono = mono_of(m->started_at);
        }
        if (m->state == NQ_JOB_RUNNING && job->state == NQ_JOB_QUEUED)
            nq__set_state(j, job, NQ_JOB_RUNNING);
        if (m->progress && m->state <= NQ_JOB_RUNNING)
            take_progress(job, m->progress);
        if (m->state >= NQ_JOB_SUCCEEDED) {
            rc = finish_mirror(j, job, m, &result);
            ended = rc == NQ_OK;
        }
    }
    pthread_mutex_unlock(&j->hub->mu);
    free(result);
    if (ended && j->cfg.on_finished)
        j->cfg.on_finished(j->cfg.finished_user, &id, 1);
    return rc;
}

int nq_jobs_is_mirror(nq_jobs *j, const char *id)
{
    pthread_mutex_lock(&j->hub->mu);
    nq__job *job = nq__store_find(j, id);
    int yes = job && job->mirror;
    pthread_mutex_unlock(&j->hub->mu);
    return yes;
}

int nq_jobs_mirror_pending(nq_jobs *j, char (*ids)[33], int cap)
{
    int n = 0;
    pthread_mutex_lock(&j->hub->mu);
    for (size_t i = 0; i < j->ids.n_slots && n < cap; i++)
        for (nq__map_node *node = j->ids.slots[i]; node && n < cap; node = node->next) {
            const nq__job *job = node->val;
            if (job->mirror && job->state < NQ_JOB_SUCCEEDED)
                memcpy(ids[n++], job->id, 33);
        }
    pthread_mutex_unlock(&j->hub->mu);
    return n;
}
