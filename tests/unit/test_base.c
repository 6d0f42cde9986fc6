/* test_base.c - unit tests for lib/base: errors, rng, arena, buf, json,
 * log, clock and sha256. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nqba/arena.h"
#include "nqba/buf.h"
#include "nqba/clock.h"
#include "nqba/cond.h"
#include "nqba/err.h"
#include "nqba/json.h"
#include "nqba/log.h"
#include "nqba/randid.h"
#include "nqba/rng.h"
#include "nqba/sha256.h"

#include "../../lib/base/json_fast.h"
#include "../../lib/base/sha256_internal.h"

/* ---- err --------------------------------------------------------------- */

static void test_err_set(void **state)
{
    (void)state;
    nq_err e;
    nq_err_clear(&e);
    assert_int_equal(e.code, NQ_OK);
    assert_int_equal(nq_err_set(&e, NQ_EINVAL, "/n", "must be %s", "positive"), NQ_EINVAL);
    assert_int_equal(e.code, NQ_EINVAL);
    assert_string_equal(e.where, "/n");
    assert_string_equal(e.msg, "must be positive");
    assert_int_equal(nq_err_set(NULL, NQ_ERANGE, "/x", "ignored"), NQ_ERANGE);
    nq_err_set(&e, NQ_EIO, NULL, "no where");
    assert_string_equal(e.where, "");
    nq_err_clear(NULL);
}

static void test_err_set_line_and_truncation(void **state)
{
    (void)state;
    nq_err e;
    assert_int_equal(nq_err_set_line(&e, NQ_EPARSE, "a.json", 12, "bad"), NQ_EPARSE);
    assert_string_equal(e.where, "a.json:12");
    nq_err_set_line(&e, NQ_EIO, "a.json", 0, "gone");
    assert_string_equal(e.where, "a.json");
    char big[1000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    nq_err_set(&e, NQ_EINVAL, big, "%s", big);
    assert_int_equal(strlen(e.where), NQ_ERR_WHERE_MAX - 1);
    assert_int_equal(strlen(e.msg), NQ_ERR_MSG_MAX - 1);
}

static void test_err_format(void **state)
{
    (void)state;
    nq_err e;
    char buf[64];
    nq_err_set(&e, NQ_EINVAL, "/a/0", "expected a number");
    assert_string_equal(nq_err_format(&e, buf, sizeof buf), "/a/0: expected a number");
    nq_err_set(&e, NQ_EINVAL, "", "plain");
    assert_string_equal(nq_err_format(&e, buf, sizeof buf), "plain");
    nq_err_set(&e, NQ_EINVAL, "/a", "0123456789");
    assert_string_equal(nq_err_format(&e, buf, 6), "/a: 0");
    assert_string_equal(nq_code_name(NQ_EINVAL), "invalid");
    assert_string_equal(nq_code_name(NQ_ELIMIT), "limit");
    assert_string_equal(nq_code_name(12345), "unknown");
}

/* ---- rng --------------------------------------------------------------- */

static void test_rng_seed_deterministic(void **state)
{
    (void)state;
    nq_rng a, b, c;
    nq_rng_seed(&a, 42);
    nq_rng_seed(&b, 42);
    nq_rng_seed(&c, 43);
    int differ = 0;
    for (int i = 0; i < 100; i++) {
        uint64_t x = nq_rng_u64(&a);
        assert_true(x == nq_rng_u64(&b));
        differ += x != nq_rng_u64(&c);
    }
    assert_true(differ > 90);
    nq_rng_seed(&a, 0); /* seed 0 must still give a working generator */
    assert_true(nq_rng_u64(&a) != 0 || nq_rng_u64(&a) != 0);
}

static void test_rng_jump_streams(void **state)
{
    (void)state;
    nq_rng base, jumped, s2, manual;
    nq_rng_seed(&base, 7);
    jumped = base;
    nq_rng_jump(&jumped);
    int same = 0;
    for (int i = 0; i < 64; i++)
        same += nq_rng_u64(&base) == nq_rng_u64(&jumped);
    assert_int_equal(same, 0);
    nq_rng_stream(&s2, 7, 2);
    nq_rng_seed(&manual, 7);
    nq_rng_jump(&manual);
    nq_rng_jump(&manual);
    assert_memory_equal(s2.s, manual.s, sizeof s2.s);
}

static void test_rng_below(void **state)
{
    (void)state;
    enum { BINS = 10, DRAWS = 100000 };
    nq_rng r;
    nq_rng_seed(&r, 2024);
    long count[BINS] = {0};
    for (int i = 0; i < DRAWS; i++) {
        uint64_t x = nq_rng_below(&r, BINS);
        assert_true(x < BINS);
        count[x]++;
    }
    double chi2 = 0, expect = (double)DRAWS / BINS;
    for (int i = 0; i < BINS; i++)
        chi2 += (count[i] - expect) * (count[i] - expect) / expect;
    /* 9 degrees of freedom: P(chi2 > 27.88) = 0.001 for a uniform source. */
    assert_true(chi2 < 27.88);
    for (int i = 0; i < 1000; i++) {
        assert_int_equal(nq_rng_below(&r, 1), 0);
        assert_true(nq_rng_below(&r, (1ULL << 63) + 3) < (1ULL << 63) + 3);
        double d = nq_rng_double(&r);
        assert_true(d >= 0.0 && d < 1.0);
    }
}

/* ---- arena ------------------------------------------------------------- */

static void test_arena_cap(void **state)
{
    (void)state;
    nq_arena a;
    nq_arena_init(&a, 1024, 4096);
    int got = 0;
    while (nq_arena_alloc(&a, 100))
        got++;
    assert_true(got >= 20 && got <= 40);
    assert_true(a.reserved <= 4096);
    assert_null(nq_arena_alloc(&a, 5000));
    nq_arena_free(&a);
    assert_int_equal(a.reserved, 0);
    assert_non_null(nq_arena_alloc(&a, 100)); /* reusable after free */
    nq_arena_free(&a);
    nq_arena_free(NULL);
}

static void test_arena_alignment_and_big(void **state)
{
    (void)state;
    nq_arena a;
    nq_arena_init(&a, 256, 0);
    static const size_t sizes[] = {1, 3, 17, 0, 255, 1000, 7, 64 * 1024};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        unsigned char *p = nq_arena_alloc(&a, sizes[i]);
        assert_non_null(p);
        assert_int_equal((uintptr_t)p % 16, 0);
        memset(p, 0xab, sizes[i]); /* sanitizers catch an undersized block */
    }
    assert_true(a.used >= 1 + 3 + 17 + 255 + 1000 + 7 + 64 * 1024);
    char *s = nq_arena_strdup(&a, "hello");
    assert_string_equal(s, "hello");
    assert_string_equal(nq_arena_strndup(&a, "hello", 3), "hel");
    nq_arena_free(&a);
}

