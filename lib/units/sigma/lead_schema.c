/* lead_schema.c - the encoding a model carries: column kinds, train
 * levels, standardization, feature numbering and names; and the
 * "resolved" rows (lead_internal.h) built from data sets or from leads. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lead_internal.h"
#include "nqba/json.h"

void nq__lead_schema_free(nq_leads_schema *s)
{
    if (!s)
        return;
    for (int32_t c = 0; s->cols && c < s->n_cols; c++) {
        nq_leads_column *k = &s->cols[c];
        free(k->name);
        for (int32_t l = 0; k->levels && l < k->n_levels; l++)
            free(k->levels[l]);
        free(k->levels);
    }
    for (int32_t f = 0; s->features && f < s->n_features; f++)
        free(s->features[f]);
    free(s->features);
    free(s->cols);
    free(s->outcome);
    free(s->positive);
    memset(s, 0, sizeof *s);
}

int32_t nq__lead_level_find(const nq_leads_column *c, const char *s)
{
    int32_t lo = 0, hi = c->n_levels - 1;
    while (lo <= hi) {
        int32_t mid = lo + (hi - lo) / 2;
        int cmp = strcmp(c->levels[mid], s);
        if (!cmp)
            return mid;
        if (cmp < 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
}

int nq__lead_schema_features(nq_leads_schema *s, nq_err *err)
{
    int64_t nf = 0;
    for (int32_t c = 0; c < s->n_cols; c++) {
        s->cols[c].first = (int32_t)(nf < NQ_LEADS_MAX_FEATURES ? nf : 0);
        nf += s->cols[c].kind == NQ_LEADS_NUMERIC ? 1 : s->cols[c].n_levels;
    }
    if (nf > NQ_LEADS_MAX_FEATURES || nf <= 0)
        return nq_err_set(err, NQ_ELIMIT, "/columns", "%lld encoded features (allowed: 1 to %d)",
                          (long long)nf, NQ_LEADS_MAX_FEATURES);
    if (!(s->features = calloc((size_t)nf, sizeof *s->features)))
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    s->n_features = (int32_t)nf;
    for (int32_t c = 0; c < s->n_cols; c++) {
        const nq_leads_column *k = &s->cols[c];
        int32_t m = k->kind == NQ_LEADS_NUMERIC ? 1 : k->n_levels;
        for (int32_t l = 0; l < m; l++) {
            char *name = k->kind == NQ_LEADS_NUMERIC ? strdup(k->name) : NULL;
            if (k->kind == NQ_LEADS_CATEGORICAL && asprintf(&name, "%s=%s", k->name, k->levels[l]) < 0)
                name = NULL;
            if (!name)
                return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
            s->features[k->first + l] = name;
        }
    }
    return NQ_OK;
}

/* Mean and population std of the non-missing train values. */
static void fit_numeric(const nq_leads_dcol *d, const nq_leads_split *sp, nq_leads_column *k)
{
    double sum = 0.0, ss = 0.0;
    int32_t m = 0;
    for (int32_t i = 0; i < sp->n_train; i++) {
        double x = d->num[sp->train[i]];
        if (isnan(x))
            k->train_missing++;
        else {
            sum += x;
            m++;
        }
    }
    k->mean = m ? sum / m : 0.0;
    for (int32_t i = 0; i < sp->n_train; i++) {
        double x = d->num[sp->train[i]];
        if (!isnan(x))
            ss += (x - k->mean) * (x - k->mean);
    }
    double sd = m ? sqrt(ss / m) : 0.0;
    /* A (numerically) constant column would divide by ~0: scale 1 instead. */
    k->std = sd > 1e-12 * (1.0 + fabs(k->mean)) && isfinite(sd) ? sd : 1.0;
    k->impute = k->mean;
}

static int fit_levels(const nq_leads_dcol *d, const nq_leads_split *sp, nq_leads_column *k,
                      nq_err *err)
{
    uint8_t *seen = calloc((size_t)d->n_levels + 1, 1);
    if (!seen)
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    for (int32_t i = 0; i < sp->n_train; i++)
        seen[d->code[sp->train[i]]] = 1;
    for (int32_t l = 0; l < d->n_levels; l++)
        k->n_levels += seen[l];
    if (!(k->levels = calloc((size_t)k->n_levels + 1, sizeof *k->levels))) {
        free(seen);
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    }
    int32_t m = 0;
    for (int32_t l = 0; l < d->n_levels; l++)
        if (seen[l] && !(k->levels[m++] = strdup(d->levels[l]))) {
            free(seen);
            return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
        }
    free(seen);
    return NQ_OK;
}

