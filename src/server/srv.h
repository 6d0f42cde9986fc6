/* srv.h - what the server's files share (private to src/server).
 *
 * server.c owns the application (srv_app) and dispatches each request:
 * trace ids (trace.c), routing (router.c), then a handler (handlers.c,
 * submit.c, sse.c) that answers with JSON or a problem (problem.c). The
 * access log (log.c) and the HTTP metrics are written when a request
 * completes. */
#ifndef NQ_SERVER_SRV_H
#define NQ_SERVER_SRV_H

#include <pthread.h>
#include <stdatomic.h>

#include "http.h"
#include "nqba/json.h"
#include "nqba/jwt.h"
#include "nqba/rbac.h"
#include "nqba/service.h"
#include "nqba/store.h"
#include "server.h"

/* ---- access log (log.c) ---- */

typedef struct srv_access_log {
    int fd;    /* -1 = off */
    int owned; /* close on exit */
    pthread_mutex_t lock;
    /* A file's lines wait in buf (at most SRV_LOG_FLUSH_S) and go out in
     * one write(2) from the flusher thread, or at once when buf is full;
     * standard error is written line by line, as the events are. */
    char *buf; /* NULL: unbuffered */
    size_t len;
    pthread_cond_t wake; /* the first line went into an empty buf, or closing */
    int stop;
    pthread_t flusher;
} srv_access_log;

#define SRV_LOG_FLUSH_S 0.1  /* the longest a line waits in memory */
#define SRV_LOG_BUF (64 * 1024)

/* spec: "-" standard error, "off", or a file appended to. */
int srv_access_log_open(srv_access_log *l, const char *spec, nq_err *err);
/* One JSON object per line; lines never interleave. */
void srv_access_log_write(srv_access_log *l, const http_req *req, int status, uint64_t bytes,
                          double seconds);
/* Writes what is buffered, then closes. */
void srv_access_log_close(srv_access_log *l);
/* A server event as a JSON line on standard error ({"ts","level","msg"}
 * plus key/value when key is not NULL), serialized with the access log's
 * lines, which may share standard error. */
void srv_log_event(srv_access_log *l, const char *level, const char *msg, const char *key,
                   const char *value);

/* ---- keys (secrets.c) ---- */

typedef struct srv_secrets {
    char jwt_keys[SRV_PATH_MAX];
    char pepper_b64[128];
    unsigned char pepper[32];
    char field_keys[SRV_PATH_MAX];
    char file[SRV_PATH_MAX]; /* the development secrets file used, or "" */
} srv_secrets;

/* The keys from the configuration, or (not in production) from the
 * development secrets file, made there when missing. */
int srv_secrets_load(const srv_config *c, srv_secrets *s, nq_err *err);
void srv_secrets_wipe(srv_secrets *s);

/* ---- the application ---- */

struct srv_app {
    srv_config cfg;
    srv_secrets keys; /* JWT keys, API-key pepper, field keys */
    nq_rbac rbac;     /* the permissions table, loaded at start, replaced by admins */
    pthread_rwlock_t rbac_lock;
    int rbac_lock_made;
    nq_jwt_keyring jwt;
    struct nq_field_ring *fields; /* encryption of sensitive stored fields */
    struct nq_pw_hasher *hasher;  /* argon2id, bounded concurrency */
    struct nq_ratelimit *rl_ip, *rl_principal; /* NULL when off */
    struct srv_keycache *keycache;             /* verified API-key records (keycache.c) */
    int validate_only;
    int workers;         /* resolved: cfg.workers or the online cores */
    nq_json_limits json; /* request body limits */
    nq_metrics *metrics;
    nq_jobs *jobs;
    nq_store *store; /* NULL only in validate-only mode */
    struct nq_rcache *rcache; /* the shared cache (--redis), or NULL */
    pthread_mutex_t rcache_mu;
    int rcache_up; /* last state logged: 1 up, 0 down, -1 not yet */
    srv_access_log log;
    http_daemon *http;
    /* The daemon job ends are announced to (srv_jobs_finished), while it
     * runs: set after it starts, cleared before it stops, under kick_mu
     * (the job threads outlive the daemon). */
    pthread_mutex_t kick_mu;
    http_daemon *kick;
    atomic_int draining; /* shutdown began: /readyz is 503 */
    int cluster;               /* jobs go to the shared queue (--queue shared, or a worker) */
    struct srv_ops *ops;       /* the background thread (cluster.c) */
    struct srv_worker *worker; /* nqba worker: the claiming threads (worker.c) */
};

