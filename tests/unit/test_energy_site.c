/* test_energy_site.c - site energy management: the EMHASS-like reference
 * cases of shared/data/energy (inputs rebuilt as its README says, costs
 * against CBC's optima), the shipped MPS instances, each modelling feature
 * on small sites, and bad input. Every schedule goes through a checker of
 * its own here, independent of the library's verification. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <glpk.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nqba/cqm.h"
#include "data_file.h"
#include "nqba/energy.h"

#define REF_MAX 336 /* a week of half-hours */

static json_t *g_ref; /* reference_results.json */

static char *slurp(const char *name)
{
    return data_file("energy", name, NULL);
}

/* ---- the reference inputs ----------------------------------------------------------- */

typedef struct ref_data {
    int n;
    double load[REF_MAX], pv[REF_MAX], price[REF_MAX], price_exp[REF_MAX];
} ref_data;

/* Rows of the year file from "day 00:00" on: load with NaN linearly
 * interpolated between the nearest numbers (looking outside the window
 * when needed), PV with NaN as 0. */
static void read_day(const char *day, int n, ref_data *d)
{
    char *text = slurp("emhass_long_train_data_30min.csv");
    assert_non_null(text);
    char key[32];
    snprintf(key, sizeof key, "\n%s 00:00", day);
    char *p = strstr(text, key);
    assert_non_null(p);
    /* Keep 8 rows before and after, to interpolate at the edges. */
    enum { PAD = 8 };
    double load[REF_MAX + 2 * PAD];
    for (int k = 0; k < PAD; k++) { /* walk back PAD lines */
        do
            p--;
        while (p > text && p[-1] != '\n');
    }
    p--; /* at the '\n' before the first kept row */
    for (int i = 0; i < n + 2 * PAD; i++) {
        p = strchr(p, '\n');
        assert_non_null(p);
        p++;
        char *c1 = strchr(p, ','), *c2 = c1 ? strchr(c1 + 1, ',') : NULL;
        assert_non_null(c2);
        load[i] = c1[1] == ',' ? NAN : strtod(c1 + 1, NULL);
        if (i >= PAD && i < PAD + n)
            d->pv[i - PAD] = c2[1] == ',' ? 0.0 : strtod(c2 + 1, NULL);
    }
    for (int i = PAD; i < PAD + n; i++) {
        if (!isnan(load[i])) {
            d->load[i - PAD] = load[i];
            continue;
        }
        int a = i, b = i;
        while (isnan(load[a]))
            a--;
        while (isnan(load[b]))
            b++;
        d->load[i - PAD] = load[a] + (load[b] - load[a]) * (i - a) / (double)(b - a);
    }
    free(text);
    text = slurp("emhass_data_load_cost_forecast.csv");
    assert_non_null(text);
    p = text;
    for (int i = 0; i < n; i++) { /* past the file's 3 days: its first day again */
        char *c = i < 144 ? strchr(p, ',') : NULL;
        if (i < 144)
            assert_non_null(c);
        d->price[i] = i < 144 ? strtod(c + 1, &p) : d->price[i % 48];
        d->price_exp[i] = 0.065;
    }
    free(text);
    d->n = n;
}

static const nq_en_load g_ref_loads[2] = {
    {.name = "def0", .nominal_w = 3000.0, .energy_wh = 3000.0 * 5},
    {.name = "def1", .nominal_w = 750.0, .energy_wh = 750.0 * 8},
};

/* The reference site: 30-min steps, 9 kW grid, the EMHASS default battery;
 * loads: 0 none, 1 at any level, 2 on/off. */
static void ref_site(nq_en_site *s, const ref_data *d, int battery, int loads, nq_en_load *buf)
{
    nq_en_site_default(s);
    s->steps = d->n;
    s->dt_h = 0.5;
    s->load_w = d->load;
    s->pv_w = d->pv;
    s->price_import = d->price;
    s->price_export = d->price_exp;
    s->import_max_w = s->export_max_w = 9000.0;
    if (battery)
        s->battery = (nq_en_battery){.present = 1, .capacity_wh = 5000, .charge_max_w = 1000,
                                     .discharge_max_w = 1000, .eta_charge = 0.95,
                                     .eta_discharge = 0.95, .soc_min = 0.3, .soc_max = 0.9,
                                     .soc_initial = 0.6, .soc_final = 0.6};
    if (loads) {
        memcpy(buf, g_ref_loads, sizeof g_ref_loads);
        buf[0].on_off = buf[1].on_off = loads == 2;
        s->loads = buf;
        s->n_loads = 2;
    }
}

/* ---- an independent checker ---------------------------------------------------------- */

