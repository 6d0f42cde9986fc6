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

/* ---- long only, nothing else: the dual, scenario by scenario ------------------------ */

/* With w >= 0 and sum w = 1 the only constraints, the LP's dual
 *
 *   max lambda  s.t.  sum_t q_t r_t + lambda 1 <= 0,  1'q = 1,  0 <= q_t <= c
 *
 * has n + 1 rows, and at the optimum only the tail scenarios (about
 * (1 - beta) T of them) have q_t > 0. So it is solved on a subset of the
 * scenarios (columns), starting with the worst ones of the equal-weight
 * portfolio: the subset's optimum is a lower bound on the CVaR, and its
 * weights (the rows' dual values) an upper bound, their exact CVaR over
 * every scenario. When the two meet the weights are optimal; otherwise
 * the scenarios in the weights' tail join the subset and it runs again. */
static int plain(const nq_pf_spec *s)
{
    if (s->max_turnover >= 0.0)
        return 0;
    for (int32_t g = 0; g < s->n_sectors; g++)
        if ((s->sector_min && !isnan(s->sector_min[g])) ||
            (s->sector_max && !isnan(s->sector_max[g])))
            return 0;
    for (int32_t i = 0; i < s->n; i++)
        if ((s->lb && s->lb[i] != 0.0) || (s->ub && s->ub[i] < 1.0))
            return 0;
    return 1;
}

typedef struct scen_loss {
    double loss;
    int32_t t;
} scen_loss;

static int by_loss(const void *a, const void *b)
{
    double x = ((const scen_loss *)a)->loss, y = ((const scen_loss *)b)->loss;
    return (x > y) - (x < y);
}

/* Losses of w, sorted ascending (ties by index, so runs repeat), and the
 * exact CVaR: min over alpha of alpha + c sum max(0, loss - alpha), which
 * is attained at a sorted loss near index ceil(beta T) - 1. */
static double sorted_losses(const nq_pf_spec *s, const double *w, scen_loss *l)
{
    int32_t T = s->n_scenarios, n = s->n;
    double c = 1.0 / ((1.0 - s->beta) * T), best = INFINITY;
    for (int32_t t = 0; t < T; t++) {
        double r = 0;
        for (int32_t i = 0; i < n; i++)
            r += s->scenarios[(size_t)t * n + i] * w[i];
        l[t] = (scen_loss){-r, t};
    }
    qsort(l, (size_t)T, sizeof *l, by_loss);
    int32_t k = (int32_t)ceil(s->beta * T - 1e-9) - 1;
    for (int32_t a = k - 1; a <= k + 1; a++) {
        if (a < 0 || a >= T)
            continue;
        double f = l[a].loss;
        for (int32_t t = a + 1; t < T; t++)
            f += c * (l[t].loss - l[a].loss);
        best = fmin(best, f);
    }
    return best;
}

