/* qp_solve.c - nq_qp_solve: input checks, the constraint table, the
 * proximal-point loop for semidefinite P and the polish that solves the
 * optimality conditions exactly on an active set (see qp.c). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "qp_internal.h"

void nq_qp_opts_default(nq_qp_opts *o)
{
    *o = (nq_qp_opts){.tol = 1e-12, .max_iter = 0, .cancel = NULL};
}

static int check_vec(const double *v, int32_t len, const char *name, nq_err *err)
{
    for (int32_t i = 0; v && i < len; i++)
        if (!isfinite(v[i]))
            return nq_err_set(err, NQ_EINVAL, NULL, "%s[%d] is not finite", name, (int)i);
    return NQ_OK;
}

static int check_input(const nq_qp *p, nq_err *err)
{
    if (!p || p->n < 1 || p->n > NQ_QP_MAX_VARS)
        return nq_err_set(err, NQ_EINVAL, "/n", "must be in [1, %d]", NQ_QP_MAX_VARS);
    if (p->m_eq < 0 || p->m_in < 0 || (int64_t)p->m_eq + p->m_in > NQ_QP_MAX_ROWS)
        return nq_err_set(err, NQ_EINVAL, "/m", "rows must be in [0, %d]", NQ_QP_MAX_ROWS);
    if ((p->m_eq && (!p->A_eq || !p->b_eq)) || (p->m_in && (!p->A_in || !p->b_in)))
        return nq_err_set(err, NQ_EINVAL, "/A", "rows given without their matrix or right side");
    int32_t n = p->n;
    double pmax = 0.0;
    for (size_t k = 0; p->P && k < (size_t)n * n; k++)
        pmax = fmax(pmax, fabs(p->P[k]));
    for (int32_t i = 0; p->P && i < n; i++)
        for (int32_t j = 0; j <= i; j++) {
            double a = p->P[(size_t)i * n + j], b = p->P[(size_t)j * n + i];
            if (!isfinite(a) || !isfinite(b) || fabs(a - b) > 1e-10 * pmax || (i == j && a < 0))
                return nq_err_set(err, NQ_EINVAL, NULL,
                                  "P[%d][%d]: not finite, not symmetric "
                                  "or a negative diagonal",
                                  (int)i, (int)j);
        }
    int rc = check_vec(p->q, n, "q", err);
    if (!rc && p->A_eq)
        rc = check_vec(p->A_eq, p->m_eq * n, "A_eq", err);
    if (!rc && p->A_in)
        rc = check_vec(p->A_in, p->m_in * n, "A_in", err);
    if (!rc && p->b_eq)
        rc = check_vec(p->b_eq, p->m_eq, "b_eq", err);
    if (!rc && p->b_in)
        rc = check_vec(p->b_in, p->m_in, "b_in", err);
    for (int32_t i = 0; !rc && i < n; i++) {
        double l = p->lb ? p->lb[i] : -INFINITY, u = p->ub ? p->ub[i] : INFINITY;
        if (isnan(l) || isnan(u) || l > u || l == INFINITY || u == -INFINITY)
            rc = nq_err_set(err, NQ_EINVAL, NULL, "bounds of x[%d]: [%g, %g]", (int)i, l, u);
    }
    return rc;
}

static double row_max(const double *a, int32_t n)
{
    double m = 0.0;
    for (int32_t i = 0; i < n; i++)
        m = fmax(m, fabs(a[i]));
    return m;
}

/* A zero row is kept out of the table; it is infeasible or vacuous. */
static int add_row(qp_ws *w, const double *row, double sgn, double b, int kind, int32_t src,
                   double tol, nq_err *err)
{
    double nrm = row_max(row, w->n);
    if (nrm == 0.0) {
        int ok = kind == QP_EQ_ROW ? fabs(b) <= tol * (1 + fabs(b)) : b <= tol;
        return ok ? NQ_OK
                  : nq_err_set(err, NQ_EINVAL, "/constraints",
                               "infeasible: %s row %d "
                               "is all zeros",
                               kind == QP_EQ_ROW ? "equality" : "inequality", (int)src);
    }
    w->c[w->mc++] = (qp_con){.row = row,
                             .var = -1,
                             .src = src,
                             .kind = kind,
                             .eq = kind == QP_EQ_ROW,
                             .sgn = sgn,
                             .b = b,
                             .nrm = nrm};
    return NQ_OK;
}

