/* log.h - JSON-lines logger: one JSON object per line.
 *
 * {"ts":"2026-11-25T10:00:00.123Z","level":"info","msg":"...","k":"v",...}
 * The logger is a value owned by its user (the server or the CLI); library
 * layers below them never log. Writes of one line are serialized with a
 * mutex so lines from several threads never interleave. */
#ifndef NQBA_LOG_H
#define NQBA_LOG_H

#include <pthread.h>
#include <stdio.h>

typedef enum nq_log_level {
    NQ_LOG_DEBUG = 0,
    NQ_LOG_INFO = 1,
    NQ_LOG_WARN = 2,
    NQ_LOG_ERROR = 3,
    NQ_LOG_OFF = 4
} nq_log_level;

typedef struct nq_log {
    FILE *out;           /* not owned */
    nq_log_level level;  /* lines below this level are dropped */
    pthread_mutex_t lock;
} nq_log;

void nq_log_init(nq_log *lg, FILE *out, nq_log_level level);
void nq_log_destroy(nq_log *lg);

/* Parse "debug" / "info" / "warn" / "error" / "off"; -1 if unknown. */
int nq_log_level_parse(const char *s);

/* Write one line. The variadic part is a NULL-terminated list of
 * key, value string pairs; values are JSON-escaped. */
void nq_log_write(nq_log *lg, nq_log_level level, const char *msg, ...);

/* Escape s as the inside of a JSON string into out (cap bytes, always
 * NUL-terminated, truncated at a character boundary). Returns length. */
size_t nq_json_escape(char *out, size_t cap, const char *s);

#endif
