/* rcache.c - the shared result cache in Redis (hiredis, synchronous).
 *
 * Pool: up to pool_size connections, opened lazily, kept on a stack of
 * idle ones under a mutex; a caller waits for a free one at most the
 * command timeout, then gives up (a busy pool must not slow a request).
 *
 * State: up or down. Any failure (connect, I/O, timeout, an error reply)
 * drops that connection and every idle one, since a Redis that failed one
 * of them has most likely dropped them all, and marks the cache down
 * until a backoff has passed. While down, calls return NQ_EUNAVAIL under
 * the lock, without a syscall. After the backoff exactly one call (the
 * probe) dials a fresh connection; while it runs, the others still return
 * at once. Its success brings the cache up; its failure doubles the
 * backoff (0.5 s up to 30 s). A command that was already running when the
 * cache went down neither extends the backoff nor brings it up.
 *
 * hiredis writes with write(2), so a write to a connection the server has
 * reset raises SIGPIPE, whose default action ends the process. The
 * library must not change process-wide signal handling, so each call
 * blocks SIGPIPE in its own thread and consumes one that it raised (as
 * libpq does). */
#include "nqba/rcache.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>

#include "nqba/clock.h"
#include "nqba/cond.h"
#include "nqba/hex.h"

#define DEFAULT_PORT 6379
#define FULL_KEY_MAX (NQ_RCACHE_PREFIX_MAX + NQ_RCACHE_KEY_MAX)

struct nq_rcache {
    nq_rcache_url url;
    char prefix[NQ_RCACHE_PREFIX_MAX + 1];
    size_t prefix_len;
    int connect_ms, command_ms, ttl_s, pool_size;

    pthread_mutex_t mu;
    pthread_cond_t freed; /* a connection went back or away; CLOCK_MONOTONIC */
    redisContext *idle[NQ_RCACHE_POOL_MAX];
    int n_idle;
    int n_open;     /* idle + leased + being dialled */
    int up;         /* see the state notes above */
    int probing;    /* a probe is running */
    int backoff_ms; /* 0 until the first failed probe */
    uint64_t retry_at_ns;
    nq_rcache_stats_t st; /* counters (st.up unused: up is the truth) */
};

/* A connection taken from the pool for one command. */
typedef struct lease {
    redisContext *ctx;
    int probe; /* this call decides whether a down cache comes back up */
} lease;

typedef enum outcome { DONE_HIT, DONE_MISS, DONE_SET, DONE_OK, DONE_FAIL } outcome;

/* ---- URL ------------------------------------------------------------------- */

static int url_fail(nq_err *err, const char *part, const char *why)
{
    return nq_err_set(err, NQ_EINVAL, "redis_url", "%s: %s", part, why);
}

/* Percent-decode s[0..n) into out (cap bytes with the NUL). Bytes are
 * copied as they are except controls, which no password needs and which
 * mostly come from a broken paste. */
static int decode_part(const char *s, size_t n, char *out, size_t cap, const char *part,
                       nq_err *err)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '%') {
            int hi = i + 2 < n ? nq_hex_value(s[i + 1]) : -1;
            int lo = i + 2 < n ? nq_hex_value(s[i + 2]) : -1;
            if (hi < 0 || lo < 0)
                return url_fail(err, part, "bad percent-encoding (%XX)");
            ch = (unsigned char)(hi * 16 + lo);
            if (ch == 0)
                return url_fail(err, part, "contains a NUL byte");
            i += 2;
        } else if (ch < 0x20 || ch == 0x7f) {
            return url_fail(err, part, "contains a control character");
        }
        if (k + 1 >= cap)
            return url_fail(err, part, "too long");
        out[k++] = (char)ch;
    }
    out[k] = '\0';
    return NQ_OK;
}

/* "[user]:password" in s[0..n). */
static int parse_userinfo(const char *s, size_t n, nq_rcache_url *u, nq_err *err)
{
    const char *colon = memchr(s, ':', n);
    if (!colon)
        return url_fail(err, "userinfo", "expected [user]:password before '@'");
    size_t ulen = (size_t)(colon - s);
    int rc = decode_part(s, ulen, u->user, sizeof u->user, "user", err);
    if (rc)
        return rc;
    if (ulen + 1 == n)
        return url_fail(err, "password", "is empty");
    return decode_part(colon + 1, n - ulen - 1, u->password, sizeof u->password, "password", err);
}

