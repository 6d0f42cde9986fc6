/* csv.c - the bounded CSV reader of csv.h.
 *
 * One pass over the text copies every cell, unquoted and NUL-terminated,
 * into one block (never longer than the text plus one byte per cell), and
 * records where each cell starts; a second step turns the offsets into
 * pointers once the block stops moving. Limits are checked as cells
 * arrive, so a hostile input costs at most the limits. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nqba/csv.h"

void nq_csv_limits_default(nq_csv_limits *l)
{
    l->sep = ',';
    l->max_rows = 1000000;
    l->max_cols = 1000;
    l->max_cell = 4096;
}

void nq_csv_free(nq_csv *t)
{
    if (!t)
        return;
    free(t->header);
    free(t->cells);
    free(t->block);
    free(t->line);
    memset(t, 0, sizeof *t);
}

typedef struct reader {
    const char *s;
    size_t len, pos;
    long line;
    char *block;
    size_t used;
    size_t *off; /* cell offsets into block */
    size_t n_off, cap_off;
    int32_t *rline;
    int32_t n_rows, cap_rows, cols, row_cells;
    const nq_csv_limits *lim;
    const char *where;
    char sep;
} reader;

static int fail(reader *r, nq_err *err, int code, const char *why)
{
    return nq_err_set(err, code, r->where, "line %ld: %s", r->line, why);
}

static int push_cell(reader *r, size_t start, nq_err *err)
{
    if (r->used - start > r->lim->max_cell)
        return fail(r, err, NQ_ELIMIT, "a cell is too long");
    r->block[r->used++] = '\0';
    if (++r->row_cells > r->lim->max_cols)
        return fail(r, err, NQ_ELIMIT, "too many columns");
    if (r->n_off == r->cap_off) {
        size_t cap = r->cap_off ? 2 * r->cap_off : 256;
        size_t *o = realloc(r->off, cap * sizeof *o);
        if (!o)
            return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
        r->off = o;
        r->cap_off = cap;
    }
    r->off[r->n_off++] = start;
    return NQ_OK;
}

/* One cell from pos; stops before ',' or the line end. */
static int read_cell(reader *r, nq_err *err)
{
    size_t start = r->used;
    while (r->pos < r->len && r->s[r->pos] == ' ')
        r->pos++;
    if (r->pos < r->len && r->s[r->pos] == '"') {
        long opened = r->line;
        r->pos++;
        for (;;) {
            if (r->pos >= r->len) {
                r->line = opened;
                return fail(r, err, NQ_EPARSE, "a quoted cell is not closed");
            }
            char c = r->s[r->pos++];
            if (c == '"' && r->pos < r->len && r->s[r->pos] == '"')
                r->pos++;
            else if (c == '"')
                break;
            if (c == '\n')
                r->line++;
            r->block[r->used++] = c;
        }
        while (r->pos < r->len && r->s[r->pos] == ' ')
            r->pos++;
        if (r->pos < r->len && r->s[r->pos] != r->sep && r->s[r->pos] != '\n' && r->s[r->pos] != '\r')
            return fail(r, err, NQ_EPARSE, "text after a closing quote");
    } else {
        while (r->pos < r->len && r->s[r->pos] != r->sep && r->s[r->pos] != '\n' &&
               r->s[r->pos] != '\r') {
            if (r->s[r->pos] == '"')
                return fail(r, err, NQ_EPARSE, "a quote inside an unquoted cell");
            if (r->s[r->pos] == '\0')
                return fail(r, err, NQ_EPARSE, "a NUL byte");
            r->block[r->used++] = r->s[r->pos++];
        }
        while (r->used > start && r->block[r->used - 1] == ' ')
            r->used--;
    }
    return push_cell(r, start, err);
}

static int end_row(reader *r, int header, nq_err *err)
{
    if (header) {
        r->cols = r->row_cells;
    } else if (r->row_cells != r->cols) {
        char why[96];
        snprintf(why, sizeof why, "%d cells, the header has %d", (int)r->row_cells, (int)r->cols);
        return fail(r, err, NQ_EPARSE, why);
    } else {
        if (r->n_rows >= r->lim->max_rows)
            return fail(r, err, NQ_ELIMIT, "too many rows");
        if (r->n_rows == r->cap_rows) {
            int32_t cap = r->cap_rows ? 2 * r->cap_rows : 256;
            int32_t *l = realloc(r->rline, (size_t)cap * sizeof *l);
            if (!l)
                return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
            r->rline = l;
            r->cap_rows = cap;
        }
        r->rline[r->n_rows++] = (int32_t)r->line;
    }
    r->row_cells = 0;
    return NQ_OK;
}

