/* server.h - `nqba serve`: the HTTP server as a library (nqba_server).
 *
 * The command (src/cli/cmd_serve.c) reads the configuration, starts the
 * server, waits for SIGTERM/SIGINT and shuts it down; the fuzzer and the
 * tests drive the same request path without sockets (srv_app_handle).
 * The contract it serves is docs/api/http.md. */
#ifndef NQ_SERVER_SERVER_H
#define NQ_SERVER_SERVER_H

#include <stddef.h>
#include <stdio.h>

#include "nqba/err.h"

#define SRV_PATH_MAX 1024
#define SRV_HOST_MAX 256

/* Every option of docs/api/http.md; see config.c for names and limits. */
typedef struct srv_config {
    char host[SRV_HOST_MAX];      /* --listen host part ("" = every interface) */
    int port;                     /* --listen port part (0 = any free port) */
    char port_file[SRV_PATH_MAX]; /* "" = none */
    int http_threads;
    int workers; /* 0 = online cores */
    int max_connections;
    int connection_timeout; /* seconds */
    long long max_body;     /* bytes */
    int max_json_depth;
    int max_queue;
    int sync_budget_ms;
    double job_timeout; /* seconds, 0 = none */
    int cache_entries;
    double drain;                  /* seconds */
    char access_log[SRV_PATH_MAX]; /* "-" stderr, "off", or a file */
    char config_file[SRV_PATH_MAX];
    char db[SRV_PATH_MAX]; /* SQLite path or postgresql:// URL */
    int db_pool;           /* store connections (0 = the backend's default) */
    char redis[SRV_PATH_MAX]; /* redis:// URL of the shared cache, "" = none */
    int production;                  /* keys must be given; none is ever generated */
    int rate_ip;                     /* requests per second per client address, 0 = off */
    int rate_principal;              /* requests per second per user or key, 0 = off */
    char jwt_keys[SRV_PATH_MAX];     /* "kid:base64url,..." (first signs) */
    char api_key_pepper[SRV_PATH_MAX]; /* base64url of 32 bytes */
    char field_keys[SRV_PATH_MAX];   /* "kid:base64url,..." (first encrypts) */
    char secrets_file[SRV_PATH_MAX]; /* development keys; "" = beside the database */
    int queue_shared;   /* --queue shared: jobs go to the PostgreSQL queue for workers */
    double lease;       /* worker: seconds a claim holds a job without a heartbeat */
    int max_attempts;   /* worker: claims of one job before it is failed as poison */
    double audit_check; /* seconds between audit-chain verifications, 0 = never */
    double job_retention; /* cluster: ended jobs leave the queue table after it, 0 = never */
    int listen_set;     /* --listen (or its variable or file key) was given */
    int role;           /* SRV_ROLE_*: set by the command, not an option */
} srv_config;

/* What a process of the service does: `nqba serve` answers the API (and
 * runs jobs, unless they go to the shared queue); `nqba worker` runs jobs
 * from the shared queue and serves only /healthz, /readyz and /metrics. */
enum { SRV_ROLE_SERVE = 0, SRV_ROLE_WORKER = 1 };
#define SRV_WORKER_PORT 9100

/* The defaults of docs/api/http.md. */
void srv_config_default(srv_config *c);

/* Fill c from, in order of precedence, the command line (argv[0] is the
 * subcommand's name), the environment (envp: NAME=VALUE strings, may be
 * NULL), the config file (--config or NQBA_CONFIG) and the defaults.
 * Returns 0, 1 when --help was asked (usage printed to out), or -1 with
 * the reason (naming the option and where it came from) in err. */
int srv_config_load(srv_config *c, int argc, char **argv, char **envp, FILE *out, nq_err *err);
void srv_config_usage(FILE *out);

typedef struct srv_app srv_app;

/* Make the metrics registry, the job service and the access log. With
 * validate_only the POST routes stop after validation (200
 * {"valid":true}) and queue nothing: the fuzzer's mode. */
int srv_app_new(const srv_config *c, int validate_only, srv_app **out, nq_err *err);
/* Bind and serve; srv_app_port then tells the real port. */
int srv_app_listen(srv_app *a, nq_err *err);
int srv_app_port(const srv_app *a);
/* Shutdown, first step: refuse new jobs, /readyz turns 503, stop accepting
 * connections (open ones are still served, so clients can follow jobs). */
void srv_app_begin_shutdown(srv_app *a);
/* A server event as one JSON line on standard error (key may be NULL). */
void srv_app_log(srv_app *a, const char *level, const char *msg, const char *key,
                 const char *value);
/* Whether jobs are still queued or running. */
int srv_app_busy(srv_app *a);
/* Last step: end parked requests and streams, close every connection,
 * cancel what is left, join the workers, free. NULL is allowed. */
void srv_app_free(srv_app *a);

/* One request through routing and the handlers, without sockets. headers
 * holds n_headers name/value pairs; target may carry a query. A handler
 * that would wait is waited for here, and a stream is read to its end
 * when it can finish (else its first part is returned). */
typedef struct srv_reply {
    int status;
    char content_type[128];
    char *body; /* malloc'd, NUL-terminated */
    size_t body_len;
} srv_reply;

int srv_app_handle(srv_app *a, const char *method, const char *target,
                   const char *const (*headers)[2], size_t n_headers, const char *body,
                   size_t body_len, srv_reply *out);
void srv_reply_free(srv_reply *r);

#endif
