/* uc_search.c - nq_uc_solve: commitment by the engine, dispatch exact.
 *
 * 1. A merit-order start: each hour, the units of lowest full-load average
 *    cost until the reserve is covered, repaired for min up/down. Its exact
 *    dispatch prices each hour's energy (the marginal cost lambda_t).
 * 2. The engine (uc_engine.c) solves a constrained model of the
 *    commitment priced with those lambdas; its best answer and
 *    alternatives are further starts.
 * 3. From each start, a local search on the exact cost: turn any stretch
 *    of hours inside one of a unit's runs the other way (this extends,
 *    shortens, splits, removes and adds runs), or swap a stretch between
 *    two units; each unit's best move is taken, until none improves.
 *    Only the hours a move touches are dispatched again.
 * Deterministic for a given seed unless the time limit cuts it short. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nqba/clock.h"
#include "uc_internal.h"

#define DEFAULT_LIMIT 2.0
#define MAX_STARTS 12   /* the merit-order start plus the engine's */
#define GAIN_EPS 1e-6   /* USD: a move must save more than rounding */
#define ENGINE_SHARE 0.4 /* of the time limit, at most, for the engine */
#define REPAIR_ROUNDS 200 /* a start that needs more is dropped */

typedef struct ls {
    const nq_uc_problem *p;
    int32_t n, T;
    unsigned char *on;   /* the current commitment */
    double *fuel;        /* per hour, exact */
    double *su;          /* per unit: start-up cost */
    double *cap, *minp;  /* per hour: committed pmax and pmin */
    double *trial;       /* per hour: fuel under the move being tried */
    double *dcap, *dmin; /* per hour: the move's change of cap and minp */
    unsigned char *save; /* hours: unit j's stretch before the move */
    int32_t *locked;     /* per unit: hours the initial status fixes */
    int32_t *cls;        /* per unit: the first unit with the same data */
    unsigned char *twin; /* per unit: an earlier unit of its class has the same row */
    double total;
    nq__uc_work w;
    int64_t evals;
    double deadline;
    int stop;            /* the time limit passed or the caller cancelled */
} ls;

typedef struct move {
    int32_t i, j, t0, t1; /* unit i to v on [t0, t1]; j (>= 0) to !v there */
    int v;
    double delta;
} move;

/* Same data (names aside): such units are interchangeable, so moves on
 * one of them with the same row as another are tried once. */
static int same_unit(const nq_uc_unit *a, const nq_uc_unit *b)
{
    return a->pmax == b->pmax && a->pmin == b->pmin && a->a == b->a && a->b == b->b &&
           a->c == b->c && a->min_up == b->min_up && a->min_down == b->min_down &&
           a->hot_start == b->hot_start && a->cold_start == b->cold_start &&
           a->cold_hours == b->cold_hours && a->initial_status == b->initial_status;
}

static int ls_init(ls *x, const nq_uc_problem *p, double deadline)
{
    memset(x, 0, sizeof *x);
    x->p = p;
    x->n = p->n_units;
    x->T = p->hours;
    x->deadline = deadline;
    size_t n = (size_t)x->n, T = (size_t)x->T;
    x->on = calloc(n * T, 1);
    x->fuel = calloc(T, sizeof *x->fuel);
    x->trial = calloc(T, sizeof *x->trial);
    x->dcap = calloc(T, sizeof *x->dcap);
    x->dmin = calloc(T, sizeof *x->dmin);
    x->save = calloc(T, 1);
    x->cap = calloc(T, sizeof *x->cap);
    x->minp = calloc(T, sizeof *x->minp);
    x->su = calloc(n, sizeof *x->su);
    x->locked = calloc(n, sizeof *x->locked);
    x->cls = calloc(n, sizeof *x->cls);
    x->twin = calloc(n, 1);
    if (!x->on || !x->fuel || !x->trial || !x->dcap || !x->dmin || !x->save || !x->cap || !x->minp || !x->su || !x->locked || !x->cls || !x->twin ||
        nq__uc_work_init(&x->w, p->units, x->n))
        return NQ_ENOMEM;
    for (int32_t i = 0; i < x->n; i++) {
        x->locked[i] = nq__uc_locked_hours(&p->units[i], x->T);
        x->cls[i] = i;
        for (int32_t k = 0; k < i && x->cls[i] == i; k++)
            if (same_unit(&p->units[k], &p->units[i]))
                x->cls[i] = k;
    }
    return NQ_OK;
}

