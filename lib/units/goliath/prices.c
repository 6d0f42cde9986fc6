/* prices.c - price tables: allocation, the CSV reader and the usability
 * check.
 *
 * The reader makes two passes over the text: the first counts the data
 * lines (so the table is allocated once, with every limit checked before
 * any large allocation), the second fills it. It never looks past `len`,
 * so the text need not end with a NUL. Cells are split on ',' within one
 * physical line; a cell may be wrapped in double quotes ("" inside quotes
 * is a quote) but a quoted cell cannot span lines. Blank lines are skipped,
 * as pandas' read_csv does. Names and dates must be well-formed UTF-8 with
 * no control characters, so that they can be put in JSON and messages as
 * they are. */
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "goliath_internal.h"

#define CELL_CAP 128 /* bytes kept of one cell; longer cells are never valid */
#define SHOW_MAX 20  /* bytes of a bad cell quoted back in a message */

typedef struct cursor {
    const char *s;
    size_t len, pos;
    long line; /* 1-based number of the line last returned */
    const char *where;
    nq_err *err;
} cursor;

typedef struct cell {
    char buf[CELL_CAP];
    size_t len;    /* the full decoded length, even when longer than kept */
    int truncated; /* len >= CELL_CAP: buf holds only the start */
} cell;

int nq_prices_alloc(nq_prices *out, int32_t n, int32_t t, nq_err *err)
{
    if (!out)
        return nq_err_set(err, NQ_EINVAL, "/prices", "no output table");
    memset(out, 0, sizeof *out);
    if (n < 1 || t < 1)
        return nq_err_set(err, NQ_EINVAL, "/prices", "need at least one asset and one row");
    if (n > NQ_PF_MAX_ASSETS || t > NQ_PF_MAX_ROWS || (int64_t)n * t > NQ_PF_MAX_CELLS)
        return nq_err_set(err, NQ_ELIMIT, "/prices", "%d assets x %d rows is over the limits",
                          (int)n, (int)t);
    out->names = calloc((size_t)n, sizeof *out->names);
    out->dates = calloc((size_t)t, sizeof *out->dates);
    out->p = malloc((size_t)n * (size_t)t * sizeof *out->p);
    if (!out->names || !out->dates || !out->p) {
        nq_prices_free(out);
        return nq_err_set(err, NQ_ENOMEM, "/prices", "out of memory for the price table");
    }
    for (size_t k = 0; k < (size_t)n * (size_t)t; k++)
        out->p[k] = NAN;
    out->n = n;
    out->t = t;
    return NQ_OK;
}

void nq_prices_free(nq_prices *p)
{
    if (!p)
        return;
    free(p->names);
    free(p->dates);
    free(p->p);
    memset(p, 0, sizeof *p);
}

/* ---- lines and cells ------------------------------------------------------ */

/* The next physical line as [*b, *e) without its "\n" or "\r\n"; 0 at the
 * end of the text. */
static int next_line(cursor *c, size_t *b, size_t *e)
{
    if (c->pos >= c->len)
        return 0;
    const char *nl = memchr(c->s + c->pos, '\n', c->len - c->pos);
    size_t end = nl ? (size_t)(nl - c->s) : c->len;
    *b = c->pos;
    *e = end;
    if (*e > *b && c->s[*e - 1] == '\r')
        (*e)--;
    c->pos = nl ? end + 1 : c->len;
    c->line++;
    return 1;
}

static int is_space(char ch)
{
    return ch == ' ' || ch == '\t';
}

static int is_blank(const char *s, size_t b, size_t e)
{
    for (size_t k = b; k < e; k++)
        if (!is_space(s[k]) && s[k] != '\r')
            return 0;
    return 1;
}

static void cell_put(cell *c, char ch)
{
    if (c->len < CELL_CAP - 1)
        c->buf[c->len] = ch;
    c->len++;
}

static void cell_end(cell *c)
{
    c->truncated = c->len >= CELL_CAP;
    c->buf[c->truncated ? CELL_CAP - 1 : c->len] = '\0';
}

/* Reads the cell starting at *pos (< e or == e for a last empty cell),
 * leaves *pos after its ',' (or at e). Returns 1 when a ',' followed (more
 * cells), 0 at the end of the line, -1 for a broken quoted cell. */
