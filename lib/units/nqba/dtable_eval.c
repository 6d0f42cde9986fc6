/* dtable_eval.c - evaluating a decision table on facts: binding the facts to
 * the inputs, finding the matching rules, applying the hit policy, and the
 * result's JSON form.
 *
 * Evaluation only reads the table, so one table serves many threads. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dtable_internal.h"

/* fact[i] = the value of input i, or NULL when it is absent and no rule
 * tests it (only "-" cells will look at it, and they do not). */
static int bind_facts(const nq_dtable *t, const json_t *facts, const char *fp,
                      const json_t **fact, nq_err *err)
{
    if (!json_is_object(facts))
        return nq_err_set(err, NQ_EINVAL, fp, "facts must be an object, got %s",
                          nq_json_type_name(facts));
    char where[NQ_JSON_PTR_MAX];
    for (int32_t i = 0; i < t->n_inputs; i++) {
        const nq__dt_input *in = &t->inputs[i];
        json_t *v = json_object_get(facts, in->name);
        nq_json_ptr_key(where, fp, in->name);
        if (!v && in->tested)
            return nq_err_set(err, NQ_EINVAL, where, "missing input \"%s\"", in->name);
        if (v && !nq__dt_is_type(v, in->type))
            return nq_err_set(err, NQ_EINVAL, where, "input \"%s\" is a %s, got %s", in->name,
                              nq_dtable_type_name(in->type), nq_json_type_name(v));
        fact[i] = v;
    }
    return NQ_OK;
}

static int rule_matches(const nq_dtable *t, int32_t r, const json_t **fact)
{
    for (int32_t i = 0; i < t->n_inputs; i++)
        if (!nq__feel_match(nq__dt_when(t, r, i), fact[i]))
            return 0;
    return 1;
}

/* A unique or any violation, reported at the later of the two rules. */
static int conflict(const nq_dtable *t, int32_t a, int32_t b, const char *what, nq_err *err)
{
    char where[NQ_JSON_PTR_MAX];
    nq_json_ptr_key(where, t->ptr, "rules");
    nq_json_ptr_index(where, where, (size_t)b);
    return nq_err_set(err, NQ_EINVAL, where, "%s hit policy violated: rules %d and %d %s",
                      nq_dtable_policy_name(t->policy), (int)a, (int)b, what);
}

static int same_outputs(const nq_dtable *t, int32_t a, int32_t b)
{
    for (int32_t o = 0; o < t->n_outputs; o++)
        if (!nq__dt_value_equal(nq__dt_then(t, a, o)->value, nq__dt_then(t, b, o)->value))
            return 0;
    return 1;
}

/* Does rule a outrank rule b? Outputs compare in order by their position
 * in "values" (earlier is higher); a full tie leaves the earlier rule. */
static int outranks(const nq_dtable *t, int32_t a, int32_t b)
{
    for (int32_t o = 0; o < t->n_outputs; o++) {
        int32_t ra = nq__dt_then(t, a, o)->rank, rb = nq__dt_then(t, b, o)->rank;
        if (ra != rb)
            return ra < rb;
    }
    return 0;
}

static int add_hit(const nq_dtable *t, int32_t r, nq_dtable_result *out, nq_err *err)
{
    json_t *obj = json_object();
    int bad = !obj;
    for (int32_t o = 0; o < t->n_outputs && !bad; o++)
        bad = json_object_set_new(obj, t->outputs[o].name, json_copy(nq__dt_then(t, r, o)->value));
    if (bad) {
        json_decref(obj);
        return nq_err_set(err, NQ_ENOMEM, t->ptr, "out of memory");
    }
    out->hits[out->n_hits].rule = r;
    out->hits[out->n_hits].outputs = obj;
    out->n_hits++;
    return NQ_OK;
}

/* sum, min or max of the single number output over every hit; count. */
static int aggregate(const nq_dtable *t, nq_dtable_result *out, nq_err *err)
{
    if (t->agg == NQ_DTABLE_AGG_NONE)
        return NQ_OK;
    out->aggregated = t->agg == NQ_DTABLE_AGG_COUNT || out->n_matched > 0;
    out->aggregate = out->n_matched;
    if (t->agg == NQ_DTABLE_AGG_COUNT || out->n_matched == 0)
        return NQ_OK;
    double acc = json_number_value(nq__dt_then(t, out->matched[0], 0)->value);
    for (int32_t k = 1; k < out->n_matched; k++) {
        double x = json_number_value(nq__dt_then(t, out->matched[k], 0)->value);
        acc = t->agg == NQ_DTABLE_AGG_SUM ? acc + x
              : t->agg == NQ_DTABLE_AGG_MIN ? fmin(acc, x)
                                             : fmax(acc, x);
    }
    out->aggregate = acc;
    if (isfinite(acc))
        return NQ_OK;
    char where[NQ_JSON_PTR_MAX];
    nq_json_ptr_key(where, t->ptr, "aggregation");
    return nq_err_set(err, NQ_ERANGE, where, "the sum of the matching rules overflows");
}

