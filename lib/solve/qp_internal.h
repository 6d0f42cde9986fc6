/* qp_internal.h - what qp.c (the dual active-set core) and qp_solve.c
 * (checks, proximal steps, polish) share. */
#ifndef NQBA_QP_INTERNAL_H
#define NQBA_QP_INTERNAL_H

#include <stdint.h>

#include "nqba/linalg.h"
#include "nqba/qp.h"

enum { QP_OK = 0, QP_INFEASIBLE = 1, QP_LIMIT = 2, QP_CANCEL = 3 };
enum { QP_EQ_ROW = 0, QP_IN_ROW = 1, QP_LOWER = 2, QP_UPPER = 3, QP_FIXED = 4 };

/* One constraint: sgn * n'x >= b (or = b when eq), n a row or a unit vector. */
typedef struct qp_con {
    const double *row; /* general row; NULL for a bound on x[var] */
    int32_t var;       /* bound: the variable */
    int32_t src;       /* the caller's row or variable index */
    int kind;          /* QP_EQ_ROW ... */
    int eq;            /* never dropped, multiplier of either sign */
    double sgn;        /* +1 or -1 */
    double b;
    double nrm; /* largest |coefficient| */
} qp_con;

typedef struct qp_ws {
    int32_t n, mc, meq; /* variables, constraints, equalities (the first meq) */
    qp_con *c;
    double *L;       /* Cholesky factor of P + rho I */
    double *J0, *J;  /* L^-T and the working J = L^-T Q, both stored transposed */
    double *R;       /* upper triangular, q x q in an n x n array */
    double *K, *rhs; /* the polish system, allocated per polish */
    int32_t *piv2;
    double *x, *d, *z, *r, *u, *a, *xc, *xp, *dx, *dx0;
    int32_t *act, *piv;
    unsigned char *on, *fixed;
    int32_t q;   /* active constraints */
    int32_t bad; /* the constraint found infeasible */
    int64_t iters, max_iter;
    const atomic_int *cancel;
    double tol;
} qp_ws;

double nq__qp_con_dot(const qp_ws *w, int32_t j, const double *v);
/* Minimize 1/2 x'(L L')x + a'x over the constraints from scratch; w->x,
 * w->act[0..q) and w->u hold the answer. QP_OK or QP_INFEASIBLE, ... */
int nq__qp_dual(qp_ws *w, const double *a);
/* J0 (stored transposed, as w->J) from the Cholesky factor L. */
int nq__qp_inv_factor(const double *L, int32_t n, double *J0);

#endif
