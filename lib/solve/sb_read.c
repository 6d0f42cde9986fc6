/* sb_read.c - one simulated-bifurcation read: SB_LANES trajectories
 * advanced together, the best sign state of each kept, each finished by a
 * greedy single-flip descent, and the lowest of those returned. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "reads.h"
#include "sb_plan.h"

#define L SB_LANES

/* Per-thread scratch, reused across reads. Batches are ne x L,
 * variable-major (see sb_kernel.h). */
typedef struct sb_work {
    float *x, *y, *f, *s;
    int8_t *snap;     /* best sign state seen by each lane */
    double snap_e[L]; /* its energy in the plan's scaled units */
    double e[L];
    nq_rng *rng;    /* the read's stream, during the read */
    uint8_t *noise; /* random bytes for the kicks */
    int8_t *spins;  /* n: the state being descended */
    double *field;  /* n: its local fields */
    int64_t macs;   /* multiply-adds since the last stop poll */
    int64_t steps_done;
} sb_work;

/* Count work and poll the stop signals once per SB_POLL_MACS of it. */
static int tick(sb_work *w, int64_t macs, const nq__stop *c, int64_t read)
{
    w->macs += macs;
    if (w->macs < SB_POLL_MACS)
        return 0;
    w->macs = 0;
    return nq__should_stop(c, read);
}

/* F = J X in row blocks, polling between them; 1 = stop (F incomplete). */
static int product(const sb_plan *p, sb_work *w, const float *X, float *F, const nq__stop *c,
                   int64_t read)
{
    for (int32_t r0 = 0; r0 < p->ne; r0 += p->poll_rows) {
        int32_t r1 = p->ne - r0 > p->poll_rows ? r0 + p->poll_rows : p->ne;
        int64_t macs;
        if (p->dense) {
            nq__sb_dense_mm(p->dense, p->ld, p->ne, r0, r1, X, F);
            macs = (int64_t)(r1 - r0) * p->ne * L;
        } else {
            nq__sb_csr_mm(p->row, p->col, p->w, r0, r1, X, F);
            macs = (p->row[r1] - p->row[r0] + (r1 - r0)) * L;
        }
        if (tick(w, macs, c, read))
            return 1;
    }
    return 0;
}

/* Keep the sign state S of every lane whose energy w->e beats its best. */
static void snapshot(const sb_plan *p, sb_work *w, const float *S)
{
    int8_t better[L];
    int any = 0;
    for (int b = 0; b < L; b++) {
        better[b] = w->e[b] < w->snap_e[b];
        any |= better[b];
        if (better[b])
            w->snap_e[b] = w->e[b];
    }
    if (!any)
        return;
    for (int64_t i = 0; i < p->ne; i++)
        for (int b = 0; b < L; b++)
            if (better[b])
                w->snap[i * L + b] = S[i * L + b] < 0.0f ? -1 : 1;
}

/* Energy of the current sign states (one extra product); 1 = stop. */
static int evaluate(const sb_plan *p, sb_work *w, const nq__stop *c, int64_t read)
{
    nq__sb_signs(p->ne, w->x, w->s);
    if (product(p, w, w->s, w->f, c, read))
        return 1;
    nq__sb_energies(p->ne, w->s, w->f, w->e);
    snapshot(p, w, w->s);
    return 0;
}

static float uniform(nq_rng *rng, float half_width)
{
    return ((float)(nq_rng_u64(rng) >> 40) * 0x1.0p-24f * 2.0f - 1.0f) * half_width;
}

static void start(const sb_plan *p, sb_work *w, nq_rng *rng)
{
    for (int64_t k = 0; k < (int64_t)p->ne * L; k++) {
        w->x[k] = uniform(rng, 0.1f);
        w->y[k] = uniform(rng, 1.0f);
        w->snap[k] = w->x[k] < 0.0f ? -1 : 1;
    }
    for (int b = 0; b < L; b++)
        w->snap_e[b] = INFINITY;
    w->macs = 0;
}

/* Random momentum kicks, fading out with the pump: without them bSB
 * trajectories from different starts tend to end in the same state. */
static void kick(const sb_plan *p, sb_work *w, float amp)
{
    size_t cells = (size_t)p->ne * L;
    nq_rng rng = *w->rng; /* a local copy stays in registers */
    for (size_t k = 0; k < cells; k += 8) {
        uint64_t r = nq_rng_u64(&rng);
        memcpy(w->noise + k, &r, 8);
    }
    *w->rng = rng;
    nq__sb_kick(p->ne, w->y, w->noise, amp);
}

/* One step at time index t; dSB evaluates the sign state it multiplies
 * anyway every eval_every steps. 1 = stop. */
static int step(const sb_plan *p, sb_work *w, int32_t t, const nq__stop *c, int64_t read)
{
    float a = p->steps > 1 ? p->a0 * (float)t / (float)(p->steps - 1) : p->a0;
    const float *src = w->x;
    if (p->discrete) {
        nq__sb_signs(p->ne, w->x, w->s);
        src = w->s;
    }
    if (product(p, w, src, w->f, c, read))
        return 1;
    if (p->discrete && t % p->eval_every == 0) {
        nq__sb_energies(p->ne, w->s, w->f, w->e);
        snapshot(p, w, w->s);
    }
    nq__sb_step(p->ne, w->x, w->y, w->f, -(p->a0 - a) * p->dt, p->c0 * p->dt, p->a0 * p->dt);
    if (p->noise > 0.0f)
        kick(p, w, p->noise * (1.0f - a / p->a0) * sqrtf(p->dt));
    if (tick(w, (int64_t)p->ne * L, c, read))
        return 1;
    if (!p->discrete && (t + 1) % p->eval_every == 0 && t + 1 < p->steps)
        return evaluate(p, w, c, read);
    return 0;
}

