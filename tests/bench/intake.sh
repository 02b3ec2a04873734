#!/usr/bin/env bash
# Intake benchmark: how fast agentgate holds signed posts durably, for any mix of agents,
# measured side by side with what PostgreSQL alone does, in one run on one PostgreSQL.
#
#   tests/bench/intake.sh          (as root, like scripts/run-tests; about 3 minutes per round)
#
# Each round (BENCH_RUNS rounds, default 3) measures, BENCH_DURATION seconds each (default 15):
#   (a) many agents: signed posts of 64 agents for 200 invokers at BENCH_CONNECTIONS (32)
#       connections against a seeded database (BENCH_SEED drafts, default 20000, analysed),
#       and pgbench running a minimal durable intake at the same concurrency on the same
#       PostgreSQL (intake_minimal.pgbench: one draft row with the post and one audit row per
#       transaction, into tables with only their keys). Figure: held/s, and the ratio to
#       pgbench's tx/s (target >= 0.8); beside it the cap on that ratio set by agentgate's and
#       wrk's CPU per post alone (intake_measure.sh, cpu_bound).
#   (b) one agent posting a burst at 32 connections, its rate limit set high (1000000/h, so the
#       limit is checked for every post): held/s as a share of (a) (target >= 0.5).
#   (c) (a) again on a fresh install: a new database migrated by `serve` itself, empty and never
#       analysed. Figure: held/s as a share of (a) (target within 10 %, i.e. >= 0.9). It runs
#       right after (a)'s HTTP run in odd rounds and right before it in even ones, so that the
#       order within a round favours neither.
#   (d) another agent posting one post at a time (intake_victim.mjs) for BENCH_DURATION alone
#       (idle), then while a runaway agent far over its limit (60/h) floods the same server at
#       64 connections. Figure: the other agent's p99 with the flood / idle (target <= 3). It
#       also checks that every refusal of the flood is in the audit trail (summing counted
#       events) once the server has written them.
# Then the median and the worst of each figure over the rounds.
#
# Setup: a Release build (build-bench/), wrk, PostgreSQL 15 in a temporary directory with
# DURABLE commits (fsync=on, synchronous_commit=on, full_page_writes=on; the other settings only
# add capacity: shared_buffers=256MB, max_connections=300, wal_buffers=16MB, max_wal_size=4GB,
# checkpoint_timeout=30min so no checkpoint lands in a run). Databases: `seeded`, one `fresh_N`
# per round, `minimal` (pgbench's tables). agentgate runs with threads = BENCH_SERVER_THREADS
# (8, the default), log_level = BENCH_LOG_LEVEL (info, as in production), forums `bench` (rate limit
# 1000000/h) and `limited` (60/h). Requests are pre-signed before each timed run (presign.mjs)
# and replayed by wrk (intake.lua), each at most once; only 202 answers count as held.
# wrk, agentgate and PostgreSQL share the machine's cores; CPU per transaction is printed for
# (a) (intake_measure.sh) to show where it goes. Other processes on the machine disturb the
# figures: the script says how much CPU they took.
#
# Exit status: 0 when it measured (even if a target is missed), 1 when a step failed or a
# figure would be impossible (no post held in a run that divides by it, or a p99 of no posts).
# Knobs: BENCH_RUNS, BENCH_DURATION, BENCH_CONNECTIONS, BENCH_SERVER_THREADS, BENCH_SEED,
# BENCH_LOG_LEVEL, BENCH_REQUESTS (pre-signed per run, default 5000 x BENCH_DURATION).
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"
BENCH_DIR="$AG_ROOT/tests/bench"
source "$BENCH_DIR/intake_measure.sh"

RUNS=${BENCH_RUNS:-3}
DURATION=${BENCH_DURATION:-15}
CONNECTIONS=${BENCH_CONNECTIONS:-32}
RUNAWAY_CONNECTIONS=64
SERVER_THREADS=${BENCH_SERVER_THREADS:-8}
REQUESTS=${BENCH_REQUESTS:-$((5000 * DURATION))}
SEED=${BENCH_SEED:-20000}
LOG_LEVEL=${BENCH_LOG_LEVEL:-info}
WRK_THREADS=2
AGENTS=64
PGPORT=55499 # only names the unix socket, which lives in the private data directory
PG_SETTINGS=(fsync=on synchronous_commit=on full_page_writes=on shared_buffers=256MB
  max_connections=300 wal_buffers=16MB max_wal_size=4GB checkpoint_timeout=30min)
