/* schema_pg.c - the PostgreSQL schema, one migration script per version.
 *
 * Each script runs once, inside the migration transaction (after the
 * advisory lock), so it uses plain CREATE (no IF NOT EXISTS): a table that
 * already exists means the schema_migrations bookkeeping is wrong, and that
 * should fail loudly rather than be papered over. Unqualified names land in
 * the first schema of search_path, which lets tests run in a schema of
 * their own.
 *
 * Types: times are DOUBLE PRECISION Unix seconds (UTC), JSON documents are
 * JSONB (the server rejects text that is not JSON), money is NUMERIC. The
 * request and result of a decision are JSON instead: checked the same, but
 * stored as text, not decomposed. They are written on every decision and
 * read back whole; decomposing them was a third of a write's cost. */
#include "store_internal.h"

/* Version 1: the whole platform schema. */
static const char nq__schema_pg_v1[] =
    "CREATE TABLE companies ("
    " id BIGSERIAL PRIMARY KEY,"
    " name TEXT NOT NULL,"
    " industry TEXT,"
    " document JSONB,"
    " created_at DOUBLE PRECISION NOT NULL);\n"

    "CREATE TABLE portfolios ("
    " id BIGSERIAL PRIMARY KEY,"
    " company_id BIGINT REFERENCES companies(id),"
    " name TEXT NOT NULL,"
    " document JSONB,"
    " created_at DOUBLE PRECISION NOT NULL);\n"

    "CREATE TABLE leads ("
    " id BIGSERIAL PRIMARY KEY,"
    " company_id BIGINT REFERENCES companies(id),"
    " name TEXT,"
    " email TEXT,"
    " document JSONB,"
    " created_at DOUBLE PRECISION NOT NULL);\n"

    "CREATE TABLE energy_optimization ("
    " id BIGSERIAL PRIMARY KEY,"
    " company_id BIGINT REFERENCES companies(id),"
    " decision_id TEXT,"
    " optimization_target TEXT,"
    " cost_savings NUMERIC,"
    " efficiency_gain DOUBLE PRECISION,"
    " quantum_enhanced BOOLEAN NOT NULL DEFAULT false,"
    " created_at DOUBLE PRECISION NOT NULL);\n"

    "CREATE TABLE portfolio_optimization ("
    " id BIGSERIAL PRIMARY KEY,"
    " portfolio_id BIGINT REFERENCES portfolios(id),"
    " decision_id TEXT,"
    " risk_tolerance TEXT,"
    " target_return DOUBLE PRECISION,"
    " expected_return DOUBLE PRECISION,"
    " quantum_optimized BOOLEAN NOT NULL DEFAULT false,"
    " created_at DOUBLE PRECISION NOT NULL);\n"

    "CREATE TABLE lead_scoring ("
    " id BIGSERIAL PRIMARY KEY,"
    " lead_id BIGINT REFERENCES leads(id),"
    " decision_id TEXT,"
    " score INTEGER,"
    " priority_level TEXT,"
    " quantum_enhanced BOOLEAN NOT NULL DEFAULT false,"
    " created_at DOUBLE PRECISION NOT NULL);\n"

    "CREATE TABLE decisions ("
    " seq BIGSERIAL PRIMARY KEY,"
    " id TEXT NOT NULL UNIQUE,"
    " unit TEXT NOT NULL,"
    " kind TEXT NOT NULL,"
    " request JSON NOT NULL,"
    " result JSON,"
    " solver TEXT NOT NULL DEFAULT '',"
    " status TEXT NOT NULL,"
    " latency DOUBLE PRECISION NOT NULL,"
    " \"user\" TEXT,"
    " quantum_enhanced BOOLEAN NOT NULL DEFAULT false,"
    " created_at DOUBLE PRECISION NOT NULL);\n"
    "CREATE INDEX decisions_unit_seq ON decisions (unit, seq);\n"
    "CREATE INDEX decisions_created ON decisions (created_at);\n"

    "CREATE TABLE jobs ("
    " id TEXT PRIMARY KEY,"
    " kind TEXT NOT NULL,"
    " state TEXT NOT NULL,"
    " priority TEXT NOT NULL,"
    " request JSONB,"
    " result JSONB,"
    " error JSONB,"
    " node TEXT,"
    " lease_until DOUBLE PRECISION,"
    " attempts INTEGER NOT NULL DEFAULT 0,"
    " created_at DOUBLE PRECISION NOT NULL,"
    " started_at DOUBLE PRECISION,"
    " finished_at DOUBLE PRECISION);\n"
    "CREATE INDEX jobs_state ON jobs (state, created_at);\n"

    "CREATE TABLE roles ("
    " name TEXT PRIMARY KEY,"
    " description TEXT NOT NULL);\n"
    "INSERT INTO roles (name, description) VALUES"
    " ('admin', 'Full access, including users, roles and keys'),"
    " ('analyst', 'Runs decisions and solves, reads results'),"
    " ('operator', 'Runs and manages jobs, reads metrics'),"
    " ('viewer', 'Reads decisions and results'),"
    " ('auditor', 'Reads and verifies the audit log');\n"

    "CREATE TABLE users ("
    " id BIGSERIAL PRIMARY KEY,"
    " username TEXT NOT NULL UNIQUE,"
    " password_hash TEXT NOT NULL,"
    " role TEXT NOT NULL REFERENCES roles(name),"
    " totp_secret TEXT,"
    " disabled BOOLEAN NOT NULL DEFAULT false,"
    " failed_logins INTEGER NOT NULL DEFAULT 0,"
    " locked_until DOUBLE PRECISION,"
    " created_at DOUBLE PRECISION NOT NULL);\n"

    "CREATE TABLE permissions ("
    " role TEXT NOT NULL REFERENCES roles(name),"
    " unit TEXT NOT NULL,"
    " action TEXT NOT NULL,"
    " PRIMARY KEY (role, unit, action));\n"

    "CREATE TABLE api_keys ("
    " id BIGSERIAL PRIMARY KEY,"
    " prefix TEXT NOT NULL UNIQUE,"
    " key_hash TEXT NOT NULL,"
    " owner TEXT NOT NULL,"
    " scopes TEXT NOT NULL,"
    " expires_at DOUBLE PRECISION,"
    " revoked_at DOUBLE PRECISION,"
    " created_at DOUBLE PRECISION NOT NULL);\n"

    "CREATE TABLE models ("
    " id BIGSERIAL PRIMARY KEY,"
    " name TEXT NOT NULL,"
    " version INTEGER NOT NULL,"
    " kind TEXT NOT NULL,"
    " document JSONB NOT NULL,"
    " created_by TEXT,"
    " created_at DOUBLE PRECISION NOT NULL,"
    " UNIQUE (name, version));\n"

    /* seq is assigned by the application (head + 1 under the head row's
     * lock), never by a sequence: a sequence leaves gaps on rollback, and
     * the verifier reads a gap as a deleted entry. */
    "CREATE TABLE audit_log ("
    " seq BIGINT PRIMARY KEY,"
    " at_us BIGINT NOT NULL,"
    " actor TEXT NOT NULL,"
    " action TEXT NOT NULL,"
    " target TEXT,"
    " request_hash TEXT,"
    " result_hash TEXT,"
    " detail TEXT,"
    " prev_hash TEXT NOT NULL,"
    " entry_hash TEXT NOT NULL);\n"

    "CREATE TABLE audit_head ("
    " id INTEGER PRIMARY KEY CHECK (id = 1),"
    " seq BIGINT NOT NULL,"
    " hash TEXT NOT NULL);\n"
    "INSERT INTO audit_head (id, seq, hash) VALUES (1, 0,"
    " '0000000000000000000000000000000000000000000000000000000000000000');\n"

    /* One function for the three triggers, the message passed as the
     * trigger's argument. RAISE EXCEPTION without a code is SQLSTATE P0001,
     * which the driver reports as NQ_EINVAL like any other constraint. */
    "CREATE FUNCTION nq_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$\n"
    "BEGIN\n"
    "  RAISE EXCEPTION '%', TG_ARGV[0];\n"
    "END\n"
    "$$;\n"
    "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log"
    " FOR EACH ROW EXECUTE FUNCTION nq_reject_change('audit_log is append-only');\n"
    "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log"
    " FOR EACH ROW EXECUTE FUNCTION nq_reject_change('audit_log is append-only');\n"
    "CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head"
    " FOR EACH ROW EXECUTE FUNCTION nq_reject_change('audit_head cannot be deleted');\n";

