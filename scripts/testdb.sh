#!/usr/bin/env bash
# Start or stop a throwaway PostgreSQL cluster and redis-server for tests.
#
#   scripts/testdb.sh start DIR   init and start both under DIR, write DIR/env
#   scripts/testdb.sh stop DIR    stop both (safe twice, or after a failed start)
#
# DIR/env holds two lines, also printed by start:
#   NQ_TEST_PG_URL=postgresql://nqba@127.0.0.1:PORT/nqba_test
#   NQ_TEST_REDIS_URL=redis://127.0.0.1:PORT
# so a run is:
#   scripts/testdb.sh start /tmp/tdb && . /tmp/tdb/env && export NQ_TEST_PG_URL NQ_TEST_REDIS_URL
#   ctest --test-dir build ...; scripts/testdb.sh stop /tmp/tdb
#
# Both servers listen on 127.0.0.1 only, on free ports picked at random, so
# several runs (and a system cluster on 5432, which this never touches) can
# live side by side. The cluster trusts local connections and runs with
# fsync off: it holds test data only and is deleted by stop (the server
# logs, DIR/pg-server.log and DIR/redis.log, stay). TESTDB_DURABLE=1 turns
# fsync on, for benchmarks that measure commits.
#
# PostgreSQL refuses to run as root, so as root the data directory belongs
# to the postgres user and initdb/pg_ctl run through runuser. Set PG_BIN to
# use a particular server build (the directory holding initdb and pg_ctl).
set -euo pipefail

PG_USER=nqba
PG_DB=nqba_test

die() { echo "testdb.sh: $*" >&2; exit 1; }

usage() { die "usage: testdb.sh start|stop DIR"; }

