/* cqm_qubo.c - compiling a constrained model to a QUBO for the annealing
 * engine.
 *
 * Every atom becomes an affine expression of bits: a binary is one bit, an
 * integer lb + sum c_k b_k with c = 1, 2, 4, ... and a last coefficient
 * that makes the largest value exactly ub (so no bit pattern leaves the
 * bounds), a choice option one bit (vetoed options and fixed variables are
 * constants). Choices get the one-hot penalty A (sum x - 1)^2. A linear
 * constraint E (sense) rhs becomes lam (E +- s - rhs)^2 with a slack s
 * encoded the same way over the range the constraint can leave to it.
 * Quadratic constraints would square into quartic terms, so models with
 * them are not compiled (the native search handles them). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cqm_qubo.h"

typedef struct affine {
    double k;          /* constant */
    int32_t n;         /* bits */
    int32_t bit[40];
    double c[40];
} affine;

static int32_t encode_range(int32_t first_bit, double span, double step, affine *a)
{
    /* Powers of two up to the span, then the remainder. */
    double total = 0, c = 1;
    while (a->n < 39 && total + c <= span) {
        a->bit[a->n] = first_bit + a->n;
        a->c[a->n++] = c * step;
        total += c;
        c *= 2;
    }
    if (span - total >= 1 && a->n < 40) {
        a->bit[a->n] = first_bit + a->n;
        a->c[a->n++] = (span - total) * step;
    }
    return a->n;
}

int nq__cqm_qubo_supported(const nq_cqm *m)
{
    for (int32_t c = 0; c < m->n_cons; c++)
        if (m->cons[c].e.n_quad > 0)
            return 0;
    return 1;
}

void nq__cqm_qubo_free(nq__cqm_qubo *q)
{
    if (!q)
        return;
    free(q->atom_first);
    free(q->atom_k);
    free(q->atom_n);
    memset(q, 0, sizeof *q);
}

/* Lay out the atoms' bits. */
static int map_atoms(const nq_cqm *m, nq__cqm_qubo *q)
{
    size_t na = (size_t)m->n_atoms + 1;
    q->atom_first = calloc(na, sizeof *q->atom_first);
    q->atom_k = calloc(na, sizeof *q->atom_k);
    q->atom_n = calloc(na, sizeof *q->atom_n);
    if (!q->atom_first || !q->atom_k || !q->atom_n)
        return NQ_ENOMEM;
    for (int32_t a = 0; a < m->n_atoms; a++) {
        const nq_cqm_var *v = &m->vars[m->atom_var[a]];
        int32_t opt = m->atom_opt[a];
        q->atom_first[a] = q->n_bits;
        if (v->fixed) {
            q->atom_k[a] = opt < 0 ? (double)v->fixed_value : (double)(v->fixed_value == opt);
        } else if (opt >= 0) {
            if (v->vetoed && v->vetoed[opt])
                continue;
            q->atom_n[a] = 1;
        } else {
            affine af = { .k = 0, .n = 0 };
            encode_range(q->n_bits, (double)(v->ub - v->lb), 1, &af);
            q->atom_k[a] = (double)v->lb;
            q->atom_n[a] = af.n;
        }
        q->n_bits += q->atom_n[a];
    }
    return 0;
}

/* Bit weights follow from the bounds (encode_range), so they are derived
 * here rather than stored: 40 doubles an atom would be most of the map. */
double nq__cqm_qubo_coef(const nq_cqm *m, int32_t atom, int32_t bit)
{
    if (m->atom_opt[atom] >= 0 || m->vars[m->atom_var[atom]].kind != NQ_CQM_INTEGER)
        return 1;
    const nq_cqm_var *v = &m->vars[m->atom_var[atom]];
    affine af = { .k = 0, .n = 0 };
    encode_range(0, (double)(v->ub - v->lb), 1, &af);
    return bit < af.n ? af.c[bit] : 0;
}

static void atom_affine(const nq_cqm *m, const nq__cqm_qubo *q, int32_t a, affine *out)
{
    out->k = q->atom_k[a];
    out->n = q->atom_n[a];
    if (out->n > 1) { /* an integer: its weights in one pass */
        const nq_cqm_var *v = &m->vars[m->atom_var[a]];
        affine af = { .k = 0, .n = 0 };
        encode_range(q->atom_first[a], (double)(v->ub - v->lb), 1, &af);
        memcpy(out->bit, af.bit, sizeof af.bit);
        memcpy(out->c, af.c, sizeof af.c);
        return;
    }
    out->bit[0] = q->atom_first[a];
    out->c[0] = out->n ? nq__cqm_qubo_coef(m, a, 0) : 0;
}

