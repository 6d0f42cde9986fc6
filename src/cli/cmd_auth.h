/* cmd_auth.h - `nqba user` and `nqba apikey` (cmd_auth.c), for main.c's
 * command table (cli.h's convention: run from the subcommand's name on,
 * returning the exit status; usage). */
#ifndef NQBA_CMD_AUTH_H
#define NQBA_CMD_AUTH_H

#include <stdio.h>

/* nqba user add NAME --role ROLE [--password-stdin] [--db URL] */
int cli_user_run(int argc, char **argv);
void cli_user_usage(FILE *out);

/* nqba apikey add --owner NAME [--scopes S] [--expires-days N] [--db URL] */
int cli_apikey_run(int argc, char **argv);
void cli_apikey_usage(FILE *out);

/* nqba keys new | nqba keys rotate-fields [--db URL] */
int cli_keys_run(int argc, char **argv);
void cli_keys_usage(FILE *out);

#endif
