/* assign_engine.c - nq_assign_solve: the assignment as a constrained model
 * on the engine, then the exact flow step (assign_flow.c).
 *
 * The model: one choice variable per lead whose options are its eligible
 * reps (and "none" when leads are optional); maximize the options' values;
 * per rep sum of its options <= capacity (>= the minimum load when there
 * is one); with the spread term two integer variables hi_load >= every
 * load >= lo_load and -w (hi_load - lo_load) in the objective. The native
 * constrained search answers it; its best answer (feasible or least
 * violated) starts the exact step, which proves or restores optimality.
 *
 * Large requests exceed what the engine should carry: each lead keeps its
 * best-valued options up to an atom budget, and past the engine's variable
 * limit a greedy assignment starts the exact step instead. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "assign_internal.h"
#include "nqba/clock.h"
#include "nqba/cqm.h"

#define ATOM_BUDGET 40000 /* options kept over all leads */
#define ENGINE_WORK 1e7   /* atom visits the engine may spend without a time limit */
#define ENGINE_MIN_MOVES 100
#define ENGINE_SAFETY_S 60.0 /* the budget's cap on a very slow machine */

typedef struct model {
    nq_cqm m;
    int32_t *var_of;   /* per lead: its variable, -1 when it has none */
    int64_t *opt_pair; /* per atom: the pair it stands for, -1 for "none" */
} model;

static void model_free(model *x)
{
    nq_cqm_free(&x->m);
    free(x->var_of);
    free(x->opt_pair);
}

/* Options of lead l, best value first (ties: lower rep first), at most keep. */
static int32_t lead_options(const nq__assign_prob *p, int32_t l, int32_t keep, int64_t *pairs)
{
    int32_t n = 0;
    for (int64_t k = p->start[l]; k < p->start[l + 1]; k++) {
        int32_t i;
        if (n < keep)
            i = n++;
        else if (p->val[k] > p->val[pairs[keep - 1]])
            i = keep - 1;
        else
            continue;
        pairs[i] = k;
        for (; i > 0 && p->val[pairs[i]] > p->val[pairs[i - 1]]; i--) {
            int64_t t = pairs[i];
            pairs[i] = pairs[i - 1], pairs[i - 1] = t;
        }
    }
    return n;
}

static int add_lead(model *x, const nq__assign_prob *p, int32_t l, int32_t keep, int64_t *pairs,
                    char (*labels)[16], const char **lp, nq_err *err)
{
    int32_t n = lead_options(p, l, keep, pairs);
    if (p->optional)
        pairs[n++] = -1;
    if (n == 0)
        return NQ_OK;
    for (int32_t i = 0; i < n; i++) {
        if (pairs[i] >= 0)
            snprintf(labels[i], 16, "r%d", (int)p->rep[pairs[i]]);
        else
            snprintf(labels[i], 16, "none");
        lp[i] = labels[i];
    }
    char name[24];
    snprintf(name, sizeof name, "l%d", (int)l);
    int v = nq_cqm_add_choice(&x->m, name, lp, n, err);
    if (v < 0)
        return v;
    x->var_of[l] = v;
    int32_t a0 = x->m.vars[v].atom;
    for (int32_t i = 0; i < n; i++) {
        x->opt_pair[a0 + i] = pairs[i];
        if (pairs[i] >= 0 && p->val[pairs[i]] != 0) {
            int rc = nq_cqm_obj_linear(&x->m, 0, a0 + i, p->val[pairs[i]], err);
            if (rc)
                return rc;
        }
    }
    return NQ_OK;
}

static int add_con(model *x, const char *prefix, int32_t r, nq_cqm_sense sense, double rhs,
                   nq_err *err)
{
    char name[32];
    snprintf(name, sizeof name, "%s%d", prefix, (int)r);
    return nq_cqm_add_constraint(&x->m, name, sense, rhs, 1, -1, err);
}

/* Per rep: capacity, minimum load and, with the spread term, the links to
 * hi_load / lo_load. cons[r*4 + 0..3]: the constraints, -1 when absent. */
