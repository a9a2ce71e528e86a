#!/usr/bin/env bash
# A/B of one change, decided on CPU per message rather than on throughput (which swings on a shared machine):
# the same Release binaries run as variant A and variant B, alternating, ROUNDS times each, on a private PostgreSQL
# (or the embedded SQLite), under the same closed-loop load; each run reports delivered msg/s, the milliseconds of
# silo and PostgreSQL CPU per delivered message, PostgreSQL's committed transactions per delivered message
# (xact_commit, reads included), the kilobytes the silos allocated per delivered message and the share of the load's
# time they spent paused in GC (both from the runtime's counters on /metrics), and the silos' thread switches per
# delivered message (voluntary and not, summed over their live threads from /proc: every hop of a message from one
# thread to another is one); the medians of each variant are printed last.
#
#   A_ENV="" B_ENV="DOTNET_TieredPGO=0" bench/ab.sh            environment of the silos per variant
#   A_ARGS="" B_ARGS="--Relay:Scheduler:Shards=4" bench/ab.sh   extra silo arguments per variant
#   B_BIN=/tmp/before bench/ab.sh      variant B runs the silo built in that folder (e.g. an older commit:
#                                      git worktree add /tmp/w <commit> && dotnet build /tmp/w/src/Relay.Silo -c Release -o /tmp/before)
#   SILOS=3 (1..3)  STORAGE=postgres|sqlite  ROUNDS=3  LOAD_S=30  WARMUP=2000 (per silo, then until the JIT is quiet)
#   CONCURRENCY=64
#   RATE=1000          an open loop at that many msg/s instead of the closed loop (the sync answer's tail: each run
#                      also reports the p50 and p99 of the answers, in ms, leaving out those of its first 5 s)
#
# Ports as bench/run.sh (PostgreSQL 15498, sink 5299, silos 5201-5203, 12201-12203, 32201-32203): not both at once.
# Writes nothing to the repository; its logs are under bench/results/tmp/ab (git-ignored).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
SILOS=${SILOS:-3}; STORAGE=${STORAGE:-postgres}; ROUNDS=${ROUNDS:-3}; LOAD_S=${LOAD_S:-30}; WARMUP=${WARMUP:-2000}
CONCURRENCY=${CONCURRENCY:-64}; RATE=${RATE:-}; A_ENV=${A_ENV:-}; B_ENV=${B_ENV:-}; A_ARGS=${A_ARGS:-}; B_ARGS=${B_ARGS:-}
A_BIN=${A_BIN:-}; B_BIN=${B_BIN:-}
PG_PORT=15498; SINK_PORT=5299; HTTP_BASE=5200; SILO_BASE=12200; GATEWAY_BASE=32200
SINK="http://127.0.0.1:$SINK_PORT"
WORK="$ROOT/bench/results/tmp/ab"
PGDIR=""
say() { printf '[ab %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { say "error: $*"; exit 3; }
[ "$SILOS" -ge 1 ] && [ "$SILOS" -le 3 ] || die "SILOS must be 1, 2 or 3"
[ "$STORAGE" = postgres ] || [ "$STORAGE" = sqlite ] || die "STORAGE must be postgres or sqlite"
[ "$STORAGE" = postgres ] || [ "$SILOS" -eq 1 ] || die "the embedded storage runs one silo"
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
export PG_BIN   # scripts/postgres.sh starts this very PostgreSQL
export PGOPTIONS="-c client_min_messages=warning"
psql_q() { "$PG_BIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres -d "${2:-relay}" -c "$1"; }

mkdir -p "$WORK/pids" "$WORK/logs"
exec 9>"$WORK/lock"
flock -n 9 || die "another bench/ab.sh is running"
PIDS=()
cleanup() {
  local rc=$? pid
  trap - EXIT INT TERM
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do { wait "$pid"; } 2>/dev/null || true; done
  if [ -n "$PGDIR" ]; then
    "$ROOT/scripts/postgres.sh" stop --data "$PGDIR/data" || true
    rm -rf "$PGDIR"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
for port in "$PG_PORT" "$SINK_PORT" $(seq $((HTTP_BASE + 1)) $((HTTP_BASE + SILOS))); do
  port_in_use "$port" && die "port $port is in use"
done

PROJECTS=(bench/Relay.LoadGen bench/Relay.Sink)
# The silo of this tree only when a variant runs it (both given as A_BIN and B_BIN: neither does).
[ -n "$A_BIN" ] && [ -n "$B_BIN" ] || PROJECTS=(src/Relay.Silo "${PROJECTS[@]}")
say "building Release (${PROJECTS[*]})"
for project in "${PROJECTS[@]}"; do
  dotnet build "$ROOT/$project" -c Release -o "$WORK/bin/$(basename "$project")" -nologo -v q >"$WORK/logs/build.log" 2>&1 \
    || { tail -n 30 "$WORK/logs/build.log" >&2; die "$project did not build"; }
done
LOADGEN=(dotnet "$WORK/bin/Relay.LoadGen/relay-loadgen.dll")

if [ "$STORAGE" = postgres ]; then
  [ -x "$PG_BIN/initdb" ] || die "PostgreSQL's server binaries are missing (apt-get install postgresql), or set PG_BIN"
  PGDIR=$(mktemp -d "${TMPDIR:-/tmp}/relay-ab-pg.XXXXXX")
  [ "$(id -u)" -eq 0 ] && chown -R postgres "$PGDIR"
  "$ROOT/scripts/postgres.sh" start --data "$PGDIR/data" --port "$PG_PORT" --log "$PGDIR/server.log" --socket "$PGDIR" \
    -- -c max_connections=300 || die "PostgreSQL did not start"
  psql_q "CREATE DATABASE relay" postgres
  "$ROOT/scripts/postgres.sh" schema --port "$PG_PORT" --database relay || die "the schema did not apply"
fi

(cd "$WORK" && exec dotnet "$WORK/bin/Relay.Sink/relay-sink.dll" --urls "$SINK" --latency-ms 1 >"$WORK/logs/sink.log" 2>&1 9>&-) &
PIDS+=($!)
wait_http() { for _ in $(seq 1 360); do curl -fs "$1" >/dev/null 2>&1 && return 0; sleep 0.5; done; die "$1 did not answer within 180 s"; }
wait_http "$SINK/stats"

SILO_PIDS=()
start_silos() {   # start_silos ENV ARGS [BIN]
  local env=$1 args=$2 bin=${3:-$WORK/bin/Relay.Silo} i storage
  [ -f "$bin/Relay.Silo.dll" ] || die "no Relay.Silo.dll in $bin"
  SILO_PIDS=()
  rm -rf "$WORK/sqlite"; mkdir -p "$WORK/sqlite"
  for i in $(seq 1 "$SILOS"); do
    if [ "$STORAGE" = postgres ]; then
      storage="--Relay:Storage:Provider=AdoNet --Relay:Storage:Invariant=Npgsql --Relay:Storage:ConnectionString=Host=127.0.0.1;Port=$PG_PORT;Database=relay;Username=postgres"
    else
      storage="--Relay:Storage:Provider=Sqlite --Relay:Storage:DataPath=$WORK/sqlite"
    fi
    # shellcheck disable=SC2086 # ENV and ARGS are lists of words
    (cd "$WORK" && exec env $env dotnet "$bin/Relay.Silo.dll" --contentRoot "$bin" \
      --urls "http://127.0.0.1:$((HTTP_BASE + i))" --Relay:Cluster:SiloPort=$((SILO_BASE + i)) \
      --Relay:Cluster:GatewayPort=$((GATEWAY_BASE + i)) --Relay:Samples:Enabled=false \
      --Relay:Contracts:bench:MaxAttempts=10 --Relay:Contracts:bench:Delay=00:00:02 \
      --Relay:Destinations:sink:Protocol=Http "--Relay:Destinations:sink:Address=$SINK/relay" --Relay:Destinations:sink:Contract=bench \
      --Logging:LogLevel:Default=Warning $storage $args >"$WORK/logs/silo$i.log" 2>&1 9>&-) &
    SILO_PIDS+=($!)
    PIDS+=($!)
  done
  for i in $(seq 1 "$SILOS"); do wait_http "http://127.0.0.1:$((HTTP_BASE + i))/health"; done
}
stop_silos() {
  local pid
  for pid in "${SILO_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${SILO_PIDS[@]}"; do { wait "$pid"; } 2>/dev/null || true; done
  SILO_PIDS=()
}
# Context switches of the silos' live threads so far (a thread that ended takes its count with it).
silo_switches() { local pid t=0 v; for pid in "${SILO_PIDS[@]}"; do
    v=$(cat /proc/"$pid"/task/*/status 2>/dev/null | awk '/ctxt_switches/ { s += $2 } END { print s + 0 }'); t=$((t + v)); done; echo "$t"; }
silo_cpu() { local pid t=0; for pid in "${SILO_PIDS[@]}"; do t=$(awk -v a="$t" -v b="$(cpu_seconds "$pid")" 'BEGIN { printf "%.2f", a + b }'); done; echo "$t"; }
db_cpu() { if [ -n "$PGDIR" ]; then pg_cpu_seconds; else echo 0; fi; }
# Committed transactions of the relay database (the statistics land about once a second).
db_xact() { if [ -n "$PGDIR" ]; then sleep 1.5; psql_q "SELECT xact_commit FROM pg_stat_database WHERE datname = 'relay'" postgres; else echo 0; fi; }
# Sum over the silos of a counter of the runtime on /metrics (reachable without a key from loopback).
silo_metric() { local i t=0 v; for i in $(seq 1 "$SILOS"); do
    v=$(curl -fs "http://127.0.0.1:$((HTTP_BASE + i))/metrics" | awk -v m="$1" '$1 == m || index($1, m "{") == 1 { print $2; exit }')
    t=$(awk -v a="$t" -v b="${v:-0}" 'BEGIN { printf "%.6f", a + b }'); done; echo "$t"; }
urls() { local i; for i in $(seq 1 "$SILOS"); do printf -- '--url http://127.0.0.1:%s ' $((HTTP_BASE + i)); done; }

# run VARIANT ENV ARGS [BIN]: one measured load; prints
# "VARIANT msg/s silo-ms/msg db-ms/msg db-xact/msg silo-KB/msg gc-pause-% p50-ms p99-ms switches/msg".
run() {
  local variant=$1 env=$2 args=$3 bin=${4:-} prefix s0 d0 s1 d1 x0 x1 n a0 a1 g0 g1 load p50 p99 c0 c1
  start_silos "$env" "$args" "${bin:-$WORK/bin/Relay.Silo}"
  # shellcheck disable=SC2046
  "${LOADGEN[@]}" $(urls) --destination sink --count "$((WARMUP * SILOS))" --concurrency "$CONCURRENCY" --progress 0 --id-prefix "warm-$RANDOM" \
    >/dev/null 2>&1 || true
  # Then 5 s rounds until the silos' JIT is quiet (bench/lib.sh, until_jit_quiet; at most 90 s).
  local silo_urls=() i
  for i in $(seq 1 "$SILOS"); do silo_urls+=("http://127.0.0.1:$((HTTP_BASE + i))"); done
  # shellcheck disable=SC2046
  say "$variant warm: $(until_jit_quiet 18 "${silo_urls[@]}" -- "${LOADGEN[@]}" $(urls) --destination sink --duration 5 \
    --concurrency "$CONCURRENCY" --progress 0 --id-prefix "warm-$RANDOM") round(s) of 5 s until the JIT was quiet"
  prefix="ab-$variant-$RANDOM$RANDOM"
  curl -fs -X POST "$SINK/reset?prefix=$prefix-" >/dev/null
  a0=$(silo_metric dotnet_gc_heap_total_allocated_bytes_total); g0=$(silo_metric dotnet_gc_pause_time_seconds_total)
  x0=$(db_xact); s0=$(silo_cpu); d0=$(db_cpu); c0=$(silo_switches)
  # shellcheck disable=SC2046
  # The open loop's percentiles leave out the answers of its first 5 s: the generator is a fresh process, and its own
  # JIT and the burst of connections it opens then put up to 200 ms into 3-4% of the answers (measured: 2026-12-07).
  if [ -n "$RATE" ]; then load=(--rate "$RATE" --timeout 10 --latency-skip 5); else load=(--concurrency "$CONCURRENCY"); fi
  # shellcheck disable=SC2046
  "${LOADGEN[@]}" $(urls) --destination sink "${load[@]}" --duration "$LOAD_S" --progress 0 --id-prefix "$prefix" \
    --json "$WORK/logs/load-$variant.json" --latency-log "$WORK/logs/latency-$variant-$prefix.txt" >"$WORK/logs/load-$variant.log" 2>&1 || true
  p50=$(jq -r '.latencyMs.p50 // "-"' "$WORK/logs/load-$variant.json" 2>/dev/null || echo -)
  p99=$(jq -r '.latencyMs.p99 // "-"' "$WORK/logs/load-$variant.json" 2>/dev/null || echo -)
  sleep 2   # the last outcomes
  s1=$(silo_cpu); d1=$(db_cpu); c1=$(silo_switches); x1=$(db_xact)
  a1=$(silo_metric dotnet_gc_heap_total_allocated_bytes_total); g1=$(silo_metric dotnet_gc_pause_time_seconds_total)
  n=$(curl -fs "$SINK/stats" | jq .unique)
  stop_silos
  awk -v v="$variant" -v n="$n" -v s="$(awk -v a="$s0" -v b="$s1" 'BEGIN { print b - a }')" \
      -v d="$(awk -v a="$d0" -v b="$d1" 'BEGIN { print b - a }')" -v x="$((x1 - x0))" -v t="$LOAD_S" \
      -v al="$(awk -v a="$a0" -v b="$a1" 'BEGIN { print b - a }')" -v g="$(awk -v a="$g0" -v b="$g1" 'BEGIN { print b - a }')" \
      -v p50="$p50" -v p99="$p99" -v cs="$((c1 - c0))" \
    'BEGIN { if (n > 0) printf "%s %.1f %.3f %.3f %.2f %.1f %.2f %s %s %.2f\n", v, n / t, s * 1000 / n, d * 1000 / n, x / n, al / 1024 / n, g * 100 / (t + 2), p50, p99, cs / n;
             else printf "%s 0 - - - - - - - -\n", v }'
}

say "$ROUNDS rounds of A ($A_ENV $A_ARGS ${A_BIN:-this tree}) and B ($B_ENV $B_ARGS ${B_BIN:-this tree}): $SILOS silo(s) on $STORAGE, $CONCURRENCY senders, $LOAD_S s each"
RESULTS="$WORK/results.txt"; : >"$RESULTS"
echo "variant  delivered/s  silo-ms/msg  db-ms/msg  db-xact/msg  silo-KB/msg  gc-pause-%  p50-ms  p99-ms  switches/msg"
for round in $(seq 1 "$ROUNDS"); do
  for variant in A B; do
    # Alternate which goes first, so that a drift of the machine does not favour one.
    if [ $((round % 2)) -eq 0 ]; then variant=$([ "$variant" = A ] && echo B || echo A); fi
    if [ "$variant" = A ]; then line=$(run A "$A_ENV" "$A_ARGS" "$A_BIN"); else line=$(run B "$B_ENV" "$B_ARGS" "$B_BIN"); fi
    echo "$line" | tee -a "$RESULTS"
  done
done
median() { sort -n | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else printf "%.3f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
for variant in A B; do
  printf 'median %s: %s msg/s, silo %s ms/msg, db %s ms/msg, %s db transactions/msg, %s KB allocated/msg, %s%% of the time in GC pauses, answers p50 %s ms p99 %s ms, %s thread switches/msg\n' "$variant" \
    "$(awk -v v="$variant" '$1 == v { print $2 }' "$RESULTS" | median)" \
    "$(awk -v v="$variant" '$1 == v { print $3 }' "$RESULTS" | median)" \
    "$(awk -v v="$variant" '$1 == v { print $4 }' "$RESULTS" | median)" \
    "$(awk -v v="$variant" '$1 == v { print $5 }' "$RESULTS" | median)" \
    "$(awk -v v="$variant" '$1 == v { print $6 }' "$RESULTS" | median)" \
    "$(awk -v v="$variant" '$1 == v { print $7 }' "$RESULTS" | median)" \
    "$(awk -v v="$variant" '$1 == v { print $8 }' "$RESULTS" | median)" \
    "$(awk -v v="$variant" '$1 == v { print $9 }' "$RESULTS" | median)" \
    "$(awk -v v="$variant" '$1 == v { print $10 }' "$RESULTS" | median)"
done