static void trajectories(const sb_plan *p, sb_work *w, nq_rng *rng, const nq__stop *c, int64_t read)
{
    w->rng = rng;
    start(p, w, rng);
    for (int32_t t = 0; t < p->steps; t++)
        if (step(p, w, t, c, read)) {
            w->steps_done = t + 1;
            return;
        }
    w->steps_done = p->steps;
    evaluate(p, w, c, read);
}

/* ---- greedy finish on the model itself, in double ------------------------ */

/* f = h + W s. Dense rows are summed as columns (W is symmetric) so the
 * loop vectorizes. */
static void fields(const nq_model *is, const int8_t *s, double *f)
{
    memcpy(f, is->linear, (size_t)is->n * sizeof *f);
    if (is->dense) {
        for (int32_t j = 0; j < is->n; j++) {
            const double *restrict row = is->dense + (int64_t)j * is->n;
            double sj = s[j];
            for (int32_t i = 0; i < is->n; i++)
                f[i] += sj * row[i];
        }
        return;
    }
    for (int32_t i = 0; i < is->n; i++) {
        double fi = 0.0;
        for (int64_t k = is->row[i]; k < is->row[i + 1]; k++)
            fi += is->w[k] * s[is->col[k]];
        f[i] += fi;
    }
}

static void flip(const nq_model *is, int8_t *s, double *f, int32_t i)
{
    s[i] = (int8_t)-s[i];
    double d = 2.0 * s[i];
    if (is->dense) {
        const double *row = is->dense + (int64_t)i * is->n;
        for (int32_t j = 0; j < is->n; j++)
            f[j] += d * row[j];
        return;
    }
    for (int64_t k = is->row[i]; k < is->row[i + 1]; k++)
        f[is->col[k]] += d * is->w[k];
}

/* Flip every spin that lowers the energy until none does; return the
 * energy without the offset. */
static double descend(const nq_model *is, int8_t *s, double *f)
{
    fields(is, s, f);
    for (int improved = 1; improved;) {
        improved = 0;
        for (int32_t i = 0; i < is->n; i++)
            if (s[i] * f[i] > 1e-12 * (1.0 + fabs(f[i]))) {
                flip(is, s, f, i);
                improved = 1;
            }
    }
    double e = 0.0;
    for (int32_t i = 0; i < is->n; i++)
        e += s[i] * (f[i] + is->linear[i]);
    return 0.5 * e;
}

/* Model spins of lane b: relative to the auxiliary spin when there is one. */
static void lane_spins(const sb_plan *p, const sb_work *w, int b, int8_t *s)
{
    int8_t ref = p->ne > p->n ? w->snap[(int64_t)p->n * L + b] : 1;
    for (int64_t i = 0; i < p->n; i++)
        s[i] = (int8_t)(w->snap[i * L + b] * ref);
}

/* Descend every lane's best state, or only the most promising one when the
 * run was cut short, and leave the lowest in best. */
static void finish(const sb_plan *p, sb_work *w, int cut_short, int8_t *best)
{
    int first = 0;
    for (int b = 1; b < L; b++)
        if (w->snap_e[b] < w->snap_e[first])
            first = b;
    double best_e = INFINITY;
    for (int b = cut_short ? first : 0; b < (cut_short ? first + 1 : L); b++) {
        lane_spins(p, w, b, w->spins);
        double e = descend(p->is, w->spins, w->field);
        if (e < best_e) {
            best_e = e;
            memcpy(best, w->spins, (size_t)p->n);
        }
    }
}

/* ---- the reader interface ------------------------------------------------- */

static void *alloc_aligned(size_t bytes)
{
    size_t size = (bytes + 63) / 64 * 64;
    return aligned_alloc(64, size ? size : 64);
}

void *nq__sb_work_new(const void *plan)
{
    const sb_plan *p = plan;
    size_t cells = ((size_t)p->ne + 1) * L;
    sb_work *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->x = alloc_aligned(cells * sizeof(float));
    w->y = alloc_aligned(cells * sizeof(float));
    w->f = alloc_aligned(cells * sizeof(float));
    w->s = alloc_aligned(cells * sizeof(float));
    w->snap = malloc(cells);
    w->noise = malloc(cells + 8);
    w->spins = malloc((size_t)p->n + 1);
    w->field = malloc(((size_t)p->n + 1) * sizeof *w->field);
    if (!w->x || !w->y || !w->f || !w->s || !w->snap || !w->noise || !w->spins || !w->field) {
        nq__sb_work_free(w);
        return NULL;
    }
    return w;
}

void nq__sb_work_free(void *work)
{
    sb_work *w = work;
    if (!w)
        return;
    free(w->x);
    free(w->y);
    free(w->f);
    free(w->s);
    free(w->snap);
    free(w->noise);
    free(w->spins);
    free(w->field);
    free(w);
}

int64_t nq__sb_run(const void *plan, void *work, nq_rng *rng, const nq__stop *stop, int64_t read,
                   int8_t *best)
{
    const sb_plan *p = plan;
    sb_work *w = work;
    if (p->n == 0)
        return 0;
    trajectories(p, w, rng, stop, read);
    finish(p, w, w->steps_done < p->steps || nq__should_stop(stop, read), best);
    return w->steps_done * p->n * L;
}
