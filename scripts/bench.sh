#!/usr/bin/env bash
# Run the benchmarks and put each one's tables into docs/BENCHMARKS.md
# between the markers of its section (other sections are left alone).
# Usage: scripts/bench.sh [SHARED_DIR] [engine|cqm|http|store|cluster|portfolio|energy|assess|leads ...]  (default: all)
set -euo pipefail
cd "$(dirname "$0")/.."
shared=${1:-../shared}
shift || true
doc=docs/BENCHMARKS.md
[ -f "$doc" ] || printf '# Benchmarks\n\nProduced by `make bench`.\n' >"$doc"

# replace_section NAME FILE: put FILE between <!-- bench:NAME --> markers.
replace_section() {
    local begin="<!-- bench:$1 -->" end="<!-- /bench:$1 -->"
    if ! grep -qF "$begin" "$doc"; then printf '\n%s\n%s\n' "$begin" "$end" >>"$doc"; fi
    awk -v b="$begin" -v e="$end" -v f="$2" '
        $0 == b { print; while ((getline l < f) > 0) print l; skip = 1; next }
        $0 == e { skip = 0 }
        !skip { print }' "$doc" >"$doc.tmp"
    mv "$doc.tmp" "$doc"
}

sections=("$@")
[ ${#sections[@]} -gt 0 ] || sections=(engine cqm http store cluster portfolio energy assess leads)
for s in "${sections[@]}"; do
    out=$(mktemp)
    case "$s" in
    engine) ./build/bench_engine --gset "$shared/data/gset" --out "$out" ;;
    cqm) ./build/bench_cqm --out "$out" ;;
    http) bench/http.sh "$out" ;;
    store) bench/store.sh "$out" ;;
    cluster) bench/cluster.sh "$out" ;;
    portfolio)
        peer=$(mktemp)
        /usr/bin/python3 bench/peer_portfolio.py "$shared" >"$peer" ||
            echo "bench.sh: no portfolio peer (python3-cvxopt, python3-scipy, python3-pandas)" >&2
        ./build/bench_portfolio "$shared" --peer "$peer" >"$out"
        rm -f "$peer" ;;
    assess) ./build/bench_assess "$shared" >"$out" ;;
    leads) { ./build/bench_leads "$shared"; echo; ./build/bench_assign; } >"$out" ;;
    energy) { ./build/bench_energy "$shared"; echo; ./build/bench_uc "$shared"; } >"$out" ;;
    *) echo "bench.sh: unknown section $s" >&2; exit 2 ;;
    esac
    replace_section "$s" "$out"
    rm -f "$out"
done
cat "$doc"
