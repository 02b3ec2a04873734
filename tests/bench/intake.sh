#!/usr/bin/env bash
# Intake benchmark: how many signed posts per second agentgate holds durably, against what
# PostgreSQL alone does with the same SQL.
#
#   tests/bench/intake.sh            (as root, like scripts/run-tests; about 1 minute)
#
# What it does, in one run:
#   1. installs wrk if missing, builds a Release agentgate into build-bench/;
#   2. starts a private PostgreSQL in a temporary directory, with DURABLE commits
#      (fsync=on, synchronous_commit=on, full_page_writes=on: nothing is relaxed). Settings it
#      does change, all about capacity, none about durability:
#        shared_buffers=256MB  max_connections=200  wal_buffers=16MB
#        max_wal_size=4GB  checkpoint_timeout=30min   (no checkpoint in the middle of a run)
#      then creates a database, writes a config (127.0.0.1 on a free port, auth = dev, forum
#      "bench" with rate_limit = none, threads = $BENCH_SERVER_THREADS, default 32), runs
#      `agentgate migrate`, seeds $BENCH_SEED drafts (20000) through intake_hold() itself and
#      runs VACUUM ANALYZE, so that both runs meet a database in a steady state, as a service
#      that has been up for a while has, and not an empty, never-analysed one (see "Why seed"
#      below), then starts `agentgate serve` (its log goes to a file);
#   3. pre-signs $BENCH_REQUESTS distinct requests (tests/bench/presign.mjs: distinct
#      webhook-ids, 64 agents, 200 invokers, ~420-byte replies, ~800-byte JSON documents)
#      BEFORE the timed run, then drives them with wrk, $BENCH_CONNECTIONS connections (32)
#      over 2 threads for $BENCH_DURATION seconds (15), each request sent at most once
#      (tests/bench/intake.lua). Only 202 answers count as held; p50/p99 come from wrk's
#      latency distribution (every answer);
#   4. on the same database, with the same concurrency, runs pgbench -n -M prepared -c 32 -j 2
#      for as long, with tests/bench/intake_hold.pgbench: the one statement one intake runs,
#      `SELECT outcome, response, retry_after FROM intake_hold(...)`, with like arguments;
#   5. prints held posts/s, p50, p99, pgbench's tx/s and the ratio (target >= 0.8), plus the
#      CPU seconds each party used during each run, to tell where the time goes.
#
# Why seed: on an empty, never-analysed drafts table PostgreSQL plans intake_hold()'s
# duplicate check (drafts WHERE forum = $1 AND webhook_id = $2) as a scan of
# drafts_invoker_recent on `forum` alone, filtering webhook_id; plpgsql caches that plan for
# the connection's life (until an autovacuum ANALYZE invalidates it, up to a minute or more
# later), so every intake reads all of the forum's drafts and throughput collapses within
# seconds. BENCH_SEED=0 shows that fresh-install behaviour.
#
# Exit status: 0 when measured (even when the ratio misses its target); 1 when the server did
# not start, or fewer than 95% of the answers were 202, or something else failed.
#
# Knobs (environment): BENCH_DURATION (s, default 15), BENCH_CONNECTIONS (32),
# BENCH_SERVER_THREADS (32), BENCH_REQUESTS (pre-signed requests, 400000),
# BENCH_LOG_LEVEL (agentgate log_level, default info as in production), BENCH_SEED (20000).
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"
BENCH_DIR="$AG_ROOT/tests/bench"

DURATION=${BENCH_DURATION:-15}
CONNECTIONS=${BENCH_CONNECTIONS:-32}
SERVER_THREADS=${BENCH_SERVER_THREADS:-32}
REQUESTS=${BENCH_REQUESTS:-400000}
LOG_LEVEL=${BENCH_LOG_LEVEL:-info}
SEED=${BENCH_SEED:-20000}
WRK_THREADS=2
AGENTS=64
FORUM=bench
PG_SETTINGS=(fsync=on synchronous_commit=on full_page_writes=on shared_buffers=256MB
  max_connections=200 wal_buffers=16MB max_wal_size=4GB checkpoint_timeout=30min)

