/* data_file.h - a file of the shared benchmark data, read whole for a test:
 * NQ_SHARED_DIR/data/DIR/NAME (ctest sets NQ_SHARED_DIR; ../shared when it
 * is unset). NUL-terminated, *len (may be NULL) its length; NULL when it
 * cannot be read. */
#ifndef NQBA_TEST_DATA_FILE_H
#define NQBA_TEST_DATA_FILE_H

#include <stdio.h>
#include <stdlib.h>

#include "../../bench/bench_data.h" /* bench_read: the benchmarks read the same files */

static inline char *data_file(const char *dir, const char *name, size_t *len)
{
    char path[1024];
    const char *shared = getenv("NQ_SHARED_DIR");
    snprintf(path, sizeof path, "%s/data/%s/%s", shared && *shared ? shared : "../shared", dir,
             name);
    return bench_read(path, len);
}

#endif
