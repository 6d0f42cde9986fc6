/* kinds.c - the job kinds: for each, how a request is resolved (saved
 * models), validated and run. The POST routes (submit.c) and the queue
 * workers (worker.c) look kinds up here by name, so a job queued by one
 * node runs the same way on another. */
#include <string.h>

#include "srv.h"

static const srv_kind KINDS[] = {
    {"solve", NULL, nq_service_solve_prepare, nq_service_solve_job, nq_service_prepared_free},
    {"decision-engine", srv_decision_resolve, nq_service_decision_prepare,
     nq_service_decision_job, nq_service_prepared_free},
    {"portfolio-optimization", NULL, nq_service_portfolio_prepare, nq_service_portfolio_job,
     nq_service_portfolio_free},
    {"risk-assessment", NULL, nq_service_risk_prepare, nq_service_risk_job, nq_service_risk_free},
    {"energy-optimization", NULL, nq_service_energy_prepare, nq_service_energy_job,
     nq_service_energy_free},
    {"business-assessment", NULL, nq_service_assess_prepare, nq_service_assess_job,
     nq_service_assess_free},
    {"lead-model", NULL, nq_service_train_prepare, nq_service_train_job, nq_service_train_free},
    {"lead-scoring", srv_sigma_resolve, nq_service_score_prepare, nq_service_score_job,
     nq_service_score_free},
    {"lead-assignment", NULL, nq_service_assign_prepare, nq_service_assign_job,
     nq_service_assign_free},
    {"unit-commitment", NULL, nq_service_uc_prepare, nq_service_uc_job, nq_service_uc_free},
};

const srv_kind *srv_kind_find(const char *name)
{
    for (size_t i = 0; name && i < sizeof KINDS / sizeof KINDS[0]; i++)
        if (strcmp(KINDS[i].kind, name) == 0)
            return &KINDS[i];
    return NULL;
}
