/* cmd_serve.c - `nqba serve [options]`: run the HTTP server (src/server)
 * until SIGTERM or SIGINT, then shut down gracefully and exit 0.
 *
 * Signals: SIGTERM and SIGINT are blocked before any thread exists, so
 * every thread inherits the mask and none is interrupted; this thread then
 * takes them synchronously with sigwait. No handler, no global flag. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "nqba/clock.h"
#include "server.h"

#define DRAIN_TICK_NS 50000000L

void cli_serve_usage(FILE *out)
{
    srv_config_usage(out);
}

static int fail(const srv_config *c, const nq_err *err, int status)
{
    char msg[NQ_ERR_WHERE_MAX + NQ_ERR_MSG_MAX + 8];
    fprintf(stderr, "nqba %s: %s\n", c->role == SRV_ROLE_WORKER ? "worker" : "serve",
            nq_err_format(err, msg, sizeof msg));
    return status;
}

/* Written under another name and renamed, so that a reader polling for
 * the file never sees it half written. */
static int write_port_file(const char *path, int port, nq_err *err)
{
    char tmp[SRV_PATH_MAX + 16];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return nq_err_set(err, NQ_EIO, "--port-file", "%s: %s", tmp, strerror(errno));
    int bad = fprintf(f, "%d\n", port) < 0;
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, path) != 0) {
        nq_err_set(err, NQ_EIO, "--port-file", "%s: %s", path, strerror(errno));
        unlink(tmp);
        return NQ_EIO;
    }
    return NQ_OK;
}

static void announce(const srv_config *c, int port)
{
    const char *host = c->host[0] ? c->host : "0.0.0.0";
    int v6 = strchr(host, ':') != NULL;
    printf("nqba: %s on http://%s%s%s:%d/\n",
           c->role == SRV_ROLE_WORKER ? "worker claiming jobs; health and metrics" : "listening",
           v6 ? "[" : "", host, v6 ? "]" : "", port);
    fflush(stdout);
}

/* Let queued and running jobs finish for up to secs while open
 * connections are still served; a second signal cuts the wait short. */
static void drain(srv_app *app, const sigset_t *set, double secs)
{
    double deadline = nq_clock_s() + secs;
    struct timespec tick = {0, DRAIN_TICK_NS};
    while (srv_app_busy(app)) {
        if (nq_clock_s() >= deadline) {
            srv_app_log(app, "warn", "drain time over, cancelling the remaining jobs", NULL, NULL);
            return;
        }
        if (sigtimedwait(set, NULL, &tick) > 0) {
            srv_app_log(app, "warn", "second signal, cancelling the remaining jobs", NULL, NULL);
            return;
        }
    }
}

static int serve(const srv_config *cfg, const sigset_t *set)
{
    nq_err err;
    nq_err_clear(&err);
    srv_app *app = NULL;
    if (srv_app_new(cfg, 0, &app, &err))
        return fail(cfg, &err, cli_exit_for(err.code));
    if (srv_app_listen(app, &err) ||
        (cfg->port_file[0] && write_port_file(cfg->port_file, srv_app_port(app), &err))) {
        srv_app_free(app);
        return fail(cfg, &err, CLI_EXIT_FAIL);
    }
    announce(cfg, srv_app_port(app));
    int sig = 0;
    while (sigwait(set, &sig) != 0)
        ;
    srv_app_log(app, "info", "shutting down", "signal", sig == SIGINT ? "SIGINT" : "SIGTERM");
    srv_app_begin_shutdown(app);
    drain(app, set, cfg->drain);
    srv_app_log(app, "info", "closing connections", NULL, NULL);
    srv_app_free(app);
    return CLI_EXIT_OK;
}

static int run_as(int role, int argc, char **argv)
{
    srv_config cfg;
    nq_err err;
    nq_err_clear(&err);
    int rc = srv_config_load(&cfg, argc, argv, environ, stdout, &err);
    cfg.role = role;
    if (rc == 1)
        return CLI_EXIT_OK;
    if (rc < 0)
        return fail(&cfg, &err, CLI_EXIT_USAGE);
    if (role == SRV_ROLE_WORKER && !cfg.listen_set)
        cfg.port = SRV_WORKER_PORT; /* beside an API node on its default port */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    /* A client or a log reader that goes away must not kill the server. */
    signal(SIGPIPE, SIG_IGN);
    return serve(&cfg, &set);
}

int cli_serve_run(int argc, char **argv)
{
    return run_as(SRV_ROLE_SERVE, argc, argv);
}

/* nqba worker: the same process without the API, claiming from the queue. */
int cli_worker_run(int argc, char **argv)
{
    return run_as(SRV_ROLE_WORKER, argc, argv);
}
