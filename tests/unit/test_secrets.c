/* test_secrets.c - the secrets layer: argon2id password hashes and their
 * concurrency limit, API keys, and encryption of stored fields.
 *
 * Password tests use the minimum argon2id parameters so they run in
 * microseconds; only the defaults test pays for a 64 MiB hash. The slot
 * limit is tested through the hasher's on_slot hook, which holds a slot
 * until the test lets go, so no assertion depends on how fast a hash is. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h> /* after the headers it needs */

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nqba/apikey.h"
#include "nqba/fieldcrypt.h"
#include "nqba/password.h"

/* ---- passwords ------------------------------------------------------------- */

static nq_pw_hasher *fast_hasher(unsigned long long ops, size_t mem)
{
    nq_pw_opts o = {0};
    o.opslimit = ops;
    o.memlimit = mem;
    nq_pw_hasher *h = NULL;
    nq_err e;
    assert_int_equal(nq_pw_hasher_new(&o, &h, &e), NQ_OK);
    return h;
}

static void test_pw_round_trip(void **state)
{
    (void)state;
    nq_pw_hasher *h = fast_hasher(crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN);
    char stored[NQ_PW_STRBYTES];
    nq_err e;
    assert_int_equal(nq_pw_hash(h, "correct horse", 13, stored, &e), NQ_OK);
    assert_non_null(strstr(stored, "$argon2id$"));
    int rehash = -1;
    assert_int_equal(nq_pw_verify(h, stored, "correct horse", 13, &rehash, &e), NQ_OK);
    assert_int_equal(rehash, 0);
    /* A random salt: the same password never hashes the same twice. */
    char again[NQ_PW_STRBYTES];
    assert_int_equal(nq_pw_hash(h, "correct horse", 13, again, &e), NQ_OK);
    assert_string_not_equal(stored, again);
    /* Any bytes, NULs included, all of them count. */
    static const char bin[] = {'a', 0, 'b', 0, (char)0xff};
    assert_int_equal(nq_pw_hash(h, bin, sizeof bin, stored, &e), NQ_OK);
    assert_int_equal(nq_pw_verify(h, stored, bin, sizeof bin, NULL, &e), NQ_OK);
    assert_int_equal(nq_pw_verify(h, stored, bin, 1, NULL, &e), NQ_EINVAL);
    nq_pw_stats st;
    nq_pw_hasher_stats(h, &st);
    assert_int_equal(st.in_use, 0);
    assert_int_equal(st.done, 6);
    nq_pw_hasher_free(h);
    nq_pw_hasher_free(NULL);
}

static void test_pw_wrong_password(void **state)
{
    (void)state;
    nq_pw_hasher *h = fast_hasher(crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN);
    char stored[NQ_PW_STRBYTES];
    nq_err e;
    assert_int_equal(nq_pw_hash(h, "secret", 6, stored, &e), NQ_OK);
    int rehash = -1;
    assert_int_equal(nq_pw_verify(h, stored, "Secret", 6, &rehash, &e), NQ_EINVAL);
    assert_string_equal(e.msg, "wrong password");
    assert_int_equal(rehash, 0);
    assert_int_equal(nq_pw_verify(h, stored, "secre", 5, NULL, &e), NQ_EINVAL);
    assert_int_equal(nq_pw_verify(h, "not a hash", "secret", 6, NULL, &e), NQ_EINVAL);
    assert_int_equal(nq_pw_verify(h, "", "secret", 6, NULL, &e), NQ_EINVAL);
    assert_int_equal(nq_pw_verify(h, NULL, "secret", 6, NULL, &e), NQ_EINVAL);
    char longer[NQ_PW_STRBYTES + 10];
    memset(longer, 'x', sizeof longer - 1);
    longer[sizeof longer - 1] = '\0';
    assert_int_equal(nq_pw_verify(h, longer, "secret", 6, NULL, &e), NQ_EINVAL);
    nq_pw_hasher_free(h);
}

