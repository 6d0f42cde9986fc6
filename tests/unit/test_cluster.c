/* test_cluster.c - many nodes on one PostgreSQL and one Redis, behind
 * HAProxy, all on loopback: two API nodes (`nqba serve --queue shared`),
 * two workers (`nqba worker`), and a bounded load of mixed jobs. Mid-run
 * one worker (while it runs a job) and one API node are killed with
 * SIGKILL. Afterwards every accepted job has ended exactly once in the
 * results: one job row per accepted id (client retries carry an
 * Idempotency-Key), every one succeeded, one decision per job holding the
 * job's own result, the killed worker's job taken over after its lease
 * expired, and the audit chain verifies. Also: events of a job followed
 * on the node that did not queue it, a cancel through the other node,
 * and the metric names the alert rules and dashboard use exist in the
 * nodes' /metrics (tests/deploy/metric_names.py).
 *
 * Needs NQ_TEST_PG_URL (skipped without it, like the other PostgreSQL
 * tests), NQ_TEST_REDIS_URL and haproxy (installed by scripts/deps.sh). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "http_client.h"
#include "store_fixture.h"

#define LOAD_JOBS 96       /* the bounded load */
#define KILL_WORKER_AT 32  /* after this many submits, kill a worker mid-job */
#define KILL_API_AT 56     /* and then an API node */
#define SETTLE_S 120.0     /* every accepted job ends within this */
#define MAX_TRIES 60       /* a submit retried through the proxy (same key) */

typedef struct cluster {
    backend db;
    char redis[256];
    http_server api[2], wrk[2];
    pid_t proxy;
    int proxy_port;
    nq_store *store; /* the test's own connection, for its checks */
    char dir[HTTP_PATH_LEN / 2];
} cluster;

static cluster g;

/* ---- plumbing ---- */

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t n = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) || getsockname(fd, (struct sockaddr *)&a, &n))
        fail_msg("no free port: %s", strerror(errno));
    close(fd);
    return ntohs(a.sin_port);
}

/* One integer from a query, through psql-free means: the driver. */
static int take_first(void *user, int n, const char *const *vals, const size_t *lens)
{
    (void)lens;
    long long *out = user;
    *out = n > 0 && vals[0] ? atoll(vals[0]) : -1;
    return 1;
}

/* On the test's own connection to the cluster's database. */
static long long query_int(const char *sql)
{
    nq_err err;
    if (!g.store && nq_store_open(g.db.url, 1, &g.store, &err))
        fail_msg("open: %s", err.msg);
    nq__db *db;
    assert_int_equal(nq__get(g.store, &db, &err), 0);
    long long v = -1;
    int rc = g.store->drv->exec(db, sql, 0, NULL, take_first, &v, NULL, &err);
    nq__put(g.store, db, rc != 0);
    if (rc)
        fail_msg("%s: %s", sql, err.msg);
    return v;
}

static void start_proxy(void)
{
    char cfg[HTTP_PATH_LEN];
    snprintf(cfg, sizeof cfg, "%s/haproxy.cfg", g.dir);
    FILE *f = fopen(cfg, "w");
    assert_non_null(f);
    g.proxy_port = free_port();
    fprintf(f,
            "global\n  maxconn 2048\n"
            "defaults\n  mode http\n  timeout connect 2s\n  timeout client 60s\n"
            "  timeout server 60s\n  retries 0\n"
            "frontend api\n  bind 127.0.0.1:%d\n  default_backend nodes\n"
            "backend nodes\n  balance roundrobin\n  option httpchk GET /readyz\n"
            "  server a 127.0.0.1:%d check inter 200ms fall 2 rise 1\n"
            "  server b 127.0.0.1:%d check inter 200ms fall 2 rise 1\n",
            g.proxy_port, g.api[0].port, g.api[1].port);
    fclose(f);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        char log[HTTP_PATH_LEN];
        snprintf(log, sizeof log, "%s/haproxy.log", g.dir);
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execlp("haproxy", "haproxy", "-db", "-f", cfg, (char *)NULL);
        _exit(127);
    }
    g.proxy = pid;
    http_key_set(g.proxy_port, g.api[0].key);
    http_resp r;
    for (double t0 = http_now(); http_now() - t0 < 10; http_sleep(0.05)) {
        if (http_try_for(g.proxy_port, "GET", "/healthz", NULL, NULL, 0, 2, &r) == 0 &&
            r.status == 200) {
            http_resp_free(&r);
            return;
        }
        http_resp_free(&r);
        int ws;
        if (waitpid(pid, &ws, WNOHANG) == pid)
            fail_msg("haproxy exited (is it installed? scripts/deps.sh installs it)");
    }
    fail_msg("haproxy did not answer on port %d", g.proxy_port);
}

