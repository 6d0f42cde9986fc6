/* flyfox_site.c - a site energy request, checked field by field, and its
 * answer (docs/api/energy.md). Series come as JSON arrays or as columns of
 * forecast_csv; every series must have the load's length. What depends on
 * the numbers together (a final state of charge out of reach, a load that
 * cannot fit its window) is found by nq_en_site_solve and reported against
 * the same field names. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nqba/csv.h"
#include "nqba/flyfox.h"
#include "nqba/json.h"

void nq_flyfox_site_req_free(nq_flyfox_site_req *r)
{
    if (!r)
        return;
    free(r->load);
    free(r->pv);
    free(r->price_import);
    free(r->price_export);
    free(r->loads);
    memset(r, 0, sizeof *r);
}

/* ---- series ----------------------------------------------------------------------------- */

/* A series from member key: an array of numbers, or a number repeated
 * (when allow_scalar). *out NULL when absent. n_out: its length. */
static int series(const json_t *doc, const char *key, int allow_scalar, double lo,
                  double **out, int32_t *n_out, nq_err *err)
{
    const json_t *v = json_object_get(doc, key);
    char ptr[NQ_JSON_PTR_MAX], at[NQ_JSON_PTR_MAX];
    nq_json_ptr_key(ptr, "", key);
    *out = NULL;
    *n_out = 0;
    if (!v)
        return NQ_OK;
    if (allow_scalar && json_is_number(v)) {
        *n_out = -1; /* a constant: sized later */
        if (!(*out = malloc(sizeof **out)))
            return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
        return nq_json_as_number(v, ptr, *out, err);
    }
    if (!json_is_array(v))
        return nq_err_set(err, NQ_EINVAL, ptr, allow_scalar ? "an array of numbers or a number"
                                                            : "an array of numbers");
    size_t n = json_array_size(v);
    if (n < 1 || n > NQ_EN_MAX_STEPS)
        return nq_err_set(err, NQ_ELIMIT, ptr, "1..%d values", NQ_EN_MAX_STEPS);
    if (!(*out = malloc(n * sizeof **out)))
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    for (size_t i = 0; i < n; i++) {
        nq_json_ptr_index(at, ptr, i);
        if (nq_json_as_number(json_array_get(v, i), at, &(*out)[i], err))
            return NQ_EINVAL;
        if ((*out)[i] < lo)
            return nq_err_set(err, NQ_EINVAL, at, "must be >= %g", lo);
    }
    *n_out = (int32_t)n;
    return NQ_OK;
}

/* Columns of forecast_csv fill the series the JSON did not give. */
static int from_csv(const json_t *doc, double **dst[4], int32_t len[4], nq_err *err)
{
    static const char *const cols[4] = {"load_w", "pv_w", "price_import", "price_export"};
    const json_t *v = json_object_get(doc, "forecast_csv");
    if (!v)
        return NQ_OK;
    if (!json_is_string(v) || json_string_length(v) > NQ_FLYFOX_CSV_MAX)
        return nq_err_set(err, NQ_EINVAL, "/forecast_csv", "CSV text of at most %u bytes",
                          NQ_FLYFOX_CSV_MAX);
    nq_csv t;
    nq_csv_limits lim = {.max_rows = NQ_EN_MAX_STEPS, .max_cols = 64, .max_cell = 64};
    int rc = nq_csv_parse(json_string_value(v), json_string_length(v), "/forecast_csv", &lim, &t,
                          err);
    for (int k = 0; !rc && k < 4; k++) {
        int32_t c = nq_csv_col(&t, cols[k]);
        if (c < 0 || *dst[k])
            continue; /* absent, or given as JSON too: the JSON wins */
        if (!(*dst[k] = malloc((size_t)(t.rows ? t.rows : 1) * sizeof **dst[k])))
            rc = nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
        for (int32_t r = 0; !rc && r < t.rows; r++) {
            rc = nq_csv_number(&t, r, c, &(*dst[k])[r], err);
            if (!rc && !isfinite((*dst[k])[r]))
                rc = nq_err_set(err, NQ_EINVAL, "/forecast_csv", "line %d: column %s: empty",
                                (int)t.line[r], cols[k]);
        }
        len[k] = t.rows;
    }
    nq_csv_free(&t);
    return rc;
}

