/* test_auth_matrix.c - every route, called by every kind of caller, against
 * an allow/deny table written out here by hand.
 *
 * Callers: a user of each built-in role (the admin signed in with TOTP), an
 * admin whose sign-in skipped TOTP, an API key scoped "nqba:read", nobody,
 * an expired token and a tampered one. A route the server serves that has
 * no row here fails the test: adding a route means deciding who may call
 * it. Outcomes: 401 (no principal), 403 (denied), anything else (the
 * handler ran: allowed, whatever it then answered). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "http_client.h"
#include "nqba/clock.h"
#include "nqba/jwt.h"
#include "nqba/totp.h"
#include "srv.h"

/* Columns: admin, analyst, operator, viewer, auditor, admin without TOTP,
 * the nqba:read key. 'y' allowed, 'n' denied (403); public routes let
 * everyone in, anonymous callers included; "self" routes are for any
 * signed-in user (not keys). */
enum { C_ADMIN, C_ANALYST, C_OPERATOR, C_VIEWER, C_AUDITOR, C_ADMIN_NOMFA, C_KEY, N_CALLERS };
static const char *const ROLE_OF[N_CALLERS] = {"admin",   "analyst", "operator", "viewer",
                                               "auditor", "admin",   NULL};

typedef struct expect {
    const char *method, *pattern;
    const char *allow; /* N_CALLERS of y/n, or "public" */
} expect;

static const expect TABLE[] = {
    {"GET", "/", "public"},
    {"GET", "/ui/{id}", "public"},
    {"GET", "/healthz", "public"},
    {"GET", "/readyz", "public"},
    {"GET", "/openapi.json", "public"},
    {"POST", "/api/v1/auth/token", "public"},
    {"POST", "/api/v1/auth/refresh", "public"},
    {"POST", "/api/v1/auth/logout", "public"},
    {"POST", "/oauth/token", "public"},
    {"POST", "/api/v1/admin/users", "ynnnnnn"},
    {"POST", "/api/v1/admin/api-keys", "ynnnnnn"},
    {"DELETE", "/api/v1/admin/api-keys/{id}", "ynnnnnn"},
    {"PUT", "/api/v1/admin/roles/{id}", "ynnnnnn"},
    {"GET", "/api/v1/admin/users", "ynnnnnn"},
    {"PATCH", "/api/v1/admin/users/{id}", "ynnnnnn"},
    {"GET", "/api/v1/admin/api-keys", "ynnnnnn"},
    {"GET", "/api/v1/admin/roles", "ynnnnnn"},
    {"GET", "/metrics", "yynnynn"},
    {"POST", "/api/v1/solve", "yyynnnn"},
    {"POST", "/api/v1/nqba/decision-engine", "yyynnnn"},
    {"POST", "/api/v1/goliath/portfolio-optimization", "yyynnnn"},
    {"POST", "/api/v1/goliath/risk-assessment", "yyynnnn"},
    {"POST", "/api/v1/nqba/business-assessment", "yyynnnn"},
    {"GET", "/api/v1/nqba/business-assessment/{id}/report", "yyyyyny"},
    {"GET", "/api/v1/nqba/business-assessment/{id}/diff", "yyyyyny"},
    {"POST", "/api/v1/flyfox/energy-optimization", "yyynnnn"},
    {"POST", "/api/v1/sigma/models", "yyynnnn"},
    {"GET", "/api/v1/sigma/models", "yyyyynn"},
    {"GET", "/api/v1/sigma/models/{id}", "yyyyynn"},
    {"POST", "/api/v1/sigma/lead-scoring", "yyynnnn"},
    {"POST", "/api/v1/sigma/lead-assignment", "yyynnnn"},
    {"POST", "/api/v1/flyfox/unit-commitment", "yyynnnn"},
    {"GET", "/api/v1/jobs/{id}", "yyyyyny"},
    {"DELETE", "/api/v1/jobs/{id}", "yyynnnn"},
    {"GET", "/api/v1/jobs/{id}/events", "yyyyyny"},
    {"GET", "/api/v1/decisions", "yynnynn"},
    {"GET", "/api/v1/decisions/{id}", "yynnynn"},
    {"GET", "/api/v1/audit/verify", "yynnynn"},
    {"POST", "/api/v1/nqba/models", "ynnnnnn"},
    {"GET", "/api/v1/nqba/models/{id}", "yyyyyny"},
    {"GET", "/api/v1/analytics/summary", "yynnynn"},
    {"POST", "/api/v1/auth/mfa/enroll", "yyyyyyn"},
    {"POST", "/api/v1/auth/mfa/confirm", "yyyyyyn"},
};
#define N_TABLE (sizeof TABLE / sizeof TABLE[0])

static http_server g_srv;
static char g_tok[N_CALLERS][4200];

static void run_cli(const char *args, const char *stdin_text, char *out, size_t cap)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "printf '%%s\\n' '%s' | '%s' %s --db '%s' 2>&1", stdin_text,
             getenv("NQ_BIN"), args, g_srv.db);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, cap - 1, p);
    out[n] = '\0';
    if (pclose(p) != 0)
        fail_msg("nqba %s: %s", args, out);
}

static char g_refresh[128]; /* the viewer's first refresh token */

