/* test_pt.c - parallel tempering: optimality on small models against the
 * exact solver, stop conditions, determinism, edge-case models, the
 * adaptive ladder, and a Gset smoke check. */
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

/* White-box: the ladder's measured swap rates (lib/solve/pt_plan.h). */
#include "../../lib/solve/pt_plan.h"

static void pt_opts(nq_solve_opts *o, uint64_t seed, int threads)
{
    nq_solve_opts_default(o);
    o->solver = "pt";
    o->seed = seed;
    o->threads = threads;
}

static void run_pt(const nq_model *m, const nq_solve_opts *o, nq_result *r)
{
    nq_err err;
    int rc = nq_solve(m, o, NULL, NULL, r, &err);
    if (rc)
        fail_msg("pt failed: %s", err.msg);
    assert_string_equal(r->solver, "pt");
    assert_true(near(nq_model_energy(m, r->state), r->energy));
}

/* One short read (300 sweeps) must find the optimum, seed after seed. */
static void expect_optimum(const nq_model *m, int seeds, const char *what)
{
    double opt = exact_min(m);
    for (uint64_t seed = 1; seed <= (uint64_t)seeds; seed++) {
        nq_solve_opts o;
        nq_result r;
        pt_opts(&o, seed, 1);
        o.reads = 1;
        o.sweeps = 300;
        run_pt(m, &o, &r);
        if (!near(r.energy, opt))
            fail_msg("%s seed=%d: pt %.17g, exact %.17g", what, (int)seed, r.energy, opt);
        nq_result_free(&r);
    }
}

/* n = 12..24, QUBO and Ising, integer and real weights. */
static void test_pt_reaches_exact_optimum(void **state)
{
    (void)state;
    for (int32_t n = 12; n <= 24; n += 4) {
        for (int kind = 0; kind < 4; kind++) {
            nq_model m;
            char what[64];
            rand_model(&m, kind & 1 ? NQ_ISING : NQ_QUBO, n, 0.3, kind < 2, 2000 + (uint64_t)n);
            snprintf(what, sizeof what, "n=%d kind=%d", n, kind);
            expect_optimum(&m, 12, what);
            nq_model_free(&m);
        }
    }
}

/* Scaled by 1e12, and with every weight negated: same optimum (scaled,
 * resp. of the negated model). Wide integers run the floating kernel. */
static void test_pt_huge_and_negative_weights(void **state)
{
    (void)state;
    static const double scales[] = {1e12, -1.0, 123457.0};
    for (size_t k = 0; k < sizeof scales / sizeof scales[0]; k++) {
        nq_model base, m;
        nq_err err;
        rand_model(&base, NQ_ISING, 20, 0.4, 1, 31 + k);
        nq_builder b;
        nq_builder_init(&b, NQ_ISING);
        for (int32_t i = 0; i < base.n; i++) {
            nq_builder_add_linear(&b, i, scales[k] * base.linear[i], &err);
            for (int64_t q = base.row[i]; q < base.row[i + 1]; q++)
                if (base.col[q] > i)
                    nq_builder_add_quadratic(&b, i, base.col[q], scales[k] * base.w[q], &err);
        }
        assert_int_equal(nq_builder_finish(&b, &m, &err), 0);
        expect_optimum(&m, 8, "scaled");
        nq_model_free(&m);
        nq_model_free(&base);
    }
}

/* Two random components and three isolated vertices (two with a field). */
static void test_pt_disconnected(void **state)
{
    (void)state;
    for (int integer = 0; integer < 2; integer++) {
        nq_model m;
        nq_err err;
        nq_rng rng;
        nq_rng_seed(&rng, 5 + (uint64_t)integer);
        nq_builder b;
        nq_builder_init(&b, NQ_ISING);
        nq_builder_set_n(&b, 23, &err);
        for (int32_t c = 0; c < 2; c++)
            for (int32_t i = c * 10; i < c * 10 + 10; i++)
                for (int32_t j = i + 1; j < c * 10 + 10; j++) {
                    double w = integer ? (double)((int)nq_rng_below(&rng, 9) - 4)
                                       : 2.0 * nq_rng_double(&rng) - 1.0;
                    if (nq_rng_double(&rng) < 0.5)
                        nq_builder_add_quadratic(&b, i, j, w, &err);
                }
        nq_builder_add_linear(&b, 20, 2.0, &err);
        nq_builder_add_linear(&b, 22, -1.5, &err);
        assert_int_equal(nq_builder_finish(&b, &m, &err), 0);
        expect_optimum(&m, 10, "disconnected");
        nq_model_free(&m);
    }
}

