/* test_assign.c - lead-to-rep assignment: the engine path against GLPK's
 * MILP on generated instances, against exhaustive enumeration on small
 * ones, every answer through an independent checker; input errors and
 * infeasible options. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nqba/assign.h"

/* ---- a deterministic generator (splitmix64: independent of the library) ---- */

static uint64_t mix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double unif(uint64_t *s)
{
    return (double)(mix(s) >> 11) * 0x1.0p-53;
}
static int32_t below(uint64_t *s, int32_t n)
{
    return (int32_t)(mix(s) % (uint64_t)n);
}

enum { F_ALL = 1, F_BAL = 2, F_SPREAD = 4, F_MATRIX = 8, F_MULT = 16, F_MIN = 32 };

typedef struct inst {
    nq_assign_spec s;
    nq_assign_lead *leads;
    nq_assign_rep *reps;
    uint8_t *elig;
    double *mult;
} inst;

static void inst_free(inst *x)
{
    free(x->leads);
    free(x->reps);
    free(x->elig);
    free(x->mult);
}

/* Leads need 0-2 of 6 skill/territory bits; reps cover most bits; values
 * are score x deal size; capacities around the average load. */
static void gen(inst *x, uint64_t seed, int32_t L, int32_t R, unsigned flags)
{
    uint64_t st = seed * 7919 + 17;
    memset(x, 0, sizeof *x);
    x->leads = calloc((size_t)L, sizeof *x->leads);
    x->reps = calloc((size_t)R, sizeof *x->reps);
    assert_non_null(x->leads);
    assert_non_null(x->reps);
    for (int32_t l = 0; l < L; l++) {
        x->leads[l].value = round(unif(&st) * (1000 + 49000 * unif(&st)) * 100) / 100;
        for (int k = below(&st, 3); k > 0; k--)
        x->leads[l].requires |= 1ULL << below(&st, 6);
    }
    double avg = (double)L / R;
    for (int32_t r = 0; r < R; r++) {
        x->reps[r].provides = 0x3f & ~(1ULL << below(&st, 6)) & ~(1ULL << below(&st, 8));
        x->reps[r].capacity = (int32_t)ceil(avg * (0.7 + 1.0 * unif(&st)));
        if (flags & F_BAL && x->reps[r].capacity < (int32_t)ceil(avg))
            x->reps[r].capacity = (int32_t)ceil(avg);
        if (flags & F_MIN)
            x->reps[r].min_load = (int32_t)floor(avg * 0.4 * unif(&st));
    }
    if (flags & F_MATRIX) {
        x->elig = malloc((size_t)L * (size_t)R);
        for (size_t k = 0; k < (size_t)L * (size_t)R; k++)
            x->elig[k] = unif(&st) < 0.8;
    }
    if (flags & F_MULT) {
        x->mult = malloc((size_t)L * (size_t)R * sizeof *x->mult);
        for (size_t k = 0; k < (size_t)L * (size_t)R; k++)
            x->mult[k] = 0.5 + unif(&st);
    }
    for (int32_t l = 0; l < L; l++) { /* every lead gets at least one eligible rep */
        int32_t r0 = below(&st, R);
        if ((x->leads[l].requires & x->reps[r0].provides) != x->leads[l].requires)
        x->leads[l].requires &= x->reps[r0].provides;
        if (x->elig)
            x->elig[(size_t)l * R + r0] = 1;
    }
    x->s = (nq_assign_spec){.n_leads = L,
                            .n_reps = R,
                            .leads = x->leads,
                            .reps = x->reps,
                            .eligible = x->elig,
                            .multiplier = x->mult,
                            .assign_all = (flags & F_ALL) != 0,
                            .seed = seed,
                            .fairness = (flags & F_BAL)      ? NQ_ASSIGN_FAIR_BALANCED
                                        : (flags & F_SPREAD) ? NQ_ASSIGN_FAIR_SPREAD
                                                             : NQ_ASSIGN_FAIR_NONE,
                            .fairness_weight = (flags & F_SPREAD) ? 3000.0 : 0.0};
}

/* ---- an independent checker ---------------------------------------------- */

static int ok_pair(const nq_assign_spec *s, int32_t l, int32_t r)
{
    if ((s->leads[l].requires & s->reps[r].provides) != s->leads[l].requires)
        return 0;
    return !s->eligible || s->eligible[(size_t)l * s->n_reps + r];
}

static double pair_value(const nq_assign_spec *s, int32_t l, int32_t r)
{
    return s->leads[l].value * (s->multiplier ? s->multiplier[(size_t)l * s->n_reps + r] : 1.0);
}