/* Add w * (x) * (y) for affine x, y. */
static int add_product(nq_builder *b, const affine *x, const affine *y, double w, nq_err *err)
{
    int rc = 0;
    nq_builder_add_offset(b, w * x->k * y->k);
    for (int32_t i = 0; i < x->n && !rc; i++)
        rc = nq_builder_add_linear(b, x->bit[i], w * x->c[i] * y->k, err);
    for (int32_t j = 0; j < y->n && !rc; j++)
        rc = nq_builder_add_linear(b, y->bit[j], w * y->c[j] * x->k, err);
    for (int32_t i = 0; i < x->n && !rc; i++)
        for (int32_t j = 0; j < y->n && !rc; j++)
            rc = nq_builder_add_quadratic(b, x->bit[i], y->bit[j], w * x->c[i] * y->c[j], err);
    return rc;
}

static int add_objective(const nq_cqm *m, const nq__cqm_qubo *q, nq_builder *b, nq_err *err)
{
    double sign = m->maximize ? -1 : 1;
    affine x, y, one = { .k = 1, .n = 0 };
    nq_builder_add_offset(b, sign * m->offset);
    for (int32_t g = 0; g < m->n_groups; g++) {
        const nq_cqm_expr *e = &m->groups[g].e;
        for (int32_t i = 0; i < e->n_lin; i++) {
            atom_affine(m, q, e->lin[i].atom, &x);
            int rc = add_product(b, &x, &one, sign * e->lin[i].w, err);
            if (rc)
                return rc;
        }
        for (int32_t i = 0; i < e->n_quad; i++) {
            atom_affine(m, q, e->quad[i].a, &x);
            atom_affine(m, q, e->quad[i].b, &y);
            int rc = add_product(b, &x, &y, sign * e->quad[i].w, err);
            if (rc)
                return rc;
        }
    }
    return 0;
}

/* lam * (sum_j t_j)^2 over a flat list of (bit or constant) terms. */
typedef struct flat {
    double k;
    int32_t n, cap;
    int32_t *bit;
    double *c;
} flat;

static int flat_push(flat *f, int32_t bit, double c)
{
    if (f->n == f->cap) {
        int32_t nc = f->cap ? f->cap * 2 : 64;
        int32_t *nb = realloc(f->bit, (size_t)nc * sizeof *nb);
        if (!nb)
            return NQ_ENOMEM;
        f->bit = nb;
        double *ncf = realloc(f->c, (size_t)nc * sizeof *ncf);
        if (!ncf)
            return NQ_ENOMEM;
        f->c = ncf;
        f->cap = nc;
    }
    f->bit[f->n] = bit;
    f->c[f->n++] = c;
    return 0;
}

static int add_square(nq_builder *b, const flat *f, double lam, nq_err *err)
{
    int rc = 0;
    nq_builder_add_offset(b, lam * f->k * f->k);
    for (int32_t i = 0; i < f->n && !rc; i++) {
        rc = nq_builder_add_linear(b, f->bit[i], lam * (f->c[i] * f->c[i] + 2 * f->k * f->c[i]),
                                   err);
        for (int32_t j = i + 1; j < f->n && !rc; j++)
            rc = nq_builder_add_quadratic(b, f->bit[i], f->bit[j], 2 * lam * f->c[i] * f->c[j],
                                          err);
    }
    return rc;
}

/* Expression terms of constraint c as bits; returns 0 or NQ_ENOMEM. */
static int con_flat(const nq_cqm *m, const nq__cqm_qubo *q, int32_t c, flat *f)
{
    const nq_cqm_expr *e = &m->cons[c].e;
    affine x;
    f->n = 0;
    f->k = -m->cons[c].rhs;
    for (int32_t i = 0; i < e->n_lin; i++) {
        atom_affine(m, q, e->lin[i].atom, &x);
        f->k += e->lin[i].w * x.k;
        for (int32_t j = 0; j < x.n; j++)
            if (flat_push(f, x.bit[j], e->lin[i].w * x.c[j]))
                return NQ_ENOMEM;
    }
    return 0;
}

/* Slack bits for an inequality; grows *n_bits. */
static int add_slack(const nq_cqm *m, int32_t c, flat *f, int32_t *n_bits)
{
    double lo = f->k, hi = f->k, step = INFINITY;
    int integral = fabs(f->k - nearbyint(f->k)) < 1e-9;
    for (int32_t j = 0; j < f->n; j++) {
        if (f->c[j] < 0)
            lo += f->c[j];
        else
            hi += f->c[j];
        if (fabs(f->c[j]) < step)
            step = fabs(f->c[j]);
        integral &= fabs(f->c[j] - nearbyint(f->c[j])) < 1e-9;
    }
    /* E - rhs ranges over [lo, hi]; <= needs s in [0, -lo], >= in [0, hi]. */
    double range = m->cons[c].sense == NQ_CQM_LE ? -lo : hi;
    double sign = m->cons[c].sense == NQ_CQM_LE ? 1 : -1;
    if (integral)
        step = 1;
    if (!(range >= step) || !isfinite(step))
        return 0;
    affine s = { .k = 0, .n = 0 };
    encode_range(*n_bits, floor(range / step + 1e-9), step, &s);
    for (int32_t j = 0; j < s.n; j++)
        if (flat_push(f, s.bit[j], sign * s.c[j]))
            return NQ_ENOMEM;
    *n_bits += s.n;
    return 0;
}

