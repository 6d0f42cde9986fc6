/* cqm_json.c - constrained models from JSON documents.
 *
 *   {"variables": [{"name": "x", "type": "binary"},
 *                  {"name": "n", "type": "integer", "lb": 0, "ub": 9},
 *                  {"name": "site", "type": "choice", "options": ["a", "b"]}],
 *    "objective": {"sense": "minimize", "offset": 0,
 *                  "linear": {"x": 1, "site=a": 2}, "quadratic": [["x", "n", 3]],
 *                  "groups": [{"name": "cost", "linear": {...}, "quadratic": [...]}]},
 *    "constraints": [{"name": "cap", "linear": {...}, "quadratic": [...],
 *                     "sense": "<=", "rhs": 4, "weight": 2}]}
 *
 * docs/api/decision-model.md is the full description. The builder (cqm_model.c)
 * knows nothing of JSON, so every value is checked here where the pointer of
 * the offending member is known, and the few errors only the builder can
 * find are re-anchored at the member that caused them. Size limits are
 * checked on the parsed document before anything is built, so an oversized
 * request costs a few array lookups and no allocation. */
#include "nqba/cqm.h"
#include "nqba/json.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cqm_internal.h"
#include "cqm_json.h"

/* A decision request carries the model next to members that other readers
 * handle; they are tolerated here, and anything else is refused so that a
 * misspelt "constraint" is an error rather than a silently empty model. */
static const char *const top_keys[] = {"variables",   "objective", "constraints", "rules",
                                       "facts",       "options",   "baseline",    "name",
                                       "description", NULL};
/* A variable's members, by index in var_keys, and those each kind takes. */
enum { VK_NAME, VK_TYPE, VK_LB, VK_UB, VK_OPTIONS, VK_FIXED, VK_VETO, VK_N };
static const char *const var_keys[] = {"name",    "type",  "lb",   "ub",
                                       "options", "fixed", "veto", NULL};
#define VK_BIT(k) (1u << (k))
#define VK_COMMON (VK_BIT(VK_NAME) | VK_BIT(VK_TYPE) | VK_BIT(VK_FIXED))
static const unsigned binary_keys = VK_COMMON;
static const unsigned integer_keys = VK_COMMON | VK_BIT(VK_LB) | VK_BIT(VK_UB);
static const unsigned choice_keys = VK_COMMON | VK_BIT(VK_OPTIONS) | VK_BIT(VK_VETO);
static const char *const objective_keys[] = {"sense",     "offset", "linear",
                                             "quadratic", "groups", NULL};
static const char *const group_keys[] = {"name", "linear", "quadratic", NULL};
static const char *const con_keys[] = {"name", "linear", "quadratic", "sense",
                                       "rhs",  "weight", "hard",      NULL};

typedef struct cqm_reader {
    nq_cqm *m;
    nq_err *err;
} cqm_reader;

/* Where the terms being read go. */
typedef struct term_sink {
    int con; /* nonzero: constraint idx; zero: objective group idx */
    int32_t idx;
} term_sink;

/* Names are short: a plain loop beats a call into the C library. */
static int has_nul(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!s[i])
            return 1;
    return 0;
}

/* ---- limits, before anything is built ---------------------------------- */

static int limit_error(nq_err *err, const char *ptr, size_t n, const char *what, long long max)
{
    return nq_err_set(err, NQ_ELIMIT, ptr, "%zu %s exceed the limit of %lld", n, what, max);
}

/* Options declared by a choice variable's entry (0 for anything else). */
static size_t declared_options(const json_t *v)
{
    const json_t *opts = json_object_get(v, "options");
    if (!json_is_array(opts)) /* most entries: one lookup */
        return 0;
    const char *type = json_string_value(json_object_get(v, "type"));
    if (!type || strcmp(type, "choice") != 0)
        return 0;
    return json_array_size(opts);
}

static int check_var_limits(const json_t *vars, const char *vptr, nq_err *err)
{
    size_t n = json_array_size(vars), atoms = 0;
    if (n > NQ_CQM_MAX_VARS)
        return limit_error(err, vptr, n, "variables", NQ_CQM_MAX_VARS);
    for (size_t i = 0; i < n; i++) {
        size_t k = declared_options(json_array_get(vars, i));
        atoms += k ? k : 1;
        if (k <= NQ_CQM_MAX_OPTIONS && atoms <= NQ_CQM_MAX_ATOMS)
            continue;
        char ptr[NQ_JSON_PTR_MAX];
        nq_json_ptr_index(ptr, vptr, i);
        nq_json_ptr_key(ptr, ptr, "options");
        if (k > NQ_CQM_MAX_OPTIONS)
            return limit_error(err, ptr, k, "options", NQ_CQM_MAX_OPTIONS);
        return nq_err_set(err, NQ_ELIMIT, ptr,
                          "variables and choice options up to here exceed the limit of %d",
                          NQ_CQM_MAX_ATOMS);
    }
    return NQ_OK;
}

