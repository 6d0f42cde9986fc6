/* sha256.c - SHA-256 as specified in FIPS 180-4.
 *
 * Whole blocks go through blocks(): on x86-64 CPUs with the SHA extensions
 * it is the SHA-NI code below, elsewhere the portable compress(). */
#include "nqba/sha256.h"

#include <string.h>

#include "sha256_internal.h"

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#endif

/* First 32 bits of the fractional parts of the cube roots of the first 64
 * primes (FIPS 180-4, 4.2.2). */
static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
    0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
    0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
    0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
    0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
    0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
    0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
    0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
    0xc67178f2};

static uint32_t rotr(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

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

static void schedule(uint32_t w[64], const uint8_t block[64])
{
    for (int i = 0; i < 16; i++)
        w[i] = load_be32(block + 4 * i);
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = s1 + w[i - 7] + s0 + w[i - 16];
    }
}

/* The eight working variables live in locals, not an array shifted each
 * round: the shift was a call to memmove per round. */
static void compress(uint32_t h[8], const uint8_t block[64])
{
    uint32_t w[64];
    schedule(w, block);
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6];
    uint32_t k = h[7]; /* FIPS 180-4 calls it h, the name of the state here */
    for (int i = 0; i < 64; i++) {
        uint32_t s1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25);
        uint32_t ch = (e & f) ^ (~e & g);
        uint32_t t1 = k + s1 + ch + K[i] + w[i];
        uint32_t s0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22);
        uint32_t maj = (a & b) ^ (a & c) ^ (b & c);
        k = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = b;
        b = a;
        a = t1 + s0 + maj;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
    h[5] += f;
    h[6] += g;
    h[7] += k;
}

/* Hashes n consecutive 64-byte blocks into h. */
typedef void blocks_fn(uint32_t h[8], const uint8_t *p, size_t n);

static void blocks_portable(uint32_t h[8], const uint8_t *p, size_t n)
{
    for (; n; n--, p += 64)
        compress(h, p);
}

#if defined(__x86_64__)
/* Only these functions may use the SHA extensions; the rest of the library
 * must run on any x86-64, so no -m flags for the whole build. */
#define NQ_SHANI __attribute__((target("sha,sse4.1,ssse3")))

/* sha256rnds2 wants the state split as ABEF and CDGH (A and C in the top
 * lane), not the A..H order of h[]. */
NQ_SHANI static void shani_load_state(const uint32_t h[8], __m128i *abef, __m128i *cdgh)
{
    __m128i dcba = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)h), 0x1b);
    __m128i hgfe = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)(h + 4)), 0x1b);
    *abef = _mm_unpackhi_epi64(hgfe, dcba);
    *cdgh = _mm_unpacklo_epi64(hgfe, dcba);
}

NQ_SHANI static void shani_store_state(uint32_t h[8], __m128i abef, __m128i cdgh)
{
    __m128i dcba = _mm_unpackhi_epi64(cdgh, abef);
    __m128i hgfe = _mm_unpacklo_epi64(cdgh, abef);
    _mm_storeu_si128((__m128i *)h, _mm_shuffle_epi32(dcba, 0x1b));
    _mm_storeu_si128((__m128i *)(h + 4), _mm_shuffle_epi32(hgfe, 0x1b));
}

/* Four big-endian message words, W[t] in the low lane. */
NQ_SHANI static __m128i shani_load_words(const uint8_t *p)
{
    const __m128i bswap32 = _mm_set_epi8(12, 13, 14, 15, 8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3);
    return _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)p), bswap32);
}

/* W[t..t+3] from the sixteen words before them, given as W[t-16..t-13],
 * W[t-12..t-9], W[t-8..t-5], W[t-4..t-1]. msg1 adds sigma0, msg2 sigma1;
 * the W[t-7] term between them is the only one neither instruction reads,
 * so it is gathered from two vectors with alignr. */
NQ_SHANI static __m128i shani_next_words(__m128i w16, __m128i w12, __m128i w8, __m128i w4)
{
    __m128i x = _mm_sha256msg1_epu32(w16, w12);
    x = _mm_add_epi32(x, _mm_alignr_epi8(w4, w8, 4));
    return _mm_sha256msg2_epu32(x, w4);
}

/* Rounds t..t+3 with wk = W[t..t+3] + K[t..t+3]. Each sha256rnds2 does two
 * rounds from the low two lanes of wk and returns the new ABEF; two rounds
 * on, the old ABEF has become CDGH, so the registers swap roles. */
NQ_SHANI static void shani_four_rounds(__m128i *abef, __m128i *cdgh, __m128i wk)
{
    __m128i mid = _mm_sha256rnds2_epu32(*cdgh, *abef, wk);
    *abef = _mm_sha256rnds2_epu32(*abef, mid, _mm_shuffle_epi32(wk, 0x0e));
    *cdgh = mid;
}

/* One block. The round loop is unrolled so that w[] lives in registers;
 * gcc does that by itself, clang 14 only when asked. */
NQ_SHANI static void shani_compress(__m128i *abef, __m128i *cdgh, const uint8_t *p)
{
    __m128i abef0 = *abef, cdgh0 = *cdgh;
    __m128i w[4]; /* W[4g..4g+3] in w[g % 4]: the last sixteen words */
    for (int g = 0; g < 4; g++)
        w[g] = shani_load_words(p + 16 * g);
#pragma GCC unroll 16
    for (int g = 0; g < 16; g++) {
        if (g >= 4)
            w[g & 3] = shani_next_words(w[g & 3], w[(g + 1) & 3], w[(g + 2) & 3], w[(g + 3) & 3]);
        __m128i k = _mm_loadu_si128((const __m128i *)(K + 4 * g));
        shani_four_rounds(abef, cdgh, _mm_add_epi32(w[g & 3], k));
    }
    *abef = _mm_add_epi32(*abef, abef0);
    *cdgh = _mm_add_epi32(*cdgh, cdgh0);
}

