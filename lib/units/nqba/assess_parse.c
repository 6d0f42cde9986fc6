/* assess_parse.c - a business-assessment request, checked field by field
 * (docs/api/assessment.md). Every refusal names the member by its JSON
 * pointer; unknown control ids, out-of-scale maturities, evidence dated
 * after as_of and repeated answers are refused rather than guessed at. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compliance_internal.h"
#include "nqba/assess.h"
#include "assess_internal.h"
#include "nqba/json.h"

void nq_assess_req_free(nq_assess_req *r)
{
    if (!r)
        return;
    nq_grc_assessment_free(&r->a);
    for (int32_t i = 0; r->maps && i < r->n_maps; i++)
        nq_grc_mapping_free(&r->maps[i]);
    for (int32_t i = 0; r->deps && r->n_cats > 0 && i < r->cats[0].n_controls; i++)
        free(r->deps[i]); /* before the catalog that says how many there are */
    for (int32_t i = 0; r->cats && i < r->n_cats; i++)
        nq_grc_catalog_free(&r->cats[i]);
    free(r->maps), free(r->cats), free(r->group_costs), free(r->control_costs);
    free(r->deps), free(r->n_deps);
    memset(r, 0, sizeof *r);
}

/* ---- catalogs -------------------------------------------------------------------------- */

/* The catalog called id: one already loaded, the custom one, or a built-in.
 * Returns its index in r->cats or a negative code. */
static int catalog(nq_assess_req *r, const char *id, const json_t *custom, const char *at,
                   nq_err *err)
{
    for (int32_t i = 0; i < r->n_cats; i++)
        if (!strcmp(r->cats[i].id, id))
            return i;
    if (r->n_cats >= NQ_ASSESS_MAX_CATALOGS)
        return nq_err_set(err, NQ_ELIMIT, at, "at most %d catalogs", NQ_ASSESS_MAX_CATALOGS);
    nq_grc_catalog *c = &r->cats[r->n_cats];
    const json_t *cid = custom ? json_object_get(custom, "id") : NULL;
    int rc;
    if (cid && json_is_string(cid) && !strcmp(json_string_value(cid), id))
        rc = nq_grc_catalog_from_json(custom, "/custom_catalog", c, err);
    else if ((rc = nq_grc_catalog_builtin(id, c, err)) == NQ_ENOTFOUND) {
        char msg[NQ_ERR_MSG_MAX];
        snprintf(msg, sizeof msg, "%s", err ? err->msg : "unknown framework"); /* rewritten below */
        rc = nq_err_set(err, NQ_EINVAL, at, "%.200s%s", msg,
                        custom ? " or the custom catalog's id" : "");
    }
    if (rc)
        return rc;
    return r->n_cats++;
}

static int frameworks(const json_t *doc, nq_assess_req *r, nq_err *err)
{
    json_t *custom = NULL;
    const char *fw = NULL;
    int rc = nq_json_get_typed(doc, "", "custom_catalog", 0, JSON_OBJECT, &custom, err);
    if (!rc)
        rc = nq_json_get_string(doc, "", "framework", !custom, NQ_GRC_ID_MAX, &fw, err);
    if (rc)
        return rc;
    if (!(r->cats = calloc(NQ_ASSESS_MAX_CATALOGS, sizeof *r->cats)))
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    if (!fw) { /* the custom catalog is the framework */
        const json_t *cid = json_object_get(custom, "id");
        if (!json_is_string(cid))
            return nq_err_set(err, NQ_EINVAL, "/custom_catalog/id", "a catalog id is required");
        fw = json_string_value(cid);
    }
    rc = catalog(r, fw, custom, "/framework", err);
    if (rc < 0)
        return rc;
    /* A custom catalog nobody names is still checked: a mistake in it
     * should not go unnoticed. */
    const char *cid = custom ? json_string_value(json_object_get(custom, "id")) : NULL;
    if (custom && !cid)
        return nq_err_set(err, NQ_EINVAL, "/custom_catalog/id", "a catalog id is required");
    if (cid && strcmp(r->cats[0].id, cid) && (rc = catalog(r, cid, custom, "/custom_catalog/id",
                                                           err)) < 0)
        return rc;
    return NQ_OK;
}

