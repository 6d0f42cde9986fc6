/* compliance_catalog.c - control catalogs: the JSON format (docs/api/
 * assessment.md), the built-in ones compiled into the library, lookups.
 *
 * A catalog is read in two passes: groups and controls first, then the
 * references between controls (parent, depends_on), so a document may
 * name a control before it defines it. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compliance_internal.h"
#include "nqba/json.h"

char *nq__grc_strdup(const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

double nq__grc_trunc1(double x)
{
    return floor(x * 10 + 1e-9) / 10;
}

void nq_grc_catalog_free(nq_grc_catalog *c)
{
    if (!c)
        return;
    free(c->id), free(c->name), free(c->version), free(c->source), free(c->licence);
    for (int32_t i = 0; i <= NQ_GRC_MAX_DEPTH; i++)
        free(c->levels[i]);
    for (int32_t i = 0; c->groups && i < c->n_groups; i++)
        free(c->groups[i].id), free(c->groups[i].title);
    for (int32_t i = 0; c->controls && i < c->n_controls; i++) {
        nq_grc_control *k = &c->controls[i];
        free(k->id), free(k->label), free(k->title), free(k->depends_on);
    }
    for (int32_t i = 0; c->withdrawn && i < c->n_withdrawn; i++)
        free(c->withdrawn[i]);
    free(c->groups), free(c->controls), free(c->withdrawn), free(c->by_id), free(c->by_label);
    memset(c, 0, sizeof *c);
}

/* ---- lookups ------------------------------------------------------------------ */

static int32_t search(const nq_grc_catalog *c, const int32_t *idx, int32_t n, int label,
                      const char *key)
{
    int32_t lo = 0, hi = n - 1;
    while (idx && lo <= hi) {
        int32_t mid = lo + (hi - lo) / 2;
        const nq_grc_control *k = &c->controls[idx[mid]];
        int d = strcmp(key, label ? k->label : k->id);
        if (d == 0)
            return idx[mid];
        if (d < 0)
            hi = mid - 1;
        else
            lo = mid + 1;
    }
    return -1;
}

int32_t nq_grc_find_control(const nq_grc_catalog *c, const char *id)
{
    if (!c || !id)
        return -1;
    int32_t i = search(c, c->by_id, c->n_controls, 0, id);
    return i >= 0 ? i : search(c, c->by_label, c->n_labels, 1, id);
}

int32_t nq_grc_find_group(const nq_grc_catalog *c, const char *id)
{
    for (int32_t i = 0; c && id && i < c->n_groups; i++)
        if (!strcmp(c->groups[i].id, id))
            return i;
    return -1;
}

int nq_grc_is_withdrawn(const nq_grc_catalog *c, const char *id)
{
    for (int32_t i = 0; c && id && i < c->n_withdrawn; i++)
        if (!strcmp(c->withdrawn[i], id))
            return 1;
    return 0;
}

typedef struct keyed {
    const char *key;
    int32_t idx;
} keyed;

static int keyed_cmp(const void *a, const void *b)
{
    return strcmp(((const keyed *)a)->key, ((const keyed *)b)->key);
}

/* Sort controls by id (label: only those with one) into *out; a repeated
 * name is reported at the later control's pointer. */
static int build_index(nq_grc_catalog *c, const char *ptr, int label, int32_t **out,
                       int32_t *n_out, nq_err *err)
{
    keyed *k = malloc(((size_t)c->n_controls + 1) * sizeof *k);
    int32_t n = 0;
    if (!k)
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    for (int32_t i = 0; i < c->n_controls; i++) {
        const char *s = label ? c->controls[i].label : c->controls[i].id;
        if (s)
            k[n++] = (keyed){.key = s, .idx = i};
    }
    qsort(k, (size_t)n, sizeof *k, keyed_cmp);
    int rc = NQ_OK;
    for (int32_t i = 1; !rc && i < n; i++)
        if (!strcmp(k[i].key, k[i - 1].key)) {
            char at[NQ_JSON_PTR_MAX], p[NQ_JSON_PTR_MAX];
            int32_t later = k[i].idx > k[i - 1].idx ? k[i].idx : k[i - 1].idx;
            nq_json_ptr_key(p, ptr, "controls");
            nq_json_ptr_index(at, p, (size_t)later);
            rc = nq_err_set(err, NQ_EINVAL, at, "control %s '%.64s' appears twice",
                            label ? "label" : "id", k[i].key);
        }
    *out = malloc(((size_t)n + 1) * sizeof **out);
    for (int32_t i = 0; !rc && *out && i < n; i++)
        (*out)[i] = k[i].idx;
    if (!rc && !*out)
        rc = nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    *n_out = n;
    free(k);
    return rc;
}

