/* assess_jobs.c - the business-assessment job kind (NQBA core): prepare
 * parses and checks on the HTTP thread, the job scores, plans and answers
 * on a worker. A job given no prepared input parses the request itself. */
#include <stdlib.h>

#include "nqba/assess.h"
#include "nqba/service.h"
#include "unit_prepare.h"

NQ__UNIT_PREPARED(nq_service_assess_prepare, nq_service_assess_free,
                  nq_assess_req, nq_assess_parse, nq_assess_req_free)

int nq_service_assess_job(const json_t *request, void *prepared, const atomic_int *cancel,
                          nq_job_ctx *ctx, json_t **result, nq_err *err)
{
    nq_assess_req own, *r = prepared;
    if (!r) {
        int rc = nq_assess_parse(request, &own, err);
        if (rc)
            return rc;
        r = &own;
    }
    int rc = nq_assess_run(r, cancel, result, err);
    nq_job_report_solver(ctx, "native");
    if (r == &own)
        nq_assess_req_free(&own);
    return rc;
}