static int host_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '.' || ch == '-' || ch == '_';
}

static int is_end(char ch)
{
    return ch == '\0' || ch == '/' || ch == '?' || ch == '#';
}

/* A host name, an IPv4 address or a bracketed IPv6 address at *p. */
static int parse_host(const char **p, nq_rcache_url *u, nq_err *err)
{
    const char *s = *p, *end;
    if (*s == '[') {
        end = s + 1;
        while (nq_hex_value(*end) >= 0 || *end == ':' || *end == '.')
            end++;
        if (*end != ']')
            return url_fail(err, "host", "an IPv6 address needs a closing ']'");
        s++;
        *p = end + 1;
    } else {
        end = s;
        while (host_char(*end))
            end++;
        *p = end;
    }
    size_t n = (size_t)(end - s);
    if (n == 0)
        return url_fail(err, "host", "missing");
    if (n >= sizeof u->host)
        return url_fail(err, "host", "too long");
    if (**p != ':' && !is_end(**p))
        return url_fail(err, "host", "contains a character not allowed in a host name");
    memcpy(u->host, s, n);
    u->host[n] = '\0';
    return NQ_OK;
}

/* Decimal digits at *p, at most max; -1 when there are none or too many. */
static long parse_number(const char **p, long max)
{
    const char *s = *p;
    long v = 0;
    if (*s < '0' || *s > '9')
        return -1;
    for (; *s >= '0' && *s <= '9'; s++) {
        v = v * 10 + (*s - '0');
        if (v > max)
            return -1;
    }
    *p = s;
    return v;
}

static int parse_port_db(const char **p, nq_rcache_url *u, nq_err *err)
{
    if (**p == ':') {
        (*p)++;
        long port = parse_number(p, 65535);
        if (port < 1 || !is_end(**p))
            return url_fail(err, "port", "must be a number in 1..65535");
        u->port = (int)port;
    }
    if (**p == '/') {
        (*p)++;
        if (!is_end(**p) || **p == '/') {
            long db = parse_number(p, NQ_RCACHE_DB_MAX);
            if (db < 0 || !is_end(**p) || **p == '/')
                return url_fail(err, "db", "must be a database number in 0..65535");
            u->db = (int)db;
        }
    }
    return NQ_OK;
}

int nq_rcache_url_parse(const char *url, nq_rcache_url *out, nq_err *err)
{
    static const char scheme[] = "redis://";
    memset(out, 0, sizeof *out);
    out->port = DEFAULT_PORT;
    if (!url || !url[0])
        return url_fail(err, "scheme", "no URL given (redis://host:port)");
    if (strncasecmp(url, "rediss://", 9) == 0)
        return url_fail(err, "scheme", "rediss:// (TLS) is not supported");
    if (strncasecmp(url, scheme, sizeof scheme - 1) != 0)
        return url_fail(err, "scheme", "must be redis://");
    const char *p = url + sizeof scheme - 1;
    /* The last '@': a password may hold a raw '/' or '@' (often does, when
     * it is base64), the host, port and db never do. */
    const char *at = strrchr(p, '@');
    int rc = NQ_OK;
    if (at) {
        rc = parse_userinfo(p, (size_t)(at - p), out, err);
        p = at + 1;
    }
    if (!rc)
        rc = parse_host(&p, out, err);
    if (!rc)
        rc = parse_port_db(&p, out, err);
    if (!rc && *p == '?')
        rc = url_fail(err, "query", "options after '?' are not supported");
    if (!rc && *p)
        rc = url_fail(err, "fragment", "'#...' is not allowed");
    if (rc) {
        explicit_bzero(out, sizeof *out);
        out->port = DEFAULT_PORT;
    }
    return rc;
}

/* ---- keys ------------------------------------------------------------------ */

/* Printable ASCII without space: what a hex hash or a prefix like "nqba:"
 * uses, and nothing that could confuse a person reading redis-cli. */
static int check_token(const char *s, size_t max, const char *what, nq_err *err)
{
    size_t n = 0;
    for (; s[n]; n++) {
        unsigned char ch = (unsigned char)s[n];
        if (ch <= 0x20 || ch >= 0x7f)
            return nq_err_set(err, NQ_EINVAL, what,
                              "byte %zu is a space, control or non-ASCII character", n);
        if (n >= max)
            return nq_err_set(err, NQ_EINVAL, what, "longer than %zu bytes", max);
    }
    return NQ_OK;
}

