/* flyfox_uc.c - a unit-commitment request (units as JSON objects or CSV,
 * demand as an array or CSV) and its answer: the commitment table, the
 * dispatch, costs and an explanation (docs/api/energy.md). */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nqba/csv.h"
#include "nqba/flyfox.h"
#include "nqba/json.h"

/* The fields of a unit: JSON member, CSV column (the classic data files'
 * header), and where the number goes. */
typedef struct field {
    const char *key, *csv;
    size_t off;
    int integer, required;
} field;

#define F(k, c, m, i, r) {k, c, offsetof(nq_uc_unit, m), i, r}
static const field FIELDS[] = {
    F("pmax", "pmax_mw", pmax, 0, 1),
    F("pmin", "pmin_mw", pmin, 0, 1),
    F("a", "a_usd_per_h", a, 0, 1),
    F("b", "b_usd_per_mwh", b, 0, 1),
    F("c", "c_usd_per_mw2h", c, 0, 1),
    F("min_up", "min_up_h", min_up, 1, 1),
    F("min_down", "min_down_h", min_down, 1, 1),
    F("hot_start", "hot_start_usd", hot_start, 0, 1),
    F("cold_start", "cold_start_usd", cold_start, 0, 1),
    F("cold_hours", "cold_start_hours", cold_hours, 1, 1),
    F("initial_status", "initial_status_h", initial_status, 1, 1),
};
#define N_FIELDS (sizeof FIELDS / sizeof FIELDS[0])

static int put(nq_uc_unit *u, const field *f, double x, const char *at, nq_err *err)
{
    if (f->integer) {
        if (x != floor(x) || fabs(x) > 1e6)
            return nq_err_set(err, NQ_EINVAL, at, "%s: a whole number of hours", f->key);
        *(int32_t *)((char *)u + f->off) = (int32_t)x;
    } else {
        *(double *)((char *)u + f->off) = x;
    }
    return NQ_OK;
}

void nq_flyfox_uc_req_free(nq_flyfox_uc_req *r)
{
    if (!r)
        return;
    free(r->units);
    free(r->demand);
    memset(r, 0, sizeof *r);
}

static int units_json(const json_t *arr, nq_flyfox_uc_req *r, nq_err *err)
{
    size_t n = json_array_size(arr);
    char at[NQ_JSON_PTR_MAX];
    for (size_t i = 0; i < n; i++) {
        const json_t *v = json_array_get(arr, i);
        nq_uc_unit *u = &r->units[i];
        const char *name = NULL;
        nq_json_ptr_index(at, "/units", i);
        if (!json_is_object(v))
            return nq_err_set(err, NQ_EINVAL, at, "expected an object");
        const char *keys[N_FIELDS + 2];
        keys[0] = "name";
        for (size_t k = 0; k < N_FIELDS; k++)
            keys[k + 1] = FIELDS[k].key;
        keys[N_FIELDS + 1] = NULL;
        int rc = nq_json_check_keys(v, at, keys, err);
        if (!rc)
            rc = nq_json_get_string(v, at, "name", 0, NQ_EN_NAME_MAX - 1, &name, err);
        for (size_t k = 0; !rc && k < N_FIELDS; k++) {
            double x = 0;
            rc = nq_json_get_number(v, at, FIELDS[k].key, FIELDS[k].required, &x, err);
            if (!rc)
                rc = put(u, &FIELDS[k], x, at, err);
        }
        if (rc)
            return rc;
        snprintf(u->name, sizeof u->name, "%s", name ? name : "");
        if (!name)
            snprintf(u->name, sizeof u->name, "%zu", i + 1);
    }
    return NQ_OK;
}

static int units_csv(const nq_csv *t, nq_flyfox_uc_req *r, nq_err *err)
{
    int32_t name_col = nq_csv_col(t, "unit");
    for (size_t k = 0; k < N_FIELDS; k++)
        if (nq_csv_col(t, FIELDS[k].csv) < 0)
            return nq_err_set(err, NQ_EINVAL, "/units_csv", "line 1: no column %s", FIELDS[k].csv);
    for (int32_t i = 0; i < t->rows; i++) {
        nq_uc_unit *u = &r->units[i];
        snprintf(u->name, sizeof u->name, "%.47s",
                 name_col >= 0 ? nq_csv_cell(t, i, name_col) : "");
        for (size_t k = 0; k < N_FIELDS; k++) {
            double x;
            int rc = nq_csv_number(t, i, nq_csv_col(t, FIELDS[k].csv), &x, err);
            if (!rc && !isfinite(x))
                rc = nq_err_set(err, NQ_EINVAL, "/units_csv", "line %d: %s is empty",
                                (int)t->line[i], FIELDS[k].csv);
            if (!rc)
                rc = put(u, &FIELDS[k], x, "/units_csv", err);
            if (rc)
                return rc;
        }
    }
    return NQ_OK;
}

