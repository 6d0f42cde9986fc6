/* test_cqm_glpk.c - MPS/LP reading through GLPK, and the GLPK MILP solver
 * checked against exhaustive enumeration of every assignment. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <glpk.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/solve/cqm_index.h"
#include "../../lib/solve/cqm_milp_seed.h"
#include "nqba/cqm.h"
#include "nqba/rng.h"

static int near(double a, double b)
{
    return fabs(a - b) <= 1e-6 * (1.0 + fabs(b));
}

static int read_doc(const char *doc, const char *source, const char *format, nq_cqm *m, nq_err *err)
{
    return nq_cqm_read_glpk(doc, strlen(doc), source, format, m, err);
}

/* Linear coefficient of atom in e (the model is finished: terms merged). */
static double lin_coef(const nq_cqm_expr *e, int32_t atom)
{
    for (int32_t k = 0; k < e->n_lin; k++)
        if (e->lin[k].atom == atom)
            return e->lin[k].w;
    return 0.0;
}

static int32_t var_atom(const nq_cqm *m, const char *name)
{
    int32_t v = nq_cqm_find_var(m, name);
    assert_true(v >= 0);
    return m->vars[v].atom;
}

static const nq_cqm_con *con(const nq_cqm *m, const char *name, nq_cqm_sense sense, double rhs)
{
    int32_t c = nq_cqm_find_con(m, name);
    assert_true(c >= 0);
    assert_int_equal(m->cons[c].sense, sense);
    assert_true(m->cons[c].rhs == rhs);
    assert_true(m->cons[c].hard);
    return &m->cons[c];
}

static void assert_var(const nq_cqm *m, const char *name, nq_cqm_kind kind, int64_t lb, int64_t ub,
                       double obj)
{
    int32_t v = nq_cqm_find_var(m, name);
    assert_true(v >= 0);
    assert_int_equal(m->vars[v].kind, kind);
    assert_int_equal(m->vars[v].lb, lb);
    assert_int_equal(m->vars[v].ub, ub);
    assert_true(lin_coef(&m->groups[0].e, m->vars[v].atom) == obj);
}

/* ---- reading ------------------------------------------------------------- */

/* Free MPS: integer markers (GLPK makes marked columns binary unless given
 * bounds), a ranged row, a free row, the objective constant as the RHS of
 * the objective row. */
static const char *const free_mps = "NAME knap\n"
                                    "ROWS\n"
                                    " N obj\n"
                                    " L cap\n"
                                    " G need\n"
                                    " E pick\n"
                                    " L rng\n"
                                    " N spare\n"
                                    "COLUMNS\n"
                                    " MARKER 'MARKER' 'INTORG'\n"
                                    " x obj -3 cap 2\n"
                                    " x need 1 rng 1\n"
                                    " y obj -2 cap 3\n"
                                    " y pick 1 spare 9\n"
                                    " n obj 1 rng 1\n"
                                    " MARKER 'MARKER' 'INTEND'\n"
                                    "RHS\n"
                                    " RHS cap 4 need 1\n"
                                    " RHS pick 1 rng 5\n"
                                    " RHS obj 2.5\n"
                                    "RANGES\n"
                                    " RNG rng 3\n"
                                    "BOUNDS\n"
                                    " UP BND n 7\n"
                                    " LO BND n -2\n"
                                    "ENDATA\n";

static void test_read_free_mps(void **state)
{
    (void)state;
    nq_cqm m;
    nq_err err;
    assert_int_equal(read_doc(free_mps, "knap.mps", "mps", &m, &err), 0);
    assert_int_equal(m.n_vars, 3);
    assert_false(m.maximize);
    assert_true(m.offset == 2.5);
    assert_var(&m, "x", NQ_CQM_BINARY, 0, 1, -3);
    assert_var(&m, "y", NQ_CQM_BINARY, 0, 1, -2);
    assert_var(&m, "n", NQ_CQM_INTEGER, -2, 7, 1);
    int32_t x = var_atom(&m, "x"), y = var_atom(&m, "y"), n = var_atom(&m, "n");
    assert_int_equal(m.n_cons, 5); /* cap, need, pick, rng.lo, rng.hi */
    const nq_cqm_con *c = con(&m, "cap", NQ_CQM_LE, 4);
    assert_true(lin_coef(&c->e, x) == 2 && lin_coef(&c->e, y) == 3 && c->e.n_lin == 2);
    c = con(&m, "need", NQ_CQM_GE, 1);
    assert_true(lin_coef(&c->e, x) == 1 && c->e.n_lin == 1);
    c = con(&m, "pick", NQ_CQM_EQ, 1);
    assert_true(lin_coef(&c->e, y) == 1 && c->e.n_lin == 1);
    c = con(&m, "rng.lo", NQ_CQM_GE, 2);
    assert_true(lin_coef(&c->e, x) == 1 && lin_coef(&c->e, n) == 1 && c->e.n_lin == 2);
    c = con(&m, "rng.hi", NQ_CQM_LE, 5);
    assert_true(lin_coef(&c->e, x) == 1 && lin_coef(&c->e, n) == 1 && c->e.n_lin == 2);
    assert_int_equal(nq_cqm_find_con(&m, "spare"), -1);
    nq_cqm_free(&m);
}

