/* test_pf_risk.c - risk figures (VaR/CVaR against the reference results,
 * drawdown, beta, Sortino), the inverse normal CDF, whole-share allocation
 * (checked against greedy rounding and exhaustive enumeration) and
 * rebalancing orders. The price files are read by a small reader here so
 * that these checks do not depend on the library's own CSV code. */
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

#define N_STOCKS 20
#define MAX_ROWS 8000

/* ---- test-local data reading ------------------------------------------------------ */

typedef struct table {
    int32_t n, t; /* columns after the date, rows kept */
    char names[N_STOCKS][16];
    char dates[MAX_ROWS][16];
    double p[MAX_ROWS][N_STOCKS];
} table;

static char *slurp(const char *rel)
{
    const char *dir = getenv("NQ_SHARED_DIR");
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir ? dir : "../shared", rel);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long len = ftell(f);
    assert_true(len > 0);
    rewind(f);
    char *buf = malloc((size_t)len + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
    buf[len] = '\0';
    fclose(f);
    return buf;
}

/* Split one line at commas in place; returns the number of cells. */
static int split(char *line, char **cells, int cap)
{
    int k = 0;
    cells[k++] = line;
    for (char *c = line; *c; c++) {
        if (*c == '\r')
            *c = '\0';
        else if (*c == ',') {
            *c = '\0';
            assert_true(k < cap);
            cells[k++] = c + 1;
        }
    }
    return k;
}

/* A date,asset,... CSV; keeps only the rows where every price is present
 * (pandas dropna(how="any")). */
static table *read_table(const char *rel)
{
    char *text = slurp(rel);
    table *tb = calloc(1, sizeof *tb);
    assert_non_null(tb);
    char *cells[N_STOCKS + 2];
    char *save = NULL;
    char *line = strtok_r(text, "\n", &save);
    int k = split(line, cells, N_STOCKS + 2);
    assert_true(k >= 2 && k <= N_STOCKS + 1);
    tb->n = k - 1;
    for (int j = 0; j < tb->n; j++)
        snprintf(tb->names[j], sizeof tb->names[j], "%s", cells[j + 1]);
    while ((line = strtok_r(NULL, "\n", &save)) != NULL) {
        assert_int_equal(split(line, cells, N_STOCKS + 2), tb->n + 1);
        int complete = 1;
        for (int j = 0; j < tb->n; j++) {
            if (!*cells[j + 1]) {
                complete = 0;
                break;
            }
            tb->p[tb->t][j] = strtod(cells[j + 1], NULL);
        }
        if (!complete)
            continue;
        assert_true(tb->t < MAX_ROWS);
        snprintf(tb->dates[tb->t], sizeof tb->dates[tb->t], "%s", cells[0]);
        tb->t++;
    }
    free(text);
    return tb;
}

/* The daily-rebalanced equal-weight portfolio return from row a to row b:
 * the mean of the assets' simple returns. */
static double ew_return(const table *tb, int32_t a, int32_t b)
{
    double s = 0.0;
    for (int j = 0; j < tb->n; j++)
        s += tb->p[b][j] / tb->p[a][j] - 1.0;
    return s / tb->n;
}

static json_t *reference(void)
{
    const char *dir = getenv("NQ_SHARED_DIR");
    char path[512];
    snprintf(path, sizeof path, "%s/data/portfolio/reference_results.json",
             dir ? dir : "../shared");
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    assert_non_null(root);
    return root;
}

static double jnum(json_t *root, const char *const *keys, int n)
{
    json_t *v = root;
    for (int i = 0; i < n; i++) {
        v = json_object_get(v, keys[i]);
        assert_non_null(v);
    }
    assert_true(json_is_number(v));
    return json_number_value(v);
}

static void assert_close(double got, double want, double tol)
{
    if (!(fabs(got - want) <= tol))
        fail_msg("got %.17g want %.17g (diff %.3g > %.3g)", got, want, fabs(got - want), tol);
}

/* ---- reference VaR / CVaR ----------------------------------------------------------- */

