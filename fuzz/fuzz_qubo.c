/* fuzz_qubo.c - libFuzzer target for nq_read_qubo.
 *
 * Any input must either parse or fail with a message; a model that parses
 * must survive the round trip through every writer (fuzz_roundtrip.h). */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_roundtrip.h"
#include "nqba/io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_read_roundtrip(data, size, nq_read_qubo);
}
