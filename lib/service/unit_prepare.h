/* unit_prepare.h - the prepare and free functions of a unit's job kind
 * whose prepared value is simply its parsed request (a T filled by parse,
 * released by free_req): allocate, parse, keep; or release on error. */
#ifndef NQBA_UNIT_PREPARE_H
#define NQBA_UNIT_PREPARE_H

#include <stdlib.h>

#include "nqba/err.h"

#define NQ__UNIT_PREPARED(prepare_fn, free_fn, T, parse, free_req)                                 \
    int prepare_fn(const json_t *request, void **prepared, nq_err *err)                            \
    {                                                                                              \
        *prepared = NULL;                                                                          \
        T *r = malloc(sizeof *r);                                                                  \
        if (!r)                                                                                    \
            return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");                              \
        int rc = parse(request, r, err);                                                           \
        if (rc) {                                                                                  \
            free(r);                                                                               \
            return rc;                                                                             \
        }                                                                                          \
        *prepared = r;                                                                             \
        return NQ_OK;                                                                              \
    }                                                                                              \
    void free_fn(void *prepared)                                                                   \
    {                                                                                              \
        free_req(prepared);                                                                        \
        free(prepared);                                                                            \
    }

#endif
