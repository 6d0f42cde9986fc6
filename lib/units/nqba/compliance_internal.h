/* compliance_internal.h - what the compliance_*.c and assess_*.c files share. */
#ifndef NQBA_COMPLIANCE_INTERNAL_H
#define NQBA_COMPLIANCE_INTERNAL_H

#include "nqba/compliance.h"

/* The built-in catalogs, compiled in by CMakeLists.txt from
 * data/catalogs/<id>.json (generated/compliance_catalogs.c). */
typedef struct nq__grc_blob {
    const char *id;
    const unsigned char *data; /* NUL-terminated */
    unsigned long len;
} nq__grc_blob;
extern const nq__grc_blob nq__grc_builtins[];
extern const int nq__grc_n_builtins;

/* strdup that fails cleanly on NULL input (returns NULL). */
char *nq__grc_strdup(const char *s);

/* trunc1(x) = floor(10 x + 1e-9) / 10: CISO Assistant's one decimal. */
double nq__grc_trunc1(double x);

/* {cost, effort, risk_reduction} (members optional: NAN when absent, each
 * within [0, 1e15]); with_deps also allows "depends_on" (read by the caller). */
int nq__grc_cost_json(const json_t *o, const char *ptr, int with_deps, nq_grc_cost *c,
                      nq_err *err);

#endif
