/* worker.c - `nqba worker`: run jobs from the shared PostgreSQL queue.
 *
 * One claiming thread per slot (--workers). A thread claims a job
 * (queue.h: FOR UPDATE SKIP LOCKED, a lease), hands it to this process's
 * job service under the job's own id, and while it runs forwards its
 * progress to the queue and renews the lease every HEARTBEAT_S, which is
 * also when a cancel asked through the queue is seen. When the job ends
 * the thread writes the outcome with its lease token: a worker that lost
 * its lease (it stalled past it and another worker took the job) changes
 * nothing.
 *
 * At-least-once, stored once: the decision is written (persist) before
 * the job row ends. A worker killed in between leaves a stored decision
 * and a job whose lease expires; the next claim finds the decision and
 * ends the job with it instead of solving again. A job this worker gives
 * up because it is shutting down goes back to the queue at once, unstored.
 *
 * Idle threads sleep until a NOTIFY on NQ_QUEUE_WORK (one listening
 * thread wakes them) or IDLE_S, whichever comes first. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nqba/clock.h"
#include "nqba/cond.h"
#include "nqba/queue.h"
#include "nqba/solve.h"
#include "srv.h"

#define IDLE_S 1.0        /* a claim is tried at least this often */
#define HEARTBEAT_S 0.5   /* lease renewal and cancel check, capped at a third of the lease */
#define PROGRESS_S 0.25   /* progress rows and notices per job */
#define EVENT_WAIT_S 0.05 /* a slot's wait for its job's next event */
#define ERROR_WAIT_S 1.0  /* after the database failed */

typedef struct slot {
    char id[33]; /* the job it runs, "" when idle */
    int lost;    /* its lease was taken: nothing it does counts */
    int asked;   /* a cancel came through the queue */
} slot;

struct srv_worker {
    srv_app *a;
    char node[NQ_QUEUE_NODE_MAX];
    int n;
    pthread_t *threads;
    int started;
    pthread_t waker;
    int waker_started;
    pthread_mutex_t mu;
    pthread_cond_t work;
    int stop;     /* under mu */
    int busy;     /* under mu */
    slot *slots;  /* under mu */
};

/* ---- slots ---- */

static slot *slot_of(struct srv_worker *w, const char *id)
{
    for (int i = 0; i < w->n; i++)
        if (!strcmp(w->slots[i].id, id))
            return &w->slots[i];
    return NULL;
}

int srv_worker_persist(void *user, const nq_job_record *rec, nq_err *err)
{
    srv_app *a = user;
    struct srv_worker *w = a->worker;
    int skip = 0;
    pthread_mutex_lock(&w->mu);
    slot *s = slot_of(w, rec->id);
    if (s)
        skip = s->lost || (!strcmp(rec->status, "cancelled") && !s->asked);
    pthread_mutex_unlock(&w->mu);
    return skip ? NQ_OK : srv_store_persist(a, rec, err);
}

static void set_busy(struct srv_worker *w, int delta)
{
    pthread_mutex_lock(&w->mu);
    w->busy += delta;
    nq_metrics_set(w->a->metrics, "nqba_worker_busy", NULL, w->busy);
    pthread_mutex_unlock(&w->mu);
}

/* ---- ending a job in the queue ---- */

static void finish(struct srv_worker *w, const nq_queue_claimed *c, const char *state,
                   const char *result, const char *error)
{
    int applied = 0;
    nq_err err;
    nq_err_clear(&err);
    if (nq_queue_finish(w->a->store, c->id, c->token, state, result, error, &applied, &err))
        srv_log_event(&w->a->log, "error", "could not end a job in the queue", "detail", err.msg);
    else if (!applied)
        nq_metrics_inc(w->a->metrics, "nqba_worker_lost_leases_total", NULL, 1);
}

static void fail_with(struct srv_worker *w, const nq_queue_claimed *c, const nq_err *e)
{
    const char *where = e->where[0] == '/' || !e->where[0] ? e->where : NULL;
    json_t *doc = json_pack("{s:s,s:o,s:s}", "code", nq_code_name(e->code ? e->code : NQ_EINVAL),
                            "pointer", where && where[0] ? json_string(where) : json_null(),
                            "detail", e->msg[0] ? e->msg : "the request is not valid");
    char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    finish(w, c, "failed", NULL, text ? text : "{\"code\":\"internal\",\"pointer\":null,"
                                              "\"detail\":\"out of memory\"}");
    free(text);
}