static void test_reference_var_cvar(void **state)
{
    (void)state;
    table *tb = read_table("data/portfolio/pypfopt_stock_prices.csv");
    assert_int_equal(tb->n, N_STOCKS);
    assert_int_equal(tb->t, 896);
    assert_string_equal(tb->dates[0], "2014-09-19");
    assert_string_equal(tb->dates[895], "2018-04-11");
    double r[895];
    for (int32_t k = 0; k < 895; k++)
        r[k] = ew_return(tb, k, k + 1);
    nq_pf_risk_opts o;
    nq_pf_risk_opts_default(&o);
    assert_true(o.level == 0.95);
    nq_pf_risk_report rep;
    nq_err err = {0};
    assert_int_equal(nq_pf_risk(r, 895, NULL, &o, &rep, &err), NQ_OK);
    json_t *root = reference();
    const char *base[] = {"pypfopt_dataset", "equal_weight_var_cvar_95", "riskfolio_def", "VaR"};
    double want = jnum(root, base, 4);
    assert_close(rep.var_hist, want, 1e-12);
    base[3] = "CVaR";
    assert_close(rep.cvar_hist, jnum(root, base, 4), 1e-12);
    base[2] = "numpy_linear_def";
    assert_close(rep.cvar_quantile, jnum(root, base, 4), 1e-12);
    base[3] = "VaR";
    assert_close(rep.var_quantile, jnum(root, base, 4), 1e-12);
    base[2] = "portfolio_daily_mean";
    want = jnum(root, base, 3);
    assert_close(rep.mean, want, 1e-12 * fabs(want));
    base[2] = "portfolio_daily_std_ddof1";
    want = jnum(root, base, 3);
    assert_close(rep.stdev, want, 1e-12 * fabs(want));
    print_message("var_hist %.17g cvar_hist %.17g var_q %.17g cvar_q %.17g\n", rep.var_hist,
                  rep.cvar_hist, rep.var_quantile, rep.cvar_quantile);
    /* The derived figures follow from the moments. */
    assert_int_equal(rep.t, 895);
    assert_close(rep.annual_return, rep.mean * 252, 1e-15);
    assert_close(rep.annual_volatility, rep.stdev * sqrt(252.0), 1e-15);
    assert_close(rep.sharpe, rep.annual_return / rep.annual_volatility, 1e-12);
    double z = -1.6448536269514729;
    assert_close(rep.var_param, -(rep.mean + rep.stdev * z), 1e-15);
    double phi = exp(-0.5 * z * z) / sqrt(2.0 * M_PI);
    assert_close(rep.cvar_param, -(rep.mean - rep.stdev * phi / 0.05), 1e-14);
    assert_true(rep.max_drawdown > 0.0 && rep.max_drawdown < 1.0);
    assert_int_equal(rep.has_beta, 0);
    json_decref(root);
    free(tb);
}

/* ---- beta against SPY ------------------------------------------------------------- */

static void test_beta_spy(void **state)
{
    (void)state;
    table *tb = read_table("data/portfolio/pypfopt_stock_prices.csv");
    table *spy = read_table("data/portfolio/pypfopt_spy_prices.csv");
    assert_int_equal(spy->n, 1);
    assert_string_equal(spy->names[0], "SPY");
    /* Rows of each file on the dates both have (both sorted ascending). */
    int32_t *ia = malloc(sizeof(int32_t) * MAX_ROWS), *ib = malloc(sizeof(int32_t) * MAX_ROWS);
    assert_true(ia && ib);
    int32_t m = 0;
    for (int32_t a = 0, b = 0; a < tb->t && b < spy->t;) {
        int c = strcmp(tb->dates[a], spy->dates[b]);
        if (c == 0) {
            ia[m] = a++;
            ib[m++] = b++;
        } else if (c < 0) {
            a++;
        } else {
            b++;
        }
    }
    assert_true(m > 800);
    int32_t t = m - 1;
    double *rp = malloc(sizeof(double) * MAX_ROWS), *rb = malloc(sizeof(double) * MAX_ROWS);
    assert_true(rp && rb);
    for (int32_t k = 0; k < t; k++) {
        rp[k] = ew_return(tb, ia[k], ia[k + 1]);
        rb[k] = spy->p[ib[k + 1]][0] / spy->p[ib[k]][0] - 1.0;
    }
    double mp = 0.0, mb = 0.0, cpb = 0.0, vb = 0.0;
    for (int32_t k = 0; k < t; k++) {
        mp += rp[k];
        mb += rb[k];
    }
    mp /= t;
    mb /= t;
    for (int32_t k = 0; k < t; k++) {
        cpb += (rp[k] - mp) * (rb[k] - mb);
        vb += (rb[k] - mb) * (rb[k] - mb);
    }
    double beta = (cpb / (t - 1)) / (vb / (t - 1));
    nq_pf_risk_report rep;
    assert_int_equal(nq_pf_risk(rp, t, rb, NULL, &rep, NULL), NQ_OK);
    assert_int_equal(rep.has_beta, 1);
    assert_close(rep.beta, beta, 1e-12 * fabs(beta));
    assert_true(beta > 0.5 && beta < 1.5);
    print_message("common dates %d, beta vs SPY %.15g\n", (int)m, rep.beta);
    free(rp);
    free(rb);
    free(ia);
    free(ib);
    free(spy);
    free(tb);
}

