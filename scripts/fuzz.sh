#!/usr/bin/env bash
# Run every libFuzzer target for $1 seconds (default 60) on its seed corpus.
# New inputs go to fuzz/corpus-<target>/ (ignored by git); crashes to fuzz/.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
CC=clang cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=Debug -DNQ_FUZZ=ON >/dev/null
cmake --build build-fuzz
for src in fuzz/fuzz_*.c; do
    name=$(basename "$src" .c)
    work="fuzz/corpus-${name#fuzz_}"
    mkdir -p "$work"
    echo "== $name for ${secs}s"
    ./build-fuzz/"$name" -max_total_time="$secs" -max_len=65536 -artifact_prefix=fuzz/ \
        "$work" "fuzz/corpus/${name#fuzz_}"
done
