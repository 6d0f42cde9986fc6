/* dtable_parse.c - reading a decision table from JSON, and its accessors.
 *
 * Parsing checks everything evaluation relies on (types, names, "values"
 * membership, what the hit policy needs), so evaluation can only fail on
 * the facts or on a unique/any conflict. The table copies what it keeps
 * and so does not depend on the document afterwards. */
#include <stdlib.h>
#include <string.h>

#include "dtable_internal.h"

static const char *const policy_names[] = {"unique", "first", "priority", "any", "collect"};
static const char *const agg_names[] = {"none", "sum", "min", "max", "count"};
static const char *const type_names[] = {"string", "number", "boolean"};

#define COUNT(a) ((int)(sizeof a / sizeof a[0]))

const char *nq_dtable_policy_name(nq_dtable_policy p)
{
    return (unsigned)p < (unsigned)COUNT(policy_names) ? policy_names[p] : "unknown";
}

const char *nq_dtable_agg_name(nq_dtable_agg a)
{
    return (unsigned)a < (unsigned)COUNT(agg_names) ? agg_names[a] : "unknown";
}

const char *nq_dtable_type_name(nq_dtable_type t)
{
    return (unsigned)t < (unsigned)COUNT(type_names) ? type_names[t] : "unknown";
}

int nq__dt_is_type(const json_t *v, nq_dtable_type t)
{
    switch (t) {
    case NQ_DTABLE_STRING: return json_is_string(v);
    case NQ_DTABLE_NUMBER: return json_is_number(v);
    case NQ_DTABLE_BOOLEAN: return json_is_boolean(v);
    }
    return 0;
}

static int oom(nq_err *err, const char *where)
{
    return nq_err_set(err, NQ_ENOMEM, where, "out of memory");
}

/* ---- members ---------------------------------------------------------------- */

/* A required, non-empty name of at most NQ_DTABLE_MAX_NAME bytes; copied. */
static int get_name(const json_t *obj, const char *ptr, char **out, nq_err *err)
{
    const char *s = NULL;
    int rc = nq_json_get_string(obj, ptr, "name", 1, NQ_DTABLE_MAX_NAME, &s, err);
    if (rc)
        return rc;
    char where[NQ_JSON_PTR_MAX];
    nq_json_ptr_key(where, ptr, "name");
    if (!*s)
        return nq_err_set(err, NQ_EINVAL, where, "must not be empty");
    *out = strdup(s);
    return *out ? NQ_OK : oom(err, where);
}

/* An optional member naming one of names[0..n); *out is left alone when it
 * is absent. expected lists the names for the error message. */
static int get_enum(const json_t *obj, const char *ptr, const char *key, const char *const *names,
                    int n, const char *expected, int *out, nq_err *err)
{
    const char *s = NULL;
    int rc = nq_json_get_string(obj, ptr, key, 0, NQ_DTABLE_MAX_NAME, &s, err);
    if (rc || !s)
        return rc;
    for (int i = 0; i < n; i++) {
        if (strcmp(s, names[i]) == 0) {
            *out = i;
            return NQ_OK;
        }
    }
    char where[NQ_JSON_PTR_MAX];
    nq_json_ptr_key(where, ptr, key);
    return nq_err_set(err, NQ_EINVAL, where, "unknown value \"%s\" (expected %s)", s, expected);
}

static int get_type(const json_t *obj, const char *ptr, nq_dtable_type *out, nq_err *err)
{
    int type = NQ_DTABLE_STRING;
    int rc = get_enum(obj, ptr, "type", type_names, COUNT(type_names), "string, number or boolean",
                      &type, err);
    *out = (nq_dtable_type)type;
    return rc;
}

int nq__dt_value_equal(const json_t *a, const json_t *b)
{
    if (json_is_number(a) && json_is_number(b))
        return json_number_value(a) == json_number_value(b);
    return json_equal(a, b);
}

/* ---- header, inputs, outputs ---------------------------------------------- */

