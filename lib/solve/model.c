/* model.c - building QUBO/Ising models from terms, energy, copies. */
#include "nqba/model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void nq_builder_init(nq_builder *b, nq_vartype type)
{
    memset(b, 0, sizeof *b);
    b->type = type;
    b->max_vars = NQ_MODEL_MAX_VARS;
    b->max_terms = NQ_MODEL_MAX_TERMS;
}

void nq_builder_free(nq_builder *b)
{
    if (!b)
        return;
    free(b->linear);
    free(b->qi);
    free(b->qj);
    free(b->qw);
    nq_vartype t = b->type;
    int32_t mv = b->max_vars;
    int64_t mt = b->max_terms;
    memset(b, 0, sizeof *b);
    b->type = t;
    b->max_vars = mv;
    b->max_terms = mt;
}

int nq_builder_set_n(nq_builder *b, int32_t n, nq_err *err)
{
    if (n < 0 || n > b->max_vars)
        return nq_err_set(err, NQ_ELIMIT, NULL, "%ld variables: the limit is %ld", (long)n,
                          (long)b->max_vars);
    if (n > b->lin_cap) {
        int64_t cap = b->lin_cap ? (int64_t)b->lin_cap * 2 : 64;
        if (cap < n)
            cap = n;
        if (cap > b->max_vars)
            cap = b->max_vars;
        double *p = realloc(b->linear, (size_t)cap * sizeof *p);
        if (!p)
            return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory for %ld variables", (long)cap);
        memset(p + b->lin_cap, 0, (size_t)(cap - b->lin_cap) * sizeof *p);
        b->linear = p;
        b->lin_cap = (int32_t)cap;
    }
    if (n > b->n)
        b->n = n;
    return NQ_OK;
}

static int check_index(const nq_builder *b, int32_t i, nq_err *err)
{
    if (i < 0 || i >= b->max_vars)
        return nq_err_set(err, NQ_ERANGE, NULL, "variable index %ld out of range 0..%ld",
                          (long)i, (long)b->max_vars - 1);
    return NQ_OK;
}

static int check_coef(double w, nq_err *err)
{
    if (!isfinite(w))
        return nq_err_set(err, NQ_ERANGE, NULL, "coefficient is not a finite number");
    return NQ_OK;
}

int nq_builder_add_linear(nq_builder *b, int32_t i, double w, nq_err *err)
{
    int rc = check_index(b, i, err);
    if (!rc)
        rc = check_coef(w, err);
    if (!rc)
        rc = nq_builder_set_n(b, i + 1, err);
    if (rc)
        return rc;
    b->linear[i] += w;
    return NQ_OK;
}

static int grow_terms(nq_builder *b, nq_err *err)
{
    if (b->qlen >= b->max_terms)
        return nq_err_set(err, NQ_ELIMIT, NULL, "more than %lld quadratic terms",
                          (long long)b->max_terms);
    int64_t cap = b->qcap ? b->qcap * 2 : 1024;
    if (cap > b->max_terms)
        cap = b->max_terms;
    int32_t *qi = realloc(b->qi, (size_t)cap * sizeof *qi);
    if (qi)
        b->qi = qi;
    int32_t *qj = realloc(b->qj, (size_t)cap * sizeof *qj);
    if (qj)
        b->qj = qj;
    double *qw = realloc(b->qw, (size_t)cap * sizeof *qw);
    if (qw)
        b->qw = qw;
    if (!qi || !qj || !qw)
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory for %lld terms", (long long)cap);
    b->qcap = cap;
    return NQ_OK;
}

int nq_builder_add_quadratic(nq_builder *b, int32_t i, int32_t j, double w, nq_err *err)
{
    int rc = check_index(b, i, err);
    if (!rc)
        rc = check_index(b, j, err);
    if (!rc)
        rc = check_coef(w, err);
    if (!rc)
        rc = nq_builder_set_n(b, (i > j ? i : j) + 1, err);
    if (rc)
        return rc;
    if (i == j) {
        /* x^2 = x for bits, s^2 = 1 for spins. */
        if (b->type == NQ_QUBO)
            b->linear[i] += w;
        else
            b->offset += w;
        return NQ_OK;
    }
    if (b->qlen == b->qcap && (rc = grow_terms(b, err)))
        return rc;
    b->qi[b->qlen] = i < j ? i : j;
    b->qj[b->qlen] = i < j ? j : i;
    b->qw[b->qlen] = w;
    b->qlen++;
    return NQ_OK;
}

