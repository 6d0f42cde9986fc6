/* canon.c - the canonical text of a JSON value, streamed into a sink.
 *
 * The request hash is the key of the result cache, of idempotency checks
 * and of the Redis cache that nodes of different versions share, so its
 * text must stay what jansson 2.14 writes with JSON_COMPACT |
 * JSON_SORT_KEYS | JSON_REAL_PRECISION(17) | JSON_ENCODE_ANY. jansson's
 * dumper spends most of a hash on a malloc'd key array and qsort per
 * object, snprintf per integer and a callback per token; this writer
 * makes the same bytes in a fixed buffer and sorts keys in a pool on the
 * stack, allocating only for objects too big for the pool.
 *
 * What the bytes have to match (tests/unit/test_service.c and
 * fuzz/fuzz_canon.c compare them with jansson's):
 * - keys sort by memcmp over the shorter length, then shorter first, and
 *   may hold NUL (json_object_setn);
 * - strings escape '"', '\\', \b \f \n \r \t and other bytes below 0x20
 *   as \u00XX in upper case; everything else, UTF-8 included, is copied;
 * - a string value that is not UTF-8 fails the whole text, while a key
 *   that is not UTF-8 (json_object_setn_nocheck) is cut short and the
 *   text goes on: jansson ignores that failure and has written the quote
 *   and what came up to the last escape, without the closing quote;
 * - integers are %lld; reals are %.17g with the locale's decimal point
 *   made '.', ".0" added when there is no '.' nor 'e', and the exponent
 *   stripped of '+' and leading zeros. */
#include <langinfo.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "canon.h"
#include "nqba/buf.h"

#define CANON_BUF 4096 /* bytes handed to the sink at a time */
#define CANON_POOL 192 /* member slots shared by the objects on the path */
#define CANON_RUN 16   /* members sorted by insertion before merging */

typedef struct canon_member {
    uint64_t head; /* the first 8 key bytes, big endian, zero padded */
    const char *key;
    size_t len;
    json_t *val;
} canon_member;

typedef struct canon {
    nq__canon_sink sink;
    void *arg;
    size_t n;    /* bytes waiting in buf */
    size_t used; /* pool slots held by the objects being written */
    int depth;
    int sorted; /* 0: members in the object's own order */
    char buf[CANON_BUF];
    canon_member pool[CANON_POOL];
} canon;

/* ---- output ------------------------------------------------------------------ */

static void flush(canon *w)
{
    if (w->n)
        w->sink(w->arg, w->buf, w->n);
    w->n = 0;
}

static void put(canon *w, const void *p, size_t n)
{
    if (n > sizeof w->buf - w->n) {
        flush(w);
        if (n > sizeof w->buf) { /* a long string goes straight through */
            w->sink(w->arg, p, n);
            return;
        }
    }
    memcpy(w->buf + w->n, p, n);
    w->n += n;
}

static inline void put_byte(canon *w, char c)
{
    if (w->n == sizeof w->buf)
        flush(w);
    w->buf[w->n++] = c;
}

/* ---- scalars ----------------------------------------------------------------- */

static void put_int(canon *w, json_int_t v)
{
    if (sizeof w->buf - w->n < 20) /* room for "-9223372036854775808" */
        flush(w);
    /* Negate in unsigned arithmetic: -INT64_MIN does not fit. */
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    size_t len = (v < 0) + 1;
    for (unsigned long long t = u; t >= 10; t /= 10)
        len++;
    char *p = w->buf + w->n + len;
    w->n += len;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--p = '-';
}

/* jansson's jsonp_dtostr at precision 17, step by step. Not inlined: its
 * buffer would otherwise sit in every frame of the recursion. */
__attribute__((noinline)) static int put_real(canon *w, double v)
{
    char t[100];
    int r = snprintf(t, sizeof t, "%.17g", v);
    if (r < 0 || (size_t)r >= sizeof t)
        return -1;
    size_t len = (size_t)r;
    char point = *nl_langinfo(RADIXCHAR);
    char *p = point != '.' ? strchr(t, point) : NULL;
    if (p)
        *p = '.';
    if (!strchr(t, '.') && !strchr(t, 'e')) {
        if (len + 3 >= sizeof t)
            return -1;
        memcpy(t + len, ".0", 3);
        len += 2;
    }
    char *start = strchr(t, 'e');
    if (start) {
        start++;
        char *end = start + 1;
        if (*start == '-')
            start++;
        while (*end == '0')
            end++;
        if (end != start) {
            memmove(start, end, len - (size_t)(end - t));
            len -= (size_t)(end - start);
        }
    }
    put(w, t, len);
    return 0;
}

/* Bytes in the sequence a lead byte starts, 0 if it cannot start one. */
static size_t utf8_lead(unsigned c)
{
    if (c >= 0xC2 && c <= 0xDF)
        return 2;
    if (c >= 0xE0 && c <= 0xEF)
        return 3;
    if (c >= 0xF0 && c <= 0xF4)
        return 4;
    return 0;
}