/* Add the terms of holder (an objective, group or constraint) to *total. */
static int count_terms(const json_t *holder, const char *ptr, size_t *total, nq_err *err)
{
    const json_t *lin = json_object_get(holder, "linear");
    const json_t *quad = json_object_get(holder, "quadratic");
    *total += json_is_object(lin) ? json_object_size(lin) : 0;
    *total += json_is_array(quad) ? json_array_size(quad) : 0;
    if (*total > NQ_CQM_MAX_TERMS)
        return limit_error(err, ptr, *total, "terms up to here", NQ_CQM_MAX_TERMS);
    return NQ_OK;
}

/* Count the members of the array obj[key] (limit max) and their terms. */
static int check_list(const json_t *obj, const char *ptr, const char *key, long long max,
                      size_t *total, nq_err *err)
{
    const json_t *list = json_object_get(obj, key);
    char lptr[NQ_JSON_PTR_MAX], iptr[NQ_JSON_PTR_MAX];
    if (!json_is_array(list))
        return NQ_OK;
    nq_json_ptr_key(lptr, ptr, key);
    if (json_array_size(list) > (size_t)max)
        return limit_error(err, lptr, json_array_size(list), key, max);
    for (size_t i = 0; i < json_array_size(list); i++) {
        nq_json_ptr_index(iptr, lptr, i);
        int rc = count_terms(json_array_get(list, i), iptr, total, err);
        if (rc)
            return rc;
    }
    return NQ_OK;
}

static int check_limits(const json_t *root, const char *ptr, nq_err *err)
{
    char p[NQ_JSON_PTR_MAX];
    size_t terms = 0;
    const json_t *vars = json_object_get(root, "variables");
    const json_t *obj = json_object_get(root, "objective");
    int rc = NQ_OK;
    nq_json_ptr_key(p, ptr, "variables");
    if (json_is_array(vars))
        rc = check_var_limits(vars, p, err);
    nq_json_ptr_key(p, ptr, "objective");
    if (!rc && json_is_object(obj)) {
        rc = count_terms(obj, p, &terms, err);
        if (!rc)
            /* The ungrouped terms take one of the model's groups. */
            rc = check_list(obj, p, "groups", NQ_CQM_MAX_GROUPS, &terms, err);
    }
    if (!rc)
        rc = check_list(root, ptr, "constraints", NQ_CQM_MAX_CONSTRAINTS, &terms, err);
    return rc;
}

/* ---- numbers and names -------------------------------------------------- */

static int coef_range(cqm_reader *r, double w, const char *ptr)
{
    if (fabs(w) > NQ_CQM_MAX_COEF)
        return nq_err_set(r->err, NQ_ERANGE, ptr, "%g is beyond the limit of %g", w,
                          NQ_CQM_MAX_COEF);
    return NQ_OK;
}

static int read_coef(cqm_reader *r, const json_t *v, const char *ptr, double *w)
{
    int rc = nq_json_as_number(v, ptr, w, r->err);
    return rc ? rc : coef_range(r, *w, ptr);
}

/* A number member (offset, rhs, weight); missing and optional leaves *w. */
static int get_coef(cqm_reader *r, const json_t *obj, const char *ptr, const char *key,
                    int required, double *w)
{
    char where[NQ_JSON_PTR_MAX];
    int rc = nq_json_get_number(obj, ptr, key, required, w, r->err);
    nq_json_ptr_key(where, ptr, key);
    return rc ? rc : coef_range(r, *w, where);
}

/* Explain why ref names no atom; the builder's own message cannot say how
 * to write the reference instead. */
