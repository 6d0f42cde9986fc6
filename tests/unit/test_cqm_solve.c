/* test_cqm_solve.c - the constrained-model solver against independent
 * answers: brute-force enumeration written here (every assignment scored
 * with nq_cqm_evaluate) for small random models, and GLPK's exact MILP for
 * the generated problem families. Also the QUBO compilation (zero penalty
 * exactly on feasible assignments), alternatives, determinism and
 * cancellation. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../lib/solve/cqm_qubo.h"
#include "cqm_families.h"
#include "nqba/clock.h"
#include "nqba/cqm.h"
#include "nqba/rng.h"

/* ---- brute force ---------------------------------------------------------- */

typedef struct brute {
    double best;     /* best feasible score, INFINITY when none */
    int64_t n_feasible;
} brute;

static void brute_rec(const nq_cqm *m, int64_t *vals, int32_t v, brute *b)
{
    if (v == m->n_vars) {
        nq_cqm_eval ev;
        assert_int_equal(nq_cqm_evaluate(m, vals, &ev, NULL), 0);
        if (ev.feasible) {
            b->n_feasible++;
            if (ev.score < b->best)
                b->best = ev.score;
        }
        nq_cqm_eval_free(&ev);
        return;
    }
    for (int64_t x = m->vars[v].lb; x <= m->vars[v].ub; x++) {
        vals[v] = x;
        brute_rec(m, vals, v + 1, b);
    }
}

static brute brute_force(const nq_cqm *m)
{
    brute b = { .best = INFINITY, .n_feasible = 0 };
    int64_t vals[64];
    brute_rec(m, vals, 0, &b);
    return b;
}

/* ---- random small models ------------------------------------------------------ */

static int64_t uni(nq_rng *r, int64_t lo, int64_t hi)
{
    return lo + (int64_t)nq_rng_below(r, (uint64_t)(hi - lo + 1));
}

static void random_vars(nq_cqm *m, nq_rng *r, int32_t n)
{
    static const char *const labels[] = { "a", "b", "c" };
    char name[16];
    for (int32_t i = 0; i < n; i++) {
        snprintf(name, sizeof name, "v%d", (int)i);
        int kind = (int)nq_rng_below(r, 3);
        int v = kind == 0   ? nq_cqm_add_binary(m, name, NULL)
                : kind == 1 ? nq_cqm_add_integer(m, name, uni(r, -2, 0), uni(r, 1, 3), NULL)
                            : nq_cqm_add_choice(m, name, labels, 3, NULL);
        assert_true(v >= 0);
        if (kind == 2 && nq_rng_below(r, 4) == 0)
            assert_int_equal(nq_cqm_veto(m, v, (int32_t)nq_rng_below(r, 3), NULL), 0);
        else if (nq_rng_below(r, 8) == 0)
            assert_int_equal(nq_cqm_fix(m, v, m->vars[v].lb, NULL), 0);
    }
}

static void random_terms(nq_cqm *m, nq_rng *r, int32_t con, int quad)
{
    for (int32_t k = 0; k < 4; k++) {
        int32_t a = (int32_t)nq_rng_below(r, (uint64_t)m->n_atoms);
        double w = (double)uni(r, -5, 5);
        assert_int_equal(con < 0 ? nq_cqm_obj_linear(m, 0, a, w, NULL)
                                 : nq_cqm_con_linear(m, con, a, w, NULL),
                         0);
        if (!quad)
            continue;
        int32_t b = (int32_t)nq_rng_below(r, (uint64_t)m->n_atoms);
        assert_int_equal(con < 0 ? nq_cqm_obj_quadratic(m, 0, a, b, w, NULL)
                                 : nq_cqm_con_quadratic(m, con, a, b, w, NULL),
                         0);
    }
}

/* A model of n variables with 1..3 constraints; quad_cons allows quadratic
 * constraints (not compilable to a QUBO). */
