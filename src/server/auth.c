/* auth.c - who is calling, and may they: every guarded route needs a
 * principal allowed its (unit, action).
 *
 * Credentials come as `Authorization: Bearer <credential>`:
 *   - an API key (`nqba_<prefix>_<secret>`): looked up by prefix, checked
 *     against its peppered hash in constant time, refused when expired or
 *     revoked; it may do what its scopes say ("*", "unit:*", "unit:action");
 *   - an access token (a JWT, jwt.h): its role may do what the permissions
 *     table says; an admin's token must come from a login that passed TOTP.
 * Missing or bad credentials are 401 with WWW-Authenticate; a principal
 * that may not is 403. Nothing says which part of a credential was wrong
 * beyond "invalid", so a guesser learns nothing. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "nqba/apikey.h"
#include "nqba/clock.h"
#include "nqba/fieldcrypt.h"
#include "nqba/password.h"
#include "nqba/ratelimit.h"
#include "srv.h"

static int load_permission(void *user, const char *role, const char *unit, const char *action)
{
    nq_rbac *r = user;
    nq_unit u;
    nq_action a;
    nq_err err;
    if (!nq_unit_parse(unit, &u) && !nq_action_parse(action, &a))
        nq_rbac_grant(r, role, u, a, &err);
    return 0;
}

/* Name the option at fault, keeping the parser's reason (which never
 * quotes key material). */
static void key_error(nq_err *err, int rc, const char *option)
{
    char msg[NQ_ERR_MSG_MAX];
    snprintf(msg, sizeof msg, "%s", err->msg);
    nq_err_set(err, rc, option, "%s", msg);
}

int srv_auth_init(srv_app *a, nq_err *err)
{
    int rc = srv_secrets_load(&a->cfg, &a->keys, err);
    nq_jwt_keyring_init(&a->jwt);
    if (!rc && (rc = nq_jwt_keyring_parse(&a->jwt, a->keys.jwt_keys, err)) != 0)
        key_error(err, rc, "--jwt-keys");
    if (!rc && (rc = nq_field_ring_parse(a->keys.field_keys, &a->fields, err)) != 0)
        key_error(err, rc, "--field-keys");
    if (!rc)
        rc = nq_pw_hasher_new(NULL, &a->hasher, err);
    /* With --redis the buckets live there, shared by every node; each
     * node's own buckets stand in while Redis is unreachable. */
    nq_ratelimit_opts ro = {.shared_take = a->rcache ? srv_shared_rate_take : NULL,
                            .shared_user = a->rcache ? a : NULL};
    if (!rc && a->cfg.rate_ip > 0) {
        ro.rate = a->cfg.rate_ip;
        ro.burst = 2.0 * a->cfg.rate_ip;
        rc = nq_ratelimit_new(&ro, &a->rl_ip, err);
    }
    if (!rc && a->cfg.rate_principal > 0) {
        ro.rate = a->cfg.rate_principal;
        ro.burst = 2.0 * a->cfg.rate_principal;
        rc = nq_ratelimit_new(&ro, &a->rl_principal, err);
    }
    if (!rc && srv_keycache_new(&a->keycache) != NQ_OK)
        rc = nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    nq_rbac_init(&a->rbac);
    if (!rc && !(a->rbac_lock_made = pthread_rwlock_init(&a->rbac_lock, NULL) == 0))
        rc = nq_err_set(err, NQ_ENOMEM, NULL, "cannot make a lock");
    if (!rc && a->store)
        rc = nq_store_permissions(a->store, load_permission, &a->rbac, err);
    return rc;
}

void srv_auth_free(srv_app *a)
{
    srv_secrets_wipe(&a->keys);
    nq_jwt_keyring_wipe(&a->jwt);
    nq_field_ring_free(a->fields);
    a->fields = NULL;
    nq_pw_hasher_free(a->hasher);
    a->hasher = NULL;
    nq_ratelimit_free(a->rl_ip);
    nq_ratelimit_free(a->rl_principal);
    a->rl_ip = a->rl_principal = NULL;
    srv_keycache_free(a->keycache);
    a->keycache = NULL;
    if (a->rbac_lock_made)
        pthread_rwlock_destroy(&a->rbac_lock);
    a->rbac_lock_made = 0;
}

static int limited(http_req *req, http_res *res, double retry_after, const char *who)
{
    char after[24], detail[96];
    snprintf(after, sizeof after, "%.0f", ceil(retry_after));
    snprintf(detail, sizeof detail, "too many requests from this %s; slow down", who);
    srv_problem(res, req, 429, "rate-limited", detail, NULL);
    http_res_header(res, "Retry-After", nq_arena_strdup(req->arena, after));
    return -1;
}