void nq_builder_add_offset(nq_builder *b, double k)
{
    b->offset += k;
}

static int is_integer(double v)
{
    return v == nearbyint(v) && fabs(v) < 9.007199254740992e15;
}

static void mark_integral(nq_model *m)
{
    int ok = is_integer(m->offset);
    for (int32_t i = 0; ok && i < m->n; i++)
        ok = is_integer(m->linear[i]);
    for (int64_t k = 0; ok && k < m->nnz; k++)
        ok = is_integer(m->w[k]);
    m->integral = ok;
}

/* Dense rows are faster than CSR when most pairs are coupled: no index
 * indirection and the field update vectorizes. */
static int maybe_densify(nq_model *m)
{
    int64_t n = m->n;
    if (n < 2 || n > NQ_DENSE_MAX_VARS || (double)m->nnz < NQ_DENSE_MIN_FILL * (double)(n * (n - 1)))
        return NQ_OK;
    m->dense = calloc((size_t)(n * n), sizeof *m->dense);
    if (!m->dense)
        return NQ_ENOMEM;
    for (int64_t i = 0; i < n; i++)
        for (int64_t k = m->row[i]; k < m->row[i + 1]; k++)
            m->dense[i * n + m->col[k]] = m->w[k];
    return NQ_OK;
}

/* Counting-sort the triplets into CSR rows (both directions), then merge
 * duplicate columns within each row. */
static int build_csr(nq_builder *b, nq_model *m)
{
    int32_t n = b->n;
    int64_t *cnt = calloc((size_t)n + 1, sizeof *cnt);
    if (!cnt)
        return NQ_ENOMEM;
    for (int64_t k = 0; k < b->qlen; k++) {
        cnt[b->qi[k] + 1]++;
        cnt[b->qj[k] + 1]++;
    }
    for (int32_t i = 0; i < n; i++)
        cnt[i + 1] += cnt[i];
    int64_t total = cnt[n];
    int32_t *col = malloc((size_t)(total ? total : 1) * sizeof *col);
    double *w = malloc((size_t)(total ? total : 1) * sizeof *w);
    int64_t *pos = malloc((size_t)n * sizeof *pos + 1);
    if (!col || !w || !pos) {
        free(cnt), free(col), free(w), free(pos);
        return NQ_ENOMEM;
    }
    memcpy(pos, cnt, (size_t)n * sizeof *pos);
    /* Triplets in input order per row; sorting by column below. */
    for (int64_t k = 0; k < b->qlen; k++) {
        int32_t i = b->qi[k], j = b->qj[k];
        col[pos[i]] = j, w[pos[i]++] = b->qw[k];
        col[pos[j]] = i, w[pos[j]++] = b->qw[k];
    }
    free(pos);
    m->row = cnt;
    m->col = col;
    m->w = w;
    return NQ_OK;
}

static void sort_row(int32_t *col, double *w, int64_t len)
{
    /* Insertion sort for short rows, which are the common case; shell
     * gaps make long (dense) rows tolerable. */
    static const int64_t gaps[] = {701, 301, 132, 57, 23, 10, 4, 1};
    for (size_t g = 0; g < sizeof gaps / sizeof gaps[0]; g++) {
        int64_t gap = gaps[g];
        for (int64_t a = gap; a < len; a++) {
            int32_t c = col[a];
            double x = w[a];
            int64_t b = a;
            for (; b >= gap && col[b - gap] > c; b -= gap) {
                col[b] = col[b - gap];
                w[b] = w[b - gap];
            }
            col[b] = c;
            w[b] = x;
        }
    }
}

/* Sort each row by column and sum duplicate columns in place. */
static void merge_rows(nq_model *m)
{
    int64_t out = 0, start = m->row[0];
    for (int32_t i = 0; i < m->n; i++) {
        int64_t end = m->row[i + 1], row_begin = out;
        sort_row(m->col + start, m->w + start, end - start);
        for (int64_t k = start; k < end; k++) {
            if (out > row_begin && m->col[out - 1] == m->col[k]) {
                m->w[out - 1] += m->w[k];
                continue;
            }
            m->col[out] = m->col[k];
            m->w[out++] = m->w[k];
        }
        start = end;
        m->row[i + 1] = out;
    }
    m->nnz = out;
}

