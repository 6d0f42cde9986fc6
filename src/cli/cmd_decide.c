/* cmd_decide.c - `nqba decide FILE [options]`: read a decision request
 * (JSON) or a model (MPS, LP), run the decision engine and print the
 * decision as a readable summary or as the answer document.
 *
 * The text summary is written from the same answer document that --json
 * prints (cmd_decide_text.c), so the two never disagree. */
#include <ctype.h>
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli.h"
#include "nqba/buf.h"
#include "nqba/clock.h"
#include "nqba/cqm.h"
#include "nqba/decision.h"
#include "nqba/json.h"
#include "nqba/lp.h"

#define DECIDE_MAX_INPUT ((size_t)64 << 20) /* 64 MiB, as nq_json_parse's default */
#define PROGRESS_INTERVAL_S 0.1

typedef struct decide_args {
    const char *path;
    const char *format; /* json, mps, mps-fixed, lp; NULL = from the name */
    const char *solver; /* NULL = the request's */
    int has_seed, has_time, has_alts;
    uint64_t seed;
    double time_limit;
    int32_t alternatives;
    int json, quiet;
} decide_args;

typedef struct decide_ctx {
    decide_args args;
    const char *source; /* the input's name in messages */
    nq_decision_req req;
    nq_decision_res res;
    int bar, bar_shown;
    double bar_last;
    int plain; /* answered by the plain LP/MILP path (cmd_decide_lp.c) */
} decide_ctx;

void cli_decide_usage(FILE *out)
{
    fprintf(out,
            "usage: nqba decide FILE [options]\n"
            "\n"
            "Make a decision: read a request (JSON: variables, objective, constraints, rules,\n"
            "facts, options, baseline) or a model (MPS, LP) from FILE ('-' for standard\n"
            "input, read as JSON), apply the rules, solve, and explain the answer.\n"
            "\n"
            "options:\n"
            "  --format F         json, mps (free), mps-fixed or lp (default: from the\n"
            "                     file name's extension, else JSON if it starts with '{')\n"
            "  --solver S         auto (default), native, exact, milp, sa, tabu, pt or sb\n"
            "  --time-limit S     seconds to solve, more than 0 and at most %g (default 1)\n"
            "  --seed N           random seed, 0..%lld (default 1)\n"
            "  --alternatives K   also give up to K other feasible answers, 0..%d\n"
            "  --json             print the answer document (JSON) instead of a summary\n"
            "  --quiet            no progress line\n"
            "  --help             show this help\n"
            "\n"
            "Options given here override the request's \"options\".\n"
            "Exit status: 0 answered (also when the answer is infeasible: the summary\n"
            "says INFEASIBLE and the JSON has \"status\": \"infeasible\"), 2 bad input or\n"
            "usage (the message names the file and the line or JSON pointer), 1 other\n"
            "failure.\n",
            NQ_DECISION_MAX_TIME, (long long)INT64_MAX, NQ_CQM_MAX_ALTERNATIVES);
}

/* ---- options ---- */

typedef int (*opt_set_fn)(decide_args *a, const char *opt, const char *v);

typedef struct decide_opt {
    const char *name;
    int takes_value;
    opt_set_fn set;
} decide_opt;

static int set_format(decide_args *a, const char *opt, const char *v)
{
    static const char *const names[] = {"json", "mps", "mps-fixed", "lp", NULL};
    for (int k = 0; names[k]; k++)
        if (strcmp(v, names[k]) == 0) {
            a->format = names[k];
            return 0;
        }
    return cli_bad_value("decide", opt, "json, mps, mps-fixed or lp", v);
}

static int set_solver(decide_args *a, const char *opt, const char *v)
{
    if (!nq_decision_solver_known(v))
        return cli_bad_value("decide", opt, "auto, native, exact, milp, sa, tabu, pt or sb", v);
    a->solver = v;
    return 0;
}

static int set_seed(decide_args *a, const char *opt, const char *v)
{
    a->has_seed = 1;
    return cli_parse_u64("decide", opt, v, INT64_MAX, &a->seed);
}

static int set_time_limit(decide_args *a, const char *opt, const char *v)
{
    char expected[64];
    snprintf(expected, sizeof expected, "seconds, more than 0 and at most %g",
             NQ_DECISION_MAX_TIME);
    a->has_time = 1;
    if (cli_parse_number("decide", opt, v, expected, &a->time_limit))
        return CLI_EXIT_USAGE;
    if (!(a->time_limit > 0 && a->time_limit <= NQ_DECISION_MAX_TIME))
        return cli_bad_value("decide", opt, expected, v);
    return 0;
}

