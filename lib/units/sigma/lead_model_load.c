/* lead_model_load.c - a lead-scoring model from its JSON document
 * (lead_model_json.c writes it). A document may come from anywhere, so
 * every member is checked for type, range, size and finiteness, levels
 * must be strictly sorted (scoring looks them up by bisection), feature
 * names must be the ones the columns imply, and XGBoost's model must pass
 * a structural check (lead_gbt_check.c) before XGBoost itself reads it. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lead_internal.h"
#include "nqba/json.h"

#define MAX_COLS NQ_LEADS_MAX_FEATURES

static int nomem(nq_err *err) { return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory"); }

/* A required string member of 1..NQ_LEADS_NAME_MAX bytes, copied. */
static int get_name(const json_t *obj, const char *ptr, const char *key, char **out, nq_err *err)
{
    const char *s = NULL;
    int rc = nq_json_get_string(obj, ptr, key, 1, NQ_LEADS_NAME_MAX, &s, err);
    if (!rc && !s[0]) {
        char where[NQ_JSON_PTR_MAX];
        nq_json_ptr_key(where, ptr, key);
        return nq_err_set(err, NQ_EINVAL, where, "must not be empty");
    }
    if (!rc && !(*out = strdup(s)))
        return nomem(err);
    return rc;
}

static int get_finite(const json_t *obj, const char *ptr, const char *key, double lo, double hi,
                      double *out, nq_err *err)
{
    int rc = nq_json_get_number(obj, ptr, key, 1, out, err);
    if (!rc && !(*out >= lo && *out <= hi)) {
        char where[NQ_JSON_PTR_MAX];
        nq_json_ptr_key(where, ptr, key);
        return nq_err_set(err, NQ_ERANGE, where, "must lie in [%g, %g]", lo, hi);
    }
    return rc;
}

static int read_levels(const json_t *col, const char *ptr, nq_leads_column *k, nq_err *err)
{
    json_t *lv = NULL;
    char lp[NQ_JSON_PTR_MAX];
    nq_json_ptr_key(lp, ptr, "levels");
    int rc = nq_json_get_typed(col, ptr, "levels", 1, JSON_ARRAY, &lv, err);
    if (rc)
        return rc;
    size_t n = json_array_size(lv);
    if (n < 1 || n > NQ_LEADS_MAX_FEATURES)
        return nq_err_set(err, NQ_ELIMIT, lp, "1 to %d levels are allowed", NQ_LEADS_MAX_FEATURES);
    if (!(k->levels = calloc(n, sizeof *k->levels)))
        return nomem(err);
    for (size_t l = 0; l < n; l++) {
        char ep[NQ_JSON_PTR_MAX];
        nq_json_ptr_index(ep, lp, l);
        const json_t *v = json_array_get(lv, l);
        const char *s = json_string_value(v);
        if (!json_is_string(v) || strlen(s) > NQ_LEADS_NAME_MAX || strlen(s) != json_string_length(v))
            return nq_err_set(err, NQ_EINVAL, ep, "expected a string of at most %d bytes",
                              NQ_LEADS_NAME_MAX);
        if (l > 0 && strcmp(k->levels[l - 1], s) >= 0)
            return nq_err_set(err, NQ_EINVAL, ep, "levels must be strictly increasing (strcmp)");
        if (!(k->levels[l] = strdup(s)))
            return nomem(err);
        k->n_levels = (int32_t)l + 1;
    }
    return NQ_OK;
}

