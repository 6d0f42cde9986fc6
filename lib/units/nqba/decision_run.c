/* decision_run.c - running a decision: apply the rules to a copy of the
 * model, solve it, evaluate the answer, its alternatives and the baseline
 * exactly, and explain an infeasible answer.
 *
 * Feasibility always comes from nq_cqm_evaluate on the model that was
 * solved, never from the solver's own bookkeeping, so an answer the solver
 * got wrong is reported infeasible rather than presented as a decision. */
#include <stdlib.h>
#include <string.h>

#include "decision_internal.h"

static void res_init(nq_decision_res *res)
{
    memset(res, 0, sizeof *res);
    nq_cqm_init(&res->model);
}

void nq_decision_res_free(nq_decision_res *res)
{
    if (!res)
        return;
    free(res->name);
    free(res->description);
    nq_cqm_free(&res->model);
    nq_cqm_result_free(&res->solve);
    nq_cqm_eval_free(&res->best);
    free(res->alt_objective);
    free(res->baseline);
    nq_cqm_eval_free(&res->base);
    json_decref(res->rules);
    for (int32_t i = 0; i < res->n_actions; i++)
        json_decref(res->actions[i].value);
    free(res->actions);
    free(res->irreducible);
    res_init(res);
}

const char *nq_decision_status_name(nq_decision_status s)
{
    switch (s) {
    case NQ_DECISION_OPTIMAL:
        return "optimal";
    case NQ_DECISION_FEASIBLE:
        return "feasible";
    case NQ_DECISION_INFEASIBLE:
        return "infeasible";
    case NQ_DECISION_POLICY:
        return "policy";
    }
    return "unknown";
}

static int oom(nq_err *err)
{
    return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
}

static int copy_text(const char *s, char **out, nq_err *err)
{
    if (!s)
        return 0;
    *out = strdup(s);
    return *out ? 0 : oom(err);
}

/* ---- evaluation ------------------------------------------------------------ */

/* The model without fixes and vetoes. An assignment that breaks a rule's
 * fix or veto has no figures on the model itself (nq_cqm_evaluate stops at
 * the domain check); on this copy it does, and the figures are the same
 * for every assignment that keeps them. */
static int relaxed_copy(const nq_cqm *m, nq_cqm *out, nq_err *err)
{
    int rc = nq_cqm_copy(m, out, err);
    if (rc)
        return rc;
    for (int32_t i = 0; i < out->n_vars; i++) {
        out->vars[i].fixed = 0;
        free(out->vars[i].vetoed);
        out->vars[i].vetoed = NULL;
    }
    return 0;
}

/* figures from the relaxed model; feasibility (and the first variable
 * outside its domain) from the real one. */
static int evaluate(const nq_cqm *m, const nq_cqm *relaxed, const int64_t *values,
                    nq_cqm_eval *figures, int *feasible, char *bad, size_t cap, nq_err *err)
{
    if (relaxed == m) { /* nothing fixed or vetoed: one evaluation tells both */
        int rc = nq_cqm_evaluate(m, values, figures, err);
        if (rc)
            return rc;
        *feasible = figures->feasible;
        if (bad)
            snprintf(bad, cap, "%s", figures->bad_var);
        return 0;
    }
    nq_cqm_eval real;
    int rc = nq_cqm_evaluate(m, values, &real, err);
    if (rc)
        return rc;
    *feasible = real.feasible;
    if (bad)
        snprintf(bad, cap, "%s", real.bad_var);
    nq_cqm_eval_free(&real);
    return nq_cqm_evaluate(relaxed, values, figures, err);
}

/* Alternatives are the solver's distinct feasible answers; one that fails
 * the exact evaluation is dropped, like the solver drops such a best. */
static int evaluate_alts(nq_decision_res *res, const nq_cqm *relaxed, nq_err *err)
{
    nq_cqm_result *s = &res->solve;
    res->alt_objective = calloc((size_t)s->n_alts + 1, sizeof *res->alt_objective);
    if (!res->alt_objective)
        return oom(err);
    int32_t k = 0;
    for (int32_t i = 0; i < s->n_alts; i++) {
        nq_cqm_eval ev;
        int feasible = 0;
        int rc = evaluate(&res->model, relaxed, s->alts[i].values, &ev, &feasible, NULL, 0, err);
        double objective = ev.objective;
        nq_cqm_eval_free(&ev);
        if (rc)
            return rc;
        if (!feasible) {
            free(s->alts[i].values);
            continue;
        }
        s->alts[k] = s->alts[i];
        res->alt_objective[k++] = objective;
    }
    s->n_alts = k;
    return 0;
}

