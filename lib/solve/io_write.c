/* io_write.c - writers for the Gset, text QUBO and JSON formats.
 *
 * Every writer prints numbers so that the matching reader gets the very
 * same doubles back (the shortest of %.15g..%.17g that round-trips), which
 * makes read(write(m)) reproduce m. Output goes to a bounded nq_buf; when
 * it fills up the writer stops with NQ_ELIMIT and the buffer holds a
 * partial document. */
#include "nqba/io.h"

#include "io_text.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NUM_MAX 32

/* Integral values below 2^53 print as integers; others as the shortest
 * decimal that strtod turns back into the same double. */
static const char *fmt_num(char out[NUM_MAX], double v)
{
    if (v == floor(v) && fabs(v) < 9007199254740992.0) {
        snprintf(out, NUM_MAX, "%lld", (long long)v);
        return out;
    }
    for (int prec = 15; prec < 17; prec++) {
        snprintf(out, NUM_MAX, "%.*g", prec, v);
        if (strtod(out, NULL) == v)
            return out;
    }
    snprintf(out, NUM_MAX, "%.17g", v);
    return out;
}

static int check_model(const nq_model *m, const nq_buf *out, nq_err *err)
{
    if (!m || !out)
        return nq_err_set(err, NQ_EINVAL, NULL, "no model or no output buffer");
    if (!nq__model_all_finite(m))
        return nq_err_set(err, NQ_EINVAL, NULL, "model has a coefficient that is not finite");
    return 0;
}

static int buf_fail(nq_err *err, int rc, const nq_buf *out)
{
    if (rc == NQ_ELIMIT)
        return nq_err_set(err, rc, NULL, "output larger than %zu bytes", out->max);
    return nq_err_set(err, rc, NULL, "out of memory while writing the model");
}

/* One "i j w" line per coupled pair i < j, indices shifted by base. */
static int put_pairs(const nq_model *m, nq_buf *out, int base)
{
    char num[NUM_MAX];
    for (int32_t i = 0; i < m->n; i++) {
        for (int64_t k = m->row[i]; k < m->row[i + 1]; k++) {
            if (m->col[k] <= i)
                continue;
            int rc =
                nq_buf_printf(out, "%d %d %s\n", i + base, m->col[k] + base, fmt_num(num, m->w[k]));
            if (rc)
                return rc;
        }
    }
    return 0;
}

int nq_write_gset(const nq_model *m, nq_buf *out, nq_err *err)
{
    int rc = check_model(m, out, err);
    if (rc)
        return rc;
    if (m->type != NQ_ISING)
        return nq_err_set(err, NQ_EINVAL, NULL, "gset needs an Ising model");
    int plain = m->offset == 0;
    for (int32_t i = 0; plain && i < m->n; i++)
        plain = m->linear[i] == 0;
    if (!plain)
        return nq_err_set(err, NQ_EINVAL, NULL, "gset cannot hold linear terms or an offset");
    rc = nq_buf_printf(out, "%d %lld\n", m->n, (long long)nq_model_pairs(m));
    if (!rc)
        rc = put_pairs(m, out, 1);
    return rc ? buf_fail(err, rc, out) : 0;
}

/* QUBO text of a model that already is a QUBO. */
static int put_qubo(const nq_model *m, nq_buf *out)
{
    char num[NUM_MAX];
    long long diag = 0;
    for (int32_t i = 0; i < m->n; i++)
        diag += m->linear[i] != 0;
    int rc = 0;
    /* qbsolv has no constant term; its reader skips "c" lines, ours does not. */
    if (m->offset != 0)
        rc = nq_buf_printf(out, "c offset %s\n", fmt_num(num, m->offset));
    if (!rc)
        rc =
            nq_buf_printf(out, "p qubo 0 %d %lld %lld\n", m->n, diag, (long long)nq_model_pairs(m));
    for (int32_t i = 0; !rc && i < m->n; i++)
        if (m->linear[i] != 0)
            rc = nq_buf_printf(out, "%d %d %s\n", i, i, fmt_num(num, m->linear[i]));
    return rc ? rc : put_pairs(m, out, 0);
}

