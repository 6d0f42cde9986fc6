/* cqm_solve.c - the constrained-model solver: picks the method, runs it on
 * a finished copy of the model, and builds the answer. Every answer is
 * re-evaluated exactly on the model before it is called feasible. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cqm_exact.h"
#include "cqm_milp_seed.h"
#include "cqm_qubo.h"
#include "cqm_search.h"
#include "nqba/clock.h"

/* auto enumerates when the space is at most this many assignments. */
#define AUTO_EXACT_STATES (1 << 16)
/* Native search: stop after this many restarts without a new best. */
#define STALL_RESTARTS 30

void nq_cqm_opts_default(nq_cqm_opts *o)
{
    memset(o, 0, sizeof *o);
    o->solver = "auto";
}

void nq_cqm_result_free(nq_cqm_result *r)
{
    if (!r)
        return;
    free(r->best.values);
    for (int32_t i = 0; i < r->n_alts; i++)
        free(r->alts[i].values);
    free(r->alts);
    memset(r, 0, sizeof *r);
}

static const char *const SOLVERS[] = { "auto", "native", "exact", "milp", "sa", "tabu", "pt",
                                       "sb", NULL };

static int check_opts(const nq_cqm_opts *o, nq_err *err)
{
    const char *s = o->solver ? o->solver : "auto";
    int known = 0;
    for (int i = 0; SOLVERS[i]; i++)
        known |= strcmp(s, SOLVERS[i]) == 0;
    if (!known)
        return nq_err_set(err, NQ_EINVAL, "/options/solver",
                          "unknown solver '%.32s' (auto, native, exact, milp, sa, tabu, pt, sb)",
                          s);
    if (!isfinite(o->time_limit) || o->time_limit < 0 || o->time_limit > 86400)
        return nq_err_set(err, NQ_ERANGE, "/options/time_limit", "must be in [0, 86400] seconds");
    if (o->alternatives < 0 || o->alternatives > NQ_CQM_MAX_ALTERNATIVES)
        return nq_err_set(err, NQ_ERANGE, "/options/alternatives", "must be in [0, %d]",
                          NQ_CQM_MAX_ALTERNATIVES);
    if (o->max_iterations < 0)
        return nq_err_set(err, NQ_ERANGE, "/options/max_iterations", "must be >= 0");
    return 0;
}

typedef struct run {
    const nq_cqm *m;
    const nq_cqm_opts *o;
    nq__cqm_index ix;
    nq__cqm_pool pool;
    nq__cqm_search_opts so;
    nq__cqm_search_out sout;
    nq_cqm_result *res;
} run;

static int run_native(run *r, double deadline, const int64_t *start)
{
    nq__cqm_search_opts so = r->so;
    nq__cqm_search_out out = { .least = r->sout.least };
    so.deadline = deadline;
    so.start = start;
    /* With a stated time limit the search uses all of it; without one it
     * stops on stagnation (capped at the default second), which keeps
     * small models fast and answers reproducible. */
    so.stall_restarts = r->o->time_limit > 0 ? 0 : STALL_RESTARTS;
    double before = r->pool.n ? r->pool.score[0] : INFINITY;
    int rc = nq__cqm_search(&r->ix, &so, &r->pool, &out);
    if (r->pool.n && r->pool.score[0] < before)
        r->sout.time_to_best = out.time_to_best;
    r->sout.iterations += out.iterations;
    r->sout.timed_out |= out.timed_out;
    r->sout.cancelled |= out.cancelled;
    if (out.least_viol < r->sout.least_viol) {
        r->sout.least_viol = out.least_viol;
        r->sout.least_total = out.least_total;
    }
    return rc;
}

static int run_exact(run *r, nq_err *err)
{
    if (nq__cqm_space(r->m, NQ_CQM_EXACT_MAX_STATES) > NQ_CQM_EXACT_MAX_STATES)
        return nq_err_set(err, NQ_ELIMIT, "/options/solver",
                          "exact: more than %lld assignments to enumerate",
                          (long long)NQ_CQM_EXACT_MAX_STATES);
    int infeasible = 0;
    int rc = nq__cqm_exact(&r->ix, &r->so, &r->pool, &r->sout, &infeasible);
    r->res->proven_infeasible = infeasible;
    r->res->proven_optimal = !rc && r->pool.n > 0 && !r->sout.cancelled && !r->sout.timed_out;
    snprintf(r->res->found_by, sizeof r->res->found_by, "exact");
    return rc;
}

