/* oauth.c - POST /oauth/token: the OAuth 2.0 client-credentials grant
 * (RFC 6749 section 4.4) for machine clients.
 *
 * A client is an API key: its client_id is the key's prefix, its
 * client_secret the key itself, given with HTTP Basic (client_secret_basic,
 * the values form-urlencoded first, RFC 6749 2.3.1) or in the form body
 * (client_secret_post). The access token carries the key's scopes, for as
 * long as an access token lives. Errors are RFC 6749 section 5.2 JSON
 * documents ({"error": "invalid_client"}, ...), not problem documents: that
 * is what OAuth client libraries read. */
#include <ctype.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "nqba/apikey.h"
#include "nqba/clock.h"
#include "nqba/hex.h"
#include "nqba/jwt.h"
#include "srv.h"

#define FIELD_MAX 256
#define ACCESS_TTL_S 900

static void oauth_error(http_res *res, int status, const char *code, const char *why, int basic)
{
    json_t *doc = json_pack("{s:s, s:s}", "error", code, "error_description", why);
    http_res_json(res, status, doc);
    json_decref(doc);
    http_res_header(res, "Cache-Control", "no-store");
    http_res_header(res, "Pragma", "no-cache");
    if (status == 401)
        http_res_header(res, "WWW-Authenticate", basic ? "Basic realm=\"nqba\"" : "Bearer realm=\"nqba\"");
}

/* Percent-decode (and '+' as space) [s, s + n) into out; -1 when malformed
 * or too long. */
static int form_decode(const char *s, size_t n, char *out, size_t cap)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)s[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            int hi = i + 2 < n ? nq_hex_value(s[i + 1]) : -1, lo = i + 2 < n ? nq_hex_value(s[i + 2]) : -1;
            if (hi < 0 || lo < 0)
                return -1;
            c = hi * 16 + lo;
            i += 2;
        }
        if (c == 0 || k + 1 >= cap)
            return -1;
        out[k++] = (char)c;
    }
    out[k] = '\0';
    return 0;
}

/* The value of name in an application/x-www-form-urlencoded body: 1 found,
 * 0 absent, -1 malformed or given twice (RFC 6749 3.2: parameters must not
 * repeat). */
static int form_get(const char *body, size_t len, const char *name, char *out, size_t cap)
{
    int found = 0;
    size_t nl = strlen(name);
    for (size_t i = 0; i < len;) {
        size_t end = i;
        while (end < len && body[end] != '&')
            end++;
        const char *eq = memchr(body + i, '=', end - i);
        if (eq && (size_t)(eq - (body + i)) == nl && !memcmp(body + i, name, nl)) {
            if (found || form_decode(eq + 1, (size_t)(body + end - eq - 1), out, cap))
                return -1;
            found = 1;
        }
        i = end + 1;
    }
    return found;
}

/* client_id:client_secret from "Authorization: Basic ...": 1, 0 (none), -1. */
static int basic_credentials(const http_req *req, char *id, char *secret)
{
    const char *h = http_req_header(req, "Authorization");
    if (!h || strncasecmp(h, "Basic ", 6) != 0)
        return 0;
    h += 6;
    size_t n = strlen(h), got = 0;
    if (n > 4 * FIELD_MAX)
        return -1;
    for (size_t i = 0; i < n; i++) /* libsodium reads bytes >= 0x80 as a letter */
        if (!(isalnum((unsigned char)h[i]) || h[i] == '+' || h[i] == '/' || h[i] == '='))
            return -1;
    char raw[3 * FIELD_MAX];
    const char *end = NULL;
    if (sodium_base642bin((unsigned char *)raw, sizeof raw - 1, h, n, NULL, &got, &end,
                          sodium_base64_VARIANT_ORIGINAL) != 0 || *end)
        return -1;
    raw[got] = '\0';
    char *colon = strchr(raw, ':');
    if (!colon || form_decode(raw, (size_t)(colon - raw), id, FIELD_MAX) ||
        form_decode(colon + 1, strlen(colon + 1), secret, FIELD_MAX))
        return -1;
    sodium_memzero(raw, sizeof raw);
    return 1;
}