static int mappings(const json_t *doc, nq_assess_req *r, nq_err *err)
{
    static const char *const keys[] = {"to", "map", NULL};
    json_t *list = NULL, *custom = json_object_get(doc, "custom_catalog");
    int rc = nq_json_get_typed(doc, "", "mappings", 0, JSON_ARRAY, &list, err);
    if (rc || !list)
        return rc;
    size_t n = json_array_size(list);
    if (n > NQ_ASSESS_MAX_MAPPINGS)
        return nq_err_set(err, NQ_ELIMIT, "/mappings", "at most %d mappings",
                          NQ_ASSESS_MAX_MAPPINGS);
    if (!(r->maps = calloc(n + 1, sizeof *r->maps)))
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    char at[NQ_JSON_PTR_MAX], p[NQ_JSON_PTR_MAX];
    for (size_t i = 0; i < n; i++) {
        const json_t *m = json_array_get(list, i);
        const char *to = NULL;
        json_t *map = NULL;
        nq_json_ptr_index(at, "/mappings", i);
        nq_json_ptr_key(p, at, "to");
        if (!json_is_object(m))
            return nq_err_set(err, NQ_EINVAL, at, "expected {to, map}");
        if ((rc = nq_json_check_keys(m, at, keys, err)) ||
            (rc = nq_json_get_string(m, at, "to", 1, NQ_GRC_ID_MAX, &to, err)) ||
            (rc = nq_json_get_typed(m, at, "map", 1, JSON_OBJECT, &map, err)))
            return rc;
        int t = catalog(r, to, custom, p, err);
        if (t < 0)
            return t;
        if (t == 0)
            return nq_err_set(err, NQ_EINVAL, p, "a mapping goes to another framework");
        nq_json_ptr_key(p, at, "map");
        if ((rc = nq_grc_mapping_from_json(map, p, &r->cats[0], &r->cats[t], &r->maps[i], err)))
            return rc;
        r->n_maps++;
    }
    return NQ_OK;
}

/* ---- answers --------------------------------------------------------------------------- */

static int get_time(const json_t *o, const char *ptr, const char *key, int required,
                    int64_t *out, nq_err *err)
{
    const char *s = NULL;
    char at[NQ_JSON_PTR_MAX];
    int rc = nq_json_get_string(o, ptr, key, required, 64, &s, err);
    if (rc || !s)
        return rc;
    nq_json_ptr_key(at, ptr, key);
    if (nq_grc_time_parse(s, out))
        return nq_err_set(err, NQ_EINVAL, at,
                          "expected an RFC 3339 date (2025-06-30) or date-time "
                          "(2025-06-30T12:00:00Z), got '%.40s'", s);
    return NQ_OK;
}

static int get_text(const json_t *o, const char *ptr, const char *key, int required, char **out,
                    nq_err *err)
{
    const char *s = NULL;
    int rc = nq_json_get_string(o, ptr, key, required, NQ_GRC_TEXT_MAX, &s, err);
    if (!rc && s && !(*out = nq__grc_strdup(s)))
        rc = nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    return rc;
}

static int evidence_item(const json_t *e, const char *at, int64_t as_of, nq_grc_evidence *x,
                         nq_err *err)
{
    static const char *const keys[] = {"name", "link", "hash", "collected_at", "expires_at", NULL};
    char p[NQ_JSON_PTR_MAX];
    x->expires_at = NQ_GRC_NO_TIME;
    int rc = json_is_object(e) ? nq_json_check_keys(e, at, keys, err)
                               : nq_err_set(err, NQ_EINVAL, at, "expected an evidence object");
    if (!rc)
        rc = get_text(e, at, "name", 1, &x->name, err);
    if (!rc)
        rc = get_text(e, at, "link", 0, &x->link, err);
    if (!rc)
        rc = get_text(e, at, "hash", 0, &x->hash, err);
    if (!rc && !x->link && !x->hash)
        rc = nq_err_set(err, NQ_EINVAL, at, "evidence needs a link or a hash");
    if (!rc)
        rc = get_time(e, at, "collected_at", 1, &x->collected_at, err);
    if (!rc)
        rc = get_time(e, at, "expires_at", 0, &x->expires_at, err);
    if (rc)
        return rc;
    char when[32];
    nq_json_ptr_key(p, at, "collected_at");
    if (x->collected_at > as_of)
        return nq_err_set(err, NQ_EINVAL, p, "collected in the future relative to as_of (%s)",
                          nq_grc_time_format(as_of, when, sizeof when));
    nq_json_ptr_key(p, at, "expires_at");
    if (x->expires_at != NQ_GRC_NO_TIME && x->expires_at <= x->collected_at)
        return nq_err_set(err, NQ_EINVAL, p, "expires before it was collected");
    return NQ_OK;
}