static int load_csv(const json_t *v, const char *where, nq_csv *t, nq_err *err)
{
    if (!json_is_string(v) || json_string_length(v) > NQ_FLYFOX_CSV_MAX)
        return nq_err_set(err, NQ_EINVAL, where, "CSV text of at most %u bytes",
                          NQ_FLYFOX_CSV_MAX);
    nq_csv_limits lim = {.max_rows = NQ_UC_MAX_UNITS, .max_cols = 64, .max_cell = 64};
    return nq_csv_parse(json_string_value(v), json_string_length(v), where, &lim, t, err);
}

static int units(const json_t *doc, nq_flyfox_uc_req *r, nq_err *err)
{
    const json_t *arr = json_object_get(doc, "units"), *csv = json_object_get(doc, "units_csv");
    nq_csv t;
    memset(&t, 0, sizeof t);
    if ((arr != NULL) == (csv != NULL))
        return nq_err_set(err, NQ_EINVAL, "/units", "give units (an array) or units_csv");
    if (arr && !json_is_array(arr))
        return nq_err_set(err, NQ_EINVAL, "/units", "expected an array of units");
    int rc = csv ? load_csv(csv, "/units_csv", &t, err) : NQ_OK;
    size_t n = arr ? json_array_size(arr) : (size_t)t.rows;
    if (!rc && (n < 1 || n > NQ_UC_MAX_UNITS))
        rc = nq_err_set(err, NQ_ELIMIT, arr ? "/units" : "/units_csv", "1..%d units",
                        NQ_UC_MAX_UNITS);
    if (!rc && !(r->units = calloc(n, sizeof *r->units)))
        rc = nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    if (!rc)
        rc = arr ? units_json(arr, r, err) : units_csv(&t, r, err);
    nq_csv_free(&t);
    r->p.units = r->units;
    r->p.n_units = (int32_t)n;
    return rc;
}

static int demand(const json_t *doc, nq_flyfox_uc_req *r, nq_err *err)
{
    const json_t *arr = json_object_get(doc, "demand"), *csv = json_object_get(doc, "demand_csv");
    char at[NQ_JSON_PTR_MAX];
    if ((arr != NULL) == (csv != NULL))
        return nq_err_set(err, NQ_EINVAL, "/demand", "give demand (an array, MW per hour) or "
                                                     "demand_csv");
    nq_csv t;
    memset(&t, 0, sizeof t);
    int rc = csv ? load_csv(csv, "/demand_csv", &t, err) : NQ_OK;
    int32_t col = csv && !rc ? nq_csv_col(&t, "demand_mw") : 0;
    if (!rc && col < 0)
        rc = nq_err_set(err, NQ_EINVAL, "/demand_csv", "line 1: no column demand_mw");
    size_t n = arr ? (json_is_array(arr) ? json_array_size(arr) : 0) : (size_t)t.rows;
    if (!rc && (n < 1 || n > NQ_UC_MAX_HOURS))
        rc = nq_err_set(err, NQ_EINVAL, arr ? "/demand" : "/demand_csv",
                        "an array of 1..%d hourly demands", NQ_UC_MAX_HOURS);
    if (!rc && !(r->demand = malloc(n * sizeof *r->demand)))
        rc = nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    for (size_t h = 0; !rc && h < n; h++) {
        nq_json_ptr_index(at, "/demand", h);
        rc = arr ? nq_json_as_number(json_array_get(arr, h), at, &r->demand[h], err)
                 : nq_csv_number(&t, (int32_t)h, col, &r->demand[h], err);
        if (!rc && !(r->demand[h] >= 0))
            rc = nq_err_set(err, NQ_EINVAL, at, "a demand >= 0 MW");
    }
    nq_csv_free(&t);
    r->p.demand = r->demand;
    r->p.hours = (int32_t)n;
    return rc;
}

static int options(const json_t *doc, nq_flyfox_uc_req *r, nq_err *err)
{
    static const char *const okeys[] = {"seed", "time_limit", NULL};
    const char *method = NULL;
    json_t *o = NULL;
    int64_t tangents = 20, seed = 1;
    int rc;
    if ((rc = nq_json_get_number(doc, "", "reserve", 0, &r->p.reserve, err)) ||
        (rc = nq_json_get_string(doc, "", "method", 0, 16, &method, err)) ||
        (rc = nq_json_get_int(doc, "", "tangents", 0, 1, 200, &tangents, err)) ||
        (rc = nq_json_get_typed(doc, "", "options", 0, JSON_OBJECT, &o, err)))
        return rc;
    if (o && ((rc = nq_json_check_keys(o, "/options", okeys, err)) ||
              (rc = nq_json_get_int(o, "/options", "seed", 0, 0, INT64_MAX, &seed, err)) ||
              (rc = nq_json_get_number(o, "/options", "time_limit", 0, &r->p.time_limit, err))))
        return rc;
    if (method && strcmp(method, "engine") != 0 && strcmp(method, "milp") != 0)
        return nq_err_set(err, NQ_EINVAL, "/method", "engine or milp");
    if (!(r->p.reserve >= 0 && r->p.reserve <= 10))
        return nq_err_set(err, NQ_EINVAL, "/reserve", "a fraction of demand, 0 to 10");
    if (!(r->p.time_limit >= 0 && r->p.time_limit <= 3600))
        return nq_err_set(err, NQ_EINVAL, "/options/time_limit", "0 to 3600 seconds");
    r->milp = method && !strcmp(method, "milp");
    r->tangents = (int32_t)tangents;
    r->p.seed = (uint64_t)seed;
    return NQ_OK;
}

