/* cqm_milp.c - a constrained model solved exactly by GLPK's branch-and-cut.
 *
 * Columns: atom a is column a+1 (binary and choice options 0/1 integers,
 * integer variables integers in their bounds); then one column per distinct
 * product of two 0/1 atoms (McCormick-linearized, exact at integer points);
 * then one nonnegative violation column per soft constraint (two for ==).
 * The LP minimizes the score: +-objective plus weight x violation. Rows:
 * one "options sum to 1" row per choice variable, three rows per product,
 * one row per constraint. See docs/internals/glpk.md. */
#include <float.h>
#include <glpk.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cqm_index.h"
#include "cqm_milp_seed.h"
#include "nqba/clock.h"
#include "nqba/cqm.h"

typedef struct milp_pair {
    int32_t a, b; /* a < b, both 0/1 atoms */
} milp_pair;

typedef struct milp {
    const nq_cqm *m;            /* finished */
    const nq__cqm_index *given; /* m's index when the caller has one, else NULL */
    glp_prob *P;
    milp_pair *pairs; /* distinct products, sorted */
    int32_t n_pairs;
    int n_cols;
    int next_viol;     /* next unused violation column */
    double *acc;       /* per column (1-based): coefficient being summed */
    unsigned char *in; /* per column: listed in touched */
    int *touched;
    int n_touched;
    int *ind; /* a row for glp_set_mat_row (1-based) */
    double *val;
    nq_err *err;
} milp;

/* What the two GLPK runs found, in minimization terms. */
typedef struct milp_run {
    int status;         /* as nq_milp_result.status */
    double lp;          /* LP relaxation optimum, -inf if unknown */
    double tree;        /* best bound of the open branch-and-bound nodes seen */
    const double *seed; /* columns 1..n of a first incumbent, until handed over */
} milp_run;

static int is01(const nq_cqm *m, int32_t atom)
{
    return m->vars[m->atom_var[atom]].kind != NQ_CQM_INTEGER;
}

/* ---- products of 0/1 atoms ------------------------------------------------- */

static int check_quad(const milp *q, const nq_cqm_quad *t, const char *where)
{
    int32_t bad = !is01(q->m, t->a) ? t->a : !is01(q->m, t->b) ? t->b : -1;
    if (bad < 0)
        return 0;
    return nq_err_set(q->err, NQ_EINVAL, where,
                      "milp: quadratic term on integer variable %s is not supported",
                      q->m->vars[q->m->atom_var[bad]].name);
}

static int64_t count_quads(const nq_cqm *m)
{
    int64_t n = 0;
    for (int32_t g = 0; g < m->n_groups; g++)
        n += m->groups[g].e.n_quad;
    for (int32_t c = 0; c < m->n_cons; c++)
        n += m->cons[c].e.n_quad;
    return n;
}

/* Check every quadratic term of e and list its product (a != b). */
static int list_pairs(milp *q, const nq_cqm_expr *e, const char *where)
{
    for (int32_t k = 0; k < e->n_quad; k++) {
        const nq_cqm_quad *t = &e->quad[k];
        int rc = check_quad(q, t, where);
        if (rc)
            return rc;
        if (t->a != t->b)
            q->pairs[q->n_pairs++] =
                (milp_pair){.a = t->a < t->b ? t->a : t->b, .b = t->a < t->b ? t->b : t->a};
    }
    return 0;
}

static int cmp_pair(const void *x, const void *y)
{
    const milp_pair *p = x, *r = y;
    if (p->a != r->a)
        return p->a < r->a ? -1 : 1;
    return p->b < r->b ? -1 : p->b > r->b;
}

