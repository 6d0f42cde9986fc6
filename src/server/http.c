/* http.c - the libmicrohttpd daemon and its callbacks.
 *
 * Thread model: one poll(2) event loop per thread of a small pool
 * (MHD_USE_POLL_INTERNAL_THREAD + MHD_OPTION_THREAD_POOL_SIZE), which
 * holds 10,000 keep-alive connections; handlers only parse and answer, so
 * they never hold an event loop for long. Not epoll: with libmicrohttpd
 * 0.9.75's epoll loop, in bursts of new connections some requests were
 * left unread on their sockets (ss showed the bytes in Recv-Q) until an
 * unrelated event woke the thread, i.e. seconds, or the connection
 * timeout (bench_http_hold: 1 in 3 runs of 10,000 connections stalled
 * 10 s). Level-triggered poll answered every run; it costs latency spread
 * at 1,000 busy connections (see docs/BENCHMARKS.md), not throughput. Anything that
 * waits (the sync budget of a job, the next server-sent event) parks the
 * connection with MHD_suspend_connection (http_park.c) instead of
 * blocking: libmicrohttpd busy-loops on a content reader that returns 0
 * in its internal-thread modes unless the connection is suspended, and a
 * reader that slept would stall every other connection of its thread.
 *
 * A request goes through the access handler in the usual steps: the first
 * call (headers only) makes the request object and returns without an
 * answer, since answering then makes libmicrohttpd close a keep-alive
 * connection; body calls append to a bounded buffer; the last call runs
 * the handler. The exception is a Content-Length over the limit, answered
 * (413) at once so the body is never read, closing the connection. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http.h"
#include "http_internal.h"
#include "nqba/buf.h"
#include "nqba/clock.h"

#define REQ_ARENA_BLOCK 4096
#define REQ_ARENA_MAX ((size_t)4 << 20)
#define STREAM_BLOCK 16384

struct http_daemon {
    struct MHD_Daemon *mhd;
    http_daemon_opts o;
    http_parker parker;
    int listen_fd; /* ours to close once quiesced, else the daemon's */
    int quiesced;
    int port;
};

/* Everything about one request: libmicrohttpd's con_cls. */
typedef struct http_conn {
    http_req req;
    nq_arena arena;
    nq_buf body;
    http_daemon *d;
    struct MHD_Connection *mhd;
    http_defer defer; /* a parked answer still to finish */
    http_parked park;
    uint64_t start_ns;
    uint64_t body_seen; /* bytes received, kept or not */
    uint64_t bytes;     /* body bytes sent */
    int status;         /* 0 until a response is queued */
} http_conn;

/* The state of a streamed body: owned by libmicrohttpd's response. */
typedef struct http_stream {
    const http_stream_ops *ops;
    void *cls;
    http_daemon *d;
    http_conn *conn; /* valid whenever the reader runs */
    http_parked park;
} http_stream;

/* ---- the request object ---- */

typedef struct kv_fill {
    http_hdr *v;
    size_t n, cap;
} kv_fill;

static enum MHD_Result kv_add(void *cls, enum MHD_ValueKind kind, const char *key,
                              const char *value)
{
    (void)kind;
    kv_fill *f = cls;
    if (f->n < f->cap && key) {
        f->v[f->n].name = key;
        f->v[f->n].value = value ? value : "";
        f->n++;
    }
    return MHD_YES;
}

/* The strings stay in libmicrohttpd's per-request memory until the request
 * completes, so only the array is ours. */
static void collect(http_conn *c, enum MHD_ValueKind kind, const http_hdr **out, size_t *n)
{
    int count = MHD_get_connection_values(c->mhd, kind, NULL, NULL);
    kv_fill f = {NULL, 0, 0};
    if (count > 0)
        f.v = nq_arena_calloc(&c->arena, (size_t)count, sizeof *f.v);
    if (f.v) {
        f.cap = (size_t)count;
        MHD_get_connection_values(c->mhd, kind, kv_add, &f);
    }
    *out = f.v;
    *n = f.n;
}

