/* router.c - the route table and path matching.
 *
 * A path that matches no pattern is 404; one that matches a pattern under
 * another method is 405 with an Allow header listing the methods that
 * would work. Metrics label requests by pattern, never by raw path, so a
 * client cannot grow the label set. */
#include <string.h>

#include "srv.h"

static const srv_route ROUTES[] = {
    {"GET", "/", srv_h_root},
    {"GET", "/healthz", srv_h_healthz},
    {"GET", "/readyz", srv_h_readyz},
    {"GET", "/metrics", srv_h_metrics},
    {"GET", "/openapi.json", srv_h_openapi},
    {"POST", "/api/v1/solve", srv_h_solve},
    {"POST", "/api/v1/nqba/decision-engine", srv_h_decision},
    {"GET", "/api/v1/jobs/{id}", srv_h_job_get},
    {"DELETE", "/api/v1/jobs/{id}", srv_h_job_cancel},
    {"GET", "/api/v1/jobs/{id}/events", srv_h_job_events},
    {"GET", "/api/v1/decisions", srv_h_decisions},
    {"GET", "/api/v1/decisions/{id}", srv_h_decision_get},
    {"GET", "/api/v1/audit/verify", srv_h_audit_verify},
    {"POST", "/api/v1/nqba/models", srv_h_models_post},
    {"GET", "/api/v1/nqba/models/{id}", srv_h_model_get},
    {"GET", "/api/v1/analytics/summary", srv_h_analytics},
};

#define N_ROUTES (sizeof ROUTES / sizeof ROUTES[0])

const srv_route *srv_routes(size_t *n)
{
    *n = N_ROUTES;
    return ROUTES;
}

/* Match path against pattern; *id gets the {id} segment's span. */
static int path_matches(const char *pattern, const char *path, const char **id, size_t *id_len)
{
    const char *p = pattern, *s = path;
    *id = NULL;
    *id_len = 0;
    while (*p) {
        if (strncmp(p, "{id}", 4) == 0) {
            size_t n = strcspn(s, "/");
            if (n == 0)
                return 0;
            *id = s;
            *id_len = n;
            s += n;
            p += 4;
            continue;
        }
        if (*p++ != *s++)
            return 0;
    }
    return *s == '\0';
}

static void allow_add(srv_match *m, const char *method)
{
    size_t len = strlen(m->allow);
    if (strstr(m->allow, method))
        return;
    /* The table's methods fit; the check keeps a longer table honest. */
    if (len + strlen(method) + 3 < sizeof m->allow)
        strcat(strcat(m->allow, len ? ", " : ""), method);
}

void srv_route_match(const char *method, const char *path, nq_arena *arena, srv_match *m)
{
    const char *want = strcmp(method, "HEAD") == 0 ? "GET" : method;
    memset(m, 0, sizeof *m);
    m->kind = SRV_MATCH_NO_PATH;
    for (size_t i = 0; i < N_ROUTES; i++) {
        const char *id;
        size_t id_len;
        if (!path_matches(ROUTES[i].pattern, path, &id, &id_len))
            continue;
        m->pattern = ROUTES[i].pattern;
        if (strcmp(ROUTES[i].method, want) == 0) {
            m->kind = SRV_MATCH_OK;
            m->route = &ROUTES[i];
            m->id = id ? nq_arena_strndup(arena, id, id_len) : NULL;
            if (id && !m->id)
                m->kind = SRV_MATCH_NO_PATH; /* no memory for 4 MiB of path: treat as unknown */
            return;
        }
        m->kind = SRV_MATCH_NO_METHOD;
        allow_add(m, ROUTES[i].method);
        if (strcmp(ROUTES[i].method, "GET") == 0)
            allow_add(m, "HEAD");
    }
}
