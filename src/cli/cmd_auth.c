/* cmd_auth.c - `nqba user add` and `nqba apikey add`: the first admin and
 * the first machine keys come from the command line, on the machine that
 * holds the database, never from a default.
 *
 * Both open the store the server uses (--db, $NQBA_DB, var/nqba.db) and
 * the same keys (secrets.c): an API key is stored as a hash peppered with
 * the server's pepper, so the two must agree. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd_auth.h"
#include "nqba/apikey.h"
#include "nqba/fieldcrypt.h"
#include "nqba/jwt.h"
#include "nqba/clock.h"
#include "nqba/password.h"
#include "nqba/store.h"
#include "srv.h"

#define PASSWORD_MAX 1024

typedef struct auth_args {
    const char *db, *role, *owner, *scopes, *name, *secrets_file;
    int password_stdin;
    double expires_days;
} auth_args;

static int usage(const char *cmd, const char *why, const char *arg)
{
    fprintf(stderr, "nqba %s: %s%s%s (see nqba %s --help)\n", cmd, why, arg ? ": " : "",
            arg ? arg : "", cmd);
    return 2;
}

static int parse(const char *cmd, int argc, char **argv, auth_args *a)
{
    memset(a, 0, sizeof *a);
    a->db = getenv("NQBA_DB") && *getenv("NQBA_DB") ? getenv("NQBA_DB") : NQ_STORE_DEFAULT_PATH;
    a->secrets_file = getenv("NQBA_SECRETS_FILE");
    a->scopes = "*";
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(o, "--password-stdin")) {
            a->password_stdin = 1;
            continue;
        }
        if (o[0] != '-') {
            if (a->name)
                return usage(cmd, "more than one name", o);
            a->name = o;
            continue;
        }
        if (!v)
            return usage(cmd, "missing value", o);
        if (!strcmp(o, "--db"))
            a->db = v;
        else if (!strcmp(o, "--role"))
            a->role = v;
        else if (!strcmp(o, "--owner"))
            a->owner = v;
        else if (!strcmp(o, "--scopes"))
            a->scopes = v;
        else if (!strcmp(o, "--secrets-file"))
            a->secrets_file = v;
        else if (!strcmp(o, "--expires-days")) {
            char *end;
            a->expires_days = strtod(v, &end);
            if (*end || !(a->expires_days > 0 && a->expires_days <= 3650))
                return usage(cmd, "--expires-days: expected 0 < days <= 3650", v);
        } else
            return usage(cmd, "unknown option", o);
        i++;
    }
    return 0;
}

static int open_store(const char *cmd, const auth_args *a, nq_store **s)
{
    nq_err err;
    nq_err_clear(&err);
    int rc = nq_store_open(a->db, 1, s, &err);
    if (!rc)
        rc = nq_store_migrate(*s, NULL, &err);
    if (rc) {
        fprintf(stderr, "nqba %s: --db: %s\n", cmd, err.msg);
        nq_store_close(*s);
        *s = NULL;
    }
    return rc ? 1 : 0;
}

static int load_keys(const char *cmd, const auth_args *a, srv_secrets *keys)
{
    srv_config c;
    srv_config_default(&c);
    snprintf(c.db, sizeof c.db, "%s", a->db);
    const char *env[][2] = {{"NQBA_JWT_KEYS", c.jwt_keys},
                            {"NQBA_API_KEY_PEPPER", c.api_key_pepper},
                            {"NQBA_FIELD_KEYS", c.field_keys}};
    for (size_t i = 0; i < sizeof env / sizeof env[0]; i++)
        if (getenv(env[i][0]))
            snprintf((char *)env[i][1], SRV_PATH_MAX, "%s", getenv(env[i][0]));
    c.production = getenv("NQBA_PRODUCTION") && !strcmp(getenv("NQBA_PRODUCTION"), "1");
    if (a->secrets_file)
        snprintf(c.secrets_file, sizeof c.secrets_file, "%s", a->secrets_file);
    nq_err err;
    if (srv_secrets_load(&c, keys, &err)) {
        fprintf(stderr, "nqba %s: %s: %s\n", cmd, err.where, err.msg);
        return 1;
    }
    return 0;
}

/* A password from standard input (one line), or a new random one that is
 * printed once. */
