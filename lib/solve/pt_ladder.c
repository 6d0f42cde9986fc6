/* pt_ladder.c - the temperature ladder: replica exchange between
 * neighbouring temperatures and the adaptive respacing of the ladder.
 *
 * Respacing: for Gaussian energy distributions with standard deviation
 * sigma, the mean swap acceptance between betas b and b + db is
 * erfc(db * sigma / 2). So lambda_k = erfcinv(a_k), from the measured
 * acceptance a_k of pair (k, k + 1), is (up to a constant) the
 * "thermodynamic length" sigma * db of that interval. The new ladder splits
 * the total length into equal parts, interpolating within each old
 * interval in log(beta), which makes every pair's acceptance the same
 * (under the Gaussian approximation). A few rounds with more data each
 * correct for sigma varying within an interval. The ends stay fixed. */
#include <math.h>
#include <string.h>

#include "metropolis.h"
#include "pt_plan.h"

/* Acceptances outside [PT_ACC_MIN, 1 - PT_ACC_MIN] carry no usable spacing
 * information beyond "far too wide" / "far too close". */
#define PT_ACC_MIN 1e-9
#define PT_LAMBDA_MIN 1e-6

void nq__pt_ladder_geometric(const pt_plan *p, double *beta)
{
    int32_t r = p->replicas;
    if (r == 1) {
        beta[0] = p->beta_cold;
        return;
    }
    double ratio = log(p->beta_cold / p->beta_hot);
    for (int32_t k = 0; k < r; k++)
        beta[k] = p->beta_hot * exp(ratio * k / (r - 1));
    beta[r - 1] = p->beta_cold;
}

/* Flipping a spin whose field opposes it by d scaled units raises the
 * energy by 2 d / scale: accepted iff a uniform u32 is below thr[d]. */
void nq__pt_ladder_tables(const pt_plan *p, pt_work *w)
{
    if (!p->integer)
        return;
    for (int32_t k = 0; k < p->replicas; k++)
        w->cut[k] = nq__mh_table(w->beta[k], p->scale, p->stride, w->thr + (size_t)k * p->stride);
}

void nq__pt_stats_reset(const pt_plan *p, pt_stats *st)
{
    size_t pairs = p->replicas > 1 ? (size_t)p->replicas - 1 : 0;
    memset(st->acc_sum, 0, pairs * sizeof *st->acc_sum);
    memset(st->tries, 0, pairs * sizeof *st->tries);
    memset(st->swaps, 0, pairs * sizeof *st->swaps);
}

/* Pairs (k, k + 1) with k of the given parity, alternating between calls
 * (deterministic even-odd exchange: replicas travel the ladder ballistically
 * rather than diffusively). Accept with probability
 * min(1, exp((b_{k+1} - b_k) (E_{k+1} - E_k))). */
void nq__pt_swaps(const pt_plan *p, pt_work *w, int parity, nq_rng *rng)
{
    pt_stats *st = &w->stats;
    for (int32_t k = parity; k + 1 < p->replicas; k += 2) {
        double x = (w->beta[k + 1] - w->beta[k]) * (w->rep[w->at[k + 1]].e - w->rep[w->at[k]].e);
        double acc = x >= 0.0 ? 1.0 : exp(x);
        st->acc_sum[k] += acc;
        st->tries[k]++;
        if (x >= 0.0 || nq_rng_double(rng) < acc) {
            int32_t t = w->at[k];
            w->at[k] = w->at[k + 1];
            w->at[k + 1] = t;
            st->swaps[k]++;
        }
    }
}

/* erfc is decreasing on [0, inf): bisection is plenty for R values. */
static double erfc_inverse(double a)
{
    double lo = 0.0, hi = 7.0;
    for (int it = 0; it < 60; it++) {
        double mid = 0.5 * (lo + hi);
        if (erfc(mid) > a)
            lo = mid;
        else
            hi = mid;
    }
    return 0.5 * (lo + hi);
}

/* Cumulative thermodynamic length at each rung; 0 when some pair was
 * never tried. */
static double ladder_length(const pt_plan *p, const pt_stats *st, double *len)
{
    len[0] = 0.0;
    for (int32_t k = 0; k + 1 < p->replicas; k++) {
        if (!st->tries[k])
            return 0.0;
        double a = st->acc_sum[k] / (double)st->tries[k];
        a = fmin(fmax(a, PT_ACC_MIN), 1.0 - PT_ACC_MIN);
        len[k + 1] = len[k] + fmax(erfc_inverse(a), PT_LAMBDA_MIN);
    }
    return len[p->replicas - 1];
}

/* Returns 1 when the ladder moved (the caller rebuilds the tables). */
int nq__pt_ladder_respace(const pt_plan *p, pt_work *w)
{
    int32_t r = p->replicas;
    if (r < 3)
        return 0;
    double *len = w->scratch, *old = w->scratch + r;
    double total = ladder_length(p, &w->stats, len);
    if (!(total > 0.0))
        return 0;
    memcpy(old, w->beta, (size_t)r * sizeof *old);
    int32_t k = 0;
    for (int32_t i = 1; i + 1 < r; i++) {
        double t = total * i / (r - 1);
        while (k + 2 < r && len[k + 1] <= t)
            k++;
        double frac = (t - len[k]) / (len[k + 1] - len[k]);
        frac = fmin(fmax(frac, 0.0), 1.0);
        w->beta[i] = old[k] * exp(frac * log(old[k + 1] / old[k]));
    }
    return 1;
}
