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

#include <math.h>
#include <string.h>

#include "io_text.h"

#define MAX_FIELDS 3
_Static_assert(MAX_FIELDS <= NQ__FIELDS_MAX, "line_fields too small");

typedef struct gset_ctx {
    line_reader r;
    const char *src;
    nq_err *err;
    long long n, m;
} gset_ctx;

/* Next non-blank line split into fields; 0 at end of input. */
static int next_fields(gset_ctx *c, line_fields *f, int *rc)
{
    const char *ls, *le;
    *rc = 0;
    while (nq__line_next(&c->r, &ls, &le)) {
        if (memchr(ls, '\0', (size_t)(le - ls))) {
            *rc = nq_err_set_line(c->err, NQ_EPARSE, c->src, c->r.line, "embedded NUL byte");
            return 0;
        }
        nq__split_fields(ls, le, MAX_FIELDS, f);
        if (f->count)
            return 1;
    }
    return 0;
}

static int header_count(gset_ctx *c, const line_fields *f, int k, const char *what, long long lo,
                        long long hi, long long *out)
{
    return nq__field_count(c->err, c->src, c->r.line, f, k, what, lo, hi, out);
}

static int read_header(gset_ctx *c)
{
    line_fields f;
    int rc;
    char q[NQ__QUOTE_SIZE];
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
                               nq__tok_quote(q, f.s[2], f.len[2]));
    rc = header_count(c, &f, 0, "header: vertex count", 1, NQ_MODEL_MAX_VARS, &c->n);
    if (!rc)
        rc = header_count(c, &f, 1, "header: edge count", 0, NQ_MODEL_MAX_TERMS, &c->m);
    return rc;
}

static int parse_vertex(gset_ctx *c, const line_fields *f, int k, long long edge, int32_t *out)
{
    char q[NQ__QUOTE_SIZE];
    long long v = 0;
    int r = nq__tok_int(f->s[k], f->len[k], &v);
    if (r == -1)
        return nq_err_set_line(c->err, NQ_EPARSE, c->src, c->r.line,
                               "edge %lld: vertex '%s' is not an integer", edge,
                               nq__tok_quote(q, f->s[k], f->len[k]));
    if (r == -2 || v < 1 || v > c->n)
        return nq_err_set_line(c->err, NQ_ERANGE, c->src, c->r.line,
                               "edge %lld: vertex %s out of range 1..%lld", edge,
                               nq__tok_quote(q, f->s[k], f->len[k]), c->n);
    *out = (int32_t)(v - 1);
    return 0;
}

static int parse_edge(gset_ctx *c, const line_fields *f, long long edge, int32_t *i, int32_t *j,
                      double *w)
{
    char q[NQ__QUOTE_SIZE];
    if (f->count != 3)
        return f->count < 3
                   ? nq_err_set_line(c->err, NQ_EPARSE, c->src, c->r.line,
                                     "edge %lld: expected 'i j w', found %d fields", edge, f->count)
                   : nq_err_set_line(c->err, NQ_EPARSE, c->src, c->r.line,
                                     "edge %lld: unexpected token '%s' after weight", edge,
                                     nq__tok_quote(q, f->s[3], f->len[3]));
    int rc = parse_vertex(c, f, 0, edge, i);
    if (!rc)
        rc = parse_vertex(c, f, 1, edge, j);
    if (rc)
        return rc;
    if (*i == *j)
        return nq_err_set_line(c->err, NQ_EPARSE, c->src, c->r.line,
                               "edge %lld: self-loop on vertex %d", edge, *i + 1);
    int r = nq__tok_real(f->s[2], f->len[2], w);
    if (r)
        return nq_err_set_line(c->err, r == -1 ? NQ_EPARSE : NQ_ERANGE, c->src, c->r.line,
                               "edge %lld: weight '%s' is %s", edge,
                               nq__tok_quote(q, f->s[2], f->len[2]),
                               r == -1 ? "not a number" : "not finite");
    return 0;
}

/* Re-anchor an error from the builder at the current line. */
static int at_line(gset_ctx *c, int rc)
{
    return nq__err_at_line(c->err, rc, c->src, c->r.line);
}

static int read_edges(gset_ctx *c, nq_builder *b, double *total)
{
    line_fields f;
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
    int rc = nq__reader_args(&data, len, out, err);
    if (rc)
        return rc;
    gset_ctx c = {.r = {.p = data, .end = data + len}, .src = source ? source : "-", .err = err};
    rc = read_header(&c);
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