static int setup(void **state)
{
    (void)state;
    memset(&g, 0, sizeof g);
    int rc = fresh("postgresql", &g.db);
    if (rc == 1)
        return 0; /* no PostgreSQL: the tests skip */
    assert_int_equal(rc, 0);
    const char *redis = getenv("NQ_TEST_REDIS_URL");
    snprintf(g.redis, sizeof g.redis, "%s", redis ? redis : "");
    snprintf(g.dir, sizeof g.dir, "/tmp/nqba-cluster-XXXXXX");
    assert_non_null(mkdtemp(g.dir));
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "'%s' migrate --db '%s' >/dev/null", getenv("NQ_BIN"), g.db.url);
    assert_int_equal(system(cmd), 0);
    const char *api[] = {"--db", g.db.url, "--queue", "shared", "--audit-check", "1",
                         g.redis[0] ? "--redis" : NULL, g.redis, NULL};
    const char *wrk[] = {"--db", g.db.url, "--workers", "2", "--lease", "2", "--audit-check",
                         "1", NULL};
    for (int i = 0; i < 2; i++) {
        http_server_start_cmd(&g.api[i], "serve", api);
        http_server_start_cmd(&g.wrk[i], "worker", wrk);
    }
    /* One key for the proxy: both API nodes read keys from the one database. */
    http_key_set(g.api[1].port, g.api[0].key);
    start_proxy();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    if (g.proxy > 0) {
        kill(g.proxy, SIGKILL);
        waitpid(g.proxy, NULL, 0);
    }
    for (int i = 0; i < 2; i++) {
        http_server_stop(&g.api[i], 15);
        http_server_stop(&g.wrk[i], 15);
        http_server_cleanup(&g.api[i]);
        http_server_cleanup(&g.wrk[i]);
    }
    nq_store_close(g.store);
    g.store = NULL;
    if (g.dir[0]) {
        char cmd[HTTP_PATH_LEN];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", g.dir);
        (void)system(cmd);
    }
    return 0;
}

#define SKIP_WITHOUT_PG()                                                                          \
    do {                                                                                           \
        if (!g.db.url[0])                                                                          \
            skip();                                                                                \
    } while (0)

/* ---- the load ---- */

/* Mixed kinds; the solve with a seed of its own is the slow one (about a
 * second of annealing) that a killed worker is caught running. */
static char *job_body(int i, const char **path)
{
    json_t *d = NULL;
    switch (i % 4) {
    case 0:
        *path = "/api/v1/solve";
        d = json_pack("{s:{s:s,s:{s:i,s:i,s:i},s:[[s,s,i],[s,s,i]]},s:{s:s,s:i,s:f,s:i}}",
                                 "model", "type", "qubo", "linear", "a", -1 - i, "b", -2, "c", -3,
                                 "quadratic", "a", "b", 3, "b", "c", 2, "options", "solver", "sa",
                                 "seed", i, "time_limit", i % 8 == 0 ? 1.0 : 0.05, "reads",
                                 i % 8 == 0 ? 1000000 : 8);
        break;
    case 1:
        *path = "/api/v1/goliath/portfolio-optimization";
        d = json_pack("{s:[s,s,s],s:[f,f,f],s:[[f,f,f],[f,f,f],[f,f,f]],s:s}", "assets",
                                 "A", "B", "C", "expected_returns", 0.10 + i * 1e-4, 0.12, 0.08,
                                 "cov_matrix", 0.04, 0.006, 0.002, 0.006, 0.09, 0.01, 0.002, 0.01,
                                 0.0225, "objective", "min_volatility");
        break;
    case 2:
        *path = "/api/v1/flyfox/energy-optimization";
        d = json_pack("{s:i,s:[i,i,i,i],s:[f,f,f,f],s:{s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:i}}",
                                 "dt_h", 1, "load_w", 1000 + i, 1000, 1000, 1000, "price_import", 0.1,
                                 0.1, 0.3, 0.3, "battery", "capacity_wh", 2000, "charge_max_w",
                                 1000, "discharge_max_w", 1000, "eta_charge", 1, "eta_discharge",
                                 1, "soc_min", 0, "soc_max", 1, "soc_initial", 0, "soc_final", 0);
        break;
    default:
        *path = "/api/v1/solve";
        d = json_pack("{s:{s:{s:i,s:i},s:[[s,s,i]]},s:{s:s}}", "model", "linear", "x",
                                 -1 - i, "y", -1, "quadratic", "x", "y", 3, "options", "solver",
                                 "exact");
    }
    char *b = d ? json_dumps(d, JSON_COMPACT) : NULL;
    json_decref(d);
    assert_non_null(b);
    return b;
}

