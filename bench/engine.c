/* engine.c - Max-Cut benchmark of the engine's solvers on the Gset graphs.
 *
 * Part 1, per solver (sa, tabu, pt, sb) and Gset file: R reads on one
 * thread, repeated with seeds 1..reps; best and mean cut, the fraction p of
 * reads that reach the best-known cut, CPU seconds per read (median over
 * seeds), TTS99 = t_read * ln(0.01) / ln(1 - p), attempts per CPU second.
 * Part 2, auto on 2 threads: wall time to reach the best-known cut (target
 * set, time limit 30 s) for seeds 1..reps. Part 3: the dense complete +-1
 * graph with n = 2000. Writes a Markdown report; every run is
 * reproducible from the printed command and seeds. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "bench_data.h"
#include "bench_machine.h"
#include "nqba/clock.h"
#include "nqba/io.h"
#include "nqba/rng.h"
#include "nqba/solve.h"
#include "nqba/version.h"

#define MAX_REPS 16
#define MAX_SOLVERS 4

/* Best-known cuts: Benlic & Hao, Breakout Local Search (2013), as listed
 * with the data set. Peer: dwave-samplers simulated annealing (1000
 * sweeps x 100 reads, one core, default schedule) measured on this machine
 * class, quoted from the issue that set the bars; the peer is not built
 * here. */
typedef struct instance {
    const char *name;
    double best_known;
    double peer_tts; /* seconds; INFINITY = never reached */
    double peer_rate;/* attempts/s, 0 = not quoted */
} instance;

static const instance INSTANCES[] = {
    {"G1", 11624, 0.60, 2.7e7},     {"G2", 11620, 14, 0},         {"G3", 11622, 3.8, 0},
    {"G11", 564, 6.5, 0},           {"G12", 556, 5.9, 0},         {"G13", 582, INFINITY, 0},
    {"G14", 3064, INFINITY, 0},     {"G15", 3050, INFINITY, 0},   {"G22", 13359, INFINITY, 0},
    {"G43", 6660, 3.8, 0},          {"G48", 6000, 0.13, 0},
};
#define N_INSTANCES (sizeof INSTANCES / sizeof INSTANCES[0])

/* Reads and work per read of each solver in part 1. */
typedef struct solver_cfg {
    const char *name;
    int reads, sweeps;
    const char *unit; /* what one sweep means */
} solver_cfg;

static const solver_cfg SOLVERS[MAX_SOLVERS] = {
    {"sa", 100, 1000, "sweeps"},
    {"tabu", 10, 2000, "x n moves"},
    {"pt", 10, 1000, "sweeps (all replicas)"},
    {"sb", 10, 1000, "steps (one read = 16 trajectories)"},
};

typedef struct bench_cfg {
    const char *dir, *out;
    int reps;
    double auto_limit;
    int auto_threads;
    int skip_auto;
    const char *solvers; /* comma-separated subset of SOLVERS, NULL = all */
} bench_cfg;

typedef struct row {
    double best, mean, p, t_read, tts, rate;
} row;

typedef struct auto_row {
    int reached, runs;
    double t_med, t_max;
    char found_by[64];
} auto_row;

static int load(const bench_cfg *cfg, const instance *in, nq_model *m)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.txt", cfg->dir, in->name);
    size_t len;
    char *data = bench_read(path, &len);
    if (!data)
        return fprintf(stderr, "bench: cannot read %s\n", path), -1;
    nq_err err;
    int rc = nq_read_gset(data, len, path, m, &err);
    free(data);
    if (rc)
        return fprintf(stderr, "bench: %s: %s\n", err.where, err.msg), -1;
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double tts99(double t_read, double p)
{
    if (p >= 1.0)
        return t_read;
    return p > 0 ? t_read * log(0.01) / log(1.0 - p) : INFINITY;
}

