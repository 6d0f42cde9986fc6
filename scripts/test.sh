#!/usr/bin/env bash
# Build and run every test: the unit and CLI tests with gcc (optimized), the
# dashboard in headless Chromium against that build, the unit and CLI tests
# again with clang under AddressSanitizer + UndefinedBehaviorSanitizer, then
# a short run of every fuzzer. Ends with one summary line "N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/.."
SHARED=${SHARED:-$(cd .. && pwd)/shared}
FUZZ_RUNS=${FUZZ_RUNS:-20000}
passed=0
failed=0

count_ctest() { # $1 = ctest log
    local line p t
    line=$(grep -E '[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$1" | tail -n 1)
    if [ -z "$line" ]; then failed=$((failed + 1)); return; fi
    t=$(sed -E 's/.* out of ([0-9]+).*/\1/' <<<"$line")
    p=$(sed -E 's/.*, ([0-9]+) tests? failed.*/\1/' <<<"$line")
    passed=$((passed + t - p))
    failed=$((failed + p))
}

run_suite() { # $1 = build dir, $2 = compiler, rest = cmake flags
    local dir=$1 cc=$2
    shift 2
    echo "== $dir ($cc $*)"
    if ! CC=$cc cmake -S . -B "$dir" -G Ninja -DNQ_SHARED_DIR="$SHARED" "$@" >/dev/null ||
       ! cmake --build "$dir"; then
        echo "build failed: $dir"
        failed=$((failed + 1))
        return
    fi
    # One test at a time: the solver tests check time limits to 50 ms and
    # use both cores themselves.
    (cd "$dir" && ctest --output-on-failure) 2>&1 | tee "$dir/ctest.log"
    count_ctest "$dir/ctest.log"
}

# The dashboard in headless Chromium (tests/e2e/dashboard.py) against the
# Release build's server. Debian's Python: it has python3-selenium.
run_e2e() {
    echo "== e2e dashboard (headless Chromium)"
    if [ ! -x build/nqba ]; then
        echo "e2e: build/nqba is missing"
        failed=$((failed + 1))
        return
    fi
    if NQ_BIN="$PWD/build/nqba" NQ_E2E_ARTIFACTS="${NQ_E2E_ARTIFACTS:-$PWD/build/e2e-artifacts}" \
        timeout 300 /usr/bin/python3 tests/e2e/dashboard.py; then
        passed=$((passed + 1))
    else
        echo "e2e: FAILED (screenshots and server.log in ${NQ_E2E_ARTIFACTS:-build/e2e-artifacts})"
        failed=$((failed + 1))
    fi
}

run_fuzzers() {
    echo "== fuzz smoke ($FUZZ_RUNS runs per target)"
    if ! CC=clang cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=Debug -DNQ_FUZZ=ON >/dev/null ||
       ! cmake --build build-fuzz; then
        echo "build failed: build-fuzz"
        failed=$((failed + 1))
        return
    fi
    for src in fuzz/fuzz_*.c; do
        local name corpus
        name=$(basename "$src" .c)
        corpus=$(mktemp -d)
        cp -r "fuzz/corpus/${name#fuzz_}/." "$corpus/" 2>/dev/null || true
        if ./build-fuzz/"$name" -runs="$FUZZ_RUNS" -max_len=4096 "$corpus" >"build-fuzz/$name.log" 2>&1; then
            echo "fuzz $name: ok"
            passed=$((passed + 1))
        else
            echo "fuzz $name: FAILED"
            tail -n 30 "build-fuzz/$name.log"
            failed=$((failed + 1))
        fi
        rm -rf "$corpus"
    done
}

# A throwaway PostgreSQL and Redis for the store tests (scripts/testdb.sh),
# stopped on the way out whatever happens.
dbdir=$(mktemp -d)
chmod 755 "$dbdir" # the postgres user must reach the cluster below it
trap 'scripts/testdb.sh stop "$dbdir" >/dev/null 2>&1; rm -rf "$dbdir"' EXIT
if scripts/testdb.sh start "$dbdir"; then
    set -a
    . "$dbdir/env"
    set +a
else
    echo "testdb: could not start PostgreSQL and Redis"
    failed=$((failed + 1))
fi

run_suite build gcc -DCMAKE_BUILD_TYPE=Release
run_e2e
run_suite build-asan clang -DCMAKE_BUILD_TYPE=Debug -DNQ_SANITIZE=ON
run_fuzzers

echo "tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