static void test_arena_calloc(void **state)
{
    (void)state;
    nq_arena a;
    nq_arena_init(&a, 0, 0);
    assert_null(nq_arena_calloc(&a, SIZE_MAX / 2, 3));
    assert_null(nq_arena_calloc(&a, SIZE_MAX, SIZE_MAX));
    assert_null(nq_arena_alloc(&a, SIZE_MAX - 8));
    int *v = nq_arena_calloc(&a, 1000, sizeof *v);
    assert_non_null(v);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(v[i], 0);
    nq_arena_free(&a);
}

/* ---- buf --------------------------------------------------------------- */

static void test_buf_max(void **state)
{
    (void)state;
    nq_buf b;
    nq_buf_init(&b, 8);
    assert_int_equal(nq_buf_puts(&b, "12345678"), NQ_OK);
    assert_int_equal(nq_buf_putc(&b, '9'), NQ_ELIMIT);
    assert_int_equal(nq_buf_append(&b, "abc", 3), NQ_ELIMIT);
    assert_int_equal(nq_buf_printf(&b, "%d", 1), NQ_ELIMIT);
    assert_int_equal(nq_buf_reserve(&b, 1), NQ_ELIMIT);
    assert_int_equal(b.len, 8);
    assert_string_equal(b.data, "12345678");
    nq_buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_string_equal(b.data, "");
    assert_int_equal(nq_buf_printf(&b, "%s-%d", "ab", 123456), NQ_ELIMIT);
    assert_string_equal(b.data, "");
    assert_int_equal(nq_buf_printf(&b, "%s-%d", "ab", 1234), NQ_OK);
    assert_string_equal(b.data, "ab-1234");
    nq_buf_free(&b);
    nq_buf_free(NULL);
}

static void test_buf_printf_growth(void **state)
{
    (void)state;
    nq_buf b;
    nq_buf_init(&b, 1 << 20);
    for (int i = 0; i < 2000; i++)
        assert_int_equal(nq_buf_printf(&b, "%04d,", i), NQ_OK);
    assert_int_equal(b.len, 2000 * 5);
    assert_int_equal(strlen(b.data), b.len);
    assert_memory_equal(b.data, "0000,0001,", 10);
    assert_memory_equal(b.data + b.len - 5, "1999,", 5);
    assert_int_equal(nq_buf_append(&b, "", 0), NQ_OK);
    assert_int_equal(b.len, 2000 * 5);
    nq_buf_free(&b);
}

static void test_buf_steal(void **state)
{
    (void)state;
    nq_buf b;
    size_t len = 99;
    nq_buf_init(&b, 0);
    char *s = nq_buf_steal(&b, &len); /* never NULL, even before any append */
    assert_non_null(s);
    assert_string_equal(s, "");
    assert_int_equal(len, 0);
    free(s);
    assert_int_equal(nq_buf_puts(&b, "payload"), NQ_OK);
    s = nq_buf_steal(&b, &len);
    assert_string_equal(s, "payload");
    assert_int_equal(len, 7);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    free(s);
    assert_int_equal(nq_buf_puts(&b, "again"), NQ_OK); /* usable after steal */
    assert_string_equal(b.data, "again");
    nq_buf_free(&b);
}

/* ---- json -------------------------------------------------------------- */

static json_t *parse_ok(const char *text)
{
    json_t *root = NULL;
    nq_err e;
    nq_err_clear(&e);
    int rc = nq_json_parse(text, strlen(text), "t", NULL, &root, &e);
    if (rc)
        fail_msg("parse failed: %s: %s", e.where, e.msg);
    return root;
}

static void test_json_parse_ok(void **state)
{
    (void)state;
    json_t *root = parse_ok("{\"a\": [1, 2.5, {\"b\": true}], \"big\": 9007199254740993}");
    assert_non_null(root);
    /* Exact integers: 2^53 + 1 survives, it is not rounded through a double. */
    assert_true(json_integer_value(json_object_get(root, "big")) == 9007199254740993LL);
    json_decref(root);
    nq_json_limits l;
    nq_json_limits_default(&l);
    assert_int_equal(l.max_bytes, 64u * 1024 * 1024);
    assert_int_equal(l.max_depth, 64);
}

static void test_json_limits(void **state)
{
    (void)state;
    nq_json_limits l = {.max_bytes = 10, .max_depth = 3};
    json_t *root = NULL;
    nq_err e;
    const char *long_doc = "[1,2,3,4,5,6]";
    assert_int_equal(nq_json_parse(long_doc, strlen(long_doc), "body", &l, &root, &e), NQ_ELIMIT);
    assert_string_equal(e.where, "body");
    assert_non_null(strstr(e.msg, "10"));
    assert_null(root);
    l.max_bytes = 1000;
    assert_int_equal(nq_json_parse("[[[1]]]", 7, "body", &l, &root, &e), NQ_OK);
    json_decref(root);
    const char *deep = "{\"a\":[1,{\"x~/\":[[2]]}]}";
    assert_int_equal(nq_json_parse(deep, strlen(deep), "body", &l, &root, &e), NQ_ELIMIT);
    assert_string_equal(e.where, "/a/1/x~0~1"); /* the fourth level */
    assert_non_null(strstr(e.msg, "3"));
    assert_null(root);
    /* Far past jansson's own nesting limit: still a clean error. */
    nq_buf b;
    nq_buf_init(&b, 0);
    for (int i = 0; i < 5000; i++)
        nq_buf_putc(&b, '[');
    for (int i = 0; i < 5000; i++)
        nq_buf_putc(&b, ']');
    int rc = nq_json_parse(b.data, b.len, "body", NULL, &root, &e);
    assert_true(rc == NQ_EPARSE || rc == NQ_ELIMIT);
    nq_buf_free(&b);
}

static void test_json_syntax_error(void **state)
{
    (void)state;
    json_t *root = NULL;
    nq_err e;
    assert_int_equal(nq_json_parse("{\"a\" 1}", 7, "src", NULL, &root, &e), NQ_EPARSE);
    assert_int_equal(e.code, NQ_EPARSE);
    assert_string_equal(e.where, "src:1:6");
    assert_true(e.msg[0] != '\0');
    const char *two_lines = "{\n  \"a\": tru\n}";
    assert_int_equal(nq_json_parse(two_lines, strlen(two_lines), "f.json", NULL, &root, &e),
                     NQ_EPARSE);
    assert_int_equal(strncmp(e.where, "f.json:2:", 9), 0);
    assert_int_equal(nq_json_parse("", 0, "empty", NULL, &root, &e), NQ_EPARSE);
    assert_null(root);
}

static void test_json_duplicates(void **state)
{
    (void)state;
    json_t *root = NULL;
    nq_err e;
    const char *doc = "{\"a\": 1, \"b\": {\"c\": 1, \"c\": 2}}";
    assert_int_equal(nq_json_parse(doc, strlen(doc), "src", NULL, &root, &e), NQ_EPARSE);
    assert_non_null(strstr(e.msg, "duplicate"));
    assert_null(root);
}

