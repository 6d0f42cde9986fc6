/* test_tabu.c - breakout local search: optimality on small models against
 * the exact solver (exact and real kernels), degenerate models,
 * determinism, stop conditions, and a Gset smoke check. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "nqba/clock.h"
#include "nqba/io.h"
#include "nqba/solve.h"
#include "rand_model.h"
#include "solver_test.h"

static void tabu_opts(nq_solve_opts *o, uint64_t seed, int threads)
{
    nq_solve_opts_default(o);
    o->solver = "tabu";
    o->seed = seed;
    o->threads = threads;
}

static void run_tabu(const nq_model *m, const nq_solve_opts *o, nq_result *r)
{
    nq_err err;
    assert_int_equal(nq_solve(m, o, NULL, NULL, r, &err), 0);
    assert_string_equal(r->solver, "tabu");
    assert_true(near(nq_model_energy(m, r->state), r->energy));
}

/* Every seed must reach the exact optimum of m with a small budget. */
static void expect_optimum(const nq_model *m, int seeds, int32_t reads, int32_t sweeps,
                           const char *what)
{
    double opt = exact_min(m);
    for (int seed = 1; seed <= seeds; seed++) {
        nq_solve_opts o;
        nq_result r;
        tabu_opts(&o, (uint64_t)seed, 1);
        o.reads = reads;
        o.sweeps = sweeps;
        run_tabu(m, &o, &r);
        if (!near(r.energy, opt))
            fail_msg("%s n=%d seed=%d: tabu %.17g, exact %.17g", what, m->n, seed, r.energy, opt);
        assert_true(r.reads == reads);
        nq_result_free(&r);
    }
}

/* n 12..24, QUBO and Ising, integer weights (exact kernel) and real
 * weights (real kernel). */
static void test_tabu_reaches_exact_optimum(void **state)
{
    (void)state;
    static const int32_t sizes[] = {12, 15, 18, 21, 24};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        for (int kind = 0; kind < 4; kind++) {
            nq_model m;
            int32_t n = sizes[k];
            rand_model(&m, kind & 1 ? NQ_ISING : NQ_QUBO, n, 0.3, kind < 2,
                       500 + 10 * (uint64_t)n + (uint64_t)kind);
            expect_optimum(&m, 12, 2, 100, kind < 2 ? "integer" : "real");
            nq_model_free(&m);
        }
    }
}

/* Weights near 1e12 are integers but too wide for exact buckets: the real
 * kernel runs, and must still be exact. */
static void test_tabu_huge_and_negative_weights(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 4; seed++) {
        nq_rng rng;
        nq_err err;
        nq_builder b;
        nq_model m;
        nq_rng_seed(&rng, seed);
        nq_builder_init(&b, seed & 1 ? NQ_ISING : NQ_QUBO);
        for (int32_t i = 0; i < 18; i++) {
            nq_builder_add_linear(&b, i, -3e11 * (double)nq_rng_below(&rng, 5), &err);
            for (int32_t j = i + 1; j < 18; j++)
                if (nq_rng_double(&rng) < 0.35)
                    nq_builder_add_quadratic(&b, i, j, 1e12 * ((double)nq_rng_below(&rng, 9) - 5.0),
                                             &err);
        }
        assert_int_equal(nq_builder_finish(&b, &m, &err), 0);
        expect_optimum(&m, 6, 2, 100, "huge");
        nq_model_free(&m);
    }
}

/* Two components, isolated vertices with and without a linear term. */
static void test_tabu_disconnected(void **state)
{
    (void)state;
    for (int type = 0; type < 2; type++) {
        nq_err err;
        nq_builder b;
        nq_model m;
        nq_builder_init(&b, type ? NQ_ISING : NQ_QUBO);
        assert_int_equal(nq_builder_set_n(&b, 22, &err), 0);
        for (int32_t i = 0; i < 8; i++) /* odd ring: frustrated */
            nq_builder_add_quadratic(&b, i, (i + 1) % 9, 1.0, &err);
        nq_builder_add_quadratic(&b, 8, 0, 1.0, &err);
        for (int32_t i = 9; i < 17; i++) /* path with mixed signs */
            nq_builder_add_quadratic(&b, i, i + 1, i & 1 ? -2.0 : 3.0, &err);
        nq_builder_add_linear(&b, 12, -1.0, &err);
        nq_builder_add_linear(&b, 18, 2.0, &err);  /* isolated, biased */
        nq_builder_add_linear(&b, 19, -0.5, &err); /* isolated, biased */
        /* 20 and 21: isolated with no terms at all */
        assert_int_equal(nq_builder_finish(&b, &m, &err), 0);
        assert_int_equal(m.n, 22);
        expect_optimum(&m, 8, 1, 50, "disconnected");
        nq_model_free(&m);
    }
}

