/* json_fast.c - strict JSON straight from the buffer into jansson's tree.
 *
 * The grammar taken is RFC 8259's, narrowed to what json_loadb accepts
 * with JSON_REJECT_DUPLICATES: an object or array at the top, integers
 * that fit strtoll, finite reals, strictly valid UTF-8, no \u0000, no
 * duplicate keys. Whatever falls outside, or might, makes the parser give
 * up (NULL) rather than decide: the caller then runs jansson, whose
 * verdict and message stand. So this file never has to explain an error;
 * it only has to be sure of what it accepts. */
#include "json_fast.h"
#include "nqba/hex.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct fast_parser {
    const unsigned char *p;   /* the next byte to read */
    const unsigned char *end; /* one past the last byte */
    int depth;                /* containers open around p */
    int max_depth;            /* the most that may be open */
} fast_parser;

/* A string token: the bytes between its quotes, unescaped or not. */
typedef struct fast_str {
    const char *s;
    size_t len;
    char *owned; /* the unescaped copy s points into, when there were escapes */
} fast_str;

/* Number tokens longer than this are handed to jansson; they are rare,
 * and the copy strtod reads must be bounded. */
#define FAST_NUMBER_MAX 128

static json_t *parse_value(fast_parser *fp);

static int is_digit(int c) { return c >= '0' && c <= '9'; }

/* The next byte past JSON whitespace (the four bytes jansson skips), or -1
 * at the end of the input. */
static int skip_ws(fast_parser *fp)
{
    while (fp->p < fp->end) {
        int c = *fp->p;
        if (c != ' ' && c != '\n' && c != '\r' && c != '\t')
            return c;
        fp->p++;
    }
    return -1;
}

/* ---- strings ----------------------------------------------------------- */

/* Length of the UTF-8 sequence at p (its first byte is 0x80 or more), or 0
 * when it is not strictly valid: no overlong forms, no surrogates, nothing
 * past U+10FFFF - the sequences jansson's decoder refuses. */
static size_t utf8_len(const unsigned char *p, const unsigned char *end)
{
    unsigned c = p[0], lo = 0x80, hi = 0xBF;
    size_t n;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        lo = c == 0xE0 ? 0xA0 : lo; /* below: overlong */
        hi = c == 0xED ? 0x9F : hi; /* above: a surrogate */
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        lo = c == 0xF0 ? 0x90 : lo; /* below: overlong */
        hi = c == 0xF4 ? 0x8F : hi; /* above: past U+10FFFF */
    } else {
        return 0;
    }
    if ((size_t)(end - p) < n || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (p[i] < 0x80 || p[i] > 0xBF)
            return 0;
    return n;
}

/* The four hex digits at p as a number, or -1. */
static long hex4(const unsigned char *p)
{
    long v = 0;
    for (int i = 0; i < 4; i++) {
        int d = nq_hex_value(p[i]);
        if (d < 0)
            return -1;
        v = v * 16 + d;
    }
    return v;
}

/* Length of a well-formed escape at p (p[0] is the backslash), or 0. Only
 * the form is checked here; what a \u escape stands for is unescape's. */
static size_t escape_len(const unsigned char *p, const unsigned char *end)
{
    if (end - p < 2)
        return 0;
    if (p[1] == 'u')
        return end - p >= 6 && hex4(p + 2) >= 0 ? 6 : 0;
    return p[1] && strchr("\"\\/bfnrt", p[1]) ? 2 : 0;
}

/* Move fp->p past the body of a string (fp->p is just past the opening
 * quote) and onto the closing quote. Returns -1 for a body jansson might
 * refuse (a control character, invalid UTF-8, a malformed escape, no
 * closing quote), else whether the body holds escapes. */
