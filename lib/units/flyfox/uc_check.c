/* uc_check.c - unit-commitment inputs and the per-unit rules: the checks
 * of nq_uc_check, min up/down with the initial status, and the start-up
 * cost (hot when the unit was off for at most min_down + cold_hours hours,
 * else cold; the hours off before the horizon count). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "uc_internal.h"

void nq_uc_problem_default(nq_uc_problem *p)
{
    if (!p)
        return;
    *p = (nq_uc_problem){ .reserve = 0.1, .seed = 1, .time_limit = 0 };
}

void nq_uc_result_free(nq_uc_result *r)
{
    if (!r)
        return;
    free(r->on);
    free(r->p);
    free(r->marginal);
    memset(r, 0, sizeof *r);
}

int nq__uc_result_alloc(nq_uc_result *out, int32_t n, int32_t hours, nq_err *err)
{
    size_t nt = (size_t)n * (size_t)hours;
    memset(out, 0, sizeof *out);
    out->n_units = n;
    out->hours = hours;
    out->on = calloc(nt, 1);
    out->p = calloc(nt, sizeof *out->p);
    out->marginal = calloc((size_t)hours, sizeof *out->marginal);
    if (!out->on || !out->p || !out->marginal) {
        nq_uc_result_free(out);
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    }
    return NQ_OK;
}

/* ---- per-unit rules ------------------------------------------------------------------- */

int32_t nq__uc_row_breaks(const nq_uc_unit *u, const unsigned char *row, int32_t hours, int *why)
{
    /* The run in progress at the start includes the hours before it, so a
     * unit on for 2 of its 5 min-up hours must stay on 3 more. A run cut
     * by the end of the horizon is fine. */
    int state = u->initial_status > 0;
    int32_t len = state ? u->initial_status : -u->initial_status;
    for (int32_t t = 0; t < hours; t++) {
        int v = row[t] != 0;
        if (v == state) {
            len++;
            continue;
        }
        if (state && len < u->min_up) {
            *why = 1;
            return t;
        }
        if (!state && len < u->min_down) {
            *why = 2;
            return t;
        }
        state = v;
        len = 1;
    }
    *why = 0;
    return -1;
}

double nq__uc_row_startup(const nq_uc_unit *u, const unsigned char *row, int32_t hours,
                          int32_t *starts)
{
    int64_t off = u->initial_status > 0 ? 0 : -(int64_t)u->initial_status;
    int64_t hot_max = (int64_t)u->min_down + u->cold_hours;
    double cost = 0;
    int32_t n = 0;
    for (int32_t t = 0; t < hours; t++) {
        if (!row[t]) {
            off++;
            continue;
        }
        if (off > 0) {
            cost += off <= hot_max ? u->hot_start : u->cold_start;
            n++;
        }
        off = 0;
    }
    if (starts)
        *starts = n;
    return cost;
}

int32_t nq__uc_locked_hours(const nq_uc_unit *u, int32_t hours)
{
    int64_t h = u->initial_status > 0 ? (int64_t)u->min_up - u->initial_status
                                       : (int64_t)u->min_down + u->initial_status;
    return h <= 0 ? 0 : h > hours ? hours : (int32_t)h;
}

/* ---- checks -------------------------------------------------------------------------- */

static int bad_num(double x) { return !isfinite(x); }

static int check_unit(const nq_uc_unit *u, int32_t i, nq_err *err)
{
    char where[64];
#define UNIT_FAIL(field, ...)                                                                  \
    do {                                                                                       \
        snprintf(where, sizeof where, "/units/%d/%s", (int)i, field);                          \
        return nq_err_set(err, NQ_EINVAL, where, __VA_ARGS__);                                 \
    } while (0)
    if (bad_num(u->pmax) || u->pmax < 0)
        UNIT_FAIL("pmax", "must be a finite number >= 0");
    if (bad_num(u->pmin) || u->pmin < 0)
        UNIT_FAIL("pmin", "must be a finite number >= 0");
    if (u->pmin > u->pmax)
        UNIT_FAIL("pmin", "%g MW is above pmax %g MW", u->pmin, u->pmax);
    if (bad_num(u->a) || fabs(u->a) > 1e12)
        UNIT_FAIL("a", "must be a finite number");
    if (bad_num(u->b) || fabs(u->b) > 1e12)
        UNIT_FAIL("b", "must be a finite number");
    if (bad_num(u->c) || u->c < 0 || u->c > 1e12)
        UNIT_FAIL("c", "must be a finite number >= 0 (a convex cost)");
    if (u->min_up < 1 || u->min_up > NQ_UC_MAX_HOURS * 100)
        UNIT_FAIL("min_up", "must be at least 1 hour");
    if (u->min_down < 1 || u->min_down > NQ_UC_MAX_HOURS * 100)
        UNIT_FAIL("min_down", "must be at least 1 hour");
    if (bad_num(u->hot_start) || u->hot_start < 0 || u->hot_start > 1e12)
        UNIT_FAIL("hot_start", "must be a finite number >= 0");
    if (bad_num(u->cold_start) || u->cold_start < 0 || u->cold_start > 1e12)
        UNIT_FAIL("cold_start", "must be a finite number >= 0");
    if (u->cold_hours < 0 || u->cold_hours > NQ_UC_MAX_HOURS * 100)
        UNIT_FAIL("cold_hours", "must be >= 0");
    if (u->initial_status == 0 || u->initial_status < -1000000 || u->initial_status > 1000000)
        UNIT_FAIL("initial_status", "must be nonzero: > 0 hours on, < 0 hours off");
#undef UNIT_FAIL
    return NQ_OK;
}