static int run_milp(run *r, double limit, nq_err *err)
{
    nq_milp_result mr = { 0 };
    int rc = nq__cqm_solve_milp_ix(r->m, &r->ix, limit, &mr, err);
    if (rc)
        return rc;
    if (mr.status == 0 || mr.status == 1) {
        nq_cqm_eval ev;
        rc = nq_cqm_evaluate(r->m, mr.values, &ev, err);
        if (!rc && ev.feasible)
            nq__cqm_pool_offer(&r->pool, 0, ev.score, mr.values);
        nq_cqm_eval_free(&ev);
    }
    r->res->proven_optimal = mr.status == 0;
    r->res->proven_infeasible = mr.status == 2;
    r->sout.timed_out = mr.status == 1 || mr.status == 3;
    snprintf(r->res->found_by, sizeof r->res->found_by, "milp");
    nq_milp_result_free(&mr);
    return rc;
}

/* auto and the engine solvers: the QUBO path (when the constraints are
 * linear), then the native search from the best answer so far. */
static int run_heuristic(run *r, const char *solver, double deadline, nq_err *err)
{
    int qubo_only = strcmp(solver, "auto") != 0 && strcmp(solver, "native") != 0;
    int use_qubo = qubo_only || (strcmp(solver, "auto") == 0 && nq__cqm_qubo_supported(r->m));
    if (qubo_only && !nq__cqm_qubo_supported(r->m))
        return nq_err_set(err, NQ_EINVAL, "/options/solver",
                          "%s needs a QUBO: quadratic constraints cannot be compiled; use "
                          "auto or native", solver);
    double total = deadline - nq_clock_s();
    int rc = 0;
    double before = INFINITY;
    if (use_qubo) {
        double budget = qubo_only ? total * 0.8 : total * 0.2;
        rc = nq__cqm_qpath(r->m, &r->ix, r->o, &r->so, budget, &r->pool, &r->sout,
                           &r->res->penalty_rounds, &r->res->qubo_vars, err);
        before = r->pool.n ? r->pool.score[0] : INFINITY;
        r->sout.time_to_best = nq_clock_s() - r->so.t0;
        snprintf(r->res->found_by, sizeof r->res->found_by, "qubo-%s",
                 strcmp(solver, "auto") == 0 ? "sa" : solver);
    }
    if (!rc)
        rc = run_native(r, deadline, r->pool.n ? r->pool.vals : NULL);
    if (!use_qubo || (r->pool.n && r->pool.score[0] < before) ||
        (!r->pool.n && !isfinite(before)))
        snprintf(r->res->found_by, sizeof r->res->found_by, "native");
    return rc;
}

static int fill_solution(const nq_cqm *m, const int64_t *vals, nq_cqm_solution *s, nq_err *err)
{
    nq_cqm_eval ev;
    s->values = malloc(((size_t)m->n_vars + 1) * sizeof *s->values);
    if (!s->values)
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    memcpy(s->values, vals, (size_t)m->n_vars * sizeof *vals);
    int rc = nq_cqm_evaluate(m, s->values, &ev, err);
    if (rc)
        return rc;
    s->objective = ev.objective;
    s->score = ev.score;
    s->feasible = ev.feasible;
    nq_cqm_eval_free(&ev);
    return 0;
}

/* Best = the first pool entry that survives exact evaluation, else the
 * least violated state seen; then the distinct feasible alternatives. */
