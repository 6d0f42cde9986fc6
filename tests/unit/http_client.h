/* http_client.h - what the HTTP tests need: the real server ($NQ_BIN serve)
 * as a child process on a free loopback port, and a small HTTP/1.1 client.
 *
 * The client speaks over plain sockets rather than through a library so
 * that the tests can send what a well-behaved client never would (a huge
 * Content-Length with no body, a request held half-sent), keep a connection
 * open across requests, and read a Server-Sent Events stream as it arrives.
 * It understands Content-Length, chunked and read-until-close bodies.
 * Include after cmocka.h. */
#ifndef NQ_TEST_HTTP_CLIENT_H
#define NQ_TEST_HTTP_CLIENT_H

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define HTTP_PATH_LEN 512
#define HTTP_MAX_ARGS 40
/* Longest wait for one response: generous, since sanitizer builds are slow,
 * yet short enough that a hung server fails a test instead of ctest. */
#define HTTP_TIMEOUT_S 30.0

static inline double http_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static inline void http_sleep(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* ---- the server process ---- */

typedef struct http_server {
    pid_t pid;  /* 0 when not running */
    int port;
    int status; /* exit status once stopped: 0..255, or -1 (killed by a signal) */
    char dir[HTTP_PATH_LEN / 2];   /* private temp dir: port file, log, stdout, stderr */
    char access_log[HTTP_PATH_LEN];
    char db[HTTP_PATH_LEN]; /* its own SQLite store, unless the test names one */
    char key[96];           /* an API key with every scope, made before it starts */
} http_server;

/* The API key each test server got at start (http_server_start), sent as
 * "Authorization: Bearer KEY" with every request to its port unless the
 * request carries an Authorization header of its own (an empty one sends
 * no credentials). */
#define HTTP_MAX_KEYED 64
typedef struct http_keyed {
    int port;
    char key[96];
} http_keyed;
static http_keyed g_http_keys[HTTP_MAX_KEYED];

static inline void http_key_set(int port, const char *key)
{
    for (int i = 0; i < HTTP_MAX_KEYED; i++)
        if (g_http_keys[i].port == port || g_http_keys[i].port == 0) {
            g_http_keys[i].port = port;
            snprintf(g_http_keys[i].key, sizeof g_http_keys[i].key, "%s", key);
            return;
        }
}

static inline const char *http_key_for(int port)
{
    for (int i = 0; i < HTTP_MAX_KEYED && g_http_keys[i].port; i++)
        if (g_http_keys[i].port == port)
            return g_http_keys[i].key;
    return NULL;
}


static inline void http_server_path(const http_server *s, const char *name,
                                    char out[HTTP_PATH_LEN])
{
    snprintf(out, HTTP_PATH_LEN, "%s/%s", s->dir, name);
}

/* The whole file as a NUL-terminated string, or NULL when it cannot be read. */
static inline char *http_slurp(const char *path, size_t *len_out)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, len = 0, got;
    char *s = malloc(cap);
    while (s && (got = fread(s + len, 1, cap - len - 1, f)) > 0) {
        len += got;
        if (cap - len - 1 == 0) {
            char *t = realloc(s, cap *= 2);
            if (!t) {
                free(s);
                s = NULL;
            }
            s = t;
        }
    }
    fclose(f);
    if (!s)
        return NULL;
    s[len] = '\0';
    if (len_out)
        *len_out = len;
    return s;
}

/* The server's stderr, for failure messages (caller frees; never NULL). */
static inline char *http_server_stderr(const http_server *s)
{
    char p[HTTP_PATH_LEN];
    http_server_path(s, "stderr", p);
    char *t = http_slurp(p, NULL);
    return t ? t : strdup("(no stderr)");
}

static inline int http_connect(int port);

/* Child side of the fork: stdout and stderr into files, then exec. The
 * death signal makes sure a test binary that crashes leaves no server. */
static inline void http_server_exec(const http_server *s, char **argv)
{
    char out[HTTP_PATH_LEN], err[HTTP_PATH_LEN];
    http_server_path(s, "stdout", out);
    http_server_path(s, "stderr", err);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int e = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int in = open("/dev/null", O_RDONLY);
    if (o < 0 || e < 0 || in < 0 || dup2(in, 0) < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0)
        _exit(126);
    execv(argv[0], argv);
    _exit(127);
}

