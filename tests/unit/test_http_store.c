/* test_http_store.c - `nqba serve` ($NQ_BIN) with its store: what is
 * acknowledged is stored, a kill -9 loses nothing acknowledged and leaves
 * an audit chain that verifies, a database that turns read-only gives 503
 * and writes nothing, and a bad or unreachable database stops the server
 * at start with a clear message.
 *
 * Every test runs on SQLite; the PostgreSQL ones need NQ_TEST_PG_URL
 * (scripts/testdb.sh; `make test` starts it) and are skipped without. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <math.h>
#include <pthread.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/store/store_internal.h"
#include "http_client.h"

#define DECIDE "/api/v1/nqba/decision-engine"

/* A small knapsack decision; seed makes each body (and job) distinct. */
static void decision_body(unsigned seed, char *out, size_t cap)
{
    snprintf(out, cap,
             "{\"variables\":[{\"name\":\"a\",\"type\":\"binary\"},{\"name\":\"b\",\"type\":"
             "\"binary\"},{\"name\":\"c\",\"type\":\"binary\"}],\"objective\":{\"sense\":"
             "\"maximize\",\"linear\":{\"a\":3,\"b\":2,\"c\":4}},\"constraints\":[{\"name\":"
             "\"cap\",\"linear\":{\"a\":2,\"b\":1,\"c\":3},\"sense\":\"<=\",\"rhs\":4}],"
             "\"options\":{\"solver\":\"exact\",\"seed\":%u}}",
             seed);
}

