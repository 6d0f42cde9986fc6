/* store_routes.c - the server's use of the store: opening and migrating it
 * at start, writing every finished job as a decision before the job is
 * seen finished (the job service's persist hook), and the history and
 * audit routes.
 *
 * The reads run on the HTTP thread: they are single indexed queries (a
 * page is at most NQ_STORE_PAGE_MAX rows), not optimization work. Audit
 * verification walks the whole log; it is an administrator's check, not
 * a hot path. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "nqba/clock.h"
#include "nqba/store.h"
#include "srv.h"

/* ---- start ---- */

/* The default SQLite file lives in var/: create the directory, so that
 * `nqba serve` works in a fresh checkout. Other paths must exist. */
static void make_parent(const char *url)
{
    if (strcmp(url, NQ_STORE_DEFAULT_PATH) == 0 && mkdir("var", 0700) != 0 && errno != EEXIST)
        return; /* opening reports the real problem */
}

int srv_store_open(srv_app *a, nq_err *err)
{
    make_parent(a->cfg.db);
    /* A worker's slots each hold a connection while they claim, beat and
     * end jobs, beside the writes of the decisions: room for all. */
    int pool = a->cfg.db_pool;
    if (!pool && a->cfg.role == SRV_ROLE_WORKER)
        pool = a->workers * 2 + 2 > 64 ? 64 : a->workers * 2 + 2; /* the store's cap */
    int rc = nq_store_open(a->cfg.db, pool, &a->store, err);
    int applied = 0;
    if (!rc)
        rc = nq_store_migrate(a->store, &applied, err);
    if (rc) {
        /* Name the option at fault; the store's own message says why. */
        char msg[NQ_ERR_MSG_MAX];
        snprintf(msg, sizeof msg, "%s", err->msg);
        return nq_err_set(err, rc, "--db", "%s", msg);
    }
    char n[16];
    snprintf(n, sizeof n, "%d", applied);
    srv_log_event(&a->log, "info", nq_store_backend(a->store), "migrations_applied", n);
    nq_metrics_help(a->metrics, "nqba_store_writes_total",
                    "Decisions written to the store, by outcome.");
    nq_metrics_inc(a->metrics, "nqba_store_writes_total", "outcome=ok", 0);
    nq_metrics_inc(a->metrics, "nqba_store_writes_total", "outcome=error", 0);
    return NQ_OK;
}

/* ---- the persist hook ---- */

/* Which business unit a job kind belongs to. */
static const char *unit_of(const char *kind)
{
    if (strcmp(kind, "decision-engine") == 0 || strcmp(kind, "business-assessment") == 0)
        return "nqba";
    if (strcmp(kind, "energy-optimization") == 0 || strcmp(kind, "unit-commitment") == 0)
        return "flyfox";
    if (strcmp(kind, "portfolio-optimization") == 0 || strcmp(kind, "risk-assessment") == 0)
        return "goliath";
    if (strcmp(kind, "lead-scoring") == 0 || strcmp(kind, "lead-assignment") == 0 ||
        strcmp(kind, "lead-model") == 0)
        return "sigma";
    return "engine"; /* /api/v1/solve: the optimizer itself */
}

/* The annealing engine's heuristics (the "quantum-inspired" part: sa,
 * tabu, pt, sb, the constrained tabu search "native", and any of them on a
 * model's QUBO form, "qubo-sa"...), as opposed to exact enumeration and
 * GLPK's branch and bound. */
static int annealing(const char *found_by)
{
    static const char *const names[] = {"sa", "tabu", "pt", "sb", "native", NULL};
    if (!found_by)
        return 0;
    if (strncmp(found_by, "qubo-", 5) == 0)
        found_by += 5;
    for (int i = 0; names[i]; i++)
        if (strcmp(found_by, names[i]) == 0)
            return 1;
    return 0;
}

/* The seed's per-unit table row of a portfolio run: the request's risk
 * tolerance and target, the answer's expected return. Text in bufs. */
typedef struct unit_bufs {
    char tolerance[64], target[32], expected[32];
} unit_bufs;

static void portfolio_row(const nq_job_record *rec, nq_unit_row *row, unit_bufs *b)
{
    json_t *req = json_loads(rec->request, 0, NULL), *res = json_loads(rec->result, 0, NULL);
    const char *tol = json_string_value(json_object_get(req, "risk_tolerance"));
    const json_t *target = json_object_get(req, "target_return");
    const json_t *ret = json_object_get(json_object_get(res, "performance"), "expected_return");
    row->table = NQ_UNIT_TABLE_PORTFOLIO;
    if (tol) {
        snprintf(b->tolerance, sizeof b->tolerance, "%.63s", tol);
        row->v[0] = b->tolerance;
    }
    if (json_is_number(target)) {
        snprintf(b->target, sizeof b->target, "%.17g", json_number_value(target));
        row->v[1] = b->target;
    }
    if (json_is_number(ret)) {
        snprintf(b->expected, sizeof b->expected, "%.17g", json_number_value(ret));
        row->v[2] = b->expected;
    }
    json_decref(req);
    json_decref(res);
}

