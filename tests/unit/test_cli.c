/* test_cli.c - runs the real nqba binary ($NQ_BIN) and checks its exit
 * status, stdout and stderr.
 *
 * Results are checked independently of the library: Max-Cut values are
 * recomputed from the returned state with a small Gset parser of our own,
 * and exact energies of small QUBOs come from brute force done here. */
/* cmocka.h needs these first, in this order. */
/* clang-format off */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
/* clang-format on */

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_run.h"
#include "nqba/version.h"

/* ---- usage and version ---- */

static void test_help(void **state)
{
    const env *e = *state;
    run_out r;
    nqba(e, &r, NULL, "--help", NULL);
    assert_int_equal(r.status, 0);
    expect_contains(r.out, "usage: nqba");
    expect_contains(r.out, "solve");
    run_free(&r);
    nqba(e, &r, NULL, "help", NULL);
    assert_int_equal(r.status, 0);
    expect_contains(r.out, "usage: nqba");
    run_free(&r);
}

static void test_version(void **state)
{
    const env *e = *state;
    run_out r;
    nqba(e, &r, NULL, "--version", NULL);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.out, "nqba " NQ_VERSION "\n");
    run_free(&r);
}

static void test_solve_help(void **state)
{
    const env *e = *state;
    const char *forms[][3] = {{"solve", "--help", NULL}, {"help", "solve", NULL}};
    for (size_t i = 0; i < 2; i++) {
        run_out r;
        run_argv(e, NULL, forms[i], &r);
        assert_int_equal(r.status, 0);
        expect_contains(r.out, "usage: nqba solve FILE");
        expect_contains(r.out, "--reads");
        expect_contains(r.out, "--time-limit");
        assert_string_equal(r.err, "");
        run_free(&r);
    }
}

static void test_unknown_command(void **state)
{
    const env *e = *state;
    run_out r;
    nqba(e, &r, NULL, "frobnicate", NULL);
    assert_int_equal(r.status, 2);
    expect_contains(r.err, "unknown command 'frobnicate'");
    expect_contains(r.err, "usage: nqba");
    assert_string_equal(r.out, "");
    run_free(&r);
    nqba(e, &r, NULL, NULL);
    assert_int_equal(r.status, 2);
    expect_contains(r.err, "usage: nqba");
    run_free(&r);
    nqba(e, &r, NULL, "help", "frobnicate", NULL);
    assert_int_equal(r.status, 2);
    run_free(&r);
}

static void test_unknown_option(void **state)
{
    const env *e = *state;
    char path[PATH_MAX_LEN];
    write_tmp_str(e, "tri.txt", "3 3\n1 2 1\n2 3 1\n1 3 1\n", path);
    run_out r;
    nqba(e, &r, NULL, "solve", path, "--bogus", NULL);
    assert_int_equal(r.status, 2);
    expect_contains(r.err, "unknown option '--bogus'");
    run_free(&r);
    nqba(e, &r, NULL, "solve", NULL);
    assert_int_equal(r.status, 2);
    expect_contains(r.err, "missing FILE");
    run_free(&r);
    nqba(e, &r, NULL, "solve", path, path, NULL);
    assert_int_equal(r.status, 2);
    expect_contains(r.err, "unexpected argument");
    run_free(&r);
    nqba(e, &r, NULL, "solve", path, "--reads", NULL);
    assert_int_equal(r.status, 2);
    expect_contains(r.err, "--reads: missing value");
    run_free(&r);
    nqba(e, &r, NULL, "solve", path, "--json=yes", NULL);
    assert_int_equal(r.status, 2);
    run_free(&r);
}

/* ---- cluster options ---- */

/* The shared queue needs PostgreSQL: on a SQLite store `--queue shared`
 * and `nqba worker` refuse to start and say why; a bad --queue value is
 * a usage error naming the option. */
