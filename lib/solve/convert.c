/* convert.c - exact QUBO <-> Ising conversions and deep copies.
 *
 * With x = (1 + s) / 2:
 *   w x_i x_j = w/4 (1 + s_i + s_j + s_i s_j),   c x_i = c/2 (1 + s_i)
 * and with s = 2x - 1:
 *   J s_i s_j = J (4 x_i x_j - 2 x_i - 2 x_j + 1),   h s_i = h (2 x_i - 1).
 * Scaling by powers of two is exact in binary floating point, so integer
 * models convert without rounding. */
#include "nqba/model.h"

#include <stdlib.h>
#include <string.h>

static void *dup_array(const void *src, size_t count, size_t size)
{
    size_t bytes = count * size;
    void *p = malloc(bytes ? bytes : 1);
    if (p && bytes)
        memcpy(p, src, bytes);
    return p;
}

static int copy_names(const nq_model *m, nq_model *out)
{
    if (!m->names)
        return NQ_OK;
    out->names = calloc((size_t)(m->n ? m->n : 1), sizeof *out->names);
    if (!out->names)
        return NQ_ENOMEM;
    for (int32_t i = 0; i < m->n; i++)
        if (!(out->names[i] = strdup(m->names[i])))
            return NQ_ENOMEM;
    return NQ_OK;
}

int nq_model_copy(const nq_model *m, nq_model *out, nq_err *err)
{
    memset(out, 0, sizeof *out);
    *out = *m;
    out->linear = out->w = out->dense = NULL;
    out->row = NULL;
    out->col = NULL;
    out->names = NULL;
    size_t n = (size_t)m->n;
    out->linear = dup_array(m->linear, n, sizeof *m->linear);
    out->row = dup_array(m->row, n + 1, sizeof *m->row);
    out->col = dup_array(m->col, (size_t)m->nnz, sizeof *m->col);
    out->w = dup_array(m->w, (size_t)m->nnz, sizeof *m->w);
    if (m->dense)
        out->dense = dup_array(m->dense, n * n, sizeof *m->dense);
    int ok = out->linear && out->row && out->col && out->w && (!m->dense || out->dense);
    if (!ok || copy_names(m, out)) {
        nq_model_free(out);
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory copying the model");
    }
    return NQ_OK;
}

static void scale_couplings(nq_model *m, double f)
{
    for (int64_t k = 0; k < m->nnz; k++)
        m->w[k] *= f;
    if (m->dense)
        for (int64_t k = 0; k < (int64_t)m->n * m->n; k++)
            m->dense[k] *= f;
}

int nq_model_to_ising(const nq_model *m, nq_model *out, nq_err *err)
{
    int rc = nq_model_copy(m, out, err);
    if (rc || m->type == NQ_ISING)
        return rc;
    double off = m->offset;
    for (int32_t i = 0; i < m->n; i++) {
        double h = m->linear[i] / 2.0;
        off += m->linear[i] / 2.0;
        for (int64_t k = m->row[i]; k < m->row[i + 1]; k++) {
            h += m->w[k] / 4.0;
            if (m->col[k] > i)
                off += m->w[k] / 4.0;
        }
        out->linear[i] = h;
    }
    out->offset = off;
    scale_couplings(out, 0.25);
    out->type = NQ_ISING;
    out->maxcut = 0;
    return NQ_OK;
}

int nq_model_to_qubo(const nq_model *m, nq_model *out, nq_err *err)
{
    int rc = nq_model_copy(m, out, err);
    if (rc || m->type == NQ_QUBO)
        return rc;
    double off = m->offset;
    for (int32_t i = 0; i < m->n; i++) {
        double c = 2.0 * m->linear[i];
        off -= m->linear[i];
        for (int64_t k = m->row[i]; k < m->row[i + 1]; k++) {
            c -= 2.0 * m->w[k];
            if (m->col[k] > i)
                off += m->w[k];
        }
        out->linear[i] = c;
    }
    out->offset = off;
    scale_couplings(out, 4.0);
    out->type = NQ_QUBO;
    out->maxcut = 0;
    return NQ_OK;
}
