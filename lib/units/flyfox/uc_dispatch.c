/* uc_dispatch.c - the exact economic dispatch of one hour and the exact
 * cost of a commitment (nq_uc_evaluate).
 *
 * With lambda the system marginal cost, a unit of c > 0 makes
 * clamp((lambda - b) / 2c, pmin, pmax); a unit of c = 0 sits at pmin below
 * lambda = b, at pmax above it, anywhere in between at it. The total is a
 * nondecreasing piecewise-linear function of lambda with breakpoints at
 * b + 2c pmin and b + 2c pmax (b alone when c = 0): a binary search over
 * the sorted breakpoints finds the piece that meets the demand, and on a
 * piece the total is linear, so lambda follows in closed form. No
 * iteration tolerance is involved; what rounding leaves (1e-13 MW or so) is
 * given to a unit with room. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "uc_internal.h"

/* Every unit's breakpoints, sorted once: an hour's own are then picked
 * out in order, with no sort per dispatch. */
typedef struct bp_item {
    double v;
    int32_t unit;
} bp_item;

static int cmp_item(const void *a, const void *b)
{
    const bp_item *x = a, *y = b;
    if (x->v != y->v)
        return (x->v > y->v) - (x->v < y->v);
    return (x->unit > y->unit) - (x->unit < y->unit);
}

int nq__uc_work_init(nq__uc_work *w, const nq_uc_unit *units, int32_t n_units)
{
    memset(w, 0, sizeof *w);
    size_t n = (size_t)(n_units > 0 ? n_units : 1);
    w->idx = malloc(n * sizeof *w->idx);
    w->bp = malloc(2 * n * sizeof *w->bp);
    w->p = malloc(n * sizeof *w->p);
    w->all_v = malloc(2 * n * sizeof *w->all_v);
    w->all_unit = malloc(2 * n * sizeof *w->all_unit);
    bp_item *items = malloc(2 * n * sizeof *items);
    if (!w->idx || !w->bp || !w->p || !w->all_v || !w->all_unit || !items) {
        free(items);
        nq__uc_work_free(w);
        return NQ_ENOMEM;
    }
    int32_t m = 0;
    for (int32_t i = 0; i < n_units; i++) {
        const nq_uc_unit *x = &units[i];
        items[m++] = (bp_item){ .v = x->b + 2 * x->c * x->pmin, .unit = i };
        if (x->c > 0)
            items[m++] = (bp_item){ .v = x->b + 2 * x->c * x->pmax, .unit = i };
    }
    qsort(items, (size_t)m, sizeof *items, cmp_item);
    for (int32_t k = 0; k < m; k++) {
        w->all_v[k] = items[k].v;
        w->all_unit[k] = items[k].unit;
    }
    w->n_all = m;
    w->cap = (int32_t)n;
    free(items);
    return NQ_OK;
}

void nq__uc_work_free(nq__uc_work *w)
{
    free(w->idx);
    free(w->bp);
    free(w->p);
    free(w->all_v);
    free(w->all_unit);
    memset(w, 0, sizeof *w);
}

/* Output at lambda; at a zero-c unit's own price, upper picks pmax. */
static double unit_out(const nq_uc_unit *u, double lam, int upper)
{
    if (u->c > 0) {
        double q = (lam - u->b) / (2 * u->c);
        return q < u->pmin ? u->pmin : q > u->pmax ? u->pmax : q;
    }
    if (lam != u->b)
        return lam < u->b ? u->pmin : u->pmax;
    return upper ? u->pmax : u->pmin;
}

static double total_out(const nq_uc_unit *u, const int32_t *idx, int32_t k, double lam, int upper)
{
    double s = 0;
    for (int32_t j = 0; j < k; j++)
        s += unit_out(&u[idx[j]], lam, upper);
    return s;
}

/* lambda on the open piece (lo, hi): the units of c > 0 strictly inside
 * their range there are linear in lambda, the others constant. */
static double solve_piece(const nq_uc_unit *u, const int32_t *idx, int32_t k, double d, double lo,
                          double hi)
{
    double mid = 0.5 * (lo + hi), fixed = 0, slope = 0, shift = 0;
    for (int32_t j = 0; j < k; j++) {
        const nq_uc_unit *x = &u[idx[j]];
        double q = x->c > 0 ? (mid - x->b) / (2 * x->c) : 0;
        if (x->c > 0 && q > x->pmin && q < x->pmax) {
            slope += 1 / (2 * x->c);
            shift += x->b / (2 * x->c);
        } else {
            fixed += unit_out(x, mid, 0);
        }
    }
    double lam = slope > 0 ? (d - fixed + shift) / slope : lo;
    return lam < lo ? lo : lam > hi ? hi : lam;
}

/* The system marginal cost for demand d; bp: the units' m breakpoints,
 * sorted. */
