/* solver_test.h - checks shared by the solver tests (include after
 * cmocka.h). */
#ifndef NQ_TEST_SOLVER_TEST_H
#define NQ_TEST_SOLVER_TEST_H

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

#endif