static double price_exp(const nq_en_site *s, int t)
{
    return s->price_export && s->objective != NQ_EN_COST ? s->price_export[t] : 0.0;
}

/* Each step: balance, limits, the stored energy's dynamics and bounds;
 * exclusive: no simultaneous charge & discharge nor import & export.
 * Returns the energy money; *peak the largest import. */
static double check_steps(const nq_en_site *s, const nq_en_schedule *o, int exclusive,
                          double *peak)
{
    const nq_en_battery *b = &s->battery;
    double cap = b->present ? b->capacity_wh : 0.0, money = 0.0;
    *peak = 0.0;
    for (int t = 0; t < s->steps; t++) {
        double in = (s->pv_w ? s->pv_w[t] : 0) + o->import_w[t] + o->discharge_w[t];
        double use = s->load_w[t] + o->charge_w[t] + o->export_w[t];
        for (int j = 0; j < s->n_loads; j++)
            use += o->load_w[j * s->steps + t];
        assert_true(fabs(in - use) <= 1e-6);
        assert_true(o->import_w[t] >= 0 && o->import_w[t] <= s->import_max_w + 1e-6);
        assert_true(o->export_w[t] >= 0 && o->export_w[t] <= s->export_max_w + 1e-6);
        if (b->present) {
            assert_true(o->charge_w[t] >= 0 && o->charge_w[t] <= b->charge_max_w + 1e-6);
            assert_true(o->discharge_w[t] >= 0 && o->discharge_w[t] <= b->discharge_max_w + 1e-6);
            double e = o->soc[t] * cap + s->dt_h * (b->eta_charge * o->charge_w[t] -
                                                    o->discharge_w[t] / b->eta_discharge);
            assert_true(fabs(e - o->soc[t + 1] * cap) <= 1e-6);
            assert_true(e >= b->soc_min * cap - 1e-6 && e <= b->soc_max * cap + 1e-6);
        } else {
            assert_true(o->charge_w[t] == 0 && o->discharge_w[t] == 0);
        }
        if (exclusive) {
            assert_true(fmin(o->charge_w[t], o->discharge_w[t]) <= 1e-6);
            assert_true(fmin(o->import_w[t], o->export_w[t]) <= 1e-6);
        }
        money += s->dt_h / 1000 * (s->price_import[t] * o->import_w[t] -
                                   price_exp(s, t) * o->export_w[t]);
        *peak = fmax(*peak, o->import_w[t]);
    }
    if (b->present) {
        assert_true(fabs(o->soc[0] - b->soc_initial) < 1e-12);
        if (b->soc_final >= 0)
            assert_true(fabs(o->soc[s->steps] - b->soc_final) * cap <= 1e-6);
    }
    return money;
}

/* Each load: off outside its windows (and on a day whose window the
 * horizon cuts), 0..nominal or 0/nominal, the day's energy. Returns the
 * optional loads' value. */
static double check_loads(const nq_en_site *s, const nq_en_schedule *o)
{
    int spd = s->steps_per_day ? s->steps_per_day : (int)lround(24.0 / s->dt_h);
    double value = 0.0;
    for (int j = 0; j < s->n_loads; j++) {
        const nq_en_load *l = &s->loads[j];
        int end = l->window_end ? l->window_end : spd;
        for (int d = 0; d * spd < s->steps; d++) {
            int whole = d * spd + end <= s->steps;
            double e = 0;
            for (int k = 0; k < spd && d * spd + k < s->steps; k++) {
                double p = o->load_w[j * s->steps + d * spd + k];
                if (!(whole && k >= l->window_start && k < end))
                    assert_true(p == 0.0);
                assert_true(p >= 0 && p <= l->nominal_w + 1e-6);
                if (l->on_off)
                    assert_true(p == 0.0 || p == l->nominal_w);
                e += p * s->dt_h;
            }
            if (whole && !l->optional)
                assert_true(fabs(e - l->energy_wh) <= 1e-6);
            if (whole && l->optional)
                assert_true(e <= l->energy_wh + 1e-6);
            if (l->optional)
                value += l->value_eur_per_kwh * e / 1000;
        }
    }
    return value;
}

/* Every constraint of the model, from the schedule and the site alone,
 * and the money recomputed. */
static void check_schedule(const nq_en_site *s, const nq_en_schedule *o, int exclusive)
{
    assert_int_equal(o->steps, s->steps);
    double peak, money = check_steps(s, o, exclusive, &peak), value = check_loads(s, o);
    assert_true(fabs(money - o->energy_cost_eur) <= 1e-9);
    assert_true(fabs(peak - o->peak_import_w) <= 1e-9);
    double cost = money + s->peak_charge_eur_per_kw * peak / 1000 - value;
    assert_true(fabs(cost - o->cost_eur) <= 1e-9);
    assert_true(fabs(o->savings_eur - (o->baseline_cost_eur - o->cost_eur)) <= 1e-9);
    assert_true(o->self_consumption >= 0 && o->self_consumption <= 1);
    assert_true(isfinite(o->gap) && o->gap >= 0);
}

