/* store.h - the persistent store: decisions, jobs, users, saved models and
 * the tamper-evident audit log, on SQLite (embedded, the default) or
 * PostgreSQL (for servers; several nodes share one database).
 *
 *   nq_store_open("var/nqba.db", &s, &err)           SQLite file (created)
 *   nq_store_open("postgresql://u@h:5432/db", ...)   PostgreSQL via libpq
 *   nq_store_migrate(s, &applied, &err)              schema up to date
 *   nq_store_put_decision(s, &rec, &err)             decision + audit entry,
 *                                                    one transaction, durable
 *   nq_store_audit_verify(s, &report, &err)          walk the hash chain
 *
 * Every function is thread-safe: the store keeps a small pool of
 * connections. Writes are durable when they return NQ_OK (SQLite:
 * WAL with synchronous=FULL; PostgreSQL: a committed transaction), which is
 * what lets the server acknowledge a decision only after it is stored.
 *
 * Errors: NQ_EUNAVAIL when the database is unreachable, full or read-only
 * (HTTP 503), NQ_EINVAL for a bad URL or a conflicting write (unique key),
 * NQ_ENOTFOUND for an unknown id, NQ_EIO otherwise. */
#ifndef NQBA_STORE_H
#define NQBA_STORE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "nqba/err.h"

typedef struct nq_store nq_store;

#define NQ_STORE_DEFAULT_PATH "var/nqba.db"

/* url: "postgresql://..." or "postgres://..." (libpq URI, connection pool
 * of pool_size, default 4), "sqlite:PATH", or a plain PATH (SQLite; the
 * directory must exist). pool_size 0 = default. Opening checks the
 * connection; it does not migrate. */
int nq_store_open(const char *url, int pool_size, nq_store **out, nq_err *err);
void nq_store_close(nq_store *s);
const char *nq_store_backend(const nq_store *s); /* "sqlite" or "postgresql" */

/* Apply the migrations not yet applied, each in its own transaction
 * (several nodes starting at once: one applies, the others wait and see
 * it applied). *applied (may be NULL) gets how many ran. */
int nq_store_migrate(nq_store *s, int *applied, nq_err *err);
int nq_store_schema_version(nq_store *s, int *version, nq_err *err);
int nq_store_latest_version(const nq_store *s); /* what migrate brings it to */

/* ---- decisions ----------------------------------------------------------- */

/* A row of a unit's own table (the seed's portfolio_optimization,
 * energy_optimization, lead_scoring), written with its decision in the
 * same transaction, with the decision's id, quantum flag and time. */
typedef enum nq_unit_table {
    NQ_UNIT_TABLE_NONE = 0,
    NQ_UNIT_TABLE_PORTFOLIO = 1,   /* v: risk_tolerance, target_return, expected_return */
    NQ_UNIT_TABLE_ENERGY = 2,      /* v: optimization_target, cost_savings, efficiency_gain */
    NQ_UNIT_TABLE_LEAD_SCORING = 3 /* v: lead_id, score, priority_level */
} nq_unit_table;

typedef struct nq_unit_row {
    nq_unit_table table;
    const char *v[3]; /* text values in the order above; NULL is SQL NULL */
} nq_unit_row;

typedef struct nq_decision_rec {
    char id[33];          /* the job id (32 hex characters) */
    const char *unit;     /* "nqba", "flyfox", "goliath", "sigma", "engine" */
    const char *kind;     /* "decision-engine", "solve", "energy-optimization", ... */
    const char *request;  /* JSON text (as received) */
    const char *result;   /* JSON text, or NULL when the job failed */
    const char *solver;   /* "" when none */
    const char *status;   /* "succeeded", "failed", "cancelled" */
    double latency_s;     /* the job's run time */
    const char *user;     /* the principal, or NULL (anonymous) */
    int quantum_enhanced; /* the annealing engine produced the answer */
    double created_at;    /* Unix seconds; 0 = now */
    nq_unit_row unit_row; /* table NONE: no unit row */
} nq_decision_rec;

/* Store a decision and append its audit entry (actor = user, action
 * "decision.<status>", target = id, request/result hashes) in one
 * transaction. A second put of the same id is NQ_EINVAL. */
