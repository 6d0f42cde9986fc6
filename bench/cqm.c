/* cqm.c - benchmark of the constrained-model solver against GLPK's exact
 * MILP on seeded problem families (knapsack, multi-dimensional knapsack,
 * generalized assignment, set cover, quadratic knapsack, one-hot
 * assignment). Small binary instances are also enumerated exhaustively to
 * cross-check GLPK itself. Writes a markdown section for docs/BENCHMARKS.md. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../tests/unit/cqm_families.h"
#include "bench_machine.h"
#include "nqba/cqm.h"
#include "nqba/version.h"

#define MAX_SIZES 8
#define MAX_SEEDS 16
#define BAR_N 200
#define BAR_GAP 0.005

typedef struct cfg {
    int32_t sizes[MAX_SIZES];
    int n_sizes;
    int seeds;
    double limit, milp_limit, enum_max;
    const char *out;
    unsigned families; /* bit mask */
} cfg;

typedef struct inst {
    int fam, n, seed, maximize;
    int ref_status;      /* milp: 0 optimal, 1 feasible, 2 infeasible, 3 none */
    double ref_score;    /* min form */
    double ref_bound;    /* min form */
    double ref_time;
    int enum_checked, enum_agrees;
    int feasible;
    double score, gap, elapsed, ttb;
    char found_by[24];
} inst;

static double min_form(const nq_cqm *m, double objective) { return m->maximize ? -objective : objective; }

static int reference(nq_cqm *m, const cfg *c, inst *r)
{
    nq_milp_result mr;
    nq_err e = { 0 };
    if (nq_cqm_solve_milp(m, c->milp_limit, &mr, &e)) {
        fprintf(stderr, "milp: %s\n", e.msg);
        return -1;
    }
    r->ref_status = mr.status;
    r->ref_score = mr.status <= 1 ? min_form(m, mr.objective) : NAN;
    r->ref_bound = min_form(m, mr.bound);
    r->ref_time = mr.elapsed;
    nq_milp_result_free(&mr);
    /* Enumeration of small instances checks GLPK's claimed optimum. */
    if (m->n_atoms <= c->enum_max) {
        nq_cqm_opts o;
        nq_cqm_result er;
        nq_cqm_opts_default(&o);
        o.solver = "exact";
        if (!nq_cqm_solve(m, &o, NULL, NULL, &er, &e)) {
            r->enum_checked = 1;
            r->enum_agrees = er.best.feasible ? r->ref_status == 0 &&
                                                    fabs(er.best.score - r->ref_score) < 1e-6
                                              : r->ref_status == 2;
            nq_cqm_result_free(&er);
        }
    }
    return 0;
}

