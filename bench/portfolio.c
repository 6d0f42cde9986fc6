/* portfolio.c - timings of the portfolio optimizer: every objective on
 * PyPortfolioOpt's 20-asset stock prices (sample covariance, compounded
 * mean returns, as its tests use), a 50-point efficient frontier, the
 * 95-asset covariance and a synthetic 500-asset covariance. Each figure is
 * the median of repeated runs. Writes a markdown section to stdout.
 * Usage: bench_portfolio [SHARED_DIR]   (default ../shared) */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_machine.h"
#include "nqba/clock.h"
#include "nqba/portfolio.h"

#define NA 20

typedef struct data20 {
    double mu[NA], S[NA * NA];
    double *scen;
    int32_t n_scen;
} data20;

static char *slurp(const char *dir, const char *name, size_t *len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/data/portfolio/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "bench_portfolio: cannot open %s\n", path);
        exit(1);
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
        fprintf(stderr, "bench_portfolio: cannot read %s\n", path);
        exit(1);
    }
    buf[n] = 0;
    fclose(f);
    if (len)
        *len = (size_t)n;
    return buf;
}

/* Prices (date, then NA columns; empty = missing) to simple returns
 * (NAN when either price is missing; the all-NAN first row dropped). */
static double *load_returns(const char *dir, int32_t *rows)
{
    char *text = slurp(dir, "pypfopt_stock_prices.csv", NULL);
    int32_t cap = 8192, t = 0;
    double *p = malloc((size_t)cap * NA * sizeof *p), *r = malloc((size_t)cap * NA * sizeof *r);
    char *line = strtok(text, "\n");
    while ((line = strtok(NULL, "\n")) && t < cap) {
        char *c = line + strcspn(line, ",");
        for (int i = 0; i < NA; i++) {
            char *end;
            double v = *c == ',' ? strtod(c + 1, &end) : NAN;
            p[(size_t)t * NA + i] = *c == ',' && end != c + 1 ? v : NAN;
            c = *c == ',' ? c + 1 + strcspn(c + 1, ",") : c;
        }
        t++;
    }
    for (int32_t k = 1; k < t; k++)
        for (int i = 0; i < NA; i++) {
            double a = p[(size_t)(k - 1) * NA + i], b = p[(size_t)k * NA + i];
            r[(size_t)(k - 1) * NA + i] = isnan(a) || isnan(b) ? NAN : b / a - 1.0;
        }
    free(p);
    free(text);
    *rows = t - 1;
    return r;
}

/* mu: compounded annual mean; S: pairwise-complete sample covariance x 252;
 * scenarios: the complete rows. */
static void build20(const char *dir, data20 *d)
{
    int32_t m;
    double *r = load_returns(dir, &m);
    for (int i = 0; i < NA; i++) {
        double lp = 0.0;
        int cnt = 0;
        for (int32_t k = 0; k < m; k++)
            if (!isnan(r[(size_t)k * NA + i]))
                lp += log1p(r[(size_t)k * NA + i]), cnt++;
        d->mu[i] = expm1(lp * 252.0 / cnt);
        for (int j = 0; j < NA; j++) {
            double si = 0, sj = 0, c = 0;
            int n = 0;
            for (int32_t k = 0; k < m; k++) {
                double a = r[(size_t)k * NA + i], b = r[(size_t)k * NA + j];
                if (!isnan(a) && !isnan(b))
                    si += a, sj += b, n++;
            }
            si /= n, sj /= n;
            for (int32_t k = 0; k < m; k++) {
                double a = r[(size_t)k * NA + i], b = r[(size_t)k * NA + j];
                if (!isnan(a) && !isnan(b))
                    c += (a - si) * (b - sj);
            }
            d->S[i * NA + j] = c / (n - 1) * 252.0;
        }
    }
    d->scen = malloc((size_t)m * NA * sizeof *d->scen);
    d->n_scen = 0;
    for (int32_t k = 0; k < m; k++) {
        int ok = 1;
        for (int i = 0; i < NA; i++)
            ok &= !isnan(r[(size_t)k * NA + i]);
        if (ok)
            memcpy(d->scen + (size_t)d->n_scen++ * NA, r + (size_t)k * NA, NA * sizeof *r);
    }
    free(r);
}

