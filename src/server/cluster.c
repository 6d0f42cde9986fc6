/* cluster.c - an API node's part in a cluster, and the background thread
 * every process runs.
 *
 * With --queue shared an API node runs no jobs: it validates a request,
 * queues it in PostgreSQL (queue.h) and mirrors the job in its own job
 * service (service.h), so the synchronous answer, GET, the events and the
 * cancel go through the same code as a local job. What workers do reaches
 * the node as notifications ("<id> <event>"); for a mirrored id the node
 * re-reads the row and feeds the mirror. Notifications are hints: a
 * listener that reconnects may have missed some, so mirrored jobs not yet
 * ended are re-read every SWEEP_S as well.
 *
 * The same thread checks the audit chain every --audit-check seconds and,
 * in a cluster, publishes the queue's counts by state. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nqba/clock.h"
#include "nqba/cond.h"
#include "nqba/queue.h"
#include "nqba/randid.h"
#include "nqba/solve.h"
#include "srv.h"

#define WAIT_S 0.25    /* longest sleep: how fast the thread sees stop */
#define SWEEP_S 1.0    /* re-read of mirrored jobs not yet ended */
#define COUNTS_S 2.0   /* the nqba_queue_jobs gauge */
#define PRUNE_S 60.0   /* ended jobs past --job-retention */
#define RETRY_S 1.0    /* after the listener failed */
#define SWEEP_MAX 512  /* mirrored jobs re-read per sweep */
#define PAYLOAD_MAX 256

struct srv_ops {
    pthread_t thread;
    int started;
    pthread_mutex_t mu;
    pthread_cond_t wake;
    int stop;
};

/* ---- mirrors ---- */

static void feed(srv_app *a, const nq_queue_row *r)
{
    nq_job_mirror m = {.started_at = r->started_at,
                       .finished_at = r->finished_at,
                       .progress = r->progress,
                       .result = r->result,
                       .error = r->error};
    if (nq_job_state_parse(r->state, &m.state))
        return;
    (void)nq_jobs_mirror_update(a->jobs, r->id, &m);
}

/* Read the row of a mirrored job and feed it. */
static void refresh(srv_app *a, const char *id)
{
    nq_queue_row r;
    nq_err err;
    nq_err_clear(&err);
    int rc = nq_queue_get(a->store, id, &r, &err);
    if (rc == NQ_OK) {
        feed(a, &r);
        nq_queue_row_free(&r);
    } else if (rc == NQ_ENOTFOUND) {
        /* Pruned (or the table was restored without it): nothing will
         * ever tell how it ended, so the mirror stops waiting. */
        nq_job_mirror m = {.state = NQ_JOB_FAILED,
                           .error = "{\"code\":\"not-found\",\"pointer\":null,"
                                    "\"detail\":\"the job is no longer in the queue\"}"};
        (void)nq_jobs_mirror_update(a->jobs, id, &m);
    }
}

int srv_cluster_know(srv_app *a, const char *id)
{
    if (!nq_id_valid(id))
        return NQ_ENOTFOUND;
    if (nq_jobs_known(a->jobs, id))
        return NQ_OK;
    nq_queue_row r;
    nq_err err;
    nq_err_clear(&err);
    int rc = nq_queue_get(a->store, id, &r, &err);
    if (rc)
        return rc == NQ_EINVAL ? NQ_ENOTFOUND : rc; /* not an id the queue could hold */
    nq_job_priority prio = NQ_PRIO_NORMAL;
    (void)nq_job_priority_parse(r.priority, &prio);
    if (nq_jobs_mirror_add(a->jobs, r.id, r.kind, prio, r.created_at) == NQ_OK ||
        nq_jobs_is_mirror(a->jobs, r.id))
        feed(a, &r);
    nq_queue_row_free(&r);
    return NQ_OK;
}

