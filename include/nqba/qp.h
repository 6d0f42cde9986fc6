/* qp.h - dense convex quadratic programs:
 *
 *   minimize    1/2 x'Px + q'x
 *   subject to  A_eq x  = b_eq
 *               A_in x <= b_in
 *               lb <= x <= ub
 *
 * Solved by a dual active-set method (Goldfarb-Idnani) on a Cholesky
 * factor of P. A P that is only positive semidefinite (zero curvature in
 * some directions: auxiliary variables, singular covariances) is handled
 * by proximal-point steps on P + rho I, each followed by an exact solve of
 * the optimality conditions on the active set the step found, so the
 * answer carries no regularization bias. Matrices are dense, row-major.
 * Pure computation: no I/O, no global state. */
#ifndef NQBA_QP_H
#define NQBA_QP_H

#include <stdatomic.h>
#include <stdint.h>

#include "nqba/err.h"

#define NQ_QP_MAX_VARS 2000
#define NQ_QP_MAX_ROWS 20000 /* m_eq + m_in */

typedef struct nq_qp {
    int32_t n;          /* variables, in [1, NQ_QP_MAX_VARS] */
    int32_t m_eq;       /* equality rows */
    int32_t m_in;       /* inequality rows (A_in x <= b_in) */
    const double *P;    /* n x n, symmetric positive semidefinite; NULL: zero */
    const double *q;    /* n; NULL: zero */
    const double *A_eq; /* m_eq x n */
    const double *b_eq; /* m_eq */
    const double *A_in; /* m_in x n */
    const double *b_in; /* m_in */
    const double *lb;   /* n, -INFINITY allowed; NULL: no lower bounds */
    const double *ub;   /* n, INFINITY allowed; NULL: no upper bounds */
} nq_qp;

typedef struct nq_qp_opts {
    double tol;               /* feasibility / optimality tolerance, relative: 1e-12 */
    int64_t max_iter;         /* active-set changes over all steps; 0: automatic */
    const atomic_int *cancel; /* nonzero cancels (NQ_ECANCEL); may be NULL */
} nq_qp_opts;

void nq_qp_opts_default(nq_qp_opts *o);

/* Solve. x: n (the minimizer), obj (may be NULL): its objective value,
 * iterations (may be NULL): active-set changes. Errors: NQ_EINVAL for bad
 * input (err->where names it: "/P/i/j", "/lb/i" ...) and for infeasible
 * constraints (err->where "/constraints", the message says which row could
 * not be satisfied); NQ_ERANGE when the objective is unbounded below;
 * NQ_ELIMIT past max_iter; NQ_ECANCEL; NQ_ENOMEM. On error x is left
 * unspecified. opts may be NULL (defaults). */
int nq_qp_solve(const nq_qp *p, const nq_qp_opts *opts, double *x, double *obj, int64_t *iterations,
                nq_err *err);

#endif