static void ls_free(ls *x)
{
    free(x->on);
    free(x->fuel);
    free(x->trial);
    free(x->dcap);
    free(x->dmin);
    free(x->save);
    free(x->cap);
    free(x->minp);
    free(x->su);
    free(x->locked);
    free(x->cls);
    free(x->twin);
    nq__uc_work_free(&x->w);
}

static int out_of_time(ls *x)
{
    if (!x->stop && (nq_clock_s() > x->deadline || (x->p->cancel && atomic_load(x->p->cancel))))
        x->stop = 1;
    return x->stop;
}

/* Make on the current commitment; 0 when it breaks a rule. */
static int ls_load(ls *x, const unsigned char *on)
{
    int32_t T = x->T;
    memcpy(x->on, on, (size_t)x->n * T);
    x->total = 0;
    for (int32_t i = 0; i < x->n; i++) {
        int why;
        if (nq__uc_row_breaks(&x->p->units[i], on + (size_t)i * T, T, &why) >= 0)
            return 0;
        x->su[i] = nq__uc_row_startup(&x->p->units[i], on + (size_t)i * T, T, NULL);
        x->total += x->su[i];
    }
    for (int32_t t = 0; t < T; t++) {
        double lam;
        x->cap[t] = x->minp[t] = 0;
        for (int32_t i = 0; i < x->n; i++)
            if (on[(size_t)i * T + t]) {
                x->cap[t] += x->p->units[i].pmax;
                x->minp[t] += x->p->units[i].pmin;
            }
        x->fuel[t] = nq__uc_hour(x->p, x->on, t, &x->w, &lam, NULL);
        if (!isfinite(x->fuel[t]))
            return 0;
        x->total += x->fuel[t];
    }
    x->evals++;
    return 1;
}

/* The exact change in cost of move m (INFINITY when it breaks a rule);
 * with keep, a move that saves money stays made and the caches follow.
 * Unit j's stretch may be partly at !v already: only its other hours
 * change. */
static double try_move(ls *x, const move *m, int keep)
{
    const nq_uc_unit *ui = &x->p->units[m->i], *uj = m->j >= 0 ? &x->p->units[m->j] : NULL;
    int32_t T = x->T, why, len = m->t1 - m->t0 + 1;
    unsigned char *ri = x->on + (size_t)m->i * T, *rj = uj ? x->on + (size_t)m->j * T : NULL;
    if (rj)
        memcpy(x->save, rj + m->t0, (size_t)len);
    memset(ri + m->t0, m->v, (size_t)len);
    if (rj)
        memset(rj + m->t0, !m->v, (size_t)len);
    double sign = m->v ? 1 : -1, delta = INFINITY, su_i = 0, su_j = 0;
    int ok = nq__uc_row_breaks(ui, ri, T, &why) < 0 && (!rj || nq__uc_row_breaks(uj, rj, T, &why) < 0);
    for (int32_t t = m->t0; ok && t <= m->t1; t++) {
        double cj = rj && (x->save[t - m->t0] != 0) == m->v ? -sign : 0; /* j changed here */
        x->dcap[t] = sign * ui->pmax + (rj ? cj * uj->pmax : 0);
        x->dmin[t] = sign * ui->pmin + (rj ? cj * uj->pmin : 0);
        ok = !nq__uc_hour_status(x->p, x->cap[t] + x->dcap[t], x->minp[t] + x->dmin[t],
                                 x->p->demand[t]);
    }
    if (ok) {
        x->evals++;
        su_i = nq__uc_row_startup(ui, ri, T, NULL);
        su_j = rj ? nq__uc_row_startup(uj, rj, T, NULL) : 0;
        delta = su_i - x->su[m->i] + (rj ? su_j - x->su[m->j] : 0);
        for (int32_t t = m->t0; t <= m->t1; t++) {
            double lam;
            x->trial[t] = nq__uc_hour(x->p, x->on, t, &x->w, &lam, NULL);
            delta += x->trial[t] - x->fuel[t];
        }
    }
    if (keep && delta < -GAIN_EPS) {
        x->su[m->i] = su_i;
        if (rj)
            x->su[m->j] = su_j;
        for (int32_t t = m->t0; t <= m->t1; t++) {
            x->fuel[t] = x->trial[t];
            x->cap[t] += x->dcap[t];
            x->minp[t] += x->dmin[t];
        }
        x->total += delta;
        return delta;
    }
    memset(ri + m->t0, !m->v, (size_t)len);
    if (rj)
        memcpy(rj + m->t0, x->save, (size_t)len);
    return delta;
}

