/* json.c - parsing with limits, and member readers that say where and why.
 *
 * Every error names the offending value by its JSON pointer so a client can
 * find it in its own document without reading our code. */
#include "nqba/json.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "json_fast.h"

void nq_json_limits_default(nq_json_limits *l)
{
    l->max_bytes = (size_t)64 * 1024 * 1024;
    l->max_depth = 64;
}

/* ---- pointers ---------------------------------------------------------- */

/* Length of the part of s[0..n) that does not end inside a UTF-8 sequence,
 * so a truncated pointer is still valid UTF-8. */
static size_t utf8_cut(const char *s, size_t n)
{
    size_t i = n;
    while (i > 0 && ((unsigned char)s[i - 1] & 0xC0) == 0x80)
        i--;
    if (i == 0)
        return n;
    unsigned char lead = (unsigned char)s[i - 1];
    size_t want = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
    return n - (i - 1) >= want ? n : i - 1;
}

/* Start out with parent; out and parent may be the same array. */
static size_t ptr_start(char out[NQ_JSON_PTR_MAX], const char *parent)
{
    if (!parent)
        parent = "";
    size_t n = strnlen(parent, NQ_JSON_PTR_MAX - 1);
    memmove(out, parent, n);
    out[n] = '\0';
    return n;
}

void nq_json_ptr_key(char out[NQ_JSON_PTR_MAX], const char *parent, const char *key)
{
    size_t n = ptr_start(out, parent);
    const char *k = key ? key : "";
    if (n + 1 >= NQ_JSON_PTR_MAX)
        return;
    out[n++] = '/';
    for (; *k; k++) {
        /* RFC 6901: '~' is written ~0 and '/' is written ~1. */
        const char *piece = *k == '~' ? "~0" : *k == '/' ? "~1" : NULL;
        size_t len = piece ? 2 : 1;
        if (n + len >= NQ_JSON_PTR_MAX)
            break;
        if (piece)
            memcpy(out + n, piece, 2);
        else
            out[n] = *k;
        n += len;
    }
    n = utf8_cut(out, n);
    out[n] = '\0';
}

void nq_json_ptr_index(char out[NQ_JSON_PTR_MAX], const char *parent, size_t index)
{
    size_t n = ptr_start(out, parent);
    char tail[24];
    size_t at = sizeof tail;
    tail[--at] = '\0';
    do
        tail[--at] = (char)('0' + index % 10);
    while ((index /= 10) > 0);
    tail[--at] = '/';
    size_t len = sizeof tail - 1 - at;
    if (n + len < NQ_JSON_PTR_MAX)
        memcpy(out + n, tail + at, len + 1);
}

/* ---- type names -------------------------------------------------------- */

static const char *type_name(json_type t)
{
    switch (t) {
    case JSON_OBJECT: return "object";
    case JSON_ARRAY: return "array";
    case JSON_STRING: return "string";
    case JSON_INTEGER: /* JSON itself has one number type */
    case JSON_REAL: return "number";
    case JSON_TRUE:
    case JSON_FALSE: return "boolean";
    case JSON_NULL: return "null";
    }
    return "unknown";
}

const char *nq_json_type_name(const json_t *v) { return v ? type_name(json_typeof(v)) : "nothing"; }

/* A type with its article, for messages like "expected a number, got null". */
static const char *type_phrase(json_type t)
{
    switch (t) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER:
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    case JSON_NULL: return "null";
    }
    return "an unknown value";
}

static const char *got(const json_t *v) { return v ? type_phrase(json_typeof(v)) : "nothing"; }

/* ---- parsing ----------------------------------------------------------- */

/* The way down to the value being visited: one frame per level, on the
 * stack. The pointer text is built only for an error, so a document that
 * passes costs no string work. */
typedef struct depth_frame {
    const struct depth_frame *up; /* NULL at the root */
    const char *key;              /* the member name, or NULL for an array element */
    size_t index;
} depth_frame;

/* The pointer of frame f, written root first. */
static void frame_ptr(const depth_frame *f, char out[NQ_JSON_PTR_MAX])
{
    if (!f || !f->up) {
        out[0] = '\0';
        return;
    }
    frame_ptr(f->up, out);
    if (f->key)
        nq_json_ptr_key(out, out, f->key);
    else
        nq_json_ptr_index(out, out, f->index);
}

static int walk(const depth_frame *at, json_t *v, int depth, int max, nq_err *err);

/* Visit child if it is a container. */
static int walk_child(const depth_frame *up, json_t *child, const char *key, size_t index,
                      int depth, int max, nq_err *err)
{
    if (!json_is_object(child) && !json_is_array(child))
        return NQ_OK;
    depth_frame f = {up, key, index};
    return walk(&f, child, depth, max, err);
}

/* v is a container nested `depth` levels deep (the root container is 1).
 * Recursion stops at max + 1 levels, whatever the document holds. */