/* The state stays in ABEF/CDGH form across all n blocks and is converted
 * back only once. */
NQ_SHANI static void blocks_shani(uint32_t h[8], const uint8_t *p, size_t n)
{
    __m128i abef, cdgh;
    shani_load_state(h, &abef, &cdgh);
    for (; n; n--, p += 64)
        shani_compress(&abef, &cdgh, p);
    shani_store_state(h, abef, cdgh);
}

/* Picks blocks() once, when the program is loaded: cpuid traps to the
 * hypervisor in a VM, far too slow to ask per call, and the choice lives in
 * the loader's relocation rather than in a variable of ours. (clang 14's
 * __builtin_cpu_supports does not know "sha".) This runs before any
 * constructor, the sanitizers' included, so it must not be instrumented,
 * and it uses only the cpuid macros, never the helper functions of
 * <cpuid.h>, which are real calls when not optimizing. "used" because
 * clang 14 does not count the ifunc reference as a use. */
__attribute__((used, no_sanitize("address", "undefined"))) static blocks_fn *resolve_blocks(void)
{
    unsigned int eax, ebx, ecx, edx;
    __cpuid(0, eax, ebx, ecx, edx);
    if (eax < 7)
        return blocks_portable;
    __cpuid(1, eax, ebx, ecx, edx);
    if (!(ecx & bit_SSSE3) || !(ecx & bit_SSE4_1))
        return blocks_portable;
    __cpuid_count(7, 0, eax, ebx, ecx, edx);
    return (ebx & bit_SHA) ? blocks_shani : blocks_portable;
}

static void blocks(uint32_t h[8], const uint8_t *p, size_t n)
    __attribute__((ifunc("resolve_blocks")));
#else
static void blocks(uint32_t h[8], const uint8_t *p, size_t n)
{
    blocks_portable(h, p, n);
}
#endif

void nq_sha256_init(nq_sha256_ctx *c)
{
    /* First 32 bits of the fractional parts of the square roots of the
     * first 8 primes (FIPS 180-4, 5.3.3). */
    static const uint32_t H0[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    memcpy(c->h, H0, sizeof H0);
    c->len = 0;
    c->fill = 0;
}

/* update and final take the block function as a parameter so that the
 * tests can run the portable one on a CPU that has the SHA extensions. */
static void update_with(nq_sha256_ctx *c, const void *data, size_t len, blocks_fn *fn)
{
    const uint8_t *p = data;
    c->len += len;
    if (c->fill) {
        size_t take = 64 - c->fill < len ? 64 - c->fill : len;
        memcpy(c->buf + c->fill, p, take);
        c->fill += take;
        p += take;
        len -= take;
        if (c->fill < 64)
            return;
        fn(c->h, c->buf, 1);
        c->fill = 0;
    }
    /* Whole blocks straight from the input, all in one call: no copy
     * through buf, and the SHA-NI state stays in registers between them. */
    if (len >= 64) {
        fn(c->h, p, len / 64);
        p += len / 64 * 64;
        len %= 64;
    }
    memcpy(c->buf, p, len);
    c->fill = len;
}

static void final_with(nq_sha256_ctx *c, uint8_t out[NQ_SHA256_LEN], blocks_fn *fn)
{
    uint64_t bits = c->len * 8;
    c->buf[c->fill++] = 0x80;
    /* The 64-bit length must end a block; if it no longer fits in this one,
     * pad it out and start another. */
    if (c->fill > 56) {
        memset(c->buf + c->fill, 0, 64 - c->fill);
        fn(c->h, c->buf, 1);
        c->fill = 0;
    }
    memset(c->buf + c->fill, 0, 56 - c->fill);
    store_be32(c->buf + 56, (uint32_t)(bits >> 32));
    store_be32(c->buf + 60, (uint32_t)bits);
    fn(c->h, c->buf, 1);
    for (int i = 0; i < 8; i++)
        store_be32(out + 4 * i, c->h[i]);
    memset(c, 0, sizeof *c);
}

void nq_sha256_update(nq_sha256_ctx *c, const void *data, size_t len)
{
    update_with(c, data, len, blocks);
}

void nq_sha256_final(nq_sha256_ctx *c, uint8_t out[NQ_SHA256_LEN])
{
    final_with(c, out, blocks);
}

void nq_sha256(const void *data, size_t len, uint8_t out[NQ_SHA256_LEN])
{
    nq_sha256_ctx c;
    nq_sha256_init(&c);
    nq_sha256_update(&c, data, len);
    nq_sha256_final(&c, out);
}

void nq__sha256_portable(const void *data, size_t len, uint8_t out[NQ_SHA256_LEN])
{
    nq_sha256_ctx c;
    nq_sha256_init(&c);
    update_with(&c, data, len, blocks_portable);
    final_with(&c, out, blocks_portable);
}

void nq_sha256_hex(const uint8_t digest[NQ_SHA256_LEN], char out[NQ_SHA256_HEX_LEN])
{
    static const char HEX[] = "0123456789abcdef";
    for (int i = 0; i < NQ_SHA256_LEN; i++) {
        out[2 * i] = HEX[digest[i] >> 4];
        out[2 * i + 1] = HEX[digest[i] & 15];
    }
    out[2 * NQ_SHA256_LEN] = '\0';
}
