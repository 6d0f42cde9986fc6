/* admin_routes.c - /api/v1/admin/...: what admins see and change
 * (system:manage, so for users only with a TOTP sign-in): users, API keys
 * and the permissions table. Every change is audited by the store under
 * the admin's name; a permission change also reloads the table the server
 * checks requests against. The lists never carry a password hash, a TOTP
 * secret or a key's hash: the store's list rows do not hold them. */
#include <errno.h>
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

/* ---- lists ---- */

/* ?limit= (1..NQ_STORE_LIST_MAX) and ?after_id= (an id, 0 or more); -1
 * after answering 400. */
static int page_args(const http_req *req, http_res *res, int *limit, int64_t *after_id)
{
    static const char *const known[] = {"limit", "after_id", NULL};
    if (srv_args_known(req, res, known))
        return -1;
    const char *lv = srv_arg(req, "limit"), *av = srv_arg(req, "after_id");
    char *end;
    *limit = NQ_STORE_LIST_DEFAULT;
    *after_id = 0;
    if (lv) {
        errno = 0;
        long n = strtol(lv, &end, 10);
        if (!lv[0] || *end || errno || n < 1 || n > NQ_STORE_LIST_MAX) {
            char detail[96];
            snprintf(detail, sizeof detail, "query parameter limit: expected 1..%d",
                     NQ_STORE_LIST_MAX);
            srv_problem(res, req, 400, "bad-query", detail, NULL);
            return -1;
        }
        *limit = (int)n;
    }
    if (av) {
        errno = 0;
        long long n = strtoll(av, &end, 10);
        if (!av[0] || *end || errno || n < 0) {
            srv_problem(res, req, 400, "bad-query",
                        "query parameter after_id: expected an id (0 or more)", NULL);
            return -1;
        }
        *after_id = n;
    }
    return 0;
}

/* Rows appended to items; last_id is the page's last, for next_after_id. */
typedef struct list_out {
    json_t *items;
    int64_t last_id;
    int failed; /* out of memory */
} list_out;

static json_t *time_or_null(double t)
{
    return t > 0 ? json_real(t) : json_null();
}

static int list_add(list_out *o, int64_t id, json_t *item)
{
    if (!item || json_array_append_new(o->items, item)) {
        o->failed = 1;
        return 1;
    }
    o->last_id = id;
    return 0;
}

static int add_user(void *user, const nq_user_info *u)
{
    json_t *item = json_pack("{s:I, s:s, s:s, s:b, s:b, s:o, s:i, s:f}", "id", (json_int_t)u->id,
                             "username", u->username, "role", u->role, "totp_enabled",
                             u->totp_enabled, "disabled", u->disabled, "locked_until",
                             time_or_null(u->locked_until), "failed_logins", u->failed_logins,
                             "created_at", u->created_at);
    return list_add(user, u->id, item);
}

static int add_key(void *user, const nq_apikey_info *k)
{
    json_t *item = json_pack("{s:I, s:s, s:s, s:s, s:o, s:o, s:f}", "id", (json_int_t)k->id,
                             "prefix", k->prefix, "owner", k->owner, "scopes", k->scopes,
                             "expires_at", time_or_null(k->expires_at), "revoked_at",
                             time_or_null(k->revoked_at), "created_at", k->created_at);
    return list_add(user, k->id, item);
}

/* {name: [...], "next_after_id": id} (the member only when more exist). */
static void list_answer(http_req *req, http_res *res, const char *name, list_out *o, int more,
                        int rc, const nq_err *err)
{
    if (!rc && o->failed) {
        srv_problem(res, req, 500, "internal", "out of memory", NULL);
        json_decref(o->items);
        return;
    }
    json_t *doc = json_object();
    json_object_set_new(doc, name, o->items);
    if (more)
        json_object_set_new(doc, "next_after_id", json_integer((json_int_t)o->last_id));
    srv_query_answer(req, res, rc, err, doc);
}

void srv_h_admin_users_list(srv_app *a, http_req *req, http_res *res, const char *id)
{
    (void)id;
    int limit, more = 0;
    int64_t after_id;
    if (page_args(req, res, &limit, &after_id) || srv_no_store(a, req, res))
        return;
    list_out o = {json_array(), 0, 0};
    nq_err err;
    nq_err_clear(&err);
    int rc = nq_store_users_list(a->store, after_id, limit, add_user, &o, &more, &err);
    list_answer(req, res, "users", &o, more, rc, &err);
}

