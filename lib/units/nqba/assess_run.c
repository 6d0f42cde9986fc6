/* assess_run.c - run a parsed business-assessment request: score it, list
 * the gaps, plan the remediation within the budget, score the plan's
 * outcome, evaluate business health on its own, project the assessment
 * onto mapped frameworks, and say it in words. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "assess_internal.h"
#include "nqba/json.h"

typedef struct run_ctx {
    const nq_assess_req *r;
    const nq_grc_catalog *c;
    nq_grc_scorecard sc, proj_sc;
    nq_grc_action *gaps;
    int32_t n_gaps;
    nq_grc_plan plan;
    int has_plan;
    nq_grc_health health;
    double gap_cost, gap_effort;
} run_ctx;

static void ctx_free(run_ctx *x)
{
    nq_grc_scorecard_free(&x->sc);
    nq_grc_scorecard_free(&x->proj_sc);
    nq_grc_actions_free(x->gaps, x->n_gaps);
    nq_grc_plan_free(&x->plan);
}

static int attach(json_t *a, const char *key, json_t *v, nq_err *err)
{
    if (!v || json_object_set_new(a, key, v))
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory building the answer");
    return NQ_OK;
}

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *time_json(int64_t t)
{
    char buf[32];
    return t == NQ_GRC_NO_TIME ? json_null() : json_string(nq_grc_time_format(t, buf, sizeof buf));
}

/* ---- the parts ----------------------------------------------------------------------------- */

static json_t *framework_json(const nq_grc_catalog *c)
{
    return json_pack("{s:s, s:o, s:o, s:o, s:{s:f, s:f}, s:i, s:i}", "id", c->id, "name",
                     str_or_null(c->name), "version", str_or_null(c->version), "licence",
                     str_or_null(c->licence), "scale", "min", c->scale_min, "max", c->scale_max,
                     "n_controls", (int)c->n_controls, "n_groups", (int)c->n_groups);
}

static json_t *evidence_json(const nq_grc_assessment *a, const nq_grc_answer *x)
{
    json_t *list = json_array();
    for (int32_t j = 0; list && j < x->n_evidence; j++) {
        const nq_grc_evidence *e = &x->evidence[j];
        json_array_append_new(
            list, json_pack("{s:s, s:o, s:o, s:o, s:o, s:b}", "name", e->name, "link",
                            str_or_null(e->link), "hash", str_or_null(e->hash), "collected_at",
                            time_json(e->collected_at), "expires_at", time_json(e->expires_at),
                            "valid", nq_grc_evidence_valid(e, a->as_of)));
    }
    return list;
}

static json_t *controls_json(const nq_grc_assessment *a)
{
    const nq_grc_catalog *c = a->cat;
    json_t *list = json_array();
    for (int32_t i = 0; list && i < c->n_controls; i++) {
        const nq_grc_answer *x = &a->answers[i];
        json_t *o = json_pack(
            "{s:s, s:o, s:s, s:s, s:s, s:o, s:o, s:b, s:i, s:o, s:o}", "id", c->controls[i].id,
            "title", str_or_null(c->controls[i].title), "group", c->groups[c->controls[i].group].id,
            "status", nq_grc_status_name(x->status), "result", nq_grc_result_name(x->status),
            "maturity", nq__assess_num(x->maturity), "owner", str_or_null(x->owner), "ready",
            nq_grc_control_ready(a, i), "expired_evidence", (int)nq_grc_expired_count(a, i),
            "evidence", evidence_json(a, x), "notes", str_or_null(x->notes));
        if (!o || json_array_append_new(list, o)) {
            json_decref(list);
            return NULL;
        }
    }
    return list;
}

static json_t *gaps_json(const run_ctx *x)
{
    const nq_grc_catalog *c = x->c;
    json_t *list = json_array();
    for (int32_t i = 0; list && i < x->n_gaps; i++) {
        const nq_grc_action *g = &x->gaps[i];
        const nq_grc_control *k = &c->controls[g->control];
        json_t *deps = json_array();
        for (int32_t j = 0; deps && j < g->n_deps; j++)
            json_array_append_new(deps, json_string(c->controls[x->gaps[g->deps[j]].control].id));
        json_t *o = json_pack("{s:s, s:o, s:s, s:s, s:s, s:f, s:f, s:f, s:o}", "control", k->id,
                              "title", str_or_null(k->title), "group", c->groups[k->group].id,
                              "kind", nq_grc_gap_kind_name(g->kind), "status",
                              nq_grc_status_name(x->r->a.answers[g->control].status), "cost",
                              g->cost, "effort", g->effort, "risk_reduction", g->risk_reduction,
                              "depends_on", deps);
        if (!o || json_array_append_new(list, o)) {
            json_decref(list);
            return NULL;
        }
    }
    return list;
}

