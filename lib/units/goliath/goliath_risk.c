/* goliath_risk.c - the risk assessment of given weights over a price
 * history: the portfolio's per-period returns over the periods where every
 * asset has a price (rebalanced each period), then VaR/CVaR in three
 * definitions, volatility, drawdown, Sharpe, Sortino, and beta against a
 * benchmark matched by date. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "goliath_json.h"
#include "nqba/json.h"

void nq_goliath_risk_req_free(nq_goliath_risk_req *r)
{
    if (!r)
        return;
    nq__gl_universe_free(&r->u);
    free(r->w);
    nq_prices_free(&r->bench);
    memset(r, 0, sizeof *r);
}

static int benchmark(const json_t *doc, nq_goliath_risk_req *r, nq_err *err)
{
    const json_t *csv = json_object_get(doc, "benchmark_csv"), *tab = json_object_get(doc, "benchmark");
    const char *where = csv ? "/benchmark_csv" : "/benchmark";
    int rc;
    if (!csv && !tab)
        return NQ_OK;
    if (csv && tab)
        return nq_err_set(err, NQ_EINVAL, "/benchmark", "give benchmark_csv or benchmark");
    if (csv && !json_is_string(csv))
        return nq_err_set(err, NQ_EINVAL, where, "expected CSV text");
    rc = csv ? nq_prices_parse_csv(json_string_value(csv), json_string_length(csv), where,
                                   &r->bench, err)
             : nq__gl_price_table(tab, where, &r->bench, err);
    if (!rc && r->bench.n != 1)
        rc = nq_err_set(err, NQ_EINVAL, where, "one price column (date, price)");
    if (!rc)
        rc = nq_prices_check(&r->bench, where, err);
    for (int32_t t = 0; !rc && t < r->bench.t; t++)
        if (!r->bench.dates[t][0])
            rc = nq_err_set(err, NQ_EINVAL, where, "every row needs a date to match periods");
    return rc;
}

int nq_goliath_risk_parse(const json_t *doc, nq_goliath_risk_req *r, nq_err *err)
{
    static const char *const keys[] = {"prices_csv",   "prices",        "weights",
                                       "benchmark_csv", "benchmark",    "level",
                                       "risk_free_rate", "mar",          "frequency",
                                       "returns_model", "risk_model",    NULL};
    memset(r, 0, sizeof *r);
    nq_pf_risk_opts_default(&r->opts);
    if (!json_is_object(doc))
        return nq_err_set(err, NQ_EINVAL, "", "expected an object, got %s",
                          nq_json_type_name(doc));
    int rc = nq_json_check_keys(doc, "", keys, err);
    if (!rc)
        rc = nq__gl_universe(doc, 1, &r->u, err);
    if (!rc)
        rc = nq__gl_per_asset(doc, "weights", &r->u, 0, -1, 1, &r->w, err);
    if (!rc && !r->w) {
        if (!(r->w = malloc((size_t)r->u.n * sizeof *r->w)))
            rc = nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
        for (int32_t i = 0; !rc && i < r->u.n; i++)
            r->w[i] = 1.0 / r->u.n;
    }
    double sum = 0;
    for (int32_t i = 0; !rc && i < r->u.n; i++)
        sum += r->w[i];
    if (!rc && fabs(sum - 1) > 1e-6)
        rc = nq_err_set(err, NQ_EINVAL, "/weights", "weights sum to %.6g, not 1", sum);
    if (!rc)
        rc = nq_json_get_number(doc, "", "level", 0, &r->opts.level, err);
    if (!rc)
        rc = nq_json_get_number(doc, "", "risk_free_rate", 0, &r->opts.rf, err);
    if (!rc)
        rc = nq_json_get_number(doc, "", "mar", 0, &r->opts.mar, err);
    if (!rc && !(r->opts.level > 0 && r->opts.level < 1))
        rc = nq_err_set(err, NQ_EINVAL, "/level", "a confidence level in (0, 1)");
    if (!rc && fabs(r->opts.rf) > 1)
        rc = nq_err_set(err, NQ_EINVAL, "/risk_free_rate", "an annual rate within [-1, 1]");
    if (!rc && fabs(r->opts.mar) >= 1)
        rc = nq_err_set(err, NQ_EINVAL, "/mar", "a return per period within (-1, 1)");
    r->opts.frequency = r->u.mu_opts.frequency;
    if (!rc)
        rc = benchmark(doc, r, err);
    if (rc)
        nq_goliath_risk_req_free(r);
    return rc;
}

/* ---- run -------------------------------------------------------------------------------- */

typedef struct dated {
    const char *date;
    double r;
} dated;

