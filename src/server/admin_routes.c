/* admin_routes.c - /api/v1/admin/...: what admins change (system:manage,
 * so for users only with a TOTP sign-in): users, API keys and the
 * permissions table. Every change is audited by the store under the
 * admin's name; a permission change also reloads the table the server
 * checks requests against. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nqba/apikey.h"
#include "nqba/clock.h"
#include "nqba/password.h"
#include "srv.h"

static const char *actor_of(const http_req *req)
{
    const srv_principal *p = req->principal;
    return p && p->sub[0] ? p->sub : "unknown";
}

/* Parse the body as an object with only the given keys; NULL after a 4xx. */
static json_t *body_object(srv_app *a, http_req *req, http_res *res, const char *const *keys)
{
    json_t *doc = NULL;
    nq_err err;
    nq_err_clear(&err);
    if (nq_json_parse(req->body, req->body_len, "request body", &a->json, &doc, &err)) {
        srv_problem_err(res, req, &err, 1);
        return NULL;
    }
    int rc = json_is_object(doc) ? nq_json_check_keys(doc, "", keys, &err)
                                 : nq_err_set(&err, NQ_EINVAL, "", "expected an object");
    if (rc) {
        srv_problem_err(res, req, &err, 0);
        json_decref(doc);
        return NULL;
    }
    return doc;
}

static void store_error(http_res *res, const http_req *req, int rc, const nq_err *err)
{
    if (rc == NQ_EINVAL || rc == NQ_ENOTFOUND) {
        char ptr[NQ_ERR_WHERE_MAX + 2];
        snprintf(ptr, sizeof ptr, "/%.250s", err->where);
        srv_problem(res, req, rc == NQ_ENOTFOUND ? 404 : 422,
                    rc == NQ_ENOTFOUND ? "not-found" : "invalid-field", err->msg,
                    rc == NQ_EINVAL ? ptr : NULL);
    } else {
        srv_store_problem(res, req, err);
    }
}

void srv_h_admin_user_add(srv_app *a, http_req *req, http_res *res, const char *id)
{
    (void)id;
    static const char *const keys[] = {"username", "password", "role", NULL};
    json_t *doc = body_object(a, req, res, keys);
    if (!doc)
        return;
    const char *user = NULL, *pw = NULL, *role = NULL;
    nq_err err;
    nq_err_clear(&err);
    int rc = nq_json_get_string(doc, "", "username", 1, NQ_STORE_USERNAME_MAX, &user, &err);
    if (!rc)
        rc = nq_json_get_string(doc, "", "password", 1, 1024, &pw, &err);
    if (!rc)
        rc = nq_json_get_string(doc, "", "role", 1, 31, &role, &err);
    if (!rc && strlen(pw) < 12)
        rc = nq_err_set(&err, NQ_EINVAL, "/password", "at least 12 characters");
    char hash[NQ_PW_STRBYTES];
    if (rc) {
        srv_problem_err(res, req, &err, 0);
    } else if (!srv_no_store(a, req, res)) {
        rc = nq_pw_hash(a->hasher, pw, strlen(pw), hash, &err);
        if (!rc)
            rc = nq_store_user_add(a->store, user, hash, role, actor_of(req), NULL, &err);
        if (rc == NQ_ELIMIT)
            srv_problem(res, req, 503, "unavailable", "password hashing is busy; retry", NULL);
        else if (rc)
            store_error(res, req, rc, &err);
        else {
            json_t *out = json_pack("{s:s, s:s}", "username", user, "role", role);
            http_res_json(res, 201, out);
            json_decref(out);
        }
        sodium_memzero(hash, sizeof hash);
    }
    json_decref(doc);
}

