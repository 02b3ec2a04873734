# shellcheck shell=bash disable=SC2086,SC2206
# (word splitting of /proc/PID/stat lines and of "a b c" counter lists is intended here)
# Measuring helpers for tests/bench/intake.sh: where the CPU goes during a timed run. Source it
# after setting HZ, SERVER_PID, PGDATA_DIR and PGPORT; it only reads /proc and PostgreSQL's
# statistics views.

# proc_ticks PID [children]: "user system" CPU ticks of a process, all its threads; with
# "children", plus those of its children that ended and were reaped.
proc_ticks() {
  local line children=${2:-}
  { read -r line <"/proc/$1/stat"; } 2>/dev/null || { echo "0 0"; return; }
  set -- ${line##*) } # the words after "pid (comm) ": field k of the line is word k-2
  if [ "$children" = children ]; then
    echo "$((${12} + ${14})) $((${13} + ${15}))"
  else
    echo "${12} ${13}"
  fi
}

# "user system" CPU seconds of agentgate (all its threads), 0 0 once it has stopped.
server_cpu() {
  [ -n "$SERVER_PID" ] || { echo "0 0"; return; }
  proc_ticks "$SERVER_PID" | awk -v hz="$HZ" '{printf "%.2f %.2f", $1 / hz, $2 / hz}'
}

# "user system" CPU seconds of our PostgreSQL: the postmaster and its live children (backends,
# WAL writer, checkpointer, autovacuum) plus the children that already ended, which the
# postmaster has reaped into its own cutime/cstime.
postgres_cpu() {
  local postmaster pid
  postmaster=$(head -1 "$PGDATA_DIR/postmaster.pid")
  {
    proc_ticks "$postmaster" children
    for pid in $(pgrep -P "$postmaster"); do proc_ticks "$pid"; done
  } | awk -v hz="$HZ" '{u += $1; s += $2} END {printf "%.2f %.2f", u / hz, s / hz}'
}

# Busy CPU seconds of the whole machine so far (all cores; iowait is not busy).
machine_busy() {
  awk -v hz="$HZ" '/^cpu / {printf "%.2f", ($2 + $3 + $4 + $7 + $8) / hz}' /proc/stat
}

# snapshot: "wall-clock busy pg-user pg-system agentgate-user agentgate-system".
snapshot() { echo "$(date +%s.%N) $(machine_busy) $(postgres_cpu) $(server_cpu)"; }

# wal_stats: "records full-page-images bytes writes syncs" from pg_stat_wal. A backend reports
# its counts when it ends or between transactions at most once a second, so read this after
# the run's backends have ended.
wal_stats() {
  ag_psql "$PGDATA_DIR" "$PGPORT" -d "${STATS_DB:-bench}" -tA -F ' ' \
    -c "SELECT wal_records, wal_fpi, wal_bytes, wal_write, wal_sync FROM pg_stat_wal"
}

# delta "a1 b1 ..." "a0 b0 ...": element-wise difference.
delta() {
  awk -v a="$1" -v b="$2" 'BEGIN {n = split(a, x, " "); split(b, y, " ");
    for (i = 1; i <= n; i++) printf "%s%.2f", (i > 1 ? " " : ""), x[i] - y[i]}'
}

