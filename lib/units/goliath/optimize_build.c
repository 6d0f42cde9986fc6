/* optimize_build.c - the weight problems as QPs (nq_qp) and the LP of the
 * largest achievable return (GLPK).
 *
 * Constraints, over the included assets: sum w = 1, bounds, sector sums,
 * and for a turnover limit or a cost, variables t_i >= |w_i - w0_i| (two
 * rows each) with sum t <= max_turnover. An excluded asset (weight fixed
 * at 0) still trades |w0_i|: that constant c0 is carried into the turnover
 * limit and the cost.
 *
 * max_sharpe uses the Cornuejols-Tutuncu transform as PyPortfolioOpt does:
 * y = kappa w with (mu - rf)'y = 1, every constraint on w multiplied by
 * kappa. Here kappa is not a variable of its own: sum w = 1 makes it 1'y,
 * which keeps the Hessian S alone (positive definite when S is) instead
 * of S plus a zero row and column. */
#include <glpk.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "optimize_internal.h"

static double lbound(const nq_pf_spec *s, int32_t i, double min_weight)
{
    double l = s->lb ? s->lb[i] : 0.0;
    return min_weight > 0.0 && min_weight > l ? min_weight : l;
}

static double ubound(const nq_pf_spec *s, int32_t i)
{
    return s->ub ? s->ub[i] : 1.0;
}

static double w0_of(const nq_pf_spec *s, int32_t i)
{
    return s->w0 ? s->w0[i] : 0.0;
}

void nq__pf_prob_free(pf_prob *b)
{
    if (!b)
        return;
    free(b->idx);
    free(b->P);
    memset(b, 0, sizeof *b);
}

/* A new zeroed inequality row (A_in row <= rhs). */
static double *new_row(pf_prob *b, int32_t nv, double rhs)
{
    double *r = b->A_in + (size_t)b->qp.m_in * nv;
    memset(r, 0, (size_t)nv * sizeof *r);
    b->b_in[b->qp.m_in++] = rhs;
    return r;
}

/* Add c * kappa to a row: for max_sharpe kappa is 1'y, elsewhere the
 * constant moves to the right side. */
static void add_kappa(pf_prob *b, double *row, double c)
{
    if (b->kind == PF_SHARPE)
        for (int32_t a = 0; a < b->k; a++)
            row[a] += c;
    else
        b->b_in[b->qp.m_in - 1] -= c;
}

static void sector_rows(pf_prob *b, int32_t nv)
{
    const nq_pf_spec *s = b->s;
    for (int32_t sc = 0; s->sector && sc < s->n_sectors; sc++)
        for (int side = 0; side < 2; side++) {
            const double *lim = side ? s->sector_max : s->sector_min;
            if (!lim || !isfinite(lim[sc]))
                continue;
            double sg = side ? 1.0 : -1.0; /* max: sum <= hi; min: -sum <= -lo */
            double *r = new_row(b, nv, 0.0);
            for (int32_t a = 0; a < b->k; a++)
                if (s->sector[b->idx[a]] == sc)
                    r[a] = sg;
            add_kappa(b, r, -sg * lim[sc]);
        }
}

static void turnover_rows(pf_prob *b, int32_t nv)
{
    const nq_pf_spec *s = b->s;
    int32_t k = b->k;
    for (int32_t a = 0; a < k; a++)
        for (int side = 0; side < 2; side++) { /* +-(w_a - w0_a) - t_a <= 0 */
            double sg = side ? -1.0 : 1.0;
            double *r = new_row(b, nv, 0.0);
            r[a] += sg;
            r[k + a] = -1.0;
            add_kappa(b, r, -sg * w0_of(s, b->idx[a]));
        }
    if (s->max_turnover >= 0.0) {
        double *r = new_row(b, nv, 0.0);
        for (int32_t a = 0; a < k; a++)
            r[k + a] = 1.0;
        add_kappa(b, r, -(s->max_turnover - b->c0));
    }
}

/* max_sharpe: lb_i kappa <= y_i <= ub_i kappa where not implied by y >= 0,
 * and kappa >= 0 when shorting is allowed. */
static void homog_bound_rows(pf_prob *b, int32_t nv, double min_weight)
{
    const nq_pf_spec *s = b->s;
    int shorts = 0;
    for (int32_t a = 0; a < b->k; a++)
        shorts |= lbound(s, b->idx[a], min_weight) < 0.0;
    for (int32_t a = 0; a < b->k; a++) {
        double l = lbound(s, b->idx[a], min_weight), u = ubound(s, b->idx[a]);
        if (l != 0.0) {
            double *r = new_row(b, nv, 0.0);
            r[a] = -1.0;
            add_kappa(b, r, l);
        }
        if (shorts || u < 1.0) {
            double *r = new_row(b, nv, 0.0);
            r[a] = 1.0;
            add_kappa(b, r, -u);
        }
    }
    if (shorts)
        add_kappa(b, new_row(b, nv, 0.0), -1.0);
}

