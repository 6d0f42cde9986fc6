/* site_internal.h - what the site energy management files share.
 *
 * Conventions the files agree on:
 *  - a load's day d covers steps [d spd, (d + 1) spd) of the horizon (spd:
 *    steps per day); its window in that day is [d spd + start, d spd + end).
 *    A day whose window does not lie wholly inside the horizon (the last,
 *    partial day) asks nothing of the load and the load stays off there:
 *    a per-day energy cannot be split fairly over part of a window.
 *  - under NQ_EN_COST exports earn nothing, in the objective and in every
 *    reported cost (the schedule and the baseline alike), so that savings
 *    compare like with like. */
#ifndef NQBA_FLYFOX_SITE_INTERNAL_H
#define NQBA_FLYFOX_SITE_INTERNAL_H

#include <glpk.h>
#include <stdint.h>

#include "nqba/energy.h"

/* Tolerances of the final check (site_verify.c): W for powers, Wh for
 * energies. Repairs in site_solve.c bring GLPK's answer well inside them. */
#define NQ_EN_TOL_W 1e-6
#define NQ_EN_TOL_WH 1e-6

/* Steps per day: s->steps_per_day, or round(24 / dt_h) when it is 0. */
int32_t nq__en_spd(const nq_en_site *s);

/* Absolute steps [*a, *b) of load l's window on day d; 1 when the window
 * lies wholly inside the horizon (the day asks for the energy), else 0. */
int nq__en_window(const nq_en_site *s, const nq_en_load *l, int32_t d, int32_t *a, int32_t *b);

/* The number of days that begin inside the horizon. */
int32_t nq__en_days(const nq_en_site *s);

/* Export price at step t as the objective sees it (0 under NQ_EN_COST or
 * without prices). */
double nq__en_price_export(const nq_en_site *s, int32_t t);

/* Whether any load needs binaries. */
int nq__en_needs_milp(const nq_en_site *s);

/* On/off load: steps of nominal power a day's energy takes. */
int32_t nq__en_on_steps(const nq_en_site *s, const nq_en_load *l);

/* Every field, then the infeasibilities seen without solving (site_check.c). */
int nq__en_check(const nq_en_site *s, nq_err *err);

/* The model: columns per block (1-based first column, 0 when absent) and
 * each load's column at each step. */
typedef struct nq__en_model {
    glp_prob *P;
    int32_t n;               /* steps */
    int col_imp, col_exp;    /* steps each */
    int col_ch, col_dis;     /* steps each, battery only */
    int col_e;               /* energy at the end of step t, battery only */
    int col_pk;              /* peak import, with a peak charge only */
    int *lcol;               /* n_loads x steps: column of load j at step t, 0: off */
    double *lcoef;           /* n_loads x steps: W per unit of that column */
    int row_export;          /* the exported-energy cap (self-consumption pass 2) */
    int milp;
} nq__en_model;

/* Build the LP or MILP with the objective of s (site_model.c). */
int nq__en_build(const nq_en_site *s, nq__en_model *m, nq_err *err);
/* Objective: 1 the profit (or cost) objective, 0 the exported energy. */
void nq__en_set_objective(const nq_en_site *s, nq__en_model *m, int money);
/* Cap the exported energy (Wh) for the second self-consumption pass. */
void nq__en_cap_export(const nq_en_site *s, nq__en_model *m, double wh);
void nq__en_model_free(nq__en_model *m);

/* Allocate every array of out for s (zeroed). */
int nq__en_schedule_alloc(const nq_en_site *s, nq_en_schedule *out, nq_err *err);

/* Remove pointless simultaneous charge/discharge and import/export where
 * that keeps the schedule feasible and costs nothing (site_verify.c). */
void nq__en_tidy(const nq_en_site *s, nq_en_schedule *out);
/* SOC fractions from the powers (the dynamics, exactly). */
void nq__en_soc(const nq_en_site *s, nq_en_schedule *out);
/* Costs, peak and self-consumption of the schedule's powers. */
void nq__en_costs(const nq_en_site *s, nq_en_schedule *out);
/* The naive schedule's cost (site_baseline.c) on a checked site; strict:
 * imports beyond import_max_w are an error, else they are let through
 * (the comparison figure inside a solve, where the battery may be what
 * keeps imports within the limit). */
int nq__en_baseline_cost(const nq_en_site *s, int strict, double *cost, nq_err *err);
/* The independent check of a schedule: NQ_EINTERNAL naming what fails. */
int nq__en_verify(const nq_en_site *s, const nq_en_schedule *out, nq_err *err);

#endif
