/* reads.c - the thread pool behind every multi-read heuristic. */
#include "reads.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "solve_internal.h"

typedef struct pool {
    const nq__reader *rd;
    const nq_model *m;
    const nq_solve_opts *o;
    int64_t reads;
    nq_result *out;
    pthread_mutex_t lock;
    nq_rng next_rng;    /* stream of read next_read; guarded by lock */
    int64_t next_read;  /* guarded by lock */
    int64_t done;       /* guarded by lock */
    double best_energy; /* guarded by lock */
    double t0;
    atomic_int cancel;
    atomic_llong stop_index;
    atomic_llong attempts;
    nq__stop stop;
    nq_progress_fn cb;
    void *user;
} pool;

typedef struct worker {
    pool *p;
    void *work;
    int8_t *spins;      /* best spins of the current reads (batch rows) */
    nq_rng *rng;        /* streams of the current reads */
    int8_t *keep;       /* best spins over this thread's reads */
    double keep_energy;
    int64_t keep_read;  /* -1 = none */
    double keep_time;
} worker;

static int batch_of(const nq__reader *rd)
{
    return rd->batch > 1 && rd->run_batch ? rd->batch : 1;
}

/* The next batch of reads: *count of them from *read, streams in rng[]. */
static int take_reads(pool *p, int64_t *read, nq_rng *rng, int *count)
{
    pthread_mutex_lock(&p->lock);
    int ok = p->next_read < p->reads && !nq__should_stop(&p->stop, p->next_read);
    if (ok) {
        int64_t left = p->reads - p->next_read;
        *count = left < batch_of(p->rd) ? (int)left : batch_of(p->rd);
        *read = p->next_read;
        p->next_read += *count;
        for (int k = 0; k < *count; k++) {
            rng[k] = p->next_rng;
            nq_rng_jump(&p->next_rng);
        }
    }
    pthread_mutex_unlock(&p->lock);
    return ok;
}

static int64_t run_some(const nq__reader *rd, void *work, nq_rng *rng, int count,
                        const nq__stop *stop, int64_t read, int8_t *spins)
{
    if (batch_of(rd) > 1)
        return rd->run_batch(rd->plan, work, rng, count, stop, read, spins);
    return rd->run(rd->plan, work, rng, stop, read, spins);
}

static void report(pool *p)
{
    double el = nq_clock_s() - p->t0, frac = (double)p->done / (double)p->reads;
    if (p->o->time_limit > 0.0 && el / p->o->time_limit > frac)
        frac = fmin(1.0, el / p->o->time_limit);
    nq_progress pr = {p->rd->name, p->best_energy, el, frac, p->done, p->reads};
    if (p->cb(&pr, p->user))
        atomic_store(&p->cancel, 1);
}

static void finish_read(pool *p, int64_t read, double energy)
{
    pthread_mutex_lock(&p->lock);
    p->out->read_energies[read] = energy;
    p->done++;
    if (energy < p->best_energy)
        p->best_energy = energy;
    if (nq__reached(energy, p->o)) {
        long long cur = atomic_load(&p->stop_index);
        while (read < cur && !atomic_compare_exchange_weak(&p->stop_index, &cur, read))
            ;
    }
    if (p->cb && !atomic_load(&p->cancel))
        report(p); /* never again once the callback asked to stop */
    pthread_mutex_unlock(&p->lock);
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    pool *p = w->p;
    size_t n = (size_t)p->m->n;
    int64_t read0;
    int count;
    while (take_reads(p, &read0, w->rng, &count)) {
        int64_t att = run_some(p->rd, w->work, w->rng, count, &p->stop, read0, w->spins);
        atomic_fetch_add(&p->attempts, (long long)att);
        for (int k = 0; k < count; k++) {
            int64_t read = read0 + k;
            if (read > atomic_load(&p->stop_index))
                break; /* past a read that already hit the target: not counted */
            const int8_t *sp = w->spins + (size_t)k * n;
            double e = nq_model_energy(p->rd->is, sp);
            if (w->keep_read < 0 || e < w->keep_energy) {
                memcpy(w->keep, sp, n);
                w->keep_energy = e;
                w->keep_read = read;
                w->keep_time = nq_clock_s() - p->t0;
            }
            finish_read(p, read, e);
        }
    }
    return NULL;
}

static int worker_init(worker *w, pool *p)
{
    size_t n = (size_t)p->m->n + 1;
    memset(w, 0, sizeof *w);
    w->p = p;
    w->keep_read = -1;
    w->spins = malloc(n * (size_t)batch_of(p->rd));
    w->rng = malloc((size_t)batch_of(p->rd) * sizeof *w->rng);
    w->keep = malloc(n);
    w->work = p->rd->work_new(p->rd->plan);
    return w->spins && w->rng && w->keep && w->work ? NQ_OK : NQ_ENOMEM;
}

static void worker_free(worker *w, const nq__reader *rd)
{
    free(w->spins);
    free(w->rng);
    free(w->keep);
    if (w->work)
        rd->work_free(w->work);
}