static json_t *plan_json(const run_ctx *x)
{
    const nq_grc_plan *p = &x->plan;
    const nq_grc_plan_opts *o = &x->r->plan;
    json_t *chosen = json_array();
    for (int32_t i = 0; chosen && i < p->n_actions; i++)
        if (p->chosen[i])
            json_array_append_new(chosen, json_string(x->c->controls[x->gaps[i].control].id));
    double target = isnan(x->r->target_maturity) ? x->c->scale_max : x->r->target_maturity;
    return json_pack(
        "{s:f, s:o, s:f, s:o, s:i, s:i, s:f, s:f, s:f, s:f, s:f, s:b, s:s,"
        " s:{s:b, s:b, s:f, s:f, s:I, s:s}, s:{s:b, s:i, s:f, s:f, s:f}, s:o}",
        "budget", o->budget, "effort_limit", nq__assess_num(o->effort_limit), "target_maturity",
        target, "chosen", chosen, "n_actions", (int)p->n_actions, "n_chosen", (int)p->n_chosen,
        "cost_used", p->cost, "budget_left", fmax(0, o->budget - p->cost), "effort_used",
        p->effort, "risk_reduction", p->risk_reduction, "total_risk_reduction",
        p->total_risk_reduction, "proven_optimal", p->proven_optimal, "method", p->method,
        "engine", "ran", p->engine.ran, "feasible", p->engine.feasible, "risk_reduction",
        p->engine.value, "elapsed_s", p->engine.elapsed, "iterations",
        (json_int_t)p->engine.iterations, "found_by", p->engine.found_by, "milp", "ran",
        p->milp.ran, "status", p->milp.status, "risk_reduction", p->milp.value, "bound",
        p->milp.bound, "elapsed_s", p->milp.elapsed, "projected_scores",
        nq__assess_scores_json(x->c, &x->proj_sc));
}

static json_t *health_json(const run_ctx *x)
{
    const nq_grc_health *h = &x->health;
    return json_pack(
        "{s:{s:o, s:o, s:o}, s:{s:o, s:o, s:o, s:o, s:o, s:o, s:o}, s:o, s:o, s:s}", "ratios",
        "net_margin", nq__assess_num(h->net_margin), "debt_ratio", nq__assess_num(h->debt_ratio),
        "current_ratio", nq__assess_num(h->current_ratio), "sub_scores", "profitability",
        nq__assess_num(h->profitability), "leverage", nq__assess_num(h->leverage), "liquidity",
        nq__assess_num(h->liquidity), "availability", nq__assess_num(h->availability),
        "delivery", nq__assess_num(h->delivery), "retention", nq__assess_num(h->retention),
        "churn", nq__assess_num(h->churn), "financial", nq__assess_num(h->financial),
        "operational", nq__assess_num(h->operational), "note",
        "Business health is reported on its own; it is not part of any compliance score.");
}

static json_t *mapped_json(const nq_assess_req *r, nq_err *err)
{
    json_t *list = json_array();
    for (int32_t i = 0; list && i < r->n_maps; i++) {
        const nq_grc_mapping *m = &r->maps[i];
        nq_grc_assessment b;
        nq_grc_scorecard s;
        if (nq_grc_project_mapping(&r->a, m, &b, err)) {
            json_decref(list);
            return NULL;
        }
        int rc = nq_grc_score(&b, &s, err);
        int32_t covered = 0;
        for (int32_t t = 0; t < m->to->n_controls; t++)
            covered += m->off[t + 1] > m->off[t];
        json_t *o = rc ? NULL
                       : json_pack("{s:s, s:i, s:i, s:o}", "framework", m->to->id,
                                   "n_controls", (int)m->to->n_controls, "n_mapped",
                                   (int)covered, "scores", nq__assess_scores_json(m->to, &s));
        if (!rc)
            nq_grc_scorecard_free(&s);
        nq_grc_assessment_free(&b);
        if (!o || json_array_append_new(list, o)) {
            json_decref(list);
            return NULL;
        }
    }
    return list;
}

