/* jwt.c - HS256 JSON Web Tokens with a ring of rotating keys.
 *
 * The verifier is written against the attacks of RFC 8725: it trusts no
 * header field to pick an algorithm (only HS256 exists here), picks the key
 * by kid with no fallback, compares the MAC in constant time and touches the
 * payload only once the MAC matched. Everything it does not expect is an
 * error rather than something to skip, so a token means exactly one thing. */
#include "nqba/jwt.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#define B64 sodium_base64_VARIANT_URLSAFE_NO_PADDING
#define KEY_B64_MAX 86 /* characters of a 64-byte key */

_Static_assert(sizeof(json_int_t) == sizeof(int64_t), "JSON integers must be int64");
_Static_assert(NQ_JWT_MAC_LEN == crypto_auth_hmacsha256_BYTES, "HS256 MAC length");
_Static_assert(sodium_base64_ENCODED_LEN(NQ_JWT_MAC_LEN, B64) == NQ_JWT_MAC_B64_LEN + 1,
               "base64url MAC length");
_Static_assert(sodium_base64_ENCODED_LEN(NQ_JWT_KEY_NEW_LEN, B64) == 44, "new key length");

typedef struct span {
    const char *p;
    size_t n;
} span;

/* ---- small checks -------------------------------------------------------- */

static bool b64url_char(char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
           ch == '-' || ch == '_';
}

/* kid and base64url share one alphabet, which also keeps a kid safe to put
 * into JSON and error messages unescaped. */
static bool kid_valid(const char *kid, size_t n)
{
    if (n < 1 || n > NQ_JWT_KID_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!b64url_char(kid[i]))
            return false;
    return true;
}

/* Unpadded, canonical base64url only: sodium refuses stray bits in the last
 * character, so each byte string has exactly one encoding and a token cannot
 * be altered without changing its MAC input or its MAC. */
static bool b64url_decode(span s, unsigned char *out, size_t cap, size_t *out_len)
{
    const char *end = NULL;
    for (size_t i = 0; i < s.n; i++)
        if (!b64url_char(s.p[i]))
            return false;
    if (sodium_base642bin(out, cap, s.p, s.n, NULL, out_len, &end, B64) != 0)
        return false;
    return end == s.p + s.n;
}

static int find_kid(const nq_jwt_keyring *k, const char *kid, size_t n)
{
    for (size_t i = 0; i < k->count; i++)
        if (strlen(k->keys[i].kid) == n && memcmp(k->keys[i].kid, kid, n) == 0)
            return (int)i;
    return -1;
}

/* Strict UTF-8 (no overlong forms, no surrogates, nothing past U+10FFFF),
 * so that what we sign is what jansson will later read back. */
static bool utf8_valid(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        size_t len = c < 0x80             ? 1
                     : (c & 0xE0) == 0xC0 ? 2
                     : (c & 0xF0) == 0xE0 ? 3
                     : (c & 0xF8) == 0xF0 ? 4
                                          : 0;
        if (len == 0 || i + len > n)
            return false;
        unsigned cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
        for (size_t j = 1; j < len; j++) {
            if ((s[i + j] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + j] & 0x3F);
        }
        static const unsigned min[5] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < min[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += len;
    }
    return true;
}

/* Control characters in a subject or scope would end up in logs and
 * headers; no claim of ours needs them. */
static bool has_control(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7F)
            return true;
    return false;
}

/* a + b for b >= 0, stopping at INT64_MAX: times near the top of the range
 * must not wrap into the past. */
static int64_t add_sat(int64_t a, int64_t b)
{
    return a > INT64_MAX - b ? INT64_MAX : a + b;
}

static void hmac(const nq_jwt_key *key, const char *in, size_t n, unsigned char mac[NQ_JWT_MAC_LEN])
{
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, key->key, key->key_len);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)in, n);
    crypto_auth_hmacsha256_final(&st, mac);
    sodium_memzero(&st, sizeof st);
}

