/* store.c - decision write latency and throughput of the store under
 * concurrent writers: each writer thread stores decisions (a ~3 KB request
 * and result, plus the audit entry, in one durable transaction) back to
 * back, and every write's latency is recorded.
 *
 * Usage: bench_store --db URL [--db URL ...] [--clients 64 ...] [--seconds 5]
 *        [--rounds 3] [--out FILE.md]
 * A URL is a SQLite path or a postgresql:// URL; the database is migrated
 * first. Reports p50, p99, max and decisions per second per database, and
 * checks the audit chain afterwards (a benchmark that corrupts it fails). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_machine.h"
#include "nqba/clock.h"
#include "nqba/store.h"

#define MAX_DBS 4
#define MAX_CLIENTS 256
#define MAX_SAMPLES 200000

typedef struct shared {
    nq_store *s;
    double until;
    atomic_int n;        /* samples taken */
    atomic_int failures; /* writes that returned an error */
    double *lat;
    char request[4096], result[4096];
} shared;

typedef struct client {
    shared *sh;
    int index;
} client;

static void *writer(void *arg)
{
    client *c = arg;
    shared *sh = c->sh;
    for (unsigned k = 0; nq_clock_s() < sh->until; k++) {
        nq_decision_rec d;
        memset(&d, 0, sizeof d);
        snprintf(d.id, sizeof d.id, "%08x%08x%016x", (unsigned)c->index, k,
                 (unsigned)(nq_clock_ns() & 0xffffffffu));
        d.unit = "nqba";
        d.kind = "decision-engine";
        d.request = sh->request;
        d.result = sh->result;
        d.solver = "decision-auto";
        d.status = "succeeded";
        d.latency_s = 0.0005;
        double t0 = nq_clock_s();
        nq_err err;
        int rc = nq_store_put_decision(sh->s, &d, &err);
        double dt = nq_clock_s() - t0;
        if (rc) {
            atomic_fetch_add(&sh->failures, 1);
            continue;
        }
        int i = atomic_fetch_add(&sh->n, 1);
        if (i < MAX_SAMPLES)
            sh->lat[i] = dt;
    }
    return NULL;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Nearest rank. */
static double pct(const double *v, int n, double p)
{
    int k = (int)(p * n + 0.999999) - 1;
    return v[k < 0 ? 0 : k >= n ? n - 1 : k];
}

/* A request and a result of the size a 50-variable decision has. */
static void documents(shared *sh)
{
    size_t k = (size_t)snprintf(sh->request, sizeof sh->request,
                                "{\"variables\":[");
    for (int i = 0; i < 50 && k < sizeof sh->request - 64; i++)
        k += (size_t)snprintf(sh->request + k, sizeof sh->request - k,
                              "%s{\"name\":\"x%d\",\"type\":\"binary\"}", i ? "," : "", i);
    snprintf(sh->request + k, sizeof sh->request - k,
             "],\"objective\":{\"sense\":\"maximize\",\"linear\":{\"x0\":1}}}");
    k = (size_t)snprintf(sh->result, sizeof sh->result, "{\"status\":\"optimal\",\"assignment\":{");
    for (int i = 0; i < 50 && k < sizeof sh->result - 64; i++)
        k += (size_t)snprintf(sh->result + k, sizeof sh->result - k, "%s\"x%d\":%d", i ? "," : "",
                              i, i % 2);
    snprintf(sh->result + k, sizeof sh->result - k, "},\"objective\":1234.5}");
}

static const char *redact(const char *url, char *buf, size_t cap)
{
    /* postgresql://user:password@...: the password stays out of the report */
    const char *at = strchr(url, '@'), *colon = strstr(url, "://");
    colon = colon ? strchr(colon + 3, ':') : NULL;
    if (at && colon && colon < at)
        snprintf(buf, cap, "%.*s:***%s", (int)(colon - url), url, at);
    else
        snprintf(buf, cap, "%s", url);
    return buf;
}

typedef struct figures {
    double p50, p99, max, rate;
    int n, failures, ok;
} figures;

static int run(const char *url, int clients, double seconds, figures *f)
{
    shared *sh = calloc(1, sizeof *sh);
    double *lat = calloc(MAX_SAMPLES, sizeof *lat);
    if (!sh || !lat)
        return 1;
    sh->lat = lat;
    documents(sh);
    nq_err err;
    /* PostgreSQL: a connection per client (up to 64); SQLite: its default
     * pool, as its writers take turns on one file anyway. */
    int pool = strncmp(url, "postgres", 8) == 0 ? (clients > 64 ? 64 : clients) : 0;
    int rc = nq_store_open(url, pool, &sh->s, &err);
    if (!rc)
        rc = nq_store_migrate(sh->s, NULL, &err);
    if (rc) {
        fprintf(stderr, "bench_store: %s: %s\n", url, err.msg);
        free(lat);
        free(sh);
        return 1;
    }
    pthread_t th[MAX_CLIENTS];
    client cl[MAX_CLIENTS];
    double t0 = nq_clock_s();
    sh->until = t0 + seconds;
    for (int i = 0; i < clients; i++) {
        cl[i] = (client){sh, i};
        pthread_create(&th[i], NULL, writer, &cl[i]);
    }
    for (int i = 0; i < clients; i++)
        pthread_join(th[i], NULL);
    double wall = nq_clock_s() - t0;
    int n = atomic_load(&sh->n), kept = n < MAX_SAMPLES ? n : MAX_SAMPLES;
    qsort(lat, (size_t)kept, sizeof *lat, cmp);
    nq_audit_report r;
    memset(&r, 0, sizeof r);
    rc = nq_store_audit_verify(sh->s, &r, &err);
    f->n = n;
    f->p50 = kept ? pct(lat, kept, 0.50) * 1e3 : 0;
    f->p99 = kept ? pct(lat, kept, 0.99) * 1e3 : 0;
    f->max = kept ? lat[kept - 1] * 1e3 : 0;
    f->rate = n / wall;
    f->failures = atomic_load(&sh->failures);
    f->ok = !rc && r.ok;
    nq_store_close(sh->s);
    free(lat);
    free(sh);
    return rc || !r.ok;
}

static int by_p99(const void *a, const void *b)
{
    double x = ((const figures *)a)->p99, y = ((const figures *)b)->p99;
    return x < y ? -1 : x > y;
}

/* rounds runs of one database and client count: a row each, then the
 * median round (by p99). Each round writes into the same database. */
static int measure(const char *url, int clients, double seconds, int rounds, FILE *out)
{
    figures f[16];
    char shown[512];
    const char *backend = strncmp(url, "postgres", 8) == 0 ? "postgresql" : "sqlite";
    int bad = 0;
    for (int i = 0; i < rounds; i++) {
        memset(&f[i], 0, sizeof f[i]);
        bad |= run(url, clients, seconds, &f[i]);
        fprintf(out, "| %s | %s | %d | %d | %d | %.2f | %.2f | %.2f | %.0f | %d | %s |\n", backend,
                redact(url, shown, sizeof shown), clients, i + 1, f[i].n, f[i].p50, f[i].p99,
                f[i].max, f[i].rate, f[i].failures, f[i].ok ? "verifies" : "BROKEN");
        fflush(out);
    }
    qsort(f, (size_t)rounds, sizeof f[0], by_p99);
    const figures *m = &f[rounds / 2];
    fprintf(out, "| **%s** | | **%d** | **median** | %d | **%.2f** | **%.2f** | %.2f | **%.0f** | %d | |\n",
            backend, clients, m->n, m->p50, m->p99, m->max, m->rate, m->failures);
    fflush(out);
    return bad;
}

int main(int argc, char **argv)
{
    const char *dbs[MAX_DBS], *out_path = NULL;
    int n_dbs = 0, clients[8], n_clients = 0, rounds = 3;
    double seconds = 5;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--db") && v && n_dbs < MAX_DBS)
            dbs[n_dbs++] = argv[++i];
        else if (!strcmp(a, "--clients") && v && n_clients < 8)
            clients[n_clients++] = atoi(argv[++i]);
        else if (!strcmp(a, "--rounds") && v)
            rounds = atoi(argv[++i]);
        else if (!strcmp(a, "--seconds") && v)
            seconds = atof(argv[++i]);
        else if (!strcmp(a, "--out") && v)
            out_path = argv[++i];
        else {
            fprintf(stderr, "usage: bench_store --db URL [--db URL ...] [--clients N ...] "
                            "[--seconds S] [--rounds R] [--out FILE.md]\n");
            return 2;
        }
    }
    if (!n_clients)
        clients[n_clients++] = 64;
    int bad_args = !n_dbs || !(seconds > 0) || rounds < 1 || rounds > 16;
    for (int i = 0; i < n_clients; i++)
        bad_args |= clients[i] < 1 || clients[i] > MAX_CLIENTS;
    if (bad_args) {
        fprintf(stderr, "bench_store: give --db, 1..%d clients, seconds > 0, 1..16 rounds\n",
                MAX_CLIENTS);
        return 2;
    }
    FILE *out = out_path ? fopen(out_path, "w") : stdout;
    if (!out) {
        perror(out_path);
        return 2;
    }
    char machine[512], cmd[1024];
    bench_machine(machine, sizeof machine);
    bench_cmdline(cmd, sizeof cmd, "build/bench_store", argc, argv);
    fprintf(out, "## Store: decision writes under concurrent clients\n\n");
    fprintf(out, "Command: `%s` (through `scripts/bench.sh ../shared store`).\n", cmd);
    fprintf(out, "Machine: %s.\n\n", machine);
    fprintf(out,
            "Each client is a thread storing decisions back to back for %g s: a 50-variable "
            "request and its result (about 1.5 KB each) and the audit entry, in one "
            "transaction that is durable when it returns (SQLite: WAL, synchronous=FULL; "
            "PostgreSQL: synchronous_commit on, fsync on). Latency is one "
            "nq_store_put_decision call, waiting for a pooled connection included. "
            "Writers queue for a group commit: one transaction per batch of whatever is queued "
            "(lib/store/decisions.c). Each database and client count runs %d rounds; the "
            "median row is the round with the median p99. 64 clients is the bar's load; 2 is "
            "what `nqba serve` puts on the store on this machine (its job workers, one per "
            "core, write the decisions).\n\n",
            seconds, rounds);
    fprintf(out, "| backend | database | clients | round | decisions | p50 (ms) | p99 (ms) | max (ms) "
                 "| decisions/s | failed writes | audit chain after |\n");
    fprintf(out, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n");
    int bad = 0;
    for (int c = 0; c < n_clients; c++)
        for (int i = 0; i < n_dbs; i++)
            bad |= measure(dbs[i], clients[c], seconds, rounds, out);
    if (out != stdout)
        fclose(out);
    return bad;
}