/* Fixed MPS: fields by column (names may hold spaces, which GLPK drops). */
static const char *const fixed_mps = "NAME          FIXED\n"
                                     "ROWS\n"
                                     " N  COST\n"
                                     " G  LIM1\n"
                                     " E  MY ROW\n"
                                     "COLUMNS\n"
                                     "    MARKER    'MARKER'                 'INTORG'\n"
                                     "    MY VAR    COST      1.0            LIM1      1.0\n"
                                     "    MY VAR    MY ROW    1.0\n"
                                     "    Z         COST      -2.0           MY ROW    1.0\n"
                                     "    MARKER    'MARKER'                 'INTEND'\n"
                                     "RHS\n"
                                     "    RHS       LIM1      1.0            MY ROW    3.0\n"
                                     "BOUNDS\n"
                                     " UP BND       MY VAR    4.0\n"
                                     " BV BND       Z\n"
                                     "ENDATA\n";

static void test_read_fixed_mps(void **state)
{
    (void)state;
    nq_cqm m;
    nq_err err;
    assert_int_equal(read_doc(fixed_mps, "fixed.mps", "mps-fixed", &m, &err), 0);
    assert_int_equal(m.n_vars, 2);
    assert_true(m.offset == 0.0);
    assert_var(&m, "MYVAR", NQ_CQM_INTEGER, 0, 4, 1);
    assert_var(&m, "Z", NQ_CQM_BINARY, 0, 1, -2);
    assert_int_equal(m.n_cons, 2);
    const nq_cqm_con *c = con(&m, "LIM1", NQ_CQM_GE, 1);
    assert_true(lin_coef(&c->e, var_atom(&m, "MYVAR")) == 1 && c->e.n_lin == 1);
    c = con(&m, "MYROW", NQ_CQM_EQ, 3);
    assert_true(lin_coef(&c->e, var_atom(&m, "Z")) == 1 && c->e.n_lin == 2);
    nq_cqm_free(&m);
    /* The same text is not free MPS: "MY VAR" splits into two fields. */
    assert_int_equal(read_doc(fixed_mps, "fixed.mps", "mps", &m, &err), NQ_EPARSE);
}

static const char *const lp_doc = "\\ a small assignment\n"
                                  "Maximize\n"
                                  " value: 3 a + 2 b - c + 0.5 k\n"
                                  "Subject To\n"
                                  " one: a + b <= 1\n"
                                  " two: a + c + k >= 2\n"
                                  " - b + k = 1\n"
                                  "Bounds\n"
                                  " -1 <= k <= 3\n"
                                  "General\n"
                                  " k\n"
                                  "Binary\n"
                                  " a b c\n"
                                  "End\n";

static void test_read_lp(void **state)
{
    (void)state;
    nq_cqm m;
    nq_err err;
    assert_int_equal(read_doc(lp_doc, "a.lp", "lp", &m, &err), 0);
    assert_true(m.maximize);
    assert_true(m.offset == 0.0);
    assert_int_equal(m.n_vars, 4);
    assert_var(&m, "a", NQ_CQM_BINARY, 0, 1, 3);
    assert_var(&m, "b", NQ_CQM_BINARY, 0, 1, 2);
    assert_var(&m, "c", NQ_CQM_BINARY, 0, 1, -1);
    assert_var(&m, "k", NQ_CQM_INTEGER, -1, 3, 0.5);
    assert_int_equal(m.n_cons, 3);
    const nq_cqm_con *c = con(&m, "one", NQ_CQM_LE, 1);
    assert_int_equal(c->e.n_lin, 2);
    c = con(&m, "two", NQ_CQM_GE, 2);
    assert_int_equal(c->e.n_lin, 3);
    c = con(&m, "r.7", NQ_CQM_EQ, 1); /* GLPK names an unnamed row r.<line> */
    assert_true(lin_coef(&c->e, var_atom(&m, "b")) == -1);
    assert_true(lin_coef(&c->e, var_atom(&m, "k")) == 1);
    nq_cqm_free(&m);
}

