/* io_json.c - reader for JSON models with named variables.
 *
 *   {"type": "qubo" | "ising",            (default "qubo")
 *    "variables": ["a", "b", ...],        (optional: the full set, in order)
 *    "linear": {"a": 1.5, ...},
 *    "quadratic": [["a", "b", -2], ...],
 *    "offset": 0.5}
 *
 * Without "variables", indices follow first appearance: the members of
 * "linear" in document order (jansson keeps insertion order), then the
 * names in "quadratic". Repeated pairs are summed and ["a", "a", w] folds
 * into the linear term (QUBO) or the offset (Ising), as nq_builder does.
 * Every error names the JSON pointer of the offending value. */
#include "nqba/io.h"
#include "nqba/json.h"
#include "nqba/strhash.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io_text.h"

#define NAME_MAX_BYTES 256

/* Variable names -> indices: an open-addressing table over borrowed
 * strings, which stay valid while the parsed document lives. */
typedef struct name_map {
    const char **names; /* index -> name */
    int32_t n, cap;
    int32_t *slots; /* index + 1, or 0 for an empty slot */
    size_t nslots;  /* a power of two, kept at least twice n */
} name_map;

typedef struct json_ctx {
    nq_err *err;
    nq_builder b;
    name_map map;
    int fixed; /* "variables" was given: no new names */
} json_ctx;

static const char *const top_keys[] = {"type", "variables", "linear", "quadratic", "offset", NULL};

/* "a string", "an array", "null": the phrasing of the nq_json getters. */
static const char *got(char out[24], const json_t *v)
{
    const char *t = nq_json_type_name(v);
    const char *article = (!v || json_is_null(v))        ? ""
                          : (t[0] == 'a' || t[0] == 'o') ? "an "
                                                         : "a ";
    snprintf(out, 24, "%s%s", article, t);
    return out;
}

static size_t map_slot(const name_map *m, const char *name)
{
    size_t mask = m->nslots - 1, k = (size_t)nq_str_hash(name) & mask;
    while (m->slots[k] && strcmp(m->names[m->slots[k] - 1], name) != 0)
        k = (k + 1) & mask;
    return k;
}

static int32_t map_find(const name_map *m, const char *name)
{
    if (!m->nslots)
        return -1;
    int32_t s = m->slots[map_slot(m, name)];
    return s ? s - 1 : -1;
}

static int map_rehash(name_map *m, size_t nslots)
{
    int32_t *slots = calloc(nslots, sizeof *slots);
    if (!slots)
        return NQ_ENOMEM;
    free(m->slots);
    m->slots = slots;
    m->nslots = nslots;
    for (int32_t i = 0; i < m->n; i++)
        slots[map_slot(m, m->names[i])] = i + 1;
    return 0;
}

/* Append a name known to be absent; returns its index or a negative code. */
static int32_t map_add(name_map *m, const char *name)
{
    if (m->n == NQ_MODEL_MAX_VARS)
        return NQ_ELIMIT;
    if (m->n == m->cap) {
        int32_t cap = m->cap ? m->cap * 2 : 64;
        const char **names = realloc(m->names, (size_t)cap * sizeof *names);
        if (!names)
            return NQ_ENOMEM;
        m->names = names;
        m->cap = cap;
    }
    if ((size_t)(m->n + 1) * 2 > m->nslots) {
        int rc = map_rehash(m, m->nslots ? m->nslots * 2 : 128);
        if (rc)
            return rc;
    }
    m->names[m->n] = name;
    m->slots[map_slot(m, name)] = m->n + 1;
    return m->n++;
}

static void map_free(name_map *m)
{
    free(m->names);
    free(m->slots);
    memset(m, 0, sizeof *m);
}

static int check_name(json_ctx *c, const char *name, size_t len, const char *ptr)
{
    if (len == 0)
        return nq_err_set(c->err, NQ_EPARSE, ptr, "variable name must not be empty");
    if (len > NAME_MAX_BYTES)
        return nq_err_set(c->err, NQ_ELIMIT, ptr, "variable name longer than %d bytes",
                          NAME_MAX_BYTES);
    if (strlen(name) != len)
        return nq_err_set(c->err, NQ_EPARSE, ptr, "variable name contains a NUL character");
    return 0;
}

