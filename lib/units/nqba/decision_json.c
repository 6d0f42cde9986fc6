/* decision_json.c - the answer document of a decision (the field list is in
 * docs/api/decision-model.md, "Solving and the answer").
 *
 * Building stops at the first allocation failure: json_object_set_new
 * frees the value it is given and fails on NULL, so each part only records
 * that something failed and the caller checks once. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "decision_internal.h"

/* Largest magnitude below which every integer is exactly a double. */
#define EXACT_INT_LIMIT 9007199254740992.0

json_t *nq__decision_number(double x)
{
    if (!isfinite(x))
        return json_null();
    if (x == floor(x) && fabs(x) < EXACT_INT_LIMIT)
        return json_integer((json_int_t)x);
    return json_real(x);
}

static void put(json_t *o, const char *key, json_t *v, int *bad)
{
    if (json_object_set_new(o, key, v))
        *bad = 1;
}

static void push(json_t *a, json_t *v, int *bad)
{
    if (json_array_append_new(a, v))
        *bad = 1;
}

static const char *sense_name(nq_cqm_sense s)
{
    return s == NQ_CQM_LE ? "<=" : s == NQ_CQM_GE ? ">=" : "==";
}

/* A constraint is tight when it holds with no slack: an equality that
 * holds always is, an inequality when its value meets the rhs. */
static int is_tight(const nq_cqm_con *c, double lhs, double violation)
{
    return violation == 0 && fabs(lhs - c->rhs) <= NQ_CQM_TOL * (1 + fabs(c->rhs));
}

/* ---- constraints -------------------------------------------------------------- */

static json_t *constraint_json(const nq_decision_res *r, int32_t c, int *bad)
{
    const nq_cqm_con *con = &r->model.cons[c];
    double lhs = r->best.lhs[c], viol = r->best.violation[c];
    json_t *o = json_object();
    if (!o)
        return *bad = 1, NULL;
    put(o, "name", json_string(con->name), bad);
    put(o, "sense", json_string(sense_name(con->sense)), bad);
    put(o, "rhs", nq__decision_number(con->rhs), bad);
    put(o, "value", nq__decision_number(lhs), bad);
    put(o, "violation", nq__decision_number(viol), bad);
    put(o, "hard", json_boolean(con->hard), bad);
    if (!con->hard)
        put(o, "weight", nq__decision_number(con->weight), bad);
    put(o, "satisfied", json_boolean(viol == 0), bad);
    put(o, "tight", json_boolean(is_tight(con, lhs, viol)), bad);
    return o;
}

/* "constraints", "tight_constraints", "violated_constraints". */
static void constraints_json(const nq_decision_res *r, json_t *doc, int *bad)
{
    json_t *all = json_array(), *tight = json_array(), *violated = json_array();
    for (int32_t c = 0; all && tight && violated && c < r->model.n_cons; c++) {
        const nq_cqm_con *con = &r->model.cons[c];
        push(all, constraint_json(r, c, bad), bad);
        if (is_tight(con, r->best.lhs[c], r->best.violation[c]))
            push(tight, json_string(con->name), bad);
        if (r->best.violation[c] > 0)
            push(violated, json_string(con->name), bad);
    }
    put(doc, "constraints", all, bad);
    put(doc, "tight_constraints", tight, bad);
    put(doc, "violated_constraints", violated, bad);
}

/* ---- contributions ------------------------------------------------------------ */

static void contribution(json_t *a, const char *group, double value, double total, int *bad)
{
    json_t *o = json_object();
    if (!o) {
        *bad = 1;
        return;
    }
    put(o, "group", json_string(group), bad);
    put(o, "value", nq__decision_number(value), bad);
    put(o, "share", json_real(total > 0 ? fabs(value) / total : 0), bad);
    push(a, o, bad);
}

/* The objective by term group (the ungrouped terms as "objective", left
 * out when there are none), the offset, and the soft penalties that the
 * score adds to it. All but the penalties sum to the objective. */
