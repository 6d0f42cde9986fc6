/* cmd_solve.c - `nqba solve FILE [options]`: read a model, solve it, print
 * the best state as text or JSON.
 *
 * The command owns all I/O: it reads the input into memory (the readers
 * parse from memory), draws the progress bar, and writes the answer. Every
 * option is checked strictly so that a typo never silently runs something
 * other than what was asked. */
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "nqba/buf.h"
#include "nqba/clock.h"
#include "nqba/err.h"
#include "nqba/io.h"
#include "nqba/model.h"
#include "nqba/solve.h"

#define SOLVE_MAX_INPUT ((size_t)256 << 20) /* 256 MiB */
#define SOLVE_STATE_TEXT_MAX 128 /* longer states are only shown with --json */
#define BAR_WIDTH 20
#define BAR_INTERVAL_S 0.1 /* redraw at most ten times a second */
/* Largest magnitude below which every integer is exactly a double. */
#define EXACT_INT_LIMIT 9007199254740992.0

typedef struct solve_args {
    const char *path;
    nq_format format;
    const char *solver;
    uint64_t seed;
    int32_t reads, sweeps, threads; /* reads, sweeps: 0 = the solver's default */
    int32_t replicas;                /* 0 = the solver's default */
    const char *variant;             /* NULL = the solver's default */
    double time_limit; /* 0 = none */
    int has_target;
    double target;
    int json, quiet;
} solve_args;

typedef struct solve_ctx {
    solve_args args;
    const char *source; /* the input's name in messages */
    nq_format format;   /* the format actually read */
    nq_model model;
    nq_result result;
    int bar;         /* draw a progress bar on stderr */
    int bar_shown;   /* something is drawn and must be cleared */
    double bar_last; /* nq_clock_s() of the last redraw */
} solve_ctx;

void cli_solve_usage(FILE *out)
{
    fprintf(out,
            "usage: nqba solve FILE [options]\n"
            "\n"
            "Read a model from FILE ('-' for standard input) and print the best state found.\n"
            "\n"
            "options:\n"
            "  --format F      gset, qubo, json or auto (default: auto, from name and content)\n"
            "  --solver S      auto (default: a portfolio of the heuristics on all\n"
            "                  threads, exact for small models), sa (simulated\n"
            "                  annealing), tabu (breakout local search), pt (parallel\n"
            "                  tempering), sb (simulated bifurcation) or exact\n"
            "                  (n <= %d)\n"
            "  --seed N        random seed, 0..18446744073709551615 (default 1)\n"
            "  --reads N       independent runs, 1..%d (default: per solver)\n"
            "  --sweeps N      work per run, 1..%d (default: per solver; sweeps for\n"
            "                  sa and pt, moves/n for tabu, steps for sb)\n"
            "  --replicas N    pt: temperatures per run, 1..1024\n"
            "  --variant V     sb: ballistic (default) or discrete\n"
            "  --threads N     worker threads, 1..%d (default: online CPUs)\n"
            "  --time-limit S  stop after S seconds (default: none)\n"
            "  --target E      stop once a state with energy <= E is found\n"
            "  --json          print one JSON object instead of text\n"
            "  --quiet         no progress bar\n"
            "  --help          show this help\n"
            "\n"
            "Results do not depend on --threads for a given --seed unless a time limit\n"
            "cuts the run short. Exit status: 0 ok, 2 bad input or usage, 1 other failure.\n",
            NQ_EXACT_MAX_VARS, NQ_SOLVE_MAX_READS, NQ_SOLVE_MAX_SWEEPS, NQ_SOLVE_MAX_THREADS);
}

/* ---- option values ---- */

static int bad_value(const char *opt, const char *expected, const char *got)
{
    return cli_bad_value("solve", opt, expected, got);
}

/* ---- the option table ---- */

typedef int (*opt_set_fn)(solve_args *a, const char *opt, const char *v);

typedef struct solve_opt {
    const char *name;
    int takes_value;
    opt_set_fn set;
} solve_opt;

static int set_format(solve_args *a, const char *opt, const char *v)
{
    int f = nq_format_parse(v);
    if (f < 0)
        return bad_value(opt, "gset, qubo, json or auto", v);
    a->format = (nq_format)f;
    return 0;
}

static int set_solver(solve_args *a, const char *opt, const char *v)
{
    static const char *const names[] = {"auto", "sa", "tabu", "pt", "sb", "exact"};
    int ok = 0;
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
        ok |= strcmp(v, names[k]) == 0;
    if (!ok)
        return bad_value(opt, "auto, sa, tabu, pt, sb or exact", v);
    a->solver = v;
    return 0;
}

static int set_seed(solve_args *a, const char *opt, const char *v)
{
    return cli_parse_u64("solve", opt, v, UINT64_MAX, &a->seed);
}

