/* buf.h - growable byte buffer with a declared maximum size.
 *
 * The content is always NUL-terminated (the NUL is not counted in len), so
 * a buffer can be handed to C string functions at any time. Appends past
 * max fail with NQ_ELIMIT and leave the buffer unchanged. */
#ifndef NQBA_BUF_H
#define NQBA_BUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct nq_buf {
    char *data;  /* read-only; NULL until the first append */
    size_t len;  /* read-only */
    size_t cap;  /* private */
    size_t max;  /* largest len allowed */
} nq_buf;

void nq_buf_init(nq_buf *b, size_t max);
int nq_buf_append(nq_buf *b, const void *data, size_t len);
int nq_buf_puts(nq_buf *b, const char *s);
int nq_buf_putc(nq_buf *b, char c);
int nq_buf_printf(nq_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int nq_buf_vprintf(nq_buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/* Make room for `extra` more bytes without changing len. */
int nq_buf_reserve(nq_buf *b, size_t extra);
/* Set len to 0, keep memory. */
void nq_buf_reset(nq_buf *b);
/* Hand the content to the caller (malloc'd, NUL-terminated, never NULL on
 * success) and reset the buffer; returns NULL on allocation failure. */
char *nq_buf_steal(nq_buf *b, size_t *len);
void nq_buf_free(nq_buf *b);

#endif
