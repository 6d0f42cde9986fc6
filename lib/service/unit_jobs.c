/* unit_jobs.c - the built-in job kinds: POST /api/v1/solve and
 * POST /api/v1/nqba/decision-engine. Each has a validator (parsing only,
 * run on the HTTP thread) and a job function (run on a worker).
 *
 * The prepare function's output (the parsed model and options) goes to
 * the job, so a request is parsed once; a job function given none parses
 * the request itself, which keeps it usable on its own (tests, a job
 * rebuilt from its stored request).
 *
 * Cancelling: the job's flag goes to the solvers as
 * nq_solve_opts.cancel_flag and nq_decision_opts.cancel_flag, which they
 * poll; the progress callback also answers "stop" once it is up.
 *
 * A solve without options.time_limit gets a soft deadline of
 * NQ_SERVICE_SOLVE_DEFAULT_TIME seconds instead of a time limit: a time
 * limit would change what the solver does (auto runs to its deadline), a
 * soft deadline only stops a run that would otherwise go on, and the result
 * then says "timed_out": true. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nqba/decision.h"
#include "nqba/io.h"
#include "nqba/json.h"
#include "nqba/service.h"

#define SOLVE_MAX_TIME 3600.0
#define SOLVE_MAX_TEXT ((size_t)1 << 30)

typedef struct solve_req {
    nq_model model;
    nq_solve_opts o;
    int has_time_limit;
} solve_req;

/* What the prepare functions hand to the jobs; kind tells which part. */
enum { PREP_SOLVE = 1, PREP_DECISION = 2 };
typedef struct prepared {
    int kind;
    solve_req solve;
    nq_decision_req decision;
} prepared;

typedef struct job_cb {
    nq_job_ctx *ctx;
    const atomic_int *cancel;
} job_cb;

static int on_progress(const nq_progress *p, void *user)
{
    const job_cb *cb = user;
    nq_job_progress(cb->ctx, p);
    return cb->cancel && atomic_load(cb->cancel);
}

/* ---- solve: the model ------------------------------------------------------ */

/* Reader errors inside "text" name "text:line": the pointer becomes
 * "/text" and the line moves into the message. */
static int text_error(int rc, nq_err *err)
{
    char msg[NQ_ERR_WHERE_MAX + NQ_ERR_MSG_MAX + 16]; /* nq_err_set truncates */
    if (strncmp(err->where, "text:", 5) == 0)
        snprintf(msg, sizeof msg, "line %s: %s", err->where + 5, err->msg);
    else
        snprintf(msg, sizeof msg, "%s", err->msg);
    return nq_err_set(err, rc, "/text", "%s", msg);
}

/* JSON reader errors point into the model: prefix "/model". */
static int model_error(int rc, nq_err *err)
{
    char where[NQ_ERR_WHERE_MAX + 8]; /* nq_err_set truncates */
    snprintf(where, sizeof where, "/model%s", err->where[0] == '/' ? err->where : "");
    char msg[NQ_ERR_MSG_MAX];
    snprintf(msg, sizeof msg, "%s", err->msg);
    return nq_err_set(err, rc, where, "%s", msg);
}

static int read_model_member(const json_t *model, nq_model *out, nq_err *err)
{
    char *text = json_dumps(model, JSON_COMPACT | JSON_REAL_PRECISION(17));
    if (!text)
        return nq_err_set(err, NQ_ENOMEM, "/model", "out of memory");
    int rc = nq_read_json(text, strlen(text), "model", out, err);
    free(text);
    return rc ? model_error(rc, err) : NQ_OK;
}

static int read_text_member(const json_t *req, nq_model *out, nq_err *err)
{
    const char *format = NULL, *text = NULL;
    int rc = nq_json_get_string(req, "", "format", 1, 16, &format, err);
    if (!rc)
        rc = nq_json_get_string(req, "", "text", 1, SOLVE_MAX_TEXT, &text, err);
    if (rc)
        return rc;
    size_t len = strlen(text);
    if (strcmp(format, "gset") == 0)
        rc = nq_read_gset(text, len, "text", out, err);
    else if (strcmp(format, "qubo") == 0)
        rc = nq_read_qubo(text, len, "text", out, err);
    else
        return nq_err_set(err, NQ_EINVAL, "/format", "expected \"gset\" or \"qubo\", got \"%s\"",
                          format);
    return rc ? text_error(rc, err) : NQ_OK;
}

