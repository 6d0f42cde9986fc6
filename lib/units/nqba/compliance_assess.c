/* compliance_assess.c - assessments: RFC 3339 times (calendar arithmetic,
 * no clock), the two status vocabularies, answers and their evidence,
 * readiness, the diff of two assessments, HTML escaping for reports. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compliance_internal.h"

/* ---- times ------------------------------------------------------------------------ */

/* Days since 1970-01-01 of a proleptic Gregorian date (valid for all years
 * here, 1900..9999). */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int64_t *m, int64_t *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp + (mp < 10 ? 3 : -9);
    *y = yoe + era * 400 + (*m <= 2);
}

/* n decimal digits at s into *out; 0 when they are not all digits. */
static int digits(const char *s, int n, int64_t *out)
{
    int64_t v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 1;
}

static int month_days(int64_t y, int64_t m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return days[m - 1] + (m == 2 && leap);
}

/* "Thh:mm:ss[.frac](Z|+hh:mm)" after a date: seconds of the day, minus the offset. */
static int time_part(const char *s, int64_t *secs)
{
    int64_t hh, mi, ss, oh = 0, om = 0;
    if ((s[0] != 'T' && s[0] != 't' && s[0] != ' ') || !digits(s + 1, 2, &hh) || s[3] != ':' ||
        !digits(s + 4, 2, &mi) || s[6] != ':' || !digits(s + 7, 2, &ss))
        return NQ_EINVAL;
    if (hh > 23 || mi > 59 || ss > 60)
        return NQ_EINVAL;
    s += 9;
    if (*s == '.') {
        s++;
        if (*s < '0' || *s > '9')
            return NQ_EINVAL;
        while (*s >= '0' && *s <= '9') /* fractions of a second: dropped */
            s++;
    }
    int sign = 0;
    if (*s == 'Z' || *s == 'z')
        s++;
    else if (*s == '+' || *s == '-') {
        sign = *s == '+' ? 1 : -1;
        if (!digits(s + 1, 2, &oh) || s[3] != ':' || !digits(s + 4, 2, &om) || oh > 23 || om > 59)
            return NQ_EINVAL;
        s += 6;
    } else
        return NQ_EINVAL;
    if (*s)
        return NQ_EINVAL;
    *secs = hh * 3600 + mi * 60 + (ss > 59 ? 59 : ss) - sign * (oh * 3600 + om * 60);
    return NQ_OK;
}

int nq_grc_time_parse(const char *s, int64_t *out)
{
    int64_t y, m, d, secs = 0;
    if (!s || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &m) || s[7] != '-' ||
        !digits(s + 8, 2, &d))
        return NQ_EINVAL;
    if (y < 1900 || m < 1 || m > 12 || d < 1 || d > month_days(y, m))
        return NQ_EINVAL;
    if (s[10] && time_part(s + 10, &secs))
        return NQ_EINVAL;
    *out = days_from_civil(y, m, d) * 86400 + secs;
    return NQ_OK;
}

const char *nq_grc_time_format(int64_t t, char *out, size_t cap)
{
    int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
    int64_t s = t - days * 86400, y, m, d;
    civil_from_days(days, &y, &m, &d);
    snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02dZ", (int)y, (int)m, (int)d, (int)(s / 3600),
             (int)(s / 60 % 60), (int)(s % 60));
    return out;
}

/* ---- statuses ------------------------------------------------------------------------ */

static const char *const STATUS[NQ_GRC_STATUSES] = {"not_assessed", "not_started", "partial",
                                                    "implemented", "not_applicable"};
static const char *const RESULT[NQ_GRC_STATUSES] = {
    "not_assessed", "non_compliant", "partially_compliant", "compliant", "not_applicable"};

int nq_grc_status_parse(const char *name, nq_grc_status *out)
{
    for (int i = 0; name && i < NQ_GRC_STATUSES; i++)
        if (!strcmp(name, STATUS[i]) || !strcmp(name, RESULT[i])) {
            *out = (nq_grc_status)i;
            return NQ_OK;
        }
    return NQ_EINVAL;
}

const char *nq_grc_status_name(nq_grc_status s)
{
    return (unsigned)s < NQ_GRC_STATUSES ? STATUS[s] : "not_assessed";
}

