/* uc_engine.c - the commitment as a constrained model on the engine.
 *
 * Binaries u_{i,t}. The energy is priced by lambda_t (the marginal cost of
 * a first commitment's exact dispatch), so a unit-hour on costs what the
 * Lagrangian relaxation of the demand balance says:
 *     g_i(t) = a_i + min over P in [pmin, pmax] of (b_i + c_i P - lambda_t) P,
 * negative when the unit earns more at lambda_t than it costs. A start
 * costs its hot start-up cost through u_t - u_t u_{t-1} (cold at hour 0
 * when the unit has been off long enough). Hard constraints per hour:
 * committed pmax >= (1 + reserve) demand, committed pmin <= demand; per
 * unit-hour, min up and min down in their aggregated form
 *     L (u_t - u_{t-1}) <= sum_{k=t}^{t+L-1} u_k,   L = min(min_up, hours - t)
 *     L (u_{t-1} - u_t) <= sum_{k=t}^{t+L-1} (1 - u_k), L = min(min_down, ...)
 * (exact for binaries), and the hours the initial status locks are fixed.
 * The surrogate is only a guide: every answer is costed exactly later. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nqba/clock.h"
#include "nqba/cqm.h"
#include "uc_internal.h"

#define ENGINE_ITERS_PER_VAR 10 /* native moves per variable: fixed, for reproducibility */

static double hour_value(const nq_uc_unit *u, double lam)
{
    double q;
    if (u->c > 0)
        q = (lam - u->b) / (2 * u->c);
    else
        q = lam > u->b ? u->pmax : u->pmin;
    q = q < u->pmin ? u->pmin : q > u->pmax ? u->pmax : q;
    return u->a + (u->b + u->c * q - lam) * q;
}

/* atom of u_{i,t} */
static int32_t at(const nq_uc_problem *p, int32_t i, int32_t t) { return i * p->hours + t; }

static int add_vars(const nq_uc_problem *p, const double *lambda, nq_cqm *m, nq_err *err)
{
    char name[40];
    for (int32_t i = 0; i < p->n_units; i++) {
        const nq_uc_unit *u = &p->units[i];
        int32_t locked = nq__uc_locked_hours(u, p->hours);
        for (int32_t t = 0; t < p->hours; t++) {
            snprintf(name, sizeof name, "u%d_%d", (int)i, (int)t);
            int v = nq_cqm_add_binary(m, name, err);
            if (v < 0)
                return v;
            int rc = nq_cqm_obj_linear(m, 0, at(p, i, t), hour_value(u, lambda[t]), err);
            if (!rc && t < locked)
                rc = nq_cqm_fix(m, v, u->initial_status > 0, err);
            if (rc)
                return rc;
        }
    }
    return NQ_OK;
}

static int add_starts(const nq_uc_problem *p, nq_cqm *m, nq_err *err)
{
    int rc = NQ_OK;
    for (int32_t i = 0; !rc && i < p->n_units; i++) {
        const nq_uc_unit *u = &p->units[i];
        if (u->initial_status < 0) {
            int cold = -(int64_t)u->initial_status > (int64_t)u->min_down + u->cold_hours;
            rc = nq_cqm_obj_linear(m, 0, at(p, i, 0), cold ? u->cold_start : u->hot_start, err);
        }
        for (int32_t t = 1; !rc && t < p->hours && u->hot_start > 0; t++) {
            rc = nq_cqm_obj_linear(m, 0, at(p, i, t), u->hot_start, err);
            if (!rc)
                rc = nq_cqm_obj_quadratic(m, 0, at(p, i, t - 1), at(p, i, t), -u->hot_start, err);
        }
    }
    return rc;
}

static int add_hours(const nq_uc_problem *p, nq_cqm *m, nq_err *err)
{
    char name[40];
    for (int32_t t = 0; t < p->hours; t++) {
        double d = p->demand[t];
        snprintf(name, sizeof name, "reserve%d", (int)t);
        int r = nq_cqm_add_constraint(m, name, NQ_CQM_GE, (1 + p->reserve) * d, 1, -1, err);
        snprintf(name, sizeof name, "pmin%d", (int)t);
        int l = r < 0 ? r : nq_cqm_add_constraint(m, name, NQ_CQM_LE, d, 1, -1, err);
        if (l < 0)
            return l;
        for (int32_t i = 0; i < p->n_units; i++) {
            int rc = nq_cqm_con_linear(m, r, at(p, i, t), p->units[i].pmax, err);
            if (!rc && p->units[i].pmin > 0)
                rc = nq_cqm_con_linear(m, l, at(p, i, t), p->units[i].pmin, err);
            if (rc)
                return rc;
        }
    }
    return NQ_OK;
}