static int set_alternatives(decide_args *a, const char *opt, const char *v)
{
    a->has_alts = 1;
    return cli_parse_i32("decide", opt, v, 0, NQ_CQM_MAX_ALTERNATIVES, &a->alternatives);
}

static int set_json(decide_args *a, const char *opt, const char *v)
{
    (void)opt, (void)v;
    a->json = 1;
    return 0;
}

static int set_quiet(decide_args *a, const char *opt, const char *v)
{
    (void)opt, (void)v;
    a->quiet = 1;
    return 0;
}

/* clang-format off */
static const decide_opt decide_opts[] = {
    {"--format",       1, set_format},
    {"--solver",       1, set_solver},
    {"--seed",         1, set_seed},
    {"--time-limit",   1, set_time_limit},
    {"--alternatives", 1, set_alternatives},
    {"--json",         0, set_json},
    {"--quiet",        0, set_quiet},
};
/* clang-format on */

static int usage_error(const char *what, const char *arg)
{
    fprintf(stderr, "nqba decide: %s '%s'\nTry 'nqba decide --help'.\n", what, arg);
    return CLI_EXIT_USAGE;
}

/* "--name" or "--name=value"; the value may also be the next argument. */
static int apply_opt(decide_args *a, int argc, char **argv, int *i)
{
    const char *eq = strchr(argv[*i], '=');
    size_t len = eq ? (size_t)(eq - argv[*i]) : strlen(argv[*i]);
    const char *value = eq ? eq + 1 : NULL;
    const decide_opt *o = NULL;
    for (size_t k = 0; k < sizeof decide_opts / sizeof decide_opts[0]; k++)
        if (strlen(decide_opts[k].name) == len && strncmp(decide_opts[k].name, argv[*i], len) == 0)
            o = &decide_opts[k];
    if (!o)
        return usage_error("unknown option", argv[*i]);
    if (!o->takes_value && value)
        return usage_error("option takes no value:", argv[*i]);
    if (o->takes_value && !value) {
        if (*i + 1 >= argc) {
            fprintf(stderr, "nqba decide: %s: missing value\n", o->name);
            return CLI_EXIT_USAGE;
        }
        value = argv[++*i];
    }
    return o->set(a, o->name, value ? value : "");
}

/* Returns 0, CLI_EXIT_USAGE after printing why, or -1 when help was asked. */
static int parse_args(int argc, char **argv, decide_args *a)
{
    int only_files = 0;
    memset(a, 0, sizeof *a);
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        int rc = 0;
        if (!only_files && (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0))
            return -1;
        if (!only_files && strcmp(arg, "--") == 0)
            only_files = 1;
        else if (!only_files && arg[0] == '-' && arg[1] != '\0')
            rc = apply_opt(a, argc, argv, &i);
        else if (a->path)
            rc = usage_error("unexpected argument", arg);
        else
            a->path = arg;
        if (rc)
            return rc;
    }
    if (!a->path) {
        fputs("nqba decide: missing FILE\nTry 'nqba decide --help'.\n", stderr);
        return CLI_EXIT_USAGE;
    }
    return 0;
}

/* ---- input ---- */

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcasecmp(s + n - k, suffix) == 0;
}

/* The format from the name, else from the content. */
static const char *guess_format(const char *path, const char *data, size_t len)
{
    if (strcmp(path, "-") == 0 || ends_with(path, ".json"))
        return "json";
    if (ends_with(path, ".mps"))
        return "mps";
    if (ends_with(path, ".lp"))
        return "lp";
    size_t i = 0;
    while (i < len && isspace((unsigned char)data[i]))
        i++;
    return i < len && data[i] == '{' ? "json" : NULL;
}

static int parse_json(decide_ctx *c, const char *data, size_t len, nq_err *err)
{
    json_t *doc = NULL;
    int rc = nq_json_parse(data, len, c->source, NULL, &doc, err);
    if (!rc)
        rc = nq_decision_parse(doc, &c->req, err);
    json_decref(doc);
    return rc;
}

static int parse_glpk(decide_ctx *c, const char *data, size_t len, const char *format, nq_err *err)
{
    nq_cqm m;
    int rc = nq_cqm_read_glpk(data, len, c->source, format, &m, err);
    if (!rc)
        rc = nq_decision_req_from_cqm(&m, &c->req, err);
    return rc;
}