/* The job id of an accepted submit (200 or 202), else "". */
static void job_id_of(const http_resp *r, char id[33])
{
    id[0] = '\0';
    char v[64];
    if ((r->status == 200 || r->status == 202) && http_header(r, "X-Job-Id", v, sizeof v) &&
        strlen(v) == 32)
        memcpy(id, v, 33);
}

/* Submit through the proxy, retrying (same Idempotency-Key) while the
 * answer is not an acceptance: a node may die under the request. */
static int submit(int i, char id[33])
{
    const char *path;
    char *body = job_body(i, &path);
    char h[256];
    snprintf(h, sizeof h, "Content-Type: application/json\r\nIdempotency-Key: load-%d\r\n%s", i,
             i % 2 ? "Prefer: respond-async\r\n" : "");
    int tries = 0;
    for (; tries < MAX_TRIES; tries++) {
        http_resp r;
        http_try_for(g.proxy_port, "POST", path, h, body, strlen(body), 30, &r);
        job_id_of(&r, id);
        if (id[0] == '\0' && r.status >= 400 && r.status < 500)
            fail_msg("job %d refused: %d %s", i, r.status, r.body ? r.body : "");
        http_resp_free(&r);
        if (id[0])
            break;
        http_sleep(0.2);
    }
    free(body);
    return tries;
}

static pid_t worker_with_running_job(double timeout)
{
    char sql[256];
    for (double t0 = http_now(); http_now() - t0 < timeout; http_sleep(0.02))
        for (int w = 0; w < 2; w++) {
            snprintf(sql, sizeof sql,
                     "SELECT count(*) FROM jobs WHERE state = 'running' AND node LIKE '%%:%d'",
                     (int)g.wrk[w].pid);
            if (query_int(sql) > 0)
                return (pid_t)w;
        }
    return -1;
}

static const char *job_state(int port, const char *id, char *out, size_t cap)
{
    char path[96];
    snprintf(path, sizeof path, "/api/v1/jobs/%s", id);
    http_resp r;
    out[0] = '\0';
    if (http_try_for(port, "GET", path, NULL, NULL, 0, 10, &r) == 0 && r.status == 200) {
        json_t *j = http_json(&r);
        snprintf(out, cap, "%s", json_string_value(json_object_get(j, "state")) ?: "");
        json_decref(j);
    }
    http_resp_free(&r);
    return out;
}

static void save_metrics(int port, const char *name, char *path_out)
{
    http_resp r;
    http_get(port, "/metrics", &r);
    http_expect_status(&r, 200, "GET /metrics");
    snprintf(path_out, HTTP_PATH_LEN, "%s/%s", g.dir, name);
    FILE *f = fopen(path_out, "w");
    assert_non_null(f);
    fwrite(r.body, 1, r.body_len, f);
    fclose(f);
    http_resp_free(&r);
}

static double metric_value(int port, const char *name)
{
    http_resp r;
    http_get(port, "/metrics", &r);
    double v = -1;
    char key[128];
    snprintf(key, sizeof key, "\n%s ", name);
    const char *p = r.body ? strstr(r.body, key) : NULL;
    if (p)
        v = atof(p + strlen(key));
    http_resp_free(&r);
    return v;
}

/* ---- the tests ---- */

/* A job queued through node A is followed on node B: progress events,
 * then its result; a job queued through A is cancelled through B. */
