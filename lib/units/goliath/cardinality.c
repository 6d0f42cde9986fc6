/* cardinality.c - "hold at most k assets, each at min_weight or more":
 * a mixed-integer problem (PyPortfolioOpt users need a MIP solver for it).
 * Here the annealing engine searches the subsets and the exact QP gives
 * each subset its weights.
 *
 * 1. A constrained model on the engine: integer units q_i in [0, L]
 *    (weights q_i / L), binaries z_i, sum q = L, q_i <= ub_i L z_i,
 *    q_i >= m z_i, sum z <= k, and a quadratic surrogate of the objective
 *    (w'Sw, or delta/2 w'Sw - mu'w for the return-seeking objectives, with
 *    delta read off the continuous optimum). Its best answer and
 *    alternatives are candidate subsets.
 * 2. Each candidate, and the continuous optimum's k largest weights, is
 *    solved exactly (nq__pf_solve_subset).
 * 3. Local search from the best: swap one held asset for one not held,
 *    drop one, add one, each solved exactly, until no move improves.
 *
 * nq_pf_optimize_exhaustive tries every subset instead: the proof used by
 * the tests on small universes. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "goliath_internal.h"
#include "nqba/cqm.h"

#define UNITS 100         /* weight granularity of the surrogate: 1% */
#define ENGINE_ALTS 24    /* alternatives asked of the engine */
#define MAX_PASSES 100    /* local-search passes (each tries every move) */
#define ENGINE_TIME 0.05  /* seconds for the engine when the request gives none */
#define SCORE_EPS 1e-12

/* Smaller is better, whatever the objective. */
static double score_of(const nq_pf_spec *s, const nq_pf_result *r)
{
    switch (s->objective) {
    case NQ_PF_MAX_SHARPE:
        return -r->sharpe;
    case NQ_PF_EFFICIENT_RISK:
        return -r->expected_return;
    case NQ_PF_MAX_QUADRATIC_UTILITY:
        return -(r->expected_return - 0.5 * s->risk_aversion * r->volatility * r->volatility);
    default: /* min_volatility, efficient_return */
        return r->volatility;
    }
}

typedef struct search {
    const nq_pf_spec *s;
    int32_t n, k;
    unsigned char *in, *best_in;
    nq_pf_result best;
    double best_score;
    int have_best;
    int64_t tried;
    nq_err last; /* why the last subset failed */
} search;

/* Solve the subset in[]; keep it when it beats the best. 1 improved, 0 not
 * (infeasible or worse), < 0 a hard error. */
static int try_subset(search *x, const unsigned char *in, nq_err *err)
{
    nq_pf_result r;
    memset(&r, 0, sizeof r);
    x->tried++;
    int rc = nq__pf_solve_subset(x->s, in, x->s->min_weight, &r, &x->last);
    if (rc == NQ_EINVAL || rc == NQ_ERANGE)
        return 0;
    if (rc)
        return nq_err_set(err, rc, x->last.where, "%s", x->last.msg);
    double sc = score_of(x->s, &r);
    if (x->have_best && !(sc < x->best_score - SCORE_EPS * fmax(1.0, fabs(x->best_score)))) {
        nq_pf_result_free(&r);
        return 0;
    }
    nq_pf_result_free(&x->best);
    x->best = r;
    x->best_score = sc;
    x->have_best = 1;
    memcpy(x->best_in, in, (size_t)x->n);
    return 1;
}

static int32_t count_in(const unsigned char *in, int32_t n)
{
    int32_t c = 0;
    for (int32_t i = 0; i < n; i++)
        c += in[i] != 0;
    return c;
}

/* ---- step 1: the engine's candidates ------------------------------------------------ */

static int surrogate_delta(const nq_pf_spec *s, double *delta, nq_err *err)
{
    *delta = s->risk_aversion;
    if (s->objective != NQ_PF_MAX_SHARPE && s->objective != NQ_PF_EFFICIENT_RISK)
        return NQ_OK;
    nq_pf_spec c = *s;
    c.max_assets = 0;
    c.min_weight = 0;
    nq_pf_result r;
    int rc = nq_pf_optimize(&c, &r, err);
    if (rc)
        return rc;
    double var = r.volatility * r.volatility, excess = r.expected_return - s->rf;
    *delta = var > 0 && excess > 0 ? excess / var : 1.0;
    nq_pf_result_free(&r);
    return NQ_OK;
}

