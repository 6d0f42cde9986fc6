/* tokens.c - refresh tokens. A sign-in starts a family; each refresh uses
 * its token once and adds the next one to the family. A token presented
 * a second time means someone kept a copy: the family is revoked, so both
 * the thief and the user must sign in again (and the event is audited). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_internal.h"

static const char SQL_ADD[] =
    "INSERT INTO refresh_tokens (id, family, user_id, token_hash, mfa, expires_at, created_at) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7)";
static const char SQL_FIND[] =
    "SELECT r.family, r.expires_at, r.used_at, r.revoked_at, r.mfa, u.username "
    "FROM refresh_tokens r JOIN users u ON u.id = r.user_id WHERE r.token_hash = $1";
static const char SQL_USED[] = "UPDATE refresh_tokens SET used_at = $2 WHERE token_hash = $1";
static const char SQL_REVOKE[] =
    "UPDATE refresh_tokens SET revoked_at = $2 WHERE family = $1 AND revoked_at IS NULL";

int nq_store_refresh_add(nq_store *s, const char *id, const char *family, int64_t user_id,
                         const char *token_hash, int mfa, double now, double expires_at,
                         nq_err *err)
{
    char uid[24], exp[32], at[32];
    snprintf(uid, sizeof uid, "%lld", (long long)user_id);
    snprintf(exp, sizeof exp, "%.6f", expires_at);
    snprintf(at, sizeof at, "%.6f", now);
    const char *p[7] = {id, family, uid, token_hash, mfa ? "1" : "0", exp, at};
    return nq__exec1(s, SQL_ADD, 7, p, NULL, NULL, NULL, err);
}

typedef struct found {
    int hit;
    char family[40], username[65];
    double expires_at;
    int used, revoked, mfa;
} found;

static int take(void *user, int n, const char *const *v, const size_t *lens)
{
    (void)lens;
    found *f = user;
    if (n != 6 || !v[0] || !v[5])
        return 1;
    f->hit = 1;
    snprintf(f->family, sizeof f->family, "%s", v[0]);
    f->expires_at = v[1] ? strtod(v[1], NULL) : 0;
    f->used = v[2] != NULL;
    f->revoked = v[3] != NULL;
    f->mfa = v[4] && (v[4][0] == '1' || v[4][0] == 't');
    snprintf(f->username, sizeof f->username, "%s", v[5]);
    return 1;
}

int nq_store_refresh_use(nq_store *s, const char *token_hash, double now, char username[65],
                         int *mfa, char family[40], nq_err *err)
{
    char at[32];
    snprintf(at, sizeof at, "%.6f", now);
    found f;
    memset(&f, 0, sizeof f);
    nq__db *db;
    int rc = nq__tx_begin(s, &db, err);
    if (rc)
        return rc;
    const char *p[2] = {token_hash, at};
    rc = s->drv->exec(db, SQL_FIND, 1, p, take, &f, NULL, err);
    if (!rc && (!f.hit || now >= f.expires_at)) {
        rc = nq_err_set(err, NQ_ENOTFOUND, "refresh_token", "unknown or expired");
    } else if (!rc && (f.used || f.revoked)) {
        const char *q[2] = {f.family, at};
        rc = s->drv->exec(db, SQL_REVOKE, 2, q, NULL, NULL, NULL, err);
        nq_audit_entry e = {f.username, "token.reuse", f.family, NULL, NULL,
                            "{\"family\":\"revoked\"}", now};
        if (!rc)
            rc = nq__audit_append(s, db, &e, err);
        /* Committed: the revocation stands even though the caller fails. */
        rc = nq__tx_end(s, db, rc, err);
        return rc ? rc : nq_err_set(err, NQ_EINVAL, "refresh_token", "already used: revoked");
    } else if (!rc) {
        rc = s->drv->exec(db, SQL_USED, 2, p, NULL, NULL, NULL, err);
    }
    rc = nq__tx_end(s, db, rc, err);
    if (!rc) {
        snprintf(username, 65, "%s", f.username);
        snprintf(family, 40, "%s", f.family);
        *mfa = f.mfa;
    }
    return rc;
}

int nq_store_refresh_revoke(nq_store *s, const char *token_hash, double now, nq_err *err)
{
    char at[32];
    snprintf(at, sizeof at, "%.6f", now);
    found f;
    memset(&f, 0, sizeof f);
    const char *p[1] = {token_hash};
    int rc = nq__exec1(s, SQL_FIND, 1, p, take, &f, NULL, err);
    if (!rc && !f.hit)
        rc = nq_err_set(err, NQ_ENOTFOUND, "refresh_token", "unknown");
    const char *q[2] = {f.family, at};
    if (!rc)
        rc = nq__exec1(s, SQL_REVOKE, 2, q, NULL, NULL, NULL, err);
    return rc;
}
