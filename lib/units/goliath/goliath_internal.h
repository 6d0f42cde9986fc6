/* goliath_internal.h - what the portfolio files share: dense linear algebra
 * on row-major matrices (LAPACK underneath) and small vector helpers. */
#ifndef NQBA_GOLIATH_INTERNAL_H
#define NQBA_GOLIATH_INTERNAL_H

#include <stdint.h>

#include "nqba/portfolio.h"

/* Cholesky A = L L' in place: on success the lower triangle of A (row-major)
 * holds L; the strict upper triangle is set to 0. Returns NQ_OK, or
 * NQ_EINVAL when A is not positive definite (A is then garbage). */
int nq__chol(double *A, int32_t n);

/* Solve L L' x = b in place (b becomes x), L from nq__chol. */
void nq__chol_solve(const double *L, int32_t n, double *b);

/* Symmetric eigen-decomposition: evals ascending (n); evecs (n x n, may
 * equal A) row k is the unit eigenvector of evals[k]. A is not changed
 * unless evecs == A. Returns NQ_OK, NQ_ENOMEM or NQ_EINTERNAL. */
int nq__sym_eig(const double *A, int32_t n, double *evals, double *evecs);

/* x' A y for an n x n row-major A. */
double nq__quad(const double *A, const double *x, const double *y, int32_t n);
double nq__dot(const double *x, const double *y, int32_t n);

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

#endif
