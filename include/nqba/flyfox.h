/* flyfox.h - the FLYFOX AI unit: a site energy request (JSON) in, a
 * schedule with costs, savings against the naive baseline and an
 * explanation out; and unit commitment (units and demand in, commitment,
 * dispatch and costs out).
 *
 *   nq_flyfox_site_parse(doc, &req, &err)  nq_flyfox_site_run(&req, cancel, &answer, &err)
 *   nq_flyfox_uc_parse(doc, &req, &err)    nq_flyfox_uc_run(&req, cancel, &answer, &err)
 *
 * Documents: docs/api/energy.md. Numbers: energy.h. Pure: no I/O, no global
 * state. Errors name the request field with a JSON pointer ("/pv_w",
 * "/battery/soc_min", "/loads/1/energy_wh", "/units/3/pmin"); CSV members
 * add the line ("line 5: ..."). */
#ifndef NQBA_FLYFOX_H
#define NQBA_FLYFOX_H

#include <jansson.h>
#include <stdatomic.h>

#include "nqba/energy.h"
#include "nqba/err.h"

#define NQ_FLYFOX_CSV_MAX (16u * 1024 * 1024) /* bytes of a CSV member */

typedef struct nq_flyfox_site_req {
    nq_en_site site; /* its arrays point at the buffers below */
    double *load, *pv, *price_import, *price_export;
    nq_en_load *loads;
} nq_flyfox_site_req;

void nq_flyfox_site_req_free(nq_flyfox_site_req *r); /* NULL-safe */
int nq_flyfox_site_parse(const json_t *doc, nq_flyfox_site_req *r, nq_err *err);
int nq_flyfox_site_run(const nq_flyfox_site_req *r, const atomic_int *cancel, json_t **answer,
                       nq_err *err);

typedef struct nq_flyfox_uc_req {
    nq_uc_problem p; /* units and demand point at the buffers below */
    nq_uc_unit *units;
    double *demand;
    int milp;         /* 1: the exact MILP cross-check instead of the engine */
    int32_t tangents; /* MILP: tangent cuts per unit-hour */
} nq_flyfox_uc_req;

void nq_flyfox_uc_req_free(nq_flyfox_uc_req *r);
int nq_flyfox_uc_parse(const json_t *doc, nq_flyfox_uc_req *r, nq_err *err);
int nq_flyfox_uc_run(const nq_flyfox_uc_req *r, const atomic_int *cancel, json_t **answer,
                     nq_err *err);

#endif