static int read_cell(const char *s, size_t *pos, size_t e, cell *c)
{
    size_t k = *pos;
    c->len = 0;
    while (k < e && is_space(s[k]))
        k++;
    if (k < e && s[k] == '"') {
        for (k++;; k++) {
            if (k >= e)
                return -1;
            if (s[k] == '"') {
                if (k + 1 < e && s[k + 1] == '"')
                    k++;
                else
                    break;
            }
            cell_put(c, s[k]);
        }
        for (k++; k < e && is_space(s[k]); k++)
            ;
        if (k < e && s[k] != ',')
            return -1;
    } else {
        size_t kept = 0; /* the length up to the last non-space byte */
        for (; k < e && s[k] != ','; k++) {
            cell_put(c, s[k]);
            if (!is_space(s[k]))
                kept = c->len;
        }
        c->len = kept;
    }
    cell_end(c);
    if (k < e) { /* at ',' */
        *pos = k + 1;
        return 1;
    }
    *pos = e;
    return 0;
}

/* Well-formed UTF-8 with no control characters. */
static int text_ok(const char *t, size_t n)
{
    const unsigned char *u = (const unsigned char *)t;
    for (size_t k = 0; k < n;) {
        unsigned ch = u[k];
        if (ch < 0x20 || ch == 0x7f)
            return 0;
        if (ch < 0x80) {
            k++;
            continue;
        }
        size_t more = ch >= 0xf0 ? 3 : ch >= 0xe0 ? 2 : ch >= 0xc2 ? 1 : 0;
        if (more == 0 || ch > 0xf4 || more > n - k - 1)
            return 0;
        unsigned lo = 0x80, hi = 0xbf; /* allowed range of the second byte */
        if (ch == 0xe0)
            lo = 0xa0;
        else if (ch == 0xed)
            hi = 0x9f;
        else if (ch == 0xf0)
            lo = 0x90;
        else if (ch == 0xf4)
            hi = 0x8f;
        if (u[k + 1] < lo || u[k + 1] > hi)
            return 0;
        for (size_t j = 2; j <= more; j++)
            if ((u[k + j] & 0xc0) != 0x80)
                return 0;
        k += more + 1;
    }
    return 1;
}

/* The start of a cell for a message: printable ASCII only, SHOW_MAX bytes. */
static void show(const cell *c, char *out, size_t cap)
{
    size_t n = c->len < SHOW_MAX ? c->len : SHOW_MAX;
    if (n >= cap)
        n = cap - 1;
    for (size_t k = 0; k < n; k++) {
        unsigned char ch = (unsigned char)c->buf[k];
        out[k] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
    }
    out[n] = '\0';
    if (c->len > n && n + 4 < cap)
        strcat(out, "...");
}

/* ---- numbers -------------------------------------------------------------- */

static size_t digits(const char *s, size_t k)
{
    while (s[k] >= '0' && s[k] <= '9')
        k++;
    return k;
}

/* Plain decimal: [+-] digits [. digits] [e [+-] digits], with a digit
 * before or after the point. strtod alone would also take hex, inf, nan
 * and leading spaces. */
static int plain_decimal(const char *s)
{
    size_t k = (s[0] == '+' || s[0] == '-') ? 1 : 0;
    size_t a = digits(s, k);
    size_t nd = a - k;
    k = a;
    if (s[k] == '.') {
        size_t b = digits(s, k + 1);
        nd += b - (k + 1);
        k = b;
    }
    if (nd == 0)
        return 0;
    if (s[k] == 'e' || s[k] == 'E') {
        size_t j = k + 1;
        if (s[j] == '+' || s[j] == '-')
            j++;
        size_t x = digits(s, j);
        if (x == j)
            return 0;
        k = x;
    }
    return s[k] == '\0';
}

enum { PRICE_OK, PRICE_MISSING, PRICE_BAD, PRICE_RANGE };

static int parse_price(const cell *c, double *out)
{
    if (c->len == 0 || strcmp(c->buf, "NaN") == 0 || strcmp(c->buf, "nan") == 0 ||
        strcmp(c->buf, "null") == 0) {
        *out = NAN;
        return PRICE_MISSING;
    }
    if (c->truncated || !plain_decimal(c->buf))
        return PRICE_BAD;
    char buf[CELL_CAP];
    memcpy(buf, c->buf, c->len + 1);
    /* strtod follows the locale's decimal point; the text is plain decimal,
     * so putting that character in place of '.' reads it exactly. */
    char *dot = strchr(buf, '.');
    if (dot)
        *dot = localeconv()->decimal_point[0];
    double v = strtod(buf, NULL);
    if (!isfinite(v))
        return PRICE_RANGE;
    *out = v;
    return PRICE_OK;
}

/* ---- the reader ------------------------------------------------------------ */

