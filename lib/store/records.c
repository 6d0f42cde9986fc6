/* records.c - companies and leads, whose sensitive fields are sealed at
 * rest (fieldcrypt.h): a company's data document, a lead's name, email and
 * document.
 *
 * A sealed value is bound to its row ("leads.email:42"), and the row's id
 * is only known once it exists, so an add inserts the row bare and writes
 * the sealed fields in the same transaction: no reader ever sees the row
 * half made, and no plaintext ever reaches the database, not even for a
 * moment inside a transaction. Documents are stored as {"sealed": "..."},
 * which keeps the columns' JSON checks (SQLite json_valid, PostgreSQL
 * JSONB) meaningful. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nqba/clock.h"
#include "nqba/fieldcrypt.h"
#include "store_internal.h"

static const char SQL_CO_ADD[] =
    "INSERT INTO companies (name, industry, document, created_at) VALUES ($1, $2, NULL, $3) "
    "RETURNING id";
static const char SQL_CO_DOC[] = "UPDATE companies SET document = $2 WHERE id = $1";
static const char SQL_CO_GET[] =
    "SELECT id, name, industry, document, created_at FROM companies WHERE id = $1";
static const char SQL_LEAD_ADD[] =
    "INSERT INTO leads (company_id, created_at) VALUES ($1, $2) RETURNING id";
static const char SQL_LEAD_SET[] =
    "UPDATE leads SET name = $2, email = $3, document = $4 WHERE id = $1";
static const char SQL_LEAD_GET[] =
    "SELECT id, company_id, name, email, document, created_at FROM leads WHERE id = $1";

#define DOC_PREFIX "{\"sealed\":\""
#define DOC_SUFFIX "\"}"

/* ---- sealing ------------------------------------------------------------------ */

static void aad_of(char *out, size_t cap, const char *column, int64_t id)
{
    snprintf(out, cap, "%s:%lld", column, (long long)id);
}

/* Seal plain (NUL-terminated) for column of row id; *out malloc'd text,
 * wrapped as a JSON document when as_doc. plain NULL gives NULL. */
static int seal(const nq_field_ring *ring, const char *column, int64_t id, const char *plain,
                int as_doc, char **out, nq_err *err)
{
    *out = NULL;
    if (!plain)
        return NQ_OK;
    char aad[96];
    aad_of(aad, sizeof aad, column, id);
    char *text = NULL;
    size_t len = 0;
    int rc = nq_field_seal(ring, aad, plain, strlen(plain), &text, &len, err);
    if (rc)
        return rc;
    size_t cap = len + sizeof DOC_PREFIX + sizeof DOC_SUFFIX;
    char *o = malloc(cap);
    if (o)
        snprintf(o, cap, "%s%.*s%s", as_doc ? DOC_PREFIX : "", (int)len, text,
                 as_doc ? DOC_SUFFIX : "");
    nq_field_free(text, len);
    if (!o)
        return nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
    *out = o;
    return NQ_OK;
}

/* The sealed text inside a stored document, or NULL when it is not one. */
static const char *doc_sealed(const char *stored, size_t *len)
{
    size_t n = strlen(stored), pre = strlen(DOC_PREFIX), suf = strlen(DOC_SUFFIX);
    /* PostgreSQL gives JSONB back normalized: {"sealed": "..."}. */
    const char *v = NULL;
    if (n > pre + suf && !strncmp(stored, DOC_PREFIX, pre))
        v = stored + pre;
    else if (n > 13 && !strncmp(stored, "{\"sealed\": \"", 12))
        v = stored + 12;
    if (!v || strcmp(stored + n - suf, DOC_SUFFIX) != 0)
        return NULL;
    *len = (size_t)(stored + n - suf - v);
    return v;
}

/* Open a stored value (sealed text, or a sealed document) to a malloc'd
 * string; NULL stays NULL. */
static int unseal(const nq_field_ring *ring, const char *column, int64_t id, const char *stored,
                  int as_doc, char **out, nq_err *err)
{
    *out = NULL;
    if (!stored)
        return NQ_OK;
    size_t len = strlen(stored);
    const char *text = as_doc ? doc_sealed(stored, &len) : stored;
    if (!text)
        return nq_err_set(err, NQ_EINVAL, column, "row %lld: not a sealed document",
                          (long long)id);
    char aad[96];
    aad_of(aad, sizeof aad, column, id);
    char *plain = NULL;
    size_t plen = 0;
    int rc = nq_field_open(ring, aad, text, len, &plain, &plen, err);
    if (rc)
        return nq_err_set(err, rc, column, "row %lld: does not open with the field keys",
                          (long long)id);
    *out = malloc(plen + 1);
    if (*out) {
        memcpy(*out, plain, plen);
        (*out)[plen] = '\0';
    }
    nq_field_free(plain, plen);
    return *out ? NQ_OK : nq_err_set(err, NQ_ENOMEM, NULL, "out of memory");
}