WORK=""
SERVER_PID=""
PGDATA_DIR=""
cleanup() {
  local status=$?
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  [ -n "$PGDATA_DIR" ] && ag_pg_stop "$PGDATA_DIR"
  [ -n "$WORK" ] && rm -rf "$WORK"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# CPU ticks used so far by processes: "user system" of all their threads (+ "cuser csystem",
# the times of their children that ended, when $2 = children).
proc_ticks() {
  local fields
  fields=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null) || { echo "0 0"; return; }
  # after "pid (comm) ", field k of the line is word k-2: utime 14, stime 15, cutime 16, cstime 17
  if [ "${2:-}" = children ]; then
    echo "$fields" | awk '{print $12 + $14, $13 + $15}'
  else
    echo "$fields" | awk '{print $12, $13}'
  fi
}
# "user system" CPU seconds of agentgate (all its threads).
server_cpu() { proc_ticks "$SERVER_PID" | awk -v hz="$HZ" '{printf "%.2f %.2f", $1 / hz, $2 / hz}'; }
# "user system" CPU seconds of our PostgreSQL: the postmaster and its live children (backends,
# WAL writer, checkpointer, autovacuum...) plus the children that already ended, which the
# postmaster has reaped into its own cutime/cstime.
postgres_cpu() {
  local postmaster pid
  postmaster=$(head -1 "$PGDATA_DIR/postmaster.pid")
  {
    proc_ticks "$postmaster" children
    for pid in $(pgrep -P "$postmaster"); do proc_ticks "$pid"; done
  } | awk -v hz="$HZ" '{u += $1; s += $2} END {printf "%.2f %.2f", u / hz, s / hz}'
}
# Busy CPU seconds of the whole machine so far (all cores; iowait is not busy), from /proc/stat.
machine_busy() {
  awk -v hz="$HZ" '/^cpu / {printf "%.2f", ($2 + $3 + $4 + $7 + $8) / hz}' /proc/stat
}
# WAL counters (PostgreSQL 14+): records, full-page images, bytes, writes, syncs.
wal_stats() {
  ag_psql "$PGDATA_DIR" "$PGPORT" -d bench -tA -F ' ' \
    -c "SELECT wal_records, wal_fpi, wal_bytes, wal_write, wal_sync FROM pg_stat_wal"
}
# delta "a1 b1 ..." "a0 b0 ...": element-wise difference.
delta() { awk -v a="$1" -v b="$2" 'BEGIN {n = split(a, x, " "); split(b, y, " ");
  for (i = 1; i <= n; i++) printf "%s%.2f", (i > 1 ? " " : ""), x[i] - y[i]}'; }
HZ=$(getconf CLK_TCK)

# 1. Tools and a Release build.
ag_install_packages wrk
ag_say "building a Release agentgate into build-bench/"
ag_build "$AG_ROOT/build-bench" -DCMAKE_BUILD_TYPE=Release -DAGENTGATE_TESTS=OFF
BIN="$AG_ROOT/build-bench/agentgate"

# 2. PostgreSQL, the database, the config and the server.
WORK=$(mktemp -d /tmp/agentgate-bench.XXXXXX)
chmod 755 "$WORK"
PGDATA_DIR="$WORK/pg"
PGPORT=55499
ag_say "starting PostgreSQL (durable: fsync=on synchronous_commit=on) in $PGDATA_DIR"
ag_pg_start "$PGDATA_DIR" "$PGPORT" "${PG_SETTINGS[@]}"
ag_psql "$PGDATA_DIR" "$PGPORT" -d postgres -c "CREATE DATABASE bench"

HTTP_PORT=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
SECRET=$("$BIN" secret new)
CONFIG="$WORK/agentgate.conf"
cat >"$CONFIG" <<EOF
[server]
listen = 127.0.0.1:$HTTP_PORT
public_url = http://127.0.0.1:$HTTP_PORT
database = host=$PGDATA_DIR port=$PGPORT dbname=bench user=postgres
auth = dev
threads = $SERVER_THREADS
log_level = $LOG_LEVEL

[forum $FORUM]
adapter = generic
inbound_secret = $SECRET
rate_limit = none
EOF
"$BIN" --config "$CONFIG" migrate >/dev/null || ag_die "agentgate migrate failed"
# seed_sql FIRST LAST: holds drafts FIRST..LAST through intake_hold(), in one transaction.
seed_sql() {
  echo "SELECT count(*) FROM generate_series($1, $2) AS i, LATERAL intake_hold('$FORUM',
    'seed_' || i, gen_random_uuid(), 'bench-agent-' || (i % $AGENTS + 1),
    'helperbot-' || (i % $AGENTS + 1), (1001 + i % 200)::text, 'user' || (1001 + i % 200),
    (5000 + i)::text, NULL, NULL, NULL, repeat('A seeded answer of some length. ', 13), NULL,
    '{\"question_url\": \"http://forum.example/t/1\"}', '[]', '{\"status\": \"held\"}', 0,
    '3600 seconds', '259200 seconds') AS h WHERE h.outcome = 'held'"
}
if [ "$SEED" -gt 0 ]; then
  ag_say "seeding $SEED drafts, then VACUUM ANALYZE"
  # A first small batch and an ANALYZE, so the big batch is not itself planned on an empty table.
  ag_psql "$PGDATA_DIR" "$PGPORT" -d bench -tA -c "$(seed_sql 1 $((SEED < 500 ? SEED : 500)))" \
    -c ANALYZE >/dev/null
  [ "$SEED" -le 500 ] ||
    ag_psql "$PGDATA_DIR" "$PGPORT" -d bench -tA -c "$(seed_sql 501 "$SEED")" >/dev/null
  ag_psql "$PGDATA_DIR" "$PGPORT" -d bench -c "VACUUM ANALYZE"
