/* assign_check.c - validation of an assignment request, the compressed
 * problem every solver works on, and the result record. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "assign_internal.h"

#define PAIR_EPS 1e-12 /* relative: value differences treated as ties */

int nq_assign_eligible(const nq_assign_spec *s, int32_t l, int32_t r)
{
    if (!s || l < 0 || l >= s->n_leads || r < 0 || r >= s->n_reps)
        return 0;
    if (s->leads[l].requires & ~s->reps[r].provides)
        return 0;
    return !s->eligible || s->eligible[(size_t)l * (size_t)s->n_reps + (size_t)r] != 0;
}

double nq_assign_pair_value(const nq_assign_spec *s, int32_t l, int32_t r)
{
    if (!nq_assign_eligible(s, l, r))
        return 0.0;
    double m = s->multiplier ? s->multiplier[(size_t)l * (size_t)s->n_reps + (size_t)r] : 1.0;
    return s->leads[l].value * m;
}

static int bad_number(double v)
{
    return !isfinite(v) || v < 0 || v > NQ_ASSIGN_MAX_VALUE;
}

static int check_sizes(const nq_assign_spec *s, nq_err *err)
{
    if (!s)
        return nq_err_set(err, NQ_EINVAL, NULL, "no request");
    if (s->n_leads < 1 || s->n_leads > NQ_ASSIGN_MAX_LEADS || !s->leads)
        return nq_err_set(err, NQ_EINVAL, "/leads", "need 1..%d leads, got %d", NQ_ASSIGN_MAX_LEADS,
                          (int)s->n_leads);
    if (s->n_reps < 1 || s->n_reps > NQ_ASSIGN_MAX_REPS || !s->reps)
        return nq_err_set(err, NQ_EINVAL, "/reps", "need 1..%d reps, got %d", NQ_ASSIGN_MAX_REPS,
                          (int)s->n_reps);
    if (s->fairness < NQ_ASSIGN_FAIR_NONE || s->fairness > NQ_ASSIGN_FAIR_SPREAD)
        return nq_err_set(err, NQ_EINVAL, "/fairness", "unknown fairness mode %d",
                          (int)s->fairness);
    if (s->fairness == NQ_ASSIGN_FAIR_SPREAD && bad_number(s->fairness_weight))
        return nq_err_set(err, NQ_EINVAL, "/fairness_weight", "must be finite, in [0, %g]",
                          NQ_ASSIGN_MAX_VALUE);
    if (!isfinite(s->time_limit) || s->time_limit < 0)
        return nq_err_set(err, NQ_EINVAL, "/time_limit", "must be finite and >= 0");
    return NQ_OK;
}

static int check_items(const nq_assign_spec *s, nq_err *err)
{
    char where[64];
    for (int32_t l = 0; l < s->n_leads; l++)
        if (bad_number(s->leads[l].value)) {
            snprintf(where, sizeof where, "/leads/%d/value", (int)l);
            return nq_err_set(err, NQ_EINVAL, where, "%g: must be finite, in [0, %g]",
                              s->leads[l].value, NQ_ASSIGN_MAX_VALUE);
        }
    for (int32_t r = 0; r < s->n_reps; r++) {
        const nq_assign_rep *p = &s->reps[r];
        if (p->capacity < 0) {
            snprintf(where, sizeof where, "/reps/%d/capacity", (int)r);
            return nq_err_set(err, NQ_EINVAL, where, "%d: must be >= 0", (int)p->capacity);
        }
        if (p->min_load < 0 || p->min_load > p->capacity) {
            snprintf(where, sizeof where, "/reps/%d/min_load", (int)r);
            return nq_err_set(err, NQ_EINVAL, where, "%d: must be in [0, capacity %d]",
                              (int)p->min_load, (int)p->capacity);
        }
    }
    size_t cells = (size_t)s->n_leads * (size_t)s->n_reps;
    for (size_t k = 0; s->multiplier && k < cells; k++)
        if (bad_number(s->multiplier[k])) {
            snprintf(where, sizeof where, "/multiplier/%d/%d", (int)(k / (size_t)s->n_reps),
                     (int)(k % (size_t)s->n_reps));
            return nq_err_set(err, NQ_EINVAL, where, "%g: must be finite, in [0, %g]",
                              s->multiplier[k], NQ_ASSIGN_MAX_VALUE);
        }
    return NQ_OK;
}