static int get_password(const auth_args *a, char *pw, size_t cap, int *generated)
{
    *generated = 0;
    if (a->password_stdin) {
        if (!fgets(pw, (int)cap, stdin))
            return -1;
        pw[strcspn(pw, "\r\n")] = '\0';
        return pw[0] ? 0 : -1;
    }
    unsigned char raw[24]; /* 192 bits: 32 characters of base64url */
    if (sodium_init() < 0 || cap < 33)
        return -1;
    randombytes_buf(raw, sizeof raw);
    sodium_bin2base64(pw, cap, raw, sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof raw);
    *generated = 1;
    return 0;
}

int cli_user_run(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "add") != 0)
        return usage("user", "expected: user add NAME --role ROLE", NULL);
    auth_args a;
    int rc = parse("user", argc - 1, argv + 1, &a);
    if (rc)
        return rc;
    if (!a.name || !a.role)
        return usage("user", "give a NAME and --role", NULL);
    char pw[PASSWORD_MAX + 2];
    int generated;
    if (get_password(&a, pw, sizeof pw, &generated))
        return usage("user", "no password on standard input", NULL);
    nq_pw_hasher *h = NULL;
    nq_err err;
    char hash[NQ_PW_STRBYTES];
    nq_store *s = NULL;
    if (nq_pw_hasher_new(NULL, &h, &err) || nq_pw_hash(h, pw, strlen(pw), hash, &err)) {
        fprintf(stderr, "nqba user: %s\n", err.msg);
        nq_pw_hasher_free(h);
        return 1;
    }
    nq_pw_hasher_free(h);
    if (open_store("user", &a, &s))
        return 1;
    int64_t id = 0;
    rc = nq_store_user_add(s, a.name, hash, a.role, "cli", &id, &err);
    nq_store_close(s);
    if (rc) {
        fprintf(stderr, "nqba user: %s: %s\n", err.where, err.msg);
        return rc == NQ_EINVAL ? 2 : 1;
    }
    printf("user %s (%s) added", a.name, a.role);
    if (generated)
        printf("; password (shown once): %s", pw);
    printf("\n");
    if (!strcmp(a.role, "admin"))
        printf("admins must enroll TOTP at their first login (POST /api/v1/auth/mfa/enroll)\n");
    sodium_memzero(pw, sizeof pw);
    return 0;
}

int cli_apikey_run(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "add") != 0)
        return usage("apikey", "expected: apikey add --owner NAME [--scopes S]", NULL);
    auth_args a;
    int rc = parse("apikey", argc - 1, argv + 1, &a);
    if (rc)
        return rc;
    if (!a.owner)
        return usage("apikey", "give --owner", NULL);
    srv_secrets keys;
    if (load_keys("apikey", &a, &keys))
        return 1;
    char key[NQ_APIKEY_MAX], prefix[9], hash[NQ_APIKEY_HASH_HEX];
    nq_err err;
    nq_store *s = NULL;
    rc = nq_apikey_new(keys.pepper, key, prefix, hash, &err);
    srv_secrets_wipe(&keys);
    if (rc) {
        fprintf(stderr, "nqba apikey: %s\n", err.msg);
        return 1;
    }
    if (open_store("apikey", &a, &s))
        return 1;
    double expires = a.expires_days > 0 ? nq_clock_wall_s() + a.expires_days * 86400.0 : 0;
    rc = nq_store_apikey_add(s, prefix, hash, a.owner, a.scopes, expires, "cli", &err);
    nq_store_close(s);
    if (rc) {
        fprintf(stderr, "nqba apikey: %s: %s\n", err.where, err.msg);
        return rc == NQ_EINVAL ? 2 : 1;
    }
    /* The key on a line of its own, for scripts; it is not stored anywhere. */
    printf("%s\n", key);
    fprintf(stderr, "nqba apikey: key %s for %s (scopes: %s) - shown once, keep it\n", prefix,
            a.owner, a.scopes);
    return 0;
}

void cli_user_usage(FILE *out)
{
    fprintf(out, "usage: nqba user add NAME --role ROLE [--password-stdin] [--db URL]\n"
                 "  Adds a user (roles: admin, analyst, operator, viewer, auditor). Without\n"
                 "  --password-stdin a random password is made and printed once.\n");
}