/* ---- job kinds (kinds.c) ---- */

typedef struct srv_kind {
    const char *kind;
    /* NULL, or: replace a request that refers to something stored (a
     * saved model) by the full request it stands for. */
    int (*resolve)(srv_app *a, json_t *doc, json_t **out, int *pinned, nq_err *err);
    int (*prepare)(const json_t *request, void **prepared, nq_err *err);
    nq_job_fn fn;
    void (*prepared_free)(void *prepared);
} srv_kind;

/* The kind of that name, or NULL. */
const srv_kind *srv_kind_find(const char *name);

/* ---- the cluster (cluster.c, worker.c) ---- */

/* The background thread of every process: audit-chain checks
 * (nqba_audit_chain_ok) and, in a cluster, the queue gauges and, on an API
 * node, following the mirrored jobs through the queue's notifications. */
int srv_ops_start(srv_app *a, nq_err *err);
void srv_ops_stop(srv_app *a);
/* An API node of a cluster: queue a validated request. request_text is
 * what the decision stores; run_text the request the worker runs (NULL:
 * the body itself). The job is mirrored here (service.h) so the usual
 * answer paths follow it. */
int srv_cluster_submit(srv_app *a, const srv_kind *k, const json_t *doc, const char *run_text,
                       size_t run_len, const char *request_text, size_t request_len,
                       nq_job_priority prio, const char *idem_key, char id[33], nq_err *err);
/* Make sure a job of the queue is mirrored here (for GET, events,
 * cancel); NQ_ENOTFOUND when the queue does not know it either. */
int srv_cluster_know(srv_app *a, const char *id);
/* Cancel through the queue: NQ_OK, NQ_ENOTFOUND, NQ_EINVAL (ended). */
int srv_cluster_cancel(srv_app *a, const char *id, nq_err *err);
/* Wait on cv (with mu) until *flag is set or secs pass; returns *flag. */
int srv_wait_flag(pthread_mutex_t *mu, pthread_cond_t *cv, const int *flag, double secs);
/* nqba worker: start and stop the claiming threads. */
int srv_worker_start(srv_app *a, nq_err *err);
void srv_worker_stop_claiming(srv_app *a);
void srv_worker_join(srv_app *a);
/* The worker's store hook: srv_store_persist, except for a job whose lease
 * was lost or that is going back to the queue. */
int srv_worker_persist(void *user, const nq_job_record *rec, nq_err *err);

/* ---- trace ids (trace.c) ---- */

/* Set req->request_id (the client's X-Request-Id when it is 1..128 safe
 * characters, else 32 new hex digits) and req->traceparent (the client's
 * when valid W3C trace context, else a new one), both in the arena. */
void srv_trace_ids(http_req *req);
/* Whether s is a valid traceparent header value. */
int srv_traceparent_valid(const char *s);

/* ---- routing (router.c) ---- */

typedef void (*srv_handler_fn)(srv_app *a, http_req *req, http_res *res, const char *id);

/* Who may call a route: everyone (health, the API description, logging
 * in), or a principal allowed action on unit (rbac.h). Every route says
 * which; srv_routes_check refuses a table where one does not. */
typedef enum srv_access {
    SRV_PUBLIC = 1,  /* anyone */
    SRV_GUARDED = 2, /* a principal allowed (unit, action) */
    SRV_SELF = 3     /* any signed-in user, for their own account (MFA enrollment) */
} srv_access;

typedef struct srv_route {
    const char *method;
    const char *pattern; /* "/api/v1/jobs/{id}": {id} matches one segment */
    srv_handler_fn handler;
    srv_access access;
    nq_unit unit;     /* SRV_GUARDED */
    nq_action action; /* SRV_GUARDED */
} srv_route;

