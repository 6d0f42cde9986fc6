/* lp_glpk.c - the plain LP/MILP path of lp.h: GLPK's reader, then its
 * simplex (with the presolver) and, when there are integer columns, its
 * branch-and-cut with the cuts that make mixed models like the site energy
 * schedules solve at the root (mixed-integer rounding, Gomory, cover,
 * clique). A callback enforces the time limit. */
#include <glpk.h>
#include <stdlib.h>
#include <string.h>

#include "glpk_read.h"
#include "nqba/lp.h"

#define LP_DEFAULT_TIME 60.0
#define LP_DEFAULT_GAP 1e-9
#define LP_MAX_INPUT (256 << 20)

void nq_lp_result_free(nq_lp_result *r)
{
    if (!r)
        return;
    for (int32_t j = 0; r->names && j < r->n_cols; j++)
        free(r->names[j]);
    free(r->names);
    free(r->values);
    memset(r, 0, sizeof *r);
}

static int valid_format(const char *format)
{
    return format && (!strcmp(format, "mps") || !strcmp(format, "mps-fixed") ||
                      !strcmp(format, "lp"));
}

int nq_lp_needs_plain(const char *data, size_t len, const char *format)
{
    if (!valid_format(format))
        return NQ_EINVAL;
    glp_prob *P = NULL;
    int rc = nq__glpk_read(data, len, "input", format, &P, NULL);
    if (rc)
        return rc;
    int plain = 0;
    for (int j = 1; j <= glp_get_num_cols(P) && !plain; j++)
        plain = glp_get_col_kind(P, j) == GLP_CV;
    glp_delete_prob(P);
    return plain;
}

static const char *lp_status(int st)
{
    switch (st) {
    case GLP_OPT:
        return "optimal";
    case GLP_FEAS:
        return "feasible";
    case GLP_NOFEAS:
    case GLP_INFEAS:
        return "infeasible";
    case GLP_UNBND:
        return "unbounded";
    default:
        return "undefined";
    }
}

static int run_simplex(glp_prob *P, nq_lp_result *out)
{
    glp_smcp sp;
    glp_init_smcp(&sp);
    sp.msg_lev = GLP_MSG_OFF;
    sp.presolve = GLP_ON;
    int ret = glp_simplex(P, &sp);
    out->iterations = glp_get_it_cnt(P);
    if (ret == GLP_ENOPFS || ret == GLP_ENODFS) {
        snprintf(out->status, sizeof out->status, "%s",
                 ret == GLP_ENOPFS ? "infeasible" : "unbounded");
        return 1; /* answered: nothing more to do */
    }
    snprintf(out->status, sizeof out->status, "%s", lp_status(glp_get_status(P)));
    out->objective = glp_get_obj_val(P);
    out->bound = out->objective;
    return ret != 0 || glp_get_status(P) != GLP_OPT;
}

static void run_intopt(glp_prob *P, const nq_lp_opts *o, nq_lp_result *out)
{
    glp_iocp ip;
    glp_init_iocp(&ip);
    ip.msg_lev = GLP_MSG_OFF;
    ip.presolve = GLP_ON;
    ip.mir_cuts = GLP_ON;
    ip.gmi_cuts = GLP_ON;
    ip.cov_cuts = GLP_ON;
    ip.clq_cuts = GLP_ON;
    ip.tm_lim = (int)(1000.0 * (o && o->time_limit > 0 ? o->time_limit : LP_DEFAULT_TIME));
    ip.mip_gap = o && o->mip_gap > 0 ? o->mip_gap : LP_DEFAULT_GAP;
    int ret = glp_intopt(P, &ip), st = glp_mip_status(P);
    snprintf(out->status, sizeof out->status, "%s",
             ret == GLP_ENOPFS ? "infeasible" : lp_status(st));
    out->objective = glp_mip_obj_val(P);
    /* GLPK reports no bound once it stops; proven optimal means equal. */
    out->bound = st == GLP_OPT ? out->objective : out->bound;
}

static int take_values(glp_prob *P, nq_lp_result *out, nq_err *err)
{
    int32_t n = out->n_cols;
    out->names = calloc((size_t)(n ? n : 1), sizeof *out->names);
    out->values = calloc((size_t)(n ? n : 1), sizeof *out->values);
    if (!out->names || !out->values)
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    for (int32_t j = 1; j <= n; j++) {
        const char *name = glp_get_col_name(P, j);
        char buf[24];
        if (!name) {
            snprintf(buf, sizeof buf, "x%d", (int)j);
            name = buf;
        }
        if (!(out->names[j - 1] = strdup(name)))
            return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
        out->values[j - 1] = out->mip ? glp_mip_col_val(P, j) : glp_get_col_prim(P, j);
    }
    return NQ_OK;
}

int nq_lp_solve(const char *data, size_t len, const char *source, const char *format,
                const nq_lp_opts *opts, nq_lp_result *out, nq_err *err)
{
    memset(out, 0, sizeof *out);
    if (!valid_format(format))
        return nq_err_set(err, NQ_EINVAL, "format", "format must be mps, mps-fixed or lp");
    if (len > LP_MAX_INPUT)
        return nq_err_set(err, NQ_ELIMIT, source, "input larger than %d MiB", LP_MAX_INPUT >> 20);
    glp_prob *P = NULL;
    int rc = nq__glpk_read(data, len, source && *source ? source : "input", format, &P, err);
    if (rc)
        return rc;
    int was_on = glp_term_out(GLP_OFF);
    out->n_cols = glp_get_num_cols(P);
    out->n_rows = glp_get_num_rows(P);
    out->n_int = glp_get_num_int(P);
    out->mip = out->n_int > 0;
    out->maximize = glp_get_obj_dir(P) == GLP_MAX;
    int done = run_simplex(P, out);
    if (!done && out->mip)
        run_intopt(P, opts, out);
    glp_term_out(was_on);
    int answered = !strcmp(out->status, "optimal") || !strcmp(out->status, "feasible");
    rc = answered ? take_values(P, out, err) : NQ_OK;
    glp_delete_prob(P);
    if (rc)
        nq_lp_result_free(out);
    return rc;
}

json_t *nq_lp_result_to_json(const nq_lp_result *r)
{
    json_t *vars = json_object();
    for (int32_t j = 0; vars && r->names && j < r->n_cols; j++)
        json_object_set_new(vars, r->names[j], json_real(r->values[j]));
    json_t *o = json_pack("{s:s, s:b, s:s, s:i, s:i, s:i, s:I, s:o}", "status", r->status, "mip",
                          r->mip, "sense", r->maximize ? "maximize" : "minimize", "rows",
                          (int)r->n_rows, "columns", (int)r->n_cols, "integer_columns",
                          (int)r->n_int, "iterations", (json_int_t)r->iterations, "variables",
                          vars);
    if (o && r->names) {
        json_object_set_new(o, "objective", json_real(r->objective));
        if (r->mip && !strcmp(r->status, "optimal"))
            json_object_set_new(o, "bound", json_real(r->bound));
    }
    return o;
}
