/* io_qubo.c - reader for text QUBO files (qbsolv style).
 *
 *   c any comment            (also lines starting with '#')
 *   c offset K               (constant term; written by nq_write_qubo)
 *   p qubo topology maxNodes nNodes nCouplers     (optional, before terms)
 *   i j w                    (0-based; i == j is the linear term of x_i)
 *
 * With a "p" line the model has maxNodes variables, every index must be
 * below maxNodes, and the numbers of diagonal and off-diagonal lines must
 * match nNodes and nCouplers (qbsolv relies on those counts, so a mismatch
 * means a damaged file). Without one, n is the largest index plus one.
 * Lines and tokens are read as io_text.h describes ('\r' is blank space,
 * blank lines count, the input is not NUL-terminated). qbsolv's own reader
 * ignores "c" lines, so the offset line keeps files readable by it. */
#include "nqba/io.h"

#include <string.h>

#include "io_text.h"

#define MAX_FIELDS 6 /* the qbsolv 'p' line */
_Static_assert(MAX_FIELDS <= NQ__FIELDS_MAX, "line_fields too small");

typedef struct qubo_ctx {
    line_reader r;
    const char *src;
    nq_err *err;
    nq_builder *b;
    long p_line;                              /* line of the "p" line, 0 if none */
    long long max_nodes, n_nodes, n_couplers; /* from the "p" line */
    long long diag, offdiag;                  /* term lines seen */
} qubo_ctx;

static int tok_is(const line_fields *f, int k, const char *s)
{
    return f->len[k] == strlen(s) && memcmp(f->s[k], s, f->len[k]) == 0;
}

static int p_count(qubo_ctx *c, const line_fields *f, int k, const char *what, long long lo,
                   long long hi, long long *out)
{
    return nq__field_count(c->err, c->src, c->r.line, f, k, what, lo, hi, out);
}

static int parse_p(qubo_ctx *c, const line_fields *f)
{
    char q[NQ__QUOTE_SIZE];
    if (c->p_line)
        return nq_err_set_line(c->err, NQ_EPARSE, c->src, c->r.line,
                               "second 'p' line (the first is line %ld)", c->p_line);
    if (c->diag + c->offdiag)
        return nq_err_set_line(c->err, NQ_EPARSE, c->src, c->r.line,
                               "'p' line must come before the terms");
    if (f->count != 6)
        return nq_err_set_line(c->err, NQ_EPARSE, c->src, c->r.line,
                               "p line: expected 'p qubo topology maxNodes nNodes nCouplers'");
    if (!tok_is(f, 1, "qubo"))
        return nq_err_set_line(c->err, NQ_EPARSE, c->src, c->r.line,
                               "p line: expected 'qubo', found '%s'",
                               nq__tok_quote(q, f->s[1], f->len[1]));
    int rc = p_count(c, f, 3, "p line: maxNodes", 1, NQ_MODEL_MAX_VARS, &c->max_nodes);
    if (!rc)
        rc = p_count(c, f, 4, "p line: nNodes", 0, NQ_MODEL_MAX_TERMS, &c->n_nodes);
    if (!rc)
        rc = p_count(c, f, 5, "p line: nCouplers", 0, NQ_MODEL_MAX_TERMS, &c->n_couplers);
    if (!rc)
        rc = nq_builder_set_n(c->b, (int32_t)c->max_nodes, c->err);
    c->p_line = c->r.line;
    return rc;
}

static int parse_weight(qubo_ctx *c, const line_fields *f, int k, const char *what, double *w)
{
    char q[NQ__QUOTE_SIZE];
    int r = nq__tok_real(f->s[k], f->len[k], w);
    if (r)
        return nq_err_set_line(c->err, r == -1 ? NQ_EPARSE : NQ_ERANGE, c->src, c->r.line,
                               "%s '%s' is %s", what, nq__tok_quote(q, f->s[k], f->len[k]),
                               r == -1 ? "not a number" : "not finite");
    return 0;
}

static int parse_offset(qubo_ctx *c, const line_fields *f)
{
    double k;
    if (f->count != 3)
        return nq_err_set_line(c->err, NQ_EPARSE, c->src, c->r.line,
                               "offset line: expected 'c offset K'");
    int rc = parse_weight(c, f, 2, "offset", &k);
    if (!rc)
        nq_builder_add_offset(c->b, k);
    return rc;
}