static int collect_pairs(milp *q)
{
    const nq_cqm *m = q->m;
    int64_t n = count_quads(m);
    q->pairs = malloc((size_t)(n ? n : 1) * sizeof *q->pairs);
    if (!q->pairs)
        return nq_err_set(q->err, NQ_ENOMEM, NULL, "out of memory");
    int rc = 0;
    for (int32_t g = 0; g < m->n_groups && !rc; g++)
        rc = list_pairs(q, &m->groups[g].e, m->groups[g].name);
    for (int32_t c = 0; c < m->n_cons && !rc; c++)
        rc = list_pairs(q, &m->cons[c].e, m->cons[c].name);
    if (rc)
        return rc;
    qsort(q->pairs, (size_t)q->n_pairs, sizeof *q->pairs, cmp_pair);
    int32_t k = 0;
    for (int32_t i = 0; i < q->n_pairs; i++)
        if (k == 0 || cmp_pair(&q->pairs[k - 1], &q->pairs[i]) != 0)
            q->pairs[k++] = q->pairs[i];
    q->n_pairs = k;
    return 0;
}

static int pair_col(const milp *q, int32_t a, int32_t b)
{
    milp_pair key = {.a = a < b ? a : b, .b = a < b ? b : a};
    const milp_pair *p = bsearch(&key, q->pairs, (size_t)q->n_pairs, sizeof key, cmp_pair);
    return q->m->n_atoms + 1 + (int)(p - q->pairs); /* every product was listed */
}

/* ---- summing a row ------------------------------------------------------------ */

static void acc_add(milp *q, int col, double w)
{
    if (!q->in[col]) {
        q->in[col] = 1;
        q->touched[q->n_touched++] = col;
    }
    q->acc[col] += w;
}

/* Add scale * e; a square of a 0/1 atom is the atom itself. */
static void acc_expr(milp *q, const nq_cqm_expr *e, double scale)
{
    for (int32_t k = 0; k < e->n_lin; k++)
        acc_add(q, e->lin[k].atom + 1, scale * e->lin[k].w);
    for (int32_t k = 0; k < e->n_quad; k++) {
        const nq_cqm_quad *t = &e->quad[k];
        acc_add(q, t->a == t->b ? t->a + 1 : pair_col(q, t->a, t->b), scale * t->w);
    }
}

/* Move the summed coefficients into ind/val (zeros dropped: GLPK refuses
 * neither, but they only cost time) and clear the accumulator. */
static int acc_flush(milp *q)
{
    int len = 0;
    for (int k = 0; k < q->n_touched; k++) {
        int col = q->touched[k];
        if (q->acc[col] != 0.0) {
            len++;
            q->ind[len] = col;
            q->val[len] = q->acc[col];
        }
        q->acc[col] = 0.0;
        q->in[col] = 0;
    }
    q->n_touched = 0;
    return len;
}

static void add_row(milp *q, int type, double rhs)
{
    int len = acc_flush(q);
    int i = glp_add_rows(q->P, 1);
    glp_set_row_bnds(q->P, i, type, rhs, rhs);
    glp_set_mat_row(q->P, i, len, q->ind, q->val);
}

/* ---- columns and rows ---------------------------------------------------------- */

static void int_col(glp_prob *P, int j, int64_t lb, int64_t ub)
{
    glp_set_col_kind(P, j, GLP_IV);
    glp_set_col_bnds(P, j, lb == ub ? GLP_FX : GLP_DB, (double)lb, (double)ub);
}

/* One 0/1 column per option (vetoed options, and all but a fixed one,
 * fixed to 0) and the row that picks exactly one. */
static void add_choice(milp *q, const nq_cqm_var *v)
{
    for (int32_t k = 0; k < v->n_options; k++) {
        int allowed = !(v->vetoed && v->vetoed[k]) && (!v->fixed || v->fixed_value == k);
        int_col(q->P, v->atom + k + 1, 0, allowed);
        acc_add(q, v->atom + k + 1, 1.0);
    }
    add_row(q, GLP_FX, 1.0);
}

static void add_var_cols(milp *q)
{
    for (int32_t i = 0; i < q->m->n_vars; i++) {
        const nq_cqm_var *v = &q->m->vars[i];
        if (v->kind == NQ_CQM_CHOICE)
            add_choice(q, v);
        else if (v->fixed)
            int_col(q->P, v->atom + 1, v->fixed_value, v->fixed_value);
        else
            int_col(q->P, v->atom + 1, v->lb, v->ub);
    }
}

/* y = a*b for 0/1 a, b: y <= a, y <= b, y >= a + b - 1, 0 <= y <= 1. All
 * three rows stay, since y may appear in constraints with either sign. */