static double sum_kwh(const double *w, int n, double dt)
{
    double e = 0;
    for (int t = 0; t < n; t++)
        e += w[t] * dt / 1000;
    return e;
}

/* ---- the reference cases ------------------------------------------------------------ */

static void test_inputs(void **state)
{
    (void)state;
    json_t *cases = json_object_get(json_object_get(g_ref, "home_ems"), "cases");
    assert_true(json_array_size(cases) == 12);
    size_t i;
    json_t *c;
    json_array_foreach(cases, i, c)
    {
        ref_data d;
        int n = (int)json_integer_value(json_object_get(c, "steps"));
        read_day(json_string_value(json_object_get(c, "start_utc")), n, &d);
        double lk = json_real_value(json_object_get(c, "load_kWh"));
        double pk = json_real_value(json_object_get(c, "pv_kWh"));
        assert_true(fabs(sum_kwh(d.load, n, 0.5) - lk) < 1e-6);
        assert_true(fabs(sum_kwh(d.pv, n, 0.5) - pk) < 1e-6);
    }
    ref_data d;
    read_day("2024-06-12", 48, &d); /* the README's rounded table */
    assert_true(fabs(sum_kwh(d.load, 48, 0.5) - 17.420) < 5e-4);
    assert_true(fabs(sum_kwh(d.pv, 48, 0.5) - 27.226) < 5e-4);
    assert_true(d.price[0] == 0.1419 && d.price[6] == 0.1907 && d.price[31] == 0.1419);
}

/* Every reference case: cost against CBC's optimum, the baseline, the
 * checker. The 48-h MILP is the one GLPK cannot close quickly: it must
 * be feasible and no better than the optimum. */
static void run_case(json_t *c)
{
    const char *day = json_string_value(json_object_get(c, "start_utc"));
    const char *kind = json_string_value(json_object_get(c, "deferrable"));
    int n = (int)json_integer_value(json_object_get(c, "steps"));
    int bat = json_is_true(json_object_get(c, "battery"));
    int loads = !strcmp(kind, "none") ? 0 : strstr(kind, "MILP") ? 2 : 1;
    double want = json_real_value(json_object_get(json_object_get(c, "cbc"), "cost_eur"));
    double naive = json_real_value(json_object_get(c, "naive_baseline_cost_eur"));
    ref_data d;
    read_day(day, n, &d);
    nq_en_site s;
    nq_en_load lb[2];
    ref_site(&s, &d, bat, loads, lb);
    nq_en_schedule o;
    nq_err err;
    int rc = nq_en_site_solve(&s, &o, &err);
    if (rc)
        fprintf(stderr, "%s: %s\n", err.where, err.msg);
    assert_int_equal(rc, 0);
    printf("  %s %3d steps battery %d %-22s cost %.6f (CBC %.6f, diff %+.1e) baseline %.6f "
           "status %s gap %.2e iter %lld\n",
           day, n, bat, kind, o.cost_eur, want, o.cost_eur - want, o.baseline_cost_eur, o.status,
           o.gap, (long long)o.iterations);
    check_schedule(&s, &o, 1);
    assert_int_equal(o.milp, loads == 2);
    if (loads == 2 && n == 96) {
        assert_true(o.cost_eur >= want - 1e-6);
        if (!strcmp(o.status, "optimal"))
            assert_true(fabs(o.cost_eur - want) < 1e-4);
    } else {
        assert_true(fabs(o.cost_eur - want) < 1e-4);
        assert_string_equal(o.status, "optimal");
    }
    assert_true(fabs(o.baseline_cost_eur - naive) < 1e-6);
    double base;
    assert_int_equal(nq_en_baseline(&s, &base, &err), 0);
    assert_true(fabs(base - naive) < 1e-6);
    nq_en_schedule_free(&o);
}

static void test_reference_cases(void **state)
{
    (void)state;
    json_t *cases = json_object_get(json_object_get(g_ref, "home_ems"), "cases");
    size_t i;
    json_t *c;
    json_array_foreach(cases, i, c)
        run_case(c);
}

