/* cqm_search.c - native search on a constrained model.
 *
 * Tabu search over single-variable moves (flip a binary, step or jump an
 * integer, switch a choice to another allowed option, so one-hot groups
 * stay feasible by construction). Hard constraints enter the move score
 * with per-constraint weights that grow while the search is infeasible and
 * decay while it is feasible (strategic oscillation around the feasibility
 * boundary, the way knapsack-type capacity trades are found). After a run
 * of moves without a new best the search restarts from the best answer,
 * perturbed. Every feasible state visited is offered to the answer pool. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cqm_internal.h"
#include "cqm_search.h"
#include "nqba/clock.h"
#include "nqba/rng.h"

#define MAX_CANDS 8 /* integer move targets per variable */
/* Per-iteration weight changes: growth on violated constraints while
 * infeasible, decay while feasible. Fast decay against moderate growth
 * keeps the search close to the boundary; on the knapsack, multi-knapsack
 * and quadratic-knapsack families (n 100-200) 0.7 / 1.15 gave the best
 * answers of the settings tried (decay 0.5-0.99, growth 1.05-1.5). */
#define WEIGHT_DECAY 0.7
#define WEIGHT_GROWTH 1.15


typedef struct search {
    const nq__cqm_index *ix;
    const nq_cqm *m;
    const nq__cqm_search_opts *o;
    nq__cqm_state st;
    nq_rng rng;
    double *lam0;         /* per constraint: starting weight */
    int64_t *tabu_until;  /* per variable */
    int32_t *movable;     /* variables that can move */
    int32_t n_movable;
    double best;          /* best feasible score */
    int64_t iter, last_best;
    int64_t stall_iters;
    int32_t restarts_idle;
    double last_report;
} search;

/* A starting weight that makes one unit of violation cost about as much as
 * the best objective gain any of the constraint's atoms could buy. */
static void initial_weights(search *s)
{
    const nq__cqm_index *ix = s->ix;
    for (int32_t c = 0; c < ix->n_cons; c++)
        s->lam0[c] = 0;
    for (int32_t a = 0; a < ix->n_atoms; a++) {
        /* The linear part only: bounding the quadratic part too starts far
         * above the weight that balances a typical trade (measured on
         * quadratic knapsacks: 2-9% worse answers), and weights grow fast
         * enough from below. */
        double gain = fabs(ix->lin[a]) + fabs(ix->sq[a]);
        for (int64_t k = ix->ce_at[a]; k < ix->ce_at[a + 1]; k++) {
            double r = gain / fabs(ix->ce[k].w);
            if (r > s->lam0[ix->ce[k].c])
                s->lam0[ix->ce[k].c] = r;
        }
    }
    for (int32_t c = 0; c < ix->n_cons; c++) {
        if (!(s->lam0[c] > 0) || !isfinite(s->lam0[c]))
            s->lam0[c] = 1;
        s->st.lam[c] = s->m->cons[c].hard ? s->lam0[c] : s->m->cons[c].weight;
    }
    nq__cqm_state_repenalize(&s->st);
}

/* Move targets of an integer variable. */
static int int_targets(const nq_cqm_var *v, int64_t x, int64_t out[MAX_CANDS])
{
    int64_t span = v->ub - v->lb, step = span / 16;
    int64_t t[6] = { x - 1, x + 1, v->lb, v->ub, x - step, x + step };
    int n = 0;
    for (int i = 0; i < 6; i++) {
        if (t[i] == x || !nq__cqm_allowed(v, t[i]) || (i >= 4 && step < 2))
            continue;
        int dup = 0;
        for (int j = 0; j < n; j++)
            dup |= out[j] == t[i];
        if (!dup)
            out[n++] = t[i];
    }
    return n;
}

typedef struct pick {
    int32_t var;
    int64_t value;
    double score;
    int32_t ties;
} pick;

static void consider(search *s, pick *p, int32_t v, int64_t nv)
{
    nq__cqm_delta d;
    nq__cqm_state_eval(&s->st, v, nv, &d);
    double score = d.obj + d.soft + d.hard_pen;
    if (s->tabu_until[v] > s->iter) {
        /* Aspiration: a tabu move is allowed when it reaches a new best. */
        double true_score = s->st.obj + s->st.soft + d.obj + d.soft;
        int better = !isfinite(s->best) || true_score < s->best - 1e-9 * (1 + fabs(s->best));
        if (s->st.n_viol + d.n_viol != 0 || !better)
            return;
    }
    double tol = 1e-12 * (1 + fabs(score));
    if (p->var < 0 || score < p->score - tol) {
        *p = (pick){ .var = v, .value = nv, .score = score, .ties = 1 };
    } else if (score <= p->score + tol) {
        /* Reservoir choice among equal moves keeps the search from cycling. */
        p->ties++;
        if (nq_rng_below(&s->rng, (uint64_t)p->ties) == 0) {
            p->var = v;
            p->value = nv;
        }
    }
}

