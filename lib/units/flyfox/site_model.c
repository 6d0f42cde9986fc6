/* site_model.c - the site as a GLPK LP or MILP.
 *
 * Columns per step t: import, export (W), and with a battery charge,
 * discharge (W) and the stored energy at the end of the step (Wh); one peak
 * column when imports carry a peak charge; one column per load and step of
 * an active window (W for a load at any level; a 0/1 column worth
 * nominal_w for an on/off load, so its power needs no variable and no
 * linking row of its own). Rows:
 *
 *   balance   imp - exp + dis - ch - sum_j P_j = load - pv          (each step)
 *   storage   E_t - E_{t-1} - dt eta_ch ch + dt dis / eta_dis = 0  (E_0 a constant)
 *   peak      pk - imp_t >= 0
 *   energy    sum_day dt P_j = energy (optional: <=), on/off as a count of steps
 *   block     a mandatory single block: x_t - x_{t-1} - y_t + y_{t-k} = 0 with
 *             one start y per day (sum y = 1): x_t is then the sum of the k
 *             starts that cover t, the tightest form (its LP relaxation is the
 *             convex hull of the block positions), with four entries a row.
 *             An optional block, whose length varies: x_t - x_{t-1} <= y_t,
 *             sum y <= 1, sum x <= k. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "site_internal.h"

typedef struct mat {
    int *ia, *ja;
    double *ar;
    int nz, cap;
} mat;

static int put(mat *a, int row, int col, double v)
{
    if (a->nz + 1 >= a->cap) {
        int cap = a->cap ? 2 * a->cap : 1024;
        int *ia = realloc(a->ia, (size_t)cap * sizeof *ia);
        if (ia)
            a->ia = ia;
        int *ja = realloc(a->ja, (size_t)cap * sizeof *ja);
        if (ja)
            a->ja = ja;
        double *ar = realloc(a->ar, (size_t)cap * sizeof *ar);
        if (ar)
            a->ar = ar;
        if (!ia || !ja || !ar)
            return -1;
        a->cap = cap;
    }
    a->nz++;
    a->ia[a->nz] = row, a->ja[a->nz] = col, a->ar[a->nz] = v;
    return 0;
}

static int add_row(glp_prob *P, int type, double lo, double hi)
{
    int r = glp_add_rows(P, 1);
    glp_set_row_bnds(P, r, type, lo, hi);
    return r;
}

static int add_cols(glp_prob *P, int n, int kind, int type, double lo, double hi)
{
    int c = glp_add_cols(P, n);
    for (int k = 0; k < n; k++) {
        glp_set_col_kind(P, c + k, kind);
        glp_set_col_bnds(P, c + k, lo == hi ? GLP_FX : type, lo, hi);
    }
    return c;
}

/* ---- grid, battery, peak ------------------------------------------------------------ */

static void grid_cols(const nq_en_site *s, nq__en_model *m)
{
    int32_t n = s->steps;
    m->col_imp = add_cols(m->P, n, GLP_CV, GLP_DB, 0.0, s->import_max_w);
    m->col_exp = add_cols(m->P, n, GLP_CV, GLP_DB, 0.0, s->export_max_w);
    if (s->peak_charge_eur_per_kw > 0.0) /* the peak never exceeds the import limit */
        m->col_pk = add_cols(m->P, 1, GLP_CV, GLP_DB, 0.0, s->import_max_w);
    const nq_en_battery *b = &s->battery;
    if (!b->present)
        return;
    m->col_ch = add_cols(m->P, n, GLP_CV, GLP_DB, 0.0, b->charge_max_w);
    m->col_dis = add_cols(m->P, n, GLP_CV, GLP_DB, 0.0, b->discharge_max_w);
    m->col_e = add_cols(m->P, n, GLP_CV, GLP_DB, b->soc_min * b->capacity_wh,
                        b->soc_max * b->capacity_wh);
    if (b->soc_final >= 0.0) { /* exact, as the reference model states it */
        double e = b->soc_final * b->capacity_wh;
        glp_set_col_bnds(m->P, m->col_e + n - 1, GLP_FX, e, e);
    }
}

