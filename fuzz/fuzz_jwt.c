/* fuzz_jwt.c - libFuzzer target for nq_jwt_verify and nq_jwt_keyring_parse.
 *
 * Every input is verified as a token against a fixed ring and a fixed time.
 * It must never crash, and a token is accepted only if its third part is
 * the HMAC of its first two under one of the ring's keys, recomputed here
 * with libsodium alone: the fuzzer cannot forge a MAC, so any success on a
 * token it made up is a bug.
 *
 * Since a made-up token almost never gets past the MAC, an input that
 * starts with byte 0x01 also names a header and a payload ("\x01" HEADER
 * "\n" PAYLOAD); the target signs them with the first key and verifies the
 * result, so the claim checks behind the MAC get fuzzed too. Every input
 * is also parsed as a key spec. */
#include <sodium.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nqba/jwt.h"

#define FUZZ_NOW INT64_C(1700000000)
#define FUZZ_LEEWAY 30
#define B64 sodium_base64_VARIANT_URLSAFE_NO_PADDING

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const kids[2] = {"k1", "k2"};
static const size_t key_lens[2] = {32, 64};

/* The keys of the ring: fixed bytes, so seeds signed once stay valid. */
static void fuzz_key(int which, unsigned char key[64])
{
    for (size_t i = 0; i < 64; i++)
        key[i] = (unsigned char)(i * (which ? 13u : 7u) + 1);
}

static void fuzz_ring(nq_jwt_keyring *k)
{
    unsigned char key[64];
    nq_jwt_keyring_init(k);
    for (int i = 0; i < 2; i++) {
        fuzz_key(i, key);
        if (nq_jwt_keyring_add(k, kids[i], key, key_lens[i], NULL) != NQ_OK)
            abort();
    }
    if (nq_jwt_keyring_set_signing(k, "k1", NULL) != NQ_OK)
        abort();
}

/* base64url HMAC-SHA256 of in[0..n) under key `which`. */
static void mac_b64(int which, const char *in, size_t n, char out[NQ_JWT_MAC_B64_LEN + 1])
{
    unsigned char key[64], mac[32];
    fuzz_key(which, key);
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, key, key_lens[which]);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)in, n);
    crypto_auth_hmacsha256_final(&st, mac);
    sodium_bin2base64(out, NQ_JWT_MAC_B64_LEN + 1, mac, sizeof mac, B64);
}

/* An accepted token must carry a MAC we computed, and claims that pass
 * the checks verify promised. */
static void check_accepted(const char *tok, const nq_jwt_claims *c, const nq_jwt_expect *x)
{
    const char *last = strrchr(tok, '.');
    if (!last)
        abort();
    bool signed_by_us = false;
    for (int i = 0; i < 2; i++) {
        char want[NQ_JWT_MAC_B64_LEN + 1];
        mac_b64(i, tok, (size_t)(last - tok), want);
        signed_by_us = signed_by_us || strcmp(last + 1, want) == 0;
    }
    if (!signed_by_us)
        abort();
    if (strcmp(c->iss, x->iss) != 0 || strcmp(c->aud, x->aud) != 0 || !c->sub[0])
        abort();
    if (c->exp < INT64_MAX - FUZZ_LEEWAY && FUZZ_NOW >= c->exp + FUZZ_LEEWAY)
        abort();
    if (c->iat > FUZZ_NOW + FUZZ_LEEWAY || c->nbf > FUZZ_NOW + FUZZ_LEEWAY)
        abort();
}

static void verify_one(const nq_jwt_keyring *k, const char *tok)
{
    static const nq_jwt_expect x = {"https://auth.nqba.test", "nqba-api", FUZZ_LEEWAY};
    nq_jwt_claims c;
    nq_err err;
    nq_err_clear(&err);
    int rc = nq_jwt_verify(k, tok, &x, FUZZ_NOW, &c, &err);
    if (rc == NQ_OK) {
        check_accepted(tok, &c, &x);
        return;
    }
    if ((rc != NQ_EINVAL && rc != NQ_ELIMIT) || err.code != rc || !err.msg[0])
        abort();
    for (size_t i = 0; i < sizeof c; i++)
        if (((const unsigned char *)&c)[i] != 0)
            abort();
}

/* "\x01" HEADER "\n" PAYLOAD: sign them with k1 and verify the token. */
static void verify_signed(const nq_jwt_keyring *k, const char *in, size_t n)
{
    const char *nl = memchr(in, '\n', n);
    if (!nl)
        return;
    size_t hn = (size_t)(nl - in), pn = n - hn - 1;
    size_t need = sodium_base64_ENCODED_LEN(hn, B64) + sodium_base64_ENCODED_LEN(pn, B64) +
                  NQ_JWT_MAC_B64_LEN + 2;
    char *tok = malloc(need);
    if (!tok)
        abort();
    sodium_bin2base64(tok, need, (const unsigned char *)in, hn, B64);
    size_t at = strlen(tok);
    tok[at++] = '.';
    sodium_bin2base64(tok + at, need - at, (const unsigned char *)nl + 1, pn, B64);
    at += strlen(tok + at);
    char mac[NQ_JWT_MAC_B64_LEN + 1];
    mac_b64(0, tok, at, mac);
    tok[at++] = '.';
    memcpy(tok + at, mac, sizeof mac);
    verify_one(k, tok);
    free(tok);
}

static void parse_spec(const char *spec)
{
    nq_jwt_keyring k;
    nq_err err;
    int rc = nq_jwt_keyring_parse(&k, spec, &err);
    if (rc == NQ_OK && (k.count < 1 || k.signing != 0))
        abort();
    if (rc != NQ_OK && (rc != NQ_EINVAL || k.count != 0 || !err.msg[0]))
        abort();
    nq_jwt_keyring_wipe(&k);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 3 * NQ_JWT_TOKEN_MAX)
        return 0;
    char *in = malloc(size + 1);
    if (!in)
        abort();
    memcpy(in, data, size);
    in[size] = '\0';
    nq_jwt_keyring k;
    fuzz_ring(&k);
    verify_one(&k, in); /* verify stops at the first NUL, as a C string does */
    if (size > 0 && in[0] == 0x01)
        verify_signed(&k, in + 1, size - 1);
    parse_spec(in);
    nq_jwt_keyring_wipe(&k);
    free(in);
    return 0;
}
