/* jwt.h - HS256 JSON Web Tokens (RFC 7519, RFC 7515) for access tokens,
 * with a ring of keys so that keys can be rotated without logging anyone out.
 *
 *   nq_jwt_keyring_parse(&ring, "k2:BASE64URL,k1:BASE64URL", &err)  k2 signs
 *   nq_jwt_sign(&ring, &claims, tok, sizeof tok, &err)
 *   nq_jwt_verify(&ring, tok, &expect, now, &claims, &err)
 *   nq_jwt_keyring_wipe(&ring)
 *
 * Rotation: add the new key (it becomes the signing key), keep the old ones
 * in the ring so their tokens still verify, and remove each once the last
 * token it signed has expired.
 *
 * The verifier accepts only what the signer produces and refuses everything
 * else with NQ_EINVAL (NQ_ELIMIT for a token over NQ_JWT_TOKEN_MAX bytes):
 * - three non-empty base64url parts, unpadded, canonical;
 * - a header of exactly alg "HS256", optional typ "JWT" and a kid that is in
 *   the ring (no other members, no fallback to other keys);
 * - a 32-byte signature, compared in constant time before the payload is
 *   parsed;
 * - a payload of the claims below and no others, each of its type (times
 *   are non-negative integers, strings non-empty, within their limits and
 *   free of control characters), no duplicate keys; exp, iat, iss, aud and
 *   sub required; iss and aud equal to the expected ones (aud may be an
 *   array that contains the expected one); not expired, not before nbf and
 *   not issued in the future, each with the leeway for clock skew.
 * Messages say which check failed and never quote the token.
 *
 * The library reads no clock: the caller passes the current time. A keyring
 * holds secrets; wipe it when done. See RFC 8725 for the attacks refused. */
#ifndef NQBA_JWT_H
#define NQBA_JWT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nqba/err.h"

#define NQ_JWT_KEYS_MAX 8     /* keys in a ring */
#define NQ_JWT_KID_MAX 32     /* characters of a kid: [A-Za-z0-9_-] */
#define NQ_JWT_KEY_MIN 32     /* bytes: keys must be >= 32 random bytes */
#define NQ_JWT_KEY_MAX 64     /* bytes: the HMAC-SHA256 block size */
#define NQ_JWT_KEY_NEW_LEN 32 /* bytes of a key made by nq_jwt_key_new */
#define NQ_JWT_TOKEN_MAX 4096 /* bytes of a token, without the NUL */
#define NQ_JWT_MAC_LEN 32     /* bytes of an HS256 signature */
#define NQ_JWT_MAC_B64_LEN 43 /* characters of its base64url form */
#define NQ_JWT_LEEWAY_MAX 300 /* seconds: more skew than this is a broken clock */

/* Longest spec entry nq_jwt_key_new writes: kid, ':', 43 characters, NUL. */
#define NQ_JWT_KEY_SPEC_NEW_MAX (NQ_JWT_KID_MAX + 1 + 43 + 1)
/* Longest key spec nq_jwt_keyring_parse reads. */
#define NQ_JWT_KEY_SPEC_MAX (NQ_JWT_KEYS_MAX * (NQ_JWT_KID_MAX + 1 + 86 + 1))

/* Claim limits, in bytes, without the NUL. */
#define NQ_JWT_SUB_MAX 128
#define NQ_JWT_ROLE_MAX 32
#define NQ_JWT_SCOPE_MAX 256
#define NQ_JWT_ISS_MAX 128
#define NQ_JWT_AUD_MAX 128
#define NQ_JWT_JTI_MAX 64
#define NQ_JWT_AUD_LIST_MAX 8 /* entries of an aud array */

typedef struct nq_jwt_key {
    char kid[NQ_JWT_KID_MAX + 1];
    unsigned char key[NQ_JWT_KEY_MAX];
    size_t key_len; /* NQ_JWT_KEY_MIN..NQ_JWT_KEY_MAX */
} nq_jwt_key;

/* Read-only outside jwt.c: change it through the functions below. */
typedef struct nq_jwt_keyring {
    nq_jwt_key keys[NQ_JWT_KEYS_MAX];
    size_t count;
    int signing; /* index into keys; -1 when the ring is empty */
} nq_jwt_keyring;

