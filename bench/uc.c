/* uc.c - unit commitment on the classic 10-unit, 24-hour system (Kazarlis,
 * Bakirtzis & Petridis 1996; optimum 563,937.687 USD, see
 * shared/data/energy/README.md): the engine with exact dispatch, the GLPK
 * MILP with K tangents per unit-hour, the shipped K = 20 MPS instance read
 * straight into GLPK, and the 100-unit replication. Writes a markdown
 * section to stdout.
 * Usage: bench_uc [SHARED_DIR [--milp-limit SECONDS]]   (default ../shared, 60 s) */
#include <float.h>
#include <glpk.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_machine.h"
#include "nqba/clock.h"
#include "nqba/energy.h"

#define OPT 563937.68749
#define MAXU 100
#define HOURS 24
#define REPEATS 5

typedef struct uc_case {
    nq_uc_unit units[MAXU];
    double demand[HOURS];
    int32_t n, hours;
} uc_case;

static FILE *open_data(const char *dir, const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/data/energy/%s", dir, name);
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "bench_uc: cannot open %s\n", path);
        exit(1);
    }
    return f;
}

static void load_case(const char *dir, int rep, uc_case *c)
{
    memset(c, 0, sizeof *c);
    char line[512];
    FILE *f = open_data(dir, "uc10_units.csv");
    while (fgets(line, sizeof line, f) && c->n < 10) {
        nq_uc_unit u = { .pmax = 0 };
        int id;
        if (sscanf(line, "%d,%lf,%lf,%lf,%lf,%lf,%d,%d,%lf,%lf,%d,%d", &id, &u.pmax, &u.pmin,
                   &u.a, &u.b, &u.c, &u.min_up, &u.min_down, &u.hot_start, &u.cold_start,
                   &u.cold_hours, &u.initial_status) == 12)
            c->units[c->n++] = u;
    }
    fclose(f);
    f = open_data(dir, "uc10_demand.csv");
    while (fgets(line, sizeof line, f) && c->hours < HOURS) {
        int h;
        double d;
        if (sscanf(line, "%d,%lf", &h, &d) == 2)
            c->demand[c->hours++] = d * rep;
    }
    fclose(f);
    for (int r = 1; r < rep; r++)
        memcpy(c->units + r * 10, c->units, 10 * sizeof *c->units);
    c->n *= rep;
    if (c->n != 10 * rep || c->hours != HOURS) {
        fprintf(stderr, "bench_uc: unexpected data in %s/data/energy\n", dir);
        exit(1);
    }
}