static void test_pt_one_variable(void **state)
{
    (void)state;
    for (int type = 0; type < 2; type++) {
        nq_model m;
        nq_err err;
        nq_builder b;
        nq_builder_init(&b, type ? NQ_ISING : NQ_QUBO);
        nq_builder_add_linear(&b, 0, 3.0, &err);
        nq_builder_add_offset(&b, 1.0);
        assert_int_equal(nq_builder_finish(&b, &m, &err), 0);
        nq_solve_opts o;
        nq_result r;
        pt_opts(&o, 7, 1);
        run_pt(&m, &o, &r);
        assert_int_equal(r.n, 1);
        assert_true(r.energy == (type ? -2.0 : 1.0));
        assert_int_equal(r.state[0], type ? -1 : 0);
        nq_result_free(&r);
        nq_model_free(&m);
    }
}

static void test_pt_all_zero_model(void **state)
{
    (void)state;
    nq_model m;
    nq_err err;
    nq_builder b;
    nq_builder_init(&b, NQ_QUBO);
    nq_builder_set_n(&b, 50, &err);
    nq_builder_add_offset(&b, 4.5);
    assert_int_equal(nq_builder_finish(&b, &m, &err), 0);
    nq_solve_opts o;
    nq_result r;
    pt_opts(&o, 3, 2);
    o.sweeps = 50;
    run_pt(&m, &o, &r);
    assert_true(r.energy == 4.5);
    nq_result_free(&r);
    nq_model_free(&m);
}

/* Same seed: same answer, run twice on one thread and on 2 or 3 threads;
 * a full run makes replicas * n * sweeps attempts per read. */
static void test_pt_deterministic(void **state)
{
    (void)state;
    for (int kind = 0; kind < 2; kind++) {
        nq_solve_opts o;
        nq_result a;
        pt_opts(&o, 12345, 1);
        o.reads = 5;
        o.sweeps = 60;
        o.replicas = 8;
        check_deterministic(&o, kind, 2 + kind, 1, &a);
        assert_int_equal(a.attempts, 5LL * 8 * 300 * 60);
        nq_result_free(&a);
    }
}

/* 1, 2 and 3 replicas (no ladder to adapt below 3) still work. */
static void test_pt_few_replicas(void **state)
{
    (void)state;
    nq_model m;
    rand_model(&m, NQ_ISING, 16, 0.4, 1, 99);
    double opt = exact_min(&m);
    for (int32_t reps = 1; reps <= 3; reps++) {
        nq_solve_opts o;
        nq_result r;
        pt_opts(&o, 1, 1);
        o.replicas = reps;
        o.reads = 8;
        o.sweeps = 200;
        run_pt(&m, &o, &r);
        assert_true(near(r.energy, opt));
        assert_int_equal(r.attempts, 8LL * reps * 16 * 200);
        nq_result_free(&r);
    }
    nq_model_free(&m);
}

/* Reads: the pool stops at the first read that reaches the target.
 * Within a read: a huge sweep count ends as soon as the best gets there. */
static void test_pt_target_stops_early(void **state)
{
    (void)state;
    nq_solve_opts o;
    nq_result a, b;
    double opt;
    pt_opts(&o, 9, 1);
    o.sweeps = 20;
    o.replicas = 4;
    check_target_across_reads(&o, 2, &a, &opt);
    /* Within one endless read: it stops as soon as a replica reaches it. */
    nq_model m;
    rand_model(&m, NQ_ISING, 22, 0.4, 1, 77);
    o.reads = 1;
    o.threads = 1;
    o.sweeps = NQ_SOLVE_MAX_SWEEPS;
    o.replicas = 0;
    run_pt(&m, &o, &b);
    assert_true(b.target_reached && near(b.energy, opt));
    assert_true(b.elapsed < 1.0);
    assert_true(b.attempts < 1000000);
    nq_result_free(&a);
    nq_result_free(&b);
    nq_model_free(&m);
}

static void test_pt_time_limit(void **state)
{
    (void)state;
    nq_model m;
    rand_model(&m, NQ_QUBO, 3000, 0.01, 0, 3);
    for (int threads = 1; threads <= 2; threads++) {
        nq_solve_opts o;
        nq_result r;
        pt_opts(&o, 1, threads);
        o.reads = 4;
        o.sweeps = NQ_SOLVE_MAX_SWEEPS;
        o.time_limit = 0.3;
        double t0 = nq_clock_s();
        run_pt(&m, &o, &r);
        double wall = nq_clock_s() - t0;
        assert_true(r.timed_out);
        assert_true(r.elapsed <= o.time_limit + 0.05);
        assert_true(wall <= o.time_limit + 0.05);
        assert_true(r.reads >= 1 && r.reads <= threads);
        nq_result_free(&r);
    }
    nq_model_free(&m);
}

static void test_pt_progress_and_cancel(void **state)
{
    (void)state;
    nq_solve_opts o;
    pt_opts(&o, 1, 1);
    o.sweeps = 20;
    o.replicas = 4;
    check_progress_and_cancel(&o, 3);
}

/* Antiferromagnet on an L x L torus: its ordering transition makes a
 * geometric ladder's swap rates very uneven. */