/* ---- json: the quick parser against jansson ---------------------------- */

/* What an input should come to: jansson refuses it (and the quick parser
 * gives up), or jansson takes it and the quick parser builds the same tree
 * or gives up and leaves it to jansson. */
enum { FAST_BAD, FAST_SAME, FAST_SLOW };

typedef struct fast_case {
    const char *text;
    size_t len; /* sizeof - 1: NUL bytes count */
    int want;
} fast_case;

#define FC(text, want) {text, sizeof text - 1, want}

static const fast_case fast_cases[] = {
    /* Ordinary documents: all the quick parser's. */
    FC("{}", FAST_SAME),
    FC("[]", FAST_SAME),
    FC(" \t\r\n{ \"a\" : [ 1 , 2.5 , true , false , null ] } \n\t\r ", FAST_SAME),
    FC("{\"b\": 1, \"a\": 2, \"c\": {\"z\": [], \"y\": {}}}", FAST_SAME), /* member order */
    FC("[\"\", {\"\": \"\"}]", FAST_SAME),
    FC("[0, -0, 1, -1, 9007199254740993, 123456789012345678]", FAST_SAME),
    FC("[9223372036854775807, -9223372036854775808, 1000000000000000000]", FAST_SAME),
    FC("[1.0, -0.0, 0.5, 1e5, 1E+5, 1e-5, 2.5E-3, 0e0, -0.0e-0, 1.7976931348623157e308]",
       FAST_SAME),
    FC("[0.1, 0.30000000000000004, 3.141592653589793, 2.2250738585072011e-308, 4.9e-324, 1e-400]",
       FAST_SAME),
    FC("[\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t\", \"\\u0041\\u00e9\\u20AC\\uFFFF\"]", FAST_SAME),
    FC("{\"\\u00e9t\\u00e9\": 1, \"\\ud83d\\ude00\": \"\\uD83D\\uDE00!\"}", FAST_SAME),
    FC("[\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xf4\x8f\xbf\xbf \xef\xbf\xbe \x7f\"]",
       FAST_SAME),
    FC("{\"a\": 1, \"A\": 2, \"a \": 3, \"\\u0061b\": 4, \"ab \": 5}", FAST_SAME),
    FC("{\"k\": {\"k\": {\"k\": 1}}}", FAST_SAME), /* the same key at different levels */
    /* Not JSON, or not for jansson without flags: refused. */
    FC("", FAST_BAD),
    FC("   ", FAST_BAD),
    FC("1", FAST_BAD), /* a scalar at the top needs JSON_DECODE_ANY */
    FC("\"a\"", FAST_BAD),
    FC("true", FAST_BAD),
    FC("null", FAST_BAD),
    FC("[1] x", FAST_BAD),
    FC("[1] [2]", FAST_BAD),
    FC("[1]\0", FAST_BAD),
    FC("[1,]", FAST_BAD),
    FC("[,1]", FAST_BAD),
    FC("{\"a\":1,}", FAST_BAD),
    FC("{\"a\" 1}", FAST_BAD),
    FC("{\"a\":}", FAST_BAD),
    FC("{1:2}", FAST_BAD),
    FC("{'a':1}", FAST_BAD),
    FC("[1 2]", FAST_BAD),
    FC("[", FAST_BAD),
    FC("[1", FAST_BAD),
    FC("{\"a\":1", FAST_BAD),
    FC("[\"abc", FAST_BAD),
    FC("[truex]", FAST_BAD),
    FC("[tru]", FAST_BAD),
    FC("[True]", FAST_BAD),
    FC("[nul]", FAST_BAD),
    FC("[NaN]", FAST_BAD),
    FC("[Infinity]", FAST_BAD),
    FC("[01]", FAST_BAD),
    FC("[-01]", FAST_BAD),
    FC("[00]", FAST_BAD),
    FC("[+1]", FAST_BAD),
    FC("[-]", FAST_BAD),
    FC("[1.]", FAST_BAD),
    FC("[.5]", FAST_BAD),
    FC("[1.e5]", FAST_BAD),
    FC("[1e]", FAST_BAD),
    FC("[1e+]", FAST_BAD),
    FC("[0x10]", FAST_BAD),
    FC("[1.5.2]", FAST_BAD),
    FC("[1-2]", FAST_BAD),
    FC("[9223372036854775808]", FAST_BAD),   /* too big integer */
    FC("[-9223372036854775809]", FAST_BAD),  /* too big negative integer */
    FC("[100000000000000000000]", FAST_BAD), /* 21 digits */
    FC("[1e400]", FAST_BAD),                 /* real number overflow */
    FC("[-1e400]", FAST_BAD),
    FC("{\"a\": 1, \"a\": 2}", FAST_BAD),
    FC("{\"a\": 1, \"b\": {}, \"\\u0061\": 2}", FAST_BAD), /* the same key, escaped */
    FC("[\"\\u0000\"]", FAST_BAD),
    FC("{\"a\\u0000\": 1}", FAST_BAD),
    FC("[\"\\ud83d\"]", FAST_BAD),         /* a lone high surrogate */
    FC("[\"\\ude00\"]", FAST_BAD),         /* a lone low surrogate */
    FC("[\"\\ud83d\\ud83d\"]", FAST_BAD),  /* high, high */
    FC("[\"\\ud83dx\\ude00\"]", FAST_BAD), /* split */
    FC("[\"\\u12\"]", FAST_BAD),
    FC("[\"\\u12g4\"]", FAST_BAD),
    FC("[\"\\x41\"]", FAST_BAD),
    FC("[\"\\U0041\"]", FAST_BAD),
    FC("[\"\\\"]", FAST_BAD),
    FC("[\"a\nb\"]", FAST_BAD),
    FC("[\"a\tb\"]", FAST_BAD),
    FC("[\"a\0b\"]", FAST_BAD),
    FC("[\"\x80\"]", FAST_BAD),             /* a lone continuation byte */
    FC("[\"\xc0\x80\"]", FAST_BAD),         /* overlong NUL */
    FC("[\"\xc1\xbf\"]", FAST_BAD),         /* overlong */
    FC("[\"\xe0\x80\xaf\"]", FAST_BAD),     /* overlong */
    FC("[\"\xed\xa0\x80\"]", FAST_BAD),     /* an encoded surrogate */
    FC("[\"\xf0\x80\x80\xaf\"]", FAST_BAD), /* overlong */
    FC("[\"\xf4\x90\x80\x80\"]", FAST_BAD), /* past U+10FFFF */
    FC("[\"\xf5\x80\x80\x80\"]", FAST_BAD),
    FC("[\"\xff\"]", FAST_BAD),
    FC("[\"\xc3\"]", FAST_BAD), /* cut short */
    FC("[\"\xe2\x82\"]", FAST_BAD),
    FC("[\xc3\xa9]", FAST_BAD), /* outside a string */
    FC("\xef\xbb\xbf[]", FAST_BAD), /* a byte order mark */
    FC("[\x0c]", FAST_BAD),         /* form feed is not whitespace */
    FC("[\v1]", FAST_BAD),
    FC("[1\0 2]", FAST_BAD),
    /* Valid for jansson but left to it. */
    FC("[1\0]", FAST_SLOW),    /* jansson drops a NUL right after a number */
    FC("[true\0]", FAST_SLOW), /* or after a word */
    FC("[0.100000000000000005551115123125782702118158340454101562500000000000000000000000000"
       "00000000000000000000000000000000000000000000000]",
       FAST_SLOW), /* longer than the quick parser copies */
};

