/* uc_milp.c - nq_uc_solve_milp: the unit commitment as a MILP on GLPK, the
 * exact cross-check of the engine.
 *
 * Per unit i and hour t: u (on, binary), p (MW), f (fuel, USD/h), su
 * (start-up, USD), v and w (start and stop, in [0, 1]; integral through u).
 *   f >= (a - c q^2) u + (b + 2 c q) p   at K points q in [pmin, pmax]: the
 *        tangents of a + b p + c p^2 at q, scaled by u so that u = 0, p = 0
 *        gives f >= 0. Below the curve, so the optimum is a lower bound.
 *   pmin u <= p <= pmax u;  sum_i p = demand;  sum_i pmax u >= (1 + r) demand
 *   u_t - u_{t-1} = v_t - w_t   (u_{-1} from the initial status)
 *   sum_{k=t-MU+1..t} v_k <= u_t;  sum_{k=t-MD+1..t} w_k <= 1 - u_t
 *   su >= hot v_t;  su >= cold (u_t - sum_{k=1..L} u_{t-k}),  L = MD + CH + 1:
 *        cold when off for all of the last MD + CH + 1 hours, i.e. for more
 *        than MD + CH (a lookback of MD + CH would call a start after
 *        exactly MD + CH hours off cold). Hours before the horizon count:
 *        on for h hours, or off for h hours and on before that.
 *   the hours the initial status locks are fixed.
 * Minimize sum f + su. The commitment found is then costed exactly. */
#include <float.h>
#include <glpk.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nqba/clock.h"
#include "uc_internal.h"

#define DEFAULT_LIMIT 10.0
#define MIP_GAP 1e-9
#define MAX_TANGENTS 1000

enum { C_U, C_P, C_F, C_SU, C_V, C_W, N_KINDS };

typedef struct mb {
    const nq_uc_problem *p;
    glp_prob *P;
    int *ia, *ja;
    double *ar;
    int nz, cap;
    int oom;
} mb;

static int col(const mb *b, int kind, int32_t i, int32_t t)
{
    return 1 + ((i * b->p->hours + t) * N_KINDS + kind);
}

static void put(mb *b, int row, int c, double v)
{
    if (b->oom || v == 0)
        return;
    if (b->nz + 1 >= b->cap) {
        int cap = b->cap ? 2 * b->cap : 4096;
        int *ia = realloc(b->ia, (size_t)cap * sizeof *ia);
        if (ia)
            b->ia = ia;
        int *ja = realloc(b->ja, (size_t)cap * sizeof *ja);
        if (ja)
            b->ja = ja;
        double *ar = realloc(b->ar, (size_t)cap * sizeof *ar);
        if (ar)
            b->ar = ar;
        if (!ia || !ja || !ar) {
            b->oom = 1;
            return;
        }
        b->cap = cap;
    }
    b->nz++; /* GLPK's arrays are 1-based */
    b->ia[b->nz] = row;
    b->ja[b->nz] = c;
    b->ar[b->nz] = v;
}

static int row(mb *b, int type, double lo, double hi)
{
    int r = glp_add_rows(b->P, 1);
    glp_set_row_bnds(b->P, r, type, lo, hi);
    return r;
}

static void add_columns(mb *b)
{
    const nq_uc_problem *p = b->p;
    glp_add_cols(b->P, p->n_units * p->hours * N_KINDS);
    for (int32_t i = 0; i < p->n_units; i++) {
        const nq_uc_unit *u = &p->units[i];
        int32_t locked = nq__uc_locked_hours(u, p->hours);
        for (int32_t t = 0; t < p->hours; t++) {
            int cu = col(b, C_U, i, t);
            glp_set_col_kind(b->P, cu, GLP_BV);
            if (t < locked)
                glp_set_col_bnds(b->P, cu, GLP_FX, u->initial_status > 0, 0);
            if (u->pmax > 0)
                glp_set_col_bnds(b->P, col(b, C_P, i, t), GLP_DB, 0, u->pmax);
            else
                glp_set_col_bnds(b->P, col(b, C_P, i, t), GLP_FX, 0, 0);
            glp_set_col_bnds(b->P, col(b, C_F, i, t), GLP_FR, 0, 0);
            glp_set_col_bnds(b->P, col(b, C_SU, i, t), GLP_LO, 0, 0);
            glp_set_col_bnds(b->P, col(b, C_V, i, t), GLP_DB, 0, 1);
            glp_set_col_bnds(b->P, col(b, C_W, i, t), GLP_DB, 0, 1);
            glp_set_obj_coef(b->P, col(b, C_F, i, t), 1);
            glp_set_obj_coef(b->P, col(b, C_SU, i, t), 1);
        }
    }
}

