/* router.c - the route table and path matching.
 *
 * A path that matches no pattern is 404; one that matches a pattern under
 * another method is 405 with an Allow header listing the methods that
 * would work. Metrics label requests by pattern, never by raw path, so a
 * client cannot grow the label set. */
#include <string.h>

#include "srv.h"

#define PUBLIC(m, p, h) {m, p, h, SRV_PUBLIC, NQ_UNIT_SYSTEM, NQ_ACT_READ}
#define GUARD(m, p, h, u, act) {m, p, h, SRV_GUARDED, NQ_UNIT_##u, NQ_ACT_##act}
#define SELF(m, p, h) {m, p, h, SRV_SELF, NQ_UNIT_SYSTEM, NQ_ACT_READ}

/* Every route and who may call it. Jobs and decisions belong to the core
 * unit until the business units add their own routes; the history,
 * analytics and metrics are reads of the platform (system). */
static const srv_route ROUTES[] = {
    PUBLIC("GET", "/", srv_h_root),
    PUBLIC("GET", "/ui/{id}", srv_h_ui_asset),
    PUBLIC("GET", "/healthz", srv_h_healthz),
    PUBLIC("GET", "/readyz", srv_h_readyz),
    GUARD("GET", "/metrics", srv_h_metrics, SYSTEM, READ),
    PUBLIC("GET", "/openapi.json", srv_h_openapi),
    GUARD("POST", "/api/v1/solve", srv_h_solve, NQBA, RUN),
    GUARD("POST", "/api/v1/nqba/decision-engine", srv_h_decision, NQBA, RUN),
    GUARD("POST", "/api/v1/goliath/portfolio-optimization", srv_h_portfolio, GOLIATH, RUN),
    GUARD("POST", "/api/v1/goliath/risk-assessment", srv_h_risk, GOLIATH, RUN),
    GUARD("POST", "/api/v1/nqba/business-assessment", srv_h_assess, NQBA, RUN),
    GUARD("GET", "/api/v1/nqba/business-assessment/{id}/report", srv_h_assess_report, NQBA, READ),
    GUARD("GET", "/api/v1/nqba/business-assessment/{id}/diff", srv_h_assess_diff, NQBA, READ),
    GUARD("POST", "/api/v1/flyfox/energy-optimization", srv_h_energy, FLYFOX, RUN),
    GUARD("POST", "/api/v1/sigma/models", srv_h_lead_train, SIGMA, RUN),
    GUARD("GET", "/api/v1/sigma/models", srv_h_lead_models, SIGMA, READ),
    GUARD("GET", "/api/v1/sigma/models/{id}", srv_h_lead_model_get, SIGMA, READ),
    GUARD("POST", "/api/v1/sigma/lead-scoring", srv_h_lead_score, SIGMA, RUN),
    GUARD("POST", "/api/v1/sigma/lead-assignment", srv_h_lead_assign, SIGMA, RUN),
    GUARD("POST", "/api/v1/flyfox/unit-commitment", srv_h_uc, FLYFOX, RUN),
    GUARD("GET", "/api/v1/jobs/{id}", srv_h_job_get, NQBA, READ),
    GUARD("DELETE", "/api/v1/jobs/{id}", srv_h_job_cancel, NQBA, RUN),
    GUARD("GET", "/api/v1/jobs/{id}/events", srv_h_job_events, NQBA, READ),
    GUARD("GET", "/api/v1/decisions", srv_h_decisions, SYSTEM, READ),
    GUARD("GET", "/api/v1/decisions/{id}", srv_h_decision_get, SYSTEM, READ),
    GUARD("GET", "/api/v1/audit/verify", srv_h_audit_verify, SYSTEM, READ),
    GUARD("POST", "/api/v1/nqba/models", srv_h_models_post, NQBA, MANAGE),
    GUARD("GET", "/api/v1/nqba/models/{id}", srv_h_model_get, NQBA, READ),
    GUARD("GET", "/api/v1/analytics/summary", srv_h_analytics, SYSTEM, READ),
    PUBLIC("POST", "/api/v1/auth/token", srv_h_auth_token),
    PUBLIC("POST", "/api/v1/auth/refresh", srv_h_auth_refresh),
    PUBLIC("POST", "/api/v1/auth/logout", srv_h_auth_logout),
    PUBLIC("POST", "/oauth/token", srv_h_oauth_token),
    GUARD("POST", "/api/v1/admin/users", srv_h_admin_user_add, SYSTEM, MANAGE),
    GUARD("POST", "/api/v1/admin/api-keys", srv_h_admin_key_add, SYSTEM, MANAGE),
    GUARD("DELETE", "/api/v1/admin/api-keys/{id}", srv_h_admin_key_revoke, SYSTEM, MANAGE),
    GUARD("PUT", "/api/v1/admin/roles/{id}", srv_h_admin_role_set, SYSTEM, MANAGE),
    /* Listing users and keys shows who can get in: admins only, as changes. */
    GUARD("GET", "/api/v1/admin/users", srv_h_admin_users_list, SYSTEM, MANAGE),
    GUARD("PATCH", "/api/v1/admin/users/{id}", srv_h_admin_user_update, SYSTEM, MANAGE),
    GUARD("GET", "/api/v1/admin/api-keys", srv_h_admin_keys_list, SYSTEM, MANAGE),
    GUARD("GET", "/api/v1/admin/roles", srv_h_admin_roles_list, SYSTEM, MANAGE),
    SELF("POST", "/api/v1/auth/mfa/enroll", srv_h_mfa_enroll),
    SELF("POST", "/api/v1/auth/mfa/confirm", srv_h_mfa_confirm),
};

#define N_ROUTES (sizeof ROUTES / sizeof ROUTES[0])

const srv_route *srv_routes(size_t *n)
{
    *n = N_ROUTES;
    return ROUTES;
}

int srv_routes_check(const srv_route *routes, size_t n, nq_err *err)
{
    for (size_t i = 0; i < n; i++) {
        const srv_route *r = &routes[i];
        int ok = r->access == SRV_PUBLIC || r->access == SRV_SELF ||
                 (r->access == SRV_GUARDED && (unsigned)r->unit < NQ_UNITS &&
                  (unsigned)r->action < NQ_ACTIONS);
        if (!ok)
            return nq_err_set(err, NQ_EINTERNAL, "routes",
                              "route %s %s declares no access (public, or a unit and action)",
                              r->method, r->pattern);
    }
    return NQ_OK;
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
