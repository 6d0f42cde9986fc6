/* cqm_state.c - incremental bookkeeping of an assignment (see cqm_state.h).
 *
 * A move changes one variable: one atom (binary, integer) or two (a
 * choice switching option p -> q: x_p 1 -> 0, x_q 0 -> 1). Changes are
 * applied in order, and the second change sees the first, so products of
 * two changed atoms are counted exactly once. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cqm_internal.h"
#include "cqm_state.h"

static uint64_t zobrist(int32_t v, int64_t value)
{
    uint64_t z = ((uint64_t)(uint32_t)v << 32) ^ (uint64_t)value;
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

int nq__cqm_allowed(const nq_cqm_var *v, int64_t value)
{
    if (value < v->lb || value > v->ub)
        return 0;
    if (v->fixed)
        return value == v->fixed_value;
    return !(v->kind == NQ_CQM_CHOICE && v->vetoed && v->vetoed[value]);
}

int64_t nq__cqm_start_value(const nq_cqm_var *v)
{
    if (v->fixed)
        return v->fixed_value;
    if (v->kind == NQ_CQM_CHOICE) {
        for (int32_t k = 0; k < v->n_options; k++)
            if (!v->vetoed || !v->vetoed[k])
                return k;
        return 0; /* every option vetoed: the model is infeasible */
    }
    return v->lb > 0 ? v->lb : v->ub < 0 ? v->ub : 0;
}

void nq__cqm_state_free(nq__cqm_state *s)
{
    if (!s)
        return;
    free(s->val);
    free(s->x);
    free(s->field);
    free(s->lhs);
    free(s->lam);
    free(s->dl);
    free(s->touched);
    free(s->mark);
    memset(s, 0, sizeof *s);
}

int nq__cqm_state_init(nq__cqm_state *s, const nq__cqm_index *ix, const int64_t *values)
{
    memset(s, 0, sizeof *s);
    s->ix = ix;
    s->m = ix->m;
    size_t nv = (size_t)ix->n_vars + 1, na = (size_t)ix->n_atoms + 1, nc = (size_t)ix->n_cons + 1;
    s->val = malloc(nv * sizeof *s->val);
    s->x = calloc(na, sizeof *s->x);
    s->field = calloc(na, sizeof *s->field);
    s->lhs = calloc(nc, sizeof *s->lhs);
    s->lam = malloc(nc * sizeof *s->lam);
    s->dl = calloc(nc, sizeof *s->dl);
    s->touched = malloc(nc * sizeof *s->touched);
    s->mark = calloc(nc, 1);
    if (!s->val || !s->x || !s->field || !s->lhs || !s->lam || !s->dl || !s->touched || !s->mark) {
        nq__cqm_state_free(s);
        return NQ_ENOMEM;
    }
    for (int32_t v = 0; v < ix->n_vars; v++)
        s->val[v] = values ? values[v] : nq__cqm_start_value(&s->m->vars[v]);
    for (int32_t c = 0; c < ix->n_cons; c++)
        s->lam[c] = s->m->cons[c].hard ? 1.0 : s->m->cons[c].weight;
    nq__cqm_state_reset(s);
    return 0;
}

double nq__cqm_state_viol(const nq__cqm_state *s, int32_t c)
{
    const nq_cqm_con *con = &s->m->cons[c];
    return nq__cqm_violation(con->sense, s->lhs[c], con->rhs);
}

void nq__cqm_state_repenalize(nq__cqm_state *s)
{
    s->hard_pen = 0;
    for (int32_t c = 0; c < s->ix->n_cons; c++)
        if (s->m->cons[c].hard)
            s->hard_pen += s->lam[c] * nq__cqm_state_viol(s, c);
}

void nq__cqm_state_reset(nq__cqm_state *s)
{
    const nq__cqm_index *ix = s->ix;
    const nq_cqm *m = s->m;
    s->hash = 0;
    for (int32_t v = 0; v < ix->n_vars; v++)
        s->hash ^= zobrist(v, s->val[v]);
    for (int32_t a = 0; a < ix->n_atoms; a++)
        s->x[a] = nq_cqm_atom_value(m, s->val, a);
    s->obj = ix->offset;
    for (int32_t a = 0; a < ix->n_atoms; a++) {
        double f = ix->lin[a];
        for (int64_t k = ix->nbr_at[a]; k < ix->nbr_at[a + 1]; k++)
            f += ix->nbr[k].w * (double)s->x[ix->nbr[k].b];
        s->field[a] = f;
        double xa = (double)s->x[a];
        /* Each pair appears in both atoms' fields: count it half from each. */
        s->obj += xa * (ix->lin[a] + f) * 0.5 + ix->sq[a] * xa * xa;
    }
    s->soft = 0;
    s->n_viol = 0;
    for (int32_t c = 0; c < ix->n_cons; c++) {
        s->lhs[c] = nq_cqm_expr_value(m, &m->cons[c].e, s->val);
        double vi = nq__cqm_state_viol(s, c);
        if (m->cons[c].hard)
            s->n_viol += vi > 0;
        else
            s->soft += m->cons[c].weight * vi;
    }
    nq__cqm_state_repenalize(s);
}

static void touch(nq__cqm_state *s, int32_t c, double d)
{
    if (!s->mark[c]) {
        s->mark[c] = 1;
        s->touched[s->n_touched++] = c;
    }
    s->dl[c] += d;
}

