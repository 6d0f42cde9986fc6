/* goliath_jobs.c - the Goliath Trade job kinds: portfolio-optimization and
 * risk-assessment. As with the built-in kinds (unit_jobs.c), prepare parses
 * and checks on the HTTP thread, the job runs on a worker, and a job given
 * no prepared input parses the request itself. */
#include <stdlib.h>
#include <string.h>

#include "nqba/goliath.h"
#include "nqba/service.h"
#include "unit_prepare.h"

NQ__UNIT_PREPARED(nq_service_portfolio_prepare, nq_service_portfolio_free,
                  nq_goliath_req, nq_goliath_parse, nq_goliath_req_free)

int nq_service_portfolio_job(const json_t *request, void *prepared, const atomic_int *cancel,
                             nq_job_ctx *ctx, json_t **result, nq_err *err)
{
    nq_goliath_req own, *r = prepared;
    if (!r) {
        int rc = nq_goliath_parse(request, &own, err);
        if (rc)
            return rc;
        r = &own;
    }
    int rc = nq_goliath_run(r, cancel, result, err);
    nq_job_report_solver(ctx, nq_pf_objective_name(r->spec.objective));
    /* Cardinality is searched by the engine's constrained-model search. */
    if (!rc && (r->spec.max_assets > 0 || r->spec.min_weight > 0))
        nq_job_report_found_by(ctx, "native");
    if (r == &own)
        nq_goliath_req_free(&own);
    return rc;
}

NQ__UNIT_PREPARED(nq_service_risk_prepare, nq_service_risk_free,
                  nq_goliath_risk_req, nq_goliath_risk_parse, nq_goliath_risk_req_free)

int nq_service_risk_job(const json_t *request, void *prepared, const atomic_int *cancel,
                        nq_job_ctx *ctx, json_t **result, nq_err *err)
{
    (void)cancel; /* one pass over the history: nothing long enough to stop */
    nq_goliath_risk_req own, *r = prepared;
    if (!r) {
        int rc = nq_goliath_risk_parse(request, &own, err);
        if (rc)
            return rc;
        r = &own;
    }
    int rc = nq_goliath_risk_run(r, result, err);
    nq_job_report_solver(ctx, "risk");
    if (r == &own)
        nq_goliath_risk_req_free(&own);
    return rc;
}
