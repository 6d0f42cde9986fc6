/* assess_internal.h - what the assess_*.c files share. */
#ifndef NQBA_ASSESS_INTERNAL_H
#define NQBA_ASSESS_INTERNAL_H

#include <jansson.h>

#include "compliance_internal.h"
#include "nqba/assess.h"

/* The request's "plan" member (assess_plan.c). */
int nq__assess_plan(const json_t *doc, nq_assess_req *r, nq_err *err);

/* A scorecard as {"overall": {...}, "groups": {id: {...}}} (assess_json.c). */
json_t *nq__assess_scores_json(const nq_grc_catalog *c, const nq_grc_scorecard *s);
json_t *nq__assess_one_score_json(const nq_grc_catalog *c, const nq_grc_scores *s);
/* A finite number, or null when NAN (undefined). */
json_t *nq__assess_num(double x);

#endif
