/* job_store.c - job records: creation, ids, the id map, the list of
 * finished jobs kept for GET, idempotency keys and per-state counts.
 * Every function except nq__job_new and nq__make_id runs with the hub
 * lock held.
 *
 * Retention: finished jobs are kept in the order they finished; past
 * max_jobs_kept the oldest leaves the id map, and its idempotency key
 * leaves with it (a key outlives its job nowhere). The per-state counts,
 * and so the nqba_jobs gauge, cover the jobs the store knows. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nqba/clock.h"
#include "nqba/cond.h"
#include "nqba/randid.h"
#include "nqba/sha256.h"
#include "service_internal.h"

static const char *const STATE_NAMES[] = {"queued", "running", "succeeded", "failed", "cancelled"};
static const char *const PRIO_NAMES[] = {"high", "normal", "low"};

const char *nq_job_state_name(nq_job_state s)
{
    return (unsigned)s < 5 ? STATE_NAMES[s] : "unknown";
}

const char *nq_job_priority_name(nq_job_priority p)
{
    return (unsigned)p < 3 ? PRIO_NAMES[p] : "normal";
}

int nq_job_state_parse(const char *name, nq_job_state *out)
{
    for (int i = 0; name && i < 5; i++)
        if (strcmp(name, STATE_NAMES[i]) == 0) {
            *out = (nq_job_state)i;
            return 0;
        }
    return -1;
}

int nq_job_priority_parse(const char *name, nq_job_priority *out)
{
    for (int i = 0; name && i < 3; i++)
        if (strcmp(name, PRIO_NAMES[i]) == 0) {
            *out = (nq_job_priority)i;
            return 0;
        }
    return -1;
}

/* Ids (randid.h: time first, then 80 random bits from the kernel's CSPRNG)
 * cannot be guessed: knowing one job's id does not reveal another's, and
 * the decisions stored under them are appended to the id index in time
 * order. Should getrandom ever fail, the
 * fallback hashes the clocks and a stack address: still unique in
 * practice, and nq__store_add rejects a duplicate anyway. */
void nq__make_id(char out[33])
{
    if (nq_time_id(out) == NQ_OK)
        return;
    double seed[3] = {nq_clock_s(), nq_clock_wall_s(), (double)(uintptr_t)out};
    uint8_t d[NQ_SHA256_LEN];
    char hex[NQ_SHA256_HEX_LEN];
    nq_sha256(seed, sizeof seed, d);
    nq_sha256_hex(d, hex);
    memcpy(out, hex, 32);
    out[32] = '\0';
}

int nq__job_new(const nq_job_submit *s, const char *hash, nq__job **out)
{
    nq__job *job = calloc(1, sizeof *job);
    if (!job) {
        json_decref(s->request);
        if (s->prepared && s->prepared_free)
            s->prepared_free(s->prepared);
        return NQ_ENOMEM;
    }
    /* The caller's reference becomes the job's: the caller never touches
     * the document again, so its count is only ever changed by the job's
     * owner (see job_json.c on why counts stay single-threaded). */
    job->request = s->request;
    job->prepared = s->prepared;
    if (job->prepared) {
        /* The function works from the prepared input alone: the document
         * is released here, on the thread that built it, and the function
         * is handed NULL. */
        json_decref(job->request);
        job->request = NULL;
    }
    job->prepared_free = s->prepared_free;
    job->refs = 1;
    job->kind = strdup(s->kind);
    job->idem_key = s->idempotency_key ? strdup(s->idempotency_key) : NULL;
    job->request_text = s->request_text ? strndup(s->request_text, s->request_len) : NULL;
    if (!job->kind || (s->idempotency_key && !job->idem_key) ||
        (s->request_text && !job->request_text) || nq_cond_init(&job->done)) {
        free(job->request_text);
        nq__job_drop_prepared(job);
        json_decref(job->request);
        free(job->kind);
        free(job->idem_key);
        free(job);
        return NQ_ENOMEM;
    }
    memcpy(job->hash, hash, sizeof job->hash);
    job->fn = s->fn;
    job->prio = s->priority;
    job->state = NQ_JOB_QUEUED;
    job->created_wall = nq_clock_wall_s();
    atomic_init(&job->cancel, 0);
    *out = job;
    return NQ_OK;
}

