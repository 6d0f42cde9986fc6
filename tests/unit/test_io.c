/* test_io.c - model readers, writers and format guessing.
 *
 * Every reader input is copied into a heap block of exactly its length, so
 * AddressSanitizer catches a reader that looks past len (the readers must
 * not rely on a terminating NUL). */
/* cmocka needs these first, in this order. */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
/* clang-format on */

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nqba/io.h"
#include "nqba/rng.h"

typedef int (*reader_fn)(const char *, size_t, const char *, nq_model *, nq_err *);

/* ---- helpers ---------------------------------------------------------- */

static int read_exact(reader_fn fn, const char *data, size_t len, const char *src, nq_model *m,
                      nq_err *err)
{
    char *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    memcpy(copy, data, len);
    nq_err_clear(err);
    int rc = fn(copy, len, src, m, err);
    free(copy);
    return rc;
}

static void read_ok(reader_fn fn, const char *text, nq_model *m)
{
    nq_err err;
    int rc = read_exact(fn, text, strlen(text), "t", m, &err);
    if (rc)
        print_error("unexpected failure: %s: %s\n", err.where, err.msg);
    assert_int_equal(rc, 0);
}

static int model_is_zero(const nq_model *m)
{
    nq_model zero;
    memset(&zero, 0, sizeof zero);
    return memcmp(m, &zero, sizeof zero) == 0;
}

typedef struct bad_case {
    const char *data;
    size_t len;
    int code;
    const char *where;
    const char *msg;
} bad_case;

#define BAD(s, code, where, msg)                                                                   \
    {                                                                                              \
        s, sizeof(s) - 1, code, where, msg                                                         \
    }

static void check_bad(reader_fn fn, const bad_case *cases, size_t n)
{
    int failures = 0;
    for (size_t k = 0; k < n; k++) {
        const bad_case *c = &cases[k];
        nq_model m;
        memset(&m, 0x5a, sizeof m);
        nq_err err;
        int rc = read_exact(fn, c->data, c->len, "t.txt", &m, &err);
        if (rc != c->code || strcmp(err.where, c->where) != 0 || !strstr(err.msg, c->msg) ||
            !model_is_zero(&m)) {
            print_error("case %zu: got rc %d where '%s' msg '%s'; want rc %d where '%s' msg '%s'\n",
                        k, rc, err.where, err.msg, c->code, c->where, c->msg);
            failures++;
        }
        nq_model_free(&m);
    }
    assert_int_equal(failures, 0);
}

/* Weight of pair (i, j) from the CSR rows, 0 if absent. */
static double pair_w(const nq_model *m, int32_t i, int32_t j)
{
    for (int64_t k = m->row[i]; k < m->row[i + 1]; k++)
        if (m->col[k] == j)
            return m->w[k];
    return 0;
}

static void assert_same_model(const nq_model *a, const nq_model *b)
{
    assert_int_equal(a->type, b->type);
    assert_int_equal(a->n, b->n);
    assert_int_equal(a->nnz, b->nnz);
    assert_true(a->offset == b->offset);
    for (int32_t i = 0; i < a->n; i++)
        assert_true(a->linear[i] == b->linear[i]);
    for (int32_t i = 0; i <= a->n; i++)
        assert_int_equal(a->row[i], b->row[i]);
    for (int64_t k = 0; k < a->nnz; k++) {
        assert_int_equal(a->col[k], b->col[k]);
        assert_true(a->w[k] == b->w[k]);
    }
}

static void random_state(nq_rng *r, const nq_model *m, int8_t *s)
{
    for (int32_t i = 0; i < m->n; i++) {
        int bit = (int)nq_rng_below(r, 2);
        s[i] = (int8_t)(m->type == NQ_ISING ? 2 * bit - 1 : bit);
    }
}

/* A weight that is an integer half the time and an arbitrary double
 * (which only prints exactly with 17 digits) otherwise. */
static double random_weight(nq_rng *r)
{
    if (nq_rng_below(r, 2))
        return (double)nq_rng_below(r, 21) - 10.0;
    return (nq_rng_double(r) - 0.5) * pow(10.0, (double)nq_rng_below(r, 9) - 4.0);
}

/* Each pair is drawn at most once: the model under test is then exactly
 * what the writers see, whatever order the builder sums repeats in. */
static void random_model(nq_rng *r, nq_vartype type, int32_t n, int plain, nq_model *m)
{
    nq_builder b;
    nq_builder_init(&b, type);
    assert_int_equal(nq_builder_set_n(&b, n, NULL), 0);
    uint8_t *used = calloc((size_t)n * (size_t)n, 1);
    assert_non_null(used);
    for (int64_t t = 0; t < (int64_t)n * 3; t++) {
        int32_t i = (int32_t)nq_rng_below(r, (uint64_t)n),
                j = (int32_t)nq_rng_below(r, (uint64_t)n);
        if (used[i * n + j] || (i == j && plain))
            continue;
        used[i * n + j] = used[j * n + i] = 1;
        if (i != j)
            assert_int_equal(nq_builder_add_quadratic(&b, i, j, random_weight(r), NULL), 0);
        else
            assert_int_equal(nq_builder_add_linear(&b, i, random_weight(r), NULL), 0);
    }
    free(used);
    if (!plain)
        nq_builder_add_offset(&b, random_weight(r));
    assert_int_equal(nq_builder_finish(&b, m, NULL), 0);
}

