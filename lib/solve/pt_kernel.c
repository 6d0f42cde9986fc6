/* pt_kernel.c - Metropolis sweeps for one replica at one temperature.
 *
 * Local fields f_i = h_i + sum_j w_ij s_j are kept up to date, so a flip
 * attempt costs O(1) and an accepted flip O(degree). Spins are visited in
 * index order; the passes themselves are metropolis.c's, shared with sa. */
#include "metropolis.h"
#include "pt_plan.h"

static nq__mh mh(const pt_plan *p)
{
    return (nq__mh){p->is, p->h_int, p->w2_int};
}

/* ---- entry points ------------------------------------------------------- */

void nq__pt_fields(const pt_plan *p, pt_replica *r, int32_t lo, int32_t hi)
{
    nq__mh k = mh(p);
    if (p->integer)
        nq__mh_int_fields(&k, r->s, r->fi, lo, hi);
    else
        nq__mh_dbl_fields(&k, r->s, r->fd, lo, hi);
}

/* E - offset = sum_i s_i (h_i + f_i) / 2: the couplings count twice in the
 * fields, the linear terms once. */
void nq__pt_energy(const pt_plan *p, pt_replica *r)
{
    double e = 0.0;
    if (p->integer) {
        int64_t twice = 0;
        for (int32_t i = 0; i < p->n; i++)
            twice += r->s[i] * ((int64_t)p->h_int[i] + r->fi[i]);
        e = (double)(twice / 2) / p->scale;
    } else {
        for (int32_t i = 0; i < p->n; i++)
            e += r->s[i] * (p->is->linear[i] + r->fd[i]);
        e /= 2.0;
    }
    r->e = e;
}

double nq__pt_sweep(const pt_plan *p, const pt_work *w, int32_t k, pt_replica *r, int32_t lo,
                    int32_t hi, nq_rng *rng)
{
    nq__mh m = mh(p);
    if (p->integer)
        return (double)nq__mh_int_sweep(&m, w->thr + (size_t)k * p->stride, w->cut[k], r->s, r->fi,
                                        lo, hi, rng) /
               p->scale;
    return nq__mh_dbl_sweep(&m, w->beta[k], r->s, r->fd, lo, hi, rng);
}

double nq__pt_descend(const pt_plan *p, pt_replica *r, int32_t lo, int32_t hi, int *flips)
{
    nq__mh k = mh(p);
    if (!p->integer)
        return nq__mh_dbl_descend(&k, r->s, r->fd, lo, hi, flips);
    int64_t de = nq__mh_int_descend(&k, r->s, r->fi, lo, hi);
    *flips |= de != 0;
    return (double)de / p->scale;
}