int srv_cluster_submit(srv_app *a, const srv_kind *k, const json_t *doc, const char *run_text,
                       size_t run_len, const char *request_text, size_t request_len,
                       nq_job_priority prio, const char *idem_key, char id[33], nq_err *err)
{
    char hash[65];
    nq_request_hash(k->kind, doc, hash);
    char *run = strndup(run_text, run_len);
    char *stored = strndup(request_text, request_len);
    if (!run || !stored) {
        free(run);
        free(stored);
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    }
    nq_queue_job j = {.kind = k->kind,
                      .priority = nq_job_priority_name(prio),
                      .request = run,
                      .request_text = stored,
                      .idem_key = idem_key,
                      .request_hash = hash};
    int existing = 0;
    int rc = nq_queue_enqueue(a->store, &j, id, &existing, err);
    free(run);
    free(stored);
    if (rc)
        return rc;
    int added = nq_jobs_mirror_add(a->jobs, id, k->kind, prio, nq_clock_wall_s()) == NQ_OK;
    if (existing && (added || nq_jobs_is_mirror(a->jobs, id)))
        refresh(a, id); /* a repeat: the job may have ended long ago */
    return NQ_OK;
}

int srv_cluster_cancel(srv_app *a, const char *id, nq_err *err)
{
    if (!nq_id_valid(id))
        return NQ_ENOTFOUND;
    int now = 0;
    int rc = nq_queue_cancel(a->store, id, &now, err);
    if (rc == NQ_OK && nq_jobs_is_mirror(a->jobs, id))
        refresh(a, id);
    return rc;
}

/* "<32 hex> <event>": the mirrored job named gets re-read. */
static void on_notice(srv_app *a, const char *payload)
{
    char id[33];
    if (strlen(payload) < 33 || payload[32] != ' ')
        return;
    memcpy(id, payload, 32);
    id[32] = '\0';
    if (nq_jobs_is_mirror(a->jobs, id))
        refresh(a, id);
}

static void sweep(srv_app *a)
{
    char(*ids)[33] = malloc(SWEEP_MAX * sizeof *ids);
    if (!ids)
        return;
    int n = nq_jobs_mirror_pending(a->jobs, ids, SWEEP_MAX);
    for (int i = 0; i < n; i++)
        refresh(a, ids[i]);
    free(ids);
}

/* ---- gauges ---- */

/* Queued and running only: a count of the ended jobs would scan a table
 * that only grows (until pruned); nqba_jobs counts what a node saw end. */
static void queue_gauges(srv_app *a)
{
    int64_t queued, running;
    nq_err err;
    nq_err_clear(&err);
    if (nq_queue_pending(a->store, &queued, &running, &err) != NQ_OK)
        return;
    nq_metrics_set(a->metrics, "nqba_queue_jobs", "state=queued", (double)queued);
    nq_metrics_set(a->metrics, "nqba_queue_jobs", "state=running", (double)running);
}

/* Ended jobs older than --job-retention leave the table, a batch a time. */
static void prune(srv_app *a)
{
    if (!(a->cfg.job_retention > 0))
        return;
    int64_t removed = 0;
    nq_err err;
    nq_err_clear(&err);
    if (nq_queue_prune(a->store, nq_clock_wall_s() - a->cfg.job_retention, &removed, &err))
        srv_log_event(&a->log, "warn", "pruning the job queue failed", "detail", err.msg);
}

static void audit_check(srv_app *a)
{
    nq_audit_report rep;
    nq_err err;
    nq_err_clear(&err);
    int rc = nq_store_audit_verify(a->store, &rep, &err);
    if (rc) {
        srv_log_event(&a->log, "warn", "audit check could not run", "detail", err.msg);
        return; /* unknown is not broken: the gauge keeps its last value */
    }
    nq_metrics_set(a->metrics, "nqba_audit_chain_ok", NULL, rep.ok ? 1 : 0);
    nq_metrics_set(a->metrics, "nqba_audit_last_check_timestamp_seconds", NULL, nq_clock_wall_s());
    if (!rep.ok)
        srv_log_event(&a->log, "error", "audit chain broken", "detail", rep.reason);
}

static void describe(srv_app *a)
{
    nq_metrics *m = a->metrics;
    nq_metrics_help(m, "nqba_audit_chain_ok",
                    "1 when the last audit-chain verification passed, 0 when it found a break.");
    nq_metrics_help(m, "nqba_audit_last_check_timestamp_seconds",
                    "Unix time of the last completed audit-chain verification.");
    if (a->cluster)
        nq_metrics_help(m, "nqba_queue_jobs",
                        "Jobs queued and running in the shared PostgreSQL queue.");
}

