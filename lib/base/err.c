/* err.c - filling and formatting nq_err records. */
#include "nqba/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void nq_err_clear(nq_err *err)
{
    if (!err)
        return;
    err->code = NQ_OK;
    err->where[0] = '\0';
    err->msg[0] = '\0';
}

static void set_where(nq_err *err, const char *where)
{
    snprintf(err->where, sizeof err->where, "%s", where ? where : "");
}

int nq_err_set(nq_err *err, int code, const char *where, const char *fmt, ...)
{
    if (!err)
        return code;
    err->code = code;
    set_where(err, where);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return code;
}

int nq_err_set_line(nq_err *err, int code, const char *file, long line, const char *fmt, ...)
{
    if (!err)
        return code;
    err->code = code;
    if (line > 0)
        snprintf(err->where, sizeof err->where, "%s:%ld", file ? file : "-", line);
    else
        set_where(err, file);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return code;
}

const char *nq_code_name(int code)
{
    switch (code) {
    case NQ_OK: return "ok";
    case NQ_EINVAL: return "invalid";
    case NQ_ENOMEM: return "no-memory";
    case NQ_EIO: return "io";
    case NQ_EPARSE: return "parse";
    case NQ_ELIMIT: return "limit";
    case NQ_ERANGE: return "range";
    case NQ_ENOTFOUND: return "not-found";
    case NQ_ECANCEL: return "cancelled";
    case NQ_EINTERNAL: return "internal";
    case NQ_EUNAVAIL: return "unavailable";
    default: return "unknown";
    }
}

const char *nq_err_format(const nq_err *err, char *buf, size_t cap)
{
    if (!cap)
        return buf;
    if (!err)
        snprintf(buf, cap, "unknown error");
    else if (err->where[0])
        snprintf(buf, cap, "%s: %s", err->where, err->msg);
    else
        snprintf(buf, cap, "%s", err->msg);
    return buf;
}
