/* tabu_kernel.c - one read of breakout local search (Benlic & Hao 2013).
 *
 * From a random state: steepest descent to a local minimum, then a
 * perturbation of L flips, then descent again. L resets to L0 on reaching
 * a local minimum of a different energy, grows by one each time the search
 * falls back to the same energy (so that zero-cost wandering on a plateau
 * counts as not getting out), and jumps to Lmax after T local minima
 * without a new best. A perturbation is directed with probability
 * max(exp(-omega/T), P0) (omega: local minima since the last improvement):
 * each flip is the best one not tabu, with aspiration; otherwise its flips
 * are random. Every flipped spin, in descents too, stays tabu for a random
 * tenure. After a few big jumps without a new best the read restarts from
 * a fresh random state, waiting twice as long before the next restart. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "solve_internal.h"
#include "tabu_plan.h"

typedef struct search {
    const tabu_plan *p;
    tabu_work *w;
    nq_rng *rng;
    const nq__stop *stop;
    int64_t read;
    int8_t *best;
    double e0;        /* exact energy of the start state */
    double best_e;    /* best energy, relative to the start */
    int64_t next_poll;
    int64_t omega;    /* local minima since the last new best */
    int32_t jump;     /* L */
    double last_e;    /* energy of the previous local minimum */
    int strong;       /* the next perturbation is the big one */
    int64_t stalls;   /* strong perturbations since the last new best */
    int64_t restart_at;
    int done;
} search;

/* Stop at the budget, and check the stop signals every p->poll moves. */
static void tick(search *c)
{
    int64_t moves = c->w->clock;
    if (moves >= c->p->moves)
        c->done = 1;
    else if (moves >= c->next_poll) {
        c->next_poll = moves + c->p->poll;
        c->done = nq__should_stop(c->stop, c->read);
    }
}

static void descend(search *c)
{
    while (!c->done) {
        int64_t end = c->next_poll < c->p->moves ? c->next_poll : c->p->moves;
        int64_t limit = end - c->w->clock;
        int64_t made = nq__tabu_descend(c->w, limit);
        tick(c);
        if (made < limit)
            return;
    }
}

static void save_best(search *c, double e)
{
    c->best_e = e;
    nq__tabu_spins(c->w, c->best);
    if (nq__reached(c->e0 + e, c->p->o))
        c->done = 1;
}

/* Same energy as the previous local minimum: the perturbation did not
 * get out. Integer energies compare exactly; floating ones up to rounding. */
static int same_level(const tabu_plan *p, double a, double b)
{
    return p->exact ? a == b : fabs(a - b) <= 1e3 * p->eps;
}

/* Choose L for the next perturbation from what this local minimum is. */
static void at_local_min(search *c)
{
    const tabu_plan *p = c->p;
    double e = nq__tabu_energy(c->w);
    if (e < c->best_e) {
        save_best(c, e);
        c->omega = 0;
        c->stalls = 0;
    } else {
        c->omega++;
    }
    c->strong = c->omega > p->stall;
    if (c->strong) {
        c->jump = p->jump_max;
        c->omega = 0;
        c->stalls++;
    } else if (same_level(p, e, c->last_e)) {
        c->jump = c->jump < p->jump_max ? c->jump + 1 : p->jump_max;
    } else {
        c->jump = p->jump_min;
    }
    c->last_e = e;
}

/* A fresh uniformly random state, reached by moves so that the gains and
 * the tabu state stay consistent. */
static void restart(search *c)
{
    uint64_t bits = 0;
    for (int32_t i = 0; i < c->p->n && !c->done; i++) {
        if ((i & 63) == 0)
            bits = nq_rng_u64(c->rng);
        if ((bits >> (i & 63)) & 1) {
            nq__tabu_move(c->w, i);
            tick(c);
        }
    }
}

static void perturb(search *c)
{
    const tabu_plan *p = c->p;
    if (c->strong && c->stalls >= c->restart_at) {
        c->stalls = 0;
        c->restart_at *= 2;
        restart(c);
        return;
    }
    double pd = exp(-(double)c->omega / p->stall);
    int directed = nq_rng_double(c->rng) < (pd > p->p_directed ? pd : p->p_directed);
    for (int32_t l = 0; l < c->jump && !c->done; l++) {
        int32_t i = directed ? nq__tabu_pick(c->w, c->best_e)
                             : (int32_t)nq_rng_below(c->rng, (uint64_t)p->n);
        nq__tabu_move(c->w, i);
        tick(c);
    }
}

static void start(search *c)
{
    tabu_work *w = c->w;
    w->rng = c->rng;
    nq__random_spins(w->s, c->p->n, c->rng);
    nq__tabu_load(w);
    c->e0 = nq_model_energy(c->p->is, w->s);
    c->next_poll = c->p->poll;
    c->omega = 0;
    c->jump = c->p->jump_min;
    c->last_e = 0.0;
    c->strong = 0;
    c->stalls = 0;
    c->restart_at = c->p->restart_stalls;
    c->done = c->p->moves <= 0;
    save_best(c, 0.0);
}

void *nq__tabu_work_new(const void *plan)
{
    tabu_work *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    if (nq__tabu_moves_alloc(w, plan)) {
        nq__tabu_work_free(w);
        return NULL;
    }
    return w;
}

void nq__tabu_work_free(void *work)
{
    if (!work)
        return;
    nq__tabu_moves_free(work);
    free(work);
}

int64_t nq__tabu_run(const void *plan, void *work, nq_rng *rng, const nq__stop *stop,
                     int64_t read, int8_t *best)
{
    search c = {.p = plan, .w = work, .rng = rng, .stop = stop, .read = read, .best = best};
    if (c.p->n == 0)
        return 0;
    start(&c);
    while (!c.done) {
        descend(&c);
        if (c.done)
            break;
        at_local_min(&c);
        if (!c.done)
            perturb(&c);
    }
    /* A stop can land mid-descent, below the last saved minimum. */
    if (nq__tabu_energy(c.w) < c.best_e)
        save_best(&c, nq__tabu_energy(c.w));
    return c.w->clock;
}
