/* rcache.h - an optional result cache in Redis, shared by several server
 * nodes, so an answer computed on one node is a hit on the others.
 *
 *   nq_rcache_open("redis://:pw@cache:6379/0", NULL, &c, &err)
 *   nq_rcache_get(c, hash, &value, &len, &err)   NQ_OK / NQ_ENOTFOUND / NQ_EUNAVAIL
 *   nq_rcache_set(c, hash, value, len, 0, &err)  SET prefix+hash value EX ttl
 *   nq_rcache_stats(c, &st)                      counters for /metrics
 *   nq_rcache_close(c)
 *
 * A cache must never make a request slow or make the server fail, so:
 * - every connect and command has a timeout (default 100 ms);
 * - opening succeeds while Redis is down (the handle starts "down");
 * - a failed command drops its connection and marks the cache down for a
 *   backoff (0.5 s, doubling up to 30 s) during which get and set return
 *   NQ_EUNAVAIL at once, without touching the network; the first call
 *   after the backoff tries to reconnect, and one success brings it up.
 * Callers treat NQ_EUNAVAIL as a miss. The library never logs; the server
 * reads nq_rcache_stats to count, log state changes and export metrics.
 *
 * Thread-safe: a handle keeps a small pool of connections, each used by
 * one thread at a time. See docs/internals/rcache.md. */
#ifndef NQBA_RCACHE_H
#define NQBA_RCACHE_H

#include <stddef.h>
#include <stdint.h>

#include "nqba/err.h"

typedef struct nq_rcache nq_rcache;

#define NQ_RCACHE_VALUE_MAX (16u * 1024 * 1024) /* bytes; bigger values: NQ_ELIMIT */
#define NQ_RCACHE_KEY_MAX 256                   /* bytes of a key, without the prefix */
#define NQ_RCACHE_PREFIX_MAX 64                 /* bytes of the key prefix */
#define NQ_RCACHE_POOL_MAX 64                   /* connections per handle */
#define NQ_RCACHE_TIMEOUT_MAX_MS 60000
#define NQ_RCACHE_DB_MAX 65535
#define NQ_RCACHE_TTL_MAX_S (366 * 24 * 3600) /* a year: longer is surely a mistake */

#define NQ_RCACHE_DEFAULT_TIMEOUT_MS 100
#define NQ_RCACHE_DEFAULT_PREFIX "nqba:"
#define NQ_RCACHE_DEFAULT_TTL_S 3600
#define NQ_RCACHE_DEFAULT_POOL 4
#define NQ_RCACHE_BACKOFF_MIN_MS 500
#define NQ_RCACHE_BACKOFF_MAX_MS 30000

/* Options; a zeroed struct (or NULL) means every default. */
typedef struct nq_rcache_opts {
    int connect_timeout_ms; /* 0 = 100; 1..NQ_RCACHE_TIMEOUT_MAX_MS */
    int command_timeout_ms; /* 0 = 100; a command fails after this long without progress */
    const char *prefix;     /* NULL = "nqba:"; "" = none; printable, no spaces */
    int default_ttl_s;      /* 0 = 3600; 1..NQ_RCACHE_TTL_MAX_S */
    int pool_size;          /* 0 = 4; 1..NQ_RCACHE_POOL_MAX */
} nq_rcache_opts;

/* A parsed URL: redis://[[user]:password@]host[:port][/db]. user and
 * password are percent-decoded; the port defaults to 6379, the db to 0.
 * The struct holds the password: wipe it when done with it. */
#define NQ_RCACHE_HOST_MAX 256
#define NQ_RCACHE_SECRET_MAX 256
typedef struct nq_rcache_url {
    char host[NQ_RCACHE_HOST_MAX];       /* name or address; IPv6 without brackets */
    int port;                            /* 1..65535 */
    int db;                              /* 0..NQ_RCACHE_DB_MAX */
    char user[NQ_RCACHE_SECRET_MAX];     /* "" = the default user */
    char password[NQ_RCACHE_SECRET_MAX]; /* "" = no AUTH */
} nq_rcache_url;

/* Parse strictly: NQ_EINVAL with where "redis_url" and a message that
 * names the wrong part ("scheme", "userinfo", "password", "host", "port",
 * "db", "query"). Messages never quote the URL, so never the password. */
int nq_rcache_url_parse(const char *url, nq_rcache_url *out, nq_err *err);

/* Parse url and o, then try one connection (bounded by the connect
 * timeout). Fails only for a bad URL or options (NQ_EINVAL) or memory
 * (NQ_ENOMEM): with Redis unreachable *out is a handle in the down state. */
int nq_rcache_open(const char *url, const nq_rcache_opts *o, nq_rcache **out, nq_err *err);

/* NULL is a no-op. No call on c may be running. */
void nq_rcache_close(nq_rcache *c);

/* NQ_OK when Redis answers PING, NQ_EUNAVAIL when it does not or while
 * the cache waits out a backoff (then without touching the network). */
int nq_rcache_ping(nq_rcache *c, nq_err *err);

/* Look key up. NQ_OK: *value is a malloc'd copy (caller frees; binary
 * data of *len bytes, with a NUL after them for convenience);
 * NQ_ENOTFOUND: a miss; NQ_EUNAVAIL: Redis is down or failed (treat it as
 * a miss); NQ_EINVAL: a bad key (empty, longer than NQ_RCACHE_KEY_MAX,
 * spaces or control characters); NQ_ELIMIT: the stored value is over
 * NQ_RCACHE_VALUE_MAX (someone else wrote it). *value is NULL and *len 0
 * unless NQ_OK. */
int nq_rcache_get(nq_rcache *c, const char *key, char **value, size_t *len, nq_err *err);

/* SET prefix+key value EX ttl_s (0 = the default TTL; negative or above
 * NQ_RCACHE_TTL_MAX_S: NQ_EINVAL). value may hold any bytes (NULL when
 * len is 0). len above NQ_RCACHE_VALUE_MAX: NQ_ELIMIT, nothing sent.
 * NQ_EUNAVAIL as for get. */
int nq_rcache_set(nq_rcache *c, const char *key, const char *value, size_t len, int ttl_s,
                  nq_err *err);

/* A token bucket shared by every node (rate limits): take cost tokens from
 * the bucket named key (prefix + key in Redis), which holds at most burst
 * tokens and refills at rate per second on Redis's clock. *allowed is 1
 * when taken; else 0 with *retry_after the seconds until cost tokens are
 * there (>= 0.001). NQ_EINVAL for a bad key or numbers; NQ_EUNAVAIL as for
 * get (the caller then decides locally). One round trip (EVAL). */
int nq_rcache_take(nq_rcache *c, const char *key, double rate, double burst, double cost,
                   int *allowed, double *retry_after, nq_err *err);

#define NQ_RCACHE_LAST_ERROR_MAX 128
typedef struct nq_rcache_stats_t {
    uint64_t hits;    /* get found the key */
    uint64_t misses;  /* get did not (NQ_ENOTFOUND) */
    uint64_t errors;  /* connects and commands that failed */
    uint64_t sets;    /* set stored a value */
    uint64_t skipped; /* calls answered NQ_EUNAVAIL without the network (backoff, pool busy) */
    uint64_t downs;   /* times the cache went from up to down */
    int up;           /* 1 up, 0 down */
    char last_error[NQ_RCACHE_LAST_ERROR_MAX]; /* the last failure, "" if none */
} nq_rcache_stats_t;

/* A consistent snapshot of the counters. */
void nq_rcache_stats(nq_rcache *c, nq_rcache_stats_t *s);

#endif
