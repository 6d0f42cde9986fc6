/* cqm.h - constrained quadratic models: binary, integer and choice variables,
 * a linear+quadratic objective, linear and quadratic constraints (hard, or
 * soft with a weight), and the solver that answers them with a verified
 * feasible assignment.
 *
 * Terms refer to "atoms": the scalar quantities a term can multiply. A
 * binary variable is one atom (0/1), an integer variable is one atom (its
 * value), and each option of a choice variable is one atom (the 0/1
 * indicator "name=label"). An assignment gives every variable one int64
 * value: 0/1, the integer, or the index of the chosen option. */
#ifndef NQBA_CQM_H
#define NQBA_CQM_H

#include <jansson.h>
#include <stdatomic.h>
#include <stdint.h>

#include "nqba/err.h"
#include "nqba/solve.h"

/* Size limits (every builder call checks them). */
#define NQ_CQM_MAX_VARS 20000
#define NQ_CQM_MAX_ATOMS 100000       /* variables plus choice options */
#define NQ_CQM_MAX_OPTIONS 10000      /* options of one choice variable */
#define NQ_CQM_MAX_CONSTRAINTS 20000
#define NQ_CQM_MAX_TERMS 4000000      /* all linear+quadratic terms together */
#define NQ_CQM_MAX_GROUPS 256         /* named objective term groups */
#define NQ_CQM_MAX_NAME 128           /* bytes in a name or label */
#define NQ_CQM_MAX_INT 1000000000LL   /* |bound| of an integer variable */
#define NQ_CQM_MAX_COEF 1e15          /* |coefficient|, |rhs|, |offset|, weight */
#define NQ_CQM_MAX_ALTERNATIVES 100

typedef enum nq_cqm_kind { NQ_CQM_BINARY = 0, NQ_CQM_INTEGER = 1, NQ_CQM_CHOICE = 2 } nq_cqm_kind;
typedef enum nq_cqm_sense { NQ_CQM_LE = 0, NQ_CQM_GE = 1, NQ_CQM_EQ = 2 } nq_cqm_sense;

typedef struct nq_cqm_var {
    char *name;
    nq_cqm_kind kind;
    int64_t lb, ub;      /* binary 0..1, integer bounds, choice 0..n_options-1 */
    int32_t atom;        /* first atom (choice: atom of option 0) */
    int32_t n_options;   /* choice only */
    char **labels;       /* choice only: n_options labels */
    int fixed;           /* nonzero: value is fixed (by the model or a rule) */
    int64_t fixed_value;
    uint8_t *vetoed;     /* choice only: n_options flags; NULL until a veto */
} nq_cqm_var;

typedef struct nq_cqm_lin { int32_t atom; double w; } nq_cqm_lin;
typedef struct nq_cqm_quad { int32_t a, b; double w; } nq_cqm_quad; /* a <= b; a == b: atom^2 */

/* A linear+quadratic expression over atoms. Duplicate terms are summed when
 * the model is finished. */
typedef struct nq_cqm_expr {
    nq_cqm_lin *lin;
    int32_t n_lin, cap_lin;
    nq_cqm_quad *quad;
    int32_t n_quad, cap_quad;
} nq_cqm_expr;

typedef struct nq_cqm_group {
    char *name;
    nq_cqm_expr e;
} nq_cqm_group;

typedef struct nq_cqm_con {
    char *name;
    nq_cqm_expr e;
    nq_cqm_sense sense;
    double rhs;
    int hard;            /* nonzero: must hold; zero: soft */
    double weight;       /* soft: objective penalty per unit of violation */
} nq_cqm_con;

typedef struct nq_cqm {
    nq_cqm_var *vars;
    int32_t n_vars, cap_vars;
    int32_t n_atoms;
    int32_t *atom_var;   /* atom -> variable */
    int32_t *atom_opt;   /* atom -> option index (choice), else -1 */
    int32_t cap_atoms;
    int maximize;        /* nonzero: the objective is maximized */
    double offset;
    /* Objective terms in named groups; group 0 is "objective" (terms given
     * without a group). */
    nq_cqm_group *groups;
    int32_t n_groups, cap_groups;
    nq_cqm_con *cons;
    int32_t n_cons, cap_cons;
    int64_t n_terms;     /* all terms added so far (limit check) */
    int32_t *name_slots; /* private: open-addressing index of variable names */
    int32_t n_slots;     /* private: power of two, 0 until the first variable */
    int32_t *con_slots;  /* private: the same for constraint names */
    int32_t n_con_slots; /* private */
    int finished;        /* private: nonzero after nq_cqm_finish, until the next change */
} nq_cqm;

