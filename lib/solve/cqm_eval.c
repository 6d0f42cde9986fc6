/* cqm_eval.c - finishing (canonical terms), copying and exact evaluation of
 * a constrained quadratic model. Evaluation is the single judge of
 * feasibility: every solver's answer passes through it. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nqba/cqm.h"
#include "cqm_internal.h"

static int cmp_lin(const void *x, const void *y)
{
    const nq_cqm_lin *a = x, *b = y;
    return (a->atom > b->atom) - (a->atom < b->atom);
}

static int cmp_quad(const void *x, const void *y)
{
    const nq_cqm_quad *a = x, *b = y;
    if (a->a != b->a)
        return (a->a > b->a) - (a->a < b->a);
    return (a->b > b->b) - (a->b < b->b);
}

/* A 0/1 atom squared is itself: such terms move to the linear part. */
static int is01(const nq_cqm *m, int32_t atom)
{
    return m->vars[m->atom_var[atom]].kind != NQ_CQM_INTEGER;
}

static int expr_finish(const nq_cqm *m, nq_cqm_expr *e)
{
    int32_t k = 0;
    for (int32_t i = 0; i < e->n_quad; i++) {
        nq_cqm_quad q = e->quad[i];
        if (q.a == q.b && is01(m, q.a)) {
            if (e->n_lin >= e->cap_lin) {
                int32_t nc = e->cap_lin ? e->cap_lin * 2 : 8;
                void *p = realloc(e->lin, (size_t)nc * sizeof *e->lin);
                if (!p)
                    return NQ_ENOMEM;
                e->lin = p;
                e->cap_lin = nc;
            }
            e->lin[e->n_lin++] = (nq_cqm_lin){ .atom = q.a, .w = q.w };
        } else {
            e->quad[k++] = q;
        }
    }
    e->n_quad = k;
    /* Terms usually arrive in atom order (a model read from a document
     * lists them as its variables): then there is nothing to sort. */
    int32_t sorted = 1;
    for (int32_t i = 1; i < e->n_lin && sorted; i++)
        sorted = e->lin[i - 1].atom <= e->lin[i].atom;
    if (!sorted) /* qsort needs a non-NULL array even for 0 elements */
        qsort(e->lin, (size_t)e->n_lin, sizeof *e->lin, cmp_lin);
    k = 0;
    for (int32_t i = 0; i < e->n_lin; i++) {
        if (k > 0 && e->lin[k - 1].atom == e->lin[i].atom)
            e->lin[k - 1].w += e->lin[i].w;
        else
            e->lin[k++] = e->lin[i];
    }
    e->n_lin = k;
    k = 0;
    for (int32_t i = 0; i < e->n_lin; i++)
        if (e->lin[i].w != 0)
            e->lin[k++] = e->lin[i];
    e->n_lin = k;
    sorted = 1;
    for (int32_t i = 1; i < e->n_quad && sorted; i++)
        sorted = cmp_quad(&e->quad[i - 1], &e->quad[i]) <= 0;
    if (!sorted)
        qsort(e->quad, (size_t)e->n_quad, sizeof *e->quad, cmp_quad);
    k = 0;
    for (int32_t i = 0; i < e->n_quad; i++) {
        if (k > 0 && e->quad[k - 1].a == e->quad[i].a && e->quad[k - 1].b == e->quad[i].b)
            e->quad[k - 1].w += e->quad[i].w;
        else
            e->quad[k++] = e->quad[i];
    }
    e->n_quad = k;
    k = 0;
    for (int32_t i = 0; i < e->n_quad; i++)
        if (e->quad[i].w != 0)
            e->quad[k++] = e->quad[i];
    e->n_quad = k;
    return 0;
}

int nq_cqm_finish(nq_cqm *m, nq_err *err)
{
    if (m->finished)
        return 0;
    if (m->n_groups == 0 && nq_cqm_add_group(m, "objective", err) < 0)
        return err ? err->code : NQ_ENOMEM;
    for (int32_t g = 0; g < m->n_groups; g++)
        if (expr_finish(m, &m->groups[g].e))
            return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    for (int32_t c = 0; c < m->n_cons; c++)
        if (expr_finish(m, &m->cons[c].e))
            return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    m->finished = 1;
    return 0;
}

/* ---- copying ------------------------------------------------------------------ */

