/* canon.h - the canonical text of a JSON value, streamed (private).
 *
 * The text is byte for byte what jansson 2.14's dumper writes with
 * JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(17) | JSON_ENCODE_ANY:
 * request hashes computed from it are shared with nodes that still hash
 * jansson's text (canon.c says what that takes). */
#ifndef NQBA_SERVICE_CANON_H
#define NQBA_SERVICE_CANON_H

#include <jansson.h>
#include <stddef.h>

/* Values nested deeper than this are refused (a cycle ends here too). */
#define NQ__CANON_MAX_DEPTH 2048

/* Receives the text in order, a block at a time. */
typedef void (*nq__canon_sink)(void *arg, const char *text, size_t len);

/* Write v's canonical text to sink. Returns 0, or -1 where jansson's
 * dumper fails (a string value that is not UTF-8, a cycle, no memory) or
 * v is nested deeper than NQ__CANON_MAX_DEPTH; part of the text may have
 * been written then. */
int nq__canon_write(const json_t *v, nq__canon_sink sink, void *arg);

/* The same writer with members in the object's own (insertion) order: the
 * text of json_dumps(v, JSON_COMPACT | JSON_REAL_PRECISION(17)) for an
 * object or array, malloc'd (NULL where json_dumps gives NULL, or out of
 * memory). Job results are written with it. */
char *nq__compact_text(const json_t *v);

#endif
