/* sha1.h - SHA-1 (FIPS 180-4), streaming and one-shot, and HMAC-SHA1
 * (RFC 2104).
 *
 * SHA-1 is broken for collision resistance; it is here only because RFC
 * 6238 one-time passwords (nqba/totp.h) are HMAC-SHA1 in every
 * authenticator app, and HMAC does not rest on collision resistance.
 * Use nqba/sha256.h for anything else. */
#ifndef NQBA_SHA1_H
#define NQBA_SHA1_H

#include <stddef.h>
#include <stdint.h>

#define NQ_SHA1_LEN 20
#define NQ_SHA1_BLOCK 64

typedef struct nq_sha1_ctx {
    uint32_t h[5];
    uint64_t len;      /* bytes hashed so far */
    uint8_t buf[NQ_SHA1_BLOCK];
    size_t fill;       /* bytes waiting in buf */
} nq_sha1_ctx;

void nq_sha1_init(nq_sha1_ctx *c);
void nq_sha1_update(nq_sha1_ctx *c, const void *data, size_t len);
/* Writes the digest and wipes the context. */
void nq_sha1_final(nq_sha1_ctx *c, uint8_t out[NQ_SHA1_LEN]);

/* One-shot digest. */
void nq_sha1(const void *data, size_t len, uint8_t out[NQ_SHA1_LEN]);

/* HMAC-SHA1 of msg under key. Any key length: keys longer than a block
 * are hashed first, as RFC 2104 says. Key material left on the stack is
 * wiped before return. */
void nq_hmac_sha1(const void *key, size_t klen, const void *msg, size_t mlen,
                  uint8_t out[NQ_SHA1_LEN]);

#endif
