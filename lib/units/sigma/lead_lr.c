/* lead_lr.c - L2-regularized logistic regression with an unpenalized
 * intercept:  min 0.5 |w|^2 + C sum_i log(1 + exp(-s_i (w.x_i + b))).
 *
 * liblinear's L2R_LR (trust-region Newton) penalizes its bias weight like
 * any other, so it runs with a bias feature of value B = NQ_LEADS_LR_BIAS:
 * the intercept b = B w_B costs only 0.5 (b / B)^2. Exact Newton steps on
 * the true objective (dense Hessian, Cholesky, backtracking) then remove
 * that small perturbation; they converge in a handful of steps from
 * liblinear's point. Above NEWTON_MAX_DIM unknowns the dense Hessian is
 * too costly and the liblinear point is kept (its objective is still the
 * unpenalized one recomputed in double). */
#include <linear.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lead_internal.h"
#include "nqba/linalg.h"

#define NEWTON_MAX_DIM 1500
#define NEWTON_MAX_STEPS 30

/* liblinear reports progress through a process-wide print function; it
 * is set to this one (the same value every time) before each training. */
static void quiet(const char *s) { (void)s; }

double nq__lead_sigmoid(double z)
{
    if (z >= 0)
        return 1.0 / (1.0 + exp(-z));
    double e = exp(z);
    return e / (1.0 + e);
}

/* log(1 + exp(z)) without overflow. */
static double softplus(double z) { return z > 0 ? z + log1p(exp(-z)) : log1p(exp(z)); }

/* Sparse training rows: the standardized numerics and the one-hot levels
 * (1-based liblinear indices), then the bias node, then the terminator. */
typedef struct rows {
    struct feature_node *nodes;
    struct feature_node **x;
    double *y;  /* +1 / -1 */
    int32_t n, d;
} rows;

static void rows_free(rows *r)
{
    free(r->nodes);
    free(r->x);
    free(r->y);
}

static int rows_build(const nq_leads_schema *s, const double *v, const uint8_t *y, int32_t n,
                      rows *r, nq_err *err)
{
    size_t per = (size_t)s->n_cols + 2;
    *r = (rows){.n = n, .d = s->n_features};
    r->nodes = malloc((size_t)n * per * sizeof *r->nodes);
    r->x = malloc(((size_t)n + 1) * sizeof *r->x);
    r->y = malloc(((size_t)n + 1) * sizeof *r->y);
    if (!r->nodes || !r->x || !r->y) {
        rows_free(r);
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    }
    for (int32_t i = 0; i < n; i++) {
        struct feature_node *p = r->x[i] = r->nodes + (size_t)i * per;
        const double *row = v + (size_t)i * s->n_cols;
        for (int32_t c = 0; c < s->n_cols; c++) {
            const nq_leads_column *k = &s->cols[c];
            if (k->kind == NQ_LEADS_NUMERIC) {
                double z = isnan(row[c]) ? 0.0 : (row[c] - k->mean) / k->std;
                if (z != 0.0)
                    *p++ = (struct feature_node){.index = k->first + 1, .value = z};
            } else if (row[c] >= 0)
                *p++ = (struct feature_node){.index = k->first + (int)row[c] + 1, .value = 1.0};
        }
        *p++ = (struct feature_node){.index = s->n_features + 1, .value = NQ_LEADS_LR_BIAS};
        *p = (struct feature_node){.index = -1, .value = 0.0};
        r->y[i] = y[i] ? 1.0 : -1.0;
    }
    return NQ_OK;
}

static int run_liblinear(const rows *r, const nq_leads_train_opts *o, double *w, nq_err *err)
{
    struct problem prob = {.l = r->n, .n = r->d + 1, .y = r->y, .x = r->x, .bias = NQ_LEADS_LR_BIAS};
    struct parameter par = {.solver_type = L2R_LR, .eps = o->eps, .C = o->C, .p = 0.1};
    const char *bad = check_parameter(&prob, &par);
    if (bad)
        return nq_err_set(err, NQ_EINVAL, "/C", "liblinear: %s", bad);
    set_print_string_function(quiet);
    struct model *lm = train(&prob, &par);
    if (!lm || lm->nr_class != 2 || lm->nr_feature != r->d) {
        if (lm)
            free_and_destroy_model(&lm);
        return nq_err_set(err, NQ_EINTERNAL, NULL, "liblinear did not return a binary model");
    }
    /* liblinear's weights score its first label; make them score +1. */
    double sign = lm->label[0] == 1 ? 1.0 : -1.0;
    for (int32_t j = 0; j <= r->d; j++)
        w[j] = sign * lm->w[j];
    w[r->d] *= NQ_LEADS_LR_BIAS;
    free_and_destroy_model(&lm);
    return NQ_OK;
}

/* Margin of row i under (w, b = w[d]), skipping the bias node. */
static double margin(const rows *r, int32_t i, const double *w)
{
    double z = w[r->d];
    for (const struct feature_node *p = r->x[i]; p->index > 0 && p->index <= r->d; p++)
        z += w[p->index - 1] * p->value;
    return z;
}

static double objective(const rows *r, const double *w, double C)
{
    double reg = 0.0, loss = 0.0;
    for (int32_t j = 0; j < r->d; j++)
        reg += w[j] * w[j];
    for (int32_t i = 0; i < r->n; i++)
        loss += softplus(-r->y[i] * margin(r, i, w));
    return 0.5 * reg + C * loss;
}

