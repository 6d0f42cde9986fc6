/* io.h - model readers and writers.
 *
 * Readers parse from memory so they can be fuzzed and used on request
 * bodies; the `source` argument only names the input in error messages
 * ("G1.txt:3: vertex 801 out of range 1..800"). Errors fill err->where with
 * "source:line" (text formats) or a JSON pointer (JSON) and return
 * NQ_EPARSE, NQ_ERANGE or NQ_ELIMIT. Writers append to a bounded buffer. */
#ifndef NQBA_IO_H
#define NQBA_IO_H

#include <stddef.h>

#include <jansson.h>

#include "nqba/buf.h"
#include "nqba/model.h"
#include "nqba/solve.h"

typedef enum nq_format {
    NQ_FMT_AUTO = 0,
    NQ_FMT_GSET = 1, /* Gset / rudy Max-Cut graph: "n m" then m lines "i j w" (1-based) */
    NQ_FMT_QUBO = 2, /* text QUBO: "i j w" lines (0-based), '#'/'c' comments, optional qbsolv "p" line */
    NQ_FMT_JSON = 3  /* {"type":"qubo"|"ising","linear":{..},"quadratic":[[a,b,w],..],"offset":k} */
} nq_format;

/* "gset" | "qubo" | "json" (also "auto", "rudy"); NQ_FMT_AUTO if unknown -> returns -1. */
int nq_format_parse(const char *name);
const char *nq_format_name(nq_format f);
/* Guess from a file name's extension, then from the content. */
nq_format nq_format_guess(const char *name, const char *data, size_t len);

/* Gset: Ising Max-Cut model with maxcut = 1 (E = sum w s_i s_j). */
int nq_read_gset(const char *data, size_t len, const char *source, nq_model *out, nq_err *err);
/* Text QUBO (type NQ_QUBO). */
int nq_read_qubo(const char *data, size_t len, const char *source, nq_model *out, nq_err *err);
/* JSON model with names; errors name the JSON pointer of the bad member. */
int nq_read_json(const char *data, size_t len, const char *source, nq_model *out, nq_err *err);
/* Dispatch on format (NQ_FMT_AUTO guesses). */
int nq_read_model(nq_format fmt, const char *data, size_t len, const char *source,
                  nq_model *out, nq_err *err);

/* Writers. Gset needs an Ising model with zero linear terms and offset;
 * weights are printed exactly (%.17g). */
int nq_write_gset(const nq_model *m, nq_buf *out, nq_err *err);
int nq_write_qubo(const nq_model *m, nq_buf *out, nq_err *err);
int nq_write_json(const nq_model *m, nq_buf *out, nq_err *err);

/* A result as JSON: solver, found_by, n, energy, cut (Max-Cut models),
 * state, variables (named models), reads, elapsed_s, time_to_best_s,
 * attempts, target_reached, timed_out, cancelled. NULL when out of memory. */
json_t *nq_result_to_json(const nq_model *m, const nq_result *r);
/* v as a JSON integer when integral and exactly representable, else a real. */
json_t *nq_json_number(double v, int integral);

#endif
