/* goliath_internal.h - what the portfolio files share. */
#ifndef NQBA_GOLIATH_INTERNAL_H
#define NQBA_GOLIATH_INTERNAL_H

#include <stdint.h>

#include "nqba/linalg.h"
#include "nqba/portfolio.h"


/* pandas ewm(span=span, adjust=True, ignore_na=False).mean() of the t
 * values x[k * stride], at the last one; NAN when none is a number. */
double nq__ewm_last(const double *x, size_t stride, int32_t t, double span);

/* pandas' pairwise-complete moments of columns a and b of r (its nancorr,
 * Welford's updates over the rows where both are finite): cov (ddof 1, NAN
 * below 2 rows) and corr (NAN when a series is constant); either may be
 * NULL. Returns the number of rows the pair shares. */
int32_t nq__pair_moments(const nq_returns *r, int32_t a, int32_t b, double *cov, double *corr);

/* Hierarchical risk parity (PyPortfolioOpt 1.5 HRPOpt, single linkage):
 * s->n weights into w, from s->returns when given, else from s->S. */
int nq__pf_hrp(const nq_pf_spec *s, double *w, nq_err *err);

/* The cardinality search (cardinality.c): called by nq_pf_optimize, after
 * its checks, when s->max_assets > 0 or s->min_weight > 0. */
int nq__pf_cardinality(const nq_pf_spec *s, nq_pf_result *out, nq_err *err);

/* s's objective (min_volatility, max_sharpe, efficient_return,
 * efficient_risk or max_quadratic_utility) with the weights of assets
 * where in[i] == 0 fixed at 0 and each held asset's lower bound raised to
 * max(lb_i, min_weight). s must have passed nq_pf_optimize's checks (they
 * are not repeated, for speed). out is filled as by nq_pf_optimize; it
 * must be zeroed, or a result of an earlier call with the same s->n, whose
 * weight array is then reused. NQ_EINVAL when the subset is infeasible
 * (out->w is then unspecified but still owned by out). */
int nq__pf_solve_subset(const nq_pf_spec *s, const unsigned char *in, double min_weight,
                        nq_pf_result *out, nq_err *err);

#endif