static void random_model(nq_cqm *m, uint64_t seed, int32_t n, int quad_cons)
{
    nq_rng r;
    nq_rng_seed(&r, seed);
    nq_cqm_init(m);
    random_vars(m, &r, n);
    m->maximize = (int)nq_rng_below(&r, 2);
    m->offset = (double)uni(&r, -3, 3);
    random_terms(m, &r, -1, 1);
    int32_t nc = (int32_t)uni(&r, 1, 3);
    for (int32_t c = 0; c < nc; c++) {
        int soft = nq_rng_below(&r, 4) == 0;
        int con = nq_cqm_add_constraint(m, NULL, (nq_cqm_sense)nq_rng_below(&r, 3),
                                        (double)uni(&r, -4, 4), !soft,
                                        soft ? (double)uni(&r, 1, 9) : -1, NULL);
        assert_true(con >= 0);
        random_terms(m, &r, con, quad_cons && nq_rng_below(&r, 2));
    }
    assert_int_equal(nq_cqm_finish(m, NULL), 0);
}

static void solve_ok(const nq_cqm *m, const char *solver, double limit, uint64_t seed,
                     int32_t alts, nq_cqm_result *res)
{
    nq_cqm_opts o;
    nq_err e = { 0 };
    nq_cqm_opts_default(&o);
    o.solver = solver;
    o.time_limit = limit;
    o.seed = seed;
    o.alternatives = alts;
    int rc = nq_cqm_solve(m, &o, NULL, NULL, res, &e);
    if (rc)
        fail_msg("%s: %s %s", solver, e.where, e.msg);
}

/* Every solver finds the brute-force optimum of small random models, and
 * says infeasible exactly when nothing is feasible. */
static void check_random(const char *solver, int quad_cons, int count)
{
    for (int i = 0; i < count; i++) {
        nq_cqm m;
        random_model(&m, 1000 + (uint64_t)i, 5, quad_cons);
        brute b = brute_force(&m);
        nq_cqm_result res;
        solve_ok(&m, solver, 0, (uint64_t)i, 0, &res);
        if (b.n_feasible == 0) {
            assert_false(res.best.feasible);
        } else {
            if (!res.best.feasible || fabs(res.best.score - b.best) > 1e-9)
                fail_msg("%s model %d: score %g feasible %d, optimum %g", solver, i,
                         res.best.score, res.best.feasible, b.best);
        }
        nq_cqm_result_free(&res);
        nq_cqm_free(&m);
    }
}

static void test_random_exact(void **state)
{
    (void)state;
    check_random("exact", 1, 60);
}

static void test_random_native(void **state)
{
    (void)state;
    check_random("native", 1, 60);
}

static void test_random_auto(void **state)
{
    (void)state;
    check_random("auto", 1, 30);
}

/* The QUBO path alone (annealing plus polish) on linear-constraint models. */
static void test_random_qubo(void **state)
{
    (void)state;
    check_random("sa", 0, 20);
    check_random("tabu", 0, 10);
}

static void test_quadratic_constraint_refused_by_qubo(void **state)
{
    (void)state;
    nq_cqm m;
    nq_cqm_init(&m);
    int x = nq_cqm_add_binary(&m, "x", NULL), y = nq_cqm_add_binary(&m, "y", NULL);
    int c = nq_cqm_add_constraint(&m, "pair", NQ_CQM_LE, 0, 1, -1, NULL);
    assert_int_equal(nq_cqm_con_quadratic(&m, c, x, y, 1, NULL), 0);
    nq_cqm_opts o;
    nq_cqm_result res;
    nq_err e = { 0 };
    nq_cqm_opts_default(&o);
    o.solver = "sa";
    assert_int_equal(nq_cqm_solve(&m, &o, NULL, NULL, &res, &e), NQ_EINVAL);
    assert_string_equal(e.where, "/options/solver");
    nq_cqm_free(&m);
}

/* ---- QUBO compilation ------------------------------------------------------------ */

/* min over the slack bits of the QUBO energy at assignment vals. */
static double qubo_min_over_slack(const nq_model *q, const nq__cqm_qubo *map, const nq_cqm *m,
                                  const int64_t *vals)
{
    int8_t bits[64] = { 0 };
    for (int32_t v = 0; v < m->n_vars; v++) {
        const nq_cqm_var *var = &m->vars[v];
        for (int32_t k = 0; k < (var->kind == NQ_CQM_CHOICE ? var->n_options : 1); k++) {
            int32_t a = var->atom + k;
            if (map->atom_n[a] == 0) /* fixed or vetoed: a constant */
                continue;
            int64_t rest = var->kind == NQ_CQM_CHOICE ? vals[v] == k : vals[v] - var->lb;
            for (int32_t i = map->atom_n[a] - 1; i >= 0; i--) { /* greedy: largest weight first */
                double c = nq__cqm_qubo_coef(m, a, i);
                bits[map->atom_first[a] + i] = rest >= (int64_t)c;
                rest -= bits[map->atom_first[a] + i] ? (int64_t)c : 0;
            }
            assert_int_equal(rest, 0);
        }
    }
    int32_t ns = map->n_total - map->n_bits;
    double best = INFINITY;
    for (int64_t s = 0; s < (1LL << ns); s++) {
        for (int32_t i = 0; i < ns; i++)
            bits[map->n_bits + i] = (int8_t)(s >> i & 1);
        double e = nq_model_energy(q, bits);
        best = e < best ? e : best;
    }
    return best;
}