HZ=$(getconf CLK_TCK)
TIMEFORMAT='%U %S'
STATS_DB=postgres # where intake_measure.sh reads cluster-wide statistics

WORK=""
PGDATA_DIR=""
SERVER_PID=""
declare -A PIDS=()
stop_server() { # NAME
  local pid=${PIDS[$1]:-}
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  PIDS[$1]=""
}
# shellcheck disable=SC2317 # called by the trap below
cleanup() {
  local status=$? name
  for name in "${!PIDS[@]}"; do stop_server "$name"; done
  [ -z "$PGDATA_DIR" ] || ag_pg_stop "$PGDATA_DIR"
  [ -z "$WORK" ] || rm -rf "$WORK"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ag_install_packages wrk
ag_say "building a Release agentgate into build-bench/"
ag_build "$AG_ROOT/build-bench" -DCMAKE_BUILD_TYPE=Release -DAGENTGATE_TESTS=OFF
BIN="$AG_ROOT/build-bench/agentgate"
(cd "$AG_ROOT/tests" && [ -d node_modules ] || npm ci --no-audit --no-fund --loglevel=error >/dev/null)

WORK=$(mktemp -d /tmp/agentgate-bench.XXXXXX)
chmod 755 "$WORK"
PGDATA_DIR="$WORK/pg"
ag_say "starting PostgreSQL with durable commits (fsync=on, synchronous_commit=on)"
ag_pg_start "$PGDATA_DIR" "$PGPORT" "${PG_SETTINGS[@]}"
psql_db() { local db=$1; shift; ag_psql "$PGDATA_DIR" "$PGPORT" -d "$db" "$@"; }
psql_db postgres -c "CREATE DATABASE seeded" -c "CREATE DATABASE minimal" >/dev/null
psql_db minimal -f "$BENCH_DIR/intake_minimal.sql" >/dev/null
SECRET=$("$BIN" secret new)

# write_config NAME DATABASE: a config file for one server, on a port the kernel picks.
write_config() {
  cat >"$WORK/$1.conf" <<EOF
[server]
listen = 127.0.0.1:0
database = host=$PGDATA_DIR port=$PGPORT dbname=$2 user=postgres
auth = dev
threads = $SERVER_THREADS
log_level = $LOG_LEVEL

[forum bench]
inbound_secret = $SECRET
rate_limit = 1000000/h

[forum limited]
inbound_secret = $SECRET
rate_limit = 60/h
EOF
}

# start_server NAME DATABASE: starts `serve` (it migrates first) and waits for /healthz. Sets
# PORTS[NAME] and PIDS[NAME].
declare -A PORTS=()
start_server() {
  local name=$1 port=""
  write_config "$name" "$2"
  : >"$WORK/$name.log"
  "$BIN" --config "$WORK/$name.conf" serve >>"$WORK/$name.log" 2>&1 &
  PIDS[$name]=$!
  # agentgate names its port in the line it prints once it serves
  while [ -z "$port" ]; do
    kill -0 "${PIDS[$name]}" 2>/dev/null || { tail -20 "$WORK/$name.log" >&2; ag_die "agentgate ($name) exited at start"; }
    port=$(sed -n 's/.* listening on 127\.0\.0\.1:\([0-9]*\) .*/\1/p' "$WORK/$name.log" | head -1)
    [ -n "$port" ] || sleep 0.1
  done
  PORTS[$name]=$port
  curl -fsS -o /dev/null "http://127.0.0.1:$port/healthz" ||
    { tail -20 "$WORK/$name.log" >&2; ag_die "agentgate ($name) did not become healthy"; }
}

# seed_sql FIRST LAST: holds drafts FIRST..LAST through intake_hold(), in one transaction.
seed_sql() {
  cat <<EOF
SELECT count(*) FROM generate_series($1, $2) AS i, LATERAL intake_hold('bench', 'seed_' || i,
    gen_random_uuid(), 'bench-agent-' || (i % $AGENTS + 1), 'helperbot-' || (i % $AGENTS + 1),
    (1001 + i % 200)::text, 'user' || (1001 + i % 200), (5000 + i)::text, NULL, NULL, NULL,
    repeat('A seeded answer of some length. ', 13), NULL,
    '{"question_url": "http://forum.example/t/1"}', '[]', '{"status": "held"}', 0,
    '3600 seconds', '259200 seconds', NULL, NULL) AS h
  WHERE h.outcome = 'held'
EOF
}

start_server main seeded
if [ "$SEED" -gt 0 ]; then
  ag_say "seeding $SEED drafts, then VACUUM ANALYZE"
  first=$((SEED < 500 ? SEED : 500))
  psql_db seeded -tA -c "$(seed_sql 1 "$first")" -c ANALYZE >/dev/null
  [ "$SEED" -le "$first" ] || psql_db seeded -tA -c "$(seed_sql $((first + 1)) "$SEED")" >/dev/null
  psql_db seeded -c "VACUUM ANALYZE" >/dev/null
fi

# wrk_run PORT FORUM AGENTS AGENT_PREFIX CONNECTIONS: pre-signs, runs wrk, sets W_* variables.
wrk_run() {
  local port=$1 forum=$2 agents=$3 prefix=$4 connections=$5
  rm -f "$WORK"/requests.*
  node "$BENCH_DIR/presign.mjs" "$WORK/requests" "$WRK_THREADS" "$REQUESTS" "$SECRET" \
    "127.0.0.1:$port" "$forum" "$agents" "$prefix"
  psql_db postgres -qc CHECKPOINT
  { time wrk -t"$WRK_THREADS" -c"$connections" -d"${DURATION}s" --timeout 10s \
    -s "$BENCH_DIR/intake.lua" "http://127.0.0.1:$port" -- "$WORK/requests" \
    >"$WORK/wrk.out" 2>&1; } 2>"$WORK/wrk.time" || { cat "$WORK/wrk.out" >&2; ag_die "wrk failed"; }
  v() { sed -n "s/^bench\.$1=//p" "$WORK/wrk.out"; }
  W_completed=$(v completed)
  W_held=$(v held)
  [ -n "$W_held" ] || { cat "$WORK/wrk.out" >&2; ag_die "no results from wrk"; }
  W_rate=$(awk -v h="$W_held" -v d="$(v duration_us)" 'BEGIN {printf "%.0f", h / (d / 1e6)}')
  W_answers=$(awk -v h="$W_completed" -v d="$(v duration_us)" 'BEGIN {printf "%.0f", h / (d / 1e6)}')
  W_p50=$(awk -v u="$(v p50_us)" 'BEGIN {printf "%.2f", u / 1000}')
  W_p99=$(awk -v u="$(v p99_us)" 'BEGIN {printf "%.2f", u / 1000}')
  W_other=$(v other_statuses)
  W_errors=$(v socket_errors)
  W_cpu=$(awk '{printf "%.2f", $1 + $2}' "$WORK/wrk.time")
  [ "$(v exhausted)" = 0 ] || echo "warning: wrk ran out of pre-signed requests; raise BENCH_REQUESTS" >&2
}

# victim_run PORT SECONDS: the other agent alone or beside a flood; sets V_* variables.
victim_run() {
  node "$BENCH_DIR/intake_victim.mjs" "http://127.0.0.1:$1" "$SECRET" bench "$2" >"$WORK/victim.out"
  V_count=$(sed -n 's/^victim\.count=//p' "$WORK/victim.out")
  V_p50=$(sed -n 's/^victim\.p50_ms=//p' "$WORK/victim.out")
  V_p99=$(sed -n 's/^victim\.p99_ms=//p' "$WORK/victim.out")
  V_non202=$(sed -n 's/^victim\.non202=//p' "$WORK/victim.out")
}

# Waits until the sealer has sealed every audit event of database $1 (observable: no event
# with a NULL seq). Events left from agentgate's run would otherwise be sealed while pgbench
# runs, taking PostgreSQL CPU from pgbench and flattering ratio (a).
sealer_caught_up() {
  local db=$1 started=$SECONDS left
  while left=$(psql_db "$db" -Atc "SELECT count(*) FROM audit_events WHERE seq IS NULL") && [ "$left" != 0 ]; do
    [ $((SECONDS - started)) -lt 600 ] || ag_die "the sealer did not catch up in $db within 600 s ($left events left)"
    sleep 0.5
  done
  ag_say "sealer caught up in $db after $((SECONDS - started)) s"
}

# Waits until no autovacuum worker runs in the cluster (observable in pg_stat_activity): after
# a run's inserts autovacuum analyses the tables, and a worker busy during the next measured run
# takes PostgreSQL CPU from it alone.
autovacuum_idle() {
  local started=$SECONDS busy
  while busy=$(psql_db postgres -Atc "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'autovacuum worker'") && [ "$busy" != 0 ]; do
    [ $((SECONDS - started)) -lt 600 ] || ag_die "autovacuum was still busy after 600 s"
    sleep 0.5
  done
  ag_say "autovacuum idle after $((SECONDS - started)) s"
}

# Every measured run starts on a quiet cluster: the seeded database's sealer has sealed what the
# previous run left (else it seals it during the next run, which (c) always followed) and no
# autovacuum worker is busy.
quiet_cluster() {
  sealer_caught_up seeded
  autovacuum_idle
}

# autovacuum_runs DB...: "FINISHED BUSY": the autovacuum and autoanalyze runs finished so far on
# the tables of the databases, and the workers running now. Printed per measured run, since a
# worker that starts during a run takes CPU from that run alone.
autovacuum_runs() {
  local total=0 db n busy
  for db in "$@"; do
    n=$(psql_db "$db" -tA -c "SELECT coalesce(sum(autovacuum_count + autoanalyze_count), 0) FROM pg_stat_all_tables")
    total=$((total + n))
  done
  busy=$(psql_db postgres -tA -c "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'autovacuum worker'")
  echo "$total $busy"
}
# av_delta "BEFORE" "AFTER": "N finished, M busy at the end".
av_delta() { read -r b _ <<<"$1"; read -r a busy <<<"$2"; echo "$((a - b)) finished, $busy busy at the end"; }

# positive NAME VALUE: stops the benchmark (exit 1) unless VALUE is a number above 0. A
# denominator of 0, or a p99 from no held post (intake_victim.mjs prints 0.00 then), would make
# an impossible figure: (d) would read "0.00x, met" for an agent that got nothing through.
positive() {
  awk -v v="$2" 'BEGIN {exit !(v ~ /^[0-9]+([.][0-9]+)?$/ && v + 0 > 0)}' ||
    ag_die "impossible figure: $1 is '$2' (want a number above 0); this run measured nothing usable"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
verdict() { awk -v r="$1" -v t="$3" -v op="$2" 'BEGIN {ok = (op == ">=") ? r >= t : r <= t; print ok ? "met" : "MISSED"}'; }

declare -a A_RATIO A_BOUND B_SHARE C_SHARE D_RATIO A_RATE PG_TPS B_RATE C_RATE C_AFTER C_BEFORE
SUMMARY=""
# (a)'s HTTP run: many agents against the seeded database.
seeded_run() {
  quiet_cluster
  ag_say "(a) wrk: $AGENTS agents, $CONNECTIONS connections, ${DURATION}s"
  wal_before=$(wal_stats)
  before=$(snapshot)
  all_ticks "$WORK/ticks.0"
  av_before=$(autovacuum_runs seeded)
  wrk_run "${PORTS[main]}" bench "$AGENTS" bench-agent "$CONNECTIONS"
  a_autovacuum=$(av_delta "$av_before" "$(autovacuum_runs seeded)")
  http_delta=$(delta "$(snapshot)" "$before")
  all_ticks "$WORK/ticks.1"
  http_others=$(other_top "$WORK/ticks.0" "$WORK/ticks.1" "${PIDS[main]}")
  http_wal=$(delta "$(wal_stats)" "$wal_before")
  a_rate=$W_rate a_p50=$W_p50 a_p99=$W_p99 a_other=$W_other a_held=$W_held a_cpu=$W_cpu
}

# (c): the same load on a fresh install (a new database, migrated by serve, never analysed).
fresh_run() { # ROUND
  ag_say "(c) wrk: fresh install (empty, never analysed)"
  psql_db postgres -qc "CREATE DATABASE fresh_$1"
  start_server "fresh$1" "fresh_$1"
  quiet_cluster
  analysed=$(psql_db "fresh_$1" -tA -c "SELECT coalesce(max(greatest(last_analyze, last_autoanalyze))::text, 'never')
    FROM pg_stat_user_tables WHERE relname = 'drafts'")
  av_before=$(autovacuum_runs seeded "fresh_$1")
  wrk_run "${PORTS[fresh$1]}" bench "$AGENTS" bench-agent "$CONNECTIONS"
  c_autovacuum=$(av_delta "$av_before" "$(autovacuum_runs seeded "fresh_$1")")
  c_rate=$W_rate c_p50=$W_p50 c_p99=$W_p99 c_other=$W_other
  stop_server "fresh$1"
}

for round in $(seq 1 "$RUNS"); do
  ag_say "round $round of $RUNS"
  SERVER_PID=${PIDS[main]}
  PGDATA_DIR=$PGDATA_DIR

  # (a) many agents and (c) the fresh install, back to back, in turns: seeded first in odd
  # rounds, fresh first in even ones, so that neither always runs later into the round (after
  # more WAL, a busier cache, the other's leftovers) than the other.
  fresh_first=$((round % 2 == 0))
  if [ "$fresh_first" = 1 ]; then
    fresh_run "$round"
    seeded_run
  else
    seeded_run
    fresh_run "$round"
  fi

  # (a)'s ceiling: pgbench's minimal intake.
  quiet_cluster
  ag_say "(a) pgbench: minimal durable intake, -c $CONNECTIONS, ${DURATION}s"
  psql_db postgres -qc CHECKPOINT
  SERVER_PID=""
  wal_before=$(wal_stats)
  before=$(snapshot)
  all_ticks "$WORK/ticks.0"
  { time "$AG_PGBIN/pgbench" -h "$PGDATA_DIR" -p "$PGPORT" -U postgres -n -M prepared \
    -c "$CONNECTIONS" -j 2 -T "$DURATION" -f "$BENCH_DIR/intake_minimal.pgbench" minimal \
    >"$WORK/pgbench.out" 2>&1; } 2>"$WORK/pgbench.time" ||
    { cat "$WORK/pgbench.out" >&2; ag_die "pgbench failed"; }
  pgbench_delta=$(delta "$(snapshot)" "$before")
  all_ticks "$WORK/ticks.1"
  pgbench_others=$(other_top "$WORK/ticks.0" "$WORK/ticks.1" "${PIDS[main]}")
  sleep 1 # its sessions end and report their WAL counts
  pgbench_wal=$(delta "$(wal_stats)" "$wal_before")
  SERVER_PID=${PIDS[main]}
  tps=$(sed -n 's/^tps = \([0-9.]*\).*/\1/p' "$WORK/pgbench.out" | head -1)
  pgbench_tx=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$WORK/pgbench.out")
  [ -n "$tps" ] || { cat "$WORK/pgbench.out" >&2; ag_die "no tps from pgbench"; }
  tps=$(awk -v t="$tps" 'BEGIN {printf "%.0f", t}')
  pgbench_cpu=$(awk '{printf "%.2f", $1 + $2}' "$WORK/pgbench.time")

  # (b) one agent, a burst at 32 connections, limit high.
  quiet_cluster
  ag_say "(b) wrk: one agent, $CONNECTIONS connections, ${DURATION}s"
  wrk_run "${PORTS[main]}" bench 1 "burst-agent-$round" "$CONNECTIONS"
  b_rate=$W_rate b_p50=$W_p50 b_p99=$W_p99 b_other=$W_other

  # (d) the other agent's latency, idle and beside a runaway agent.
  quiet_cluster
  ag_say "(d) the other agent alone, ${DURATION}s"
  victim_run "${PORTS[main]}" "$DURATION"
  d_idle_p99=$V_p99 d_idle_p50=$V_p50 d_idle_count=$V_count
  ag_say "(d) the other agent beside a runaway agent (limit 60/h) at $RUNAWAY_CONNECTIONS connections"
  refused_before=$(psql_db seeded -tA -c "SELECT coalesce(sum(coalesce((details->>'count')::int, 1)), 0)
    FROM audit_events WHERE action = 'intake.refused' AND actor = 'agent:runaway-agent-1'")
  rm -f "$WORK"/requests.*
  # Refusals are cheap: the flood needs more requests than an intake run.
  node "$BENCH_DIR/presign.mjs" "$WORK/requests" "$WRK_THREADS" "$((3 * REQUESTS))" "$SECRET" \
    "127.0.0.1:${PORTS[main]}" limited 1 runaway-agent
  wrk -t"$WRK_THREADS" -c"$RUNAWAY_CONNECTIONS" -d"$((DURATION + 2))s" --timeout 10s \
    -s "$BENCH_DIR/intake.lua" "http://127.0.0.1:${PORTS[main]}" -- "$WORK/requests" \
    >"$WORK/runaway.out" 2>&1 &
  runaway=$!
  sleep 1 # the flood is under way
  victim_run "${PORTS[main]}" "$DURATION"
  wait "$runaway" || { cat "$WORK/runaway.out" >&2; ag_die "wrk (runaway) failed"; }
  d_load_p99=$V_p99 d_load_p50=$V_p50 d_load_count=$V_count
  runaway_completed=$(sed -n 's/^bench\.completed=//p' "$WORK/runaway.out")
  runaway_held=$(sed -n 's/^bench\.held=//p' "$WORK/runaway.out")
  runaway_statuses=$(sed -n 's/^bench\.other_statuses=//p' "$WORK/runaway.out")
  runaway_refused=$(sed -n 's/.*429:\([0-9]*\).*/\1/p' <<<"$runaway_statuses")
  runaway_refused=${runaway_refused:-0}
  grep -q '^bench.exhausted=0$' "$WORK/runaway.out" ||
    echo "warning: the runaway ran out of pre-signed requests before the other agent finished; raise BENCH_REQUESTS" >&2
  audited=0
  for _ in $(seq 1 100); do # the server writes counted refusals once a second
    audited=$(psql_db seeded -tA -c "SELECT coalesce(sum(coalesce((details->>'count')::int, 1)), 0) - $refused_before
      FROM audit_events WHERE action = 'intake.refused' AND actor = 'agent:runaway-agent-1'")
    [ "$audited" -lt "$runaway_refused" ] || break
    sleep 0.1
  done
  refusal_rows=$(psql_db seeded -tA -c "SELECT count(*) FROM audit_events WHERE action = 'intake.refused'
    AND actor = 'agent:runaway-agent-1'")

  # The round's figures, from inputs that can make them.
  positive "(a) held/s" "$a_rate"
  positive "pgbench tx/s" "$tps"
  positive "(d) posts held with the other agent alone" "$d_idle_count"
  positive "(d) posts held beside the runaway" "$d_load_count"
  positive "(d) p99 alone" "$d_idle_p99"
  positive "(d) p99 beside the runaway" "$d_load_p99"
  a_ratio=$(ratio "$a_rate" "$tps")
  b_share=$(ratio "$b_rate" "$a_rate")
  c_share=$(ratio "$c_rate" "$a_rate")
  d_ratio=$(ratio "$d_load_p99" "$d_idle_p99")
  a_bound=$(printf '%.2f' "$(cpu_bound "$(per_tx "$http_delta" "$a_held" "$a_cpu")" \
    "$(per_tx "$pgbench_delta" "${pgbench_tx:-0}" "$pgbench_cpu")")")
  A_RATIO+=("$a_ratio") A_BOUND+=("$a_bound") B_SHARE+=("$b_share") C_SHARE+=("$c_share") D_RATIO+=("$d_ratio")
  A_RATE+=("$a_rate") PG_TPS+=("$tps") B_RATE+=("$b_rate") C_RATE+=("$c_rate")
  if [ "$fresh_first" = 1 ]; then C_BEFORE+=("$c_share"); else C_AFTER+=("$c_share"); fi
  report=$(cat <<EOF
---- round $round ----
(a) many agents: $a_rate held/s (p50 $a_p50 ms, p99 $a_p99 ms, non-202: $a_other) vs pgbench minimal intake $tps tx/s: ratio $a_ratio (target >= 0.8: $(verdict "$a_ratio" ">=" 0.8))
$(cost_lines "HTTP:" "$http_delta" "$http_wal" "$a_held" "$a_cpu")
$(cost_lines "pgbench:" "$pgbench_delta" "$pgbench_wal" "${pgbench_tx:-0}" "$pgbench_cpu")
    if PostgreSQL held a post for the CPU of pgbench's minimal transaction, agentgate's and the client's CPU per post would still cap ratio (a) at $a_bound
    other processes took $(other_cpu "$http_delta" "$a_cpu") CPU s in the HTTP run${http_others:+ ($http_others)}, $(other_cpu "$pgbench_delta" "$pgbench_cpu") in the pgbench run${pgbench_others:+ ($pgbench_others)}
    autovacuum during the HTTP run: $a_autovacuum
(b) one agent, burst: $b_rate held/s (p50 $b_p50 ms, p99 $b_p99 ms, non-202: $b_other): share of (a) $b_share (target >= 0.5: $(verdict "$b_share" ">=" 0.5))
(c) fresh install (drafts analysed: $analysed): $c_rate held/s (p50 $c_p50 ms, p99 $c_p99 ms, non-202: $c_other): share of (a) $c_share (target >= 0.9: $(verdict "$c_share" ">=" 0.9))
    run $([ "$fresh_first" = 1 ] && echo "before" || echo "after") (a)'s HTTP run; autovacuum during it (both databases): $c_autovacuum
(d) other agent p99: idle $d_idle_p99 ms (p50 $d_idle_p50, $d_idle_count posts), beside the runaway $d_load_p99 ms (p50 $d_load_p50, $d_load_count posts): ${d_ratio}x (target <= 3: $(verdict "$d_ratio" "<=" 3))
    runaway: $runaway_completed answers counted by wrk ($runaway_held held, $runaway_statuses); refusals in the audit trail: $audited (wrk stops counting at its deadline, the server answers what is in flight), in $refusal_rows audit events so far
EOF
)
  echo "$report"
  SUMMARY+="$report"$'\n'
done

# median_worst DIRECTION VALUES...: "median M, worst W" (worst = lowest for >=, highest for <=).
median_worst() {
  local direction=$1
  shift
  printf '%s\n' "$@" | sort -g | awk -v d="$direction" '{v[NR] = $1}
    END {m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2;
         printf "median %.2f, worst %.2f", m, (d == ">=") ? v[1] : v[NR]}'
}
cat <<EOF

==================== agentgate intake benchmark ($RUNS rounds of ${DURATION}s runs) ====================
machine: nproc = $(nproc), shared by the load generators, agentgate and PostgreSQL 15, run with
  ${PG_SETTINGS[*]}
$SUMMARY
---- over $RUNS rounds ----
(a) held/s: ${A_RATE[*]}; pgbench minimal tx/s: ${PG_TPS[*]}
(a) ratio to pgbench minimal intake (target >= 0.8): $(median_worst ">=" "${A_RATIO[@]}")
    its cap from agentgate's and the client's CPU alone:  $(median_worst ">=" "${A_BOUND[@]}")
(b) one-agent burst, share of (a) (target >= 0.5):    $(median_worst ">=" "${B_SHARE[@]}")  [held/s ${B_RATE[*]}]
(c) fresh install, share of (a) (target >= 0.9):      $(median_worst ">=" "${C_SHARE[@]}")  [held/s ${C_RATE[*]}]
    by order within the round: fresh run second ${C_AFTER[*]:-(none)}; fresh run first ${C_BEFORE[*]:-(none)}
(d) other agent p99 beside a runaway, x idle (<= 3):  $(median_worst "<=" "${D_RATIO[@]}")
==========================================================================================
EOF