static int walk(const depth_frame *at, json_t *v, int depth, int max, nq_err *err)
{
    if (depth > max) {
        char path[NQ_JSON_PTR_MAX];
        frame_ptr(at, path);
        return nq_err_set(err, NQ_ELIMIT, path, "nesting is deeper than %d levels", max);
    }
    int rc = NQ_OK;
    if (json_is_array(v)) {
        for (size_t i = 0; rc == NQ_OK && i < json_array_size(v); i++)
            rc = walk_child(at, json_array_get(v, i), NULL, i, depth + 1, max, err);
        return rc;
    }
    const char *key;
    json_t *child;
    json_object_foreach(v, key, child) {
        rc = walk_child(at, child, key, 0, depth + 1, max, err);
        if (rc)
            return rc;
    }
    return NQ_OK;
}

static int parse_error(const json_error_t *je, const char *source, nq_err *err)
{
    if (json_error_code(je) == json_error_out_of_memory)
        return nq_err_set(err, NQ_ENOMEM, source, "out of memory while parsing");
    char where[NQ_ERR_WHERE_MAX];
    int n = snprintf(where, sizeof where, "%s:%d:%d", source, je->line, je->column);
    if (n < 0)
        where[0] = '\0';
    return nq_err_set(err, NQ_EPARSE, where, "%s", je->text);
}

