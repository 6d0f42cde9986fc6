/* fieldcrypt.c - sealing and opening stored fields (see fieldcrypt.h). */
#include "nqba/fieldcrypt.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PREFIX_LEN (sizeof NQ_FIELD_PREFIX - 1)
#define NONCE_LEN crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG_LEN crypto_aead_xchacha20poly1305_ietf_ABYTES
#define B64_VARIANT sodium_base64_VARIANT_URLSAFE_NO_PADDING
/* Characters of a key in a spec: 32 bytes, base64url, no padding. */
#define KEY_B64_LEN (sodium_base64_ENCODED_LEN(NQ_FIELD_KEY_LEN, B64_VARIANT) - 1)

_Static_assert(NQ_FIELD_KEY_LEN == crypto_aead_xchacha20poly1305_ietf_KEYBYTES, "key size");

typedef struct ring_key {
    char kid[NQ_FIELD_KID_MAX + 1];
    unsigned char key[NQ_FIELD_KEY_LEN];
} ring_key;

struct nq_field_ring {
    int n; /* keys[0] is the current key */
    ring_key keys[NQ_FIELD_KEYS_MAX];
};

/* ---- the ring -------------------------------------------------------------- */

static int is_kid_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
}

/* 1 when s[0..len) is a valid kid. */
static int kid_ok(const char *s, size_t len)
{
    if (len < 1 || len > NQ_FIELD_KID_MAX)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!is_kid_char(s[i]))
            return 0;
    return 1;
}

static int find_kid(const nq_field_ring *ring, const char *kid, size_t len)
{
    for (int i = 0; i < ring->n; i++)
        if (strlen(ring->keys[i].kid) == len && memcmp(ring->keys[i].kid, kid, len) == 0)
            return i;
    return -1;
}

/* libsodium 1.0.18 decodes every byte from 0x80 up as the digit '_' (63),
 * so its decoder alone would let a changed byte pass unnoticed; the
 * alphabet is checked here first. */
static int b64url_ok(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!is_kid_char(s[i])) /* the same alphabet: [A-Za-z0-9_-] */
            return 0;
    return 1;
}

/* Decode exactly one canonical base64url encoding of a key. */
static int decode_key(const char *s, size_t len, unsigned char key[NQ_FIELD_KEY_LEN])
{
    size_t n = 0;
    const char *end = NULL;
    if (len != KEY_B64_LEN || !b64url_ok(s, len))
        return -1;
    if (sodium_base642bin(key, NQ_FIELD_KEY_LEN, s, len, NULL, &n, &end, B64_VARIANT) != 0 ||
        n != NQ_FIELD_KEY_LEN || end != s + len) {
        sodium_memzero(key, NQ_FIELD_KEY_LEN);
        return -1;
    }
    return 0;
}

/* One "kid:key" entry of len characters, the i-th of the spec. */
static int parse_entry(nq_field_ring *ring, const char *s, size_t len, int i, nq_err *err)
{
    char where[32];
    snprintf(where, sizeof where, "keys[%d]", i);
    if (ring->n == NQ_FIELD_KEYS_MAX)
        return nq_err_set(err, NQ_ELIMIT, where, "more than %d keys", NQ_FIELD_KEYS_MAX);
    const char *colon = memchr(s, ':', len);
    if (!colon)
        return nq_err_set(err, NQ_EINVAL, where, "expected kid:key");
    size_t kid_len = (size_t)(colon - s);
    if (!kid_ok(s, kid_len))
        return nq_err_set(err, NQ_EINVAL, where, "kid must be 1..%d of [A-Za-z0-9_-]",
                          NQ_FIELD_KID_MAX);
    ring_key *k = &ring->keys[ring->n];
    memcpy(k->kid, s, kid_len);
    k->kid[kid_len] = '\0';
    if (find_kid(ring, s, kid_len) >= 0)
        return nq_err_set(err, NQ_EINVAL, where, "kid \"%s\" appears twice", k->kid);
    if (decode_key(colon + 1, len - kid_len - 1, k->key) != 0)
        return nq_err_set(err, NQ_EINVAL, where,
                          "kid \"%s\": key must be %d bytes in base64url without padding", k->kid,
                          NQ_FIELD_KEY_LEN);
    ring->n++;
    return NQ_OK;
}

