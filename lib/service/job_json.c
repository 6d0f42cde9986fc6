/* job_json.c - job snapshots for GET /api/v1/jobs/{id}, results, and the
 * canonical request hash.
 *
 * A job keeps its result as text, written once by its worker. Callers get
 * their own copy of the bytes, taken under the hub lock, and parse it (if
 * they want a document) outside the lock. No JSON value is shared between
 * threads: jansson's inline json_decref reads the count with a plain load
 * before its atomic decrement, a data race when two threads drop
 * references at once. */
#include <stdlib.h>
#include <string.h>

#include "canon.h"
#include "nqba/clock.h"
#include "nqba/sha256.h"
#include "service_internal.h"

static json_t *time_or_null(double wall, int set)
{
    if (!set)
        return json_null();
    char t[32];
    nq_clock_rfc3339(wall, t);
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
    put(o, "state", json_string(nq_job_state_name(job->state)), &bad);
    put(o, "priority", json_string(nq_job_priority_name(job->prio)), &bad);
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

/* A copy of a succeeded job's result text (NULL otherwise), made under
 * the lock; *len its length. */
static char *text_copy(nq__job *job, size_t *len)
{
    if (!job || job->state != NQ_JOB_SUCCEEDED || !job->result_text)
        return NULL;
    char *copy = malloc(job->result_len + 1);
    if (copy) {
        memcpy(copy, job->result_text, job->result_len + 1);
        *len = job->result_len;
    }
    return copy;
}

/* The result as a new document, parsed outside the lock. */
static json_t *parse_text(char *text, size_t len)
{
    json_t *v = text ? json_loadb(text, len, 0, NULL) : NULL;
    free(text);
    return v;
}

json_t *nq_jobs_get(nq_jobs *j, const char *job_id, int with_result)
{
    size_t len = 0;
    char *text = NULL;
    pthread_mutex_lock(&j->hub->mu);
    nq__job *job = nq__store_find(j, job_id);
    json_t *o = job ? snapshot(job) : NULL;
    int want = o && with_result && job->state == NQ_JOB_SUCCEEDED;
    if (want)
        text = text_copy(job, &len);
    pthread_mutex_unlock(&j->hub->mu);
    if (want && json_object_set_new(o, "result", parse_text(text, len))) {
        json_decref(o);
        return NULL;
    }
    return o;
}

json_t *nq_jobs_result(nq_jobs *j, const char *job_id)
{
    size_t len = 0;
    pthread_mutex_lock(&j->hub->mu);
    char *text = text_copy(nq__store_find(j, job_id), &len);
    pthread_mutex_unlock(&j->hub->mu);
    return parse_text(text, len);
}

char *nq_jobs_result_text(nq_jobs *j, const char *job_id, size_t *len)
{
    pthread_mutex_lock(&j->hub->mu);
    char *text = text_copy(nq__store_find(j, job_id), len);
    pthread_mutex_unlock(&j->hub->mu);
    return text;
}

static void hash_text(void *arg, const char *text, size_t len)
{
    nq_sha256_update(arg, text, len);
}

/* Sorted keys and 17 significant digits make the text a function of the
 * JSON value alone, whatever the member order or number spelling the
 * client used ("1.0" and "1.00" are the same real). The text is the one
 * jansson's dumper writes with those flags (canon.c), so hashes agree
 * with nodes that still use it; it streams into the hash: no copy of a
 * document that may be large. */
void nq_request_hash(const char *kind, const json_t *request, char out[65])
{
    nq_sha256_ctx c;
    nq_sha256_init(&c);
    nq_sha256_update(&c, kind, strlen(kind));
    nq_sha256_update(&c, "\n", 1);
    if (nq__canon_write(request, hash_text, &c)) {
        /* Out of memory, or a value jansson cannot dump: a hash of what
         * was written so far could match other requests, so make it
         * match none. */
        char salt[33];
        nq__make_id(salt);
        nq_sha256_update(&c, salt, 32);
    }
    uint8_t d[NQ_SHA256_LEN];
    nq_sha256_final(&c, d);
    nq_sha256_hex(d, out);
}
