/* auth_mfa.c - TOTP enrollment (RFC 6238): a signed-in user asks for a
 * secret (POST /api/v1/auth/mfa/enroll answers an otpauth:// URI for an
 * authenticator app), then proves the app has it with a first code
 * (POST /api/v1/auth/mfa/confirm). From then on every login needs a code;
 * for admins only such logins grant admin rights.
 *
 * The secret is stored encrypted (fieldcrypt.h) and bound to the user's
 * row; enrolling again before confirming replaces it, after confirming it
 * is refused (409): replacing a working second factor needs an admin. */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "nqba/clock.h"
#include "nqba/fieldcrypt.h"
#include "nqba/totp.h"
#include "srv.h"

static int current_user(srv_app *a, http_req *req, http_res *res, nq_user_rec *u)
{
    /* srv_authorize let only a user's token through and left it here. */
    const srv_principal *p = req->principal;
    nq_err err;
    if (!p || p->kind != SRV_PRINCIPAL_USER || nq_store_user_get(a->store, p->sub, u, &err)) {
        srv_problem(res, req, 401, "unauthorized", "sign in first", NULL);
        return -1;
    }
    return 0;
}

static void aad_for(const nq_user_rec *u, char aad[96])
{
    snprintf(aad, 96, "users.totp_secret:%s", u->username);
}

void srv_h_mfa_enroll(srv_app *a, http_req *req, http_res *res, const char *id)
{
    (void)id;
    nq_user_rec u;
    if (srv_no_store(a, req, res) || current_user(a, req, res, &u))
        return;
    if (u.totp_confirmed) {
        srv_problem(res, req, 409, "conflict", "TOTP is already set up for this account", NULL);
        return;
    }
    uint8_t key[NQ_TOTP_SECRET_LEN];
    char b32[NQ_BASE32_ENC_LEN(NQ_TOTP_SECRET_LEN)], uri[512], aad[96], *sealed = NULL;
    size_t sealed_len = 0;
    nq_err err;
    aad_for(&u, aad);
    int rc = nq_totp_secret_new(key);
    if (!rc)
        rc = nq_base32_encode(key, sizeof key, 0, b32, sizeof b32);
    if (!rc)
        rc = nq_totp_uri("NQBA", u.username, key, sizeof key, uri, sizeof uri);
    if (!rc)
        rc = nq_field_seal(a->fields, aad, b32, strlen(b32), &sealed, &sealed_len, &err);
    if (!rc)
        rc = nq_store_user_set_totp(a->store, u.id, sealed, 0, -1, &err);
    sodium_memzero(key, sizeof key);
    if (rc) {
        srv_problem(res, req, 503, "unavailable", "cannot store the TOTP secret", NULL);
    } else {
        json_t *out = json_pack("{s:s, s:s}", "otpauth_uri", uri, "secret", b32);
        http_res_json(res, 200, out);
        http_res_header(res, "Cache-Control", "no-store");
        json_decref(out);
    }
    nq_field_free(sealed, sealed_len);
    sodium_memzero(b32, sizeof b32);
    sodium_memzero(uri, sizeof uri);
}

void srv_h_mfa_confirm(srv_app *a, http_req *req, http_res *res, const char *id)
{
    (void)id;
    static const char *const keys[] = {"code", NULL};
    nq_user_rec u;
    json_t *doc = NULL;
    const char *code = NULL;
    nq_err err;
    nq_err_clear(&err);
    if (nq_json_parse(req->body, req->body_len, "request body", &a->json, &doc, &err)) {
        srv_problem_err(res, req, &err, 1);
        return;
    }
    int rc = json_is_object(doc) ? nq_json_check_keys(doc, "", keys, &err)
                                 : nq_err_set(&err, NQ_EINVAL, "", "expected an object");
    if (!rc)
        rc = nq_json_get_string(doc, "", "code", 1, 10, &code, &err);
    if (rc) {
        srv_problem_err(res, req, &err, 0);
    } else if (!srv_no_store(a, req, res) && !current_user(a, req, res, &u)) {
        char aad[96], *plain = NULL;
        size_t plen = 0, klen = 0;
        uint8_t key[NQ_TOTP_KEY_MAX];
        int64_t step = -1;
        aad_for(&u, aad);
        int ok = !u.totp_confirmed && u.totp_secret[0] &&
                 !nq_field_open(a->fields, aad, u.totp_secret, strlen(u.totp_secret), &plain,
                                &plen, &err) &&
                 !nq_base32_decode(plain, plen, key, sizeof key, &klen) &&
                 nq_totp_verify(key, klen, code, (uint64_t)nq_clock_wall_s(), 1, &step) == 1;
        nq_field_free(plain, plen);
        sodium_memzero(key, sizeof key);
        if (!ok) {
            srv_problem(res, req, 422, "invalid-field",
                        u.totp_confirmed ? "TOTP is already set up" : "the code does not match",
                        "/code");
        } else if (nq_store_user_set_totp(a->store, u.id, u.totp_secret, 1, step, &err)) {
            srv_problem(res, req, 503, "unavailable", "cannot store the TOTP state", NULL);
        } else {
            nq_audit_entry e = {u.username, "mfa.enroll", u.username, NULL, NULL, NULL, 0};
            nq_store_audit(a->store, &e, &err);
            http_res_static(res, 200, "application/json",
                            "{\"mfa\":true,\"next\":\"sign in again with a code to use it\"}");
        }
    }
    json_decref(doc);
}