int nq__lead_schema_fit(const nq_leads_data *d, const nq_leads_split *sp, nq_leads_schema *out,
                        nq_err *err)
{
    memset(out, 0, sizeof *out);
    if (!(out->cols = calloc((size_t)d->n_cols, sizeof *out->cols)) ||
        !(out->outcome = strdup(d->outcome)) || !(out->positive = strdup(d->positive))) {
        nq__lead_schema_free(out);
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    }
    out->n_cols = d->n_cols;
    int rc = NQ_OK;
    for (int32_t c = 0; c < d->n_cols && !rc; c++) {
        nq_leads_column *k = &out->cols[c];
        k->kind = d->cols[c].kind;
        if (!(k->name = strdup(d->cols[c].name)))
            rc = nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
        else if (k->kind == NQ_LEADS_NUMERIC)
            fit_numeric(&d->cols[c], sp, k);
        else
            rc = fit_levels(&d->cols[c], sp, k, err);
    }
    if (!rc)
        rc = nq__lead_schema_features(out, err);
    if (rc)
        nq__lead_schema_free(out);
    return rc;
}

/* ---- resolved rows --------------------------------------------------------- */

/* For data column dc, each data level's schema level (or -1). */
static int32_t *level_map(const nq_leads_column *k, const nq_leads_dcol *dc)
{
    int32_t *map = malloc(((size_t)dc->n_levels + 1) * sizeof *map);
    for (int32_t l = 0; map && l < dc->n_levels; l++)
        map[l] = nq__lead_level_find(k, dc->levels[l]);
    return map;
}

int nq__lead_resolve_data(const nq_leads_schema *s, const nq_leads_data *d, const int32_t *rows,
                          int32_t n, double **out, nq_err *err)
{
    *out = NULL;
    double *v = malloc(((size_t)n * (size_t)s->n_cols + 1) * sizeof *v);
    if (!v)
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    for (int32_t c = 0; c < s->n_cols; c++) {
        const nq_leads_column *k = &s->cols[c];
        int32_t dcn = nq_leads_data_col(d, k->name);
        if (dcn < 0 || d->cols[dcn].kind != k->kind) {
            free(v);
            return nq_err_set(err, NQ_EINVAL, "/columns", "column '%.64s' is %s in the model",
                              k->name, dcn < 0 ? "missing here but used" : "of another kind here than");
        }
        const nq_leads_dcol *dc = &d->cols[dcn];
        int32_t *map = k->kind == NQ_LEADS_CATEGORICAL ? level_map(k, dc) : NULL;
        if (k->kind == NQ_LEADS_CATEGORICAL && !map) {
            free(v);
            return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
        }
        for (int32_t i = 0; i < n; i++) {
            int32_t r = rows ? rows[i] : i;
            v[(size_t)i * s->n_cols + c] = map ? (double)map[dc->code[r]] : dc->num[r];
        }
        free(map);
    }
    *out = v;
    return NQ_OK;
}

static int batch_cols(const nq_leads_schema *s, const nq_leads_batch *b, int32_t *bc, nq_err *err)
{
    for (int32_t c = 0; c < s->n_cols; c++) {
        bc[c] = -1;
        for (int32_t j = 0; j < b->n_cols && bc[c] < 0; j++)
            if (b->header[j] && !strcmp(b->header[j], s->cols[c].name))
                bc[c] = j;
        if (bc[c] < 0)
            return nq_err_set(err, NQ_EINVAL, "/leads", "missing column '%.64s' (the model uses it)",
                              s->cols[c].name);
    }
    return NQ_OK;
}

int nq__lead_resolve_batch(const nq_leads_schema *s, const nq_leads_batch *b, double **out,
                           nq_err *err)
{
    *out = NULL;
    int32_t *bc = malloc(((size_t)s->n_cols + 1) * sizeof *bc);
    double *v = malloc(((size_t)b->rows * (size_t)s->n_cols + 1) * sizeof *v);
    int rc = !bc || !v ? nq_err_set(err, NQ_ENOMEM, NULL, "out of memory") : batch_cols(s, b, bc, err);
    for (int32_t r = 0; r < b->rows && !rc; r++)
        for (int32_t c = 0; c < s->n_cols && !rc; c++) {
            const nq_leads_column *k = &s->cols[c];
            const char *cell = b->cells[(size_t)r * b->n_cols + bc[c]];
            double *dst = &v[(size_t)r * s->n_cols + c];
            if (k->kind == NQ_LEADS_CATEGORICAL) {
                *dst = nq__lead_level_find(k, cell && cell[0] ? cell : NQ_LEADS_MISSING);
                continue;
            }
            int got = nq__lead_parse_num(cell, dst);
            if (got == 0)
                *dst = NAN;
            else if (got < 0) {
                char rp[NQ_JSON_PTR_MAX], where[NQ_JSON_PTR_MAX];
                nq_json_ptr_index(rp, "/leads", (size_t)r);
                nq_json_ptr_key(where, rp, k->name);
                rc = nq_err_set(err, NQ_EINVAL, where, "column '%.64s': not a number: '%.32s'",
                                k->name, cell);
            }
        }
    free(bc);
    if (rc)
        free(v);
    else
        *out = v;
    return rc;
}