static void test_qubo_penalty_zero_on_feasible(void **state)
{
    (void)state;
    int tested = 0;
    for (int i = 0; i < 60; i++) {
        nq_cqm m;
        random_model(&m, 5000 + (uint64_t)i, 4, 0);
        for (int32_t c = 0; c < m.n_cons; c++) /* hard only: soft squares differ by design */
            m.cons[c].hard = 1;
        double lam[4] = { 7, 7, 7, 7 };
        nq__cqm_qubo map = { 0 };
        nq_model q = { 0 };
        assert_int_equal(nq__cqm_qubo_build(&m, lam, 11, &map, &q, NULL), 0);
        if (map.n_total - map.n_bits > 16) { /* too many slack bits to enumerate here */
            nq_model_free(&q);
            nq__cqm_qubo_free(&map);
            nq_cqm_free(&m);
            continue;
        }
        tested++;
        int64_t vals[8];
        for (int64_t code = 0;; code++) { /* every assignment in the bounds */
            int64_t rest = code;
            for (int32_t v = 0; v < m.n_vars; v++) {
                int64_t span = m.vars[v].ub - m.vars[v].lb + 1;
                vals[v] = m.vars[v].lb + rest % span;
                rest /= span;
            }
            if (rest)
                break;
            nq_cqm_eval ev;
            assert_int_equal(nq_cqm_evaluate(&m, vals, &ev, NULL), 0);
            int in_domain = ev.bad_var[0] == 0;
            if (in_domain) {
                double e = qubo_min_over_slack(&q, &map, &m, vals);
                double obj = m.maximize ? -ev.objective : ev.objective;
                if (ev.feasible)
                    assert_true(fabs(e - obj) < 1e-6);
                else /* integral data: a violated constraint costs at least lam */
                    assert_true(e >= obj + 7 - 1e-6);
            }
            nq_cqm_eval_free(&ev);
        }
        nq_model_free(&q);
        nq__cqm_qubo_free(&map);
        nq_cqm_free(&m);
    }
    assert_true(tested >= 30);
}

/* ---- families against GLPK -------------------------------------------------------------- */

static void test_families_vs_milp(void **state)
{
    (void)state;
    const int32_t sizes[] = { 20, 40 };
    for (int f = 0; f < FAM_COUNT; f++)
        for (int s = 0; s < 2; s++) {
            nq_cqm m;
            assert_int_equal(fam_build((fam_kind)f, sizes[s], 7, &m), 0);
            nq_milp_result mr;
            assert_int_equal(nq_cqm_solve_milp(&m, 30, &mr, NULL), 0);
            nq_cqm_result res;
            solve_ok(&m, "auto", 0.3, 7, 0, &res);
            if (mr.status == 2) {
                assert_false(res.best.feasible);
            } else {
                assert_int_equal(mr.status, 0);
                double opt = m.maximize ? -mr.objective : mr.objective;
                double gap = fam_gap_of(res.best.score, opt);
                if (!res.best.feasible || gap > 0.005 || gap < -1e-9)
                    fail_msg("%s n=%d: ours %g (feasible %d), optimum %g", FAM_NAMES[f],
                             sizes[s], res.best.score, res.best.feasible, opt);
            }
            nq_milp_result_free(&mr);
            nq_cqm_result_free(&res);
            nq_cqm_free(&m);
        }
}

/* ---- answers ------------------------------------------------------------------------------- */

