/* assess_json.c - scores as JSON: one object per group and overall, with
 * null where a score is undefined (jansson holds no NaN, and a missing
 * member would hide it). */
#include <math.h>

#include "assess_internal.h"

json_t *nq__assess_num(double x)
{
    return isfinite(x) ? json_real(x) : json_null();
}

json_t *nq__assess_one_score_json(const nq_grc_catalog *c, const nq_grc_scores *s)
{
    (void)c;
    json_t *counts = json_object();
    for (int k = 0; counts && k < NQ_GRC_STATUSES; k++)
        json_object_set_new(counts, nq_grc_result_name((nq_grc_status)k),
                            json_integer(s->counts[k]));
    json_t *o = json_pack("{s:i, s:o, s:i, s:i}", "n_controls", (int)s->n_controls,
                          "result_counts", counts, "progress_pct", (int)s->progress_pct,
                          "n_scored", (int)s->n_scored);
    if (!o)
        return NULL;
    const struct {
        const char *key;
        double v;
    } reals[] = {{"avg_score", s->avg_score},
                 {"avg_score_exact", s->avg_score_exact},
                 {"sum_score", s->sum_score},
                 {"sum_max", s->sum_max},
                 {"avg_of_avg_score", s->avg_of_avg_score},
                 {"avg_of_avg_exact", s->avg_of_avg_exact},
                 {"ready_by_controls_pct", s->ready_controls_pct},
                 {"ready_by_requirements_pct", s->ready_requirements_pct},
                 {"xccdf_flat_pct", s->xccdf_flat_pct},
                 {"xccdf_flat_unweighted_pct", s->xccdf_flat_unweighted_pct}};
    const struct {
        const char *key;
        int32_t v;
    } ints[] = {{"n_in_scope", s->n_in_scope},
                {"n_ready", s->n_ready},
                {"n_expired", s->n_expired},
                {"n_requirements", s->n_requirements},
                {"n_requirements_ready", s->n_requirements_ready},
                {"n_pass", s->n_pass},
                {"n_fail", s->n_fail}};
    int bad = 0;
    for (size_t i = 0; i < sizeof reals / sizeof reals[0]; i++)
        bad |= json_object_set_new(o, reals[i].key, nq__assess_num(reals[i].v));
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++)
        bad |= json_object_set_new(o, ints[i].key, json_integer(ints[i].v));
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static const char *level_name(const nq_grc_catalog *c, int32_t depth)
{
    return depth < c->n_levels && c->levels[depth] ? c->levels[depth] : "group";
}

json_t *nq__assess_scores_json(const nq_grc_catalog *c, const nq_grc_scorecard *s)
{
    json_t *groups = json_object();
    int bad = !groups;
    for (int32_t g = 0; !bad && g < s->n_groups; g++) {
        const nq_grc_group *grp = &c->groups[g];
        json_t *o = nq__assess_one_score_json(c, &s->groups[g]);
        bad = !o || json_object_set_new(o, "title", json_string(grp->title ? grp->title : "")) ||
              json_object_set_new(o, "level", json_string(level_name(c, grp->depth))) ||
              json_object_set_new(o, "parent", grp->parent >= 0
                                                   ? json_string(c->groups[grp->parent].id)
                                                   : json_null()) ||
              json_object_set_new(groups, grp->id, o);
    }
    json_t *overall = bad ? NULL : nq__assess_one_score_json(c, &s->overall);
    if (!overall) {
        json_decref(groups);
        return NULL;
    }
    return json_pack("{s:o, s:o}", "overall", overall, "groups", groups);
}
