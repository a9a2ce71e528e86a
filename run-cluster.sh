#!/usr/bin/env bash
# A local Relay cluster: a private PostgreSQL (data under ./data/pg) and N silos sharing it, with mutual TLS
# between the silos from a throw-away CA that this script makes with openssl (data/cluster/tls, never committed).
#
#   ./run-cluster.sh 3            start PostgreSQL and 3 silos (http://127.0.0.1:5001..5003); Ctrl-C stops them all
#   ./run-cluster.sh 3 --detach   the same, left running in the background
#   ./run-cluster.sh --add        one more silo joins the running cluster (next free number)
#   ./run-cluster.sh --stop       stop every silo and the PostgreSQL this script started
#
# Environment: PG_PORT (default 55432), HTTP_BASE (5000: silo i answers on HTTP_BASE+i),
# SILO_BASE (11110), GATEWAY_BASE (30000), RELAY_CONFIG (an extra JSON file passed as --config).
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$(pwd)
DATA="$ROOT/data/cluster"
PGDATA="$ROOT/data/pg"
PGRUN="$ROOT/data/pg-run"
PG_PORT=${PG_PORT:-55432}
HTTP_BASE=${HTTP_BASE:-5000}
SILO_BASE=${SILO_BASE:-11110}
GATEWAY_BASE=${GATEWAY_BASE:-30000}
BIN="$DATA/bin"
TLS="$DATA/tls"
CONN="Host=127.0.0.1;Port=$PG_PORT;Database=relay;Username=relay;Password=relay;Maximum Pool Size=30"

count=""; mode=start; detach=0
for arg in "$@"; do
  case "$arg" in
    --stop) mode=stop ;;
    --add) mode=add ;;
    --detach) detach=1 ;;
    ''|*[!0-9]*) echo "usage: $0 N [--detach] | --add | --stop" >&2; exit 64 ;;
    *) count=$arg ;;
  esac
done

PG=("$ROOT/scripts/postgres.sh")

start_postgres() {
  "${PG[@]}" install
  local bin; bin=$("${PG[@]}" bin)
  [ -f "$PGDATA/PG_VERSION" ] || echo "Creating a PostgreSQL cluster in $PGDATA"
  "${PG[@]}" start --data "$PGDATA" --port "$PG_PORT" --socket "$PGRUN" -- -c max_connections=200
  local psql=("$bin/psql" -X -h 127.0.0.1 -p "$PG_PORT" -U postgres -v ON_ERROR_STOP=1 -q)
  "${psql[@]}" -tc "SELECT 1 FROM pg_roles WHERE rolname='relay'" | grep -q 1 || "${psql[@]}" -c "CREATE ROLE relay LOGIN PASSWORD 'relay'"
  "${psql[@]}" -tc "SELECT 1 FROM pg_database WHERE datname='relay'" | grep -q 1 || "${psql[@]}" -c "CREATE DATABASE relay OWNER relay"
  "${PG[@]}" schema --port "$PG_PORT" --database relay --user relay
  echo "PostgreSQL on 127.0.0.1:$PG_PORT (database relay, schema applied)"
}

ensure_openssl() {
  if ! command -v openssl >/dev/null 2>&1; then
    echo "openssl is not installed: installing the Debian package 'openssl'..."
    local sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends openssl
  fi
}

