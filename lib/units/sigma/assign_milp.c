/* assign_milp.c - nq_assign_solve_milp: the assignment as a MILP for
 * GLPK, the cross-check of the engine path.
 *
 *   max  sum v_lr x_lr  [- w (hi_load - lo_load)]
 *   s.t. sum_r x_lr <= 1 (= 1 with assign_all)           per lead
 *        lo_r <= sum_l x_lr <= hi_r                       per rep
 *        [sum_l x_lr - hi_load <= 0, sum_l x_lr - lo_load >= 0]
 *        x binary (eligible pairs only), hi_load, lo_load integer
 *
 * The objective reported is recomputed from the rounded answer. */
#include <glpk.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "assign_internal.h"
#include "nqba/clock.h"

typedef struct lp {
    glp_prob *g;
    int *ia, *ja;
    double *ar;
    int nz;
    int spread;
    int col_top, col_bot; /* hi_load, lo_load columns (spread only) */
} lp;

static void put(lp *b, int row, int col, double v)
{
    b->nz++;
    b->ia[b->nz] = row, b->ja[b->nz] = col, b->ar[b->nz] = v;
}

/* Columns 1..n_pairs: x in pair order; then hi_load and lo_load. */
static void columns(lp *b, const nq__assign_prob *p)
{
    int n = (int)p->n_pairs, maxhi = 0;
    for (int32_t r = 0; r < p->R; r++)
        maxhi = p->hi[r] > maxhi ? p->hi[r] : maxhi;
    glp_add_cols(b->g, n + (b->spread ? 2 : 0));
    for (int k = 0; k < n; k++) {
        glp_set_col_kind(b->g, k + 1, GLP_BV);
        glp_set_obj_coef(b->g, k + 1, p->val[k]);
    }
    if (!b->spread)
        return;
    b->col_top = n + 1, b->col_bot = n + 2;
    for (int c = n + 1; c <= n + 2; c++) {
        glp_set_col_kind(b->g, c, GLP_IV);
        glp_set_col_bnds(b->g, c, GLP_DB, 0.0, maxhi);
    }
    glp_set_obj_coef(b->g, b->col_top, -p->s->fairness_weight);
    glp_set_obj_coef(b->g, b->col_bot, p->s->fairness_weight);
}

static void rows(lp *b, const nq__assign_prob *p, const int64_t *rep_first, const int64_t *by_rep)
{
    for (int32_t l = 0; l < p->L; l++) {
        if (p->start[l] == p->start[l + 1])
            continue;
        int r = glp_add_rows(b->g, 1);
        glp_set_row_bnds(b->g, r, p->optional ? GLP_UP : GLP_FX, p->optional ? 0.0 : 1.0, 1.0);
        for (int64_t k = p->start[l]; k < p->start[l + 1]; k++)
            put(b, r, (int)k + 1, 1.0);
    }
    for (int32_t q = 0; q < p->R; q++) {
        int r = glp_add_rows(b->g, 1);
        int type = p->lo[q] == p->hi[q] ? GLP_FX : p->lo[q] > 0 ? GLP_DB : GLP_UP;
        glp_set_row_bnds(b->g, r, type, p->lo[q], p->hi[q]);
        for (int64_t i = rep_first[q]; i < rep_first[q + 1]; i++)
            put(b, r, (int)by_rep[i] + 1, 1.0);
        for (int side = 0; b->spread && side < 2; side++) {
            int s = glp_add_rows(b->g, 1);
            glp_set_row_bnds(b->g, s, side ? GLP_LO : GLP_UP, 0.0, 0.0);
            for (int64_t i = rep_first[q]; i < rep_first[q + 1]; i++)
                put(b, s, (int)by_rep[i] + 1, 1.0);
            put(b, s, side ? b->col_bot : b->col_top, -1.0);
        }
    }
}

/* Pairs grouped by rep (counting sort): by_rep[rep_first[r] ..]. */
static int group_by_rep(const nq__assign_prob *p, int64_t **first, int64_t **by_rep)
{
    *first = calloc((size_t)p->R + 1, sizeof **first);
    *by_rep = malloc((size_t)(p->n_pairs ? p->n_pairs : 1) * sizeof **by_rep);
    int64_t *fill = calloc((size_t)p->R, sizeof *fill);
    if (!*first || !*by_rep || !fill) {
        free(fill);
        return NQ_ENOMEM;
    }
    for (int64_t k = 0; k < p->n_pairs; k++)
        (*first)[p->rep[k] + 1]++;
    for (int32_t r = 0; r < p->R; r++)
        (*first)[r + 1] += (*first)[r];
    for (int64_t k = 0; k < p->n_pairs; k++) {
        int32_t r = p->rep[k];
        (*by_rep)[(*first)[r] + fill[r]++] = k;
    }
    free(fill);
    return NQ_OK;
}