/* One run-length constraint of unit i at hour t: up (min up) or down. */
static int add_run(const nq_uc_problem *p, int32_t i, int32_t t, int up, nq_cqm *m, nq_err *err)
{
    const nq_uc_unit *u = &p->units[i];
    int32_t need = up ? u->min_up : u->min_down;
    int32_t len = need < p->hours - t ? need : p->hours - t;
    if (len <= 1)
        return NQ_OK; /* a run of one hour always satisfies it */
    /* up:   len u_t - len u_{t-1} - sum u_k <= 0
     * down: len u_{t-1} - len u_t + sum u_k <= len  (u_{-1} from the initial status) */
    double prev = u->initial_status > 0, rhs = up ? 0 : len;
    if (t == 0)
        rhs -= (up ? -len : len) * prev;
    char name[48];
    snprintf(name, sizeof name, "%s%d_%d", up ? "up" : "down", (int)i, (int)t);
    int c = nq_cqm_add_constraint(m, name, NQ_CQM_LE, rhs, 1, -1, err);
    if (c < 0)
        return c;
    int rc = nq_cqm_con_linear(m, c, at(p, i, t), up ? len : -len, err);
    if (!rc && t > 0)
        rc = nq_cqm_con_linear(m, c, at(p, i, t - 1), up ? -len : len, err);
    for (int32_t k = t; !rc && k < t + len; k++)
        rc = nq_cqm_con_linear(m, c, at(p, i, k), up ? -1 : 1, err);
    return rc;
}

static int build(const nq_uc_problem *p, const double *lambda, nq_cqm *m, nq_err *err)
{
    nq_cqm_init(m);
    int rc = add_vars(p, lambda, m, err);
    if (!rc)
        rc = add_starts(p, m, err);
    if (!rc)
        rc = add_hours(p, m, err);
    for (int32_t i = 0; !rc && i < p->n_units; i++) {
        int32_t locked = nq__uc_locked_hours(&p->units[i], p->hours);
        for (int32_t t = locked; !rc && t < p->hours; t++) {
            rc = add_run(p, i, t, 1, m, err);
            if (!rc)
                rc = add_run(p, i, t, 0, m, err);
        }
    }
    return rc;
}

static void to_commitment(const nq_uc_problem *p, const int64_t *values, unsigned char *on)
{
    size_t nt = (size_t)p->n_units * p->hours;
    for (size_t k = 0; k < nt; k++)
        on[k] = values[k] != 0;
}

int nq__uc_engine_fits(const nq_uc_problem *p)
{
    int64_t nt = (int64_t)p->n_units * p->hours;
    return nt <= NQ_CQM_MAX_VARS && 2 * nt + 2 * (int64_t)p->hours <= NQ_CQM_MAX_CONSTRAINTS;
}

int nq__uc_engine_candidates(const nq_uc_problem *p, const double *lambda, double deadline,
                             unsigned char *cand, int32_t cap, int32_t *n_cand, nq_err *err)
{
    *n_cand = 0;
    if (!nq__uc_engine_fits(p))
        return NQ_OK;
    nq_cqm m;
    int rc = build(p, lambda, &m, err);
    nq_cqm_opts o;
    nq_cqm_opts_default(&o);
    o.solver = "native";
    o.seed = p->seed;
    o.alternatives = cap - 1;
    o.max_iterations = (int64_t)ENGINE_ITERS_PER_VAR * m.n_vars;
    o.time_limit = fmax(1e-3, deadline - nq_clock_s());
    o.cancel_flag = p->cancel;
    nq_cqm_result res;
    memset(&res, 0, sizeof res);
    if (!rc)
        rc = nq_cqm_solve(&m, &o, NULL, NULL, &res, err);
    size_t nt = (size_t)p->n_units * p->hours;
    if (!rc && res.best.feasible)
        to_commitment(p, res.best.values, cand + (size_t)(*n_cand)++ * nt);
    for (int32_t a = 0; !rc && a < res.n_alts && *n_cand < cap; a++)
        to_commitment(p, res.alts[a].values, cand + (size_t)(*n_cand)++ * nt);
    nq_cqm_result_free(&res);
    nq_cqm_free(&m);
    return rc;
}
