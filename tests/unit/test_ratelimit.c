/* test_ratelimit.c - unit tests for lib/service/ratelimit.c: token-bucket
 * arithmetic at explicit times, bounded LRU table, the shared-store hook
 * and concurrent takes. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "nqba/err.h"
#include "nqba/ratelimit.h"

static nq_ratelimit *make(double rate, double burst, size_t max_keys)
{
    nq_ratelimit_opts o = {.rate = rate, .burst = burst, .max_keys = max_keys};
    nq_ratelimit *r = NULL;
    nq_err e;
    assert_int_equal(nq_ratelimit_new(&o, &r, &e), NQ_OK);
    assert_non_null(r);
    return r;
}

/* Take and check the answer and retry_after in one line. */
static void expect_take(nq_ratelimit *r, const char *key, double now, double cost, int want,
                        double want_retry)
{
    double retry = -1;
    assert_int_equal(nq_ratelimit_take(r, key, now, cost, &retry), want);
    assert_true(retry == want_retry);
}

/* ---- arithmetic ---------------------------------------------------------- */

static void test_burst_then_limited(void **state)
{
    (void)state;
    nq_ratelimit *r = make(2, 5, 0);
    for (int i = 0; i < 5; i++)
        expect_take(r, "ip:1", 100, 1, 1, 0);
    expect_take(r, "ip:1", 100, 1, 0, 0.5); /* exactly 1/rate for the next token */
    expect_take(r, "ip:1", 100, 1, 0, 0.5); /* a refused take costs nothing */
    assert_int_equal(nq_ratelimit_size(r), 1);
    nq_ratelimit_free(r);
}

static void test_refill_over_time(void **state)
{
    (void)state;
    nq_ratelimit *r = make(2, 5, 0);
    for (int i = 0; i < 5; i++)
        expect_take(r, "k", 0, 1, 1, 0);
    expect_take(r, "k", 0.25, 1, 0, 0.25); /* half a token there, half to wait for */
    expect_take(r, "k", 0.5, 1, 1, 0);     /* waiting retry_after is enough */
    expect_take(r, "k", 0.5, 1, 0, 0.5);
    expect_take(r, "k", 1.5, 1, 1, 0); /* two tokens came back */
    expect_take(r, "k", 1.5, 1, 1, 0);
    expect_take(r, "k", 1.5, 1, 0, 0.5);
    /* A long pause refills to burst, no more. */
    for (int i = 0; i < 5; i++)
        expect_take(r, "k", 1000, 1, 1, 0);
    expect_take(r, "k", 1000, 1, 0, 0.5);
    nq_ratelimit_free(r);
}

static void test_retry_rounds_up_to_ms(void **state)
{
    (void)state;
    nq_ratelimit *r = make(3, 1, 0);
    expect_take(r, "k", 0, 1, 1, 0);
    expect_take(r, "k", 0, 1, 0, 0.334); /* 1/3 s rounded up */
    expect_take(r, "k", 0.334, 1, 1, 0);
    nq_ratelimit_free(r);

    r = make(1e6, 1, 0); /* the next token is a microsecond away: still 1 ms */
    expect_take(r, "k", 0, 1, 1, 0);
    expect_take(r, "k", 0, 1, 0, 0.001);
    nq_ratelimit_free(r);
}

static void test_cost_above_one(void **state)
{
    (void)state;
    nq_ratelimit *r = make(1, 10, 0);
    expect_take(r, "k", 0, 4, 1, 0);
    expect_take(r, "k", 0, 4, 1, 0);
    expect_take(r, "k", 0, 4, 0, 2); /* 2 left, 4 wanted, 1 per second */
    expect_take(r, "k", 0, 2, 1, 0); /* a cheaper request still fits */
    expect_take(r, "k", 0, 4, 0, 4);
    expect_take(r, "k", 4, 4, 1, 0);
    expect_take(r, "k", 4, 0.5, 0, 0.5);
    expect_take(r, "k", 14, 10, 1, 0); /* cost == burst is possible when full */
    double retry = -1;
    assert_int_equal(nq_ratelimit_take(r, "k", 10, 10.5, &retry), NQ_EINVAL); /* never possible */
    assert_int_equal(nq_ratelimit_take(r, "k", 10, 0, &retry), NQ_EINVAL);
    assert_int_equal(nq_ratelimit_take(r, "k", 10, -1, &retry), NQ_EINVAL);
    assert_int_equal(nq_ratelimit_take(r, "k", 10, NAN, &retry), NQ_EINVAL);
    nq_ratelimit_free(r);
}

