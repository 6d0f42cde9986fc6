/* flyfox_jobs.c - the FLYFOX AI job kinds: energy-optimization (a site's
 * schedule) and unit-commitment. As with the other kinds, prepare parses
 * and checks on the HTTP thread, the job runs on a worker, and a job given
 * no prepared input parses the request itself. */
#include <stdlib.h>

#include "nqba/flyfox.h"
#include "nqba/service.h"

int nq_service_energy_prepare(const json_t *request, void **prepared, nq_err *err)
{
    *prepared = NULL;
    nq_flyfox_site_req *r = malloc(sizeof *r);
    if (!r)
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    int rc = nq_flyfox_site_parse(request, r, err);
    if (rc) {
        free(r);
        return rc;
    }
    *prepared = r;
    return NQ_OK;
}

void nq_service_energy_free(void *prepared)
{
    nq_flyfox_site_req_free(prepared);
    free(prepared);
}

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

int nq_service_uc_prepare(const json_t *request, void **prepared, nq_err *err)
{
    *prepared = NULL;
    nq_flyfox_uc_req *r = malloc(sizeof *r);
    if (!r)
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    int rc = nq_flyfox_uc_parse(request, r, err);
    if (rc) {
        free(r);
        return rc;
    }
    *prepared = r;
    return NQ_OK;
}

void nq_service_uc_free(void *prepared)
{
    nq_flyfox_uc_req_free(prepared);
    free(prepared);
}

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
