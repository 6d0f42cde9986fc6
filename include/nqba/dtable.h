/* dtable.h - DMN-style decision tables: parse a table from JSON, evaluate it
 * against a JSON object of facts, and report which rules matched.
 *
 * A table has typed inputs, typed outputs and rules. Each rule tests inputs
 * with FEEL unary tests ("-", "\"EU\",\"UK\"", ">= 1000", "[1..10)",
 * "not(3, 5)") and gives one value per output. The hit policy (DMN 1.3:
 * unique, first, priority, any, collect with optional sum/min/max/count)
 * decides what a set of matching rules yields. The JSON shape and the
 * semantics are in docs/internals/dtable.md.
 *
 * A parsed table is immutable and holds no pointers into the document it
 * came from, so one table can be evaluated from many threads at once.
 * Rule numbers are 0-based everywhere: in results, messages and pointers. */
#ifndef NQBA_DTABLE_H
#define NQBA_DTABLE_H

#include <jansson.h>
#include <stdint.h>

#include "nqba/err.h"

/* Size limits (parse checks them). */
#define NQ_DTABLE_MAX_RULES 1000
#define NQ_DTABLE_MAX_INPUTS 64
#define NQ_DTABLE_MAX_OUTPUTS 64
#define NQ_DTABLE_MAX_NAME 128   /* bytes in a table, input or output name */
#define NQ_DTABLE_MAX_COND 1024  /* bytes in one condition string */
#define NQ_DTABLE_MAX_LIST 64    /* comma-separated tests in one condition */
#define NQ_DTABLE_MAX_VALUES 1024 /* entries in an output's "values" */
#define NQ_DTABLE_MAX_TEXT 4096  /* bytes in a rule's "description" */

typedef enum nq_dtable_type {
    NQ_DTABLE_STRING = 0,
    NQ_DTABLE_NUMBER = 1,
    NQ_DTABLE_BOOLEAN = 2
} nq_dtable_type;

typedef enum nq_dtable_policy {
    NQ_DTABLE_UNIQUE = 0,   /* at most one rule may match */
    NQ_DTABLE_FIRST = 1,    /* the first matching rule */
    NQ_DTABLE_PRIORITY = 2, /* the matching rule whose outputs rank highest */
    NQ_DTABLE_ANY = 3,      /* matching rules must all give the same outputs */
    NQ_DTABLE_COLLECT = 4   /* every matching rule, or an aggregate of them */
} nq_dtable_policy;

typedef enum nq_dtable_agg {
    NQ_DTABLE_AGG_NONE = 0,
    NQ_DTABLE_AGG_SUM = 1,
    NQ_DTABLE_AGG_MIN = 2,
    NQ_DTABLE_AGG_MAX = 3,
    NQ_DTABLE_AGG_COUNT = 4
} nq_dtable_agg;

typedef struct nq_dtable nq_dtable;

/* Parse the table in obj. ptr is obj's JSON pointer in its document ("" for
 * the root, "/policy/tables/0"); errors are reported under it, and so are
 * evaluation errors that name a rule. The table copies what it needs from
 * obj, except each output's "action", of which it keeps a reference. */
int nq_dtable_parse(const json_t *obj, const char *ptr, nq_dtable **out, nq_err *err);
void nq_dtable_free(nq_dtable *t); /* NULL is allowed */

/* Accessors. Out-of-range indexes give NULL, or -1 for a type. */
const char *nq_dtable_name(const nq_dtable *t);
nq_dtable_policy nq_dtable_hit_policy(const nq_dtable *t);
nq_dtable_agg nq_dtable_aggregation(const nq_dtable *t);
int32_t nq_dtable_n_inputs(const nq_dtable *t);
const char *nq_dtable_input_name(const nq_dtable *t, int32_t i);
int nq_dtable_input_type(const nq_dtable *t, int32_t i);
int32_t nq_dtable_n_outputs(const nq_dtable *t);
const char *nq_dtable_output_name(const nq_dtable *t, int32_t i);
int nq_dtable_output_type(const nq_dtable *t, int32_t i);
/* The output's "action" member, opaque to this module; NULL if absent.
 * Borrowed: valid while the table lives. Do not modify it. */
json_t *nq_dtable_output_action(const nq_dtable *t, int32_t i);
int32_t nq_dtable_n_rules(const nq_dtable *t);
/* The rule's "description", or NULL. */
const char *nq_dtable_rule_description(const nq_dtable *t, int32_t rule);

/* Stable names: "unique", "first", ...; "none", "sum", ...; "string", ... */
const char *nq_dtable_policy_name(nq_dtable_policy p);
const char *nq_dtable_agg_name(nq_dtable_agg a);
const char *nq_dtable_type_name(nq_dtable_type t);

typedef struct nq_dtable_hit {
    int32_t rule;    /* 0-based */
    json_t *outputs; /* object: output name -> value; owned by the result */
} nq_dtable_hit;

typedef struct nq_dtable_result {
    int32_t *matched;    /* every matching rule, ascending, whatever the policy */
    int32_t n_matched;
    nq_dtable_hit *hits; /* the selected rules: 0 or 1 for unique, first,
                            priority and any; every match for collect */
    int32_t n_hits;
    int aggregated;      /* nonzero: collect with an aggregation gave aggregate */
    double aggregate;    /* count is always given; sum/min/max only with a hit */
} nq_dtable_result;

/* Evaluate t on facts, an object mapping input names to values (members
 * that are not inputs are ignored). facts_ptr is the pointer of facts in its
 * document, for errors. No match is not an error: the result has no hit.
 * Errors: a missing fact for an input some rule tests, a fact of the wrong
 * type, a unique/any conflict (where = the pointer of the conflicting
 * rule), or a sum that overflows (NQ_ERANGE). out is always initialized,
 * and empty after an error; free it with nq_dtable_result_free. */
int nq_dtable_eval(const nq_dtable *t, const json_t *facts, const char *facts_ptr,
                   nq_dtable_result *out, nq_err *err);
void nq_dtable_result_free(nq_dtable_result *r); /* NULL is allowed */

/* {"table": name, "hit_policy": ..., "matched": [rule, ...], then
 *  single-hit policies: "selected": rule or null, "outputs": {...} or null;
 *  collect: "outputs": [{...}, ...];
 *  collect with aggregation: "aggregation": ..., "outputs": number or null}.
 * A new reference, or NULL when out of memory. */
json_t *nq_dtable_result_to_json(const nq_dtable *t, const nq_dtable_result *r);

#endif