/* Gradient g and Hessian H (dim d + 1, intercept last, unpenalized). */
static void grad_hess(const rows *r, const double *w, double C, double *g, double *H)
{
    int32_t m = r->d + 1;
    memset(H, 0, (size_t)m * m * sizeof *H);
    for (int32_t j = 0; j < m; j++) {
        g[j] = j < r->d ? w[j] : 0.0;
        H[(size_t)j * m + j] = j < r->d ? 1.0 : 0.0;
    }
    for (int32_t i = 0; i < r->n; i++) {
        double p = nq__lead_sigmoid(margin(r, i, w)), yi = r->y[i] > 0 ? 1.0 : 0.0;
        double gi = C * (p - yi), hi = C * p * (1.0 - p);
        const struct feature_node *x = r->x[i];
        int32_t nnz = 0;
        while (x[nnz].index > 0 && x[nnz].index <= r->d)
            nnz++;
        for (int32_t a = 0; a < nnz; a++) {
            int32_t ja = x[a].index - 1;
            g[ja] += gi * x[a].value;
            for (int32_t b = 0; b <= a; b++)
                H[(size_t)ja * m + (x[b].index - 1)] += hi * x[a].value * x[b].value;
            H[(size_t)r->d * m + ja] += hi * x[a].value;
        }
        g[r->d] += gi;
        H[(size_t)r->d * m + r->d] += hi;
    }
    /* Rows in each row's node order (increasing index) fill the lower
     * triangle; mirror it. */
    for (int32_t a = 0; a < m; a++)
        for (int32_t b = 0; b < a; b++)
            H[(size_t)b * m + a] = H[(size_t)a * m + b];
}

/* Damped Newton on the exact objective from w; returns the steps taken. */
static int polish(const rows *r, double C, double *w, const nq_leads_train_opts *o, int *steps,
                  nq_err *err)
{
    int32_t m = r->d + 1;
    double *H = malloc((size_t)m * m * sizeof *H), *g = malloc((size_t)m * sizeof *g);
    double *dw = malloc((size_t)m * sizeof *dw), *wt = malloc((size_t)m * sizeof *wt);
    int rc = !H || !g || !dw || !wt ? nq_err_set(err, NQ_ENOMEM, NULL, "out of memory") : NQ_OK;
    double f = rc ? 0.0 : objective(r, w, C);
    for (*steps = 0; !rc && *steps < NEWTON_MAX_STEPS; (*steps)++) {
        grad_hess(r, w, C, g, H);
        if (nq_chol(H, m))
            break; /* cannot happen for this objective; keep the point */
        for (int32_t j = 0; j < m; j++)
            dw[j] = -g[j];
        nq_chol_solve(H, m, dw);
        double dec = -nq_dot(g, dw, m); /* Newton decrement squared */
        if (!(dec > 1e-13 * (1.0 + f)))
            break;
        double t = 1.0, ft = f;
        for (int k = 0; k < 40; k++, t *= 0.5) {
            for (int32_t j = 0; j < m; j++)
                wt[j] = w[j] + t * dw[j];
            ft = objective(r, wt, C);
            if (ft <= f - 1e-4 * t * dec)
                break;
        }
        if (!(ft < f))
            break;
        memcpy(w, wt, (size_t)m * sizeof *w);
        f = ft;
        if (nq__lead_should_stop(o, 80.0 + 2.0 * *steps))
            rc = nq_err_set(err, NQ_ECANCEL, NULL, "training cancelled");
    }
    free(H);
    free(g);
    free(dw);
    free(wt);
    return rc;
}

int nq__lead_lr_train(const nq_leads_schema *s, const double *v, const uint8_t *y, int32_t n,
                      const nq_leads_train_opts *o, nq_leads_model *m, nq_err *err)
{
    rows r;
    int rc = rows_build(s, v, y, n, &r, err);
    if (rc)
        return rc;
    double *w = calloc((size_t)s->n_features + 1, sizeof *w);
    if (!w) {
        rows_free(&r);
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    }
    if (nq__lead_should_stop(o, 0.0))
        rc = nq_err_set(err, NQ_ECANCEL, NULL, "training cancelled");
    if (!rc)
        rc = run_liblinear(&r, o, w, err);
    if (!rc && nq__lead_should_stop(o, 80.0))
        rc = nq_err_set(err, NQ_ECANCEL, NULL, "training cancelled");
    int steps = 0;
    if (!rc && s->n_features + 1 <= NEWTON_MAX_DIM)
        rc = polish(&r, o->C, w, o, &steps, err);
    if (!rc) {
        m->objective = objective(&r, w, o->C);
        m->intercept = w[s->n_features];
        m->newton_steps = steps;
        m->coef = w;
        w = NULL;
        if (!isfinite(m->objective) || !isfinite(m->intercept))
            rc = nq_err_set(err, NQ_EINTERNAL, NULL, "logistic regression diverged");
    }
    free(w);
    rows_free(&r);
    return rc;
}

double nq__lead_lr_logit(const nq_leads_model *m, const double *row, double *contrib)
{
    const nq_leads_schema *s = &m->schema;
    double z = m->intercept;
    for (int32_t c = 0; c < s->n_cols; c++) {
        const nq_leads_column *k = &s->cols[c];
        double t = 0.0;
        if (k->kind == NQ_LEADS_NUMERIC)
            t = isnan(row[c]) ? 0.0 : m->coef[k->first] * ((row[c] - k->mean) / k->std);
        else if (row[c] >= 0)
            t = m->coef[k->first + (int32_t)row[c]];
        z += t;
        if (contrib)
            contrib[c] = t;
    }
    return z;
}
