/* assign.h - lead-to-rep assignment for the Sigma Select unit.
 *
 * Leads carry an expected value (score x deal value, >= 0) and the skills
 * or territories they require; reps carry a capacity (most leads), an
 * optional minimum load and the skills or territories they cover. A lead
 * may go to a rep whose mask covers the lead's (and, when an explicit
 * eligibility matrix is given, that the matrix allows); the pair's value is
 * the lead's value times an optional per-pair multiplier (a rep's
 * conversion strength). The answer maximizes
 *
 *     sum of assigned pair values  -  fairness_weight * (max load - min load)
 *
 * (the spread term only with NQ_ASSIGN_FAIR_SPREAD) subject to: each lead
 * at most one rep (exactly one with assign_all), each rep's load within
 * [min_load, capacity], and with NQ_ASSIGN_FAIR_BALANCED every rep's load
 * within [floor(L/R), ceil(L/R)] (L leads, R reps) as a hard bound.
 *
 * nq_assign_solve builds the problem as a constrained model, solves it with
 * the engine's native search, then improves the engine's best answer
 * exactly by cancelling improving cycles on the residual graph of the
 * equivalent flow problem: without the spread term the result is proven
 * optimal (or proven infeasible). With the spread term the flow is solved
 * over load bands [a, b] (every load within them): for each least load a
 * the band value less the spread penalty is concave in b, so a walk in b
 * finds its best band; the answer is proven optimal unless the band budget
 * (100,000 flows) ran out. nq_assign_solve_milp solves the same problem as
 * a MILP with GLPK, for cross-checking. */
#ifndef NQBA_ASSIGN_H
#define NQBA_ASSIGN_H

#include <stdatomic.h>
#include <stdint.h>

#include "nqba/err.h"

#define NQ_ASSIGN_MAX_LEADS 1000000
#define NQ_ASSIGN_MAX_REPS 1000
#define NQ_ASSIGN_MAX_PAIRS 20000000LL /* eligible (lead, rep) pairs */
#define NQ_ASSIGN_MAX_VALUE 1e12       /* per lead value, per pair multiplier */

typedef enum nq_assign_fairness {
    NQ_ASSIGN_FAIR_NONE = 0,
    NQ_ASSIGN_FAIR_BALANCED = 1, /* hard: every load in [floor(L/R), ceil(L/R)] */
    NQ_ASSIGN_FAIR_SPREAD = 2    /* soft: fairness_weight * (max load - min load) */
} nq_assign_fairness;

typedef struct nq_assign_lead {
    double value;      /* expected value, finite and >= 0 */
    uint64_t requires; /* skill/territory bits the rep must cover (0: none) */
} nq_assign_lead;

typedef struct nq_assign_rep {
    int32_t capacity;  /* most leads, >= 0 */
    int32_t min_load;  /* fewest leads, 0..capacity */
    uint64_t provides; /* skill/territory bits the rep covers */
} nq_assign_rep;

typedef struct nq_assign_spec {
    int32_t n_leads, n_reps;
    const nq_assign_lead *leads; /* n_leads */
    const nq_assign_rep *reps;   /* n_reps */
    /* Optional, row-major n_leads x n_reps: nonzero = allowed (on top of
     * the masks), and the pair value multiplier (finite, >= 0). */
    const uint8_t *eligible;
    const double *multiplier;
    int assign_all; /* nonzero: every lead must be assigned */
    nq_assign_fairness fairness;
    double fairness_weight; /* NQ_ASSIGN_FAIR_SPREAD: value per unit of spread */
    uint64_t seed;
    double time_limit;        /* engine search seconds; 0: a fixed move budget scaled to the
                                 size, so that answers repeat exactly for a seed */
    const atomic_int *cancel; /* optional: nonzero cancels (NQ_ECANCEL) */
} nq_assign_spec;

typedef struct nq_assign_result {
    int32_t n_leads, n_reps;
    int32_t *rep_of;    /* n_leads: rep index, or -1 when unassigned */
    int32_t *load;      /* n_reps: leads per rep */
    double total_value; /* sum of the assigned pairs' values */
    double objective;   /* total_value - fairness_weight * spread (spread term only with
                           NQ_ASSIGN_FAIR_SPREAD) */
    int32_t n_assigned, min_load, max_load;
    int proven_optimal;      /* nonzero: no better assignment exists (up to rounding) */
    char method[64];         /* what produced the answer */
    double engine_objective; /* the engine's best answer before the exact step (NAN if none) */
    int engine_feasible;     /* the engine's best answer met every hard constraint */
    int64_t improvements;    /* improving cycles applied by the exact step */
    int32_t bands;           /* load bands solved (NQ_ASSIGN_FAIR_SPREAD) */
    double elapsed;          /* seconds */
} nq_assign_result;

/* Solve with the engine plus the exact flow step. Input errors and
 * infeasible hard options are NQ_EINVAL with err->where a JSON pointer
 * ("/reps/3/capacity", "/leads/7/value", "/eligibility/7", "/reps"). */
int nq_assign_solve(const nq_assign_spec *s, nq_assign_result *out, nq_err *err);

/* The exact MILP with GLPK (glp_intopt); time_limit in seconds (0: none).
 * proven_optimal is set when GLPK proved the optimum. Infeasible is
 * NQ_EINVAL as above. */
int nq_assign_solve_milp(const nq_assign_spec *s, double time_limit, nq_assign_result *out,
                         nq_err *err);

void nq_assign_result_free(nq_assign_result *r); /* NULL ok; leaves *r zeroed */

/* Whether lead l may go to rep r, and the pair's value (0 when not). */
int nq_assign_eligible(const nq_assign_spec *s, int32_t l, int32_t r);
double nq_assign_pair_value(const nq_assign_spec *s, int32_t l, int32_t r);

#endif
