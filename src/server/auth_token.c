/* auth_token.c - logging in and access tokens.
 *
 * POST /api/v1/auth/token takes a username and password (and a TOTP code
 * once the user enrolled) and answers a short-lived HS256 access token
 * (jwt.h) carrying the user's role and whether TOTP was passed. An admin's
 * token only works for admin routes when it was (srv_authorize); until
 * the admin enrolls it works only for the enrollment routes.
 *
 * Guessing is slowed three ways: every failure costs an argon2id hash
 * (unknown users too, against a dummy, so the answer time does not reveal
 * which names exist); after LOCK_AFTER failures in a row an account is
 * locked for a time that doubles with each further failure, up to
 * LOCK_MAX_S; and a TOTP code is accepted once (its step must be newer than
 * the last one used). Every failure and lock is audited. A disabled user
 * (PATCH /api/v1/admin/users/{name}) can neither sign in nor refresh. */
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nqba/clock.h"
#include "nqba/fieldcrypt.h"
#include "nqba/jwt.h"
#include "nqba/password.h"
#include "nqba/sha256.h"
#include "nqba/totp.h"
#include "srv.h"

#define ISSUER "nqba"
#define AUDIENCE "nqba-api"
#define LEEWAY_S 30
#define ACCESS_TTL_S 900
#define LOCK_AFTER 5
#define LOCK_MAX_S 900.0
#define REFRESH_TTL_S (14 * 86400.0)

int srv_auth_token(srv_app *a, const char *token, srv_principal *p)
{
    nq_jwt_expect x = {ISSUER, AUDIENCE, LEEWAY_S};
    nq_jwt_claims c;
    nq_err err;
    if (nq_jwt_verify(&a->jwt, token, &x, (int64_t)nq_clock_wall_s(), &c, &err))
        return -1;
    snprintf(p->sub, sizeof p->sub, "%s", c.sub);
    if (!c.role[0]) { /* a client's token (oauth.c): its key's scopes */
        p->kind = SRV_PRINCIPAL_KEY;
        snprintf(p->scopes, sizeof p->scopes, "%s", c.scope);
        return 0;
    }
    p->kind = SRV_PRINCIPAL_USER;
    snprintf(p->role, sizeof p->role, "%s", c.role);
    p->mfa = c.mfa;
    return 0;
}

static void audit(srv_app *a, const char *actor, const char *action, const char *target,
                  const char *detail)
{
    nq_audit_entry e = {actor, action, target, NULL, NULL, detail, 0};
    nq_err err;
    if (nq_store_audit(a->store, &e, &err))
        srv_log_event(&a->log, "error", "audit append failed", "detail", err.msg);
}

static void login_failed(srv_app *a, http_req *req, http_res *res, const char *user,
                         const char *why)
{
    char detail[160];
    snprintf(detail, sizeof detail, "{\"why\":\"%s\",\"remote\":\"%.64s\"}", why, req->remote);
    audit(a, user, "login.failed", user, detail);
    srv_problem(res, req, 401, "unauthorized", "invalid username, password or code", NULL);
}

/* A failure against a known account: count it, lock from LOCK_AFTER on. */
static void count_failure(srv_app *a, const nq_user_rec *u)
{
    int n = u->failed_logins + 1;
    double until = 0;
    if (n >= LOCK_AFTER) {
        until = nq_clock_wall_s() + fmin(LOCK_MAX_S, pow(2.0, n - LOCK_AFTER));
        char detail[64];
        snprintf(detail, sizeof detail, "{\"failures\":%d}", n);
        audit(a, u->username, "login.locked", u->username, detail);
    }
    nq_err err;
    nq_store_user_set_login(a->store, u->id, n, until, &err);
}

static int totp_key(srv_app *a, const nq_user_rec *u, uint8_t *key, size_t *klen)
{
    char aad[96], *plain = NULL;
    size_t plen = 0;
    nq_err err;
    snprintf(aad, sizeof aad, "users.totp_secret:%s", u->username);
    if (nq_field_open(a->fields, aad, u->totp_secret, strlen(u->totp_secret), &plain, &plen,
                      &err))
        return -1;
    int rc = nq_base32_decode(plain, plen, key, NQ_TOTP_KEY_MAX, klen);
    nq_field_free(plain, plen);
    return rc ? -1 : 0;
}

static void hex_random(char *out, size_t bytes)
{
    unsigned char raw[32];
    randombytes_buf(raw, bytes);
    sodium_bin2hex(out, bytes * 2 + 1, raw, bytes);
}