/* ---- Gset: the shared benchmark files --------------------------------- */

typedef struct recount {
    long n, m, edges;
    long long pairs;
    double total;
} recount;

static int cmp_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

/* Count the file's edge lines and distinct pairs with sscanf: a second,
 * deliberately simple reading of the same bytes. */
static void recount_gset(const char *text, recount *rc)
{
    memset(rc, 0, sizeof *rc);
    const char *p = text;
    assert_int_equal(sscanf(p, "%ld %ld", &rc->n, &rc->m), 2);
    p = strchr(p, '\n') + 1;
    long long *keys = malloc((size_t)rc->m * sizeof *keys);
    assert_non_null(keys);
    while (*p) {
        long i, j;
        double w;
        if (sscanf(p, "%ld %ld %lf", &i, &j, &w) == 3) {
            assert_true(rc->edges < rc->m);
            long a = i < j ? i : j, b = i < j ? j : i;
            keys[rc->edges++] = (long long)a * (rc->n + 1) + b;
            rc->total += w;
        }
        const char *nl = strchr(p, '\n');
        p = nl ? nl + 1 : p + strlen(p);
    }
    qsort(keys, (size_t)rc->edges, sizeof *keys, cmp_ll);
    for (long k = 0; k < rc->edges; k++)
        rc->pairs += k == 0 || keys[k] != keys[k - 1];
    free(keys);
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)size + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)size, f), (size_t)size);
    buf[size] = '\0';
    fclose(f);
    *len = (size_t)size;
    return buf;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void check_gset_file(const char *dir, const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    size_t len;
    char *text = slurp(path, &len);
    recount want;
    recount_gset(text, &want);
    assert_int_equal(want.edges, want.m);

    nq_model m;
    nq_err err;
    double t0 = now_ms();
    int rc = nq_read_gset(text, len, name, &m, &err); /* not NUL-terminated as far as it knows */
    double ms = now_ms() - t0;
    if (rc)
        print_error("%s: %s: %s\n", name, err.where, err.msg);
    assert_int_equal(rc, 0);
    print_message("  %-8s n=%ld m=%ld parsed in %.2f ms\n", name, want.n, want.m, ms);
    assert_int_equal(m.type, NQ_ISING);
    assert_int_equal(m.n, want.n);
    assert_int_equal(nq_model_pairs(&m), want.pairs);
    assert_true(m.maxcut == 1);
    assert_true(m.maxcut_total_weight == want.total);
    /* With every spin up, E = sum of all weights. */
    int8_t *s = malloc((size_t)m.n);
    memset(s, 1, (size_t)m.n);
    assert_true(nq_model_energy(&m, s) == want.total);
    free(s);
    nq_model_free(&m);
    free(text);
}

static void test_gset_shared_files(void **state)
{
    (void)state;
    const char *shared = getenv("NQ_SHARED_DIR");
    char dir[512];
    snprintf(dir, sizeof dir, "%s/data/gset", shared ? shared : "../shared");
    DIR *d = opendir(dir);
    assert_non_null(d);
    int files = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (n > 4 && strcmp(e->d_name + n - 4, ".txt") == 0) {
            check_gset_file(dir, e->d_name);
            files++;
        }
    }
    closedir(d);
    assert_true(files >= 1);
}

/* ---- Gset: synthetic inputs ------------------------------------------- */

static void test_gset_line_endings(void **state)
{
    (void)state;
    static const char *const inputs[] = {
        "4 3\n1 2 1\n2 3 -1\n3 4 2.5\n",               /* plain */
        "4 3\r\n1 2 1\r\n2 3 -1\r\n3 4 2.5\r\n",       /* CRLF */
        "4 3 \n1 2 1\n2 3 -1\n3 4 2.5\n",              /* trailing space on the header */
        "4 3 \r\n1 2 1 \r\n2 3 -1\r\n3 4 2.5",         /* both, and no final newline */
        "\n4 3\n\n1 2 1\n\t2\t3\t-1\n\n3 4 25e-1\n\n", /* blank lines, tabs, exponent */
    };
    for (size_t k = 0; k < sizeof inputs / sizeof inputs[0]; k++) {
        nq_model m;
        read_ok(nq_read_gset, inputs[k], &m);
        assert_int_equal(m.n, 4);
        assert_int_equal(nq_model_pairs(&m), 3);
        assert_true(pair_w(&m, 0, 1) == 1 && pair_w(&m, 1, 2) == -1 && pair_w(&m, 2, 3) == 2.5);
        assert_true(m.maxcut_total_weight == 2.5);
        nq_model_free(&m);
    }
}

