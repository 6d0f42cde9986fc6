/* test_totp.c - unit tests for SHA-1 and HMAC-SHA1 (lib/base/sha1.c) and
 * for one-time passwords, base32 and otpauth URIs (lib/service/totp.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "nqba/err.h"
#include "nqba/sha1.h"
#include "nqba/totp.h"

static void assert_hex(const uint8_t *d, size_t n, const char *hex)
{
    static const char HEX[] = "0123456789abcdef";
    char got[2 * 64 + 1];
    assert_true(n <= 64);
    for (size_t i = 0; i < n; i++) {
        got[2 * i] = HEX[d[i] >> 4];
        got[2 * i + 1] = HEX[d[i] & 15];
    }
    got[2 * n] = '\0';
    assert_string_equal(got, hex);
}

/* ---- sha1 -------------------------------------------------------------- */

static void test_sha1_vectors(void **state)
{
    (void)state;
    uint8_t d[NQ_SHA1_LEN];
    nq_sha1("", 0, d);
    assert_hex(d, sizeof d, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    nq_sha1(NULL, 0, d);
    assert_hex(d, sizeof d, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
    nq_sha1("abc", 3, d);
    assert_hex(d, sizeof d, "a9993e364706816aba3e25717850c26c9cd0d89d");
    const char *m448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    nq_sha1(m448, strlen(m448), d);
    assert_hex(d, sizeof d, "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
}

static void test_sha1_million_a(void **state)
{
    (void)state;
    static const size_t chunks[] = {1, 63, 64, 65, 127, 1000, 4097, 3};
    char a[5000];
    memset(a, 'a', sizeof a);
    nq_sha1_ctx c;
    nq_sha1_init(&c);
    size_t done = 0;
    for (size_t i = 0; done < 1000000; i++) {
        size_t n = chunks[i % (sizeof chunks / sizeof chunks[0])];
        if (n > 1000000 - done)
            n = 1000000 - done;
        nq_sha1_update(&c, a, n);
        done += n;
    }
    uint8_t d[NQ_SHA1_LEN];
    nq_sha1_final(&c, d);
    assert_hex(d, sizeof d, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
}

static void test_sha1_bytewise(void **state)
{
    (void)state;
    uint8_t msg[300];
    for (size_t i = 0; i < sizeof msg; i++)
        msg[i] = (uint8_t)(i * 37 + 11);
    /* Every length across the 55/56/64-byte padding edges. */
    for (size_t len = 0; len <= sizeof msg; len++) {
        uint8_t one[NQ_SHA1_LEN], many[NQ_SHA1_LEN];
        nq_sha1(msg, len, one);
        nq_sha1_ctx c;
        nq_sha1_init(&c);
        for (size_t i = 0; i < len; i++)
            nq_sha1_update(&c, msg + i, 1);
        nq_sha1_final(&c, many);
        assert_memory_equal(one, many, NQ_SHA1_LEN);
    }
}

/* RFC 2202 section 3, all seven cases. */
static void test_hmac_sha1_rfc2202(void **state)
{
    (void)state;
    uint8_t k0b[20], kaa[80], k25[25], k0c[20], dd[50], cd[50], d[NQ_SHA1_LEN];
    memset(k0b, 0x0b, sizeof k0b);
    memset(kaa, 0xaa, sizeof kaa);
    memset(k0c, 0x0c, sizeof k0c);
    memset(dd, 0xdd, sizeof dd);
    memset(cd, 0xcd, sizeof cd);
    for (int i = 0; i < 25; i++)
        k25[i] = (uint8_t)(i + 1);

    nq_hmac_sha1(k0b, 20, "Hi There", 8, d);
    assert_hex(d, sizeof d, "b617318655057264e28bc0b6fb378c8ef146be00");
    const char *m2 = "what do ya want for nothing?";
    nq_hmac_sha1("Jefe", 4, m2, strlen(m2), d);
    assert_hex(d, sizeof d, "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79");
    nq_hmac_sha1(kaa, 20, dd, sizeof dd, d);
    assert_hex(d, sizeof d, "125d7342b9ac11cd91a39af48aa17b4f63f175d3");
    nq_hmac_sha1(k25, sizeof k25, cd, sizeof cd, d);
    assert_hex(d, sizeof d, "4c9007f4026250c6bc8414f9bf50c86c2d7235da");
    nq_hmac_sha1(k0c, 20, "Test With Truncation", 20, d);
    assert_hex(d, sizeof d, "4c1a03424b55e07fe7f27be1d58bb9324a9a5a04");
    const char *m6 = "Test Using Larger Than Block-Size Key - Hash Key First";
    nq_hmac_sha1(kaa, 80, m6, strlen(m6), d);
    assert_hex(d, sizeof d, "aa4ae5e15272d00e95705637ce8a3b55ed402112");
    const char *m7 = "Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data";
    nq_hmac_sha1(kaa, 80, m7, strlen(m7), d);
    assert_hex(d, sizeof d, "e8e99d0f45237d786d6bbaa7965c7808bbff1a91");
}

/* ---- base32 ------------------------------------------------------------ */

/* RFC 4648 section 10. */
static const struct {
    const char *raw, *padded, *bare;
} B32_VECTORS[] = {
    {"", "", ""},
    {"f", "MY======", "MY"},
    {"fo", "MZXQ====", "MZXQ"},
    {"foo", "MZXW6===", "MZXW6"},
    {"foob", "MZXW6YQ=", "MZXW6YQ"},
    {"fooba", "MZXW6YTB", "MZXW6YTB"},
    {"foobar", "MZXW6YTBOI======", "MZXW6YTBOI"},
};
#define N_B32 (sizeof B32_VECTORS / sizeof B32_VECTORS[0])

static void test_base32_encode(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_B32; i++) {
        const char *raw = B32_VECTORS[i].raw;
        size_t n = strlen(raw);
        char out[NQ_BASE32_ENC_LEN(6)];
        assert_int_equal(nq_base32_encode((const uint8_t *)raw, n, 1, out, sizeof out), NQ_OK);
        assert_string_equal(out, B32_VECTORS[i].padded);
        assert_int_equal(nq_base32_encode((const uint8_t *)raw, n, 0, out, sizeof out), NQ_OK);
        assert_string_equal(out, B32_VECTORS[i].bare);
        /* The exact size fits; one less does not, and leaves "". */
        size_t need = strlen(B32_VECTORS[i].padded) + 1;
        assert_true(need <= NQ_BASE32_ENC_LEN(n));
        assert_int_equal(nq_base32_encode((const uint8_t *)raw, n, 1, out, need), NQ_OK);
        assert_int_equal(nq_base32_encode((const uint8_t *)raw, n, 1, out, need - 1), NQ_ELIMIT);
        if (need > 1)
            assert_string_equal(out, "");
    }
    char out[4];
    assert_int_equal(nq_base32_encode(NULL, 1, 0, out, sizeof out), NQ_EINVAL);
    assert_int_equal(nq_base32_encode((const uint8_t *)"f", 1, 0, NULL, 0), NQ_EINVAL);
}

static void check_decode(const char *text, const char *raw)
{
    uint8_t out[32];
    size_t n = 99;
    assert_int_equal(nq_base32_decode(text, strlen(text), out, sizeof out, &n), NQ_OK);
    assert_int_equal(n, strlen(raw));
    assert_memory_equal(out, raw, n);
}

static void test_base32_decode(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_B32; i++) {
        check_decode(B32_VECTORS[i].padded, B32_VECTORS[i].raw);
        check_decode(B32_VECTORS[i].bare, B32_VECTORS[i].raw);
    }
    check_decode("mzxw6ytboi======", "foobar");
    check_decode("MzXw 6YtB oI", "foobar");
    check_decode(" MZXW 6YTB OI== ==== ", "foobar");
    /* The RFC 6238 test secret, as apps show it, in groups of four. */
    check_decode("GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ", "12345678901234567890");
}

static void test_base32_decode_invalid(void **state)
{
    (void)state;
    static const char *bad[] = {
        "MZXW6YT1",  /* '1' is not in the alphabet */
        "MZXW6YT0",  /* nor is '0' */
        "MZXW-6YTB", /* nor '-' */
        "MZXW\t6YTB",
        "MZ=XW",     /* letters after padding */
        "MY==A===",
        "M",         /* letter counts no encoding has */
        "MZX",
        "MZXW6Y",
        "MZXW6YTBO",
        "\xc3\xa9",
    };
    uint8_t out[16];
    size_t n = 99;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(nq_base32_decode(bad[i], strlen(bad[i]), out, sizeof out, &n), NQ_EINVAL);
        assert_int_equal(n, 0);
    }
    /* A NUL inside the given length is a character like any other. */
    assert_int_equal(nq_base32_decode("MZ\0XW6", 6, out, sizeof out, &n), NQ_EINVAL);
    /* The length bounds the read: the rest of the string is not seen. */
    assert_int_equal(nq_base32_decode("MZXW6!!!", 5, out, sizeof out, &n), NQ_OK);
    assert_int_equal(n, 3);
    assert_memory_equal(out, "foo", 3);
    /* Too small an output. */
    assert_int_equal(nq_base32_decode("MZXW6YTBOI", 10, out, 5, &n), NQ_ELIMIT);
    assert_int_equal(n, 0);
    assert_int_equal(nq_base32_decode("MZXW6YTBOI", 10, out, 6, &n), NQ_OK);
    assert_int_equal(n, 6);
    assert_int_equal(nq_base32_decode("", 0, NULL, 0, &n), NQ_OK);
    assert_int_equal(n, 0);
    assert_int_equal(nq_base32_decode("MY", 2, out, sizeof out, NULL), NQ_EINVAL);
    assert_int_equal(nq_base32_decode(NULL, 2, out, sizeof out, &n), NQ_EINVAL);
}

/* ---- totp -------------------------------------------------------------- */

static const uint8_t RFC_KEY[] = "12345678901234567890";
#define RFC_KLEN 20

/* RFC 6238 appendix B, SHA-1 column. */
static const struct {
    uint64_t t;
    const char *code;
} RFC_TOTP[] = {
    {59, "94287082"},         {1111111109, "07081804"}, {1111111111, "14050471"},
    {1234567890, "89005924"}, {2000000000, "69279037"}, {20000000000ULL, "65353130"},
};
#define N_RFC (sizeof RFC_TOTP / sizeof RFC_TOTP[0])

static void test_totp_rfc6238(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_RFC; i++) {
        char out[NQ_TOTP_CODE_MAX];
        assert_int_equal(nq_totp_code(RFC_KEY, RFC_KLEN, RFC_TOTP[i].t, 8, out), NQ_OK);
        assert_string_equal(out, RFC_TOTP[i].code);
        /* Fewer digits are the last digits of the same number. */
        assert_int_equal(nq_totp_code(RFC_KEY, RFC_KLEN, RFC_TOTP[i].t, 7, out), NQ_OK);
        assert_string_equal(out, RFC_TOTP[i].code + 1);
        assert_int_equal(nq_totp_code(RFC_KEY, RFC_KLEN, RFC_TOTP[i].t, 0, out), NQ_OK);
        assert_string_equal(out, RFC_TOTP[i].code + 2);
        assert_int_equal(nq_totp_code(RFC_KEY, RFC_KLEN, RFC_TOTP[i].t, 6, out), NQ_OK);
        assert_string_equal(out, RFC_TOTP[i].code + 2);
        int64_t step = -1;
        assert_int_equal(nq_totp_verify(RFC_KEY, RFC_KLEN, out, RFC_TOTP[i].t, 0, &step), 1);
        assert_int_equal(step, (int64_t)(RFC_TOTP[i].t / 30));
    }
}

