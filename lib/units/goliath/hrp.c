/* hrp.c - hierarchical risk parity as PyPortfolioOpt 1.5's HRPOpt computes
 * it:
 *   1. correlation and covariance: pandas' pairwise-complete corr() and
 *      cov() of the returns, or cov_to_corr(S) rounded to 6 decimals;
 *   2. distances sqrt(clip((1 - corr) / 2, 0, 1));
 *   3. scipy's single linkage: the minimum spanning tree grown from
 *      point 0 (ties to the lowest index), its edges stably sorted by
 *      distance, then relabelled with a union-find so that merged clusters
 *      get ids n, n+1, ... and each row lists the smaller id first;
 *   4. the leaves in pre-order of that tree (first child first);
 *   5. recursive bisection of that order by position, each half weighted
 *      by alpha = 1 - v1 / (v1 + v2), v the inverse-variance portfolio's
 *      variance within the half. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "goliath_internal.h"

typedef struct hrp_work {
    int32_t n;
    double *cov;  /* n x n */
    double *dist; /* n x n, upper triangle used */
    double *zd;   /* n-1 merge distances */
    int32_t *za, *zb; /* n-1 merged ids, za < zb after relabelling */
    int32_t *order;   /* n leaves in quasi-diagonal order */
    int32_t *tmp;     /* 4n scratch */
    double *dtmp;     /* 2n scratch */
} hrp_work;

static void work_free(hrp_work *h)
{
    free(h->cov);
    free(h->dist);
    free(h->zd);
    free(h->za);
    free(h->zb);
    free(h->order);
    free(h->tmp);
    free(h->dtmp);
}

static int work_alloc(hrp_work *h, int32_t n)
{
    size_t nn = (size_t)n * (size_t)n;
    *h = (hrp_work){ .n = n };
    h->cov = malloc(nn * sizeof *h->cov);
    h->dist = malloc(nn * sizeof *h->dist);
    h->zd = malloc((size_t)n * sizeof *h->zd);
    h->za = malloc((size_t)n * sizeof *h->za);
    h->zb = malloc((size_t)n * sizeof *h->zb);
    h->order = malloc((size_t)n * sizeof *h->order);
    h->tmp = malloc(4 * (size_t)n * sizeof *h->tmp);
    h->dtmp = malloc(2 * (size_t)n * sizeof *h->dtmp);
    if (!h->cov || !h->dist || !h->zd || !h->za || !h->zb || !h->order || !h->tmp || !h->dtmp) {
        work_free(h);
        return NQ_ENOMEM;
    }
    return NQ_OK;
}

static double corr_distance(double c)
{
    double v = (1.0 - c) / 2.0;
    v = v < 0.0 ? 0.0 : v > 1.0 ? 1.0 : v;
    return sqrt(v);
}

/* Step 1-2 from returns (per period; the weights do not depend on scale). */
static int from_returns(hrp_work *h, const nq_returns *r, nq_err *err)
{
    int32_t n = h->n;
    for (int32_t i = 0; i < n; i++)
        for (int32_t j = 0; j <= i; j++) {
            double cv, cr;
            int32_t nobs = nq__pair_moments(r, i, j, &cv, &cr);
            if (nobs < 2 || !isfinite(cv) || !isfinite(cr))
                return nq_err_set(err, NQ_EINVAL, "/returns",
                                  "assets %d and %d: no correlation (fewer than 2 common "
                                  "returns, or a constant series)", (int)j, (int)i);
            h->cov[(size_t)i * n + j] = h->cov[(size_t)j * n + i] = cv;
            h->dist[(size_t)i * n + j] = h->dist[(size_t)j * n + i] = corr_distance(cr);
        }
    return NQ_OK;
}

/* Step 1-2 from a covariance: numpy's Dinv (cov Dinv) and round(6), which
 * is rint(x * 1e6) / 1e6. */