int nq_store_put_decision(nq_store *s, const nq_decision_rec *d, nq_err *err);
/* Store n decisions (n <= NQ_STORE_PUT_MAX), each as nq_store_put_decision
 * would, in as few transactions as the group commit makes (one when none
 * fails): rc[i] and err[i] tell each one's outcome. Returns NQ_OK when
 * every one was stored, else the first nonzero rc. */
#define NQ_STORE_PUT_MAX 4096
int nq_store_put_decisions(nq_store *s, const nq_decision_rec *d, int n, int *rc, nq_err *err);

/* {"id","unit","kind","request":{...},"result":{...}|null,"solver","status",
 * "latency_s","user","quantum_enhanced","created_at": RFC 3339} or
 * NQ_ENOTFOUND. */
int nq_store_get_decision(nq_store *s, const char *id, json_t **out, nq_err *err);

typedef struct nq_decision_query {
    const char *unit;  /* NULL = any */
    const char *kind;  /* NULL = any */
    double from, to;   /* created_at in [from, to); 0 = unbounded */
    const char *cursor; /* NULL, or the next_cursor of the previous page */
    int limit;         /* 1..NQ_STORE_PAGE_MAX; 0 = NQ_STORE_PAGE_DEFAULT */
    int with_documents; /* include request and result (else a summary) */
} nq_decision_query;

#define NQ_STORE_PAGE_DEFAULT 50
#define NQ_STORE_PAGE_MAX 500

/* Newest first: {"items": [...], "next_cursor": "..." | null}. A bad
 * cursor is NQ_EINVAL with where "cursor". */
int nq_store_list_decisions(nq_store *s, const nq_decision_query *q, json_t **out, nq_err *err);

/* ---- saved models --------------------------------------------------------- */

#define NQ_STORE_MODEL_NAME_MAX 64

/* Store a new version of the named model (versions are immutable and
 * numbered 1, 2, ... per name; *version gets the new one) with its audit
 * entry ("model.create", target "name@version"). name: 1..64 of
 * [A-Za-z0-9_.-]; document: JSON text. */
int nq_store_put_model(nq_store *s, const char *name, const char *kind, const char *document,
                       const char *created_by, int *version, nq_err *err);

/* Version `version` of a model (0 = the latest): {"name","version","kind",
 * "document":{...},"created_by","created_at","versions":[1,2,...]} or
 * NQ_ENOTFOUND (where "name" or "version"). */
int nq_store_get_model(nq_store *s, const char *name, int version, json_t **out, nq_err *err);
/* The models of a kind, by name, each at its latest version:
 * [{"name","version","created_by","created_at"}] (at most 1,000). */
int nq_store_list_models(nq_store *s, const char *kind, json_t **out, nq_err *err);

/* ---- companies and leads: sensitive fields sealed at rest ----------------------- */

/* A company's data document and a lead's personal data (name, email and
 * document) are stored sealed (fieldcrypt.h, XChaCha20-Poly1305) under the
 * ring's current key, bound to their row and column ("companies.document:7").
 * Documents stay valid JSON in the database: {"sealed": "nqf1:..."}.
 * Reading needs the ring holding the key that sealed them. */
struct nq_field_ring;

#define NQ_STORE_RECORD_TEXT_MAX 256          /* bytes of a name, industry or email */
#define NQ_STORE_RECORD_DOC_MAX (1024 * 1024) /* bytes of a document (JSON text) */

typedef struct nq_company_rec {
    int64_t id;
    char *name, *industry; /* industry may be NULL */
    char *document;        /* JSON text, opened; NULL when none */
    double created_at;
} nq_company_rec;

typedef struct nq_lead_rec {
    int64_t id, company_id; /* company_id 0 when none */
    char *name, *email;     /* opened; NULL when none */
    char *document;         /* JSON text, opened; NULL when none */
    double created_at;
} nq_lead_rec;

void nq_company_rec_free(nq_company_rec *c); /* NULL-safe; frees the strings */
void nq_lead_rec_free(nq_lead_rec *l);

