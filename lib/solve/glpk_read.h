/* glpk_read.h - GLPK's MPS/LP reader on text in memory (cqm_glpk.c), with
 * its messages turned into located errors: shared by the constrained-model
 * reader and the plain LP/MILP path (lp_glpk.c). */
#ifndef NQBA_GLPK_READ_H
#define NQBA_GLPK_READ_H

#include <glpk.h>
#include <stddef.h>

#include "nqba/err.h"

/* format "mps" (free), "mps-fixed" or "lp"; *out a new problem (the
 * caller deletes it) or NULL after an error naming source and line. */
int nq__glpk_read(const char *data, size_t len, const char *source, const char *format,
                  glp_prob **out, nq_err *err);

#endif