/* energy_optimization: the objective, the saving against the naive
 * schedule (EUR) and that saving as a fraction of the naive cost. */
static void energy_row(const nq_job_record *rec, nq_unit_row *row, unit_bufs *b)
{
    json_t *req = json_loads(rec->request, 0, NULL), *res = json_loads(rec->result, 0, NULL);
    const char *obj = json_string_value(json_object_get(req, "objective"));
    const json_t *sav = json_object_get(res, "savings_eur"),
                 *frac = json_object_get(res, "savings_fraction");
    row->table = NQ_UNIT_TABLE_ENERGY;
    snprintf(b->tolerance, sizeof b->tolerance, "%.63s",
             !strcmp(rec->kind, "unit-commitment") ? "unit_commitment" : obj ? obj : "profit");
    row->v[0] = b->tolerance;
    if (json_is_number(sav)) {
        snprintf(b->target, sizeof b->target, "%.17g", json_number_value(sav));
        row->v[1] = b->target;
    }
    if (json_is_number(frac)) {
        snprintf(b->expected, sizeof b->expected, "%.17g", json_number_value(frac));
        row->v[2] = b->expected;
    }
    json_decref(req);
    json_decref(res);
}

/* One job's decision row, ready for the store; the unit tables' figures
 * and a redacted request live in the slot. The unit-specific writes (a
 * lead model, lead scores) happen here, before the decision's. */
typedef struct put_slot {
    nq_decision_rec d;
    unit_bufs ub;
    char *redacted; /* lead scoring: the request without personal values */
} put_slot;

static int prepare(srv_app *a, const nq_job_record *rec, put_slot *p, nq_err *err)
{
    nq_decision_rec *d = &p->d;
    memset(p, 0, sizeof *p);
    snprintf(d->id, sizeof d->id, "%s", rec->id);
    d->unit = unit_of(rec->kind);
    d->kind = rec->kind;
    d->request = rec->request;
    d->result = rec->result;
    d->solver = rec->solver;
    d->status = rec->status;
    d->latency_s = rec->latency_s;
    d->user = NULL; /* no principals until authentication exists */
    d->quantum_enhanced = rec->result && annealing(rec->found_by);
    d->created_at = rec->created_at;
    int rc = NQ_OK;
    if (rec->result && !strcmp(rec->kind, "lead-model"))
        rc = srv_sigma_store_model(a, rec, d->user, err);
    else if (rec->result && !strcmp(rec->kind, "lead-scoring"))
        rc = srv_sigma_store_scores(a, rec, d->user, &p->redacted, err);
    if (p->redacted)
        d->request = p->redacted;
    if (rec->result && !strcmp(rec->kind, "portfolio-optimization"))
        portfolio_row(rec, &d->unit_row, &p->ub);
    else if (rec->result && (!strcmp(rec->kind, "energy-optimization") ||
                             !strcmp(rec->kind, "unit-commitment")))
        energy_row(rec, &d->unit_row, &p->ub);
    return rc;
}

/* The outcome of one write, as the job service is told it. */
static int settle(srv_app *a, const nq_job_record *rec, put_slot *p, int rc, nq_err *err)
{
    if (rc == NQ_EINVAL && a->cfg.role == SRV_ROLE_WORKER && !strcmp(err->where, "id")) {
        /* Claimed again after a lease expired: the decision is on record
         * from the earlier attempt, and that one stands. */
        srv_log_event(&a->log, "info", "decision already stored", "id", rec->id);
        rc = NQ_OK;
    }
    free(p->redacted);
    p->redacted = NULL;
    nq_metrics_inc(a->metrics, "nqba_store_writes_total", rc ? "outcome=error" : "outcome=ok", 1);
    if (rc) {
        srv_log_event(&a->log, "error", "store write failed", "detail", err->msg);
        if (rc != NQ_EUNAVAIL) /* the client learns only that it was not stored */
            nq_err_set(err, NQ_EUNAVAIL, NULL, "the decision could not be stored");
        return NQ_EUNAVAIL;
    }
    return NQ_OK;
}

int srv_store_persist(void *user, const nq_job_record *rec, nq_err *err)
{
    srv_app *a = user;
    put_slot p;
    int rc = prepare(a, rec, &p, err);
    if (!rc)
        rc = nq_store_put_decision(a->store, &p.d, err);
    return settle(a, rec, &p, rc, err);
}

