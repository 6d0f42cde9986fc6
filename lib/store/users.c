/* users.c - users and the permissions table. Authentication itself
 * (password checks, tokens, lockout) is the service's; the store keeps the
 * records and audits their changes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nqba/clock.h"
#include "store_internal.h"

static const char SQL_ADD[] =
    "INSERT INTO users (username, password_hash, role, created_at) VALUES ($1, $2, $3, $4)";
static const char SQL_ID[] = "SELECT id FROM users WHERE username = $1";
static const char SQL_GET[] =
    "SELECT id, username, password_hash, role, totp_secret, totp_confirmed, totp_last_step, "
    "disabled, failed_logins, locked_until FROM users WHERE username = $1";
static const char SQL_PERMS[] = "SELECT role, unit, action FROM permissions";
static const char SQL_SET_PW[] = "UPDATE users SET password_hash = $2 WHERE id = $1";
static const char SQL_WITH_TOTP[] =
    "SELECT id, username, password_hash, role, totp_secret, totp_confirmed, totp_last_step, "
    "disabled, failed_logins, locked_until FROM users WHERE totp_secret IS NOT NULL ORDER BY id";
static const char SQL_KEY_REVOKE[] =
    "UPDATE api_keys SET revoked_at = $2 WHERE prefix = $1 AND revoked_at IS NULL";
static const char SQL_ROLE_EXISTS[] = "SELECT count(*) FROM roles WHERE name = $1";
static const char SQL_PERM_CLEAR[] = "DELETE FROM permissions WHERE role = $1";
static const char SQL_PERM_ADD[] = "INSERT INTO permissions (role, unit, action) VALUES ($1, $2, $3)";
static const char SQL_SET_LOGIN[] =
    "UPDATE users SET failed_logins = $2, locked_until = $3 WHERE id = $1";
static const char SQL_SET_TOTP[] =
    "UPDATE users SET totp_secret = $2, totp_confirmed = $3, totp_last_step = $4 WHERE id = $1";
static const char SQL_KEY_ADD[] =
    "INSERT INTO api_keys (prefix, key_hash, owner, scopes, expires_at, created_at) "
    "VALUES ($1, $2, $3, $4, $5, $6)";
static const char SQL_KEY_GET[] =
    "SELECT id, prefix, key_hash, owner, scopes, expires_at, revoked_at FROM api_keys "
    "WHERE prefix = $1";

static int name_ok(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n < 1 || n > NQ_STORE_USERNAME_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '@' || c == '-'))
            return 0;
    }
    return 1;
}

static int read_id(void *user, int n, const char *const *vals, const size_t *lens)
{
    (void)lens;
    if (n > 0 && vals[0])
        *(int64_t *)user = strtoll(vals[0], NULL, 10);
    return 1;
}

int nq_store_user_add(nq_store *s, const char *username, const char *password_hash,
                      const char *role, const char *actor, int64_t *id, nq_err *err)
{
    if (!name_ok(username))
        return nq_err_set(err, NQ_EINVAL, "username", "1..%d of letters, digits, '_.@-'",
                          NQ_STORE_USERNAME_MAX);
    if (!password_hash || !password_hash[0] || strlen(password_hash) >= 256 || !role)
        return nq_err_set(err, NQ_EINVAL, "password_hash", "a user needs a password hash");
    char at[32];
    snprintf(at, sizeof at, "%.6f", nq_clock_wall_s());
    const char *p[4] = {username, password_hash, role, at};
    nq__db *db;
    int rc = nq__tx_begin(s, &db, err);
    if (rc)
        return rc;
    rc = s->drv->exec(db, SQL_ADD, 4, p, NULL, NULL, NULL, err);
    if (rc == NQ_EINVAL)
        nq_err_set(err, NQ_EINVAL, "username",
                   "user '%s' exists already, or role '%s' is not a role", username, role);
    int64_t new_id = 0;
    if (!rc)
        rc = s->drv->exec(db, SQL_ID, 1, p, read_id, &new_id, NULL, err);
    char detail[64];
    snprintf(detail, sizeof detail, "{\"role\":\"%.31s\"}", role);
    nq_audit_entry e = {actor ? actor : "system", "user.create", username, NULL, NULL, detail, 0};
    if (!rc)
        rc = nq__audit_append(s, db, &e, err);
    rc = nq__tx_end(s, db, rc, err);
    if (!rc && id)
        *id = new_id;
    return rc;
}

static void copy(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

static int take_user(void *user, int n, const char *const *v, const size_t *lens)
{
    (void)lens;
    nq_user_rec *u = user;
    if (n != 10 || !v[0])
        return 1;
    u->id = strtoll(v[0], NULL, 10);
    copy(u->username, sizeof u->username, v[1]);
    copy(u->password_hash, sizeof u->password_hash, v[2]);
    copy(u->role, sizeof u->role, v[3]);
    copy(u->totp_secret, sizeof u->totp_secret, v[4]);
    u->totp_confirmed = v[5] && (v[5][0] == '1' || v[5][0] == 't');
    u->totp_last_step = v[6] ? strtoll(v[6], NULL, 10) : -1;
    u->disabled = v[7] && (v[7][0] == '1' || v[7][0] == 't');
    u->failed_logins = v[8] ? atoi(v[8]) : 0;
    u->locked_until = v[9] ? strtod(v[9], NULL) : 0;
    return 1;
}

int nq_store_user_get(nq_store *s, const char *username, nq_user_rec *out, nq_err *err)
{
    memset(out, 0, sizeof *out);
    if (!name_ok(username))
        return nq_err_set(err, NQ_ENOTFOUND, "username", "no such user");
    const char *p[1] = {username};
    int rc = nq__exec1(s, SQL_GET, 1, p, take_user, out, NULL, err);
    if (!rc && !out->id)
        rc = nq_err_set(err, NQ_ENOTFOUND, "username", "no such user");
    return rc;
}

typedef struct perm_walk {
    nq_store_perm_fn fn;
    void *user;
} perm_walk;

static int take_perm(void *user, int n, const char *const *v, const size_t *lens)
{
    (void)lens;
    perm_walk *w = user;
    return n == 3 && v[0] && v[1] && v[2] ? w->fn(w->user, v[0], v[1], v[2]) : 0;
}

int nq_store_permissions(nq_store *s, nq_store_perm_fn fn, void *user, nq_err *err)
{
    perm_walk w = {fn, user};
    return nq__exec1(s, SQL_PERMS, 0, NULL, take_perm, &w, NULL, err);
}

int nq_store_apikey_add(nq_store *s, const char *prefix, const char *key_hash, const char *owner,
                        const char *scopes, double expires_at, const char *actor, nq_err *err)
{
    if (!prefix || !prefix[0] || strlen(prefix) > 15 || !key_hash || strlen(key_hash) > 71)
        return nq_err_set(err, NQ_EINVAL, "prefix", "a key needs its prefix and hash");
    if (!owner || !owner[0] || strlen(owner) > 64)
        return nq_err_set(err, NQ_EINVAL, "owner", "1..64 bytes");
    if (!scopes || !scopes[0] || strlen(scopes) > 256)
        return nq_err_set(err, NQ_EINVAL, "scopes", "1..256 bytes");
    char at[32], exp[32];
    snprintf(at, sizeof at, "%.6f", nq_clock_wall_s());
    snprintf(exp, sizeof exp, "%.6f", expires_at);
    const char *p[6] = {prefix, key_hash, owner, scopes, expires_at > 0 ? exp : NULL, at};
    nq__db *db;
    int rc = nq__tx_begin(s, &db, err);
    if (rc)
        return rc;
    rc = s->drv->exec(db, SQL_KEY_ADD, 6, p, NULL, NULL, NULL, err);
    nq_audit_entry e = {actor ? actor : "system", "apikey.create", prefix, NULL, NULL, NULL, 0};
    if (!rc)
        rc = nq__audit_append(s, db, &e, err);
    return nq__tx_end(s, db, rc, err);
}

static int take_key(void *user, int n, const char *const *v, const size_t *lens)
{
    (void)lens;
    nq_apikey_rec *k = user;
    if (n != 7 || !v[0])
        return 1;
    k->id = strtoll(v[0], NULL, 10);
    copy(k->prefix, sizeof k->prefix, v[1]);
    copy(k->key_hash, sizeof k->key_hash, v[2]);
    copy(k->owner, sizeof k->owner, v[3]);
    copy(k->scopes, sizeof k->scopes, v[4]);
    k->expires_at = v[5] ? strtod(v[5], NULL) : 0;
    k->revoked_at = v[6] ? strtod(v[6], NULL) : 0;
    return 1;
}

int nq_store_apikey_get(nq_store *s, const char *prefix, nq_apikey_rec *out, nq_err *err)
{
    memset(out, 0, sizeof *out);
    const char *p[1] = {prefix};
    int rc = nq__exec1(s, SQL_KEY_GET, 1, p, take_key, out, NULL, err);
    if (!rc && !out->id)
        rc = nq_err_set(err, NQ_ENOTFOUND, "prefix", "no such key");
    return rc;
}

int nq_store_user_set_login(nq_store *s, int64_t id, int failed_logins, double locked_until,
                            nq_err *err)
{
    char ids[24], n[16], until[32];
    snprintf(ids, sizeof ids, "%lld", (long long)id);
    snprintf(n, sizeof n, "%d", failed_logins);
    snprintf(until, sizeof until, "%.6f", locked_until);
    const char *p[3] = {ids, n, locked_until > 0 ? until : NULL};
    return nq__exec1(s, SQL_SET_LOGIN, 3, p, NULL, NULL, NULL, err);
}

int nq_store_user_set_totp(nq_store *s, int64_t id, const char *secret, int confirmed,
                           int64_t last_step, nq_err *err)
{
    char ids[24], step[24];
    snprintf(ids, sizeof ids, "%lld", (long long)id);
    snprintf(step, sizeof step, "%lld", (long long)last_step);
    const char *p[4] = {ids, secret && secret[0] ? secret : NULL, confirmed ? "1" : "0",
                        last_step >= 0 ? step : NULL};
    return nq__exec1(s, SQL_SET_TOTP, 4, p, NULL, NULL, NULL, err);
}

int nq_store_apikey_revoke(nq_store *s, const char *prefix, const char *actor, nq_err *err)
{
    char at[32];
    snprintf(at, sizeof at, "%.6f", nq_clock_wall_s());
    const char *p[2] = {prefix, at};
    int64_t changed = 0;
    nq__db *db;
    int rc = nq__tx_begin(s, &db, err);
    if (rc)
        return rc;
    rc = s->drv->exec(db, SQL_KEY_REVOKE, 2, p, NULL, NULL, &changed, err);
    if (!rc && changed == 0)
        rc = nq_err_set(err, NQ_ENOTFOUND, "prefix", "no live key with that prefix");
    nq_audit_entry e = {actor ? actor : "system", "apikey.revoke", prefix, NULL, NULL, NULL, 0};
    if (!rc)
        rc = nq__audit_append(s, db, &e, err);
    return nq__tx_end(s, db, rc, err);
}

int nq_store_role_set(nq_store *s, const char *role, const char *const *units,
                      const char *const *actions, int n, const char *actor, nq_err *err)
{
    nq__db *db;
    int64_t exists = 0;
    int rc = nq__tx_begin(s, &db, err);
    if (rc)
        return rc;
    const char *r[1] = {role};
    rc = s->drv->exec(db, SQL_ROLE_EXISTS, 1, r, read_id, &exists, NULL, err);
    if (!rc && !exists)
        rc = nq_err_set(err, NQ_ENOTFOUND, "role", "no role named '%s'", role);
    if (!rc)
        rc = s->drv->exec(db, SQL_PERM_CLEAR, 1, r, NULL, NULL, NULL, err);
    char detail[1024];
    size_t k = (size_t)snprintf(detail, sizeof detail, "{\"permissions\":[");
    for (int i = 0; i < n && !rc; i++) {
        const char *p[3] = {role, units[i], actions[i]};
        rc = s->drv->exec(db, SQL_PERM_ADD, 3, p, NULL, NULL, NULL, err);
        if (k < sizeof detail)
            k += (size_t)snprintf(detail + k, sizeof detail - k, "%s\"%s:%s\"", i ? "," : "",
                                  units[i], actions[i]);
    }
    if (k < sizeof detail)
        snprintf(detail + k, sizeof detail - k, "]}");
    nq_audit_entry e = {actor ? actor : "system", "permission.change", role, NULL, NULL,
                        k < sizeof detail - 2 ? detail : NULL, 0};
    if (!rc)
        rc = nq__audit_append(s, db, &e, err);
    return nq__tx_end(s, db, rc, err);
}

int nq_store_user_set_password(nq_store *s, int64_t id, const char *password_hash, nq_err *err)
{
    char ids[24];
    snprintf(ids, sizeof ids, "%lld", (long long)id);
    const char *p[2] = {ids, password_hash};
    return nq__exec1(s, SQL_SET_PW, 2, p, NULL, NULL, NULL, err);
}

typedef struct user_walk {
    nq_store_user_fn fn;
    void *user;
} user_walk;

static int each_user(void *user, int n, const char *const *v, const size_t *lens)
{
    user_walk *w = user;
    nq_user_rec u;
    memset(&u, 0, sizeof u);
    take_user(&u, n, v, lens);
    return u.id ? w->fn(w->user, &u) : 0;
}

int nq_store_users_with_totp(nq_store *s, nq_store_user_fn fn, void *user, nq_err *err)
{
    user_walk w = {fn, user};
    return nq__exec1(s, SQL_WITH_TOTP, 0, NULL, each_user, &w, NULL, err);
}

/* ---- what admins see and change ---- */