static void test_alternatives(void **state)
{
    (void)state;
    nq_cqm m;
    assert_int_equal(fam_build(FAM_KNAPSACK, 12, 3, &m), 0);
    brute b = brute_force(&m);
    nq_cqm_result res;
    solve_ok(&m, "native", 0.2, 1, 5, &res);
    assert_true(res.best.feasible);
    assert_true(fabs(res.best.score - b.best) < 1e-9);
    assert_int_equal(res.n_alts, 5);
    double prev = res.best.score;
    for (int32_t i = 0; i < res.n_alts; i++) {
        assert_true(res.alts[i].feasible);
        assert_true(res.alts[i].score >= prev - 1e-9); /* sorted */
        prev = res.alts[i].score;
        assert_memory_not_equal(res.alts[i].values, res.best.values, 12 * sizeof(int64_t));
        for (int32_t j = 0; j < i; j++)
            assert_memory_not_equal(res.alts[i].values, res.alts[j].values, 12 * sizeof(int64_t));
    }
    nq_cqm_result_free(&res);
    nq_cqm_free(&m);
}

static void test_integer_moves(void **state)
{
    (void)state;
    nq_cqm m;
    nq_cqm_init(&m);
    int x = nq_cqm_add_integer(&m, "x", -1000, 1000, NULL);
    int y = nq_cqm_add_integer(&m, "y", 0, 500, NULL);
    /* min (x - 377)^2 + (y - 123)^2 subject to x + y <= 450: optimum x=352, y=98
     * (the projection of (377,123) onto x + y = 450 is (352,98)). */
    nq_cqm_obj_quadratic(&m, 0, x, x, 1, NULL);
    nq_cqm_obj_linear(&m, 0, x, -754, NULL);
    nq_cqm_obj_quadratic(&m, 0, y, y, 1, NULL);
    nq_cqm_obj_linear(&m, 0, y, -246, NULL);
    int c = nq_cqm_add_constraint(&m, "sum", NQ_CQM_LE, 450, 1, -1, NULL);
    nq_cqm_con_linear(&m, c, x, 1, NULL);
    nq_cqm_con_linear(&m, c, y, 1, NULL);
    nq_cqm_result res;
    solve_ok(&m, "auto", 0.3, 3, 0, &res);
    assert_true(res.best.feasible);
    assert_int_equal(res.best.values[0], 352);
    assert_int_equal(res.best.values[1], 98);
    nq_cqm_result_free(&res);
    nq_cqm_free(&m);
}

static void test_infeasible_least_violated(void **state)
{
    (void)state;
    nq_cqm m;
    nq_cqm_init(&m);
    char name[8];
    for (int i = 0; i < 30; i++) { /* too large to enumerate: the search answers */
        snprintf(name, sizeof name, "x%d", i);
        nq_cqm_add_binary(&m, name, NULL);
    }
    int lo = nq_cqm_add_constraint(&m, "at_least_20", NQ_CQM_GE, 20, 1, -1, NULL);
    int hi = nq_cqm_add_constraint(&m, "at_most_10", NQ_CQM_LE, 10, 1, -1, NULL);
    for (int i = 0; i < 30; i++) {
        nq_cqm_con_linear(&m, lo, i, 1, NULL);
        nq_cqm_con_linear(&m, hi, i, 1, NULL);
        nq_cqm_obj_linear(&m, 0, i, 1, NULL);
    }
    nq_cqm_result res;
    solve_ok(&m, "auto", 0.2, 1, 3, &res);
    assert_false(res.best.feasible);
    assert_int_equal(res.n_alts, 0);
    nq_cqm_eval ev;
    assert_int_equal(nq_cqm_evaluate(&m, res.best.values, &ev, NULL), 0);
    assert_int_equal(ev.n_violated, 1); /* the least violated: only one of the two */
    nq_cqm_eval_free(&ev);
    nq_cqm_result_free(&res);
    solve_ok(&m, "milp", 5, 1, 0, &res);
    assert_true(res.proven_infeasible);
    assert_false(res.best.feasible);
    nq_cqm_result_free(&res);
    nq_cqm_free(&m);
}

