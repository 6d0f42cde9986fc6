/* clock.h - monotonic time for time limits, latencies and benchmarks.
 * Never used to make a result depend on wall time except through an
 * explicit time limit the caller asked for. */
#ifndef NQBA_CLOCK_H
#define NQBA_CLOCK_H

#include <stdint.h>

/* Monotonic nanoseconds since an arbitrary origin. */
uint64_t nq_clock_ns(void);

/* Monotonic seconds since an arbitrary origin. */
double nq_clock_s(void);

/* CPU time used by the whole process, in seconds. */
double nq_clock_cpu_s(void);

/* Wall-clock time in seconds since the Unix epoch (for timestamps only). */
double nq_clock_wall_s(void);

/* wall (Unix seconds) as RFC 3339 UTC with milliseconds:
 * "2026-11-26T05:50:22.123Z". */
void nq_clock_rfc3339(double wall, char out[32]);
/* Parse an RFC 3339 date-time ("2026-11-26T05:50:22Z", fractions and
 * +hh:mm offsets allowed) into Unix seconds; -1 when it is not one. */
int nq_clock_parse_rfc3339(const char *s, double *out);

#endif
