/* test_rcache.c - the Redis result cache: URL parsing, options, keys, a
 * cache that starts without Redis, and, against a real server, round
 * trips, misses, TTLs, the size limit, threads, AUTH and SELECT, and an
 * outage (the server killed and restarted under the cache).
 *
 * The shared server is the one NQ_TEST_REDIS_URL names (scripts/testdb.sh
 * starts a throwaway one); without it those tests are skipped. Keys carry
 * the process id, so reruns and parallel runs do not collide. The outage
 * and AUTH tests start a redis-server of their own on a free port (skipped
 * when there is no redis-server on PATH) and kill it by its pid.
 *
 * Timing checks are loose on purpose (a call "returns in well under a
 * second"): the machines are shared and noisy. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h> /* after the headers it needs */

#include <arpa/inet.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "nqba/clock.h"
#include "nqba/rcache.h"

#define SLOW_S 1.0 /* "well under a second": a loose bound, never a benchmark */
#define OWN_PASSWORD "own-secret-pw"

/* ---- helpers --------------------------------------------------------------- */

static const char *env_url(void)
{
    const char *u = getenv("NQ_TEST_REDIS_URL");
    return u && u[0] ? u : NULL;
}

#define NEED_REDIS()                                                                               \
    do {                                                                                           \
        if (!env_url())                                                                            \
            skip();                                                                                \
    } while (0)

static void sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

/* A TCP port on 127.0.0.1 that nothing listens on (just now). */
static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t n = sizeof a;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &n), 0);
    close(fd);
    return ntohs(a.sin_port);
}

/* A key prefix of this process and test, so runs never share keys. */
static void test_prefix(char *out, size_t cap, const char *test)
{
    snprintf(out, cap, "nqtest:%ld:%s:", (long)getpid(), test);
}

static nq_rcache_opts test_opts(const char *prefix)
{
    /* Generous timeouts: a loaded machine must not turn a slow reply into
     * a failed test. The 100 ms default is exercised by the outage test. */
    nq_rcache_opts o = {.connect_timeout_ms = 2000,
                        .command_timeout_ms = 2000,
                        .prefix = prefix,
                        .default_ttl_s = 0,
                        .pool_size = 0};
    return o;
}

static nq_rcache *open_env(const char *prefix)
{
    nq_rcache_opts o = test_opts(prefix);
    nq_rcache *c = NULL;
    nq_err e;
    assert_int_equal(nq_rcache_open(env_url(), &o, &c, &e), NQ_OK);
    assert_non_null(c);
    if (nq_rcache_ping(c, &e) != NQ_OK)
        fail_msg("NQ_TEST_REDIS_URL does not answer: %s", e.msg);
    return c;
}

/* A plain hiredis connection to what url names, to look behind the cache. */
static redisContext *raw_connect(const char *url)
{
    nq_rcache_url u;
    nq_err e;
    assert_int_equal(nq_rcache_url_parse(url, &u, &e), NQ_OK);
    struct timeval tv = {.tv_sec = 5, .tv_usec = 0};
    redisContext *r = redisConnectWithTimeout(u.host, u.port, tv);
    assert_non_null(r);
    assert_int_equal(r->err, 0);
    redisReply *rep = NULL;
    if (u.password[0] && u.user[0])
        rep = redisCommand(r, "AUTH %s %s", u.user, u.password);
    else if (u.password[0])
        rep = redisCommand(r, "AUTH %s", u.password);
    if (rep) {
        assert_int_not_equal(rep->type, REDIS_REPLY_ERROR);
        freeReplyObject(rep);
    }
    rep = redisCommand(r, "SELECT %d", u.db);
    assert_non_null(rep);
    assert_int_not_equal(rep->type, REDIS_REPLY_ERROR);
    freeReplyObject(rep);
    return r;
}

/* An integer command (TTL, PTTL, EXISTS, DEL) on one key. */
static long long raw_int(redisContext *r, const char *cmd, const char *key)
{
    redisReply *rep = redisCommand(r, "%s %s", cmd, key);
    assert_non_null(rep);
    assert_int_equal(rep->type, REDIS_REPLY_INTEGER);
    long long v = rep->integer;
    freeReplyObject(rep);
    return v;
}

static int get_timed(nq_rcache *c, const char *key, double *took)
{
    char *v = NULL;
    size_t n = 0;
    nq_err e;
    double t0 = nq_clock_s();
    int rc = nq_rcache_get(c, key, &v, &n, &e);
    *took = nq_clock_s() - t0;
    free(v);
    return rc;
}

static int set_timed(nq_rcache *c, const char *key, const char *v, double *took)
{
    nq_err e;
    double t0 = nq_clock_s();
    int rc = nq_rcache_set(c, key, v, strlen(v), 60, &e);
    *took = nq_clock_s() - t0;
    return rc;
}

/* ---- URLs ------------------------------------------------------------------ */