static void sign_in(const char *user, const char *pw, const char *totp, char *tok, size_t cap,
                    int expect_mfa)
{
    char body[256];
    snprintf(body, sizeof body, "{\"username\":\"%s\",\"password\":\"%s\"%s%s%s}", user, pw,
             totp ? ",\"totp\":\"" : "", totp ? totp : "", totp ? "\"" : "");
    http_resp r;
    http_post_json(g_srv.port, "/api/v1/auth/token", "Authorization: Basic x\r\n", body, &r);
    http_expect_status(&r, 200, "sign in");
    json_t *doc = http_json(&r);
    snprintf(tok, cap, "%s", json_string_value(json_object_get(doc, "access_token")));
    assert_int_equal(json_is_true(json_object_get(doc, "mfa")), expect_mfa);
    if (!strcmp(user, "u_viewer"))
        snprintf(g_refresh, sizeof g_refresh, "%s",
                 json_string_value(json_object_get(doc, "refresh_token")));
    json_decref(doc);
    http_resp_free(&r);
}

/* The admin: sign in without a code (a token good for enrollment only),
 * enroll, confirm with a code, sign in again with the next code. */
static void admin_with_totp(void)
{
    char auth[4300], out[512];
    run_cli("user add ada --role admin --password-stdin", "pw-admin-1", out, sizeof out);
    sign_in("ada", "pw-admin-1", NULL, g_tok[C_ADMIN_NOMFA], sizeof g_tok[0], 0);
    snprintf(auth, sizeof auth, "Authorization: Bearer %.4199s\r\n", g_tok[C_ADMIN_NOMFA]);
    http_resp r;
    http_post_json(g_srv.port, "/api/v1/auth/mfa/enroll", auth, "{}", &r);
    http_expect_status(&r, 200, "enroll");
    json_t *doc = http_json(&r);
    const char *b32 = json_string_value(json_object_get(doc, "secret"));
    const char *uri = json_string_value(json_object_get(doc, "otpauth_uri"));
    assert_non_null(strstr(uri, "otpauth://totp/NQBA:ada?secret="));
    uint8_t key[64];
    size_t klen = 0;
    assert_int_equal(nq_base32_decode(b32, strlen(b32), key, sizeof key, &klen), NQ_OK);
    json_decref(doc);
    http_resp_free(&r);
    uint64_t now = (uint64_t)nq_clock_wall_s();
    char code[NQ_TOTP_CODE_MAX], body[64];
    assert_int_equal(nq_totp_code(key, klen, now - 30, 6, code), NQ_OK); /* the previous step */
    snprintf(body, sizeof body, "{\"code\":\"%s\"}", code);
    http_post_json(g_srv.port, "/api/v1/auth/mfa/confirm", auth, body, &r);
    http_expect_status(&r, 200, "confirm");
    http_resp_free(&r);
    /* The same step again is a replay; the current one signs in. */
    snprintf(body, sizeof body, "{\"username\":\"ada\",\"password\":\"pw-admin-1\",\"totp\":\"%s\"}",
             code);
    http_post_json(g_srv.port, "/api/v1/auth/token", "Authorization: Basic x\r\n", body, &r);
    http_expect_status(&r, 401, "replayed code");
    http_resp_free(&r);
    assert_int_equal(nq_totp_code(key, klen, now, 6, code), NQ_OK);
    sign_in("ada", "pw-admin-1", code, g_tok[C_ADMIN], sizeof g_tok[0], 1);
}

static int setup(void **state)
{
    (void)state;
    http_server_start(&g_srv, NULL);
    char out[512], args[128], pw[64];
    for (int c = C_ANALYST; c <= C_AUDITOR; c++) {
        snprintf(args, sizeof args, "user add u_%s --role %s --password-stdin", ROLE_OF[c],
                 ROLE_OF[c]);
        snprintf(pw, sizeof pw, "pw-%s-1", ROLE_OF[c]);
        run_cli(args, pw, out, sizeof out);
        char user[64];
        snprintf(user, sizeof user, "u_%s", ROLE_OF[c]);
        sign_in(user, pw, NULL, g_tok[c], sizeof g_tok[0], 0);
    }
    admin_with_totp();
    run_cli("apikey add --owner matrix --scopes nqba:read", "", out, sizeof out);
    const char *key = strstr(out, "nqba_"); /* the key's own line; the note went to stderr */
    assert_non_null(key);
    snprintf(g_tok[C_KEY], sizeof g_tok[0], "%.*s", (int)strcspn(key, "\n"), key);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    http_server_stop(&g_srv, 10);
    http_server_cleanup(&g_srv);
    return 0;
}

static int call(const char *method, const char *pattern, const char *auth_header)
{
    char path[256];
    const char *id = "0123456789abcdef0123456789abcdef";
    const char *brace = strchr(pattern, '{');
    if (brace)
        snprintf(path, sizeof path, "%.*s%s%s", (int)(brace - pattern), pattern, id,
                 strchr(brace, '}') + 1);
    else
        snprintf(path, sizeof path, "%s", pattern);
    int post = !strcmp(method, "POST");
    char headers[4400];
    snprintf(headers, sizeof headers, "%s%s", auth_header,
             post ? "Content-Type: application/json\r\n" : "");
    http_resp r;
    http_do(g_srv.port, method, path, headers, post ? "{}" : NULL, post ? 2 : 0, &r);
    int status = r.status;
    http_resp_free(&r);
    return status;
}

static const expect *row_for(const srv_route *rt)
{
    for (size_t i = 0; i < N_TABLE; i++)
        if (!strcmp(TABLE[i].method, rt->method) && !strcmp(TABLE[i].pattern, rt->pattern))
            return &TABLE[i];
    return NULL;
}