static int all_series(const json_t *doc, nq_flyfox_site_req *r, nq_err *err)
{
    static const char *const keys[4] = {"load_w", "pv_w", "price_import", "price_export"};
    double **dst[4] = {&r->load, &r->pv, &r->price_import, &r->price_export};
    int32_t len[4] = {0, 0, 0, 0};
    int rc = NQ_OK;
    for (int k = 0; !rc && k < 4; k++)
        rc = series(doc, keys[k], k >= 2, k == 0 ? 0 : (k == 1 ? 0 : -1e6), dst[k], &len[k], err);
    if (!rc)
        rc = from_csv(doc, dst, len, err);
    if (!rc && !r->load)
        return nq_err_set(err, NQ_EINVAL, "/load_w", "the load is required (load_w or forecast_csv)");
    if (!rc && !r->price_import)
        return nq_err_set(err, NQ_EINVAL, "/price_import", "import prices are required");
    int32_t n = len[0];
    for (int k = 1; !rc && k < 4; k++) {
        if (len[k] == -1) { /* a constant price: one per step */
            double x = (*dst[k])[0];
            double *full = realloc(*dst[k], (size_t)n * sizeof *full);
            if (!full)
                return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
            for (int32_t i = 0; i < n; i++)
                full[i] = x;
            *dst[k] = full;
        } else if (*dst[k] && len[k] != n) {
            char ptr[NQ_JSON_PTR_MAX];
            nq_json_ptr_key(ptr, "", keys[k]);
            rc = nq_err_set(err, NQ_EINVAL, ptr, "%d values, but load_w has %d: one per step",
                            (int)len[k], (int)n);
        }
    }
    r->site.steps = n;
    return rc;
}

/* ---- battery, loads, options -------------------------------------------------------------- */

static int battery(const json_t *doc, nq_en_battery *b, nq_err *err)
{
    static const char *const keys[] = {"capacity_wh", "charge_max_w", "discharge_max_w",
                                       "eta_charge",  "eta_discharge", "soc_min",
                                       "soc_max",     "soc_initial",  "soc_final", NULL};
    json_t *v = NULL;
    int rc = nq_json_get_typed(doc, "", "battery", 0, JSON_OBJECT, &v, err);
    if (rc || !v)
        return rc;
    *b = (nq_en_battery){.present = 1, .eta_charge = 0.95, .eta_discharge = 0.95, .soc_min = 0.3,
                         .soc_max = 0.9, .soc_initial = 0.6, .soc_final = 0.6};
    double *f[] = {&b->capacity_wh, &b->charge_max_w, &b->discharge_max_w, &b->eta_charge,
                   &b->eta_discharge, &b->soc_min,    &b->soc_max,         &b->soc_initial,
                   &b->soc_final};
    if ((rc = nq_json_check_keys(v, "/battery", keys, err)))
        return rc;
    for (int k = 0; !rc && keys[k]; k++)
        rc = nq_json_get_number(v, "/battery", keys[k], k < 3, f[k], err);
    if (!rc && json_is_null(json_object_get(v, "soc_final")))
        b->soc_final = -1;
    return rc;
}

static int one_load(const json_t *v, const char *at, double dt, nq_en_load *l, nq_err *err)
{
    static const char *const keys[] = {"name",    "nominal_w",    "energy_wh", "hours_per_day",
                                       "window_start", "window_end", "on_off", "single_block",
                                       "optional", "value_eur_per_kwh", NULL};
    const char *name = NULL;
    double hours = -1, ws = 0, we = 0;
    int rc = json_is_object(v) ? nq_json_check_keys(v, at, keys, err)
                               : nq_err_set(err, NQ_EINVAL, at, "expected an object");
    if (!rc)
        rc = nq_json_get_string(v, at, "name", 1, NQ_EN_NAME_MAX - 1, &name, err);
    if (!rc)
        rc = nq_json_get_number(v, at, "nominal_w", 1, &l->nominal_w, err);
    if (!rc)
        rc = nq_json_get_number(v, at, "energy_wh", 0, &l->energy_wh, err);
    if (!rc)
        rc = nq_json_get_number(v, at, "hours_per_day", 0, &hours, err);
    if (!rc)
        rc = nq_json_get_number(v, at, "window_start", 0, &ws, err);
    if (!rc)
        rc = nq_json_get_number(v, at, "window_end", 0, &we, err);
    if (!rc)
        rc = nq_json_get_bool(v, at, "on_off", 0, &l->on_off, err);
    if (!rc)
        rc = nq_json_get_bool(v, at, "single_block", 0, &l->single_block, err);
    if (!rc)
        rc = nq_json_get_bool(v, at, "optional", 0, &l->optional, err);
    if (!rc)
        rc = nq_json_get_number(v, at, "value_eur_per_kwh", 0, &l->value_eur_per_kwh, err);
    if (rc)
        return rc;
    snprintf(l->name, sizeof l->name, "%s", name);
    if (json_object_get(v, "energy_wh") && hours >= 0)
        return nq_err_set(err, NQ_EINVAL, at, "give energy_wh or hours_per_day, not both");
    if (hours >= 0)
        l->energy_wh = hours * l->nominal_w;
    else if (!json_object_get(v, "energy_wh"))
        return nq_err_set(err, NQ_EINVAL, at, "energy_wh or hours_per_day is required");
    if (ws != floor(ws) || we != floor(we) || ws < 0 || we < 0 || ws > NQ_EN_MAX_STEPS ||
        we > NQ_EN_MAX_STEPS)
        return nq_err_set(err, NQ_EINVAL, at, "window_start and window_end are step numbers");
    l->window_start = (int32_t)ws;
    l->window_end = (int32_t)we;
    (void)dt;
    return NQ_OK;
}