/* A job claimed again whose decision a previous holder already stored:
 * that answer stands (it is the one on record), nothing is solved twice. */
static int answered_before(struct srv_worker *w, const nq_queue_claimed *c)
{
    json_t *d = NULL;
    nq_err err;
    nq_err_clear(&err);
    if (nq_store_get_decision(w->a->store, c->id, &d, &err) != NQ_OK)
        return 0;
    const char *status = json_string_value(json_object_get(d, "status"));
    json_t *result = json_object_get(d, "result");
    int done = 0;
    if (status && !strcmp(status, "succeeded") && json_is_object(result)) {
        char *text = json_dumps(result, JSON_COMPACT | JSON_REAL_PRECISION(17));
        if (text) {
            finish(w, c, "succeeded", text, NULL);
            done = 1;
        }
        free(text);
    }
    json_decref(d);
    return done;
}

/* ---- running one job ---- */

static void heartbeat(struct srv_worker *w, const nq_queue_claimed *c, slot *s)
{
    int cancel = 0;
    nq_err err;
    nq_err_clear(&err);
    int rc = nq_queue_heartbeat(w->a->store, c->id, c->token, w->a->cfg.lease, &cancel, &err);
    pthread_mutex_lock(&w->mu);
    int stop_job = 0;
    if (rc == NQ_ENOTFOUND && !s->lost) {
        s->lost = stop_job = 1;
        nq_metrics_inc(w->a->metrics, "nqba_worker_lost_leases_total", NULL, 1);
    } else if (rc == NQ_OK && cancel && !s->asked) {
        s->asked = stop_job = 1;
    }
    pthread_mutex_unlock(&w->mu);
    if (stop_job)
        (void)nq_jobs_cancel(w->a->jobs, c->id);
    else if (rc && rc != NQ_ENOTFOUND)
        srv_log_event(&w->a->log, "warn", "heartbeat failed", "detail", err.msg);
}

/* Follow the local job to its end; *event and *data get the final event. */
static void follow(struct srv_worker *w, const nq_queue_claimed *c, slot *s, nq_job_sub *sub,
                   const char **event, char **data)
{
    double beat = w->a->cfg.lease / 3 < HEARTBEAT_S ? w->a->cfg.lease / 3 : HEARTBEAT_S;
    double next_beat = nq_clock_s() + beat, next_progress = 0;
    for (;;) {
        const char *ev = NULL;
        char *text = NULL;
        int rc = nq_jobs_next_event(sub, EVENT_WAIT_S, &ev, &text);
        if (rc < 0)
            return;
        double now = nq_clock_s();
        if (rc == 1 && strcmp(ev, "progress") != 0) {
            *event = ev;
            *data = text;
            return;
        }
        if (rc == 1 && now >= next_progress && !s->lost) {
            nq_err err;
            nq_err_clear(&err);
            (void)nq_queue_progress(w->a->store, c->id, c->token, text, &err);
            next_progress = now + PROGRESS_S;
        }
        free(text);
        if (now >= next_beat) {
            heartbeat(w, c, s);
            next_beat = now + beat;
        }
    }
}

static void run_job(struct srv_worker *w, const nq_queue_claimed *c, slot *s, json_t *doc,
                    const srv_kind *k)
{
    nq_err err;
    nq_err_clear(&err);
    void *prepared = NULL;
    if (k->prepare(doc, &prepared, &err)) {
        json_decref(doc);
        fail_with(w, c, &err);
        return;
    }
    nq_job_priority prio = NQ_PRIO_NORMAL;
    (void)nq_job_priority_parse(c->priority, &prio);
    nq_job_submit sub = {.kind = c->kind,
                         .request = doc,
                         .prepared = prepared,
                         .prepared_free = k->prepared_free,
                         .fn = k->fn,
                         .priority = prio,
                         .request_text = c->request_text,
                         .request_len = strlen(c->request_text),
                         .id = c->id};
    char id[33];
    int cached = 0;
    if (nq_jobs_submit(w->a->jobs, &sub, id, &cached, &err)) {
        /* shutting down: another worker takes it */
        nq_err e2;
        nq_err_clear(&e2);
        (void)nq_queue_release(w->a->store, c->id, c->token, &e2);
        return;
    }
    nq_job_sub *events = NULL;
    if (nq_jobs_subscribe(w->a->jobs, id, &events)) {
        srv_log_event(&w->a->log, "error", "job vanished", "id", id);
        return;
    }
    const char *event = NULL;
    char *data = NULL;
    follow(w, c, s, events, &event, &data);
    nq_jobs_unsubscribe(events);
    pthread_mutex_lock(&w->mu);
    int lost = s->lost, asked = s->asked;
    pthread_mutex_unlock(&w->mu);
    if (lost || !event) {
        /* nothing: the job is another worker's now */
    } else if (!strcmp(event, "result")) {
        finish(w, c, "succeeded", data, NULL);
    } else if (!strcmp(event, "error")) {
        finish(w, c, "failed", NULL, data);
    } else if (asked) {
        finish(w, c, "cancelled", NULL, NULL);
    } else {
        nq_err e2;
        nq_err_clear(&e2);
        (void)nq_queue_release(w->a->store, c->id, c->token, &e2);
    }
    free(data);
}