typedef enum srv_match_kind { SRV_MATCH_OK, SRV_MATCH_NO_PATH, SRV_MATCH_NO_METHOD } srv_match_kind;

typedef struct srv_match {
    srv_match_kind kind;
    const srv_route *route; /* OK */
    const char *id;         /* OK: the {id} segment (arena), or NULL */
    char allow[64];         /* NO_METHOD: "GET, DELETE" for the Allow header */
    const char *pattern;    /* OK or NO_METHOD: the path's pattern (metrics) */
} srv_match;

/* HEAD is served as GET (libmicrohttpd drops the body). */
void srv_route_match(const char *method, const char *path, nq_arena *arena, srv_match *m);
/* The route table, for the OpenAPI check and the authorization matrix. */
const srv_route *srv_routes(size_t *n);
/* 0 when every route declares its access (and a unit and action when
 * guarded); else -1 with the first route that does not in err. The
 * server does not start otherwise. */
int srv_routes_check(const srv_route *routes, size_t n, nq_err *err);

/* ---- problems (problem.c) ---- */

/* An RFC 7807 answer: type from slug, title from the table, detail and
 * pointer optional (NULL), instance the request path, request_id. */
void srv_problem(http_res *res, const http_req *req, int status, const char *slug,
                 const char *detail, const char *pointer);
/* A library error as a problem. body_parse: err came from parsing the
 * request body (syntax -> 400 malformed-json) rather than validating it
 * (-> 422 invalid-field). */
void srv_problem_err(http_res *res, const http_req *req, const nq_err *err, int body_parse);
/* Status for an nq_code met while validating (422, 413, 500...). */
int srv_status_for_code(int code);
/* The slug of a problem status (e.g. 422 -> "invalid-field"). */
const char *srv_slug_for_status(int status);

/* ---- handlers (handlers.c, submit.c, sse.c) ---- */

void srv_h_healthz(srv_app *a, http_req *req, http_res *res, const char *id);
void srv_h_readyz(srv_app *a, http_req *req, http_res *res, const char *id);
void srv_h_metrics(srv_app *a, http_req *req, http_res *res, const char *id);
void srv_h_openapi(srv_app *a, http_req *req, http_res *res, const char *id);
void srv_h_root(srv_app *a, http_req *req, http_res *res, const char *id);
void srv_h_solve(srv_app *a, http_req *req, http_res *res, const char *id);
void srv_h_decision(srv_app *a, http_req *req, http_res *res, const char *id);
void srv_h_portfolio(srv_app *a, http_req *req, http_res *res, const char *id);
void srv_h_risk(srv_app *a, http_req *req, http_res *res, const char *id);
void srv_h_energy(srv_app *a, http_req *req, http_res *res, const char *id);
void srv_h_uc(srv_app *a, http_req *req, http_res *res, const char *id);
void srv_h_assess(srv_app *a, http_req *req, http_res *res, const char *id);
void srv_h_lead_train(srv_app *a, http_req *req, http_res *res, const char *id);
void srv_h_lead_score(srv_app *a, http_req *req, http_res *res, const char *id);
void srv_h_lead_assign(srv_app *a, http_req *req, http_res *res, const char *id);
void srv_h_lead_models(srv_app *a, http_req *req, http_res *res, const char *id);
void srv_h_lead_model_get(srv_app *a, http_req *req, http_res *res, const char *id);
void srv_h_assess_report(srv_app *a, http_req *req, http_res *res, const char *id);
void srv_h_assess_diff(srv_app *a, http_req *req, http_res *res, const char *id);
void srv_h_job_get(srv_app *a, http_req *req, http_res *res, const char *id);
void srv_h_job_cancel(srv_app *a, http_req *req, http_res *res, const char *id);
void srv_h_job_events(srv_app *a, http_req *req, http_res *res, const char *id);
void srv_h_decisions(srv_app *a, http_req *req, http_res *res, const char *id);
void srv_h_decision_get(srv_app *a, http_req *req, http_res *res, const char *id);
void srv_h_audit_verify(srv_app *a, http_req *req, http_res *res, const char *id);
void srv_h_models_post(srv_app *a, http_req *req, http_res *res, const char *id);
void srv_h_model_get(srv_app *a, http_req *req, http_res *res, const char *id);
void srv_h_analytics(srv_app *a, http_req *req, http_res *res, const char *id);
/* The parker tag of an answer waiting on job id (http_defer.tag): never 0. */
uint64_t srv_job_tag(const char *id);

