/* test_energy_uc.c - thermal unit commitment: the exact dispatch and cost
 * of a commitment, the engine's commitment and the GLPK MILP on the
 * classic 10-unit, 24-hour system (Kazarlis, Bakirtzis & Petridis 1996;
 * optimum 563,937.687 USD, shared/data/energy/README.md), its 100-unit
 * replication, and the input checks. Every answer goes through a checker
 * that recomputes it independently. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nqba/clock.h"
#include "nqba/energy.h"

#define OPT 563937.68749 /* the reference optimum (exact cost of the K=60 MILP commitment) */
#define LIT 563937.7     /* the value cited in the literature */
#define MAXU 100
#define MAXT 24

static const char *const REF[10] = {
    "111111111111111111111111", "111111111111111111111111", "000001111111111111111000",
    "000011111111111111111000", "001111111111111111111100", "000000001111110000011110",
    "000000001111110000011100", "000000000111100000010000", "000000000011000000000000",
    "000000000001000000000000",
};

typedef struct uc_case {
    nq_uc_unit units[MAXU];
    double demand[MAXT];
    int32_t n, hours;
} uc_case;

static FILE *open_data(const char *name)
{
    const char *shared = getenv("NQ_SHARED_DIR");
    char path[512];
    snprintf(path, sizeof path, "%s/data/energy/%s", shared ? shared : "../shared", name);
    return fopen(path, "r");
}

/* The 10-unit data, replicated rep times (demand times rep). 0 when the
 * files are missing. */
static int load_case(uc_case *c, int rep)
{
    memset(c, 0, sizeof *c);
    FILE *f = open_data("uc10_units.csv");
    char line[512];
    if (!f)
        return 0;
    while (fgets(line, sizeof line, f) && c->n < 10) {
        nq_uc_unit u = { .pmax = 0 };
        int id;
        if (sscanf(line, "%d,%lf,%lf,%lf,%lf,%lf,%d,%d,%lf,%lf,%d,%d", &id, &u.pmax, &u.pmin,
                   &u.a, &u.b, &u.c, &u.min_up, &u.min_down, &u.hot_start, &u.cold_start,
                   &u.cold_hours, &u.initial_status) != 12)
            continue; /* the header */
        snprintf(u.name, sizeof u.name, "unit%d", id);
        c->units[c->n++] = u;
    }
    fclose(f);
    f = open_data("uc10_demand.csv");
    if (!f)
        return 0;
    while (fgets(line, sizeof line, f) && c->hours < MAXT) {
        int h;
        double d;
        if (sscanf(line, "%d,%lf", &h, &d) == 2)
            c->demand[c->hours++] = d * rep;
    }
    fclose(f);
    for (int r = 1; r < rep; r++)
        for (int32_t i = 0; i < 10; i++) {
            c->units[r * 10 + i] = c->units[i];
            snprintf(c->units[r * 10 + i].name, NQ_EN_NAME_MAX, "unit%d_%d", (int)i + 1, r);
        }
    c->n *= rep;
    return c->n == 10 * rep && c->hours == MAXT;
}

static void get_case(uc_case *c, int rep, nq_uc_problem *p)
{
    if (!load_case(c, rep)) {
        print_message("uc10_units.csv / uc10_demand.csv not found (NQ_SHARED_DIR): skipped\n");
        skip();
    }
    nq_uc_problem_default(p);
    p->n_units = c->n;
    p->hours = c->hours;
    p->units = c->units;
    p->demand = c->demand;
}

static double fuel(const nq_uc_unit *u, double q) { return u->a + u->b * q + u->c * q * q; }

/* ---- the independent checker -------------------------------------------------------- */

/* Min up/down by run lengths, the runs in progress at hour 0 included. */
static void check_runs(const nq_uc_unit *u, const unsigned char *row, int32_t T)
{
    int32_t t = 0;
    int state = u->initial_status > 0;
    int64_t before = state ? u->initial_status : -u->initial_status;
    while (t < T) {
        int32_t e = t;
        while (e < T && (row[e] != 0) == state)
            e++;
        int64_t len = (e - t) + before;
        if (e < T) /* a run the horizon does not cut */
            assert_true(len >= (state ? u->min_up : u->min_down));
        before = 0;
        t = e;
        state = !state;
    }
}