void nq__job_drop_prepared(nq__job *job)
{
    if (job->prepared && job->prepared_free)
        job->prepared_free(job->prepared);
    job->prepared = NULL;
}

void nq__job_unref(nq__job *job)
{
    if (!job || --job->refs > 0)
        return;
    nq__job_drop_prepared(job);
    free(job->kind);
    free(job->idem_key);
    free(job->request_text);
    json_decref(job->request);
    free(job->result_text);
    pthread_cond_destroy(&job->done);
    free(job);
}

static void publish_count(nq_jobs *j, nq_job_state st)
{
    char labels[32];
    snprintf(labels, sizeof labels, "state=%s", nq_job_state_name(st));
    if (j->metrics)
        nq_metrics_set(j->metrics, "nqba_jobs", labels, (double)j->counts[st]);
}

void nq__set_state(nq_jobs *j, nq__job *job, nq_job_state st)
{
    nq_job_state old = job->state;
    job->state = st;
    j->counts[old]--;
    j->counts[st]++;
    publish_count(j, old);
    publish_count(j, st);
}

/* Takes over the caller's reference; a fresh id is drawn on the (never
 * yet seen) collision. */
int nq__store_add(nq_jobs *j, nq__job *job)
{
    while (nq__map_get(&j->ids, job->id))
        nq__make_id(job->id);
    if (nq__map_put(&j->ids, job->id, job))
        return NQ_ENOMEM;
    if (job->idem_key && nq__map_put(&j->idem, job->idem_key, job)) {
        nq__map_del(&j->ids, job->id);
        return NQ_ENOMEM;
    }
    j->counts[job->state]++;
    publish_count(j, job->state);
    return NQ_OK;
}

nq__job *nq__store_find(nq_jobs *j, const char *id)
{
    return id ? nq__map_get(&j->ids, id) : NULL;
}

static void drop(nq_jobs *j, nq__job *job)
{
    nq__map_del(&j->ids, job->id);
    if (job->idem_key && nq__map_get(&j->idem, job->idem_key) == job)
        nq__map_del(&j->idem, job->idem_key);
    j->counts[job->state]--;
    publish_count(j, job->state);
    nq__job_unref(job);
}

void nq__store_retire(nq_jobs *j, nq__job *job)
{
    job->fnext = NULL;
    if (j->ftail)
        j->ftail->fnext = job;
    else
        j->fhead = job;
    j->ftail = job;
    j->n_finished++;
    int keep = j->cfg.max_jobs_kept > 0 ? j->cfg.max_jobs_kept : 1;
    while (j->n_finished > keep) {
        nq__job *old = j->fhead;
        j->fhead = old->fnext;
        if (!j->fhead)
            j->ftail = NULL;
        j->n_finished--;
        drop(j, old);
    }
}

/* At shutdown every local job is finished (the workers are joined), so
 * every job in the map is on the finished list, except mirrored jobs the
 * queue had not yet ended: those are dropped from the map afterwards. */
void nq__store_clear(nq_jobs *j)
{
    while (j->fhead) {
        nq__job *old = j->fhead;
        j->fhead = old->fnext;
        drop(j, old);
    }
    j->ftail = NULL;
    j->n_finished = 0;
    for (size_t i = 0; i < j->ids.n_slots; i++)
        for (nq__map_node *n = j->ids.slots[i]; n; n = n->next)
            nq__job_unref(n->val);
    nq__map_free(&j->ids);
    nq__map_free(&j->idem);
}