static int parse_header(nq_dtable *t, const json_t *obj, const char *ptr, nq_err *err)
{
    static const char *const keys[] = {"name",    "hit_policy", "aggregation", "inputs",
                                       "outputs", "rules",      NULL};
    int rc = nq_json_check_keys(obj, ptr, keys, err);
    if (!rc)
        rc = get_name(obj, ptr, &t->name, err);
    int policy = NQ_DTABLE_UNIQUE, agg = -1; /* agg indexes agg_names + 1 */
    if (!rc)
        rc = get_enum(obj, ptr, "hit_policy", policy_names, COUNT(policy_names),
                      "unique, first, priority, any or collect", &policy, err);
    /* "none" is the name of the absence of an aggregation, not a value. */
    if (!rc)
        rc = get_enum(obj, ptr, "aggregation", agg_names + 1, COUNT(agg_names) - 1,
                      "sum, min, max or count", &agg, err);
    if (rc)
        return rc;
    t->policy = (nq_dtable_policy)policy;
    t->agg = (nq_dtable_agg)(agg + 1);
    char where[NQ_JSON_PTR_MAX];
    nq_json_ptr_key(where, ptr, "aggregation");
    if (t->agg != NQ_DTABLE_AGG_NONE && t->policy != NQ_DTABLE_COLLECT)
        return nq_err_set(err, NQ_EINVAL, where, "aggregation needs the collect hit policy");
    return NQ_OK;
}

/* The array member key, with at most max entries. */
static int get_list(const json_t *obj, const char *ptr, const char *key, int32_t max,
                    json_t **out, nq_err *err)
{
    int rc = nq_json_get_typed(obj, ptr, key, 1, JSON_ARRAY, out, err);
    if (rc)
        return rc;
    size_t n = json_array_size(*out);
    char where[NQ_JSON_PTR_MAX];
    nq_json_ptr_key(where, ptr, key);
    if (n > (size_t)max)
        return nq_err_set(err, NQ_ELIMIT, where, "%zu entries, more than the limit of %d", n,
                          (int)max);
    return NQ_OK;
}

/* Index of the input (or output) called name among the first n, or -1. */
static int32_t find_input(const nq_dtable *t, const char *name, int32_t n)
{
    for (int32_t i = 0; i < n; i++)
        if (strcmp(t->inputs[i].name, name) == 0)
            return i;
    return -1;
}

static int32_t find_output(const nq_dtable *t, const char *name, int32_t n)
{
    for (int32_t i = 0; i < n; i++)
        if (strcmp(t->outputs[i].name, name) == 0)
            return i;
    return -1;
}

static int duplicate(const char *where, const char *what, const char *name, int32_t other,
                     nq_err *err)
{
    char name_where[NQ_JSON_PTR_MAX];
    nq_json_ptr_key(name_where, where, "name");
    return nq_err_set(err, NQ_EINVAL, name_where, "duplicate %s name \"%s\" (also %s %d)", what,
                      name, what, (int)other);
}

static int parse_input(nq_dtable *t, const json_t *v, const char *where, int32_t i, nq_err *err)
{
    static const char *const keys[] = {"name", "type", NULL};
    nq__dt_input *in = &t->inputs[i];
    int rc = nq_json_check_keys(v, where, keys, err);
    if (!rc)
        rc = get_name(v, where, &in->name, err);
    if (!rc)
        rc = get_type(v, where, &in->type, err);
    int32_t other = rc ? -1 : find_input(t, in->name, i);
    if (other >= 0)
        rc = duplicate(where, "input", in->name, other, err);
    return rc;
}

static int parse_inputs(nq_dtable *t, const json_t *obj, const char *ptr, nq_err *err)
{
    json_t *arr;
    int rc = get_list(obj, ptr, "inputs", NQ_DTABLE_MAX_INPUTS, &arr, err);
    if (rc)
        return rc;
    char where[NQ_JSON_PTR_MAX], item[NQ_JSON_PTR_MAX];
    nq_json_ptr_key(where, ptr, "inputs");
    int32_t n = (int32_t)json_array_size(arr);
    t->inputs = calloc((size_t)n + 1, sizeof *t->inputs);
    if (!t->inputs)
        return oom(err, where);
    t->n_inputs = n;
    for (int32_t i = 0; i < n && !rc; i++) {
        nq_json_ptr_index(item, where, (size_t)i);
        rc = parse_input(t, json_array_get(arr, (size_t)i), item, i, err);
    }
    return rc;
}

/* An output's optional "values": a non-empty list of distinct values of
 * the output's type. *values is left borrowed from the document. */
