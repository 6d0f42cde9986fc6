/* site_check.c - the site's fields, one by one, and the infeasibilities
 * that show without solving: a final SOC out of reach, a load that cannot
 * fit its window, a step whose load or PV surplus the grid cannot take.
 * Each error names the field as a request pointer ("/battery/soc_min",
 * "/loads/2/energy_wh", "/load/5") and says why with the numbers. */
#include <math.h>
#include <stdio.h>

#include "site_internal.h"

/* Prices, powers and energies beyond these are input mistakes, and keeping
 * them bounded keeps every product in the model finite. */
#define EN_MAX_POWER 1e12
#define EN_MAX_PRICE 1e6

int32_t nq__en_spd(const nq_en_site *s)
{
    return s->steps_per_day > 0 ? s->steps_per_day : (int32_t)lround(24.0 / s->dt_h);
}

int32_t nq__en_days(const nq_en_site *s)
{
    int32_t spd = nq__en_spd(s);
    return (s->steps + spd - 1) / spd;
}

int nq__en_window(const nq_en_site *s, const nq_en_load *l, int32_t d, int32_t *a, int32_t *b)
{
    int32_t spd = nq__en_spd(s);
    int32_t end = l->window_end > 0 ? l->window_end : spd;
    *a = d * spd + l->window_start;
    *b = d * spd + end;
    return *b <= s->steps;
}

double nq__en_price_export(const nq_en_site *s, int32_t t)
{
    if (!s->price_export || s->objective == NQ_EN_COST)
        return 0.0;
    return s->price_export[t];
}

int nq__en_needs_milp(const nq_en_site *s)
{
    for (int32_t j = 0; j < s->n_loads; j++)
        if (s->loads[j].on_off)
            return 1;
    return 0;
}

int32_t nq__en_on_steps(const nq_en_site *s, const nq_en_load *l)
{
    return (int32_t)lround(l->energy_wh / (l->nominal_w * s->dt_h));
}

/* ---- arrays and scalars ----------------------------------------------------------- */

static int check_array(const double *v, int32_t n, const char *name, int nonneg, double max,
                       nq_err *err)
{
    char where[64];
    for (int32_t t = 0; t < n; t++) {
        if (isfinite(v[t]) && (!nonneg || v[t] >= 0.0) && fabs(v[t]) <= max)
            continue;
        snprintf(where, sizeof where, "/%s/%d", name, (int)t);
        if (!isfinite(v[t]))
            return nq_err_set(err, NQ_EINVAL, where, "must be a finite number");
        if (nonneg && v[t] < 0.0)
            return nq_err_set(err, NQ_EINVAL, where, "must be >= 0 (got %g)", v[t]);
        return nq_err_set(err, NQ_EINVAL, where, "must be at most %g in magnitude (got %g)", max,
                          v[t]);
    }
    return 0;
}

static int bad_scalar(double v, double lo, double hi, const char *where, nq_err *err)
{
    if (isfinite(v) && v >= lo && v <= hi)
        return 0;
    return nq_err_set(err, NQ_EINVAL, where, "must be a number in [%g, %g] (got %g)", lo, hi, v);
}

static int check_horizon(const nq_en_site *s, nq_err *err)
{
    if (s->steps < 1 || s->steps > NQ_EN_MAX_STEPS)
        return nq_err_set(err, NQ_EINVAL, "/steps", "must be in 1..%d (got %d)", NQ_EN_MAX_STEPS,
                          (int)s->steps);
    if (!isfinite(s->dt_h) || s->dt_h <= 0.0 || s->dt_h > 24.0)
        return nq_err_set(err, NQ_EINVAL, "/dt_h", "must be in (0, 24] hours (got %g)", s->dt_h);
    if (s->steps_per_day < 0 || s->steps_per_day > NQ_EN_MAX_STEPS)
        return nq_err_set(err, NQ_EINVAL, "/steps_per_day", "must be in 0..%d (got %d)",
                          NQ_EN_MAX_STEPS, (int)s->steps_per_day);
    if (s->steps_per_day == 0 && 24.0 / s->dt_h > NQ_EN_MAX_STEPS)
        return nq_err_set(err, NQ_EINVAL, "/dt_h", "gives more than %d steps per day",
                          NQ_EN_MAX_STEPS);
    if (!s->load_w)
        return nq_err_set(err, NQ_EINVAL, "/load", "is required");
    if (!s->price_import)
        return nq_err_set(err, NQ_EINVAL, "/price_import", "is required");
    int rc = check_array(s->load_w, s->steps, "load", 1, EN_MAX_POWER, err);
    if (!rc && s->pv_w)
        rc = check_array(s->pv_w, s->steps, "pv", 1, EN_MAX_POWER, err);
    if (!rc)
        rc = check_array(s->price_import, s->steps, "price_import", 0, EN_MAX_PRICE, err);
    if (!rc && s->price_export)
        rc = check_array(s->price_export, s->steps, "price_export", 0, EN_MAX_PRICE, err);
    return rc;
}

