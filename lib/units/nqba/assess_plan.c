/* assess_plan.c - the request's "plan": budget, effort limit, target
 * maturity, cost defaults per group, figures and prerequisites per control,
 * solver options (docs/api/assessment.md). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "assess_internal.h"
#include "nqba/json.h"

static int defaults(const json_t *plan, nq_assess_req *r, nq_err *err)
{
    const nq_grc_catalog *c = &r->cats[0];
    json_t *d = NULL;
    int rc = nq_json_get_typed(plan, "/plan", "defaults", 0, JSON_OBJECT, &d, err);
    if (rc || !d)
        return rc;
    if (!(r->group_costs = malloc((size_t)c->n_groups * sizeof *r->group_costs)))
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    for (int32_t g = 0; g < c->n_groups; g++)
        r->group_costs[g] = (nq_grc_cost){.cost = NAN, .effort = NAN, .risk_reduction = NAN};
    const char *key;
    json_t *v;
    char at[NQ_JSON_PTR_MAX];
    json_object_foreach(d, key, v) {
        nq_json_ptr_key(at, "/plan/defaults", key);
        int32_t g = nq_grc_find_group(c, key);
        if (g < 0)
            return nq_err_set(err, NQ_EINVAL, at, "'%.64s' is not a group of %s", key, c->id);
        if ((rc = nq__grc_cost_json(v, at, 0, &r->group_costs[g], err)))
            return rc;
    }
    return NQ_OK;
}

static int depends_on(const json_t *o, const char *at, nq_assess_req *r, int32_t k, nq_err *err)
{
    const nq_grc_catalog *c = &r->cats[0];
    json_t *list = NULL;
    char p[NQ_JSON_PTR_MAX], q[NQ_JSON_PTR_MAX];
    int rc = nq_json_get_typed(o, at, "depends_on", 0, JSON_ARRAY, &list, err);
    if (rc || !list)
        return rc;
    size_t n = json_array_size(list);
    nq_json_ptr_key(p, at, "depends_on");
    if (n > NQ_GRC_MAX_DEPS)
        return nq_err_set(err, NQ_ELIMIT, p, "at most %d prerequisites", NQ_GRC_MAX_DEPS);
    if (!(r->deps[k] = malloc((n + 1) * sizeof *r->deps[k])))
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    r->n_deps[k] = 0;
    for (size_t j = 0; j < n; j++) {
        nq_json_ptr_index(q, p, j);
        int32_t d = nq_grc_find_control(c, json_string_value(json_array_get(list, j)));
        if (d < 0 || d == k)
            return nq_err_set(err, NQ_EINVAL, q, "expected the id of another control of %s",
                              c->id);
        r->deps[k][r->n_deps[k]++] = d;
    }
    return NQ_OK;
}

static int overrides(const json_t *plan, nq_assess_req *r, nq_err *err)
{
    const nq_grc_catalog *c = &r->cats[0];
    json_t *o = NULL;
    int rc = nq_json_get_typed(plan, "/plan", "overrides", 0, JSON_OBJECT, &o, err);
    if (rc || !o)
        return rc;
    size_t n = (size_t)c->n_controls;
    r->control_costs = malloc(n * sizeof *r->control_costs);
    r->deps = calloc(n, sizeof *r->deps);
    r->n_deps = malloc(n * sizeof *r->n_deps);
    if (!r->control_costs || !r->deps || !r->n_deps)
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    for (size_t i = 0; i < n; i++) {
        r->control_costs[i] = (nq_grc_cost){.cost = NAN, .effort = NAN, .risk_reduction = NAN};
        r->n_deps[i] = -1;
    }
    const char *key;
    json_t *v;
    char at[NQ_JSON_PTR_MAX];
    json_object_foreach(o, key, v) {
        nq_json_ptr_key(at, "/plan/overrides", key);
        int32_t k = nq_grc_find_control(c, key);
        if (k < 0)
            return nq_err_set(err, NQ_EINVAL, at, "unknown control '%.64s' in %s", key, c->id);
        if (r->n_deps[k] >= 0 || !isnan(r->control_costs[k].cost) ||
            !isnan(r->control_costs[k].effort) || !isnan(r->control_costs[k].risk_reduction))
            return nq_err_set(err, NQ_EINVAL, at, "a second override of '%s' (by id and label)",
                              c->controls[k].id);
        if ((rc = nq__grc_cost_json(v, at, 1, &r->control_costs[k], err)) ||
            (rc = depends_on(v, at, r, k, err)))
            return rc;
    }
    return NQ_OK;
}

static int scalars(const json_t *plan, nq_assess_req *r, nq_err *err)
{
    nq_grc_plan_opts *o = &r->plan;
    const nq_grc_catalog *c = &r->cats[0];
    int64_t seed = 1;
    int rc;
    if ((rc = nq_json_get_number(plan, "/plan", "budget", 1, &o->budget, err)) ||
        (rc = nq_json_get_number(plan, "/plan", "effort_limit", 0, &o->effort_limit, err)) ||
        (rc = nq_json_get_number(plan, "/plan", "target_maturity", 0, &r->target_maturity,
                                 err)) ||
        (rc = nq_json_get_int(plan, "/plan", "seed", 0, 0, INT64_MAX, &seed, err)) ||
        (rc = nq_json_get_number(plan, "/plan", "time_limit", 0, &o->time_limit, err)) ||
        (rc = nq_json_get_number(plan, "/plan", "milp_time_limit", 0, &o->milp_time_limit,
                                 err)))
        return rc;
    o->seed = (uint64_t)seed;
    if (!(o->budget >= 0 && o->budget <= 1e15))
        return nq_err_set(err, NQ_EINVAL, "/plan/budget", "a budget within [0, 1e15]");
    if (json_object_get(plan, "effort_limit") && !(o->effort_limit >= 0 && o->effort_limit <= 1e15))
        return nq_err_set(err, NQ_EINVAL, "/plan/effort_limit", "person-days within [0, 1e15]");
    if (!isnan(r->target_maturity) &&
        !(r->target_maturity >= c->scale_min && r->target_maturity <= c->scale_max))
        return nq_err_set(err, NQ_EINVAL, "/plan/target_maturity", "outside %s's scale %g..%g",
                          c->id, c->scale_min, c->scale_max);
    if (!(o->time_limit >= 0 && o->time_limit <= 60))
        return nq_err_set(err, NQ_EINVAL, "/plan/time_limit", "0 to 60 seconds");
    if (!(o->milp_time_limit >= 0 && o->milp_time_limit <= 600))
        return nq_err_set(err, NQ_EINVAL, "/plan/milp_time_limit", "0 to 600 seconds");
    return NQ_OK;
}

int nq__assess_plan(const json_t *doc, nq_assess_req *r, nq_err *err)
{
    static const char *const keys[] = {"budget",     "effort_limit",    "target_maturity",
                                       "defaults",   "overrides",       "seed",
                                       "time_limit", "milp_time_limit", NULL};
    json_t *plan = NULL;
    int rc = nq_json_get_typed(doc, "", "plan", 0, JSON_OBJECT, &plan, err);
    if (rc || !plan)
        return rc;
    r->has_plan = 1;
    if ((rc = nq_json_check_keys(plan, "/plan", keys, err)) || (rc = scalars(plan, r, err)) ||
        (rc = defaults(plan, r, err)))
        return rc;
    return overrides(plan, r, err);
}
