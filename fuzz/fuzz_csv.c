/* fuzz_csv.c - libFuzzer target for the bounded CSV reader: any bytes
 * either parse into a table whose every cell is a NUL-terminated string
 * and whose numbers are finite or NAN, or fail with a located message. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nqba/csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    nq_csv t;
    nq_err err;
    nq_csv_limits lim = {.max_rows = 1000, .max_cols = 64, .max_cell = 256};
    if (nq_csv_parse((const char *)data, size, "/csv", &lim, &t, &err)) {
        if (strncmp(err.msg, "line ", 5) != 0 && err.code != NQ_ENOMEM)
            abort();
        return 0;
    }
    for (int32_t r = 0; r < t.rows; r++)
        for (int32_t c = 0; c < t.cols; c++) {
            double x;
            if (strlen(nq_csv_cell(&t, r, c)) > lim.max_cell)
                abort();
            if (nq_csv_number(&t, r, c, &x, &err) == NQ_OK && isinf(x))
                abort();
        }
    nq_csv_free(&t);
    return 0;
}