/* Add a company (audited "company.create" by actor, target its id). name
 * is required; document, when given, must be a JSON object's text. */
int nq_store_company_add(nq_store *s, const struct nq_field_ring *ring, const char *name,
                         const char *industry, const char *document, const char *actor,
                         int64_t *id, nq_err *err);
/* NQ_ENOTFOUND; NQ_EINVAL when a sealed field does not open with ring. */
int nq_store_company_get(nq_store *s, const struct nq_field_ring *ring, int64_t id,
                         nq_company_rec *out, nq_err *err);
/* Add a lead (audited "lead.create"); company_id 0 for none. */
int nq_store_lead_add(nq_store *s, const struct nq_field_ring *ring, int64_t company_id,
                      const char *name, const char *email, const char *document,
                      const char *actor, int64_t *id, nq_err *err);
int nq_store_lead_get(nq_store *s, const struct nq_field_ring *ring, int64_t id,
                      nq_lead_rec *out, nq_err *err);

/* Scored leads (lead scoring): each a new lead row with its personal
 * fields sealed and a lead_scoring row (score, tier, the decision's id),
 * all in one transaction with one audit entry ("leads.score", target the
 * decision). */
typedef struct nq_lead_score_rec {
    const char *name, *email; /* personal, sealed; NULL when not given */
    const char *document;     /* a JSON object of every personal field, sealed; or NULL */
    int score;                /* 0..100 */
    const char *tier;         /* "hot", "warm", "lukewarm", "cold" */
} nq_lead_score_rec;
int nq_store_put_lead_scores(nq_store *s, const struct nq_field_ring *ring,
                             const char *decision_id, const nq_lead_score_rec *leads, int32_t n,
                             int quantum, const char *actor, nq_err *err);

/* Re-seal every sealed company and lead field under ring's current key
 * (key rotation), in batches of one transaction each. *done counts the
 * values rewritten, *kept those already under the current key, *failed
 * those that did not open (left as they are). */
int nq_store_reseal_records(nq_store *s, const struct nq_field_ring *ring, int64_t *done,
                            int64_t *kept, int64_t *failed, nq_err *err);

/* ---- users and permissions --------------------------------------------------- */

#define NQ_STORE_USERNAME_MAX 64

typedef struct nq_user_rec {
    int64_t id;
    char username[NQ_STORE_USERNAME_MAX + 1];
    char password_hash[256];
    char role[32];
    char totp_secret[128]; /* "" when none (sealed text when field encryption is on) */
    int totp_confirmed;
    int64_t totp_last_step; /* -1 when none */
    int disabled;
    int failed_logins;
    double locked_until; /* 0 when not locked */
} nq_user_rec;

/* Add a user (audited "user.create" by actor, target the username).
 * username: 1..64 of [A-Za-z0-9_.@-]; a taken name or an unknown role is
 * NQ_EINVAL. *id gets the new id (may be NULL). */
int nq_store_user_add(nq_store *s, const char *username, const char *password_hash,
                      const char *role, const char *actor, int64_t *id, nq_err *err);
/* A user by name, or NQ_ENOTFOUND. */
int nq_store_user_get(nq_store *s, const char *username, nq_user_rec *out, nq_err *err);
/* A new password hash (after a rehash on changed parameters). */
int nq_store_user_set_password(nq_store *s, int64_t id, const char *password_hash, nq_err *err);
/* Every user with a TOTP secret, for re-encrypting them under a new key;
 * fn returning nonzero stops. */
typedef int (*nq_store_user_fn)(void *user, const nq_user_rec *u);
int nq_store_users_with_totp(nq_store *s, nq_store_user_fn fn, void *user, nq_err *err);
/* After a login attempt: the failure count and the lock (0 = none). */
int nq_store_user_set_login(nq_store *s, int64_t id, int failed_logins, double locked_until,
                            nq_err *err);
/* TOTP state: the (sealed) secret ("" clears it), whether a code confirmed
 * it, the last step a code was accepted for (-1 = none). */
int nq_store_user_set_totp(nq_store *s, int64_t id, const char *secret, int confirmed,
                           int64_t last_step, nq_err *err);

