/* decision_rules.c - decision table outputs that act on the model: reading
 * and checking each output's "action" when the request is parsed, and
 * applying the selected rules' actions to a copy of the model when it runs.
 *
 * Actions: {"fix": var} fixes var to the output value, {"veto": choice}
 * vetoes the option the value names, {"objective": atom} replaces the
 * atom's linear objective coefficient, {"rhs": constraint} replaces the
 * constraint's right-hand side. Targets and output types are checked at
 * parse time; values can only be checked once a rule has produced them. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "decision_internal.h"

/* In nq_decision_kind order from NQ_DECISION_FIX: parse_action maps a key to
 * its kind by position. */
static const char *const ACTION_KEYS[] = {"fix", "veto", "objective", "rhs", NULL};

const char *nq_decision_kind_name(nq_decision_kind k)
{
    switch (k) {
    case NQ_DECISION_FIX:
        return "fix";
    case NQ_DECISION_VETO:
        return "veto";
    case NQ_DECISION_OBJECTIVE:
        return "objective";
    case NQ_DECISION_RHS:
        return "rhs";
    case NQ_DECISION_REPORT:
        break;
    }
    return "report";
}

int nq__decision_err_at(nq_err *err, int rc, const char *where)
{
    if (err && rc)
        snprintf(err->where, sizeof err->where, "%s", where);
    return rc;
}

/* ---- reading actions ------------------------------------------------------ */

/* With a collect aggregation the applied value is the aggregate, a number,
 * whatever the output's type; otherwise it is the output's value. */
static int numeric_output(const nq_dtable *t, int32_t out)
{
    if (nq_dtable_hit_policy(t) == NQ_DTABLE_COLLECT &&
        nq_dtable_aggregation(t) != NQ_DTABLE_AGG_NONE)
        return 1;
    return nq_dtable_output_type(t, out) == NQ_DTABLE_NUMBER;
}

static int label_output(const nq_dtable *t, int32_t out)
{
    return !numeric_output(t, out) && nq_dtable_output_type(t, out) == NQ_DTABLE_STRING;
}

static int check_fix(const nq_dtable *t, int32_t out, const nq_cqm *m, const char *where,
                     nq_decision_action *act, nq_err *err)
{
    int32_t v = nq_cqm_find_var(m, act->target);
    if (v < 0)
        return nq_err_set(err, NQ_ENOTFOUND, where, "unknown variable '%s'", act->target);
    const nq_cqm_var *var = &m->vars[v];
    act->index = v;
    if (var->kind == NQ_CQM_CHOICE && !label_output(t, out))
        return nq_err_set(err, NQ_EINVAL, where,
                          "'%s' is a choice variable: output '%s' must give a label (a string)",
                          var->name, nq_dtable_output_name(t, out));
    if (var->kind == NQ_CQM_INTEGER && !numeric_output(t, out))
        return nq_err_set(err, NQ_EINVAL, where,
                          "'%s' is an integer variable: output '%s' must give a number", var->name,
                          nq_dtable_output_name(t, out));
    if (var->kind == NQ_CQM_BINARY && !numeric_output(t, out) &&
        nq_dtable_output_type(t, out) != NQ_DTABLE_BOOLEAN)
        return nq_err_set(err, NQ_EINVAL, where,
                          "'%s' is a binary variable: output '%s' must give a number or a "
                          "boolean",
                          var->name, nq_dtable_output_name(t, out));
    return 0;
}

static int check_veto(const nq_dtable *t, int32_t out, const nq_cqm *m, const char *where,
                      nq_decision_action *act, nq_err *err)
{
    int32_t v = nq_cqm_find_var(m, act->target);
    if (v < 0)
        return nq_err_set(err, NQ_ENOTFOUND, where, "unknown variable '%s'", act->target);
    act->index = v;
    if (m->vars[v].kind != NQ_CQM_CHOICE)
        return nq_err_set(err, NQ_EINVAL, where,
                          "'%s' is not a choice variable: only options can be vetoed", act->target);
    if (!label_output(t, out))
        return nq_err_set(err, NQ_EINVAL, where,
                          "a veto needs a label: output '%s' must give a string",
                          nq_dtable_output_name(t, out));
    return 0;
}