static void test_matrix(void **state)
{
    (void)state;
    size_t n = 0;
    const srv_route *routes = srv_routes(&n);
    assert_int_equal(n, N_TABLE); /* and every row is a served route */
    char auth[4300];
    /* An expired token signed with the server's own key, and a valid one
     * with a byte of its signature changed. */
    char path[600], spec[2048] = "", expired[4200], tampered[4200];
    snprintf(path, sizeof path, "%s/nqba.secrets", g_srv.dir);
    size_t len = 0;
    char *secrets = http_slurp(path, &len);
    assert_non_null(secrets);
    const char *line = strstr(secrets, "jwt_keys = ");
    assert_non_null(line);
    snprintf(spec, sizeof spec, "%.*s", (int)strcspn(line + 11, "\n"), line + 11);
    free(secrets);
    nq_jwt_keyring ring;
    nq_err err;
    nq_jwt_keyring_init(&ring);
    assert_int_equal(nq_jwt_keyring_parse(&ring, spec, &err), NQ_OK);
    nq_jwt_claims c;
    memset(&c, 0, sizeof c);
    snprintf(c.sub, sizeof c.sub, "ada");
    snprintf(c.role, sizeof c.role, "admin");
    snprintf(c.iss, sizeof c.iss, "nqba");
    snprintf(c.aud, sizeof c.aud, "nqba-api");
    c.iat = (int64_t)nq_clock_wall_s() - 7200;
    c.exp = c.iat + 900;
    c.mfa = 1;
    assert_int_equal(nq_jwt_sign(&ring, &c, expired, sizeof expired, &err), NQ_OK);
    nq_jwt_keyring_wipe(&ring);
    snprintf(tampered, sizeof tampered, "%s", g_tok[C_ADMIN]);
    char *sig = strrchr(tampered, '.') + 1;
    sig[3] = sig[3] == 'A' ? 'B' : 'A';

    for (size_t i = 0; i < n; i++) {
        const srv_route *rt = &routes[i];
        const expect *e = row_for(rt);
        if (!e)
            fail_msg("route %s %s has no row in the authorization table", rt->method,
                     rt->pattern);
        int public = !strcmp(e->allow, "public");
        assert_int_equal(public, rt->access == SRV_PUBLIC);
        if (!public)
            assert_int_equal(strlen(e->allow), N_CALLERS);
        for (int k = 0; k < N_CALLERS; k++) {
            snprintf(auth, sizeof auth, "Authorization: Bearer %.4199s\r\n", g_tok[k]);
            int st = call(rt->method, rt->pattern, auth);
            int want = public || e->allow[k] == 'y';
            if ((st != 403 && st != 401) != want)
                fail_msg("%s %s as caller %d (%s): status %d, expected %s", rt->method,
                         rt->pattern, k, ROLE_OF[k] ? ROLE_OF[k] : "nqba:read key", st,
                         want ? "allowed" : "403");
            if (!want && st != 403)
                fail_msg("%s %s as caller %d: %d, expected 403", rt->method, rt->pattern, k, st);
        }
        const char *bad[] = {"Authorization: Basic x\r\n", "Authorization: Bearer \r\n", NULL};
        char exp_h[4300], tam_h[4300];
        snprintf(exp_h, sizeof exp_h, "Authorization: Bearer %.4199s\r\n", expired);
        snprintf(tam_h, sizeof tam_h, "Authorization: Bearer %.4199s\r\n", tampered);
        const char *invalid[] = {exp_h, tam_h, NULL};
        for (int b = 0; bad[b]; b++) {
            int st = call(rt->method, rt->pattern, bad[b]);
            if (public ? (st == 401 || st == 403) : st != 401)
                fail_msg("%s %s without credentials: %d", rt->method, rt->pattern, st);
        }
        for (int b = 0; invalid[b]; b++) {
            int st = call(rt->method, rt->pattern, invalid[b]);
            if (public ? (st == 401 || st == 403) : st != 401)
                fail_msg("%s %s with an %s token: %d", rt->method, rt->pattern,
                         b ? "tampered" : "expired", st);
        }
    }
}

/* Five wrong passwords lock the account; the lock answers 429 with
 * Retry-After, even for the right password, and is audited. */
static void test_lockout(void **state)
{
    (void)state;
    char out[256];
    run_cli("user add lock_me --role viewer --password-stdin", "right-pass-1", out, sizeof out);
    http_resp r;
    for (int i = 0; i < 5; i++) {
        http_post_json(g_srv.port, "/api/v1/auth/token", "Authorization: Basic x\r\n",
                       "{\"username\":\"lock_me\",\"password\":\"wrong\"}", &r);
        http_expect_status(&r, 401, "wrong password");
        http_resp_free(&r);
    }
    http_post_json(g_srv.port, "/api/v1/auth/token", "Authorization: Basic x\r\n",
                   "{\"username\":\"lock_me\",\"password\":\"right-pass-1\"}", &r);
    http_expect_status(&r, 429, "locked");
    char after[16];
    assert_non_null(http_header(&r, "Retry-After", after, sizeof after));
    assert_true(atoi(after) >= 1);
    http_resp_free(&r);
    /* An unknown user is answered like a wrong password. */
    http_post_json(g_srv.port, "/api/v1/auth/token", "Authorization: Basic x\r\n",
                   "{\"username\":\"nobody\",\"password\":\"x\"}", &r);
    http_expect_status(&r, 401, "unknown user");
    assert_non_null(strstr(r.body, "invalid username, password or code"));
    http_resp_free(&r);
    http_get(g_srv.port, "/api/v1/audit/verify", &r);
    http_expect_status(&r, 200, "verify");
    assert_non_null(strstr(r.body, "\"ok\":true"));
    http_resp_free(&r);
}

