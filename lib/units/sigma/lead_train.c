/* lead_train.c - training options, the training driver (encoding fitted
 * on the train rows, the model, metrics on train and test rows) and
 * prediction of data-set rows. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lead_internal.h"
#include "nqba/clock.h"

void nq_leads_train_opts_default(nq_leads_train_opts *o, nq_leads_algo algo)
{
    *o = (nq_leads_train_opts){
        .algo = algo,
        .threshold = 0.5,
        .C = 1.0,
        .eps = 1e-6,
        .rounds = 100,
        .max_depth = 5,
        .max_leaves = 31,
        .eta = 0.1,
        .min_child_weight = 1.0,
        .lambda = 1.0,
        .nthread = 1,
        .seed = 0,
    };
}

int nq__lead_opts_check(const nq_leads_train_opts *o, nq_err *err)
{
    if (o->algo != NQ_LEADS_LOGISTIC && o->algo != NQ_LEADS_GBT)
        return nq_err_set(err, NQ_EINVAL, "/algo", "must be logistic or gbt");
    if (!(o->threshold >= 0.0 && o->threshold <= 1.0))
        return nq_err_set(err, NQ_EINVAL, "/threshold", "must lie in [0, 1]");
    if (!(o->C > 0.0 && o->C <= 1e6))
        return nq_err_set(err, NQ_EINVAL, "/C", "must lie in (0, 1e6]");
    if (!(o->eps > 0.0 && o->eps <= 1.0))
        return nq_err_set(err, NQ_EINVAL, "/eps", "must lie in (0, 1]");
    if (o->rounds < 1 || o->rounds > 10000)
        return nq_err_set(err, NQ_EINVAL, "/rounds", "must lie in 1..10000");
    if (o->max_depth < 0 || o->max_depth > 20 || o->max_leaves < 0 || o->max_leaves > 4096 ||
        (o->max_depth == 0 && o->max_leaves < 2))
        return nq_err_set(err, NQ_EINVAL, "/max_depth",
                          "max_depth 0..20 and max_leaves 0..4096; a zero depth needs max_leaves >= 2");
    if (!(o->eta > 0.0 && o->eta <= 1.0))
        return nq_err_set(err, NQ_EINVAL, "/eta", "must lie in (0, 1]");
    if (!(o->min_child_weight >= 0.0 && o->min_child_weight <= 1e6))
        return nq_err_set(err, NQ_EINVAL, "/min_child_weight", "must lie in [0, 1e6]");
    if (!(o->lambda >= 0.0 && o->lambda <= 1e6))
        return nq_err_set(err, NQ_EINVAL, "/lambda", "must lie in [0, 1e6]");
    if (o->nthread < 1 || o->nthread > 256)
        return nq_err_set(err, NQ_EINVAL, "/nthread", "must lie in 1..256");
    return NQ_OK;
}

int nq__lead_should_stop(const nq_leads_train_opts *o, double pct)
{
    if (o->cancel && atomic_load(o->cancel))
        return 1;
    return o->progress && o->progress(pct, o->user) != 0;
}

void nq_leads_model_free(nq_leads_model *m)
{
    if (!m)
        return;
    nq__lead_gbt_free(m);
    nq__lead_schema_free(&m->schema);
    free(m->coef);
    free(m->booster);
    memset(m, 0, sizeof *m);
}

int nq__lead_predict(const nq_leads_model *m, const double *v, int32_t n, double *p, nq_err *err)
{
    if (m->algo == NQ_LEADS_GBT)
        return nq__lead_gbt_predict(m, v, n, p, NULL, NULL, 0, err);
    for (int32_t i = 0; i < n; i++)
        p[i] = nq__lead_sigmoid(nq__lead_lr_logit(m, v + (size_t)i * m->schema.n_cols, NULL));
    return NQ_OK;
}

int nq_leads_predict_data(const nq_leads_model *m, const nq_leads_data *d, const int32_t *rows,
                          int32_t n, double *p, nq_err *err)
{
    if (!m || !d || !p || n < 0)
        return nq_err_set(err, NQ_EINVAL, NULL, "a model, data and an output are needed");
    for (int32_t i = 0; rows && i < n; i++)
        if (rows[i] < 0 || rows[i] >= d->rows)
            return nq_err_set(err, NQ_EINVAL, "/rows", "row %d is not in the data set", (int)rows[i]);
    if (!rows && n > d->rows)
        return nq_err_set(err, NQ_EINVAL, "/rows", "%d rows asked of %d", (int)n, (int)d->rows);
    if (n == 0)
        return NQ_OK;
    double *v;
    int rc = nq__lead_resolve_data(&m->schema, d, rows, n, &v, err);
    if (rc)
        return rc;
    rc = nq__lead_predict(m, v, n, p, err);
    free(v);
    return rc;
}

/* Predict rows and measure them. */
static int measure(const nq_leads_model *m, const nq_leads_data *d, const int32_t *rows, int32_t n,
                   nq_leads_metrics *out, nq_err *err)
{
    memset(out, 0, sizeof *out);
    if (n == 0)
        return NQ_OK;
    double *p = malloc((size_t)n * sizeof *p);
    uint8_t *y = malloc((size_t)n);
    if (!p || !y) {
        free(p);
        free(y);
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    }
    for (int32_t i = 0; i < n; i++)
        y[i] = d->y[rows[i]];
    int rc = nq_leads_predict_data(m, d, rows, n, p, err);
    if (!rc)
        rc = nq_leads_metrics_compute(p, y, n, m->opts.threshold, out, err);
    free(p);
    free(y);
    return rc;
}