static double startup_cost(const nq_uc_unit *u, const unsigned char *row, int32_t T, int *n)
{
    double cost = 0;
    for (int32_t t = 0; t < T; t++) {
        int prev = t == 0 ? u->initial_status > 0 : row[t - 1];
        if (!row[t] || prev)
            continue;
        int64_t off = 0; /* hours off before t, those before hour 0 included */
        int32_t k = t - 1;
        while (k >= 0 && !row[k])
            off++, k--;
        if (k < 0 && u->initial_status < 0)
            off += -u->initial_status;
        cost += off <= u->min_down + u->cold_hours ? u->hot_start : u->cold_start;
        (*n)++;
    }
    return cost;
}

/* KKT of hour t: a common marginal cost for the units inside their range,
 * units at pmin no cheaper at the margin, units at pmax no dearer. */
static void check_kkt(const nq_uc_problem *p, const nq_uc_result *r, int32_t t)
{
    double lam = r->marginal[t];
    for (int32_t i = 0; i < p->n_units; i++) {
        const nq_uc_unit *u = &p->units[i];
        double q = r->p[(size_t)i * p->hours + t], mc = u->b + 2 * u->c * q;
        if (!r->on[(size_t)i * p->hours + t] || u->pmin == u->pmax)
            continue;
        if (q > u->pmin + 1e-7 && q < u->pmax - 1e-7)
            assert_true(fabs(mc - lam) <= 1e-7 * (1 + lam));
        else if (q <= u->pmin + 1e-7)
            assert_true(mc >= lam - 1e-7 * (1 + lam));
        else
            assert_true(mc <= lam + 1e-7 * (1 + lam));
    }
}

static void check_answer(const nq_uc_problem *p, const nq_uc_result *r)
{
    int32_t T = p->hours, n = p->n_units;
    assert_int_equal(r->n_units, n);
    assert_int_equal(r->hours, T);
    double fc = 0, sc = 0;
    int starts = 0;
    for (int32_t t = 0; t < T; t++) {
        double sum = 0, cap = 0;
        for (int32_t i = 0; i < n; i++) {
            const nq_uc_unit *u = &p->units[i];
            double q = r->p[(size_t)i * T + t];
            assert_true(isfinite(q));
            if (!r->on[(size_t)i * T + t]) {
                assert_true(q == 0);
                continue;
            }
            assert_true(q >= u->pmin - 1e-9 && q <= u->pmax + 1e-9);
            sum += q;
            cap += u->pmax;
            fc += fuel(u, q);
        }
        assert_true(fabs(sum - p->demand[t]) <= 1e-6);
        assert_true(cap >= (1 + p->reserve) * p->demand[t] - 1e-6);
        assert_true(isfinite(r->marginal[t]));
        check_kkt(p, r, t);
    }
    for (int32_t i = 0; i < n; i++) {
        check_runs(&p->units[i], r->on + (size_t)i * T, T);
        sc += startup_cost(&p->units[i], r->on + (size_t)i * T, T, &starts);
    }
    assert_true(fabs(sc - r->startup_cost) <= 1e-9);
    assert_int_equal(starts, r->startups);
    assert_true(fabs(fc - r->fuel_cost) <= 1e-9 * fc);
    assert_true(fabs(r->total_cost - (r->fuel_cost + r->startup_cost)) <= 1e-9 * fc);
}

/* Brute force on hour t: moving a little output from any committed unit to
 * any other never lowers the cost. */
