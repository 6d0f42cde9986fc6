#!/usr/bin/env bash
# Run the engine benchmark and put its table into docs/BENCHMARKS.md
# between the markers of its section (other sections are left alone).
set -euo pipefail
cd "$(dirname "$0")/.."
shared=${1:-../shared}
doc=docs/BENCHMARKS.md
section=$(mktemp)
./build/bench_engine --gset "$shared/data/gset" --out "$section"
begin='<!-- bench:engine -->'
end='<!-- /bench:engine -->'
[ -f "$doc" ] || printf '# Benchmarks\n\nProduced by `make bench`.\n' >"$doc"
if ! grep -qF "$begin" "$doc"; then printf '\n%s\n%s\n' "$begin" "$end" >>"$doc"; fi
awk -v b="$begin" -v e="$end" -v f="$section" '
    $0 == b { print; while ((getline l < f) > 0) print l; skip = 1; next }
    $0 == e { skip = 0 }
    !skip { print }' "$doc" >"$doc.tmp"
mv "$doc.tmp" "$doc"
rm -f "$section"
cat "$doc"