static void test_cluster_options(void **state)
{
    const env *e = *state;
    char db[PATH_MAX_LEN];
    path_in(e, "cluster.db", db);
    run_out r;
    nqba(e, &r, NULL, "serve", "--queue", "everywhere", NULL);
    assert_int_equal(r.status, 2);
    expect_contains(r.err, "nqba serve: --queue: expected local or shared, got 'everywhere'");
    run_free(&r);
    nqba(e, &r, NULL, "serve", "--queue", "shared", "--db", db, "--listen", "127.0.0.1:0",
         "--access-log", "off", NULL);
    assert_int_not_equal(r.status, 0);
    expect_contains(r.err, "--queue shared needs a PostgreSQL database");
    run_free(&r);
    nqba(e, &r, NULL, "worker", "--db", db, "--listen", "127.0.0.1:0", "--access-log", "off",
         NULL);
    assert_int_not_equal(r.status, 0);
    expect_contains(r.err, "nqba worker: --db: nqba worker needs a PostgreSQL database");
    run_free(&r);
    nqba(e, &r, NULL, "worker", "--lease", "0", NULL);
    assert_int_equal(r.status, 2);
    expect_contains(r.err, "nqba worker: --lease: expected a number in 0.1..3600, got '0'");
    run_free(&r);
}

/* ---- bad option values ---- */

static void expect_bad_option(const env *e, const char *path, const char *opt, const char *value,
                              const char *expected)
{
    run_out r;
    nqba(e, &r, NULL, "solve", path, "--quiet", opt, value, NULL);
    if (r.status != 2)
        fail_msg("%s '%s': exit %d, want 2", opt, value, r.status);
    char want[512];
    snprintf(want, sizeof want, "nqba solve: %s: expected %s, got '%s'", opt, expected, value);
    expect_contains(r.err, want);
    assert_string_equal(r.out, "");
    run_free(&r);
}

static void test_bad_option_values(void **state)
{
    const env *e = *state;
    char path[PATH_MAX_LEN];
    write_tmp_str(e, "tri2.txt", "3 3\n1 2 1\n2 3 1\n1 3 1\n", path);
    const char *reads = "an integer in 1..10000000";
    const char *bad_reads[] = {
        "x", "0", "-1", "10000001", "5x", "", " 5", "1e3", "99999999999999999999"};
    for (size_t i = 0; i < sizeof bad_reads / sizeof bad_reads[0]; i++)
        expect_bad_option(e, path, "--reads", bad_reads[i], reads);
    expect_bad_option(e, path, "--sweeps", "0", "an integer in 1..100000000");
    expect_bad_option(e, path, "--sweeps", "100000001", "an integer in 1..100000000");
    expect_bad_option(e, path, "--threads", "0", "an integer in 1..256");
    expect_bad_option(e, path, "--threads", "257", "an integer in 1..256");
    expect_bad_option(e, path, "--replicas", "0", "an integer in 1..1024");
    expect_bad_option(e, path, "--variant", "quantum", "ballistic or discrete");
    const char *seed = "an integer in 0..18446744073709551615";
    expect_bad_option(e, path, "--seed", "-1", seed);
    expect_bad_option(e, path, "--seed", "18446744073709551616", seed);
    expect_bad_option(e, path, "--seed", "0x10", seed);
    const char *secs = "a positive number of seconds";
    const char *bad_secs[] = {"0", "-1", "inf", "nan", "abc", "1s", ""};
    for (size_t i = 0; i < sizeof bad_secs / sizeof bad_secs[0]; i++)
        expect_bad_option(e, path, "--time-limit", bad_secs[i], secs);
    expect_bad_option(e, path, "--target", "low", "a finite number");
    expect_bad_option(e, path, "--target", "-inf", "a finite number");
    expect_bad_option(e, path, "--format", "xml", "gset, qubo, json or auto");
    expect_bad_option(e, path, "--solver", "magic", "auto, sa, tabu, pt, sb or exact");
}

static void test_good_option_edges(void **state)
{
    const env *e = *state;
    char path[PATH_MAX_LEN];
    write_tmp_str(e, "tri3.txt", "3 3\n1 2 1\n2 3 1\n1 3 1\n", path);
    run_out r;
    nqba(e, &r, NULL, "solve", path, "--json", "--seed=18446744073709551615", "--reads=1",
         "--sweeps", "1", "--threads", "256", "--time-limit", "1e3", "--format", "gset", NULL);
    json_t *j = run_json(e, &r);
    assert_string_equal(json_string_value(json_object_get(j, "format")), "gset");
    assert_int_equal((int)num(j, "threads"), 256);
    /* A triangle cuts at most 2 edges, and one annealing sweep finds that. */
    assert_true(num(j, "cut") <= 2);
    json_decref(j);
    run_free(&r);
}

