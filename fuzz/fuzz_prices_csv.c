/* fuzz_prices_csv.c - libFuzzer target for nq_prices_parse_csv and what
 * follows it on a table the check accepts: returns, expected returns and
 * the sample covariance. Any input must either fail with a code and a
 * message ("line N: ..." from the reader, located at "fuzz"), or give
 * finite expected returns and a finite symmetric covariance. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nqba/portfolio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void bad(const char *what, const nq_err *err)
{
    fprintf(stderr, "bad: %s: %s %s\n", what, err->where, err->msg);
    abort();
}

static void after_parse(const nq_prices *p)
{
    nq_err err = { 0 };
    if (nq_prices_check(p, "fuzz", &err)) {
        if (!err.msg[0])
            bad("check failed without a message", &err);
        return;
    }
    nq_returns r;
    if (nq_returns_from_prices(p, &r, &err)) {
        if (!err.msg[0])
            bad("returns failed without a message", &err);
        return;
    }
    double *mu = malloc((size_t)r.n * sizeof *mu);
    double *S = malloc((size_t)r.n * (size_t)r.n * sizeof *S);
    if (!mu || !S)
        abort();
    if (nq_expected_returns(&r, NULL, mu, &err) == NQ_OK) {
        for (int32_t i = 0; i < r.n; i++)
            if (!isfinite(mu[i]))
                bad("mu is not finite", &err);
    } else if (!err.msg[0]) {
        bad("mu failed without a message", &err);
    }
    int repaired = 0;
    if (nq_risk_matrix(&r, NULL, S, &repaired, NULL, &err) == NQ_OK) {
        for (int32_t i = 0; i < r.n; i++)
            for (int32_t j = 0; j < r.n; j++)
                if (!isfinite(S[(size_t)i * r.n + j]) ||
                    S[(size_t)i * r.n + j] != S[(size_t)j * r.n + i])
                    bad("S is not finite and symmetric", &err);
    } else if (!err.msg[0]) {
        bad("risk matrix failed without a message", &err);
    }
    free(mu);
    free(S);
    nq_returns_free(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* A private copy of exactly `size` bytes, so that a read past the end
     * is caught by the address sanitizer. */
    char *text = malloc(size ? size : 1);
    if (!text)
        return 0;
    if (size)
        memcpy(text, data, size);
    nq_prices p;
    nq_err err = { 0 };
    int rc = nq_prices_parse_csv(text, size, "fuzz", &p, &err);
    free(text);
    if (rc) {
        if (rc >= 0 || strcmp(err.where, "fuzz") != 0 || strncmp(err.msg, "line ", 5) != 0 ||
            p.p || p.names)
            bad("bad failure", &err);
        return 0;
    }
    if (p.n < 1 || p.t < 1 || !p.p)
        bad("empty success", &err);
    after_parse(&p);
    nq_prices_free(&p);
    return 0;
}