static void test_tabu_tiny_models(void **state)
{
    (void)state;
    for (int32_t n = 1; n <= 4; n++) {
        for (int type = 0; type < 2; type++) {
            nq_err err;
            nq_builder b;
            nq_model m;
            nq_builder_init(&b, type ? NQ_ISING : NQ_QUBO);
            assert_int_equal(nq_builder_set_n(&b, n, &err), 0);
            nq_builder_add_linear(&b, 0, type ? 3.0 : -2.0, &err);
            for (int32_t i = 1; i < n; i++)
                nq_builder_add_quadratic(&b, i - 1, i, 1.5, &err);
            assert_int_equal(nq_builder_finish(&b, &m, &err), 0);
            expect_optimum(&m, 5, 3, 10, "tiny");
            if (n == 1) {
                nq_solve_opts o;
                nq_result r;
                tabu_opts(&o, 1, 1);
                run_tabu(&m, &o, &r);
                assert_int_equal(r.state[0], type ? -1 : 1);
                nq_result_free(&r);
            }
            nq_model_free(&m);
        }
    }
}

/* No couplings: all-zero gives the offset; linear terms alone give
 * offset - sum |h_i| (Ising). */
static void test_tabu_no_couplings(void **state)
{
    (void)state;
    for (int with_linear = 0; with_linear < 2; with_linear++) {
        nq_err err;
        nq_builder b;
        nq_model m;
        nq_builder_init(&b, NQ_ISING);
        assert_int_equal(nq_builder_set_n(&b, 50, &err), 0);
        nq_builder_add_offset(&b, 1.5);
        double want = 1.5;
        for (int32_t i = 0; with_linear && i < 50; i++) {
            double h = (i % 7) - 3.0;
            nq_builder_add_linear(&b, i, h, &err);
            want -= fabs(h);
        }
        assert_int_equal(nq_builder_finish(&b, &m, &err), 0);
        nq_solve_opts o;
        nq_result r;
        tabu_opts(&o, 3, 2);
        o.sweeps = 20;
        run_tabu(&m, &o, &r);
        assert_true(near(r.energy, want));
        nq_result_free(&r);
        nq_model_free(&m);
    }
}

/* Same seed: same answer, on one thread twice and on two threads; the
 * budget is spent exactly (sweeps x n moves per read). */
static void test_tabu_deterministic(void **state)
{
    (void)state;
    for (int kind = 0; kind < 2; kind++) {
        nq_solve_opts o;
        nq_result a;
        tabu_opts(&o, 12345, 1);
        o.reads = 6;
        o.sweeps = 100;
        check_deterministic(&o, kind, 2, 1, &a);
        assert_int_equal(a.attempts, 6 * 100 * 300);
        nq_result_free(&a);
    }
}

/* 3000 variables, about 9 neighbours each, an effectively endless
 * budget: the limit must hold within 50 ms, on both kernels. */
static void test_tabu_time_limit(void **state)
{
    (void)state;
    for (int integer = 0; integer < 2; integer++) {
        nq_model m;
        rand_model(&m, NQ_ISING, 3000, 0.003, integer, 3);
        nq_solve_opts o;
        nq_result r;
        tabu_opts(&o, 1, 2);
        o.reads = 4;
        o.sweeps = NQ_SOLVE_MAX_SWEEPS;
        o.time_limit = 0.2;
        double t0 = nq_clock_s();
        run_tabu(&m, &o, &r);
        double el = nq_clock_s() - t0;
        assert_true(r.timed_out);
        assert_true(r.elapsed <= 0.25 && el <= 0.3);
        assert_true(r.reads >= 1 && r.reads <= 2);
        nq_result_free(&r);
        nq_model_free(&m);
    }
}