static int full_key(const nq_rcache *c, const char *key, char out[FULL_KEY_MAX + 1], size_t *len,
                    nq_err *err)
{
    if (!key || !key[0])
        return nq_err_set(err, NQ_EINVAL, "key", "empty");
    int rc = check_token(key, NQ_RCACHE_KEY_MAX, "key", err);
    if (rc)
        return rc;
    size_t n = strlen(key);
    memcpy(out, c->prefix, c->prefix_len);
    memcpy(out + c->prefix_len, key, n + 1);
    *len = c->prefix_len + n;
    return NQ_OK;
}

/* ---- SIGPIPE --------------------------------------------------------------- */

typedef struct pipe_guard {
    sigset_t old;
    int was_pending;
} pipe_guard;

static int sigpipe_pending(void)
{
    sigset_t pend;
    return sigpending(&pend) == 0 && sigismember(&pend, SIGPIPE) == 1;
}

static void guard_on(pipe_guard *g)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set, &g->old);
    g->was_pending = sigpipe_pending();
}

static void guard_off(const pipe_guard *g)
{
    if (!g->was_pending && sigpipe_pending()) {
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGPIPE);
        struct timespec zero = {0, 0};
        while (sigtimedwait(&set, NULL, &zero) < 0 && errno == EINTR)
            ;
    }
    pthread_sigmask(SIG_SETMASK, &g->old, NULL);
}

/* ---- connections ----------------------------------------------------------- */

static struct timeval ms_tv(int ms)
{
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
    return tv;
}

/* Did the command fail? Fills why (never with anything of the password:
 * for AUTH only the error's first word is kept). */
static int reply_failed(const redisContext *ctx, const redisReply *r, const char *cmd, char *why,
                        size_t cap)
{
    if (!r) {
        const char *what = ctx->errstr[0] ? ctx->errstr : "no reply";
        /* A read or write past SO_RCVTIMEO/SO_SNDTIMEO fails with EAGAIN,
         * whose strerror text hides that it was the timeout. */
        if (ctx->err == REDIS_ERR_IO && strstr(what, "temporarily unavailable"))
            what = "timed out";
        snprintf(why, cap, "%s: %.100s", cmd, what);
        return 1;
    }
    if (r->type != REDIS_REPLY_ERROR)
        return 0;
    int n = (int)(r->len < 100 ? r->len : 100);
    if (strcmp(cmd, "AUTH") == 0)
        n = (int)strcspn(r->str, " ");
    snprintf(why, cap, "%s: server error: %.*s", cmd, n, r->str);
    return 1;
}

/* One command whose reply is only checked for success. */
static int setup_command(redisContext *ctx, redisReply *r, const char *cmd, char *why, size_t cap)
{
    int failed = reply_failed(ctx, r, cmd, why, cap);
    if (r)
        freeReplyObject(r);
    return failed;
}

/* A new connection, authenticated, on the right database; 0 or 1 (why
 * says what failed). Runs without the pool lock. */
static int dial(const nq_rcache *c, redisContext **out, char *why, size_t cap)
{
    *out = NULL;
    redisContext *ctx = redisConnectWithTimeout(c->url.host, c->url.port, ms_tv(c->connect_ms));
    if (!ctx) {
        snprintf(why, cap, "connect: out of memory");
        return 1;
    }
    int failed = 0;
    if (ctx->err) {
        snprintf(why, cap, "connect: %.100s", ctx->errstr);
        failed = 1;
    } else if (redisSetTimeout(ctx, ms_tv(c->command_ms)) != REDIS_OK) {
        snprintf(why, cap, "connect: cannot set the command timeout");
        failed = 1;
    }
    const nq_rcache_url *u = &c->url;
    if (!failed && u->password[0] && u->user[0])
        failed = setup_command(ctx,
                               redisCommand(ctx, "AUTH %b %b", u->user, strlen(u->user),
                                            u->password, strlen(u->password)),
                               "AUTH", why, cap);
    else if (!failed && u->password[0])
        failed = setup_command(ctx, redisCommand(ctx, "AUTH %b", u->password, strlen(u->password)),
                               "AUTH", why, cap);
    if (!failed && u->db)
        failed = setup_command(ctx, redisCommand(ctx, "SELECT %d", u->db), "SELECT", why, cap);
    if (failed) {
        redisFree(ctx);
        return 1;
    }
    *out = ctx;
    return 0;
}

