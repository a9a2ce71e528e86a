#!/usr/bin/env bash
# The memory check of the cluster: "with 200,000 deliveries in retry on a 12-hour contract spread over 3 silos,
# each silo stays under 1 GiB working set and the database holds them all".
#
#   bench/memory.sh              the check as the issue states it (several minutes on 2 cores)
#   N=5000 bench/memory.sh       a quick trial with fewer messages (leaves docs/BENCHMARKS.md alone)
#
# It builds Release, starts a private PostgreSQL and 3 silos, sends N messages (round-robin over the silos) to a
# destination whose port is closed, so every delivery goes InRetry on the 'slow' contract (5 attempts, 12 h apart),
# waits IDLE_WAIT seconds for idle grains to leave memory, then reads each silo's resident set (/proc/PID/status:
# VmHWM is the peak, VmRSS the current) and the deliveries table. With N=200000 (or UPDATE_DOCS=1) it regenerates
# the section "Memory: 200,000 deliveries in retry" of docs/BENCHMARKS.md and the files bench/results/memory-*.
# Everything it starts is stopped on exit; running it again starts afresh.
#
# Environment: N (200000), CONCURRENCY (64 senders), PAYLOAD_BYTES (100), IDLE_WAIT (60 s), LIMIT_MIB (1024),
# UPDATE_DOCS (1 when N=200000 and no setting below is changed), PG_BIN (newest /usr/lib/postgresql/*/bin).
# To try a setting: CONN_OPTIONS (appended to the silos' Npgsql connection string, e.g. "No Reset On Close=true")
# and SILO_ARGS (more arguments for each silo).
# Ports (chosen not to clash with the tests or run-cluster.sh): HTTP 5101-5103, silo 12101-12103, gateway
# 32101-32103, PostgreSQL 55499; the destination 'down' is http://127.0.0.1:5199, where nothing may listen.
# Exit code: 0 when the check holds, 1 when it does not, anything else when the run itself failed.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

N=${N:-200000}
CONCURRENCY=${CONCURRENCY:-64}
PAYLOAD_BYTES=${PAYLOAD_BYTES:-100}
IDLE_WAIT=${IDLE_WAIT:-60}
LIMIT_MIB=${LIMIT_MIB:-1024}
SILOS=3
if [ "$N" -eq 200000 ] && [ -z "${CONN_OPTIONS:-}${SILO_ARGS:-}" ]; then UPDATE_DOCS=${UPDATE_DOCS:-1}; else UPDATE_DOCS=${UPDATE_DOCS:-0}; fi
PG_PORT=55499
HTTP_BASE=5100
SILO_BASE=12100
GATEWAY_BASE=32100
DOWN_PORT=5199

WORK="$ROOT/bench/results/tmp/memory"   # binaries, logs, samples of this run (git-ignored)
RESULTS="$ROOT/bench/results"
DOCS="$ROOT/docs/BENCHMARKS.md"
PGDIR=""                                  # the private PostgreSQL's folder, under the temp folder

