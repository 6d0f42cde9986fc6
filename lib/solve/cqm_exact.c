/* cqm_exact.c - exhaustive enumeration of a small constrained model: a
 * mixed-radix counter over the movable variables' allowed values, each
 * step an incremental move, so a state costs about one move. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cqm_exact.h"
#include "nqba/clock.h"

/* Allowed values of v into out (at most cap); returns the count. */
static int64_t domain(const nq_cqm_var *v, int64_t *out, int64_t cap)
{
    int64_t n = 0;
    for (int64_t x = v->lb; x <= v->ub && n < cap; x++)
        if (nq__cqm_allowed(v, x))
            out[n++] = x;
    return n;
}

int64_t nq__cqm_space(const nq_cqm *m, int64_t cap)
{
    int64_t total = 1;
    for (int32_t v = 0; v < m->n_vars; v++) {
        const nq_cqm_var *var = &m->vars[v];
        int64_t span = var->fixed ? 1 : var->ub - var->lb + 1;
        if (span > cap || total > cap / span)
            return cap + 1;
        total *= span;
    }
    return total;
}

typedef struct digit {
    int32_t var;
    int64_t n, pos;
    int64_t *values;
} digit;

static void free_digits(digit *d, int32_t n)
{
    for (int32_t i = 0; d && i < n; i++)
        free(d[i].values);
    free(d);
}

static int make_digits(const nq_cqm *m, digit **out, int32_t *n_out, int *empty)
{
    digit *d = calloc((size_t)m->n_vars + 1, sizeof *d);
    int32_t n = 0;
    *empty = 0;
    if (!d)
        return NQ_ENOMEM;
    for (int32_t v = 0; v < m->n_vars; v++) {
        const nq_cqm_var *var = &m->vars[v];
        int64_t span = var->ub - var->lb + 1;
        int64_t *vals = malloc((size_t)span * sizeof *vals);
        if (!vals) {
            free_digits(d, n);
            return NQ_ENOMEM;
        }
        int64_t k = domain(var, vals, span);
        *empty |= k == 0;
        if (k <= 1) {
            free(vals);
            continue;
        }
        d[n++] = (digit){ .var = v, .n = k, .pos = 0, .values = vals };
    }
    *out = d;
    *n_out = n;
    return 0;
}

/* Keep the state with the fewest violated hard constraints, then the
 * smallest total violation. */
static void least_violated(const nq__cqm_state *st, nq__cqm_search_out *out)
{
    double total = 0;
    for (int32_t c = 0; c < st->ix->n_cons; c++)
        if (st->m->cons[c].hard)
            total += nq__cqm_state_viol(st, c);
    if (st->n_viol < out->least_viol || total < out->least_total) {
        out->least_viol = st->n_viol;
        out->least_total = total;
        memcpy(out->least, st->val, (size_t)st->ix->n_vars * sizeof *st->val);
    }
}

static int stop(const nq__cqm_search_opts *o, nq__cqm_search_out *out)
{
    if (o->cancel && atomic_load(o->cancel))
        out->cancelled = 1;
    else if (o->deadline > 0 && nq_clock_s() >= o->deadline)
        out->timed_out = 1;
    return out->cancelled || out->timed_out;
}

int nq__cqm_exact(const nq__cqm_index *ix, const nq__cqm_search_opts *o, nq__cqm_pool *pool,
                  nq__cqm_search_out *out, int *proven_infeasible)
{
    digit *d;
    int32_t nd;
    int empty;
    out->least_viol = INT32_MAX;
    out->least_total = INFINITY;
    out->iterations = 0;
    *proven_infeasible = 0;
    if (make_digits(ix->m, &d, &nd, &empty))
        return NQ_ENOMEM;
    if (empty) { /* a variable with no allowed value: nothing is feasible */
        free_digits(d, nd);
        *proven_infeasible = 1;
        return 0;
    }
    nq__cqm_state st;
    if (nq__cqm_state_init(&st, ix, o->start)) {
        free_digits(d, nd);
        return NQ_ENOMEM;
    }
    for (int32_t i = 0; i < nd; i++)
        nq__cqm_state_apply(&st, d[i].var, d[i].values[0]);
    for (;;) {
        out->iterations++;
        if (st.n_viol == 0) {
            double score = st.obj + st.soft;
            if (nq__cqm_pool_wants(pool, score))
                nq__cqm_pool_offer(pool, st.hash, score, st.val);
        } else if (pool->n == 0 && st.n_viol <= out->least_viol) {
            least_violated(&st, out);
        }
        int32_t i = 0;
        while (i < nd && ++d[i].pos == d[i].n) {
            d[i].pos = 0;
            nq__cqm_state_apply(&st, d[i].var, d[i].values[0]);
            i++;
        }
        if (i == nd)
            break;
        nq__cqm_state_apply(&st, d[i].var, d[i].values[d[i].pos]);
        if ((out->iterations & 4095) == 0 && stop(o, out))
            break;
    }
    *proven_infeasible = pool->n == 0 && !out->cancelled && !out->timed_out;
    out->time_to_best = nq_clock_s() - o->t0;
    nq__cqm_state_free(&st);
    free_digits(d, nd);
    return 0;
}
