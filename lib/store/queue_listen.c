/* queue_listen.c - following the shared job queue's notifications
 * (include/nqba/queue.h): a connection of the listener's own, opened from
 * the store's URL but outside its pool, because LISTEN holds for the
 * session and a pooled connection would carry it to unrelated callers.
 *
 * A listener is used by one thread at a time. After a lost connection the
 * next call makes one attempt to reconnect and listen again; the
 * notifications sent in between are gone, which the callers accept
 * because they are hints (a follower re-reads the rows). */
#include <stdlib.h>
#include <string.h>

#include "nqba/queue.h"
#include "store_internal.h"

struct nq_queue_listener {
    const nq__driver *drv;
    char *url;
    char channel[NQ__CHANNEL_MAX];
    nq__db *db; /* NULL after a lost connection, until the next call reconnects */
};

/* Channel names are identifiers; keeping to [a-z0-9_] means they need no
 * case folding rules and cannot be confused once quoted. */
static int nq__listen_channel_ok(const char *channel)
{
    size_t n = channel ? strlen(channel) : 0;
    return n > 0 && n < NQ__CHANNEL_MAX &&
           strspn(channel, "abcdefghijklmnopqrstuvwxyz0123456789_") == n;
}

static int nq__listen_open(nq_queue_listener *l, nq_err *err)
{
    nq__db *db = NULL;
    int rc = l->drv->connect(l->url, &db, err);
    if (rc)
        return rc;
    rc = l->drv->listen(db, l->channel, err);
    if (rc) {
        l->drv->disconnect(db);
        return rc;
    }
    l->db = db;
    return NQ_OK;
}

int nq_queue_listen(nq_store *s, const char *channel, nq_queue_listener **out, nq_err *err)
{
    *out = NULL;
    int rc = nq__queue_check(s, err);
    if (rc)
        return rc;
    if (!s->drv->listen || !s->drv->wait_notify)
        return nq_err_set(err, NQ_EINVAL, NULL, "the shared job queue needs PostgreSQL");
    if (!nq__listen_channel_ok(channel))
        return nq_err_set(err, NQ_EINVAL, "channel", "must be 1..%d of [a-z0-9_]",
                          NQ__CHANNEL_MAX - 1);
    nq_queue_listener *l = calloc(1, sizeof *l);
    if (!l || !(l->url = strdup(s->url))) {
        free(l);
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    }
    l->drv = s->drv;
    memcpy(l->channel, channel, strlen(channel) + 1);
    rc = nq__listen_open(l, err);
    if (rc) {
        nq_queue_listener_free(l);
        return rc;
    }
    *out = l;
    return NQ_OK;
}

int nq_queue_next(nq_queue_listener *l, double timeout, char *buf, size_t cap, nq_err *err)
{
    if (!l || !buf || cap == 0)
        return nq_err_set(err, NQ_EINVAL, NULL, "bad arguments");
    buf[0] = '\0';
    if (!l->db) {
        int rc = nq__listen_open(l, err);
        if (rc)
            return rc;
    }
    int rc = l->drv->wait_notify(l->db, timeout, buf, cap, err);
    if (rc == NQ_EUNAVAIL) {
        l->drv->disconnect(l->db);
        l->db = NULL;
    }
    return rc;
}

void nq_queue_listener_free(nq_queue_listener *l)
{
    if (!l)
        return;
    if (l->db)
        l->drv->disconnect(l->db);
    free(l->url);
    free(l);
}