/* ---- hand-made series ------------------------------------------------------------- */

static void test_drawdown(void **state)
{
    (void)state;
    /* Wealth 1.1, 0.88, 0.924, 0.462, 0.6006, 1.2012: worst fall from 1.1
     * to 0.462, i.e. 0.58. */
    const double r[] = {0.1, -0.2, 0.05, -0.5, 0.3, 1.0};
    nq_pf_risk_report rep;
    assert_int_equal(nq_pf_risk(r, 6, NULL, NULL, &rep, NULL), NQ_OK);
    assert_close(rep.max_drawdown, 0.58, 1e-14);
    /* The starting value 1 is a peak: an immediate loss is a drawdown. */
    const double r2[] = {-0.1, 0.05, 0.02};
    assert_int_equal(nq_pf_risk(r2, 3, NULL, NULL, &rep, NULL), NQ_OK);
    assert_close(rep.max_drawdown, 0.1, 1e-14);
    const double up[] = {0.01, 0.02, 0.0, 0.03};
    assert_int_equal(nq_pf_risk(up, 4, NULL, NULL, &rep, NULL), NQ_OK);
    assert_true(rep.max_drawdown == 0.0);
    /* A total loss is a drawdown of 1. */
    const double gone[] = {0.5, -1.0, 0.2};
    assert_int_equal(nq_pf_risk(gone, 3, NULL, NULL, &rep, NULL), NQ_OK);
    assert_true(rep.max_drawdown == 1.0);
}

static void test_beta_and_sortino(void **state)
{
    (void)state;
    const double r[] = {0.01, -0.02, 0.015, 0.003, -0.007, 0.02};
    double r2[6];
    for (int i = 0; i < 6; i++)
        r2[i] = 2.0 * r[i];
    nq_pf_risk_report rep;
    assert_int_equal(nq_pf_risk(r, 6, r, NULL, &rep, NULL), NQ_OK);
    assert_close(rep.beta, 1.0, 1e-14);
    assert_int_equal(nq_pf_risk(r, 6, r2, NULL, &rep, NULL), NQ_OK);
    assert_close(rep.beta, 0.5, 1e-14);
    assert_int_equal(nq_pf_risk(r2, 6, r, NULL, &rep, NULL), NQ_OK);
    assert_close(rep.beta, 2.0, 1e-14);

    /* Sortino by hand: mean 0.0035, downside sqrt((0.02^2 + 0.007^2) / 6). */
    nq_pf_risk_opts o;
    nq_pf_risk_opts_default(&o);
    o.rf = 0.01;
    assert_int_equal(nq_pf_risk(r, 6, NULL, &o, &rep, NULL), NQ_OK);
    double dd = sqrt((0.02 * 0.02 + 0.007 * 0.007) / 6.0) * sqrt(252.0);
    assert_close(rep.mean, 0.0035, 1e-16);
    assert_close(rep.sortino, (0.0035 * 252 - 0.01) / dd, 1e-12);
    /* mar raises the bar: every period below 0.012 counts. */
    o.mar = 0.012;
    assert_int_equal(nq_pf_risk(r, 6, NULL, &o, &rep, NULL), NQ_OK);
    double s = 0.0;
    for (int i = 0; i < 6; i++)
        if (r[i] < 0.012)
            s += (r[i] - 0.012) * (r[i] - 0.012);
    assert_close(rep.sortino, (0.0035 * 252 - 0.01) / (sqrt(s / 6.0) * sqrt(252.0)), 1e-12);

    /* No period below mar: no downside deviation, Sortino reported 0. */
    const double gains[] = {0.01, 0.02, 0.0, 0.005};
    o.mar = 0.0;
    assert_int_equal(nq_pf_risk(gains, 4, NULL, &o, &rep, NULL), NQ_OK);
    assert_true(rep.sortino == 0.0);
    assert_true(rep.sharpe > 0.0);
    /* A constant series: no volatility, Sharpe reported 0, all finite. */
    const double flat[] = {0.001, 0.001, 0.001};
    assert_int_equal(nq_pf_risk(flat, 3, NULL, &o, &rep, NULL), NQ_OK);
    assert_true(rep.sharpe == 0.0 && rep.stdev == 0.0);
    assert_close(rep.var_hist, -0.001, 1e-18);
    assert_close(rep.cvar_quantile, -0.001, 1e-18);
}