static void add_products(milp *q)
{
    for (int32_t k = 0; k < q->n_pairs; k++) {
        int y = q->m->n_atoms + 1 + k, a = q->pairs[k].a + 1, b = q->pairs[k].b + 1;
        glp_set_col_bnds(q->P, y, GLP_DB, 0.0, 1.0);
        acc_add(q, y, 1.0);
        acc_add(q, a, -1.0);
        add_row(q, GLP_UP, 0.0);
        acc_add(q, y, 1.0);
        acc_add(q, b, -1.0);
        add_row(q, GLP_UP, 0.0);
        acc_add(q, y, -1.0);
        acc_add(q, a, 1.0);
        acc_add(q, b, 1.0);
        add_row(q, GLP_UP, 1.0);
    }
}

static void set_objective(milp *q)
{
    double sign = q->m->maximize ? -1.0 : 1.0;
    for (int32_t g = 0; g < q->m->n_groups; g++)
        acc_expr(q, &q->m->groups[g].e, sign);
    int len = acc_flush(q);
    for (int k = 1; k <= len; k++)
        glp_set_obj_coef(q->P, q->ind[k], q->val[k]);
    glp_set_obj_coef(q->P, 0, sign * q->m->offset);
}

/* A violation column costing weight per unit, entering the row with coef. */
static void add_violation(milp *q, double weight, double coef)
{
    int v = q->next_viol++;
    glp_set_col_bnds(q->P, v, GLP_LO, 0.0, 0.0);
    glp_set_obj_coef(q->P, v, weight);
    acc_add(q, v, coef);
}

/* Hard: lhs <=/>=/== rhs. Soft: lhs - v <= rhs, lhs + v >= rhs, or
 * lhs - v + w == rhs, so the cheapest v (+ w) is exactly the violation. */
static void add_constraint(milp *q, const nq_cqm_con *c)
{
    acc_expr(q, &c->e, 1.0);
    if (!c->hard) {
        add_violation(q, c->weight, c->sense == NQ_CQM_GE ? 1.0 : -1.0);
        if (c->sense == NQ_CQM_EQ)
            add_violation(q, c->weight, 1.0);
    }
    add_row(q, c->sense == NQ_CQM_LE ? GLP_UP : c->sense == NQ_CQM_GE ? GLP_LO : GLP_FX, c->rhs);
}

static int count_cols(const milp *q)
{
    int64_t n = (int64_t)q->m->n_atoms + q->n_pairs;
    for (int32_t c = 0; c < q->m->n_cons; c++)
        if (!q->m->cons[c].hard)
            n += q->m->cons[c].sense == NQ_CQM_EQ ? 2 : 1;
    return n > INT_MAX - 1 ? -1 : (int)n;
}

static int milp_build(milp *q)
{
    int rc = collect_pairs(q);
    if (rc)
        return rc;
    q->n_cols = count_cols(q);
    if (q->n_cols < 0)
        return nq_err_set(q->err, NQ_ELIMIT, NULL, "milp: too many columns");
    size_t n = (size_t)q->n_cols + 1;
    q->acc = calloc(n, sizeof *q->acc);
    q->in = calloc(n, 1);
    q->touched = malloc(n * sizeof *q->touched);
    q->ind = malloc(n * sizeof *q->ind);
    q->val = malloc(n * sizeof *q->val);
    if (!q->acc || !q->in || !q->touched || !q->ind || !q->val)
        return nq_err_set(q->err, NQ_ENOMEM, NULL, "out of memory");
    q->P = glp_create_prob();
    glp_set_obj_dir(q->P, GLP_MIN);
    if (q->n_cols > 0)
        glp_add_cols(q->P, q->n_cols);
    q->next_viol = q->m->n_atoms + q->n_pairs + 1;
    add_var_cols(q);
    add_products(q);
    set_objective(q);
    for (int32_t c = 0; c < q->m->n_cons; c++)
        add_constraint(q, &q->m->cons[c]);
    return 0;
}

static void milp_free(milp *q)
{
    if (q->P)
        glp_delete_prob(q->P);
    free(q->pairs);
    free(q->acc);
    free(q->in);
    free(q->touched);
    free(q->ind);
    free(q->val);
}