/* Constraint deltas of changing atom a by d; (pa, pd) is an earlier change
 * of the same move (pa = -1 when none). */
static void con_deltas(nq__cqm_state *s, int32_t a, int64_t d, int32_t pa, int64_t pd)
{
    const nq__cqm_index *ix = s->ix;
    for (int64_t k = ix->ce_at[a]; k < ix->ce_at[a + 1]; k++)
        touch(s, ix->ce[k].c, (double)d * ix->ce[k].w);
    for (int64_t k = ix->cq_at[a]; k < ix->cq_at[a + 1]; k++) {
        const nq__cquad *q = &ix->cq[k];
        if (q->b == a) {
            double x0 = (double)s->x[a], x1 = x0 + (double)d;
            touch(s, q->c, q->w * (x1 * x1 - x0 * x0));
        } else {
            double xb = (double)(s->x[q->b] + (q->b == pa ? pd : 0));
            touch(s, q->c, (double)d * q->w * xb);
        }
    }
}

/* Objective change of atom a by d after an earlier change (pa, pd). */
static double obj_delta(const nq__cqm_state *s, int32_t a, int64_t d, int32_t pa, int64_t pd)
{
    const nq__cqm_index *ix = s->ix;
    double x0 = (double)s->x[a], dd = (double)d;
    double r = dd * s->field[a] + ix->sq[a] * (2 * x0 * dd + dd * dd);
    if (pa >= 0)
        for (int64_t k = ix->nbr_at[a]; k < ix->nbr_at[a + 1]; k++)
            if (ix->nbr[k].b == pa)
                r += dd * ix->nbr[k].w * (double)pd;
    return r;
}

/* The atom changes of a move: up to two (atom, delta) pairs. */
static int changes(const nq__cqm_state *s, int32_t v, int64_t nv, int32_t at[2], int64_t d[2])
{
    const nq_cqm_var *var = &s->m->vars[v];
    if (var->kind != NQ_CQM_CHOICE) {
        at[0] = var->atom;
        d[0] = nv - s->val[v];
        return 1;
    }
    at[0] = var->atom + (int32_t)s->val[v];
    d[0] = -1;
    at[1] = var->atom + (int32_t)nv;
    d[1] = 1;
    return 2;
}

/* Stage a move: return its objective change and leave its constraint
 * deltas in dl[]/touched[] for the caller to read and clear. */
static double stage(nq__cqm_state *s, int32_t v, int64_t nv, int32_t at[2], int64_t d[2],
                    int *nc)
{
    *nc = changes(s, v, nv, at, d);
    double obj = obj_delta(s, at[0], d[0], -1, 0);
    con_deltas(s, at[0], d[0], -1, 0);
    if (*nc == 2) {
        int32_t pa = s->ix->intra[v] ? at[0] : -1;
        obj += obj_delta(s, at[1], d[1], pa, d[0]);
        con_deltas(s, at[1], d[1], at[0], d[0]);
    }
    return obj;
}

/* Walk the staged constraints: accumulate the penalty effect into out,
 * commit lhs when commit is set, and clear the scratch. */
static void settle(nq__cqm_state *s, nq__cqm_delta *out, int commit)
{
    out->soft = out->hard_pen = 0;
    out->n_viol = 0;
    for (int32_t i = 0; i < s->n_touched; i++) {
        int32_t c = s->touched[i];
        const nq_cqm_con *con = &s->m->cons[c];
        double before = nq__cqm_violation(con->sense, s->lhs[c], con->rhs);
        double after = nq__cqm_violation(con->sense, s->lhs[c] + s->dl[c], con->rhs);
        if (con->hard) {
            out->hard_pen += s->lam[c] * (after - before);
            out->n_viol += (after > 0) - (before > 0);
        } else {
            out->soft += con->weight * (after - before);
        }
        if (commit)
            s->lhs[c] += s->dl[c];
        s->dl[c] = 0;
        s->mark[c] = 0;
    }
    s->n_touched = 0;
}

void nq__cqm_state_eval(nq__cqm_state *s, int32_t v, int64_t nv, nq__cqm_delta *out)
{
    int32_t at[2];
    int64_t d[2];
    int nc;
    out->obj = stage(s, v, nv, at, d, &nc);
    settle(s, out, 0);
}

static void apply_atom(nq__cqm_state *s, int32_t a, int64_t d)
{
    const nq__cqm_index *ix = s->ix;
    for (int64_t k = ix->nbr_at[a]; k < ix->nbr_at[a + 1]; k++)
        s->field[ix->nbr[k].b] += (double)d * ix->nbr[k].w;
    s->x[a] += d;
}

void nq__cqm_state_apply(nq__cqm_state *s, int32_t v, int64_t nv)
{
    nq__cqm_delta dl;
    int32_t at[2];
    int64_t d[2];
    int nc;
    double obj = stage(s, v, nv, at, d, &nc);
    settle(s, &dl, 1);
    s->obj += obj;
    s->soft += dl.soft;
    s->hard_pen += dl.hard_pen;
    s->n_viol += dl.n_viol;
    apply_atom(s, at[0], d[0]);
    if (nc == 2)
        apply_atom(s, at[1], d[1]);
    s->hash ^= zobrist(v, s->val[v]) ^ zobrist(v, nv);
    s->val[v] = nv;
}
