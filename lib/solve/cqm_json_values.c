/* cqm_json_values.c - assignments of constrained models as JSON objects.
 *
 *   {"x1": 1, "n": 7, "site": "paris"}
 *
 * A binary is 0/1 (true/false are accepted on input), an integer is a JSON
 * integer within its bounds, a choice is the label of its option. Values
 * read here are only checked against their variable's domain: an assignment
 * that breaks a fix, a veto or a constraint is still an assignment, and
 * nq_cqm_evaluate is what says so. */
#include "nqba/json.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cqm_json.h"

int nq__cqm_err_at(nq_err *err, int rc, const char *ptr)
{
    if (err) {
        char msg[NQ_ERR_MSG_MAX];
        memcpy(msg, err->msg, sizeof msg);
        nq_err_set(err, rc, ptr, "%s", msg);
    }
    return rc;
}

const char *nq__cqm_json_got(const json_t *v)
{
    if (!v)
        return "nothing";
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    case JSON_NULL:
        return "null";
    }
    return "an unknown value";
}

int nq__cqm_json_string(const json_t *v, const char *ptr, size_t max_len, const char **out,
                        nq_err *err)
{
    if (!json_is_string(v))
        return nq_err_set(err, NQ_EINVAL, ptr, "expected a string, got %s", nq__cqm_json_got(v));
    size_t len = json_string_length(v);
    if (len == 0)
        return nq_err_set(err, NQ_EINVAL, ptr, "must not be empty");
    if (len > max_len)
        return nq_err_set(err, NQ_ELIMIT, ptr, "string is %zu bytes, more than the limit of %zu",
                          len, max_len);
    /* Callers get a C string; an embedded NUL would silently shorten it. */
    if (strlen(json_string_value(v)) != len)
        return nq_err_set(err, NQ_EINVAL, ptr, "string contains a NUL character");
    *out = json_string_value(v);
    return NQ_OK;
}

int32_t nq__cqm_label_index(const nq_cqm_var *var, const char *label)
{
    if (var->kind != NQ_CQM_CHOICE)
        return -1;
    for (int32_t k = 0; k < var->n_options; k++)
        if (strcmp(var->labels[k], label) == 0)
            return k;
    return -1;
}

/* An integral real (3.0) counts as an integer: JSON does not tell the two
 * apart and some writers always emit a fraction. 0 ok, -1 not an integer,
 * -2 an integer too large for int64_t. */
static int json_int(const json_t *v, int64_t *out)
{
    if (json_is_integer(v)) {
        *out = (int64_t)json_integer_value(v);
        return 0;
    }
    if (!json_is_real(v))
        return -1;
    double d = json_real_value(v);
    if (!isfinite(d) || d != floor(d))
        return -1;
    /* 2^63 is exact in a double; anything at or past it would overflow. */
    if (d < -9223372036854775808.0 || d >= 9223372036854775808.0)
        return -2;
    *out = (int64_t)d;
    return 0;
}

static int binary_value(const json_t *v, const char *ptr, int64_t *out, nq_err *err)
{
    if (json_is_boolean(v)) {
        *out = json_is_true(v) ? 1 : 0;
        return NQ_OK;
    }
    if (!json_is_number(v))
        return nq_err_set(err, NQ_EINVAL, ptr, "expected 0, 1, false or true, got %s",
                          nq__cqm_json_got(v));
    int64_t x = 0;
    if (json_int(v, &x) != 0 || (x != 0 && x != 1))
        return nq_err_set(err, NQ_ERANGE, ptr, "a binary value must be 0 or 1");
    *out = x;
    return NQ_OK;
}

static int integer_value(const nq_cqm_var *var, const json_t *v, const char *ptr, int64_t *out,
                         nq_err *err)
{
    int64_t x = 0;
    int rc = json_int(v, &x);
    if (rc == -1)
        return nq_err_set(err, NQ_EINVAL, ptr, "expected an integer, got %s",
                          json_is_number(v) ? "a fraction" : nq__cqm_json_got(v));
    if (rc == -2 || x < var->lb || x > var->ub)
        return nq_err_set(err, NQ_ERANGE, ptr,
                          "must be between %" PRId64 " and %" PRId64 " (the bounds of '%s')",
                          var->lb, var->ub, var->name);
    *out = x;
    return NQ_OK;
}

