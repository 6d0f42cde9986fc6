/* secrets.c - the keys the server and the CLI share: the JWT signing keys,
 * the API-key pepper and the field-encryption keys.
 *
 * In production (--production, NQBA_PRODUCTION=1) each must be given (flag,
 * NQBA_* environment or config file) and nothing is ever made up: a missing
 * one stops the server. Otherwise, for a developer's machine, what is not
 * given is read from a secrets file beside the SQLite database (or
 * var/nqba.secrets), generated there once with fresh random keys and mode
 * 0600. There are never built-in defaults. */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "srv.h"

#define KEY_BYTES 32

static int b64_random(char *out, size_t cap, const char *kid)
{
    uint8_t raw[KEY_BYTES];
    char b64[sodium_base64_ENCODED_LEN(KEY_BYTES, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2base64(b64, sizeof b64, raw, sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof raw);
    int n = snprintf(out, cap, "%s%s%s", kid ? kid : "", kid ? ":" : "", b64);
    sodium_memzero(b64, sizeof b64);
    return n > 0 && (size_t)n < cap ? 0 : -1;
}

/* Where the development secrets live: beside a SQLite file, else var/. */
static void secrets_path(const srv_config *c, char out[SRV_PATH_MAX])
{
    if (c->secrets_file[0]) {
        snprintf(out, SRV_PATH_MAX, "%s", c->secrets_file);
        return;
    }
    const char *db = c->db;
    if (strstr(db, "://") || !strrchr(db, '/')) {
        snprintf(out, SRV_PATH_MAX, "%s", strstr(db, "://") ? "var/nqba.secrets" : "nqba.secrets");
        return;
    }
    if (strncmp(db, "sqlite:", 7) == 0)
        db += 7;
    int dir = (int)(strrchr(db, '/') - db);
    snprintf(out, SRV_PATH_MAX, "%.*s/nqba.secrets", dir, db);
}

/* name = value lines into the empty fields of s. */
static int read_file(const char *path, srv_secrets *s, nq_err *err)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return errno == ENOENT ? NQ_ENOTFOUND
                               : nq_err_set(err, NQ_EIO, path, "cannot read: %s", strerror(errno));
    char line[2048];
    int rc = NQ_OK;
    for (int no = 1; fgets(line, sizeof line, f); no++) {
        line[strcspn(line, "\r\n")] = '\0';
        char *eq = strchr(line, '=');
        if (!line[0] || line[0] == '#')
            continue;
        if (!eq) {
            rc = nq_err_set(err, NQ_EINVAL, path, "line %d: expected name = value", no);
            break;
        }
        char *v = eq + 1;
        while (*v == ' ')
            v++;
        *eq = '\0';
        for (char *e = eq - 1; e >= line && *e == ' '; e--)
            *e = '\0';
        char *field = !strcmp(line, "jwt_keys")         ? s->jwt_keys
                      : !strcmp(line, "api_key_pepper") ? s->pepper_b64
                      : !strcmp(line, "field_keys")     ? s->field_keys
                                                        : NULL;
        size_t cap = field == s->pepper_b64 ? sizeof s->pepper_b64 : sizeof s->jwt_keys;
        if (field && !field[0])
            snprintf(field, cap, "%s", v);
    }
    sodium_memzero(line, sizeof line);
    fclose(f);
    return rc;
}

static int write_file(const char *path, const srv_secrets *s, nq_err *err)
{
    char tmp[SRV_PATH_MAX + 8];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        return nq_err_set(err, NQ_EIO, path, "cannot write: %s", strerror(errno));
    FILE *f = fdopen(fd, "w");
    int ok = f && fprintf(f,
                          "# Development keys of nqba, made once. Never use them in production:\n"
                          "# give --jwt-keys, --api-key-pepper and --field-keys there.\n"
                          "jwt_keys = %s\napi_key_pepper = %s\nfield_keys = %s\n",
                          s->jwt_keys, s->pepper_b64, s->field_keys) > 0;
    ok = f && fflush(f) == 0 && fsync(fd) == 0 && ok;
    if (f)
        fclose(f);
    else
        close(fd);
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return nq_err_set(err, NQ_EIO, path, "cannot write: %s", strerror(errno));
    }
    return NQ_OK;
}

static int decode_pepper(srv_secrets *s, nq_err *err)
{
    size_t n = 0;
    const char *end = NULL;
    /* sodium_base642bin reads bytes >= 0x80 as '_': check the alphabet. */
    for (const char *p = s->pepper_b64; *p; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '_'))
            return nq_err_set(err, NQ_EINVAL, "--api-key-pepper",
                              "expected base64url (no padding) of 32 random bytes");
    if (sodium_base642bin(s->pepper, sizeof s->pepper, s->pepper_b64, strlen(s->pepper_b64), NULL,
                          &n, &end, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
        n != KEY_BYTES || *end)
        return nq_err_set(err, NQ_EINVAL, "--api-key-pepper",
                          "expected base64url (no padding) of 32 random bytes");
    return NQ_OK;
}

int srv_secrets_load(const srv_config *c, srv_secrets *s, nq_err *err)
{
    memset(s, 0, sizeof *s);
    if (sodium_init() < 0)
        return nq_err_set(err, NQ_EINTERNAL, NULL, "libsodium did not initialize");
    snprintf(s->jwt_keys, sizeof s->jwt_keys, "%s", c->jwt_keys);
    if (strlen(c->api_key_pepper) >= sizeof s->pepper_b64)
        return nq_err_set(err, NQ_EINVAL, "--api-key-pepper",
                          "expected base64url (no padding) of 32 random bytes");
    memcpy(s->pepper_b64, c->api_key_pepper, strlen(c->api_key_pepper) + 1);
    snprintf(s->field_keys, sizeof s->field_keys, "%s", c->field_keys);
    int missing = !s->jwt_keys[0] || !s->pepper_b64[0] || !s->field_keys[0];
    if (missing && c->production) {
        const char *what = !s->jwt_keys[0]     ? "--jwt-keys"
                           : !s->pepper_b64[0] ? "--api-key-pepper"
                                               : "--field-keys";
        return nq_err_set(err, NQ_EINVAL, what,
                          "required in production (at least 32 random bytes; see "
                          "docs/SECURITY.md for how to make and rotate keys)");
    }
    if (missing) {
        secrets_path(c, s->file);
        int rc = read_file(s->file, s, err);
        if (rc && rc != NQ_ENOTFOUND)
            return rc;
        int made = 0;
        if (!s->jwt_keys[0])
            made |= !b64_random(s->jwt_keys, sizeof s->jwt_keys, "k1");
        if (!s->pepper_b64[0])
            made |= !b64_random(s->pepper_b64, sizeof s->pepper_b64, NULL);
        if (!s->field_keys[0])
            made |= !b64_random(s->field_keys, sizeof s->field_keys, "f1");
        if (made && !strncmp(s->file, "var/", 4))
            mkdir("var", 0700); /* as for the default database; writing reports trouble */
        if (made && (rc = write_file(s->file, s, err)))
            return rc;
    }
    return decode_pepper(s, err);
}

void srv_secrets_wipe(srv_secrets *s)
{
    sodium_memzero(s, sizeof *s);
}
