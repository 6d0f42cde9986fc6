/* lead_score.c - scoring a batch of leads: probability, 0..100 score,
 * tier, per-column contributions and each lead's top-k factors. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lead_internal.h"
#include "nqba/json.h"

void nq_leads_score_opts_default(nq_leads_score_opts *o)
{
    *o = (nq_leads_score_opts){
        .top_k = 3,
        .tier_mode = NQ_LEADS_TIER_THRESHOLDS,
        .hot = 0.5,
        .warm = 0.3,
        .lukewarm = 0.15,
        .q_hot = 0.1,
        .q_warm = 0.2,
        .q_lukewarm = 0.3,
        .max_rows = 1000000,
    };
}

void nq_leads_batch_from_csv(const nq_csv *t, nq_leads_batch *out)
{
    *out = (nq_leads_batch){.n_cols = t->cols,
                            .rows = t->rows,
                            .header = (const char *const *)t->header,
                            .cells = (const char *const *)t->cells};
}

void nq_leads_scores_free(nq_leads_scores *s)
{
    if (!s)
        return;
    free(s->leads);
    free(s->contrib);
    free(s->factors);
    memset(s, 0, sizeof *s);
}

static int check_opts(const nq_leads_score_opts *o, nq_err *err)
{
    if (o->top_k < 0)
        return nq_err_set(err, NQ_EINVAL, "/top_k", "must not be negative");
    if (o->explain != NQ_LEADS_EXPLAIN_EXACT && o->explain != NQ_LEADS_EXPLAIN_FAST)
        return nq_err_set(err, NQ_EINVAL, "/explain", "must be exact or fast");
    if (o->max_rows < 0)
        return nq_err_set(err, NQ_EINVAL, "/max_rows", "must not be negative");
    if (o->tier_mode == NQ_LEADS_TIER_THRESHOLDS) {
        if (!(o->hot <= 1.0 && o->hot >= o->warm && o->warm >= o->lukewarm && o->lukewarm >= 0.0))
            return nq_err_set(err, NQ_EINVAL, "/tiers",
                              "thresholds must satisfy 1 >= hot >= warm >= lukewarm >= 0");
        return NQ_OK;
    }
    if (o->tier_mode != NQ_LEADS_TIER_QUANTILES)
        return nq_err_set(err, NQ_EINVAL, "/tiers", "the tier mode is thresholds or quantiles");
    if (!(o->q_hot >= 0.0 && o->q_warm >= 0.0 && o->q_lukewarm >= 0.0 &&
          o->q_hot + o->q_warm + o->q_lukewarm <= 1.0))
        return nq_err_set(err, NQ_EINVAL, "/tiers",
                          "quantile shares must be >= 0 and add up to at most 1");
    return NQ_OK;
}

static int cmp_desc(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x < y) - (x > y);
}

/* The p of the ceil(share * n)-th best lead; just above 1 (nobody) for
 * an empty share. */
static double quantile_threshold(const double *desc, int32_t n, double share)
{
    double k = ceil(share * n - 1e-9);
    if (k < 1)
        return nextafter(1.0, 2.0);
    return desc[(int32_t)fmin(k, n) - 1];
}

static int set_thresholds(const nq_leads_score_opts *o, nq_leads_scores *s, nq_err *err)
{
    if (o->tier_mode == NQ_LEADS_TIER_THRESHOLDS || s->rows == 0) {
        s->hot = o->hot;
        s->warm = o->warm;
        s->lukewarm = o->lukewarm;
        return NQ_OK;
    }
    double *desc = malloc((size_t)s->rows * sizeof *desc);
    if (!desc)
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    for (int32_t i = 0; i < s->rows; i++)
        desc[i] = s->leads[i].p;
    qsort(desc, (size_t)s->rows, sizeof *desc, cmp_desc);
    s->hot = quantile_threshold(desc, s->rows, o->q_hot);
    s->warm = quantile_threshold(desc, s->rows, o->q_hot + o->q_warm);
    s->lukewarm = quantile_threshold(desc, s->rows, o->q_hot + o->q_warm + o->q_lukewarm);
    free(desc);
    return NQ_OK;
}

/* The k largest |contribution| columns, ties to the lower column. */
static void top_factors(const double *c, int32_t n_cols, int32_t k, nq_leads_factor *top)
{
    int32_t have = 0;
    for (int32_t j = 0; j < n_cols; j++) {
        double a = fabs(c[j]);
        int32_t pos = have;
        while (pos > 0 && a > fabs(top[pos - 1].contribution))
            pos--;
        if (pos >= k)
            continue;
        int32_t last = have < k ? have : k - 1;
        memmove(top + pos + 1, top + pos, (size_t)(last - pos) * sizeof *top);
        top[pos] = (nq_leads_factor){.col = j, .contribution = c[j]};
        if (have < k)
            have++;
    }
}

