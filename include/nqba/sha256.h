/* sha256.h - SHA-256 (FIPS 180-4), streaming and one-shot. */
#ifndef NQBA_SHA256_H
#define NQBA_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define NQ_SHA256_LEN 32
#define NQ_SHA256_HEX_LEN 65 /* 64 hex digits + NUL */

typedef struct nq_sha256_ctx {
    uint32_t h[8];
    uint64_t len;      /* bytes hashed so far */
    uint8_t buf[64];
    size_t fill;       /* bytes waiting in buf */
} nq_sha256_ctx;

void nq_sha256_init(nq_sha256_ctx *c);
void nq_sha256_update(nq_sha256_ctx *c, const void *data, size_t len);
void nq_sha256_final(nq_sha256_ctx *c, uint8_t out[NQ_SHA256_LEN]);

/* One-shot digest. */
void nq_sha256(const void *data, size_t len, uint8_t out[NQ_SHA256_LEN]);

/* Lower-case hex of a digest into out (NQ_SHA256_HEX_LEN bytes). */
void nq_sha256_hex(const uint8_t digest[NQ_SHA256_LEN], char out[NQ_SHA256_HEX_LEN]);

#endif
