/* decision_parse.c - the decision request: the model (read by
 * nq_cqm_from_json from the same object), decision tables, facts, options,
 * a baseline assignment, and the request's free functions.
 *
 * Everything is checked here, before anything is solved, so that a request
 * that runs has a model, tables whose actions name real targets and
 * options the solver accepts. */
#include <stdlib.h>
#include <string.h>

#include "decision_internal.h"

static const char *const TOP_KEYS[] = {"variables",   "objective", "constraints", "rules",
                                       "facts",       "options",   "baseline",    "name",
                                       "description", NULL};
static const char *const OPT_KEYS[] = {"solver",       "time_limit",     "seed",
                                       "alternatives", "max_iterations", NULL};
static const char *const SOLVERS[] = {"auto", "native", "exact", "milp", "sa",
                                      "tabu", "pt",     "sb",    NULL};

void nq_decision_opts_default(nq_decision_opts *o)
{
    memset(o, 0, sizeof *o);
    snprintf(o->solver, sizeof o->solver, "auto");
    o->seed = 1;
}

int nq_decision_solver_known(const char *name)
{
    for (int i = 0; name && SOLVERS[i]; i++)
        if (strcmp(name, SOLVERS[i]) == 0)
            return 1;
    return 0;
}

void nq_decision_req_init(nq_decision_req *req)
{
    memset(req, 0, sizeof *req);
    nq_cqm_init(&req->model);
    nq_decision_opts_default(&req->opts);
}

void nq_decision_req_free(nq_decision_req *req)
{
    if (!req)
        return;
    free(req->name);
    free(req->description);
    nq_cqm_free(&req->model);
    for (int32_t i = 0; i < req->n_tables; i++) {
        nq_dtable_free(req->tables[i].table);
        free(req->tables[i].actions);
    }
    free(req->tables);
    json_decref(req->facts);
    free(req->baseline);
    nq_decision_req_init(req);
}

static int oom(nq_err *err)
{
    return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
}

static int read_text(const json_t *doc, const char *key, size_t max, char **out, nq_err *err)
{
    const char *s = NULL;
    int rc = nq_json_get_string(doc, "", key, 0, max, &s, err);
    if (rc || !s)
        return rc;
    *out = strdup(s);
    return *out ? 0 : oom(err);
}

/* Tables without variables make a pure policy decision; the model reader
 * requires "variables", so it is skipped then, after the same key check. */
static int read_model(const json_t *doc, nq_decision_req *req, nq_err *err)
{
    if (!json_is_object(doc))
        return nq_err_set(err, NQ_EINVAL, "", "expected an object, got %s", nq_json_type_name(doc));
    if (!json_object_get(doc, "variables") && !json_object_get(doc, "objective") &&
        !json_object_get(doc, "constraints") && json_object_get(doc, "rules"))
        return nq_json_check_keys(doc, "", TOP_KEYS, err);
    return nq_cqm_from_json(doc, "", &req->model, err);
}

static int read_solver(const json_t *opts, nq_decision_opts *o, nq_err *err)
{
    const char *s = NULL;
    int rc = nq_json_get_string(opts, "/options", "solver", 0, NQ_CQM_MAX_NAME, &s, err);
    if (rc || !s)
        return rc;
    if (!nq_decision_solver_known(s))
        return nq_err_set(err, NQ_EINVAL, "/options/solver",
                          "unknown solver '%s' (auto, native, exact, milp, sa, tabu, pt, sb)", s);
    snprintf(o->solver, sizeof o->solver, "%s", s);
    return 0;
}

static int read_time_limit(const json_t *opts, nq_decision_opts *o, nq_err *err)
{
    double t = 0;
    int rc = nq_json_get_number(opts, "/options", "time_limit", 0, &t, err);
    if (rc || !json_object_get(opts, "time_limit"))
        return rc;
    if (!(t > 0 && t <= NQ_DECISION_MAX_TIME))
        return nq_err_set(err, NQ_ERANGE, "/options/time_limit", "must be in (0, %g] seconds",
                          NQ_DECISION_MAX_TIME);
    o->time_limit = t;
    return 0;
}

static int read_options(const json_t *doc, nq_decision_opts *o, nq_err *err)
{
    json_t *opts = NULL;
    int rc = nq_json_get_typed(doc, "", "options", 0, JSON_OBJECT, &opts, err);
    if (rc || !opts)
        return rc;
    int64_t seed = (int64_t)o->seed, alts = o->alternatives;
    if ((rc = nq_json_check_keys(opts, "/options", OPT_KEYS, err)) ||
        (rc = read_solver(opts, o, err)) || (rc = read_time_limit(opts, o, err)) ||
        (rc = nq_json_get_int(opts, "/options", "seed", 0, 0, INT64_MAX, &seed, err)) ||
        (rc = nq_json_get_int(opts, "/options", "alternatives", 0, 0, NQ_CQM_MAX_ALTERNATIVES,
                              &alts, err)) ||
        (rc = nq_json_get_int(opts, "/options", "max_iterations", 0, 0, INT64_MAX,
                              &o->max_iterations, err)))
        return rc;
    o->seed = (uint64_t)seed;
    o->alternatives = (int32_t)alts;
    return 0;
}