static int evidence(const json_t *ans, const char *at, int64_t as_of, nq_grc_answer *x,
                    nq_err *err)
{
    json_t *list = NULL;
    char p[NQ_JSON_PTR_MAX], q[NQ_JSON_PTR_MAX];
    int rc = nq_json_get_typed(ans, at, "evidence", 0, JSON_ARRAY, &list, err);
    if (rc || !list)
        return rc;
    size_t n = json_array_size(list);
    nq_json_ptr_key(p, at, "evidence");
    if (n > NQ_GRC_MAX_EVIDENCE)
        return nq_err_set(err, NQ_ELIMIT, p, "at most %d items", NQ_GRC_MAX_EVIDENCE);
    if (n && !(x->evidence = calloc(n, sizeof *x->evidence)))
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    for (size_t j = 0; j < n; j++) {
        nq_json_ptr_index(q, p, j);
        x->n_evidence++;
        if ((rc = evidence_item(json_array_get(list, j), q, as_of, &x->evidence[j], err)))
            return rc;
    }
    return NQ_OK;
}

static int status_of(const json_t *ans, const char *at, nq_grc_status *s, nq_err *err)
{
    const char *st = NULL, *res = NULL;
    char p[NQ_JSON_PTR_MAX];
    int rc = nq_json_get_string(ans, at, "status", 0, 32, &st, err);
    if (!rc)
        rc = nq_json_get_string(ans, at, "result", 0, 32, &res, err);
    if (rc)
        return rc;
    if (st && res)
        return nq_err_set(err, NQ_EINVAL, at, "give status or result, not both");
    if (!st && !res)
        return nq_err_set(err, NQ_EINVAL, at, "status (or result) is required");
    nq_json_ptr_key(p, at, st ? "status" : "result");
    if (nq_grc_status_parse(st ? st : res, s))
        return nq_err_set(err, NQ_EINVAL, p,
                          "one of not_started, partial, implemented, not_applicable, "
                          "not_assessed (or non_compliant, partially_compliant, compliant)");
    return NQ_OK;
}

static int control_of(const nq_assess_req *r, const json_t *ans, const char *at, int32_t *k,
                      nq_err *err)
{
    const nq_grc_catalog *c = &r->cats[0];
    const char *id = NULL;
    char p[NQ_JSON_PTR_MAX];
    int rc = nq_json_get_string(ans, at, "control", 1, NQ_GRC_ID_MAX, &id, err);
    if (rc)
        return rc;
    nq_json_ptr_key(p, at, "control");
    if ((*k = nq_grc_find_control(c, id)) < 0)
        return nq_err_set(err, NQ_EINVAL, p, "unknown control '%.64s' in %s%s", id, c->id,
                          nq_grc_is_withdrawn(c, id) ? " (withdrawn from this version)" : "");
    if (r->a.answers[*k].answered)
        return nq_err_set(err, NQ_EINVAL, p, "a second answer for '%s'", c->controls[*k].id);
    return NQ_OK;
}

static int answer(nq_assess_req *r, const json_t *ans, const char *at, nq_err *err)
{
    static const char *const keys[] = {"control", "status", "result", "maturity", "owner",
                                       "notes",   "evidence", NULL};
    const nq_grc_catalog *c = &r->cats[0];
    int32_t k = -1;
    char p[NQ_JSON_PTR_MAX];
    int rc = json_is_object(ans) ? nq_json_check_keys(ans, at, keys, err)
                                 : nq_err_set(err, NQ_EINVAL, at, "expected an answer object");
    if (!rc)
        rc = control_of(r, ans, at, &k, err);
    if (rc)
        return rc;
    nq_grc_answer *x = &r->a.answers[k];
    x->answered = 1;
    double m = NAN;
    if ((rc = status_of(ans, at, &x->status, err)) ||
        (rc = nq_json_get_number(ans, at, "maturity", 0, &m, err)))
        return rc;
    nq_json_ptr_key(p, at, "maturity");
    if (!isnan(m) && !(m >= c->scale_min && m <= c->scale_max))
        return nq_err_set(err, NQ_EINVAL, p, "maturity %g is outside %s's scale %g..%g", m, c->id,
                          c->scale_min, c->scale_max);
    /* Not applicable controls are not scored (CISO Assistant drops them). */
    x->maturity = x->status == NQ_GRC_NOT_APPLICABLE ? NAN : m;
    if ((rc = get_text(ans, at, "owner", 0, &x->owner, err)) ||
        (rc = get_text(ans, at, "notes", 0, &x->notes, err)))
        return rc;
    return evidence(ans, at, r->a.as_of, x, err);
}

