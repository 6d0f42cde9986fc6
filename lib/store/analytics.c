/* analytics.c - the dashboard's summary of the decisions history: counts
 * by unit, status and solver, latency percentiles, a time series in UTC
 * hour or day buckets, and the value the units report in their results.
 *
 * Two static queries, both range scans on the created_at index: one row
 * per decision (unit, status, solver, latency, quantum_enhanced,
 * created_at), and the results of the succeeded decisions whose kind
 * reports a value. The rest happens here in C, the same for both
 * backends: buckets from created_at (the two dialects truncate times
 * differently) and nearest-rank percentiles over the fetched latencies
 * (their percentile functions differ, and SQLite has none).
 *
 * Both scans read newest first and stop at a cap, so a huge range costs
 * bounded memory and says it was cut ("truncated"). They run on whatever
 * pooled connections are free, not in one snapshot: a decision stored
 * between them may be counted by one and not the other, which a
 * dashboard can live with. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nqba/clock.h"
#include "store_internal.h"

#define HOUR_S 3600.0
#define DAY_S 86400.0
#define DEFAULT_SPAN_S (30 * DAY_S)
/* 9999-12-31T23:59:59Z: later times do not print as RFC 3339. */
#define TIME_MAX 253402300799.0
#define NAME_MAX_LEN 64 /* as decisions.c checks; longer names are cut */
#define OTHER "(other)"
#define ROWS_INITIAL 1024

static const char SQL_ROWS[] =
    "SELECT unit, status, solver, latency, quantum_enhanced, created_at FROM decisions"
    " WHERE created_at >= CAST($1 AS DOUBLE PRECISION)"
    " AND created_at < CAST($2 AS DOUBLE PRECISION)"
    " ORDER BY created_at DESC LIMIT CAST($3 AS INTEGER)";
enum { R_UNIT, R_STATUS, R_SOLVER, R_LAT, R_QE, R_AT, R_N };

/* The kinds that report a value go in as parameters (unused slots NULL,
 * which match nothing), so that the results of the other kinds, the
 * engine's solves with their large assignments, are never read. */
#define KIND_SLOTS 6
static const char SQL_VALUES[] =
    "SELECT unit, kind, result FROM decisions"
    " WHERE created_at >= CAST($1 AS DOUBLE PRECISION)"
    " AND created_at < CAST($2 AS DOUBLE PRECISION)"
    " AND status = 'succeeded' AND result IS NOT NULL"
    " AND kind IN (CAST($3 AS TEXT), CAST($4 AS TEXT), CAST($5 AS TEXT), CAST($6 AS TEXT),"
    " CAST($7 AS TEXT), CAST($8 AS TEXT))"
    " ORDER BY created_at DESC LIMIT CAST($9 AS INTEGER)";
enum { V_UNIT, V_KIND, V_RESULT, V_N };

/* ---- what each unit reports as value --------------------------------------- */

#define MEMBERS_MAX 2

typedef struct value_rule {
    const char *unit;
    const char *kind;
    const char *members[MEMBERS_MAX]; /* numeric result members, NULL-padded */
} value_rule;

/* The numeric members of a succeeded result that are summed as the
 * unit's value. A (unit, kind) not listed reports none: the engine's own
 * solves ("engine", "solve") have an objective, but it is an energy, not
 * money. A member missing or not a number is skipped. */
static const value_rule RULES[] = {
    {"nqba", "decision-engine", {"objective", NULL}},
    {"flyfox", "energy-optimization", {"savings", NULL}},
    {"goliath", "portfolio-optimization", {"expected_return", NULL}},
    {"sigma", "lead-scoring", {"expected_value", NULL}},
};
#define N_RULES (sizeof RULES / sizeof RULES[0])
_Static_assert(N_RULES <= KIND_SLOTS, "SQL_VALUES needs a kind slot per rule");

static int rule_of(const char *unit, const char *kind)
{
    for (size_t r = 0; unit && kind && r < N_RULES; r++)
        if (strcmp(RULES[r].unit, unit) == 0 && strcmp(RULES[r].kind, kind) == 0)
            return (int)r;
    return -1;
}

/* ---- the scan -------------------------------------------------------------- */

typedef struct range {
    double from, to; /* resolved: [from, to) */
    double first;    /* the first bucket's start (from, aligned down) */
    double size;     /* a bucket's length in seconds */
    int n_buckets;
} range;

