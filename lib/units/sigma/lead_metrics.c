/* lead_metrics.c - ROC AUC (Mann-Whitney, ties 1/2, by sorting), log
 * loss, accuracy, Brier score, a calibration table and ROC points; and
 * their JSON form inside a model document. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lead_internal.h"
#include "nqba/json.h"

#define CLIP 1e-15

typedef struct scored {
    double p;
    uint8_t y;
} scored;

static int cmp_p(const void *a, const void *b)
{
    double x = ((const scored *)a)->p, y = ((const scored *)b)->p;
    return (x > y) - (x < y);
}

static int check_scores(const double *p, const uint8_t *y, int32_t n, int prob, nq_err *err)
{
    if (!p || !y || n < 1)
        return nq_err_set(err, NQ_EINVAL, "/scores", "no scores");
    for (int32_t i = 0; i < n; i++)
        if (!isfinite(p[i]) || (prob && (p[i] < 0.0 || p[i] > 1.0)))
            return nq_err_set(err, NQ_EINVAL, "/scores", "score %d is not %s", (int)i,
                              prob ? "a probability" : "finite");
    return NQ_OK;
}

/* Scores and labels sorted by ascending score (malloc'd). */
static scored *sorted(const double *p, const uint8_t *y, int32_t n)
{
    scored *s = malloc((size_t)n * sizeof *s);
    if (!s)
        return NULL;
    for (int32_t i = 0; i < n; i++)
        s[i] = (scored){.p = p[i], .y = y[i] ? 1 : 0};
    qsort(s, (size_t)n, sizeof *s, cmp_p);
    return s;
}

static double auc_sorted(const scored *s, int32_t n, double pos, double neg)
{
    double num = 0.0, neg_below = 0.0;
    for (int32_t i = 0; i < n;) {
        double a = 0.0, b = 0.0;
        int32_t j = i;
        for (; j < n && s[j].p == s[i].p; j++) {
            a += s[j].y;
            b += !s[j].y;
        }
        /* Positives in this group beat every lower negative and tie with
         * the group's own negatives. Counts stay exact in double (< 2^53). */
        num += a * neg_below + 0.5 * a * b;
        neg_below += b;
        i = j;
    }
    return num / (pos * neg);
}

int nq_leads_auc(const double *p, const uint8_t *y, int32_t n, double *auc, nq_err *err)
{
    int rc = check_scores(p, y, n, 0, err);
    if (rc)
        return rc;
    double pos = 0;
    for (int32_t i = 0; i < n; i++)
        pos += y[i] ? 1 : 0;
    if (pos == 0 || pos == n)
        return nq_err_set(err, NQ_EINVAL, "/labels", "AUC needs both classes");
    scored *s = sorted(p, y, n);
    if (!s)
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    *auc = auc_sorted(s, n, pos, n - pos);
    free(s);
    return NQ_OK;
}

int nq_leads_logloss(const double *p, const uint8_t *y, int32_t n, double *out, nq_err *err)
{
    int rc = check_scores(p, y, n, 1, err);
    if (rc)
        return rc;
    double sum = 0.0;
    for (int32_t i = 0; i < n; i++) {
        double q = fmin(fmax(p[i], CLIP), 1.0 - CLIP);
        sum -= y[i] ? log(q) : log1p(-q);
    }
    *out = sum / n;
    return NQ_OK;
}

/* Distinct thresholds from the top; at most NQ_LEADS_ROC_MAX kept. */
static void roc_points(const scored *s, int32_t n, double pos, double neg, nq_leads_metrics *m)
{
    int32_t groups = 1;
    for (int32_t i = 1; i < n; i++)
        groups += s[i].p != s[i - 1].p;
    int32_t total = groups + 1, kept = 0, next = 0;
    double tp = 0, fp = 0;
    /* Point k (0 = the origin) is kept when it is the next of the evenly
     * spaced targets round(j (total - 1) / (max - 1)). */
    int32_t want = total <= NQ_LEADS_ROC_MAX ? total : NQ_LEADS_ROC_MAX;
    int32_t k = 0, i = n - 1;
    for (;;) {
        next = want == total ? kept
                             : (int32_t)floor((double)kept * (total - 1) / (want - 1) + 0.5);
        if (k == next) {
            m->roc[kept++] = (nq_leads_roc_point){.fpr = neg > 0 ? fp / neg : 0.0,
                                                  .tpr = pos > 0 ? tp / pos : 0.0,
                                                  .threshold = k == 0 ? s[n - 1].p + 1.0 : s[i + 1].p};
            if (kept == want)
                break;
        }
        int32_t j = i;
        for (; j >= 0 && s[j].p == s[i].p; j--) {
            tp += s[j].y;
            fp += !s[j].y;
        }
        i = j;
        k++;
    }
    m->n_roc = kept;
}

