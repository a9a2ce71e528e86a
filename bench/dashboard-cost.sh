#!/usr/bin/env bash
# What the Orleans Dashboard costs the hot path: the same load on one silo (SQLite, the destination 'echo' served
# by the silo itself) with Relay:Dashboard:Enabled=false, enabled with nobody watching, and enabled while its API is
# polled every second (which keeps the dashboard's grain profiler on). The settings alternate, ROUNDS times, so a
# change in the machine's load hits all three alike. Writes bench/results/dashboard-cost.txt.
#
#   bench/dashboard-cost.sh                  3 rounds of 3,000 messages, 16 senders
#   ROUNDS=5 COUNT=10000 bench/dashboard-cost.sh
#
# Ports (clear of the tests, run-cluster.sh and memory.sh): HTTP 5301+, silo 22301+, gateway 32301+.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
ROUNDS=${ROUNDS:-3}
COUNT=${COUNT:-3000}
CONCURRENCY=${CONCURRENCY:-16}
TMP="$ROOT/bench/results/tmp/dashboard"
OUT="$ROOT/bench/results/dashboard-cost.txt"
rm -rf "$TMP"; mkdir -p "$TMP"
dotnet build -c Release src/Relay.Silo -o "$TMP/silo" > "$TMP/build-silo.log"
dotnet build -c Release bench/Relay.LoadGen -o "$TMP/loadgen" > "$TMP/build-loadgen.log"

SILO=""; WATCHER=""
cleanup() {
  [ -n "$WATCHER" ] && kill "$WATCHER" 2>/dev/null || true
  [ -n "$SILO" ] && kill "$SILO" 2>/dev/null && wait "$SILO" 2>/dev/null || true
}
trap cleanup EXIT

run=0
: > "$OUT"
for round in $(seq 1 "$ROUNDS"); do
  for mode in off on watched; do
    run=$((run + 1))
    port=$((5300 + run))
    enabled=true; [ "$mode" = off ] && enabled=false
    dotnet "$TMP/silo/Relay.Silo.dll" --urls "http://127.0.0.1:$port" --Relay:Storage:DataPath="$TMP/data-$run" \
      --Relay:Cluster:SiloPort=$((22300 + run)) --Relay:Cluster:GatewayPort=$((32300 + run)) \
      --Relay:Dashboard:Enabled=$enabled --Relay:Samples:Enabled=true \
      --Relay:Destinations:echo:Address="http://127.0.0.1:$port/samples/echo" --Logging:LogLevel:Default=Warning \
      > "$TMP/silo-$run.log" 2>&1 &
    SILO=$!
    for _ in $(seq 1 200); do curl -sf -o /dev/null "http://127.0.0.1:$port/health" && break; sleep 0.3; done
    if [ "$mode" = watched ]; then
      ( while true; do
          curl -s -o /dev/null "http://127.0.0.1:$port/dashboard/DashboardCounters"
          curl -s -o /dev/null "http://127.0.0.1:$port/dashboard/TopGrainMethods"
          sleep 1
        done ) &
      WATCHER=$!
      sleep 2
    fi
    dotnet "$TMP/loadgen/relay-loadgen.dll" --url "http://127.0.0.1:$port" --destination echo \
      --count "$COUNT" --concurrency "$CONCURRENCY" > "$TMP/load-$run.txt" 2>&1
    echo "== Relay:Dashboard $mode, round $round (relay-loadgen --count $COUNT --concurrency $CONCURRENCY, one silo, SQLite, destination echo on the same silo; load average $(cut -d' ' -f1 /proc/loadavg))" >> "$OUT"
    sed -n '/elapsed/,$p' "$TMP/load-$run.txt" >> "$OUT"
    cleanup; SILO=""; WATCHER=""
    rm -rf "$TMP/data-$run"
  done
done
cat "$OUT"