/* ---- bad inputs ---- */

/* Run `nqba solve` on a file with this content and expect exit 2 with
 * "nqba: <path>:<where>" and the reason on stderr. */
static void expect_bad_input(const env *e, const char *name, const char *content, const char *where,
                             const char *reason)
{
    char path[PATH_MAX_LEN], want[PATH_MAX_LEN + 64];
    write_tmp_str(e, name, content, path);
    run_out r;
    nqba(e, &r, NULL, "solve", path, "--quiet", NULL);
    if (r.status != 2)
        fail_msg("%s: exit %d, want 2; stderr: %s", name, r.status, r.err);
    snprintf(want, sizeof want, "nqba: %s%s", path, where);
    expect_contains(r.err, want);
    expect_contains(r.err, reason);
    assert_string_equal(r.out, "");
    run_free(&r);
}

static void test_bad_gset(void **state)
{
    const env *e = *state;
    expect_bad_input(e, "trunc.txt", "4 5\n1 2 1\n2 3 1\n3 4 1\n", ":4: ", "expected 5 edges");
    expect_bad_input(e, "extra.txt", "4 2\n1 2 1\n2 3 1\n3 4 1\n", ":4: ", "more than 2 edges");
    expect_bad_input(e, "range.txt", "4 3\n1 2 1\n2 5 1\n3 4 1\n", ":3: ", "out of range");
    expect_bad_input(e, "weight.txt", "4 3\n1 2 1\n2 3 1\n3 4 one\n", ":4: ", "not a number");
    expect_bad_input(e, "empty.txt", "", ":1: ", "empty");
    expect_bad_input(e, "fields.txt", "4 2\n1 2 1\n2 3\n", ":3: ", "expected 'i j w'");
}

/* G1 as found in one public copy: a stray token after the edge count. */
static void test_gset_stray_header_token(void **state)
{
    const env *e = *state;
    char src[PATH_MAX_LEN];
    snprintf(src, sizeof src, "%s/data/gset/G1.txt", e->shared);
    size_t len;
    char *g1 = slurp(src, &len);
    char *body = strchr(g1, '\n');
    assert_non_null(body);
    size_t body_len = len - (size_t)(body - g1);
    char *bad = malloc(body_len + 32);
    assert_non_null(bad);
    int head = snprintf(bad, 32, "800 19176 J");
    memcpy(bad + head, body, body_len);
    char path[PATH_MAX_LEN];
    write_tmp(e, "G1J.txt", bad, (size_t)head + body_len, path);
    run_out r;
    nqba(e, &r, NULL, "solve", path, "--quiet", NULL);
    assert_int_equal(r.status, 2);
    char want[PATH_MAX_LEN + 16];
    snprintf(want, sizeof want, "nqba: %s:1: ", path);
    expect_contains(r.err, want);
    expect_contains(r.err, "'J'");
    run_free(&r);
    free(bad);
    free(g1);
}

static void test_missing_file(void **state)
{
    const env *e = *state;
    char path[PATH_MAX_LEN], want[PATH_MAX_LEN + 16];
    path_in(e, "no-such-file.txt", path);
    run_out r;
    nqba(e, &r, NULL, "solve", path, NULL);
    assert_int_equal(r.status, 2);
    snprintf(want, sizeof want, "nqba: %s: ", path);
    expect_contains(r.err, want);
    expect_contains(r.err, "No such file");
    run_free(&r);
    /* A directory is not a model either. */
    nqba(e, &r, NULL, "solve", e->dir, "--format", "gset", NULL);
    assert_int_equal(r.status, 2);
    expect_contains(r.err, e->dir);
    run_free(&r);
}

static void test_bad_json(void **state)
{
    const env *e = *state;
    expect_bad_input(e, "syntax.json",
                     "{\"type\": \"qubo\",\n \"linear\": {\"a\": 1,},\n \"quadratic\": []}\n", ":2",
                     "");
    expect_bad_input(e, "type.json",
                     "{\"type\": \"qubo\", \"linear\": {\"a\": 1, \"b\": 2},\n"
                     " \"quadratic\": [[\"a\", \"b\", 1], [\"a\", \"b\", \"heavy\"]]}\n",
                     ": /quadratic/1/2: ", "number");
}

