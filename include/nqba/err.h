/* err.h - error codes and the error record every fallible nq_ function fills.
 *
 * Functions return 0 (NQ_OK) or a negative nq_code and, when the caller passes
 * an nq_err, describe the failure there: a code, a location (a JSON pointer
 * such as "/quadratic/3/2", or "file:line") and a human-readable message. */
#ifndef NQBA_ERR_H
#define NQBA_ERR_H

#include <stddef.h>

#define NQ_ERR_WHERE_MAX 256
#define NQ_ERR_MSG_MAX 256

typedef enum nq_code {
    NQ_OK = 0,
    NQ_EINVAL = -1,   /* invalid argument or input value */
    NQ_ENOMEM = -2,   /* allocation failed */
    NQ_EIO = -3,      /* read or write failed */
    NQ_EPARSE = -4,   /* syntax error in an input document */
    NQ_ELIMIT = -5,   /* a configured size limit was exceeded */
    NQ_ERANGE = -6,   /* a number is out of its allowed range */
    NQ_ENOTFOUND = -7,/* a named thing does not exist */
    NQ_ECANCEL = -8,  /* the operation was cancelled by its caller */
    NQ_EINTERNAL = -9,/* a bug: an invariant did not hold */
    NQ_EUNAVAIL = -10 /* a backing service (the database) is down, full or read-only */
} nq_code;
#define NQ_CODE_LAST NQ_EUNAVAIL /* the lowest code, for loops over them all */

typedef struct nq_err {
    int code;                     /* an nq_code */
    char where[NQ_ERR_WHERE_MAX]; /* JSON pointer or "file:line"; may be empty */
    char msg[NQ_ERR_MSG_MAX];     /* what is wrong, for a person */
} nq_err;

/* Clear an error record (NULL is allowed). */
void nq_err_clear(nq_err *err);

/* Fill err (if not NULL) and return code, so callers can write
 * `return nq_err_set(err, NQ_EINVAL, "/n", "must be positive");`.
 * where may be NULL. Output is truncated to the fixed buffers. */
int nq_err_set(nq_err *err, int code, const char *where, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Same, with the location written as "file:line" (line 0 means "file"). */
int nq_err_set_line(nq_err *err, int code, const char *file, long line,
                    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Short stable name of a code ("invalid", "no-memory", ...). */
const char *nq_code_name(int code);

/* Format "where: msg" (or just msg) into buf; returns buf. */
const char *nq_err_format(const nq_err *err, char *buf, size_t cap);

#endif