static int from_cov(hrp_work *h, const double *S, nq_err *err)
{
    int32_t n = h->n;
    double *dinv = h->dtmp;
    for (int32_t i = 0; i < n; i++) {
        double v = S[(size_t)i * n + i];
        if (!isfinite(v) || !(v > 0.0))
            return nq_err_set(err, NQ_EINVAL, "/S", "asset %d: variance is not positive",
                              (int)i);
        dinv[i] = 1.0 / sqrt(v);
    }
    for (int32_t i = 0; i < n; i++)
        for (int32_t j = 0; j < n; j++) {
            double c = S[(size_t)i * n + j];
            if (!isfinite(c))
                return nq_err_set(err, NQ_EINVAL, "/S", "entry %d,%d is not finite", (int)i,
                                  (int)j);
            h->cov[(size_t)i * n + j] = c;
            double corr = rint(dinv[i] * (c * dinv[j]) * 1e6) / 1e6;
            h->dist[(size_t)i * n + j] = corr_distance(corr);
        }
    return NQ_OK;
}

static double dist_at(const hrp_work *h, int32_t a, int32_t b)
{
    return a < b ? h->dist[(size_t)a * h->n + b] : h->dist[(size_t)b * h->n + a];
}

/* Step 3a: scipy's mst_single_linkage before sorting. */
static void mst(hrp_work *h)
{
    int32_t n = h->n, x = 0;
    int32_t *merged = h->tmp;
    double *D = h->dtmp;
    for (int32_t i = 0; i < n; i++) {
        merged[i] = 0;
        D[i] = INFINITY;
    }
    for (int32_t k = 0; k < n - 1; k++) {
        double best = INFINITY;
        int32_t y = -1;
        merged[x] = 1;
        for (int32_t i = 0; i < n; i++) {
            if (merged[i])
                continue;
            double d = dist_at(h, x, i);
            if (D[i] > d)
                D[i] = d;
            if (y < 0 || D[i] < best) {
                y = i;
                best = D[i];
            }
        }
        h->za[k] = x;
        h->zb[k] = y;
        h->zd[k] = best;
        x = y;
    }
}

/* Step 3b: a stable sort of the edges by distance (numpy's mergesort). */
static void sort_edges(hrp_work *h)
{
    int32_t m = h->n - 1;
    for (int32_t k = 1; k < m; k++) { /* insertion sort: stable, m <= 999 */
        double d = h->zd[k];
        int32_t a = h->za[k], b = h->zb[k], j = k - 1;
        while (j >= 0 && h->zd[j] > d) {
            h->zd[j + 1] = h->zd[j];
            h->za[j + 1] = h->za[j];
            h->zb[j + 1] = h->zb[j];
            j--;
        }
        h->zd[j + 1] = d;
        h->za[j + 1] = a;
        h->zb[j + 1] = b;
    }
}

static int32_t uf_find(int32_t *parent, int32_t x)
{
    int32_t root = x;
    while (parent[root] != root)
        root = parent[root];
    while (parent[x] != root) {
        int32_t next = parent[x];
        parent[x] = root;
        x = next;
    }
    return root;
}

/* Step 3c: scipy's label(): each edge joins the current clusters of its
 * two points, the new cluster gets the next id. */
static void relabel(hrp_work *h)
{
    int32_t n = h->n, *parent = h->tmp;
    for (int32_t i = 0; i < 2 * n - 1; i++)
        parent[i] = i;
    for (int32_t k = 0; k < n - 1; k++) {
        int32_t rx = uf_find(parent, h->za[k]), ry = uf_find(parent, h->zb[k]);
        h->za[k] = rx < ry ? rx : ry;
        h->zb[k] = rx < ry ? ry : rx;
        parent[rx] = parent[ry] = n + k;
    }
}

/* Step 4: pre-order leaves of the tree, first child (za) first. */
static void quasi_diag(hrp_work *h)
{
    int32_t n = h->n, *stack = h->tmp, top = 0, out = 0;
    stack[top++] = 2 * n - 2; /* the root */
    while (top > 0) {
        int32_t id = stack[--top];
        if (id < n) {
            h->order[out++] = id;
            continue;
        }
        stack[top++] = h->zb[id - n];
        stack[top++] = h->za[id - n];
    }
}

