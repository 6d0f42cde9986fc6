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

#endif