/* ---- the keyring --------------------------------------------------------- */

void nq_jwt_keyring_init(nq_jwt_keyring *k)
{
    if (!k)
        return;
    memset(k, 0, sizeof *k);
    k->signing = -1;
}

void nq_jwt_keyring_wipe(nq_jwt_keyring *k)
{
    if (!k)
        return;
    sodium_memzero(k, sizeof *k);
    k->signing = -1;
}

int nq_jwt_keyring_add(nq_jwt_keyring *k, const char *kid, const void *key, size_t key_len,
                       nq_err *err)
{
    if (!k || !kid || !key)
        return nq_err_set(err, NQ_EINVAL, NULL, "missing keyring, kid or key");
    size_t n = strnlen(kid, NQ_JWT_KID_MAX + 1);
    if (!kid_valid(kid, n))
        return nq_err_set(err, NQ_EINVAL, NULL, "kid must be 1..%d characters of [A-Za-z0-9_-]",
                          NQ_JWT_KID_MAX);
    if (key_len < NQ_JWT_KEY_MIN || key_len > NQ_JWT_KEY_MAX)
        return nq_err_set(err, NQ_EINVAL, NULL,
                          "kid \"%s\": key is %zu bytes; keys must be >= %d random bytes "
                          "(at most %d)",
                          kid, key_len, NQ_JWT_KEY_MIN, NQ_JWT_KEY_MAX);
    if (find_kid(k, kid, n) >= 0)
        return nq_err_set(err, NQ_EINVAL, NULL, "kid \"%s\" is already in the keyring", kid);
    if (k->count >= NQ_JWT_KEYS_MAX)
        return nq_err_set(err, NQ_ELIMIT, NULL, "the keyring holds at most %d keys",
                          NQ_JWT_KEYS_MAX);
    nq_jwt_key *slot = &k->keys[k->count];
    memcpy(slot->kid, kid, n);
    slot->kid[n] = '\0';
    memcpy(slot->key, key, key_len);
    slot->key_len = key_len;
    /* The newest key signs: rotation is "add the new key, then remove the
     * old one once its tokens have expired". */
    k->signing = (int)k->count;
    k->count++;
    return NQ_OK;
}

int nq_jwt_keyring_set_signing(nq_jwt_keyring *k, const char *kid, nq_err *err)
{
    if (!k || !kid)
        return nq_err_set(err, NQ_EINVAL, NULL, "missing keyring or kid");
    int i = find_kid(k, kid, strnlen(kid, NQ_JWT_KID_MAX + 1));
    if (i < 0)
        return nq_err_set(err, NQ_ENOTFOUND, NULL, "kid is not in the keyring");
    k->signing = i;
    return NQ_OK;
}

int nq_jwt_keyring_remove(nq_jwt_keyring *k, const char *kid, nq_err *err)
{
    if (!k || !kid)
        return nq_err_set(err, NQ_EINVAL, NULL, "missing keyring or kid");
    int i = find_kid(k, kid, strnlen(kid, NQ_JWT_KID_MAX + 1));
    if (i < 0)
        return nq_err_set(err, NQ_ENOTFOUND, NULL, "kid is not in the keyring");
    if (i == k->signing)
        return nq_err_set(err, NQ_EINVAL, NULL,
                          "kid \"%s\" is the signing key; make another key sign first",
                          k->keys[i].kid);
    size_t last = k->count - 1;
    memmove(&k->keys[i], &k->keys[i + 1], (last - (size_t)i) * sizeof k->keys[0]);
    sodium_memzero(&k->keys[last], sizeof k->keys[last]);
    k->count = last;
    if (k->signing > i)
        k->signing--;
    return NQ_OK;
}

/* ---- key specs ----------------------------------------------------------- */