static int by_date(const void *a, const void *b)
{
    return strcmp(((const dated *)a)->date, ((const dated *)b)->date);
}

/* bench_r[k]: the benchmark's return on the date of the portfolio's period
 * k; periods without one are dropped from both (kept counts those left). */
static int align(const nq_goliath_risk_req *r, const nq_returns *scen, double *pr,
                 double *bench_r, int32_t *kept, nq_err *err)
{
    nq_returns b;
    int rc = nq_returns_from_prices(&r->bench, &b, err);
    if (rc)
        return rc;
    dated *d = malloc((size_t)(b.t ? b.t : 1) * sizeof *d);
    if (!d) {
        nq_returns_free(&b);
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    }
    int32_t nd = 0;
    for (int32_t t = 0; t < b.t; t++)
        if (!isnan(b.r[t]))
            d[nd++] = (dated){b.dates[t], b.r[t]};
    qsort(d, (size_t)nd, sizeof *d, by_date);
    int32_t k = 0;
    for (int32_t t = 0; t < scen->t; t++) {
        dated key = {scen->dates[t], 0};
        const dated *hit = nd ? bsearch(&key, d, (size_t)nd, sizeof *d, by_date) : NULL;
        if (hit) {
            pr[k] = pr[t];
            bench_r[k++] = hit->r;
        }
    }
    *kept = k;
    free(d);
    nq_returns_free(&b);
    return NQ_OK;
}

static json_t *risk_answer(const nq_goliath_risk_req *r, const nq_pf_risk_report *rep,
                           int32_t periods, const nq_returns *scen)
{
    json_t *risk = nq__gl_risk_json(rep, r->opts.level), *expl = json_array();
    char line[320];
    snprintf(line, sizeof line,
             "Over %d periods (%s to %s, every asset priced), rebalanced each period: historical "
             "VaR %.2f%% and CVaR %.2f%% per period at %.0f%%.",
             (int)periods, scen->dates[0], scen->dates[scen->t - 1], 100 * rep->var_hist,
             100 * rep->cvar_hist, 100 * r->opts.level);
    json_array_append_new(expl, json_string(line));
    snprintf(line, sizeof line,
             "Annual return %.2f%%, volatility %.2f%%, Sharpe %.3f, Sortino %.3f; the largest "
             "fall from a peak was %.1f%%.",
             100 * rep->annual_return, 100 * rep->annual_volatility, rep->sharpe, rep->sortino,
             100 * rep->max_drawdown);
    json_array_append_new(expl, json_string(line));
    if (rep->has_beta) {
        snprintf(line, sizeof line, "Beta %.3f against the benchmark over the common dates.",
                 rep->beta);
        json_array_append_new(expl, json_string(line));
    }
    return json_pack("{s:o, s:o, s:o}", "weights", nq__gl_named(&r->u, r->w), "risk", risk,
                     "explanation", expl);
}

int nq_goliath_risk_run(const nq_goliath_risk_req *r, json_t **answer, nq_err *err)
{
    nq_returns ret, scen;
    memset(&scen, 0, sizeof scen);
    *answer = NULL;
    int rc = nq_returns_from_prices(&r->u.prices, &ret, err);
    if (!rc)
        rc = nq_returns_complete(&ret, &scen, err);
    double *pr = NULL, *br = NULL;
    int32_t t = scen.t;
    if (!rc && t < 2)
        rc = nq_err_set(err, NQ_EINVAL, "/prices_csv",
                        "fewer than 2 periods where every asset has a price");
    if (!rc && (!(pr = malloc((size_t)t * sizeof *pr)) || !(br = malloc((size_t)t * sizeof *br))))
        rc = nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    for (int32_t k = 0; !rc && k < t; k++) {
        double s = 0;
        for (int32_t i = 0; i < scen.n; i++)
            s += r->w[i] * scen.r[(size_t)k * scen.n + i];
        pr[k] = s;
    }
    if (!rc && r->bench.t && !(rc = align(r, &scen, pr, br, &t, err)) && t < 2)
        rc = nq_err_set(err, NQ_EINVAL, "/benchmark_csv",
                        "fewer than 2 periods share a date with the prices");
    nq_pf_risk_report rep;
    if (!rc)
        rc = nq_pf_risk(pr, t, r->bench.t ? br : NULL, &r->opts, &rep, err);
    if (!rc && !(*answer = risk_answer(r, &rep, t, &scen)))
        rc = nq_err_set(err, NQ_ENOMEM, NULL, "out of memory building the answer");
    free(pr);
    free(br);
    nq_returns_free(&ret);
    nq_returns_free(&scen);
    return rc;
}
