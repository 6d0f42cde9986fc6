/* assign_flow.c - the exact step: assignment as a flow problem.
 *
 * Every lead sends one unit to a rep it is eligible for (or, when leads
 * are optional, to "none"); rep r's load must lie in [lo_r, hi_r]. That is
 * a transportation problem, so an assignment is optimal exactly when the
 * residual graph has no cycle of negative cost. Cycles here run on a
 * compressed graph with one node per rep, one for "none" and one sink:
 *
 *   a -> b      move one lead from a to b; cost -(v(l,b) - v(l,a)) for the
 *               lead at a that gains most by the move (a simple cycle
 *               leaves each node once, so its moves use distinct leads);
 *   r -> sink   r's load grows by one;    sink -> r   r's load shrinks.
 *
 * A lead's only residual arcs go from its current rep to the reps it could
 * move to, so every residual cycle of the full lead/rep graph is a cycle
 * here with the same cost; the best lead per pair (a, b) gives the
 * cheapest. Loads outside [lo, hi] are allowed but cost one "violation"
 * unit per lead: costs are pairs (violation, -value) compared
 * lexicographically, so cancelling cycles first restores feasibility (or
 * shows that none exists: the violation is separable convex, and a flow
 * with no negative cycle minimizes it) and then maximizes the value, from
 * whatever assignment it starts with. Negative cycles are found by
 * Bellman-Ford over the R + 2 nodes. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "assign_internal.h"

typedef struct lex {
    int64_t v; /* violation units */
    double c;  /* minus value */
} lex;

typedef struct move {
    int32_t lead, to;
    int64_t pair;
} move;

typedef struct flow {
    const nq__assign_prob *p;
    const int32_t *lo, *hi;
    int32_t R, N, NONE, SINK; /* reps 0..R-1, none R, sink R+1 */
    int32_t *pos;             /* per lead: node (rep or NONE) */
    int64_t *pair;            /* per lead: its pair index, -1 at NONE */
    int32_t *next, *prev;     /* per lead: doubly linked member lists */
    int32_t *head;            /* per transfer node (R + 1) */
    int32_t *load;            /* per transfer node */
    double *gain;             /* (R+1)^2: best gain of a move a -> b, -inf: none */
    int32_t *arg;             /* the lead making it */
    int64_t *argk;            /* its pair at b (-1: to NONE) */
    lex *dist;
    int32_t *pred, *mark, *cyc;
    move *mv;
} flow;

static void unlink_lead(flow *f, int32_t l)
{
    int32_t a = f->pos[l];
    if (f->prev[l] >= 0)
        f->next[f->prev[l]] = f->next[l];
    else
        f->head[a] = f->next[l];
    if (f->next[l] >= 0)
        f->prev[f->next[l]] = f->prev[l];
    f->load[a]--;
}

static void link_lead(flow *f, int32_t l, int32_t a, int64_t k)
{
    f->pos[l] = a;
    f->pair[l] = k;
    f->prev[l] = -1;
    f->next[l] = f->head[a];
    if (f->head[a] >= 0)
        f->prev[f->head[a]] = l;
    f->head[a] = l;
    f->load[a]++;
}

/* Recompute the best move of each kind out of node a. */
static void row(flow *f, int32_t a)
{
    const nq__assign_prob *p = f->p;
    int32_t T = f->R + 1;
    double *g = f->gain + (size_t)a * (size_t)T;
    int32_t *arg = f->arg + (size_t)a * (size_t)T;
    int64_t *argk = f->argk + (size_t)a * (size_t)T;
    for (int32_t b = 0; b < T; b++)
        g[b] = -INFINITY, arg[b] = -1, argk[b] = -1;
    for (int32_t l = f->head[a]; l >= 0; l = f->next[l]) {
        double va = f->pair[l] >= 0 ? p->val[f->pair[l]] : 0.0;
        for (int64_t k = p->start[l]; k < p->start[l + 1]; k++) {
            int32_t b = p->rep[k];
            if (b != a && p->val[k] - va > g[b])
                g[b] = p->val[k] - va, arg[b] = l, argk[b] = k;
        }
        if (p->optional && a != f->NONE && -va > g[f->NONE])
            g[f->NONE] = -va, arg[f->NONE] = l, argk[f->NONE] = -1;
    }
}

static int64_t viol_of(const flow *f, int32_t r, int32_t k)
{
    return k < f->lo[r] ? f->lo[r] - k : k > f->hi[r] ? k - f->hi[r] : 0;
}

