/* lead_gbt_check.c - a structural check of XGBoost's JSON model (the
 * 1.7 layout: learner / gradient_booster / model / trees) before XGBoost
 * reads it, so that a tampered document fails with a located message
 * instead of reaching a C++ reader that was never meant for hostile input.
 *
 * Checked: a binary:logistic gbtree with one tree per round and the
 * schema's feature count; each tree's parallel arrays have num_nodes
 * entries; children come after their parent and every node but the root
 * has exactly one parent (so the nodes form one tree, no cycles); split
 * features are in range; every number is finite; no categorical splits
 * (the models here never make them). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lead_internal.h"
#include "nqba/json.h"

#define MAX_TREES 10000
#define MAX_NODES 65536      /* in one tree */
#define MAX_ALL_NODES 4000000 /* in the whole model */

/* A member that XGBoost writes as a decimal string ("62"); lo..hi. */
static int str_int(const json_t *obj, const char *ptr, const char *key, long lo, long hi, long *out,
                   nq_err *err)
{
    const char *s = NULL;
    char where[NQ_JSON_PTR_MAX];
    nq_json_ptr_key(where, ptr, key);
    int rc = nq_json_get_string(obj, ptr, key, 1, 24, &s, err);
    if (rc)
        return rc;
    char *end = NULL;
    long v = strtol(s, &end, 10);
    if (!s[0] || *end || v < lo || v > hi)
        return nq_err_set(err, NQ_EINVAL, where, "expected a whole number in %ld..%ld as a string", lo, hi);
    *out = v;
    return NQ_OK;
}

static int want_str(const json_t *obj, const char *ptr, const char *key, const char *want, nq_err *err)
{
    const char *s = NULL;
    int rc = nq_json_get_string(obj, ptr, key, 1, 64, &s, err);
    if (!rc && strcmp(s, want)) {
        char where[NQ_JSON_PTR_MAX];
        nq_json_ptr_key(where, ptr, key);
        return nq_err_set(err, NQ_EINVAL, where, "expected \"%s\"", want);
    }
    return rc;
}

static int obj_at(const json_t *obj, const char *ptr, const char *key, json_t **out, char *sub,
                  nq_err *err)
{
    nq_json_ptr_key(sub, ptr, key);
    return nq_json_get_typed(obj, ptr, key, 1, JSON_OBJECT, out, err);
}

/* An array member of exactly n numbers, each finite and in [lo, hi];
 * `whole`: JSON integers only (the arrays XGBoost reads as integers). */
static int num_array_of(const json_t *t, const char *ptr, const char *key, size_t n, double lo,
                        double hi, int whole, json_t **out, nq_err *err)
{
    char ap[NQ_JSON_PTR_MAX];
    nq_json_ptr_key(ap, ptr, key);
    int rc = nq_json_get_typed(t, ptr, key, 1, JSON_ARRAY, out, err);
    if (rc)
        return rc;
    if (json_array_size(*out) != n)
        return nq_err_set(err, NQ_EINVAL, ap, "expected %zu entries, got %zu", n, json_array_size(*out));
    for (size_t i = 0; i < n; i++) {
        const json_t *v = json_array_get(*out, i);
        double x = json_number_value(v);
        if (!(whole ? json_is_integer(v) : json_is_number(v)) || !isfinite(x) || x < lo || x > hi) {
            char ep[NQ_JSON_PTR_MAX];
            nq_json_ptr_index(ep, ap, i);
            return nq_err_set(err, NQ_EINVAL, ep, "expected %s in [%g, %g]",
                              whole ? "an integer" : "a number", lo, hi);
        }
    }
    return NQ_OK;
}

static int num_array(const json_t *t, const char *ptr, const char *key, size_t n, double lo,
                     double hi, json_t **out, nq_err *err)
{
    return num_array_of(t, ptr, key, n, lo, hi, 0, out, err);
}

static int int_array(const json_t *t, const char *ptr, const char *key, size_t n, double lo,
                     double hi, json_t **out, nq_err *err)
{
    return num_array_of(t, ptr, key, n, lo, hi, 1, out, err);
}

static int empty_array(const json_t *t, const char *ptr, const char *key, nq_err *err)
{
    json_t *a = NULL;
    int rc = nq_json_get_typed(t, ptr, key, 1, JSON_ARRAY, &a, err);
    if (!rc && json_array_size(a)) {
        char where[NQ_JSON_PTR_MAX];
        nq_json_ptr_key(where, ptr, key);
        return nq_err_set(err, NQ_EINVAL, where, "categorical splits are not used here");
    }
    return rc;
}