/* The dual LP over the scenarios with in[t] set: lambda, and the weights. */
static int restricted(const nq_pf_spec *s, const unsigned char *in, int *ia, int *ja, double *ar,
                      double *w, double *lambda, int64_t *iters)
{
    int32_t n = s->n, T = s->n_scenarios, col = 0;
    double c = 1.0 / ((1.0 - s->beta) * T), sum = 0;
    int nz = 0;
    glp_prob *lp = glp_create_prob();
    glp_set_obj_dir(lp, GLP_MAX);
    glp_add_rows(lp, n + 1);
    for (int32_t i = 0; i < n; i++)
        glp_set_row_bnds(lp, i + 1, GLP_UP, 0.0, 0.0);
    glp_set_row_bnds(lp, n + 1, GLP_FX, 1.0, 1.0);
    for (int32_t t = 0; t < T; t++) {
        if (!in[t])
            continue;
        col = glp_add_cols(lp, 1);
        glp_set_col_bnds(lp, col, GLP_DB, 0.0, c);
        for (int32_t i = 0; i <= n; i++) {
            double v = i < n ? s->scenarios[(size_t)t * n + i] : 1.0;
            if (v != 0.0)
                nz++, ia[nz] = i + 1, ja[nz] = col, ar[nz] = v;
        }
    }
    col = glp_add_cols(lp, 1);
    glp_set_col_bnds(lp, col, GLP_FR, 0.0, 0.0);
    glp_set_obj_coef(lp, col, 1.0);
    for (int32_t i = 0; i < n; i++)
        nz++, ia[nz] = i + 1, ja[nz] = col, ar[nz] = 1.0;
    glp_load_matrix(lp, nz, ia, ja, ar);
    glp_smcp parm;
    glp_init_smcp(&parm);
    parm.msg_lev = GLP_MSG_OFF;
    int was_on = glp_term_out(GLP_OFF);
    int ret = glp_simplex(lp, &parm), st = glp_get_status(lp);
    glp_term_out(was_on);
    int rc = ret == 0 && st == GLP_OPT ? NQ_OK : NQ_EINTERNAL;
    for (int32_t i = 0; !rc && i < n; i++)
        sum += (w[i] = glp_get_row_dual(lp, i + 1));
    for (int32_t i = 0; !rc && i < n; i++) { /* the sign of a maximization's duals */
        w[i] = sum < 0 ? -w[i] : w[i];
        w[i] = fabs(w[i]) < 1e-13 ? 0.0 : w[i];
        if (w[i] < -1e-9)
            rc = NQ_EINTERNAL;
    }
    if (!rc && fabs(fabs(sum) - 1.0) > 1e-9)
        rc = NQ_EINTERNAL;
    *lambda = glp_get_obj_val(lp);
    *iters += glp_get_it_cnt(lp);
    glp_delete_prob(lp);
    return rc;
}

/* NQ_OK with out filled, or nonzero: use the whole primal LP instead. */
static int solve_dual(const nq_pf_spec *s, nq_pf_result *out)
{
    int32_t n = s->n, T = s->n_scenarios, tail = (int32_t)ceil((1.0 - s->beta) * T) + 1;
    size_t cap = (size_t)T * (n + 1) + n + 1;
    unsigned char *in = calloc((size_t)T, 1);
    scen_loss *l = malloc((size_t)T * sizeof *l);
    int *ia = malloc(cap * sizeof *ia), *ja = malloc(cap * sizeof *ja);
    double *ar = malloc(cap * sizeof *ar), lambda = 0, exact = 0;
    int rc = in && l && ia && ja && ar ? NQ_OK : NQ_ENOMEM;
    for (int32_t i = 0; i < n; i++)
        out->w[i] = 1.0 / n;
    out->iterations = 0;
    /* Each round adds the current weights' tail; T / tail rounds at most. */
    for (int round = 0; !rc && round <= T / tail + 1; round++) {
        exact = sorted_losses(s, out->w, l);
        int added = 0;
        for (int32_t k = T - 1; k >= 0 && k >= T - 2 * tail; k--)
            if (!in[l[k].t])
                in[l[k].t] = 1, added++;
        if (round > 0 && fabs(exact - lambda) <= 1e-12 * fmax(1.0, fabs(exact)))
            break; /* the bounds met: optimal over every scenario */
        if (round > 0 && !added) {
            rc = NQ_EINTERNAL; /* cannot happen: the gap means a tail scenario is out */
            break;
        }
        rc = restricted(s, in, ia, ja, ar, out->w, &lambda, &out->iterations);
    }
    if (!rc && !(fabs(exact - lambda) <= 1e-12 * fmax(1.0, fabs(exact))))
        rc = NQ_EINTERNAL;
    if (!rc) {
        out->cvar = exact;
        snprintf(out->method, sizeof out->method, "GLPK simplex (dual LP, tail scenarios)");
    }
    free(in);
    free(l);
    free(ia);
    free(ja);
    free(ar);
    return rc;
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
    } else if (!plain(s) || solve_dual(s, out) != NQ_OK) {
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
