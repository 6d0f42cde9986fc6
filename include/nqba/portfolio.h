/* portfolio.h - Goliath Trade: prices, expected returns, risk models,
 * portfolio optimization, discrete allocation and risk assessment, with
 * PyPortfolioOpt's conventions (docs/internals/portfolio.md).
 *
 *   nq_prices_parse_csv(text, ...)            CSV -> prices (NAN = missing)
 *   nq_returns_from_prices(&prices, &ret)     simple returns
 *   nq_expected_returns / nq_risk_matrix      mu and the annual covariance
 *   nq_pf_optimize(&spec, &res, &err)         weights for an objective
 *   nq_pf_allocate / nq_pf_rebalance          whole shares, orders
 *   nq_pf_risk(...)                           VaR, CVaR, drawdown, beta ...
 *
 * Pure computation: nothing here reads files or keeps global state.
 * Matrices are dense, row-major doubles. Annual figures use `frequency`
 * periods per year (252 by default). Every answer is finite: a computation
 * that would produce NaN or infinity fails with an error instead. */
#ifndef NQBA_PORTFOLIO_H
#define NQBA_PORTFOLIO_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "nqba/err.h"

#define NQ_PF_MAX_ASSETS 1000
#define NQ_PF_MAX_ROWS 100000
#define NQ_PF_MAX_CELLS 20000000 /* rows x assets in one price table */
#define NQ_PF_NAME_MAX 48        /* bytes in an asset name, with the NUL */
#define NQ_PF_DATE_MAX 32        /* bytes in a date cell, with the NUL */
#define NQ_PF_MAX_SECTORS 256
#define NQ_PF_MAX_FRONTIER 1000  /* points on one efficient frontier */
#define NQ_PF_FREQUENCY 252

/* ---- prices and returns ---------------------------------------------------- */

typedef struct nq_prices {
    int32_t n;                     /* assets */
    int32_t t;                     /* rows (dates), oldest first */
    char (*names)[NQ_PF_NAME_MAX]; /* n */
    char (*dates)[NQ_PF_DATE_MAX]; /* t; "" when the source gave none */
    double *p;                     /* t x n; NAN = no price that day */
} nq_prices;

/* Allocate an n-asset, t-row table, every price NAN, names and dates "". */
int nq_prices_alloc(nq_prices *out, int32_t n, int32_t t, nq_err *err);
void nq_prices_free(nq_prices *p); /* NULL-safe; leaves *p zeroed */

/* CSV with a header row: the first column is the date (any text), then one
 * column per asset named in the header. An empty cell (or NaN/null) is a
 * missing price. Separator ',' ; CRLF accepted; quotes around a cell
 * allowed. On error err->where is `where` (a JSON pointer such as
 * "/prices_csv" or a file name, given by the caller) and err->msg starts
 * with "line N: " (1-based, the header is line 1) and names the column. */
int nq_prices_parse_csv(const char *text, size_t len, const char *where, nq_prices *out,
                        nq_err *err);

/* Checks a table is usable: at least 2 rows, every price finite and > 0
 * when present, every asset with at least 2 prices, no asset whose price
 * never changes, distinct non-empty names. err->where is
 * where + "/<asset name>" style text: `where` then the asset's name. */
int nq_prices_check(const nq_prices *p, const char *where, nq_err *err);

typedef struct nq_returns {
    int32_t n, t;
    double *r; /* t x n simple returns; NAN when either price is missing */
    char (*dates)[NQ_PF_DATE_MAX]; /* t: the date of each return's end price */
} nq_returns;

/* r[t][i] = p[t+1][i] / p[t][i] - 1 (NAN when either is missing); rows whose
 * returns are all NAN are dropped (pandas pct_change + dropna(how="all")). */
int nq_returns_from_prices(const nq_prices *p, nq_returns *out, nq_err *err);
/* Only the rows with no NAN (dropna(how="any")): scenarios for CVaR. */
int nq_returns_complete(const nq_returns *in, nq_returns *out, nq_err *err);
void nq_returns_free(nq_returns *r); /* NULL-safe */

/* ---- expected returns and risk models ------------------------------------- */