static void test_pw_needs_rehash(void **state)
{
    (void)state;
    nq_pw_hasher *a = fast_hasher(crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN);
    nq_pw_hasher *more_ops =
        fast_hasher(crypto_pwhash_OPSLIMIT_MIN + 1, crypto_pwhash_MEMLIMIT_MIN);
    nq_pw_hasher *more_mem =
        fast_hasher(crypto_pwhash_OPSLIMIT_MIN, 2 * crypto_pwhash_MEMLIMIT_MIN);
    char stored[NQ_PW_STRBYTES];
    nq_err e;
    assert_int_equal(nq_pw_hash(a, "pw", 2, stored, &e), NQ_OK);
    int rehash = -1;
    assert_int_equal(nq_pw_verify(a, stored, "pw", 2, &rehash, &e), NQ_OK);
    assert_int_equal(rehash, 0);
    assert_int_equal(nq_pw_verify(more_ops, stored, "pw", 2, &rehash, &e), NQ_OK);
    assert_int_equal(rehash, 1);
    assert_int_equal(nq_pw_verify(more_mem, stored, "pw", 2, &rehash, &e), NQ_OK);
    assert_int_equal(rehash, 1);
    /* The rehash under the new parameters is then current. */
    assert_int_equal(nq_pw_hash(more_ops, "pw", 2, stored, &e), NQ_OK);
    assert_int_equal(nq_pw_verify(more_ops, stored, "pw", 2, &rehash, &e), NQ_OK);
    assert_int_equal(rehash, 0);
    /* An argon2i hash (an older algorithm) still verifies, and is flagged. */
    char old[crypto_pwhash_STRBYTES];
    assert_int_equal(crypto_pwhash_str_alg(old, "pw", 2, 3, crypto_pwhash_MEMLIMIT_MIN,
                                           crypto_pwhash_ALG_ARGON2I13),
                     0);
    assert_int_equal(nq_pw_verify(a, old, "pw", 2, &rehash, &e), NQ_OK);
    assert_int_equal(rehash, 1);
    nq_pw_hasher_free(a);
    nq_pw_hasher_free(more_ops);
    nq_pw_hasher_free(more_mem);
}

static void test_pw_lengths(void **state)
{
    (void)state;
    nq_pw_hasher *h = fast_hasher(crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN);
    char big[NQ_PW_LEN_MAX + 1];
    memset(big, 'p', sizeof big);
    char stored[NQ_PW_STRBYTES];
    nq_err e;
    assert_int_equal(nq_pw_hash(h, big, NQ_PW_LEN_MAX + 1, stored, &e), NQ_ELIMIT);
    assert_string_equal(e.where, "password");
    assert_int_equal(nq_pw_hash(h, big, NQ_PW_LEN_MAX, stored, &e), NQ_OK);
    assert_int_equal(nq_pw_verify(h, stored, big, NQ_PW_LEN_MAX, NULL, &e), NQ_OK);
    assert_int_equal(nq_pw_verify(h, stored, big, NQ_PW_LEN_MAX + 1, NULL, &e), NQ_ELIMIT);
    assert_int_equal(nq_pw_hash(h, "", 0, stored, &e), NQ_EINVAL);
    assert_int_equal(nq_pw_verify(h, stored, "", 0, NULL, &e), NQ_EINVAL);
    nq_pw_hasher_free(h);
}

static void test_pw_opts(void **state)
{
    (void)state;
    nq_pw_hasher *h = NULL;
    nq_err e;
    nq_pw_opts o = {0};
    o.memlimit = crypto_pwhash_MEMLIMIT_MIN - 1;
    assert_int_equal(nq_pw_hasher_new(&o, &h, &e), NQ_EINVAL);
    assert_string_equal(e.where, "memlimit");
    assert_null(h);
    o.memlimit = crypto_pwhash_MEMLIMIT_MIN;
    o.max_concurrent = -1;
    assert_int_equal(nq_pw_hasher_new(&o, &h, &e), NQ_EINVAL);
    assert_string_equal(e.where, "max_concurrent");
    o.max_concurrent = NQ_PW_CONCURRENT_MAX + 1;
    assert_int_equal(nq_pw_hasher_new(&o, &h, &e), NQ_EINVAL);
    o.max_concurrent = 0;
    o.wait_ms = -5;
    assert_int_equal(nq_pw_hasher_new(&o, &h, &e), NQ_EINVAL);
    assert_string_equal(e.where, "wait_ms");
    assert_null(h);
}

/* The defaults: one real interactive hash (64 MiB), the only slow test. */
static void test_pw_defaults(void **state)
{
    (void)state;
    nq_pw_hasher *h = NULL;
    nq_err e;
    assert_int_equal(nq_pw_hasher_new(NULL, &h, &e), NQ_OK);
    char stored[NQ_PW_STRBYTES];
    assert_int_equal(nq_pw_hash(h, "pw", 2, stored, &e), NQ_OK);
    assert_int_equal(crypto_pwhash_str_needs_rehash(stored, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                                                    crypto_pwhash_MEMLIMIT_INTERACTIVE),
                     0);
    nq_pw_stats st;
    nq_pw_hasher_stats(h, &st);
    assert_int_equal(st.max_concurrent, NQ_PW_DEFAULT_CONCURRENT);
    nq_pw_hasher_free(h);
}

static void test_pw_dummy_verify(void **state)
{
    (void)state;
    nq_pw_hasher *h = fast_hasher(crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN);
    assert_int_equal(nq_pw_dummy_verify(h, "anything", 8), NQ_EINVAL);
    assert_int_equal(nq_pw_dummy_verify(h, "", 0), NQ_EINVAL);
    char big[NQ_PW_LEN_MAX + 1] = {0};
    assert_int_equal(nq_pw_dummy_verify(h, big, sizeof big), NQ_ELIMIT);
    /* It does the work of a verify: it takes a slot and runs argon2id. */
    nq_pw_stats st;
    nq_pw_hasher_stats(h, &st);
    assert_int_equal(st.done, 1);
    nq_pw_hasher_free(h);
}

