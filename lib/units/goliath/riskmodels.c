/* riskmodels.c - annual covariance matrices with PyPortfolioOpt's
 * conventions: pandas' pairwise-complete sample covariance, scikit-learn's
 * Ledoit-Wolf shrinkage to a constant variance, pypfopt's exponentially
 * weighted pairwise covariance and semicovariance, each followed by its
 * spectral repair when the matrix is not positive semidefinite. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "goliath_internal.h"

void nq_cov_opts_default(nq_cov_opts *o)
{
    if (!o)
        return;
    *o = (nq_cov_opts){ .method = NQ_COV_SAMPLE, .frequency = NQ_PF_FREQUENCY, .span = 180.0,
                        .benchmark = 0.000079 };
}

/* pandas' nancorr for one pair, in its order of operations: x is the column
 * with the larger index, Welford's updates over the rows where both are
 * finite. */
int32_t nq__pair_moments(const nq_returns *r, int32_t a, int32_t b, double *cov, double *corr)
{
    int32_t xi = a > b ? a : b, yi = a > b ? b : a, nobs = 0;
    double ssqdmx = 0.0, ssqdmy = 0.0, covxy = 0.0, meanx = 0.0, meany = 0.0;
    for (int32_t k = 0; k < r->t; k++) {
        const double *row = r->r + (size_t)k * r->n;
        double vx = row[xi], vy = row[yi];
        if (!isfinite(vx) || !isfinite(vy))
            continue;
        nobs++;
        double dx = vx - meanx, dy = vy - meany;
        meanx += 1.0 / nobs * dx;
        meany += 1.0 / nobs * dy;
        ssqdmx += (vx - meanx) * dx;
        ssqdmy += (vy - meany) * dy;
        covxy += (vx - meanx) * dy;
    }
    double div = sqrt(ssqdmx * ssqdmy);
    if (cov)
        *cov = nobs >= 2 ? covxy / (nobs - 1.0) : NAN;
    if (corr)
        *corr = nobs >= 1 && div != 0.0 ? covxy / div : NAN;
    return nobs;
}

static int sample_cov(const nq_returns *r, double f, double *S, nq_err *err)
{
    int32_t n = r->n;
    for (int32_t i = 0; i < n; i++)
        for (int32_t j = 0; j <= i; j++) {
            double c;
            if (nq__pair_moments(r, i, j, &c, NULL) < 2)
                return nq_err_set(err, NQ_EINVAL, "/returns",
                                  "assets %d and %d have fewer than 2 returns in common",
                                  (int)j, (int)i);
            S[(size_t)i * n + j] = S[(size_t)j * n + i] = c * f;
        }
    return NQ_OK;
}

/* ---- Ledoit-Wolf ------------------------------------------------------------- */

/* The returns with NaN as 0 (pypfopt's nan_to_num), columns centred. */
static double *centred_returns(const nq_returns *r)
{
    int32_t n = r->n, t = r->t;
    double *X = malloc((size_t)n * (size_t)t * sizeof *X);
    if (!X)
        return NULL;
    for (size_t k = 0; k < (size_t)n * (size_t)t; k++)
        X[k] = isnan(r->r[k]) ? 0.0 : r->r[k];
    for (int32_t i = 0; i < n; i++) {
        double m = 0.0;
        for (int32_t k = 0; k < t; k++)
            m += X[(size_t)k * n + i];
        m /= t;
        for (int32_t k = 0; k < t; k++)
            X[(size_t)k * n + i] -= m;
    }
    return X;
}

/* scikit-learn's ledoit_wolf_shrinkage on centred X (T x n) with G = X'X:
 *   mu     = trace(G / T) / n
 *   delta_ = sum (G / T)^2,  beta_ = sum_t (sum_i X_ti^2)^2
 *   beta   = (beta_ / T - delta_) / (n T)
 *   delta  = (delta_ - 2 mu trace(G / T) + n mu^2) / n
 *   shrinkage = min(beta, delta) / delta (0 when that numerator is 0). */
static double lw_shrinkage(const double *X, const double *G, int32_t n, int32_t t, double *mu)
{
    double T = (double)t, trace = 0.0, delta_ = 0.0, beta_ = 0.0;
    for (int32_t i = 0; i < n; i++)
        trace += G[(size_t)i * n + i] / T;
    for (size_t k = 0; k < (size_t)n * (size_t)n; k++)
        delta_ += G[k] * G[k];
    delta_ /= T * T;
    for (int32_t k = 0; k < t; k++) {
        double s = 0.0;
        for (int32_t i = 0; i < n; i++)
            s += X[(size_t)k * n + i] * X[(size_t)k * n + i];
        beta_ += s * s;
    }
    *mu = trace / n;
    double beta = (beta_ / T - delta_) / ((double)n * T);
    double delta = (delta_ - 2.0 * *mu * trace + n * *mu * *mu) / n;
    if (beta > delta)
        beta = delta;
    if (beta == 0.0 || !(delta > 0.0))
        return 0.0;
    double s = beta / delta;
    return s < 0.0 ? 0.0 : s > 1.0 ? 1.0 : s;
}

