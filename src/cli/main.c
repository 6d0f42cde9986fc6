/* main.c - the nqba command: global options and subcommand dispatch.
 *
 * Subcommands live in their own files (cmd_*.c) and are found through the
 * table below, so adding one is one line here plus its file. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cmd_auth.h"
#include "cmd_store.h"
#include "nqba/version.h"

typedef struct cli_command {
    const char *name;
    const char *summary;
    cli_run_fn run;
    cli_usage_fn usage;
} cli_command;

static const cli_command commands[] = {
    {"solve", "solve a QUBO, Ising or Max-Cut model from a file", cli_solve_run, cli_solve_usage},
    {"decide", "make a decision: a constrained model with rules, solved and explained",
     cli_decide_run, cli_decide_usage},
    {"assess", "assess REQUEST.json: compliance readiness, gaps and a remediation plan",
     cli_assess_run, cli_assess_usage},
    {"leads", "leads train|score|assign: Sigma Select lead scoring and assignment",
     cli_leads_run, cli_leads_usage},
    {"energy", "energy schedule|commit: FLYFOX AI site schedules and unit commitment",
     cli_energy_run, cli_energy_usage},
    {"portfolio", "portfolio optimize|risk: Goliath Trade portfolio optimization and risk",
     cli_portfolio_run, cli_portfolio_usage},
    {"serve", "serve the HTTP API (docs/api/http.md) until SIGTERM", cli_serve_run,
     cli_serve_usage},
    {"worker", "run jobs from the shared PostgreSQL queue (docs/DEPLOY.md)", cli_worker_run,
     cli_serve_usage},
    {"migrate", "bring the store's schema up to date", cli_migrate_run, cli_migrate_usage},
    {"user", "user add NAME --role ROLE: add a user (the first admin comes from here)",
     cli_user_run, cli_user_usage},
    {"apikey", "apikey add --owner NAME: make an API key, shown once", cli_apikey_run,
     cli_apikey_usage},
    {"keys", "keys new | keys rotate-fields: make keys, re-encrypt stored fields", cli_keys_run,
     cli_keys_usage},
    {"audit", "audit verify: check the audit log's hash chain", cli_audit_run, cli_audit_usage},
    {"export", "write the store as JSON lines (a backup)", cli_export_run, cli_export_usage},
    {"import", "restore an export into a fresh store, in one transaction", cli_import_run,
     cli_import_usage},
};

#define N_COMMANDS (sizeof commands / sizeof commands[0])

static const cli_command *find_command(const char *name)
{
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

static void usage(FILE *out)
{
    fputs("usage: nqba <command> [options]\n"
          "       nqba --help | --version\n"
          "       nqba help <command>\n"
          "\n"
          "commands:\n",
          out);
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fputs("\nRun 'nqba help <command>' for a command's options.\n", out);
}

static int unknown_command(const char *name)
{
    fprintf(stderr, "nqba: unknown command '%s'\n\n", name);
    usage(stderr);
    return CLI_EXIT_USAGE;
}

/* nqba help [command] */
static int help(int argc, char **argv)
{
    if (argc < 3) {
        usage(stdout);
        return CLI_EXIT_OK;
    }
    const cli_command *c = find_command(argv[2]);
    if (!c)
        return unknown_command(argv[2]);
    c->usage(stdout);
    return CLI_EXIT_OK;
}

/* Exit status for output that could not be written (a closed pipe, a full
 * disk): the command's work may be done, but its answer was lost. */
static int finish(int status)
{
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "nqba: cannot write to standard output\n");
        return status ? status : CLI_EXIT_FAIL;
    }
    return status;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
        usage(stdout);
        return finish(CLI_EXIT_OK);
    }
    if (strcmp(name, "--version") == 0) {
        puts("nqba " NQ_VERSION);
        return finish(CLI_EXIT_OK);
    }
    if (strcmp(name, "help") == 0)
        return finish(help(argc, argv));
    const cli_command *c = find_command(name);
    if (!c)
        return unknown_command(name);
    return finish(c->run(argc - 1, argv + 1));
}