static void objective_terms(pf_prob *b, int32_t nv)
{
    const nq_pf_spec *s = b->s;
    int32_t k = b->k;
    double f = b->kind == PF_UTILITY ? s->risk_aversion : 1.0;
    memset(b->P, 0, (size_t)nv * nv * sizeof *b->P);
    memset(b->q, 0, (size_t)nv * sizeof *b->q);
    for (int32_t a = 0; a < k && b->kind != PF_MAXRET; a++)
        for (int32_t c = 0; c < k; c++)
            b->P[(size_t)a * nv + c] = f * s->S[(size_t)b->idx[a] * s->n + b->idx[c]];
    if (b->kind == PF_UTILITY || b->kind == PF_MAXRET)
        for (int32_t a = 0; a < k; a++) {
            b->q[a] = -s->mu[b->idx[a]];
            if (b->has_t)
                b->q[k + a] = s->cost;
        }
}

static void bounds_and_budget(pf_prob *b, int32_t nv, double min_weight)
{
    const nq_pf_spec *s = b->s;
    int32_t k = b->k;
    for (int32_t j = 0; j < nv; j++)
        b->lb[j] = -INFINITY, b->ub[j] = INFINITY;
    for (int32_t a = 0; a < k; a++) {
        double l = lbound(s, b->idx[a], min_weight);
        if (b->kind == PF_SHARPE) {
            b->lb[a] = l >= 0.0 ? 0.0 : -INFINITY;
            b->A_eq[a] = s->mu[b->idx[a]] - s->rf - s->cost * b->c0;
        } else {
            b->lb[a] = l;
            b->ub[a] = ubound(s, b->idx[a]);
            b->A_eq[a] = 1.0;
        }
        if (b->has_t)
            b->A_eq[k + a] = b->kind == PF_SHARPE ? -s->cost : 0.0;
    }
    b->b_eq[0] = 1.0;
}

static int select_assets(pf_prob *b, const unsigned char *in, nq_err *err)
{
    const nq_pf_spec *s = b->s;
    b->idx = malloc((size_t)s->n * sizeof *b->idx);
    if (!b->idx)
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    for (int32_t i = 0; i < s->n; i++) {
        if (!in || in[i]) {
            b->idx[b->k++] = i;
            continue;
        }
        if ((s->lb ? s->lb[i] : 0.0) > 0.0)
            return nq_err_set(err, NQ_EINVAL, "/bounds",
                              "asset %d is left out but its lower "
                              "bound is positive",
                              (int)i);
        b->c0 += fabs(w0_of(s, i));
    }
    if (b->k == 0)
        return nq_err_set(err, NQ_EINVAL, "/max_assets", "no asset is held");
    return NQ_OK;
}

int nq__pf_build(pf_prob *b, const nq_pf_spec *s, pf_kind kind, const unsigned char *in,
                 double min_weight, double target, nq_err *err)
{
    memset(b, 0, sizeof *b);
    b->s = s, b->kind = kind, b->ret_row = -1;
    int rc = select_assets(b, in, err);
    if (rc) {
        nq__pf_prob_free(b);
        return rc;
    }
    int32_t k = b->k;
    b->has_t = s->max_turnover >= 0.0 || (s->cost > 0.0 && kind != PF_MINVOL);
    int32_t nv = k * (1 + b->has_t);
    size_t rows = 2 * (size_t)s->n_sectors + 4 * (size_t)k + 3;
    size_t total = (size_t)nv * nv + rows * nv + rows + 5 * (size_t)nv + 1;
    b->P = malloc(total * sizeof *b->P);
    if (!b->P) {
        nq__pf_prob_free(b);
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    }
    b->A_in = b->P + (size_t)nv * nv;
    b->b_in = b->A_in + rows * nv;
    b->q = b->b_in + rows, b->A_eq = b->q + nv, b->lb = b->A_eq + nv, b->ub = b->lb + nv;
    b->x = b->ub + nv, b->b_eq = b->x + nv;
    objective_terms(b, nv);
    bounds_and_budget(b, nv, min_weight);
    sector_rows(b, nv);
    if (b->has_t)
        turnover_rows(b, nv);
    if (kind == PF_SHARPE)
        homog_bound_rows(b, nv, min_weight);
    if (kind == PF_RETURN) { /* -(mu'w - cost (1't + c0)) <= -target */
        b->ret_row = b->qp.m_in;
        double *r = new_row(b, nv, -(target + s->cost * b->c0));
        for (int32_t a = 0; a < k; a++) {
            r[a] = -s->mu[b->idx[a]];
            if (b->has_t)
                r[k + a] = s->cost;
        }
    }
    b->qp = (nq_qp){.n = nv,
                    .m_eq = 1,
                    .m_in = b->qp.m_in,
                    .P = kind == PF_MAXRET ? NULL : b->P,
                    .q = b->q,
                    .A_eq = b->A_eq,
                    .b_eq = b->b_eq,
                    .A_in = b->A_in,
                    .b_in = b->b_in,
                    .lb = b->lb,
                    .ub = b->ub};
    return NQ_OK;
}

