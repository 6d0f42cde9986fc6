/* http_internal.h - what http.c needs from http_park.c and http_listen.c.
 *
 * Parked connections: a connection that waits for something outside the network (a job to
 * finish, the next progress event) is suspended in libmicrohttpd and put
 * on the parker's list. One parker thread polls each parked connection
 * every poll interval and resumes it when its poll function says it is
 * ready. So an HTTP thread never sleeps on behalf of one client, and
 * thousands of idle event streams cost a list entry each, not a thread. */
#ifndef NQ_SERVER_HTTP_INTERNAL_H
#define NQ_SERVER_HTTP_INTERNAL_H

#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "nqba/err.h"

typedef struct http_parked http_parked;
struct http_parked {
    http_parked *prev, *next; /* private: the parker's list */
    struct MHD_Connection *mhd;
    int (*poll)(void *cls, double now); /* 1 = resume now */
    void *cls;
    double interval; /* seconds between polls */
    double due;      /* > 0: poll at this time at the latest */
    uint64_t tag;    /* nonzero: polled on a kick only when the kick names it */
    double next_at;  /* private */
};

typedef struct http_parker {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    http_parked list; /* sentinel of a circular list */
    atomic_int closing;
    int stop;
    int kicked;         /* poll everything on the next sweep */
    double sleep_until; /* the parker's wake-up while it waits, else 0 */
    int started;
    pthread_t thread;
} http_parker;

int http_parker_start(http_parker *p);
/* Suspend item->mhd and park it. Call only from libmicrohttpd's access
 * handler or content reader of that connection (its rule for suspending).
 * Returns -1 without suspending when the parker is closing. */
int http_parker_add(http_parker *p, http_parked *item);
int http_parker_closing(http_parker *p);
/* Poll every parked item now (http_daemon_kick). */
void http_parker_kick(http_parker *p);
/* Poll the items with one of these tags, and those without one, now, on
 * the calling thread. */
void http_parker_kick_tags(http_parker *p, const uint64_t *tags, size_t n);
/* Resume every parked connection; later adds fail. */
void http_parker_close(http_parker *p);
/* Join the thread and release (after close and after the daemon stopped). */
void http_parker_stop(http_parker *p);

/* Listening socket for host:port (host "" = every IPv4 interface; names
 * are resolved, the first address that binds wins). *fd is non-blocking
 * and close-on-exec; *bound_port is the real port; *ipv6 says which family.
 * Errors name the address and the reason. */
int http_listen_open(const char *host, int port, int *fd, int *bound_port, int *ipv6, nq_err *err);

#endif
