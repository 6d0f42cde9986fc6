/* dtable_feel.c - FEEL unary tests, the conditions of decision table rules:
 * parsing one condition string and testing a fact against it.
 *
 *   condition := "-" | "not" "(" list ")" | list
 *   list      := test ("," test)*
 *   test      := cmp literal | range | literal
 *   cmp       := "<" | "<=" | ">" | ">=" | "=" | "!="
 *   range     := ("[" | "(" | "]") number ".." number ("]" | ")" | "[")
 *   literal   := number | "\"" string "\"" | "true" | "false"
 *
 * Orderings and ranges take numbers only. Whitespace may surround every
 * token. Errors give the byte offset in the condition. */
#include <ctype.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dtable_internal.h"

#define STR_(x) #x
#define STR(x) STR_(x)

typedef struct cursor {
    const char *s;
    size_t len, pos;
    const char *where;
    nq_err *err;
} cursor;

static int at_end(const cursor *c) { return c->pos >= c->len; }
static char peek_at(const cursor *c, size_t k)
{
    return c->pos + k < c->len ? c->s[c->pos + k] : '\0';
}
static char peek(const cursor *c) { return peek_at(c, 0); }
static int is_digit(char ch) { return ch >= '0' && ch <= '9'; }

static void skip_ws(cursor *c)
{
    while (!at_end(c) && (c->s[c->pos] == ' ' || c->s[c->pos] == '\t' ||
                          c->s[c->pos] == '\n' || c->s[c->pos] == '\r'))
        c->pos++;
}

/* Report what at the cursor, naming the character found there. */
static int fail_code(cursor *c, int code, const char *what)
{
    char found[24];
    unsigned char ch = (unsigned char)peek(c);
    if (at_end(c))
        snprintf(found, sizeof found, "the end");
    else if (isprint(ch) && ch < 0x80)
        snprintf(found, sizeof found, "'%c'", ch);
    else
        snprintf(found, sizeof found, "byte 0x%02x", ch);
    return nq_err_set(c->err, code, c->where, "%s at offset %zu, found %s", what, c->pos, found);
}

static int fail(cursor *c, const char *what) { return fail_code(c, NQ_EPARSE, what); }

/* ---- tokens ---------------------------------------------------------------- */

static size_t skip_digits(const cursor *c, size_t i)
{
    while (i < c->len && is_digit(c->s[i]))
        i++;
    return i;
}

/* End of the number starting at c->pos, or c->pos if there is none. The
 * fraction needs a digit after the '.', so "1..10" reads as 1, "..", 10. */
static size_t number_end(const cursor *c)
{
    size_t start = c->pos + (peek(c) == '-');
    size_t end = skip_digits(c, start);
    if (end + 1 < c->len && c->s[end] == '.' && is_digit(c->s[end + 1]))
        end = skip_digits(c, end + 1);
    if (end == start)
        return c->pos;
    if (end < c->len && (c->s[end] == 'e' || c->s[end] == 'E')) {
        size_t j = end + 1;
        if (j < c->len && (c->s[j] == '+' || c->s[j] == '-'))
            j++;
        size_t k = skip_digits(c, j);
        if (k > j)
            end = k;
    }
    return end;
}

static int scan_number(cursor *c, double *out)
{
    size_t end = number_end(c);
    if (end == c->pos)
        return fail(c, "expected a number");
    char buf[64];
    if (end - c->pos >= sizeof buf)
        return fail(c, "number is too long");
    memcpy(buf, c->s + c->pos, end - c->pos);
    buf[end - c->pos] = '\0';
    /* strtod reads the locale's decimal point; the text was checked above
     * to be plain decimal, so swapping '.' for it is exact (jansson does the
     * same). */
    char *dot = strchr(buf, '.');
    if (dot)
        *dot = localeconv()->decimal_point[0];
    double d = strtod(buf, NULL);
    if (!isfinite(d))
        return fail_code(c, NQ_ERANGE, "number is out of range");
    *out = d;
    c->pos = end;
    return NQ_OK;
}

