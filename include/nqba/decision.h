/* decision.h - the NQBA decision engine: a constrained model, decision
 * tables whose outputs act on it, facts for the tables, solver options and
 * an optional baseline assignment, in; a decision with its explanation out.
 *
 *   nq_decision_parse(doc, &req, &err)          JSON request -> req
 *   nq_decision_run(&req, cb, user, &res, &err) rules -> model -> solve -> res
 *   nq_decision_to_json(&res)                   res -> the answer document
 *
 * The request and the answer are documented in docs/api/decision-model.md.
 * Nothing here does I/O or keeps global state; a parsed request is only read
 * by nq_decision_run, so one request can be run from several threads. */
#ifndef NQBA_DECISION_H
#define NQBA_DECISION_H

#include <jansson.h>
#include <stdint.h>

#include "nqba/cqm.h"
#include "nqba/dtable.h"
#include "nqba/err.h"
#include "nqba/json.h"
#include "nqba/solve.h"

#define NQ_DECISION_MAX_TABLES 256
#define NQ_DECISION_MAX_TEXT 4096    /* bytes in "description" */
#define NQ_DECISION_MAX_TIME 86400.0 /* seconds in options.time_limit */
/* The irreducible infeasible subset is searched for up to this many hard
 * constraints: each one costs a feasibility test. */
#define NQ_DECISION_IIS_MAX_CONSTRAINTS 64
/* Longest feasibility test in that search, in seconds. */
#define NQ_DECISION_IIS_TEST_TIME 0.2

/* What a table output does to the model. */
typedef enum nq_decision_kind {
    NQ_DECISION_REPORT = 0,    /* no action: the output is only reported */
    NQ_DECISION_FIX = 1,       /* fix a variable to the output value */
    NQ_DECISION_VETO = 2,      /* veto the option of a choice variable named by the value */
    NQ_DECISION_OBJECTIVE = 3, /* the value replaces an atom's linear objective coefficient */
    NQ_DECISION_RHS = 4        /* the value replaces a constraint's right-hand side */
} nq_decision_kind;

typedef struct nq_decision_action {
    nq_decision_kind kind;
    char target[2 * NQ_CQM_MAX_NAME + 2]; /* variable, "name=label" atom or constraint */
    int32_t index;                        /* its variable, atom or constraint index */
} nq_decision_action;

typedef struct nq_decision_table {
    nq_dtable *table;
    char ptr[NQ_JSON_PTR_MAX];   /* "/rules" or "/rules/<i>" */
    nq_decision_action *actions; /* one per output */
} nq_decision_table;

typedef struct nq_decision_opts {
    char solver[16];        /* a name nq_cqm_solve knows; "auto" by default */
    uint64_t seed;          /* default 1 */
    double time_limit;      /* seconds; 0 = the solver's default (1 s) */
    int32_t alternatives;   /* 0..NQ_CQM_MAX_ALTERNATIVES */
    int64_t max_iterations; /* 0 = no limit */
    /* Optional: the solve stops soon after *cancel_flag becomes nonzero
     * (set by a caller on another thread, e.g. a job being cancelled). */
    const atomic_int *cancel_flag;
} nq_decision_opts;

typedef struct nq_decision_req {
    char *name;        /* NULL when not given */
    char *description; /* NULL when not given */
    nq_cqm model;      /* as read; rules act on a copy */
    nq_decision_table *tables;
    int32_t n_tables;
    json_t *facts;     /* a reference to an object (empty when not given) */
    int64_t *baseline; /* model.n_vars values, or NULL */
    nq_decision_opts opts;
} nq_decision_req;

void nq_decision_opts_default(nq_decision_opts *o);
/* Whether name is a solver nq_cqm_solve knows (auto, native, exact, milp,
 * sa, tabu, pt, sb). */
int nq_decision_solver_known(const char *name);
void nq_decision_req_init(nq_decision_req *req);
void nq_decision_req_free(nq_decision_req *req); /* NULL ok; leaves it empty */

/* Read a request. The document may be released afterwards. Errors carry
 * the JSON pointer of the offending member. req is always initialized and
 * is empty after an error. */
int nq_decision_parse(const json_t *doc, nq_decision_req *req, nq_err *err);

/* A request for a model read some other way (MPS, LP): no rules, no facts,
 * no baseline, default options. Takes the model over: *model is left empty. */
int nq_decision_req_from_cqm(nq_cqm *model, nq_decision_req *req, nq_err *err);

typedef enum nq_decision_status {
    NQ_DECISION_OPTIMAL = 0,    /* feasible and proven optimal (exact or milp) */
    NQ_DECISION_FEASIBLE = 1,   /* feasible, not proven optimal */
    NQ_DECISION_INFEASIBLE = 2, /* no feasible answer was found */
    NQ_DECISION_POLICY = 3      /* no variables and no constraints: tables alone */
} nq_decision_status;

/* One action applied to the model. */
typedef struct nq_decision_applied {
    int32_t table;  /* index in req.tables */
    int32_t rule;   /* 0-based rule, or -1 for a collect aggregate */
    int32_t output; /* output index */
    nq_decision_kind kind;
    char target[2 * NQ_CQM_MAX_NAME + 2];
    char table_name[NQ_DTABLE_MAX_NAME + 1];
    char output_name[NQ_DTABLE_MAX_NAME + 1];
    char source[NQ_JSON_PTR_MAX]; /* the value's pointer: ".../rules/3/then/<output>" */
    json_t *value;                /* owned */
} nq_decision_applied;

typedef struct nq_decision_res {
    nq_decision_status status;
    int proven; /* optimality or infeasibility is proven */
    char *name, *description;
    nq_cqm model;        /* the model solved: the request's after the rules */
    nq_cqm_result solve; /* empty for a policy decision */
    /* Evaluations on model. The figures (objective, lhs, violations) come
     * from the model without fixes and vetoes, so they exist even for an
     * assignment that breaks a rule; feasibility is the real one. */
    nq_cqm_eval best;
    int best_feasible;
    char best_bad_var[NQ_CQM_MAX_NAME + 1]; /* a variable outside its domain, or "" */
    double *alt_objective;                  /* per solve.alts entry */
    int has_baseline;
    int64_t *baseline;
    nq_cqm_eval base;
    int base_feasible;
    char base_bad_var[NQ_CQM_MAX_NAME + 1];
    json_t *rules; /* array of table results in order, or NULL without tables */
    nq_decision_applied *actions;
    int32_t n_actions, cap_actions;
    /* Infeasible answers: an irreducible infeasible subset of the hard
     * constraints (indexes into model.cons) when one was proven. */
    int irreducible_known;
    int32_t *irreducible;
    int32_t n_irreducible;
    char conflict_note[NQ_ERR_MSG_MAX];
} nq_decision_res;

/* Apply the rules to a copy of the model, solve it, evaluate the answer and
 * its alternatives exactly and build the explanation. Errors (NQ_EINVAL
 * with a pointer into the request): a bad fact, a unique/any conflict, an
 * impossible action. An infeasible model is not an error. res is always
 * initialized; free it with nq_decision_res_free. */
int nq_decision_run(const nq_decision_req *req, nq_progress_fn cb, void *user, nq_decision_res *res,
                    nq_err *err);
void nq_decision_res_free(nq_decision_res *res); /* NULL ok */

/* The answer document; NULL when out of memory. */
json_t *nq_decision_to_json(const nq_decision_res *res);

/* Stable names: "optimal", ...; "fix", "veto", "objective", "rhs", "report". */
const char *nq_decision_status_name(nq_decision_status s);
const char *nq_decision_kind_name(nq_decision_kind k);

#endif
