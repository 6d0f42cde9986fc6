/* cqm_state.h - an assignment of a constrained model kept up to date under
 * single-variable moves: objective fields, constraint values, violation
 * counts and a Zobrist hash, so a move's effect costs only the atoms and
 * constraints it touches. Used by the native search and the exact
 * enumeration. */
#ifndef NQBA_CQM_STATE_H
#define NQBA_CQM_STATE_H

#include <stdint.h>

#include "cqm_index.h"

typedef struct nq__cqm_state {
    const nq__cqm_index *ix;
    const nq_cqm *m;
    int64_t *val;        /* per variable */
    int64_t *x;          /* per atom */
    double *field;       /* per atom: d objective / d x (without its square) */
    double *lhs;         /* per constraint */
    double *lam;         /* per constraint: weight of a unit of violation */
    double obj;          /* objective, min form, offset included */
    double soft;         /* sum of soft weight * violation */
    double hard_pen;     /* sum of lam * violation over hard constraints */
    int32_t n_viol;      /* hard constraints violated */
    uint64_t hash;       /* Zobrist hash of val */
    /* scratch for move evaluation */
    double *dl;          /* per constraint delta */
    int32_t *touched;
    int32_t n_touched;
    uint8_t *mark;       /* per constraint: in touched */
} nq__cqm_state;

/* What a move would do. */
typedef struct nq__cqm_delta {
    double obj;          /* objective change (min form) */
    double soft;         /* soft penalty change */
    double hard_pen;     /* weighted hard penalty change (by lam) */
    int32_t n_viol;      /* change in violated hard constraints */
} nq__cqm_delta;

/* Allocate and set to values (or every variable at its start value when
 * values is NULL: fixed value, else 0 clamped into the bounds, first
 * allowed option). lam starts at 1 for hard constraints. */
int nq__cqm_state_init(nq__cqm_state *s, const nq__cqm_index *ix, const int64_t *values);
void nq__cqm_state_free(nq__cqm_state *s);
/* Recompute everything from val (drops accumulated rounding). */
void nq__cqm_state_reset(nq__cqm_state *s);
/* Effect of setting variable v to nv. */
void nq__cqm_state_eval(nq__cqm_state *s, int32_t v, int64_t nv, nq__cqm_delta *d);
/* Set variable v to nv. */
void nq__cqm_state_apply(nq__cqm_state *s, int32_t v, int64_t nv);
/* Recompute hard_pen after lam changes. */
void nq__cqm_state_repenalize(nq__cqm_state *s);
/* Raw violation of constraint c at its current value. */
double nq__cqm_state_viol(const nq__cqm_state *s, int32_t c);
/* Start value of a variable (see init). */
int64_t nq__cqm_start_value(const nq_cqm_var *v);
/* Is value allowed for v (bounds, fix, veto)? */
int nq__cqm_allowed(const nq_cqm_var *v, int64_t value);

#endif