static int check_number_target(const nq_dtable *t, int32_t out, const nq_cqm *m, const char *where,
                               nq_decision_action *act, nq_err *err)
{
    if (act->kind == NQ_DECISION_OBJECTIVE) {
        int a = nq_cqm_atom(m, act->target, err);
        if (a < 0)
            return nq__decision_err_at(err, a, where);
        act->index = a;
    } else {
        act->index = nq_cqm_find_con(m, act->target);
        if (act->index < 0)
            return nq_err_set(err, NQ_ENOTFOUND, where, "unknown constraint '%s'", act->target);
    }
    if (!numeric_output(t, out))
        return nq_err_set(err, NQ_EINVAL, where, "%s needs a number: output '%s' is a %s",
                          act->kind == NQ_DECISION_RHS ? "an rhs" : "an objective coefficient",
                          nq_dtable_output_name(t, out),
                          nq_dtable_type_name((nq_dtable_type)nq_dtable_output_type(t, out)));
    return 0;
}

static int parse_action(const json_t *a, const char *ptr, const nq_dtable *t, int32_t out,
                        const nq_cqm *m, nq_decision_action *act, nq_err *err)
{
    if (!json_is_object(a))
        return nq_err_set(err, NQ_EINVAL, ptr,
                          "expected an object such as {\"fix\": \"x\"}, got %s",
                          nq_json_type_name(a));
    int rc = nq_json_check_keys(a, ptr, ACTION_KEYS, err);
    if (rc)
        return rc;
    if (json_object_size(a) != 1)
        return nq_err_set(err, NQ_EINVAL, ptr,
                          "an action has exactly one member: fix, veto, objective or rhs");
    const char *key = json_object_iter_key(json_object_iter((json_t *)a));
    const char *target = NULL;
    char where[NQ_JSON_PTR_MAX];
    nq_json_ptr_key(where, ptr, key);
    rc = nq_json_get_string(a, ptr, key, 1, sizeof act->target - 1, &target, err);
    if (rc)
        return rc;
    snprintf(act->target, sizeof act->target, "%s", target);
    for (int k = 0; ACTION_KEYS[k]; k++)
        if (strcmp(key, ACTION_KEYS[k]) == 0)
            act->kind = (nq_decision_kind)(k + 1);
    if (act->kind == NQ_DECISION_FIX)
        return check_fix(t, out, m, where, act, err);
    if (act->kind == NQ_DECISION_VETO)
        return check_veto(t, out, m, where, act, err);
    return check_number_target(t, out, m, where, act, err);
}

int nq__decision_parse_actions(nq_decision_table *t, const nq_cqm *m, nq_err *err)
{
    int32_t n = nq_dtable_n_outputs(t->table);
    t->actions = calloc((size_t)(n > 0 ? n : 1), sizeof *t->actions);
    if (!t->actions)
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    for (int32_t o = 0; o < n; o++) {
        const json_t *a = nq_dtable_output_action(t->table, o);
        char ptr[NQ_JSON_PTR_MAX], outs[NQ_JSON_PTR_MAX], one[NQ_JSON_PTR_MAX];
        t->actions[o].index = -1;
        if (!a)
            continue;
        nq_json_ptr_key(outs, t->ptr, "outputs");
        nq_json_ptr_index(one, outs, (size_t)o);
        nq_json_ptr_key(ptr, one, "action");
        int rc = parse_action(a, ptr, t->table, o, m, &t->actions[o], err);
        if (rc)
            return rc;
    }
    return 0;
}

/* ---- applying actions ----------------------------------------------------- */

typedef struct applier {
    const nq_decision_req *req;
    const json_t *facts;
    nq_cqm *m;
    nq_decision_res *res;
    nq_err *err;
} applier;

/* Where a value came from: the rule's cell "<table>/rules/<r>/then/<output>",
 * or for an aggregate the output itself "<table>/outputs/<o>". */
static void value_ptr(const nq_decision_table *t, int32_t rule, int32_t out,
                      char where[NQ_JSON_PTR_MAX])
{
    char a[NQ_JSON_PTR_MAX], b[NQ_JSON_PTR_MAX];
    if (rule < 0) {
        nq_json_ptr_key(a, t->ptr, "outputs");
        nq_json_ptr_index(where, a, (size_t)out);
        return;
    }
    nq_json_ptr_key(a, t->ptr, "rules");
    nq_json_ptr_index(b, a, (size_t)rule);
    nq_json_ptr_key(a, b, "then");
    nq_json_ptr_key(where, a, nq_dtable_output_name(t->table, out));
}

