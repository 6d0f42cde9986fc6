/* pt_read.c - one parallel tempering read.
 *
 * Every replica starts from its own random state. One round sweeps every
 * replica once at its temperature, updates the read's best state, then
 * tries exchanges between neighbouring temperatures (even pairs after even
 * rounds, odd pairs after odd ones). The warm-up of W sweeps is cut into
 * up to six stages of doubling length (W/63, 2W/63, ..., 32W/63), each
 * ending by respacing the ladder from the swap acceptance it measured: later
 * stages start closer to the answer and measure longer. The ladder then
 * stays fixed. The read ends with a zero-temperature descent from the best
 * state seen. */
#include <stdlib.h>
#include <string.h>

#include "nqba/clock.h"
#include "pt_plan.h"
#include "solve_internal.h"

#define PT_WARMUP_ROUNDS 6
#define PT_MIN_ADAPT_SWEEPS 8 /* shorter measurements are too noisy to act on */
#define PT_DESCENT_GRACE 0.01 /* seconds */

typedef struct pt_read {
    const pt_plan *p;
    pt_work *w;
    nq_rng *rng;
    const nq__stop *stop;
    int64_t read;
    int8_t *best;
    double best_e;    /* energy of best minus the offset */
    int64_t unpolled; /* attempts since the last poll */
    int32_t ready;    /* replicas initialized (all but when stopped early) */
    int done;         /* stopped or reached the target */
} pt_read;

static int reached(pt_read *rd)
{
    const pt_plan *p = rd->p;
    if (!nq__reached(p->is->offset + rd->best_e, p->o))
        return 0;
    if (p->integer)
        return 1;
    /* Floating energies drift a little: confirm before stopping. */
    rd->best_e = nq_model_energy(p->is, rd->best) - p->is->offset;
    return nq__reached(p->is->offset + rd->best_e, p->o);
}

/* The best state keeps its fields too, so the final descent needs no
 * O(nnz) recomputation when a deadline has already passed. */
static void keep_replica(pt_read *rd, const pt_replica *r)
{
    const pt_plan *p = rd->p;
    pt_replica *keep = &rd->w->keep;
    rd->best_e = r->e;
    memcpy(rd->best, r->s, (size_t)p->n);
    if (p->integer)
        memcpy(keep->fi, r->fi, (size_t)p->n * sizeof *keep->fi);
    else
        memcpy(keep->fd, r->fd, (size_t)p->n * sizeof *keep->fd);
}

/* Copy the lowest replica when it beats the read's best: once per round at
 * most, and rarely once the read has settled. */
static void track_best(pt_read *rd)
{
    const pt_work *w = rd->w;
    int32_t lo = 0;
    for (int32_t r = 1; r < rd->ready; r++)
        if (w->rep[r].e < w->rep[lo].e)
            lo = r;
    if (w->rep[lo].e >= rd->best_e)
        return;
    keep_replica(rd, &w->rep[lo]);
    if (rd->p->o->has_target && reached(rd))
        rd->done = 1;
}

/* Fields cost O(nnz) per replica, more than a sweep on dense models, so
 * the stop signals are polled between chunks of rows. Replica 0 is always
 * completed: the read's answer and the final descent start from it; a read
 * stopped later goes on with the replicas it has. */
static int init_replica(pt_read *rd, int32_t r)
{
    const pt_plan *p = rd->p;
    pt_replica *rep = &rd->w->rep[r];
    if (rd->done && r > 0)
        return 0;
    nq__random_spins(rep->s, p->n, rd->rng);
    for (int32_t lo = 0; lo < p->n;) {
        int32_t hi = p->n - lo > p->poll ? lo + p->poll : p->n;
        nq__pt_fields(p, rep, lo, hi);
        lo = hi;
        if (nq__should_stop(rd->stop, rd->read))
            rd->done = 1;
        if (rd->done && r > 0)
            return 0;
    }
    nq__pt_energy(p, rep);
    rd->w->at[r] = r;
    return 1;
}

static void start(pt_read *rd)
{
    const pt_plan *p = rd->p;
    pt_work *w = rd->w;
    nq__pt_ladder_geometric(p, w->beta);
    nq__pt_ladder_tables(p, w);
    nq__pt_stats_reset(p, &w->stats);
    w->attempts = 0;
    rd->unpolled = 0;
    rd->done = 0;
    rd->ready = 0;
    while (rd->ready < p->replicas && init_replica(rd, rd->ready))
        rd->ready++;
    keep_replica(rd, &w->rep[0]);
    track_best(rd);
}

static void sweep_replica(pt_read *rd, int32_t k)
{
    const pt_plan *p = rd->p;
    pt_work *w = rd->w;
    pt_replica *r = &w->rep[w->at[k]];
    for (int32_t lo = 0; lo < p->n && !rd->done;) {
        int32_t hi = p->n - lo > p->poll ? lo + p->poll : p->n;
        r->e += nq__pt_sweep(p, w, k, r, lo, hi, rd->rng);
        w->attempts += hi - lo;
        rd->unpolled += hi - lo;
        lo = hi;
        if (rd->unpolled >= p->poll) {
            rd->unpolled = 0;
            rd->done = nq__should_stop(rd->stop, rd->read);
        }
    }
}

