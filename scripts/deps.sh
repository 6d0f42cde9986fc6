#!/usr/bin/env bash
# Install every Debian package NQBA needs to build, test, fuzz and benchmark.
# Idempotent: when everything is present it only checks and returns.
set -euo pipefail

PACKAGES=(
  gcc make cmake ninja-build pkg-config git
  clang libclang-rt-14-dev      # libFuzzer and sanitizer runtimes for clang
  libjansson-dev                # JSON
  libglpk-dev                   # GLPK: MPS/LP reading and the exact MILP solver
  libmicrohttpd-dev             # HTTP server library behind `nqba serve` (epoll thread pool)
  libjemalloc-dev               # the allocator the nqba command links (many small cross-thread frees)
  wrk curl                      # HTTP benchmark (make bench)
  libcmocka-dev                 # unit tests
  libsqlite3-dev sqlite3        # the store's embedded database (and its shell)
  libpq-dev                     # the store's PostgreSQL driver
  postgresql redis-server       # throwaway servers for the tests (scripts/testdb.sh)
  libhiredis-dev                # the shared result cache (Redis)
  libsodium-dev                 # password hashing, token MACs, field encryption
  liblapack-dev                 # Cholesky and eigenvalues for the portfolio optimizer
  python3-cvxopt python3-scipy python3-pandas  # portfolio benchmark peers (make bench)
  liblinear-dev libxgboost-dev  # lead scoring: logistic regression, gradient-boosted trees
  libjs-chart.js                # the dashboard's charts, compiled into the server
  chromium chromium-driver python3-selenium  # the dashboard's browser test (tests/e2e)
  haproxy                       # the load balancer in front of the cluster test's API nodes
  yamllint prometheus python3-yaml  # deploy/ checks: YAML lint, promtool on the alert rules
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "deps.sh: need root or sudo to install: ${missing[*]}" >&2; exit 1
  fi
fi
echo "deps.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
