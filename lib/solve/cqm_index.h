/* cqm_index.h - a finished model rearranged per atom for local search:
 * every quantity a move needs (objective field, constraint coefficients,
 * quadratic neighbours) is reachable from the atom it changes. The
 * objective is stored in minimization form (negated when maximizing). */
#ifndef NQBA_CQM_INDEX_H
#define NQBA_CQM_INDEX_H

#include <stdint.h>

#include "nqba/cqm.h"

typedef struct nq__nbr { int32_t b; double w; } nq__nbr;           /* objective neighbour */
typedef struct nq__centry { int32_t c; double w; } nq__centry;     /* constraint coefficient */
typedef struct nq__cquad { int32_t c, b; double w; } nq__cquad;    /* quadratic constraint term */

typedef struct nq__cqm_index {
    const nq_cqm *m;
    int32_t n_atoms, n_vars, n_cons;
    double *lin;          /* atom: linear objective coefficient (min form) */
    double *sq;           /* atom: coefficient of atom^2 (integers only) */
    int64_t *nbr_at;      /* n_atoms + 1 offsets into nbr */
    nq__nbr *nbr;         /* objective quadratic neighbours, both directions */
    int64_t *ce_at;       /* n_atoms + 1 offsets into ce */
    nq__centry *ce;       /* linear constraint coefficients of each atom */
    int64_t *cq_at;       /* n_atoms + 1 offsets into cq */
    nq__cquad *cq;        /* quadratic constraint terms (b == atom: square) */
    uint8_t *intra;       /* var: its options share objective terms (choice) */
    double offset;        /* min form */
} nq__cqm_index;

int nq__cqm_index_build(const nq_cqm *m, nq__cqm_index *ix, nq_err *err);
void nq__cqm_index_free(nq__cqm_index *ix);

#endif
