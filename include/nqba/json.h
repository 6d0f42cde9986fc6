/* json.h - jansson helpers with path-aware validation errors.
 *
 * Every getter takes the JSON pointer of the object it reads from and, on
 * failure, reports the pointer of the offending member ("/linear/x1") and
 * the reason ("expected a number, got a string"). */
#ifndef NQBA_JSON_H
#define NQBA_JSON_H

#include <jansson.h>
#include <stdint.h>

#include "nqba/err.h"

#define NQ_JSON_PTR_MAX NQ_ERR_WHERE_MAX

typedef struct nq_json_limits {
    size_t max_bytes; /* largest document accepted */
    int max_depth;    /* deepest nesting of arrays/objects */
} nq_json_limits;

/* Defaults: 64 MiB, depth 64. */
void nq_json_limits_default(nq_json_limits *l);

/* Parse a document as jansson's json_loadb does (JSON_REJECT_DUPLICATES,
 * exact integers, an object or array at the top), enforcing the limits.
 * Ordinary documents take a quicker parser that builds the same tree; any
 * other input, and every error, goes through jansson itself. Syntax errors
 * report "source:line:column" in where. source names the input for
 * messages (a file name, "request body"). */
int nq_json_parse(const char *data, size_t len, const char *source,
                  const nq_json_limits *lim, json_t **out, nq_err *err);

/* Build "<parent>/<key>" with RFC 6901 escaping (~0, ~1) into out. */
void nq_json_ptr_key(char out[NQ_JSON_PTR_MAX], const char *parent, const char *key);
/* Build "<parent>/<index>". */
void nq_json_ptr_index(char out[NQ_JSON_PTR_MAX], const char *parent, size_t index);

/* Name of a value's JSON type ("object", "string", "number", ...). */
const char *nq_json_type_name(const json_t *v);

/* Member readers. `required` nonzero makes a missing member an error;
 * otherwise a missing member leaves *out untouched and returns NQ_OK.
 * `ptr` is the pointer of obj itself ("" for the root). */
int nq_json_get_number(const json_t *obj, const char *ptr, const char *key,
                       int required, double *out, nq_err *err);
int nq_json_get_int(const json_t *obj, const char *ptr, const char *key,
                    int required, int64_t lo, int64_t hi, int64_t *out, nq_err *err);
int nq_json_get_bool(const json_t *obj, const char *ptr, const char *key,
                     int required, int *out, nq_err *err);
/* *out points into obj (valid while obj lives). */
int nq_json_get_string(const json_t *obj, const char *ptr, const char *key,
                       int required, size_t max_len, const char **out, nq_err *err);
/* The same checks on v, the member key of the object at ptr, found by the
 * caller (errors name ptr/key). */
int nq_json_member_string(const json_t *v, const char *ptr, const char *key, size_t max_len,
                          const char **out, nq_err *err);
/* Member of a given jansson type (JSON_OBJECT or JSON_ARRAY); *out borrowed. */
int nq_json_get_typed(const json_t *obj, const char *ptr, const char *key,
                      int required, json_type type, json_t **out, nq_err *err);

/* A value (not a member) as a finite number; ptr names it in errors. */
int nq_json_as_number(const json_t *v, const char *ptr, double *out, nq_err *err);

/* Reject members of obj not in the NULL-terminated list `allowed`. */
/* Append a formatted sentence (at most 511 bytes) to a JSON array: the
 * lines of an answer's explanation. */
void nq_json_say(json_t *list, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

int nq_json_check_keys(const json_t *obj, const char *ptr, const char *const *allowed,
                       nq_err *err);

#endif