static int fit(const nq_leads_data *d, const nq_leads_split *sp, const nq_leads_train_opts *o,
               nq_leads_model *m, nq_err *err)
{
    int rc = nq__lead_schema_fit(d, sp, &m->schema, err);
    if (rc)
        return rc;
    if (o->algo == NQ_LEADS_GBT &&
        (int64_t)sp->n_train * m->schema.n_features > (int64_t)NQ_LEADS_MAX_CELLS)
        return nq_err_set(err, NQ_ELIMIT, "/rows", "%d rows x %d features is over the limit %d",
                          (int)sp->n_train, (int)m->schema.n_features, NQ_LEADS_MAX_CELLS);
    double *v;
    rc = nq__lead_resolve_data(&m->schema, d, sp->train, sp->n_train, &v, err);
    if (rc)
        return rc;
    uint8_t *y = malloc((size_t)sp->n_train + 1);
    if (!y)
        rc = nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    for (int32_t i = 0; y && i < sp->n_train; i++)
        y[i] = d->y[sp->train[i]];
    if (!rc && o->algo == NQ_LEADS_LOGISTIC)
        rc = nq__lead_lr_train(&m->schema, v, y, sp->n_train, o, m, err);
    else if (!rc)
        rc = nq__lead_gbt_train(&m->schema, v, y, sp->n_train, o, m, err);
    free(v);
    free(y);
    return rc;
}

static int check_split(const nq_leads_data *d, const nq_leads_split *sp, nq_err *err)
{
    if (sp->rows != d->rows || !sp->train || !sp->test || sp->n_train < 0 || sp->n_test < 0 ||
        sp->n_train + sp->n_test != d->rows)
        return nq_err_set(err, NQ_EINVAL, "/split", "the split was made for another data set");
    if (sp->train_pos == 0 || sp->train_pos == sp->n_train)
        return nq_err_set(err, NQ_EINVAL, "/split", "the train rows hold a single class");
    return NQ_OK;
}

int nq_leads_train(const nq_leads_data *d, const nq_leads_split *split,
                   const nq_leads_train_opts *o, nq_leads_model *out, nq_err *err)
{
    if (!out)
        return nq_err_set(err, NQ_EINVAL, NULL, "no output");
    memset(out, 0, sizeof *out);
    if (!d || !o || d->rows < 1 || d->n_cols < 1)
        return nq_err_set(err, NQ_EINVAL, NULL, "a data set and options are needed");
    int rc = nq__lead_opts_check(o, err);
    if (rc)
        return rc;
    nq_leads_split all = {0};
    if (!split) {
        if ((rc = nq_leads_split_none(d, &all, err)))
            return rc;
        split = &all;
    }
    double t0 = nq_clock_s();
    rc = check_split(d, split, err);
    out->algo = o->algo;
    out->opts = *o;
    out->opts.progress = NULL;
    out->opts.user = NULL;
    out->opts.cancel = NULL;
    if (!rc)
        rc = fit(d, split, o, out, err);
    out->train_seconds = nq_clock_s() - t0;
    snprintf(out->split, sizeof out->split, "%s", split->method);
    out->n_train = split->n_train;
    out->train_pos = split->train_pos;
    if (!rc)
        rc = measure(out, d, split->train, split->n_train, &out->train, err);
    if (!rc)
        rc = measure(out, d, split->test, split->n_test, &out->test, err);
    if (!rc && o->progress && o->progress(100.0, o->user))
        rc = nq_err_set(err, NQ_ECANCEL, NULL, "training cancelled");
    nq_leads_split_free(&all);
    if (rc)
        nq_leads_model_free(out);
    return rc;
}