static json_t *contributions_json(const nq_decision_res *r, int *bad)
{
    const nq_cqm *m = &r->model;
    double total = fabs(m->offset) + fabs(r->best.penalty);
    for (int32_t g = 0; g < m->n_groups; g++)
        total += fabs(r->best.group_value[g]);
    json_t *a = json_array();
    for (int32_t g = 0; a && g < m->n_groups; g++) {
        const nq_cqm_expr *e = &m->groups[g].e;
        if (g == 0 && e->n_lin + e->n_quad == 0)
            continue;
        contribution(a, m->groups[g].name, r->best.group_value[g], total, bad);
    }
    if (a && m->offset != 0)
        contribution(a, "offset", m->offset, total, bad);
    if (a && r->best.penalty > 0)
        contribution(a, "soft penalties", r->best.penalty, total, bad);
    return a;
}

/* ---- alternatives and the baseline ---------------------------------------------- */

static json_t *differences(const nq_cqm *m, const int64_t *best, const int64_t *other)
{
    json_t *a = json_array();
    for (int32_t v = 0; a && v < m->n_vars; v++)
        if (best[v] != other[v] && json_array_append_new(a, json_string(m->vars[v].name))) {
            json_decref(a);
            return NULL;
        }
    return a;
}

static json_t *alternatives_json(const nq_decision_res *r, int *bad)
{
    json_t *a = json_array();
    for (int32_t i = 0; a && i < r->solve.n_alts; i++) {
        const int64_t *vals = r->solve.alts[i].values;
        json_t *o = json_object();
        if (!o) {
            *bad = 1;
            break;
        }
        put(o, "rank", json_integer(i + 2), bad);
        put(o, "objective", nq__decision_number(r->alt_objective[i]), bad);
        put(o, "assignment", nq_cqm_values_to_json(&r->model, vals), bad);
        put(o, "differs_from_best", differences(&r->model, r->solve.best.values, vals), bad);
        push(a, o, bad);
    }
    return a;
}

static json_t *change(const char *name, const json_t *from, const json_t *to, int *bad)
{
    json_t *o = json_object();
    if (!o)
        return *bad = 1, NULL;
    put(o, "variable", json_string(name), bad);
    put(o, "from", json_incref(json_object_get(from, name)), bad);
    put(o, "to", json_incref(json_object_get(to, name)), bad);
    return o;
}

static json_t *changes_json(const nq_decision_res *r, int *bad)
{
    const nq_cqm *m = &r->model;
    json_t *a = json_array(), *from = nq_cqm_values_to_json(m, r->baseline),
           *to = nq_cqm_values_to_json(m, r->solve.best.values);
    if (!from || !to)
        *bad = 1;
    for (int32_t v = 0; a && !*bad && v < m->n_vars; v++)
        if (r->baseline[v] != r->solve.best.values[v])
            push(a, change(m->vars[v].name, from, to, bad), bad);
    json_decref(from);
    json_decref(to);
    return a;
}

static json_t *violated_names(const nq_cqm *m, const nq_cqm_eval *ev, int hard_only)
{
    json_t *a = json_array();
    for (int32_t c = 0; a && c < m->n_cons; c++)
        if (ev->violation[c] > 0 && (m->cons[c].hard || !hard_only) &&
            json_array_append_new(a, json_string(m->cons[c].name))) {
            json_decref(a);
            return NULL;
        }
    return a;
}

static json_t *baseline_json(const nq_decision_res *r, int *bad)
{
    json_t *o = json_object();
    if (!o)
        return *bad = 1, NULL;
    double diff = r->best.objective - r->base.objective;
    put(o, "objective", nq__decision_number(r->base.objective), bad);
    if (r->base.penalty > 0)
        put(o, "penalty", nq__decision_number(r->base.penalty), bad);
    put(o, "feasible", json_boolean(r->base_feasible), bad);
    if (r->base_bad_var[0])
        put(o, "out_of_domain", json_string(r->base_bad_var), bad);
    put(o, "violated_constraints", violated_names(&r->model, &r->base, 0), bad);
    put(o, "changed", changes_json(r, bad), bad);
    put(o, "improvement", nq__decision_number(r->model.maximize ? diff : -diff), bad);
    return o;
}

/* ---- rules, conflicts, solver --------------------------------------------------- */