static int set_reads(solve_args *a, const char *opt, const char *v)
{
    return cli_parse_i32("solve", opt, v, 1, NQ_SOLVE_MAX_READS, &a->reads);
}

static int set_sweeps(solve_args *a, const char *opt, const char *v)
{
    return cli_parse_i32("solve", opt, v, 1, NQ_SOLVE_MAX_SWEEPS, &a->sweeps);
}

static int set_replicas(solve_args *a, const char *opt, const char *v)
{
    return cli_parse_i32("solve", opt, v, 1, 1024, &a->replicas);
}

static int set_variant(solve_args *a, const char *opt, const char *v)
{
    if (strcmp(v, "ballistic") != 0 && strcmp(v, "discrete") != 0)
        return bad_value(opt, "ballistic or discrete", v);
    a->variant = v;
    return 0;
}

static int set_threads(solve_args *a, const char *opt, const char *v)
{
    return cli_parse_i32("solve", opt, v, 1, NQ_SOLVE_MAX_THREADS, &a->threads);
}

static int set_time_limit(solve_args *a, const char *opt, const char *v)
{
    const char *expected = "a positive number of seconds";
    if (cli_parse_number("solve", opt, v, expected, &a->time_limit))
        return CLI_EXIT_USAGE;
    if (a->time_limit <= 0)
        return bad_value(opt, expected, v);
    return 0;
}

static int set_target(solve_args *a, const char *opt, const char *v)
{
    a->has_target = 1;
    return cli_parse_number("solve", opt, v, "a finite number", &a->target);
}

static int set_json(solve_args *a, const char *opt, const char *v)
{
    (void)opt, (void)v;
    a->json = 1;
    return 0;
}

static int set_quiet(solve_args *a, const char *opt, const char *v)
{
    (void)opt, (void)v;
    a->quiet = 1;
    return 0;
}

/* clang-format off */
static const solve_opt solve_opts[] = {
    {"--format",     1, set_format},
    {"--solver",     1, set_solver},
    {"--seed",       1, set_seed},
    {"--reads",      1, set_reads},
    {"--sweeps",     1, set_sweeps},
    {"--threads",    1, set_threads},
    {"--replicas",   1, set_replicas},
    {"--variant",    1, set_variant},
    {"--time-limit", 1, set_time_limit},
    {"--target",     1, set_target},
    {"--json",       0, set_json},
    {"--quiet",      0, set_quiet},
};
/* clang-format on */

/* Look up "--name" or "--name=value"; *value points after '=' or is NULL. */
static const solve_opt *find_opt(const char *arg, const char **value)
{
    const char *eq = strchr(arg, '=');
    size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
    *value = eq ? eq + 1 : NULL;
    for (size_t i = 0; i < sizeof solve_opts / sizeof solve_opts[0]; i++)
        if (strlen(solve_opts[i].name) == len && strncmp(solve_opts[i].name, arg, len) == 0)
            return &solve_opts[i];
    return NULL;
}

static int usage_error(const char *what, const char *arg)
{
    fprintf(stderr, "nqba solve: %s '%s'\nTry 'nqba solve --help'.\n", what, arg);
    return CLI_EXIT_USAGE;
}

/* Apply the option at argv[*i], consuming its value from argv[*i + 1] when
 * it is not given as "--name=value". */
static int apply_opt(solve_args *a, int argc, char **argv, int *i)
{
    const char *value;
    const solve_opt *o = find_opt(argv[*i], &value);
    if (!o)
        return usage_error("unknown option", argv[*i]);
    if (!o->takes_value && value)
        return usage_error("option takes no value:", argv[*i]);
    if (o->takes_value && !value) {
        if (*i + 1 >= argc) {
            fprintf(stderr, "nqba solve: %s: missing value\n", o->name);
            return CLI_EXIT_USAGE;
        }
        value = argv[++*i];
    }
    return o->set(a, o->name, value ? value : "");
}

static int32_t online_cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1)
        return 1;
    return n > NQ_SOLVE_MAX_THREADS ? NQ_SOLVE_MAX_THREADS : (int32_t)n;
}

static void args_default(solve_args *a)
{
    memset(a, 0, sizeof *a);
    a->format = NQ_FMT_AUTO;
    a->solver = "auto";
    a->seed = 1;
    a->threads = online_cpus();
}

static int is_help(const char *arg)
{
    return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0;
}

/* Returns 0, CLI_EXIT_USAGE after printing why, or -1 when help was asked. */
static int parse_args(int argc, char **argv, solve_args *a)
{
    int only_files = 0;
    args_default(a);
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        int rc = 0;
        if (!only_files && is_help(arg))
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
        fputs("nqba solve: missing FILE\nTry 'nqba solve --help'.\n", stderr);
        return CLI_EXIT_USAGE;
    }
    return 0;
}