int srv_rate_check(srv_app *a, http_req *req, http_res *res, const srv_route *route,
                   const srv_principal *p)
{
    if (!strcmp(route->pattern, "/healthz") || !strcmp(route->pattern, "/readyz"))
        return 0;
    double now = nq_clock_s(), wait = 0;
    char key[160];
    if (a->rl_ip && !p) {
        snprintf(key, sizeof key, "ip:%.64s", req->remote);
        if (nq_ratelimit_take(a->rl_ip, key, now, 1.0, &wait) == 0)
            return limited(req, res, wait, "address");
    }
    if (a->rl_principal && p && p->kind != SRV_PRINCIPAL_NONE) {
        snprintf(key, sizeof key, "p:%.140s", p->sub);
        if (nq_ratelimit_take(a->rl_principal, key, now, 1.0, &wait) == 0)
            return limited(req, res, wait, "principal");
    }
    return 0;
}

/* ---- scopes ---- */

/* Whether a space-separated scope list grants (unit, action). */
static int scopes_allow(const char *scopes, nq_unit u, nq_action act)
{
    const char *un = nq_unit_name(u), *an = nq_action_name(act);
    size_t ul = strlen(un), al = strlen(an);
    for (const char *p = scopes; p && *p;) {
        while (*p == ' ')
            p++;
        size_t n = strcspn(p, " ");
        if ((n == 1 && p[0] == '*') ||
            (n == ul + 2 && !strncmp(p, un, ul) && p[ul] == ':' && p[ul + 1] == '*') ||
            (n == ul + 1 + al && !strncmp(p, un, ul) && p[ul] == ':' &&
             !strncmp(p + ul + 1, an, al)))
            return 1;
        p += n;
    }
    return 0;
}

/* ---- answers ---- */

static int unauthorized(http_req *req, http_res *res, const char *detail, int invalid)
{
    srv_problem(res, req, 401, "unauthorized", detail, NULL);
    http_res_header(res, "WWW-Authenticate",
                    invalid ? "Bearer realm=\"nqba\", error=\"invalid_token\""
                            : "Bearer realm=\"nqba\"");
    return -1;
}

static int forbidden(http_req *req, http_res *res, const srv_route *route)
{
    char detail[128];
    snprintf(detail, sizeof detail, "this needs %s on %s", nq_action_name(route->action),
             nq_unit_name(route->unit));
    srv_problem(res, req, 403, "forbidden", detail, NULL);
    return -1;
}

/* ---- credentials ---- */

static int api_key(srv_app *a, const char *key, srv_principal *p)
{
    char prefix[9];
    nq_err err;
    nq_apikey_rec rec;
    if (nq_apikey_parse(key, prefix, &err))
        return -1;
    double mono = nq_clock_s();
    if (!srv_keycache_get(a->keycache, prefix, mono, &rec)) {
        if (nq_store_apikey_get(a->store, prefix, &rec, &err))
            return -1;
        srv_keycache_put(a->keycache, prefix, &rec, mono);
    }
    if (!nq_apikey_check(a->keys.pepper, key, rec.key_hash))
        return -1;
    double now = nq_clock_wall_s();
    if (rec.revoked_at > 0 || (rec.expires_at > 0 && now >= rec.expires_at))
        return -1;
    p->kind = SRV_PRINCIPAL_KEY;
    snprintf(p->sub, sizeof p->sub, "key:%s", prefix);
    snprintf(p->scopes, sizeof p->scopes, "%s", rec.scopes);
    return 0;
}

/* The credential of "Authorization: Bearer X", or NULL. */
static const char *bearer(const http_req *req)
{
    const char *h = http_req_header(req, "Authorization");
    if (!h || strncasecmp(h, "Bearer ", 7) != 0)
        return NULL;
    h += 7;
    while (*h == ' ')
        h++;
    return *h ? h : NULL;
}

int srv_authorize(srv_app *a, http_req *req, http_res *res, const srv_route *route,
                  srv_principal *p)
{
    memset(p, 0, sizeof *p);
    if (route->access == SRV_PUBLIC || a->validate_only)
        return 0; /* the fuzzer's mode has no store to look principals up in */
    const char *cred = bearer(req);
    if (!cred)
        return unauthorized(req, res, "this route needs credentials (Authorization: Bearer)", 0);
    if (strlen(cred) > 4096)
        return unauthorized(req, res, "invalid credentials", 1);
    int ok = !strncmp(cred, "nqba_", 5) ? api_key(a, cred, p) : srv_auth_token(a, cred, p);
    if (ok != 0)
        return unauthorized(req, res, "invalid credentials", 1);
    if (route->access == SRV_SELF) /* their own account: any signed-in user */
        return p->kind == SRV_PRINCIPAL_USER ? 0 : forbidden(req, res, route);
    int allowed;
    if (p->kind == SRV_PRINCIPAL_KEY) {
        allowed = scopes_allow(p->scopes, route->unit, route->action);
    } else {
        pthread_rwlock_rdlock(&a->rbac_lock);
        allowed = nq_rbac_allows(&a->rbac, p->role, route->unit, route->action) &&
                  (strcmp(p->role, "admin") != 0 || p->mfa);
        pthread_rwlock_unlock(&a->rbac_lock);
    }
    return allowed ? 0 : forbidden(req, res, route);
}
