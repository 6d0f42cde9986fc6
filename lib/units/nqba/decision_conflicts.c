/* decision_conflicts.c - why a model is infeasible: a deletion filter finds
 * an irreducible infeasible subset (IIS) of the hard constraints, a set
 * that cannot hold together although any smaller part of it can.
 *
 * Start from every hard constraint; drop each in turn and test whether the
 * rest is still infeasible: if so it stays dropped, else it goes back.
 * What remains is irreducible provided every test was decided, so a test
 * that neither finds a feasible assignment nor proves there is none stops
 * the search and no subset is reported. Tests enumerate when the search
 * space is small and use the MILP solver otherwise, each for at most
 * NQ_DECISION_IIS_TEST_TIME seconds, all within the request's time limit. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "decision_internal.h"
#include "nqba/clock.h"

/* Enumerate below this many assignments (the solver's auto does too). */
#define EXACT_SPACE (1 << 16)

typedef enum verdict { FEASIBLE = 0, INFEASIBLE = 1, UNDECIDED = 2 } verdict;

/* ---- the subset model -------------------------------------------------------- */

static int copy_var(const nq_cqm_var *v, nq_cqm *out, nq_err *err)
{
    int i =
        v->kind == NQ_CQM_BINARY ? nq_cqm_add_binary(out, v->name, err)
        : v->kind == NQ_CQM_INTEGER
            ? nq_cqm_add_integer(out, v->name, v->lb, v->ub, err)
            : nq_cqm_add_choice(out, v->name, (const char *const *)v->labels, v->n_options, err);
    if (i < 0)
        return i;
    int rc = v->fixed ? nq_cqm_fix(out, i, v->fixed_value, err) : 0;
    for (int32_t k = 0; !rc && v->vetoed && k < v->n_options; k++)
        if (v->vetoed[k])
            rc = nq_cqm_veto(out, i, k, err);
    return rc;
}

static int copy_con(const nq_cqm_con *c, nq_cqm *out, nq_err *err)
{
    int k = nq_cqm_add_constraint(out, c->name, c->sense, c->rhs, 1, -1, err);
    if (k < 0)
        return k;
    int rc = 0;
    for (int32_t i = 0; !rc && i < c->e.n_lin; i++)
        rc = nq_cqm_con_linear(out, k, c->e.lin[i].atom, c->e.lin[i].w, err);
    for (int32_t i = 0; !rc && i < c->e.n_quad; i++)
        rc = nq_cqm_con_quadratic(out, k, c->e.quad[i].a, c->e.quad[i].b, c->e.quad[i].w, err);
    return rc;
}

/* Variables are added in the same order, so atoms keep their numbers and
 * the constraints' terms carry over as they are. */
int nq__decision_subset_model(const nq_cqm *m, const uint8_t *keep, nq_cqm *out, nq_err *err)
{
    nq_cqm_init(out);
    int rc = 0;
    for (int32_t v = 0; !rc && v < m->n_vars; v++)
        rc = copy_var(&m->vars[v], out, err);
    if (!rc && out->n_atoms != m->n_atoms)
        rc = nq_err_set(err, NQ_EINTERNAL, NULL, "subset model: atoms do not line up");
    for (int32_t c = 0; !rc && c < m->n_cons; c++)
        if (keep[c] && m->cons[c].hard)
            rc = copy_con(&m->cons[c], out, err);
    if (!rc)
        rc = nq_cqm_finish(out, err);
    if (rc)
        nq_cqm_free(out);
    return rc;
}

/* ---- the filter -------------------------------------------------------------- */

typedef struct filter {
    const nq_cqm *m;
    uint8_t *keep;
    const char *solver;
    double deadline;
    const atomic_int *cancel;
} filter;

/* Assignments within the bounds (a fixed variable counts once), or cap + 1
 * when there are more than cap. (The solver's own count is private to
 * lib/solve.) */
static int64_t space(const nq_cqm *m, int64_t cap)
{
    int64_t total = 1;
    for (int32_t v = 0; v < m->n_vars; v++) {
        const nq_cqm_var *var = &m->vars[v];
        int64_t span = var->fixed ? 1 : var->ub - var->lb + 1;
        if (span > cap || total > cap / span)
            return cap + 1;
        total *= span;
    }
    return total;
}

/* Out of memory is an error; any other failure (a model the MILP solver
 * cannot take, say) only leaves the test undecided. */