void srv_h_oauth_token(srv_app *a, http_req *req, http_res *res, const char *rid)
{
    (void)rid;
    const char *ct = http_req_header(req, "Content-Type");
    char grant[64], id[FIELD_MAX], secret[FIELD_MAX], scope[FIELD_MAX];
    if (!ct || strncasecmp(ct, "application/x-www-form-urlencoded", 33) != 0) {
        oauth_error(res, 400, "invalid_request",
                    "the body must be application/x-www-form-urlencoded", 0);
        return;
    }
    char form_id[FIELD_MAX], form_secret[FIELD_MAX];
    int g = form_get(req->body, req->body_len, "grant_type", grant, sizeof grant);
    int basic = basic_credentials(req, id, secret);
    int fid = form_get(req->body, req->body_len, "client_id", form_id, sizeof form_id);
    int fsec = form_get(req->body, req->body_len, "client_secret", form_secret, sizeof form_secret);
    int fscope = form_get(req->body, req->body_len, "scope", scope, sizeof scope);
    if (basic == 0 && fid == 1 && fsec == 1) { /* client_secret_post */
        memcpy(id, form_id, sizeof id);
        memcpy(secret, form_secret, sizeof secret);
    }
    sodium_memzero(form_secret, sizeof form_secret);
    if (g < 0 || basic < 0 || fid < 0 || fsec < 0 || fscope < 0 || (basic > 0 && (fid || fsec))) {
        oauth_error(res, 400, "invalid_request", "malformed or repeated parameters", basic > 0);
        return;
    }
    if (g == 0) {
        oauth_error(res, 400, "invalid_request", "grant_type is required", basic > 0);
        return;
    }
    if (strcmp(grant, "client_credentials") != 0) {
        oauth_error(res, 400, "unsupported_grant_type", "only client_credentials is offered",
                    basic > 0);
        return;
    }
    if (srv_no_store(a, req, res))
        return;
    char prefix[9];
    nq_err err;
    nq_apikey_rec rec;
    double now = nq_clock_wall_s();
    int ok = (basic > 0 || (fid == 1 && fsec == 1)) && !nq_apikey_parse(secret, prefix, &err) &&
             !strcmp(prefix, id) && !nq_store_apikey_get(a->store, prefix, &rec, &err) &&
             nq_apikey_check(a->keys.pepper, secret, rec.key_hash) && rec.revoked_at == 0 &&
             (rec.expires_at == 0 || now < rec.expires_at);
    sodium_memzero(secret, sizeof secret);
    if (!ok) {
        oauth_error(res, 401, "invalid_client", "client authentication failed", basic > 0);
        return;
    }
    /* A requested scope must be the key's own (narrowing is not offered). */
    if (fscope == 1 && strcmp(scope, rec.scopes) != 0) {
        oauth_error(res, 400, "invalid_scope", "the client may only ask for its own scopes",
                    basic > 0);
        return;
    }
    nq_jwt_claims c;
    memset(&c, 0, sizeof c);
    snprintf(c.sub, sizeof c.sub, "client:%s", prefix);
    snprintf(c.scope, sizeof c.scope, "%.256s", rec.scopes); /* stored scopes are <= 256 */
    snprintf(c.iss, sizeof c.iss, "nqba");
    snprintf(c.aud, sizeof c.aud, "nqba-api");
    c.iat = (int64_t)now;
    c.exp = c.iat + ACCESS_TTL_S;
    char token[NQ_JWT_TOKEN_MAX + 1];
    if (nq_jwt_sign(&a->jwt, &c, token, sizeof token, &err)) {
        oauth_error(res, 500, "server_error", "cannot sign a token", 0);
        return;
    }
    json_t *doc = json_pack("{s:s, s:s, s:i, s:s}", "access_token", token, "token_type", "Bearer",
                            "expires_in", ACCESS_TTL_S, "scope", rec.scopes);
    http_res_json(res, 200, doc);
    json_decref(doc);
    http_res_header(res, "Cache-Control", "no-store");
    http_res_header(res, "Pragma", "no-cache");
}