static int bench_solver(const bench_cfg *cfg, const nq_model *m, const instance *in,
                        const solver_cfg *s, row *r)
{
    double W = m->maxcut_total_weight, t_reads[MAX_REPS], attempts = 0, cpu = 0;
    int64_t hits = 0, total = 0;
    memset(r, 0, sizeof *r);
    r->best = -INFINITY;
    for (int rep = 0; rep < cfg->reps; rep++) {
        nq_solve_opts o;
        nq_result res;
        nq_err err;
        nq_solve_opts_default(&o);
        o.solver = s->name;
        o.seed = (uint64_t)rep + 1, o.reads = s->reads, o.sweeps = s->sweeps, o.threads = 1;
        double c0 = nq_clock_cpu_s();
        if (nq_solve(m, &o, NULL, NULL, &res, &err))
            return fprintf(stderr, "bench: %s: %s\n", s->name, err.msg), -1;
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
    qsort(t_reads, (size_t)cfg->reps, sizeof t_reads[0], cmp_double);
    r->mean /= (double)total;
    r->p = (double)hits / (double)total;
    r->t_read = t_reads[cfg->reps / 2];
    r->tts = tts99(r->t_read, r->p);
    r->rate = attempts / cpu;
    return 0;
}

static void add_found_by(auto_row *a, const char *name)
{
    if (strstr(a->found_by, name))
        return;
    size_t len = strlen(a->found_by);
    snprintf(a->found_by + len, sizeof a->found_by - len, "%s%s", len ? ", " : "", name);
}

/* auto on cfg->auto_threads threads, target = the best-known cut. */
static int bench_auto(const bench_cfg *cfg, const nq_model *m, const instance *in, auto_row *a)
{
    double t[MAX_REPS];
    memset(a, 0, sizeof *a);
    for (int rep = 0; rep < cfg->reps; rep++) {
        nq_solve_opts o;
        nq_result res;
        nq_err err;
        nq_solve_opts_default(&o);
        o.solver = "auto";
        o.seed = (uint64_t)rep + 1, o.threads = cfg->auto_threads;
        o.time_limit = cfg->auto_limit;
        o.has_target = 1;
        o.target = m->maxcut_total_weight - 2.0 * in->best_known;
        double w0 = nq_clock_s();
        if (nq_solve(m, &o, NULL, NULL, &res, &err))
            return fprintf(stderr, "bench: auto: %s\n", err.msg), -1;
        t[rep] = nq_clock_s() - w0;
        if (res.target_reached) {
            a->reached++;
            add_found_by(a, res.found_by);
        } else {
            t[rep] = INFINITY;
        }
        a->runs++;
        nq_result_free(&res);
    }
    qsort(t, (size_t)cfg->reps, sizeof t[0], cmp_double);
    a->t_med = t[cfg->reps / 2];
    a->t_max = t[cfg->reps - 1];
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

typedef struct dense_row {
    const char *what;
    double sec; /* CPU seconds per 1000-sweep (or -step) read, median */
    double cut;
} dense_row;

static int dense_case(const bench_cfg *cfg, const nq_model *m, const char *solver, int reads,
                      dense_row *d)
{
    double W = 0, t[MAX_REPS];
    for (int64_t k = 0; k < m->nnz; k++)
        W += m->w[k] / 2.0;
    d->cut = -INFINITY;
    for (int rep = 0; rep < cfg->reps; rep++) {
        nq_solve_opts o;
        nq_result res;
        nq_err err;
        nq_solve_opts_default(&o);
        o.solver = solver;
        o.seed = (uint64_t)rep + 1, o.reads = reads, o.sweeps = 1000, o.threads = 1;
        double c0 = nq_clock_cpu_s();
        if (nq_solve(m, &o, NULL, NULL, &res, &err))
            return fprintf(stderr, "bench: %s\n", err.msg), -1;
        t[rep] = (nq_clock_cpu_s() - c0) / (double)res.reads;
        d->cut = fmax(d->cut, (W - res.energy) / 2.0);
        nq_result_free(&res);
    }
    qsort(t, (size_t)cfg->reps, sizeof t[0], cmp_double);
    d->sec = t[cfg->reps / 2];
    return 0;
}

static const char *fmt_s(char *buf, size_t cap, double v)
{
    if (isinf(v))
        snprintf(buf, cap, "inf");
    else
        snprintf(buf, cap, "%.3g", v);
    return buf;
}

static const char *fmt_ratio(char *buf, size_t cap, double peer, double ours)
{
    if (isfinite(peer) && isfinite(ours))
        snprintf(buf, cap, "%.1fx", peer / ours);
    else if (isinf(peer) && isfinite(ours))
        snprintf(buf, cap, "peer never");
    else
        snprintf(buf, cap, "-");
    return buf;
}

typedef struct results {
    row solver[MAX_SOLVERS][N_INSTANCES];
    auto_row autos[N_INSTANCES];
    dense_row dense[3];
    int n_dense;
} results;

static void write_solver_table(FILE *f, const bench_cfg *cfg, const results *R, int s)
{
    const solver_cfg *sc = &SOLVERS[s];
    char a[32], b[32], c[32];
    fprintf(f, "\n### `%s`: %d reads x %d %s per seed, seeds 1..%d, one thread\n\n", sc->name,
            sc->reads, sc->sweeps, sc->unit, cfg->reps);
    fprintf(f, "| graph | best known | best cut | mean cut | p(best known) | s/read | TTS99 (s) | "
               "attempts/s/core | peer TTS99 (s) | TTS99 speed-up |\n");
    fprintf(f, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (size_t i = 0; i < N_INSTANCES; i++) {
        const row *r = &R->solver[s][i];
        fprintf(f, "| %s | %.0f | %.0f | %.1f | %.3f | %.4f | %s | %.3g | %s | %s |\n",
                INSTANCES[i].name, INSTANCES[i].best_known, r->best, r->mean, r->p, r->t_read,
                fmt_s(a, sizeof a, r->tts), r->rate, fmt_s(b, sizeof b, INSTANCES[i].peer_tts),
                fmt_ratio(c, sizeof c, INSTANCES[i].peer_tts, r->tts));
    }
}

static void write_auto_table(FILE *f, const bench_cfg *cfg, const results *R)
{
    char a[32], b[32];
    fprintf(f, "\n### `auto` on %d threads: wall time to the best-known cut\n\n",
            cfg->auto_threads);
    fprintf(f, "Target = best-known cut, time limit %.0f s, seeds 1..%d.\n\n", cfg->auto_limit,
            cfg->reps);
    fprintf(f, "| graph | best known | reached | median s | max s | best state found by |\n");
    fprintf(f, "|---|---:|---:|---:|---:|---|\n");
    for (size_t i = 0; i < N_INSTANCES; i++) {
        const auto_row *r = &R->autos[i];
        fprintf(f, "| %s | %.0f | %d/%d | %s | %s | %s |\n", INSTANCES[i].name,
                INSTANCES[i].best_known, r->reached, r->runs, fmt_s(a, sizeof a, r->t_med),
                fmt_s(b, sizeof b, r->t_max), r->found_by);
    }
}

/* The bars, each with the figure that decides it. */
static void write_bars(FILE *f, const bench_cfg *cfg, const results *R)
{
    static const char *const tts_set[] = {"G1", "G2", "G3", "G43"};
    double ratios[4];
    char a[32];
    fprintf(f, "\n### Bars\n\n");
    fprintf(f, "| bar | figure | met |\n|---|---|---|\n");
    int all_min = 1;
    for (int k = 0; k < 4; k++) {
        size_t i = 0;
        while (strcmp(INSTANCES[i].name, tts_set[k]))
            i++;
        int bs = 0;
        for (int s = 1; s < MAX_SOLVERS; s++)
            if (R->solver[s][i].tts < R->solver[bs][i].tts)
                bs = s;
        ratios[k] = INSTANCES[i].peer_tts / R->solver[bs][i].tts;
        all_min &= ratios[k] >= 10.0;
        fprintf(f, "| TTS99 >= 10x peer on %s | %s %s s vs %.3g s: %.1fx | %s |\n", tts_set[k],
                SOLVERS[bs].name, fmt_s(a, sizeof a, R->solver[bs][i].tts),
                INSTANCES[i].peer_tts, ratios[k], ratios[k] >= 10.0 ? "yes" : "no");
    }
    qsort(ratios, 4, sizeof ratios[0], cmp_double);
    fprintf(f, "| median TTS99 ratio over G1, G2, G3, G43 | %.1fx | %s |\n",
            (ratios[1] + ratios[2]) / 2.0, all_min ? "yes" : "no");
    double rate = R->solver[0][0].rate;
    fprintf(f, "| sa attempts/s on G1 >= 10x peer (2.7e7) | %.3g: %.1fx | %s |\n", rate,
            rate / 2.7e7, rate >= 2.7e8 ? "yes" : "no");
    if (R->n_dense)
        fprintf(f, "| 1000 sa sweeps on complete n = 2000 < 0.5 s | %.3f s (one read alone) | %s |\n",
                R->dense[0].sec, R->dense[0].sec < 0.5 ? "yes" : "no");
    if (!cfg->skip_auto) {
        int ok = 1;
        double worst = 0;
        for (size_t i = 0; i < N_INSTANCES; i++) {
            ok &= R->autos[i].reached == R->autos[i].runs;
            worst = fmax(worst, R->autos[i].t_max);
        }
        fprintf(f, "| auto reaches every best-known cut within %.0f s on %d threads | worst run "
                   "%s s | %s |\n", cfg->auto_limit, cfg->auto_threads, fmt_s(a, sizeof a, worst),
                ok ? "yes" : "no");
    }
}

static void write_report(FILE *f, const bench_cfg *cfg, const results *R, const char *cmdline)
{
    char mach[512], date[64];
    time_t now = time(NULL);
    strftime(date, sizeof date, "%Y-%m-%d", gmtime(&now));
    bench_machine(mach, sizeof mach);
    fprintf(f, "## Engine on Gset Max-Cut\n\n");
    fprintf(f, "Command: `make bench` (`%s`), nqba %s, %s.\nMachine: %s. Times in the solver "
               "tables are CPU seconds on one thread; auto times are wall seconds.\n",
            cmdline, NQ_VERSION, date, mach);
    for (int s = 0; s < MAX_SOLVERS; s++)
        write_solver_table(f, cfg, R, s);
    if (!cfg->skip_auto)
        write_auto_table(f, cfg, R);
    if (R->n_dense) {
        fprintf(f, "\n### Dense case: complete graph, n = 2000, +-1 weights\n\n");
        fprintf(f, "Generated in the benchmark (xoshiro256** seed 2000, each of the 1,999,000 "
                   "weights +1 or -1). CPU seconds per read of 1000 sweeps (sb: steps), one "
                   "thread, median of seeds 1..%d. Peer (dwave-samplers, quoted): 2.5 s per "
                   "1000-sweep read.\n\n| run | s per read | best cut | vs peer |\n|---|---:|---:|---:|\n",
                cfg->reps);
        for (int k = 0; k < R->n_dense; k++)
            fprintf(f, "| %s | %.3f | %.0f | %.1fx |\n", R->dense[k].what, R->dense[k].sec,
                    R->dense[k].cut, 2.5 / R->dense[k].sec);
    }
    write_bars(f, cfg, R);
    fprintf(f, "\nTTS99 = t_read * ln(0.01) / ln(1 - p); inf when no read reached the best-known "
               "cut. The peer is not built here; its figures are quoted.\n");
}

static int run_dense(const bench_cfg *cfg, results *R)
{
    nq_model m;
    nq_err err;
    if (complete_graph(2000, 2000, &m, &err))
        return fprintf(stderr, "bench: %s\n", err.msg), -1;
    static const struct {
        const char *what, *solver;
        int reads;
    } runs[] = {
        {"sa, one read alone", "sa", 1},
        {"sa, 16 reads in one batch (per read)", "sa", 16},
        {"sb, one read of 16 trajectories", "sb", 1},
    };
    int rc = 0;
    for (int k = 0; k < 3 && !rc; k++) {
        R->dense[k].what = runs[k].what;
        rc = dense_case(cfg, &m, runs[k].solver, runs[k].reads, &R->dense[k]);
        if (!rc) {
            R->n_dense = k + 1;
            fprintf(stderr, "K2000 %s: %.3f s, cut %.0f\n", runs[k].what, R->dense[k].sec,
                    R->dense[k].cut);
        }
    }
    nq_model_free(&m);
    return rc;
}

static int selected(const bench_cfg *cfg, const char *name)
{
    if (!cfg->solvers)
        return 1;
    size_t len = strlen(name);
    for (const char *p = cfg->solvers; (p = strstr(p, name)) != NULL; p += len)
        if ((p == cfg->solvers || p[-1] == ',') && (p[len] == ',' || p[len] == 0))
            return 1;
    return 0;
}

static int run_all(const bench_cfg *cfg, results *R)
{
    for (size_t i = 0; i < N_INSTANCES; i++) {
        nq_model m;
        if (load(cfg, &INSTANCES[i], &m))
            return -1;
        for (int s = 0; s < MAX_SOLVERS; s++) {
            row *r = &R->solver[s][i];
            r->tts = r->t_read = INFINITY;
            if (!selected(cfg, SOLVERS[s].name))
                continue;
            if (bench_solver(cfg, &m, &INSTANCES[i], &SOLVERS[s], r))
                return nq_model_free(&m), -1;
            fprintf(stderr, "%-4s %-4s best %.0f mean %.1f p %.3f t_read %.4f s %.3g att/s\n",
                    INSTANCES[i].name, SOLVERS[s].name, r->best, r->mean, r->p, r->t_read,
                    r->rate);
        }
        if (!cfg->skip_auto) {
            auto_row *a = &R->autos[i];
            if (bench_auto(cfg, &m, &INSTANCES[i], a))
                return nq_model_free(&m), -1;
            fprintf(stderr, "%-4s auto reached %d/%d median %.3g s max %.3g s (%s)\n",
                    INSTANCES[i].name, a->reached, a->runs, a->t_med, a->t_max, a->found_by);
        }
        nq_model_free(&m);
    }
    return run_dense(cfg, R);
}

static int parse_args(int argc, char **argv, bench_cfg *cfg)
{
    *cfg = (bench_cfg){"../shared/data/gset", NULL, 3, 30.0, 2, 0, NULL};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--no-auto")) {
            cfg->skip_auto = 1;
            continue;
        }
        if (!v)
            return -1;
        i++;
        if (!strcmp(a, "--gset"))
            cfg->dir = v;
        else if (!strcmp(a, "--out"))
            cfg->out = v;
        else if (!strcmp(a, "--reps"))
            cfg->reps = atoi(v);
        else if (!strcmp(a, "--auto-limit"))
            cfg->auto_limit = atof(v);
        else if (!strcmp(a, "--auto-threads"))
            cfg->auto_threads = atoi(v);
        else if (!strcmp(a, "--solvers"))
            cfg->solvers = v;
        else
            return -1;
    }
    return cfg->reps > 0 && cfg->reps <= MAX_REPS && cfg->auto_limit > 0 &&
                   cfg->auto_threads > 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
    bench_cfg cfg;
    if (parse_args(argc, argv, &cfg)) {
        fprintf(stderr, "usage: bench_engine [--gset DIR] [--out FILE.md] [--reps 1..16] "
                        "[--auto-limit S] [--auto-threads N] [--no-auto] [--solvers a,b]\n");
        return 2;
    }
    char cmdline[1024];
    bench_cmdline(cmdline, sizeof cmdline, "build/bench_engine", argc, argv);
    results *R = calloc(1, sizeof *R);
    if (!R || run_all(&cfg, R))
        return free(R), 1;
    FILE *f = cfg.out ? fopen(cfg.out, "w") : stdout;
    if (!f)
        return free(R), fprintf(stderr, "bench: cannot write %s\n", cfg.out), 1;
    write_report(f, &cfg, R, cmdline);
    if (f != stdout)
        fclose(f);
    free(R);
    return 0;
}