/* A slot holder: the hook reports that it holds a slot, then waits until
 * the test lets it go. */
typedef struct holder {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int entered;
    int go;
    nq_pw_hasher *h;
} holder;

/* One hash on a thread of its own. */
typedef struct job {
    nq_pw_hasher *h;
    int rc;
} job;

static void hold_slot(void *arg)
{
    holder *t = arg;
    pthread_mutex_lock(&t->mu);
    t->entered++;
    pthread_cond_broadcast(&t->cv);
    while (!t->go)
        pthread_cond_wait(&t->cv, &t->mu);
    pthread_mutex_unlock(&t->mu);
}

static void *hash_thread(void *arg)
{
    job *j = arg;
    char stored[NQ_PW_STRBYTES];
    j->rc = nq_pw_hash(j->h, "pw", 2, stored, NULL);
    return NULL;
}

static void holder_init(holder *t, int wait_ms)
{
    memset(t, 0, sizeof *t);
    pthread_mutex_init(&t->mu, NULL);
    pthread_cond_init(&t->cv, NULL);
    nq_pw_opts o = {0};
    o.opslimit = crypto_pwhash_OPSLIMIT_MIN;
    o.memlimit = crypto_pwhash_MEMLIMIT_MIN;
    o.max_concurrent = 1;
    o.wait_ms = wait_ms;
    o.on_slot = hold_slot;
    o.on_slot_arg = t;
    assert_int_equal(nq_pw_hasher_new(&o, &t->h, NULL), NQ_OK);
}

static void holder_wait_entered(holder *t, int n)
{
    pthread_mutex_lock(&t->mu);
    while (t->entered < n)
        pthread_cond_wait(&t->cv, &t->mu);
    pthread_mutex_unlock(&t->mu);
}

static void holder_release(holder *t)
{
    pthread_mutex_lock(&t->mu);
    t->go = 1;
    pthread_cond_broadcast(&t->cv);
    pthread_mutex_unlock(&t->mu);
}

static void holder_done(holder *t)
{
    nq_pw_hasher_free(t->h);
    pthread_cond_destroy(&t->cv);
    pthread_mutex_destroy(&t->mu);
}

static void test_pw_concurrency_limit(void **state)
{
    (void)state;
    holder t;
    holder_init(&t, 1);
    job first = {t.h, -100};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, hash_thread, &first), 0);
    holder_wait_entered(&t, 1);
    /* The only slot is held: everything else is refused after 1 ms. */
    char stored[NQ_PW_STRBYTES];
    nq_err e;
    assert_int_equal(nq_pw_hash(t.h, "other", 5, stored, &e), NQ_ELIMIT);
    assert_non_null(strstr(e.msg, "busy"));
    assert_int_equal(nq_pw_verify(t.h, "$argon2id$x", "other", 5, NULL, &e), NQ_ELIMIT);
    assert_int_equal(nq_pw_dummy_verify(t.h, "other", 5), NQ_ELIMIT);
    nq_pw_stats st;
    nq_pw_hasher_stats(t.h, &st);
    assert_int_equal(st.in_use, 1);
    assert_int_equal(st.rejected, 3);
    holder_release(&t);
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_int_equal(first.rc, NQ_OK);
    nq_pw_hasher_stats(t.h, &st);
    assert_int_equal(st.in_use, 0);
    assert_int_equal(nq_pw_hash(t.h, "other", 5, stored, &e), NQ_OK);
    holder_done(&t);
}

/* A waiter within wait_ms gets the slot once it is freed. Whether the
 * second thread is already waiting when the slot frees does not matter:
 * either way it must succeed. */
static void test_pw_waiter_gets_slot(void **state)
{
    (void)state;
    holder t;
    holder_init(&t, NQ_PW_WAIT_MAX_MS);
    job first = {t.h, -100}, second = {t.h, -100};
    pthread_t a, b;
    assert_int_equal(pthread_create(&a, NULL, hash_thread, &first), 0);
    holder_wait_entered(&t, 1);
    assert_int_equal(pthread_create(&b, NULL, hash_thread, &second), 0);
    struct timespec ms20 = {0, 20 * 1000 * 1000};
    nanosleep(&ms20, NULL);
    holder_release(&t);
    assert_int_equal(pthread_join(a, NULL), 0);
    assert_int_equal(pthread_join(b, NULL), 0);
    assert_int_equal(first.rc, NQ_OK);
    assert_int_equal(second.rc, NQ_OK);
    nq_pw_stats st;
    nq_pw_hasher_stats(t.h, &st);
    assert_int_equal(st.rejected, 0);
    assert_int_equal(st.done, 2);
    holder_done(&t);
}

/* ---- API keys -------------------------------------------------------------- */

static const uint8_t pepper[NQ_APIKEY_PEPPER_LEN] = {1, 2, 3, 4, 5, 6, 7, 8, 9};

