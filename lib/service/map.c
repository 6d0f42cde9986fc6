/* map.c - a string-keyed chained hash map for job ids, idempotency keys
 * and cache entries. Keys are copied; values are borrowed. The table
 * doubles when it holds more entries than slots, so chains stay short. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nqba/strhash.h"
#include "service_internal.h"

#define MAP_MIN_SLOTS 64

/* Keys are ids, SHA-256 hex and client-chosen header values. */
static size_t key_hash(const char *s)
{
    return (size_t)nq_str_hash(s);
}

void nq__map_init(nq__map *m)
{
    memset(m, 0, sizeof *m);
}

static nq__map_node **find_link(const nq__map *m, const char *key)
{
    if (!m->n_slots)
        return NULL;
    nq__map_node **link = &m->slots[key_hash(key) & (m->n_slots - 1)];
    while (*link && strcmp((*link)->key, key) != 0)
        link = &(*link)->next;
    return link;
}

static int grow(nq__map *m)
{
    size_t ns = m->n_slots ? m->n_slots * 2 : MAP_MIN_SLOTS;
    nq__map_node **slots = calloc(ns, sizeof *slots);
    if (!slots)
        return NQ_ENOMEM;
    for (size_t i = 0; i < m->n_slots; i++) {
        nq__map_node *n = m->slots[i];
        while (n) {
            nq__map_node *next = n->next;
            size_t k = key_hash(n->key) & (ns - 1);
            n->next = slots[k];
            slots[k] = n;
            n = next;
        }
    }
    free(m->slots);
    m->slots = slots;
    m->n_slots = ns;
    return NQ_OK;
}

int nq__map_put(nq__map *m, const char *key, void *val)
{
    nq__map_node **link = find_link(m, key);
    if (link && *link) {
        (*link)->val = val;
        return NQ_OK;
    }
    if (m->n >= m->n_slots && grow(m))
        return NQ_ENOMEM;
    nq__map_node *n = malloc(sizeof *n);
    char *k = strdup(key);
    if (!n || !k) {
        free(n);
        free(k);
        return NQ_ENOMEM;
    }
    size_t slot = key_hash(key) & (m->n_slots - 1);
    n->key = k;
    n->val = val;
    n->next = m->slots[slot];
    m->slots[slot] = n;
    m->n++;
    return NQ_OK;
}

void *nq__map_get(const nq__map *m, const char *key)
{
    nq__map_node **link = find_link(m, key);
    return link && *link ? (*link)->val : NULL;
}

void *nq__map_del(nq__map *m, const char *key)
{
    nq__map_node **link = find_link(m, key);
    if (!link || !*link)
        return NULL;
    nq__map_node *n = *link;
    void *val = n->val;
    *link = n->next;
    free(n->key);
    free(n);
    m->n--;
    return val;
}

void nq__map_free(nq__map *m)
{
    for (size_t i = 0; i < m->n_slots; i++) {
        nq__map_node *n = m->slots[i];
        while (n) {
            nq__map_node *next = n->next;
            free(n->key);
            free(n);
            n = next;
        }
    }
    free(m->slots);
    nq__map_init(m);
}