/* A directory that outlives the servers started in it. */
static void db_dir(char dir[64], char path[128])
{
    snprintf(dir, 64, "/tmp/nqba-store-XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(path, 128, "%s/nqba.db", dir);
}

static void rm_dir(const char *dir)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

/* A fresh PostgreSQL schema for one server, as a URL selecting it; "" when
 * no server is configured. */
static void pg_url(const char *tag, char *out, size_t cap)
{
    const char *base = getenv("NQ_TEST_PG_URL");
    out[0] = '\0';
    if (!base || !*base)
        return;
    char schema[64], cmd[512];
    snprintf(schema, sizeof schema, "nqh_%s_%d", tag, (int)getpid());
    snprintf(cmd, sizeof cmd,
             "psql -q -v ON_ERROR_STOP=1 '%s' -c 'DROP SCHEMA IF EXISTS %s CASCADE' "
             "-c 'CREATE SCHEMA %s' >/dev/null 2>&1",
             base, schema, schema);
    assert_int_equal(system(cmd), 0);
    snprintf(out, cap, "%s%soptions=-csearch_path%%3D%s", base, strchr(base, '?') ? "&" : "?",
             schema);
}

static void psql(const char *sql)
{
    char cmd[1024];
    /* The session first leaves read-only mode, which the role may be in. */
    snprintf(cmd, sizeof cmd,
             "psql -q -v ON_ERROR_STOP=1 '%s' -c 'SET default_transaction_read_only = off' "
             "-c \"%s\" >/dev/null 2>&1",
             getenv("NQ_TEST_PG_URL"), sql);
    assert_int_equal(system(cmd), 0);
}

static void expect_audit_ok(int port, long long min_entries)
{
    http_resp r;
    http_get(port, "/api/v1/audit/verify", &r);
    http_expect_status(&r, 200, "audit verify");
    json_t *doc = http_json(&r);
    if (!json_is_true(json_object_get(doc, "ok")))
        fail_msg("audit chain broken: %s", r.body);
    assert_true(json_integer_value(json_object_get(doc, "entries")) >= min_entries);
    json_decref(doc);
    http_resp_free(&r);
}

/* ---- acknowledged means stored ------------------------------------------------ */

static int take_row(void *user, int n, const char *const *vals, const size_t *lens)
{
    (void)lens;
    char *out = user;
    out[0] = '\0';
    for (int i = 0; i < n; i++) {
        strncat(out, vals[i] ? vals[i] : "NULL", 60);
        strcat(out, "|");
    }
    return 1;
}

/* A portfolio run is a goliath decision and a row of the seed's
 * portfolio_optimization table, written together. */
static void portfolio_is_stored(int port, const char *db)
{
    const char *body =
        "{\"assets\": [\"A\", \"B\"], \"expected_returns\": [0.08, 0.12], "
        "\"cov_matrix\": [[0.04, 0.01], [0.01, 0.09]], \"objective\": \"efficient_return\", "
        "\"target_return\": 0.1, \"risk_tolerance\": \"low\"}";
    http_resp r;
    char id[64], path[128], row[512];
    http_post_json(port, "/api/v1/goliath/portfolio-optimization", NULL, body, &r);
    http_expect_status(&r, 200, "portfolio");
    assert_non_null(http_header(&r, "X-Job-Id", id, sizeof id));
    http_resp_free(&r);
    snprintf(path, sizeof path, "/api/v1/decisions/%s", id);
    http_get(port, path, &r);
    http_expect_status(&r, 200, "stored portfolio decision");
    json_t *d = http_json(&r);
    assert_string_equal(json_string_value(json_object_get(d, "unit")), "goliath");
    assert_string_equal(json_string_value(json_object_get(d, "kind")), "portfolio-optimization");
    json_decref(d);
    http_resp_free(&r);
    nq_store *s;
    nq_err err;
    assert_int_equal(nq_store_open(db, 0, &s, &err), NQ_OK);
    const char *p[1] = {id};
    row[0] = '\0';
    assert_int_equal(nq__exec1(s,
                               "SELECT risk_tolerance, target_return, expected_return, "
                               "quantum_optimized FROM portfolio_optimization WHERE decision_id = $1",
                               1, p, take_row, row, NULL, &err),
                     NQ_OK);
    nq_store_close(s);
    /* low | 0.1 | 0.1 (the target binds: mu'w = 0.1) | not the annealing engine */
    assert_true(!strncmp(row, "low|0.1|0.1", 11) || !strncmp(row, "low|0.10", 8));
    assert_true(strstr(row, "|0|") != NULL || strstr(row, "|f|") != NULL ||
                strstr(row, "|false|") != NULL);
}

/* A site schedule is a flyfox decision and a row of energy_optimization:
 * the objective, the saving and the saving as a fraction. */
static void energy_is_stored(int port, const char *db)
{
    const char *body = "{\"dt_h\": 1, \"load_w\": [1000, 1000], \"price_import\": [0.1, 0.3], "
                       "\"battery\": {\"capacity_wh\": 1000, \"charge_max_w\": 1000, "
                       "\"discharge_max_w\": 1000, \"eta_charge\": 1, \"eta_discharge\": 1, "
                       "\"soc_min\": 0, \"soc_max\": 1, \"soc_initial\": 0, \"soc_final\": 0}}";
    http_resp r;
    char id[64], row[512];
    http_post_json(port, "/api/v1/flyfox/energy-optimization", NULL, body, &r);
    http_expect_status(&r, 200, "energy");
    assert_non_null(http_header(&r, "X-Job-Id", id, sizeof id));
    http_resp_free(&r);
    nq_store *s;
    nq_err err;
    assert_int_equal(nq_store_open(db, 0, &s, &err), NQ_OK);
    const char *p[1] = {id};
    row[0] = '\0';
    assert_int_equal(nq__exec1(s,
                               "SELECT optimization_target, cost_savings, efficiency_gain FROM "
                               "energy_optimization WHERE decision_id = $1",
                               1, p, take_row, row, NULL, &err),
                     NQ_OK);
    nq_store_close(s);
    /* Naive: 0.1 + 0.3 = 0.4 EUR; best: 2 kWh at 0.1 = 0.2 EUR: saving 0.2, half. */
    char *bar = strchr(row, '|');
    assert_non_null(bar);
    assert_true(!strncmp(row, "profit|", 7));
    assert_true(fabs(strtod(bar + 1, NULL) - 0.2) < 1e-9);
    assert_true(fabs(strtod(strchr(bar + 1, '|') + 1, NULL) - 0.5) < 1e-9);
}

/* Two stored assessments: the later one's printable report, and what
 * changed since the earlier one. */
static void post_assessment(int port, int maturity, char id[64])
{
    char body[512];
    snprintf(body, sizeof body,
             "{\"framework\": \"nist-csf-2.0\", \"as_of\": \"2025-06-30\", \"answers\": "
             "[{\"control\": \"GV.OC-01\", \"status\": \"implemented\", \"maturity\": %d}]}",
             maturity);
    http_resp r;
    http_post_json(port, "/api/v1/nqba/business-assessment", NULL, body, &r);
    http_expect_status(&r, 200, "assessment");
    assert_non_null(http_header(&r, "X-Job-Id", id, 64));
    http_resp_free(&r);
}

static void assessments_are_stored(int port)
{
    char first[64], second[64], path[256], csp[160];
    post_assessment(port, 2, first);
    post_assessment(port, 4, second);
    http_resp r;
    snprintf(path, sizeof path, "/api/v1/nqba/business-assessment/%s/report", second);
    http_get(port, path, &r);
    http_expect_status(&r, 200, "report");
    assert_non_null(strstr(r.body, "<html"));
    assert_null(strstr(r.body, "<script"));
    assert_non_null(http_header(&r, "Content-Security-Policy", csp, sizeof csp));
    assert_non_null(strstr(csp, "default-src 'none'"));
    http_resp_free(&r);
    snprintf(path, sizeof path, "/api/v1/nqba/business-assessment/%s/diff?against=%s", second,
             first);
    http_get(port, path, &r);
    http_expect_status(&r, 200, "diff");
    json_t *d = http_json(&r);
    const json_t *avg =
        json_object_get(json_object_get(json_object_get(d, "scores"), "overall"), "avg_score");
    assert_true(fabs(json_number_value(json_object_get(avg, "before")) - 2.0) < 1e-9);
    assert_true(fabs(json_number_value(json_object_get(avg, "after")) - 4.0) < 1e-9);
    json_decref(d);
    http_resp_free(&r);
    /* A decision that is not an assessment has no report. */
    snprintf(path, sizeof path, "/api/v1/nqba/business-assessment/%s/report", "nope");
    http_get(port, path, &r);
    http_expect_status(&r, 404, "no such assessment");
    http_resp_free(&r);
}

/* Sigma: train on a small table, list and read the model, score leads with
 * personal columns: the answer and the stored request never show them,
 * the leads table holds them sealed. */
static const char SIGMA_DATA[] =
    "age,channel,visits,y\n"
    "25,web,1,no\n31,web,3,no\n45,phone,7,yes\n52,phone,9,yes\n38,web,2,no\n"
    "29,email,1,no\n61,phone,8,yes\n47,email,6,yes\n33,web,2,no\n40,phone,5,yes\n"
    "27,web,1,no\n55,email,7,yes\n36,web,3,no\n48,phone,6,no\n44,email,8,yes\n"
    "30,web,2,yes\n58,phone,9,yes\n26,email,1,no\n50,web,4,no\n42,phone,7,yes\n";

static void sigma_flow(int port)
{
    json_t *body = json_pack("{s:s, s:s, s:s, s:s, s:{s:s}}", "name", "web-leads", "data_csv",
                             SIGMA_DATA, "outcome", "y", "positive", "yes", "split", "method",
                             "mod5");
    char *text = json_dumps(body, JSON_COMPACT), id[64], path[160];
    json_decref(body);
    http_resp r;
    http_post_json(port, "/api/v1/sigma/models", NULL, text, &r);
    free(text);
    http_expect_status(&r, 200, "train");
    json_t *ans = http_json(&r);
    assert_int_equal(json_integer_value(json_object_get(ans, "test_rows")), 4);
    assert_non_null(json_object_get(json_object_get(ans, "metrics"), "test"));
    json_decref(ans);
    http_resp_free(&r);
    http_get(port, "/api/v1/sigma/models", &r);
    http_expect_status(&r, 200, "models");
    assert_non_null(strstr(r.body, "\"web-leads\""));
    http_resp_free(&r);
    http_get(port, "/api/v1/sigma/models/web-leads", &r);
    http_expect_status(&r, 200, "model");
    assert_non_null(strstr(r.body, "\"metrics\""));
    http_resp_free(&r);
    const char *leads =
        "{\"model\": \"web-leads\", \"id_column\": \"ref\", \"personal\": [\"name\", \"email\"], "
        "\"leads_csv\": \"ref,name,email,age,channel,visits\\nA1,Ann Example,ann@example.org,41,phone,8\\n"
        "A2,Bob Example,bob@example.org,23,web,1\\n\"}";
    http_post_json(port, "/api/v1/sigma/lead-scoring", NULL, leads, &r);
    http_expect_status(&r, 200, "score");
    assert_null(strstr(r.body, "example.org"));
    assert_null(strstr(r.body, "Ann Example"));
    ans = http_json(&r);
    const json_t *l = json_object_get(ans, "leads");
    assert_int_equal(json_array_size(l), 2);
    double p1 = json_number_value(json_object_get(json_array_get(l, 0), "probability")),
           p2 = json_number_value(json_object_get(json_array_get(l, 1), "probability"));
    assert_true(p1 > p2); /* many visits by phone against one web visit */
    assert_string_equal(json_string_value(json_object_get(json_array_get(l, 0), "id")), "A1");
    json_decref(ans);
    assert_non_null(http_header(&r, "X-Job-Id", id, sizeof id));
    http_resp_free(&r);
    snprintf(path, sizeof path, "/api/v1/decisions/%s", id);
    http_get(port, path, &r);
    http_expect_status(&r, 200, "stored scoring");
    assert_null(strstr(r.body, "example.org"));
    assert_null(strstr(r.body, "Ann Example"));
    http_resp_free(&r);
    /* A feature the model needs is missing: 422 naming the column. */
    http_post_json(port, "/api/v1/sigma/lead-scoring", NULL,
                   "{\"model\": \"web-leads\", \"leads_csv\": \"age,channel\\n30,web\\n\"}", &r);
    http_expect_status(&r, 422, "missing feature");
    assert_non_null(strstr(r.body, "visits"));
    http_resp_free(&r);
}

static void acknowledged_is_stored(const char *db)
{
    http_server s;
    /* Training and assessments can outlast the default 100 ms under a
     * sanitizer: a generous budget keeps every answer synchronous here. */
    const char *opts[] = {"--db", db, "--sync-budget-ms", "10000", NULL};
    http_server_start(&s, opts);
    char body[1024], id[64], path[128];
    decision_body(7, body, sizeof body);
    http_resp r;
    http_post_json(s.port, DECIDE, NULL, body, &r);
    http_expect_status(&r, 200, "decision");
    assert_non_null(http_header(&r, "X-Job-Id", id, sizeof id));
    json_t *answer = http_json(&r);
    http_resp_free(&r);
    snprintf(path, sizeof path, "/api/v1/decisions/%s", id);
    http_get(s.port, path, &r);
    http_expect_status(&r, 200, "stored decision");
    json_t *d = http_json(&r), *posted = json_loads(body, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(d, "unit")), "nqba");
    assert_string_equal(json_string_value(json_object_get(d, "status")), "succeeded");
    assert_true(json_equal(json_object_get(d, "request"), posted));
    assert_true(json_equal(json_object_get(d, "result"), answer));
    /* Exact enumeration answered: not the annealing engine. */
    assert_true(json_is_false(json_object_get(d, "quantum_enhanced")));
    json_decref(d);
    json_decref(posted);
    json_decref(answer);
    http_resp_free(&r);
    /* The constrained tabu search is the annealing engine's. */
    char *at = strstr(body, "\"exact\"");
    assert_non_null(at);
    memmove(at + 8, at + 7, strlen(at + 7) + 1);
    memcpy(at, "\"native\"", 8);
    http_post_json(s.port, DECIDE, NULL, body, &r);
    http_expect_status(&r, 200, "decision by the native search");
    assert_non_null(http_header(&r, "X-Job-Id", id, sizeof id));
    http_resp_free(&r);
    snprintf(path, sizeof path, "/api/v1/decisions/%s", id);
    http_get(s.port, path, &r);
    http_expect_status(&r, 200, "stored decision");
    d = http_json(&r);
    assert_true(json_is_true(json_object_get(d, "quantum_enhanced")));
    json_decref(d);
    http_resp_free(&r);
    portfolio_is_stored(s.port, db);
    energy_is_stored(s.port, db);
    assessments_are_stored(s.port);
    sigma_flow(s.port);
    expect_audit_ok(s.port, 10);
    int status = http_server_stop(&s, 10);
    if (status != 0) { /* a sanitizer's report says why */
        char *e = http_server_stderr(&s);
        print_message("server exit %d:\n%s\n", status, e ? e : "");
        free(e);
    }
    assert_int_equal(status, 0);
    http_server_cleanup(&s);
}

