/* cli_request.c - what the unit commands (portfolio, energy) share: a
 * request read from a JSON file and members filled from files named on
 * the command line, with errors that name the file (and line). */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "nqba/buf.h"
#include "nqba/json.h"

#define REQUEST_MAX_INPUT ((size_t)64 << 20)

int cli_request_read(const char *path, json_t **doc)
{
    *doc = NULL;
    if (!path) {
        *doc = json_object();
        return 0;
    }
    nq_buf b;
    nq_buf_init(&b, REQUEST_MAX_INPUT);
    int rc = cli_read_input(path, path, &b);
    nq_err err;
    nq_json_limits lim;
    nq_json_limits_default(&lim);
    if (!rc && nq_json_parse(b.data ? b.data : "", b.len, path, &lim, doc, &err)) {
        cli_print_input_error(path, &err);
        rc = CLI_EXIT_USAGE;
    }
    nq_buf_free(&b);
    if (!rc && !json_is_object(*doc)) {
        fprintf(stderr, "nqba: %s: the request must be a JSON object\n", path);
        json_decref(*doc);
        *doc = NULL;
        rc = CLI_EXIT_USAGE;
    }
    return rc;
}

int cli_request_file(json_t *doc, const char *key, const char *path)
{
    nq_buf b;
    nq_buf_init(&b, REQUEST_MAX_INPUT);
    int rc = cli_read_input(path, path, &b);
    if (!rc && json_object_set_new(doc, key, json_stringn(b.data ? b.data : "", b.len)) != 0) {
        fprintf(stderr, "nqba: %s: not UTF-8 text\n", path);
        rc = CLI_EXIT_USAGE;
    }
    nq_buf_free(&b);
    return rc;
}

void cli_request_error(const char *request, const cli_file_member *files, int n,
                       const nq_err *err)
{
    for (int i = 0; i < n; i++)
        if (files[i].path && !strcmp(err->where, files[i].pointer)) {
            fprintf(stderr, "nqba: %s: %s\n", files[i].path, err->msg);
            return;
        }
    cli_print_input_error(request ? request : "request", err);
}

/* Options take a value, except --json. */
static int is_option(const char *a)
{
    return a[0] == '-' && strcmp(a, "-") != 0;
}

int cli_request_args(const char *cmd, int argc, char **argv, int first, cli_option_fn apply,
                     void *user, json_t **doc, const char **request, int *json)
{
    *request = NULL;
    *json = 0;
    *doc = NULL;
    for (int i = first; i < argc; i++) {
        if (is_option(argv[i])) {
            i += strcmp(argv[i], "--json") != 0; /* skip the option's value */
            continue;
        }
        if (*request)
            return cli_bad_value(cmd, "REQUEST", "one request file", argv[i]);
        *request = argv[i];
    }
    int rc = cli_request_read(*request, doc);
    for (int i = first; !rc && i < argc; i++) {
        if (!is_option(argv[i]))
            continue;
        if (!strcmp(argv[i], "--json")) {
            *json = 1;
            continue;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "nqba %s: %s needs a value\n", cmd, argv[i]);
            return CLI_EXIT_USAGE;
        }
        rc = apply(user, *doc, argv[i], argv[i + 1]);
        i++;
    }
    return rc;
}
