/* cmd_energy.c - `nqba energy schedule|commit`: the FLYFOX AI unit from the
 * command line. A request is a JSON file (the HTTP body, docs/api/
 * energy.md), options, or both: --forecast, --units and --demand read CSV
 * files into forecast_csv, units_csv and demand_csv. The answer prints as
 * a summary, or as the document (--json). */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "nqba/flyfox.h"

typedef struct en_args {
    const char *request, *forecast, *units, *demand;
    int json;
} en_args;

void cli_energy_usage(FILE *out)
{
    fputs("usage: nqba energy schedule [REQUEST.json] [options]\n"
          "       nqba energy commit [REQUEST.json] [options]\n"
          "\n"
          "schedule: the cheapest schedule of a site's battery, grid exchange and deferrable\n"
          "loads against time-of-use prices (LP, or MILP for on/off loads), with the naive\n"
          "schedule's cost and the saving. commit: thermal unit commitment, searched by the\n"
          "engine with each hour's dispatch exact (or --method milp). REQUEST.json is the\n"
          "HTTP request body (docs/api/energy.md); options set its members.\n"
          "\n"
          "options:\n"
          "  --forecast FILE      (schedule) CSV with columns load_w, pv_w, price_import,\n"
          "                       price_export (any of them), one row per step\n"
          "  --dt-h H             (schedule) step length in hours\n"
          "  --objective O        (schedule) profit (default), cost or self_consumption\n"
          "  --units FILE         (commit) CSV: unit,pmax_mw,pmin_mw,a_usd_per_h,b_usd_per_mwh,\n"
          "                       c_usd_per_mw2h,min_up_h,min_down_h,hot_start_usd,\n"
          "                       cold_start_usd,cold_start_hours,initial_status_h\n"
          "  --demand FILE        (commit) CSV: hour,demand_mw\n"
          "  --method M           (commit) engine (default) or milp\n"
          "  --tangents K         (commit, milp) tangent cuts per unit-hour, default 20\n"
          "  --time-limit S       seconds (MILP, or the engine's search)\n"
          "  --json               print the answer document\n",
          out);
}

static int set_option(json_t *doc, const char *opt, const char *v)
{
    double x;
    if (!strcmp(opt, "--objective") || !strcmp(opt, "--method")) {
        json_object_set_new(doc, opt + 2, json_string(v));
        return 0;
    }
    if (cli_parse_number("energy", opt, v, "a number", &x))
        return CLI_EXIT_USAGE;
    if (!strcmp(opt, "--dt-h")) {
        json_object_set_new(doc, "dt_h", json_real(x));
    } else if (!strcmp(opt, "--tangents")) {
        json_object_set_new(doc, "tangents", json_integer((json_int_t)x));
    } else if (!strcmp(opt, "--time-limit")) {
        json_t *o = json_object_get(doc, "options");
        if (!json_is_object(o)) {
            o = json_object();
            json_object_set_new(doc, "options", o);
        }
        json_object_set_new(o, "time_limit", json_real(x));
    } else {
        fprintf(stderr, "nqba energy: unknown option %s (nqba help energy)\n", opt);
        return CLI_EXIT_USAGE;
    }
    return 0;
}

static int apply(void *user, json_t *doc, const char *opt, const char *v)
{
    en_args *a = user;
    const char **file = !strcmp(opt, "--forecast") ? &a->forecast
                        : !strcmp(opt, "--units")  ? &a->units
                        : !strcmp(opt, "--demand") ? &a->demand
                                                   : NULL;
    if (file) {
        *file = v;
        return 0;
    }
    return set_option(doc, opt, v);
}

static int parse_args(int argc, char **argv, en_args *a, json_t **doc)
{
    memset(a, 0, sizeof *a);
    int rc = cli_request_args("energy", argc, argv, 2, apply, a, doc, &a->request, &a->json);
    const char *keys[] = {"forecast_csv", "units_csv", "demand_csv"};
    const char *paths[] = {a->forecast, a->units, a->demand};
    for (int k = 0; !rc && k < 3; k++)
        if (paths[k])
            rc = cli_request_file(*doc, keys[k], paths[k]);
    return rc;
}

static void print_summary(const json_t *ans, int commit)
{
    size_t i;
    const json_t *line;
    if (commit) {
        const char *name;
        json_t *bits;
        printf("commitment (hours 1..%zu):\n",
               strlen(json_string_value(json_object_iter_value(
                   json_object_iter(json_object_get(ans, "commitment"))))));
        json_object_foreach(json_object_get(ans, "commitment"), name, bits)
            printf("  %-10s %s\n", name, json_string_value(bits));
    }
    json_array_foreach(json_object_get(ans, "explanation"), i, line)
        printf("%s\n", json_string_value(line));
}

int cli_energy_run(int argc, char **argv)
{
    if (argc < 2 || (strcmp(argv[1], "schedule") != 0 && strcmp(argv[1], "commit") != 0)) {
        fprintf(stderr, "nqba energy: expected schedule or commit (nqba help energy)\n");
        return CLI_EXIT_USAGE;
    }
    int commit = !strcmp(argv[1], "commit");
    en_args a;
    json_t *doc = NULL, *ans = NULL;
    int rc = parse_args(argc, argv, &a, &doc);
    nq_err err;
    nq_err_clear(&err);
    if (!rc && commit) {
        nq_flyfox_uc_req r;
        if (!(rc = nq_flyfox_uc_parse(doc, &r, &err))) {
            rc = nq_flyfox_uc_run(&r, NULL, &ans, &err);
            nq_flyfox_uc_req_free(&r);
        }
    } else if (!rc) {
        nq_flyfox_site_req r;
        if (!(rc = nq_flyfox_site_parse(doc, &r, &err))) {
            rc = nq_flyfox_site_run(&r, NULL, &ans, &err);
            nq_flyfox_site_req_free(&r);
        }
    }
    if (rc && err.code) {
        const cli_file_member files[] = {{"/forecast_csv", a.forecast},
                                         {"/units_csv", a.units},
                                         {"/demand_csv", a.demand}};
        cli_request_error(a.request, files, 3, &err);
        rc = cli_exit_for(err.code);
    } else if (!rc && a.json) {
        json_dumpf(ans, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
        putchar('\n');
    } else if (!rc) {
        print_summary(ans, commit);
    }
    json_decref(doc);
    json_decref(ans);
    return rc;
}
