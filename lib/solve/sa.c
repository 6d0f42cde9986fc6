/* sa.c - simulated annealing: reads dispatched in index order to a pool
 * of threads, each read on its own random stream (seed jumped `read`
 * times), best read chosen by (energy, read index). */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "sa_read.h"
#include "solve_internal.h"

#define SA_DEFAULT_READS 32

typedef struct sa_thread sa_thread;

typedef struct sa_run {
    const nq_model *m;
    const nq_solve_opts *o;
    sa_plan plan;
    int64_t reads;
    nq_result *out;
    pthread_mutex_t lock;
    nq_rng next_rng;      /* stream of read next_read; guarded by lock */
    int64_t next_read;    /* guarded by lock */
    int64_t done;         /* guarded by lock */
    double best_energy;   /* guarded by lock */
    double t0;
    atomic_int cancel;
    atomic_llong stop_index;
    atomic_llong attempts;
    sa_ctl ctl;
    nq_progress_fn cb;
    void *user;
} sa_run;

struct sa_thread {
    sa_run *run;
    sa_work w;
    int8_t *keep;         /* best spins over this thread's reads */
    double keep_energy;
    int64_t keep_read;    /* -1 = none */
    double keep_time;
    int failed;
};

static int take_read(sa_run *r, int64_t *read, nq_rng *rng)
{
    pthread_mutex_lock(&r->lock);
    int ok = r->next_read < r->reads && r->next_read <= atomic_load(&r->stop_index) &&
             !atomic_load(&r->cancel) && !(r->ctl.deadline > 0.0 && nq_clock_s() > r->ctl.deadline);
    if (ok) {
        *read = r->next_read++;
        *rng = r->next_rng;
        nq_rng_jump(&r->next_rng);
    }
    pthread_mutex_unlock(&r->lock);
    return ok;
}

static void finish_read(sa_run *r, int64_t read, double energy)
{
    pthread_mutex_lock(&r->lock);
    r->out->read_energies[read] = energy;
    r->done++;
    if (energy < r->best_energy)
        r->best_energy = energy;
    if (nq__reached(energy, r->o)) {
        long long cur = atomic_load(&r->stop_index);
        while (read < cur && !atomic_compare_exchange_weak(&r->stop_index, &cur, read))
            ;
    }
    if (r->cb) {
        double el = nq_clock_s() - r->t0, frac = (double)r->done / (double)r->reads;
        if (r->o->time_limit > 0.0 && el / r->o->time_limit > frac)
            frac = fmin(1.0, el / r->o->time_limit);
        nq_progress p = {"sa", r->best_energy, el, frac, r->done, r->reads};
        if (r->cb(&p, r->user))
            atomic_store(&r->cancel, 1);
    }
    pthread_mutex_unlock(&r->lock);
}

/* Energy in the caller's model: the Ising form has the same energies. */
static void *sa_worker(void *arg)
{
    sa_thread *th = arg;
    sa_run *r = th->run;
    int64_t read;
    nq_rng rng;
    while (take_read(r, &read, &rng)) {
        nq__sa_read(&r->plan, &th->w, &rng, &r->ctl, read);
        atomic_fetch_add(&r->attempts, (long long)th->w.sweeps_done * r->plan.n);
        if (read > atomic_load(&r->stop_index))
            continue; /* past a read that already hit the target: not counted */
        if (th->keep_read < 0 || th->w.energy < th->keep_energy) {
            memcpy(th->keep, th->w.best, (size_t)r->plan.n);
            th->keep_energy = th->w.energy;
            th->keep_read = read;
            th->keep_time = nq_clock_s() - r->t0;
        }
        finish_read(r, read, th->w.energy);
    }
    return NULL;
}

static int thread_alloc(sa_thread *th, sa_run *r)
{
    size_t n = (size_t)r->plan.n + 1;
    memset(th, 0, sizeof *th);
    th->run = r;
    th->keep_read = -1;
    th->w.s = malloc(n);
    th->w.best = malloc(n);
    th->keep = malloc(n);
    if (r->plan.integer)
        th->w.fi = malloc(n * sizeof *th->w.fi);
    else
        th->w.fd = malloc(n * sizeof *th->w.fd);
    return th->w.s && th->w.best && th->keep && (th->w.fi || th->w.fd) ? NQ_OK : NQ_ENOMEM;
}

static void thread_free(sa_thread *th)
{
    free(th->w.s);
    free(th->w.best);
    free(th->w.fi);
    free(th->w.fd);
    free(th->keep);
}

