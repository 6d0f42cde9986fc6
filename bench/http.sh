#!/usr/bin/env bash
# HTTP server benchmark (scripts/bench.sh section `http`): wrk against
# `nqba serve` on loopback, then 10,000 held keep-alive connections
# (build/bench_http_hold). Writes a markdown section to OUT (default stdout).
#
# Usage: bench/http.sh [OUT]   (needs the Release build in ./build, or in
#        $NQ_BUILD_DIR, and wrk)
#
# Every wrk run is 2 threads for 10 s. The server's CPU time per request
# comes from its utime + stime in /proc/PID/stat before and after each run.
# wrk and the server share the machine's cores, so throughput figures are
# for the server with part of the machine, not all of it.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-/dev/stdout}
build=${NQ_BUILD_DIR:-build} # another Release build can stand in for ./build
bin=$build/nqba
hold=$build/bench_http_hold
duration=${HTTP_BENCH_DURATION:-10s}
for f in "$bin" "$hold"; do
    [ -x "$f" ] || { echo "bench/http.sh: $f missing (cmake --build $build)" >&2; exit 2; }
done
command -v wrk >/dev/null || { echo "bench/http.sh: wrk not installed" >&2; exit 2; }

# 10,000 connections need as many descriptors in the server and in the
# client, each a process of its own: the soft limit goes up to the hard one.
hard=$(ulimit -Hn)
ulimit -n "$hard"
nofile=$(ulimit -n)
nofile_note=""
if [ "$nofile" != unlimited ] && [ "$nofile" -lt 20000 ]; then
    nofile_note="The open-files hard limit is $nofile (below the 20,000 the 10,000-connection run needs)."
    echo "bench/http.sh: $nofile_note" >&2
fi

tmp=$(mktemp -d)
server_pid=""
cleanup() {
    if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
    rm -rf "$tmp"
}
trap cleanup EXIT

# Every route but the health checks needs credentials: an API key with
# every scope, made the way an operator makes one.
api_key=$("$bin" apikey add --owner bench --db "$tmp/nqba.db" 2>/dev/null)
"$bin" serve --listen 127.0.0.1:0 --port-file "$tmp/port" --access-log "$tmp/access.log" --db "$tmp/nqba.db" \
    --rate-limit-ip 0 --rate-limit-principal 0 \
    >"$tmp/server.out" 2>"$tmp/server.err" &
server_pid=$!
for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.1; done
[ -s "$tmp/port" ] || { echo "bench/http.sh: server did not start" >&2; cat "$tmp/server.err" >&2; exit 1; }
port=$(cat "$tmp/port")
base="http://127.0.0.1:$port"
ticks=$(getconf CLK_TCK)

# A 50-item knapsack as a decision request (fixed data, awk's own generator
# with a fixed seed), solved by the MILP solver: proven optimal in well
# under a millisecond, a small request as the bars mean it. "seed": 0 is the
# placeholder the uncached script replaces.
awk 'BEGIN {
    srand(7); n = 50
    printf "{\"name\": \"knapsack 50\", \"variables\": ["
    for (i = 0; i < n; i++) printf "%s{\"name\": \"x%d\", \"type\": \"binary\"}", (i ? ", " : ""), i
    printf "], \"objective\": {\"sense\": \"maximize\", \"linear\": {"
    for (i = 0; i < n; i++) printf "%s\"x%d\": %d", (i ? ", " : ""), i, 10 + int(rand() * 90)
    printf "}}, \"constraints\": [{\"name\": \"weight\", \"linear\": {"
    for (i = 0; i < n; i++) { w = 5 + int(rand() * 45); tw += w; printf "%s\"x%d\": %d", (i ? ", " : ""), i, w }
    printf "}, \"sense\": \"<=\", \"rhs\": %d}], \"options\": {\"solver\": \"milp\", \"seed\": 0}}", int(tw / 3)
}' >"$tmp/decision.json"
decision_bytes=$(wc -c <"$tmp/decision.json")

# Identical body on every request: answered from the result cache.
cat >"$tmp/cached.lua" <<EOF
local f = io.open("$tmp/decision.json", "rb")
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $api_key"
EOF
# A new seed on every request (per wrk thread: thread number and a counter),
# so that no request is a cache hit.
cat >"$tmp/uncached.lua" <<EOF
local threads = 0
function setup(thread)
    threads = threads + 1
    thread:set("tid", threads)
end
local prefix, suffix, counter
function init(args)
    local f = io.open("$tmp/decision.json", "rb")
    local body = f:read("*a")
    f:close()
    local at = body:find('"seed": 0', 1, true)
    prefix = body:sub(1, at + 7)
    suffix = body:sub(at + 9)
    counter = 0
end
function request()
    counter = counter + 1
    local body = prefix .. tostring(tid * 1000000000 + counter) .. suffix
    return wrk.format("POST", "/api/v1/nqba/decision-engine",
                      {["Content-Type"] = "application/json",
                       ["Authorization"] = "Bearer $api_key"}, body)