/* ---- a first incumbent ------------------------------------------------------- */

/* The columns of an assignment: atoms, products of their factors, and
 * each soft constraint's violation (as add_constraint lays them out). */
static void seed_columns(const milp *q, const int64_t *values, double *x)
{
    const nq_cqm *m = q->m;
    for (int32_t a = 0; a < m->n_atoms; a++)
        x[a + 1] = (double)nq_cqm_atom_value(m, values, a);
    for (int32_t k = 0; k < q->n_pairs; k++)
        x[m->n_atoms + 1 + k] = x[q->pairs[k].a + 1] * x[q->pairs[k].b + 1];
    int col = m->n_atoms + q->n_pairs + 1;
    for (int32_t c = 0; c < m->n_cons; c++) {
        const nq_cqm_con *con = &m->cons[c];
        if (con->hard)
            continue;
        double lhs = nq_cqm_expr_value(m, &con->e, values);
        if (con->sense != NQ_CQM_GE)
            x[col++] = fmax(0.0, lhs - con->rhs);
        if (con->sense != NQ_CQM_LE)
            x[col++] = fmax(0.0, con->rhs - lhs);
    }
}

static int within(int type, double lb, double ub, double v)
{
    double tol_lo = 1e-9 * (1.0 + fabs(lb)), tol_up = 1e-9 * (1.0 + fabs(ub));
    if ((type == GLP_LO || type == GLP_DB || type == GLP_FX) && v < lb - tol_lo)
        return 0;
    return !((type == GLP_UP || type == GLP_DB || type == GLP_FX) && v > ub + tol_up);
}

/* GLPK takes a heuristic's point without checking rows: check every
 * column and row bound here, so a point the model's own check accepted
 * but a row refuses (tolerances) is never handed over. */
static int seed_fits(const milp *q, const double *x)
{
    glp_prob *P = q->P;
    for (int j = 1; j <= q->n_cols; j++)
        if (!within(glp_get_col_type(P, j), glp_get_col_lb(P, j), glp_get_col_ub(P, j), x[j]))
            return 0;
    for (int i = 1, n = glp_get_num_rows(P); i <= n; i++) {
        int len = glp_get_mat_row(P, i, q->ind, q->val);
        double sum = 0.0;
        for (int k = 1; k <= len; k++)
            sum += q->val[k] * x[q->ind[k]];
        if (!within(glp_get_row_type(P, i), glp_get_row_lb(P, i), glp_get_row_ub(P, i), sum))
            return 0;
    }
    return 1;
}

/* Is the relaxation's optimum integral? Then GLPK is done at the root. */
static int lp_integral(const milp *q)
{
    for (int j = 1; j <= q->n_cols; j++) {
        double x = glp_get_col_prim(q->P, j);
        if (glp_get_col_kind(q->P, j) != GLP_CV && fabs(x - floor(x + 0.5)) > 1e-9)
            return 0;
    }
    return 1;
}

/* A first incumbent from the optimal relaxation (cqm_milp_seed.c), as a
 * column vector for glp_ios_heur_sol; NULL when there is none. */
static double *make_seed(const milp *q)
{
    const nq_cqm *m = q->m;
    if (lp_integral(q))
        return NULL;
    nq__cqm_index own;
    nq_err ignored;
    if (!q->given && nq__cqm_index_build(m, &own, &ignored))
        return NULL;
    const nq__cqm_index *ix = q->given ? q->given : &own;
    size_t na = (size_t)(m->n_atoms ? m->n_atoms : 1);
    double *lp = malloc(2 * na * sizeof *lp); /* values, then reduced costs */
    int64_t *values = malloc((size_t)(m->n_vars ? m->n_vars : 1) * sizeof *values);
    double *x = malloc(((size_t)q->n_cols + 1) * sizeof *x);
    int ok = lp && values && x;
    if (ok) {
        for (int32_t a = 0; a < m->n_atoms; a++) {
            lp[a] = glp_get_col_prim(q->P, a + 1);
            lp[na + (size_t)a] = glp_get_col_dual(q->P, a + 1);
        }
        ok = nq__milp_seed(ix, lp, lp + na, values) == 1;
    }
    if (ok) {
        seed_columns(q, values, x);
        ok = seed_fits(q, x);
    }
    if (!q->given)
        nq__cqm_index_free(&own);
    free(lp);
    free(values);
    if (!ok) {
        free(x);
        return NULL;
    }
    return x;
}

