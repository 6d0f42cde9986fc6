/* tabu_moves.c - incremental gains, tabu state and finding the best flip.
 *
 * Gains live in bucket lists: one circular doubly linked list per key
 * value, with a sentinel node per bucket so linking and unlinking have no
 * branches. A vertex node holds its links, key, spin and tabu flag
 * together: one cache line per neighbour touched. A flip relinks the
 * flipped spin and each neighbour: O(degree). Free and tabu vertices live
 * in separate bucket sets, so the best free move is found in the highest
 * occupied free bucket (no scan past tabu vertices) and aspiration only
 * looks at the highest tabu bucket. Top pointers only move down past empty
 * buckets, which is paid for by the rises that put them there. Tabu
 * vertices return to the free set through a timing wheel: O(1) a move.
 *
 * Exact kernel (integer gains in a small range): the key is the gain, so
 * the head of the top bucket is the best move. Real kernel: the key is the
 * gain rounded onto a fine grid, clamped to the grid's ends (monotone, so
 * the best gain is in the top bucket); the exact gains are compared only
 * within that bucket, which typically holds one or a few vertices.
 * Lists are LIFO: among equal gains the most recently touched spin moves
 * first. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tabu_plan.h"

/* Uniform in [tenure_min, tenure_max] by multiply-shift: the bias, under
 * range / 2^32, does not matter for a tenure. */
static inline int32_t draw_tenure(tabu_work *w)
{
    const tabu_plan *p = w->p;
    uint64_t range = (uint64_t)(p->tenure_max - p->tenure_min) + 1;
    return p->tenure_min + (int32_t)(((nq_rng_u64(w->rng) >> 32) * range) >> 32);
}

/* ---- bucket lists and the tabu wheel ------------------------------------- */

/* Move v to the head of the list whose sentinel is head. */
static inline void relink(tabu_node *nd, int32_t v, int32_t head)
{
    int32_t a = nd[v].prev, b = nd[v].next;
    nd[a].next = b;
    nd[b].prev = a;
    int32_t first = nd[head].next;
    nd[v].next = first;
    nd[v].prev = head;
    nd[first].prev = v;
    nd[head].next = v;
}

/* Sentinel of the highest occupied bucket of set t (0 free, 1 tabu), or
 * one below the set's lowest when it is empty. */
static inline int32_t settle(tabu_work *w, int t)
{
    const tabu_plan *p = w->p;
    int32_t lo = p->n + t * (2 * p->span + 1), h = w->top[t];
    while (h >= lo && w->node[h].next == h)
        h--;
    w->top[t] = h;
    return h;
}

/* Put v in the bucket its key and tabu flag say. */
static inline void place(tabu_work *w, int32_t v)
{
    const tabu_plan *p = w->p;
    int t = w->node[v].tabu;
    int32_t h = p->n + p->span + t * (2 * p->span + 1) + w->node[v].g;
    relink(w->node, v, h);
    if (h > w->top[t])
        w->top[t] = h;
}

/* Neighbour j's key changed: relink it and raise the top pointers, both
 * without branching on its tabu flag (0 or 1, mixed among neighbours).
 * Tabu sentinels all lie above free ones, so a free vertex never raises
 * top1; a tabu one is pushed out of top0's reach. */
static inline void move_key(tabu_node *restrict nd, int32_t j, int32_t key, int32_t base,
                            int32_t nb, int32_t *top0, int32_t *top1)
{
    int32_t t = nd[j].tabu, h = base + key + t * nb;
    nd[j].g = key;
    relink(nd, j, h);
    int32_t h0 = h - t * (1 << 30);
    *top0 = h0 > *top0 ? h0 : *top0;
    *top1 = h > *top1 ? h : *top1;
}

static void init_lists(tabu_work *w)
{
    const tabu_plan *p = w->p;
    for (int32_t h = p->n; h < p->n + 2 * (2 * p->span + 1); h++)
        w->node[h].next = w->node[h].prev = h;
    for (int32_t k = p->n; k < p->n + w->slots; k++)
        w->wnext[k] = w->wprev[k] = k;
    w->slot = 0;
    w->top[0] = p->n - 1;
    w->top[1] = p->n + 2 * p->span; /* top1 never drops below the free sentinels */
    w->clock = 0;
}

static inline void wheel_unlink(tabu_work *w, int32_t v)
{
    int32_t a = w->wprev[v], b = w->wnext[v];
    w->wnext[a] = b;
    w->wprev[b] = a;
}

/* The clock has just advanced: free the vertices whose tenure ends now. */
static void expire(tabu_work *w)
{
    if (++w->slot == w->slots)
        w->slot = 0;
    int32_t slot = w->p->n + w->slot;
    while (w->wnext[slot] != slot) {
        int32_t v = w->wnext[slot];
        wheel_unlink(w, v);
        w->node[v].tabu = 0;
        place(w, v);
    }
}