static void test_gset_values(void **state)
{
    (void)state;
    nq_model m;
    /* Repeated edges are summed, in either orientation; large exponents. */
    read_ok(nq_read_gset, "3 3\n1 2 1e3\n2 1 -0.5\n2 3 +7\n", &m);
    assert_true(pair_w(&m, 0, 1) == 999.5 && pair_w(&m, 1, 0) == 999.5);
    assert_true(pair_w(&m, 1, 2) == 7);
    assert_true(m.maxcut_total_weight == 1006.5);
    nq_model_free(&m);
    /* No edges at all is a valid graph. */
    read_ok(nq_read_gset, "5 0\n", &m);
    assert_int_equal(m.n, 5);
    assert_int_equal(m.nnz, 0);
    nq_model_free(&m);
}

static void test_gset_bad(void **state)
{
    (void)state;
    static const bad_case cases[] = {
        BAD("", NQ_EPARSE, "t.txt:1", "empty file: expected header 'n m'"),
        BAD("\n \r\n", NQ_EPARSE, "t.txt:2", "empty file"),
        BAD("800 19176 J\n1 2 1\n", NQ_EPARSE, "t.txt:1",
            "header: unexpected token 'J' after edge count"),
        BAD("\n800 19176 J", NQ_EPARSE, "t.txt:2", "unexpected token 'J' after edge count"),
        BAD("800\n", NQ_EPARSE, "t.txt:1", "header: expected 'n m'"),
        BAD("12x 3\n", NQ_EPARSE, "t.txt:1", "vertex count '12x' is not an integer"),
        BAD("4 3y\n", NQ_EPARSE, "t.txt:1", "edge count '3y' is not an integer"),
        BAD("0 0\n", NQ_ERANGE, "t.txt:1", "vertex count 0 out of range"),
        BAD("-3 0\n", NQ_ERANGE, "t.txt:1", "vertex count -3 out of range"),
        BAD("10000001 0\n", NQ_ELIMIT, "t.txt:1", "vertex count 10000001 out of range"),
        BAD("99999999999999999999999 0\n", NQ_ELIMIT, "t.txt:1", "out of range"),
        BAD("4 -1\n", NQ_ERANGE, "t.txt:1", "edge count -1 out of range"),
        BAD("4 100000001\n", NQ_ELIMIT, "t.txt:1", "edge count 100000001 out of range"),
        BAD("4 3\n1 2 1\n2 3 1\n3 4 abc\n", NQ_EPARSE, "t.txt:4",
            "edge 3: weight 'abc' is not a number"),
        BAD("4 3\n1 2 1\n\n2 3 1\n\n3 4 abc\n", NQ_EPARSE, "t.txt:6",
            "edge 3: weight 'abc' is not a number"),
        BAD("4 1\n1 2 1.5x\n", NQ_EPARSE, "t.txt:2", "weight '1.5x' is not a number"),
        BAD("4 1\n1 2 nan\n", NQ_ERANGE, "t.txt:2", "weight 'nan' is not finite"),
        BAD("4 1\n1 2 inf\n", NQ_ERANGE, "t.txt:2", "weight 'inf' is not finite"),
        BAD("4 1\n1 2 -Infinity\n", NQ_ERANGE, "t.txt:2", "is not finite"),
        BAD("4 1\n1 2 1e999\n", NQ_ERANGE, "t.txt:2", "weight '1e999' is not finite"),
        BAD("800 1\n1 801 1\n", NQ_ERANGE, "t.txt:2", "vertex 801 out of range 1..800"),
        BAD("800 1\n0 5 1\n", NQ_ERANGE, "t.txt:2", "vertex 0 out of range 1..800"),
        BAD("800 1\n1 -2 1\n", NQ_ERANGE, "t.txt:2", "vertex -2 out of range 1..800"),
        BAD("8 1\n12x 3 1\n", NQ_EPARSE, "t.txt:2", "vertex '12x' is not an integer"),
        BAD("8 2\n1 2 1\n5 5 1\n", NQ_EPARSE, "t.txt:3", "edge 2: self-loop on vertex 5"),
        BAD("8 1\n1 2\n", NQ_EPARSE, "t.txt:2", "expected 'i j w'"),
        BAD("8 1\n1 2 1 7\n", NQ_EPARSE, "t.txt:2", "unexpected token '7' after weight"),
        BAD("4 3\n1 2 1\n2 3 1\n", NQ_EPARSE, "t.txt:3", "expected 3 edges, found 2"),
        BAD("4 3\n1 2 1\n2 3 1\n\n\n", NQ_EPARSE, "t.txt:5", "expected 3 edges, found 2"),
        BAD("4 3\r\n1 2 1\r\n2 3 1", NQ_EPARSE, "t.txt:3", "expected 3 edges, found 2"),
        BAD("4 2\n", NQ_EPARSE, "t.txt:1", "expected 2 edges, found 0"),
        BAD("4 3\n1 2 1\n2 3 1\n3 4 1\n1 4 1\n", NQ_EPARSE, "t.txt:5",
            "more than 3 edges declared in header"),
        BAD("4 1\n1 2\0 1\n", NQ_EPARSE, "t.txt:2", "embedded NUL byte"),
        BAD("4\0 1\n1 2 1\n", NQ_EPARSE, "t.txt:1", "embedded NUL byte"),
        BAD("4 1\n1 2 \x01\xff\n", NQ_EPARSE, "t.txt:2", "weight '?\?' is not a number"),
        BAD("4 2\n1 2 1e308\n2 1 1e308\n", NQ_ERANGE, "t.txt:3", "total edge weight is not finite"),
        BAD("4 3\n3 4 -1e308\n1 2 1e308\n2 1 1e308\n", NQ_ERANGE, "t.txt",
            "summed weight of a repeated edge is not finite"),
    };
    check_bad(nq_read_gset, cases, sizeof cases / sizeof cases[0]);
}

