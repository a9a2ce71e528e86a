#!/usr/bin/env bash
# The one way this repository starts a private PostgreSQL: run-cluster.sh, bench/run.sh, bench/memory.sh and the
# test fixture (tests/Relay.Testing/PostgresServer.cs) all call this script.
#
#   scripts/postgres.sh install                     install Debian's 'postgresql' when its server binaries are missing
#   scripts/postgres.sh bin                         print the server binaries' folder (PG_BIN, else the newest installed)
#   scripts/postgres.sh start --data DIR --port N [--log FILE] [--socket DIR] [--no-sync] [-- SERVER OPTIONS...]
#                                                   initdb DIR when it holds no cluster yet, then start the server on
#                                                   127.0.0.1:N (nothing else listens) and wait until it accepts
#                                                   connections; a server already running on DIR is left as it is
#   scripts/postgres.sh stop --data DIR [--immediate]
#                                                   stop the server of DIR (fast: sessions cut, clean checkpoint;
#                                                   immediate: as a crash, the next start recovers from the WAL);
#                                                   nothing to do when it is not running
#   scripts/postgres.sh schema --port N --database NAME [--user USER]
#                                                   apply sql/postgresql/*.sql in name order to NAME (one transaction each)
#
# The cluster trusts local connections and connections from 127.0.0.1 only; its superuser is 'postgres'; encoding
# UTF8, locale C. As root, every server program runs as the 'postgres' user (PostgreSQL refuses to run as root) and
# the data, socket and log paths are handed to that user. --log defaults to DIR/server.log, --socket to DIR.
# SERVER OPTIONS are passed to the server as they are, e.g. -c max_connections=300.
# Exit status: 0 done, 1 failed (the server log's end on standard error), 64 usage.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)

usage() { sed -n '4,16p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 64; }
fail() { echo "postgres.sh: $*" >&2; exit 1; }

as_postgres() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

pg_bin() {
  if [ -n "${PG_BIN:-}" ]; then
    [ -x "$PG_BIN/postgres" ] || fail "PG_BIN is '$PG_BIN', which has no 'postgres' binary"
    echo "$PG_BIN"
    return
  fi
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -n "$dir" ] && [ -x "$dir/postgres" ] \
    || fail "no PostgreSQL server binaries under /usr/lib/postgresql/*/bin: run '$0 install' (Debian) or set PG_BIN"
  echo "$dir"
}

install() {
  if [ -z "${PG_BIN:-}" ] && ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
    echo "PostgreSQL is not installed: installing the Debian package 'postgresql'..." >&2
    local sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends postgresql >/dev/null
  fi
  pg_bin >/dev/null
}

# Hands a path to the server's user (as root); the folders above it must let that user through, as /tmp does.
give() { if [ "$(id -u)" -eq 0 ]; then chown postgres "$@"; fi; }

log_tail() { [ -r "$1" ] && tail -n 30 "$1" >&2 || as_postgres tail -n 30 "$1" >&2 || true; }

start() {
  local data="" port="" log="" socket="" sync=1 options=()
  while [ $# -gt 0 ]; do
    case "$1" in
      --data) data=$2; shift 2 ;;
      --port) port=$2; shift 2 ;;
      --log) log=$2; shift 2 ;;
      --socket) socket=$2; shift 2 ;;
      --no-sync) sync=0; shift ;;
      --) shift; options=("$@"); break ;;
      *) usage ;;
    esac
  done
  [ -n "$data" ] && [ -n "$port" ] || usage
  local bin; bin=$(pg_bin)
  log=${log:-$data/server.log}
  socket=${socket:-$data}
  mkdir -p "$data" "$socket"
  give "$data" "$socket"
  chmod 700 "$data"
  if [ ! -f "$data/PG_VERSION" ]; then
    local initdb=("$bin/initdb" -D "$data" -U postgres -E UTF8 --locale=C --auth=trust --no-instructions) out
    [ "$sync" -eq 1 ] || initdb+=(--no-sync)
    out=$(as_postgres "${initdb[@]}" 2>&1) || { echo "$out" >&2; fail "initdb $data failed"; }
    # Only the loopback address, only trust: the server is reachable from this machine alone.
    printf 'local all all trust\nhost  all all 127.0.0.1/32 trust\n' | as_postgres tee "$data/pg_hba.conf" >/dev/null
  fi
  # The log may live inside the data folder (after initdb, which wants that folder empty) or anywhere else.
  mkdir -p "$(dirname "$log")"
  touch "$log"
  give "$log"
  if as_postgres "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    return 0
  fi
  # pg_ctl -o takes one string: the options are plain words (no spaces inside one), as every caller's are.
  as_postgres "$bin/pg_ctl" -D "$data" -l "$log" -w -t 60 \
    -o "-p $port -k $socket -c listen_addresses=127.0.0.1 ${options[*]:-}" start >/dev/null \
    || { log_tail "$log"; fail "PostgreSQL did not start on 127.0.0.1:$port (log: $log)"; }
  # pg_ctl -w returns once the postmaster says it is ready; a TCP check makes sure the port is the one we asked for.
  for _ in $(seq 1 120); do
    "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -t 5 && return 0
    sleep 0.5
  done
  log_tail "$log"; fail "PostgreSQL started but does not answer on 127.0.0.1:$port"
}

stop() {
  local data="" mode=fast
  while [ $# -gt 0 ]; do
    case "$1" in
      --data) data=$2; shift 2 ;;
      --immediate) mode=immediate; shift ;;
      *) usage ;;
    esac
  done
  [ -n "$data" ] || usage
  [ -f "$data/postmaster.pid" ] || return 0
  local bin; bin=$(pg_bin)
  as_postgres "$bin/pg_ctl" -D "$data" -m "$mode" -w -t 60 stop >/dev/null 2>&1 \
    || ! as_postgres "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1 \
    || fail "PostgreSQL on $data did not stop"
}

schema() {
  local port="" database="" user=postgres
  while [ $# -gt 0 ]; do
    case "$1" in
      --port) port=$2; shift 2 ;;
      --database) database=$2; shift 2 ;;
      --user) user=$2; shift 2 ;;
      *) usage ;;
    esac
  done
  [ -n "$port" ] && [ -n "$database" ] || usage
  local bin script; bin=$(pg_bin)
  for script in "$ROOT"/sql/postgresql/*.sql; do
    PGOPTIONS='-c client_min_messages=warning' "$bin/psql" -X -q -v ON_ERROR_STOP=1 --single-transaction \
      -h 127.0.0.1 -p "$port" -U "$user" -d "$database" -f "$script" >/dev/null || fail "$script failed on $database"
  done
}

command=${1:-}
[ $# -gt 0 ] && shift
case "$command" in
  install) install ;;
  bin) pg_bin ;;
  start) start "$@" ;;
  stop) stop "$@" ;;
  schema) schema "$@" ;;
  *) usage ;;
esac