/* ---- exact kernel --------------------------------------------------------- */

static void int_load(tabu_work *w)
{
    const tabu_plan *p = w->p;
    const nq_model *is = p->is;
    for (int32_t i = 0; i < p->n; i++) {
        int32_t f = p->h_int[i];
        for (int64_t k = is->row[i]; k < is->row[i + 1]; k++)
            f += (p->w2_int[k] / 2) * w->s[is->col[k]];
        w->node[i] = (tabu_node){i, i, w->s[i] * f, w->s[i], 0, 0};
        place(w, i);
    }
    w->e_int = 0;
}

/* Flipping i negates its own gain and moves each neighbour's by
 * 2 w_ij s_i s_j (s_i after the flip). */
static inline void int_flip(tabu_work *w, int32_t i)
{
    const tabu_plan *p = w->p;
    const int32_t base = p->n + p->span, nb = 2 * p->span + 1;
    const int32_t *restrict col = p->is->col, *restrict w2 = p->w2_int;
    tabu_node *restrict nd = w->node;
    int32_t gi = nd[i].g, si = -nd[i].s;
    w->e_int -= 2 * (int64_t)gi;
    nd[i].s = (int8_t)si;
    nd[i].g = -gi;
    place(w, i);
    int32_t top0 = w->top[0], top1 = w->top[1];
    for (int64_t k = p->is->row[i], end = p->is->row[i + 1]; k < end; k++) {
        int32_t j = col[k];
        move_key(nd, j, nd[j].g + w2[k] * si * nd[j].s, base, nb, &top0, &top1);
    }
    w->top[0] = top0;
    w->top[1] = top1;
}

/* ---- real kernel ---------------------------------------------------------- */

/* Grid key of gain x: round(x * quant) clamped to [-span, span]. */
static inline int32_t real_key(const tabu_plan *p, double x)
{
    double y = fmin(fmax(x * p->quant, -p->span), p->span) + p->span + 0.5;
    return (int32_t)y - p->span; /* y > 0: the cast rounds down */
}

static void real_load(tabu_work *w)
{
    const tabu_plan *p = w->p;
    const nq_model *is = p->is;
    for (int32_t i = 0; i < p->n; i++) {
        double f = is->linear[i];
        for (int64_t k = is->row[i]; k < is->row[i + 1]; k++)
            f += is->w[k] * w->s[is->col[k]];
        w->gd[i] = w->s[i] * f;
        w->node[i] = (tabu_node){i, i, real_key(p, w->gd[i]), w->s[i], 0, 0};
        place(w, i);
    }
    w->e = 0.0;
}

static inline void real_flip(tabu_work *w, int32_t i)
{
    const tabu_plan *p = w->p;
    const int32_t base = p->n + p->span, nb = 2 * p->span + 1;
    const int32_t *restrict col = p->is->col;
    const double *restrict wt = p->is->w;
    tabu_node *restrict nd = w->node;
    double *restrict gd = w->gd;
    w->e -= 2.0 * gd[i];
    gd[i] = -gd[i];
    nd[i].s = (int8_t)-nd[i].s;
    nd[i].g = real_key(p, gd[i]);
    place(w, i);
    double si2 = 2.0 * nd[i].s;
    int32_t top0 = w->top[0], top1 = w->top[1];
    for (int64_t k = p->is->row[i], end = p->is->row[i + 1]; k < end; k++) {
        int32_t j = col[k];
        gd[j] += si2 * wt[k] * nd[j].s;
        int32_t key = real_key(p, gd[j]);
        if (key != nd[j].g)
            move_key(nd, j, key, base, nb, &top0, &top1);
    }
    w->top[0] = top0;
    w->top[1] = top1;
}

/* ---- moves and choices ---------------------------------------------------- */

/* Flip i and make it tabu: its flag is set before the flip so that the
 * flip places it straight into its tabu bucket; it joins the wheel after
 * the clock has moved on, so this move's expiry cannot free it. */
static inline void make_move(tabu_work *w, int32_t i, int exact)
{
    int32_t tenure = draw_tenure(w);
    if (w->node[i].tabu)
        wheel_unlink(w, i);
    w->node[i].tabu = tenure > 0;
    if (exact)
        int_flip(w, i);
    else
        real_flip(w, i);
    w->clock++;
    expire(w);
    if (tenure > 0) {
        int32_t slot = w->slot + tenure;
        slot = w->p->n + (slot >= w->slots ? slot - w->slots : slot);
        int32_t first = w->wnext[slot];
        w->wnext[i] = first;
        w->wprev[i] = slot;
        w->wprev[first] = i;
        w->wnext[slot] = i;
    }
}

/* Sentinel of the top bucket of set t (0 free, 1 tabu), or -1 when the
 * set is empty. */