/* Check one case: fast and jansson agree, and nq_json_parse gives jansson's
 * tree or jansson's error. */
static void check_fast_case(const fast_case *c)
{
    json_error_t je;
    json_t *ref = json_loadb(c->text, c->len, JSON_REJECT_DUPLICATES, &je);
    json_t *fast = nq__json_fast_parse(c->text, c->len, 64);
    if (c->want == FAST_BAD && ref)
        fail_msg("jansson takes '%.*s'", (int)c->len, c->text);
    if (c->want != FAST_BAD && !ref)
        fail_msg("jansson refuses '%.*s': %s", (int)c->len, c->text, je.text);
    if ((c->want == FAST_SAME) != (fast != NULL))
        fail_msg("quick parser %s '%.*s'", fast ? "took" : "gave up on", (int)c->len, c->text);
    if (fast && !nq__json_same(fast, ref))
        fail_msg("quick parser's tree differs for '%.*s'", (int)c->len, c->text);
    json_t *root = NULL;
    nq_err e;
    int rc = nq_json_parse(c->text, c->len, "t", NULL, &root, &e);
    assert_int_equal(rc, ref ? NQ_OK : NQ_EPARSE);
    if (ref && !nq__json_same(root, ref))
        fail_msg("nq_json_parse's tree differs for '%.*s'", (int)c->len, c->text);
    if (!ref) {
        char where[NQ_ERR_WHERE_MAX];
        snprintf(where, sizeof where, "t:%d:%d", je.line, je.column);
        assert_string_equal(e.where, where);
        assert_string_equal(e.msg, je.text);
    }
    json_decref(root);
    json_decref(fast);
    json_decref(ref);
}

static void test_json_fast_cases(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof fast_cases / sizeof fast_cases[0]; i++)
        check_fast_case(&fast_cases[i]);
}

/* Types are kept apart: -0 and 1 are integers, 1.0 and 1e0 reals. */
static void test_json_fast_types(void **state)
{
    (void)state;
    const char *doc = "[-0, 1, 1.0, 1e0, -0.0, 9007199254740993]";
    json_t *v = nq__json_fast_parse(doc, strlen(doc), 64);
    assert_non_null(v);
    assert_true(json_is_integer(json_array_get(v, 0)));
    assert_int_equal(json_integer_value(json_array_get(v, 0)), 0);
    assert_true(json_is_integer(json_array_get(v, 1)));
    assert_true(json_is_real(json_array_get(v, 2)));
    assert_true(json_is_real(json_array_get(v, 3)));
    assert_true(json_is_real(json_array_get(v, 4)));
    assert_true(signbit(json_real_value(json_array_get(v, 4))));
    assert_true(json_integer_value(json_array_get(v, 5)) == 9007199254740993LL);
    /* The comparison itself tells these apart, where json_equal may not. */
    json_t *a = json_real(0.0), *b = json_real(-0.0), *i = json_integer(0);
    assert_false(nq__json_same(a, b));
    assert_false(nq__json_same(a, i));
    json_decref(a);
    json_decref(b);
    json_decref(i);
    json_t *x = json_pack("{s:i,s:i}", "a", 1, "b", 2), *y = json_pack("{s:i,s:i}", "b", 2, "a", 1);
    assert_true(json_equal(x, y));
    assert_false(nq__json_same(x, y)); /* the order differs */
    json_decref(x);
    json_decref(y);
    json_decref(v);
}

/* A document nested level deep: arrays, with an object every third level. */
static void nest(nq_buf *b, int levels)
{
    for (int i = 0; i < levels; i++)
        nq_buf_puts(b, i % 3 == 2 ? "{\"k\":" : "[");
    nq_buf_puts(b, "1");
    for (int i = levels - 1; i >= 0; i--)
        nq_buf_putc(b, i % 3 == 2 ? '}' : ']');
}

/* The quick parser stops at the caller's depth and at its own cap; past
 * either, jansson and the walk answer as they always did. */
static void test_json_fast_depth(void **state)
{
    (void)state;
    nq_buf b;
    nq_buf_init(&b, 0);
    nest(&b, 64);
    json_t *v = nq__json_fast_parse(b.data, b.len, 64);
    assert_non_null(v);
    json_decref(v);
    assert_null(nq__json_fast_parse(b.data, b.len, 63));
    nq_json_limits l = {.max_bytes = 1 << 20, .max_depth = 63};
    nq_err e;
    assert_int_equal(nq_json_parse(b.data, b.len, "body", &l, &v, &e), NQ_ELIMIT);
    assert_null(v);
    assert_non_null(strstr(e.msg, "deeper than 63"));
    nq_buf_free(&b);

    nq_buf_init(&b, 0);
    nest(&b, NQ__JSON_FAST_MAX_DEPTH + 1);
    assert_null(nq__json_fast_parse(b.data, b.len, 100000));
    l.max_depth = 100000; /* jansson's own limit (2048) is then the one */
    assert_int_equal(nq_json_parse(b.data, b.len, "body", &l, &v, &e), NQ_OK);
    json_t *ref = json_loadb(b.data, b.len, JSON_REJECT_DUPLICATES, NULL);
    assert_true(nq__json_same(v, ref));
    json_decref(ref);
    json_decref(v);
    nq_buf_free(&b);

    l.max_depth = 0; /* even the root is too deep */
    assert_null(nq__json_fast_parse("[]", 2, 0));
    assert_int_equal(nq_json_parse("[]", 2, "body", &l, &v, &e), NQ_ELIMIT);
}