static void test_apikey_format(void **state)
{
    (void)state;
    char key[NQ_APIKEY_MAX], prefix[NQ_APIKEY_PREFIX_LEN + 1], hash[NQ_APIKEY_HASH_HEX];
    nq_err e;
    assert_int_equal(nq_apikey_new(pepper, key, prefix, hash, &e), NQ_OK);
    assert_int_equal(strlen(key), NQ_APIKEY_LEN);
    assert_memory_equal(key, "nqba_", 5);
    assert_int_equal(strlen(prefix), 8);
    assert_memory_equal(key + 5, prefix, 8);
    assert_int_equal(strspn(prefix, "abcdefghijklmnopqrstuvwxyz0123456789"), 8);
    assert_int_equal(key[13], '_');
    assert_int_equal(strspn(key + 14, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                      "0123456789-_"),
                     NQ_APIKEY_SECRET_LEN);
    assert_int_equal(strlen(hash), 64);
    assert_int_equal(strspn(hash, "0123456789abcdef"), 64);
    char parsed[NQ_APIKEY_PREFIX_LEN + 1];
    assert_int_equal(nq_apikey_parse(key, parsed, &e), NQ_OK);
    assert_string_equal(parsed, prefix);
}

static void expect_bad_key(const char *key)
{
    char prefix[NQ_APIKEY_PREFIX_LEN + 1] = "unset";
    nq_err e;
    assert_int_equal(nq_apikey_parse(key, prefix, &e), NQ_EINVAL);
    assert_string_equal(prefix, "unset");
    assert_int_equal(nq_apikey_check(pepper, key, "00"), 0);
}

static void test_apikey_parse_bad(void **state)
{
    (void)state;
    char key[NQ_APIKEY_MAX], prefix[NQ_APIKEY_PREFIX_LEN + 1], hash[NQ_APIKEY_HASH_HEX];
    assert_int_equal(nq_apikey_new(pepper, key, prefix, hash, NULL), NQ_OK);
    char k[NQ_APIKEY_MAX + 8];
    expect_bad_key(NULL);
    expect_bad_key("");
    expect_bad_key("nqba_");
    /* wrong tag */
    strcpy(k, key);
    k[3] = 'b';
    expect_bad_key(k);
    strcpy(k, key);
    k[0] = 'N';
    expect_bad_key(k);
    /* prefix alphabet: upper case, '-', '_' */
    const char bad_prefix[] = {'A', 'Z', '-', '_', '.', ' ', '\x80'};
    for (size_t i = 0; i < sizeof bad_prefix; i++) {
        strcpy(k, key);
        k[5 + i % 8] = bad_prefix[i];
        expect_bad_key(k);
    }
    /* separator */
    strcpy(k, key);
    k[13] = '-';
    expect_bad_key(k);
    /* secret alphabet: standard base64, padding, space */
    const char bad_secret[] = {'+', '/', '=', ' ', '.', '\x80', '\xff'};
    for (size_t i = 0; i < sizeof bad_secret; i++) {
        strcpy(k, key);
        k[14 + 3 * i] = bad_secret[i];
        expect_bad_key(k);
    }
    /* truncated and too long */
    for (size_t n = 0; n < NQ_APIKEY_LEN; n++) {
        memcpy(k, key, n);
        k[n] = '\0';
        expect_bad_key(k);
    }
    strcpy(k, key);
    strcat(k, "A");
    expect_bad_key(k);
    /* The 43rd character carries 4 bits and 2 zero bits: only one
     * spelling of a secret parses ('A' is 0, 'B' is 1). */
    strcpy(k, key);
    k[NQ_APIKEY_LEN - 1] = 'A';
    assert_int_equal(nq_apikey_parse(k, prefix, NULL), NQ_OK);
    k[NQ_APIKEY_LEN - 1] = 'B';
    expect_bad_key(k);
}

static void test_apikey_check(void **state)
{
    (void)state;
    char key[NQ_APIKEY_MAX], prefix[NQ_APIKEY_PREFIX_LEN + 1], hash[NQ_APIKEY_HASH_HEX];
    char other[NQ_APIKEY_MAX], hash2[NQ_APIKEY_HASH_HEX];
    assert_int_equal(nq_apikey_new(pepper, key, prefix, hash, NULL), NQ_OK);
    assert_int_equal(nq_apikey_new(pepper, other, prefix, hash2, NULL), NQ_OK);
    assert_int_equal(nq_apikey_check(pepper, key, hash), 1);
    assert_int_equal(nq_apikey_check(pepper, other, hash2), 1);
    assert_int_equal(nq_apikey_check(pepper, other, hash), 0);
    assert_int_equal(nq_apikey_check(pepper, key, hash2), 0);
    uint8_t wrong_pepper[NQ_APIKEY_PEPPER_LEN];
    memcpy(wrong_pepper, pepper, sizeof wrong_pepper);
    wrong_pepper[31] ^= 1;
    assert_int_equal(nq_apikey_check(wrong_pepper, key, hash), 0);
    /* One changed character of the secret. */
    char k[NQ_APIKEY_MAX];
    strcpy(k, key);
    k[20] = k[20] == 'a' ? 'b' : 'a';
    assert_int_equal(nq_apikey_check(pepper, k, hash), 0);
    /* The stored hash: either case of hex; nothing else. */
    char upper[NQ_APIKEY_HASH_HEX];
    for (int i = 0; i < NQ_APIKEY_HASH_HEX; i++)
        upper[i] = (char)(hash[i] >= 'a' && hash[i] <= 'f' ? hash[i] - 32 : hash[i]);
    assert_int_equal(nq_apikey_check(pepper, key, upper), 1);
    char h[NQ_APIKEY_HASH_HEX + 2];
    memcpy(h, hash, 63);
    h[63] = '\0';
    assert_int_equal(nq_apikey_check(pepper, key, h), 0);
    strcpy(h, hash);
    strcat(h, "0");
    assert_int_equal(nq_apikey_check(pepper, key, h), 0);
    strcpy(h, hash);
    h[10] = 'g';
    assert_int_equal(nq_apikey_check(pepper, key, h), 0);
    assert_int_equal(nq_apikey_check(pepper, key, NULL), 0);
    assert_int_equal(nq_apikey_check(pepper, NULL, hash), 0);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(a, b);
}

