/* lead_gbt.c - gradient-boosted trees through XGBoost's C API.
 *
 * Features: numeric columns raw (a missing cell is NaN, which XGBoost
 * routes by each split's learned default direction; no imputation) and
 * categoricals one-hot over the train levels, the same features the
 * logistic model sees, so SHAP values sum back per column the same way.
 * Training is binary:logistic with hist trees, a fixed thread count and
 * seed: XGBoost's hist builder sums gradients in a fixed order per
 * thread count, so a given (data, options) pair always gives the same
 * trees. Only booster-level parameters are set; XGBoost's process-wide
 * configuration (XGBSetGlobalConfig) is never touched. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xgboost/c_api.h>

#include "lead_internal.h"

static int xgb_fail(nq_err *err, const char *what)
{
    return nq_err_set(err, NQ_EINTERNAL, NULL, "XGBoost %s: %.180s", what, XGBGetLastError());
}

/* Dense float features of n resolved rows (NaN = missing). */
static float *dense(const nq_leads_schema *s, const double *v, int32_t n)
{
    size_t nf = (size_t)s->n_features;
    float *x = calloc((size_t)n * nf + 1, sizeof *x);
    for (int32_t i = 0; x && i < n; i++) {
        const double *row = v + (size_t)i * s->n_cols;
        float *dst = x + (size_t)i * nf;
        for (int32_t c = 0; c < s->n_cols; c++) {
            const nq_leads_column *k = &s->cols[c];
            if (k->kind == NQ_LEADS_NUMERIC)
                dst[k->first] = isnan(row[c]) ? NAN : (float)row[c];
            else if (row[c] >= 0)
                dst[k->first + (int32_t)row[c]] = 1.0f;
        }
    }
    return x;
}

static int matrix(const nq_leads_schema *s, const double *v, int32_t n, int nthread,
                  DMatrixHandle *dm, nq_err *err)
{
    float *x = dense(s, v, n);
    if (!x)
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    int bad = XGDMatrixCreateFromMat_omp(x, (bst_ulong)n, (bst_ulong)s->n_features, NAN, dm, nthread);
    free(x);
    return bad ? xgb_fail(err, "matrix") : NQ_OK;
}

static int set_params(BoosterHandle h, const nq_leads_train_opts *o, nq_err *err)
{
    char depth[16], leaves[16], eta[32], mcw[32], lambda[32], threads[16], seed[32];
    snprintf(depth, sizeof depth, "%d", (int)o->max_depth);
    snprintf(leaves, sizeof leaves, "%d", (int)o->max_leaves);
    snprintf(eta, sizeof eta, "%.17g", o->eta);
    snprintf(mcw, sizeof mcw, "%.17g", o->min_child_weight);
    snprintf(lambda, sizeof lambda, "%.17g", o->lambda);
    snprintf(threads, sizeof threads, "%d", (int)o->nthread);
    /* XGBoost's seed is an int32. */
    snprintf(seed, sizeof seed, "%d", (int)(o->seed & 0x7fffffff));
    const char *kv[][2] = {
        {"objective", "binary:logistic"}, {"tree_method", "hist"},
        {"grow_policy", o->max_leaves > 0 ? "lossguide" : "depthwise"},
        {"max_depth", depth}, {"max_leaves", leaves}, {"eta", eta}, {"min_child_weight", mcw},
        {"lambda", lambda}, {"nthread", threads}, {"seed", seed}, {"base_score", "0.5"},
    };
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++)
        if (XGBoosterSetParam(h, kv[i][0], kv[i][1]))
            return xgb_fail(err, "parameters");
    return NQ_OK;
}

static int save(BoosterHandle h, nq_leads_model *m, nq_err *err)
{
    bst_ulong len = 0;
    const char *buf = NULL;
    if (XGBoosterSaveModelToBuffer(h, "{\"format\": \"json\"}", &len, &buf) || !buf)
        return xgb_fail(err, "save");
    if (!(m->booster = malloc((size_t)len + 1)))
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    memcpy(m->booster, buf, (size_t)len);
    m->booster[len] = 0;
    m->booster_len = (size_t)len;
    return NQ_OK;
}

int nq__lead_gbt_train(const nq_leads_schema *s, const double *v, const uint8_t *y, int32_t n,
                       const nq_leads_train_opts *o, nq_leads_model *m, nq_err *err)
{
    DMatrixHandle dm = NULL;
    BoosterHandle h = NULL;
    float *label = malloc(((size_t)n + 1) * sizeof *label);
    if (!label)
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    for (int32_t i = 0; i < n; i++)
        label[i] = y[i] ? 1.0f : 0.0f;
    int rc = matrix(s, v, n, (int)o->nthread, &dm, err);
    if (!rc && XGDMatrixSetFloatInfo(dm, "label", label, (bst_ulong)n))
        rc = xgb_fail(err, "labels");
    free(label);
    if (!rc && XGBoosterCreate(&dm, 1, &h))
        rc = xgb_fail(err, "create");
    if (!rc)
        rc = set_params(h, o, err);
    for (int32_t it = 0; !rc && it < o->rounds; it++) {
        if (nq__lead_should_stop(o, 90.0 * it / o->rounds))
            rc = nq_err_set(err, NQ_ECANCEL, NULL, "training cancelled");
        else if (XGBoosterUpdateOneIter(h, it, dm))
            rc = xgb_fail(err, "training");
    }
    if (!rc)
        rc = save(h, m, err);
    if (dm)
        XGDMatrixFree(dm);
    if (rc) {
        if (h)
            XGBoosterFree(h);
        return rc;
    }
    m->handle = h;
    return NQ_OK;
}

