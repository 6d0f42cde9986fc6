/* assess_diff.c - what changed between two answers of nq_assess_run for one
 * framework: controls (status, maturity, readiness, evidence, owner), the
 * gaps opened and closed, and every score that moved, overall and per
 * group. It reads answers rather than requests because answers are what
 * gets stored; it needs nothing but the two documents. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "assess_internal.h"
#include "nqba/json.h"

static int need(const json_t *doc, const char *side, const char *key, json_type type,
                json_t **out, nq_err *err)
{
    char ptr[NQ_JSON_PTR_MAX];
    nq_json_ptr_key(ptr, "", side);
    if (!json_is_object(doc))
        return nq_err_set(err, NQ_EINVAL, ptr, "expected an assessment answer object");
    return nq_json_get_typed(doc, ptr, key, 1, type, out, err);
}

static json_t *pair(json_t *before, json_t *after)
{
    json_t *o = json_object();
    json_object_set(o, "before", before ? before : json_null());
    json_object_set(o, "after", after ? after : json_null());
    if (json_is_number(before) && json_is_number(after)) {
        double d = json_number_value(after) - json_number_value(before);
        json_object_set_new(o, "delta", isfinite(d) ? json_real(d) : json_null());
    }
    return o;
}

/* The members of two score objects that differ (result_counts one level down). */
static json_t *score_changes(json_t *b, json_t *a)
{
    json_t *out = json_object();
    const char *k;
    json_t *v;
    json_object_foreach(b, k, v) {
        json_t *w = json_object_get(a, k);
        if (json_is_object(v) && json_is_object(w)) {
            json_t *sub = score_changes(v, w);
            if (json_object_size(sub))
                json_object_set_new(out, k, sub);
            else
                json_decref(sub);
        } else if (!json_is_string(v) && !json_equal(v, w))
            json_object_set_new(out, k, pair(v, w));
    }
    return out;
}

static json_t *scores_diff(json_t *b, json_t *a)
{
    json_t *groups = json_object(), *bg = json_object_get(b, "groups"),
           *ag = json_object_get(a, "groups");
    const char *id;
    json_t *v;
    json_object_foreach(bg, id, v) {
        json_t *w = json_object_get(ag, id);
        json_t *d = w ? score_changes(v, w) : NULL;
        if (d && json_object_size(d))
            json_object_set_new(groups, id, d);
        else
            json_decref(d);
    }
    return json_pack("{s:o, s:o}", "overall",
                     score_changes(json_object_get(b, "overall"), json_object_get(a, "overall")),
                     "groups", groups);
}

static json_t *find_by(json_t *list, const char *key, const char *id)
{
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v) {
        const char *s = json_string_value(json_object_get(v, key));
        if (s && !strcmp(s, id))
            return v;
    }
    return NULL;
}

static int valid_count(json_t *ev)
{
    size_t i;
    json_t *v;
    int n = 0;
    json_array_foreach(ev, i, v) n += json_is_true(json_object_get(v, "valid"));
    return n;
}

static json_t *control_change(json_t *b, json_t *a)
{
    static const char *const fields[] = {"status", "maturity", "ready", "owner"};
    json_t *o = json_object(), *changed = json_array();
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        json_t *x = json_object_get(b, fields[i]), *y = json_object_get(a, fields[i]);
        if (!json_equal(x, y) && !(!x && json_is_null(y)) && !(json_is_null(x) && !y)) {
            json_array_append_new(changed, json_string(fields[i]));
            json_object_set_new(o, fields[i], pair(x, y));
        }
    }
    json_t *eb = json_object_get(b, "evidence"), *ea = json_object_get(a, "evidence");
    if (!json_equal(eb, ea) && !(!eb && !ea)) {
        json_array_append_new(changed, json_string("evidence"));
        json_object_set_new(o, "evidence", json_pack("{s:i, s:i, s:i, s:i}", "items_before",
                                                     (int)json_array_size(eb), "items_after",
                                                     (int)json_array_size(ea), "valid_before",
                                                     valid_count(eb), "valid_after",
                                                     valid_count(ea)));
    }
    if (!json_array_size(changed)) {
        json_decref(o);
        json_decref(changed);
        return NULL;
    }
    json_object_set_new(o, "id", json_incref(json_object_get(a, "id")));
    json_object_set_new(o, "changed", changed);
    return o;
}