static int alloc_out(nq_leads_scores *s, int32_t rows, int32_t n_cols, int32_t k, nq_err *err)
{
    s->rows = rows;
    s->n_cols = n_cols;
    s->leads = calloc((size_t)rows + 1, sizeof *s->leads);
    s->contrib = calloc((size_t)rows * n_cols + 1, sizeof *s->contrib);
    s->factors = calloc((size_t)rows * k + 1, sizeof *s->factors);
    if (!s->leads || !s->contrib || !s->factors)
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    return NQ_OK;
}

/* Probabilities, logits and contributions of the resolved rows. */
static int contributions(const nq_leads_model *m, const double *v, int approx, nq_leads_scores *s,
                         nq_err *err)
{
    int32_t nc = s->n_cols;
    double *p = malloc(((size_t)s->rows + 1) * sizeof *p);
    if (!p)
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    int rc = NQ_OK;
    if (m->algo == NQ_LEADS_GBT)
        rc = nq__lead_gbt_predict(m, v, s->rows, p, s->contrib, &s->base, approx, err);
    else
        s->base = m->intercept;
    for (int32_t i = 0; i < s->rows && !rc; i++) {
        double *c = s->contrib + (size_t)i * nc, z = s->base;
        if (m->algo == NQ_LEADS_LOGISTIC)
            z = nq__lead_lr_logit(m, v + (size_t)i * nc, c);
        else
            for (int32_t j = 0; j < nc; j++)
                z += c[j];
        for (int32_t j = 0; j < nc && isfinite(z); j++)
            z = isfinite(c[j]) ? z : NAN;
        if (!isfinite(z)) {
            char where[NQ_JSON_PTR_MAX];
            nq_json_ptr_index(where, "/leads", (size_t)i);
            rc = nq_err_set(err, NQ_ERANGE, where, "a value is too large to score");
        }
        s->leads[i].logit = z;
        s->leads[i].p = m->algo == NQ_LEADS_LOGISTIC ? nq__lead_sigmoid(z) : p[i];
    }
    free(p);
    return rc;
}

static nq_leads_tier tier_of(const nq_leads_scores *s, double p)
{
    return p >= s->hot ? NQ_LEADS_HOT : p >= s->warm ? NQ_LEADS_WARM
                                        : p >= s->lukewarm ? NQ_LEADS_LUKEWARM : NQ_LEADS_COLD;
}

static int check_input(const nq_leads_model *m, const nq_leads_batch *b, const nq_leads_score_opts *o,
                       nq_err *err)
{
    if (!m || !m->schema.cols || (m->algo == NQ_LEADS_LOGISTIC ? !m->coef : !m->handle))
        return nq_err_set(err, NQ_EINVAL, NULL, "not a trained or loaded model");
    if (!b || b->rows < 0 || b->n_cols < 0 || (b->n_cols > 0 && !b->header) ||
        (b->rows > 0 && b->n_cols > 0 && !b->cells))
        return nq_err_set(err, NQ_EINVAL, "/leads", "a batch of leads is needed");
    if (b->rows > o->max_rows)
        return nq_err_set(err, NQ_ELIMIT, "/leads", "%d leads, more than the limit %d", (int)b->rows,
                          (int)o->max_rows);
    return check_opts(o, err);
}

int nq_leads_score(const nq_leads_model *m, const nq_leads_batch *b, const nq_leads_score_opts *o,
                   nq_leads_scores *out, nq_err *err)
{
    if (!out)
        return nq_err_set(err, NQ_EINVAL, NULL, "no output");
    memset(out, 0, sizeof *out);
    nq_leads_score_opts def;
    nq_leads_score_opts_default(&def);
    o = o ? o : &def;
    int rc = check_input(m, b, o, err);
    if (rc)
        return rc;
    int32_t nc = m->schema.n_cols, k = o->top_k < nc ? o->top_k : nc;
    double *v = NULL;
    rc = nq__lead_resolve_batch(&m->schema, b, &v, err);
    if (!rc)
        rc = alloc_out(out, b->rows, nc, k, err);
    if (!rc && b->rows > 0)
        rc = contributions(m, v, o->explain == NQ_LEADS_EXPLAIN_FAST, out, err);
    if (!rc)
        rc = set_thresholds(o, out, err);
    for (int32_t i = 0; i < out->rows && !rc; i++) {
        nq_leads_scored *l = &out->leads[i];
        double r = floor(100.0 * l->p + 0.5);
        l->score = (int32_t)(r < 0 ? 0 : r > 100 ? 100 : r);
        l->tier = tier_of(out, l->p);
        l->top = out->factors + (size_t)i * k;
        l->n_top = k;
        top_factors(out->contrib + (size_t)i * nc, nc, k, l->top);
    }
    free(v);
    if (rc)
        nq_leads_scores_free(out);
    return rc;
}