static int build_table(qp_ws *w, const nq_qp *p, nq_err *err)
{
    int32_t n = p->n;
    int rc = NQ_OK;
    for (int32_t i = 0; !rc && i < p->m_eq; i++)
        rc = add_row(w, p->A_eq + (size_t)i * n, 1.0, p->b_eq[i], QP_EQ_ROW, i, w->tol, err);
    for (int32_t i = 0; i < n; i++) /* a variable with lb == ub is an equality */
        if (p->lb && p->ub && p->lb[i] == p->ub[i])
            w->c[w->mc++] = (qp_con){.var = i,
                                     .src = i,
                                     .kind = QP_FIXED,
                                     .eq = 1,
                                     .sgn = 1.0,
                                     .b = p->lb[i],
                                     .nrm = 1.0};
    w->meq = w->mc;
    for (int32_t i = 0; !rc && i < p->m_in; i++)
        rc = add_row(w, p->A_in + (size_t)i * n, -1.0, -p->b_in[i], QP_IN_ROW, i, w->tol, err);
    for (int32_t i = 0; i < n; i++) {
        int fixed = p->lb && p->ub && p->lb[i] == p->ub[i];
        if (p->lb && isfinite(p->lb[i]) && !fixed)
            w->c[w->mc++] = (qp_con){
                .var = i, .src = i, .kind = QP_LOWER, .sgn = 1.0, .b = p->lb[i], .nrm = 1.0};
        if (p->ub && isfinite(p->ub[i]) && !fixed)
            w->c[w->mc++] = (qp_con){
                .var = i, .src = i, .kind = QP_UPPER, .sgn = -1.0, .b = -p->ub[i], .nrm = 1.0};
    }
    return rc;
}

static void ws_free(qp_ws *w)
{
    free(w->L);
    free(w->c);
    free(w->act);
    free(w->on);
}

static int ws_alloc(qp_ws *w, const nq_qp *p)
{
    size_t n = (size_t)p->n, mc = (size_t)p->m_eq + p->m_in + 2 * n;
    memset(w, 0, sizeof *w);
    w->n = p->n;
    w->L = malloc((4 * n * n + 12 * (n + 1)) * sizeof *w->L);
    w->c = malloc(mc * sizeof *w->c);
    w->act = malloc((4 * n + 4) * sizeof *w->act);
    w->on = malloc(mc + n);
    if (!w->L || !w->c || !w->act || !w->on) {
        ws_free(w);
        return NQ_ENOMEM;
    }
    double *v = w->L + n * n;
    w->J0 = v, v += n * n;
    w->J = v, v += n * n;
    w->R = v, v += n * n;
    double **vecs[] = {&w->x, &w->d, &w->z, &w->r, &w->u, &w->a, &w->xc, &w->xp, &w->dx, &w->dx0};
    for (size_t k = 0; k < sizeof vecs / sizeof *vecs; k++)
        *vecs[k] = v, v += n + 1;
    w->piv = w->act + n + 1;
    w->fixed = w->on + mc;
    return NQ_OK;
}

/* LU with partial pivoting of the m x m K, then solve K y = rhs in place.
 * Returns 0, or -1 when K is singular to working precision. */
static int lu_solve(double *K, int32_t m, int32_t *piv, double *rhs)
{
    double kmax = row_max(K, m * m);
    for (int32_t c = 0; c < m; c++) {
        int32_t pr = c;
        for (int32_t i = c + 1; i < m; i++)
            if (fabs(K[(size_t)i * m + c]) > fabs(K[(size_t)pr * m + c]))
                pr = i;
        if (!(fabs(K[(size_t)pr * m + c]) > 1e-13 * kmax))
            return -1;
        piv[c] = pr;
        if (pr != c)
            for (int32_t k = 0; k < m; k++) {
                double t = K[(size_t)c * m + k];
                K[(size_t)c * m + k] = K[(size_t)pr * m + k];
                K[(size_t)pr * m + k] = t;
            }
        double t = rhs[c];
        rhs[c] = rhs[pr], rhs[pr] = t;
        const double *Kc = K + (size_t)c * m;
        for (int32_t i = c + 1; i < m; i++) {
            double *Ki = K + (size_t)i * m, f = Ki[c] / Kc[c];
            if (f == 0.0)
                continue;
            for (int32_t k = c + 1; k < m; k++)
                Ki[k] -= f * Kc[k];
            rhs[i] -= f * rhs[c];
        }
    }
    for (int32_t i = m - 1; i >= 0; i--) {
        double s = rhs[i];
        for (int32_t k = i + 1; k < m; k++)
            s -= K[(size_t)i * m + k] * rhs[k];
        rhs[i] = s / K[(size_t)i * m + i];
    }
    return 0;
}