# The directory holding initdb and pg_ctl. Debian keeps the server
# binaries in /usr/lib/postgresql/VERSION/bin (only wrappers are on PATH),
# so look there first, newest version first.
find_pg_bin() {
  if [ -n "${PG_BIN:-}" ]; then
    if [ ! -x "$PG_BIN/initdb" ] || [ ! -x "$PG_BIN/pg_ctl" ]; then
      die "PG_BIN=$PG_BIN has no initdb/pg_ctl"
    fi
    echo "$PG_BIN"; return
  fi
  local d
  for d in $(printf '%s\n' /usr/lib/postgresql/*/bin | sort -t/ -k4,4 -V -r); do
    if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then echo "$d"; return; fi
  done
  for d in /usr/local/pgsql/bin /usr/pgsql-*/bin; do
    if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then echo "$d"; return; fi
  done
  local p
  if p=$(command -v pg_ctl 2>/dev/null) && p=$(readlink -f "$p") && [ -x "$(dirname "$p")/initdb" ]; then
    dirname "$p"; return
  fi
  die "PostgreSQL server binaries (initdb, pg_ctl) not found; run scripts/deps.sh or set PG_BIN"
}

# Run a server command as the user that owns the cluster.
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# Is the port taken on 127.0.0.1 (by a listener, or by any connection:
# an outgoing one holding it as its local port blocks a bind too)?
port_busy() {
  if command -v ss >/dev/null 2>&1 && [ -n "$(ss -Htan "sport = :$1" 2>/dev/null)" ]; then
    return 0
  fi
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# A free port below the kernel's ephemeral range (where outgoing
# connections take theirs, so a port free now may not be a moment later),
# from a random start. Two ports are taken before either server binds, so
# skip the one already handed out.
free_port() {
  local skip=${1:-0} p lo=20000 hi=32000 eph
  eph=$(awk '{ print $1 }' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
  if [ "$eph" -gt $((lo + 1000)) ] 2>/dev/null; then
    hi=$((eph < 60000 ? eph : 60000))
  else # an unusual range starting low: go above the default range's end
    lo=61000 hi=65000
  fi
  p=$(( lo + (RANDOM * 32768 + RANDOM) % (hi - lo) ))
  for _ in $(seq 1 200); do
    if [ "$p" != "$skip" ] && ! port_busy "$p"; then echo "$p"; return; fi
    p=$(( p + 1 )); [ "$p" -lt "$hi" ] || p=$lo
  done
  die "no free TCP port found"
}

# Wait until a server answers: $1 seconds, then the rest is the check.
wait_for() {
  local tries=$(( $1 * 10 )); shift
  while [ "$tries" -gt 0 ]; do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.1; tries=$(( tries - 1 ))
  done
  return 1
}

# Does the redis-server on port $1 answer PING? (A subshell: a failed
# exec redirection must not end the script.)
redis_pong() {
  (
    exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
    printf 'PING\r\n' >&3
    IFS= read -r -t 1 line <&3 || exit 1
    [ "${line%$'\r'}" = "+PONG" ]
  ) 2>/dev/null
}

start_pg() {
  local dir=$1 port=$2 bin
  bin=$(find_pg_bin)
  mkdir -p "$dir/pg"
  if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || die "running as root needs the postgres user (installed with postgresql)"
    chown postgres: "$dir/pg"
    runuser -u postgres -- test -w "$dir/pg" ||
      die "the postgres user cannot reach $dir/pg; use a DIR under a directory others may enter (e.g. /tmp)"
  fi
  chmod 700 "$dir/pg"
  # The socket directory sits in DIR so nothing in /var/run is needed; its
  # path must fit a sockaddr_un (107 bytes with the .s.PGSQL.PORT name).
  local sock="$dir/pg/sock"
  [ ${#sock} -le 90 ] || die "DIR path too long for a unix socket: $sock"
  as_pg mkdir -p "$sock"
  # TESTDB_DURABLE=1 (benchmarks): fsync and full-page writes on, as on a
  # production server, so that commit latencies are real.
  local durable=off
  [ "${TESTDB_DURABLE:-0}" = 1 ] && durable=on
  # -N: no fsync of the new files (throwaway); C locale: exists everywhere.
  as_pg "$bin/initdb" -D "$dir/pg/data" -A trust -U "$PG_USER" -E UTF8 --locale=C -N \
    >"$dir/pg-initdb.log" 2>&1 || { cat "$dir/pg-initdb.log" >&2; die "initdb failed"; }
  as_pg tee -a "$dir/pg/data/postgresql.conf" >/dev/null <<EOF

# scripts/testdb.sh: a throwaway test cluster
port = $port
listen_addresses = '127.0.0.1'
unix_socket_directories = '$sock'
fsync = $durable
full_page_writes = $durable
max_connections = 200
EOF
  # The server log sits outside DIR/pg so that it outlives stop.
  : >"$dir/pg-server.log"
  [ "$(id -u)" -ne 0 ] || chown postgres: "$dir/pg-server.log"
  as_pg "$bin/pg_ctl" -D "$dir/pg/data" -l "$dir/pg-server.log" -w -t 30 start >/dev/null ||
    { tail -n 20 "$dir/pg-server.log" >&2 || true; die "PostgreSQL did not start"; }
  local psql="$bin/psql" ok=0
  if [ -x "$psql" ]; then
    "$psql" -X -q -h 127.0.0.1 -p "$port" -U "$PG_USER" -d postgres -v ON_ERROR_STOP=1 \
      -c "CREATE DATABASE $PG_DB" >/dev/null && ok=1
  else
    "$bin/createdb" -h 127.0.0.1 -p "$port" -U "$PG_USER" "$PG_DB" && ok=1
  fi
  [ "$ok" -eq 1 ] || die "could not create database $PG_DB"
}

start_redis() {
  local dir=$1 port=$2
  command -v redis-server >/dev/null 2>&1 || die "redis-server not found; run scripts/deps.sh"
  redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
    --daemonize yes --pidfile "$dir/redis.pid" --dir "$dir" --logfile "$dir/redis.log" >/dev/null ||
    { tail -n 20 "$dir/redis.log" >&2 2>/dev/null || true; die "redis-server failed to start"; }
  wait_for 10 redis_pong "$port" || { tail -n 20 "$dir/redis.log" >&2 || true; die "redis-server did not start"; }
}

# cmd_start's directory and whether it got to the end, for the EXIT trap
# (globals: the trap runs after cmd_start's locals are gone).
START_DIR=""
START_DONE=0

cmd_start() {
  local dir=$1
  if [ ! -d "$dir" ]; then
    mkdir -p "$dir"
    # As root the postgres user must be able to enter it.
    chmod 755 "$dir"
  fi
  dir=$(cd "$dir" && pwd)
  # A previous run left behind: clear it (stop is a no-op when nothing runs).
  cmd_stop "$dir" >/dev/null 2>&1 || true
  # Whatever fails from here on (die exits at once), stop what did start.
  START_DIR=$dir
  trap '[ "$START_DONE" = 1 ] || cmd_stop "$START_DIR" >/dev/null 2>&1 || true' EXIT
  local pg_port redis_port
  pg_port=$(free_port)
  redis_port=$(free_port "$pg_port")
  start_pg "$dir" "$pg_port"
  start_redis "$dir" "$redis_port"
  {
    echo "NQ_TEST_PG_URL=postgresql://$PG_USER@127.0.0.1:$pg_port/$PG_DB"
    echo "NQ_TEST_REDIS_URL=redis://127.0.0.1:$redis_port"
  } >"$dir/env"
  START_DONE=1
  cat "$dir/env"
}

# Is the server named by a postmaster.pid still running? (A crash or a
# reboot leaves the file behind.)
pg_running() {
  local pid
  pid=$(head -n 1 "$1/postmaster.pid" 2>/dev/null || true)
  [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null
}

stop_pg() {
  local dir=$1
  [ -d "$dir/pg" ] || return 0
  if pg_running "$dir/pg/data"; then
    local bin
    bin=$(find_pg_bin)
    as_pg "$bin/pg_ctl" -D "$dir/pg/data" -m fast -w -t 30 stop >/dev/null 2>&1 || true
  fi
  # Delete the cluster only once no server holds it.
  if pg_running "$dir/pg/data"; then
    echo "testdb.sh: PostgreSQL in $dir/pg did not stop; left in place" >&2
    return 1
  fi
  rm -rf "$dir/pg"
}

stop_redis() {
  local dir=$1 pid
  [ -f "$dir/redis.pid" ] || return 0
  pid=$(cat "$dir/redis.pid" 2>/dev/null || true)
  # Only a redis-server: after a reboot the pid may belong to anything.
  if [[ "$pid" =~ ^[0-9]+$ ]] && grep -q redis "/proc/$pid/comm" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    wait_for 10 eval "! kill -0 $pid" || kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$dir/redis.pid"
}

cmd_stop() {
  local dir=$1 rc=0
  [ -d "$dir" ] || return 0
  stop_pg "$dir" || rc=1
  stop_redis "$dir" || rc=1
  rm -f "$dir/env"
  return "$rc"
}

[ $# -eq 2 ] || usage
case "$1" in
  start) cmd_start "$2" ;;
  stop) cmd_stop "$2" ;;
  *) usage ;;
esac
