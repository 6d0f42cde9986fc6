/* compliance_plan.c - gaps and the remediation plan.
 *
 * The plan is a knapsack with two resources (money, effort) and precedence
 * (an action needs its prerequisites): maximize sum r_i x_i subject to
 * sum c_i x_i <= budget, sum e_i x_i <= effort_limit, x_j <= x_i when j
 * needs i, x binary. It is built as a constrained quadratic model (cqm.h)
 * and answered by the native engine, then solved by GLPK's branch and
 * bound on the same model: the engine alone proves nothing, and a plan
 * that spends real money should be the optimum, not a good guess. The
 * better answer is kept and both are reported. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compliance_internal.h"
#include "nqba/cqm.h"

#define MILP_DEFAULT_LIMIT 10.0
#define VALUE_TOL 1e-9
#define ENGINE_MOVES_BASE 1000
#define ENGINE_MOVES_PER 20

/* ---- gaps ------------------------------------------------------------------------------ */

const char *nq_grc_gap_kind_name(nq_grc_gap_kind k)
{
    static const char *const names[] = {"not_assessed", "not_started", "partial",
                                        "evidence_expired", "evidence_missing"};
    return (unsigned)k < sizeof names / sizeof names[0] ? names[k] : "unknown";
}

double nq_grc_gap_fraction(nq_grc_gap_kind k)
{
    static const double f[] = {1.0, 1.0, 0.5, 0.2, 0.2};
    return (unsigned)k < sizeof f / sizeof f[0] ? f[k] : 1.0;
}

void nq_grc_costing_default(nq_grc_costing *c)
{
    *c = (nq_grc_costing){.base = {.cost = 10000, .effort = 10, .risk_reduction = 10}};
}

void nq_grc_actions_free(nq_grc_action *a, int32_t n)
{
    for (int32_t i = 0; a && i < n; i++)
        free(a[i].deps);
    free(a);
}

static void overlay(nq_grc_cost *to, const nq_grc_cost *from)
{
    if (!isnan(from->cost))
        to->cost = from->cost;
    if (!isnan(from->effort))
        to->effort = from->effort;
    if (!isnan(from->risk_reduction))
        to->risk_reduction = from->risk_reduction;
}

/* The figures of a full remediation of control i: base, then each group
 * from the top down (the catalog's default, then the request's), so the
 * nearest group wins. */
static nq_grc_cost full_cost(const nq_grc_catalog *cat, const nq_grc_costing *c, int32_t i)
{
    int32_t chain[NQ_GRC_MAX_DEPTH + 1], n = 0;
    for (int32_t g = cat->controls[i].group; g >= 0 && n <= NQ_GRC_MAX_DEPTH;
         g = cat->groups[g].parent)
        chain[n++] = g;
    nq_grc_cost x = c->base;
    while (n-- > 0) {
        overlay(&x, &cat->groups[chain[n]].remediation);
        if (c->group)
            overlay(&x, &c->group[chain[n]]);
    }
    return x;
}

static nq_grc_gap_kind kind_of(const nq_grc_assessment *a, int32_t i)
{
    switch (a->answers[i].status) {
    case NQ_GRC_NOT_STARTED: return NQ_GRC_GAP_NOT_STARTED;
    case NQ_GRC_PARTIAL: return NQ_GRC_GAP_PARTIAL;
    case NQ_GRC_IMPLEMENTED:
        return nq_grc_expired_count(a, i) > 0 ? NQ_GRC_GAP_EVIDENCE_EXPIRED
                                              : NQ_GRC_GAP_EVIDENCE_MISSING;
    default: return NQ_GRC_GAP_NOT_ASSESSED;
    }
}

static int action_of(const nq_grc_assessment *a, const nq_grc_costing *c, int32_t i,
                     nq_grc_action *x)
{
    const nq_grc_catalog *cat = a->cat;
    nq_grc_gap_kind k = kind_of(a, i);
    nq_grc_cost f = full_cost(cat, c, i);
    double share = nq_grc_gap_fraction(k);
    nq_grc_cost v = {.cost = f.cost * share,
                     .effort = f.effort * share,
                     .risk_reduction = f.risk_reduction * share * cat->controls[i].weight};
    if (c->control) /* a control's own figures are taken as they are */
        overlay(&v, &c->control[i]);
    *x = (nq_grc_action){.control = i,
                         .kind = k,
                         .cost = v.cost,
                         .effort = v.effort,
                         .risk_reduction = v.risk_reduction};
    return NQ_OK;
}