int nq_flyfox_uc_parse(const json_t *doc, nq_flyfox_uc_req *r, nq_err *err)
{
    static const char *const keys[] = {"name",    "units",    "units_csv", "demand", "demand_csv",
                                       "reserve", "method",   "tangents",  "options", NULL};
    memset(r, 0, sizeof *r);
    nq_uc_problem_default(&r->p);
    if (!json_is_object(doc))
        return nq_err_set(err, NQ_EINVAL, "", "expected an object, got %s",
                          nq_json_type_name(doc));
    const char *name = NULL;
    int rc = nq_json_check_keys(doc, "", keys, err);
    if (!rc)
        rc = nq_json_get_string(doc, "", "name", 0, 256, &name, err);
    if (!rc)
        rc = units(doc, r, err);
    if (!rc)
        rc = demand(doc, r, err);
    if (!rc)
        rc = options(doc, r, err);
    if (!rc)
        rc = nq_uc_check(&r->p, err);
    if (rc)
        nq_flyfox_uc_req_free(r);
    return rc;
}

/* ---- the answer ---------------------------------------------------------------------------- */

static json_t *answer_of(const nq_flyfox_uc_req *r, const nq_uc_result *res)
{
    int32_t n = res->n_units, H = res->hours;
    json_t *commit = json_object(), *dispatch = json_object(), *marg = json_array(),
           *expl = json_array();
    char *bits = malloc((size_t)H + 1);
    for (int32_t i = 0; bits && commit && dispatch && i < n; i++) {
        json_t *p = json_array();
        for (int32_t h = 0; h < H; h++) {
            bits[h] = res->on[(size_t)i * H + h] ? '1' : '0';
            json_array_append_new(p, json_real(res->p[(size_t)i * H + h]));
        }
        bits[H] = '\0';
        json_object_set_new(commit, r->units[i].name, json_string(bits));
        json_object_set_new(dispatch, r->units[i].name, p);
    }
    free(bits);
    for (int32_t h = 0; marg && h < H; h++)
        json_array_append_new(marg, json_real(res->marginal[h]));
    nq_json_say(expl, "%d units over %d hours by %s: total %.2f USD (fuel %.2f, %d start-ups %.2f).",
        (int)n, (int)H, res->method, res->total_cost, res->fuel_cost, (int)res->startups,
        res->startup_cost);
    if (res->lower_bound > 0)
        nq_json_say(expl, "The MILP's lower bound is %.2f USD: this commitment is within %.4f%% of the "
                  "optimum.",
            res->lower_bound, 100 * (res->total_cost - res->lower_bound) / res->total_cost);
    nq_json_say(expl, "Every hour meets demand and a spinning reserve of %.0f%%; minimum up and down "
              "times hold, counting each unit's initial status.",
        100 * r->p.reserve);
    json_t *a = json_pack("{s:s, s:f, s:f, s:f, s:i, s:I, s:o, s:o, s:o, s:o}", "method",
                          res->method, "total_cost", res->total_cost, "fuel_cost", res->fuel_cost,
                          "startup_cost", res->startup_cost, "startups", (int)res->startups,
                          "iterations", (json_int_t)res->iterations, "commitment", commit,
                          "dispatch", dispatch, "marginal_cost", marg, "explanation", expl);
    if (a && res->lower_bound > 0)
        json_object_set_new(a, "lower_bound", json_real(res->lower_bound));
    return a;
}

int nq_flyfox_uc_run(const nq_flyfox_uc_req *r, const atomic_int *cancel, json_t **answer,
                     nq_err *err)
{
    nq_uc_problem p = r->p;
    p.cancel = cancel;
    nq_uc_result res;
    memset(&res, 0, sizeof res);
    *answer = NULL;
    int rc = r->milp ? nq_uc_solve_milp(&p, r->tangents, p.time_limit > 0 ? p.time_limit : 60,
                                        &res, err)
                     : nq_uc_solve(&p, &res, err);
    if (!rc && !(*answer = answer_of(r, &res)))
        rc = nq_err_set(err, NQ_ENOMEM, NULL, "out of memory building the answer");
    nq_uc_result_free(&res);
    return rc;
}