static int parse_values(nq__dt_output *o, const json_t *v, const char *where,
                        const json_t **values, nq_err *err)
{
    json_t *arr = NULL;
    int rc = nq_json_get_typed(v, where, "values", 0, JSON_ARRAY, &arr, err);
    if (rc || !arr)
        return rc;
    char vw[NQ_JSON_PTR_MAX], item[NQ_JSON_PTR_MAX];
    nq_json_ptr_key(vw, where, "values");
    size_t n = json_array_size(arr);
    if (n == 0)
        return nq_err_set(err, NQ_EINVAL, vw, "must not be empty");
    if (n > NQ_DTABLE_MAX_VALUES)
        return nq_err_set(err, NQ_ELIMIT, vw, "%zu entries, more than the limit of %d", n,
                          NQ_DTABLE_MAX_VALUES);
    for (size_t j = 0; j < n; j++) {
        json_t *x = json_array_get(arr, j);
        nq_json_ptr_index(item, vw, j);
        if (!nq__dt_is_type(x, o->type))
            return nq_err_set(err, NQ_EINVAL, item, "expected a %s, got a %s",
                              nq_dtable_type_name(o->type), nq_json_type_name(x));
        for (size_t k = 0; k < j; k++)
            if (nq__dt_value_equal(x, json_array_get(arr, k)))
                return nq_err_set(err, NQ_EINVAL, item, "duplicate value (also entry %zu)", k);
    }
    o->n_values = (int32_t)n;
    *values = arr;
    return NQ_OK;
}

static int parse_output(nq_dtable *t, const json_t *v, const char *where, int32_t i,
                        const json_t **values, nq_err *err)
{
    static const char *const keys[] = {"name", "type", "values", "action", NULL};
    nq__dt_output *o = &t->outputs[i];
    int rc = nq_json_check_keys(v, where, keys, err);
    if (!rc)
        rc = get_name(v, where, &o->name, err);
    if (!rc)
        rc = get_type(v, where, &o->type, err);
    int32_t other = rc ? -1 : find_output(t, o->name, i);
    if (other >= 0)
        rc = duplicate(where, "output", o->name, other, err);
    if (!rc)
        rc = parse_values(o, v, where, &values[i], err);
    json_t *action = rc ? NULL : json_object_get(v, "action");
    if (action)
        o->action = json_incref(action);
    return rc;
}

static int parse_outputs(nq_dtable *t, const json_t *obj, const char *ptr, const json_t **values,
                         nq_err *err)
{
    json_t *arr;
    int rc = get_list(obj, ptr, "outputs", NQ_DTABLE_MAX_OUTPUTS, &arr, err);
    if (rc)
        return rc;
    char where[NQ_JSON_PTR_MAX], item[NQ_JSON_PTR_MAX];
    nq_json_ptr_key(where, ptr, "outputs");
    int32_t n = (int32_t)json_array_size(arr);
    if (n == 0)
        return nq_err_set(err, NQ_EINVAL, where, "a table needs at least one output");
    t->outputs = calloc((size_t)n, sizeof *t->outputs);
    if (!t->outputs)
        return oom(err, where);
    t->n_outputs = n;
    for (int32_t i = 0; i < n && !rc; i++) {
        nq_json_ptr_index(item, where, (size_t)i);
        rc = parse_output(t, json_array_get(arr, (size_t)i), item, i, values, err);
    }
    return rc;
}

/* What the hit policy and aggregation need of the outputs. */
static int check_policy(const nq_dtable *t, const char *ptr, nq_err *err)
{
    char where[NQ_JSON_PTR_MAX];
    for (int32_t i = 0; t->policy == NQ_DTABLE_PRIORITY && i < t->n_outputs; i++) {
        if (t->outputs[i].n_values)
            continue;
        nq_json_ptr_key(where, ptr, "outputs");
        nq_json_ptr_index(where, where, (size_t)i);
        nq_json_ptr_key(where, where, "values");
        return nq_err_set(err, NQ_EINVAL, where,
                          "required member is missing: the priority hit policy ranks outputs by "
                          "their \"values\" order");
    }
    if (t->agg == NQ_DTABLE_AGG_NONE || t->agg == NQ_DTABLE_AGG_COUNT)
        return NQ_OK;
    nq_json_ptr_key(where, ptr, "aggregation");
    const char *agg = nq_dtable_agg_name(t->agg);
    if (t->n_outputs != 1)
        return nq_err_set(err, NQ_EINVAL, where, "%s needs exactly one output, the table has %d",
                          agg, (int)t->n_outputs);
    if (t->outputs[0].type != NQ_DTABLE_NUMBER)
        return nq_err_set(err, NQ_EINVAL, where, "%s needs a number output, \"%s\" is a %s", agg,
                          t->outputs[0].name, nq_dtable_type_name(t->outputs[0].type));
    return NQ_OK;
}

/* ---- rules ------------------------------------------------------------------ */