static inline int32_t top_bucket(tabu_work *w, int t)
{
    int32_t h = settle(w, t);
    return h >= w->p->n + t * (2 * w->p->span + 1) ? h : -1;
}

/* Exact kernel: the best vertex of a set is the head of its top bucket. */
static inline int32_t int_best(tabu_work *w, int t)
{
    int32_t h = top_bucket(w, t);
    return h >= 0 ? w->node[h].next : -1;
}

/* Real kernel: the first largest gain in the top bucket, where gains
 * within eps count as equal so that rounding noise does not undo the LIFO
 * order among equal gains. */
static int32_t real_best(tabu_work *w, int t)
{
    int32_t h = top_bucket(w, t);
    if (h < 0)
        return -1;
    int32_t best = w->node[h].next;
    for (int32_t v = w->node[best].next; v != h; v = w->node[v].next)
        if (w->gd[v] > w->gd[best] + w->p->eps)
            best = v;
    return best;
}

/* Energy drop of flipping v in the kernel's units; -inf for v < 0. */
static inline double gain_of(const tabu_work *w, int32_t v)
{
    if (v < 0)
        return -INFINITY;
    return w->p->exact ? (double)w->node[v].g : w->gd[v];
}

static int64_t int_descend(tabu_work *w, int64_t limit)
{
    int64_t c = 0;
    for (; c < limit; c++) {
        int32_t v0 = int_best(w, 0), v1 = int_best(w, 1);
        int32_t g0 = v0 >= 0 ? w->node[v0].g : INT32_MIN;
        int32_t g1 = v1 >= 0 ? w->node[v1].g : INT32_MIN;
        if ((g0 >= g1 ? g0 : g1) <= 0)
            break;
        make_move(w, g0 >= g1 ? v0 : v1, 1);
    }
    return c;
}

static int64_t real_descend(tabu_work *w, int64_t limit)
{
    int64_t c = 0;
    for (; c < limit; c++) {
        int32_t v0 = real_best(w, 0), v1 = real_best(w, 1);
        int32_t v = gain_of(w, v0) >= gain_of(w, v1) ? v0 : v1;
        if (!(gain_of(w, v) > w->p->eps))
            break;
        make_move(w, v, 0);
    }
    return c;
}

/* Energy after flipping v, relative to the start. */
static inline double energy_after(const tabu_work *w, int32_t v)
{
    const tabu_plan *p = w->p;
    if (p->exact)
        return (double)(w->e_int - 2 * (int64_t)w->node[v].g) / p->scale;
    return w->e - 2.0 * w->gd[v];
}

/* ---- interface ------------------------------------------------------------ */

int nq__tabu_moves_alloc(tabu_work *w, const tabu_plan *p)
{
    size_t n = (size_t)p->n + 1;
    w->p = p;
    w->slots = p->tenure_max + 1;
    w->s = malloc(n);
    w->node = malloc((n + 2 * (2 * (size_t)p->span + 1)) * sizeof *w->node);
    w->wnext = malloc((n + (size_t)w->slots) * sizeof *w->wnext);
    w->wprev = malloc((n + (size_t)w->slots) * sizeof *w->wprev);
    if (!p->exact)
        w->gd = malloc(n * sizeof *w->gd);
    return w->s && w->node && w->wnext && w->wprev && (p->exact || w->gd) ? NQ_OK : NQ_ENOMEM;
}

void nq__tabu_moves_free(tabu_work *w)
{
    free(w->s);
    free(w->node);
    free(w->wnext);
    free(w->wprev);
    free(w->gd);
}

void nq__tabu_load(tabu_work *w)
{
    init_lists(w);
    if (w->p->exact)
        int_load(w);
    else
        real_load(w);
}

void nq__tabu_move(tabu_work *w, int32_t i)
{
    if (w->p->exact)
        make_move(w, i, 1);
    else
        make_move(w, i, 0);
}

double nq__tabu_energy(const tabu_work *w)
{
    return w->p->exact ? (double)w->e_int / w->p->scale : w->e;
}

void nq__tabu_spins(const tabu_work *w, int8_t *out)
{
    for (int32_t i = 0; i < w->p->n; i++)
        out[i] = w->node[i].s;
}

int64_t nq__tabu_descend(tabu_work *w, int64_t limit)
{
    return w->p->exact ? int_descend(w, limit) : real_descend(w, limit);
}

int32_t nq__tabu_pick(tabu_work *w, double aspire)
{
    int exact = w->p->exact;
    int32_t v0 = exact ? int_best(w, 0) : real_best(w, 0);
    int32_t v1 = exact ? int_best(w, 1) : real_best(w, 1);
    if (v1 >= 0 && gain_of(w, v1) > gain_of(w, v0) && energy_after(w, v1) < aspire)
        return v1;
    return v0 >= 0 ? v0 : v1;
}