static void test_read_errors(void **state)
{
    (void)state;
    nq_cqm m;
    nq_err err;
    /* Line 4 has a stray symbol after its right-hand side. */
    const char *bad = "Minimize\n obj: x + y\nSubject To\n c1: x + y <= 1 $\nEnd\n";
    assert_int_equal(read_doc(bad, "name.lp", "lp", &m, &err), NQ_EPARSE);
    assert_string_equal(err.where, "name.lp:4");
    assert_non_null(strstr(err.msg, "right-hand side"));
    assert_null(strstr(err.msg, "/proc"));
    assert_int_equal(m.n_vars, 0); /* left empty */
    const char *bad_mps = "NAME t\nROWS\n N obj\nCOLUMNS\n x nope 1\nENDATA\n";
    assert_int_equal(read_doc(bad_mps, "t.mps", "mps", &m, &err), NQ_EPARSE);
    assert_string_equal(err.where, "t.mps:5");
    assert_non_null(strstr(err.msg, "nope"));
    assert_int_equal(read_doc("", "empty.mps", "mps", &m, &err), NQ_EPARSE);
    assert_true(strncmp(err.where, "empty.mps", 9) == 0);
    /* Continuous columns, unbounded integers and '=' in names. */
    const char *cont = "Minimize\n obj: x + z\nSubject To\n c: x + z >= 1\n"
                       "Binary\n x\nEnd\n";
    assert_int_equal(read_doc(cont, "c.lp", "lp", &m, &err), NQ_EINVAL);
    assert_string_equal(err.where, "c.lp");
    assert_string_equal(err.msg, "column z: continuous variables are not supported");
    const char *unb = "Minimize\n obj: x + x3\nSubject To\n c: x + x3 >= 1\n"
                      "General\n x3\nBinary\n x\nEnd\n";
    assert_int_equal(read_doc(unb, "u.lp", "lp", &m, &err), NQ_EINVAL);
    assert_string_equal(err.where, "u.lp");
    assert_string_equal(err.msg, "column x3: integer variable needs finite bounds");
    const char *eq = "NAME t\nROWS\n N obj\nCOLUMNS\n MARKER 'MARKER' 'INTORG'\n"
                     " a=b obj 1\n MARKER 'MARKER' 'INTEND'\nENDATA\n";
    assert_int_equal(read_doc(eq, "e.mps", "mps", &m, &err), NQ_EINVAL);
    assert_non_null(strstr(err.msg, "a=b"));
    const char *frac = "Minimize\n obj: k\nSubject To\n c: k >= 1\nBounds\n 0 <= k <= 2.5\n"
                       "General\n k\nEnd\n";
    assert_int_equal(read_doc(frac, "f.lp", "lp", &m, &err), NQ_EINVAL);
    assert_non_null(strstr(err.msg, "column k"));
}

static void test_read_args(void **state)
{
    (void)state;
    nq_cqm m;
    nq_err err;
    assert_int_equal(read_doc(lp_doc, "a", "xml", &m, &err), NQ_EINVAL);
    assert_string_equal(err.where, "format");
    /* The size check comes before any byte is read. */
    assert_int_equal(nq_cqm_read_glpk(lp_doc, ((size_t)64 << 20) + 1, "big", "lp", &m, &err),
                     NQ_ELIMIT);
    /* Reading twice on one thread: the message capture is per call. */
    assert_int_equal(read_doc(lp_doc, NULL, "lp", &m, &err), 0);
    nq_cqm_free(&m);
    assert_int_equal(read_doc("Minimize\n obj: \n", NULL, "lp", &m, &err), NQ_EPARSE);
    assert_true(strncmp(err.where, "input:", 6) == 0);
    /* Errors are located even when the caller silenced GLPK, and the
     * caller's setting survives the read. */
    glp_term_out(GLP_OFF);
    assert_int_equal(read_doc("Minimize\n obj: x\n $\n", "q.lp", "lp", &m, &err), NQ_EPARSE);
    assert_string_equal(err.where, "q.lp:3");
    assert_int_equal(glp_term_out(GLP_ON), GLP_OFF);
}

/* ---- MILP against enumeration ------------------------------------------- */

typedef struct brute {
    int feasible; /* some assignment is feasible */
    double score; /* best feasible score (minimization terms) */
} brute;

/* Every assignment in mixed radix over the variables' domains. */
static brute enumerate(const nq_cqm *m)
{
    brute b = {.feasible = 0, .score = INFINITY};
    int64_t *x = calloc((size_t)m->n_vars + 1, sizeof *x);
    assert_non_null(x);
    for (int32_t i = 0; i < m->n_vars; i++)
        x[i] = m->vars[i].lb;
    for (;;) {
        nq_cqm_eval ev;
        assert_int_equal(nq_cqm_evaluate(m, x, &ev, NULL), 0);
        if (ev.feasible && ev.score < b.score) {
            b.feasible = 1;
            b.score = ev.score;
        }
        nq_cqm_eval_free(&ev);
        int32_t i = 0;
        while (i < m->n_vars && x[i] == m->vars[i].ub) {
            x[i] = m->vars[i].lb;
            i++;
        }
        if (i == m->n_vars)
            break;
        x[i]++;
    }
    free(x);
    return b;
}

/* Solve with GLPK and check the answer against enumeration. */
static void check_milp(const nq_cqm *m)
{
    brute want = enumerate(m);
    nq_milp_result r;
    nq_err err;
    assert_int_equal(nq_cqm_solve_milp(m, 0, &r, &err), 0);
    double sign = m->maximize ? -1.0 : 1.0;
    if (!want.feasible) {
        assert_int_equal(r.status, 2);
        assert_null(r.values);
        assert_true(sign * r.bound == INFINITY);
        nq_milp_result_free(&r);
        return;
    }
    assert_int_equal(r.status, 0);
    assert_non_null(r.values);
    nq_cqm_eval ev;
    assert_int_equal(nq_cqm_evaluate(m, r.values, &ev, NULL), 0);
    assert_true(ev.feasible);
    assert_true(near(ev.score, want.score));
    assert_true(r.objective == ev.objective);
    assert_true(near(sign * r.bound, want.score));
    assert_true(r.elapsed >= 0);
    nq_cqm_eval_free(&ev);
    nq_milp_result_free(&r);
}

