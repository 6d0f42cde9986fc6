/* test_csv.c - the bounded CSV reader: quoting, line ends, blank lines,
 * the byte-order mark, numbers, and errors that say the line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h> /* after the headers it needs */

#include <math.h>
#include <string.h>

#include "nqba/csv.h"

static void parse_ok(const char *text, nq_csv *t)
{
    nq_err err;
    int rc = nq_csv_parse(text, strlen(text), "/csv", NULL, t, &err);
    if (rc)
        print_message("%s\n", err.msg);
    assert_int_equal(rc, NQ_OK);
}

static void expect_fail(const char *text, int code, const char *msg_start)
{
    nq_csv t;
    nq_err err;
    assert_int_equal(nq_csv_parse(text, strlen(text), "/csv", NULL, &t, &err), code);
    assert_string_equal(err.where, "/csv");
    if (strncmp(err.msg, msg_start, strlen(msg_start)) != 0)
        print_message("got '%s'\n", err.msg);
    assert_true(strncmp(err.msg, msg_start, strlen(msg_start)) == 0);
}

static void test_cells(void **state)
{
    (void)state;
    nq_csv t;
    parse_ok("\xEF\xBB\xBF" "name, value ,note\r\n\r\n"
             "a,1.5,\"x, \"\"quoted\"\"\"\n"
             "b , -2e3 ,\"two\nlines\"\n\n",
             &t);
    assert_int_equal(t.rows, 2);
    assert_int_equal(t.cols, 3);
    assert_int_equal(nq_csv_col(&t, "value"), 1);
    assert_int_equal(nq_csv_col(&t, "missing"), -1);
    assert_string_equal(nq_csv_cell(&t, 0, 2), "x, \"quoted\"");
    assert_string_equal(nq_csv_cell(&t, 1, 0), "b");
    assert_string_equal(nq_csv_cell(&t, 1, 2), "two\nlines");
    double x = 0;
    nq_err err;
    assert_int_equal(nq_csv_number(&t, 1, 1, &x, &err), NQ_OK);
    assert_true(x == -2000);
    assert_int_equal(nq_csv_number(&t, 0, 0, &x, &err), NQ_EPARSE);
    assert_string_equal(err.msg, "line 3: column name: not a number: 'a'");
    nq_csv_free(&t);
    parse_ok("a,b\n1,\n", &t);
    assert_int_equal(nq_csv_number(&t, 0, 1, &x, &err), NQ_OK);
    assert_true(isnan(x));
    nq_csv_free(&t);
    nq_csv_free(NULL);
    /* A separator at the very end: an empty last cell, not a lost row. */
    const char *tail = "name,value\na,1\n\"b \"\"qq\"\"\",";
    assert_int_equal(nq_csv_parse(tail, strlen(tail), "/csv", NULL, &t, &err), NQ_OK);
    assert_int_equal(t.rows, 2);
    assert_string_equal(nq_csv_cell(&t, 1, 0), "b \"qq\"");
    assert_string_equal(nq_csv_cell(&t, 1, 1), "");
    nq_csv_free(&t);
    /* Semicolons, as the UCI bank files have them. */
    nq_csv_limits lim;
    nq_csv_limits_default(&lim);
    lim.sep = ';';
    const char *semi = "\"age\";\"job\"\n56;\"house,maid\"\n";
    assert_int_equal(nq_csv_parse(semi, strlen(semi), "/csv", &lim, &t, &err), NQ_OK);
    assert_int_equal(t.cols, 2);
    assert_string_equal(nq_csv_cell(&t, 0, 1), "house,maid");
    nq_csv_free(&t);
}

static void test_errors(void **state)
{
    (void)state;
    expect_fail("", NQ_EINVAL, "line 1: no header row");
    expect_fail("a,b\n1,2\n3\n", NQ_EPARSE, "line 3: 1 cells, the header has 2");
    expect_fail("a,b\n\"1,2\n", NQ_EPARSE, "line 2: a quoted cell is not closed");
    expect_fail("a,b\n1\"x,2\n", NQ_EPARSE, "line 2: a quote inside an unquoted cell");
    expect_fail("a,b\n\"1\"x,2\n", NQ_EPARSE, "line 2: text after a closing quote");
    nq_csv t;
    nq_err err;
    nq_csv_limits lim = {.max_rows = 2, .max_cols = 3, .max_cell = 4};
    assert_int_equal(nq_csv_parse("a\n1\n2\n3\n", 8, "/csv", &lim, &t, &err), NQ_ELIMIT);
    assert_string_equal(err.msg, "line 4: too many rows");
    assert_int_equal(nq_csv_parse("a,b,c,d\n", 8, "/csv", &lim, &t, &err), NQ_ELIMIT);
    assert_int_equal(nq_csv_parse("a\n12345\n", 8, "/csv", &lim, &t, &err), NQ_ELIMIT);
    /* Numbers: hex, infinities and trailing text are refused. */
    parse_ok("x\n0x10\ninf\n1e999\n1.5z\n", &t);
    double x;
    for (int r = 0; r < 4; r++)
        assert_int_equal(nq_csv_number(&t, r, 0, &x, &err), NQ_EPARSE);
    nq_csv_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_cells), cmocka_unit_test(test_errors)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
