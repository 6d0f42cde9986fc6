/* config.c - `nqba serve` options from flags, environment, a config file
 * and defaults, in that order of precedence.
 *
 * One table describes every option: its name (the long flag without "--",
 * the config file key, and NQBA_<NAME> with '-' as '_' in the
 * environment), its type and bounds, and its help line. Values are checked
 * where they are read, so an error names the option and where the bad
 * value came from: "--http-threads", "NQBA_HTTP_THREADS" or "FILE:LINE". */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "nqba/store.h"
#include "server.h"

typedef enum opt_kind { K_LISTEN, K_PATH, K_INT, K_BYTES, K_SECONDS, K_QUEUE } opt_kind;

typedef struct opt_def {
    const char *name;
    opt_kind kind;
    size_t off;    /* field in srv_config (not for K_LISTEN) */
    double lo, hi; /* bounds of numbers */
    const char *meta;
    const char *help;
} opt_def;

#define OFF(f) offsetof(srv_config, f)

static const opt_def OPTS[] = {
    {"listen", K_LISTEN, 0, 0, 0, "HOST:PORT", "address to listen on; port 0 picks a free port"},
    {"port-file", K_PATH, OFF(port_file), 0, 0, "FILE",
     "write the bound port there once listening"},
    {"http-threads", K_INT, OFF(http_threads), 1, 256, "N", "HTTP event-loop threads (poll)"},
    {"workers", K_INT, OFF(workers), 0, 1024, "N", "job workers (0: one per online core)"},
    {"max-connections", K_INT, OFF(max_connections), 1, 1000000, "N", "connection limit"},
    {"connection-timeout", K_INT, OFF(connection_timeout), 0, 86400, "S",
     "idle connection timeout in seconds (0: none)"},
    {"max-body", K_BYTES, OFF(max_body), 1, 1073741824.0, "BYTES", "larger request bodies: 413"},
    {"max-json-depth", K_INT, OFF(max_json_depth), 1, 2048, "N", "deeper JSON documents: 413"},
    {"max-queue", K_INT, OFF(max_queue), 1, 1000000, "N", "queued jobs beyond it: 429"},
    {"sync-budget-ms", K_INT, OFF(sync_budget_ms), 0, 600000, "N",
     "a job finishing within it is answered synchronously"},
    {"job-timeout", K_SECONDS, OFF(job_timeout), 0, 604800, "S",
     "a running job is cancelled after it (0: never)"},
    {"cache-entries", K_INT, OFF(cache_entries), 0, 1000000, "N", "result cache size (0 disables)"},
    {"drain", K_SECONDS, OFF(drain), 0, 3600, "S",
     "on SIGTERM/SIGINT: seconds running jobs may finish"},
    {"access-log", K_PATH, OFF(access_log), 0, 0, "FILE",
     "JSON-lines access log; '-' standard error, 'off' none"},
    {"config", K_PATH, OFF(config_file), 0, 0, "FILE", "read options from FILE (name = value)"},
    {"db", K_PATH, OFF(db), 0, 0, "URL",
     "store: a SQLite file, or postgresql://user@host:port/db"},
    {"db-pool", K_INT, OFF(db_pool), 0, 64, "N", "store connections (0: 4)"},
    {"rate-limit-ip", K_INT, OFF(rate_ip), 0, 1000000, "N",
     "requests per second per client address (bursts of 2N); 0: no limit"},
    {"rate-limit-principal", K_INT, OFF(rate_principal), 0, 1000000, "N",
     "requests per second per user or API key (bursts of 2N); 0: no limit"},
    {"production", K_INT, OFF(production), 0, 1, "0|1",
     "1: every key must be given; nothing is generated"},
    {"jwt-keys", K_PATH, OFF(jwt_keys), 0, 0, "KID:KEY,...",
     "token signing keys, base64url of >= 32 random bytes; the first signs"},
    {"api-key-pepper", K_PATH, OFF(api_key_pepper), 0, 0, "KEY",
     "base64url of 32 random bytes mixed into stored API key hashes"},
    {"field-keys", K_PATH, OFF(field_keys), 0, 0, "KID:KEY,...",
     "keys encrypting sensitive stored fields; the first encrypts"},
    {"secrets-file", K_PATH, OFF(secrets_file), 0, 0, "FILE",
     "development keys (made once, 0600); default: beside the SQLite database"},
    {"redis", K_PATH, OFF(redis), 0, 0, "URL",
     "shared result cache, redis://[:password@]host:port[/db] (none by default)"},
    {"queue", K_QUEUE, OFF(queue_shared), 0, 0, "local|shared",
     "shared: jobs go to the PostgreSQL queue and `nqba worker` processes run them"},
    {"lease", K_SECONDS, OFF(lease), 0.1, 3600, "S",
     "worker: a claimed job returns to the queue S seconds after its last heartbeat"},
    {"max-attempts", K_INT, OFF(max_attempts), 1, 100, "N",
     "worker: a job claimed N times without finishing fails (poison)"},
    {"job-retention", K_SECONDS, OFF(job_retention), 0, 315360000, "S",
     "cluster: ended jobs leave the queue table S seconds after they end (0: never)"},
    {"audit-check", K_SECONDS, OFF(audit_check), 0, 604800, "S",
     "verify the audit chain every S seconds (nqba_audit_chain_ok; 0: never)"},
};

