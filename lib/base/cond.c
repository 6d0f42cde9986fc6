/* cond.c - monotonic-clock condition variables (nqba/cond.h). */
#include <math.h>
#include <time.h>

#include "nqba/clock.h"
#include "nqba/cond.h"
#include "nqba/err.h"

int nq_cond_init(pthread_cond_t *c)
{
    pthread_condattr_t a;
    if (pthread_condattr_init(&a))
        return NQ_ENOMEM;
    int rc = pthread_condattr_setclock(&a, CLOCK_MONOTONIC) || pthread_cond_init(c, &a);
    pthread_condattr_destroy(&a);
    return rc ? NQ_ENOMEM : NQ_OK;
}

int nq_cond_wait_until(pthread_cond_t *c, pthread_mutex_t *mu, double deadline)
{
    if (deadline < 0) {
        pthread_cond_wait(c, mu);
        return 1;
    }
    if (nq_clock_s() >= deadline)
        return 0;
    struct timespec ts;
    double whole = floor(deadline);
    ts.tv_sec = (time_t)whole;
    ts.tv_nsec = (long)((deadline - whole) * 1e9);
    if (ts.tv_nsec >= 1000000000L)
        ts.tv_nsec = 999999999L;
    pthread_cond_timedwait(c, mu, &ts);
    return nq_clock_s() < deadline;
}