static double pget(const nq_qp *p, int32_t i, int32_t j)
{
    return p->P ? p->P[(size_t)i * p->n + j] : 0.0;
}

static double con_coef(const qp_con *c, int32_t i)
{
    return c->row ? c->sgn * c->row[i] : (c->var == i ? c->sgn : 0.0);
}

/* Fill K and rhs of the polish system on the free variables F and the
 * active general rows G:  [P_FF -N_F; N_F' 0] [x_F; u] = [-q_F - P_FX x_X; b - N_X' x_X]. */
static int32_t polish_system(qp_ws *w, const nq_qp *p, int32_t *F, int32_t *G, int32_t *ng)
{
    int32_t n = w->n, nf = 0;
    *ng = 0;
    memset(w->fixed, 0, (size_t)n);
    for (int32_t k = 0; k < w->q; k++) {
        const qp_con *c = &w->c[w->act[k]];
        if (c->row) {
            G[(*ng)++] = w->act[k];
        } else {
            w->fixed[c->var] = 1;
            w->xp[c->var] = c->sgn * c->b;
        }
    }
    for (int32_t i = 0; i < n; i++)
        if (!w->fixed[i])
            F[nf++] = i;
    int32_t m = nf + *ng;
    /* The system has one row per free variable and per active row: up to
     * 2n, allocated for the size at hand. */
    w->K = malloc(((size_t)m * m + m) * sizeof *w->K + (size_t)m * sizeof *w->piv2);
    if (!w->K)
        return -1;
    w->rhs = w->K + (size_t)m * m;
    w->piv2 = (int32_t *)(w->rhs + m);
    memset(w->K, 0, (size_t)m * m * sizeof *w->K);
    for (int32_t a = 0; a < nf; a++) {
        double s = p->q ? p->q[F[a]] : 0.0;
        for (int32_t i = 0; i < n; i++)
            if (w->fixed[i])
                s += pget(p, F[a], i) * w->xp[i];
        w->rhs[a] = -s;
        for (int32_t b = 0; b < nf; b++)
            w->K[(size_t)a * m + b] = pget(p, F[a], F[b]);
    }
    for (int32_t g = 0; g < *ng; g++) {
        const qp_con *c = &w->c[G[g]];
        double s = c->b;
        for (int32_t i = 0; i < n; i++)
            if (w->fixed[i])
                s -= c->sgn * c->row[i] * w->xp[i];
        w->rhs[nf + g] = s;
        for (int32_t a = 0; a < nf; a++) {
            w->K[(size_t)a * m + nf + g] = -c->sgn * c->row[F[a]];
            w->K[(size_t)(nf + g) * m + a] = c->sgn * c->row[F[a]];
        }
    }
    return nf;
}

/* Multipliers of the active set at w->xp must have the right signs, and
 * every constraint must hold at xp. */
