/* job_json.c - job snapshots for GET /api/v1/jobs/{id}, results, and the
 * canonical request hash.
 *
 * A result is immutable once its job succeeded, and the job and the cache
 * share it. Its reference count is only ever changed under the hub lock:
 * jansson's inline json_decref reads the count with a plain load before
 * its atomic decrement, which is a data race when two threads drop
 * references at once. Callers therefore get a private deep copy, made
 * outside the lock (reading an immutable value needs none). */
#include <stdlib.h>
#include <string.h>

#include "nqba/clock.h"
#include "nqba/sha256.h"
#include "service_internal.h"

static json_t *time_or_null(double wall, int set)
{
    if (!set)
        return json_null();
    char t[32];
    nq__rfc3339(wall, t);
    return json_string(t);
}

static double elapsed(const nq__job *job)
{
    if (job->state == NQ_JOB_QUEUED || (job->state == NQ_JOB_CANCELLED && !job->started_mono))
        return 0.0;
    double end = job->state == NQ_JOB_RUNNING ? nq_clock_s() : job->finished_mono;
    return end - job->started_mono;
}

/* json_object_set_new frees the value and fails on NULL, so one flag at
 * the end covers every allocation. */
static void put(json_t *o, const char *key, json_t *v, int *bad)
{
    if (json_object_set_new(o, key, v))
        *bad = 1;
}

static json_t *snapshot(const nq__job *job)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    int bad = 0, finished = job->state >= NQ_JOB_SUCCEEDED;
    put(o, "id", json_string(job->id), &bad);
    put(o, "kind", json_string(job->kind), &bad);
    put(o, "state", json_string(nq__state_name(job->state)), &bad);
    put(o, "priority", json_string(nq__prio_name(job->prio)), &bad);
    put(o, "created_at", time_or_null(job->created_wall, 1), &bad);
    put(o, "started_at", time_or_null(job->started_wall, job->started_wall > 0), &bad);
    put(o, "finished_at", time_or_null(job->finished_wall, finished), &bad);
    put(o, "elapsed_s", json_real(elapsed(job)), &bad);
    put(o, "progress", job->has_progress ? nq__progress_json(job) : json_null(), &bad);
    put(o, "cached", json_boolean(job->cached), &bad);
    if (job->state == NQ_JOB_FAILED)
        put(o, "error", nq__error_json(job), &bad);
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* A copy of a shared result on which the caller holds a reference taken
 * under the lock; the reference is dropped under the lock again. */
static json_t *private_copy(nq_jobs *j, json_t *shared)
{
    if (!shared)
        return NULL;
    json_t *copy = json_deep_copy(shared);
    pthread_mutex_lock(&j->hub->mu);
    json_decref(shared);
    pthread_mutex_unlock(&j->hub->mu);
    return copy;
}

json_t *nq_jobs_get(nq_jobs *j, const char *job_id, int with_result)
{
    pthread_mutex_lock(&j->hub->mu);
    nq__job *job = nq__store_find(j, job_id);
    json_t *o = job ? snapshot(job) : NULL;
    int want = o && with_result && job->state == NQ_JOB_SUCCEEDED;
    json_t *shared = want ? json_incref(job->result) : NULL;
    pthread_mutex_unlock(&j->hub->mu);
    if (want && json_object_set_new(o, "result", private_copy(j, shared))) {
        json_decref(o);
        return NULL;
    }
    return o;
}

json_t *nq_jobs_result(nq_jobs *j, const char *job_id)
{
    pthread_mutex_lock(&j->hub->mu);
    nq__job *job = nq__store_find(j, job_id);
    json_t *shared = job && job->state == NQ_JOB_SUCCEEDED ? json_incref(job->result) : NULL;
    pthread_mutex_unlock(&j->hub->mu);
    return private_copy(j, shared);
}

/* Sorted keys and 17 significant digits make the text a function of the
 * JSON value alone, whatever the member order or number spelling the
 * client used ("1.0" and "1.00" are the same real). */
void nq_request_hash(const char *kind, const json_t *request, char out[65])
{
    nq_sha256_ctx c;
    nq_sha256_init(&c);
    nq_sha256_update(&c, kind, strlen(kind));
    nq_sha256_update(&c, "\n", 1);
    char *text = json_dumps(request, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(17) |
                                         JSON_ENCODE_ANY);
    if (text) {
        nq_sha256_update(&c, text, strlen(text));
    } else {
        /* Out of memory: a hash of the kind alone would match other
         * requests, so make it match none. */
        char salt[33];
        nq__make_id(salt);
        nq_sha256_update(&c, salt, 32);
    }
    free(text);
    uint8_t d[NQ_SHA256_LEN];
    nq_sha256_final(&c, d);
    nq_sha256_hex(d, out);
}
