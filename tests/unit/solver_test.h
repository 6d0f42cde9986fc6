/* solver_test.h - checks shared by the solver tests (include after
 * cmocka.h). */
#ifndef NQ_TEST_SOLVER_TEST_H
#define NQ_TEST_SOLVER_TEST_H

#include <string.h>

#include "nqba/solve.h"

/* Minimum energy by the exact solver on two threads. */
static inline double exact_min(const nq_model *m)
{
    nq_solve_opts o;
    nq_result r;
    nq_err err;
    nq_solve_opts_default(&o);
    o.solver = "exact";
    o.threads = 2;
    assert_int_equal(nq_solve(m, &o, NULL, NULL, &r, &err), 0);
    double e = r.energy;
    nq_result_free(&r);
    return e;
}

/* Two runs that must agree to the bit: state, energy, reads. (Not the
 * work: with a target, reads past the first hit that were already running
 * on other threads still count their attempts.) */
static inline void assert_same_result(const nq_result *a, const nq_result *b)
{
    assert_true(a->energy == b->energy);
    assert_int_equal(a->reads, b->reads);
    assert_memory_equal(a->state, b->state, (size_t)a->n);
    assert_memory_equal(a->read_energies, b->read_energies, (size_t)a->reads * sizeof(double));
}

/* o's solver on a 300-variable random model (Ising with integer weights,
 * or QUBO with real ones), run on one thread twice and on `threads`
 * threads: the same answer each time, the same work on any thread count,
 * and no read below the answer. With check_seed, another seed must give
 * other read energies. *a is the one-thread result, for the caller's
 * checks of the work done and to free. */
static inline void check_deterministic(nq_solve_opts *o, int ising, int threads, int check_seed,
                                       nq_result *a)
{
    nq_model m;
    nq_result b, c;
    nq_err err;
    rand_model(&m, ising ? NQ_ISING : NQ_QUBO, 300, 0.03, ising, 42);
    o->threads = 1;
    assert_int_equal(nq_solve(&m, o, NULL, NULL, a, &err), 0);
    assert_int_equal(nq_solve(&m, o, NULL, NULL, &b, &err), 0);
    o->threads = threads;
    assert_int_equal(nq_solve(&m, o, NULL, NULL, &c, &err), 0);
    assert_same_result(a, &b);
    assert_same_result(a, &c);
    assert_int_equal(c.attempts, a->attempts);
    for (int64_t k = 0; k < a->reads; k++)
        assert_true(a->read_energies[k] >= a->energy || near(a->read_energies[k], a->energy));
    nq_result_free(&b);
    nq_result_free(&c);
    if (check_seed) {
        o->seed++;
        assert_int_equal(nq_solve(&m, o, NULL, NULL, &b, &err), 0);
        assert_true(memcmp(a->read_energies, b.read_energies,
                           (size_t)a->reads * sizeof(double)) != 0);
        nq_result_free(&b);
    }
    nq_model_free(&m);
}

/* A reachable target on a 22-variable model (optimum by exact search,
 * *opt): 5000 reads stop at the first read k that reaches it, the answer
 * is the best of reads 0..k (none before k reached it), and a run on
 * `threads` threads gives the same answer. *a is the one-thread result,
 * for the caller's own checks and to free. */
static inline void check_target_across_reads(nq_solve_opts *o, int threads, nq_result *a,
                                             double *opt)
{
    nq_model m;
    nq_result b;
    nq_err err;
    rand_model(&m, NQ_ISING, 22, 0.4, 1, 77);
    *opt = exact_min(&m);
    o->reads = 5000;
    o->has_target = 1;
    o->target = *opt;
    o->threads = 1;
    assert_int_equal(nq_solve(&m, o, NULL, NULL, a, &err), 0);
    o->threads = threads;
    assert_int_equal(nq_solve(&m, o, NULL, NULL, &b, &err), 0);
    assert_true(a->target_reached && b.target_reached);
    assert_false(a->timed_out);
    assert_true(near(a->energy, *opt));
    assert_true(a->reads < 5000);
    assert_true(a->read_energies[a->reads - 1] <= *opt + 1e-9);
    for (int64_t k = 0; k + 1 < a->reads; k++)
        assert_true(a->read_energies[k] > *opt + 1e-9);
    assert_same_result(a, &b);
    nq_result_free(&b);
    nq_model_free(&m);
}

static inline int cancel_at_third(const nq_progress *p, void *user)
{
    const nq_solve_opts *o = user;
    assert_true(p->fraction >= 0.0 && p->fraction <= 1.0);
    assert_string_equal(p->solver, o->solver);
    assert_true(p->done >= 1 && p->done <= 3);
    return p->done >= 3;
}

/* 100 reads of o's solver on a 100-variable model, with a progress
 * callback that checks each report and cancels at the third: the run ends
 * cancelled with at least 3 and at most max_reads reads counted (a batch
 * of reads under way when it cancelled completes). */
static inline void check_progress_and_cancel(nq_solve_opts *o, int64_t max_reads)
{
    nq_model m;
    nq_result r;
    nq_err err;
    rand_model(&m, NQ_ISING, 100, 0.1, 1, 8);
    o->reads = 100;
    assert_int_equal(nq_solve(&m, o, cancel_at_third, o, &r, &err), 0);
    assert_true(r.cancelled);
    assert_true(r.reads >= 3 && r.reads <= max_reads);
    nq_result_free(&r);
    nq_model_free(&m);
}

#endif