/* ---- the explanation -------------------------------------------------------------------------- */

static void explain_scores(const run_ctx *x, json_t *l)
{
    const nq_grc_scores *s = &x->sc.overall;
    const nq_grc_catalog *c = x->c;
    char when[32];
    nq_json_say(l, "%s: %d controls as of %.10s: %d compliant, %d partially compliant, %d "
                "non-compliant, %d not applicable, %d not assessed.", c->name ? c->name : c->id,
                (int)s->n_controls, nq_grc_time_format(x->r->a.as_of, when, sizeof when),
                (int)s->counts[NQ_GRC_IMPLEMENTED], (int)s->counts[NQ_GRC_PARTIAL],
                (int)s->counts[NQ_GRC_NOT_STARTED], (int)s->counts[NQ_GRC_NOT_APPLICABLE],
                (int)s->counts[NQ_GRC_NOT_ASSESSED]);
    if (s->n_scored)
        nq_json_say(l, "Progress %d%%; average maturity %.1f on the %g..%g scale (sum %g of %g; "
                    "average of averages %.1f).", (int)s->progress_pct, s->avg_score,
                    c->scale_min, c->scale_max, s->sum_score, s->sum_max, s->avg_of_avg_score);
    else
        nq_json_say(l, "Progress %d%%; no maturity was given, so there is no average.",
                    (int)s->progress_pct);
    if (s->n_in_scope)
        nq_json_say(l, "Ready: %d of %d in-scope controls (%.1f%%); %d of %d requirements have "
                    "every in-scope control ready.", (int)s->n_ready, (int)s->n_in_scope,
                    s->ready_controls_pct, (int)s->n_requirements_ready, (int)s->n_requirements);
    if (s->n_pass + s->n_fail)
        nq_json_say(l, "XCCDF flat-unweighted %.1f%% (%d pass, %d fail; N/A and not assessed "
                    "excluded).", s->xccdf_flat_unweighted_pct, (int)s->n_pass, (int)s->n_fail);
    if (s->n_expired)
        nq_json_say(l, "%d control(s) have expired evidence and are not ready until it is "
                    "renewed.", (int)s->n_expired);
    int32_t worst = -1;
    for (int32_t g = 0; g < c->n_groups; g++)
        if (c->groups[g].parent < 0 && isfinite(x->sc.groups[g].ready_controls_pct) &&
            (worst < 0 || x->sc.groups[g].ready_controls_pct <
                              x->sc.groups[worst].ready_controls_pct))
            worst = g;
    if (worst >= 0)
        nq_json_say(l, "Least ready %s: %s (%.1f%% of its in-scope controls).",
                    c->n_levels ? c->levels[0] : "group", c->groups[worst].id,
                    x->sc.groups[worst].ready_controls_pct);
}

static void explain_plan(const run_ctx *x, json_t *l)
{
    const nq_grc_plan *p = &x->plan;
    nq_json_say(l, "%d gap(s); closing all of them would cost %.2f and %.1f person-days.",
                (int)x->n_gaps, x->gap_cost, x->gap_effort);
    if (!x->has_plan)
        return;
    double share = p->total_risk_reduction > 0 ? 100 * p->risk_reduction / p->total_risk_reduction
                                               : 0;
    nq_json_say(l, "Plan: %d of %d actions within the budget of %.2f (%.2f spent, %.1f "
                "person-days): risk reduction %g of %g (%.1f%%).", (int)p->n_chosen,
                (int)p->n_actions, x->r->plan.budget, p->cost, p->effort, p->risk_reduction,
                p->total_risk_reduction, share);
    if (p->engine.ran)
        nq_json_say(l, "The engine found %g; GLPK's branch and bound %s %g. Kept: %s, %s.",
                    p->engine.value, p->milp.status == 0 ? "proved the optimum" : "reached",
                    p->milp.value, p->method, p->proven_optimal ? "proven optimal" : "not proven");
    else
        nq_json_say(l, "%s", p->n_actions ? "Every action fits the budget and effort limit."
                                          : "Nothing to remediate.");
    if (isfinite(x->sc.overall.ready_controls_pct) &&
        isfinite(x->proj_sc.overall.ready_controls_pct))
        nq_json_say(l, "With the plan done: readiness by controls %.1f%% -> %.1f%%, by "
                    "requirements %.1f%% -> %.1f%%.", x->sc.overall.ready_controls_pct,
                    x->proj_sc.overall.ready_controls_pct, x->sc.overall.ready_requirements_pct,
                    x->proj_sc.overall.ready_requirements_pct);
}