static void consider(ls *x, move *m, move *best)
{
    m->delta = try_move(x, m, 0);
    if (m->delta < best->delta)
        *best = *m;
}

/* Last hour of the run of row i that holds hour t. */
static int32_t run_end(const ls *x, int32_t i, int32_t t)
{
    const unsigned char *row = x->on + (size_t)i * x->T;
    int32_t e = t;
    while (e + 1 < x->T && row[e + 1] == row[t])
        e++;
    return e;
}

/* Unit i's best single move: any stretch inside one of its runs flipped. */
static void best_flip(ls *x, int32_t i, move *best)
{
    const unsigned char *row = x->on + (size_t)i * x->T;
    for (int32_t t0 = x->locked[i]; t0 < x->T && !out_of_time(x); t0++) {
        int32_t end = run_end(x, i, t0);
        for (int32_t t1 = t0; t1 <= end; t1++) {
            move m = { .i = i, .j = -1, .t0 = t0, .t1 = t1, .v = !row[t0] };
            consider(x, &m, best);
        }
    }
}

/* Unit i's best swap: a stretch inside one of its runs flipped, and
 * another unit set the other way over the whole stretch (the reserve often
 * forbids the plain flips; one unit's hours go to another). */
static void best_swap(ls *x, int32_t i, move *best)
{
    const unsigned char *row = x->on + (size_t)i * x->T;
    for (int32_t t0 = x->locked[i]; t0 < x->T && !out_of_time(x); t0++) {
        int32_t end = run_end(x, i, t0);
        for (int32_t j = 0; j < x->n; j++) {
            if (j == i || t0 < x->locked[j] || (x->twin[j] && x->cls[j] != x->cls[i]))
                continue;
            for (int32_t t1 = t0; t1 <= end; t1++) {
                move m = { .i = i, .j = j, .t0 = t0, .t1 = t1, .v = !row[t0] };
                consider(x, &m, best);
            }
        }
    }
}

static void find_twins(ls *x)
{
    size_t T = (size_t)x->T;
    for (int32_t j = 0; j < x->n; j++) {
        x->twin[j] = 0;
        for (int32_t k = x->cls[j]; k < j && !x->twin[j]; k++)
            x->twin[j] = x->cls[k] == x->cls[j] && !memcmp(x->on + k * T, x->on + j * T, T);
    }
}

/* One sweep over the units with one neighbourhood; 1 when it improved. */
static int sweep(ls *x, int swaps)
{
    int improved = 0;
    for (int32_t i = 0; i < x->n && !out_of_time(x); i++) {
        find_twins(x);
        if (x->twin[i])
            continue;
        move best = { .delta = -GAIN_EPS };
        best.i = -1;
        if (swaps)
            best_swap(x, i, &best);
        else
            best_flip(x, i, &best);
        if (best.i >= 0 && try_move(x, &best, 1) < -GAIN_EPS)
            improved = 1;
    }
    return improved;
}

static void local_search(ls *x)
{
    while (!out_of_time(x)) {
        if (sweep(x, 0))
            continue;
        if (!sweep(x, 1))
            break;
    }
}

/* ---- starts ----------------------------------------------------------------------------- */

/* Units by full-load average cost, cheapest first (index breaks ties). */
static int32_t *merit_order(const nq_uc_problem *p)
{
    int32_t n = p->n_units, *ord = malloc((size_t)n * sizeof *ord);
    double *key = malloc((size_t)n * sizeof *key);
    if (!ord || !key) {
        free(ord);
        free(key);
        return NULL;
    }
    for (int32_t i = 0; i < n; i++) {
        const nq_uc_unit *u = &p->units[i];
        key[i] = u->pmax > 0 ? u->a / u->pmax + u->b + u->c * u->pmax : INFINITY;
        ord[i] = i;
    }
    for (int32_t i = 1; i < n; i++) { /* insertion sort: stable, n is small */
        int32_t v = ord[i], k = i;
        while (k > 0 && key[ord[k - 1]] > key[v]) {
            ord[k] = ord[k - 1];
            k--;
        }
        ord[k] = v;
    }
    free(key);
    return ord;
}

