/* energy.h - FLYFOX AI: site energy management (battery, PV, deferrable
 * loads against time-of-use prices; LP or MILP on GLPK) and thermal unit
 * commitment (the engine over on/off decisions, economic dispatch solved
 * exactly per hour; a GLPK MILP cross-check).
 *
 *   nq_en_site_solve(&site, &sched, &err)   the cheapest schedule
 *   nq_en_baseline(&site, &cost, &err)      no battery, loads at window start
 *   nq_uc_solve(&uc, &res, &err)            commitment + dispatch by the engine
 *   nq_uc_solve_milp(&uc, K, ..., &res, &err) the exact MILP (K tangents per unit-hour)
 *
 * Units: power in W (site) or MW (unit commitment), energy in Wh, prices in
 * EUR per kWh (site) or USD per MWh through the cost curve (UC), time in
 * hours. Pure computation: no I/O, no global state. Every answer is checked
 * before it is returned (balance each step, state of charge dynamics and
 * bounds, energy delivered; demand, reserve, min up/down) and every number
 * in it is finite. */
#ifndef NQBA_ENERGY_H
#define NQBA_ENERGY_H

#include <stdatomic.h>
#include <stdint.h>

#include "nqba/err.h"

#define NQ_EN_MAX_STEPS 20000 /* steps in a site horizon */
#define NQ_EN_MAX_LOADS 32    /* deferrable loads */
#define NQ_EN_NAME_MAX 48
#define NQ_UC_MAX_UNITS 1000
#define NQ_UC_MAX_HOURS 168

/* ---- site energy management ------------------------------------------------------ */

typedef enum nq_en_objective {
    NQ_EN_PROFIT = 0,          /* min sum dt (p_imp price_imp - p_exp price_exp) (default) */
    NQ_EN_COST = 1,            /* min sum dt p_imp price_imp (export earns nothing) */
    NQ_EN_SELF_CONSUMPTION = 2 /* min energy exported, then the profit objective */
} nq_en_objective;

typedef struct nq_en_battery {
    int present;              /* 0: no battery */
    double capacity_wh;       /* > 0 */
    double charge_max_w;      /* >= 0 */
    double discharge_max_w;   /* >= 0 */
    double eta_charge;        /* (0, 1] */
    double eta_discharge;     /* (0, 1] */
    double soc_min, soc_max;  /* fractions of capacity, 0 <= min <= max <= 1 */
    double soc_initial;       /* fraction, within [soc_min, soc_max] */
    double soc_final;         /* fraction at the end; < 0: at least soc_min, else free */
} nq_en_battery;

/* A load to schedule: energy_wh per day (each block of steps_per_day steps
 * from the start of the horizon) within the window [window_start,
 * window_end) of step offsets in that day. */
typedef struct nq_en_load {
    char name[NQ_EN_NAME_MAX];
    double nominal_w;       /* > 0: the most it draws */
    double energy_wh;       /* per day; must fit the window at nominal power */
    int32_t window_start;   /* step offset in the day, >= 0 */
    int32_t window_end;     /* exclusive, <= steps_per_day; 0: the whole day */
    int on_off;             /* 1: semi-continuous, 0 or nominal_w (MILP); 0: any level */
    int single_block;       /* 1: runs in one contiguous block per day (needs on_off) */
    int optional;           /* 1: may be skipped; value_eur_per_kwh rewards what is served */
    double value_eur_per_kwh; /* optional loads only, >= 0 */
} nq_en_load;

typedef struct nq_en_site {
    int32_t steps;             /* 1..NQ_EN_MAX_STEPS */
    double dt_h;               /* step length in hours, (0, 24] */
    int32_t steps_per_day;     /* 0: round(24 / dt_h) */
    const double *load_w;      /* steps, >= 0: the load without the deferrable loads */
    const double *pv_w;        /* steps, >= 0 (NULL: none) */
    const double *price_import; /* steps, EUR/kWh */
    const double *price_export; /* steps, EUR/kWh (NULL: 0) */
    double import_max_w, export_max_w; /* >= 0 */
    nq_en_battery battery;
    const nq_en_load *loads;
    int32_t n_loads;
    double peak_charge_eur_per_kw; /* >= 0: times the largest import in kW */
    nq_en_objective objective;
    double time_limit;         /* seconds for the MILP, 0: 10 */
    double mip_gap;            /* relative, 0: 1e-6 */
    const atomic_int *cancel;
} nq_en_site;

void nq_en_site_default(nq_en_site *s); /* dt 1 h, objective profit, no battery */

