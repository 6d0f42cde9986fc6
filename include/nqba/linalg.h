/* linalg.h - dense linear algebra on row-major double matrices, LAPACK
 * underneath (lib/solve/linalg.c): what the QP solver and the portfolio
 * models need, no more. */
#ifndef NQBA_LINALG_H
#define NQBA_LINALG_H

#include <stdint.h>

#include "nqba/err.h"

/* Cholesky A = L L' in place: on success the lower triangle of A (row-major)
 * holds L; the strict upper triangle is set to 0. Returns NQ_OK, or
 * NQ_EINVAL when A is not positive definite (A is then garbage). */
int nq_chol(double *A, int32_t n);

/* Solve L L' x = b in place (b becomes x), L from nq_chol. */
void nq_chol_solve(const double *L, int32_t n, double *b);

/* Symmetric eigen-decomposition: evals ascending (n); evecs (n x n, may
 * equal A) row k is the unit eigenvector of evals[k]. A is not changed
 * unless evecs == A. Returns NQ_OK, NQ_ENOMEM or NQ_EINTERNAL. */
int nq_sym_eig(const double *A, int32_t n, double *evals, double *evecs);

/* x' A y for an n x n row-major A. */
double nq_quad(const double *A, const double *x, const double *y, int32_t n);
double nq_dot(const double *x, const double *y, int32_t n);

#endif