static void check_no_better_shift(const nq_uc_problem *p, const nq_uc_result *r, int32_t t)
{
    int32_t T = p->hours;
    for (int32_t i = 0; i < p->n_units; i++)
        for (int32_t j = 0; j < p->n_units; j++) {
            const nq_uc_unit *a = &p->units[i], *b = &p->units[j];
            if (i == j || !r->on[(size_t)i * T + t] || !r->on[(size_t)j * T + t])
                continue;
            double qi = r->p[(size_t)i * T + t], qj = r->p[(size_t)j * T + t];
            double d = fmin(1e-3, fmin(qi - a->pmin, b->pmax - qj));
            if (d <= 1e-9)
                continue;
            double change = fuel(a, qi - d) + fuel(b, qj + d) - fuel(a, qi) - fuel(b, qj);
            assert_true(change >= -1e-7);
        }
}

static void print_commitment(const nq_uc_problem *p, const nq_uc_result *r, int compare)
{
    char row[NQ_UC_MAX_HOURS + 1];
    for (int32_t i = 0; i < p->n_units && i < 10; i++) {
        for (int32_t t = 0; t < p->hours; t++)
            row[t] = r->on[(size_t)i * p->hours + t] ? '1' : '0';
        row[p->hours] = 0;
        int same = !compare || !strcmp(row, REF[i]);
        print_message("  unit %2d %s%s%s\n", (int)i + 1, row, same ? "" : "  reference ",
                      same ? "" : REF[i]);
    }
}

/* ---- the cost of a given commitment ---------------------------------------------------- */

static unsigned char *ref_commitment(void)
{
    unsigned char *on = malloc(10 * MAXT);
    assert_non_null(on);
    for (int i = 0; i < 10; i++)
        for (int t = 0; t < MAXT; t++)
            on[i * MAXT + t] = REF[i][t] == '1';
    return on;
}

/* The README's optimal commitment: 563,937.687 USD with 4,090 USD of
 * start-ups. Pins the hot/cold convention (a lookback one hour short
 * would add 430) and the dispatch. */
static void test_reference_commitment(void **state)
{
    (void)state;
    uc_case c;
    nq_uc_problem p;
    get_case(&c, 1, &p);
    unsigned char *on = ref_commitment();
    nq_uc_result r;
    nq_err err = { 0 };
    int rc = nq_uc_evaluate(&p, on, &r, &err);
    if (rc)
        print_message("%s: %s\n", err.where, err.msg);
    assert_int_equal(rc, NQ_OK);
    print_message("reference commitment: total %.6f, fuel %.6f, start-up %.1f (%d starts)\n",
                  r.total_cost, r.fuel_cost, r.startup_cost, (int)r.startups);
    assert_true(fabs(r.total_cost - OPT) <= 1e-2);
    assert_true(fabs(r.startup_cost - 4090) <= 1e-9);
    assert_int_equal(r.startups, 11);
    check_answer(&p, &r);
    /* The reference dispatch: unit 2 at 245 MW in hour 1, unit 6 at 73 MW in hour 11. */
    assert_true(fabs(r.p[1 * MAXT + 0] - 245) <= 1e-6);
    assert_true(fabs(r.p[5 * MAXT + 10] - 73) <= 1e-6);
    for (int32_t t = 0; t < p.hours; t += 5)
        check_no_better_shift(&p, &r, t);
    check_no_better_shift(&p, &r, 11);
    nq_uc_result_free(&r);
    free(on);
}

/* Min up/down and reserve breaks name the unit and hour; the initial
 * status counts (unit 1 was on for 8 of its 8 hours, unit 3 off 5 of 5). */