static int64_t counted_reads(pool *p)
{
    int64_t stop = atomic_load(&p->stop_index);
    return stop < p->next_read ? stop + 1 : p->next_read;
}

/* Lowest energy, ties to the lowest read index; its state comes from the
 * thread that kept it, or from replaying the read (its stream is known)
 * when a later, uncounted read displaced it there. */
static int select_best(pool *p, worker *ws, int nw)
{
    int64_t count = counted_reads(p), best = 0;
    if (count == 0)
        return NQ_ECANCEL;
    for (int64_t k = 1; k < count; k++)
        if (p->out->read_energies[k] < p->out->read_energies[best])
            best = k;
    for (int t = 0; t < nw; t++)
        if (ws[t].keep_read == best) {
            nq__result_set_spins(p->out, p->m, ws[t].keep);
            p->out->time_to_best = ws[t].keep_time;
            return NQ_OK;
        }
    int64_t b = batch_of(p->rd), read0 = best / b * b;
    int nb = (int)(p->reads - read0 < b ? p->reads - read0 : b);
    for (int k = 0; k < nb; k++)
        nq_rng_stream(&ws[0].rng[k], p->o->seed, (uint64_t)(read0 + k));
    atomic_int no_cancel = 0;
    atomic_llong no_stop = INT64_MAX;
    nq__stop stop = {&no_cancel, &no_stop, 0.0, NULL};
    run_some(p->rd, ws[0].work, ws[0].rng, nb, &stop, read0, ws[0].spins);
    nq__result_set_spins(p->out, p->m, ws[0].spins + (size_t)(best - read0) * (size_t)p->m->n);
    p->out->time_to_best = nq_clock_s() - p->t0;
    return NQ_OK;
}

static int run_workers(pool *p, worker *ws, int nw)
{
    pthread_t tid[NQ_SOLVE_MAX_THREADS];
    int started = 0;
    for (int t = 0; t < nw; t++)
        if (worker_init(&ws[t], p))
            return NQ_ENOMEM;
    for (; started < nw - 1; started++)
        if (pthread_create(&tid[started], NULL, worker_main, &ws[started + 1]))
            break;
    worker_main(&ws[0]);
    for (int t = 0; t < started; t++)
        pthread_join(tid[t], NULL);
    return select_best(p, ws, nw);
}

static void finish_result(pool *p)
{
    nq_result *out = p->out;
    out->elapsed = nq_clock_s() - p->t0;
    out->reads = counted_reads(p);
    out->attempts = atomic_load(&p->attempts);
    out->target_reached = nq__reached(out->energy, p->o);
    out->cancelled = atomic_load(&p->cancel) || (p->o->cancel_flag && atomic_load(p->o->cancel_flag));
    out->timed_out = !out->target_reached && !out->cancelled && out->reads < p->reads;
}

static void pool_init(pool *p, const nq__reader *rd, const nq_model *m, const nq_solve_opts *o,
                      int64_t reads)
{
    memset(p, 0, sizeof *p);
    p->rd = rd, p->m = m, p->o = o, p->reads = reads;
    p->best_energy = INFINITY;
    p->t0 = nq_clock_s();
    atomic_init(&p->cancel, 0);
    atomic_init(&p->stop_index, INT64_MAX);
    atomic_init(&p->attempts, 0);
    p->stop = (nq__stop){&p->cancel, &p->stop_index,
                         o->time_limit > 0.0 ? p->t0 + o->time_limit : 0.0, o->cancel_flag};
    nq_rng_seed(&p->next_rng, o->seed);
    pthread_mutex_init(&p->lock, NULL);
}

int nq__run_reads(const nq__reader *rd, const nq_model *m, const nq_solve_opts *o, int64_t reads,
                  nq_progress_fn cb, void *user, nq_result *out, nq_err *err)
{
    pool *p = malloc(sizeof *p);
    if (!p)
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    pool_init(p, rd, m, o, reads);
    p->cb = cb, p->user = user, p->out = out;
    int nw = nq__threads(o);
    int64_t batches = (reads + batch_of(rd) - 1) / batch_of(rd);
    if (nw > batches)
        nw = (int)batches;
    worker *ws = calloc((size_t)nw, sizeof *ws);
    int rc = ws ? nq__result_init(out, rd->name, m, reads, err) : NQ_ENOMEM;
    if (!rc && (rc = run_workers(p, ws, nw)) == NQ_OK)
        finish_result(p);
    for (int t = 0; ws && t < nw; t++)
        worker_free(&ws[t], rd);
    if (rc && (!err || rc != err->code))
        nq_err_set(err, rc, NULL, rc == NQ_ECANCEL ? "%s cancelled before any read finished"
                                                    : "%s: out of memory", rd->name);
    if (rc)
        nq_result_free(out);
    free(ws);
    pthread_mutex_destroy(&p->lock);
    free(p);
    return rc;
}
