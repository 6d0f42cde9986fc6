/* lead_model_json.c - a lead-scoring model to its JSON document. The
 * reader, which trusts nothing in a document, is lead_model_load.c.
 *
 *   {"format": "nqba.leads.model", "version": 1, "kind": "logistic" | "gbt",
 *    "outcome": "y", "positive": "yes",
 *    "columns": [{"name", "kind": "numeric", "mean", "std", "impute", "train_missing"}
 *              | {"name", "kind": "categorical", "levels": [...]}],
 *    "features": ["age", "job=admin.", ...],
 *    "logistic": {"intercept", "coef": [...], "objective", "newton_steps"}
 *  | "gbt": {"booster": XGBoost's JSON model, embedded},
 *    "options": {...}, "training": {"split", "rows", "positives", "seconds"},
 *    "metrics": {"train": {...}, "test": {...}}} */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lead_internal.h"
#include "nqba/json.h"

json_t *nq__lead_opts_to_json(const nq_leads_train_opts *o)
{
    json_t *j = json_object();
    json_object_set_new(j, "threshold", json_real(o->threshold));
    if (o->algo == NQ_LEADS_LOGISTIC) {
        json_object_set_new(j, "C", json_real(o->C));
        json_object_set_new(j, "eps", json_real(o->eps));
        return j;
    }
    json_object_set_new(j, "rounds", json_integer(o->rounds));
    json_object_set_new(j, "max_depth", json_integer(o->max_depth));
    json_object_set_new(j, "max_leaves", json_integer(o->max_leaves));
    json_object_set_new(j, "eta", json_real(o->eta));
    json_object_set_new(j, "min_child_weight", json_real(o->min_child_weight));
    json_object_set_new(j, "lambda", json_real(o->lambda));
    json_object_set_new(j, "nthread", json_integer(o->nthread));
    /* The 64 bits as a signed JSON integer: read back bit for bit. */
    json_object_set_new(j, "seed", json_integer((json_int_t)(int64_t)o->seed));
    return j;
}

static json_t *column_json(const nq_leads_column *k)
{
    json_t *c = json_pack("{s:s,s:s}", "name", k->name, "kind", nq_leads_kind_name(k->kind));
    if (k->kind == NQ_LEADS_NUMERIC) {
        json_object_set_new(c, "mean", json_real(k->mean));
        json_object_set_new(c, "std", json_real(k->std));
        json_object_set_new(c, "impute", json_real(k->impute));
        json_object_set_new(c, "train_missing", json_integer(k->train_missing));
        return c;
    }
    json_t *lv = json_array();
    for (int32_t l = 0; l < k->n_levels; l++)
        json_array_append_new(lv, json_string(k->levels[l]));
    json_object_set_new(c, "levels", lv);
    return c;
}

static json_t *schema_json(json_t *doc, const nq_leads_schema *s)
{
    json_t *cols = json_array(), *feats = json_array();
    for (int32_t c = 0; c < s->n_cols; c++)
        json_array_append_new(cols, column_json(&s->cols[c]));
    for (int32_t f = 0; f < s->n_features; f++)
        json_array_append_new(feats, json_string(s->features[f]));
    json_object_set_new(doc, "outcome", json_string(s->outcome));
    json_object_set_new(doc, "positive", json_string(s->positive));
    json_object_set_new(doc, "columns", cols);
    json_object_set_new(doc, "features", feats);
    return doc;
}

static int model_part(json_t *doc, const nq_leads_model *m, nq_err *err)
{
    if (m->algo == NQ_LEADS_LOGISTIC) {
        json_t *coef = json_array();
        for (int32_t f = 0; f < m->schema.n_features; f++)
            json_array_append_new(coef, json_real(m->coef[f]));
        json_object_set_new(doc, "logistic",
                            json_pack("{s:f,s:o,s:f,s:i}", "intercept", m->intercept, "coef", coef,
                                      "objective", m->objective, "newton_steps", m->newton_steps));
        return NQ_OK;
    }
    json_t *booster = NULL;
    int rc = nq_json_parse(m->booster, m->booster_len, "booster", NULL, &booster, err);
    if (rc)
        return nq_err_set(err, NQ_EINTERNAL, "/gbt/booster", "XGBoost's model is not JSON: %.160s",
                          err ? err->msg : "");
    json_object_set_new(doc, "gbt", json_pack("{s:o}", "booster", booster));
    return NQ_OK;
}

int nq_leads_model_to_json(const nq_leads_model *m, json_t **out, nq_err *err)
{
    if (!out)
        return nq_err_set(err, NQ_EINVAL, NULL, "no output");
    *out = NULL;
    if (!m || !m->schema.cols || (m->algo == NQ_LEADS_LOGISTIC ? !m->coef : !m->booster))
        return nq_err_set(err, NQ_EINVAL, NULL, "not a trained model");
    json_t *doc = json_pack("{s:s,s:i,s:s}", "format", "nqba.leads.model", "version", 1, "kind",
                            nq_leads_algo_name(m->algo));
    if (!doc)
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    schema_json(doc, &m->schema);
    int rc = model_part(doc, m, err);
    if (rc) {
        json_decref(doc);
        return rc;
    }
    json_object_set_new(doc, "options", nq__lead_opts_to_json(&m->opts));
    json_object_set_new(doc, "training",
                        json_pack("{s:s,s:i,s:i,s:f}", "split", m->split, "rows", (int)m->n_train,
                                  "positives", (int)m->train_pos, "seconds", m->train_seconds));
    json_object_set_new(doc, "metrics",
                        json_pack("{s:o,s:o}", "train", nq__lead_metrics_to_json(&m->train), "test",
                                  nq__lead_metrics_to_json(&m->test)));
    *out = doc;
    return NQ_OK;
}