/* Hour t against what the initial status allows: the units it keeps on
 * bring at least their pmin, the units it keeps off bring nothing. */
static int check_hour(const nq_uc_problem *p, int32_t t, nq_err *err)
{
    double d = p->demand[t], forced_min = 0, avail = 0;
    for (int32_t i = 0; i < p->n_units; i++) {
        const nq_uc_unit *u = &p->units[i];
        int locked = t < nq__uc_locked_hours(u, p->hours);
        if (locked && u->initial_status > 0)
            forced_min += u->pmin;
        if (!(locked && u->initial_status < 0))
            avail += u->pmax;
    }
    char where[32];
    snprintf(where, sizeof where, "/demand/%d", (int)t);
    double need = (1 + p->reserve) * d;
    if (avail < need - NQ__UC_TOL * (1 + need))
        return nq_err_set(err, NQ_EINVAL, where,
                          "hour %d: %g MW available, demand %g MW plus %g%% reserve needs %g MW",
                          (int)t, avail, d, 100 * p->reserve, need);
    if (forced_min > d + NQ__UC_TOL * (1 + d))
        return nq_err_set(err, NQ_EINVAL, where,
                          "hour %d: units that must stay on bring at least %g MW, above demand "
                          "%g MW",
                          (int)t, forced_min, d);
    return NQ_OK;
}

int nq_uc_check(const nq_uc_problem *p, nq_err *err)
{
    if (!p)
        return nq_err_set(err, NQ_EINVAL, NULL, "no problem");
    if (p->n_units < 1)
        return nq_err_set(err, NQ_EINVAL, "/units", "at least one unit is needed");
    if (p->n_units > NQ_UC_MAX_UNITS)
        return nq_err_set(err, NQ_ELIMIT, "/units", "%d units, over the limit of %d",
                          (int)p->n_units, NQ_UC_MAX_UNITS);
    if (p->hours < 1)
        return nq_err_set(err, NQ_EINVAL, "/hours", "at least one hour is needed");
    if (p->hours > NQ_UC_MAX_HOURS)
        return nq_err_set(err, NQ_ELIMIT, "/hours", "%d hours, over the limit of %d",
                          (int)p->hours, NQ_UC_MAX_HOURS);
    if (!p->units)
        return nq_err_set(err, NQ_EINVAL, "/units", "missing");
    if (!p->demand)
        return nq_err_set(err, NQ_EINVAL, "/demand", "missing");
    if (!isfinite(p->reserve) || p->reserve < 0 || p->reserve > 10)
        return nq_err_set(err, NQ_EINVAL, "/reserve", "must be a fraction in [0, 10]");
    if (!isfinite(p->time_limit) || p->time_limit < 0 || p->time_limit > 86400)
        return nq_err_set(err, NQ_EINVAL, "/time_limit", "must be in [0, 86400] seconds");
    for (int32_t i = 0; i < p->n_units; i++) {
        int rc = check_unit(&p->units[i], i, err);
        if (rc)
            return rc;
    }
    for (int32_t t = 0; t < p->hours; t++) {
        if (!isfinite(p->demand[t]) || p->demand[t] < 0 || p->demand[t] > 1e9) {
            char where[32];
            snprintf(where, sizeof where, "/demand/%d", (int)t);
            return nq_err_set(err, NQ_EINVAL, where, "must be a finite number of MW >= 0");
        }
    }
    for (int32_t t = 0; t < p->hours; t++) {
        int rc = check_hour(p, t, err);
        if (rc)
            return rc;
    }
    return NQ_OK;
}