typedef enum nq_mu_method {
    NQ_MU_MEAN = 0, /* historical mean (compounded by default) */
    NQ_MU_EMA = 1   /* exponentially weighted mean (pandas ewm(span).mean() last value) */
} nq_mu_method;

typedef struct nq_mu_opts {
    nq_mu_method method;
    int compounding;   /* 1: prod(1+r)^(freq/count) - 1 (or (1+ema)^freq - 1); 0: mean * freq */
    int32_t frequency; /* NQ_PF_FREQUENCY */
    double span;       /* EMA span, 500 */
} nq_mu_opts;
void nq_mu_opts_default(nq_mu_opts *o);

/* mu: n annual expected returns, each over the asset's own non-NAN rows. */
int nq_expected_returns(const nq_returns *r, const nq_mu_opts *o, double *mu, nq_err *err);

typedef enum nq_cov_method {
    NQ_COV_SAMPLE = 0,      /* pairwise-complete sample covariance (ddof 1) x frequency */
    NQ_COV_LEDOIT_WOLF = 1, /* shrinkage to constant variance (sklearn ledoit_wolf on NaN->0) */
    NQ_COV_EXP = 2,         /* exponentially weighted, pairwise (pypfopt exp_cov), span */
    NQ_COV_SEMI = 3         /* semicovariance below `benchmark` (per period) */
} nq_cov_method;

typedef struct nq_cov_opts {
    nq_cov_method method;
    int32_t frequency; /* NQ_PF_FREQUENCY */
    double span;       /* exp_cov span, 180 */
    double benchmark;  /* semicovariance threshold per period, 0.000079 */
} nq_cov_opts;
void nq_cov_opts_default(nq_cov_opts *o);

/* S: n x n annual covariance. A matrix that is not positive semidefinite
 * (Cholesky of S + 1e-16 I fails) has its negative eigenvalues clipped to 0
 * and *repaired is set to 1 (else 0). shrinkage (may be NULL) gets the
 * Ledoit-Wolf intensity, 0 for the other methods. */
int nq_risk_matrix(const nq_returns *r, const nq_cov_opts *o, double *S, int *repaired,
                   double *shrinkage, nq_err *err);
/* The PSD repair on its own, in place. */
int nq_psd_repair(double *S, int32_t n, int *repaired, nq_err *err);

/* ---- optimization ---------------------------------------------------------- */

typedef enum nq_pf_objective {
    NQ_PF_MIN_VOLATILITY = 0,
    NQ_PF_MAX_SHARPE = 1,            /* (mu'w - rf) / sqrt(w'Sw), Cornuejols-Tutuncu transform */
    NQ_PF_EFFICIENT_RETURN = 2,      /* min w'Sw with mu'w >= target_return */
    NQ_PF_EFFICIENT_RISK = 3,        /* max mu'w with sqrt(w'Sw) <= target_volatility */
    NQ_PF_MAX_QUADRATIC_UTILITY = 4, /* max mu'w - risk_aversion/2 w'Sw */
    NQ_PF_MIN_CVAR = 5,              /* min CVaR_beta over scenarios (LP, GLPK) */
    NQ_PF_RISK_PARITY = 6,           /* equal risk contributions (long only, full budget) */
    NQ_PF_HRP = 7                    /* hierarchical risk parity (single linkage) */
} nq_pf_objective;
#define NQ_PF_OBJECTIVES 8

/* Stable names: "min_volatility", "max_sharpe", "efficient_return",
 * "efficient_risk", "max_quadratic_utility", "min_cvar", "risk_parity", "hrp". */
const char *nq_pf_objective_name(nq_pf_objective o);
int nq_pf_objective_parse(const char *name, nq_pf_objective *out); /* NQ_ENOTFOUND */

