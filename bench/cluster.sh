#!/usr/bin/env bash
# Scale-out benchmark (scripts/bench.sh section `cluster`): jobs per second
# through the shared PostgreSQL queue with 1 and 2 `nqba worker` processes,
# on a throwaway PostgreSQL started with fsync on (scripts/testdb.sh,
# TESTDB_DURABLE=1). Writes a markdown section to OUT (default stdout).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-/dev/stdout}
build=${NQ_BUILD_DIR:-build}
[ -x "$build/bench_cluster" ] || { echo "bench/cluster.sh: $build/bench_cluster missing" >&2; exit 2; }
. bench/durable_pg.sh
"$build/bench_cluster" --db "$NQ_TEST_PG_URL" --bin "$build/nqba" \
    --jobs "${CLUSTER_BENCH_JOBS:-300}" --rounds "${CLUSTER_BENCH_ROUNDS:-3}" --out "$out"
