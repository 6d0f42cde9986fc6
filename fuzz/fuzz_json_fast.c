/* fuzz_json_fast.c - differential libFuzzer target for the quick JSON
 * parser behind nq_json_parse (lib/base/json_fast.c).
 *
 * jansson is the reference: whatever json_loadb refuses, the quick parser
 * must give up on, and whatever the quick parser builds must be the tree
 * json_loadb builds (nq__json_same: types, real bits, member order). It may
 * give up on what jansson takes, but not on an ordinary document: the
 * tree printed back by jansson, compactly and then indented and in ASCII,
 * must go the quick way and come back the same. nq_json_parse must answer
 * as jansson does. The input is tried under the default depth and under
 * one past the quick parser's cap. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/base/json_fast.h"
#include "fuzz_answers.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_fast(const char *text, size_t len, const json_t *ref, int max_depth)
{
    json_t *fast = nq__json_fast_parse(text, len, max_depth);
    if (fast && !ref)
        fuzz_die("the quick parser took what jansson refuses", NULL);
    if (fast && !nq__json_same(fast, ref))
        fuzz_die("the quick parser's tree differs from jansson's", NULL);
    json_decref(fast);
}

/* Levels of arrays and objects in v (0 for a scalar). */
static int depth_of(const json_t *v)
{
    int most = 0;
    if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v); i++) {
            int d = depth_of(json_array_get(v, i));
            most = d > most ? d : most;
        }
    } else if (json_is_object(v)) {
        for (void *it = json_object_iter((json_t *)v); it;
             it = json_object_iter_next((json_t *)v, it)) {
            int d = depth_of(json_object_iter_value(it));
            most = d > most ? d : most;
        }
    } else {
        return 0;
    }
    return most + 1;
}

/* nq_json_parse takes what jansson takes within the default depth limit,
 * with jansson's tree; past the limit it says so, and it fails on the rest.
 * depth is that of jansson's tree. */
static void check_parse(const char *text, size_t len, const json_t *ref, int depth)
{
    nq_json_limits lim;
    nq_json_limits_default(&lim);
    json_t *root = NULL;
    nq_err err;
    nq_err_clear(&err);
    int rc = nq_json_parse(text, len, "input", &lim, &root, &err);
    if (!ref && rc != NQ_EPARSE)
        fuzz_die("nq_json_parse did not pass on jansson's refusal", &err);
    if (ref && rc != (depth > lim.max_depth ? NQ_ELIMIT : NQ_OK))
        fuzz_die("nq_json_parse did not take what jansson takes", &err);
    if (ref && rc == NQ_OK && !nq__json_same(root, ref))
        fuzz_die("nq_json_parse's tree differs from jansson's", NULL);
    json_decref(root);
}

/* What jansson writes (strict UTF-8, escapes for control characters, or
 * for everything past ASCII with JSON_ENSURE_ASCII; reals with a point or
 * an exponent) is an ordinary document: the quick parser must take it,
 * unless it is nested past the quick parser's cap. */
static void check_rewritten(const json_t *ref, int deep, size_t flags)
{
    char *text = json_dumps(ref, flags);
    if (!text)
        return; /* out of memory */
    size_t len = strlen(text);
    json_t *fast = nq__json_fast_parse(text, len, NQ__JSON_FAST_MAX_DEPTH);
    if (!fast && !deep)
        fuzz_die("the quick parser gave up on a document jansson wrote", NULL);
    if (fast && !nq__json_same(fast, ref))
        fuzz_die("the quick parser's tree differs on a document jansson wrote", NULL);
    json_decref(fast);
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    json_t *ref = json_loadb(text, size, JSON_REJECT_DUPLICATES, NULL);
    int depth = ref ? depth_of(ref) : 0;
    check_fast(text, size, ref, 64);
    check_fast(text, size, ref, NQ__JSON_FAST_MAX_DEPTH + 1);
    check_parse(text, size, ref, depth);
    if (ref) {
        int deep = depth > NQ__JSON_FAST_MAX_DEPTH;
        check_rewritten(ref, deep, JSON_COMPACT);
        check_rewritten(ref, deep, JSON_INDENT(2) | JSON_ENSURE_ASCII);
    }
    json_decref(ref);
    return 0;
}