static json_t *explain(const run_ctx *x)
{
    json_t *l = json_array();
    if (!l)
        return NULL;
    explain_scores(x, l);
    explain_plan(x, l);
    if (x->r->has_health) {
        char fin[32] = "n/a", ops[32] = "n/a";
        if (!isnan(x->health.financial))
            snprintf(fin, sizeof fin, "%.1f", x->health.financial);
        if (!isnan(x->health.operational))
            snprintf(ops, sizeof ops, "%.1f", x->health.operational);
        nq_json_say(l, "Business health, reported apart from compliance: financial %s, "
                    "operational %s (0..100).", fin, ops);
    }
    return l;
}

/* ---- running ------------------------------------------------------------------------------------ */

static int plan(run_ctx *x, const atomic_int *cancel, nq_err *err)
{
    const nq_assess_req *r = x->r;
    nq_grc_costing cost;
    nq_grc_costing_default(&cost);
    cost.group = r->group_costs;
    cost.control = r->control_costs;
    cost.deps = r->deps;
    cost.n_deps = r->n_deps;
    int rc = nq_grc_gaps(&r->a, &cost, &x->gaps, &x->n_gaps, err);
    for (int32_t i = 0; !rc && i < x->n_gaps; i++)
        x->gap_cost += x->gaps[i].cost, x->gap_effort += x->gaps[i].effort;
    if (rc || !r->has_plan)
        return rc;
    nq_grc_plan_opts o = r->plan;
    o.cancel = cancel;
    if ((rc = nq_grc_plan_solve(x->gaps, x->n_gaps, &o, &x->plan, err)))
        return rc;
    x->has_plan = 1;
    nq_grc_assessment proj;
    rc = nq_grc_project_plan(&r->a, x->gaps, x->plan.chosen, x->n_gaps, r->target_maturity,
                             &proj, err);
    if (!rc) {
        rc = nq_grc_score(&proj, &x->proj_sc, err);
        nq_grc_assessment_free(&proj);
    }
    return rc;
}

static int answer_json(run_ctx *x, json_t **out, nq_err *err)
{
    const nq_assess_req *r = x->r;
    json_t *a = json_object();
    if (!a)
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory building the answer");
    int rc = attach(a, "framework", framework_json(x->c), err);
    if (!rc)
        rc = attach(a, "as_of", time_json(r->a.as_of), err);
    if (!rc)
        rc = attach(a, "require_evidence", json_boolean(r->a.require_evidence), err);
    if (!rc)
        rc = attach(a, "scores", nq__assess_scores_json(x->c, &x->sc), err);
    if (!rc && r->include_controls)
        rc = attach(a, "controls", controls_json(&r->a), err);
    if (!rc)
        rc = attach(a, "gaps", gaps_json(x), err);
    if (!rc && x->has_plan)
        rc = attach(a, "plan", plan_json(x), err);
    if (!rc && r->has_health)
        rc = attach(a, "health", health_json(x), err);
    if (!rc && r->n_maps) {
        json_t *m = mapped_json(r, err);
        rc = m ? attach(a, "mapped", m, err) : (err && err->code ? err->code : NQ_ENOMEM);
    }
    if (!rc)
        rc = attach(a, "explanation", explain(x), err);
    if (rc)
        json_decref(a);
    else
        *out = a;
    return rc;
}

int nq_assess_run(const nq_assess_req *r, const atomic_int *cancel, json_t **answer,
                  nq_err *err)
{
    run_ctx x;
    memset(&x, 0, sizeof x);
    x.r = r;
    x.c = r->a.cat;
    *answer = NULL;
    nq_err_clear(err);
    if (!x.c)
        return nq_err_set(err, NQ_EINVAL, NULL, "the request was not parsed");
    int rc = nq_grc_score(&r->a, &x.sc, err);
    if (!rc)
        rc = plan(&x, cancel, err);
    if (!rc && r->has_health)
        rc = nq_grc_health_eval(&r->health, &x.health, err);
    if (!rc)
        rc = answer_json(&x, answer, err);
    ctx_free(&x);
    return rc;
}
