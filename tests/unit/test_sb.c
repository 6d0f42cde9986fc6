/* test_sb.c - simulated bifurcation: optimality on small models against
 * the exact solver, both variants, dense and sparse products, linear terms
 * through the auxiliary spin, stop conditions, determinism, edge cases. */
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

#define LANES 16 /* trajectories per read (SB_LANES) */

/* A run returns within time_limit + 50 ms. Unoptimized and sanitizer
 * builds (no NDEBUG) run 10-50 times slower, model conversion and final
 * descent included, so they only get a looser bound. */
#ifdef NDEBUG
#define LIMIT_SLACK 0.05
#else
#define LIMIT_SLACK 0.5
#endif

static const char *const VARIANTS[] = {"ballistic", "discrete"};

static void sb_opts(nq_solve_opts *o, const char *variant, uint64_t seed, int threads)
{
    nq_solve_opts_default(o);
    o->solver = "sb";
    o->variant = variant;
    o->seed = seed;
    o->threads = threads;
}

static void run_sb(const nq_model *m, const nq_solve_opts *o, nq_result *r)
{
    nq_err err;
    assert_int_equal(nq_solve(m, o, NULL, NULL, r, &err), 0);
    assert_string_equal(r->solver, "sb");
    assert_true(near(nq_model_energy(m, r->state), r->energy));
}

/* Solve with default settings and require the exact optimum. */
static void expect_optimum(const nq_model *m, double opt, const char *variant, uint64_t seed,
                           const char *what)
{
    nq_solve_opts o;
    nq_result r;
    sb_opts(&o, variant, seed, 2);
    run_sb(m, &o, &r);
    if (!near(r.energy, opt))
        fail_msg("%s %s seed=%d: sb %.17g, exact %.17g", what, variant, (int)seed, r.energy, opt);
    nq_result_free(&r);
}

/* n 12..24, QUBO and Ising, integer and real weights, dense (density 0.5)
 * and sparse (0.15) products: every seed must find the exact optimum with
 * default settings. */
static void test_sb_reaches_exact_optimum(void **state)
{
    (void)state;
    for (int32_t n = 12; n <= 24; n += 4) {
        for (int kind = 0; kind < 4; kind++) {
            if (n == 24 && kind < 2)
                continue; /* enumeration is slow under sanitizers */
            nq_model m;
            double density = n <= 16 ? 0.5 : 0.15;
            rand_model(&m, kind & 1 ? NQ_ISING : NQ_QUBO, n, density, kind < 2,
                       500 + (uint64_t)(n * 4 + kind));
            double opt = exact_min(&m);
            char what[64];
            snprintf(what, sizeof what, "n=%d kind=%d", n, kind);
            for (int v = 0; v < 2; v++)
                for (uint64_t seed = 1; seed <= 3; seed++)
                    expect_optimum(&m, opt, VARIANTS[v], seed, what);
            nq_model_free(&m);
        }
    }
}

/* Same seed: same answer, run twice on one thread and on several threads. */
static void test_sb_deterministic(void **state)
{
    (void)state;
    for (int v = 0; v < 2; v++) {
        nq_solve_opts o;
        nq_result a, b, d;
        sb_opts(&o, VARIANTS[v], 12345, 1);
        o.reads = 4;
        o.sweeps = 100;
        check_deterministic(&o, v, 3, 0, &a);
        /* attempts = steps x variables x trajectories */
        assert_int_equal(a.attempts, (int64_t)4 * 100 * 300 * LANES);
        /* Another seed starts elsewhere (one step: the random start shows). */
        nq_model m;
        rand_model(&m, v ? NQ_ISING : NQ_QUBO, 300, 0.03, v, 42);
        o.threads = 1;
        o.sweeps = 1;
        run_sb(&m, &o, &b);
        o.seed = 12346;
        run_sb(&m, &o, &d);
        assert_true(memcmp(b.read_energies, d.read_energies, 4 * sizeof(double)) != 0);
        nq_result_free(&a);
        nq_result_free(&b);
        nq_result_free(&d);
        nq_model_free(&m);
    }
}