/* Objective of rep_of, or -INFINITY when it breaks a hard constraint. */
static double judge(const nq_assign_spec *s, const int32_t *rep_of)
{
    int32_t L = s->n_leads, R = s->n_reps, fl = L / R, ce = (L + R - 1) / R;
    int32_t load[64] = {0};
    assert_true(R <= 64);
    double v = 0;
    for (int32_t l = 0; l < L; l++) {
        if (rep_of[l] < 0) {
            if (s->assign_all)
                return -INFINITY;
            continue;
        }
        if (rep_of[l] >= R || !ok_pair(s, l, rep_of[l]))
            return -INFINITY;
        load[rep_of[l]]++;
        v += pair_value(s, l, rep_of[l]);
    }
    int32_t mn = load[0], mx = load[0];
    for (int32_t r = 0; r < R; r++) {
        if (load[r] > s->reps[r].capacity || load[r] < s->reps[r].min_load)
            return -INFINITY;
        if (s->fairness == NQ_ASSIGN_FAIR_BALANCED && (load[r] < fl || load[r] > ce))
            return -INFINITY;
        mn = load[r] < mn ? load[r] : mn;
        mx = load[r] > mx ? load[r] : mx;
    }
    return s->fairness == NQ_ASSIGN_FAIR_SPREAD ? v - s->fairness_weight * (mx - mn) : v;
}

static int close_rel(double a, double b)
{
    return fabs(a - b) <= 1e-9 * (1.0 + fabs(b));
}

static void check_answer(const nq_assign_spec *s, const nq_assign_result *r)
{
    double obj = judge(s, r->rep_of);
    assert_true(isfinite(obj));
    assert_true(close_rel(r->objective, obj));
    int32_t n = 0, load[64] = {0};
    for (int32_t l = 0; l < s->n_leads; l++)
        if (r->rep_of[l] >= 0)
            n++, load[r->rep_of[l]]++;
    assert_int_equal(r->n_assigned, n);
    for (int32_t q = 0; q < s->n_reps; q++)
        assert_int_equal(r->load[q], load[q]);
}

/* ---- engine against MILP --------------------------------------------------- */

/* Ten option mixes; most with pair multipliers, where the rep matters. */
static const unsigned MODES[] = {F_MULT,
                                 F_ALL | F_MULT,
                                 F_BAL | F_MULT,
                                 F_ALL | F_BAL,
                                 F_SPREAD | F_MULT,
                                 F_SPREAD | F_ALL | F_MULT,
                                 F_MATRIX | F_MULT,
                                 F_ALL | F_MIN | F_MULT,
                                 F_SPREAD | F_MIN | F_MATRIX,
                                 F_BAL | F_ALL | F_MATRIX | F_MULT};

static void test_engine_matches_milp(void **state)
{
    (void)state;
    static const int32_t sizes[][2] = {{12, 3}, {40, 4}, {80, 5}, {150, 8}, {200, 10}};
    int agreed = 0, infeasible = 0;
    for (int i = 0; i < 30; i++) {
        int32_t L = sizes[i % 5][0], R = sizes[i % 5][1];
        unsigned flags = MODES[(i * 7 + i / 5) % 10];
        inst x;
        gen(&x, (uint64_t)i + 1, L, R, flags);
        nq_assign_result a, m;
        nq_err ea = {0}, em = {0};
        int ra = nq_assign_solve(&x.s, &a, &ea);
        int rm = nq_assign_solve_milp(&x.s, 60, &m, &em);
        assert_int_equal(ra, rm);
        if (ra == NQ_EINVAL) { /* infeasible options: both say so, at the same place */
            assert_string_equal(ea.where, em.where);
            infeasible++;
        } else {
            assert_int_equal(ra, NQ_OK);
            check_answer(&x.s, &a);
            check_answer(&x.s, &m);
            assert_true(m.proven_optimal);
            assert_true(a.proven_optimal);
            if (!close_rel(a.objective, m.objective))
                fail_msg("instance %d (%dx%d, flags %u): engine %.10g, MILP %.10g", i, (int)L,
                         (int)R, flags, a.objective, m.objective);
            agreed++;
            nq_assign_result_free(&a);
            nq_assign_result_free(&m);
        }
        inst_free(&x);
    }
    assert_true(agreed >= 28);
    (void)infeasible;
}

/* ---- exhaustive enumeration on small instances ------------------------------ */

