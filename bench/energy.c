/* energy.c - timings of site energy management on the EMHASS household
 * data (shared/data/energy): the reference's 24-h and 48-h cases from
 * 2024-06-12 (30-min steps, the EMHASS default battery, deferrable loads of
 * 3 kW x 5 h and 750 W x 8 h a day, at any level (LP) or on/off (MILP)),
 * and a week from the same day with the daily price pattern repeated.
 * Each figure is the median of repeated solves. Writes a markdown section
 * to stdout.
 * Usage: bench_energy [SHARED_DIR]   (default ../shared) */
#include <glpk.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_data.h"
#include "bench_machine.h"
#include "nqba/clock.h"
#include "nqba/energy.h"

#define MAX_STEPS 336

typedef struct inputs {
    double load[MAX_STEPS], pv[MAX_STEPS], price[MAX_STEPS], pexp[MAX_STEPS];
} inputs;

/* n rows from 2024-06-12 00:00 UTC: load (NaN linearly interpolated), PV
 * (NaN as 0); import prices: the file's first 48 rows (one day of the TOU
 * tariff) repeated; export 0.065 EUR/kWh. */
static void read_inputs(const char *dir, int n, inputs *d)
{
    char *text = bench_data("bench_energy", dir, "energy",
                            "emhass_long_train_data_30min.csv", NULL);
    char *p = strstr(text, "\n2024-06-12 00:00");
    if (!p) {
        fprintf(stderr, "bench_energy: 2024-06-12 is not in the data\n");
        exit(1);
    }
    for (int i = 0; i < n; i++) {
        p = strchr(p, '\n') + 1;
        char *c1 = strchr(p, ','), *c2 = strchr(c1 + 1, ',');
        d->load[i] = c1[1] == ',' ? NAN : strtod(c1 + 1, NULL);
        d->pv[i] = c2[1] == ',' ? 0.0 : strtod(c2 + 1, NULL);
    }
    free(text);
    for (int i = 0; i < n; i++) {
        if (!isnan(d->load[i]))
            continue;
        int a = i - 1, b = i + 1;
        while (b < n && isnan(d->load[b]))
            b++;
        double la = a >= 0 ? d->load[a] : (b < n ? d->load[b] : 0.0);
        double lb = b < n ? d->load[b] : la;
        d->load[i] = a >= 0 ? la + (lb - la) * (i - a) / (double)(b - a) : lb;
    }
    text = bench_data("bench_energy", dir, "energy", "emhass_data_load_cost_forecast.csv", NULL);
    double day[48];
    p = text;
    for (int i = 0; i < 48; i++)
        day[i] = strtod(strchr(p, ',') + 1, &p);
    for (int i = 0; i < n; i++)
        d->price[i] = day[i % 48], d->pexp[i] = 0.065;
    free(text);
}

static const nq_en_load g_loads[2] = {
    {.name = "def0", .nominal_w = 3000.0, .energy_wh = 15000.0},
    {.name = "def1", .nominal_w = 750.0, .energy_wh = 6000.0},
};

static void site(nq_en_site *s, const inputs *d, int n, int on_off, nq_en_load *l)
{
    nq_en_site_default(s);
    s->steps = n;
    s->dt_h = 0.5;
    s->load_w = d->load;
    s->pv_w = d->pv;
    s->price_import = d->price;
    s->price_export = d->pexp;
    s->import_max_w = s->export_max_w = 9000.0;
    s->battery = (nq_en_battery){.present = 1, .capacity_wh = 5000, .charge_max_w = 1000,
                                 .discharge_max_w = 1000, .eta_charge = 0.95,
                                 .eta_discharge = 0.95, .soc_min = 0.3, .soc_max = 0.9,
                                 .soc_initial = 0.6, .soc_final = 0.6};
    memcpy(l, g_loads, sizeof g_loads);
    l[0].on_off = l[1].on_off = on_off;
    s->loads = l;
    s->n_loads = 2;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* One row; returns the median in ms, -1 when a solve failed. */
static double row(const char *name, const inputs *d, int n, int on_off, const char *ref, int reps)
{
    nq_en_site s;
    nq_en_load l[2];
    site(&s, d, n, on_off, l);
    double t[101];
    nq_en_schedule o = {.steps = 0};
    nq_err err;
    for (int r = 0; r < reps; r++) {
        nq_en_schedule_free(&o);
        double t0 = nq_clock_s();
        if (nq_en_site_solve(&s, &o, &err)) {
            printf("| %s | %d | %s | failed: %s | | | | | |\n", name, n, on_off ? "MILP" : "LP",
                   err.msg);
            return -1;
        }
        t[r] = nq_clock_s() - t0;
    }
    qsort(t, (size_t)reps, sizeof t[0], cmp);
    double ms = t[reps / 2] * 1e3;
    printf("| %s | %d | %s | %.6f | %s | %s | %.2e | %lld | %.3f | %d |\n", name, n,
           on_off ? "MILP" : "LP", o.cost_eur, ref, o.status, o.gap, (long long)o.iterations, ms,
           reps);
    nq_en_schedule_free(&o);
    return ms;
}

static const char *met(int ok)
{
    return ok ? "yes" : "**no**";
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "../shared";
    char machine[512], cmd[512];
    bench_machine(machine, sizeof machine);
    bench_cmdline(cmd, sizeof cmd, "build/bench_energy", argc, argv);
    static inputs d;
    read_inputs(dir, MAX_STEPS, &d);
    printf("### Site energy management\n\n");
    printf("Machine: %s. Command: `%s`. GLPK %s. Median of repeated solves (each includes the "
           "checks, model building, the solve and the schedule's verification).\n\n",
           machine, cmd, glp_version());
    printf("| problem | steps | kind | cost EUR | reference (CBC) | status | gap | GLPK "
           "iterations | ms | runs |\n");
    printf("|---|---:|---|---:|---:|---|---:|---:|---:|---:|\n");
    double lp48 = row("2024-06-12, 24 h", &d, 48, 0, "1.634290", 101);
    row("2024-06-12, 24 h", &d, 48, 1, "1.725315", 101);
    row("2024-06-12..13, 48 h", &d, 96, 0, "2.568249", 51);
    double milp96 = row("2024-06-12..13, 48 h", &d, 96, 1, "2.669318", 21);
    double week_lp = row("2024-06-12..18, a week", &d, 336, 0, "-", 21);
    double week_milp = row("2024-06-12..18, a week", &d, 336, 1, "-", 5);
    printf("\n| bar | measured | met |\n|---|---|---|\n");
    printf("| 48-step LP < 20 ms | %.3f ms | %s |\n", lp48, met(lp48 >= 0 && lp48 < 20));
    printf("| 96-step MILP, 2 on/off loads < 1 s | %.3f ms | %s |\n", milp96,
           met(milp96 >= 0 && milp96 < 1000));
    printf("| a week (336 steps), LP (no bar) | %.3f ms | - |\n", week_lp);
    printf("| a week (336 steps), MILP (no bar) | %.3f ms | - |\n", week_milp);
    printf("\n");
    return 0;
}