static void test_totp_code_args(void **state)
{
    (void)state;
    char out[NQ_TOTP_CODE_MAX] = "x";
    assert_int_equal(nq_totp_code(RFC_KEY, RFC_KLEN, 59, 5, out), NQ_EINVAL);
    assert_string_equal(out, "");
    assert_int_equal(nq_totp_code(RFC_KEY, RFC_KLEN, 59, 9, out), NQ_EINVAL);
    assert_int_equal(nq_totp_code(RFC_KEY, RFC_KLEN, 59, -6, out), NQ_EINVAL);
    assert_int_equal(nq_totp_code(NULL, RFC_KLEN, 59, 6, out), NQ_EINVAL);
    assert_int_equal(nq_totp_code(RFC_KEY, 0, 59, 6, out), NQ_EINVAL);
    assert_int_equal(nq_totp_code(RFC_KEY, RFC_KLEN, 59, 6, NULL), NQ_EINVAL);
    /* The step changes at multiples of 30 seconds, not in between:
     * 1111111109 is the last second of its step. */
    char a[NQ_TOTP_CODE_MAX], b[NQ_TOTP_CODE_MAX];
    assert_int_equal(nq_totp_code(RFC_KEY, RFC_KLEN, 1111111080, 8, a), NQ_OK);
    assert_string_equal(a, "07081804");
    assert_int_equal(nq_totp_code(RFC_KEY, RFC_KLEN, 1111111110, 8, b), NQ_OK);
    assert_string_equal(b, "14050471");
}

