/* goliath_json.h - what the Goliath request parsers and runners share. */
#ifndef NQBA_GOLIATH_JSON_H
#define NQBA_GOLIATH_JSON_H

#include <jansson.h>

#include "nqba/goliath.h"

/* The universe from doc's members prices_csv | prices | assets +
 * expected_returns + cov_matrix, plus returns_model, risk_model and
 * frequency. need_prices: the other form is an error. */
int nq__gl_universe(const json_t *doc, int need_prices, nq_goliath_universe *u, nq_err *err);
void nq__gl_universe_free(nq_goliath_universe *u);

/* Index of an asset name, or -1. */
int32_t nq__gl_asset(const nq_goliath_universe *u, const char *name);

/* A per-asset number: member key of doc as an array of n numbers or an
 * object {asset: number}; assets left out get dflt. *out NULL (nothing
 * allocated) when the member is absent. lo/hi bound every value. */
int nq__gl_per_asset(const json_t *doc, const char *key, const nq_goliath_universe *u,
                     double dflt, double lo, double hi, double **out, nq_err *err);

/* A price table from {"assets": [...], "dates": [...]?, "rows": [[...], ...]}
 * (null = missing), checked. ptr names the member. */
int nq__gl_price_table(const json_t *v, const char *ptr, nq_prices *out, nq_err *err);

/* The mu and S of the universe (given, or from its prices); *ret and
 * *scen the returns and their complete rows when there are prices (else
 * zeroed). Caller frees mu, S (malloc) and the returns. */
int nq__gl_models(const nq_goliath_universe *u, double **mu, double **S, int *repaired,
                  double *shrinkage, nq_returns *ret, nq_returns *scen, nq_err *err);

/* {asset: value} for n values. */
json_t *nq__gl_named(const nq_goliath_universe *u, const double *v);

/* The risk report as JSON. */
json_t *nq__gl_risk_json(const nq_pf_risk_report *r, double level);

#endif