end
EOF

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$server_pid/stat"; }

# codes ROUTE: "status count" lines from the server's http_requests_total.
codes() {
    curl -s -H "Authorization: Bearer $api_key" "$base/metrics" | awk -v r="route=\"$1\"" '
        /^http_requests_total\{/ && index($1, r) {
            match($1, /code="[0-9]+"/); n[substr($1, RSTART + 6, 3)] += $2
        }
        END { for (c in n) print c, n[c] }' | sort
}

# codes_delta BEFORE AFTER: "200: n, 202: m" for the answers in between.
codes_delta() {
    awk 'FILENAME == ARGV[1] { b[$1] = $2; next }
         { d = $2 - b[$1]; if (d > 0) { printf "%s%s: %d", sep, $1, d; sep = ", " } }' "$1" "$2"
}

# to_ms VALUE: wrk's "1.23ms" / "850.00us" / "1.02s" in milliseconds.
to_ms() {
    awk -v v="$1" 'BEGIN {
        if (v ~ /us$/) { sub(/us$/, "", v); printf "%.3f", v / 1000 }
        else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.3f", v }
        else if (v ~ /m$/) { sub(/m$/, "", v); printf "%.3f", v * 60000 }
        else { sub(/s$/, "", v); printf "%.3f", v * 1000 }
    }'
}

rows=""
declare -A RPS MEAN P99 CPU
# run KEY NAME CONNS [wrk args...]: one wrk run, one table row; its figures
# also go to RPS, MEAN and P99 under "KEY CONNS".
run() {
    local key=$1 name=$2 conns=$3
    shift 3
    local c0 c1 log reqs rps mean p99 non2xx sockerr cpu_us answers route
    log="$tmp/wrk.log"
    route=/api/v1/nqba/decision-engine
    [ "$key" = healthz ] && route=/healthz
    codes "$route" >"$tmp/codes.before"
    c0=$(cpu_ticks)
    wrk -t2 -c"$conns" -d"$duration" --latency "$@" >"$log" 2>&1 || true
    c1=$(cpu_ticks)
    sleep 1 # answers to requests wrk left open still count
    codes "$route" >"$tmp/codes.after"
    answers=$(codes_delta "$tmp/codes.before" "$tmp/codes.after")
    reqs=$(awk '/requests in/ { print $1 }' "$log")
    rps=$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$log")
    mean=$(to_ms "$(awk '$1 == "Latency" { print $2; exit }' "$log")")
    p99=$(to_ms "$(awk '$1 == "99%" { print $2 }' "$log")")
    non2xx=$(awk '/Non-2xx or 3xx responses:/ { print $NF }' "$log")
    sockerr=$(awk '/Socket errors:/ { gsub(",", ""); print $4 + $6 + $8 + $10 }' "$log")
    cpu_us=$(awk -v t="$((c1 - c0))" -v hz="$ticks" -v n="${reqs:-0}" \
        'BEGIN { if (n > 0) printf "%.1f", t / hz / n * 1e6; else print "-" }')
    echo "  $name, $conns connections: ${rps:-?} req/s, mean ${mean} ms, p99 ${p99} ms" >&2
    rows+="| $name | $conns | ${rps:--} | $mean | $p99 | ${non2xx:-0} | ${sockerr:-0} | $cpu_us | $answers |"$'\n'
    RPS["$key $conns"]=${rps:-0}
    MEAN["$key $conns"]=$mean
    P99["$key $conns"]=$p99
    CPU["$key $conns"]=$cpu_us
}

echo "bench/http.sh: server on port $port, $duration per run" >&2
for conns in 64 1000; do
    run healthz "GET /healthz" "$conns" "$base/healthz"
done
for conns in 64 1000; do
    run uncached "POST decision, uncached" "$conns" -s "$tmp/uncached.lua" "$base/api/v1/nqba/decision-engine"
    run cached "POST decision, cached" "$conns" -s "$tmp/cached.lua" "$base/api/v1/nqba/decision-engine"
done

echo "bench/http.sh: holding 10,000 connections" >&2
"$hold" --port "$port" --conns 10000 --fresh 20 >"$tmp/hold.txt" 2>&1 || true
hv() { awk -v k="$1" '$1 == k { print $2 }' "$tmp/hold.txt"; }
held=$(hv held); held=${held:-0}
second=$(hv second); second=${second:-0}
cat "$tmp/hold.txt" >&2

# Server state after everything: still ready, and its own view of requests.
ready=$(curl -s -o /dev/null -w '%{http_code}' "$base/readyz" || echo 000)
kill -TERM "$server_pid"
wait "$server_pid" && exit_status=0 || exit_status=$?
server_pid=""