static void test_gset_long_token(void **state)
{
    (void)state;
    char text[600];
    memset(text, '1', sizeof text);
    memcpy(text, "4 1\n1 2 ", 8);
    nq_model m;
    nq_err err;
    assert_int_equal(read_exact(nq_read_gset, text, sizeof text, "t.txt", &m, &err), NQ_EPARSE);
    assert_string_equal(err.where, "t.txt:2");
    assert_non_null(strstr(err.msg, "...' is not a number"));
    assert_true(model_is_zero(&m));
}

/* ---- QUBO text -------------------------------------------------------- */

static void test_qubo_good(void **state)
{
    (void)state;
    nq_model m;
    read_ok(nq_read_qubo,
            "c a comment\r\n# another\r\np qubo 0 5 2 3\r\n0 0 1.5\r\n2 2 -2\r\n"
            "0 1 3\r\n1 0 -1\r\n\r\n1 2 0.25",
            &m);
    assert_int_equal(m.type, NQ_QUBO);
    assert_int_equal(m.n, 5); /* maxNodes, even though 3 and 4 are unused */
    assert_true(m.linear[0] == 1.5 && m.linear[2] == -2 && m.linear[1] == 0);
    assert_true(pair_w(&m, 0, 1) == 2 && pair_w(&m, 1, 2) == 0.25);
    assert_true(m.maxcut == 0);
    nq_model_free(&m);

    /* Without a p line n is the largest index + 1; the offset line. */
    read_ok(nq_read_qubo, "c offset -4.5\n3 7 1\ncomment lines may start with any c-word\n", &m);
    assert_int_equal(m.n, 8);
    assert_true(m.offset == -4.5);
    assert_true(pair_w(&m, 3, 7) == 1);
    nq_model_free(&m);

    /* A p line with no terms declares an all-zero model. */
    read_ok(nq_read_qubo, "p qubo unconstrained 3 0 0\n", &m);
    assert_int_equal(m.n, 3);
    assert_int_equal(m.nnz, 0);
    nq_model_free(&m);
}