static void test_totp_window(void **state)
{
    (void)state;
    const uint64_t t = 1111111111; /* step 37037037 */
    const int64_t now = (int64_t)(t / 30);
    char prev[NQ_TOTP_CODE_MAX], prev2[NQ_TOTP_CODE_MAX], next[NQ_TOTP_CODE_MAX];
    assert_int_equal(nq_totp_code(RFC_KEY, RFC_KLEN, t - 30, 6, prev), NQ_OK);
    assert_int_equal(nq_totp_code(RFC_KEY, RFC_KLEN, t - 60, 6, prev2), NQ_OK);
    assert_int_equal(nq_totp_code(RFC_KEY, RFC_KLEN, t + 30, 6, next), NQ_OK);
    int64_t step = -1;
    assert_int_equal(nq_totp_verify(RFC_KEY, RFC_KLEN, prev, t, 1, &step), 1);
    assert_int_equal(step, now - 1);
    assert_int_equal(nq_totp_verify(RFC_KEY, RFC_KLEN, next, t, 1, &step), 1);
    assert_int_equal(step, now + 1);
    step = -1;
    assert_int_equal(nq_totp_verify(RFC_KEY, RFC_KLEN, prev2, t, 1, &step), 0);
    assert_int_equal(step, -1); /* untouched on no match */
    assert_int_equal(nq_totp_verify(RFC_KEY, RFC_KLEN, prev, t, 0, &step), 0);
    assert_int_equal(nq_totp_verify(RFC_KEY, RFC_KLEN, prev2, t, 2, &step), 1);
    assert_int_equal(step, now - 2);
    assert_int_equal(nq_totp_verify(RFC_KEY, RFC_KLEN, prev, t, 1, NULL), 1);
    /* Near the epoch the window must not reach before step 0. */
    char first[NQ_TOTP_CODE_MAX];
    assert_int_equal(nq_totp_code(RFC_KEY, RFC_KLEN, 0, 6, first), NQ_OK);
    assert_int_equal(nq_totp_verify(RFC_KEY, RFC_KLEN, first, 10, NQ_TOTP_WINDOW_MAX, &step), 1);
    assert_int_equal(step, 0);
    /* And far in the future nothing wraps. */
    assert_int_equal(nq_totp_code(RFC_KEY, RFC_KLEN, UINT64_MAX, 6, first), NQ_OK);
    assert_int_equal(nq_totp_verify(RFC_KEY, RFC_KLEN, first, UINT64_MAX, 1, &step), 1);
    assert_int_equal(step, (int64_t)(UINT64_MAX / 30));
    /* Bad arguments are errors, not non-matches. */
    assert_int_equal(nq_totp_verify(RFC_KEY, RFC_KLEN, prev, t, -1, &step), NQ_EINVAL);
    assert_int_equal(nq_totp_verify(RFC_KEY, RFC_KLEN, prev, t, NQ_TOTP_WINDOW_MAX + 1, &step),
                     NQ_EINVAL);
    assert_int_equal(nq_totp_verify(NULL, RFC_KLEN, prev, t, 1, &step), NQ_EINVAL);
    assert_int_equal(nq_totp_verify(RFC_KEY, 0, prev, t, 1, &step), NQ_EINVAL);
}