/* Best objective over every assignment (each lead: a rep or none); -inf
 * when nothing is feasible. */
static double enumerate(const nq_assign_spec *s)
{
    int32_t L = s->n_leads, R = s->n_reps, rep_of[12];
    assert_true(L <= 12);
    int64_t total = 1;
    for (int32_t l = 0; l < L; l++)
        total *= R + 1;
    double best = -INFINITY;
    for (int64_t code = 0; code < total; code++) {
        int64_t c = code;
        for (int32_t l = 0; l < L; l++, c /= R + 1)
            rep_of[l] = (int32_t)(c % (R + 1)) - 1;
        double v = judge(s, rep_of);
        best = v > best ? v : best;
    }
    return best;
}

static void test_exhaustive_small(void **state)
{
    (void)state;
    int feasible = 0, infeasible = 0;
    for (int i = 0; i < 40; i++) {
        int32_t L = 6 + i % 2, R = 3;
        unsigned flags = MODES[i % 10];
        inst x;
        gen(&x, (uint64_t)i + 100, L, R, flags);
        if (i % 4 == 3) /* tighter: capacities that bind */
            for (int32_t r = 0; r < R; r++)
                x.reps[r].capacity = 1 + r % 2;
        double best = enumerate(&x.s);
        nq_assign_result a, m;
        nq_err ea = {0}, em = {0};
        int ra = nq_assign_solve(&x.s, &a, &ea), rm = nq_assign_solve_milp(&x.s, 0, &m, &em);
        if (!isfinite(best)) {
            assert_int_equal(ra, NQ_EINVAL);
            assert_int_equal(rm, NQ_EINVAL);
            infeasible++;
        } else {
            assert_int_equal(ra, NQ_OK);
            assert_int_equal(rm, NQ_OK);
            check_answer(&x.s, &a);
            check_answer(&x.s, &m);
            if (!close_rel(a.objective, best) || !close_rel(m.objective, best))
                fail_msg("instance %d flags %u: engine %.10g, MILP %.10g, enumeration %.10g", i,
                         flags, a.objective, m.objective, best);
            assert_true(a.proven_optimal);
            feasible++;
            nq_assign_result_free(&a);
            nq_assign_result_free(&m);
        }
        inst_free(&x);
    }
    assert_true(feasible >= 20);
    assert_true(infeasible >= 1);
}

/* ---- more than the engine carries: the greedy start ------------------------- */

static void test_large_greedy_start(void **state)
{
    (void)state;
    inst x;
    gen(&x, 4242, 20500, 4, F_ALL);
    nq_assign_result a, m;
    nq_err e = {0};
    assert_int_equal(nq_assign_solve(&x.s, &a, &e), NQ_OK);
    assert_non_null(strstr(a.method, "greedy"));
    assert_int_equal(nq_assign_solve_milp(&x.s, 120, &m, &e), NQ_OK);
    check_answer(&x.s, &a);
    assert_true(a.proven_optimal);
    assert_true(close_rel(a.objective, m.objective));
    nq_assign_result_free(&a);
    nq_assign_result_free(&m);
    inst_free(&x);
}

/* ---- determinism and cancellation -------------------------------------------- */

static void test_deterministic(void **state)
{
    (void)state;
    inst x;
    gen(&x, 9, 120, 6, F_SPREAD | F_MULT);
    nq_assign_result a, b;
    nq_err e = {0};
    assert_int_equal(nq_assign_solve(&x.s, &a, &e), NQ_OK);
    assert_int_equal(nq_assign_solve(&x.s, &b, &e), NQ_OK);
    assert_memory_equal(a.rep_of, b.rep_of, 120 * sizeof *a.rep_of);
    assert_true(a.objective == b.objective);
    nq_assign_result_free(&a);
    nq_assign_result_free(&b);
    atomic_int stop = 1;
    x.s.cancel = &stop;
    assert_int_equal(nq_assign_solve(&x.s, &a, &e), NQ_ECANCEL);
    assert_null(a.rep_of);
    inst_free(&x);
}

/* ---- bad input and infeasible options ------------------------------------------ */

static void expect_einval(const nq_assign_spec *s, const char *where, const char *needle)
{
    nq_assign_result r;
    nq_err e = {0};
    assert_int_equal(nq_assign_solve(s, &r, &e), NQ_EINVAL);
    assert_string_equal(e.where, where);
    if (needle && !strstr(e.msg, needle))
        fail_msg("message \"%s\" lacks \"%s\"", e.msg, needle);
    nq_err_clear(&e);
    assert_int_equal(nq_assign_solve_milp(s, 0, &r, &e), NQ_EINVAL);
    assert_string_equal(e.where, where);
}