static int number_value(const json_t *v, const char *where, double *out, nq_err *err)
{
    if (!json_is_number(v))
        return nq_err_set(err, NQ_EINVAL, where, "expected a number, got %s", nq_json_type_name(v));
    double x = json_number_value(v);
    if (!isfinite(x) || fabs(x) > NQ_CQM_MAX_COEF)
        return nq_err_set(err, NQ_ERANGE, where, "%g is outside [-%g, %g]", x, NQ_CQM_MAX_COEF,
                          NQ_CQM_MAX_COEF);
    *out = x;
    return 0;
}

static int32_t label_index(const nq_cqm_var *v, const json_t *val)
{
    const char *s = json_string_value(val);
    for (int32_t k = 0; s && k < v->n_options; k++)
        if (strcmp(v->labels[k], s) == 0)
            return k;
    return -1;
}

static int no_option(const nq_cqm_var *v, const json_t *val, const char *where, nq_err *err)
{
    if (json_is_string(val))
        return nq_err_set(err, NQ_ENOTFOUND, where, "'%s' has no option '%.128s'", v->name,
                          json_string_value(val));
    return nq_err_set(err, NQ_EINVAL, where, "'%s' needs an option label, got %s", v->name,
                      nq_json_type_name(val));
}

/* The value to fix var to, written as in an assignment. */
static int fix_value(const nq_cqm_var *v, const json_t *val, const char *where, int64_t *out,
                     nq_err *err)
{
    if (v->kind == NQ_CQM_CHOICE) {
        *out = label_index(v, val);
        return *out < 0 ? no_option(v, val, where, err) : 0;
    }
    if (json_is_boolean(val) && v->kind == NQ_CQM_BINARY) {
        *out = json_is_true(val);
        return 0;
    }
    double x = 0;
    int rc = number_value(val, where, &x, err);
    if (rc)
        return rc;
    if (x != floor(x) || x < (double)v->lb || x > (double)v->ub)
        return nq_err_set(err, NQ_EINVAL, where,
                          "cannot fix '%s' to %g: not an integer in %lld..%lld", v->name, x,
                          (long long)v->lb, (long long)v->ub);
    *out = (int64_t)x;
    return 0;
}

/* A second objective or rhs action on the same target must agree with the
 * first: which one should win is not for the engine to guess. */
static int check_reset(const applier *a, const nq_decision_action *act, double x, const char *where)
{
    for (int32_t i = 0; i < a->res->n_actions; i++) {
        const nq_decision_applied *p = &a->res->actions[i];
        if (p->kind != act->kind || strcmp(p->target, act->target) != 0 ||
            json_number_value(p->value) == x)
            continue;
        return nq_err_set(a->err, NQ_EINVAL, where, "%s of '%s' is already set to %g by %s",
                          act->kind == NQ_DECISION_RHS ? "the rhs" : "the objective coefficient",
                          act->target, json_number_value(p->value), p->source);
    }
    return 0;
}

static int apply_number(applier *a, const nq_decision_action *act, const json_t *val,
                        const char *where)
{
    double x = 0;
    int rc = number_value(val, where, &x, a->err);
    if (!rc)
        rc = check_reset(a, act, x, where);
    if (rc)
        return rc;
    if (act->kind == NQ_DECISION_RHS) {
        a->m->cons[act->index].rhs = x;
        return 0;
    }
    return nq__decision_err_at(a->err, nq_cqm_set_obj_coef(a->m, act->index, x, a->err), where);
}

static int apply_action(applier *a, const nq_decision_action *act, const json_t *val,
                        const char *where)
{
    const nq_cqm_var *v =
        act->index >= 0 && act->kind <= NQ_DECISION_VETO ? &a->m->vars[act->index] : NULL;
    int64_t x;
    int rc;
    switch (act->kind) {
    case NQ_DECISION_FIX:
        rc = fix_value(v, val, where, &x, a->err);
        if (!rc)
            rc = nq__decision_err_at(a->err, nq_cqm_fix(a->m, act->index, x, a->err), where);
        return rc;
    case NQ_DECISION_VETO:
        x = label_index(v, val);
        if (x < 0)
            return no_option(v, val, where, a->err);
        return nq__decision_err_at(a->err, nq_cqm_veto(a->m, act->index, (int32_t)x, a->err),
                                   where);
    case NQ_DECISION_OBJECTIVE:
    case NQ_DECISION_RHS:
        return apply_number(a, act, val, where);
    case NQ_DECISION_REPORT:
        break;
    }
    return 0;
}