/* ---- solving --------------------------------------------------------------------- */

/* Milliseconds left of the caller's limit for GLPK's tm_lim (at least 1,
 * since 0 would not stop GLPK at once); no limit is GLPK's INT_MAX. */
static int ms_left(double limit, double t0)
{
    if (limit <= 0.0)
        return INT_MAX;
    double left = ceil((limit - (nq_clock_s() - t0)) * 1e3);
    return left < 1.0 ? 1 : left > (double)INT_MAX ? INT_MAX : (int)left;
}

/* glp_intopt offers no global bound after a time limit, so the callback
 * keeps the best bound of the open nodes it sees (each is a valid lower
 * bound on the optimum when seen, hence so is the largest). */
static void track_bound(glp_tree *T, void *info)
{
    milp_run *r = info;
    if (r->seed && glp_ios_reason(T) == GLP_IHEUR) {
        glp_ios_heur_sol(T, r->seed); /* refused only when not better */
        r->seed = NULL;
    }
    int p = glp_ios_best_node(T);
    if (p) {
        double b = glp_ios_node_bound(T, p);
        if (b > r->tree && b < HUGE_VAL && b > -DBL_MAX)
            r->tree = b;
    }
}

/* The LP relaxation first: its optimum is a bound, and its infeasibility
 * already proves the model infeasible. Returns nonzero when done. */
static int run_lp(glp_prob *P, double limit, double t0, milp_run *r)
{
    glp_smcp s;
    glp_init_smcp(&s);
    s.msg_lev = GLP_MSG_OFF;
    s.presolve = GLP_OFF;
    s.tm_lim = ms_left(limit, t0);
    if (glp_simplex(P, &s) != 0)
        return 0; /* time limit or trouble: the MIP search still runs */
    if (glp_get_status(P) == GLP_NOFEAS) {
        r->status = 2;
        return 1;
    }
    if (glp_get_status(P) == GLP_OPT)
        r->lp = glp_get_obj_val(P);
    return 0;
}

static void run_mip(glp_prob *P, double limit, double t0, milp_run *r)
{
    glp_iocp o;
    glp_init_iocp(&o);
    o.msg_lev = GLP_MSG_OFF;
    /* After an optimal relaxation the search starts from its basis; the
     * presolver would build a copy of the problem and solve it again. */
    o.presolve = r->lp > -INFINITY ? GLP_OFF : GLP_ON;
    o.mip_gap = 0.0;
    /* Bound tightening at the root only: below it GLPK's preprocessing
     * redoes per node a pass that for the small models sent to the
     * decision engine costs more than the nodes it saves (about 10 % of
     * a 50-item knapsack's solve). */
    o.pp_tech = GLP_PP_ROOT;
    o.tm_lim = ms_left(limit, t0);
    o.cb_func = track_bound;
    o.cb_info = r;
    int ret = glp_intopt(P, &o);
    int st = glp_mip_status(P);
    if (st == GLP_OPT)
        r->status = 0;
    else if (st == GLP_FEAS)
        r->status = 1;
    else if (st == GLP_NOFEAS || ret == GLP_ENOPFS)
        r->status = 2;
    else
        r->status = 3;
}

/* Values of the variables from the MIP columns; choice = the option at 1. */
static void decode(const milp *q, int64_t *values)
{
    for (int32_t i = 0; i < q->m->n_vars; i++) {
        const nq_cqm_var *v = &q->m->vars[i];
        if (v->kind != NQ_CQM_CHOICE) {
            values[i] = llround(glp_mip_col_val(q->P, v->atom + 1));
            continue;
        }
        values[i] = 0;
        for (int32_t k = 0; k < v->n_options; k++)
            if (glp_mip_col_val(q->P, v->atom + k + 1) > 0.5)
                values[i] = k;
    }
}

