/* io_gset.c - reader for Gset / rudy Max-Cut graphs.
 *
 *   n m            (first non-blank line)
 *   i j w          (exactly m lines; 1-based vertices, integer or real w)
 *
 * Real files mix LF and CRLF, carry trailing spaces and may lack a final
 * newline, so a line is whatever lies between '\n' bytes with '\r' counted
 * as blank space. Blank lines are skipped but still counted, so every error
 * names the line a person sees in an editor. The input is a memory buffer
 * that is not NUL-terminated: tokens are copied into a small stack buffer
 * before strtoll/strtod see them. */
#include "nqba/io.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define TOK_MAX 128 /* longest token accepted (numbers never need more) */
#define MAX_FIELDS 3

/* Lines of a buffer that is not NUL-terminated. */
typedef struct line_reader {
    const char *p, *end;
    long line; /* 1-based number of the line last returned */
} line_reader;

/* The tokens of one line; count stops at MAX_FIELDS + 1 ("one too many"). */
typedef struct fields {
    const char *s[MAX_FIELDS + 1];
    size_t len[MAX_FIELDS + 1];
    int count;
} fields;

typedef struct gset_ctx {
    line_reader r;
    const char *src;
    nq_err *err;
    long long n, m;
} gset_ctx;

static int next_line(line_reader *r, const char **ls, const char **le)
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