static int record(applier *a, int32_t ti, int32_t rule, int32_t out, const json_t *val,
                  const char *where)
{
    nq_decision_res *r = a->res;
    if (r->n_actions == r->cap_actions) {
        int32_t cap = r->cap_actions ? 2 * r->cap_actions : 8;
        void *p = realloc(r->actions, (size_t)cap * sizeof *r->actions);
        if (!p)
            return nq_err_set(a->err, NQ_ENOMEM, NULL, "out of memory");
        r->actions = p;
        r->cap_actions = cap;
    }
    const nq_decision_table *t = &a->req->tables[ti];
    nq_decision_applied *p = &r->actions[r->n_actions];
    *p = (nq_decision_applied){.table = ti,
                               .rule = rule,
                               .output = out,
                               .kind = t->actions[out].kind,
                               .value = json_deep_copy(val)};
    snprintf(p->target, sizeof p->target, "%s", t->actions[out].target);
    snprintf(p->table_name, sizeof p->table_name, "%s", nq_dtable_name(t->table));
    snprintf(p->output_name, sizeof p->output_name, "%s", nq_dtable_output_name(t->table, out));
    snprintf(p->source, sizeof p->source, "%s", where);
    if (!p->value)
        return nq_err_set(a->err, NQ_ENOMEM, NULL, "out of memory");
    r->n_actions++;
    return 0;
}

static int apply_output(applier *a, int32_t ti, int32_t rule, int32_t out, const json_t *val)
{
    const nq_decision_table *t = &a->req->tables[ti];
    const nq_decision_action *act = &t->actions[out];
    if (act->kind == NQ_DECISION_REPORT)
        return 0;
    char where[NQ_JSON_PTR_MAX];
    value_ptr(t, rule, out, where);
    if (!val)
        return nq_err_set(a->err, NQ_EINTERNAL, where, "the rule gives no value");
    int rc = apply_action(a, act, val, where);
    return rc ? rc : record(a, ti, rule, out, val, where);
}

/* Selected hits in rule order; a collect aggregate goes to every output
 * that carries an action. */
static int apply_result(applier *a, int32_t ti, const nq_dtable_result *r)
{
    const nq_dtable *t = a->req->tables[ti].table;
    int32_t n_out = nq_dtable_n_outputs(t);
    int rc = 0;
    if (nq_dtable_hit_policy(t) == NQ_DTABLE_COLLECT &&
        nq_dtable_aggregation(t) != NQ_DTABLE_AGG_NONE) {
        if (!r->aggregated)
            return 0;
        json_t *v = nq__decision_number(r->aggregate);
        if (!v)
            return nq_err_set(a->err, NQ_ENOMEM, NULL, "out of memory");
        for (int32_t o = 0; !rc && o < n_out; o++)
            rc = apply_output(a, ti, -1, o, v);
        json_decref(v);
        return rc;
    }
    for (int32_t h = 0; !rc && h < r->n_hits; h++)
        for (int32_t o = 0; !rc && o < n_out; o++)
            rc = apply_output(a, ti, r->hits[h].rule, o,
                              json_object_get(r->hits[h].outputs, nq_dtable_output_name(t, o)));
    return rc;
}

static int run_table(applier *a, int32_t ti)
{
    const nq_dtable *t = a->req->tables[ti].table;
    nq_dtable_result r;
    int rc = nq_dtable_eval(t, a->facts, "/facts", &r, a->err);
    if (!rc) {
        json_t *j = nq_dtable_result_to_json(t, &r);
        if (!j || json_array_append_new(a->res->rules, j))
            rc = nq_err_set(a->err, NQ_ENOMEM, NULL, "out of memory");
    }
    if (!rc)
        rc = apply_result(a, ti, &r);
    nq_dtable_result_free(&r);
    return rc;
}

int nq__decision_apply_rules(const nq_decision_req *req, nq_cqm *m, nq_decision_res *res,
                             nq_err *err)
{
    if (req->n_tables == 0)
        return 0;
    res->rules = json_array();
    if (!res->rules)
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    /* A request built in C may leave the facts out: an empty object then. */
    json_t *none = req->facts ? NULL : json_object();
    applier a = {
        .req = req, .facts = req->facts ? req->facts : none, .m = m, .res = res, .err = err};
    int rc = a.facts ? 0 : nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    for (int32_t i = 0; !rc && i < req->n_tables; i++)
        rc = run_table(&a, i);
    json_decref(none);
    return rc;
}