static int rep_constraints(model *x, const nq__assign_prob *p, int32_t *cons, nq_err *err)
{
    int spread = p->s->fairness == NQ_ASSIGN_FAIR_SPREAD && p->s->fairness_weight > 0;
    int32_t top = -1, bot = -1, maxhi = 0;
    for (int32_t r = 0; r < p->R; r++)
        maxhi = p->hi[r] > maxhi ? p->hi[r] : maxhi;
    if (spread) {
        top = nq_cqm_add_integer(&x->m, "hi_load", 0, maxhi, err);
        bot = top < 0 ? top : nq_cqm_add_integer(&x->m, "lo_load", 0, maxhi, err);
        if (bot < 0)
            return bot;
        double w = p->s->fairness_weight;
        int rc = nq_cqm_obj_linear(&x->m, 0, x->m.vars[top].atom, -w, err);
        if (!rc)
            rc = nq_cqm_obj_linear(&x->m, 0, x->m.vars[bot].atom, w, err);
        if (rc)
            return rc;
    }
    for (int32_t r = 0; r < p->R; r++) {
        int32_t *c = cons + (size_t)r * 4;
        c[0] = add_con(x, "cap", r, NQ_CQM_LE, p->hi[r], err);
        c[1] = c[0] < 0 || p->lo[r] == 0 ? -1 : add_con(x, "min", r, NQ_CQM_GE, p->lo[r], err);
        c[2] = c[0] < 0 || !spread ? -1 : add_con(x, "top", r, NQ_CQM_LE, 0, err);
        c[3] = c[2] < 0 ? -1 : add_con(x, "bot", r, NQ_CQM_GE, 0, err);
        if (c[0] < 0 || (p->lo[r] > 0 && c[1] < 0) || (spread && c[3] < 0))
            return err && err->code ? err->code : NQ_EINTERNAL;
        int rc = c[2] < 0 ? NQ_OK : nq_cqm_con_linear(&x->m, c[2], x->m.vars[top].atom, -1, err);
        if (!rc && c[3] >= 0)
            rc = nq_cqm_con_linear(&x->m, c[3], x->m.vars[bot].atom, -1, err);
        if (rc)
            return rc;
    }
    return NQ_OK;
}

/* Each option atom joins its rep's constraints. */
static int link_options(model *x, const nq__assign_prob *p, const int32_t *cons, nq_err *err)
{
    for (int32_t a = 0; a < x->m.n_atoms; a++) {
        if (x->m.atom_opt[a] < 0 || x->opt_pair[a] < 0)
            continue;
        const int32_t *c = cons + (size_t)p->rep[x->opt_pair[a]] * 4;
        for (int i = 0; i < 4; i++)
            if (c[i] >= 0) {
                int rc = nq_cqm_con_linear(&x->m, c[i], a, 1, err);
                if (rc)
                    return rc;
            }
    }
    return NQ_OK;
}

static int build(model *x, const nq__assign_prob *p, int32_t keep, int64_t n_atoms, nq_err *err)
{
    nq_cqm_init(&x->m);
    x->m.maximize = 1;
    x->var_of = malloc((size_t)p->L * sizeof *x->var_of);
    x->opt_pair = malloc(((size_t)n_atoms + 2) * sizeof *x->opt_pair); /* + the load bounds */
    int64_t *pairs = malloc(((size_t)keep + 1) * sizeof *pairs);
    char(*labels)[16] = malloc(((size_t)keep + 1) * sizeof *labels);
    const char **lp = malloc(((size_t)keep + 1) * sizeof *lp);
    int32_t *cons = malloc((size_t)p->R * 4 * sizeof *cons);
    int rc = x->var_of && x->opt_pair && pairs && labels && lp && cons
                 ? NQ_OK
                 : nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    for (int32_t l = 0; !rc && l < p->L; l++) {
        x->var_of[l] = -1;
        rc = add_lead(x, p, l, keep, pairs, labels, lp, err);
    }
    if (!rc)
        rc = rep_constraints(x, p, cons, err);
    if (!rc)
        rc = link_options(x, p, cons, err);
    free(pairs);
    free(labels);
    free(lp);
    free(cons);
    return rc;
}

/* ---- starts for the exact step ------------------------------------------------------ */

typedef struct by_value {
    double v;
    int32_t l;
} by_value;

static int desc_value(const void *a, const void *b)
{
    const by_value *x = a, *y = b;
    if (x->v != y->v)
        return x->v < y->v ? 1 : -1;
    return (x->l > y->l) - (x->l < y->l);
}