void cli_apikey_usage(FILE *out)
{
    fprintf(out, "usage: nqba apikey add --owner NAME [--scopes \"*\" | \"unit:action ...\"]\n"
                 "                        [--expires-days N] [--db URL] [--secrets-file FILE]\n"
                 "  Makes an API key, stores its peppered hash and prints the key once.\n"
                 "  Scopes: unit nqba|flyfox|goliath|sigma|system, action read|run|manage,\n"
                 "  \"unit:*\" for every action, \"*\" for everything.\n");
}

/* ---- nqba keys ---- */

typedef struct reseal_ctx {
    nq_store *s;
    nq_field_ring *ring;
    int changed, failed;
} reseal_ctx;

static int reseal_one(void *user, const nq_user_rec *u)
{
    reseal_ctx *c = user;
    char aad[96], *out = NULL;
    size_t out_len = 0;
    int changed = 0;
    nq_err err;
    snprintf(aad, sizeof aad, "users.totp_secret:%s", u->username);
    if (nq_field_reseal(c->ring, aad, u->totp_secret, strlen(u->totp_secret), &out, &out_len,
                        &changed, &err)) {
        fprintf(stderr, "nqba keys: user %s: %s\n", u->username, err.msg);
        c->failed++;
        return 0;
    }
    if (changed && !nq_store_user_set_totp(c->s, u->id, out, u->totp_confirmed,
                                           u->totp_last_step, &err))
        c->changed++;
    else if (changed)
        c->failed++;
    nq_field_free(out, out_len);
    return 0;
}

int cli_keys_run(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "new")) {
        char jwt[NQ_JWT_KEY_SPEC_NEW_MAX], kid[32];
        unsigned char raw[32];
        char b64[64];
        snprintf(kid, sizeof kid, "k%lld", (long long)nq_clock_wall_s());
        if (sodium_init() < 0 || nq_jwt_key_new(jwt, sizeof jwt, kid))
            return 1;
        printf("NQBA_JWT_KEYS=%s\n", jwt);
        randombytes_buf(raw, sizeof raw);
        sodium_bin2base64(b64, sizeof b64, raw, sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
        printf("NQBA_API_KEY_PEPPER=%s\n", b64);
        randombytes_buf(raw, sizeof raw);
        sodium_bin2base64(b64, sizeof b64, raw, sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
        printf("NQBA_FIELD_KEYS=f%lld:%s\n", (long long)nq_clock_wall_s(), b64);
        sodium_memzero(raw, sizeof raw);
        sodium_memzero(b64, sizeof b64);
        return 0;
    }
    if (argc < 2 || strcmp(argv[1], "rotate-fields") != 0)
        return usage("keys", "expected: keys new | keys rotate-fields", NULL);
    auth_args a;
    int rc = parse("keys", argc - 1, argv + 1, &a);
    if (rc)
        return rc;
    srv_secrets keys;
    if (load_keys("keys", &a, &keys))
        return 1;
    reseal_ctx c = {NULL, NULL, 0, 0};
    nq_err err;
    rc = nq_field_ring_parse(keys.field_keys, &c.ring, &err);
    srv_secrets_wipe(&keys);
    if (rc) {
        fprintf(stderr, "nqba keys: field keys: %s\n", err.msg);
        return 1;
    }
    if (open_store("keys", &a, &c.s)) {
        nq_field_ring_free(c.ring);
        return 1;
    }
    rc = nq_store_users_with_totp(c.s, reseal_one, &c, &err);
    int64_t done = 0, kept = 0, failed = 0; /* companies' and leads' sealed fields */
    if (!rc)
        rc = nq_store_reseal_records(c.s, c.ring, &done, &kept, &failed, &err);
    nq_store_close(c.s);
    nq_field_ring_free(c.ring);
    if (rc) {
        fprintf(stderr, "nqba keys: %s\n", err.msg);
        return 1;
    }
    long long total = c.changed + done, bad = c.failed + failed;
    printf("re-encrypted %lld field(s) under the current key; %lld failed\n", total, bad);
    return bad ? 1 : 0;
}

void cli_keys_usage(FILE *out)
{
    fprintf(out, "usage: nqba keys new\n"
                 "         print fresh keys for a production configuration (environment lines)\n"
                 "       nqba keys rotate-fields [--db URL] [--secrets-file FILE]\n"
                 "         re-encrypt stored sensitive fields under the first (current) field key;\n"
                 "         run it after putting a new key first in NQBA_FIELD_KEYS, keeping the\n"
                 "         old one after it until this reports 0 failed\n");
}