static int check_scalars(const nq_en_site *s, nq_err *err)
{
    int rc = bad_scalar(s->import_max_w, 0.0, EN_MAX_POWER, "/import_max_w", err);
    if (!rc)
        rc = bad_scalar(s->export_max_w, 0.0, EN_MAX_POWER, "/export_max_w", err);
    if (!rc)
        rc = bad_scalar(s->peak_charge_eur_per_kw, 0.0, EN_MAX_PRICE, "/peak_charge_eur_per_kw",
                        err);
    if (!rc)
        rc = bad_scalar(s->time_limit, 0.0, 1e6, "/time_limit", err);
    if (!rc)
        rc = bad_scalar(s->mip_gap, 0.0, 1.0, "/mip_gap", err);
    if (!rc && (s->objective < NQ_EN_PROFIT || s->objective > NQ_EN_SELF_CONSUMPTION))
        rc = nq_err_set(err, NQ_EINVAL, "/objective", "must be profit, cost or self_consumption");
    return rc;
}

/* ---- battery --------------------------------------------------------------------- */

/* The final SOC must lie within the bounds and within what the charge and
 * discharge limits can move the stored energy over the horizon. */
static int check_final(const nq_en_site *s, nq_err *err)
{
    const nq_en_battery *b = &s->battery;
    if (b->soc_final < 0.0)
        return 0;
    if (b->soc_final < b->soc_min || b->soc_final > b->soc_max)
        return nq_err_set(err, NQ_EINVAL, "/battery/soc_final",
                          "%g is outside [soc_min, soc_max] = [%g, %g]", b->soc_final, b->soc_min,
                          b->soc_max);
    double hours = s->steps * s->dt_h, e0 = b->soc_initial * b->capacity_wh;
    double need = (b->soc_final - b->soc_initial) * b->capacity_wh;
    double up = hours * b->eta_charge * b->charge_max_w;
    double down = hours * b->discharge_max_w / b->eta_discharge;
    if (need > up * (1.0 + 1e-12) + NQ_EN_TOL_WH)
        return nq_err_set(err, NQ_EINVAL, "/battery/soc_final",
                          "unreachable: from %g Wh it takes %g Wh more, but %g h at %g W "
                          "(efficiency %g) store at most %g Wh",
                          e0, need, hours, b->charge_max_w, b->eta_charge, up);
    if (-need > down * (1.0 + 1e-12) + NQ_EN_TOL_WH)
        return nq_err_set(err, NQ_EINVAL, "/battery/soc_final",
                          "unreachable: from %g Wh it takes %g Wh less, but %g h at %g W "
                          "(efficiency %g) release at most %g Wh",
                          e0, -need, hours, b->discharge_max_w, b->eta_discharge, down);
    return 0;
}