static void test_stored_sqlite(void **state)
{
    (void)state;
    char dir[64], db[128];
    db_dir(dir, db);
    acknowledged_is_stored(db);
    rm_dir(dir);
}

static void test_stored_pg(void **state)
{
    (void)state;
    char url[768];
    pg_url("stored", url, sizeof url);
    if (!url[0])
        skip();
    acknowledged_is_stored(url);
}

/* ---- kill -9 under load ---------------------------------------------------------- */

#define LOADERS 4
#define MAX_ACKED 20000

typedef struct loader {
    int port;
    unsigned seed0;
    volatile int *stop;
    char (*acked)[33];
    int n_acked;
} loader;

static void *load(void *arg)
{
    loader *l = arg;
    char body[1024], id[64];
    for (unsigned k = 0; !*l->stop && l->n_acked < MAX_ACKED / LOADERS; k++) {
        decision_body(l->seed0 + k, body, sizeof body);
        http_resp r;
        char h[] = "Content-Type: application/json\r\n";
        if (http_try_for(l->port, "POST", DECIDE, h, body, strlen(body), 5.0, &r) == 0 &&
            r.status == 200 && http_header(&r, "X-Job-Id", id, sizeof id) && strlen(id) == 32)
            memcpy(l->acked[l->n_acked++], id, 33);
        http_resp_free(&r);
    }
    return NULL;
}

