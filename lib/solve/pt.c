/* pt.c - placeholder until the solver lands. */
#include "solve_internal.h"

int nq_solve_pt(const nq_model *m, const nq_solve_opts *o, nq_progress_fn cb, void *user,
                  nq_result *out, nq_err *err)
{
    (void)m, (void)o, (void)cb, (void)user, (void)out;
    return nq_err_set(err, NQ_EINVAL, "solver", "pt is not available");
}