/* The port once the port file holds one and it accepts a connection; 0
 * while not yet. Both, because the file may be seen half-written. */
static inline int http_server_poll_port(const http_server *s)
{
    char p[HTTP_PATH_LEN];
    http_server_path(s, "port", p);
    char *t = http_slurp(p, NULL);
    int port = t ? atoi(t) : 0;
    free(t);
    if (port <= 0 || port > 65535)
        return 0;
    int fd = http_connect(port);
    if (fd < 0)
        return 0;
    close(fd);
    return port;
}

static inline void http_server_argv(http_server *s, const char *cmd, const char *const *extra,
                                    char **argv, char port_file[HTTP_PATH_LEN])
{
    static char listen_opt[] = "--listen", listen_val[] = "127.0.0.1:0",
                port_opt[] = "--port-file", log_opt[] = "--access-log", db_opt[] = "--db";
    int n = 0;
    argv[n++] = getenv("NQ_BIN");
    argv[n++] = (char *)cmd;
    argv[n++] = listen_opt;
    argv[n++] = listen_val;
    argv[n++] = port_opt;
    argv[n++] = port_file;
    argv[n++] = log_opt;
    argv[n++] = s->access_log;
    int names_db = 0, names_rate = 0;
    for (const char *const *e = extra; e && *e; e++) {
        names_db |= strcmp(*e, "--db") == 0 || strncmp(*e, "--db=", 5) == 0;
        names_rate |= strncmp(*e, "--rate-limit", 12) == 0;
    }
    if (!names_db) {
        argv[n++] = db_opt;
        argv[n++] = s->db;
    }
    /* Tests send bursts from one address; the limits have a test of their
     * own (test_auth_matrix.c), which sets them. */
    static char rl_ip[] = "--rate-limit-ip", rl_p[] = "--rate-limit-principal", zero[] = "0";
    if (!names_rate) {
        argv[n++] = rl_ip;
        argv[n++] = zero;
        argv[n++] = rl_p;
        argv[n++] = zero;
    }
    for (; extra && *extra; extra++) {
        assert_true(n < HTTP_MAX_ARGS);
        argv[n++] = (char *)*extra;
    }
    argv[n] = NULL;
}

/* An API key with every scope for the server's database (`nqba apikey
 * add`, as an operator would make one), in s->key; "" when none could be
 * made (requests then get 401, which the test will show). */
static inline void http_server_make_key(http_server *s, const char *const *extra)
{
    const char *db = s->db;
    for (const char *const *e = extra; e && *e; e++)
        if (!strcmp(*e, "--db") && e[1])
            db = e[1];
    char cmd[HTTP_PATH_LEN * 2 + 256];
    snprintf(cmd, sizeof cmd, "'%s' apikey add --owner tests --db '%s' 2>/dev/null",
             getenv("NQ_BIN"), db);
    s->key[0] = '\0';
    FILE *p = popen(cmd, "r");
    if (!p)
        return;
    if (fgets(s->key, sizeof s->key, p))
        s->key[strcspn(s->key, "\r\n")] = '\0';
    pclose(p);
}

/* Start `nqba CMD` (serve, or worker) on 127.0.0.1 and a free port, with
 * the access log in the server's temp dir and extra options
 * (NULL-terminated, may be NULL). Waits up to 10 s for the port; fails the
 * test with the server's stderr otherwise. */
