/* alloc.c - whole-share allocation of a weight vector (PyPortfolioOpt's
 * DiscreteAllocation.lp_portfolio as a MILP solved by GLPK) and the orders
 * that move one holding to another.
 *
 * The MILP, with g_i = w_i * budget the target value of asset i:
 *   min  sum_i u_i + r
 *   s.t. u_i >= g_i - p_i x_i,  u_i >= p_i x_i - g_i     (u_i >= |gap_i|)
 *        r = budget - sum_i p_i x_i,  r >= 0               (leftover cash)
 *        x_i >= 0 integer
 * Per asset the objective is max(g_i - 2 v_i, -g_i) + const with v_i = p_i
 * x_i: buying up to the target pays twice, buying past it is free as long
 * as cash is left. Optima are therefore often tied; which of them GLPK
 * returns is not specified. An asset of weight 0 gains nothing from being
 * bought and only uses cash, so its shares are fixed at 0 (the optimum's
 * value is unchanged). */
#include <glpk.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "goliath_internal.h"

/* GLPK settings: presolve on; stop after 5 s or at a relative gap of 1e-7
 * (the objective is money, so this is far below a cent for any budget the
 * shares limit allows). */
#define ALLOC_TIME_LIMIT_MS 5000
#define ALLOC_MIP_GAP 1e-7
/* At most this many shares of one asset (budget / price): beyond it share
 * counts and values stop being exact in doubles and in GLPK's integrality
 * tolerance. */
#define ALLOC_MAX_SHARES 1e12

void nq_pf_allocation_free(nq_pf_allocation *a)
{
    if (!a)
        return;
    free(a->shares);
    *a = (nq_pf_allocation){.n = 0};
}

/* ---- validation ------------------------------------------------------------------- */

static int check_prices(const double *prices, int32_t n, nq_err *err)
{
    char where[48];
    for (int32_t i = 0; i < n; i++) {
        if (!(isfinite(prices[i]) && prices[i] > 0.0)) {
            snprintf(where, sizeof where, "/prices/%d", (int)i);
            return nq_err_set(err, NQ_EINVAL, where, "price %d must be finite and > 0", (int)i);
        }
    }
    return NQ_OK;
}

static int check_alloc(const double *w, const double *prices, int32_t n, double budget, nq_err *err)
{
    if (n < 1 || !w || !prices)
        return nq_err_set(err, NQ_EINVAL, "/n", "at least one asset with weights and prices");
    if (n > NQ_PF_MAX_ASSETS)
        return nq_err_set(err, NQ_ELIMIT, "/n", "more than %d assets", NQ_PF_MAX_ASSETS);
    int rc = check_prices(prices, n, err);
    if (rc)
        return rc;
    double sum = 0.0;
    char where[48];
    for (int32_t i = 0; i < n; i++) {
        if (!(isfinite(w[i]) && w[i] >= 0.0)) {
            snprintf(where, sizeof where, "/weights/%d", (int)i);
            return nq_err_set(err, NQ_EINVAL, where, "weight %d must be finite and >= 0", (int)i);
        }
        sum += w[i];
    }
    if (!(fabs(sum - 1.0) <= 1e-6))
        return nq_err_set(err, NQ_EINVAL, "/weights", "weights sum to %.9g, not 1", sum);
    if (!(isfinite(budget) && budget > 0.0))
        return nq_err_set(err, NQ_EINVAL, "/budget", "budget must be finite and > 0");
    for (int32_t i = 0; i < n; i++)
        if (w[i] > 0.0 && budget / prices[i] > ALLOC_MAX_SHARES)
            return nq_err_set(err, NQ_ERANGE, "/budget",
                              "budget / price of asset %d exceeds %.0g shares", (int)i,
                              ALLOC_MAX_SHARES);
    return NQ_OK;
}

/* ---- evaluation ------------------------------------------------------------------- */

static double spent_of(const int64_t *x, const double *p, int32_t n)
{
    double s = 0.0;
    for (int32_t i = 0; i < n; i++)
        s += (double)x[i] * p[i];
    return s;
}

/* sum |w_i B - x_i p_i| + leftover: the MILP's objective for x. */
static double objective_of(const int64_t *x, const double *w, const double *p, int32_t n,
                           double budget)
{
    double s = budget - spent_of(x, p, n);
    for (int32_t i = 0; i < n; i++)
        s += fabs(w[i] * budget - (double)x[i] * p[i]);
    return s;
}

/* The largest count whose cost stays within the budget, in doubles: the
 * quotient's floor can be one short when budget / price rounds down. */
static int64_t max_shares(double budget, double price)
{
    int64_t k = (int64_t)floor(budget / price);
    if ((double)(k + 1) * price <= budget)
        k++;
    return k;
}

