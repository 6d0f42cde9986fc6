/* cqm_model.c - building a constrained quadratic model: variables, atoms,
 * objective groups and constraints, with every size limit checked as terms
 * arrive (so a hostile document fails before it costs memory). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nqba/cqm.h"
#include "nqba/strhash.h"
#include "cqm_internal.h"

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

/* Grow *p (elements of size sz) so that it holds at least need elements. */
static int grow(void **p, int32_t *cap, int32_t need, size_t sz)
{
    if (need <= *cap)
        return 0;
    int32_t nc = *cap ? *cap : 8;
    while (nc < need)
        nc = nc > INT32_MAX / 2 ? need : nc * 2;
    void *q = realloc(*p, (size_t)nc * sz);
    if (!q)
        return NQ_ENOMEM;
    *p = q;
    *cap = nc;
    return 0;
}

void nq_cqm_init(nq_cqm *m) { memset(m, 0, sizeof *m); }

static void expr_free(nq_cqm_expr *e)
{
    free(e->lin);
    free(e->quad);
    memset(e, 0, sizeof *e);
}

void nq_cqm_free(nq_cqm *m)
{
    if (!m)
        return;
    for (int32_t i = 0; i < m->n_vars; i++) {
        nq_cqm_var *v = &m->vars[i];
        free(v->name);
        for (int32_t k = 0; v->labels && k < v->n_options; k++)
            free(v->labels[k]);
        free(v->labels);
        free(v->vetoed);
    }
    free(m->vars);
    free(m->atom_var);
    free(m->atom_opt);
    for (int32_t g = 0; g < m->n_groups; g++) {
        free(m->groups[g].name);
        expr_free(&m->groups[g].e);
    }
    free(m->groups);
    for (int32_t c = 0; c < m->n_cons; c++) {
        free(m->cons[c].name);
        expr_free(&m->cons[c].e);
    }
    free(m->cons);
    free(m->name_slots);
    free(m->con_slots);
    memset(m, 0, sizeof *m);
}

/* ---- the name index ------------------------------------------------------ */

/* Name of entry i of a table: variables or constraints. */
static const char *entry_name(const nq_cqm *m, int cons, int32_t i)
{
    return cons ? m->cons[i].name : m->vars[i].name;
}

static int32_t slot_find(const nq_cqm *m, int cons, const char *name)
{
    const int32_t *slots = cons ? m->con_slots : m->name_slots;
    int32_t n = cons ? m->n_con_slots : m->n_slots;
    if (!n)
        return -1;
    uint32_t mask = (uint32_t)n - 1;
    for (uint32_t s = (uint32_t)nq_str_hash(name) & mask;; s = (s + 1) & mask) {
        int32_t v = slots[s];
        if (v < 0)
            return -1;
        if (strcmp(entry_name(m, cons, v), name) == 0)
            return v;
    }
}

static void slot_insert(nq_cqm *m, int cons, int32_t v)
{
    int32_t *slots = cons ? m->con_slots : m->name_slots;
    uint32_t mask = (uint32_t)(cons ? m->n_con_slots : m->n_slots) - 1;
    uint32_t s = (uint32_t)nq_str_hash(entry_name(m, cons, v)) & mask;
    while (slots[s] >= 0)
        s = (s + 1) & mask;
    slots[s] = v;
}

/* Keep a table at most half full, so probes stay short. */
static int slots_reserve(nq_cqm *m, int cons, int32_t count)
{
    int32_t **slots = cons ? &m->con_slots : &m->name_slots;
    int32_t *n = cons ? &m->n_con_slots : &m->n_slots;
    if ((int64_t)count * 2 <= *n)
        return 0;
    int32_t ns = *n ? *n : 64;
    while ((int64_t)count * 2 > ns)
        ns *= 2;
    int32_t *t = malloc((size_t)ns * sizeof *t);
    if (!t)
        return NQ_ENOMEM;
    free(*slots);
    *slots = t;
    *n = ns;
    for (int32_t i = 0; i < ns; i++)
        t[i] = -1;
    for (int32_t i = 0; i < count - 1; i++)
        slot_insert(m, cons, i);
    return 0;
}

int32_t nq_cqm_find_var(const nq_cqm *m, const char *name) { return slot_find(m, 0, name); }

/* ---- variables --------------------------------------------------------------- */

static int check_name(const char *name, const char *what, nq_err *err)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > NQ_CQM_MAX_NAME)
        return nq_err_set(err, NQ_EINVAL, NULL, "%s must be 1..%d bytes", what, NQ_CQM_MAX_NAME);
    if (strchr(name, '='))
        return nq_err_set(err, NQ_EINVAL, NULL, "%s '%s' must not contain '='", what, name);
    return 0;
}