/* ---- Max-Cut results checked against our own parser ---- */

typedef struct graph {
    long n, m;
    long *u, *v; /* 0-based endpoints */
    long *w;
    long total; /* W, the sum of weights */
} graph;

/* Deliberately minimal: the header's two counts, then m triples. strtol
 * skips blanks, CR and LF alike, so line endings do not matter. */
static void graph_read(const char *path, graph *g)
{
    char *s = slurp(path, NULL);
    char *p = s, *end;
    g->n = strtol(p, &end, 10);
    g->m = strtol(end, &end, 10);
    assert_true(g->n > 0 && g->m > 0);
    g->u = calloc((size_t)g->m, sizeof *g->u);
    g->v = calloc((size_t)g->m, sizeof *g->v);
    g->w = calloc((size_t)g->m, sizeof *g->w);
    assert_true(g->u && g->v && g->w);
    g->total = 0;
    for (long k = 0; k < g->m; k++) {
        p = end;
        g->u[k] = strtol(p, &end, 10) - 1;
        g->v[k] = strtol(end, &end, 10) - 1;
        g->w[k] = strtol(end, &end, 10);
        assert_true(end != p);
        g->total += g->w[k];
    }
    free(s);
}

static void graph_free(graph *g)
{
    free(g->u);
    free(g->v);
    free(g->w);
}

/* The cut of the spins in JSON array `state`. */
static long graph_cut(const graph *g, const json_t *state)
{
    assert_int_equal(json_array_size(state), (size_t)g->n);
    long cut = 0;
    for (long k = 0; k < g->m; k++) {
        json_int_t a = json_integer_value(json_array_get(state, (size_t)g->u[k]));
        json_int_t b = json_integer_value(json_array_get(state, (size_t)g->v[k]));
        if (a != b)
            cut += g->w[k];
    }
    return cut;
}

static void check_spins(const json_t *state)
{
    size_t i;
    json_t *v;
    json_array_foreach(state, i, v)
    {
        assert_true(json_is_integer(v));
        json_int_t s = json_integer_value(v);
        assert_true(s == -1 || s == 1);
    }
}

static void check_gset_file(const env *e, const char *path)
{
    graph g;
    graph_read(path, &g);
    run_out r;
    nqba(e, &r, NULL, "solve", path, "--json", "--solver", "sa", "--reads", "2", "--sweeps", "200",
         "--seed", "7", "--threads", "2", NULL);
    json_t *j = run_json(e, &r);
    json_t *state = json_object_get(j, "state");
    check_spins(state);
    long cut = graph_cut(&g, state);
    if ((double)cut != num(j, "cut"))
        fail_msg("%s: reported cut %.17g, recomputed %ld", path, num(j, "cut"), cut);
    assert_true(json_is_integer(json_object_get(j, "energy")));
    assert_true(num(j, "energy") == (double)(g.total - 2 * cut));
    assert_int_equal((long)num(j, "n"), g.n);
    assert_string_equal(json_string_value(json_object_get(j, "format")), "gset");
    assert_int_equal((int)num(j, "reads"), 2);
    assert_true(cut > 0);
    json_decref(j);
    run_free(&r);
    graph_free(&g);
}

static int is_txt(const char *name)
{
    size_t len = strlen(name);
    return len > 4 && strcmp(name + len - 4, ".txt") == 0;
}

static void test_gset_all(void **state)
{
    const env *e = *state;
    char dir[PATH_MAX_LEN], path[2 * PATH_MAX_LEN];
    snprintf(dir, sizeof dir, "%s/data/gset", e->shared);
    DIR *d = opendir(dir);
    assert_non_null(d);
    int files = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (!is_txt(de->d_name))
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        check_gset_file(e, path);
        files++;
    }
    closedir(d);
    assert_true(files > 0);
}