static int polish_valid(qp_ws *w, const nq_qp *p, const int32_t *G, int32_t ng, const double *u)
{
    int32_t n = w->n;
    double gs = 1.0, xmax = 0.0;
    for (int32_t i = 0; i < n; i++)
        xmax = fmax(xmax, fabs(w->xp[i]));
    for (int32_t i = 0; i < n; i++) { /* gradient minus general-row multipliers */
        double g = p->q ? p->q[i] : 0.0;
        for (int32_t j = 0; p->P && j < n; j++)
            g += p->P[(size_t)i * n + j] * w->xp[j];
        gs = fmax(gs, fabs(g));
        for (int32_t k = 0; k < ng; k++)
            g -= u[k] * con_coef(&w->c[G[k]], i);
        w->dx[i] = g;
    }
    for (int32_t k = 0; k < ng; k++)
        if (!w->c[G[k]].eq && u[k] < -1e-9 * gs)
            return 0;
    for (int32_t k = 0; k < w->q; k++) { /* bound multipliers: sgn * gradient */
        const qp_con *c = &w->c[w->act[k]];
        if (!c->row && !c->eq && c->sgn * w->dx[c->var] < -1e-9 * gs)
            return 0;
    }
    for (int32_t j = 0; j < w->mc; j++) {
        double s = nq__qp_con_dot(w, j, w->xp) - w->c[j].b;
        double t = w->tol * (1.0 + fabs(w->c[j].b) + w->c[j].nrm * xmax);
        if (s < -t || (w->c[j].eq && s > t))
            return 0;
    }
    return 1;
}

/* Solve the optimality conditions on w's active set with the true P:
 * 1 and the point in w->xp when it is optimal, else 0. */
static int polish(qp_ws *w, const nq_qp *p)
{
    int32_t *F = w->piv + w->n + 1, *G = F + w->n + 1, ng;
    int32_t nf = polish_system(w, p, F, G, &ng);
    if (nf < 0)
        return 0; /* out of memory: keep the unpolished point */
    int32_t m = nf + ng;
    int ok = m == 0 || lu_solve(w->K, m, w->piv2, w->rhs) == 0;
    for (int32_t a = 0; ok && a < nf; a++)
        w->xp[F[a]] = w->rhs[a];
    ok = ok && polish_valid(w, p, G, ng, w->rhs + nf);
    free(w->K);
    w->K = NULL;
    return ok;
}

static double inf_norm(const double *v, int32_t n)
{
    return row_max(v, n);
}

static int fail(const qp_ws *w, int rc, nq_err *err)
{
    static const char *const kinds[] = {"equality row", "inequality row", "lower bound of x",
                                        "upper bound of x", "fixed value of x"};
    if (rc == QP_CANCEL)
        return nq_err_set(err, NQ_ECANCEL, NULL, "cancelled");
    if (rc == QP_LIMIT)
        return nq_err_set(err, NQ_ELIMIT, NULL, "no optimum within %lld active-set changes",
                          (long long)w->max_iter);
    const qp_con *c = &w->c[w->bad];
    return nq_err_set(err, NQ_EINVAL, "/constraints",
                      "infeasible: the %s %d cannot be satisfied together with the others",
                      kinds[c->kind], (int)c->src);
}

/* Factor P + rho I. rho is 0 when P is comfortably definite (the diagonal
 * of its factor is a cheap guard against near-singularity), else a small
 * multiple of P's scale, raised until the factorization succeeds. */
static int factor(qp_ws *w, const nq_qp *p, double *rho)
{
    int32_t n = w->n;
    double dmax = 0.0, qmax = p->q ? inf_norm(p->q, n) : 0.0;
    for (int32_t i = 0; p->P && i < n; i++)
        dmax = fmax(dmax, p->P[(size_t)i * n + i]);
    double base = dmax > 0.0 ? dmax : fmax(qmax, 1.0);
    *rho = 0.0;
    for (int attempt = 0; attempt < 8; attempt++) {
        for (size_t k = 0; k < (size_t)n * n; k++)
            w->L[k] = p->P ? p->P[k] : 0.0;
        for (int32_t i = 0; i < n; i++)
            w->L[(size_t)i * n + i] += *rho;
        if (nq_chol(w->L, n) == NQ_OK) {
            double lmin = INFINITY;
            for (int32_t i = 0; i < n; i++)
                lmin = fmin(lmin, w->L[(size_t)i * n + i]);
            if (*rho > 0.0 || lmin * lmin >= 1e-11 * base)
                return nq__qp_inv_factor(w->L, n, w->J0);
        }
        *rho = *rho == 0.0 ? 1e-9 * base : *rho * 100.0;
    }
    return NQ_EINTERNAL;
}

static double objective(const nq_qp *p, const double *x)
{
    double f = p->q ? nq_dot(p->q, x, p->n) : 0.0;
    return p->P ? f + 0.5 * nq_quad(p->P, x, x, p->n) : f;
}

