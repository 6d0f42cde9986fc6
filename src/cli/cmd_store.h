/* cmd_store.h - the store administration subcommands (cmd_store.c), for
 * main.c's command table. Each pair follows cli.h's convention: a run
 * function given the arguments from the subcommand's name on, returning
 * the exit status, and a usage function. */
#ifndef NQBA_CMD_STORE_H
#define NQBA_CMD_STORE_H

#include <stdio.h>

/* nqba migrate [--db URL] */
int cli_migrate_run(int argc, char **argv);
void cli_migrate_usage(FILE *out);

/* nqba audit verify [--db URL] [--json] */
int cli_audit_run(int argc, char **argv);
void cli_audit_usage(FILE *out);

/* nqba export [--db URL] [--since T] [--out FILE] */
int cli_export_run(int argc, char **argv);
void cli_export_usage(FILE *out);

/* nqba import [--db URL] FILE|- */
int cli_import_run(int argc, char **argv);
void cli_import_usage(FILE *out);

#endif
