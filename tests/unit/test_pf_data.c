/* test_pf_data.c - the portfolio module's data side: the price CSV reader
 * and its checks, returns, expected returns, the four risk models, the PSD
 * repair, HRP and fixed-weight portfolio returns, against PyPortfolioOpt's
 * data and reference results (../shared/data/portfolio) and against
 * small cases computed here by direct formulas. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nqba/portfolio.h"

#include "../../lib/units/goliath/goliath_internal.h"

#define N_STOCKS 20

static const char *const tickers[N_STOCKS] = { "GOOG", "AAPL", "FB",  "BABA", "AMZN",
                                               "GE",   "AMD",  "WMT", "BAC",  "GM",
                                               "T",    "UAA",  "SHLD", "XOM", "RRC",
                                               "BBY",  "MA",   "PFE", "JPM",  "SBUX" };

/* ---- helpers ---------------------------------------------------------------- */

static char *read_data(const char *name, size_t *len)
{
    const char *shared = getenv("NQ_SHARED_DIR");
    char path[512];
    snprintf(path, sizeof path, "%s/data/portfolio/%s", shared ? shared : "../shared", name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    if (fseek(f, 0, SEEK_END) == 0) {
        long sz = ftell(f);
        rewind(f);
        buf = sz >= 0 ? malloc((size_t)sz + 1) : NULL;
        *len = buf ? fread(buf, 1, (size_t)sz, f) : 0;
        if (buf)
            buf[*len] = '\0';
    }
    fclose(f);
    return buf;
}

static void load_stocks(nq_prices *p)
{
    size_t len = 0;
    char *text = read_data("pypfopt_stock_prices.csv", &len);
    if (!text) {
        print_message("pypfopt_stock_prices.csv not found (NQ_SHARED_DIR): skipped\n");
        skip();
    }
    nq_err err = { 0 };
    int rc = nq_prices_parse_csv(text, len, "stock_prices.csv", p, &err);
    if (rc)
        print_message("%s: %s\n", err.where, err.msg);
    free(text);
    assert_int_equal(rc, NQ_OK);
}

static void load_stock_returns(nq_returns *r)
{
    nq_prices p;
    load_stocks(&p);
    nq_err err = { 0 };
    assert_int_equal(nq_returns_from_prices(&p, r, &err), NQ_OK);
    nq_prices_free(&p);
}

static json_t *load_reference(void)
{
    size_t len = 0;
    char *text = read_data("reference_results.json", &len);
    assert_non_null(text);
    json_error_t jerr;
    json_t *root = json_loadb(text, len, 0, &jerr);
    free(text);
    assert_non_null(root);
    return root;
}

static double ref_number(json_t *root, const char *a, const char *b, const char *c)
{
    json_t *v = json_object_get(json_object_get(root, a), b);
    if (c)
        v = json_object_get(v, c);
    assert_true(json_is_number(v));
    return json_number_value(v);
}

static int rel_close(double a, double b, double tol)
{
    return fabs(a - b) <= tol * fabs(b);
}

static void assert_symmetric(const double *S, int32_t n)
{
    for (int32_t i = 0; i < n; i++)
        for (int32_t j = 0; j < n; j++)
            assert_true(S[(size_t)i * n + j] == S[(size_t)j * n + i]);
}

static double min_eigenvalue(const double *S, int32_t n)
{
    double *l = malloc((size_t)n * sizeof *l), *V = malloc((size_t)n * n * sizeof *V);
    assert_non_null(l);
    assert_non_null(V);
    assert_int_equal(nq_sym_eig(S, n, l, V), NQ_OK);
    double m = l[0];
    free(l);
    free(V);
    return m;
}

/* PSD as the module defines it: Cholesky of S + 1e-16 I, or eigenvalues
 * no lower than -tol relative to the largest diagonal entry. */
static void assert_psd(const double *S, int32_t n)
{
    double dmax = 0.0;
    for (int32_t i = 0; i < n; i++)
        dmax = fmax(dmax, S[(size_t)i * n + i]);
    assert_true(min_eigenvalue(S, n) >= -1e-12 * fmax(dmax, 1.0));
}

/* Returns from a small row-major table (NAN allowed), frequency 1. */
static nq_returns small_returns(const double *r, int32_t t, int32_t n)
{
    nq_returns out = { .n = n, .t = t };
    out.r = malloc((size_t)n * t * sizeof *out.r);
    out.dates = calloc((size_t)t, sizeof *out.dates);
    assert_non_null(out.r);
    assert_non_null(out.dates);
    memcpy(out.r, r, (size_t)n * t * sizeof *out.r);
    return out;
}

/* ---- the stock data set ---------------------------------------------------- */

static void test_stock_prices_and_mu(void **state)
{
    (void)state;
    nq_prices p;
    load_stocks(&p);
    assert_int_equal(p.n, N_STOCKS);
    assert_int_equal(p.t, 7126);
    for (int i = 0; i < N_STOCKS; i++)
        assert_string_equal(p.names[i], tickers[i]);
    assert_string_equal(p.dates[0], "1989-12-29");
    assert_string_equal(p.dates[p.t - 1], "2018-04-11");
    assert_true(isnan(p.p[0]));      /* GOOG not listed yet */
    assert_true(p.p[1] == 0.117203); /* AAPL on the first day */
    nq_err err = { 0 };
    assert_int_equal(nq_prices_check(&p, "/prices", &err), NQ_OK);

    nq_returns r;
    assert_int_equal(nq_returns_from_prices(&p, &r, &err), NQ_OK);
    json_t *ref = load_reference();
    assert_int_equal(r.t, (int)json_integer_value(
                              json_object_get(json_object_get(ref, "pypfopt_dataset"),
                                              "n_returns_rows")));
    assert_int_equal(r.t, 7125);
    assert_string_equal(r.dates[0], "1990-01-02");

    nq_mu_opts o;
    nq_mu_opts_default(&o);
    assert_int_equal(o.method, NQ_MU_MEAN);
    assert_int_equal(o.compounding, 1);
    double mu[N_STOCKS], worst = 0.0;
    assert_int_equal(nq_expected_returns(&r, &o, mu, &err), NQ_OK);
    for (int i = 0; i < N_STOCKS; i++) {
        double want = ref_number(ref, "pypfopt_dataset", "mu", tickers[i]);
        worst = fmax(worst, fabs(mu[i] - want) / fabs(want));
        assert_true(rel_close(mu[i], want, 1e-9));
    }
    print_message("mu: max relative difference %.3g\n", worst);

    /* Uncompounded: the plain mean of each column times 252. */
    o.compounding = 0;
    assert_int_equal(nq_expected_returns(&r, &o, mu, &err), NQ_OK);
    double s = 0.0;
    int c = 0;
    for (int32_t k = 0; k < r.t; k++)
        if (!isnan(r.r[(size_t)k * N_STOCKS + 1])) {
            s += r.r[(size_t)k * N_STOCKS + 1];
            c++;
        }
    assert_true(rel_close(mu[1], s / c * 252.0, 1e-12));
    json_decref(ref);
    nq_returns_free(&r);
    nq_prices_free(&p);
}

/* The EMA of returns against the weights written out: (1 - a)^(T-1-t)
 * over the rows where the asset has a return, a = 2 / (span + 1). */
static void test_ema_mu(void **state)
{
    (void)state;
    const double v[] = { NAN, 0.01, 0.02, NAN, -0.01, 0.03, 0.0, NAN };
    nq_returns r = small_returns(v, 8, 1);
    nq_mu_opts o;
    nq_mu_opts_default(&o);
    o.method = NQ_MU_EMA;
    o.span = 4.0;
    o.frequency = 12;
    double a = 2.0 / (o.span + 1.0), num = 0.0, den = 0.0;
    for (int k = 0; k < 8; k++)
        if (!isnan(v[k])) {
            double w = pow(1.0 - a, 7 - k);
            num += w * v[k];
            den += w;
        }
    double ema = num / den, mu;
    nq_err err = { 0 };
    assert_int_equal(nq_expected_returns(&r, &o, &mu, &err), NQ_OK);
    assert_true(rel_close(mu, pow(1.0 + ema, 12) - 1.0, 1e-12));
    o.compounding = 0;
    assert_int_equal(nq_expected_returns(&r, &o, &mu, &err), NQ_OK);
    assert_true(rel_close(mu, ema * 12, 1e-12));
    nq_returns_free(&r);
}

/* ---- sample covariance --------------------------------------------------- */

/* A two-pass pairwise covariance, written plainly. */
static double pair_cov(const nq_returns *r, int a, int b)
{
    double sa = 0.0, sb = 0.0, sab = 0.0;
    int c = 0;
    for (int32_t k = 0; k < r->t; k++) {
        double x = r->r[(size_t)k * r->n + a], y = r->r[(size_t)k * r->n + b];
        if (!isnan(x) && !isnan(y)) {
            sa += x;
            sb += y;
            c++;
        }
    }
    sa /= c;
    sb /= c;
    for (int32_t k = 0; k < r->t; k++) {
        double x = r->r[(size_t)k * r->n + a], y = r->r[(size_t)k * r->n + b];
        if (!isnan(x) && !isnan(y))
            sab += (x - sa) * (y - sb);
    }
    return sab / (c - 1);
}

static void test_sample_cov(void **state)
{
    (void)state;
    nq_returns r;
    load_stock_returns(&r);
    nq_cov_opts o;
    nq_cov_opts_default(&o);
    double S[N_STOCKS * N_STOCKS], d = -1.0;
    int repaired = -1;
    nq_err err = { 0 };
    assert_int_equal(nq_risk_matrix(&r, &o, S, &repaired, &d, &err), NQ_OK);
    assert_int_equal(repaired, 0); /* reference: covariance_was_psd */
    assert_true(d == 0.0);
    assert_symmetric(S, N_STOCKS);
    assert_psd(S, N_STOCKS);
    /* GOOG (from 2004) with AAPL, BABA (from 2014) with MA, XOM with itself. */
    const int pairs[][2] = { { 0, 1 }, { 3, 16 }, { 13, 13 }, { 19, 2 } };
    for (size_t k = 0; k < sizeof pairs / sizeof pairs[0]; k++) {
        int a = pairs[k][0], b = pairs[k][1];
        assert_true(rel_close(S[a * N_STOCKS + b], 252.0 * pair_cov(&r, a, b), 1e-10));
    }
    nq_returns_free(&r);
}

static void test_sample_cov_no_common_rows(void **state)
{
    (void)state;
    const double v[] = { 0.01, NAN, 0.02, NAN, NAN, 0.01, NAN, -0.02 };
    nq_returns r = small_returns(v, 4, 2);
    double S[4];
    nq_err err = { 0 };
    assert_int_equal(nq_risk_matrix(&r, NULL, S, NULL, NULL, &err), NQ_EINVAL);
    assert_non_null(strstr(err.msg, "0 and 1"));
    nq_returns_free(&r);
}

/* ---- Ledoit-Wolf -------------------------------------------------------------- */

/* sklearn's formula written out on X = returns, NaN -> 0, centred. */
static double lw_expected(const nq_returns *r, double *emp, double *mu)
{
    int n = r->n, t = r->t;
    double *X = malloc((size_t)n * t * sizeof *X);
    assert_non_null(X);
    for (int i = 0; i < n; i++) {
        double m = 0.0;
        for (int k = 0; k < t; k++) {
            double v = r->r[(size_t)k * n + i];
            X[(size_t)k * n + i] = isnan(v) ? 0.0 : v;
            m += X[(size_t)k * n + i];
        }
        for (int k = 0; k < t; k++)
            X[(size_t)k * n + i] -= m / t;
    }
    double trace = 0.0, delta_ = 0.0, beta_ = 0.0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            double xx = 0.0, x2x2 = 0.0;
            for (int k = 0; k < t; k++) {
                double a = X[(size_t)k * n + i], b = X[(size_t)k * n + j];
                xx += a * b;
                x2x2 += a * a * b * b;
            }
            emp[i * n + j] = xx / t;
            delta_ += xx * xx;
            beta_ += x2x2;
        }
    free(X);
    for (int i = 0; i < n; i++)
        trace += emp[i * n + i];
    *mu = trace / n;
    delta_ /= (double)t * t;
    double beta = 1.0 / ((double)n * t) * (beta_ / t - delta_);
    double delta = (delta_ - 2.0 * *mu * trace + n * *mu * *mu) / n;
    beta = fmin(beta, delta);
    return beta == 0.0 ? 0.0 : beta / delta;
}