fi
ag_say "starting agentgate serve on 127.0.0.1:$HTTP_PORT (threads = $SERVER_THREADS)"
"$BIN" --config "$CONFIG" serve --no-migrate >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 200); do
  curl -fsS -o /dev/null "http://127.0.0.1:$HTTP_PORT/healthz" 2>/dev/null && break
  kill -0 "$SERVER_PID" 2>/dev/null || { tail -20 "$WORK/server.log" >&2; ag_die "agentgate exited at start"; }
  sleep 0.1
done
curl -fsS -o /dev/null "http://127.0.0.1:$HTTP_PORT/healthz" ||
  { tail -20 "$WORK/server.log" >&2; ag_die "agentgate did not become healthy"; }

# 3. Pre-sign, then drive them with wrk.
ag_say "pre-signing $REQUESTS requests"
node "$BENCH_DIR/presign.mjs" "$WORK/requests" "$WRK_THREADS" "$REQUESTS" "$SECRET" \
  "127.0.0.1:$HTTP_PORT" "$FORUM" "$AGENTS"

# Counters before and after each timed run: machine busy CPU, PostgreSQL CPU (user, system),
# agentgate CPU (user, system), WAL counters.
snapshot() { echo "$(machine_busy) $(postgres_cpu) $(server_cpu) $(wal_stats)"; }
# per_tx TOTAL COUNT [SCALE]: TOTAL / COUNT * SCALE, for "ms of CPU per transaction" etc.
per_tx() { awk -v t="$1" -v n="$2" -v k="${3:-1000}" 'BEGIN {printf "%.2f", n ? t / n * k : 0}'; }
sum() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a + b}'; }
# cost_line LABEL DELTA COUNT CLIENT_CPU: where the CPU and the WAL syncs went, per transaction.
cost_line() {
  local d=($2) pg app
  pg=$(sum "${d[1]}" "${d[2]}")
  app=$(sum "${d[3]}" "${d[4]}")
  printf '  %-8s busy %4.1f s: postgres %4.1f s = %.2f ms/tx (%.0f%% system), agentgate %4.1f s = %.2f ms/tx, client %4.1f s, other processes %4.1f s | WAL: %s syncs/100 tx, %.0f bytes/tx\n' \
    "$1" "${d[0]}" "$pg" "$(per_tx "$pg" "$3")" \
    "$(awk -v p="$pg" -v s="${d[2]}" 'BEGIN {print (p > 0) ? 100 * s / p : 0}')" \
    "$app" "$(per_tx "$app" "$3")" "$4" \
    "$(awk -v b="${d[0]}" -v p="$pg" -v a="$app" -v c="$4" 'BEGIN {o = b - p - a - c; print (o > 0) ? o : 0}')" \
    "$(per_tx "${d[9]}" "$3" 100)" "$(per_tx "${d[7]}" "$3" 1)"
}
TIMEFORMAT='%U %S'

ag_psql "$PGDATA_DIR" "$PGPORT" -d bench -c CHECKPOINT
ag_say "wrk: $CONNECTIONS connections, $WRK_THREADS threads, ${DURATION}s of signed posts"
before=$(snapshot)
{ time wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --timeout 10s \
    -s "$BENCH_DIR/intake.lua" "http://127.0.0.1:$HTTP_PORT" -- "$WORK/requests" \
    >"$WORK/wrk.out" 2>&1; } 2>"$WORK/wrk.time" || { cat "$WORK/wrk.out" >&2; ag_die "wrk failed"; }
http_delta=$(delta "$(snapshot)" "$before")
wrk_cpu=$(awk '{printf "%.1f", $1 + $2}' "$WORK/wrk.time")
kill -0 "$SERVER_PID" 2>/dev/null || { tail -20 "$WORK/server.log" >&2; ag_die "agentgate died during the run"; }
server_db_connections=$(ag_psql "$PGDATA_DIR" "$PGPORT" -d bench -tA \
  -c "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'agentgate'")