static void test_url_good(void **state)
{
    (void)state;
    nq_rcache_url u;
    nq_err e;
    assert_int_equal(nq_rcache_url_parse("redis://127.0.0.1:6380", &u, &e), NQ_OK);
    assert_string_equal(u.host, "127.0.0.1");
    assert_int_equal(u.port, 6380);
    assert_int_equal(u.db, 0);
    assert_string_equal(u.user, "");
    assert_string_equal(u.password, "");
    assert_int_equal(nq_rcache_url_parse("redis://localhost", &u, &e), NQ_OK);
    assert_string_equal(u.host, "localhost");
    assert_int_equal(u.port, 6379);
    assert_int_equal(nq_rcache_url_parse("redis://cache-1.internal:7000/3", &u, &e), NQ_OK);
    assert_string_equal(u.host, "cache-1.internal");
    assert_int_equal(u.db, 3);
    assert_int_equal(nq_rcache_url_parse("redis://:s3cret@h:1/2", &u, &e), NQ_OK);
    assert_string_equal(u.user, "");
    assert_string_equal(u.password, "s3cret");
    assert_int_equal(u.port, 1);
    assert_int_equal(u.db, 2);
    assert_int_equal(nq_rcache_url_parse("redis://alice:p%40ss%2fw@h:7000/15", &u, &e), NQ_OK);
    assert_string_equal(u.user, "alice");
    assert_string_equal(u.password, "p@ss/w");
    /* Raw '/' and '@' in a password (base64 ones have them): the last '@'
     * ends it. */
    assert_int_equal(nq_rcache_url_parse("redis://:a/b@c@h:1", &u, &e), NQ_OK);
    assert_string_equal(u.password, "a/b@c");
    assert_string_equal(u.host, "h");
    assert_int_equal(nq_rcache_url_parse("redis://[::1]:6380/0", &u, &e), NQ_OK);
    assert_string_equal(u.host, "::1");
    assert_int_equal(u.port, 6380);
    assert_int_equal(nq_rcache_url_parse("redis://h:1/", &u, &e), NQ_OK);
    assert_int_equal(u.db, 0);
    assert_int_equal(nq_rcache_url_parse("REDIS://H:65535/65535", &u, &e), NQ_OK);
    assert_string_equal(u.host, "H");
    assert_int_equal(u.port, 65535);
    assert_int_equal(u.db, 65535);
}

typedef struct bad_url {
    const char *url;
    const char *part; /* what the message must start with */
} bad_url;

