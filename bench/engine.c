/* engine.c - Max-Cut benchmark of the annealer on the Gset graphs.
 *
 * For each Gset file: R reads x S sweeps on one thread, repeated with
 * several seeds; reports best and mean cut, the fraction p of reads that
 * reach the best-known cut, seconds per read (median over repetitions),
 * TTS99 = t_read * ln(0.01) / ln(1 - p), and spin-update attempts per
 * second on one core. Writes a Markdown report. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "nqba/clock.h"
#include "nqba/io.h"
#include "nqba/rng.h"
#include "nqba/solve.h"
#include "nqba/version.h"

/* Best-known cuts: Benlic & Hao, Breakout Local Search (2013), as listed
 * with the data set. The peer columns are the dwave-samplers annealer
 * (1000 sweeps x 100 reads, one core) measured on this machine class and
 * quoted from the data set's README; the peer cannot be built here. */
typedef struct instance {
    const char *name;
    double best_known;
    const char *peer_tts; /* seconds, as quoted; "inf" = never reached */
    double peer_rate;     /* attempts/s, 0 = not quoted */
} instance;

static const instance INSTANCES[] = {
    {"G1", 11624, "0.60", 2.7e7},  {"G2", 11620, "14", 0},   {"G3", 11622, "3.8", 0},
    {"G11", 564, "6.5", 0},        {"G12", 556, "5.9", 0},   {"G13", 582, "inf", 0},
    {"G14", 3064, "inf", 0},       {"G15", 3050, "inf", 0},  {"G22", 13359, "inf", 0},
    {"G43", 6660, "3.8", 0},       {"G48", 6000, "0.13", 0},
};

typedef struct bench_cfg {
    const char *dir;
    const char *out;
    int reads, sweeps, reps;
} bench_cfg;

typedef struct row {
    int32_t n;
    int64_t m;
    double best, mean, p, t_read, tts, rate;
} row;

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *data = size >= 0 ? malloc((size_t)size + 1) : NULL;
    if (data && fread(data, 1, (size_t)size, f) != (size_t)size) {
        free(data);
        data = NULL;
    }
    fclose(f);
    *len = (size_t)size;
    return data;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int bench_one(const bench_cfg *cfg, const instance *in, row *r)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.txt", cfg->dir, in->name);
    size_t len;
    char *data = slurp(path, &len);
    if (!data)
        return fprintf(stderr, "bench: cannot read %s\n", path), -1;
    nq_model m;
    nq_err err;
    int rc = nq_read_gset(data, len, path, &m, &err);
    free(data);
    if (rc)
        return fprintf(stderr, "bench: %s: %s\n", err.where, err.msg), -1;
    double W = m.maxcut_total_weight, t_reads[16], attempts = 0, cpu = 0;
    int64_t hits = 0, total = 0;
    memset(r, 0, sizeof *r);
    r->n = m.n, r->m = nq_model_pairs(&m), r->best = -INFINITY;
    for (int rep = 0; rep < cfg->reps && !rc; rep++) {
        nq_solve_opts o;
        nq_result res;
        nq_solve_opts_default(&o);
        o.seed = (uint64_t)rep + 1, o.reads = cfg->reads, o.sweeps = cfg->sweeps, o.threads = 1;
        double c0 = nq_clock_cpu_s();
        if ((rc = nq_solve(&m, &o, NULL, NULL, &res, &err)))
            break;
        double c = nq_clock_cpu_s() - c0;
        t_reads[rep] = c / (double)res.reads;
        cpu += c, attempts += (double)res.attempts;
        for (int64_t k = 0; k < res.reads; k++) {
            double cut = (W - res.read_energies[k]) / 2.0;
            r->best = fmax(r->best, cut);
            r->mean += cut;
            hits += cut >= in->best_known;
            total++;
        }
        nq_result_free(&res);
    }
    nq_model_free(&m);
    if (rc)
        return fprintf(stderr, "bench: %s\n", err.msg), -1;
    qsort(t_reads, (size_t)cfg->reps, sizeof t_reads[0], cmp_double);
    r->mean /= (double)total;
    r->p = (double)hits / (double)total;
    r->t_read = t_reads[cfg->reps / 2];
    r->tts = r->p >= 1.0 ? r->t_read : r->p > 0 ? r->t_read * log(0.01) / log(1.0 - r->p) : INFINITY;
    r->rate = attempts / cpu;
    return 0;
}