static int ref_error(cqm_reader *r, const char *ref, const char *ptr, const nq_err *found)
{
    const char *eq = strchr(ref, '=');
    size_t n = eq ? (size_t)(eq - ref) : strlen(ref);
    char name[NQ_CQM_MAX_NAME + 1];
    int32_t i = -1;
    if (n <= NQ_CQM_MAX_NAME) {
        memcpy(name, ref, n);
        name[n] = '\0';
        i = nq_cqm_find_var(r->m, name);
    }
    if (i < 0)
        return nq_err_set(r->err, NQ_ENOTFOUND, ptr, "unknown variable '%.*s'",
                          (int)(n > NQ_CQM_MAX_NAME ? NQ_CQM_MAX_NAME : n), ref);
    const nq_cqm_var *v = &r->m->vars[i];
    if (v->kind == NQ_CQM_CHOICE && !eq)
        return nq_err_set(r->err, NQ_EINVAL, ptr,
                          "choice variable '%s' needs an option: write %s=<label>", name, name);
    if (v->kind != NQ_CQM_CHOICE)
        return nq_err_set(r->err, NQ_EINVAL, ptr, "variable '%s' has no options: write %s", name,
                          name);
    if (nq__cqm_label_index(v, eq + 1) < 0)
        return nq_err_set(r->err, NQ_ENOTFOUND, ptr, "choice variable '%s' has no option '%s'",
                          name, eq + 1);
    if (r->err)
        *r->err = *found;
    return nq__cqm_err_at(r->err, found->code ? found->code : NQ_EINTERNAL, ptr);
}

/* The atom a term names: "x" (binary, integer) or "site=label" (choice). */
static int resolve(cqm_reader *r, const char *ref, size_t len, const char *ptr, int32_t *atom)
{
    if (has_nul(ref, len))
        return nq_err_set(r->err, NQ_EINVAL, ptr, "name contains a NUL character");
    nq_err found;
    nq_err_clear(&found);
    int a = nq__cqm_atom_n(r->m, ref, len, &found);
    if (a < 0)
        return ref_error(r, ref, ptr, &found);
    *atom = a;
    return NQ_OK;
}

/* ---- terms --------------------------------------------------------------- */

static int add_linear(cqm_reader *r, term_sink s, int32_t a, double w)
{
    return s.con ? nq_cqm_con_linear(r->m, s.idx, a, w, r->err)
                 : nq_cqm_obj_linear(r->m, s.idx, a, w, r->err);
}

static int add_quadratic(cqm_reader *r, term_sink s, int32_t a, int32_t b, double w)
{
    return s.con ? nq_cqm_con_quadratic(r->m, s.idx, a, b, w, r->err)
                 : nq_cqm_obj_quadratic(r->m, s.idx, a, b, w, r->err);
}

static int read_linear(cqm_reader *r, const json_t *holder, const char *hptr, term_sink s)
{
    json_t *lin = NULL, *v;
    const char *key;
    size_t klen;
    char lptr[NQ_JSON_PTR_MAX], ptr[NQ_JSON_PTR_MAX];
    int rc = nq_json_get_typed(holder, hptr, "linear", 0, JSON_OBJECT, &lin, r->err);
    if (rc || !lin)
        return rc;
    nq_json_ptr_key(lptr, hptr, "linear");
    /* Every error of a term is about the term itself: its pointer is
     * written only then (models have many terms, and few are wrong). */
    json_object_keylen_foreach(lin, key, klen, v)
    {
        int32_t a = 0;
        double w = 0;
        rc = resolve(r, key, klen, lptr, &a);
        if (!rc)
            rc = read_coef(r, v, lptr, &w);
        if (!rc && (rc = add_linear(r, s, a, w)) != NQ_OK)
            nq__cqm_err_at(r->err, rc, lptr);
        if (rc) {
            nq_json_ptr_key(ptr, lptr, key);
            snprintf(r->err->where, sizeof r->err->where, "%s", ptr);
            return rc;
        }
    }
    return NQ_OK;
}

static int term_name(cqm_reader *r, const json_t *t, const char *tptr, size_t k, int32_t *atom)
{
    char ptr[NQ_JSON_PTR_MAX];
    const json_t *v = json_array_get(t, k);
    nq_json_ptr_index(ptr, tptr, k);
    if (!json_is_string(v))
        return nq_err_set(r->err, NQ_EINVAL, ptr, "expected a variable name (string), got %s",
                          nq__cqm_json_got(v));
    return resolve(r, json_string_value(v), json_string_length(v), ptr, atom);
}

static int read_term(cqm_reader *r, const json_t *t, const char *tptr, term_sink s)
{
    char ptr[NQ_JSON_PTR_MAX];
    if (!json_is_array(t))
        return nq_err_set(r->err, NQ_EINVAL, tptr, "expected [name, name, coefficient], got %s",
                          nq__cqm_json_got(t));
    if (json_array_size(t) != 3)
        return nq_err_set(r->err, NQ_EINVAL, tptr,
                          "expected [name, name, coefficient], got %zu items", json_array_size(t));
    int32_t a = 0, b = 0;
    double w = 0;
    int rc = term_name(r, t, tptr, 0, &a);
    if (!rc)
        rc = term_name(r, t, tptr, 1, &b);
    nq_json_ptr_index(ptr, tptr, 2);
    if (!rc)
        rc = read_coef(r, json_array_get(t, 2), ptr, &w);
    if (!rc && (rc = add_quadratic(r, s, a, b, w)) != NQ_OK)
        nq__cqm_err_at(r->err, rc, tptr);
    return rc;
}