say() { printf '[memory %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { say "error: $*"; exit 3; }
now() { echo "${EPOCHREALTIME/,/.}"; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.0f", b - a }'; }
CPU_DECIMALS=1
# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
mib() { awk -v kb="$1" 'BEGIN { printf "%.0f", kb / 1024 }'; }
thousands() { sed -e ':a' -e 's/\([0-9]\)\([0-9]\{3\}\)\($\|[^0-9]\)/\1,\2\3/; ta' <<<"$1"; }
status_kb() { awk -v key="$2:" '$1 == key { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
psql_relay() {
  "$PG_BIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres -d "${2:-relay}" -c "$1"
}

# ---- leftovers of an interrupted run, then the exit trap ----------------------------------------------------------

stop_silos() {
  local pidfile pid
  for pidfile in "$WORK"/pids/silo*.pid; do
    [ -f "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    # Only a process that is still one of our silos (pids are reused).
    if grep -qa "Relay.Silo.dll" "/proc/$pid/cmdline" 2>/dev/null; then kill -TERM "$pid" 2>/dev/null || true; fi
  done
  for pidfile in "$WORK"/pids/silo*.pid; do
    [ -f "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    if grep -qa "Relay.Silo.dll" "/proc/$pid/cmdline" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
    rm -f "$pidfile"
  done
}

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
  [ -f "$WORK/pids/sampler.pid" ] && { kill "$(cat "$WORK/pids/sampler.pid")" 2>/dev/null || true; rm -f "$WORK/pids/sampler.pid"; }
  say "stopping the silos and PostgreSQL"
  stop_silos
  stop_postgres "$PGDIR"
  rm -f "$WORK/pgdir"
  exit "$rc"
}

PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
mkdir -p "$WORK/pids" "$WORK/logs"
# One run at a time: the next step stops whatever an earlier run left behind.
exec 9>"$WORK/lock"
flock -n 9 || die "another bench/memory.sh is running"
stop_silos
[ -f "$WORK/pgdir" ] && stop_postgres "$(cat "$WORK/pgdir")"
rm -f "$WORK/pgdir" "$WORK"/logs/* "$WORK/rss.csv" "$WORK/loadgen.json" "$WORK"/times.* "$WORK/summary.txt" "$WORK/pg-statements.txt"
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- checks before anything starts -----------------------------------------------------------------------------

command -v dotnet >/dev/null || die "the .NET SDK (dotnet) is not on PATH"
command -v curl >/dev/null || die "curl is needed"
if [ -z "$PG_BIN" ] || [ ! -x "$PG_BIN/initdb" ]; then
  [ "$(id -u)" -eq 0 ] || die "PostgreSQL's server binaries are not installed (apt-get install postgresql), or set PG_BIN"
  say "installing PostgreSQL (Debian package 'postgresql')"
  PG_BIN="" "$ROOT/scripts/postgres.sh" install
  PG_BIN=$(PG_BIN="" "$ROOT/scripts/postgres.sh" bin)
fi
export PG_BIN   # scripts/postgres.sh starts this very PostgreSQL
for port in "$PG_PORT" "$DOWN_PORT" $(seq $((HTTP_BASE + 1)) $((HTTP_BASE + SILOS))) \
            $(seq $((SILO_BASE + 1)) $((SILO_BASE + SILOS))) $(seq $((GATEWAY_BASE + 1)) $((GATEWAY_BASE + SILOS))); do
  if port_in_use "$port"; then die "port $port is in use; this benchmark needs it free"; fi
done

T_START=$(now)

# ---- build -------------------------------------------------------------------------------------------------------

say "building Release (silo and load generator)"
T0=$(now)
dotnet build "$ROOT/src/Relay.Silo" -c Release -o "$WORK/silo" -nologo -v q >"$WORK/logs/build.log" 2>&1 \
  || { tail -n 30 "$WORK/logs/build.log" >&2; die "the silo did not build"; }
dotnet build "$ROOT/bench/Relay.LoadGen" -c Release -o "$WORK/loadgen" -nologo -v q >>"$WORK/logs/build.log" 2>&1 \
  || { tail -n 30 "$WORK/logs/build.log" >&2; die "the load generator did not build"; }
T_BUILD=$(since "$T0")

# ---- PostgreSQL ----------------------------------------------------------------------------------------------------

T0=$(now)
PGDIR=$(mktemp -d "${TMPDIR:-/tmp}/relay-bench-memory-pg.XXXXXX")
echo "$PGDIR" >"$WORK/pgdir"
[ "$(id -u)" -eq 0 ] && chown -R postgres "$PGDIR"
say "starting PostgreSQL $("$PG_BIN/postgres" --version | awk '{ print $3 }') on 127.0.0.1:$PG_PORT (data in $PGDIR)"
# 3 silos × 50 pooled connections each, and room for psql. pg_stat_statements, when installed, tells where the
# database's time goes during the load.
STATEMENTS=0; [ -f "$PG_BIN/../lib/pg_stat_statements.so" ] && STATEMENTS=1
pg_options=(-c max_connections=200)
[ "$STATEMENTS" -eq 1 ] && pg_options+=(-c shared_preload_libraries=pg_stat_statements)
"$ROOT/scripts/postgres.sh" start --data "$PGDIR/data" --port "$PG_PORT" --log "$PGDIR/server.log" --socket "$PGDIR" \
  -- "${pg_options[@]}" || die "PostgreSQL did not start"
psql_relay "CREATE DATABASE relay" postgres
[ "$STATEMENTS" -eq 1 ] && psql_relay "CREATE EXTENSION pg_stat_statements"
"$ROOT/scripts/postgres.sh" schema --port "$PG_PORT" --database relay || die "the schema did not apply"
CONN="Host=127.0.0.1;Port=$PG_PORT;Database=relay;Username=postgres${CONN_OPTIONS:+;$CONN_OPTIONS}"
read -r -a EXTRA_SILO_ARGS <<<"${SILO_ARGS:-}"

# ---- silos ---------------------------------------------------------------------------------------------------------

say "starting $SILOS silos"
for i in $(seq 1 "$SILOS"); do
  (cd "$WORK" && exec dotnet "$WORK/silo/Relay.Silo.dll" \
      --urls "http://127.0.0.1:$((HTTP_BASE + i))" \
      --Relay:Storage:Provider=AdoNet --Relay:Storage:Invariant=Npgsql "--Relay:Storage:ConnectionString=$CONN" \
      --Relay:Cluster:SiloPort=$((SILO_BASE + i)) --Relay:Cluster:GatewayPort=$((GATEWAY_BASE + i)) \
      --Relay:Samples:Enabled=false \
      --Relay:Destinations:down:Protocol=Http "--Relay:Destinations:down:Address=http://127.0.0.1:$DOWN_PORT/down" \
      --Relay:Destinations:down:Contract=slow \
      --Relay:Contracts:slow:MaxAttempts=5 --Relay:Contracts:slow:Delay=12:00:00 \
      --Logging:LogLevel:Default=Warning "${EXTRA_SILO_ARGS[@]}" \
      >"$WORK/logs/silo$i.log" 2>&1) &
  echo $! >"$WORK/pids/silo$i.pid"
done
SILO_PIDS=()
for i in $(seq 1 "$SILOS"); do
  pid=$(cat "$WORK/pids/silo$i.pid")
  SILO_PIDS+=("$pid")
  ready=0
  for _ in $(seq 1 360); do
    if curl -fs "http://127.0.0.1:$((HTTP_BASE + i))/health" >/dev/null 2>&1; then ready=1; break; fi
    kill -0 "$pid" 2>/dev/null || { tail -n 30 "$WORK/logs/silo$i.log" >&2; die "silo $i exited"; }
    sleep 0.5
  done
  [ "$ready" -eq 1 ] || { tail -n 30 "$WORK/logs/silo$i.log" >&2; die "silo $i was not ready within 180 s"; }
done
T_START_CLUSTER=$(since "$T0")
say "cluster ready ($T_START_CLUSTER s); resident sets: $(for p in "${SILO_PIDS[@]}"; do printf '%s MiB ' "$(mib "$(status_kb "$p" VmRSS)")"; done)"

# ---- load, with the resident sets sampled every second -----------------------------------------------------------

{
  header="seconds,phase"; for i in $(seq 1 "$SILOS"); do header+=",silo${i}_rss_mib"; done; echo "$header"
} >"$WORK/rss.csv"
echo load >"$WORK/phase"
(
  t0=$(now)
  while true; do
    line="$(since "$t0"),$(cat "$WORK/phase" 2>/dev/null)"
    for p in "${SILO_PIDS[@]}"; do line+=",$(mib "$(status_kb "$p" VmRSS)")"; done
    echo "$line" >>"$WORK/rss.csv"
    sleep 1
  done
) &
echo $! >"$WORK/pids/sampler.pid"

RUN_ID=$(date -u +%Y%m%d%H%M%S)
URLS=(); for i in $(seq 1 "$SILOS"); do URLS+=(--url "http://127.0.0.1:$((HTTP_BASE + i))"); done
PG_CPU0=$(pg_cpu_seconds)
SILO_CPU0=(); for p in "${SILO_PIDS[@]}"; do SILO_CPU0+=("$(cpu_seconds "$p")"); done
XACT0=$(psql_relay "SELECT xact_commit FROM pg_stat_database WHERE datname = 'relay'")
WAL0=$(psql_relay "SELECT pg_current_wal_lsn()")
[ "$STATEMENTS" -eq 1 ] && psql_relay "SELECT pg_stat_statements_reset()" >/dev/null
# CPU of the load generator: what the shell's waited-for children used ('times' must run in this shell, not a subshell).
times >"$WORK/times.before"

say "sending $(thousands "$N") messages to 'down' over $SILOS silos ($CONCURRENCY concurrent senders)"
BUSY0=$(machine_busy_seconds)
T0=$(now)
lg_rc=0
dotnet "$WORK/loadgen/relay-loadgen.dll" "${URLS[@]}" --destination down --count "$N" --concurrency "$CONCURRENCY" \
  --payload-bytes "$PAYLOAD_BYTES" --id-prefix "mem-$RUN_ID" --progress 10 --json "$WORK/loadgen.json" \
  2>&1 | tee "$WORK/logs/loadgen.log" >&2 || lg_rc=$?
T_LOAD=$(since "$T0")
T_LOAD_EXACT=$(awk -v a="$T0" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }')
BUSY=$(awk -v a="$BUSY0" -v b="$(machine_busy_seconds)" 'BEGIN { printf "%.1f", b - a }')
times >"$WORK/times.after"
LG_CPU=$(awk 'FNR == 2 { split($1, u, /[ms]/); split($2, s, /[ms]/); t = u[1] * 60 + u[2] + s[1] * 60 + s[2]; d = (FILENAME ~ /after$/) ? d + t : d - t }
              END { printf "%.1f", d }' "$WORK/times.before" "$WORK/times.after")
[ "$lg_rc" -le 1 ] || die "the load generator failed (exit code $lg_rc)"

PEAK_KB=(); LOAD_END_KB=(); SILO_CPU=()
for idx in "${!SILO_PIDS[@]}"; do
  p=${SILO_PIDS[$idx]}
  kill -0 "$p" 2>/dev/null || die "silo $((idx + 1)) died during the load; see $WORK/logs/silo$((idx + 1)).log"
  PEAK_KB+=("$(status_kb "$p" VmHWM)")
  LOAD_END_KB+=("$(status_kb "$p" VmRSS)")
  SILO_CPU+=("$(awk -v a="${SILO_CPU0[$idx]}" -v b="$(cpu_seconds "$p")" 'BEGIN { printf "%.1f", b - a }')")
done
PG_CPU=$(awk -v a="$PG_CPU0" -v b="$(pg_cpu_seconds)" 'BEGIN { printf "%.1f", b - a }')
SILO_CPU_SUM=$(printf '%s\n' "${SILO_CPU[@]}" | awk '{ t += $1 } END { printf "%.1f", t }')
OTHER_CPU=$(awk -v b="$BUSY" -v s="$SILO_CPU_SUM" -v p="$PG_CPU" -v l="$LG_CPU" 'BEGIN { o = b - s - p - l; printf "%.1f", (o < 0 ? 0 : o) }')
BUSY_PCT=$(awk -v b="$BUSY" -v t="$T_LOAD_EXACT" -v c="$(nproc)" 'BEGIN { printf "%.0f", (t > 0 ? 100 * b / (t * c) : 0) }')
sleep 2   # backends publish their statistics about once a second
XACT=$(( $(psql_relay "SELECT xact_commit FROM pg_stat_database WHERE datname = 'relay'") - XACT0 ))
WAL_BYTES=$(psql_relay "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '$WAL0')::bigint")
if [ "$STATEMENTS" -eq 1 ]; then
  {
    echo "Statements during the load of $N messages, by total execution time (pg_stat_statements)"
    echo "calls | per message | total ms | mean ms | rows | statement"
    psql_relay "SELECT calls, round(calls::numeric / $N, 2), round(total_exec_time::numeric), round(mean_exec_time::numeric, 3), rows,
                       left(regexp_replace(query, '\s+', ' ', 'g'), 160)
                FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = 'relay')
                ORDER BY total_exec_time DESC LIMIT 20"
  } >"$WORK/pg-statements.txt"
fi

echo idle >"$WORK/phase"
say "load done in $T_LOAD s; waiting $IDLE_WAIT s for idle grains to leave memory"
sleep "$IDLE_WAIT"
END_KB=()
for idx in "${!SILO_PIDS[@]}"; do
  p=${SILO_PIDS[$idx]}
  kill -0 "$p" 2>/dev/null || die "silo $((idx + 1)) died while idle; see $WORK/logs/silo$((idx + 1)).log"
  END_KB+=("$(status_kb "$p" VmRSS)")
done
kill "$(cat "$WORK/pids/sampler.pid")" 2>/dev/null || true
rm -f "$WORK/pids/sampler.pid" "$WORK/phase"

# ---- the database --------------------------------------------------------------------------------------------------

BY_STATUS=$(psql_relay "SELECT status, count(*) FROM deliveries GROUP BY status ORDER BY status" | tr '|' ' ')
OURS_IN_RETRY=$(psql_relay "SELECT count(*) FROM deliveries WHERE message_id LIKE 'mem-$RUN_ID-%' AND status = 'InRetry' AND due_at IS NOT NULL")
DUE_RANGE=$(psql_relay "SELECT to_char(min(due_at - accepted_at), 'HH24:MI:SS') || ' to ' || to_char(max(due_at - accepted_at), 'HH24:MI:SS') FROM deliveries WHERE status = 'InRetry'")
AUDIT_ROWS=$(psql_relay "SELECT count(*) FROM audit")
STATE_ROWS=$(psql_relay "SELECT count(*) FROM relay_grain_state")
DB_SIZE=$(psql_relay "SELECT pg_size_pretty(pg_database_size('relay'))")
T_TOTAL=$(since "$T_START")

# ---- figures and verdict -----------------------------------------------------------------------------------------

# Fields of the load generator's JSON report (indented, one property a line).
lg() { sed -n "s/^ *\"$1\": \(.*\),\{0,1\}$/\1/p" "$WORK/loadgen.json" | head -n 1 | sed 's/,$//; s/^"//; s/"$//'; }
lg_counts() { awk -v key="\"$1\": {" 'index($0, key) { on = 1; next } on && /}/ { exit } on { gsub(/[",]/, ""); sub(/^ */, ""); printf "%s%s", sep, $0; sep = ", " }' "$WORK/loadgen.json"; }
[ -f "$WORK/loadgen.json" ] || die "the load generator wrote no report"
ANSWERED=$(lg answered); LG_ERRORS=$(lg errors); RATE=$(lg answersPerSecond)
P50=$(printf "%.1f" "$(lg p50)"); P99=$(printf "%.1f" "$(lg p99)"); P999=$(printf "%.1f" "$(lg p999)"); PMAX=$(printf "%.1f" "$(lg max)")
HTTP_COUNTS=$(lg_counts byHttpStatus); MSG_COUNTS=$(lg_counts byMessageStatus)

verdict=holds
LIMIT_KB=$((LIMIT_MIB * 1024))
for kb in "${PEAK_KB[@]}"; do [ "$kb" -lt "$LIMIT_KB" ] || verdict="does not hold"; done
[ "$OURS_IN_RETRY" -eq "$N" ] || verdict="does not hold"

report() {
  echo "Memory check: $(thousands "$N") deliveries in retry (contract slow: 5 attempts, 12 h apart) over $SILOS silos"
  [ -n "${CONN_OPTIONS:-}${SILO_ARGS:-}" ] && echo "  settings changed: ${CONN_OPTIONS:+connection string + '$CONN_OPTIONS'} ${SILO_ARGS:+silo arguments '$SILO_ARGS'}"
  for idx in "${!SILO_PIDS[@]}"; do
    printf '  silo %d   RSS peak %5s MiB   end of load %5s MiB   after %s s idle %5s MiB   CPU during load %s s\n' \
      $((idx + 1)) "$(mib "${PEAK_KB[$idx]}")" "$(mib "${LOAD_END_KB[$idx]}")" "$IDLE_WAIT" "$(mib "${END_KB[$idx]}")" "${SILO_CPU[$idx]}"
  done
  echo "  deliveries by status: $(tr '\n' ';' <<<"$BY_STATUS" | sed 's/;$//; s/;/, /g')"
  echo "  this run's deliveries InRetry with a due time: $(thousands "$OURS_IN_RETRY") of $(thousands "$N"); next attempt $DUE_RANGE after acceptance"
  echo "  audit rows $(thousands "$AUDIT_ROWS"), grain state rows $(thousands "$STATE_ROWS"), database $DB_SIZE"
  echo "  load: $ANSWERED answered, $LG_ERRORS errors in $T_LOAD s ($RATE/s); latency ms p50 $P50, p99 $P99, p99.9 $P999, max $PMAX"
  echo "  HTTP: $HTTP_COUNTS; message status: $MSG_COUNTS"
  echo "  PostgreSQL during load: CPU $PG_CPU s, $(thousands "$XACT") transactions committed, $(( WAL_BYTES / 1024 / 1024 )) MiB WAL; load generator CPU $LG_CPU s"
  echo "  machine during load: $BUSY_PCT% of $(nproc) cores busy ($BUSY s): silos $SILO_CPU_SUM s, PostgreSQL $PG_CPU s, load generator $LG_CPU s, other processes $OTHER_CPU s"
  echo "  time: build ${T_BUILD} s, start ${T_START_CLUSTER} s, load ${T_LOAD} s, idle ${IDLE_WAIT} s, total ${T_TOTAL} s"
  echo "  the check $verdict (limit $LIMIT_MIB MiB a silo)"
}
report | tee "$WORK/summary.txt"

# ---- docs/BENCHMARKS.md and bench/results/ -----------------------------------------------------------------------

if [ "$UPDATE_DOCS" = 1 ]; then
  commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
  git -C "$ROOT" diff --quiet HEAD -- src sql 2>/dev/null || commit="$commit + local changes"
  cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
  ram=$(awk '/^MemTotal/ { printf "%.0f", $2 / 1024 / 1024 }' /proc/meminfo)
  runtime=$(dotnet --list-runtimes | awk '/Microsoft.NETCore.App/ { v = $2 } END { print v }')
  gc=$(grep -q '"System.GC.Server": true' "$WORK/silo/Relay.Silo.runtimeconfig.json" && echo "Server GC" || echo "workstation GC")
  xact_per=$(awk -v x="$XACT" -v n="$N" 'BEGIN { printf "%.2f", x / n }')
  wal_per=$(awk -v w="$WAL_BYTES" -v n="$N" 'BEGIN { printf "%.1f", w / n / 1024 }')
  section=$(mktemp)
  {
    echo "<!-- memory:start -->"
    echo "## Memory: 200,000 deliveries in retry"
    echo
    echo "The check: with 200,000 deliveries in retry on a 12-hour contract spread over 3 silos, each silo stays under"
    echo "1 GiB working set and the database holds them all. \`bench/memory.sh\` runs it and rewrites this section."
    echo
    echo "**The check $verdict.** Run of $(date -u '+%Y-%m-%d %H:%M') UTC, commit $commit; $(nproc) cores ($cpu),"
    echo "$ram GiB RAM; PostgreSQL $("$PG_BIN/postgres" --version | awk '{ print $3 }') and the 3 silos on the same machine;"
    echo ".NET $runtime, $gc."
    echo
    echo "Setup: the destination \`down\` refuses connections (a closed port on 127.0.0.1); its contract \`slow\` is 5 attempts"
    echo "12 hours apart. \`bench/Relay.LoadGen\` sends $(thousands "$N") messages of $PAYLOAD_BYTES bytes round-robin to the 3 silos,"
    echo "$CONCURRENCY at a time; each is stored, attempted once within the request, and answered \`InRetry\`. Then the silos"
    echo "idle $IDLE_WAIT s (delivery grains leave memory after 30 s idle)."
    if [ -n "${CONN_OPTIONS:-}${SILO_ARGS:-}" ]; then
      echo "Settings changed for this run: ${CONN_OPTIONS:+connection string + \`$CONN_OPTIONS\`} ${SILO_ARGS:+silo arguments \`$SILO_ARGS\`}"
    fi
    echo
    echo "| silo | RSS peak (VmHWM) | RSS at the end of the load | RSS after $IDLE_WAIT s idle | CPU during the load |"
    echo "| --- | --- | --- | --- | --- |"
    for idx in "${!SILO_PIDS[@]}"; do
      echo "| $((idx + 1)) | $(mib "${PEAK_KB[$idx]}") MiB | $(mib "${LOAD_END_KB[$idx]}") MiB | $(mib "${END_KB[$idx]}") MiB | ${SILO_CPU[$idx]} s |"
    done
    echo
    echo "| deliveries in the database | rows |"
    echo "| --- | --- |"
    while read -r status count; do
      [ -n "$status" ] && echo "| \`$status\` | $(thousands "$count") |"
    done <<<"$BY_STATUS"
    echo
    echo "Of this run's $(thousands "$N") messages, $(thousands "$OURS_IN_RETRY") are \`InRetry\` with a due time (next attempt $DUE_RANGE"
    echo "after acceptance). The database also holds $(thousands "$AUDIT_ROWS") audit rows and $(thousands "$STATE_ROWS") grain states: $DB_SIZE."
    echo
    echo "| load | |"
    echo "| --- | --- |"
    echo "| answered / errors | $(thousands "$ANSWERED") / $(thousands "$LG_ERRORS") ($HTTP_COUNTS; message status $MSG_COUNTS) |"
    echo "| duration, throughput | $T_LOAD s, $RATE messages/s |"
    echo "| answer latency | p50 $P50 ms, p99 $P99 ms, p99.9 $P999 ms, max $PMAX ms |"
    echo "| PostgreSQL | $xact_per transactions committed and $wal_per KiB of WAL per message; $PG_CPU s CPU |"
    echo "| CPU during the load | $BUSY_PCT % of $(nproc) cores busy: silos $SILO_CPU_SUM s, PostgreSQL $PG_CPU s, load generator $LG_CPU s, other processes $OTHER_CPU s |"
    echo
    echo "Raw figures: \`bench/results/memory-summary.txt\`, \`bench/results/memory-loadgen.json\`, resident sets each second in"
    echo "\`bench/results/memory-rss.csv\`. Whole run: $T_TOTAL s (build $T_BUILD s, cluster start $T_START_CLUSTER s, load $T_LOAD s, idle $IDLE_WAIT s)."
    echo "<!-- memory:end -->"
  } >"$section"

  tmp=$(mktemp "$DOCS.XXXXXX")
  if [ -f "$DOCS" ] && grep -q '<!-- memory:start -->' "$DOCS" && grep -q '<!-- memory:end -->' "$DOCS"; then
    awk -v file="$section" '
      /<!-- memory:start -->/ { while ((getline line < file) > 0) print line; skip = 1; next }
      /<!-- memory:end -->/ { skip = 0; next }
      !skip { print }' "$DOCS" >"$tmp"
  elif [ -f "$DOCS" ]; then
    { cat "$DOCS"; echo; cat "$section"; } >"$tmp"
  else
    {
      echo "# Benchmarks"
      echo
      echo "Measured figures of Relay, each section written by the script it names (run it again to refresh it)."
      echo "Absolute numbers depend on the machine; each section says which one it ran on."
      echo
      cat "$section"
    } >"$tmp"
  fi
  chmod 644 "$tmp"
  mv "$tmp" "$DOCS"
  rm -f "$section"
  cp "$WORK/summary.txt" "$RESULTS/memory-summary.txt"
  cp "$WORK/loadgen.json" "$RESULTS/memory-loadgen.json"
  cp "$WORK/rss.csv" "$RESULTS/memory-rss.csv"
  [ -f "$WORK/pg-statements.txt" ] && cp "$WORK/pg-statements.txt" "$RESULTS/memory-pg-statements.txt"
  say "updated docs/BENCHMARKS.md and bench/results/memory-*"
fi

[ "$verdict" = holds ]