/* ---- the thread ---- */

int srv_wait_flag(pthread_mutex_t *mu, pthread_cond_t *cv, const int *flag, double secs)
{
    pthread_mutex_lock(mu);
    if (!*flag && secs > 0)
        nq_cond_wait_until(cv, mu, nq_clock_s() + secs);
    int set = *flag;
    pthread_mutex_unlock(mu);
    return set;
}

static int stopping(struct srv_ops *o, double wait)
{
    return srv_wait_flag(&o->mu, &o->wake, &o->stop, wait);
}

/* Wait up to WAIT_S for notifications and handle them all. */
static void listen_step(srv_app *a, nq_queue_listener **l, double *retry_at)
{
    nq_err err;
    nq_err_clear(&err);
    if (!*l) {
        if (nq_clock_s() < *retry_at || nq_queue_listen(a->store, NQ_QUEUE_EVENTS, l, &err)) {
            if (err.msg[0])
                srv_log_event(&a->log, "warn", "queue listener", "detail", err.msg);
            *retry_at = nq_clock_s() + RETRY_S;
            *l = NULL;
            stopping(a->ops, WAIT_S);
            return;
        }
    }
    char buf[PAYLOAD_MAX];
    double wait = WAIT_S;
    int rc;
    while ((rc = nq_queue_next(*l, wait, buf, sizeof buf, &err)) == 1) {
        on_notice(a, buf);
        wait = 0; /* drain what is pending, then go round */
    }
    if (rc < 0) /* the connection broke: the next call reconnects; a sweep covers the gap */
        srv_log_event(&a->log, "warn", "queue listener", "detail", err.msg);
}

static void *ops_main(void *arg)
{
    pthread_setname_np(pthread_self(), "nq-ops");
    srv_app *a = arg;
    int mirrors = a->cluster && a->cfg.role == SRV_ROLE_SERVE;
    nq_queue_listener *l = NULL;
    double now = nq_clock_s(), next_audit = now, next_sweep = now + SWEEP_S, next_counts = now;
    double retry_at = now, next_prune = now + PRUNE_S;
    while (!stopping(a->ops, 0)) {
        now = nq_clock_s();
        if (a->cfg.audit_check > 0 && now >= next_audit) {
            audit_check(a);
            next_audit = nq_clock_s() + a->cfg.audit_check;
        }
        if (a->cluster && now >= next_counts) {
            queue_gauges(a);
            next_counts = now + COUNTS_S;
        }
        if (mirrors && now >= next_prune) {
            prune(a);
            next_prune = now + PRUNE_S;
        }
        if (mirrors && now >= next_sweep) {
            sweep(a);
            next_sweep = now + SWEEP_S;
        }
        if (mirrors)
            listen_step(a, &l, &retry_at);
        else
            stopping(a->ops, WAIT_S);
    }
    nq_queue_listener_free(l);
    nq_solve_thread_exit();
    return NULL;
}

int srv_ops_start(srv_app *a, nq_err *err)
{
    struct srv_ops *o = calloc(1, sizeof *o);
    if (!o)
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    pthread_mutex_init(&o->mu, NULL);
    if (nq_cond_init(&o->wake)) { /* srv_wait_flag waits on the monotonic clock */
        pthread_mutex_destroy(&o->mu);
        free(o);
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    }
    a->ops = o;
    describe(a);
    if (pthread_create(&o->thread, NULL, ops_main, a)) {
        srv_ops_stop(a);
        return nq_err_set(err, NQ_ENOMEM, NULL, "cannot start the background thread");
    }
    o->started = 1;
    return NQ_OK;
}

void srv_ops_stop(srv_app *a)
{
    struct srv_ops *o = a ? a->ops : NULL;
    if (!o)
        return;
    pthread_mutex_lock(&o->mu);
    o->stop = 1;
    pthread_cond_broadcast(&o->wake);
    pthread_mutex_unlock(&o->mu);
    if (o->started)
        pthread_join(o->thread, NULL);
    pthread_mutex_destroy(&o->mu);
    pthread_cond_destroy(&o->wake);
    free(o);
    a->ops = NULL;
}
