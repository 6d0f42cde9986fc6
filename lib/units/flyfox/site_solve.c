/* site_solve.c - nq_en_site_solve: check, build, solve with GLPK (simplex
 * for an LP, branch and bound for on/off loads), read the schedule back,
 * repair GLPK's last-digit residuals, tidy, cost and verify it.
 *
 * The self-consumption objective runs two passes on one model: the least
 * exported energy first, then the profit objective with the exported
 * energy capped at that least value (plus 1e-7 relative), so the profit
 * only breaks ties and no weight has to be chosen. */
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nqba/clock.h"
#include "site_internal.h"

void nq_en_site_default(nq_en_site *s)
{
    if (!s)
        return;
    *s = (nq_en_site){.steps = 0, .dt_h = 1.0, .objective = NQ_EN_PROFIT};
    s->battery = (nq_en_battery){.present = 0, .eta_charge = 1.0, .eta_discharge = 1.0,
                                 .soc_min = 0.0, .soc_max = 1.0, .soc_initial = 0.0,
                                 .soc_final = -1.0};
}

void nq_en_schedule_free(nq_en_schedule *s)
{
    if (!s)
        return;
    free(s->import_w);
    free(s->export_w);
    free(s->charge_w);
    free(s->discharge_w);
    free(s->soc);
    free(s->load_w);
    *s = (nq_en_schedule){.steps = 0};
}

int nq__en_schedule_alloc(const nq_en_site *s, nq_en_schedule *out, nq_err *err)
{
    size_t n = (size_t)s->steps;
    *out = (nq_en_schedule){.steps = s->steps, .n_loads = s->n_loads};
    out->import_w = calloc(n, sizeof(double));
    out->export_w = calloc(n, sizeof(double));
    out->charge_w = calloc(n, sizeof(double));
    out->discharge_w = calloc(n, sizeof(double));
    out->soc = calloc(n + 1, sizeof(double));
    out->load_w = calloc(n * (size_t)(s->n_loads ? s->n_loads : 1), sizeof(double));
    if (out->import_w && out->export_w && out->charge_w && out->discharge_w && out->soc &&
        out->load_w)
        return 0;
    nq_en_schedule_free(out);
    return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory for the schedule");
}

/* ---- GLPK ----------------------------------------------------------------------------- */

typedef struct run {
    const nq_en_site *s;
    double t0, limit;
    double bound;   /* best bound seen in the tree (MILP), -inf when none */
    int cancelled;
    int late;       /* the callback stopped the search at the time limit */
    int status;     /* 0 optimal, 1 feasible (time limit), 2 infeasible */
    int gap_stop;   /* stopped at mip_gap: optimal within it */
} run;

static int ms_left(const run *r)
{
    double left = ceil((r->limit - (nq_clock_s() - r->t0)) * 1e3);
    return left < 1.0 ? 1 : left > (double)INT_MAX ? INT_MAX : (int)left;
}

/* glp_intopt reports no bound after a stop, so the callback keeps the best
 * bound of the open nodes (each a valid lower bound on the optimum when
 * seen, hence so is the largest); it also answers the caller's cancel and
 * enforces the time limit where GLPK's own check comes late (root cuts). */
static void on_tree(glp_tree *T, void *info)
{
    run *r = info;
    int p = glp_ios_best_node(T);
    if (p) {
        double b = glp_ios_node_bound(T, p);
        if (isfinite(b) && b > r->bound)
            r->bound = b;
    }
    if (r->s->cancel && atomic_load(r->s->cancel)) {
        r->cancelled = 1;
        glp_ios_terminate(T);
    } else if (nq_clock_s() - r->t0 > r->limit) {
        r->late = 1;
        glp_ios_terminate(T);
    }
}

static int solve_lp(const nq__en_model *m, run *r)
{
    glp_smcp p;
    glp_init_smcp(&p);
    p.msg_lev = GLP_MSG_OFF;
    p.presolve = GLP_ON;
    int was = glp_term_out(GLP_OFF);
    int ret = glp_simplex(m->P, &p), st = glp_get_status(m->P);
    glp_term_out(was);
    if (ret == GLP_ENOPFS || (ret == 0 && st == GLP_NOFEAS)) {
        r->status = 2;
        return 0;
    }
    r->status = 0;
    return ret == 0 && st == GLP_OPT ? 0 : -1;
}

