#!/usr/bin/env bash
# The benchmark of issue 9: Relay's throughput, latency, outage drain and crash safety, side by side with Hangfire
# and with what PostgreSQL itself can commit (pgbench), in one run on one machine.
#
#   bench/run.sh            the full run (under 30 minutes on 2 cores)
#   bench/run.sh --quick    shorter loads and fewer messages (under 5 minutes); same scenarios
#
# It builds Release, starts a private PostgreSQL (port 15498, data under the temp folder), the sink (bench/Relay.Sink,
# its own process), Relay silos and the Hangfire peer as each scenario needs them, writes bench/results/<date>.json,
# regenerates the "run.sh" section of docs/BENCHMARKS.md with its tables and PNG charts (docs/images/bench-*.png),
# prints one line per scenario and, last, the summary line:
#   summary: embedded <n> msg/s, cluster3 <n> msg/s, hangfire <n> msg/s, ratio <cluster3/hangfire>, commits/msg <c>
# Everything it starts is stopped on exit, also on failure or Ctrl-C. bench/README.md explains each scenario.
#
# Ports (127.0.0.1 only): PostgreSQL 15498, sink 5299, Hangfire peer 5298, floor proxy 5297, silo HTTP 5201-5203, silo 12201-12203,
# gateway 32201-32203. Environment: PG_BIN (newest /usr/lib/postgresql/*/bin), CONCURRENCY (64 closed-loop senders),
# UPDATE_DOCS (1: rewrite docs/BENCHMARKS.md; 0: leave it alone).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

MODE=full
for arg in "$@"; do
  case "$arg" in
    --quick) MODE=quick ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) echo "usage: $0 [--quick]" >&2; exit 2 ;;
  esac
done

# ---- the sizes of each scenario (seconds, messages) -------------------------------------------------------------
if [ "$MODE" = quick ]; then
  WARMUP=300; JIT_ROUNDS=2; LOAD_S=6; SOAP_S=4; LAT_S=5; LAT_SKIP=1; CRASH_S=14; CRASH_KILL_AT=5; OUTAGE_N=3000; OUTAGE_FILL_MAX=120
  PGBENCH_S=4; HANGFIRE_S=6
else
  WARMUP=2000; JIT_ROUNDS=18; LOAD_S=45; SOAP_S=20; LAT_S=60; LAT_SKIP=5; CRASH_S=40; CRASH_KILL_AT=15; OUTAGE_N=50000; OUTAGE_FILL_MAX=420
  PGBENCH_S=15; HANGFIRE_S=45
fi
CONCURRENCY=${CONCURRENCY:-64}
LAT_RATE=1000
CRASH_RATE=500
# The outage destination: a retry every 5 s, its circuit opens after 10 consecutive failures and probes every 5 s;
# its MaxPerSecond is below what 3 silos deliver on 2 busy cores, so the drain shows the limit, not the machine.
OUTAGE_MAX_PER_SECOND=${OUTAGE_MAX_PER_SECOND:-250}
OUTAGE_DELAY=00:00:05
HANGFIRE_WORKERS=${HANGFIRE_WORKERS:-40}
DRAIN_WAIT=${DRAIN_WAIT:-600}        # the longest any wait for deliveries may take, seconds

PG_PORT=15498; SINK_PORT=5299; PEER_PORT=5298; PROXY_PORT=5297; HTTP_BASE=5200; SILO_BASE=12200; GATEWAY_BASE=32200
SINK="http://127.0.0.1:$SINK_PORT"
WORK="$ROOT/bench/results/tmp/run"       # binaries, logs and raw figures of this run (git-ignored)
STAMP=$(date -u +%Y-%m-%d-%H%M)
RESULT_FILE="$ROOT/bench/results/$STAMP${MODE/full/}.json"; [ "$MODE" = quick ] && RESULT_FILE="$ROOT/bench/results/$STAMP-quick.json"
UPDATE_DOCS=${UPDATE_DOCS:-1}
PGDIR=""

say() { printf '[bench %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { say "error: $*"; exit 3; }
now_ms() { local t=${EPOCHREALTIME/,/.}; echo "${t%.*}${t#*.}" | cut -c1-13; }
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
# CPU of the processes this run started with the given name prefix (silo, sink, hangfire).
named_cpu_seconds() {
  local f total=0
  for f in "$WORK"/pids/"$1"*.pid; do
    [ -f "$f" ] || continue
    total=$(awk -v a="$total" -v b="$(cpu_seconds "$(cat "$f")")" 'BEGIN { printf "%.2f", a + b }')
  done
  echo "$total"
}
cpu_snapshot() {   # silos postgres sink hangfire machine
  echo "$(named_cpu_seconds silo) $(pg_cpu_seconds) $(named_cpu_seconds sink) $(named_cpu_seconds hangfire) $(machine_busy_seconds)"
}
# cpu_json BEFORE AFTER MESSAGES: CPU seconds of each part during a load, and milliseconds of CPU per message.
cpu_json() {
  awk -v a="$1" -v b="$2" -v n="$3" 'BEGIN {
    split(a, x, " "); split(b, y, " "); for (i = 1; i <= 5; i++) d[i] = y[i] - x[i]
    other = d[5] - d[1] - d[2] - d[3] - d[4]
    printf "{\"silos\": %.1f, \"postgres\": %.1f, \"sink\": %.1f, \"hangfire\": %.1f, \"machine\": %.1f, \"otherProcesses\": %.1f, ", d[1], d[2], d[3], d[4], d[5], other
    if (n > 0) printf "\"msPerMessage\": {\"silos\": %.3f, \"postgres\": %.3f, \"hangfire\": %.3f}}", d[1] * 1000 / n, d[2] * 1000 / n, d[4] * 1000 / n
    else printf "\"msPerMessage\": null}"
  }'
}

