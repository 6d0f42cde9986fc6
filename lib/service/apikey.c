/* apikey.c - making, parsing and checking API keys (see apikey.h). */
#include "nqba/apikey.h"

#include <sodium.h>
#include <string.h>

#define KEY_TAG "nqba_"
#define KEY_TAG_LEN 5
#define SECRET_BYTES 32
#define HASH_BYTES 32

_Static_assert(sizeof KEY_TAG - 1 == KEY_TAG_LEN, "tag length");
_Static_assert(NQ_APIKEY_SECRET_LEN + 1 ==
                   sodium_base64_ENCODED_LEN(SECRET_BYTES,
                                             sodium_base64_VARIANT_URLSAFE_NO_PADDING),
               "encoded secret length");
_Static_assert(NQ_APIKEY_HASH_HEX == HASH_BYTES * 2 + 1, "hash hex length");

static const char prefix_alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";

static void key_hash(const uint8_t pepper[NQ_APIKEY_PEPPER_LEN], const char *key,
                     unsigned char out[HASH_BYTES])
{
    crypto_generichash(out, HASH_BYTES, (const unsigned char *)key, NQ_APIKEY_LEN, pepper,
                       NQ_APIKEY_PEPPER_LEN);
}

int nq_apikey_new(const uint8_t pepper[NQ_APIKEY_PEPPER_LEN], char key[NQ_APIKEY_MAX],
                  char prefix[NQ_APIKEY_PREFIX_LEN + 1], char hash_hex[NQ_APIKEY_HASH_HEX],
                  nq_err *err)
{
    if (sodium_init() < 0)
        return nq_err_set(err, NQ_EINTERNAL, "apikey", "libsodium failed to start");
    memcpy(key, KEY_TAG, KEY_TAG_LEN);
    char *p = key + KEY_TAG_LEN;
    for (int i = 0; i < NQ_APIKEY_PREFIX_LEN; i++)
        p[i] = prefix_alphabet[randombytes_uniform(sizeof prefix_alphabet - 1)];
    p[NQ_APIKEY_PREFIX_LEN] = '_';
    unsigned char secret[SECRET_BYTES];
    randombytes_buf(secret, sizeof secret);
    sodium_bin2base64(p + NQ_APIKEY_PREFIX_LEN + 1, NQ_APIKEY_SECRET_LEN + 1, secret, sizeof secret,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(secret, sizeof secret);
    memcpy(prefix, p, NQ_APIKEY_PREFIX_LEN);
    prefix[NQ_APIKEY_PREFIX_LEN] = '\0';
    unsigned char h[HASH_BYTES];
    key_hash(pepper, key, h);
    sodium_bin2hex(hash_hex, NQ_APIKEY_HASH_HEX, h, sizeof h);
    return NQ_OK;
}

static int is_prefix_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static int is_b64url_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
}

/* A canonical encoding only, so one secret has exactly one spelling. The
 * alphabet is checked here because libsodium 1.0.18 decodes every byte
 * from 0x80 up as '_'; sodium_base642bin then rejects padding (in this
 * variant) and non-zero unused low bits. */
static int secret_ok(const char *s)
{
    for (int i = 0; i < NQ_APIKEY_SECRET_LEN; i++)
        if (!is_b64url_char(s[i]))
            return 0;
    unsigned char bin[SECRET_BYTES];
    size_t n = 0;
    const char *end = NULL;
    int bad = sodium_base642bin(bin, sizeof bin, s, NQ_APIKEY_SECRET_LEN, NULL, &n, &end,
                                sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(bin, sizeof bin);
    return !bad && n == SECRET_BYTES && end == s + NQ_APIKEY_SECRET_LEN;
}

int nq_apikey_parse(const char *key, char prefix[NQ_APIKEY_PREFIX_LEN + 1], nq_err *err)
{
    if (!key)
        return nq_err_set(err, NQ_EINVAL, "apikey", "missing");
    if (strnlen(key, NQ_APIKEY_MAX) != NQ_APIKEY_LEN)
        return nq_err_set(err, NQ_EINVAL, "apikey", "must be %d characters", NQ_APIKEY_LEN);
    if (memcmp(key, KEY_TAG, KEY_TAG_LEN) != 0)
        return nq_err_set(err, NQ_EINVAL, "apikey", "must start with \"%s\"", KEY_TAG);
    const char *p = key + KEY_TAG_LEN;
    for (int i = 0; i < NQ_APIKEY_PREFIX_LEN; i++)
        if (!is_prefix_char(p[i]))
            return nq_err_set(err, NQ_EINVAL, "apikey", "prefix must be %d of [a-z0-9]",
                              NQ_APIKEY_PREFIX_LEN);
    if (p[NQ_APIKEY_PREFIX_LEN] != '_')
        return nq_err_set(err, NQ_EINVAL, "apikey", "expected '_' after the prefix");
    if (!secret_ok(p + NQ_APIKEY_PREFIX_LEN + 1))
        return nq_err_set(err, NQ_EINVAL, "apikey", "secret must be %d bytes in base64url",
                          SECRET_BYTES);
    memcpy(prefix, p, NQ_APIKEY_PREFIX_LEN);
    prefix[NQ_APIKEY_PREFIX_LEN] = '\0';
    return NQ_OK;
}

int nq_apikey_check(const uint8_t pepper[NQ_APIKEY_PEPPER_LEN], const char *key,
                    const char *stored_hash_hex)
{
    char prefix[NQ_APIKEY_PREFIX_LEN + 1];
    if (!stored_hash_hex || nq_apikey_parse(key, prefix, NULL) != NQ_OK)
        return 0;
    if (sodium_init() < 0)
        return 0;
    unsigned char stored[HASH_BYTES];
    size_t n = 0;
    const char *end = NULL;
    size_t hex_len = strnlen(stored_hash_hex, NQ_APIKEY_HASH_HEX);
    if (hex_len != HASH_BYTES * 2 ||
        sodium_hex2bin(stored, sizeof stored, stored_hash_hex, hex_len, NULL, &n, &end) != 0 ||
        n != HASH_BYTES || end != stored_hash_hex + hex_len)
        return 0;
    unsigned char h[HASH_BYTES];
    key_hash(pepper, key, h);
    return sodium_memcmp(h, stored, HASH_BYTES) == 0;
}