static void test_ledoit_wolf(void **state)
{
    (void)state;
    nq_returns r;
    load_stock_returns(&r);
    nq_cov_opts o;
    nq_cov_opts_default(&o);
    o.method = NQ_COV_LEDOIT_WOLF;
    double S[N_STOCKS * N_STOCKS], emp[N_STOCKS * N_STOCKS], d = -1.0, mu = 0.0;
    int repaired = -1;
    nq_err err = { 0 };
    assert_int_equal(nq_risk_matrix(&r, &o, S, &repaired, &d, &err), NQ_OK);
    assert_true(d >= 0.0 && d <= 1.0);
    double want_d = lw_expected(&r, emp, &mu);
    print_message("Ledoit-Wolf shrinkage %.12f (formula %.12f)\n", d, want_d);
    assert_true(rel_close(d, want_d, 1e-9));
    assert_int_equal(repaired, 0);
    for (int i = 0; i < N_STOCKS; i++)
        for (int j = 0; j < N_STOCKS; j++) {
            double want = 252.0 * ((1.0 - d) * emp[i * N_STOCKS + j] + (i == j ? d * mu : 0.0));
            assert_true(fabs(S[i * N_STOCKS + j] - want) <= 1e-12 + 1e-10 * fabs(want));
        }
    assert_symmetric(S, N_STOCKS);
    assert_psd(S, N_STOCKS);
    nq_returns_free(&r);
}