static void test_hist_definitions(void **state)
{
    (void)state;
    /* 1..5 percent at level 0.75: numpy's quantile at index 4 * 0.25 = 1 is
     * 0.02 and only 0.01 lies below it; Riskfolio: k = ceil(1.25) - 1 = 1,
     * CVaR = -0.02 - (0.01 - 0.02) / 1.25 = -0.012 (all gains: negative
     * losses). Given in shuffled order. */
    const double r[] = {0.03, 0.05, 0.01, 0.04, 0.02};
    nq_pf_risk_opts o;
    nq_pf_risk_opts_default(&o);
    o.level = 0.75;
    nq_pf_risk_report rep;
    assert_int_equal(nq_pf_risk(r, 5, NULL, &o, &rep, NULL), NQ_OK);
    assert_close(rep.var_quantile, -0.02, 1e-16);
    assert_close(rep.cvar_quantile, -0.01, 1e-16);
    assert_close(rep.var_hist, -0.02, 1e-16);
    assert_close(rep.cvar_hist, -0.012, 1e-15);
    /* Interpolation: level 0.7 -> index 1.2 -> 0.022. */
    o.level = 0.7;
    assert_int_equal(nq_pf_risk(r, 5, NULL, &o, &rep, NULL), NQ_OK);
    assert_close(rep.var_quantile, -0.022, 1e-15);
    assert_close(rep.cvar_quantile, -0.015, 1e-15);

    /* T = 1000 at 0.95: (1 - 0.95) * 1000 is 50.00000000000004 in doubles,
     * yet k must be 50 - 1 = 49 (0-based). Returns -0.5, -0.499, ... */
    double *big = malloc(1000 * sizeof *big);
    assert_non_null(big);
    for (int i = 0; i < 1000; i++)
        big[i] = (i - 500) / 1000.0;
    o.level = 0.95;
    assert_int_equal(nq_pf_risk(big, 1000, NULL, &o, &rep, NULL), NQ_OK);
    assert_close(rep.var_hist, -big[49], 1e-16);
    double tail = 0.0;
    for (int i = 0; i <= 49; i++)
        tail += big[i] - big[49];
    assert_close(rep.cvar_hist, -big[49] - tail / 50.0, 1e-14);
    free(big);
}

/* ---- inverse normal CDF ----------------------------------------------------------- */

static double norm_cdf(double x)
{
    return 0.5 * erfc(-x / sqrt(2.0));
}

