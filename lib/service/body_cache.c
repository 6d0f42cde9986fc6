/* body_cache.c - repeats of a byte-identical request body skip parsing,
 * validation and job creation: the body's hash maps to the job that
 * answered it and that answer's text.
 *
 * This sits in front of the canonical cache (cache.c), which needs the
 * parsed document: on a loaded server a cached decision cost ~360 us of
 * server CPU, of which parsing, validating, hashing the canonical form and
 * creating a job were ~75%. Clients that repeat a request usually send the
 * same bytes, so matching bytes first is the cheap common case; a body
 * that differs only in member order or spacing still reaches the canonical
 * cache. Entries live in an LRU of the same capacity, under the hub lock;
 * an entry whose job was dropped from the store is dropped too. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nqba/sha256.h"
#include "service_internal.h"

void nq_jobs_body_key(const char *kind, const char *body, size_t len, char key[65])
{
    nq_sha256_ctx c;
    uint8_t d[NQ_SHA256_LEN];
    nq_sha256_init(&c);
    nq_sha256_update(&c, "body\n", 5); /* never equal to a canonical hash's input */
    nq_sha256_update(&c, kind, strlen(kind));
    nq_sha256_update(&c, "\n", 1);
    if (body)
        nq_sha256_update(&c, body, len);
    nq_sha256_final(&c, d);
    nq_sha256_hex(d, key);
}

/* {"job": id, "text": the answer}: the text is the worker's own output,
 * valid UTF-8 by construction, so it is not checked again. */
static json_t *entry_new(const char *job_id, const nq__job *job)
{
    json_t *e = json_object();
    if (e && (json_object_set_new(e, "job", json_string(job_id)) ||
              json_object_set_new(e, "text",
                                  json_stringn_nocheck(job->result_text, job->result_len)))) {
        json_decref(e);
        return NULL;
    }
    return e;
}

void nq_jobs_remember_body(nq_jobs *j, const char key[65], const char *job_id)
{
    if (!j->body_cache)
        return;
    pthread_mutex_lock(&j->hub->mu);
    nq__job *job = nq__store_find(j, job_id);
    json_t *entry = NULL;
    if (job && job->state == NQ_JOB_SUCCEEDED && job->result_text)
        entry = entry_new(job_id, job);
    if (entry)
        nq__cache_put(j->body_cache, key, entry);
    json_decref(entry); /* under the lock: only one thread ever counts its references */
    pthread_mutex_unlock(&j->hub->mu);
}

char *nq_jobs_lookup_body(nq_jobs *j, const char key[65], char job_id[33], size_t *len)
{
    if (!j->body_cache)
        return NULL;
    char *text = NULL;
    pthread_mutex_lock(&j->hub->mu);
    const json_t *entry = nq__cache_peek(j->body_cache, key);
    const char *id = entry ? json_string_value(json_object_get(entry, "job")) : NULL;
    if (id && nq__store_find(j, id)) {
        /* Copies made under the lock: no JSON value crosses threads. */
        const json_t *t = json_object_get(entry, "text");
        size_t n = json_string_length(t);
        if ((text = malloc(n + 1))) {
            memcpy(text, json_string_value(t), n + 1);
            *len = n;
            snprintf(job_id, 33, "%s", id);
        }
    } else if (entry) {
        nq__cache_remove(j->body_cache, key);
    }
    pthread_mutex_unlock(&j->hub->mu);
    if (text && j->metrics)
        nq_metrics_inc(j->metrics, "nqba_cache_hits_total", NULL, 1);
    return text;
}