typedef struct nq_pf_spec {
    nq_pf_objective objective;
    int32_t n;
    const double *mu; /* n annual expected returns; NULL allowed only for min_volatility,
                         min_cvar (then no return is reported... use scenario mean), risk_parity, hrp */
    const double *S;  /* n x n annual covariance (all objectives but min_cvar need it) */
    double rf;                /* risk-free rate, annual: max_sharpe and every Sharpe figure */
    double target_return;     /* efficient_return */
    double target_volatility; /* efficient_risk */
    double risk_aversion;     /* max_quadratic_utility, > 0 */
    /* Weight bounds, n each; NULL: 0 and 1 (long only). Weights sum to 1. */
    const double *lb, *ub;
    /* Sectors: sector[i] in [0, n_sectors) or -1; sum of a sector's weights
     * within [sector_min[s], sector_max[s]] (NAN: no bound on that side). */
    int32_t n_sectors;
    const int32_t *sector;
    const double *sector_min, *sector_max;
    /* Rebalancing against current weights w0 (NULL: none held, all cash). */
    const double *w0;
    double max_turnover; /* sum |w - w0| <= max_turnover; < 0: no limit */
    double cost;         /* proportional cost per unit of weight traded, charged to the
                            objective's return (efficient_*, max_sharpe, utility); 0: none */
    /* Cardinality: at most max_assets weights > 0 (0: no limit); a held
     * asset's weight is at least min_weight (0: no minimum). Solved by the
     * engine over subsets with each subset's weights by the exact QP. */
    int32_t max_assets;
    double min_weight;
    /* min_cvar: n_scenarios x n per-period returns, beta in (0, 1). */
    const double *scenarios;
    int32_t n_scenarios;
    double beta;
    /* hrp: the correlation comes from S (cov_to_corr) unless `returns` is
     * given, then from pairwise-complete returns (pypfopt HRPOpt(returns)). */
    const nq_returns *returns;
    int32_t frequency;        /* NQ_PF_FREQUENCY; used for hrp from returns */
    uint64_t seed;            /* the engine's seed (cardinality) */
    double time_limit;        /* seconds for the engine's search (cardinality), 0: 1 s */
    const atomic_int *cancel; /* may be NULL */
} nq_pf_spec;

/* Defaults: objective min_volatility, rf 0.02, risk_aversion 1, beta 0.95,
 * max_turnover -1, frequency 252, seed 1; everything else 0 / NULL. */
void nq_pf_spec_default(nq_pf_spec *s);

typedef struct nq_pf_result {
    int32_t n;
    double *w;              /* n weights, summing to 1 (|w| < 1e-12 written as 0) */
    double expected_return; /* mu'w - cost * turnover (0 when mu is NULL) */
    double volatility;      /* sqrt(w'Sw) (0 when S is NULL) */
    double sharpe;          /* (expected_return - rf) / volatility; 0 when volatility is 0 */
    double cvar;            /* min_cvar: the optimal per-period CVaR; else 0 */
    double turnover;        /* sum |w - w0| */
    int32_t held;           /* weights > 0 */
    int64_t iterations;     /* the QP's active-set changes, simplex steps, or subsets tried */
    int64_t subsets;        /* cardinality: distinct subsets whose QP was solved */
    char method[64];        /* e.g. "active-set QP", "GLPK simplex", "engine (cqm) + QP" */
} nq_pf_result;
void nq_pf_result_free(nq_pf_result *r); /* NULL-safe */

/* Optimize. Errors: NQ_EINVAL with err->where one of "/objective",
 * "/target_return", "/target_volatility", "/bounds", "/sectors",
 * "/max_turnover", "/max_assets", "/min_weight", "/scenarios",
 * "/risk_aversion", "/rf" when that input makes the problem infeasible or
 * meaningless (e.g. target return above every asset's, bounds whose sums
 * cannot reach 1, max_assets > n); NQ_ECANCEL when cancelled. */
int nq_pf_optimize(const nq_pf_spec *s, nq_pf_result *out, nq_err *err);

/* The same problem solved by trying every subset of exactly k = max_assets
 * assets (each a QP on that subset, min_weight applied): the proof for the
 * engine's answer on small universes. At most NQ_PF_EXHAUSTIVE_MAX subsets. */
#define NQ_PF_EXHAUSTIVE_MAX 2000000
int nq_pf_optimize_exhaustive(const nq_pf_spec *s, nq_pf_result *out, nq_err *err);

