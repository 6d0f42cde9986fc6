/* compliance_score.c - the scores GRC tools report, per group and overall
 * (definitions in compliance.h and docs/api/assessment.md).
 *
 * Counts and sums are gathered per leaf group, then added up the tree:
 * parents precede their children in a catalog, so one pass over the groups
 * in reverse order sees every child before its parent. AVG_OF_AVG is built
 * the same way from the children's values. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "compliance_internal.h"

typedef struct acc {
    int32_t n, counts[NQ_GRC_STATUSES], n_scored, in_scope, ready, expired;
    int32_t pass, fail, req, req_ready;
    double w_ratio, w, sum, sum_max, w_pass, w_fail;
    double aoa_sum; /* sum of the children's AVG_OF_AVG ratios */
    int32_t aoa_n;  /* children that have one */
    double aoa;     /* this node's ratio, NAN when none */
} acc;

static void add_control(const nq_grc_assessment *a, int32_t i, acc *x)
{
    const nq_grc_catalog *c = a->cat;
    const nq_grc_answer *ans = &a->answers[i];
    double w = c->controls[i].weight, span = c->scale_max - c->scale_min;
    nq_grc_status s = ans->status;
    x->n++;
    x->counts[s]++;
    if (s == NQ_GRC_NOT_APPLICABLE)
        return;
    x->in_scope++;
    x->ready += nq_grc_control_ready(a, i);
    x->expired += nq_grc_expired_count(a, i) > 0;
    if (!isnan(ans->maturity)) {
        x->n_scored++;
        x->w_ratio += w * (ans->maturity - c->scale_min) / span;
        x->w += w;
        x->sum += w * ans->maturity;
        x->sum_max += w * c->scale_max;
    }
    if (s == NQ_GRC_IMPLEMENTED)
        x->pass++, x->w_pass += w;
    else if (s == NQ_GRC_NOT_STARTED || s == NQ_GRC_PARTIAL)
        x->fail++, x->w_fail += w;
}

static void add_acc(acc *to, const acc *from)
{
    to->n += from->n;
    for (int s = 0; s < NQ_GRC_STATUSES; s++)
        to->counts[s] += from->counts[s];
    to->n_scored += from->n_scored;
    to->in_scope += from->in_scope;
    to->ready += from->ready;
    to->expired += from->expired;
    to->pass += from->pass, to->fail += from->fail;
    to->req += from->req, to->req_ready += from->req_ready;
    to->w_ratio += from->w_ratio, to->w += from->w;
    to->sum += from->sum, to->sum_max += from->sum_max;
    to->w_pass += from->w_pass, to->w_fail += from->w_fail;
    if (!isnan(from->aoa))
        to->aoa_sum += from->aoa, to->aoa_n++;
}

static double pct(double num, double den)
{
    return den > 0 ? 100.0 * num / den : NAN;
}

static void finish(const nq_grc_catalog *c, const acc *x, nq_grc_scores *s)
{
    double span = c->scale_max - c->scale_min;
    memset(s, 0, sizeof *s);
    s->n_controls = x->n;
    memcpy(s->counts, x->counts, sizeof s->counts);
    /* integer arithmetic: the floor of an exact quotient */
    s->progress_pct = x->n ? (int32_t)(100LL * (x->n - x->counts[NQ_GRC_NOT_ASSESSED]) / x->n) : 0;
    s->n_scored = x->n_scored;
    s->avg_score_exact = x->w > 0 ? c->scale_min + x->w_ratio / x->w * span : NAN;
    s->avg_score = isnan(s->avg_score_exact) ? NAN : nq__grc_trunc1(s->avg_score_exact);
    s->sum_score = x->sum;
    s->sum_max = x->sum_max;
    s->avg_of_avg_exact = isnan(x->aoa) ? NAN : c->scale_min + x->aoa * span;
    s->avg_of_avg_score = isnan(x->aoa) ? NAN : nq__grc_trunc1(s->avg_of_avg_exact);
    s->n_in_scope = x->in_scope;
    s->n_ready = x->ready;
    s->n_expired = x->expired;
    s->ready_controls_pct = pct(x->ready, x->in_scope);
    s->n_requirements = x->req;
    s->n_requirements_ready = x->req_ready;
    s->ready_requirements_pct = pct(x->req_ready, x->req);
    s->n_pass = x->pass;
    s->n_fail = x->fail;
    s->xccdf_flat_pct = pct(x->w_pass, x->w_pass + x->w_fail);
    s->xccdf_flat_unweighted_pct = pct(x->pass, x->pass + x->fail);
}

void nq_grc_scorecard_free(nq_grc_scorecard *s)
{
    if (!s)
        return;
    free(s->groups);
    memset(s, 0, sizeof *s);
}

int nq_grc_score(const nq_grc_assessment *a, nq_grc_scorecard *out, nq_err *err)
{
    const nq_grc_catalog *c = a->cat;
    memset(out, 0, sizeof *out);
    acc *g = calloc((size_t)c->n_groups, sizeof *g);
    out->groups = calloc((size_t)c->n_groups, sizeof *out->groups);
    if (!g || !out->groups) {
        free(g);
        nq_grc_scorecard_free(out);
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    }
    out->n_groups = c->n_groups;
    for (int32_t i = 0; i < c->n_controls; i++)
        add_control(a, i, &g[c->controls[i].group]);
    acc all = {.aoa = NAN};
    for (int32_t k = c->n_groups - 1; k >= 0; k--) {
        acc *x = &g[k];
        if (c->groups[k].n_children == 0) { /* a requirement */
            x->req = x->in_scope > 0;
            x->req_ready = x->in_scope > 0 && x->ready == x->in_scope;
            x->aoa = x->w > 0 ? x->w_ratio / x->w : NAN;
        } else
            x->aoa = x->aoa_n ? x->aoa_sum / x->aoa_n : NAN;
        finish(c, x, &out->groups[k]);
        add_acc(c->groups[k].parent >= 0 ? &g[c->groups[k].parent] : &all, x);
    }
    all.aoa = all.aoa_n ? all.aoa_sum / all.aoa_n : NAN;
    finish(c, &all, &out->overall);
    free(g);
    return NQ_OK;
}