/* With a target, the answer is the best of reads 0..k where k is the
 * first read that reached it. */
static void test_sb_target_stops_early(void **state)
{
    (void)state;
    for (int v = 0; v < 2; v++) {
        nq_solve_opts o;
        nq_result a;
        double opt;
        sb_opts(&o, VARIANTS[v], 9, 1);
        o.sweeps = 100;
        check_target_across_reads(&o, 2, &a, &opt);
        nq_result_free(&a);
    }
}

/* A 3000-variable sparse graph with far too many steps: the run ends
 * within the limit plus 50 ms with a valid state. */
static void test_sb_time_limit(void **state)
{
    (void)state;
    nq_model m;
    rand_model(&m, NQ_QUBO, 3000, 0.01, 0, 3);
    for (int v = 0; v < 2; v++) {
        for (int threads = 1; threads <= 2; threads++) {
            nq_solve_opts o;
            nq_result r;
            sb_opts(&o, VARIANTS[v], 1, threads);
            o.reads = 1000;
            o.sweeps = 10000000;
            o.time_limit = 0.25;
            double t0 = nq_clock_s();
            run_sb(&m, &o, &r);
            double el = nq_clock_s() - t0;
            if (el > o.time_limit + LIMIT_SLACK)
                fail_msg("%s threads=%d: %.3f s for a %.2f s limit", VARIANTS[v], threads, el,
                         o.time_limit);
            assert_true(r.timed_out);
            assert_true(r.reads >= 1 && r.reads < 1000);
            assert_true(r.elapsed <= o.time_limit + LIMIT_SLACK);
            assert_true(r.attempts > 0);
            nq_result_free(&r);
        }
    }
    nq_model_free(&m);
}

/* A dense model (complete graph, dense product) also stops in time. */
static void test_sb_time_limit_dense(void **state)
{
    (void)state;
    nq_model m;
    rand_model(&m, NQ_ISING, 800, 1.0, 1, 4);
    assert_non_null(m.dense);
    nq_solve_opts o;
    nq_result r;
    sb_opts(&o, "discrete", 1, 1);
    o.reads = 100;
    o.sweeps = 10000000;
    o.time_limit = 0.2;
    double t0 = nq_clock_s();
    run_sb(&m, &o, &r);
    assert_true(nq_clock_s() - t0 <= o.time_limit + LIMIT_SLACK);
    assert_true(r.timed_out);
    nq_result_free(&r);
    nq_model_free(&m);
}

static void test_sb_progress_and_cancel(void **state)
{
    (void)state;
    nq_solve_opts o;
    sb_opts(&o, NULL, 1, 1);
    o.sweeps = 50;
    check_progress_and_cancel(&o, 3);
}

static void build(nq_builder *b, nq_vartype type, int32_t n)
{
    nq_err err;
    nq_builder_init(b, type);
    assert_int_equal(nq_builder_set_n(b, n, &err), 0);
}

static void finish(nq_builder *b, nq_model *m)
{
    nq_err err;
    assert_int_equal(nq_builder_finish(b, m, &err), 0);
}

/* One variable: the sign of its field decides, whatever the variant. */
static void test_sb_one_variable(void **state)
{
    (void)state;
    for (int t = 0; t < 2; t++) {
        for (int sign = -1; sign <= 1; sign += 2) {
            nq_builder b;
            nq_model m;
            nq_err err;
            build(&b, t ? NQ_ISING : NQ_QUBO, 1);
            nq_builder_add_linear(&b, 0, 2.5 * sign, &err);
            nq_builder_add_offset(&b, 1.0);
            finish(&b, &m);
            for (int v = 0; v < 2; v++)
                expect_optimum(&m, exact_min(&m), VARIANTS[v], 3, "n=1");
            nq_model_free(&m);
        }
    }
    nq_builder b;
    nq_model m;
    build(&b, NQ_ISING, 1);
    finish(&b, &m);
    expect_optimum(&m, 0.0, "ballistic", 1, "n=1 zero");
    nq_model_free(&m);
}

