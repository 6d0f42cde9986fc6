/* goliath.h - the Goliath Trade unit: a portfolio request (JSON) in, an
 * answer with weights, performance, frontier, allocation, orders, risk and
 * an explanation out; and a risk assessment of given weights.
 *
 *   nq_goliath_parse(doc, &req, &err)            JSON -> req (checks every field)
 *   nq_goliath_run(&req, cancel, &answer, &err)  models -> optimize -> answer
 *   nq_goliath_risk_parse / nq_goliath_risk_run  the risk assessment
 *
 * The documents are described in docs/api/portfolio.md; the numbers come
 * from portfolio.h. Pure: no I/O, no global state; a parsed request is only
 * read by run, so one request can be run from several threads. Errors name
 * the request field with a JSON pointer ("/prices_csv", "/target_return",
 * "/weight_bounds/AAPL"). */
#ifndef NQBA_GOLIATH_H
#define NQBA_GOLIATH_H

#include <jansson.h>
#include <stdatomic.h>
#include <stdint.h>

#include "nqba/err.h"
#include "nqba/portfolio.h"

#define NQ_GOLIATH_CSV_MAX (64u * 1024 * 1024) /* bytes of prices_csv */

/* The assets and what is known of them: prices (t > 0), or expected
 * returns and a covariance given directly. */
typedef struct nq_goliath_universe {
    int32_t n;
    char (*names)[NQ_PF_NAME_MAX];
    nq_prices prices; /* t == 0 when mu and S were given */
    double *mu, *S;   /* given (n, n x n), else NULL */
    nq_mu_opts mu_opts;
    nq_cov_opts cov_opts;
} nq_goliath_universe;

typedef struct nq_goliath_req {
    nq_goliath_universe u;
    nq_pf_spec spec; /* objective and scalars; run fills its data pointers */
    double *lb, *ub; /* n, or NULL */
    int32_t n_sectors;
    char (*sector_names)[NQ_PF_NAME_MAX];
    int32_t *sector;                /* n, or NULL */
    double *sector_min, *sector_max; /* n_sectors, NAN: no bound */
    int64_t *holdings;              /* n shares, or NULL */
    double *latest;                 /* n prices, or NULL (then the last known) */
    double budget;                  /* 0: no allocation */
    int32_t frontier_points;        /* 0: none */
} nq_goliath_req;

void nq_goliath_req_free(nq_goliath_req *req); /* NULL-safe */
int nq_goliath_parse(const json_t *doc, nq_goliath_req *req, nq_err *err);
int nq_goliath_run(const nq_goliath_req *req, const atomic_int *cancel, json_t **answer,
                   nq_err *err);

typedef struct nq_goliath_risk_req {
    nq_goliath_universe u; /* prices required */
    double *w;             /* n weights (default: equal) */
    nq_prices bench;       /* t == 0 when no benchmark */
    nq_pf_risk_opts opts;
} nq_goliath_risk_req;

void nq_goliath_risk_req_free(nq_goliath_risk_req *req);
int nq_goliath_risk_parse(const json_t *doc, nq_goliath_risk_req *req, nq_err *err);
int nq_goliath_risk_run(const nq_goliath_risk_req *req, json_t **answer, nq_err *err);

#endif
