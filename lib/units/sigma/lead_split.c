/* lead_split.c - train/test splits of a lead data set: none, given test
 * indices, the deterministic "mod5" rule, and a seeded stratified random
 * hold-out; and the reader of test-index files. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lead_internal.h"
#include "nqba/rng.h"

void nq_leads_split_free(nq_leads_split *s)
{
    if (!s)
        return;
    free(s->is_test);
    free(s->train);
    free(s->test);
    memset(s, 0, sizeof *s);
}

/* From the is_test flags (already set), the index lists and counts. */
static int finish(const nq_leads_data *d, nq_leads_split *s, const char *method, nq_err *err)
{
    snprintf(s->method, sizeof s->method, "%s", method);
    for (int32_t r = 0; r < d->rows; r++)
        s->n_test += s->is_test[r];
    s->n_train = d->rows - s->n_test;
    s->train = malloc(((size_t)s->n_train + 1) * sizeof *s->train);
    s->test = malloc(((size_t)s->n_test + 1) * sizeof *s->test);
    if (!s->train || !s->test) {
        nq_leads_split_free(s);
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    }
    int32_t a = 0, b = 0;
    for (int32_t r = 0; r < d->rows; r++) {
        if (s->is_test[r]) {
            s->test[b++] = r;
            s->test_pos += d->y[r];
        } else {
            s->train[a++] = r;
            s->train_pos += d->y[r];
        }
    }
    return NQ_OK;
}

static int start(const nq_leads_data *d, nq_leads_split *out, nq_err *err)
{
    if (!out)
        return nq_err_set(err, NQ_EINVAL, NULL, "no output");
    memset(out, 0, sizeof *out);
    if (!d || d->rows <= 0 || !d->y)
        return nq_err_set(err, NQ_EINVAL, "/rows", "an empty data set");
    out->rows = d->rows;
    if (!(out->is_test = calloc((size_t)d->rows, 1)))
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    return NQ_OK;
}

int nq_leads_split_none(const nq_leads_data *d, nq_leads_split *out, nq_err *err)
{
    int rc = start(d, out, err);
    return rc ? rc : finish(d, out, "none", err);
}

int nq_leads_split_indices(const nq_leads_data *d, const int32_t *test, int32_t n,
                           nq_leads_split *out, nq_err *err)
{
    int rc = start(d, out, err);
    if (rc)
        return rc;
    if (n < 0 || (n > 0 && !test)) {
        nq_leads_split_free(out);
        return nq_err_set(err, NQ_EINVAL, "/test", "a list of test rows is needed");
    }
    for (int32_t k = 0; k < n; k++) {
        char where[32];
        snprintf(where, sizeof where, "/test/%d", (int)k);
        if (test[k] < 0 || test[k] >= d->rows) {
            nq_leads_split_free(out);
            return nq_err_set(err, NQ_EINVAL, where, "row %d is not in 0..%d", (int)test[k],
                              (int)d->rows - 1);
        }
        if (out->is_test[test[k]]) {
            nq_leads_split_free(out);
            return nq_err_set(err, NQ_EINVAL, where, "row %d is listed twice", (int)test[k]);
        }
        out->is_test[test[k]] = 1;
    }
    return finish(d, out, "indices", err);
}

int nq_leads_split_mod5(const nq_leads_data *d, nq_leads_split *out, nq_err *err)
{
    int rc = start(d, out, err);
    if (rc)
        return rc;
    int64_t rank[2] = {0, 0};
    for (int32_t r = 0; r < d->rows; r++)
        out->is_test[r] = rank[d->y[r] ? 1 : 0]++ % 5 == 4;
    return finish(d, out, "mod5", err);
}

int nq_leads_split_random(const nq_leads_data *d, double fraction, uint64_t seed,
                          nq_leads_split *out, nq_err *err)
{
    if (!(fraction > 0.0 && fraction < 1.0))
        return nq_err_set(err, NQ_EINVAL, "/test_fraction", "must lie strictly between 0 and 1");
    int rc = start(d, out, err);
    if (rc)
        return rc;
    int32_t *idx = malloc((size_t)d->rows * sizeof *idx);
    if (!idx) {
        nq_leads_split_free(out);
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    }
    nq_rng g;
    nq_rng_seed(&g, seed);
    for (int cls = 0; cls < 2; cls++) {
        nq_rng_jump(&g); /* one stream per class: a class's draw ignores the other's size */
        int32_t m = 0;
        for (int32_t r = 0; r < d->rows; r++)
            if (d->y[r] == cls)
                idx[m++] = r;
        for (int32_t i = m - 1; i > 0; i--) {
            int32_t j = (int32_t)nq_rng_below(&g, (uint64_t)i + 1);
            int32_t t = idx[i];
            idx[i] = idx[j];
            idx[j] = t;
        }
        int32_t k = (int32_t)floor(fraction * m + 0.5);
        if (k > m - 1)
            k = m - 1;
        for (int32_t i = 0; i < k; i++)
            out->is_test[idx[i]] = 1;
    }
    free(idx);
    return finish(d, out, "random", err);
}

int nq_leads_parse_indices(const char *text, size_t len, int32_t max_n, int32_t **out,
                           int32_t *n, nq_err *err)
{
    if (!out || !n)
        return nq_err_set(err, NQ_EINVAL, NULL, "no output");
    *out = NULL;
    *n = 0;
    int32_t cap = 0, line = 1;
    size_t i = 0;
    while (i < len) {
        unsigned char c = (unsigned char)text[i];
        if (c == '\n')
            line++;
        if (isspace(c)) {
            i++;
            continue;
        }
        if (!isdigit(c)) {
            free(*out);
            *out = NULL;
            *n = 0;
            return nq_err_set(err, NQ_EPARSE, NULL, "line %d: not a row index", (int)line);
        }
        int64_t v = 0;
        while (i < len && isdigit((unsigned char)text[i]) && v <= INT32_MAX)
            v = v * 10 + (text[i++] - '0');
        int bad = v > INT32_MAX || (i < len && !isspace((unsigned char)text[i]));
        int rc = bad ? nq_err_set(err, NQ_EPARSE, NULL, "line %d: not a row index", (int)line)
                 : *n >= max_n ? nq_err_set(err, NQ_ELIMIT, NULL, "more than %d indices", (int)max_n)
                               : NQ_OK;
        if (!rc && *n == cap) {
            cap = cap ? 2 * cap : 1024;
            int32_t *grown = realloc(*out, (size_t)cap * sizeof *grown);
            if (!grown)
                rc = nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
            else
                *out = grown;
        }
        if (rc) {
            free(*out);
            *out = NULL;
            *n = 0;
            return rc;
        }
        (*out)[(*n)++] = (int32_t)v;
    }
    return NQ_OK;
}
