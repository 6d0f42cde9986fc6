/* sha256_internal.h - what the tests may see of lib/base/sha256.c
 * (private). */
#ifndef NQBA_SHA256_INTERNAL_H
#define NQBA_SHA256_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "nqba/sha256.h"

/* nq_sha256 computed with the portable block function even where the CPU
 * has the SHA extensions, so that the tests can check one against the
 * other. */
void nq__sha256_portable(const void *data, size_t len, uint8_t out[NQ_SHA256_LEN]);

#endif