typedef struct nq_apikey_rec {
    int64_t id;
    char prefix[16];
    char key_hash[72];
    char owner[72];
    char scopes[264];
    double expires_at; /* 0 = never */
    double revoked_at; /* 0 = not revoked */
} nq_apikey_rec;

/* Store an API key's record (its hash only; the key is shown once by the
 * caller), audited "apikey.create" by actor with the prefix as target.
 * owner 1..64 bytes, scopes 1..256 ("*" or "unit:action ..."). */
int nq_store_apikey_add(nq_store *s, const char *prefix, const char *key_hash, const char *owner,
                        const char *scopes, double expires_at, const char *actor, nq_err *err);
/* A key by its prefix, or NQ_ENOTFOUND. */
int nq_store_apikey_get(nq_store *s, const char *prefix, nq_apikey_rec *out, nq_err *err);

/* Refresh tokens: stored by hash, in families that rotate. */
int nq_store_refresh_add(nq_store *s, const char *id, const char *family, int64_t user_id,
                         const char *token_hash, int mfa, double now, double expires_at,
                         nq_err *err);
/* Use a refresh token once, at time now: NQ_OK with the user's name and
 * mfa flag and the family when it is live; NQ_ENOTFOUND when unknown or
 * expired; NQ_EINVAL when it was used or revoked before (a stolen token
 * replayed: the whole family is revoked, in the same transaction). */
int nq_store_refresh_use(nq_store *s, const char *token_hash, double now, char username[65],
                         int *mfa, char family[40], nq_err *err);
/* Revoke a family (logout); NQ_ENOTFOUND when the token is unknown. */
int nq_store_refresh_revoke(nq_store *s, const char *token_hash, double now, nq_err *err);

/* Revoke an API key by prefix (audited "apikey.revoke" by actor);
 * NQ_ENOTFOUND when unknown or already revoked. */
int nq_store_apikey_revoke(nq_store *s, const char *prefix, const char *actor, nq_err *err);
/* Replace a role's permissions with n (unit, action) pairs, audited
 * "permission.change" by actor with the new set as detail; an unknown role
 * is NQ_ENOTFOUND. */
int nq_store_role_set(nq_store *s, const char *role, const char *const *units,
                      const char *const *actions, int n, const char *actor, nq_err *err);

/* Every (role, unit, action) of the permissions table, in no set order;
 * fn returning nonzero stops. */
typedef int (*nq_store_perm_fn)(void *user, const char *role, const char *unit,
                                const char *action);
int nq_store_permissions(nq_store *s, nq_store_perm_fn fn, void *user, nq_err *err);

/* ---- what admins see: users, keys and roles without their secrets ------------- */

/* Pages of the admin lists run by id: the rows with id > after_id, in id
 * order, at most limit of them. */
#define NQ_STORE_LIST_DEFAULT 100
#define NQ_STORE_LIST_MAX 1000

/* A user without the password hash or the TOTP secret. */
typedef struct nq_user_info {
    int64_t id;
    char username[NQ_STORE_USERNAME_MAX + 1];
    char role[32];
    int totp_enabled; /* a confirmed TOTP secret exists */
    int disabled;
    int failed_logins;
    double locked_until; /* 0 when never locked; may lie in the past */
    double created_at;
} nq_user_info;

/* A key without its hash. */
typedef struct nq_apikey_info {
    int64_t id;
    char prefix[16];
    char owner[72];
    char scopes[264];
    double expires_at; /* 0 = never */
    double revoked_at; /* 0 = not revoked */
    double created_at;
} nq_apikey_info;

/* fn gets each row of the page; returning nonzero stops (still NQ_OK).
 * *more (may be NULL) is 1 when rows after the page exist. limit out of
 * 1..NQ_STORE_LIST_MAX or after_id < 0 is NQ_EINVAL ("limit", "after_id"). */
typedef int (*nq_store_user_info_fn)(void *user, const nq_user_info *u);
int nq_store_users_list(nq_store *s, int64_t after_id, int limit, nq_store_user_info_fn fn,
                        void *user, int *more, nq_err *err);