static void crash_loses_nothing(const char *db)
{
    http_server s;
    const char *opts[] = {"--db", db, NULL};
    http_server_start(&s, opts);
    static char acked[LOADERS][MAX_ACKED / LOADERS][33];
    loader ls[LOADERS];
    pthread_t th[LOADERS];
    volatile int stop = 0;
    for (int i = 0; i < LOADERS; i++) {
        ls[i] = (loader){s.port, 1000000u * (unsigned)(i + 1), &stop, acked[i], 0};
        assert_int_equal(pthread_create(&th[i], NULL, load, &ls[i]), 0);
    }
    http_sleep(1.0);
    kill(s.pid, SIGKILL); /* mid-flight: requests are running */
    waitpid(s.pid, NULL, 0);
    s.pid = 0;
    stop = 1;
    int total = 0;
    for (int i = 0; i < LOADERS; i++) {
        pthread_join(th[i], NULL);
        total += ls[i].n_acked;
    }
    print_message("%d decisions acknowledged before kill -9\n", total);
    assert_true(total > 0);
    http_server_cleanup(&s);

    http_server_start(&s, opts);
    char path[128];
    for (int i = 0; i < LOADERS; i++)
        for (int k = 0; k < ls[i].n_acked; k++) {
            snprintf(path, sizeof path, "/api/v1/decisions/%s", acked[i][k]);
            http_resp r;
            http_get(s.port, path, &r);
            if (r.status != 200)
                fail_msg("acknowledged decision %s is not stored (status %d)", acked[i][k],
                         r.status);
            http_resp_free(&r);
        }
    expect_audit_ok(s.port, total);
    assert_int_equal(http_server_stop(&s, 10), 0);
    http_server_cleanup(&s);
}