static int64_t counted_reads(sa_run *r)
{
    int64_t stop = atomic_load(&r->stop_index);
    return stop < r->next_read ? stop + 1 : r->next_read;
}

/* Pick the lowest energy, ties to the lowest read index; take its state
 * from the thread that kept it, or replay the read (its stream is known)
 * when a later, uncounted read displaced it from that thread. */
static int select_best(sa_run *r, sa_thread *th, int nth)
{
    int64_t count = counted_reads(r), best = 0;
    if (count == 0)
        return NQ_ECANCEL;
    for (int64_t k = 1; k < count; k++)
        if (r->out->read_energies[k] < r->out->read_energies[best])
            best = k;
    for (int t = 0; t < nth; t++)
        if (th[t].keep_read == best) {
            nq__result_set_spins(r->out, r->m, th[t].keep);
            r->out->time_to_best = th[t].keep_time;
            return NQ_OK;
        }
    nq_rng rng;
    nq_rng_stream(&rng, r->o->seed, (uint64_t)best);
    atomic_int no_cancel = 0;
    atomic_llong no_stop = INT64_MAX;
    sa_ctl ctl = {&no_cancel, &no_stop, 0.0};
    nq__sa_read(&r->plan, &th[0].w, &rng, &ctl, best);
    nq__result_set_spins(r->out, r->m, th[0].w.best);
    r->out->time_to_best = nq_clock_s() - r->t0;
    return NQ_OK;
}

static int run_pool(sa_run *r, sa_thread *th, int nth)
{
    pthread_t tid[NQ_SOLVE_MAX_THREADS];
    int started = 0;
    for (int t = 0; t < nth; t++)
        if (thread_alloc(&th[t], r))
            return NQ_ENOMEM;
    for (; started < nth - 1; started++)
        if (pthread_create(&tid[started], NULL, sa_worker, &th[started + 1]))
            break;
    sa_worker(&th[0]);
    for (int t = 0; t < started; t++)
        pthread_join(tid[t], NULL);
    return select_best(r, th, nth);
}

static void finish_result(sa_run *r)
{
    nq_result *out = r->out;
    out->elapsed = nq_clock_s() - r->t0;
    out->reads = counted_reads(r);
    out->attempts = atomic_load(&r->attempts);
    out->target_reached = nq__reached(out->energy, r->o);
    out->cancelled = atomic_load(&r->cancel);
    out->timed_out = !out->target_reached && !out->cancelled && out->reads < r->reads;
}

int nq_solve_sa(const nq_model *m, const nq_solve_opts *o, nq_progress_fn cb, void *user,
                nq_result *out, nq_err *err)
{
    static sa_run zero;
    sa_run *r = malloc(sizeof *r);
    if (!r)
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    *r = zero;
    r->m = m, r->o = o, r->cb = cb, r->user = user, r->out = out;
    r->reads = o->reads > 0 ? o->reads : SA_DEFAULT_READS;
    r->best_energy = INFINITY;
    r->t0 = nq_clock_s();
    atomic_init(&r->cancel, 0);
    atomic_init(&r->stop_index, INT64_MAX);
    atomic_init(&r->attempts, 0);
    r->ctl = (sa_ctl){&r->cancel, &r->stop_index, o->time_limit > 0.0 ? r->t0 + o->time_limit : 0.0};
    nq_rng_seed(&r->next_rng, o->seed);
    pthread_mutex_init(&r->lock, NULL);
    int nth = nq__threads(o);
    if (nth > r->reads)
        nth = (int)r->reads;
    sa_thread *th = calloc((size_t)nth, sizeof *th);
    int rc = th ? nq__sa_plan_init(&r->plan, m, o, err) : NQ_ENOMEM;
    if (!rc)
        rc = nq__result_init(out, "sa", m, r->reads, err);
    if (!rc && (rc = run_pool(r, th, nth)) == NQ_OK)
        finish_result(r);
    for (int t = 0; th && t < nth; t++)
        thread_free(&th[t]);
    if (rc && rc != err->code)
        nq_err_set(err, rc, NULL, rc == NQ_ECANCEL ? "annealing cancelled before any read"
                                                    : "out of memory in the annealer");
    if (rc)
        nq_result_free(out);
    free(th);
    nq__sa_plan_free(&r->plan);
    pthread_mutex_destroy(&r->lock);
    free(r);
    return rc;
}