static int fail(cursor *c, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(cursor *c, int code, const char *fmt, ...)
{
    char msg[NQ_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return nq_err_set(c->err, code, c->where, "line %ld: %s", c->line, msg);
}

/* The header's asset names into out->names (already allocated). */
static int read_header(cursor *c, size_t b, size_t e, nq_prices *out)
{
    cell cl;
    size_t pos = b;
    int more = read_cell(c->s, &pos, e, &cl); /* the date column's title: any text */
    for (int32_t i = 0; more > 0; i++) {
        more = read_cell(c->s, &pos, e, &cl);
        if (more < 0)
            break;
        if (cl.len == 0)
            return fail(c, NQ_EPARSE, "column %d: empty asset name", (int)i + 2);
        if (cl.len >= NQ_PF_NAME_MAX)
            return fail(c, NQ_ELIMIT, "column %d: asset name longer than %d bytes", (int)i + 2,
                        NQ_PF_NAME_MAX - 1);
        if (!text_ok(cl.buf, cl.len))
            return fail(c, NQ_EPARSE, "column %d: asset name is not printable UTF-8", (int)i + 2);
        for (int32_t j = 0; j < i; j++)
            if (strcmp(out->names[j], cl.buf) == 0)
                return fail(c, NQ_EPARSE, "column %d: duplicate asset name '%s'", (int)i + 2,
                            cl.buf);
        memcpy(out->names[i], cl.buf, cl.len + 1);
    }
    if (more < 0)
        return fail(c, NQ_EPARSE, "unterminated or misplaced quote");
    return NQ_OK;
}

/* Cells in the header line, and whether its quoting is sound. */
static int count_cells(const char *s, size_t b, size_t e, int64_t *cells)
{
    cell cl;
    size_t pos = b;
    int more = 1;
    *cells = 0;
    while (more > 0) {
        more = read_cell(s, &pos, e, &cl);
        (*cells)++;
    }
    return more < 0 ? -1 : 0;
}

static int read_row(cursor *c, size_t b, size_t e, nq_prices *out, int32_t row)
{
    cell cl;
    size_t pos = b;
    int more = read_cell(c->s, &pos, e, &cl);
    if (more >= 0 && cl.len >= NQ_PF_DATE_MAX)
        return fail(c, NQ_ELIMIT, "column 1: date longer than %d bytes", NQ_PF_DATE_MAX - 1);
    if (more >= 0 && !text_ok(cl.buf, cl.len))
        return fail(c, NQ_EPARSE, "column 1: date is not printable UTF-8");
    if (more >= 0)
        memcpy(out->dates[row], cl.buf, cl.len + 1);
    int32_t i = 0;
    for (; more > 0; i++) {
        more = read_cell(c->s, &pos, e, &cl);
        if (more < 0)
            break;
        if (i >= out->n) { /* one cell too many is enough to know */
            i++;
            break;
        }
        int rc = parse_price(&cl, &out->p[(size_t)row * out->n + i]);
        if (rc == PRICE_OK || rc == PRICE_MISSING)
            continue;
        char bad[SHOW_MAX + 8];
        show(&cl, bad, sizeof bad);
        if (rc == PRICE_BAD)
            return fail(c, NQ_EPARSE, "column %s: not a number: '%s'", out->names[i], bad);
        if (rc == PRICE_RANGE)
            return fail(c, NQ_ERANGE, "column %s: number out of range: '%s'", out->names[i], bad);
    }
    if (more < 0)
        return fail(c, NQ_EPARSE, "unterminated or misplaced quote");
    if (i > out->n)
        return fail(c, NQ_EPARSE, "expected %d cells, found more", (int)out->n + 1);
    if (i < out->n)
        return fail(c, NQ_EPARSE, "expected %d cells, found %d", (int)out->n + 1, (int)i + 1);
    return NQ_OK;
}

/* First pass: the header line and the number of data rows, limits checked. */
static int survey(cursor *c, size_t *hb, size_t *he, size_t *after, int32_t *n, int32_t *t)
{
    size_t b, e;
    int found = 0;
    if (c->len >= 3 && memcmp(c->s, "\xEF\xBB\xBF", 3) == 0)
        c->pos = 3;
    while (!found && next_line(c, &b, &e))
        found = !is_blank(c->s, b, e);
    if (!found) {
        c->line = 1;
        return fail(c, NQ_EPARSE, "empty file: no header");
    }
    *hb = b;
    *he = e;
    *after = c->pos;
    int64_t cells = 0;
    if (count_cells(c->s, b, e, &cells) < 0)
        return fail(c, NQ_EPARSE, "unterminated or misplaced quote");
    if (cells < 2)
        return fail(c, NQ_EPARSE, "the header names no asset column");
    if (cells - 1 > NQ_PF_MAX_ASSETS)
        return fail(c, NQ_ELIMIT, "more than %d asset columns", NQ_PF_MAX_ASSETS);
    *n = (int32_t)(cells - 1);
    int64_t rows = 0;
    while (next_line(c, &b, &e)) {
        if (is_blank(c->s, b, e))
            continue;
        if (++rows > NQ_PF_MAX_ROWS)
            return fail(c, NQ_ELIMIT, "more than %d data rows", NQ_PF_MAX_ROWS);
        if (rows * *n > NQ_PF_MAX_CELLS)
            return fail(c, NQ_ELIMIT, "more than %d prices in the table", NQ_PF_MAX_CELLS);
    }
    if (rows == 0)
        return fail(c, NQ_EPARSE, "no data rows after the header");
    *t = (int32_t)rows;
    return NQ_OK;
}

int nq_prices_parse_csv(const char *text, size_t len, const char *where, nq_prices *out,
                        nq_err *err)
{
    if (!out)
        return nq_err_set(err, NQ_EINVAL, where, "no output table");
    memset(out, 0, sizeof *out);
    if (!text && len > 0)
        return nq_err_set(err, NQ_EINVAL, where, "no text");
    cursor c = { .s = text, .len = text ? len : 0, .pos = 0, .line = 0, .where = where,
                 .err = err };
    size_t hb = 0, he = 0, after = 0, b, e;
    int32_t n = 0, t = 0;
    int rc = survey(&c, &hb, &he, &after, &n, &t);
    if (rc)
        return rc;
    nq_err aerr;
    rc = nq_prices_alloc(out, n, t, &aerr);
    if (rc)
        return fail(&c, rc, "%s", aerr.msg);
    /* Back to the header for the second pass: the line number of the
     * header is the number of lines before `after`. */
    c.pos = 0;
    c.line = 0;
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
        c.pos = 3;
    while (c.pos < after && next_line(&c, &b, &e))
        ;
    rc = read_header(&c, hb, he, out);
    for (int32_t row = 0; rc == NQ_OK && row < t && next_line(&c, &b, &e);) {
        if (is_blank(c.s, b, e))
            continue;
        rc = read_row(&c, b, e, out, row++);
    }
    if (rc)
        nq_prices_free(out);
    return rc;
}

/* ---- the check ------------------------------------------------------------- */

/* Names may come from a caller's table, not the reader: they are printed
 * with a bound in case one lacks its NUL. */
static int asset_fail(nq_err *err, const char *where, const nq_prices *p, int32_t i,
                      const char *what)
{
    char at[NQ_ERR_WHERE_MAX];
    const char *name = p->names[i];
    int w = NQ_PF_NAME_MAX - 1;
    if (name[0])
        snprintf(at, sizeof at, "%s/%.*s", where ? where : "", w, name);
    else
        snprintf(at, sizeof at, "%s/%d", where ? where : "", (int)i);
    return nq_err_set(err, NQ_EINVAL, at, "asset '%.*s': %s", w, name, what);
}

static int check_asset(const nq_prices *p, int32_t i, const char *where, nq_err *err)
{
    int32_t count = 0;
    double first = NAN;
    int changes = 0;
    for (int32_t r = 0; r < p->t; r++) {
        double v = p->p[(size_t)r * p->n + i];
        if (isnan(v))
            continue;
        if (!isfinite(v) || v <= 0.0)
            return asset_fail(err, where, p, i, "a price is not a finite positive number");
        if (count++ == 0)
            first = v;
        else if (v != first)
            changes = 1;
    }
    if (count < 2)
        return asset_fail(err, where, p, i, "fewer than 2 prices");
    if (!changes)
        return asset_fail(err, where, p, i, "the price never changes");
    return NQ_OK;
}

int nq_prices_check(const nq_prices *p, const char *where, nq_err *err)
{
    if (!p || !p->names || !p->dates || !p->p || p->n < 1 || p->t < 1)
        return nq_err_set(err, NQ_EINVAL, where, "no price table");
    if (p->n > NQ_PF_MAX_ASSETS || p->t > NQ_PF_MAX_ROWS ||
        (int64_t)p->n * p->t > NQ_PF_MAX_CELLS)
        return nq_err_set(err, NQ_ELIMIT, where, "the price table is over the limits");
    if (p->t < 2)
        return nq_err_set(err, NQ_EINVAL, where, "need at least 2 rows of prices, have %d",
                          (int)p->t);
    for (int32_t i = 0; i < p->n; i++) {
        if (!p->names[i][0] || !memchr(p->names[i], '\0', NQ_PF_NAME_MAX))
            return asset_fail(err, where, p, i, "empty or unterminated name");
        for (int32_t j = 0; j < i; j++)
            if (strcmp(p->names[i], p->names[j]) == 0)
                return asset_fail(err, where, p, i, "duplicate name");
    }
    for (int32_t i = 0; i < p->n; i++) {
        int rc = check_asset(p, i, where, err);
        if (rc)
            return rc;
    }
    return NQ_OK;
}