static void test_gset_text_and_stdin(void **state)
{
    const env *e = *state;
    char path[PATH_MAX_LEN];
    snprintf(path, sizeof path, "%s/data/gset/G11.txt", e->shared);
    run_out r;
    nqba(e, &r, NULL, "solve", path, "--solver", "sa", "--reads", "2", "--sweeps", "50", "--seed",
         "3", NULL);
    assert_int_equal(r.status, 0);
    expect_contains(r.out, "solver   sa\n");
    expect_contains(r.out, "energy   ");
    expect_contains(r.out, "cut      ");
    expect_contains(r.out, "reads    2, 80000 moves, ");
    expect_contains(r.out, "seed 3\n");
    expect_contains(r.out, "state    (800 values, use --json)");
    /* stderr is a file here, not a terminal: no progress bar. */
    assert_string_equal(r.err, "");
    run_free(&r);
    nqba(e, &r, path, "solve", "-", "--json", "--solver", "sa", "--reads", "2", "--sweeps", "50",
         NULL);
    json_t *j = run_json(e, &r);
    assert_string_equal(json_string_value(json_object_get(j, "format")), "gset");
    assert_int_equal((int)num(j, "n"), 800);
    json_decref(j);
    run_free(&r);
}

/* ---- small named QUBOs, checked by brute force ---- */

/* A set-packing flavoured QUBO: pick projects (value as negative linear
 * terms) while conflicting pairs pay a penalty. */
#define SMALL_N 8
static const char *const small_names[SMALL_N] = {
    "depot_north", "depot_south", "hub_east", "hub_west", "line_a", "line_b", "line_c", "spare"};
static const int small_linear[SMALL_N] = {-5, -4, -6, -3, -2, -7, -1, 0};
static const int small_quad[][3] = {{0, 1, 6}, {2, 3, 8},  {0, 2, 3}, {1, 3, -2}, {4, 5, 9},
                                    {5, 6, 4}, {4, 6, -1}, {2, 5, 5}, {6, 7, -3}, {0, 7, 2}};
#define SMALL_NQ (sizeof small_quad / sizeof small_quad[0])
#define SMALL_OFFSET 3

static void small_json(const env *e, const char *name, char path[PATH_MAX_LEN])
{
    char doc[4096];
    size_t k = 0;
    k += (size_t)snprintf(doc + k, sizeof doc - k, "{\"type\": \"qubo\", \"linear\": {");
    for (int i = 0; i < SMALL_N; i++)
        k += (size_t)snprintf(doc + k, sizeof doc - k, "%s\"%s\": %d", i ? ", " : "",
                              small_names[i], small_linear[i]);
    k += (size_t)snprintf(doc + k, sizeof doc - k, "},\n \"quadratic\": [");
    for (size_t q = 0; q < SMALL_NQ; q++)
        k += (size_t)snprintf(doc + k, sizeof doc - k, "%s[\"%s\", \"%s\", %d]", q ? ", " : "",
                              small_names[small_quad[q][0]], small_names[small_quad[q][1]],
                              small_quad[q][2]);
    snprintf(doc + k, sizeof doc - k, "],\n \"offset\": %d}\n", SMALL_OFFSET);
    write_tmp_str(e, name, doc, path);
}

static long small_energy(const int x[SMALL_N])
{
    long en = SMALL_OFFSET;
    for (int i = 0; i < SMALL_N; i++)
        en += small_linear[i] * x[i];
    for (size_t q = 0; q < SMALL_NQ; q++)
        en += small_quad[q][2] * x[small_quad[q][0]] * x[small_quad[q][1]];
    return en;
}

static long small_brute_force(void)
{
    long best = 0;
    for (unsigned bits = 0; bits < (1u << SMALL_N); bits++) {
        int x[SMALL_N];
        for (int i = 0; i < SMALL_N; i++)
            x[i] = (int)(bits >> i) & 1;
        long en = small_energy(x);
        if (bits == 0 || en < best)
            best = en;
    }
    return best;
}

/* Energy of the reported "variables", looked up by name. */
static long energy_of_variables(const json_t *vars)
{
    assert_true(json_is_object(vars));
    assert_int_equal(json_object_size(vars), SMALL_N);
    int x[SMALL_N];
    for (int i = 0; i < SMALL_N; i++) {
        json_t *v = json_object_get(vars, small_names[i]);
        if (!json_is_integer(v))
            fail_msg("variables lacks \"%s\"", small_names[i]);
        assert_true(json_integer_value(v) == 0 || json_integer_value(v) == 1);
        x[i] = (int)json_integer_value(v);
    }
    return small_energy(x);
}