/* Rounding (GLPK's tolerances, or w_i B / p_i in doubles) can let sum x p
 * exceed the budget by a hair; give back a share of the asset most
 * above its target until the exact sum fits. */
static void fit_budget(int64_t *x, const double *w, const double *p, int32_t n, double budget)
{
    while (spent_of(x, p, n) > budget) {
        int32_t pick = -1;
        double over = -HUGE_VAL;
        for (int32_t i = 0; i < n; i++) {
            double o = (double)x[i] * p[i] - w[i] * budget;
            if (x[i] > 0 && o > over) {
                pick = i;
                over = o;
            }
        }
        if (pick < 0)
            return; /* nothing held: spent is 0 */
        x[pick]--;
    }
}

/* Cheap answer that GLPK must beat (and the answer when GLPK stops without
 * one): round every target down, then while cash allows buy one more share
 * of the affordable asset furthest below its target. Each such purchase
 * lowers the objective, and each asset is bought at most once more since
 * the floor leaves it less than one share short. */
static void greedy(const double *w, const double *p, int32_t n, double budget, int64_t *x)
{
    for (int32_t i = 0; i < n; i++)
        x[i] = w[i] > 0.0 ? (int64_t)floor(w[i] * budget / p[i]) : 0;
    fit_budget(x, w, p, n, budget);
    for (int32_t round = 0; round < n; round++) {
        double left = budget - spent_of(x, p, n);
        int32_t best = -1;
        double best_gap = 0.0;
        for (int32_t i = 0; i < n; i++) {
            double gap = w[i] * budget - (double)x[i] * p[i];
            if (gap > best_gap && p[i] <= left) {
                best = i;
                best_gap = gap;
            }
        }
        if (best < 0)
            break;
        x[best]++;
    }
}

/* ---- the MILP --------------------------------------------------------------------- */

/* Columns: x_i = i + 1, u_i = n + i + 1, r = 2n + 1. Rows: 2i + 1 and
 * 2i + 2 the two sides of |gap_i|, 2n + 1 the cash balance. */
static void build_cols(glp_prob *P, const double *w, const double *p, int32_t n, double budget)
{
    glp_add_cols(P, 2 * n + 1);
    for (int32_t i = 0; i < n; i++) {
        int j = i + 1;
        double ub = w[i] > 0.0 ? (double)max_shares(budget, p[i]) : 0.0;
        glp_set_col_kind(P, j, GLP_IV);
        glp_set_col_bnds(P, j, ub > 0.0 ? GLP_DB : GLP_FX, 0.0, ub);
        glp_set_col_bnds(P, n + j, GLP_LO, 0.0, 0.0);
        glp_set_obj_coef(P, n + j, 1.0);
    }
    glp_set_col_bnds(P, 2 * n + 1, GLP_LO, 0.0, 0.0);
    glp_set_obj_coef(P, 2 * n + 1, 1.0);
}

static void build_rows(glp_prob *P, const double *w, const double *p, int32_t n, double budget,
                       int *ind, double *val)
{
    glp_add_rows(P, 2 * n + 1);
    for (int32_t i = 0; i < n; i++) {
        double g = w[i] * budget;
        ind[1] = n + i + 1; /* u_i */
        ind[2] = i + 1;     /* x_i */
        val[1] = 1.0;
        val[2] = p[i]; /* u_i + p_i x_i >= g_i */
        glp_set_mat_row(P, 2 * i + 1, 2, ind, val);
        glp_set_row_bnds(P, 2 * i + 1, GLP_LO, g, 0.0);
        val[2] = -p[i]; /* u_i - p_i x_i >= -g_i */
        glp_set_mat_row(P, 2 * i + 2, 2, ind, val);
        glp_set_row_bnds(P, 2 * i + 2, GLP_LO, -g, 0.0);
    }
    for (int32_t i = 0; i < n; i++) { /* sum p_i x_i + r = budget */
        ind[i + 1] = i + 1;
        val[i + 1] = p[i];
    }
    ind[n + 1] = 2 * n + 1;
    val[n + 1] = 1.0;
    glp_set_mat_row(P, 2 * n + 1, n + 1, ind, val);
    glp_set_row_bnds(P, 2 * n + 1, GLP_FX, budget, budget);
}

/* Solve; x gets GLPK's integer solution. Returns 1 when GLPK found one
 * (optimal, or the best within the time limit), 0 when it found none. */