static const char *remote_text(http_conn *c)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c->mhd, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    char text[INET6_ADDRSTRLEN] = "";
    if (ci && ci->client_addr) {
        const struct sockaddr *sa = ci->client_addr;
        if (sa->sa_family == AF_INET)
            inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, text, sizeof text);
        else if (sa->sa_family == AF_INET6)
            inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, text, sizeof text);
    }
    const char *s = nq_arena_strdup(&c->arena, text);
    return s ? s : "";
}

static http_conn *conn_new(http_daemon *d, struct MHD_Connection *mhd, const char *url,
                           const char *method)
{
    http_conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->d = d;
    c->mhd = mhd;
    c->start_ns = nq_clock_ns();
    nq_arena_init(&c->arena, REQ_ARENA_BLOCK, REQ_ARENA_MAX);
    nq_buf_init(&c->body, d->o.max_body);
    c->req.arena = &c->arena;
    c->req.method = method;
    c->req.path = url;
    c->req.body = "";
    collect(c, MHD_HEADER_KIND, &c->req.headers, &c->req.n_headers);
    collect(c, MHD_GET_ARGUMENT_KIND, &c->req.args, &c->req.n_args);
    c->req.remote = remote_text(c);
    return c;
}

static void conn_free(http_conn *c)
{
    nq_buf_free(&c->body);
    nq_arena_free(&c->arena);
    free(c);
}

/* A declared length over the limit: refuse before reading any of it. */
static int declared_too_large(const http_conn *c)
{
    const char *v = http_req_header(&c->req, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (!v)
        return 0;
    char *end;
    unsigned long long n = strtoull(v, &end, 10);
    return end != v && n > c->d->o.max_body;
}

/* Keep the body while it fits; past the limit, count and drop the rest so
 * the 413 can still be sent on an intact connection. A sender that keeps
 * going far past the limit is cut off instead. */
static int take_body(http_conn *c, const char *data, size_t len)
{
    c->body_seen += len;
    if (!c->req.body_too_large && nq_buf_append(&c->body, data, len) != 0) {
        c->req.body_too_large = 1;
        nq_buf_free(&c->body);
    }
    return c->body_seen <= 2 * (uint64_t)c->d->o.max_body + (1u << 20);
}

/* ---- responses ---- */

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    http_stream *s = cls;
    int closing = http_parker_closing(&s->d->parker);
    ssize_t n = s->ops->read(s->cls, buf, max, closing);
    if (n > 0) {
        s->conn->bytes += (uint64_t)n;
        return n;
    }
    if (n < 0 || closing)
        return MHD_CONTENT_READER_END_OF_STREAM;
    /* Nothing yet: returning 0 is only allowed with the connection
     * suspended, else libmicrohttpd calls again at once (busy loop). */
    s->park.mhd = s->conn->mhd;
    if (http_parker_add(&s->d->parker, &s->park) != 0)
        return MHD_CONTENT_READER_END_OF_STREAM;
    return 0;
}

static void stream_free(void *cls)
{
    http_stream *s = cls;
    if (s->ops->free)
        s->ops->free(s->cls);
    free(s);
}

static struct MHD_Response *stream_response(http_conn *c, http_res *res)
{
    http_stream *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->ops = res->stream;
    s->cls = res->stream_cls;
    s->d = c->d;
    s->conn = c;
    s->park.poll = res->stream->poll;
    s->park.cls = res->stream_cls;
    s->park.interval = res->stream->poll_interval;
    struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, STREAM_BLOCK,
                                                               stream_read, s, stream_free);
    if (!r) {
        free(s);
        return NULL;
    }
    res->stream = NULL; /* the response owns it now */
    res->stream_cls = NULL;
    return r;
}

static struct MHD_Response *body_response(http_res *res)
{
    struct MHD_Response *r;
    if (res->body_static || !res->body) {
        r = MHD_create_response_from_buffer(res->body_len, res->body ? res->body : (char *)"",
                                            MHD_RESPMEM_PERSISTENT);
        return r;
    }
    r = MHD_create_response_from_buffer_with_free_callback(res->body_len, res->body, free);
    if (r)
        res->body = NULL; /* freed by libmicrohttpd with the response */
    return r;
}