/* Index of a name, adding it unless the set is fixed by "variables". */
static int lookup(json_ctx *c, const char *name, size_t len, const char *ptr, int32_t *idx)
{
    int rc = check_name(c, name, len, ptr);
    if (rc)
        return rc;
    *idx = map_find(&c->map, name);
    if (*idx >= 0)
        return 0;
    if (c->fixed)
        return nq_err_set(c->err, NQ_EPARSE, ptr, "variable '%s' is not listed in /variables",
                          name);
    *idx = map_add(&c->map, name);
    if (*idx == NQ_ENOMEM)
        return nq_err_set(c->err, NQ_ENOMEM, ptr, "out of memory");
    if (*idx < 0)
        return nq_err_set(c->err, NQ_ELIMIT, ptr, "more than %d variables", NQ_MODEL_MAX_VARS);
    return 0;
}

/* The builder knows nothing of pointers; say where its error happened. */
static int at_ptr(json_ctx *c, int rc, const char *ptr)
{
    if (c->err) {
        char msg[NQ_ERR_MSG_MAX];
        memcpy(msg, c->err->msg, sizeof msg);
        nq_err_set(c->err, rc, ptr, "%s", msg);
    }
    return rc;
}

static int read_variables(json_ctx *c, const json_t *root)
{
    json_t *vars = NULL, *v;
    size_t k;
    char ptr[NQ_JSON_PTR_MAX], tn[24];
    int rc = nq_json_get_typed(root, "", "variables", 0, JSON_ARRAY, &vars, c->err);
    if (rc || !vars)
        return rc;
    json_array_foreach(vars, k, v)
    {
        nq_json_ptr_index(ptr, "/variables", k);
        if (!json_is_string(v))
            return nq_err_set(c->err, NQ_EPARSE, ptr, "expected a variable name (string), got %s",
                              got(tn, v));
        int32_t idx;
        rc = lookup(c, json_string_value(v), json_string_length(v), ptr, &idx);
        if (rc)
            return rc;
        if (idx != (int32_t)k)
            return nq_err_set(c->err, NQ_EPARSE, ptr, "duplicate variable '%s'",
                              json_string_value(v));
    }
    c->fixed = 1;
    rc = c->map.n ? nq_builder_set_n(&c->b, c->map.n, c->err) : 0;
    return rc ? at_ptr(c, rc, "/variables") : 0;
}

static int read_linear(json_ctx *c, const json_t *root)
{
    json_t *lin = NULL, *v;
    const char *key;
    size_t klen;
    char ptr[NQ_JSON_PTR_MAX];
    int rc = nq_json_get_typed(root, "", "linear", 0, JSON_OBJECT, &lin, c->err);
    if (rc || !lin)
        return rc;
    json_object_keylen_foreach(lin, key, klen, v)
    {
        nq_json_ptr_key(ptr, "/linear", key);
        int32_t i = 0;
        double w = 0;
        rc = lookup(c, key, klen, ptr, &i);
        if (!rc)
            rc = nq_json_as_number(v, ptr, &w, c->err);
        if (rc)
            return rc;
        rc = nq_builder_add_linear(&c->b, i, w, c->err);
        if (rc)
            return at_ptr(c, rc, ptr);
    }
    return 0;
}

static int term_name(json_ctx *c, const json_t *t, const char *tptr, size_t k, int32_t *idx)
{
    char ptr[NQ_JSON_PTR_MAX], tn[24];
    const json_t *v = json_array_get(t, k);
    nq_json_ptr_index(ptr, tptr, k);
    if (!json_is_string(v))
        return nq_err_set(c->err, NQ_EPARSE, ptr, "expected a variable name (string), got %s",
                          got(tn, v));
    return lookup(c, json_string_value(v), json_string_length(v), ptr, idx);
}

static int read_term(json_ctx *c, const json_t *t, const char *tptr)
{
    char ptr[NQ_JSON_PTR_MAX];
    if (!json_is_array(t) || json_array_size(t) != 3)
        return nq_err_set(c->err, NQ_EPARSE, tptr, "expected [a, b, weight]");
    int32_t i = 0, j = 0;
    double w = 0;
    int rc = term_name(c, t, tptr, 0, &i);
    if (!rc)
        rc = term_name(c, t, tptr, 1, &j);
    if (rc)
        return rc;
    nq_json_ptr_index(ptr, tptr, 2);
    rc = nq_json_as_number(json_array_get(t, 2), ptr, &w, c->err);
    if (rc)
        return rc;
    rc = nq_builder_add_quadratic(&c->b, i, j, w, c->err);
    return rc ? at_ptr(c, rc, tptr) : 0;
}