/* ---- checks -------------------------------------------------------------------- */

static int check_text(const char *v, int required, const char *field, nq_err *err)
{
    if (!v)
        return required ? nq_err_set(err, NQ_EINVAL, field, "is required") : NQ_OK;
    size_t n = strnlen(v, NQ_STORE_RECORD_TEXT_MAX + 1);
    if ((required && n == 0) || n > NQ_STORE_RECORD_TEXT_MAX)
        return nq_err_set(err, NQ_EINVAL, field, "1..%d bytes", NQ_STORE_RECORD_TEXT_MAX);
    return NQ_OK;
}

static int check_doc(const char *doc, nq_err *err)
{
    if (!doc)
        return NQ_OK;
    if (strnlen(doc, NQ_STORE_RECORD_DOC_MAX + 1) > NQ_STORE_RECORD_DOC_MAX)
        return nq_err_set(err, NQ_ELIMIT, "document", "over %d bytes", NQ_STORE_RECORD_DOC_MAX);
    json_error_t je;
    json_t *j = json_loads(doc, JSON_REJECT_DUPLICATES, &je);
    int ok = j && json_is_object(j);
    json_decref(j);
    return ok ? NQ_OK : nq_err_set(err, NQ_EINVAL, "document", "must be a JSON object");
}

static int need_ring(const nq_field_ring *ring, nq_err *err)
{
    return ring ? NQ_OK
                : nq_err_set(err, NQ_EINVAL, "field_keys",
                             "sealed fields need the field encryption keys");
}

static int read_id(void *user, int n, const char *const *vals, const size_t *lens)
{
    (void)lens;
    if (n > 0 && vals[0])
        *(int64_t *)user = strtoll(vals[0], NULL, 10);
    return 1;
}

static int audit_created(nq_store *s, nq__db *db, const char *what, const char *actor,
                         int64_t id, nq_err *err)
{
    char target[32];
    snprintf(target, sizeof target, "%lld", (long long)id);
    nq_audit_entry e = {actor ? actor : "system", what, target, NULL, NULL, NULL, 0};
    return nq__audit_append(s, db, &e, err);
}

/* ---- companies ------------------------------------------------------------------- */

int nq_store_company_add(nq_store *s, const nq_field_ring *ring, const char *name,
                         const char *industry, const char *document, const char *actor,
                         int64_t *id, nq_err *err)
{
    int rc = need_ring(ring, err);
    if (!rc)
        rc = check_text(name, 1, "name", err);
    if (!rc)
        rc = check_text(industry, 0, "industry", err);
    if (!rc)
        rc = check_doc(document, err);
    if (rc)
        return rc;
    char at[32];
    snprintf(at, sizeof at, "%.6f", nq_clock_wall_s());
    nq__db *db;
    if ((rc = nq__tx_begin(s, &db, err)))
        return rc;
    int64_t new_id = 0;
    char *sealed = NULL, idtext[32];
    const char *p[3] = {name, industry, at};
    rc = s->drv->exec(db, SQL_CO_ADD, 3, p, read_id, &new_id, NULL, err);
    if (!rc && new_id <= 0)
        rc = nq_err_set(err, NQ_EINTERNAL, NULL, "no id for the new company");
    if (!rc)
        rc = seal(ring, "companies.document", new_id, document, 1, &sealed, err);
    snprintf(idtext, sizeof idtext, "%lld", (long long)new_id);
    const char *u[2] = {idtext, sealed};
    if (!rc && sealed)
        rc = s->drv->exec(db, SQL_CO_DOC, 2, u, NULL, NULL, NULL, err);
    if (!rc)
        rc = audit_created(s, db, "company.create", actor, new_id, err);
    free(sealed);
    rc = nq__tx_end(s, db, rc, err);
    if (!rc && id)
        *id = new_id;
    return rc;
}

static char *dup_or_null(const char *v)
{
    return v ? strdup(v) : NULL;
}

typedef struct row_copy {
    int n, found;
    char *v[6];
} row_copy;

static int copy_row(void *user, int n, const char *const *vals, const size_t *lens)
{
    (void)lens;
    row_copy *r = user;
    r->found = 1;
    for (int i = 0; i < n && i < 6; i++)
        r->v[i] = dup_or_null(vals[i]);
    r->n = n;
    return 1;
}

