/* sigma_train.c - a training request (historical leads as CSV, the
 * outcome column, what to drop, the split and the algorithm) and its
 * answer: the model document and its metrics (docs/api/leads.md). */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nqba/json.h"
#include "nqba/sigma.h"

void nq_sigma_train_req_free(nq_sigma_train_req *r)
{
    if (!r)
        return;
    nq_leads_data_free(&r->data);
    nq_leads_split_free(&r->split);
    memset(r, 0, sizeof *r);
}

static int name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > NQ_SIGMA_MODEL_NAME_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-' && s[i] != '.')
            return 0;
    return 1;
}

/* An array of strings into names (borrowed), at most cap. */
static int string_list(const json_t *doc, const char *key, const char **names, int32_t cap,
                       int32_t *n, nq_err *err)
{
    const json_t *v = json_object_get(doc, key);
    char ptr[NQ_JSON_PTR_MAX], at[NQ_JSON_PTR_MAX];
    nq_json_ptr_key(ptr, "", key);
    *n = 0;
    if (!v)
        return NQ_OK;
    if (!json_is_array(v) || json_array_size(v) > (size_t)cap)
        return nq_err_set(err, NQ_EINVAL, ptr, "an array of at most %d column names", (int)cap);
    for (size_t i = 0; i < json_array_size(v); i++) {
        nq_json_ptr_index(at, ptr, i);
        if (!json_is_string(json_array_get(v, i)))
            return nq_err_set(err, NQ_EINVAL, at, "a column name");
        names[(*n)++] = json_string_value(json_array_get(v, i));
    }
    return NQ_OK;
}

int nq_sigma_personal(const json_t *doc, const char **names, int32_t cap, int32_t *n_out,
                      nq_err *err)
{
    return string_list(doc, "personal", names, cap, n_out, err);
}

static int separator(const json_t *doc, char *sep, nq_err *err)
{
    const char *s = NULL;
    int rc = nq_json_get_string(doc, "", "separator", 0, 2, &s, err);
    *sep = ',';
    if (rc || !s)
        return rc;
    if (strcmp(s, ",") && strcmp(s, ";") && strcmp(s, "\t"))
        return nq_err_set(err, NQ_EINVAL, "/separator", "',', ';' or a tab");
    *sep = s[0];
    return NQ_OK;
}

/* The table, with personal columns checked against its header and added
 * to the dropped ones. */
static int read_data(const json_t *doc, nq_sigma_train_req *r, nq_err *err)
{
    const json_t *csv = json_object_get(doc, "data_csv");
    const char *outcome = NULL, *positive = NULL, *drop[NQ_SIGMA_MAX_PERSONAL * 2];
    int32_t n_drop = 0, n_personal = 0;
    char sep;
    if (!json_is_string(csv) || json_string_length(csv) > NQ_SIGMA_CSV_MAX)
        return nq_err_set(err, NQ_EINVAL, "/data_csv", "CSV text of at most %u bytes is required",
                          NQ_SIGMA_CSV_MAX);
    int rc = separator(doc, &sep, err);
    if (!rc)
        rc = nq_json_get_string(doc, "", "outcome", 1, NQ_LEADS_NAME_MAX, &outcome, err);
    if (!rc)
        rc = nq_json_get_string(doc, "", "positive", 0, NQ_LEADS_NAME_MAX, &positive, err);
    if (!rc)
        rc = string_list(doc, "drop", drop, NQ_SIGMA_MAX_PERSONAL, &n_drop, err);
    if (!rc)
        rc = string_list(doc, "personal", drop + n_drop, NQ_SIGMA_MAX_PERSONAL, &n_personal, err);
    if (rc)
        return rc;
    nq_csv t;
    nq_csv_limits lim;
    nq_csv_limits_default(&lim);
    lim.sep = sep;
    if ((rc = nq_csv_parse(json_string_value(csv), json_string_length(csv), "/data_csv", &lim, &t,
                           err)))
        return rc;
    for (int32_t i = 0; !rc && i < n_personal; i++)
        if (nq_csv_col(&t, drop[n_drop + i]) < 0)
            rc = nq_err_set(err, NQ_EINVAL, "/personal", "no column '%.64s' in data_csv",
                            drop[n_drop + i]);
    nq_leads_data_opts o = {.outcome = outcome, .positive = positive, .drop = drop,
                            .n_drop = n_drop + n_personal};
    if (!rc)
        rc = nq_leads_data_from_csv(&t, &o, &r->data, err);
    if (rc && !strcmp(err->where, "/rows"))
        snprintf(err->where, sizeof err->where, "/data_csv");
    nq_csv_free(&t);
    return rc;
}

