/* bench_data.h - files the benchmarks read whole: the shared benchmark data
 * (SHARED/data/SUB/NAME) and instance files named on the command line. */
#ifndef NQBA_BENCH_DATA_H
#define NQBA_BENCH_DATA_H

#include <stdio.h>
#include <stdlib.h>

/* The file at path, NUL-terminated, *len (may be NULL) its length; NULL
 * when it cannot be read. */
static inline char *bench_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *b = NULL;
    long n = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    if (n >= 0 && fseek(f, 0, SEEK_SET) == 0 && (b = malloc((size_t)n + 1)) != NULL) {
        if (fread(b, 1, (size_t)n, f) == (size_t)n) {
            b[n] = '\0';
            if (len)
                *len = (size_t)n;
        } else {
            free(b);
            b = NULL;
        }
    }
    fclose(f);
    return b;
}

/* SHARED/data/SUB/NAME, or exit 1 naming the file (prog: the benchmark). */
static inline char *bench_data(const char *prog, const char *shared, const char *sub,
                               const char *name, size_t *len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/data/%s/%s", shared, sub, name);
    char *b = bench_read(path, len);
    if (!b) {
        fprintf(stderr, "%s: cannot read %s\n", prog, path);
        exit(1);
    }
    return b;
}

#endif