static int unescape(char e, char *out)
{
    switch (e) {
    case '"': *out = '"'; return 1;
    case '\\': *out = '\\'; return 1;
    case 'n': *out = '\n'; return 1;
    case 't': *out = '\t'; return 1;
    case 'r': *out = '\r'; return 1;
    default: return 0;
    }
}

/* A quoted string at the cursor; \" \\ \n \t \r are its escapes. */
static int scan_string(cursor *c, nq__feel_test *t)
{
    size_t i = c->pos + 1;
    char *buf = malloc(c->len - c->pos);
    if (!buf)
        return nq_err_set(c->err, NQ_ENOMEM, c->where, "out of memory");
    size_t n = 0;
    for (;;) {
        if (i >= c->len) {
            free(buf);
            c->pos = i;
            return fail(c, "unterminated string");
        }
        char ch = c->s[i++];
        if (ch == '"')
            break;
        if (ch == '\\') {
            if (i >= c->len || !unescape(c->s[i], &ch)) {
                free(buf);
                c->pos = i - 1;
                return fail(c, "unknown escape in string");
            }
            i++;
        }
        buf[n++] = ch;
    }
    t->str = buf;
    t->len = n;
    t->type = NQ_DTABLE_STRING;
    c->pos = i;
    return NQ_OK;
}

/* Consume keyword w if it stands alone (not the start of a longer word). */
static int scan_word(cursor *c, const char *w)
{
    size_t n = strlen(w);
    if (c->len - c->pos < n || memcmp(c->s + c->pos, w, n) != 0)
        return 0;
    unsigned char next = (unsigned char)peek_at(c, n);
    if (isalnum(next) || next == '_')
        return 0;
    c->pos += n;
    return 1;
}

static int starts_number(const cursor *c)
{
    char ch = peek(c);
    return is_digit(ch) || ch == '-' || ch == '.';
}

/* ---- grammar --------------------------------------------------------------- */

static int parse_literal(cursor *c, nq__feel_test *t)
{
    if (peek(c) == '"')
        return scan_string(c, t);
    int is_true = scan_word(c, "true");
    if (is_true || scan_word(c, "false")) {
        t->type = NQ_DTABLE_BOOLEAN;
        t->boolean = is_true;
        return NQ_OK;
    }
    if (!starts_number(c))
        return fail(c, "expected a number, a quoted string, true or false");
    t->type = NQ_DTABLE_NUMBER;
    return scan_number(c, &t->num);
}

static int parse_cmp(cursor *c, nq__feel_op *op)
{
    static const struct { const char *text; nq__feel_op op; } ops[] = {
        {"<=", NQ__FEEL_LE}, {">=", NQ__FEEL_GE}, {"!=", NQ__FEEL_NE},
        {"<", NQ__FEEL_LT},  {">", NQ__FEEL_GT},  {"=", NQ__FEEL_EQ},
    };
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        size_t n = strlen(ops[i].text);
        if (c->len - c->pos >= n && memcmp(c->s + c->pos, ops[i].text, n) == 0) {
            c->pos += n;
            *op = ops[i].op;
            return 1;
        }
    }
    return 0;
}

/* "[1..10]", "(1..10)", "]1..10[" and mixes: '(' and ']' open the low end,
 * ')' and '[' open the high end. */
static int parse_range(cursor *c, nq__feel_test *t)
{
    size_t start = c->pos;
    t->op = NQ__FEEL_RANGE;
    t->type = NQ_DTABLE_NUMBER;
    t->lo_open = c->s[c->pos++] != '[';
    skip_ws(c);
    int rc = scan_number(c, &t->num);
    if (rc)
        return rc;
    skip_ws(c);
    if (peek(c) != '.' || peek_at(c, 1) != '.')
        return fail(c, "expected '..' in range");
    c->pos += 2;
    skip_ws(c);
    if ((rc = scan_number(c, &t->hi)))
        return rc;
    skip_ws(c);
    char ch = peek(c);
    if (ch != ']' && ch != ')' && ch != '[')
        return fail(c, "expected ']', ')' or '[' to close the range");
    c->pos++;
    t->hi_open = ch != ']';
    if (t->num > t->hi || (t->num == t->hi && (t->lo_open || t->hi_open))) {
        c->pos = start;
        return fail_code(c, NQ_EINVAL, "range is empty");
    }
    return NQ_OK;
}