static int split(const json_t *doc, nq_sigma_train_req *r, nq_err *err)
{
    static const char *const keys[] = {"method", "test_fraction", "seed", "test_indices", NULL};
    json_t *s = NULL, *idx = NULL;
    const char *method = "mod5";
    double fraction = 0.2;
    int64_t seed = 0;
    int rc = nq_json_get_typed(doc, "", "split", 0, JSON_OBJECT, &s, err);
    if (!rc && s &&
        ((rc = nq_json_check_keys(s, "/split", keys, err)) ||
         (rc = nq_json_get_string(s, "/split", "method", 0, 16, &method, err)) ||
         (rc = nq_json_get_number(s, "/split", "test_fraction", 0, &fraction, err)) ||
         (rc = nq_json_get_int(s, "/split", "seed", 0, 0, INT64_MAX, &seed, err)) ||
         (rc = nq_json_get_typed(s, "/split", "test_indices", 0, JSON_ARRAY, &idx, err))))
        return rc;
    if (rc)
        return rc;
    if (!strcmp(method, "none"))
        return nq_leads_split_none(&r->data, &r->split, err);
    if (!strcmp(method, "mod5"))
        return nq_leads_split_mod5(&r->data, &r->split, err);
    if (!strcmp(method, "random")) {
        if (!(fraction > 0 && fraction < 1))
            return nq_err_set(err, NQ_EINVAL, "/split/test_fraction", "within (0, 1)");
        return nq_leads_split_random(&r->data, fraction, (uint64_t)seed, &r->split, err);
    }
    if (strcmp(method, "indices") != 0)
        return nq_err_set(err, NQ_EINVAL, "/split/method", "none, mod5, random or indices");
    size_t n = json_array_size(idx);
    int32_t *rows = malloc((n ? n : 1) * sizeof *rows);
    if (!rows)
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    for (size_t i = 0; !rc && i < n; i++) {
        json_t *v = json_array_get(idx, i);
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > INT32_MAX)
            rc = nq_err_set(err, NQ_EINVAL, "/split/test_indices", "item %zu: a row index", i);
        else
            rows[i] = (int32_t)json_integer_value(v);
    }
    if (!rc)
        rc = nq_leads_split_indices(&r->data, rows, (int32_t)n, &r->split, err);
    free(rows);
    return rc;
}

static int options(const json_t *doc, nq_sigma_train_req *r, nq_err *err)
{
    static const char *const keys[] = {"C", "eps", "rounds", "max_depth", "max_leaves", "eta",
                                       "threshold", "seed", NULL};
    const char *algo = "logistic";
    json_t *o = NULL;
    int rc = nq_json_get_string(doc, "", "algorithm", 0, 16, &algo, err);
    if (rc)
        return rc;
    if (strcmp(algo, "logistic") && strcmp(algo, "gbt"))
        return nq_err_set(err, NQ_EINVAL, "/algorithm", "logistic or gbt");
    nq_leads_train_opts_default(&r->opts, !strcmp(algo, "gbt") ? NQ_LEADS_GBT : NQ_LEADS_LOGISTIC);
    if ((rc = nq_json_get_typed(doc, "", "options", 0, JSON_OBJECT, &o, err)) || !o)
        return rc;
    int64_t rounds = r->opts.rounds, depth = r->opts.max_depth, leaves = r->opts.max_leaves,
            seed = (int64_t)r->opts.seed;
    if ((rc = nq_json_check_keys(o, "/options", keys, err)) ||
        (rc = nq_json_get_number(o, "/options", "C", 0, &r->opts.C, err)) ||
        (rc = nq_json_get_number(o, "/options", "eps", 0, &r->opts.eps, err)) ||
        (rc = nq_json_get_int(o, "/options", "rounds", 0, 1, 10000, &rounds, err)) ||
        (rc = nq_json_get_int(o, "/options", "max_depth", 0, 0, 32, &depth, err)) ||
        (rc = nq_json_get_int(o, "/options", "max_leaves", 0, 0, 4096, &leaves, err)) ||
        (rc = nq_json_get_number(o, "/options", "eta", 0, &r->opts.eta, err)) ||
        (rc = nq_json_get_number(o, "/options", "threshold", 0, &r->opts.threshold, err)) ||
        (rc = nq_json_get_int(o, "/options", "seed", 0, 0, INT64_MAX, &seed, err)))
        return rc;
    r->opts.rounds = (int32_t)rounds;
    r->opts.max_depth = (int32_t)depth;
    r->opts.max_leaves = (int32_t)leaves;
    r->opts.seed = (uint64_t)seed;
    return NQ_OK;
}