static void test_bad_input(void **state)
{
    (void)state;
    inst x;
    gen(&x, 5, 10, 4, 0);
    x.leads[7].value = -1;
    expect_einval(&x.s, "/leads/7/value", NULL);
    x.leads[7].value = NAN;
    expect_einval(&x.s, "/leads/7/value", NULL);
    x.leads[7].value = 10;
    x.reps[3].capacity = -2;
    expect_einval(&x.s, "/reps/3/capacity", NULL);
    x.reps[3].capacity = 2;
    x.reps[2].min_load = 9;
    expect_einval(&x.s, "/reps/2/min_load", NULL);
    x.reps[2].min_load = 0;
    x.s.n_reps = 0;
    expect_einval(&x.s, "/reps", NULL);
    x.s.n_reps = 4;
    x.s.fairness = NQ_ASSIGN_FAIR_SPREAD;
    x.s.fairness_weight = -1;
    expect_einval(&x.s, "/fairness_weight", NULL);
    x.s.fairness = NQ_ASSIGN_FAIR_NONE;
    double mult[40];
    for (int k = 0; k < 40; k++)
        mult[k] = 1;
    mult[1 * 4 + 2] = INFINITY;
    x.s.multiplier = mult;
    expect_einval(&x.s, "/multiplier/1/2", NULL);
    x.s.multiplier = NULL;
    x.s.time_limit = -1;
    expect_einval(&x.s, "/time_limit", NULL);
    inst_free(&x);
}

static void test_infeasible_options(void **state)
{
    (void)state;
    inst x;
    gen(&x, 6, 10, 3, F_ALL);
    for (int32_t r = 0; r < 3; r++)
        x.reps[r].capacity = 3, x.reps[r].provides = 0xff;
    /* total capacity 9 < 10 leads */
    expect_einval(&x.s, "/reps", "sum to 9, below the 10 leads");
    x.reps[0].capacity = 4;
    x.leads[4].requires = 1ULL << 40; /* no rep covers it */
    expect_einval(&x.s, "/eligibility/4", "lead 4 has no eligible rep");
    x.leads[4].requires = 0;
    /* Hall: leads 0..4 may only go to rep 0 (capacity 4) */
    uint8_t elig[30];
    for (int k = 0; k < 30; k++)
        elig[k] = k / 3 >= 5 || k % 3 == 0;
    x.s.eligible = elig;
    expect_einval(&x.s, "/eligibility", "1 lead slot");
    x.s.eligible = NULL;
    /* minimum loads above the lead count */
    x.s.assign_all = 0;
    for (int32_t r = 0; r < 3; r++)
        x.reps[r].min_load = 4, x.reps[r].capacity = 4;
    expect_einval(&x.s, "/reps", "minimum loads sum to 12");
    /* balanced: floor(10/3) = 3 > capacity 2 */
    for (int32_t r = 0; r < 3; r++)
        x.reps[r].min_load = 0, x.reps[r].capacity = 5;
    x.reps[1].capacity = 2;
    x.s.fairness = NQ_ASSIGN_FAIR_BALANCED;
    expect_einval(&x.s, "/reps/1/capacity", "floor(10 leads / 3 reps) = 3");
    inst_free(&x);
}

/* Optional leads with the plain objective: a lead nobody may take stays out,
 * and min loads pull leads in. */
static void test_small_known(void **state)
{
    (void)state;
    nq_assign_lead leads[4] = {
        {.value = 10}, {.value = 8}, {.value = 5}, {.value = 7, .requires = 4}};
    nq_assign_rep reps[2] = {{.capacity = 1, .provides = 3}, {.capacity = 2, .provides = 1}};
    nq_assign_spec s = {.n_leads = 4, .n_reps = 2, .leads = leads, .reps = reps};
    nq_assign_result r;
    nq_err e = {0};
    assert_int_equal(nq_assign_solve(&s, &r, &e), NQ_OK);
    assert_true(r.total_value == 23);
    assert_int_equal(r.rep_of[3], -1);
    assert_int_equal(r.n_assigned, 3);
    assert_true(r.proven_optimal);
    nq_assign_result_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_small_known),         cmocka_unit_test(test_exhaustive_small),
        cmocka_unit_test(test_engine_matches_milp), cmocka_unit_test(test_large_greedy_start),
        cmocka_unit_test(test_deterministic),       cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_infeasible_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