static const char SQL_USERS_LIST[] =
    "SELECT id, username, role, (totp_secret IS NOT NULL AND totp_confirmed), disabled, "
    "failed_logins, locked_until, created_at FROM users WHERE id > CAST($1 AS BIGINT) "
    "ORDER BY id LIMIT CAST($2 AS INTEGER)";
static const char SQL_KEYS_LIST[] =
    "SELECT id, prefix, owner, scopes, expires_at, revoked_at, created_at FROM api_keys "
    "WHERE id > CAST($1 AS BIGINT) ORDER BY id LIMIT CAST($2 AS INTEGER)";
static const char SQL_USER_UPDATE[] =
    "UPDATE users SET role = COALESCE($2, role), disabled = COALESCE($3, disabled) "
    "WHERE id = $1";
/* Expiring rather than revoking: a revoked token presented again reads as
 * a stolen one replayed (refresh_use audits "token.reuse"); an expired one
 * is just unknown. */
static const char SQL_REFRESH_END[] =
    "UPDATE refresh_tokens SET expires_at = $2 WHERE user_id = $1 AND expires_at > $2";
static const char SQL_ROLES_LIST[] =
    "SELECT r.name, p.unit, p.action FROM roles r LEFT JOIN permissions p ON p.role = r.name "
    "ORDER BY r.name, p.unit, p.action";

