/* risk.c - risk figures of one return series: moments, Sharpe and Sortino,
 * historical VaR/CVaR in Riskfolio's and numpy's definitions, Gaussian
 * VaR/CVaR, maximum drawdown and beta; and the inverse normal CDF.
 *
 * Every figure is checked to be finite before it is reported: finite but
 * enormous returns can still overflow a sum, and that is an error
 * (NQ_ERANGE) rather than an infinity in the report. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "goliath_internal.h"

void nq_pf_risk_opts_default(nq_pf_risk_opts *o)
{
    if (!o)
        return;
    *o = (nq_pf_risk_opts){.level = 0.95, .frequency = NQ_PF_FREQUENCY, .rf = 0.0, .mar = 0.0};
}

/* ---- inverse normal CDF ----------------------------------------------------------- */

/* Wichura (1988), Algorithm AS 241 (PPND16), Applied Statistics 37(3):
 * rational approximations in three regions, relative accuracy about 1e-16
 * (the denominators' constant terms are 1, as published).
 * Central region |p - 0.5| <= 0.425, in r = 0.180625 - q^2. */
static const double as241_a[8] = {3.3871328727963666080e0,  1.3314166789178437745e+2,
                                  1.9715909503065514427e+3, 1.3731693765509461125e+4,
                                  4.5921953931549871457e+4, 6.7265770927008700853e+4,
                                  3.3430575583588128105e+4, 2.5090809287301226727e+3};
static const double as241_b[8] = {1.0,
                                  4.2313330701600911252e+1,
                                  6.8718700749205790830e+2,
                                  5.3941960214247511077e+3,
                                  2.1213794301586595867e+4,
                                  3.9307895800092710610e+4,
                                  2.8729085735721942674e+4,
                                  5.2264952788528545610e+3};
/* Intermediate tail, r = sqrt(-log(min(p, 1-p))) <= 5, in r - 1.6. */
static const double as241_c[8] = {1.42343711074968357734e0,  4.63033784615654529590e0,
                                  5.76949722146069140550e0,  3.64784832476320460504e0,
                                  1.27045825245236838258e0,  2.41780725177450611770e-1,
                                  2.27238449892691845833e-2, 7.74545014278341407640e-4};
static const double as241_d[8] = {1.0,
                                  2.05319162663775882187e0,
                                  1.67638483018380384940e0,
                                  6.89767334985100004550e-1,
                                  1.48103976427480074590e-1,
                                  1.51986665636164571966e-2,
                                  5.47593808499534494600e-4,
                                  1.05075007164441684324e-9};
/* Far tail, r > 5, in r - 5. */
static const double as241_e[8] = {6.65790464350110377720e0,  5.46378491116411436990e0,
                                  1.78482653991729133580e0,  2.96560571828504891230e-1,
                                  2.65321895265761230930e-2, 1.24266094738807843860e-3,
                                  2.71155556874348757815e-5, 2.01033439929228813265e-7};
static const double as241_f[8] = {1.0,
                                  5.99832206555887937690e-1,
                                  1.36929880922735805310e-1,
                                  1.48753612908506148525e-2,
                                  7.86869131145613259100e-4,
                                  1.84631831751005468180e-5,
                                  1.42151175831644588870e-7,
                                  2.04426310338993978564e-15};

/* num(x) / den(x) for two degree-7 polynomials, Horner from the top. */
static double ratio7(const double *num, const double *den, double x)
{
    double a = num[7], b = den[7];
    for (int k = 6; k >= 0; k--) {
        a = a * x + num[k];
        b = b * x + den[k];
    }
    return a / b;
}

/* p outside (0, 1), or NaN, gives NAN: there is no finite answer, and the
 * callers in this module validate levels before they get here. */
double nq_norm_ppf(double p)
{
    if (!(p > 0.0 && p < 1.0))
        return NAN;
    double q = p - 0.5;
    if (fabs(q) <= 0.425)
        return q * ratio7(as241_a, as241_b, 0.180625 - q * q);
    /* The tails work on the smaller of p and 1 - p; 1 - p is exact for
     * p >= 0.5 (Sterbenz), so no accuracy is lost on the upper side. */
    double r = q < 0.0 ? p : 1.0 - p;
    r = sqrt(-log(r));
    double x = r <= 5.0 ? ratio7(as241_c, as241_d, r - 1.6) : ratio7(as241_e, as241_f, r - 5.0);
    return q < 0.0 ? -x : x;
}

/* ---- validation ------------------------------------------------------------------- */

static int check_series(const double *x, int32_t t, const char *name, nq_err *err)
{
    char where[64];
    for (int32_t i = 0; i < t; i++) {
        if (!isfinite(x[i])) {
            snprintf(where, sizeof where, "/%s/%d", name, (int)i);
            return nq_err_set(err, NQ_EINVAL, where, "%s %d is %s (every value must be finite)",
                              name, (int)i, isnan(x[i]) ? "NaN" : "infinite");
        }
    }
    return NQ_OK;
}