static void add_fuel(mb *b, int32_t i, int32_t t, int32_t k_cuts)
{
    const nq_uc_unit *u = &b->p->units[i];
    int32_t k = u->c > 0 && u->pmax > u->pmin ? k_cuts : 1; /* a line is its own tangent */
    for (int32_t j = 0; j < k; j++) {
        double q = k == 1 ? 0.5 * (u->pmin + u->pmax)
                          : u->pmin + (u->pmax - u->pmin) * (double)j / (double)(k - 1);
        int r = row(b, GLP_LO, 0, 0);
        put(b, r, col(b, C_F, i, t), 1);
        put(b, r, col(b, C_U, i, t), -(u->a - u->c * q * q));
        put(b, r, col(b, C_P, i, t), -(u->b + 2 * u->c * q));
    }
    int r = row(b, GLP_UP, 0, 0);
    put(b, r, col(b, C_P, i, t), 1);
    put(b, r, col(b, C_U, i, t), -u->pmax);
    r = row(b, GLP_LO, 0, 0);
    put(b, r, col(b, C_P, i, t), 1);
    put(b, r, col(b, C_U, i, t), -u->pmin);
}

/* Pre-horizon hours at or after hour t - L that the unit was on: 1 when
 * the cold-start lookback from t reaches one, else 0. */
static int lookback_on(const nq_uc_unit *u, int32_t t, int64_t L)
{
    if (u->initial_status > 0)
        return t - L <= -1;
    return t - L <= (int64_t)u->initial_status - 1;
}

static void add_logic(mb *b, int32_t i, int32_t t)
{
    const nq_uc_unit *u = &b->p->units[i];
    double prev = u->initial_status > 0;
    int r = t > 0 ? row(b, GLP_FX, 0, 0) : row(b, GLP_FX, prev, prev);
    put(b, r, col(b, C_U, i, t), 1);
    if (t > 0)
        put(b, r, col(b, C_U, i, t - 1), -1);
    put(b, r, col(b, C_V, i, t), -1);
    put(b, r, col(b, C_W, i, t), 1);
    r = row(b, GLP_UP, 0, 0); /* min up */
    for (int32_t k = t - u->min_up + 1 < 0 ? 0 : t - u->min_up + 1; k <= t; k++)
        put(b, r, col(b, C_V, i, k), 1);
    put(b, r, col(b, C_U, i, t), -1);
    r = row(b, GLP_UP, 0, 1); /* min down */
    for (int32_t k = t - u->min_down + 1 < 0 ? 0 : t - u->min_down + 1; k <= t; k++)
        put(b, r, col(b, C_W, i, k), 1);
    put(b, r, col(b, C_U, i, t), 1);
    r = row(b, GLP_LO, 0, 0); /* hot start */
    put(b, r, col(b, C_SU, i, t), 1);
    put(b, r, col(b, C_V, i, t), -u->hot_start);
    int64_t L = (int64_t)u->min_down + u->cold_hours + 1;
    if (u->cold_start <= u->hot_start || lookback_on(u, t, L))
        return; /* the row would never bind */
    r = row(b, GLP_LO, 0, 0);
    put(b, r, col(b, C_SU, i, t), 1);
    put(b, r, col(b, C_U, i, t), -u->cold_start);
    for (int64_t k = 1; k <= L && t - k >= 0; k++)
        put(b, r, col(b, C_U, i, (int32_t)(t - k)), u->cold_start);
}

static void add_hour(mb *b, int32_t t)
{
    const nq_uc_problem *p = b->p;
    double d = p->demand[t];
    int rd = row(b, GLP_FX, d, d), rr = row(b, GLP_LO, (1 + p->reserve) * d, 0);
    for (int32_t i = 0; i < p->n_units; i++) {
        put(b, rd, col(b, C_P, i, t), 1);
        put(b, rr, col(b, C_U, i, t), p->units[i].pmax);
    }
}

static int build(mb *b, int32_t tangents)
{
    const nq_uc_problem *p = b->p;
    glp_set_obj_dir(b->P, GLP_MIN);
    add_columns(b);
    for (int32_t i = 0; i < p->n_units; i++)
        for (int32_t t = 0; t < p->hours; t++) {
            add_fuel(b, i, t, tangents);
            add_logic(b, i, t);
        }
    for (int32_t t = 0; t < p->hours; t++)
        add_hour(b, t);
    if (b->oom)
        return NQ_ENOMEM;
    glp_load_matrix(b->P, b->nz, b->ia, b->ja, b->ar);
    return NQ_OK;
}

/* ---- solving --------------------------------------------------------------------- */

typedef struct track {
    double bound;   /* best bound seen on the open nodes */
    int64_t nodes;
    const atomic_int *cancel;
    int cancelled;
} track;

/* glp_intopt reports no global bound after a time limit: the callback
 * keeps the best bound of the open nodes (each valid when seen). */
