/* optimize_qp.c - the mean-variance objectives as QPs: min volatility,
 * efficient return, quadratic utility, max Sharpe, efficient risk, and the
 * efficient frontier. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "optimize_internal.h"

/* Why a problem is infeasible: the constraints on their own (sectors,
 * or else the turnover limit), or the objective's own requirement. */
static int explain(const nq_pf_spec *s, const unsigned char *in, double min_weight, int rc,
                   nq_err *err)
{
    if (rc != NQ_EINVAL || !err || strcmp(err->where, "/constraints") != 0)
        return rc;
    double rmax;
    nq_err e2 = {0};
    nq_pf_spec base = *s;
    base.mu = s->mu ? s->mu : s->S; /* any finite vector: only feasibility matters */
    base.cost = 0.0;
    if (nq__pf_max_return(&base, in, min_weight, &rmax, NULL, &e2) == NQ_OK)
        return rc; /* the caller names its own requirement */
    base.max_turnover = -1.0;
    if (nq__pf_max_return(&base, in, min_weight, &rmax, NULL, &e2) != NQ_OK)
        return nq_err_set(err, NQ_EINVAL, s->n_sectors > 0 ? "/sectors" : "/bounds",
                          "the weight bounds and sector limits cannot all hold");
    return nq_err_set(err, NQ_EINVAL, "/max_turnover",
                      "no portfolio within the turnover "
                      "limit %g meets the constraints",
                      s->max_turnover);
}

static int solve_kind(const nq_pf_spec *s, pf_kind kind, const unsigned char *in, double min_weight,
                      double target, double *w, int64_t *iters, nq_err *err)
{
    pf_prob b;
    int rc = nq__pf_build(&b, s, kind, in, min_weight, target, err);
    if (rc)
        return rc;
    rc = nq__pf_prob_solve(&b, w, err);
    *iters += b.iters;
    nq__pf_prob_free(&b);
    return rc;
}

static int efficient_return(const nq_pf_spec *s, const unsigned char *in, double min_weight,
                            double target, double *w, int64_t *iters, nq_err *err)
{
    int rc = solve_kind(s, PF_RETURN, in, min_weight, target, w, iters, err);
    rc = explain(s, in, min_weight, rc, err);
    if (rc != NQ_EINVAL || strcmp(err ? err->where : "", "/constraints") != 0)
        return rc;
    double rmax = NAN;
    nq_err e2 = {0};
    nq__pf_max_return(s, in, min_weight, &rmax, NULL, &e2);
    return nq_err_set(err, NQ_EINVAL, "/target_return",
                      "%.10g is above the largest achievable "
                      "return %.10g",
                      target, rmax);
}

static int max_sharpe(const nq_pf_spec *s, const unsigned char *in, double min_weight, double *w,
                      int64_t *iters, nq_err *err)
{
    int any = 0;
    for (int32_t i = 0; i < s->n; i++)
        any |= (!in || in[i]) && s->mu[i] > s->rf;
    if (!any)
        return nq_err_set(err, NQ_EINVAL, "/rf",
                          "no asset has an expected return above the "
                          "risk-free rate %g",
                          s->rf);
    int rc = solve_kind(s, PF_SHARPE, in, min_weight, 0.0, w, iters, err);
    rc = explain(s, in, min_weight, rc, err);
    if (rc == NQ_EINVAL && err && strcmp(err->where, "/constraints") == 0)
        return nq_err_set(err, NQ_EINVAL, "/rf",
                          "no portfolio meeting the constraints has a "
                          "return above the risk-free rate %g",
                          s->rf);
    return rc;
}

/* The efficient_return problem at a variable target: b is built once and
 * only the right side of its return row changes. */
typedef struct risk_search {
    pf_prob b;
    double *w;
    double var, ret;
} risk_search;

static int eval_at(const nq_pf_spec *s, risk_search *r, double target, nq_err *err)
{
    r->b.b_in[r->b.ret_row] = -(target + s->cost * r->b.c0);
    int rc = nq__pf_prob_solve(&r->b, r->w, err);
    if (rc)
        return rc;
    r->var = nq_quad(s->S, r->w, r->w, s->n);
    r->ret = nq__pf_net_return(s, r->w);
    return NQ_OK;
}

/* The largest target the QP accepts: the LP's optimum, nudged down by
 * rounding-sized steps until the QP finds it feasible. */
static int top_of_frontier(const nq_pf_spec *s, const unsigned char *in, double min_weight,
                           risk_search *r, double *rtop, nq_err *err)
{
    double rmax;
    int rc = nq__pf_max_return(s, in, min_weight, &rmax, NULL, err);
    if (rc)
        return rc;
    for (double eps = 1e-13; eps < 1e-5; eps *= 10.0) {
        *rtop = rmax - eps * (1.0 + fabs(rmax));
        rc = eval_at(s, r, *rtop, err);
        if (rc != NQ_EINVAL)
            return rc;
    }
    return rc;
}

/* Regula falsi (Illinois) on var(target) - sigma^2 between the minimum
 * volatility return lo and the top hi. var is piecewise quadratic in the
 * target (one piece per active set), so this converges fast and ends on
 * the exact QP solution at the found target. */