/* Children after parents, one parent per node: one tree rooted at 0. */
static int links(const json_t *L, const json_t *R, const json_t *P, size_t n, const char *ptr,
                 nq_err *err)
{
    uint8_t *seen = calloc(n + 1, 1);
    if (!seen)
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    int rc = NQ_OK;
    for (size_t i = 0; i < n && !rc; i++) {
        long l = (long)json_number_value(json_array_get(L, i));
        long r = (long)json_number_value(json_array_get(R, i));
        int leaf = l == -1 && r == -1;
        int ok = leaf || (l > (long)i && r > (long)i && l < (long)n && r < (long)n && l != r &&
                          !seen[l] && !seen[r] &&
                          (long)json_number_value(json_array_get(P, (size_t)l)) == (long)i &&
                          (long)json_number_value(json_array_get(P, (size_t)r)) == (long)i);
        if (!ok) {
            char lp[NQ_JSON_PTR_MAX], where[NQ_JSON_PTR_MAX];
            nq_json_ptr_key(lp, ptr, "left_children");
            nq_json_ptr_index(where, lp, i);
            rc = nq_err_set(err, NQ_EINVAL, where, "node %zu has bad children (%ld, %ld)", i, l, r);
        } else if (!leaf)
            seen[l] = seen[r] = 1;
    }
    for (size_t i = 1; i < n && !rc; i++)
        if (!seen[i])
            rc = nq_err_set(err, NQ_EINVAL, ptr, "node %zu is not reachable from the root", i);
    free(seen);
    return rc;
}

static int check_tree(const json_t *t, const char *ptr, size_t id, int32_t nf, long *total, nq_err *err)
{
    static const char *const keys[] = {"base_weights", "categories", "categories_nodes",
                                       "categories_segments", "categories_sizes", "default_left",
                                       "id", "left_children", "loss_changes", "parents",
                                       "right_children", "split_conditions", "split_indices",
                                       "split_type", "sum_hessian", "tree_param", NULL};
    json_t *tp = NULL, *L = NULL, *R = NULL, *P = NULL, *a = NULL;
    char tpp[NQ_JSON_PTR_MAX];
    long nodes = 0, feat = 0, deleted = 0, leafv = 0;
    int64_t idv = 0;
    int rc = json_is_object(t) ? nq_json_check_keys(t, ptr, keys, err)
                               : nq_err_set(err, NQ_EINVAL, ptr, "expected an object");
    if (!rc)
        rc = nq_json_get_int(t, ptr, "id", 1, (int64_t)id, (int64_t)id, &idv, err);
    if (!rc)
        rc = obj_at(t, ptr, "tree_param", &tp, tpp, err);
    if (!rc)
        rc = str_int(tp, tpp, "num_nodes", 1, MAX_NODES, &nodes, err);
    if (!rc)
        rc = str_int(tp, tpp, "num_feature", nf, nf, &feat, err);
    if (!rc)
        rc = str_int(tp, tpp, "num_deleted", 0, 0, &deleted, err);
    if (!rc)
        rc = str_int(tp, tpp, "size_leaf_vector", 0, 0, &leafv, err);
    if (rc)
        return rc;
    if ((*total += nodes) > MAX_ALL_NODES)
        return nq_err_set(err, NQ_ELIMIT, ptr, "more than %d nodes in the model", MAX_ALL_NODES);
    size_t n = (size_t)nodes;
    rc = int_array(t, ptr, "left_children", n, -1, MAX_NODES, &L, err);
    if (!rc)
        rc = int_array(t, ptr, "right_children", n, -1, MAX_NODES, &R, err);
    if (!rc)
        rc = int_array(t, ptr, "parents", n, -1, 2147483647.0, &P, err);
    if (!rc)
        rc = int_array(t, ptr, "split_indices", n, 0, nf - 1, &a, err);
    if (!rc)
        rc = num_array(t, ptr, "split_conditions", n, -1e38, 1e38, &a, err);
    if (!rc)
        rc = num_array(t, ptr, "base_weights", n, -1e38, 1e38, &a, err);
    if (!rc)
        rc = num_array(t, ptr, "loss_changes", n, -1e38, 1e38, &a, err);
    if (!rc)
        rc = num_array(t, ptr, "sum_hessian", n, -1e38, 1e38, &a, err);
    if (!rc)
        rc = int_array(t, ptr, "default_left", n, 0, 1, &a, err);
    if (!rc)
        rc = int_array(t, ptr, "split_type", n, 0, 0, &a, err);
    const char *cats[] = {"categories", "categories_nodes", "categories_segments", "categories_sizes"};
    for (int i = 0; i < 4 && !rc; i++)
        rc = empty_array(t, ptr, cats[i], err);
    return rc ? rc : links(L, R, P, n, ptr, err);
}