static void on_tree(glp_tree *T, void *info)
{
    track *k = info;
    int node = glp_ios_best_node(T);
    if (node) {
        double v = glp_ios_node_bound(T, node);
        if (v > k->bound && v < DBL_MAX)
            k->bound = v;
    }
    int a = 0, n = 0, total = 0;
    glp_ios_tree_size(T, &a, &n, &total);
    if (total > k->nodes)
        k->nodes = total;
    if (k->cancel && atomic_load(k->cancel)) {
        k->cancelled = 1;
        glp_ios_terminate(T);
    }
}

static int run_glpk(glp_prob *P, double limit, track *k)
{
    glp_iocp o;
    glp_init_iocp(&o);
    o.msg_lev = GLP_MSG_OFF;
    o.presolve = GLP_ON;
    o.mip_gap = MIP_GAP;
    /* Without cuts and pseudocost branching GLPK still has a 0.5% gap on the
     * 10-unit case after a minute; with them it closes it in seconds. */
    o.gmi_cuts = o.mir_cuts = o.cov_cuts = o.clq_cuts = GLP_ON;
    o.br_tech = GLP_BR_PCH;
    o.tm_lim = limit * 1e3 > INT_MAX ? INT_MAX : (int)ceil(limit * 1e3);
    o.cb_func = on_tree;
    o.cb_info = k;
    int was_on = glp_term_out(GLP_OFF);
    glp_intopt(P, &o);
    glp_term_out(was_on);
    return glp_mip_status(P);
}

static int check_args(const nq_uc_problem *p, int32_t tangents, double limit, nq_uc_result *out,
                      nq_err *err)
{
    if (!out)
        return nq_err_set(err, NQ_EINVAL, NULL, "no result");
    memset(out, 0, sizeof *out);
    if (tangents < 1 || tangents > MAX_TANGENTS)
        return nq_err_set(err, NQ_EINVAL, "/tangents", "must be in [1, %d]", MAX_TANGENTS);
    if (!isfinite(limit) || limit < 0 || limit > 86400)
        return nq_err_set(err, NQ_EINVAL, "/time_limit", "must be in [0, 86400] seconds");
    return nq_uc_check(p, err);
}

/* Cost the MILP's commitment exactly and fill in its bound. */
static int finish(const nq_uc_problem *p, mb *b, int st, const track *k, int32_t tangents,
                  nq_uc_result *out, nq_err *err)
{
    size_t nt = (size_t)p->n_units * p->hours;
    unsigned char *on = malloc(nt);
    if (!on)
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    for (int32_t i = 0; i < p->n_units; i++)
        for (int32_t t = 0; t < p->hours; t++)
            on[(size_t)i * p->hours + t] = glp_mip_col_val(b->P, col(b, C_U, i, t)) > 0.5;
    double obj = glp_mip_obj_val(b->P), lb = k->bound;
    if (st == GLP_OPT)
        lb = fmax(lb, obj - MIP_GAP * (fabs(obj) + DBL_EPSILON));
    int rc = nq_uc_evaluate(p, on, out, err);
    free(on);
    if (rc)
        return rc;
    if (isfinite(lb) && lb > out->total_cost) /* rounding: the model lies below the cost */
        lb = out->total_cost;
    if (!isfinite(lb)) {
        nq_uc_result_free(out);
        return nq_err_set(err, NQ_ELIMIT, "/time_limit", "GLPK gave no bound in the time");
    }
    out->lower_bound = lb;
    out->iterations = k->nodes;
    snprintf(out->method, sizeof out->method, "milp (glpk, %d tangents): %s", (int)tangents,
             st == GLP_OPT ? "optimal" : "time limit");
    return NQ_OK;
}

int nq_uc_solve_milp(const nq_uc_problem *p, int32_t tangents, double time_limit,
                     nq_uc_result *out, nq_err *err)
{
    int rc = check_args(p, tangents, time_limit, out, err);
    if (rc)
        return rc;
    double t0 = nq_clock_s(), limit = time_limit > 0 ? time_limit : DEFAULT_LIMIT;
    mb b = { .p = p, .P = glp_create_prob() };
    rc = build(&b, tangents);
    if (rc)
        nq_err_set(err, rc, NULL, "out of memory");
    track k = { .bound = -INFINITY, .cancel = p->cancel };
    int st = rc ? 0 : run_glpk(b.P, fmax(1e-3, limit - (nq_clock_s() - t0)), &k);
    if (!rc && k.cancelled)
        rc = nq_err_set(err, NQ_ECANCEL, NULL, "cancelled");
    else if (!rc && st == GLP_NOFEAS)
        rc = nq_err_set(err, NQ_EINVAL, "/demand",
                        "no commitment meets demand, reserve and min up/down");
    else if (!rc && st != GLP_OPT && st != GLP_FEAS)
        rc = nq_err_set(err, NQ_ELIMIT, "/time_limit",
                        "GLPK found no commitment within %g s", limit);
    if (!rc)
        rc = finish(p, &b, st, &k, tangents, out, err);
    glp_delete_prob(b.P);
    free(b.ia);
    free(b.ja);
    free(b.ar);
    return rc;
}