# all_ticks FILE: "pid comm ticks" of every process (its CPU and its reaped children's), to
# name what else ran on the machine during a run.
all_ticks() {
  local f line comm
  for f in /proc/[0-9]*/stat; do
    { read -r line <"$f"; } 2>/dev/null || continue
    comm=${line#*(}
    comm=${comm%)*}
    set -- ${line##*) }
    echo "${line%% *} ${comm// /_} $((${12} + ${13} + ${14} + ${15}))"
  done >"$1"
}

# other_top BEFORE AFTER [PID...]: the processes, other than these PIDs, this shell and our
# PostgreSQL, that used 0.2 CPU s or more between two all_ticks files.
other_top() {
  local before=$1 after=$2 postmaster ours
  shift 2
  postmaster=$(head -1 "$PGDATA_DIR/postmaster.pid")
  ours=" $$ $* $postmaster $(pgrep -d ' ' -P "$postmaster") "
  join <(sort "$before") <(sort "$after") | awk -v ours="$ours" -v hz="$HZ" '
    index(ours, " " $1 " ") == 0 && $5 - $3 > 0 {t[$2] += ($5 - $3) / hz}
    END {for (c in t) if (t[c] >= 0.2) printf "%s %.1f s, ", c, t[c]}' | sed 's/, $//'
}

# calc EXPRESSION [name=value...]: evaluates an awk expression, printed with 4 decimals.
calc() {
  local expression=$1 args=() v
  shift
  for v in "$@"; do args+=(-v "$v"); done
  awk "${args[@]}" "BEGIN {printf \"%.4f\", $expression}"
}

# cost_lines LABEL DELTA WAL_DELTA COUNT CLIENT_CPU: where the CPU went during a run, per
# transaction, and how often WAL was flushed (fewer flushes per transaction = more commits
# sharing one fsync).
cost_lines() {
  local label=$1 d=($2) w=($3) n=$4 client=$5 pg app other per=($(per_tx "$2" "$4" "$5"))
  pg=$(calc 'u + s' u="${d[2]}" s="${d[3]}")
  app=$(calc 'u + s' u="${d[4]}" s="${d[5]}")
  other=$(calc '(o > 0) ? o : 0' o="$(calc 'b - p - a - c' b="${d[1]}" p="$pg" a="$app" c="$client")")
  printf '  %-8s %.1f of %.1f CPU s busy: postgres %.1f s (%.0f%% system), agentgate %.1f s, client %.1f s, other %.1f s\n' \
    "$label" "${d[1]}" "$(calc 'w * c' w="${d[0]}" c="$(nproc)")" "$pg" \
    "$(calc '(p > 0) ? 100 * s / p : 0' p="$pg" s="${d[3]}")" "$app" "$client" "$other"
  printf '  %-8s per tx: postgres %.3f ms, agentgate %.3f ms, client %.3f ms of CPU; WAL %.1f flushes per 100 tx, %.0f bytes per tx\n' \
    "" "${per[0]}" "${per[1]}" "${per[2]}" "$(calc 'n ? 100 * t / n : 0' t="${w[4]}" n="$n")" \
    "$(calc 'n ? t / n : 0' t="${w[2]}" n="$n")"
}

# per_tx DELTA COUNT CLIENT_CPU: "postgres agentgate client" CPU ms per transaction.
per_tx() {
  local d=($1) n=$2 client=$3
  echo "$(calc 'n ? 1000 * (u + s) / n : 0' u="${d[2]}" s="${d[3]}" n="$n")" \
    "$(calc 'n ? 1000 * (u + s) / n : 0' u="${d[4]}" s="${d[5]}" n="$n")" \
    "$(calc 'n ? 1000 * c / n : 0' c="$client" n="$n")"
}

# cpu_bound HTTP_PER_TX PGBENCH_PER_TX: the highest ratio (a) can reach on a machine whose
# cores are all busy (throughput = cores / CPU per transaction), if PostgreSQL did an intake
# for no more than pgbench's minimal transaction costs it: agentgate's and the HTTP client's
# CPU per intake alone are then what the ratio is left with.
cpu_bound() {
  local h=($1) p=($2)
  calc '(a + c + q > 0) ? (q + k) / (a + c + q) : 0' a="${h[1]}" c="${h[2]}" q="${p[0]}" k="${p[2]}"
}

# other_cpu DELTA CLIENT_CPU: busy CPU seconds used by none of postgres, agentgate, the client.
other_cpu() {
  local d=($1)
  calc '(o > 0) ? o : 0' o="$(calc 'b - p - q - a - e - c' b="${d[1]}" p="${d[2]}" q="${d[3]}" \
    a="${d[4]}" e="${d[5]}" c="$2")"
}