static int skip_blank_lines(reader *r)
{
    int any = 0;
    while (r->pos < r->len && (r->s[r->pos] == '\n' || r->s[r->pos] == '\r')) {
        if (r->s[r->pos] == '\n')
            r->line++;
        r->pos++;
        any = 1;
    }
    return any;
}

static int read_all(reader *r, nq_err *err)
{
    int rc = NQ_OK, header = 1;
    if (r->len >= 3 && !memcmp(r->s, "\xEF\xBB\xBF", 3))
        r->pos = 3;
    skip_blank_lines(r);
    while (!rc && r->pos < r->len) {
        long at = r->line;
        for (;;) { /* the row's cells; a separator always has a cell after it */
            rc = read_cell(r, err);
            if (rc || r->pos >= r->len || r->s[r->pos] != r->sep)
                break;
            r->pos++;
        }
        if (rc)
            break;
        long keep = r->line;
        r->line = at; /* a row's errors name the line it starts on */
        rc = end_row(r, header, err);
        r->line = keep;
        header = 0;
        if (r->pos < r->len && r->s[r->pos] == '\r')
            r->pos++;
        if (r->pos < r->len && r->s[r->pos] == '\n') {
            r->pos++;
            r->line++;
        }
        skip_blank_lines(r);
    }
    if (!rc && header)
        rc = nq_err_set(err, NQ_EINVAL, r->where, "line 1: no header row");
    return rc;
}

int nq_csv_parse(const char *text, size_t len, const char *where, const nq_csv_limits *lim,
                 nq_csv *out, nq_err *err)
{
    nq_csv_limits dl;
    nq_csv_limits_default(&dl);
    memset(out, 0, sizeof *out);
    reader r = {.s = text, .len = len, .line = 1, .lim = lim ? lim : &dl, .where = where ? where : ""};
    r.sep = r.lim->sep ? r.lim->sep : ',';
    snprintf(out->where, sizeof out->where, "%s", r.where);
    /* Each cell adds at most one byte (its NUL) to the text it came from. */
    if (!(r.block = malloc(2 * len + 2)))
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    int rc = read_all(&r, err);
    size_t n_cells = (size_t)r.n_rows * (size_t)r.cols;
    if (!rc && r.n_off != n_cells + (size_t)r.cols) /* every row ended with the header's width */
        rc = nq_err_set(err, NQ_EINTERNAL, r.where, "cell count mismatch");
    if (!rc && (!(out->header = malloc((size_t)(r.cols ? r.cols : 1) * sizeof *out->header)) ||
                !(out->cells = malloc((n_cells ? n_cells : 1) * sizeof *out->cells))))
        rc = nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    for (size_t i = 0; !rc && i < r.n_off; i++) {
        char *cell = r.block + r.off[i];
        if (i < (size_t)r.cols)
            out->header[i] = cell;
        else
            out->cells[i - (size_t)r.cols] = cell;
    }
    free(r.off);
    out->block = r.block;
    out->line = r.rline;
    out->rows = r.n_rows;
    out->cols = r.cols;
    if (rc)
        nq_csv_free(out);
    return rc;
}

int32_t nq_csv_col(const nq_csv *t, const char *name)
{
    for (int32_t c = 0; c < t->cols; c++)
        if (!strcmp(t->header[c], name))
            return c;
    return -1;
}

const char *nq_csv_cell(const nq_csv *t, int32_t row, int32_t col)
{
    return t->cells[(size_t)row * (size_t)t->cols + (size_t)col];
}

int nq_csv_number(const nq_csv *t, int32_t row, int32_t col, double *out, nq_err *err)
{
    const char *c = nq_csv_cell(t, row, col);
    if (!c[0]) {
        *out = NAN;
        return NQ_OK;
    }
    char *end = NULL;
    errno = 0;
    double x = strtod(c, &end);
    int hex = strchr(c, 'x') || strchr(c, 'X');
    if (end == c || *end || errno == ERANGE || !isfinite(x) || hex)
        return nq_err_set(err, NQ_EPARSE, t->where, "line %d: column %.64s: not a number: '%.20s'",
                          (int)t->line[row], t->header[col], c);
    *out = x;
    return NQ_OK;
}