/* Cost of arc u -> v; 0 when there is none. */
static int arc(const flow *f, int32_t u, int32_t v, lex *c)
{
    if (u == v)
        return 0;
    if (u < f->SINK && v < f->SINK) {
        double g = f->gain[(size_t)u * (size_t)(f->R + 1) + (size_t)v];
        *c = (lex){0, -g};
        return g > -INFINITY;
    }
    int32_t r = u == f->SINK ? v : u;
    if (r == f->NONE) { /* none's count is free; it exists with optional leads only */
        *c = (lex){0, 0.0};
        return f->p->optional && (u == f->NONE || f->load[r] > 0);
    }
    int32_t k = f->load[r];
    if (u == f->SINK && k == 0)
        return 0;
    *c = (lex){viol_of(f, r, u == f->SINK ? k - 1 : k + 1) - viol_of(f, r, k), 0.0};
    return 1;
}

static int lex_less(lex a, lex b, double eps)
{
    return a.v < b.v || (a.v == b.v && a.c < b.c - eps);
}

/* A cycle in the predecessor graph, written forward into cyc; its length or 0. */
static int32_t pred_cycle(flow *f)
{
    int32_t N = f->N;
    for (int32_t i = 0; i < N; i++)
        f->mark[i] = -1;
    for (int32_t s = 0; s < N; s++) {
        int32_t x = s;
        while (x >= 0 && f->mark[x] < 0) {
            f->mark[x] = s;
            x = f->pred[x];
        }
        if (x < 0 || f->mark[x] != s)
            continue;
        int32_t n = 0, y = x;
        do {
            f->cyc[n++] = y;
            y = f->pred[y];
        } while (y != x);
        for (int32_t i = 0; i < n / 2; i++) { /* pred walks backwards */
            int32_t t = f->cyc[i];
            f->cyc[i] = f->cyc[n - 1 - i], f->cyc[n - 1 - i] = t;
        }
        return n;
    }
    return 0;
}

/* Bellman-Ford from a virtual source; the length of a negative cycle found
 * (in cyc), or 0 when there is none. */
static int32_t negative_cycle(flow *f)
{
    int32_t N = f->N;
    for (int32_t i = 0; i < N; i++)
        f->dist[i] = (lex){0, 0.0}, f->pred[i] = -1;
    for (int32_t round = 0; round <= N; round++) {
        int changed = 0;
        for (int32_t u = 0; u < N; u++)
            for (int32_t v = 0; v < N; v++) {
                lex c;
                if (!arc(f, u, v, &c))
                    continue;
                lex cand = {f->dist[u].v + c.v, f->dist[u].c + c.c};
                if (lex_less(cand, f->dist[v], f->p->eps)) {
                    f->dist[v] = cand, f->pred[v] = u;
                    changed = 1;
                }
            }
        if (!changed)
            return 0;
        int32_t n = pred_cycle(f);
        if (n)
            return n;
    }
    return 0;
}

/* Apply the moves of cycle cyc[0..n); 1 when it was negative and applied. */
static int cancel_cycle(flow *f, int32_t n)
{
    lex tot = {0, 0.0};
    for (int32_t i = 0; i < n; i++) {
        lex c = {0, 0.0};
        arc(f, f->cyc[i], f->cyc[(i + 1) % n], &c);
        tot.v += c.v, tot.c += c.c;
    }
    if (!(tot.v < 0 || (tot.v == 0 && tot.c < -0.5 * f->p->eps)))
        return 0;
    int32_t T = f->R + 1, nm = 0;
    for (int32_t i = 0; i < n; i++) { /* arg holds for the old lists: collect first */
        int32_t u = f->cyc[i], v = f->cyc[(i + 1) % n];
        if (u == f->SINK || v == f->SINK)
            continue;
        size_t at = (size_t)u * (size_t)T + (size_t)v;
        f->mv[nm++] = (move){.lead = f->arg[at], .to = v, .pair = f->argk[at]};
    }
    for (int32_t i = 0; i < nm; i++) {
        unlink_lead(f, f->mv[i].lead);
        link_lead(f, f->mv[i].lead, f->mv[i].to, f->mv[i].pair);
    }
    for (int32_t i = 0; i < n; i++)
        if (f->cyc[i] != f->SINK)
            row(f, f->cyc[i]);
    return 1;
}

static void flow_free(flow *f)
{
    free(f->pos);
    free(f->pair);
    free(f->next);
    free(f->prev);
    free(f->head);
    free(f->load);
    free(f->gain);
    free(f->arg);
    free(f->argk);
    free(f->dist);
    free(f->pred);
    free(f->mark);
    free(f->cyc);
    free(f->mv);
}