typedef int (*nq_store_apikey_info_fn)(void *user, const nq_apikey_info *k);
int nq_store_apikeys_list(nq_store *s, int64_t after_id, int limit, nq_store_apikey_info_fn fn,
                          void *user, int *more, nq_err *err);

/* Change a user's role (NULL keeps it) and/or whether they are disabled
 * (-1 keeps it, 0 enables, 1 disables), audited "user.update" by actor
 * with the requested change as detail, in one transaction. Disabling also
 * ends the user's refresh tokens (they expire now), so that enabling the
 * user again does not bring old sessions back. Errors: NQ_ENOTFOUND
 * ("username") for an unknown user, NQ_EINVAL ("role") for an unknown
 * role, NQ_EINVAL ("") when nothing is to change. Policy (who may change
 * whom) is the caller's. */
int nq_store_user_update(nq_store *s, const char *username, const char *role, int disabled,
                         const char *actor, nq_err *err);

/* Every role, by name, with its permissions by unit and action: fn once
 * per (role, unit, action), or once with unit and action NULL for a role
 * without any; nonzero stops. */
typedef int (*nq_store_role_fn)(void *user, const char *role, const char *unit,
                                const char *action);
int nq_store_roles_list(nq_store *s, nq_store_role_fn fn, void *user, nq_err *err);

/* ---- audit log ------------------------------------------------------------ */

typedef struct nq_audit_entry {
    const char *actor;       /* user or client id; NULL = "anonymous" / "system" */
    const char *action;      /* "decision.succeeded", "login", "role.grant", ... */
    const char *target;      /* what it acted on, or NULL */
    const char *request_hash; /* hex SHA-256 or NULL */
    const char *result_hash;  /* hex SHA-256 or NULL */
    const char *detail;      /* JSON text or NULL */
    double at;               /* Unix seconds; 0 = now */
} nq_audit_entry;

/* Append one entry: seq = head + 1, prev_hash = the head's hash, entry_hash
 * = SHA-256 over the canonical serialization (audit.c). Appends are
 * serialized across connections and nodes by a lock on the head row. */
int nq_store_audit(nq_store *s, const nq_audit_entry *e, nq_err *err);

typedef struct nq_audit_report {
    int ok;                /* the whole chain verifies */
    int64_t entries;       /* entries checked */
    int64_t head_seq;      /* the head the store records */
    int64_t first_bad_seq; /* the first entry that breaks the chain (0 when ok) */
    char reason[160];      /* why, for a person ("entry hash mismatch: edited", ...) */
} nq_audit_report;

/* Recompute every entry's hash in seq order: an edited entry fails its own
 * hash, a deleted or inserted one breaks the seq run or the prev link, a
 * reordered one breaks the link, a cut-off tail disagrees with the head. */
int nq_store_audit_verify(nq_store *s, nq_audit_report *r, nq_err *err);

/* The report as JSON: {"ok","entries","head_seq","first_bad_seq","reason"}. */
json_t *nq_audit_report_json(const nq_audit_report *r);

/* ---- analytics ------------------------------------------------------------ */

typedef struct nq_analytics_query {
    double from, to;    /* created_at in [from, to), Unix seconds; to 0 = now,
                         * from 0 = 30 days before to */
    const char *bucket; /* "hour" or "day" (UTC boundaries) */
} nq_analytics_query;

#define NQ_ANALYTICS_BUCKETS_MAX 10000     /* series length; more is NQ_ERANGE */
#define NQ_ANALYTICS_ROWS_MAX 1000000      /* decisions scanned for counts */
#define NQ_ANALYTICS_VALUE_ROWS_MAX 100000 /* results parsed for value sums */
#define NQ_ANALYTICS_UNITS_MAX 64          /* more units count as "(other)" */
#define NQ_ANALYTICS_SOLVERS_MAX 64        /* per unit; more count as "(other)" */