static void round_of_sweeps(pt_read *rd, int32_t t)
{
    const pt_plan *p = rd->p;
    for (int32_t k = 0; k < p->replicas && !rd->done; k++)
        sweep_replica(rd, k);
    track_best(rd);
    if (!rd->done)
        nq__pt_swaps(p, rd->w, t & 1, rd->rng);
}

/* Sweep counts after which the warm-up respaces the ladder: rounds of
 * doubling length, as many (up to PT_WARMUP_ROUNDS) as keep the first one
 * at least PT_MIN_ADAPT_SWEEPS long. */
static int32_t warmup_marks(const pt_plan *p, int32_t *mark)
{
    int32_t rounds = PT_WARMUP_ROUNDS;
    while (rounds > 0 && p->warmup / ((1 << rounds) - 1) < PT_MIN_ADAPT_SWEEPS)
        rounds--;
    for (int32_t j = 0; j < rounds; j++)
        mark[j] = (int32_t)((int64_t)p->warmup * ((1 << (j + 1)) - 1) / ((1 << rounds) - 1));
    return rounds;
}

static void adapt(pt_read *rd)
{
    const pt_plan *p = rd->p;
    if (p->adapt && nq__pt_ladder_respace(p, rd->w))
        nq__pt_ladder_tables(p, rd->w);
    nq__pt_stats_reset(p, &rd->w->stats);
}

/* Zero-temperature passes until none flips. Usually quick, but O(nnz) or
 * more on big models: once the stop signals fire it gets PT_DESCENT_GRACE
 * seconds more, then returns what it has (still no worse than the best). */
static void finish(pt_read *rd)
{
    const pt_plan *p = rd->p;
    pt_replica r = rd->w->keep;
    r.s = rd->best;
    double grace = 0.0;
    for (int flips = 1; flips;) {
        flips = 0;
        for (int32_t lo = 0; lo < p->n;) {
            int32_t hi = p->n - lo > p->poll ? lo + p->poll : p->n;
            nq__pt_descend(p, &r, lo, hi, &flips);
            lo = hi;
            if (grace == 0.0 && nq__should_stop(rd->stop, rd->read))
                grace = nq_clock_s() + PT_DESCENT_GRACE;
            if (grace > 0.0 && nq_clock_s() > grace)
                return;
        }
    }
}

int64_t nq__pt_run(const void *plan, void *work, nq_rng *rng, const nq__stop *stop, int64_t read,
                   int8_t *best)
{
    const pt_plan *p = plan;
    pt_read rd = {p, work, rng, stop, read, best, 0.0, 0, 0, 0};
    int32_t mark[PT_WARMUP_ROUNDS], marks = warmup_marks(p, mark), next = 0;
    start(&rd);
    for (int32_t t = 0; t < p->sweeps && !rd.done; t++) {
        round_of_sweeps(&rd, t);
        if (next < marks && t + 1 == mark[next]) {
            adapt(&rd);
            next++;
        }
    }
    finish(&rd);
    return rd.w->attempts;
}

/* ---- scratch ------------------------------------------------------------ */

static int alloc_replica(const pt_plan *p, pt_replica *rep, int spins)
{
    size_t n = (size_t)p->n + 1;
    rep->s = spins ? malloc(n) : NULL;
    if (p->integer)
        rep->fi = malloc(n * sizeof *rep->fi);
    else
        rep->fd = malloc(n * sizeof *rep->fd);
    return (rep->s || !spins) && (rep->fi || rep->fd);
}

void *nq__pt_work_new(const void *plan)
{
    const pt_plan *p = plan;
    size_t r = (size_t)p->replicas;
    pt_work *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->replicas = p->replicas;
    w->rep = calloc(r, sizeof *w->rep);
    w->at = malloc(r * sizeof *w->at);
    w->beta = malloc(r * sizeof *w->beta);
    w->scratch = malloc(2 * r * sizeof *w->scratch);
    w->stats.acc_sum = malloc(r * sizeof *w->stats.acc_sum);
    w->stats.tries = malloc(r * sizeof *w->stats.tries);
    w->stats.swaps = malloc(r * sizeof *w->stats.swaps);
    int ok = w->rep && w->at && w->beta && w->scratch && w->stats.acc_sum && w->stats.tries &&
             w->stats.swaps;
    if (ok && p->integer) {
        w->thr = malloc(r * (size_t)p->stride * sizeof *w->thr);
        w->cut = malloc(r * sizeof *w->cut);
        ok = w->thr && w->cut;
    }
    for (size_t k = 0; ok && k < r; k++)
        ok = alloc_replica(p, &w->rep[k], 1);
    ok = ok && alloc_replica(p, &w->keep, 0);
    if (!ok) {
        nq__pt_work_free(w);
        return NULL;
    }
    return w;
}

void nq__pt_work_free(void *work)
{
    pt_work *w = work;
    if (!w)
        return;
    for (int32_t k = 0; w->rep && k < w->replicas; k++) {
        free(w->rep[k].s);
        free(w->rep[k].fi);
        free(w->rep[k].fd);
    }
    free(w->rep);
    free(w->keep.fi);
    free(w->keep.fd);
    free(w->at);
    free(w->beta);
    free(w->scratch);
    free(w->stats.acc_sum);
    free(w->stats.tries);
    free(w->stats.swaps);
    free(w->thr);
    free(w->cut);
    free(w);
}