static void calibration(const double *p, const uint8_t *y, int32_t n, nq_leads_metrics *m)
{
    for (int b = 0; b < NQ_LEADS_CALIB_BINS; b++)
        m->calib[b] = (nq_leads_calib_bin){.lo = (double)b / NQ_LEADS_CALIB_BINS,
                                           .hi = (double)(b + 1) / NQ_LEADS_CALIB_BINS};
    for (int32_t i = 0; i < n; i++) {
        int b = (int)(p[i] * NQ_LEADS_CALIB_BINS);
        b = b < 0 ? 0 : b >= NQ_LEADS_CALIB_BINS ? NQ_LEADS_CALIB_BINS - 1 : b;
        m->calib[b].count++;
        m->calib[b].mean_pred += p[i];
        m->calib[b].observed += y[i] ? 1 : 0;
    }
    for (int b = 0; b < NQ_LEADS_CALIB_BINS; b++)
        if (m->calib[b].count) {
            m->calib[b].mean_pred /= m->calib[b].count;
            m->calib[b].observed /= m->calib[b].count;
        }
}

int nq_leads_metrics_compute(const double *p, const uint8_t *y, int32_t n, double threshold,
                             nq_leads_metrics *out, nq_err *err)
{
    if (!out)
        return nq_err_set(err, NQ_EINVAL, NULL, "no output");
    memset(out, 0, sizeof *out);
    int rc = check_scores(p, y, n, 1, err);
    if (rc)
        return rc;
    if (!(threshold >= 0.0 && threshold <= 1.0))
        return nq_err_set(err, NQ_EINVAL, "/threshold", "must lie in [0, 1]");
    scored *s = sorted(p, y, n);
    if (!s)
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    int32_t pos = 0, right = 0;
    double brier = 0.0;
    for (int32_t i = 0; i < n; i++) {
        pos += y[i] ? 1 : 0;
        right += (p[i] >= threshold) == (y[i] != 0);
        brier += (p[i] - (y[i] ? 1.0 : 0.0)) * (p[i] - (y[i] ? 1.0 : 0.0));
    }
    out->n = n;
    out->positives = pos;
    out->has_auc = pos > 0 && pos < n;
    out->auc = out->has_auc ? auc_sorted(s, n, pos, n - pos) : 0.0;
    out->accuracy = (double)right / n;
    out->threshold = threshold;
    out->brier = brier / n;
    nq_leads_logloss(p, y, n, &out->logloss, NULL);
    calibration(p, y, n, out);
    roc_points(s, n, pos, n - pos, out);
    free(s);
    return NQ_OK;
}

/* ---- JSON -------------------------------------------------------------------- */

json_t *nq__lead_metrics_to_json(const nq_leads_metrics *mt)
{
    json_t *o = json_object(), *cal = json_array(), *roc = json_array();
    json_object_set_new(o, "n", json_integer(mt->n));
    json_object_set_new(o, "positives", json_integer(mt->positives));
    if (mt->n == 0) {
        json_decref(cal);
        json_decref(roc);
        return o;
    }
    json_object_set_new(o, "auc", mt->has_auc ? json_real(mt->auc) : json_null());
    json_object_set_new(o, "logloss", json_real(mt->logloss));
    json_object_set_new(o, "accuracy", json_real(mt->accuracy));
    json_object_set_new(o, "threshold", json_real(mt->threshold));
    json_object_set_new(o, "brier", json_real(mt->brier));
    for (int b = 0; b < NQ_LEADS_CALIB_BINS; b++)
        json_array_append_new(cal, json_pack("{s:f,s:f,s:i,s:f,s:f}", "lo", mt->calib[b].lo, "hi",
                                             mt->calib[b].hi, "count", (int)mt->calib[b].count,
                                             "mean_pred", mt->calib[b].mean_pred, "observed",
                                             mt->calib[b].observed));
    for (int32_t k = 0; k < mt->n_roc; k++)
        json_array_append_new(roc, json_pack("[f,f,f]", mt->roc[k].fpr, mt->roc[k].tpr,
                                             mt->roc[k].threshold));
    json_object_set_new(o, "calibration", cal);
    json_object_set_new(o, "roc", roc);
    return o;
}

/* A number member in [lo, hi]. */
static int get_in(const json_t *obj, const char *ptr, const char *key, double lo, double hi,
                  double *out, nq_err *err)
{
    int rc = nq_json_get_number(obj, ptr, key, 1, out, err);
    if (!rc && !(*out >= lo && *out <= hi)) {
        char where[NQ_JSON_PTR_MAX];
        nq_json_ptr_key(where, ptr, key);
        return nq_err_set(err, NQ_EINVAL, where, "must lie in [%g, %g]", lo, hi);
    }
    return rc;
}

