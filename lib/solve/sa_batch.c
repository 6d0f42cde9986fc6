/* sa_batch.c - simulated annealing on NQ__SA_LANES reads at once.
 *
 * Every site holds one int16 spin and one int16 local field per read, side
 * by side in a vector, so one pass over a site makes a flip attempt in all
 * reads with a handful of vector instructions, and an accepted flip in any
 * of them updates the neighbours' fields of all reads in one go. Each read
 * has its own random stream (xoshiro128++ per lane, seeded from the read's
 * stream), so what read k finds does not depend on which reads share its
 * batch. Metropolis acceptance compares a 24-bit uniform with exp(-x),
 * evaluated in single precision (relative error ~1e-7), instead of the
 * per-sweep tables of the scalar kernel, which would need a gather.
 *
 * Used when the plan's integer fields fit int16 (see sa_plan.c); written
 * with compiler vector extensions, so it vectorizes for whatever the
 * target has (AVX-512 here, two AVX2 halves or four SSE quarters
 * elsewhere). */
#include <stdlib.h>
#include <string.h>

#include "sa_plan.h"

#define L NQ__SA_LANES

/* Vector values are passed between this file's static functions only, so
 * the warning that their calling convention depends on the target's
 * vector extensions (builds without -march=native) does not apply. */
#pragma GCC diagnostic ignored "-Wpsabi"

typedef int16_t vh __attribute__((vector_size(2 * L)));
typedef int32_t vi __attribute__((vector_size(4 * L)));
typedef uint32_t vu __attribute__((vector_size(4 * L)));
typedef float vf __attribute__((vector_size(4 * L)));

/* Per-thread scratch, reused across batches. */
typedef struct sab_work {
    vh *s;    /* spins, one vector per site */
    vh *f;    /* local fields (scaled integer units) */
    vh *keep; /* best spins of each lane so far */
} sab_work;

/* One xoshiro128++ generator per lane. */
typedef struct vrng {
    vu a, b, c, d;
} vrng;

static inline vu rotl(vu x, int k)
{
    return (x << k) | (x >> (32 - k));
}

static inline vu vrng_next(vrng *r)
{
    vu out = rotl(r->a + r->d, 7) + r->a;
    vu t = r->b << 9;
    r->c ^= r->a;
    r->d ^= r->b;
    r->b ^= r->c;
    r->a ^= r->d;
    r->c ^= t;
    r->d = rotl(r->d, 11);
    return out;
}

static void vrng_seed(vrng *r, nq_rng *lanes, int count)
{
    uint32_t w[4][L];
    for (int l = 0; l < L; l++) {
        /* Lanes past count are padding: any fixed nonzero stream will do. */
        uint64_t x = l < count ? nq_rng_u64(&lanes[l]) : 0x9e3779b97f4a7c15u * (uint64_t)(l + 1);
        uint64_t y = l < count ? nq_rng_u64(&lanes[l]) : 0xbf58476d1ce4e5b9u * (uint64_t)(l + 1);
        w[0][l] = (uint32_t)x, w[1][l] = (uint32_t)(x >> 32);
        w[2][l] = (uint32_t)y, w[3][l] = (uint32_t)(y >> 32) | 1u; /* never all zero */
    }
    memcpy(&r->a, w[0], sizeof r->a);
    memcpy(&r->b, w[1], sizeof r->b);
    memcpy(&r->c, w[2], sizeof r->c);
    memcpy(&r->d, w[3], sizeof r->d);
}

/* exp(-x) for x >= 0 as 2^-z, z = x log2(e): 2^-floor(z) goes straight into
 * the exponent bits, 2^-frac(z) comes from a degree-5 fit with P(0) = 1. */
static inline vf exp_neg(vf x)
{
    vf z = x * 1.44269504f;
    vi big = z > 125.0f;
    z = (vf)(((vi)z & ~big) | ((vi)(z * 0.0f + 125.0f) & big)); /* 2^-125 is as good as 0 */
    vi k = __builtin_convertvector(z, vi);
    vf fr = z - __builtin_convertvector(k, vf);
    vf p = fr * 0.0f - 0.000952586171f;
    p = p * fr + 0.00922475105f;
    p = p * fr - 0.0553135186f;
    p = p * fr + 0.240185592f;
    p = p * fr - 0.693144294f;
    p = p * fr + 1.0f;
    return (vf)((vi)p - (k << 23));
}

static inline int any16(vh m)
{
    uint64_t q[sizeof m / 8];
    memcpy(q, &m, sizeof m);
    uint64_t o = 0;
    for (size_t k = 0; k < sizeof q / sizeof q[0]; k++)
        o |= q[k];
    return o != 0;
}

/* Add the field change of the flips in dv (new spin where flipped, 0
 * elsewhere) at site i to its neighbours. */
static inline void spread(const sa_plan *p, vh *f, int32_t i, vh dv)
{
    const int32_t *col = p->is->col;
    const int16_t *w2 = p->w2_h;
    for (int64_t k = p->is->row[i], e = p->is->row[i + 1]; k < e; k++)
        f[col[k]] += w2[k] * dv;
}

/* One Metropolis pass over all sites at acceptance factor c (exp(-c d) for
 * a flip against a field of d units); out = per lane the sum of g over
 * accepted flips (the energy falls by 2 g / scale per flip). Vectors stay
 * inside functions: passing them by value between functions would depend
 * on the target's vector ABI. */