/* One "kid:BASE64URL" entry into the ring; errors name the entry. */
static int parse_entry(nq_jwt_keyring *k, span e, size_t index, nq_err *err)
{
    char where[48];
    snprintf(where, sizeof where, "key spec entry %zu", index);
    const char *colon = memchr(e.p, ':', e.n);
    if (!colon)
        return nq_err_set(err, NQ_EINVAL, where, "expected kid:BASE64URL_KEY");
    span kid = {e.p, (size_t)(colon - e.p)};
    span key = {colon + 1, e.n - kid.n - 1};
    if (!kid_valid(kid.p, kid.n))
        return nq_err_set(err, NQ_EINVAL, where, "kid must be 1..%d characters of [A-Za-z0-9_-]",
                          NQ_JWT_KID_MAX);
    char kid_s[NQ_JWT_KID_MAX + 1];
    memcpy(kid_s, kid.p, kid.n);
    kid_s[kid.n] = '\0';
    if (key.n > KEY_B64_MAX)
        return nq_err_set(err, NQ_EINVAL, where, "kid \"%s\": key is longer than %d bytes", kid_s,
                          NQ_JWT_KEY_MAX);
    unsigned char bytes[NQ_JWT_KEY_MAX];
    size_t len = 0;
    int rc = NQ_OK;
    if (!b64url_decode(key, bytes, sizeof bytes, &len))
        rc = nq_err_set(err, NQ_EINVAL, where,
                        "kid \"%s\": key is not unpadded base64url ([A-Za-z0-9_-], no '=')", kid_s);
    else if (len < NQ_JWT_KEY_MIN)
        rc = nq_err_set(err, NQ_EINVAL, where,
                        "kid \"%s\": key is %zu bytes; keys must be >= %d random bytes", kid_s, len,
                        NQ_JWT_KEY_MIN);
    else if ((rc = nq_jwt_keyring_add(k, kid_s, bytes, len, err)) != NQ_OK)
        rc = nq_err_set(err, NQ_EINVAL, where, "kid \"%s\": %s", kid_s,
                        k->count >= NQ_JWT_KEYS_MAX ? "too many keys" : "kid appears twice");
    sodium_memzero(bytes, sizeof bytes);
    return rc;
}

int nq_jwt_keyring_parse(nq_jwt_keyring *k, const char *spec, nq_err *err)
{
    if (!k || !spec)
        return nq_err_set(err, NQ_EINVAL, NULL, "missing keyring or key spec");
    nq_jwt_keyring_init(k);
    size_t len = strnlen(spec, NQ_JWT_KEY_SPEC_MAX + 1);
    if (len == 0)
        return nq_err_set(err, NQ_EINVAL, "key spec", "no keys");
    if (len > NQ_JWT_KEY_SPEC_MAX)
        return nq_err_set(err, NQ_EINVAL, "key spec", "longer than %d bytes (%d keys at most)",
                          NQ_JWT_KEY_SPEC_MAX, NQ_JWT_KEYS_MAX);
    const char *p = spec, *end = spec + len;
    for (size_t index = 1;; index++) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        span e = {p, comma ? (size_t)(comma - p) : (size_t)(end - p)};
        int rc = parse_entry(k, e, index, err);
        if (rc != NQ_OK) {
            nq_jwt_keyring_wipe(k);
            return rc;
        }
        if (!comma)
            break;
        p = comma + 1;
    }
    k->signing = 0; /* the first entry signs; the others only verify */
    return NQ_OK;
}

int nq_jwt_key_new(char *spec_out, size_t cap, const char *kid)
{
    if (!spec_out || !kid)
        return NQ_EINVAL;
    if (cap)
        spec_out[0] = '\0';
    size_t n = strnlen(kid, NQ_JWT_KID_MAX + 1);
    if (!kid_valid(kid, n))
        return NQ_EINVAL;
    size_t b64_cap = sodium_base64_ENCODED_LEN(NQ_JWT_KEY_NEW_LEN, B64);
    if (cap < n + 1 + b64_cap)
        return NQ_ELIMIT;
    if (sodium_init() < 0)
        return NQ_EINTERNAL;
    unsigned char key[NQ_JWT_KEY_NEW_LEN];
    randombytes_buf(key, sizeof key);
    memcpy(spec_out, kid, n);
    spec_out[n] = ':';
    sodium_bin2base64(spec_out + n + 1, b64_cap, key, sizeof key, B64);
    sodium_memzero(key, sizeof key);
    return NQ_OK;
}