typedef struct nq_en_schedule {
    int32_t steps, n_loads;
    double *import_w, *export_w;     /* steps each */
    double *charge_w, *discharge_w;  /* steps each (0 without a battery) */
    double *soc;                     /* steps + 1: the fraction at each step's start, then the end */
    double *load_w;                  /* n_loads x steps: each deferrable load */
    double cost_eur;                 /* import cost - export revenue + peak charge - optional value */
    double energy_cost_eur;          /* import cost - export revenue */
    double peak_import_w;
    double baseline_cost_eur;        /* nq_en_baseline */
    double savings_eur;              /* baseline - cost */
    double self_consumption;         /* share of PV used on site, [0, 1] (0 without PV) */
    int milp;                        /* 1: binaries were needed (on/off loads) */
    double gap;                      /* relative optimality gap (0 for an LP) */
    char status[24];                 /* "optimal", "feasible" (time limit, gap > mip_gap) */
    int64_t iterations;
} nq_en_schedule;
void nq_en_schedule_free(nq_en_schedule *s); /* NULL-safe */

/* Check s (err->where a request-style pointer: "/load", "/battery/soc_min",
 * "/loads/1/window_end" ...), build the LP or MILP, solve it with GLPK and
 * verify the schedule. Infeasible (a final SOC that cannot be reached, a
 * load that cannot fit its window, a grid limit too small for the load):
 * NQ_EINVAL naming the field that makes it so. */
int nq_en_site_solve(const nq_en_site *s, nq_en_schedule *out, nq_err *err);

/* The naive schedule's cost: no battery, each load at nominal power from
 * its window's start until its energy is served; imports and exports as
 * the balance needs (clipped to the grid limits: NQ_EINVAL "/import_max_w"
 * when the limit cannot cover it). */
int nq_en_baseline(const nq_en_site *s, double *cost_eur, nq_err *err);

/* ---- unit commitment ----------------------------------------------------------------- */

typedef struct nq_uc_unit {
    char name[NQ_EN_NAME_MAX];
    double pmax, pmin;       /* MW, 0 <= pmin <= pmax */
    double a, b, c;          /* fuel cost a + b P + c P^2 (USD/h), c >= 0 */
    int32_t min_up, min_down; /* hours, >= 1 */
    double hot_start, cold_start; /* USD */
    int32_t cold_hours;      /* hot if off for at most min_down + cold_hours hours */
    int32_t initial_status;  /* > 0: on for that many hours; < 0: off for that many */
} nq_uc_unit;

typedef struct nq_uc_problem {
    int32_t n_units, hours;
    const nq_uc_unit *units;
    const double *demand;    /* hours, MW */
    double reserve;          /* spinning reserve: sum pmax u >= (1 + reserve) demand; 0.1 */
    uint64_t seed;
    double time_limit;       /* seconds for the search, 0: 2 */
    const atomic_int *cancel;
} nq_uc_problem;

void nq_uc_problem_default(nq_uc_problem *p);

typedef struct nq_uc_result {
    int32_t n_units, hours;
    unsigned char *on;       /* n_units x hours */
    double *p;               /* n_units x hours, MW */
    double *marginal;        /* hours: the system marginal cost (USD/MWh) */
    double total_cost, fuel_cost, startup_cost;
    int32_t startups;
    double lower_bound;      /* MILP only: the proven lower bound; else 0 */
    char method[64];
    int64_t iterations;      /* commitments evaluated, or MILP nodes */
} nq_uc_result;
void nq_uc_result_free(nq_uc_result *r);

/* Check the units and demand (err->where "/units/3/pmin", "/demand/5" ...;
 * a demand or reserve no commitment can meet: NQ_EINVAL "/demand/h"). */
int nq_uc_check(const nq_uc_problem *p, nq_err *err);

/* The cost of a given commitment: start-ups (hot/cold by the convention
 * above, counting the initial status) and each hour's exact economic
 * dispatch. NQ_EINVAL when it breaks demand, reserve or min up/down (err
 * says which unit and hour). */
int nq_uc_evaluate(const nq_uc_problem *p, const unsigned char *on, nq_uc_result *out,
                   nq_err *err);

/* Commitment by the engine, dispatch exact. */
int nq_uc_solve(const nq_uc_problem *p, nq_uc_result *out, nq_err *err);

/* The exact cross-check: a MILP with K tangent cuts of each quadratic per
 * unit-hour (an outer approximation: its optimum is a lower bound), solved
 * by GLPK within time_limit; the commitment found is then evaluated exactly
 * (nq_uc_evaluate), so total_cost is an upper bound and lower_bound the
 * MILP's bound. */
int nq_uc_solve_milp(const nq_uc_problem *p, int32_t tangents, double time_limit,
                     nq_uc_result *out, nq_err *err);

#endif