static int answers(const json_t *doc, nq_assess_req *r, nq_err *err)
{
    json_t *list = NULL;
    int64_t as_of = 0;
    int req_ev = 0;
    int rc = get_time(doc, "", "as_of", 1, &as_of, err);
    if (!rc)
        rc = nq_json_get_bool(doc, "", "require_evidence", 0, &req_ev, err);
    if (!rc)
        rc = nq_json_get_typed(doc, "", "answers", 1, JSON_ARRAY, &list, err);
    if (!rc)
        rc = nq_grc_assessment_init(&r->a, &r->cats[0], as_of, err);
    if (rc)
        return rc;
    r->a.require_evidence = req_ev;
    size_t n = json_array_size(list);
    if (n > NQ_ASSESS_MAX_ANSWERS)
        return nq_err_set(err, NQ_ELIMIT, "/answers", "at most %d answers",
                          NQ_ASSESS_MAX_ANSWERS);
    char at[NQ_JSON_PTR_MAX];
    for (size_t i = 0; !rc && i < n; i++) {
        nq_json_ptr_index(at, "/answers", i);
        rc = answer(r, json_array_get(list, i), at, err);
    }
    return rc;
}

/* ---- health ---------------------------------------------------------------------------- */

static int health(const json_t *doc, nq_assess_req *r, nq_err *err)
{
    static const char *const keys[] = {
        "revenue",       "net_income",           "total_assets",          "total_liabilities",
        "current_assets", "current_liabilities", "uptime_pct",            "on_time_delivery_pct",
        "employee_turnover_pct", "customer_churn_pct", NULL};
    json_t *h = NULL;
    nq_grc_health_in_init(&r->health);
    int rc = nq_json_get_typed(doc, "", "health", 0, JSON_OBJECT, &h, err);
    if (rc || !h)
        return rc;
    r->has_health = 1;
    double *f[] = {&r->health.revenue,        &r->health.net_income,
                   &r->health.total_assets,   &r->health.total_liabilities,
                   &r->health.current_assets, &r->health.current_liabilities,
                   &r->health.uptime_pct,     &r->health.on_time_delivery_pct,
                   &r->health.employee_turnover_pct, &r->health.customer_churn_pct};
    rc = nq_json_check_keys(h, "/health", keys, err);
    for (size_t i = 0; !rc && i < sizeof f / sizeof f[0]; i++)
        rc = nq_json_get_number(h, "/health", keys[i], 0, f[i], err);
    nq_grc_health check;
    return rc ? rc : nq_grc_health_eval(&r->health, &check, err);
}

int nq_assess_parse(const json_t *doc, nq_assess_req *r, nq_err *err)
{
    static const char *const keys[] = {"name",   "framework", "custom_catalog",   "as_of",
                                       "answers", "health",   "plan",             "mappings",
                                       "require_evidence",    "include_controls", NULL};
    memset(r, 0, sizeof *r);
    r->include_controls = 1;
    r->target_maturity = NAN;
    nq_grc_plan_opts_default(&r->plan);
    if (!json_is_object(doc))
        return nq_err_set(err, NQ_EINVAL, "", "expected an object, got %s",
                          nq_json_type_name(doc));
    const char *name = NULL;
    int rc = nq_json_check_keys(doc, "", keys, err);
    if (!rc)
        rc = nq_json_get_string(doc, "", "name", 0, 256, &name, err);
    if (!rc)
        rc = nq_json_get_bool(doc, "", "include_controls", 0, &r->include_controls, err);
    if (!rc)
        rc = frameworks(doc, r, err);
    if (!rc)
        rc = answers(doc, r, err);
    if (!rc)
        rc = mappings(doc, r, err);
    if (!rc)
        rc = health(doc, r, err);
    if (!rc)
        rc = nq__assess_plan(doc, r, err);
    if (rc)
        nq_assess_req_free(r);
    return rc;
}