static int parse_test(cursor *c, nq__feel_test *t)
{
    skip_ws(c);
    int rc;
    char ch = peek(c);
    if (parse_cmp(c, &t->op)) {
        skip_ws(c);
        if (t->op == NQ__FEEL_EQ || t->op == NQ__FEEL_NE) {
            rc = parse_literal(c, t);
        } else if (!starts_number(c)) {
            rc = fail(c, "expected a number after the comparison");
        } else {
            t->type = NQ_DTABLE_NUMBER;
            rc = scan_number(c, &t->num);
        }
    } else if (ch == '[' || ch == '(' || ch == ']') {
        rc = parse_range(c, t);
    } else {
        t->op = NQ__FEEL_EQ;
        rc = parse_literal(c, t);
    }
    skip_ws(c);
    return rc;
}

static int grow_tests(cursor *c, nq__feel *f, int32_t *cap)
{
    if (f->n < *cap)
        return NQ_OK;
    int32_t ncap = *cap ? *cap * 2 : 2;
    if (ncap > NQ_DTABLE_MAX_LIST)
        ncap = NQ_DTABLE_MAX_LIST;
    nq__feel_test *nt = realloc(f->tests, (size_t)ncap * sizeof *nt);
    if (!nt)
        return nq_err_set(c->err, NQ_ENOMEM, c->where, "out of memory");
    f->tests = nt;
    *cap = ncap;
    return NQ_OK;
}

static int parse_list(cursor *c, nq__feel *f)
{
    int32_t cap = 0;
    for (;;) {
        if (f->n == NQ_DTABLE_MAX_LIST)
            return fail_code(c, NQ_ELIMIT, "more than " STR(NQ_DTABLE_MAX_LIST) " tests in a list");
        int rc = grow_tests(c, f, &cap);
        if (rc)
            return rc;
        /* Counted before it is parsed, so nq__feel_free sees its string. */
        nq__feel_test *t = &f->tests[f->n++];
        memset(t, 0, sizeof *t);
        if ((rc = parse_test(c, t)))
            return rc;
        if (peek(c) != ',')
            return NQ_OK;
        c->pos++;
    }
}

/* "-" alone is the any-test; "-5" is a number. */
static int is_dash(const cursor *c)
{
    char next = peek_at(c, 1);
    return peek(c) == '-' && !is_digit(next) && next != '.';
}

static int parse_condition(cursor *c, nq__feel *f)
{
    skip_ws(c);
    if (at_end(c))
        return fail(c, "empty condition (\"-\" matches anything)");
    if (is_dash(c)) {
        c->pos++;
        f->any = 1;
    } else if (scan_word(c, "not")) {
        skip_ws(c);
        if (peek(c) != '(')
            return fail(c, "expected '(' after not");
        c->pos++;
        f->negate = 1;
        int rc = parse_list(c, f);
        if (rc)
            return rc;
        if (peek(c) != ')')
            return fail(c, "expected ',' or ')'");
        c->pos++;
    } else {
        int rc = parse_list(c, f);
        if (rc)
            return rc;
    }
    skip_ws(c);
    if (!at_end(c))
        return fail(c, f->any ? "unexpected text after '-'" : "expected ',' or the end");
    return NQ_OK;
}

/* ---- types ----------------------------------------------------------------- */

static int check_types(const nq__feel *f, nq_dtable_type type, const char *where, nq_err *err)
{
    for (int32_t i = 0; i < f->n; i++) {
        const nq__feel_test *t = &f->tests[i];
        int ordered = t->op != NQ__FEEL_EQ && t->op != NQ__FEEL_NE;
        if (ordered && type != NQ_DTABLE_NUMBER)
            return nq_err_set(err, NQ_EINVAL, where,
                              "test %d: ranges and <, <=, >, >= need a number input, not a %s",
                              (int)i, nq_dtable_type_name(type));
        if (t->type != type)
            return nq_err_set(err, NQ_EINVAL, where, "test %d: a %s literal for a %s input",
                              (int)i, nq_dtable_type_name(t->type), nq_dtable_type_name(type));
    }
    return NQ_OK;
}