static void token_hash(const char *token, char out[65])
{
    uint8_t d[NQ_SHA256_LEN];
    nq_sha256(token, strlen(token), d);
    nq_sha256_hex(d, out);
}

/* A new refresh token of family (NULL: a new family), stored by hash. */
static int new_refresh(srv_app *a, const nq_user_rec *u, int mfa, const char *family,
                       char token[64])
{
    unsigned char raw[32];
    char b64[48], id[33], fam[33], hash[65];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2base64(b64, sizeof b64, raw, sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof raw);
    snprintf(token, 64, "nqr_%s", b64);
    hex_random(id, 16);
    if (family)
        snprintf(fam, sizeof fam, "%s", family);
    else
        hex_random(fam, 16);
    token_hash(token, hash);
    double now = nq_clock_wall_s();
    nq_err err;
    return nq_store_refresh_add(a->store, id, fam, u->id, hash, mfa, now, now + REFRESH_TTL_S,
                                &err);
}

static void issue(srv_app *a, http_req *req, http_res *res, const nq_user_rec *u, int mfa,
                  const char *family)
{
    int64_t now = (int64_t)nq_clock_wall_s();
    nq_jwt_claims c;
    memset(&c, 0, sizeof c);
    snprintf(c.sub, sizeof c.sub, "%s", u->username);
    snprintf(c.role, sizeof c.role, "%s", u->role);
    snprintf(c.iss, sizeof c.iss, ISSUER);
    snprintf(c.aud, sizeof c.aud, AUDIENCE);
    c.iat = now;
    c.exp = now + ACCESS_TTL_S;
    c.mfa = mfa;
    char token[NQ_JWT_TOKEN_MAX + 1], refresh[64];
    nq_err err;
    if (nq_jwt_sign(&a->jwt, &c, token, sizeof token, &err)) {
        srv_problem(res, req, 500, "internal", "cannot sign a token", NULL);
        return;
    }
    if (new_refresh(a, u, mfa, family, refresh)) {
        srv_problem(res, req, 503, "unavailable", "cannot store the refresh token", NULL);
        return;
    }
    json_t *out = json_pack("{s:s, s:s, s:i, s:b, s:s}", "access_token", token, "token_type",
                            "Bearer", "expires_in", ACCESS_TTL_S, "mfa", mfa, "refresh_token",
                            refresh);
    sodium_memzero(refresh, sizeof refresh);
    http_res_json(res, 200, out);
    http_res_header(res, "Cache-Control", "no-store");
    json_decref(out);
}

void srv_h_auth_token(srv_app *a, http_req *req, http_res *res, const char *id)
{
    (void)id;
    static const char *const keys[] = {"username", "password", "totp", NULL};
    json_t *doc = NULL;
    const char *user = NULL, *pw = NULL, *code = NULL;
    nq_err err;
    nq_err_clear(&err);
    if (nq_json_parse(req->body, req->body_len, "request body", &a->json, &doc, &err)) {
        srv_problem_err(res, req, &err, 1);
        return;
    }
    int rc = json_is_object(doc) ? nq_json_check_keys(doc, "", keys, &err)
                                 : nq_err_set(&err, NQ_EINVAL, "", "expected an object");
    if (!rc)
        rc = nq_json_get_string(doc, "", "username", 1, NQ_STORE_USERNAME_MAX, &user, &err);
    if (!rc)
        rc = nq_json_get_string(doc, "", "password", 1, 1024, &pw, &err);
    if (!rc)
        rc = nq_json_get_string(doc, "", "totp", 0, 10, &code, &err);
    if (rc || srv_no_store(a, req, res)) {
        if (rc)
            srv_problem_err(res, req, &err, 0);
        json_decref(doc);
        return;
    }
    nq_user_rec u;
    int rehash = 0;
    int found = nq_store_user_get(a->store, user, &u, &err) == NQ_OK;
    double now = nq_clock_wall_s();
    if (found && u.locked_until > now) {
        char after[24];
        snprintf(after, sizeof after, "%.0f", ceil(u.locked_until - now));
        audit(a, user, "login.refused", user, "{\"why\":\"locked\"}");
        srv_problem(res, req, 429, "locked", "too many failed logins; try again later", NULL);
        http_res_header(res, "Retry-After", nq_arena_strdup(req->arena, after));
    } else if (!found) {
        nq_pw_dummy_verify(a->hasher, pw, strlen(pw));
        login_failed(a, req, res, user, "password");
    } else if (u.disabled) {
        /* The work and the answer of a wrong password: neither tells that
         * the account is disabled. No failure is counted: the answer is
         * 401 whatever the password, so guessing learns nothing. */
        nq_pw_dummy_verify(a->hasher, pw, strlen(pw));
        login_failed(a, req, res, user, "disabled");
    } else if (nq_pw_verify(a->hasher, u.password_hash, pw, strlen(pw), &rehash, &err) != NQ_OK) {
        count_failure(a, &u);
        login_failed(a, req, res, user, "password");
    } else if (u.totp_confirmed && !code) {
        srv_problem(res, req, 401, "unauthorized", "a TOTP code is required (\"totp\")", NULL);
    } else {
        uint8_t key[NQ_TOTP_KEY_MAX];
        size_t klen = 0;
        int64_t step = -1;
        int mfa_ok = u.totp_confirmed && totp_key(a, &u, key, &klen) == 0 &&
                     nq_totp_verify(key, klen, code, (uint64_t)now, 1, &step) == 1 &&
                     step > u.totp_last_step;
        if (u.totp_confirmed && !mfa_ok) {
            count_failure(a, &u);
            login_failed(a, req, res, user, "totp");
        } else {
            if (u.totp_confirmed)
                nq_store_user_set_totp(a->store, u.id, u.totp_secret, 1, step, &err);
            nq_store_user_set_login(a->store, u.id, 0, 0, &err);
            char fresh[NQ_PW_STRBYTES];
            if (rehash && !nq_pw_hash(a->hasher, pw, strlen(pw), fresh, &err))
                nq_store_user_set_password(a->store, u.id, fresh, &err); /* new parameters */
            audit(a, user, "login", user, u.totp_confirmed ? "{\"mfa\":true}" : "{\"mfa\":false}");
            issue(a, req, res, &u, u.totp_confirmed, NULL);
        }
        sodium_memzero(key, sizeof key);
    }
    json_decref(doc);
}