#define N_OPTS (sizeof OPTS / sizeof OPTS[0])

void srv_config_default(srv_config *c)
{
    memset(c, 0, sizeof *c);
    strcpy(c->host, "127.0.0.1");
    c->port = 8080;
    c->http_threads = 2;
    c->workers = 0;
    c->max_connections = 12000;
    c->connection_timeout = 60;
    c->max_body = 16777216;
    c->max_json_depth = 64;
    c->max_queue = 1024;
    c->sync_budget_ms = 100;
    c->job_timeout = 300;
    c->cache_entries = 1000;
    c->drain = 10;
    strcpy(c->access_log, "-");
    strcpy(c->db, NQ_STORE_DEFAULT_PATH);
    c->rate_ip = 200;
    c->rate_principal = 100;
    c->lease = 10;
    c->max_attempts = 3;
    c->audit_check = 300;
    c->job_retention = 604800;
}

static const opt_def *find_opt(const char *name, size_t len)
{
    for (size_t i = 0; i < N_OPTS; i++)
        if (strlen(OPTS[i].name) == len && strncmp(OPTS[i].name, name, len) == 0)
            return &OPTS[i];
    return NULL;
}

/* ---- values ---- */

static int bad(nq_err *err, const char *src, const char *expected, const char *v)
{
    return nq_err_set(err, NQ_EINVAL, src, "expected %s, got '%s'", expected, v);
}

/* The whole text must be the number: "12x" or " 12" is a typo, not 12. */
static int parse_number(const opt_def *o, const char *v, const char *src, double *out, nq_err *err)
{
    char expected[96];
    int integer = o->kind != K_SECONDS;
    snprintf(expected, sizeof expected, "%s in %.10g..%.10g", integer ? "an integer" : "a number",
             o->lo, o->hi);
    if (!(isdigit((unsigned char)v[0]) || (!integer && v[0] == '.')))
        return bad(err, src, expected, v);
    char *end;
    errno = 0;
    double x = integer ? (double)strtoll(v, &end, 10) : strtod(v, &end);
    if (end == v || *end || errno == ERANGE || !isfinite(x) || x < o->lo || x > o->hi)
        return bad(err, src, expected, v);
    *out = x;
    return NQ_OK;
}

static int parse_listen(srv_config *c, const char *v, const char *src, nq_err *err)
{
    const char *colon = strrchr(v, ':');
    if (!colon)
        return bad(err, src, "HOST:PORT", v);
    const char *h = v;
    size_t hlen = (size_t)(colon - v);
    if (hlen >= 2 && h[0] == '[' && h[hlen - 1] == ']') { /* [::1]:8080 */
        h++;
        hlen -= 2;
    } else if (memchr(h, ':', hlen)) {
        return bad(err, src, "HOST:PORT (an IPv6 address in brackets)", v);
    }
    if (hlen >= sizeof c->host)
        return nq_err_set(err, NQ_EINVAL, src, "host name longer than %zu bytes",
                          sizeof c->host - 1);
    opt_def port = {"listen", K_INT, 0, 0, 65535, NULL, NULL};
    double p;
    char psrc[NQ_ERR_WHERE_MAX + 16];
    snprintf(psrc, sizeof psrc, "%s (port)", src);
    int rc = parse_number(&port, colon + 1, psrc, &p, err);
    if (rc)
        return rc;
    memcpy(c->host, h, hlen);
    c->host[hlen] = '\0';
    c->port = (int)p;
    return NQ_OK;
}

