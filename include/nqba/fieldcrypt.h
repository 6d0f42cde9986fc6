/* fieldcrypt.h - encryption at rest of sensitive stored fields (company
 * data documents, personal data of leads) with XChaCha20-Poly1305.
 *
 *   nq_field_ring_parse("k2:BASE64URL,k1:BASE64URL", &ring, &err)   k2 is current
 *   nq_field_seal(ring, "leads.email:42", plain, len, &text, &text_len, &err)
 *   nq_field_open(ring, "leads.email:42", text, text_len, &plain, &len, &err)
 *   nq_field_reseal(...)        re-encrypt under the current key (rotation)
 *   nq_field_free(plain, len)   wipe and free an output
 *   nq_field_ring_free(ring)    wipe and free the keys
 *
 * A sealed value is text, safe for any TEXT column:
 *
 *   nqf1:<kid>:<base64url(nonce (24 bytes) || ciphertext || tag (16 bytes))>
 *
 * The key id names the key that sealed it, so old values stay readable
 * while keys rotate: put the new key first in the spec, keep the old ones
 * after it, run the re-encryption over the stored values, then drop the
 * old keys. The nonce is random per value (192 bits: no risk of reuse).
 *
 * aad ("table.column:rowid") is authenticated but not stored: a value
 * opens only with the aad it was sealed with, so a value copied into
 * another row or column fails to open instead of being read as that one.
 *
 * Every failure to open (malformed text, unknown key id, wrong key, wrong
 * aad, any byte changed) is NQ_EINVAL and yields no plaintext at all.
 * A ring is read-only after parsing: thread-safe. */
#ifndef NQBA_FIELDCRYPT_H
#define NQBA_FIELDCRYPT_H

#include <stddef.h>
#include <stdint.h>

#include "nqba/err.h"

typedef struct nq_field_ring nq_field_ring;

#define NQ_FIELD_KEYS_MAX 8
#define NQ_FIELD_KID_MAX 16                    /* characters of [A-Za-z0-9_-] */
#define NQ_FIELD_KEY_LEN 32                    /* bytes; 43 characters of base64url */
#define NQ_FIELD_SPEC_MAX 1024                 /* characters of a key spec */
#define NQ_FIELD_AAD_MAX 1024                  /* bytes of an aad */
#define NQ_FIELD_PLAIN_MAX (16u * 1024 * 1024) /* bytes; bigger: NQ_ELIMIT */
#define NQ_FIELD_PREFIX "nqf1:"

/* Parse "kid:BASE64URL[,kid:BASE64URL]..." (no spaces, no padding; the
 * first entry is the current key). NQ_EINVAL with where "keys[i]" naming
 * the entry by position (and kid when it has one); messages never quote
 * key material. More than NQ_FIELD_KEYS_MAX entries or a spec longer than
 * NQ_FIELD_SPEC_MAX: NQ_ELIMIT. */
int nq_field_ring_parse(const char *spec, nq_field_ring **out, nq_err *err);

/* Wipe the keys and free; NULL is a no-op. */
void nq_field_ring_free(nq_field_ring *ring);

/* The kid of the current key (valid while the ring lives). */
const char *nq_field_ring_current(const nq_field_ring *ring);

/* Seal len bytes of plain (NULL allowed when len is 0) under the current
 * key, bound to aad (1..NQ_FIELD_AAD_MAX bytes, NUL-terminated). *out is
 * a NUL-terminated malloc'd string of *out_len characters (free it with
 * free() or nq_field_free). len > NQ_FIELD_PLAIN_MAX: NQ_ELIMIT. */
int nq_field_seal(const nq_field_ring *ring, const char *aad, const void *plain, size_t len,
                  char **out, size_t *out_len, nq_err *err);

/* Open len bytes of text (need not be NUL-terminated) sealed with the same
 * aad. On NQ_OK, *out is malloc'd, holds *out_len bytes of plaintext and a
 * NUL after them; free it with nq_field_free, which wipes it first. On any
 * failure *out is NULL: NQ_EINVAL ("malformed ...", "unknown key id",
 * "authentication failed"), or NQ_ELIMIT for text longer than any sealed
 * value of NQ_FIELD_PLAIN_MAX bytes. */
int nq_field_open(const nq_field_ring *ring, const char *aad, const char *text, size_t len,
                  char **out, size_t *out_len, nq_err *err);

/* Open text and, when its kid is not the current one, seal the plaintext
 * again under the current key: *changed = 1 and *out, *out_len are the
 * new text (as from nq_field_seal). When it already uses the current key,
 * *changed = 0, *out = NULL: keep the stored value. Fails as nq_field_open
 * does, so a rotation pass also finds values that no longer open. */
int nq_field_reseal(const nq_field_ring *ring, const char *aad, const char *text, size_t len,
                    char **out, size_t *out_len, int *changed, nq_err *err);

/* 1 when text (NUL-terminated) starts with "nqf1:", i.e. claims to be a
 * sealed value (for telling sealed from legacy clear values); 0 otherwise.
 * Only nq_field_open tells whether it really is one. */
int nq_field_is_sealed(const char *text);

/* Wipe len bytes (len + 1 with the NUL is covered too) and free; NULL ok. */
void nq_field_free(char *p, size_t len);

#endif