static int flow_init(flow *f, const nq__assign_prob *p, const int32_t *lo, const int32_t *hi,
                     nq_err *err)
{
    memset(f, 0, sizeof *f);
    f->p = p, f->lo = lo, f->hi = hi;
    f->R = p->R, f->NONE = p->R, f->SINK = p->R + 1, f->N = p->R + 2;
    size_t L = (size_t)p->L, T = (size_t)p->R + 1, N = (size_t)f->N;
    f->pos = malloc(L * sizeof *f->pos);
    f->pair = malloc(L * sizeof *f->pair);
    f->next = malloc(L * sizeof *f->next);
    f->prev = malloc(L * sizeof *f->prev);
    f->head = malloc(T * sizeof *f->head);
    f->load = calloc(T, sizeof *f->load);
    f->gain = malloc(T * T * sizeof *f->gain);
    f->arg = malloc(T * T * sizeof *f->arg);
    f->argk = malloc(T * T * sizeof *f->argk);
    f->dist = malloc(N * sizeof *f->dist);
    f->pred = malloc(N * sizeof *f->pred);
    f->mark = malloc(N * sizeof *f->mark);
    f->cyc = malloc(N * sizeof *f->cyc);
    f->mv = malloc(N * sizeof *f->mv);
    if (!f->pos || !f->pair || !f->next || !f->prev || !f->head || !f->load || !f->gain ||
        !f->arg || !f->argk || !f->dist || !f->pred || !f->mark || !f->cyc || !f->mv) {
        flow_free(f);
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    }
    for (size_t a = 0; a < T; a++)
        f->head[a] = -1;
    return NQ_OK;
}

static int64_t pair_of(const nq__assign_prob *p, int32_t l, int32_t r)
{
    for (int64_t k = p->start[l]; r >= 0 && k < p->start[l + 1]; k++)
        if (p->rep[k] == r)
            return k;
    return -1;
}

/* Leads without a rep under assign_all go where there is room, best value
 * first (any rep will do: the cycles repair what is left). */
static int64_t fallback_pair(const flow *f, int32_t l)
{
    const nq__assign_prob *p = f->p;
    int64_t best = -1;
    int best_room = 0;
    for (int64_t k = p->start[l]; k < p->start[l + 1]; k++) {
        int room = f->load[p->rep[k]] < f->hi[p->rep[k]];
        if (best < 0 || room > best_room || (room == best_room && p->val[k] > p->val[best]))
            best = k, best_room = room;
    }
    return best;
}

static void place(flow *f, const int32_t *rep_of)
{
    const nq__assign_prob *p = f->p;
    for (int32_t l = 0; l < p->L; l++) {
        int64_t k = pair_of(p, l, rep_of[l]);
        f->pos[l] = -1;
        if (k >= 0)
            link_lead(f, l, p->rep[k], k);
        else if (p->optional)
            link_lead(f, l, f->NONE, -1);
    }
    for (int32_t l = 0; l < p->L; l++)
        if (f->pos[l] < 0) {
            int64_t k = fallback_pair(f, l); /* exists: prepare checked every lead */
            link_lead(f, l, p->rep[k], k);
        }
}

/* Cancel negative cycles until none is left, at bounds [lo, hi]. */
static int flow_run(flow *f, const int32_t *lo, const int32_t *hi, int64_t *improvements,
                    int64_t *violation, nq_err *err)
{
    const nq__assign_prob *p = f->p;
    int rc = NQ_OK;
    f->lo = lo, f->hi = hi;
    for (;;) {
        if (p->s->cancel && atomic_load(p->s->cancel)) {
            rc = nq_err_set(err, NQ_ECANCEL, NULL, "cancelled");
            break;
        }
        int32_t n = negative_cycle(f);
        if (!n || !cancel_cycle(f, n))
            break;
        (*improvements)++;
    }
    *violation = 0;
    for (int32_t r = 0; r < f->R; r++)
        *violation += viol_of(f, r, f->load[r]);
    return rc;
}

static double flow_value(const flow *f)
{
    double v = 0.0;
    for (int32_t l = 0; l < f->p->L; l++)
        v += f->pair[l] >= 0 ? f->p->val[f->pair[l]] : 0.0;
    return v;
}

static void flow_export(const flow *f, int32_t *rep_of)
{
    for (int32_t l = 0; l < f->p->L; l++)
        rep_of[l] = f->pos[l] == f->NONE ? -1 : f->pos[l];
}

