/* data_file.h - a file of the shared benchmark data, read whole for a test:
 * NQ_SHARED_DIR/data/DIR/NAME (ctest sets NQ_SHARED_DIR; ../shared when it
 * is unset). NUL-terminated, *len (may be NULL) its length; NULL when it
 * cannot be read. */
#ifndef NQBA_TEST_DATA_FILE_H
#define NQBA_TEST_DATA_FILE_H

#include <stdio.h>
#include <stdlib.h>

static inline char *data_file(const char *dir, const char *name, size_t *len)
{
    char path[1024];
    const char *shared = getenv("NQ_SHARED_DIR");
    snprintf(path, sizeof path, "%s/data/%s/%s", shared && *shared ? shared : "../shared", dir,
             name);
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

#endif
