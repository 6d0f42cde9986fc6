/* ratelimit.h - token-bucket rate limiting per key (a client IP, a user, an
 * API key): "allowed, or retry after N seconds".
 *
 *   nq_ratelimit_opts o = {.rate = 10, .burst = 20};
 *   nq_ratelimit_new(&o, &r, &err)
 *   nq_ratelimit_take(r, "ip:192.0.2.7", now, 1, &retry)   1 allowed / 0 limited
 *   nq_ratelimit_free(r)
 *
 * Each key owns a bucket of at most burst tokens that refills at rate tokens
 * per second; a request takes cost tokens or is refused. A key seen for the
 * first time starts with a full bucket.
 *
 * Time is a parameter (seconds on any clock that only the caller reads), so
 * answers are exact and tests need no sleeping. A clock that goes backwards
 * mints nothing: the bucket refills only for time past the latest now seen.
 *
 * Memory is bounded: at most max_keys buckets. When the table is full the
 * least recently used bucket is dropped; its client comes back with a full
 * bucket, which errs on the side of availability and keeps memory fixed.
 *
 * Several server nodes can share their limits through shared_take (the
 * server implements it on Redis). When set it is asked first, outside the
 * lock; only when it answers -1 (store unavailable) does the local bucket
 * decide, so a store outage degrades to per-node limits, not to no limits.
 *
 * Thread-safe: one mutex per handle guards the table. No global state. */
#ifndef NQBA_RATELIMIT_H
#define NQBA_RATELIMIT_H

#include <stddef.h>

#include "nqba/err.h"

typedef struct nq_ratelimit nq_ratelimit;

#define NQ_RATELIMIT_KEY_MAX 128             /* bytes of a key, without the NUL */
#define NQ_RATELIMIT_DEFAULT_MAX_KEYS 100000 /* buckets held when max_keys is 0 */
#define NQ_RATELIMIT_MAX_KEYS_MAX (1u << 24) /* a larger table is surely a mistake */

/* The shared store. Take cost tokens from key's bucket (the same rate and
 * burst as the local one) at time now. Return 0 allowed, 1 limited with
 * *retry_after set (seconds, > 0), -1 unavailable (the local bucket then
 * decides). Any other answer, or a limited answer without a finite
 * retry_after, counts as unavailable. Called without the handle's lock
 * held, from any thread. */
typedef int (*nq_ratelimit_shared_fn)(void *user, const char *key, double rate, double burst,
                                      double now, double cost, double *retry_after);

/* Options; there is no useful default for rate and burst. */
typedef struct nq_ratelimit_opts {
    double rate;                        /* tokens per second; finite, > 0 */
    double burst;                       /* bucket capacity in tokens; finite, >= 1 */
    size_t max_keys;                    /* 0 = 100000; 1..NQ_RATELIMIT_MAX_KEYS_MAX */
    nq_ratelimit_shared_fn shared_take; /* NULL = local buckets only */
    void *shared_user;                  /* passed to shared_take as is */
} nq_ratelimit_opts;

/* Check o and make a limiter with no buckets yet. NQ_EINVAL (where names
 * the option) for a bad option, NQ_ENOMEM, NQ_EINTERNAL when libsodium
 * (the keyed hash) cannot start. */
int nq_ratelimit_new(const nq_ratelimit_opts *o, nq_ratelimit **out, nq_err *err);

/* NULL is a no-op. No call on r may be running. */
void nq_ratelimit_free(nq_ratelimit *r);

/* Take cost tokens from key's bucket at time now (seconds).
 * Returns 1 when allowed (the tokens are taken), 0 when limited, with
 * *retry_after the seconds until cost tokens will be there (> 0, rounded
 * up to a millisecond); *retry_after is 0 when allowed.
 * Returns NQ_EINVAL (-1) for a NULL r or retry_after, a key that is empty
 * or longer than NQ_RATELIMIT_KEY_MAX bytes, a now that is not finite, or
 * a cost that is not finite, not > 0 or above burst (such a request could
 * never pass). Should memory for a new bucket run out with the table
 * empty, the request is allowed: a limiter must not take the server down. */
int nq_ratelimit_take(nq_ratelimit *r, const char *key, double now, double cost,
                      double *retry_after);

/* The number of buckets held now (0 for NULL). */
size_t nq_ratelimit_size(const nq_ratelimit *r);

#endif