/* Proximal point iterations x+ = argmin f(x) + rho/2 |x - x_c|^2 for a
 * semidefinite P, each polished; stops at the first polished optimum, or
 * when the iterates stop moving or f stops decreasing (the optimum is not
 * unique and rounding moves x within the optimal set). Two equal
 * non-vanishing steps in a row mean f decreases along a ray: unbounded. */
static int prox_loop(qp_ws *w, const nq_qp *p, double rho, nq_err *err)
{
    int32_t n = w->n;
    double fprev = INFINITY;
    memset(w->xc, 0, (size_t)n * sizeof *w->xc);
    memset(w->dx0, 0, (size_t)n * sizeof *w->dx0);
    for (int outer = 0; outer < 200; outer++) {
        for (int32_t i = 0; i < n; i++)
            w->a[i] = (p->q ? p->q[i] : 0.0) - rho * w->xc[i];
        int rc = nq__qp_dual(w, w->a);
        if (rc)
            return fail(w, rc, err);
        if (polish(w, p)) {
            memcpy(w->x, w->xp, (size_t)n * sizeof *w->x);
            return NQ_OK;
        }
        double step = 0.0, same = 0.0, xmax = inf_norm(w->x, n), f = objective(p, w->x);
        for (int32_t i = 0; i < n; i++) {
            w->dx[i] = w->x[i] - w->xc[i];
            step = fmax(step, fabs(w->dx[i]));
            same = fmax(same, fabs(w->dx[i] - w->dx0[i]));
        }
        if (step <= 1e-13 * (1.0 + xmax) || (outer > 0 && f >= fprev - 1e-15 * (1.0 + fabs(f))))
            return NQ_OK;
        if (outer > 0 && same <= 1e-6 * step && step > 1e-6 * (1.0 + xmax))
            return nq_err_set(err, NQ_ERANGE, NULL,
                              "unbounded: the objective decreases without "
                              "limit along a feasible ray");
        fprev = f;
        memcpy(w->dx0, w->dx, (size_t)n * sizeof *w->dx0);
        memcpy(w->xc, w->x, (size_t)n * sizeof *w->xc);
    }
    return NQ_OK; /* still moving by tiny steps: the last iterate is feasible */
}

static int solve_ws(qp_ws *w, const nq_qp *p, nq_err *err)
{
    double rho;
    if (factor(w, p, &rho))
        return nq_err_set(err, NQ_EINTERNAL, NULL, "no Cholesky factor of P + rho I");
    if (rho > 0.0)
        return prox_loop(w, p, rho, err);
    int rc = nq__qp_dual(w, p->q ? p->q : memset(w->a, 0, (size_t)w->n * sizeof *w->a));
    if (rc)
        return fail(w, rc, err);
    if (polish(w, p))
        memcpy(w->x, w->xp, (size_t)w->n * sizeof *w->x);
    return NQ_OK;
}

int nq_qp_solve(const nq_qp *p, const nq_qp_opts *opts, double *x, double *obj, int64_t *iterations,
                nq_err *err)
{
    nq_qp_opts o;
    if (opts)
        o = *opts;
    else
        nq_qp_opts_default(&o);
    if (!x)
        return nq_err_set(err, NQ_EINVAL, "/x", "no output array");
    int rc = check_input(p, err);
    if (rc)
        return rc;
    qp_ws w;
    if (ws_alloc(&w, p))
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    w.tol = o.tol > 0.0 && isfinite(o.tol) ? o.tol : 1e-12;
    w.cancel = o.cancel;
    w.max_iter = o.max_iter > 0 ? o.max_iter : 50 * ((int64_t)p->n + p->m_eq + p->m_in) + 1000;
    rc = build_table(&w, p, err);
    if (!rc)
        rc = solve_ws(&w, p, err);
    if (!rc) {
        int32_t n = p->n;
        double f = objective(p, w.x);
        if (!isfinite(f) || !isfinite(inf_norm(w.x, n)))
            rc = nq_err_set(err, NQ_ERANGE, NULL, "the solution is not finite");
        memcpy(x, w.x, (size_t)n * sizeof *x);
        if (obj)
            *obj = f;
    }
    if (iterations)
        *iterations = w.iters;
    ws_free(&w);
    return rc;
}
