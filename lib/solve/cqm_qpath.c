/* cqm_qpath.c - the QUBO path: compile the constrained model with tuned
 * penalties, anneal it with an engine solver, decode, and repair/polish
 * the decoded answer with a short native search. Penalties start where a
 * unit of violation outweighs the largest objective gain of any bit it
 * involves, and grow on the constraints the decoded answer violates. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cqm_internal.h"
#include "cqm_qubo.h"
#include "cqm_search.h"
#include "nqba/clock.h"

/* Largest objective change of each bit: |linear| + sum |couplings|. */
static double *bit_gains(const nq_model *q0)
{
    double *g = calloc((size_t)q0->n + 1, sizeof *g);
    if (!g)
        return NULL;
    for (int32_t i = 0; i < q0->n; i++) {
        g[i] = fabs(q0->linear[i]);
        if (q0->dense)
            for (int32_t j = 0; j < q0->n; j++)
                g[i] += fabs(q0->dense[(size_t)i * (size_t)q0->n + (size_t)j]);
        else
            for (int64_t k = q0->row[i]; k < q0->row[i + 1]; k++)
                g[i] += fabs(q0->w[k]);
    }
    return g;
}

static void initial_penalties(const nq_cqm *m, const nq__cqm_qubo *map, const double *gain,
                              double *lam, double *onehot)
{
    double gmax = 0;
    for (int32_t i = 0; i < map->n_bits; i++)
        gmax = gain[i] > gmax ? gain[i] : gmax;
    *onehot = 1.5 * gmax + 1;
    for (int32_t c = 0; c < m->n_cons; c++) {
        const nq_cqm_con *con = &m->cons[c];
        lam[c] = 0;
        for (int32_t i = 0; con->hard && i < con->e.n_lin; i++) {
            int32_t a = con->e.lin[i].atom;
            for (int32_t k = 0; k < map->atom_n[a]; k++) {
                double e = con->e.lin[i].w * nq__cqm_qubo_coef(m, a, k);
                double r = gain[map->atom_first[a] + k] / (e * e);
                lam[c] = r > lam[c] ? r : lam[c];
            }
        }
        if (!con->hard)
            lam[c] = con->weight;
        else if (!(lam[c] > 0))
            lam[c] = 1;
        else
            lam[c] *= 1.5;
    }
}

static int compile(const nq_cqm *m, const double *lam, double onehot, nq__cqm_qubo *map,
                   nq_model *q, nq_err *err)
{
    nq_model_free(q);
    return nq__cqm_qubo_build(m, lam, onehot, map, q, err);
}

/* Penalties of the constraints the decoded answer violates grow 4x; the
 * one-hot penalty grows when a decoded choice had zero or several bits. */
static int grow_penalties(const nq_cqm *m, const nq__cqm_qubo *map, const int8_t *bits,
                          const nq_cqm_eval *ev, double *lam, double *onehot)
{
    int grew = 0;
    for (int32_t c = 0; c < m->n_cons; c++)
        if (m->cons[c].hard && ev->violation[c] > 0) {
            lam[c] *= 4;
            grew = 1;
        }
    for (int32_t v = 0; v < m->n_vars; v++) {
        const nq_cqm_var *var = &m->vars[v];
        if (var->kind != NQ_CQM_CHOICE || var->fixed)
            continue;
        int set = 0;
        for (int32_t k = 0; k < var->n_options; k++)
            set += map->atom_n[var->atom + k] && bits[map->atom_first[var->atom + k]];
        if (set != 1) {
            *onehot *= 2;
            grew = 1;
            break;
        }
    }
    return grew;
}

typedef struct qrun {
    const nq_cqm *m;
    const nq__cqm_index *ix;
    const nq_cqm_opts *o;
    const nq__cqm_search_opts *so;
    nq__cqm_pool *pool;
    nq__cqm_search_out *sout;
    int64_t *values;
    int64_t *least; /* the polish run's own least-violated state */
} qrun;

/* One annealing round on the compiled model; the decoded answer is
 * polished by a short native search that also fills the pool. */
