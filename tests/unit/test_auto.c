/* test_auto.c - the default portfolio solver: optimality against exact
 * search, stop conditions, determinism on one thread, edge-case models. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "nqba/clock.h"
#include "nqba/solve.h"
#include "rand_model.h"
#include "solver_test.h"

static void auto_opts(nq_solve_opts *o, uint64_t seed, int threads)
{
    nq_solve_opts_default(o);
    assert_string_equal(o->solver, "auto"); /* the default everywhere */
    o->seed = seed;
    o->threads = threads;
}

static void run(const nq_model *m, const nq_solve_opts *o, nq_result *r)
{
    nq_err err;
    int rc = nq_solve(m, o, NULL, NULL, r, &err);
    if (rc)
        fail_msg("auto failed: %s", err.msg);
    assert_string_equal(r->solver, "auto");
    assert_true(near(nq_model_energy(m, r->state), r->energy));
}

/* Small models go to exact search and say so. */
static void test_auto_small_is_exact(void **state)
{
    (void)state;
    nq_model m;
    rand_model(&m, NQ_QUBO, 16, 0.5, 0, 5);
    nq_solve_opts o;
    nq_result r;
    auto_opts(&o, 1, 1);
    run(&m, &o, &r);
    assert_string_equal(r.found_by, "exact");
    assert_true(near(r.energy, brute_force_min(&m)));
    nq_result_free(&r);
    nq_model_free(&m);
}

/* Above the exact cut-off the heuristics must still find the optimum. */
static void test_auto_reaches_exact_optimum(void **state)
{
    (void)state;
    for (int32_t n = 22; n <= 26; n += 2) {
        for (int kind = 0; kind < 2; kind++) {
            nq_model m;
            rand_model(&m, kind ? NQ_ISING : NQ_QUBO, n, 0.3, kind, 500 + (uint64_t)n);
            double opt = exact_min(&m);
            for (uint64_t seed = 1; seed <= 4; seed++) {
                nq_solve_opts o;
                nq_result r;
                auto_opts(&o, seed, 2);
                run(&m, &o, &r);
                if (!near(r.energy, opt))
                    fail_msg("n=%d kind=%d seed=%d: auto %.17g, exact %.17g", n, kind, (int)seed,
                             r.energy, opt);
                assert_true(r.found_by[0] && strcmp(r.found_by, "auto") != 0);
                nq_result_free(&r);
            }
            nq_model_free(&m);
        }
    }
}

static void test_auto_deterministic_one_thread(void **state)
{
    (void)state;
    nq_model m;
    rand_model(&m, NQ_ISING, 200, 0.05, 1, 31);
    nq_solve_opts o;
    nq_result a, b;
    auto_opts(&o, 77, 1);
    run(&m, &o, &a);
    run(&m, &o, &b);
    assert_true(a.energy == b.energy);
    assert_int_equal(a.reads, b.reads);
    assert_memory_equal(a.state, b.state, (size_t)a.n);
    assert_memory_equal(a.read_energies, b.read_energies, (size_t)a.reads * sizeof(double));
    assert_string_equal(a.found_by, b.found_by);
    nq_result_free(&a);
    nq_result_free(&b);
    nq_model_free(&m);
}

static void test_auto_time_limit(void **state)
{
    (void)state;
    nq_model m;
    rand_model(&m, NQ_QUBO, 3000, 0.01, 0, 3);
    nq_solve_opts o;
    nq_result r;
    auto_opts(&o, 1, 2);
    o.time_limit = 0.4;
    double t0 = nq_clock_s();
    run(&m, &o, &r);
    double wall = nq_clock_s() - t0;
    if (wall > 0.45)
        fail_msg("time limit 0.4 s, returned after %.3f s", wall);
    assert_true(r.timed_out);
    assert_false(r.target_reached);
    assert_true(r.reads >= 1);
    nq_result_free(&r);
    nq_model_free(&m);
}

/* A reachable target stops every thread at once, long before the limit. */
static void test_auto_target(void **state)
{
    (void)state;
    nq_model m;
    rand_model(&m, NQ_ISING, 26, 0.3, 1, 12);
    double opt = exact_min(&m);
    nq_solve_opts o;
    nq_result r;
    auto_opts(&o, 3, 2);
    o.has_target = 1;
    o.target = opt;
    o.time_limit = 20;
    run(&m, &o, &r);
    assert_true(r.target_reached);
    assert_true(near(r.energy, opt));
    assert_true(r.elapsed < 5.0);
    nq_result_free(&r);
    /* An unreachable target runs to the time limit. */
    o.target = opt - 1;
    o.time_limit = 0.3;
    run(&m, &o, &r);
    assert_false(r.target_reached);
    assert_true(r.timed_out);
    assert_true(near(r.energy, opt));
    nq_result_free(&r);
    nq_model_free(&m);
}