void srv_store_persist_batch(void *user, const nq_job_record *recs, int n, int *rc, nq_err *err)
{
    srv_app *a = user;
    put_slot *p = malloc((size_t)n * sizeof *p);
    nq_decision_rec *d = malloc((size_t)n * sizeof *d);
    int *idx = malloc((size_t)n * sizeof *idx);
    if (!p || !d || !idx) {
        free(p);
        free(d);
        free(idx);
        for (int i = 0; i < n; i++) /* one at a time, then */
            rc[i] = srv_store_persist(a, &recs[i], &err[i]);
        return;
    }
    int k = 0;
    for (int i = 0; i < n; i++) {
        nq_err_clear(&err[i]);
        rc[i] = prepare(a, &recs[i], &p[i], &err[i]);
        if (!rc[i]) {
            d[k] = p[i].d;
            idx[k++] = i;
        }
    }
    if (k) {
        int *krc = malloc((size_t)k * sizeof *krc);
        nq_err *kerr = malloc((size_t)k * sizeof *kerr);
        if (krc && kerr) {
            nq_store_put_decisions(a->store, d, k, krc, kerr);
            for (int i = 0; i < k; i++) {
                rc[idx[i]] = krc[i];
                err[idx[i]] = kerr[i];
            }
        } else {
            for (int i = 0; i < k; i++)
                rc[idx[i]] = nq_err_set(&err[idx[i]], NQ_ENOMEM, NULL, "out of memory");
        }
        free(krc);
        free(kerr);
    }
    for (int i = 0; i < n; i++)
        rc[i] = settle(a, &recs[i], &p[i], rc[i], &err[i]);
    free(p);
    free(d);
    free(idx);
}

/* ---- routes ---- */

static int limit_arg(const http_req *req, http_res *res, int *out)
{
    const char *v = srv_arg(req, "limit");
    *out = 0;
    if (!v)
        return 0;
    char *end;
    long n = strtol(v, &end, 10);
    if (v[0] && !*end && n >= 1 && n <= NQ_STORE_PAGE_MAX) {
        *out = (int)n;
        return 0;
    }
    char detail[96];
    snprintf(detail, sizeof detail, "query parameter limit: expected 1..%d", NQ_STORE_PAGE_MAX);
    srv_problem(res, req, 400, "bad-query", detail, NULL);
    return -1;
}

void srv_h_decisions(srv_app *a, http_req *req, http_res *res, const char *id)
{
    (void)id;
    static const char *const known[] = {"unit",   "kind",  "from",      "to",
                                        "cursor", "limit", "documents", NULL};
    nq_decision_query q;
    memset(&q, 0, sizeof q);
    /* Arguments first: they are checked even without a store (the fuzzer). */
    if (srv_args_known(req, res, known) || srv_arg_time(req, res, "from", &q.from) ||
        srv_arg_time(req, res, "to", &q.to) || limit_arg(req, res, &q.limit) ||
        srv_no_store(a, req, res))
        return;
    q.unit = srv_arg(req, "unit");
    q.kind = srv_arg(req, "kind");
    q.cursor = srv_arg(req, "cursor");
    const char *docs = srv_arg(req, "documents");
    q.with_documents = docs && (strcmp(docs, "true") == 0 || strcmp(docs, "1") == 0);
    json_t *page = NULL;
    nq_err err;
    nq_err_clear(&err);
    int rc = nq_store_list_decisions(a->store, &q, &page, &err);
    srv_query_answer(req, res, rc, &err, page);
}

void srv_h_decision_get(srv_app *a, http_req *req, http_res *res, const char *id)
{
    if (srv_no_store(a, req, res))
        return;
    json_t *d = NULL;
    nq_err err;
    nq_err_clear(&err);
    int rc = nq_store_get_decision(a->store, id, &d, &err);
    if (rc == NQ_ENOTFOUND) {
        srv_problem(res, req, 404, "not-found", "no such decision", NULL);
        return;
    }
    if (rc) {
        srv_store_problem(res, req, &err);
        return;
    }
    http_res_json(res, 200, d);
    http_res_header(res, "Cache-Control", "no-store");
    json_decref(d);
}

void srv_h_audit_verify(srv_app *a, http_req *req, http_res *res, const char *id)
{
    (void)id;
    if (srv_no_store(a, req, res))
        return;
    nq_audit_report r;
    nq_err err;
    nq_err_clear(&err);
    if (nq_store_audit_verify(a->store, &r, &err)) {
        srv_store_problem(res, req, &err);
        return;
    }
    json_t *doc = nq_audit_report_json(&r);
    http_res_json(res, 200, doc);
    http_res_header(res, "Cache-Control", "no-store");
    json_decref(doc);
}