static int64_t find_col(const nq_model *m, int32_t i, int32_t j)
{
    int64_t lo = m->row[i], hi = m->row[i + 1];
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (m->col[mid] < j)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Duplicates of a pair may have been summed in a different order in its
 * two rows, which can differ in the last bit for real weights: copy the
 * upper entry over the lower one so w_ij == w_ji exactly. */
static void symmetrize(nq_model *m)
{
    for (int32_t i = 0; i < m->n; i++)
        for (int64_t k = m->row[i]; k < m->row[i + 1]; k++)
            if (m->col[k] > i)
                m->w[find_col(m, m->col[k], i)] = m->w[k];
}

/* Drop couplings that summed to zero. */
static void drop_zeros(nq_model *m)
{
    int64_t out = 0, start = m->row[0];
    for (int32_t i = 0; i < m->n; i++) {
        int64_t end = m->row[i + 1];
        for (int64_t k = start; k < end; k++)
            if (m->w[k] != 0.0) {
                m->col[out] = m->col[k];
                m->w[out++] = m->w[k];
            }
        start = end;
        m->row[i + 1] = out;
    }
    m->nnz = out;
}

static void compact_rows(nq_model *m)
{
    merge_rows(m);
    symmetrize(m);
    drop_zeros(m);
}

int nq_builder_finish(nq_builder *b, nq_model *out, nq_err *err)
{
    memset(out, 0, sizeof *out);
    int rc = nq_builder_set_n(b, b->n, err);
    if (rc) {
        nq_builder_free(b);
        return rc;
    }
    out->type = b->type;
    out->n = b->n;
    out->offset = b->offset;
    out->linear = calloc((size_t)(b->n ? b->n : 1), sizeof *out->linear);
    if (out->linear && b->n)
        memcpy(out->linear, b->linear, (size_t)b->n * sizeof *out->linear);
    rc = out->linear ? build_csr(b, out) : NQ_ENOMEM;
    nq_builder_free(b);
    if (!rc) {
        compact_rows(out);
        mark_integral(out);
        rc = maybe_densify(out);
    }
    if (rc) {
        nq_model_free(out);
        return nq_err_set(err, rc, NULL, "out of memory building the model");
    }
    return NQ_OK;
}

void nq_model_free(nq_model *m)
{
    if (!m)
        return;
    free(m->linear);
    free(m->row);
    free(m->col);
    free(m->w);
    free(m->dense);
    if (m->names) {
        for (int32_t i = 0; i < m->n; i++)
            free(m->names[i]);
        free(m->names);
    }
    memset(m, 0, sizeof *m);
}

void nq_model_set_names(nq_model *m, char **names)
{
    if (m->names) {
        for (int32_t i = 0; i < m->n; i++)
            free(m->names[i]);
        free(m->names);
    }
    m->names = names;
}

double nq_model_energy(const nq_model *m, const int8_t *state)
{
    double e = m->offset;
    for (int32_t i = 0; i < m->n; i++) {
        double v = state[i];
        if (v == 0.0)
            continue;
        e += m->linear[i] * v;
        double acc = 0.0;
        /* Each pair once: only neighbours after i. */
        for (int64_t k = m->row[i]; k < m->row[i + 1]; k++)
            if (m->col[k] > i)
                acc += m->w[k] * state[m->col[k]];
        e += v * acc;
    }
    return e;
}

void nq_bits_to_spins(const int8_t *bits, int8_t *spins, int32_t n)
{
    for (int32_t i = 0; i < n; i++)
        spins[i] = bits[i] ? 1 : -1;
}

void nq_spins_to_bits(const int8_t *spins, int8_t *bits, int32_t n)
{
    for (int32_t i = 0; i < n; i++)
        bits[i] = spins[i] > 0 ? 1 : 0;
}

double nq_maxcut_value(const nq_model *m, const int8_t *spins)
{
    double cut = 0.0;
    for (int32_t i = 0; i < m->n; i++)
        for (int64_t k = m->row[i]; k < m->row[i + 1]; k++)
            if (m->col[k] > i && spins[i] != spins[m->col[k]])
                cut += m->w[k];
    return cut;
}