static void test_evaluate_rules(void **state)
{
    (void)state;
    uc_case c;
    nq_uc_problem p;
    get_case(&c, 1, &p);
    unsigned char *on = ref_commitment();
    nq_uc_result r;
    nq_err err = { 0 };
    on[4 * MAXT + 5] = 0; /* unit 5 off after 3 hours on: min up 6 */
    assert_int_equal(nq_uc_evaluate(&p, on, &r, &err), NQ_EINVAL);
    print_message("%s: %s\n", err.where, err.msg);
    assert_string_equal(err.where, "/on/4/5");
    on[4 * MAXT + 5] = 1;
    on[2 * MAXT + 19] = on[2 * MAXT + 20] = 0; /* unit 3 off early: reserve at hour 19 */
    assert_int_equal(nq_uc_evaluate(&p, on, &r, &err), NQ_EINVAL);
    print_message("%s: %s\n", err.where, err.msg);
    assert_string_equal(err.where, "/demand/19");
    on[2 * MAXT + 19] = on[2 * MAXT + 20] = 1;
    memset(on + 9 * MAXT, 0, MAXT); /* unit 10 off: hour 12 short of reserve */
    assert_int_equal(nq_uc_evaluate(&p, on, &r, &err), NQ_EINVAL);
    assert_string_equal(err.where, "/demand/11");
    free(on);
}

/* A unit on for 2 of its 5 min-up hours stays on 3 more; the hours off
 * before hour 0 count towards min down and the cold start. */
static void test_initial_status(void **state)
{
    (void)state;
    nq_uc_result r;
    nq_err err = { 0 };
    nq_uc_unit u[2] = {
        { .name = "a", .pmax = 100, .pmin = 10, .a = 100, .b = 10, .c = 0.01, .min_up = 5,
          .min_down = 2, .hot_start = 50, .cold_start = 100, .cold_hours = 1, .initial_status = 2 },
        { .name = "b", .pmax = 100, .pmin = 10, .a = 100, .b = 20, .c = 0.01, .min_up = 1,
          .min_down = 3, .hot_start = 50, .cold_start = 100, .cold_hours = 1,
          .initial_status = -1 },
    };
    double d[6] = { 50, 50, 50, 50, 50, 50 };
    nq_uc_problem q;
    nq_uc_problem_default(&q);
    q.n_units = 2, q.hours = 6, q.units = u, q.demand = d, q.reserve = 0;
    unsigned char o[12] = { 1, 1, 0, 0, 0, 0, /* b */ 0, 0, 1, 1, 1, 1 };
    assert_int_equal(nq_uc_evaluate(&q, o, &r, &err), NQ_EINVAL);
    assert_string_equal(err.where, "/on/0/2");
    o[2] = 1, o[8] = 0;
    assert_int_equal(nq_uc_evaluate(&q, o, &r, &err), NQ_OK); /* a off at 3: 5 hours on */
    check_answer(&q, &r);
    /* b was off 1 hour before hour 0 and starts at hour 3: off 4 hours; hot up to
     * min_down + cold_hours = 4 */
    assert_true(fabs(r.startup_cost - 50) <= 1e-12);
    nq_uc_result_free(&r);
    o[3] = 1, o[9] = 0; /* a on a fourth hour; b off 5 hours: cold */
    assert_int_equal(nq_uc_evaluate(&q, o, &r, &err), NQ_OK);
    assert_true(fabs(r.startup_cost - 100) <= 1e-12);
    nq_uc_result_free(&r);
    o[9] = 1, o[6] = 1; /* b on at hour 0 after 1 hour off: min down 3 */
    assert_int_equal(nq_uc_evaluate(&q, o, &r, &err), NQ_EINVAL);
    assert_string_equal(err.where, "/on/1/0");
}

/* Units of zero c: at a bound unless lambda is their b; ties share in
 * index order. Equal incremental costs otherwise, to rounding. */