static int read_quadratic(cqm_reader *r, const json_t *holder, const char *hptr, term_sink s)
{
    json_t *quad = NULL, *t;
    size_t k;
    char qptr[NQ_JSON_PTR_MAX], ptr[NQ_JSON_PTR_MAX];
    int rc = nq_json_get_typed(holder, hptr, "quadratic", 0, JSON_ARRAY, &quad, r->err);
    if (rc || !quad)
        return rc;
    nq_json_ptr_key(qptr, hptr, "quadratic");
    json_array_foreach(quad, k, t)
    {
        nq_json_ptr_index(ptr, qptr, k);
        rc = read_term(r, t, ptr, s);
        if (rc)
            return rc;
    }
    return NQ_OK;
}

static int read_terms(cqm_reader *r, const json_t *holder, const char *hptr, term_sink s)
{
    int rc = read_linear(r, holder, hptr, s);
    return rc ? rc : read_quadratic(r, holder, hptr, s);
}

/* ---- variables ----------------------------------------------------------- */

static int parse_kind(cqm_reader *r, const char *type, const char *vptr, nq_cqm_kind *kind)
{
    char ptr[NQ_JSON_PTR_MAX];
    if (strcmp(type, "binary") == 0)
        *kind = NQ_CQM_BINARY;
    else if (strcmp(type, "integer") == 0)
        *kind = NQ_CQM_INTEGER;
    else if (strcmp(type, "choice") == 0)
        *kind = NQ_CQM_CHOICE;
    else {
        nq_json_ptr_key(ptr, vptr, "type");
        return nq_err_set(r->err, NQ_EINVAL, ptr,
                          "unknown type '%s': expected \"binary\", \"integer\" or \"choice\"",
                          type);
    }
    return NQ_OK;
}

/* A variable entry's members, gathered in one pass: models have many
 * variables, and a lookup per member and a pass per check add up. */
typedef struct var_members {
    const json_t *at[VK_N]; /* by VK_*, NULL when absent */
    int order[VK_N];        /* the members present, in document order */
    int n;
    int unknown;            /* a member not in var_keys was seen */
} var_members;

static int var_key(const char *key)
{
    for (int k = 0; k < VK_N; k++)
        if (key[0] == var_keys[k][0] && strcmp(key, var_keys[k]) == 0)
            return k;
    return -1;
}

static void gather(const json_t *v, var_members *vm)
{
    const char *key;
    json_t *m;
    memset(vm, 0, sizeof *vm);
    json_object_foreach((json_t *)v, key, m)
    {
        int k = var_key(key);
        if (k < 0) {
            vm->unknown = 1;
            return;
        }
        vm->at[k] = m;
        vm->order[vm->n++] = k;
    }
}

/* Members that belong to another kind ("lb" on a binary) get a message
 * that names the kind, not just "unknown member". */
static int check_kind_keys(cqm_reader *r, const var_members *vm, const char *vptr,
                           nq_cqm_kind kind, const char *type)
{
    unsigned allowed = kind == NQ_CQM_BINARY    ? binary_keys
                       : kind == NQ_CQM_INTEGER ? integer_keys
                                                : choice_keys;
    for (int i = 0; i < vm->n; i++) {
        const char *key = var_keys[vm->order[i]];
        if (!(allowed & VK_BIT(vm->order[i]))) {
            char ptr[NQ_JSON_PTR_MAX];
            nq_json_ptr_key(ptr, vptr, key);
            return nq_err_set(r->err, NQ_EINVAL, ptr, "\"%s\" does not apply to %s variables", key,
                              type);
        }
    }
    return NQ_OK;
}

/* A required string member already gathered (m), or the error that says
 * it is missing. */
static int var_string(cqm_reader *r, const json_t *v, const json_t *m, const char *vptr,
                      const char *key, size_t max_len, const char **out)
{
    if (!m)
        return nq_json_get_string(v, vptr, key, 1, max_len, out, r->err);
    return nq_json_member_string(m, vptr, key, max_len, out, r->err);
}

