/* sa.c - simulated annealing: the plan (schedule, integer tables) is built
 * once, then the read pool runs the reads on all threads. */
#include "reads.h"
#include "sa_plan.h"
#include "solve_internal.h"

int nq_solve_sa(const nq_model *m, const nq_solve_opts *o, nq_progress_fn cb, void *user,
                nq_result *out, nq_err *err)
{
    sa_plan plan;
    int rc = nq__sa_plan_init(&plan, m, o, err);
    if (rc)
        return rc;
    nq__reader rd = {"sa", plan.is, &plan, nq__sa_work_new, nq__sa_work_free, nq__sa_run, 0, NULL};
    if (plan.lanes) {
        rd.work_new = nq__sa_batch_work_new;
        rd.work_free = nq__sa_batch_work_free;
        rd.batch = plan.lanes;
        rd.run_batch = nq__sa_batch_run;
    }
    rc = nq__run_reads(&rd, m, o, o->reads > 0 ? o->reads : NQ__SA_DEFAULT_READS, cb, user, out, err);
    nq__sa_plan_free(&plan);
    return rc;
}