/* ---- signing ------------------------------------------------------------- */

int nq_jwt_hs256_b64(const unsigned char *key, size_t key_len, const char *input, size_t input_len,
                     char out[NQ_JWT_MAC_B64_LEN + 1], nq_err *err)
{
    if (!key || !input || !out)
        return nq_err_set(err, NQ_EINVAL, NULL, "missing key, input or output");
    if (key_len < NQ_JWT_KEY_MIN || key_len > NQ_JWT_KEY_MAX)
        return nq_err_set(err, NQ_EINVAL, NULL, "key is %zu bytes; keys must be >= %d bytes",
                          key_len, NQ_JWT_KEY_MIN);
    nq_jwt_key k;
    memcpy(k.key, key, key_len);
    k.key_len = key_len;
    unsigned char mac[NQ_JWT_MAC_LEN];
    hmac(&k, input, input_len, mac);
    sodium_bin2base64(out, NQ_JWT_MAC_B64_LEN + 1, mac, sizeof mac, B64);
    sodium_memzero(&k, sizeof k);
    sodium_memzero(mac, sizeof mac);
    return NQ_OK;
}

/* A claim string the verifier will accept back: empty means "leave out". */
static int check_claim_string(const char *s, size_t cap, bool required, const char *name,
                              nq_err *err)
{
    size_t n = strnlen(s, cap);
    if (n == cap)
        return nq_err_set(err, NQ_EINVAL, name, "longer than %zu bytes", cap - 1);
    if (n == 0 && required)
        return nq_err_set(err, NQ_EINVAL, name, "required");
    if (has_control(s, n))
        return nq_err_set(err, NQ_EINVAL, name, "contains a control character");
    if (!utf8_valid((const unsigned char *)s, n))
        return nq_err_set(err, NQ_EINVAL, name, "not valid UTF-8");
    return NQ_OK;
}

static int check_sign_claims(const nq_jwt_claims *c, nq_err *err)
{
    int rc;
    if ((rc = check_claim_string(c->sub, sizeof c->sub, true, "sub", err)) ||
        (rc = check_claim_string(c->role, sizeof c->role, false, "role", err)) ||
        (rc = check_claim_string(c->scope, sizeof c->scope, false, "scope", err)) ||
        (rc = check_claim_string(c->iss, sizeof c->iss, true, "iss", err)) ||
        (rc = check_claim_string(c->aud, sizeof c->aud, true, "aud", err)) ||
        (rc = check_claim_string(c->jti, sizeof c->jti, false, "jti", err)))
        return rc;
    if (c->iat < 0 || c->nbf < 0)
        return nq_err_set(err, NQ_EINVAL, "iat", "times must not be negative");
    if (c->exp <= c->iat)
        return nq_err_set(err, NQ_EINVAL, "exp", "must be after iat");
    return NQ_OK;
}

static int put_string(json_t *o, const char *name, const char *s)
{
    if (!s[0])
        return 0;
    return json_object_set_new(o, name, json_string(s));
}

/* The payload as compact JSON in a fixed order; *len bytes, no NUL. */
static int payload_json(const nq_jwt_claims *c, char *buf, size_t cap, size_t *len, nq_err *err)
{
    json_t *o = json_object();
    int bad = !o;
    bad = bad || put_string(o, "iss", c->iss) || put_string(o, "sub", c->sub) ||
          put_string(o, "aud", c->aud) || json_object_set_new(o, "iat", json_integer(c->iat)) ||
          (c->nbf && json_object_set_new(o, "nbf", json_integer(c->nbf))) ||
          json_object_set_new(o, "exp", json_integer(c->exp)) || put_string(o, "jti", c->jti) ||
          put_string(o, "role", c->role) || put_string(o, "scope", c->scope) ||
          json_object_set_new(o, "mfa", json_boolean(c->mfa));
    size_t n = bad ? 0 : json_dumpb(o, buf, cap, JSON_COMPACT);
    json_decref(o);
    if (bad || n == 0)
        return nq_err_set(err, NQ_ENOMEM, NULL, "could not build the token payload");
    if (n > cap)
        return nq_err_set(err, NQ_ELIMIT, NULL, "token payload is too long");
    *len = n;
    return NQ_OK;
}