static int parse_when(nq_dtable *t, const json_t *rule, const char *where, int32_t r,
                      nq_err *err)
{
    json_t *when = NULL;
    int rc = nq_json_get_typed(rule, where, "when", 0, JSON_OBJECT, &when, err);
    if (rc || !when)
        return rc;
    char ww[NQ_JSON_PTR_MAX], cw[NQ_JSON_PTR_MAX];
    nq_json_ptr_key(ww, where, "when");
    const char *key;
    json_t *cond;
    json_object_foreach(when, key, cond) {
        nq_json_ptr_key(cw, ww, key);
        int32_t i = find_input(t, key, t->n_inputs);
        if (i < 0)
            return nq_err_set(err, NQ_EINVAL, cw, "unknown member: the table has no input \"%s\"",
                              key);
        nq__feel *cell = nq__dt_when(t, r, i);
        if ((rc = nq__feel_parse(cond, t->inputs[i].type, cw, cell, err)))
            return rc;
        t->inputs[i].tested |= !cell->any;
    }
    return NQ_OK;
}

/* Position of v in an output's "values" (it must be there), or 0. */
static int rank_of(const json_t *v, const json_t *values, const char *where, const char *name,
                   int32_t *rank, nq_err *err)
{
    *rank = 0;
    if (!values)
        return NQ_OK;
    for (size_t k = 0; k < json_array_size(values); k++) {
        if (nq__dt_value_equal(v, json_array_get(values, k))) {
            *rank = (int32_t)k;
            return NQ_OK;
        }
    }
    return nq_err_set(err, NQ_EINVAL, where, "not one of the \"values\" of output \"%s\"", name);
}

static int parse_cell(nq_dtable *t, const json_t *then, const char *tw, int32_t r, int32_t o,
                      const json_t *values, nq_err *err)
{
    const nq__dt_output *out = &t->outputs[o];
    char cw[NQ_JSON_PTR_MAX];
    nq_json_ptr_key(cw, tw, out->name);
    json_t *v = json_object_get(then, out->name);
    if (!v)
        return nq_err_set(err, NQ_EINVAL, cw, "required member is missing");
    if (!nq__dt_is_type(v, out->type))
        return nq_err_set(err, NQ_EINVAL, cw, "expected a %s, got a %s",
                          nq_dtable_type_name(out->type), nq_json_type_name(v));
    nq__dt_cell *cell = nq__dt_then(t, r, o);
    int rc = rank_of(v, values, cw, out->name, &cell->rank, err);
    if (rc)
        return rc;
    cell->value = json_copy(v);
    return cell->value ? NQ_OK : oom(err, cw);
}

static int parse_then(nq_dtable *t, const json_t *rule, const char *where, int32_t r,
                      const json_t **values, nq_err *err)
{
    json_t *then;
    int rc = nq_json_get_typed(rule, where, "then", 1, JSON_OBJECT, &then, err);
    if (rc)
        return rc;
    char tw[NQ_JSON_PTR_MAX], kw[NQ_JSON_PTR_MAX];
    nq_json_ptr_key(tw, where, "then");
    const char *key;
    json_t *v;
    json_object_foreach(then, key, v) {
        if (find_output(t, key, t->n_outputs) >= 0)
            continue;
        nq_json_ptr_key(kw, tw, key);
        return nq_err_set(err, NQ_EINVAL, kw, "unknown member: the table has no output \"%s\"",
                          key);
    }
    for (int32_t o = 0; o < t->n_outputs && !rc; o++)
        rc = parse_cell(t, then, tw, r, o, values[o], err);
    return rc;
}

static int parse_rule(nq_dtable *t, const json_t *rule, const char *where, int32_t r,
                      const json_t **values, nq_err *err)
{
    static const char *const keys[] = {"when", "then", "description", NULL};
    int rc = nq_json_check_keys(rule, where, keys, err);
    if (rc)
        return rc;
    const char *desc = NULL;
    rc = nq_json_get_string(rule, where, "description", 0, NQ_DTABLE_MAX_TEXT, &desc, err);
    if (rc)
        return rc;
    if (desc && !(t->description[r] = strdup(desc)))
        return oom(err, where);
    for (int32_t i = 0; i < t->n_inputs; i++) /* a missing column is "-" */
        (nq__dt_when(t, r, i))->any = 1;
    rc = parse_when(t, rule, where, r, err);
    return rc ? rc : parse_then(t, rule, where, r, values, err);
}

static int parse_rules(nq_dtable *t, const json_t *obj, const char *ptr, const json_t **values,
                       nq_err *err)
{
    json_t *arr;
    int rc = get_list(obj, ptr, "rules", NQ_DTABLE_MAX_RULES, &arr, err);
    if (rc)
        return rc;
    char where[NQ_JSON_PTR_MAX], item[NQ_JSON_PTR_MAX];
    nq_json_ptr_key(where, ptr, "rules");
    size_t n = json_array_size(arr);
    t->when = calloc(n * (size_t)t->n_inputs + 1, sizeof *t->when);
    t->then = calloc(n * (size_t)t->n_outputs + 1, sizeof *t->then);
    t->description = calloc(n + 1, sizeof *t->description);
    if (!t->when || !t->then || !t->description)
        return oom(err, where);
    t->n_rules = (int32_t)n;
    for (size_t r = 0; r < n && !rc; r++) {
        nq_json_ptr_index(item, where, r);
        rc = parse_rule(t, json_array_get(arr, r), item, (int32_t)r, values, err);
    }
    return rc;
}

