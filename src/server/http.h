/* http.h - a small HTTP layer over libmicrohttpd (private to src/server).
 *
 * The rest of the server sees requests and responses as plain structs:
 * an http_req (method, path, headers, query arguments, the whole body, a
 * per-request arena) goes into a handler, which fills an http_res (status,
 * headers, body, or a stream, or a deferred answer). Only http.c and
 * http_park.c talk to libmicrohttpd, so the handlers run unchanged without
 * sockets (srv_app_handle, the fuzzer).
 *
 * Nothing here ever blocks an HTTP thread waiting for work: a handler that
 * must wait (a job's result, the next server-sent event) parks the
 * connection (http_park.c) and a single parker thread wakes it when its
 * poll function says it is ready. */
#ifndef NQ_SERVER_HTTP_H
#define NQ_SERVER_HTTP_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "nqba/arena.h"
#include "nqba/err.h"

#define HTTP_RES_MAX_HEADERS 8

/* One header or query argument; the strings live as long as the request. */
typedef struct http_hdr {
    const char *name;
    const char *value;
} http_hdr;

typedef struct http_req {
    const char *method;      /* as sent: "GET", "POST", ... */
    const char *path;        /* decoded path without the query */
    const http_hdr *headers; /* in arrival order; names compare case-insensitively */
    size_t n_headers;
    const http_hdr *args; /* decoded query arguments */
    size_t n_args;
    const char *body; /* NUL-terminated, body_len bytes ("" when none) */
    size_t body_len;
    int body_too_large; /* the body passed the size limit: answer 413 */
    const char *remote; /* client address ("" when unknown) */
    nq_arena *arena;    /* released when the request completes */
    /* Set by the application, read by the HTTP layer and the access log: */
    const char *request_id;  /* echoed as X-Request-Id on every response */
    const char *traceparent; /* echoed as traceparent on every response */
    const char *route;       /* matched route pattern (metrics); NULL = none */
    const void *principal;   /* who is calling (the application's type), or NULL */
} http_req;

typedef struct http_res http_res;

/* A body produced piece by piece (server-sent events). Every function runs
 * with the connection out of everyone else's hands: read on an HTTP thread,
 * poll on the parker thread while the connection is parked, never both at
 * once. */
typedef struct http_stream_ops {
    /* Copy up to max bytes into buf. Returns the count (> 0), 0 when there
     * is nothing to send yet (the connection is parked until poll says 1),
     * or -1 to end the body. closing: the server is stopping; end soon. */
    ssize_t (*read)(void *cls, char *buf, size_t max, int closing);
    /* While parked: 1 when read has something to send (or should end). */
    int (*poll)(void *cls, double now);
    void (*free)(void *cls);
    double poll_interval; /* seconds between polls */
} http_stream_ops;

/* An answer that must wait: the connection is parked until poll says 1
 * (or the server stops), then finish builds the response on an HTTP
 * thread. cls lives in the request's arena. */
typedef struct http_defer {
    int (*poll)(void *cls, double now);
    void (*finish)(void *cls, http_req *req, http_res *res);
    void *cls;
    double poll_interval;
    double due; /* > 0: poll at this nq_clock_s() time at the latest (a deadline) */
    /* Nonzero: what the answer waits for (a job), so that a kick naming
     * other tags leaves it alone (http_daemon_kick_tags); 0: every kick
     * polls it. */
    uint64_t tag;
} http_defer;

struct http_res {
    int status;
    const char *content_type; /* static or in the request arena */
    char *body;               /* malloc'd unless body_static */
    size_t body_len;
    int body_static;
    http_hdr headers[HTTP_RES_MAX_HEADERS]; /* values static or in the arena */
    size_t n_headers;
    const http_stream_ops *stream; /* set: the body comes from stream_cls */
    void *stream_cls;
    http_defer defer; /* defer.poll set: park, then defer.finish */
};

/* ---- requests and responses (http_msg.c) ---- */

/* The value of a request header (case-insensitive name) or NULL. */
const char *http_req_header(const http_req *req, const char *name);

void http_res_init(http_res *res);
/* Release what the response owns: its body and a stream not handed over. */
void http_res_free(http_res *res);
/* Add a header; both strings must outlive the response (static or arena). */
void http_res_header(http_res *res, const char *name, const char *value);
/* A body copied from text (len bytes). */
void http_res_text(http_res *res, int status, const char *content_type, const char *text,
                   size_t len);
/* A body that is a string literal or otherwise outlives the server. */
void http_res_static(http_res *res, int status, const char *content_type, const char *text);
/* A malloc'd body the response takes over. */
void http_res_take(http_res *res, int status, const char *content_type, char *body, size_t len);
/* doc serialized compactly (reals exact); 500 with an empty body if that fails. */
void http_res_json(http_res *res, int status, const json_t *doc);
void http_res_stream(http_res *res, int status, const char *content_type,
                     const http_stream_ops *ops, void *cls);

/* ---- the daemon (http.c) ---- */

typedef void (*http_handler_fn)(void *cls, http_req *req, http_res *res);
/* A request is over (its response sent or the client gone): status 0 when
 * no response was queued. Runs on an HTTP thread. */
typedef void (*http_done_fn)(void *cls, const http_req *req, int status, uint64_t bytes,
                             double seconds);

typedef struct http_daemon_opts {
    const char *host; /* numeric address or name; "" = every interface */
    int port;         /* 0 = any free port */
    int threads;      /* event-loop threads (poll, one pool) */
    int max_connections;
    int timeout_s;   /* idle connection timeout; 0 = none */
    size_t max_body; /* larger request bodies set body_too_large */
    http_handler_fn handler;
    http_done_fn done;
    void (*log)(void *cls, const char *msg); /* libmicrohttpd's messages; NULL drops them */
    void *cls;
} http_daemon_opts;

typedef struct http_daemon http_daemon;

/* Bind, listen and start the threads; errors name the address. */
int http_daemon_start(const http_daemon_opts *o, http_daemon **out, nq_err *err);
/* The bound port (the real one when 0 was asked). */
int http_daemon_port(const http_daemon *d);
/* Stop accepting connections; open ones are still served. */
void http_daemon_quiesce(http_daemon *d);
/* Something parked connections wait for may have happened (a job ended):
 * poll every parked connection now instead of at its next interval. Safe
 * from any thread while the daemon runs. */
void http_daemon_kick(http_daemon *d);
/* The same for what waits on these tags (http_defer.tag) and what has no
 * tag, polled on the calling thread before this returns: the rest keep
 * their next poll. Safe from any thread that holds no lock a poll takes. */
void http_daemon_kick_tags(http_daemon *d, const uint64_t *tags, size_t n);
/* Wake every parked connection (deferred answers finish, streams end),
 * close all connections, join the threads, free. NULL is allowed. */
void http_daemon_stop(http_daemon *d);

#endif