static int parse_string(const json_t *v, const char *where, nq__feel *f, nq_err *err)
{
    size_t len = json_string_length(v);
    if (len > NQ_DTABLE_MAX_COND)
        return nq_err_set(err, NQ_ELIMIT, where,
                          "condition is %zu bytes, more than the limit of %d", len,
                          NQ_DTABLE_MAX_COND);
    cursor c = {.s = json_string_value(v), .len = len, .where = where, .err = err};
    return parse_condition(&c, f);
}

/* A JSON number or boolean is an equality test on it. */
static int parse_scalar(const json_t *v, nq__feel *f, nq_err *err, const char *where)
{
    f->tests = calloc(1, sizeof *f->tests);
    if (!f->tests)
        return nq_err_set(err, NQ_ENOMEM, where, "out of memory");
    f->n = 1;
    f->tests[0].op = NQ__FEEL_EQ;
    if (json_is_boolean(v)) {
        f->tests[0].type = NQ_DTABLE_BOOLEAN;
        f->tests[0].boolean = json_is_true(v);
        return NQ_OK;
    }
    f->tests[0].type = NQ_DTABLE_NUMBER;
    return nq_json_as_number(v, where, &f->tests[0].num, err);
}

int nq__feel_parse(const json_t *v, nq_dtable_type type, const char *where, nq__feel *out,
                   nq_err *err)
{
    memset(out, 0, sizeof *out);
    int rc;
    if (json_is_string(v))
        rc = parse_string(v, where, out, err);
    else if (json_is_number(v) || json_is_boolean(v))
        rc = parse_scalar(v, out, err, where);
    else
        rc = nq_err_set(err, NQ_EINVAL, where,
                        "expected a condition string, a number or a boolean, got %s",
                        nq_json_type_name(v));
    if (!rc)
        rc = check_types(out, type, where, err);
    if (rc)
        nq__feel_free(out);
    return rc;
}

void nq__feel_free(nq__feel *f)
{
    if (!f)
        return;
    for (int32_t i = 0; i < f->n; i++)
        free(f->tests[i].str);
    free(f->tests);
    memset(f, 0, sizeof *f);
}

/* ---- matching -------------------------------------------------------------- */

static int match_number(const nq__feel_test *t, double x)
{
    switch (t->op) {
    case NQ__FEEL_EQ: return x == t->num;
    case NQ__FEEL_NE: return x != t->num;
    case NQ__FEEL_LT: return x < t->num;
    case NQ__FEEL_LE: return x <= t->num;
    case NQ__FEEL_GT: return x > t->num;
    case NQ__FEEL_GE: return x >= t->num;
    case NQ__FEEL_RANGE:
        return (t->lo_open ? x > t->num : x >= t->num) && (t->hi_open ? x < t->hi : x <= t->hi);
    }
    return 0;
}

static int match_test(const nq__feel_test *t, const json_t *v)
{
    int eq;
    switch (t->type) {
    case NQ_DTABLE_NUMBER: return match_number(t, json_number_value(v));
    case NQ_DTABLE_STRING:
        eq = json_string_length(v) == t->len && memcmp(json_string_value(v), t->str, t->len) == 0;
        break;
    case NQ_DTABLE_BOOLEAN: eq = json_is_true(v) == t->boolean; break;
    default: return 0;
    }
    return t->op == NQ__FEEL_NE ? !eq : eq;
}

int nq__feel_match(const nq__feel *f, const json_t *fact)
{
    if (f->any)
        return 1;
    int hit = 0;
    for (int32_t i = 0; i < f->n && !hit; i++)
        hit = match_test(&f->tests[i], fact);
    return f->negate ? !hit : hit;
}