static int cancel_at_second(const nq_progress *p, void *user)
{
    int *calls = user;
    assert_string_equal(p->solver, "auto");
    return ++*calls >= 2;
}

static void test_auto_cancel(void **state)
{
    (void)state;
    nq_model m;
    rand_model(&m, NQ_ISING, 500, 0.02, 1, 9);
    nq_solve_opts o;
    nq_result r;
    nq_err err;
    int calls = 0;
    auto_opts(&o, 1, 2);
    o.time_limit = 30;
    double t0 = nq_clock_s();
    int rc = nq_solve(&m, &o, cancel_at_second, &calls, &r, &err);
    assert_true(nq_clock_s() - t0 < 5.0);
    if (rc == 0) {
        assert_true(r.cancelled);
        nq_result_free(&r);
    } else {
        assert_int_equal(rc, NQ_ECANCEL);
    }
    /* The caller's flag, raised before the start, stops it at once. */
    atomic_int flag = 1;
    o.cancel_flag = &flag;
    t0 = nq_clock_s();
    rc = nq_solve(&m, &o, NULL, NULL, &r, &err);
    assert_true(nq_clock_s() - t0 < 1.0);
    if (rc == 0)
        nq_result_free(&r);
    else
        assert_int_equal(rc, NQ_ECANCEL);
    nq_model_free(&m);
}

/* Model built from explicit terms on n variables (Ising). */
static void build(nq_model *m, nq_vartype t, int32_t n, const double *lin, const int32_t *pairs,
                  const double *w, int np)
{
    nq_builder b;
    nq_err err;
    nq_builder_init(&b, t);
    assert_int_equal(nq_builder_set_n(&b, n, &err), 0);
    for (int32_t i = 0; lin && i < n; i++)
        assert_int_equal(nq_builder_add_linear(&b, i, lin[i], &err), 0);
    for (int k = 0; k < np; k++)
        assert_int_equal(nq_builder_add_quadratic(&b, pairs[2 * k], pairs[2 * k + 1], w[k], &err), 0);
    assert_int_equal(nq_builder_finish(&b, m, &err), 0);
}

static void test_auto_edge_models(void **state)
{
    (void)state;
    nq_solve_opts o;
    nq_result r;
    nq_model m;
    auto_opts(&o, 1, 2);
    double h1[] = {3.0};
    build(&m, NQ_ISING, 1, h1, NULL, NULL, 0);
    run(&m, &o, &r);
    assert_int_equal(r.state[0], -1);
    assert_true(r.energy == -3.0);
    nq_result_free(&r);
    nq_model_free(&m);
    /* All-zero, above the exact cut-off: any state, energy 0. */
    build(&m, NQ_QUBO, 64, NULL, NULL, NULL, 0);
    run(&m, &o, &r);
    assert_true(r.energy == 0.0);
    nq_result_free(&r);
    nq_model_free(&m);
    /* Huge and negative weights on a 24-ring with a chord: exact answer. */
    int32_t pairs[2 * 25];
    double w[25];
    for (int k = 0; k < 24; k++) {
        pairs[2 * k] = k, pairs[2 * k + 1] = (k + 1) % 24;
        w[k] = (k % 3 ? -1e12 : 7e11) * (1.0 + k / 100.0);
    }
    pairs[48] = 0, pairs[49] = 12, w[24] = -3e12;
    build(&m, NQ_ISING, 24, NULL, pairs, w, 25);
    run(&m, &o, &r);
    assert_true(near(r.energy, exact_min(&m)));
    nq_result_free(&r);
    nq_model_free(&m);
}

/* Two components and isolated vertices (80 variables): each component is
 * a frustration-free ring, so the optimum is known in closed form. */
static void test_auto_disconnected(void **state)
{
    (void)state;
    int32_t pairs[2 * 60];
    double w[60];
    int np = 0;
    for (int c = 0; c < 2; c++)
        for (int k = 0; k < 30; k++, np++) {
            pairs[2 * np] = 40 * c + k, pairs[2 * np + 1] = 40 * c + (k + 1) % 30;
            w[np] = c ? 2.0 : 1.0; /* even rings: antiferromagnetic order satisfies all */
        }
    nq_model m;
    build(&m, NQ_ISING, 80, NULL, pairs, w, np);
    nq_solve_opts o;
    nq_result r;
    auto_opts(&o, 4, 2);
    run(&m, &o, &r);
    if (r.energy != -90.0)
        fail_msg("energy %g found by %s", r.energy, r.found_by);
    nq_result_free(&r);
    nq_model_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_auto_small_is_exact),
        cmocka_unit_test(test_auto_reaches_exact_optimum),
        cmocka_unit_test(test_auto_deterministic_one_thread),
        cmocka_unit_test(test_auto_time_limit),
        cmocka_unit_test(test_auto_target),
        cmocka_unit_test(test_auto_cancel),
        cmocka_unit_test(test_auto_edge_models),
        cmocka_unit_test(test_auto_disconnected),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