/* Fix one broken run of row i; 1 when something changed. */
static int repair_row(const nq_uc_unit *u, unsigned char *row, int32_t T)
{
    int why;
    int32_t t = nq__uc_row_breaks(u, row, T, &why);
    if (t < 0)
        return 0;
    if (why == 1) { /* switched off too soon: keep it on */
        row[t] = 1;
        return 1;
    }
    int32_t s = t; /* started too soon: fill the gap, or wait when it began before hour 0 */
    while (s > 0 && !row[s - 1])
        s--;
    if (s == 0 && u->initial_status < 0)
        row[t] = 0;
    else
        memset(row + s, 1, (size_t)(t - s));
    return 1;
}

/* Fix hour t's coverage with the merit order: the cheapest units on while
 * short, the dearest off while over; 1 when something changed. */
static int repair_hour(const nq_uc_problem *p, const int32_t *ord, const int32_t *locked,
                       unsigned char *on, int32_t t)
{
    int32_t n = p->n_units, T = p->hours;
    double cap = 0, minp = 0;
    for (int32_t i = 0; i < n; i++)
        if (on[(size_t)i * T + t]) {
            cap += p->units[i].pmax;
            minp += p->units[i].pmin;
        }
    int st = nq__uc_hour_status(p, cap, minp, p->demand[t]), changed = 0;
    for (int32_t k = 0; st && k < n; k++) {
        int32_t i = st == 2 ? ord[n - 1 - k] : ord[k];
        unsigned char *c = &on[(size_t)i * T + t];
        if (t < locked[i] || *c != (st == 2))
            continue;
        double sign = st == 2 ? -1 : 1;
        *c = st != 2;
        cap += sign * p->units[i].pmax;
        minp += sign * p->units[i].pmin;
        changed = 1;
        st = nq__uc_hour_status(p, cap, minp, p->demand[t]);
    }
    return changed;
}

/* Make on meet the rules, changing as little as the simple fixes allow;
 * 1 when it does. */
static int repair(const nq_uc_problem *p, const int32_t *ord, const int32_t *locked,
                  unsigned char *on)
{
    int32_t n = p->n_units, T = p->hours;
    for (int32_t i = 0; i < n; i++)
        memset(on + (size_t)i * T, p->units[i].initial_status > 0, (size_t)locked[i]);
    for (int round = 0; round < REPAIR_ROUNDS; round++) {
        int changed = 0;
        for (int32_t i = 0; i < n; i++)
            changed |= repair_row(&p->units[i], on + (size_t)i * T, T);
        for (int32_t t = 0; !changed && t < T; t++)
            changed |= repair_hour(p, ord, locked, on, t);
        if (!changed)
            return 1;
    }
    return 0;
}

/* Each hour: the units the initial status keeps on, then the merit order
 * until the reserve is covered. */
static void merit_start(const nq_uc_problem *p, const int32_t *ord, const int32_t *locked,
                        unsigned char *on)
{
    int32_t n = p->n_units, T = p->hours;
    memset(on, 0, (size_t)n * T);
    for (int32_t t = 0; t < T; t++) {
        double cap = 0, need = (1 + p->reserve) * p->demand[t];
        for (int32_t i = 0; i < n; i++)
            if (t < locked[i] && p->units[i].initial_status > 0) {
                on[(size_t)i * T + t] = 1;
                cap += p->units[i].pmax;
            }
        for (int32_t k = 0; k < n && cap < need; k++) {
            int32_t i = ord[k];
            if (t < locked[i] || on[(size_t)i * T + t])
                continue;
            on[(size_t)i * T + t] = 1;
            cap += p->units[i].pmax;
        }
    }
}

/* lambda_t from the exact dispatch of the current commitment, or when
 * there is none, the mean full-load incremental cost. */
static void price_hours(ls *x, int loaded, double *lambda)
{
    double mean = 0;
    for (int32_t i = 0; i < x->n; i++)
        mean += (x->p->units[i].b + 2 * x->p->units[i].c * x->p->units[i].pmax) / x->n;
    for (int32_t t = 0; t < x->T; t++) {
        lambda[t] = mean;
        if (loaded)
            (void)nq__uc_hour(x->p, x->on, t, &x->w, &lambda[t], NULL);
    }
}