static int read_bounds(cqm_reader *r, const json_t *v, const char *vptr, int64_t *lb, int64_t *ub)
{
    char ptr[NQ_JSON_PTR_MAX];
    int rc = nq_json_get_int(v, vptr, "lb", 1, -NQ_CQM_MAX_INT, NQ_CQM_MAX_INT, lb, r->err);
    if (!rc)
        rc = nq_json_get_int(v, vptr, "ub", 1, -NQ_CQM_MAX_INT, NQ_CQM_MAX_INT, ub, r->err);
    if (!rc && *lb > *ub) {
        nq_json_ptr_key(ptr, vptr, "ub");
        return nq_err_set(r->err, NQ_EINVAL, ptr, "lb %" PRId64 " > ub %" PRId64, *lb, *ub);
    }
    return rc;
}

typedef struct label_at {
    const char *s;
    size_t j;
} label_at;

static int label_cmp(const void *pa, const void *pb)
{
    const label_at *a = pa, *b = pb;
    int c = strcmp(a->s, b->s);
    return c ? c : (a->j > b->j) - (a->j < b->j);
}

/* The first option (in document order) that repeats an earlier one, found
 * by sorting so that 10,000 options cost no 50 million comparisons. */
static int check_unique_labels(cqm_reader *r, const char **labels, size_t n, const char *optr)
{
    label_at *t = malloc(n * sizeof *t);
    if (!t)
        return nq_err_set(r->err, NQ_ENOMEM, optr, "out of memory");
    for (size_t j = 0; j < n; j++)
        t[j] = (label_at){.s = labels[j], .j = j};
    qsort(t, n, sizeof *t, label_cmp);
    size_t dup = n;
    for (size_t k = 1; k < n; k++)
        if (strcmp(t[k].s, t[k - 1].s) == 0 && t[k].j < dup)
            dup = t[k].j;
    free(t);
    if (dup == n)
        return NQ_OK;
    char ptr[NQ_JSON_PTR_MAX];
    nq_json_ptr_index(ptr, optr, dup);
    return nq_err_set(r->err, NQ_EINVAL, ptr, "option '%s' is listed twice", labels[dup]);
}

static int read_labels(cqm_reader *r, const json_t *opts, const char *optr, const char **labels)
{
    char ptr[NQ_JSON_PTR_MAX];
    size_t n = json_array_size(opts);
    for (size_t j = 0; j < n; j++) {
        nq_json_ptr_index(ptr, optr, j);
        int rc =
            nq__cqm_json_string(json_array_get(opts, j), ptr, NQ_CQM_MAX_NAME, &labels[j], r->err);
        if (rc)
            return rc;
    }
    return check_unique_labels(r, labels, n, optr);
}

/* Add a choice variable; returns its index or a negative code. */
static int add_choice(cqm_reader *r, const json_t *v, const char *vptr, const char *name)
{
    json_t *opts = NULL;
    char optr[NQ_JSON_PTR_MAX];
    int rc = nq_json_get_typed(v, vptr, "options", 1, JSON_ARRAY, &opts, r->err);
    if (rc)
        return rc;
    nq_json_ptr_key(optr, vptr, "options");
    size_t n = json_array_size(opts);
    if (n == 0)
        return nq_err_set(r->err, NQ_EINVAL, optr, "a choice variable needs at least one option");
    if (n > NQ_CQM_MAX_OPTIONS)
        return limit_error(r->err, optr, n, "options", NQ_CQM_MAX_OPTIONS);
    const char **labels = malloc(n * sizeof *labels);
    if (!labels)
        return nq_err_set(r->err, NQ_ENOMEM, optr, "out of memory");
    rc = read_labels(r, opts, optr, labels);
    if (!rc) {
        rc = nq_cqm_add_choice(r->m, name, labels, (int32_t)n, r->err);
        if (rc < 0) {
            /* The options passed the checks above; what is left is the name's. */
            char ptr[NQ_JSON_PTR_MAX];
            nq_json_ptr_key(ptr, vptr, "name");
            nq__cqm_err_at(r->err, rc, ptr);
        }
    }
    free(labels);
    return rc;
}

static int read_veto(cqm_reader *r, const json_t *v, const char *vptr, int32_t var)
{
    json_t *veto = NULL, *item;
    size_t j;
    char ptr[NQ_JSON_PTR_MAX];
    int rc = nq_json_get_typed(v, vptr, "veto", 0, JSON_ARRAY, &veto, r->err);
    if (rc || !veto)
        return rc;
    json_array_foreach(veto, j, item)
    {
        const char *label = NULL;
        nq_json_ptr_key(ptr, vptr, "veto");
        nq_json_ptr_index(ptr, ptr, j);
        rc = nq__cqm_json_string(item, ptr, NQ_CQM_MAX_NAME, &label, r->err);
        if (rc)
            return rc;
        int32_t k = nq__cqm_label_index(&r->m->vars[var], label);
        if (k < 0)
            return nq_err_set(r->err, NQ_ENOTFOUND, ptr, "choice variable '%s' has no option '%s'",
                              r->m->vars[var].name, label);
        rc = nq_cqm_veto(r->m, var, k, r->err);
        if (rc)
            return nq__cqm_err_at(r->err, rc, ptr);
    }
    return NQ_OK;
}