/* ---- reading a catalog document ------------------------------------------------- */

/* A name: 1..NQ_GRC_ID_MAX-1 bytes, no control characters. */
static int get_id(const json_t *obj, const char *ptr, const char *key, int required, char **out,
                  nq_err *err)
{
    const char *s = NULL;
    char at[NQ_JSON_PTR_MAX];
    int rc = nq_json_get_string(obj, ptr, key, required, NQ_GRC_ID_MAX - 1, &s, err);
    if (rc || !s)
        return rc;
    nq_json_ptr_key(at, ptr, key);
    if (!s[0])
        return nq_err_set(err, NQ_EINVAL, at, "must not be empty");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return nq_err_set(err, NQ_EINVAL, at, "control characters are not allowed");
    if (!(*out = nq__grc_strdup(s)))
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    return NQ_OK;
}

static int get_text(const json_t *obj, const char *ptr, const char *key, char **out, nq_err *err)
{
    const char *s = NULL;
    int rc = nq_json_get_string(obj, ptr, key, 0, NQ_GRC_TEXT_MAX, &s, err);
    if (rc || !s)
        return rc;
    if (!(*out = nq__grc_strdup(s)))
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    return NQ_OK;
}

static int cost_member(const json_t *o, const char *ptr, const char *key, double *out,
                       nq_err *err)
{
    int rc = nq_json_get_number(o, ptr, key, 0, out, err);
    char at[NQ_JSON_PTR_MAX];
    nq_json_ptr_key(at, ptr, key);
    if (!rc && json_object_get(o, key) && !(*out >= 0 && *out <= 1e15))
        return nq_err_set(err, NQ_EINVAL, at, "must be within [0, 1e15]");
    return rc;
}

int nq__grc_cost_json(const json_t *o, const char *ptr, int with_deps, nq_grc_cost *c,
                      nq_err *err)
{
    static const char *const keys[] = {"cost", "effort", "risk_reduction", "depends_on", NULL};
    static const char *const plain[] = {"cost", "effort", "risk_reduction", NULL};
    *c = (nq_grc_cost){.cost = NAN, .effort = NAN, .risk_reduction = NAN};
    if (!json_is_object(o))
        return nq_err_set(err, NQ_EINVAL, ptr, "expected {cost, effort, risk_reduction}");
    int rc = nq_json_check_keys(o, ptr, with_deps ? keys : plain, err);
    if (!rc)
        rc = cost_member(o, ptr, "cost", &c->cost, err);
    if (!rc)
        rc = cost_member(o, ptr, "effort", &c->effort, err);
    if (!rc)
        rc = cost_member(o, ptr, "risk_reduction", &c->risk_reduction, err);
    return rc;
}

static int read_group(nq_grc_catalog *c, const json_t *g, const char *at, nq_err *err)
{
    static const char *const keys[] = {"id", "title", "parent", "remediation", NULL};
    nq_grc_group *grp = &c->groups[c->n_groups];
    *grp = (nq_grc_group){.parent = -1,
                          .remediation = {.cost = NAN, .effort = NAN, .risk_reduction = NAN}};
    c->n_groups++; /* counted now so that free releases what was read */
    const char *parent = NULL;
    json_t *rem = NULL;
    char p[NQ_JSON_PTR_MAX];
    int rc = json_is_object(g) ? nq_json_check_keys(g, at, keys, err)
                               : nq_err_set(err, NQ_EINVAL, at, "expected a group object");
    if (!rc)
        rc = get_id(g, at, "id", 1, &grp->id, err);
    if (!rc)
        rc = get_text(g, at, "title", &grp->title, err);
    if (!rc)
        rc = nq_json_get_string(g, at, "parent", 0, NQ_GRC_ID_MAX, &parent, err);
    if (!rc)
        rc = nq_json_get_typed(g, at, "remediation", 0, JSON_OBJECT, &rem, err);
    nq_json_ptr_key(p, at, "remediation");
    if (!rc && rem)
        rc = nq__grc_cost_json(rem, p, 0, &grp->remediation, err);
    if (rc)
        return rc;
    if (nq_grc_find_group(c, grp->id) != c->n_groups - 1)
        return nq_err_set(err, NQ_EINVAL, at, "group '%s' appears twice", grp->id);
    if (parent) {
        nq_json_ptr_key(p, at, "parent");
        grp->parent = nq_grc_find_group(c, parent);
        if (grp->parent < 0 || grp->parent == c->n_groups - 1)
            return nq_err_set(err, NQ_EINVAL, p, "'%.64s' is not a group listed before this one",
                              parent);
        grp->depth = c->groups[grp->parent].depth + 1;
        if (grp->depth >= NQ_GRC_MAX_DEPTH)
            return nq_err_set(err, NQ_ELIMIT, p, "groups nest at most %d deep", NQ_GRC_MAX_DEPTH);
        c->groups[grp->parent].n_children++;
    }
    return NQ_OK;
}

