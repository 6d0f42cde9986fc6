/* metrics.c - the metrics registry: counters, gauges and histograms keyed
 * by name and labels, rendered in the Prometheus text format 0.0.4.
 *
 * One mutex guards the registry; an update is a map probe and an add. The
 * registry never calls out, so callers may update it while holding their
 * own locks. Families render in the order they were first used, series in
 * the order they were created, so the output is stable between scrapes.
 *
 * Labels come in as "k1=v1,k2=v2": a value runs to the next comma (so it
 * cannot hold one) and may hold '=', quotes, backslashes and newlines,
 * which the exposition escapes. A malformed name or label list is ignored
 * rather than rendered into a document Prometheus would reject. */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nqba/buf.h"
#include "nqba/clock.h"
#include "service_internal.h"

#define MAX_SERIES 4096
#define MAX_NAME 128
#define MAX_LABELS_TEXT 1024
#define RENDER_MAX ((size_t)64 << 20)

static const double BUCKETS[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                 0.5,   1,      2.5,   5,    10,    30,   60};
#define N_BUCKETS (sizeof BUCKETS / sizeof BUCKETS[0])

enum { T_UNSET = 0, T_COUNTER, T_GAUGE, T_HISTOGRAM };
static const char *const TYPE_NAMES[] = {"untyped", "counter", "gauge", "histogram"};

typedef struct series {
    char *labels; /* rendered: k="v",k2="v2" (or "") */
    int type;     /* its family's */
    double value, sum;
    uint64_t count, buckets[N_BUCKETS]; /* histograms: per bucket, not cumulative */
    struct series *next;
} series;

typedef struct family {
    char *name, *help;
    int type;
    series *head, *tail;
    struct family *next;
} family;

struct nq_metrics {
    pthread_mutex_t mu;
    nq__map families; /* name -> family */
    nq__map series;   /* "name{labels}" -> series */
    /* "name\x1flabels" as callers spell them -> series: an update looks
     * its series up without rendering the labels (the hot path). */
    nq__map by_call;
    int n_by_call;
    family *head, *tail;
    int n_series;
};

int nq_metrics_new(nq_metrics **out)
{
    nq_metrics *m = calloc(1, sizeof *m);
    if (!m || pthread_mutex_init(&m->mu, NULL)) {
        free(m);
        return NQ_ENOMEM;
    }
    nq__map_init(&m->families);
    nq__map_init(&m->series);
    nq__map_init(&m->by_call);
    *out = m;
    return NQ_OK;
}

void nq_metrics_free(nq_metrics *m)
{
    if (!m)
        return;
    for (family *f = m->head, *fn; f; f = fn) {
        fn = f->next;
        for (series *s = f->head, *sn; s; s = sn) {
            sn = s->next;
            free(s->labels);
            free(s);
        }
        free(f->name);
        free(f->help);
        free(f);
    }
    nq__map_free(&m->families);
    nq__map_free(&m->series);
    nq__map_free(&m->by_call);
    pthread_mutex_destroy(&m->mu);
    free(m);
}

/* ---- names and labels ------------------------------------------------------ */

static int name_ok(const char *s, int colon)
{
    size_t n = strlen(s);
    if (n == 0 || n > MAX_NAME || (s[0] >= '0' && s[0] <= '9'))
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '_' || (colon && c == ':');
        if (!ok)
            return 0;
    }
    return 1;
}

/* Append one "k=v" pair as k="v" with the value escaped. */
static int put_label(nq_buf *b, const char *pair, size_t len)
{
    const char *eq = memchr(pair, '=', len);
    char key[MAX_NAME + 1];
    size_t klen = eq ? (size_t)(eq - pair) : 0;
    if (!eq || klen == 0 || klen > MAX_NAME)
        return NQ_EINVAL;
    memcpy(key, pair, klen);
    key[klen] = '\0';
    if (!name_ok(key, 0) || strcmp(key, "le") == 0)
        return NQ_EINVAL;
    int rc = nq_buf_printf(b, "%s%s=\"", b->len ? "," : "", key);
    for (const char *v = eq + 1; !rc && v < pair + len; v++) {
        if (*v == '\\' || *v == '"')
            rc = nq_buf_putc(b, '\\') || nq_buf_putc(b, *v);
        else if (*v == '\n')
            rc = nq_buf_puts(b, "\\n");
        else
            rc = nq_buf_putc(b, *v);
    }
    return rc ? rc : nq_buf_putc(b, '"');
}