static int read_model(const json_t *req, nq_model *out, nq_err *err)
{
    const json_t *model = json_object_get(req, "model");
    int has_text = json_object_get(req, "format") || json_object_get(req, "text");
    if (model && has_text)
        return nq_err_set(err, NQ_EINVAL, json_object_get(req, "format") ? "/format" : "/text",
                          "give either \"model\" or \"format\" and \"text\", not both");
    if (!model && !has_text)
        return nq_err_set(err, NQ_EINVAL, "/model",
                          "required member is missing (or give \"format\" and \"text\")");
    if (has_text)
        return read_text_member(req, out, err);
    if (!json_is_object(model))
        return nq_err_set(err, NQ_EINVAL, "/model", "expected an object, got %s",
                          nq_json_type_name(model));
    return read_model_member(model, out, err);
}

static int check_size(const json_t *req, const nq_model *m, nq_err *err)
{
    const char *where = json_object_get(req, "model") ? "/model" : "/text";
    if (m->n > NQ_SERVICE_MAX_VARS)
        return nq_err_set(err, NQ_ELIMIT, where, "%d variables, more than the limit of %d",
                          (int)m->n, NQ_SERVICE_MAX_VARS);
    if (nq_model_pairs(m) > NQ_SERVICE_MAX_PAIRS)
        return nq_err_set(err, NQ_ELIMIT, where, "%lld couplings, more than the limit of %lld",
                          (long long)nq_model_pairs(m), (long long)NQ_SERVICE_MAX_PAIRS);
    return NQ_OK;
}

/* ---- solve: the options ---------------------------------------------------- */

static int32_t online_cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > NQ_SOLVE_MAX_THREADS ? NQ_SOLVE_MAX_THREADS : (int32_t)n;
}

static int get_choice(const json_t *opts, const char *key, const char *const *names,
                      const char *expected, const char **out, nq_err *err)
{
    char ptr[NQ_JSON_PTR_MAX];
    nq_json_ptr_key(ptr, "/options", key);
    const char *v = NULL;
    int rc = nq_json_get_string(opts, "/options", key, 0, 64, &v, err);
    if (rc || !v)
        return rc;
    for (; *names; names++)
        if (strcmp(v, *names) == 0) {
            *out = *names; /* a static string: outlives the request */
            return NQ_OK;
        }
    return nq_err_set(err, NQ_EINVAL, ptr, "expected %s, got \"%s\"", expected, v);
}

static int get_i32(const json_t *opts, const char *key, int64_t hi, int32_t *out, nq_err *err)
{
    int64_t v = *out;
    int rc = nq_json_get_int(opts, "/options", key, 0, 1, hi, &v, err);
    *out = (int32_t)v;
    return rc;
}

static int get_numbers(const json_t *opts, solve_req *r, nq_err *err)
{
    int64_t seed = 1;
    int rc = nq_json_get_int(opts, "/options", "seed", 0, 0, INT64_MAX, &seed, err);
    r->o.seed = (uint64_t)seed;
    double tl = 0;
    if (!rc)
        rc = nq_json_get_number(opts, "/options", "time_limit", 0, &tl, err);
    if (!rc && json_object_get(opts, "time_limit")) {
        if (!(tl > 0 && tl <= SOLVE_MAX_TIME))
            return nq_err_set(err, NQ_ERANGE, "/options/time_limit",
                              "must be more than 0 and at most %g seconds", SOLVE_MAX_TIME);
        r->o.time_limit = tl;
        r->has_time_limit = 1;
    }
    if (!rc)
        rc = nq_json_get_number(opts, "/options", "target", 0, &r->o.target, err);
    r->o.has_target = json_object_get(opts, "target") != NULL;
    if (!rc)
        rc = get_i32(opts, "reads", NQ_SOLVE_MAX_READS, &r->o.reads, err);
    if (!rc)
        rc = get_i32(opts, "sweeps", NQ_SOLVE_MAX_SWEEPS, &r->o.sweeps, err);
    if (!rc)
        rc = get_i32(opts, "threads", online_cpus(), &r->o.threads, err);
    if (!rc)
        rc = get_i32(opts, "replicas", 1024, &r->o.replicas, err);
    return rc;
}

