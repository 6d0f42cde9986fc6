/* test_jwt.c - unit tests for lib/service/jwt.c: the keyring, key specs,
 * signing, the RFC 7515 A.1 vector and the attacks the verifier refuses.
 *
 * Attack tokens are built here with libsodium directly (forge()), with a
 * correct MAC wherever the point is that the verifier must refuse a token
 * for what it says rather than for how it is signed. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nqba/jwt.h"

#define NOW INT64_C(1700000000)
#define ISS "https://auth.nqba.test"
#define AUD "nqba-api"
#define B64 sodium_base64_VARIANT_URLSAFE_NO_PADDING

static const nq_jwt_expect EXPECT = {ISS, AUD, 30};

/* ---- helpers ------------------------------------------------------------- */

static void fill_key(unsigned char *key, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        key[i] = (unsigned char)(i * seed + 1);
}

/* A ring holding one 32-byte key made from seed. */
static void ring_one(nq_jwt_keyring *k, const char *kid, unsigned seed)
{
    unsigned char key[32];
    fill_key(key, sizeof key, seed);
    nq_jwt_keyring_init(k);
    assert_int_equal(nq_jwt_keyring_add(k, kid, key, sizeof key, NULL), NQ_OK);
}

static void base_claims(nq_jwt_claims *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->sub, sizeof c->sub, "user-42");
    snprintf(c->role, sizeof c->role, "admin");
    snprintf(c->scope, sizeof c->scope, "models:read decisions:write");
    snprintf(c->iss, sizeof c->iss, ISS);
    snprintf(c->aud, sizeof c->aud, AUD);
    snprintf(c->jti, sizeof c->jti, "jti-0001");
    c->iat = NOW - 10;
    c->exp = NOW + 900;
    c->mfa = true;
}

static void b64(char *out, size_t cap, const void *bin, size_t n)
{
    assert_true(sodium_base64_ENCODED_LEN(n, B64) <= cap);
    sodium_bin2base64(out, cap, bin, n, B64);
}

/* b64(header) "." b64(payload) "." HMAC under key (no third part when key
 * is NULL: the caller appends what it wants). */
static void forge(char *out, size_t cap, const char *header, const char *payload,
                  const unsigned char *key, size_t key_len)
{
    char h[8192], p[8192];
    b64(h, sizeof h, header, strlen(header));
    b64(p, sizeof p, payload, strlen(payload));
    int n = snprintf(out, cap, "%s.%s.", h, p);
    assert_true(n > 0 && (size_t)n < cap);
    if (!key)
        return;
    unsigned char mac[32];
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, key, key_len);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)out, (size_t)n - 1);
    crypto_auth_hmacsha256_final(&st, mac);
    b64(out + n, cap - (size_t)n, mac, sizeof mac);
}

/* forge() with the key of ring_one(..., 7): kid "k1". */
static void forge_k1(char *out, size_t cap, const char *header, const char *payload)
{
    unsigned char key[32];
    fill_key(key, sizeof key, 7);
    forge(out, cap, header, payload, key, sizeof key);
}

#define HDR_K1 "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"k1\"}"

/* A payload of good claims with one member replaced or added: extra is
 * spliced in after the fixed members (jansson refuses duplicates, so the
 * tests for each claim build their own payload with payload_of). */
static void payload_of(char *out, size_t cap, const char *iss, const char *aud, const char *sub,
                       const char *times)
{
    snprintf(out, cap, "{%s%s%s%s%s%s%s}", iss ? iss : "", iss ? "," : "", aud ? aud : "",
             aud ? "," : "", sub ? sub : "", sub ? "," : "", times);
}

static void good_payload(char *out, size_t cap, const char *times)
{
    payload_of(out, cap, "\"iss\":\"" ISS "\"", "\"aud\":\"" AUD "\"", "\"sub\":\"u1\"", times);
}

static const char *std_times(void)
{
    static char t[128];
    snprintf(t, sizeof t, "\"iat\":%lld,\"exp\":%lld", (long long)(NOW - 10),
             (long long)(NOW + 600));
    return t;
}

/* Verify must refuse tok with code, saying msg_part, without quoting any
 * sizeable piece of the token and with the output zeroed. */
static void assert_refused(const nq_jwt_keyring *k, const char *tok, int code,
                           const char *msg_part)
{
    nq_jwt_claims c;
    memset(&c, 0xAB, sizeof c);
    nq_err err;
    nq_err_clear(&err);
    int rc = nq_jwt_verify(k, tok, &EXPECT, NOW, &c, &err);
    char said[NQ_ERR_WHERE_MAX + NQ_ERR_MSG_MAX + 4];
    nq_err_format(&err, said, sizeof said);
    if (rc != code || !strstr(said, msg_part))
        fail_msg("expected %d \"%s\", got %d \"%s\"", code, msg_part, rc, said);
    nq_jwt_claims zero;
    memset(&zero, 0, sizeof zero);
    assert_memory_equal(&c, &zero, sizeof c);
    size_t len = strnlen(tok, 8192);
    for (size_t i = 0; i + 12 <= len; i++) {
        char piece[13];
        memcpy(piece, tok + i, 12);
        piece[12] = '\0';
        assert_null(strstr(said, piece));
    }
}

static void assert_claims_equal(const nq_jwt_claims *a, const nq_jwt_claims *b)
{
    assert_string_equal(a->sub, b->sub);
    assert_string_equal(a->role, b->role);
    assert_string_equal(a->scope, b->scope);
    assert_string_equal(a->iss, b->iss);
    assert_string_equal(a->aud, b->aud);
    assert_string_equal(a->jti, b->jti);
    assert_int_equal(a->iat, b->iat);
    assert_int_equal(a->nbf, b->nbf);
    assert_int_equal(a->exp, b->exp);
    assert_int_equal(a->mfa, b->mfa);
}

static void assert_accepted(const nq_jwt_keyring *k, const char *tok, nq_jwt_claims *out)
{
    nq_err err;
    nq_err_clear(&err);
    int rc = nq_jwt_verify(k, tok, &EXPECT, NOW, out, &err);
    if (rc != NQ_OK)
        fail_msg("refused: %s: %s", err.where, err.msg);
}

/* ---- keyring ------------------------------------------------------------- */