static int read_control(nq_grc_catalog *c, const json_t *k, const char *at, nq_err *err)
{
    static const char *const keys[] = {"id",     "label",  "title",     "group",
                                       "parent", "weight", "depends_on", NULL};
    nq_grc_control *ctl = &c->controls[c->n_controls];
    *ctl = (nq_grc_control){.parent = -1, .weight = 1};
    c->n_controls++;
    char *group = NULL;
    char p[NQ_JSON_PTR_MAX];
    int rc = json_is_object(k) ? nq_json_check_keys(k, at, keys, err)
                               : nq_err_set(err, NQ_EINVAL, at, "expected a control object");
    if (!rc)
        rc = get_id(k, at, "id", 1, &ctl->id, err);
    if (!rc)
        rc = get_id(k, at, "label", 0, &ctl->label, err);
    if (!rc)
        rc = get_text(k, at, "title", &ctl->title, err);
    if (!rc)
        rc = get_id(k, at, "group", 1, &group, err);
    if (!rc)
        rc = nq_json_get_number(k, at, "weight", 0, &ctl->weight, err);
    nq_json_ptr_key(p, at, "weight");
    if (!rc && !(ctl->weight > 0 && ctl->weight <= 1e6))
        rc = nq_err_set(err, NQ_EINVAL, p, "a weight in (0, 1e6]");
    if (!rc) {
        nq_json_ptr_key(p, at, "group");
        ctl->group = nq_grc_find_group(c, group);
        if (ctl->group < 0)
            rc = nq_err_set(err, NQ_EINVAL, p, "'%s' is not one of the groups", group);
        else
            c->groups[ctl->group].n_controls++;
    }
    free(group);
    return rc;
}

/* Second pass: parent and depends_on name other controls. */
static int link_control(nq_grc_catalog *c, int32_t i, const json_t *k, const char *at,
                        nq_err *err)
{
    nq_grc_control *ctl = &c->controls[i];
    const char *parent = NULL;
    json_t *deps = NULL;
    char p[NQ_JSON_PTR_MAX], q[NQ_JSON_PTR_MAX];
    int rc = nq_json_get_string(k, at, "parent", 0, NQ_GRC_ID_MAX, &parent, err);
    if (!rc)
        rc = nq_json_get_typed(k, at, "depends_on", 0, JSON_ARRAY, &deps, err);
    if (rc)
        return rc;
    nq_json_ptr_key(p, at, "parent");
    if (parent && ((ctl->parent = nq_grc_find_control(c, parent)) < 0 || ctl->parent == i))
        return nq_err_set(err, NQ_EINVAL, p, "'%.64s' is not another control", parent);
    size_t nd = deps ? json_array_size(deps) : 0;
    nq_json_ptr_key(p, at, "depends_on");
    if (nd + (parent != NULL) > NQ_GRC_MAX_DEPS)
        return nq_err_set(err, NQ_ELIMIT, p, "at most %d prerequisites", NQ_GRC_MAX_DEPS);
    if (!(ctl->depends_on = malloc((nd + 1) * sizeof *ctl->depends_on)))
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    if (parent)
        ctl->depends_on[ctl->n_depends_on++] = ctl->parent;
    for (size_t j = 0; j < nd; j++) {
        const char *s = json_string_value(json_array_get(deps, j));
        int32_t d = nq_grc_find_control(c, s);
        nq_json_ptr_index(q, p, j);
        if (d < 0 || d == i)
            return nq_err_set(err, NQ_EINVAL, q, "expected the id of another control");
        ctl->depends_on[ctl->n_depends_on++] = d;
    }
    return NQ_OK;
}