static int read_fixed(cqm_reader *r, const json_t *v, const char *vptr, int32_t var)
{
    const json_t *f = json_object_get(v, "fixed");
    char ptr[NQ_JSON_PTR_MAX];
    if (!f)
        return NQ_OK;
    nq_json_ptr_key(ptr, vptr, "fixed");
    const nq_cqm_var *cv = &r->m->vars[var];
    int64_t x = 0;
    int rc = nq__cqm_json_value(cv, f, ptr, &x, r->err);
    if (rc)
        return rc;
    if (cv->kind == NQ_CQM_CHOICE && cv->vetoed && cv->vetoed[x])
        return nq_err_set(r->err, NQ_EINVAL, ptr, "option '%s' is both fixed and vetoed",
                          cv->labels[x]);
    rc = nq_cqm_fix(r->m, var, x, r->err);
    return rc ? nq__cqm_err_at(r->err, rc, ptr) : NQ_OK;
}

/* Add the variable of the right kind; returns its index or a negative code. */
static int add_variable(cqm_reader *r, const json_t *v, const char *vptr, const char *name,
                        nq_cqm_kind kind)
{
    char ptr[NQ_JSON_PTR_MAX];
    int64_t lb = 0, ub = 0;
    int idx;
    if (kind == NQ_CQM_CHOICE)
        return add_choice(r, v, vptr, name);
    if (kind == NQ_CQM_INTEGER) {
        int rc = read_bounds(r, v, vptr, &lb, &ub);
        if (rc)
            return rc;
        idx = nq_cqm_add_integer(r->m, name, lb, ub, r->err);
    } else {
        idx = nq_cqm_add_binary(r->m, name, r->err);
    }
    if (idx >= 0)
        return idx;
    nq_json_ptr_key(ptr, vptr, "name");
    return nq__cqm_err_at(r->err, idx, ptr);
}

static int read_variable(cqm_reader *r, const json_t *v, const char *vptr)
{
    const char *name = NULL, *type = NULL;
    nq_cqm_kind kind = NQ_CQM_BINARY;
    var_members vm;
    if (!json_is_object(v))
        return nq_json_check_keys(v, vptr, var_keys, r->err); /* words "expected an object" */
    gather(v, &vm);
    int rc = vm.unknown ? nq_json_check_keys(v, vptr, var_keys, r->err) : NQ_OK;
    if (!rc)
        rc = var_string(r, v, vm.at[VK_NAME], vptr, "name", NQ_CQM_MAX_NAME, &name);
    if (!rc)
        rc = var_string(r, v, vm.at[VK_TYPE], vptr, "type", 64, &type);
    if (!rc)
        rc = parse_kind(r, type, vptr, &kind);
    if (!rc)
        rc = check_kind_keys(r, &vm, vptr, kind, type);
    if (rc)
        return rc;
    int idx = add_variable(r, v, vptr, name, kind);
    if (idx < 0)
        return idx;
    rc = vm.at[VK_VETO] ? read_veto(r, v, vptr, idx) : NQ_OK;
    return rc || !vm.at[VK_FIXED] ? rc : read_fixed(r, v, vptr, idx);
}

static int read_variables(cqm_reader *r, const json_t *root, const char *ptr)
{
    json_t *vars = NULL, *v;
    size_t i;
    char vptr[NQ_JSON_PTR_MAX], iptr[NQ_JSON_PTR_MAX];
    int rc = nq_json_get_typed(root, ptr, "variables", 1, JSON_ARRAY, &vars, r->err);
    if (rc)
        return rc;
    nq_json_ptr_key(vptr, ptr, "variables");
    json_array_foreach(vars, i, v)
    {
        nq_json_ptr_index(iptr, vptr, i);
        rc = read_variable(r, v, iptr);
        if (rc)
            return rc;
    }
    return NQ_OK;
}

/* ---- objective ----------------------------------------------------------- */

