/* test_store_analytics.c - nq_store_analytics against every backend:
 * SQLite in a temporary directory always, PostgreSQL when NQ_TEST_PG_URL
 * names a server (scripts/testdb.sh starts one), each test in a schema of
 * its own.
 *
 * A known set of decisions (units, statuses, solvers, latencies, results,
 * times) is stored, and every number of the summary is checked against
 * what the test works out from that set on its own: counts by filtering
 * the set, percentiles by sorting its latencies, bucket indexes by
 * integer division of whole seconds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store_fixture.h"
#include "nqba/clock.h"
#include "nqba/store.h"

/* ---- fixture (store_fixture.h has fresh, cleanup, raw) ---------------------------- */

/* A migrated store on a fresh database, or NULL when the backend is not
 * there (the caller skips). */
static nq_store *open_fresh(const char *kind, backend *b)
{
    int f = fresh(kind, b);
    if (f == 1)
        return NULL;
    assert_int_equal(f, 0);
    nq_store *s = NULL;
    nq_err err;
    nq_err_clear(&err);
    int rc = nq_store_open(b->url, 0, &s, &err);
    if (!rc)
        rc = nq_store_migrate(s, NULL, &err);
    if (rc)
        print_message("open %s: %s\n", b->url, err.msg);
    assert_int_equal(rc, NQ_OK);
    return s;
}

/* ---- the set of decisions ------------------------------------------------------ */

#define H0 1699999200LL /* 2023-11-14T22:00:00Z, an hour boundary */
#define D0 1699920000LL /* 2023-11-14T00:00:00Z, a day boundary */
#define N_RECS 60

typedef struct rec {
    const char *unit, *kind, *status, *solver;
    double lat;
    int qe;
    long long at;
    char result[80]; /* "" = NULL */
} rec;

static rec recs[N_RECS];

/* Every tenth minute from 21:30, none in the hour from 02:00 (those
 * move one hour on); three units, some failed and cancelled ones, and
 * results with the value members present, missing, or not numbers. */
static void make_set(void)
{
    static const char *const solvers[] = {"milp", "sa", "tabu", "exact"};
    for (int i = 0; i < N_RECS; i++) {
        rec *r = &recs[i];
        r->at = H0 - 1800 + i * 600LL;
        if (r->at >= H0 + 4 * 3600 && r->at < H0 + 5 * 3600)
            r->at += 3600;
        r->unit = i % 3 == 0 ? "nqba" : i % 3 == 1 ? "flyfox" : "engine";
        r->kind = i % 3 == 0   ? "decision-engine"
                  : i % 3 == 2 ? "solve"
                  : i % 6 == 4 ? "unit-commitment"
                               : "energy-optimization";
        r->status = i % 10 == 7 ? "failed" : i % 10 == 9 ? "cancelled" : "succeeded";
        int ok = strcmp(r->status, "succeeded") == 0;
        r->solver = ok ? solvers[i % 4] : "";
        r->qe = ok && (i % 4 == 1 || i % 4 == 2);
        r->lat = ((i * 37) % 61 + 1) * 0.0625; /* exact in binary and in 9 digits */
        r->result[0] = '\0';
        if (!ok)
            continue;
        if (i % 3 == 0 && i % 12 == 3)
            snprintf(r->result, sizeof r->result, "{\"status\": \"optimal\"}");
        else if (i % 3 == 0 && i % 12 == 6)
            snprintf(r->result, sizeof r->result, "{\"objective\": \"12\"}");
        else if (i % 3 == 0)
            snprintf(r->result, sizeof r->result, "{\"objective\": %g, \"x\": [1]}", i * 1.5);
        else if (i % 3 == 1)
            snprintf(r->result, sizeof r->result, "{\"savings\": %g}", i * 2.25);
        else
            snprintf(r->result, sizeof r->result, "{\"objective\": 1000}");
    }
}

