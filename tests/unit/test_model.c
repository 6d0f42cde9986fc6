/* test_model.c - model builder, energy, conversions, Max-Cut value. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "nqba/model.h"
#include "rand_model.h"

/* Energy from an explicit term list, independent of the CSR storage. */
typedef struct term { int i, j; double w; } term;

static double naive_energy(const term *t, int nt, double off, const int8_t *s, int ising)
{
    double e = off;
    for (int k = 0; k < nt; k++) {
        if (t[k].i != t[k].j)
            e += t[k].w * s[t[k].i] * s[t[k].j];
        else /* x^2 = x, s^2 = 1 */
            e += ising ? t[k].w : t[k].w * s[t[k].i];
    }
    return e;
}

static void test_builder_sums_and_folds(void **state)
{
    (void)state;
    term t[] = {{0, 1, 3}, {1, 0, -1}, {2, 2, 1.5}, {0, 2, 2}, {1, 3, 4}, {3, 1, -4}, {0, 0, -2}};
    int nt = (int)(sizeof t / sizeof t[0]);
    for (int type = 0; type < 2; type++) {
        nq_builder b;
        nq_err err;
        nq_model m;
        nq_builder_init(&b, (nq_vartype)type);
        for (int k = 0; k < nt; k++)
            assert_int_equal(nq_builder_add_quadratic(&b, t[k].i, t[k].j, t[k].w, &err), 0);
        nq_builder_add_offset(&b, 0.5);
        assert_int_equal(nq_builder_finish(&b, &m, &err), 0);
        assert_int_equal(m.n, 4);
        /* (0,1) summed to 2, (0,2) = 2, (1,3) cancelled and dropped. */
        assert_int_equal(nq_model_pairs(&m), 2);
        assert_int_equal(m.row[4], 4);
        for (int i = 0; i < m.n; i++)
            for (int64_t k = m.row[i] + 1; k < m.row[i + 1]; k++)
                assert_true(m.col[k - 1] < m.col[k]);
        if (type == NQ_QUBO) {
            assert_true(m.linear[2] == 1.5 && m.linear[0] == -2.0);
            assert_true(m.offset == 0.5);
        } else {
            assert_true(m.linear[2] == 0.0 && m.offset == 0.5 + 1.5 - 2.0);
        }
        for (uint64_t k = 0; k < 16; k++) {
            int8_t s[4];
            state_from_index(&m, k, s);
            assert_true(near(nq_model_energy(&m, s), naive_energy(t, nt, 0.5, s, type == NQ_ISING)));
        }
        assert_int_equal(m.integral, type == NQ_ISING); /* 1.5 folds into the offset */
        nq_model_free(&m);
    }
}

static void test_builder_limits(void **state)
{
    (void)state;
    nq_builder b;
    nq_err err;
    nq_builder_init(&b, NQ_QUBO);
    b.max_vars = 10;
    b.max_terms = 2;
    assert_int_equal(nq_builder_add_linear(&b, 10, 1.0, &err), NQ_ERANGE);
    assert_int_equal(nq_builder_add_linear(&b, -1, 1.0, &err), NQ_ERANGE);
    assert_int_equal(nq_builder_add_linear(&b, 1, NAN, &err), NQ_ERANGE);
    assert_int_equal(nq_builder_add_quadratic(&b, 0, 1, 1.0, &err), 0);
    assert_int_equal(nq_builder_add_quadratic(&b, 0, 2, 1.0, &err), 0);
    assert_int_equal(nq_builder_add_quadratic(&b, 0, 3, 1.0, &err), NQ_ELIMIT);
    assert_non_null(strstr(err.msg, "2"));
    nq_builder_free(&b);
    nq_builder_free(NULL);
    nq_model_free(NULL);
}

static void check_same_energies(const nq_model *a, const nq_model *b)
{
    int8_t sa[16], sb[16];
    assert_int_equal(a->n, b->n);
    for (uint64_t k = 0; k < ((uint64_t)1 << a->n); k++) {
        state_from_index(a, k, sa);
        state_from_index(b, k, sb);
        assert_true(near(nq_model_energy(a, sa), nq_model_energy(b, sb)));
    }
}