/* Append base64url of bin to tok at *at, within NQ_JWT_TOKEN_MAX. */
static int append_b64(char *tok, size_t *at, const void *bin, size_t n, nq_err *err)
{
    size_t need = sodium_base64_ENCODED_LEN(n, B64);
    if (*at + need > NQ_JWT_TOKEN_MAX + 1)
        return nq_err_set(err, NQ_ELIMIT, NULL, "token would be longer than %d bytes",
                          NQ_JWT_TOKEN_MAX);
    sodium_bin2base64(tok + *at, need, bin, n, B64);
    *at += need - 1;
    return NQ_OK;
}

int nq_jwt_sign(const nq_jwt_keyring *k, const nq_jwt_claims *c, char *out, size_t cap, nq_err *err)
{
    if (!k || !c || !out)
        return nq_err_set(err, NQ_EINVAL, NULL, "missing keyring, claims or output");
    if (cap)
        out[0] = '\0';
    if (k->signing < 0 || (size_t)k->signing >= k->count)
        return nq_err_set(err, NQ_EINVAL, NULL, "the keyring has no signing key");
    int rc = check_sign_claims(c, err);
    if (rc)
        return rc;
    const nq_jwt_key *key = &k->keys[k->signing];
    char header[96];
    int hn = snprintf(header, sizeof header, "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"%s\"}",
                      key->kid);
    char payload[NQ_JWT_TOKEN_MAX];
    size_t pn = 0;
    if ((rc = payload_json(c, payload, sizeof payload, &pn, err)))
        return rc;
    char tok[NQ_JWT_TOKEN_MAX + 1];
    size_t at = 0;
    if ((rc = append_b64(tok, &at, header, (size_t)hn, err)))
        return rc;
    tok[at++] = '.';
    if ((rc = append_b64(tok, &at, payload, pn, err)))
        return rc;
    unsigned char mac[NQ_JWT_MAC_LEN];
    hmac(key, tok, at, mac);
    tok[at++] = '.';
    rc = append_b64(tok, &at, mac, sizeof mac, err);
    sodium_memzero(mac, sizeof mac);
    if (rc)
        return rc;
    if (at + 1 > cap)
        return nq_err_set(err, NQ_ELIMIT, NULL, "token is %zu bytes; the buffer holds %zu", at,
                          cap ? cap - 1 : 0);
    memcpy(out, tok, at + 1);
    return NQ_OK;
}

/* ---- verifying: structure, header and signature -------------------------- */

static int check_expect(const nq_jwt_expect *x, nq_err *err)
{
    if (!x->iss || !x->iss[0] || !x->aud || !x->aud[0])
        return nq_err_set(err, NQ_EINVAL, NULL, "the expected iss and aud must be set");
    if (x->leeway_s < 0 || x->leeway_s > NQ_JWT_LEEWAY_MAX)
        return nq_err_set(err, NQ_EINVAL, NULL, "leeway must be 0..%d seconds", NQ_JWT_LEEWAY_MAX);
    return NQ_OK;
}