static void test_norm_ppf(void **state)
{
    (void)state;
    assert_close(nq_norm_ppf(0.975), 1.959963984540054, 1e-15 * 1.96);
    assert_close(nq_norm_ppf(0.05), -1.6448536269514729, 1e-15 * 1.65);
    assert_true(nq_norm_ppf(0.5) == 0.0);
    /* Phi^-1(1e-10) = -6.361340902404056 (far tail region of AS241). */
    assert_close(nq_norm_ppf(1e-10), -6.361340902404056, 1e-14 * 6.4);
    assert_close(nq_norm_ppf(0.001), -3.090232306167813, 1e-14 * 3.1);
    const double ps[] = {1e-300, 1e-100, 1e-20, 1e-8, 1e-3, 0.01,  0.1,   0.3,
                         0.42,   0.5,    0.6,   0.77, 0.9,  0.975, 0.999, 1 - 1e-9};
    for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++) {
        double p = ps[i], x = nq_norm_ppf(p);
        assert_true(isfinite(x));
        /* Symmetry on a pair whose sum is exactly 1 (1 - q is exact for
         * q in [0.5, 1]; 1 - p itself is not when p is tiny). */
        double q = 1.0 - p, pq = 1.0 - q;
        if (q < 1.0) /* else p is below 2^-53 and has no complement */
            assert_close(nq_norm_ppf(q), -nq_norm_ppf(pq), 1e-15 * (1.0 + fabs(x)));
        /* Round trip through the erfc CDF, on the smaller tail. There
         * d log p / d log |x| is about x^2, so a relative error e in x
         * shows as x^2 e in p: the tolerance grows with it past |x| = 3. */
        double back = p <= 0.5 ? norm_cdf(x) : norm_cdf(-x);
        double ref = p <= 0.5 ? p : 1.0 - p;
        assert_close(back, ref, 1e-14 * ref * fmax(1.0, 0.1 * x * x));
    }
    for (int i = 1; i < 1000; i++) { /* a dense sweep of the central region */
        double p = i / 1000.0, x = nq_norm_ppf(p);
        assert_close(norm_cdf(x), p, 1e-14 * p);
    }
    assert_true(isnan(nq_norm_ppf(0.0)));
    assert_true(isnan(nq_norm_ppf(1.0)));
    assert_true(isnan(nq_norm_ppf(-0.5)));
    assert_true(isnan(nq_norm_ppf(NAN)));
}

/* ---- allocation ------------------------------------------------------------------- */

static double alloc_objective(const int64_t *x, const double *w, const double *p, int n,
                              double budget)
{
    double spent = 0.0, gaps = 0.0;
    for (int i = 0; i < n; i++) {
        spent += (double)x[i] * p[i];
        gaps += fabs(w[i] * budget - (double)x[i] * p[i]);
    }
    return gaps + budget - spent;
}

/* What must hold for any optimum: whole non-negative shares within the
 * budget, consistent totals and RMSE, no worse than rounding down. */
static void check_allocation(const nq_pf_allocation *a, const double *w, const double *p, int n,
                             double budget)
{
    assert_int_equal(a->n, n);
    double spent = 0.0;
    int64_t floor_x[64];
    assert_true(n <= 64);
    for (int i = 0; i < n; i++) {
        assert_true(a->shares[i] >= 0);
        spent += (double)a->shares[i] * p[i];
        floor_x[i] = (int64_t)floor(w[i] * budget / p[i]);
    }
    assert_true(spent <= budget);
    assert_true(a->leftover >= 0.0);
    assert_close(a->leftover, budget - spent, 1e-9 * budget);
    assert_close(a->invested + a->leftover, budget, 1e-9 * budget);
    double obj = alloc_objective(a->shares, w, p, n, budget);
    double greedy = alloc_objective(floor_x, w, p, n, budget);
    assert_true(obj <= greedy + 1e-9 * budget);
    double s = 0.0;
    for (int i = 0; i < n; i++) {
        double share = spent > 0.0 ? (double)a->shares[i] * p[i] / spent : 0.0;
        s += (share - w[i]) * (share - w[i]);
    }
    assert_close(a->rmse, sqrt(s / n), 1e-12);
}

static void test_allocate_small(void **state)
{
    (void)state;
    const double w[] = {0.5, 0.3, 0.2}, p[] = {100.0, 37.0, 12.5};
    nq_pf_allocation a;
    nq_err err = {0};
    assert_int_equal(nq_pf_allocate(w, p, 3, 1000.0, &a, &err), NQ_OK);
    check_allocation(&a, w, p, 3, 1000.0);
    /* Targets 500, 300, 200: 5 x 100 and 16 x 12.5 are exact, 8 x 37 = 296
     * leaves 4, so the optimum is 4 + 4 = 8. */
    assert_close(alloc_objective(a.shares, w, p, 3, 1000.0), 8.0, 1e-6);
    nq_pf_allocation_free(&a);
    assert_null(a.shares);
    nq_pf_allocation_free(NULL);

    /* A budget below the cheapest price: all cash. */
    assert_int_equal(nq_pf_allocate(w, p, 3, 10.0, &a, &err), NQ_OK);
    for (int i = 0; i < 3; i++)
        assert_int_equal(a.shares[i], 0);
    assert_true(a.leftover == 10.0 && a.invested == 0.0);
    assert_close(a.rmse, sqrt((0.25 + 0.09 + 0.04) / 3.0), 1e-15);
    nq_pf_allocation_free(&a);
}