static int read_scale(nq_grc_catalog *c, const json_t *doc, const char *ptr, nq_err *err)
{
    static const char *const keys[] = {"min", "max", "labels", NULL};
    json_t *s = NULL;
    char at[NQ_JSON_PTR_MAX];
    nq_json_ptr_key(at, ptr, "scale");
    c->scale_min = 0, c->scale_max = 4;
    int rc = nq_json_get_typed(doc, ptr, "scale", 0, JSON_OBJECT, &s, err);
    if (rc || !s)
        return rc;
    if ((rc = nq_json_check_keys(s, at, keys, err)) ||
        (rc = nq_json_get_number(s, at, "min", 1, &c->scale_min, err)) ||
        (rc = nq_json_get_number(s, at, "max", 1, &c->scale_max, err)))
        return rc;
    if (!(c->scale_min >= 0 && c->scale_max > c->scale_min && c->scale_max <= 100))
        return nq_err_set(err, NQ_EINVAL, at, "need 0 <= min < max <= 100");
    return NQ_OK;
}

static int read_names(nq_grc_catalog *c, const json_t *doc, const char *ptr, nq_err *err)
{
    json_t *lv = NULL, *wd = NULL;
    char at[NQ_JSON_PTR_MAX], p[NQ_JSON_PTR_MAX];
    int rc;
    if ((rc = get_id(doc, ptr, "id", 1, &c->id, err)) ||
        (rc = get_text(doc, ptr, "name", &c->name, err)) ||
        (rc = get_text(doc, ptr, "version", &c->version, err)) ||
        (rc = get_text(doc, ptr, "source", &c->source, err)) ||
        (rc = get_text(doc, ptr, "licence", &c->licence, err)) ||
        (rc = nq_json_get_typed(doc, ptr, "levels", 0, JSON_ARRAY, &lv, err)) ||
        (rc = nq_json_get_typed(doc, ptr, "withdrawn", 0, JSON_ARRAY, &wd, err)))
        return rc;
    nq_json_ptr_key(at, ptr, "levels");
    if (lv && json_array_size(lv) > NQ_GRC_MAX_DEPTH + 1)
        return nq_err_set(err, NQ_ELIMIT, at, "at most %d level names", NQ_GRC_MAX_DEPTH + 1);
    for (size_t i = 0; lv && i < json_array_size(lv); i++) {
        nq_json_ptr_index(p, at, i);
        const char *s = json_string_value(json_array_get(lv, i));
        if (!s || strlen(s) >= NQ_GRC_ID_MAX)
            return nq_err_set(err, NQ_EINVAL, p, "a level name of at most %d bytes",
                              NQ_GRC_ID_MAX - 1);
        if (!(c->levels[c->n_levels++] = nq__grc_strdup(s)))
            return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    }
    size_t nw = wd ? json_array_size(wd) : 0;
    nq_json_ptr_key(at, ptr, "withdrawn");
    if (nw > NQ_GRC_MAX_CONTROLS)
        return nq_err_set(err, NQ_ELIMIT, at, "at most %d ids", NQ_GRC_MAX_CONTROLS);
    if (nw && !(c->withdrawn = calloc(nw, sizeof *c->withdrawn)))
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    for (size_t i = 0; i < nw; i++) {
        nq_json_ptr_index(p, at, i);
        const char *s = json_string_value(json_array_get(wd, i));
        if (!s || strlen(s) >= NQ_GRC_ID_MAX)
            return nq_err_set(err, NQ_EINVAL, p, "a control id");
        if (!(c->withdrawn[c->n_withdrawn++] = nq__grc_strdup(s)))
            return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    }
    return read_scale(c, doc, ptr, err);
}