/* The headline numbers, spelled out. */
static void test_reference_headline(void **state)
{
    (void)state;
    ref_data d;
    read_day("2024-06-12", 48, &d);
    nq_en_site s;
    nq_en_load lb[2];
    nq_en_schedule o;
    nq_err err;
    const struct {
        int bat, loads;
        double cost;
    } want[] = {{1, 1, 1.634290}, {1, 2, 1.725315}, {0, 1, 1.700743}, {1, 0, -0.006536}};
    for (size_t k = 0; k < sizeof want / sizeof want[0]; k++) {
        ref_site(&s, &d, want[k].bat, want[k].loads, lb);
        assert_int_equal(nq_en_site_solve(&s, &o, &err), 0);
        assert_true(fabs(o.cost_eur - want[k].cost) < 1e-4);
        if (want[k].loads)
            assert_true(fabs(o.baseline_cost_eur - 3.688792) < 1e-6);
        nq_en_schedule_free(&o);
    }
}

/* ---- the MPS instances -------------------------------------------------------------- */

/* The instances have continuous columns, which the CQM bridge refuses (it
 * models binary and integer variables only), so GLPK's own reader solves
 * them here, and the optima must equal the reference and our schedules. */
static void solve_mps(const char *name, int milp, double want, double ours)
{
    char path[512];
    const char *shared = getenv("NQ_SHARED_DIR");
    snprintf(path, sizeof path, "%s/data/energy/%s", shared ? shared : "../shared", name);
    char *text = slurp(name);
    assert_non_null(text);
    nq_cqm m;
    nq_err err;
    assert_int_equal(nq_cqm_read_glpk(text, strlen(text), name, "mps", &m, &err), NQ_EINVAL);
    assert_non_null(strstr(err.msg, "continuous variables are not supported"));
    free(text);
    int was = glp_term_out(GLP_OFF);
    glp_prob *P = glp_create_prob();
    assert_int_equal(glp_read_mps(P, GLP_MPS_FILE, NULL, path), 0);
    glp_smcp sp;
    glp_init_smcp(&sp);
    sp.msg_lev = GLP_MSG_OFF;
    sp.presolve = GLP_ON;
    double got;
    if (milp) {
        glp_iocp io;
        glp_init_iocp(&io);
        io.msg_lev = GLP_MSG_OFF;
        io.presolve = GLP_ON;
        assert_int_equal(glp_intopt(P, &io), 0);
        assert_int_equal(glp_mip_status(P), GLP_OPT);
        got = glp_mip_obj_val(P);
    } else {
        assert_int_equal(glp_simplex(P, &sp), 0);
        assert_int_equal(glp_get_status(P), GLP_OPT);
        got = glp_get_obj_val(P);
    }
    glp_delete_prob(P);
    glp_term_out(was);
    printf("  %s: GLPK %.9f, reference %.9f, our schedule %.9f\n", name, got, want, ours);
    assert_true(fabs(got - want) < 1e-6);
    assert_true(fabs(ours - got) < 1e-6);
}

static void test_mps_instances(void **state)
{
    (void)state;
    json_t *mi = json_object_get(g_ref, "mps_instances");
    ref_data d;
    read_day("2024-06-12", 48, &d);
    nq_en_site s;
    nq_en_load lb[2];
    nq_en_schedule o;
    nq_err err;
    const char *names[2] = {"hems_2024-06-12_24h_lp", "hems_2024-06-12_24h_milp"};
    for (int k = 0; k < 2; k++) {
        ref_site(&s, &d, 1, k + 1, lb);
        assert_int_equal(nq_en_site_solve(&s, &o, &err), 0);
        char file[64];
        snprintf(file, sizeof file, "%s.mps", names[k]);
        double want = json_real_value(json_object_get(json_object_get(mi, names[k]),
                                                      "objective_eur"));
        solve_mps(file, k, want, o.cost_eur);
        nq_en_schedule_free(&o);
    }
}

/* ---- features on small sites -------------------------------------------------------- */

typedef struct small {
    double load[72], pv[72], price[72], pexp[72];
} small;

/* 24 (or more) hourly steps: flat 400 W load, PV bell 08..16, prices
 * varying hour by hour so that every choice has a unique best. */
static void small_site(nq_en_site *s, small *b, int n)
{
    for (int t = 0; t < n; t++) {
        int h = t % 24;
        b->load[t] = 400;
        b->pv[t] = h >= 8 && h < 17 ? 1500.0 * sin(M_PI * (h - 7) / 10.0) : 0.0;
        b->price[t] = 0.10 + 0.01 * ((h * 7) % 11) + (h >= 17 && h < 21 ? 0.15 : 0.0);
        b->pexp[t] = 0.05;
    }
    nq_en_site_default(s);
    s->steps = n;
    s->dt_h = 1.0;
    s->load_w = b->load;
    s->pv_w = b->pv;
    s->price_import = b->price;
    s->price_export = b->pexp;
    s->import_max_w = s->export_max_w = 10000;
}

