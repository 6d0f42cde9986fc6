/* compliance_map.c - mappings between frameworks ("A's control X covers B's
 * controls Y and Z") and framework B's assessment seen through one. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "compliance_internal.h"
#include "nqba/json.h"

void nq_grc_mapping_free(nq_grc_mapping *m)
{
    if (!m)
        return;
    free(m->off);
    free(m->src);
    memset(m, 0, sizeof *m);
}

/* Check every pair and count the sources of each target. */
static int count_pairs(const json_t *map, const char *ptr, const nq_grc_catalog *from,
                       const nq_grc_catalog *to, int32_t *count, int64_t *total, nq_err *err)
{
    const char *key;
    const json_t *list;
    char at[NQ_JSON_PTR_MAX], p[NQ_JSON_PTR_MAX];
    json_object_foreach((json_t *)map, key, list) {
        nq_json_ptr_key(at, ptr, key);
        if (nq_grc_find_control(from, key) < 0)
            return nq_err_set(err, NQ_EINVAL, at, "'%.64s' is not a control of %s", key, from->id);
        if (!json_is_array(list) || json_array_size(list) > NQ_GRC_MAX_TARGETS)
            return nq_err_set(err, NQ_EINVAL, at, "expected a list of at most %d %s control ids",
                              NQ_GRC_MAX_TARGETS, to->id);
        for (size_t j = 0; j < json_array_size(list); j++) {
            nq_json_ptr_index(p, at, j);
            int32_t t = nq_grc_find_control(to, json_string_value(json_array_get(list, j)));
            if (t < 0)
                return nq_err_set(err, NQ_EINVAL, p, "expected a control id of %s", to->id);
            count[t]++;
            (*total)++;
        }
    }
    return NQ_OK;
}

int nq_grc_mapping_from_json(const json_t *map, const char *ptr, const nq_grc_catalog *from,
                             const nq_grc_catalog *to, nq_grc_mapping *out, nq_err *err)
{
    memset(out, 0, sizeof *out);
    if (!json_is_object(map))
        return nq_err_set(err, NQ_EINVAL, ptr, "expected {control: [mapped control, ...]}");
    out->from = from;
    out->to = to;
    int64_t total = 0;
    int32_t *fill = calloc((size_t)to->n_controls + 1, sizeof *fill);
    out->off = calloc((size_t)to->n_controls + 1, sizeof *out->off);
    int rc = fill && out->off ? count_pairs(map, ptr, from, to, out->off, &total, err)
                              : nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    if (!rc && !(out->src = malloc(((size_t)total + 1) * sizeof *out->src)))
        rc = nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    if (!rc) { /* counts to offsets, then place each source */
        int32_t sum = 0;
        for (int32_t t = 0; t <= to->n_controls; t++) {
            int32_t c = t < to->n_controls ? out->off[t] : 0;
            out->off[t] = sum;
            fill[t] = sum;
            sum += c;
        }
        const char *key;
        const json_t *list;
        json_object_foreach((json_t *)map, key, list) {
            int32_t s = nq_grc_find_control(from, key);
            for (size_t j = 0; j < json_array_size(list); j++) {
                int32_t t = nq_grc_find_control(to, json_string_value(json_array_get(list, j)));
                out->src[fill[t]++] = s;
            }
        }
    }
    free(fill);
    if (rc)
        nq_grc_mapping_free(out);
    return rc;
}

/* The combined status of the covering controls: N/A only when all are,
 * else the worst of the others (not assessed worst of all: unknown). */
static nq_grc_status combine(const nq_grc_assessment *a, const int32_t *src, int32_t n)
{
    int in_scope = 0, impl = 0, some = 0, unknown = 0;
    for (int32_t k = 0; k < n; k++) {
        nq_grc_status s = a->answers[src[k]].status;
        if (s == NQ_GRC_NOT_APPLICABLE)
            continue;
        in_scope++;
        impl += s == NQ_GRC_IMPLEMENTED;
        some += s == NQ_GRC_IMPLEMENTED || s == NQ_GRC_PARTIAL;
        unknown += s == NQ_GRC_NOT_ASSESSED;
    }
    if (n == 0 || unknown)
        return NQ_GRC_NOT_ASSESSED;
    if (!in_scope)
        return NQ_GRC_NOT_APPLICABLE;
    return impl == in_scope ? NQ_GRC_IMPLEMENTED : some ? NQ_GRC_PARTIAL : NQ_GRC_NOT_STARTED;
}

int nq_grc_project_mapping(const nq_grc_assessment *a, const nq_grc_mapping *m,
                           nq_grc_assessment *out, nq_err *err)
{
    if (m->from != a->cat)
        return nq_err_set(err, NQ_EINVAL, NULL, "the mapping is not from %s", a->cat->id);
    int rc = nq_grc_assessment_init(out, m->to, a->as_of, err);
    if (rc)
        return rc;
    /* Readiness travels in the fresh flag: an implemented control without
     * it is not ready (require_evidence, no evidence of its own). */
    out->require_evidence = 1;
    const nq_grc_catalog *A = a->cat, *B = m->to;
    double span_a = A->scale_max - A->scale_min, span_b = B->scale_max - B->scale_min;
    for (int32_t t = 0; t < B->n_controls; t++) {
        const int32_t *src = m->src + m->off[t];
        int32_t n = m->off[t + 1] - m->off[t];
        nq_grc_answer *y = &out->answers[t];
        y->status = combine(a, src, n);
        y->answered = n > 0;
        int ready = y->status == NQ_GRC_IMPLEMENTED;
        double low = INFINITY;
        for (int32_t k = 0; k < n; k++) {
            const nq_grc_answer *x = &a->answers[src[k]];
            if (x->status == NQ_GRC_NOT_APPLICABLE)
                continue;
            ready = ready && nq_grc_control_ready(a, src[k]);
            if (!isnan(x->maturity) && x->maturity < low)
                low = x->maturity;
        }
        y->fresh = ready;
        if (isfinite(low) && y->status != NQ_GRC_NOT_APPLICABLE)
            y->maturity = B->scale_min + (low - A->scale_min) / span_a * span_b;
    }
    return NQ_OK;
}