static int read_lists(nq_grc_catalog *c, const json_t *doc, const char *ptr, nq_err *err)
{
    json_t *gs = NULL, *ks = NULL;
    char at[NQ_JSON_PTR_MAX], gp[NQ_JSON_PTR_MAX], kp[NQ_JSON_PTR_MAX];
    int rc;
    if ((rc = nq_json_get_typed(doc, ptr, "groups", 1, JSON_ARRAY, &gs, err)) ||
        (rc = nq_json_get_typed(doc, ptr, "controls", 1, JSON_ARRAY, &ks, err)))
        return rc;
    size_t ng = json_array_size(gs), nk = json_array_size(ks);
    nq_json_ptr_key(gp, ptr, "groups");
    nq_json_ptr_key(kp, ptr, "controls");
    if (ng == 0 || ng > NQ_GRC_MAX_GROUPS)
        return nq_err_set(err, NQ_EINVAL, gp, "1 to %d groups", NQ_GRC_MAX_GROUPS);
    if (nk == 0 || nk > NQ_GRC_MAX_CONTROLS)
        return nq_err_set(err, NQ_EINVAL, kp, "1 to %d controls", NQ_GRC_MAX_CONTROLS);
    c->groups = calloc(ng, sizeof *c->groups);
    c->controls = calloc(nk, sizeof *c->controls);
    if (!c->groups || !c->controls)
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    for (size_t i = 0; !rc && i < ng; i++) {
        nq_json_ptr_index(at, gp, i);
        rc = read_group(c, json_array_get(gs, i), at, err);
    }
    for (size_t i = 0; !rc && i < nk; i++) {
        nq_json_ptr_index(at, kp, i);
        rc = read_control(c, json_array_get(ks, i), at, err);
    }
    int32_t n_ids = 0;
    if (!rc)
        rc = build_index(c, ptr, 0, &c->by_id, &n_ids, err);
    if (!rc)
        rc = build_index(c, ptr, 1, &c->by_label, &c->n_labels, err);
    for (size_t i = 0; !rc && i < nk; i++) {
        nq_json_ptr_index(at, kp, i);
        rc = link_control(c, (int32_t)i, json_array_get(ks, i), at, err);
    }
    return rc;
}

/* Controls sit in leaf groups only, so that every group's score is either
 * over its subgroups or over its controls. */
static int check_leaves(const nq_grc_catalog *c, const char *ptr, nq_err *err)
{
    char kp[NQ_JSON_PTR_MAX], at[NQ_JSON_PTR_MAX], p[NQ_JSON_PTR_MAX];
    nq_json_ptr_key(kp, ptr, "controls");
    for (int32_t i = 0; i < c->n_controls; i++) {
        const nq_grc_group *g = &c->groups[c->controls[i].group];
        if (g->n_children) {
            nq_json_ptr_index(at, kp, (size_t)i);
            nq_json_ptr_key(p, at, "group");
            return nq_err_set(err, NQ_EINVAL, p,
                              "group '%s' has subgroups; controls belong to leaf groups", g->id);
        }
    }
    return NQ_OK;
}

int nq_grc_catalog_from_json(const json_t *doc, const char *ptr, nq_grc_catalog *out,
                             nq_err *err)
{
    static const char *const keys[] = {"id",     "name",  "version", "source",   "licence",
                                       "scale",  "levels", "groups", "controls", "withdrawn",
                                       NULL};
    memset(out, 0, sizeof *out);
    if (!ptr)
        ptr = "";
    int rc = json_is_object(doc) ? nq_json_check_keys(doc, ptr, keys, err)
                                 : nq_err_set(err, NQ_EINVAL, ptr, "expected a catalog object");
    if (!rc)
        rc = read_names(out, doc, ptr, err);
    if (!rc)
        rc = read_lists(out, doc, ptr, err);
    if (!rc)
        rc = check_leaves(out, ptr, err);
    if (rc)
        nq_grc_catalog_free(out);
    return rc;
}

/* ---- built-in catalogs ------------------------------------------------------------ */

int32_t nq_grc_builtin_count(void)
{
    return nq__grc_n_builtins;
}

const char *nq_grc_builtin_id(int32_t i)
{
    return i >= 0 && i < nq__grc_n_builtins ? nq__grc_builtins[i].id : NULL;
}

const char *nq_grc_builtin_json(const char *id, size_t *len)
{
    for (int i = 0; id && i < nq__grc_n_builtins; i++)
        if (!strcmp(nq__grc_builtins[i].id, id)) {
            if (len)
                *len = nq__grc_builtins[i].len;
            return (const char *)nq__grc_builtins[i].data;
        }
    return NULL;
}

int nq_grc_catalog_builtin(const char *id, nq_grc_catalog *out, nq_err *err)
{
    size_t len = 0;
    const char *text = nq_grc_builtin_json(id, &len);
    memset(out, 0, sizeof *out);
    if (!text) {
        char names[256] = "";
        for (int i = 0; i < nq__grc_n_builtins; i++) {
            size_t n = strlen(names);
            snprintf(names + n, sizeof names - n, "%s%s", i ? ", " : "", nq__grc_builtins[i].id);
        }
        return nq_err_set(err, NQ_ENOTFOUND, NULL, "unknown framework '%.64s' (built-in: %s)",
                          id ? id : "", names);
    }
    json_error_t je;
    json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (!doc)
        return nq_err_set(err, NQ_EINTERNAL, NULL, "built-in catalog %s: %s", id, je.text);
    int rc = nq_grc_catalog_from_json(doc, "", out, err);
    json_decref(doc);
    return rc;
}
