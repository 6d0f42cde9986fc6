/* cmd_portfolio.c - `nqba portfolio optimize|risk`: the Goliath Trade unit
 * from the command line. A request is a JSON file (the HTTP body, see
 * docs/api/portfolio.md), options on the command line, or both: options
 * set the request's members, and --prices reads a CSV file into
 * prices_csv. The answer prints as a summary, or as the document (--json).
 *
 * A CSV error names the file and line: "nqba: prices.csv: line 5: ...". */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "nqba/goliath.h"
#include "nqba/json.h"

typedef struct pf_args {
    const char *request, *prices, *benchmark;
    int json;
} pf_args;

void cli_portfolio_usage(FILE *out)
{
    fputs("usage: nqba portfolio optimize [REQUEST.json] [options]\n"
          "       nqba portfolio risk [REQUEST.json] [options]\n"
          "\n"
          "Optimize a portfolio (PyPortfolioOpt conventions) or assess the risk of given\n"
          "weights. REQUEST.json is the HTTP request body (docs/api/portfolio.md); the\n"
          "options below set its members.\n"
          "\n"
          "options:\n"
          "  --prices FILE            daily prices, CSV: date, then one column per asset\n"
          "  --objective O            min_volatility, max_sharpe (default), efficient_return,\n"
          "                           efficient_risk, max_quadratic_utility, min_cvar,\n"
          "                           risk_parity, hrp\n"
          "  --risk-free-rate R       annual, default 0.02\n"
          "  --target-return R        for efficient_return\n"
          "  --target-volatility V    for efficient_risk\n"
          "  --max-assets K           hold at most K assets (the engine searches subsets)\n"
          "  --min-weight W           a held asset's weight is at least W\n"
          "  --budget B               whole shares for B at the last prices\n"
          "  --frontier N             N points of the efficient frontier\n"
          "  --benchmark FILE         (risk) benchmark prices, CSV: date, price\n"
          "  --level L                (risk) VaR/CVaR confidence, default 0.95\n"
          "  --json                   print the answer document\n",
          out);
}

static int set_number(json_t *doc, const char *key, const char *opt, const char *v)
{
    double x;
    if (cli_parse_number("portfolio", opt, v, "a number", &x))
        return CLI_EXIT_USAGE;
    json_object_set_new(doc, key, json_real(x));
    return 0;
}

static int set_int(json_t *doc, const char *key, const char *opt, const char *v)
{
    int32_t k;
    if (cli_parse_i32("portfolio", opt, v, 1, 1000000, &k))
        return CLI_EXIT_USAGE;
    json_object_set_new(doc, key, json_integer(k));
    return 0;
}

typedef struct opt_map {
    const char *opt, *key;
    char kind; /* n number, i integer, s string */
} opt_map;

static const opt_map OPTS[] = {
    {"--objective", "objective", 's'},       {"--risk-free-rate", "risk_free_rate", 'n'},
    {"--target-return", "target_return", 'n'}, {"--target-volatility", "target_volatility", 'n'},
    {"--max-assets", "max_assets", 'i'},     {"--min-weight", "min_weight", 'n'},
    {"--budget", "budget", 'n'},             {"--frontier", "frontier_points", 'i'},
    {"--level", "level", 'n'},
};

static int apply_option(void *user, json_t *doc, const char *opt, const char *v)
{
    pf_args *a = user;
    if (!strcmp(opt, "--prices")) {
        a->prices = v;
        return 0;
    }
    if (!strcmp(opt, "--benchmark")) {
        a->benchmark = v;
        return 0;
    }
    for (size_t i = 0; i < sizeof OPTS / sizeof OPTS[0]; i++) {
        if (strcmp(opt, OPTS[i].opt) != 0)
            continue;
        if (OPTS[i].kind == 'n')
            return set_number(doc, OPTS[i].key, opt, v);
        if (OPTS[i].kind == 'i')
            return set_int(doc, OPTS[i].key, opt, v);
        json_object_set_new(doc, OPTS[i].key, json_string(v));
        return 0;
    }
    fprintf(stderr, "nqba portfolio: unknown option %s (nqba help portfolio)\n", opt);
    return CLI_EXIT_USAGE;
}

