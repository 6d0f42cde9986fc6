/* io_text.c - line and token helpers shared by the model readers. */
#include "io_text.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int nq__line_next(line_reader *r, const char **ls, const char **le)
{
    if (r->p >= r->end)
        return 0;
    const char *nl = memchr(r->p, '\n', (size_t)(r->end - r->p));
    *ls = r->p;
    *le = nl ? nl : r->end;
    r->p = nl ? nl + 1 : r->end;
    r->line++;
    return 1;
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

void nq__split_fields(const char *p, const char *end, int max, line_fields *f)
{
    f->count = 0;
    while (f->count <= max) {
        while (p < end && is_blank(*p))
            p++;
        if (p == end)
            return;
        const char *s = p;
        while (p < end && !is_blank(*p))
            p++;
        f->s[f->count] = s;
        f->len[f->count++] = (size_t)(p - s);
    }
}

const char *nq__tok_quote(char out[NQ__QUOTE_SIZE], const char *s, size_t n)
{
    size_t k = n > 32 ? 32 : n;
    for (size_t i = 0; i < k; i++)
        out[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
    strcpy(out + k, n > k ? "..." : "");
    return out;
}

/* Copy a token into buf as a C string; 0 if empty or too long. */
static int tok_copy(char buf[NQ__TOK_MAX], const char *s, size_t n)
{
    if (n == 0 || n >= NQ__TOK_MAX)
        return 0;
    memcpy(buf, s, n);
    buf[n] = '\0';
    return 1;
}

int nq__tok_int(const char *s, size_t n, long long *out)
{
    char buf[NQ__TOK_MAX];
    if (!tok_copy(buf, s, n))
        return -1;
    char *e;
    errno = 0;
    long long v = strtoll(buf, &e, 10);
    if (e != buf + n)
        return -1;
    if (errno == ERANGE)
        return -2;
    *out = v;
    return 0;
}

int nq__tok_real(const char *s, size_t n, double *out)
{
    char buf[NQ__TOK_MAX];
    if (!tok_copy(buf, s, n))
        return -1;
    char *e;
    double v = strtod(buf, &e);
    if (e != buf + n)
        return -1;
    if (!isfinite(v))
        return -2;
    *out = v;
    return 0;
}

int nq__field_count(nq_err *err, const char *src, long line, const line_fields *f, int k,
                    const char *what, long long lo, long long hi, long long *out)
{
    char q[NQ__QUOTE_SIZE];
    int r = nq__tok_int(f->s[k], f->len[k], out);
    if (r == -1)
        return nq_err_set_line(err, NQ_EPARSE, src, line, "%s '%s' is not an integer", what,
                               nq__tok_quote(q, f->s[k], f->len[k]));
    if (r == 0 && *out >= lo && *out <= hi)
        return 0;
    int code = (r == 0 && *out < lo) ? NQ_ERANGE : NQ_ELIMIT;
    return nq_err_set_line(err, code, src, line, "%s %s out of range %lld..%lld", what,
                           nq__tok_quote(q, f->s[k], f->len[k]), lo, hi);
}

int nq__err_at_line(nq_err *err, int rc, const char *src, long line)
{
    if (err) {
        char msg[NQ_ERR_MSG_MAX];
        memcpy(msg, err->msg, sizeof msg);
        nq_err_set_line(err, rc, src, line, "%s", msg);
    }
    return rc;
}

int nq__model_all_finite(const nq_model *m)
{
    int ok = isfinite(m->offset);
    for (int32_t i = 0; ok && i < m->n; i++)
        ok = isfinite(m->linear[i]);
    for (int64_t k = 0; ok && k < m->nnz; k++)
        ok = isfinite(m->w[k]);
    return ok;
}

int nq__reader_args(const char **data, size_t len, nq_model *out, nq_err *err)
{
    if (!out)
        return nq_err_set(err, NQ_EINVAL, NULL, "no output model");
    memset(out, 0, sizeof *out);
    if (!*data && len)
        return nq_err_set(err, NQ_EINVAL, NULL, "no input");
    if (!*data)
        *data = "";
    return NQ_OK;
}