static void expect_distinct(char *rows, size_t n, size_t width)
{
    qsort(rows, n, width, cmp_str);
    for (size_t i = 1; i < n; i++)
        assert_string_not_equal(rows + (i - 1) * width, rows + i * width);
}

static void test_apikey_unique(void **state)
{
    (void)state;
    enum { N = 1000 };
    char(*keys)[NQ_APIKEY_MAX] = calloc(N, sizeof *keys);
    char(*prefixes)[NQ_APIKEY_PREFIX_LEN + 1] = calloc(N, sizeof *prefixes);
    char(*hashes)[NQ_APIKEY_HASH_HEX] = calloc(N, sizeof *hashes);
    assert_non_null(keys);
    assert_non_null(prefixes);
    assert_non_null(hashes);
    for (int i = 0; i < N; i++) {
        assert_int_equal(nq_apikey_new(pepper, keys[i], prefixes[i], hashes[i], NULL), NQ_OK);
        assert_int_equal(nq_apikey_parse(keys[i], prefixes[i], NULL), NQ_OK);
    }
    /* Prefixes could clash (36^8 values: about 2e-7 for 1000 keys). */
    expect_distinct(&keys[0][0], N, NQ_APIKEY_MAX);
    expect_distinct(&prefixes[0][0], N, NQ_APIKEY_PREFIX_LEN + 1);
    expect_distinct(&hashes[0][0], N, NQ_APIKEY_HASH_HEX);
    free(keys);
    free(prefixes);
    free(hashes);
}

/* ---- field encryption ------------------------------------------------------ */