static int round_once(qrun *r, const nq_model *q, const nq__cqm_qubo *map, double limit,
                      int64_t round, nq_result *res, nq_err *err)
{
    nq_solve_opts so;
    nq_solve_opts_default(&so);
    so.solver = r->o->solver && strcmp(r->o->solver, "auto") != 0 ? r->o->solver : "sa";
    so.seed = r->o->seed + (uint64_t)round * 0x9e3779b97f4a7c15ULL;
    so.time_limit = limit;
    so.cancel_flag = r->o->cancel_flag;
    int rc = nq_solve(q, &so, NULL, NULL, res, err);
    if (rc)
        return rc;
    nq__cqm_qubo_decode(r->m, map, res->state, r->values);
    nq__cqm_search_opts po = *r->so;
    po.start = r->values;
    po.seed = so.seed;
    po.stall_restarts = 1;
    po.max_iter = 2000 + 20 * (int64_t)r->m->n_vars;
    nq__cqm_search_out pout = { .least = r->least };
    rc = nq__cqm_search(r->ix, &po, r->pool, &pout);
    r->sout->iterations += pout.iterations;
    if (!rc && (pout.least_viol < r->sout->least_viol ||
                (pout.least_viol == r->sout->least_viol &&
                 pout.least_total < r->sout->least_total))) {
        r->sout->least_viol = pout.least_viol;
        r->sout->least_total = pout.least_total;
        memcpy(r->sout->least, r->least, (size_t)r->m->n_vars * sizeof *r->least);
    }
    return rc;
}

int nq__cqm_qpath(const nq_cqm *m, const nq__cqm_index *ix, const nq_cqm_opts *o,
                  const nq__cqm_search_opts *so, double budget, nq__cqm_pool *pool,
                  nq__cqm_search_out *sout, int32_t *rounds, int32_t *qubo_vars, nq_err *err)
{
    nq__cqm_qubo map = { 0 };
    nq_model q = { 0 };
    nq_result res = { 0 };
    nq_cqm_eval ev = { 0 };
    size_t nc = (size_t)m->n_cons + 1;
    double *lam = malloc(nc * sizeof *lam), *gain = NULL, onehot = 0;
    int64_t *values = malloc(((size_t)m->n_vars + 1) * sizeof *values);
    int64_t *least = malloc(((size_t)m->n_vars + 1) * sizeof *least);
    double zero_onehot = 0;
    int rc = !lam || !values || !least ? nq_err_set(err, NQ_ENOMEM, NULL, "out of memory") : 0;
    for (size_t c = 0; !rc && c < nc; c++)
        lam[c] = 0;
    if (!rc)
        rc = compile(m, lam, zero_onehot, &map, &q, err);
    if (!rc && !(gain = bit_gains(&q)))
        rc = nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    if (!rc)
        initial_penalties(m, &map, gain, lam, &onehot);
    qrun r = { .m = m, .ix = ix, .o = o, .so = so, .pool = pool, .sout = sout,
               .values = values, .least = least };
    double end = nq_clock_s() + budget;
    for (int32_t round = 0; !rc && round < 4; round++) {
        double left = end - nq_clock_s();
        if (left <= 0.002 || (o->cancel_flag && atomic_load(o->cancel_flag)))
            break;
        rc = compile(m, lam, onehot, &map, &q, err);
        *qubo_vars = q.n;
        nq_result_free(&res);
        if (!rc)
            rc = round_once(&r, &q, &map, left / (double)(4 - round), round, &res, err);
        *rounds = round + 1;
        nq_cqm_eval_free(&ev);
        if (rc || (rc = nq_cqm_evaluate(m, values, &ev, err)))
            break;
        if (ev.feasible || !grow_penalties(m, &map, res.state, &ev, lam, &onehot))
            break;
    }
    nq_cqm_eval_free(&ev);
    nq_result_free(&res);
    nq_model_free(&q);
    nq__cqm_qubo_free(&map);
    free(gain);
    free(lam);
    free(values);
    free(least);
    return rc;
}