/* The claims we issue. Empty strings are left out of a token; nbf 0 too. */
typedef struct nq_jwt_claims {
    char sub[NQ_JWT_SUB_MAX + 1]; /* required: the user */
    char role[NQ_JWT_ROLE_MAX + 1];
    char scope[NQ_JWT_SCOPE_MAX + 1]; /* space-separated */
    char iss[NQ_JWT_ISS_MAX + 1];     /* required */
    char aud[NQ_JWT_AUD_MAX + 1];     /* required; on verify: the expected one */
    char jti[NQ_JWT_JTI_MAX + 1];
    int64_t iat; /* required: seconds since the epoch */
    int64_t nbf; /* 0: absent */
    int64_t exp; /* required, > iat */
    bool mfa;    /* the login passed TOTP */
} nq_jwt_claims;

/* What verify demands of a token. */
typedef struct nq_jwt_expect {
    const char *iss;  /* required, non-empty */
    const char *aud;  /* required, non-empty */
    int64_t leeway_s; /* clock skew allowed, 0..NQ_JWT_LEEWAY_MAX */
} nq_jwt_expect;

/* ---- keys -------------------------------------------------------------- */

/* An empty ring. */
void nq_jwt_keyring_init(nq_jwt_keyring *k);

/* Copy a key into the ring and make it the signing key. NQ_EINVAL for a
 * bad kid, a kid already there or a key outside 32..64 bytes; NQ_ELIMIT
 * when the ring is full. */
int nq_jwt_keyring_add(nq_jwt_keyring *k, const char *kid, const void *key, size_t key_len,
                       nq_err *err);

/* Sign with the key named kid from now on; NQ_ENOTFOUND if absent. */
int nq_jwt_keyring_set_signing(nq_jwt_keyring *k, const char *kid, nq_err *err);

/* Remove (and wipe) a key: its tokens stop verifying. NQ_ENOTFOUND if
 * absent; NQ_EINVAL for the signing key (make another one sign first). */
int nq_jwt_keyring_remove(nq_jwt_keyring *k, const char *kid, nq_err *err);

/* Wipe every key; the ring is empty afterwards. NULL is allowed. */
void nq_jwt_keyring_wipe(nq_jwt_keyring *k);

/* Fill k from "kid1:BASE64URL_KEY,kid2:BASE64URL_KEY" (unpadded base64url,
 * no spaces); the first entry signs. Errors are NQ_EINVAL and name the
 * entry (by position, and by kid once it is valid), never the key; on error
 * k is left empty and wiped. */
int nq_jwt_keyring_parse(nq_jwt_keyring *k, const char *spec, nq_err *err);

/* Write "kid:BASE64URL" for a fresh random key of NQ_JWT_KEY_NEW_LEN bytes
 * into spec_out (cap >= NQ_JWT_KEY_SPEC_NEW_MAX is always enough).
 * NQ_EINVAL for a bad kid, NQ_ELIMIT if cap is short, NQ_EINTERNAL if
 * libsodium cannot start. */
int nq_jwt_key_new(char *spec_out, size_t cap, const char *kid);

/* ---- tokens ------------------------------------------------------------ */

/* The base64url HMAC-SHA256 of input under key (32..64 bytes) into
 * out[NQ_JWT_MAC_B64_LEN + 1]: the third part of a token whose first two
 * parts are input. */
int nq_jwt_hs256_b64(const unsigned char *key, size_t key_len, const char *input, size_t input_len,
                     char out[NQ_JWT_MAC_B64_LEN + 1], nq_err *err);

/* Sign claims with the ring's signing key into out (NUL-terminated).
 * NQ_EINVAL for claims verify would refuse; NQ_ELIMIT if out is short. */
int nq_jwt_sign(const nq_jwt_keyring *k, const nq_jwt_claims *c, char *out, size_t cap,
                nq_err *err);

/* Verify token at time now (seconds since the epoch) and fill out with its
 * claims; out is zeroed on any failure. */
int nq_jwt_verify(const nq_jwt_keyring *k, const char *token, const nq_jwt_expect *x, int64_t now,
                  nq_jwt_claims *out, nq_err *err);

#endif