/* Balance rows first, so that balance row t is row t + 1. */
static int grid_rows(const nq_en_site *s, nq__en_model *m, mat *a)
{
    int32_t n = s->steps;
    const nq_en_battery *b = &s->battery;
    int rc = 0;
    for (int32_t t = 0; t < n && !rc; t++) {
        double rhs = s->load_w[t] - (s->pv_w ? s->pv_w[t] : 0.0);
        int r = add_row(m->P, GLP_FX, rhs, rhs);
        rc |= put(a, r, m->col_imp + t, 1.0) | put(a, r, m->col_exp + t, -1.0);
        if (b->present)
            rc |= put(a, r, m->col_dis + t, 1.0) | put(a, r, m->col_ch + t, -1.0);
    }
    for (int32_t t = 0; b->present && t < n && !rc; t++) {
        double e0 = t == 0 ? b->soc_initial * b->capacity_wh : 0.0;
        int r = add_row(m->P, GLP_FX, e0, e0);
        rc |= put(a, r, m->col_e + t, 1.0);
        if (t > 0)
            rc |= put(a, r, m->col_e + t - 1, -1.0);
        rc |= put(a, r, m->col_ch + t, -s->dt_h * b->eta_charge);
        rc |= put(a, r, m->col_dis + t, s->dt_h / b->eta_discharge);
    }
    for (int32_t t = 0; m->col_pk && t < n && !rc; t++) {
        int r = add_row(m->P, GLP_LO, 0.0, 0.0);
        rc |= put(a, r, m->col_pk, 1.0) | put(a, r, m->col_imp + t, -1.0);
    }
    return rc;
}

/* ---- loads -------------------------------------------------------------------------- */

/* One load's columns over [lo, hi) and its energy row. */
static int load_day(const nq_en_site *s, nq__en_model *m, mat *a, int32_t j, int32_t lo,
                    int32_t hi)
{
    const nq_en_load *l = &s->loads[j];
    int32_t w = hi - lo;
    int bin = l->on_off, c = add_cols(m->P, w, bin ? GLP_BV : GLP_CV, GLP_DB, 0.0,
                                      bin ? 1.0 : l->nominal_w);
    double unit = bin ? l->nominal_w : 1.0;
    for (int32_t t = lo; t < hi; t++) {
        m->lcol[(size_t)j * s->steps + t] = c + t - lo;
        m->lcoef[(size_t)j * s->steps + t] = unit;
    }
    /* On/off energy as a count of steps: whole numbers keep the row exact. */
    double rhs = bin ? nq__en_on_steps(s, l) : l->energy_wh, coef = bin ? 1.0 : s->dt_h;
    int r = add_row(m->P, l->optional ? GLP_UP : GLP_FX, rhs, rhs);
    int rc = 0;
    for (int32_t k = 0; k < w && !rc; k++)
        rc = put(a, r, c + k, coef);
    return rc;
}

/* A mandatory block of k steps in [lo, hi): starts y_s for s in
 * [lo, hi - k], x continuous in [0, 1] and fixed by the starts. */
static int block_day(const nq_en_site *s, nq__en_model *m, mat *a, int32_t j, int32_t lo,
                     int32_t hi, int32_t k)
{
    const nq_en_load *l = &s->loads[j];
    int32_t w = hi - lo, ns = w - k + 1;
    int x = add_cols(m->P, w, GLP_CV, GLP_DB, 0.0, 1.0);
    int y = add_cols(m->P, ns, GLP_BV, GLP_DB, 0.0, 1.0);
    for (int32_t t = lo; t < hi; t++) {
        m->lcol[(size_t)j * s->steps + t] = x + t - lo;
        m->lcoef[(size_t)j * s->steps + t] = l->nominal_w;
    }
    int rc = 0;
    for (int32_t i = 0; i < w && !rc; i++) { /* x_i - x_{i-1} - y_i + y_{i-k} = 0 */
        int r = add_row(m->P, GLP_FX, 0.0, 0.0);
        rc |= put(a, r, x + i, 1.0);
        if (i > 0)
            rc |= put(a, r, x + i - 1, -1.0);
        if (i < ns)
            rc |= put(a, r, y + i, -1.0);
        if (i - k >= 0 && i - k < ns)
            rc |= put(a, r, y + i - k, 1.0);
    }
    int r = add_row(m->P, GLP_FX, 1.0, 1.0);
    for (int32_t i = 0; i < ns && !rc; i++)
        rc = put(a, r, y + i, 1.0);
    return rc;
}

/* An optional block: x binary, a start y_i wherever x switches on. */
static int optional_block(const nq_en_site *s, nq__en_model *m, mat *a, int32_t j, int32_t lo,
                          int32_t hi)
{
    int rc = load_day(s, m, a, j, lo, hi);
    int32_t w = hi - lo;
    int x = m->lcol[(size_t)j * s->steps + lo];
    int y = add_cols(m->P, w, GLP_BV, GLP_DB, 0.0, 1.0);
    for (int32_t i = 0; i < w && !rc; i++) {
        int r = add_row(m->P, GLP_UP, 0.0, 0.0);
        rc |= put(a, r, x + i, 1.0) | put(a, r, y + i, -1.0);
        if (i > 0)
            rc |= put(a, r, x + i - 1, -1.0);
    }
    int r = add_row(m->P, GLP_UP, 1.0, 1.0);
    for (int32_t i = 0; i < w && !rc; i++)
        rc = put(a, r, y + i, 1.0);
    return rc;
}