/* Leads by value, each to its best eligible rep with room. */
static int greedy(const nq__assign_prob *p, int32_t *rep_of, nq_err *err)
{
    by_value *order = malloc((size_t)p->L * sizeof *order);
    int32_t *load = calloc((size_t)p->R, sizeof *load);
    if (!order || !load) {
        free(order);
        free(load);
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    }
    for (int32_t l = 0; l < p->L; l++)
        order[l] = (by_value){.v = p->s->leads[l].value, .l = l};
    qsort(order, (size_t)p->L, sizeof *order, desc_value);
    for (int32_t i = 0; i < p->L; i++) {
        int32_t l = order[i].l;
        int64_t best = -1;
        for (int64_t k = p->start[l]; k < p->start[l + 1]; k++)
            if (load[p->rep[k]] < p->hi[p->rep[k]] && (best < 0 || p->val[k] > p->val[best]))
                best = k;
        rep_of[l] = best < 0 ? -1 : p->rep[best];
        if (best >= 0)
            load[p->rep[best]]++;
    }
    free(order);
    free(load);
    return NQ_OK;
}

/* The engine's best answer into rep_of; *used = 0 when the request is past
 * the engine's limits (rep_of untouched). */
static int engine_start(const nq__assign_prob *p, int32_t *rep_of, nq_assign_result *out, int *used,
                        nq_err *err)
{
    int32_t keep = p->R;
    if (p->n_pairs > ATOM_BUDGET)
        keep = ATOM_BUDGET / p->L > 1 ? ATOM_BUDGET / p->L : 1;
    int64_t n_atoms = 0;
    for (int32_t l = 0; l < p->L; l++) {
        int64_t deg = p->start[l + 1] - p->start[l];
        n_atoms += (deg < keep ? deg : keep) + p->optional;
    }
    *used = p->L + 2 <= NQ_CQM_MAX_VARS && n_atoms + 2 <= NQ_CQM_MAX_ATOMS;
    if (!*used)
        return NQ_OK;
    model x = {0};
    int rc = build(&x, p, keep, n_atoms, err);
    nq_cqm_opts o;
    nq_cqm_opts_default(&o);
    o.solver = "native";
    o.seed = p->s->seed;
    /* Without a time limit: a move budget, so that answers repeat whatever
     * the machine's speed (a move costs about one pass over the atoms). */
    o.time_limit = p->s->time_limit > 0 ? p->s->time_limit : ENGINE_SAFETY_S;
    if (p->s->time_limit == 0) {
        int64_t it = (int64_t)(ENGINE_WORK / (double)(n_atoms + 2));
        int64_t most = 50 * (int64_t)p->L;
        o.max_iterations = it < ENGINE_MIN_MOVES ? ENGINE_MIN_MOVES : it > most ? most : it;
    }
    o.cancel_flag = p->s->cancel;
    nq_cqm_result res;
    memset(&res, 0, sizeof res);
    if (!rc)
        rc = nq_cqm_solve(&x.m, &o, NULL, NULL, &res, err);
    for (int32_t l = 0; !rc && l < p->L; l++) {
        int32_t v = x.var_of[l];
        int64_t k = v < 0 ? -1 : x.opt_pair[x.m.vars[v].atom + res.best.values[v]];
        rep_of[l] = k < 0 ? -1 : p->rep[k];
    }
    if (!rc) {
        out->engine_feasible = res.best.feasible;
        out->engine_objective = nq__assign_objective(p, rep_of, out->load, NULL);
    }
    nq_cqm_result_free(&res);
    model_free(&x);
    return rc;
}

int nq_assign_solve(const nq_assign_spec *s, nq_assign_result *out, nq_err *err)
{
    double t0 = nq_clock_s();
    nq__assign_prob p;
    memset(out, 0, sizeof *out);
    int rc = nq__assign_prepare(s, &p, err);
    if (rc)
        return rc;
    rc = nq__assign_result_init(&p, out, err);
    int used = 0, proven = 0;
    if (!rc)
        rc = engine_start(&p, out->rep_of, out, &used, err);
    if (!rc && !used)
        rc = greedy(&p, out->rep_of, err);
    if (!rc)
        rc = nq__assign_exact(&p, out->rep_of, &proven, &out->improvements, &out->bands, err);
    if (!rc) {
        nq__assign_result_fill(&p, out->rep_of, out);
        out->proven_optimal = proven;
        snprintf(out->method, sizeof out->method, "%s + exact flow%s",
                 used ? "engine (cqm native)" : "greedy", out->bands ? " + load bands" : "");
        out->elapsed = nq_clock_s() - t0;
    } else {
        nq_assign_result_free(out);
    }
    nq__assign_prob_free(&p);
    return rc;
}