static int intopt(lp *b, const nq__assign_prob *p, double time_limit, int *proven, nq_err *err)
{
    glp_load_matrix(b->g, b->nz, b->ia, b->ja, b->ar);
    glp_iocp parm;
    glp_init_iocp(&parm);
    parm.msg_lev = GLP_MSG_OFF;
    parm.presolve = GLP_ON;
    if (time_limit > 0)
        parm.tm_lim = time_limit * 1000 < 2e9 ? (int)(time_limit * 1000) : 2000000000;
    int was_on = glp_term_out(GLP_OFF);
    int ret = glp_intopt(b->g, &parm), st = glp_mip_status(b->g);
    glp_term_out(was_on);
    if (ret == GLP_ENOPFS || st == GLP_NOFEAS)
        return nq__assign_infeasible(p, 1, err);
    if (st != GLP_OPT && st != GLP_FEAS)
        return nq_err_set(err, ret == GLP_ETMLIM ? NQ_ELIMIT : NQ_EINTERNAL, NULL,
                          "GLPK intopt: return code %d, status %d", ret, st);
    *proven = st == GLP_OPT && ret == 0;
    return NQ_OK;
}

static int milp(const nq__assign_prob *p, double time_limit, nq_assign_result *out, nq_err *err)
{
    lp b = {.spread = p->s->fairness == NQ_ASSIGN_FAIR_SPREAD && p->s->fairness_weight > 0};
    int64_t *first = NULL, *by_rep = NULL;
    size_t nz = (size_t)p->n_pairs * (b.spread ? 4 : 2) + 2 * (size_t)p->R + 1;
    if ((size_t)p->n_pairs * 4 > 2000000000u)
        return nq_err_set(err, NQ_ELIMIT, "/eligibility", "too many pairs for GLPK");
    b.ia = malloc(nz * sizeof *b.ia);
    b.ja = malloc(nz * sizeof *b.ja);
    b.ar = malloc(nz * sizeof *b.ar);
    int rc = b.ia && b.ja && b.ar && !group_by_rep(p, &first, &by_rep)
                 ? NQ_OK
                 : nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    int proven = 0;
    if (!rc && p->n_pairs == 0 && !b.spread) { /* nothing to decide: every lead stays out */
        proven = 1;
        for (int32_t l = 0; l < p->L; l++)
            out->rep_of[l] = -1;
    } else if (!rc) {
        b.g = glp_create_prob();
        glp_set_obj_dir(b.g, GLP_MAX);
        columns(&b, p);
        rows(&b, p, first, by_rep);
        rc = intopt(&b, p, time_limit, &proven, err);
    }
    for (int32_t l = 0; !rc && b.g && l < p->L; l++) {
        out->rep_of[l] = -1;
        for (int64_t k = p->start[l]; k < p->start[l + 1]; k++)
            if (glp_mip_col_val(b.g, (int)k + 1) > 0.5)
                out->rep_of[l] = p->rep[k];
    }
    out->proven_optimal = proven;
    if (b.g)
        glp_delete_prob(b.g);
    free(b.ia);
    free(b.ja);
    free(b.ar);
    free(first);
    free(by_rep);
    return rc;
}

int nq_assign_solve_milp(const nq_assign_spec *s, double time_limit, nq_assign_result *out,
                         nq_err *err)
{
    double t0 = nq_clock_s();
    nq__assign_prob p;
    memset(out, 0, sizeof *out);
    if (!isfinite(time_limit) || time_limit < 0)
        return nq_err_set(err, NQ_EINVAL, "/time_limit", "must be finite and >= 0");
    int rc = nq__assign_prepare(s, &p, err);
    if (rc)
        return rc;
    rc = nq__assign_result_init(&p, out, err);
    if (!rc)
        rc = milp(&p, time_limit, out, err);
    if (!rc) {
        nq__assign_result_fill(&p, out->rep_of, out);
        snprintf(out->method, sizeof out->method, "GLPK intopt");
        out->elapsed = nq_clock_s() - t0;
    } else {
        nq_assign_result_free(out);
    }
    nq__assign_prob_free(&p);
    return rc;
}
