/* decision_internal.h - what the decision engine's files share (private):
 * decision_parse.c reads the request, decision_rules.c reads and applies
 * table actions, decision_run.c solves and evaluates, decision_conflicts.c
 * explains infeasible answers, decision_json.c writes the answer. */
#ifndef NQBA_DECISION_INTERNAL_H
#define NQBA_DECISION_INTERNAL_H

#include <stdint.h>

#include "nqba/decision.h"

/* Read and check the "action" of every output of t against the model:
 * the target must exist and the output's type must suit the action. */
int nq__decision_parse_actions(nq_decision_table *t, const nq_cqm *m, nq_err *err);

/* Evaluate every table on the request's facts, record each result in
 * res->rules and apply the selected hits' actions to m, recording them in
 * res->actions. */
int nq__decision_apply_rules(const nq_decision_req *req, nq_cqm *m, nq_decision_res *res,
                             nq_err *err);

/* Fill res's conflict fields for an infeasible answer on res->model: an
 * irreducible infeasible subset of the hard constraints when every test
 * needed to find one is decided within the tests' time limits. */
int nq__decision_conflicts(nq_decision_res *res, const nq_decision_opts *o, nq_err *err);

/* A model with m's variables (bounds, fixes, vetoes), no objective and the
 * hard constraints c with keep[c] nonzero: the question "is this subset
 * satisfiable?". */
int nq__decision_subset_model(const nq_cqm *m, const uint8_t *keep, nq_cqm *out, nq_err *err);

/* A whole number as a JSON integer ("3", not "3.0") while a double holds it
 * exactly, else a real; null for a value that is not finite. */
json_t *nq__decision_number(double x);

/* Re-anchor err's message at where (the builder's errors carry no
 * pointer); returns rc. */
int nq__decision_err_at(nq_err *err, int rc, const char *where);

#endif