static int test(const filter *f, verdict *out, nq_err *err)
{
    *out = UNDECIDED;
    double left = f->deadline - nq_clock_s();
    if (left <= 0 || (f->cancel && atomic_load(f->cancel)))
        return 0;
    nq_cqm sub;
    int rc = nq__decision_subset_model(f->m, f->keep, &sub, err);
    if (rc)
        return rc;
    nq_cqm_opts o;
    nq_cqm_opts_default(&o);
    o.solver = f->solver;
    o.time_limit = fmin(NQ_DECISION_IIS_TEST_TIME, left);
    o.cancel_flag = f->cancel;
    nq_cqm_result r;
    nq_err e;
    rc = nq_cqm_solve(&sub, &o, NULL, NULL, &r, &e);
    if (!rc)
        *out = r.best.feasible ? FEASIBLE : r.proven_infeasible ? INFEASIBLE : UNDECIDED;
    nq_cqm_result_free(&r);
    nq_cqm_free(&sub);
    if (rc == NQ_ENOMEM)
        return nq_err_set(err, rc, NULL, "out of memory");
    return 0;
}

static void note(nq_decision_res *res, const char *text)
{
    snprintf(res->conflict_note, sizeof res->conflict_note, "%s", text);
}

/* Drop each kept constraint in turn; returns 0 with *decided = 0 when a
 * test is undecided. */
static int deletion_filter(filter *f, int *decided, nq_err *err)
{
    *decided = 0;
    for (int32_t c = 0; c < f->m->n_cons; c++) {
        if (!f->keep[c])
            continue;
        f->keep[c] = 0;
        verdict v;
        int rc = test(f, &v, err);
        if (rc || v == UNDECIDED)
            return rc;
        f->keep[c] = v == FEASIBLE;
    }
    *decided = 1;
    return 0;
}

static int keep_result(nq_decision_res *res, const uint8_t *keep, nq_err *err)
{
    const nq_cqm *m = &res->model;
    res->irreducible = calloc((size_t)m->n_cons + 1, sizeof *res->irreducible);
    if (!res->irreducible)
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    for (int32_t c = 0; c < m->n_cons; c++)
        if (keep[c])
            res->irreducible[res->n_irreducible++] = c;
    res->irreducible_known = 1;
    note(res, res->n_irreducible
                  ? "these hard constraints cannot all hold; without any one of them the "
                    "others can"
                  : "the variables' bounds, fixed values and vetoes alone leave no feasible "
                    "assignment");
    return 0;
}

/* First make sure the whole set is infeasible, unless the solve proved it. */
static int prove_infeasible(filter *f, nq_decision_res *res, int *ok, nq_err *err)
{
    *ok = res->proven;
    if (*ok)
        return 0;
    verdict v;
    int rc = test(f, &v, err);
    if (rc)
        return rc;
    if (v == FEASIBLE)
        note(res, "a feasible assignment exists, but the solver did not find one in its time "
                  "limit: try a longer time limit or another solver");
    else if (v == UNDECIDED)
        note(res, "infeasibility could not be proven in the time limit, so no irreducible "
                  "subset is given");
    res->proven = *ok = v == INFEASIBLE;
    return 0;
}

static int run_filter(filter *f, nq_decision_res *res, nq_err *err)
{
    int ok, rc = prove_infeasible(f, res, &ok, err);
    if (rc || !ok)
        return rc;
    rc = deletion_filter(f, &ok, err);
    if (rc)
        return rc;
    if (!ok) {
        note(res, "not every subset could be decided in the time limit, so no irreducible "
                  "subset is given");
        return 0;
    }
    return keep_result(res, f->keep, err);
}

int nq__decision_conflicts(nq_decision_res *res, const nq_decision_opts *o, nq_err *err)
{
    const nq_cqm *m = &res->model;
    int32_t n_hard = 0;
    for (int32_t c = 0; c < m->n_cons; c++)
        n_hard += m->cons[c].hard != 0;
    if (n_hard > NQ_DECISION_IIS_MAX_CONSTRAINTS) {
        snprintf(res->conflict_note, sizeof res->conflict_note,
                 "more than %d hard constraints: no irreducible subset was searched for",
                 NQ_DECISION_IIS_MAX_CONSTRAINTS);
        return 0;
    }
    filter f = {.m = m, .keep = calloc((size_t)m->n_cons + 1, 1)};
    if (!f.keep)
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    for (int32_t c = 0; c < m->n_cons; c++)
        f.keep[c] = m->cons[c].hard != 0;
    f.solver = space(m, EXACT_SPACE) <= EXACT_SPACE ? "exact" : "milp";
    f.deadline = nq_clock_s() + (o->time_limit > 0 ? o->time_limit : 1.0);
    f.cancel = o->cancel_flag;
    int rc = run_filter(&f, res, err);
    free(f.keep);
    return rc;
}