/* ---- the pool and the state (all under c->mu) ------------------------------ */

/* Wait for a connection or the right to open one, unless the cache is
 * down and it is not yet time to probe. */
static int wait_turn(nq_rcache *c, lease *l, nq_err *err)
{
    double until = -1.0;
    for (;;) {
        if (!c->up) {
            uint64_t now = nq_clock_ns();
            if (c->probing || now < c->retry_at_ns) {
                uint64_t left = c->probing ? 0 : (c->retry_at_ns - now) / 1000000u;
                return nq_err_set(err, NQ_EUNAVAIL, "redis",
                                  "the cache is down (%s); next try in %llu ms",
                                  c->st.last_error[0] ? c->st.last_error : "not connected",
                                  (unsigned long long)left);
            }
        }
        if (c->n_idle > 0 || c->n_open < c->pool_size)
            break;
        if (until < 0)
            until = nq_clock_s() + c->command_ms / 1000.0;
        if (!nq_cond_wait_until(&c->freed, &c->mu, until))
            return nq_err_set(err, NQ_EUNAVAIL, "redis", "all %d connections busy for %d ms",
                              c->pool_size, c->command_ms);
    }
    if (!c->up) {
        c->probing = 1;
        l->probe = 1;
    }
    return NQ_OK;
}

/* The cache failed: down now, or, for a failed probe, down longer. */
static void mark_down(nq_rcache *c, int probe)
{
    if (c->up) {
        c->up = 0;
        c->st.downs++;
        c->backoff_ms = NQ_RCACHE_BACKOFF_MIN_MS;
    } else if (probe) {
        int b = c->backoff_ms ? c->backoff_ms * 2 : NQ_RCACHE_BACKOFF_MIN_MS;
        c->backoff_ms = b < NQ_RCACHE_BACKOFF_MAX_MS ? b : NQ_RCACHE_BACKOFF_MAX_MS;
    } else {
        return; /* started before the cache went down: the backoff stands */
    }
    c->retry_at_ns = nq_clock_ns() + (uint64_t)c->backoff_ms * 1000000u;
}

static void count(nq_rcache *c, outcome o)
{
    switch (o) {
    case DONE_HIT:
        c->st.hits++;
        break;
    case DONE_MISS:
        c->st.misses++;
        break;
    case DONE_SET:
        c->st.sets++;
        break;
    case DONE_OK:
        break;
    case DONE_FAIL:
        c->st.errors++;
        break;
    }
}

/* Give the leased connection back (or drop it, and with a failure every
 * idle one too), count the outcome and update the state. The sockets are
 * closed after the lock is released. */
static void release(nq_rcache *c, lease *l, outcome o, const char *why)
{
    redisContext *drop[NQ_RCACHE_POOL_MAX + 1];
    int n_drop = 0;
    pthread_mutex_lock(&c->mu);
    count(c, o);
    if (o == DONE_FAIL) {
        snprintf(c->st.last_error, sizeof c->st.last_error, "%s", why);
        mark_down(c, l->probe);
        while (c->n_idle > 0) {
            drop[n_drop++] = c->idle[--c->n_idle];
            c->n_open--;
        }
    } else if (l->probe && !c->up) {
        c->up = 1;
        c->backoff_ms = 0;
    }
    if (l->ctx && (o == DONE_FAIL || !c->up)) {
        drop[n_drop++] = l->ctx; /* while down, keep nothing that predates the probe */
        c->n_open--;
    } else if (l->ctx) {
        c->idle[c->n_idle++] = l->ctx;
    } else {
        c->n_open--; /* the dial failed: give back the slot it reserved */
    }
    if (l->probe)
        c->probing = 0;
    pthread_cond_broadcast(&c->freed);
    pthread_mutex_unlock(&c->mu);
    for (int i = 0; i < n_drop; i++)
        redisFree(drop[i]);
    l->ctx = NULL;
}