int nq_sigma_train_parse(const json_t *doc, nq_sigma_train_req *r, nq_err *err)
{
    static const char *const keys[] = {"name",  "data_csv",  "separator", "outcome",
                                       "positive", "drop",   "personal",  "algorithm",
                                       "split", "options",   NULL};
    memset(r, 0, sizeof *r);
    const char *name = NULL;
    if (!json_is_object(doc))
        return nq_err_set(err, NQ_EINVAL, "", "expected an object, got %s",
                          nq_json_type_name(doc));
    int rc = nq_json_check_keys(doc, "", keys, err);
    if (!rc)
        rc = nq_json_get_string(doc, "", "name", 1, NQ_SIGMA_MODEL_NAME_MAX, &name, err);
    if (!rc && !name_ok(name))
        rc = nq_err_set(err, NQ_EINVAL, "/name", "1..%d of letters, digits, '_', '-', '.'",
                        NQ_SIGMA_MODEL_NAME_MAX);
    if (!rc)
        snprintf(r->name, sizeof r->name, "%s", name);
    if (!rc)
        rc = options(doc, r, err);
    if (!rc)
        rc = read_data(doc, r, err);
    if (!rc)
        rc = split(doc, r, err);
    if (rc)
        nq_sigma_train_req_free(r);
    return rc;
}

int nq_sigma_train_run(const nq_sigma_train_req *r, int (*progress)(double, void *),
                       void *user, const atomic_int *cancel, json_t **answer, nq_err *err)
{
    nq_leads_train_opts o = r->opts;
    o.progress = progress;
    o.user = user;
    o.cancel = cancel;
    nq_leads_model m;
    *answer = NULL;
    int rc = nq_leads_train(&r->data, &r->split, &o, &m, err);
    if (rc)
        return rc;
    json_t *doc = NULL;
    if ((rc = nq_leads_model_to_json(&m, &doc, err))) {
        nq_leads_model_free(&m);
        return rc;
    }
    json_t *metrics = json_incref(json_object_get(doc, "metrics")), *expl = json_array();
    nq_json_say(expl, "%s model '%s' trained on %d rows (%d positive) with %d features in %.2f s.",
                nq_leads_algo_name(m.algo), r->name, (int)m.n_train, (int)m.train_pos,
                (int)m.schema.n_features, m.train_seconds);
    if (m.test.n > 0 && m.test.has_auc)
        nq_json_say(expl, "Held-out %s split: %d rows, ROC AUC %.4f, log loss %.4f, accuracy "
                          "%.3f at %.2f.",
                    m.split, (int)m.test.n, m.test.auc, m.test.logloss, m.test.accuracy,
                    m.test.threshold);
    *answer = json_pack("{s:s, s:s, s:i, s:i, s:i, s:i, s:o, s:o, s:o}", "name", r->name,
                        "algorithm", nq_leads_algo_name(m.algo), "rows", (int)r->data.rows,
                        "train_rows", (int)m.n_train, "test_rows", (int)m.test.n, "features",
                        (int)m.schema.n_features, "metrics", metrics, "model", doc, "explanation",
                        expl);
    nq_leads_model_free(&m);
    return *answer ? NQ_OK : nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
}