static int post_refresh(const char *route, const char *token, char *next, size_t cap)
{
    char body[256];
    snprintf(body, sizeof body, "{\"refresh_token\":\"%s\"}", token);
    http_resp r;
    http_post_json(g_srv.port, route, "Authorization: Basic x\r\n", body, &r);
    int st = r.status;
    if (st == 200 && next) {
        json_t *doc = http_json(&r);
        snprintf(next, cap, "%s", json_string_value(json_object_get(doc, "refresh_token")));
        json_decref(doc);
    }
    http_resp_free(&r);
    return st;
}

/* Refresh tokens rotate; one used twice revokes its family (the copy a
 * thief kept and the user's newer one alike); logout revokes too. */
static void test_refresh_rotation(void **state)
{
    (void)state;
    char t1[128], t2[128], t3[128];
    assert_true(g_refresh[0]);
    assert_int_equal(post_refresh("/api/v1/auth/refresh", g_refresh, t1, sizeof t1), 200);
    assert_string_not_equal(t1, g_refresh);
    assert_int_equal(post_refresh("/api/v1/auth/refresh", t1, t2, sizeof t2), 200);
    /* t1 again: reuse. The family is revoked: t2 no longer works either. */
    assert_int_equal(post_refresh("/api/v1/auth/refresh", t1, NULL, 0), 401);
    assert_int_equal(post_refresh("/api/v1/auth/refresh", t2, NULL, 0), 401);
    assert_int_equal(post_refresh("/api/v1/auth/refresh", "nqr_made_up", NULL, 0), 401);
    /* A fresh sign-in, then logout: its refresh token is dead. */
    char access[4200];
    sign_in("u_viewer", "pw-viewer-1", NULL, access, sizeof access, 0);
    snprintf(t3, sizeof t3, "%s", g_refresh);
    assert_int_equal(post_refresh("/api/v1/auth/logout", t3, NULL, 0), 200);
    assert_int_equal(post_refresh("/api/v1/auth/refresh", t3, NULL, 0), 401);
    http_resp r;
    http_get(g_srv.port, "/api/v1/audit/verify", &r);
    assert_non_null(strstr(r.body, "\"ok\":true"));
    http_resp_free(&r);
}

static int oauth(const char *headers, const char *body, char *token, size_t cap, char *err,
                 size_t ecap)
{
    char h[512];
    snprintf(h, sizeof h, "Content-Type: application/x-www-form-urlencoded\r\n%s",
             headers ? headers : "Authorization: Bearer-none\r\n");
    http_resp r;
    http_do(g_srv.port, "POST", "/oauth/token", h, body, strlen(body), &r);
    int st = r.status;
    json_t *doc = http_json(&r);
    if (token && st == 200)
        snprintf(token, cap, "%s", json_string_value(json_object_get(doc, "access_token")));
    if (err && st != 200)
        snprintf(err, ecap, "%s", json_string_value(json_object_get(doc, "error")));
    json_decref(doc);
    http_resp_free(&r);
    return st;
}

/* OAuth 2.0 client credentials: the nqba:read key as a client, by Basic and
 * by form; RFC 6749 errors; the token can do what the key's scopes say. */
static void test_oauth_client_credentials(void **state)
{
    (void)state;
    const char *key = g_tok[C_KEY];
    char prefix[9], body[512], basic[512], b64[400], token[4200], err[64];
    memcpy(prefix, key + 5, 8);
    prefix[8] = '\0';
    snprintf(body, sizeof body, "grant_type=client_credentials&client_id=%s&client_secret=%.64s",
             prefix, key);
    assert_int_equal(oauth(NULL, body, token, sizeof token, NULL, 0), 200);
    char plain[200];
    snprintf(plain, sizeof plain, "%s:%.64s", prefix, key);
    sodium_bin2base64(b64, sizeof b64, (const unsigned char *)plain, strlen(plain),
                      sodium_base64_VARIANT_ORIGINAL);
    snprintf(basic, sizeof basic, "Authorization: Basic %s\r\n", b64);
    assert_int_equal(oauth(basic, "grant_type=client_credentials", token, sizeof token, NULL, 0),
                     200);
    char auth[4300];
    snprintf(auth, sizeof auth, "Authorization: Bearer %.4199s\r\n", token);
    assert_int_not_equal(call("GET", "/api/v1/nqba/models/{id}", auth), 403);
    assert_int_equal(call("POST", "/api/v1/nqba/decision-engine", auth), 403);
    /* Errors, as RFC 6749 5.2 spells them. */
    snprintf(body, sizeof body, "grant_type=client_credentials&client_id=%s&client_secret=%.64sX",
             prefix, key);
    assert_int_equal(oauth(NULL, body, NULL, 0, err, sizeof err), 401);
    assert_string_equal(err, "invalid_client");
    assert_int_equal(oauth(NULL, "client_id=x", NULL, 0, err, sizeof err), 400);
    assert_string_equal(err, "invalid_request");
    assert_int_equal(oauth(basic, "grant_type=password", NULL, 0, err, sizeof err), 400);
    assert_string_equal(err, "unsupported_grant_type");
    assert_int_equal(oauth(basic, "grant_type=client_credentials&grant_type=client_credentials",
                           NULL, 0, err, sizeof err),
                     400);
    assert_int_equal(oauth(basic, "grant_type=client_credentials&scope=system%3Amanage", NULL, 0,
                           err, sizeof err),
                     400);
    assert_string_equal(err, "invalid_scope");
}