static void test_qubo_bad(void **state)
{
    (void)state;
    static const bad_case cases[] = {
        BAD("", NQ_EPARSE, "t.txt:1", "empty file"),
        BAD("c nothing here\n\n", NQ_EPARSE, "t.txt:2", "no terms and no 'p' line"),
        BAD("p qubo 0 3 1 1\n0 0 1\n", NQ_EPARSE, "t.txt:2",
            "p line declares 1 couplers (nCouplers), found 0"),
        BAD("p qubo 0 3 2 1\n0 0 1\n0 1 1\n\n", NQ_EPARSE, "t.txt:4",
            "p line declares 2 diagonal terms (nNodes), found 1"),
        BAD("p qubo 0 3 0 1\n0 1 1\n0 2 1\n", NQ_EPARSE, "t.txt:3",
            "p line declares 1 couplers (nCouplers), found 2"),
        BAD("p qubo 0 3 0 1\n0 3 1\n", NQ_ERANGE, "t.txt:2", "index 3 out of range 0..2"),
        BAD("0 1 1\np qubo 0 3 0 1\n", NQ_EPARSE, "t.txt:2", "'p' line must come before the terms"),
        BAD("p qubo 0 3 0 0\np qubo 0 3 0 0\n", NQ_EPARSE, "t.txt:2", "second 'p' line"),
        BAD("p qubit 0 3 0 0\n", NQ_EPARSE, "t.txt:1", "expected 'qubo', found 'qubit'"),
        BAD("p qubo 0 3 0\n", NQ_EPARSE, "t.txt:1", "expected 'p qubo topology maxNodes"),
        BAD("p qubo 0 0 0 0\n", NQ_ERANGE, "t.txt:1", "maxNodes 0 out of range"),
        BAD("p qubo 0 x 0 0\n", NQ_EPARSE, "t.txt:1", "maxNodes 'x' is not an integer"),
        BAD("p qubo 0 3 -1 0\n", NQ_ERANGE, "t.txt:1", "nNodes -1 out of range"),
        BAD("p qubo 0 20000000 0 0\n", NQ_ELIMIT, "t.txt:1", "maxNodes 20000000 out of range"),
        BAD("0 1 1\n-1 1 1\n", NQ_ERANGE, "t.txt:2", "index -1 out of range"),
        BAD("0 10000000 1\n", NQ_ERANGE, "t.txt:1", "index 10000000 out of range"),
        BAD("0 1x 1\n", NQ_EPARSE, "t.txt:1", "index '1x' is not an integer"),
        BAD("0 1 abc\n", NQ_EPARSE, "t.txt:1", "weight 'abc' is not a number"),
        BAD("0 1 nan\n", NQ_ERANGE, "t.txt:1", "weight 'nan' is not finite"),
        BAD("0 1\n", NQ_EPARSE, "t.txt:1", "expected 'i j w'"),
        BAD("0 1 1 1\n", NQ_EPARSE, "t.txt:1", "unexpected token '1' after weight"),
        BAD("c offset x\n0 1 1\n", NQ_EPARSE, "t.txt:1", "offset 'x' is not a number"),
        BAD("0 1 1\n0 1\0 1\n", NQ_EPARSE, "t.txt:2", "embedded NUL byte"),
        BAD("0 0 1e308\n0 0 1e308\n", NQ_ERANGE, "t.txt", "not finite"),
    };
    check_bad(nq_read_qubo, cases, sizeof cases / sizeof cases[0]);
}

/* ---- JSON ------------------------------------------------------------- */

static void test_json_good(void **state)
{
    (void)state;
    nq_model m;
    /* Order: linear members first, then new names in quadratic. */
    read_ok(nq_read_json,
            "{\"linear\": {\"b\": 1, \"a\": -2.5}, \"offset\": 3,"
            " \"quadratic\": [[\"a\", \"c\", 2], [\"c\", \"a\", 0.5], [\"b\", \"b\", 4]]}",
            &m);
    assert_int_equal(m.type, NQ_QUBO);
    assert_int_equal(m.n, 3);
    assert_non_null(m.names);
    assert_string_equal(m.names[0], "b");
    assert_string_equal(m.names[1], "a");
    assert_string_equal(m.names[2], "c");
    assert_true(m.linear[0] == 5 && m.linear[1] == -2.5); /* b*b folds into b */
    assert_true(pair_w(&m, 1, 2) == 2.5);                 /* duplicates summed */
    assert_true(m.offset == 3);
    nq_model_free(&m);

    /* "variables" fixes order and the full set; Ising diagonal -> offset. */
    read_ok(nq_read_json,
            "{\"type\": \"ising\", \"variables\": [\"z\", \"y\", \"x\", \"unused\"],"
            " \"linear\": {\"x\": 1}, \"quadratic\": [[\"x\", \"z\", -1], [\"y\", \"y\", 2]],"
            " \"offset\": 0.5}",
            &m);
    assert_int_equal(m.type, NQ_ISING);
    assert_int_equal(m.n, 4);
    assert_string_equal(m.names[0], "z");
    assert_string_equal(m.names[3], "unused");
    assert_true(m.linear[2] == 1 && pair_w(&m, 0, 2) == -1);
    assert_true(m.offset == 2.5);
    nq_model_free(&m);

    /* Names with JSON pointer specials and non-ASCII survive. */
    read_ok(nq_read_json, "{\"linear\": {\"a/b~c\": 1, \"\\u00e9t\\u00e9\": 2}}", &m);
    assert_string_equal(m.names[0], "a/b~c");
    assert_string_equal(m.names[1], "\xc3\xa9t\xc3\xa9");
    nq_model_free(&m);
}