/* Errors still come from jansson, word for word and at the same place. */
static void test_json_fast_errors(void **state)
{
    (void)state;
    json_t *root = NULL;
    nq_err e;
    const char *doc = "{\"a\": [1, 2,]}";
    assert_int_equal(nq_json_parse(doc, strlen(doc), "src", NULL, &root, &e), NQ_EPARSE);
    assert_string_equal(e.where, "src:1:13");
    assert_string_equal(e.msg, "unexpected token near ']'");
    doc = "{\"a\": 1,\n \"a\": 2}";
    assert_int_equal(nq_json_parse(doc, strlen(doc), "src", NULL, &root, &e), NQ_EPARSE);
    assert_string_equal(e.where, "src:2:4");
    assert_string_equal(e.msg, "duplicate object key near '\"a\"'");
    doc = "[123456789012345678901]";
    assert_int_equal(nq_json_parse(doc, strlen(doc), "src", NULL, &root, &e), NQ_EPARSE);
    assert_string_equal(e.where, "src:1:22");
    assert_string_equal(e.msg, "too big integer"); /* no context past 20 bytes */
    doc = "[\"\\ud800\"]";
    assert_int_equal(nq_json_parse(doc, strlen(doc), "src", NULL, &root, &e), NQ_EPARSE);
    assert_string_equal(e.msg, "invalid Unicode '\\uD800' near '\"\\ud800\"'");
    doc = "[\"\\u0000\"]";
    assert_int_equal(nq_json_parse(doc, strlen(doc), "src", NULL, &root, &e), NQ_EPARSE);
    assert_string_equal(e.msg, "\\u0000 is not allowed without JSON_ALLOW_NUL near '\"\\u0000\"'");
    assert_int_equal(nq_json_parse("7", 1, "src", NULL, &root, &e), NQ_EPARSE);
    assert_string_equal(e.where, "src:1:1");
    assert_string_equal(e.msg, "'[' or '{' expected near '7'");
    assert_null(root);
}

static void test_json_pointers(void **state)
{
    (void)state;
    char p[NQ_JSON_PTR_MAX];
    nq_json_ptr_key(p, "", "a/b~c");
    assert_string_equal(p, "/a~1b~0c");
    nq_json_ptr_key(p, "/x", "");
    assert_string_equal(p, "/x/");
    nq_json_ptr_index(p, "/x", 12);
    assert_string_equal(p, "/x/12");
    nq_json_ptr_key(p, p, "k"); /* parent may be the output */
    assert_string_equal(p, "/x/12/k");
    char key[600];
    memset(key, '/', sizeof key - 1);
    key[sizeof key - 1] = '\0';
    nq_json_ptr_key(p, "", key); /* truncated, but never half an escape */
    assert_true(strlen(p) < NQ_JSON_PTR_MAX);
    assert_int_equal(strlen(p) % 2, 1);
    char utf8[400] = "";
    for (int i = 0; i < 130; i++)
        strcat(utf8, "\xc3\xa9"); /* é */
    nq_json_ptr_key(p, "", utf8);
    assert_int_equal(strlen(p) % 2, 1); /* "/" then whole two-byte characters */
}

static void test_json_type_names(void **state)
{
    (void)state;
    json_t *v = json_pack("{s:i,s:f,s:s,s:b,s:n,s:[],s:{}}", "i", 1, "f", 1.5, "s", "x", "b", 1,
                          "n", "a", "o");
    assert_string_equal(nq_json_type_name(json_object_get(v, "i")), "number");
    assert_string_equal(nq_json_type_name(json_object_get(v, "f")), "number");
    assert_string_equal(nq_json_type_name(json_object_get(v, "s")), "string");
    assert_string_equal(nq_json_type_name(json_object_get(v, "b")), "boolean");
    assert_string_equal(nq_json_type_name(json_object_get(v, "n")), "null");
    assert_string_equal(nq_json_type_name(json_object_get(v, "a")), "array");
    assert_string_equal(nq_json_type_name(v), "object");
    json_decref(v);
}

static void test_json_get_number(void **state)
{
    (void)state;
    json_t *root = parse_ok("{\"m\": {\"x\": 2.5, \"i\": 3, \"s\": \"no\", \"n\": null}}");
    json_t *m = json_object_get(root, "m");
    nq_err e;
    double d = -1;
    assert_int_equal(nq_json_get_number(m, "/m", "x", 1, &d, &e), NQ_OK);
    assert_true(d == 2.5);
    assert_int_equal(nq_json_get_number(m, "/m", "i", 1, &d, &e), NQ_OK);
    assert_true(d == 3.0);
    assert_int_equal(nq_json_get_number(m, "/m", "s", 1, &d, &e), NQ_EINVAL);
    assert_string_equal(e.where, "/m/s");
    assert_string_equal(e.msg, "expected a number, got a string");
    assert_int_equal(nq_json_get_number(m, "/m", "n", 0, &d, &e), NQ_EINVAL);
    assert_string_equal(e.msg, "expected a number, got null");
    d = 7;
    assert_int_equal(nq_json_get_number(m, "/m", "absent", 0, &d, &e), NQ_OK);
    assert_true(d == 7); /* optional and missing: untouched */
    assert_int_equal(nq_json_get_number(m, "/m", "absent", 1, &d, &e), NQ_EINVAL);
    assert_string_equal(e.where, "/m/absent");
    assert_non_null(strstr(e.msg, "missing"));
    assert_int_equal(nq_json_get_number(json_object_get(m, "s"), "/m/s", "k", 1, &d, &e),
                     NQ_EINVAL);
    assert_string_equal(e.where, "/m/s");
    assert_string_equal(e.msg, "expected an object, got a string");
    assert_int_equal(nq_json_as_number(json_object_get(m, "x"), "/m/x", &d, &e), NQ_OK);
    assert_int_equal(nq_json_as_number(json_object_get(m, "n"), "/v/0", &d, &e), NQ_EINVAL);
    assert_string_equal(e.where, "/v/0");
    json_decref(root);
}

static void test_json_get_int(void **state)
{
    (void)state;
    json_t *root = parse_ok("{\"a\": 5, \"b\": 1.5, \"c\": 3.0, \"d\": 100, \"e\": \"5\","
                            " \"f\": -9223372036854775808, \"g\": 1e300}");
    nq_err e;
    int64_t x = 0;
    assert_int_equal(nq_json_get_int(root, "", "a", 1, 0, 10, &x, &e), NQ_OK);
    assert_int_equal(x, 5);
    assert_int_equal(nq_json_get_int(root, "", "b", 1, 0, 10, &x, &e), NQ_EINVAL);
    assert_string_equal(e.where, "/b");
    assert_string_equal(e.msg, "expected an integer, got 1.5");
    assert_int_equal(nq_json_get_int(root, "", "c", 1, 0, 10, &x, &e), NQ_OK);
    assert_int_equal(x, 3);
    assert_int_equal(nq_json_get_int(root, "", "d", 1, -10, 10, &x, &e), NQ_ERANGE);
    assert_string_equal(e.where, "/d");
    assert_string_equal(e.msg, "must be between -10 and 10, got 100");
    assert_int_equal(nq_json_get_int(root, "", "e", 1, 0, 10, &x, &e), NQ_EINVAL);
    assert_string_equal(e.msg, "expected an integer, got a string");
    assert_int_equal(nq_json_get_int(root, "", "f", 1, INT64_MIN, INT64_MAX, &x, &e), NQ_OK);
    assert_true(x == INT64_MIN);
    assert_int_equal(nq_json_get_int(root, "", "g", 1, 0, 10, &x, &e), NQ_ERANGE);
    assert_non_null(strstr(e.msg, "between 0 and 10"));
    json_decref(root);
}