static void test_allocate_min_volatility(void **state)
{
    (void)state;
    table *tb = read_table("data/portfolio/pypfopt_stock_prices.csv");
    json_t *root = reference();
    json_t *wj = json_object_get(
        json_object_get(json_object_get(root, "pypfopt_dataset"), "min_volatility"), "weights");
    assert_non_null(wj);
    double w[N_STOCKS], sum = 0.0;
    for (int j = 0; j < N_STOCKS; j++) {
        json_t *v = json_object_get(wj, tb->names[j]);
        assert_non_null(v);
        w[j] = json_number_value(v);
        sum += w[j];
    }
    assert_close(sum, 1.0, 1e-6);
    const double *p = tb->p[tb->t - 1];
    nq_pf_allocation a;
    nq_err err = {0};
    assert_int_equal(nq_pf_allocate(w, p, N_STOCKS, 10000.0, &a, &err), NQ_OK);
    check_allocation(&a, w, p, N_STOCKS, 10000.0);
    print_message("min-vol allocation of 10000: leftover %.2f, objective %.4f, rmse %.6f\n",
                  a.leftover, alloc_objective(a.shares, w, p, N_STOCKS, 10000.0), a.rmse);
    nq_pf_allocation_free(&a);
    json_decref(root);
    free(tb);
}

/* Tiny instances: every share vector within the budget is tried and the
 * best objective must be the MILP's. */
static void test_allocate_exhaustive(void **state)
{
    (void)state;
    uint64_t s = 12345;
    for (int inst = 0; inst < 40; inst++) {
        double p[3], w[3], budget, tw = 0.0;
        for (int i = 0; i < 3; i++) {
            s = s * 6364136223846793005ULL + 1442695040888963407ULL;
            p[i] = 3.0 + (double)((s >> 33) % 4000) / 100.0; /* 3.00 .. 42.99 */
            s = s * 6364136223846793005ULL + 1442695040888963407ULL;
            w[i] = 0.05 + (double)((s >> 33) % 1000) / 1000.0;
            tw += w[i];
        }
        for (int i = 0; i < 3; i++)
            w[i] /= tw;
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        budget = 20.0 + (double)((s >> 33) % 18000) / 100.0;
        double best = HUGE_VAL;
        int64_t x[3];
        for (x[0] = 0; (double)x[0] * p[0] <= budget; x[0]++)
            for (x[1] = 0; (double)x[0] * p[0] + (double)x[1] * p[1] <= budget; x[1]++)
                for (x[2] = 0;
                     (double)x[0] * p[0] + (double)x[1] * p[1] + (double)x[2] * p[2] <= budget;
                     x[2]++) {
                    double o = alloc_objective(x, w, p, 3, budget);
                    if (o < best)
                        best = o;
                }
        nq_pf_allocation a;
        assert_int_equal(nq_pf_allocate(w, p, 3, budget, &a, NULL), NQ_OK);
        check_allocation(&a, w, p, 3, budget);
        assert_close(alloc_objective(a.shares, w, p, 3, budget), best, 1e-6 * (1.0 + best));
        nq_pf_allocation_free(&a);
    }
}

static void test_rebalance(void **state)
{
    (void)state;
    const int64_t cur[] = {10, 0, 5, 7}, tgt[] = {4, 3, 5, 9};
    const double p[] = {20.0, 10.5, 3.0, 1.25};
    int64_t d[4];
    double v[4], bought = -1, sold = -1;
    nq_err err = {0};
    assert_int_equal(nq_pf_rebalance(cur, tgt, p, 4, d, v, &bought, &sold, &err), NQ_OK);
    const int64_t want[] = {-6, 3, 0, 2};
    const double vw[] = {-120.0, 31.5, 0.0, 2.5};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(d[i], want[i]);
        assert_true(v[i] == vw[i]);
    }
    assert_true(bought == 34.0);
    assert_true(sold == 120.0);
    const int64_t neg[] = {1, -2, 0, 0};
    assert_int_equal(nq_pf_rebalance(neg, tgt, p, 4, d, v, &bought, &sold, &err), NQ_EINVAL);
    assert_string_equal(err.where, "/holdings/1");
    const double badp[] = {20.0, 0.0, 3.0, 1.0};
    assert_int_equal(nq_pf_rebalance(cur, tgt, badp, 4, d, v, &bought, &sold, &err), NQ_EINVAL);
    assert_string_equal(err.where, "/prices/1");
}