typedef struct counts {
    long long n, succeeded, failed, cancelled, qe;
} counts;

typedef struct unit_acc {
    char name[NAME_MAX_LEN + 1];
    counts c;
    json_t *solvers; /* {"milp": n, ...}, handed over to the output */
    int seen;        /* the index the rows knew it by, before sort_units */
} unit_acc;

/* What the percentiles need of a decision, sorted three ways in turn. */
typedef struct row {
    double lat;
    int unit;   /* index into scan.units */
    int bucket; /* index into the series */
} row;

typedef struct scan {
    const range *r;
    row *rows;
    size_t n_rows, cap;
    counts total;
    unit_acc units[NQ_ANALYTICS_UNITS_MAX + 1]; /* + OTHER */
    int n_units;
    int truncated;
    int fail; /* an nq_code that stopped a scan */
    double sum[N_RULES][MEMBERS_MAX];
    long long contributed[N_RULES]; /* results that had a member to sum */
    long long n_values;             /* results scanned */
} scan;

static void scan_free(scan *sc)
{
    for (int u = 0; u < sc->n_units; u++)
        json_decref(sc->units[u].solvers);
    free(sc->rows);
    free(sc);
}

static int truthy(const char *v)
{
    return v && (v[0] == '1' || v[0] == 't' || v[0] == 'T');
}

/* A latency as text; one that does not read as a time (NaN) counts as 0
 * so that the sort stays a total order. */
static double seconds(const char *v)
{
    double x = v ? strtod(v, NULL) : 0.0;
    return isfinite(x) && x > 0 ? x : 0.0;
}

static int bucket_of(const range *r, double t)
{
    /* The query keeps t in [from, to); the clamp covers text rounding at
     * the edges (SQLite prints REALs with 15 digits). */
    double k = floor((t - r->first) / r->size);
    if (!(k >= 0))
        return 0;
    return k >= r->n_buckets ? r->n_buckets - 1 : (int)k;
}

/* The index of a unit, added when new; past NQ_ANALYTICS_UNITS_MAX the
 * rest share OTHER. -1 when out of memory. */
static int unit_index(scan *sc, const char *name)
{
    char cut[NAME_MAX_LEN + 1];
    snprintf(cut, sizeof cut, "%s", name ? name : "");
    const char *want = cut;
    for (int pass = 0; pass < 2; pass++) {
        for (int u = 0; u < sc->n_units; u++)
            if (strcmp(sc->units[u].name, want) == 0)
                return u;
        if (sc->n_units < NQ_ANALYTICS_UNITS_MAX)
            break;
        want = OTHER;
    }
    unit_acc *a = &sc->units[sc->n_units];
    snprintf(a->name, sizeof a->name, "%s", want);
    if (!(a->solvers = json_object()))
        return -1;
    return sc->n_units++;
}

static int count_solver(json_t *solvers, const char *solver)
{
    if (!solver || !solver[0])
        return 0; /* it failed before a solver ran */
    char name[NAME_MAX_LEN + 1];
    snprintf(name, sizeof name, "%s", solver);
    json_t *n = json_object_get(solvers, name);
    if (!n && json_object_size(solvers) >= NQ_ANALYTICS_SOLVERS_MAX) {
        snprintf(name, sizeof name, "%s", OTHER);
        n = json_object_get(solvers, name);
    }
    if (n)
        return json_integer_set(n, json_integer_value(n) + 1);
    return json_object_set_new(solvers, name, json_integer(1));
}

static void tally(counts *c, const char *status, int qe)
{
    c->n++;
    c->qe += qe;
    if (!status)
        return;
    c->succeeded += strcmp(status, "succeeded") == 0;
    c->failed += strcmp(status, "failed") == 0;
    c->cancelled += strcmp(status, "cancelled") == 0;
}

static int grow(scan *sc)
{
    size_t cap = sc->cap ? sc->cap * 2 : ROWS_INITIAL;
    if (cap > NQ_ANALYTICS_ROWS_MAX)
        cap = NQ_ANALYTICS_ROWS_MAX;
    row *rows = realloc(sc->rows, cap * sizeof *rows);
    if (!rows)
        return -1;
    sc->rows = rows;
    sc->cap = cap;
    return 0;
}