/* Rep load bounds with the balance option folded in. */
static int rep_bounds(const nq_assign_spec *s, nq__assign_prob *p, nq_err *err)
{
    int32_t fl = s->n_leads / s->n_reps, ce = fl + (s->n_leads % s->n_reps != 0);
    int bal = s->fairness == NQ_ASSIGN_FAIR_BALANCED;
    char where[64];
    for (int32_t r = 0; r < s->n_reps; r++) {
        const nq_assign_rep *q = &s->reps[r];
        p->lo[r] = bal && fl > q->min_load ? fl : q->min_load;
        p->hi[r] = bal && ce < q->capacity ? ce : q->capacity;
        if (bal && q->capacity < fl) {
            snprintf(where, sizeof where, "/reps/%d/capacity", (int)r);
            return nq_err_set(err, NQ_EINVAL, where,
                              "%d is below the balanced load floor(%d leads / %d reps) = %d",
                              (int)q->capacity, (int)s->n_leads, (int)s->n_reps, (int)fl);
        }
        if (bal && q->min_load > ce) {
            snprintf(where, sizeof where, "/reps/%d/min_load", (int)r);
            return nq_err_set(err, NQ_EINVAL, where,
                              "%d is above the balanced load ceil(%d leads / %d reps) = %d",
                              (int)q->min_load, (int)s->n_leads, (int)s->n_reps, (int)ce);
        }
    }
    return NQ_OK;
}

/* Counting arguments: total capacity, total minimum load. */
static int check_totals(const nq_assign_spec *s, const nq__assign_prob *p, nq_err *err)
{
    int64_t cap = 0, need = 0;
    for (int32_t r = 0; r < s->n_reps; r++)
        cap += p->hi[r], need += p->lo[r];
    if (s->assign_all && cap < s->n_leads)
        return nq_err_set(err, NQ_EINVAL, "/reps",
                          "assign_all: the reps' capacities sum to %lld, below the %d leads",
                          (long long)cap, (int)s->n_leads);
    if (need > s->n_leads)
        return nq_err_set(err, NQ_EINVAL, "/reps",
                          "the reps' minimum loads sum to %lld, above the %d leads",
                          (long long)need, (int)s->n_leads);
    return NQ_OK;
}

static int build_pairs(const nq_assign_spec *s, nq__assign_prob *p, nq_err *err)
{
    int64_t n = 0;
    for (int32_t l = 0; l < s->n_leads; l++) {
        int32_t deg = 0;
        for (int32_t r = 0; r < s->n_reps; r++)
            deg += nq_assign_eligible(s, l, r);
        if (deg == 0 && s->assign_all) {
            char where[64];
            snprintf(where, sizeof where, "/eligibility/%d", (int)l);
            return nq_err_set(err, NQ_EINVAL, where,
                              "lead %d has no eligible rep, but assign_all needs every lead "
                              "assigned",
                              (int)l);
        }
        p->start[l] = n;
        n += deg;
    }
    p->start[s->n_leads] = n;
    if (n > NQ_ASSIGN_MAX_PAIRS)
        return nq_err_set(err, NQ_ELIMIT, "/eligibility", "%lld eligible pairs, over %lld",
                          (long long)n, (long long)NQ_ASSIGN_MAX_PAIRS);
    p->n_pairs = n;
    p->rep = malloc((size_t)(n ? n : 1) * sizeof *p->rep);
    p->val = malloc((size_t)(n ? n : 1) * sizeof *p->val);
    if (!p->rep || !p->val)
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    int64_t k = 0;
    for (int32_t l = 0; l < s->n_leads; l++)
        for (int32_t r = 0; r < s->n_reps; r++)
            if (nq_assign_eligible(s, l, r)) {
                p->rep[k] = r;
                p->val[k] = nq_assign_pair_value(s, l, r);
                p->vmax = fmax(p->vmax, p->val[k]);
                k++;
            }
    return NQ_OK;
}

