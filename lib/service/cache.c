/* cache.c - the result cache: an LRU map from a request hash to the
 * result of a job that succeeded (its text, held as a JSON string), or,
 * for the body cache, to a small entry object.
 *
 * Values are immutable once put, and their reference counts change only
 * under the lock. Every call runs under the hub lock (a lookup is a
 * map probe and two pointer moves), so the cache needs no lock of its own.
 * Failed and cancelled jobs are never cached: the jobs module only puts
 * results of jobs that succeeded. */
#include <stdlib.h>
#include <string.h>

#include "service_internal.h"

typedef struct entry {
    char hash[65];
    json_t *result;
    struct entry *prev, *next; /* most recently used first */
} entry;

struct nq__cache {
    nq__map map; /* hash -> entry */
    entry *head, *tail;
    int n, capacity;
};

int nq__cache_new(int capacity, nq__cache **out)
{
    nq__cache *c = calloc(1, sizeof *c);
    if (!c)
        return NQ_ENOMEM;
    nq__map_init(&c->map);
    c->capacity = capacity;
    *out = c;
    return NQ_OK;
}

static void unlink_entry(nq__cache *c, entry *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        c->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        c->tail = e->prev;
    e->prev = e->next = NULL;
}

static void push_front(nq__cache *c, entry *e)
{
    e->prev = NULL;
    e->next = c->head;
    if (c->head)
        c->head->prev = e;
    else
        c->tail = e;
    c->head = e;
}

static void drop(nq__cache *c, entry *e)
{
    unlink_entry(c, e);
    nq__map_del(&c->map, e->hash);
    json_decref(e->result);
    free(e);
    c->n--;
}

void nq__cache_free(nq__cache *c)
{
    if (!c)
        return;
    while (c->head)
        drop(c, c->head);
    nq__map_free(&c->map);
    free(c);
}

const json_t *nq__cache_peek(nq__cache *c, const char *hash)
{
    entry *e = nq__map_get(&c->map, hash);
    if (!e)
        return NULL;
    unlink_entry(c, e);
    push_front(c, e);
    return e->result;
}

void nq__cache_remove(nq__cache *c, const char *hash)
{
    entry *e = nq__map_get(&c->map, hash);
    if (e)
        drop(c, e);
}

void nq__cache_put(nq__cache *c, const char *hash, json_t *result)
{
    entry *e = nq__map_get(&c->map, hash);
    if (e) { /* two identical jobs ran at once: keep the first answer */
        unlink_entry(c, e);
        push_front(c, e);
        return;
    }
    e = calloc(1, sizeof *e);
    if (!e)
        return; /* out of memory: the result is simply not cached */
    memcpy(e->hash, hash, sizeof e->hash);
    if (nq__map_put(&c->map, hash, e)) {
        free(e);
        return;
    }
    e->result = json_incref(result);
    push_front(c, e);
    c->n++;
    while (c->n > c->capacity)
        drop(c, c->tail);
}

void nq__cache_put_text(nq__cache *c, const char *hash, const char *text, size_t len)
{
    json_t *v = json_stringn_nocheck(text, len); /* the worker's own output: valid UTF-8 */
    if (v)
        nq__cache_put(c, hash, v);
    json_decref(v);
}

const char *nq__cache_get_text(nq__cache *c, const char *hash, size_t *len)
{
    const json_t *v = nq__cache_peek(c, hash);
    if (!json_is_string(v))
        return NULL;
    *len = json_string_length(v);
    return json_string_value(v);
}