static void row_free(row_copy *r)
{
    for (int i = 0; i < 6; i++)
        free(r->v[i]);
}

static int get_row(nq_store *s, const char *sql, int64_t id, const char *what, row_copy *r,
                   nq_err *err)
{
    char idtext[32];
    snprintf(idtext, sizeof idtext, "%lld", (long long)id);
    const char *p[1] = {idtext};
    memset(r, 0, sizeof *r);
    int rc = nq__exec1(s, sql, 1, p, copy_row, r, NULL, err);
    if (!rc && !r->found)
        rc = nq_err_set(err, NQ_ENOTFOUND, "id", "no %s %lld", what, (long long)id);
    if (rc)
        row_free(r);
    return rc;
}

int nq_store_company_get(nq_store *s, const nq_field_ring *ring, int64_t id,
                         nq_company_rec *out, nq_err *err)
{
    memset(out, 0, sizeof *out);
    row_copy r;
    int rc = need_ring(ring, err);
    if (rc || (rc = get_row(s, SQL_CO_GET, id, "company", &r, err)))
        return rc;
    out->id = id;
    out->name = r.v[1];
    out->industry = r.v[2];
    r.v[1] = r.v[2] = NULL;
    out->created_at = r.v[4] ? strtod(r.v[4], NULL) : 0;
    rc = unseal(ring, "companies.document", id, r.v[3], 1, &out->document, err);
    row_free(&r);
    if (rc)
        nq_company_rec_free(out);
    return rc;
}

void nq_company_rec_free(nq_company_rec *c)
{
    if (!c)
        return;
    free(c->name);
    free(c->industry);
    free(c->document);
    memset(c, 0, sizeof *c);
}

/* ---- leads ------------------------------------------------------------------------ */

int nq_store_lead_add(nq_store *s, const nq_field_ring *ring, int64_t company_id,
                      const char *name, const char *email, const char *document,
                      const char *actor, int64_t *id, nq_err *err)
{
    int rc = need_ring(ring, err);
    if (!rc)
        rc = check_text(name, 0, "name", err);
    if (!rc)
        rc = check_text(email, 0, "email", err);
    if (!rc)
        rc = check_doc(document, err);
    if (!rc && company_id < 0)
        rc = nq_err_set(err, NQ_EINVAL, "company_id", "must be a company's id or 0");
    if (rc)
        return rc;
    char at[32], co[32], idtext[32];
    snprintf(at, sizeof at, "%.6f", nq_clock_wall_s());
    snprintf(co, sizeof co, "%lld", (long long)company_id);
    nq__db *db;
    if ((rc = nq__tx_begin(s, &db, err)))
        return rc;
    int64_t new_id = 0;
    char *sn = NULL, *se = NULL, *sd = NULL;
    const char *p[2] = {company_id ? co : NULL, at};
    rc = s->drv->exec(db, SQL_LEAD_ADD, 2, p, read_id, &new_id, NULL, err);
    if (!rc && new_id <= 0)
        rc = nq_err_set(err, NQ_EINVAL, "company_id", "no such company");
    if (!rc)
        rc = seal(ring, "leads.name", new_id, name, 0, &sn, err);
    if (!rc)
        rc = seal(ring, "leads.email", new_id, email, 0, &se, err);
    if (!rc)
        rc = seal(ring, "leads.document", new_id, document, 1, &sd, err);
    snprintf(idtext, sizeof idtext, "%lld", (long long)new_id);
    const char *u[4] = {idtext, sn, se, sd};
    if (!rc)
        rc = s->drv->exec(db, SQL_LEAD_SET, 4, u, NULL, NULL, NULL, err);
    if (!rc)
        rc = audit_created(s, db, "lead.create", actor, new_id, err);
    free(sn);
    free(se);
    free(sd);
    rc = nq__tx_end(s, db, rc, err);
    if (!rc && id)
        *id = new_id;
    return rc;
}

int nq_store_lead_get(nq_store *s, const nq_field_ring *ring, int64_t id, nq_lead_rec *out,
                      nq_err *err)
{
    memset(out, 0, sizeof *out);
    row_copy r;
    int rc = need_ring(ring, err);
    if (rc || (rc = get_row(s, SQL_LEAD_GET, id, "lead", &r, err)))
        return rc;
    out->id = id;
    out->company_id = r.v[1] ? strtoll(r.v[1], NULL, 10) : 0;
    out->created_at = r.v[5] ? strtod(r.v[5], NULL) : 0;
    rc = unseal(ring, "leads.name", id, r.v[2], 0, &out->name, err);
    if (!rc)
        rc = unseal(ring, "leads.email", id, r.v[3], 0, &out->email, err);
    if (!rc)
        rc = unseal(ring, "leads.document", id, r.v[4], 1, &out->document, err);
    row_free(&r);
    if (rc)
        nq_lead_rec_free(out);
    return rc;
}