static int parse_args(int argc, char **argv, pf_args *a, json_t **doc)
{
    memset(a, 0, sizeof *a);
    int rc = cli_request_args("portfolio", argc, argv, 2, apply_option, a, doc, &a->request,
                              &a->json);
    if (!rc && a->prices)
        rc = cli_request_file(*doc, "prices_csv", a->prices);
    if (!rc && a->benchmark)
        rc = cli_request_file(*doc, "benchmark_csv", a->benchmark);
    return rc;
}

/* A request error names the file the member came from when it came from
 * one: "prices.csv: line 5: ...". */
static void print_error(const pf_args *a, const nq_err *err)
{
    const cli_file_member files[] = {{"/prices_csv", a->prices},
                                     {"/benchmark_csv", a->benchmark}};
    cli_request_error(a->request, files, 2, err);
}

/* ---- the summary --------------------------------------------------------------------- */

static int by_weight(const void *x, const void *y)
{
    double a = json_real_value(json_object_get(*(json_t *const *)x, "w"));
    double b = json_real_value(json_object_get(*(json_t *const *)y, "w"));
    return (a < b) - (a > b);
}

static void print_weights(const json_t *weights)
{
    size_t n = json_object_size(weights), k = 0;
    json_t **rows = calloc(n ? n : 1, sizeof *rows);
    const char *name;
    json_t *v;
    if (!rows)
        return;
    json_object_foreach((json_t *)weights, name, v)
        rows[k++] = json_pack("{s:s, s:f}", "name", name, "w", json_real_value(v));
    qsort(rows, k, sizeof *rows, by_weight);
    printf("weights:\n");
    for (size_t i = 0; i < k; i++) {
        double w = json_real_value(json_object_get(rows[i], "w"));
        if (fabs(w) >= 5e-5)
            printf("  %-12s %7.2f%%\n", json_string_value(json_object_get(rows[i], "name")),
                   100 * w);
        json_decref(rows[i]);
    }
    free(rows);
}

static void print_summary(const json_t *ans)
{
    const json_t *w = json_object_get(ans, "weights"), *e = json_object_get(ans, "explanation");
    if (w)
        print_weights(w);
    size_t i;
    const json_t *line;
    json_array_foreach(e, i, line)
        printf("%s\n", json_string_value(line));
}

int cli_portfolio_run(int argc, char **argv)
{
    if (argc < 2 || (strcmp(argv[1], "optimize") != 0 && strcmp(argv[1], "risk") != 0)) {
        fprintf(stderr, "nqba portfolio: expected optimize or risk (nqba help portfolio)\n");
        return CLI_EXIT_USAGE;
    }
    int risk = !strcmp(argv[1], "risk");
    pf_args a;
    json_t *doc = NULL, *ans = NULL;
    int rc = parse_args(argc, argv, &a, &doc);
    nq_err err;
    nq_err_clear(&err);
    if (!rc && risk) {
        nq_goliath_risk_req r;
        rc = nq_goliath_risk_parse(doc, &r, &err);
        if (!rc) {
            rc = nq_goliath_risk_run(&r, &ans, &err);
            nq_goliath_risk_req_free(&r);
        }
    } else if (!rc) {
        nq_goliath_req r;
        rc = nq_goliath_parse(doc, &r, &err);
        if (!rc) {
            rc = nq_goliath_run(&r, NULL, &ans, &err);
            nq_goliath_req_free(&r);
        }
    }
    if (rc && err.code) {
        print_error(&a, &err);
        rc = cli_exit_for(err.code);
    } else if (!rc && a.json) {
        json_dumpf(ans, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
        putchar('\n');
    } else if (!rc) {
        print_summary(ans);
    }
    json_decref(doc);
    json_decref(ans);
    return rc;
}