static double *load_cov95(const char *dir, int32_t *n_out)
{
    char *text = slurp(dir, "pypfopt_cov_matrix.csv", NULL);
    int32_t n = 0;
    for (char *c = text; *c && *c != '\n'; c++)
        n += *c == ',';
    double *S = malloc((size_t)n * n * sizeof *S);
    char *c = strchr(text, '\n');
    for (int32_t i = 0; i < n && c; i++) {
        c = strchr(c + 1, ',');
        for (int32_t j = 0; j < n && c; j++)
            S[(size_t)i * n + j] = strtod(c + 1, &c);
        c = c ? strchr(c, '\n') : NULL;
    }
    free(text);
    *n_out = n;
    return S;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median seconds of `reps` runs; res keeps the last result. */
static double time_spec(const nq_pf_spec *s, int reps, nq_pf_result *res, int *ok)
{
    double t[101];
    nq_err err = {0};
    *ok = 1;
    for (int k = 0; k < reps; k++) {
        double t0 = nq_clock_s();
        int rc = nq_pf_optimize(s, res, &err);
        t[k] = nq_clock_s() - t0;
        if (rc) {
            *ok = 0;
            return 0.0;
        }
        if (k + 1 < reps)
            nq_pf_result_free(res);
    }
    qsort(t, (size_t)reps, sizeof *t, cmp_double);
    return t[reps / 2];
}

static void row(const char *name, int n, const nq_pf_spec *s, int reps)
{
    nq_pf_result r;
    int ok;
    double t = time_spec(s, reps, &r, &ok);
    if (!ok) {
        printf("| %s | %d | not available | | | |\n", name, n);
        return;
    }
    printf("| %s | %d | %.3f | %.6f | %.8f | %s |\n", name, n, t * 1e3, r.expected_return,
           r.volatility, r.method);
    nq_pf_result_free(&r);
}

static void frontier_row(const nq_pf_spec *s, int reps)
{
    double t[101], ret[50], vol[50];
    nq_err err = {0};
    for (int k = 0; k < reps; k++) {
        double t0 = nq_clock_s();
        if (nq_pf_frontier(s, 50, ret, vol, NULL, &err)) {
            printf("| frontier (50 points) | %d | failed: %s | | | |\n", s->n, err.msg);
            return;
        }
        t[k] = nq_clock_s() - t0;
    }
    qsort(t, (size_t)reps, sizeof *t, cmp_double);
    printf("| frontier (50 points) | %d | %.3f | %.6f..%.6f | %.6f..%.6f | active-set QP |\n", s->n,
           t[reps / 2] * 1e3, ret[0], ret[49], vol[0], vol[49]);
}

static void bench20(const data20 *d)
{
    static const struct {
        const char *name;
        nq_pf_objective o;
    } objs[] = {
        {"min_volatility", NQ_PF_MIN_VOLATILITY},
        {"max_sharpe (rf 0.02)", NQ_PF_MAX_SHARPE},
        {"efficient_return 0.20", NQ_PF_EFFICIENT_RETURN},
        {"efficient_risk 0.20", NQ_PF_EFFICIENT_RISK},
        {"max_quadratic_utility (1)", NQ_PF_MAX_QUADRATIC_UTILITY},
        {"min_cvar (beta 0.95, 895 scenarios)", NQ_PF_MIN_CVAR},
        {"risk_parity", NQ_PF_RISK_PARITY},
        {"hrp", NQ_PF_HRP},
    };
    for (size_t k = 0; k < sizeof objs / sizeof *objs; k++) {
        nq_pf_spec s;
        nq_pf_spec_default(&s);
        s.objective = objs[k].o;
        s.n = NA, s.mu = d->mu, s.S = d->S;
        s.target_return = 0.2, s.target_volatility = 0.2;
        s.scenarios = d->scen, s.n_scenarios = d->n_scen;
        nq_pf_result probe;
        nq_err err = {0};
        if (objs[k].o == NQ_PF_HRP && nq_pf_optimize(&s, &probe, &err) != NQ_OK)
            continue; /* HRP is not part of this build */
        if (objs[k].o == NQ_PF_HRP)
            nq_pf_result_free(&probe);
        row(objs[k].name, NA, &s, objs[k].o == NQ_PF_MIN_CVAR ? 11 : 101);
    }
    nq_pf_spec s;
    nq_pf_spec_default(&s);
    s.n = NA, s.mu = d->mu, s.S = d->S;
    frontier_row(&s, 21);
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "../shared";
    char machine[512], cmd[512];
    bench_machine(machine, sizeof machine);
    bench_cmdline(cmd, sizeof cmd, "build/bench_portfolio", argc, argv);
    data20 d;
    build20(dir, &d);
    printf("### Portfolio optimization\n\n");
    printf("Machine: %s. Command: `%s`. Median of repeated runs (101 for the 20-asset QPs, "
           "11 for min_cvar and the large universes, 21 for the frontier).\n\n",
           machine, cmd);
    printf("| problem | assets | ms | return | volatility | method |\n");
    printf("|---|---|---|---|---|---|\n");
    bench20(&d);
    int32_t n95;
    double *S95 = load_cov95(dir, &n95);
    nq_pf_spec s;
    nq_pf_spec_default(&s);
    s.n = n95, s.S = S95;
    row("min_volatility (pypfopt cov_matrix.csv)", n95, &s, 11);
    size_t len;
    char *raw = slurp(dir, "cov500_seed0.f64", &len);
    double *S500 = malloc(500 * 500 * sizeof *S500);
    if (len == 500 * 500 * sizeof *S500) {
        memcpy(S500, raw, len);
        s.n = 500, s.S = S500;
        row("min_volatility (synthetic cov500_seed0)", 500, &s, 11);
    }
    printf("\n");
    free(raw);
    free(S500);
    free(S95);
    free(d.scen);
    return 0;
}