/* Length of the UTF-8 sequence at p as jansson's utf8_iterate accepts it
 * (no overlong forms, surrogates or code points past U+10FFFF), 0 if none. */
static size_t utf8_seq(const unsigned char *p, size_t avail)
{
    size_t n = utf8_lead(p[0]);
    if (!n || n > avail)
        return 0;
    unsigned long cp = p[0] & (0x7Fu >> n);
    for (size_t i = 1; i < n; i++) {
        if (p[i] < 0x80 || p[i] > 0xBF)
            return 0;
        cp = cp << 6 | (p[i] & 0x3Fu);
    }
    if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF) || (n == 3 && cp < 0x800) ||
        (n == 4 && cp < 0x10000))
        return 0;
    return n;
}

/* c is '"', '\\' or below 0x20. */
static void put_escape(canon *w, unsigned char c)
{
    static const char hex[] = "0123456789ABCDEF";
    static const char named[0x20] = {
        ['\b'] = 'b', ['\f'] = 'f', ['\n'] = 'n', ['\r'] = 'r', ['\t'] = 't'};
    char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
    char one = c < 0x20 ? named[c] : (char)c;
    if (one) {
        e[1] = one;
        put(w, e, 2);
    } else {
        put(w, e, sizeof e);
    }
}

/* The common string, printable ASCII only, copied while it is checked;
 * 0 (nothing written) at the first byte that is not. */
static int put_plain(canon *w, const char *s, size_t len)
{
    char *o = w->buf + w->n;
    o[0] = '"';
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\')
            return 0;
        o[i + 1] = (char)c;
    }
    o[len + 1] = '"';
    w->n += len + 2;
    return 1;
}

/* Plain bytes are written a run at a time, when an escape or the end
 * comes; at invalid UTF-8 the pending run is dropped, as jansson does. */
static int put_escaped(canon *w, const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len, *run = p;
    put_byte(w, '"');
    while (p < end) {
        unsigned char c = *p;
        if (c >= 0x80) {
            size_t n = utf8_seq(p, (size_t)(end - p));
            if (!n)
                return -1;
            p += n;
        } else if (c >= 0x20 && c != '"' && c != '\\') {
            p++;
        } else {
            put(w, run, (size_t)(p - run));
            put_escape(w, c);
            run = ++p;
        }
    }
    put(w, run, (size_t)(p - run));
    put_byte(w, '"');
    return 0;
}

static int put_string(canon *w, const char *s, size_t len)
{
    if (len + 2 <= sizeof w->buf - w->n && put_plain(w, s, len))
        return 0;
    return put_escaped(w, s, len);
}

/* ---- containers -------------------------------------------------------------- */

static int put_value(canon *w, const json_t *v);

static int put_array(canon *w, const json_t *a)
{
    size_t n = json_array_size(a);
    put_byte(w, '[');
    for (size_t i = 0; i < n; i++) {
        if (i)
            put_byte(w, ',');
        if (put_value(w, json_array_get(a, i)))
            return -1;
    }
    put_byte(w, ']');
    return 0;
}

/* Comparing heads orders keys as memcmp and then length do: a key that
 * ends inside the head pads with zeros, which sort first. Equal heads
 * (long keys, or a NUL where the other key ended) need the full test. */
static uint64_t key_head(const char *key, size_t len)
{
    uint64_t h = 0;
    for (size_t i = 0; i < 8; i++)
        h = h << 8 | (i < len ? (unsigned char)key[i] : 0u);
    return h;
}

static int member_before(const canon_member *a, const canon_member *b)
{
    if (a->head != b->head)
        return a->head < b->head;
    size_t n = a->len < b->len ? a->len : b->len;
    int c = memcmp(a->key, b->key, n);
    return c < 0 || (c == 0 && a->len < b->len);
}

static void insertion_sort(canon_member *m, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        canon_member x = m[i];
        size_t j = i;
        for (; j && member_before(&x, &m[j - 1]); j--)
            m[j] = m[j - 1];
        m[j] = x;
    }
}

static void merge(const canon_member *src, size_t lo, size_t mid, size_t hi, canon_member *dst)
{
    size_t i = lo, j = mid, k = lo;
    while (i < mid && j < hi)
        dst[k++] = member_before(&src[j], &src[i]) ? src[j++] : src[i++];
    while (i < mid)
        dst[k++] = src[i++];
    while (j < hi)
        dst[k++] = src[j++];
}

/* Keys of one object are distinct, so any correct sort gives jansson's
 * order; merge sort keeps crafted keys from making it quadratic. tmp
 * has room for n members. */