static int truthy(const char *v)
{
    return v && (v[0] == '1' || v[0] == 't');
}

/* One page of a list: the query asks for limit + 1 rows; the extra one
 * only says that more exist. */
typedef struct page_walk {
    int limit, seen, more;
    nq_store_user_info_fn user_fn;
    nq_store_apikey_info_fn key_fn;
    void *user;
} page_walk;

static int page_row(page_walk *w)
{
    if (w->seen++ < w->limit)
        return 0;
    w->more = 1;
    return 1;
}

static int each_user_info(void *user, int n, const char *const *v, const size_t *lens)
{
    (void)lens;
    page_walk *w = user;
    if (n != 8 || !v[0])
        return 0;
    if (page_row(w))
        return 1;
    nq_user_info u;
    memset(&u, 0, sizeof u);
    u.id = strtoll(v[0], NULL, 10);
    copy(u.username, sizeof u.username, v[1]);
    copy(u.role, sizeof u.role, v[2]);
    u.totp_enabled = truthy(v[3]);
    u.disabled = truthy(v[4]);
    u.failed_logins = v[5] ? atoi(v[5]) : 0;
    u.locked_until = v[6] ? strtod(v[6], NULL) : 0;
    u.created_at = v[7] ? strtod(v[7], NULL) : 0;
    return w->user_fn(w->user, &u);
}

