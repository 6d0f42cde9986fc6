/* cli.h - the nqba command's subcommands (private to src/cli).
 *
 * Each subcommand is a pair: a run function that takes the arguments after
 * the subcommand name (argv[0] is the name itself) and returns the process
 * exit status, and a usage function that prints its help. main.c holds the
 * table that maps names to these pairs. */
#ifndef NQBA_CLI_H
#define NQBA_CLI_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

#include "nqba/buf.h"
#include "nqba/err.h"

/* Exit statuses shared by every subcommand. */
enum {
    CLI_EXIT_OK = 0,
    CLI_EXIT_FAIL = 1, /* internal or other failure */
    CLI_EXIT_USAGE = 2 /* bad input: usage, options, unreadable or invalid files */
};

typedef int (*cli_run_fn)(int argc, char **argv);
typedef void (*cli_usage_fn)(FILE *out);

/* nqba solve FILE [options] */
int cli_solve_run(int argc, char **argv);
void cli_solve_usage(FILE *out);

/* nqba decide FILE [options] */
int cli_decide_run(int argc, char **argv);
void cli_decide_usage(FILE *out);
/* The readable summary of a decision's answer document (cmd_decide_text.c). */
void cli_decide_print_text(const json_t *answer, FILE *out);
/* A model with continuous columns (cmd_decide_lp.c): solved by GLPK as it
 * is, printed as a summary or as the answer document. Returns the exit
 * status. */
int cli_decide_plain(const char *source, const char *data, size_t len, const char *format,
                     double time_limit, int json);

/* nqba serve [options] */
int cli_assess_run(int argc, char **argv);
void cli_assess_usage(FILE *out);
int cli_leads_run(int argc, char **argv);
void cli_leads_usage(FILE *out);
int cli_energy_run(int argc, char **argv);
void cli_energy_usage(FILE *out);
int cli_portfolio_run(int argc, char **argv);
void cli_portfolio_usage(FILE *out);

int cli_serve_run(int argc, char **argv);
int cli_worker_run(int argc, char **argv);
void cli_serve_usage(FILE *out);

/* ---- shared by the subcommands (cli_common.c) ---- */

/* Option values: the whole text must be the value, or the message
 * "nqba CMD: OPT: expected EXPECTED, got 'V'" is printed and
 * CLI_EXIT_USAGE returned. */
int cli_bad_value(const char *cmd, const char *opt, const char *expected, const char *got);
int cli_parse_i32(const char *cmd, const char *opt, const char *v, int32_t lo, int32_t hi,
                  int32_t *out);
int cli_parse_u64(const char *cmd, const char *opt, const char *v, uint64_t max, uint64_t *out);
int cli_parse_number(const char *cmd, const char *opt, const char *v, const char *expected,
                     double *out);

/* Exit status for a library error: the input's fault (2) or ours (1). */
int cli_exit_for(int code);
/* Read path ("-": standard input) into out, whose max is the size limit;
 * source names the input in messages. Returns 0 or an exit status after
 * printing why. */
int cli_read_input(const char *path, const char *source, nq_buf *out);
/* Unit requests (cli_request.c): a JSON object from path (NULL: an empty
 * object); a member set to a file's text; and an error printed against
 * the file a member came from ("nqba: prices.csv: line 5: ...") or else
 * the request. Each returns 0 or an exit status after printing why. */
typedef struct cli_file_member {
    const char *pointer; /* "/prices_csv" */
    const char *path;    /* the file it was read from, or NULL */
} cli_file_member;
int cli_request_read(const char *path, json_t **doc);
/* The arguments of a unit command from argv[first]: the request file (the
 * one argument that is not an option or an option's value) read into
 * *doc, --json, then every other "--option value" handed to apply in
 * order. */
typedef int (*cli_option_fn)(void *user, json_t *doc, const char *opt, const char *value);
int cli_request_args(const char *cmd, int argc, char **argv, int first, cli_option_fn apply,
                     void *user, json_t **doc, const char **request, int *json);
int cli_request_file(json_t *doc, const char *key, const char *path);
void cli_request_error(const char *request, const cli_file_member *files, int n,
                       const nq_err *err);

/* "nqba: SOURCE: WHERE: MESSAGE", without repeating SOURCE when the error's
 * location already starts with it ("file:line"). */
void cli_print_input_error(const char *source, const nq_err *err);

#endif