static void test_url_bad(void **state)
{
    (void)state;
    char long_host[400];
    snprintf(long_host, sizeof long_host, "redis://:hunter2@%0300d:1", 0);
    const bad_url cases[] = {
        {NULL, "scheme"},
        {"", "scheme"},
        {"http://h:1", "scheme"},
        {"rediss://:hunter2@h:1", "scheme"},
        {"unix:///tmp/redis.sock", "scheme"},
        {"redis://", "host"},
        {"redis://:hunter2@", "host"},
        {"redis://:hunter2@:6379", "host"},
        {"redis://:hunter2@h h:1", "host"},
        {"redis://:hunter2@[::1:1", "host"},
        {"redis://:hunter2:1", "host"}, /* the '@' forgotten */
        {long_host, "host"},
        {"redis://:hunter2@h:", "port"},
        {"redis://:hunter2@h:0", "port"},
        {"redis://:hunter2@h:65536", "port"},
        {"redis://:hunter2@h:12x", "port"},
        {"redis://:hunter2@h:-1", "port"},
        {"redis://h:hunter2", "port"},
        {"redis://:hunter2@h:1/x", "db"},
        {"redis://:hunter2@h:1/65536", "db"},
        {"redis://:hunter2@h:1/1/2", "db"},
        {"redis://:hunter2@h:1//", "db"},
        {"redis://:hunter2@h:1?timeout=1", "query"},
        {"redis://:hunter2@h:1/0?db=1", "query"},
        {"redis://:hunter2@h:1/0#x", "fragment"},
        {"redis://:@h:1", "password"},
        {"redis://hunter2@h:1", "userinfo"},
        {"redis://:hunter2%zz@h:1", "password"},
        {"redis://:hunter2%4@h:1", "password"},
        {"redis://:hunter2%00@h:1", "password"},
        {"redis://:hunter2\n@h:1", "password"},
        {"redis://us\ter:hunter2@h:1", "user"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        nq_rcache_url u;
        nq_err e;
        nq_err_clear(&e);
        int rc = nq_rcache_url_parse(cases[i].url, &u, &e);
        if (rc != NQ_EINVAL || strncmp(e.msg, cases[i].part, strlen(cases[i].part)) != 0)
            fail_msg("case %zu: rc %d, msg \"%s\", expected \"%s: ...\"", i, rc, e.msg,
                     cases[i].part);
        assert_int_equal(e.code, NQ_EINVAL);
        assert_string_equal(e.where, "redis_url");
        assert_null(strstr(e.msg, "hunter2"));
        assert_null(strstr(e.where, "hunter2"));
        assert_string_equal(u.password, ""); /* nothing half-parsed is left behind */
        static char sentinel;
        nq_rcache *c = (nq_rcache *)(void *)&sentinel; /* open must clear it */
        assert_int_equal(nq_rcache_open(cases[i].url, NULL, &c, &e), NQ_EINVAL);
        assert_null(c);
        assert_null(strstr(e.msg, "hunter2"));
    }
}

static void test_open_bad_opts(void **state)
{
    (void)state;
    char url[64], long_prefix[NQ_RCACHE_PREFIX_MAX + 2];
    snprintf(url, sizeof url, "redis://127.0.0.1:%d", free_port());
    memset(long_prefix, 'p', sizeof long_prefix - 1);
    long_prefix[sizeof long_prefix - 1] = '\0';
    const nq_rcache_opts bad[] = {
        {.pool_size = NQ_RCACHE_POOL_MAX + 1},
        {.pool_size = -1},
        {.connect_timeout_ms = -1},
        {.command_timeout_ms = NQ_RCACHE_TIMEOUT_MAX_MS + 1},
        {.default_ttl_s = -5},
        {.default_ttl_s = NQ_RCACHE_TTL_MAX_S + 1},
        {.prefix = "a b:"},
        {.prefix = "tab\t"},
        {.prefix = long_prefix},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        nq_rcache *c = NULL;
        nq_err e;
        if (nq_rcache_open(url, &bad[i], &c, &e) != NQ_EINVAL)
            fail_msg("case %zu accepted", i);
        assert_null(c);
        assert_true(e.where[0] != '\0');
    }
}

/* ---- without a server ------------------------------------------------------ */

static long next_try_ms(const nq_err *e)
{
    const char *p = strstr(e->msg, "next try in ");
    return p ? strtol(p + strlen("next try in "), NULL, 10) : -1;
}

static void test_closed_port(void **state)
{
    (void)state;
    char url[64];
    snprintf(url, sizeof url, "redis://127.0.0.1:%d", free_port());
    nq_rcache *c = NULL;
    nq_err e;
    double t0 = nq_clock_s();
    assert_int_equal(nq_rcache_open(url, NULL, &c, &e), NQ_OK); /* the server starts anyway */
    assert_true(nq_clock_s() - t0 < SLOW_S);
    assert_non_null(c);
    assert_int_equal(nq_rcache_ping(c, &e), NQ_EUNAVAIL);
    nq_rcache_stats_t st;
    nq_rcache_stats(c, &st);
    assert_int_equal(st.up, 0);
    assert_int_equal(st.errors, 1); /* open's one try */
    assert_non_null(strstr(st.last_error, "connect"));
    double took;
    assert_int_equal(get_timed(c, "abc123", &took), NQ_EUNAVAIL);
    assert_true(took < SLOW_S);
    assert_int_equal(set_timed(c, "abc123", "v", &took), NQ_EUNAVAIL);
    assert_true(took < SLOW_S);
    nq_rcache_stats(c, &st);
    /* Within the backoff no call tries the network again (unless a stalled
     * machine let the 0.5 s pass; then the counts say nothing). */
    if (nq_clock_s() - t0 < 0.4) {
        assert_int_equal(st.errors, 1);
        assert_int_equal(st.skipped, 3);
    }
    assert_int_equal(st.hits + st.misses + st.sets, 0);
    /* After the first backoff (0.5 s) one call tries again, fails, and the
     * backoff doubles. */
    sleep_ms(NQ_RCACHE_BACKOFF_MIN_MS + 100);
    assert_int_equal(get_timed(c, "abc123", &took), NQ_EUNAVAIL);
    nq_rcache_stats(c, &st);
    assert_int_equal(st.errors, 2);
    char *v = NULL;
    size_t n = 0;
    assert_int_equal(nq_rcache_get(c, "abc123", &v, &n, &e), NQ_EUNAVAIL);
    assert_null(v);
    assert_int_equal(n, 0);
    assert_true(next_try_ms(&e) > NQ_RCACHE_BACKOFF_MIN_MS);
    assert_true(next_try_ms(&e) <= 2 * NQ_RCACHE_BACKOFF_MIN_MS);
    assert_int_equal(st.downs, 0); /* never was up */
    nq_rcache_close(c);
    nq_rcache_close(NULL);
}

static void test_keys_and_limits(void **state)
{
    (void)state;
    char url[64];
    snprintf(url, sizeof url, "redis://127.0.0.1:%d", free_port());
    nq_rcache *c = NULL;
    nq_err e;
    assert_int_equal(nq_rcache_open(url, NULL, &c, &e), NQ_OK);
    char *v = NULL;
    size_t n = 0;
    static const char *const bad_keys[] = {"",     "has space", "tab\tkey",
                                           "nl\n", "del\x7f",   "caf\xc3\xa9"};
    for (size_t i = 0; i < sizeof bad_keys / sizeof bad_keys[0]; i++) {
        assert_int_equal(nq_rcache_get(c, bad_keys[i], &v, &n, &e), NQ_EINVAL);
        assert_string_equal(e.where, "key");
        assert_int_equal(nq_rcache_set(c, bad_keys[i], "v", 1, 0, &e), NQ_EINVAL);
    }
    assert_int_equal(nq_rcache_get(c, NULL, &v, &n, &e), NQ_EINVAL);
    char key[NQ_RCACHE_KEY_MAX + 2];
    memset(key, 'a', sizeof key - 1);
    key[sizeof key - 1] = '\0';
    assert_int_equal(nq_rcache_get(c, key, &v, &n, &e), NQ_EINVAL); /* one byte too long */
    key[NQ_RCACHE_KEY_MAX] = '\0';
    assert_int_equal(nq_rcache_get(c, key, &v, &n, &e), NQ_EUNAVAIL); /* valid, server down */
    assert_int_equal(nq_rcache_set(c, "k", "v", 1, -1, &e), NQ_EINVAL);
    assert_int_equal(nq_rcache_set(c, "k", "v", 1, NQ_RCACHE_TTL_MAX_S + 1, &e), NQ_EINVAL);
    assert_int_equal(nq_rcache_set(c, "k", NULL, 3, 0, &e), NQ_EINVAL);
    /* The size check comes first: too big is NQ_ELIMIT whatever the state. */
    assert_int_equal(nq_rcache_set(c, "k", "", (size_t)NQ_RCACHE_VALUE_MAX + 1, 0, &e), NQ_ELIMIT);
    nq_rcache_close(c);
}

/* ---- against NQ_TEST_REDIS_URL --------------------------------------------- */

static void test_roundtrip_binary(void **state)
{
    (void)state;
    NEED_REDIS();
    char prefix[64];
    test_prefix(prefix, sizeof prefix, "rt");
    nq_rcache *c = open_env(prefix);
    char data[1024];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (char)(i * 7 % 256); /* every byte value, NULs included */
    nq_err e;
    assert_int_equal(nq_rcache_set(c, "00ff", data, sizeof data, 60, &e), NQ_OK);
    char *v = NULL;
    size_t n = 0;
    assert_int_equal(nq_rcache_get(c, "00ff", &v, &n, &e), NQ_OK);
    assert_int_equal(n, sizeof data);
    assert_memory_equal(v, data, sizeof data);
    assert_int_equal(v[n], '\0');
    free(v);
    /* Overwrite; an empty value is a hit, not a miss. */
    assert_int_equal(nq_rcache_set(c, "00ff", NULL, 0, 60, &e), NQ_OK);
    assert_int_equal(nq_rcache_get(c, "00ff", &v, &n, &e), NQ_OK);
    assert_int_equal(n, 0);
    assert_string_equal(v, "");
    free(v);
    /* The key layout: prefix + key, nothing else. */
    redisContext *raw = raw_connect(env_url());
    char full[128];
    snprintf(full, sizeof full, "%s00ff", prefix);
    assert_int_equal(raw_int(raw, "EXISTS", full), 1);
    assert_int_equal(raw_int(raw, "DEL", full), 1);
    redisFree(raw);
    nq_rcache_stats_t st;
    nq_rcache_stats(c, &st);
    assert_int_equal(st.up, 1);
    assert_int_equal(st.hits, 2);
    assert_int_equal(st.sets, 2);
    assert_int_equal(st.errors, 0);
    nq_rcache_close(c);
}

static void test_miss(void **state)
{
    (void)state;
    NEED_REDIS();
    char prefix[64];
    test_prefix(prefix, sizeof prefix, "miss");
    nq_rcache *c = open_env(prefix);
    char *v = (char *)prefix;
    size_t n = 9;
    nq_err e;
    assert_int_equal(nq_rcache_get(c, "deadbeef", &v, &n, &e), NQ_ENOTFOUND);
    assert_null(v);
    assert_int_equal(n, 0);
    nq_rcache_stats_t st;
    nq_rcache_stats(c, &st);
    assert_int_equal(st.misses, 1);
    assert_int_equal(st.hits, 0);
    assert_int_equal(st.up, 1); /* a miss is no failure */
    nq_rcache_close(c);
}

/* Token buckets in Redis: two handles (two nodes) draw from one bucket;
 * bad numbers and keys are refused without a round trip. */
static void test_shared_bucket(void **state)
{
    (void)state;
    NEED_REDIS();
    char prefix[64];
    test_prefix(prefix, sizeof prefix, "bucket");
    nq_rcache *a = open_env(prefix), *b = open_env(prefix);
    nq_err e;
    int ok = -1;
    double wait = -1;
    /* 0.01 tokens per second: nothing refills while the test runs. */
    for (int i = 0; i < 2; i++) {
        assert_int_equal(nq_rcache_take(a, "rl:client", 0.01, 3, 1, &ok, &wait, &e), NQ_OK);
        assert_int_equal(ok, 1);
        assert_true(wait == 0);
    }
    assert_int_equal(nq_rcache_take(b, "rl:client", 0.01, 3, 1, &ok, &wait, &e), NQ_OK);
    assert_int_equal(ok, 1);
    assert_int_equal(nq_rcache_take(b, "rl:client", 0.01, 3, 1, &ok, &wait, &e), NQ_OK);
    assert_int_equal(ok, 0);
    assert_true(wait > 90 && wait <= 100.001); /* one token at 0.01/s */
    /* Another key has its own full bucket; a cost above what is left waits. */
    assert_int_equal(nq_rcache_take(a, "rl:other", 0.01, 3, 3, &ok, &wait, &e), NQ_OK);
    assert_int_equal(ok, 1);
    assert_int_equal(nq_rcache_take(a, "rl:client", 0.01, 3, 0, &ok, &wait, &e), NQ_EINVAL);
    assert_int_equal(nq_rcache_take(a, "rl:client", 0.01, 3, 4, &ok, &wait, &e), NQ_EINVAL);
    assert_int_equal(nq_rcache_take(a, "rl:client", 0, 3, 1, &ok, &wait, &e), NQ_EINVAL);
    assert_int_equal(nq_rcache_take(a, "has space", 1, 3, 1, &ok, &wait, &e), NQ_EINVAL);
    nq_rcache_close(a);
    nq_rcache_close(b);
}

static void test_ttl(void **state)
{
    (void)state;
    NEED_REDIS();
    char prefix[64], full[128];
    test_prefix(prefix, sizeof prefix, "ttl");
    nq_rcache *c = open_env(prefix);
    redisContext *raw = raw_connect(env_url());
    nq_err e;
    assert_int_equal(nq_rcache_set(c, "a1", "x", 1, 1, &e), NQ_OK);
    snprintf(full, sizeof full, "%sa1", prefix);
    long long pttl = raw_int(raw, "PTTL", full);
    assert_true(pttl > 0 && pttl <= 1000);
    assert_int_equal(nq_rcache_set(c, "a2", "x", 1, 0, &e), NQ_OK); /* the default */
    snprintf(full, sizeof full, "%sa2", prefix);
    long long ttl = raw_int(raw, "TTL", full);
    assert_true(ttl > NQ_RCACHE_DEFAULT_TTL_S - 60 && ttl <= NQ_RCACHE_DEFAULT_TTL_S);
    raw_int(raw, "DEL", full);
    /* An own default TTL. */
    nq_rcache_opts o = test_opts(prefix);
    o.default_ttl_s = 120;
    nq_rcache *c2 = NULL;
    assert_int_equal(nq_rcache_open(env_url(), &o, &c2, &e), NQ_OK);
    assert_int_equal(nq_rcache_set(c2, "a3", "x", 1, 0, &e), NQ_OK);
    snprintf(full, sizeof full, "%sa3", prefix);
    ttl = raw_int(raw, "TTL", full);
    assert_true(ttl > 60 && ttl <= 120);
    raw_int(raw, "DEL", full);
    redisFree(raw);
    nq_rcache_close(c2);
    nq_rcache_close(c);
}

static void test_default_prefix(void **state)
{
    (void)state;
    NEED_REDIS();
    nq_rcache *c = NULL;
    nq_err e;
    assert_int_equal(nq_rcache_open(env_url(), NULL, &c, &e), NQ_OK);
    char key[64], full[96];
    snprintf(key, sizeof key, "test%ldprefix", (long)getpid());
    snprintf(full, sizeof full, "nqba:%s", key);
    int rc = nq_rcache_set(c, key, "v", 1, 60, &e);
    if (rc == NQ_EUNAVAIL) /* 100 ms is the default; a loaded machine may miss it */
        skip();
    assert_int_equal(rc, NQ_OK);
    redisContext *raw = raw_connect(env_url());
    assert_int_equal(raw_int(raw, "EXISTS", full), 1);
    raw_int(raw, "DEL", full);
    redisFree(raw);
    nq_rcache_close(c);
}

static void test_value_limit(void **state)
{
    (void)state;
    NEED_REDIS();
    char prefix[64], full[128];
    test_prefix(prefix, sizeof prefix, "big");
    nq_rcache_opts o = test_opts(prefix);
    o.command_timeout_ms = 10000;
    nq_rcache *c = NULL;
    nq_err e;
    assert_int_equal(nq_rcache_open(env_url(), &o, &c, &e), NQ_OK);
    size_t max = NQ_RCACHE_VALUE_MAX;
    char *big = malloc(max + 1);
    assert_non_null(big);
    for (size_t i = 0; i < max + 1; i++)
        big[i] = (char)(i * 31 % 251);
    assert_int_equal(nq_rcache_set(c, "b1", big, max + 1, 60, &e), NQ_ELIMIT);
    assert_string_equal(e.where, "value");
    redisContext *raw = raw_connect(env_url());
    snprintf(full, sizeof full, "%sb1", prefix);
    assert_int_equal(raw_int(raw, "EXISTS", full), 0); /* not sent */
    nq_rcache_stats_t st;
    nq_rcache_stats(c, &st);
    assert_int_equal(st.sets, 0);
    assert_int_equal(st.errors, 0);
    /* Exactly the limit goes through, both ways. */
    assert_int_equal(nq_rcache_set(c, "b1", big, max, 60, &e), NQ_OK);
    char *v = NULL;
    size_t n = 0;
    assert_int_equal(nq_rcache_get(c, "b1", &v, &n, &e), NQ_OK);
    assert_int_equal(n, max);
    assert_memory_equal(v, big, max);
    free(v);
    assert_int_equal(raw_int(raw, "DEL", full), 1);
    redisFree(raw);
    free(big);
    nq_rcache_close(c);
}

/* ---- threads --------------------------------------------------------------- */

#define N_THREADS 8
#define N_ROUNDS 200

typedef struct worker {
    nq_rcache *c;
    int id;
    int failures;
    char first_failure[NQ_ERR_MSG_MAX];
} worker;

static void note_failure(worker *w, const char *what, const nq_err *e)
{
    if (!w->failures++)
        snprintf(w->first_failure, sizeof w->first_failure, "%s: %.200s", what, e->msg);
}

static void *work(void *arg)
{
    worker *w = arg;
    char key[32], val[64];
    for (int i = 0; i < N_ROUNDS; i++) {
        nq_err e;
        char *v = NULL;
        size_t n = 0;
        snprintf(key, sizeof key, "t%d-%d", w->id, i % 10);
        int len = snprintf(val, sizeof val, "%d:%d%c%d", w->id, i, '\0', i * w->id);
        if (nq_rcache_set(w->c, key, val, (size_t)len, 60, &e) != NQ_OK)
            note_failure(w, "set", &e);
        if (nq_rcache_get(w->c, key, &v, &n, &e) != NQ_OK)
            note_failure(w, "get own", &e);
        else if (n != (size_t)len || memcmp(v, val, n) != 0)
            note_failure(w, "get own: wrong value", &e);
        free(v);
        v = NULL;
        if (nq_rcache_get(w->c, "shared", &v, &n, &e) != NQ_OK)
            note_failure(w, "get shared", &e);
        else if (n != 6 || memcmp(v, "shared", 6) != 0)
            note_failure(w, "get shared: wrong value", &e);
        free(v);
    }
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    NEED_REDIS();
    char prefix[64];
    test_prefix(prefix, sizeof prefix, "mt");
    nq_rcache *c = open_env(prefix); /* 4 connections for 8 threads: some wait */
    nq_err e;
    assert_int_equal(nq_rcache_set(c, "shared", "shared", 6, 60, &e), NQ_OK);
    pthread_t th[N_THREADS];
    worker w[N_THREADS];
    for (int i = 0; i < N_THREADS; i++) {
        w[i] = (worker){.c = c, .id = i + 1, .failures = 0, .first_failure = ""};
        assert_int_equal(pthread_create(&th[i], NULL, work, &w[i]), 0);
    }
    for (int i = 0; i < N_THREADS; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < N_THREADS; i++)
        if (w[i].failures)
            fail_msg("thread %d: %d failures, first %s", i, w[i].failures, w[i].first_failure);
    nq_rcache_stats_t st;
    nq_rcache_stats(c, &st);
    assert_int_equal(st.hits, 2 * N_THREADS * N_ROUNDS);
    assert_int_equal(st.sets, N_THREADS * N_ROUNDS + 1);
    assert_int_equal(st.errors, 0);
    assert_int_equal(st.up, 1);
    nq_rcache_close(c);
}

/* ---- a redis-server of our own --------------------------------------------- */

typedef struct own_redis {
    pid_t pid; /* 0: not running */
    int port;
    char dir[64];
    char url[128];
} own_redis;

/* Does the server answer PING (with our password)? */
static int own_pong(int port)
{
    struct timeval tv = {.tv_sec = 0, .tv_usec = 200000};
    redisContext *r = redisConnectWithTimeout("127.0.0.1", port, tv);
    int ok = 0;
    if (r && !r->err) {
        redisReply *a = redisCommand(r, "AUTH %s", OWN_PASSWORD);
        redisReply *p = a ? redisCommand(r, "PING") : NULL;
        ok = p && p->type == REDIS_REPLY_STATUS && strcmp(p->str, "PONG") == 0;
        if (a)
            freeReplyObject(a);
        if (p)
            freeReplyObject(p);
    }
    if (r)
        redisFree(r);
    return ok;
}

static void own_kill(own_redis *s)
{
    if (s->pid > 0) {
        kill(s->pid, SIGKILL);
        waitpid(s->pid, NULL, 0);
        s->pid = 0;
    }
}

/* Start redis-server on s->port (a free one when 0), in the foreground as
 * our child so that waitpid reaps it; it dies with this process (a test
 * that crashes leaves no server behind). 0, or -1 when it did not start. */
static int own_start(own_redis *s)
{
    if (!s->dir[0]) {
        snprintf(s->dir, sizeof s->dir, "/tmp/nq-rcache-XXXXXX");
        if (!mkdtemp(s->dir))
            return -1;
    }
    if (!s->port)
        s->port = free_port();
    char port[16], log[128];
    snprintf(port, sizeof port, "%d", s->port);
    snprintf(log, sizeof log, "%s/redis.log", s->dir);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int fd = open("/dev/null", O_RDWR);
        if (fd >= 0) {
            dup2(fd, 0);
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execlp("redis-server", "redis-server", "--port", port, "--bind", "127.0.0.1", "--save", "",
               "--appendonly", "no", "--daemonize", "no", "--dir", s->dir, "--logfile", log,
               "--requirepass", OWN_PASSWORD, (char *)NULL);
        _exit(127);
    }
    s->pid = pid;
    for (int i = 0; i < 200; i++) {
        if (waitpid(pid, NULL, WNOHANG) == pid) {
            s->pid = 0; /* exited: not installed, or the port was taken */
            return -1;
        }
        if (own_pong(s->port))
            return 0;
        sleep_ms(50);
    }
    own_kill(s);
    return -1;
}

static int own_setup(void **state)
{
    own_redis *s = calloc(1, sizeof *s);
    if (!s)
        return -1;
    *state = s;
    return 0;
}

static int own_teardown(void **state)
{
    own_redis *s = *state;
    own_kill(s);
    if (s->dir[0]) {
        char log[128];
        snprintf(log, sizeof log, "%s/redis.log", s->dir);
        unlink(log);
        rmdir(s->dir);
    }
    free(s);
    return 0;
}

static void own_start_or_skip(own_redis *s, int db)
{
    if (own_start(s) != 0)
        skip();
    snprintf(s->url, sizeof s->url, "redis://:%s@127.0.0.1:%d/%d", OWN_PASSWORD, s->port, db);
}

static void test_auth_and_db(void **state)
{
    own_redis *s = *state;
    own_start_or_skip(s, 5);
    char prefix[64];
    test_prefix(prefix, sizeof prefix, "auth");
    nq_rcache_opts o = test_opts(prefix);
    nq_rcache *c = NULL;
    nq_err e;
    assert_int_equal(nq_rcache_open(s->url, &o, &c, &e), NQ_OK);
    assert_int_equal(nq_rcache_ping(c, &e), NQ_OK);
    assert_int_equal(nq_rcache_set(c, "d5", "in five", 7, 60, &e), NQ_OK);
    redisContext *raw = raw_connect(s->url); /* AUTH, SELECT 5 */
    char full[128];
    snprintf(full, sizeof full, "%sd5", prefix);
    assert_int_equal(raw_int(raw, "EXISTS", full), 1);
    redisReply *rep = redisCommand(raw, "SELECT 0");
    freeReplyObject(rep);
    assert_int_equal(raw_int(raw, "EXISTS", full), 0);
    redisFree(raw);
    nq_rcache_close(c);
    /* A wrong password: the handle opens down, and no message shows it. */
    char url[128];
    snprintf(url, sizeof url, "redis://:wrong-hunter2@127.0.0.1:%d", s->port);
    assert_int_equal(nq_rcache_open(url, &o, &c, &e), NQ_OK);
    assert_int_equal(nq_rcache_ping(c, &e), NQ_EUNAVAIL);
    assert_null(strstr(e.msg, "hunter2"));
    nq_rcache_stats_t st;
    nq_rcache_stats(c, &st);
    assert_int_equal(st.up, 0);
    assert_non_null(strstr(st.last_error, "AUTH"));
    assert_null(strstr(st.last_error, "hunter2"));
    nq_rcache_close(c);
    /* No password where one is needed: the first command fails (NOAUTH). */
    snprintf(url, sizeof url, "redis://127.0.0.1:%d", s->port);
    assert_int_equal(nq_rcache_open(url, &o, &c, &e), NQ_OK);
    assert_int_equal(nq_rcache_ping(c, &e), NQ_EUNAVAIL);
    nq_rcache_close(c);
}

static void test_outage(void **state)
{
    own_redis *s = *state;
    own_start_or_skip(s, 0);
    char prefix[64];
    test_prefix(prefix, sizeof prefix, "outage");
    /* The default timeouts (100 ms): what a server runs with. */
    nq_rcache_opts o = {.connect_timeout_ms = 0,
                        .command_timeout_ms = 0,
                        .prefix = prefix,
                        .default_ttl_s = 0,
                        .pool_size = 2};
    nq_rcache *c = NULL;
    nq_err e;
    double took;
    assert_int_equal(nq_rcache_open(s->url, &o, &c, &e), NQ_OK);
    assert_int_equal(set_timed(c, "k1", "before", &took), NQ_OK);
    assert_int_equal(get_timed(c, "k1", &took), NQ_OK);

    own_kill(s); /* SIGKILL: no goodbye on the connections */
    int calls = 0;
    double worst = 0, until = nq_clock_s() + 1.2; /* past the first backoff */
    while (nq_clock_s() < until) {
        int rc = get_timed(c, "k1", &took);
        if (rc != NQ_EUNAVAIL)
            fail_msg("get during the outage: %d", rc);
        worst = took > worst ? took : worst;
        rc = set_timed(c, "k2", "during", &took);
        if (rc != NQ_EUNAVAIL)
            fail_msg("set during the outage: %d", rc);
        worst = took > worst ? took : worst;
        calls += 2;
        sleep_ms(10);
    }
    assert_true(worst < SLOW_S);
    assert_int_equal(nq_rcache_ping(c, &e), NQ_EUNAVAIL);
    nq_rcache_stats_t st;
    nq_rcache_stats(c, &st);
    assert_int_equal(st.up, 0);
    assert_int_equal(st.downs, 1);
    assert_true(st.errors >= 2); /* the lost connection, then a failed reconnect */
    assert_true(st.errors < 10); /* the backoff, not one try per call */
    assert_true(st.skipped > (uint64_t)calls / 2);
    assert_true(st.last_error[0] != '\0');

    /* Back on the same port (empty: no persistence): after the backoff
     * the next call reconnects. The backoff is at most a few seconds here;
     * the bound allows for the 30 s maximum. */
    assert_int_equal(own_start(s), 0);
    double t0 = nq_clock_s();
    int rc;
    while ((rc = get_timed(c, "k1", &took)) == NQ_EUNAVAIL && nq_clock_s() - t0 < 40)
        sleep_ms(50);
    assert_int_equal(rc, NQ_ENOTFOUND);
    assert_int_equal(set_timed(c, "k1", "after", &took), NQ_OK);
    char *v = NULL;
    size_t n = 0;
    assert_int_equal(nq_rcache_get(c, "k1", &v, &n, &e), NQ_OK);
    assert_int_equal(n, 5);
    assert_memory_equal(v, "after", 5);
    free(v);
    assert_int_equal(nq_rcache_ping(c, &e), NQ_OK);
    nq_rcache_stats(c, &st);
    assert_int_equal(st.up, 1);
    assert_int_equal(st.downs, 1);
    nq_rcache_close(c);
}

/* A server that stops answering (SIGSTOP: the kernel still accepts
 * connections, nothing replies) costs one command timeout, then nothing
 * while the backoff lasts; once it answers again the cache comes back. */
static void test_stall(void **state)
{
    own_redis *s = *state;
    own_start_or_skip(s, 0);
    char prefix[64];
    test_prefix(prefix, sizeof prefix, "stall");
    nq_rcache_opts o = {.connect_timeout_ms = 0,
                        .command_timeout_ms = 0,
                        .prefix = prefix,
                        .default_ttl_s = 0,
                        .pool_size = 1};
    nq_rcache *c = NULL;
    nq_err e;
    double took;
    assert_int_equal(nq_rcache_open(s->url, &o, &c, &e), NQ_OK);
    assert_int_equal(set_timed(c, "k1", "kept", &took), NQ_OK);
    assert_int_equal(kill(s->pid, SIGSTOP), 0);
    assert_int_equal(get_timed(c, "k1", &took), NQ_EUNAVAIL);
    assert_true(took < SLOW_S);
    assert_int_equal(get_timed(c, "k1", &took), NQ_EUNAVAIL);
    assert_true(took < SLOW_S);
    nq_rcache_stats_t st;
    nq_rcache_stats(c, &st);
    assert_int_equal(st.up, 0);
    assert_true(st.errors >= 1);
    assert_non_null(strstr(st.last_error, "timed out"));
    assert_int_equal(kill(s->pid, SIGCONT), 0);
    /* The timed-out connection was dropped, so its late reply cannot be
     * taken for the answer to a later command. */
    double t0 = nq_clock_s();
    int rc;
    while ((rc = get_timed(c, "k1", &took)) == NQ_EUNAVAIL && nq_clock_s() - t0 < 40)
        sleep_ms(50);
    assert_int_equal(rc, NQ_OK);
    char *v = NULL;
    size_t n = 0;
    assert_int_equal(nq_rcache_get(c, "k1", &v, &n, &e), NQ_OK);
    assert_int_equal(n, 4);
    assert_memory_equal(v, "kept", 4);
    free(v);
    nq_rcache_close(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_url_good),
        cmocka_unit_test(test_url_bad),
        cmocka_unit_test(test_open_bad_opts),
        cmocka_unit_test(test_closed_port),
        cmocka_unit_test(test_keys_and_limits),
        cmocka_unit_test(test_roundtrip_binary),
        cmocka_unit_test(test_miss),
        cmocka_unit_test(test_shared_bucket),
        cmocka_unit_test(test_ttl),
        cmocka_unit_test(test_default_prefix),
        cmocka_unit_test(test_value_limit),
        cmocka_unit_test(test_threads),
        cmocka_unit_test_setup_teardown(test_auth_and_db, own_setup, own_teardown),
        cmocka_unit_test_setup_teardown(test_outage, own_setup, own_teardown),
        cmocka_unit_test_setup_teardown(test_stall, own_setup, own_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