static int calib_from_json(const json_t *arr, const char *ptr, nq_leads_metrics *m, nq_err *err)
{
    if (json_array_size(arr) != NQ_LEADS_CALIB_BINS)
        return nq_err_set(err, NQ_EINVAL, ptr, "expected %d bins", NQ_LEADS_CALIB_BINS);
    int64_t total = 0;
    for (int b = 0; b < NQ_LEADS_CALIB_BINS; b++) {
        char bp[NQ_JSON_PTR_MAX];
        nq_json_ptr_index(bp, ptr, (size_t)b);
        const json_t *o = json_array_get(arr, (size_t)b);
        int64_t count = 0;
        nq_leads_calib_bin *c = &m->calib[b];
        c->lo = (double)b / NQ_LEADS_CALIB_BINS;
        c->hi = (double)(b + 1) / NQ_LEADS_CALIB_BINS;
        int rc = !json_is_object(o) ? nq_err_set(err, NQ_EINVAL, bp, "expected an object") : NQ_OK;
        if (!rc)
            rc = nq_json_get_int(o, bp, "count", 1, 0, m->n, &count, err);
        if (!rc)
            rc = get_in(o, bp, "mean_pred", 0, 1, &c->mean_pred, err);
        if (!rc)
            rc = get_in(o, bp, "observed", 0, 1, &c->observed, err);
        if (rc)
            return rc;
        c->count = (int32_t)count;
        total += count;
    }
    if (total != m->n)
        return nq_err_set(err, NQ_EINVAL, ptr, "bin counts add up to %lld, not n = %d",
                          (long long)total, (int)m->n);
    return NQ_OK;
}

static int roc_from_json(const json_t *arr, const char *ptr, nq_leads_metrics *m, nq_err *err)
{
    size_t k = json_array_size(arr);
    if (k > NQ_LEADS_ROC_MAX)
        return nq_err_set(err, NQ_ELIMIT, ptr, "more than %d points", NQ_LEADS_ROC_MAX);
    for (size_t i = 0; i < k; i++) {
        char pp[NQ_JSON_PTR_MAX];
        nq_json_ptr_index(pp, ptr, i);
        const json_t *pt = json_array_get(arr, i);
        double v[3];
        if (!json_is_array(pt) || json_array_size(pt) != 3)
            return nq_err_set(err, NQ_EINVAL, pp, "expected [fpr, tpr, threshold]");
        for (size_t j = 0; j < 3; j++) {
            char vp[NQ_JSON_PTR_MAX];
            nq_json_ptr_index(vp, pp, j);
            int rc = nq_json_as_number(json_array_get(pt, j), vp, &v[j], err);
            if (rc)
                return rc;
            if (j < 2 && !(v[j] >= 0.0 && v[j] <= 1.0))
                return nq_err_set(err, NQ_EINVAL, vp, "must lie in [0, 1]");
        }
        m->roc[i] = (nq_leads_roc_point){.fpr = v[0], .tpr = v[1], .threshold = v[2]};
    }
    m->n_roc = (int32_t)k;
    return NQ_OK;
}

static int auc_from_json(const json_t *obj, const char *ptr, nq_leads_metrics *m, nq_err *err)
{
    const json_t *a = json_object_get(obj, "auc");
    if (json_is_null(a))
        return NQ_OK;
    int rc = get_in(obj, ptr, "auc", 0, 1, &m->auc, err);
    m->has_auc = !rc;
    return rc;
}

int nq__lead_metrics_from_json(const json_t *obj, const char *ptr, nq_leads_metrics *m, nq_err *err)
{
    static const char *const keys[] = {"n", "positives", "auc", "logloss", "accuracy", "threshold",
                                       "brier", "calibration", "roc", NULL};
    memset(m, 0, sizeof *m);
    int64_t n = 0, pos = 0;
    int rc = nq_json_check_keys(obj, ptr, keys, err);
    if (!rc)
        rc = nq_json_get_int(obj, ptr, "n", 1, 0, INT32_MAX, &n, err);
    if (!rc)
        rc = nq_json_get_int(obj, ptr, "positives", 1, 0, n, &pos, err);
    m->n = (int32_t)n;
    m->positives = (int32_t)pos;
    if (rc || n == 0)
        return rc;
    json_t *cal = NULL, *roc = NULL;
    char cp[NQ_JSON_PTR_MAX], rp[NQ_JSON_PTR_MAX];
    nq_json_ptr_key(cp, ptr, "calibration");
    nq_json_ptr_key(rp, ptr, "roc");
    rc = auc_from_json(obj, ptr, m, err);
    if (!rc)
        rc = get_in(obj, ptr, "logloss", 0, 100, &m->logloss, err);
    if (!rc)
        rc = get_in(obj, ptr, "accuracy", 0, 1, &m->accuracy, err);
    if (!rc)
        rc = get_in(obj, ptr, "threshold", 0, 1, &m->threshold, err);
    if (!rc)
        rc = get_in(obj, ptr, "brier", 0, 1, &m->brier, err);
    if (!rc)
        rc = nq_json_get_typed(obj, ptr, "calibration", 1, JSON_ARRAY, &cal, err);
    if (!rc)
        rc = nq_json_get_typed(obj, ptr, "roc", 1, JSON_ARRAY, &roc, err);
    if (!rc)
        rc = calib_from_json(cal, cp, m, err);
    if (!rc)
        rc = roc_from_json(roc, rp, m, err);
    return rc;
}
