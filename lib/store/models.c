/* models.c - saved models: named documents with immutable, numbered
 * versions.
 *
 * A new version is the highest so far plus one, read and written in one
 * transaction. Two nodes saving the same name at once may both read the
 * same highest version; the UNIQUE (name, version) key then refuses the
 * second insert, and that save is simply retried. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nqba/clock.h"
#include "nqba/sha256.h"
#include "store_internal.h"

static const char SQL_MAX[] = "SELECT COALESCE(MAX(version), 0) FROM models WHERE name = $1";
static const char SQL_PUT[] =
    "INSERT INTO models (name, version, kind, document, created_by, created_at) "
    "VALUES ($1, $2, $3, $4, $5, $6)";
static const char SQL_GET[] =
    "SELECT version, kind, document, created_by, created_at FROM models "
    "WHERE name = $1 AND version = $2";
static const char SQL_VERSIONS[] = "SELECT version FROM models WHERE name = $1 ORDER BY version";

#define SAVE_TRIES 5

static int name_ok(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n < 1 || n > NQ_STORE_MODEL_NAME_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-'))
            return 0;
    }
    return 1;
}

static int read_ll(void *user, int n, const char *const *vals, const size_t *lens)
{
    (void)lens;
    if (n > 0 && vals[0])
        *(long long *)user = strtoll(vals[0], NULL, 10);
    return 1;
}

static int save_once(nq_store *s, const char *const *p, int *version, nq_err *err)
{
    nq__db *db;
    int rc = nq__tx_begin(s, &db, err);
    if (rc)
        return rc;
    long long have = 0;
    const char *name[1] = {p[0]};
    rc = s->drv->exec(db, SQL_MAX, 1, name, read_ll, &have, NULL, err);
    char v[24], target[NQ_STORE_MODEL_NAME_MAX + 24], hash[65];
    snprintf(v, sizeof v, "%lld", have + 1);
    const char *q[6] = {p[0], v, p[2], p[3], p[4], p[5]};
    if (!rc)
        rc = s->drv->exec(db, SQL_PUT, 6, q, NULL, NULL, NULL, err);
    if (!rc) {
        uint8_t d[NQ_SHA256_LEN];
        nq_sha256(p[3], strlen(p[3]), d);
        nq_sha256_hex(d, hash);
        snprintf(target, sizeof target, "%s@%lld", p[0], have + 1);
        nq_audit_entry e = {p[4], "model.create", target, hash, NULL, NULL, 0};
        rc = nq__audit_append(s, db, &e, err);
    }
    rc = nq__tx_end(s, db, rc, err);
    if (!rc)
        *version = (int)(have + 1);
    return rc;
}

int nq_store_put_model(nq_store *s, const char *name, const char *kind, const char *document,
                       const char *created_by, int *version, nq_err *err)
{
    if (!name_ok(name))
        return nq_err_set(err, NQ_EINVAL, "name", "1..%d letters, digits, '_', '.' or '-'",
                          NQ_STORE_MODEL_NAME_MAX);
    if (!kind || !kind[0] || !document)
        return nq_err_set(err, NQ_EINVAL, "document", "a model needs a kind and a document");
    char at[32];
    snprintf(at, sizeof at, "%.6f", nq_clock_wall_s());
    const char *p[6] = {name, NULL, kind, document, created_by, at};
    int rc = NQ_EINVAL;
    for (int t = 0; t < SAVE_TRIES && rc == NQ_EINVAL; t++)
        rc = save_once(s, p, version, err);
    return rc;
}

typedef struct model_row {
    json_t *o;
    int found, bad;
} model_row;

static int take_model(void *user, int n, const char *const *v, const size_t *lens)
{
    model_row *m = user;
    if (n != 5 || !v[0] || !v[1] || !v[2])
        return m->bad = 1;
    char when[32];
    nq_clock_rfc3339(v[4] ? strtod(v[4], NULL) : 0.0, when);
    json_t *doc = json_loadb(v[2], lens[2], 0, NULL);
    if (!doc)
        return m->bad = 1;
    m->o = json_pack("{s:I, s:s, s:o, s:s?, s:s}", "version", (json_int_t)strtoll(v[0], NULL, 10),
                     "kind", v[1], "document", doc, "created_by", v[3], "created_at", when);
    m->found = 1;
    return 1;
}

static int take_version(void *user, int n, const char *const *v, const size_t *lens)
{
    (void)lens;
    json_t *a = user;
    return n < 1 || !v[0] || json_array_append_new(a, json_integer(strtoll(v[0], NULL, 10)));
}

int nq_store_get_model(nq_store *s, const char *name, int version, json_t **out, nq_err *err)
{
    *out = NULL;
    if (!name_ok(name))
        return nq_err_set(err, NQ_ENOTFOUND, "name", "no model of that name");
    json_t *versions = json_array();
    if (!versions)
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    const char *p[2] = {name, NULL};
    int rc = nq__exec1(s, SQL_VERSIONS, 1, p, take_version, versions, NULL, err);
    size_t nv = json_array_size(versions);
    if (!rc && nv == 0)
        rc = nq_err_set(err, NQ_ENOTFOUND, "name", "no model named '%s'", name);
    char v[24];
    if (!rc) {
        long long want = version > 0 ? version : json_integer_value(json_array_get(versions, nv - 1));
        snprintf(v, sizeof v, "%lld", want);
        p[1] = v;
    }
    model_row m = {NULL, 0, 0};
    if (!rc)
        rc = nq__exec1(s, SQL_GET, 2, p, take_model, &m, NULL, err);
    if (!rc && m.bad)
        rc = nq_err_set(err, NQ_EIO, NULL, "unreadable model row");
    if (!rc && !m.found)
        rc = nq_err_set(err, NQ_ENOTFOUND, "version", "model '%s' has no version %d", name,
                        version);
    if (!rc && (json_object_set_new(m.o, "name", json_string(name)) ||
                json_object_set(m.o, "versions", versions)))
        rc = nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    json_decref(versions);
    if (rc) {
        json_decref(m.o);
        return rc;
    }
    *out = m.o;
    return NQ_OK;
}

/* Every model of a kind, one row per name with its latest version. */
static const char SQL_LIST[] =
    "SELECT m.name, m.version, m.created_by, m.created_at FROM models m "
    "WHERE m.kind = $1 AND m.version = (SELECT MAX(v.version) FROM models v WHERE v.name = m.name) "
    "ORDER BY m.name LIMIT 1000";

static int take_listed(void *user, int n, const char *const *v, const size_t *lens)
{
    (void)lens;
    if (n < 4 || !v[0] || !v[1])
        return 0;
    json_array_append_new(user, json_pack("{s:s, s:I, s:s?, s:f}", "name", v[0], "version",
                                          (json_int_t)strtoll(v[1], NULL, 10), "created_by", v[2],
                                          "created_at", v[3] ? strtod(v[3], NULL) : 0.0));
    return 0;
}

int nq_store_list_models(nq_store *s, const char *kind, json_t **out, nq_err *err)
{
    json_t *a = json_array();
    if (!a)
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    const char *p[1] = {kind};
    int rc = nq__exec1(s, SQL_LIST, 1, p, take_listed, a, NULL, err);
    if (rc) {
        json_decref(a);
        return rc;
    }
    *out = a;
    return NQ_OK;
}