static int parse_index(qubo_ctx *c, const line_fields *f, int k, int32_t *out)
{
    char q[NQ__QUOTE_SIZE];
    long long v = 0;
    long long hi = c->p_line ? c->max_nodes - 1 : NQ_MODEL_MAX_VARS - 1;
    int r = nq__tok_int(f->s[k], f->len[k], &v);
    if (r == -1)
        return nq_err_set_line(c->err, NQ_EPARSE, c->src, c->r.line, "index '%s' is not an integer",
                               nq__tok_quote(q, f->s[k], f->len[k]));
    if (r == -2 || v < 0 || v > hi)
        return nq_err_set_line(
            c->err, NQ_ERANGE, c->src, c->r.line, "index %s out of range 0..%lld%s",
            nq__tok_quote(q, f->s[k], f->len[k]), hi, c->p_line ? " (maxNodes on the p line)" : "");
    *out = (int32_t)v;
    return 0;
}

/* Re-anchor an error from the builder at the current line. */
static int at_line(qubo_ctx *c, int rc)
{
    return nq__err_at_line(c->err, rc, c->src, c->r.line);
}

static int parse_term(qubo_ctx *c, const line_fields *f)
{
    char q[NQ__QUOTE_SIZE];
    if (f->count != 3)
        return f->count < 3 ? nq_err_set_line(c->err, NQ_EPARSE, c->src, c->r.line,
                                              "expected 'i j w', found %d fields", f->count)
                            : nq_err_set_line(c->err, NQ_EPARSE, c->src, c->r.line,
                                              "unexpected token '%s' after weight",
                                              nq__tok_quote(q, f->s[3], f->len[3]));
    int32_t i = 0, j = 0;
    double w = 0;
    int rc = parse_index(c, f, 0, &i);
    if (!rc)
        rc = parse_index(c, f, 1, &j);
    if (!rc)
        rc = parse_weight(c, f, 2, "weight", &w);
    if (rc)
        return rc;
    if (i == j) {
        c->diag++;
        rc = nq_builder_add_linear(c->b, i, w, c->err);
    } else {
        c->offdiag++;
        rc = nq_builder_add_quadratic(c->b, i, j, w, c->err);
    }
    return rc ? at_line(c, rc) : 0;
}

static int parse_line(qubo_ctx *c, const char *ls, const char *le)
{
    line_fields f;
    if (memchr(ls, '\0', (size_t)(le - ls)))
        return nq_err_set_line(c->err, NQ_EPARSE, c->src, c->r.line, "embedded NUL byte");
    nq__split_fields(ls, le, MAX_FIELDS, &f);
    if (f.count == 0 || f.s[0][0] == '#')
        return 0;
    if (f.s[0][0] == 'c')
        return tok_is(&f, 0, "c") && f.count >= 2 && tok_is(&f, 1, "offset") ? parse_offset(c, &f)
                                                                             : 0;
    if (tok_is(&f, 0, "p"))
        return parse_p(c, &f);
    return parse_term(c, &f);
}

static int check_counts(qubo_ctx *c)
{
    long line = c->r.line > 0 ? c->r.line : 1;
    if (!c->p_line && c->diag + c->offdiag == 0)
        return nq_err_set_line(c->err, NQ_EPARSE, c->src, line,
                               c->r.line ? "no terms and no 'p' line" : "empty file");
    if (c->p_line && c->diag != c->n_nodes)
        return nq_err_set_line(c->err, NQ_EPARSE, c->src, line,
                               "p line declares %lld diagonal terms (nNodes), found %lld",
                               c->n_nodes, c->diag);
    if (c->p_line && c->offdiag != c->n_couplers)
        return nq_err_set_line(c->err, NQ_EPARSE, c->src, line,
                               "p line declares %lld couplers (nCouplers), found %lld",
                               c->n_couplers, c->offdiag);
    return 0;
}

/* Repeated terms are summed by the builder; a sum may overflow. */
static int check_finite(const nq_model *m, qubo_ctx *c)
{
    return nq__model_all_finite(m)
               ? 0
               : nq_err_set_line(c->err, NQ_ERANGE, c->src, 0,
                                 "summed coefficient of a repeated term is not finite");
}

static int read_lines(qubo_ctx *c)
{
    const char *ls, *le;
    while (nq__line_next(&c->r, &ls, &le)) {
        int rc = parse_line(c, ls, le);
        if (rc)
            return rc;
    }
    return check_counts(c);
}

int nq_read_qubo(const char *data, size_t len, const char *source, nq_model *out, nq_err *err)
{
    int rc = nq__reader_args(&data, len, out, err);
    if (rc)
        return rc;
    nq_builder b;
    nq_builder_init(&b, NQ_QUBO);
    qubo_ctx c = {
        .r = {.p = data, .end = data + len}, .src = source ? source : "-", .err = err, .b = &b};
    rc = read_lines(&c);
    if (rc) {
        nq_builder_free(&b);
        return rc;
    }
    rc = nq_builder_finish(&b, out, err);
    if (!rc)
        rc = check_finite(out, &c);
    if (rc)
        nq_model_free(out);
    return rc;
}
