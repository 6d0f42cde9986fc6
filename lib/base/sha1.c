/* sha1.c - SHA-1 as specified in FIPS 180-4, and HMAC-SHA1 (RFC 2104). */
#include "nqba/sha1.h"

#include <sodium.h>
#include <string.h>

static uint32_t rotl(uint32_t x, int n) { return (x << n) | (x >> (32 - n)); }

static uint32_t load_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void store_be32(uint8_t *p, uint32_t x)
{
    p[0] = (uint8_t)(x >> 24);
    p[1] = (uint8_t)(x >> 16);
    p[2] = (uint8_t)(x >> 8);
    p[3] = (uint8_t)x;
}

/* The round function and constant of FIPS 180-4, 4.1.1 and 4.2.1, which
 * change every 20 rounds. */
static uint32_t f_and_k(int i, uint32_t b, uint32_t c, uint32_t d, uint32_t *k)
{
    if (i < 20) {
        *k = 0x5a827999;
        return (b & c) | (~b & d);
    }
    if (i < 40) {
        *k = 0x6ed9eba1;
        return b ^ c ^ d;
    }
    if (i < 60) {
        *k = 0x8f1bbcdc;
        return (b & c) | (b & d) | (c & d);
    }
    *k = 0xca62c1d6;
    return b ^ c ^ d;
}

/* The schedule is kept as a 16-word ring (FIPS 180-4, 6.1.3, alternative
 * method) and the five working variables in locals: no array is shifted
 * per round. */
static void compress(uint32_t h[5], const uint8_t block[NQ_SHA1_BLOCK])
{
    uint32_t w[16];
    for (int i = 0; i < 16; i++)
        w[i] = load_be32(block + 4 * i);
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
    for (int i = 0; i < 80; i++) {
        if (i >= 16)
            w[i & 15] = rotl(w[(i - 3) & 15] ^ w[(i - 8) & 15] ^ w[(i - 14) & 15] ^ w[i & 15], 1);
        uint32_t k;
        uint32_t f = f_and_k(i, b, c, d, &k);
        uint32_t t = rotl(a, 5) + f + e + k + w[i & 15];
        e = d;
        d = c;
        c = rotl(b, 30);
        b = a;
        a = t;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
}

void nq_sha1_init(nq_sha1_ctx *c)
{
    /* FIPS 180-4, 5.3.1. */
    static const uint32_t H0[5] = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0};
    memcpy(c->h, H0, sizeof H0);
    c->len = 0;
    c->fill = 0;
}

void nq_sha1_update(nq_sha1_ctx *c, const void *data, size_t len)
{
    const uint8_t *p = data;
    if (!len)
        return; /* data may then be NULL, which memcpy must never see */
    c->len += len;
    if (c->fill) {
        size_t take = NQ_SHA1_BLOCK - c->fill < len ? NQ_SHA1_BLOCK - c->fill : len;
        memcpy(c->buf + c->fill, p, take);
        c->fill += take;
        p += take;
        len -= take;
        if (c->fill < NQ_SHA1_BLOCK)
            return;
        compress(c->h, c->buf);
        c->fill = 0;
    }
    /* Whole blocks straight from the input: no copy through buf. */
    for (; len >= NQ_SHA1_BLOCK; p += NQ_SHA1_BLOCK, len -= NQ_SHA1_BLOCK)
        compress(c->h, p);
    memcpy(c->buf, p, len);
    c->fill = len;
}

void nq_sha1_final(nq_sha1_ctx *c, uint8_t out[NQ_SHA1_LEN])
{
    uint64_t bits = c->len * 8;
    c->buf[c->fill++] = 0x80;
    /* The 64-bit length must end a block; if it no longer fits in this one,
     * pad it out and start another. */
    if (c->fill > 56) {
        memset(c->buf + c->fill, 0, NQ_SHA1_BLOCK - c->fill);
        compress(c->h, c->buf);
        c->fill = 0;
    }
    memset(c->buf + c->fill, 0, 56 - c->fill);
    store_be32(c->buf + 56, (uint32_t)(bits >> 32));
    store_be32(c->buf + 60, (uint32_t)bits);
    compress(c->h, c->buf);
    for (int i = 0; i < 5; i++)
        store_be32(out + 4 * i, c->h[i]);
    /* The buffer may hold an HMAC key pad. A memset of a context that is
     * about to go out of scope may be optimized away; sodium_memzero is not. */
    sodium_memzero(c, sizeof *c);
}

void nq_sha1(const void *data, size_t len, uint8_t out[NQ_SHA1_LEN])
{
    nq_sha1_ctx c;
    nq_sha1_init(&c);
    nq_sha1_update(&c, data, len);
    nq_sha1_final(&c, out);
}

void nq_hmac_sha1(const void *key, size_t klen, const void *msg, size_t mlen,
                  uint8_t out[NQ_SHA1_LEN])
{
    uint8_t k[NQ_SHA1_BLOCK] = {0};
    if (klen > NQ_SHA1_BLOCK)
        nq_sha1(key, klen, k);
    else if (klen)
        memcpy(k, key, klen);

    uint8_t pad[NQ_SHA1_BLOCK];
    uint8_t inner[NQ_SHA1_LEN];
    nq_sha1_ctx c;
    for (int i = 0; i < NQ_SHA1_BLOCK; i++)
        pad[i] = k[i] ^ 0x36;
    nq_sha1_init(&c);
    nq_sha1_update(&c, pad, sizeof pad);
    nq_sha1_update(&c, msg, mlen);
    nq_sha1_final(&c, inner);

    for (int i = 0; i < NQ_SHA1_BLOCK; i++)
        pad[i] = k[i] ^ 0x5c;
    nq_sha1_init(&c);
    nq_sha1_update(&c, pad, sizeof pad);
    nq_sha1_update(&c, inner, sizeof inner);
    nq_sha1_final(&c, out);

    sodium_memzero(k, sizeof k);
    sodium_memzero(pad, sizeof pad);
    sodium_memzero(inner, sizeof inner);
}
