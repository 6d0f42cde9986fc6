/* password.c - argon2id password hashes, at most max_concurrent at a time.
 *
 * The slots are a counting semaphore (mutex + condition variable on the
 * monotonic clock) so that a caller can give up after wait_ms: a POSIX
 * sem_timedwait would measure the wait on the wall clock. */
#include "nqba/password.h"

#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "nqba/clock.h"
#include "nqba/cond.h"
#include "service_internal.h"

_Static_assert(NQ_PW_STRBYTES == crypto_pwhash_STRBYTES, "stored hash size");

struct nq_pw_hasher {
    unsigned long long opslimit;
    size_t memlimit;
    int max_concurrent;
    int wait_ms;
    void (*on_slot)(void *arg);
    void *on_slot_arg;
    char dummy[NQ_PW_STRBYTES]; /* hash of a random password nobody knows */

    pthread_mutex_t mu; /* guards the fields below */
    pthread_cond_t freed;
    int in_use;
    unsigned long long done;
    unsigned long long rejected;
};

static int apply_opts(nq_pw_hasher *h, const nq_pw_opts *o, nq_err *err)
{
    h->opslimit = o->opslimit ? o->opslimit : crypto_pwhash_OPSLIMIT_INTERACTIVE;
    h->memlimit = o->memlimit ? o->memlimit : crypto_pwhash_MEMLIMIT_INTERACTIVE;
    h->max_concurrent = o->max_concurrent ? o->max_concurrent : NQ_PW_DEFAULT_CONCURRENT;
    h->wait_ms = o->wait_ms ? o->wait_ms : NQ_PW_DEFAULT_WAIT_MS;
    h->on_slot = o->on_slot;
    h->on_slot_arg = o->on_slot_arg;
    if (h->opslimit < crypto_pwhash_OPSLIMIT_MIN || h->opslimit > crypto_pwhash_OPSLIMIT_MAX)
        return nq_err_set(err, NQ_EINVAL, "opslimit", "must be %llu..%llu",
                          (unsigned long long)crypto_pwhash_OPSLIMIT_MIN,
                          (unsigned long long)crypto_pwhash_OPSLIMIT_MAX);
    if (h->memlimit < crypto_pwhash_MEMLIMIT_MIN || h->memlimit > crypto_pwhash_MEMLIMIT_MAX)
        return nq_err_set(err, NQ_EINVAL, "memlimit", "must be %zu..%zu bytes",
                          (size_t)crypto_pwhash_MEMLIMIT_MIN, (size_t)crypto_pwhash_MEMLIMIT_MAX);
    if (h->max_concurrent < 1 || h->max_concurrent > NQ_PW_CONCURRENT_MAX)
        return nq_err_set(err, NQ_EINVAL, "max_concurrent", "must be 1..%d", NQ_PW_CONCURRENT_MAX);
    if (h->wait_ms < 1 || h->wait_ms > NQ_PW_WAIT_MAX_MS)
        return nq_err_set(err, NQ_EINVAL, "wait_ms", "must be 1..%d", NQ_PW_WAIT_MAX_MS);
    return NQ_OK;
}

static int hash_str(const nq_pw_hasher *h, const void *password, size_t len,
                    char out[NQ_PW_STRBYTES], nq_err *err)
{
    if (crypto_pwhash_str_alg(out, password, len, h->opslimit, h->memlimit,
                              crypto_pwhash_ALG_ARGON2ID13) != 0)
        return nq_err_set(err, NQ_ENOMEM, "password", "out of memory for the hash (%zu bytes)",
                          h->memlimit);
    return NQ_OK;
}

/* The dummy's password is random and forgotten at once, so no input
 * verifies against it; only its cost matters. */
static int make_dummy(nq_pw_hasher *h, nq_err *err)
{
    unsigned char secret[32];
    randombytes_buf(secret, sizeof secret);
    int rc = hash_str(h, secret, sizeof secret, h->dummy, err);
    sodium_memzero(secret, sizeof secret);
    return rc;
}

int nq_pw_hasher_new(const nq_pw_opts *o, nq_pw_hasher **out, nq_err *err)
{
    *out = NULL;
    if (sodium_init() < 0)
        return nq_err_set(err, NQ_EINTERNAL, "password", "libsodium failed to start");
    nq_pw_opts defaults = {0};
    nq_pw_hasher *h = calloc(1, sizeof *h);
    if (!h)
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    int rc = apply_opts(h, o ? o : &defaults, err);
    if (!rc)
        rc = make_dummy(h, err);
    if (!rc && nq_cond_init(&h->freed))
        rc = nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    if (rc) {
        free(h);
        return rc;
    }
    pthread_mutex_init(&h->mu, NULL);
    *out = h;
    return NQ_OK;
}

