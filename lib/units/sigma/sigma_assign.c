/* sigma_assign.c - a lead-to-rep assignment request (reps with capacity and
 * skills, leads with expected values and required skills) and its answer
 * (docs/api/leads.md). Skill names become bits: at most 64 distinct ones
 * in one request. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nqba/json.h"
#include "nqba/sigma.h"

#define MAX_SKILLS 64

void nq_sigma_assign_req_free(nq_sigma_assign_req *r)
{
    if (!r)
        return;
    free(r->leads);
    free(r->reps);
    free(r->lead_ids);
    free(r->rep_names);
    memset(r, 0, sizeof *r);
}

/* Skill names to bits, shared by reps and leads. */
typedef struct skills {
    const char *name[MAX_SKILLS];
    int n;
} skills;

static int skill_bits(const json_t *arr, const char *at, skills *k, int add, uint64_t *bits,
                      nq_err *err)
{
    char p[NQ_JSON_PTR_MAX];
    *bits = 0;
    if (!arr)
        return NQ_OK;
    if (!json_is_array(arr))
        return nq_err_set(err, NQ_EINVAL, at, "an array of skill or territory names");
    for (size_t i = 0; i < json_array_size(arr); i++) {
        const char *s = json_string_value(json_array_get(arr, i));
        nq_json_ptr_index(p, at, i);
        if (!s)
            return nq_err_set(err, NQ_EINVAL, p, "a skill name");
        int b = 0;
        while (b < k->n && strcmp(k->name[b], s) != 0)
            b++;
        if (b == k->n && !add) /* no rep has it: no rep can take the lead */
            return nq_err_set(err, NQ_EINVAL, p, "no rep has '%.64s'", s);
        if (b == k->n && k->n == MAX_SKILLS)
            return nq_err_set(err, NQ_ELIMIT, p, "at most %d distinct skills", MAX_SKILLS);
        if (b == k->n)
            k->name[k->n++] = s;
        *bits |= (uint64_t)1 << b;
    }
    return NQ_OK;
}

static int reps(const json_t *arr, nq_sigma_assign_req *r, skills *k, nq_err *err)
{
    static const char *const keys[] = {"name", "capacity", "min_load", "skills", NULL};
    size_t n = json_array_size(arr);
    char at[NQ_JSON_PTR_MAX];
    if (!json_is_array(arr) || n < 1 || n > NQ_ASSIGN_MAX_REPS)
        return nq_err_set(err, NQ_EINVAL, "/reps", "an array of 1..%d reps", NQ_ASSIGN_MAX_REPS);
    r->reps = calloc(n, sizeof *r->reps);
    r->rep_names = calloc(n, sizeof *r->rep_names);
    if (!r->reps || !r->rep_names)
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const json_t *v = json_array_get(arr, i);
        int64_t cap = 0, min = 0;
        nq_json_ptr_index(at, "/reps", i);
        int rc = json_is_object(v) ? nq_json_check_keys(v, at, keys, err)
                                   : nq_err_set(err, NQ_EINVAL, at, "expected an object");
        if (!rc)
            rc = nq_json_get_string(v, at, "name", 1, 128, &r->rep_names[i], err);
        if (!rc)
            rc = nq_json_get_int(v, at, "capacity", 1, 0, 1000000, &cap, err);
        if (!rc)
            rc = nq_json_get_int(v, at, "min_load", 0, 0, 1000000, &min, err);
        char sk[NQ_JSON_PTR_MAX];
        nq_json_ptr_key(sk, at, "skills");
        if (!rc)
            rc = skill_bits(json_object_get(v, "skills"), sk, k, 1, &r->reps[i].provides, err);
        if (rc)
            return rc;
        r->reps[i].capacity = (int32_t)cap;
        r->reps[i].min_load = (int32_t)min;
    }
    r->spec.n_reps = (int32_t)n;
    return NQ_OK;
}

static int leads(const json_t *arr, nq_sigma_assign_req *r, skills *k, nq_err *err)
{
    static const char *const keys[] = {"id", "value", "requires", NULL};
    size_t n = json_array_size(arr);
    char at[NQ_JSON_PTR_MAX];
    if (!json_is_array(arr) || n < 1 || n > 100000)
        return nq_err_set(err, NQ_EINVAL, "/leads", "an array of 1..100,000 leads");
    r->leads = calloc(n, sizeof *r->leads);
    r->lead_ids = calloc(n, sizeof *r->lead_ids);
    if (!r->leads || !r->lead_ids)
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const json_t *v = json_array_get(arr, i);
        nq_json_ptr_index(at, "/leads", i);
        int rc = json_is_object(v) ? nq_json_check_keys(v, at, keys, err)
                                   : nq_err_set(err, NQ_EINVAL, at, "expected an object");
        if (!rc)
            rc = nq_json_get_string(v, at, "id", 1, 128, &r->lead_ids[i], err);
        if (!rc)
            rc = nq_json_get_number(v, at, "value", 1, &r->leads[i].value, err);
        char rq[NQ_JSON_PTR_MAX];
        nq_json_ptr_key(rq, at, "requires");
        if (!rc)
            rc = skill_bits(json_object_get(v, "requires"), rq, k, 0, &r->leads[i].requires, err);
        if (rc)
            return rc;
    }
    r->spec.n_leads = (int32_t)n;
    return NQ_OK;
}

