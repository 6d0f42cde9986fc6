/* io_format.c - format names, format guessing and the reader dispatch. */
#include "nqba/io.h"

#include <string.h>
#include <strings.h>

int nq_format_parse(const char *name)
{
    static const struct {
        const char *name;
        nq_format fmt;
    } names[] = {{"auto", NQ_FMT_AUTO},
                 {"gset", NQ_FMT_GSET},
                 {"rudy", NQ_FMT_GSET},
                 {"qubo", NQ_FMT_QUBO},
                 {"json", NQ_FMT_JSON}};
    for (size_t i = 0; name && i < sizeof names / sizeof names[0]; i++)
        if (strcasecmp(name, names[i].name) == 0)
            return (int)names[i].fmt;
    return -1;
}

const char *nq_format_name(nq_format f)
{
    switch (f) {
    case NQ_FMT_AUTO:
        return "auto";
    case NQ_FMT_GSET:
        return "gset";
    case NQ_FMT_QUBO:
        return "qubo";
    case NQ_FMT_JSON:
        return "json";
    }
    return "unknown";
}

static int has_ext(const char *name, const char *ext)
{
    size_t n = strlen(name), e = strlen(ext);
    return n > e && strcasecmp(name + n - e, ext) == 0;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

/* The first non-blank byte decides: '{' starts JSON; a comment or a "p"
 * line starts a QUBO file; anything else is taken for a Gset header. A
 * three-field first line is not taken as QUBO: Gset headers with a stray
 * token ("800 19176 J") exist and deserve the Gset reader's message. */
static nq_format guess_content(const char *data, size_t len)
{
    const char *p = data, *end = data + len;
    while (p < end && is_space(*p))
        p++;
    if (p == end)
        return NQ_FMT_GSET;
    if (*p == '{')
        return NQ_FMT_JSON;
    if (*p == '#' || *p == 'c' || *p == 'p')
        return NQ_FMT_QUBO;
    return NQ_FMT_GSET;
}

nq_format nq_format_guess(const char *name, const char *data, size_t len)
{
    if (name && has_ext(name, ".json"))
        return NQ_FMT_JSON;
    if (name && has_ext(name, ".qubo"))
        return NQ_FMT_QUBO;
    if (name && (has_ext(name, ".txt") || has_ext(name, ".rud") || has_ext(name, ".gset")))
        return NQ_FMT_GSET;
    return data ? guess_content(data, len) : NQ_FMT_GSET;
}
int nq_read_model(nq_format fmt, const char *data, size_t len, const char *source, nq_model *out,
                  nq_err *err)
{
    if (fmt == NQ_FMT_AUTO)
        fmt = nq_format_guess(source, data, len);
    switch (fmt) {
    case NQ_FMT_GSET:
        return nq_read_gset(data, len, source, out, err);
    case NQ_FMT_QUBO:
        return nq_read_qubo(data, len, source, out, err);
    case NQ_FMT_JSON:
        return nq_read_json(data, len, source, out, err);
    case NQ_FMT_AUTO:
        break;
    }
    if (out)
        memset(out, 0, sizeof *out);
    return nq_err_set(err, NQ_EINVAL, NULL, "unknown model format %d", (int)fmt);
}