/* ---- exponential covariance and semicovariance ---------------------------- */

static const double small3[] = {
    0.010,  -0.020, 0.005,  /* */
    0.030,  0.010,  NAN,    /* */
    -0.015, 0.000,  0.020,  /* */
    0.005,  NAN,    -0.010, /* */
    0.020,  0.015,  0.000,  /* */
    -0.010, -0.005, 0.012,
};


/* A risk model on the stock data: symmetric and PSD (after any repair). */
static void stock_matrix_ok(nq_cov_method method, const char *name)
{
    nq_returns big;
    load_stock_returns(&big);
    static double B[N_STOCKS * N_STOCKS];
    nq_cov_opts o;
    nq_cov_opts_default(&o);
    o.method = method;
    int repaired = -1;
    nq_err err = {0};
    assert_int_equal(nq_risk_matrix(&big, &o, B, &repaired, NULL, &err), NQ_OK);
    print_message("%s on the stock data: repaired %d\n", name, repaired);
    assert_symmetric(B, N_STOCKS);
    assert_psd(B, N_STOCKS);
    nq_returns_free(&big);
}
static void test_exp_cov_small(void **state)
{
    (void)state;
    nq_returns r = small_returns(small3, 6, 3);
    nq_cov_opts o;
    nq_cov_opts_default(&o);
    o.method = NQ_COV_EXP;
    o.span = 5.0;
    o.frequency = 1;
    double S[9], m[3];
    int repaired = -1;
    nq_err err = { 0 };
    assert_int_equal(nq_risk_matrix(&r, &o, S, &repaired, NULL, &err), NQ_OK);
    for (int i = 0; i < 3; i++) {
        double s = 0.0;
        int c = 0;
        for (int k = 0; k < 6; k++)
            if (!isnan(small3[k * 3 + i])) {
                s += small3[k * 3 + i];
                c++;
            }
        m[i] = s / c;
    }
    double a = 2.0 / (o.span + 1.0);
    double want[9];
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) {
            double num = 0.0, den = 0.0;
            for (int k = 0; k < 6; k++) {
                double x = small3[k * 3 + i], y = small3[k * 3 + j];
                if (isnan(x) || isnan(y))
                    continue;
                double w = pow(1.0 - a, 5 - k);
                num += w * (x - m[i]) * (y - m[j]);
                den += w;
            }
            want[i * 3 + j] = num / den;
        }
    assert_symmetric(S, 3);
    assert_int_equal(repaired, 0); /* this example is PSD as it stands */
    for (int k = 0; k < 9; k++)
        assert_true(fabs(S[k] - want[k]) <= 1e-15 + 1e-12 * fabs(want[k]));
    assert_psd(S, 3);
    nq_returns_free(&r);

    stock_matrix_ok(NQ_COV_EXP, "exp_cov");
}