static void test_milp_knapsack(void **state)
{
    (void)state;
    static const double value[] = {10, 13, 7, 8, 2, 9, 11};
    static const double weight[] = {5, 7, 3, 4, 1, 5, 6};
    nq_cqm m;
    nq_cqm_init(&m);
    m.maximize = 1;
    int c = nq_cqm_add_constraint(&m, "cap", NQ_CQM_LE, 15, 1, -1, NULL);
    for (int i = 0; i < 7; i++) {
        char name[8] = {'i', (char)('0' + i), 0};
        int v = nq_cqm_add_binary(&m, name, NULL);
        assert_int_equal(nq_cqm_obj_linear(&m, 0, m.vars[v].atom, value[i], NULL), 0);
        assert_int_equal(nq_cqm_con_linear(&m, c, m.vars[v].atom, weight[i], NULL), 0);
    }
    check_milp(&m);
    nq_milp_result r;
    assert_int_equal(nq_cqm_solve_milp(&m, 0, &r, NULL), 0);
    assert_true(r.objective == 30); /* 10 + 13 + 7 at weight 15 (by enumeration) */
    nq_milp_result_free(&r);
    nq_cqm_free(&m);
}

/* A choice with a veto, a binary product in the objective, a soft
 * equality, a fixed variable and an integer in a constraint. */
static void test_milp_mixed(void **state)
{
    (void)state;
    nq_cqm m;
    nq_err err;
    nq_cqm_init(&m);
    static const char *const sites[] = {"ber", "par", "rom"};
    int s = nq_cqm_add_choice(&m, "site", sites, 3, &err);
    int a = nq_cqm_add_binary(&m, "a", &err), b = nq_cqm_add_binary(&m, "b", &err);
    int k = nq_cqm_add_integer(&m, "k", -2, 3, &err);
    int32_t ber = m.vars[s].atom, par = ber + 1, rom = ber + 2;
    int32_t xa = m.vars[a].atom, xb = m.vars[b].atom, xk = m.vars[k].atom;
    assert_int_equal(nq_cqm_obj_linear(&m, 0, ber, 1, &err), 0);
    assert_int_equal(nq_cqm_obj_linear(&m, 0, par, -4, &err), 0);
    assert_int_equal(nq_cqm_obj_linear(&m, 0, rom, 2, &err), 0);
    assert_int_equal(nq_cqm_obj_quadratic(&m, 0, xa, xb, -3, &err), 0);
    assert_int_equal(nq_cqm_obj_quadratic(&m, 0, par, xa, 5, &err), 0);
    assert_int_equal(nq_cqm_obj_linear(&m, 0, xk, -1, &err), 0);
    assert_int_equal(nq_cqm_obj_quadratic(&m, 0, xb, xb, 1, &err), 0);
    int c = nq_cqm_add_constraint(&m, "soft", NQ_CQM_EQ, 2, 0, 1.5, &err);
    assert_int_equal(nq_cqm_con_linear(&m, c, xk, 1, &err), 0);
    assert_int_equal(nq_cqm_con_linear(&m, c, xa, 2, &err), 0);
    c = nq_cqm_add_constraint(&m, "hard", NQ_CQM_LE, 1, 1, -1, &err);
    assert_int_equal(nq_cqm_con_quadratic(&m, c, xa, rom, 2, &err), 0);
    assert_int_equal(nq_cqm_con_linear(&m, c, xb, 1, &err), 0);
    m.offset = 0.25;
    check_milp(&m);
    assert_int_equal(nq_cqm_veto(&m, s, 1, &err), 0);
    check_milp(&m);
    assert_int_equal(nq_cqm_fix(&m, b, 1, &err), 0);
    check_milp(&m);
    m.maximize = 1;
    check_milp(&m);
    nq_cqm_free(&m);
}

static void test_milp_infeasible(void **state)
{
    (void)state;
    nq_cqm m;
    nq_err err;
    nq_cqm_init(&m);
    int x = nq_cqm_add_binary(&m, "x", &err), y = nq_cqm_add_binary(&m, "y", &err);
    int c = nq_cqm_add_constraint(&m, "c", NQ_CQM_GE, 3, 1, -1, &err);
    nq_cqm_con_linear(&m, c, m.vars[x].atom, 1, &err);
    nq_cqm_con_linear(&m, c, m.vars[y].atom, 1, &err);
    check_milp(&m);
    nq_cqm_free(&m);
    /* Every option vetoed. */
    static const char *const opts[] = {"p", "q"};
    nq_cqm_init(&m);
    int s = nq_cqm_add_choice(&m, "s", opts, 2, &err);
    nq_cqm_veto(&m, s, 0, &err);
    nq_cqm_veto(&m, s, 1, &err);
    check_milp(&m);
    nq_cqm_free(&m);
    /* Integral infeasibility the LP relaxation does not see: 2x + 2y = 1. */
    nq_cqm_init(&m);
    x = nq_cqm_add_binary(&m, "x", &err);
    y = nq_cqm_add_integer(&m, "y", 0, 5, &err);
    c = nq_cqm_add_constraint(&m, "odd", NQ_CQM_EQ, 1, 1, -1, &err);
    nq_cqm_con_linear(&m, c, m.vars[x].atom, 2, &err);
    nq_cqm_con_linear(&m, c, m.vars[y].atom, 2, &err);
    check_milp(&m);
    nq_cqm_free(&m);
}