static int check_opts(const nq_pf_risk_opts *o, nq_err *err)
{
    if (!(o->level > 0.0 && o->level < 1.0))
        return nq_err_set(err, NQ_EINVAL, "/level", "level must be in (0, 1)");
    if (o->frequency < 1)
        return nq_err_set(err, NQ_EINVAL, "/frequency", "frequency must be at least 1");
    if (!isfinite(o->rf))
        return nq_err_set(err, NQ_EINVAL, "/rf", "rf must be finite");
    if (!isfinite(o->mar))
        return nq_err_set(err, NQ_EINVAL, "/mar", "mar must be finite");
    return NQ_OK;
}

static int check_inputs(const double *r, int32_t t, const double *bench, const nq_pf_risk_opts *o,
                        nq_pf_risk_report *out, nq_err *err)
{
    if (!out)
        return nq_err_set(err, NQ_EINVAL, "/report", "no report to fill");
    if (!r || t < 2)
        return nq_err_set(err, NQ_EINVAL, "/returns", "at least 2 returns are needed");
    if (t > NQ_PF_MAX_ROWS)
        return nq_err_set(err, NQ_ELIMIT, "/returns", "more than %d returns", NQ_PF_MAX_ROWS);
    int rc = check_opts(o, err);
    if (!rc)
        rc = check_series(r, t, "returns", err);
    if (!rc && bench)
        rc = check_series(bench, t, "benchmark", err);
    return rc;
}

/* ---- moments ------------------------------------------------------------------------ */

/* The plain mean, then one correction pass with the mean residual: it
 * changes the result by an ulp or so, but makes the mean of a constant
 * series that constant exactly, so that its deviation is exactly 0 rather
 * than a rounding residue that would blow up Sharpe and Sortino. */
static double mean_of(const double *x, int32_t t)
{
    double s = 0.0, c = 0.0;
    for (int32_t i = 0; i < t; i++)
        s += x[i];
    double m = s / t;
    for (int32_t i = 0; i < t; i++)
        c += x[i] - m;
    return m + c / t;
}

/* Two passes (the mean first) as numpy and pandas do: the one-pass
 * formula loses the small variance of daily returns to cancellation. */
static double cov_of(const double *x, double mx, const double *y, double my, int32_t t)
{
    double s = 0.0;
    for (int32_t i = 0; i < t; i++)
        s += (x[i] - mx) * (y[i] - my);
    return s / (t - 1);
}

/* Downside deviation below mar over all t periods (periods above mar
 * count as 0), per period. */
static double downside_dev(const double *r, int32_t t, double mar)
{
    double s = 0.0;
    for (int32_t i = 0; i < t; i++) {
        double d = r[i] - mar;
        if (d < 0.0)
            s += d * d;
    }
    return sqrt(s / t);
}

/* ---- historical VaR / CVaR -------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Riskfolio VaR_Hist / CVaR_Hist on the ascending sort s. alpha * t is
 * computed from alpha = 1 - level, which carries the rounding of that
 * subtraction (1 - 0.95 = 0.050000000000000044, so alpha * 1000 =
 * 50.00000000000004): the product is shrunk by a relative 1e-12 before the
 * ceiling so that an exact multiple is not pushed to the next index (a
 * fraction that small cannot be told from rounding anyway). */
static void hist_riskfolio(const double *s, int32_t t, double alpha, double *var, double *cvar)
{
    double at = alpha * t;
    double kc = ceil(at * (1.0 - 1e-12)) - 1.0;
    int32_t k = kc < 0.0 ? 0 : kc > t - 1 ? t - 1 : (int32_t)kc;
    double tail = 0.0;
    for (int32_t i = 0; i <= k; i++)
        tail += s[i] - s[k];
    *var = -s[k];
    *cvar = *var - tail / at;
}

/* numpy.quantile(s, alpha) with the default linear method (Hyndman-Fan
 * type 7), interpolating as numpy's _lerp does, then the mean of the
 * returns strictly below it (all of those at or below it when none is
 * strictly below, i.e. when the quantile is the smallest return). */
static void hist_quantile(const double *s, int32_t t, double alpha, double *var, double *cvar)
{
    double h = (t - 1) * alpha;
    double lo_d = floor(h);
    int32_t lo = lo_d < 0.0 ? 0 : lo_d > t - 1 ? t - 1 : (int32_t)lo_d;
    int32_t hi = lo + 1 < t ? lo + 1 : t - 1;
    double g = h - lo;
    double a = s[lo], b = s[hi], d = b - a;
    double q = g >= 0.5 ? b - d * (1.0 - g) : a + d * g;
    double sum = 0.0;
    int32_t cnt = 0;
    for (int32_t i = 0; i < t && s[i] < q; i++, cnt++)
        sum += s[i];
    if (cnt == 0)
        for (int32_t i = 0; i < t && s[i] <= q; i++, cnt++)
            sum += s[i];
    *var = -q;
    *cvar = -sum / cnt; /* cnt >= 1: q >= s[0] */
}

