/* json_fast.h - the quick parser behind nq_json_parse (json_fast.c), and
 * the sense in which its trees equal jansson's. Not installed.
 *
 * jansson's lexer reads a byte at a time through a callback and copies
 * every token; for the ordinary documents we receive, most of the time of
 * a parse went there. The quick parser builds the same json_t tree straight
 * from the buffer, and for anything out of the ordinary it gives up, so
 * that jansson parses the document and reports the error as before. */
#ifndef NQBA_JSON_FAST_H
#define NQBA_JSON_FAST_H

#include <jansson.h>
#include <stddef.h>
#include <string.h>

/* Deepest nesting the quick parser follows, whatever the caller's limit:
 * it recurses once per level, and jansson itself stops at 2048. */
#define NQ__JSON_FAST_MAX_DEPTH 256

/* Parse data[0..len) as json_loadb(data, len, JSON_REJECT_DUPLICATES)
 * would, with arrays and objects nested at most max_depth levels (the
 * root container is level 1). Returns the new tree, or NULL when the
 * quick parser does not handle the input: on every input jansson rejects,
 * on nesting past max_depth or NQ__JSON_FAST_MAX_DEPTH, on out of memory,
 * and on some rare input jansson takes (a NUL byte right after a number
 * or a word, which jansson skips; a number token of 128 bytes or more; a
 * real under a locale whose decimal point is not '.'). A tree it returns
 * is nq__json_same as jansson's. */
json_t *nq__json_fast_parse(const char *data, size_t len, int max_depth);

/* Whether a and b hold the same document in every way a reader can see:
 * json_equal, and also integers and reals are not mixed up, reals are the
 * same bits, and object members come in the same order. The quick
 * parser's contract; checked by the tests and by fuzz_json_fast. */
static inline int nq__json_same(const json_t *a, const json_t *b)
{
    if (!a || !b || json_typeof(a) != json_typeof(b))
        return a == b;
    switch (json_typeof(a)) {
    case JSON_INTEGER: return json_integer_value(a) == json_integer_value(b);
    case JSON_REAL: {
        double x = json_real_value(a), y = json_real_value(b);
        return memcmp(&x, &y, sizeof x) == 0;
    }
    case JSON_STRING:
        return json_string_length(a) == json_string_length(b) &&
               memcmp(json_string_value(a), json_string_value(b), json_string_length(a)) == 0;
    case JSON_ARRAY:
        if (json_array_size(a) != json_array_size(b))
            return 0;
        for (size_t i = 0; i < json_array_size(a); i++)
            if (!nq__json_same(json_array_get(a, i), json_array_get(b, i)))
                return 0;
        return 1;
    case JSON_OBJECT: {
        if (json_object_size(a) != json_object_size(b))
            return 0;
        void *i = json_object_iter((json_t *)a), *j = json_object_iter((json_t *)b);
        for (; i && j; i = json_object_iter_next((json_t *)a, i),
                       j = json_object_iter_next((json_t *)b, j)) {
            size_t n = json_object_iter_key_len(i);
            if (n != json_object_iter_key_len(j) ||
                memcmp(json_object_iter_key(i), json_object_iter_key(j), n) != 0 ||
                !nq__json_same(json_object_iter_value(i), json_object_iter_value(j)))
                return 0;
        }
        return !i && !j;
    }
    default: return 1; /* true, false and null carry nothing but their type */
    }
}

#endif