static int run_one(const cfg *c, int fam, int n, int seed, inst *r)
{
    nq_cqm m;
    memset(r, 0, sizeof *r);
    r->fam = fam, r->n = n, r->seed = seed;
    if (fam_build((fam_kind)fam, n, (uint64_t)seed, &m))
        return -1;
    r->maximize = m.maximize;
    if (reference(&m, c, r))
        return nq_cqm_free(&m), -1;
    nq_cqm_opts o;
    nq_cqm_result res;
    nq_err e = { 0 };
    nq_cqm_opts_default(&o);
    o.time_limit = c->limit;
    o.seed = (uint64_t)seed;
    if (nq_cqm_solve(&m, &o, NULL, NULL, &res, &e)) {
        fprintf(stderr, "solve: %s\n", e.msg);
        return nq_cqm_free(&m), -1;
    }
    r->feasible = res.best.feasible;
    r->score = res.best.score;
    r->elapsed = res.elapsed;
    r->ttb = res.time_to_best;
    snprintf(r->found_by, sizeof r->found_by, "%s", res.found_by);
    r->gap = r->ref_status <= 1 && r->feasible ? fam_gap_of(r->score, r->ref_score) : NAN;
    fprintf(stderr, "%-9s n=%3d seed=%d ref=%d %.6g (%.2fs) ours=%s %.6g gap=%.4f%% by %s\n",
            FAM_NAMES[fam], n, seed, r->ref_status, r->ref_score, r->ref_time,
            r->feasible ? "feasible" : "INFEASIBLE", r->score, 100 * r->gap, r->found_by);
    nq_cqm_result_free(&res);
    nq_cqm_free(&m);
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct row_stats {
    int count, proven, feasible_known, feasible_found, within, with_gap, by_qubo;
    double gaps[MAX_SEEDS * MAX_SIZES], ttb;
} row_stats;

static void add_stats(row_stats *s, const inst *r)
{
    s->count++;
    s->proven += r->ref_status == 0 || r->ref_status == 2;
    int known = r->ref_status <= 1 || r->feasible;
    s->feasible_known += known;
    s->feasible_found += known && r->feasible;
    if (r->ref_status == 0 && r->feasible) {
        s->gaps[s->with_gap++] = r->gap;
        s->within += r->gap <= BAR_GAP;
    }
    s->by_qubo += strncmp(r->found_by, "qubo", 4) == 0;
    s->ttb += r->ttb;
}

static void write_row(FILE *f, const char *name, int n, row_stats *s)
{
    char med[32] = "-", max[32] = "-";
    if (s->with_gap) {
        qsort(s->gaps, (size_t)s->with_gap, sizeof *s->gaps, cmp_double);
        snprintf(med, sizeof med, "%.3f%%", 100 * s->gaps[s->with_gap / 2]);
        snprintf(max, sizeof max, "%.3f%%", 100 * s->gaps[s->with_gap - 1]);
    }
    fprintf(f, "| %s | %d | %d | %d/%d | %d/%d | %s | %s | %.3f | %d |\n", name, n, s->count,
            s->proven, s->count, s->feasible_found, s->feasible_known, med, max,
            s->count ? s->ttb / s->count : 0, s->by_qubo);
}

/* Objectives as stated (not the minimized score); "-" where GLPK had none. */
static void write_unproven(FILE *f, const inst *r)
{
    double sign = r->maximize ? -1 : 1;
    char inc[32] = "-", bnd[32] = "-", gap[32] = "-";
    if (isfinite(r->ref_score))
        snprintf(inc, sizeof inc, "%.6g", sign * r->ref_score);
    if (isfinite(r->ref_bound)) {
        snprintf(bnd, sizeof bnd, "%.6g", sign * r->ref_bound);
        snprintf(gap, sizeof gap, "%.3f%%", 100 * fam_gap_of(r->score, r->ref_bound));
    }
    fprintf(f, "| %s | %d | %d | %.6g | %s | %s | %s |\n", FAM_NAMES[r->fam], r->n, r->seed,
            sign * r->score, inc, bnd, gap);
}

static void write_report(FILE *f, const cfg *c, const inst *R, int nr, const char *cmdline)
{
    char mach[512], date[64];
    time_t now = time(NULL);
    strftime(date, sizeof date, "%Y-%m-%d", gmtime(&now));
    bench_machine(mach, sizeof mach);
    fprintf(f, "## Constrained models against GLPK's exact MILP\n\n");
    fprintf(f, "Command: `make bench` (`%s`), nqba %s, %s.\nMachine: %s.\n\n", cmdline,
            NQ_VERSION, date, mach);
    fprintf(f, "Seeded families (tests/unit/cqm_families.h), n = number of 0/1 decisions. Ours: "
               "`auto`, %.3g s wall limit, one thread, seed = instance seed. Reference: GLPK "
               "glp_intopt on the same model (binary products linearized), %.0f s limit; "
               "instances with at most %.0f decisions are also enumerated exhaustively to "
               "check GLPK. Gap = (ours - optimum) / |optimum| in the minimized direction, "
               "over instances GLPK proved optimal. \"qubo\" counts answers first found by "
               "annealing the QUBO compilation (then polished by the native search).\n\n",
            c->limit, c->milp_limit, c->enum_max);
    fprintf(f, "| family | n | instances | optimum proven | feasible found / known | median gap "
               "| max gap | mean time to best (s) | found by qubo |\n"
               "|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    row_stats bar = { 0 }, all = { 0 };
    int enum_checked = 0, enum_agree = 0;
    for (int fam = 0; fam < FAM_COUNT; fam++)
        for (int si = 0; si < c->n_sizes; si++) {
            row_stats s = { 0 };
            for (int i = 0; i < nr; i++)
                if (R[i].fam == fam && R[i].n == c->sizes[si]) {
                    add_stats(&s, &R[i]);
                    add_stats(&all, &R[i]);
                    if (R[i].n <= BAR_N)
                        add_stats(&bar, &R[i]);
                    enum_checked += R[i].enum_checked;
                    enum_agree += R[i].enum_checked && R[i].enum_agrees;
                }
            if (s.count)
                write_row(f, FAM_NAMES[fam], c->sizes[si], &s);
        }
    fprintf(f, "\nBars (n <= %d): %d of %d instances with a proven optimum are within %.1f%% "
               "(%.1f%%; bar >= 95%%): **%s**. Feasible answer on %d of %d instances known "
               "feasible (bar 100%%): **%s**. All sizes: %d of %d within %.1f%%, feasible on %d "
               "of %d. GLPK agreed with enumeration on %d of %d enumerated instances.\n",
            BAR_N, bar.within, bar.with_gap, 100 * BAR_GAP,
            bar.with_gap ? 100.0 * bar.within / bar.with_gap : 0,
            bar.with_gap && bar.within * 100 >= 95 * bar.with_gap ? "met" : "NOT met",
            bar.feasible_found, bar.feasible_known,
            bar.feasible_found == bar.feasible_known ? "met" : "NOT met", all.within,
            all.with_gap, 100 * BAR_GAP, all.feasible_found, all.feasible_known, enum_agree,
            enum_checked);
    fprintf(f, "\nInstances without a proven optimum (GLPK hit its limit); objectives as "
               "stated, \"ours vs bound\" is the largest possible gap:\n\n"
               "| family | n | seed | ours | GLPK incumbent | GLPK bound | ours vs bound |\n"
               "|---|---:|---:|---:|---:|---:|---:|\n");
    for (int i = 0; i < nr; i++)
        if (R[i].ref_status == 1 || R[i].ref_status == 3)
            write_unproven(f, &R[i]);
}

static int parse_sizes(const char *s, cfg *c)
{
    c->n_sizes = 0;
    for (const char *p = s; *p && c->n_sizes < MAX_SIZES;) {
        c->sizes[c->n_sizes++] = (int32_t)strtol(p, (char **)&p, 10);
        if (*p == ',')
            p++;
        else if (*p)
            return -1;
    }
    return c->n_sizes ? 0 : -1;
}

static int parse_args(int argc, char **argv, cfg *c)
{
    *c = (cfg){ .sizes = { 20, 50, 100, 200, 300 }, .n_sizes = 5, .seeds = 3, .limit = 1.0,
                .milp_limit = 60, .enum_max = 20, .out = NULL, .families = ~0u };
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v)
            return -1;
        if (!strcmp(a, "--sizes") && !parse_sizes(v, c))
            i++;
        else if (!strcmp(a, "--seeds") && (c->seeds = atoi(v)) >= 1 && c->seeds <= MAX_SEEDS)
            i++;
        else if (!strcmp(a, "--limit") && (c->limit = atof(v)) > 0)
            i++;
        else if (!strcmp(a, "--milp-limit") && (c->milp_limit = atof(v)) > 0)
            i++;
        else if (!strcmp(a, "--out"))
            c->out = v, i++;
        else if (!strcmp(a, "--family")) {
            c->families = 0;
            for (int f = 0; f < FAM_COUNT; f++)
                if (strstr(v, FAM_NAMES[f]))
                    c->families |= 1u << f;
            i++;
        } else
            return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    cfg c;
    if (parse_args(argc, argv, &c)) {
        fprintf(stderr, "usage: bench_cqm [--sizes 20,50,...] [--seeds N] [--limit S] "
                        "[--milp-limit S] [--family knapsack,mkp,...] [--out FILE.md]\n");
        return 2;
    }
    char cmdline[1024];
    bench_cmdline(cmdline, sizeof cmdline, "build/bench_cqm", argc, argv);
    inst *R = calloc((size_t)FAM_COUNT * MAX_SIZES * MAX_SEEDS, sizeof *R);
    int nr = 0;
    for (int fam = 0; R && fam < FAM_COUNT; fam++)
        for (int si = 0; (c.families >> fam & 1) && si < c.n_sizes; si++)
            for (int seed = 1; seed <= c.seeds; seed++)
                if (run_one(&c, fam, c.sizes[si], seed, &R[nr]) == 0)
                    nr++;
    FILE *f = c.out ? fopen(c.out, "w") : stdout;
    if (!R || !f)
        return free(R), 1;
    write_report(f, &c, R, nr, cmdline);
    if (f != stdout)
        fclose(f);
    free(R);
    return 0;
}