static int options(const json_t *doc, nq_sigma_assign_req *r, nq_err *err)
{
    static const char *const okeys[] = {"seed", "time_limit", NULL};
    const char *fair = NULL, *method = NULL;
    json_t *o = NULL;
    int64_t seed = 1;
    int rc;
    if ((rc = nq_json_get_bool(doc, "", "assign_all", 0, &r->spec.assign_all, err)) ||
        (rc = nq_json_get_string(doc, "", "fairness", 0, 16, &fair, err)) ||
        (rc = nq_json_get_number(doc, "", "fairness_weight", 0, &r->spec.fairness_weight, err)) ||
        (rc = nq_json_get_string(doc, "", "method", 0, 16, &method, err)) ||
        (rc = nq_json_get_typed(doc, "", "options", 0, JSON_OBJECT, &o, err)))
        return rc;
    if (o && ((rc = nq_json_check_keys(o, "/options", okeys, err)) ||
              (rc = nq_json_get_int(o, "/options", "seed", 0, 0, INT64_MAX, &seed, err)) ||
              (rc = nq_json_get_number(o, "/options", "time_limit", 0, &r->spec.time_limit, err))))
        return rc;
    r->spec.seed = (uint64_t)seed;
    r->spec.fairness = !fair || !strcmp(fair, "none") ? NQ_ASSIGN_FAIR_NONE
                       : !strcmp(fair, "balanced")    ? NQ_ASSIGN_FAIR_BALANCED
                       : !strcmp(fair, "spread")      ? NQ_ASSIGN_FAIR_SPREAD
                                                      : -1;
    if ((int)r->spec.fairness < 0)
        return nq_err_set(err, NQ_EINVAL, "/fairness", "none, balanced or spread");
    if (method && strcmp(method, "engine") && strcmp(method, "milp"))
        return nq_err_set(err, NQ_EINVAL, "/method", "engine or milp");
    r->milp = method && !strcmp(method, "milp");
    if (!(r->spec.time_limit >= 0 && r->spec.time_limit <= 3600))
        return nq_err_set(err, NQ_EINVAL, "/options/time_limit", "0 to 3600 seconds");
    return NQ_OK;
}

int nq_sigma_assign_parse(const json_t *doc, nq_sigma_assign_req *r, nq_err *err)
{
    static const char *const keys[] = {"name", "reps", "leads", "assign_all", "fairness",
                                       "fairness_weight", "method", "options", NULL};
    memset(r, 0, sizeof *r);
    skills k = {.n = 0};
    if (!json_is_object(doc))
        return nq_err_set(err, NQ_EINVAL, "", "expected an object, got %s",
                          nq_json_type_name(doc));
    int rc = nq_json_check_keys(doc, "", keys, err);
    if (!rc)
        rc = reps(json_object_get(doc, "reps"), r, &k, err);
    if (!rc)
        rc = leads(json_object_get(doc, "leads"), r, &k, err);
    if (!rc)
        rc = options(doc, r, err);
    r->spec.leads = r->leads;
    r->spec.reps = r->reps;
    if (rc)
        nq_sigma_assign_req_free(r);
    return rc;
}

static json_t *answer_of(const nq_sigma_assign_req *r, const nq_assign_result *res)
{
    json_t *assignment = json_array(), *loads = json_object(), *expl = json_array();
    for (int32_t l = 0; assignment && l < res->n_leads; l++) {
        int32_t rep = res->rep_of[l];
        json_array_append_new(
            assignment,
            json_pack("{s:s, s:s?, s:f}", "lead", r->lead_ids[l], "rep",
                      rep >= 0 ? r->rep_names[rep] : NULL, "value",
                      rep >= 0 ? nq_assign_pair_value(&r->spec, l, rep) : 0.0));
    }
    for (int32_t p = 0; loads && p < res->n_reps; p++)
        json_object_set_new(loads, r->rep_names[p], json_integer(res->load[p]));
    nq_json_say(expl, "%d of %d leads assigned to %d reps for a total expected value of %.2f (%s%s).",
                (int)res->n_assigned, (int)res->n_leads, (int)res->n_reps, res->total_value,
                res->method, res->proven_optimal ? ", proven optimal" : "");
    nq_json_say(expl, "Loads from %d to %d leads per rep; every assignment respects capacity "
                      "and skills.",
                (int)res->min_load, (int)res->max_load);
    return json_pack("{s:o, s:f, s:f, s:o, s:i, s:i, s:b, s:s, s:o}", "assignment", assignment,
                     "total_value", res->total_value, "objective", res->objective, "loads",
                     loads, "assigned", (int)res->n_assigned, "unassigned",
                     (int)(res->n_leads - res->n_assigned), "proven_optimal",
                     res->proven_optimal, "method", res->method, "explanation", expl);
}

int nq_sigma_assign_run(const nq_sigma_assign_req *r, const atomic_int *cancel, json_t **answer,
                        nq_err *err)
{
    nq_assign_spec s = r->spec;
    s.cancel = cancel;
    nq_assign_result res;
    memset(&res, 0, sizeof res);
    *answer = NULL;
    int rc = r->milp ? nq_assign_solve_milp(&s, s.time_limit > 0 ? s.time_limit : 60, &res, err)
                     : nq_assign_solve(&s, &res, err);
    if (!rc && !(*answer = answer_of(r, &res)))
        rc = nq_err_set(err, NQ_ENOMEM, NULL, "out of memory building the answer");
    nq_assign_result_free(&res);
    return rc;
}