static int scan_string(fast_parser *fp)
{
    const unsigned char *p = fp->p, *end = fp->end;
    int escaped = 0;
    for (;;) {
        while (p < end && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\')
            p++;
        if (p == end || *p < 0x20)
            return -1;
        if (*p == '"')
            break;
        size_t n = *p == '\\' ? escape_len(p, end) : utf8_len(p, end);
        if (!n)
            return -1;
        escaped |= *p == '\\';
        p += n;
    }
    fp->p = p;
    return escaped;
}

/* Write code point v as UTF-8 at out; returns the bytes written. */
static size_t utf8_put(unsigned long v, char *out)
{
    if (v < 0x80) {
        out[0] = (char)v;
        return 1;
    }
    if (v < 0x800) {
        out[0] = (char)(0xC0 | (v >> 6));
        out[1] = (char)(0x80 | (v & 0x3F));
        return 2;
    }
    if (v < 0x10000) {
        out[0] = (char)(0xE0 | (v >> 12));
        out[1] = (char)(0x80 | ((v >> 6) & 0x3F));
        out[2] = (char)(0x80 | (v & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (v >> 18));
    out[1] = (char)(0x80 | ((v >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((v >> 6) & 0x3F));
    out[3] = (char)(0x80 | (v & 0x3F));
    return 4;
}

/* The code point of the \u escape at p[0..6), joined with a low surrogate
 * escape right after when it is a high one; *used gets the bytes read.
 * Returns -1 for what jansson refuses: \u0000 (no JSON_ALLOW_NUL), and a
 * surrogate that is not half of a pair. */
static long unicode_escape(const unsigned char *p, const unsigned char *end, size_t *used)
{
    long v = hex4(p + 2);
    *used = 6;
    if (v == 0 || (v >= 0xDC00 && v <= 0xDFFF))
        return -1;
    if (v < 0xD800 || v > 0xDBFF)
        return v;
    if (end - p < 12 || p[6] != '\\' || p[7] != 'u')
        return -1;
    long lo = hex4(p + 8);
    if (lo < 0xDC00 || lo > 0xDFFF)
        return -1;
    *used = 12;
    return 0x10000 + ((v - 0xD800) << 10) + (lo - 0xDC00);
}

static char simple_escape(unsigned char c)
{
    switch (c) {
    case 'b': return '\b';
    case 'f': return '\f';
    case 'n': return '\n';
    case 'r': return '\r';
    case 't': return '\t';
    default: return (char)c; /* '"', '\\' and '/' stand for themselves */
    }
}

/* Unescape the scanned body s[0..n) into out, which has room for n bytes:
 * no escape is shorter than what it stands for. Returns the length, or -1. */
static long unescape(const unsigned char *s, size_t n, char *out)
{
    const unsigned char *end = s + n;
    size_t len = 0;
    while (s < end) {
        if (*s != '\\') {
            out[len++] = (char)*s++;
        } else if (s[1] != 'u') {
            out[len++] = simple_escape(s[1]);
            s += 2;
        } else {
            size_t used;
            long v = unicode_escape(s, end, &used);
            if (v < 0)
                return -1;
            len += utf8_put((unsigned long)v, out + len);
            s += used;
        }
    }
    return (long)len;
}

/* Read the string token at fp->p (an opening quote) into *str. Returns 0,
 * or -1 to give up. On success the caller frees str->owned. */
static int parse_string(fast_parser *fp, fast_str *str)
{
    const unsigned char *body = ++fp->p;
    int escaped = scan_string(fp);
    if (escaped < 0)
        return -1;
    size_t n = (size_t)(fp->p - body);
    fp->p++; /* the closing quote */
    str->s = (const char *)body;
    str->len = n;
    str->owned = NULL;
    if (!escaped)
        return 0;
    str->owned = malloc(n ? n : 1);
    long len = str->owned ? unescape(body, n, str->owned) : -1;
    if (len < 0) {
        free(str->owned);
        return -1;
    }
    str->s = str->owned;
    str->len = (size_t)len;
    return 0;
}

static json_t *parse_string_value(fast_parser *fp)
{
    fast_str str;
    if (parse_string(fp, &str))
        return NULL;
    /* Checked already: valid UTF-8, and no NUL since \u0000 was refused. */
    json_t *v = json_stringn_nocheck(str.s, str.len);
    free(str.owned);
    return v;
}

/* ---- numbers ----------------------------------------------------------- */

/* Move p past a run of digits. */
static const unsigned char *digits(const unsigned char *p, const unsigned char *end)
{
    while (p < end && is_digit(*p))
        p++;
    return p;
}

/* Copy the token s[0..n) into buf as a C string, for strtoll and strtod,
 * which know nothing of lengths. Returns 0, or -1 when it is too long. */
static int number_text(const unsigned char *s, size_t n, char buf[FAST_NUMBER_MAX])
{
    if (n >= FAST_NUMBER_MAX)
        return -1;
    memcpy(buf, s, n);
    buf[n] = '\0';
    return 0;
}

/* An integer token: '-'? digits, no leading zero. jansson reads it with
 * strtoll and refuses what overflows; up to 18 digits cannot overflow, so
 * only longer ones go through strtoll here. */
static json_t *make_integer(const unsigned char *s, size_t n)
{
    int neg = s[0] == '-';
    if (n - (size_t)neg <= 18) {
        json_int_t v = 0;
        for (size_t i = (size_t)neg; i < n; i++)
            v = v * 10 + (s[i] - '0');
        return json_integer(neg ? -v : v);
    }
    char buf[FAST_NUMBER_MAX];
    if (n - (size_t)neg > 19 || number_text(s, n, buf))
        return NULL; /* past int64: jansson says "too big integer" */
    char *stop;
    errno = 0;
    long long v = strtoll(buf, &stop, 10);
    if (errno || stop != buf + n)
        return NULL;
    return json_integer((json_int_t)v);
}

/* A real token. jansson swaps '.' for the locale's decimal point and calls
 * strtod; in the C locale that is strtod on the token itself, so this reads
 * the same bits. Under a locale whose point is not '.', strtod stops at the
 * '.', and the parser gives up rather than differ. Like jansson, it refuses
 * overflow (an infinity) and keeps what underflows (ERANGE, but finite). */
static json_t *make_real(const unsigned char *s, size_t n)
{
    char buf[FAST_NUMBER_MAX];
    if (number_text(s, n, buf))
        return NULL;
    char *stop;
    double d = strtod(buf, &stop);
    if (stop != buf + n || !isfinite(d))
        return NULL;
    return json_real(d);
}

/* A number token at fp->p ('-' or a digit), in RFC 8259's grammar, which
 * is also jansson's: a fraction or exponent makes it a real. */
static json_t *parse_number(fast_parser *fp)
{
    const unsigned char *s = fp->p, *p = s, *end = fp->end;
    if (*p == '-')
        p++;
    if (p == end || !is_digit(*p))
        return NULL;
    if (*p == '0' && p + 1 < end && is_digit(p[1]))
        return NULL; /* a leading zero */
    p = digits(p, end);
    int real = 0;
    if (p < end && *p == '.') {
        const unsigned char *frac = p + 1;
        p = digits(frac, end);
        if (p == frac)
            return NULL;
        real = 1;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        const unsigned char *exp = p + 1;
        if (exp < end && (*exp == '+' || *exp == '-'))
            exp++;
        p = digits(exp, end);
        if (p == exp)
            return NULL;
        real = 1;
    }
    fp->p = p;
    size_t n = (size_t)(p - s);
    return real ? make_real(s, n) : make_integer(s, n);
}

/* ---- literals and containers ------------------------------------------ */

/* The literal word at fp->p, giving value when it matches. A letter right
 * after it ("truex") would also be refused by the caller's grammar. */
static json_t *parse_literal(fast_parser *fp, const char *word, size_t n, json_t *value)
{
    if ((size_t)(fp->end - fp->p) < n || memcmp(fp->p, word, n) != 0)
        return NULL;
    fp->p += n;
    return value;
}

/* Open a container at fp->p: step over its bracket and count a level. */
static int open_container(fast_parser *fp)
{
    if (fp->depth >= fp->max_depth)
        return -1; /* jansson and nq_json_parse's walk will say how deep */
    fp->depth++;
    fp->p++;
    return 0;
}

/* What follows a member or element: 0 for ',', 1 for the closing byte,
 * -1 for anything else. */
static int next_item(fast_parser *fp, int close)
{
    int c = skip_ws(fp);
    if (c != ',' && c != close)
        return -1;
    fp->p++;
    return c == close;
}

static json_t *parse_array(fast_parser *fp)
{
    if (open_container(fp))
        return NULL;
    json_t *arr = json_array();
    if (!arr)
        return NULL;
    int done = skip_ws(fp) == ']';
    if (done)
        fp->p++;
    while (!done) {
        if (skip_ws(fp) < 0 || json_array_append_new(arr, parse_value(fp)))
            goto give_up;
        done = next_item(fp, ']');
        if (done < 0)
            goto give_up;
    }
    fp->depth--;
    return arr;
give_up:
    json_decref(arr);
    return NULL;
}

/* One "key": value member of obj, from the key's opening quote on. */
static int parse_member(fast_parser *fp, json_t *obj)
{
    fast_str key;
    if (skip_ws(fp) != '"' || parse_string(fp, &key))
        return -1;
    json_t *v = NULL;
    if (skip_ws(fp) == ':') {
        fp->p++;
        if (skip_ws(fp) >= 0)
            v = parse_value(fp);
    }
    size_t before = json_object_size(obj);
    /* A key that was there already replaces its value and leaves the size
     * as it was: a duplicate, which JSON_REJECT_DUPLICATES refuses. That
     * saves looking each key up before setting it. */
    int rc = v ? json_object_setn_new_nocheck(obj, key.s, key.len, v) : -1;
    free(key.owned);
    return rc || json_object_size(obj) == before ? -1 : 0;
}

static json_t *parse_object(fast_parser *fp)
{
    if (open_container(fp))
        return NULL;
    json_t *obj = json_object();
    if (!obj)
        return NULL;
    int done = skip_ws(fp) == '}';
    if (done)
        fp->p++;
    while (!done) {
        if (parse_member(fp, obj))
            goto give_up;
        done = next_item(fp, '}');
        if (done < 0)
            goto give_up;
    }
    fp->depth--;
    return obj;
give_up:
    json_decref(obj);
    return NULL;
}

/* The value at fp->p, which the caller has checked is inside the input. */
static json_t *parse_value(fast_parser *fp)
{
    switch (*fp->p) {
    case '{': return parse_object(fp);
    case '[': return parse_array(fp);
    case '"': return parse_string_value(fp);
    case 't': return parse_literal(fp, "true", 4, json_true());
    case 'f': return parse_literal(fp, "false", 5, json_false());
    case 'n': return parse_literal(fp, "null", 4, json_null());
    default: return *fp->p == '-' || is_digit(*fp->p) ? parse_number(fp) : NULL;
    }
}

json_t *nq__json_fast_parse(const char *data, size_t len, int max_depth)
{
    if (!data)
        return NULL;
    fast_parser fp = {(const unsigned char *)data, (const unsigned char *)data + len, 0,
                      max_depth < NQ__JSON_FAST_MAX_DEPTH ? max_depth : NQ__JSON_FAST_MAX_DEPTH};
    int c = skip_ws(&fp);
    /* Without JSON_DECODE_ANY, jansson takes only these at the top. */
    if (c != '{' && c != '[')
        return NULL;
    json_t *root = parse_value(&fp);
    if (root && skip_ws(&fp) >= 0) {
        json_decref(root); /* more than whitespace after the document */
        return NULL;
    }
    return root;
}