/* "kid:<32 bytes of fill, base64url>" appended to spec. */
static void spec_add(char *spec, size_t cap, const char *kid, unsigned char fill)
{
    unsigned char key[NQ_FIELD_KEY_LEN];
    memset(key, fill, sizeof key);
    key[0] = (unsigned char)(fill + 1);
    char b64[64];
    sodium_bin2base64(b64, sizeof b64, key, sizeof key, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    size_t n = strlen(spec);
    snprintf(spec + n, cap - n, "%s%s:%s", n ? "," : "", kid, b64);
}

static nq_field_ring *ring_of(const char *kid1, unsigned char fill1, const char *kid2,
                              unsigned char fill2)
{
    char spec[NQ_FIELD_SPEC_MAX] = "";
    spec_add(spec, sizeof spec, kid1, fill1);
    if (kid2)
        spec_add(spec, sizeof spec, kid2, fill2);
    nq_field_ring *r = NULL;
    nq_err e;
    assert_int_equal(nq_field_ring_parse(spec, &r, &e), NQ_OK);
    return r;
}

static void expect_opens(const nq_field_ring *r, const char *aad, const char *text,
                         const void *plain, size_t len)
{
    char *out = NULL;
    size_t out_len = 99;
    nq_err e;
    assert_int_equal(nq_field_open(r, aad, text, strlen(text), &out, &out_len, &e), NQ_OK);
    assert_int_equal(out_len, len);
    assert_memory_equal(out, plain, len);
    assert_int_equal(out[len], '\0');
    nq_field_free(out, out_len);
}

static void expect_fails(const nq_field_ring *r, const char *aad, const char *text, size_t len,
                         const char *msg)
{
    char *out = (char *)"sentinel";
    size_t out_len = 99;
    nq_err e;
    assert_int_equal(nq_field_open(r, aad, text, len, &out, &out_len, &e), NQ_EINVAL);
    assert_null(out);
    assert_int_equal(out_len, 0);
    if (msg)
        assert_string_equal(e.msg, msg);
}

static void test_field_round_trip(void **state)
{
    (void)state;
    nq_field_ring *r = ring_of("k1", 7, NULL, 0);
    assert_string_equal(nq_field_ring_current(r), "k1");
    static const char bin[] = {0, 1, 2, 0, (char)0xff, 'x'};
    const struct {
        const void *p;
        size_t len;
    } cases[] = {{"", 0}, {"a", 1}, {"jane@example.com", 16}, {bin, sizeof bin}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *text = NULL;
        size_t len = 0;
        nq_err e;
        assert_int_equal(
            nq_field_seal(r, "leads.email:42", cases[i].p, cases[i].len, &text, &len, &e), NQ_OK);
        assert_int_equal(strlen(text), len);
        assert_memory_equal(text, "nqf1:k1:", 8);
        assert_int_equal(nq_field_is_sealed(text), 1);
        expect_opens(r, "leads.email:42", text, cases[i].p, cases[i].len);
        /* A fresh nonce each time. */
        char *again = NULL;
        size_t again_len = 0;
        assert_int_equal(
            nq_field_seal(r, "leads.email:42", cases[i].p, cases[i].len, &again, &again_len, &e),
            NQ_OK);
        assert_int_equal(again_len, len);
        assert_string_not_equal(again, text);
        free(again);
        free(text);
    }
    char *text = NULL;
    size_t len = 0;
    assert_int_equal(nq_field_seal(r, "t.c:1", NULL, 0, &text, &len, NULL), NQ_OK);
    expect_opens(r, "t.c:1", text, "", 0);
    nq_field_free(text, len);
    nq_field_free(NULL, 0);
    assert_int_equal(nq_field_seal(r, "t.c:1", NULL, 3, &text, &len, NULL), NQ_EINVAL);
    assert_int_equal(nq_field_is_sealed("nqf1:"), 1);
    assert_int_equal(nq_field_is_sealed("nqf1"), 0);
    assert_int_equal(nq_field_is_sealed("jane@example.com"), 0);
    assert_int_equal(nq_field_is_sealed(NULL), 0);
    nq_field_ring_free(r);
    nq_field_ring_free(NULL);
}

/* Every single-byte change of a sealed text fails to open, as do all its
 * truncations and an extension. Changes inside the kid fail as an unknown
 * or malformed key id, the rest as malformed or unauthenticated. */
static void test_field_tamper(void **state)
{
    (void)state;
    nq_field_ring *r = ring_of("k1", 7, NULL, 0);
    char *text = NULL;
    size_t len = 0;
    assert_int_equal(nq_field_seal(r, "t.c:1", "secret value", 12, &text, &len, NULL), NQ_OK);
    char *t = malloc(len + 2);
    assert_non_null(t);
    for (size_t i = 0; i < len; i++) {
        for (int v = 0; v < 256; v++) {
            if (v == (unsigned char)text[i])
                continue;
            memcpy(t, text, len + 1);
            t[i] = (char)v;
            char *out = (char *)"sentinel";
            size_t out_len = 99;
            nq_err e;
            assert_int_equal(nq_field_open(r, "t.c:1", t, len, &out, &out_len, &e), NQ_EINVAL);
            assert_null(out);
            if (i >= 5 && i < 7)
                assert_true(!strcmp(e.msg, "unknown key id") || !strcmp(e.msg, "malformed key id"));
        }
    }
    for (size_t n = 0; n < len; n++)
        expect_fails(r, "t.c:1", text, n, NULL);
    memcpy(t, text, len);
    t[len] = 'A';
    expect_fails(r, "t.c:1", t, len + 1, NULL);
    expect_fails(r, "t.c:1", NULL, 0, NULL);
    free(t);
    free(text);
    nq_field_ring_free(r);
}

static void test_field_wrong_aad_and_key(void **state)
{
    (void)state;
    nq_field_ring *r = ring_of("k1", 7, NULL, 0);
    nq_field_ring *same_kid_other_key = ring_of("k1", 8, NULL, 0);
    char *text = NULL;
    size_t len = 0;
    nq_err e;
    assert_int_equal(nq_field_seal(r, "leads.email:42", "x@y.z", 5, &text, &len, &e), NQ_OK);
    expect_fails(r, "leads.email:43", text, len, "authentication failed");
    expect_fails(r, "leads.phone:42", text, len, "authentication failed");
    expect_fails(r, "leads.email:42 ", text, len, "authentication failed");
    expect_fails(same_kid_other_key, "leads.email:42", text, len, "authentication failed");
    char *out = NULL;
    size_t out_len = 0;
    assert_int_equal(nq_field_open(r, "", text, len, &out, &out_len, &e), NQ_EINVAL);
    assert_string_equal(e.where, "aad");
    assert_int_equal(nq_field_open(r, NULL, text, len, &out, &out_len, &e), NQ_EINVAL);
    assert_int_equal(nq_field_seal(r, "", "x", 1, &out, &out_len, &e), NQ_EINVAL);
    assert_null(out);
    char big_aad[NQ_FIELD_AAD_MAX + 2];
    memset(big_aad, 'a', sizeof big_aad - 1);
    big_aad[sizeof big_aad - 1] = '\0';
    assert_int_equal(nq_field_seal(r, big_aad, "x", 1, &out, &out_len, &e), NQ_EINVAL);
    big_aad[NQ_FIELD_AAD_MAX] = '\0';
    assert_int_equal(nq_field_seal(r, big_aad, "x", 1, &out, &out_len, &e), NQ_OK);
    expect_opens(r, big_aad, out, "x", 1);
    free(out);
    free(text);
    nq_field_ring_free(r);
    nq_field_ring_free(same_kid_other_key);
}

static void test_field_rotation(void **state)
{
    (void)state;
    nq_field_ring *old = ring_of("k1", 1, NULL, 0);
    nq_field_ring *both = ring_of("k2", 2, "k1", 1);
    nq_field_ring *only_new = ring_of("k2", 2, NULL, 0);
    const char *aad = "company.documents:7";
    char *v1 = NULL, *v2 = NULL, *v3 = NULL;
    size_t l1 = 0, l2 = 0, l3 = 0;
    int changed = -1;
    nq_err e;
    assert_int_equal(nq_field_seal(old, aad, "confidential", 12, &v1, &l1, &e), NQ_OK);
    /* The new ring still opens old values. */
    expect_opens(both, aad, v1, "confidential", 12);
    assert_int_equal(nq_field_reseal(both, aad, v1, l1, &v2, &l2, &changed, &e), NQ_OK);
    assert_int_equal(changed, 1);
    assert_memory_equal(v2, "nqf1:k2:", 8);
    assert_int_equal(strlen(v2), l2);
    expect_opens(both, aad, v2, "confidential", 12);
    expect_opens(only_new, aad, v2, "confidential", 12);
    expect_fails(old, aad, v2, l2, "unknown key id");
    expect_fails(only_new, aad, v1, l1, "unknown key id");
    /* Already current: nothing to write. */
    assert_int_equal(nq_field_reseal(both, aad, v2, l2, &v3, &l3, &changed, &e), NQ_OK);
    assert_int_equal(changed, 0);
    assert_null(v3);
    /* A value that does not open is reported, not rewritten. */
    assert_int_equal(nq_field_reseal(both, "other:1", v1, l1, &v3, &l3, &changed, &e), NQ_EINVAL);
    assert_int_equal(changed, 0);
    assert_null(v3);
    free(v1);
    free(v2);
    nq_field_ring_free(old);
    nq_field_ring_free(both);
    nq_field_ring_free(only_new);
}

static void expect_bad_spec(const char *spec, int code, const char *where)
{
    nq_field_ring *r = (nq_field_ring *)&r; /* any non-NULL value */
    nq_err e;
    assert_int_equal(nq_field_ring_parse(spec, &r, &e), code);
    assert_null(r);
    if (where)
        assert_string_equal(e.where, where);
}

static void test_field_spec(void **state)
{
    (void)state;
    char good[NQ_FIELD_SPEC_MAX] = "";
    spec_add(good, sizeof good, "A-z_09", 1);
    char key[64]; /* one valid key, base64url */
    snprintf(key, sizeof key, "%s", strchr(good, ':') + 1);
    assert_int_equal(strlen(key), 43);

    char spec[2 * NQ_FIELD_SPEC_MAX];
    char kids[NQ_FIELD_KEYS_MAX + 1][8];
    spec[0] = '\0';
    for (int i = 0; i < NQ_FIELD_KEYS_MAX; i++) {
        snprintf(kids[i], sizeof kids[i], "k%d", i);
        spec_add(spec, sizeof spec, kids[i], (unsigned char)i);
    }
    nq_field_ring *r = NULL;
    nq_err e;
    assert_int_equal(nq_field_ring_parse(spec, &r, &e), NQ_OK);
    assert_string_equal(nq_field_ring_current(r), "k0");
    nq_field_ring_free(r);
    spec_add(spec, sizeof spec, "k8", 8);
    expect_bad_spec(spec, NQ_ELIMIT, "keys[8]");

    assert_int_equal(nq_field_ring_parse(good, &r, &e), NQ_OK);
    nq_field_ring_free(r);
    snprintf(spec, sizeof spec, "abcdefghijklmnop:%s", key); /* a 16-character kid */
    assert_int_equal(nq_field_ring_parse(spec, &r, &e), NQ_OK);
    nq_field_ring_free(r);

    expect_bad_spec(NULL, NQ_EINVAL, "keys");
    expect_bad_spec("", NQ_EINVAL, "keys");
    expect_bad_spec("k1", NQ_EINVAL, "keys[0]");
    snprintf(spec, sizeof spec, ":%s", key);
    expect_bad_spec(spec, NQ_EINVAL, "keys[0]");
    snprintf(spec, sizeof spec, "k 1:%s", key);
    expect_bad_spec(spec, NQ_EINVAL, "keys[0]");
    snprintf(spec, sizeof spec, "k.1:%s", key);
    expect_bad_spec(spec, NQ_EINVAL, "keys[0]");
    snprintf(spec, sizeof spec, "abcdefghijklmnopq:%s", key);
    expect_bad_spec(spec, NQ_EINVAL, "keys[0]");
    snprintf(spec, sizeof spec, "k1:%.42s", key);
    expect_bad_spec(spec, NQ_EINVAL, "keys[0]");
    snprintf(spec, sizeof spec, "k1:%sA", key);
    expect_bad_spec(spec, NQ_EINVAL, "keys[0]");
    snprintf(spec, sizeof spec, "k1:%s=", key);
    expect_bad_spec(spec, NQ_EINVAL, "keys[0]");
    snprintf(spec, sizeof spec, "k1:+%s", key + 1);
    expect_bad_spec(spec, NQ_EINVAL, "keys[0]");
    snprintf(spec, sizeof spec, "k1:\x80%s", key + 1); /* libsodium reads 0x80 as '_' */
    expect_bad_spec(spec, NQ_EINVAL, "keys[0]");
    snprintf(spec, sizeof spec, "k1:%.42sB", key); /* non-zero unused bits */
    expect_bad_spec(spec, NQ_EINVAL, "keys[0]");
    snprintf(spec, sizeof spec, "k1:%s,k2:%s,k1:%s", key, key, key);
    expect_bad_spec(spec, NQ_EINVAL, "keys[2]");
    nq_field_ring_parse(spec, &r, &e);
    assert_non_null(strstr(e.msg, "\"k1\" appears twice"));
    assert_null(strstr(e.msg, key));
    snprintf(spec, sizeof spec, "k1:%s,", key);
    expect_bad_spec(spec, NQ_EINVAL, "keys[1]");
    snprintf(spec, sizeof spec, ",k1:%s", key);
    expect_bad_spec(spec, NQ_EINVAL, "keys[0]");
    snprintf(spec, sizeof spec, "k1:%s,,k2:%s", key, key);
    expect_bad_spec(spec, NQ_EINVAL, "keys[1]");
    snprintf(spec, sizeof spec, "k1:%s,k2:%s ", key, key);
    expect_bad_spec(spec, NQ_EINVAL, "keys[1]");
    nq_field_ring_parse(spec, &r, &e);
    assert_non_null(strstr(e.msg, "\"k2\""));
    assert_null(strstr(e.msg, key));
    memset(spec, 'k', NQ_FIELD_SPEC_MAX + 1);
    spec[NQ_FIELD_SPEC_MAX + 1] = '\0';
    expect_bad_spec(spec, NQ_ELIMIT, "keys");
}

static void test_field_limits(void **state)
{
    (void)state;
    nq_field_ring *r = ring_of("k1", 7, NULL, 0);
    size_t max = NQ_FIELD_PLAIN_MAX;
    char *plain = malloc(max + 1);
    assert_non_null(plain);
    memset(plain, 'd', max + 1);
    char *text = (char *)"sentinel";
    size_t len = 99;
    nq_err e;
    assert_int_equal(nq_field_seal(r, "t.c:1", plain, max + 1, &text, &len, &e), NQ_ELIMIT);
    assert_null(text);
    assert_int_equal(nq_field_seal(r, "t.c:1", plain, max, &text, &len, &e), NQ_OK);
    char *out = NULL;
    size_t out_len = 0;
    assert_int_equal(nq_field_open(r, "t.c:1", text, len, &out, &out_len, &e), NQ_OK);
    assert_int_equal(out_len, max);
    assert_memory_equal(out, plain, max);
    assert_int_equal(out[max], '\0');
    nq_field_free(out, out_len);
    /* Longer than a sealed maximum with the longest kid: refused unread. */
    size_t big = len + NQ_FIELD_KID_MAX;
    char *t = malloc(big);
    assert_non_null(t);
    memcpy(t, text, len);
    memset(t + len, 'A', big - len);
    assert_int_equal(nq_field_open(r, "t.c:1", t, big, &out, &out_len, &e), NQ_ELIMIT);
    assert_null(out);
    free(t);
    free(text);
    free(plain);
    nq_field_ring_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pw_round_trip),
        cmocka_unit_test(test_pw_wrong_password),
        cmocka_unit_test(test_pw_needs_rehash),
        cmocka_unit_test(test_pw_lengths),
        cmocka_unit_test(test_pw_opts),
        cmocka_unit_test(test_pw_defaults),
        cmocka_unit_test(test_pw_dummy_verify),
        cmocka_unit_test(test_pw_concurrency_limit),
        cmocka_unit_test(test_pw_waiter_gets_slot),
        cmocka_unit_test(test_apikey_format),
        cmocka_unit_test(test_apikey_parse_bad),
        cmocka_unit_test(test_apikey_check),
        cmocka_unit_test(test_apikey_unique),
        cmocka_unit_test(test_field_round_trip),
        cmocka_unit_test(test_field_tamper),
        cmocka_unit_test(test_field_wrong_aad_and_key),
        cmocka_unit_test(test_field_rotation),
        cmocka_unit_test(test_field_spec),
        cmocka_unit_test(test_field_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