/* {"refresh_token": "..."} of the refresh and logout routes. */
static int refresh_arg(srv_app *a, http_req *req, http_res *res, json_t **doc, const char **tok)
{
    static const char *const keys[] = {"refresh_token", NULL};
    nq_err err;
    nq_err_clear(&err);
    if (nq_json_parse(req->body, req->body_len, "request body", &a->json, doc, &err)) {
        srv_problem_err(res, req, &err, 1);
        return -1;
    }
    int rc = json_is_object(*doc) ? nq_json_check_keys(*doc, "", keys, &err)
                                  : nq_err_set(&err, NQ_EINVAL, "", "expected an object");
    if (!rc)
        rc = nq_json_get_string(*doc, "", "refresh_token", 1, 128, tok, &err);
    if (rc) {
        srv_problem_err(res, req, &err, 0);
        return -1;
    }
    return srv_no_store(a, req, res) ? -1 : 0;
}

void srv_h_auth_refresh(srv_app *a, http_req *req, http_res *res, const char *id)
{
    (void)id;
    json_t *doc = NULL;
    const char *tok = NULL;
    if (refresh_arg(a, req, res, &doc, &tok) == 0) {
        char hash[65], user[65], family[40];
        int mfa = 0;
        nq_err err;
        nq_user_rec u;
        token_hash(tok, hash);
        int rc = nq_store_refresh_use(a->store, hash, nq_clock_wall_s(), user, &mfa, family, &err);
        if (!rc)
            rc = nq_store_user_get(a->store, user, &u, &err);
        if (rc == NQ_EUNAVAIL)
            srv_problem(res, req, 503, "unavailable", "the store is unavailable", NULL);
        else if (rc || u.disabled) /* disabling also expired the user's tokens */
            srv_problem(res, req, 401, "unauthorized", "invalid refresh token", NULL);
        else
            issue(a, req, res, &u, mfa, family);
    }
    json_decref(doc);
}

void srv_h_auth_logout(srv_app *a, http_req *req, http_res *res, const char *id)
{
    (void)id;
    json_t *doc = NULL;
    const char *tok = NULL;
    if (refresh_arg(a, req, res, &doc, &tok) == 0) {
        char hash[65];
        nq_err err;
        token_hash(tok, hash);
        int rc = nq_store_refresh_revoke(a->store, hash, nq_clock_wall_s(), &err);
        if (rc == NQ_ENOTFOUND)
            srv_problem(res, req, 401, "unauthorized", "invalid refresh token", NULL);
        else if (rc)
            srv_problem(res, req, 503, "unavailable", "the store is unavailable", NULL);
        else
            http_res_static(res, 200, "application/json", "{\"revoked\":true}");
    }
    json_decref(doc);
}