int nq__pf_prob_solve(pf_prob *b, double *w, nq_err *err)
{
    nq_qp_opts o;
    nq_qp_opts_default(&o);
    o.cancel = b->s->cancel;
    int64_t it = 0;
    int rc = nq_qp_solve(&b->qp, &o, b->x, NULL, &it, err);
    b->iters += it;
    if (rc)
        return rc;
    double kappa = 1.0;
    if (b->kind == PF_SHARPE) {
        kappa = 0.0;
        for (int32_t a = 0; a < b->k; a++)
            kappa += b->x[a];
        if (!(kappa > 0.0))
            return nq_err_set(err, NQ_EINVAL, "/rf", "no portfolio has a return above rf");
    }
    memset(w, 0, (size_t)b->s->n * sizeof *w);
    for (int32_t a = 0; a < b->k; a++)
        w[b->idx[a]] = b->x[a] / kappa;
    return NQ_OK;
}

double nq__pf_net_return(const nq_pf_spec *s, const double *w)
{
    if (!s->mu)
        return 0.0;
    double r = 0.0, t = 0.0;
    for (int32_t i = 0; i < s->n; i++) {
        r += s->mu[i] * w[i];
        t += fabs(w[i] - w0_of(s, i));
    }
    return r - s->cost * t;
}

static void lp_columns(glp_prob *lp, const pf_prob *b)
{
    int32_t nv = b->qp.n;
    glp_add_cols(lp, nv);
    for (int32_t j = 0; j < nv; j++) {
        double l = b->lb[j], u = b->ub[j];
        int type = isfinite(l) ? (isfinite(u) ? (l == u ? GLP_FX : GLP_DB) : GLP_LO)
                               : (isfinite(u) ? GLP_UP : GLP_FR);
        glp_set_col_bnds(lp, j + 1, type, isfinite(l) ? l : 0.0, isfinite(u) ? u : 0.0);
        glp_set_obj_coef(lp, j + 1, b->q[j]);
    }
}

static void lp_row(glp_prob *lp, const double *a, int32_t nv, int type, double rhs, int *ind,
                   double *val)
{
    int row = glp_add_rows(lp, 1), len = 0;
    for (int32_t j = 0; j < nv; j++)
        if (a[j] != 0.0)
            ind[++len] = j + 1, val[len] = a[j];
    glp_set_mat_row(lp, row, len, ind, val);
    glp_set_row_bnds(lp, row, type, rhs, rhs);
}

/* Minimize q'x over b's constraints with GLPK: 0, or 1 when infeasible,
 * or -1 when GLPK gives no optimum. */
static int lp_solve(const pf_prob *b, double *x, int *ind, double *val)
{
    glp_prob *lp = glp_create_prob();
    int32_t nv = b->qp.n;
    lp_columns(lp, b);
    lp_row(lp, b->A_eq, nv, GLP_FX, b->b_eq[0], ind, val);
    for (int32_t i = 0; i < b->qp.m_in; i++)
        lp_row(lp, b->A_in + (size_t)i * nv, nv, GLP_UP, b->b_in[i], ind, val);
    glp_smcp parm;
    glp_init_smcp(&parm);
    parm.msg_lev = GLP_MSG_OFF;
    parm.presolve = GLP_ON;
    int was_on = glp_term_out(GLP_OFF);
    int ret = glp_simplex(lp, &parm), st = glp_get_status(lp);
    glp_term_out(was_on);
    int rc = ret == GLP_ENOPFS || (ret == 0 && st == GLP_NOFEAS) ? 1
             : ret == 0 && st == GLP_OPT                         ? 0
                                                                 : -1;
    for (int32_t j = 0; !rc && j < nv; j++)
        x[j] = glp_get_col_prim(lp, j + 1);
    glp_delete_prob(lp);
    return rc;
}

int nq__pf_max_return(const nq_pf_spec *s, const unsigned char *in, double min_weight, double *rmax,
                      double *w, nq_err *err)
{
    pf_prob b;
    int rc = nq__pf_build(&b, s, PF_MAXRET, in, min_weight, 0.0, err);
    if (rc)
        return rc;
    int32_t nv = b.qp.n;
    int *ind = malloc(((size_t)nv + 1) * sizeof *ind);
    double *val = malloc(((size_t)nv + 1) * sizeof *val);
    double *full = malloc((size_t)s->n * sizeof *full);
    if (!ind || !val || !full)
        rc = nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    int lp = rc ? 0 : lp_solve(&b, b.x, ind, val);
    if (!rc && lp == 1)
        rc = nq_err_set(err, NQ_EINVAL, "/constraints", "the constraints are infeasible");
    else if (!rc && lp != 0)
        rc = nq_err_set(err, NQ_EINTERNAL, NULL, "GLPK found no optimum of the return LP");
    if (!rc) {
        memset(full, 0, (size_t)s->n * sizeof *full);
        for (int32_t a = 0; a < b.k; a++)
            full[b.idx[a]] = b.x[a];
        *rmax = nq__pf_net_return(s, full);
        if (w)
            memcpy(w, full, (size_t)s->n * sizeof *w);
    }
    free(ind);
    free(val);
    free(full);
    nq__pf_prob_free(&b);
    return rc;
}