static int check_trees(const json_t *model, const char *ptr, int32_t nf, nq_err *err)
{
    static const char *const keys[] = {"gbtree_model_param", "tree_info", "trees", NULL};
    json_t *param = NULL, *info = NULL, *trees = NULL;
    char pp[NQ_JSON_PTR_MAX], tp[NQ_JSON_PTR_MAX];
    long ntrees = 0, par = 0, leafv = 0;
    int rc = nq_json_check_keys(model, ptr, keys, err);
    if (!rc)
        rc = obj_at(model, ptr, "gbtree_model_param", &param, pp, err);
    if (!rc)
        rc = str_int(param, pp, "num_trees", 1, MAX_TREES, &ntrees, err);
    if (!rc)
        rc = str_int(param, pp, "num_parallel_tree", 1, 1, &par, err);
    if (!rc)
        rc = str_int(param, pp, "size_leaf_vector", 0, 0, &leafv, err);
    if (!rc)
        rc = int_array(model, ptr, "tree_info", (size_t)ntrees, 0, 0, &info, err);
    if (!rc)
        rc = nq_json_get_typed(model, ptr, "trees", 1, JSON_ARRAY, &trees, err);
    if (rc)
        return rc;
    nq_json_ptr_key(tp, ptr, "trees");
    if (json_array_size(trees) != (size_t)ntrees)
        return nq_err_set(err, NQ_EINVAL, tp, "%zu trees, num_trees says %ld", json_array_size(trees),
                          ntrees);
    long total = 0;
    for (size_t i = 0; i < (size_t)ntrees && !rc; i++) {
        char ep[NQ_JSON_PTR_MAX];
        nq_json_ptr_index(ep, tp, i);
        rc = check_tree(json_array_get(trees, i), ep, i, nf, &total, err);
    }
    return rc;
}

/* Feature names, types and attributes are never set here: a document
 * that carries them was not written by this code. */
static int unused(const json_t *ln, const char *ptr, nq_err *err)
{
    const char *keys[] = {"attributes", "feature_names", "feature_types"};
    for (int i = 0; i < 3; i++) {
        const json_t *v = json_object_get(ln, keys[i]);
        if (v && !(i == 0 ? json_is_object(v) && json_object_size(v) == 0
                          : json_is_array(v) && json_array_size(v) == 0)) {
            char where[NQ_JSON_PTR_MAX];
            nq_json_ptr_key(where, ptr, keys[i]);
            return nq_err_set(err, NQ_EINVAL, where, "must be empty");
        }
    }
    return NQ_OK;
}

static int check_learner(const json_t *ln, const char *ptr, int32_t nf, nq_err *err)
{
    static const char *const keys[] = {"attributes", "feature_names", "feature_types",
                                       "gradient_booster", "learner_model_param", "objective", NULL};
    json_t *mp = NULL, *obj = NULL, *gb = NULL, *model = NULL;
    char mpp[NQ_JSON_PTR_MAX], op[NQ_JSON_PTR_MAX], gp[NQ_JSON_PTR_MAX], mop[NQ_JSON_PTR_MAX];
    long v = 0;
    const char *base = NULL;
    int rc = nq_json_check_keys(ln, ptr, keys, err);
    if (!rc)
        rc = unused(ln, ptr, err);
    if (!rc)
        rc = obj_at(ln, ptr, "learner_model_param", &mp, mpp, err);
    if (!rc)
        rc = str_int(mp, mpp, "num_feature", nf, nf, &v, err);
    if (!rc)
        rc = str_int(mp, mpp, "num_class", 0, 0, &v, err);
    if (!rc && json_object_get(mp, "num_target"))
        rc = str_int(mp, mpp, "num_target", 1, 1, &v, err);
    if (!rc)
        rc = nq_json_get_string(mp, mpp, "base_score", 1, 32, &base, err);
    double bs = 0;
    if (!rc && (nq__lead_parse_num(base, &bs) != 1 || !(bs > 0.0 && bs < 1.0)))
        rc = nq_err_set(err, NQ_EINVAL, mpp, "base_score must be a probability in (0, 1)");
    if (!rc)
        rc = obj_at(ln, ptr, "objective", &obj, op, err);
    if (!rc)
        rc = want_str(obj, op, "name", "binary:logistic", err);
    if (!rc)
        rc = obj_at(ln, ptr, "gradient_booster", &gb, gp, err);
    if (!rc)
        rc = want_str(gb, gp, "name", "gbtree", err);
    if (!rc)
        rc = obj_at(gb, gp, "model", &model, mop, err);
    return rc ? rc : check_trees(model, mop, nf, err);
}

int nq__lead_gbt_check(const json_t *booster, int32_t n_features, const char *ptr, nq_err *err)
{
    static const char *const keys[] = {"learner", "version", NULL};
    json_t *ln = NULL, *ver = NULL;
    char lp[NQ_JSON_PTR_MAX];
    if (!json_is_object(booster))
        return nq_err_set(err, NQ_EINVAL, ptr, "expected XGBoost's JSON model (an object)");
    int rc = nq_json_check_keys(booster, ptr, keys, err);
    if (!rc)
        rc = int_array(booster, ptr, "version", 3, 0, 1000, &ver, err);
    if (!rc)
        rc = obj_at(booster, ptr, "learner", &ln, lp, err);
    return rc ? rc : check_learner(ln, lp, n_features, err);
}