static int flow_open(flow *f, const nq__assign_prob *p, const int32_t *rep_of, nq_err *err)
{
    int rc = flow_init(f, p, p->lo, p->hi, err);
    if (rc)
        return rc;
    place(f, rep_of);
    for (int32_t a = 0; a <= f->R; a++)
        row(f, a);
    return NQ_OK;
}

int nq__assign_flow(const nq__assign_prob *p, const int32_t *lo, const int32_t *hi, int32_t *rep_of,
                    int64_t *improvements, int64_t *violation, nq_err *err)
{
    flow f;
    int rc = flow_open(&f, p, rep_of, err);
    if (rc)
        return rc;
    rc = flow_run(&f, lo, hi, improvements, violation, err);
    flow_export(&f, rep_of);
    flow_free(&f);
    return rc;
}

/* ---- the spread term: a search over load bands ----------------------------------- *
 *
 * Every answer with least load a and largest load b lies in the band [a, b]
 * (each rep's load in [max(lo_r, a), min(hi_r, b)]); the band's flow
 * optimum F(a, b) is at least its value and has spread at most b - a. So
 * the optimum is the largest h(a, b) = F(a, b) - w (b - a) over the bands.
 * For a fixed a, F(a, b) is the value of a linear program whose right-hand
 * side moves with b, integral at integer b (a network matrix): concave in
 * b, and so is h. Each a therefore needs only a walk in b from a start to
 * the first step that does not improve. One flow state is kept throughout:
 * the residual graph does not depend on the bounds, and a band next to the
 * last one needs only a few cycles. */

#define MAX_BANDS 100000 /* band flows before giving up the proof */

typedef struct bands {
    const nq__assign_prob *p;
    flow f;
    int32_t *lo, *hi, *best;
    double best_obj;
    int32_t solved, b_max;
    int64_t *improvements;
} bands;

/* Bounds [max(lo_r, a), min(hi_r, b)]; 0 when counting shows them infeasible. */
static int band_bounds(bands *B, int32_t a, int32_t b)
{
    const nq__assign_prob *p = B->p;
    int64_t need = 0, room = 0;
    for (int32_t r = 0; r < p->R; r++) {
        B->lo[r] = p->lo[r] > a ? p->lo[r] : a;
        B->hi[r] = p->hi[r] < b ? p->hi[r] : b;
        if (B->lo[r] > B->hi[r])
            return 0;
        need += B->lo[r], room += B->hi[r];
    }
    return need <= p->L && (p->optional || room >= p->L);
}

/* h(a, b) (-inf when the band is infeasible); keeps the answer when its
 * objective, with its actual spread, beats the best. */
static int band_eval(bands *B, int32_t a, int32_t b, double *h, nq_err *err)
{
    const nq__assign_prob *p = B->p;
    double w = p->s->fairness_weight;
    *h = -INFINITY;
    if (b > B->b_max || !band_bounds(B, a, b))
        return NQ_OK;
    if (++B->solved > MAX_BANDS)
        return NQ_ELIMIT;
    int64_t viol = 0;
    int rc = flow_run(&B->f, B->lo, B->hi, B->improvements, &viol, err);
    if (rc || viol)
        return rc;
    double v = flow_value(&B->f);
    int32_t mn = B->f.load[0], mx = B->f.load[0];
    for (int32_t r = 1; r < p->R; r++)
        mn = B->f.load[r] < mn ? B->f.load[r] : mn, mx = B->f.load[r] > mx ? B->f.load[r] : mx;
    *h = v - w * (b - a);
    if (v - w * (mx - mn) > B->best_obj + p->eps) {
        B->best_obj = v - w * (mx - mn);
        flow_export(&B->f, B->best);
    }
    return NQ_OK;
}

/* The best b for least load a, walking from *b0 (updated to it); *none:
 * no b is feasible (nor for any larger a). */
static int scan_a(bands *B, int32_t a, int32_t *b0, int *none, nq_err *err)
{
    int32_t b = *b0 < a ? a : *b0 > B->b_max ? B->b_max : *b0;
    double h = -INFINITY, nh = -INFINITY;
    int rc = band_eval(B, a, b, &h, err);
    while (!rc && h == -INFINITY && b < B->b_max) /* the feasible b form an up-interval */
        rc = band_eval(B, a, ++b, &h, err);
    *none = !rc && h == -INFINITY;
    if (rc || *none)
        return rc;
    int32_t step = +1;
    rc = band_eval(B, a, b + 1, &nh, err);
    if (!rc && !(nh > h)) {
        step = -1;
        nh = -INFINITY;
        if (b > a)
            rc = band_eval(B, a, b - 1, &nh, err);
    }
    while (!rc && nh > h) {
        b += step, h = nh;
        rc = band_eval(B, a, b + step, &nh, err);
    }
    *b0 = b;
    return rc;
}