export PGOPTIONS="-c client_min_messages=warning"
psql_q() { "$PG_BIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres -d "${2:-relay}" -c "$1"; }
xact() { sleep 1.5; psql_q "SELECT xact_commit FROM pg_stat_database WHERE datname = '$1'" postgres; }   # stats land about once a second

# ---- processes: each one started is recorded in $WORK/pids/<name>.pid and stopped by name on exit ----------------

# start NAME LOG CMD...: runs CMD in the background, its pid in pids/NAME.pid.
start() {
  local name=$1 log=$2; shift 2
  (cd "$WORK" && exec "$@" >"$log" 2>&1 9>&-) &   # 9: the run lock stays with this script
  echo $! >"$WORK/pids/$name.pid"
}
# stop NAME [signal]: stops one process this script started (only if its pid still runs one of our dlls).
stop() {
  local file="$WORK/pids/$1.pid" pid
  [ -f "$file" ] || return 0
  pid=$(cat "$file")
  if grep -qa -e "Relay.Silo.dll" -e "relay-" "/proc/$pid/cmdline" 2>/dev/null; then
    kill "-${2:-TERM}" "$pid" 2>/dev/null || true
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -KILL "$pid" 2>/dev/null || true
    { wait "$pid"; } 2>/dev/null || true   # reaped here, quietly: bash would report the SIGKILL
  fi
  rm -f "$file"
}
stop_all() { local f; for f in "$WORK"/pids/*.pid; do [ -f "$f" ] && stop "$(basename "$f" .pid)"; done; return 0; }

stop_postgres() {
  local dir=$1
  [ -n "$dir" ] && [ -d "$dir" ] || return 0
  "$ROOT/scripts/postgres.sh" stop --data "$dir/data" || true
  [ -f "$dir/server.log" ] && cp "$dir/server.log" "$WORK/logs/postgres.log" 2>/dev/null || true
  rm -rf "$dir"
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  say "stopping everything this run started"
  stop_all
  stop_postgres "$PGDIR"
  rm -f "$WORK/pgdir"
  exit "$rc"
}

wait_http() {   # wait_http NAME URL: until URL answers, the process is alive, at most 180 s
  local name=$1 url=$2 pid
  pid=$(cat "$WORK/pids/$name.pid")
  for _ in $(seq 1 360); do
    curl -fs "$url" >/dev/null 2>&1 && return 0
    kill -0 "$pid" 2>/dev/null || { tail -n 30 "$(ls -t "$WORK"/logs/*"$name".log | head -n 1)" >&2; die "$name exited"; }
    sleep 0.5
  done
  tail -n 30 "$(ls -t "$WORK"/logs/*"$name".log | head -n 1)" >&2; die "$name was not ready within 180 s"
}

PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
mkdir -p "$WORK/pids" "$WORK/logs" "$WORK/raw"
exec 9>"$WORK/lock"
flock -n 9 || die "another bench/run.sh is running"
stop_all
[ -f "$WORK/pgdir" ] && stop_postgres "$(cat "$WORK/pgdir")"
rm -rf "$WORK"/logs/* "$WORK"/raw/* "$WORK/sqlite"
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- checks, install what is missing -----------------------------------------------------------------------------
command -v dotnet >/dev/null || die "the .NET SDK (dotnet) is not on PATH"
command -v curl >/dev/null || die "curl is needed"
command -v jq >/dev/null || die "jq is needed (apt-get install jq)"
if [ -z "$PG_BIN" ] || [ ! -x "$PG_BIN/initdb" ] || [ ! -x "$PG_BIN/pgbench" ]; then
  # Debian ships pgbench in postgresql-client-<major> (pulled in by 'postgresql').
  [ "$(id -u)" -eq 0 ] || die "PostgreSQL's server binaries or pgbench are missing (apt-get install postgresql), or set PG_BIN"
  say "installing PostgreSQL (Debian package 'postgresql', which brings pgbench)"
  PG_BIN="" "$ROOT/scripts/postgres.sh" install
  PG_BIN=$(PG_BIN="" "$ROOT/scripts/postgres.sh" bin)
fi
export PG_BIN   # scripts/postgres.sh starts this very PostgreSQL
for port in "$PG_PORT" "$SINK_PORT" "$PEER_PORT" "$PROXY_PORT" $(seq $((HTTP_BASE + 1)) $((HTTP_BASE + 3))) \
            $(seq $((SILO_BASE + 1)) $((SILO_BASE + 3))) $(seq $((GATEWAY_BASE + 1)) $((GATEWAY_BASE + 3))); do
  port_in_use "$port" && die "port $port is in use; this benchmark needs it free"
done

T_START=$(now_ms)

# ---- build -------------------------------------------------------------------------------------------------------
say "building Release (silo, load generator, sink, floor proxy, Hangfire peer, report)"
for project in src/Relay.Silo bench/Relay.LoadGen bench/Relay.Sink bench/Relay.Proxy bench/Relay.HangfirePeer bench/Relay.BenchReport; do
  name=$(basename "$project")
  dotnet build "$ROOT/$project" -c Release -o "$WORK/bin/$name" -nologo -v q >>"$WORK/logs/build.log" 2>&1 \
    || { tail -n 30 "$WORK/logs/build.log" >&2; die "$project did not build"; }
done
LOADGEN=(dotnet "$WORK/bin/Relay.LoadGen/relay-loadgen.dll")

# ---- PostgreSQL --------------------------------------------------------------------------------------------------
PGDIR=$(mktemp -d "${TMPDIR:-/tmp}/relay-bench-pg.XXXXXX")
echo "$PGDIR" >"$WORK/pgdir"
[ "$(id -u)" -eq 0 ] && chown -R postgres "$PGDIR"
PG_VERSION=$("$PG_BIN/postgres" --version | awk '{ print $3 }')
say "starting PostgreSQL $PG_VERSION on 127.0.0.1:$PG_PORT"
# Stock settings except connections (3 silos × 50 pooled, the Hangfire peer, pgbench); fsync stays on.
"$ROOT/scripts/postgres.sh" start --data "$PGDIR/data" --port "$PG_PORT" --log "$PGDIR/server.log" --socket "$PGDIR" \
  -- -c max_connections=300 || die "PostgreSQL did not start"
psql_q "CREATE DATABASE relay" postgres
psql_q "CREATE DATABASE hangfire" postgres
psql_q "CREATE DATABASE pgbench" postgres
"$ROOT/scripts/postgres.sh" schema --port "$PG_PORT" --database relay || die "the schema did not apply"
CONN="Host=127.0.0.1;Port=$PG_PORT;Database=relay;Username=postgres"

# ---- the sink ----------------------------------------------------------------------------------------------------
start sink "$WORK/logs/sink.log" dotnet "$WORK/bin/Relay.Sink/relay-sink.dll" --urls "$SINK" --latency-ms 1
wait_http sink "$SINK/stats"
sink_reset() { curl -fs -X POST "$SINK/reset?prefix=$1" >/dev/null; }   # sink_reset PREFIX: count only these ids
sink_control() { curl -fs -X POST "$SINK/control?$1" >/dev/null; }
sink_stats() { curl -fs "$SINK/stats"; }
# wait_delivered N: until the sink holds N distinct messages, or nothing new arrived for 30 s, or DRAIN_WAIT is over.
wait_delivered() {
  local want=$1 have=0 last=-1 still=0
  for _ in $(seq 1 $((DRAIN_WAIT * 2))); do
    have=$(sink_stats | jq .unique) || have=$last
    [ "$have" -ge "$want" ] && return 0
    if [ "$have" -eq "$last" ]; then still=$((still + 1)); [ "$still" -ge 60 ] && break; else still=0; fi
    last=$have
    sleep 0.5
  done
  say "waited for $want deliveries, the sink holds $have"
}

# ---- silos -------------------------------------------------------------------------------------------------------
# silo_args I STORAGE...: the command line of silo I. Destinations: 'sink' (the happy path; contract 'bench'), and
# 'outage' (same sink, MaxPerSecond, contract 'outage').
start_silo() {
  local i=$1; shift
  start "silo$i" "$WORK/logs/$SCENARIO-silo$i.log" dotnet "$WORK/bin/Relay.Silo/Relay.Silo.dll" \
      --contentRoot "$WORK/bin/Relay.Silo" --urls "http://127.0.0.1:$((HTTP_BASE + i))" \
      --Relay:Cluster:SiloPort=$((SILO_BASE + i)) --Relay:Cluster:GatewayPort=$((GATEWAY_BASE + i)) \
      --Relay:Samples:Enabled=false \
      --Relay:Contracts:bench:MaxAttempts=10 --Relay:Contracts:bench:Delay=00:00:02 \
      --Relay:Contracts:outage:MaxAttempts=1000 "--Relay:Contracts:outage:Delay=$OUTAGE_DELAY" \
      --Relay:Destinations:sink:Protocol=Http "--Relay:Destinations:sink:Address=$SINK/relay" --Relay:Destinations:sink:Contract=bench \
      --Relay:Destinations:outage:Protocol=Http "--Relay:Destinations:outage:Address=$SINK/outage" \
      --Relay:Destinations:outage:Contract=outage --Relay:Destinations:outage:MaxPerSecond=$OUTAGE_MAX_PER_SECOND \
      --Relay:Destinations:outage:FailureThreshold=10 --Relay:Destinations:outage:BreakDuration=00:00:05 \
      --Logging:LogLevel:Default=Warning --Logging:LogLevel:Relay.Storage.Sqlite=Information "$@"
}
start_embedded() {
  mkdir -p "$WORK/sqlite/$1"
  start_silo 1 --Relay:Storage:Provider=Sqlite "--Relay:Storage:DataPath=$WORK/sqlite/$1"
  wait_http silo1 "http://127.0.0.1:$((HTTP_BASE + 1))/health"
}
start_cluster() {
  local n=$1 i
  for i in $(seq 1 "$n"); do
    start_silo "$i" --Relay:Storage:Provider=AdoNet --Relay:Storage:Invariant=Npgsql "--Relay:Storage:ConnectionString=$CONN"
  done
  for i in $(seq 1 "$n"); do wait_http "silo$i" "http://127.0.0.1:$((HTTP_BASE + i))/health"; done
}
# urls N_SILOS: the load generator's --url of each silo; urls proxy: the floor proxy's.
urls() {
  local i
  if [ "$1" = proxy ]; then printf -- '--url http://127.0.0.1:%s ' "$PROXY_PORT"; return; fi
  for i in $(seq 1 "$1"); do printf -- '--url http://127.0.0.1:%s ' $((HTTP_BASE + i)); done
}
warm_up() {   # warm_up N_SILOS|proxy DESTINATION [LOADGEN-ARGS...]: JIT, connection pools, grain directory
  # WARMUP messages per silo, then 5 s rounds of the same load until the silos' JIT is quiet (until_jit_quiet in
  # bench/lib.sh; at most 90 s): a count alone left 3-silo runs measuring tiering still under way.
  local n=$1 destination=$2 rounds i urls=(); shift 2
  # shellcheck disable=SC2046
  "${LOADGEN[@]}" $(urls "$n") --destination "$destination" --count "$((WARMUP * ${n/proxy/1}))" --concurrency "$CONCURRENCY" --progress 0 \
    --id-prefix "warm-$RANDOM" "$@" >/dev/null 2>"$WORK/logs/warmup.log" || true
  [ "$n" = proxy ] && return 0
  for i in $(seq 1 "$n"); do urls+=("http://127.0.0.1:$((HTTP_BASE + i))"); done
  # shellcheck disable=SC2046
  rounds=$(until_jit_quiet "$JIT_ROUNDS" "${urls[@]}" -- "${LOADGEN[@]}" $(urls "$n") --destination "$destination" --duration 5 \
    --concurrency "$CONCURRENCY" --progress 0 --id-prefix "warm-$RANDOM" "$@")
  say "   warm: $((WARMUP * n)) messages, then $rounds round(s) of 5 s until the JIT was quiet"
}

# silo_metrics N_SILOS: what the silos' /metrics hold, summed over the silos, on one line: storage transactions, those
# done within 25 ms, 100 ms and 250 ms (the histogram's buckets), garbage collections of gen0, gen1 and gen2, and the
# seconds the GC paused the process. What a load's tail is made of: the difference of two of these lines.
silo_metrics() {
  local i
  for i in $(seq 1 "$1"); do curl -fs --max-time 5 "http://127.0.0.1:$((HTTP_BASE + i))/metrics" || true; done | awk '
    /^relay_storage_transaction_duration_seconds_count/ { tx += $NF }
    /^relay_storage_transaction_duration_seconds_bucket/ && /le="0.025"/ { b25 += $NF }
    /^relay_storage_transaction_duration_seconds_bucket/ && /le="0.1"/ { b100 += $NF }
    /^relay_storage_transaction_duration_seconds_bucket/ && /le="0.25"/ { b250 += $NF }
    /^dotnet_gc_collections_total/ && /gc_heap_generation="gen0"/ { g0 += $NF }
    /^dotnet_gc_collections_total/ && /gc_heap_generation="gen1"/ { g1 += $NF }
    /^dotnet_gc_collections_total/ && /gc_heap_generation="gen2"/ { g2 += $NF }
    /^dotnet_gc_pause_time_seconds_total/ { pause += $NF }
    END { printf "%d %d %d %d %d %d %d %.6f\n", tx, b25, b100, b250, g0, g1, g2, pause }'
}
# silos_json BEFORE AFTER: the silos' storage transactions (and how many took longer than 25, 100, 250 ms) and
# garbage collections (by generation, and their pauses in ms) between two silo_metrics lines.
silos_json() {
  awk -v a="$1" -v b="$2" 'BEGIN {
    split(a, x, " "); split(b, y, " "); for (i = 1; i <= 8; i++) d[i] = y[i] - x[i]
    printf "{\"storageTransactions\": %d, \"transactionsOver25ms\": %d, \"transactionsOver100ms\": %d, \"transactionsOver250ms\": %d, ", d[1], d[1] - d[2], d[1] - d[3], d[1] - d[4]
    printf "\"gcCollections\": {\"gen0\": %d, \"gen1\": %d, \"gen2\": %d}, \"gcPauseMs\": %.1f}", d[5], d[6], d[7], d[8] * 1000
  }'
}

# measure NAME N_SILOS LOADGEN-ARGS...: a load against the sink; writes raw/NAME.loadgen.json and raw/NAME.sink.json
# once every acknowledged message has arrived, raw/NAME.times.json (start, end of load, last arrival) and, for Relay's
# silos, raw/NAME.silos.json (their storage transactions and garbage collections from the start to the end of the load).
measure() {
  local name=$1 silos=$2; shift 2
  local start end answered cpu0 metrics0="" prefix="$name-$RANDOM$RANDOM"
  sink_reset "$prefix-"
  [ "$silos" = proxy ] || metrics0=$(silo_metrics "$silos")
  cpu0=$(cpu_snapshot)
  start=$(now_ms)
  # shellcheck disable=SC2046
  "${LOADGEN[@]}" $(urls "$silos") --progress 0 --id-prefix "$prefix" --json "$WORK/raw/$name.loadgen.json" --acked "$WORK/raw/$name.acked" \
    --latency-log "$WORK/raw/$name.latency.txt" "$@" \
    >"$WORK/logs/$name.loadgen.log" 2>&1 || true
  end=$(now_ms)
  rm -f "$WORK/raw/$name.silos.json"
  [ -z "$metrics0" ] || silos_json "$metrics0" "$(silo_metrics "$silos")" >"$WORK/raw/$name.silos.json"
  answered=$(wc -l <"$WORK/raw/$name.acked")
  wait_delivered "$answered"
  sink_stats >"$WORK/raw/$name.sink.json"
  cpu_json "$cpu0" "$(cpu_snapshot)" "$(jq .unique "$WORK/raw/$name.sink.json")" >"$WORK/raw/$name.cpu.json"
  jq -n --argjson start "$start" --argjson finish "$end" '{start: $start, loadEnd: $finish}' >"$WORK/raw/$name.times.json"
}

# throughput NAME [extra]: the scenario object of a measured load: sends/answers from the load generator,
# delivered/s = distinct deliveries at the sink / (last arrival - start of the load).
throughput() {
  local name=$1 extra=${2:-'{}'}
  jq -n --slurpfile lg "$WORK/raw/$name.loadgen.json" --slurpfile sink "$WORK/raw/$name.sink.json" \
        --slurpfile t "$WORK/raw/$name.times.json" --slurpfile cpu "$WORK/raw/$name.cpu.json" --argjson extra "$extra" \
        --argjson during "$(if [ -f "$WORK/raw/$name.silos.json" ]; then jq '{duringLoad: .}' "$WORK/raw/$name.silos.json"; else echo '{}'; fi)" '
    ($lg[0]) as $l | ($sink[0]) as $s | ($t[0]) as $t |
    (((($s.lastArrivalUnixMs // $t.loadEnd) - $t.start) / 1000) | if . <= 0 then 1 else . end) as $secs |
    { sent: $l.sent, answered: $l.answered, errors: $l.errors, byHttpStatus: $l.byHttpStatus, byMessageStatus: $l.byMessageStatus,
      loadSeconds: (($t.loadEnd - $t.start) / 1000), answersPerSecond: $l.answersPerSecond,
      delivered: $s.unique, duplicates: $s.duplicates, deliveredPerSecond: (($s.unique / $secs) * 10 | round / 10),
      syncLatencyMs: $l.latencyMs, endToEndMs: $s.endToEndMs, cpuSeconds: $cpu[0] } + $during + $extra'
}
commits_per() { awk -v c="$1" -v n="$2" 'BEGIN { if (n > 0) printf "%.2f", c / n; else print "null" }'; }

declare -A RESULTS
SKIPPED=()

# ---- 7. pgbench: what this PostgreSQL can commit -----------------------------------------------------------------
say "7. pgbench: one-row INSERT per transaction, 1 and 16 clients, ${PGBENCH_S} s each"
psql_q "CREATE TABLE one_row (id bigserial PRIMARY KEY, at timestamptz NOT NULL DEFAULT now(), v int NOT NULL)" pgbench
echo "INSERT INTO one_row (v) VALUES (1);" >"$WORK/raw/pgbench.sql"
pgbench_tps() {
  "$PG_BIN/pgbench" -n -h 127.0.0.1 -p "$PG_PORT" -U postgres -f "$WORK/raw/pgbench.sql" -c "$1" -j "$(( $1 < 2 ? 1 : 2 ))" \
    -T "$PGBENCH_S" pgbench 2>&1 | tee "$WORK/logs/pgbench-$1.log" | awk '/^tps = / { printf "%.0f", $3; exit }'
}
# Warm-up: one short run first, not counted (the table's first pages, PostgreSQL's caches, the WAL's first segments).
PGBENCH_S_REAL=$PGBENCH_S; PGBENCH_S=2; pgbench_tps 16 >/dev/null; PGBENCH_S=$PGBENCH_S_REAL
TPS1=$(pgbench_tps 1); TPS16=$(pgbench_tps 16)
RESULTS[pgbench]=$(jq -n --argjson a "${TPS1:-0}" --argjson b "${TPS16:-0}" --argjson s "$PGBENCH_S" \
  '{clients1Tps: $a, clients16Tps: $b, seconds: $s}')

# ---- 0. the floor: a storage-less forwarding proxy -----------------------------------------------------------------
# What any router costs on this machine, measured with the same load generator and sink in the same run: an ASP.NET
# Core minimal endpoint that POSTs each payload on with HttpClient (bench/Relay.Proxy). Its process is named
# "silo-proxy" so that the CPU table counts it in the silos' column: the router's CPU, whichever router it is.
say "0. floor: storage-less forwarding proxy, closed loop, $CONCURRENCY senders, ${LOAD_S} s"
SCENARIO=floor
start silo-proxy "$WORK/logs/floor-silo-proxy.log" dotnet "$WORK/bin/Relay.Proxy/relay-proxy.dll" \
  --urls "http://127.0.0.1:$PROXY_PORT" --target "$SINK/relay"
wait_http silo-proxy "http://127.0.0.1:$PROXY_PORT/health"
warm_up proxy sink
measure floor proxy --destination sink --concurrency "$CONCURRENCY" --duration "$LOAD_S"
RESULTS[floor]=$(throughput floor)
# The floor of the tail too: the same proxy at the open loop's rate (what the box, the sink and the generator alone
# add to the sync answer's p99 at 1,000 msg/s).
say "3f. floor: the proxy at $LAT_RATE msg/s for ${LAT_S} s"
SCENARIO=latency_floor
measure latency_floor proxy --destination sink --rate "$LAT_RATE" --duration "$LAT_S" --timeout 10 --latency-skip "$LAT_SKIP"
RESULTS[latency_floor]=$(throughput latency_floor "{\"rate\": $LAT_RATE, \"latencySkipSeconds\": $LAT_SKIP}")
stop silo-proxy

# ---- 1. embedded default, one silo: maximum sustained delivered msg/s ---------------------------------------------
say "1. embedded (SQLite), 1 silo: closed loop, $CONCURRENCY senders, ${LOAD_S} s"
SCENARIO=embedded   # silo logs are logs/<scenario>-silo<i>.log
start_embedded happy
warm_up 1 sink
measure embedded 1 --destination sink --concurrency "$CONCURRENCY" --duration "$LOAD_S"
stop silo1
# The silo logs its SQLite commits when it closes (SqliteDatabase, event 11): the warm-up's and the load's.
SQLITE_COMMITS=$(grep -o 'closed after [0-9]* commits' "$WORK/logs/embedded-silo1.log" | awk '{ print $3 }' | tail -n 1)
EMB_DELIVERED=$(jq .unique "$WORK/raw/embedded.sink.json")
RESULTS[embedded]=$(throughput embedded "$(jq -n --argjson c "${SQLITE_COMMITS:-null}" --argjson n "$((EMB_DELIVERED + WARMUP))" \
  '{sqliteCommits: $c, commitsPerMessage: (if $c == null then null else (($c / $n) * 100 | round / 100) end), commitsCountedOver: $n}')")

# ---- 1b. the SOAP front door, and 3a. latency at 1,000 msg/s, embedded ----------------------------------------------
SCENARIO=latency
start_embedded latency
warm_up 1 sink
warm_up 1 sink --soap   # the SOAP front door's own code (SoapCore, the serializers) is cold after a JSON warm-up
say "1b. embedded, SOAP front door (/Messaging.svc): closed loop, $CONCURRENCY senders, ${SOAP_S} s"
measure soap 1 --soap --destination sink --concurrency "$CONCURRENCY" --duration "$SOAP_S"
RESULTS[soap]=$(throughput soap)
say "3a. embedded: open loop at $LAT_RATE msg/s for ${LAT_S} s"
measure latency_embedded 1 --destination sink --rate "$LAT_RATE" --duration "$LAT_S" --timeout 10 --latency-skip "$LAT_SKIP"
RESULTS[latency_embedded]=$(throughput latency_embedded "{\"rate\": $LAT_RATE, \"latencySkipSeconds\": $LAT_SKIP}")
stop silo1

# ---- 2. PostgreSQL, 1 silo and 3 silos -----------------------------------------------------------------------------
for n in 1 3; do
  say "2. PostgreSQL, $n silo(s): closed loop, $CONCURRENCY senders, ${LOAD_S} s"
  SCENARIO=pg$n
  start_cluster "$n"
  warm_up "$n" sink
  X0=$(xact relay)
  measure "pg$n" "$n" --destination sink --concurrency "$CONCURRENCY" --duration "$LOAD_S"
  X=$(( $(xact relay) - X0 ))
  RESULTS[pg$n]=$(throughput "pg$n" "{\"xactCommits\": $X, \"commitsPerMessage\": $(commits_per "$X" "$(jq .unique "$WORK/raw/pg$n.sink.json")"), \"silos\": $n}")
  if [ "$n" -eq 1 ]; then stop silo1; fi
done

# ---- 3b. latency at 1,000 msg/s, 3 silos (the cluster of scenario 2 is still up) ------------------------------------
say "3b. PostgreSQL, 3 silos: open loop at $LAT_RATE msg/s for ${LAT_S} s"
measure latency_cluster3 3 --destination sink --rate "$LAT_RATE" --duration "$LAT_S" --timeout 10 --latency-skip "$LAT_SKIP"
RESULTS[latency_cluster3]=$(throughput latency_cluster3 "{\"rate\": $LAT_RATE, \"latencySkipSeconds\": $LAT_SKIP}")

# The overload of 3b leaves deliveries behind (answered after the client gave up, or Pending): let the cluster finish
# them, so they do not compete with the next scenario.
settle() {
  local left
  for _ in $(seq 1 240); do
    left=$(psql_q "SELECT count(*) FROM deliveries WHERE status IN ('Pending', 'InRetry')") || left=?
    [ "$left" = 0 ] && return 0
    sleep 0.5
  done
  say "   $left deliveries still Pending/InRetry after 120 s; going on"
}
settle

# ---- 4. outage and recovery --------------------------------------------------------------------------------------
say "4. outage: $OUTAGE_N messages while the sink is down (retry every $OUTAGE_DELAY, circuit breaker after 10 failures, MaxPerSecond $OUTAGE_MAX_PER_SECOND), then back"
OUT_PREFIX="outage-$RANDOM$RANDOM"
sink_reset "$OUT_PREFIX-"
sink_control "down=true"
OUT_FILL0=$(now_ms)
# shellcheck disable=SC2046
"${LOADGEN[@]}" $(urls 3) --destination outage --count "$OUTAGE_N" --duration "$OUTAGE_FILL_MAX" --concurrency "$CONCURRENCY" \
  --progress 0 --id-prefix "$OUT_PREFIX" --json "$WORK/raw/outage.loadgen.json" --acked "$WORK/raw/outage.acked" \
  >"$WORK/logs/outage.loadgen.log" 2>&1 || true
OUT_FILL_S=$(( ($(now_ms) - OUT_FILL0) / 1000 ))
OUT_ACKED=$(wc -l <"$WORK/raw/outage.acked")
IN_RETRY=$(psql_q "SELECT count(*) FROM deliveries WHERE destination = 'outage' AND status <> 'Delivered'" 2>/dev/null || echo null)
REFUSED=$(sink_stats | jq .refused)
say "   filled in ${OUT_FILL_S} s: $OUT_ACKED acknowledged, $IN_RETRY not delivered in the database, $REFUSED attempts refused; the sink comes back"
RECOVERED=$(now_ms)
sink_control "down=false"
wait_delivered "$OUT_ACKED"
sink_stats >"$WORK/raw/outage.sink.json"
# Attempts answered 2xx after the recovery, by silo (Relay's audit records which silo made each attempt).
psql_q "SELECT coalesce(silo, '?') || '|' || count(*) FROM audit WHERE destination = 'outage' AND kind = 'Attempt'
        AND status_code BETWEEN 200 AND 299 AND at >= to_timestamp($RECOVERED / 1000.0) GROUP BY silo ORDER BY silo" \
  >"$WORK/raw/outage.silos" 2>"$WORK/logs/outage.silos.err" || true
psql_q "SELECT kind, outcome, status_code, silo, count(*) FROM audit WHERE destination = 'outage' GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4" \
  >"$WORK/raw/outage.audit.txt" 2>&1 || true
SHARES=$(jq -R -s 'split("\n") | map(select(length > 0) | split("|") | {silo: .[0], delivered: (.[1] | tonumber)})' "$WORK/raw/outage.silos")
RESULTS[outage]=$(jq -n --slurpfile s "$WORK/raw/outage.sink.json" --slurpfile l "$WORK/raw/outage.loadgen.json" \
  --argjson rec "$RECOVERED" --argjson acked "$OUT_ACKED" --argjson fill "$OUT_FILL_S" --argjson shares "$SHARES" \
  --argjson max "$OUTAGE_MAX_PER_SECOND" --arg delay "$OUTAGE_DELAY" --argjson refused "${REFUSED:-0}" '
  ($s[0]) as $s |
  ((($s.lastArrivalUnixMs // $rec) - $rec) / 1000) as $drain |
  { messages: $l[0].sent, acknowledged: $acked, fillSeconds: $fill, refusedDuringOutage: $refused, contractDelay: $delay,
    maxPerSecond: $max, delivered: $s.unique, lost: ($acked - $s.unique), duplicates: $s.duplicates, maxAttempt: $s.maxAttempt,
    drainSeconds: ($drain * 10 | round / 10),
    deliveredPerSecondDuringDrain: (if $drain > 0 then ($s.unique / $drain * 10 | round / 10) else null end),
    perSecond: [ $s.perSecond[] | [ (.[0] - ($rec / 1000 | floor)), .[1] ] ],
    silos: $shares }')

# ---- 5. kill -9 one of three silos at 500 msg/s --------------------------------------------------------------------
say "5. crash: open loop at $CRASH_RATE msg/s for ${CRASH_S} s over 3 silos; silo 3 is killed (SIGKILL) at ${CRASH_KILL_AT} s"
CRASH_PREFIX="crash-$RANDOM$RANDOM"
sink_reset "$CRASH_PREFIX-"
CRASH0=$(now_ms)
# shellcheck disable=SC2046
"${LOADGEN[@]}" $(urls 3) --destination sink --rate "$CRASH_RATE" --duration "$CRASH_S" --progress 0 --timeout 10 \
  --id-prefix "$CRASH_PREFIX" --json "$WORK/raw/crash.loadgen.json" --acked "$WORK/raw/crash.acked" \
  >"$WORK/logs/crash.loadgen.log" 2>&1 &
CRASH_LG=$!
sleep "$CRASH_KILL_AT"
KILLED_AT=$(now_ms)
stop silo3 KILL
wait "$CRASH_LG" || true
CRASH_END=$(now_ms)
CRASH_ACKED=$(wc -l <"$WORK/raw/crash.acked")
wait_delivered "$CRASH_ACKED"
sink_stats >"$WORK/raw/crash.sink.json"
curl -fs "$SINK/ids" | sort >"$WORK/raw/crash.delivered"
sort "$WORK/raw/crash.acked" >"$WORK/raw/crash.acked.sorted"
CRASH_LOST=$(comm -23 "$WORK/raw/crash.acked.sorted" "$WORK/raw/crash.delivered" | wc -l)
RESULTS[crash]=$(jq -n --slurpfile s "$WORK/raw/crash.sink.json" --slurpfile l "$WORK/raw/crash.loadgen.json" \
  --argjson killed "$KILLED_AT" --argjson start "$CRASH0" --argjson finish "$CRASH_END" --argjson acked "$CRASH_ACKED" \
  --argjson lost "$CRASH_LOST" --argjson rate "$CRASH_RATE" --argjson killAt "$CRASH_KILL_AT" '
  ($s[0]) as $s |
  { rate: $rate, killedAtSecond: $killAt, sent: $l[0].sent, acknowledged: $acked, byHttpStatus: $l[0].byHttpStatus,
    delivered: $s.unique, acknowledgedLost: $lost, duplicates: $s.duplicates,
    lastArrivalAfterKillSeconds: ((($s.lastArrivalUnixMs // $killed) - $killed) / 1000 * 10 | round / 10),
    lastArrivalAfterLoadSeconds: ((($s.lastArrivalUnixMs // $finish) - $finish) / 1000 * 10 | round / 10),
    perSecond: [ $s.perSecond[] | [ (.[0] - ($start / 1000 | floor)), .[1] ] ] }')
stop silo1; stop silo2

# ---- 6. the peer: Hangfire ----------------------------------------------------------------------------------------
say "6. Hangfire $HANGFIRE_WORKERS workers on the same PostgreSQL: closed loop, $CONCURRENCY senders, ${HANGFIRE_S} s"
start hangfire "$WORK/logs/hangfire.log" dotnet "$WORK/bin/Relay.HangfirePeer/relay-hangfire-peer.dll" \
  --urls "http://127.0.0.1:$PEER_PORT" --connection "Host=127.0.0.1;Port=$PG_PORT;Database=hangfire;Username=postgres;Maximum Pool Size=100" \
  --sink "$SINK/hangfire" --workers "$HANGFIRE_WORKERS"
wait_http hangfire "http://127.0.0.1:$PEER_PORT/health"
sink_reset "warm-"
"${LOADGEN[@]}" --url "http://127.0.0.1:$PEER_PORT" --destination sink --count "$WARMUP" --concurrency "$CONCURRENCY" \
  --progress 0 --id-prefix "warm-$RANDOM" >/dev/null 2>&1 || true
wait_delivered "$WARMUP"
X0=$(xact hangfire)
sink_reset "hangfire-"
H_CPU0=$(cpu_snapshot)
H0=$(now_ms)
"${LOADGEN[@]}" --url "http://127.0.0.1:$PEER_PORT" --progress 0 --json "$WORK/raw/hangfire.loadgen.json" \
  --acked "$WORK/raw/hangfire.acked" --id-prefix "hangfire-$RANDOM" --destination sink --concurrency "$CONCURRENCY" --duration "$HANGFIRE_S" \
  >"$WORK/logs/hangfire.loadgen.log" 2>&1 || true
H_END=$(now_ms)
wait_delivered "$(wc -l <"$WORK/raw/hangfire.acked")"
sink_stats >"$WORK/raw/hangfire.sink.json"
cpu_json "$H_CPU0" "$(cpu_snapshot)" "$(jq .unique "$WORK/raw/hangfire.sink.json")" >"$WORK/raw/hangfire.cpu.json"
jq -n --argjson start "$H0" --argjson finish "$H_END" '{start: $start, loadEnd: $finish}' >"$WORK/raw/hangfire.times.json"
X=$(( $(xact hangfire) - X0 ))
RESULTS[hangfire]=$(throughput hangfire "{\"xactCommits\": $X, \"commitsPerMessage\": $(commits_per "$X" "$(jq .unique "$WORK/raw/hangfire.sink.json")"), \"workers\": $HANGFIRE_WORKERS}")
stop hangfire

# ---- results, report ------------------------------------------------------------------------------------------------
TOTAL_S=$(( ($(now_ms) - T_START) / 1000 ))
{
  printf '{'
  printf '"startedAt": "%s", "mode": "%s", "totalSeconds": %s, ' "$(date -u -d "@$((T_START / 1000))" +%Y-%m-%dT%H:%M:%SZ)" "$MODE" "$TOTAL_S"
  printf '"commit": "%s%s", ' "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)" "$(git diff --quiet HEAD 2>/dev/null || echo ' + local changes')"
  printf '"machine": {"cores": %s, "cpu": "%s", "memoryGiB": %s, "loadAverageAtEnd": "%s"}, ' "$(nproc)" \
    "$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo | tr -s ' ')" \
    "$(awk '/^MemTotal/ { printf "%.0f", $2 / 1048576 }' /proc/meminfo)" "$(cut -d' ' -f1-3 /proc/loadavg)"
  printf '"postgres": "%s", "dotnet": "%s", "concurrency": %s, "skipped": %s, "scenarios": {' "$PG_VERSION" "$(dotnet --version)" \
    "$CONCURRENCY" "$(printf '%s\n' "${SKIPPED[@]}" | jq -R -s 'split("\n") | map(select(length > 0))')"
  first=1
  for key in "${!RESULTS[@]}"; do
    [ $first -eq 1 ] || printf ','
    first=0
    printf '"%s": %s' "$key" "${RESULTS[$key]}"
  done
  printf '}}'
} | jq . >"$RESULT_FILE"
say "results: ${RESULT_FILE#"$ROOT"/}"

REPORT_ARGS=("$RESULT_FILE")
[ "$UPDATE_DOCS" = 1 ] && REPORT_ARGS+=(--markdown "$ROOT/docs/BENCHMARKS.md" --images "$ROOT/docs/images")
dotnet "$WORK/bin/Relay.BenchReport/relay-bench-report.dll" "${REPORT_ARGS[@]}"
