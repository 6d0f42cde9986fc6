/* totp.c - RFC 6238 one-time passwords (HMAC-SHA1, 30-second steps), the
 * RFC 4648 base32 their secrets are written in, and the otpauth URI that
 * carries a secret to an authenticator app. */
#include "nqba/totp.h"

#include <sodium.h>
#include <string.h>

#include "nqba/sha1.h"

/* ---- base32 ------------------------------------------------------------ */

static const char B32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/* 1 when lo <= c <= hi, else 0, without a branch on c: both differences
 * are negative (bit 8 set, as c is a byte) only inside the range. */
static unsigned in_range(unsigned c, unsigned lo, unsigned hi)
{
    return ((lo - 1 - c) & (c - hi - 1)) >> 8 & 1;
}

/* The value of a base32 letter, or -1. The text is a secret, so the
 * lookup does not branch on it (as libsodium's base64 decoder does not). */
static int b32_value(unsigned char ch)
{
    unsigned c = ch;
    unsigned upper = in_range(c, 'A', 'Z'), lower = in_range(c, 'a', 'z');
    unsigned digit = in_range(c, '2', '7');
    unsigned v = upper * (c - 'A' + 1) + lower * (c - 'a' + 1) + digit * (c - '2' + 27);
    return (int)v - 1;
}

int nq_base32_encode(const uint8_t *in, size_t len, int pad, char *out, size_t cap)
{
    if (!out || (!in && len))
        return NQ_EINVAL;
    if (cap)
        out[0] = '\0';
    /* Bytes come in fives of 8 letters; a partial five needs ceil(bits/5). */
    size_t letters = len / 5 * 8 + (len % 5 * 8 + 4) / 5;
    size_t chars = pad ? (len + 4) / 5 * 8 : letters;
    if (len > SIZE_MAX / 8 || chars >= cap)
        return NQ_ELIMIT;
    uint32_t acc = 0; /* only the low `bits` bits are pending */
    int bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        acc = (acc << 8 | in[i]) & 0xfff;
        bits += 8;
        while (bits >= 5) {
            bits -= 5;
            out[o++] = B32[acc >> bits & 31];
        }
    }
    if (bits)
        out[o++] = B32[acc << (5 - bits) & 31];
    while (o < chars)
        out[o++] = '=';
    out[o] = '\0';
    return NQ_OK;
}

/* Whether some byte string encodes to this many letters: past the last
 * whole group of 8, 0, 1, 2, 3 or 4 leftover bytes give 0, 2, 4, 5 or 7. */
static int letters_possible(size_t letters)
{
    size_t r = letters % 8;
    return r != 1 && r != 3 && r != 6;
}

int nq_base32_decode(const char *in, size_t len, uint8_t *out, size_t cap, size_t *out_len)
{
    if ((!in && len) || (!out && cap) || !out_len)
        return NQ_EINVAL;
    *out_len = 0;
    uint32_t acc = 0;
    int bits = 0, padding = 0, rc = NQ_OK;
    size_t letters = 0, o = 0;
    for (size_t i = 0; i < len; i++) {
        if (in[i] == ' ')
            continue;
        if (in[i] == '=') {
            padding = 1;
            continue;
        }
        int v = b32_value((unsigned char)in[i]);
        if (v < 0 || padding) {
            rc = NQ_EINVAL;
            break;
        }
        acc = (acc << 5 | (uint32_t)v) & 0xfff;
        bits += 5;
        letters++;
        if (bits >= 8) {
            if (o == cap) {
                rc = NQ_ELIMIT;
                break;
            }
            bits -= 8;
            out[o++] = (uint8_t)(acc >> bits);
        }
    }
    if (rc == NQ_OK && !letters_possible(letters))
        rc = NQ_EINVAL;
    if (rc != NQ_OK) {
        /* Half a secret is still part of one. */
        if (o)
            sodium_memzero(out, o);
        return rc;
    }
    *out_len = o;
    return NQ_OK;
}

/* ---- one-time passwords ------------------------------------------------ */

int nq_totp_secret_new(uint8_t out[NQ_TOTP_SECRET_LEN])
{
    if (!out)
        return NQ_EINVAL;
    if (sodium_init() < 0)
        return NQ_EINTERNAL;
    randombytes_buf(out, NQ_TOTP_SECRET_LEN);
    return NQ_OK;
}

/* HOTP (RFC 4226 section 5.3): HMAC-SHA1 of the big-endian counter, then
 * 31 bits read at the offset the last nibble names. */
static uint32_t hotp(const uint8_t *key, size_t klen, uint64_t counter)
{
    uint8_t msg[8], mac[NQ_SHA1_LEN];
    for (int i = 7; i >= 0; i--, counter >>= 8)
        msg[i] = (uint8_t)counter;
    nq_hmac_sha1(key, klen, msg, sizeof msg, mac);
    int off = mac[NQ_SHA1_LEN - 1] & 15;
    uint32_t bin = (uint32_t)(mac[off] & 0x7f) << 24 | (uint32_t)mac[off + 1] << 16 |
                   (uint32_t)mac[off + 2] << 8 | mac[off + 3];
    sodium_memzero(mac, sizeof mac);
    return bin;
}

/* The last `digits` decimal digits of bin, zero padded: bin mod 10^digits
 * written out in full. */