static void test_dispatch_linear_units(void **state)
{
    (void)state;
    nq_uc_unit u[4] = {
        { .name = "lin1", .pmax = 50, .pmin = 10, .a = 10, .b = 20, .c = 0, .min_up = 1,
          .min_down = 1, .initial_status = 1 },
        { .name = "lin2", .pmax = 40, .pmin = 5, .a = 10, .b = 20, .c = 0, .min_up = 1,
          .min_down = 1, .initial_status = 1 },
        { .name = "quad", .pmax = 100, .pmin = 20, .a = 10, .b = 10, .c = 0.1, .min_up = 1,
          .min_down = 1, .initial_status = 1 },
        { .name = "cheap", .pmax = 30, .pmin = 0, .a = 0, .b = 5, .c = 0, .min_up = 1,
          .min_down = 1, .initial_status = 1 },
    };
    /* quad's marginal cost is 20 USD/MWh at 50 MW. The demands walk lambda
     * over the pieces: all at pmin, cheap's tie at 5, the linear units' tie
     * at 20 (twice), quad rising alone, all at pmax. */
    double d[6] = { 35, 60, 100, 150, 190, 220 };
    nq_uc_problem q;
    nq_uc_problem_default(&q);
    q.n_units = 4, q.hours = 6, q.units = u, q.demand = d, q.reserve = 0;
    unsigned char on[24];
    memset(on, 1, sizeof on);
    nq_uc_result r;
    nq_err err = { 0 };
    assert_int_equal(nq_uc_evaluate(&q, on, &r, &err), NQ_OK);
    check_answer(&q, &r);
    for (int32_t t = 0; t < 6; t++) {
        print_message("demand %5.1f: lambda %7.3f, p = %.6f %.6f %.6f %.6f\n", d[t],
                      r.marginal[t], r.p[t], r.p[6 + t], r.p[12 + t], r.p[18 + t]);
        check_no_better_shift(&q, &r, t);
    }
    /* 100 MW: cheap 30, quad at 50 (lambda 20), the tie takes 20: lin1 15, lin2 5 */
    assert_true(fabs(r.marginal[2] - 20) <= 1e-12);
    assert_true(fabs(r.p[12 + 2] - 50) <= 1e-9);
    assert_true(fabs(r.p[0 + 2] - 15) <= 1e-9 && fabs(r.p[6 + 2] - 5) <= 1e-9);
    /* 150 MW: lin1 at 50, lin2 at 20 (in index order) */
    assert_true(fabs(r.p[0 + 3] - 50) <= 1e-9 && fabs(r.p[6 + 3] - 20) <= 1e-9);
    /* 190 MW: both linear units full, quad at 70 */
    assert_true(fabs(r.p[12 + 4] - 70) <= 1e-9 && fabs(r.marginal[4] - 24) <= 1e-9);
    nq_uc_result_free(&r);
}

/* ---- the engine's commitment ------------------------------------------------------------ */

static int same_as_reference(const nq_uc_result *r)
{
    for (int i = 0; i < 10; i++)
        for (int t = 0; t < MAXT; t++)
            if (r->on[i * MAXT + t] != (REF[i][t] == '1'))
                return 0;
    return 1;
}

static void test_solve_10_units(void **state)
{
    (void)state;
    uc_case c;
    nq_uc_problem p;
    get_case(&c, 1, &p);
    p.time_limit = 10; /* a ceiling for slow builds; the search ends long before */
    nq_uc_result r, again;
    nq_err err = { 0 };
    double t0 = nq_clock_s();
    int rc = nq_uc_solve(&p, &r, &err);
    double el = nq_clock_s() - t0;
    if (rc)
        print_message("%s: %s\n", err.where, err.msg);
    assert_int_equal(rc, NQ_OK);
    print_message("10 units: %.6f USD (fuel %.6f, start-up %.1f, %d starts), gap to %.3f: "
                  "%.2e, %.3f s, %lld commitments evaluated, %s\n",
                  r.total_cost, r.fuel_cost, r.startup_cost, (int)r.startups, OPT,
                  (r.total_cost - OPT) / OPT, el, (long long)r.iterations, r.method);
    print_commitment(&p, &r, 1);
    check_answer(&p, &r);
    assert_true(fabs(r.total_cost - LIT) <= 1e-3 * LIT);
    if (fabs(r.total_cost - OPT) <= 1e-3)
        assert_true(same_as_reference(&r));
    assert_true(r.lower_bound == 0);
    /* The same seed, the same answer. */
    assert_int_equal(nq_uc_solve(&p, &again, &err), NQ_OK);
    assert_true(again.total_cost == r.total_cost);
    assert_memory_equal(again.on, r.on, (size_t)p.n_units * p.hours);
    nq_uc_result_free(&again);
    /* Another seed still finds the optimum. */
    p.seed = 12345;
    assert_int_equal(nq_uc_solve(&p, &again, &err), NQ_OK);
    print_message("seed 12345: %.6f\n", again.total_cost);
    check_answer(&p, &again);
    assert_true(fabs(again.total_cost - LIT) <= 1e-3 * LIT);
    nq_uc_result_free(&again);
    nq_uc_result_free(&r);
}

