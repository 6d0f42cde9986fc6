/* optimize_internal.h - what the optimization files share: the QP builder
 * for the weight problems, the LP of the largest achievable return and the
 * result helpers. */
#ifndef NQBA_OPTIMIZE_INTERNAL_H
#define NQBA_OPTIMIZE_INTERNAL_H

#include <stdint.h>

#include "goliath_internal.h"
#include "nqba/qp.h"

/* What a built problem optimizes. */
typedef enum pf_kind {
    PF_MINVOL = 0,  /* min w'Sw (costs ignored, turnover limit kept) */
    PF_RETURN = 1,  /* min w'Sw, mu'w - cost * turnover >= target */
    PF_UTILITY = 2, /* min ra/2 w'Sw - mu'w + cost * turnover */
    PF_SHARPE = 3,  /* homogenized: min y'Sy, (mu - rf)'y - cost * turnover(y) = 1 */
    PF_MAXRET = 4   /* LP: max mu'w - cost * turnover */
} pf_kind;

/* A weight problem over the assets with in[i] != 0 (all when in is NULL):
 * variables are their weights (or y = kappa w for PF_SHARPE, with kappa =
 * 1'y), then one turnover variable t_i >= |w_i - w0_i| each when a
 * turnover limit or a cost applies. Excluded assets have weight 0. */
typedef struct pf_prob {
    const nq_pf_spec *s;
    pf_kind kind;
    int32_t k;       /* included assets */
    int32_t *idx;    /* k asset indices */
    int has_t;       /* turnover variables follow the weights */
    double c0;       /* sum of |w0_i| over excluded assets: turnover they always add */
    int32_t ret_row; /* PF_RETURN: the A_in row of the return target */
    nq_qp qp;
    double *P, *q, *A_eq, *b_eq, *A_in, *b_in, *lb, *ub, *x;
    int64_t iters;
} pf_prob;

int nq__pf_build(pf_prob *b, const nq_pf_spec *s, pf_kind kind, const unsigned char *in,
                 double min_weight, double target, nq_err *err);
void nq__pf_prob_free(pf_prob *b);
/* Solve the built QP; full weights (n, excluded 0) into w. NQ_EINVAL with
 * where "/constraints" when infeasible. */
int nq__pf_prob_solve(pf_prob *b, double *w, nq_err *err);
/* Net return mu'w - cost * sum |w - w0| of full weights w. */
double nq__pf_net_return(const nq_pf_spec *s, const double *w);
/* The largest achievable net return under b's constraints (a PF_MAXRET
 * problem) by GLPK's simplex; w (may be NULL) gets its weights. NQ_EINVAL
 * when the constraints are infeasible. */
int nq__pf_max_return(const nq_pf_spec *s, const unsigned char *in, double min_weight, double *rmax,
                      double *w, nq_err *err);

/* The QP objectives (min_volatility, max_sharpe, efficient_return,
 * efficient_risk, max_quadratic_utility) over a subset; full weights into w. */
int nq__pf_solve_weights(const nq_pf_spec *s, const unsigned char *in, double min_weight, double *w,
                         int64_t *iters, nq_err *err);

/* Checks every input of s (NQ_EINVAL with a JSON pointer). */
int nq__pf_check(const nq_pf_spec *s, nq_err *err);
/* Fill out's figures from weights w (zeroing |w| < 1e-12, renormalizing
 * when the sum is off 1 by more than 1e-12); out->w must hold s->n. */
int nq__pf_fill(const nq_pf_spec *s, nq_pf_result *out, nq_err *err);

/* min_cvar (cvar.c) and risk parity (riskparity.c) weights into out->w;
 * out->cvar / out->iterations set. */
int nq__pf_min_cvar(const nq_pf_spec *s, nq_pf_result *out, nq_err *err);
int nq__pf_risk_parity(const nq_pf_spec *s, nq_pf_result *out, nq_err *err);

#endif