/* Variance of the inverse-variance portfolio of the assets order[lo..hi). */
static double cluster_var(const hrp_work *h, int32_t lo, int32_t hi)
{
    const int32_t *a = h->order;
    double *w = h->dtmp, sum = 0.0, var = 0.0;
    for (int32_t k = lo; k < hi; k++) {
        w[k - lo] = 1.0 / h->cov[(size_t)a[k] * h->n + a[k]];
        sum += w[k - lo];
    }
    for (int32_t k = lo; k < hi; k++)
        w[k - lo] /= sum;
    for (int32_t j = lo; j < hi; j++) {
        double s = 0.0;
        for (int32_t k = lo; k < hi; k++)
            s += w[k - lo] * h->cov[(size_t)a[k] * h->n + a[j]];
        var += s * w[j - lo];
    }
    return var;
}

/* Step 5, breadth or depth first alike: each weight gets its ancestors'
 * factors in the same top-down order. */
static void bisect(const hrp_work *h, int32_t lo, int32_t hi, double *w)
{
    if (hi - lo < 2)
        return;
    int32_t mid = lo + (hi - lo) / 2;
    double v1 = cluster_var(h, lo, mid), v2 = cluster_var(h, mid, hi);
    double alpha = 1.0 - v1 / (v1 + v2);
    for (int32_t k = lo; k < mid; k++)
        w[h->order[k]] *= alpha;
    for (int32_t k = mid; k < hi; k++)
        w[h->order[k]] *= 1.0 - alpha;
    bisect(h, lo, mid, w);
    bisect(h, mid, hi, w);
}

static int hrp_inputs(const nq_pf_spec *s, double *w, nq_err *err)
{
    if (!s || !w)
        return nq_err_set(err, NQ_EINVAL, "/objective", "no problem or no output");
    if (s->n < 1 || s->n > NQ_PF_MAX_ASSETS)
        return nq_err_set(err, NQ_EINVAL, "/n", "must be in 1..%d", NQ_PF_MAX_ASSETS);
    const nq_returns *r = s->returns;
    if (r) {
        if (!r->r || r->n != s->n || r->t < 2 || r->t > NQ_PF_MAX_ROWS ||
            (int64_t)r->n * r->t > NQ_PF_MAX_CELLS)
            return nq_err_set(err, NQ_EINVAL, "/returns",
                              "need at least 2 rows of returns for the %d assets", (int)s->n);
    } else if (!s->S) {
        return nq_err_set(err, NQ_EINVAL, "/S", "hrp needs a covariance or returns");
    }
    return NQ_OK;
}

int nq__pf_hrp(const nq_pf_spec *s, double *w, nq_err *err)
{
    int rc = hrp_inputs(s, w, err);
    if (rc)
        return rc;
    int32_t n = s->n;
    hrp_work h;
    if (work_alloc(&h, n))
        return nq_err_set(err, NQ_ENOMEM, "/objective", "out of memory for hrp");
    rc = s->returns ? from_returns(&h, s->returns, err) : from_cov(&h, s->S, err);
    for (int32_t i = 0; rc == NQ_OK && i < n; i++)
        if (!(h.cov[(size_t)i * n + i] > 0.0))
            rc = nq_err_set(err, NQ_EINVAL, s->returns ? "/returns" : "/S",
                            "asset %d: variance is not positive", (int)i);
    if (rc == NQ_OK) {
        if (n > 1) {
            mst(&h);
            sort_edges(&h);
            relabel(&h);
            quasi_diag(&h);
        } else {
            h.order[0] = 0;
        }
        for (int32_t i = 0; i < n; i++)
            w[i] = 1.0;
        bisect(&h, 0, n, w);
        for (int32_t i = 0; rc == NQ_OK && i < n; i++)
            if (!isfinite(w[i]))
                rc = nq_err_set(err, NQ_ERANGE, "/S", "hrp weights are not finite");
    }
    work_free(&h);
    return rc;
}
