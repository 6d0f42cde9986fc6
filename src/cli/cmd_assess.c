/* cmd_assess.c - `nqba assess REQUEST.json [--html FILE] [--json]` and
 * `nqba assess diff BEFORE.json AFTER.json`: the business assessment from
 * the command line (docs/api/assessment.md). The request is the HTTP body;
 * --html writes the printable report; the diff compares two answers saved
 * with --json. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "nqba/assess.h"

typedef struct as_args {
    const char *html;
} as_args;

void cli_assess_usage(FILE *out)
{
    fputs("usage: nqba assess REQUEST.json [--html FILE] [--json]\n"
          "       nqba assess diff BEFORE.json AFTER.json\n"
          "\n"
          "Assess compliance readiness against a catalog (nist-csf-2.0, nist-sp800-53r5-moderate\n"
          "or your own), with scores per function and overall, the gaps, a remediation plan\n"
          "under a budget chosen by the engine (checked against the exact MILP), and business\n"
          "health reported on its own. REQUEST.json is the HTTP request body.\n"
          "\n"
          "options:\n"
          "  --html FILE   also write the printable HTML report to FILE\n"
          "  --json        print the answer document (save it to compare later with diff)\n",
          out);
}

static int apply(void *user, json_t *doc, const char *opt, const char *v)
{
    as_args *a = user;
    (void)doc;
    if (!strcmp(opt, "--html")) {
        a->html = v;
        return 0;
    }
    fprintf(stderr, "nqba assess: unknown option %s (nqba help assess)\n", opt);
    return CLI_EXIT_USAGE;
}

static int write_html(const char *path, const json_t *ans)
{
    char *html = NULL;
    size_t len = 0;
    nq_err err;
    if (nq_assess_report_html(ans, &html, &len, &err)) {
        fprintf(stderr, "nqba assess: report: %s\n", err.msg);
        return CLI_EXIT_FAIL;
    }
    FILE *f = fopen(path, "wb");
    int ok = f && fwrite(html, 1, len, f) == len;
    if (f && fclose(f) != 0)
        ok = 0;
    free(html);
    if (!ok) {
        fprintf(stderr, "nqba assess: cannot write %s\n", path);
        return CLI_EXIT_FAIL;
    }
    return 0;
}

static void print_summary(const json_t *ans)
{
    size_t i;
    const json_t *line;
    json_array_foreach(json_object_get(ans, "explanation"), i, line)
        printf("%s\n", json_string_value(line));
}

static int run_diff(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "nqba assess: diff needs BEFORE.json and AFTER.json\n");
        return CLI_EXIT_USAGE;
    }
    json_t *before = NULL, *after = NULL, *diff = NULL;
    int rc = cli_request_read(argv[2], &before);
    if (!rc)
        rc = cli_request_read(argv[3], &after);
    nq_err err;
    nq_err_clear(&err);
    if (!rc && nq_assess_diff(before, after, &diff, &err)) {
        cli_print_input_error(!strncmp(err.where, "/before", 7) ? argv[2] : argv[3], &err);
        rc = CLI_EXIT_USAGE;
    }
    if (!rc) {
        json_dumpf(diff, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
        putchar('\n');
    }
    json_decref(before);
    json_decref(after);
    json_decref(diff);
    return rc;
}

int cli_assess_run(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "diff"))
        return run_diff(argc, argv);
    as_args a = {NULL};
    const char *request = NULL;
    int json = 0;
    json_t *doc = NULL, *ans = NULL;
    int rc = cli_request_args("assess", argc, argv, 1, apply, &a, &doc, &request, &json);
    if (!rc && !request) {
        fprintf(stderr, "nqba assess: a request file is needed (nqba help assess)\n");
        rc = CLI_EXIT_USAGE;
    }
    nq_err err;
    nq_err_clear(&err);
    nq_assess_req r;
    if (!rc && !(rc = nq_assess_parse(doc, &r, &err))) {
        rc = nq_assess_run(&r, NULL, &ans, &err);
        nq_assess_req_free(&r);
    }
    if (rc && err.code) {
        cli_print_input_error(request, &err);
        rc = cli_exit_for(err.code);
    }
    if (!rc && a.html)
        rc = write_html(a.html, ans);
    if (!rc && json) {
        json_dumpf(ans, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
        putchar('\n');
    } else if (!rc) {
        print_summary(ans);
    }
    json_decref(doc);
    json_decref(ans);
    return rc;
}