static void test_crash_sqlite(void **state)
{
    (void)state;
    char dir[64], db[128];
    db_dir(dir, db);
    crash_loses_nothing(db);
    rm_dir(dir);
}

static void test_crash_pg(void **state)
{
    (void)state;
    char url[768];
    pg_url("crash", url, sizeof url);
    if (!url[0])
        skip();
    crash_loses_nothing(url);
}

/* ---- a database that turns read-only ----------------------------------------------- */

static long long count_decisions(int port)
{
    http_resp r;
    http_get(port, "/api/v1/decisions?limit=500", &r);
    http_expect_status(&r, 200, "list decisions");
    json_t *doc = http_json(&r);
    long long n = (long long)json_array_size(json_object_get(doc, "items"));
    json_decref(doc);
    http_resp_free(&r);
    return n;
}

/* PostgreSQL: new sessions of the role are read-only, and the server's
 * open sessions are ended, so its pool reconnects into read-only ones. */
static void test_read_only_pg(void **state)
{
    (void)state;
    char url[768];
    pg_url("ro", url, sizeof url);
    if (!url[0])
        skip();
    http_server s;
    const char *opts[] = {"--db", url, NULL};
    http_server_start(&s, opts);
    char body[1024];
    decision_body(1, body, sizeof body);
    http_resp r;
    http_post_json(s.port, DECIDE, NULL, body, &r);
    http_expect_status(&r, 200, "decision before");
    http_resp_free(&r);
    long long before = count_decisions(s.port);
    psql("ALTER ROLE nqba SET default_transaction_read_only = on");
    psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
         "WHERE pid <> pg_backend_pid() AND usename = current_user AND application_name = 'nqba'");
    decision_body(2, body, sizeof body);
    int status = 0;
    /* A pooled connection may have to fail once before the pool reopens. */
    for (int attempt = 0; attempt < 3 && status != 503; attempt++) {
        http_post_json(s.port, DECIDE, NULL, body, &r);
        status = r.status;
        if (status == 503) {
            assert_non_null(strstr(r.body, "\"status\":503"));
            char ct[128];
            assert_non_null(http_header(&r, "Content-Type", ct, sizeof ct));
            assert_non_null(strstr(ct, "application/problem+json"));
        }
        http_resp_free(&r);
    }
    psql("ALTER ROLE nqba RESET default_transaction_read_only");
    assert_int_equal(status, 503);
    psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
         "WHERE pid <> pg_backend_pid() AND usename = current_user AND application_name = 'nqba'");
    /* Nothing half-written: the refused decision is not there, and the
     * audit chain is whole. Reads may need a reconnect too. */
    long long after = -1;
    for (int attempt = 0; attempt < 3 && after < 0; attempt++) {
        http_try(s.port, "GET", "/api/v1/decisions?limit=500", NULL, NULL, 0, &r);
        if (r.status == 200) {
            json_t *doc = http_json(&r);
            after = (long long)json_array_size(json_object_get(doc, "items"));
            json_decref(doc);
        }
        http_resp_free(&r);
    }
    assert_int_equal(after, before);
    expect_audit_ok(s.port, before);
    assert_int_equal(http_server_stop(&s, 10), 0);
    http_server_cleanup(&s);
}