int nq__assign_prepare(const nq_assign_spec *s, nq__assign_prob *p, nq_err *err)
{
    memset(p, 0, sizeof *p);
    int rc = check_sizes(s, err);
    if (!rc)
        rc = check_items(s, err);
    if (rc)
        return rc;
    p->s = s;
    p->L = s->n_leads;
    p->R = s->n_reps;
    p->optional = !s->assign_all;
    p->start = malloc(((size_t)s->n_leads + 1) * sizeof *p->start);
    p->lo = malloc((size_t)s->n_reps * sizeof *p->lo);
    p->hi = malloc((size_t)s->n_reps * sizeof *p->hi);
    if (!p->start || !p->lo || !p->hi)
        rc = nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    if (!rc)
        rc = rep_bounds(s, p, err);
    if (!rc)
        rc = check_totals(s, p, err);
    if (!rc)
        rc = build_pairs(s, p, err);
    if (rc) {
        nq__assign_prob_free(p);
        return rc;
    }
    p->eps = PAIR_EPS * (1.0 + p->vmax);
    return NQ_OK;
}

void nq__assign_prob_free(nq__assign_prob *p)
{
    if (!p)
        return;
    free(p->start);
    free(p->rep);
    free(p->val);
    free(p->lo);
    free(p->hi);
    memset(p, 0, sizeof *p);
}

double nq__assign_value_at(const nq__assign_prob *p, int32_t l, int32_t r)
{
    if (r < 0)
        return 0.0;
    for (int64_t k = p->start[l]; k < p->start[l + 1]; k++)
        if (p->rep[k] == r)
            return p->val[k];
    return -1.0;
}

int nq__assign_infeasible(const nq__assign_prob *p, int64_t violation, nq_err *err)
{
    return nq_err_set(err, NQ_EINVAL, "/eligibility",
                      "no assignment of eligible pairs keeps every rep's load within its "
                      "bounds (capacity, minimum load%s)%s: at best %lld lead slot(s) stay unmet",
                      p->s->fairness == NQ_ASSIGN_FAIR_BALANCED ? ", balance" : "",
                      p->s->assign_all ? " with every lead assigned" : "", (long long)violation);
}

double nq__assign_objective(const nq__assign_prob *p, const int32_t *rep_of, int32_t *load,
                            int32_t *spread)
{
    double v = 0.0;
    memset(load, 0, (size_t)p->R * sizeof *load);
    for (int32_t l = 0; l < p->L; l++)
        if (rep_of[l] >= 0) {
            v += nq__assign_value_at(p, l, rep_of[l]);
            load[rep_of[l]]++;
        }
    int32_t mn = load[0], mx = load[0];
    for (int32_t r = 1; r < p->R; r++)
        mn = load[r] < mn ? load[r] : mn, mx = load[r] > mx ? load[r] : mx;
    if (spread)
        *spread = mx - mn;
    if (p->s->fairness == NQ_ASSIGN_FAIR_SPREAD)
        v -= p->s->fairness_weight * (mx - mn);
    return v;
}

int nq__assign_result_init(const nq__assign_prob *p, nq_assign_result *out, nq_err *err)
{
    memset(out, 0, sizeof *out);
    out->n_leads = p->L;
    out->n_reps = p->R;
    out->rep_of = malloc((size_t)p->L * sizeof *out->rep_of);
    out->load = calloc((size_t)p->R, sizeof *out->load);
    out->engine_objective = NAN;
    if (!out->rep_of || !out->load) {
        nq_assign_result_free(out);
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    }
    for (int32_t l = 0; l < p->L; l++)
        out->rep_of[l] = -1;
    return NQ_OK;
}

void nq__assign_result_fill(const nq__assign_prob *p, const int32_t *rep_of, nq_assign_result *out)
{
    if (out->rep_of != rep_of)
        memcpy(out->rep_of, rep_of, (size_t)p->L * sizeof *rep_of);
    memset(out->load, 0, (size_t)p->R * sizeof *out->load);
    out->total_value = 0.0;
    out->n_assigned = 0;
    for (int32_t l = 0; l < p->L; l++)
        if (rep_of[l] >= 0) {
            out->load[rep_of[l]]++;
            out->n_assigned++;
            out->total_value += nq__assign_value_at(p, l, rep_of[l]);
        }
    out->min_load = out->max_load = out->load[0];
    for (int32_t r = 1; r < p->R; r++) {
        if (out->load[r] < out->min_load)
            out->min_load = out->load[r];
        if (out->load[r] > out->max_load)
            out->max_load = out->load[r];
    }
    out->objective = out->total_value;
    if (p->s->fairness == NQ_ASSIGN_FAIR_SPREAD)
        out->objective -= p->s->fairness_weight * (out->max_load - out->min_load);
}

void nq_assign_result_free(nq_assign_result *r)
{
    if (!r)
        return;
    free(r->rep_of);
    free(r->load);
    memset(r, 0, sizeof *r);
}