/* ---- building ---------------------------------------------------------- */
void nq_cqm_init(nq_cqm *m);
void nq_cqm_free(nq_cqm *m); /* NULL ok; leaves *m zeroed */

/* Each add returns the new variable's index (>= 0) or a negative nq_code.
 * Names must be unique, 1..NQ_CQM_MAX_NAME bytes, and must not contain '='. */
int nq_cqm_add_binary(nq_cqm *m, const char *name, nq_err *err);
int nq_cqm_add_integer(nq_cqm *m, const char *name, int64_t lb, int64_t ub, nq_err *err);
/* Labels must be unique within the variable; n >= 1. */
int nq_cqm_add_choice(nq_cqm *m, const char *name, const char *const *labels, int32_t n,
                      nq_err *err);

/* Index of a variable by name, or -1. */
int32_t nq_cqm_find_var(const nq_cqm *m, const char *name);
/* Atom of "name" (binary/integer) or "name=label" (choice option); returns
 * the atom (>= 0) or NQ_ENOTFOUND with a message in err. A bare choice name
 * is not an atom (NQ_EINVAL). */
int nq_cqm_atom(const nq_cqm *m, const char *ref, nq_err *err);
/* Write an atom's reference ("x" or "site=berlin") into buf; returns buf. */
const char *nq_cqm_atom_name(const nq_cqm *m, int32_t atom, char *buf, size_t cap);

/* Objective. group: -1 or 0 = the default group; else from nq_cqm_add_group. */
int nq_cqm_add_group(nq_cqm *m, const char *name, nq_err *err); /* returns group index */
int nq_cqm_obj_linear(nq_cqm *m, int32_t group, int32_t atom, double w, nq_err *err);
int nq_cqm_obj_quadratic(nq_cqm *m, int32_t group, int32_t a, int32_t b, double w, nq_err *err);

/* Constraints: returns the constraint index. weight < 0 (or hard != 0) means hard. */
int nq_cqm_add_constraint(nq_cqm *m, const char *name, nq_cqm_sense sense, double rhs,
                          int hard, double weight, nq_err *err);
int nq_cqm_con_linear(nq_cqm *m, int32_t con, int32_t atom, double w, nq_err *err);
int nq_cqm_con_quadratic(nq_cqm *m, int32_t con, int32_t a, int32_t b, double w, nq_err *err);
int32_t nq_cqm_find_con(const nq_cqm *m, const char *name);

/* Fix a variable to a value (choice: option index); vetoing the fixed
 * option or fixing out of bounds is NQ_EINVAL. */
int nq_cqm_fix(nq_cqm *m, int32_t var, int64_t value, nq_err *err);
/* Forbid one option of a choice variable. Vetoing every option is allowed
 * here; the solver then reports the model infeasible. */
int nq_cqm_veto(nq_cqm *m, int32_t var, int32_t option, nq_err *err);
/* Set (replace) the linear objective coefficient of an atom in the default
 * group: removes the atom's existing linear terms in every group first. */
int nq_cqm_set_obj_coef(nq_cqm *m, int32_t atom, double w, nq_err *err);

/* Merge duplicate terms, drop zero terms, order a <= b. Call after building
 * and before solving or evaluating (solve calls it on its own copy). */
int nq_cqm_finish(nq_cqm *m, nq_err *err);

/* Deep copy. */
int nq_cqm_copy(const nq_cqm *m, nq_cqm *out, nq_err *err);

/* ---- evaluating -------------------------------------------------------- */
/* Value of an atom under an assignment. */
int64_t nq_cqm_atom_value(const nq_cqm *m, const int64_t *values, int32_t atom);
double nq_cqm_expr_value(const nq_cqm *m, const nq_cqm_expr *e, const int64_t *values);

typedef struct nq_cqm_eval {
    double objective;      /* objective as stated (offset included, no penalties) */
    double penalty;        /* sum of soft weight * violation */
    double score;          /* minimization score: +-objective + penalty */
    double *lhs;           /* per constraint: value of its expression */
    double *violation;     /* per constraint: >= 0 */
    double *group_value;   /* per objective group: its contribution */
    int feasible;          /* every hard constraint holds, bounds, fixes, vetoes hold */
    int32_t n_violated;    /* hard constraints violated */
    double max_violation;  /* largest hard violation */
    char bad_var[NQ_CQM_MAX_NAME + 1]; /* first variable outside its domain, or "" */
} nq_cqm_eval;

/* Tolerance for "holds": |violation| <= NQ_CQM_TOL * (1 + |rhs|). */
#define NQ_CQM_TOL 1e-9

/* Evaluate exactly on the model (allocates the arrays; free with
 * nq_cqm_eval_free). Domain errors (value out of bounds, unknown option,
 * vetoed option, fixed variable moved) make the assignment infeasible. */