static int new_var(nq_cqm *m, const char *name, int32_t atoms, nq_err *err)
{
    int rc = check_name(name, "variable name", err);
    if (rc)
        return rc;
    if (m->n_vars >= NQ_CQM_MAX_VARS)
        return nq_err_set(err, NQ_ELIMIT, NULL, "more than %d variables", NQ_CQM_MAX_VARS);
    if ((int64_t)m->n_atoms + atoms > NQ_CQM_MAX_ATOMS)
        return nq_err_set(err, NQ_ELIMIT, NULL, "more than %d variables and options",
                          NQ_CQM_MAX_ATOMS);
    if (slot_find(m, 0, name) >= 0)
        return nq_err_set(err, NQ_EINVAL, NULL, "duplicate variable name '%s'", name);
    if (grow((void **)&m->vars, &m->cap_vars, m->n_vars + 1, sizeof *m->vars) ||
        slots_reserve(m, 0, m->n_vars + 1))
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    /* Both atom arrays share cap_atoms: grow the first on a copy of it. */
    int32_t cap = m->cap_atoms;
    if (grow((void **)&m->atom_var, &cap, m->n_atoms + atoms, sizeof(int32_t)) ||
        grow((void **)&m->atom_opt, &m->cap_atoms, m->n_atoms + atoms, sizeof(int32_t)))
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    nq_cqm_var *v = &m->vars[m->n_vars];
    memset(v, 0, sizeof *v);
    v->name = dup_str(name);
    if (!v->name)
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    v->atom = m->n_atoms;
    for (int32_t k = 0; k < atoms; k++) {
        m->atom_var[m->n_atoms + k] = m->n_vars;
        m->atom_opt[m->n_atoms + k] = -1;
    }
    slot_insert(m, 0, m->n_vars);
    m->n_atoms += atoms;
    m->finished = 0;
    return m->n_vars++;
}

int nq_cqm_add_binary(nq_cqm *m, const char *name, nq_err *err)
{
    int v = new_var(m, name, 1, err);
    if (v >= 0) {
        m->vars[v].kind = NQ_CQM_BINARY;
        m->vars[v].lb = 0;
        m->vars[v].ub = 1;
    }
    return v;
}

int nq_cqm_add_integer(nq_cqm *m, const char *name, int64_t lb, int64_t ub, nq_err *err)
{
    if (lb > ub)
        return nq_err_set(err, NQ_EINVAL, NULL, "lb %lld > ub %lld", (long long)lb,
                          (long long)ub);
    if (lb < -NQ_CQM_MAX_INT || ub > NQ_CQM_MAX_INT)
        return nq_err_set(err, NQ_ERANGE, NULL, "bounds must lie within +-%lld",
                          (long long)NQ_CQM_MAX_INT);
    int v = new_var(m, name, 1, err);
    if (v >= 0) {
        m->vars[v].kind = NQ_CQM_INTEGER;
        m->vars[v].lb = lb;
        m->vars[v].ub = ub;
    }
    return v;
}

static int cmp_strp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int check_labels(const char *const *labels, int32_t n, nq_err *err)
{
    if (n < 1)
        return nq_err_set(err, NQ_EINVAL, NULL, "a choice needs at least one option");
    if (n > NQ_CQM_MAX_OPTIONS)
        return nq_err_set(err, NQ_ELIMIT, NULL, "more than %d options", NQ_CQM_MAX_OPTIONS);
    for (int32_t k = 0; k < n; k++) {
        size_t len = labels[k] ? strlen(labels[k]) : 0;
        if (len == 0 || len > NQ_CQM_MAX_NAME)
            return nq_err_set(err, NQ_EINVAL, NULL, "option %d: a label must be 1..%d bytes",
                              (int)k, NQ_CQM_MAX_NAME);
    }
    /* Sorted copy: duplicate labels become neighbours in O(n log n). */
    const char **sorted = malloc((size_t)n * sizeof *sorted);
    if (!sorted)
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    memcpy(sorted, labels, (size_t)n * sizeof *sorted);
    qsort(sorted, (size_t)n, sizeof *sorted, cmp_strp);
    int rc = 0;
    for (int32_t k = 1; k < n && !rc; k++)
        if (strcmp(sorted[k - 1], sorted[k]) == 0)
            rc = nq_err_set(err, NQ_EINVAL, NULL, "duplicate option label '%s'", sorted[k]);
    free(sorted);
    return rc;
}

