/* test_exact.c - Gray-code exhaustive search against brute force. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "nqba/solve.h"
#include "rand_model.h"

static void solve_exact(const nq_model *m, int threads, nq_result *r)
{
    nq_solve_opts o;
    nq_err err;
    nq_solve_opts_default(&o);
    o.solver = "exact";
    o.threads = threads;
    assert_int_equal(nq_solve(m, &o, NULL, NULL, r, &err), 0);
}

static void test_exact_matches_brute_force(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 60; seed++) {
        nq_model m;
        nq_vartype type = seed % 2 ? NQ_QUBO : NQ_ISING;
        int32_t n = 1 + (int32_t)(seed % 16);
        rand_model(&m, type, n, 0.15 + 0.013 * (double)seed, (seed / 2) % 2, seed * 7919);
        double want = brute_force_min(&m);
        for (int threads = 1; threads <= 3; threads += 2) {
            nq_result r;
            solve_exact(&m, threads, &r);
            assert_true(near(r.energy, want));
            /* The returned state really has the reported energy. */
            assert_true(near(nq_model_energy(&m, r.state), r.energy));
            for (int32_t i = 0; i < n; i++)
                assert_true(type == NQ_QUBO ? (r.state[i] == 0 || r.state[i] == 1)
                                            : (r.state[i] == -1 || r.state[i] == 1));
            nq_result_free(&r);
        }
        nq_model_free(&m);
    }
}

/* Ties broken identically whatever the thread count (chunked at n >= 16). */
static void test_exact_threads_agree(void **state)
{
    (void)state;
    nq_model m;
    rand_model(&m, NQ_ISING, 20, 0.3, 1, 99);
    nq_result a, b;
    solve_exact(&m, 1, &a);
    solve_exact(&m, 4, &b);
    assert_true(a.energy == b.energy);
    assert_memory_equal(a.state, b.state, 20);
    assert_true(near(a.energy, brute_force_min(&m)));
    nq_result_free(&a);
    nq_result_free(&b);
    nq_model_free(&m);
}

static void test_exact_limits(void **state)
{
    (void)state;
    nq_model m;
    nq_result r;
    nq_err err;
    nq_solve_opts o;
    nq_solve_opts_default(&o);
    o.solver = "exact";
    rand_model(&m, NQ_QUBO, 33, 0.1, 1, 5);
    assert_int_equal(nq_solve(&m, &o, NULL, NULL, &r, &err), NQ_ELIMIT);
    assert_non_null(strstr(err.msg, "33"));
    nq_model_free(&m);
    o.solver = "nope";
    rand_model(&m, NQ_QUBO, 3, 0.5, 1, 5);
    assert_int_equal(nq_solve(&m, &o, NULL, NULL, &r, &err), NQ_EINVAL);
    assert_string_equal(err.where, "solver");
    nq_model_free(&m);
}

static void test_exact_empty_model(void **state)
{
    (void)state;
    nq_builder b;
    nq_model m;
    nq_err err;
    nq_result r;
    nq_builder_init(&b, NQ_QUBO);
    nq_builder_add_offset(&b, 4.5);
    assert_int_equal(nq_builder_finish(&b, &m, &err), 0);
    solve_exact(&m, 2, &r);
    assert_true(r.energy == 4.5);
    nq_result_free(&r);
    nq_model_free(&m);
}

static int cancel_at_once(const nq_progress *p, void *user)
{
    (void)p;
    ++*(int *)user;
    return 1;
}

static void test_exact_cancel(void **state)
{
    (void)state;
    nq_model m;
    nq_result r;
    nq_err err;
    nq_solve_opts o;
    int calls = 0;
    nq_solve_opts_default(&o);
    o.solver = "exact";
    /* With 2 threads, 24 variables are split into 16 chunks; the callback
     * runs after each one, so cancelling on the first leaves work undone. */
    o.threads = 2;
    rand_model(&m, NQ_QUBO, 24, 0.2, 1, 3);
    int rc = nq_solve(&m, &o, cancel_at_once, &calls, &r, &err);
    assert_true(calls >= 1);
    assert_int_equal(rc, NQ_ECANCEL);
    nq_model_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_matches_brute_force),
        cmocka_unit_test(test_exact_threads_agree),
        cmocka_unit_test(test_exact_limits),
        cmocka_unit_test(test_exact_empty_model),
        cmocka_unit_test(test_exact_cancel),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
