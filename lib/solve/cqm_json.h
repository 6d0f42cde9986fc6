/* cqm_json.h - helpers shared by the constrained-model JSON readers (private).
 *
 * cqm_json.c reads a whole model and cqm_json_values.c reads assignments;
 * a variable's "fixed" value in a model is written exactly like its value in
 * an assignment, so both go through nq__cqm_json_value. */
#ifndef NQBA_CQM_JSON_H
#define NQBA_CQM_JSON_H

#include <jansson.h>
#include <stdint.h>

#include "nqba/cqm.h"
#include "nqba/err.h"

/* Re-anchor the error in err (if any) at ptr, keeping its message; returns
 * rc. The builder knows nothing of JSON, so its errors carry no pointer. */
int nq__cqm_err_at(nq_err *err, int rc, const char *ptr);

/* "a number", "an array", "null": v's type for "expected X, got Y". */
const char *nq__cqm_json_got(const json_t *v);

/* v as a C string of 1..max_len bytes without NUL characters. */
int nq__cqm_json_string(const json_t *v, const char *ptr, size_t max_len, const char **out,
                        nq_err *err);

/* Index of label among a choice variable's options, or -1. */
int32_t nq__cqm_label_index(const nq_cqm_var *var, const char *label);

/* The value of var written as v: 0/1 or false/true for a binary, an integer
 * within the bounds for an integer, an option label for a choice (whose
 * value is the option's index). ptr names v in errors. */
int nq__cqm_json_value(const nq_cqm_var *var, const json_t *v, const char *ptr, int64_t *out,
                       nq_err *err);

#endif