static pick best_move(search *s)
{
    pick p = { .var = -1, .value = 0, .score = INFINITY, .ties = 0 };
    for (int32_t i = 0; i < s->n_movable; i++) {
        int32_t v = s->movable[i];
        const nq_cqm_var *var = &s->m->vars[v];
        int64_t x = s->st.val[v];
        if (var->kind == NQ_CQM_BINARY) {
            consider(s, &p, v, 1 - x);
        } else if (var->kind == NQ_CQM_CHOICE) {
            for (int64_t k = 0; k < var->n_options; k++)
                if (k != x && (!var->vetoed || !var->vetoed[k]))
                    consider(s, &p, v, k);
        } else {
            int64_t t[MAX_CANDS];
            int n = int_targets(var, x, t);
            for (int j = 0; j < n; j++)
                consider(s, &p, v, t[j]);
        }
    }
    return p;
}

/* A random allowed value other than the current one, or the current one. */
static int64_t random_value(search *s, int32_t v)
{
    const nq_cqm_var *var = &s->m->vars[v];
    int64_t x = s->st.val[v];
    for (int tries = 0; tries < 8; tries++) {
        uint64_t span = (uint64_t)(var->ub - var->lb) + 1;
        int64_t nv = var->lb + (int64_t)nq_rng_below(&s->rng, span);
        if (nv != x && nq__cqm_allowed(var, nv))
            return nv;
    }
    return x;
}

/* Weights: grow on violated hard constraints, decay back towards the start
 * while feasible (violation is zero then, so hard_pen stays exact). */
static void adapt_weights(search *s)
{
    nq__cqm_state *st = &s->st;
    if (st->n_viol == 0) {
        for (int32_t c = 0; c < s->ix->n_cons; c++)
            if (s->m->cons[c].hard && st->lam[c] > s->lam0[c] * 1e-6)
                st->lam[c] *= WEIGHT_DECAY;
        return;
    }
    for (int32_t c = 0; c < s->ix->n_cons; c++) {
        if (!s->m->cons[c].hard || st->lam[c] > s->lam0[c] * 1e9)
            continue;
        double vi = nq__cqm_state_viol(st, c);
        if (vi > 0) {
            st->hard_pen += st->lam[c] * (WEIGHT_GROWTH - 1) * vi;
            st->lam[c] *= WEIGHT_GROWTH;
        }
    }
}

static void record(search *s, nq__cqm_pool *pool, nq__cqm_search_out *out)
{
    nq__cqm_state *st = &s->st;
    if (st->n_viol == 0) {
        double score = st->obj + st->soft;
        if (!isfinite(s->best) || score < s->best - 1e-9 * (1 + fabs(s->best))) {
            s->best = score;
            s->last_best = s->iter;
            s->restarts_idle = 0;
            out->time_to_best = nq_clock_s() - s->o->t0;
        }
        if (nq__cqm_pool_wants(pool, score))
            nq__cqm_pool_offer(pool, st->hash, score, st->val);
        return;
    }
    if (pool->n > 0)
        return;
    double total = 0;
    for (int32_t c = 0; c < s->ix->n_cons; c++)
        if (s->m->cons[c].hard)
            total += nq__cqm_state_viol(st, c);
    if (st->n_viol < out->least_viol ||
        (st->n_viol == out->least_viol && total < out->least_total)) {
        out->least_viol = st->n_viol;
        out->least_total = total;
        memcpy(out->least, st->val, (size_t)s->ix->n_vars * sizeof *st->val);
    }
}