/* What an admin changes: a user, an API key (shown once, then revoked),
 * a role's permissions (the server uses the new table at once). */
static void test_admin_routes(void **state)
{
    (void)state;
    char admin[4300], body[512];
    snprintf(admin, sizeof admin, "Authorization: Bearer %.4199s\r\n", g_tok[C_ADMIN]);
    http_resp r;
    http_post_json(g_srv.port, "/api/v1/admin/users", admin,
                   "{\"username\":\"made_by_admin\",\"password\":\"long-enough-pass\","
                   "\"role\":\"analyst\"}",
                   &r);
    http_expect_status(&r, 201, "user");
    http_resp_free(&r);
    http_post_json(g_srv.port, "/api/v1/admin/users", admin,
                   "{\"username\":\"x\",\"password\":\"short\",\"role\":\"analyst\"}", &r);
    http_expect_status(&r, 422, "short password");
    http_resp_free(&r);
    char tok[4200];
    sign_in("made_by_admin", "long-enough-pass", NULL, tok, sizeof tok, 0);

    http_post_json(g_srv.port, "/api/v1/admin/api-keys", admin,
                   "{\"owner\":\"robot\",\"scopes\":\"nqba:run nqba:read\"}", &r);
    http_expect_status(&r, 201, "key");
    json_t *doc = http_json(&r);
    char key[128], prefix[16], auth[256];
    snprintf(key, sizeof key, "%s", json_string_value(json_object_get(doc, "key")));
    snprintf(prefix, sizeof prefix, "%s", json_string_value(json_object_get(doc, "prefix")));
    json_decref(doc);
    http_resp_free(&r);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s\r\n", key);
    assert_int_not_equal(call("POST", "/api/v1/nqba/decision-engine", auth), 403);
    assert_int_equal(call("GET", "/api/v1/decisions", auth), 403);
    snprintf(body, sizeof body, "/api/v1/admin/api-keys/%s", prefix);
    http_do(g_srv.port, "DELETE", body, admin, NULL, 0, &r);
    http_expect_status(&r, 200, "revoke");
    http_resp_free(&r);
    assert_int_equal(call("POST", "/api/v1/nqba/decision-engine", auth), 401);
    http_do(g_srv.port, "DELETE", body, admin, NULL, 0, &r);
    http_expect_status(&r, 404, "revoked twice");
    http_resp_free(&r);

    char viewer[4300];
    snprintf(viewer, sizeof viewer, "Authorization: Bearer %.4199s\r\n", g_tok[C_VIEWER]);
    assert_int_equal(call("POST", "/api/v1/nqba/decision-engine", viewer), 403);
    const char *grant = "{\"permissions\":[{\"unit\":\"nqba\",\"action\":\"read\"},"
                        "{\"unit\":\"nqba\",\"action\":\"run\"}]}";
    char put_h[4400];
    snprintf(put_h, sizeof put_h, "%sContent-Type: application/json\r\n", admin);
    http_do(g_srv.port, "PUT", "/api/v1/admin/roles/viewer", put_h, grant, strlen(grant), &r);
    http_expect_status(&r, 200, "role");
    http_resp_free(&r);
    assert_int_not_equal(call("POST", "/api/v1/nqba/decision-engine", viewer), 403);
    assert_int_equal(call("GET", "/api/v1/nqba/models/x", viewer), 404); /* still reads nqba */
    http_do(g_srv.port, "PUT", "/api/v1/admin/roles/admin", put_h, grant, strlen(grant), &r);
    http_expect_status(&r, 422, "admin is fixed");
    http_resp_free(&r);
    http_get(g_srv.port, "/api/v1/audit/verify", &r);
    assert_non_null(strstr(r.body, "\"ok\":true"));
    http_resp_free(&r);
}

/* An admin's request with the admin's token; body NULL for none. */
static int admin_call(const char *method, const char *path, const char *body, json_t **doc)
{
    char h[4400];
    snprintf(h, sizeof h, "Authorization: Bearer %.4199s\r\n%s", g_tok[C_ADMIN],
             body ? "Content-Type: application/json\r\n" : "");
    http_resp r;
    http_do(g_srv.port, method, path, h, body, body ? strlen(body) : 0, &r);
    int st = r.status;
    if (doc)
        *doc = r.body_len ? http_json(&r) : NULL;
    http_resp_free(&r);
    return st;
}

/* PATCH /api/v1/admin/users/<user>: the status; *pointer (may be NULL) the
 * problem's pointer, or "" when none. */
static int patch_user(const char *user, const char *body, char *pointer, size_t cap)
{
    char path[128];
    snprintf(path, sizeof path, "/api/v1/admin/users/%s", user);
    json_t *doc = NULL;
    int st = admin_call("PATCH", path, body, &doc);
    const char *ptr = json_string_value(json_object_get(doc, "pointer"));
    if (pointer)
        snprintf(pointer, cap, "%s", ptr ? ptr : "");
    json_decref(doc);
    return st;
}