static int acquire(nq_rcache *c, lease *l, nq_err *err)
{
    l->ctx = NULL;
    l->probe = 0;
    pthread_mutex_lock(&c->mu);
    int rc = wait_turn(c, l, err);
    if (rc) {
        c->st.skipped++;
        pthread_mutex_unlock(&c->mu);
        return rc;
    }
    if (c->n_idle > 0) {
        l->ctx = c->idle[--c->n_idle];
        pthread_mutex_unlock(&c->mu);
        return NQ_OK;
    }
    c->n_open++; /* reserved while dialling, outside the lock */
    pthread_mutex_unlock(&c->mu);
    char why[NQ_RCACHE_LAST_ERROR_MAX];
    pipe_guard g;
    guard_on(&g);
    int failed = dial(c, &l->ctx, why, sizeof why);
    guard_off(&g);
    if (failed) {
        release(c, l, DONE_FAIL, why);
        return nq_err_set(err, NQ_EUNAVAIL, "redis", "%s", why);
    }
    return NQ_OK;
}

/* ---- open, close, stats ---------------------------------------------------- */

static int check_range(int v, int lo, int hi, const char *name, nq_err *err)
{
    if (v < lo || v > hi)
        return nq_err_set(err, NQ_EINVAL, name, "must be %d..%d (0 = the default)", lo, hi);
    return NQ_OK;
}

static int apply_opts(nq_rcache *c, const nq_rcache_opts *o, nq_err *err)
{
    int rc = NQ_OK;
    if (o->connect_timeout_ms)
        rc = check_range(o->connect_timeout_ms, 1, NQ_RCACHE_TIMEOUT_MAX_MS, "connect_timeout_ms",
                         err);
    if (!rc && o->command_timeout_ms)
        rc = check_range(o->command_timeout_ms, 1, NQ_RCACHE_TIMEOUT_MAX_MS, "command_timeout_ms",
                         err);
    if (!rc && o->default_ttl_s)
        rc = check_range(o->default_ttl_s, 1, NQ_RCACHE_TTL_MAX_S, "default_ttl_s", err);
    if (!rc && o->pool_size)
        rc = check_range(o->pool_size, 1, NQ_RCACHE_POOL_MAX, "pool_size", err);
    const char *prefix = o->prefix ? o->prefix : NQ_RCACHE_DEFAULT_PREFIX;
    if (!rc)
        rc = check_token(prefix, NQ_RCACHE_PREFIX_MAX, "prefix", err);
    if (rc)
        return rc;
    c->connect_ms = o->connect_timeout_ms ? o->connect_timeout_ms : NQ_RCACHE_DEFAULT_TIMEOUT_MS;
    c->command_ms = o->command_timeout_ms ? o->command_timeout_ms : NQ_RCACHE_DEFAULT_TIMEOUT_MS;
    c->ttl_s = o->default_ttl_s ? o->default_ttl_s : NQ_RCACHE_DEFAULT_TTL_S;
    c->pool_size = o->pool_size ? o->pool_size : NQ_RCACHE_DEFAULT_POOL;
    c->prefix_len = strlen(prefix);
    memcpy(c->prefix, prefix, c->prefix_len + 1);
    return NQ_OK;
}

int nq_rcache_open(const char *url, const nq_rcache_opts *o, nq_rcache **out, nq_err *err)
{
    *out = NULL;
    nq_rcache_opts defaults = {0};
    nq_rcache *c = calloc(1, sizeof *c);
    if (!c)
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    int rc = nq_rcache_url_parse(url, &c->url, err);
    if (!rc)
        rc = apply_opts(c, o ? o : &defaults, err);
    if (!rc && nq_cond_init(&c->freed)) /* monotonic: see wait_turn */
        rc = nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    if (rc) {
        explicit_bzero(&c->url, sizeof c->url);
        free(c);
        return rc;
    }
    pthread_mutex_init(&c->mu, NULL);
    /* Down with no backoff: the first call, this ping, is the probe. Its
     * failure is no error of open's (the server starts without Redis);
     * it shows in ping and the stats. */
    nq_rcache_ping(c, NULL);
    *out = c;
    return NQ_OK;
}

void nq_rcache_close(nq_rcache *c)
{
    if (!c)
        return;
    for (int i = 0; i < c->n_idle; i++)
        redisFree(c->idle[i]);
    pthread_cond_destroy(&c->freed);
    pthread_mutex_destroy(&c->mu);
    explicit_bzero(&c->url, sizeof c->url);
    free(c);
}