/* Restart from the best answer (or where we are), a few variables moved. */
static void restart(search *s, const nq__cqm_pool *pool)
{
    nq__cqm_state *st = &s->st;
    if (pool->n > 0)
        memcpy(st->val, pool->vals, (size_t)s->ix->n_vars * sizeof *st->val);
    int32_t k = 1 + (int32_t)nq_rng_below(&s->rng, (uint64_t)(s->n_movable / 8 + 2));
    for (int32_t i = 0; i < k && s->n_movable > 0; i++) {
        int32_t v = s->movable[nq_rng_below(&s->rng, (uint64_t)s->n_movable)];
        st->val[v] = random_value(s, v);
    }
    for (int32_t c = 0; c < s->ix->n_cons; c++)
        st->lam[c] = s->m->cons[c].hard ? s->lam0[c] : s->m->cons[c].weight;
    nq__cqm_state_reset(st);
    memset(s->tabu_until, 0, (size_t)s->ix->n_vars * sizeof *s->tabu_until);
    s->last_best = s->iter;
    s->restarts_idle++;
}

static int should_stop(search *s, nq__cqm_search_out *out)
{
    const nq__cqm_search_opts *o = s->o;
    if (o->max_iter > 0 && s->iter >= o->max_iter)
        return 1;
    if (o->stall_restarts > 0 && s->restarts_idle >= o->stall_restarts)
        return 1;
    if ((s->iter & 63) != 0)
        return 0;
    if (o->cancel && atomic_load(o->cancel)) {
        out->cancelled = 1;
        return 1;
    }
    double now = nq_clock_s();
    if (o->deadline > 0 && now >= o->deadline) {
        out->timed_out = 1;
        return 1;
    }
    if (o->cb && now - s->last_report >= 0.05) {
        s->last_report = now;
        nq_progress pr = { .solver = "native", .best_energy = s->best, .elapsed = now - o->t0,
                           .fraction = o->deadline > 0 ? (now - o->t0) / (o->deadline - o->t0) : 0,
                           .done = s->iter, .total = o->max_iter };
        if (o->cb(&pr, o->user)) {
            out->cancelled = 1;
            return 1;
        }
    }
    return 0;
}

static int setup(search *s, const nq__cqm_index *ix, const nq__cqm_search_opts *o)
{
    memset(s, 0, sizeof *s);
    s->ix = ix;
    s->m = ix->m;
    s->o = o;
    nq_rng_seed(&s->rng, o->seed);
    s->lam0 = malloc(((size_t)ix->n_cons + 1) * sizeof *s->lam0);
    s->tabu_until = calloc((size_t)ix->n_vars + 1, sizeof *s->tabu_until);
    s->movable = malloc(((size_t)ix->n_vars + 1) * sizeof *s->movable);
    if (!s->lam0 || !s->tabu_until || !s->movable || nq__cqm_state_init(&s->st, ix, o->start))
        return NQ_ENOMEM;
    for (int32_t v = 0; v < ix->n_vars; v++) {
        const nq_cqm_var *var = &s->m->vars[v];
        if (!var->fixed && var->lb < var->ub)
            s->movable[s->n_movable++] = v;
    }
    initial_weights(s);
    s->best = INFINITY;
    s->stall_iters = 1000 + 20 * (int64_t)s->n_movable;
    s->last_report = o->t0;
    return 0;
}

static void teardown(search *s)
{
    free(s->lam0);
    free(s->tabu_until);
    free(s->movable);
    nq__cqm_state_free(&s->st);
}

int nq__cqm_search(const nq__cqm_index *ix, const nq__cqm_search_opts *o, nq__cqm_pool *pool,
                   nq__cqm_search_out *out)
{
    search s;
    out->iterations = 0;
    out->least_viol = INT32_MAX;
    out->least_total = INFINITY;
    out->timed_out = out->cancelled = 0;
    if (setup(&s, ix, o)) {
        teardown(&s);
        return NQ_ENOMEM;
    }
    record(&s, pool, out);
    int32_t tenure_span = s.n_movable / 4 < 10 ? s.n_movable / 4 + 1 : 10;
    while (s.n_movable > 0 && !should_stop(&s, out)) {
        pick p = best_move(&s);
        if (p.var < 0) { /* everything tabu: take a random step */
            p.var = s.movable[nq_rng_below(&s.rng, (uint64_t)s.n_movable)];
            p.value = random_value(&s, p.var);
        }
        nq__cqm_state_apply(&s.st, p.var, p.value);
        s.iter++;
        int64_t tenure = 3 + (int64_t)nq_rng_below(&s.rng, (uint64_t)tenure_span + 1);
        s.tabu_until[p.var] = s.iter + (tenure < s.n_movable ? tenure : s.n_movable - 1);
        adapt_weights(&s);
        record(&s, pool, out);
        if (s.iter - s.last_best > s.stall_iters)
            restart(&s, pool);
    }
    out->iterations = s.iter;
    teardown(&s);
    return 0;
}