static void test_milp_refuses_integer_products(void **state)
{
    (void)state;
    nq_cqm m;
    nq_err err;
    nq_milp_result r;
    nq_cqm_init(&m);
    int x = nq_cqm_add_binary(&m, "x", &err), k = nq_cqm_add_integer(&m, "k", 0, 4, &err);
    nq_cqm_obj_quadratic(&m, 0, m.vars[k].atom, m.vars[k].atom, 1, &err);
    assert_int_equal(nq_cqm_solve_milp(&m, 0, &r, &err), NQ_EINVAL);
    assert_string_equal(err.msg, "milp: quadratic term on integer variable k is not supported");
    assert_null(r.values);
    nq_cqm_free(&m);
    nq_cqm_init(&m);
    x = nq_cqm_add_binary(&m, "x", &err);
    k = nq_cqm_add_integer(&m, "k", 0, 4, &err);
    int c = nq_cqm_add_constraint(&m, "c", NQ_CQM_LE, 2, 1, -1, &err);
    nq_cqm_con_quadratic(&m, c, m.vars[x].atom, m.vars[k].atom, 1, &err);
    assert_int_equal(nq_cqm_solve_milp(&m, 0, &r, &err), NQ_EINVAL);
    assert_string_equal(err.where, "c");
    assert_non_null(strstr(err.msg, "variable k "));
    assert_int_equal(nq_cqm_solve_milp(&m, -1, &r, &err), NQ_EINVAL);
    nq_cqm_free(&m);
}

static void test_milp_edge_models(void **state)
{
    (void)state;
    nq_cqm m;
    nq_err err;
    nq_milp_result r;
    nq_cqm_init(&m); /* no variables at all */
    m.offset = 4.5;
    assert_int_equal(nq_cqm_solve_milp(&m, 0, &r, &err), 0);
    assert_int_equal(r.status, 0);
    assert_true(r.objective == 4.5 && r.bound == 4.5);
    nq_milp_result_free(&r);
    nq_milp_result_free(&r); /* twice is harmless */
    nq_milp_result_free(NULL);
    /* No constraints at all: GLPK gets columns and no rows. */
    int x = nq_cqm_add_binary(&m, "x", &err);
    nq_cqm_obj_linear(&m, 0, m.vars[x].atom, -2, &err);
    check_milp(&m);
    nq_cqm_free(&m);
}

/* A random model over binaries, small integers and choices, with products
 * of 0/1 atoms, soft and hard constraints, fixes and vetoes. */
static int32_t rand_atom01(const nq_cqm *m, nq_rng *rng)
{
    for (;;) {
        int32_t a = (int32_t)nq_rng_below(rng, (uint64_t)m->n_atoms);
        if (m->vars[m->atom_var[a]].kind != NQ_CQM_INTEGER)
            return a;
    }
}

static double rand_w(nq_rng *rng)
{
    return (double)((int)nq_rng_below(rng, 11) - 5);
}

static void rand_vars(nq_cqm *m, nq_rng *rng, int n)
{
    static const char *const labels[] = {"l0", "l1", "l2", "l3"};
    for (int i = 0; i < n; i++) {
        char name[16];
        snprintf(name, sizeof name, "v%d", i);
        uint64_t kind = nq_rng_below(rng, i == 0 ? 1 : 4); /* v0 is binary */
        if (kind <= 1) {
            nq_cqm_add_binary(m, name, NULL);
        } else if (kind == 2) {
            int64_t lb = (int64_t)nq_rng_below(rng, 4) - 2;
            nq_cqm_add_integer(m, name, lb, lb + 1 + (int64_t)nq_rng_below(rng, 3), NULL);
        } else {
            int v = nq_cqm_add_choice(m, name, labels, 2 + (int32_t)nq_rng_below(rng, 3), NULL);
            if (nq_rng_below(rng, 4) == 0)
                nq_cqm_veto(m, v, 0, NULL);
        }
    }
}

static void rand_expr_terms(nq_cqm *m, nq_rng *rng, int32_t con, int lin, int quad)
{
    for (int k = 0; k < lin; k++) {
        int32_t a = (int32_t)nq_rng_below(rng, (uint64_t)m->n_atoms);
        if (con < 0)
            nq_cqm_obj_linear(m, 0, a, rand_w(rng), NULL);
        else
            nq_cqm_con_linear(m, con, a, rand_w(rng), NULL);
    }
    for (int k = 0; k < quad; k++) {
        int32_t a = rand_atom01(m, rng), b = rand_atom01(m, rng);
        if (con < 0)
            nq_cqm_obj_quadratic(m, 0, a, b, rand_w(rng), NULL);
        else
            nq_cqm_con_quadratic(m, con, a, b, rand_w(rng), NULL);
    }
}