/* Complete graph on n vertices with +-1 weights from a seeded stream: the
 * dense case (every spin couples to every other). */
static int complete_graph(int32_t n, uint64_t seed, nq_model *m, nq_err *err)
{
    nq_rng rng;
    nq_builder b;
    nq_rng_seed(&rng, seed);
    nq_builder_init(&b, NQ_ISING);
    for (int32_t i = 0; i < n; i++)
        for (int32_t j = i + 1; j < n; j++)
            if (nq_builder_add_quadratic(&b, i, j, nq_rng_u64(&rng) >> 63 ? 1.0 : -1.0, err)) {
                nq_builder_free(&b);
                return -1;
            }
    return nq_builder_finish(&b, m, err);
}

/* CPU seconds per 1000-sweep read on the complete graph, median of reps. */
static int bench_dense(const bench_cfg *cfg, double *sec, double *cut)
{
    nq_model m;
    nq_err err;
    if (complete_graph(2000, 2000, &m, &err))
        return fprintf(stderr, "bench: %s\n", err.msg), -1;
    double W = 0, t[16];
    for (int64_t k = 0; k < m.nnz; k++)
        W += m.w[k] / 2.0;
    *cut = -INFINITY;
    for (int rep = 0; rep < cfg->reps; rep++) {
        nq_solve_opts o;
        nq_result res;
        nq_solve_opts_default(&o);
        o.seed = (uint64_t)rep + 1, o.reads = 1, o.sweeps = 1000, o.threads = 1;
        double c0 = nq_clock_cpu_s();
        if (nq_solve(&m, &o, NULL, NULL, &res, &err)) {
            nq_model_free(&m);
            return fprintf(stderr, "bench: %s\n", err.msg), -1;
        }
        t[rep] = nq_clock_cpu_s() - c0;
        *cut = fmax(*cut, (W - res.energy) / 2.0);
        nq_result_free(&res);
    }
    nq_model_free(&m);
    qsort(t, (size_t)cfg->reps, sizeof t[0], cmp_double);
    *sec = t[cfg->reps / 2];
    return 0;
}

static void machine(char *buf, size_t cap)
{
    char model[256] = "unknown CPU", line[512];
    FILE *f = fopen("/proc/cpuinfo", "r");
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "model name", 10) && strchr(line, ':')) {
            snprintf(model, sizeof model, "%s", strchr(line, ':') + 2);
            model[strcspn(model, "\n")] = 0;
            break;
        }
    if (f)
        fclose(f);
    struct utsname u;
    uname(&u);
    snprintf(buf, cap, "%s, %ld online cores, Linux %s", model, sysconf(_SC_NPROCESSORS_ONLN),
             u.release);
}

static void fmt_tts(char *buf, size_t cap, double tts)
{
    if (isinf(tts))
        snprintf(buf, cap, "inf");
    else
        snprintf(buf, cap, "%.3g", tts);
}