static int parse_input(decide_ctx *c, const char *data, size_t len)
{
    const char *format = c->args.format ? c->args.format : guess_format(c->args.path, data, len);
    if (!format) {
        fprintf(stderr, "nqba: %s: cannot tell the format from the name; use --format\n",
                c->source);
        return CLI_EXIT_USAGE;
    }
    nq_err err;
    nq_err_clear(&err);
    /* Continuous columns: the engine's models have none, GLPK takes it as is. */
    if (strcmp(format, "json") != 0 && nq_lp_needs_plain(data, len, format) == 1) {
        c->plain = 1;
        return cli_decide_plain(c->source, data, len, format,
                                c->args.has_time ? c->args.time_limit : 0, c->args.json);
    }
    int rc = strcmp(format, "json") == 0 ? parse_json(c, data, len, &err)
                                         : parse_glpk(c, data, len, format, &err);
    if (rc) {
        cli_print_input_error(c->source, &err);
        return cli_exit_for(rc);
    }
    return 0;
}

static int load(decide_ctx *c)
{
    nq_buf in;
    nq_buf_init(&in, DECIDE_MAX_INPUT);
    int rc = cli_read_input(c->args.path, c->source, &in);
    if (!rc)
        rc = parse_input(c, in.data ? in.data : "", in.len);
    nq_buf_free(&in);
    return rc;
}

static void override_options(decide_ctx *c)
{
    const decide_args *a = &c->args;
    nq_decision_opts *o = &c->req.opts;
    if (a->solver)
        snprintf(o->solver, sizeof o->solver, "%s", a->solver);
    if (a->has_seed)
        o->seed = a->seed;
    if (a->has_time)
        o->time_limit = a->time_limit;
    if (a->has_alts)
        o->alternatives = a->alternatives;
}

/* ---- running ---- */

/* Called by the solver one call at a time, so the context needs no lock. */
static int on_progress(const nq_progress *p, void *user)
{
    decide_ctx *c = user;
    double now = nq_clock_s();
    if (c->bar_shown && now - c->bar_last < PROGRESS_INTERVAL_S)
        return 0;
    c->bar_last = now;
    c->bar_shown = 1;
    if (isfinite(p->best_energy))
        fprintf(stderr, "\rsolving  best score %.10g  %.1fs\033[K", p->best_energy, p->elapsed);
    else
        fprintf(stderr, "\rsolving  no feasible answer yet  %.1fs\033[K", p->elapsed);
    fflush(stderr);
    return 0;
}

static int run(decide_ctx *c)
{
    nq_err err;
    nq_err_clear(&err);
    int rc = nq_decision_run(&c->req, c->bar ? on_progress : NULL, c, &c->res, &err);
    if (c->bar_shown) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
    }
    if (rc) {
        cli_print_input_error(c->source, &err);
        return cli_exit_for(rc);
    }
    return 0;
}

static int print_answer(const decide_ctx *c, FILE *out)
{
    json_t *doc = nq_decision_to_json(&c->res);
    if (!doc) {
        fputs("nqba: out of memory building the answer\n", stderr);
        return CLI_EXIT_FAIL;
    }
    int rc = 0;
    if (c->args.json)
        rc = json_dumpf(doc, out, JSON_INDENT(2) | JSON_REAL_PRECISION(17)) ||
             fputc('\n', out) == EOF;
    else
        cli_decide_print_text(doc, out);
    json_decref(doc);
    if (rc) {
        fputs("nqba: cannot write to standard output\n", stderr);
        return CLI_EXIT_FAIL;
    }
    return 0;
}

int cli_decide_run(int argc, char **argv)
{
    decide_ctx c;
    memset(&c, 0, sizeof c);
    nq_decision_req_init(&c.req);
    int rc = parse_args(argc, argv, &c.args);
    if (rc < 0) {
        cli_decide_usage(stdout);
        return CLI_EXIT_OK;
    }
    if (rc)
        return rc;
    c.source = strcmp(c.args.path, "-") == 0 ? "stdin" : c.args.path;
    c.bar = !c.args.quiet && isatty(STDERR_FILENO);
    rc = load(&c);
    if (!rc && !c.plain) {
        override_options(&c);
        rc = run(&c);
    }
    if (!rc && !c.plain)
        rc = print_answer(&c, stdout);
    nq_decision_res_free(&c.res);
    nq_decision_req_free(&c.req);
    return rc;
}