static void split(const char *p, const char *end, fields *f)
{
    f->count = 0;
    while (f->count <= MAX_FIELDS) {
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

/* A token made safe for a message: at most 32 bytes, printable ASCII. */
static const char *quote(char out[40], const char *s, size_t n)
{
    size_t k = n > 32 ? 32 : n;
    for (size_t i = 0; i < k; i++)
        out[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
    strcpy(out + k, n > k ? "..." : "");
    return out;
}

/* 0 ok, -1 not an integer, -2 out of the range of long long. */
static int tok_int(const char *s, size_t n, long long *out)
{
    char buf[TOK_MAX];
    if (n == 0 || n >= sizeof buf)
        return -1;
    memcpy(buf, s, n);
    buf[n] = '\0';
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

/* 0 ok, -1 not a number, -2 not finite (inf, nan, overflow). */
static int tok_real(const char *s, size_t n, double *out)
{
    char buf[TOK_MAX];
    if (n == 0 || n >= sizeof buf)
        return -1;
    memcpy(buf, s, n);
    buf[n] = '\0';
    char *e;
    double v = strtod(buf, &e);
    if (e != buf + n)
        return -1;
    if (!isfinite(v))
        return -2;
    *out = v;
    return 0;
}

/* Next non-blank line split into fields; 0 at end of input. */
static int next_fields(gset_ctx *c, fields *f, int *rc)
{
    const char *ls, *le;
    *rc = 0;
    while (next_line(&c->r, &ls, &le)) {
        if (memchr(ls, '\0', (size_t)(le - ls))) {
            *rc = nq_err_set_line(c->err, NQ_EPARSE, c->src, c->r.line, "embedded NUL byte");
            return 0;
        }
        split(ls, le, f);
        if (f->count)
            return 1;
    }
    return 0;
}

static int header_count(gset_ctx *c, const fields *f, int k, const char *what, long long lo,
                        long long hi, long long *out)
{
    char q[40];
    int r = tok_int(f->s[k], f->len[k], out);
    if (r == -1)
        return nq_err_set_line(c->err, NQ_EPARSE, c->src, c->r.line,
                               "header: %s '%s' is not an integer", what,
                               quote(q, f->s[k], f->len[k]));
    if (r == 0 && *out >= lo && *out <= hi)
        return 0;
    /* Too small is a bad value; too big is a size limit. */
    int code = (r == 0 && *out < lo) ? NQ_ERANGE : NQ_ELIMIT;
    return nq_err_set_line(c->err, code, c->src, c->r.line, "header: %s %s out of range %lld..%lld",
                           what, quote(q, f->s[k], f->len[k]), lo, hi);
}

static int read_header(gset_ctx *c)
{
    fields f;
    int rc;
    char q[40];
    if (!next_fields(c, &f, &rc))
        return rc ? rc
                  : nq_err_set_line(c->err, NQ_EPARSE, c->src, c->r.line > 0 ? c->r.line : 1,
                                    "empty file: expected header 'n m'");
    if (f.count < 2)
        return nq_err_set_line(c->err, NQ_EPARSE, c->src, c->r.line,
                               "header: expected 'n m' (vertex and edge counts)");
    if (f.count > 2)
        return nq_err_set_line(c->err, NQ_EPARSE, c->src, c->r.line,
                               "header: unexpected token '%s' after edge count",
                               quote(q, f.s[2], f.len[2]));
    rc = header_count(c, &f, 0, "vertex count", 1, NQ_MODEL_MAX_VARS, &c->n);
    if (!rc)
        rc = header_count(c, &f, 1, "edge count", 0, NQ_MODEL_MAX_TERMS, &c->m);
    return rc;
}

static int parse_vertex(gset_ctx *c, const fields *f, int k, long long edge, int32_t *out)
{
    char q[40];
    long long v = 0;
    int r = tok_int(f->s[k], f->len[k], &v);
    if (r == -1)
        return nq_err_set_line(c->err, NQ_EPARSE, c->src, c->r.line,
                               "edge %lld: vertex '%s' is not an integer", edge,
                               quote(q, f->s[k], f->len[k]));
    if (r == -2 || v < 1 || v > c->n)
        return nq_err_set_line(c->err, NQ_ERANGE, c->src, c->r.line,
                               "edge %lld: vertex %s out of range 1..%lld", edge,
                               quote(q, f->s[k], f->len[k]), c->n);
    *out = (int32_t)(v - 1);
    return 0;
}

static int parse_edge(gset_ctx *c, const fields *f, long long edge, int32_t *i, int32_t *j,
                      double *w)
{
    char q[40];
    if (f->count != 3)
        return f->count < 3
                   ? nq_err_set_line(c->err, NQ_EPARSE, c->src, c->r.line,
                                     "edge %lld: expected 'i j w', found %d fields", edge, f->count)
                   : nq_err_set_line(c->err, NQ_EPARSE, c->src, c->r.line,
                                     "edge %lld: unexpected token '%s' after weight", edge,
                                     quote(q, f->s[3], f->len[3]));
    int rc = parse_vertex(c, f, 0, edge, i);
    if (!rc)
        rc = parse_vertex(c, f, 1, edge, j);
    if (rc)
        return rc;
    if (*i == *j)
        return nq_err_set_line(c->err, NQ_EPARSE, c->src, c->r.line,
                               "edge %lld: self-loop on vertex %d", edge, *i + 1);
    int r = tok_real(f->s[2], f->len[2], w);
    if (r)
        return nq_err_set_line(c->err, r == -1 ? NQ_EPARSE : NQ_ERANGE, c->src, c->r.line,
                               "edge %lld: weight '%s' is %s", edge, quote(q, f->s[2], f->len[2]),
                               r == -1 ? "not a number" : "not finite");
    return 0;
}

/* Re-anchor an error from the builder at the current line. */
static int at_line(gset_ctx *c, int rc)
{
    if (c->err) {
        char msg[NQ_ERR_MSG_MAX];
        memcpy(msg, c->err->msg, sizeof msg);
        nq_err_set_line(c->err, rc, c->src, c->r.line, "%s", msg);
    }
    return rc;
}

static int read_edges(gset_ctx *c, nq_builder *b, double *total)
{
    fields f;
    int rc;
    long long edges = 0;
    double sum = 0;
    while (next_fields(c, &f, &rc)) {
        if (edges == c->m)
            return nq_err_set_line(c->err, NQ_EPARSE, c->src, c->r.line,
                                   "more than %lld edges declared in header", c->m);
        int32_t i = 0, j = 0;
        double w = 0;
        rc = parse_edge(c, &f, ++edges, &i, &j, &w);
        if (rc)
            return rc;
        rc = nq_builder_add_quadratic(b, i, j, w, c->err);
        if (rc)
            return at_line(c, rc);
        sum += w;
    }
    if (rc)
        return rc;
    if (edges < c->m)
        return nq_err_set_line(c->err, NQ_EPARSE, c->src, c->r.line,
                               "expected %lld edges, found %lld", c->m, edges);
    if (!isfinite(sum))
        return nq_err_set_line(c->err, NQ_ERANGE, c->src, c->r.line,
                               "total edge weight is not finite");
    *total = sum;
    return 0;
}

/* Duplicate edges are summed by the builder; a sum may overflow. */
static int check_finite(const nq_model *m, gset_ctx *c)
{
    for (int64_t k = 0; k < m->nnz; k++)
        if (!isfinite(m->w[k]))
            return nq_err_set_line(c->err, NQ_ERANGE, c->src, 0,
                                   "summed weight of a repeated edge is not finite");
    return 0;
}

int nq_read_gset(const char *data, size_t len, const char *source, nq_model *out, nq_err *err)
{
    if (!out)
        return nq_err_set(err, NQ_EINVAL, NULL, "no output model");
    memset(out, 0, sizeof *out);
    if (!data && len)
        return nq_err_set(err, NQ_EINVAL, NULL, "no input");
    if (!data)
        data = ""; /* pointer arithmetic on NULL is undefined even for 0 */
    gset_ctx c = {.r = {.p = data, .end = data + len}, .src = source ? source : "-", .err = err};
    int rc = read_header(&c);
    if (rc)
        return rc;
    nq_builder b;
    nq_builder_init(&b, NQ_ISING);
    rc = nq_builder_set_n(&b, (int32_t)c.n, err);
    double total = 0;
    if (!rc)
        rc = read_edges(&c, &b, &total);
    if (rc) {
        nq_builder_free(&b);
        return rc;
    }
    rc = nq_builder_finish(&b, out, err);
    if (!rc)
        rc = check_finite(out, &c);
    if (rc) {
        nq_model_free(out);
        return rc;
    }
    out->maxcut = 1;
    out->maxcut_total_weight = total;
    return 0;
}