static void rand_cqm(nq_cqm *m, uint64_t seed)
{
    nq_rng rng;
    nq_rng_seed(&rng, seed);
    nq_cqm_init(m);
    int n = 3 + (int)nq_rng_below(&rng, 6);
    rand_vars(m, &rng, n);
    m->maximize = (int)nq_rng_below(&rng, 2);
    m->offset = rand_w(&rng) / 4;
    rand_expr_terms(m, &rng, -1, n, n);
    int n_cons = 1 + (int)nq_rng_below(&rng, 3);
    for (int c = 0; c < n_cons; c++) {
        char name[16];
        snprintf(name, sizeof name, "c%d", c);
        int hard = nq_rng_below(&rng, 3) != 0;
        nq_cqm_sense sense = (nq_cqm_sense)nq_rng_below(&rng, 3);
        int32_t ci = nq_cqm_add_constraint(m, name, sense, rand_w(&rng) / 2, hard,
                                           hard ? -1 : 0.5 + (double)nq_rng_below(&rng, 4), NULL);
        rand_expr_terms(m, &rng, ci, 3, (int)nq_rng_below(&rng, 3));
    }
    if (nq_rng_below(&rng, 3) == 0)
        nq_cqm_fix(m, 0, (int64_t)nq_rng_below(&rng, 2), NULL);
}

static void test_milp_random(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 150; seed++) {
        nq_cqm m;
        rand_cqm(&m, seed * 7919);
        check_milp(&m);
        nq_cqm_free(&m);
    }
}

/* Random instances read back from LP text, solved and enumerated. */
static void test_milp_from_lp(void **state)
{
    (void)state;
    nq_cqm m;
    nq_err err;
    assert_int_equal(read_doc(lp_doc, "a.lp", "lp", &m, &err), 0);
    check_milp(&m);
    nq_cqm_free(&m);
    assert_int_equal(read_doc(free_mps, "knap.mps", "mps", &m, &err), 0);
    check_milp(&m);
    nq_cqm_free(&m);
}

/* A dense QUBO that branch-and-bound does not close in a few ms: whatever
 * the status, the bound must not exceed the optimum and the answer must
 * not beat it. Enumeration here is a direct loop (2^n evaluations). */
static double qubo_min(const double *q, int n)
{
    double best = INFINITY;
    for (uint32_t s = 0; s < (1u << n); s++) {
        double e = 0;
        for (int i = 0; i < n; i++)
            if (s >> i & 1)
                for (int j = i; j < n; j++)
                    if (s >> j & 1)
                        e += q[i * n + j];
        best = fmin(best, e);
    }
    return best;
}

/* n binaries named prefix0, prefix1, ... (atoms 0..n-1 of an empty model). */
static void add_binaries(nq_cqm *m, const char *prefix, int n)
{
    for (int i = 0; i < n; i++) {
        char name[16];
        snprintf(name, sizeof name, "%s%d", prefix, i);
        assert_int_equal(nq_cqm_add_binary(m, name, NULL), i);
    }
}

static void test_milp_time_limit_bound(void **state)
{
    (void)state;
    enum { N = 16 };
    double q[N * N];
    for (uint64_t seed = 1; seed <= 8; seed++) {
        nq_rng rng;
        nq_rng_seed(&rng, seed);
        nq_cqm m;
        nq_cqm_init(&m);
        add_binaries(&m, "q", N);
        for (int i = 0; i < N; i++)
            for (int j = i; j < N; j++) {
                q[i * N + j] = rand_w(&rng);
                nq_cqm_obj_quadratic(&m, 0, i, j, q[i * N + j], NULL);
            }
        double opt = qubo_min(q, N);
        nq_milp_result r;
        /* 1..8 ms: some runs end with no answer, some with one unproven. */
        assert_int_equal(nq_cqm_solve_milp(&m, 0.001 * (double)seed, &r, NULL), 0);
        assert_true(r.status == 0 || r.status == 1 || r.status == 3);
        assert_true(r.bound <= opt + 1e-6);
        if (r.status <= 1)
            assert_true(r.objective >= opt - 1e-6);
        if (r.status == 0)
            assert_true(near(r.objective, opt));
        nq_milp_result_free(&r);
        nq_cqm_free(&m);
    }
}

/* ---- the first incumbent (cqm_milp_seed.c) ----------------------------------- */

/* A 50-item knapsack whose optimum trades two items near the LP's break
 * point for one: rounding down and single moves stop at 1799, the core
 * search reaches the optimum. */