static int add_constraints(const nq_cqm *m, nq__cqm_qubo *q, const double *lam, nq_builder *b,
                           nq_err *err)
{
    flat f = { .k = 0, .n = 0, .cap = 0, .bit = NULL, .c = NULL };
    int rc = 0;
    for (int32_t c = 0; c < m->n_cons && !rc; c++) {
        rc = con_flat(m, q, c, &f);
        if (!rc && m->cons[c].sense != NQ_CQM_EQ)
            rc = add_slack(m, c, &f, &q->n_total);
        if (rc) {
            rc = nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
            break;
        }
        if (q->n_total > NQ_CQM_QUBO_MAX_BITS)
            rc = nq_err_set(err, NQ_ELIMIT, NULL, "QUBO compilation needs more than %d bits",
                            NQ_CQM_QUBO_MAX_BITS);
        else if (!(rc = nq_builder_set_n(b, q->n_total, err)))
            rc = add_square(b, &f, lam[c], err);
    }
    free(f.bit);
    free(f.c);
    return rc ? (err && err->code ? err->code : NQ_ENOMEM) : 0;
}

static int add_onehot(const nq_cqm *m, const nq__cqm_qubo *q, double a_pen, nq_builder *b,
                      nq_err *err)
{
    flat f = { .k = 0, .n = 0, .cap = 0, .bit = NULL, .c = NULL };
    int rc = 0;
    for (int32_t v = 0; v < m->n_vars && !rc; v++) {
        const nq_cqm_var *var = &m->vars[v];
        if (var->kind != NQ_CQM_CHOICE || var->fixed)
            continue;
        f.n = 0;
        f.k = -1;
        for (int32_t k = 0; k < var->n_options && !rc; k++)
            if (q->atom_n[var->atom + k])
                rc = flat_push(&f, q->atom_first[var->atom + k], 1);
        if (!rc)
            rc = add_square(b, &f, a_pen, err);
    }
    free(f.bit);
    free(f.c);
    return rc;
}

int nq__cqm_qubo_build(const nq_cqm *m, const double *lam, double onehot, nq__cqm_qubo *q,
                       nq_model *out, nq_err *err)
{
    nq__cqm_qubo_free(q);
    if (map_atoms(m, q))
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    q->n_total = q->n_bits;
    nq_builder b;
    nq_builder_init(&b, NQ_QUBO);
    int rc = nq_builder_set_n(&b, q->n_bits > 0 ? q->n_bits : 1, err);
    if (!rc)
        rc = add_objective(m, q, &b, err);
    if (!rc)
        rc = add_constraints(m, q, lam, &b, err);
    if (!rc)
        rc = add_onehot(m, q, onehot, &b, err);
    if (rc) {
        nq_builder_free(&b);
        return rc;
    }
    return nq_builder_finish(&b, out, err);
}

/* Among the set options of a choice, the first; none set: the first allowed. */
static int64_t decode_choice(const nq_cqm_var *v, const nq__cqm_qubo *q, const int8_t *bits)
{
    for (int32_t k = 0; k < v->n_options; k++) {
        int32_t a = v->atom + k;
        if (q->atom_n[a] && bits[q->atom_first[a]])
            return k;
    }
    for (int32_t k = 0; k < v->n_options; k++)
        if (!v->vetoed || !v->vetoed[k])
            return k;
    return 0;
}

void nq__cqm_qubo_decode(const nq_cqm *m, const nq__cqm_qubo *q, const int8_t *bits,
                         int64_t *values)
{
    for (int32_t v = 0; v < m->n_vars; v++) {
        const nq_cqm_var *var = &m->vars[v];
        int32_t a = var->atom;
        if (var->fixed) {
            values[v] = var->fixed_value;
        } else if (var->kind == NQ_CQM_CHOICE) {
            values[v] = decode_choice(var, q, bits);
        } else {
            double x = q->atom_k[a];
            for (int32_t i = 0; i < q->atom_n[a]; i++)
                x += nq__cqm_qubo_coef(m, a, i) * bits[q->atom_first[a] + i];
            int64_t r = (int64_t)nearbyint(x);
            values[v] = r < var->lb ? var->lb : r > var->ub ? var->ub : r;
        }
    }
}