static int check_battery(const nq_en_site *s, nq_err *err)
{
    const nq_en_battery *b = &s->battery;
    if (!b->present)
        return 0;
    if (!isfinite(b->capacity_wh) || b->capacity_wh <= 0.0 || b->capacity_wh > EN_MAX_POWER)
        return nq_err_set(err, NQ_EINVAL, "/battery/capacity_wh",
                          "must be > 0 and at most %g Wh (got %g)", EN_MAX_POWER, b->capacity_wh);
    int rc = bad_scalar(b->charge_max_w, 0.0, EN_MAX_POWER, "/battery/charge_max_w", err);
    if (!rc)
        rc = bad_scalar(b->discharge_max_w, 0.0, EN_MAX_POWER, "/battery/discharge_max_w", err);
    if (!rc && !(isfinite(b->eta_charge) && b->eta_charge > 0.0 && b->eta_charge <= 1.0))
        rc = nq_err_set(err, NQ_EINVAL, "/battery/eta_charge", "must be in (0, 1] (got %g)",
                        b->eta_charge);
    if (!rc && !(isfinite(b->eta_discharge) && b->eta_discharge > 0.0 && b->eta_discharge <= 1.0))
        rc = nq_err_set(err, NQ_EINVAL, "/battery/eta_discharge", "must be in (0, 1] (got %g)",
                        b->eta_discharge);
    if (!rc)
        rc = bad_scalar(b->soc_min, 0.0, 1.0, "/battery/soc_min", err);
    if (!rc)
        rc = bad_scalar(b->soc_max, 0.0, 1.0, "/battery/soc_max", err);
    if (!rc && b->soc_min > b->soc_max)
        rc = nq_err_set(err, NQ_EINVAL, "/battery/soc_min",
                        "soc_min %g is above soc_max %g: no state of charge is allowed",
                        b->soc_min, b->soc_max);
    if (!rc && !(isfinite(b->soc_initial) && b->soc_initial >= b->soc_min &&
                 b->soc_initial <= b->soc_max))
        rc = nq_err_set(err, NQ_EINVAL, "/battery/soc_initial",
                        "%g is outside [soc_min, soc_max] = [%g, %g]", b->soc_initial, b->soc_min,
                        b->soc_max);
    if (!rc && !(isfinite(b->soc_final) && b->soc_final <= 1.0))
        rc = nq_err_set(err, NQ_EINVAL, "/battery/soc_final",
                        "must be a fraction <= 1, or < 0 for none (got %g)", b->soc_final);
    return rc ? rc : check_final(s, err);
}

/* ---- loads ----------------------------------------------------------------------- */

/* "/loads/j/field" into buf. */
static const char *lw(char *buf, size_t cap, int32_t j, const char *field)
{
    snprintf(buf, cap, "/loads/%d/%s", (int)j, field);
    return buf;
}

static int check_window(const nq_en_site *s, const nq_en_load *l, int32_t j, nq_err *err)
{
    int32_t spd = nq__en_spd(s);
    char w[64];
    if (l->window_start < 0 || l->window_start >= spd)
        return nq_err_set(err, NQ_EINVAL, lw(w, sizeof w, j, "window_start"),
                          "must be in [0, %d) steps (got %d)", (int)spd, (int)l->window_start);
    if (l->window_end < 0 || l->window_end > spd)
        return nq_err_set(err, NQ_EINVAL, lw(w, sizeof w, j, "window_end"),
                          "must be in [0, %d] steps, 0 for the end of the day (got %d)", (int)spd,
                          (int)l->window_end);
    if (l->window_end != 0 && l->window_end <= l->window_start)
        return nq_err_set(err, NQ_EINVAL, lw(w, sizeof w, j, "window_end"),
                          "must be after window_start %d (got %d)", (int)l->window_start,
                          (int)l->window_end);
    return 0;
}

/* The day's energy must fit the window at nominal power, and an on/off
 * load can only serve whole steps of nominal_w * dt_h. */
static int check_fit(const nq_en_site *s, const nq_en_load *l, int32_t j, nq_err *err)
{
    int32_t spd = nq__en_spd(s), end = l->window_end > 0 ? l->window_end : spd;
    double hours = (end - l->window_start) * s->dt_h, most = l->nominal_w * hours;
    char w[64];
    if (l->energy_wh > most * (1.0 + 1e-12) + NQ_EN_TOL_WH)
        return nq_err_set(err, NQ_EINVAL, lw(w, sizeof w, j, "energy_wh"),
                          "cannot fit: %g Wh a day is more than %g W for the window's %g h "
                          "(%g Wh)",
                          l->energy_wh, l->nominal_w, hours, most);
    if (!l->on_off)
        return 0;
    double step = l->nominal_w * s->dt_h, k = nq__en_on_steps(s, l);
    if (fabs(k * step - l->energy_wh) > 1e-9 * (1.0 + l->energy_wh))
        return nq_err_set(err, NQ_EINVAL, lw(w, sizeof w, j, "energy_wh"),
                          "an on/off load serves whole steps of %g Wh; %g Wh is not a multiple",
                          step, l->energy_wh);
    return 0;
}