static int parse_spec(nq_field_ring *ring, const char *spec, nq_err *err)
{
    size_t len = strnlen(spec, NQ_FIELD_SPEC_MAX + 1);
    if (len > NQ_FIELD_SPEC_MAX)
        return nq_err_set(err, NQ_ELIMIT, "keys", "longer than %d characters", NQ_FIELD_SPEC_MAX);
    if (len == 0)
        return nq_err_set(err, NQ_EINVAL, "keys", "no keys");
    const char *s = spec, *end = spec + len;
    for (int i = 0;; i++) {
        const char *comma = memchr(s, ',', (size_t)(end - s));
        const char *stop = comma ? comma : end;
        int rc = parse_entry(ring, s, (size_t)(stop - s), i, err);
        if (rc)
            return rc;
        if (!comma)
            return NQ_OK;
        s = comma + 1;
    }
}

int nq_field_ring_parse(const char *spec, nq_field_ring **out, nq_err *err)
{
    *out = NULL;
    if (!spec)
        return nq_err_set(err, NQ_EINVAL, "keys", "no keys");
    if (sodium_init() < 0)
        return nq_err_set(err, NQ_EINTERNAL, "keys", "libsodium failed to start");
    nq_field_ring *ring = calloc(1, sizeof *ring);
    if (!ring)
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    int rc = parse_spec(ring, spec, err);
    if (rc) {
        nq_field_ring_free(ring);
        return rc;
    }
    *out = ring;
    return NQ_OK;
}

void nq_field_ring_free(nq_field_ring *ring)
{
    if (!ring)
        return;
    sodium_memzero(ring, sizeof *ring);
    free(ring);
}

const char *nq_field_ring_current(const nq_field_ring *ring)
{
    return ring->keys[0].kid;
}

/* ---- seal and open --------------------------------------------------------- */

void nq_field_free(char *p, size_t len)
{
    if (!p)
        return;
    sodium_memzero(p, len + 1);
    free(p);
}

int nq_field_is_sealed(const char *text)
{
    return text && strncmp(text, NQ_FIELD_PREFIX, PREFIX_LEN) == 0;
}

static int check_aad(const char *aad, size_t *len, nq_err *err)
{
    *len = aad ? strnlen(aad, NQ_FIELD_AAD_MAX + 1) : 0;
    if (*len == 0)
        return nq_err_set(err, NQ_EINVAL, "aad", "required: the place the value is stored");
    if (*len > NQ_FIELD_AAD_MAX)
        return nq_err_set(err, NQ_EINVAL, "aad", "longer than %d bytes", NQ_FIELD_AAD_MAX);
    return NQ_OK;
}

/* Characters of the sealed text of plain_len bytes under a kid of
 * kid_len characters, without the NUL. */
static size_t sealed_len(size_t kid_len, size_t plain_len)
{
    size_t bin = NONCE_LEN + plain_len + TAG_LEN;
    return PREFIX_LEN + kid_len + 1 + sodium_base64_ENCODED_LEN(bin, B64_VARIANT) - 1;
}

/* Seal under keys[k]. */
static int seal_with(const nq_field_ring *ring, int k, const char *aad, size_t aad_len,
                     const void *plain, size_t len, char **out, size_t *out_len, nq_err *err)
{
    const ring_key *key = &ring->keys[k];
    size_t kid_len = strlen(key->kid);
    size_t bin_len = NONCE_LEN + len + TAG_LEN;
    size_t text_len = sealed_len(kid_len, len);
    unsigned char *bin = malloc(bin_len);
    char *text = malloc(text_len + 1);
    if (!bin || !text) {
        free(bin);
        free(text);
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    }
    randombytes_buf(bin, NONCE_LEN);
    const unsigned char *m = len ? plain : (const unsigned char *)"";
    crypto_aead_xchacha20poly1305_ietf_encrypt(
        bin + NONCE_LEN, NULL, m, len, (const unsigned char *)aad, aad_len, NULL, bin, key->key);
    char *p = text;
    memcpy(p, NQ_FIELD_PREFIX, PREFIX_LEN);
    p += PREFIX_LEN;
    memcpy(p, key->kid, kid_len);
    p += kid_len;
    *p++ = ':';
    sodium_bin2base64(p, text_len + 1 - (size_t)(p - text), bin, bin_len, B64_VARIANT);
    free(bin);
    *out = text;
    *out_len = text_len;
    return NQ_OK;
}

int nq_field_seal(const nq_field_ring *ring, const char *aad, const void *plain, size_t len,
                  char **out, size_t *out_len, nq_err *err)
{
    *out = NULL;
    *out_len = 0;
    size_t aad_len;
    int rc = check_aad(aad, &aad_len, err);
    if (rc)
        return rc;
    if (len > NQ_FIELD_PLAIN_MAX)
        return nq_err_set(err, NQ_ELIMIT, "value", "longer than %u bytes", NQ_FIELD_PLAIN_MAX);
    if (!plain && len)
        return nq_err_set(err, NQ_EINVAL, "value", "missing");
    return seal_with(ring, 0, aad, aad_len, plain, len, out, out_len, err);
}

