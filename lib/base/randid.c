/* randid.c - random identifiers (randid.h). */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/random.h>
#include <time.h>

#include "nqba/err.h"
#include "nqba/randid.h"

int nq_random_id(char out[33])
{
    unsigned char raw[16];
    size_t got = 0;
    while (got < sizeof raw) {
        ssize_t n = getrandom(raw + got, sizeof raw - got, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return NQ_EIO;
        got += (size_t)n;
    }
    static const char HEX[] = "0123456789abcdef";
    for (size_t i = 0; i < sizeof raw; i++) {
        out[2 * i] = HEX[raw[i] >> 4];
        out[2 * i + 1] = HEX[raw[i] & 15];
    }
    out[32] = '\0';
    return NQ_OK;
}

int nq_time_id(char out[33])
{
    int rc = nq_random_id(out);
    if (rc)
        return rc;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t ms = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
    static const char HEX[] = "0123456789abcdef";
    for (int i = 11; i >= 0; i--, ms >>= 4)
        out[i] = HEX[ms & 15];
    return NQ_OK;
}

int nq_id_valid(const char *id)
{
    size_t n = 0;
    while (id && n < 33 && ((id[n] >= '0' && id[n] <= '9') || (id[n] >= 'a' && id[n] <= 'f')))
        n++;
    return id && n == 32 && id[32] == '\0';
}