/* The dashboard's summary of the decisions in [from, to):
 *   {"from","to": RFC 3339, "bucket", "truncated": bool,
 *    "totals": {"decisions","succeeded","failed","cancelled",
 *               "latency_p50_s","latency_p99_s","quantum_enhanced"},
 *    "units": {"nqba": {the same + "solvers": {"milp": n, ...},
 *                       "value": {"objective": sum, "count": n}}, ...},
 *    "series": [{"start": RFC 3339, "decisions", "per_unit": {"nqba": n},
 *                "latency_p50_s","latency_p99_s"}, ...]}
 * Percentiles are nearest-rank, null without rows; the series has every
 * bucket of the range, empty ones included. "truncated": a scan stopped at
 * NQ_ANALYTICS_ROWS_MAX or NQ_ANALYTICS_VALUE_ROWS_MAX (the newest rows
 * are the ones counted). Errors: NQ_EINVAL for a bad bucket ("bucket") or
 * range ("from" after "to"), NQ_ERANGE ("from") for more than
 * NQ_ANALYTICS_BUCKETS_MAX buckets; the store's errors otherwise. */
int nq_store_analytics(nq_store *s, const nq_analytics_query *q, json_t **out, nq_err *err);

/* ---- backup and restore ------------------------------------------------------ */

/* An export is JSON lines, one object per line, in this order:
 *   {"type":"decision","seq","id","unit","kind","request":{...},
 *    "result":{...}|null,"solver","status","latency_s","user"|null,
 *    "quantum_enhanced","created_at": Unix seconds}       by seq
 *   {"type":"audit","seq","at_us","actor","action","target","request_hash",
 *    "result_hash","detail","prev_hash","entry_hash"}      by seq, verbatim
 *   {"type":"audit_head","seq","hash"}                     last, always
 * The audit fields are the stored text (detail is a string), since the
 * chain's hashes are over exactly those bytes. */

/* Receives one line, without its newline. Nonzero stops the export. */
typedef int (*nq_store_line_fn)(void *user, const char *line, size_t len);

/* The longest line an export writes and an import reads: a decision's line
 * carries its request and result documents. */
#define NQ_STORE_LINE_MAX ((size_t)64 << 20)

/* Stream the decisions with created_at >= since and the audit entries with
 * at_us >= since * 1e6 (since 0: everything), then the head, all read from
 * one snapshot so that the head matches the entries even while a server
 * writes. Rows are read a page at a time. fn returning nonzero is
 * NQ_ECANCEL; a line over NQ_STORE_LINE_MAX is NQ_ELIMIT naming the
 * decision (such a backup could not be restored). An export with since > 0
 * is for reading, not restoring: its audit part is not a whole chain. */
int nq_store_export(nq_store *s, double since, nq_store_line_fn fn, void *user, nq_err *err);

/* A restore: begin, one call per line of an export, end. Everything runs in
 * one write transaction, so a failed import leaves the store as it was.
 *   - decisions keep their ids (a new seq, in the file's order); an id
 *     already stored is NQ_EINVAL: restore into an empty store;
 *   - audit entries are inserted verbatim, and only into an empty audit log
 *     ("the target audit log is not empty"). The file's entries must run
 *     from seq 1, each linked to the one before, and end where the
 *     audit_head line says: a --since export, a cut file or a broken chain
 *     is refused. Entry hashes are kept, not recomputed: an entry edited
 *     before the export still fails nq_store_audit_verify after the import;
 *   - the audit_head line ends the file (nothing may follow it); end with
 *     commit refuses a file without one (cut short).
 * Lines are checked strictly: a bad line is NQ_EINVAL (NQ_EPARSE when it
 * is not JSON, NQ_ELIMIT when too long) with where "line N: /member".
 * Lines that are empty or blank are skipped (still counted). After an
 * error, call end with commit 0. */
typedef struct nq_store_import nq_store_import;

int nq_store_import_begin(nq_store *s, nq_store_import **out, nq_err *err);
int nq_store_import_line(nq_store_import *im, const char *line, size_t len, nq_err *err);
/* What the lines so far added (before end, which frees im). */
void nq_store_import_counts(const nq_store_import *im, int64_t *decisions,
                            int64_t *audit_entries);
/* commit 1: commit (NQ_OK only when the file was whole and no line failed);
 * commit 0: roll back. Frees im either way; NULL is a no-op. */
int nq_store_import_end(nq_store_import *im, int commit, nq_err *err);

#endif
