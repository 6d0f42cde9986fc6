/* sigma_jobs.c - the Sigma Select job kinds: lead-model (training, with
 * progress events) and lead-scoring. As with the other kinds, prepare
 * parses and checks on the HTTP thread, the job runs on a worker, and a
 * job given no prepared input parses the request itself. */
#include <stdlib.h>

#include "nqba/service.h"
#include "unit_prepare.h"
#include "nqba/sigma.h"

NQ__UNIT_PREPARED(nq_service_train_prepare, nq_service_train_free,
                  nq_sigma_train_req, nq_sigma_train_parse, nq_sigma_train_req_free)

typedef struct train_cb {
    nq_job_ctx *ctx;
    const atomic_int *cancel;
} train_cb;

static int on_progress(double percent, void *user)
{
    train_cb *cb = user;
    nq_progress p = {.solver = "train", .fraction = percent / 100.0};
    nq_job_progress(cb->ctx, &p);
    return cb->cancel && atomic_load(cb->cancel);
}

int nq_service_train_job(const json_t *request, void *prepared, const atomic_int *cancel,
                         nq_job_ctx *ctx, json_t **result, nq_err *err)
{
    nq_sigma_train_req own, *r = prepared;
    if (!r) {
        int rc = nq_sigma_train_parse(request, &own, err);
        if (rc)
            return rc;
        r = &own;
    }
    train_cb cb = {ctx, cancel};
    int rc = nq_sigma_train_run(r, on_progress, &cb, cancel, result, err);
    nq_job_report_solver(ctx, r->opts.algo == NQ_LEADS_GBT ? "xgboost" : "liblinear");
    if (r == &own)
        nq_sigma_train_req_free(&own);
    return rc;
}

/* Scoring keeps the request: the answer names the model it came with. */
typedef struct score_prep {
    nq_sigma_score_req req;
    json_t *doc;
} score_prep;

int nq_service_score_prepare(const json_t *request, void **prepared, nq_err *err)
{
    *prepared = NULL;
    score_prep *p = malloc(sizeof *p);
    if (!p)
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    int rc = nq_sigma_score_parse(request, &p->req, err);
    if (rc) {
        free(p);
        return rc;
    }
    p->doc = json_incref((json_t *)request);
    *prepared = p;
    return NQ_OK;
}

void nq_service_score_free(void *prepared)
{
    score_prep *p = prepared;
    if (!p)
        return;
    nq_sigma_score_req_free(&p->req);
    json_decref(p->doc);
    free(p);
}

int nq_service_score_job(const json_t *request, void *prepared, const atomic_int *cancel,
                         nq_job_ctx *ctx, json_t **result, nq_err *err)
{
    (void)cancel; /* one pass over the batch */
    score_prep *p = prepared;
    nq_sigma_score_req own;
    if (!p) {
        int rc = nq_sigma_score_parse(request, &own, err);
        if (!rc) {
            rc = nq_sigma_score_run(&own, request, result, err);
            nq_sigma_score_req_free(&own);
        }
        return rc;
    }
    nq_job_report_solver(ctx, p->req.model.algo == NQ_LEADS_GBT ? "xgboost" : "logistic");
    return nq_sigma_score_run(&p->req, p->doc, result, err);
}

/* Assignment: the parsed request borrows names from the document, which
 * the prepared value therefore keeps. */
typedef struct assign_prep {
    nq_sigma_assign_req req;
    json_t *doc;
} assign_prep;

int nq_service_assign_prepare(const json_t *request, void **prepared, nq_err *err)
{
    *prepared = NULL;
    assign_prep *p = malloc(sizeof *p);
    if (!p)
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    p->doc = json_incref((json_t *)request);
    int rc = nq_sigma_assign_parse(p->doc, &p->req, err);
    if (rc) {
        json_decref(p->doc);
        free(p);
        return rc;
    }
    *prepared = p;
    return NQ_OK;
}

void nq_service_assign_free(void *prepared)
{
    assign_prep *p = prepared;
    if (!p)
        return;
    nq_sigma_assign_req_free(&p->req);
    json_decref(p->doc);
    free(p);
}

int nq_service_assign_job(const json_t *request, void *prepared, const atomic_int *cancel,
                          nq_job_ctx *ctx, json_t **result, nq_err *err)
{
    assign_prep *p = prepared, own;
    if (!p) {
        int rc = nq_service_assign_prepare(request, (void **)&p, err);
        if (rc)
            return rc;
        own = *p;
        free(p);
        p = &own;
    }
    int rc = nq_sigma_assign_run(&p->req, cancel, result, err);
    nq_job_report_solver(ctx, p->req.milp ? "milp" : "native");
    if (!rc && !p->req.milp)
        nq_job_report_found_by(ctx, "native");
    if (p == &own) {
        nq_sigma_assign_req_free(&own.req);
        json_decref(own.doc);
    }
    return rc;
}
