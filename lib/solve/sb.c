/* sb.c - simulated bifurcation, ballistic (bSB) and discrete (dSB), after
 * Goto et al., Sci. Adv. 2019 and 2021 (design: docs/internals/sb.md).
 *
 *   variant   "ballistic" (default, NULL) or "discrete"
 *   reads     batches of SB_LANES (16) trajectories advanced together;
 *             0 = default (4)
 *   sweeps    time steps per trajectory; 0 = default (1000)
 *   attempts  spin updates: variables x steps x 16 per read
 *
 * The plan (float coupling matrix, c0, dt) is built once, then the read
 * pool runs the reads. */
#include "reads.h"
#include "sb_plan.h"
#include "solve_internal.h"

#define SB_DEFAULT_READS 4

int nq_solve_sb(const nq_model *m, const nq_solve_opts *o, nq_progress_fn cb, void *user,
                nq_result *out, nq_err *err)
{
    sb_plan plan;
    int rc = nq__sb_plan_init(&plan, m, o, err);
    if (rc)
        return rc;
    nq__reader rd = {"sb", plan.is, &plan, nq__sb_work_new, nq__sb_work_free, nq__sb_run, 0, NULL};
    rc = nq__run_reads(&rd, m, o, o->reads > 0 ? o->reads : SB_DEFAULT_READS, cb, user, out, err);
    nq__sb_plan_free(&plan);
    return rc;
}
