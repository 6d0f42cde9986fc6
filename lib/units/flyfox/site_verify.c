/* site_verify.c - what is done to a schedule after GLPK: pointless
 * simultaneous flows removed, the state of charge from the dynamics, the
 * money, and the final check that every constraint holds before the
 * schedule is returned. */
#include <math.h>
#include <stdio.h>

#include "site_internal.h"

/* ---- tidying ------------------------------------------------------------------------- */

/* Charge and discharge at once: keep only the net stored energy. That
 * draws less from the site (with losses) or the same (lossless); the freed
 * power first cuts imports, then goes out as exports, and the step is left
 * alone when neither lowers the cost (negative prices) or exports would
 * break the export limit or add to the exported energy the
 * self-consumption objective minimized. */
static void tidy_battery(const nq_en_site *s, nq_en_schedule *o, int32_t t)
{
    const nq_en_battery *b = &s->battery;
    double ch = o->charge_w[t], dis = o->discharge_w[t];
    if (ch <= 0.0 || dis <= 0.0)
        return;
    double net = b->eta_charge * ch - dis / b->eta_discharge;
    double ch2 = net >= 0.0 ? fmin(ch, net / b->eta_charge) : 0.0;
    double dis2 = net < 0.0 ? fmin(dis, -net * b->eta_discharge) : 0.0;
    double freed = (ch - dis) - (ch2 - dis2);
    if (freed < 0.0)
        return;
    double cut = s->price_import[t] >= 0.0 ? fmin(freed, o->import_w[t]) : 0.0;
    double rest = freed - cut, out = 0.0;
    if (rest > 0.0 && s->objective != NQ_EN_SELF_CONSUMPTION &&
        nq__en_price_export(s, t) >= 0.0)
        out = fmin(rest, s->export_max_w - o->export_w[t]);
    if (rest - out > 1e-9)
        return;
    o->import_w[t] -= cut;
    o->export_w[t] += rest;
    o->charge_w[t] = ch2;
    o->discharge_w[t] = dis2;
}

/* Import and export at once cancel out unless importing is cheaper than
 * exporting pays. */
static void tidy_grid(const nq_en_site *s, nq_en_schedule *o, int32_t t)
{
    double m = fmin(o->import_w[t], o->export_w[t]);
    if (m <= 0.0 || s->price_import[t] < nq__en_price_export(s, t))
        return;
    o->import_w[t] -= m;
    o->export_w[t] -= m;
}

void nq__en_tidy(const nq_en_site *s, nq_en_schedule *out)
{
    for (int32_t t = 0; t < s->steps; t++) {
        if (s->battery.present)
            tidy_battery(s, out, t);
        tidy_grid(s, out, t);
    }
}

void nq__en_soc(const nq_en_site *s, nq_en_schedule *out)
{
    const nq_en_battery *b = &s->battery;
    if (!b->present)
        return;
    double e = b->soc_initial * b->capacity_wh;
    out->soc[0] = b->soc_initial;
    for (int32_t t = 0; t < s->steps; t++) {
        e += s->dt_h * (b->eta_charge * out->charge_w[t] - out->discharge_w[t] / b->eta_discharge);
        out->soc[t + 1] = e / b->capacity_wh;
    }
}

/* ---- money --------------------------------------------------------------------------- */

void nq__en_costs(const nq_en_site *s, nq_en_schedule *out)
{
    double k = s->dt_h / 1000.0, energy = 0.0, value = 0.0, peak = 0.0, pv = 0.0, used = 0.0;
    for (int32_t t = 0; t < s->steps; t++) {
        energy += k * (s->price_import[t] * out->import_w[t] -
                       nq__en_price_export(s, t) * out->export_w[t]);
        peak = fmax(peak, out->import_w[t]);
        double p = s->pv_w ? s->pv_w[t] : 0.0;
        pv += p;
        used += p - fmin(p, out->export_w[t]); /* exports count as PV first */
        for (int32_t j = 0; j < s->n_loads; j++)
            if (s->loads[j].optional)
                value += k * s->loads[j].value_eur_per_kwh * out->load_w[(size_t)j * s->steps + t];
    }
    out->energy_cost_eur = energy;
    out->peak_import_w = peak;
    out->cost_eur = energy + s->peak_charge_eur_per_kw * peak / 1000.0 - value;
    out->self_consumption = pv > 0.0 ? fmin(1.0, fmax(0.0, used / pv)) : 0.0;
}

/* ---- the check ----------------------------------------------------------------------- */

static int fail(nq_err *err, int32_t t, const char *what, double got, double want)
{
    return nq_err_set(err, NQ_EINTERNAL, NULL,
                      "schedule check failed at step %d: %s (%.12g, expected %.12g)", (int)t, what,
                      got, want);
}

static int within(double v, double lo, double hi, double tol)
{
    return isfinite(v) && v >= lo - tol && v <= hi + tol;
}