/* ---- input ---- */

static int parse_model(solve_ctx *c, const char *data, size_t len)
{
    nq_err err;
    nq_err_clear(&err);
    c->format = c->args.format;
    if (c->format == NQ_FMT_AUTO)
        c->format = nq_format_guess(c->args.path, data, len);
    if (c->format == NQ_FMT_AUTO) {
        fprintf(stderr, "nqba: %s: cannot tell the format; use --format\n", c->source);
        return CLI_EXIT_USAGE;
    }
    nq_model m;
    memset(&m, 0, sizeof m);
    int rc = nq_read_model(c->format, data, len, c->source, &m, &err);
    if (rc) {
        cli_print_input_error(c->source, &err);
        return cli_exit_for(rc);
    }
    c->model = m;
    return 0;
}

static int load_model(solve_ctx *c)
{
    nq_buf in;
    nq_buf_init(&in, SOLVE_MAX_INPUT);
    int rc = cli_read_input(c->args.path, c->source, &in);
    if (!rc)
        rc = parse_model(c, in.data ? in.data : "", in.len);
    nq_buf_free(&in);
    return rc;
}

/* ---- solving and the progress bar ---- */

/* Integral energies print as integers, others with enough digits to be
 * read back exactly. */
static const char *format_value(char *buf, size_t cap, double v, int integral)
{
    if (integral && fabs(v) < EXACT_INT_LIMIT)
        snprintf(buf, cap, "%.0f", v);
    else
        snprintf(buf, cap, "%.17g", v);
    return buf;
}

static void draw_bar(const solve_ctx *c, const nq_progress *p)
{
    double f = p->fraction < 0 ? 0 : p->fraction > 1 ? 1 : p->fraction;
    int filled = (int)(f * BAR_WIDTH + 0.5);
    char bar[BAR_WIDTH + 1];
    for (int i = 0; i < BAR_WIDTH; i++)
        bar[i] = i < filled ? '#' : '.';
    bar[BAR_WIDTH] = '\0';
    char best[64] = "-";
    if (isfinite(p->best_energy))
        format_value(best, sizeof best, p->best_energy, c->model.integral);
    fprintf(stderr, "\r[%s] %3d%%  best %s  %.1fs\033[K", bar, (int)(f * 100), best, p->elapsed);
    fflush(stderr);
}

/* Called by the solver threads one at a time, so the context needs no lock. */
static int on_progress(const nq_progress *p, void *user)
{
    solve_ctx *c = user;
    double now = nq_clock_s();
    if (c->bar_shown && now - c->bar_last < BAR_INTERVAL_S)
        return 0;
    c->bar_last = now;
    c->bar_shown = 1;
    draw_bar(c, p);
    return 0;
}

static void clear_bar(solve_ctx *c)
{
    if (!c->bar_shown)
        return;
    fputs("\r\033[K", stderr);
    fflush(stderr);
    c->bar_shown = 0;
}

static int run_solver(solve_ctx *c)
{
    const solve_args *a = &c->args;
    nq_solve_opts o;
    nq_solve_opts_default(&o);
    o.solver = a->solver;
    o.seed = a->seed;
    o.reads = a->reads;
    o.sweeps = a->sweeps;
    o.threads = a->threads;
    o.replicas = a->replicas;
    o.variant = a->variant;
    o.time_limit = a->time_limit;
    o.has_target = a->has_target;
    o.target = a->target;
    nq_err err;
    nq_err_clear(&err);
    nq_result r;
    memset(&r, 0, sizeof r);
    int rc = nq_solve(&c->model, &o, c->bar ? on_progress : NULL, c, &r, &err);
    clear_bar(c);
    if (rc) {
        char msg[NQ_ERR_WHERE_MAX + NQ_ERR_MSG_MAX + 8];
        fprintf(stderr, "nqba: %s: %s\n", c->source, nq_err_format(&err, msg, sizeof msg));
        return cli_exit_for(rc);
    }
    c->result = r;
    return 0;
}

/* ---- text output ---- */

/* For named models, the variables that are 1 (or +1) are the decision a
 * person reads first: list them by name. */
static void print_chosen_names(const solve_ctx *c, FILE *out)
{
    const nq_result *r = &c->result;
    if (!c->model.names)
        return;
    fputs(r->type == NQ_ISING ? "up       " : "chosen   ", out);
    int any = 0;
    for (int32_t i = 0; i < r->n; i++)
        if (r->state[i] > 0) {
            fprintf(out, "%s%s", any ? " " : "", c->model.names[i]);
            any = 1;
        }
    fputs(any ? "\n" : "(none)\n", out);
}

