/* strhash.h - the string hash of the in-memory tables (job and cache maps,
 * model names, parked-answer tags). FNV-1a's multiply-xor step over the
 * bytes; the starting value is the one these tables have always used. Not
 * a keyed hash: a client can at worst lengthen the chains of its own keys. */
#ifndef NQBA_STRHASH_H
#define NQBA_STRHASH_H

#include <stdint.h>

static inline uint64_t nq_str_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

#endif
