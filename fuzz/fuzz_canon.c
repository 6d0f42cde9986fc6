/* fuzz_canon.c - libFuzzer target for the canonical request text
 * (lib/service/canon.c) and nq_request_hash.
 *
 * The input is any JSON value (json_loadb, NUL allowed in strings). To
 * reach what the parser never makes, '`' and two hex digits in a key or a
 * string stand for that byte (UTF-8 or not: the value is set without
 * jansson's checks), and '~' in a key for NUL. The writer must give the
 * text jansson's dumper gives with the hash's flags, or fail where the
 * dumper fails; nq_request_hash must then be SHA-256 of the kind, "\n" and
 * that text, or match nothing (two calls disagree). */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/service/canon.h"
#include "nqba/buf.h"
#include "nqba/service.h"
#include "nqba/sha256.h"
#include "nqba/hex.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FLAGS (JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(17) | JSON_ENCODE_ANY)

/* s with the '`'XX and (in keys) '~' spellings undone, into out (len
 * bytes at most); returns the new length. */
static size_t unspell(const char *s, size_t len, int key, char *out)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        int hi = i + 2 < len ? nq_hex_value(s[i + 1]) : -1;
        int lo = hi >= 0 ? nq_hex_value(s[i + 2]) : -1;
        if (s[i] == '`' && lo >= 0) {
            out[n++] = (char)(hi << 4 | lo);
            i += 2;
        } else {
            out[n++] = key && s[i] == '~' ? '\0' : s[i];
        }
    }
    return n;
}

static json_t *respell(const json_t *v);

static json_t *respell_object(const json_t *o)
{
    json_t *copy = json_object();
    if (!copy)
        abort();
    for (void *it = json_object_iter((json_t *)o); it;
         it = json_object_iter_next((json_t *)o, it)) {
        size_t len = json_object_iter_key_len(it);
        char *key = malloc(len + 1);
        if (!key)
            abort();
        len = unspell(json_object_iter_key(it), len, 1, key);
        json_object_setn_new_nocheck(copy, key, len, respell(json_object_iter_value(it)));
        free(key);
    }
    return copy;
}

static json_t *respell(const json_t *v)
{
    if (json_is_object(v))
        return respell_object(v);
    if (json_is_array(v)) {
        json_t *copy = json_array();
        for (size_t i = 0; copy && i < json_array_size(v); i++)
            json_array_append_new(copy, respell(json_array_get(v, i)));
        return copy;
    }
    if (!json_is_string(v))
        return json_copy((json_t *)v);
    size_t len = json_string_length(v);
    char *s = malloc(len + 1);
    if (!s)
        abort();
    len = unspell(json_string_value(v), len, 0, s);
    json_t *copy = json_stringn_nocheck(s, len);
    free(s);
    return copy;
}

static void text_sink(void *arg, const char *text, size_t len)
{
    if (nq_buf_append(arg, text, len))
        abort();
}

static void check_hash(const json_t *doc, const char *want)
{
    char got[65], again[65];
    nq_request_hash("fuzz", doc, got);
    if (!want) {
        nq_request_hash("fuzz", doc, again);
        if (!strcmp(got, again))
            abort();
        return;
    }
    nq_sha256_ctx c;
    uint8_t d[NQ_SHA256_LEN];
    char hex[NQ_SHA256_HEX_LEN];
    nq_sha256_init(&c);
    nq_sha256_update(&c, "fuzz\n", 5);
    nq_sha256_update(&c, want, strlen(want));
    nq_sha256_final(&c, d);
    nq_sha256_hex(d, hex);
    if (strcmp(got, hex))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *parsed = json_loadb((const char *)data, size, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
    if (!parsed)
        return 0;
    json_t *doc = respell(parsed);
    json_decref(parsed);
    if (!doc)
        abort();
    char *want = json_dumps(doc, FLAGS); /* NULL where jansson cannot dump */
    nq_buf got;
    nq_buf_init(&got, (size_t)1 << 28);
    int rc = nq__canon_write(doc, text_sink, &got);
    if (want ? rc || got.len != strlen(want) || memcmp(got.data ? got.data : "", want, got.len)
             : rc != -1)
        abort();
    check_hash(doc, want);
    nq_buf_free(&got);
    free(want);
    /* Members in their own order: json_dumps's compact text, or NULL
     * exactly where it gives NULL. */
    want = json_dumps(doc, JSON_COMPACT | JSON_REAL_PRECISION(17));
    char *compact = nq__compact_text(doc);
    if (want ? !compact || strcmp(compact, want) : compact != NULL)
        abort();
    free(compact);
    free(want);
    json_decref(doc);
    return 0;
}