/* ---- public ------------------------------------------------------------------ */

int nq_dtable_parse(const json_t *obj, const char *ptr, nq_dtable **out, nq_err *err)
{
    if (!ptr)
        ptr = "";
    if (!out)
        return nq_err_set(err, NQ_EINVAL, ptr, "no output given");
    *out = NULL;
    nq_dtable *t = calloc(1, sizeof *t);
    if (!t)
        return oom(err, ptr);
    size_t n = strnlen(ptr, sizeof t->ptr - 1);
    memcpy(t->ptr, ptr, n);
    /* Borrowed from obj while parsing only: the cells keep copies. */
    const json_t *values[NQ_DTABLE_MAX_OUTPUTS] = {0};
    int rc = parse_header(t, obj, ptr, err);
    if (!rc)
        rc = parse_inputs(t, obj, ptr, err);
    if (!rc)
        rc = parse_outputs(t, obj, ptr, values, err);
    if (!rc)
        rc = check_policy(t, ptr, err);
    if (!rc)
        rc = parse_rules(t, obj, ptr, values, err);
    if (rc) {
        nq_dtable_free(t);
        return rc;
    }
    *out = t;
    return NQ_OK;
}

void nq_dtable_free(nq_dtable *t)
{
    if (!t)
        return;
    for (int32_t i = 0; i < t->n_inputs; i++)
        free(t->inputs[i].name);
    for (int32_t o = 0; o < t->n_outputs; o++) {
        free(t->outputs[o].name);
        json_decref(t->outputs[o].action);
    }
    for (size_t k = 0; t->when && k < (size_t)t->n_rules * (size_t)t->n_inputs; k++)
        nq__feel_free(&t->when[k]);
    for (size_t k = 0; t->then && k < (size_t)t->n_rules * (size_t)t->n_outputs; k++)
        json_decref(t->then[k].value);
    for (int32_t r = 0; t->description && r < t->n_rules; r++)
        free(t->description[r]);
    free(t->name);
    free(t->inputs);
    free(t->outputs);
    free(t->when);
    free(t->then);
    free(t->description);
    free(t);
}

/* ---- accessors -------------------------------------------------------------- */

const char *nq_dtable_name(const nq_dtable *t) { return t ? t->name : NULL; }

nq_dtable_policy nq_dtable_hit_policy(const nq_dtable *t)
{
    return t ? t->policy : NQ_DTABLE_UNIQUE;
}

nq_dtable_agg nq_dtable_aggregation(const nq_dtable *t)
{
    return t ? t->agg : NQ_DTABLE_AGG_NONE;
}

int32_t nq_dtable_n_inputs(const nq_dtable *t) { return t ? t->n_inputs : 0; }
int32_t nq_dtable_n_outputs(const nq_dtable *t) { return t ? t->n_outputs : 0; }
int32_t nq_dtable_n_rules(const nq_dtable *t) { return t ? t->n_rules : 0; }

static int in_range(const nq_dtable *t, int32_t i, int32_t n) { return t && i >= 0 && i < n; }

const char *nq_dtable_input_name(const nq_dtable *t, int32_t i)
{
    return in_range(t, i, t ? t->n_inputs : 0) ? t->inputs[i].name : NULL;
}

int nq_dtable_input_type(const nq_dtable *t, int32_t i)
{
    return in_range(t, i, t ? t->n_inputs : 0) ? (int)t->inputs[i].type : -1;
}

const char *nq_dtable_output_name(const nq_dtable *t, int32_t i)
{
    return in_range(t, i, t ? t->n_outputs : 0) ? t->outputs[i].name : NULL;
}

int nq_dtable_output_type(const nq_dtable *t, int32_t i)
{
    return in_range(t, i, t ? t->n_outputs : 0) ? (int)t->outputs[i].type : -1;
}

json_t *nq_dtable_output_action(const nq_dtable *t, int32_t i)
{
    return in_range(t, i, t ? t->n_outputs : 0) ? t->outputs[i].action : NULL;
}

const char *nq_dtable_rule_description(const nq_dtable *t, int32_t rule)
{
    return in_range(t, rule, t ? t->n_rules : 0) ? t->description[rule] : NULL;
}