static int link_deps(const nq_grc_assessment *a, const nq_grc_costing *c, const int32_t *act,
                     nq_grc_action *x)
{
    const nq_grc_control *k = &a->cat->controls[x->control];
    int own = c->n_deps && c->n_deps[x->control] >= 0;
    const int32_t *d = own ? c->deps[x->control] : k->depends_on;
    int32_t nd = own ? c->n_deps[x->control] : k->n_depends_on;
    if (nd > 0 && !(x->deps = malloc((size_t)nd * sizeof *x->deps)))
        return NQ_ENOMEM;
    for (int32_t j = 0; j < nd; j++) /* a prerequisite that is no gap is met already */
        if (d[j] >= 0 && d[j] < a->cat->n_controls && act[d[j]] >= 0)
            x->deps[x->n_deps++] = act[d[j]];
    return NQ_OK;
}

int nq_grc_gaps(const nq_grc_assessment *a, const nq_grc_costing *c, nq_grc_action **out,
                int32_t *n, nq_err *err)
{
    const nq_grc_catalog *cat = a->cat;
    *out = NULL;
    *n = 0;
    int32_t *act = malloc((size_t)cat->n_controls * sizeof *act);
    nq_grc_action *x = calloc((size_t)cat->n_controls, sizeof *x);
    int rc = act && x ? NQ_OK : NQ_ENOMEM;
    int32_t m = 0;
    for (int32_t i = 0; !rc && i < cat->n_controls; i++) {
        act[i] = -1;
        if (a->answers[i].status != NQ_GRC_NOT_APPLICABLE && !nq_grc_control_ready(a, i)) {
            act[i] = m;
            rc = action_of(a, c, i, &x[m++]);
        }
    }
    for (int32_t j = 0; !rc && j < m; j++)
        rc = link_deps(a, c, act, &x[j]);
    free(act);
    if (rc) {
        nq_grc_actions_free(x, m);
        return nq_err_set(err, rc, NULL, "out of memory");
    }
    *out = x;
    *n = m;
    return NQ_OK;
}

/* ---- the plan ---------------------------------------------------------------------------- */

void nq_grc_plan_opts_default(nq_grc_plan_opts *o)
{
    *o = (nq_grc_plan_opts){.budget = 0, .effort_limit = INFINITY, .seed = 1};
}

void nq_grc_plan_free(nq_grc_plan *p)
{
    if (!p)
        return;
    free(p->chosen);
    memset(p, 0, sizeof *p);
}

static int check_actions(const nq_grc_action *a, int32_t n, const nq_grc_plan_opts *o,
                         nq_err *err)
{
    if (!(o->budget >= 0 && o->budget <= 1e15))
        return nq_err_set(err, NQ_EINVAL, "/plan/budget", "a budget within [0, 1e15]");
    if (!(o->effort_limit >= 0))
        return nq_err_set(err, NQ_EINVAL, "/plan/effort_limit", "an effort limit >= 0");
    if (n < 0 || n > NQ_GRC_MAX_CONTROLS)
        return nq_err_set(err, NQ_ELIMIT, "/plan", "at most %d actions", NQ_GRC_MAX_CONTROLS);
    for (int32_t i = 0; i < n; i++) {
        const nq_grc_action *x = &a[i];
        if (!(x->cost >= 0 && x->cost <= 1e15 && x->effort >= 0 && x->effort <= 1e15 &&
              x->risk_reduction >= 0 && x->risk_reduction <= 1e15))
            return nq_err_set(err, NQ_EINVAL, "/plan", "action %d: cost, effort and risk "
                              "reduction must be within [0, 1e15]", (int)i);
        for (int32_t j = 0; j < x->n_deps; j++)
            if (x->deps[j] < 0 || x->deps[j] >= n || x->deps[j] == i)
                return nq_err_set(err, NQ_EINVAL, "/plan", "action %d: bad dependency %d",
                                  (int)i, (int)x->deps[j]);
    }
    return NQ_OK;
}

static int fits(double used, double limit)
{
    return used <= limit + VALUE_TOL * (1 + fabs(limit));
}

/* Feasibility and value of a selection, checked here rather than trusted. */
static int tally(const nq_grc_action *a, int32_t n, const nq_grc_plan_opts *o,
                 const uint8_t *x, double *cost, double *effort, double *value)
{
    *cost = *effort = *value = 0;
    int ok = 1;
    for (int32_t i = 0; i < n; i++) {
        if (!x[i])
            continue;
        *cost += a[i].cost, *effort += a[i].effort, *value += a[i].risk_reduction;
        for (int32_t j = 0; j < a[i].n_deps; j++)
            ok = ok && x[a[i].deps[j]];
    }
    return ok && fits(*cost, o->budget) && fits(*effort, o->effort_limit);
}

