/* exact.c - exhaustive search by Gray-code enumeration.
 *
 * Consecutive Gray codes differ in one bit, so each step flips one spin and
 * costs one field update per neighbour instead of a full energy evaluation.
 * The top bits are fixed per chunk so chunks run on separate threads; ties
 * go to the earliest state in (chunk, Gray) order, which makes the answer
 * independent of the thread count. */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "nqba/clock.h"
#include "solve_internal.h"

typedef struct exact_chunk {
    double best;
    uint64_t best_code; /* Gray index k of the best inner state */
    int done;
} exact_chunk;

typedef struct exact_ctx {
    const nq_model *is; /* Ising form */
    int inner;          /* enumerated bits (low indices) */
    int64_t chunks;
    exact_chunk *res;
    atomic_llong next;
    atomic_int cancel;
    const atomic_int *ext; /* the caller's cancel flag, or NULL */
    pthread_mutex_t lock;
    int64_t finished;
    double best_so_far;
    double t0;
    nq_progress_fn cb;
    void *user;
} exact_ctx;

/* Spin of variable i in chunk c at Gray index k. */
static int8_t spin_at(const exact_ctx *x, int64_t c, uint64_t k, int32_t i)
{
    if (i < x->inner)
        return ((k ^ (k >> 1)) >> i) & 1 ? 1 : -1;
    return ((uint64_t)c >> (i - x->inner)) & 1 ? 1 : -1;
}

static void init_fields(const exact_ctx *x, int64_t c, int8_t *s, double *f, double *e)
{
    const nq_model *m = x->is;
    for (int32_t i = 0; i < m->n; i++)
        s[i] = spin_at(x, c, 0, i);
    double en = m->offset;
    for (int32_t i = 0; i < m->n; i++) {
        double fi = m->linear[i];
        for (int64_t k = m->row[i]; k < m->row[i + 1]; k++)
            fi += m->w[k] * s[m->col[k]];
        f[i] = fi;
        en += s[i] * (m->linear[i] + fi) / 2.0; /* pairs counted twice in fi */
    }
    *e = en;
}

static int stopped(exact_ctx *x)
{
    if (x->ext && atomic_load_explicit(x->ext, memory_order_relaxed))
        atomic_store(&x->cancel, 1);
    return atomic_load_explicit(&x->cancel, memory_order_relaxed);
}

static void run_chunk(exact_ctx *x, int64_t c, int8_t *s, double *f)
{
    const nq_model *m = x->is;
    double e;
    init_fields(x, c, s, f, &e);
    double best = e;
    uint64_t best_k = 0, steps = (uint64_t)1 << x->inner;
    for (uint64_t k = 1; k < steps; k++) {
        int i = __builtin_ctzll(k);
        double g = s[i] * f[i];
        e -= 2.0 * g;
        s[i] = (int8_t)-s[i];
        double d = 2.0 * s[i];
        for (int64_t p = m->row[i]; p < m->row[i + 1]; p++)
            f[m->col[p]] += d * m->w[p];
        if (e < best) {
            best = e;
            best_k = k;
        }
        if ((k & 0xFFFFF) == 0 && stopped(x))
            return;
    }
    x->res[c].best = best;
    x->res[c].best_code = best_k;
    x->res[c].done = 1;
}

static void report(exact_ctx *x, int64_t c)
{
    pthread_mutex_lock(&x->lock);
    x->finished++;
    if (x->res[c].best < x->best_so_far)
        x->best_so_far = x->res[c].best;
    if (x->cb) {
        nq_progress p = {"exact", x->best_so_far, nq_clock_s() - x->t0,
                         (double)x->finished / (double)x->chunks, x->finished, x->chunks};
        if (x->cb(&p, x->user))
            atomic_store(&x->cancel, 1);
    }
    pthread_mutex_unlock(&x->lock);
}

static void *exact_worker(void *arg)
{
    exact_ctx *x = arg;
    int32_t n = x->is->n;
    int8_t *s = malloc((size_t)n + 1);
    double *f = malloc(((size_t)n + 1) * sizeof *f);
    if (!s || !f) {
        atomic_store(&x->cancel, 1);
    } else {
        for (;;) {
            int64_t c = atomic_fetch_add(&x->next, 1);
            if (c >= x->chunks || stopped(x))
                break;
            run_chunk(x, c, s, f);
            if (x->res[c].done)
                report(x, c);
        }
    }
    free(s);
    free(f);
    return NULL;
}

static int run_threads(exact_ctx *x, int threads)
{
    pthread_t tid[NQ_SOLVE_MAX_THREADS];
    int started = 0;
    for (; started < threads - 1; started++)
        if (pthread_create(&tid[started], NULL, exact_worker, x))
            break;
    exact_worker(x);
    for (int t = 0; t < started; t++)
        pthread_join(tid[t], NULL);
    for (int64_t c = 0; c < x->chunks; c++)
        if (!x->res[c].done)
            return atomic_load(&x->cancel) ? NQ_ECANCEL : NQ_ENOMEM;
    return NQ_OK;
}

static int top_bits(int32_t n, int threads)
{
    if (n < 16 || threads <= 1)
        return 0;
    int t = 0;
    while ((1 << t) < threads * 8 && t < n - 12)
        t++;
    return t;
}

static void pick_best(exact_ctx *x, const nq_model *m, nq_result *out)
{
    int64_t bc = 0;
    for (int64_t c = 1; c < x->chunks; c++)
        if (x->res[c].best < x->res[bc].best)
            bc = c;
    int8_t spins[NQ_EXACT_MAX_VARS];
    for (int32_t i = 0; i < m->n; i++)
        spins[i] = spin_at(x, bc, x->res[bc].best_code, i);
    nq__result_set_spins(out, m, spins);
}

int nq_solve_exact(const nq_model *m, const nq_solve_opts *o, nq_progress_fn cb, void *user,
                   nq_result *out, nq_err *err)
{
    memset(out, 0, sizeof *out);
    if (m->n > NQ_EXACT_MAX_VARS)
        return nq_err_set(err, NQ_ELIMIT, "solver", "exact search takes at most %d variables, "
                          "the model has %ld", NQ_EXACT_MAX_VARS, (long)m->n);
    nq_model own;
    const nq_model *is;
    int rc = nq__ising_view(m, &own, &is, err);
    if (rc)
        return rc;
    int threads = nq__threads(o);
    exact_ctx x = {.is = is, .ext = o->cancel_flag, .cb = cb, .user = user,
                   .best_so_far = INFINITY};
    int t = top_bits(m->n, threads);
    x.inner = m->n - t;
    x.chunks = (int64_t)1 << t;
    x.res = calloc((size_t)x.chunks, sizeof *x.res);
    pthread_mutex_init(&x.lock, NULL);
    x.t0 = nq_clock_s();
    rc = x.res ? nq__result_init(out, "exact", m, 0, err) : NQ_ENOMEM;
    if (!rc)
        rc = run_threads(&x, threads < x.chunks ? threads : (int)x.chunks);
    if (!rc) {
        pick_best(&x, m, out);
        out->elapsed = nq_clock_s() - x.t0;
        out->time_to_best = out->elapsed;
        out->attempts = (int64_t)1 << m->n;
        out->target_reached = nq__reached(out->energy, o);
    } else {
        nq_result_free(out);
        rc = rc == NQ_ECANCEL ? nq_err_set(err, rc, NULL, "exact search cancelled")
                              : nq_err_set(err, rc, NULL, "exact search failed: out of memory");
    }
    pthread_mutex_destroy(&x.lock);
    free(x.res);
    nq_model_free(&own);
    return rc;
}
