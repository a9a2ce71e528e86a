#!/usr/bin/env bash
# The long fuzz run of the front doors (issue 15): relay-fuzz against one embedded silo with keys, on loopback.
# Builds Release into bench/results/tmp/fuzz/bin, starts the silo (SQLite in a fresh folder, a sender and an operator
# key, the destinations fz and fzdead at relay-fuzz's own destination), sends REQUESTS requests (JSON API, SOAP front
# door, portal forms: bench/Relay.Fuzz) and writes bench/results/fuzz-<date>.json. It then counts the errors the silo
# logged (a refused request is answered, never logged as an error). Exit code 0 when no finding and no error logged.
#
#   bench/fuzz.sh                      1,000,000 requests, seed 1
#   REQUESTS=100000 SEED=7 bench/fuzz.sh
#   CONCURRENCY=16 (requests under way)   DURATION=3600 (stop sending after these seconds; default none)
#
# Ports: silo 5851 (HTTP), 12851/32851 (Orleans), relay-fuzz's destination 5852.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
REQUESTS=${REQUESTS:-1000000}; SEED=${SEED:-1}; CONCURRENCY=${CONCURRENCY:-16}; DURATION=${DURATION:-}
WORK="$ROOT/bench/results/tmp/fuzz"
HTTP_PORT=5851; SINK_PORT=5852
say() { printf '[fuzz %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { say "error: $*"; exit 3; }
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
for port in $HTTP_PORT $SINK_PORT 12851 32851; do
  port_in_use "$port" && die "port $port is in use"
done

mkdir -p "$WORK"
exec 9>"$WORK/lock"
flock -n 9 || die "another bench/fuzz.sh is running"
SILO_PID=""
cleanup() { [ -n "$SILO_PID" ] && kill "$SILO_PID" 2>/dev/null && wait "$SILO_PID" 2>/dev/null; true; }
trap cleanup EXIT INT TERM

say "building Release into $WORK/bin"
dotnet build "$ROOT/src/Relay.Silo" -c Release -o "$WORK/bin/silo" -v q -nologo >/dev/null
dotnet build "$ROOT/bench/Relay.Fuzz" -c Release -o "$WORK/bin/fuzz" -v q -nologo >/dev/null

rm -rf "$WORK/silo"; mkdir -p "$WORK/silo"
SENDER_KEY="fuzz-sender-$RANDOM$RANDOM"; OPERATOR_KEY="fuzz-operator-$RANDOM$RANDOM"
say "starting the silo on 127.0.0.1:$HTTP_PORT"
(cd "$WORK/silo" && exec dotnet "$WORK/bin/silo/Relay.Silo.dll" --urls "http://127.0.0.1:$HTTP_PORT" \
  --Logging:LogLevel:Default=Warning \
  --Relay:Cluster:SiloPort=12851 --Relay:Cluster:GatewayPort=32851 \
  --Relay:Security:SenderKeys:fuzz="$SENDER_KEY" --Relay:Security:OperatorKeys:ops="$OPERATOR_KEY" \
  --Relay:Destinations:fz:Address="http://127.0.0.1:$SINK_PORT/ok" \
  --Relay:Destinations:fzdead:Address="http://127.0.0.1:$SINK_PORT/dead" \
  >"$WORK/silo.log" 2>&1) &
SILO_PID=$!
for _ in $(seq 1 120); do
  curl -fsS -m 2 "http://127.0.0.1:$HTTP_PORT/health" >/dev/null 2>&1 && break
  kill -0 "$SILO_PID" 2>/dev/null || die "the silo exited: $(tail -n 20 "$WORK/silo.log")"
  sleep 1
done

OUT="$ROOT/bench/results/fuzz-$(date -u +%Y-%m-%d-%H%M).json"
args=(--url "http://127.0.0.1:$HTTP_PORT" --sink-port "$SINK_PORT" --sender-key "$SENDER_KEY" --operator-key "$OPERATOR_KEY"
      --requests "$REQUESTS" --seed "$SEED" --concurrency "$CONCURRENCY" --silo-pid "$SILO_PID" --json "$OUT" --progress 60)
[ -n "$DURATION" ] && args+=(--duration "$DURATION")
say "relay-fuzz: $REQUESTS requests, seed $SEED, $CONCURRENCY under way"
set +e
dotnet "$WORK/bin/fuzz/relay-fuzz.dll" "${args[@]}"
status=$?
set -e
errors=$(grep -c '^fail:' "$WORK/silo.log" || true)
crit=$(grep -c '^crit:' "$WORK/silo.log" || true)
say "the silo logged $errors errors and $crit critical events (bench/results/tmp/fuzz/silo.log)"
say "report: ${OUT#"$ROOT"/}"
[ "$status" -eq 0 ] && [ "$errors" -eq 0 ] && [ "$crit" -eq 0 ]
