/* test_sa.c - simulated annealing: optimality on small models against the
 * exact solver, determinism across thread counts, stop conditions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "nqba/solve.h"
#include "rand_model.h"
#include "solver_test.h"

static void sa_opts(nq_solve_opts *o, uint64_t seed, int threads)
{
    nq_solve_opts_default(o);
    o->solver = "sa";
    o->seed = seed;
    o->threads = threads;
}

/* Models of 20..24 variables, QUBO and Ising, integer and real weights:
 * every one of 20 seeds must find the exact optimum with default settings. */
static void test_sa_reaches_exact_optimum(void **state)
{
    (void)state;
    for (int32_t n = 20; n <= 24; n++) {
        for (int kind = 0; kind < 2; kind++) {
            nq_model m;
            rand_model(&m, kind ? NQ_ISING : NQ_QUBO, n, 0.3, kind == 0, 1000 + (uint64_t)n);
            double opt = exact_min(&m);
            for (uint64_t seed = 1; seed <= 20; seed++) {
                nq_solve_opts o;
                nq_result r;
                nq_err err;
                sa_opts(&o, seed, 2);
                assert_int_equal(nq_solve(&m, &o, NULL, NULL, &r, &err), 0);
                if (!near(r.energy, opt))
                    fail_msg("n=%d kind=%d seed=%d: sa %.17g, exact %.17g", n, kind, (int)seed,
                             r.energy, opt);
                assert_true(near(nq_model_energy(&m, r.state), r.energy));
                nq_result_free(&r);
            }
            nq_model_free(&m);
        }
    }
}

static void run_sa(const nq_model *m, const nq_solve_opts *o, nq_result *r)
{
    nq_err err;
    assert_int_equal(nq_solve(m, o, NULL, NULL, r, &err), 0);
}

static void test_sa_deterministic_across_threads(void **state)
{
    (void)state;
    for (int kind = 0; kind < 2; kind++)
        for (int threads = 2; threads <= 5; threads += 3) {
            nq_solve_opts o;
            nq_result a;
            sa_opts(&o, 12345, 1);
            o.reads = 24;
            o.sweeps = 200;
            check_deterministic(&o, kind, threads, 1, &a);
            nq_result_free(&a);
        }
}

/* With a target, the answer is the best of reads 0..k where k is the first
 * read that reaches it: the same whatever the thread count. */
static void test_sa_target_stops_early(void **state)
{
    (void)state;
    nq_solve_opts o;
    nq_result a;
    double opt;
    sa_opts(&o, 9, 1);
    o.sweeps = 100;
    check_target_across_reads(&o, 3, &a, &opt);
    nq_result_free(&a);
}

static void test_sa_time_limit(void **state)
{
    (void)state;
    nq_model m;
    rand_model(&m, NQ_QUBO, 2000, 0.01, 0, 3);
    nq_solve_opts o;
    nq_result r;
    sa_opts(&o, 1, 2);
    o.reads = 1000;
    o.sweeps = 100000;
    o.time_limit = 0.3;
    run_sa(&m, &o, &r);
    assert_true(r.timed_out);
    assert_true(r.reads >= 1 && r.reads < 1000);
    assert_true(near(nq_model_energy(&m, r.state), r.energy));
    nq_result_free(&r);
    nq_model_free(&m);
}

static void test_sa_progress_and_cancel(void **state)
{
    (void)state;
    nq_solve_opts o;
    sa_opts(&o, 1, 1);
    o.sweeps = 50;
    /* Reads run 16 at a time: the batch under way when the callback
     * cancelled completes, nothing after it starts. */
    check_progress_and_cancel(&o, 16);
}

/* Read k's result depends on its own stream only, not on which reads
 * share its batch of vector lanes or how many reads there are. */
static void test_sa_batches_independent(void **state)
{
    (void)state;
    nq_model m;
    rand_model(&m, NQ_ISING, 150, 0.05, 1, 21);
    nq_solve_opts o;
    nq_result a, b;
    sa_opts(&o, 5, 1);
    o.sweeps = 100;
    o.reads = 16;
    run_sa(&m, &o, &a);
    o.reads = 40;
    o.threads = 2;
    run_sa(&m, &o, &b);
    assert_memory_equal(a.read_energies, b.read_energies, 16 * sizeof(double));
    nq_result_free(&a);
    nq_result_free(&b);
    nq_model_free(&m);
}

/* Two even antiferromagnetic rings of 30 (weights 1 and 2) plus isolated
 * spins: optimum -90, every bond satisfied. Moving a domain wall is free;
 * if free moves were always taken, sweeping in index order would carry
 * both walls along in step and they would never annihilate. Both kernels
 * (scalar for few reads, vector lanes for many) must solve it. */
static void test_sa_rings(void **state)
{
    (void)state;
    nq_builder b;
    nq_err err;
    nq_model m;
    nq_builder_init(&b, NQ_ISING);
    assert_int_equal(nq_builder_set_n(&b, 80, &err), 0);
    for (int c = 0; c < 2; c++)
        for (int k = 0; k < 30; k++)
            assert_int_equal(nq_builder_add_quadratic(&b, 40 * c + k, 40 * c + (k + 1) % 30,
                                                      c ? 2.0 : 1.0, &err), 0);
    assert_int_equal(nq_builder_finish(&b, &m, &err), 0);
    for (int reads = 2; reads <= 32; reads *= 16) {
        nq_solve_opts o;
        nq_result r;
        sa_opts(&o, 3, 1);
        o.reads = reads;
        run_sa(&m, &o, &r);
        if (r.energy != -90.0)
            fail_msg("reads %d: energy %g, expected -90", reads, r.energy);
        nq_result_free(&r);
    }
    nq_model_free(&m);
}

static void test_sa_bad_options(void **state)
{
    (void)state;
    nq_model m;
    rand_model(&m, NQ_ISING, 10, 0.5, 1, 8);
    nq_solve_opts o;
    nq_result r;
    nq_err err;
    sa_opts(&o, 1, 1);
    o.reads = -1;
    assert_int_equal(nq_solve(&m, &o, NULL, NULL, &r, &err), NQ_ERANGE);
    assert_string_equal(err.where, "reads");
    sa_opts(&o, 1, 1);
    o.time_limit = -2;
    assert_int_equal(nq_solve(&m, &o, NULL, NULL, &r, &err), NQ_ERANGE);
    sa_opts(&o, 1, 1);
    o.beta_min = NAN;
    assert_int_equal(nq_solve(&m, &o, NULL, NULL, &r, &err), NQ_ERANGE);
    nq_model_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sa_reaches_exact_optimum),
        cmocka_unit_test(test_sa_deterministic_across_threads),
        cmocka_unit_test(test_sa_target_stops_early),
        cmocka_unit_test(test_sa_time_limit),
        cmocka_unit_test(test_sa_progress_and_cancel),
        cmocka_unit_test(test_sa_batches_independent),
        cmocka_unit_test(test_sa_rings),
        cmocka_unit_test(test_sa_bad_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
