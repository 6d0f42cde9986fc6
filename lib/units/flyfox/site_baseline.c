/* site_baseline.c - the naive schedule a site is compared with: no
 * battery, each load at nominal power from its window's start each day
 * until the day's energy is served (the last step partly), optional loads
 * served in full like the rest, and the grid taking what is left: imports
 * as needed, exports up to their limit (the rest of a PV surplus is
 * curtailed, as an unmanaged inverter would). */
#include <math.h>
#include <stdlib.h>

#include "site_internal.h"

/* Each load's naive power added into p (steps) and the optional loads'
 * value (EUR) returned. */
static double naive_loads(const nq_en_site *s, double *p)
{
    double value = 0.0;
    for (int32_t j = 0; j < s->n_loads; j++) {
        const nq_en_load *l = &s->loads[j];
        for (int32_t d = 0; d < nq__en_days(s); d++) {
            int32_t lo, hi;
            if (!nq__en_window(s, l, d, &lo, &hi))
                continue;
            double left = l->energy_wh;
            for (int32_t t = lo; t < hi && left > 0.0; t++) {
                double w = fmin(l->nominal_w, left / s->dt_h);
                p[t] += w;
                left -= w * s->dt_h;
            }
            if (l->optional)
                value += l->value_eur_per_kwh * (l->energy_wh - fmax(left, 0.0)) / 1000.0;
        }
    }
    return value;
}

int nq__en_baseline_cost(const nq_en_site *s, int strict, double *cost, nq_err *err)
{
    double *p = calloc((size_t)s->steps, sizeof *p);
    if (!p)
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    double value = naive_loads(s, p), energy = 0.0, peak = 0.0;
    for (int32_t t = 0; t < s->steps; t++) {
        double net = s->load_w[t] + p[t] - (s->pv_w ? s->pv_w[t] : 0.0);
        double imp = fmax(net, 0.0), exp = fmin(fmax(-net, 0.0), s->export_max_w);
        if (strict && imp > s->import_max_w + NQ_EN_TOL_W) {
            free(p);
            return nq_err_set(err, NQ_EINVAL, "/import_max_w",
                              "the naive schedule needs %g W of import at step %d, above the "
                              "%g W limit",
                              imp, (int)t, s->import_max_w);
        }
        energy += s->dt_h / 1000.0 * (s->price_import[t] * imp - nq__en_price_export(s, t) * exp);
        peak = fmax(peak, imp);
    }
    free(p);
    *cost = energy + s->peak_charge_eur_per_kw * peak / 1000.0 - value;
    return 0;
}

int nq_en_baseline(const nq_en_site *s, double *cost_eur, nq_err *err)
{
    if (!s || !cost_eur)
        return nq_err_set(err, NQ_EINVAL, NULL, "no site or no cost to fill");
    *cost_eur = 0.0;
    int rc = nq__en_check(s, err);
    return rc ? rc : nq__en_baseline_cost(s, 1, cost_eur, err);
}