static void add_headers(struct MHD_Response *r, const http_req *req, const http_res *res)
{
    if (res->content_type)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, res->content_type);
    if (req->request_id)
        MHD_add_response_header(r, "X-Request-Id", req->request_id);
    if (req->traceparent)
        MHD_add_response_header(r, "traceparent", req->traceparent);
    /* Browsers must not guess types: a JSON error is never run as HTML. */
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    for (size_t i = 0; i < res->n_headers; i++)
        MHD_add_response_header(r, res->headers[i].name, res->headers[i].value);
}

static enum MHD_Result queue(http_conn *c, http_res *res)
{
    size_t len = res->body_len;
    int streamed = res->stream != NULL;
    struct MHD_Response *r = streamed ? stream_response(c, res) : body_response(res);
    if (!r) {
        http_res_free(res);
        return MHD_NO;
    }
    add_headers(r, &c->req, res);
    enum MHD_Result ok = MHD_queue_response(c->mhd, (unsigned)res->status, r);
    MHD_destroy_response(r);
    c->status = res->status;
    c->bytes = streamed ? 0 : len;
    http_res_free(res);
    return ok;
}

/* ---- deferred answers ---- */

static int defer_poll(void *cls, double now)
{
    http_conn *c = cls;
    return c->defer.poll(c->defer.cls, now);
}

static enum MHD_Result finish_deferred(http_conn *c)
{
    http_res res;
    http_res_init(&res);
    http_defer d = c->defer;
    memset(&c->defer, 0, sizeof c->defer);
    d.finish(d.cls, &c->req, &res);
    return queue(c, &res);
}

/* Run the handler; park the connection if it asks to wait. */
static enum MHD_Result respond(http_conn *c)
{
    http_res res;
    http_res_init(&res);
    c->req.body = c->body.data ? c->body.data : "";
    c->req.body_len = c->body.len;
    c->d->o.handler(c->d->o.cls, &c->req, &res);
    if (!res.defer.poll || !res.defer.finish)
        return queue(c, &res);
    c->defer = res.defer;
    http_res_free(&res);
    c->park.mhd = c->mhd;
    c->park.poll = defer_poll;
    c->park.cls = c;
    c->park.interval = c->defer.poll_interval;
    c->park.due = c->defer.due;
    c->park.tag = c->defer.tag;
    if (http_parker_add(&c->d->parker, &c->park) == 0)
        return MHD_YES;
    return finish_deferred(c); /* stopping: answer with what there is */
}

/* ---- libmicrohttpd callbacks ---- */

static enum MHD_Result on_request(void *cls, struct MHD_Connection *mhd, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
    (void)version;
    http_daemon *d = cls;
    http_conn *c = *con_cls;
    if (!c) {
        c = conn_new(d, mhd, url, method);
        if (!c)
            return MHD_NO;
        *con_cls = c;
        if (!declared_too_large(c))
            return MHD_YES;
        c->req.body_too_large = 1;
        return respond(c);
    }
    if (*upload_size) {
        int keep = take_body(c, upload, *upload_size);
        *upload_size = 0;
        return keep ? MHD_YES : MHD_NO;
    }
    if (c->defer.finish)
        return finish_deferred(c);
    return respond(c);
}

static void on_completed(void *cls, struct MHD_Connection *mhd, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)mhd;
    (void)toe;
    http_daemon *d = cls;
    http_conn *c = *con_cls;
    if (!c)
        return;
    double secs = (double)(nq_clock_ns() - c->start_ns) * 1e-9;
    if (d->o.done)
        d->o.done(d->o.cls, &c->req, c->status, c->bytes, secs);
    conn_free(c);
    *con_cls = NULL;
}

/* libmicrohttpd's own messages (socket errors and the like), handed to
 * the application's logger as one line. */