static void test_json_get_bool_string_typed(void **state)
{
    (void)state;
    json_t *root = parse_ok("{\"t\": true, \"f\": false, \"n\": 0, \"s\": \"hello\","
                            " \"o\": {}, \"l\": [1]}");
    nq_err e;
    int flag = -1;
    assert_int_equal(nq_json_get_bool(root, "", "t", 1, &flag, &e), NQ_OK);
    assert_int_equal(flag, 1);
    assert_int_equal(nq_json_get_bool(root, "", "f", 1, &flag, &e), NQ_OK);
    assert_int_equal(flag, 0);
    assert_int_equal(nq_json_get_bool(root, "", "n", 1, &flag, &e), NQ_EINVAL);
    assert_string_equal(e.where, "/n");
    assert_string_equal(e.msg, "expected a boolean, got a number");
    const char *s = NULL;
    assert_int_equal(nq_json_get_string(root, "", "s", 1, 5, &s, &e), NQ_OK);
    assert_string_equal(s, "hello");
    assert_int_equal(nq_json_get_string(root, "", "s", 1, 4, &s, &e), NQ_ELIMIT);
    assert_string_equal(e.where, "/s");
    assert_int_equal(nq_json_get_string(root, "", "o", 1, 4, &s, &e), NQ_EINVAL);
    assert_string_equal(e.msg, "expected a string, got an object");
    json_t *v = NULL;
    assert_int_equal(nq_json_get_typed(root, "", "o", 1, JSON_OBJECT, &v, &e), NQ_OK);
    assert_true(v == json_object_get(root, "o"));
    assert_int_equal(nq_json_get_typed(root, "", "l", 1, JSON_OBJECT, &v, &e), NQ_EINVAL);
    assert_string_equal(e.where, "/l");
    assert_string_equal(e.msg, "expected an object, got an array");
    assert_int_equal(nq_json_get_typed(root, "", "o", 1, JSON_ARRAY, &v, &e), NQ_EINVAL);
    assert_string_equal(e.msg, "expected an array, got an object");
    json_decref(root);
}

static void test_json_check_keys(void **state)
{
    (void)state;
    json_t *root = parse_ok("{\"opts\": {\"seed\": 1, \"a/b~c\": 2}}");
    static const char *const allowed[] = {"seed", "reads", NULL};
    nq_err e;
    json_t *opts = json_object_get(root, "opts");
    assert_int_equal(nq_json_check_keys(opts, "/opts", allowed, &e), NQ_EINVAL);
    assert_string_equal(e.where, "/opts/a~1b~0c");
    assert_string_equal(e.msg, "unknown member");
    json_object_del(opts, "a/b~c");
    assert_int_equal(nq_json_check_keys(opts, "/opts", allowed, &e), NQ_OK);
    json_decref(root);
}

/* ---- log --------------------------------------------------------------- */

/* Check ts looks like 2026-11-25T10:00:00.123Z. */
static void assert_timestamp(const char *ts)
{
    static const char shape[] = "dddd-dd-ddTdd:dd:dd.dddZ";
    assert_int_equal(strlen(ts), strlen(shape));
    for (size_t i = 0; shape[i]; i++) {
        if (shape[i] == 'd')
            assert_true(ts[i] >= '0' && ts[i] <= '9');
        else
            assert_int_equal(ts[i], shape[i]);
    }
}

static json_t *log_line(const char *text, size_t *pos)
{
    const char *nl = strchr(text + *pos, '\n');
    assert_non_null(nl);
    json_error_t je;
    json_t *v = json_loadb(text + *pos, (size_t)(nl - text - *pos), JSON_REJECT_DUPLICATES, &je);
    if (!v)
        fail_msg("log line is not JSON: %s", je.text);
    *pos = (size_t)(nl - text) + 1;
    return v;
}

static const char *field(json_t *v, const char *key)
{
    return json_string_value(json_object_get(v, key));
}

static void test_log_lines(void **state)
{
    (void)state;
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);
    assert_non_null(f);
    nq_log lg;
    nq_log_init(&lg, f, NQ_LOG_INFO);
    nq_log_write(&lg, NQ_LOG_DEBUG, "dropped", NULL);
    nq_log_write(&lg, NQ_LOG_INFO, "say \"hi\"\\\n", "path", "/a\tb", "ctl", "\x01\x1f",
                 "utf8", "caf\xc3\xa9", "bad", "x\xff", "none", NULL, NULL);
    nq_log_write(&lg, NQ_LOG_ERROR, "boom", NULL);
    lg.level = NQ_LOG_OFF;
    nq_log_write(&lg, NQ_LOG_ERROR, "dropped", NULL);
    nq_log_destroy(&lg);
    fclose(f);

    size_t pos = 0;
    json_t *v = log_line(text, &pos);
    assert_timestamp(field(v, "ts"));
    assert_string_equal(field(v, "level"), "info");
    assert_string_equal(field(v, "msg"), "say \"hi\"\\\n");
    assert_string_equal(field(v, "path"), "/a\tb");
    assert_string_equal(field(v, "ctl"), "\x01\x1f");
    assert_string_equal(field(v, "utf8"), "caf\xc3\xa9");
    assert_string_equal(field(v, "bad"), "x\xef\xbf\xbd"); /* U+FFFD */
    assert_true(json_is_null(json_object_get(v, "none")));
    json_decref(v);
    v = log_line(text, &pos);
    assert_string_equal(field(v, "level"), "error");
    assert_string_equal(field(v, "msg"), "boom");
    json_decref(v);
    assert_int_equal(pos, strlen(text)); /* nothing else was written */
    free(text);
}

static void *log_many(void *arg)
{
    for (int i = 0; i < 200; i++)
        nq_log_write(arg, NQ_LOG_WARN, "from a thread", "pad",
                     "0123456789012345678901234567890123456789", NULL);
    return NULL;
}

static void test_log_threads(void **state)
{
    (void)state;
    enum { THREADS = 4 };
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);
    nq_log lg;
    nq_log_init(&lg, f, NQ_LOG_DEBUG);
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, log_many, &lg), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    nq_log_destroy(&lg);
    fclose(f);
    size_t pos = 0;
    for (int i = 0; i < THREADS * 200; i++) { /* every line whole */
        json_t *v = log_line(text, &pos);
        assert_string_equal(field(v, "level"), "warn");
        json_decref(v);
    }
    assert_int_equal(pos, strlen(text));
    free(text);
}

