/* reads.h - running independent randomized reads on a thread pool
 * (private to lib/solve).
 *
 * A heuristic solver (sa, tabu, ...) describes one read; the pool hands
 * reads out in index order, gives read k the random stream "seed jumped k
 * times", and keeps the best state by (energy, read index). That makes the
 * answer independent of the thread count unless a time limit or a cancel
 * cuts the run short. With a target, the answer is the best of reads 0..k
 * where k is the first read that reached it. */
#ifndef NQBA_READS_H
#define NQBA_READS_H

#include <stdatomic.h>

#include "nqba/clock.h"
#include "nqba/rng.h"
#include "nqba/solve.h"

/* Stop signals shared by all reads, polled by the solver now and then. */
typedef struct nq__stop {
    atomic_int *cancel;
    atomic_llong *stop_index; /* reads above this index stop early */
    double deadline;          /* nq_clock_s() value, 0 = none */
    const atomic_int *ext;    /* the caller's cancel flag, or NULL */
} nq__stop;

static inline int nq__should_stop(const nq__stop *c, int64_t read)
{
    if (atomic_load_explicit(c->cancel, memory_order_relaxed))
        return 1;
    if (c->ext && atomic_load_explicit(c->ext, memory_order_relaxed))
        return 1;
    if (read > atomic_load_explicit(c->stop_index, memory_order_relaxed))
        return 1;
    return c->deadline > 0.0 && nq_clock_s() > c->deadline;
}

typedef struct nq__reader {
    const char *name;
    const nq_model *is; /* Ising form: reads produce spins, energies come from it */
    const void *plan;   /* read-only data shared by all reads */
    /* Per-thread scratch. */
    void *(*work_new)(const void *plan);
    void (*work_free)(void *work);
    /* One read: leave the best spins seen in best (n entries); return the
     * number of spin-update attempts (or moves) it made. */
    int64_t (*run)(const void *plan, void *work, nq_rng *rng, const nq__stop *stop, int64_t read,
                   int8_t *best);
    /* Optional, used instead of run when batch > 1: reads read0 ..
     * read0 + count - 1 (count <= batch) at once, rng[k] the stream of read
     * read0 + k, best = count rows of n spins. Batches start at multiples
     * of batch, so which reads share one never depends on the threads. */
    int batch;
    int64_t (*run_batch)(const void *plan, void *work, nq_rng *rng, int count,
                         const nq__stop *stop, int64_t read0, int8_t *best);
} nq__reader;

/* Run `reads` reads (o->threads threads) and fill out for the model m. */
int nq__run_reads(const nq__reader *rd, const nq_model *m, const nq_solve_opts *o, int64_t reads,
                  nq_progress_fn cb, void *user, nq_result *out, nq_err *err);

#endif