const char *nq_grc_result_name(nq_grc_status s)
{
    return (unsigned)s < NQ_GRC_STATUSES ? RESULT[s] : "not_assessed";
}

/* ---- answers ---------------------------------------------------------------------------- */

int nq_grc_assessment_init(nq_grc_assessment *a, const nq_grc_catalog *cat, int64_t as_of,
                           nq_err *err)
{
    memset(a, 0, sizeof *a);
    if (!cat || cat->n_controls <= 0)
        return nq_err_set(err, NQ_EINVAL, NULL, "an assessment needs a catalog with controls");
    a->cat = cat;
    a->as_of = as_of;
    a->answers = calloc((size_t)cat->n_controls, sizeof *a->answers);
    if (!a->answers)
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    for (int32_t i = 0; i < cat->n_controls; i++)
        a->answers[i].maturity = NAN;
    return NQ_OK;
}

static void evidence_free(nq_grc_evidence *e, int32_t n)
{
    for (int32_t i = 0; e && i < n; i++)
        free(e[i].name), free(e[i].link), free(e[i].hash);
    free(e);
}

void nq_grc_assessment_free(nq_grc_assessment *a)
{
    if (!a)
        return;
    for (int32_t i = 0; a->answers && a->cat && i < a->cat->n_controls; i++) {
        nq_grc_answer *x = &a->answers[i];
        free(x->owner), free(x->notes);
        evidence_free(x->evidence, x->n_evidence);
    }
    free(a->answers);
    memset(a, 0, sizeof *a);
}

/* strdup that keeps NULL as NULL; sets *bad when a copy failed. */
static char *dup_or_null(const char *s, int *bad)
{
    char *d = nq__grc_strdup(s);
    if (s && !d)
        *bad = 1;
    return d;
}

int nq_grc_assessment_copy(const nq_grc_assessment *a, nq_grc_assessment *out, nq_err *err)
{
    int rc = nq_grc_assessment_init(out, a->cat, a->as_of, err);
    if (rc)
        return rc;
    out->require_evidence = a->require_evidence;
    int bad = 0;
    for (int32_t i = 0; !bad && i < a->cat->n_controls; i++) {
        const nq_grc_answer *x = &a->answers[i];
        nq_grc_answer *y = &out->answers[i];
        *y = *x;
        y->owner = dup_or_null(x->owner, &bad);
        y->notes = dup_or_null(x->notes, &bad);
        y->evidence = NULL;
        y->n_evidence = 0;
        if (x->n_evidence && !(y->evidence = calloc((size_t)x->n_evidence, sizeof *y->evidence)))
            bad = 1;
        for (int32_t j = 0; !bad && j < x->n_evidence; j++) {
            nq_grc_evidence *e = &y->evidence[y->n_evidence++];
            *e = x->evidence[j];
            e->name = dup_or_null(x->evidence[j].name, &bad);
            e->link = dup_or_null(x->evidence[j].link, &bad);
            e->hash = dup_or_null(x->evidence[j].hash, &bad);
        }
    }
    if (bad) {
        nq_grc_assessment_free(out);
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    }
    return NQ_OK;
}

int nq_grc_evidence_valid(const nq_grc_evidence *e, int64_t as_of)
{
    return e->collected_at <= as_of && (e->expires_at == NQ_GRC_NO_TIME || as_of < e->expires_at);
}

int32_t nq_grc_expired_count(const nq_grc_assessment *a, int32_t i)
{
    const nq_grc_answer *x = &a->answers[i];
    int32_t n = 0;
    for (int32_t j = 0; !x->fresh && j < x->n_evidence; j++)
        n += x->evidence[j].expires_at != NQ_GRC_NO_TIME && x->evidence[j].expires_at <= a->as_of;
    return n;
}

static int32_t valid_count(const nq_grc_assessment *a, int32_t i)
{
    const nq_grc_answer *x = &a->answers[i];
    int32_t n = 0;
    for (int32_t j = 0; j < x->n_evidence; j++)
        n += nq_grc_evidence_valid(&x->evidence[j], a->as_of);
    return n;
}

int nq_grc_control_ready(const nq_grc_assessment *a, int32_t i)
{
    const nq_grc_answer *x = &a->answers[i];
    if (x->status != NQ_GRC_IMPLEMENTED)
        return 0;
    if (x->fresh)
        return 1;
    if (nq_grc_expired_count(a, i) > 0)
        return 0;
    return !a->require_evidence || valid_count(a, i) > 0;
}

