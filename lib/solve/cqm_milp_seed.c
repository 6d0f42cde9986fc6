/* cqm_milp_seed.c - a first integer point for GLPK's branch and bound.
 *
 * GLPK's own rounding heuristic rounds a node's fractional columns only in
 * directions that keep every row satisfied and never moves an integral
 * one, so a knapsack's room left after rounding down stays unused, and the
 * search explores nodes a better incumbent would have cut. This starts
 * from the relaxation's optimum rounded down (a choice takes its option
 * with the largest share), or rounded up where rounding down breaks a hard
 * constraint (a covering row), repairs what is still violated with single
 * moves, then takes the best improving single move while one is left.
 * A move sets one variable to one other value: a binary flipped, an
 * integer one step up or down, a choice switched to another option.
 *
 * Single moves stop short where the optimum trades several items for
 * others (a knapsack's best answer often swaps two items near the LP's
 * break point for one). Those items are the ones whose reduced costs are
 * nearest zero: the core. Every assignment of the SEED_CORE binaries of
 * the core is then tried (a Gray code, one flip per assignment), the rest
 * held, and single moves polish the best.
 *
 * The work is bounded: SEED_SCANS times the moves of one pass over the
 * variables, and 2^SEED_CORE flips, so a model GLPK solves in a few
 * hundred microseconds pays a few microseconds. The point only has to be
 * feasible; GLPK proves optimality as before. */
#include <math.h>
#include <stdlib.h>

#include "cqm_milp_seed.h"
#include "cqm_state.h"

#define SEED_SCANS 4 /* passes' worth of move evaluations per seed, all phases */
#define SEED_CORE 6  /* binaries of the core enumerated together */

typedef struct seed_move {
    int32_t var;
    int64_t value;
    nq__cqm_delta d;
} seed_move;

static double score(const nq__cqm_state *st)
{
    return st->obj + st->soft;
}

/* The value of v next to its relaxation, below (up = 0) or above (up = 1);
 * tol absorbs the LP's rounding noise. A choice takes its option with the
 * largest share either way. Falls back to the allowed start value. */
static int64_t round_var(const nq_cqm_var *v, const double *lp, int up)
{
    if (v->fixed)
        return v->fixed_value;
    int64_t r;
    if (v->kind == NQ_CQM_CHOICE) {
        r = -1;
        for (int32_t k = 0; k < v->n_options; k++)
            if (nq__cqm_allowed(v, k) && (r < 0 || lp[v->atom + k] > lp[v->atom + r]))
                r = k;
        return r < 0 ? nq__cqm_start_value(v) : r;
    }
    double x = up ? ceil(lp[v->atom] - 1e-6) : floor(lp[v->atom] + 1e-6);
    r = x < (double)v->lb ? v->lb : x > (double)v->ub ? v->ub : (int64_t)x;
    return nq__cqm_allowed(v, r) ? r : nq__cqm_start_value(v);
}

/* The moves of v from its current value, in order: f(st, v, nv, arg) for
 * each; stops early when f returns nonzero or the budget runs out. */
static int each_move(nq__cqm_state *st, int32_t v, long *evals,
                     int (*f)(nq__cqm_state *, int32_t, int64_t, void *), void *arg)
{
    const nq_cqm_var *var = &st->m->vars[v];
    if (var->fixed)
        return 0;
    int64_t cur = st->val[v];
    int64_t lo = var->kind == NQ_CQM_INTEGER ? cur - 1 : var->lb;
    int64_t hi = var->kind == NQ_CQM_INTEGER ? cur + 1 : var->ub;
    for (int64_t nv = lo; nv <= hi && *evals > 0; nv++) {
        if (nv == cur || !nq__cqm_allowed(var, nv))
            continue;
        --*evals;
        if (f(st, v, nv, arg))
            return 1;
    }
    return 0;
}

/* Repair: the move that most reduces the violation of the hard
 * constraints (fewer violated ones first), ties to the better score. */
static int consider_repair(nq__cqm_state *st, int32_t v, int64_t nv, void *arg)
{
    seed_move *best = arg, mv = {.var = v, .value = nv};
    nq__cqm_state_eval(st, v, nv, &mv.d);
    int better =
        best->var < 0 || mv.d.n_viol < best->d.n_viol ||
        (mv.d.n_viol == best->d.n_viol &&
         (mv.d.hard_pen < best->d.hard_pen || (mv.d.hard_pen == best->d.hard_pen &&
                                               mv.d.obj + mv.d.soft < best->d.obj + best->d.soft)));
    if (better)
        *best = mv;
    return 0;
}

/* Best single repair moves while a hard constraint is violated and a move
 * reduces the violation. */
static void repair(nq__cqm_state *st, long *evals)
{
    while (st->n_viol > 0 && *evals > 0) {
        seed_move best = {.var = -1};
        for (int32_t v = 0; v < st->m->n_vars; v++)
            each_move(st, v, evals, consider_repair, &best); /* stops at no budget */
        if (best.var < 0 || !(best.d.n_viol < 0 || best.d.hard_pen < -1e-12))
            return;
        nq__cqm_state_apply(st, best.var, best.value);
    }
}