static void test_events_and_cancel_across_nodes(void **state)
{
    (void)state;
    SKIP_WITHOUT_PG();
    const char *path;
    char *body = job_body(0, &path); /* the slow solve: about a second */
    char h[] = "Content-Type: application/json\r\nPrefer: respond-async\r\n";
    http_resp r;
    http_do(g.api[0].port, "POST", path, h, body, strlen(body), &r);
    http_expect_status(&r, 202, "POST through node A");
    char id[33];
    job_id_of(&r, id);
    http_resp_free(&r);
    http_conn c;
    char ev[128];
    snprintf(ev, sizeof ev, "/api/v1/jobs/%s/events", id);
    assert_int_equal(http_conn_open(&c, g.api[1].port), 0);
    assert_int_equal(http_send(&c, "GET", ev, "Accept: text/event-stream\r\n", NULL, 0), 0);
    if (http_read(&c, "GET", &r, 30) != 0)
        fail_msg("events on node B did not end: %.2000s", r.body ? r.body : "");
    http_conn_close(&c);
    http_expect_status(&r, 200, "GET events on node B");
    int progress = 0;
    for (const char *p = r.body; (p = strstr(p, "event: progress")); p++)
        progress++;
    if (progress < 1 || !strstr(r.body, "event: result"))
        fail_msg("expected progress then a result on node B; stream:\n%.3000s", r.body);
    http_resp_free(&r);

    /* Cancel: a long solve (60 s) queued through A, cancelled through B. */
    json_t *doc = json_loads(body, 0, NULL);
    json_object_set_new(json_object_get(doc, "options"), "time_limit", json_real(60));
    json_object_set_new(json_object_get(doc, "options"), "seed", json_integer(777));
    char *long_body = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    http_do(g.api[0].port, "POST", path, h, long_body, strlen(long_body), &r);
    http_expect_status(&r, 202, "POST the long job");
    job_id_of(&r, id);
    http_resp_free(&r);
    char st[16];
    for (double t0 = http_now(); http_now() - t0 < 20; http_sleep(0.05))
        if (!strcmp(job_state(g.api[1].port, id, st, sizeof st), "running"))
            break;
    assert_string_equal(st, "running");
    char jp[96];
    snprintf(jp, sizeof jp, "/api/v1/jobs/%s", id);
    double t_cancel = http_now();
    http_do(g.api[1].port, "DELETE", jp, NULL, NULL, 0, &r);
    http_expect_status(&r, 200, "DELETE through node B");
    http_resp_free(&r);
    for (double t0 = http_now(); http_now() - t0 < 20; http_sleep(0.05))
        if (!strcmp(job_state(g.api[0].port, id, st, sizeof st), "cancelled"))
            break;
    assert_string_equal(st, "cancelled");
    print_message("cancel seen on node A after %.2f s\n", http_now() - t_cancel);
    free(long_body);
    free(body);
}