static void handle(struct srv_worker *w, int index, const nq_queue_claimed *c)
{
    slot *s = &w->slots[index];
    pthread_mutex_lock(&w->mu);
    memcpy(s->id, c->id, sizeof s->id);
    s->lost = s->asked = 0;
    pthread_mutex_unlock(&w->mu);
    if (c->attempts > 1 && answered_before(w, c))
        goto done;
    const srv_kind *k = srv_kind_find(c->kind);
    json_error_t jerr;
    json_t *doc = json_loads(c->request, 0, &jerr);
    if (!k || !doc) {
        json_decref(doc);
        nq_err e;
        nq_err_set(&e, NQ_EINVAL, NULL, !k ? "unknown job kind '%s'" : "the queued request is not JSON: %s",
                   !k ? c->kind : jerr.text);
        fail_with(w, c, &e);
        goto done;
    }
    run_job(w, c, s, doc, k);
done:
    pthread_mutex_lock(&w->mu);
    s->id[0] = '\0';
    pthread_mutex_unlock(&w->mu);
}

/* ---- the threads ---- */

static int wait_for_work(struct srv_worker *w, double secs)
{
    return srv_wait_flag(&w->mu, &w->work, &w->stop, secs);
}

typedef struct slot_arg {
    struct srv_worker *w;
    int index;
} slot_arg;

static void count_claim(struct srv_worker *w, const nq_queue_claimed *c, int got, int poisoned)
{
    nq_metrics *m = w->a->metrics;
    if (poisoned)
        nq_metrics_inc(m, "nqba_worker_poison_jobs_total", NULL, poisoned);
    if (!got)
        return;
    nq_metrics_inc(m, "nqba_worker_claims_total", NULL, 1);
    if (c->reclaimed)
        nq_metrics_inc(m, "nqba_worker_lease_expiries_total", NULL, 1);
}

static void *slot_main(void *arg)
{
    pthread_setname_np(pthread_self(), "nq-slot");
    slot_arg *sa = arg;
    struct srv_worker *w = sa->w;
    int index = sa->index;
    free(sa);
    while (!wait_for_work(w, 0)) {
        nq_queue_claimed c;
        int got = 0, poisoned = 0;
        nq_err err;
        nq_err_clear(&err);
        memset(&c, 0, sizeof c);
        if (nq_queue_claim(w->a->store, w->node, w->a->cfg.lease, w->a->cfg.max_attempts, &c,
                           &got, &poisoned, &err)) {
            srv_log_event(&w->a->log, "warn", "claim failed", "detail", err.msg);
            wait_for_work(w, ERROR_WAIT_S);
            continue;
        }
        count_claim(w, &c, got, poisoned);
        if (!got) {
            wait_for_work(w, IDLE_S);
            continue;
        }
        set_busy(w, 1);
        handle(w, index, &c);
        set_busy(w, -1);
        nq_queue_claim_free(&c);
    }
    nq_solve_thread_exit();
    return NULL;
}

/* Wakes the idle slots when a job is queued anywhere. */
static void *waker_main(void *arg)
{
    pthread_setname_np(pthread_self(), "nq-waker");
    struct srv_worker *w = arg;
    nq_queue_listener *l = NULL;
    char buf[64];
    while (!wait_for_work(w, 0)) {
        nq_err err;
        nq_err_clear(&err);
        if (!l && nq_queue_listen(w->a->store, NQ_QUEUE_WORK, &l, &err)) {
            l = NULL;
            wait_for_work(w, ERROR_WAIT_S);
            continue;
        }
        int rc = nq_queue_next(l, 0.25, buf, sizeof buf, &err);
        if (rc == 1) {
            pthread_mutex_lock(&w->mu);
            pthread_cond_broadcast(&w->work);
            pthread_mutex_unlock(&w->mu);
        }
    }
    nq_queue_listener_free(l);
    return NULL;
}