static void test_json_bad(void **state)
{
    (void)state;
    char long_name[400];
    char *p = long_name + sprintf(long_name, "{\"linear\": {\"");
    memset(p, 'n', 257);
    strcpy(p + 257, "\": 1}}");
    const bad_case cases[] = {
        BAD("{\"quadratic\": [[\"a\",\"b\",1], [\"a\",\"b\",1], [\"a\",\"b\",1], "
            "[\"a\",\"b\",\"x\"]]}",
            NQ_EINVAL, "/quadratic/3/2", "expected a number, got a string"),
        BAD("{\"quadratic\": [[\"a\",\"b\",1], [\"a\",\"b\"]]}", NQ_EPARSE, "/quadratic/1",
            "expected [a, b, weight]"),
        BAD("{\"quadratic\": [[\"a\",\"b\",1], {\"a\": 1}]}", NQ_EPARSE, "/quadratic/1",
            "expected [a, b, weight]"),
        BAD("{\"quadratic\": [[\"a\",\"b\",1,2]]}", NQ_EPARSE, "/quadratic/0",
            "expected [a, b, weight]"),
        BAD("{\"quadratic\": [[\"a\", 7, 1]]}", NQ_EPARSE, "/quadratic/0/1",
            "expected a variable name (string), got a number"),
        BAD("{\"quadratic\": {}}", NQ_EINVAL, "/quadratic", "expected an array"),
        BAD("{\"linear\": []}", NQ_EINVAL, "/linear", "expected an object"),
        BAD("{\"linear\": {\"a\": true}}", NQ_EINVAL, "/linear/a", "expected a number"),
        BAD("{\"linear\": {\"a\": 1}, \"foo\": 2}", NQ_EINVAL, "/foo", "unknown member"),
        BAD("{\"type\": \"qubit\", \"linear\": {\"a\": 1}}", NQ_EPARSE, "/type",
            "expected \"qubo\" or \"ising\""),
        BAD("{\"type\": 1, \"linear\": {\"a\": 1}}", NQ_EPARSE, "/type",
            "expected \"qubo\" or \"ising\""),
        BAD("{\"variables\": [\"a\"], \"linear\": {\"a\": 1, \"b\": 2}}", NQ_EPARSE, "/linear/b",
            "'b' is not listed in /variables"),
        BAD("{\"variables\": [\"a\", \"b\"], \"quadratic\": [[\"a\", \"b\", 1], [\"b\", \"q\", "
            "1]]}",
            NQ_EPARSE, "/quadratic/1/1", "'q' is not listed in /variables"),
        BAD("{\"variables\": [\"a\", \"b\", \"a\"]}", NQ_EPARSE, "/variables/2",
            "duplicate variable 'a'"),
        BAD("{\"variables\": [\"a\", 3]}", NQ_EPARSE, "/variables/1",
            "expected a variable name (string), got a number"),
        BAD("{\"variables\": []}", NQ_EPARSE, "", "model has no variables"),
        BAD("{}", NQ_EPARSE, "", "model has no variables"),
        BAD("{\"linear\": {\"\": 1}}", NQ_EPARSE, "/linear/", "must not be empty"),
        BAD("{\"linear\": {\"a~b\": \"1\"}}", NQ_EINVAL, "/linear/a~0b", "expected a number"),
        BAD("{\"offset\": \"1\", \"linear\": {\"a\": 1}}", NQ_EINVAL, "/offset",
            "expected a number"),
        BAD("[1, 2]", NQ_EPARSE, "", "expected an object, got an array"),
        BAD("{\"quadratic\": [[\"a\",\"b\",1.5e308], [\"b\",\"a\",1.5e308]]}", NQ_ERANGE, "",
            "not finite"),
        BAD("{\"linear\": {\"a\": 1e400}}", NQ_EPARSE, "t.txt:1:", "overflow"),
        {long_name, strlen(long_name), NQ_ELIMIT, "/linear/nnnn", "longer than 256 bytes"},
    };
    /* check_bad compares where exactly; the long-name and syntax cases only
     * share a prefix, so they are checked separately below. */
    size_t n = sizeof cases / sizeof cases[0];
    check_bad(nq_read_json, cases, n - 2);
    for (size_t k = n - 2; k < n; k++) {
        nq_model m;
        nq_err err;
        int rc = read_exact(nq_read_json, cases[k].data, cases[k].len, "t.txt", &m, &err);
        assert_int_equal(rc, cases[k].code);
        assert_true(strncmp(err.where, cases[k].where, strlen(cases[k].where)) == 0);
        assert_non_null(strstr(err.msg, cases[k].msg));
        assert_true(model_is_zero(&m));
    }
}

static void test_json_syntax(void **state)
{
    (void)state;
    nq_model m;
    nq_err err;
    const char *text = "{\"linear\": {\"a\": 1,}}";
    assert_int_equal(read_exact(nq_read_json, text, strlen(text), "m.json", &m, &err), NQ_EPARSE);
    assert_true(strncmp(err.where, "m.json:1:", 9) == 0);
    assert_true(model_is_zero(&m));
    text = "{\"linear\": {\"a\": 1, \"a\": 2}}";
    assert_int_not_equal(read_exact(nq_read_json, text, strlen(text), "m.json", &m, &err), 0);
    assert_true(model_is_zero(&m));
}

/* ---- writers ---------------------------------------------------------- */

typedef int (*writer_fn)(const nq_model *, nq_buf *, nq_err *);