static int take_row(void *user, int n, const char *const *v, const size_t *lens)
{
    scan *sc = user;
    (void)lens;
    if (n != R_N || !v[R_AT])
        return sc->fail = NQ_EIO;
    if (sc->n_rows == NQ_ANALYTICS_ROWS_MAX) {
        sc->truncated = 1; /* the query asks for one row more than the cap */
        return 1;
    }
    int u = -1;
    if ((sc->n_rows == sc->cap && grow(sc)) || (u = unit_index(sc, v[R_UNIT])) < 0 ||
        count_solver(sc->units[u].solvers, v[R_SOLVER]))
        return sc->fail = NQ_ENOMEM;
    row *r = &sc->rows[sc->n_rows++];
    r->lat = seconds(v[R_LAT]);
    r->unit = u;
    r->bucket = bucket_of(sc->r, strtod(v[R_AT], NULL));
    int qe = truthy(v[R_QE]);
    tally(&sc->total, v[R_STATUS], qe);
    tally(&sc->units[u].c, v[R_STATUS], qe);
    return 0;
}

static int take_value(void *user, int n, const char *const *v, const size_t *lens)
{
    scan *sc = user;
    if (n != V_N)
        return sc->fail = NQ_EIO;
    if (sc->n_values == NQ_ANALYTICS_VALUE_ROWS_MAX) {
        sc->truncated = 1;
        return 1;
    }
    sc->n_values++;
    int r = rule_of(v[V_UNIT], v[V_KIND]);
    if (r < 0 || !v[V_RESULT])
        return 0;
    json_t *doc = json_loadb(v[V_RESULT], lens[V_RESULT], 0, NULL);
    int any = 0;
    for (int m = 0; m < MEMBERS_MAX && RULES[r].members[m]; m++) {
        json_t *x = json_object_get(doc, RULES[r].members[m]);
        if (json_is_number(x)) {
            sc->sum[r][m] += json_number_value(x);
            any = 1;
        }
    }
    sc->contributed[r] += any;
    json_decref(doc);
    return 0;
}

static int run_scans(nq_store *s, scan *sc, nq_err *err)
{
    char from[32], to[32], lim_rows[16], lim_values[16];
    snprintf(from, sizeof from, "%.6f", sc->r->from);
    snprintf(to, sizeof to, "%.6f", sc->r->to);
    snprintf(lim_rows, sizeof lim_rows, "%d", NQ_ANALYTICS_ROWS_MAX + 1);
    snprintf(lim_values, sizeof lim_values, "%d", NQ_ANALYTICS_VALUE_ROWS_MAX + 1);
    const char *p[3] = {from, to, lim_rows};
    int rc = nq__exec1(s, SQL_ROWS, 3, p, take_row, sc, NULL, err);
    if (!rc && !sc->fail) {
        const char *pv[KIND_SLOTS + 3] = {from, to};
        for (size_t r = 0; r < N_RULES; r++)
            pv[2 + r] = RULES[r].kind;
        pv[KIND_SLOTS + 2] = lim_values;
        rc = nq__exec1(s, SQL_VALUES, KIND_SLOTS + 3, pv, take_value, sc, NULL, err);
    }
    if (!rc && sc->fail == NQ_ENOMEM)
        rc = nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    else if (!rc && sc->fail)
        rc = nq_err_set(err, NQ_EIO, NULL, "unreadable decision row");
    return rc;
}

/* ---- the summary ------------------------------------------------------------ */

static int by_lat(const void *a, const void *b)
{
    double x = ((const row *)a)->lat, y = ((const row *)b)->lat;
    return (x > y) - (x < y);
}

static int by_unit(const void *a, const void *b)
{
    const row *x = a, *y = b;
    return x->unit != y->unit ? (x->unit > y->unit) - (x->unit < y->unit) : by_lat(a, b);
}

static int by_bucket(const void *a, const void *b)
{
    const row *x = a, *y = b;
    return x->bucket != y->bucket ? (x->bucket > y->bucket) - (x->bucket < y->bucket)
                                  : by_lat(a, b);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const unit_acc *)a)->name, ((const unit_acc *)b)->name);
}

/* Units in name order, so that "units" and every "per_unit" list them
 * alike whatever order the rows came in. */
