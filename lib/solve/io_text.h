/* io_text.h - line and token helpers shared by the model readers (private).
 *
 * The text readers (io_gset.c, io_qubo.c) take a memory buffer that is not
 * NUL-terminated. A line is whatever lies between '\n' bytes, with '\r'
 * counted as blank space; blank lines are still counted so that errors name
 * the line a person sees in an editor. Tokens are copied into a small stack
 * buffer before strtoll/strtod see them. */
#ifndef NQBA_IO_TEXT_H
#define NQBA_IO_TEXT_H

#include <stddef.h>

#include "nqba/err.h"
#include "nqba/model.h"

#define NQ__TOK_MAX 128   /* longest token accepted (numbers never need more) */
#define NQ__FIELDS_MAX 6  /* most fields a reader asks for (the qbsolv 'p' line) */
#define NQ__QUOTE_SIZE 40 /* buffer for nq__tok_quote: 32 bytes, "..." and NUL */

/* Lines of a buffer that is not NUL-terminated. */
typedef struct line_reader {
    const char *p, *end;
    long line; /* 1-based number of the line last returned */
} line_reader;

/* The tokens of one line; count stops at max + 1 ("one too many"), where
 * max is the limit given to nq__split_fields. */
typedef struct line_fields {
    const char *s[NQ__FIELDS_MAX + 1];
    size_t len[NQ__FIELDS_MAX + 1];
    int count;
} line_fields;

/* Next line as [*ls, *le), without its '\n'; 0 at end of input. */
int nq__line_next(line_reader *r, const char **ls, const char **le);

/* Split [p, end) at blank space into at most max + 1 fields
 * (max <= NQ__FIELDS_MAX). */
void nq__split_fields(const char *p, const char *end, int max, line_fields *f);

/* A token made safe for a message: at most 32 bytes, printable ASCII. */
const char *nq__tok_quote(char out[NQ__QUOTE_SIZE], const char *s, size_t n);

/* 0 ok, -1 not an integer, -2 out of the range of long long. */
int nq__tok_int(const char *s, size_t n, long long *out);

/* 0 ok, -1 not a number, -2 not finite (inf, nan, overflow). */
int nq__tok_real(const char *s, size_t n, double *out);

/* Field k of f as an integer in lo..hi, reported at src:line on failure:
 * "<what> '<tok>' is not an integer" (NQ_EPARSE), or "<what> <tok> out of
 * range lo..hi" with NQ_ERANGE when too small and NQ_ELIMIT when too big
 * (too big is a size limit). */
int nq__field_count(nq_err *err, const char *src, long line, const line_fields *f, int k,
                    const char *what, long long lo, long long hi, long long *out);

/* Re-anchor the error in err (if any) at src:line, keeping its message;
 * returns rc. */
int nq__err_at_line(nq_err *err, int rc, const char *src, long line);

/* 1 if the offset and every linear and quadratic coefficient is finite. */
int nq__model_all_finite(const nq_model *m);

/* Common argument checks of the readers: zero *out, refuse a missing
 * buffer, and turn (NULL, 0) into "" so pointer arithmetic stays defined. */
int nq__reader_args(const char **data, size_t len, nq_model *out, nq_err *err);

#endif
