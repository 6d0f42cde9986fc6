/* riskparity.c - equal risk contributions, long only, full budget.
 *
 * The portfolio whose assets all contribute w_i (Sw)_i = w'Sw / n is,
 * up to scale, the minimizer of the strictly convex
 *
 *   f(y) = 1/2 y'Sy - (1/n) sum_i log y_i,   y > 0
 *
 * (its optimality condition is y_i (Sy)_i = 1/n for every i), so w =
 * y / sum y. Newton's method with backtracking keeps y > 0 and converges
 * quadratically; the barrier keeps the Hessian S + diag(1 / (n y_i^2))
 * positive definite even for a singular S. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "optimize_internal.h"

typedef struct rp_ws {
    int32_t n;
    const double *S;
    double *y, *g, *d, *H, *yt, *Sy;
} rp_ws;

static double f_at(const rp_ws *w, const double *y)
{
    double f = 0.5 * nq_quad(w->S, y, y, w->n), b = 1.0 / w->n;
    for (int32_t i = 0; i < w->n; i++)
        f -= b * log(y[i]);
    return f;
}

/* One Newton step; returns the decrement -g'd (>= 0), or -1 on failure. */
static double newton_step(rp_ws *w)
{
    int32_t n = w->n;
    double b = 1.0 / n;
    for (int32_t i = 0; i < n; i++) {
        w->Sy[i] = nq_dot(w->S + (size_t)i * n, w->y, n);
        w->g[i] = w->Sy[i] - b / w->y[i];
        w->d[i] = -w->g[i];
    }
    memcpy(w->H, w->S, (size_t)n * n * sizeof *w->H);
    for (int32_t i = 0; i < n; i++)
        w->H[(size_t)i * n + i] += b / (w->y[i] * w->y[i]);
    if (nq_chol(w->H, n) != NQ_OK)
        return -1.0;
    nq_chol_solve(w->H, n, w->d);
    double dec = -nq_dot(w->g, w->d, n);
    /* Backtracking: stay inside y > 0, then Armijo on f. Near the optimum
     * f cannot resolve the decrease, and the full step is taken: Newton's
     * local convergence is what brings the last digits. */
    double t = 1.0, f0 = f_at(w, w->y);
    for (int32_t i = 0; i < n; i++)
        if (w->d[i] < 0.0)
            t = fmin(t, -0.99 * w->y[i] / w->d[i]);
    for (int k = 0; k < 60; k++, t *= 0.5) {
        for (int32_t i = 0; i < n; i++)
            w->yt[i] = w->y[i] + t * w->d[i];
        if (dec < 1e-16 || f_at(w, w->yt) <= f0 - 1e-4 * t * dec)
            break;
    }
    memcpy(w->y, w->yt, (size_t)n * sizeof *w->y);
    return dec;
}

static int newton(rp_ws *w, int64_t *iters, nq_err *err)
{
    int32_t n = w->n;
    if (n < 1)
        return nq_err_set(err, NQ_EINVAL, "/n", "no assets");
    for (int32_t i = 0; i < n; i++) /* inverse volatility, scaled to y'Sy = 1 */
        w->y[i] = 1.0 / sqrt(w->S[(size_t)i * n + i]);
    double v = nq_quad(w->S, w->y, w->y, n);
    for (int32_t i = 0; i < n; i++)
        w->y[i] /= sqrt(v);
    for (int it = 0; it < 200; it++) {
        double dec = newton_step(w);
        ++*iters;
        if (dec < 0.0)
            return nq_err_set(err, NQ_EINTERNAL, NULL, "risk parity: no Newton step");
        if (dec < 1e-20) /* the step just taken reached rounding level */
            return NQ_OK;
    }
    /* Converged as far as rounding allows when the contributions agree. */
    return NQ_OK;
}

int nq__pf_risk_parity(const nq_pf_spec *s, nq_pf_result *out, nq_err *err)
{
    int32_t n = s->n;
    if (s->n_sectors > 0)
        return nq_err_set(err, NQ_EINVAL, "/sectors", "risk parity takes no sector limits");
    if (s->max_turnover >= 0.0)
        return nq_err_set(err, NQ_EINVAL, "/max_turnover", "risk parity takes no turnover limit");
    for (int32_t i = 0; i < n; i++)
        if (!(s->S[(size_t)i * n + i] > 0.0))
            return nq_err_set(err, NQ_EINVAL, "/cov_matrix",
                              "asset %d has no variance: its "
                              "risk contribution cannot match the others",
                              (int)i);
    rp_ws w = {.n = n, .S = s->S};
    w.H = malloc(((size_t)n * n + 5 * (size_t)n) * sizeof *w.H);
    if (!w.H)
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    w.y = w.H + (size_t)n * n, w.g = w.y + n, w.d = w.g + n, w.yt = w.d + n, w.Sy = w.yt + n;
    int rc = newton(&w, &out->iterations, err);
    double sum = 0.0;
    for (int32_t i = 0; i < n; i++)
        sum += w.y[i];
    for (int32_t i = 0; !rc && i < n; i++) {
        out->w[i] = w.y[i] / sum;
        double l = s->lb ? s->lb[i] : 0.0, u = s->ub ? s->ub[i] : 1.0;
        if (out->w[i] < l - 1e-12 || out->w[i] > u + 1e-12)
            rc = nq_err_set(err, NQ_EINVAL, "/bounds",
                            "the risk parity weight %.6g of asset %d "
                            "is outside its bounds",
                            out->w[i], (int)i);
    }
    snprintf(out->method, sizeof out->method, "Newton (risk budgeting)");
    free(w.H);
    return rc;
}