val() { sed -n "s/^bench\.$1=//p" "$WORK/wrk.out"; }
duration_us=$(val duration_us)
completed=$(val completed)
held=$(val held)
[ -n "$held" ] && [ -n "$completed" ] || { cat "$WORK/wrk.out" >&2; ag_die "no results from wrk"; }
other=$(val other_statuses)
socket_errors=$(val socket_errors)
exhausted=$(val exhausted)
held_rate=$(awk -v h="$held" -v d="$duration_us" 'BEGIN {printf "%.0f", h / (d / 1e6)}')
p50=$(awk -v u="$(val p50_us)" 'BEGIN {printf "%.2f", u / 1000}')
p99=$(awk -v u="$(val p99_us)" 'BEGIN {printf "%.2f", u / 1000}')
non202=$((completed - held))

# 4. pgbench: the same SQL, the same concurrency, the same database.
ag_psql "$PGDATA_DIR" "$PGPORT" -d bench -c CHECKPOINT
ag_say "pgbench: -c $CONNECTIONS -j 2 -T $DURATION, intake_hold() as one intake runs it"
before=$(snapshot)
{ time "$AG_PGBIN/pgbench" -h "$PGDATA_DIR" -p "$PGPORT" -U postgres -n \
    -M prepared -c "$CONNECTIONS" -j 2 -T "$DURATION" -f "$BENCH_DIR/intake_hold.pgbench" bench \
    >"$WORK/pgbench.out" 2>&1; } 2>"$WORK/pgbench.time" ||
  { cat "$WORK/pgbench.out" >&2; ag_die "pgbench failed"; }
pgbench_delta=$(delta "$(snapshot)" "$before")
pgbench_cpu=$(awk '{printf "%.1f", $1 + $2}' "$WORK/pgbench.time")
tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$WORK/pgbench.out" | head -1)
pgbench_tx=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$WORK/pgbench.out")
pgbench_latency=$(sed -n 's/^latency average = \([0-9.]*\) ms/\1/p' "$WORK/pgbench.out")
pgbench_failed=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$WORK/pgbench.out")
[ -n "$tps" ] || { cat "$WORK/pgbench.out" >&2; ag_die "no tps from pgbench"; }
tps=$(awk -v t="$tps" 'BEGIN {printf "%.0f", t}')
ratio=$(awk -v a="$held_rate" -v b="$tps" 'BEGIN {printf "%.2f", a / b}')
verdict=$(awk -v r="$ratio" 'BEGIN {print (r >= 0.8) ? "met" : "MISSED"}')

# 5. The summary.
cores=$(nproc)
cat <<EOF

==================== agentgate intake benchmark ====================
machine: nproc = $cores (wrk, agentgate and PostgreSQL share them); PostgreSQL 15 with
  ${PG_SETTINGS[*]}
intake (HTTP, signed, durable): $held_rate held/s, p50 $p50 ms, p99 $p99 ms, non-202: $non202 (${other}), socket errors: $socket_errors
  $held held of $completed answers in $(awk -v d="$duration_us" 'BEGIN {printf "%.1f", d / 1e6}') s, c=$CONNECTIONS; agentgate threads = $SERVER_THREADS, of which $server_db_connections served a request (opened a database connection)
pgbench (same SQL, c=$CONNECTIONS):       $tps tx/s, latency average $pgbench_latency ms, failed: ${pgbench_failed:-0}
ratio: $held_rate/$tps = $ratio (target >= 0.8: $verdict)
database seeded with $SEED drafts before the runs
where the CPU went ($cores cores x $DURATION s = $((cores * DURATION)) CPU s per run; client = wrk or pgbench; other = anything else on the machine):
$(cost_line "HTTP:" "$http_delta" "$held" "$wrk_cpu")
$(cost_line "pgbench:" "$pgbench_delta" "${pgbench_tx:-0}" "$pgbench_cpu")
====================================================================
EOF

status=0
for d in "$http_delta" "$pgbench_delta"; do
  other_cpu=$(cost_line x "$d" 1 0 | sed -n 's/.*other processes *\([0-9.]*\) s.*/\1/p')
  if awk -v o="$other_cpu" -v c="$((cores * DURATION))" 'BEGIN {exit !(o > 0.1 * c)}'; then
    echo "warning: other processes used $other_cpu CPU s during a run: its numbers are disturbed" >&2
  fi
done
if [ "${exhausted:-0}" -gt 0 ]; then
  echo "warning: wrk ran out of pre-signed requests; raise BENCH_REQUESTS (held/s is understated)" >&2
fi
if [ $((held * 100)) -lt $((completed * 95)) ]; then
  echo "error: only $held of $completed answers were 202 (< 95%); server log tail:" >&2
  tail -20 "$WORK/server.log" >&2
  status=1
fi
exit "$status"
