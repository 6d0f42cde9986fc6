/* rng.h - seedable pseudo-random numbers: xoshiro256** with jump.
 *
 * A generator is a plain value; the library never keeps hidden state.
 * Independent streams come from nq_rng_jump (2^128 steps apart), so read k
 * of a solver can use "seed, jumped k times" whatever thread runs it. */
#ifndef NQBA_RNG_H
#define NQBA_RNG_H

#include <stdint.h>

typedef struct nq_rng {
    uint64_t s[4];
} nq_rng;

/* Seed from one 64-bit value (expanded with splitmix64; any seed is valid). */
void nq_rng_seed(nq_rng *r, uint64_t seed);

/* Advance by 2^128 steps: the result is a stream independent of the input. */
void nq_rng_jump(nq_rng *r);

/* Seed, then jump `stream` times. O(stream) jumps: for many streams, seed
 * once and jump incrementally instead. */
void nq_rng_stream(nq_rng *r, uint64_t seed, uint64_t stream);

static inline uint64_t nq__rotl64(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

/* Next 64 random bits. */
static inline uint64_t nq_rng_u64(nq_rng *r)
{
    uint64_t *s = r->s;
    uint64_t out = nq__rotl64(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = nq__rotl64(s[3], 45);
    return out;
}

/* Uniform double in [0, 1) with 53 random bits. */
static inline double nq_rng_double(nq_rng *r) { return (double)(nq_rng_u64(r) >> 11) * 0x1.0p-53; }

/* Uniform integer in [0, bound) without modulo bias; bound > 0. */
uint64_t nq_rng_below(nq_rng *r, uint64_t bound);

#endif