static int ledoit_wolf(const nq_returns *r, double f, double *S, double *shrinkage, nq_err *err)
{
    int32_t n = r->n, t = r->t;
    double *X = centred_returns(r);
    if (!X)
        return nq_err_set(err, NQ_ENOMEM, "/returns", "out of memory for Ledoit-Wolf");
    for (int32_t i = 0; i < n; i++) /* G = X'X into S */
        for (int32_t j = 0; j <= i; j++) {
            double s = 0.0;
            for (int32_t k = 0; k < t; k++)
                s += X[(size_t)k * n + i] * X[(size_t)k * n + j];
            S[(size_t)i * n + j] = S[(size_t)j * n + i] = s;
        }
    double mu = 0.0, d = n > 1 ? lw_shrinkage(X, S, n, t, &mu) : 0.0;
    free(X);
    for (int32_t i = 0; i < n; i++)
        for (int32_t j = 0; j < n; j++) {
            double v = (1.0 - d) * (S[(size_t)i * n + j] / t);
            if (i == j)
                v += d * mu;
            S[(size_t)i * n + j] = v * f;
        }
    *shrinkage = d;
    return NQ_OK;
}

/* ---- exponentially weighted and semicovariance ---------------------------- */

static int exp_cov(const nq_returns *r, double f, double span, double *S, nq_err *err)
{
    int32_t n = r->n, t = r->t;
    double *mean = malloc((size_t)n * sizeof *mean), *cv = malloc((size_t)t * sizeof *cv);
    int rc = NQ_OK;
    if (!mean || !cv)
        rc = nq_err_set(err, NQ_ENOMEM, "/returns", "out of memory for exp_cov");
    for (int32_t i = 0; rc == NQ_OK && i < n; i++) {
        double s = 0.0;
        int32_t c = 0;
        for (int32_t k = 0; k < t; k++) {
            double v = r->r[(size_t)k * n + i];
            if (!isnan(v)) {
                s += v;
                c++;
            }
        }
        mean[i] = c ? s / c : NAN;
    }
    for (int32_t i = 0; rc == NQ_OK && i < n; i++)
        for (int32_t j = i; rc == NQ_OK && j < n; j++) {
            /* NaN deviations stay NaN: ewm skips them but keeps decaying. */
            for (int32_t k = 0; k < t; k++) {
                const double *row = r->r + (size_t)k * n;
                cv[k] = (row[i] - mean[i]) * (row[j] - mean[j]);
            }
            double v = nq__ewm_last(cv, 1, t, span);
            if (isnan(v))
                rc = nq_err_set(err, NQ_EINVAL, "/returns",
                                "assets %d and %d have no return in common", (int)i, (int)j);
            S[(size_t)i * n + j] = S[(size_t)j * n + i] = v * f;
        }
    free(mean);
    free(cv);
    return rc;
}

/* pypfopt: drops = fmin(r - benchmark, 0), and fmin turns a NaN return
 * into 0 (no drop that day); S = drops' drops / T with T every row. */
static int semi_cov(const nq_returns *r, double f, double bench, double *S, nq_err *err)
{
    int32_t n = r->n, t = r->t;
    double *D = malloc((size_t)n * (size_t)t * sizeof *D);
    if (!D)
        return nq_err_set(err, NQ_ENOMEM, "/returns", "out of memory for semicovariance");
    for (size_t k = 0; k < (size_t)n * (size_t)t; k++) {
        double v = r->r[k] - bench;
        D[k] = isnan(v) ? 0.0 : fmin(v, 0.0);
    }
    for (int32_t i = 0; i < n; i++)
        for (int32_t j = 0; j <= i; j++) {
            double s = 0.0;
            for (int32_t k = 0; k < t; k++)
                s += D[(size_t)k * n + i] * D[(size_t)k * n + j];
            S[(size_t)i * n + j] = S[(size_t)j * n + i] = s / t * f;
        }
    free(D);
    return NQ_OK;
}

/* ---- entry points ------------------------------------------------------------ */

