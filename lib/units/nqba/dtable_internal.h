/* dtable_internal.h - the decision table's layout, shared by its parser
 * (dtable_parse.c), its evaluator (dtable_eval.c) and the FEEL unary-test
 * code (dtable_feel.c). Not installed. */
#ifndef NQBA_DTABLE_INTERNAL_H
#define NQBA_DTABLE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "nqba/dtable.h"
#include "nqba/json.h"

/* ---- FEEL unary tests ---------------------------------------------------- */

typedef enum nq__feel_op {
    NQ__FEEL_EQ = 0,
    NQ__FEEL_NE,
    NQ__FEEL_LT,
    NQ__FEEL_LE,
    NQ__FEEL_GT,
    NQ__FEEL_GE,
    NQ__FEEL_RANGE
} nq__feel_op;

/* One test of a comma-separated list. */
typedef struct nq__feel_test {
    nq__feel_op op;
    nq_dtable_type type; /* of the literal; ranges and orderings are numbers */
    double num;          /* number literal; a range's low end */
    double hi;           /* a range's high end */
    int lo_open, hi_open;
    int boolean;
    char *str; /* string literal, unescaped; may hold NUL bytes */
    size_t len;
} nq__feel_test;

/* One cell of a rule's "when": any, or a list of tests (matches if one of
 * them does), negated by not(...). */
typedef struct nq__feel {
    int any; /* "-": matches every value, and a missing fact too */
    int negate;
    int32_t n;
    nq__feel_test *tests;
} nq__feel;

/* Parse a condition (a FEEL string, or a JSON number or boolean meaning
 * equality) for an input of type `type`. where names v in errors. */
int nq__feel_parse(const json_t *v, nq_dtable_type type, const char *where, nq__feel *out,
                   nq_err *err);
void nq__feel_free(nq__feel *f);
/* Does fact (of the input's type; NULL only when f->any) pass f? */
int nq__feel_match(const nq__feel *f, const json_t *fact);

/* ---- the table ------------------------------------------------------------ */

typedef struct nq__dt_input {
    char *name;
    nq_dtable_type type;
    int tested; /* some rule has a condition other than "-" on it */
} nq__dt_input;

typedef struct nq__dt_output {
    char *name;
    nq_dtable_type type;
    int32_t n_values; /* 0: no "values" list */
    json_t *action;   /* a reference to the caller's value, or NULL */
} nq__dt_output;

/* One output value of one rule. */
typedef struct nq__dt_cell {
    json_t *value; /* the table's own copy */
    int32_t rank;  /* index in the output's "values"; 0 when there are none */
} nq__dt_cell;

struct nq_dtable {
    char *name;
    char ptr[NQ_JSON_PTR_MAX]; /* the table's pointer, for errors that name a rule */
    nq_dtable_policy policy;
    nq_dtable_agg agg;
    int32_t n_inputs, n_outputs, n_rules;
    nq__dt_input *inputs;
    nq__dt_output *outputs;
    nq__feel *when;     /* n_rules x n_inputs, row-major */
    nq__dt_cell *then;  /* n_rules x n_outputs, row-major */
    char **description; /* n_rules, entries may be NULL */
};

/* Cells of rule r. The table is const during evaluation; parsing fills the
 * cells through the same accessors. */
static inline nq__feel *nq__dt_when(const nq_dtable *t, int32_t rule, int32_t input)
{
    return &t->when[(size_t)rule * (size_t)t->n_inputs + (size_t)input];
}

static inline nq__dt_cell *nq__dt_then(const nq_dtable *t, int32_t rule, int32_t output)
{
    return &t->then[(size_t)rule * (size_t)t->n_outputs + (size_t)output];
}

/* Does v have the JSON type that values of type t take? */
int nq__dt_is_type(const json_t *v, nq_dtable_type t);
/* Equal output values: numbers by value (1 and 1.0 are one value), the
 * rest exactly. */
int nq__dt_value_equal(const json_t *a, const json_t *b);

#endif