static void sweep(const sa_plan *p, sab_work *w, float c, vrng *r, int32_t *out)
{
    vh *s = w->s, *f = w->f;
    vi acc = {0};
    for (int32_t i = 0; i < p->n; i++) {
        vh g = s[i] * f[i];
        vi g32 = __builtin_convertvector(g, vi);
        vf x = __builtin_convertvector(-g32, vf) * c;
        vu u24 = vrng_next(r) >> 8;
        vf u = (__builtin_convertvector((vi)u24, vf) + 0.5f) * (1.0f / 16777216.0f);
        /* A free move (g = 0) is taken half the time: always taking it
         * would push a domain wall one site further every sweep, in step
         * with the sweep order, so walls would never meet and annihilate. */
        vf pr = (vf)((vi)exp_neg(x) - ((g32 == 0) & (1 << 23)));
        vi ok = (g32 > 0) | (u < pr);
        vh m = __builtin_convertvector(ok, vh);
        if (!any16(m))
            continue;
        acc += g32 & ok;
        vh ns = (s[i] ^ m) - m; /* negate where m = -1 */
        s[i] = ns;
        spread(p, f, i, ns & m);
    }
    memcpy(out, &acc, sizeof acc);
}

/* Zero-temperature passes until no lane has a downhill flip left. */
static void descend(const sa_plan *p, sab_work *w, int32_t *out)
{
    vh *s = w->s, *f = w->f;
    vi acc = {0};
    for (int moved = 1; moved;) {
        moved = 0;
        for (int32_t i = 0; i < p->n; i++) {
            vh g = s[i] * f[i];
            vh m = g > 0;
            if (!any16(m))
                continue;
            moved = 1;
            acc += __builtin_convertvector(g & m, vi);
            vh ns = (s[i] ^ m) - m;
            s[i] = ns;
            spread(p, f, i, ns & m);
        }
    }
    memcpy(out, &acc, sizeof acc);
}

static void start(const sa_plan *p, sab_work *w, nq_rng *lanes, int count)
{
    int16_t *s = (int16_t *)w->s;
    for (int l = 0; l < L; l++) {
        uint64_t bits = 0;
        for (int32_t i = 0; i < p->n; i++) {
            if ((i & 63) == 0)
                bits = l < count ? nq_rng_u64(&lanes[l]) : 0;
            s[(size_t)i * L + l] = (bits >> (i & 63)) & 1 ? 1 : -1;
        }
    }
    for (int32_t i = 0; i < p->n; i++) {
        vh fi = (vh){0} + p->h_h[i];
        for (int64_t k = p->is->row[i]; k < p->is->row[i + 1]; k++)
            fi += (int16_t)(p->w2_h[k] / 2) * w->s[p->is->col[k]];
        w->f[i] = fi;
    }
    memcpy(w->keep, w->s, (size_t)p->n * sizeof *w->s);
}

/* Lanes whose energy e (relative to the start) beat best: take their spins. */
static void keep_better(const sa_plan *p, sab_work *w, const int64_t *e, int64_t *best)
{
    int16_t mk[L];
    int any = 0;
    for (int l = 0; l < L; l++) {
        mk[l] = e[l] < best[l] ? -1 : 0;
        if (mk[l]) {
            best[l] = e[l];
            any = 1;
        }
    }
    if (!any)
        return;
    vh m;
    memcpy(&m, mk, sizeof m);
    for (int32_t i = 0; i < p->n; i++)
        w->keep[i] = (w->s[i] & m) | (w->keep[i] & ~m);
}

static void add_energy(int64_t *e, const int32_t *acc)
{
    for (int l = 0; l < L; l++)
        e[l] -= 2 * (int64_t)acc[l];
}

/* Sweeps between stop checks: about 1M site visits. */
static int32_t poll_every(int32_t n)
{
    int32_t k = (1 << 20) / (n > 0 ? n : 1);
    return k < 1 ? 1 : k > 64 ? 64 : k;
}

int64_t nq__sa_batch_run(const void *plan, void *work, nq_rng *lanes, int count,
                         const nq__stop *stop, int64_t read0, int8_t *best)
{
    const sa_plan *p = plan;
    sab_work *w = work;
    vrng r;
    start(p, w, lanes, count);
    vrng_seed(&r, lanes, count);
    int64_t e[L] = {0}, be[L] = {0};
    int32_t t = 0, every = poll_every(p->n), acc[L];
    while (t < p->sweeps) {
        sweep(p, w, (float)(2.0 * p->beta[t] / p->scale), &r, acc);
        add_energy(e, acc);
        keep_better(p, w, e, be);
        if (++t % every == 0 && nq__should_stop(stop, read0))
            break;
    }
    descend(p, w, acc);
    add_energy(e, acc);
    keep_better(p, w, e, be);
    const int16_t *k = (const int16_t *)w->keep;
    for (int l = 0; l < count; l++)
        for (int32_t i = 0; i < p->n; i++)
            best[(size_t)l * p->n + i] = (int8_t)k[(size_t)i * L + l];
    return (int64_t)t * p->n * count;
}

void *nq__sa_batch_work_new(const void *plan)
{
    const sa_plan *p = plan;
    size_t bytes = ((size_t)p->n + 1) * sizeof(vh);
    sab_work *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->s = aligned_alloc(sizeof(vh), bytes);
    w->f = aligned_alloc(sizeof(vh), bytes);
    w->keep = aligned_alloc(sizeof(vh), bytes);
    if (!w->s || !w->f || !w->keep) {
        nq__sa_batch_work_free(w);
        return NULL;
    }
    return w;
}

void nq__sa_batch_work_free(void *work)
{
    sab_work *w = work;
    if (!w)
        return;
    free(w->s);
    free(w->f);
    free(w->keep);
    free(w);
}