static void test_keyring_add_and_limits(void **state)
{
    (void)state;
    nq_jwt_keyring k;
    nq_jwt_keyring_init(&k);
    assert_int_equal(k.count, 0);
    assert_int_equal(k.signing, -1);
    unsigned char key[65];
    fill_key(key, sizeof key, 3);
    nq_err err;
    assert_int_equal(nq_jwt_keyring_add(&k, "a", key, 31, &err), NQ_EINVAL);
    assert_non_null(strstr(err.msg, ">= 32"));
    assert_int_equal(nq_jwt_keyring_add(&k, "a", key, 0, &err), NQ_EINVAL);
    assert_int_equal(nq_jwt_keyring_add(&k, "a", key, 65, &err), NQ_EINVAL);
    assert_int_equal(nq_jwt_keyring_add(&k, "", key, 32, &err), NQ_EINVAL);
    assert_int_equal(nq_jwt_keyring_add(&k, "a b", key, 32, &err), NQ_EINVAL);
    assert_int_equal(nq_jwt_keyring_add(&k, "a:b", key, 32, &err), NQ_EINVAL);
    assert_int_equal(nq_jwt_keyring_add(&k, "a\"b", key, 32, &err), NQ_EINVAL);
    assert_int_equal(nq_jwt_keyring_add(&k, "abcdefghijklmnopqrstuvwxyz0123456", key, 32, &err),
                     NQ_EINVAL);
    assert_int_equal(nq_jwt_keyring_add(&k, NULL, key, 32, &err), NQ_EINVAL);
    assert_int_equal(nq_jwt_keyring_add(&k, "a", NULL, 32, &err), NQ_EINVAL);
    assert_int_equal(k.count, 0);
    assert_int_equal(nq_jwt_keyring_add(&k, "abcdefghijklmnopqrstuvwxyz-_0123", key, 32, &err),
                     NQ_OK);
    assert_int_equal(nq_jwt_keyring_add(&k, "b", key, 64, &err), NQ_OK);
    assert_int_equal(k.signing, 1); /* the newest signs */
    assert_int_equal(nq_jwt_keyring_add(&k, "b", key, 32, &err), NQ_EINVAL);
    for (int i = 2; i < NQ_JWT_KEYS_MAX; i++) {
        char kid[8];
        snprintf(kid, sizeof kid, "k%d", i);
        assert_int_equal(nq_jwt_keyring_add(&k, kid, key, 40, &err), NQ_OK);
    }
    assert_int_equal(nq_jwt_keyring_add(&k, "full", key, 32, &err), NQ_ELIMIT);
    assert_int_equal(k.count, NQ_JWT_KEYS_MAX);
    nq_jwt_keyring_wipe(&k);
    assert_int_equal(k.count, 0);
    assert_int_equal(k.signing, -1);
    for (size_t i = 0; i < sizeof k.keys; i++)
        assert_int_equal(((unsigned char *)k.keys)[i], 0);
    nq_jwt_keyring_wipe(NULL);
    nq_jwt_keyring_init(NULL);
}

static void test_keyring_signing_and_remove(void **state)
{
    (void)state;
    nq_jwt_keyring k;
    unsigned char key[32];
    fill_key(key, sizeof key, 5);
    nq_jwt_keyring_init(&k);
    nq_err err;
    assert_int_equal(nq_jwt_keyring_add(&k, "a", key, 32, NULL), NQ_OK);
    assert_int_equal(nq_jwt_keyring_add(&k, "b", key, 32, NULL), NQ_OK);
    assert_int_equal(nq_jwt_keyring_add(&k, "c", key, 32, NULL), NQ_OK);
    assert_int_equal(nq_jwt_keyring_set_signing(&k, "zz", &err), NQ_ENOTFOUND);
    assert_int_equal(nq_jwt_keyring_set_signing(&k, "b", &err), NQ_OK);
    assert_int_equal(k.signing, 1);
    assert_int_equal(nq_jwt_keyring_remove(&k, "b", &err), NQ_EINVAL);
    assert_non_null(strstr(err.msg, "signing key"));
    assert_int_equal(nq_jwt_keyring_remove(&k, "zz", &err), NQ_ENOTFOUND);
    assert_int_equal(nq_jwt_keyring_remove(&k, "a", &err), NQ_OK);
    assert_int_equal(k.count, 2);
    assert_string_equal(k.keys[k.signing].kid, "b");
    assert_string_equal(k.keys[1].kid, "c");
    for (size_t i = 0; i < sizeof k.keys[2]; i++)
        assert_int_equal(((unsigned char *)&k.keys[2])[i], 0);
    assert_int_equal(nq_jwt_keyring_remove(&k, "c", &err), NQ_OK);
    assert_int_equal(k.count, 1);
    assert_int_equal(k.signing, 0);
    nq_jwt_keyring_wipe(&k);
}

/* ---- key specs ----------------------------------------------------------- */

static void test_key_spec_good(void **state)
{
    (void)state;
    unsigned char k1[32], k2[64];
    fill_key(k1, sizeof k1, 11);
    fill_key(k2, sizeof k2, 13);
    char b1[64], b2[128], spec[256];
    b64(b1, sizeof b1, k1, sizeof k1);
    b64(b2, sizeof b2, k2, sizeof k2);
    snprintf(spec, sizeof spec, "new_2:%s,old-1:%s", b1, b2);
    nq_jwt_keyring k;
    nq_err err;
    assert_int_equal(nq_jwt_keyring_parse(&k, spec, &err), NQ_OK);
    assert_int_equal(k.count, 2);
    assert_int_equal(k.signing, 0);
    assert_string_equal(k.keys[0].kid, "new_2");
    assert_int_equal(k.keys[0].key_len, 32);
    assert_memory_equal(k.keys[0].key, k1, 32);
    assert_string_equal(k.keys[1].kid, "old-1");
    assert_int_equal(k.keys[1].key_len, 64);
    assert_memory_equal(k.keys[1].key, k2, 64);
    nq_jwt_keyring_wipe(&k);

    /* Eight keys is the most. */
    char big[NQ_JWT_KEY_SPEC_MAX + 64];
    size_t at = 0;
    for (int i = 0; i < NQ_JWT_KEYS_MAX; i++)
        at += (size_t)snprintf(big + at, sizeof big - at, "%sk%d:%s", i ? "," : "", i, b1);
    assert_int_equal(nq_jwt_keyring_parse(&k, big, &err), NQ_OK);
    assert_int_equal(k.count, NQ_JWT_KEYS_MAX);
    snprintf(big + at, sizeof big - at, ",k9:%s", b1);
    assert_int_equal(nq_jwt_keyring_parse(&k, big, &err), NQ_EINVAL);
    assert_string_equal(err.where, "key spec entry 9");
    assert_int_equal(k.count, 0);
}