/* Improve: the move that lowers the score most and keeps every hard
 * constraint satisfied. */
static int consider_improvement(nq__cqm_state *st, int32_t v, int64_t nv, void *arg)
{
    seed_move *best = arg, mv = {.var = v, .value = nv};
    nq__cqm_state_eval(st, v, nv, &mv.d);
    if (mv.d.n_viol <= 0 && mv.d.obj + mv.d.soft < best->d.obj + best->d.soft)
        *best = mv;
    return 0;
}

/* The best improving single move while one is left (steepest descent:
 * on a knapsack it adds the most valuable item that fits, which leaves
 * the core to decide the rest). */
static void improve(nq__cqm_state *st, long *evals)
{
    while (*evals > 0) {
        seed_move best = {.var = -1, .d.obj = -1e-9 * (1.0 + fabs(score(st)))};
        for (int32_t v = 0; v < st->m->n_vars; v++)
            each_move(st, v, evals, consider_improvement, &best);
        if (best.var < 0)
            return;
        nq__cqm_state_apply(st, best.var, best.value);
    }
}

/* Up to SEED_CORE free binaries with the reduced costs nearest zero, in
 * that order (a partial insertion sort: the core is small). */
static int pick_core(const nq_cqm *m, const double *rc, int32_t core[SEED_CORE])
{
    int n = 0;
    for (int32_t v = 0; v < m->n_vars; v++) {
        const nq_cqm_var *var = &m->vars[v];
        if (var->kind != NQ_CQM_BINARY || var->fixed)
            continue;
        double d = fabs(rc[var->atom]);
        int at = n < SEED_CORE ? n++ : SEED_CORE;
        while (at > 0 && fabs(rc[m->vars[core[at - 1]].atom]) > d) {
            if (at < SEED_CORE)
                core[at] = core[at - 1];
            at--;
        }
        if (at < SEED_CORE)
            core[at] = v;
    }
    return n;
}

/* Every assignment of the core's binaries, the others held: moves st to
 * the best feasible one (back where it was when none beats it). */
static void enumerate_core(nq__cqm_state *st, const int32_t *core, int k)
{
    double best = st->n_viol == 0 ? score(st) : INFINITY;
    unsigned best_g = 0, n = 1u << k;
    for (unsigned i = 1; i < n; i++) {
        int32_t v = core[__builtin_ctz(i)];
        nq__cqm_state_apply(st, v, 1 - st->val[v]);
        if (st->n_viol == 0 && score(st) < best - 1e-9 * (1.0 + fabs(best))) {
            best = score(st);
            best_g = i ^ (i >> 1);
        }
    }
    /* The walk ended at Gray code n - 1; flip the bits that differ. */
    unsigned at = (n - 1) ^ ((n - 1) >> 1);
    for (int b = 0; b < k; b++)
        if (((at ^ best_g) >> b) & 1u)
            nq__cqm_state_apply(st, core[b], 1 - st->val[core[b]]);
}

/* One pass's worth of moves, times SEED_SCANS. */
static long budget(const nq_cqm *m)
{
    long n = 0;
    for (int32_t v = 0; v < m->n_vars; v++) {
        const nq_cqm_var *var = &m->vars[v];
        n += var->fixed ? 0 : var->kind == NQ_CQM_INTEGER ? 2 : (long)(var->ub - var->lb);
    }
    return n * SEED_SCANS;
}

int nq__milp_seed(const nq__cqm_index *ix, const double *lp, const double *rc, int64_t *values)
{
    const nq_cqm *m = ix->m;
    for (int32_t v = 0; v < m->n_vars; v++)
        values[v] = round_var(&m->vars[v], lp, 0);
    nq__cqm_state st;
    if (nq__cqm_state_init(&st, ix, values))
        return NQ_ENOMEM;
    if (st.n_viol > 0) {
        /* Rounded down breaks a row: try every variable rounded up. */
        int32_t viol = st.n_viol;
        for (int32_t v = 0; v < m->n_vars; v++)
            st.val[v] = round_var(&m->vars[v], lp, 1);
        nq__cqm_state_reset(&st);
        if (st.n_viol > viol) {
            for (int32_t v = 0; v < m->n_vars; v++)
                st.val[v] = values[v];
            nq__cqm_state_reset(&st);
        }
    }
    long evals = budget(m);
    repair(&st, &evals);
    improve(&st, &evals);
    int32_t core[SEED_CORE];
    int k = pick_core(m, rc, core);
    if (k > 1) {
        enumerate_core(&st, core, k);
        nq__cqm_state_reset(&st);
        improve(&st, &evals);
    }
    int found = st.n_viol == 0;
    if (found)
        for (int32_t v = 0; v < m->n_vars; v++)
            values[v] = st.val[v];
    nq__cqm_state_free(&st);
    return found;
}