/* No coefficients at all (50 variables, or none): energy = offset. */
static void test_sb_all_zero(void **state)
{
    (void)state;
    for (int t = 0; t < 4; t++) {
        nq_builder b;
        nq_model m;
        build(&b, t & 1 ? NQ_ISING : NQ_QUBO, t < 2 ? 50 : 0);
        nq_builder_add_offset(&b, -7.5);
        finish(&b, &m);
        for (int v = 0; v < 2; v++) {
            nq_solve_opts o;
            nq_result r;
            sb_opts(&o, VARIANTS[v], 2, 1);
            run_sb(&m, &o, &r);
            assert_true(r.energy == -7.5);
            nq_result_free(&r);
        }
        nq_model_free(&m);
    }
}

/* Weights around 1e12 (and mixed signs) neither overflow nor lose the
 * optimum; the same model scaled down has the same optimal state. */
static void test_sb_huge_and_negative_weights(void **state)
{
    (void)state;
    nq_model small;
    rand_model(&small, NQ_ISING, 18, 0.4, 1, 31);
    nq_builder b;
    nq_err err;
    build(&b, NQ_ISING, small.n);
    for (int32_t i = 0; i < small.n; i++) {
        nq_builder_add_linear(&b, i, small.linear[i] * 1e12, &err);
        for (int64_t k = small.row[i]; k < small.row[i + 1]; k++)
            if (small.col[k] > i)
                nq_builder_add_quadratic(&b, i, small.col[k], small.w[k] * 1e12, &err);
    }
    nq_model big;
    finish(&b, &big);
    double opt = exact_min(&big);
    assert_true(opt < -1e12);
    for (int v = 0; v < 2; v++)
        for (uint64_t seed = 1; seed <= 2; seed++)
            expect_optimum(&big, opt, VARIANTS[v], seed, "1e12");
    /* All-negative couplings (ferromagnet) plus a field: all spins aligned. */
    build(&b, NQ_ISING, 30);
    for (int32_t i = 0; i < 30; i++)
        for (int32_t j = i + 1; j < 30; j++)
            nq_builder_add_quadratic(&b, i, j, -1e12, &err);
    nq_builder_add_linear(&b, 5, 3.0, &err);
    nq_model ferro;
    finish(&b, &ferro);
    for (int v = 0; v < 2; v++)
        expect_optimum(&ferro, -435e12 - 3.0, VARIANTS[v], 1, "ferromagnet");
    nq_model_free(&small);
    nq_model_free(&big);
    nq_model_free(&ferro);
}

