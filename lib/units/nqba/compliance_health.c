/* compliance_health.c - business health: three financial ratios and four
 * operational figures, each mapped to a 0..100 sub-score by a piecewise
 * linear curve through documented points (docs/api/assessment.md). These
 * are reported beside the compliance scores and never mixed into them: a
 * profitable company is not thereby a compliant one. */
#include <math.h>
#include <stddef.h>

#include "compliance_internal.h"

typedef struct point {
    double x, y;
} point;

/* Linear between the points (x increasing), flat beyond the ends. */
static double curve(const point *p, size_t n, double x)
{
    if (isnan(x))
        return NAN;
    if (x <= p[0].x)
        return p[0].y;
    for (size_t i = 1; i < n; i++)
        if (x <= p[i].x)
            return p[i - 1].y + (x - p[i - 1].x) / (p[i].x - p[i - 1].x) * (p[i].y - p[i - 1].y);
    return p[n - 1].y;
}

#define CURVE(pts, x) curve(pts, sizeof pts / sizeof pts[0], x)

/* net margin: -10 % or less scores 0, 20 % or more 100 */
static const point MARGIN[] = {{-0.10, 0}, {0.20, 100}};
/* debt ratio (liabilities / assets): 30 % or less 100, 80 % or more 0 */
static const point DEBT[] = {{0.30, 100}, {0.80, 0}};
/* current ratio: below 0.5 nothing, 1.5..3 best, idle cash above 3 costs a little */
static const point CURRENT[] = {{0.5, 0}, {1.5, 100}, {3.0, 100}, {5.0, 80}};
/* uptime: 95 % or less 0, 99.9 % or more 100 */
static const point UPTIME[] = {{95.0, 0}, {99.9, 100}};
/* on-time delivery: the percentage itself */
static const point DELIVERY[] = {{0, 0}, {100, 100}};
/* annual staff turnover: 10 % or less 100, 40 % or more 0 */
static const point TURNOVER[] = {{10, 100}, {40, 0}};
/* annual customer churn: 5 % or less 100, 50 % or more 0 */
static const point CHURN[] = {{5, 100}, {50, 0}};

void nq_grc_health_in_init(nq_grc_health_in *h)
{
    *h = (nq_grc_health_in){.revenue = NAN,
                            .net_income = NAN,
                            .total_assets = NAN,
                            .total_liabilities = NAN,
                            .current_assets = NAN,
                            .current_liabilities = NAN,
                            .uptime_pct = NAN,
                            .on_time_delivery_pct = NAN,
                            .employee_turnover_pct = NAN,
                            .customer_churn_pct = NAN};
}

static double mean_of(const double *v, int n)
{
    double s = 0;
    int k = 0;
    for (int i = 0; i < n; i++)
        if (!isnan(v[i]))
            s += v[i], k++;
    return k ? s / k : NAN;
}

static int check(const nq_grc_health_in *h, nq_err *err)
{
    const struct {
        double v;
        const char *where;
        double lo, hi;
    } f[] = {{h->revenue, "/health/revenue", 0, 1e15},
             {h->net_income, "/health/net_income", -1e15, 1e15},
             {h->total_assets, "/health/total_assets", 0, 1e15},
             {h->total_liabilities, "/health/total_liabilities", 0, 1e15},
             {h->current_assets, "/health/current_assets", 0, 1e15},
             {h->current_liabilities, "/health/current_liabilities", 0, 1e15},
             {h->uptime_pct, "/health/uptime_pct", 0, 100},
             {h->on_time_delivery_pct, "/health/on_time_delivery_pct", 0, 100},
             {h->employee_turnover_pct, "/health/employee_turnover_pct", 0, 100},
             {h->customer_churn_pct, "/health/customer_churn_pct", 0, 100}};
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
        if (!isnan(f[i].v) && !(f[i].v >= f[i].lo && f[i].v <= f[i].hi))
            return nq_err_set(err, NQ_EINVAL, f[i].where, "must be within [%g, %g]", f[i].lo,
                              f[i].hi);
    /* A ratio needs its denominator as soon as its numerator is given. */
    if (!isnan(h->net_income) && !(h->revenue > 0))
        return nq_err_set(err, NQ_EINVAL, "/health/revenue", "a net margin needs revenue > 0");
    if (!isnan(h->total_liabilities) && !(h->total_assets > 0))
        return nq_err_set(err, NQ_EINVAL, "/health/total_assets",
                          "a debt ratio needs total assets > 0");
    if (!isnan(h->current_assets) && !(h->current_liabilities > 0))
        return nq_err_set(err, NQ_EINVAL, "/health/current_liabilities",
                          "a current ratio needs current liabilities > 0");
    return NQ_OK;
}

int nq_grc_health_eval(const nq_grc_health_in *h, nq_grc_health *out, nq_err *err)
{
    int rc = check(h, err);
    if (rc)
        return rc;
    nq_grc_health r;
    r.net_margin = isnan(h->net_income) ? NAN : h->net_income / h->revenue;
    r.debt_ratio = isnan(h->total_liabilities) ? NAN : h->total_liabilities / h->total_assets;
    r.current_ratio = isnan(h->current_assets) ? NAN : h->current_assets / h->current_liabilities;
    r.profitability = CURVE(MARGIN, r.net_margin);
    r.leverage = CURVE(DEBT, r.debt_ratio);
    r.liquidity = CURVE(CURRENT, r.current_ratio);
    r.availability = CURVE(UPTIME, h->uptime_pct);
    r.delivery = CURVE(DELIVERY, h->on_time_delivery_pct);
    r.retention = CURVE(TURNOVER, h->employee_turnover_pct);
    r.churn = CURVE(CHURN, h->customer_churn_pct);
    double fin[] = {r.profitability, r.leverage, r.liquidity};
    double ops[] = {r.availability, r.delivery, r.retention, r.churn};
    r.financial = mean_of(fin, 3);
    r.operational = mean_of(ops, 4);
    *out = r;
    return NQ_OK;
}