static int load_rows(const nq_en_site *s, nq__en_model *m, mat *a)
{
    int32_t days = nq__en_days(s);
    for (int32_t j = 0; j < s->n_loads; j++) {
        const nq_en_load *l = &s->loads[j];
        int32_t k = l->on_off ? nq__en_on_steps(s, l) : 0;
        if (l->energy_wh <= 0.0 || (l->on_off && k == 0))
            continue; /* nothing to serve: the load stays off */
        for (int32_t d = 0; d < days; d++) {
            int32_t lo, hi;
            if (!nq__en_window(s, l, d, &lo, &hi))
                continue;
            int rc = !l->single_block ? load_day(s, m, a, j, lo, hi)
                     : l->optional    ? optional_block(s, m, a, j, lo, hi)
                                      : block_day(s, m, a, j, lo, hi, k);
            if (rc)
                return rc;
        }
    }
    /* Each load's power enters its step's balance (row t + 1). */
    for (int32_t j = 0; j < s->n_loads; j++)
        for (int32_t t = 0; t < s->steps; t++) {
            size_t i = (size_t)j * s->steps + t;
            if (m->lcol[i] && put(a, t + 1, m->lcol[i], -m->lcoef[i]))
                return -1;
        }
    return 0;
}

/* ---- objective and the model ---------------------------------------------------------- */

void nq__en_set_objective(const nq_en_site *s, nq__en_model *m, int money)
{
    int n = glp_get_num_cols(m->P);
    for (int c = 1; c <= n; c++)
        glp_set_obj_coef(m->P, c, 0.0);
    double k = s->dt_h / 1000.0;
    for (int32_t t = 0; t < s->steps; t++) {
        if (!money) {
            glp_set_obj_coef(m->P, m->col_exp + t, s->dt_h);
            continue;
        }
        glp_set_obj_coef(m->P, m->col_imp + t, k * s->price_import[t]);
        glp_set_obj_coef(m->P, m->col_exp + t, -k * nq__en_price_export(s, t));
        for (int32_t j = 0; j < s->n_loads; j++) {
            size_t i = (size_t)j * s->steps + t;
            if (m->lcol[i] && s->loads[j].optional)
                glp_set_obj_coef(m->P, m->lcol[i],
                                 -k * s->loads[j].value_eur_per_kwh * m->lcoef[i]);
        }
    }
    if (money && m->col_pk)
        glp_set_obj_coef(m->P, m->col_pk, s->peak_charge_eur_per_kw / 1000.0);
}

void nq__en_cap_export(const nq_en_site *s, nq__en_model *m, double wh)
{
    int n = s->steps;
    int *ind = malloc((size_t)(n + 1) * sizeof *ind);
    double *val = malloc((size_t)(n + 1) * sizeof *val);
    if (!ind || !val) { /* no cap: the second pass then only loses its tie-break */
        free(ind);
        free(val);
        return;
    }
    for (int t = 0; t < n; t++)
        ind[t + 1] = m->col_exp + t, val[t + 1] = s->dt_h;
    m->row_export = add_row(m->P, GLP_UP, wh, wh);
    glp_set_mat_row(m->P, m->row_export, n, ind, val);
    free(ind);
    free(val);
}

int nq__en_build(const nq_en_site *s, nq__en_model *m, nq_err *err)
{
    *m = (nq__en_model){.n = s->steps, .milp = nq__en_needs_milp(s)};
    size_t cells = (size_t)(s->n_loads ? s->n_loads : 1) * s->steps;
    m->lcol = calloc(cells, sizeof *m->lcol);
    m->lcoef = calloc(cells, sizeof *m->lcoef);
    m->P = glp_create_prob();
    mat a = {.nz = 0};
    int rc = m->lcol && m->lcoef && m->P ? 0 : -1;
    if (!rc) {
        glp_set_obj_dir(m->P, GLP_MIN);
        grid_cols(s, m);
        rc = grid_rows(s, m, &a);
    }
    if (!rc)
        rc = load_rows(s, m, &a);
    if (!rc) {
        glp_load_matrix(m->P, a.nz, a.ia, a.ja, a.ar);
        nq__en_set_objective(s, m, s->objective != NQ_EN_SELF_CONSUMPTION);
    }
    free(a.ia);
    free(a.ja);
    free(a.ar);
    if (rc) {
        nq__en_model_free(m);
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory building the site model");
    }
    return 0;
}

void nq__en_model_free(nq__en_model *m)
{
    if (m->P)
        glp_delete_prob(m->P);
    free(m->lcol);
    free(m->lcoef);
    *m = (nq__en_model){.P = NULL};
}