static void test_load_with_kills(void **state)
{
    (void)state;
    SKIP_WITHOUT_PG();
    long long before = query_int("SELECT count(*) FROM jobs");
    static char ids[LOAD_JOBS][33];
    int retried = 0, worker_killed = -1;
    for (int i = 0; i < LOAD_JOBS; i++) {
        retried += submit(i, ids[i]) > 0;
        if (i == KILL_WORKER_AT) {
            /* A worker caught running a job: its lease must expire and the
             * other worker take the job over. The slow solves (every 8th
             * job) make sure there is one. */
            char *b;
            const char *p;
            for (int k = 0; k < 4; k++) { /* four more slow ones, unkeyed */
                b = job_body(LOAD_JOBS + 8 * k, &p);
                http_resp r;
                http_post_json(g.proxy_port, p, "Prefer: respond-async\r\n", b, &r);
                free(b);
                http_resp_free(&r);
            }
            worker_killed = (int)worker_with_running_job(20);
            assert_true(worker_killed >= 0);
            kill(g.wrk[worker_killed].pid, SIGKILL);
            waitpid(g.wrk[worker_killed].pid, NULL, 0);
            g.wrk[worker_killed].pid = 0;
        }
        if (i == KILL_API_AT) {
            kill(g.api[0].pid, SIGKILL);
            waitpid(g.api[0].pid, NULL, 0);
            g.api[0].pid = 0;
        }
    }
    print_message("submits retried through the proxy: %d\n", retried);
    /* Everything accepted ends: read through the surviving API node. */
    char st[16];
    int b = g.api[1].port;
    for (int i = 0; i < LOAD_JOBS; i++) {
        for (double t0 = http_now(); http_now() - t0 < SETTLE_S; http_sleep(0.1))
            if (!strcmp(job_state(b, ids[i], st, sizeof st), "succeeded") ||
                !strcmp(st, "failed") || !strcmp(st, "cancelled"))
                break;
        if (strcmp(st, "succeeded") != 0)
            fail_msg("job %d (%s) ended '%s'", i, ids[i], st);
    }
    /* Exactly once in the results: one row per accepted job (plus the 4
     * unkeyed slow ones), one decision per job, the job's own result. */
    long long jobs = query_int("SELECT count(*) FROM jobs") - before;
    assert_int_equal(jobs, LOAD_JOBS + 4);
    for (double t0 = http_now(); http_now() - t0 < SETTLE_S; http_sleep(0.2))
        if (query_int("SELECT count(*) FROM jobs WHERE state IN ('queued', 'running')") == 0)
            break;
    assert_int_equal(query_int("SELECT count(*) FROM jobs WHERE state IN ('queued', 'running')"), 0);
    assert_int_equal(query_int("SELECT count(*) FROM jobs j LEFT JOIN decisions d ON d.id = j.id "
                               "WHERE j.state = 'succeeded' AND d.id IS NULL"),
                     0);
    assert_int_equal(query_int("SELECT count(*) FROM (SELECT id FROM decisions GROUP BY id "
                               "HAVING count(*) > 1) x"),
                     0);
    assert_int_equal(query_int("SELECT count(*) FROM jobs j JOIN decisions d ON d.id = j.id "
                               "WHERE j.state = 'succeeded' AND (d.status <> 'succeeded' OR "
                               "d.result::jsonb <> j.result::jsonb)"),
                     0);
    assert_int_equal(query_int("SELECT count(*) FROM decisions d LEFT JOIN jobs j ON j.id = d.id "
                               "WHERE j.id IS NULL"),
                     0);
    /* The killed worker's job was claimed again after its lease expired. */
    int alive = 1 - worker_killed;
    assert_true(query_int("SELECT count(*) FROM jobs WHERE attempts > 1") >= 1);
    assert_true(metric_value(g.wrk[alive].port, "nqba_worker_lease_expiries_total") >= 1);
    /* The audit chain verifies, through the CLI and the nodes' own check. */
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "'%s' audit verify --db '%s' >/dev/null", getenv("NQ_BIN"),
             g.db.url);
    assert_int_equal(system(cmd), 0);
    http_sleep(1.5); /* one more --audit-check period */
    assert_true(metric_value(b, "nqba_audit_chain_ok") == 1);
    http_sleep(2.5); /* the queue gauge's period */
    assert_true(metric_value(b, "nqba_queue_jobs{state=\"queued\"}") == 0);
    assert_true(metric_value(b, "nqba_queue_jobs{state=\"running\"}") == 0);
}

/* Every metric the alert rules and the dashboard name is served. */
static void test_deploy_metrics_exist(void **state)
{
    (void)state;
    SKIP_WITHOUT_PG();
    char api[HTTP_PATH_LEN], wrk[HTTP_PATH_LEN];
    int w = g.wrk[0].pid ? 0 : 1;
    save_metrics(g.api[1].port, "api.metrics", api);
    save_metrics(g.wrk[w].port, "worker.metrics", wrk);
    char cmd[3 * HTTP_PATH_LEN];
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 '%s/tests/deploy/metric_names.py' '%s' '%s'",
             getenv("NQ_SOURCE_DIR"), api, wrk);
    assert_int_equal(system(cmd), 0);
}

/* SIGTERM: the survivors stop gracefully (exit 0; under the sanitizers
 * also free of leaks and errors). */
static void test_graceful_stop(void **state)
{
    (void)state;
    SKIP_WITHOUT_PG();
    http_server *live[4];
    int n = 0;
    for (int i = 0; i < 2; i++) {
        if (g.api[i].pid)
            live[n++] = &g.api[i];
        if (g.wrk[i].pid)
            live[n++] = &g.wrk[i];
    }
    assert_int_equal(n, 2);
    for (int i = 0; i < n; i++) {
        int st = http_server_stop(live[i], 30);
        if (st != 0)
            fail_msg("a node exited %d; stderr:\n%s", st, http_server_stderr(live[i]));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_events_and_cancel_across_nodes),
        cmocka_unit_test(test_load_with_kills),
        cmocka_unit_test(test_deploy_metrics_exist),
        cmocka_unit_test(test_graceful_stop),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
