/* shared_cache.c - the result cache shared by the nodes of a deployment
 * (Redis, --redis), behind each node's local cache. Redis is optional and
 * may go away at any time: a miss, a timeout or an outage all mean "run
 * the job", so requests never fail because of it. What happens is counted
 * (nqba_shared_cache_*) and each change between up and down is logged. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nqba/rcache.h"
#include "srv.h"

/* Publish the counters and log a change of state; under a mutex of its
 * own, since workers and HTTP threads call in. */
static void publish(srv_app *a)
{
    nq_rcache_stats_t st;
    nq_rcache_stats(a->rcache, &st);
    pthread_mutex_lock(&a->rcache_mu);
    nq_metrics_set(a->metrics, "nqba_shared_cache_hits_total", NULL, (double)st.hits);
    nq_metrics_set(a->metrics, "nqba_shared_cache_misses_total", NULL, (double)st.misses);
    nq_metrics_set(a->metrics, "nqba_shared_cache_errors_total", NULL, (double)st.errors);
    nq_metrics_set(a->metrics, "nqba_shared_cache_up", NULL, st.up ? 1 : 0);
    int changed = st.up != a->rcache_up;
    a->rcache_up = st.up;
    pthread_mutex_unlock(&a->rcache_mu);
    if (changed)
        srv_log_event(&a->log, st.up ? "info" : "warn",
                      st.up ? "shared cache reachable again" : "shared cache unreachable; "
                                                               "answering from this node",
                      "detail", st.up ? "" : st.last_error);
}

static int shared_get(void *user, const char *hash, char **text, size_t *len)
{
    srv_app *a = user;
    nq_err err;
    int rc = nq_rcache_get(a->rcache, hash, text, len, &err);
    publish(a);
    return rc;
}

static void shared_put(void *user, const char *hash, const char *text, size_t len)
{
    srv_app *a = user;
    nq_err err;
    nq_rcache_set(a->rcache, hash, text, len, 0, &err);
    publish(a);
}

int srv_shared_rate_take(void *user, const char *key, double rate, double burst, double now,
                         double cost, double *retry_after)
{
    srv_app *a = user;
    (void)now; /* the bucket runs on Redis's clock, the same for every node */
    char k[NQ_RCACHE_KEY_MAX];
    snprintf(k, sizeof k, "rl:%.200s", key);
    int allowed = 0;
    nq_err err;
    int rc = nq_rcache_take(a->rcache, k, rate, burst, cost, &allowed, retry_after, &err);
    publish(a);
    if (rc)
        return -1;
    return allowed ? 0 : 1;
}

int srv_shared_cache_open(srv_app *a, nq_jobs_config *jc, nq_err *err)
{
    if (!a->cfg.redis[0])
        return NQ_OK;
    nq_rcache_opts o;
    memset(&o, 0, sizeof o);
    int rc = nq_rcache_open(a->cfg.redis, &o, &a->rcache, err);
    if (rc) { /* a malformed URL; a Redis that is down is not an error */
        char msg[NQ_ERR_MSG_MAX];
        snprintf(msg, sizeof msg, "%s", err->msg);
        return nq_err_set(err, rc, "--redis", "%s", msg);
    }
    pthread_mutex_init(&a->rcache_mu, NULL);
    a->rcache_up = -1; /* unknown: the first publish logs the state */
    nq_metrics_help(a->metrics, "nqba_shared_cache_hits_total",
                    "Jobs answered from the shared (Redis) cache.");
    nq_metrics_help(a->metrics, "nqba_shared_cache_misses_total",
                    "Shared cache lookups that found nothing.");
    nq_metrics_help(a->metrics, "nqba_shared_cache_errors_total",
                    "Shared cache calls that failed (Redis down or too slow).");
    nq_metrics_help(a->metrics, "nqba_shared_cache_up", "1 while Redis answers.");
    nq_err perr;
    nq_rcache_ping(a->rcache, &perr);
    publish(a);
    jc->shared_get = shared_get;
    jc->shared_put = shared_put;
    jc->shared_user = a;
    return NQ_OK;
}

void srv_shared_cache_close(srv_app *a)
{
    if (!a->rcache)
        return;
    nq_rcache_close(a->rcache);
    pthread_mutex_destroy(&a->rcache_mu);
    a->rcache = NULL;
}