static void test_totp_malformed_codes(void **state)
{
    (void)state;
    static const char *bad[] = {"",        "12345",    "1234567", "12a456", " 28708",
                                "287082 ", "-28708",   "２87082", "28708\n", "+287082",
                                "287 082", "0x4c5e6f", "94287082"};
    int64_t step = -1;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(nq_totp_verify(RFC_KEY, RFC_KLEN, bad[i], 59, 1, &step), 0);
    assert_int_equal(nq_totp_verify(RFC_KEY, RFC_KLEN, NULL, 59, 1, &step), 0);
    assert_int_equal(step, -1);
    /* The good one, for contrast. */
    assert_int_equal(nq_totp_verify(RFC_KEY, RFC_KLEN, "287082", 59, 1, &step), 1);
    assert_int_equal(step, 1);
}

static void test_totp_secret_new(void **state)
{
    (void)state;
    uint8_t a[NQ_TOTP_SECRET_LEN], b[NQ_TOTP_SECRET_LEN];
    assert_int_equal(nq_totp_secret_new(a), NQ_OK);
    assert_int_equal(nq_totp_secret_new(b), NQ_OK);
    assert_memory_not_equal(a, b, sizeof a);
    assert_int_equal(nq_totp_secret_new(NULL), NQ_EINVAL);
    /* A fresh secret round-trips through its base32 text. */
    char text[NQ_BASE32_ENC_LEN(NQ_TOTP_SECRET_LEN)];
    uint8_t back[NQ_TOTP_SECRET_LEN];
    size_t n = 0;
    assert_int_equal(nq_base32_encode(a, sizeof a, 0, text, sizeof text), NQ_OK);
    assert_int_equal(strlen(text), 32);
    assert_int_equal(nq_base32_decode(text, strlen(text), back, sizeof back, &n), NQ_OK);
    assert_int_equal(n, sizeof a);
    assert_memory_equal(a, back, sizeof a);
}

