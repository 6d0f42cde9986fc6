/* tabu.c - breakout local search: the plan (kernel choice, integer gains,
 * parameters scaled to n) is built once, then the read pool runs the
 * reads. One read is one search of sweeps x n flips from a random state. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "solve_internal.h"
#include "tabu_plan.h"

#define TABU_DEFAULT_READS 4
#define TABU_DEFAULT_SWEEPS 2000
/* Gains must fit int32 with room for a flip's change. */
#define TABU_INT_GAIN_MAX (1 << 29)
/* Exact buckets beyond this many per unit of average degree cost more in
 * scans over empty buckets than the rounding of the real kernel. */
#define TABU_MAX_SPAN (1 << 20)
#define TABU_SPAN_PER_DEGREE 64
#define TABU_REAL_SPAN_MIN 256
#define TABU_REAL_SPAN_MAX (1 << 17)
/* Stop checks every 256 moves, or every ~64k neighbour updates on dense
 * models: well under a millisecond of work either way. */
#define TABU_POLL_MOVES 256
#define TABU_POLL_UPDATES 65536

static int32_t max_i32(int32_t a, int32_t b) { return a > b ? a : b; }
static int32_t min_i32(int32_t a, int32_t b) { return a < b ? a : b; }

/* Largest |h_i| + sum_j |w_ij| over the rows: the largest possible gain. */
static double max_row_sum(const nq_model *is)
{
    double best = 0.0;
    for (int32_t i = 0; i < is->n; i++) {
        double r = fabs(is->linear[i]);
        for (int64_t k = is->row[i]; k < is->row[i + 1]; k++)
            r += fabs(is->w[k]);
        best = fmax(best, r);
    }
    return best;
}

/* Real kernel: a grid of 2 span + 1 keys over the possible gains
 * [-row sum, +row sum]; about n keys per side keeps top buckets to a
 * vertex or two without long scans over empty ones. */
static void setup_real(tabu_plan *p, double row_sum)
{
    p->span = max_i32(TABU_REAL_SPAN_MIN, min_i32(p->n, TABU_REAL_SPAN_MAX));
    p->quant = row_sum > 0.0 ? p->span / row_sum : 1.0;
}

static int setup_kernel(tabu_plan *p)
{
    double row_sum = max_row_sum(p->is);
    p->eps = 1e-12 * row_sum;
    p->scale = nq__integer_scale(p->is, INFINITY);
    double span = row_sum * p->scale;
    double degree = p->n ? (double)p->is->nnz / p->n : 0.0;
    if (p->scale == 0.0 || span >= TABU_INT_GAIN_MAX || span > TABU_MAX_SPAN ||
        span > TABU_SPAN_PER_DEGREE * (degree + 1.0)) {
        setup_real(p, row_sum);
        return NQ_OK;
    }
    p->span = (int32_t)span;
    p->h_int = malloc(((size_t)p->n + 1) * sizeof *p->h_int);
    p->w2_int = malloc(((size_t)p->is->nnz + 1) * sizeof *p->w2_int);
    if (!p->h_int || !p->w2_int)
        return NQ_ENOMEM;
    for (int32_t i = 0; i < p->n; i++)
        p->h_int[i] = (int32_t)(p->is->linear[i] * p->scale);
    for (int64_t k = 0; k < p->is->nnz; k++)
        p->w2_int[k] = (int32_t)(2.0 * p->is->w[k] * p->scale);
    p->exact = 1;
    return NQ_OK;
}

/* Perturbation strength follows the BLS paper (L0 = n/100, Lmax = n/10,
 * T = 1000, P0 = 0.8) with floors that keep it meaningful for a handful of
 * variables; T shrinks for small n. The tenure's upper end is n/5 capped
 * at 120 + n/100 instead of the paper's n/10: measured on Gset, n/10
 * cycles on G1-G3 and G43 and the best upper end is about 120-200 for
 * n = 800..2000 (docs/internals/tabu.md). */
static void set_parameters(tabu_plan *p)
{
    int32_t n = p->n;
    p->jump_min = max_i32(1, n / 100);
    p->jump_max = max_i32(p->jump_min, max_i32(n / 10, min_i32(n / 2, 8)));
    p->tenure_min = min_i32(3, n / 2);
    p->tenure_max = max_i32(n / 5, min_i32(2 * n / 3, 10));
    p->tenure_max = max_i32(p->tenure_min, min_i32(p->tenure_max, 120 + n / 100));
    p->stall = max_i32(1, min_i32(1000, 10 * n));
    p->restart_stalls = 4;
    p->p_directed = 0.8;
    int64_t degree = n ? p->is->nnz / n : 0;
    p->poll = (int32_t)(TABU_POLL_UPDATES / (degree + 1));
    p->poll = max_i32(1, min_i32(TABU_POLL_MOVES, p->poll));
}

int nq__tabu_plan_init(tabu_plan *p, const nq_model *m, const nq_solve_opts *o, nq_err *err)
{
    memset(p, 0, sizeof *p);
    int rc = nq__ising_view(m, &p->own, &p->is, err);
    if (rc)
        return rc;
    p->o = o;
    p->n = m->n;
    p->moves = (int64_t)(o->sweeps > 0 ? o->sweeps : TABU_DEFAULT_SWEEPS) * m->n;
    set_parameters(p);
    rc = setup_kernel(p);
    if (rc) {
        nq__tabu_plan_free(p);
        return nq_err_set(err, rc, NULL, "out of memory preparing tabu search");
    }
    return NQ_OK;
}

void nq__tabu_plan_free(tabu_plan *p)
{
    if (!p)
        return;
    nq_model_free(&p->own);
    free(p->h_int);
    free(p->w2_int);
    memset(p, 0, sizeof *p);
}

int nq_solve_tabu(const nq_model *m, const nq_solve_opts *o, nq_progress_fn cb, void *user,
                  nq_result *out, nq_err *err)
{
    tabu_plan plan;
    int rc = nq__tabu_plan_init(&plan, m, o, err);
    if (rc)
        return rc;
    nq__reader rd = {"tabu", plan.is, &plan, nq__tabu_work_new, nq__tabu_work_free, nq__tabu_run, 0, NULL};
    rc = nq__run_reads(&rd, m, o, o->reads > 0 ? o->reads : TABU_DEFAULT_READS, cb, user, out,
                       err);
    nq__tabu_plan_free(&plan);
    return rc;
}