void nq_rcache_stats(nq_rcache *c, nq_rcache_stats_t *s)
{
    pthread_mutex_lock(&c->mu);
    *s = c->st;
    s->up = c->up;
    pthread_mutex_unlock(&c->mu);
}

/* ---- commands -------------------------------------------------------------- */

int nq_rcache_ping(nq_rcache *c, nq_err *err)
{
    lease l;
    int rc = acquire(c, &l, err);
    if (rc)
        return rc;
    char why[NQ_RCACHE_LAST_ERROR_MAX];
    pipe_guard g;
    guard_on(&g);
    redisReply *r = redisCommand(l.ctx, "PING");
    guard_off(&g);
    int failed = reply_failed(l.ctx, r, "PING", why, sizeof why);
    if (r)
        freeReplyObject(r);
    release(c, &l, failed ? DONE_FAIL : DONE_OK, why);
    return failed ? nq_err_set(err, NQ_EUNAVAIL, "redis", "%s", why) : NQ_OK;
}

/* The value of a GET reply that did not fail. */
static outcome take_value(const redisReply *r, char **value, size_t *len, int *rc, nq_err *err)
{
    if (r->type == REDIS_REPLY_NIL) {
        *rc = nq_err_set(err, NQ_ENOTFOUND, "key", "not in the cache");
        return DONE_MISS;
    }
    if (r->type != REDIS_REPLY_STRING) {
        *rc = nq_err_set(err, NQ_EUNAVAIL, "redis", "GET: unexpected reply type %d", r->type);
        return DONE_FAIL;
    }
    if (r->len > NQ_RCACHE_VALUE_MAX) {
        *rc = nq_err_set(err, NQ_ELIMIT, "key", "the cached value is over %u bytes",
                         NQ_RCACHE_VALUE_MAX);
        return DONE_MISS;
    }
    char *v = malloc((size_t)r->len + 1);
    if (!v) {
        *rc = nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
        return DONE_OK;
    }
    memcpy(v, r->str, (size_t)r->len);
    v[r->len] = '\0';
    *value = v;
    *len = (size_t)r->len;
    *rc = NQ_OK;
    return DONE_HIT;
}

int nq_rcache_get(nq_rcache *c, const char *key, char **value, size_t *len, nq_err *err)
{
    *value = NULL;
    *len = 0;
    char k[FULL_KEY_MAX + 1];
    size_t klen = 0;
    lease l;
    int rc = full_key(c, key, k, &klen, err);
    if (!rc)
        rc = acquire(c, &l, err);
    if (rc)
        return rc;
    char why[NQ_RCACHE_LAST_ERROR_MAX];
    pipe_guard g;
    guard_on(&g);
    redisReply *r = redisCommand(l.ctx, "GET %b", k, klen);
    guard_off(&g);
    outcome o;
    if (reply_failed(l.ctx, r, "GET", why, sizeof why)) {
        o = DONE_FAIL;
        rc = nq_err_set(err, NQ_EUNAVAIL, "redis", "%s", why);
    } else {
        o = take_value(r, value, len, &rc, err);
        if (o == DONE_FAIL)
            snprintf(why, sizeof why, "%s", "GET: unexpected reply type");
    }
    if (r)
        freeReplyObject(r);
    release(c, &l, o, why);
    return rc;
}

int nq_rcache_set(nq_rcache *c, const char *key, const char *value, size_t len, int ttl_s,
                  nq_err *err)
{
    char k[FULL_KEY_MAX + 1];
    size_t klen = 0;
    int rc = full_key(c, key, k, &klen, err);
    if (rc)
        return rc;
    if (len > NQ_RCACHE_VALUE_MAX)
        return nq_err_set(err, NQ_ELIMIT, "value", "%zu bytes, over the cache's limit of %u", len,
                          NQ_RCACHE_VALUE_MAX);
    if (!value && len)
        return nq_err_set(err, NQ_EINVAL, "value", "NULL with a length");
    if (ttl_s < 0 || ttl_s > NQ_RCACHE_TTL_MAX_S)
        return nq_err_set(err, NQ_EINVAL, "ttl_s", "must be 0 (the default) to %d",
                          NQ_RCACHE_TTL_MAX_S);
    lease l;
    if ((rc = acquire(c, &l, err)))
        return rc;
    char why[NQ_RCACHE_LAST_ERROR_MAX];
    pipe_guard g;
    guard_on(&g);
    redisReply *r = redisCommand(l.ctx, "SET %b %b EX %d", k, klen, value ? value : "", len,
                                 ttl_s ? ttl_s : c->ttl_s);
    guard_off(&g);
    int failed = reply_failed(l.ctx, r, "SET", why, sizeof why);
    if (r)
        freeReplyObject(r);
    release(c, &l, failed ? DONE_FAIL : DONE_SET, why);
    return failed ? nq_err_set(err, NQ_EUNAVAIL, "redis", "%s", why) : NQ_OK;
}