/* Version 2: what authentication needs (see schema_sqlite.c), and TRUNCATE
 * refused on the audit log (row triggers do not see it). */
static const char nq__schema_pg_v2[] =
    "ALTER TABLE users ADD COLUMN totp_confirmed BOOLEAN NOT NULL DEFAULT false;\n"
    "ALTER TABLE users ADD COLUMN totp_last_step BIGINT;\n"
    "CREATE TABLE refresh_tokens (\n"
    "    id TEXT PRIMARY KEY,\n"
    "    family TEXT NOT NULL,\n"
    "    user_id BIGINT NOT NULL REFERENCES users(id),\n"
    "    token_hash TEXT NOT NULL UNIQUE,\n"
    "    mfa BOOLEAN NOT NULL DEFAULT false,\n"
    "    expires_at DOUBLE PRECISION NOT NULL,\n"
    "    used_at DOUBLE PRECISION,\n"
    "    revoked_at DOUBLE PRECISION,\n"
    "    created_at DOUBLE PRECISION NOT NULL\n"
    ");\n"
    "CREATE INDEX refresh_tokens_family ON refresh_tokens (family);\n"
    "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log"
    " FOR EACH STATEMENT EXECUTE FUNCTION nq_reject_change('audit_log is append-only');\n"
    "INSERT INTO permissions (role, unit, action) VALUES\n"
    "    ('admin', 'flyfox', 'manage'),\n"
    "    ('admin', 'flyfox', 'read'),\n"
    "    ('admin', 'flyfox', 'run'),\n"
    "    ('admin', 'goliath', 'manage'),\n"
    "    ('admin', 'goliath', 'read'),\n"
    "    ('admin', 'goliath', 'run'),\n"
    "    ('admin', 'nqba', 'manage'),\n"
    "    ('admin', 'nqba', 'read'),\n"
    "    ('admin', 'nqba', 'run'),\n"
    "    ('admin', 'sigma', 'manage'),\n"
    "    ('admin', 'sigma', 'read'),\n"
    "    ('admin', 'sigma', 'run'),\n"
    "    ('admin', 'system', 'manage'),\n"
    "    ('admin', 'system', 'read'),\n"
    "    ('admin', 'system', 'run'),\n"
    "    ('analyst', 'flyfox', 'read'),\n"
    "    ('analyst', 'flyfox', 'run'),\n"
    "    ('analyst', 'goliath', 'read'),\n"
    "    ('analyst', 'goliath', 'run'),\n"
    "    ('analyst', 'nqba', 'read'),\n"
    "    ('analyst', 'nqba', 'run'),\n"
    "    ('analyst', 'sigma', 'read'),\n"
    "    ('analyst', 'sigma', 'run'),\n"
    "    ('analyst', 'system', 'read'),\n"
    "    ('auditor', 'flyfox', 'read'),\n"
    "    ('auditor', 'goliath', 'read'),\n"
    "    ('auditor', 'nqba', 'read'),\n"
    "    ('auditor', 'sigma', 'read'),\n"
    "    ('auditor', 'system', 'read'),\n"
    "    ('operator', 'flyfox', 'read'),\n"
    "    ('operator', 'flyfox', 'run'),\n"
    "    ('operator', 'goliath', 'read'),\n"
    "    ('operator', 'goliath', 'run'),\n"
    "    ('operator', 'nqba', 'read'),\n"
    "    ('operator', 'nqba', 'run'),\n"
    "    ('operator', 'sigma', 'read'),\n"
    "    ('operator', 'sigma', 'run'),\n"
    "    ('viewer', 'flyfox', 'read'),\n"
    "    ('viewer', 'goliath', 'read'),\n"
    "    ('viewer', 'nqba', 'read'),\n"
    "    ('viewer', 'sigma', 'read');\n";

