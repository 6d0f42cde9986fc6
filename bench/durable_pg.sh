# durable_pg.sh - sourced by the benchmarks that need PostgreSQL: a
# throwaway cluster started with fsync on (scripts/testdb.sh,
# TESTDB_DURABLE=1) in a fresh temp dir $tmp, stopped and removed on exit;
# NQ_TEST_PG_URL names it. Run from the repository root.
tmp=$(mktemp -d)
chmod 755 "$tmp" # the postgres user must reach the cluster below it
trap 'scripts/testdb.sh stop "$tmp/db" >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT
TESTDB_DURABLE=1 scripts/testdb.sh start "$tmp/db" >/dev/null
. "$tmp/db/env"