static int solve_ok(const nq_en_site *s, nq_en_schedule *o)
{
    nq_err err;
    int rc = nq_en_site_solve(s, o, &err);
    if (rc)
        fprintf(stderr, "%s: %s\n", err.where, err.msg);
    assert_int_equal(rc, 0);
    check_schedule(s, o, 1);
    return rc;
}

/* One block of 4 h at 2 kW, no PV: the cheapest 4 consecutive hours. */
static void test_single_block(void **state)
{
    (void)state;
    small b;
    nq_en_site s;
    small_site(&s, &b, 24);
    s.pv_w = NULL;
    nq_en_load l = {.name = "wash", .nominal_w = 2000, .energy_wh = 8000, .on_off = 1,
                    .single_block = 1};
    s.loads = &l;
    s.n_loads = 1;
    nq_en_schedule o;
    solve_ok(&s, &o);
    assert_true(o.milp);
    int best = 0;
    double bestc = INFINITY;
    for (int a = 0; a + 4 <= 24; a++) {
        double c = 0;
        for (int t = a; t < a + 4; t++)
            c += b.price[t];
        if (c < bestc)
            bestc = c, best = a;
    }
    for (int t = 0; t < 24; t++)
        assert_true(o.load_w[t] == (t >= best && t < best + 4 ? 2000.0 : 0.0));
    double base = 0;
    for (int t = 0; t < 24; t++)
        base += b.price[t] * 0.4;
    assert_true(fabs(o.cost_eur - (base + 2 * bestc)) < 1e-9);
    /* Without the block the load may split: never dearer. */
    l.single_block = 0;
    nq_en_schedule o2;
    solve_ok(&s, &o2);
    assert_true(o2.cost_eur <= o.cost_eur + 1e-9);
    nq_en_schedule_free(&o);
    nq_en_schedule_free(&o2);
}

/* An optional load is served when its value beats the price, skipped
 * when not; its value comes off the cost. */
static void test_optional_load(void **state)
{
    (void)state;
    small b;
    nq_en_site s;
    small_site(&s, &b, 24);
    s.pv_w = NULL;
    nq_en_load l = {.name = "pool", .nominal_w = 1000, .energy_wh = 3000, .optional = 1,
                    .value_eur_per_kwh = 1.0};
    s.loads = &l;
    s.n_loads = 1;
    nq_en_schedule o, o0;
    solve_ok(&s, &o);
    double e = sum_kwh(o.load_w, 24, 1.0);
    assert_true(fabs(e - 3.0) < 1e-9);
    l.value_eur_per_kwh = 0.0;
    solve_ok(&s, &o0);
    assert_true(sum_kwh(o0.load_w, 24, 1.0) < 1e-9);
    /* served at the three cheapest hours: cost = base + their price - value */
    double sorted[24];
    memcpy(sorted, b.price, sizeof sorted);
    for (int i = 0; i < 24; i++)
        for (int k = i + 1; k < 24; k++)
            if (sorted[k] < sorted[i]) {
                double x = sorted[i];
                sorted[i] = sorted[k], sorted[k] = x;
            }
    double cheap = sorted[0] + sorted[1] + sorted[2];
    assert_true(fabs(o.cost_eur - (o0.cost_eur + cheap - 3.0)) < 1e-9);
    /* on/off and single-block optional loads as well */
    l.value_eur_per_kwh = 1.0;
    l.on_off = l.single_block = 1;
    nq_en_schedule o1;
    solve_ok(&s, &o1);
    assert_true(fabs(sum_kwh(o1.load_w, 24, 1.0) - 3.0) < 1e-9);
    nq_en_schedule_free(&o);
    nq_en_schedule_free(&o0);
    nq_en_schedule_free(&o1);
}

/* A peak charge flattens imports with the battery; the cost carries it
 * and the peak is the largest import. */
static void test_peak_charge(void **state)
{
    (void)state;
    small b;
    nq_en_site s;
    small_site(&s, &b, 24);
    for (int t = 18; t < 21; t++)
        b.load[t] = 3000;
    s.battery = (nq_en_battery){.present = 1, .capacity_wh = 6000, .charge_max_w = 2000,
                                .discharge_max_w = 2000, .eta_charge = 0.95,
                                .eta_discharge = 0.95, .soc_min = 0.1, .soc_max = 1.0,
                                .soc_initial = 0.5, .soc_final = 0.5};
    nq_en_schedule o, o2;
    solve_ok(&s, &o);
    s.peak_charge_eur_per_kw = 5.0;
    solve_ok(&s, &o2);
    double peak = 0;
    for (int t = 0; t < 24; t++)
        peak = fmax(peak, o2.import_w[t]);
    assert_true(fabs(o2.peak_import_w - peak) < 1e-12);
    assert_true(o2.peak_import_w < o.peak_import_w - 100);
    assert_true(fabs(o2.cost_eur - (o2.energy_cost_eur + 5.0 * peak / 1000)) < 1e-9);
    assert_true(o2.cost_eur <= o.energy_cost_eur + 5.0 * o.peak_import_w / 1000 + 1e-9);
    nq_en_schedule_free(&o);
    nq_en_schedule_free(&o2);
}

