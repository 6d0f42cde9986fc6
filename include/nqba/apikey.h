/* apikey.h - API keys: shown to their owner once, stored only as a hash.
 *
 *   nqba_<prefix>_<secret>
 *   nqba_hkkzqmms_4ePUJpbjgHaFmlz71bN9Jej4a5DhpcEdv2uI4mcHPBo   (57 characters)
 *
 * prefix: 8 random characters of [a-z0-9], stored in clear so a presented
 * key can be looked up; not secret, not unique by construction (the store
 * keeps it unique and makes a new key on a clash).
 * secret: 32 random bytes in base64url without padding (43 characters;
 * it may contain '_', so the parts are split by position, not by '_').
 *
 * The stored hash is BLAKE2b-256 of the whole key keyed with a server
 * pepper (32 bytes kept outside the database): a leaked database alone
 * does not let anyone test guesses offline. A fast hash suffices because
 * the secret has 256 random bits; there is nothing to brute-force.
 *
 * No global state; thread-safe. */
#ifndef NQBA_APIKEY_H
#define NQBA_APIKEY_H

#include <stddef.h>
#include <stdint.h>

#include "nqba/err.h"

#define NQ_APIKEY_PEPPER_LEN 32
#define NQ_APIKEY_PREFIX_LEN 8
#define NQ_APIKEY_SECRET_LEN 43 /* characters of the encoded secret */
#define NQ_APIKEY_LEN (5 + NQ_APIKEY_PREFIX_LEN + 1 + NQ_APIKEY_SECRET_LEN) /* 57 */
#define NQ_APIKEY_MAX (NQ_APIKEY_LEN + 1)                                   /* with the NUL */
#define NQ_APIKEY_HASH_HEX 65 /* 64 lower-case hex digits + NUL */

/* Make a key. key is shown to the user once and then forgotten (wipe it);
 * prefix and hash_hex are what the store keeps. NQ_EINTERNAL only when
 * libsodium cannot start. */
int nq_apikey_new(const uint8_t pepper[NQ_APIKEY_PEPPER_LEN], char key[NQ_APIKEY_MAX],
                  char prefix[NQ_APIKEY_PREFIX_LEN + 1], char hash_hex[NQ_APIKEY_HASH_HEX],
                  nq_err *err);

/* Check the format strictly (exact length, "nqba_", the prefix alphabet,
 * '_', a canonical base64url encoding of 32 bytes) and copy the prefix out.
 * NQ_EINVAL otherwise, with prefix untouched; messages never quote the key. */
int nq_apikey_parse(const char *key, char prefix[NQ_APIKEY_PREFIX_LEN + 1], nq_err *err);

/* 1 when key is well formed and its peppered hash equals stored_hash_hex
 * (64 hex digits, either case), compared in constant time; else 0. */
int nq_apikey_check(const uint8_t pepper[NQ_APIKEY_PEPPER_LEN], const char *key,
                    const char *stored_hash_hex);

#endif