static void write_read(writer_fn wr, reader_fn rd, const nq_model *m, nq_model *back)
{
    nq_buf buf;
    nq_buf_init(&buf, 64u << 20);
    nq_err err;
    int rc = wr(m, &buf, &err);
    if (rc)
        print_error("write: %s\n", err.msg);
    assert_int_equal(rc, 0);
    rc = read_exact(rd, buf.data, buf.len, "w", back, &err);
    if (rc)
        print_error("read back: %s: %s\n", err.where, err.msg);
    assert_int_equal(rc, 0);
    nq_buf_free(&buf);
}

static void test_roundtrip_gset(void **state)
{
    (void)state;
    nq_rng r;
    nq_rng_seed(&r, 11);
    for (int t = 0; t < 20; t++) {
        nq_model m, back;
        random_model(&r, NQ_ISING, 2 + (int32_t)nq_rng_below(&r, 60), 1, &m);
        write_read(nq_write_gset, nq_read_gset, &m, &back);
        assert_same_model(&m, &back);
        assert_true(back.maxcut == 1);
        int8_t s[64];
        for (int k = 0; k < 10; k++) {
            random_state(&r, &m, s);
            assert_true(nq_model_energy(&m, s) == nq_model_energy(&back, s));
        }
        nq_model_free(&m);
        nq_model_free(&back);
    }
}

static void test_roundtrip_qubo(void **state)
{
    (void)state;
    nq_rng r;
    nq_rng_seed(&r, 12);
    for (int t = 0; t < 20; t++) {
        nq_model m, back;
        random_model(&r, NQ_QUBO, 1 + (int32_t)nq_rng_below(&r, 60), 0, &m);
        write_read(nq_write_qubo, nq_read_qubo, &m, &back);
        assert_same_model(&m, &back);
        nq_model_free(&m);
        nq_model_free(&back);
    }
    /* An Ising model goes out as its QUBO form: same energies. */
    for (int t = 0; t < 20; t++) {
        nq_model m, back;
        random_model(&r, NQ_ISING, 1 + (int32_t)nq_rng_below(&r, 60), 0, &m);
        write_read(nq_write_qubo, nq_read_qubo, &m, &back);
        assert_int_equal(back.type, NQ_QUBO);
        assert_int_equal(back.n, m.n);
        int8_t s[64], x[64];
        for (int k = 0; k < 10; k++) {
            random_state(&r, &m, s);
            nq_spins_to_bits(s, x, m.n);
            double a = nq_model_energy(&m, s), b = nq_model_energy(&back, x);
            assert_true(fabs(a - b) <= 1e-9 * (1 + fabs(a)) * m.n);
        }
        nq_model_free(&m);
        nq_model_free(&back);
    }
}

static void test_roundtrip_json(void **state)
{
    (void)state;
    nq_rng r;
    nq_rng_seed(&r, 13);
    for (int t = 0; t < 40; t++) {
        nq_model m, back;
        random_model(&r, t % 2 ? NQ_ISING : NQ_QUBO, 1 + (int32_t)nq_rng_below(&r, 60), 0, &m);
        if (t % 4 < 2) {
            char **names = calloc((size_t)m.n, sizeof *names);
            for (int32_t i = 0; i < m.n; i++) {
                names[i] = malloc(16);
                snprintf(names[i], 16, "v/%d~", m.n - i); /* reversed, needs escaping */
            }
            nq_model_set_names(&m, names);
        }
        write_read(nq_write_json, nq_read_json, &m, &back);
        assert_same_model(&m, &back);
        assert_non_null(back.names);
        for (int32_t i = 0; i < m.n; i++) {
            char gen[16];
            snprintf(gen, sizeof gen, "x%d", i);
            assert_string_equal(back.names[i], m.names ? m.names[i] : gen);
        }
        int8_t s[64];
        for (int k = 0; k < 10; k++) {
            random_state(&r, &m, s);
            assert_true(nq_model_energy(&m, s) == nq_model_energy(&back, s));
        }
        nq_model_free(&m);
        nq_model_free(&back);
    }
}

static void test_write_errors(void **state)
{
    (void)state;
    nq_model q, g;
    read_ok(nq_read_qubo, "0 1 1\n", &q);
    read_ok(nq_read_gset, "3 2\n1 2 1\n2 3 -0.1\n", &g);
    nq_buf buf;
    nq_buf_init(&buf, 1 << 20);
    nq_err err;
    assert_int_equal(nq_write_gset(&q, &buf, &err), NQ_EINVAL); /* not Ising */
    g.linear[1] = 1;
    assert_int_equal(nq_write_gset(&g, &buf, &err), NQ_EINVAL); /* linear term */
    g.linear[1] = 0;
    assert_int_equal(nq_write_gset(&g, &buf, &err), 0);
    assert_string_equal(buf.data, "3 2\n1 2 1\n2 3 -0.1\n");
    nq_buf_free(&buf);
    nq_buf_init(&buf, 8); /* too small */
    assert_int_equal(nq_write_gset(&g, &buf, &err), NQ_ELIMIT);
    assert_int_equal(nq_write_json(&g, &buf, &err), NQ_ELIMIT);
    assert_int_equal(nq_write_qubo(&g, &buf, &err), NQ_ELIMIT);
    nq_buf_free(&buf);
    nq_buf_init(&buf, 1 << 20);
    assert_int_equal(nq_write_qubo(&q, &buf, &err), 0);
    assert_string_equal(buf.data, "p qubo 0 2 0 1\n0 1 1\n");
    nq_buf_reset(&buf);
    assert_int_equal(nq_write_json(&q, &buf, &err), 0);
    assert_string_equal(buf.data, "{\"type\":\"qubo\",\"variables\":[\"x0\",\"x1\"],\"linear\":{},"
                                  "\"quadratic\":[[\"x0\",\"x1\",1]],\"offset\":0}");
    nq_buf_free(&buf);
    nq_model_free(&q);
    nq_model_free(&g);
}