void nq_pw_hasher_free(nq_pw_hasher *h)
{
    if (!h)
        return;
    pthread_cond_destroy(&h->freed);
    pthread_mutex_destroy(&h->mu);
    free(h);
}

static int acquire(nq_pw_hasher *h, nq_err *err)
{
    pthread_mutex_lock(&h->mu);
    double deadline = nq_clock_s() + h->wait_ms / 1000.0;
    while (h->in_use >= h->max_concurrent) {
        if (!nq_cond_wait_until(&h->freed, &h->mu, deadline) && h->in_use >= h->max_concurrent) {
            h->rejected++;
            pthread_mutex_unlock(&h->mu);
            return nq_err_set(err, NQ_ELIMIT, "password", "all %d password slots busy for %d ms",
                              h->max_concurrent, h->wait_ms);
        }
    }
    h->in_use++;
    pthread_mutex_unlock(&h->mu);
    if (h->on_slot)
        h->on_slot(h->on_slot_arg);
    return NQ_OK;
}

static void release(nq_pw_hasher *h)
{
    pthread_mutex_lock(&h->mu);
    h->in_use--;
    h->done++;
    pthread_cond_signal(&h->freed);
    pthread_mutex_unlock(&h->mu);
}

static int check_len(size_t len, nq_err *err)
{
    if (len == 0)
        return nq_err_set(err, NQ_EINVAL, "password", "empty");
    if (len > NQ_PW_LEN_MAX)
        return nq_err_set(err, NQ_ELIMIT, "password", "longer than %d bytes", NQ_PW_LEN_MAX);
    return NQ_OK;
}

int nq_pw_hash(nq_pw_hasher *h, const void *password, size_t len, char out[NQ_PW_STRBYTES],
               nq_err *err)
{
    int rc = check_len(len, err);
    if (rc)
        return rc;
    if ((rc = acquire(h, err)) != NQ_OK)
        return rc;
    rc = hash_str(h, password, len, out, err);
    release(h);
    return rc;
}

/* Verify under a slot. libsodium reads stored up to its NUL; a copy into
 * a full-size, zero-padded buffer keeps a short or unterminated argument
 * from being read past its end. */
static int verify_str(nq_pw_hasher *h, const char *stored, const void *password, size_t len,
                      int *match, nq_err *err)
{
    char str[NQ_PW_STRBYTES] = {0};
    size_t n = strnlen(stored, sizeof str);
    if (n == sizeof str)
        return nq_err_set(err, NQ_EINVAL, "password", "stored hash is too long");
    memcpy(str, stored, n);
    int rc = acquire(h, err);
    if (rc)
        return rc;
    *match = crypto_pwhash_str_verify(str, password, len) == 0;
    release(h);
    return NQ_OK;
}

int nq_pw_verify(nq_pw_hasher *h, const char *stored, const void *password, size_t len,
                 int *needs_rehash, nq_err *err)
{
    if (needs_rehash)
        *needs_rehash = 0;
    if (!stored)
        return nq_err_set(err, NQ_EINVAL, "password", "no stored hash");
    int rc = check_len(len, err);
    if (rc)
        return rc;
    int match = 0;
    if ((rc = verify_str(h, stored, password, len, &match, err)) != NQ_OK)
        return rc;
    if (!match)
        return nq_err_set(err, NQ_EINVAL, "password", "wrong password");
    /* 1: other parameters; -1: not an argon2id string (an argon2i one,
     * which still verifies): both are worth replacing. */
    if (needs_rehash)
        *needs_rehash = crypto_pwhash_str_needs_rehash(stored, h->opslimit, h->memlimit) != 0;
    return NQ_OK;
}

int nq_pw_dummy_verify(nq_pw_hasher *h, const void *password, size_t len)
{
    int rc = nq_pw_verify(h, h->dummy, password, len, NULL, NULL);
    return rc == NQ_OK ? NQ_EINVAL : rc;
}

void nq_pw_hasher_stats(nq_pw_hasher *h, nq_pw_stats *st)
{
    pthread_mutex_lock(&h->mu);
    st->in_use = h->in_use;
    st->max_concurrent = h->max_concurrent;
    st->done = h->done;
    st->rejected = h->rejected;
    pthread_mutex_unlock(&h->mu);
}