/* Each bad spec is refused, naming the entry and never the key. */
static void test_key_spec_bad(void **state)
{
    (void)state;
    unsigned char k1[48];
    fill_key(k1, sizeof k1, 17);
    char good[80], short_key[64], long_key[128];
    b64(good, sizeof good, k1, 32);
    b64(short_key, sizeof short_key, k1, 31);
    unsigned char k65[65];
    fill_key(k65, sizeof k65, 19);
    b64(long_key, sizeof long_key, k65, sizeof k65);
    char padded[80], plus[80], trailing[80];
    b64(padded, sizeof padded, k1, 34); /* 34 bytes: 46 characters, room for '=' */
    strcat(padded, "==");
    snprintf(plus, sizeof plus, "%s", good);
    plus[3] = '+';
    plus[9] = '/';
    b64(trailing, sizeof trailing, k1, 32);
    trailing[42] = trailing[42] == 'B' ? 'C' : 'B'; /* stray bits in the last character */
    struct {
        const char *pre, *key, *post, *where, *msg;
    } cases[] = {
        {"", "", "", "key spec", "no keys"},
        {"a:", good, ",", "key spec entry 2", "kid:BASE64URL_KEY"},
        {",a:", good, "", "key spec entry 1", "kid:BASE64URL_KEY"},
        {"a", good, "", "key spec entry 1", "kid:BASE64URL_KEY"},
        {":", good, "", "key spec entry 1", "kid must be"},
        {"a b:", good, "", "key spec entry 1", "kid must be"},
        {"a:", good, ", b:x", "key spec entry 2", "kid must be"},
        {"a:", good, ",b:", "key spec entry 2", ">= 32"},
        {"a:", short_key, "", "key spec entry 1", "key is 31 bytes; keys must be >= 32"},
        {"a:", long_key, "", "key spec entry 1", "longer than 64"},
        {"a:", padded, "", "key spec entry 1", "not unpadded base64url"},
        {"a:", plus, "", "key spec entry 1", "not unpadded base64url"},
        {"a:", trailing, "", "key spec entry 1", "not unpadded base64url"},
        {"a:", good, " ", "key spec entry 1", "not unpadded base64url"},
        {"a:", good, ",a:x", "key spec entry 2", "not unpadded base64url"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char spec[512];
        snprintf(spec, sizeof spec, "%s%s%s", cases[i].pre, cases[i].key, cases[i].post);
        nq_jwt_keyring k;
        nq_err err;
        nq_err_clear(&err);
        assert_int_equal(nq_jwt_keyring_parse(&k, spec, &err), NQ_EINVAL);
        if (strcmp(err.where, cases[i].where) != 0 || !strstr(err.msg, cases[i].msg))
            fail_msg("case %zu: got \"%s: %s\"", i, err.where, err.msg);
        assert_int_equal(k.count, 0);
        assert_int_equal(k.signing, -1);
        if (cases[i].key[0])
            assert_null(strstr(err.msg, cases[i].key));
    }
    /* A duplicate kid. */
    char spec[256];
    snprintf(spec, sizeof spec, "a:%s,a:%s", good, good);
    nq_jwt_keyring k;
    nq_err err;
    assert_int_equal(nq_jwt_keyring_parse(&k, spec, &err), NQ_EINVAL);
    assert_string_equal(err.where, "key spec entry 2");
    assert_non_null(strstr(err.msg, "twice"));
    assert_int_equal(nq_jwt_keyring_parse(&k, NULL, &err), NQ_EINVAL);
}

static void test_key_new(void **state)
{
    (void)state;
    char a[NQ_JWT_KEY_SPEC_NEW_MAX], b[NQ_JWT_KEY_SPEC_NEW_MAX];
    assert_int_equal(nq_jwt_key_new(a, sizeof a, "2024-06"), NQ_OK);
    assert_int_equal(nq_jwt_key_new(b, sizeof b, "2024-06"), NQ_OK);
    assert_int_equal(strlen(a), strlen("2024-06:") + 43);
    assert_memory_equal(a, "2024-06:", 8);
    assert_string_not_equal(a, b);
    nq_jwt_keyring k;
    assert_int_equal(nq_jwt_keyring_parse(&k, a, NULL), NQ_OK);
    assert_int_equal(k.count, 1);
    assert_int_equal(k.keys[0].key_len, NQ_JWT_KEY_NEW_LEN);
    nq_jwt_keyring_wipe(&k);
    char longest[NQ_JWT_KEY_SPEC_NEW_MAX];
    assert_int_equal(nq_jwt_key_new(longest, sizeof longest, "abcdefghijklmnopqrstuvwxyz012345"),
                     NQ_OK);
    assert_int_equal(nq_jwt_key_new(a, 8 + 43, "2024-06"), NQ_ELIMIT); /* no room for NUL */
    assert_string_equal(a, "");
    assert_int_equal(nq_jwt_key_new(a, sizeof a, "bad kid"), NQ_EINVAL);
    assert_int_equal(nq_jwt_key_new(a, sizeof a, ""), NQ_EINVAL);
    assert_int_equal(nq_jwt_key_new(NULL, 10, "a"), NQ_EINVAL);
}

/* ---- signing ------------------------------------------------------------- */

static void test_round_trip(void **state)
{
    (void)state;
    nq_jwt_keyring k;
    ring_one(&k, "k1", 7);
    nq_jwt_claims c, back;
    base_claims(&c);
    char tok[NQ_JWT_TOKEN_MAX + 1];
    nq_err err;
    assert_int_equal(nq_jwt_sign(&k, &c, tok, sizeof tok, &err), NQ_OK);
    assert_accepted(&k, tok, &back);
    assert_claims_equal(&c, &back);

    /* The header is exactly this; the payload leaves out what is empty. */
    const char *dot = strchr(tok, '.');
    unsigned char bin[1024];
    size_t n = 0;
    assert_int_equal(sodium_base642bin(bin, sizeof bin, tok, (size_t)(dot - tok), NULL, &n, NULL,
                                       B64),
                     0);
    assert_int_equal(n, strlen(HDR_K1));
    assert_memory_equal(bin, HDR_K1, n);
    c.role[0] = c.scope[0] = c.jti[0] = '\0';
    c.mfa = false;
    c.nbf = NOW - 5;
    assert_int_equal(nq_jwt_sign(&k, &c, tok, sizeof tok, &err), NQ_OK);
    dot = strchr(tok, '.');
    const char *dot2 = strchr(dot + 1, '.');
    assert_int_equal(sodium_base642bin(bin, sizeof bin, dot + 1, (size_t)(dot2 - dot - 1), NULL,
                                       &n, NULL, B64),
                     0);
    char want[256];
    snprintf(want, sizeof want,
             "{\"iss\":\"" ISS "\",\"sub\":\"user-42\",\"aud\":\"" AUD
             "\",\"iat\":%lld,\"nbf\":%lld,\"exp\":%lld,\"mfa\":false}",
             (long long)(NOW - 10), (long long)(NOW - 5), (long long)(NOW + 900));
    assert_int_equal(n, strlen(want));
    assert_memory_equal(bin, want, n);
    assert_accepted(&k, tok, &back);
    assert_claims_equal(&c, &back);

    /* Longest claims, with characters JSON must escape, still fit. */
    base_claims(&c);
    memset(c.sub, '"', NQ_JWT_SUB_MAX);
    memset(c.scope, '\\', NQ_JWT_SCOPE_MAX);
    memset(c.iss, 'i', NQ_JWT_ISS_MAX);
    snprintf(c.role, sizeof c.role, "r\xc3\xa9le"); /* UTF-8 */
    assert_int_equal(nq_jwt_sign(&k, &c, tok, sizeof tok, &err), NQ_OK);
    nq_jwt_expect x = {c.iss, AUD, 0};
    assert_int_equal(nq_jwt_verify(&k, tok, &x, NOW, &back, &err), NQ_OK);
    assert_claims_equal(&c, &back);
    nq_jwt_keyring_wipe(&k);
}

static void test_sign_refuses(void **state)
{
    (void)state;
    nq_jwt_keyring k;
    ring_one(&k, "k1", 7);
    nq_jwt_claims c;
    char tok[NQ_JWT_TOKEN_MAX + 1];
    nq_err err;
    base_claims(&c);
    c.sub[0] = '\0';
    assert_int_equal(nq_jwt_sign(&k, &c, tok, sizeof tok, &err), NQ_EINVAL);
    assert_string_equal(tok, "");
    base_claims(&c);
    c.aud[0] = '\0';
    assert_int_equal(nq_jwt_sign(&k, &c, tok, sizeof tok, &err), NQ_EINVAL);
    base_claims(&c);
    c.exp = c.iat;
    assert_int_equal(nq_jwt_sign(&k, &c, tok, sizeof tok, &err), NQ_EINVAL);
    base_claims(&c);
    c.nbf = -1;
    assert_int_equal(nq_jwt_sign(&k, &c, tok, sizeof tok, &err), NQ_EINVAL);
    base_claims(&c);
    snprintf(c.sub, sizeof c.sub, "a\nb");
    assert_int_equal(nq_jwt_sign(&k, &c, tok, sizeof tok, &err), NQ_EINVAL);
    base_claims(&c);
    snprintf(c.sub, sizeof c.sub, "a\xc3(");
    assert_int_equal(nq_jwt_sign(&k, &c, tok, sizeof tok, &err), NQ_EINVAL);
    snprintf(c.sub, sizeof c.sub, "\xed\xa0\x80"); /* a surrogate */
    assert_int_equal(nq_jwt_sign(&k, &c, tok, sizeof tok, &err), NQ_EINVAL);
    snprintf(c.sub, sizeof c.sub, "\xc0\xaf"); /* overlong '/' */
    assert_int_equal(nq_jwt_sign(&k, &c, tok, sizeof tok, &err), NQ_EINVAL);
    base_claims(&c);
    memset(c.jti, 'j', sizeof c.jti); /* no NUL */
    assert_int_equal(nq_jwt_sign(&k, &c, tok, sizeof tok, &err), NQ_EINVAL);
    base_claims(&c);
    assert_int_equal(nq_jwt_sign(&k, &c, tok, 100, &err), NQ_ELIMIT);
    assert_string_equal(tok, "");
    assert_int_equal(nq_jwt_sign(&k, &c, tok, sizeof tok, &err), NQ_OK);
    size_t len = strlen(tok);
    assert_int_equal(nq_jwt_sign(&k, &c, tok, len, &err), NQ_ELIMIT);
    assert_int_equal(nq_jwt_sign(&k, &c, tok, len + 1, &err), NQ_OK);
    nq_jwt_keyring_wipe(&k);
    assert_int_equal(nq_jwt_sign(&k, &c, tok, sizeof tok, &err), NQ_EINVAL);
    assert_non_null(strstr(err.msg, "no signing key"));
}

/* RFC 7515 appendix A.1: the HS256 example's key, signing input and MAC. */
static void test_rfc7515_a1(void **state)
{
    (void)state;
    static const char jwk_k[] = "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS"
                                "4hcgUuTwjAzZr1Z9CAow";
    static const char input[] = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9"
                                "."
                                "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFt"
                                "cGxlLmNvbS9pc19yb290Ijp0cnVlfQ";
    static const char sig[] = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    unsigned char key[64];
    size_t n = 0;
    assert_int_equal(sodium_base642bin(key, sizeof key, jwk_k, strlen(jwk_k), NULL, &n, NULL, B64),
                     0);
    assert_int_equal(n, 64);
    char out[NQ_JWT_MAC_B64_LEN + 1];
    assert_int_equal(nq_jwt_hs256_b64(key, n, input, strlen(input), out, NULL), NQ_OK);
    assert_string_equal(out, sig);
    assert_int_equal(nq_jwt_hs256_b64(key, 31, input, strlen(input), out, NULL), NQ_EINVAL);

    /* The same key loads from a spec; the example token itself has no kid
     * and claims we do not issue, so it is refused. */
    char spec[128], tok[512];
    snprintf(spec, sizeof spec, "rfc:%s", jwk_k);
    nq_jwt_keyring k;
    assert_int_equal(nq_jwt_keyring_parse(&k, spec, NULL), NQ_OK);
    snprintf(tok, sizeof tok, "%s.%s", input, sig);
    assert_refused(&k, tok, NQ_EINVAL, "kid is missing");
    nq_jwt_keyring_wipe(&k);
}

/* The third part of a token we sign is HMAC-SHA256 of the first two under
 * the signing key, as libsodium's one-shot function computes it. */
static void test_signature_is_hmac(void **state)
{
    (void)state;
    nq_jwt_keyring k;
    ring_one(&k, "k1", 7);
    nq_jwt_claims c;
    base_claims(&c);
    char tok[NQ_JWT_TOKEN_MAX + 1];
    assert_int_equal(nq_jwt_sign(&k, &c, tok, sizeof tok, NULL), NQ_OK);
    const char *last = strrchr(tok, '.');
    unsigned char key[32], mac[32];
    fill_key(key, sizeof key, 7);
    crypto_auth_hmacsha256(mac, (const unsigned char *)tok, (size_t)(last - tok), key);
    char want[64];
    b64(want, sizeof want, mac, sizeof mac);
    assert_string_equal(last + 1, want);
    nq_jwt_keyring_wipe(&k);
}

/* ---- attacks: the header ------------------------------------------------- */

static void test_alg_none_and_others(void **state)
{
    (void)state;
    nq_jwt_keyring k;
    ring_one(&k, "k1", 7);
    char pl[512], tok[2048];
    good_payload(pl, sizeof pl, std_times());

    /* alg none without a signature: "h.p." and "h.p". */
    forge(tok, sizeof tok, "{\"alg\":\"none\",\"typ\":\"JWT\"}", pl, NULL, 0);
    assert_refused(&k, tok, NQ_EINVAL, "signature part is empty");
    tok[strlen(tok) - 1] = '\0';
    assert_refused(&k, tok, NQ_EINVAL, "has 2 parts");
    /* alg none with a kid and a correct MAC is still refused. */
    static const char *const algs[] = {"none", "None", "NONE", "hs256", "Hs256", "HS256 ",
                                       "HS384", "HS512", "RS256", "ES256", "PS256", ""};
    for (size_t i = 0; i < sizeof algs / sizeof algs[0]; i++) {
        char h[128];
        snprintf(h, sizeof h, "{\"alg\":\"%s\",\"typ\":\"JWT\",\"kid\":\"k1\"}", algs[i]);
        forge_k1(tok, sizeof tok, h, pl);
        assert_refused(&k, tok, NQ_EINVAL, "alg must be \"HS256\"");
    }
    forge_k1(tok, sizeof tok, "{\"alg\":[\"HS256\"],\"kid\":\"k1\"}", pl);
    assert_refused(&k, tok, NQ_EINVAL, "alg must be");
    forge_k1(tok, sizeof tok, "{\"alg\":null,\"kid\":\"k1\"}", pl);
    assert_refused(&k, tok, NQ_EINVAL, "alg must be");
    forge_k1(tok, sizeof tok, "{\"alg\":\"HS256\\u0000\",\"kid\":\"k1\"}", pl);
    assert_refused(&k, tok, NQ_EINVAL, "not valid JSON");
    forge_k1(tok, sizeof tok, "{\"typ\":\"JWT\",\"kid\":\"k1\"}", pl);
    assert_refused(&k, tok, NQ_EINVAL, "alg is missing");
    /* typ is optional but must be JWT when present. */
    forge_k1(tok, sizeof tok, "{\"alg\":\"HS256\",\"kid\":\"k1\"}", pl);
    nq_jwt_claims c;
    assert_accepted(&k, tok, &c);
    forge_k1(tok, sizeof tok, "{\"alg\":\"HS256\",\"typ\":\"JWS\",\"kid\":\"k1\"}", pl);
    assert_refused(&k, tok, NQ_EINVAL, "typ must be \"JWT\"");
    forge_k1(tok, sizeof tok, "{\"alg\":\"HS256\",\"typ\":\"jwt\",\"kid\":\"k1\"}", pl);
    assert_refused(&k, tok, NQ_EINVAL, "typ must be \"JWT\"");
    nq_jwt_keyring_wipe(&k);
}

static void test_header_members(void **state)
{
    (void)state;
    nq_jwt_keyring k;
    ring_one(&k, "k1", 7);
    char pl[512], tok[2048];
    good_payload(pl, sizeof pl, std_times());
    static const char *const extra[] = {"crit", "jku", "x5u", "jwk", "x5c", "cty", "b64", "zip"};
    for (size_t i = 0; i < sizeof extra / sizeof extra[0]; i++) {
        char h[160];
        snprintf(h, sizeof h, "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"k1\",\"%s\":[\"exp\"]}",
                 extra[i]);
        forge_k1(tok, sizeof tok, h, pl);
        assert_refused(&k, tok, NQ_EINVAL, "members other than alg, typ and kid");
    }
    forge_k1(tok, sizeof tok, "{\"alg\":\"HS256\",\"kid\":\"k1\",\"crit\":[]}", pl);
    assert_refused(&k, tok, NQ_EINVAL, "members other than");
    forge_k1(tok, sizeof tok, "{\"alg\":\"HS256\",\"alg\":\"HS256\",\"kid\":\"k1\"}", pl);
    assert_refused(&k, tok, NQ_EINVAL, "duplicate member");
    forge_k1(tok, sizeof tok, "{\"alg\":\"none\",\"alg\":\"HS256\",\"kid\":\"k1\"}", pl);
    assert_refused(&k, tok, NQ_EINVAL, "duplicate member");
    forge_k1(tok, sizeof tok, "{\"alg\":\"HS256\",\"typ\":\"JWT\"}", pl);
    assert_refused(&k, tok, NQ_EINVAL, "kid is missing");
    forge_k1(tok, sizeof tok, "{\"alg\":\"HS256\",\"kid\":1}", pl);
    assert_refused(&k, tok, NQ_EINVAL, "kid must be a string");
    forge_k1(tok, sizeof tok, "{\"alg\":\"HS256\",\"kid\":\"K1\"}", pl);
    assert_refused(&k, tok, NQ_EINVAL, "kid is not in the keyring");
    forge_k1(tok, sizeof tok, "{\"alg\":\"HS256\",\"kid\":\"k1\\u0000\"}", pl);
    assert_refused(&k, tok, NQ_EINVAL, "not valid JSON");
    /* Not an object, or not JSON at all. */
    static const char *const not_obj[] = {"[]", "\"HS256\"", "1", "null", "{", "",
                                          "{\"alg\":\"HS256\",\"kid\":\"k1\"} x"};
    static const char *const why[] = {"not a JSON object", "not valid JSON", "not valid JSON",
                                      "not valid JSON", "not valid JSON", "part is empty",
                                      "not valid JSON"};
    for (size_t i = 0; i < sizeof not_obj / sizeof not_obj[0]; i++) {
        forge_k1(tok, sizeof tok, not_obj[i], pl);
        assert_refused(&k, tok, NQ_EINVAL, why[i]);
    }
    nq_jwt_keyring_wipe(&k);
}

/* ---- attacks: the signature and the keys --------------------------------- */

static void test_signature_tampering(void **state)
{
    (void)state;
    nq_jwt_keyring k;
    ring_one(&k, "k1", 7);
    nq_jwt_claims c;
    base_claims(&c);
    char tok[NQ_JWT_TOKEN_MAX + 1], bad[NQ_JWT_TOKEN_MAX + 1];
    assert_int_equal(nq_jwt_sign(&k, &c, tok, sizeof tok, NULL), NQ_OK);
    char *sig = strrchr(tok, '.') + 1;
    unsigned char mac[32];
    size_t n = 0;
    assert_int_equal(sodium_base642bin(mac, sizeof mac, sig, strlen(sig), NULL, &n, NULL, B64), 0);
    assert_int_equal(n, 32);
    /* One flipped bit in each byte of the MAC. */
    for (size_t i = 0; i < 32; i++) {
        for (int bit = 0; bit < 8; bit += 7) {
            mac[i] ^= (unsigned char)(1u << ((i + (size_t)bit) % 8));
            memcpy(bad, tok, (size_t)(sig - tok));
            b64(bad + (sig - tok), sizeof bad - (size_t)(sig - tok), mac, sizeof mac);
            assert_refused(&k, bad, NQ_EINVAL, "does not match");
            mac[i] ^= (unsigned char)(1u << ((i + (size_t)bit) % 8));
        }
    }
    /* Any one character changed anywhere in the token. */
    size_t len = strlen(tok);
    for (size_t i = 0; i < len; i++) {
        if (tok[i] == '.')
            continue;
        memcpy(bad, tok, len + 1);
        bad[i] = tok[i] == 'A' ? 'B' : 'A';
        nq_err err;
        nq_jwt_claims out;
        assert_int_equal(nq_jwt_verify(&k, bad, &EXPECT, NOW, &out, &err), NQ_EINVAL);
    }
    /* Short, long, stray-bit and missing MACs. */
    memcpy(bad, tok, len + 1);
    bad[len - 1] = '\0';
    assert_refused(&k, bad, NQ_EINVAL, "not 32 bytes");
    memcpy(bad, tok, len + 1);
    strcat(bad, "A");
    assert_refused(&k, bad, NQ_EINVAL, "not 32 bytes");
    memcpy(bad, tok, len + 1);
    bad[len - 1] = sig[42] == 'B' ? 'C' : 'B'; /* 43rd character carries 2 stray bits */
    nq_err err;
    nq_jwt_claims out;
    assert_int_equal(nq_jwt_verify(&k, bad, &EXPECT, NOW, &out, &err), NQ_EINVAL);
    memcpy(bad, tok, (size_t)(sig - tok));
    memset(bad + (sig - tok), 'A', 43);
    bad[(sig - tok) + 43] = '\0';
    assert_refused(&k, bad, NQ_EINVAL, "does not match");
    nq_jwt_keyring_wipe(&k);
}

static void test_wrong_key_and_kid(void **state)
{
    (void)state;
    nq_jwt_keyring mine, theirs;
    ring_one(&mine, "k1", 7);
    ring_one(&theirs, "k1", 9); /* same kid, other key */
    nq_jwt_claims c;
    base_claims(&c);
    char tok[NQ_JWT_TOKEN_MAX + 1];
    assert_int_equal(nq_jwt_sign(&theirs, &c, tok, sizeof tok, NULL), NQ_OK);
    assert_refused(&mine, tok, NQ_EINVAL, "does not match");
    nq_jwt_keyring_wipe(&theirs);
    ring_one(&theirs, "k9", 7); /* same key, unknown kid */
    assert_int_equal(nq_jwt_sign(&theirs, &c, tok, sizeof tok, NULL), NQ_OK);
    assert_refused(&mine, tok, NQ_EINVAL, "kid is not in the keyring");

    /* No fallback: a token naming k1 but signed with k2's key fails even
     * though k2 is in the ring. */
    unsigned char k2[40];
    fill_key(k2, sizeof k2, 23);
    assert_int_equal(nq_jwt_keyring_add(&mine, "k2", k2, sizeof k2, NULL), NQ_OK);
    char pl[512], forged[2048];
    good_payload(pl, sizeof pl, std_times());
    forge(forged, sizeof forged, HDR_K1, pl, k2, sizeof k2);
    assert_refused(&mine, forged, NQ_EINVAL, "does not match");
    forge(forged, sizeof forged, "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"k2\"}", pl, k2,
          sizeof k2);
    assert_accepted(&mine, forged, &c);
    nq_jwt_keyring_wipe(&mine);
    nq_jwt_keyring_wipe(&theirs);
}

static void test_rotation(void **state)
{
    (void)state;
    nq_jwt_keyring k;
    ring_one(&k, "2024-01", 7);
    nq_jwt_claims c, out;
    base_claims(&c);
    char old_tok[NQ_JWT_TOKEN_MAX + 1], new_tok[NQ_JWT_TOKEN_MAX + 1];
    assert_int_equal(nq_jwt_sign(&k, &c, old_tok, sizeof old_tok, NULL), NQ_OK);
    unsigned char key[48];
    fill_key(key, sizeof key, 29);
    assert_int_equal(nq_jwt_keyring_add(&k, "2024-02", key, sizeof key, NULL), NQ_OK);
    assert_int_equal(nq_jwt_sign(&k, &c, new_tok, sizeof new_tok, NULL), NQ_OK);
    assert_string_not_equal(old_tok, new_tok);
    assert_accepted(&k, old_tok, &out);
    assert_accepted(&k, new_tok, &out);
    assert_int_equal(nq_jwt_keyring_remove(&k, "2024-01", NULL), NQ_OK);
    assert_refused(&k, old_tok, NQ_EINVAL, "kid is not in the keyring");
    assert_accepted(&k, new_tok, &out);
    nq_jwt_keyring_wipe(&k);
    assert_refused(&k, new_tok, NQ_EINVAL, "kid is not in the keyring");
}

/* ---- attacks: structure and encoding ------------------------------------- */

static void test_structure(void **state)
{
    (void)state;
    nq_jwt_keyring k;
    ring_one(&k, "k1", 7);
    nq_jwt_claims c;
    base_claims(&c);
    char tok[NQ_JWT_TOKEN_MAX + 1], bad[NQ_JWT_TOKEN_MAX + 64];
    assert_int_equal(nq_jwt_sign(&k, &c, tok, sizeof tok, NULL), NQ_OK);
    const char *d1 = strchr(tok, '.'), *d2 = strrchr(tok, '.');
    int h = (int)(d1 - tok), p = (int)(d2 - d1 - 1);

    assert_refused(&k, "", NQ_EINVAL, "has 1 parts");
    assert_refused(&k, "..", NQ_EINVAL, "header part is empty");
    assert_refused(&k, "...", NQ_EINVAL, "has 4 parts");
    snprintf(bad, sizeof bad, "%.*s", (int)(d2 - tok), tok);
    assert_refused(&k, bad, NQ_EINVAL, "has 2 parts");
    snprintf(bad, sizeof bad, "%s.%s", tok, d2 + 1);
    assert_refused(&k, bad, NQ_EINVAL, "has 4 parts");
    snprintf(bad, sizeof bad, "%s.", tok);
    assert_refused(&k, bad, NQ_EINVAL, "has 4 parts");
    snprintf(bad, sizeof bad, ".%s", tok);
    assert_refused(&k, bad, NQ_EINVAL, "has 4 parts");
    snprintf(bad, sizeof bad, ".%s", d1 + 1);
    assert_refused(&k, bad, NQ_EINVAL, "header part is empty");
    snprintf(bad, sizeof bad, "%.*s.%s", h, tok, d2);
    assert_refused(&k, bad, NQ_EINVAL, "payload part is empty");
    snprintf(bad, sizeof bad, "%.*s.", (int)(d2 - tok), tok);
    assert_refused(&k, bad, NQ_EINVAL, "signature part is empty");

    /* Characters outside unpadded base64url in each part. */
    static const char bad_chars[] = "=+/ \t\n*%~\x80\xff";
    for (size_t i = 0; i < sizeof bad_chars - 1; i++) {
        static const char *const names[] = {"header part", "payload part", "signature part"};
        size_t at[3] = {(size_t)h / 2, (size_t)(d1 - tok) + 1 + (size_t)p / 2,
                        (size_t)(d2 - tok) + 10};
        for (int part = 0; part < 3; part++) {
            memcpy(bad, tok, strlen(tok) + 1);
            bad[at[part]] = bad_chars[i];
            assert_refused(&k, bad, NQ_EINVAL, names[part]);
        }
    }
    /* Padding added at the end of each part. */
    snprintf(bad, sizeof bad, "%.*s==%s", h, tok, d1);
    assert_refused(&k, bad, NQ_EINVAL, "outside unpadded base64url");
    snprintf(bad, sizeof bad, "%s=", tok);
    assert_refused(&k, bad, NQ_EINVAL, "outside unpadded base64url");
    /* Standard base64 of the same header. */
    char std_hdr[128];
    sodium_bin2base64(std_hdr, sizeof std_hdr, (const unsigned char *)"{\"alg\":\"HS256\"}>?", 17,
                      sodium_base64_VARIANT_ORIGINAL);
    snprintf(bad, sizeof bad, "%s%s", std_hdr, d1);
    assert_refused(&k, bad, NQ_EINVAL, "outside unpadded base64url");
    /* A part whose length is 1 mod 4 cannot be base64. */
    snprintf(bad, sizeof bad, "AAAAA%s", d1);
    assert_refused(&k, bad, NQ_EINVAL, "header: not canonical");
    nq_jwt_keyring_wipe(&k);
}

static void test_sizes(void **state)
{
    (void)state;
    nq_jwt_keyring k;
    ring_one(&k, "k1", 7);
    static char big[NQ_JWT_TOKEN_MAX + 2];
    memset(big, 'A', NQ_JWT_TOKEN_MAX + 1);
    big[NQ_JWT_TOKEN_MAX + 1] = '\0';
    assert_refused(&k, big, NQ_ELIMIT, "longer than 4096 bytes");
    big[NQ_JWT_TOKEN_MAX] = '\0'; /* 4096 bytes: looked at, then refused for its shape */
    assert_refused(&k, big, NQ_EINVAL, "has 1 parts");
    big[100] = big[200] = '.';
    assert_refused(&k, big, NQ_EINVAL, "header");

    /* A signed token just over the limit, with a big unknown claim. */
    char pl[4096], filler[3000], tok[8192];
    memset(filler, 'x', sizeof filler - 1);
    filler[sizeof filler - 1] = '\0';
    snprintf(pl, sizeof pl, "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"u\",%s,\"x\":\"%s\"}",
             std_times(), filler);
    forge_k1(tok, sizeof tok, HDR_K1, pl);
    assert_true(strlen(tok) > NQ_JWT_TOKEN_MAX);
    assert_refused(&k, tok, NQ_ELIMIT, "longer than");
    nq_jwt_keyring_wipe(&k);
}

/* ---- attacks: the claims ------------------------------------------------- */

/* Sign payload with k1 and expect the given refusal. */
static void refuse_payload(const nq_jwt_keyring *k, const char *payload, const char *msg_part)
{
    char tok[8192];
    forge_k1(tok, sizeof tok, HDR_K1, payload);
    assert_refused(k, tok, NQ_EINVAL, msg_part);
}

static void accept_payload(const nq_jwt_keyring *k, const char *payload, nq_jwt_claims *out)
{
    char tok[8192];
    forge_k1(tok, sizeof tok, HDR_K1, payload);
    assert_accepted(k, tok, out);
}

static void test_times(void **state)
{
    (void)state;
    nq_jwt_keyring k;
    ring_one(&k, "k1", 7);
    char pl[512], t[256];
    nq_jwt_claims c;
    long long now = (long long)NOW;
    struct {
        long long iat;
        const char *nbf, *exp;
        const char *msg; /* NULL: accepted */
    } cases[] = {
        {now - 10, NULL, "+600", NULL},
        {now - 10, NULL, "-29", NULL}, /* expired, within the leeway */
        {now - 10, NULL, "-30", "token has expired"},
        {now - 10, NULL, "-31", "token has expired"},
        {now - 10, "+30", "+600", NULL},
        {now - 10, "+31", "+600", "not valid yet"},
        {now - 10, "+0", "+600", NULL},
        {now + 31, NULL, "+600", "issued in the future"},
        {now + 30, NULL, "+600", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        long long exp = now + strtoll(cases[i].exp, NULL, 10);
        if (cases[i].nbf)
            snprintf(t, sizeof t, "\"iat\":%lld,\"nbf\":%lld,\"exp\":%lld", cases[i].iat,
                     now + strtoll(cases[i].nbf, NULL, 10), exp);
        else
            snprintf(t, sizeof t, "\"iat\":%lld,\"exp\":%lld", cases[i].iat, exp);
        good_payload(pl, sizeof pl, t);
        if (cases[i].msg)
            refuse_payload(&k, pl, cases[i].msg);
        else
            accept_payload(&k, pl, &c);
    }
    accept_payload(&k, pl, &c); /* the last case */
    assert_int_equal(c.iat, now + 30);
    assert_int_equal(c.exp, now + 600);

    nq_jwt_keyring_wipe(&k);
}

static void test_time_types(void **state)
{
    (void)state;
    nq_jwt_keyring k;
    ring_one(&k, "k1", 7);
    char pl[512];
    nq_jwt_claims c;
    /* Missing and mistyped times. */
    struct {
        const char *times, *msg;
    } bad[] = {
        {"\"iat\":1699999990", "claim exp is required"},
        {"\"exp\":1700000600", "claim iat is required"},
        {"\"iat\":1699999990,\"exp\":\"1700000600\"", "exp must be an integer"},
        {"\"iat\":1699999990,\"exp\":1700000600.0", "exp must be an integer"},
        {"\"iat\":1699999990,\"exp\":1.7000006e9", "exp must be an integer"},
        {"\"iat\":1699999990,\"exp\":true", "exp must be an integer"},
        {"\"iat\":1699999990,\"exp\":null", "exp must be an integer"},
        {"\"iat\":1699999990,\"exp\":[1700000600]", "exp must be an integer"},
        {"\"iat\":1699999990,\"exp\":99999999999999999999", "not valid JSON"},
        {"\"iat\":1699999990,\"exp\":-1", "exp must not be negative"},
        {"\"iat\":\"now\",\"exp\":1700000600", "iat must be an integer"},
        {"\"iat\":-5,\"exp\":1700000600", "iat must not be negative"},
        {"\"iat\":1699999990,\"nbf\":1.5,\"exp\":1700000600", "nbf must be an integer"},
        {"\"iat\":1699999990,\"nbf\":-1,\"exp\":1700000600", "nbf must not be negative"},
        {"\"iat\":1699999990,\"exp\":1700000600,\"exp\":1800000000", "duplicate member"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        good_payload(pl, sizeof pl, bad[i].times);
        refuse_payload(&k, pl, bad[i].msg);
    }
    /* exp near the top of int64 must not wrap into the past. */
    good_payload(pl, sizeof pl, "\"iat\":1699999990,\"exp\":9223372036854775807");
    accept_payload(&k, pl, &c);
    assert_int_equal(c.exp, INT64_MAX);
    nq_jwt_keyring_wipe(&k);
}

static void test_iss_aud_sub(void **state)
{
    (void)state;
    nq_jwt_keyring k;
    ring_one(&k, "k1", 7);
    char pl[1024];
    const char *t = std_times();
    nq_jwt_claims c;
    const char *iss = "\"iss\":\"" ISS "\"", *aud = "\"aud\":\"" AUD "\"", *sub = "\"sub\":\"u1\"";
    struct {
        const char *iss, *aud, *sub, *msg;
    } cases[] = {
        {NULL, aud, sub, "claim iss is required"},
        {"\"iss\":\"https://evil.test\"", aud, sub, "another issuer"},
        {"\"iss\":\"" ISS "/\"", aud, sub, "another issuer"},
        {"\"iss\":\"HTTPS://AUTH.NQBA.TEST\"", aud, sub, "another issuer"},
        {"\"iss\":1", aud, sub, "must be a string"},
        {"\"iss\":\"\"", aud, sub, "must be 1..128 bytes"},
        {iss, NULL, sub, "claim aud is required"},
        {iss, "\"aud\":\"other\"", sub, "not for this audience"},
        {iss, "\"aud\":\"" AUD " \"", sub, "not for this audience"},
        {iss, "\"aud\":[\"other\",\"more\"]", sub, "not for this audience"},
        {iss, "\"aud\":[]", sub, "1..8 audiences"},
        {iss, "\"aud\":[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\",\"h\",\"" AUD "\"]", sub,
         "1..8 audiences"},
        {iss, "\"aud\":[\"" AUD "\",1]", sub, "must be a string"},
        {iss, "\"aud\":{\"" AUD "\":1}", sub, "must be a string"},
        {iss, "\"aud\":null", sub, "must be a string"},
        {iss, aud, NULL, "claim sub is required"},
        {iss, aud, "\"sub\":\"\"", "must be 1..128 bytes"},
        {iss, aud, "\"sub\":42", "must be a string"},
        {iss, aud, "\"sub\":\"a\\nb\"", "control character"},
        {iss, aud, "\"sub\":\"a\\u007fb\"", "control character"},
        {iss, aud, "\"sub\":\"a\\u0000b\"", "not valid JSON"},
        {iss, aud, "\"sub\":\"a\",\"sub\":\"admin\"", "duplicate member"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        payload_of(pl, sizeof pl, cases[i].iss, cases[i].aud, cases[i].sub, t);
        refuse_payload(&k, pl, cases[i].msg);
    }
    /* aud as an array that holds the expected audience. */
    payload_of(pl, sizeof pl, iss, "\"aud\":[\"other\",\"" AUD "\"]", sub, t);
    accept_payload(&k, pl, &c);
    assert_string_equal(c.aud, AUD);
    assert_string_equal(c.sub, "u1");
    assert_string_equal(c.iss, ISS);
    assert_false(c.mfa);
    /* Sizes at and past the limits. */
    char s[200];
    memset(s, 's', 128);
    s[128] = '\0';
    char member[256];
    snprintf(member, sizeof member, "\"sub\":\"%s\"", s);
    payload_of(pl, sizeof pl, iss, aud, member, t);
    accept_payload(&k, pl, &c);
    assert_int_equal(strlen(c.sub), 128);
    snprintf(member, sizeof member, "\"sub\":\"%ss\"", s);
    payload_of(pl, sizeof pl, iss, aud, member, t);
    refuse_payload(&k, pl, "must be 1..128 bytes");
    nq_jwt_keyring_wipe(&k);
}

static void test_other_claims(void **state)
{
    (void)state;
    nq_jwt_keyring k;
    ring_one(&k, "k1", 7);
    char pl[2048], t[1024];
    nq_jwt_claims c;
    struct {
        const char *extra, *msg;
    } cases[] = {
        {"\"role\":1", "must be a string"},
        {"\"role\":\"\"", "must be 1..32 bytes"},
        {"\"role\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"", "must be 1..32 bytes"},
        {"\"scope\":[\"read\"]", "must be a string"},
        {"\"jti\":null", "must be a string"},
        {"\"mfa\":1", "mfa must be true or false"},
        {"\"mfa\":\"true\"", "mfa must be true or false"},
        {"\"admin\":true", "a claim we do not issue"},
        {"\"role\":\"user\",\"role\":\"admin\"", "duplicate member"},
        {"\"mfa\":false,\"mfa\":true", "duplicate member"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(t, sizeof t, "%s,%s", std_times(), cases[i].extra);
        good_payload(pl, sizeof pl, t);
        refuse_payload(&k, pl, cases[i].msg);
    }
    snprintf(t, sizeof t, "%s,\"role\":\"admin\",\"scope\":\"a b\",\"jti\":\"j\",\"mfa\":true",
             std_times());
    good_payload(pl, sizeof pl, t);
    accept_payload(&k, pl, &c);
    assert_string_equal(c.role, "admin");
    assert_string_equal(c.scope, "a b");
    assert_string_equal(c.jti, "j");
    assert_true(c.mfa);
    /* The payload must be an object too. */
    refuse_payload(&k, "[]", "payload: not a JSON object");
    refuse_payload(&k, "{\"sub\":", "payload: not valid JSON");
    nq_jwt_keyring_wipe(&k);
}

static void test_verify_arguments(void **state)
{
    (void)state;
    nq_jwt_keyring k;
    ring_one(&k, "k1", 7);
    nq_jwt_claims c;
    base_claims(&c);
    char tok[NQ_JWT_TOKEN_MAX + 1];
    assert_int_equal(nq_jwt_sign(&k, &c, tok, sizeof tok, NULL), NQ_OK);
    nq_err err;
    nq_jwt_expect x = {NULL, AUD, 30};
    assert_int_equal(nq_jwt_verify(&k, tok, &x, NOW, &c, &err), NQ_EINVAL);
    x = (nq_jwt_expect){ISS, "", 30};
    assert_int_equal(nq_jwt_verify(&k, tok, &x, NOW, &c, &err), NQ_EINVAL);
    x = (nq_jwt_expect){ISS, AUD, -1};
    assert_int_equal(nq_jwt_verify(&k, tok, &x, NOW, &c, &err), NQ_EINVAL);
    x = (nq_jwt_expect){ISS, AUD, NQ_JWT_LEEWAY_MAX + 1};
    assert_int_equal(nq_jwt_verify(&k, tok, &x, NOW, &c, &err), NQ_EINVAL);
    x = (nq_jwt_expect){ISS, AUD, 0};
    assert_int_equal(nq_jwt_verify(&k, tok, &x, NOW, &c, &err), NQ_OK);
    assert_int_equal(nq_jwt_verify(NULL, tok, &x, NOW, &c, &err), NQ_EINVAL);
    assert_int_equal(nq_jwt_verify(&k, NULL, &x, NOW, &c, &err), NQ_EINVAL);
    assert_int_equal(nq_jwt_verify(&k, tok, NULL, NOW, &c, &err), NQ_EINVAL);
    assert_int_equal(nq_jwt_verify(&k, tok, &x, NOW, NULL, &err), NQ_EINVAL);
    assert_int_equal(nq_jwt_verify(&k, tok, &x, NOW, &c, NULL), NQ_OK);
    nq_jwt_keyring_wipe(&k);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keyring_add_and_limits),
        cmocka_unit_test(test_keyring_signing_and_remove),
        cmocka_unit_test(test_key_spec_good),
        cmocka_unit_test(test_key_spec_bad),
        cmocka_unit_test(test_key_new),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_sign_refuses),
        cmocka_unit_test(test_rfc7515_a1),
        cmocka_unit_test(test_signature_is_hmac),
        cmocka_unit_test(test_alg_none_and_others),
        cmocka_unit_test(test_header_members),
        cmocka_unit_test(test_signature_tampering),
        cmocka_unit_test(test_wrong_key_and_kid),
        cmocka_unit_test(test_rotation),
        cmocka_unit_test(test_structure),
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_times),
        cmocka_unit_test(test_time_types),
        cmocka_unit_test(test_iss_aud_sub),
        cmocka_unit_test(test_other_claims),
        cmocka_unit_test(test_verify_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