static int risk_bisect(const nq_pf_spec *s, risk_search *r, double lo, double flo, double hi,
                       double fhi, nq_err *err)
{
    double sig2 = s->target_volatility * s->target_volatility;
    int side = 0;
    for (int it = 0; it < 200; it++) {
        double t = hi - fhi * (hi - lo) / (fhi - flo);
        if (!(t > lo && t < hi))
            t = 0.5 * (lo + hi);
        int rc = eval_at(s, r, t, err);
        if (rc)
            return rc;
        double f = r->var - sig2;
        if (fabs(sqrt(r->var) - s->target_volatility) <= 1e-13 * s->target_volatility ||
            hi - lo <= 1e-15 * (1.0 + fabs(t)))
            return NQ_OK;
        if (f < 0.0) {
            lo = t, flo = f;
            fhi *= side == -1 ? 0.5 : 1.0;
            side = -1;
        } else {
            hi = t, fhi = f;
            flo *= side == 1 ? 0.5 : 1.0;
            side = 1;
        }
    }
    return NQ_OK;
}

static int efficient_risk(const nq_pf_spec *s, const unsigned char *in, double min_weight,
                          double *w, int64_t *iters, nq_err *err)
{
    risk_search r = {.w = w};
    double low = 0.0; /* a target every portfolio meets */
    for (int32_t i = 0; i < s->n; i++)
        low = fmin(low, s->mu[i]);
    low -= s->cost * (2.0 + fabs(s->max_turnover)) + 1.0;
    int rc = nq__pf_build(&r.b, s, PF_RETURN, in, min_weight, low, err);
    if (rc)
        return rc;
    rc = explain(s, in, min_weight, eval_at(s, &r, low, err), err);
    double sig = s->target_volatility, vmin = sqrt(r.var), rlo = r.ret, vlo = r.var;
    if (!rc && sig < vmin * (1.0 - 1e-12))
        rc = nq_err_set(err, NQ_EINVAL, "/target_volatility",
                        "%.10g is below the minimum "
                        "volatility %.10g",
                        sig, vmin);
    double rtop = 0.0;
    if (!rc && sig > vmin)
        rc = top_of_frontier(s, in, min_weight, &r, &rtop, err);
    if (!rc && sig > vmin && sig * sig < r.var && rtop > rlo)
        rc = risk_bisect(s, &r, rlo, vlo - sig * sig, rtop, r.var - sig * sig, err);
    else if (!rc && sig <= vmin)
        rc = eval_at(s, &r, low, err); /* at (or within rounding of) the minimum */
    *iters += r.b.iters;
    nq__pf_prob_free(&r.b);
    return rc;
}

int nq__pf_solve_weights(const nq_pf_spec *s, const unsigned char *in, double min_weight, double *w,
                         int64_t *iters, nq_err *err)
{
    int rc;
    switch (s->objective) {
    case NQ_PF_MIN_VOLATILITY:
        rc = solve_kind(s, PF_MINVOL, in, min_weight, 0.0, w, iters, err);
        return explain(s, in, min_weight, rc, err);
    case NQ_PF_EFFICIENT_RETURN:
        return efficient_return(s, in, min_weight, s->target_return, w, iters, err);
    case NQ_PF_MAX_QUADRATIC_UTILITY:
        rc = solve_kind(s, PF_UTILITY, in, min_weight, 0.0, w, iters, err);
        return explain(s, in, min_weight, rc, err);
    case NQ_PF_MAX_SHARPE:
        return max_sharpe(s, in, min_weight, w, iters, err);
    case NQ_PF_EFFICIENT_RISK:
        return efficient_risk(s, in, min_weight, w, iters, err);
    default:
        return nq_err_set(err, NQ_EINVAL, "/objective", "%s is not a mean-variance objective",
                          nq_pf_objective_name(s->objective));
    }
}

int nq_pf_frontier(const nq_pf_spec *s, int32_t points, double *ret, double *vol, double *w,
                   nq_err *err)
{
    if (points < 2 || points > NQ_PF_MAX_FRONTIER)
        return nq_err_set(err, NQ_EINVAL, "/points", "must be in [2, %d]", NQ_PF_MAX_FRONTIER);
    if (!ret || !vol)
        return nq_err_set(err, NQ_EINVAL, "/points", "no output arrays");
    nq_pf_spec fs = s ? *s : (nq_pf_spec){0};
    fs.objective = NQ_PF_EFFICIENT_RETURN;
    fs.max_assets = 0, fs.min_weight = 0.0;
    int rc = nq__pf_check(&fs, err);
    if (rc)
        return rc;
    risk_search r = {.w = malloc((size_t)fs.n * sizeof *r.w)};
    if (!r.w)
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    double low = -1.0, rtop = 0.0;
    for (int32_t i = 0; i < fs.n; i++)
        low = fmin(low, fs.mu[i] - 1.0);
    low -= fs.cost * (2.0 + fabs(fs.max_turnover));
    rc = nq__pf_build(&r.b, &fs, PF_RETURN, NULL, 0.0, low, err);
    if (!rc)
        rc = explain(&fs, NULL, 0.0, eval_at(&fs, &r, low, err), err);
    double rlo = r.ret;
    if (!rc)
        rc = top_of_frontier(&fs, NULL, 0.0, &r, &rtop, err);
    for (int32_t k = 0; !rc && k < points; k++) {
        double t = rlo + (rtop - rlo) * k / (points - 1);
        rc = eval_at(&fs, &r, k == 0 || !(rtop > rlo) ? low : t, err);
        if (rc)
            break;
        ret[k] = r.ret;
        vol[k] = sqrt(fmax(r.var, 0.0));
        if (w)
            memcpy(w + (size_t)k * fs.n, r.w, (size_t)fs.n * sizeof *w);
    }
    nq__pf_prob_free(&r.b);
    free(r.w);
    return rc;
}
