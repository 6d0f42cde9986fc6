/* fuzz_roundtrip.h - the round-trip check shared by the reader fuzz targets.
 *
 * A model that parses must survive the writers: reading the written form
 * must succeed and give the same size and the same energy on fixed states
 * (all bits 0 / all spins -1, and all bits 1 / all spins +1). Writers other
 * than the format's own may refuse a model (Gset holds no linear terms),
 * which is not a bug. Header-only because CMake builds one executable per
 * fuzz/fuzz_*.c; each target is one call of fuzz_read_roundtrip. */
#ifndef NQBA_FUZZ_ROUNDTRIP_H
#define NQBA_FUZZ_ROUNDTRIP_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nqba/io.h"

#define BIG_MODEL 100000 /* skip round trips above this: slow, not interesting */

typedef int (*reader_fn)(const char *, size_t, const char *, nq_model *, nq_err *);
typedef int (*writer_fn)(const nq_model *, nq_buf *, nq_err *);

static inline void die(const char *what, const nq_err *err)
{
    fprintf(stderr, "%s: %s: %s\n", what, err ? err->where : "", err ? err->msg : "");
    abort();
}

/* Energy with every variable at its "low" (0 / -1) or "high" (1 / +1) value. */
static inline double fixed_energy(const nq_model *m, int high)
{
    int8_t *s = malloc((size_t)m->n + 1);
    if (!s)
        abort();
    memset(s, high ? 1 : (m->type == NQ_ISING ? -1 : 0), (size_t)m->n);
    double e = nq_model_energy(m, s);
    free(s);
    return e;
}

static inline double scale(const nq_model *m)
{
    double t = 1 + fabs(m->offset);
    for (int32_t i = 0; i < m->n; i++)
        t += fabs(m->linear[i]);
    for (int64_t k = 0; k < m->nnz; k++)
        t += fabs(m->w[k]);
    return t;
}

static inline void same_energy(double a, double b, double tol)
{
    if (a == b || (isnan(a) && isnan(b)) || !isfinite(tol))
        return;
    if (!(fabs(a - b) <= tol)) {
        fprintf(stderr, "energy %.17g before, %.17g after\n", a, b);
        abort();
    }
}

/* own: the writer of the input's own format, which must accept the model. */
static inline void roundtrip(const nq_model *m, writer_fn wr, reader_fn rd, int own)
{
    nq_buf buf;
    nq_buf_init(&buf, 16u << 20);
    nq_err err;
    int rc = wr(m, &buf, &err);
    if (rc && own && rc != NQ_ELIMIT)
        die("own writer failed", &err);
    if (!rc) {
        nq_model back;
        if (rd(buf.data, buf.len, "written", &back, &err))
            die("reading the written form failed", &err);
        if (back.n != m->n)
            die("variable count changed", NULL);
        double tol = 1e-9 * scale(m);
        same_energy(fixed_energy(m, 0), fixed_energy(&back, 0), tol);
        same_energy(fixed_energy(m, 1), fixed_energy(&back, 1), tol);
        nq_model_free(&back);
    }
    nq_buf_free(&buf);
}

/* The whole check for one input read by rd, the reader under test; its own
 * format's writer must accept the model. */
static inline int fuzz_read_roundtrip(const uint8_t *data, size_t size, reader_fn rd)
{
    nq_model m;
    nq_err err;
    if (rd((const char *)data, size, "fuzz", &m, &err)) {
        if (!err.msg[0])
            die("error without a message", &err);
        return 0;
    }
    if (m.n <= BIG_MODEL) {
        roundtrip(&m, nq_write_gset, nq_read_gset, rd == nq_read_gset);
        roundtrip(&m, nq_write_qubo, nq_read_qubo, rd == nq_read_qubo);
        roundtrip(&m, nq_write_json, nq_read_json, rd == nq_read_json);
    }
    nq_model_free(&m);
    return 0;
}

#endif