static int split(const char *token, size_t len, span parts[3], nq_err *err)
{
    static const char *const names[3] = {"header", "payload", "signature"};
    size_t count = 0, start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && token[i] != '.')
            continue;
        if (count < 3)
            parts[count] = (span){token + start, i - start};
        count++;
        start = i + 1;
    }
    if (count != 3)
        return nq_err_set(err, NQ_EINVAL, "token", "has %zu parts; expected 3", count);
    for (size_t i = 0; i < 3; i++) {
        if (parts[i].n == 0)
            return nq_err_set(err, NQ_EINVAL, "token", "the %s part is empty", names[i]);
        for (size_t j = 0; j < parts[i].n; j++)
            if (!b64url_char(parts[i].p[j]))
                return nq_err_set(err, NQ_EINVAL, "token",
                                  "the %s part has a character outside unpadded base64url",
                                  names[i]);
    }
    return NQ_OK;
}

/* Decode a part and parse it as a JSON object (duplicate keys refused). */
static int load_object(span s, const char *name, json_t **out, nq_err *err)
{
    unsigned char buf[NQ_JWT_TOKEN_MAX];
    size_t n = 0;
    if (!b64url_decode(s, buf, sizeof buf, &n))
        return nq_err_set(err, NQ_EINVAL, name, "not canonical unpadded base64url");
    json_error_t je;
    json_t *o = json_loadb((const char *)buf, n, JSON_REJECT_DUPLICATES, &je);
    /* jansson's message quotes the input; ours must not. */
    if (!o && json_error_code(&je) == json_error_duplicate_key)
        return nq_err_set(err, NQ_EINVAL, name, "has a duplicate member");
    if (!o)
        return nq_err_set(err, NQ_EINVAL, name, "not valid JSON");
    if (!json_is_object(o)) {
        json_decref(o);
        return nq_err_set(err, NQ_EINVAL, name, "not a JSON object");
    }
    *out = o;
    return NQ_OK;
}

static bool string_is(const json_t *v, const char *want)
{
    return json_is_string(v) && json_string_length(v) == strlen(want) &&
           memcmp(json_string_value(v), want, strlen(want)) == 0;
}

static int check_header_members(const nq_jwt_keyring *k, const json_t *h, int *key_index,
                                nq_err *err)
{
    const json_t *alg = json_object_get(h, "alg");
    const json_t *typ = json_object_get(h, "typ");
    const json_t *kid = json_object_get(h, "kid");
    if (!alg)
        return nq_err_set(err, NQ_EINVAL, "token header", "alg is missing");
    if (!string_is(alg, "HS256"))
        return nq_err_set(err, NQ_EINVAL, "token header", "alg must be \"HS256\"");
    if (typ && !string_is(typ, "JWT"))
        return nq_err_set(err, NQ_EINVAL, "token header", "typ must be \"JWT\"");
    if (!kid)
        return nq_err_set(err, NQ_EINVAL, "token header", "kid is missing");
    if (!json_is_string(kid))
        return nq_err_set(err, NQ_EINVAL, "token header", "kid must be a string");
    int i = find_kid(k, json_string_value(kid), json_string_length(kid));
    if (i < 0)
        return nq_err_set(err, NQ_EINVAL, "token header", "kid is not in the keyring");
    if (json_object_size(h) != (typ ? 3u : 2u))
        return nq_err_set(err, NQ_EINVAL, "token header",
                          "has members other than alg, typ and kid");
    *key_index = i;
    return NQ_OK;
}

static int check_header(const nq_jwt_keyring *k, span s, int *key_index, nq_err *err)
{
    json_t *h = NULL;
    int rc = load_object(s, "token header", &h, err);
    if (rc)
        return rc;
    rc = check_header_members(k, h, key_index, err);
    json_decref(h);
    return rc;
}

static int check_signature(const nq_jwt_key *key, const char *token, const span parts[3],
                           nq_err *err)
{
    unsigned char sig[NQ_JWT_MAC_LEN + 3], mac[NQ_JWT_MAC_LEN];
    size_t n = 0;
    if (parts[2].n != NQ_JWT_MAC_B64_LEN || !b64url_decode(parts[2], sig, sizeof sig, &n) ||
        n != NQ_JWT_MAC_LEN)
        return nq_err_set(err, NQ_EINVAL, "token signature", "not %d bytes of base64url",
                          NQ_JWT_MAC_LEN);
    /* The signing input is the token up to the second dot, as sent. */
    hmac(key, token, (size_t)(parts[1].p + parts[1].n - token), mac);
    int diff = sodium_memcmp(mac, sig, NQ_JWT_MAC_LEN);
    sodium_memzero(mac, sizeof mac);
    if (diff != 0)
        return nq_err_set(err, NQ_EINVAL, "token signature", "does not match");
    return NQ_OK;
}