static void sort_units(scan *sc)
{
    int to[NQ_ANALYTICS_UNITS_MAX + 1];
    for (int u = 0; u < sc->n_units; u++)
        sc->units[u].seen = u;
    if (sc->n_units)
        qsort(sc->units, (size_t)sc->n_units, sizeof sc->units[0], by_name);
    for (int u = 0; u < sc->n_units; u++)
        to[sc->units[u].seen] = u;
    for (size_t i = 0; i < sc->n_rows; i++)
        sc->rows[i].unit = to[sc->rows[i].unit];
}

/* Nearest rank over rows sorted by latency: the smallest latency with at
 * least pct percent of the rows at or below it, rank ceil(pct / 100 * n)
 * in integers (0.99 * 100 is not 99 in floating point). */
static json_t *percentile(const row *rows, size_t n, int pct)
{
    if (n == 0)
        return json_null();
    size_t rank = ((size_t)pct * n + 99) / 100;
    return json_real(rows[rank - 1].lat);
}

static json_t *counts_json(const counts *c, const row *rows, size_t n)
{
    return json_pack("{s:I, s:I, s:I, s:I, s:o, s:o, s:I}", "decisions", (json_int_t)c->n,
                     "succeeded", (json_int_t)c->succeeded, "failed", (json_int_t)c->failed,
                     "cancelled", (json_int_t)c->cancelled, "latency_p50_s",
                     percentile(rows, n, 50), "latency_p99_s", percentile(rows, n, 99),
                     "quantum_enhanced", (json_int_t)c->qe);
}

static double member_sum(const scan *sc, const char *unit, const char *member)
{
    double sum = 0;
    for (size_t r = 0; r < N_RULES; r++)
        for (int m = 0; strcmp(RULES[r].unit, unit) == 0 && m < MEMBERS_MAX; m++)
            if (RULES[r].members[m] && strcmp(RULES[r].members[m], member) == 0)
                sum += sc->sum[r][m];
    return sum;
}

/* {"objective": sum, "count": results that had a member}; a sum past the
 * doubles is null (JSON has no infinity). */
static json_t *value_json(const scan *sc, const char *unit)
{
    json_t *o = json_object();
    long long count = 0;
    for (size_t r = 0; o && r < N_RULES; r++) {
        if (strcmp(RULES[r].unit, unit) != 0)
            continue;
        count += sc->contributed[r];
        for (int m = 0; m < MEMBERS_MAX && RULES[r].members[m]; m++) {
            double sum = member_sum(sc, unit, RULES[r].members[m]);
            json_t *v = isfinite(sum) ? json_real(sum) : json_null();
            if (json_object_set_new(o, RULES[r].members[m], v)) {
                json_decref(o);
                o = NULL;
            }
        }
    }
    if (o && json_object_set_new(o, "count", json_integer(count))) {
        json_decref(o);
        o = NULL;
    }
    return o;
}