static const int KNAP_V[50] = {53, 88, 63, 29, 10, 56, 99, 12, 64, 14, 57, 18, 78, 83, 90, 24, 29,
                               80, 80, 15, 48, 14, 40, 55, 11, 33, 42, 78, 13, 16, 26, 57, 94, 79,
                               76, 95, 36, 76, 98, 90, 80, 55, 98, 59, 39, 88, 74, 58, 69, 55};
static const int KNAP_W[50] = {32, 9,  30, 47, 31, 30, 14, 48, 20, 16, 6,  28, 39, 48, 18, 27, 46,
                               31, 15, 45, 26, 6,  23, 25, 31, 38, 19, 18, 17, 48, 41, 45, 7,  21,
                               42, 34, 47, 7,  33, 17, 18, 34, 40, 7,  33, 8,  30, 30, 34, 41};
#define KNAP_CAP 466

/* The exact optimum by dynamic programming over the capacity. */
static int knap_dp(void)
{
    int best[KNAP_CAP + 1] = {0};
    for (int i = 0; i < 50; i++)
        for (int c = KNAP_CAP; c >= KNAP_W[i]; c--)
            if (best[c - KNAP_W[i]] + KNAP_V[i] > best[c])
                best[c] = best[c - KNAP_W[i]] + KNAP_V[i];
    return best[KNAP_CAP];
}

/* The LP relaxation of the knapsack (items by value per weight, the
 * first that does not fit taken in part) and its reduced costs in
 * minimization form: -v + y w, y the value per weight of that item. */