/* PROFIT earns from exports, COST does not count them, SELF_CONSUMPTION
 * exports the least. Each is best at its own measure. */
static void objectives(int on_off)
{
    small b;
    nq_en_site s;
    small_site(&s, &b, 24);
    for (int t = 0; t < 24; t++)
        b.pexp[t] = t == 12 || t == 14 ? 0.125 : 0.04; /* above the night's import price */
    s.battery = (nq_en_battery){.present = 1, .capacity_wh = 4000, .charge_max_w = 1500,
                                .discharge_max_w = 1500, .eta_charge = 0.95,
                                .eta_discharge = 0.95, .soc_min = 0.1, .soc_max = 0.9,
                                .soc_initial = 0.5, .soc_final = -1};
    nq_en_load l = {.name = "ev", .nominal_w = 2000, .energy_wh = 4000, .on_off = on_off};
    s.loads = &l;
    s.n_loads = 1;
    nq_en_schedule op, oc, os;
    s.objective = NQ_EN_PROFIT;
    solve_ok(&s, &op);
    s.objective = NQ_EN_COST;
    solve_ok(&s, &oc);
    s.objective = NQ_EN_SELF_CONSUMPTION;
    solve_ok(&s, &os);
    double imp_p = 0, imp_c = 0, rev_p = 0, rev_c = 0, exp_p = 0, exp_s = 0, exp_c = 0;
    for (int t = 0; t < 24; t++) {
        imp_p += b.price[t] * op.import_w[t] / 1000;
        imp_c += b.price[t] * oc.import_w[t] / 1000;
        rev_p += b.pexp[t] * op.export_w[t] / 1000;
        rev_c += b.pexp[t] * oc.export_w[t] / 1000;
        exp_p += op.export_w[t], exp_c += oc.export_w[t], exp_s += os.export_w[t];
    }
    assert_true(imp_c <= imp_p + 1e-9);                 /* COST: least import cost */
    assert_true(imp_p - rev_p <= imp_c - rev_c + 1e-9); /* PROFIT: best net */
    assert_true(fabs(oc.cost_eur - imp_c) < 1e-9);      /* COST ignores export revenue */
    assert_true(fabs(op.cost_eur - (imp_p - rev_p)) < 1e-9);
    assert_true(exp_s <= fmin(exp_p, exp_c) + 1e-6); /* least export */
    assert_true(os.self_consumption >= op.self_consumption - 1e-12);
    assert_true(exp_s < exp_p - 100); /* they do differ here */
    /* among the least-export schedules, the profit is the tie-break */
    assert_true(os.cost_eur >= op.cost_eur - 1e-9);
    assert_int_equal(os.milp, on_off);
    nq_en_schedule_free(&op);
    nq_en_schedule_free(&oc);
    nq_en_schedule_free(&os);
}

static void test_objectives(void **state)
{
    (void)state;
    objectives(0);
    objectives(1); /* two MILP passes for self-consumption */
}

/* A window keeps the load to its hours; days repeat the energy. */
static void test_window_multi_day(void **state)
{
    (void)state;
    small b;
    nq_en_site s;
    small_site(&s, &b, 72);
    nq_en_load l[2] = {
        {.name = "heat", .nominal_w = 1500, .energy_wh = 4500, .window_start = 18,
         .window_end = 23},
        {.name = "pump", .nominal_w = 800, .energy_wh = 2400, .on_off = 1, .window_start = 2,
         .window_end = 10},
    };
    s.loads = l;
    s.n_loads = 2;
    s.battery = (nq_en_battery){.present = 1, .capacity_wh = 5000, .charge_max_w = 1000,
                                .discharge_max_w = 1000, .eta_charge = 0.9,
                                .eta_discharge = 0.9, .soc_min = 0.2, .soc_max = 0.9,
                                .soc_initial = 0.5, .soc_final = 0.5};
    nq_en_schedule o;
    solve_ok(&s, &o); /* the checker tests zero outside windows and energy per day */
    for (int d = 0; d < 3; d++) {
        double e = 0;
        for (int h = 18; h < 23; h++)
            e += o.load_w[d * 24 + h];
        assert_true(fabs(e - 4500) < 1e-6);
        for (int h = 0; h < 24; h++)
            if (h < 18 || h >= 23)
                assert_true(o.load_w[d * 24 + h] == 0);
    }
    nq_en_schedule_free(&o);
    /* a partial last day asks nothing of a window it cuts */
    s.steps = 60;
    solve_ok(&s, &o);
    for (int t = 48; t < 60; t++) /* the heater's window 18..23 is cut */
        assert_true(o.load_w[t] == 0);
    double e = 0;
    for (int t = 48; t < 60; t++)
        e += o.load_w[60 + t];
    assert_true(fabs(e - 2400) < 1e-6); /* the pump's window 2..10 fits day 3 */
    nq_en_schedule_free(&o);
}