int nq_cqm_evaluate(const nq_cqm *m, const int64_t *values, nq_cqm_eval *out, nq_err *err);
void nq_cqm_eval_free(nq_cqm_eval *e);

/* ---- solving ----------------------------------------------------------- */
typedef struct nq_cqm_opts {
    /* "auto" (default): exact when the search space is tiny, else the
     * native constrained search plus the QUBO path on the annealing engine;
     * "native": the constrained tabu search alone; "sa" | "tabu" | "pt" |
     * "sb": the QUBO compilation solved by that engine solver, then
     * repaired and polished; "exact": enumerate every assignment (small
     * models only); "milp": GLPK branch-and-cut (linear models, binary
     * products linearized). */
    const char *solver;
    uint64_t seed;
    double time_limit;        /* seconds; 0 = default 1 s */
    int32_t alternatives;     /* distinct feasible alternatives to return (0..100) */
    int64_t max_iterations;   /* native search moves; 0 = until stagnation or time */
    const atomic_int *cancel_flag;
} nq_cqm_opts;

void nq_cqm_opts_default(nq_cqm_opts *o);

typedef struct nq_cqm_solution {
    int64_t *values;          /* n_vars */
    double objective;
    double score;
    int feasible;
} nq_cqm_solution;

typedef struct nq_cqm_result {
    char solver[16];          /* the solver asked for */
    char found_by[24];        /* what produced the best answer ("native", "qubo-sa", "exact", ...) */
    int32_t n_vars;
    nq_cqm_solution best;     /* best feasible if any was found, else least violated */
    nq_cqm_solution *alts;    /* distinct feasible alternatives, best first (excludes best) */
    int32_t n_alts;
    int proven_optimal;       /* exact or milp proved it */
    int proven_infeasible;    /* exact or milp proved there is no feasible answer */
    double elapsed;
    double time_to_best;
    int64_t iterations;       /* native moves made */
    int32_t qubo_vars;        /* size of the QUBO compilation (0 if not used) */
    int32_t penalty_rounds;   /* QUBO penalty tuning rounds */
    int timed_out, cancelled;
} nq_cqm_result;

/* Solve. The model need not be finished (solve works on a finished copy).
 * Fails only on bad arguments, limits or allocation; an infeasible model is
 * a successful solve with best.feasible == 0. */
int nq_cqm_solve(const nq_cqm *m, const nq_cqm_opts *o, nq_progress_fn cb, void *user,
                 nq_cqm_result *out, nq_err *err);
void nq_cqm_result_free(nq_cqm_result *r);

/* ---- JSON --------------------------------------------------------------- */
/* Build a model from the JSON document documented in
 * docs/api/decision-model.md ("variables", "objective", "constraints").
 * ptr is the pointer of obj in its document ("" for the root); errors name
 * the offending member's JSON pointer. Other top-level members (rules,
 * options, baseline) are left to the caller. */
int nq_cqm_from_json(const json_t *obj, const char *ptr, nq_cqm *out, nq_err *err);

/* An assignment from {"name": value, ...} (choice values are labels);
 * variables not named keep values[i] (which the caller initialises). */
int nq_cqm_values_from_json(const nq_cqm *m, const json_t *obj, const char *ptr,
                            int64_t *values, nq_err *err);
/* {"name": value|label, ...} */
json_t *nq_cqm_values_to_json(const nq_cqm *m, const int64_t *values);

/* ---- GLPK bridge (cqm_glpk.c) ------------------------------------------- */
/* Read an MPS (free or fixed) or CPLEX LP document of a binary/integer
 * problem. format: "mps" (free), "mps-fixed" or "lp". source names the
 * input in errors ("source:line: reason"). Continuous columns and unbounded
 * integers are refused. */
int nq_cqm_read_glpk(const char *data, size_t len, const char *source, const char *format,
                     nq_cqm *out, nq_err *err);

typedef struct nq_milp_result {
    int status;          /* 0 optimal, 1 feasible (time limit), 2 infeasible, 3 no answer */
    double objective;    /* of values, as stated */
    double bound;        /* best bound on the optimum, as stated */
    int64_t *values;     /* n_vars, when status is 0 or 1 */
    double elapsed;
} nq_milp_result;

/* Solve with GLPK's MILP (glp_intopt). Quadratic terms must be products of
 * 0/1 atoms (linearized exactly); integer squares are refused. */
int nq_cqm_solve_milp(const nq_cqm *m, double time_limit, nq_milp_result *out, nq_err *err);
void nq_milp_result_free(nq_milp_result *r);

#endif