static int build_model(const nq_grc_action *a, int32_t n, const nq_grc_plan_opts *o, nq_cqm *m,
                       nq_err *err)
{
    char name[48];
    int rc = NQ_OK;
    nq_cqm_init(m);
    m->maximize = 1;
    for (int32_t i = 0; !rc && i < n; i++) { /* atom i is action i */
        snprintf(name, sizeof name, "a%d", (int)i);
        if (nq_cqm_add_binary(m, name, err) < 0)
            rc = err->code ? err->code : NQ_EINTERNAL;
        else if (a[i].risk_reduction != 0)
            rc = nq_cqm_obj_linear(m, 0, i, a[i].risk_reduction, err);
    }
    int b = rc ? -1 : nq_cqm_add_constraint(m, "budget", NQ_CQM_LE, o->budget, 1, -1, err);
    for (int32_t i = 0; b >= 0 && !rc && i < n; i++)
        rc = a[i].cost != 0 ? nq_cqm_con_linear(m, b, i, a[i].cost, err) : NQ_OK;
    if (!rc && b >= 0 && isfinite(o->effort_limit)) {
        int e = nq_cqm_add_constraint(m, "effort", NQ_CQM_LE, fmin(o->effort_limit, 1e15), 1,
                                      -1, err);
        for (int32_t i = 0; e >= 0 && !rc && i < n; i++)
            rc = a[i].effort != 0 ? nq_cqm_con_linear(m, e, i, a[i].effort, err) : NQ_OK;
        if (e < 0)
            rc = err->code;
    }
    for (int32_t i = 0; b >= 0 && !rc && i < n; i++)
        for (int32_t j = 0; !rc && j < a[i].n_deps; j++) { /* x_i - x_dep <= 0 */
            snprintf(name, sizeof name, "needs%d_%d", (int)i, (int)j);
            int d = nq_cqm_add_constraint(m, name, NQ_CQM_LE, 0, 1, -1, err);
            rc = d < 0 ? err->code : nq_cqm_con_linear(m, d, i, 1, err);
            if (!rc)
                rc = nq_cqm_con_linear(m, d, a[i].deps[j], -1, err);
        }
    if (b < 0 && !rc)
        rc = err->code ? err->code : NQ_EINTERNAL;
    return rc;
}

/* Keep x when it is feasible and better than the plan's current choice. */
static void offer(nq_grc_plan *p, const nq_grc_action *a, const nq_grc_plan_opts *o,
                  const uint8_t *x, const char *method)
{
    double cost, effort, value;
    if (!tally(a, p->n_actions, o, x, &cost, &effort, &value))
        return;
    if (p->method[0] && !(value > p->risk_reduction + VALUE_TOL * (1 + fabs(value))))
        return;
    memcpy(p->chosen, x, (size_t)p->n_actions);
    p->cost = cost, p->effort = effort, p->risk_reduction = value;
    snprintf(p->method, sizeof p->method, "%s", method);
}

static int run_engine(const nq_cqm *m, const nq_grc_action *a, const nq_grc_plan_opts *o,
                      nq_grc_plan *p, uint8_t *x, nq_err *err)
{
    nq_cqm_opts co;
    nq_cqm_opts_default(&co);
    co.solver = "native";
    co.seed = o->seed;
    co.time_limit = o->time_limit;
    /* A move budget keeps the engine's share of a request small and its
     * answer reproducible; GLPK makes the plan exact whatever it finds. */
    co.max_iterations = o->engine_moves > 0 ? o->engine_moves
                                            : ENGINE_MOVES_BASE + ENGINE_MOVES_PER * p->n_actions;
    co.cancel_flag = o->cancel;
    nq_cqm_result r;
    int rc = nq_cqm_solve(m, &co, NULL, NULL, &r, err);
    if (rc)
        return rc;
    p->engine.ran = 1;
    p->engine.feasible = r.best.feasible;
    p->engine.elapsed = r.elapsed;
    p->engine.iterations = r.iterations;
    snprintf(p->engine.found_by, sizeof p->engine.found_by, "%s", r.found_by);
    for (int32_t i = 0; i < p->n_actions; i++)
        x[i] = r.best.values[i] != 0;
    double cost, effort;
    p->engine.feasible = r.best.feasible && tally(a, p->n_actions, o, x, &cost, &effort,
                                                  &p->engine.value);
    if (!p->engine.feasible)
        p->engine.value = 0;
    else
        offer(p, a, o, x, "engine");
    nq_cqm_result_free(&r);
    return NQ_OK;
}

