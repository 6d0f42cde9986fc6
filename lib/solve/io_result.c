/* io_result.c - a solver result as JSON: the document `nqba solve --json`
 * prints and POST /api/v1/solve answers, so both read alike. */
#include <math.h>

#include "nqba/io.h"

/* Doubles hold integers exactly up to 2^53: integral energies within it are
 * written as JSON integers. */
#define EXACT_INT_LIMIT 9007199254740992.0

json_t *nq_json_number(double v, int integral)
{
    if (integral && fabs(v) < EXACT_INT_LIMIT)
        return json_integer((json_int_t)v);
    return json_real(v);
}

static json_t *state_array(const nq_result *r)
{
    json_t *a = json_array();
    for (int32_t i = 0; a && i < r->n; i++)
        if (json_array_append_new(a, json_integer(r->state[i]))) {
            json_decref(a);
            return NULL;
        }
    return a;
}

static json_t *named_state(const nq_model *m, const nq_result *r)
{
    json_t *o = json_object();
    for (int32_t i = 0; o && i < r->n; i++)
        if (json_object_set_new(o, m->names[i], json_integer(r->state[i]))) {
            json_decref(o);
            return NULL;
        }
    return o;
}

/* json_object_set_new frees the value and fails on a NULL one, so one
 * check at the end covers every allocation. */
static void put(json_t *o, const char *key, json_t *v, int *bad)
{
    if (json_object_set_new(o, key, v))
        *bad = 1;
}

json_t *nq_result_to_json(const nq_model *m, const nq_result *r)
{
    json_t *o = json_object();
    int bad = !o;
    if (bad)
        return NULL;
    put(o, "solver", json_string(r->solver), &bad);
    put(o, "found_by", json_string(r->found_by), &bad);
    put(o, "n", json_integer(r->n), &bad);
    put(o, "energy", nq_json_number(r->energy, m->integral), &bad);
    if (m->maxcut)
        put(o, "cut", nq_json_number(nq_maxcut_value(m, r->state), m->integral), &bad);
    put(o, "state", state_array(r), &bad);
    if (m->names)
        put(o, "variables", named_state(m, r), &bad);
    put(o, "reads", json_integer(r->reads), &bad);
    put(o, "elapsed_s", json_real(r->elapsed), &bad);
    put(o, "time_to_best_s", json_real(r->time_to_best), &bad);
    put(o, "attempts", json_integer(r->attempts), &bad);
    put(o, "target_reached", json_boolean(r->target_reached), &bad);
    put(o, "timed_out", json_boolean(r->timed_out), &bad);
    put(o, "cancelled", json_boolean(r->cancelled), &bad);
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}
