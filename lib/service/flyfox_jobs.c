/* flyfox_jobs.c - the FLYFOX AI job kinds: energy-optimization (a site's
 * schedule) and unit-commitment. As with the other kinds, prepare parses
 * and checks on the HTTP thread, the job runs on a worker, and a job given
 * no prepared input parses the request itself. */
#include <stdlib.h>

#include "nqba/flyfox.h"
#include "nqba/service.h"
#include "unit_prepare.h"

NQ__UNIT_PREPARED(nq_service_energy_prepare, nq_service_energy_free,
                  nq_flyfox_site_req, nq_flyfox_site_parse, nq_flyfox_site_req_free)

int nq_service_energy_job(const json_t *request, void *prepared, const atomic_int *cancel,
                          nq_job_ctx *ctx, json_t **result, nq_err *err)
{
    nq_flyfox_site_req own, *r = prepared;
    if (!r) {
        int rc = nq_flyfox_site_parse(request, &own, err);
        if (rc)
            return rc;
        r = &own;
    }
    int rc = nq_flyfox_site_run(r, cancel, result, err);
    nq_job_report_solver(ctx, "glpk");
    if (r == &own)
        nq_flyfox_site_req_free(&own);
    return rc;
}

NQ__UNIT_PREPARED(nq_service_uc_prepare, nq_service_uc_free,
                  nq_flyfox_uc_req, nq_flyfox_uc_parse, nq_flyfox_uc_req_free)

int nq_service_uc_job(const json_t *request, void *prepared, const atomic_int *cancel,
                      nq_job_ctx *ctx, json_t **result, nq_err *err)
{
    nq_flyfox_uc_req own, *r = prepared;
    if (!r) {
        int rc = nq_flyfox_uc_parse(request, &own, err);
        if (rc)
            return rc;
        r = &own;
    }
    int rc = nq_flyfox_uc_run(r, cancel, result, err);
    nq_job_report_solver(ctx, r->milp ? "milp" : "native");
    /* The engine's constrained search chose the commitment. */
    if (!rc && !r->milp)
        nq_job_report_found_by(ctx, "native");
    if (r == &own)
        nq_flyfox_uc_req_free(&own);
    return rc;
}