static void problem(uc_case *c, double limit, nq_uc_problem *p)
{
    nq_uc_problem_default(p);
    p->n_units = c->n;
    p->hours = c->hours;
    p->units = c->units;
    p->demand = c->demand;
    p->time_limit = limit;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The engine: median time of repeats runs (the answer is the same each time
 * when the search ends before its limit). */
static void engine_row(const char *dir, int rep, double limit, int repeats)
{
    uc_case *c = malloc(sizeof *c);
    load_case(dir, rep, c);
    nq_uc_problem p;
    problem(c, limit, &p);
    double t[REPEATS], cost = 0;
    int64_t evals = 0;
    for (int k = 0; k < repeats; k++) {
        nq_uc_result r;
        nq_err e = { 0 };
        double t0 = nq_clock_s();
        if (nq_uc_solve(&p, &r, &e)) {
            fprintf(stderr, "bench_uc: %s: %s\n", e.where, e.msg);
            exit(1);
        }
        t[k] = nq_clock_s() - t0;
        cost = r.total_cost, evals = r.iterations;
        nq_uc_result_free(&r);
    }
    qsort(t, (size_t)repeats, sizeof *t, cmp_double);
    printf("| %d units, engine (cqm) + exact dispatch, limit %g s | %.3f | %s | %.3f | "
           "%+.2e | %lld commitments |\n",
           (int)c->n, limit > 0 ? limit : 2.0, t[repeats / 2], "-", cost,
           (cost - rep * OPT) / (rep * OPT), (long long)evals);
    free(c);
}

static void milp_row(const char *dir, int32_t k, double limit)
{
    uc_case c;
    load_case(dir, 1, &c);
    nq_uc_problem p;
    problem(&c, 0, &p);
    nq_uc_result r;
    nq_err e = { 0 };
    double t0 = nq_clock_s();
    if (nq_uc_solve_milp(&p, k, limit, &r, &e)) {
        printf("| 10 units, MILP K = %d (GLPK), limit %g s | %.3f | - | - | - | %s |\n", (int)k,
               limit, nq_clock_s() - t0, e.msg);
        return;
    }
    double el = nq_clock_s() - t0;
    printf("| 10 units, MILP K = %d (GLPK), limit %g s | %.3f | %.3f | %.3f | %+.2e | %s, "
           "%lld nodes |\n",
           (int)k, limit, el, r.lower_bound, r.total_cost, (r.total_cost - OPT) / OPT,
           strstr(r.method, "optimal") ? "optimal" : "time limit", (long long)r.iterations);
    nq_uc_result_free(&r);
}

typedef struct tree_info {
    double bound;
} tree_info;

static void on_tree(glp_tree *T, void *info)
{
    tree_info *k = info;
    int node = glp_ios_best_node(T);
    if (node) {
        double v = glp_ios_node_bound(T, node);
        if (v > k->bound && v < DBL_MAX)
            k->bound = v;
    }
}

/* The shipped instance as it is: its objective is the tangent model's, so
 * the incumbent is the MILP objective (not re-costed exactly). */
static void mps_row(const char *dir, double limit)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/data/energy/uc10_kazarlis_k20_tangents.mps", dir);
    glp_term_out(GLP_OFF);
    glp_prob *P = glp_create_prob();
    double t0 = nq_clock_s();
    if (glp_read_mps(P, GLP_MPS_FILE, NULL, path)) {
        printf("| uc10_kazarlis_k20_tangents.mps (GLPK) | - | - | - | - | cannot read |\n");
        glp_delete_prob(P);
        return;
    }
    glp_iocp o;
    glp_init_iocp(&o);
    o.presolve = GLP_ON;
    o.mip_gap = 1e-9;
    o.gmi_cuts = o.mir_cuts = o.cov_cuts = o.clq_cuts = GLP_ON;
    o.br_tech = GLP_BR_PCH;
    o.tm_lim = (int)(limit * 1e3);
    tree_info k = { .bound = -INFINITY };
    o.cb_func = on_tree;
    o.cb_info = &k;
    glp_intopt(P, &o);
    double el = nq_clock_s() - t0;
    int st = glp_mip_status(P);
    double obj = glp_mip_obj_val(P);
    if (st == GLP_OPT)
        k.bound = fmax(k.bound, obj - o.mip_gap * (fabs(obj) + DBL_EPSILON));
    printf("| uc10_kazarlis_k20_tangents.mps read into GLPK, limit %g s | %.3f | %.3f | %.3f "
           "(MILP objective) | - | %s; CBC: 563,937.514 |\n",
           limit, el, k.bound, st == GLP_OPT || st == GLP_FEAS ? obj : NAN,
           st == GLP_OPT ? "optimal" : st == GLP_FEAS ? "time limit" : "no incumbent");
    glp_delete_prob(P);
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "../shared";
    double milp_limit = 60;
    if (argc > 3 && !strcmp(argv[2], "--milp-limit"))
        milp_limit = atof(argv[3]);
    char machine[512], cmd[512];
    bench_machine(machine, sizeof machine);
    bench_cmdline(cmd, sizeof cmd, "build/bench_uc", argc, argv);
    printf("### Unit commitment\n\n");
    printf("Machine: %s. Command: `%s`. The classic 10-unit, 24-hour system (optimum "
           "563,937.687 USD: shared/data/energy/README.md) and its 100-unit replication (10 "
           "copies of each unit, 10 x the demand). Engine rows: median of %d runs. Gap: to "
           "563,937.687 (x 10 for 100 units, whose own optimum is lower).\n\n",
           machine, cmd, REPEATS);
    printf("| case | s | lower bound USD | cost USD | gap | notes |\n");
    printf("|---|---:|---:|---:|---:|---|\n");
    engine_row(dir, 1, 0, REPEATS);
    engine_row(dir, 10, 0, 3);
    engine_row(dir, 10, 10, 1);
    milp_row(dir, 5, milp_limit);
    milp_row(dir, 20, milp_limit);
    milp_row(dir, 60, milp_limit);
    mps_row(dir, milp_limit);
    printf("\nMILP rows: the bound is GLPK's (the tangents lie under the cost, so it bounds the "
           "optimum from below); the cost is the exact cost of GLPK's commitment. The reference "
           "(CBC, gap 0): K = 20 bound 563,937.514, K = 60 bound 563,937.668.\n");
    return 0;
}