static int run_milp(const nq_cqm *m, const nq_grc_action *a, const nq_grc_plan_opts *o,
                    nq_grc_plan *p, uint8_t *x, nq_err *err)
{
    nq_milp_result r;
    double limit = o->milp_time_limit > 0 ? o->milp_time_limit : MILP_DEFAULT_LIMIT;
    int rc = nq_cqm_solve_milp(m, limit, &r, err);
    if (rc)
        return rc;
    p->milp.ran = 1;
    p->milp.status = r.status;
    p->milp.bound = isfinite(r.bound) ? r.bound : 0;
    p->milp.elapsed = r.elapsed;
    if (r.status <= 1 && r.values) {
        double cost, effort;
        for (int32_t i = 0; i < p->n_actions; i++)
            x[i] = r.values[i] != 0;
        if (tally(a, p->n_actions, o, x, &cost, &effort, &p->milp.value))
            offer(p, a, o, x, "milp");
    }
    /* Proven when GLPK finished and the kept answer is as good as its optimum. */
    p->proven_optimal = r.status == 0 && p->risk_reduction >= r.objective - VALUE_TOL *
                                                                   (1 + fabs(r.objective));
    nq_milp_result_free(&r);
    return NQ_OK;
}

/* Every action fits (or there are none): take them all, no search needed. */
static int all_fit(const nq_grc_action *a, int32_t n, const nq_grc_plan_opts *o, nq_grc_plan *p)
{
    size_t size = n > 0 ? (size_t)n : 0;
    memset(p->chosen, 1, size);
    double cost, effort, value;
    if (!tally(a, n, o, p->chosen, &cost, &effort, &value)) {
        memset(p->chosen, 0, size);
        return 0;
    }
    p->cost = cost, p->effort = effort, p->risk_reduction = value;
    p->proven_optimal = 1;
    snprintf(p->method, sizeof p->method, "%s", n ? "all-fit" : "none");
    return 1;
}

int nq_grc_plan_solve(const nq_grc_action *a, int32_t n, const nq_grc_plan_opts *o,
                      nq_grc_plan *p, nq_err *err)
{
    memset(p, 0, sizeof *p);
    int rc = check_actions(a, n, o, err);
    if (rc)
        return rc;
    p->n_actions = n;
    uint8_t *x = malloc((size_t)n + 1);
    p->chosen = calloc((size_t)n + 1, 1);
    if (!x || !p->chosen) {
        free(x);
        nq_grc_plan_free(p);
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    }
    for (int32_t i = 0; i < n; i++)
        p->total_risk_reduction += a[i].risk_reduction;
    if (!all_fit(a, n, o, p)) {
        nq_cqm m;
        memset(x, 0, n > 0 ? (size_t)n : 0);
        offer(p, a, o, x, "none"); /* doing nothing is always feasible */
        rc = build_model(a, n, o, &m, err);
        if (!rc)
            rc = run_engine(&m, a, o, p, x, err);
        if (!rc)
            rc = run_milp(&m, a, o, p, x, err);
        nq_cqm_free(&m);
    }
    for (int32_t i = 0; i < n; i++)
        p->n_chosen += p->chosen[i];
    free(x);
    if (rc)
        nq_grc_plan_free(p);
    return rc;
}

int nq_grc_project_plan(const nq_grc_assessment *a, const nq_grc_action *actions,
                        const uint8_t *chosen, int32_t n, double target_maturity,
                        nq_grc_assessment *out, nq_err *err)
{
    int rc = nq_grc_assessment_copy(a, out, err);
    if (rc)
        return rc;
    const nq_grc_catalog *c = a->cat;
    double t = fmin(fmax(target_maturity, c->scale_min), c->scale_max);
    if (isnan(target_maturity))
        t = c->scale_max;
    for (int32_t i = 0; i < n; i++) {
        int32_t k = actions[i].control;
        if (!chosen[i] || k < 0 || k >= c->n_controls)
            continue;
        nq_grc_answer *y = &out->answers[k];
        y->status = NQ_GRC_IMPLEMENTED;
        y->maturity = isnan(y->maturity) ? t : fmax(y->maturity, t);
        y->fresh = 1;
    }
    return NQ_OK;
}