/* ---- query arguments and store answers (query.c) ---- */

/* The value of query argument name, or NULL. */
const char *srv_arg(const http_req *req, const char *name);
/* 0 when every argument is one of known (NULL-terminated); else a 400. */
int srv_args_known(const http_req *req, http_res *res, const char *const *known);
/* A time bound: RFC 3339 or Unix seconds into *out (0 when absent); -1
 * after answering 400. */
int srv_arg_time(const http_req *req, http_res *res, const char *name, double *out);
/* A store error: 404 for not-found, 503 for the database's trouble. */
void srv_store_problem(http_res *res, const http_req *req, const nq_err *err);
/* The answer of a read route: 200 with doc (taken, not cached by
 * clients) when rc is NQ_OK; 400 bad-query naming err->where for
 * NQ_EINVAL/NQ_ERANGE; else as srv_store_problem. */
void srv_query_answer(const http_req *req, http_res *res, int rc, const nq_err *err,
                      json_t *doc);
/* 1 (after a 503) in validate-only mode, which has no store. */
int srv_no_store(srv_app *a, const http_req *req, http_res *res);


/* ---- authentication and authorization (auth.c, auth_token.c) ---- */

typedef enum srv_principal_kind {
    SRV_PRINCIPAL_NONE = 0,
    SRV_PRINCIPAL_USER = 1, /* an access token */
    SRV_PRINCIPAL_KEY = 2   /* an API key */
} srv_principal_kind;

typedef struct srv_principal {
    srv_principal_kind kind;
    char sub[136];    /* "user:<name>" or "key:<prefix>" */
    char role[40];    /* users */
    char scopes[264]; /* keys */
    int mfa;          /* users: the login passed TOTP */
} srv_principal;

/* Keys, the permissions table (from the store). */
int srv_auth_init(srv_app *a, nq_err *err);
void srv_auth_free(srv_app *a);
/* 0 when the request may go to route (p filled; a public route needs no
 * principal); else the 401/403 is answered and -1 returned. */
int srv_authorize(srv_app *a, http_req *req, http_res *res, const srv_route *route,
                  srv_principal *p);
/* Token buckets per client address and per principal: 0 to go on, or -1
 * after answering 429 with Retry-After. The health checks are not
 * limited (load balancers poll them). */
int srv_rate_check(srv_app *a, http_req *req, http_res *res, const srv_route *route,
                   const srv_principal *p);
/* An access token into p (0), or -1 when it does not verify. */
int srv_auth_token(srv_app *a, const char *token, srv_principal *p);
void srv_h_auth_token(srv_app *a, http_req *req, http_res *res, const char *id);
void srv_h_auth_refresh(srv_app *a, http_req *req, http_res *res, const char *id);
void srv_h_auth_logout(srv_app *a, http_req *req, http_res *res, const char *id);
void srv_h_oauth_token(srv_app *a, http_req *req, http_res *res, const char *id);
void srv_h_admin_user_add(srv_app *a, http_req *req, http_res *res, const char *id);
void srv_h_admin_key_add(srv_app *a, http_req *req, http_res *res, const char *id);
void srv_h_admin_key_revoke(srv_app *a, http_req *req, http_res *res, const char *id);
void srv_h_admin_role_set(srv_app *a, http_req *req, http_res *res, const char *id);
void srv_h_admin_users_list(srv_app *a, http_req *req, http_res *res, const char *id);
void srv_h_admin_user_update(srv_app *a, http_req *req, http_res *res, const char *id);
void srv_h_admin_keys_list(srv_app *a, http_req *req, http_res *res, const char *id);
void srv_h_admin_roles_list(srv_app *a, http_req *req, http_res *res, const char *id);
void srv_h_mfa_enroll(srv_app *a, http_req *req, http_res *res, const char *id);
void srv_h_mfa_confirm(srv_app *a, http_req *req, http_res *res, const char *id);

