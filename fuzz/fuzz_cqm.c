/* fuzz_cqm.c - libFuzzer target for nq_cqm_from_json.
 *
 * Any input must either build a model or fail with a message and leave the
 * model empty. A model that builds must evaluate on the assignment that
 * puts every variable at its lower bound, and its assignments must survive
 * the round trip through nq_cqm_values_to_json and back. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nqba/cqm.h"
#include "nqba/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void die(const char *what, const nq_err *err)
{
    fprintf(stderr, "%s: %s: %s\n", what, err ? err->where : "", err ? err->msg : "");
    abort();
}

static void check_failure(int rc, const nq_cqm *m, const nq_err *err)
{
    nq_cqm zero;
    memset(&zero, 0, sizeof zero);
    if (rc >= 0 || err->code != rc || !err->msg[0])
        die("failure without a code or a message", err);
    if (memcmp(m, &zero, sizeof zero) != 0)
        die("a failed build left a model behind", err);
}

static void check_model(const nq_cqm *m)
{
    nq_err err;
    int64_t *values = calloc((size_t)m->n_vars + 1, sizeof *values);
    int64_t *back = calloc((size_t)m->n_vars + 1, sizeof *back);
    if (!values || !back)
        abort();
    for (int32_t i = 0; i < m->n_vars; i++)
        values[i] = m->vars[i].lb;
    nq_cqm_eval ev;
    if (nq_cqm_evaluate(m, values, &ev, &err))
        die("evaluate failed", &err);
    nq_cqm_eval_free(&ev);
    json_t *obj = nq_cqm_values_to_json(m, values);
    if (!obj)
        die("values_to_json failed", NULL);
    if (nq_cqm_values_from_json(m, obj, "", back, &err))
        die("values_from_json refused values_to_json", &err);
    if (memcmp(values, back, (size_t)m->n_vars * sizeof *values) != 0)
        die("values changed in the round trip", NULL);
    json_decref(obj);
    free(values);
    free(back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    nq_json_limits lim = {.max_bytes = 1u << 20, .max_depth = 32};
    json_t *root = NULL;
    nq_err err;
    if (nq_json_parse((const char *)data, size, "fuzz", &lim, &root, &err))
        return 0;
    nq_cqm m;
    nq_err_clear(&err);
    int rc = nq_cqm_from_json(root, "", &m, &err);
    if (rc)
        check_failure(rc, &m, &err);
    else
        check_model(&m);
    nq_cqm_free(&m);
    json_decref(root);
    return 0;
}