int nq_cqm_add_choice(nq_cqm *m, const char *name, const char *const *labels, int32_t n,
                      nq_err *err)
{
    int rc = check_labels(labels, n, err);
    if (rc)
        return rc;
    int v = new_var(m, name, n, err);
    if (v < 0)
        return v;
    nq_cqm_var *var = &m->vars[v];
    var->kind = NQ_CQM_CHOICE;
    var->lb = 0;
    var->ub = n - 1;
    var->n_options = n;
    var->labels = calloc((size_t)n, sizeof *var->labels);
    if (!var->labels)
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    for (int32_t k = 0; k < n; k++) {
        var->labels[k] = dup_str(labels[k]);
        if (!var->labels[k])
            return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
        m->atom_opt[var->atom + k] = k;
    }
    return v;
}

/* ---- atoms ------------------------------------------------------------------- */

int nq_cqm_atom(const nq_cqm *m, const char *ref, nq_err *err)
{
    return nq__cqm_atom_n(m, ref, strlen(ref), err);
}

int nq__cqm_atom_n(const nq_cqm *m, const char *ref, size_t n, nq_err *err)
{
    size_t len = 0; /* names are short: a plain loop beats a call to memchr */
    while (len < n && ref[len] != '=')
        len++;
    const char *eq = len < n ? ref + len : NULL;
    char name[NQ_CQM_MAX_NAME + 1];
    if (len == 0 || len > NQ_CQM_MAX_NAME)
        return nq_err_set(err, NQ_ENOTFOUND, NULL, "unknown variable '%.*s'",
                          (int)(len > 64 ? 64 : len), ref);
    memcpy(name, ref, len);
    name[len] = 0;
    int32_t v = slot_find(m, 0, name);
    if (v < 0)
        return nq_err_set(err, NQ_ENOTFOUND, NULL, "unknown variable '%s'", name);
    const nq_cqm_var *var = &m->vars[v];
    if (var->kind != NQ_CQM_CHOICE) {
        if (eq)
            return nq_err_set(err, NQ_EINVAL, NULL, "'%s' is not a choice variable", name);
        return var->atom;
    }
    if (!eq)
        return nq_err_set(err, NQ_EINVAL, NULL,
                          "choice variable '%s' needs an option: write %s=<label>", name, name);
    for (int32_t k = 0; k < var->n_options; k++)
        if (strcmp(var->labels[k], eq + 1) == 0)
            return var->atom + k;
    return nq_err_set(err, NQ_ENOTFOUND, NULL, "choice variable '%s' has no option '%.128s'",
                      name, eq + 1);
}

const char *nq_cqm_atom_name(const nq_cqm *m, int32_t atom, char *buf, size_t cap)
{
    if (atom < 0 || atom >= m->n_atoms) {
        snprintf(buf, cap, "?");
        return buf;
    }
    const nq_cqm_var *v = &m->vars[m->atom_var[atom]];
    if (v->kind == NQ_CQM_CHOICE)
        snprintf(buf, cap, "%s=%s", v->name, v->labels[m->atom_opt[atom]]);
    else
        snprintf(buf, cap, "%s", v->name);
    return buf;
}

/* ---- terms ------------------------------------------------------------------- */

static int check_term(nq_cqm *m, int32_t a, int32_t b, double w, nq_err *err)
{
    if (a < 0 || a >= m->n_atoms || b < 0 || b >= m->n_atoms)
        return nq_err_set(err, NQ_EINVAL, NULL, "atom index out of range");
    if (!isfinite(w) || fabs(w) > NQ_CQM_MAX_COEF)
        return nq_err_set(err, NQ_ERANGE, NULL, "coefficient must be finite and at most %g",
                          NQ_CQM_MAX_COEF);
    if (m->n_terms >= NQ_CQM_MAX_TERMS)
        return nq_err_set(err, NQ_ELIMIT, NULL, "more than %lld terms",
                          (long long)NQ_CQM_MAX_TERMS);
    return 0;
}

static int expr_lin(nq_cqm *m, nq_cqm_expr *e, int32_t atom, double w, nq_err *err)
{
    int rc = check_term(m, atom, atom, w, err);
    if (rc)
        return rc;
    if (grow((void **)&e->lin, &e->cap_lin, e->n_lin + 1, sizeof *e->lin))
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    e->lin[e->n_lin++] = (nq_cqm_lin){ .atom = atom, .w = w };
    m->n_terms++;
    m->finished = 0;
    return 0;
}