static int build_answer(run *r, nq_err *err)
{
    nq_cqm_result *res = r->res;
    size_t nv = (size_t)r->m->n_vars;
    int32_t i = 0, rc = 0;
    for (; i < r->pool.n && !res->best.values; i++) {
        if ((rc = fill_solution(r->m, r->pool.vals + (size_t)i * nv, &res->best, err)))
            return rc;
        if (!res->best.feasible) { /* rounding made the search too lenient */
            free(res->best.values);
            res->best.values = NULL;
        }
    }
    if (!res->best.values) {
        res->proven_optimal = 0;
        return fill_solution(r->m, r->sout.least, &res->best, err);
    }
    res->alts = calloc((size_t)(r->pool.n > 0 ? r->pool.n : 1), sizeof *res->alts);
    if (!res->alts)
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    for (; i < r->pool.n && res->n_alts < r->o->alternatives; i++) {
        nq_cqm_solution *s = &res->alts[res->n_alts];
        if ((rc = fill_solution(r->m, r->pool.vals + (size_t)i * nv, s, err)))
            return rc;
        if (s->feasible)
            res->n_alts++;
        else
            free(s->values);
    }
    return 0;
}

static int setup(run *r, const nq_cqm *m, const nq_cqm_opts *o, nq_progress_fn cb, void *user,
                 nq_err *err)
{
    int rc = nq__cqm_index_build(m, &r->ix, err);
    if (rc)
        return rc;
    if (nq__cqm_pool_init(&r->pool, o->alternatives + 1, m->n_vars))
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    r->sout.least = malloc(((size_t)m->n_vars + 1) * sizeof *r->sout.least);
    if (!r->sout.least)
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    for (int32_t v = 0; v < m->n_vars; v++) /* fallback when nothing was visited */
        r->sout.least[v] = nq__cqm_start_value(&m->vars[v]);
    r->sout.least_viol = INT32_MAX;
    r->sout.least_total = INFINITY;
    r->so.seed = o->seed;
    r->so.t0 = nq_clock_s();
    r->so.max_iter = o->max_iterations;
    r->so.cancel = o->cancel_flag;
    r->so.cb = cb;
    r->so.user = user;
    return 0;
}

static int dispatch(run *r, nq_err *err)
{
    const char *solver = r->o->solver ? r->o->solver : "auto";
    double limit = r->o->time_limit > 0 ? r->o->time_limit : 1.0;
    double deadline = r->so.t0 + limit;
    /* Enumeration honours only a stated limit: without one it runs to the
     * end, since its answer is a proof. */
    if (r->o->time_limit > 0)
        r->so.deadline = deadline;
    if (strcmp(solver, "exact") == 0 ||
        (strcmp(solver, "auto") == 0 && nq__cqm_space(r->m, AUTO_EXACT_STATES) <= AUTO_EXACT_STATES))
        return run_exact(r, err);
    if (strcmp(solver, "milp") == 0)
        return run_milp(r, limit, err);
    return run_heuristic(r, solver, deadline, err);
}

int nq_cqm_solve(const nq_cqm *model, const nq_cqm_opts *o, nq_progress_fn cb, void *user,
                 nq_cqm_result *out, nq_err *err)
{
    memset(out, 0, sizeof *out);
    int rc = check_opts(o, err);
    if (rc)
        return rc;
    nq_cqm m;
    if ((rc = nq_cqm_copy(model, &m, err)) || (rc = nq_cqm_finish(&m, err))) {
        nq_cqm_free(&m);
        return rc;
    }
    run r = { .m = &m, .o = o, .res = out };
    snprintf(out->solver, sizeof out->solver, "%s", o->solver ? o->solver : "auto");
    out->n_vars = m.n_vars;
    rc = setup(&r, &m, o, cb, user, err);
    if (!rc)
        rc = dispatch(&r, err);
    if (!rc)
        rc = build_answer(&r, err);
    out->elapsed = nq_clock_s() - r.so.t0;
    out->time_to_best = r.sout.time_to_best;
    out->iterations = r.sout.iterations;
    out->timed_out = r.sout.timed_out;
    out->cancelled = r.sout.cancelled;
    free(r.sout.least);
    nq__cqm_pool_free(&r.pool);
    nq__cqm_index_free(&r.ix);
    nq_cqm_free(&m);
    if (rc)
        nq_cqm_result_free(out);
    return rc;
}
