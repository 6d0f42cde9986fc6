/* assign_internal.h - the assignment problem as the solvers see it: the
 * eligible pairs of each lead (compressed rows) and every rep's load
 * bounds after the hard options are folded in. */
#ifndef NQBA_ASSIGN_INTERNAL_H
#define NQBA_ASSIGN_INTERNAL_H

#include <stdint.h>

#include "nqba/assign.h"

typedef struct nq__assign_prob {
    const nq_assign_spec *s;
    int32_t L, R;
    int64_t *start; /* L + 1: lead l's pairs are start[l] .. start[l+1]-1 */
    int32_t *rep;   /* per pair: the rep */
    double *val;    /* per pair: its value */
    int64_t n_pairs;
    int32_t *lo, *hi; /* per rep: load bounds (min load, capacity, balance) */
    int optional;     /* leads may stay unassigned */
    double vmax;      /* largest pair value (tolerances scale with it) */
    double eps;       /* value differences below this are ties */
} nq__assign_prob;

/* Validate the spec and build the problem; infeasible hard options found
 * by counting are NQ_EINVAL here. */
int nq__assign_prepare(const nq_assign_spec *s, nq__assign_prob *p, nq_err *err);
void nq__assign_prob_free(nq__assign_prob *p);

/* Value of lead l at rep r (r < 0: unassigned, 0); -1 when r is not eligible. */
double nq__assign_value_at(const nq__assign_prob *p, int32_t l, int32_t r);

/* Allocate out's arrays and fill it from rep_of (loads, value, objective). */
int nq__assign_result_init(const nq__assign_prob *p, nq_assign_result *out, nq_err *err);
void nq__assign_result_fill(const nq__assign_prob *p, const int32_t *rep_of, nq_assign_result *out);
/* Objective of rep_of: value minus the spread term when it applies; load
 * (n_reps) receives the loads. */
double nq__assign_objective(const nq__assign_prob *p, const int32_t *rep_of, int32_t *load,
                            int32_t *spread);

/* The exact step. Improves rep_of (in: any assignment of eligible pairs or
 * -1; out: optimal for the loads in [lo, hi]) by cancelling improving
 * cycles. *violation: units of load outside [lo, hi] (or leads unassigned
 * under assign_all) that no assignment can avoid; 0 when feasible. */
int nq__assign_flow(const nq__assign_prob *p, const int32_t *lo, const int32_t *hi, int32_t *rep_of,
                    int64_t *improvements, int64_t *violation, nq_err *err);

/* The exact step for the whole problem: the flow at the rep bounds, and
 * with the spread term the search over load bands. *proven: the answer is
 * optimal. Infeasible is NQ_EINVAL. */
int nq__assign_exact(const nq__assign_prob *p, int32_t *rep_of, int *proven, int64_t *improvements,
                     int32_t *bands, nq_err *err);

/* The NQ_EINVAL every solver reports when no assignment meets the hard constraints. */
int nq__assign_infeasible(const nq__assign_prob *p, int64_t violation, nq_err *err);

#endif
