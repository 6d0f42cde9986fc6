/* ratelimit.c - token buckets per key in a bounded LRU table.
 *
 * The table is a chained hash with a fixed slot array (a power of two, at
 * least max_keys, so chains average under one bucket) plus a doubly linked
 * list in order of use. Buckets are allocated on first sight of a key and
 * recycled in place when the table is full, so memory never exceeds
 * max_keys buckets and eviction costs no allocation.
 *
 * Keys come from clients (addresses, user names), so the hash is keyed
 * SipHash with a random key per handle: nobody can aim many keys at one
 * chain without knowing it.
 *
 * Exactness: tests compare retry_after with == after a run of takes, so the
 * arithmetic is kept to a refill, a subtraction and one division, and a
 * millionth of a token of slack absorbs rounding. That slack also makes the
 * promise of retry_after hold: a client that waits exactly that long finds
 * its tokens there. */
#include <math.h>
#include <pthread.h>
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nqba/ratelimit.h"

#define MIN_SLOTS 16
#define TOKEN_SLACK 1e-6

typedef struct bucket {
    struct bucket *chain;       /* next in the same hash slot */
    struct bucket *prev, *next; /* use order, most recent first */
    uint64_t hash;
    double tokens; /* may dip a hair below 0 after a take within the slack */
    double last;   /* the latest now seen: refills count from here */
    size_t key_len;
    char key[NQ_RATELIMIT_KEY_MAX + 1];
} bucket;

struct nq_ratelimit {
    pthread_mutex_t mu; /* guards everything below that changes */
    double rate, burst;
    size_t max_keys;
    nq_ratelimit_shared_fn shared_take;
    void *shared_user;
    unsigned char hash_key[crypto_shorthash_KEYBYTES];
    bucket **slots;
    size_t mask; /* slots - 1 */
    size_t n;
    bucket *head, *tail;
};

/* ---- options --------------------------------------------------------------- */

static int check_opts(const nq_ratelimit_opts *o, size_t *max_keys, nq_err *err)
{
    if (!o)
        return nq_err_set(err, NQ_EINVAL, NULL, "options are required (rate and burst)");
    if (!isfinite(o->rate) || o->rate <= 0)
        return nq_err_set(err, NQ_EINVAL, "rate", "must be a finite number above 0");
    if (!isfinite(o->burst) || o->burst < 1)
        return nq_err_set(err, NQ_EINVAL, "burst", "must be a finite number of tokens, at least 1");
    *max_keys = o->max_keys ? o->max_keys : NQ_RATELIMIT_DEFAULT_MAX_KEYS;
    if (*max_keys > NQ_RATELIMIT_MAX_KEYS_MAX)
        return nq_err_set(err, NQ_EINVAL, "max_keys", "must be at most %u",
                          NQ_RATELIMIT_MAX_KEYS_MAX);
    return NQ_OK;
}

int nq_ratelimit_new(const nq_ratelimit_opts *o, nq_ratelimit **out, nq_err *err)
{
    size_t max_keys = 0;
    if (!out)
        return nq_err_set(err, NQ_EINVAL, NULL, "missing output");
    *out = NULL;
    int rc = check_opts(o, &max_keys, err);
    if (rc)
        return rc;
    if (sodium_init() < 0)
        return nq_err_set(err, NQ_EINTERNAL, NULL, "libsodium failed to start");
    size_t n_slots = MIN_SLOTS;
    while (n_slots < max_keys)
        n_slots *= 2;
    nq_ratelimit *r = calloc(1, sizeof *r);
    bucket **slots = calloc(n_slots, sizeof *slots);
    if (!r || !slots) {
        free(r);
        free(slots);
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory for a rate limiter");
    }
    if (pthread_mutex_init(&r->mu, NULL) != 0) {
        free(r);
        free(slots);
        return nq_err_set(err, NQ_EINTERNAL, NULL, "cannot create a mutex");
    }
    r->rate = o->rate;
    r->burst = o->burst;
    r->max_keys = max_keys;
    r->shared_take = o->shared_take;
    r->shared_user = o->shared_user;
    randombytes_buf(r->hash_key, sizeof r->hash_key);
    r->slots = slots;
    r->mask = n_slots - 1;
    *out = r;
    return NQ_OK;
}

void nq_ratelimit_free(nq_ratelimit *r)
{
    if (!r)
        return;
    bucket *b = r->head;
    while (b) {
        bucket *next = b->next;
        free(b);
        b = next;
    }
    free(r->slots);
    pthread_mutex_destroy(&r->mu);
    free(r);
}

size_t nq_ratelimit_size(const nq_ratelimit *r)
{
    if (!r)
        return 0;
    /* The handle is not const-defined; the lock is bookkeeping, not state. */
    pthread_mutex_t *mu = (pthread_mutex_t *)&r->mu;
    pthread_mutex_lock(mu);
    size_t n = r->n;
    pthread_mutex_unlock(mu);
    return n;
}

/* ---- the table --------------------------------------------------------------- */

