/* cond.h - condition variables that time their waits on the monotonic
 * clock (nq_clock_s), so a wait neither stretches nor ends early when the
 * wall clock is set. */
#ifndef NQBA_COND_H
#define NQBA_COND_H

#include <pthread.h>

/* A condition variable on CLOCK_MONOTONIC. NQ_OK, or NQ_ENOMEM. */
int nq_cond_init(pthread_cond_t *c);

/* Wait on c, with mu held, until signalled or until deadline, an
 * nq_clock_s() value (< 0: no deadline). Returns 0 once the deadline has
 * passed, else 1; wake-ups can be spurious, so callers loop on their own
 * condition. */
int nq_cond_wait_until(pthread_cond_t *c, pthread_mutex_t *mu, double deadline);

#endif
