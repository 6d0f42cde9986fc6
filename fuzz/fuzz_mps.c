/* fuzz_mps.c - libFuzzer target for nq_cqm_read_glpk (MPS free, MPS fixed
 * and CPLEX LP through GLPK). The first byte picks the format. Any input
 * must either build a finished model that evaluates, or fail with a code
 * and a message located as "source:line" or "source". */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nqba/cqm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const formats[] = { "mps", "mps-fixed", "lp" };
    if (size < 1)
        return 0;
    const char *fmt = formats[data[0] % 3];
    nq_cqm m;
    nq_err err = { 0 };
    int rc = nq_cqm_read_glpk((const char *)data + 1, size - 1, "fuzz", fmt, &m, &err);
    if (rc) {
        if (rc >= 0 || !err.msg[0] || strncmp(err.where, "fuzz", 4) != 0) {
            fprintf(stderr, "bad failure: %d %s %s\n", rc, err.where, err.msg);
            abort();
        }
        return 0;
    }
    int64_t *values = calloc((size_t)m.n_vars + 1, sizeof *values);
    if (!values)
        abort();
    for (int32_t i = 0; i < m.n_vars; i++)
        values[i] = m.vars[i].lb;
    nq_cqm_eval ev;
    if (nq_cqm_evaluate(&m, values, &ev, &err))
        abort();
    nq_cqm_eval_free(&ev);
    free(values);
    nq_cqm_free(&m);
    return 0;
}