/* Ten copies of each unit, ten times the demand: the optimum is a little
 * under ten times the 10-unit one (the reserve is met in finer steps). */
static void test_solve_100_units(void **state)
{
    (void)state;
    static uc_case c;
    nq_uc_problem p;
    get_case(&c, 10, &p);
    p.time_limit = 3;
    nq_uc_result r;
    nq_err err = { 0 };
    double t0 = nq_clock_s();
    int rc = nq_uc_solve(&p, &r, &err);
    double el = nq_clock_s() - t0;
    if (rc)
        print_message("%s: %s\n", err.where, err.msg);
    assert_int_equal(rc, NQ_OK);
    print_message("100 units: %.3f USD (%.4f x 10 x the 10-unit optimum), %d starts, %.3f s, "
                  "%lld commitments evaluated\n",
                  r.total_cost, r.total_cost / (10 * OPT), (int)r.startups, el,
                  (long long)r.iterations);
    check_answer(&p, &r);
    assert_true(r.total_cost <= 10 * LIT * 1.005);
    assert_true(el < p.time_limit + 1.0);
    nq_uc_result_free(&r);
}

/* Small random systems (zero-c units among them) against every
 * commitment: the search finds the optimum, the MILP brackets it. */
static uint64_t lcg(uint64_t *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return *s >> 33;
}

static double uniform(uint64_t *s, double lo, double hi)
{
    return lo + (hi - lo) * (double)(lcg(s) % 1000000) / 1e6;
}

static void random_case(uint64_t seed, nq_uc_unit *u, int32_t n, double *d, int32_t T)
{
    uint64_t s = seed;
    double cap = 0, minp = 0;
    for (int32_t i = 0; i < n; i++) {
        u[i] = (nq_uc_unit){ .pmax = uniform(&s, 50, 200) };
        snprintf(u[i].name, sizeof u[i].name, "r%d", (int)i);
        u[i].pmin = u[i].pmax * uniform(&s, 0.1, 0.5);
        u[i].a = uniform(&s, 100, 800);
        u[i].b = uniform(&s, 15, 30);
        u[i].c = lcg(&s) % 3 == 0 ? 0 : uniform(&s, 0.0005, 0.01);
        u[i].min_up = 1 + (int32_t)(lcg(&s) % 3);
        u[i].min_down = 1 + (int32_t)(lcg(&s) % 3);
        u[i].hot_start = uniform(&s, 50, 500);
        u[i].cold_start = 2 * u[i].hot_start;
        u[i].cold_hours = (int32_t)(lcg(&s) % 3);
        u[i].initial_status = (int32_t)(1 + lcg(&s) % 4) * (lcg(&s) % 2 ? 1 : -1);
        cap += u[i].pmax;
        minp = fmax(minp, u[i].pmin);
    }
    for (int32_t t = 0; t < T; t++)
        d[t] = uniform(&s, minp, cap / 1.1);
}

