/* uc_internal.h - what the unit-commitment files share: the exact hourly
 * dispatch, the per-unit rules (min up/down with the initial status, the
 * hot/cold start-up cost) and the search's entry points.
 *
 * A commitment is n_units x hours bytes, unit-major: on[i * hours + t]. */
#ifndef NQBA_UC_INTERNAL_H
#define NQBA_UC_INTERNAL_H

#include <stdint.h>

#include "nqba/energy.h"

/* Relative tolerance of the hourly demand and reserve tests (the engine's
 * own, so that a commitment it calls feasible passes here too). */
#define NQ__UC_TOL 1e-9

/* Scratch space for the dispatch of one hour: sized for every unit. */
typedef struct nq__uc_work {
    int32_t cap;
    int32_t *idx;      /* committed units of the hour */
    double *bp;        /* their breakpoints of output against lambda, sorted */
    double *p;         /* outputs, in idx order */
    double *all_v;     /* every unit's breakpoints, sorted */
    int32_t *all_unit; /* the unit of each */
    int32_t n_all;
} nq__uc_work;

int nq__uc_work_init(nq__uc_work *w, const nq_uc_unit *units, int32_t n_units);
void nq__uc_work_free(nq__uc_work *w);

/* Economic dispatch of the k units idx[] for demand d, exact: equal
 * incremental cost lambda, each output clamped to [pmin, pmax]; units of
 * zero c at lambda == b share what is left in index order. bp: their m
 * breakpoints b + 2c pmin and (c > 0) b + 2c pmax, sorted. Needs
 * sum pmin <= d <= sum pmax (up to rounding). Writes p[0..k), *lambda (the
 * system marginal cost) and returns the hour's fuel cost. */
double nq__uc_dispatch(const nq_uc_unit *u, const int32_t *idx, int32_t k, double d, double *p,
                       double *lambda, const double *bp, int32_t m);

/* The hour's status for the committed units of column t: 0 fine, 1 short
 * of demand (sum pmax < d), 2 over it (sum pmin > d), 3 short of reserve. */
int nq__uc_hour_status(const nq_uc_problem *pr, double cap, double minp, double d);

/* Dispatch hour t of the commitment on: the fuel cost, or INFINITY when
 * the hour breaks demand or reserve. p_hour (n_units, may be NULL) gets
 * every unit's output (0 when off). */
double nq__uc_hour(const nq_uc_problem *pr, const unsigned char *on, int32_t t, nq__uc_work *w,
                   double *lambda, double *p_hour);

/* Min up/down of one unit's row, initial status included: -1 when it
 * holds, else the hour where it breaks (*why: 1 min up, 2 min down). */
int32_t nq__uc_row_breaks(const nq_uc_unit *u, const unsigned char *row, int32_t hours, int *why);

/* Start-up cost of one unit's row (hot when off for at most min_down +
 * cold_hours hours, initial status counted); *starts gets the count. */
double nq__uc_row_startup(const nq_uc_unit *u, const unsigned char *row, int32_t hours,
                          int32_t *starts);

/* Hours at the start of the horizon the initial status fixes: the unit
 * must stay as it is for that many hours (0 when it may change at once). */
int32_t nq__uc_locked_hours(const nq_uc_unit *u, int32_t hours);

/* Allocate out's arrays for n x hours (zeroed). */
int nq__uc_result_alloc(nq_uc_result *out, int32_t n, int32_t hours, nq_err *err);

/* Whether the commitment model fits the engine's size limits (up to 20,000
 * unit-hours, fewer with long horizons). */
int nq__uc_engine_fits(const nq_uc_problem *p);

/* The engine's candidates (uc_engine.c): up to cap commitments written to
 * cand (cap x n x hours), *n_cand set (0 when the model does not fit).
 * lambda (hours) prices the energy. */
int nq__uc_engine_candidates(const nq_uc_problem *p, const double *lambda, double deadline,
                             unsigned char *cand, int32_t cap, int32_t *n_cand, nq_err *err);

#endif