static void *dup_mem(const void *p, size_t n)
{
    if (!p || n == 0)
        return NULL;
    void *q = malloc(n);
    if (q)
        memcpy(q, p, n);
    return q;
}

static char *dup_str(const char *s) { return s ? dup_mem(s, strlen(s) + 1) : NULL; }

static int expr_copy(const nq_cqm_expr *e, nq_cqm_expr *o)
{
    memset(o, 0, sizeof *o);
    o->lin = dup_mem(e->lin, (size_t)e->n_lin * sizeof *e->lin);
    o->quad = dup_mem(e->quad, (size_t)e->n_quad * sizeof *e->quad);
    o->n_lin = o->cap_lin = e->n_lin;
    o->n_quad = o->cap_quad = e->n_quad;
    return (e->n_lin && !o->lin) || (e->n_quad && !o->quad) ? NQ_ENOMEM : 0;
}

static int var_copy(const nq_cqm_var *v, nq_cqm_var *o)
{
    *o = *v;
    o->labels = NULL;
    o->vetoed = NULL;
    o->name = dup_str(v->name);
    if (!o->name)
        return NQ_ENOMEM;
    if (v->kind != NQ_CQM_CHOICE)
        return 0;
    o->labels = calloc((size_t)v->n_options, sizeof *o->labels);
    if (!o->labels)
        return NQ_ENOMEM;
    for (int32_t k = 0; k < v->n_options; k++)
        if (!(o->labels[k] = dup_str(v->labels[k])))
            return NQ_ENOMEM;
    if (v->vetoed && !(o->vetoed = dup_mem(v->vetoed, (size_t)v->n_options)))
        return NQ_ENOMEM;
    return 0;
}

static int copy_parts(const nq_cqm *m, nq_cqm *o)
{
    size_t na = (size_t)(m->n_atoms ? m->n_atoms : 1);
    o->vars = calloc((size_t)(m->n_vars ? m->n_vars : 1), sizeof *o->vars);
    o->atom_var = malloc(na * sizeof *o->atom_var);
    o->atom_opt = malloc(na * sizeof *o->atom_opt);
    o->groups = calloc((size_t)(m->n_groups ? m->n_groups : 1), sizeof *o->groups);
    o->cons = calloc((size_t)(m->n_cons ? m->n_cons : 1), sizeof *o->cons);
    o->name_slots = dup_mem(m->name_slots, (size_t)m->n_slots * sizeof *m->name_slots);
    o->con_slots = dup_mem(m->con_slots, (size_t)m->n_con_slots * sizeof *m->con_slots);
    if (!o->vars || !o->atom_var || !o->atom_opt || !o->groups || !o->cons ||
        (m->n_slots && !o->name_slots) || (m->n_con_slots && !o->con_slots))
        return NQ_ENOMEM;
    o->cap_vars = m->n_vars ? m->n_vars : 1;
    o->cap_atoms = (int32_t)na;
    o->cap_groups = m->n_groups ? m->n_groups : 1;
    o->cap_cons = m->n_cons ? m->n_cons : 1;
    if (m->n_atoms > 0) {
        memcpy(o->atom_var, m->atom_var, (size_t)m->n_atoms * sizeof *o->atom_var);
        memcpy(o->atom_opt, m->atom_opt, (size_t)m->n_atoms * sizeof *o->atom_opt);
    }
    for (; o->n_vars < m->n_vars; o->n_vars++)
        if (var_copy(&m->vars[o->n_vars], &o->vars[o->n_vars]))
            return o->n_vars++, NQ_ENOMEM;
    for (; o->n_groups < m->n_groups; o->n_groups++) {
        nq_cqm_group *g = &o->groups[o->n_groups];
        g->name = dup_str(m->groups[o->n_groups].name);
        if (!g->name || expr_copy(&m->groups[o->n_groups].e, &g->e))
            return o->n_groups++, NQ_ENOMEM;
    }
    for (; o->n_cons < m->n_cons; o->n_cons++) {
        nq_cqm_con *c = &o->cons[o->n_cons];
        *c = m->cons[o->n_cons];
        c->name = dup_str(m->cons[o->n_cons].name);
        if (expr_copy(&m->cons[o->n_cons].e, &c->e) || !c->name)
            return o->n_cons++, NQ_ENOMEM;
    }
    return 0;
}