static int set_opt(srv_config *c, const opt_def *o, const char *v, const char *src, nq_err *err)
{
    char *field = (char *)c + o->off;
    double x;
    int rc;
    switch (o->kind) {
    case K_LISTEN:
        c->listen_set = 1;
        return parse_listen(c, v, src, err);
    case K_QUEUE:
        if (strcmp(v, "local") != 0 && strcmp(v, "shared") != 0)
            return bad(err, src, "local or shared", v);
        *(int *)(void *)field = v[0] == 's';
        return NQ_OK;
    case K_PATH:
        if (!v[0])
            return bad(err, src, "a file name", v);
        if (strlen(v) >= SRV_PATH_MAX)
            return nq_err_set(err, NQ_EINVAL, src, "longer than %d bytes", SRV_PATH_MAX - 1);
        strcpy(field, v);
        return NQ_OK;
    case K_INT:
    case K_BYTES:
    case K_SECONDS:
        rc = parse_number(o, v, src, &x, err);
        if (rc)
            return rc;
        if (o->kind == K_INT)
            *(int *)(void *)field = (int)x;
        else if (o->kind == K_BYTES)
            *(long long *)(void *)field = (long long)x;
        else
            *(double *)(void *)field = x;
        return NQ_OK;
    }
    return NQ_EINTERNAL;
}

/* ---- the command line ---- */

typedef struct flag_val {
    const opt_def *opt;
    const char *value;
    const char *flag; /* argv text, for messages */
} flag_val;

/* Collect --name value / --name=value pairs; 1 when --help is there. */
static int scan_flags(int argc, char **argv, flag_val *out, int *n, nq_err *err)
{
    *n = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
            return 1;
        if (strncmp(a, "--", 2) != 0)
            return nq_err_set(err, NQ_EINVAL, a, "unexpected argument (options start with --)");
        const char *eq = strchr(a + 2, '=');
        size_t len = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
        const opt_def *o = find_opt(a + 2, len);
        if (!o)
            return nq_err_set(err, NQ_EINVAL, a, "unknown option (see nqba serve --help)");
        if (!eq && i + 1 >= argc)
            return nq_err_set(err, NQ_EINVAL, a, "needs a value (%s)", o->meta);
        out[*n].opt = o;
        out[*n].flag = a;
        out[*n].value = eq ? eq + 1 : argv[++i];
        (*n)++;
    }
    return 0;
}

/* ---- the environment ---- */

static void env_name(const opt_def *o, char *out, size_t cap)
{
    size_t n = (size_t)snprintf(out, cap, "NQBA_");
    for (const char *p = o->name; *p && n + 1 < cap; p++)
        out[n++] = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
    out[n] = '\0';
}

static const char *env_get(char **envp, const char *name)
{
    size_t len = strlen(name);
    for (char **e = envp; e && *e; e++)
        if (strncmp(*e, name, len) == 0 && (*e)[len] == '=')
            return *e + len + 1;
    return NULL;
}

static int apply_env(srv_config *c, char **envp, nq_err *err)
{
    char name[64];
    for (size_t i = 0; i < N_OPTS; i++) {
        env_name(&OPTS[i], name, sizeof name);
        const char *v = env_get(envp, name);
        int rc = v ? set_opt(c, &OPTS[i], v, name, err) : 0;
        if (rc)
            return rc;
    }
    return NQ_OK;
}

static int config_file_apply(srv_config *c, const char *path, nq_err *err);

int srv_config_load(srv_config *c, int argc, char **argv, char **envp, FILE *out, nq_err *err)
{
    flag_val *flags = calloc((size_t)(argc > 0 ? argc : 1), sizeof *flags);
    int n = 0, rc;
    if (!flags) {
        nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
        return -1;
    }
    srv_config_default(c);
    rc = scan_flags(argc, argv, flags, &n, err);
    if (rc == 1)
        srv_config_usage(out);
    /* The config file is read first and overridden by the rest, but its
     * name itself may come from a flag or the environment. */
    const char *file = env_get(envp, "NQBA_CONFIG");
    for (int i = 0; rc == 0 && i < n; i++)
        if (strcmp(flags[i].opt->name, "config") == 0)
            file = flags[i].value;
    if (rc == 0 && file)
        rc = config_file_apply(c, file, err);
    if (rc == 0)
        rc = apply_env(c, envp, err);
    for (int i = 0; rc == 0 && i < n; i++)
        rc = set_opt(c, flags[i].opt, flags[i].value, flags[i].flag, err);
    free(flags);
    return rc == 1 ? 1 : rc ? -1 : 0;
}

