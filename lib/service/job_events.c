/* job_events.c - progress and final events for Server-Sent Events.
 *
 * Each subscription has its own small queue of pending progress texts and
 * one slot for the final event, all guarded by the hub lock, and a
 * condition variable its reader sleeps on. A job keeps its live
 * subscriptions in a list; on the final event it fills each one's final
 * slot and unlinks it, so the final event is delivered exactly once per
 * subscription and nothing is pushed to it afterwards.
 *
 * A slow reader never holds up a job: past SUB_MAX_PENDING progress events
 * the oldest is dropped (progress is a snapshot, the latest one matters).
 * The subscription holds references on its job and on the hub, so it stays
 * readable after the job leaves the store, and even after nq_jobs_free. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nqba/clock.h"
#include "nqba/cond.h"
#include "service_internal.h"

#define SUB_MAX_PENDING 64
#define DUMP_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(17))

struct nq__sub {
    nq__hub *hub;
    nq__job *job;         /* one reference */
    nq__sub *prev, *next; /* in job->subs while linked */
    int linked;
    char *pending[SUB_MAX_PENDING]; /* progress texts, a ring */
    int head, count;
    const char *final_name; /* set once the final event is ready */
    char *final_data;
    int final_done; /* delivered */
    pthread_cond_t cv;
};

/* The public handle is the internal one. */
struct nq_job_sub {
    nq__sub s;
};

static json_t *number_or_null(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

json_t *nq__progress_json(const nq__job *job)
{
    return json_pack("{s:o,s:o,s:o}", "best_energy", number_or_null(job->best_energy), "elapsed_s",
                     number_or_null(job->prog_elapsed), "fraction",
                     number_or_null(job->prog_fraction));
}

json_t *nq__error_json(const nq__job *job)
{
    json_t *ptr = job->err.where[0] ? json_string(job->err.where) : json_null();
    return json_pack("{s:s,s:o,s:s}", "code", job->err_code[0] ? job->err_code : "internal",
                     "pointer", ptr, "detail", job->err.msg);
}

static char *dump_new(json_t *v)
{
    char *text = v ? json_dumps(v, DUMP_FLAGS) : NULL;
    json_decref(v);
    return text;
}

static void push(nq__sub *s, const char *text)
{
    char *copy = strdup(text);
    if (!copy)
        return; /* out of memory: this reader misses one snapshot */
    if (s->count == SUB_MAX_PENDING) {
        free(s->pending[s->head]);
        s->head = (s->head + 1) % SUB_MAX_PENDING;
        s->count--;
    }
    s->pending[(s->head + s->count) % SUB_MAX_PENDING] = copy;
    s->count++;
    pthread_cond_signal(&s->cv);
}

void nq__events_progress(nq__job *job)
{
    if (!job->subs)
        return;
    char *text = dump_new(nq__progress_json(job));
    for (nq__sub *s = job->subs; text && s; s = s->next)
        push(s, text);
    free(text);
}

/* The final event of a finished job: its name and data text. */
static const char *final_event(const nq__job *job, char **data)
{
    switch (job->state) {
    case NQ_JOB_SUCCEEDED:
        *data = job->result_text ? strdup(job->result_text) : NULL;
        return "result";
    case NQ_JOB_FAILED:
        *data = dump_new(nq__error_json(job));
        return "error";
    default:
        *data = dump_new(json_pack("{s:s,s:s}", "id", job->id, "state", "cancelled"));
        return "cancelled";
    }
}

static void set_final(nq__sub *s, const char *name, const char *data)
{
    s->final_name = name;
    s->final_data = strdup(data ? data : "{}");
    pthread_cond_signal(&s->cv);
}

static void unlink_sub(nq__sub *s)
{
    if (!s->linked)
        return;
    if (s->prev)
        s->prev->next = s->next;
    else
        s->job->subs = s->next;
    if (s->next)
        s->next->prev = s->prev;
    s->prev = s->next = NULL;
    s->linked = 0;
}

void nq__events_final(nq__job *job)
{
    if (!job->subs)
        return;
    char *data = NULL;
    const char *name = final_event(job, &data);
    while (job->subs) {
        nq__sub *s = job->subs;
        unlink_sub(s);
        set_final(s, name, data);
    }
    free(data);
}

/* Link a new subscription and give it the job's current state: the final
 * event of a finished job, else the latest progress if there is one. */
static void attach(nq__sub *s, nq__job *job)
{
    if (job->state >= NQ_JOB_SUCCEEDED) {
        char *data = NULL;
        const char *name = final_event(job, &data);
        set_final(s, name, data);
        free(data);
        return;
    }
    s->next = job->subs;
    if (job->subs)
        job->subs->prev = s;
    job->subs = s;
    s->linked = 1;
    if (job->has_progress) {
        char *text = dump_new(nq__progress_json(job));
        if (text)
            push(s, text);
        free(text);
    }
}

int nq_jobs_subscribe(nq_jobs *j, const char *job_id, nq_job_sub **out)
{
    nq_job_sub *h = calloc(1, sizeof *h);
    if (!h || nq_cond_init(&h->s.cv)) {
        free(h);
        return NQ_ENOMEM;
    }
    nq__sub *s = &h->s;
    pthread_mutex_lock(&j->hub->mu);
    nq__job *job = nq__store_find(j, job_id);
    if (!job) {
        pthread_mutex_unlock(&j->hub->mu);
        pthread_cond_destroy(&s->cv);
        free(h);
        return NQ_ENOTFOUND;
    }
    s->hub = j->hub;
    nq__hub_ref(s->hub);
    s->job = job;
    job->refs++;
    attach(s, job);
    pthread_mutex_unlock(&j->hub->mu);
    *out = h;
    return NQ_OK;
}

/* With the lock held: 1 and an event if one is ready, -1 when the final
 * event is gone, 0 when the reader must wait. */
static int take(nq__sub *s, const char **event, char **data)
{
    if (s->count > 0) {
        *event = "progress";
        *data = s->pending[s->head];
        s->head = (s->head + 1) % SUB_MAX_PENDING;
        s->count--;
        return 1;
    }
    if (s->final_done)
        return -1;
    if (!s->final_name)
        return 0;
    *event = s->final_name;
    *data = s->final_data;
    s->final_data = NULL;
    s->final_done = 1;
    return 1;
}

int nq_jobs_next_event(nq_job_sub *h, double timeout, const char **event, char **data)
{
    nq__sub *s = &h->s;
    double deadline = nq_clock_s() + (timeout > 0 ? timeout : 0);
    pthread_mutex_lock(&s->hub->mu);
    int rc;
    while ((rc = take(s, event, data)) == 0 && nq_cond_wait_until(&s->cv, &s->hub->mu, deadline))
        ;
    if (rc == 0)
        rc = take(s, event, data); /* one last look after the timeout */
    pthread_mutex_unlock(&s->hub->mu);
    if (rc == 1 && !*data)
        *data = strdup("{}"); /* out of memory building it: still deliver the event */
    return rc;
}

void nq_jobs_unsubscribe(nq_job_sub *h)
{
    if (!h)
        return;
    nq__sub *s = &h->s;
    nq__hub *hub = s->hub;
    pthread_mutex_lock(&hub->mu);
    unlink_sub(s);
    nq__job_unref(s->job);
    while (s->count > 0) {
        free(s->pending[s->head]);
        s->head = (s->head + 1) % SUB_MAX_PENDING;
        s->count--;
    }
    free(s->final_data);
    pthread_cond_destroy(&s->cv);
    nq__hub_unref_unlock(hub);
    free(h);
}