static int select_one(const nq_dtable *t, nq_dtable_result *out, nq_err *err)
{
    const int32_t *m = out->matched;
    int32_t n = out->n_matched, best = 0;
    if (t->policy == NQ_DTABLE_UNIQUE && n > 1)
        return conflict(t, m[0], m[1], "both match", err);
    for (int32_t k = 1; t->policy == NQ_DTABLE_ANY && k < n; k++)
        if (!same_outputs(t, m[0], m[k]))
            return conflict(t, m[0], m[k], "match with different outputs", err);
    for (int32_t k = 1; t->policy == NQ_DTABLE_PRIORITY && k < n; k++)
        if (outranks(t, m[k], m[best]))
            best = k;
    return n ? add_hit(t, m[best], out, err) : NQ_OK;
}

static int select_hits(const nq_dtable *t, nq_dtable_result *out, nq_err *err)
{
    int collect = t->policy == NQ_DTABLE_COLLECT;
    out->hits = calloc(collect ? (size_t)out->n_matched + 1 : 1, sizeof *out->hits);
    if (!out->hits)
        return nq_err_set(err, NQ_ENOMEM, t->ptr, "out of memory");
    if (!collect)
        return select_one(t, out, err);
    for (int32_t k = 0; k < out->n_matched; k++) {
        int rc = add_hit(t, out->matched[k], out, err);
        if (rc)
            return rc;
    }
    return aggregate(t, out, err);
}

int nq_dtable_eval(const nq_dtable *t, const json_t *facts, const char *facts_ptr,
                   nq_dtable_result *out, nq_err *err)
{
    if (!facts_ptr)
        facts_ptr = "";
    if (out)
        memset(out, 0, sizeof *out);
    if (!t || !out)
        return nq_err_set(err, NQ_EINVAL, facts_ptr, "no table or no result given");
    const json_t *fact[NQ_DTABLE_MAX_INPUTS] = {0};
    int rc = bind_facts(t, facts, facts_ptr, fact, err);
    if (rc)
        return rc;
    out->matched = malloc(((size_t)t->n_rules + 1) * sizeof *out->matched);
    if (!out->matched)
        return nq_err_set(err, NQ_ENOMEM, t->ptr, "out of memory");
    for (int32_t r = 0; r < t->n_rules; r++)
        if (rule_matches(t, r, fact))
            out->matched[out->n_matched++] = r;
    rc = select_hits(t, out, err);
    if (rc)
        nq_dtable_result_free(out);
    return rc;
}

void nq_dtable_result_free(nq_dtable_result *r)
{
    if (!r)
        return;
    for (int32_t k = 0; r->hits && k < r->n_hits; k++)
        json_decref(r->hits[k].outputs);
    free(r->hits);
    free(r->matched);
    memset(r, 0, sizeof *r);
}

/* ---- JSON -------------------------------------------------------------------- */

/* Whole numbers print as integers ("3", not "3.0") while a double holds
 * them exactly. */
static json_t *number_json(double x)
{
    if (x == floor(x) && fabs(x) <= 9007199254740992.0)
        return json_integer((json_int_t)x);
    return json_real(x);
}

static json_t *rule_list(const nq_dtable_result *r)
{
    json_t *a = json_array();
    for (int32_t k = 0; a && k < r->n_matched; k++) {
        if (json_array_append_new(a, json_integer(r->matched[k]))) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

static json_t *hit_list(const nq_dtable_result *r)
{
    json_t *a = json_array();
    for (int32_t k = 0; a && k < r->n_hits; k++) {
        if (json_array_append_new(a, json_deep_copy(r->hits[k].outputs))) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

/* The "outputs" member, and "selected" or "aggregation" beside it. */
static int set_outputs(const nq_dtable *t, const nq_dtable_result *r, json_t *o)
{
    if (t->policy != NQ_DTABLE_COLLECT) {
        int one = r->n_hits > 0;
        return json_object_set_new(o, "selected",
                                   one ? json_integer(r->hits[0].rule) : json_null()) |
               json_object_set_new(o, "outputs",
                                   one ? json_deep_copy(r->hits[0].outputs) : json_null());
    }
    if (t->agg == NQ_DTABLE_AGG_NONE)
        return json_object_set_new(o, "outputs", hit_list(r));
    return json_object_set_new(o, "aggregation", json_string(nq_dtable_agg_name(t->agg))) |
           json_object_set_new(o, "outputs",
                               r->aggregated ? number_json(r->aggregate) : json_null());
}

json_t *nq_dtable_result_to_json(const nq_dtable *t, const nq_dtable_result *r)
{
    if (!t || !r)
        return NULL;
    json_t *o = json_object();
    if (!o)
        return NULL;
    int bad = json_object_set_new(o, "table", json_string(t->name)) |
              json_object_set_new(o, "hit_policy",
                                  json_string(nq_dtable_policy_name(t->policy))) |
              json_object_set_new(o, "matched", rule_list(r)) | set_outputs(t, r, o);
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}