static void test_named_exact(void **state)
{
    const env *e = *state;
    char path[PATH_MAX_LEN];
    small_json(e, "small.json", path);
    run_out r;
    nqba(e, &r, NULL, "solve", path, "--json", "--solver", "exact", NULL);
    json_t *j = run_json(e, &r);
    assert_string_equal(json_string_value(json_object_get(j, "solver")), "exact");
    assert_string_equal(json_string_value(json_object_get(j, "format")), "json");
    assert_null(json_object_get(j, "cut"));
    long best = small_brute_force();
    assert_true(num(j, "energy") == (double)best);
    assert_int_equal(energy_of_variables(json_object_get(j, "variables")), best);
    json_decref(j);
    run_free(&r);
    /* Text output spells the state as bits. */
    nqba(e, &r, NULL, "solve", path, "--solver", "exact", NULL);
    assert_int_equal(r.status, 0);
    expect_contains(r.out, "solver   exact\n");
    const char *st = strstr(r.out, "state    ");
    assert_non_null(st);
    assert_int_equal(strspn(st + 9, "01"), SMALL_N);
    run_free(&r);
}

static void test_named_sa(void **state)
{
    const env *e = *state;
    char path[PATH_MAX_LEN];
    small_json(e, "small_sa.json", path);
    run_out r;
    nqba(e, &r, NULL, "solve", path, "--json", "--reads", "16", "--sweeps", "100", NULL);
    json_t *j = run_json(e, &r);
    long reported = (long)num(j, "energy");
    assert_int_equal(energy_of_variables(json_object_get(j, "variables")), reported);
    assert_true(reported >= small_brute_force());
    json_decref(j);
    run_free(&r);
}

/* Every solver through the command: optimum of the small model (8
 * variables: each heuristic finds it), found_by, and the sb variant and pt
 * replicas options reach the library. */
static void test_every_solver(void **state)
{
    const env *e = *state;
    char path[PATH_MAX_LEN];
    small_json(e, "small_all.json", path);
    static const char *const solvers[] = {"auto", "sa", "tabu", "pt", "sb", "exact"};
    for (size_t k = 0; k < sizeof solvers / sizeof solvers[0]; k++) {
        run_out r;
        nqba(e, &r, NULL, "solve", path, "--json", "--solver", solvers[k], "--threads", "2", NULL);
        json_t *j = run_json(e, &r);
        assert_string_equal(json_string_value(json_object_get(j, "solver")), solvers[k]);
        const char *by = json_string_value(json_object_get(j, "found_by"));
        assert_non_null(by);
        if (k == 0)
            assert_string_equal(by, "exact"); /* 8 variables: auto enumerates */
        if (num(j, "energy") != (double)small_brute_force())
            fail_msg("%s: energy %g, optimum %ld", solvers[k], num(j, "energy"),
                     small_brute_force());
        assert_int_equal(energy_of_variables(json_object_get(j, "variables")), small_brute_force());
        json_decref(j);
        run_free(&r);
    }
    run_out r;
    nqba(e, &r, NULL, "solve", path, "--json", "--solver", "sb", "--variant", "discrete", NULL);
    json_t *j = run_json(e, &r);
    assert_true(num(j, "energy") == (double)small_brute_force());
    json_decref(j);
    run_free(&r);
    nqba(e, &r, NULL, "solve", path, "--json", "--solver", "pt", "--replicas", "3", NULL);
    j = run_json(e, &r);
    assert_true(num(j, "energy") == (double)small_brute_force());
    json_decref(j);
    run_free(&r);
}

/* auto on a Gset graph within a time limit: a real cut, counted runs. */
static void test_auto_gset(void **state)
{
    const env *e = *state;
    char path[PATH_MAX_LEN];
    snprintf(path, sizeof path, "%s/data/gset/G11.txt", e->shared);
    graph g;
    graph_read(path, &g);
    run_out r;
    nqba(e, &r, NULL, "solve", path, "--json", "--time-limit", "0.5", "--threads", "2", NULL);
    json_t *j = run_json(e, &r);
    assert_string_equal(json_string_value(json_object_get(j, "solver")), "auto");
    long cut = graph_cut(&g, json_object_get(j, "state"));
    assert_true((double)cut == num(j, "cut"));
    assert_true(cut >= 550 && cut <= 564); /* 564 is optimal-known */
    assert_true(num(j, "elapsed_s") < 0.6);
    assert_true(num(j, "reads") >= 1);
    json_decref(j);
    run_free(&r);
    graph_free(&g);
}