static void test_independent_keys(void **state)
{
    (void)state;
    nq_ratelimit *r = make(1, 2, 0);
    expect_take(r, "ip:10.0.0.1", 0, 1, 1, 0);
    expect_take(r, "ip:10.0.0.1", 0, 1, 1, 0);
    expect_take(r, "ip:10.0.0.1", 0, 1, 0, 1);
    expect_take(r, "ip:10.0.0.2", 0, 1, 1, 0);
    expect_take(r, "user:alice", 0, 2, 1, 0);
    expect_take(r, "user:alice", 0, 1, 0, 1);
    expect_take(r, "ip:10.0.0.2", 0, 1, 1, 0);
    assert_int_equal(nq_ratelimit_size(r), 3);
    nq_ratelimit_free(r);
}

static void test_time_backwards(void **state)
{
    (void)state;
    nq_ratelimit *r = make(1, 2, 0);
    expect_take(r, "k", 10, 1, 1, 0);
    expect_take(r, "k", 10, 1, 1, 0);
    expect_take(r, "k", 5, 1, 0, 1); /* five seconds back: nothing minted */
    expect_take(r, "k", 0, 1, 0, 1);
    expect_take(r, "k", 10.5, 1, 0, 0.5); /* refill counts from 10, not from 0 */
    expect_take(r, "k", 11, 1, 1, 0);
    expect_take(r, "k", 1, 1, 0, 1);
    /* A new key seen at an early time then used later refills normally. */
    expect_take(r, "n", 3, 2, 1, 0);
    expect_take(r, "n", 2, 1, 0, 1);
    expect_take(r, "n", 4, 1, 1, 0);
    nq_ratelimit_free(r);
}

/* ---- bounds and arguments ------------------------------------------------- */

static void test_lru_eviction(void **state)
{
    (void)state;
    nq_ratelimit *r = make(1, 1, 1000);
    char key[32];
    expect_take(r, "hot", 0, 1, 1, 0);
    for (int i = 0; i < 10000; i++) {
        snprintf(key, sizeof key, "ip:%d", i);
        expect_take(r, key, 0, 1, 1, 0);
        expect_take(r, "hot", 0, 1, 0, 1); /* used all along: never evicted */
        assert_true(nq_ratelimit_size(r) <= 1000);
    }
    assert_int_equal(nq_ratelimit_size(r), 1000);
    expect_take(r, "ip:9999", 0, 1, 0, 1); /* recent: still drained */
    expect_take(r, "ip:0", 0, 1, 1, 0);    /* evicted: back with a full bucket */
    assert_int_equal(nq_ratelimit_size(r), 1000);
    nq_ratelimit_free(r);

    r = make(1, 1, 1); /* a table of one still works */
    expect_take(r, "a", 0, 1, 1, 0);
    expect_take(r, "a", 0, 1, 0, 1);
    expect_take(r, "b", 0, 1, 1, 0);
    expect_take(r, "a", 0, 1, 1, 0);
    assert_int_equal(nq_ratelimit_size(r), 1);
    nq_ratelimit_free(r);
}

