/* http_hold.c - many concurrent keep-alive connections to `nqba serve`
 * (run by bench/http.sh).
 *
 *   bench_http_hold --port P [--conns N] [--fresh K]
 *
 * Opens N connections to 127.0.0.1:P, sends a keep-alive GET /healthz on
 * each and reads the answers, keeping every connection open. While holding
 * them it times K fresh connections, each asking GET /healthz once (the
 * server must still take new clients), then sends a second request on
 * every held connection and counts the answers. Prints "key value" lines
 * for the script to put in its report; exit status 0 when every
 * connection was answered both times.
 *
 * Connections are opened a batch at a time so that the listen backlog
 * never overflows (an overflow costs a one-second SYN retry, which would
 * measure the kernel rather than the server). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 256
#define BUF_CAP 2048
#define TIMEOUT_S 10.0 /* per batch: loopback answers take milliseconds */

static const char REQUEST[] = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";

typedef enum conn_state { C_CONNECTING, C_WAITING, C_DONE, C_FAILED } conn_state;

/* Why connections failed, for the report. */
static struct {
    int connect;  /* refused, reset or timed out while connecting */
    int closed;   /* closed or reset by the server before a whole answer */
    int bad;      /* an answer other than 200, or not understood */
} g_fail;

typedef struct conn {
    int fd;
    conn_state state;
    int len;            /* bytes of the current answer read so far */
    char buf[BUF_CAP];
} conn;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static struct sockaddr_in server_addr(int port)
{
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

/* Has buf (len bytes) a whole answer: head plus Content-Length bytes?
 * 1 yes (status 200 in *ok), 0 not yet, -1 malformed. */
static int answer_complete(const char *buf, int len, int *ok)
{
    const char *end = memmem(buf, (size_t)len, "\r\n\r\n", 4);
    if (!end)
        return len >= BUF_CAP - 1 ? -1 : 0;
    const char *cl = strcasestr(buf, "\r\ncontent-length:");
    if (!cl || cl > end)
        return -1;
    long body = strtol(cl + 17, NULL, 10);
    if (len < (int)(end + 4 - buf) + body)
        return 0;
    *ok = !strncmp(buf, "HTTP/1.1 200", 12);
    return 1;
}

/* Close with a reset instead of a FIN: an orderly close leaves the client
 * port in TIME_WAIT for a minute, and a few runs of 10,000 connections
 * exhaust loopback's ephemeral ports (28,000 here), after which new
 * connects stall for seconds on ports still in TIME_WAIT. */
static void close_reset(int fd)
{
    struct linger l = {.l_onoff = 1, .l_linger = 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    close(fd);
}

/* Start a non-blocking connect; the connection joins the epoll set. */
static int start_connect(conn *c, int ep, const struct sockaddr_in *a)
{
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0)
        return -1;
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->state = C_CONNECTING;
    c->len = 0;
    if (connect(c->fd, (const struct sockaddr *)a, sizeof *a) != 0 && errno != EINPROGRESS)
        return -1;
    struct epoll_event ev = {EPOLLOUT | EPOLLIN, {.ptr = c}};
    return epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
}

static void fail_conn(conn *c, int ep)
{
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    c->state = C_FAILED;
}

/* Send the request once connected (EPOLLOUT), then wait for input only. */
static void on_writable(conn *c, int ep)
{
    int err = 0;
    socklen_t el = sizeof err;
    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el);
    if (err || send(c->fd, REQUEST, sizeof REQUEST - 1, MSG_NOSIGNAL) != sizeof REQUEST - 1) {
        g_fail.connect++;
        fail_conn(c, ep);
        return;
    }
    c->state = C_WAITING;
    struct epoll_event ev = {EPOLLIN, {.ptr = c}};
    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Read what arrived; a complete 200 answer makes the connection held. */
static void on_readable(conn *c, int ep)
{
    ssize_t r = recv(c->fd, c->buf + c->len, (size_t)(BUF_CAP - 1 - c->len), 0);
    if (r <= 0) {
        if (r < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        g_fail.closed++;
        fail_conn(c, ep);
        return;
    }
    c->len += (int)r;
    c->buf[c->len] = '\0';
    int ok = 0, k = answer_complete(c->buf, c->len, &ok);
    if (k < 0 || (k == 1 && !ok)) {
        g_fail.bad++;
        fail_conn(c, ep);
    }
    else if (k == 1) {
        c->state = C_DONE;
        epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    }
}

/* Drive the epoll set until `pending` connections are done or failed, or
 * the deadline passes (those still pending count as timed out). */
static int g_timed_out;

static void run_until(int ep, int *pending, double deadline)
{
    struct epoll_event evs[512];
    while (*pending > 0 && now() < deadline) {
        int n = epoll_wait(ep, evs, 512, 100);
        for (int i = 0; i < n; i++) {
            conn *c = evs[i].data.ptr;
            conn_state before = c->state;
            if (c->state == C_CONNECTING && (evs[i].events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
                on_writable(c, ep);
            else if (c->state == C_WAITING)
                on_readable(c, ep);
            if (before != c->state && (c->state == C_DONE || c->state == C_FAILED))
                (*pending)--;
        }
    }
    g_timed_out += *pending;
}

/* Open and answer every connection, BATCH at a time. Returns how many are held. */
static int open_all(conn *cs, int n, int ep, const struct sockaddr_in *a)
{
    for (int i = 0; i < n; i += BATCH) {
        double deadline = now() + TIMEOUT_S;
        int pending = 0;
        for (int k = i; k < n && k < i + BATCH; k++) {
            if (start_connect(&cs[k], ep, a) != 0) {
                cs[k].state = C_FAILED;
                continue;
            }
            pending++;
        }
        double t0 = now();
        run_until(ep, &pending, deadline);
        if (now() - t0 > 1.0) /* a stall is worth seeing on its own */
            fprintf(stderr, "slow batch at %d: %.3f s\n", i, now() - t0);
    }
    int held = 0;
    for (int i = 0; i < n; i++)
        held += cs[i].state == C_DONE;
    return held;
}

/* Ask every held connection again, all at once; returns the answers. */
static int ask_again(conn *cs, int n, int ep)
{
    int pending = 0;
    for (int i = 0; i < n; i++) {
        if (cs[i].state != C_DONE)
            continue;
        cs[i].len = 0;
        if (send(cs[i].fd, REQUEST, sizeof REQUEST - 1, MSG_NOSIGNAL) != sizeof REQUEST - 1) {
            cs[i].state = C_FAILED;
            continue;
        }
        cs[i].state = C_WAITING;
        struct epoll_event ev = {EPOLLIN, {.ptr = &cs[i]}};
        epoll_ctl(ep, EPOLL_CTL_ADD, cs[i].fd, &ev);
        pending++;
    }
    run_until(ep, &pending, now() + TIMEOUT_S);
    int answered = 0;
    for (int i = 0; i < n; i++)
        answered += cs[i].state == C_DONE;
    return answered;
}

/* One fresh blocking connection and GET /healthz; seconds, or -1. */
static double fresh_request(const struct sockaddr_in *a)
{
    double t0 = now();
    conn c;
    int ep = epoll_create1(EPOLL_CLOEXEC);
    int pending = 1;
    if (ep < 0 || start_connect(&c, ep, a) != 0) {
        if (ep >= 0)
            close(ep);
        return -1;
    }
    run_until(ep, &pending, t0 + 10.0);
    close_reset(c.fd);
    close(ep);
    return c.state == C_DONE ? now() - t0 : -1;
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

/* Raise the open-files limit to the hard limit; returns the soft limit now. */
static long raise_nofile(void)
{
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    getrlimit(RLIMIT_NOFILE, &rl);
    return (long)rl.rlim_cur;
}

static void usage(void)
{
    fprintf(stderr, "usage: bench_http_hold --port P [--conns N] [--fresh K]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    int port = 0, n = 10000, fresh = 20;
    for (int i = 1; i < argc; i++) {
        if (i + 1 < argc && !strcmp(argv[i], "--port"))
            port = atoi(argv[++i]);
        else if (i + 1 < argc && !strcmp(argv[i], "--conns"))
            n = atoi(argv[++i]);
        else if (i + 1 < argc && !strcmp(argv[i], "--fresh"))
            fresh = atoi(argv[++i]);
        else
            usage();
    }
    if (port <= 0 || n <= 0 || fresh <= 0 || fresh > 1000)
        usage();
    long nofile = raise_nofile();
    printf("nofile %ld\n", nofile);
    struct sockaddr_in a = server_addr(port);
    conn *cs = calloc((size_t)n, sizeof *cs);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (!cs || ep < 0)
        return 1;
    double t0 = now();
    int held = open_all(cs, n, ep, &a);
    printf("conns %d\nheld %d\nopen_s %.3f\n", n, held, now() - t0);
    printf("open_fail_connect %d\nopen_fail_closed %d\nopen_fail_bad %d\nopen_timed_out %d\n",
           g_fail.connect, g_fail.closed, g_fail.bad, g_timed_out);
    memset(&g_fail, 0, sizeof g_fail);
    g_timed_out = 0;
    double lat[1000];
    int got = 0;
    for (int i = 0; i < fresh; i++) {
        double s = fresh_request(&a);
        if (s >= 0)
            lat[got++] = s;
    }
    qsort(lat, (size_t)got, sizeof *lat, cmp_double);
    printf("fresh %d\nfresh_ok %d\n", fresh, got);
    if (got)
        printf("fresh_median_ms %.3f\nfresh_max_ms %.3f\n", lat[got / 2] * 1e3,
               lat[got - 1] * 1e3);
    memset(&g_fail, 0, sizeof g_fail);
    g_timed_out = 0;
    t0 = now();
    int again = ask_again(cs, n, ep);
    printf("second %d\nsecond_s %.3f\n", again, now() - t0);
    printf("second_fail_closed %d\nsecond_fail_bad %d\nsecond_timed_out %d\n", g_fail.closed,
           g_fail.bad, g_timed_out);
    for (int i = 0; i < n; i++)
        if (cs[i].fd > 0)
            close_reset(cs[i].fd);
    free(cs);
    close(ep);
    return held == n && again == n && got == fresh ? 0 : 1;
}