static int add_table(nq_decision_req *req, const json_t *obj, const char *ptr, nq_err *err)
{
    nq_decision_table *t = &req->tables[req->n_tables];
    int rc = nq_dtable_parse(obj, ptr, &t->table, err);
    if (rc)
        return rc;
    snprintf(t->ptr, sizeof t->ptr, "%s", ptr);
    req->n_tables++;
    return nq__decision_parse_actions(t, &req->model, err);
}

/* "rules": one table, or an array of tables applied in order. */
static int read_tables(const json_t *doc, nq_decision_req *req, nq_err *err)
{
    json_t *rules = json_object_get(doc, "rules");
    if (!rules)
        return 0;
    if (!json_is_object(rules) && !json_is_array(rules))
        return nq_err_set(err, NQ_EINVAL, "/rules",
                          "expected a decision table or an array of them, got %s",
                          nq_json_type_name(rules));
    size_t n = json_is_object(rules) ? 1 : json_array_size(rules);
    if (n > NQ_DECISION_MAX_TABLES)
        return nq_err_set(err, NQ_ELIMIT, "/rules", "more than %d decision tables",
                          NQ_DECISION_MAX_TABLES);
    req->tables = calloc(n ? n : 1, sizeof *req->tables);
    if (!req->tables)
        return oom(err);
    if (json_is_object(rules))
        return add_table(req, rules, "/rules", err);
    for (size_t i = 0; i < n; i++) {
        char ptr[NQ_JSON_PTR_MAX];
        nq_json_ptr_index(ptr, "/rules", i);
        int rc = add_table(req, json_array_get(rules, i), ptr, err);
        if (rc)
            return rc;
    }
    return 0;
}

/* The request keeps its own copy so that it does not share reference
 * counts with the caller's document (jansson's are not thread-safe). */
static int read_facts(const json_t *doc, nq_decision_req *req, nq_err *err)
{
    json_t *facts = NULL;
    int rc = nq_json_get_typed(doc, "", "facts", 0, JSON_OBJECT, &facts, err);
    if (rc)
        return rc;
    req->facts = facts ? json_deep_copy(facts) : json_object();
    return req->facts ? 0 : oom(err);
}

/* Variables the baseline leaves out are 0 (or the bound nearest 0), or
 * their fixed value. */
static void baseline_defaults(const nq_cqm *m, int64_t *values)
{
    for (int32_t i = 0; i < m->n_vars; i++) {
        const nq_cqm_var *v = &m->vars[i];
        values[i] = v->fixed ? v->fixed_value : v->lb > 0 ? v->lb : v->ub < 0 ? v->ub : 0;
    }
}

/* A choice has no such default, so it must be named. */
static int baseline_choices(const nq_cqm *m, const json_t *b, nq_err *err)
{
    for (int32_t i = 0; i < m->n_vars; i++) {
        const nq_cqm_var *v = &m->vars[i];
        if (v->kind == NQ_CQM_CHOICE && !v->fixed && !json_object_get(b, v->name))
            return nq_err_set(err, NQ_EINVAL, "/baseline",
                              "choice variable '%s' is missing: a baseline must name every "
                              "choice variable",
                              v->name);
    }
    return 0;
}

static int read_baseline(const json_t *doc, nq_decision_req *req, nq_err *err)
{
    json_t *b = NULL;
    int rc = nq_json_get_typed(doc, "", "baseline", 0, JSON_OBJECT, &b, err);
    if (rc || !b)
        return rc;
    const nq_cqm *m = &req->model;
    req->baseline = calloc((size_t)m->n_vars + 1, sizeof *req->baseline);
    if (!req->baseline)
        return oom(err);
    baseline_defaults(m, req->baseline);
    rc = nq_cqm_values_from_json(m, b, "/baseline", req->baseline, err);
    return rc ? rc : baseline_choices(m, b, err);
}

int nq_decision_parse(const json_t *doc, nq_decision_req *req, nq_err *err)
{
    nq_decision_req_init(req);
    int rc = read_model(doc, req, err);
    if (!rc)
        rc = read_text(doc, "name", NQ_CQM_MAX_NAME, &req->name, err);
    if (!rc)
        rc = read_text(doc, "description", NQ_DECISION_MAX_TEXT, &req->description, err);
    if (!rc)
        rc = read_options(doc, &req->opts, err);
    if (!rc)
        rc = read_tables(doc, req, err);
    if (!rc)
        rc = read_facts(doc, req, err);
    if (!rc)
        rc = read_baseline(doc, req, err);
    if (rc)
        nq_decision_req_free(req);
    return rc;
}

int nq_decision_req_from_cqm(nq_cqm *model, nq_decision_req *req, nq_err *err)
{
    nq_decision_req_init(req);
    req->facts = json_object();
    if (!req->facts)
        return oom(err);
    req->model = *model;
    nq_cqm_init(model);
    return 0;
}