__attribute__((format(printf, 2, 0))) static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    http_daemon *d = cls;
    char msg[512];
    if (!d->o.log)
        return;
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    d->o.log(d->o.cls, msg);
}

/* ---- the daemon ---- */

#define HTTP_CONN_MEMORY (16 * 1024)

static struct MHD_Daemon *start_mhd(http_daemon *d, int ipv6)
{
    unsigned flags = MHD_USE_POLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG |
                     (ipv6 ? MHD_USE_IPv6 : 0);
    struct MHD_OptionItem opts[] = {
        {MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)on_mhd_log, d},
        {MHD_OPTION_LISTEN_SOCKET, d->listen_fd, NULL},
        {MHD_OPTION_CONNECTION_LIMIT, d->o.max_connections, NULL},
        {MHD_OPTION_CONNECTION_TIMEOUT, d->o.timeout_s, NULL},
        /* Per-connection memory for the request line, headers and response
         * headers (bodies are ours, bounded by max_body): 16 KiB, stated
         * rather than left to the library's default. With 10,000 held
         * connections that is at most 160 MiB, and headers beyond it are
         * refused with 431. libmicrohttpd zeroes the whole area before
         * each request of a keep-alive connection, so it is kept no larger
         * than headers need. */
        {MHD_OPTION_CONNECTION_MEMORY_LIMIT, HTTP_CONN_MEMORY, NULL},
        {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, d},
        /* A pool of one is a plain internal poll thread; the option is left out. */
        {d->o.threads > 1 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END, d->o.threads, NULL},
        {MHD_OPTION_END, 0, NULL},
    };
    return MHD_start_daemon(flags, 0, NULL, NULL, on_request, d, MHD_OPTION_ARRAY, opts,
                            MHD_OPTION_END);
}

int http_daemon_start(const http_daemon_opts *o, http_daemon **out, nq_err *err)
{
    int ipv6 = 0;
    *out = NULL;
    http_daemon *d = calloc(1, sizeof *d);
    if (!d)
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    d->o = *o;
    int rc = http_listen_open(o->host, o->port, &d->listen_fd, &d->port, &ipv6, err);
    if (rc) {
        free(d);
        return rc;
    }
    if (http_parker_start(&d->parker) != 0) {
        close(d->listen_fd);
        free(d);
        return nq_err_set(err, NQ_ENOMEM, NULL, "cannot start the parker thread");
    }
    d->mhd = start_mhd(d, ipv6);
    if (!d->mhd) {
        http_parker_close(&d->parker);
        http_parker_stop(&d->parker);
        close(d->listen_fd);
        free(d);
        return nq_err_set(err, NQ_EIO, "--listen", "cannot start the HTTP daemon");
    }
    *out = d;
    return NQ_OK;
}

int http_daemon_port(const http_daemon *d)
{
    return d->port;
}

void http_daemon_quiesce(http_daemon *d)
{
    if (!d || d->quiesced)
        return;
    /* The returned socket is the one we passed; it stays open until the
     * daemon's threads are gone, as libmicrohttpd requires. Shutting it
     * down stops the listening, so new clients are refused at once
     * instead of waiting in the backlog for an accept that never comes. */
    if (MHD_quiesce_daemon(d->mhd) != MHD_INVALID_SOCKET) {
        d->quiesced = 1;
        (void)shutdown(d->listen_fd, SHUT_RDWR);
    }
}

void http_daemon_kick(http_daemon *d)
{
    if (d)
        http_parker_kick(&d->parker);
}

void http_daemon_kick_tags(http_daemon *d, const uint64_t *tags, size_t n)
{
    if (d)
        http_parker_kick_tags(&d->parker, tags, n);
}

void http_daemon_stop(http_daemon *d)
{
    if (!d)
        return;
    /* Stopping with suspended connections is forbidden; resume them all. */
    http_parker_close(&d->parker);
    MHD_stop_daemon(d->mhd);
    if (d->quiesced)
        close(d->listen_fd);
    http_parker_stop(&d->parker);
    free(d);
}