/* Version 3: what the shared job queue needs (lib/store/queue.c and
 * docs/internals/queue.md). body is the request exactly as submitted and
 * request_text what the decision stores: the JSONB request column would
 * reorder keys and respell numbers. result, error and progress become
 * JSON for the same reason: checked, but read back as written. prio is the
 * priority as a number so that ORDER BY prio puts high before low. The
 * partial indexes serve the claim (only live jobs, in claim order) and
 * make an Idempotency-Key unique where one was given. */
static const char nq__schema_pg_v3[] =
    "ALTER TABLE jobs ADD COLUMN body TEXT;\n"
    "ALTER TABLE jobs ADD COLUMN request_text TEXT;\n"
    "ALTER TABLE jobs ADD COLUMN prio SMALLINT NOT NULL DEFAULT 1 CHECK (prio IN (0, 1, 2));\n"
    "ALTER TABLE jobs ADD COLUMN idem_key TEXT;\n"
    "ALTER TABLE jobs ADD COLUMN request_hash TEXT;\n"
    "ALTER TABLE jobs ADD COLUMN lease_token TEXT;\n"
    "ALTER TABLE jobs ADD COLUMN cancel_requested BOOLEAN NOT NULL DEFAULT false;\n"
    "ALTER TABLE jobs ADD COLUMN progress JSON;\n"
    "ALTER TABLE jobs ALTER COLUMN result TYPE JSON USING result::text::json;\n"
    "ALTER TABLE jobs ALTER COLUMN error TYPE JSON USING error::text::json;\n"
    "CREATE UNIQUE INDEX jobs_idem_key ON jobs (idem_key) WHERE idem_key IS NOT NULL;\n"
    "CREATE INDEX jobs_claim ON jobs (prio, created_at)"
    " WHERE state IN ('queued', 'running');\n"
    /* nq_queue_prune: ended jobs by age */
    "CREATE INDEX jobs_finished ON jobs (finished_at) WHERE finished_at IS NOT NULL;\n";

const char *const nq__schema_pg[] = {
    nq__schema_pg_v1,
    nq__schema_pg_v2,
    nq__schema_pg_v3,
};

_Static_assert(sizeof nq__schema_pg / sizeof nq__schema_pg[0] == NQ__SCHEMA_PG_N,
               "NQ__SCHEMA_PG_N in store_internal.h must count the scripts above");

const int nq__schema_pg_n = NQ__SCHEMA_PG_N;