/* "k1=v1,k2=v2" -> k1="v1",k2="v2" (malloc'd), NULL if malformed. */
static char *render_labels(const char *labels)
{
    nq_buf b;
    nq_buf_init(&b, MAX_LABELS_TEXT);
    int rc = nq_buf_puts(&b, "");
    for (const char *p = labels ? labels : ""; !rc && *p;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        rc = put_label(&b, p, len);
        p += len + (comma ? 1 : 0);
    }
    char *out = rc ? NULL : nq_buf_steal(&b, NULL);
    nq_buf_free(&b);
    return out;
}

/* ---- lookup ------------------------------------------------------------------ */

static family *get_family(nq_metrics *m, const char *name, int type)
{
    family *f = nq__map_get(&m->families, name);
    if (f) {
        if (f->type == T_UNSET)
            f->type = type;
        return f;
    }
    f = calloc(1, sizeof *f);
    if (!f || !(f->name = strdup(name)) || nq__map_put(&m->families, name, f)) {
        if (f)
            free(f->name);
        free(f);
        return NULL;
    }
    f->type = type;
    if (m->tail)
        m->tail->next = f;
    else
        m->head = f;
    m->tail = f;
    return f;
}

static series *new_series(nq_metrics *m, family *f, const char *key, char *labels)
{
    series *s = calloc(1, sizeof *s);
    if (!s || nq__map_put(&m->series, key, s)) {
        free(s);
        free(labels);
        return NULL;
    }
    s->labels = labels;
    s->type = f->type;
    if (f->tail)
        f->tail->next = s;
    else
        f->head = s;
    f->tail = s;
    m->n_series++;
    return s;
}

/* The series of name{labels} of the given type, created on first use;
 * NULL when malformed, of another type, over the cap, or out of memory.
 * Called with the lock held. */
static series *find_series(nq_metrics *m, const char *name, const char *labels, int type)
{
    if (!name || !name_ok(name, 1))
        return NULL;
    char *rendered = render_labels(labels);
    if (!rendered)
        return NULL;
    char key[MAX_NAME + MAX_LABELS_TEXT + 4];
    snprintf(key, sizeof key, "%s{%s}", name, rendered);
    series *s = nq__map_get(&m->series, key);
    if (s) {
        free(rendered);
        const family *f = nq__map_get(&m->families, name);
        return f->type == type ? s : NULL;
    }
    family *f = get_family(m, name, type);
    if (!f || f->type != type || m->n_series >= MAX_SERIES) {
        free(rendered);
        return NULL;
    }
    return new_series(m, f, key, rendered);
}

/* The series as find_series gives it, remembered under the caller's own
 * spelling of the labels (\x1f cannot occur in a valid name). Spellings
 * are bounded like series, so odd callers cannot grow the map. */
static series *get_series(nq_metrics *m, const char *name, const char *labels, int type)
{
    char call[MAX_NAME + MAX_LABELS_TEXT + 4];
    size_t nl = name ? strlen(name) : 0, ll = labels ? strlen(labels) : 0;
    int keyed = name && nl + ll + 2 <= sizeof call;
    if (keyed) {
        memcpy(call, name, nl);
        call[nl] = '\x1f';
        memcpy(call + nl + 1, labels ? labels : "", ll);
        call[nl + 1 + ll] = '\0';
        series *s = nq__map_get(&m->by_call, call);
        if (s)
            return s->type == type ? s : NULL;
    }
    series *s = find_series(m, name, labels, type);
    if (s && keyed && m->n_by_call < 2 * MAX_SERIES && nq__map_put(&m->by_call, call, s) == 0)
        m->n_by_call++;
    return s;
}

/* ---- updates ------------------------------------------------------------------ */

void nq_metrics_inc(nq_metrics *m, const char *name, const char *labels, double by)
{
    if (!m || !(by >= 0))
        return; /* a counter only goes up; NaN is refused too */
    pthread_mutex_lock(&m->mu);
    series *s = get_series(m, name, labels, T_COUNTER);
    if (s)
        s->value += by;
    pthread_mutex_unlock(&m->mu);
}

void nq_metrics_set(nq_metrics *m, const char *name, const char *labels, double value)
{
    if (!m)
        return;
    pthread_mutex_lock(&m->mu);
    series *s = get_series(m, name, labels, T_GAUGE);
    if (s)
        s->value = value;
    pthread_mutex_unlock(&m->mu);
}