/* Sign in: the status; the tokens when it is 200 (either may be NULL). */
static int try_sign_in(const char *user, const char *pw, char *access, size_t acap, char *refresh,
                       size_t rcap)
{
    char body[256];
    snprintf(body, sizeof body, "{\"username\":\"%s\",\"password\":\"%s\"}", user, pw);
    http_resp r;
    http_post_json(g_srv.port, "/api/v1/auth/token", "Authorization: Basic x\r\n", body, &r);
    int st = r.status;
    if (st == 200) {
        json_t *doc = http_json(&r);
        if (access)
            snprintf(access, acap, "%s", json_string_value(json_object_get(doc, "access_token")));
        if (refresh)
            snprintf(refresh, rcap, "%s",
                     json_string_value(json_object_get(doc, "refresh_token")));
        json_decref(doc);
    }
    http_resp_free(&r);
    return st;
}

/* The users of one GET (or NULL for its status st != 200). */
static json_t *list_page(const char *path, int *st)
{
    json_t *doc = NULL;
    *st = admin_call("GET", path, NULL, &doc);
    return doc;
}

static const json_t *user_named(const json_t *users, const char *name)
{
    for (size_t i = 0; i < json_array_size(users); i++) {
        const json_t *u = json_array_get(users, i);
        if (!strcmp(json_string_value(json_object_get(u, "username")), name))
            return u;
    }
    return NULL;
}

/* Listing shows the users, by id, without a password hash or TOTP secret;
 * pages by limit and after_id walk the same list. */
static void check_users_list(void)
{
    int st;
    char path[128];
    http_resp r;
    char h[4400];
    snprintf(h, sizeof h, "Authorization: Bearer %.4199s\r\n", g_tok[C_ADMIN]);
    http_do(g_srv.port, "GET", "/api/v1/admin/users?limit=1000", h, NULL, 0, &r);
    http_expect_status(&r, 200, "users");
    assert_null(strstr(r.body, "password_hash"));
    assert_null(strstr(r.body, "argon2"));
    assert_null(strstr(r.body, "totp_secret"));
    assert_null(strstr(r.body, "next_after_id"));
    json_t *all = http_json(&r);
    http_resp_free(&r);
    const json_t *users = json_object_get(all, "users");
    size_t n = json_array_size(users);
    assert_true(n >= 8);
    const json_t *ada = user_named(users, "ada"), *lst = user_named(users, "lst_a");
    assert_non_null(ada);
    assert_non_null(lst);
    assert_true(json_is_true(json_object_get(ada, "totp_enabled")));
    assert_true(json_is_false(json_object_get(lst, "totp_enabled")));
    assert_true(json_is_false(json_object_get(lst, "disabled")));
    assert_string_equal(json_string_value(json_object_get(lst, "role")), "analyst");
    assert_true(json_is_null(json_object_get(lst, "locked_until")));
    assert_int_equal(json_integer_value(json_object_get(lst, "failed_logins")), 0);
    assert_true(json_number_value(json_object_get(lst, "created_at")) > 1.6e9);
    /* The account locked by test_lockout shows its lock. */
    const json_t *locked = user_named(users, "lock_me");
    assert_non_null(locked);
    assert_true(json_number_value(json_object_get(locked, "locked_until")) > 1.6e9);
    assert_int_equal(json_integer_value(json_object_get(locked, "failed_logins")), 5);

    /* Pages of one: each next_after_id is the id of the row just shown. */
    json_int_t after = 0;
    for (size_t i = 0; i < n; i++) {
        snprintf(path, sizeof path, "/api/v1/admin/users?limit=1&after_id=%lld",
                 (long long)after);
        json_t *page = list_page(path, &st);
        assert_int_equal(st, 200);
        const json_t *one = json_object_get(page, "users");
        assert_int_equal(json_array_size(one), 1);
        json_int_t id = json_integer_value(json_object_get(json_array_get(one, 0), "id"));
        assert_int_equal(id, json_integer_value(json_object_get(json_array_get(users, i), "id")));
        assert_true(id > after);
        const json_t *next = json_object_get(page, "next_after_id");
        if (i + 1 < n)
            assert_int_equal(json_integer_value(next), id);
        else
            assert_null(next);
        after = id;
        json_decref(page);
    }
    snprintf(path, sizeof path, "/api/v1/admin/users?after_id=%lld", (long long)after);
    json_t *past = list_page(path, &st);
    assert_int_equal(st, 200);
    assert_int_equal(json_array_size(json_object_get(past, "users")), 0);
    json_decref(past);
    json_decref(all);
    const char *bad[] = {"?limit=0", "?limit=1001", "?limit=x", "?after_id=-1", "?after_id=1e3",
                         "?page=2", NULL};
    for (int i = 0; bad[i]; i++) {
        snprintf(path, sizeof path, "/api/v1/admin/users%s", bad[i]);
        json_t *doc = list_page(path, &st);
        if (st != 400)
            fail_msg("%s: %d, expected 400", path, st);
        json_decref(doc);
    }
}

typedef struct audit_find {
    const char *action, *target, *actor, *detail_has;
    int hits;
} audit_find;

static int audit_line(void *user, const char *line, size_t len)
{
    audit_find *f = user;
    json_t *doc = json_loadb(line, len, 0, NULL);
    const char *type = json_string_value(json_object_get(doc, "type"));
    const char *action = json_string_value(json_object_get(doc, "action"));
    const char *target = json_string_value(json_object_get(doc, "target"));
    const char *actor = json_string_value(json_object_get(doc, "actor"));
    const char *detail = json_string_value(json_object_get(doc, "detail"));
    if (type && !strcmp(type, "audit") && action && !strcmp(action, f->action) && target &&
        !strcmp(target, f->target) && actor && !strcmp(actor, f->actor) && detail &&
        strstr(detail, f->detail_has))
        f->hits++;
    json_decref(doc);
    return 0;
}

