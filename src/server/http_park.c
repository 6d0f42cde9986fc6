/* http_park.c - the parker thread: polls parked connections and resumes
 * the ready ones.
 *
 * Why polling: the job service offers blocking waits per job (nq_jobs_wait,
 * nq_jobs_next_event) but no way to be told about many jobs at once, and a
 * thread blocked per waiting client would not scale to thousands of event
 * streams. A zero-timeout check per parked connection per interval costs
 * a mutex each and bounds the added latency by the interval.
 *
 * Locking: the list lock is taken before libmicrohttpd's own locks
 * (suspend and resume are called with it held) and never the other way
 * round: no callback libmicrohttpd makes into the server takes it while
 * libmicrohttpd holds a lock, except http_parker_add, which runs in the
 * access handler or content reader where libmicrohttpd holds none. Taking
 * suspend and park under one lock also means the parker cannot resume a
 * connection before it was suspended, nor miss one parked while closing. */
#include "http_internal.h"

#include "nqba/clock.h"
#include "nqba/cond.h"

static void unlink_item(http_parked *it)
{
    it->prev->next = it->next;
    it->next->prev = it->prev;
    it->prev = it->next = NULL;
}

/* When to poll an item next: after its interval, or at its due time. */
static double next_poll(const http_parked *it, double now)
{
    double at = now + it->interval;
    return it->due > 0 && it->due < at ? it->due : at;
}

/* Poll the due items (every item after a kick), resume the ready ones;
 * returns when to look next. */
static double sweep(http_parker *p, double now)
{
    double next = now + 3600.0;
    int all = p->kicked;
    p->kicked = 0;
    http_parked *it = p->list.next;
    while (it != &p->list) {
        http_parked *nx = it->next;
        if (all || it->next_at <= now) {
            if (it->poll(it->cls, now)) {
                unlink_item(it);
                MHD_resume_connection(it->mhd);
                it = nx;
                continue;
            }
            it->next_at = next_poll(it, now);
        }
        if (it->next_at < next)
            next = it->next_at;
        it = nx;
    }
    return next;
}

static void *parker_main(void *arg)
{
    pthread_setname_np(pthread_self(), "nq-parker");
    http_parker *p = arg;
    pthread_mutex_lock(&p->lock);
    while (!p->stop) {
        double next = sweep(p, nq_clock_s());
        if (!p->stop && !p->kicked) {
            p->sleep_until = next;
            nq_cond_wait_until(&p->wake, &p->lock, next);
            p->sleep_until = 0.0;
        }
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

int http_parker_start(http_parker *p)
{
    p->list.next = p->list.prev = &p->list;
    atomic_init(&p->closing, 0);
    p->stop = 0;
    p->kicked = 0;
    p->sleep_until = 0.0;
    p->started = 0;
    if (pthread_mutex_init(&p->lock, NULL))
        return -1;
    /* A monotonic clock: waits must not stretch when the wall clock moves. */
    if (nq_cond_init(&p->wake)) {
        pthread_mutex_destroy(&p->lock);
        return -1;
    }
    if (pthread_create(&p->thread, NULL, parker_main, p)) {
        pthread_cond_destroy(&p->wake);
        pthread_mutex_destroy(&p->lock);
        return -1;
    }
    p->started = 1;
    return 0;
}

int http_parker_add(http_parker *p, http_parked *item)
{
    pthread_mutex_lock(&p->lock);
    if (atomic_load(&p->closing)) {
        pthread_mutex_unlock(&p->lock);
        return -1;
    }
    MHD_suspend_connection(item->mhd);
    item->next_at = next_poll(item, nq_clock_s());
    item->prev = p->list.prev;
    item->next = &p->list;
    p->list.prev->next = item;
    p->list.prev = item;
    /* Wake the parker only when it sleeps past this item's first poll.
     * Adds happen only while it waits (it holds the lock otherwise), and
     * in the steady state an older item is due first: a wake-up per add
     * would cost a thread hand-off and a sweep of the list per request. */
    if (item->next_at < p->sleep_until)
        pthread_cond_signal(&p->wake);
    pthread_mutex_unlock(&p->lock);
    return 0;
}

void http_parker_kick(http_parker *p)
{
    pthread_mutex_lock(&p->lock);
    if (p->list.next != &p->list && !p->kicked) {
        p->kicked = 1;
        pthread_cond_signal(&p->wake);
    }
    pthread_mutex_unlock(&p->lock);
}

static int tagged(const http_parked *it, const uint64_t *tags, size_t n)
{
    if (!it->tag)
        return 1;
    for (size_t i = 0; i < n; i++)
        if (tags[i] == it->tag)
            return 1;
    return 0;
}

/* Done here, on the kicking thread (the one that ended the jobs), rather
 * than by waking the parker: that saves a thread hand-off per store
 * batch, and polling only the named items spares the others a look at
 * the job service each (with every connection waiting on a job, a batch
 * ends a few of them). */
void http_parker_kick_tags(http_parker *p, const uint64_t *tags, size_t n)
{
    pthread_mutex_lock(&p->lock);
    double now = nq_clock_s();
    http_parked *it = p->list.next;
    while (it != &p->list && n > 0) {
        http_parked *nx = it->next;
        if (tagged(it, tags, n) && it->poll(it->cls, now)) {
            unlink_item(it);
            MHD_resume_connection(it->mhd);
        }
        it = nx;
    }
    pthread_mutex_unlock(&p->lock);
}

int http_parker_closing(http_parker *p)
{
    return atomic_load(&p->closing);
}

void http_parker_close(http_parker *p)
{
    if (!p->started)
        return;
    pthread_mutex_lock(&p->lock);
    atomic_store(&p->closing, 1);
    while (p->list.next != &p->list) {
        http_parked *it = p->list.next;
        unlink_item(it);
        MHD_resume_connection(it->mhd);
    }
    pthread_mutex_unlock(&p->lock);
}

void http_parker_stop(http_parker *p)
{
    if (!p->started)
        return;
    pthread_mutex_lock(&p->lock);
    p->stop = 1;
    pthread_cond_signal(&p->wake);
    pthread_mutex_unlock(&p->lock);
    pthread_join(p->thread, NULL);
    pthread_cond_destroy(&p->wake);
    pthread_mutex_destroy(&p->lock);
    p->started = 0;
}