void nq_metrics_observe(nq_metrics *m, const char *name, const char *labels, double value)
{
    if (!m || isnan(value))
        return;
    pthread_mutex_lock(&m->mu);
    series *s = get_series(m, name, labels, T_HISTOGRAM);
    if (s) {
        size_t k = 0;
        while (k < N_BUCKETS && value > BUCKETS[k])
            k++;
        if (k < N_BUCKETS)
            s->buckets[k]++;
        s->count++;
        s->sum += value;
    }
    pthread_mutex_unlock(&m->mu);
}

void nq_metrics_help(nq_metrics *m, const char *name, const char *help)
{
    if (!m || !name || !help || !name_ok(name, 1))
        return;
    pthread_mutex_lock(&m->mu);
    family *f = get_family(m, name, T_UNSET);
    char *copy = f ? strdup(help) : NULL;
    if (copy) {
        free(f->help);
        f->help = copy;
    }
    pthread_mutex_unlock(&m->mu);
}

/* ---- rendering ------------------------------------------------------------------ */

/* Shortest text that reads back as the same double; Prometheus spells the
 * non-finite values +Inf, -Inf and NaN. */
static const char *fmt_num(char out[40], double v)
{
    if (isnan(v))
        return "NaN";
    if (isinf(v))
        return v > 0 ? "+Inf" : "-Inf";
    snprintf(out, 40, "%.15g", v);
    if (strtod(out, NULL) != v)
        snprintf(out, 40, "%.17g", v);
    return out;
}

static int put_help(nq_buf *b, const family *f)
{
    int rc = nq_buf_printf(b, "# HELP %s ", f->name);
    for (const char *p = f->help; !rc && *p; p++)
        rc = *p == '\\'   ? nq_buf_puts(b, "\\\\")
             : *p == '\n' ? nq_buf_puts(b, "\\n")
                          : nq_buf_putc(b, *p);
    return rc ? rc : nq_buf_putc(b, '\n');
}

static int put_histogram(nq_buf *b, const family *f, const series *s)
{
    const char *sep = s->labels[0] ? "," : "";
    char num[40];
    uint64_t cum = 0;
    int rc = 0;
    for (size_t k = 0; !rc && k < N_BUCKETS; k++) {
        cum += s->buckets[k];
        rc = nq_buf_printf(b, "%s_bucket{%s%sle=\"%s\"} %llu\n", f->name, s->labels, sep,
                           fmt_num(num, BUCKETS[k]), (unsigned long long)cum);
    }
    if (!rc)
        rc = nq_buf_printf(b, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", f->name, s->labels, sep,
                           (unsigned long long)s->count);
    if (!rc)
        rc = nq_buf_printf(b, "%s_sum%s%s%s %s\n", f->name, s->labels[0] ? "{" : "", s->labels,
                           s->labels[0] ? "}" : "", fmt_num(num, s->sum));
    if (!rc)
        rc = nq_buf_printf(b, "%s_count%s%s%s %llu\n", f->name, s->labels[0] ? "{" : "", s->labels,
                           s->labels[0] ? "}" : "", (unsigned long long)s->count);
    return rc;
}

static int put_family(nq_buf *b, const family *f)
{
    int rc = f->help ? put_help(b, f) : 0;
    if (!rc)
        rc = nq_buf_printf(b, "# TYPE %s %s\n", f->name, TYPE_NAMES[f->type]);
    char num[40];
    for (const series *s = f->head; !rc && s; s = s->next) {
        if (f->type == T_HISTOGRAM)
            rc = put_histogram(b, f, s);
        else if (s->labels[0])
            rc = nq_buf_printf(b, "%s{%s} %s\n", f->name, s->labels, fmt_num(num, s->value));
        else
            rc = nq_buf_printf(b, "%s %s\n", f->name, fmt_num(num, s->value));
    }
    return rc;
}

char *nq_metrics_render(nq_metrics *m)
{
    nq_buf b;
    nq_buf_init(&b, RENDER_MAX);
    int rc = nq_buf_puts(&b, "");
    if (m) {
        pthread_mutex_lock(&m->mu);
        for (const family *f = m->head; !rc && f; f = f->next)
            rc = put_family(&b, f);
        pthread_mutex_unlock(&m->mu);
    }
    if (!rc)
        nq__metrics_process(&b);
    char *out = rc ? NULL : nq_buf_steal(&b, NULL);
    nq_buf_free(&b);
    return out;
}
