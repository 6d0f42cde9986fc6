/* sse.c - GET /api/v1/jobs/{id}/events: a job's events as Server-Sent
 * Events, "event: NAME\ndata: JSON\n\n", progress first, then one of
 * result, error or cancelled, then the stream ends.
 *
 * The stream is a content reader (http.h): it hands out what is buffered,
 * takes the next event without waiting, and when there is none returns 0,
 * which parks the connection. The parker then polls it every 20 ms and
 * wakes it when an event arrived or a keep-alive comment is due (every
 * 15 s, so proxies and clients see the stream alive and a client that went
 * away is noticed). No thread ever sleeps on behalf of one stream. */
#include <stdlib.h>
#include <string.h>

#include "nqba/buf.h"
#include "nqba/clock.h"
#include "srv.h"

#define SSE_POLL_S 0.02
#define SSE_PING_S 15.0

typedef struct sse_stream {
    nq_job_sub *sub;
    nq_buf out;        /* formatted, not yet sent */
    size_t off;        /* bytes of out already sent */
    double last_write; /* for the keep-alive comment */
    int done;          /* the final event is in out (or the job is gone) */
} sse_stream;

/* One event; data may hold newlines, each line becomes a data: line. */
static int format_event(nq_buf *b, const char *event, const char *data)
{
    int rc = nq_buf_printf(b, "event: %s\n", event);
    const char *p = data ? data : "";
    do {
        size_t n = strcspn(p, "\n");
        rc = rc ? rc : nq_buf_puts(b, "data: ");
        rc = rc ? rc : nq_buf_append(b, p, n);
        rc = rc ? rc : nq_buf_putc(b, '\n');
        p += n;
    } while (*p++ == '\n');
    return rc ? rc : nq_buf_putc(b, '\n');
}

/* Move the next event into out without waiting; 1 when out grew. */
static int fetch(sse_stream *s, double now)
{
    const char *event = NULL;
    char *data = NULL;
    int rc = nq_jobs_next_event(s->sub, 0, &event, &data);
    if (rc < 0) {
        s->done = 1;
        return 0;
    }
    if (rc == 1) {
        if (strcmp(event, "progress") != 0)
            s->done = 1;
        int bad = format_event(&s->out, event, data);
        free(data);
        return !bad;
    }
    if (now - s->last_write >= SSE_PING_S)
        return nq_buf_puts(&s->out, ": keep-alive\n\n") == 0;
    return 0;
}

static ssize_t copy_out(sse_stream *s, char *buf, size_t max)
{
    size_t n = s->out.len - s->off;
    if (n > max)
        n = max;
    memcpy(buf, s->out.data + s->off, n);
    s->off += n;
    if (s->off == s->out.len) {
        nq_buf_reset(&s->out);
        s->off = 0;
    }
    s->last_write = nq_clock_s();
    return (ssize_t)n;
}

static ssize_t sse_read(void *cls, char *buf, size_t max, int closing)
{
    sse_stream *s = cls;
    if (s->off < s->out.len)
        return copy_out(s, buf, max);
    if (s->done || closing)
        return -1;
    if (fetch(s, nq_clock_s()))
        return copy_out(s, buf, max);
    return s->done ? -1 : 0;
}

static int sse_poll(void *cls, double now)
{
    sse_stream *s = cls;
    return fetch(s, now) || s->done;
}

static void sse_free(void *cls)
{
    sse_stream *s = cls;
    nq_jobs_unsubscribe(s->sub);
    nq_buf_free(&s->out);
    free(s);
}

static const http_stream_ops SSE_OPS = {sse_read, sse_poll, sse_free, SSE_POLL_S};

void srv_h_job_events(srv_app *a, http_req *req, http_res *res, const char *id)
{
    nq_job_sub *sub = NULL;
    if (a->cluster)
        (void)srv_cluster_know(a, id); /* a job queued through another node */
    if (nq_jobs_subscribe(a->jobs, id, &sub) != NQ_OK) {
        srv_problem(res, req, 404, "not-found", "no such job", NULL);
        return;
    }
    sse_stream *s = calloc(1, sizeof *s);
    if (!s) {
        nq_jobs_unsubscribe(sub);
        srv_problem(res, req, 500, "internal", "out of memory", NULL);
        return;
    }
    s->sub = sub;
    nq_buf_init(&s->out, 0);
    s->last_write = nq_clock_s();
    /* A first comment puts the headers on the wire before any event. */
    (void)nq_buf_puts(&s->out, ": events of job\n\n");
    http_res_stream(res, 200, "text/event-stream", &SSE_OPS, s);
    http_res_header(res, "Cache-Control", "no-store");
    http_res_header(res, "X-Accel-Buffering", "no"); /* nginx: pass events through at once */
}