static int read_quadratic(json_ctx *c, const json_t *root)
{
    json_t *quad = NULL, *t;
    size_t k;
    char ptr[NQ_JSON_PTR_MAX];
    int rc = nq_json_get_typed(root, "", "quadratic", 0, JSON_ARRAY, &quad, c->err);
    if (rc || !quad)
        return rc;
    json_array_foreach(quad, k, t)
    {
        nq_json_ptr_index(ptr, "/quadratic", k);
        rc = read_term(c, t, ptr);
        if (rc)
            return rc;
    }
    return 0;
}

static int read_type(json_ctx *c, const json_t *root, nq_vartype *type)
{
    const json_t *v = json_object_get(root, "type");
    const char *s = v ? json_string_value(v) : "qubo"; /* NULL if not a string */
    if (s && strcmp(s, "qubo") == 0)
        *type = NQ_QUBO;
    else if (s && strcmp(s, "ising") == 0)
        *type = NQ_ISING;
    else
        return nq_err_set(c->err, NQ_EPARSE, "/type", "expected \"qubo\" or \"ising\"");
    return 0;
}

static int read_offset(json_ctx *c, const json_t *root)
{
    double k = 0;
    int rc = nq_json_get_number(root, "", "offset", 0, &k, c->err);
    if (rc)
        return rc;
    if (!isfinite(k))
        return nq_err_set(c->err, NQ_ERANGE, "/offset", "expected a finite number");
    nq_builder_add_offset(&c->b, k);
    return 0;
}

static int read_terms(json_ctx *c, const json_t *root)
{
    int rc = read_variables(c, root);
    if (!rc)
        rc = read_linear(c, root);
    if (!rc)
        rc = read_quadratic(c, root);
    if (!rc)
        rc = read_offset(c, root);
    if (!rc && c->map.n == 0)
        rc = nq_err_set(c->err, NQ_EPARSE, "", "model has no variables");
    return rc;
}

/* Repeated terms are summed by the builder; a sum may overflow. */
static int check_finite(const nq_model *m, nq_err *err)
{
    return nq__model_all_finite(m)
               ? 0
               : nq_err_set(err, NQ_ERANGE, "",
                            "summed coefficient of repeated terms is not finite");
}

/* Copy the borrowed names into an array the model will own. */
static int attach_names(nq_model *m, const name_map *map, nq_err *err)
{
    char **names = calloc((size_t)map->n, sizeof *names);
    if (!names)
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    for (int32_t i = 0; i < map->n; i++) {
        names[i] = strdup(map->names[i]);
        if (!names[i]) {
            for (int32_t k = 0; k < i; k++)
                free(names[k]);
            free(names);
            return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
        }
    }
    nq_model_set_names(m, names);
    return 0;
}

static int build(json_ctx *c, const json_t *root, nq_model *out)
{
    nq_vartype type = NQ_QUBO;
    int rc = nq_json_check_keys(root, "", top_keys, c->err);
    if (!rc)
        rc = read_type(c, root, &type);
    if (rc)
        return rc;
    nq_builder_init(&c->b, type);
    rc = read_terms(c, root);
    if (rc) {
        nq_builder_free(&c->b);
        return rc;
    }
    rc = nq_builder_finish(&c->b, out, c->err);
    if (!rc && out->n != c->map.n)
        rc = nq_err_set(c->err, NQ_EINTERNAL, NULL, "model has %d variables, expected %d",
                        (int)out->n, (int)c->map.n);
    if (!rc)
        rc = check_finite(out, c->err);
    if (!rc)
        rc = attach_names(out, &c->map, c->err);
    if (rc)
        nq_model_free(out);
    return rc;
}

int nq_read_json(const char *data, size_t len, const char *source, nq_model *out, nq_err *err)
{
    int rc = nq__reader_args(&data, len, out, err);
    if (rc)
        return rc;
    nq_json_limits lim;
    nq_json_limits_default(&lim);
    json_t *root = NULL;
    rc = nq_json_parse(data, len, source ? source : "-", &lim, &root, err);
    if (rc)
        return rc;
    if (!json_is_object(root)) {
        char tn[24];
        rc = nq_err_set(err, NQ_EPARSE, "", "expected an object, got %s", got(tn, root));
    } else {
        json_ctx c = {.err = err};
        rc = build(&c, root, out);
        map_free(&c.map);
    }
    json_decref(root);
    return rc;
}