static void format_code(uint32_t bin, int digits, char out[NQ_TOTP_CODE_MAX])
{
    for (int i = digits - 1; i >= 0; i--, bin /= 10)
        out[i] = (char)('0' + bin % 10);
    out[digits] = '\0';
}

int nq_totp_code(const uint8_t *key, size_t klen, uint64_t unix_seconds, int digits,
                 char out[NQ_TOTP_CODE_MAX])
{
    if (out)
        out[0] = '\0';
    if (digits == 0)
        digits = NQ_TOTP_DIGITS;
    if (!key || !klen || !out || digits < NQ_TOTP_DIGITS_MIN || digits > NQ_TOTP_DIGITS_MAX)
        return NQ_EINVAL;
    format_code(hotp(key, klen, unix_seconds / NQ_TOTP_PERIOD), digits, out);
    return NQ_OK;
}

/* Exactly NQ_TOTP_DIGITS ASCII digits, then the NUL. Reading stops at the
 * first byte that is not a digit, so a short string is never overrun. */
static int code_well_formed(const char *code)
{
    if (!code)
        return 0;
    for (int i = 0; i < NQ_TOTP_DIGITS; i++)
        if (code[i] < '0' || code[i] > '9')
            return 0;
    return code[NQ_TOTP_DIGITS] == '\0';
}

int nq_totp_verify(const uint8_t *key, size_t klen, const char *code, uint64_t unix_seconds,
                   int window, int64_t *matched_step)
{
    if (!key || !klen || window < 0 || window > NQ_TOTP_WINDOW_MAX)
        return NQ_EINVAL;
    if (!code_well_formed(code))
        return 0;
    uint64_t now = unix_seconds / NQ_TOTP_PERIOD;
    int found = 0;
    uint64_t step_found = 0;
    /* Offsets 0, -1, +1, -2, +2, ...: the first match is the nearest step.
     * Every candidate is computed and compared even after a match, so the
     * time taken does not depend on the code. */
    for (int d = 0; d <= 2 * window; d++) {
        uint64_t off = (uint64_t)(d + 1) / 2;
        if (d & 1 && now < off)
            continue; /* a step before the epoch */
        uint64_t step = d & 1 ? now - off : now + off; /* now < 2^64 / 30: no wrap */
        char want[NQ_TOTP_CODE_MAX];
        format_code(hotp(key, klen, step), NQ_TOTP_DIGITS, want);
        int eq = sodium_memcmp(want, code, NQ_TOTP_DIGITS) == 0;
        sodium_memzero(want, sizeof want);
        if (eq && !found) {
            found = 1;
            step_found = step;
        }
    }
    if (found && matched_step)
        *matched_step = (int64_t)step_found;
    return found;
}

/* ---- otpauth URI ------------------------------------------------------- */

/* A bounded writer: once something does not fit, nothing more is written. */
typedef struct uri_out {
    char *p;
    size_t cap; /* > len: room for the NUL is always kept */
    size_t len;
    int full;
} uri_out;

static void put(uri_out *w, const char *s, size_t n)
{
    if (w->full || n >= w->cap - w->len) {
        w->full = 1;
        return;
    }
    memcpy(w->p + w->len, s, n);
    w->len += n;
    w->p[w->len] = '\0';
}

static void put_str(uri_out *w, const char *s) { put(w, s, strlen(s)); }

/* RFC 3986 unreserved characters as they are, every other byte as %XX. */
static void put_pct(uri_out *w, const char *s)
{
    static const char HEX[] = "0123456789ABCDEF";
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~') {
            put(w, (const char *)&c, 1);
        } else {
            char e[3] = {'%', HEX[c >> 4], HEX[c & 15]};
            put(w, e, sizeof e);
        }
    }
}

static int label_part_ok(const char *s) { return s && *s && !strchr(s, ':'); }

int nq_totp_uri(const char *issuer, const char *account, const uint8_t *key, size_t klen,
                char *out, size_t cap)
{
    if (out && cap)
        out[0] = '\0';
    if (!out || !label_part_ok(issuer) || !label_part_ok(account) || !key || !klen ||
        klen > NQ_TOTP_KEY_MAX)
        return NQ_EINVAL;
    if (!cap)
        return NQ_ELIMIT;
    char secret[NQ_BASE32_ENC_LEN(NQ_TOTP_KEY_MAX)];
    int rc = nq_base32_encode(key, klen, 0, secret, sizeof secret);
    if (rc != NQ_OK)
        return rc;
    uri_out w = {out, cap, 0, 0};
    put_str(&w, "otpauth://totp/");
    put_pct(&w, issuer);
    put_str(&w, ":");
    put_pct(&w, account);
    put_str(&w, "?secret=");
    put_str(&w, secret);
    put_str(&w, "&issuer=");
    put_pct(&w, issuer);
    _Static_assert(NQ_TOTP_DIGITS == 6 && NQ_TOTP_PERIOD == 30, "the URI names both");
    put_str(&w, "&algorithm=SHA1&digits=6&period=30");
    sodium_memzero(secret, sizeof secret);
    if (w.full) {
        sodium_memzero(out, w.len);
        out[0] = '\0';
        return NQ_ELIMIT;
    }
    return NQ_OK;
}