static void test_log_level_parse(void **state)
{
    (void)state;
    assert_int_equal(nq_log_level_parse("debug"), NQ_LOG_DEBUG);
    assert_int_equal(nq_log_level_parse("warn"), NQ_LOG_WARN);
    assert_int_equal(nq_log_level_parse("off"), NQ_LOG_OFF);
    assert_int_equal(nq_log_level_parse("loud"), -1);
    assert_int_equal(nq_log_level_parse(NULL), -1);
}

static void test_json_escape(void **state)
{
    (void)state;
    char out[64];
    assert_int_equal(nq_json_escape(out, sizeof out, "a\"b\\c\n\x7f"), 15);
    assert_string_equal(out, "a\\\"b\\\\c\\n\\u007f");
    /* "ab" + a 3-byte character does not fit in 5 bytes: drop it whole. */
    assert_int_equal(nq_json_escape(out, 5, "ab\xe2\x82\xac"), 2);
    assert_string_equal(out, "ab");
    assert_int_equal(nq_json_escape(out, 6, "ab\xe2\x82\xac"), 5);
    assert_string_equal(out, "ab\xe2\x82\xac");
    /* An escape is not cut either. */
    assert_int_equal(nq_json_escape(out, 4, "ab\n"), 2);
    assert_int_equal(nq_json_escape(out, 1, "abc"), 0);
    assert_string_equal(out, "");
    /* Overlong, surrogate and truncated sequences become U+FFFD. */
    nq_json_escape(out, sizeof out, "\xc0\xaf|\xed\xa0\x80|\xe2\x82");
    assert_string_equal(out, "\\ufffd\\ufffd|\\ufffd\\ufffd\\ufffd|\\ufffd\\ufffd");
}

/* ---- clock ------------------------------------------------------------- */

static void test_clock(void **state)
{
    (void)state;
    uint64_t prev = nq_clock_ns();
    for (int i = 0; i < 100000; i++) {
        uint64_t now = nq_clock_ns();
        assert_true(now >= prev);
        prev = now;
    }
    double s = nq_clock_s();
    assert_true(s > 0);
    assert_true(nq_clock_cpu_s() >= 0);
    assert_true(nq_clock_wall_s() > 1.6e9); /* after 2020 */
}

/* Round trips against values date(1) agrees with, and what is refused. */
static void test_rfc3339(void **state)
{
    (void)state;
    char out[32];
    nq_clock_rfc3339(1700000003.25, out);
    assert_string_equal(out, "2023-11-14T22:13:23.250Z");
    double t = 0;
    assert_int_equal(nq_clock_parse_rfc3339("2023-11-14T22:13:23.250Z", &t), 0);
    assert_true(t == 1700000003.25);
    assert_int_equal(nq_clock_parse_rfc3339("2023-11-14T23:13:23+01:00", &t), 0);
    assert_true(t == 1700000003.0);
    assert_int_equal(nq_clock_parse_rfc3339("1970-01-01T00:00:00Z", &t), 0);
    assert_true(t == 0.0);
    assert_int_equal(nq_clock_parse_rfc3339("2024-02-29T12:00:00Z", &t), 0);
    assert_true(t == 1709208000.0);
    assert_int_equal(nq_clock_parse_rfc3339("1969-12-31T23:59:59Z", &t), 0);
    assert_true(t == -1.0);
    const char *bad[] = {"2023-02-29T00:00:00Z", "2023-13-01T00:00:00Z", "2023-11-14T22:13:23",
                         "2023-11-14T22:13:23.Z", "2023-11-14T24:00:00Z", "yesterday",
                         "2023-11-14T22:13:23Zjunk", "", NULL};
    for (int i = 0; bad[i]; i++)
        assert_int_equal(nq_clock_parse_rfc3339(bad[i], &t), -1);
}

/* ---- ids --------------------------------------------------------------- */

static void test_ids(void **state)
{
    (void)state;
    char a[33], b[33], c[33];
    assert_int_equal(nq_random_id(a), NQ_OK);
    assert_int_equal(nq_random_id(b), NQ_OK);
    assert_true(nq_id_valid(a) && nq_id_valid(b));
    assert_string_not_equal(a, b);
    assert_false(nq_id_valid("0123456789abcdef0123456789ABCDEF"));
    assert_false(nq_id_valid("0123456789abcdef0123456789abcde"));
    assert_false(nq_id_valid(NULL));

    /* Time-ordered ids: the first 12 digits are the time in ms, the rest
     * random; one made later sorts later. */
    struct timespec t0, t1;
    clock_gettime(CLOCK_REALTIME, &t0);
    assert_int_equal(nq_time_id(a), NQ_OK);
    clock_gettime(CLOCK_REALTIME, &t1);
    assert_true(nq_id_valid(a));
    char head[13];
    memcpy(head, a, 12);
    head[12] = '\0';
    unsigned long long ms = strtoull(head, NULL, 16);
    unsigned long long lo = (unsigned long long)t0.tv_sec * 1000 + (unsigned)t0.tv_nsec / 1000000;
    unsigned long long hi = (unsigned long long)t1.tv_sec * 1000 + (unsigned)t1.tv_nsec / 1000000;
    assert_true(ms >= lo && ms <= hi);
    struct timespec pause = {0, 3000000};
    nanosleep(&pause, NULL);
    assert_int_equal(nq_time_id(b), NQ_OK);
    assert_true(strcmp(a, b) < 0);
    assert_int_equal(nq_time_id(c), NQ_OK);
    assert_string_not_equal(b + 12, c + 12); /* 80 random bits apart */
}

/* ---- sha256 ------------------------------------------------------------ */

static void assert_digest(const uint8_t d[NQ_SHA256_LEN], const char *hex)
{
    char got[NQ_SHA256_HEX_LEN];
    nq_sha256_hex(d, got);
    assert_string_equal(got, hex);
}

