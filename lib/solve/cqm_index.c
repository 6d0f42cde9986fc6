/* cqm_index.c - builds the per-atom view of a finished model (see
 * cqm_index.h) with two counting passes, so memory is exact. */
#include <stdlib.h>
#include <string.h>

#include "cqm_index.h"

void nq__cqm_index_free(nq__cqm_index *ix)
{
    if (!ix)
        return;
    free(ix->lin);
    free(ix->sq);
    free(ix->nbr_at);
    free(ix->nbr);
    free(ix->ce_at);
    free(ix->ce);
    free(ix->cq_at);
    free(ix->cq);
    free(ix->intra);
    memset(ix, 0, sizeof *ix);
}

/* Count entries per atom (pass 0) or place them (pass 1). at[] holds the
 * running insert position during pass 1. */
static void objective_pass(const nq_cqm *m, nq__cqm_index *ix, int pass, double sign)
{
    for (int32_t g = 0; g < m->n_groups; g++) {
        const nq_cqm_expr *e = &m->groups[g].e;
        for (int32_t i = 0; pass == 1 && i < e->n_lin; i++)
            ix->lin[e->lin[i].atom] += sign * e->lin[i].w;
        for (int32_t i = 0; i < e->n_quad; i++) {
            const nq_cqm_quad *q = &e->quad[i];
            if (q->a == q->b) {
                if (pass == 1)
                    ix->sq[q->a] += sign * q->w;
                continue;
            }
            if (pass == 0) {
                ix->nbr_at[q->a + 1]++;
                ix->nbr_at[q->b + 1]++;
            } else {
                ix->nbr[ix->nbr_at[q->a]++] = (nq__nbr){ .b = q->b, .w = sign * q->w };
                ix->nbr[ix->nbr_at[q->b]++] = (nq__nbr){ .b = q->a, .w = sign * q->w };
                if (m->atom_var[q->a] == m->atom_var[q->b])
                    ix->intra[m->atom_var[q->a]] = 1;
            }
        }
    }
}

static void constraint_pass(const nq_cqm *m, nq__cqm_index *ix, int pass)
{
    for (int32_t c = 0; c < m->n_cons; c++) {
        const nq_cqm_expr *e = &m->cons[c].e;
        for (int32_t i = 0; i < e->n_lin; i++) {
            int32_t a = e->lin[i].atom;
            if (pass == 0)
                ix->ce_at[a + 1]++;
            else
                ix->ce[ix->ce_at[a]++] = (nq__centry){ .c = c, .w = e->lin[i].w };
        }
        for (int32_t i = 0; i < e->n_quad; i++) {
            const nq_cqm_quad *q = &e->quad[i];
            if (pass == 0) {
                ix->cq_at[q->a + 1]++;
                if (q->b != q->a)
                    ix->cq_at[q->b + 1]++;
                continue;
            }
            ix->cq[ix->cq_at[q->a]++] = (nq__cquad){ .c = c, .b = q->b, .w = q->w };
            if (q->b != q->a)
                ix->cq[ix->cq_at[q->b]++] = (nq__cquad){ .c = c, .b = q->a, .w = q->w };
        }
    }
}

static void prefix(int64_t *at, int32_t n)
{
    for (int32_t a = 0; a < n; a++)
        at[a + 1] += at[a];
}

/* After pass 1 each at[a] points at the end of a's block: shift back. */
static void unshift(int64_t *at, int32_t n)
{
    for (int32_t a = n; a > 0; a--)
        at[a] = at[a - 1];
    at[0] = 0;
}

int nq__cqm_index_build(const nq_cqm *m, nq__cqm_index *ix, nq_err *err)
{
    memset(ix, 0, sizeof *ix);
    ix->m = m;
    ix->n_atoms = m->n_atoms;
    ix->n_vars = m->n_vars;
    ix->n_cons = m->n_cons;
    size_t na = (size_t)m->n_atoms + 1;
    double sign = m->maximize ? -1.0 : 1.0;
    ix->offset = sign * m->offset;
    ix->lin = calloc(na, sizeof *ix->lin);
    ix->sq = calloc(na, sizeof *ix->sq);
    ix->nbr_at = calloc(na, sizeof *ix->nbr_at);
    ix->ce_at = calloc(na, sizeof *ix->ce_at);
    ix->cq_at = calloc(na, sizeof *ix->cq_at);
    ix->intra = calloc((size_t)m->n_vars + 1, 1);
    if (!ix->lin || !ix->sq || !ix->nbr_at || !ix->ce_at || !ix->cq_at || !ix->intra)
        goto oom;
    objective_pass(m, ix, 0, sign);
    constraint_pass(m, ix, 0);
    prefix(ix->nbr_at, m->n_atoms);
    prefix(ix->ce_at, m->n_atoms);
    prefix(ix->cq_at, m->n_atoms);
    ix->nbr = malloc((size_t)(ix->nbr_at[m->n_atoms] + 1) * sizeof *ix->nbr);
    ix->ce = malloc((size_t)(ix->ce_at[m->n_atoms] + 1) * sizeof *ix->ce);
    ix->cq = malloc((size_t)(ix->cq_at[m->n_atoms] + 1) * sizeof *ix->cq);
    if (!ix->nbr || !ix->ce || !ix->cq)
        goto oom;
    objective_pass(m, ix, 1, sign);
    constraint_pass(m, ix, 1);
    unshift(ix->nbr_at, m->n_atoms);
    unshift(ix->ce_at, m->n_atoms);
    unshift(ix->cq_at, m->n_atoms);
    return 0;
oom:
    nq__cqm_index_free(ix);
    return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
}