int nq_cqm_copy(const nq_cqm *m, nq_cqm *out, nq_err *err)
{
    nq_cqm o;
    nq_cqm_init(&o);
    o.n_atoms = m->n_atoms;
    o.maximize = m->maximize;
    o.offset = m->offset;
    o.n_terms = m->n_terms;
    o.n_slots = m->n_slots;
    o.n_con_slots = m->n_con_slots;
    o.finished = m->finished;
    if (copy_parts(m, &o)) {
        nq_cqm_free(&o);
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    }
    *out = o;
    return 0;
}

/* ---- evaluating ------------------------------------------------------------------ */

int64_t nq_cqm_atom_value(const nq_cqm *m, const int64_t *values, int32_t atom)
{
    int32_t opt = m->atom_opt[atom];
    int64_t v = values[m->atom_var[atom]];
    return opt < 0 ? v : (int64_t)(v == opt);
}

double nq_cqm_expr_value(const nq_cqm *m, const nq_cqm_expr *e, const int64_t *values)
{
    double s = 0;
    for (int32_t i = 0; i < e->n_lin; i++)
        s += e->lin[i].w * (double)nq_cqm_atom_value(m, values, e->lin[i].atom);
    for (int32_t i = 0; i < e->n_quad; i++)
        s += e->quad[i].w * (double)nq_cqm_atom_value(m, values, e->quad[i].a) *
             (double)nq_cqm_atom_value(m, values, e->quad[i].b);
    return s;
}

double nq__cqm_violation(nq_cqm_sense sense, double lhs, double rhs)
{
    double v = sense == NQ_CQM_LE ? lhs - rhs : sense == NQ_CQM_GE ? rhs - lhs : fabs(lhs - rhs);
    /* Sums of non-integral coefficients carry rounding error; a violation
     * within the tolerance is none. */
    return v <= NQ_CQM_TOL * (1 + fabs(rhs)) ? 0 : v;
}

/* First variable whose value lies outside its domain, or -1. */
static int32_t domain_check(const nq_cqm *m, const int64_t *values)
{
    for (int32_t i = 0; i < m->n_vars; i++) {
        const nq_cqm_var *v = &m->vars[i];
        int64_t x = values[i];
        if (x < v->lb || x > v->ub || (v->fixed && x != v->fixed_value) ||
            (v->kind == NQ_CQM_CHOICE && v->vetoed && v->vetoed[x]))
            return i;
    }
    return -1;
}

void nq_cqm_eval_free(nq_cqm_eval *e)
{
    if (!e)
        return;
    free(e->lhs);
    free(e->violation);
    free(e->group_value);
    memset(e, 0, sizeof *e);
}

int nq_cqm_evaluate(const nq_cqm *m, const int64_t *values, nq_cqm_eval *out, nq_err *err)
{
    memset(out, 0, sizeof *out);
    size_t nc = (size_t)(m->n_cons ? m->n_cons : 1), ng = (size_t)(m->n_groups ? m->n_groups : 1);
    out->lhs = calloc(nc, sizeof *out->lhs);
    out->violation = calloc(nc, sizeof *out->violation);
    out->group_value = calloc(ng, sizeof *out->group_value);
    if (!out->lhs || !out->violation || !out->group_value) {
        nq_cqm_eval_free(out);
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    }
    int32_t bad = domain_check(m, values);
    if (bad >= 0) {
        /* Out-of-domain values would index labels out of range below. */
        snprintf(out->bad_var, sizeof out->bad_var, "%s", m->vars[bad].name);
        out->feasible = 0;
        out->score = INFINITY;
        out->objective = NAN;
        return 0;
    }
    out->objective = m->offset;
    for (int32_t g = 0; g < m->n_groups; g++) {
        out->group_value[g] = nq_cqm_expr_value(m, &m->groups[g].e, values);
        out->objective += out->group_value[g];
    }
    for (int32_t c = 0; c < m->n_cons; c++) {
        const nq_cqm_con *con = &m->cons[c];
        out->lhs[c] = nq_cqm_expr_value(m, &con->e, values);
        out->violation[c] = nq__cqm_violation(con->sense, out->lhs[c], con->rhs);
        if (con->hard && out->violation[c] > 0) {
            out->n_violated++;
            if (out->violation[c] > out->max_violation)
                out->max_violation = out->violation[c];
        } else if (!con->hard) {
            out->penalty += con->weight * out->violation[c];
        }
    }
    out->feasible = out->n_violated == 0;
    out->score = (m->maximize ? -out->objective : out->objective) + out->penalty;
    return 0;
}