int nq_json_parse(const char *data, size_t len, const char *source,
                  const nq_json_limits *lim, json_t **out, nq_err *err)
{
    nq_json_limits def;
    if (!lim) {
        nq_json_limits_default(&def);
        lim = &def;
    }
    if (!source)
        source = "input";
    if (!out || (!data && len))
        return nq_err_set(err, NQ_EINVAL, source, "no document given");
    *out = NULL;
    /* Checked before parsing: the limit exists to bound the parser's work. */
    if (len > lim->max_bytes)
        return nq_err_set(err, NQ_ELIMIT, source, "document is %zu bytes, more than the limit of %zu",
                          len, lim->max_bytes);
    /* The quick parser holds to max_depth itself, so its tree needs no
     * walk; it gives up on anything it is not sure of, and on everything
     * jansson refuses, so every error still comes from jansson below. */
    json_t *root = nq__json_fast_parse(data, len, lim->max_depth);
    if (root) {
        *out = root;
        return NQ_OK;
    }
    json_error_t je;
    root = json_loadb(data ? data : "", len, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return parse_error(&je, source, err);
    depth_frame top = {NULL, NULL, 0};
    int rc = walk(&top, root, 1, lim->max_depth, err);
    if (rc) {
        json_decref(root);
        return rc;
    }
    *out = root;
    return NQ_OK;
}

/* ---- member readers ---------------------------------------------------- */

/* Find obj[key]. Returns an error, or NQ_OK with *v NULL when the member is
 * absent and optional. The readers below check a value first and build
 * its pointer (where) only to report an error: documents are read far
 * more often than they are wrong. */
static int member(const json_t *obj, const char *ptr, const char *key, int required,
                  json_t **v, nq_err *err)
{
    *v = NULL;
    if (!json_is_object(obj))
        return nq_err_set(err, NQ_EINVAL, ptr, "expected an object, got %s", got(obj));
    *v = json_object_get(obj, key);
    if (!*v && required) {
        char where[NQ_JSON_PTR_MAX];
        nq_json_ptr_key(where, ptr, key);
        return nq_err_set(err, NQ_EINVAL, where, "required member is missing");
    }
    return NQ_OK;
}

int nq_json_as_number(const json_t *v, const char *ptr, double *out, nq_err *err)
{
    if (!json_is_number(v))
        return nq_err_set(err, NQ_EINVAL, ptr, "expected a number, got %s", got(v));
    double d = json_number_value(v);
    /* jansson refuses NaN and infinity today; solvers downstream would
     * misbehave on them, so this does not rely on that staying true. */
    if (!isfinite(d))
        return nq_err_set(err, NQ_EINVAL, ptr, "expected a finite number");
    *out = d;
    return NQ_OK;
}

int nq_json_get_number(const json_t *obj, const char *ptr, const char *key, int required,
                       double *out, nq_err *err)
{
    char where[NQ_JSON_PTR_MAX];
    json_t *v;
    int rc = member(obj, ptr, key, required, &v, err);
    if (rc || !v)
        return rc;
    if (json_is_number(v) && isfinite(json_number_value(v))) {
        *out = json_number_value(v);
        return NQ_OK;
    }
    nq_json_ptr_key(where, ptr, key);
    return nq_json_as_number(v, where, out, err);
}

static int range_error(const char *where, int64_t lo, int64_t hi, const char *got_text,
                       nq_err *err)
{
    return nq_err_set(err, NQ_ERANGE, where, "must be between %" PRId64 " and %" PRId64 ", got %s",
                      lo, hi, got_text);
}

/* An integral real (3.0, 1e3) counts as an integer: JSON does not tell the
 * two apart and some writers always emit a fraction. */
static int int_value(const json_t *v, const char *where, int64_t lo, int64_t hi, int64_t *out,
                     nq_err *err)
{
    char text[64];
    int64_t x;
    if (json_is_integer(v)) {
        x = (int64_t)json_integer_value(v);
    } else if (json_is_real(v)) {
        double d = json_real_value(v);
        snprintf(text, sizeof text, "%.17g", d);
        if (!isfinite(d) || d != floor(d))
            return nq_err_set(err, NQ_EINVAL, where, "expected an integer, got %s", text);
        /* 2^63 is exact in a double; anything at or past it would overflow. */
        if (d < -9223372036854775808.0 || d >= 9223372036854775808.0)
            return range_error(where, lo, hi, text, err);
        x = (int64_t)d;
    } else {
        return nq_err_set(err, NQ_EINVAL, where, "expected an integer, got %s", got(v));
    }
    if (x < lo || x > hi) {
        snprintf(text, sizeof text, "%" PRId64, x);
        return range_error(where, lo, hi, text, err);
    }
    *out = x;
    return NQ_OK;
}

int nq_json_get_int(const json_t *obj, const char *ptr, const char *key, int required,
                    int64_t lo, int64_t hi, int64_t *out, nq_err *err)
{
    char where[NQ_JSON_PTR_MAX];
    json_t *v;
    int rc = member(obj, ptr, key, required, &v, err);
    if (rc || !v)
        return rc;
    if (json_is_integer(v) && json_integer_value(v) >= lo && json_integer_value(v) <= hi) {
        *out = (int64_t)json_integer_value(v);
        return NQ_OK;
    }
    nq_json_ptr_key(where, ptr, key);
    return int_value(v, where, lo, hi, out, err);
}

int nq_json_get_bool(const json_t *obj, const char *ptr, const char *key, int required,
                     int *out, nq_err *err)
{
    char where[NQ_JSON_PTR_MAX];
    json_t *v;
    int rc = member(obj, ptr, key, required, &v, err);
    if (rc || !v)
        return rc;
    if (!json_is_boolean(v)) {
        nq_json_ptr_key(where, ptr, key);
        return nq_err_set(err, NQ_EINVAL, where, "expected a boolean, got %s", got(v));
    }
    *out = json_is_true(v);
    return NQ_OK;
}

int nq_json_get_string(const json_t *obj, const char *ptr, const char *key, int required,
                       size_t max_len, const char **out, nq_err *err)
{
    json_t *v;
    int rc = member(obj, ptr, key, required, &v, err);
    if (rc || !v)
        return rc;
    return nq_json_member_string(v, ptr, key, max_len, out, err);
}

int nq_json_member_string(const json_t *v, const char *ptr, const char *key, size_t max_len,
                          const char **out, nq_err *err)
{
    char where[NQ_JSON_PTR_MAX];
    if (json_is_string(v) && json_string_length(v) <= max_len &&
        strlen(json_string_value(v)) == json_string_length(v)) {
        *out = json_string_value(v);
        return NQ_OK;
    }
    nq_json_ptr_key(where, ptr, key);
    if (!json_is_string(v))
        return nq_err_set(err, NQ_EINVAL, where, "expected a string, got %s", got(v));
    size_t len = json_string_length(v);
    if (len > max_len)
        return nq_err_set(err, NQ_ELIMIT, where, "string is %zu bytes, more than the limit of %zu",
                          len, max_len);
    /* Callers get a C string; an embedded NUL would silently shorten it. */
    if (strlen(json_string_value(v)) != len)
        return nq_err_set(err, NQ_EINVAL, where, "string contains a NUL character");
    *out = json_string_value(v);
    return NQ_OK;
}

int nq_json_get_typed(const json_t *obj, const char *ptr, const char *key, int required,
                      json_type type, json_t **out, nq_err *err)
{
    char where[NQ_JSON_PTR_MAX];
    json_t *v;
    int rc = member(obj, ptr, key, required, &v, err);
    if (rc || !v)
        return rc;
    if (json_typeof(v) != type) {
        nq_json_ptr_key(where, ptr, key);
        return nq_err_set(err, NQ_EINVAL, where, "expected %s, got %s", type_phrase(type), got(v));
    }
    *out = v;
    return NQ_OK;
}

static int key_allowed(const char *key, const char *const *allowed)
{
    for (; allowed && *allowed; allowed++)
        if (strcmp(key, *allowed) == 0)
            return 1;
    return 0;
}

int nq_json_check_keys(const json_t *obj, const char *ptr, const char *const *allowed,
                       nq_err *err)
{
    if (!json_is_object(obj))
        return nq_err_set(err, NQ_EINVAL, ptr, "expected an object, got %s", got(obj));
    const char *key;
    json_t *v;
    /* jansson keeps insertion order, so the first unknown key reported is
     * the first one in the document. */
    json_object_foreach((json_t *)obj, key, v) {
        if (!key_allowed(key, allowed)) {
            char where[NQ_JSON_PTR_MAX];
            nq_json_ptr_key(where, ptr, key);
            return nq_err_set(err, NQ_EINVAL, where, "unknown member");
        }
    }
    return NQ_OK;
}

void nq_json_say(json_t *list, const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    json_array_append_new(list, json_string(line));
}