static int parse_options(const json_t *req, solve_req *r, nq_err *err)
{
    static const char *const keys[] = {"solver",  "seed",   "time_limit", "reads",   "sweeps",
                                       "threads", "target", "replicas",   "variant", NULL};
    static const char *const solvers[] = {"auto", "sa", "tabu", "pt", "sb", "exact", NULL};
    static const char *const variants[] = {"ballistic", "discrete", NULL};
    json_t *opts = NULL;
    int rc = nq_json_get_typed(req, "", "options", 0, JSON_OBJECT, &opts, err);
    if (rc || !opts)
        return rc;
    if ((rc = nq_json_check_keys(opts, "/options", keys, err)) ||
        (rc = get_choice(opts, "solver", solvers, "auto, sa, tabu, pt, sb or exact", &r->o.solver,
                         err)) ||
        (rc = get_choice(opts, "variant", variants, "ballistic or discrete", &r->o.variant, err)))
        return rc;
    return get_numbers(opts, r, err);
}

static void solve_req_free(solve_req *r)
{
    nq_model_free(&r->model);
}

static int parse_solve(const json_t *req, solve_req *r, nq_err *err)
{
    static const char *const keys[] = {"model", "format", "text", "options", NULL};
    memset(r, 0, sizeof *r);
    nq_solve_opts_default(&r->o);
    if (!json_is_object(req))
        return nq_err_set(err, NQ_EINVAL, "", "expected an object, got %s", nq_json_type_name(req));
    int rc = nq_json_check_keys(req, "", keys, err);
    if (!rc)
        rc = parse_options(req, r, err);
    if (!rc)
        rc = read_model(req, &r->model, err);
    if (!rc)
        rc = check_size(req, &r->model, err);
    if (!rc && strcmp(r->o.solver, "exact") == 0 && r->model.n > NQ_EXACT_MAX_VARS)
        rc = nq_err_set(err, NQ_EINVAL, "/options/solver",
                        "exact enumerates at most %d variables; the model has %d",
                        NQ_EXACT_MAX_VARS, (int)r->model.n);
    if (rc)
        solve_req_free(r);
    return rc;
}

int nq_service_solve_prepare(const json_t *request, void **out, nq_err *err)
{
    *out = NULL;
    prepared *p = calloc(1, sizeof *p);
    if (!p)
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    int rc = parse_solve(request, &p->solve, err);
    if (rc) {
        free(p);
        return rc;
    }
    p->kind = PREP_SOLVE;
    *out = p;
    return NQ_OK;
}

void nq_service_prepared_free(void *ptr)
{
    prepared *p = ptr;
    if (!p)
        return;
    if (p->kind == PREP_SOLVE)
        solve_req_free(&p->solve);
    else if (p->kind == PREP_DECISION)
        nq_decision_req_free(&p->decision);
    free(p);
}

/* ---- solve: the result ----------------------------------------------------- */

/* The library's result document; a soft deadline (the default cap on
 * solves without a time limit) reads as a time-out, not a cancel. */