static int build_model(const nq_pf_spec *s, int32_t k, double delta, nq_cqm *m, nq_err *err)
{
    int32_t n = s->n;
    int return_seeking = s->objective == NQ_PF_MAX_SHARPE ||
                         s->objective == NQ_PF_EFFICIENT_RISK ||
                         s->objective == NQ_PF_MAX_QUADRATIC_UTILITY;
    int64_t lo = (int64_t)ceil(s->min_weight * UNITS - 1e-9);
    char name[32];
    int rc = NQ_OK;
    nq_cqm_init(m);
    for (int32_t i = 0; !rc && i < n; i++) {
        int64_t ub = s->ub ? (int64_t)floor(s->ub[i] * UNITS + 1e-9) : UNITS;
        snprintf(name, sizeof name, "q%d", (int)i);
        if (nq_cqm_add_integer(m, name, 0, ub < 0 ? 0 : ub, err) < 0)
            rc = err->code;
        snprintf(name, sizeof name, "z%d", (int)i);
        if (!rc && nq_cqm_add_binary(m, name, err) < 0)
            rc = err->code;
    }
    /* atoms: q_i = 2i, z_i = 2i + 1 */
    double scale = return_seeking ? 0.5 * delta : 1.0;
    for (int32_t i = 0; !rc && i < n; i++)
        for (int32_t j = i; !rc && j < n; j++) {
            double v = s->S[(size_t)i * n + j] * (i == j ? 1.0 : 2.0) * scale / (UNITS * UNITS);
            if (v != 0)
                rc = nq_cqm_obj_quadratic(m, 0, 2 * i, 2 * j, v, err);
        }
    for (int32_t i = 0; !rc && return_seeking && i < n; i++)
        rc = nq_cqm_obj_linear(m, 0, 2 * i, -s->mu[i] / UNITS, err);
    int c = rc ? -1 : nq_cqm_add_constraint(m, "budget", NQ_CQM_EQ, UNITS, 1, -1, err);
    int card = c < 0 ? -1 : nq_cqm_add_constraint(m, "cardinality", NQ_CQM_LE, k, 1, -1, err);
    if (card < 0)
        return err->code ? err->code : NQ_EINTERNAL;
    for (int32_t i = 0; !rc && i < n; i++) {
        rc = nq_cqm_con_linear(m, c, 2 * i, 1, err);
        if (!rc)
            rc = nq_cqm_con_linear(m, card, 2 * i + 1, 1, err);
        snprintf(name, sizeof name, "link%d", (int)i);
        int up = rc ? -1 : nq_cqm_add_constraint(m, name, NQ_CQM_LE, 0, 1, -1, err);
        if (up < 0)
            return err->code;
        rc = nq_cqm_con_linear(m, up, 2 * i, 1, err);
        if (!rc)
            rc = nq_cqm_con_linear(m, up, 2 * i + 1, -UNITS, err);
        snprintf(name, sizeof name, "min%d", (int)i);
        int dn = rc ? -1 : nq_cqm_add_constraint(m, name, NQ_CQM_GE, 0, 1, -1, err);
        if (dn < 0)
            return err->code;
        rc = nq_cqm_con_linear(m, dn, 2 * i, 1, err);
        if (!rc)
            rc = nq_cqm_con_linear(m, dn, 2 * i + 1, -(double)(lo > 1 ? lo : 1), err);
    }
    if (!rc && s->objective == NQ_PF_EFFICIENT_RETURN) {
        int t = nq_cqm_add_constraint(m, "target", NQ_CQM_GE, s->target_return * UNITS, 1, -1, err);
        for (int32_t i = 0; t >= 0 && !rc && i < n; i++)
            rc = nq_cqm_con_linear(m, t, 2 * i, s->mu[i], err);
        if (t < 0)
            rc = err->code;
    }
    return rc;
}

static void support_of(const int64_t *values, int32_t n, unsigned char *in)
{
    for (int32_t i = 0; i < n; i++)
        in[i] = values[2 * i] > 0;
}