/* ---- bad databases at start ------------------------------------------------------------ */

static void expect_start_failure(const char *db, const char *needle)
{
    char dir[] = "/tmp/nqba-bad-XXXXXX", cmd[1024], out[4096] = "";
    assert_non_null(mkdtemp(dir));
    snprintf(cmd, sizeof cmd, "'%s' serve --listen 127.0.0.1:0 --db '%s' 2>'%s/err' >/dev/null",
             getenv("NQ_BIN"), db, dir);
    int rc = system(cmd);
    char path[128];
    snprintf(path, sizeof path, "%s/err", dir);
    size_t n = 0;
    char *err = http_slurp(path, &n);
    snprintf(out, sizeof out, "%s", err ? err : "");
    free(err);
    rm_dir(dir);
    if (rc == 0 || !strstr(out, needle))
        fail_msg("--db %s: exit %d, stderr: %s (wanted \"%s\")", db, rc, out, needle);
}

static void test_bad_databases(void **state)
{
    (void)state;
    expect_start_failure("mysql://localhost/x", "unknown database scheme");
    expect_start_failure("/nonexistent-dir/sub/nqba.db", "/nonexistent-dir/sub/nqba.db");
    expect_start_failure("postgresql://nqba:secret@127.0.0.1:1/none?connect_timeout=2",
                         "127.0.0.1");
    expect_start_failure("postgresql://[bad", "db");
}

