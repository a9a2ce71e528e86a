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