/* Efficient frontier: `points` portfolios from the minimum-volatility
 * return to the largest achievable return, evenly spaced in return, each
 * the efficient_return solution under s's constraints. ret, vol: points
 * each; w: points x n, or NULL. */
int nq_pf_frontier(const nq_pf_spec *s, int32_t points, double *ret, double *vol, double *w,
                   nq_err *err);

/* ---- discrete allocation and rebalancing ------------------------------------ */

typedef struct nq_pf_allocation {
    int32_t n;
    int64_t *shares;  /* n whole shares */
    double leftover;  /* cash not invested */
    double invested;  /* budget - leftover */
    double rmse;      /* sqrt(mean((held value share - weight)^2)) over assets */
} nq_pf_allocation;
void nq_pf_allocation_free(nq_pf_allocation *a); /* NULL-safe */

/* Whole shares of n assets at `prices` (> 0) for `budget` close to weights
 * w (>= 0, sum 1): the MILP of pypfopt's lp_portfolio (GLPK), minimizing
 * the absolute value gaps plus leftover cash; never spends more than the
 * budget. */
int nq_pf_allocate(const double *w, const double *prices, int32_t n, double budget,
                   nq_pf_allocation *out, nq_err *err);

/* Orders that move current holdings (shares, n) to target shares (n):
 * delta[i] = target[i] - current[i] (> 0 buy, < 0 sell); value: n, the
 * delta at prices. Returns the total bought and sold value. */
int nq_pf_rebalance(const int64_t *current, const int64_t *target, const double *prices,
                    int32_t n, int64_t *delta, double *value, double *bought, double *sold,
                    nq_err *err);

/* ---- risk assessment -------------------------------------------------------- */

typedef struct nq_pf_risk_opts {
    double level;      /* VaR/CVaR confidence, 0.95 */
    int32_t frequency; /* NQ_PF_FREQUENCY */
    double rf;         /* annual risk-free rate, Sharpe and Sortino */
    double mar;        /* per-period minimum acceptable return for Sortino, 0 */
} nq_pf_risk_opts;
void nq_pf_risk_opts_default(nq_pf_risk_opts *o);

/* Figures for one return series (per period, oldest first). VaR and CVaR
 * are per period, positive numbers are losses. */
typedef struct nq_pf_risk_report {
    int32_t t;                  /* periods */
    double mean, stdev;         /* per period; stdev with ddof 1 */
    double annual_return;       /* mean x frequency */
    double annual_volatility;   /* stdev x sqrt(frequency) */
    double sharpe;              /* (annual_return - rf) / annual_volatility */
    double sortino;             /* (annual_return - rf) / (downside deviation below mar x sqrt(f)) */
    double var_hist, cvar_hist; /* Riskfolio VaR_Hist / CVaR_Hist: sorted, k = ceil((1-level) T) - 1 */
    double var_quantile, cvar_quantile; /* numpy quantile (type 7); CVaR = -mean(r[r < q]) */
    double var_param, cvar_param;       /* Gaussian with mean and stdev */
    double max_drawdown;        /* largest peak-to-trough fall of prod(1 + r), in [0, 1] */
    int32_t has_beta;           /* 1 when a benchmark was given */
    double beta;                /* cov(r, b) / var(b), ddof 1 */
} nq_pf_risk_report;

/* bench: t benchmark returns aligned with r, or NULL. At least 2 periods;
 * NAN anywhere is an error (err->where "/returns/<i>" or "/benchmark/<i>"). */
int nq_pf_risk(const double *r, int32_t t, const double *bench, const nq_pf_risk_opts *o,
               nq_pf_risk_report *out, nq_err *err);

/* Per-period returns of fixed weights w rebalanced every period, over the
 * complete rows of ret: out[k] = sum_i w[i] r[k][i]; t_out = rows used. */
int nq_pf_portfolio_returns(const nq_returns *ret, const double *w, double *out,
                            int32_t *t_out, nq_err *err);

/* Inverse of the standard normal CDF (p in (0, 1)), to about 1e-15. */
double nq_norm_ppf(double p);

#endif