static void test_small_exhaustive(void **state)
{
    (void)state;
    enum { N = 3, T = 6 };
    int solved = 0;
    for (uint64_t seed = 1; seed <= 20; seed++) {
        nq_uc_unit u[N];
        double d[T];
        random_case(seed, u, N, d, T);
        nq_uc_problem p;
        nq_uc_problem_default(&p);
        p.n_units = N, p.hours = T, p.units = u, p.demand = d, p.time_limit = 10;
        nq_err err = { 0 };
        if (nq_uc_check(&p, &err) != NQ_OK)
            continue; /* the initial status makes some hour impossible */
        double best = INFINITY;
        unsigned char on[N * T];
        for (uint32_t mask = 0; mask < (1u << (N * T)); mask++) {
            for (int k = 0; k < N * T; k++)
                on[k] = (mask >> k) & 1;
            nq_uc_result r;
            if (nq_uc_evaluate(&p, on, &r, &err) == NQ_OK) {
                best = fmin(best, r.total_cost);
                nq_uc_result_free(&r);
            }
        }
        nq_uc_result r, m;
        int rc = nq_uc_solve(&p, &r, &err);
        if (!isfinite(best)) {
            assert_int_equal(rc, NQ_EINVAL); /* no commitment at all */
            continue;
        }
        assert_int_equal(rc, NQ_OK);
        check_answer(&p, &r);
        assert_int_equal(nq_uc_solve_milp(&p, 40, 30, &m, &err), NQ_OK);
        check_answer(&p, &m);
        print_message("seed %2d: every commitment %.6f, search %.6f, MILP [%.6f, %.6f]\n",
                      (int)seed, best, r.total_cost, m.lower_bound, m.total_cost);
        assert_true(fabs(r.total_cost - best) <= 1e-6 * best);
        assert_true(m.lower_bound <= best + 1e-6 && m.total_cost >= best - 1e-6);
        nq_uc_result_free(&r);
        nq_uc_result_free(&m);
        solved++;
    }
    assert_true(solved >= 10);
}

/* ---- the MILP cross-check ---------------------------------------------------------------- */

static void test_milp(void **state)
{
    (void)state;
    uc_case c;
    nq_uc_problem p;
    get_case(&c, 1, &p);
    nq_uc_result m, e;
    nq_err err = { 0 };
    double t0 = nq_clock_s();
    int rc = nq_uc_solve_milp(&p, 5, 60, &m, &err);
    double el = nq_clock_s() - t0;
    if (rc)
        print_message("%s: %s\n", err.where, err.msg);
    assert_int_equal(rc, NQ_OK);
    print_message("MILP, 5 tangents: bound %.6f, commitment %.6f, %lld nodes, %.3f s, %s\n",
                  m.lower_bound, m.total_cost, (long long)m.iterations, el, m.method);
    check_answer(&p, &m);
    assert_true(isfinite(m.lower_bound));
    assert_true(m.lower_bound <= OPT + 1e-6);
    assert_true(OPT <= m.total_cost + 1e-6);
    p.time_limit = 10;
    assert_int_equal(nq_uc_solve(&p, &e, &err), NQ_OK);
    assert_true(e.total_cost <= m.total_cost * 1.001);
    assert_true(e.total_cost >= m.lower_bound - 1e-6);
    nq_uc_result_free(&e);
    nq_uc_result_free(&m);
    assert_int_equal(nq_uc_solve_milp(&p, 0, 10, &m, &err), NQ_EINVAL);
    assert_string_equal(err.where, "/tangents");
    assert_int_equal(nq_uc_solve_milp(&p, 5, -1, &m, &err), NQ_EINVAL);
    assert_string_equal(err.where, "/time_limit");
}

/* ---- bad input ------------------------------------------------------------------------- */

static void expect_bad(const nq_uc_problem *p, int code, const char *where)
{
    nq_err err = { 0 };
    nq_uc_result r;
    assert_int_equal(nq_uc_check(p, &err), code);
    assert_string_equal(err.where, where);
    assert_int_equal(nq_uc_solve(p, &r, &err), code);
    assert_string_equal(err.where, where);
    assert_int_equal(nq_uc_solve_milp(p, 5, 1, &r, &err), code);
    unsigned char on[10 * MAXT];
    memset(on, 1, sizeof on);
    assert_int_equal(nq_uc_evaluate(p, on, &r, &err), code);
}

