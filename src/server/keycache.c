/* keycache.c - API-key records remembered for a few seconds, so a client
 * sending its key on every request costs a keyed hash, not a database
 * query. Only records found in the store are kept (with their hash, never
 * the key); each request still checks its key against the hash, the expiry
 * and the revocation time. A key revoked on this node is dropped at once;
 * on other nodes it stops working within SRV_KEYCACHE_TTL seconds.
 *
 * A fixed table of slots chosen by a hash of the prefix: a collision simply
 * replaces the older record, so memory stays fixed whatever clients send. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "srv.h"

#define SLOTS 1024

typedef struct slot {
    char prefix[16]; /* "" when empty */
    double fetched;  /* monotonic seconds */
    nq_apikey_rec rec;
} slot;

struct srv_keycache {
    pthread_mutex_t mu;
    slot s[SLOTS];
};

static size_t slot_of(const char *prefix)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)prefix; *p; p++)
        h = (h ^ *p) * 16777619u;
    return h % SLOTS;
}

int srv_keycache_new(srv_keycache **out)
{
    srv_keycache *k = calloc(1, sizeof *k);
    if (!k || pthread_mutex_init(&k->mu, NULL) != 0) {
        free(k);
        return NQ_ENOMEM;
    }
    *out = k;
    return NQ_OK;
}

void srv_keycache_free(srv_keycache *k)
{
    if (!k)
        return;
    pthread_mutex_destroy(&k->mu);
    free(k);
}

int srv_keycache_get(srv_keycache *k, const char *prefix, double now, nq_apikey_rec *rec)
{
    if (!k || strlen(prefix) >= sizeof k->s[0].prefix)
        return 0;
    slot *s = &k->s[slot_of(prefix)];
    pthread_mutex_lock(&k->mu);
    int hit = !strcmp(s->prefix, prefix) && now - s->fetched < SRV_KEYCACHE_TTL &&
              now >= s->fetched;
    if (hit)
        *rec = s->rec;
    pthread_mutex_unlock(&k->mu);
    return hit;
}

void srv_keycache_put(srv_keycache *k, const char *prefix, const nq_apikey_rec *rec, double now)
{
    if (!k || strlen(prefix) >= sizeof k->s[0].prefix)
        return;
    slot *s = &k->s[slot_of(prefix)];
    pthread_mutex_lock(&k->mu);
    memcpy(s->prefix, prefix, strlen(prefix) + 1);
    s->fetched = now;
    s->rec = *rec;
    pthread_mutex_unlock(&k->mu);
}

void srv_keycache_drop(srv_keycache *k, const char *prefix)
{
    if (!k || strlen(prefix) >= sizeof k->s[0].prefix)
        return;
    slot *s = &k->s[slot_of(prefix)];
    pthread_mutex_lock(&k->mu);
    if (!strcmp(s->prefix, prefix))
        s->prefix[0] = '\0';
    pthread_mutex_unlock(&k->mu);
}
