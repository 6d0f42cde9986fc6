/* log.c - JSON-lines logger.
 *
 * A line is written with the logger's mutex and the FILE's own lock held,
 * so neither two threads on one logger nor two loggers sharing a stream can
 * interleave partial lines. Each field is escaped into a fixed buffer: a
 * huge value is truncated rather than making logging allocate or fail. */
#include "nqba/log.h"

#include <stdarg.h>
#include <string.h>
#include <time.h>

#define LOG_FIELD_MAX 4096
#define LOG_KEY_MAX 256

void nq_log_init(nq_log *lg, FILE *out, nq_log_level level)
{
    lg->out = out;
    lg->level = level;
    pthread_mutex_init(&lg->lock, NULL);
}

void nq_log_destroy(nq_log *lg)
{
    if (!lg)
        return;
    pthread_mutex_destroy(&lg->lock);
    lg->out = NULL;
}

static const char *const LEVEL_NAMES[] = {"debug", "info", "warn", "error", "off"};

int nq_log_level_parse(const char *s)
{
    for (int i = 0; s && i <= NQ_LOG_OFF; i++)
        if (strcmp(s, LEVEL_NAMES[i]) == 0)
            return i;
    return -1;
}

/* ---- escaping ---------------------------------------------------------- */

/* Length of the well-formed UTF-8 sequence at s, or 0 if it is malformed
 * (overlong forms, surrogates and code points past U+10FFFF included):
 * JSON readers reject those, so they must never reach a log line. */
static size_t utf8_len(const unsigned char *s)
{
    unsigned c = s[0], lo = 0x80, hi = 0xBF;
    size_t n;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        lo = c == 0xE0 ? 0xA0 : lo;
        hi = c == 0xED ? 0x9F : hi;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        lo = c == 0xF0 ? 0x90 : lo;
        hi = c == 0xF4 ? 0x8F : hi;
    } else {
        return 0;
    }
    /* A NUL fails these tests, so reading stops at the string's end. */
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    return n;
}

/* Escaped form of the character at s into tmp; *used gets the input bytes
 * it stands for. Returns the output length. */
static size_t escape_char(const unsigned char *s, char tmp[8], size_t *used)
{
    static const char HEX[] = "0123456789abcdef";
    const char *simple = NULL;
    *used = 1;
    switch (s[0]) {
    case '"': simple = "\\\""; break;
    case '\\': simple = "\\\\"; break;
    case '\n': simple = "\\n"; break;
    case '\r': simple = "\\r"; break;
    case '\t': simple = "\\t"; break;
    case '\b': simple = "\\b"; break;
    case '\f': simple = "\\f"; break;
    }
    if (simple) {
        memcpy(tmp, simple, 2);
        return 2;
    }
    if (s[0] < 0x20 || s[0] == 0x7f) {
        memcpy(tmp, "\\u00", 4);
        tmp[4] = HEX[s[0] >> 4];
        tmp[5] = HEX[s[0] & 15];
        return 6;
    }
    size_t n = utf8_len(s);
    if (n == 0) {
        memcpy(tmp, "\\ufffd", 6); /* U+FFFD REPLACEMENT CHARACTER */
        return 6;
    }
    memcpy(tmp, s, n);
    *used = n;
    return n;
}

size_t nq_json_escape(char *out, size_t cap, const char *s)
{
    if (cap == 0)
        return 0;
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    size_t len = 0;
    while (*p) {
        char tmp[8];
        size_t used, n = escape_char(p, tmp, &used);
        /* Whole characters only: a cut escape or UTF-8 sequence would make
         * the line unreadable. */
        if (n >= cap - len)
            break;
        memcpy(out + len, tmp, n);
        len += n;
        p += used;
    }
    out[len] = '\0';
    return len;
}

/* ---- writing ----------------------------------------------------------- */

/* "2026-11-25T10:00:00.123Z" */
static void format_time(char out[32])
{
    struct timespec ts;
    struct tm tm;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
        ts.tv_sec = ts.tv_nsec = 0;
    if (!gmtime_r(&ts.tv_sec, &tm))
        memset(&tm, 0, sizeof tm);
    size_t n = strftime(out, 24, "%Y-%m-%dT%H:%M:%S", &tm);
    int ms = (int)(ts.tv_nsec / 1000000);
    out[n++] = '.';
    out[n++] = (char)('0' + ms / 100);
    out[n++] = (char)('0' + ms / 10 % 10);
    out[n++] = (char)('0' + ms % 10);
    out[n++] = 'Z';
    out[n] = '\0';
}

static void write_string(FILE *f, const char *s, char *tmp, size_t cap)
{
    nq_json_escape(tmp, cap, s);
    fputc('"', f);
    fputs(tmp, f);
    fputc('"', f);
}

/* The key/value pairs after msg; a NULL value is written as null. */
static void write_fields(FILE *f, va_list ap, char *tmp)
{
    const char *key;
    while ((key = va_arg(ap, const char *)) != NULL) {
        const char *val = va_arg(ap, const char *);
        fputc(',', f);
        write_string(f, key, tmp, LOG_KEY_MAX);
        fputc(':', f);
        if (val)
            write_string(f, val, tmp, LOG_FIELD_MAX);
        else
            fputs("null", f);
    }
}

void nq_log_write(nq_log *lg, nq_log_level level, const char *msg, ...)
{
    if (!lg || !lg->out || (int)level < (int)lg->level || level >= NQ_LOG_OFF || (int)level < 0)
        return;
    char ts[32], tmp[LOG_FIELD_MAX];
    format_time(ts);
    pthread_mutex_lock(&lg->lock);
    flockfile(lg->out);
    fprintf(lg->out, "{\"ts\":\"%s\",\"level\":\"%s\",\"msg\":", ts, LEVEL_NAMES[level]);
    write_string(lg->out, msg, tmp, LOG_FIELD_MAX);
    va_list ap;
    va_start(ap, msg);
    write_fields(lg->out, ap, tmp);
    va_end(ap);
    fputs("}\n", lg->out);
    fflush(lg->out);
    funlockfile(lg->out);
    pthread_mutex_unlock(&lg->lock);
}