static void test_semicov_small(void **state)
{
    (void)state;
    nq_returns r = small_returns(small3, 6, 3);
    nq_cov_opts o;
    nq_cov_opts_default(&o);
    o.method = NQ_COV_SEMI;
    o.benchmark = 0.001;
    o.frequency = 252;
    double S[9];
    int repaired = -1;
    nq_err err = { 0 };
    assert_int_equal(nq_risk_matrix(&r, &o, S, &repaired, NULL, &err), NQ_OK);
    assert_int_equal(repaired, 0);
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) {
            double s = 0.0;
            for (int k = 0; k < 6; k++) {
                double x = small3[k * 3 + i] - o.benchmark, y = small3[k * 3 + j] - o.benchmark;
                double dx = isnan(x) || x > 0.0 ? 0.0 : x, dy = isnan(y) || y > 0.0 ? 0.0 : y;
                s += dx * dy;
            }
            assert_true(fabs(S[i * 3 + j] - s / 6.0 * 252.0) <= 1e-15);
        }
    assert_symmetric(S, 3);
    assert_psd(S, 3);
    nq_returns_free(&r);

    stock_matrix_ok(NQ_COV_SEMI, "semicovariance");
}

/* ---- PSD repair ---------------------------------------------------------------- */

static void test_psd_repair(void **state)
{
    (void)state;
    /* Eigenvalues 3 (1,1)/sqrt2 and -1: the repair leaves 1.5 everywhere. */
    double S[4] = { 1.0, 2.0, 2.0, 1.0 };
    int repaired = 0;
    nq_err err = { 0 };
    assert_int_equal(nq_psd_repair(S, 2, &repaired, &err), NQ_OK);
    assert_int_equal(repaired, 1);
    for (int k = 0; k < 4; k++)
        assert_true(fabs(S[k] - 1.5) < 1e-12);
    assert_symmetric(S, 2);
    assert_true(min_eigenvalue(S, 2) >= -1e-12);

    double T[9] = { 2.0, -1.5, 0.9, -1.5, 1.0, 1.2, 0.9, 1.2, 0.5 };
    assert_true(min_eigenvalue(T, 3) < -0.1);
    assert_int_equal(nq_psd_repair(T, 3, &repaired, &err), NQ_OK);
    assert_int_equal(repaired, 1);
    assert_symmetric(T, 3);
    assert_true(min_eigenvalue(T, 3) >= -1e-12);

    double P[9] = { 4.0, 1.0, 0.5, 1.0, 3.0, 0.2, 0.5, 0.2, 2.0 }, P0[9];
    memcpy(P0, P, sizeof P);
    assert_int_equal(nq_psd_repair(P, 3, &repaired, &err), NQ_OK);
    assert_int_equal(repaired, 0);
    assert_memory_equal(P, P0, sizeof P);

    double bad[1] = { NAN };
    assert_int_equal(nq_psd_repair(bad, 1, &repaired, &err), NQ_EINVAL);
}