/* ---- shared token buckets ---------------------------------------------------- */

/* One bucket per key as a hash {tokens, ts}, updated atomically by a script.
 * Time is Redis's own clock (TIME), so nodes whose clocks disagree still
 * share one bucket fairly. Numbers go back as strings: Redis would truncate
 * a Lua number to an integer. The key expires once a full refill has
 * passed, so idle clients cost no memory. */
static const char BUCKET_SCRIPT[] =
    "local rate, burst, cost = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])\n"
    "local t = redis.call('TIME')\n"
    "local now = tonumber(t[1]) + tonumber(t[2]) / 1000000\n"
    "local b = redis.call('HMGET', KEYS[1], 'tokens', 'ts')\n"
    "local tokens, ts = tonumber(b[1]), tonumber(b[2])\n"
    "if tokens == nil or ts == nil then tokens, ts = burst, now end\n"
    "if now > ts then tokens = math.min(burst, tokens + (now - ts) * rate); ts = now end\n"
    "local ok, wait = 0, 0\n"
    "if tokens >= cost then tokens = tokens - cost; ok = 1 else wait = (cost - tokens) / rate end\n"
    "redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens),\n"
    "           'ts', string.format('%.6f', ts))\n"
    "redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)\n"
    "return {ok, string.format('%.6f', wait)}\n";

/* The answer of the script: {0|1, "wait"}. */
static int bucket_reply(const redisReply *r, int *allowed, double *retry_after)
{
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
        r->element[0]->type != REDIS_REPLY_INTEGER || r->element[1]->type != REDIS_REPLY_STRING)
        return -1;
    char *end = NULL;
    double w = strtod(r->element[1]->str, &end);
    if (end == r->element[1]->str || !isfinite(w) || w < 0)
        return -1;
    *allowed = r->element[0]->integer == 1;
    *retry_after = *allowed ? 0.0 : (w > 0.001 ? w : 0.001);
    return 0;
}

int nq_rcache_take(nq_rcache *c, const char *key, double rate, double burst, double cost,
                   int *allowed, double *retry_after, nq_err *err)
{
    char k[FULL_KEY_MAX + 1];
    size_t klen = 0;
    int rc = full_key(c, key, k, &klen, err);
    if (rc)
        return rc;
    if (!(rate > 0 && isfinite(rate) && burst >= 1 && isfinite(burst) && cost > 0 &&
          cost <= burst))
        return nq_err_set(err, NQ_EINVAL, "bucket", "rate, burst or cost out of range");
    char args[3][32];
    snprintf(args[0], sizeof args[0], "%.17g", rate);
    snprintf(args[1], sizeof args[1], "%.17g", burst);
    snprintf(args[2], sizeof args[2], "%.17g", cost);
    lease l;
    if ((rc = acquire(c, &l, err)))
        return rc;
    char why[NQ_RCACHE_LAST_ERROR_MAX];
    pipe_guard g;
    guard_on(&g);
    redisReply *r = redisCommand(l.ctx, "EVAL %s 1 %b %s %s %s", BUCKET_SCRIPT, k, klen, args[0],
                                 args[1], args[2]);
    guard_off(&g);
    int failed = reply_failed(l.ctx, r, "EVAL", why, sizeof why);
    if (!failed && bucket_reply(r, allowed, retry_after) != 0) {
        snprintf(why, sizeof why, "EVAL: unexpected reply");
        failed = 1;
    }
    if (r)
        freeReplyObject(r);
    release(c, &l, failed ? DONE_FAIL : DONE_OK, why);
    return failed ? nq_err_set(err, NQ_EUNAVAIL, "redis", "%s", why) : NQ_OK;
}