/* The password in a URL never reaches the logs. */
static void test_no_password_in_errors(void **state)
{
    (void)state;
    char dir[] = "/tmp/nqba-pw-XXXXXX", cmd[1024];
    assert_non_null(mkdtemp(dir));
    snprintf(cmd, sizeof cmd,
             "'%s' serve --listen 127.0.0.1:0 --db 'postgresql://nqba:hunter2@127.0.0.1:1/x' "
             ">'%s/out' 2>&1",
             getenv("NQ_BIN"), dir);
    assert_int_not_equal(system(cmd), 0);
    char path[128];
    snprintf(path, sizeof path, "%s/out", dir);
    size_t n = 0;
    char *out = http_slurp(path, &n);
    assert_non_null(out);
    assert_null(strstr(out, "hunter2"));
    free(out);
    rm_dir(dir);
}

/* ---- the shared cache (Redis) ------------------------------------------------------------ */

/* A port nobody listens on now (bound and released: the kernel's pick). */
static int spare_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sa;
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    close(fd);
    return ntohs(sa.sin_port);
}

static pid_t start_redis(int port)
{
    char p[16];
    snprintf(p, sizeof p, "%d", port);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        dup2(null, 2);
        execlp("redis-server", "redis-server", "--port", p, "--bind", "127.0.0.1", "--save", "",
               "--appendonly", "no", (char *)NULL);
        _exit(127);
    }
    for (double t0 = http_now(); http_now() - t0 < 10; http_sleep(0.02)) {
        int fd = http_connect(port);
        if (fd >= 0) {
            close(fd);
            return pid;
        }
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    fail_msg("redis-server did not start on port %d", port);
    return -1;
}