static int expr_quad(nq_cqm *m, nq_cqm_expr *e, int32_t a, int32_t b, double w, nq_err *err)
{
    int rc = check_term(m, a, b, w, err);
    if (rc)
        return rc;
    if (grow((void **)&e->quad, &e->cap_quad, e->n_quad + 1, sizeof *e->quad))
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    e->quad[e->n_quad++] = (nq_cqm_quad){ .a = a < b ? a : b, .b = a < b ? b : a, .w = w };
    m->n_terms++;
    m->finished = 0;
    return 0;
}

static int ensure_default_group(nq_cqm *m, nq_err *err)
{
    if (m->n_groups > 0)
        return 0;
    return nq_cqm_add_group(m, "objective", err) < 0 ? NQ_ENOMEM : 0;
}

int nq_cqm_add_group(nq_cqm *m, const char *name, nq_err *err)
{
    if (m->n_groups == 0 && strcmp(name, "objective") != 0) {
        int rc = nq_cqm_add_group(m, "objective", err);
        if (rc < 0)
            return rc;
    }
    size_t len = name ? strlen(name) : 0;
    if (len == 0 || len > NQ_CQM_MAX_NAME)
        return nq_err_set(err, NQ_EINVAL, NULL, "group name must be 1..%d bytes",
                          NQ_CQM_MAX_NAME);
    for (int32_t g = 0; g < m->n_groups; g++)
        if (strcmp(m->groups[g].name, name) == 0)
            return nq_err_set(err, NQ_EINVAL, NULL, "duplicate group name '%s'", name);
    if (m->n_groups >= NQ_CQM_MAX_GROUPS + 1) /* the default group is not counted */
        return nq_err_set(err, NQ_ELIMIT, NULL, "more than %d groups", NQ_CQM_MAX_GROUPS);
    if (grow((void **)&m->groups, &m->cap_groups, m->n_groups + 1, sizeof *m->groups))
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    nq_cqm_group *g = &m->groups[m->n_groups];
    memset(g, 0, sizeof *g);
    g->name = dup_str(name);
    if (!g->name)
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    return m->n_groups++;
}

static int group_of(nq_cqm *m, int32_t group, nq_err *err)
{
    int rc = ensure_default_group(m, err);
    if (rc)
        return rc;
    if (group < 0)
        group = 0;
    if (group >= m->n_groups)
        return nq_err_set(err, NQ_EINVAL, NULL, "no objective group %d", (int)group);
    return group;
}

int nq_cqm_obj_linear(nq_cqm *m, int32_t group, int32_t atom, double w, nq_err *err)
{
    int g = group_of(m, group, err);
    return g < 0 ? g : expr_lin(m, &m->groups[g].e, atom, w, err);
}

int nq_cqm_obj_quadratic(nq_cqm *m, int32_t group, int32_t a, int32_t b, double w, nq_err *err)
{
    int g = group_of(m, group, err);
    return g < 0 ? g : expr_quad(m, &m->groups[g].e, a, b, w, err);
}

int nq_cqm_set_obj_coef(nq_cqm *m, int32_t atom, double w, nq_err *err)
{
    int g0 = group_of(m, 0, err);
    if (g0 < 0)
        return g0;
    for (int32_t g = 0; g < m->n_groups; g++) {
        nq_cqm_expr *e = &m->groups[g].e;
        int32_t k = 0;
        for (int32_t i = 0; i < e->n_lin; i++)
            if (e->lin[i].atom != atom)
                e->lin[k++] = e->lin[i];
        m->n_terms -= e->n_lin - k;
        e->n_lin = k;
    }
    return expr_lin(m, &m->groups[0].e, atom, w, err);
}

