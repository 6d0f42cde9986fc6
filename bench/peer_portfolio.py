#!/usr/bin/python3
"""Peer timings for bench_portfolio: the same problems solved the way a
Python user solves them without PyPortfolioOpt's own stack (cvxpy is not a
Debian package): cvxopt's QP solver (the reference results' solver) for the
mean-variance objectives, SciPy's HiGHS for the min-CVaR LP. Data and
conventions as in bench/portfolio.c (pairwise-complete covariance x 252,
compounded mean returns). Prints "key median_ms" lines for
`bench_portfolio --peer FILE`.

Usage: bench/peer_portfolio.py SHARED_DIR > FILE
"""
import sys
import time

import numpy as np
import pandas as pd
from cvxopt import matrix, solvers
from scipy.optimize import linprog

solvers.options["show_progress"] = False


def median_ms(fn, reps):
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1e3 * sorted(times)[len(times) // 2]


def qp(S, q=None, G=None, h=None, A=None, b=None):
    n = S.shape[0]
    G = -np.eye(n) if G is None else G
    h = np.zeros(n) if h is None else h
    A = np.ones((1, n)) if A is None else A
    b = np.ones(1) if b is None else b
    q = np.zeros(n) if q is None else q
    return solvers.qp(matrix(S), matrix(q), matrix(G), matrix(h), matrix(A), matrix(b))


def main():
    shared = sys.argv[1] if len(sys.argv) > 1 else "../shared"
    prices = pd.read_csv(f"{shared}/data/portfolio/pypfopt_stock_prices.csv", index_col=0)
    rets = prices.pct_change(fill_method=None).dropna(how="all")
    S = rets.cov().values * 252
    counts = rets.count().values
    mu = np.prod(1 + rets.fillna(0).values, axis=0) ** (252 / counts) - 1
    n = len(mu)
    out = {}
    out["min_volatility"] = median_ms(lambda: qp(S), 101)
    # max Sharpe: min y'Sy, (mu - rf)'y = 1, y >= 0; w = y / sum y
    A = (mu - 0.02).reshape(1, n)
    out["max_sharpe"] = median_ms(lambda: qp(S, A=A, b=np.ones(1)), 101)
    # efficient return 0.20: min w'Sw, mu'w >= 0.2, sum w = 1, w >= 0
    G = np.vstack([-np.eye(n), -mu.reshape(1, n)])
    h = np.concatenate([np.zeros(n), [-0.2]])
    out["efficient_return"] = median_ms(lambda: qp(S, G=G, h=h), 101)
    # min CVaR (beta 0.95) LP over the complete rows: x = (w, alpha, u)
    R = rets.dropna().values
    T = R.shape[0]
    c = np.concatenate([np.zeros(n), [1.0], np.full(T, 1.0 / (0.05 * T))])
    A_ub = np.hstack([-R, -np.ones((T, 1)), -np.eye(T)])
    A_eq = np.concatenate([np.ones(n), [0.0], np.zeros(T)]).reshape(1, -1)
    bounds = [(0, 1)] * n + [(None, None)] + [(0, None)] * T
    out["min_cvar"] = median_ms(
        lambda: linprog(c, A_ub=A_ub, b_ub=np.zeros(T), A_eq=A_eq, b_eq=[1.0], bounds=bounds,
                        method="highs"), 11)
    S95 = pd.read_csv(f"{shared}/data/portfolio/pypfopt_cov_matrix.csv", index_col=0).values
    out["min_volatility_95"] = median_ms(lambda: qp(S95), 11)
    S500 = np.fromfile(f"{shared}/data/portfolio/cov500_seed0.f64", dtype="<f8").reshape(500, 500)
    out["min_volatility_500"] = median_ms(lambda: qp(S500), 5)
    for k, v in out.items():
        print(f"{k} {v:.4f}")


if __name__ == "__main__":
    main()