/* ---- verifying: claims --------------------------------------------------- */

/* A time claim: a non-negative integer; absent leaves *out at 0. */
static int read_time(const json_t *p, const char *name, bool required, int64_t *out, nq_err *err)
{
    char where[16];
    snprintf(where, sizeof where, "/%s", name);
    const json_t *v = json_object_get(p, name);
    if (!v)
        return required ? nq_err_set(err, NQ_EINVAL, where, "claim %s is required", name) : NQ_OK;
    if (!json_is_integer(v))
        return nq_err_set(err, NQ_EINVAL, where, "claim %s must be an integer", name);
    if (json_integer_value(v) < 0)
        return nq_err_set(err, NQ_EINVAL, where, "claim %s must not be negative", name);
    *out = json_integer_value(v);
    return NQ_OK;
}

/* A string value that our signer could have written. */
static int check_string_value(const json_t *v, size_t max, const char *where, nq_err *err)
{
    if (!json_is_string(v))
        return nq_err_set(err, NQ_EINVAL, where, "claim must be a string");
    size_t n = json_string_length(v);
    if (n == 0 || n > max)
        return nq_err_set(err, NQ_EINVAL, where, "claim must be 1..%zu bytes", max);
    if (has_control(json_string_value(v), n))
        return nq_err_set(err, NQ_EINVAL, where, "claim contains a control character");
    return NQ_OK;
}

/* A string claim into out[max + 1]; absent leaves out empty. */
static int read_string(const json_t *p, const char *name, bool required, size_t max, char *out,
                       nq_err *err)
{
    char where[16];
    snprintf(where, sizeof where, "/%s", name);
    const json_t *v = json_object_get(p, name);
    if (!v)
        return required ? nq_err_set(err, NQ_EINVAL, where, "claim %s is required", name) : NQ_OK;
    int rc = check_string_value(v, max, where, err);
    if (rc)
        return rc;
    memcpy(out, json_string_value(v), json_string_length(v) + 1);
    return NQ_OK;
}

static int check_times(const json_t *p, const nq_jwt_expect *x, int64_t now, nq_jwt_claims *c,
                       nq_err *err)
{
    int rc;
    if ((rc = read_time(p, "exp", true, &c->exp, err)))
        return rc;
    if (now >= add_sat(c->exp, x->leeway_s))
        return nq_err_set(err, NQ_EINVAL, "/exp", "token has expired");
    if ((rc = read_time(p, "nbf", false, &c->nbf, err)))
        return rc;
    if (c->nbf > add_sat(now, x->leeway_s))
        return nq_err_set(err, NQ_EINVAL, "/nbf", "token is not valid yet");
    if ((rc = read_time(p, "iat", true, &c->iat, err)))
        return rc;
    if (c->iat > add_sat(now, x->leeway_s))
        return nq_err_set(err, NQ_EINVAL, "/iat", "token was issued in the future");
    return NQ_OK;
}

