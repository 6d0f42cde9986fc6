/* buf.c - growable NUL-terminated byte buffer with a hard maximum.
 *
 * Every operation checks the maximum before touching the content, so a
 * failed append leaves data, len and the terminating NUL exactly as they
 * were. cap counts the byte reserved for the NUL. */
#include "nqba/buf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nqba/err.h"

#define BUF_MIN_CAP 64

void nq_buf_init(nq_buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    /* 0 would make a buffer that can hold nothing; read it as "no limit"
     * like the other size caps in the library. The -1 keeps len + 1 (for
     * the NUL) from overflowing. */
    b->max = max ? max : SIZE_MAX - 1;
}

int nq_buf_reserve(nq_buf *b, size_t extra)
{
    if (extra > b->max - b->len)
        return NQ_ELIMIT;
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return NQ_OK;
    size_t cap = b->cap ? b->cap : BUF_MIN_CAP;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    /* Growing past max + 1 would only waste memory that can never be used. */
    if (cap > b->max + 1)
        cap = b->max + 1;
    char *p = realloc(b->data, cap);
    if (!p)
        return NQ_ENOMEM;
    if (!b->data)
        p[0] = '\0';
    b->data = p;
    b->cap = cap;
    return NQ_OK;
}

int nq_buf_append(nq_buf *b, const void *data, size_t len)
{
    int rc = nq_buf_reserve(b, len);
    if (rc)
        return rc;
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return NQ_OK;
}

int nq_buf_puts(nq_buf *b, const char *s) { return nq_buf_append(b, s, strlen(s)); }

int nq_buf_putc(nq_buf *b, char c) { return nq_buf_append(b, &c, 1); }

int nq_buf_printf(nq_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = nq_buf_vprintf(b, fmt, ap);
    va_end(ap);
    return rc;
}

int nq_buf_vprintf(nq_buf *b, const char *fmt, va_list ap)
{
    /* Measure first, then format into reserved space: formatting straight
     * into the spare capacity could leave a half-written tail on failure. */
    va_list again;
    va_copy(again, ap);
    int n = vsnprintf(NULL, 0, fmt, ap);
    int rc = n < 0 ? NQ_EINVAL : nq_buf_reserve(b, (size_t)n);
    if (rc == NQ_OK) {
        vsnprintf(b->data + b->len, (size_t)n + 1, fmt, again);
        b->len += (size_t)n;
    }
    va_end(again);
    return rc;
}

void nq_buf_reset(nq_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

char *nq_buf_steal(nq_buf *b, size_t *len)
{
    char *s = b->data ? b->data : calloc(1, 1);
    if (!s)
        return NULL;
    if (len)
        *len = b->len;
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    return s;
}

void nq_buf_free(nq_buf *b)
{
    if (!b)
        return;
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}
