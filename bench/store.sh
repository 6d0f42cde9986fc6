#!/usr/bin/env bash
# Store benchmark (scripts/bench.sh section `store`): decision writes from
# 64 concurrent clients on SQLite (a file in a temp dir) and on a
# throwaway PostgreSQL started with fsync on (scripts/testdb.sh,
# TESTDB_DURABLE=1). Writes a markdown section to OUT (default stdout).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-/dev/stdout}
build=${NQ_BUILD_DIR:-build}
[ -x "$build/bench_store" ] || { echo "bench/store.sh: $build/bench_store missing" >&2; exit 2; }
. bench/durable_pg.sh
"$build/bench_store" --db "$tmp/bench.db" --db "$NQ_TEST_PG_URL" \
    --clients 64 --clients 2 --rounds "${STORE_BENCH_ROUNDS:-3}" \
    --seconds "${STORE_BENCH_SECONDS:-5}" --out "$out"