int nq_cqm_add_constraint(nq_cqm *m, const char *name, nq_cqm_sense sense, double rhs,
                          int hard, double weight, nq_err *err)
{
    char def[32];
    if (!name) {
        snprintf(def, sizeof def, "c%d", (int)m->n_cons);
        name = def;
    }
    size_t len = strlen(name);
    if (len == 0 || len > NQ_CQM_MAX_NAME)
        return nq_err_set(err, NQ_EINVAL, NULL, "constraint name must be 1..%d bytes",
                          NQ_CQM_MAX_NAME);
    if (sense != NQ_CQM_LE && sense != NQ_CQM_GE && sense != NQ_CQM_EQ)
        return nq_err_set(err, NQ_EINVAL, NULL, "unknown constraint sense");
    if (!isfinite(rhs) || fabs(rhs) > NQ_CQM_MAX_COEF)
        return nq_err_set(err, NQ_ERANGE, NULL, "rhs must be finite and at most %g",
                          NQ_CQM_MAX_COEF);
    if (!hard && !(weight < 0) && (!isfinite(weight) || weight <= 0 || weight > NQ_CQM_MAX_COEF))
        return nq_err_set(err, NQ_ERANGE, NULL, "a soft constraint's weight must be in (0, %g]",
                          NQ_CQM_MAX_COEF);
    if (m->n_cons >= NQ_CQM_MAX_CONSTRAINTS)
        return nq_err_set(err, NQ_ELIMIT, NULL, "more than %d constraints",
                          NQ_CQM_MAX_CONSTRAINTS);
    if (nq_cqm_find_con(m, name) >= 0)
        return nq_err_set(err, NQ_EINVAL, NULL, "duplicate constraint name '%s'", name);
    if (grow((void **)&m->cons, &m->cap_cons, m->n_cons + 1, sizeof *m->cons) ||
        slots_reserve(m, 1, m->n_cons + 1))
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    nq_cqm_con *c = &m->cons[m->n_cons];
    memset(c, 0, sizeof *c);
    c->name = dup_str(name);
    if (!c->name)
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    c->sense = sense;
    c->rhs = rhs;
    c->hard = hard || weight < 0;
    c->weight = c->hard ? 0 : weight;
    m->finished = 0;
    slot_insert(m, 1, m->n_cons);
    return m->n_cons++;
}

int32_t nq_cqm_find_con(const nq_cqm *m, const char *name)
{
    return slot_find(m, 1, name);
}

static int con_of(nq_cqm *m, int32_t con, nq_err *err)
{
    if (con < 0 || con >= m->n_cons)
        return nq_err_set(err, NQ_EINVAL, NULL, "no constraint %d", (int)con);
    return 0;
}

int nq_cqm_con_linear(nq_cqm *m, int32_t con, int32_t atom, double w, nq_err *err)
{
    int rc = con_of(m, con, err);
    return rc ? rc : expr_lin(m, &m->cons[con].e, atom, w, err);
}

int nq_cqm_con_quadratic(nq_cqm *m, int32_t con, int32_t a, int32_t b, double w, nq_err *err)
{
    int rc = con_of(m, con, err);
    return rc ? rc : expr_quad(m, &m->cons[con].e, a, b, w, err);
}

/* ---- fixing and vetoing ------------------------------------------------------ */

int nq_cqm_fix(nq_cqm *m, int32_t var, int64_t value, nq_err *err)
{
    if (var < 0 || var >= m->n_vars)
        return nq_err_set(err, NQ_EINVAL, NULL, "no variable %d", (int)var);
    nq_cqm_var *v = &m->vars[var];
    if (value < v->lb || value > v->ub)
        return nq_err_set(err, NQ_EINVAL, NULL, "cannot fix '%s' to %lld: outside %lld..%lld",
                          v->name, (long long)value, (long long)v->lb, (long long)v->ub);
    if (v->kind == NQ_CQM_CHOICE && v->vetoed && v->vetoed[value])
        return nq_err_set(err, NQ_EINVAL, NULL, "cannot fix '%s' to vetoed option '%s'",
                          v->name, v->labels[value]);
    if (v->fixed && v->fixed_value != value)
        return nq_err_set(err, NQ_EINVAL, NULL, "'%s' is already fixed to another value",
                          v->name);
    v->fixed = 1;
    v->fixed_value = value;
    m->finished = 0;
    return 0;
}

int nq_cqm_veto(nq_cqm *m, int32_t var, int32_t option, nq_err *err)
{
    if (var < 0 || var >= m->n_vars || m->vars[var].kind != NQ_CQM_CHOICE)
        return nq_err_set(err, NQ_EINVAL, NULL, "only options of choice variables can be vetoed");
    nq_cqm_var *v = &m->vars[var];
    if (option < 0 || option >= v->n_options)
        return nq_err_set(err, NQ_EINVAL, NULL, "'%s' has no option %d", v->name, (int)option);
    if (v->fixed && v->fixed_value == option)
        return nq_err_set(err, NQ_EINVAL, NULL, "cannot veto '%s=%s': it is fixed", v->name,
                          v->labels[option]);
    if (!v->vetoed) {
        v->vetoed = calloc((size_t)v->n_options, 1);
        if (!v->vetoed)
            return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    }
    v->vetoed[option] = 1;
    m->finished = 0;
    return 0;
}