static int each_key_info(void *user, int n, const char *const *v, const size_t *lens)
{
    (void)lens;
    page_walk *w = user;
    if (n != 7 || !v[0])
        return 0;
    if (page_row(w))
        return 1;
    nq_apikey_info k;
    memset(&k, 0, sizeof k);
    k.id = strtoll(v[0], NULL, 10);
    copy(k.prefix, sizeof k.prefix, v[1]);
    copy(k.owner, sizeof k.owner, v[2]);
    copy(k.scopes, sizeof k.scopes, v[3]);
    k.expires_at = v[4] ? strtod(v[4], NULL) : 0;
    k.revoked_at = v[5] ? strtod(v[5], NULL) : 0;
    k.created_at = v[6] ? strtod(v[6], NULL) : 0;
    return w->key_fn(w->user, &k);
}

static int run_page(nq_store *s, const char *sql, nq__row_fn row, page_walk *w, int64_t after_id,
                    int *more, nq_err *err)
{
    if (more)
        *more = 0;
    if (w->limit < 1 || w->limit > NQ_STORE_LIST_MAX)
        return nq_err_set(err, NQ_EINVAL, "limit", "1..%d", NQ_STORE_LIST_MAX);
    if (after_id < 0)
        return nq_err_set(err, NQ_EINVAL, "after_id", "an id, 0 or more");
    char after[24], lim[16];
    snprintf(after, sizeof after, "%lld", (long long)after_id);
    snprintf(lim, sizeof lim, "%d", w->limit + 1);
    const char *p[2] = {after, lim};
    int rc = nq__exec1(s, sql, 2, p, row, w, NULL, err);
    if (!rc && more)
        *more = w->more;
    return rc;
}