void nq_lead_rec_free(nq_lead_rec *l)
{
    if (!l)
        return;
    free(l->name);
    free(l->email);
    free(l->document);
    memset(l, 0, sizeof *l);
}

/* ---- key rotation ------------------------------------------------------------------ */

/* The statements are literals: the drivers cache prepared statements by
 * the address of their text, so SQL must never be built in a buffer. */
typedef struct sealed_col {
    const char *aad_column, *select, *update;
    int as_doc;
} sealed_col;

#define SEALED_COL(table, column, doc)                                                             \
    {                                                                                              \
        #table "." #column,                                                                        \
            "SELECT id, " #column " FROM " #table " WHERE " #column                                \
            " IS NOT NULL AND id > $1 ORDER BY id LIMIT 100",                                      \
            "UPDATE " #table " SET " #column " = $2 WHERE id = $1", doc                            \
    }

static const sealed_col SEALED[] = {
    SEALED_COL(companies, document, 1),
    SEALED_COL(leads, name, 0),
    SEALED_COL(leads, email, 0),
    SEALED_COL(leads, document, 1),
};

#define RESEAL_BATCH 100 /* the LIMIT in SEALED_COL */

typedef struct batch {
    int n;
    int64_t id[RESEAL_BATCH];
    char *value[RESEAL_BATCH];
} batch;

static int take_batch(void *user, int n, const char *const *vals, const size_t *lens)
{
    (void)lens;
    batch *b = user;
    if (n < 2 || !vals[0] || !vals[1] || b->n >= RESEAL_BATCH)
        return 0;
    b->id[b->n] = strtoll(vals[0], NULL, 10);
    b->value[b->n] = strdup(vals[1]);
    if (b->value[b->n])
        b->n++;
    return 0;
}

/* The value re-sealed under the current key: *out NULL when it already
 * was (or did not open: *failed). */
static int reseal_one(const nq_field_ring *ring, const sealed_col *c, int64_t id,
                      const char *stored, char **out, int *failed)
{
    *out = NULL;
    *failed = 0;
    size_t len = strlen(stored);
    const char *text = c->as_doc ? doc_sealed(stored, &len) : stored;
    char aad[96];
    aad_of(aad, sizeof aad, c->aad_column, id);
    char *fresh = NULL;
    size_t flen = 0;
    int changed = 0;
    nq_err e;
    if (!text || nq_field_reseal(ring, aad, text, len, &fresh, &flen, &changed, &e) != NQ_OK) {
        *failed = 1;
        return NQ_OK;
    }
    if (changed) {
        size_t cap = flen + sizeof DOC_PREFIX + sizeof DOC_SUFFIX;
        if ((*out = malloc(cap)) != NULL)
            snprintf(*out, cap, "%s%.*s%s", c->as_doc ? DOC_PREFIX : "", (int)flen, fresh,
                     c->as_doc ? DOC_SUFFIX : "");
    }
    nq_field_free(fresh, flen);
    return changed && !*out ? NQ_ENOMEM : NQ_OK;
}

/* Rewrite one batch in one transaction. */
static int write_batch(nq_store *s, const nq_field_ring *ring, const sealed_col *c,
                       const batch *b, int64_t *done, int64_t *kept, int64_t *failed,
                       nq_err *err)
{
    nq__db *db;
    int rc = nq__tx_begin(s, &db, err);
    for (int i = 0; !rc && i < b->n; i++) {
        char *fresh = NULL, idtext[32];
        int bad = 0;
        if ((rc = reseal_one(ring, c, b->id[i], b->value[i], &fresh, &bad)) != NQ_OK) {
            rc = nq_err_set(err, rc, NULL, "out of memory");
            break;
        }
        *failed += bad;
        *kept += !bad && !fresh;
        if (!fresh)
            continue;
        snprintf(idtext, sizeof idtext, "%lld", (long long)b->id[i]);
        const char *p[2] = {idtext, fresh};
        rc = s->drv->exec(db, c->update, 2, p, NULL, NULL, NULL, err);
        *done += !rc;
        free(fresh);
    }
    return nq__tx_end(s, db, rc, err);
}