/* ---- HRP -------------------------------------------------------------------------- */

static void test_hrp_reference(void **state)
{
    (void)state;
    nq_returns r;
    load_stock_returns(&r);
    size_t len = 0;
    char *text = read_data("pypfopt_weights_hrp.csv", &len);
    assert_non_null(text);
    double want[N_STOCKS];
    for (int i = 0; i < N_STOCKS; i++)
        want[i] = NAN;
    char *save = NULL;
    for (char *line = strtok_r(text, "\r\n", &save); line; line = strtok_r(NULL, "\r\n", &save)) {
        char *comma = strchr(line, ',');
        if (!comma || comma == line)
            continue; /* the header ",0" */
        *comma = '\0';
        for (int i = 0; i < N_STOCKS; i++)
            if (strcmp(line, tickers[i]) == 0)
                want[i] = strtod(comma + 1, NULL);
    }
    free(text);

    nq_pf_spec s = { .objective = NQ_PF_HRP, .n = N_STOCKS, .returns = &r,
                     .frequency = NQ_PF_FREQUENCY };
    double w[N_STOCKS], sum = 0.0, worst = 0.0;
    nq_err err = { 0 };
    assert_int_equal(nq__pf_hrp(&s, w, &err), NQ_OK);
    for (int i = 0; i < N_STOCKS; i++) {
        assert_false(isnan(want[i]));
        worst = fmax(worst, fabs(w[i] - want[i]));
        sum += w[i];
    }
    print_message("hrp: max |w - pypfopt| %.3g\n", worst);
    assert_true(worst <= 1e-6);
    assert_true(fabs(sum - 1.0) < 1e-12);

    /* From the annual covariance instead: a valid long-only allocation. */
    double S[N_STOCKS * N_STOCKS];
    assert_int_equal(nq_risk_matrix(&r, NULL, S, NULL, NULL, &err), NQ_OK);
    s.returns = NULL;
    s.S = S;
    assert_int_equal(nq__pf_hrp(&s, w, &err), NQ_OK);
    sum = 0.0;
    for (int i = 0; i < N_STOCKS; i++) {
        assert_true(w[i] > 0.0);
        sum += w[i];
    }
    assert_true(fabs(sum - 1.0) < 1e-12);
    nq_returns_free(&r);
}

/* Three assets by hand from a covariance: 0 and 1 strongly correlated, 2
 * nearly independent, so the tree is (2, (0, 1)) and the weights follow
 * from inverse variances, written out here. */