static int cov_opts_ok(const nq_cov_opts *o, nq_err *err)
{
    if ((int)o->method < NQ_COV_SAMPLE || o->method > NQ_COV_SEMI)
        return nq_err_set(err, NQ_EINVAL, "/cov/method", "unknown method %d", (int)o->method);
    if (o->frequency < 1)
        return nq_err_set(err, NQ_EINVAL, "/cov/frequency", "must be at least 1");
    if (o->method == NQ_COV_EXP && !(isfinite(o->span) && o->span >= 1.0))
        return nq_err_set(err, NQ_EINVAL, "/cov/span", "must be a number >= 1");
    if (o->method == NQ_COV_SEMI && !isfinite(o->benchmark))
        return nq_err_set(err, NQ_EINVAL, "/cov/benchmark", "must be a finite number");
    return NQ_OK;
}

int nq_risk_matrix(const nq_returns *r, const nq_cov_opts *o, double *S, int *repaired,
                   double *shrinkage, nq_err *err)
{
    nq_cov_opts def;
    nq_cov_opts_default(&def);
    if (!o)
        o = &def;
    if (repaired)
        *repaired = 0;
    if (shrinkage)
        *shrinkage = 0.0;
    if (!r || !r->r || !S || r->n < 1 || r->t < 1 || r->n > NQ_PF_MAX_ASSETS ||
        r->t > NQ_PF_MAX_ROWS || (int64_t)r->n * r->t > NQ_PF_MAX_CELLS)
        return nq_err_set(err, NQ_EINVAL, "/returns", "no returns or no output");
    int rc = cov_opts_ok(o, err);
    if (rc)
        return rc;
    double f = (double)o->frequency, d = 0.0;
    switch (o->method) {
    case NQ_COV_SAMPLE: rc = sample_cov(r, f, S, err); break;
    case NQ_COV_LEDOIT_WOLF: rc = ledoit_wolf(r, f, S, &d, err); break;
    case NQ_COV_EXP: rc = exp_cov(r, f, o->span, S, err); break;
    case NQ_COV_SEMI: rc = semi_cov(r, f, o->benchmark, S, err); break;
    }
    if (rc)
        return rc;
    for (size_t k = 0; k < (size_t)r->n * (size_t)r->n; k++)
        if (!isfinite(S[k]))
            return nq_err_set(err, NQ_ERANGE, "/returns", "the covariance overflows");
    int rep = 0;
    rc = nq_psd_repair(S, r->n, &rep, err);
    if (rc)
        return rc;
    if (repaired)
        *repaired = rep;
    if (shrinkage)
        *shrinkage = d;
    return NQ_OK;
}

/* V diag(max(l, 0)) V' from the eigenvectors (rows of V), written to both
 * triangles from one computation so the result is exactly symmetric. */
static void clip_rebuild(double *S, const double *l, const double *V, int32_t n)
{
    for (int32_t i = 0; i < n; i++)
        for (int32_t j = 0; j <= i; j++) {
            double s = 0.0;
            for (int32_t k = 0; k < n; k++)
                if (l[k] > 0.0)
                    s += l[k] * V[(size_t)k * n + i] * V[(size_t)k * n + j];
            S[(size_t)i * n + j] = S[(size_t)j * n + i] = s;
        }
}

/* As numpy does, the test and the decomposition read the lower triangle. */
int nq_psd_repair(double *S, int32_t n, int *repaired, nq_err *err)
{
    if (repaired)
        *repaired = 0;
    if (!S || n < 1 || n > NQ_PF_MAX_ASSETS)
        return nq_err_set(err, NQ_EINVAL, "/S", "no matrix, or a size outside 1..%d",
                          NQ_PF_MAX_ASSETS);
    size_t nn = (size_t)n * (size_t)n;
    for (size_t k = 0; k < nn; k++)
        if (!isfinite(S[k]))
            return nq_err_set(err, NQ_EINVAL, "/S", "entry %d,%d is not finite", (int)(k / n),
                              (int)(k % n));
    double *A = malloc(nn * sizeof *A), *l = malloc((size_t)n * sizeof *l);
    if (!A || !l) {
        free(A);
        free(l);
        return nq_err_set(err, NQ_ENOMEM, "/S", "out of memory for the PSD check");
    }
    memcpy(A, S, nn * sizeof *A);
    for (int32_t i = 0; i < n; i++)
        A[(size_t)i * n + i] += 1e-16;
    int rc = NQ_OK;
    if (nq_chol(A, n) != NQ_OK) {
        rc = nq_sym_eig(S, n, l, A);
        if (rc == NQ_OK) {
            clip_rebuild(S, l, A, n);
            if (repaired)
                *repaired = 1;
        } else {
            rc = nq_err_set(err, rc, "/S", "the eigen-decomposition failed");
        }
    }
    free(A);
    free(l);
    return rc;
}