static int loads(const json_t *doc, nq_flyfox_site_req *r, nq_err *err)
{
    json_t *arr = NULL;
    int rc = nq_json_get_typed(doc, "", "loads", 0, JSON_ARRAY, &arr, err);
    if (rc || !arr)
        return rc;
    size_t n = json_array_size(arr);
    if (n > NQ_EN_MAX_LOADS)
        return nq_err_set(err, NQ_ELIMIT, "/loads", "at most %d loads", NQ_EN_MAX_LOADS);
    if (n && !(r->loads = calloc(n, sizeof *r->loads)))
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    char at[NQ_JSON_PTR_MAX];
    for (size_t i = 0; !rc && i < n; i++) {
        nq_json_ptr_index(at, "/loads", i);
        rc = one_load(json_array_get(arr, i), at, r->site.dt_h, &r->loads[i], err);
        for (size_t j = 0; !rc && j < i; j++)
            if (!strcmp(r->loads[j].name, r->loads[i].name))
                rc = nq_err_set(err, NQ_EINVAL, at, "the name '%s' is used twice", r->loads[i].name);
    }
    r->site.loads = r->loads;
    r->site.n_loads = (int32_t)n;
    return rc;
}

static int scalars(const json_t *doc, nq_en_site *s, nq_err *err)
{
    static const char *const objectives[] = {"profit", "cost", "self_consumption", NULL};
    static const char *const gkeys[] = {"import_max_w", "export_max_w", NULL};
    static const char *const okeys[] = {"time_limit", "mip_gap", NULL};
    json_t *grid = NULL, *opts = NULL;
    const char *obj = NULL;
    int64_t spd = 0;
    int rc;
    if ((rc = nq_json_get_number(doc, "", "dt_h", 0, &s->dt_h, err)) ||
        (rc = nq_json_get_int(doc, "", "steps_per_day", 0, 1, 100000, &spd, err)) ||
        (rc = nq_json_get_number(doc, "", "peak_charge_eur_per_kw", 0, &s->peak_charge_eur_per_kw,
                                 err)) ||
        (rc = nq_json_get_string(doc, "", "objective", 0, 24, &obj, err)) ||
        (rc = nq_json_get_typed(doc, "", "grid", 0, JSON_OBJECT, &grid, err)) ||
        (rc = nq_json_get_typed(doc, "", "options", 0, JSON_OBJECT, &opts, err)))
        return rc;
    s->steps_per_day = (int32_t)spd;
    if (grid && ((rc = nq_json_check_keys(grid, "/grid", gkeys, err)) ||
                 (rc = nq_json_get_number(grid, "/grid", "import_max_w", 0, &s->import_max_w, err)) ||
                 (rc = nq_json_get_number(grid, "/grid", "export_max_w", 0, &s->export_max_w, err))))
        return rc;
    if (opts && ((rc = nq_json_check_keys(opts, "/options", okeys, err)) ||
                 (rc = nq_json_get_number(opts, "/options", "time_limit", 0, &s->time_limit, err)) ||
                 (rc = nq_json_get_number(opts, "/options", "mip_gap", 0, &s->mip_gap, err))))
        return rc;
    if (s->time_limit < 0 || s->time_limit > 3600)
        return nq_err_set(err, NQ_EINVAL, "/options/time_limit", "0 to 3600 seconds");
    if (s->mip_gap < 0 || s->mip_gap > 1)
        return nq_err_set(err, NQ_EINVAL, "/options/mip_gap", "a fraction in [0, 1]");
    int which = 0;
    while (obj && objectives[which] && strcmp(obj, objectives[which]) != 0)
        which++;
    if (obj && !objectives[which])
        return nq_err_set(err, NQ_EINVAL, "/objective", "profit, cost or self_consumption");
    s->objective = (nq_en_objective)(obj ? which : 0);
    return NQ_OK;
}

int nq_flyfox_site_parse(const json_t *doc, nq_flyfox_site_req *r, nq_err *err)
{
    static const char *const keys[] = {"name",      "dt_h",         "steps_per_day", "load_w",
                                       "pv_w",      "price_import", "price_export",  "forecast_csv",
                                       "grid",      "battery",      "loads",         "peak_charge_eur_per_kw",
                                       "objective", "options",      NULL};
    memset(r, 0, sizeof *r);
    nq_en_site_default(&r->site);
    r->site.import_max_w = r->site.export_max_w = 1e9; /* no practical limit unless given */
    if (!json_is_object(doc))
        return nq_err_set(err, NQ_EINVAL, "", "expected an object, got %s",
                          nq_json_type_name(doc));
    const char *name = NULL;
    int rc = nq_json_check_keys(doc, "", keys, err);
    if (!rc)
        rc = nq_json_get_string(doc, "", "name", 0, 256, &name, err);
    if (!rc)
        rc = scalars(doc, &r->site, err);
    if (!rc)
        rc = all_series(doc, r, err);
    if (!rc)
        rc = battery(doc, &r->site.battery, err);
    if (!rc)
        rc = loads(doc, r, err);
    r->site.load_w = r->load;
    r->site.pv_w = r->pv;
    r->site.price_import = r->price_import;
    r->site.price_export = r->price_export;
    if (rc)
        nq_flyfox_site_req_free(r);
    return rc;
}