/* Lossless battery and flat prices: the LP has optima with simultaneous
 * flows; the schedule returned has none. Negative import prices make
 * importing and exporting at once pay; that is kept, and checked. */
static void test_simultaneous(void **state)
{
    (void)state;
    small b;
    nq_en_site s;
    small_site(&s, &b, 24);
    for (int t = 0; t < 24; t++)
        b.price[t] = 0.2, b.pexp[t] = 0.2;
    s.battery = (nq_en_battery){.present = 1, .capacity_wh = 5000, .charge_max_w = 2000,
                                .discharge_max_w = 2000, .eta_charge = 1, .eta_discharge = 1,
                                .soc_min = 0, .soc_max = 1, .soc_initial = 0.5, .soc_final = 0.5};
    nq_en_schedule o;
    solve_ok(&s, &o);
    nq_en_schedule_free(&o);
    for (int t = 0; t < 24; t++)
        b.price[t] = t == 3 ? -0.5 : 0.2, b.pexp[t] = 0.0;
    s.pv_w = NULL;
    s.import_max_w = 5000;
    nq_err err;
    assert_int_equal(nq_en_site_solve(&s, &o, &err), 0);
    check_schedule(&s, &o, 0);
    assert_true(fabs(o.import_w[3] - 5000) < 1e-6); /* paid to import: all it can */
    nq_en_schedule_free(&o);
}

/* ---- bad input ------------------------------------------------------------------------ */

static void expect_err(const nq_en_site *s, const char *where)
{
    nq_en_schedule o;
    nq_err err = {0};
    int rc = nq_en_site_solve(s, &o, &err);
    if (rc != NQ_EINVAL || strcmp(err.where, where) != 0)
        fprintf(stderr, "expected %s, got %d %s: %s\n", where, rc, err.where, err.msg);
    assert_int_equal(rc, NQ_EINVAL);
    assert_string_equal(err.where, where);
    assert_true(strlen(err.msg) > 10);
    assert_null(o.import_w);
}

static void test_bad_input(void **state)
{
    (void)state;
    small b;
    nq_en_site s;
    small_site(&s, &b, 24);
    nq_en_battery bat = {.present = 1, .capacity_wh = 5000, .charge_max_w = 1000,
                         .discharge_max_w = 1000, .eta_charge = 0.95, .eta_discharge = 0.95,
                         .soc_min = 0.2, .soc_max = 0.9, .soc_initial = 0.5, .soc_final = 0.5};
    s.battery = bat;
    b.load[5] = NAN;
    expect_err(&s, "/load/5");
    b.load[5] = -1;
    expect_err(&s, "/load/5");
    b.load[5] = 400;
    b.pv[7] = INFINITY;
    expect_err(&s, "/pv/7");
    b.pv[7] = 0;
    b.price[2] = NAN;
    expect_err(&s, "/price_import/2");
    b.price[2] = 0.1;
    s.steps = 0;
    expect_err(&s, "/steps");
    s.steps = 24, s.dt_h = 0;
    expect_err(&s, "/dt_h");
    s.dt_h = 1;
    s.battery.capacity_wh = -5;
    expect_err(&s, "/battery/capacity_wh");
    s.battery = bat, s.battery.soc_min = 0.95;
    expect_err(&s, "/battery/soc_min");
    s.battery = bat, s.battery.soc_final = 0.89, s.battery.charge_max_w = 10;
    expect_err(&s, "/battery/soc_final"); /* 24 h x 9.5 Wh < 1950 Wh */
    s.battery = bat, s.battery.soc_final = 0.95;
    expect_err(&s, "/battery/soc_final");
}

