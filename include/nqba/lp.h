/* lp.h - the plain LP/MILP path: a model in MPS or CPLEX LP with
 * continuous variables (which the constrained-model engine does not take)
 * solved by GLPK as it is: simplex for an LP, branch-and-cut (with cuts)
 * for a MILP.
 *
 *   nq_lp_needs_plain(text, len, format)   1 when a column is continuous
 *   nq_lp_solve(text, len, source, format, &opts, &res, &err)
 *   nq_lp_result_to_json(&res)             the answer document
 *
 * No I/O beyond an in-memory file handed to GLPK's reader; no global
 * state (GLPK's terminal output is switched off around each call). */
#ifndef NQBA_LP_H
#define NQBA_LP_H

#include <jansson.h>
#include <stdint.h>

#include "nqba/err.h"

typedef struct nq_lp_opts {
    double time_limit; /* seconds for a MILP; 0: 60 */
    double mip_gap;    /* relative; 0: 1e-9 */
} nq_lp_opts;

typedef struct nq_lp_result {
    char status[16];      /* "optimal", "feasible", "infeasible", "unbounded", "undefined" */
    int mip;              /* integer columns present */
    double objective;
    double bound;         /* a MILP's best bound when known (== objective when optimal) */
    int32_t n_cols, n_rows, n_int;
    char **names;         /* n_cols column names */
    double *values;       /* n_cols */
    int64_t iterations;   /* simplex iterations */
    int maximize;
} nq_lp_result;

void nq_lp_result_free(nq_lp_result *r); /* NULL-safe */

/* Whether the model (parsed quickly) has a continuous column: 1, 0, or a
 * negative nq_code when it does not parse. */
int nq_lp_needs_plain(const char *data, size_t len, const char *format);

/* Read and solve. A model GLPK finds infeasible or unbounded is a
 * successful call with that status; errors are for input that does not
 * parse (located "source:line") or resources. */
int nq_lp_solve(const char *data, size_t len, const char *source, const char *format,
                const nq_lp_opts *opts, nq_lp_result *out, nq_err *err);

/* {"status","mip","objective","bound","sense","variables":{"name":value,...},
 * "rows","columns","integer_columns","iterations"} */
json_t *nq_lp_result_to_json(const nq_lp_result *r);

#endif
