/* cli.h - the nqba command's subcommands (private to src/cli).
 *
 * Each subcommand is a pair: a run function that takes the arguments after
 * the subcommand name (argv[0] is the name itself) and returns the process
 * exit status, and a usage function that prints its help. main.c holds the
 * table that maps names to these pairs. */
#ifndef NQBA_CLI_H
#define NQBA_CLI_H

#include <stdio.h>

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

#endif