/* Loads, grid limits, infeasibility found by GLPK. */
static void test_bad_loads_grid(void **state)
{
    (void)state;
    small b;
    nq_en_site s;
    small_site(&s, &b, 24);
    nq_en_battery bat = {.present = 1, .capacity_wh = 5000, .charge_max_w = 1000,
                         .discharge_max_w = 1000, .eta_charge = 0.95, .eta_discharge = 0.95,
                         .soc_min = 0.2, .soc_max = 0.9, .soc_initial = 0.5, .soc_final = 0.5};
    s.battery = bat;
    nq_en_load l = {.name = "x", .nominal_w = 1000, .energy_wh = 5000, .window_start = 10,
                    .window_end = 14};
    s.loads = &l, s.n_loads = 1;
    expect_err(&s, "/loads/0/energy_wh"); /* 5 kWh in 4 h at 1 kW */
    l.energy_wh = 3000, l.window_end = 9;
    expect_err(&s, "/loads/0/window_end");
    l.window_end = 14, l.single_block = 1;
    expect_err(&s, "/loads/0/single_block");
    l.on_off = 1, l.energy_wh = 2500;
    expect_err(&s, "/loads/0/energy_wh"); /* not whole steps */
    l = (nq_en_load){.name = "x", .nominal_w = 1000, .energy_wh = 3000};
    s.import_max_w = 100; /* 400 W load, 1 kW battery: step 0 passes, 4 kWh can't */
    s.battery.discharge_max_w = 0;
    expect_err(&s, "/import_max_w");
    /* Each step alone fits, the whole does not: GLPK's infeasibility. */
    s.battery = bat, s.import_max_w = 600, s.pv_w = NULL;
    l.energy_wh = 20000;
    expect_err(&s, "/load");
    /* the baseline has no battery: its imports break the limit */
    s.n_loads = 0, s.import_max_w = 300;
    s.battery.soc_final = -1, s.battery.soc_min = 0;
    double cost = 1;
    nq_err err;
    assert_int_equal(nq_en_baseline(&s, &cost, &err), NQ_EINVAL);
    assert_string_equal(err.where, "/import_max_w");
    assert_int_equal(nq_en_site_solve(NULL, NULL, &err), NQ_EINVAL);
    nq_en_schedule_free(NULL);
}

/* ---- time limit and cancel ------------------------------------------------------------ */

/* The 48-h MILP within half a second (it closes in tens of ms), and a
 * week's MILP given 20 ms: the best schedule found then, still checked,
 * or no schedule and NQ_ELIMIT. */
static void test_time_limit(void **state)
{
    (void)state;
    ref_data d;
    read_day("2024-06-12", 96, &d);
    nq_en_site s;
    nq_en_load lb[2];
    ref_site(&s, &d, 1, 2, lb);
    s.time_limit = 0.5;
    nq_en_schedule o;
    nq_err err;
    assert_int_equal(nq_en_site_solve(&s, &o, &err), 0);
    check_schedule(&s, &o, 1);
    printf("  48 h MILP in 0.5 s: %.6f %s gap %.2e\n", o.cost_eur, o.status, o.gap);
    assert_true(o.cost_eur >= 2.669318 - 1e-6);
    nq_en_schedule_free(&o);
    read_day("2024-06-12", 336, &d);
    ref_site(&s, &d, 1, 2, lb);
    s.time_limit = 0.02;
    int rc = nq_en_site_solve(&s, &o, &err);
    if (rc == 0) {
        check_schedule(&s, &o, 1);
        printf("  a week's MILP in 20 ms: %.6f %s gap %.2e\n", o.cost_eur, o.status, o.gap);
        assert_true(!strcmp(o.status, "feasible") || !strcmp(o.status, "optimal"));
        if (!strcmp(o.status, "feasible"))
            assert_true(o.gap > 0 && o.gap < 1);
        nq_en_schedule_free(&o);
    } else {
        printf("  a week's MILP in 20 ms: %s\n", err.msg);
        assert_int_equal(rc, NQ_ELIMIT);
        assert_string_equal(err.where, "/time_limit");
    }
    atomic_int stop = 1;
    s.cancel = &stop;
    assert_int_equal(nq_en_site_solve(&s, &o, &err), NQ_ECANCEL);
    assert_null(o.import_w);
}

static int setup(void **state)
{
    (void)state;
    char *ref = slurp("reference_results.json");
    g_ref = ref ? json_loads(ref, 0, NULL) : NULL;
    free(ref);
    return g_ref ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    json_decref(g_ref);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_inputs),
        cmocka_unit_test(test_reference_headline),
        cmocka_unit_test(test_reference_cases),
        cmocka_unit_test(test_mps_instances),
        cmocka_unit_test(test_single_block),
        cmocka_unit_test(test_optional_load),
        cmocka_unit_test(test_peak_charge),
        cmocka_unit_test(test_objectives),
        cmocka_unit_test(test_window_multi_day),
        cmocka_unit_test(test_simultaneous),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_bad_loads_grid),
        cmocka_unit_test(test_time_limit),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