/* Split text into the index of its key and its decoded nonce || ciphertext
 * (malloc'd into *bin, *bin_len >= NONCE_LEN + TAG_LEN). */
static int parse_sealed(const nq_field_ring *ring, const char *text, size_t len, int *k,
                        unsigned char **bin, size_t *bin_len, nq_err *err)
{
    if (len > sealed_len(NQ_FIELD_KID_MAX, NQ_FIELD_PLAIN_MAX))
        return nq_err_set(err, NQ_ELIMIT, "value", "longer than any sealed value");
    if (len < PREFIX_LEN || memcmp(text, NQ_FIELD_PREFIX, PREFIX_LEN) != 0)
        return nq_err_set(err, NQ_EINVAL, "value", "malformed: expected \"%s\"", NQ_FIELD_PREFIX);
    const char *kid = text + PREFIX_LEN;
    size_t rest = len - PREFIX_LEN;
    size_t scan = rest < NQ_FIELD_KID_MAX + 1 ? rest : NQ_FIELD_KID_MAX + 1;
    const char *colon = memchr(kid, ':', scan);
    if (!colon || !kid_ok(kid, (size_t)(colon - kid)))
        return nq_err_set(err, NQ_EINVAL, "value", "malformed key id");
    if ((*k = find_kid(ring, kid, (size_t)(colon - kid))) < 0)
        return nq_err_set(err, NQ_EINVAL, "value", "unknown key id");
    const char *b64 = colon + 1;
    size_t b64_len = (size_t)(text + len - b64), n = 0;
    if (!b64url_ok(b64, b64_len))
        return nq_err_set(err, NQ_EINVAL, "value", "malformed: bad base64url");
    size_t cap = b64_len / 4 * 3 + 3;
    const char *end = NULL;
    unsigned char *b = malloc(cap);
    if (!b)
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    if (sodium_base642bin(b, cap, b64, b64_len, NULL, &n, &end, B64_VARIANT) != 0 ||
        end != b64 + b64_len || n < NONCE_LEN + TAG_LEN) {
        free(b);
        return nq_err_set(err, NQ_EINVAL, "value", "malformed: bad base64url");
    }
    *bin = b;
    *bin_len = n;
    return NQ_OK;
}

/* nq_field_open, also telling which key opened the value. */
static int open_with(const nq_field_ring *ring, const char *aad, const char *text, size_t len,
                     char **out, size_t *out_len, int *k, nq_err *err)
{
    *out = NULL;
    *out_len = 0;
    size_t aad_len, bin_len = 0;
    unsigned char *bin = NULL;
    int rc = check_aad(aad, &aad_len, err);
    if (!rc && !text)
        rc = nq_err_set(err, NQ_EINVAL, "value", "missing");
    if (!rc)
        rc = parse_sealed(ring, text, len, k, &bin, &bin_len, err);
    if (rc)
        return rc;
    size_t plain_len = bin_len - NONCE_LEN - TAG_LEN;
    unsigned char *plain = malloc(plain_len + 1);
    if (!plain) {
        free(bin);
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    }
    unsigned long long m_len = 0;
    int bad = crypto_aead_xchacha20poly1305_ietf_decrypt(
        plain, &m_len, NULL, bin + NONCE_LEN, bin_len - NONCE_LEN, (const unsigned char *)aad,
        aad_len, bin, ring->keys[*k].key);
    free(bin);
    if (bad || m_len != plain_len) {
        nq_field_free((char *)plain, plain_len);
        return nq_err_set(err, NQ_EINVAL, "value", "authentication failed");
    }
    plain[plain_len] = '\0';
    *out = (char *)plain;
    *out_len = plain_len;
    return NQ_OK;
}

int nq_field_open(const nq_field_ring *ring, const char *aad, const char *text, size_t len,
                  char **out, size_t *out_len, nq_err *err)
{
    int k;
    return open_with(ring, aad, text, len, out, out_len, &k, err);
}

int nq_field_reseal(const nq_field_ring *ring, const char *aad, const char *text, size_t len,
                    char **out, size_t *out_len, int *changed, nq_err *err)
{
    *changed = 0;
    char *plain = NULL;
    size_t plain_len = 0;
    int k = 0;
    int rc = open_with(ring, aad, text, len, &plain, &plain_len, &k, err);
    if (rc)
        return rc;
    if (k == 0) {
        nq_field_free(plain, plain_len);
        return NQ_OK; /* *out is NULL: keep the stored value */
    }
    rc = seal_with(ring, 0, aad, strlen(aad), plain, plain_len, out, out_len, err);
    nq_field_free(plain, plain_len);
    if (!rc)
        *changed = 1;
    return rc;
}
