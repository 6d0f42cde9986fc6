/* auto.c - the default solver: a portfolio of the heuristics on all
 * threads, sharing the incumbent.
 *
 * Models small enough to enumerate go to `exact`. Otherwise every thread
 * runs a sequence of single-threaded tasks, each one solve of one
 * heuristic, taken from a fixed cycle that puts tabu search (the strongest
 * on sparse models) on every other slot and the annealers (sa, pt, sb) on
 * the rest. Thread t of T takes tasks t, t + T, t + 2T, ... of the cycle,
 * so with two threads one thread runs tabu search and the other rotates
 * through the annealers. Each time a solver runs again on a thread its
 * budget doubles (up to a cap per solver: a tabu read keeps gaining from
 * length, annealing schedules past ~16,000 sweeps gain less than more
 * reads), so short runs answer easy models fast and hard models get long
 * runs.
 *
 * The incumbent (best state over all tasks; ties to the lowest task index)
 * is shared: a task that reaches the target raises a flag that stops every
 * other task at once, and every task stops at the common deadline. Without
 * a time limit a thread stops after a full cycle of its tasks found nothing
 * better than the incumbent, or after AUTO_FREE_CYCLES cycles (budgets up
 * to 4x the base: about a second on a 1000-variable sparse graph); with one
 * thread that makes the answer a pure function of the seed. Give a time
 * limit (and a target, if known) for hard models. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nqba/clock.h"
#include "solve_internal.h"

#define AUTO_EXACT_VARS 20
#define AUTO_MAX_TASKS 4096
#define AUTO_FREE_CYCLES 2
#define AUTO_FREE_LEVEL 2 /* without a time limit budgets grow to 4x at most */

typedef struct auto_slot {
    const char *solver;
    int kind;       /* index of the solver's budget level (one per solver) */
    int32_t reads;  /* per task; 0 = the solver's default */
    int32_t sweeps; /* base budget per read, doubled each time the solver runs */
    int max_level;  /* doublings at most */
} auto_slot;

/* Tabu on every other slot; on the rest sa four times as often as pt or
 * sb: on the sparse Gset graphs the per-solver benchmarks rank them
 * tabu > sa > pt > sb, and long sa schedules find what tabu search tends
 * to miss (G14's best-known cut) faster than pt does. */
static const auto_slot CYCLE[] = {
    {"tabu", 0, 1, 200, 10}, {"sa", 1, 32, 1000, 4}, {"tabu", 0, 1, 200, 10},
    {"sa", 1, 32, 1000, 4},  {"tabu", 0, 1, 200, 10}, {"pt", 2, 1, 1000, 4},
    {"tabu", 0, 1, 200, 10}, {"sa", 1, 32, 1000, 4},  {"tabu", 0, 1, 200, 10},
    {"sa", 1, 32, 1000, 4},  {"tabu", 0, 1, 200, 10}, {"sb", 3, 2, 1000, 3},
};
#define CYCLE_LEN ((int)(sizeof CYCLE / sizeof CYCLE[0]))
#define AUTO_KINDS 4

typedef struct auto_ctx {
    const nq_model *m;
    const nq_solve_opts *o;
    nq_result *out;
    int threads;
    double t0, deadline;
    atomic_int stop;       /* raised by a target hit, a cancel, or an error */
    pthread_mutex_t lock;  /* guards everything below */
    int8_t *best;          /* incumbent state (model's variable type) */
    double best_energy;
    int64_t best_task;     /* -1 = none yet */
    double best_time;
    char best_solver[16];
    int64_t tasks;         /* completed tasks (entries in read_energies) */
    int64_t attempts;
    int failed;            /* an error other than a cancel */
    nq_err fail;
    int cancelled;
    nq_progress_fn cb;
    void *user;
} auto_ctx;

typedef struct auto_thread {
    auto_ctx *x;
    int index;
} auto_thread;

