/* assess.h - the NQBA business-assessment unit: a request (JSON) with a
 * framework, the date of the assessment, answers per control, business
 * health inputs and a remediation budget in; scores per group and overall,
 * the gaps, the optimal remediation plan with the scores it would give,
 * the health sub-scores and an explanation out. Plus the diff of two
 * answers and a printable HTML report of one.
 *
 *   nq_assess_parse(doc, &req, &err)            JSON -> req (checks every field)
 *   nq_assess_run(&req, cancel, &answer, &err)  score, plan, answer document
 *   nq_assess_diff(before, after, &diff, &err)  two answers -> what changed
 *   nq_assess_report_html(answer, &html, &len, &err)  a self-contained page
 *
 * The documents are described in docs/api/assessment.md; the numbers come
 * from compliance.h. Pure: no I/O, no clock (the request gives as_of), no
 * global state; a parsed request is only read by run, so one request can be
 * run from several threads. Errors are NQ_EINVAL (the HTTP layer answers
 * 422) with err->where the JSON pointer of the offending member
 * ("/answers/3/maturity", "/answers/7/evidence/0/collected_at",
 * "/framework"); NQ_ELIMIT for a size limit; NQ_ENOMEM. */
#ifndef NQBA_ASSESS_H
#define NQBA_ASSESS_H

#include <jansson.h>
#include <stdatomic.h>
#include <stdint.h>

#include "nqba/compliance.h"
#include "nqba/err.h"

#define NQ_ASSESS_MAX_ANSWERS NQ_GRC_MAX_CONTROLS
#define NQ_ASSESS_MAX_MAPPINGS 4
#define NQ_ASSESS_MAX_CATALOGS (2 + NQ_ASSESS_MAX_MAPPINGS) /* assessed, custom, targets */
#define NQ_ASSESS_HTML_MAX (16u * 1024 * 1024)              /* bytes of a report */

typedef struct nq_assess_req {
    /* Catalogs in use, heap-allocated so the request may be moved: [0] is
     * the assessed framework, the others mapping targets or the custom
     * catalog when it is only a target. */
    nq_grc_catalog *cats;
    int32_t n_cats;
    nq_grc_assessment a;        /* a.cat == &cats[0] */
    nq_grc_mapping *maps;       /* from cats[0] to another catalog */
    int32_t n_maps;
    int has_health;
    nq_grc_health_in health;
    int has_plan;
    nq_grc_plan_opts plan;
    double target_maturity;     /* NAN: the scale's maximum */
    nq_grc_cost *group_costs;   /* cats[0].n_groups, from /plan/defaults */
    nq_grc_cost *control_costs; /* cats[0].n_controls, from /plan/overrides */
    int32_t **deps;             /* cats[0].n_controls, from /plan/overrides/X/depends_on */
    int32_t *n_deps;            /* -1: the catalog's prerequisites */
    int include_controls;       /* answer lists every control (default 1) */
} nq_assess_req;

void nq_assess_req_free(nq_assess_req *req); /* NULL-safe */
int nq_assess_parse(const json_t *doc, nq_assess_req *req, nq_err *err);
/* cancel (may be NULL) stops the plan's solvers early; the plan then says
 * it is not proven optimal. */
int nq_assess_run(const nq_assess_req *req, const atomic_int *cancel, json_t **answer,
                  nq_err *err);

/* What changed between two answers of nq_assess_run for one framework:
 * per control (status, maturity, readiness, evidence, owner) and every
 * score, overall and per group, with before, after and delta. Errors point
 * into "/before/..." or "/after/...". */
int nq_assess_diff(const json_t *before, const json_t *after, json_t **diff, nq_err *err);

/* A printable, self-contained HTML page (inline CSS, no scripts, every
 * text escaped) of an answer; *html is malloc'd and NUL-terminated. */
int nq_assess_report_html(const json_t *answer, char **html, size_t *len, nq_err *err);

#endif