/* ---- drawdown --------------------------------------------------------------------- */

/* The wealth path prod(1 + r) from 1, followed in logarithms so that a
 * long run of large gains cannot overflow; the starting value 1 is the
 * first peak. A return of -1 or below wipes the wealth out: drawdown 1. */
static double max_drawdown(const double *r, int32_t t)
{
    double lw = 0.0, peak = 0.0, worst = 0.0;
    for (int32_t i = 0; i < t; i++) {
        if (r[i] <= -1.0)
            return 1.0;
        lw += log1p(r[i]);
        if (lw > peak)
            peak = lw;
        double dd = -expm1(lw - peak);
        if (dd > worst)
            worst = dd;
    }
    return worst > 1.0 ? 1.0 : worst;
}

/* ---- the report ------------------------------------------------------------------- */

static void moments(const double *r, int32_t t, const nq_pf_risk_opts *o, nq_pf_risk_report *out)
{
    double f = (double)o->frequency, sf = sqrt(f);
    out->mean = mean_of(r, t);
    out->stdev = sqrt(cov_of(r, out->mean, r, out->mean, t));
    out->annual_return = out->mean * f;
    out->annual_volatility = out->stdev * sf;
    /* A constant series has no volatility: its Sharpe ratio is reported 0,
     * as nq_pf_result does. Likewise a series never below mar has no
     * downside deviation and its Sortino ratio is reported 0. */
    out->sharpe =
        out->annual_volatility > 0.0 ? (out->annual_return - o->rf) / out->annual_volatility : 0.0;
    double dd = downside_dev(r, t, o->mar) * sf;
    out->sortino = dd > 0.0 ? (out->annual_return - o->rf) / dd : 0.0;
}

static void parametric(const nq_pf_risk_opts *o, nq_pf_risk_report *out)
{
    double alpha = 1.0 - o->level;
    double z = nq_norm_ppf(alpha);
    double phi = exp(-0.5 * z * z) / sqrt(2.0 * M_PI);
    out->var_param = -(out->mean + out->stdev * z);
    out->cvar_param = -(out->mean - out->stdev * phi / alpha);
}

static int all_finite(const nq_pf_risk_report *o)
{
    const double v[] = {o->mean,         o->stdev,         o->annual_return, o->annual_volatility,
                        o->sharpe,       o->sortino,       o->var_hist,      o->cvar_hist,
                        o->var_quantile, o->cvar_quantile, o->var_param,     o->cvar_param,
                        o->max_drawdown, o->beta};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        if (!isfinite(v[i]))
            return 0;
    return 1;
}

static int beta_of(const double *r, const double *b, int32_t t, double mr, nq_pf_risk_report *out,
                   nq_err *err)
{
    double mb = mean_of(b, t);
    double vb = cov_of(b, mb, b, mb, t);
    if (!(vb > 0.0))
        return nq_err_set(err, isfinite(vb) ? NQ_EINVAL : NQ_ERANGE, "/benchmark",
                          isfinite(vb) ? "the benchmark has no variance"
                                       : "the benchmark's variance overflows");
    out->has_beta = 1;
    out->beta = cov_of(r, mr, b, mb, t) / vb;
    return NQ_OK;
}

int nq_pf_risk(const double *r, int32_t t, const double *bench, const nq_pf_risk_opts *o,
               nq_pf_risk_report *out, nq_err *err)
{
    nq_pf_risk_opts def;
    if (!o) {
        nq_pf_risk_opts_default(&def);
        o = &def;
    }
    int rc = check_inputs(r, t, bench, o, out, err);
    if (rc)
        return rc;
    nq_pf_risk_report rep = {.t = t};
    moments(r, t, o, &rep);
    parametric(o, &rep);
    rep.max_drawdown = max_drawdown(r, t);
    if (bench && (rc = beta_of(r, bench, t, rep.mean, &rep, err)) != NQ_OK)
        return rc;
    double *s = malloc((size_t)t * sizeof *s);
    if (!s)
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    memcpy(s, r, (size_t)t * sizeof *s);
    qsort(s, (size_t)t, sizeof *s, cmp_double);
    hist_riskfolio(s, t, 1.0 - o->level, &rep.var_hist, &rep.cvar_hist);
    hist_quantile(s, t, 1.0 - o->level, &rep.var_quantile, &rep.cvar_quantile);
    free(s);
    if (!all_finite(&rep))
        return nq_err_set(err, NQ_ERANGE, "/returns",
                          "the returns are too large: a risk figure overflows");
    *out = rep;
    return NQ_OK;
}