/* ---- the shared cache (shared_cache.c) ---- */

/* With --redis: open it and hook it into the job service's config. */
int srv_shared_cache_open(srv_app *a, nq_jobs_config *jc, nq_err *err);
void srv_shared_cache_close(srv_app *a);

/* API-key records for SRV_KEYCACHE_TTL seconds (keycache.c). get: 1 and
 * *rec when a record fetched at most that long ago (monotonic now) is
 * there; drop: forget one (a key revoked here). */
#define SRV_KEYCACHE_TTL 5.0
typedef struct srv_keycache srv_keycache;
int srv_keycache_new(srv_keycache **out);
void srv_keycache_free(srv_keycache *k);
int srv_keycache_get(srv_keycache *k, const char *prefix, double now, nq_apikey_rec *rec);
void srv_keycache_put(srv_keycache *k, const char *prefix, const nq_apikey_rec *rec, double now);
void srv_keycache_drop(srv_keycache *k, const char *prefix);
/* nq_ratelimit_shared_fn on Redis (user: the srv_app): buckets shared by
 * every node; -1 (decide locally) while Redis is unreachable. */
int srv_shared_rate_take(void *user, const char *key, double rate, double burst, double now,
                         double cost, double *retry_after);

/* ---- saved models (model_routes.c) ---- */

/* A decision request {"model": name, "version": n, "inputs": {...},
 * "options": {...}} becomes, in *out, the saved version's document with
 * the inputs as its facts (and the options replaced); *pinned is 0 when
 * no version was given (the latest answered; doc then gets "version").
 * A request with a model given in full leaves *out NULL. */
int srv_decision_resolve(srv_app *a, json_t *doc, json_t **out, int *pinned, nq_err *err);

/* ---- Sigma Select (sigma_routes.c) ---- */

/* A scoring request naming a stored model ("model", "model_version"?)
 * gets its document as "model_document"; *pinned as for decisions. */
int srv_sigma_resolve(srv_app *a, json_t *doc, json_t **out, int *pinned, nq_err *err);
/* A finished training job's model, stored as a new version of its name. */
int srv_sigma_store_model(srv_app *a, const nq_job_record *rec, const char *actor, nq_err *err);
/* A finished scoring job's leads: personal fields sealed, one score row
 * each; *redacted (malloc'd, or NULL when nothing is personal) is the
 * request to store instead, with those fields blanked. */
int srv_sigma_store_scores(srv_app *a, const nq_job_record *rec, const char *actor,
                           char **redacted, nq_err *err);

/* ---- the store (store_routes.c) ---- */

/* Open cfg.db and bring its schema up to date. */
int srv_store_open(srv_app *a, nq_err *err);
/* The job service's persist hook (user = the app). */
int srv_store_persist(void *user, const nq_job_record *rec, nq_err *err);
/* The same for n jobs in one store write (nq_jobs_config.persist_batch). */
void srv_store_persist_batch(void *user, const nq_job_record *recs, int n, int *rc, nq_err *err);

/* ---- the dashboard (static_routes.c; the files: generated from web/) ---- */

/* One embedded file, served at /ui/<name> (index.html also at /). */
typedef struct srv_asset {
    const char *name;         /* a plain file name, unique */
    const char *content_type;
    const unsigned char *bytes; /* NUL-terminated text */
    unsigned long len;
    const char *etag; /* quoted: the start of the file's SHA-256 */
} srv_asset;

extern const srv_asset srv_assets[];
extern const size_t srv_n_assets;

/* The embedded file named name, or NULL. */
const srv_asset *srv_asset_find(const char *name);
/* The Content-Security-Policy of the dashboard's page and files. */
const char *srv_dashboard_csp(void);
void srv_h_ui_asset(srv_app *a, http_req *req, http_res *res, const char *id);

/* ---- the OpenAPI document (generated from docs/api/openapi.json) ---- */

extern const unsigned char srv_openapi_json[];
extern const unsigned long srv_openapi_json_len;

#endif