# The cluster's CA: made once (again when it is about to expire, with every silo certificate it signed).
ensure_ca() {
  ensure_openssl
  mkdir -p "$TLS"
  if [ -f "$TLS/ca.pem" ] && openssl x509 -checkend 86400 -noout -in "$TLS/ca.pem" >/dev/null 2>&1; then
    return 0
  fi
  rm -f "$TLS"/*
  (umask 077 && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 90 \
    -subj "/CN=Relay run-cluster CA" -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" -keyout "$TLS/ca.key" -out "$TLS/ca.pem" 2>/dev/null)
  echo "Made a throw-away CA for the cluster: $TLS/ca.pem"
}

# Silo i's certificate, signed by the CA: it accepts connections and makes them (serverAuth and clientAuth).
ensure_silo_certificate() {
  local i=$1
  [ -f "$TLS/silo$i.pem" ] && [ -f "$TLS/silo$i.key" ] && return 0
  (umask 077 && openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=relay-silo-$i" \
    -keyout "$TLS/silo$i.key" -out "$TLS/silo$i.csr" 2>/dev/null)
  printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyAgreement\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$TLS/silo.ext"
  openssl x509 -req -in "$TLS/silo$i.csr" -CA "$TLS/ca.pem" -CAkey "$TLS/ca.key" -set_serial "0x$(openssl rand -hex 16)" \
    -days 60 -extfile "$TLS/silo.ext" -out "$TLS/silo$i.pem" 2>/dev/null
  rm -f "$TLS/silo$i.csr"
}

build() {
  echo "Building the silo..."
  dotnet build "$ROOT/src/Relay.Silo" -c Release -o "$BIN" -nologo -v q >/dev/null
}

start_silo() {
  local i=$1
  local port=$((HTTP_BASE + i))
  mkdir -p "$DATA/logs" "$DATA/pids"
  local extra=()
  [ -n "${RELAY_CONFIG:-}" ] && extra+=(--config "$RELAY_CONFIG")
  ensure_ca
  ensure_silo_certificate "$i"
  # The build's appsettings.json (contracts, sample destinations) applies; the samples point at silo 1.
  local sample="http://127.0.0.1:$((HTTP_BASE + 1))/samples"
  (cd "$DATA" && exec dotnet "$BIN/Relay.Silo.dll" --contentRoot "$BIN" --urls "http://127.0.0.1:$port" \
      "--Relay:Destinations:echo:Address=$sample/echo" "--Relay:Destinations:flaky:Address=$sample/fail/503" \
      "--Relay:Destinations:app-callbacks:Address=$sample/echo" \
      --Relay:Storage:Provider=AdoNet --Relay:Storage:Invariant=Npgsql \
      "--Relay:Storage:ConnectionString=$CONN" \
      --Relay:Cluster:SiloPort=$((SILO_BASE + i)) --Relay:Cluster:GatewayPort=$((GATEWAY_BASE + i)) \
      --Relay:Cluster:Tls:Enabled=true "--Relay:Cluster:Tls:CaPath=$TLS/ca.pem" \
      "--Relay:Cluster:Tls:CertificatePath=$TLS/silo$i.pem" "--Relay:Cluster:Tls:KeyPath=$TLS/silo$i.key" \
      "${extra[@]}" >"$DATA/logs/silo$i.log" 2>&1) &
  echo $! >"$DATA/pids/silo$i.pid"
}

wait_healthy() {
  local i=$1 port=$((HTTP_BASE + i))
  for _ in $(seq 1 120); do
    if curl -fs "http://127.0.0.1:$port/health" >/dev/null 2>&1; then
      echo "silo $i ready: http://127.0.0.1:$port  (log: data/cluster/logs/silo$i.log)"
      return 0
    fi
    if ! kill -0 "$(cat "$DATA/pids/silo$i.pid")" 2>/dev/null; then
      echo "silo $i exited; its log:" >&2; tail -n 30 "$DATA/logs/silo$i.log" >&2; return 1
    fi
    sleep 0.5
  done
  echo "silo $i did not become ready; see $DATA/logs/silo$i.log" >&2
  return 1
}

stop_all() {
  if [ -d "$DATA/pids" ]; then
    local pids=()
    for pidfile in "$DATA"/pids/*.pid; do
      [ -f "$pidfile" ] || continue
      pids+=("$(cat "$pidfile")")
      rm -f "$pidfile"
    done
    # SIGTERM: each silo leaves the cluster gracefully; SIGKILL whatever is still there after 30 s.
    [ ${#pids[@]} -gt 0 ] && kill "${pids[@]}" 2>/dev/null || true
    for _ in $(seq 1 60); do
      local alive=0
      for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
      [ "$alive" -eq 0 ] && break
      sleep 0.5
    done
    for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  fi
  "${PG[@]}" stop --data "$PGDATA" || true
  echo "Cluster stopped."
}

next_index() {
  local i=1
  while [ -f "$DATA/pids/silo$i.pid" ] && kill -0 "$(cat "$DATA/pids/silo$i.pid")" 2>/dev/null; do i=$((i + 1)); done
  echo $i
}

case $mode in
  stop) stop_all ;;
  add)
    [ -x "$BIN/Relay.Silo.dll" ] || [ -f "$BIN/Relay.Silo.dll" ] || build
    i=$(next_index)
    start_silo "$i"
    wait_healthy "$i"
    ;;
  start)
    count=${count:-3}
    start_postgres
    build
    for i in $(seq 1 "$count"); do start_silo "$i"; done
    for i in $(seq 1 "$count"); do wait_healthy "$i"; done
    if [ "$detach" -eq 1 ]; then
      echo "Running in the background; stop with: $0 --stop"
      exit 0
    fi
    echo "Ctrl-C stops the cluster."
    trap 'stop_all; exit 0' INT TERM
    while true; do sleep 1; done
    ;;
esac