static int read_obj_sense(cqm_reader *r, const json_t *o, const char *optr)
{
    const char *s = NULL;
    char ptr[NQ_JSON_PTR_MAX];
    int rc = nq_json_get_string(o, optr, "sense", 0, 64, &s, r->err);
    if (rc || !s)
        return rc;
    if (strcmp(s, "minimize") == 0 || strcmp(s, "min") == 0)
        r->m->maximize = 0;
    else if (strcmp(s, "maximize") == 0 || strcmp(s, "max") == 0)
        r->m->maximize = 1;
    else {
        nq_json_ptr_key(ptr, optr, "sense");
        return nq_err_set(r->err, NQ_EINVAL, ptr,
                          "unknown sense '%s': expected \"minimize\" or \"maximize\"", s);
    }
    return NQ_OK;
}

static int read_group(cqm_reader *r, const json_t *g, const char *gptr)
{
    const char *name = NULL;
    char ptr[NQ_JSON_PTR_MAX];
    int rc = nq_json_check_keys(g, gptr, group_keys, r->err);
    if (!rc)
        rc = nq_json_get_string(g, gptr, "name", 1, NQ_CQM_MAX_NAME, &name, r->err);
    if (rc)
        return rc;
    nq_json_ptr_key(ptr, gptr, "name");
    /* The builder would merge a group of this name into the ungrouped
     * terms, so explanations could not tell the two apart. */
    if (strcmp(name, "objective") == 0)
        return nq_err_set(r->err, NQ_EINVAL, ptr,
                          "\"objective\" names the ungrouped terms; choose another name");
    int idx = nq_cqm_add_group(r->m, name, r->err);
    if (idx < 0)
        return nq__cqm_err_at(r->err, idx, ptr);
    return read_terms(r, g, gptr, (term_sink){.con = 0, .idx = idx});
}

static int read_groups(cqm_reader *r, const json_t *o, const char *optr)
{
    json_t *groups = NULL, *g;
    size_t k;
    char gptr[NQ_JSON_PTR_MAX], ptr[NQ_JSON_PTR_MAX];
    int rc = nq_json_get_typed(o, optr, "groups", 0, JSON_ARRAY, &groups, r->err);
    if (rc || !groups)
        return rc;
    nq_json_ptr_key(gptr, optr, "groups");
    json_array_foreach(groups, k, g)
    {
        nq_json_ptr_index(ptr, gptr, k);
        rc = read_group(r, g, ptr);
        if (rc)
            return rc;
    }
    return NQ_OK;
}

static int read_objective(cqm_reader *r, const json_t *root, const char *ptr)
{
    json_t *o = NULL;
    char optr[NQ_JSON_PTR_MAX];
    int rc = nq_json_get_typed(root, ptr, "objective", 0, JSON_OBJECT, &o, r->err);
    if (rc || !o)
        return rc;
    nq_json_ptr_key(optr, ptr, "objective");
    rc = nq_json_check_keys(o, optr, objective_keys, r->err);
    if (!rc)
        rc = read_obj_sense(r, o, optr);
    if (!rc)
        rc = get_coef(r, o, optr, "offset", 0, &r->m->offset);
    if (!rc)
        rc = read_terms(r, o, optr, (term_sink){.con = 0, .idx = 0});
    return rc ? rc : read_groups(r, o, optr);
}

/* ---- constraints ----------------------------------------------------------- */

static int read_con_sense(cqm_reader *r, const json_t *c, const char *cptr, nq_cqm_sense *sense)
{
    static const struct {
        const char *text;
        nq_cqm_sense sense;
    } senses[] = {{"<=", NQ_CQM_LE}, {"le", NQ_CQM_LE}, {">=", NQ_CQM_GE}, {"ge", NQ_CQM_GE},
                  {"==", NQ_CQM_EQ}, {"=", NQ_CQM_EQ},  {"eq", NQ_CQM_EQ}};
    const char *s = NULL;
    char ptr[NQ_JSON_PTR_MAX];
    int rc = nq_json_get_string(c, cptr, "sense", 1, 64, &s, r->err);
    if (rc)
        return rc;
    for (size_t k = 0; k < sizeof senses / sizeof senses[0]; k++) {
        if (strcmp(s, senses[k].text) == 0) {
            *sense = senses[k].sense;
            return NQ_OK;
        }
    }
    nq_json_ptr_key(ptr, cptr, "sense");
    return nq_err_set(r->err, NQ_EINVAL, ptr,
                      "unknown sense '%s': expected \"<=\", \">=\" or \"==\"", s);
}