static double metric(int port, const char *name)
{
    http_resp r;
    http_get(port, "/metrics", &r);
    double v = -1;
    size_t n = strlen(name);
    for (const char *p = r.body; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        if (!strncmp(p, name, n) && p[n] == ' ')
            v = strtod(p + n + 1, NULL);
    http_resp_free(&r);
    return v;
}

static json_t *post_decision(int port, unsigned seed, char cache[16])
{
    char body[1024];
    decision_body(seed, body, sizeof body);
    http_resp r;
    http_post_json(port, DECIDE, NULL, body, &r);
    http_expect_status(&r, 200, "decision");
    if (!http_header(&r, "X-Cache", cache, 16))
        snprintf(cache, 16, "none");
    json_t *doc = http_json(&r);
    http_resp_free(&r);
    return doc;
}

/* Two nodes share answers through Redis; Redis going away costs nothing
 * but the sharing. */
static void test_shared_cache_and_outage(void **state)
{
    (void)state;
    int port = spare_port();
    pid_t redis = start_redis(port);
    char url[64], dir_a[64], db_a[128], dir_b[64], db_b[128], cache[16];
    snprintf(url, sizeof url, "redis://127.0.0.1:%d", port);
    db_dir(dir_a, db_a);
    db_dir(dir_b, db_b);
    http_server a, b;
    const char *opts_a[] = {"--db", db_a, "--redis", url, NULL};
    const char *opts_b[] = {"--db", db_b, "--redis", url, NULL};
    http_server_start(&a, opts_a);
    http_server_start(&b, opts_b);

    json_t *first = post_decision(a.port, 11, cache);
    assert_string_equal(cache, "miss");
    json_t *again = post_decision(b.port, 11, cache); /* the other node */
    assert_string_equal(cache, "hit");
    assert_true(json_equal(first, again));
    assert_true(metric(b.port, "nqba_shared_cache_hits_total") >= 1);
    assert_true(metric(b.port, "nqba_shared_cache_up") == 1);
    json_decref(first);
    json_decref(again);

    kill(redis, SIGKILL);
    waitpid(redis, NULL, 0);
    for (unsigned seed = 20; seed < 25; seed++) {
        json_decref(post_decision(a.port, seed, cache));
        assert_string_equal(cache, "miss");
        json_decref(post_decision(b.port, seed, cache)); /* not shared now: runs again */
        assert_string_equal(cache, "miss");
    }
    assert_true(metric(a.port, "nqba_shared_cache_errors_total") >= 1);
    assert_true(metric(a.port, "nqba_shared_cache_up") == 0);
    expect_audit_ok(a.port, 6);
    assert_int_equal(http_server_stop(&a, 10), 0);
    assert_int_equal(http_server_stop(&b, 10), 0);
    char *err = http_server_stderr(&a);
    assert_non_null(strstr(err, "shared cache unreachable"));
    free(err);
    http_server_cleanup(&a);
    http_server_cleanup(&b);
    rm_dir(dir_a);
    rm_dir(dir_b);
}

/* count_limited: of n requests to port, how many were refused with 429. */
static int count_limited(int port, int n)
{
    int limited = 0;
    for (int i = 0; i < n; i++) {
        http_resp r;
        http_get(port, "/api/v1/nqba/models/none", &r);
        if (r.status == 429)
            limited++;
        else
            http_expect_status(&r, 404, "an allowed request");
        http_resp_free(&r);
    }
    return limited;
}

/* With --redis the rate-limit buckets are shared: what one node lets
 * through, the other counts. Without Redis each node decides alone. */
static void test_shared_rate_limits(void **state)
{
    (void)state;
    int port = spare_port();
    pid_t redis = start_redis(port);
    char url[64], dir_a[64], db_a[128], dir_b[64], db_b[128];
    snprintf(url, sizeof url, "redis://127.0.0.1:%d", port);
    db_dir(dir_a, db_a);
    db_dir(dir_b, db_b);
    http_server a, b;
    /* 2 per second with a burst of 4, for the address both nodes see. */
    const char *opts_a[] = {"--db", db_a, "--redis", url, "--rate-limit-ip", "2", NULL};
    const char *opts_b[] = {"--db", db_b, "--redis", url, "--rate-limit-ip", "2", NULL};
    http_server_start(&a, opts_a);
    http_server_start(&b, opts_b);

    /* a takes the burst; b then finds the bucket (nearly) dry. Per-node
     * buckets would have let all 6 through on b. */
    int on_a = count_limited(a.port, 4);
    int on_b = count_limited(b.port, 6);
    assert_int_equal(on_a, 0);
    assert_true(on_b >= 3);

    /* Redis gone: each node falls back to a bucket of its own (full), so
     * b answers again rather than refuse everyone or let everyone in. */
    kill(redis, SIGKILL);
    waitpid(redis, NULL, 0);
    int after = count_limited(b.port, 8);
    assert_true(after >= 2 && after <= 6);
    assert_int_equal(http_server_stop(&a, 10), 0);
    assert_int_equal(http_server_stop(&b, 10), 0);
    http_server_cleanup(&a);
    http_server_cleanup(&b);
    rm_dir(dir_a);
    rm_dir(dir_b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_databases),
        cmocka_unit_test(test_no_password_in_errors),
        cmocka_unit_test(test_stored_sqlite),
        cmocka_unit_test(test_stored_pg),
        cmocka_unit_test(test_crash_sqlite),
        cmocka_unit_test(test_crash_pg),
        cmocka_unit_test(test_read_only_pg),
        cmocka_unit_test(test_shared_cache_and_outage),
        cmocka_unit_test(test_shared_rate_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
