/* fuzz_fieldcrypt.c - libFuzzer target for the secrets layer's parsers:
 * sealed field values (nq_field_open, nq_field_reseal), key specs
 * (nq_field_ring_parse) and API keys (nq_apikey_parse, nq_apikey_check).
 *
 * Every input must open or fail cleanly, with no output on failure. An
 * input can only open if it starts with "nqf1:", names a key of the fixed
 * ring and authenticates under FUZZ_AAD: in practice, only the sealed
 * seeds in fuzz/corpus/fieldcrypt/ (made with this ring and aad). What
 * opens is NUL-terminated and survives a reseal under the current key. */
#include <sodium.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nqba/apikey.h"
#include "nqba/fieldcrypt.h"

#define FUZZ_AAD "fuzz.field:1"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The ring "fz1:<32 x 0x11>,fz0:<32 x 0x22>" (fz1 current), made once. */
static const nq_field_ring *fuzz_ring(void)
{
    static nq_field_ring *ring;
    if (ring)
        return ring;
    unsigned char k1[32], k0[32];
    char b1[64], b0[64], spec[160];
    memset(k1, 0x11, sizeof k1);
    memset(k0, 0x22, sizeof k0);
    sodium_bin2base64(b1, sizeof b1, k1, sizeof k1, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_bin2base64(b0, sizeof b0, k0, sizeof k0, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    snprintf(spec, sizeof spec, "fz1:%s,fz0:%s", b1, b0);
    if (nq_field_ring_parse(spec, &ring, NULL) != NQ_OK)
        abort();
    return ring;
}

static void check_open(const nq_field_ring *ring, const uint8_t *data, size_t size)
{
    char *out = (char *)"sentinel";
    size_t out_len = 99;
    if (nq_field_open(ring, FUZZ_AAD, (const char *)data, size, &out, &out_len, NULL) != NQ_OK) {
        if (out || out_len)
            abort(); /* no partial plaintext, ever */
        return;
    }
    if (size < 5 || memcmp(data, NQ_FIELD_PREFIX, 5) != 0 || out[out_len] != '\0')
        abort();
    /* The same text under another aad is another place: it must not open. */
    char *other = NULL;
    size_t other_len = 0;
    if (nq_field_open(ring, "fuzz.field:2", (const char *)data, size, &other, &other_len, NULL) !=
            NQ_EINVAL ||
        other)
        abort();
    char *re = NULL, *back = NULL;
    size_t re_len = 0, back_len = 0;
    int changed = -1;
    if (nq_field_reseal(ring, FUZZ_AAD, (const char *)data, size, &re, &re_len, &changed, NULL) !=
        NQ_OK)
        abort();
    if (changed) {
        if (nq_field_open(ring, FUZZ_AAD, re, re_len, &back, &back_len, NULL) != NQ_OK ||
            back_len != out_len || memcmp(back, out, out_len) != 0 ||
            strncmp(re, "nqf1:fz1:", 9) != 0)
            abort();
    } else if (re) {
        abort();
    }
    nq_field_free(back, back_len);
    free(re);
    nq_field_free(out, out_len);
}

static void check_apikey(const char *text)
{
    static const uint8_t pepper[NQ_APIKEY_PEPPER_LEN] = {7};
    char prefix[NQ_APIKEY_PREFIX_LEN + 1];
    if (nq_apikey_parse(text, prefix, NULL) == NQ_OK) {
        if (strlen(text) != NQ_APIKEY_LEN || strlen(prefix) != NQ_APIKEY_PREFIX_LEN ||
            strspn(prefix, "abcdefghijklmnopqrstuvwxyz0123456789") != NQ_APIKEY_PREFIX_LEN)
            abort();
    }
    /* No stored hash matches an input the fuzzer made up. */
    if (nq_apikey_check(pepper, text,
                        "0000000000000000000000000000000000000000000000000000000000000000"))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const nq_field_ring *ring = fuzz_ring();
    check_open(ring, data, size);
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    if (nq_field_is_sealed(text) != (size >= 5 && memcmp(text, "nqf1:", 5) == 0))
        abort();
    check_apikey(text);
    nq_field_ring *r = NULL;
    if (nq_field_ring_parse(text, &r, NULL) == NQ_OK && !nq_field_ring_current(r)[0])
        abort();
    nq_field_ring_free(r);
    free(text);
    return 0;
}