static void test_sha256_vectors(void **state)
{
    (void)state;
    uint8_t d[NQ_SHA256_LEN];
    nq_sha256("", 0, d);
    assert_digest(d, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    nq_sha256("abc", 3, d);
    assert_digest(d, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *m448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    nq_sha256(m448, strlen(m448), d);
    assert_digest(d, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    const char *m896 = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
                       "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
    nq_sha256(m896, strlen(m896), d);
    assert_digest(d, "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
    nq__sha256_portable(m896, strlen(m896), d);
    assert_digest(d, "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

static void test_sha256_million_a(void **state)
{
    (void)state;
    static const size_t chunks[] = {1, 63, 64, 65, 127, 1000, 4097, 3};
    char a[5000];
    memset(a, 'a', sizeof a);
    nq_sha256_ctx c;
    nq_sha256_init(&c);
    size_t done = 0;
    for (size_t i = 0; done < 1000000; i++) {
        size_t n = chunks[i % (sizeof chunks / sizeof chunks[0])];
        if (n > 1000000 - done)
            n = 1000000 - done;
        nq_sha256_update(&c, a, n);
        done += n;
    }
    uint8_t d[NQ_SHA256_LEN];
    nq_sha256_final(&c, d);
    assert_digest(d, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

/* The same vector in one call each, so that one update hands all 15,625
 * blocks to the block function at once, on both paths. */
static void test_sha256_million_a_oneshot(void **state)
{
    (void)state;
    char *a = malloc(1000000);
    assert_non_null(a);
    memset(a, 'a', 1000000);
    uint8_t d[NQ_SHA256_LEN];
    nq_sha256(a, 1000000, d);
    assert_digest(d, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    nq__sha256_portable(a, 1000000, d);
    assert_digest(d, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    free(a);
}

/* Feeds msg to update in pieces of random sizes: mostly short ones, which
 * fill and drain buf, sometimes any size up to the rest, which passes
 * several whole blocks straight from the input. */
static void sha256_random_splits(nq_rng *r, const uint8_t *msg, size_t len,
                                 uint8_t out[NQ_SHA256_LEN])
{
    nq_sha256_ctx c;
    nq_sha256_init(&c);
    for (size_t done = 0; done < len;) {
        size_t left = len - done;
        size_t n = nq_rng_below(r, 4) ? nq_rng_below(r, 130) : nq_rng_below(r, left + 1);
        if (n > left)
            n = left;
        nq_sha256_update(&c, msg + done, n);
        done += n;
    }
    nq_sha256_final(&c, out);
}

/* On a CPU with the SHA extensions nq_sha256 runs the SHA-NI code and
 * nq__sha256_portable the portable one; elsewhere this still checks the
 * random splits. */
static void test_sha256_accel_vs_portable(void **state)
{
    (void)state;
    nq_rng r;
    nq_rng_seed(&r, 256);
    uint8_t msg[2001]; /* one spare byte: the message starts at a random offset */
    for (int iter = 0; iter < 3000; iter++) {
        size_t len = nq_rng_below(&r, 2001);
        size_t off = len < sizeof msg ? nq_rng_below(&r, sizeof msg - len) : 0;
        for (size_t i = 0; i < len; i++)
            msg[off + i] = (uint8_t)nq_rng_u64(&r);
        uint8_t want[NQ_SHA256_LEN], one[NQ_SHA256_LEN], split[NQ_SHA256_LEN];
        nq__sha256_portable(msg + off, len, want);
        nq_sha256(msg + off, len, one);
        sha256_random_splits(&r, msg + off, len, split);
        assert_memory_equal(want, one, NQ_SHA256_LEN);
        assert_memory_equal(want, split, NQ_SHA256_LEN);
    }
}

static void test_sha256_bytewise(void **state)
{
    (void)state;
    uint8_t msg[300];
    for (size_t i = 0; i < sizeof msg; i++)
        msg[i] = (uint8_t)(i * 37 + 11);
    /* Every length across the 55/56/64-byte padding edges. */
    for (size_t len = 0; len <= sizeof msg; len++) {
        uint8_t one[NQ_SHA256_LEN], many[NQ_SHA256_LEN];
        nq_sha256(msg, len, one);
        nq_sha256_ctx c;
        nq_sha256_init(&c);
        for (size_t i = 0; i < len; i++)
            nq_sha256_update(&c, msg + i, 1);
        nq_sha256_final(&c, many);
        assert_memory_equal(one, many, NQ_SHA256_LEN);
    }
}

/* ---- cond.h ---- */

typedef struct cond_case {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int flag;
} cond_case;

static void *cond_signaller(void *arg)
{
    cond_case *c = arg;
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
    pthread_mutex_lock(&c->mu);
    c->flag = 1;
    pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

/* A wait ends at its deadline (0), not before, or on a signal (1), long
 * before a far deadline; a past deadline returns at once. */
static void test_cond_wait_until(void **state)
{
    (void)state;
    cond_case c = {.flag = 0};
    pthread_mutex_init(&c.mu, NULL);
    assert_int_equal(nq_cond_init(&c.cv), NQ_OK);
    pthread_mutex_lock(&c.mu);
    double t0 = nq_clock_s();
    assert_int_equal(nq_cond_wait_until(&c.cv, &c.mu, t0 - 1.0), 0);
    while (nq_cond_wait_until(&c.cv, &c.mu, t0 + 0.05))
        ;
    double waited = nq_clock_s() - t0;
    assert_true(waited >= 0.05);
    assert_true(waited < 5.0);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, cond_signaller, &c), 0);
    t0 = nq_clock_s();
    int rc = 1;
    while (!c.flag && rc)
        rc = nq_cond_wait_until(&c.cv, &c.mu, t0 + 30.0);
    assert_int_equal(rc, 1);
    assert_true(c.flag);
    assert_true(nq_clock_s() - t0 < 10.0);
    pthread_mutex_unlock(&c.mu);
    pthread_join(th, NULL);
    pthread_cond_destroy(&c.cv);
    pthread_mutex_destroy(&c.mu);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_err_set),
        cmocka_unit_test(test_err_set_line_and_truncation),
        cmocka_unit_test(test_err_format),
        cmocka_unit_test(test_rng_seed_deterministic),
        cmocka_unit_test(test_rng_jump_streams),
        cmocka_unit_test(test_rng_below),
        cmocka_unit_test(test_arena_cap),
        cmocka_unit_test(test_arena_alignment_and_big),
        cmocka_unit_test(test_arena_calloc),
        cmocka_unit_test(test_buf_max),
        cmocka_unit_test(test_cond_wait_until),
        cmocka_unit_test(test_buf_printf_growth),
        cmocka_unit_test(test_buf_steal),
        cmocka_unit_test(test_json_parse_ok),
        cmocka_unit_test(test_json_limits),
        cmocka_unit_test(test_json_syntax_error),
        cmocka_unit_test(test_json_duplicates),
        cmocka_unit_test(test_json_fast_cases),
        cmocka_unit_test(test_json_fast_types),
        cmocka_unit_test(test_json_fast_depth),
        cmocka_unit_test(test_json_fast_errors),
        cmocka_unit_test(test_json_pointers),
        cmocka_unit_test(test_json_type_names),
        cmocka_unit_test(test_json_get_number),
        cmocka_unit_test(test_json_get_int),
        cmocka_unit_test(test_json_get_bool_string_typed),
        cmocka_unit_test(test_json_check_keys),
        cmocka_unit_test(test_log_lines),
        cmocka_unit_test(test_log_threads),
        cmocka_unit_test(test_log_level_parse),
        cmocka_unit_test(test_json_escape),
        cmocka_unit_test(test_clock),
        cmocka_unit_test(test_rfc3339),
        cmocka_unit_test(test_ids),
        cmocka_unit_test(test_sha256_vectors),
        cmocka_unit_test(test_sha256_million_a),
        cmocka_unit_test(test_sha256_million_a_oneshot),
        cmocka_unit_test(test_sha256_accel_vs_portable),
        cmocka_unit_test(test_sha256_bytewise),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