yes_no() { awk -v c="$1" 'BEGIN { print (c ? "yes" : "**no**") }'; }
h64_p99=${P99[healthz 64]}; h64_mean=${MEAN[healthz 64]}
dec_p99=${P99[uncached 64]}; dec_mean=${MEAN[uncached 64]}
cac_p99=${P99[cached 64]}; cac_mean=${MEAN[cached 64]}
worst_p99=$(printf '%s\n' "$h64_p99" "$dec_p99" "$cac_p99" | sort -g | tail -n 1)
worst_mean=$(printf '%s\n' "$h64_mean" "$dec_mean" "$cac_mean" | sort -g | tail -n 1)
best_rps=$(printf '%s\n' "${RPS[healthz 64]}" "${RPS[healthz 1000]}" | sort -g | tail -n 1)
version=$("$bin" --version | awk '{ print $2 }')
model=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
wrk_version=$( (wrk -v 2>&1 || true) | awk 'NR == 1 { print $2 }' | sed 's|.*/||; s|-.*||')

{
    echo "## HTTP server"
    echo
    echo "Command: \`scripts/bench.sh ../shared http\` (\`bench/http.sh\`: wrk $wrk_version, 2 threads, ${duration%s} s per run, \`--latency\`; then \`$hold\`), nqba $version, $(date +%F)."
    echo "Machine: ${model:-unknown CPU}, $(nproc) online cores, Linux $(uname -r). wrk and the server share these cores, so the server works with what wrk leaves it."
    echo "Server: \`$bin serve --listen 127.0.0.1:0 --access-log FILE --db DIR/nqba.db --rate-limit-ip 0 --rate-limit-principal 0\` (Release build; every load comes from one address and one API key, which the default limits would stop), defaults otherwise (2 HTTP threads, one job worker per core, result cache of 1,000; every job stored in SQLite before it is answered). Open files: soft limit raised to $nofile.${nofile_note:+ $nofile_note}"
    echo
    echo "The decision is a 50-item knapsack ($decision_bytes bytes, 50 binaries, one constraint) solved by \`milp\`, proven optimal in well under a millisecond. Uncached: a wrk script gives every request its own \`seed\`, so every request is a new job; cached: the same body every time, answered from the result cache. CPU per request: the server's user + system time over the run divided by the requests completed. wrk counts only 4xx and 5xx as non-2xx, and counts a 202 (a job that outlived the 100 ms sync budget: accepted, its result fetched later from \`/api/v1/jobs\`) in req/s like an answer; the last column, from the server's \`http_requests_total\`, tells them apart. 429 is the job queue (1,024 jobs) pushing back."
    echo
    echo "| request | connections | req/s | mean latency (ms) | p99 latency (ms) | non-2xx | socket errors | server CPU per request (µs) | answers by status (server's count) |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---|"
    printf '%s' "$rows"
    echo
    echo "### 10,000 concurrent keep-alive connections"
    echo
    echo "| measure | value |"
    echo "|---|---:|"
    echo "| connections opened, each answered GET /healthz | $held of $(hv conns) in $(hv open_s) s |"
    echo "| fresh connections answered while holding them | $(hv fresh_ok) of $(hv fresh) |"
    echo "| their latency, median / max (ms) | $(hv fresh_median_ms) / $(hv fresh_max_ms) |"
    echo "| second request on every held connection: answered | $second of $(hv conns) in $(hv second_s) s |"
    echo "| /readyz after the runs; exit status after SIGTERM | $ready; $exit_status |"
    echo
    echo "### Against the bars"
    echo
    echo "| bar | measured | met |"
    echo "|---|---|---|"
    echo "| small requests at 64 connections: p99 < 50 ms | worst $worst_p99 ms (healthz $h64_p99, decision uncached $dec_p99, cached $cac_p99) | $(yes_no "$(awk -v v="$worst_p99" 'BEGIN { print (v < 50) }')") |"
    echo "| small requests at 64 connections: mean < 10 ms | worst $worst_mean ms (healthz $h64_mean, decision uncached $dec_mean, cached $cac_mean) | $(yes_no "$(awk -v v="$worst_mean" 'BEGIN { print (v < 10) }')") |"
    echo "| 10,000 connections held | $held held, $second answered again | $(yes_no "$([ "$held" -ge 10000 ] && [ "$second" -ge 10000 ] && echo 1 || echo 0)") |"
    echo "| /healthz >= 20,000 req/s | $best_rps req/s (best of 64 and 1,000 connections; wrk on the same cores) | $(yes_no "$(awk -v v="$best_rps" 'BEGIN { print (v >= 20000) }')") |"
    echo
    echo "With every connection busy (wrk waits for each answer before sending the next), mean latency is connections / throughput. An uncached decision is a real solve (GLPK's branch and bound, started from an incumbent built from its LP relaxation: about a quarter of the server's CPU), plus parsing, validation, the answer's explanation and its durable write to the store (the decision row and its audit entry, written by the store thread in batches, one fsync each, before the answer is sent: about a fifth), about ${CPU[uncached 64]:-?} us of server CPU, on cores wrk shares: 64 connections then wait about 64 / ${RPS[uncached 64]:-?} s each. At 1,000 connections the job queue (1,024) can fill, and the server then answers 429 with Retry-After rather than queue without bound."
} >"$out"