/* aud is a string or a non-empty array of strings; one must be x->aud. */
static int check_aud(const json_t *p, const char *want, nq_jwt_claims *c, nq_err *err)
{
    const json_t *v = json_object_get(p, "aud");
    if (!v)
        return nq_err_set(err, NQ_EINVAL, "/aud", "claim aud is required");
    bool array = json_is_array(v), found = false;
    size_t n = array ? json_array_size(v) : 1;
    if (array && (n == 0 || n > NQ_JWT_AUD_LIST_MAX))
        return nq_err_set(err, NQ_EINVAL, "/aud", "claim aud must list 1..%d audiences",
                          NQ_JWT_AUD_LIST_MAX);
    for (size_t i = 0; i < n; i++) {
        const json_t *a = array ? json_array_get(v, i) : v;
        int rc = check_string_value(a, NQ_JWT_AUD_MAX, "/aud", err);
        if (rc)
            return rc;
        found = found || string_is(a, want);
    }
    if (!found)
        return nq_err_set(err, NQ_EINVAL, "/aud", "token is not for this audience");
    snprintf(c->aud, sizeof c->aud, "%s", want);
    return NQ_OK;
}

static int check_members(const json_t *p, nq_err *err)
{
    static const char *const known[] = {"iss", "sub", "aud",  "iat",   "nbf",
                                        "exp", "jti", "role", "scope", "mfa"};
    const char *name;
    const json_t *v;
    json_object_foreach((json_t *)p, name, v)
    {
        bool ok = false;
        for (size_t i = 0; i < sizeof known / sizeof known[0] && !ok; i++)
            ok = strcmp(name, known[i]) == 0;
        if (!ok)
            return nq_err_set(err, NQ_EINVAL, "token payload", "has a claim we do not issue");
    }
    return NQ_OK;
}

static int check_claims(const json_t *p, const nq_jwt_expect *x, int64_t now, nq_jwt_claims *c,
                        nq_err *err)
{
    int rc;
    if ((rc = check_times(p, x, now, c, err)))
        return rc;
    if ((rc = read_string(p, "iss", true, NQ_JWT_ISS_MAX, c->iss, err)))
        return rc;
    if (strcmp(c->iss, x->iss) != 0)
        return nq_err_set(err, NQ_EINVAL, "/iss", "token is from another issuer");
    if ((rc = check_aud(p, x->aud, c, err)) ||
        (rc = read_string(p, "sub", true, NQ_JWT_SUB_MAX, c->sub, err)) ||
        (rc = read_string(p, "role", false, NQ_JWT_ROLE_MAX, c->role, err)) ||
        (rc = read_string(p, "scope", false, NQ_JWT_SCOPE_MAX, c->scope, err)) ||
        (rc = read_string(p, "jti", false, NQ_JWT_JTI_MAX, c->jti, err)))
        return rc;
    const json_t *mfa = json_object_get(p, "mfa");
    if (mfa && !json_is_boolean(mfa))
        return nq_err_set(err, NQ_EINVAL, "/mfa", "claim mfa must be true or false");
    c->mfa = json_is_true(mfa);
    return check_members(p, err);
}

int nq_jwt_verify(const nq_jwt_keyring *k, const char *token, const nq_jwt_expect *x, int64_t now,
                  nq_jwt_claims *out, nq_err *err)
{
    if (out)
        memset(out, 0, sizeof *out);
    if (!k || !token || !x || !out)
        return nq_err_set(err, NQ_EINVAL, NULL, "missing keyring, token, expectations or output");
    int rc = check_expect(x, err);
    if (rc)
        return rc;
    size_t len = strnlen(token, NQ_JWT_TOKEN_MAX + 1);
    if (len > NQ_JWT_TOKEN_MAX)
        return nq_err_set(err, NQ_ELIMIT, "token", "longer than %d bytes", NQ_JWT_TOKEN_MAX);
    span parts[3];
    int key_index = -1;
    if ((rc = split(token, len, parts, err)) || (rc = check_header(k, parts[0], &key_index, err)) ||
        (rc = check_signature(&k->keys[key_index], token, parts, err)))
        return rc;
    json_t *p = NULL;
    if ((rc = load_object(parts[1], "token payload", &p, err)))
        return rc;
    nq_jwt_claims c;
    memset(&c, 0, sizeof c);
    rc = check_claims(p, x, now, &c, err);
    json_decref(p);
    if (rc == NQ_OK)
        memcpy(out, &c, sizeof c); /* padding too: callers may compare bytes */
    return rc;
}