/* ---- nq_uc_solve ---------------------------------------------------------------------- */

typedef struct solve_ctx {
    ls x;
    int32_t *ord;
    unsigned char *cand, *best;
    double *lambda;
    int32_t n_cand;
    double best_cost;
} solve_ctx;

static int ctx_init(solve_ctx *s, const nq_uc_problem *p, double deadline)
{
    memset(s, 0, sizeof *s);
    size_t nt = (size_t)p->n_units * p->hours;
    int rc = ls_init(&s->x, p, deadline);
    s->ord = merit_order(p);
    s->cand = malloc(MAX_STARTS * nt);
    s->best = malloc(nt);
    s->lambda = malloc((size_t)p->hours * sizeof *s->lambda);
    s->best_cost = INFINITY;
    return rc || !s->ord || !s->cand || !s->best || !s->lambda ? NQ_ENOMEM : NQ_OK;
}

static void ctx_free(solve_ctx *s)
{
    ls_free(&s->x);
    free(s->ord);
    free(s->cand);
    free(s->best);
    free(s->lambda);
}

/* Local search from each start that can be repaired; keep the best.
 * When time is up, the starts are still costed until one is feasible. */
static void search_starts(solve_ctx *s, const nq_uc_problem *p)
{
    size_t nt = (size_t)p->n_units * p->hours;
    for (int32_t k = 0; k < s->n_cand && !(out_of_time(&s->x) && isfinite(s->best_cost)); k++) {
        unsigned char *c = s->cand + k * nt;
        if (!repair(p, s->ord, s->x.locked, c) || !ls_load(&s->x, c))
            continue;
        local_search(&s->x);
        if (s->x.total < s->best_cost - GAIN_EPS) {
            s->best_cost = s->x.total;
            memcpy(s->best, s->x.on, nt);
        }
    }
}

int nq_uc_solve(const nq_uc_problem *p, nq_uc_result *out, nq_err *err)
{
    if (!out)
        return nq_err_set(err, NQ_EINVAL, NULL, "no result");
    memset(out, 0, sizeof *out);
    int rc = nq_uc_check(p, err);
    if (rc)
        return rc;
    double t0 = nq_clock_s(), limit = p->time_limit > 0 ? p->time_limit : DEFAULT_LIMIT;
    solve_ctx s;
    if (ctx_init(&s, p, t0 + limit)) {
        ctx_free(&s);
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    }
    size_t nt = (size_t)p->n_units * p->hours;
    /* The merit-order start prices the hours for the engine, then goes
     * last: the engine's answers are searched first. */
    unsigned char *merit = s.cand + (size_t)(MAX_STARTS - 1) * nt;
    merit_start(p, s.ord, s.x.locked, merit);
    int merit_ok = repair(p, s.ord, s.x.locked, merit) && ls_load(&s.x, merit);
    price_hours(&s.x, merit_ok, s.lambda);
    int32_t got = 0;
    rc = nq__uc_engine_candidates(p, s.lambda, t0 + ENGINE_SHARE * limit, s.cand,
                                  MAX_STARTS - 1, &got, err);
    if (merit_ok && got < MAX_STARTS - 1)
        memcpy(s.cand + (size_t)got * nt, merit, nt);
    s.n_cand = got + (merit_ok ? 1 : 0);
    if (!rc)
        search_starts(&s, p);
    if (!rc && p->cancel && atomic_load(p->cancel))
        rc = nq_err_set(err, NQ_ECANCEL, NULL, "cancelled");
    if (!rc && !isfinite(s.best_cost))
        rc = nq_err_set(err, NQ_EINVAL, "/demand",
                        "no commitment found that meets demand, reserve and min up/down");
    if (!rc)
        rc = nq_uc_evaluate(p, s.best, out, err);
    if (!rc) {
        snprintf(out->method, sizeof out->method, "%s",
                 nq__uc_engine_fits(p) ? "engine (cqm) + exact dispatch"
                                       : "merit order + exact local search (over engine limits)");
        out->iterations = s.x.evals;
    }
    ctx_free(&s);
    return rc;
}
