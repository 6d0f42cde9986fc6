/* returns.c - simple returns from prices, expected returns (mean and
 * exponentially weighted) and the returns of a fixed-weight portfolio,
 * following pandas/PyPortfolioOpt: pct_change + dropna(how="all"), the
 * per-asset compounded mean over its own rows, ewm(span).mean() at the
 * last row. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "goliath_internal.h"

void nq_returns_free(nq_returns *r)
{
    if (!r)
        return;
    free(r->r);
    free(r->dates);
    memset(r, 0, sizeof *r);
}

static int returns_alloc(nq_returns *out, int32_t n, int32_t t, nq_err *err)
{
    out->r = malloc((size_t)n * (size_t)t * sizeof *out->r);
    out->dates = calloc((size_t)t, sizeof *out->dates);
    if (!out->r || !out->dates) {
        nq_returns_free(out);
        return nq_err_set(err, NQ_ENOMEM, "/returns", "out of memory for the returns");
    }
    out->n = n;
    out->t = t;
    return NQ_OK;
}

static int returns_ok(const nq_returns *r)
{
    return r && r->r && r->n >= 1 && r->t >= 1 && r->n <= NQ_PF_MAX_ASSETS &&
           r->t <= NQ_PF_MAX_ROWS && (int64_t)r->n * r->t <= NQ_PF_MAX_CELLS;
}

/* One row of returns from price rows a (older) and b; 1 when any is a number. */
static int return_row(const double *a, const double *b, int32_t n, double *out)
{
    int any = 0;
    for (int32_t i = 0; i < n; i++) {
        double v = (isnan(a[i]) || isnan(b[i])) ? NAN : b[i] / a[i] - 1.0;
        if (!isfinite(v) && !isnan(a[i]) && !isnan(b[i]))
            v = INFINITY; /* inf/inf is NaN: still not a missing price */
        if (out)
            out[i] = v;
        any |= !isnan(v);
    }
    return any;
}

int nq_returns_from_prices(const nq_prices *p, nq_returns *out, nq_err *err)
{
    if (!out)
        return nq_err_set(err, NQ_EINVAL, "/returns", "no output");
    memset(out, 0, sizeof *out);
    if (!p || !p->p || !p->dates || p->n < 1 || p->t < 2 || p->n > NQ_PF_MAX_ASSETS ||
        p->t > NQ_PF_MAX_ROWS || (int64_t)p->n * p->t > NQ_PF_MAX_CELLS)
        return nq_err_set(err, NQ_EINVAL, "/prices", "need a price table with at least 2 rows");
    int32_t n = p->n, rows = 0;
    for (int32_t k = 1; k < p->t; k++)
        rows += return_row(p->p + (size_t)(k - 1) * n, p->p + (size_t)k * n, n, NULL);
    if (rows == 0)
        return nq_err_set(err, NQ_EINVAL, "/prices", "no asset has prices on two consecutive rows");
    int rc = returns_alloc(out, n, rows, err);
    if (rc)
        return rc;
    int32_t o = 0;
    for (int32_t k = 1; k < p->t; k++) {
        const double *a = p->p + (size_t)(k - 1) * n, *b = p->p + (size_t)k * n;
        double *row = out->r + (size_t)o * n;
        if (!return_row(a, b, n, NULL))
            continue;
        return_row(a, b, n, row);
        for (int32_t i = 0; i < n; i++)
            if (!isnan(row[i]) && !isfinite(row[i])) {
                nq_returns_free(out);
                return nq_err_set(err, NQ_ERANGE, "/prices",
                                  "row %d, asset %d: the return is not finite (a price of 0?)",
                                  (int)k + 1, (int)i);
            }
        memcpy(out->dates[o], p->dates[k], NQ_PF_DATE_MAX);
        out->dates[o][NQ_PF_DATE_MAX - 1] = '\0';
        o++;
    }
    return NQ_OK;
}

static int row_complete(const double *row, int32_t n)
{
    for (int32_t i = 0; i < n; i++)
        if (!isfinite(row[i]))
            return 0;
    return 1;
}

int nq_returns_complete(const nq_returns *in, nq_returns *out, nq_err *err)
{
    if (!out)
        return nq_err_set(err, NQ_EINVAL, "/returns", "no output");
    memset(out, 0, sizeof *out);
    if (!returns_ok(in) || !in->dates)
        return nq_err_set(err, NQ_EINVAL, "/returns", "no returns");
    int32_t n = in->n, rows = 0;
    for (int32_t k = 0; k < in->t; k++)
        rows += row_complete(in->r + (size_t)k * n, n);
    if (rows == 0)
        return nq_err_set(err, NQ_EINVAL, "/returns", "no row has a return for every asset");
    int rc = returns_alloc(out, n, rows, err);
    if (rc)
        return rc;
    int32_t o = 0;
    for (int32_t k = 0; k < in->t; k++) {
        if (!row_complete(in->r + (size_t)k * n, n))
            continue;
        memcpy(out->r + (size_t)o * n, in->r + (size_t)k * n, (size_t)n * sizeof *out->r);
        memcpy(out->dates[o], in->dates[k], NQ_PF_DATE_MAX);
        out->dates[o][NQ_PF_DATE_MAX - 1] = '\0';
        o++;
    }
    return NQ_OK;
}

/* ---- expected returns ------------------------------------------------------ */