static void knap_lp(double *lp, double *rc)
{
    int order[50];
    for (int i = 0; i < 50; i++)
        order[i] = i;
    for (int i = 1; i < 50; i++)
        for (int j = i; j > 0 && KNAP_V[order[j]] * KNAP_W[order[j - 1]] >
                                     KNAP_V[order[j - 1]] * KNAP_W[order[j]];
             j--) {
            int t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    double room = KNAP_CAP, y = 0;
    for (int k = 0; k < 50; k++) {
        int i = order[k];
        lp[i] = room >= KNAP_W[i] ? 1.0 : room / KNAP_W[i];
        if (lp[i] < 1.0 && y == 0)
            y = (double)KNAP_V[i] / KNAP_W[i];
        room -= lp[i] * KNAP_W[i];
    }
    for (int i = 0; i < 50; i++)
        rc[i] = -KNAP_V[i] + y * KNAP_W[i];
}

static void knap_model(nq_cqm *m)
{
    nq_cqm_init(m);
    m->maximize = 1;
    add_binaries(m, "x", 50);
    int c = nq_cqm_add_constraint(m, "weight", NQ_CQM_LE, KNAP_CAP, 1, 0, NULL);
    for (int i = 0; i < 50; i++) {
        nq_cqm_obj_linear(m, 0, i, KNAP_V[i], NULL);
        nq_cqm_con_linear(m, c, i, KNAP_W[i], NULL);
    }
    assert_int_equal(nq_cqm_finish(m, NULL), 0);
}

/* Seed m from lp/rc; returns what nq__milp_seed returned and, when it
 * found a point, checks it on the model and gives its evaluation. */
static int seed_of(const nq_cqm *m, const double *lp, const double *rc, int64_t *values,
                   nq_cqm_eval *ev)
{
    nq__cqm_index ix;
    assert_int_equal(nq__cqm_index_build(m, &ix, NULL), 0);
    int found = nq__milp_seed(&ix, lp, rc, values);
    nq__cqm_index_free(&ix);
    assert_true(found == 0 || found == 1);
    if (found) {
        assert_int_equal(nq_cqm_evaluate(m, values, ev, NULL), 0);
        assert_true(ev->feasible);
        for (int32_t v = 0; v < m->n_vars; v++) { /* bounds, fixes, vetoes */
            const nq_cqm_var *var = &m->vars[v];
            assert_true(values[v] >= var->lb && values[v] <= var->ub);
            assert_true(!var->fixed || values[v] == var->fixed_value);
            assert_true(!var->vetoed || !var->vetoed[values[v]]);
        }
    }
    return found;
}

static void test_seed_knapsack_core(void **state)
{
    (void)state;
    nq_cqm m;
    knap_model(&m);
    double lp[50], rc[50];
    knap_lp(lp, rc);
    /* Rounded down, the relaxation is worse than the optimum: the seed
     * has work to do. */
    double down = 0;
    for (int i = 0; i < 50; i++)
        down += lp[i] >= 1.0 ? KNAP_V[i] : 0;
    int opt = knap_dp();
    assert_true(down < opt);
    int64_t values[50];
    nq_cqm_eval ev;
    assert_int_equal(seed_of(&m, lp, rc, values, &ev), 1);
    assert_true(near(ev.objective, opt));
    nq_cqm_eval_free(&ev);
    /* And GLPK, started from it, proves that optimum. */
    nq_milp_result r;
    assert_int_equal(nq_cqm_solve_milp(&m, 0, &r, NULL), 0);
    assert_int_equal(r.status, 0);
    assert_true(near(r.objective, opt) && near(r.bound, opt));
    nq_milp_result_free(&r);
    nq_cqm_free(&m);
}

/* A cover rounded down covers nothing, more than the repair budget can
 * mend one set at a time; rounded up it covers everything, and the seed
 * then drops sets it does not need. Element e is in sets e and e + 1 (a
 * ring), the relaxation has every set at one half. */
static void test_seed_covering_rounds_up(void **state)
{
    (void)state;
    enum { N = 20 };
    nq_cqm m;
    nq_cqm_init(&m);
    add_binaries(&m, "s", N);
    for (int i = 0; i < N; i++)
        nq_cqm_obj_linear(&m, 0, i, 1 + i % 3, NULL);
    for (int e = 0; e < N; e++) {
        char name[8];
        snprintf(name, sizeof name, "e%d", e);
        int c = nq_cqm_add_constraint(&m, name, NQ_CQM_GE, 1, 1, 0, NULL);
        nq_cqm_con_linear(&m, c, e, 1, NULL);
        nq_cqm_con_linear(&m, c, (e + 1) % N, 1, NULL);
    }
    assert_int_equal(nq_cqm_finish(&m, NULL), 0);
    double lp[N], rc[N] = {0};
    for (int i = 0; i < N; i++)
        lp[i] = 0.5;
    int64_t values[N];
    nq_cqm_eval ev;
    assert_int_equal(seed_of(&m, lp, rc, values, &ev), 1);
    double all = 0;
    for (int i = 0; i < N; i++)
        all += 1 + i % 3;
    assert_true(ev.objective < all);
    nq_cqm_eval_free(&ev);
    nq_cqm_free(&m);
}

static void test_seed_infeasible(void **state)
{
    (void)state;
    nq_cqm m;
    nq_cqm_init(&m);
    nq_cqm_add_binary(&m, "a", NULL);
    nq_cqm_add_binary(&m, "b", NULL);
    int c = nq_cqm_add_constraint(&m, "three", NQ_CQM_GE, 3, 1, 0, NULL);
    nq_cqm_con_linear(&m, c, 0, 1, NULL);
    nq_cqm_con_linear(&m, c, 1, 1, NULL);
    assert_int_equal(nq_cqm_finish(&m, NULL), 0);
    double lp[2] = {1, 1}, rc[2] = {0, 0};
    int64_t values[2];
    nq_cqm_eval ev;
    assert_int_equal(seed_of(&m, lp, rc, values, &ev), 0);
    nq_cqm_free(&m);
}

/* Random mixed models (choices with vetoes, integers, fixes, soft and
 * quadratic constraints) from random relaxations: any point returned is
 * feasible and allowed, and never worse than what enumeration proves
 * impossible to beat; most feasible models get one. */
static void test_seed_random(void **state)
{
    (void)state;
    nq_rng rng;
    nq_rng_seed(&rng, 99);
    int feasible = 0, found = 0;
    for (uint64_t seed = 1; seed <= 200; seed++) {
        nq_cqm m;
        rand_cqm(&m, seed * 104729);
        assert_int_equal(nq_cqm_finish(&m, NULL), 0);
        double lp[64], rc[64];
        int64_t values[64];
        assert_true(m.n_atoms <= 64 && m.n_vars <= 64);
        for (int32_t a = 0; a < m.n_atoms; a++) {
            const nq_cqm_var *v = &m.vars[m.atom_var[a]];
            double span = v->kind == NQ_CQM_INTEGER ? (double)(v->ub - v->lb) : 1.0;
            double lb = v->kind == NQ_CQM_INTEGER ? (double)v->lb : 0.0;
            lp[a] = lb + span * (double)nq_rng_below(&rng, 1001) / 1000.0;
            rc[a] = (double)((int)nq_rng_below(&rng, 21) - 10) / 4.0;
        }
        brute want = enumerate(&m);
        nq_cqm_eval ev;
        int got = seed_of(&m, lp, rc, values, &ev);
        if (got) {
            assert_true(want.feasible);
            assert_true(ev.score >= want.score - 1e-9 * (1 + fabs(want.score)));
            nq_cqm_eval_free(&ev);
        }
        feasible += want.feasible;
        found += got;
        nq_cqm_free(&m);
    }
    assert_true(feasible > 50);
    assert_true(found * 4 >= feasible * 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_free_mps),
        cmocka_unit_test(test_read_fixed_mps),
        cmocka_unit_test(test_read_lp),
        cmocka_unit_test(test_read_errors),
        cmocka_unit_test(test_read_args),
        cmocka_unit_test(test_milp_knapsack),
        cmocka_unit_test(test_milp_mixed),
        cmocka_unit_test(test_milp_infeasible),
        cmocka_unit_test(test_milp_refuses_integer_products),
        cmocka_unit_test(test_milp_edge_models),
        cmocka_unit_test(test_milp_random),
        cmocka_unit_test(test_milp_from_lp),
        cmocka_unit_test(test_milp_time_limit_bound),
        cmocka_unit_test(test_seed_knapsack_core),
        cmocka_unit_test(test_seed_covering_rounds_up),
        cmocka_unit_test(test_seed_infeasible),
        cmocka_unit_test(test_seed_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