static json_t *actions_json(const nq_decision_res *r, int *bad)
{
    json_t *a = json_array();
    for (int32_t i = 0; a && i < r->n_actions; i++) {
        const nq_decision_applied *p = &r->actions[i];
        json_t *o = json_object();
        if (!o) {
            *bad = 1;
            break;
        }
        put(o, "table", json_string(p->table_name), bad);
        put(o, "rule", p->rule >= 0 ? json_integer(p->rule) : json_null(), bad);
        put(o, "output", json_string(p->output_name), bad);
        put(o, "action", json_string(nq_decision_kind_name(p->kind)), bad);
        put(o, "target", json_string(p->target), bad);
        put(o, "value", json_deep_copy(p->value), bad);
        put(o, "source", json_string(p->source), bad);
        push(a, o, bad);
    }
    return a;
}

static json_t *irreducible_json(const nq_decision_res *r)
{
    if (!r->irreducible_known)
        return json_null();
    json_t *a = json_array();
    for (int32_t i = 0; a && i < r->n_irreducible; i++)
        if (json_array_append_new(a, json_string(r->model.cons[r->irreducible[i]].name))) {
            json_decref(a);
            return NULL;
        }
    return a;
}

static json_t *conflicts_json(const nq_decision_res *r, int *bad)
{
    json_t *o = json_object();
    if (!o)
        return *bad = 1, NULL;
    put(o, "violated", violated_names(&r->model, &r->best, 1), bad);
    put(o, "irreducible", irreducible_json(r), bad);
    if (r->best_bad_var[0])
        put(o, "out_of_domain", json_string(r->best_bad_var), bad);
    put(o, "note", json_string(r->conflict_note), bad);
    return o;
}

static json_t *solver_json(const nq_cqm_result *s, int *bad)
{
    json_t *o = json_object();
    if (!o)
        return *bad = 1, NULL;
    put(o, "requested", json_string(s->solver), bad);
    put(o, "found_by", json_string(s->found_by), bad);
    put(o, "elapsed_s", json_real(s->elapsed), bad);
    put(o, "time_to_best_s", json_real(s->time_to_best), bad);
    put(o, "iterations", json_integer(s->iterations), bad);
    put(o, "qubo_variables", json_integer(s->qubo_vars), bad);
    put(o, "penalty_rounds", json_integer(s->penalty_rounds), bad);
    put(o, "timed_out", json_boolean(s->timed_out), bad);
    return o;
}

/* ---- the document --------------------------------------------------------------- */

static void solved_json(const nq_decision_res *r, json_t *o, int *bad)
{
    put(o, "proven", json_boolean(r->proven), bad);
    put(o, "feasible", json_boolean(r->best_feasible), bad);
    put(o, "objective", nq__decision_number(r->best.objective), bad);
    put(o, "sense", json_string(r->model.maximize ? "maximize" : "minimize"), bad);
    if (r->best.penalty > 0)
        put(o, "penalty", nq__decision_number(r->best.penalty), bad);
    put(o, "assignment", nq_cqm_values_to_json(&r->model, r->solve.best.values), bad);
    constraints_json(r, o, bad);
    put(o, "contributions", contributions_json(r, bad), bad);
    put(o, "alternatives", alternatives_json(r, bad), bad);
    if (r->has_baseline)
        put(o, "baseline", baseline_json(r, bad), bad);
}

json_t *nq_decision_to_json(const nq_decision_res *r)
{
    json_t *o = r ? json_object() : NULL;
    if (!o)
        return NULL;
    int bad = 0, solved = r->status != NQ_DECISION_POLICY;
    put(o, "status", json_string(nq_decision_status_name(r->status)), &bad);
    if (r->name)
        put(o, "name", json_string(r->name), &bad);
    if (r->description)
        put(o, "description", json_string(r->description), &bad);
    if (solved)
        solved_json(r, o, &bad);
    if (r->rules) {
        put(o, "rules", json_deep_copy(r->rules), &bad);
        put(o, "actions", actions_json(r, &bad), &bad);
    }
    if (r->status == NQ_DECISION_INFEASIBLE)
        put(o, "conflicts", conflicts_json(r, &bad), &bad);
    if (solved)
        put(o, "solver", solver_json(&r->solve, &bad), &bad);
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}