static void test_conversions_round_trip(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 40; seed++) {
        nq_model m, conv, back;
        nq_err err;
        nq_vartype type = seed & 1 ? NQ_QUBO : NQ_ISING;
        int integer = (seed >> 1) & 1;
        rand_model(&m, type, 3 + (int32_t)(seed % 10), 0.2 + 0.02 * (double)seed, integer, seed);
        int rc = type == NQ_QUBO ? nq_model_to_ising(&m, &conv, &err) : nq_model_to_qubo(&m, &conv, &err);
        assert_int_equal(rc, 0);
        assert_int_not_equal(conv.type, m.type);
        check_same_energies(&m, &conv);
        rc = type == NQ_QUBO ? nq_model_to_qubo(&conv, &back, &err) : nq_model_to_ising(&conv, &back, &err);
        assert_int_equal(rc, 0);
        assert_int_equal(back.type, m.type);
        /* The round trip gives back the same coefficients: exactly for
         * integer models, up to summation rounding for real ones. */
        for (int32_t i = 0; i < m.n; i++)
            assert_true(integer ? m.linear[i] == back.linear[i] : near(m.linear[i], back.linear[i]));
        for (int64_t k = 0; k < m.nnz; k++)
            assert_true(m.w[k] == back.w[k] && m.col[k] == back.col[k]);
        assert_true(integer ? m.offset == back.offset : near(m.offset, back.offset));
        if (integer && type == NQ_ISING)
            assert_true(conv.integral);
        nq_model_free(&m);
        nq_model_free(&conv);
        nq_model_free(&back);
    }
}

static void test_dense_storage(void **state)
{
    (void)state;
    nq_model m;
    rand_model(&m, NQ_ISING, 40, 0.9, 1, 7);
    assert_non_null(m.dense);
    for (int32_t i = 0; i < m.n; i++) {
        assert_true(m.dense[(size_t)i * m.n + i] == 0.0);
        for (int64_t k = m.row[i]; k < m.row[i + 1]; k++)
            assert_true(m.dense[(size_t)i * m.n + m.col[k]] == m.w[k]);
    }
    nq_model sparse;
    rand_model(&sparse, NQ_ISING, 40, 0.05, 1, 7);
    assert_null(sparse.dense);
    nq_model_free(&m);
    nq_model_free(&sparse);
}

static void test_maxcut_value(void **state)
{
    (void)state;
    /* A 4-cycle with weights 1, 2, 3, -1: cut = (W - E) / 2 for every state. */
    nq_builder b;
    nq_err err;
    nq_model m;
    nq_builder_init(&b, NQ_ISING);
    nq_builder_add_quadratic(&b, 0, 1, 1, &err);
    nq_builder_add_quadratic(&b, 1, 2, 2, &err);
    nq_builder_add_quadratic(&b, 2, 3, 3, &err);
    nq_builder_add_quadratic(&b, 3, 0, -1, &err);
    assert_int_equal(nq_builder_finish(&b, &m, &err), 0);
    int8_t s[4] = {1, -1, 1, -1};
    assert_true(nq_maxcut_value(&m, s) == 5.0);
    for (uint64_t k = 0; k < 16; k++) {
        state_from_index(&m, k, s);
        assert_true(nq_maxcut_value(&m, s) == (5.0 - nq_model_energy(&m, s)) / 2.0);
    }
    int8_t bits[4], back[4];
    nq_spins_to_bits(s, bits, 4);
    nq_bits_to_spins(bits, back, 4);
    assert_memory_equal(s, back, 4);
    nq_model_free(&m);
}

/* Duplicate real-valued terms summed in different orders must still give
 * exactly w_ij == w_ji. */
static void test_duplicates_stay_symmetric(void **state)
{
    (void)state;
    nq_rng r;
    nq_rng_seed(&r, 11);
    for (int t = 0; t < 200; t++) {
        nq_builder b;
        nq_model m;
        nq_builder_init(&b, NQ_ISING);
        int32_t n = 2 + (int32_t)nq_rng_below(&r, 60);
        for (int k = 0; k < 3 * n; k++) {
            int32_t i = (int32_t)nq_rng_below(&r, (uint64_t)n), j = (int32_t)nq_rng_below(&r, (uint64_t)n);
            if (i != j)
                assert_int_equal(nq_builder_add_quadratic(&b, i, j, nq_rng_double(&r) - 0.3, NULL), 0);
        }
        assert_int_equal(nq_builder_finish(&b, &m, NULL), 0);
        for (int32_t i = 0; i < m.n; i++)
            for (int64_t k = m.row[i]; k < m.row[i + 1]; k++) {
                int32_t j = m.col[k];
                int found = 0;
                for (int64_t q = m.row[j]; q < m.row[j + 1]; q++)
                    if (m.col[q] == i) {
                        assert_true(m.w[q] == m.w[k]);
                        found = 1;
                    }
                assert_true(found);
            }
        nq_model_free(&m);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_builder_sums_and_folds),
        cmocka_unit_test(test_builder_limits),
        cmocka_unit_test(test_conversions_round_trip),
        cmocka_unit_test(test_dense_storage),
        cmocka_unit_test(test_maxcut_value),
        cmocka_unit_test(test_duplicates_stay_symmetric),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