int nq__lead_gbt_load(nq_leads_model *m, nq_err *err)
{
    BoosterHandle h = NULL;
    char threads[16];
    snprintf(threads, sizeof threads, "%d", (int)m->opts.nthread);
    bst_ulong nf = 0;
    int rc = XGBoosterCreate(NULL, 0, &h) ? xgb_fail(err, "create") : NQ_OK;
    if (!rc && XGBoosterLoadModelFromBuffer(h, m->booster, (bst_ulong)m->booster_len))
        rc = nq_err_set(err, NQ_EINVAL, "/gbt/booster", "XGBoost refused the model: %.160s",
                        XGBGetLastError());
    if (!rc && XGBoosterSetParam(h, "nthread", threads))
        rc = xgb_fail(err, "parameters");
    if (!rc && (XGBoosterGetNumFeature(h, &nf) || nf != (bst_ulong)m->schema.n_features))
        rc = nq_err_set(err, NQ_EINVAL, "/gbt/booster", "the booster has %llu features, the schema %d",
                        (unsigned long long)nf, (int)m->schema.n_features);
    if (rc) {
        if (h)
            XGBoosterFree(h);
        return rc;
    }
    m->handle = h;
    return NQ_OK;
}

void nq__lead_gbt_free(nq_leads_model *m)
{
    if (m->handle)
        XGBoosterFree(m->handle);
    m->handle = NULL;
}

static int predict_type(BoosterHandle h, DMatrixHandle dm, int type, bst_ulong want,
                        const float **out, nq_err *err)
{
    char config[128];
    snprintf(config, sizeof config,
             "{\"type\": %d, \"training\": false, \"iteration_begin\": 0, \"iteration_end\": 0, "
             "\"strict_shape\": false}", type);
    const bst_ulong *shape = NULL;
    bst_ulong dim = 0, total = 1;
    if (XGBoosterPredictFromDMatrix(h, dm, config, &shape, &dim, out))
        return xgb_fail(err, "prediction");
    for (bst_ulong k = 0; k < dim; k++)
        total *= shape[k];
    if (total != want)
        return nq_err_set(err, NQ_EINTERNAL, NULL, "XGBoost returned %llu values, not %llu",
                          (unsigned long long)total, (unsigned long long)want);
    return NQ_OK;
}

/* Per-column SHAP sums of n rows from XGBoost's n x (features + 1) output. */
static int fold_contribs(const nq_leads_schema *s, const float *sh, int32_t n, double *contrib,
                         double *base, nq_err *err)
{
    size_t w = (size_t)s->n_features + 1;
    for (int32_t i = 0; i < n; i++) {
        const float *r = sh + (size_t)i * w;
        for (int32_t c = 0; c < s->n_cols; c++) {
            const nq_leads_column *k = &s->cols[c];
            int32_t m = k->kind == NQ_LEADS_NUMERIC ? 1 : k->n_levels;
            double t = 0.0;
            for (int32_t l = 0; l < m; l++)
                t += r[k->first + l];
            if (!isfinite(t))
                return nq_err_set(err, NQ_EINTERNAL, NULL, "XGBoost returned a non-finite contribution");
            contrib[(size_t)i * s->n_cols + c] = t;
        }
        if (!isfinite(r[w - 1]))
            return nq_err_set(err, NQ_EINTERNAL, NULL, "XGBoost returned a non-finite contribution");
        if (base && i == 0)
            *base = r[w - 1];
    }
    return NQ_OK;
}

int nq__lead_gbt_predict(const nq_leads_model *m, const double *v, int32_t n, double *p,
                         double *contrib, double *base, int approx, nq_err *err)
{
    if (!m->handle)
        return nq_err_set(err, NQ_EINTERNAL, NULL, "the tree model is not loaded");
    DMatrixHandle dm = NULL;
    const float *out = NULL;
    int rc = matrix(&m->schema, v, n, (int)m->opts.nthread, &dm, err);
    if (!rc)
        rc = predict_type(m->handle, dm, 0, (bst_ulong)n, &out, err);
    for (int32_t i = 0; !rc && i < n; i++) {
        p[i] = out[i];
        if (!(p[i] >= 0.0 && p[i] <= 1.0))
            rc = nq_err_set(err, NQ_EINTERNAL, NULL, "XGBoost returned a probability outside [0, 1]");
    }
    if (!rc && contrib) {
        bst_ulong want = (bst_ulong)n * ((bst_ulong)m->schema.n_features + 1);
        rc = predict_type(m->handle, dm, approx ? 3 : 2, want, &out, err);
        if (!rc)
            rc = fold_contribs(&m->schema, out, n, contrib, base, err);
    }
    if (dm)
        XGDMatrixFree(dm);
    return rc;
}