static int engine_candidates(search *x, nq_err *err)
{
    const nq_pf_spec *s = x->s;
    double delta = 1;
    int rc = surrogate_delta(s, &delta, err);
    nq_cqm m;
    if (!rc)
        rc = build_model(s, x->k, delta, &m, err);
    nq_cqm_opts o;
    nq_cqm_opts_default(&o);
    o.solver = "native";
    o.seed = s->seed;
    o.time_limit = s->time_limit > 0 ? s->time_limit : ENGINE_TIME;
    o.alternatives = ENGINE_ALTS;
    o.cancel_flag = s->cancel;
    nq_cqm_result res;
    memset(&res, 0, sizeof res);
    if (!rc)
        rc = nq_cqm_solve(&m, &o, NULL, NULL, &res, err);
    unsigned char *in = malloc((size_t)x->n);
    if (!rc && !in)
        rc = nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    if (!rc && res.best.feasible) {
        support_of(res.best.values, x->n, in);
        rc = try_subset(x, in, err) < 0 ? err->code : NQ_OK;
    }
    for (int32_t a = 0; !rc && a < res.n_alts; a++) {
        support_of(res.alts[a].values, x->n, in);
        rc = try_subset(x, in, err) < 0 ? err->code : NQ_OK;
    }
    free(in);
    nq_cqm_result_free(&res);
    nq_cqm_free(&m);
    return rc;
}

/* The continuous optimum's k largest weights: a start the engine may miss. */
static int continuous_candidate(search *x, nq_err *err)
{
    nq_pf_spec c = *x->s;
    c.max_assets = 0;
    c.min_weight = 0;
    nq_pf_result r;
    nq_err e2;
    if (nq_pf_optimize(&c, &r, &e2) != NQ_OK)
        return NQ_OK; /* only a hint */
    unsigned char *in = calloc((size_t)x->n, 1);
    if (!in) {
        nq_pf_result_free(&r);
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    }
    for (int32_t t = 0; t < x->k; t++) {
        int32_t arg = -1;
        for (int32_t i = 0; i < x->n; i++)
            if (!in[i] && r.w[i] > 0 && (arg < 0 || r.w[i] > r.w[arg]))
                arg = i;
        if (arg >= 0)
            in[arg] = 1;
    }
    int rc = count_in(in, x->n) && try_subset(x, in, err) < 0 ? err->code : NQ_OK;
    free(in);
    nq_pf_result_free(&r);
    return rc;
}

/* ---- step 3: local search ------------------------------------------------------------- */

/* One pass of moves from the best subset; 1 when one improved it. */
static int improve(search *x, unsigned char *in, nq_err *err)
{
    int32_t n = x->n, held = count_in(x->best_in, n);
    for (int32_t i = 0; i < n; i++) {
        for (int32_t j = -1; j < n; j++) {
            /* i held: drop it (j < 0) or swap it for j; i not held: add it. */
            if (x->best_in[i] ? (j >= 0 && x->best_in[j]) : (j >= 0 || held >= x->k))
                continue;
            if (x->s->cancel && atomic_load(x->s->cancel))
                return nq_err_set(err, NQ_ECANCEL, NULL, "cancelled");
            memcpy(in, x->best_in, (size_t)n);
            in[i] = !in[i];
            if (j >= 0)
                in[j] = 1;
            if (count_in(in, n) == 0)
                continue;
            int got = try_subset(x, in, err);
            if (got != 0)
                return got;
        }
    }
    return 0;
}

static int local_search(search *x, nq_err *err)
{
    unsigned char *in = malloc((size_t)x->n);
    if (!in)
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    int got = 1;
    for (int pass = 0; got == 1 && pass < MAX_PASSES; pass++)
        got = improve(x, in, err);
    free(in);
    return got < 0 ? err->code : NQ_OK;
}

/* ---- entry points ----------------------------------------------------------------------- */

static int check(const nq_pf_spec *s, int32_t *k, nq_err *err)
{
    if (s->objective > NQ_PF_MAX_QUADRATIC_UTILITY)
        return nq_err_set(err, NQ_EINVAL, "/max_assets",
                          "cardinality applies to min_volatility, max_sharpe, efficient_return, "
                          "efficient_risk and max_quadratic_utility");
    *k = s->max_assets > 0 ? s->max_assets : s->n;
    if (*k > s->n)
        return nq_err_set(err, NQ_EINVAL, "/max_assets", "%d, but there are only %d assets",
                          (int)*k, (int)s->n);
    if (s->min_weight > 1)
        return nq_err_set(err, NQ_EINVAL, "/min_weight", "above 1");
    return NQ_OK;
}

