/* qp.c - dense convex QP by the dual active-set method of Goldfarb and
 * Idnani ("A numerically stable dual method for solving strictly convex
 * quadratic programs", Math. Programming 27, 1983).
 *
 * Every constraint is written as  sgn * n'x >= b  (equalities first). The
 * method keeps J = L^-T Q, where P = L L' and L^-1 N_A = Q [R; 0] for the
 * active normals N_A, so that the primal step is J2 J2' n and the dual step
 * R^-1 J1' n; adding or dropping a constraint is a sequence of Givens
 * rotations on J and R. It starts at the unconstrained minimum and only
 * ever adds violated constraints, so it needs no feasible start and proves
 * infeasibility when a violated constraint cannot be added.
 *
 * P must be positive definite for that. A semidefinite P gets a proximal
 * term rho/2 |x - c|^2 (qp_prox.c): each such subproblem is solved here and
 * its active set is then "polished" with the true P (exact optimality
 * conditions on that active set), which removes the proximal bias. The
 * polish also runs for a definite P, as a refinement. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "qp_internal.h"

void dtrtri_(const char *uplo, const char *diag, const int *n, double *a, const int *lda, int *info,
             size_t uplo_len, size_t diag_len);

double nq__qp_con_dot(const qp_ws *w, int32_t j, const double *v)
{
    const qp_con *c = &w->c[j];
    if (!c->row)
        return c->sgn * v[c->var];
    return c->sgn * nq_dot(c->row, v, w->n);
}

/* d = J' n_j. J is stored transposed (row k of w->J is column k of J),
 * so that the rotations below run over contiguous memory. */
static void con_Jt(const qp_ws *w, int32_t j, double *d)
{
    const qp_con *c = &w->c[j];
    int32_t n = w->n;
    for (int32_t k = 0; k < n; k++) {
        const double *Jk = w->J + (size_t)k * n;
        d[k] = c->sgn * (c->row ? nq_dot(Jk, c->row, n) : Jk[c->var]);
    }
}

/* d = J' n_p, z = J2 d2 (primal direction), r = R^-1 d1 (dual direction).
 * Returns |d2|^2 = z'n_p (the curvature of the step) and |d|^2 in *dd. */
static double step_dirs(qp_ws *w, int32_t p, double *dd)
{
    int32_t n = w->n, q = w->q;
    con_Jt(w, p, w->d);
    double d2 = 0.0, all = 0.0;
    for (int32_t k = 0; k < n; k++) {
        all += w->d[k] * w->d[k];
        if (k >= q)
            d2 += w->d[k] * w->d[k];
    }
    memset(w->z, 0, (size_t)n * sizeof *w->z);
    for (int32_t k = q; k < n; k++) {
        const double *Jk = w->J + (size_t)k * n;
        double dk = w->d[k];
        if (dk != 0.0)
            for (int32_t i = 0; i < n; i++)
                w->z[i] += dk * Jk[i];
    }
    for (int32_t i = q - 1; i >= 0; i--) { /* back substitution, R upper */
        double s = w->d[i];
        for (int32_t k = i + 1; k < q; k++)
            s -= w->R[(size_t)i * n + k] * w->r[k];
        w->r[i] = s / w->R[(size_t)i * n + i];
    }
    *dd = all;
    return d2;
}

/* Rotate columns k0, k0+1 of J (rows of the stored transpose) by (c, s). */
static void rot_J(qp_ws *w, int32_t k0, double c, double s)
{
    int32_t n = w->n;
    double *A = w->J + (size_t)k0 * n, *B = A + n;
    for (int32_t i = 0; i < n; i++) {
        double a = A[i], b = B[i];
        A[i] = c * a + s * b;
        B[i] = -s * a + c * b;
    }
}

/* Make p active: d (from step_dirs) is rotated so that only d[0..q] stay
 * non-zero; that is the new column of R. */
static void add_con(qp_ws *w, int32_t p)
{
    int32_t n = w->n, q = w->q;
    for (int32_t k = n - 1; k > q; k--) {
        double a = w->d[k - 1], b = w->d[k];
        if (b == 0.0)
            continue;
        double h = hypot(a, b), c = a / h, s = b / h;
        w->d[k - 1] = h;
        w->d[k] = 0.0;
        rot_J(w, k - 1, c, s);
    }
    for (int32_t i = 0; i <= q; i++)
        w->R[(size_t)i * n + q] = w->d[i];
    w->act[q] = p;
    w->on[p] = 1;
    w->q = q + 1;
}

/* Drop the active constraint at position k: its column leaves R, and
 * rotations bring the Hessenberg remainder back to triangular. */
static void drop_con(qp_ws *w, int32_t k)
{
    int32_t n = w->n, q = w->q;
    w->on[w->act[k]] = 0;
    for (int32_t j = k; j < q - 1; j++) {
        w->act[j] = w->act[j + 1];
        w->u[j] = w->u[j + 1];
        for (int32_t i = 0; i < q; i++)
            w->R[(size_t)i * n + j] = w->R[(size_t)i * n + j + 1];
    }
    for (int32_t j = k; j < q - 1; j++) {
        double *Rj = w->R + (size_t)j * n, *Rj1 = w->R + (size_t)(j + 1) * n;
        double a = Rj[j], b = Rj1[j];
        if (b == 0.0)
            continue;
        double h = hypot(a, b), c = a / h, s = b / h;
        for (int32_t l = j; l < q - 1; l++) {
            double x = Rj[l], y = Rj1[l];
            Rj[l] = c * x + s * y;
            Rj1[l] = -s * x + c * y;
        }
        Rj1[j] = 0.0;
        rot_J(w, j, c, s);
    }
    w->q = q - 1;
}