/* ---- otpauth URI ------------------------------------------------------- */

static void test_totp_uri(void **state)
{
    (void)state;
    const char *want = "otpauth://totp/NQBA%20Demo:ann.lee%40example.com"
                       "?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=NQBA%20Demo"
                       "&algorithm=SHA1&digits=6&period=30";
    char out[256];
    assert_int_equal(nq_totp_uri("NQBA Demo", "ann.lee@example.com", RFC_KEY, RFC_KLEN, out,
                                 sizeof out),
                     NQ_OK);
    assert_string_equal(out, want);
    /* Exactly enough, and every size short of it. */
    size_t need = strlen(want) + 1;
    assert_int_equal(nq_totp_uri("NQBA Demo", "ann.lee@example.com", RFC_KEY, RFC_KLEN, out, need),
                     NQ_OK);
    assert_string_equal(out, want);
    for (size_t cap = 0; cap < need; cap++) {
        out[0] = 'x';
        assert_int_equal(
            nq_totp_uri("NQBA Demo", "ann.lee@example.com", RFC_KEY, RFC_KLEN, out, cap),
            NQ_ELIMIT);
        if (cap)
            assert_string_equal(out, "");
    }
    /* Only unreserved characters pass; UTF-8 is escaped byte by byte. */
    assert_int_equal(nq_totp_uri("A-b.c_d~9", "z\xc3\xa9/+&?#", RFC_KEY, 1, out, sizeof out),
                     NQ_OK);
    assert_string_equal(out, "otpauth://totp/A-b.c_d~9:z%C3%A9%2F%2B%26%3F%23?secret=GE"
                             "&issuer=A-b.c_d~9&algorithm=SHA1&digits=6&period=30");
    /* Colons, empty parts and bad keys are refused. */
    assert_int_equal(nq_totp_uri("NQBA:Demo", "ann", RFC_KEY, RFC_KLEN, out, sizeof out),
                     NQ_EINVAL);
    assert_int_equal(nq_totp_uri("NQBA", "ann:lee", RFC_KEY, RFC_KLEN, out, sizeof out),
                     NQ_EINVAL);
    assert_int_equal(nq_totp_uri("", "ann", RFC_KEY, RFC_KLEN, out, sizeof out), NQ_EINVAL);
    assert_int_equal(nq_totp_uri("NQBA", NULL, RFC_KEY, RFC_KLEN, out, sizeof out), NQ_EINVAL);
    assert_int_equal(nq_totp_uri("NQBA", "ann", NULL, RFC_KLEN, out, sizeof out), NQ_EINVAL);
    assert_int_equal(nq_totp_uri("NQBA", "ann", RFC_KEY, 0, out, sizeof out), NQ_EINVAL);
    uint8_t big[NQ_TOTP_KEY_MAX + 1] = {0};
    assert_int_equal(nq_totp_uri("NQBA", "ann", big, sizeof big, out, sizeof out), NQ_EINVAL);
    assert_int_equal(nq_totp_uri("NQBA", "ann", big, NQ_TOTP_KEY_MAX, out, sizeof out), NQ_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sha1_vectors),
        cmocka_unit_test(test_sha1_million_a),
        cmocka_unit_test(test_sha1_bytewise),
        cmocka_unit_test(test_hmac_sha1_rfc2202),
        cmocka_unit_test(test_base32_encode),
        cmocka_unit_test(test_base32_decode),
        cmocka_unit_test(test_base32_decode_invalid),
        cmocka_unit_test(test_totp_rfc6238),
        cmocka_unit_test(test_totp_code_args),
        cmocka_unit_test(test_totp_window),
        cmocka_unit_test(test_totp_malformed_codes),
        cmocka_unit_test(test_totp_secret_new),
        cmocka_unit_test(test_totp_uri),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