static int solve_milp(const double *w, const double *p, int32_t n, double budget, int *ind,
                      double *val, int64_t *x)
{
    glp_prob *P = glp_create_prob();
    glp_set_obj_dir(P, GLP_MIN);
    build_cols(P, w, p, n, budget);
    build_rows(P, w, p, n, budget, ind, val);
    glp_iocp o;
    glp_init_iocp(&o);
    o.msg_lev = GLP_MSG_OFF;
    o.presolve = GLP_ON;
    o.mip_gap = ALLOC_MIP_GAP;
    o.tm_lim = ALLOC_TIME_LIMIT_MS;
    glp_intopt(P, &o);
    int st = glp_mip_status(P);
    int found = st == GLP_OPT || st == GLP_FEAS;
    for (int32_t i = 0; found && i < n; i++) {
        double v = glp_mip_col_val(P, i + 1);
        x[i] = v > 0.0 ? llround(v) : 0;
    }
    glp_delete_prob(P);
    return found;
}

/* ---- allocation ------------------------------------------------------------------- */

static void summarize(const double *w, const double *p, int32_t n, double budget,
                      nq_pf_allocation *out)
{
    double spent = spent_of(out->shares, p, n);
    out->leftover = budget - spent; /* >= 0: spent <= budget was enforced */
    out->invested = budget - out->leftover;
    /* Value shares of the invested amount, as pypfopt's RMSE; with nothing
     * invested every share is 0 (pypfopt would divide by zero). */
    double s = 0.0;
    for (int32_t i = 0; i < n; i++) {
        double share = spent > 0.0 ? (double)out->shares[i] * p[i] / spent : 0.0;
        s += (share - w[i]) * (share - w[i]);
    }
    out->rmse = sqrt(s / n);
}

int nq_pf_allocate(const double *w, const double *prices, int32_t n, double budget,
                   nq_pf_allocation *out, nq_err *err)
{
    if (!out)
        return nq_err_set(err, NQ_EINVAL, "/allocation", "no allocation to fill");
    *out = (nq_pf_allocation){.n = 0};
    int rc = check_alloc(w, prices, n, budget, err);
    if (rc)
        return rc;
    size_t m = (size_t)n + 2;
    int64_t *x = calloc((size_t)n, sizeof *x);
    int64_t *g = calloc((size_t)n, sizeof *g);
    int *ind = calloc(m, sizeof *ind);
    double *val = calloc(m, sizeof *val);
    if (!x || !g || !ind || !val) {
        free(x);
        free(g);
        free(ind);
        free(val);
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    }
    greedy(w, prices, n, budget, g);
    int found = solve_milp(w, prices, n, budget, ind, val, x);
    if (found)
        fit_budget(x, w, prices, n, budget);
    /* GLPK's answer unless it has none or, stopped by the time limit, a
     * worse one than the greedy rounding. */
    if (!found || objective_of(x, w, prices, n, budget) > objective_of(g, w, prices, n, budget)) {
        int64_t *t = x;
        x = g;
        g = t;
    }
    free(g);
    free(ind);
    free(val);
    out->n = n;
    out->shares = x;
    summarize(w, prices, n, budget, out);
    return NQ_OK;
}

/* ---- rebalancing ------------------------------------------------------------------ */

static int check_holdings(const int64_t *h, int32_t n, const char *name, nq_err *err)
{
    char where[48];
    for (int32_t i = 0; i < n; i++) {
        if (h[i] < 0) {
            snprintf(where, sizeof where, "/%s/%d", name, (int)i);
            return nq_err_set(err, NQ_EINVAL, where, "%s %d is negative", name, (int)i);
        }
    }
    return NQ_OK;
}

/* value, bought and sold may be NULL. sold is reported as a positive
 * amount. Every input is checked before any output is written. */
int nq_pf_rebalance(const int64_t *current, const int64_t *target, const double *prices, int32_t n,
                    int64_t *delta, double *value, double *bought, double *sold, nq_err *err)
{
    if (n < 1 || !current || !target || !prices || !delta)
        return nq_err_set(err, NQ_EINVAL, "/n", "at least one asset with holdings and prices");
    if (n > NQ_PF_MAX_ASSETS)
        return nq_err_set(err, NQ_ELIMIT, "/n", "more than %d assets", NQ_PF_MAX_ASSETS);
    int rc = check_prices(prices, n, err);
    if (!rc)
        rc = check_holdings(current, n, "holdings", err);
    if (!rc)
        rc = check_holdings(target, n, "target", err);
    if (rc)
        return rc;
    double buy = 0.0, sell = 0.0;
    for (int32_t i = 0; i < n; i++) {
        delta[i] = target[i] - current[i]; /* both >= 0: cannot overflow */
        double v = (double)delta[i] * prices[i];
        if (value)
            value[i] = v;
        if (v > 0.0)
            buy += v;
        else
            sell -= v;
    }
    if (!isfinite(buy) || !isfinite(sell))
        return nq_err_set(err, NQ_ERANGE, "/prices", "order values overflow");
    if (bought)
        *bought = buy;
    if (sold)
        *sold = sell;
    return NQ_OK;
}