/* ---- diff ------------------------------------------------------------------------------- */

static int same_maturity(double x, double y)
{
    return (isnan(x) && isnan(y)) || x == y;
}

static int same_text(const char *x, const char *y)
{
    return (!x && !y) || (x && y && !strcmp(x, y));
}

/* Evidence differs when an item was added or removed (by name and link or
 * hash) or its dates changed; validity changes show in the valid counts. */
static int same_evidence(const nq_grc_answer *x, const nq_grc_answer *y)
{
    if (x->n_evidence != y->n_evidence)
        return 0;
    for (int32_t j = 0; j < x->n_evidence; j++) {
        const nq_grc_evidence *e = &x->evidence[j], *f = &y->evidence[j];
        if (!same_text(e->name, f->name) || !same_text(e->link, f->link) ||
            !same_text(e->hash, f->hash) || e->collected_at != f->collected_at ||
            e->expires_at != f->expires_at)
            return 0;
    }
    return 1;
}

static unsigned changes(const nq_grc_assessment *a, const nq_grc_assessment *b, int32_t i,
                        nq_grc_change *c)
{
    const nq_grc_answer *x = &a->answers[i], *y = &b->answers[i];
    *c = (nq_grc_change){.control = i,
                         .before = x->status,
                         .after = y->status,
                         .maturity_before = x->status == NQ_GRC_NOT_APPLICABLE ? NAN : x->maturity,
                         .maturity_after = y->status == NQ_GRC_NOT_APPLICABLE ? NAN : y->maturity,
                         .evidence_before = valid_count(a, i),
                         .evidence_after = valid_count(b, i),
                         .ready_before = nq_grc_control_ready(a, i),
                         .ready_after = nq_grc_control_ready(b, i)};
    c->what = (x->status != y->status ? NQ_GRC_CH_STATUS : 0u) |
              (!same_maturity(c->maturity_before, c->maturity_after) ? NQ_GRC_CH_MATURITY : 0u) |
              (!same_evidence(x, y) || c->evidence_before != c->evidence_after ? NQ_GRC_CH_EVIDENCE
                                                                               : 0u) |
              (c->ready_before != c->ready_after ? NQ_GRC_CH_READY : 0u) |
              (!same_text(x->owner, y->owner) ? NQ_GRC_CH_OWNER : 0u);
    return c->what;
}

int nq_grc_diff(const nq_grc_assessment *before, const nq_grc_assessment *after,
                nq_grc_change **out, int32_t *n, nq_err *err)
{
    *out = NULL;
    *n = 0;
    const nq_grc_catalog *p = before->cat, *q = after->cat;
    if (p != q && (strcmp(p->id, q->id) || p->n_controls != q->n_controls))
        return nq_err_set(err, NQ_EINVAL, NULL, "the assessments are of different catalogs (%s, %s)",
                          p->id, q->id);
    for (int32_t i = 0; p != q && i < p->n_controls; i++)
        if (strcmp(p->controls[i].id, q->controls[i].id))
            return nq_err_set(err, NQ_EINVAL, NULL, "the catalogs list different controls");
    if (!(*out = malloc((size_t)p->n_controls * sizeof **out)))
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    for (int32_t i = 0; i < p->n_controls; i++)
        if (changes(before, after, i, &(*out)[*n]))
            (*n)++;
    return NQ_OK;
}

/* ---- HTML ------------------------------------------------------------------------------- */

int nq_grc_html_escape(nq_buf *b, const char *s)
{
    int rc = 0;
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); !rc && *p; p++) {
        switch (*p) {
        case '&': rc = nq_buf_puts(b, "&amp;"); break;
        case '<': rc = nq_buf_puts(b, "&lt;"); break;
        case '>': rc = nq_buf_puts(b, "&gt;"); break;
        case '"': rc = nq_buf_puts(b, "&quot;"); break;
        case '\'': rc = nq_buf_puts(b, "&#39;"); break;
        default:
            if (*p >= 0x20 || *p == '\t' || *p == '\n')
                rc = nq_buf_putc(b, (char)*p);
        }
    }
    return rc;
}