int nq_write_qubo(const nq_model *m, nq_buf *out, nq_err *err)
{
    int rc = check_model(m, out, err);
    if (rc)
        return rc;
    if (m->type == NQ_QUBO) {
        rc = put_qubo(m, out);
        return rc ? buf_fail(err, rc, out) : 0;
    }
    nq_model q;
    rc = nq_model_to_qubo(m, &q, err);
    if (rc)
        return rc;
    rc = put_qubo(&q, out);
    nq_model_free(&q);
    return rc ? buf_fail(err, rc, out) : 0;
}

/* Integral values stay JSON integers so integer models print as such. */
static json_t *json_num(double v)
{
    if (v == floor(v) && fabs(v) < 9007199254740992.0)
        return json_integer((json_int_t)v);
    return json_real(v);
}

/* Names, or x0, x1, ... when the model has none; all distinct. */
static int json_names(const nq_model *m, json_t **out, nq_err *err)
{
    json_t *arr = json_array(), *seen = json_object();
    int rc = arr && seen ? 0 : nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    char gen[24];
    for (int32_t i = 0; !rc && i < m->n; i++) {
        const char *name = m->names ? m->names[i] : gen;
        if (!m->names)
            snprintf(gen, sizeof gen, "x%d", i);
        if (!name || !name[0] || json_object_get(seen, name))
            rc = nq_err_set(err, NQ_EINVAL, NULL, "variable %d has an empty or repeated name", i);
        else if (json_array_append_new(arr, json_string(name)) ||
                 json_object_set_new(seen, name, json_true()))
            rc = nq_err_set(err, NQ_EINVAL, NULL, "variable %d: name is not valid UTF-8", i);
    }
    json_decref(seen);
    if (rc)
        json_decref(arr);
    else
        *out = arr;
    return rc;
}

static int json_terms(const nq_model *m, const json_t *vars, json_t *lin, json_t *quad)
{
    for (int32_t i = 0; i < m->n; i++) {
        const char *a = json_string_value(json_array_get(vars, (size_t)i));
        if (m->linear[i] != 0 && json_object_set_new(lin, a, json_num(m->linear[i])))
            return NQ_ENOMEM;
        for (int64_t k = m->row[i]; k < m->row[i + 1]; k++) {
            if (m->col[k] <= i)
                continue;
            json_t *t =
                json_pack("[sso]", a, json_string_value(json_array_get(vars, (size_t)m->col[k])),
                          json_num(m->w[k]));
            if (json_array_append_new(quad, t))
                return NQ_ENOMEM;
        }
    }
    return 0;
}

static int json_doc(const nq_model *m, json_t **out, nq_err *err)
{
    json_t *vars = NULL;
    int rc = json_names(m, &vars, err);
    if (rc)
        return rc;
    json_t *lin = json_object(), *quad = json_array();
    json_t *doc = json_pack("{s:s, s:o, s:O, s:O, s:o}", "type",
                            m->type == NQ_ISING ? "ising" : "qubo", "variables", vars, "linear",
                            lin, "quadratic", quad, "offset", json_num(m->offset));
    rc = doc && lin && quad ? json_terms(m, vars, lin, quad) : NQ_ENOMEM;
    json_decref(lin);
    json_decref(quad);
    if (rc) {
        json_decref(doc);
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    }
    *out = doc;
    return 0;
}

typedef struct dump_sink {
    nq_buf *out;
    int rc;
} dump_sink;

static int dump_cb(const char *s, size_t n, void *data)
{
    dump_sink *d = data;
    d->rc = nq_buf_append(d->out, s, n);
    return d->rc ? -1 : 0;
}

int nq_write_json(const nq_model *m, nq_buf *out, nq_err *err)
{
    int rc = check_model(m, out, err);
    json_t *doc = NULL;
    if (!rc)
        rc = json_doc(m, &doc, err);
    if (rc)
        return rc;
    dump_sink d = {out, 0};
    int r = json_dump_callback(doc, dump_cb, &d, JSON_COMPACT | JSON_REAL_PRECISION(17));
    json_decref(doc);
    if (r)
        return buf_fail(err, d.rc ? d.rc : NQ_ENOMEM, out);
    return 0;
}
