/* csv.h - a bounded CSV reader: text in, a table of cells (strings) out,
 * with errors that say the line. RFC 4180 quoting ("a ""b"", c" is one
 * cell), CRLF or LF, a UTF-8 byte-order mark skipped, blank lines skipped;
 * the first row is the header. Every row must have the header's number of
 * cells.
 *
 *   nq_csv t;
 *   nq_csv_parse(text, len, "/forecast_csv", &lim, &t, &err);
 *   nq_csv_col(&t, "load_w")          column index or -1
 *   nq_csv_cell(&t, row, col)         NUL-terminated cell text
 *   nq_csv_number(&t, row, col, &x, &err)  a finite number ("" -> NAN)
 *   nq_csv_free(&t);
 *
 * Errors: err->where is the caller's `where`, err->msg starts with
 * "line N: " (1-based; the header is line 1). */
#ifndef NQBA_CSV_H
#define NQBA_CSV_H

#include <stddef.h>
#include <stdint.h>

#include "nqba/err.h"

typedef struct nq_csv_limits {
    char sep;          /* the cell separator: ',' (0 means ','), ';' or '\t' */
    int32_t max_rows;  /* data rows, not counting the header */
    int32_t max_cols;
    size_t max_cell;   /* bytes in one cell */
} nq_csv_limits;
void nq_csv_limits_default(nq_csv_limits *l); /* ',', 1,000,000 rows, 1,000 columns, 4,096 bytes */

typedef struct nq_csv {
    int32_t rows, cols;   /* data rows (after the header), columns */
    char **header;        /* cols names */
    char **cells;         /* rows x cols, each NUL-terminated, into one block */
    char *block;          /* private */
    int32_t *line;        /* private: each data row's line number */
    char where[NQ_ERR_WHERE_MAX]; /* private: the caller's where, for number errors */
} nq_csv;

int nq_csv_parse(const char *text, size_t len, const char *where, const nq_csv_limits *lim,
                 nq_csv *out, nq_err *err);
void nq_csv_free(nq_csv *t); /* NULL-safe */

/* Column by header name (exact, after trimming spaces), or -1. */
int32_t nq_csv_col(const nq_csv *t, const char *name);
const char *nq_csv_cell(const nq_csv *t, int32_t row, int32_t col);
/* The cell as a finite number; an empty cell is NAN (the caller decides
 * whether that is allowed). Anything else: NQ_EPARSE, "line N: column
 * NAME: not a number: '...'". */
int nq_csv_number(const nq_csv *t, int32_t row, int32_t col, double *out, nq_err *err);

#endif