static double find_lambda(const nq_uc_unit *u, const int32_t *idx, int32_t k, double d,
                          const double *bp, int32_t m)
{
    if (total_out(u, idx, k, bp[0], 0) >= d)
        return bp[0];
    int32_t lo = 0, hi = m - 1; /* invariant: total(bp[lo], lower side) < d */
    if (total_out(u, idx, k, bp[hi], 0) < d)
        lo = hi;
    while (hi - lo > 1) {
        int32_t mid = lo + (hi - lo) / 2;
        if (total_out(u, idx, k, bp[mid], 0) < d)
            lo = mid;
        else
            hi = mid;
    }
    if (lo == m - 1 || total_out(u, idx, k, bp[lo], 1) >= d)
        return bp[lo];
    return solve_piece(u, idx, k, d, bp[lo], bp[lo + 1]);
}

/* Give the residual r to units with room, those strictly inside first. */
static void absorb(const nq_uc_unit *u, const int32_t *idx, int32_t k, double *p, double r)
{
    for (int pass = 0; pass < 2 && r != 0; pass++)
        for (int32_t j = 0; j < k && r != 0; j++) {
            const nq_uc_unit *x = &u[idx[j]];
            if (pass == 0 && (p[j] <= x->pmin || p[j] >= x->pmax))
                continue;
            double q = p[j] + r;
            q = q < x->pmin ? x->pmin : q > x->pmax ? x->pmax : q;
            r -= q - p[j];
            p[j] = q;
        }
}

double nq__uc_dispatch(const nq_uc_unit *u, const int32_t *idx, int32_t k, double d, double *p,
                       double *lambda, const double *bp, int32_t m)
{
    if (k == 0) {
        *lambda = 0;
        return 0;
    }
    double lam = find_lambda(u, idx, k, d, bp, m), rest = d;
    /* Zero-c units priced exactly at lambda share what the others leave,
     * in index order: deterministic, and any split costs the same. */
    for (int32_t j = 0; j < k; j++) {
        const nq_uc_unit *x = &u[idx[j]];
        p[j] = x->c == 0 && x->b == lam ? x->pmin : unit_out(x, lam, 0);
        rest -= p[j];
    }
    for (int32_t j = 0; j < k && rest > 0; j++) {
        const nq_uc_unit *x = &u[idx[j]];
        if (x->c != 0 || x->b != lam)
            continue;
        double add = fmin(rest, x->pmax - x->pmin);
        p[j] += add;
        rest -= add;
    }
    double sum = 0;
    for (int32_t j = 0; j < k; j++)
        sum += p[j];
    absorb(u, idx, k, p, d - sum);
    double fuel = 0;
    for (int32_t j = 0; j < k; j++) {
        const nq_uc_unit *x = &u[idx[j]];
        fuel += x->a + p[j] * (x->b + x->c * p[j]);
    }
    *lambda = lam;
    return fuel;
}

int nq__uc_hour_status(const nq_uc_problem *pr, double cap, double minp, double d)
{
    double tol = NQ__UC_TOL * (1 + d), need = (1 + pr->reserve) * d;
    if (cap < d - tol)
        return 1;
    if (minp > d + tol)
        return 2;
    if (cap < need - NQ__UC_TOL * (1 + need))
        return 3;
    return 0;
}

double nq__uc_hour(const nq_uc_problem *pr, const unsigned char *on, int32_t t, nq__uc_work *w,
                   double *lambda, double *p_hour)
{
    int32_t k = 0, T = pr->hours;
    double cap = 0, minp = 0;
    for (int32_t i = 0; i < pr->n_units; i++)
        if (on[(size_t)i * T + t]) {
            w->idx[k++] = i;
            cap += pr->units[i].pmax;
            minp += pr->units[i].pmin;
        }
    if (nq__uc_hour_status(pr, cap, minp, pr->demand[t]))
        return INFINITY;
    int32_t m = 0;
    for (int32_t j = 0; j < w->n_all; j++)
        if (on[(size_t)w->all_unit[j] * T + t])
            w->bp[m++] = w->all_v[j];
    double fuel = nq__uc_dispatch(pr->units, w->idx, k, pr->demand[t], w->p, lambda, w->bp, m);
    if (p_hour) {
        for (int32_t i = 0; i < pr->n_units; i++)
            p_hour[i] = 0;
        for (int32_t j = 0; j < k; j++)
            p_hour[w->idx[j]] = w->p[j];
    }
    return fuel;
}

/* ---- nq_uc_evaluate ----------------------------------------------------------------- */

static int rule_error(const nq_uc_problem *p, const unsigned char *on, nq_err *err)
{
    for (int32_t i = 0; i < p->n_units; i++) {
        const nq_uc_unit *u = &p->units[i];
        int why = 0;
        int32_t t = nq__uc_row_breaks(u, on + (size_t)i * p->hours, p->hours, &why);
        if (t < 0)
            continue;
        char where[48];
        snprintf(where, sizeof where, "/on/%d/%d", (int)i, (int)t);
        return nq_err_set(err, NQ_EINVAL, where,
                          why == 1 ? "unit %d (%s) switches off at hour %d before its min_up "
                                     "of %d hours (initial status %d)"
                                   : "unit %d (%s) starts at hour %d before its min_down of %d "
                                     "hours (initial status %d)",
                          (int)i, u->name, (int)t, (int)(why == 1 ? u->min_up : u->min_down),
                          (int)u->initial_status);
    }
    return NQ_OK;
}