static json_t *solve_json(const nq_model *m, const nq_result *r, int soft_stopped)
{
    json_t *o = nq_result_to_json(m, r);
    if (o && soft_stopped &&
        (json_object_set_new(o, "timed_out", json_true()) ||
         json_object_set_new(o, "cancelled", json_false()))) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static int run_solve(solve_req *rq, const atomic_int *cancel, nq_job_ctx *ctx, json_t **result,
                     nq_err *err)
{
    solve_req r = *rq; /* a shallow copy: the model stays the caller's */
    int rc;
    if (!r.has_time_limit)
        nq_job_soft_deadline(ctx, NQ_SERVICE_SOLVE_DEFAULT_TIME);
    r.o.cancel_flag = cancel;
    job_cb cb = {ctx, cancel};
    nq_result res;
    memset(&res, 0, sizeof res);
    rc = nq_solve(&r.model, &r.o, on_progress, &cb, &res, err);
    nq_job_report_solver(ctx, rc ? r.o.solver : res.solver);
    if (!rc)
        nq_job_report_found_by(ctx, res.found_by);
    /* Without a time limit of its own, a cancelled run that no one else
     * stopped was stopped by the soft deadline. */
    int soft = ctx && !r.has_time_limit && (rc == NQ_ECANCEL || res.cancelled);
    if (rc == NQ_ECANCEL && soft)
        rc = nq_err_set(err, NQ_ELIMIT, "/options/time_limit",
                        "no read finished within the default time limit of %g s; "
                        "give options.time_limit",
                        NQ_SERVICE_SOLVE_DEFAULT_TIME);
    if (!rc && !(*result = solve_json(&r.model, &res, soft)))
        rc = nq_err_set(err, NQ_ENOMEM, NULL, "out of memory building the result");
    nq_result_free(&res);
    return rc;
}

int nq_service_solve_job(const json_t *request, void *ptr, const atomic_int *cancel,
                         nq_job_ctx *ctx, json_t **result, nq_err *err)
{
    prepared *p = ptr;
    if (p && p->kind == PREP_SOLVE)
        return run_solve(&p->solve, cancel, ctx, result, err);
    solve_req r;
    int rc = parse_solve(request, &r, err);
    if (rc)
        return rc;
    rc = run_solve(&r, cancel, ctx, result, err);
    solve_req_free(&r);
    return rc;
}

/* ---- decision engine --------------------------------------------------------- */

int nq_service_decision_prepare(const json_t *request, void **out, nq_err *err)
{
    *out = NULL;
    prepared *p = calloc(1, sizeof *p);
    if (!p)
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    int rc = nq_decision_parse(request, &p->decision, err);
    if (rc) {
        nq_decision_req_free(&p->decision);
        free(p);
        return rc;
    }
    p->kind = PREP_DECISION;
    *out = p;
    return NQ_OK;
}

static int run_decision(nq_decision_req *req, const atomic_int *cancel, nq_job_ctx *ctx,
                        json_t **result, nq_err *err)
{
    char label[48];
    snprintf(label, sizeof label, "decision-%s", req->opts.solver[0] ? req->opts.solver : "auto");
    nq_job_report_solver(ctx, label);
    req->opts.cancel_flag = cancel;
    job_cb cb = {ctx, cancel};
    nq_decision_res res;
    int rc = nq_decision_run(req, on_progress, &cb, &res, err);
    if (!rc)
        nq_job_report_found_by(ctx, res.solve.found_by);
    if (!rc && cancel && atomic_load(cancel))
        rc = nq_err_set(err, NQ_ECANCEL, NULL, "cancelled");
    if (!rc && !(*result = nq_decision_to_json(&res)))
        rc = nq_err_set(err, NQ_ENOMEM, NULL, "out of memory building the result");
    nq_decision_res_free(&res);
    return rc;
}

int nq_service_decision_job(const json_t *request, void *ptr, const atomic_int *cancel,
                            nq_job_ctx *ctx, json_t **result, nq_err *err)
{
    prepared *p = ptr;
    if (p && p->kind == PREP_DECISION)
        return run_decision(&p->decision, cancel, ctx, result, err);
    nq_decision_req req;
    int rc = nq_decision_parse(request, &req, err);
    if (!rc)
        rc = run_decision(&req, cancel, ctx, result, err);
    nq_decision_req_free(&req);
    return rc;
}