static json_t *controls_diff(json_t *b, json_t *a)
{
    json_t *list = json_array();
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v) {
        const char *id = json_string_value(json_object_get(v, "id"));
        json_t *w = id ? find_by(b, "id", id) : NULL;
        json_t *c = w ? control_change(w, v) : NULL;
        if (c)
            json_array_append_new(list, c);
    }
    return list;
}

/* Gap ids in one list and not the other. */
static json_t *gap_ids(json_t *from, json_t *other)
{
    json_t *list = json_array();
    size_t i;
    json_t *v;
    json_array_foreach(from, i, v) {
        const char *id = json_string_value(json_object_get(v, "control"));
        if (id && !find_by(other, "control", id))
            json_array_append_new(list, json_string(id));
    }
    return list;
}

static int check_pair(const json_t *before, const json_t *after, json_t **fb, json_t **fa,
                      nq_err *err)
{
    int rc;
    if ((rc = need(before, "before", "framework", JSON_OBJECT, fb, err)) ||
        (rc = need(after, "after", "framework", JSON_OBJECT, fa, err)))
        return rc;
    const char *ib = json_string_value(json_object_get(*fb, "id"));
    const char *ia = json_string_value(json_object_get(*fa, "id"));
    if (!ib)
        return nq_err_set(err, NQ_EINVAL, "/before/framework/id", "a framework id is required");
    if (!ia)
        return nq_err_set(err, NQ_EINVAL, "/after/framework/id", "a framework id is required");
    if (strcmp(ia, ib))
        return nq_err_set(err, NQ_EINVAL, "/after/framework/id",
                          "'%.64s' is not the framework of the first assessment ('%.64s')", ia,
                          ib);
    json_t *x;
    if ((rc = need(before, "before", "scores", JSON_OBJECT, &x, err)) ||
        (rc = need(after, "after", "scores", JSON_OBJECT, &x, err)))
        return rc;
    return NQ_OK;
}

int nq_assess_diff(const json_t *before, const json_t *after, json_t **diff, nq_err *err)
{
    json_t *fb = NULL, *fa = NULL;
    *diff = NULL;
    int rc = check_pair(before, after, &fb, &fa, err);
    if (rc)
        return rc;
    json_t *b = (json_t *)before, *a = (json_t *)after;
    json_t *cb = json_object_get(b, "controls"), *ca = json_object_get(a, "controls");
    json_t *gb = json_object_get(b, "gaps"), *ga = json_object_get(a, "gaps");
    json_t *d = json_pack("{s:O, s:{s:O, s:O}, s:o, s:{s:o, s:o}}", "framework",
                          json_object_get(fa, "id"), "as_of", "before",
                          json_object_get(b, "as_of") ? json_object_get(b, "as_of") : json_null(),
                          "after",
                          json_object_get(a, "as_of") ? json_object_get(a, "as_of") : json_null(),
                          "scores",
                          scores_diff(json_object_get(b, "scores"), json_object_get(a, "scores")),
                          "gaps", "closed", gap_ids(gb, ga), "opened", gap_ids(ga, gb));
    if (!d)
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory building the diff");
    json_t *lines = json_array();
    if (json_is_array(cb) && json_is_array(ca)) {
        json_t *c = controls_diff(cb, ca);
        nq_json_say(lines, "%d control(s) changed.", (int)json_array_size(c));
        json_object_set_new(d, "controls", c);
    } else
        nq_json_say(lines, "One answer lists no controls: only scores and gaps are compared.");
    nq_json_say(lines, "%d gap(s) closed, %d opened.",
                (int)json_array_size(json_object_get(json_object_get(d, "gaps"), "closed")),
                (int)json_array_size(json_object_get(json_object_get(d, "gaps"), "opened")));
    json_t *rb = json_object_get(json_object_get(json_object_get(b, "scores"), "overall"),
                                 "ready_by_controls_pct");
    json_t *ra = json_object_get(json_object_get(json_object_get(a, "scores"), "overall"),
                                 "ready_by_controls_pct");
    if (json_is_number(rb) && json_is_number(ra))
        nq_json_say(lines, "Readiness by controls %.1f%% -> %.1f%%.", json_number_value(rb),
                    json_number_value(ra));
    json_object_set_new(d, "explanation", lines);
    *diff = d;
    return NQ_OK;
}
