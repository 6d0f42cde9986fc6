/* clock.c - thin wrappers over clock_gettime. */
#include "nqba/clock.h"

#include <time.h>

static uint64_t clock_ns(clockid_t id)
{
    struct timespec ts;
    /* These clocks exist on every supported system; a failure would mean a
     * bad clock id, so 0 is only a defensive answer. */
    if (clock_gettime(id, &ts) != 0)
        return 0;
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t nq_clock_ns(void) { return clock_ns(CLOCK_MONOTONIC); }

double nq_clock_s(void) { return (double)clock_ns(CLOCK_MONOTONIC) * 1e-9; }

double nq_clock_cpu_s(void) { return (double)clock_ns(CLOCK_PROCESS_CPUTIME_ID) * 1e-9; }

double nq_clock_wall_s(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
        return 0.0;
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}