static int finish(search *x, nq_pf_result *out, const char *method, nq_err *err)
{
    if (!x->have_best) {
        nq_err_set(err, NQ_EINVAL, "/max_assets",
                   "no portfolio of at most %d assets meets the constraints (%s)", (int)x->k,
                   x->last.msg[0] ? x->last.msg : "every subset tried is infeasible");
        return NQ_EINVAL;
    }
    *out = x->best;
    out->subsets = x->tried;
    out->iterations = x->tried;
    snprintf(out->method, sizeof out->method, "%s", method);
    return NQ_OK;
}

static int search_init(search *x, const nq_pf_spec *s, int32_t k, nq_err *err)
{
    memset(x, 0, sizeof *x);
    x->s = s;
    x->n = s->n;
    x->k = k;
    x->in = calloc((size_t)s->n, 1);
    x->best_in = calloc((size_t)s->n, 1);
    return x->in && x->best_in ? NQ_OK : nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
}

static void search_free(search *x, int keep_best)
{
    free(x->in);
    free(x->best_in);
    if (!keep_best)
        nq_pf_result_free(&x->best);
}

int nq__pf_cardinality(const nq_pf_spec *s, nq_pf_result *out, nq_err *err)
{
    int32_t k = 0;
    search x;
    memset(out, 0, sizeof *out);
    int rc = check(s, &k, err);
    if (!rc)
        rc = search_init(&x, s, k, err);
    if (rc)
        return rc;
    rc = engine_candidates(&x, err);
    if (!rc)
        rc = continuous_candidate(&x, err);
    if (!rc && x.have_best)
        rc = local_search(&x, err);
    if (!rc)
        rc = finish(&x, out, "engine (cqm) + QP", err);
    search_free(&x, rc == NQ_OK);
    return rc;
}

/* Next k-combination of 0..n-1 in idx (lexicographic); 0 after the last. */
static int next_combination(int32_t *idx, int32_t k, int32_t n)
{
    int32_t i = k - 1;
    while (i >= 0 && idx[i] == n - k + i)
        i--;
    if (i < 0)
        return 0;
    idx[i]++;
    for (int32_t j = i + 1; j < k; j++)
        idx[j] = idx[j - 1] + 1;
    return 1;
}

static double binomial(int32_t n, int32_t k)
{
    double c = 1;
    for (int32_t i = 1; i <= k; i++)
        c = c * (n - k + i) / i;
    return c;
}

int nq_pf_optimize_exhaustive(const nq_pf_spec *s, nq_pf_result *out, nq_err *err)
{
    int32_t k = 0;
    search x;
    memset(out, 0, sizeof *out);
    int rc = check(s, &k, err);
    /* With a minimum weight every held asset is forced in, so smaller
     * subsets are different problems; without one, a k-subset covers all
     * of its own subsets. */
    int32_t from = s->min_weight > 0 ? 1 : k;
    double total = 0;
    for (int32_t size = from; size <= k; size++)
        total += binomial(s->n, size);
    if (!rc && total > NQ_PF_EXHAUSTIVE_MAX)
        rc = nq_err_set(err, NQ_ELIMIT, "/max_assets", "%.0f subsets, over %d", total,
                        NQ_PF_EXHAUSTIVE_MAX);
    if (!rc)
        rc = search_init(&x, s, k, err);
    if (rc)
        return rc;
    int32_t *idx = malloc((size_t)k * sizeof *idx);
    if (!idx)
        rc = nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    for (int32_t size = from; !rc && size <= k; size++) {
        for (int32_t j = 0; j < size; j++)
            idx[j] = j;
        do {
            memset(x.in, 0, (size_t)s->n);
            for (int32_t j = 0; j < size; j++)
                x.in[idx[j]] = 1;
            if (try_subset(&x, x.in, err) < 0)
                rc = err->code;
            else if (s->cancel && atomic_load(s->cancel))
                rc = nq_err_set(err, NQ_ECANCEL, NULL, "cancelled");
        } while (!rc && next_combination(idx, size, s->n));
    }
    free(idx);
    if (!rc)
        rc = finish(&x, out, "exhaustive (every subset, QP each)", err);
    search_free(&x, rc == NQ_OK);
    return rc;
}