static int band_search(bands *B, const int32_t *start, int *proven, nq_err *err)
{
    const nq__assign_prob *p = B->p;
    int32_t a_lo = p->lo[0], a_hi = p->hi[0];
    for (int32_t r = 0; r < p->R; r++) {
        a_lo = p->lo[r] < a_lo ? p->lo[r] : a_lo;
        a_hi = p->hi[r] < a_hi ? p->hi[r] : a_hi;
        B->b_max = p->hi[r] > B->b_max ? p->hi[r] : B->b_max;
    }
    if (a_hi > p->L / p->R) /* the least load is at most the average */
        a_hi = p->L / p->R;
    /* Walk a up from the start's least load, then down from it. */
    int32_t *load = B->hi; /* scratch until the first band */
    memset(load, 0, (size_t)p->R * sizeof *load);
    for (int32_t l = 0; l < p->L; l++)
        if (start[l] >= 0)
            load[start[l]]++;
    int32_t a0 = load[0], b_start = load[0];
    for (int32_t r = 1; r < p->R; r++)
        a0 = load[r] < a0 ? load[r] : a0, b_start = load[r] > b_start ? load[r] : b_start;
    a0 = a0 < a_lo ? a_lo : a0 > a_hi ? a_hi : a0;
    int rc = NQ_OK, none = 0;
    int32_t b0 = b_start, b_at_a0 = b_start;
    for (int32_t a = a0; !rc && !none && a <= a_hi; a++) {
        rc = scan_a(B, a, &b0, &none, err);
        if (a == a0)
            b_at_a0 = b0;
    }
    b0 = b_at_a0;
    for (int32_t a = a0 - 1; !rc && a >= a_lo; a--)
        rc = scan_a(B, a, &b0, &none, err);
    *proven = rc == NQ_OK;
    return rc == NQ_ELIMIT ? NQ_OK : rc;
}

/* start: the engine's answer (a good first band); free_opt: the value
 * optimum at the rep bounds, the first incumbent. */
static int spread_search(const nq__assign_prob *p, const int32_t *free_opt, int32_t *rep_of,
                         int *proven, int64_t *improvements, int32_t *n_bands, nq_err *err)
{
    bands B = {.p = p, .improvements = improvements};
    size_t R = (size_t)p->R, L = (size_t)p->L;
    B.lo = malloc(R * sizeof *B.lo);
    B.hi = malloc(R * sizeof *B.hi);
    B.best = malloc(L * sizeof *B.best);
    int rc = B.lo && B.hi && B.best ? flow_open(&B.f, p, rep_of, err)
                                    : nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    if (!rc) {
        memcpy(B.best, free_opt, L * sizeof *B.best);
        B.best_obj = nq__assign_objective(p, B.best, B.lo, NULL);
        rc = band_search(&B, rep_of, proven, err);
        memcpy(rep_of, B.best, L * sizeof *rep_of);
        flow_free(&B.f);
    }
    *n_bands = B.solved;
    free(B.lo);
    free(B.hi);
    free(B.best);
    return rc;
}

int nq__assign_exact(const nq__assign_prob *p, int32_t *rep_of, int *proven, int64_t *improvements,
                     int32_t *n_bands, nq_err *err)
{
    int64_t viol = 0;
    int spread = p->s->fairness == NQ_ASSIGN_FAIR_SPREAD && p->s->fairness_weight > 0;
    int32_t *free_opt = malloc((size_t)p->L * sizeof *free_opt);
    if (!free_opt)
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    memcpy(free_opt, rep_of, (size_t)p->L * sizeof *free_opt);
    *proven = 0;
    *n_bands = 0;
    int rc = nq__assign_flow(p, p->lo, p->hi, free_opt, improvements, &viol, err);
    if (!rc && viol)
        rc = nq__assign_infeasible(p, viol, err);
    if (!rc && !spread) {
        memcpy(rep_of, free_opt, (size_t)p->L * sizeof *rep_of);
        *proven = 1;
    } else if (!rc) {
        rc = spread_search(p, free_opt, rep_of, proven, improvements, n_bands, err);
    }
    free(free_opt);
    return rc;
}