static uint64_t key_hash(const nq_ratelimit *r, const char *key, size_t len)
{
    unsigned char h[crypto_shorthash_BYTES];
    crypto_shorthash(h, (const unsigned char *)key, len, r->hash_key);
    uint64_t v = 0;
    for (size_t i = 0; i < sizeof h; i++)
        v = v << 8 | h[i];
    return v;
}

/* The link that points at key's bucket, or at the NULL ending its chain. */
static bucket **find_link(nq_ratelimit *r, const char *key, size_t len, uint64_t hash)
{
    bucket **link = &r->slots[hash & r->mask];
    while (*link && ((*link)->hash != hash || (*link)->key_len != len ||
                     memcmp((*link)->key, key, len) != 0))
        link = &(*link)->chain;
    return link;
}

static void lru_unlink(nq_ratelimit *r, bucket *b)
{
    if (b->prev)
        b->prev->next = b->next;
    else
        r->head = b->next;
    if (b->next)
        b->next->prev = b->prev;
    else
        r->tail = b->prev;
    b->prev = b->next = NULL;
}

static void lru_push_front(nq_ratelimit *r, bucket *b)
{
    b->prev = NULL;
    b->next = r->head;
    if (r->head)
        r->head->prev = b;
    else
        r->tail = b;
    r->head = b;
}

/* Take the least recently used bucket out of the table and hand its memory
 * back for reuse. */
static bucket *evict_lru(nq_ratelimit *r)
{
    bucket *b = r->tail;
    bucket **link = find_link(r, b->key, b->key_len, b->hash);
    *link = b->chain;
    lru_unlink(r, b);
    r->n--;
    return b;
}

/* key's bucket, made full when new and moved to the front of the use
 * order; NULL only when no memory can be had at all. */
static bucket *get_bucket(nq_ratelimit *r, const char *key, size_t len, double now)
{
    uint64_t hash = key_hash(r, key, len);
    bucket **link = find_link(r, key, len, hash);
    bucket *b = *link;
    if (b) {
        lru_unlink(r, b);
        lru_push_front(r, b);
        return b;
    }
    if (r->n < r->max_keys)
        b = malloc(sizeof *b);
    if (!b && r->n == 0)
        return NULL;
    if (!b)
        b = evict_lru(r); /* may change the chain link points into: look again */
    memset(b, 0, sizeof *b);
    b->hash = hash;
    b->key_len = len;
    memcpy(b->key, key, len);
    b->tokens = r->burst;
    b->last = now;
    link = find_link(r, key, len, hash);
    *link = b;
    lru_push_front(r, b);
    r->n++;
    return b;
}

/* ---- the decision ------------------------------------------------------------- */

/* Seconds, rounded up to a millisecond and at least one: a retry_after of 0
 * would invite an immediate, futile retry. */
static double round_up_ms(double s)
{
    double ms = ceil(s * 1000.0);
    return ms < 1 ? 0.001 : ms / 1000.0;
}

static int take_local(nq_ratelimit *r, bucket *b, double now, double cost, double *retry_after)
{
    if (now > b->last) { /* a clock that went back refills nothing until it passes last */
        b->tokens = fmin(r->burst, b->tokens + (now - b->last) * r->rate);
        b->last = now;
    }
    double need = cost - b->tokens;
    if (need <= TOKEN_SLACK) {
        b->tokens -= cost;
        *retry_after = 0;
        return 1;
    }
    *retry_after = round_up_ms((need - TOKEN_SLACK) / r->rate);
    return 0;
}

/* 1 allowed, 0 limited, -1: the store cannot answer, decide locally. */
static int ask_shared(nq_ratelimit *r, const char *key, double now, double cost,
                      double *retry_after)
{
    double ra = 0;
    int rc = r->shared_take(r->shared_user, key, r->rate, r->burst, now, cost, &ra);
    if (rc == 0) {
        *retry_after = 0;
        return 1;
    }
    if (rc == 1 && isfinite(ra)) {
        *retry_after = round_up_ms(ra);
        return 0;
    }
    return -1;
}

int nq_ratelimit_take(nq_ratelimit *r, const char *key, double now, double cost,
                      double *retry_after)
{
    if (retry_after)
        *retry_after = 0;
    if (!r || !key || !retry_after || !isfinite(now))
        return NQ_EINVAL;
    size_t len = strnlen(key, NQ_RATELIMIT_KEY_MAX + 1);
    if (len == 0 || len > NQ_RATELIMIT_KEY_MAX)
        return NQ_EINVAL;
    if (!isfinite(cost) || cost <= 0 || cost > r->burst)
        return NQ_EINVAL;
    if (r->shared_take) { /* outside the lock: the store is across a network */
        int rc = ask_shared(r, key, now, cost, retry_after);
        if (rc >= 0)
            return rc;
    }
    pthread_mutex_lock(&r->mu);
    bucket *b = get_bucket(r, key, len, now);
    int rc = b ? take_local(r, b, now, cost, retry_after) : 1;
    pthread_mutex_unlock(&r->mu);
    return rc;
}