void srv_h_admin_key_add(srv_app *a, http_req *req, http_res *res, const char *id)
{
    (void)id;
    static const char *const keys[] = {"owner", "scopes", "expires_days", NULL};
    json_t *doc = body_object(a, req, res, keys);
    if (!doc)
        return;
    const char *owner = NULL, *scopes = NULL;
    double days = 0;
    nq_err err;
    nq_err_clear(&err);
    int rc = nq_json_get_string(doc, "", "owner", 1, 64, &owner, &err);
    if (!rc)
        rc = nq_json_get_string(doc, "", "scopes", 1, 256, &scopes, &err);
    if (!rc)
        rc = nq_json_get_number(doc, "", "expires_days", 0, &days, &err);
    if (!rc && !(days >= 0 && days <= 3650))
        rc = nq_err_set(&err, NQ_ERANGE, "/expires_days", "0 (never) to 3650");
    char key[NQ_APIKEY_MAX], prefix[9], hash[NQ_APIKEY_HASH_HEX];
    if (rc) {
        srv_problem_err(res, req, &err, 0);
    } else if (!srv_no_store(a, req, res)) {
        double exp = days > 0 ? nq_clock_wall_s() + days * 86400.0 : 0;
        rc = nq_apikey_new(a->keys.pepper, key, prefix, hash, &err);
        if (!rc)
            rc = nq_store_apikey_add(a->store, prefix, hash, owner, scopes, exp, actor_of(req),
                                     &err);
        if (rc) {
            store_error(res, req, rc, &err);
        } else {
            /* The key itself is in this answer and nowhere else. */
            json_t *out = json_pack("{s:s, s:s, s:s, s:s}", "key", key, "prefix", prefix,
                                    "owner", owner, "scopes", scopes);
            http_res_json(res, 201, out);
            http_res_header(res, "Cache-Control", "no-store");
            json_decref(out);
        }
        sodium_memzero(key, sizeof key);
    }
    json_decref(doc);
}

void srv_h_admin_key_revoke(srv_app *a, http_req *req, http_res *res, const char *id)
{
    nq_err err;
    if (srv_no_store(a, req, res))
        return;
    int rc = nq_store_apikey_revoke(a->store, id, actor_of(req), &err);
    srv_keycache_drop(a->keycache, id); /* here at once; other nodes within the TTL */
    if (rc)
        store_error(res, req, rc, &err);
    else
        http_res_static(res, 200, "application/json", "{\"revoked\":true}");
}

static int reload_permission(void *user, const char *role, const char *unit, const char *action)
{
    nq_rbac *r = user;
    nq_unit u;
    nq_action act;
    nq_err err;
    if (!nq_unit_parse(unit, &u) && !nq_action_parse(action, &act))
        nq_rbac_grant(r, role, u, act, &err);
    return 0;
}

/* PUT {"permissions": [{"unit": "goliath", "action": "run"}, ...]}: the
 * role's whole set. Refused for admin: an admin cannot lock every admin
 * out by accident. */
void srv_h_admin_role_set(srv_app *a, http_req *req, http_res *res, const char *role)
{
    static const char *const keys[] = {"permissions", NULL};
    json_t *doc = body_object(a, req, res, keys), *perms = NULL;
    if (!doc)
        return;
    nq_err err;
    nq_err_clear(&err);
    int rc = nq_json_get_typed(doc, "", "permissions", 1, JSON_ARRAY, &perms, &err);
    const char *units[NQ_UNITS * NQ_ACTIONS], *actions[NQ_UNITS * NQ_ACTIONS];
    size_t n = json_array_size(perms);
    if (!rc && n > NQ_UNITS * NQ_ACTIONS)
        rc = nq_err_set(&err, NQ_ELIMIT, "/permissions", "at most %d entries", NQ_UNITS * NQ_ACTIONS);
    if (!rc && !strcmp(role, "admin"))
        rc = nq_err_set(&err, NQ_EINVAL, "", "the admin role's permissions are fixed");
    for (size_t i = 0; i < n && !rc; i++) {
        json_t *e = json_array_get(perms, i);
        char ptr[64];
        snprintf(ptr, sizeof ptr, "/permissions/%zu", i);
        nq_unit u;
        nq_action act;
        units[i] = json_string_value(json_object_get(e, "unit"));
        actions[i] = json_string_value(json_object_get(e, "action"));
        if (!json_is_object(e) || json_object_size(e) != 2 || nq_unit_parse(units[i], &u) ||
            nq_action_parse(actions[i], &act))
            rc = nq_err_set(&err, NQ_EINVAL, ptr,
                            "expected {\"unit\": nqba|flyfox|goliath|sigma|system, "
                            "\"action\": read|run|manage}");
    }
    if (rc) {
        srv_problem_err(res, req, &err, 0);
    } else if (!srv_no_store(a, req, res)) {
        rc = nq_store_role_set(a->store, role, units, actions, (int)n, actor_of(req), &err);
        nq_rbac fresh;
        nq_rbac_init(&fresh);
        if (!rc)
            rc = nq_store_permissions(a->store, reload_permission, &fresh, &err);
        if (rc) {
            store_error(res, req, rc, &err);
        } else {
            pthread_rwlock_wrlock(&a->rbac_lock);
            a->rbac = fresh;
            pthread_rwlock_unlock(&a->rbac_lock);
            json_t *out = json_pack("{s:s, s:I}", "role", role, "permissions", (json_int_t)n);
            http_res_json(res, 200, out);
            json_decref(out);
        }
    }
    json_decref(doc);
}