static void test_ising_json(void **state)
{
    const env *e = *state;
    char path[PATH_MAX_LEN];
    write_tmp_str(e, "ising.json",
                  "{\"type\": \"ising\", \"linear\": {\"s0\": 1, \"s1\": -0.5, \"s2\": 0},\n"
                  " \"quadratic\": [[\"s0\", \"s1\", 1], [\"s1\", \"s2\", -1]]}\n",
                  path);
    run_out r;
    nqba(e, &r, NULL, "solve", path, "--json", "--solver", "exact", NULL);
    json_t *j = run_json(e, &r);
    check_spins(json_object_get(j, "state"));
    /* s0=-1, s1=+1, s2=+1: -1 - 0.5 - 1 - 1 = -3.5, the minimum. */
    assert_true(num(j, "energy") == -3.5);
    assert_true(json_is_real(json_object_get(j, "energy")));
    json_decref(j);
    run_free(&r);
}

/* ---- determinism and early stops ---- */

static json_t *solve_json(const env *e, const char *path, const char *threads)
{
    run_out r;
    nqba(e, &r, NULL, "solve", path, "--json", "--solver", "sa", "--reads", "6", "--sweeps", "100",
         "--seed", "42", "--threads", threads, NULL);
    json_t *j = run_json(e, &r);
    run_free(&r);
    return j;
}

static void expect_same_result(const env *e, const char *path)
{
    json_t *a = solve_json(e, path, "1");
    json_t *b = solve_json(e, path, "2");
    assert_true(num(a, "energy") == num(b, "energy"));
    assert_true(json_equal(json_object_get(a, "state"), json_object_get(b, "state")));
    json_decref(a);
    json_decref(b);
}

static void test_determinism(void **state)
{
    const env *e = *state;
    char path[PATH_MAX_LEN];
    snprintf(path, sizeof path, "%s/data/gset/G11.txt", e->shared);
    expect_same_result(e, path);
    small_json(e, "det.json", path);
    expect_same_result(e, path);
}

static void test_target(void **state)
{
    const env *e = *state;
    char path[PATH_MAX_LEN], target[32];
    small_json(e, "target.json", path);
    run_out r;
    nqba(e, &r, NULL, "solve", path, "--json", "--solver", "exact", NULL);
    json_t *j = run_json(e, &r);
    snprintf(target, sizeof target, "%.17g", num(j, "energy"));
    json_decref(j);
    run_free(&r);
    nqba(e, &r, NULL, "solve", path, "--json", "--solver", "sa", "--target", target, "--reads",
         "1000000", "--sweeps", "100", "--threads", "1", NULL);
    j = run_json(e, &r);
    assert_true(flag(j, "target_reached"));
    assert_true(num(j, "energy") <= strtod(target, NULL));
    assert_true(num(j, "reads") < 1000000);
    json_decref(j);
    run_free(&r);
    /* Below the optimum the target is never reached and every read runs. */
    snprintf(target, sizeof target, "%.17g", strtod(target, NULL) - 1);
    nqba(e, &r, NULL, "solve", path, "--json", "--solver", "sa", "--target", target, "--reads", "8",
         "--sweeps", "50", NULL);
    j = run_json(e, &r);
    assert_false(flag(j, "target_reached"));
    assert_int_equal((int)num(j, "reads"), 8);
    json_decref(j);
    run_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_help),
        cmocka_unit_test(test_cluster_options),
        cmocka_unit_test(test_version),
        cmocka_unit_test(test_solve_help),
        cmocka_unit_test(test_unknown_command),
        cmocka_unit_test(test_unknown_option),
        cmocka_unit_test(test_bad_option_values),
        cmocka_unit_test(test_good_option_edges),
        cmocka_unit_test(test_bad_gset),
        cmocka_unit_test(test_gset_stray_header_token),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_bad_json),
        cmocka_unit_test(test_gset_all),
        cmocka_unit_test(test_gset_text_and_stdin),
        cmocka_unit_test(test_named_exact),
        cmocka_unit_test(test_named_sa),
        cmocka_unit_test(test_ising_json),
        cmocka_unit_test(test_every_solver),
        cmocka_unit_test(test_auto_gset),
        cmocka_unit_test(test_determinism),
        cmocka_unit_test(test_target),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
