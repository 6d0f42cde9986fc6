/* fuzz_base32.c - libFuzzer target for nq_base32_decode and the code
 * checks of nq_totp_verify.
 *
 * The input is KEYTEXT, or KEYTEXT '\n' CODE TIME: KEYTEXT (any bytes but
 * '\n') must decode or fail cleanly, and decoded bytes must encode, padded
 * and not, to text that decodes to the same bytes. The key, if any, then
 * checks CODE (up to 10 bytes, any content) at TIME (up to 8 bytes, big
 * endian) with a window taken from the input's length: a match must be six
 * digits and a step inside the window, and the code nq_totp_code gives for
 * that time must match at its own step. An empty key must be refused. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nqba/totp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX 4096 /* bytes of input looked at: longer adds nothing new */

static void check_roundtrip(const uint8_t *raw, size_t n)
{
    char text[NQ_BASE32_ENC_LEN(NQ_BASE32_DEC_LEN(FUZZ_MAX))];
    uint8_t back[NQ_BASE32_DEC_LEN(FUZZ_MAX)];
    for (int pad = 0; pad <= 1; pad++) {
        size_t m = 0;
        if (nq_base32_encode(raw, n, pad, text, sizeof text) != NQ_OK ||
            nq_base32_decode(text, strlen(text), back, sizeof back, &m) != NQ_OK || m != n ||
            memcmp(raw, back, n) != 0)
            abort();
    }
}

/* A code is well formed when it is exactly six ASCII digits. */
static int six_digits(const char *s)
{
    for (int i = 0; i < NQ_TOTP_DIGITS; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return s[NQ_TOTP_DIGITS] == '\0';
}

static void check_verify(const uint8_t *key, size_t klen, const uint8_t *data, size_t size)
{
    char code[NQ_TOTP_CODE_MAX] = {0};
    size_t clen = size < 10 ? size : 10;
    memcpy(code, data, clen);
    uint64_t t = 0;
    for (size_t i = clen; i < clen + 8 && i < size; i++)
        t = t << 8 | data[i];
    int window = (int)(size % (NQ_TOTP_WINDOW_MAX + 1));
    int64_t step = -1;
    int rc = nq_totp_verify(key, klen, code, t, window, &step);
    if (klen == 0) {
        if (rc != NQ_EINVAL)
            abort();
        return;
    }
    if (rc < 0 || rc > 1 || (rc == 1 && !six_digits(code)))
        abort();
    if (rc == 1 && (step < (int64_t)(t / 30) - window || step > (int64_t)(t / 30) + window))
        abort();
    char good[NQ_TOTP_CODE_MAX];
    if (nq_totp_code(key, klen, t, 0, good) != NQ_OK ||
        nq_totp_verify(key, klen, good, t, window, &step) != 1 || step != (int64_t)(t / 30))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t key[NQ_BASE32_DEC_LEN(FUZZ_MAX)];
    if (size > FUZZ_MAX)
        size = FUZZ_MAX;
    const uint8_t *nl = size ? memchr(data, '\n', size) : NULL;
    size_t tlen = nl ? (size_t)(nl - data) : size;
    size_t klen = 0;
    int rc = nq_base32_decode((const char *)data, tlen, key, sizeof key, &klen);
    if (rc != NQ_OK) {
        if (rc != NQ_EINVAL || klen != 0)
            abort();
        return 0;
    }
    check_roundtrip(key, klen);
    if (nl)
        check_verify(key, klen, nl + 1, size - tlen - 1);
    return 0;
}