int nq_store_users_list(nq_store *s, int64_t after_id, int limit, nq_store_user_info_fn fn,
                        void *user, int *more, nq_err *err)
{
    page_walk w = {limit, 0, 0, fn, NULL, user};
    return run_page(s, SQL_USERS_LIST, each_user_info, &w, after_id, more, err);
}

int nq_store_apikeys_list(nq_store *s, int64_t after_id, int limit, nq_store_apikey_info_fn fn,
                          void *user, int *more, nq_err *err)
{
    page_walk w = {limit, 0, 0, NULL, fn, user};
    return run_page(s, SQL_KEYS_LIST, each_key_info, &w, after_id, more, err);
}

/* {"role": ..., "disabled": ...} with what the update asked for (malloc'd). */
static char *update_detail(const char *role, int disabled)
{
    json_t *d = json_object();
    if (d && role)
        json_object_set_new(d, "role", json_string(role));
    if (d && disabled >= 0)
        json_object_set_new(d, "disabled", json_boolean(disabled));
    char *text = d ? json_dumps(d, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(d);
    return text;
}

/* The statements of an update, inside the caller's transaction. */
static int update_in_tx(nq_store *s, nq__db *db, const char *username, const char *role,
                        int disabled, const char *detail, const char *actor, nq_err *err)
{
    int64_t id = 0, role_found = 0;
    const char *u[1] = {username};
    int rc = s->drv->exec(db, SQL_ID, 1, u, read_id, &id, NULL, err);
    if (!rc && !id)
        return nq_err_set(err, NQ_ENOTFOUND, "username", "no such user");
    const char *r[1] = {role};
    if (!rc && role)
        rc = s->drv->exec(db, SQL_ROLE_EXISTS, 1, r, read_id, &role_found, NULL, err);
    if (!rc && role && !role_found)
        return nq_err_set(err, NQ_EINVAL, "role", "no role named '%.31s'", role);
    char ids[24], at[32];
    snprintf(ids, sizeof ids, "%lld", (long long)id);
    snprintf(at, sizeof at, "%.6f", nq_clock_wall_s());
    const char *p[3] = {ids, role, disabled < 0 ? NULL : disabled ? "1" : "0"};
    if (!rc)
        rc = s->drv->exec(db, SQL_USER_UPDATE, 3, p, NULL, NULL, NULL, err);
    const char *q[2] = {ids, at};
    if (!rc && disabled == 1)
        rc = s->drv->exec(db, SQL_REFRESH_END, 2, q, NULL, NULL, NULL, err);
    nq_audit_entry e = {actor ? actor : "system", "user.update", username, NULL, NULL, detail, 0};
    if (!rc)
        rc = nq__audit_append(s, db, &e, err);
    return rc;
}

int nq_store_user_update(nq_store *s, const char *username, const char *role, int disabled,
                         const char *actor, nq_err *err)
{
    if (!name_ok(username))
        return nq_err_set(err, NQ_ENOTFOUND, "username", "no such user");
    if (role && (!role[0] || strlen(role) > 31))
        return nq_err_set(err, NQ_EINVAL, "role", "no role named '%.31s'", role);
    if (disabled < -1 || disabled > 1)
        return nq_err_set(err, NQ_EINVAL, "disabled", "-1 (keep), 0 or 1");
    if (!role && disabled < 0)
        return nq_err_set(err, NQ_EINVAL, "", "nothing to change: give a role or disabled");
    char *detail = update_detail(role, disabled);
    if (!detail)
        return nq_err_set(err, NQ_ENOMEM, "detail", "out of memory");
    nq__db *db;
    int rc = nq__tx_begin(s, &db, err);
    if (!rc) {
        rc = update_in_tx(s, db, username, role, disabled, detail, actor, err);
        rc = nq__tx_end(s, db, rc, err);
    }
    free(detail);
    return rc;
}

typedef struct role_walk {
    nq_store_role_fn fn;
    void *user;
} role_walk;

static int each_role_row(void *user, int n, const char *const *v, const size_t *lens)
{
    (void)lens;
    role_walk *w = user;
    if (n != 3 || !v[0])
        return 0;
    /* A role without permissions comes once, with NULL unit and action. */
    return w->fn(w->user, v[0], v[1] && v[2] ? v[1] : NULL, v[1] && v[2] ? v[2] : NULL);
}

int nq_store_roles_list(nq_store *s, nq_store_role_fn fn, void *user, nq_err *err)
{
    role_walk w = {fn, user};
    return nq__exec1(s, SQL_ROLES_LIST, 0, NULL, each_role_row, &w, NULL, err);
}