static double viol_tol(const qp_ws *w, int32_t j, double xmax)
{
    return w->tol * (1.0 + fabs(w->c[j].b) + w->c[j].nrm * xmax);
}

/* The most violated inactive inequality (violation scaled by the row's
 * size), or -1 when x satisfies them all. */
static int32_t most_violated(const qp_ws *w)
{
    double xmax = 0.0, best = 0.0;
    for (int32_t i = 0; i < w->n; i++)
        xmax = fmax(xmax, fabs(w->x[i]));
    int32_t p = -1;
    for (int32_t j = w->meq; j < w->mc; j++) {
        if (w->on[j])
            continue;
        double s = nq__qp_con_dot(w, j, w->x) - w->c[j].b;
        if (s < -viol_tol(w, j, xmax) && -s / w->c[j].nrm > best) {
            best = -s / w->c[j].nrm;
            p = j;
        }
    }
    return p;
}

static int check_stop(qp_ws *w)
{
    if (w->cancel && atomic_load_explicit(w->cancel, memory_order_relaxed))
        return QP_CANCEL;
    if (++w->iters > w->max_iter)
        return QP_LIMIT;
    return QP_OK;
}

/* Largest partial step: the smallest u_k / r_k over active inequalities
 * with r_k > 0; *l gets its position (-1: none, infinite step). */
static double partial_step(const qp_ws *w, int32_t *l)
{
    double t1 = INFINITY, rmax = 0.0;
    for (int32_t k = 0; k < w->q; k++)
        rmax = fmax(rmax, fabs(w->r[k]));
    *l = -1;
    for (int32_t k = 0; k < w->q; k++) {
        if (w->c[w->act[k]].eq || !(w->r[k] > 1e-14 * rmax))
            continue;
        double t = w->u[k] / w->r[k];
        if (t < t1) {
            t1 = t;
            *l = k;
        }
    }
    return t1;
}

/* Add violated constraint p, dropping active ones as the dual steps
 * require (step 2 of the method). */
static int resolve(qp_ws *w, int32_t p)
{
    int32_t n = w->n;
    double up = 0.0;
    for (;;) {
        int rc = check_stop(w);
        if (rc)
            return rc;
        double dd, d2 = step_dirs(w, p, &dd);
        double s = nq__qp_con_dot(w, p, w->x) - w->c[p].b;
        int32_t l;
        double t1 = partial_step(w, &l);
        double t2 = d2 > 1e-22 * dd && dd > 0.0 ? -s / d2 : INFINITY;
        if (t2 < 0.0)
            t2 = 0.0; /* p already satisfied after a partial step */
        double t = fmin(t1, t2);
        if (isinf(t)) {
            w->bad = p;
            return QP_INFEASIBLE;
        }
        if (isfinite(t2))
            for (int32_t i = 0; i < n; i++)
                w->x[i] += t * w->z[i];
        for (int32_t k = 0; k < w->q; k++)
            w->u[k] -= t * w->r[k];
        up += t;
        if (t2 <= t1) {
            w->u[w->q] = up;
            add_con(w, p);
            return QP_OK;
        }
        drop_con(w, l);
    }
}

/* Equalities first: each is added with a full step of either sign; one
 * that depends on the earlier ones is skipped when consistent. */
static int add_equalities(qp_ws *w)
{
    int32_t n = w->n;
    for (int32_t j = 0; j < w->meq; j++) {
        double dd, d2 = step_dirs(w, j, &dd);
        double s = nq__qp_con_dot(w, j, w->x) - w->c[j].b;
        if (!(d2 > 1e-22 * dd && dd > 0.0)) {
            if (fabs(s) <= 1e3 * viol_tol(w, j, 1.0)) /* dependent, consistent */
                continue;
            w->bad = j;
            return QP_INFEASIBLE;
        }
        double t = -s / d2;
        for (int32_t i = 0; i < n; i++)
            w->x[i] += t * w->z[i];
        for (int32_t k = 0; k < w->q; k++)
            w->u[k] -= t * w->r[k];
        w->u[w->q] = t;
        add_con(w, j);
        w->iters++;
    }
    return QP_OK;
}

int nq__qp_dual(qp_ws *w, const double *a)
{
    int32_t n = w->n;
    memcpy(w->J, w->J0, (size_t)n * n * sizeof *w->J);
    memset(w->on, 0, (size_t)w->mc);
    w->q = 0;
    for (int32_t i = 0; i < n; i++)
        w->x[i] = -a[i];
    nq_chol_solve(w->L, n, w->x); /* unconstrained minimum */
    int rc = add_equalities(w);
    while (!rc) {
        int32_t p = most_violated(w);
        if (p < 0)
            return QP_OK;
        rc = resolve(w, p);
    }
    return rc;
}

/* The stored transpose of J0 = L^-T is L^-1. Row-major L is LAPACK's
 * column-major upper factor U = L', and dtrtri("U") inverts it in place:
 * U^-1 column-major reads row-major as L^-1. */
int nq__qp_inv_factor(const double *L, int32_t n, double *J0)
{
    int nn = (int)n, info = 0;
    memcpy(J0, L, (size_t)n * n * sizeof *J0);
    dtrtri_("U", "N", &nn, J0, &nn, &info, 1, 1);
    return info == 0 ? NQ_OK : NQ_EINTERNAL;
}
