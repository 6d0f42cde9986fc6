/* totp.h - time-based one-time passwords for multi-factor sign-in (RFC
 * 6238), and the base32 text (RFC 4648) in which their secrets travel.
 *
 *   nq_totp_secret_new(key)                          20 random bytes
 *   nq_totp_uri("NQBA", "ann@example.com", key, 20, uri, sizeof uri)
 *                                                    for the QR code
 *   nq_totp_verify(key, 20, "123456", now, 1, &step) 1 = accepted, 0 = not
 *
 * Codes are HMAC-SHA1, 30-second steps counted from the Unix epoch, and
 * 6 digits: what every authenticator app assumes when a URI says nothing
 * else. The library reads no clock: the time is always a parameter.
 *
 * A code is good for a whole step (and for the neighbouring steps the
 * window lets in), so the caller must remember the last step it accepted
 * for an account and refuse any step not after it; nq_totp_verify returns
 * the matched step for that. */
#ifndef NQBA_TOTP_H
#define NQBA_TOTP_H

#include <stddef.h>
#include <stdint.h>

#include "nqba/err.h"

#define NQ_TOTP_SECRET_LEN 20 /* bytes: 160 bits, as RFC 4226 section 4 recommends */
#define NQ_TOTP_PERIOD 30     /* seconds per step */
#define NQ_TOTP_DIGITS 6      /* the default, and what nq_totp_verify expects */
#define NQ_TOTP_DIGITS_MIN 6
#define NQ_TOTP_DIGITS_MAX 8
#define NQ_TOTP_CODE_MAX 11   /* bytes of a code buffer: room for any digits, and NUL */
#define NQ_TOTP_WINDOW_MAX 10 /* steps either side; more would accept a guess too easily */
#define NQ_TOTP_KEY_MAX 64    /* bytes of a key nq_totp_uri will write */

/* ---- base32 ------------------------------------------------------------ */

/* Characters nq_base32_encode writes for n bytes, with the NUL, padded or
 * not (padding only adds '=' up to a multiple of 8). */
#define NQ_BASE32_ENC_LEN(n) (((n) + 4) / 5 * 8 + 1)
/* Bytes that text of n characters can decode to, at most. */
#define NQ_BASE32_DEC_LEN(n) ((n) * 5 / 8)

/* Encode len bytes as upper-case RFC 4648 base32 into out, NUL-terminated.
 * pad != 0 appends '=' to a multiple of 8 characters, as RFC 4648 does;
 * pad == 0 leaves it off, as otpauth URIs want. NQ_ELIMIT (and out = "" if
 * cap > 0) when cap < NQ_BASE32_ENC_LEN(len); NQ_EINVAL for NULL pointers. */
int nq_base32_encode(const uint8_t *in, size_t len, int pad, char *out, size_t cap);

/* Decode len characters of base32 into out; *out_len = bytes written.
 * Lower case is accepted, spaces are skipped anywhere (secrets are often
 * shown in groups of four), '=' is padding and may only be followed by
 * more '=' or spaces. NQ_EINVAL for any other character (a NUL included)
 * or for a count of letters no encoding produces (1, 3 or 6 past a
 * multiple of 8: a truncated or mistyped secret); NQ_ELIMIT when the
 * bytes do not fit in cap. Unused low bits of the last letter are
 * ignored (RFC 4648 section 3.5 leaves that to the decoder). */
int nq_base32_decode(const char *in, size_t len, uint8_t *out, size_t cap, size_t *out_len);

/* ---- one-time passwords ------------------------------------------------ */

/* Fill out with NQ_TOTP_SECRET_LEN random bytes from libsodium.
 * NQ_EINTERNAL if libsodium cannot be initialized. */
int nq_totp_secret_new(uint8_t out[NQ_TOTP_SECRET_LEN]);

/* The RFC 6238 code of key (klen >= 1 bytes) for the 30-second step that
 * holds unix_seconds, with digits digits (0 = NQ_TOTP_DIGITS; else
 * NQ_TOTP_DIGITS_MIN..NQ_TOTP_DIGITS_MAX), zero padded, NUL-terminated.
 * NQ_EINVAL for a bad argument (and out = "" when out is not NULL). */
int nq_totp_code(const uint8_t *key, size_t klen, uint64_t unix_seconds, int digits,
                 char out[NQ_TOTP_CODE_MAX]);

/* Check a NQ_TOTP_DIGITS-digit code against the steps from the current
 * one minus window to plus window (0..NQ_TOTP_WINDOW_MAX; the server uses
 * 1, which forgives 30 s of clock skew either way). Every candidate is
 * computed and compared in constant time. Returns 1 on a match and sets
 * *matched_step (if not NULL) to the step, unix_seconds / 30, that matched
 * (the nearest to the current step should two match); 0 when nothing
 * matches, which includes a code that is NULL or not exactly
 * NQ_TOTP_DIGITS ASCII digits. NQ_EINVAL for a NULL or empty key or a
 * window out of range. */
int nq_totp_verify(const uint8_t *key, size_t klen, const char *code, uint64_t unix_seconds,
                   int window, int64_t *matched_step);

/* The otpauth URI an authenticator app reads from a QR code:
 *   otpauth://totp/ISSUER:ACCOUNT?secret=BASE32&issuer=ISSUER
 *       &algorithm=SHA1&digits=6&period=30
 * with issuer and account percent-encoded (only RFC 3986 unreserved
 * characters are kept; a space is %20) and the secret unpadded. issuer
 * and account must be non-empty and free of ':', which the label uses as
 * its separator (NQ_EINVAL); klen is 1..NQ_TOTP_KEY_MAX. NQ_ELIMIT (and
 * out = "") when the URI and its NUL do not fit in cap. */
int nq_totp_uri(const char *issuer, const char *account, const uint8_t *key, size_t klen,
                char *out, size_t cap);

#endif