void srv_h_admin_keys_list(srv_app *a, http_req *req, http_res *res, const char *id)
{
    (void)id;
    int limit, more = 0;
    int64_t after_id;
    if (page_args(req, res, &limit, &after_id) || srv_no_store(a, req, res))
        return;
    list_out o = {json_array(), 0, 0};
    nq_err err;
    nq_err_clear(&err);
    int rc = nq_store_apikeys_list(a->store, after_id, limit, add_key, &o, &more, &err);
    list_answer(req, res, "api_keys", &o, more, rc, &err);
}

/* Rows come by role name: a new name starts a new role object. */
static int add_role_row(void *user, const char *role, const char *unit, const char *action)
{
    list_out *o = user;
    size_t n = json_array_size(o->items);
    json_t *last = n ? json_array_get(o->items, n - 1) : NULL;
    json_t *perms;
    if (!last || strcmp(json_string_value(json_object_get(last, "name")), role) != 0) {
        perms = json_array();
        if (list_add(o, 0, json_pack("{s:s, s:o}", "name", role, "permissions", perms)))
            return 1;
    } else {
        perms = json_object_get(last, "permissions");
    }
    if (unit && json_array_append_new(perms, json_pack("{s:s, s:s}", "unit", unit, "action",
                                                        action))) {
        o->failed = 1;
        return 1;
    }
    return 0;
}

void srv_h_admin_roles_list(srv_app *a, http_req *req, http_res *res, const char *id)
{
    (void)id;
    static const char *const known[] = {NULL};
    if (srv_args_known(req, res, known) || srv_no_store(a, req, res))
        return;
    list_out o = {json_array(), 0, 0};
    nq_err err;
    nq_err_clear(&err);
    int rc = nq_store_roles_list(a->store, add_role_row, &o, &err);
    list_answer(req, res, "roles", &o, 0, rc, &err);
}

/* ---- changing a user ---- */

/* An admin may not disable themselves or give up their own role (admin):
 * done by the last admin, that would leave nobody to undo it. Keys have
 * no account to lose. */
static int self_check(const http_req *req, const char *username, const char *role, int disabled,
                      nq_err *err)
{
    const srv_principal *p = req->principal;
    if (!p || p->kind != SRV_PRINCIPAL_USER || strcmp(p->sub, username) != 0)
        return NQ_OK;
    if (disabled == 1)
        return nq_err_set(err, NQ_EINVAL, "/disabled", "admins cannot disable themselves");
    if (role && strcmp(role, p->role) != 0)
        return nq_err_set(err, NQ_EINVAL, "/role",
                          "admins cannot change their own role; another admin can");
    return NQ_OK;
}

/* PATCH {"role"?: name, "disabled"?: bool}, at least one. */
void srv_h_admin_user_update(srv_app *a, http_req *req, http_res *res, const char *username)
{
    static const char *const keys[] = {"role", "disabled", NULL};
    json_t *doc = body_object(a, req, res, keys);
    if (!doc)
        return;
    const char *role = NULL;
    int disabled = -1;
    nq_err err;
    nq_err_clear(&err);
    int rc = nq_json_get_string(doc, "", "role", 0, 31, &role, &err);
    if (!rc)
        rc = nq_json_get_bool(doc, "", "disabled", 0, &disabled, &err);
    if (!rc && !role && disabled < 0)
        rc = nq_err_set(&err, NQ_EINVAL, "", "give \"role\", \"disabled\" or both");
    if (!rc)
        rc = self_check(req, username, role, disabled, &err);
    if (rc) {
        srv_problem_err(res, req, &err, 0);
    } else if (!srv_no_store(a, req, res)) {
        rc = nq_store_user_update(a->store, username, role, disabled, actor_of(req), &err);
        if (rc) {
            store_error(res, req, rc, &err);
        } else {
            nq_user_rec u;
            rc = nq_store_user_get(a->store, username, &u, &err);
            json_t *out = rc ? json_pack("{s:s}", "username", username)
                             : json_pack("{s:s, s:s, s:b}", "username", username, "role",
                                         u.role, "disabled", u.disabled);
            sodium_memzero(&u, sizeof u); /* it held the password hash */
            http_res_json(res, 200, out);
            json_decref(out);
        }
    }
    json_decref(doc);
}