static int check_load(const nq_en_site *s, const nq_en_load *l, int32_t j, nq_err *err)
{
    char w[64];
    if (!(isfinite(l->nominal_w) && l->nominal_w > 0.0 && l->nominal_w <= EN_MAX_POWER))
        return nq_err_set(err, NQ_EINVAL, lw(w, sizeof w, j, "nominal_w"),
                          "must be > 0 and at most %g W (got %g)", EN_MAX_POWER, l->nominal_w);
    if (!(isfinite(l->energy_wh) && l->energy_wh >= 0.0))
        return nq_err_set(err, NQ_EINVAL, lw(w, sizeof w, j, "energy_wh"),
                          "must be a finite number >= 0 (got %g)", l->energy_wh);
    if (l->single_block && !l->on_off)
        return nq_err_set(err, NQ_EINVAL, lw(w, sizeof w, j, "single_block"),
                          "needs on_off: a load at any level has no block to keep together");
    if (!(isfinite(l->value_eur_per_kwh) && l->value_eur_per_kwh >= 0.0 &&
          l->value_eur_per_kwh <= EN_MAX_PRICE))
        return nq_err_set(err, NQ_EINVAL, lw(w, sizeof w, j, "value_eur_per_kwh"),
                          "must be in [0, %g] (got %g)", EN_MAX_PRICE, l->value_eur_per_kwh);
    int rc = check_window(s, l, j, err);
    return rc ? rc : check_fit(s, l, j, err);
}

static int check_loads(const nq_en_site *s, nq_err *err)
{
    if (s->n_loads < 0 || s->n_loads > NQ_EN_MAX_LOADS)
        return nq_err_set(err, NQ_EINVAL, "/loads", "at most %d loads (got %d)", NQ_EN_MAX_LOADS,
                          (int)s->n_loads);
    if (s->n_loads > 0 && !s->loads)
        return nq_err_set(err, NQ_EINVAL, "/loads", "%d loads but no array", (int)s->n_loads);
    for (int32_t j = 0; j < s->n_loads; j++) {
        int rc = check_load(s, &s->loads[j], j, err);
        if (rc)
            return rc;
    }
    return 0;
}

/* ---- the grid at each step ------------------------------------------------------- */

/* Each step must be coverable on its own: what the load needs beyond PV
 * and the most the battery can give must come from the grid, and the PV
 * surplus beyond the most the battery and the loads can take must go to
 * it (PV is not curtailed in this model). */
static int check_grid(const nq_en_site *s, nq_err *err)
{
    const nq_en_battery *b = &s->battery;
    double dis = b->present ? b->discharge_max_w : 0.0, ch = b->present ? b->charge_max_w : 0.0;
    for (int32_t t = 0; t < s->steps; t++) {
        double pv = s->pv_w ? s->pv_w[t] : 0.0, sink = ch;
        for (int32_t j = 0; j < s->n_loads; j++)
            sink += s->loads[j].nominal_w;
        double need = s->load_w[t] - pv - dis, spill = pv - s->load_w[t] - sink;
        if (need > s->import_max_w + NQ_EN_TOL_W)
            return nq_err_set(err, NQ_EINVAL, "/import_max_w",
                              "too small for the load at step %d: %g W load - %g W PV - %g W "
                              "battery needs %g W of import, the limit is %g W",
                              (int)t, s->load_w[t], pv, dis, need, s->import_max_w);
        if (spill > s->export_max_w + NQ_EN_TOL_W)
            return nq_err_set(err, NQ_EINVAL, "/export_max_w",
                              "too small for the PV at step %d: %g W PV exceeds the %g W the "
                              "site can take by %g W, the limit is %g W (PV is not curtailed)",
                              (int)t, pv, s->load_w[t] + sink, spill, s->export_max_w);
    }
    return 0;
}

int nq__en_check(const nq_en_site *s, nq_err *err)
{
    int rc = check_horizon(s, err);
    if (!rc)
        rc = check_scalars(s, err);
    if (!rc)
        rc = check_battery(s, err);
    if (!rc)
        rc = check_loads(s, err);
    return rc ? rc : check_grid(s, err);
}