static void test_keys(void **state)
{
    (void)state;
    nq_ratelimit *r = make(1, 1, 0);
    char key[NQ_RATELIMIT_KEY_MAX + 2];
    memset(key, 'k', sizeof key - 1);
    key[sizeof key - 1] = '\0';
    double retry = -1;
    assert_int_equal(nq_ratelimit_take(r, key, 0, 1, &retry), NQ_EINVAL); /* 129 bytes */
    assert_true(retry == 0);
    key[NQ_RATELIMIT_KEY_MAX] = '\0';
    expect_take(r, key, 0, 1, 1, 0); /* 128 bytes */
    expect_take(r, key, 0, 1, 0, 1);
    key[NQ_RATELIMIT_KEY_MAX - 1] = '\0'; /* a prefix is another key */
    expect_take(r, key, 0, 1, 1, 0);
    assert_int_equal(nq_ratelimit_take(r, "", 0, 1, &retry), NQ_EINVAL);
    assert_int_equal(nq_ratelimit_take(r, NULL, 0, 1, &retry), NQ_EINVAL);
    assert_int_equal(nq_ratelimit_take(r, "k", NAN, 1, &retry), NQ_EINVAL);
    assert_int_equal(nq_ratelimit_take(r, "k", INFINITY, 1, &retry), NQ_EINVAL);
    assert_int_equal(nq_ratelimit_take(r, "k", 0, 1, NULL), NQ_EINVAL);
    assert_int_equal(nq_ratelimit_take(NULL, "k", 0, 1, &retry), NQ_EINVAL);
    assert_int_equal(nq_ratelimit_size(r), 2);
    assert_int_equal(nq_ratelimit_size(NULL), 0);
    nq_ratelimit_free(r);
    nq_ratelimit_free(NULL);
}

static void expect_bad_opts(nq_ratelimit_opts o, const char *where)
{
    nq_ratelimit *r = (nq_ratelimit *)&r; /* must come back NULL */
    nq_err e;
    assert_int_equal(nq_ratelimit_new(&o, &r, &e), NQ_EINVAL);
    assert_null(r);
    assert_string_equal(e.where, where);
}

static void test_opts(void **state)
{
    (void)state;
    nq_ratelimit_opts o = {.rate = 1, .burst = 1};
    nq_ratelimit *r = NULL;
    nq_err e;
    assert_int_equal(nq_ratelimit_new(NULL, &r, &e), NQ_EINVAL);
    assert_int_equal(nq_ratelimit_new(&o, NULL, &e), NQ_EINVAL);
    expect_bad_opts((nq_ratelimit_opts){.rate = 0, .burst = 1}, "rate");
    expect_bad_opts((nq_ratelimit_opts){.rate = -1, .burst = 1}, "rate");
    expect_bad_opts((nq_ratelimit_opts){.rate = NAN, .burst = 1}, "rate");
    expect_bad_opts((nq_ratelimit_opts){.rate = INFINITY, .burst = 1}, "rate");
    expect_bad_opts((nq_ratelimit_opts){.rate = 1, .burst = 0.5}, "burst");
    expect_bad_opts((nq_ratelimit_opts){.rate = 1, .burst = INFINITY}, "burst");
    expect_bad_opts(
        (nq_ratelimit_opts){.rate = 1, .burst = 1, .max_keys = NQ_RATELIMIT_MAX_KEYS_MAX + 1},
        "max_keys");
    /* Fractional rates are fine: one token per 64 seconds. */
    o.rate = 1.0 / 64;
    assert_int_equal(nq_ratelimit_new(&o, &r, &e), NQ_OK);
    expect_take(r, "k", 0, 1, 1, 0);
    expect_take(r, "k", 0, 1, 0, 64);
    expect_take(r, "k", 32, 1, 0, 32);
    nq_ratelimit_free(r);
}

/* ---- the shared store ------------------------------------------------------ */

typedef struct fake_store {
    int answer;         /* what shared_take returns */
    double retry_after; /* what it reports when limited */
    int calls;
    char key[NQ_RATELIMIT_KEY_MAX + 1];
    double rate, burst, now, cost;
} fake_store;

static int fake_take(void *user, const char *key, double rate, double burst, double now,
                     double cost, double *retry_after)
{
    fake_store *s = user;
    s->calls++;
    snprintf(s->key, sizeof s->key, "%s", key);
    s->rate = rate;
    s->burst = burst;
    s->now = now;
    s->cost = cost;
    if (s->answer == 1)
        *retry_after = s->retry_after;
    return s->answer;
}