/* Across reads: the answer is the best of reads 0..k, k the first read
 * that reached the target, whatever the thread count. */
static void test_tabu_target_across_reads(void **state)
{
    (void)state;
    nq_solve_opts o;
    nq_result a;
    double opt;
    tabu_opts(&o, 9, 1);
    o.sweeps = 1000;
    check_target_across_reads(&o, 3, &a, &opt);
    assert_true(a.reads < 10);
    /* Within the read: it stops at the first local minimum that reaches
     * the target, far short of its budget. */
    assert_true(a.attempts < (int64_t)a.reads * 1000 * 22 / 2);
    nq_result_free(&a);
}

/* A 40 x 40 torus with +1 couplings is bipartite: every coupling can be
 * satisfied, E = -3200. One read with a huge budget must stop right after
 * reaching it. */
static void test_tabu_target_within_read(void **state)
{
    (void)state;
    nq_err err;
    nq_builder b;
    nq_model m;
    nq_builder_init(&b, NQ_ISING);
    for (int32_t r = 0; r < 40; r++)
        for (int32_t c = 0; c < 40; c++) {
            nq_builder_add_quadratic(&b, r * 40 + c, r * 40 + (c + 1) % 40, 1.0, &err);
            nq_builder_add_quadratic(&b, r * 40 + c, ((r + 1) % 40) * 40 + c, 1.0, &err);
        }
    assert_int_equal(nq_builder_finish(&b, &m, &err), 0);
    nq_solve_opts o;
    nq_result r;
    tabu_opts(&o, 5, 1);
    o.reads = 1;
    o.sweeps = NQ_SOLVE_MAX_SWEEPS;
    o.time_limit = 20;
    o.has_target = 1;
    o.target = -3200;
    run_tabu(&m, &o, &r);
    assert_true(r.target_reached && !r.timed_out);
    assert_true(r.energy == -3200);
    assert_true(r.elapsed < 5.0);
    nq_result_free(&r);
    nq_model_free(&m);
}

static void test_tabu_progress_and_cancel(void **state)
{
    (void)state;
    nq_solve_opts o;
    tabu_opts(&o, 1, 1);
    o.sweeps = 50;
    check_progress_and_cancel(&o, 3);
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *data = malloc((size_t)size + 1);
    *len = data ? fread(data, 1, (size_t)size, f) : 0;
    fclose(f);
    return data;
}

/* G11 (800-vertex toroidal grid, best-known cut 564): within 0.5% in well
 * under a second. */
static void test_tabu_gset_smoke(void **state)
{
    (void)state;
    const char *shared = getenv("NQ_SHARED_DIR");
    char path[512];
    snprintf(path, sizeof path, "%s/data/gset/G11.txt", shared ? shared : "../shared");
    size_t len;
    char *data = slurp(path, &len);
    if (!data)
        skip();
    nq_model m;
    nq_err err;
    assert_int_equal(nq_read_gset(data, len, path, &m, &err), 0);
    free(data);
    nq_solve_opts o;
    nq_result r;
    tabu_opts(&o, 1, 1);
    o.reads = 1;
    o.sweeps = 1000;
    o.time_limit = 5;
    o.has_target = 1;
    o.target = m.maxcut_total_weight - 2.0 * 562;
    run_tabu(&m, &o, &r);
    assert_true(nq_maxcut_value(&m, r.state) >= 562);
    assert_true(r.target_reached && r.elapsed < 2.0);
    nq_result_free(&r);
    nq_model_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tabu_reaches_exact_optimum),
        cmocka_unit_test(test_tabu_huge_and_negative_weights),
        cmocka_unit_test(test_tabu_disconnected),
        cmocka_unit_test(test_tabu_tiny_models),
        cmocka_unit_test(test_tabu_no_couplings),
        cmocka_unit_test(test_tabu_deterministic),
        cmocka_unit_test(test_tabu_time_limit),
        cmocka_unit_test(test_tabu_target_across_reads),
        cmocka_unit_test(test_tabu_target_within_read),
        cmocka_unit_test(test_tabu_progress_and_cancel),
        cmocka_unit_test(test_tabu_gset_smoke),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