static void store_set(nq_store *s)
{
    for (int i = 0; i < N_RECS; i++) {
        const rec *r = &recs[i];
        nq_decision_rec d;
        memset(&d, 0, sizeof d);
        snprintf(d.id, sizeof d.id, "%032x", i + 1);
        d.unit = r->unit;
        d.kind = r->kind;
        d.request = "{}";
        d.result = r->result[0] ? r->result : NULL;
        d.solver = r->solver;
        d.status = r->status;
        d.latency_s = r->lat;
        d.quantum_enhanced = r->qe;
        d.created_at = (double)r->at;
        nq_err err;
        int rc = nq_store_put_decision(s, &d, &err);
        if (rc)
            print_message("put %d: %s\n", i, err.msg);
        assert_int_equal(rc, NQ_OK);
    }
}

/* ---- what the summary should say ------------------------------------------------ */

static int in(const rec *r, long long from, long long to, const char *unit)
{
    return r->at >= from && r->at < to && (!unit || strcmp(r->unit, unit) == 0);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Nearest rank: the first sorted latency with at least pct percent of
 * the latencies at or below it. -1 when there are none. */
static double expect_pct(long long from, long long to, const char *unit, int pct)
{
    double lat[N_RECS];
    int n = 0;
    for (int i = 0; i < N_RECS; i++)
        if (in(&recs[i], from, to, unit))
            lat[n++] = recs[i].lat;
    if (n == 0)
        return -1;
    qsort(lat, (size_t)n, sizeof lat[0], cmp_double);
    for (int i = 0; i < n; i++)
        if ((i + 1) * 100 >= pct * n)
            return lat[i];
    return lat[n - 1];
}

static void check_pct(json_t *o, const char *member, double want)
{
    json_t *v = json_object_get(o, member);
    if (want < 0) {
        assert_true(json_is_null(v));
        return;
    }
    assert_true(json_is_number(v));
    if (fabs(json_number_value(v) - want) > 1e-9)
        fail_msg("%s: %.9g, expected %.9g", member, json_number_value(v), want);
}

static long long count_where(long long from, long long to, const char *unit, const char *status,
                             int qe_only)
{
    long long n = 0;
    for (int i = 0; i < N_RECS; i++)
        n += in(&recs[i], from, to, unit) && (!status || strcmp(recs[i].status, status) == 0) &&
             (!qe_only || recs[i].qe);
    return n;
}

static long long int_of(json_t *o, const char *member)
{
    json_t *v = json_object_get(o, member);
    if (!json_is_integer(v))
        fail_msg("%s is not an integer", member);
    return json_integer_value(v);
}

/* The counts and percentiles of totals (unit NULL) or of one unit. */
static void check_counts(json_t *o, long long from, long long to, const char *unit)
{
    assert_non_null(o);
    assert_int_equal(int_of(o, "decisions"), count_where(from, to, unit, NULL, 0));
    assert_int_equal(int_of(o, "succeeded"), count_where(from, to, unit, "succeeded", 0));
    assert_int_equal(int_of(o, "failed"), count_where(from, to, unit, "failed", 0));
    assert_int_equal(int_of(o, "cancelled"), count_where(from, to, unit, "cancelled", 0));
    assert_int_equal(int_of(o, "quantum_enhanced"), count_where(from, to, unit, NULL, 1));
    check_pct(o, "latency_p50_s", expect_pct(from, to, unit, 50));
    check_pct(o, "latency_p99_s", expect_pct(from, to, unit, 99));
}

static void check_solvers(json_t *solvers, long long from, long long to, const char *unit)
{
    static const char *const names[] = {"milp", "sa", "tabu", "exact"};
    size_t seen = 0;
    for (int k = 0; k < 4; k++) {
        long long n = 0;
        for (int i = 0; i < N_RECS; i++)
            n += in(&recs[i], from, to, unit) && strcmp(recs[i].solver, names[k]) == 0;
        if (n) {
            assert_int_equal(int_of(solvers, names[k]), n);
            seen++;
        } else {
            assert_null(json_object_get(solvers, names[k]));
        }
    }
    assert_int_equal(json_object_size(solvers), seen); /* nothing for "" */
}

/* The value sums, worked out from the numbers make_set wrote. */
static void check_values(json_t *units, long long from, long long to)
{
    double objective = 0, savings = 0;
    long long n_obj = 0, n_sav = 0;
    for (int i = 0; i < N_RECS; i++) {
        const rec *r = &recs[i];
        if (!in(r, from, to, NULL) || strcmp(r->status, "succeeded") != 0)
            continue;
        if (strcmp(r->kind, "decision-engine") == 0 && i % 12 != 3 && i % 12 != 6) {
            objective += i * 1.5;
            n_obj++;
        }
        if (strcmp(r->kind, "energy-optimization") == 0) {
            savings += i * 2.25;
            n_sav++;
        }
    }
    json_t *v = json_object_get(json_object_get(units, "nqba"), "value");
    assert_true(fabs(json_number_value(json_object_get(v, "objective")) - objective) < 1e-9);
    assert_int_equal(int_of(v, "count"), n_obj);
    v = json_object_get(json_object_get(units, "flyfox"), "value");
    assert_true(fabs(json_number_value(json_object_get(v, "savings")) - savings) < 1e-9);
    assert_int_equal(int_of(v, "count"), n_sav);
    /* The engine's solves report no value, whatever their results hold. */
    v = json_object_get(json_object_get(units, "engine"), "value");
    assert_int_equal(json_object_size(v), 1);
    assert_int_equal(int_of(v, "count"), 0);
}

static json_t *summary(nq_store *s, double from, double to, const char *bucket)
{
    nq_analytics_query q = {from, to, bucket};
    json_t *out = NULL;
    nq_err err;
    nq_err_clear(&err);
    int rc = nq_store_analytics(s, &q, &out, &err);
    if (rc)
        print_message("analytics: %s: %s\n", err.where, err.msg);
    assert_int_equal(rc, NQ_OK);
    assert_non_null(out);
    return out;
}

static void check_start(json_t *bucket, long long at)
{
    char want[32];
    nq_clock_rfc3339((double)at, want);
    assert_string_equal(json_string_value(json_object_get(bucket, "start")), want);
}

/* ---- the suites ------------------------------------------------------------------ */

static const char *const UNITS[] = {"nqba", "flyfox", "engine"};

/* Hour buckets over a range that cuts rows off at both ends and has an
 * empty hour inside. */
static void check_hours(nq_store *s)
{
    long long from = H0 + 900, to = H0 + 8 * 3600 + 1200;
    json_t *o = summary(s, (double)from, (double)to, "hour");
    assert_string_equal(json_string_value(json_object_get(o, "bucket")), "hour");
    assert_string_equal(json_string_value(json_object_get(o, "from")), "2023-11-14T22:15:00.000Z");
    assert_true(json_is_false(json_object_get(o, "truncated")));
    check_counts(json_object_get(o, "totals"), from, to, NULL);
    json_t *units = json_object_get(o, "units");
    assert_int_equal(json_object_size(units), 3);
    assert_string_equal(json_object_iter_key(json_object_iter(units)), "engine"); /* by name */
    for (int u = 0; u < 3; u++) {
        json_t *uo = json_object_get(units, UNITS[u]);
        check_counts(uo, from, to, UNITS[u]);
        check_solvers(json_object_get(uo, "solvers"), from, to, UNITS[u]);
    }
    check_values(units, from, to);

    json_t *series = json_object_get(o, "series");
    assert_int_equal(json_array_size(series), 9); /* 22:00 .. 06:00 */
    int empty = 0;
    for (int b = 0; b < 9; b++) {
        json_t *bo = json_array_get(series, (size_t)b);
        long long bf = H0 + b * 3600LL, bt = bf + 3600;
        bf = bf < from ? from : bf;
        bt = bt > to ? to : bt;
        check_start(bo, H0 + b * 3600LL);
        assert_int_equal(int_of(bo, "decisions"), count_where(bf, bt, NULL, NULL, 0));
        empty += int_of(bo, "decisions") == 0;
        json_t *per = json_object_get(bo, "per_unit");
        assert_int_equal(json_object_size(per), 3); /* zeros included */
        for (int u = 0; u < 3; u++)
            assert_int_equal(int_of(per, UNITS[u]), count_where(bf, bt, UNITS[u], NULL, 0));
        check_pct(bo, "latency_p50_s", expect_pct(bf, bt, NULL, 50));
        check_pct(bo, "latency_p99_s", expect_pct(bf, bt, NULL, 99));
    }
    assert_int_equal(empty, 1); /* 02:00 */
    json_decref(o);
}

static void check_days(nq_store *s)
{
    json_t *o = summary(s, (double)D0, (double)(D0 + 2 * 86400), "day");
    json_t *series = json_object_get(o, "series");
    assert_int_equal(json_array_size(series), 2);
    check_start(json_array_get(series, 0), D0);
    assert_string_equal(json_string_value(json_object_get(json_array_get(series, 1), "start")),
                        "2023-11-15T00:00:00.000Z");
    for (int b = 0; b < 2; b++) {
        long long bf = D0 + b * 86400LL, bt = bf + 86400;
        json_t *bo = json_array_get(series, (size_t)b);
        assert_int_equal(int_of(bo, "decisions"), count_where(bf, bt, NULL, NULL, 0));
        assert_true(int_of(bo, "decisions") > 0);
    }
    check_counts(json_object_get(o, "totals"), D0, D0 + 2 * 86400, NULL);
    assert_int_equal(int_of(json_object_get(o, "totals"), "decisions"), N_RECS);
    check_values(json_object_get(o, "units"), D0, D0 + 2 * 86400);
    json_decref(o);
}

/* A range without decisions: zeros, null percentiles, every bucket. */
static void check_empty(nq_store *s)
{
    json_t *o = summary(s, 1600000000.0, 1600000000.0 + 5 * 3600, "hour");
    json_t *t = json_object_get(o, "totals");
    assert_int_equal(int_of(t, "decisions"), 0);
    assert_true(json_is_null(json_object_get(t, "latency_p50_s")));
    assert_true(json_is_null(json_object_get(t, "latency_p99_s")));
    assert_int_equal(json_object_size(json_object_get(o, "units")), 0);
    json_t *series = json_object_get(o, "series");
    assert_int_equal(json_array_size(series), 6); /* from is 12:26:40: six hours touched */
    for (size_t b = 0; b < 6; b++) {
        json_t *bo = json_array_get(series, b);
        assert_int_equal(int_of(bo, "decisions"), 0);
        assert_int_equal(json_object_size(json_object_get(bo, "per_unit")), 0);
        assert_true(json_is_null(json_object_get(bo, "latency_p99_s")));
    }
    json_decref(o);
    /* from == to: an empty range, no buckets. */
    o = summary(s, (double)H0, (double)H0, "day");
    assert_int_equal(json_array_size(json_object_get(o, "series")), 0);
    assert_int_equal(int_of(json_object_get(o, "totals"), "decisions"), 0);
    json_decref(o);
}

/* to = now, from = 30 days before. */
static void check_defaults(nq_store *s)
{
    double before = nq_clock_wall_s();
    json_t *o = summary(s, 0, 0, "day");
    size_t n = json_array_size(json_object_get(o, "series"));
    assert_true(n == 30 || n == 31);
    double to = 0;
    assert_int_equal(nq_clock_parse_rfc3339(json_string_value(json_object_get(o, "to")), &to), 0);
    assert_true(to >= before - 1 && to <= before + 60);
    assert_int_equal(int_of(json_object_get(o, "totals"), "decisions"), 0);
    json_decref(o);
}

static void expect_error(nq_store *s, double from, double to, const char *bucket, int code,
                         const char *where)
{
    nq_analytics_query q = {from, to, bucket};
    json_t *out = NULL;
    nq_err err;
    nq_err_clear(&err);
    assert_int_equal(nq_store_analytics(s, &q, &out, &err), code);
    assert_null(out);
    assert_string_equal(err.where, where);
}

static void check_errors(nq_store *s)
{
    expect_error(s, 0, 0, "week", NQ_EINVAL, "bucket");
    expect_error(s, 0, 0, NULL, NQ_EINVAL, "bucket");
    expect_error(s, 0, 0, "", NQ_EINVAL, "bucket");
    expect_error(s, (double)H0 + 1, (double)H0, "hour", NQ_EINVAL, "from");
    expect_error(s, -5, 0, "hour", NQ_EINVAL, "from");
    expect_error(s, 0, NAN, "hour", NQ_EINVAL, "to");
    /* The bucket limit: 10,001 hours is too many, 10,000 is the most. */
    double span = (NQ_ANALYTICS_BUCKETS_MAX + 1) * 3600.0;
    expect_error(s, (double)H0, (double)H0 + span, "hour", NQ_ERANGE, "from");
    expect_error(s, 1.0, (double)H0, "day", NQ_ERANGE, "from");
    json_t *o = summary(s, (double)H0, H0 + NQ_ANALYTICS_BUCKETS_MAX * 3600.0, "hour");
    assert_int_equal(json_array_size(json_object_get(o, "series")), NQ_ANALYTICS_BUCKETS_MAX);
    json_decref(o);
    /* The same span in days is fine. */
    o = summary(s, (double)H0, (double)H0 + span, "day");
    assert_int_equal(json_array_size(json_object_get(o, "series")), 418);
    json_decref(o);
}

static void suite_summary(const char *kind)
{
    backend b;
    nq_store *s = open_fresh(kind, &b);
    if (!s)
        skip();
    make_set();
    store_set(s);
    check_hours(s);
    check_days(s);
    check_empty(s);
    check_defaults(s);
    check_errors(s);
    nq_store_close(s);
    cleanup(&b);
}

/* More results than the value scan reads: the newest are summed and the
 * summary says it was cut. Rows are written in one statement, as a bulk
 * load would, rather than one durable transaction each. */
static void suite_truncated(const char *kind)
{
    backend b;
    nq_store *s = open_fresh(kind, &b);
    if (!s)
        skip();
    int pg = strcmp(kind, "postgresql") == 0;
    char sql[1024];
    int n = NQ_ANALYTICS_VALUE_ROWS_MAX + 5;
    if (pg)
        snprintf(sql, sizeof sql,
                 "INSERT INTO decisions (id, unit, kind, request, result, solver, status, "
                 "latency, quantum_enhanced, created_at) SELECT lpad(to_hex(x), 32, '0'), "
                 "'nqba', 'decision-engine', '{}', '{\"objective\": 2}', 'sa', 'succeeded', "
                 "x / 1000.0, true, %lld + x / 10.0 FROM generate_series(1, %d) AS x",
                 H0, n);
    else
        snprintf(sql, sizeof sql,
                 "INSERT INTO decisions (id, unit, kind, request, result, solver, status, "
                 "latency, quantum_enhanced, created_at) WITH RECURSIVE c(x) AS (SELECT 1 "
                 "UNION ALL SELECT x + 1 FROM c WHERE x < %d) SELECT printf('%%032x', x), "
                 "'nqba', 'decision-engine', '{}', '{\"objective\": 2}', 'sa', 'succeeded', "
                 "x / 1000.0, 1, %lld + x / 10.0 FROM c",
                 n, H0);
    assert_int_equal(raw(s, sql), NQ_OK);
    json_t *o = summary(s, (double)H0, (double)H0 + 86400, "hour");
    assert_true(json_is_true(json_object_get(o, "truncated")));
    json_t *t = json_object_get(o, "totals");
    assert_int_equal(int_of(t, "decisions"), n); /* below the row cap: all counted */
    assert_int_equal(int_of(t, "quantum_enhanced"), n);
    /* latencies x / 1000 for x = 1..n: rank ceil(p n / 100). */
    check_pct(t, "latency_p50_s", ((50LL * n + 99) / 100) / 1000.0);
    check_pct(t, "latency_p99_s", ((99LL * n + 99) / 100) / 1000.0);
    json_t *nqba = json_object_get(json_object_get(o, "units"), "nqba");
    assert_int_equal(int_of(json_object_get(nqba, "solvers"), "sa"), n);
    json_t *v = json_object_get(nqba, "value");
    assert_int_equal(int_of(v, "count"), NQ_ANALYTICS_VALUE_ROWS_MAX);
    assert_true(json_number_value(json_object_get(v, "objective")) ==
                2.0 * NQ_ANALYTICS_VALUE_ROWS_MAX);
    json_t *series = json_object_get(o, "series");
    assert_int_equal(json_array_size(series), 24);
    long long sum = 0;
    for (size_t k = 0; k < 24; k++)
        sum += int_of(json_array_get(series, k), "decisions");
    assert_int_equal(sum, n);
    assert_int_equal(int_of(json_array_get(series, 0), "decisions"), 35999); /* x < 36000 */
    json_decref(o);
    nq_store_close(s);
    cleanup(&b);
}

/* More decisions than the row scan reads: the newest NQ_ANALYTICS_ROWS_MAX
 * are counted. The cap is the same C code on both backends, so SQLite
 * (the faster to fill with a million rows) shows it. */
static void test_sqlite_row_cap(void **state)
{
    (void)state;
    backend b;
    nq_store *s = open_fresh("sqlite", &b);
    assert_non_null(s);
    char sql[1024];
    int n = NQ_ANALYTICS_ROWS_MAX + 3;
    snprintf(sql, sizeof sql,
             "INSERT INTO decisions (id, unit, kind, request, result, solver, status, latency, "
             "quantum_enhanced, created_at) WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL "
             "SELECT x + 1 FROM c WHERE x < %d) SELECT printf('%%032x', x), 'engine', 'solve', "
             "'{}', NULL, 'sa', 'succeeded', x / 1000.0, 0, %lld + x / 100.0 FROM c",
             n, H0);
    assert_int_equal(raw(s, sql), NQ_OK);
    json_t *o = summary(s, (double)H0, (double)H0 + 86400, "day");
    assert_true(json_is_true(json_object_get(o, "truncated")));
    json_t *t = json_object_get(o, "totals");
    assert_int_equal(int_of(t, "decisions"), NQ_ANALYTICS_ROWS_MAX);
    /* The newest rows, x = 4 .. n: the median has rank ROWS_MAX / 2. */
    check_pct(t, "latency_p50_s", (NQ_ANALYTICS_ROWS_MAX / 2 + 3) / 1000.0);
    json_t *series = json_object_get(o, "series");
    assert_int_equal(json_array_size(series), 2);
    assert_int_equal(int_of(json_array_get(series, 0), "decisions") +
                         int_of(json_array_get(series, 1), "decisions"),
                     NQ_ANALYTICS_ROWS_MAX);
    json_decref(o);
    nq_store_close(s);
    cleanup(&b);
}

static void test_sqlite_summary(void **state) { (void)state; suite_summary("sqlite"); }
static void test_sqlite_truncated(void **state) { (void)state; suite_truncated("sqlite"); }
static void test_pg_summary(void **state) { (void)state; suite_summary("postgresql"); }
static void test_pg_truncated(void **state) { (void)state; suite_truncated("postgresql"); }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sqlite_summary),
        cmocka_unit_test(test_sqlite_truncated),
        cmocka_unit_test(test_sqlite_row_cap),
        cmocka_unit_test(test_pg_summary),
        cmocka_unit_test(test_pg_truncated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