static int reseal_column(nq_store *s, const nq_field_ring *ring, const sealed_col *c,
                         int64_t *done, int64_t *kept, int64_t *failed, nq_err *err)
{
    char after[32];
    int64_t last = 0;
    for (;;) {
        batch b;
        memset(&b, 0, sizeof b);
        snprintf(after, sizeof after, "%lld", (long long)last);
        const char *p[1] = {after};
        int rc = nq__exec1(s, c->select, 1, p, take_batch, &b, NULL, err);
        if (!rc && b.n)
            rc = write_batch(s, ring, c, &b, done, kept, failed, err);
        if (b.n)
            last = b.id[b.n - 1];
        for (int i = 0; i < b.n; i++)
            free(b.value[i]);
        if (rc || b.n < RESEAL_BATCH)
            return rc;
    }
}

int nq_store_reseal_records(nq_store *s, const nq_field_ring *ring, int64_t *done,
                            int64_t *kept, int64_t *failed, nq_err *err)
{
    *done = *kept = *failed = 0;
    int rc = need_ring(ring, err);
    for (size_t i = 0; !rc && i < sizeof SEALED / sizeof SEALED[0]; i++)
        rc = reseal_column(s, ring, &SEALED[i], done, kept, failed, err);
    return rc;
}

/* ---- scored leads ------------------------------------------------------------------------ */

static const char SQL_SCORE_ADD[] =
    "INSERT INTO lead_scoring (lead_id, decision_id, score, priority_level, quantum_enhanced, "
    "created_at) VALUES ($1, $2, $3, $4, $5, $6)";

/* One lead: its row, its sealed fields, its score row. */
static int put_scored(nq_store *s, nq__db *db, const nq_field_ring *ring, const char *decision,
                      const nq_lead_score_rec *l, const char *quantum, const char *at,
                      nq_err *err)
{
    const char *p[2] = {NULL, at};
    int64_t id = 0;
    char idtext[32], score[16], *sn = NULL, *se = NULL, *sd = NULL;
    int rc = s->drv->exec(db, SQL_LEAD_ADD, 2, p, read_id, &id, NULL, err);
    if (!rc && id <= 0)
        rc = nq_err_set(err, NQ_EINTERNAL, NULL, "no id for a new lead");
    if (!rc)
        rc = seal(ring, "leads.name", id, l->name, 0, &sn, err);
    if (!rc)
        rc = seal(ring, "leads.email", id, l->email, 0, &se, err);
    if (!rc)
        rc = seal(ring, "leads.document", id, l->document, 1, &sd, err);
    snprintf(idtext, sizeof idtext, "%lld", (long long)id);
    snprintf(score, sizeof score, "%d", l->score);
    const char *u[4] = {idtext, sn, se, sd};
    if (!rc)
        rc = s->drv->exec(db, SQL_LEAD_SET, 4, u, NULL, NULL, NULL, err);
    const char *q[6] = {idtext, decision, score, l->tier, quantum, at};
    if (!rc)
        rc = s->drv->exec(db, SQL_SCORE_ADD, 6, q, NULL, NULL, NULL, err);
    free(sn);
    free(se);
    free(sd);
    return rc;
}

int nq_store_put_lead_scores(nq_store *s, const nq_field_ring *ring, const char *decision_id,
                             const nq_lead_score_rec *leads, int32_t n, int quantum,
                             const char *actor, nq_err *err)
{
    int rc = need_ring(ring, err);
    for (int32_t i = 0; !rc && i < n; i++)
        if ((rc = check_text(leads[i].name, 0, "name", err)) ||
            (rc = check_text(leads[i].email, 0, "email", err)) ||
            (rc = check_doc(leads[i].document, err)))
            break;
    if (rc || n <= 0)
        return rc;
    char at[32], detail[48];
    snprintf(at, sizeof at, "%.6f", nq_clock_wall_s());
    nq__db *db;
    if ((rc = nq__tx_begin(s, &db, err)))
        return rc;
    for (int32_t i = 0; !rc && i < n; i++)
        rc = put_scored(s, db, ring, decision_id, &leads[i], quantum ? "1" : "0", at, err);
    snprintf(detail, sizeof detail, "{\"leads\":%d}", (int)n);
    nq_audit_entry e = {actor ? actor : "system", "leads.score", decision_id, NULL, NULL, detail, 0};
    if (!rc)
        rc = nq__audit_append(s, db, &e, err);
    return nq__tx_end(s, db, rc, err);
}