static int solve_mip(const nq__en_model *m, run *r)
{
    glp_iocp o;
    glp_init_iocp(&o);
    o.msg_lev = GLP_MSG_OFF;
    o.presolve = GLP_ON;
    /* Mixed-integer rounding cuts close the on/off loads' gap at the root
     * (the 48-h reference case: 20 ms instead of minutes of branching);
     * the feasibility pump finds a first schedule early on long horizons.
     * Pseudo-cost branching is left off: its start-up ignores tm_lim. */
    o.mir_cuts = GLP_ON;
    o.cov_cuts = GLP_ON;
    o.clq_cuts = GLP_ON;
    o.gmi_cuts = GLP_ON;
    o.fp_heur = GLP_ON;
    o.mip_gap = r->s->mip_gap > 0.0 ? r->s->mip_gap : 1e-6;
    o.tm_lim = ms_left(r);
    o.cb_func = on_tree;
    o.cb_info = r;
    r->status = 0;
    int was = glp_term_out(GLP_OFF);
    int ret = glp_intopt(m->P, &o), st = glp_mip_status(m->P);
    glp_term_out(was);
    if (r->cancelled)
        return 0;
    if (ret == GLP_ENOPFS || st == GLP_NOFEAS) {
        r->status = 2;
        return 0;
    }
    if (st == GLP_OPT || st == GLP_FEAS) {
        r->gap_stop |= ret == GLP_EMIPGAP;
        if (st == GLP_FEAS && ret != GLP_EMIPGAP)
            r->status = 1;
        return 0;
    }
    return ret == GLP_ETMLIM || (ret == GLP_ESTOP && r->late) ? 1 : -1;
}

static int infeasible(const nq_en_site *s, nq_err *err)
{
    return nq_err_set(err, NQ_EINVAL, "/load",
                      "no schedule covers the load within the grid limits (import_max_w %g W, "
                      "export_max_w %g W), the battery and the loads' windows",
                      s->import_max_w, s->export_max_w);
}

/* One pass: 0 solved (r->status set), else an error. */
static int solve_pass(const nq_en_site *s, const nq__en_model *m, run *r, nq_err *err)
{
    int rc = m->milp ? solve_mip(m, r) : solve_lp(m, r);
    if (r->cancelled)
        return nq_err_set(err, NQ_ECANCEL, NULL, "cancelled");
    if (rc > 0)
        return nq_err_set(err, NQ_ELIMIT, "/time_limit",
                          "no schedule found within %g s (on/off loads)", r->limit);
    if (rc < 0)
        return nq_err_set(err, NQ_EINTERNAL, NULL, "GLPK did not solve the site model");
    return r->status == 2 ? infeasible(s, err) : 0;
}

static double obj_val(const nq__en_model *m)
{
    return m->milp ? glp_mip_obj_val(m->P) : glp_get_obj_val(m->P);
}

static int solve_model(const nq_en_site *s, nq__en_model *m, run *r, nq_err *err)
{
    if (s->cancel && atomic_load(s->cancel))
        return nq_err_set(err, NQ_ECANCEL, NULL, "cancelled");
    int was = glp_term_out(GLP_OFF);
    glp_scale_prob(m->P, GLP_SF_AUTO);
    glp_term_out(was);
    int rc = solve_pass(s, m, r, err);
    if (rc || s->objective != NQ_EN_SELF_CONSUMPTION)
        return rc;
    double least = obj_val(m);
    int first = r->status;
    r->bound = -HUGE_VAL;
    nq__en_cap_export(s, m, least + 1e-7 * (1.0 + least));
    nq__en_set_objective(s, m, 1);
    rc = solve_pass(s, m, r, err);
    if (!rc && first == 1)
        r->status = 1; /* the export cap itself was only the best found */
    return rc;
}

/* ---- reading the schedule back ---------------------------------------------------------- */

static double col(const nq__en_model *m, int c)
{
    return m->milp ? glp_mip_col_val(m->P, c) : glp_get_col_prim(m->P, c);
}