static void write_report(FILE *f, const bench_cfg *cfg, const row *rows, size_t count,
                         double dense_sec, double dense_cut)
{
    char mach[512], date[64];
    time_t now = time(NULL);
    strftime(date, sizeof date, "%Y-%m-%d", gmtime(&now));
    machine(mach, sizeof mach);
    fprintf(f, "## Simulated annealing (`sa`) on Gset Max-Cut\n\n");
    fprintf(f, "Command: `make bench` (`build/bench_engine --gset DIR --reads %d --sweeps %d "
               "--reps %d`), nqba %s, %s.\n", cfg->reads, cfg->sweeps, cfg->reps, NQ_VERSION, date);
    fprintf(f, "Machine: %s. One thread; times are CPU seconds; seeds 1..%d, %d reads each.\n\n",
            mach, cfg->reps, cfg->reads);
    fprintf(f, "| graph | n | m | best known | best cut | mean cut | p(best known) | s/read | "
               "TTS99 (s) | attempts/s/core | peer TTS99 (s) | TTS99 speed-up | "
               "peer attempts/s | attempts/s ratio |\n");
    fprintf(f, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (size_t i = 0; i < count; i++) {
        const row *r = &rows[i];
        char tts[32], speedup[32] = "", peer_rate[32] = "", rate_ratio[32] = "";
        fmt_tts(tts, sizeof tts, r->tts);
        double peer_tts = strtod(INSTANCES[i].peer_tts, NULL);
        if (isfinite(peer_tts) && isfinite(r->tts))
            snprintf(speedup, sizeof speedup, "%.1fx", peer_tts / r->tts);
        else if (isinf(peer_tts) && isfinite(r->tts))
            snprintf(speedup, sizeof speedup, "peer never");
        if (INSTANCES[i].peer_rate > 0) {
            snprintf(peer_rate, sizeof peer_rate, "%.2g", INSTANCES[i].peer_rate);
            snprintf(rate_ratio, sizeof rate_ratio, "%.1fx", r->rate / INSTANCES[i].peer_rate);
        }
        fprintf(f, "| %s | %d | %lld | %.0f | %.0f | %.1f | %.3f | %.4f | %s | %.3g | %s | %s | %s | %s |\n",
                INSTANCES[i].name, r->n, (long long)r->m, INSTANCES[i].best_known, r->best,
                r->mean, r->p, r->t_read, tts, r->rate, INSTANCES[i].peer_tts, speedup, peer_rate,
                rate_ratio);
    }
    fprintf(f, "\nTTS99 = t_read * ln(0.01) / ln(1 - p); inf when no read reached the best-known "
               "cut. Peer: dwave-samplers simulated annealing (1000 sweeps x 100 reads, one core, "
               "default schedule), figures quoted from the Gset data README for this machine "
               "class; it is not built here.\n");
    fprintf(f, "\n### Dense case: complete graph, n = 2000, +-1 weights\n\n");
    fprintf(f, "Generated in the benchmark (xoshiro256** seed 2000, each of the 1,999,000 weights "
               "+1 or -1). One read of 1000 sweeps on one thread, CPU seconds, median of seeds "
               "1..%d: **%.3f s per 1000 sweeps** (best cut %.0f). Peer (dwave-samplers, quoted, "
               "K2000 instance): 2.5 s per 1000-sweep read, i.e. %.1fx.\n",
            cfg->reps, dense_sec, dense_cut, 2.5 / dense_sec);
}

static int parse_args(int argc, char **argv, bench_cfg *cfg)
{
    *cfg = (bench_cfg){"../shared/data/gset", NULL, 100, 1000, 3};
    for (int i = 1; i < argc; i += 2) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v)
            return -1;
        if (!strcmp(a, "--gset"))
            cfg->dir = v;
        else if (!strcmp(a, "--out"))
            cfg->out = v;
        else if (!strcmp(a, "--reads"))
            cfg->reads = atoi(v);
        else if (!strcmp(a, "--sweeps"))
            cfg->sweeps = atoi(v);
        else if (!strcmp(a, "--reps"))
            cfg->reps = atoi(v);
        else
            return -1;
    }
    return cfg->reads > 0 && cfg->sweeps > 0 && cfg->reps > 0 && cfg->reps <= 16 ? 0 : -1;
}

int main(int argc, char **argv)
{
    bench_cfg cfg;
    if (parse_args(argc, argv, &cfg)) {
        fprintf(stderr, "usage: bench_engine [--gset DIR] [--out FILE.md] [--reads N] "
                        "[--sweeps N] [--reps 1..16]\n");
        return 2;
    }
    size_t count = sizeof INSTANCES / sizeof INSTANCES[0];
    row rows[sizeof INSTANCES / sizeof INSTANCES[0]];
    for (size_t i = 0; i < count; i++) {
        if (bench_one(&cfg, &INSTANCES[i], &rows[i]))
            return 1;
        fprintf(stderr, "%-4s best %.0f mean %.1f p %.3f t_read %.4f s  %.3g attempts/s\n",
                INSTANCES[i].name, rows[i].best, rows[i].mean, rows[i].p, rows[i].t_read,
                rows[i].rate);
    }
    double dense_sec, dense_cut;
    if (bench_dense(&cfg, &dense_sec, &dense_cut))
        return 1;
    fprintf(stderr, "K2000-like: %.3f s per 1000 sweeps, best cut %.0f\n", dense_sec, dense_cut);
    FILE *f = cfg.out ? fopen(cfg.out, "w") : stdout;
    if (!f)
        return fprintf(stderr, "bench: cannot write %s\n", cfg.out), 1;
    write_report(f, &cfg, rows, count, dense_sec, dense_cut);
    if (f != stdout)
        fclose(f);
    return 0;
}
