# Shell helpers the benchmark scripts share (sourced by run.sh and memory.sh): ports and CPU seconds read from /proc
# (PostgreSQL itself is started and stopped by scripts/postgres.sh). CPU_DECIMALS (default 2) sets how the CPU figures are printed.

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# CPU seconds (user + system) of one process; 'comm' may hold spaces, so fields are counted after its ')'.
cpu_seconds() {
  local stat; stat=$(cat "/proc/$1/stat" 2>/dev/null) || { echo 0; return; }
  awk -v hz="$(getconf CLK_TCK)" -v d="${CPU_DECIMALS:-2}" '{ printf "%.*f", d, ($12 + $13) / hz }' <<<"${stat##*) }"
}

# Busy CPU seconds of the whole machine, all cores (from /proc/stat): what else ran shows as the difference.
machine_busy_seconds() {
  awk -v hz="$(getconf CLK_TCK)" -v d="${CPU_DECIMALS:-2}" '$1 == "cpu" { printf "%.*f", d, ($2 + $3 + $4 + $7 + $8 + $9) / hz }' /proc/stat
}

# CPU seconds of the PostgreSQL server in $PGDIR: the postmaster and its live backends and workers (a backend that
# ended is not counted).
pg_cpu_seconds() {
  local master
  master=$(head -n 1 "$PGDIR/data/postmaster.pid" 2>/dev/null) || { echo 0; return; }
  # One awk over every process's stat line; 'comm' may hold spaces or ')', so fields are counted after the last ') '.
  { cat /proc/[0-9]*/stat 2>/dev/null || true; } | awk -v master="$master" -v hz="$(getconf CLK_TCK)" -v d="${CPU_DECIMALS:-2}" '
    { pid = $1; rest = $0; sub(/^.*\) /, "", rest); split(rest, f, " ")
      if (pid == master || f[2] == master) t += f[12] + f[13] }
    END { printf "%.*f", d, t / hz }'
}

# jit_seconds URL...: seconds the runtime's JIT has spent compiling so far, summed over the silos at these base URLs
# (the counter dotnet.jit.compilation.time on /metrics); 0 for a process without it (the floor proxy).
jit_seconds() {
  local url total=0 v
  for url in "$@"; do
    v=$(curl -fs "$url/metrics" 2>/dev/null | awk '$1 == "dotnet_jit_compilation_time_seconds_total" || index($1, "dotnet_jit_compilation_time_seconds_total{") == 1 { print $2; exit }')
    total=$(awk -v a="$total" -v b="${v:-0}" 'BEGIN { printf "%.3f", a + b }')
  done
  echo "$total"
}

# until_jit_quiet MAX_ROUNDS URLS -- LOAD-COMMAND...: runs the load command (a few seconds of load) again and again
# until the silos' JIT compiled for less than 2% of the round's time per silo, at most MAX_ROUNDS times; prints the
# rounds it took. A count of warm-up messages is not enough: a silo tiers up the methods it runs (Tier0, instrumented,
# Tier1) for a minute or more, and three silos sharing two cores take longer (measured on 3 silos: 1.9-3.1 ms of silo
# CPU per message after 2,000 warm-up messages per silo, 1.1 ms once the JIT was quiet).
until_jit_quiet() {
  local max=$1 urls=() round j0 j1 t0 t1
  shift
  while [ "$1" != -- ]; do urls+=("$1"); shift; done
  shift
  for round in $(seq 1 "$max"); do
    j0=$(jit_seconds "${urls[@]}"); t0=${EPOCHREALTIME/,/.}
    "$@" >/dev/null 2>&1 || true
    j1=$(jit_seconds "${urls[@]}"); t1=${EPOCHREALTIME/,/.}
    if awk -v j="$(awk -v a="$j0" -v b="$j1" 'BEGIN { print b - a }')" -v t="$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" -v n="${#urls[@]}" \
        'BEGIN { exit !(j < 0.02 * t * n) }'; then
      echo "$round"; return 0
    fi
  done
  echo "$max+"
}