static void test_hrp_small(void **state)
{
    (void)state;
    /* corr(0,1) = 0.9, corr(0,2) = 0.1, corr(1,2) = 0.2 */
    const double S[9] = { 0.04, 0.9 * 0.2 * 0.3, 0.1 * 0.2 * 0.1,
                          0.9 * 0.2 * 0.3, 0.09, 0.2 * 0.3 * 0.1,
                          0.1 * 0.2 * 0.1, 0.2 * 0.3 * 0.1, 0.01 };
    nq_pf_spec s = { .objective = NQ_PF_HRP, .n = 3, .S = S };
    double w[3];
    nq_err err = { 0 };
    assert_int_equal(nq__pf_hrp(&s, w, &err), NQ_OK);
    /* Single linkage merges (0,1) first (distance sqrt(0.05)), then 2 at
     * distance sqrt(0.4): linkage rows [0 1], [2 3]; pre-order 2, 0, 1.
     * Bisection: [2] | [0, 1]. */
    double iv0 = 1.0 / 0.04, iv1 = 1.0 / 0.09;
    double a0 = iv0 / (iv0 + iv1), a1 = iv1 / (iv0 + iv1);
    double v01 = a0 * a0 * S[0] + 2.0 * a0 * a1 * S[1] + a1 * a1 * S[4], v2 = S[8];
    double alpha = 1.0 - v2 / (v2 + v01);
    double b0 = 1.0 - S[0] / (S[0] + S[4]); /* [0] | [1] */
    assert_true(fabs(w[2] - alpha) < 1e-12);
    assert_true(fabs(w[0] - (1.0 - alpha) * b0) < 1e-12);
    assert_true(fabs(w[1] - (1.0 - alpha) * (1.0 - b0)) < 1e-12);

    double one = 0.5;
    nq_pf_spec s1 = { .objective = NQ_PF_HRP, .n = 1, .S = &one };
    assert_int_equal(nq__pf_hrp(&s1, w, &err), NQ_OK);
    assert_true(w[0] == 1.0);

    const double zero_var[4] = { 0.0, 0.0, 0.0, 0.01 };
    nq_pf_spec s2 = { .objective = NQ_PF_HRP, .n = 2, .S = zero_var };
    assert_int_equal(nq__pf_hrp(&s2, w, &err), NQ_EINVAL);
}

/* ---- portfolio returns ------------------------------------------------------------ */

static void test_portfolio_returns(void **state)
{
    (void)state;
    nq_returns r;
    load_stock_returns(&r);
    double w[N_STOCKS], *out = malloc((size_t)r.t * sizeof *out);
    assert_non_null(out);
    for (int i = 0; i < N_STOCKS; i++)
        w[i] = 1.0 / N_STOCKS;
    int32_t t = 0;
    nq_err err = { 0 };
    assert_int_equal(nq_pf_portfolio_returns(&r, w, out, &t, &err), NQ_OK);
    assert_int_equal(t, 895);
    double mean = 0.0, ss = 0.0;
    for (int k = 0; k < t; k++)
        mean += out[k];
    mean /= t;
    for (int k = 0; k < t; k++)
        ss += (out[k] - mean) * (out[k] - mean);
    double sd = sqrt(ss / (t - 1));
    json_t *ref = load_reference();
    double want_mean =
        ref_number(ref, "pypfopt_dataset", "equal_weight_var_cvar_95", "portfolio_daily_mean");
    double want_sd = ref_number(ref, "pypfopt_dataset", "equal_weight_var_cvar_95",
                                "portfolio_daily_std_ddof1");
    print_message("equal weight: mean %.15g (ref %.15g), sd %.15g (ref %.15g)\n", mean, want_mean,
                  sd, want_sd);
    assert_true(rel_close(mean, want_mean, 1e-12));
    assert_true(rel_close(sd, want_sd, 1e-12));

    nq_returns c;
    assert_int_equal(nq_returns_complete(&r, &c, &err), NQ_OK);
    assert_int_equal(c.t, 895);
    assert_string_equal(c.dates[0], "2014-09-22");
    assert_string_equal(c.dates[c.t - 1], "2018-04-11");
    json_decref(ref);
    nq_returns_free(&c);
    free(out);
    nq_returns_free(&r);
}

/* ---- the CSV reader's edges and errors ------------------------------------------- */

static int parse(const char *text, nq_prices *p, nq_err *err)
{
    return nq_prices_parse_csv(text, strlen(text), "/prices_csv", p, err);
}

static void test_csv_accepts(void **state)
{
    (void)state;
    nq_prices p;
    nq_err err = { 0 };
    /* CRLF, quotes, a BOM, spaces, missing words, a blank line, no final
     * newline. */
    const char *t = "\xEF\xBB\xBF" "date,\"A,1\",B , \"C\"\"x\"\r\n"
                    "d1,1.5,\"2\",NaN\r\n"
                    "\r\n"
                    "\"d2\", 2e0 ,null,nan\r\n"
                    "d3,,+.5,3.";
    assert_int_equal(parse(t, &p, &err), NQ_OK);
    assert_int_equal(p.n, 3);
    assert_int_equal(p.t, 3);
    assert_string_equal(p.names[0], "A,1");
    assert_string_equal(p.names[1], "B");
    assert_string_equal(p.names[2], "C\"x");
    assert_string_equal(p.dates[1], "d2");
    assert_true(p.p[0] == 1.5 && p.p[1] == 2.0 && isnan(p.p[2]));
    assert_true(p.p[3] == 2.0 && isnan(p.p[4]) && isnan(p.p[5]));
    assert_true(isnan(p.p[6]) && p.p[7] == 0.5 && p.p[8] == 3.0);
    nq_prices_free(&p);
    assert_null(p.p);
    nq_prices_free(NULL);

    /* The text need not end in NUL: only len bytes are read. */
    const char buf[] = { 'd', ',', 'A', '\n', 'x', ',', '1', '2', '9' };
    assert_int_equal(nq_prices_parse_csv(buf, 8, "/p", &p, &err), NQ_OK);
    assert_true(p.p[0] == 12.0);
    nq_prices_free(&p);
}