static void test_deterministic_iteration_cap(void **state)
{
    (void)state;
    nq_cqm m;
    assert_int_equal(fam_build(FAM_MKP, 60, 2, &m), 0);
    nq_cqm_opts o;
    nq_cqm_result a, b;
    nq_cqm_opts_default(&o);
    o.solver = "native";
    o.seed = 42;
    o.max_iterations = 20000;
    /* The iteration cap must be what stops it: without a stated limit the
     * search still stops after 1 s, which a loaded sanitizer build can reach. */
    o.time_limit = 600;
    assert_int_equal(nq_cqm_solve(&m, &o, NULL, NULL, &a, NULL), 0);
    assert_int_equal(nq_cqm_solve(&m, &o, NULL, NULL, &b, NULL), 0);
    assert_int_equal(a.iterations, 20000);
    assert_memory_equal(a.best.values, b.best.values, (size_t)m.n_vars * sizeof(int64_t));
    assert_true(a.best.score == b.best.score);
    nq_cqm_result_free(&a);
    nq_cqm_result_free(&b);
    nq_cqm_free(&m);
}

static void test_cancel(void **state)
{
    (void)state;
    nq_cqm m;
    assert_int_equal(fam_build(FAM_QKP, 150, 1, &m), 0);
    atomic_int flag = 1;
    nq_cqm_opts o;
    nq_cqm_result res;
    nq_cqm_opts_default(&o);
    o.solver = "native";
    o.time_limit = 30;
    o.cancel_flag = &flag;
    double t0 = nq_clock_s();
    assert_int_equal(nq_cqm_solve(&m, &o, NULL, NULL, &res, NULL), 0);
    assert_true(nq_clock_s() - t0 < 5);
    assert_true(res.cancelled);
    nq_cqm_result_free(&res);
    nq_cqm_free(&m);
}

static void test_exact_time_limit(void **state)
{
    (void)state;
    nq_cqm m;
    assert_int_equal(fam_build(FAM_KNAPSACK, 24, 1, &m), 0); /* 16.7M assignments */
    nq_cqm_opts o;
    nq_cqm_result res;
    nq_cqm_opts_default(&o);
    o.solver = "exact";
    o.time_limit = 0.05;
    double t0 = nq_clock_s();
    assert_int_equal(nq_cqm_solve(&m, &o, NULL, NULL, &res, NULL), 0);
    assert_true(nq_clock_s() - t0 < 2);
    assert_true(res.timed_out);
    assert_false(res.proven_optimal);
    assert_false(res.proven_infeasible);
    nq_cqm_result_free(&res);
    nq_cqm_free(&m);
}

static void test_empty_and_options(void **state)
{
    (void)state;
    nq_cqm m;
    nq_cqm_init(&m);
    m.offset = 4.5;
    nq_cqm_result res;
    solve_ok(&m, "auto", 0, 0, 0, &res);
    assert_true(res.best.feasible);
    assert_true(res.best.objective == 4.5);
    nq_cqm_result_free(&res);
    nq_cqm_opts o;
    nq_err e = { 0 };
    nq_cqm_opts_default(&o);
    o.solver = "quantum";
    assert_int_equal(nq_cqm_solve(&m, &o, NULL, NULL, &res, &e), NQ_EINVAL);
    assert_string_equal(e.where, "/options/solver");
    nq_cqm_opts_default(&o);
    o.alternatives = 101;
    assert_int_equal(nq_cqm_solve(&m, &o, NULL, NULL, &res, &e), NQ_ERANGE);
    assert_string_equal(e.where, "/options/alternatives");
    nq_cqm_free(&m);
    assert_int_equal(fam_build(FAM_KNAPSACK, 40, 1, &m), 0);
    nq_cqm_opts_default(&o);
    o.solver = "exact";
    assert_int_equal(nq_cqm_solve(&m, &o, NULL, NULL, &res, &e), NQ_ELIMIT);
    nq_cqm_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_exact),
        cmocka_unit_test(test_random_native),
        cmocka_unit_test(test_random_auto),
        cmocka_unit_test(test_random_qubo),
        cmocka_unit_test(test_quadratic_constraint_refused_by_qubo),
        cmocka_unit_test(test_qubo_penalty_zero_on_feasible),
        cmocka_unit_test(test_families_vs_milp),
        cmocka_unit_test(test_alternatives),
        cmocka_unit_test(test_integer_moves),
        cmocka_unit_test(test_infeasible_least_violated),
        cmocka_unit_test(test_deterministic_iteration_cap),
        cmocka_unit_test(test_cancel),
        cmocka_unit_test(test_exact_time_limit),
        cmocka_unit_test(test_empty_and_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