void nq_mu_opts_default(nq_mu_opts *o)
{
    if (!o)
        return;
    *o = (nq_mu_opts){ .method = NQ_MU_MEAN, .compounding = 1, .frequency = NQ_PF_FREQUENCY,
                       .span = 500.0 };
}

/* pandas' ewm mean, adjust=True, ignore_na=False, step for step: once the
 * first value is seen every later row decays the old weight, observed or
 * not, and an observed row blends in with weight 1. The "!= cur" guard is
 * pandas' own (it keeps a constant series exact). */
double nq__ewm_last(const double *x, size_t stride, int32_t t, double span)
{
    double alpha = 1.0 / (1.0 + (span - 1.0) / 2.0);
    double factor = 1.0 - alpha, old_wt = 1.0, avg = NAN;
    for (int32_t k = 0; k < t; k++) {
        double cur = x[(size_t)k * stride];
        int obs = !isnan(cur);
        if (!isnan(avg)) {
            old_wt *= factor;
            if (obs) {
                if (avg != cur)
                    avg = (old_wt * avg + cur) / (old_wt + 1.0);
                old_wt += 1.0;
            }
        } else if (obs) {
            avg = cur;
        }
    }
    return avg;
}

/* prod(1 + r)^(f / count) - 1 over the asset's rows. The product is kept
 * as pandas computes it; only when it leaves the double range is the
 * same quantity taken through logarithms. */
static double compounded(const nq_returns *r, int32_t i, double f)
{
    double prod = 1.0, logsum = 0.0;
    int32_t count = 0;
    for (int32_t k = 0; k < r->t; k++) {
        double v = r->r[(size_t)k * r->n + i];
        if (isnan(v))
            continue;
        prod *= 1.0 + v;
        logsum += log1p(v);
        count++;
    }
    if (count == 0)
        return NAN;
    if (isfinite(prod) && prod > 0.0)
        return pow(prod, f / count) - 1.0;
    return expm1(logsum * (f / count));
}

static double simple_mean(const nq_returns *r, int32_t i)
{
    double s = 0.0;
    int32_t count = 0;
    for (int32_t k = 0; k < r->t; k++) {
        double v = r->r[(size_t)k * r->n + i];
        if (!isnan(v)) {
            s += v;
            count++;
        }
    }
    return count ? s / count : NAN;
}

static int mu_opts_ok(const nq_mu_opts *o, nq_err *err)
{
    if (o->method != NQ_MU_MEAN && o->method != NQ_MU_EMA)
        return nq_err_set(err, NQ_EINVAL, "/mu/method", "unknown method %d", (int)o->method);
    if (o->frequency < 1)
        return nq_err_set(err, NQ_EINVAL, "/mu/frequency", "must be at least 1");
    if (o->method == NQ_MU_EMA && !(isfinite(o->span) && o->span >= 1.0))
        return nq_err_set(err, NQ_EINVAL, "/mu/span", "must be a number >= 1");
    return NQ_OK;
}

int nq_expected_returns(const nq_returns *r, const nq_mu_opts *o, double *mu, nq_err *err)
{
    nq_mu_opts def;
    nq_mu_opts_default(&def);
    if (!o)
        o = &def;
    if (!returns_ok(r) || !mu)
        return nq_err_set(err, NQ_EINVAL, "/returns", "no returns or no output");
    int rc = mu_opts_ok(o, err);
    if (rc)
        return rc;
    double f = (double)o->frequency;
    for (int32_t i = 0; i < r->n; i++) {
        double m;
        if (o->method == NQ_MU_EMA) {
            double ema = nq__ewm_last(r->r + i, (size_t)r->n, r->t, o->span);
            m = o->compounding ? pow(1.0 + ema, f) - 1.0 : ema * f;
        } else {
            m = o->compounding ? compounded(r, i, f) : simple_mean(r, i) * f;
        }
        if (!isfinite(m))
            return nq_err_set(err, isnan(m) ? NQ_EINVAL : NQ_ERANGE, "/returns",
                              "asset %d: no finite expected return (%s)", (int)i,
                              isnan(m) ? "no returns, or a compounded loss below -100%"
                                       : "out of range");
        mu[i] = m;
    }
    return NQ_OK;
}

/* ---- portfolio returns ----------------------------------------------------- */

int nq_pf_portfolio_returns(const nq_returns *ret, const double *w, double *out,
                            int32_t *t_out, nq_err *err)
{
    if (t_out)
        *t_out = 0;
    if (!returns_ok(ret) || !w || !out || !t_out)
        return nq_err_set(err, NQ_EINVAL, "/returns", "no returns, weights or output");
    for (int32_t i = 0; i < ret->n; i++)
        if (!isfinite(w[i]))
            return nq_err_set(err, NQ_EINVAL, "/weights", "weight %d is not finite", (int)i);
    int32_t o = 0;
    for (int32_t k = 0; k < ret->t; k++) {
        const double *row = ret->r + (size_t)k * ret->n;
        if (!row_complete(row, ret->n))
            continue;
        double s = nq_dot(w, row, ret->n);
        if (!isfinite(s))
            return nq_err_set(err, NQ_ERANGE, "/returns", "row %d: portfolio return overflows",
                              (int)k);
        out[o++] = s;
    }
    if (o == 0)
        return nq_err_set(err, NQ_EINVAL, "/returns", "no row has a return for every asset");
    *t_out = o;
    return NQ_OK;
}