static int hour_error(const nq_uc_problem *p, const unsigned char *on, int32_t t, nq_err *err)
{
    double cap = 0, minp = 0, d = p->demand[t];
    for (int32_t i = 0; i < p->n_units; i++)
        if (on[(size_t)i * p->hours + t]) {
            cap += p->units[i].pmax;
            minp += p->units[i].pmin;
        }
    int st = nq__uc_hour_status(p, cap, minp, d);
    if (!st)
        return NQ_OK;
    char where[32];
    snprintf(where, sizeof where, "/demand/%d", (int)t);
    if (st == 1)
        return nq_err_set(err, NQ_EINVAL, where, "hour %d: committed %g MW, below demand %g MW",
                          (int)t, cap, d);
    if (st == 2)
        return nq_err_set(err, NQ_EINVAL, where,
                          "hour %d: committed units' pmin total %g MW, above demand %g MW", (int)t,
                          minp, d);
    return nq_err_set(err, NQ_EINVAL, where,
                      "hour %d: committed %g MW, below demand %g MW plus %g%% reserve", (int)t,
                      cap, d, 100 * p->reserve);
}

/* The answer against the model, independently of how it was computed. */
static int verify(const nq_uc_problem *p, const nq_uc_result *r, nq_err *err)
{
    int32_t T = p->hours;
    for (int32_t t = 0; t < T; t++) {
        double sum = 0;
        for (int32_t i = 0; i < p->n_units; i++) {
            const nq_uc_unit *u = &p->units[i];
            double q = r->p[(size_t)i * T + t];
            int on = r->on[(size_t)i * T + t];
            if (!isfinite(q) || (on ? q < u->pmin - 1e-9 || q > u->pmax + 1e-9 : q != 0))
                return nq_err_set(err, NQ_EINTERNAL, NULL, "unit %d hour %d: output %g MW "
                                  "outside its range", (int)i, (int)t, q);
            sum += q;
        }
        if (fabs(sum - p->demand[t]) > 1e-6 * (1 + p->demand[t]) || !isfinite(r->marginal[t]))
            return nq_err_set(err, NQ_EINTERNAL, NULL, "hour %d: %g MW dispatched for %g MW",
                              (int)t, sum, p->demand[t]);
    }
    if (!isfinite(r->total_cost))
        return nq_err_set(err, NQ_EINTERNAL, NULL, "the cost is not a number");
    return NQ_OK;
}

/* Dispatch every hour and price the start-ups; the rules already hold. */
static int cost_of(const nq_uc_problem *p, const unsigned char *on, nq_uc_result *out, nq_err *err)
{
    nq__uc_work w;
    if (nq__uc_work_init(&w, p->units, p->n_units))
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    int32_t T = p->hours;
    double *col = malloc((size_t)p->n_units * sizeof *col);
    int rc = col ? NQ_OK : nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    memcpy(out->on, on, (size_t)p->n_units * T);
    for (int32_t t = 0; !rc && t < T; t++) {
        double f = nq__uc_hour(p, on, t, &w, &out->marginal[t], col);
        if (!isfinite(f)) {
            rc = hour_error(p, on, t, err);
            break;
        }
        out->fuel_cost += f;
        for (int32_t i = 0; i < p->n_units; i++)
            out->p[(size_t)i * T + t] = col[i];
    }
    for (int32_t i = 0; !rc && i < p->n_units; i++) {
        int32_t s = 0;
        out->startup_cost += nq__uc_row_startup(&p->units[i], on + (size_t)i * T, T, &s);
        out->startups += s;
    }
    out->total_cost = out->fuel_cost + out->startup_cost;
    free(col);
    nq__uc_work_free(&w);
    return rc ? rc : verify(p, out, err);
}

int nq_uc_evaluate(const nq_uc_problem *p, const unsigned char *on, nq_uc_result *out,
                   nq_err *err)
{
    if (!out)
        return nq_err_set(err, NQ_EINVAL, NULL, "no result");
    memset(out, 0, sizeof *out);
    int rc = nq_uc_check(p, err);
    if (rc)
        return rc;
    if (!on)
        return nq_err_set(err, NQ_EINVAL, "/on", "no commitment");
    if ((rc = rule_error(p, on, err)))
        return rc;
    for (int32_t t = 0; t < p->hours; t++)
        if ((rc = hour_error(p, on, t, err)))
            return rc;
    if ((rc = nq__uc_result_alloc(out, p->n_units, p->hours, err)))
        return rc;
    rc = cost_of(p, on, out, err);
    if (rc) {
        nq_uc_result_free(out);
        return rc;
    }
    snprintf(out->method, sizeof out->method, "given commitment, exact dispatch");
    out->iterations = 1;
    return NQ_OK;
}