/* How many audit entries match (read from the server's database). */
static int audit_count(const char *action, const char *target, const char *actor,
                       const char *detail_has)
{
    nq_store *s = NULL;
    nq_err err;
    assert_int_equal(nq_store_open(g_srv.db, 1, &s, &err), NQ_OK);
    audit_find f = {action, target, actor, detail_has, 0};
    assert_int_equal(nq_store_export(s, 0, audit_line, &f, &err), NQ_OK);
    nq_store_close(s);
    return f.hits;
}

/* A role change is audited and in force from the user's next sign-in;
 * disabling stops sign-in and refresh at once (and the refresh tokens
 * stay dead after enabling again). */
static void check_user_update(void)
{
    char access[4200], refresh[128], auth[4300], ptr[64];
    assert_int_equal(try_sign_in("lst_a", "long-enough-pass", access, sizeof access, NULL, 0),
                     200);
    snprintf(auth, sizeof auth, "Authorization: Bearer %.4199s\r\n", access);
    assert_int_not_equal(call("GET", "/api/v1/decisions", auth), 403); /* analyst: system:read */
    assert_int_equal(patch_user("lst_a", "{\"role\":\"viewer\"}", NULL, 0), 200);
    assert_int_equal(try_sign_in("lst_a", "long-enough-pass", access, sizeof access, NULL, 0),
                     200);
    snprintf(auth, sizeof auth, "Authorization: Bearer %.4199s\r\n", access);
    assert_int_equal(call("GET", "/api/v1/decisions", auth), 403); /* viewer: no system:read */
    assert_int_equal(audit_count("user.update", "lst_a", "ada", "\"role\":\"viewer\""), 1);

    assert_int_equal(try_sign_in("lst_b", "long-enough-pass", NULL, 0, refresh, sizeof refresh),
                     200);
    assert_int_equal(patch_user("lst_b", "{\"disabled\":true}", NULL, 0), 200);
    assert_int_equal(try_sign_in("lst_b", "long-enough-pass", NULL, 0, NULL, 0), 401);
    assert_int_equal(post_refresh("/api/v1/auth/refresh", refresh, NULL, 0), 401);
    assert_int_equal(audit_count("user.update", "lst_b", "ada", "\"disabled\":true"), 1);
    assert_int_equal(patch_user("lst_b", "{\"disabled\":false}", NULL, 0), 200);
    assert_int_equal(try_sign_in("lst_b", "long-enough-pass", NULL, 0, NULL, 0), 200);
    assert_int_equal(post_refresh("/api/v1/auth/refresh", refresh, NULL, 0), 401);

    /* Refusals: themselves, bad bodies, unknown users and roles. */
    assert_int_equal(patch_user("ada", "{\"disabled\":true}", ptr, sizeof ptr), 422);
    assert_string_equal(ptr, "/disabled");
    assert_int_equal(patch_user("ada", "{\"role\":\"viewer\"}", ptr, sizeof ptr), 422);
    assert_string_equal(ptr, "/role");
    assert_int_equal(patch_user("ada", "{\"role\":\"admin\",\"disabled\":false}", NULL, 0), 200);
    assert_int_equal(patch_user("lst_a", "{\"bogus\":1}", ptr, sizeof ptr), 422);
    assert_string_equal(ptr, "/bogus");
    assert_int_equal(patch_user("lst_a", "{\"disabled\":\"yes\"}", ptr, sizeof ptr), 422);
    assert_string_equal(ptr, "/disabled");
    assert_int_equal(patch_user("lst_a", "{\"role\":\"wizard\"}", ptr, sizeof ptr), 422);
    assert_string_equal(ptr, "/role");
    assert_int_equal(patch_user("lst_a", "{}", NULL, 0), 422);
    assert_int_equal(patch_user("lst_a", "[true]", NULL, 0), 422);
    assert_int_equal(patch_user("lst_a", "{\"role\":", NULL, 0), 400);
    assert_int_equal(patch_user("nobody_here", "{\"disabled\":false}", NULL, 0), 404);
    assert_int_equal(audit_count("user.update", "lst_a", "ada", "wizard"), 0);
}

/* The key list shows a new key's prefix and owner, never the key or its hash. */
static void check_keys_list(void)
{
    json_t *doc = NULL;
    assert_int_equal(admin_call("POST", "/api/v1/admin/api-keys",
                                "{\"owner\":\"lister\",\"scopes\":\"nqba:read\"}", &doc),
                     201);
    char key[128], prefix[16];
    snprintf(key, sizeof key, "%s", json_string_value(json_object_get(doc, "key")));
    snprintf(prefix, sizeof prefix, "%s", json_string_value(json_object_get(doc, "prefix")));
    json_decref(doc);
    nq_store *s = NULL;
    nq_err err;
    nq_apikey_rec rec;
    assert_int_equal(nq_store_open(g_srv.db, 1, &s, &err), NQ_OK);
    assert_int_equal(nq_store_apikey_get(s, prefix, &rec, &err), NQ_OK);
    nq_store_close(s);

    char h[4400];
    snprintf(h, sizeof h, "Authorization: Bearer %.4199s\r\n", g_tok[C_ADMIN]);
    http_resp r;
    http_do(g_srv.port, "GET", "/api/v1/admin/api-keys?limit=1000", h, NULL, 0, &r);
    http_expect_status(&r, 200, "keys");
    assert_null(strstr(r.body, rec.key_hash));
    assert_null(strstr(r.body, key));
    assert_null(strstr(r.body, "hash"));
    doc = http_json(&r);
    http_resp_free(&r);
    const json_t *keys = json_object_get(doc, "api_keys"), *mine = NULL;
    assert_true(json_array_size(keys) >= 3);
    for (size_t i = 0; i < json_array_size(keys); i++) {
        const json_t *k = json_array_get(keys, i);
        if (!strcmp(json_string_value(json_object_get(k, "prefix")), prefix))
            mine = k;
    }
    assert_non_null(mine);
    assert_string_equal(json_string_value(json_object_get(mine, "owner")), "lister");
    assert_string_equal(json_string_value(json_object_get(mine, "scopes")), "nqba:read");
    assert_true(json_is_null(json_object_get(mine, "revoked_at")));
    assert_true(json_is_null(json_object_get(mine, "expires_at")));
    json_decref(doc);
    int st;
    doc = list_page("/api/v1/admin/api-keys?limit=1", &st);
    assert_int_equal(st, 200);
    assert_int_equal(json_array_size(json_object_get(doc, "api_keys")), 1);
    assert_true(json_integer_value(json_object_get(doc, "next_after_id")) > 0);
    json_decref(doc);
}