static int verify_step(const nq_en_site *s, const nq_en_schedule *o, int32_t t, nq_err *err)
{
    const nq_en_battery *b = &s->battery;
    double pv = s->pv_w ? s->pv_w[t] : 0.0;
    double lhs = pv + o->import_w[t] + o->discharge_w[t];
    double rhs = s->load_w[t] + o->charge_w[t] + o->export_w[t];
    for (int32_t j = 0; j < s->n_loads; j++)
        rhs += o->load_w[(size_t)j * s->steps + t];
    if (!(fabs(lhs - rhs) <= NQ_EN_TOL_W))
        return fail(err, t, "power balance", lhs, rhs);
    if (!within(o->import_w[t], 0.0, s->import_max_w, NQ_EN_TOL_W))
        return fail(err, t, "import within its limit", o->import_w[t], s->import_max_w);
    if (!within(o->export_w[t], 0.0, s->export_max_w, NQ_EN_TOL_W))
        return fail(err, t, "export within its limit", o->export_w[t], s->export_max_w);
    double chmax = b->present ? b->charge_max_w : 0.0, dismax = b->present ? b->discharge_max_w : 0.0;
    if (!within(o->charge_w[t], 0.0, chmax, NQ_EN_TOL_W))
        return fail(err, t, "charge within its limit", o->charge_w[t], chmax);
    if (!within(o->discharge_w[t], 0.0, dismax, NQ_EN_TOL_W))
        return fail(err, t, "discharge within its limit", o->discharge_w[t], dismax);
    if (!b->present)
        return o->soc[t + 1] == 0.0 ? 0 : fail(err, t, "no battery, no charge", o->soc[t + 1], 0);
    double cap = b->capacity_wh, e1 = o->soc[t + 1] * cap;
    double e = o->soc[t] * cap + s->dt_h * (b->eta_charge * o->charge_w[t] -
                                            o->discharge_w[t] / b->eta_discharge);
    if (!(fabs(e1 - e) <= NQ_EN_TOL_WH))
        return fail(err, t, "stored energy follows the charge and discharge", e1, e);
    if (!within(e1, b->soc_min * cap, b->soc_max * cap, NQ_EN_TOL_WH))
        return fail(err, t, "stored energy within the SOC bounds", e1, b->soc_min * cap);
    return 0;
}

static int verify_battery_ends(const nq_en_site *s, const nq_en_schedule *o, nq_err *err)
{
    const nq_en_battery *b = &s->battery;
    if (!b->present)
        return o->soc[0] == 0.0 ? 0 : fail(err, 0, "no battery, no charge", o->soc[0], 0.0);
    double cap = b->capacity_wh;
    if (!(fabs(o->soc[0] - b->soc_initial) * cap <= NQ_EN_TOL_WH))
        return fail(err, 0, "initial SOC", o->soc[0], b->soc_initial);
    double e = o->soc[s->steps] * cap;
    if (b->soc_final >= 0.0 && !(fabs(e - b->soc_final * cap) <= NQ_EN_TOL_WH))
        return fail(err, s->steps, "final stored energy", e, b->soc_final * cap);
    return 0;
}

/* One load on one day: levels, energy, one block. Steps outside an active
 * window must be 0 (checked by the caller through on[]). */
static int verify_day(const nq_en_site *s, const nq_en_schedule *o, int32_t j, int32_t lo,
                      int32_t hi, nq_err *err)
{
    const nq_en_load *l = &s->loads[j];
    const double *p = o->load_w + (size_t)j * s->steps;
    double sum = 0.0;
    int runs = 0;
    for (int32_t t = lo; t < hi; t++) {
        if (!within(p[t], 0.0, l->nominal_w, NQ_EN_TOL_W))
            return fail(err, t, "deferrable load within 0..nominal", p[t], l->nominal_w);
        if (l->on_off && p[t] != 0.0 && p[t] != l->nominal_w)
            return fail(err, t, "on/off load at 0 or nominal", p[t], l->nominal_w);
        runs += p[t] > 0.0 && (t == lo || p[t - 1] == 0.0);
        sum += p[t] * s->dt_h;
    }
    if (l->optional ? sum > l->energy_wh + NQ_EN_TOL_WH : fabs(sum - l->energy_wh) > NQ_EN_TOL_WH)
        return fail(err, lo, "deferrable load's energy for the day", sum, l->energy_wh);
    if (l->single_block && runs > 1)
        return fail(err, lo, "single block: runs in the day", runs, 1.0);
    return 0;
}

static int verify_load(const nq_en_site *s, const nq_en_schedule *o, int32_t j, nq_err *err)
{
    const double *p = o->load_w + (size_t)j * s->steps;
    int32_t next = 0; /* steps before next lie outside every active window */
    for (int32_t d = 0; d < nq__en_days(s); d++) {
        int32_t lo, hi;
        if (!nq__en_window(s, &s->loads[j], d, &lo, &hi))
            continue;
        for (int32_t t = next; t < lo; t++)
            if (p[t] != 0.0)
                return fail(err, t, "deferrable load off outside its window", p[t], 0.0);
        int rc = verify_day(s, o, j, lo, hi, err);
        if (rc)
            return rc;
        next = hi;
    }
    for (int32_t t = next; t < s->steps; t++)
        if (p[t] != 0.0)
            return fail(err, t, "deferrable load off outside its window", p[t], 0.0);
    return 0;
}

int nq__en_verify(const nq_en_site *s, const nq_en_schedule *o, nq_err *err)
{
    int rc = verify_battery_ends(s, o, err);
    for (int32_t t = 0; t < s->steps && !rc; t++)
        rc = verify_step(s, o, t, err);
    for (int32_t j = 0; j < s->n_loads && !rc; j++)
        rc = verify_load(s, o, j, err);
    if (rc)
        return rc;
    double money[] = {o->cost_eur, o->energy_cost_eur, o->peak_import_w, o->self_consumption};
    for (size_t k = 0; k < sizeof money / sizeof money[0]; k++)
        if (!isfinite(money[k]))
            return fail(err, 0, "costs are finite numbers", money[k], 0.0);
    return 0;
}