static void test_shared_hook(void **state)
{
    (void)state;
    fake_store s = {.answer = 1, .retry_after = 2.5};
    nq_ratelimit_opts o = {.rate = 4, .burst = 2, .shared_take = fake_take, .shared_user = &s};
    nq_ratelimit *r = NULL;
    nq_err e;
    assert_int_equal(nq_ratelimit_new(&o, &r, &e), NQ_OK);

    /* Limited by the store, though the local bucket is full. */
    expect_take(r, "user:bob", 7, 1.5, 0, 2.5);
    assert_int_equal(s.calls, 1);
    assert_string_equal(s.key, "user:bob");
    assert_true(s.rate == 4 && s.burst == 2 && s.now == 7 && s.cost == 1.5);
    assert_int_equal(nq_ratelimit_size(r), 0); /* the store decided: no local bucket */
    s.retry_after = 0.0001;                    /* rounded up like local answers */
    expect_take(r, "user:bob", 7, 1, 0, 0.001);

    /* Allowed by the store, more often than the local burst would. */
    s.answer = 0;
    for (int i = 0; i < 5; i++)
        expect_take(r, "user:bob", 7, 1, 1, 0);
    assert_int_equal(nq_ratelimit_size(r), 0);

    /* Unavailable: the local bucket decides. */
    s.answer = -1;
    expect_take(r, "user:bob", 7, 1, 1, 0);
    expect_take(r, "user:bob", 7, 1, 1, 0);
    expect_take(r, "user:bob", 7, 1, 0, 0.25);
    assert_int_equal(nq_ratelimit_size(r), 1);

    /* Nonsense answers count as unavailable. */
    s.answer = 7;
    expect_take(r, "user:bob", 7, 1, 0, 0.25);
    s.answer = 1;
    s.retry_after = NAN;
    expect_take(r, "user:bob", 7, 1, 0, 0.25);
    assert_int_equal(s.calls, 12);

    /* Bad arguments are refused before the store is asked. */
    double retry;
    assert_int_equal(nq_ratelimit_take(r, "", 7, 1, &retry), NQ_EINVAL);
    assert_int_equal(s.calls, 12);
    nq_ratelimit_free(r);
}

/* ---- threads ----------------------------------------------------------------- */

#define N_THREADS 8
#define TAKES_PER_THREAD 2000

typedef struct hammer {
    nq_ratelimit *r;
    int allowed, limited, other;
} hammer;

static void *hammer_one_key(void *arg)
{
    hammer *h = arg;
    for (int i = 0; i < TAKES_PER_THREAD; i++) {
        double retry;
        int rc = nq_ratelimit_take(h->r, "ip:203.0.113.9", 42, 1, &retry);
        if (rc == 1)
            h->allowed++;
        else if (rc == 0 && retry == 0.1)
            h->limited++;
        else
            h->other++;
    }
    return NULL;
}

static void test_threads_one_key(void **state)
{
    (void)state;
    nq_ratelimit *r = make(10, 5, 0);
    pthread_t t[N_THREADS];
    hammer h[N_THREADS];
    for (int i = 0; i < N_THREADS; i++) {
        h[i] = (hammer){.r = r, .allowed = 0, .limited = 0, .other = 0};
        assert_int_equal(pthread_create(&t[i], NULL, hammer_one_key, &h[i]), 0);
    }
    int allowed = 0, limited = 0, other = 0;
    for (int i = 0; i < N_THREADS; i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
        allowed += h[i].allowed;
        limited += h[i].limited;
        other += h[i].other;
    }
    assert_int_equal(allowed, 5);
    assert_int_equal(limited, N_THREADS * TAKES_PER_THREAD - 5);
    assert_int_equal(other, 0);
    assert_int_equal(nq_ratelimit_size(r), 1);
    nq_ratelimit_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_burst_then_limited),
        cmocka_unit_test(test_refill_over_time),
        cmocka_unit_test(test_retry_rounds_up_to_ms),
        cmocka_unit_test(test_cost_above_one),
        cmocka_unit_test(test_independent_keys),
        cmocka_unit_test(test_time_backwards),
        cmocka_unit_test(test_lru_eviction),
        cmocka_unit_test(test_keys),
        cmocka_unit_test(test_opts),
        cmocka_unit_test(test_shared_hook),
        cmocka_unit_test(test_threads_one_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