static uint64_t mix(uint64_t z)
{
    z += 0x9e3779b97f4a7c15u;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* Progress of a task, reported as progress of the whole portfolio. */
static int forward_progress(const nq_progress *p, void *user)
{
    auto_ctx *x = user;
    pthread_mutex_lock(&x->lock);
    double best = fmin(p->best_energy, x->best_task >= 0 ? x->best_energy : INFINITY);
    double el = nq_clock_s() - x->t0;
    /* Without a limit the work is bounded by AUTO_FREE_CYCLES cycles per
     * thread; threads that stop early make the run end sooner. */
    int64_t planned = (int64_t)AUTO_FREE_CYCLES * ((CYCLE_LEN + x->threads - 1) / x->threads) *
                      x->threads;
    double frac = x->o->time_limit > 0.0 ? fmin(1.0, el / x->o->time_limit)
                                         : fmin(1.0, (double)x->tasks / (double)planned);
    nq_progress pr = {"auto", best, el, frac, x->tasks, x->o->time_limit > 0.0 ? 0 : planned};
    if (x->cb && x->cb(&pr, x->user)) {
        x->cancelled = 1;
        atomic_store(&x->stop, 1);
    }
    pthread_mutex_unlock(&x->lock);
    return atomic_load(&x->stop);
}

static void task_opts(const auto_ctx *x, const auto_slot *s, int level, int64_t task,
                      nq_solve_opts *o)
{
    *o = *x->o;
    o->solver = s->solver;
    o->seed = mix(x->o->seed ^ mix((uint64_t)task));
    o->threads = 1;
    o->reads = s->reads;
    if (x->deadline == 0.0 && level > AUTO_FREE_LEVEL)
        level = AUTO_FREE_LEVEL;
    o->sweeps = s->sweeps << level;
    o->cancel_flag = &x->stop;
    if (!o->variant)
        o->variant = "discrete"; /* the stronger sb variant on sparse graphs */
    o->time_limit = 0.0;
    if (x->deadline > 0.0)
        o->time_limit = fmax(1e-3, x->deadline - nq_clock_s());
}

/* Fold a finished task into the incumbent; returns 1 when it improved. */
static int record(auto_ctx *x, int64_t task, const nq_result *r, double start)
{
    int better = 0;
    pthread_mutex_lock(&x->lock);
    if (x->tasks < AUTO_MAX_TASKS)
        x->out->read_energies[x->tasks++] = r->energy;
    x->attempts += r->attempts;
    if (x->best_task < 0 || r->energy < x->best_energy ||
        (r->energy == x->best_energy && task < x->best_task)) {
        better = x->best_task < 0 || r->energy < x->best_energy;
        memcpy(x->best, r->state, (size_t)x->m->n);
        x->best_energy = r->energy;
        x->best_task = task;
        x->best_time = start + r->time_to_best;
        snprintf(x->best_solver, sizeof x->best_solver, "%s", r->found_by);
    }
    if (nq__reached(r->energy, x->o))
        atomic_store(&x->stop, 1);
    pthread_mutex_unlock(&x->lock);
    return better;
}

static void fail(auto_ctx *x, const nq_err *e)
{
    pthread_mutex_lock(&x->lock);
    if (!x->failed) {
        x->failed = 1;
        x->fail = *e;
    }
    pthread_mutex_unlock(&x->lock);
    atomic_store(&x->stop, 1);
}

static int out_of_time(const auto_ctx *x)
{
    return x->deadline > 0.0 && nq_clock_s() >= x->deadline;
}

static void *auto_worker(void *arg)
{
    auto_thread *th = arg;
    auto_ctx *x = th->x;
    int level[AUTO_KINDS] = {0}, since_better = 0;
    int per_cycle = (CYCLE_LEN + x->threads - 1) / x->threads;
    for (int64_t j = 0;; j++) {
        int64_t task = j * x->threads + th->index;
        if (atomic_load(&x->stop) || out_of_time(x) || task >= AUTO_MAX_TASKS)
            break;
        if (x->deadline == 0.0 && (since_better >= per_cycle ||
                                    j >= (int64_t)per_cycle * AUTO_FREE_CYCLES))
            break;
        const auto_slot *slot = &CYCLE[task % CYCLE_LEN];
        nq_solve_opts o;
        task_opts(x, slot, level[slot->kind], task, &o);
        if (level[slot->kind] < slot->max_level)
            level[slot->kind]++;
        nq_result r;
        nq_err e;
        double start = nq_clock_s() - x->t0;
        int rc = nq_solve(x->m, &o, forward_progress, x, &r, &e);
        if (rc == NQ_ECANCEL)
            break;
        if (rc) {
            fail(x, &e);
            break;
        }
        since_better = record(x, task, &r, start) ? 0 : since_better + 1;
        nq_result_free(&r);
    }
    return NULL;
}

/* Lift the caller's cancel flag onto the shared stop flag. */
static void *watch_cancel(void *arg)
{
    auto_ctx *x = arg;
    struct timespec ts = {0, 2000000};
    while (!atomic_load(&x->stop)) {
        if (atomic_load(x->o->cancel_flag)) {
            pthread_mutex_lock(&x->lock);
            x->cancelled = 1;
            pthread_mutex_unlock(&x->lock);
            atomic_store(&x->stop, 1);
            break;
        }
        nanosleep(&ts, NULL);
    }
    return NULL;
}

static void run_threads(auto_ctx *x)
{
    pthread_t tid[NQ_SOLVE_MAX_THREADS], watcher;
    auto_thread th[NQ_SOLVE_MAX_THREADS];
    int started = 0, watching = x->o->cancel_flag &&
                                !pthread_create(&watcher, NULL, watch_cancel, x);
    for (int t = 0; t < x->threads; t++)
        th[t] = (auto_thread){x, t};
    for (; started < x->threads - 1; started++)
        if (pthread_create(&tid[started], NULL, auto_worker, &th[started + 1]))
            break;
    auto_worker(&th[0]);
    for (int t = 0; t < started; t++)
        pthread_join(tid[t], NULL);
    atomic_store(&x->stop, 1);
    if (watching)
        pthread_join(watcher, NULL);
}

static int finish(auto_ctx *x, nq_err *err)
{
    nq_result *out = x->out;
    if (x->failed) {
        if (err)
            *err = x->fail;
        return x->fail.code;
    }
    if (x->best_task < 0)
        return nq_err_set(err, NQ_ECANCEL, NULL, "auto: stopped before any solver finished");
    memcpy(out->state, x->best, (size_t)x->m->n);
    out->energy = nq_model_energy(x->m, out->state);
    snprintf(out->found_by, sizeof out->found_by, "%s", x->best_solver);
    out->elapsed = nq_clock_s() - x->t0;
    out->time_to_best = x->best_time;
    out->reads = x->tasks;
    out->attempts = x->attempts;
    out->target_reached = nq__reached(out->energy, x->o);
    out->cancelled = x->cancelled;
    out->timed_out = !out->target_reached && !out->cancelled && x->deadline > 0.0 &&
                     nq_clock_s() >= x->deadline;
    return NQ_OK;
}

static int solve_small(const nq_model *m, const nq_solve_opts *o, nq_progress_fn cb, void *user,
                       nq_result *out, nq_err *err)
{
    nq_solve_opts e = *o;
    e.solver = "exact";
    int rc = nq_solve_exact(m, &e, cb, user, out, err);
    if (!rc)
        snprintf(out->solver, sizeof out->solver, "auto");
    return rc;
}

int nq_solve_auto(const nq_model *m, const nq_solve_opts *o, nq_progress_fn cb, void *user,
                  nq_result *out, nq_err *err)
{
    if (m->n <= AUTO_EXACT_VARS)
        return solve_small(m, o, cb, user, out, err);
    auto_ctx *x = calloc(1, sizeof *x);
    if (!x)
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    int rc = nq__result_init(out, "auto", m, AUTO_MAX_TASKS, err);
    x->best = malloc((size_t)m->n);
    if (!rc && !x->best)
        rc = nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    if (!rc) {
        x->m = m, x->o = o, x->out = out, x->cb = cb, x->user = user;
        x->threads = nq__threads(o);
        x->t0 = nq_clock_s();
        x->deadline = o->time_limit > 0.0 ? x->t0 + o->time_limit : 0.0;
        x->best_task = -1;
        atomic_init(&x->stop, 0);
        pthread_mutex_init(&x->lock, NULL);
        run_threads(x);
        rc = finish(x, err);
        pthread_mutex_destroy(&x->lock);
    }
    if (rc)
        nq_result_free(out);
    free(x->best);
    free(x);
    return rc;
}