/* Two random components, a few isolated vertices with and without fields. */
static void test_sb_disconnected(void **state)
{
    (void)state;
    nq_model a, c;
    rand_model(&a, NQ_ISING, 9, 0.5, 1, 61);
    rand_model(&c, NQ_ISING, 8, 0.6, 0, 62);
    nq_builder b;
    nq_err err;
    build(&b, NQ_ISING, 21);
    const nq_model *parts[2] = {&a, &c};
    int32_t base[2] = {0, 11};
    for (int p = 0; p < 2; p++)
        for (int32_t i = 0; i < parts[p]->n; i++) {
            nq_builder_add_linear(&b, base[p] + i, parts[p]->linear[i], &err);
            for (int64_t k = parts[p]->row[i]; k < parts[p]->row[i + 1]; k++)
                if (parts[p]->col[k] > i)
                    nq_builder_add_quadratic(&b, base[p] + i, base[p] + parts[p]->col[k],
                                             parts[p]->w[k], &err);
        }
    nq_builder_add_linear(&b, 9, -1.5, &err); /* isolated, with a field */
    nq_builder_add_linear(&b, 20, 0.25, &err);
    nq_model m; /* vertex 10 and 19 isolated without a field */
    finish(&b, &m);
    double opt = exact_min(&m);
    for (int v = 0; v < 2; v++)
        for (uint64_t seed = 1; seed <= 4; seed++)
            expect_optimum(&m, opt, VARIANTS[v], seed, "disconnected");
    /* Two rings and isolated vertices without any field (no auxiliary
     * spin): a path with mixed signs and an odd, frustrated cycle. */
    build(&b, NQ_ISING, 22);
    for (int32_t i = 0; i + 1 < 9; i++)
        nq_builder_add_quadratic(&b, i, i + 1, i % 3 ? 1.0 : -2.0, &err);
    for (int32_t i = 11; i + 1 < 20; i++)
        nq_builder_add_quadratic(&b, i, i + 1, 1.0, &err);
    nq_builder_add_quadratic(&b, 11, 19, 1.0, &err);
    nq_model ring;
    finish(&b, &ring);
    double ring_opt = exact_min(&ring);
    for (int v = 0; v < 2; v++)
        expect_optimum(&ring, ring_opt, VARIANTS[v], 5, "rings");
    nq_model_free(&a);
    nq_model_free(&c);
    nq_model_free(&m);
    nq_model_free(&ring);
}

static int load_gset(const char *name, nq_model *m)
{
    const char *shared = getenv("NQ_SHARED_DIR");
    char path[512];
    snprintf(path, sizeof path, "%s/data/gset/%s", shared ? shared : "../shared", name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *data = malloc((size_t)len + 1);
    size_t got = data ? fread(data, 1, (size_t)len, f) : 0;
    fclose(f);
    nq_err err;
    int rc = got == (size_t)len ? nq_read_gset(data, got, path, m, &err) : -1;
    free(data);
    return rc;
}

/* G1 (best-known cut 11624): one read of each variant, 300 (bSB) or 600
 * (dSB) steps, within 0.5%. */
static void test_sb_gset_g1(void **state)
{
    (void)state;
    nq_model m;
    if (load_gset("G1.txt", &m)) {
        skip();
        return;
    }
    for (int v = 0; v < 2; v++) {
        nq_solve_opts o;
        nq_result r;
        sb_opts(&o, VARIANTS[v], 1, 1);
        o.reads = 1;
        o.sweeps = v ? 600 : 300;
        run_sb(&m, &o, &r);
        double cut = (m.maxcut_total_weight - r.energy) / 2.0;
        if (cut < 0.995 * 11624)
            fail_msg("G1 %s: cut %.0f", VARIANTS[v], cut);
        nq_result_free(&r);
    }
    nq_model_free(&m);
}

static void test_sb_bad_variant(void **state)
{
    (void)state;
    nq_model m;
    rand_model(&m, NQ_ISING, 10, 0.5, 1, 8);
    nq_solve_opts o;
    nq_result r;
    nq_err err;
    sb_opts(&o, "adiabatic", 1, 1);
    assert_int_equal(nq_solve(&m, &o, NULL, NULL, &r, &err), NQ_EINVAL);
    assert_string_equal(err.where, "variant");
    nq_model_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sb_reaches_exact_optimum),
        cmocka_unit_test(test_sb_deterministic),
        cmocka_unit_test(test_sb_target_stops_early),
        cmocka_unit_test(test_sb_time_limit),
        cmocka_unit_test(test_sb_time_limit_dense),
        cmocka_unit_test(test_sb_progress_and_cancel),
        cmocka_unit_test(test_sb_one_variable),
        cmocka_unit_test(test_sb_all_zero),
        cmocka_unit_test(test_sb_huge_and_negative_weights),
        cmocka_unit_test(test_sb_disconnected),
        cmocka_unit_test(test_sb_gset_g1),
        cmocka_unit_test(test_sb_bad_variant),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