/* Every built-in role with its permissions from the database. */
static void check_roles_list(void)
{
    int st;
    json_t *doc = list_page("/api/v1/admin/roles", &st);
    assert_int_equal(st, 200);
    const json_t *roles = json_object_get(doc, "roles");
    const char *want[] = {"admin", "analyst", "auditor", "operator", "viewer"};
    assert_int_equal(json_array_size(roles), 5);
    for (size_t i = 0; i < 5; i++) {
        const json_t *role = json_array_get(roles, i);
        assert_string_equal(json_string_value(json_object_get(role, "name")), want[i]);
        const json_t *perms = json_object_get(role, "permissions");
        assert_true(json_array_size(perms) >= 1);
        int system_manage = 0;
        for (size_t k = 0; k < json_array_size(perms); k++) {
            const json_t *p = json_array_get(perms, k);
            system_manage |= !strcmp(json_string_value(json_object_get(p, "unit")), "system") &&
                             !strcmp(json_string_value(json_object_get(p, "action")), "manage");
        }
        assert_int_equal(system_manage, i == 0);
    }
    /* The viewer's set as test_admin_routes replaced it. */
    const json_t *viewer = json_object_get(json_array_get(roles, 4), "permissions");
    assert_int_equal(json_array_size(viewer), 2);
    json_decref(doc);
}

/* What an admin reads and changes about users, keys and roles. */
static void test_admin_lists(void **state)
{
    (void)state;
    const char *add[] = {"{\"username\":\"lst_a\",\"password\":\"long-enough-pass\","
                         "\"role\":\"analyst\"}",
                         "{\"username\":\"lst_b\",\"password\":\"long-enough-pass\","
                         "\"role\":\"operator\"}"};
    for (int i = 0; i < 2; i++)
        assert_int_equal(admin_call("POST", "/api/v1/admin/users", add[i], NULL), 201);
    check_users_list();
    check_user_update();
    check_keys_list();
    check_roles_list();
    http_resp r;
    http_get(g_srv.port, "/api/v1/audit/verify", &r);
    assert_non_null(strstr(r.body, "\"ok\":true"));
    http_resp_free(&r);
}

/* Token buckets: per address before authentication, per principal after;
 * 429 with Retry-After; the health checks are never limited. */
static void test_rate_limits(void **state)
{
    (void)state;
    http_server s;
    const char *opts[] = {"--rate-limit-ip", "3", "--rate-limit-principal", "1000", NULL};
    http_server_start(&s, opts);
    int limited = 0, ok = 0;
    http_resp r;
    for (int i = 0; i < 12; i++) { /* a burst of 2 x 3 fits, then the bucket is dry */
        http_get(s.port, "/api/v1/nqba/models/none", &r);
        if (r.status == 429) {
            char after[16];
            assert_non_null(http_header(&r, "Retry-After", after, sizeof after));
            assert_true(atoi(after) >= 1);
            assert_non_null(strstr(r.body, "rate-limited"));
            limited++;
        } else {
            ok++;
        }
        http_resp_free(&r);
    }
    assert_true(ok >= 6 && ok <= 8); /* 6, and what refilled while the loop ran */
    assert_true(limited >= 4);
    http_get(s.port, "/healthz", &r);
    http_expect_status(&r, 200, "healthz is not limited");
    http_resp_free(&r);
    http_server_stop(&s, 10);
    http_server_cleanup(&s);

    const char *per_p[] = {"--rate-limit-ip", "1000", "--rate-limit-principal", "2", NULL};
    http_server_start(&s, per_p);
    ok = limited = 0;
    for (int i = 0; i < 10; i++) {
        http_get(s.port, "/api/v1/nqba/models/none", &r);
        limited += r.status == 429;
        ok += r.status == 404;
        http_resp_free(&r);
    }
    assert_true(ok >= 4 && ok <= 6);
    assert_true(limited >= 4);
    http_server_stop(&s, 10);
    http_server_cleanup(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matrix),
        cmocka_unit_test(test_lockout),
        cmocka_unit_test(test_refresh_rotation),
        cmocka_unit_test(test_oauth_client_credentials),
        cmocka_unit_test(test_admin_routes),
        cmocka_unit_test(test_admin_lists),
        cmocka_unit_test(test_rate_limits),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