/* ---- formats ---------------------------------------------------------- */

static void test_formats(void **state)
{
    (void)state;
    assert_int_equal(nq_format_parse("gset"), NQ_FMT_GSET);
    assert_int_equal(nq_format_parse("rudy"), NQ_FMT_GSET);
    assert_int_equal(nq_format_parse("qubo"), NQ_FMT_QUBO);
    assert_int_equal(nq_format_parse("json"), NQ_FMT_JSON);
    assert_int_equal(nq_format_parse("auto"), NQ_FMT_AUTO);
    assert_int_equal(nq_format_parse("mps"), -1);
    assert_int_equal(nq_format_parse(NULL), -1);
    assert_string_equal(nq_format_name(NQ_FMT_GSET), "gset");
    assert_string_equal(nq_format_name(NQ_FMT_QUBO), "qubo");
    assert_string_equal(nq_format_name(NQ_FMT_JSON), "json");
    assert_string_equal(nq_format_name(NQ_FMT_AUTO), "auto");

    assert_int_equal(nq_format_guess("m.json", "1 2", 3), NQ_FMT_JSON);
    assert_int_equal(nq_format_guess("m.qubo", "{", 1), NQ_FMT_QUBO);
    assert_int_equal(nq_format_guess("G1.txt", "p qubo", 6), NQ_FMT_GSET);
    assert_int_equal(nq_format_guess("x.rud", "", 0), NQ_FMT_GSET);
    assert_int_equal(nq_format_guess("x.GSET", "", 0), NQ_FMT_GSET);
    assert_int_equal(nq_format_guess(NULL, "  \n{\"linear\": {}}", 16), NQ_FMT_JSON);
    assert_int_equal(nq_format_guess("body", "p qubo 0 2 0 1\n", 15), NQ_FMT_QUBO);
    assert_int_equal(nq_format_guess("body", "c hello\n0 1 1\n", 14), NQ_FMT_QUBO);
    assert_int_equal(nq_format_guess("body", "# hello\n", 8), NQ_FMT_QUBO);
    assert_int_equal(nq_format_guess("body", "800 19176 J\n", 12), NQ_FMT_GSET);
    assert_int_equal(nq_format_guess("body", "3 1\n1 2 1\n", 10), NQ_FMT_GSET);
    /* Only len bytes are looked at. */
    assert_int_equal(nq_format_guess("body", "   {", 3), NQ_FMT_GSET);

    nq_model m;
    nq_err err;
    const char *text = "{\"linear\": {\"a\": 1}}";
    assert_int_equal(nq_read_model(NQ_FMT_AUTO, text, strlen(text), "req", &m, &err), 0);
    assert_non_null(m.names);
    nq_model_free(&m);
    text = "3 1\n1 2 1\n";
    assert_int_equal(nq_read_model(NQ_FMT_AUTO, text, strlen(text), "req", &m, &err), 0);
    assert_true(m.maxcut == 1);
    nq_model_free(&m);
    assert_int_equal(nq_read_model(NQ_FMT_QUBO, text, strlen(text), "req", &m, &err), NQ_EPARSE);
    assert_string_equal(err.where, "req:1");
    assert_int_equal(nq_read_model((nq_format)9, text, strlen(text), "req", &m, &err), NQ_EINVAL);
    assert_true(model_is_zero(&m));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gset_shared_files), cmocka_unit_test(test_gset_line_endings),
        cmocka_unit_test(test_gset_values),       cmocka_unit_test(test_gset_bad),
        cmocka_unit_test(test_gset_long_token),   cmocka_unit_test(test_qubo_good),
        cmocka_unit_test(test_qubo_bad),          cmocka_unit_test(test_json_good),
        cmocka_unit_test(test_json_bad),          cmocka_unit_test(test_json_syntax),
        cmocka_unit_test(test_roundtrip_gset),    cmocka_unit_test(test_roundtrip_qubo),
        cmocka_unit_test(test_roundtrip_json),    cmocka_unit_test(test_write_errors),
        cmocka_unit_test(test_formats),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
