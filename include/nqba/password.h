/* password.h - password hashing with argon2id (libsodium crypto_pwhash).
 *
 *   nq_pw_hasher_new(&opts, &h, &err)          parameters + a dummy hash
 *   nq_pw_hash(h, pw, len, stored, &err)       "$argon2id$v=19$m=...,t=...,p=1$..."
 *   nq_pw_verify(h, stored, pw, len, &rehash, &err)   NQ_OK / NQ_EINVAL / NQ_ELIMIT
 *   nq_pw_dummy_verify(h, pw, len)             same cost, always NQ_EINVAL
 *   nq_pw_hasher_free(h)
 *
 * Each hash or verify allocates memlimit bytes (64 MiB by default) for its
 * duration, so a burst of logins could exhaust memory. A hasher therefore
 * admits at most max_concurrent of them at a time; a caller that finds
 * every slot busy waits up to wait_ms and then gets NQ_ELIMIT, which the
 * server answers with 429/503 instead of queueing without bound.
 *
 * Unknown users: a login for a name that does not exist must cost the same
 * as a wrong password, or response times tell which names exist. The caller
 * must then run nq_pw_dummy_verify with the submitted password (it verifies
 * against a hash made at hasher creation with the hasher's own parameters)
 * and answer exactly as for a wrong password.
 *
 * Rehash on parameter change: nq_pw_verify sets *needs_rehash when the
 * stored hash was made with other parameters (or another algorithm) than
 * the hasher's; after a successful login the caller stores a new hash.
 *
 * Thread-safe. Stored hashes are trusted input (they come from our own
 * store): verifying one costs the memory of the parameters it names. */
#ifndef NQBA_PASSWORD_H
#define NQBA_PASSWORD_H

#include <stddef.h>

#include "nqba/err.h"

typedef struct nq_pw_hasher nq_pw_hasher;

/* Size of a stored hash string with its NUL (crypto_pwhash_STRBYTES). */
#define NQ_PW_STRBYTES 128
#define NQ_PW_LEN_MAX 1024 /* bytes of a password; longer: NQ_ELIMIT */

#define NQ_PW_DEFAULT_CONCURRENT 2
#define NQ_PW_CONCURRENT_MAX 256
#define NQ_PW_DEFAULT_WAIT_MS 1000
#define NQ_PW_WAIT_MAX_MS 60000

/* Parameters; a zeroed struct (or NULL) means every default. */
typedef struct nq_pw_opts {
    unsigned long long opslimit; /* 0 = crypto_pwhash_OPSLIMIT_INTERACTIVE; >= _MIN */
    size_t memlimit;             /* bytes; 0 = crypto_pwhash_MEMLIMIT_INTERACTIVE; >= _MIN */
    int max_concurrent;          /* 0 = 2; 1..NQ_PW_CONCURRENT_MAX */
    int wait_ms;                 /* wait for a slot; 0 = 1000; 1..NQ_PW_WAIT_MAX_MS */
    /* For tests: called, if set, while a hash or verify holds its slot and
     * before it starts, so a test can keep a slot busy for as long as it
     * needs without depending on how fast the machine hashes. */
    void (*on_slot)(void *arg);
    void *on_slot_arg;
} nq_pw_opts;

/* Counters for /metrics. */
typedef struct nq_pw_stats {
    int in_use;                  /* slots held now */
    int max_concurrent;          /* slots in all */
    unsigned long long done;     /* hashes and verifies run */
    unsigned long long rejected; /* calls that found no slot within wait_ms */
} nq_pw_stats;

/* Check o (NQ_EINVAL naming the field) and make the dummy hash (one hash's
 * time and memory). NQ_ENOMEM when memory is short, NQ_EINTERNAL when
 * libsodium cannot start. */
int nq_pw_hasher_new(const nq_pw_opts *o, nq_pw_hasher **out, nq_err *err);

/* NULL is a no-op. No call on h may be running. */
void nq_pw_hasher_free(nq_pw_hasher *h);

/* Hash password (len bytes, any bytes) into out, a NUL-terminated string
 * that names its own algorithm, parameters and random salt.
 * Empty: NQ_EINVAL; longer than NQ_PW_LEN_MAX: NQ_ELIMIT; no slot: NQ_ELIMIT. */
int nq_pw_hash(nq_pw_hasher *h, const void *password, size_t len, char out[NQ_PW_STRBYTES],
               nq_err *err);

/* NQ_OK when password matches stored (a string made by nq_pw_hash, or any
 * argon2 string libsodium reads); NQ_EINVAL on a mismatch or a stored
 * string that is not a hash; NQ_ELIMIT as for nq_pw_hash. On NQ_OK,
 * *needs_rehash (if not NULL) is 1 when stored should be replaced by a
 * fresh nq_pw_hash of the same password, else 0. */
int nq_pw_verify(nq_pw_hasher *h, const char *stored, const void *password, size_t len,
                 int *needs_rehash, nq_err *err);

/* The work of nq_pw_verify against the hasher's dummy hash, for unknown
 * users. Returns NQ_EINVAL (a mismatch), or NQ_ELIMIT as nq_pw_verify
 * would; never NQ_OK. */
int nq_pw_dummy_verify(nq_pw_hasher *h, const void *password, size_t len);

void nq_pw_hasher_stats(nq_pw_hasher *h, nq_pw_stats *st);

#endif