static json_t *unit_json(scan *sc, int u, const row *rows, size_t n)
{
    json_t *o = counts_json(&sc->units[u].c, rows, n);
    json_t *solvers = sc->units[u].solvers; /* handed over, taken even on failure */
    sc->units[u].solvers = NULL;
    if (!o || json_object_set_new(o, "solvers", solvers) ||
        json_object_set_new(o, "value", value_json(sc, sc->units[u].name))) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *units_json(scan *sc)
{
    qsort(sc->rows, sc->n_rows, sizeof *sc->rows, by_unit);
    json_t *o = json_object();
    size_t i = 0;
    for (int u = 0; o && u < sc->n_units; u++) {
        size_t j = i;
        while (j < sc->n_rows && sc->rows[j].unit == u)
            j++;
        if (json_object_set_new(o, sc->units[u].name, unit_json(sc, u, sc->rows + i, j - i))) {
            json_decref(o);
            o = NULL;
        }
        i = j;
    }
    return o;
}

static json_t *bucket_json(const scan *sc, int b, const row *rows, size_t n)
{
    long long per[NQ_ANALYTICS_UNITS_MAX + 1] = {0};
    for (size_t i = 0; i < n; i++)
        per[rows[i].unit]++;
    json_t *units = json_object();
    for (int u = 0; units && u < sc->n_units; u++)
        if (json_object_set_new(units, sc->units[u].name, json_integer(per[u]))) {
            json_decref(units);
            units = NULL;
        }
    char start[32];
    nq_clock_rfc3339(sc->r->first + b * sc->r->size, start);
    return json_pack("{s:s, s:I, s:o, s:o, s:o}", "start", start, "decisions", (json_int_t)n,
                     "per_unit", units, "latency_p50_s", percentile(rows, n, 50), "latency_p99_s",
                     percentile(rows, n, 99));
}

static json_t *series_json(scan *sc)
{
    qsort(sc->rows, sc->n_rows, sizeof *sc->rows, by_bucket);
    json_t *a = json_array();
    size_t i = 0;
    for (int b = 0; a && b < sc->r->n_buckets; b++) {
        size_t j = i;
        while (j < sc->n_rows && sc->rows[j].bucket == b)
            j++;
        if (json_array_append_new(a, bucket_json(sc, b, sc->rows + i, j - i))) {
            json_decref(a);
            a = NULL;
        }
        i = j;
    }
    return a;
}

static json_t *summary_json(scan *sc, const char *bucket)
{
    char from[32], to[32];
    nq_clock_rfc3339(sc->r->from, from);
    nq_clock_rfc3339(sc->r->to, to);
    sort_units(sc);
    qsort(sc->rows, sc->n_rows, sizeof *sc->rows, by_lat);
    json_t *o = json_pack("{s:s, s:s, s:s, s:b, s:o}", "from", from, "to", to, "bucket", bucket,
                          "truncated", sc->truncated, "totals",
                          counts_json(&sc->total, sc->rows, sc->n_rows));
    if (o && (json_object_set_new(o, "units", units_json(sc)) ||
              json_object_set_new(o, "series", series_json(sc)))) {
        json_decref(o);
        o = NULL;
    }
    return o;
}

/* ---- the range --------------------------------------------------------------- */

static int bad_time(double t)
{
    return !(t >= 0 && t <= TIME_MAX); /* NaN too */
}

static int resolve(const nq_analytics_query *q, range *r, nq_err *err)
{
    if (!q->bucket || (strcmp(q->bucket, "hour") != 0 && strcmp(q->bucket, "day") != 0))
        return nq_err_set(err, NQ_EINVAL, "bucket", "must be \"hour\" or \"day\"");
    if (bad_time(q->from) || bad_time(q->to))
        return nq_err_set(err, NQ_EINVAL, bad_time(q->from) ? "from" : "to",
                          "must be Unix seconds from 1970 to 9999");
    r->size = strcmp(q->bucket, "hour") == 0 ? HOUR_S : DAY_S;
    r->to = q->to > 0 ? q->to : nq_clock_wall_s();
    r->from = q->from > 0 ? q->from : fmax(0.0, r->to - DEFAULT_SPAN_S);
    if (r->from > r->to)
        return nq_err_set(err, NQ_EINVAL, "from", "must not be after to");
    /* Unix time has no leap seconds: UTC hours and days are multiples. */
    r->first = floor(r->from / r->size) * r->size;
    double n = r->to > r->from ? ceil((r->to - r->first) / r->size) : 0.0;
    if (n > NQ_ANALYTICS_BUCKETS_MAX)
        return nq_err_set(
            err, NQ_ERANGE, "from", "the range spans %.0f %s buckets, more than %d: shorten it%s",
            n, q->bucket, NQ_ANALYTICS_BUCKETS_MAX, r->size == HOUR_S ? " or use day buckets" : "");
    r->n_buckets = (int)n;
    return NQ_OK;
}

int nq_store_analytics(nq_store *s, const nq_analytics_query *q, json_t **out, nq_err *err)
{
    *out = NULL;
    range r;
    int rc = resolve(q, &r, err);
    if (rc)
        return rc;
    /* rows is never NULL, not even for an empty range: qsort and
     * pointer arithmetic may not be given one. */
    scan *sc = calloc(1, sizeof *sc);
    if (!sc || grow(sc)) {
        free(sc);
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    }
    sc->r = &r;
    if (r.n_buckets > 0) /* else [from, to) is empty: nothing to read */
        rc = run_scans(s, sc, err);
    if (!rc && !(*out = summary_json(sc, q->bucket)))
        rc = nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    scan_free(sc);
    return rc;
}
