/* fuzz_answers.h - what the unit fuzz targets check of every outcome: a
 * refusal is located (a message, and a JSON pointer or nothing for where),
 * an answer holds only finite numbers. Failing a check aborts, which is
 * how libFuzzer learns of it. */
#ifndef NQBA_FUZZ_ANSWERS_H
#define NQBA_FUZZ_ANSWERS_H

#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "nqba/err.h"
#include "nqba/json.h"

static inline void fuzz_die(const char *what, const nq_err *err)
{
    fprintf(stderr, "%s: %s: %s\n", what, err ? err->where : "", err ? err->msg : "");
    abort();
}

static inline void fuzz_check_err(const nq_err *err)
{
    if (!err->msg[0] || (err->where[0] && err->where[0] != '/'))
        fuzz_die("unlocated error", err);
}

/* The input as a JSON document under lim (NULL: the defaults), or NULL
 * when it is not one (the parser's refusal is all there is to check). */
static inline json_t *fuzz_json(const uint8_t *data, size_t size, const nq_json_limits *lim)
{
    nq_json_limits def;
    nq_json_limits_default(&def);
    json_t *doc = NULL;
    nq_err err;
    if (nq_json_parse((const char *)data, size, "input", lim ? lim : &def, &doc, &err))
        return NULL;
    return doc;
}

static inline void fuzz_check_finite(const json_t *v)
{
    size_t i;
    const char *k;
    json_t *x;
    if (json_is_real(v) && !isfinite(json_real_value(v)))
        fuzz_die("a non-finite number in an answer", NULL);
    if (json_is_array(v))
        json_array_foreach((json_t *)v, i, x) fuzz_check_finite(x);
    if (json_is_object(v))
        json_object_foreach((json_t *)v, k, x) fuzz_check_finite(x);
}

#endif
