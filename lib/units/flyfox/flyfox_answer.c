/* flyfox_answer.c - run a site energy request and write its answer: the
 * schedule, costs against the naive baseline, and an explanation in
 * words (docs/api/energy.md). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nqba/flyfox.h"
#include "nqba/json.h"

static json_t *array_of(const double *v, int32_t n)
{
    json_t *a = json_array();
    for (int32_t i = 0; a && i < n; i++)
        if (json_array_append_new(a, json_real(fabs(v[i]) < 1e-9 ? 0.0 : v[i]))) {
            json_decref(a);
            return NULL;
        }
    return a;
}

static json_t *schedule_json(const nq_en_site *s, const nq_en_schedule *d)
{
    json_t *loads = json_object();
    for (int32_t j = 0; loads && j < d->n_loads; j++)
        json_object_set_new(loads, s->loads[j].name, array_of(d->load_w + (size_t)j * d->steps, d->steps));
    return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o}", "import_w", array_of(d->import_w, d->steps),
                     "export_w", array_of(d->export_w, d->steps), "charge_w",
                     array_of(d->charge_w, d->steps), "discharge_w",
                     array_of(d->discharge_w, d->steps), "soc", array_of(d->soc, d->steps + 1),
                     "loads", loads);
}

/* Energies over the horizon, kWh. */
static double kwh(const double *w, int32_t n, double dt)
{
    double e = 0;
    for (int32_t i = 0; w && i < n; i++)
        e += w[i] * dt / 1000;
    return e;
}

static json_t *explain(const nq_en_site *s, const nq_en_schedule *d)
{
    json_t *l = json_array();
    if (!l)
        return NULL;
    nq_json_say(l, "%s schedule of %d steps of %g h (%s%s): net cost %.4f EUR against %.4f EUR for the "
           "naive schedule, a saving of %.4f EUR.",
        d->milp ? "MILP" : "LP", (int)d->steps, s->dt_h, d->status,
        d->milp && d->gap > 0 ? ", within the gap reported" : "", d->cost_eur,
        d->baseline_cost_eur, d->savings_eur);
    nq_json_say(l, "Imported %.3f kWh, exported %.3f kWh; peak import %.0f W.",
        kwh(d->import_w, d->steps, s->dt_h), kwh(d->export_w, d->steps, s->dt_h),
        d->peak_import_w);
    if (s->pv_w)
        nq_json_say(l, "%.1f%% of the PV output (%.3f kWh) was used on site.", 100 * d->self_consumption,
            kwh(s->pv_w, s->steps, s->dt_h));
    if (s->battery.present)
        nq_json_say(l, "Battery: charged %.3f kWh, discharged %.3f kWh; state of charge from %.0f%% to "
               "%.0f%%.",
            kwh(d->charge_w, d->steps, s->dt_h), kwh(d->discharge_w, d->steps, s->dt_h),
            100 * d->soc[0], 100 * d->soc[d->steps]);
    for (int32_t j = 0; j < s->n_loads; j++) {
        const double *p = d->load_w + (size_t)j * d->steps;
        int32_t first = -1;
        for (int32_t t = 0; t < d->steps && first < 0; t++)
            if (p[t] > 1e-6)
                first = t;
        if (first < 0)
            nq_json_say(l, "Load %s: not run.", s->loads[j].name);
        else
            nq_json_say(l, "Load %s: %.3f kWh, first running at step %d.", s->loads[j].name,
                kwh(p, d->steps, s->dt_h), (int)first);
    }
    return l;
}

int nq_flyfox_site_run(const nq_flyfox_site_req *r, const atomic_int *cancel, json_t **answer,
                       nq_err *err)
{
    nq_en_site s = r->site;
    s.cancel = cancel;
    nq_en_schedule d;
    memset(&d, 0, sizeof d);
    *answer = NULL;
    int rc = nq_en_site_solve(&s, &d, err);
    if (rc)
        return rc;
    double pct = d.baseline_cost_eur != 0 ? d.savings_eur / fabs(d.baseline_cost_eur) : 0.0;
    json_t *a = json_pack("{s:s, s:b, s:f, s:I, s:i, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, "
                          "s:o, s:o}",
                          "status", d.status, "milp", d.milp, "gap", d.gap, "iterations",
                          (json_int_t)d.iterations, "steps", (int)d.steps, "dt_h", s.dt_h,
                          "cost_eur", d.cost_eur, "energy_cost_eur", d.energy_cost_eur,
                          "baseline_cost_eur", d.baseline_cost_eur, "savings_eur", d.savings_eur,
                          "savings_fraction", pct, "peak_import_w", d.peak_import_w,
                          "self_consumption", d.self_consumption, "schedule",
                          schedule_json(&s, &d), "explanation", explain(&s, &d));
    nq_en_schedule_free(&d);
    if (!a)
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory building the answer");
    *answer = a;
    return NQ_OK;
}