static inline void http_server_start_cmd(http_server *s, const char *cmd,
                                         const char *const *extra)
{
    memset(s, 0, sizeof *s);
    const char *bin = getenv("NQ_BIN");
    if (!bin || !*bin)
        fail_msg("NQ_BIN must name the nqba binary (ctest sets it)");
    const char *tmp = getenv("TMPDIR");
    snprintf(s->dir, sizeof s->dir, "%s/nqba-http-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(s->dir))
        fail_msg("mkdtemp %s: %s", s->dir, strerror(errno));
    http_server_path(s, "access.log", s->access_log);
    http_server_path(s, "nqba.db", s->db);
    char port_file[HTTP_PATH_LEN];
    http_server_path(s, "port", port_file);
    char *argv[HTTP_MAX_ARGS + 2];
    http_server_argv(s, cmd, extra, argv, port_file);
    http_server_make_key(s, extra);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        http_server_exec(s, argv);
    s->pid = pid;
    for (double t0 = http_now(); http_now() - t0 < 10.0; http_sleep(0.01)) {
        int ws;
        if (waitpid(pid, &ws, WNOHANG) == pid) {
            s->pid = 0;
            char *err = http_server_stderr(s);
            fail_msg("nqba serve exited (status %d) before listening; stderr:\n%s",
                     WIFEXITED(ws) ? WEXITSTATUS(ws) : -1, err);
        }
        if ((s->port = http_server_poll_port(s)) > 0) {
            if (s->key[0])
                http_key_set(s->port, s->key);
            return;
        }
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    s->pid = 0;
    char *err = http_server_stderr(s);
    fail_msg("nqba serve wrote no port file within 10 s; stderr:\n%s", err);
}

static inline void http_server_start(http_server *s, const char *const *extra)
{
    http_server_start_cmd(s, "serve", extra);
}

/* Wait up to timeout seconds for the server to exit; returns 1 when it has
 * (s->status set), 0 when it still runs. */
static inline int http_server_wait(http_server *s, double timeout)
{
    double t0 = http_now();
    for (;;) {
        int ws;
        pid_t r = waitpid(s->pid, &ws, WNOHANG);
        if (r == s->pid) {
            s->status = WIFEXITED(ws) ? WEXITSTATUS(ws) : -1;
            s->pid = 0;
            return 1;
        }
        if (r < 0 || http_now() - t0 >= timeout)
            return 0;
        http_sleep(0.005);
    }
}

/* SIGTERM, then wait up to timeout seconds; a server still running then is
 * killed and -2 returned. Otherwise its exit status (-1: died of a signal). */
static inline int http_server_stop(http_server *s, double timeout)
{
    if (s->pid <= 0)
        return s->status;
    kill(s->pid, SIGTERM);
    if (http_server_wait(s, timeout))
        return s->status;
    kill(s->pid, SIGKILL);
    waitpid(s->pid, NULL, 0);
    s->pid = 0;
    return s->status = -2;
}

/* Kill a server still running (after a failed test) and remove its dir. */
static inline void http_server_cleanup(http_server *s)
{
    if (s->pid > 0) {
        kill(s->pid, SIGKILL);
        waitpid(s->pid, NULL, 0);
        s->pid = 0;
    }
    if (!s->dir[0])
        return;
    DIR *d = opendir(s->dir);
    if (d) {
        struct dirent *de;
        char p[HTTP_PATH_LEN];
        while ((de = readdir(d)) != NULL)
            if (de->d_name[0] != '.') {
                http_server_path(s, de->d_name, p);
                unlink(p);
            }
        closedir(d);
    }
    rmdir(s->dir);
    s->dir[0] = '\0';
}

/* ---- connections ---- */

/* A connected socket to 127.0.0.1:port, or -1 (errno set). */
static inline int http_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

/* A connection with its read buffer: bytes past one response (a pipelined
 * or streamed remainder) stay for the next read. */
typedef struct http_conn {
    int fd;
    int port;
    char *buf;
    size_t len, cap;
} http_conn;

static inline int http_conn_open(http_conn *c, int port)
{
    memset(c, 0, sizeof *c);
    c->port = port;
    c->fd = http_connect(port);
    return c->fd < 0 ? -1 : 0;
}

static inline void http_conn_close(http_conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    free(c->buf);
    c->buf = NULL;
    c->len = c->cap = 0;
}

/* Write everything; -1 when the peer closed or reset (it may have answered
 * early, e.g. 413 before the body: read the answer anyway). */
static inline int http_write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Send a request. headers: "Name: value\r\n" lines or NULL. A body (or a
 * POST) gets a Content-Length unless headers already carry one, which lets
 * a test announce a length it never sends. */
static inline int http_send(http_conn *c, const char *method, const char *path,
                            const char *headers, const char *body, size_t body_len)
{
    headers = headers ? headers : "";
    const char *key = strcasestr(headers, "authorization:") ? NULL : http_key_for(c->port);
    size_t cap = strlen(method) + strlen(path) + strlen(headers) + 256;
    char *head = malloc(cap);
    assert_non_null(head);
    int n = snprintf(head, cap, "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n%s", method, path,
                     c->port, headers);
    if (key)
        n += snprintf(head + n, cap - (size_t)n, "Authorization: Bearer %s\r\n", key);
    int has_len = strcasestr(headers, "content-length:") != NULL;
    if (!has_len && (body || !strcmp(method, "POST") || !strcmp(method, "PUT")))
        n += snprintf(head + n, cap - (size_t)n, "Content-Length: %zu\r\n", body ? body_len : 0);
    n += snprintf(head + n, cap - (size_t)n, "\r\n");
    int rc = http_write_all(c->fd, head, (size_t)n);
    free(head);
    if (rc == 0 && body && body_len)
        rc = http_write_all(c->fd, body, body_len);
    return rc;
}

/* Read more bytes into c->buf before the deadline: 1 read, 0 closed, -1
 * timeout or error. */
static inline int http_fill(http_conn *c, double deadline)
{
    if (c->cap - c->len < 4096) {
        size_t cap = c->cap ? c->cap * 2 : 65536;
        char *b = realloc(c->buf, cap + 1);
        assert_non_null(b);
        c->buf = b;
        c->cap = cap;
    }
    for (;;) {
        double left = deadline - http_now();
        if (left <= 0)
            return -1;
        struct pollfd p = {c->fd, POLLIN, 0};
        int pr = poll(&p, 1, (int)(left * 1000) + 1);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr <= 0)
            return -1;
        ssize_t r = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return errno == ECONNRESET ? 0 : -1;
        c->len += (size_t)r;
        c->buf[c->len] = '\0';
        return r > 0 ? 1 : 0;
    }
}

/* Take the first n buffered bytes out of c->buf into a new string. */
static inline char *http_take(http_conn *c, size_t n)
{
    char *s = malloc(n + 1);
    assert_non_null(s);
    memcpy(s, c->buf, n);
    s[n] = '\0';
    memmove(c->buf, c->buf + n, c->len - n);
    c->len -= n;
    c->buf[c->len] = '\0'; /* the parsers search with strstr */
    return s;
}

/* ---- responses ---- */

typedef struct http_resp {
    int status;      /* 0 when no response came */
    char *head;      /* status line and header lines, NUL-terminated */
    char *body;      /* NUL-terminated (body_len counts the bytes) */
    size_t body_len;
    double seconds;  /* from sending to the whole response */
} http_resp;

static inline void http_resp_free(http_resp *r)
{
    free(r->head);
    free(r->body);
    memset(r, 0, sizeof *r);
}

/* A header's value (first occurrence, name case-insensitive), copied into
 * out without surrounding blanks; NULL when absent. */
static inline const char *http_header(const http_resp *r, const char *name, char *out,
                                      size_t cap)
{
    size_t nl = strlen(name);
    const char *line = r->head ? strstr(r->head, "\r\n") : NULL;
    for (; line && line[2]; line = strstr(line + 2, "\r\n")) {
        const char *h = line + 2;
        if (strncasecmp(h, name, nl) != 0 || h[nl] != ':')
            continue;
        const char *v = h + nl + 1, *end = strstr(v, "\r\n");
        while (*v == ' ' || *v == '\t')
            v++;
        size_t n = end ? (size_t)(end - v) : strlen(v);
        while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
            n--;
        if (n >= cap)
            n = cap - 1;
        memcpy(out, v, n);
        out[n] = '\0';
        return out;
    }
    return NULL;
}

/* Read the status line and headers. 0, or -1 when the connection closed or
 * timed out first. */
static inline int http_read_head(http_conn *c, http_resp *r, double deadline)
{
    char *end;
    while (!c->buf || !(end = strstr(c->buf, "\r\n\r\n")))
        if (http_fill(c, deadline) <= 0)
            return -1;
    r->head = http_take(c, (size_t)(end - c->buf) + 4);
    if (sscanf(r->head, "HTTP/1.%*d %d", &r->status) != 1)
        r->status = 0;
    return r->status > 0 ? 0 : -1;
}

/* Append n buffered bytes to the body. */
static inline void http_body_add(http_conn *c, http_resp *r, size_t n)
{
    char *b = realloc(r->body, r->body_len + n + 1);
    assert_non_null(b);
    r->body = b;
    memcpy(r->body + r->body_len, c->buf, n);
    r->body_len += n;
    r->body[r->body_len] = '\0';
    memmove(c->buf, c->buf + n, c->len - n);
    c->len -= n;
    c->buf[c->len] = '\0'; /* the parsers search with strstr */
}

/* One chunk of a chunked body: 1 data chunk read, 0 the last chunk (and
 * trailers) read, -1 closed or timed out first. */
static inline int http_read_chunk(http_conn *c, http_resp *r, double deadline)
{
    char *eol;
    while (!c->buf || !(eol = strstr(c->buf, "\r\n")))
        if (http_fill(c, deadline) <= 0)
            return -1;
    size_t size = (size_t)strtoul(c->buf, NULL, 16), line = (size_t)(eol - c->buf) + 2;
    if (size == 0) { /* trailers end with an empty line */
        char *end;
        while (!(end = strstr(c->buf + line - 2, "\r\n\r\n")))
            if (http_fill(c, deadline) <= 0)
                return -1;
        free(http_take(c, (size_t)(end - c->buf) + 4));
        return 0;
    }
    while (c->len < line + size + 2)
        if (http_fill(c, deadline) <= 0)
            return -1;
    free(http_take(c, line));
    http_body_add(c, r, size);
    free(http_take(c, 2));
    return 1;
}

/* Read the body as the head frames it. 0, or -1 when it was cut short. */
static inline int http_read_body(http_conn *c, http_resp *r, double deadline, int head_only)
{
    char v[64];
    r->body = calloc(1, 1);
    assert_non_null(r->body);
    if (head_only || r->status == 204 || r->status == 304 || r->status / 100 == 1)
        return 0;
    if (http_header(r, "Transfer-Encoding", v, sizeof v) && strcasestr(v, "chunked")) {
        int k;
        while ((k = http_read_chunk(c, r, deadline)) == 1) {
        }
        return k;
    }
    if (http_header(r, "Content-Length", v, sizeof v)) {
        size_t want = (size_t)strtoull(v, NULL, 10);
        while (c->len < want)
            if (http_fill(c, deadline) <= 0)
                return -1;
        http_body_add(c, r, want);
        return 0;
    }
    int k;
    while ((k = http_fill(c, deadline)) > 0) {
    }
    http_body_add(c, r, c->len);
    return k == 0 ? 0 : -1;
}

/* A whole response within timeout seconds; 0 or -1. */
static inline int http_read(http_conn *c, const char *method, http_resp *r, double timeout)
{
    memset(r, 0, sizeof *r);
    double t0 = http_now(), deadline = t0 + timeout;
    int rc = http_read_head(c, r, deadline);
    if (rc == 0)
        rc = http_read_body(c, r, deadline, !strcmp(method, "HEAD"));
    r->seconds = http_now() - t0;
    return rc;
}

/* One request on a connection of its own, answered within timeout
 * seconds; 0, or -1 when no complete response came (r->status may still
 * say what did). */
static inline int http_try_for(int port, const char *method, const char *path,
                               const char *headers, const char *body, size_t body_len,
                               double timeout, http_resp *r)
{
    memset(r, 0, sizeof *r);
    http_conn c;
    if (http_conn_open(&c, port) != 0)
        return -1;
    double t0 = http_now();
    http_send(&c, method, path, headers, body, body_len); /* answered early: read anyway */
    int rc = http_read(&c, method, r, timeout);
    r->seconds = http_now() - t0;
    http_conn_close(&c);
    return rc;
}

static inline int http_try(int port, const char *method, const char *path, const char *headers,
                           const char *body, size_t body_len, http_resp *r)
{
    return http_try_for(port, method, path, headers, body, body_len, HTTP_TIMEOUT_S, r);
}

/* As http_try, but a missing or incomplete response fails the test. */
static inline void http_do(int port, const char *method, const char *path, const char *headers,
                           const char *body, size_t body_len, http_resp *r)
{
    if (http_try(port, method, path, headers, body, body_len, r) != 0)
        fail_msg("%s %s: no complete response (status %d, %s)", method, path, r->status,
                 strerror(errno));
}

/* GET with no extra headers. */
static inline void http_get(int port, const char *path, http_resp *r)
{
    http_do(port, "GET", path, NULL, NULL, 0, r);
}

/* POST a JSON text with extra header lines (may be NULL). */
static inline void http_post_json(int port, const char *path, const char *extra_headers,
                                  const char *json, http_resp *r)
{
    char h[8192];
    snprintf(h, sizeof h, "Content-Type: application/json\r\n%s",
             extra_headers ? extra_headers : "");
    http_do(port, "POST", path, h, json, strlen(json), r);
}

/* The body as JSON; fails the test when it is not. Caller decrefs. */
static inline json_t *http_json(const http_resp *r)
{
    json_error_t e;
    json_t *j = json_loadb(r->body ? r->body : "", r->body_len, 0, &e);
    if (!j)
        fail_msg("response body is not JSON (%s): %.2000s", e.text, r->body ? r->body : "");
    return j;
}

static inline void http_expect_status(const http_resp *r, int status, const char *what)
{
    if (r->status != status)
        fail_msg("%s: status %d, expected %d; body: %.2000s", what, r->status, status,
                 r->body ? r->body : "");
}

/* ---- JSON subset matching (tests/http/README.md) ---- */

/* Does expected match actual? On a mismatch, where receives the JSON
 * pointer of the first one and why a reason. */
static inline int http_subset(const json_t *exp, const json_t *act, char *where, size_t wcap,
                              char *why, size_t ycap)
{
    if (!act) {
        snprintf(why, ycap, "missing");
        return 0;
    }
    if (json_is_string(exp)) {
        const char *e = json_string_value(exp);
        size_t n = strlen(e);
        if (!strcmp(e, "*"))
            return 1;
        if (n > 0 && e[n - 1] == '*') {
            if (json_is_string(act) && !strncmp(json_string_value(act), e, n - 1))
                return 1;
            goto differ;
        }
    }
    if (json_is_number(exp)) {
        if (!json_is_number(act))
            goto differ;
        double a = json_number_value(act), b = json_number_value(exp);
        double scale = fabs(a) > fabs(b) ? fabs(a) : fabs(b);
        if (fabs(a - b) <= 1e-9 * (scale > 1 ? scale : 1))
            return 1;
        goto differ;
    }
    if (json_is_object(exp)) {
        if (!json_is_object(act))
            goto differ;
        const char *key;
        json_t *v;
        json_object_foreach((json_t *)exp, key, v) {
            size_t len = strlen(where);
            snprintf(where + len, wcap - len, "/%s", key);
            if (!http_subset(v, json_object_get(act, key), where, wcap, why, ycap))
                return 0;
            where[len] = '\0';
        }
        return 1;
    }
    if (json_is_array(exp)) {
        if (!json_is_array(act) || json_array_size(act) != json_array_size(exp))
            goto differ;
        size_t i;
        json_t *v;
        json_array_foreach(exp, i, v) {
            size_t len = strlen(where);
            snprintf(where + len, wcap - len, "/%zu", i);
            if (!http_subset(v, json_array_get(act, i), where, wcap, why, ycap))
                return 0;
            where[len] = '\0';
        }
        return 1;
    }
    if (json_equal((json_t *)exp, (json_t *)act))
        return 1;
differ:;
    char *es = json_dumps(exp, JSON_COMPACT | JSON_ENCODE_ANY);
    char *as = json_dumps(act, JSON_COMPACT | JSON_ENCODE_ANY);
    snprintf(why, ycap, "expected %.300s, got %.300s", es ? es : "?", as ? as : "?");
    free(es);
    free(as);
    return 0;
}

/* Fail the test unless the response body (JSON) contains expected (a JSON
 * text, see http_subset). */
static inline void http_expect_subset(const http_resp *r, const char *expected)
{
    json_error_t e;
    json_t *exp = json_loads(expected, 0, &e);
    if (!exp)
        fail_msg("bad expected JSON (%s): %s", e.text, expected);
    json_t *act = http_json(r);
    char where[512] = "", why[768] = "";
    int ok = http_subset(exp, act, where, sizeof where, why, sizeof why);
    json_decref(exp);
    json_decref(act);
    if (!ok)
        fail_msg("body at \"%s\": %s; body: %.2000s", where, why, r->body);
}

#endif
