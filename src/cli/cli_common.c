/* cli_common.c - what the subcommands share: strict option-value parsing,
 * reading an input file (or standard input) under a size limit, and
 * printing a reader's error with the input's name in front. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

/* ---- option values ---- */

int cli_bad_value(const char *cmd, const char *opt, const char *expected, const char *got)
{
    fprintf(stderr, "nqba %s: %s: expected %s, got '%s'\n", cmd, opt, expected, got);
    return CLI_EXIT_USAGE;
}

/* strtoll alone accepts leading blanks and stops at junk; both would let a
 * typo through, so the whole text must be a plain decimal integer. */
int cli_parse_i32(const char *cmd, const char *opt, const char *v, int32_t lo, int32_t hi,
                  int32_t *out)
{
    char expected[64];
    snprintf(expected, sizeof expected, "an integer in %" PRId32 "..%" PRId32, lo, hi);
    if (!(v[0] == '-' || v[0] == '+' || (v[0] >= '0' && v[0] <= '9')))
        return cli_bad_value(cmd, opt, expected, v);
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (end == v || *end || errno == ERANGE || x < lo || x > hi)
        return cli_bad_value(cmd, opt, expected, v);
    *out = (int32_t)x;
    return 0;
}

/* strtoull wraps "-1" around to 2^64-1, so a sign is refused up front. */
int cli_parse_u64(const char *cmd, const char *opt, const char *v, uint64_t max, uint64_t *out)
{
    char expected[64];
    snprintf(expected, sizeof expected, "an integer in 0..%" PRIu64, max);
    if (!(v[0] >= '0' && v[0] <= '9'))
        return cli_bad_value(cmd, opt, expected, v);
    char *end;
    errno = 0;
    unsigned long long x = strtoull(v, &end, 10);
    if (*end || errno == ERANGE || x > max)
        return cli_bad_value(cmd, opt, expected, v);
    *out = (uint64_t)x;
    return 0;
}

int cli_parse_number(const char *cmd, const char *opt, const char *v, const char *expected,
                     double *out)
{
    if (!(v[0] == '-' || v[0] == '+' || v[0] == '.' || (v[0] >= '0' && v[0] <= '9')))
        return cli_bad_value(cmd, opt, expected, v);
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    if (end == v || *end || !isfinite(x))
        return cli_bad_value(cmd, opt, expected, v);
    *out = x;
    return 0;
}

/* ---- input ---- */

int cli_exit_for(int code)
{
    switch (code) {
    case NQ_EINVAL:
    case NQ_EPARSE:
    case NQ_ELIMIT:
    case NQ_ERANGE:
    case NQ_ENOTFOUND:
        return CLI_EXIT_USAGE;
    default:
        return CLI_EXIT_FAIL;
    }
}

static int read_stream(FILE *f, const char *source, nq_buf *out)
{
    char chunk[1 << 16];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) {
        int rc = nq_buf_append(out, chunk, got);
        if (rc == NQ_ELIMIT) {
            fprintf(stderr, "nqba: %s: input larger than the %zu MiB limit\n", source,
                    out->max >> 20);
            return CLI_EXIT_USAGE;
        }
        if (rc) {
            fprintf(stderr, "nqba: %s: out of memory reading the input\n", source);
            return CLI_EXIT_FAIL;
        }
    }
    if (ferror(f)) {
        fprintf(stderr, "nqba: %s: read error: %s\n", source, strerror(errno));
        return CLI_EXIT_FAIL;
    }
    return 0;
}

/* fopen succeeds on a directory and only the first read fails, so catch it
 * here; a regular file's size also lets the buffer be sized once. */
static int check_file(FILE *f, const char *source, nq_buf *out)
{
    struct stat st;
    if (fstat(fileno(f), &st) != 0)
        return 0;
    if (S_ISDIR(st.st_mode)) {
        fprintf(stderr, "nqba: %s: is a directory\n", source);
        return CLI_EXIT_USAGE;
    }
    if (S_ISREG(st.st_mode) && (uint64_t)st.st_size <= out->max)
        (void)nq_buf_reserve(out, (size_t)st.st_size + 1); /* a hint; appends still check */
    return 0;
}

int cli_read_input(const char *path, const char *source, nq_buf *out)
{
    int from_stdin = strcmp(path, "-") == 0;
    FILE *f = from_stdin ? stdin : fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "nqba: %s: %s\n", source, strerror(errno));
        return CLI_EXIT_USAGE;
    }
    int rc = check_file(f, source, out);
    if (!rc)
        rc = read_stream(f, source, out);
    if (!from_stdin)
        fclose(f);
    return rc;
}

/* Whether err.where already starts with the source's name ("file:line" or
 * "file:line:column"). A path may itself start with '/', so the first
 * character alone cannot tell it from a JSON pointer. */
static int where_names_source(const char *where, const char *source)
{
    size_t len = strlen(source);
    return strncmp(where, source, len) == 0 && (where[len] == ':' || where[len] == '\0');
}

void cli_print_input_error(const char *source, const nq_err *err)
{
    char msg[NQ_ERR_WHERE_MAX + NQ_ERR_MSG_MAX + 8];
    nq_err_format(err, msg, sizeof msg);
    if (where_names_source(err->where, source))
        fprintf(stderr, "nqba: %s\n", msg);
    else
        fprintf(stderr, "nqba: %s: %s\n", source, msg);
}