/* ---- errors ----------------------------------------------------------------------- */

static void expect_risk_error(const double *r, int32_t t, const double *b, const nq_pf_risk_opts *o,
                              int code, const char *where)
{
    nq_pf_risk_report rep = {.t = -7};
    nq_err err = {0};
    assert_int_equal(nq_pf_risk(r, t, b, o, &rep, &err), code);
    assert_int_equal(err.code, code);
    assert_string_equal(err.where, where);
    assert_int_equal(rep.t, -7); /* untouched */
}

static void expect_alloc_error(const double *w, const double *p, int32_t n, double budget,
                               const char *where)
{
    nq_pf_allocation a;
    nq_err err = {0};
    assert_int_equal(nq_pf_allocate(w, p, n, budget, &a, &err), NQ_EINVAL);
    assert_string_equal(err.where, where);
    assert_null(a.shares);
}

static void test_errors(void **state)
{
    (void)state;
    const double r[] = {0.01, -0.02, 0.03, NAN, 0.01};
    expect_risk_error(r, 1, NULL, NULL, NQ_EINVAL, "/returns");
    expect_risk_error(r, 5, NULL, NULL, NQ_EINVAL, "/returns/3");
    const double inf[] = {0.01, INFINITY};
    expect_risk_error(inf, 2, NULL, NULL, NQ_EINVAL, "/returns/1");
    const double b[] = {0.01, 0.02, NAN};
    expect_risk_error(r, 3, b, NULL, NQ_EINVAL, "/benchmark/2");
    const double flat[] = {0.01, 0.01, 0.01};
    expect_risk_error(r, 3, flat, NULL, NQ_EINVAL, "/benchmark");
    nq_pf_risk_opts o;
    nq_pf_risk_opts_default(&o);
    o.level = 1.0;
    expect_risk_error(r, 3, NULL, &o, NQ_EINVAL, "/level");
    o.level = 0.0;
    expect_risk_error(r, 3, NULL, &o, NQ_EINVAL, "/level");
    o.level = NAN;
    expect_risk_error(r, 3, NULL, &o, NQ_EINVAL, "/level");
    /* Finite returns whose sum overflows: an error, not an infinity. */
    const double huge[] = {1e308, 1e308, -1e308};
    expect_risk_error(huge, 3, NULL, NULL, NQ_ERANGE, "/returns");

    const double w[] = {0.5, 0.3, 0.2}, p[] = {100.0, 37.0, 12.5};
    const double w9[] = {0.5, 0.3, 0.1};
    expect_alloc_error(w9, p, 3, 1000.0, "/weights");
    const double wn[] = {0.5, 0.6, -0.1};
    expect_alloc_error(wn, p, 3, 1000.0, "/weights/2");
    const double p0[] = {100.0, 0.0, 12.5}, pn[] = {100.0, 37.0, -1.0};
    expect_alloc_error(w, p0, 3, 1000.0, "/prices/1");
    expect_alloc_error(w, pn, 3, 1000.0, "/prices/2");
    expect_alloc_error(w, p, 3, 0.0, "/budget");
    expect_alloc_error(w, p, 3, -5.0, "/budget");
    expect_alloc_error(w, p, 3, NAN, "/budget");
    expect_alloc_error(w, p, 0, 1000.0, "/n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_var_cvar),
        cmocka_unit_test(test_beta_spy),
        cmocka_unit_test(test_drawdown),
        cmocka_unit_test(test_beta_and_sortino),
        cmocka_unit_test(test_hist_definitions),
        cmocka_unit_test(test_norm_ppf),
        cmocka_unit_test(test_allocate_small),
        cmocka_unit_test(test_allocate_min_volatility),
        cmocka_unit_test(test_allocate_exhaustive),
        cmocka_unit_test(test_rebalance),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