static void print_state_text(const solve_ctx *c, FILE *out)
{
    const nq_result *r = &c->result;
    if (r->n > SOLVE_STATE_TEXT_MAX) {
        fprintf(out, "state    (%" PRId32 " values, use --json)\n", r->n);
        return;
    }
    fputs("state    ", out);
    for (int32_t i = 0; i < r->n; i++) {
        if (r->type == NQ_ISING)
            fputc(r->state[i] > 0 ? '+' : '-', out);
        else
            fputc(r->state[i] ? '1' : '0', out);
    }
    fputc('\n', out);
    print_chosen_names(c, out);
}

static void print_effort_text(const solve_ctx *c, FILE *out)
{
    const solve_args *a = &c->args;
    const nq_result *r = &c->result;
    if (strcmp(r->found_by, "exact") == 0)
        fprintf(out, "states   %" PRId64 " (exhaustive), %" PRId32 " threads\n", r->attempts,
                a->threads);
    else if (strcmp(r->solver, "auto") == 0)
        fprintf(out, "runs     %" PRId64 ", %" PRId64 " moves, %" PRId32 " threads, seed %" PRIu64
                "\n", r->reads, r->attempts, a->threads, a->seed);
    else
        fprintf(out, "reads    %" PRId64 ", %" PRId64 " moves, %" PRId32 " threads, seed %" PRIu64
                "\n", r->reads, r->attempts, a->threads, a->seed);
}

static void print_text(const solve_ctx *c, FILE *out)
{
    const nq_result *r = &c->result;
    int integral = c->model.integral;
    char v[64];
    if (strcmp(r->solver, r->found_by) != 0)
        fprintf(out, "solver   %s (best state from %s)\n", r->solver, r->found_by);
    else
        fprintf(out, "solver   %s\n", r->solver);
    fprintf(out, "energy   %s\n", format_value(v, sizeof v, r->energy, integral));
    if (c->model.maxcut)
        fprintf(out, "cut      %s\n",
                format_value(v, sizeof v, nq_maxcut_value(&c->model, r->state), integral));
    print_effort_text(c, out);
    fprintf(out, "time     %.3f s (best found after %.3f s)\n", r->elapsed, r->time_to_best);
    if (r->target_reached)
        fputs("stopped  target reached\n", out);
    else if (r->timed_out)
        fputs("stopped  time limit reached\n", out);
    print_state_text(c, out);
}

/* ---- JSON output ---- */

/* jansson integers are signed 64-bit; a larger seed is given as a string so
 * it is never rounded. */
static json_t *json_seed(uint64_t seed)
{
    if (seed <= INT64_MAX)
        return json_integer((json_int_t)seed);
    char s[32];
    snprintf(s, sizeof s, "%" PRIu64, seed);
    return json_string(s);
}

/* json_object_set_new frees the value and fails on a NULL one. */
static void json_put(json_t *o, const char *key, json_t *v, int *failed)
{
    if (json_object_set_new(o, key, v))
        *failed = 1;
}

static json_t *build_json(const solve_ctx *c)
{
    json_t *o = nq_result_to_json(&c->model, &c->result);
    int bad = !o;
    if (bad)
        return NULL;
    /* What the command line adds to the library's answer. */
    json_put(o, "format", json_string(nq_format_name(c->format)), &bad);
    if (c->args.sweeps)
        json_put(o, "sweeps", json_integer(c->args.sweeps), &bad);
    json_put(o, "seed", json_seed(c->args.seed), &bad);
    json_put(o, "threads", json_integer(c->args.threads), &bad);
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static int print_json(const solve_ctx *c, FILE *out)
{
    json_t *o = build_json(c);
    if (!o) {
        fputs("nqba: out of memory building the JSON output\n", stderr);
        return CLI_EXIT_FAIL;
    }
    int rc = json_dumpf(o, out, JSON_COMPACT | JSON_REAL_PRECISION(17));
    json_decref(o);
    if (rc || fputc('\n', out) == EOF) {
        fputs("nqba: cannot write to standard output\n", stderr);
        return CLI_EXIT_FAIL;
    }
    return 0;
}

/* ---- the command ---- */

int cli_solve_run(int argc, char **argv)
{
    solve_ctx c;
    memset(&c, 0, sizeof c);
    int rc = parse_args(argc, argv, &c.args);
    if (rc < 0) {
        cli_solve_usage(stdout);
        return CLI_EXIT_OK;
    }
    if (rc)
        return rc;
    c.source = strcmp(c.args.path, "-") == 0 ? "stdin" : c.args.path;
    c.bar = !c.args.quiet && isatty(STDERR_FILENO);
    rc = load_model(&c);
    if (!rc)
        rc = run_solver(&c);
    if (!rc && c.args.json)
        rc = print_json(&c, stdout);
    else if (!rc)
        print_text(&c, stdout);
    nq_result_free(&c.result);
    nq_model_free(&c.model);
    return rc;
}
