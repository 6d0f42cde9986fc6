/* portfolio.c - timings of the portfolio optimizer: every objective on
 * PyPortfolioOpt's 20-asset stock prices (sample covariance, compounded
 * mean returns, as its tests use), a 50-point efficient frontier, the
 * 95-asset covariance and a synthetic 500-asset covariance. Each figure is
 * the median of repeated runs. Writes a markdown section to stdout.
 * Usage: bench_portfolio [SHARED_DIR [--peer FILE]]   (default ../shared); FILE from
 *        bench/peer_portfolio.py adds the peer's times and ratios. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_data.h"
#include "bench_machine.h"
#include "nqba/clock.h"
#include "nqba/portfolio.h"

#define NA 20

typedef struct data20 {
    double mu[NA], S[NA * NA];
    double *scen;
    int32_t n_scen;
} data20;

/* Prices (date, then NA columns; empty = missing) to simple returns
 * (NAN when either price is missing; the all-NAN first row dropped). */
static double *load_returns(const char *dir, int32_t *rows)
{
    char *text = bench_data("bench_portfolio", dir, "portfolio", "pypfopt_stock_prices.csv", NULL);
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
    char *text = bench_data("bench_portfolio", dir, "portfolio", "pypfopt_cov_matrix.csv", NULL);
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

/* Peer timings (bench/peer_portfolio.py): "key ms" lines. */
#define MAX_PEERS 16
static struct {
    char key[48];
    double ms;
} g_peer[MAX_PEERS];
static int g_npeer;

static void read_peers(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    while (g_npeer < MAX_PEERS && fscanf(f, "%47s %lf", g_peer[g_npeer].key, &g_peer[g_npeer].ms) == 2)
        g_npeer++;
    fclose(f);
}

static double peer_ms(const char *key)
{
    for (int i = 0; key && i < g_npeer; i++)
        if (!strcmp(g_peer[i].key, key))
            return g_peer[i].ms;
    return -1;
}

/* One table row; returns the median in ms (-1 when it failed). key names
 * the peer's figure for the same problem, or NULL. */
static double row(const char *name, const char *key, int n, const nq_pf_spec *s, int reps)
{
    nq_pf_result r;
    int ok;
    double t = time_spec(s, reps, &r, &ok), peer = peer_ms(key);
    if (!ok) {
        printf("| %s | %d | not available | | | | | |\n", name, n);
        return -1;
    }
    char pcol[64] = "-", ratio[32] = "-";
    if (peer > 0) {
        snprintf(pcol, sizeof pcol, "%.3f", peer);
        snprintf(ratio, sizeof ratio, "%.1fx", peer / (t * 1e3));
    }
    printf("| %s | %d | %.3f | %s | %s | %.6f | %.8f | %s |\n", name, n, t * 1e3, pcol, ratio,
           r.expected_return, r.volatility, r.method);
    nq_pf_result_free(&r);
    return t * 1e3;
}

/* Worst 20-asset objective and the large universes, against the bars. */
typedef struct bars {
    double worst20, worst20_frontier, t95, t500;
    const char *worst_name;
} bars;

static double frontier_row(const nq_pf_spec *s, int reps)
{
    double t[101], ret[50], vol[50];
    nq_err err = {0};
    for (int k = 0; k < reps; k++) {
        double t0 = nq_clock_s();
        if (nq_pf_frontier(s, 50, ret, vol, NULL, &err)) {
            printf("| frontier (50 points) | %d | failed: %s | | | | | |\n", s->n, err.msg);
            return -1;
        }
        t[k] = nq_clock_s() - t0;
    }
    qsort(t, (size_t)reps, sizeof *t, cmp_double);
    printf("| frontier (50 points) | %d | %.3f | - | - | %.6f..%.6f | %.6f..%.6f | active-set QP |\n", s->n,
           t[reps / 2] * 1e3, ret[0], ret[49], vol[0], vol[49]);
    return t[reps / 2] * 1e3;
}

static void bench20(const data20 *d, bars *b)
{
    static const struct {
        const char *name, *peer;
        nq_pf_objective o;
    } objs[] = {
        {"min_volatility", "min_volatility", NQ_PF_MIN_VOLATILITY},
        {"max_sharpe (rf 0.02)", "max_sharpe", NQ_PF_MAX_SHARPE},
        {"efficient_return 0.20", "efficient_return", NQ_PF_EFFICIENT_RETURN},
        {"efficient_risk 0.20", NULL, NQ_PF_EFFICIENT_RISK},
        {"max_quadratic_utility (1)", NULL, NQ_PF_MAX_QUADRATIC_UTILITY},
        {"min_cvar (beta 0.95, 895 scenarios)", "min_cvar", NQ_PF_MIN_CVAR},
        {"risk_parity", NULL, NQ_PF_RISK_PARITY},
        {"hrp", NULL, NQ_PF_HRP},
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
        double ms = row(objs[k].name, objs[k].peer, NA, &s, objs[k].o == NQ_PF_MIN_CVAR ? 11 : 101);
        if (ms < 0 || ms > b->worst20) {
            b->worst20 = ms < 0 ? INFINITY : ms;
            b->worst_name = objs[k].name;
        }
    }
    nq_pf_spec s;
    nq_pf_spec_default(&s);
    s.n = NA, s.mu = d->mu, s.S = d->S;
    b->worst20_frontier = frontier_row(&s, 21);
}

/* Cardinality: the engine's search against every 5-of-20 subset. */
static void cardinality(const data20 *d)
{
    static const nq_pf_objective objs[] = {NQ_PF_MIN_VOLATILITY, NQ_PF_MAX_SHARPE};
    printf("\n| hold at most 5 of 20 | engine: ms | subsets solved | exhaustive: ms | subsets "
           "| same answer |\n|---|---:|---:|---:|---:|---|\n");
    for (size_t k = 0; k < sizeof objs / sizeof *objs; k++) {
        nq_pf_spec s;
        nq_pf_spec_default(&s);
        s.objective = objs[k];
        s.n = NA, s.mu = d->mu, s.S = d->S, s.max_assets = 5;
        nq_pf_result e, x;
        nq_err err;
        double t0 = nq_clock_s();
        int rc = nq_pf_optimize(&s, &e, &err);
        double t1 = nq_clock_s();
        int rx = rc ? rc : nq_pf_optimize_exhaustive(&s, &x, &err);
        double t2 = nq_clock_s();
        if (rc || rx) {
            printf("| %s | failed: %s | | | | |\n", nq_pf_objective_name(objs[k]), err.msg);
            if (!rc)
                nq_pf_result_free(&e);
            continue;
        }
        double dw = 0;
        for (int i = 0; i < NA; i++)
            dw = fmax(dw, fabs(e.w[i] - x.w[i]));
        printf("| %s | %.1f | %lld | %.1f | %lld | %s (max weight difference %.1e) |\n",
               nq_pf_objective_name(objs[k]), (t1 - t0) * 1e3, (long long)e.subsets,
               (t2 - t1) * 1e3, (long long)x.subsets, dw < 1e-6 ? "yes" : "**no**", dw);
        nq_pf_result_free(&e);
        nq_pf_result_free(&x);
    }
}

static const char *met(int ok)
{
    return ok ? "yes" : "**no**";
}

static void print_bars(const bars *b)
{
    printf("\n| bar | measured | met |\n|---|---|---|\n");
    printf("| each objective on 20 assets < 5 ms | worst %.3f ms (%s) | %s |\n", b->worst20,
           b->worst_name ? b->worst_name : "-", met(b->worst20 < 5));
    printf("| 95 x 95 covariance, min volatility < 20 ms | %.3f ms | %s |\n", b->t95,
           met(b->t95 >= 0 && b->t95 < 20));
    printf("| 500 synthetic assets, min volatility < 1 s | %.1f ms | %s |\n", b->t500,
           met(b->t500 >= 0 && b->t500 < 1000));
    printf("| efficient frontier, 50 points (no bar) | %.3f ms | - |\n", b->worst20_frontier);
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "../shared";
    if (argc > 3 && !strcmp(argv[2], "--peer"))
        read_peers(argv[3]);
    char machine[512], cmd[512];
    bench_machine(machine, sizeof machine);
    bench_cmdline(cmd, sizeof cmd, "build/bench_portfolio", argc, argv);
    data20 d;
    build20(dir, &d);
    printf("### Portfolio optimization\n\n");
    printf("Machine: %s. Command: `%s`. Median of repeated runs (101 for the 20-asset QPs, "
           "11 for min_cvar and the large universes, 21 for the frontier).\n\n",
           machine, cmd);
    if (g_npeer)
        printf("Peer (same run): `bench/peer_portfolio.py` on Debian's Python 3: cvxopt's QP solver "
               "(default tolerances; the solver behind the reference results) for the "
               "mean-variance problems, SciPy's HiGHS for the min-CVaR LP. PyPortfolioOpt itself "
               "(on cvxpy) is not a Debian package; these are the solvers under it.\n\n");
    printf("| problem | assets | ms | peer ms | peer / ours | return | volatility | method |\n");
    printf("|---|---|---:|---:|---:|---|---|---|\n");
    bars b = {0, 0, -1, -1, NULL};
    bench20(&d, &b);
    int32_t n95;
    double *S95 = load_cov95(dir, &n95);
    nq_pf_spec s;
    nq_pf_spec_default(&s);
    s.n = n95, s.S = S95;
    b.t95 = row("min_volatility (pypfopt cov_matrix.csv)", "min_volatility_95", n95, &s, 11);
    size_t len;
    char *raw = bench_data("bench_portfolio", dir, "portfolio", "cov500_seed0.f64", &len);
    double *S500 = malloc(500 * 500 * sizeof *S500);
    if (len == 500 * 500 * sizeof *S500) {
        memcpy(S500, raw, len);
        s.n = 500, s.S = S500;
        b.t500 = row("min_volatility (synthetic cov500_seed0)", "min_volatility_500", 500, &s, 11);
    }
    cardinality(&d);
    print_bars(&b);
    printf("\n");
    free(raw);
    free(S500);
    free(S95);
    free(d.scen);
    return 0;
}