static int read_column(const json_t *col, const char *ptr, nq_leads_column *k, nq_err *err)
{
    static const char *const num_keys[] = {"name", "kind", "mean", "std", "impute", "train_missing", NULL};
    static const char *const cat_keys[] = {"name", "kind", "levels", NULL};
    const char *kind = NULL;
    if (!json_is_object(col))
        return nq_err_set(err, NQ_EINVAL, ptr, "expected an object");
    int rc = get_name(col, ptr, "name", &k->name, err);
    if (!rc)
        rc = nq_json_get_string(col, ptr, "kind", 1, 16, &kind, err);
    if (rc)
        return rc;
    if (!strcmp(kind, "categorical")) {
        k->kind = NQ_LEADS_CATEGORICAL;
        rc = nq_json_check_keys(col, ptr, cat_keys, err);
        return rc ? rc : read_levels(col, ptr, k, err);
    }
    if (strcmp(kind, "numeric")) {
        char where[NQ_JSON_PTR_MAX];
        nq_json_ptr_key(where, ptr, "kind");
        return nq_err_set(err, NQ_EINVAL, where, "must be numeric or categorical");
    }
    k->kind = NQ_LEADS_NUMERIC;
    int64_t miss = 0;
    rc = nq_json_check_keys(col, ptr, num_keys, err);
    if (!rc)
        rc = get_finite(col, ptr, "mean", -1e300, 1e300, &k->mean, err);
    if (!rc)
        rc = get_finite(col, ptr, "std", 1e-300, 1e300, &k->std, err);
    if (!rc)
        rc = get_finite(col, ptr, "impute", -1e300, 1e300, &k->impute, err);
    if (!rc)
        rc = nq_json_get_int(col, ptr, "train_missing", 1, 0, INT32_MAX, &miss, err);
    k->train_missing = (int32_t)miss;
    return rc;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int unique_names(const nq_leads_schema *s, nq_err *err)
{
    char **names = malloc(((size_t)s->n_cols + 1) * sizeof *names);
    if (!names)
        return nomem(err);
    for (int32_t c = 0; c < s->n_cols; c++)
        names[c] = s->cols[c].name;
    qsort(names, (size_t)s->n_cols, sizeof *names, cmp_name);
    int rc = NQ_OK;
    for (int32_t c = 1; c < s->n_cols && !rc; c++)
        if (!strcmp(names[c], names[c - 1]))
            rc = nq_err_set(err, NQ_EINVAL, "/columns", "column '%.64s' appears twice", names[c]);
    free(names);
    return rc;
}

static int check_features(const json_t *doc, const nq_leads_schema *s, nq_err *err)
{
    json_t *f = NULL;
    int rc = nq_json_get_typed(doc, "", "features", 1, JSON_ARRAY, &f, err);
    if (rc)
        return rc;
    if (json_array_size(f) != (size_t)s->n_features)
        return nq_err_set(err, NQ_EINVAL, "/features", "%zu names for %d features",
                          json_array_size(f), (int)s->n_features);
    for (int32_t i = 0; i < s->n_features; i++) {
        const char *name = json_string_value(json_array_get(f, (size_t)i));
        if (!name || strcmp(name, s->features[i])) {
            char where[NQ_JSON_PTR_MAX];
            nq_json_ptr_index(where, "/features", (size_t)i);
            return nq_err_set(err, NQ_EINVAL, where, "expected \"%.128s\"", s->features[i]);
        }
    }
    return NQ_OK;
}

static int read_schema(const json_t *doc, nq_leads_schema *s, nq_err *err)
{
    json_t *cols = NULL;
    int rc = get_name(doc, "", "outcome", &s->outcome, err);
    if (!rc)
        rc = get_name(doc, "", "positive", &s->positive, err);
    if (!rc)
        rc = nq_json_get_typed(doc, "", "columns", 1, JSON_ARRAY, &cols, err);
    if (rc)
        return rc;
    size_t n = json_array_size(cols);
    if (n < 1 || n > MAX_COLS)
        return nq_err_set(err, NQ_ELIMIT, "/columns", "1 to %d columns are allowed", MAX_COLS);
    if (!(s->cols = calloc(n, sizeof *s->cols)))
        return nomem(err);
    for (size_t c = 0; c < n && !rc; c++) {
        char cp[NQ_JSON_PTR_MAX];
        nq_json_ptr_index(cp, "/columns", c);
        s->n_cols = (int32_t)c + 1;
        rc = read_column(json_array_get(cols, c), cp, &s->cols[c], err);
    }
    if (!rc)
        rc = unique_names(s, err);
    if (!rc)
        rc = nq__lead_schema_features(s, err);
    return rc ? rc : check_features(doc, s, err);
}

static int read_logistic(const json_t *doc, nq_leads_model *m, nq_err *err)
{
    static const char *const keys[] = {"intercept", "coef", "objective", "newton_steps", NULL};
    json_t *lr = NULL, *coef = NULL;
    int64_t steps = 0;
    int rc = nq_json_get_typed(doc, "", "logistic", 1, JSON_OBJECT, &lr, err);
    if (!rc)
        rc = nq_json_check_keys(lr, "/logistic", keys, err);
    if (!rc)
        rc = get_finite(lr, "/logistic", "intercept", -1e6, 1e6, &m->intercept, err);
    if (!rc)
        rc = get_finite(lr, "/logistic", "objective", 0, 1e300, &m->objective, err);
    if (!rc)
        rc = nq_json_get_int(lr, "/logistic", "newton_steps", 1, 0, 1000, &steps, err);
    if (!rc)
        rc = nq_json_get_typed(lr, "/logistic", "coef", 1, JSON_ARRAY, &coef, err);
    if (rc)
        return rc;
    m->newton_steps = (int32_t)steps;
    if (json_array_size(coef) != (size_t)m->schema.n_features)
        return nq_err_set(err, NQ_EINVAL, "/logistic/coef", "%zu coefficients for %d features",
                          json_array_size(coef), (int)m->schema.n_features);
    if (!(m->coef = calloc((size_t)m->schema.n_features, sizeof *m->coef)))
        return nomem(err);
    for (int32_t f = 0; f < m->schema.n_features; f++) {
        char where[NQ_JSON_PTR_MAX];
        nq_json_ptr_index(where, "/logistic/coef", (size_t)f);
        if ((rc = nq_json_as_number(json_array_get(coef, (size_t)f), where, &m->coef[f], err)))
            return rc;
        if (!(fabs(m->coef[f]) <= 1e6))
            return nq_err_set(err, NQ_ERANGE, where, "must lie in [-1e6, 1e6]");
    }
    return NQ_OK;
}

static int read_gbt(const json_t *doc, nq_leads_model *m, nq_err *err)
{
    static const char *const keys[] = {"booster", NULL};
    json_t *g = NULL, *b = NULL;
    int rc = nq_json_get_typed(doc, "", "gbt", 1, JSON_OBJECT, &g, err);
    if (!rc)
        rc = nq_json_check_keys(g, "/gbt", keys, err);
    if (!rc)
        rc = nq_json_get_typed(g, "/gbt", "booster", 1, JSON_OBJECT, &b, err);
    if (!rc)
        rc = nq__lead_gbt_check(b, m->schema.n_features, "/gbt/booster", err);
    if (rc)
        return rc;
    /* XGBoost wrote float32 values in their shortest form; nine significant
     * digits give each one back exactly. */
    if (!(m->booster = json_dumps(b, JSON_COMPACT | JSON_REAL_PRECISION(9))))
        return nomem(err);
    m->booster_len = strlen(m->booster);
    return nq__lead_gbt_load(m, err);
}

static int read_training(const json_t *doc, nq_leads_model *m, nq_err *err)
{
    static const char *const keys[] = {"split", "rows", "positives", "seconds", NULL};
    json_t *t = NULL, *mt = NULL, *part = NULL;
    const char *split = NULL;
    int64_t rows = 0, pos = 0;
    int rc = nq_json_get_typed(doc, "", "training", 1, JSON_OBJECT, &t, err);
    if (!rc)
        rc = nq_json_check_keys(t, "/training", keys, err);
    if (!rc)
        rc = nq_json_get_string(t, "/training", "split", 1, sizeof m->split - 1, &split, err);
    if (!rc)
        rc = nq_json_get_int(t, "/training", "rows", 1, 1, INT32_MAX, &rows, err);
    if (!rc)
        rc = nq_json_get_int(t, "/training", "positives", 1, 0, rows, &pos, err);
    if (!rc)
        rc = get_finite(t, "/training", "seconds", 0, 1e9, &m->train_seconds, err);
    if (rc)
        return rc;
    snprintf(m->split, sizeof m->split, "%s", split);
    m->n_train = (int32_t)rows;
    m->train_pos = (int32_t)pos;
    static const char *const mkeys[] = {"train", "test", NULL};
    rc = nq_json_get_typed(doc, "", "metrics", 1, JSON_OBJECT, &mt, err);
    if (!rc)
        rc = nq_json_check_keys(mt, "/metrics", mkeys, err);
    if (!rc)
        rc = nq_json_get_typed(mt, "/metrics", "train", 1, JSON_OBJECT, &part, err);
    if (!rc)
        rc = nq__lead_metrics_from_json(part, "/metrics/train", &m->train, err);
    if (!rc)
        rc = nq_json_get_typed(mt, "/metrics", "test", 1, JSON_OBJECT, &part, err);
    return rc ? rc : nq__lead_metrics_from_json(part, "/metrics/test", &m->test, err);
}

static int read_header(const json_t *doc, nq_leads_model *m, nq_err *err)
{
    static const char *const keys[] = {"format", "version", "kind", "outcome", "positive",
                                       "columns", "features", "logistic", "gbt", "options",
                                       "training", "metrics", NULL};
    const char *format = NULL, *kind = NULL;
    int64_t version = 0;
    if (!json_is_object(doc))
        return nq_err_set(err, NQ_EINVAL, "", "a model document is a JSON object");
    int rc = nq_json_check_keys(doc, "", keys, err);
    if (!rc)
        rc = nq_json_get_string(doc, "", "format", 1, 64, &format, err);
    if (!rc && strcmp(format, "nqba.leads.model"))
        rc = nq_err_set(err, NQ_EINVAL, "/format", "expected \"nqba.leads.model\"");
    if (!rc)
        rc = nq_json_get_int(doc, "", "version", 1, 1, 1, &version, err);
    if (!rc)
        rc = nq_json_get_string(doc, "", "kind", 1, 16, &kind, err);
    if (rc)
        return rc;
    if (!strcmp(kind, "logistic") || !strcmp(kind, "gbt"))
        m->algo = !strcmp(kind, "gbt") ? NQ_LEADS_GBT : NQ_LEADS_LOGISTIC;
    else
        return nq_err_set(err, NQ_EINVAL, "/kind", "must be logistic or gbt");
    const char *other = m->algo == NQ_LEADS_GBT ? "logistic" : "gbt";
    if (json_object_get(doc, other))
        return nq_err_set(err, NQ_EINVAL, other[0] == 'g' ? "/gbt" : "/logistic",
                          "not allowed in a %s model", kind);
    return NQ_OK;
}

int nq_leads_model_from_json(const json_t *doc, nq_leads_model *out, nq_err *err)
{
    if (!out)
        return nq_err_set(err, NQ_EINVAL, NULL, "no output");
    memset(out, 0, sizeof *out);
    json_t *opts = NULL;
    int rc = read_header(doc, out, err);
    if (!rc)
        rc = read_schema(doc, &out->schema, err);
    if (!rc)
        rc = nq_json_get_typed(doc, "", "options", 1, JSON_OBJECT, &opts, err);
    if (!rc)
        rc = nq__lead_opts_from_json(opts, "/options", out->algo, &out->opts, err);
    if (!rc)
        rc = read_training(doc, out, err);
    if (!rc)
        rc = out->algo == NQ_LEADS_GBT ? read_gbt(doc, out, err) : read_logistic(doc, out, err);
    if (rc)
        nq_leads_model_free(out);
    return rc;
}

int nq__lead_opts_from_json(const json_t *obj, const char *ptr, nq_leads_algo algo,
                            nq_leads_train_opts *o, nq_err *err)
{
    static const char *const lr_keys[] = {"threshold", "C", "eps", NULL};
    static const char *const gbt_keys[] = {"threshold", "rounds", "max_depth", "max_leaves", "eta",
                                           "min_child_weight", "lambda", "nthread", "seed", NULL};
    nq_leads_train_opts_default(o, algo);
    int64_t v[4] = {0, 0, 0, 0};
    int rc = nq_json_check_keys(obj, ptr, algo == NQ_LEADS_GBT ? gbt_keys : lr_keys, err);
    if (!rc)
        rc = nq_json_get_number(obj, ptr, "threshold", 1, &o->threshold, err);
    if (!rc && algo == NQ_LEADS_LOGISTIC) {
        rc = nq_json_get_number(obj, ptr, "C", 1, &o->C, err);
        if (!rc)
            rc = nq_json_get_number(obj, ptr, "eps", 1, &o->eps, err);
    } else if (!rc) {
        const char *ik[] = {"rounds", "max_depth", "max_leaves", "nthread"};
        for (int i = 0; i < 4 && !rc; i++)
            rc = nq_json_get_int(obj, ptr, ik[i], 1, 0, 100000, &v[i], err);
        o->rounds = (int32_t)v[0];
        o->max_depth = (int32_t)v[1];
        o->max_leaves = (int32_t)v[2];
        o->nthread = (int32_t)v[3];
        int64_t seed = 0;
        if (!rc)
            rc = nq_json_get_number(obj, ptr, "eta", 1, &o->eta, err);
        if (!rc)
            rc = nq_json_get_number(obj, ptr, "min_child_weight", 1, &o->min_child_weight, err);
        if (!rc)
            rc = nq_json_get_number(obj, ptr, "lambda", 1, &o->lambda, err);
        if (!rc)
            rc = nq_json_get_int(obj, ptr, "seed", 1, INT64_MIN, INT64_MAX, &seed, err);
        o->seed = (uint64_t)seed;
    }
    if (rc)
        return rc;
    rc = nq__lead_opts_check(o, err);
    if (rc && err) { /* the check names "/C"; put it under the options' pointer */
        char where[NQ_JSON_PTR_MAX];
        snprintf(where, sizeof where, "%s%s", ptr, err->where);
        snprintf(err->where, sizeof err->where, "%s", where);
    }
    return rc;
}