static void node_name(char *out, size_t cap)
{
    char host[NQ_QUEUE_NODE_MAX - 16];
    if (gethostname(host, sizeof host))
        snprintf(host, sizeof host, "worker");
    host[sizeof host - 1] = '\0';
    snprintf(out, cap, "%s:%ld", host, (long)getpid());
}

static void describe(nq_metrics *m, int slots)
{
    nq_metrics_help(m, "nqba_worker_claims_total", "Jobs this worker claimed from the queue.");
    nq_metrics_help(m, "nqba_worker_lease_expiries_total",
                    "Jobs claimed after the previous holder's lease expired (its worker stopped).");
    nq_metrics_help(m, "nqba_worker_poison_jobs_total",
                    "Jobs failed because they used up their attempts.");
    nq_metrics_help(m, "nqba_worker_lost_leases_total",
                    "Jobs whose lease this worker lost before it could end them.");
    nq_metrics_help(m, "nqba_worker_busy", "Slots running a job.");
    nq_metrics_help(m, "nqba_worker_slots", "Jobs this worker runs at once.");
    static const char *const COUNTERS[] = {"nqba_worker_claims_total", "nqba_worker_lease_expiries_total",
                                           "nqba_worker_poison_jobs_total",
                                           "nqba_worker_lost_leases_total"};
    for (size_t i = 0; i < sizeof COUNTERS / sizeof COUNTERS[0]; i++)
        nq_metrics_inc(m, COUNTERS[i], NULL, 0);
    nq_metrics_set(m, "nqba_worker_busy", NULL, 0);
    nq_metrics_set(m, "nqba_worker_slots", NULL, slots);
}

int srv_worker_start(srv_app *a, nq_err *err)
{
    struct srv_worker *w = calloc(1, sizeof *w);
    if (!w)
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    w->a = a;
    w->n = a->workers;
    node_name(w->node, sizeof w->node);
    w->threads = calloc((size_t)w->n, sizeof *w->threads);
    w->slots = calloc((size_t)w->n, sizeof *w->slots);
    pthread_mutex_init(&w->mu, NULL);
    int cond_rc = nq_cond_init(&w->work); /* srv_wait_flag waits on the monotonic clock */
    a->worker = w;
    if (!w->threads || !w->slots || cond_rc)
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    describe(a->metrics, w->n);
    for (int i = 0; i < w->n; i++) {
        slot_arg *sa = malloc(sizeof *sa);
        if (sa) {
            sa->w = w;
            sa->index = i;
        }
        if (!sa || pthread_create(&w->threads[i], NULL, slot_main, sa)) {
            free(sa);
            return nq_err_set(err, NQ_ENOMEM, NULL, "cannot start the claiming threads");
        }
        w->started++;
    }
    if (pthread_create(&w->waker, NULL, waker_main, w))
        return nq_err_set(err, NQ_ENOMEM, NULL, "cannot start the claiming threads");
    w->waker_started = 1;
    srv_log_event(&a->log, "info", "worker claiming jobs", "node", w->node);
    return NQ_OK;
}

void srv_worker_stop_claiming(srv_app *a)
{
    struct srv_worker *w = a ? a->worker : NULL;
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->stop = 1;
    pthread_cond_broadcast(&w->work);
    pthread_mutex_unlock(&w->mu);
}

/* Before the job service goes: the jobs still running are stopped (each
 * slot sees its job end and gives it back to the queue) and the slots
 * exit. */
void srv_worker_join(srv_app *a)
{
    struct srv_worker *w = a ? a->worker : NULL;
    if (!w)
        return;
    srv_worker_stop_claiming(a);
    char id[33];
    for (int i = 0; i < w->n; i++) {
        pthread_mutex_lock(&w->mu);
        memcpy(id, w->slots[i].id, sizeof id);
        pthread_mutex_unlock(&w->mu);
        if (id[0])
            (void)nq_jobs_cancel(a->jobs, id);
    }
    for (int i = 0; i < w->started; i++)
        pthread_join(w->threads[i], NULL);
    if (w->waker_started)
        pthread_join(w->waker, NULL);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->work);
    free(w->threads);
    free(w->slots);
    free(w);
    a->worker = NULL;
}