static void expect_error(const char *text, int code, const char *in_msg)
{
    nq_prices p;
    nq_err err = { 0 };
    int rc = parse(text, &p, &err);
    if (rc != code || (in_msg && !strstr(err.msg, in_msg)))
        print_message("got %d '%s' for:\n%s\n", rc, err.msg, text);
    assert_int_equal(rc, code);
    assert_string_equal(err.where, "/prices_csv");
    assert_true(strncmp(err.msg, "line ", 5) == 0);
    if (in_msg)
        assert_non_null(strstr(err.msg, in_msg));
    assert_null(p.p);
}

static void test_csv_errors(void **state)
{
    (void)state;
    expect_error("date,A,B\nd1,1,2\nd2,3,abc\n", NQ_EPARSE,
                 "line 3: column B: not a number: 'abc'");
    expect_error("date,A\nd1,1\nd2,0x1A\n", NQ_EPARSE, "line 3: column A: not a number");
    expect_error("date,A\nd1,inf\n", NQ_EPARSE, "not a number: 'inf'");
    expect_error("date,A\nd1,NAN\n", NQ_EPARSE, "not a number");
    expect_error("date,A\nd1,1.2.3\n", NQ_EPARSE, "not a number");
    expect_error("date,A\nd1,1e\n", NQ_EPARSE, "not a number");
    expect_error("date,A\nd1,.\n", NQ_EPARSE, "not a number");
    expect_error("date,A\nd1,1e999\n", NQ_ERANGE, "line 2: column A");
    expect_error("date,A\nd1,123456789012345678901234567890abc\n", NQ_EPARSE,
                 "not a number: '12345678901234567890...'");
    expect_error("date,A,B\nd1,1,2\nd2,3\n", NQ_EPARSE, "line 3: expected 3 cells, found 2");
    expect_error("date,A,B\nd1,1,2,4\n", NQ_EPARSE, "line 2: expected 3 cells");
    expect_error("date,A,B,A\nd1,1,2,3\n", NQ_EPARSE, "line 1: column 4: duplicate asset name");
    expect_error("date,A,,B\nd1,1,2,3\n", NQ_EPARSE, "empty asset name");
    expect_error("", NQ_EPARSE, "line 1: empty file");
    expect_error("\r\n \n", NQ_EPARSE, "empty file");
    expect_error("date\nd1\n", NQ_EPARSE, "line 1: the header names no asset column");
    expect_error("date,A\n", NQ_EPARSE, "no data rows");
    expect_error("date,\"A\nd1,1\n", NQ_EPARSE, "line 1: unterminated");
    expect_error("date,A\nd1,\"1\"x\n", NQ_EPARSE, "line 2: unterminated or misplaced quote");
    expect_error("date,A\nd1,\x01\n", NQ_EPARSE, "not a number: '?'");
    expect_error("date,A\xff\nd1,1\n", NQ_EPARSE, "UTF-8");
    expect_error("date,A\nd\x01,1\n", NQ_EPARSE, "date");
}

static void test_csv_limits(void **state)
{
    (void)state;
    char name[80];
    memset(name, 'N', sizeof name);
    name[NQ_PF_NAME_MAX] = '\0'; /* 48 bytes: one over */
    char text[256];
    snprintf(text, sizeof text, "date,%s\nd1,1\n", name);
    expect_error(text, NQ_ELIMIT, "line 1: column 2: asset name longer");
    name[NQ_PF_NAME_MAX - 1] = '\0'; /* 47 bytes: fits */
    snprintf(text, sizeof text, "date,%s\nd1,1\n", name);
    nq_prices p;
    nq_err err = { 0 };
    assert_int_equal(parse(text, &p, &err), NQ_OK);
    nq_prices_free(&p);
    snprintf(text, sizeof text, "date,A\n%.*s,1\n", NQ_PF_DATE_MAX, name);
    expect_error(text, NQ_ELIMIT, "line 2: column 1: date longer");

    /* 1001 asset columns. */
    size_t cap = 16 + 6 * (NQ_PF_MAX_ASSETS + 1);
    char *wide = malloc(cap);
    assert_non_null(wide);
    size_t at = (size_t)snprintf(wide, cap, "date");
    for (int i = 0; i <= NQ_PF_MAX_ASSETS; i++)
        at += (size_t)snprintf(wide + at, cap - at, ",a%d", i);
    snprintf(wide + at, cap - at, "\n");
    expect_error(wide, NQ_ELIMIT, "line 1: more than 1000 asset columns");
    free(wide);

    /* 100001 rows. */
    size_t rows = NQ_PF_MAX_ROWS + 1, tall_len = 7 + rows * 4;
    char *tall = malloc(tall_len + 1);
    assert_non_null(tall);
    memcpy(tall, "date,A\n", 7);
    for (size_t k = 0; k < rows; k++)
        memcpy(tall + 7 + 4 * k, "x,1\n", 4);
    tall[tall_len] = '\0';
    expect_error(tall, NQ_ELIMIT, "more than 100000 data rows");
    free(tall);
}