static double clamp(double v, double lo, double hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

static void read_powers(const nq_en_site *s, const nq__en_model *m, nq_en_schedule *out)
{
    const nq_en_battery *b = &s->battery;
    for (int32_t t = 0; t < s->steps; t++) {
        out->import_w[t] = clamp(col(m, m->col_imp + t), 0.0, s->import_max_w);
        out->export_w[t] = clamp(col(m, m->col_exp + t), 0.0, s->export_max_w);
        if (b->present) {
            out->charge_w[t] = clamp(col(m, m->col_ch + t), 0.0, b->charge_max_w);
            out->discharge_w[t] = clamp(col(m, m->col_dis + t), 0.0, b->discharge_max_w);
        }
        for (int32_t j = 0; j < s->n_loads; j++) {
            size_t i = (size_t)j * s->steps + t;
            const nq_en_load *l = &s->loads[j];
            if (!m->lcol[i])
                continue;
            double v = col(m, m->lcol[i]);
            out->load_w[i] = l->on_off ? (v > 0.5 ? l->nominal_w : 0.0)
                                       : clamp(v, 0.0, l->nominal_w);
        }
    }
}

/* GLPK meets an energy row to its tolerance; the residual (last digits)
 * goes to the steps with room, so the day's energy is exact. */
static void repair_energy(const nq_en_site *s, nq_en_schedule *out, int32_t j, int32_t lo,
                          int32_t hi)
{
    const nq_en_load *l = &s->loads[j];
    double *p = out->load_w + (size_t)j * s->steps, sum = 0.0;
    for (int32_t t = lo; t < hi; t++)
        sum += p[t] * s->dt_h;
    double r = (l->energy_wh - sum) / s->dt_h; /* W to add over the day */
    if (l->on_off || (l->optional && r >= 0.0))
        return;
    for (int32_t t = lo; t < hi && r != 0.0; t++) {
        double v = clamp(p[t] + r, 0.0, l->nominal_w);
        r -= v - p[t];
        p[t] = v;
    }
}

/* Imports and exports take the balance's residual, so each step balances
 * to rounding. */
static void repair_balance(const nq_en_site *s, nq_en_schedule *out)
{
    for (int32_t t = 0; t < s->steps; t++) {
        double need = s->load_w[t] - (s->pv_w ? s->pv_w[t] : 0.0) + out->charge_w[t] -
                      out->discharge_w[t];
        for (int32_t j = 0; j < s->n_loads; j++)
            need += out->load_w[(size_t)j * s->steps + t];
        double r = need - (out->import_w[t] - out->export_w[t]);
        if (r > 0.0 || out->import_w[t] >= -r)
            out->import_w[t] += r;
        else
            out->export_w[t] -= r;
    }
}

static void read_schedule(const nq_en_site *s, const nq__en_model *m, nq_en_schedule *out)
{
    read_powers(s, m, out);
    for (int32_t j = 0; j < s->n_loads; j++)
        for (int32_t d = 0; d < nq__en_days(s); d++) {
            int32_t lo, hi;
            if (nq__en_window(s, &s->loads[j], d, &lo, &hi))
                repair_energy(s, out, j, lo, hi);
        }
    repair_balance(s, out);
}

/* ---- the call ----------------------------------------------------------------------- */

static void set_status(const nq__en_model *m, const run *r, nq_en_schedule *out)
{
    out->milp = m->milp;
    out->iterations = glp_get_it_cnt(m->P);
    snprintf(out->status, sizeof out->status, "%s", r->status == 1 ? "feasible" : "optimal");
    out->gap = 0.0;
    if (!m->milp || (r->status == 0 && !r->gap_stop) || !isfinite(r->bound))
        return;
    double obj = glp_mip_obj_val(m->P);
    double g = (obj - r->bound) / (fabs(obj) + DBL_EPSILON);
    out->gap = isfinite(g) && g > 0.0 ? g : 0.0;
}

/* The schedule's money never exceeds what GLPK optimized: tidying only
 * lowers it, and a larger value means the reading went wrong. */
static int check_objective(const nq__en_model *m, const nq_en_schedule *out, nq_err *err)
{
    double obj = obj_val(m);
    if (out->cost_eur <= obj + 1e-6 + 1e-9 * fabs(obj))
        return 0;
    return nq_err_set(err, NQ_EINTERNAL, NULL,
                      "schedule cost %.9g EUR exceeds the solver's optimum %.9g EUR",
                      out->cost_eur, obj);
}

static int finish(const nq_en_site *s, const nq__en_model *m, const run *r, nq_en_schedule *out,
                  nq_err *err)
{
    int rc = nq__en_schedule_alloc(s, out, err);
    if (rc)
        return rc;
    read_schedule(s, m, out);
    nq__en_tidy(s, out);
    nq__en_soc(s, out);
    nq__en_costs(s, out);
    set_status(m, r, out);
    rc = nq__en_verify(s, out, err);
    if (!rc)
        rc = check_objective(m, out, err);
    if (rc)
        nq_en_schedule_free(out);
    return rc;
}

int nq_en_site_solve(const nq_en_site *s, nq_en_schedule *out, nq_err *err)
{
    if (!out)
        return nq_err_set(err, NQ_EINVAL, NULL, "no schedule to fill");
    *out = (nq_en_schedule){.steps = 0};
    if (!s)
        return nq_err_set(err, NQ_EINVAL, NULL, "no site");
    int rc = nq__en_check(s, err);
    if (rc)
        return rc;
    nq__en_model m;
    rc = nq__en_build(s, &m, err);
    if (rc)
        return rc;
    run r = {.s = s, .t0 = nq_clock_s(), .limit = s->time_limit > 0.0 ? s->time_limit : 10.0,
             .bound = -HUGE_VAL};
    rc = solve_model(s, &m, &r, err);
    if (!rc)
        rc = finish(s, &m, &r, out, err);
    nq__en_model_free(&m);
    if (rc)
        return rc;
    double base = 0.0;
    if (nq__en_baseline_cost(s, 0, &base, NULL) == 0) {
        out->baseline_cost_eur = base;
        out->savings_eur = base - out->cost_eur;
    }
    return 0;
}
