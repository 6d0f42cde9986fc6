/* log.c - the access log: one JSON object per request, one line each.
 *
 * A line is formatted on the stack. To a file, whole lines are appended
 * under a mutex to a buffer that a flusher thread hands to the kernel in
 * one write(2), at most SRV_LOG_FLUSH_S after the first line it holds (or
 * the writer does, when the buffer is full): a write(2) per request cost
 * about 3 % of the server's CPU per uncached decision, and more of a
 * cached answer's. Lines never interleave, also not with other writers
 * of the same file (O_APPEND, whole lines per write). A crash loses at
 * most the lines of the last SRV_LOG_FLUSH_S; a clean exit writes them
 * all. Standard error gets a write(2) per line, in order with the
 * server's events. Fields that come from the client (path, ids) are
 * JSON-escaped and truncated to a bounded length; formatting a line
 * never allocates. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nqba/clock.h"
#include "nqba/cond.h"
#include "nqba/log.h"
#include "srv.h"

static void write_all(int fd, const char *p, size_t n);
static void *flusher_main(void *arg);

#define LOG_LINE_MAX 4096
#define LOG_PATH_MAX 1024 /* escaped path bytes kept */
#define LOG_ID_MAX 300    /* escaped id bytes kept */

int srv_access_log_open(srv_access_log *l, const char *spec, nq_err *err)
{
    memset(l, 0, sizeof *l);
    l->fd = -1;
    if (pthread_mutex_init(&l->lock, NULL))
        return nq_err_set(err, NQ_ENOMEM, "--access-log", "cannot create a mutex");
    if (strcmp(spec, "off") == 0)
        return NQ_OK;
    if (strcmp(spec, "-") == 0) {
        l->fd = STDERR_FILENO;
        return NQ_OK;
    }
    l->fd = open(spec, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (l->fd < 0) {
        pthread_mutex_destroy(&l->lock);
        return nq_err_set(err, NQ_EIO, "--access-log", "%s: %s", spec, strerror(errno));
    }
    l->owned = 1;
    int ok = nq_cond_init(&l->wake) == NQ_OK;
    if (ok && !(l->buf = malloc(SRV_LOG_BUF))) {
        pthread_cond_destroy(&l->wake);
        ok = 0;
    }
    if (ok && pthread_create(&l->flusher, NULL, flusher_main, l)) {
        free(l->buf);
        l->buf = NULL;
        pthread_cond_destroy(&l->wake);
        ok = 0;
    }
    if (!ok) {
        close(l->fd);
        l->fd = -1;
        pthread_mutex_destroy(&l->lock);
        return nq_err_set(err, NQ_ENOMEM, "--access-log", "cannot start the log writer");
    }
    return NQ_OK;
}

/* With the lock held. */
static void flush_locked(srv_access_log *l)
{
    write_all(l->fd, l->buf, l->len);
    l->len = 0;
}

/* Sleeps while the buffer is empty; after a first line, waits out the
 * flush interval (a burst fills the buffer meanwhile) and writes. */
static void *flusher_main(void *arg)
{
    pthread_setname_np(pthread_self(), "nq-log");
    srv_access_log *l = arg;
    pthread_mutex_lock(&l->lock);
    while (!l->stop) {
        if (!l->len) {
            pthread_cond_wait(&l->wake, &l->lock);
            continue;
        }
        nq_cond_wait_until(&l->wake, &l->lock, nq_clock_s() + SRV_LOG_FLUSH_S);
        if (l->len)
            flush_locked(l);
    }
    pthread_mutex_unlock(&l->lock);
    return NULL;
}

void srv_access_log_close(srv_access_log *l)
{
    if (l->buf) {
        pthread_mutex_lock(&l->lock);
        l->stop = 1;
        pthread_cond_signal(&l->wake);
        pthread_mutex_unlock(&l->lock);
        pthread_join(l->flusher, NULL);
        if (l->len)
            flush_locked(l);
        free(l->buf);
        l->buf = NULL;
        pthread_cond_destroy(&l->wake);
    }
    if (l->owned)
        close(l->fd);
    l->fd = -1;
    l->owned = 0;
    pthread_mutex_destroy(&l->lock);
}

static void write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return; /* a full disk must not take the server down */
        p += w;
        n -= (size_t)w;
    }
}

void srv_access_log_write(srv_access_log *l, const http_req *req, int status, uint64_t bytes,
                          double seconds)
{
    if (l->fd < 0)
        return;
    char ts[32], path[LOG_PATH_MAX], rid[LOG_ID_MAX], tp[LOG_ID_MAX], method[32], remote[64];
    char line[LOG_LINE_MAX];
    nq_clock_rfc3339(nq_clock_wall_s(), ts);
    nq_json_escape(path, sizeof path, req->path ? req->path : "");
    nq_json_escape(rid, sizeof rid, req->request_id ? req->request_id : "");
    nq_json_escape(tp, sizeof tp, req->traceparent ? req->traceparent : "");
    nq_json_escape(method, sizeof method, req->method ? req->method : "");
    nq_json_escape(remote, sizeof remote, req->remote ? req->remote : "");
    int n = snprintf(line, sizeof line,
                     "{\"ts\":\"%s\",\"request_id\":\"%s\",\"traceparent\":\"%s\","
                     "\"method\":\"%s\",\"path\":\"%s\",\"status\":%d,\"bytes\":%" PRIu64 ","
                     "\"duration_ms\":%.3f,\"remote\":\"%s\"}\n",
                     ts, rid, tp, method, path, status, bytes, seconds * 1000.0, remote);
    if (n <= 0 || (size_t)n >= sizeof line)
        return; /* cannot happen with the bounds above */
    pthread_mutex_lock(&l->lock);
    if (!l->buf) {
        write_all(l->fd, line, (size_t)n);
    } else {
        if ((size_t)n > SRV_LOG_BUF - l->len)
            flush_locked(l); /* LOG_LINE_MAX < SRV_LOG_BUF: the line fits now */
        else if (!l->len)
            pthread_cond_signal(&l->wake);
        memcpy(l->buf + l->len, line, (size_t)n);
        l->len += (size_t)n;
    }
    pthread_mutex_unlock(&l->lock);
}

void srv_log_event(srv_access_log *l, const char *level, const char *msg, const char *key,
                   const char *value)
{
    char ts[32], m[1024], k[128], v[1024], line[LOG_LINE_MAX];
    nq_clock_rfc3339(nq_clock_wall_s(), ts);
    nq_json_escape(m, sizeof m, msg);
    int n;
    if (key) {
        nq_json_escape(k, sizeof k, key);
        nq_json_escape(v, sizeof v, value ? value : "");
        n = snprintf(line, sizeof line,
                     "{\"ts\":\"%s\",\"level\":\"%s\",\"msg\":\"%s\",\"%s\":\"%s\"}\n", ts, level,
                     m, k, v);
    } else {
        n = snprintf(line, sizeof line, "{\"ts\":\"%s\",\"level\":\"%s\",\"msg\":\"%s\"}\n", ts,
                     level, m);
    }
    if (n <= 0 || (size_t)n >= sizeof line)
        return;
    pthread_mutex_lock(&l->lock);
    write_all(STDERR_FILENO, line, (size_t)n);
    pthread_mutex_unlock(&l->lock);
}