/* ---- config file ---- */

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

static int file_line(srv_config *c, char *line, const char *where, nq_err *err)
{
    char *s = trim(line);
    if (!*s || *s == '#')
        return NQ_OK;
    char *eq = strchr(s, '=');
    if (!eq)
        return nq_err_set(err, NQ_EINVAL, where, "expected 'name = value'");
    *eq = '\0';
    char *name = trim(s), *value = trim(eq + 1);
    size_t vlen = strlen(value);
    if (vlen >= 2 && value[0] == '"' && value[vlen - 1] == '"') {
        value[vlen - 1] = '\0';
        value++;
    }
    const opt_def *o = find_opt(name, strlen(name));
    if (!o)
        return nq_err_set(err, NQ_EINVAL, where, "unknown option '%s'", name);
    if (strcmp(o->name, "config") == 0)
        return nq_err_set(err, NQ_EINVAL, where, "a config file cannot name another one");
    char src[NQ_ERR_WHERE_MAX + 64]; /* nq_err_set truncates to its own size */
    snprintf(src, sizeof src, "%s (%s)", where, o->name);
    return set_opt(c, o, value, src, err);
}

static int config_file_apply(srv_config *c, const char *path, nq_err *err)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return nq_err_set(err, NQ_EIO, "--config", "%s: %s", path, strerror(errno));
    char line[4096], where[NQ_ERR_WHERE_MAX];
    int rc = NQ_OK;
    for (long no = 1; rc == NQ_OK && fgets(line, sizeof line, f); no++) {
        snprintf(where, sizeof where, "%s:%ld", path, no);
        if (!strchr(line, '\n') && !feof(f))
            rc = nq_err_set(err, NQ_EINVAL, where, "line longer than %zu bytes", sizeof line);
        else
            rc = file_line(c, line, where, err);
    }
    fclose(f);
    return rc;
}

/* ---- help ---- */

static void default_text(const srv_config *d, const opt_def *o, char *out, size_t cap)
{
    const char *field = (const char *)d + o->off;
    switch (o->kind) {
    case K_LISTEN:
        snprintf(out, cap, "%s:%d", d->host, d->port);
        break;
    case K_PATH:
        snprintf(out, cap, "%s", field[0] ? field : "none");
        break;
    case K_INT:
        snprintf(out, cap, "%d", *(const int *)(const void *)field);
        break;
    case K_BYTES:
        snprintf(out, cap, "%lld", *(const long long *)(const void *)field);
        break;
    case K_SECONDS:
        snprintf(out, cap, "%g", *(const double *)(const void *)field);
        break;
    case K_QUEUE:
        snprintf(out, cap, "%s", *(const int *)(const void *)field ? "shared" : "local");
        break;
    }
}

void srv_config_usage(FILE *out)
{
    srv_config d;
    srv_config_default(&d);
    fputs("usage: nqba serve [options]\n"
          "       nqba worker [options]\n\n"
          "serve: answer the HTTP API (docs/api/http.md) until SIGTERM or SIGINT.\n"
          "worker: run jobs from the shared PostgreSQL queue (--db postgresql://...)\n"
          "  for API nodes started with --queue shared; it serves /healthz, /readyz\n"
          "  and /metrics on --listen (default port 9100). docs/DEPLOY.md.\n\n"
          "options (each also NQBA_<NAME> in the environment, with '-' as '_', and\n"
          "'name = value' in a config file; flags win, then the environment, then\n"
          "the file, then the defaults):\n",
          out);
    for (size_t i = 0; i < N_OPTS; i++) {
        char flag[64], def[64];
        snprintf(flag, sizeof flag, "--%s %s", OPTS[i].name, OPTS[i].meta);
        default_text(&d, &OPTS[i], def, sizeof def);
        /* The default goes on the same line when it fits in 100 columns. */
        int len = fprintf(out, "  %-26s %s", flag, OPTS[i].help);
        if (len + (int)strlen(def) + 11 <= 100)
            fprintf(out, " (default %s)\n", def);
        else
            fprintf(out, "\n  %-26s (default %s)\n", "", def);
    }
    fprintf(out, "  %-26s show this help\n", "--help");
}
