/* pt.c - parallel tempering: the plan (ladder ends, integer weights) is
 * built once, then the read pool runs the reads on all threads; each read
 * is one replica-exchange run with its own adaptive ladder. */
#include <stdlib.h>

#include "pt_plan.h"
#include "reads.h"
#include "solve_internal.h"

#define PT_DEFAULT_READS 4

int nq_solve_pt(const nq_model *m, const nq_solve_opts *o, nq_progress_fn cb, void *user,
                nq_result *out, nq_err *err)
{
    pt_plan plan;
    int rc = nq__pt_plan_init(&plan, m, o, err);
    if (rc)
        return rc;
    nq__reader rd = {"pt", plan.is, &plan, nq__pt_work_new, nq__pt_work_free, nq__pt_run, 0, NULL};
    rc = nq__run_reads(&rd, m, o, o->reads > 0 ? o->reads : PT_DEFAULT_READS, cb, user, out, err);
    nq__pt_plan_free(&plan);
    return rc;
}

int nq__pt_probe_rates(const nq_model *m, const nq_solve_opts *o, int adapt, double *rates,
                       double *beta, nq_err *err)
{
    pt_plan plan;
    int rc = nq__pt_plan_init(&plan, m, o, err);
    if (rc)
        return rc;
    plan.adapt = adapt && plan.adapt;
    pt_work *w = nq__pt_work_new(&plan);
    int8_t *best = malloc((size_t)m->n + 1);
    if (!w || !best) {
        rc = nq_err_set(err, NQ_ENOMEM, NULL, "out of memory probing parallel tempering");
    } else {
        atomic_int no_cancel = 0;
        atomic_llong no_stop = INT64_MAX;
        nq__stop stop = {&no_cancel, &no_stop, 0.0, NULL};
        nq_rng rng;
        nq_rng_seed(&rng, o->seed);
        nq__pt_run(&plan, w, &rng, &stop, 0, best);
        for (int32_t k = 0; k < plan.replicas; k++) {
            int ok = k + 1 < plan.replicas && w->stats.tries[k];
            rates[k] = ok ? (double)w->stats.swaps[k] / (double)w->stats.tries[k] : 0.0;
            beta[k] = w->beta[k];
        }
    }
    free(best);
    nq__pt_work_free(w);
    nq__pt_plan_free(&plan);
    return rc;
}