static int choice_value(const nq_cqm_var *var, const json_t *v, const char *ptr, int64_t *out,
                        nq_err *err)
{
    if (!json_is_string(v))
        return nq_err_set(err, NQ_EINVAL, ptr, "expected an option label (string), got %s",
                          nq__cqm_json_got(v));
    const char *label = json_string_value(v);
    int32_t k = strlen(label) == json_string_length(v) ? nq__cqm_label_index(var, label) : -1;
    if (k < 0)
        return nq_err_set(err, NQ_ENOTFOUND, ptr, "choice variable '%s' has no option '%s'",
                          var->name, label);
    *out = k;
    return NQ_OK;
}

int nq__cqm_json_value(const nq_cqm_var *var, const json_t *v, const char *ptr, int64_t *out,
                       nq_err *err)
{
    switch (var->kind) {
    case NQ_CQM_BINARY:
        return binary_value(v, ptr, out, err);
    case NQ_CQM_INTEGER:
        return integer_value(var, v, ptr, out, err);
    case NQ_CQM_CHOICE:
        return choice_value(var, v, ptr, out, err);
    }
    return nq_err_set(err, NQ_EINTERNAL, ptr, "variable '%s' has an unknown kind", var->name);
}

/* One pass over obj; values is written only when write is nonzero, so a
 * first pass can check everything and the caller's array changes only when
 * the whole object is good. */
static int values_pass(const nq_cqm *m, const json_t *obj, const char *ptr, int64_t *values,
                       int write, nq_err *err)
{
    const char *key;
    size_t klen;
    json_t *v;
    json_object_keylen_foreach((json_t *)obj, key, klen, v)
    {
        char where[NQ_JSON_PTR_MAX];
        nq_json_ptr_key(where, ptr, key);
        int32_t i = strlen(key) == klen ? nq_cqm_find_var(m, key) : -1;
        if (i < 0)
            return nq_err_set(err, NQ_ENOTFOUND, where, "unknown variable '%s'", key);
        int64_t x = 0;
        int rc = nq__cqm_json_value(&m->vars[i], v, where, &x, err);
        if (rc)
            return rc;
        if (write)
            values[i] = x;
    }
    return NQ_OK;
}

int nq_cqm_values_from_json(const nq_cqm *m, const json_t *obj, const char *ptr, int64_t *values,
                            nq_err *err)
{
    if (!ptr)
        ptr = "";
    if (!m || !values)
        return nq_err_set(err, NQ_EINVAL, ptr, "no model or no values given");
    if (!json_is_object(obj))
        return nq_err_set(err, NQ_EINVAL, ptr, "expected an object, got %s", nq__cqm_json_got(obj));
    int rc = values_pass(m, obj, ptr, values, 0, err);
    if (!rc)
        rc = values_pass(m, obj, ptr, values, 1, err);
    return rc;
}

static json_t *value_json(const nq_cqm_var *var, int64_t x)
{
    if (var->kind != NQ_CQM_CHOICE)
        return json_integer((json_int_t)x);
    /* Not an option: there is no label to write, and inventing one would
     * read back as a different assignment. */
    if (x < 0 || x >= var->n_options)
        return json_null();
    return json_string(var->labels[x]);
}

json_t *nq_cqm_values_to_json(const nq_cqm *m, const int64_t *values)
{
    if (!m || (!values && m->n_vars > 0))
        return NULL;
    json_t *obj = json_object();
    if (!obj)
        return NULL;
    for (int32_t i = 0; i < m->n_vars; i++) {
        if (json_object_set_new(obj, m->vars[i].name, value_json(&m->vars[i], values[i]))) {
            json_decref(obj);
            return NULL;
        }
    }
    return obj;
}