/* A weight makes a constraint soft; "hard" may say so too, but must agree. */
static int read_softness(cqm_reader *r, const json_t *c, const char *cptr, int *hard,
                         double *weight)
{
    char ptr[NQ_JSON_PTR_MAX];
    int said_hard = -1, has_weight = json_object_get(c, "weight") != NULL;
    double w = 0;
    int rc = nq_json_get_bool(c, cptr, "hard", 0, &said_hard, r->err);
    if (!rc)
        rc = get_coef(r, c, cptr, "weight", 0, &w);
    if (rc)
        return rc;
    nq_json_ptr_key(ptr, cptr, "weight");
    if (has_weight && !(w > 0))
        return nq_err_set(r->err, NQ_ERANGE, ptr, "weight must be positive, got %g", w);
    if (has_weight && said_hard == 1)
        return nq_err_set(r->err, NQ_EINVAL, ptr,
                          "a constraint with \"hard\": true takes no weight");
    if (!has_weight && said_hard == 0) {
        nq_json_ptr_key(ptr, cptr, "hard");
        return nq_err_set(r->err, NQ_EINVAL, ptr, "a soft constraint needs a \"weight\"");
    }
    *hard = !has_weight;
    *weight = has_weight ? w : -1;
    return NQ_OK;
}

static int read_constraint(cqm_reader *r, const json_t *c, const char *cptr, size_t i)
{
    const char *name = NULL;
    char defname[32], nptr[NQ_JSON_PTR_MAX];
    nq_cqm_sense sense = NQ_CQM_LE;
    double rhs = 0, weight = -1;
    int hard = 1;
    int rc = nq_json_check_keys(c, cptr, con_keys, r->err);
    if (!rc)
        rc = nq_json_get_string(c, cptr, "name", 0, NQ_CQM_MAX_NAME, &name, r->err);
    if (!rc)
        rc = read_con_sense(r, c, cptr, &sense);
    if (!rc)
        rc = get_coef(r, c, cptr, "rhs", 1, &rhs);
    if (!rc)
        rc = read_softness(r, c, cptr, &hard, &weight);
    if (rc)
        return rc;
    /* An unnamed constraint is named by its position; if that name is
     * taken the error points at the constraint itself. */
    snprintf(defname, sizeof defname, "c%zu", i);
    if (name)
        nq_json_ptr_key(nptr, cptr, "name");
    else
        snprintf(nptr, sizeof nptr, "%s", cptr);
    int idx = nq_cqm_add_constraint(r->m, name ? name : defname, sense, rhs, hard, weight, r->err);
    if (idx < 0)
        return nq__cqm_err_at(r->err, idx, nptr);
    return read_terms(r, c, cptr, (term_sink){.con = 1, .idx = idx});
}

static int read_constraints(cqm_reader *r, const json_t *root, const char *ptr)
{
    json_t *cons = NULL, *c;
    size_t i;
    char lptr[NQ_JSON_PTR_MAX], cptr[NQ_JSON_PTR_MAX];
    int rc = nq_json_get_typed(root, ptr, "constraints", 0, JSON_ARRAY, &cons, r->err);
    if (rc || !cons)
        return rc;
    nq_json_ptr_key(lptr, ptr, "constraints");
    json_array_foreach(cons, i, c)
    {
        nq_json_ptr_index(cptr, lptr, i);
        rc = read_constraint(r, c, cptr, i);
        if (rc)
            return rc;
    }
    return NQ_OK;
}

/* ---- the model ----------------------------------------------------------- */

static int read_model(cqm_reader *r, const json_t *obj, const char *ptr)
{
    int rc = nq_json_check_keys(obj, ptr, top_keys, r->err);
    if (!rc)
        rc = check_limits(obj, ptr, r->err);
    if (!rc)
        rc = read_variables(r, obj, ptr);
    if (!rc)
        rc = read_objective(r, obj, ptr);
    if (!rc)
        rc = read_constraints(r, obj, ptr);
    if (rc)
        return rc;
    rc = nq_cqm_finish(r->m, r->err);
    if (rc && r->err && !r->err->where[0])
        nq__cqm_err_at(r->err, rc, ptr);
    return rc;
}

int nq_cqm_from_json(const json_t *obj, const char *ptr, nq_cqm *out, nq_err *err)
{
    if (!ptr)
        ptr = "";
    if (!out)
        return nq_err_set(err, NQ_EINVAL, ptr, "no model to fill");
    nq_cqm_init(out);
    if (!json_is_object(obj))
        return nq_err_set(err, NQ_EINVAL, ptr, "expected an object, got %s", nq__cqm_json_got(obj));
    cqm_reader r = {.m = out, .err = err};
    int rc = read_model(&r, obj, ptr);
    if (rc)
        nq_cqm_free(out);
    return rc;
}