/* ---- the usability check ------------------------------------------------------------ */

static void test_prices_check(void **state)
{
    (void)state;
    nq_prices p;
    nq_err err = { 0 };
    assert_int_equal(parse("date,A,B\nd1,1,2\n", &p, &err), NQ_OK); /* one row: parses */
    assert_int_equal(nq_prices_check(&p, "/prices", &err), NQ_EINVAL);
    assert_non_null(strstr(err.msg, "at least 2 rows"));
    nq_prices_free(&p);

    assert_int_equal(parse("date,A,FLAT\nd1,1,5\nd2,2,5\nd3,3,\n", &p, &err), NQ_OK);
    assert_int_equal(nq_prices_check(&p, "/prices", &err), NQ_EINVAL);
    assert_string_equal(err.where, "/prices/FLAT");
    assert_non_null(strstr(err.msg, "FLAT"));
    assert_non_null(strstr(err.msg, "never changes"));
    nq_prices_free(&p);

    assert_int_equal(parse("date,A,B\nd1,1,5\nd2,2,\nd3,3,\n", &p, &err), NQ_OK);
    assert_int_equal(nq_prices_check(&p, "/prices", &err), NQ_EINVAL);
    assert_string_equal(err.where, "/prices/B");
    nq_prices_free(&p);

    assert_int_equal(parse("date,A,NEG\nd1,1,5\nd2,2,-1\n", &p, &err), NQ_OK);
    assert_int_equal(nq_prices_check(&p, "/prices", &err), NQ_EINVAL);
    assert_string_equal(err.where, "/prices/NEG");
    nq_prices_free(&p);

    /* A table built by hand: duplicate and empty names are refused. */
    assert_int_equal(nq_prices_alloc(&p, 2, 3, &err), NQ_OK);
    for (int k = 0; k < 6; k++)
        p.p[k] = 1.0 + k;
    assert_int_equal(nq_prices_check(&p, "/t", &err), NQ_EINVAL);
    strcpy(p.names[0], "X");
    strcpy(p.names[1], "X");
    assert_int_equal(nq_prices_check(&p, "/t", &err), NQ_EINVAL);
    assert_non_null(strstr(err.msg, "duplicate"));
    strcpy(p.names[1], "Y");
    assert_int_equal(nq_prices_check(&p, "/t", &err), NQ_OK);

    /* Returns: a gap in prices gives a NaN return, the all-NaN row goes. */
    p.p[2] = NAN; /* row 1, asset X */
    p.p[3] = NAN; /* row 1, asset Y */
    nq_returns r;
    assert_int_equal(nq_returns_from_prices(&p, &r, &err), NQ_EINVAL); /* no consecutive pair */
    p.p[3] = 4.0;
    assert_int_equal(nq_returns_from_prices(&p, &r, &err), NQ_OK);
    assert_int_equal(r.t, 2);
    assert_true(isnan(r.r[0]) && r.r[1] == 4.0 / 2.0 - 1.0);
    assert_true(isnan(r.r[2]) && r.r[3] == 6.0 / 4.0 - 1.0);
    nq_returns_free(&r);
    nq_prices_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stock_prices_and_mu),
        cmocka_unit_test(test_ema_mu),
        cmocka_unit_test(test_sample_cov),
        cmocka_unit_test(test_sample_cov_no_common_rows),
        cmocka_unit_test(test_ledoit_wolf),
        cmocka_unit_test(test_exp_cov_small),
        cmocka_unit_test(test_semicov_small),
        cmocka_unit_test(test_psd_repair),
        cmocka_unit_test(test_hrp_reference),
        cmocka_unit_test(test_hrp_small),
        cmocka_unit_test(test_portfolio_returns),
        cmocka_unit_test(test_csv_accepts),
        cmocka_unit_test(test_csv_errors),
        cmocka_unit_test(test_csv_limits),
        cmocka_unit_test(test_prices_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