/* Does the model fix or veto anything? Without, it is its own relaxed
 * model and needs no copy. */
static int has_fixes(const nq_cqm *m)
{
    for (int32_t i = 0; i < m->n_vars; i++)
        if (m->vars[i].fixed || m->vars[i].vetoed)
            return 1;
    return 0;
}

static int evaluate_all(const nq_decision_req *req, nq_decision_res *res, nq_err *err)
{
    nq_cqm copy;
    const nq_cqm *relaxed = &res->model;
    int copied = has_fixes(&res->model);
    int rc = copied ? relaxed_copy(&res->model, &copy, err) : 0;
    if (rc)
        return rc;
    if (copied)
        relaxed = &copy;
    rc = evaluate(&res->model, relaxed, res->solve.best.values, &res->best, &res->best_feasible,
                  res->best_bad_var, sizeof res->best_bad_var, err);
    if (!rc)
        rc = evaluate_alts(res, relaxed, err);
    if (!rc && req->baseline) {
        size_t bytes = ((size_t)res->model.n_vars + 1) * sizeof *res->baseline;
        res->baseline = malloc(bytes);
        rc = res->baseline ? 0 : oom(err);
        if (!rc) {
            memcpy(res->baseline, req->baseline, bytes - sizeof *res->baseline);
            res->has_baseline = 1;
            rc = evaluate(&res->model, relaxed, res->baseline, &res->base, &res->base_feasible,
                          res->base_bad_var, sizeof res->base_bad_var, err);
        }
    }
    if (copied)
        nq_cqm_free(&copy);
    return rc;
}

/* ---- solving --------------------------------------------------------------- */

static int solve(const nq_decision_req *req, nq_progress_fn cb, void *user, nq_decision_res *res,
                 nq_err *err)
{
    nq_cqm_opts o;
    nq_cqm_opts_default(&o);
    o.solver = req->opts.solver[0] ? req->opts.solver : "auto";
    o.seed = req->opts.seed;
    o.time_limit = req->opts.time_limit;
    o.alternatives = req->opts.alternatives;
    o.max_iterations = req->opts.max_iterations;
    o.cancel_flag = req->opts.cancel_flag;
    return nq_cqm_solve(&res->model, &o, cb, user, &res->solve, err);
}

static void set_status(nq_decision_res *res)
{
    if (res->best_feasible) {
        res->proven = res->solve.proven_optimal;
        res->status = res->proven ? NQ_DECISION_OPTIMAL : NQ_DECISION_FEASIBLE;
    } else {
        res->proven = res->solve.proven_infeasible;
        res->status = NQ_DECISION_INFEASIBLE;
    }
}

static int run(const nq_decision_req *req, nq_progress_fn cb, void *user, nq_decision_res *res,
               nq_err *err)
{
    int rc = copy_text(req->name, &res->name, err);
    if (!rc)
        rc = copy_text(req->description, &res->description, err);
    if (!rc)
        rc = nq_cqm_copy(&req->model, &res->model, err);
    if (!rc)
        rc = nq__decision_apply_rules(req, &res->model, res, err);
    if (!rc)
        rc = nq_cqm_finish(&res->model, err);
    if (rc)
        return rc;
    if (res->model.n_vars == 0 && res->model.n_cons == 0) {
        res->status = NQ_DECISION_POLICY;
        return 0;
    }
    if ((rc = solve(req, cb, user, res, err)) || (rc = evaluate_all(req, res, err)))
        return rc;
    set_status(res);
    if (res->status == NQ_DECISION_INFEASIBLE)
        rc = nq__decision_conflicts(res, &req->opts, err);
    return rc;
}

int nq_decision_run(const nq_decision_req *req, nq_progress_fn cb, void *user, nq_decision_res *res,
                    nq_err *err)
{
    res_init(res);
    if (!req)
        return nq_err_set(err, NQ_EINVAL, NULL, "no request");
    int rc = run(req, cb, user, res, err);
    if (rc)
        nq_decision_res_free(res);
    return rc;
}
