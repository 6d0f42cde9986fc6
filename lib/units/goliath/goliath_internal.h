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

#endif
