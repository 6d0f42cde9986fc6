/* fuzz_urls.c - libFuzzer target for the small text parsers of the store
 * and the server's queries: Redis URLs (nq_rcache_url_parse) and RFC 3339
 * times (nq_clock_parse_rfc3339).
 *
 * Any input must parse or fail cleanly. A parsed URL has a port in range
 * and NUL-terminated parts; a parsed time prints back (nq_clock_rfc3339)
 * to a time that parses to the same second. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nqba/clock.h"
#include "nqba/rcache.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    nq_rcache_url u;
    nq_err err;
    if (nq_rcache_url_parse(text, &u, &err) == NQ_OK) {
        if (u.port < 1 || u.port > 65535 || u.db < 0 || u.db > NQ_RCACHE_DB_MAX ||
            strnlen(u.host, sizeof u.host) == sizeof u.host ||
            strnlen(u.password, sizeof u.password) == sizeof u.password)
            abort();
    }
    double t = 0;
    if (nq_clock_parse_rfc3339(text, &t) == 0) {
        char back[32];
        double again = 0;
        /* Years past 9999 or before 1970 do not print as RFC 3339 here. */
        if (t >= 0 && t < 253402300800.0) {
            nq_clock_rfc3339(t, back);
            if (nq_clock_parse_rfc3339(back, &again) != 0 || fabs(floor(again) - floor(t)) > 0)
                abort();
        }
    }
    free(text);
    return 0;
}