/* Decode and verify the answer on the model itself; an answer GLPK calls
 * feasible that fails the exact check (a tolerance artefact) is dropped
 * rather than reported, leaving status 3. */
static int take_answer(const milp *q, milp_run *r, nq_milp_result *out)
{
    out->values = calloc((size_t)(q->m->n_vars ? q->m->n_vars : 1), sizeof *out->values);
    if (!out->values)
        return nq_err_set(q->err, NQ_ENOMEM, NULL, "out of memory");
    decode(q, out->values);
    nq_cqm_eval ev;
    int rc = nq_cqm_evaluate(q->m, out->values, &ev, q->err);
    if (rc)
        return rc;
    if (ev.feasible) {
        out->objective = ev.objective;
    } else {
        r->status = 3;
        free(out->values);
        out->values = NULL;
    }
    nq_cqm_eval_free(&ev);
    return 0;
}

/* The bound on the minimized score, then turned to the stated direction. */
static void set_bound(const milp *q, const milp_run *r, nq_milp_result *out)
{
    double b;
    if (r->status == 2)
        b = INFINITY;
    else if (r->status == 0)
        b = glp_mip_obj_val(q->P);
    else
        b = fmax(r->lp, r->tree);
    if (r->status == 1)
        b = fmin(b, glp_mip_obj_val(q->P)); /* nodes GLPK has not pruned yet */
    out->bound = q->m->maximize ? -b : b;
}

static int milp_solve(milp *q, double limit, double t0, nq_milp_result *out)
{
    milp_run r = {.status = 3, .lp = -INFINITY, .tree = -INFINITY};
    double *seed = NULL;
    if (!run_lp(q->P, limit, t0, &r)) {
        if (r.lp > -INFINITY)
            r.seed = seed = make_seed(q);
        run_mip(q->P, limit, t0, &r);
    }
    free(seed);
    int rc = 0;
    if (r.status <= 1)
        rc = take_answer(q, &r, out);
    if (rc)
        return rc;
    set_bound(q, &r, out);
    out->status = r.status;
    return 0;
}

int nq_cqm_solve_milp(const nq_cqm *m, double time_limit, nq_milp_result *out, nq_err *err)
{
    return nq__cqm_solve_milp_ix(m, NULL, time_limit, out, err);
}

int nq__cqm_solve_milp_ix(const nq_cqm *m, const nq__cqm_index *ix, double time_limit,
                          nq_milp_result *out, nq_err *err)
{
    double t0 = nq_clock_s();
    if (!out)
        return nq_err_set(err, NQ_EINVAL, NULL, "no result");
    memset(out, 0, sizeof *out);
    if (!m)
        return nq_err_set(err, NQ_EINVAL, NULL, "no model");
    if (!(time_limit >= 0.0) || !isfinite(time_limit))
        return nq_err_set(err, NQ_EINVAL, "time_limit", "must be a finite number >= 0");
    /* A finished model (nq_cqm_solve passes its own finished copy) is
     * read as it is; any other is finished on a copy, the caller's stays
     * untouched. */
    nq_cqm fm;
    nq_cqm_init(&fm);
    int rc = m->finished ? 0 : nq_cqm_copy(m, &fm, err);
    if (rc)
        return rc;
    if (!m->finished)
        rc = nq_cqm_finish(&fm, err);
    const nq__cqm_index *given = m->finished && ix && ix->m == m ? ix : NULL;
    milp q = {.m = m->finished ? m : &fm, .given = given, .err = err};
    /* GLPK prints through its own per-thread switch; keep the library quiet. */
    int was_on = glp_term_out(GLP_OFF);
    if (!rc)
        rc = milp_build(&q);
    if (!rc)
        rc = milp_solve(&q, time_limit, t0, out);
    glp_term_out(was_on);
    milp_free(&q);
    nq_cqm_free(&fm);
    if (rc)
        nq_milp_result_free(out);
    out->elapsed = nq_clock_s() - t0;
    return rc;
}

void nq_milp_result_free(nq_milp_result *r)
{
    if (!r)
        return;
    free(r->values);
    memset(r, 0, sizeof *r);
}