static void sort_members(canon_member *m, size_t n, canon_member *tmp)
{
    for (size_t i = 0; i < n; i += CANON_RUN)
        insertion_sort(m + i, n - i < CANON_RUN ? n - i : CANON_RUN);
    canon_member *src = m, *dst = tmp;
    for (size_t width = CANON_RUN; width < n; width *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * width) {
            size_t mid = n - lo < width ? n : lo + width;
            size_t hi = n - lo < 2 * width ? n : lo + 2 * width;
            merge(src, lo, mid, hi, dst);
        }
        canon_member *t = src;
        src = dst;
        dst = t;
    }
    if (src != m)
        memcpy(m, src, n * sizeof *m);
}

/* 2n slots (members, then merge space) from the pool, or the heap when
 * the pool is short. NULL when out of memory. */
static canon_member *take_slots(canon *w, size_t n, int *heap)
{
    *heap = 2 * n > CANON_POOL - w->used;
    if (!*heap) {
        canon_member *m = w->pool + w->used;
        w->used += 2 * n;
        return m;
    }
    if (n > SIZE_MAX / (2 * sizeof(canon_member)))
        return NULL;
    return malloc(2 * n * sizeof(canon_member));
}

static void give_slots(canon *w, canon_member *m, size_t n, int heap)
{
    if (heap)
        free(m);
    else
        w->used -= 2 * n;
}

static int put_members(canon *w, const canon_member *m, size_t n)
{
    put_byte(w, '{');
    for (size_t i = 0; i < n; i++) {
        if (i)
            put_byte(w, ',');
        (void)put_string(w, m[i].key, m[i].len); /* jansson goes on: see the top */
        put_byte(w, ':');
        if (put_value(w, m[i].val))
            return -1;
    }
    put_byte(w, '}');
    return 0;
}

static int put_object(canon *w, const json_t *o)
{
    size_t n = json_object_size(o);
    if (!n) {
        put(w, "{}", 2);
        return 0;
    }
    int heap;
    canon_member *m = take_slots(w, n, &heap);
    if (!m)
        return -1;
    size_t i = 0;
    for (void *it = json_object_iter((json_t *)o); it && i < n;
         it = json_object_iter_next((json_t *)o, it), i++) {
        m[i].key = json_object_iter_key(it);
        m[i].len = json_object_iter_key_len(it);
        m[i].head = key_head(m[i].key, m[i].len);
        m[i].val = json_object_iter_value(it);
    }
    if (w->sorted)
        sort_members(m, i, m + n);
    int rc = put_members(w, m, i);
    give_slots(w, m, n, heap);
    return rc;
}

static int put_scalar(canon *w, const json_t *v)
{
    if (json_is_integer(v)) {
        put_int(w, json_integer_value(v));
        return 0;
    }
    if (json_is_real(v))
        return put_real(w, json_real_value(v));
    if (json_is_string(v))
        return put_string(w, json_string_value(v), json_string_length(v));
    if (json_is_true(v))
        put(w, "true", 4);
    else if (json_is_false(v))
        put(w, "false", 5);
    else if (json_is_null(v))
        put(w, "null", 4);
    else
        return -1;
    return 0;
}

static int put_value(canon *w, const json_t *v)
{
    if (!v)
        return -1;
    if (!json_is_array(v) && !json_is_object(v))
        return put_scalar(w, v);
    if (w->depth >= NQ__CANON_MAX_DEPTH)
        return -1;
    w->depth++;
    int rc = json_is_array(v) ? put_array(w, v) : put_object(w, v);
    w->depth--;
    return rc;
}

static int write_text(const json_t *v, int sorted, nq__canon_sink sink, void *arg)
{
    canon w;
    w.sink = sink;
    w.arg = arg;
    w.n = w.used = 0;
    w.depth = 0;
    w.sorted = sorted;
    int rc = put_value(&w, v);
    flush(&w);
    return rc;
}

int nq__canon_write(const json_t *v, nq__canon_sink sink, void *arg)
{
    return write_text(v, 1, sink, arg);
}

/* Appends to an nq_buf; the first failure sticks (the buffer then stops
 * growing and the text is dropped). */
typedef struct text_sink {
    nq_buf b;
    int failed;
} text_sink;

static void text_append(void *arg, const char *text, size_t len)
{
    text_sink *t = arg;
    if (!t->failed && nq_buf_append(&t->b, text, len))
        t->failed = 1;
}

char *nq__compact_text(const json_t *v)
{
    /* json_dumps refuses scalars without JSON_ENCODE_ANY. */
    if (!json_is_object(v) && !json_is_array(v))
        return NULL;
    text_sink t = {.failed = 0};
    nq_buf_init(&t.b, 0); /* no limit: the result is already in memory as a tree */
    char *text = write_text(v, 0, text_append, &t) || t.failed ? NULL : nq_buf_steal(&t.b, NULL);
    nq_buf_free(&t.b);
    return text;
}