static void torus(nq_model *m, int32_t side)
{
    nq_err err;
    nq_builder b;
    nq_builder_init(&b, NQ_ISING);
    for (int32_t y = 0; y < side; y++)
        for (int32_t x = 0; x < side; x++) {
            int32_t v = y * side + x;
            nq_builder_add_quadratic(&b, v, y * side + (x + 1) % side, 1.0, &err);
            nq_builder_add_quadratic(&b, v, ((y + 1) % side) * side + x, 1.0, &err);
        }
    assert_int_equal(nq_builder_finish(&b, m, &err), 0);
}

static void rate_spread(const double *rate, int32_t pairs, double *lo, double *hi)
{
    *lo = 1.0, *hi = 0.0;
    for (int32_t k = 0; k < pairs; k++) {
        *lo = rate[k] < *lo ? rate[k] : *lo;
        *hi = rate[k] > *hi ? rate[k] : *hi;
    }
}

static void test_pt_adaptive_ladder(void **state)
{
    (void)state;
    nq_model m;
    nq_err err;
    torus(&m, 24);
    nq_solve_opts o;
    pt_opts(&o, 11, 1);
    o.replicas = 16;
    o.sweeps = 1600;
    double geo[16], adapted[16], beta_geo[16], beta[16], glo, ghi, alo, ahi;
    assert_int_equal(nq__pt_probe_rates(&m, &o, 0, geo, beta_geo, &err), 0);
    assert_int_equal(nq__pt_probe_rates(&m, &o, 1, adapted, beta, &err), 0);
    rate_spread(geo, 15, &glo, &ghi);
    rate_spread(adapted, 15, &alo, &ahi);
    print_message("swap rates: geometric %.3f..%.3f, adapted %.3f..%.3f\n", glo, ghi, alo, ahi);
    assert_true(ahi - alo < 0.5 * (ghi - glo));
    assert_true(alo > glo);
    assert_true(beta[0] == beta_geo[0] && beta[15] == beta_geo[15]);
    for (int32_t k = 0; k + 1 < 16; k++)
        assert_true(beta[k] < beta[k + 1]);
    nq_model_free(&m);
}

static int load_gset(const char *name, nq_model *m)
{
    const char *shared = getenv("NQ_SHARED_DIR");
    char path[512];
    snprintf(path, sizeof path, "%s/data/gset/%s", shared ? shared : "../shared", name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    char *buf = malloc(1 << 20);
    size_t len = buf ? fread(buf, 1, 1 << 20, f) : 0;
    fclose(f);
    nq_err err;
    int rc = buf ? nq_read_gset(buf, len, name, m, &err) : -1;
    free(buf);
    return rc;
}

/* G11 (best-known cut 564): one default read gets within 0.5%. */
static void test_pt_gset_smoke(void **state)
{
    (void)state;
    nq_model m;
    if (load_gset("G11.txt", &m)) {
        print_message("G11.txt not found: skipped\n");
        skip();
    }
    nq_solve_opts o;
    nq_result r;
    pt_opts(&o, 1, 1);
    o.reads = 1;
    o.has_target = 1;
    o.target = m.maxcut_total_weight - 2.0 * 564;
    run_pt(&m, &o, &r);
    double cut = (m.maxcut_total_weight - r.energy) / 2.0;
    print_message("G11: cut %.0f in %.3f s\n", cut, r.elapsed);
    assert_true(cut >= 0.995 * 564);
    nq_result_free(&r);
    nq_model_free(&m);
}

static void test_pt_bad_options(void **state)
{
    (void)state;
    nq_model m;
    rand_model(&m, NQ_ISING, 10, 0.5, 1, 8);
    nq_solve_opts o;
    nq_result r;
    nq_err err;
    pt_opts(&o, 1, 1);
    o.replicas = -1;
    assert_int_equal(nq_solve(&m, &o, NULL, NULL, &r, &err), NQ_ERANGE);
    assert_string_equal(err.where, "replicas");
    pt_opts(&o, 1, 1);
    o.sweeps = -5;
    assert_int_equal(nq_solve(&m, &o, NULL, NULL, &r, &err), NQ_ERANGE);
    nq_model_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pt_reaches_exact_optimum),
        cmocka_unit_test(test_pt_huge_and_negative_weights),
        cmocka_unit_test(test_pt_disconnected),
        cmocka_unit_test(test_pt_one_variable),
        cmocka_unit_test(test_pt_all_zero_model),
        cmocka_unit_test(test_pt_deterministic),
        cmocka_unit_test(test_pt_few_replicas),
        cmocka_unit_test(test_pt_target_stops_early),
        cmocka_unit_test(test_pt_time_limit),
        cmocka_unit_test(test_pt_progress_and_cancel),
        cmocka_unit_test(test_pt_adaptive_ladder),
        cmocka_unit_test(test_pt_gset_smoke),
        cmocka_unit_test(test_pt_bad_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
