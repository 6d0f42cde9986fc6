/* cvar.c - minimum CVaR portfolio: the Rockafellar-Uryasev LP
 *
 *   min  alpha + 1 / ((1 - beta) T) sum_t u_t
 *   s.t. u_t >= -r_t'w - alpha,  u_t >= 0,  sum w = 1,  bounds, sectors,
 *        turnover (d_i >= |w_i - w0_i|, sum d <= max_turnover)
 *
 * solved by GLPK's simplex with its presolver. The optimum is the
 * per-period CVaR at level beta of the best portfolio over the scenarios. */
#include <glpk.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "optimize_internal.h"

typedef struct lp_build {
    glp_prob *lp;
    int *ia, *ja;
    double *ar;
    int nz;
} lp_build;

static void put(lp_build *b, int row, int col, double v)
{
    if (v == 0.0)
        return;
    b->nz++;
    b->ia[b->nz] = row, b->ja[b->nz] = col, b->ar[b->nz] = v;
}

static int add_row(lp_build *b, int type, double lo, double hi)
{
    int r = glp_add_rows(b->lp, 1);
    glp_set_row_bnds(b->lp, r, type, lo, hi);
    return r;
}

/* Columns: w 1..n, alpha n+1, u n+2..n+1+T, d (turnover) after. */
static void columns(lp_build *b, const nq_pf_spec *s, int turn)
{
    int n = s->n, T = s->n_scenarios;
    glp_add_cols(b->lp, n + 1 + T + (turn ? n : 0));
    for (int i = 0; i < n; i++) {
        double l = s->lb ? s->lb[i] : 0.0, u = s->ub ? s->ub[i] : 1.0;
        glp_set_col_bnds(b->lp, i + 1, l == u ? GLP_FX : GLP_DB, l, u);
    }
    glp_set_col_bnds(b->lp, n + 1, GLP_FR, 0.0, 0.0);
    glp_set_obj_coef(b->lp, n + 1, 1.0);
    double c = 1.0 / ((1.0 - s->beta) * T);
    for (int t = 0; t < T; t++) {
        glp_set_col_bnds(b->lp, n + 2 + t, GLP_LO, 0.0, 0.0);
        glp_set_obj_coef(b->lp, n + 2 + t, c);
    }
    for (int i = 0; turn && i < n; i++)
        glp_set_col_bnds(b->lp, n + 2 + T + i, GLP_FR, 0.0, 0.0);
}

static void rows(lp_build *b, const nq_pf_spec *s, int turn)
{
    int n = s->n, T = s->n_scenarios;
    for (int t = 0; t < T; t++) { /* r_t'w + alpha + u_t >= 0 */
        int r = add_row(b, GLP_LO, 0.0, 0.0);
        for (int i = 0; i < n; i++)
            put(b, r, i + 1, s->scenarios[(size_t)t * n + i]);
        put(b, r, n + 1, 1.0);
        put(b, r, n + 2 + t, 1.0);
    }
    int r = add_row(b, GLP_FX, 1.0, 1.0);
    for (int i = 0; i < n; i++)
        put(b, r, i + 1, 1.0);
    for (int k = 0; s->sector && k < s->n_sectors; k++) {
        double lo = s->sector_min ? s->sector_min[k] : NAN;
        double hi = s->sector_max ? s->sector_max[k] : NAN;
        if (!isfinite(lo) && !isfinite(hi))
            continue;
        int type = isfinite(lo) ? (isfinite(hi) ? GLP_DB : GLP_LO) : GLP_UP;
        r = add_row(b, type, isfinite(lo) ? lo : 0.0, isfinite(hi) ? hi : 0.0);
        for (int i = 0; i < n; i++)
            if (s->sector[i] == k)
                put(b, r, i + 1, 1.0);
    }
    if (!turn)
        return;
    int d0 = n + 2 + T;
    for (int i = 0; i < n; i++) { /* d_i - w_i >= -w0_i, d_i + w_i >= w0_i */
        double w0 = s->w0 ? s->w0[i] : 0.0;
        r = add_row(b, GLP_LO, -w0, 0.0);
        put(b, r, d0 + i, 1.0), put(b, r, i + 1, -1.0);
        r = add_row(b, GLP_LO, w0, 0.0);
        put(b, r, d0 + i, 1.0), put(b, r, i + 1, 1.0);
    }
    r = add_row(b, GLP_UP, 0.0, s->max_turnover);
    for (int i = 0; i < n; i++)
        put(b, r, d0 + i, 1.0);
}

static int solve(lp_build *b, const nq_pf_spec *s, nq_pf_result *out, nq_err *err)
{
    glp_load_matrix(b->lp, b->nz, b->ia, b->ja, b->ar);
    glp_smcp parm;
    glp_init_smcp(&parm);
    parm.msg_lev = GLP_MSG_OFF;
    parm.presolve = GLP_ON;
    int was_on = glp_term_out(GLP_OFF);
    int ret = glp_simplex(b->lp, &parm), st = glp_get_status(b->lp);
    glp_term_out(was_on);
    if (ret == GLP_ENOPFS || (ret == 0 && st == GLP_NOFEAS))
        return nq_err_set(err, NQ_EINVAL,
                          s->max_turnover >= 0.0 ? "/max_turnover"
                          : s->n_sectors > 0     ? "/sectors"
                                                 : "/bounds",
                          "GLPK: the constraints are infeasible");
    if (ret != 0 || st != GLP_OPT)
        return nq_err_set(err, NQ_EINTERNAL, NULL, "GLPK simplex: return code %d, status %d", ret,
                          st);
    for (int i = 0; i < s->n; i++)
        out->w[i] = glp_get_col_prim(b->lp, i + 1);
    out->cvar = glp_get_obj_val(b->lp);
    out->iterations = glp_get_it_cnt(b->lp);
    snprintf(out->method, sizeof out->method, "GLPK simplex");
    return NQ_OK;
}

int nq__pf_min_cvar(const nq_pf_spec *s, nq_pf_result *out, nq_err *err)
{
    int turn = s->max_turnover >= 0.0;
    size_t n = (size_t)s->n, T = (size_t)s->n_scenarios;
    size_t cap = T * (n + 2) + n + (size_t)s->n_sectors * n + (turn ? 5 * n : 0) + 1;
    lp_build b = {.ia = malloc(cap * sizeof(int)),
                  .ja = malloc(cap * sizeof(int)),
                  .ar = malloc(cap * sizeof(double))};
    int rc = NQ_OK;
    if (!b.ia || !b.ja || !b.ar) {
        rc = nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    } else {
        b.lp = glp_create_prob();
        glp_set_obj_dir(b.lp, GLP_MIN);
        columns(&b, s, turn);
        rows(&b, s, turn);
        rc = solve(&b, s, out, err);
        glp_delete_prob(b.lp);
    }
    free(b.ia);
    free(b.ja);
    free(b.ar);
    return rc;
}