static void test_bad_input(void **state)
{
    (void)state;
    uc_case c;
    nq_uc_problem p;
    get_case(&c, 1, &p);
    nq_err err = { 0 };
    assert_int_equal(nq_uc_check(&p, &err), NQ_OK);
    c.units[3].pmin = 200;
    expect_bad(&p, NQ_EINVAL, "/units/3/pmin");
    c.units[3].pmin = 20;
    c.units[2].c = -0.001;
    expect_bad(&p, NQ_EINVAL, "/units/2/c");
    c.units[2].c = NAN;
    expect_bad(&p, NQ_EINVAL, "/units/2/c");
    c.units[2].c = 0.002;
    c.units[1].min_up = 0;
    expect_bad(&p, NQ_EINVAL, "/units/1/min_up");
    c.units[1].min_up = 8;
    c.units[7].min_down = -1;
    expect_bad(&p, NQ_EINVAL, "/units/7/min_down");
    c.units[7].min_down = 1;
    c.units[4].initial_status = 0;
    expect_bad(&p, NQ_EINVAL, "/units/4/initial_status");
    c.units[4].initial_status = -6;
    c.units[5].hot_start = -1;
    expect_bad(&p, NQ_EINVAL, "/units/5/hot_start");
    c.units[5].hot_start = 170;
    c.demand[11] = 1700; /* 1662 MW installed */
    expect_bad(&p, NQ_EINVAL, "/demand/11");
    c.demand[11] = 1550; /* 1705 MW with the reserve */
    expect_bad(&p, NQ_EINVAL, "/demand/11");
    c.demand[11] = -5;
    expect_bad(&p, NQ_EINVAL, "/demand/11");
    c.demand[11] = 1500;
    c.demand[0] = 100; /* units 1 and 2 (on 8 of 8 min-up hours) may stop at once */
    assert_int_equal(nq_uc_check(&p, &err), NQ_OK);
    c.units[0].initial_status = 2; /* now unit 1 must stay on 6 more hours: 150 MW > 100 MW */
    c.units[1].initial_status = 2;
    expect_bad(&p, NQ_EINVAL, "/demand/0");
}

static void test_bad_sizes(void **state)
{
    (void)state;
    uc_case c;
    nq_uc_problem p;
    get_case(&c, 1, &p);
    nq_err err = { 0 };
    p.reserve = -0.1;
    expect_bad(&p, NQ_EINVAL, "/reserve");
    p.reserve = 0.1;
    p.hours = 0;
    expect_bad(&p, NQ_EINVAL, "/hours");
    p.hours = NQ_UC_MAX_HOURS + 1;
    assert_int_equal(nq_uc_check(&p, &err), NQ_ELIMIT);
    assert_string_equal(err.where, "/hours");
    p.hours = 24;
    p.n_units = NQ_UC_MAX_UNITS + 1;
    assert_int_equal(nq_uc_check(&p, &err), NQ_ELIMIT);
    assert_string_equal(err.where, "/units");
    p.n_units = 0;
    expect_bad(&p, NQ_EINVAL, "/units");
    p.n_units = 10;
    p.demand = NULL;
    expect_bad(&p, NQ_EINVAL, "/demand");
    p.demand = c.demand;
    nq_uc_result r;
    assert_int_equal(nq_uc_evaluate(&p, NULL, &r, &err), NQ_EINVAL);
    assert_int_equal(nq_uc_check(NULL, &err), NQ_EINVAL);
    assert_int_equal(nq_uc_solve(&p, NULL, &err), NQ_EINVAL);
    nq_uc_result_free(NULL);
    assert_int_equal(nq_uc_check(&p, &err), NQ_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_commitment),
        cmocka_unit_test(test_evaluate_rules),
        cmocka_unit_test(test_initial_status),
        cmocka_unit_test(test_dispatch_linear_units),
        cmocka_unit_test(test_solve_10_units),
        cmocka_unit_test(test_solve_100_units),
        cmocka_unit_test(test_small_exhaustive),
        cmocka_unit_test(test_milp),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_bad_sizes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
