#!/usr/bin/env bash
# History benchmark (issue 13's figures for /history and its exports): p95 latency of a filtered
# history page, rows/s of full CSV and NDJSON exports, and the server's memory while exporting.
#
#   nice tests/bench/history.sh     (as root, like scripts/run-tests; about 10 minutes on an
#                                    idle 2-core machine, most of it generating the data)
#
# One run of the script:
#   1. builds a Release agentgate into build-bench/ and starts a private PostgreSQL 15 in a
#      temporary directory. Durability is relaxed for the bulk load only (fsync=off,
#      synchronous_commit=off, full_page_writes=off: nothing here measures commits); it gets
#      shared_buffers=1GB and room for WAL so no checkpoint lands mid-run.
#   2. migrates a database and generates BENCH_DRAFTS drafts (default 1,000,000) with their
#      revisions and BENCH_EVENTS audit events (default 5,000,000) inside PostgreSQL with
#      tests/bench/history_data.sql (generate_series, one INSERT ... SELECT per table: every
#      index, trigger and constraint is live, so draft_search is filled by its triggers as
#      intake fills it), then VACUUM ANALYZE. Two forums: eng has 80 % of the drafts.
#   3. tests/bench/history.mjs starts `agentgate serve` (8 threads, request_timeout 10m so a
#      long export is never cut by the deadline reaper), prints every statement that
#      representative pages run (auto_explain: the strategy steps of a text search with their
#      actual rows and times) and the plans of exports, signs a moderator of eng in through dev
#      sign-in, then BENCH_RUNS times (default 3): times BENCH_REQUESTS (default 200) /history
#      pages one after another, after 20 warm-up requests: every filter alone and combined
#      (state, agent, invoker, decider, time range, text from common to absent words and
#      phrases), a third of them deep in the history through a cursor, measured by the client
#      from sending the request to the last byte of the page (which includes the 30-day chart,
#      cached for a minute per forum); then exports all of eng as CSV and as NDJSON, reading the
#      stream as it comes, while sampling the server's VmRSS every 20 ms. Each run prints the
#      load average before and after it.
#   4. prints, as the result, the worst of the runs for each figure (the median beside it):
#      p95 <= 50 ms, exports >= 100,000 rows/s, memory flat (growth during an export under
#      20 MB while hundreds of MB stream).
#
# Knobs: BENCH_DRAFTS, BENCH_EVENTS (smaller for a quick run), BENCH_REQUESTS, BENCH_RUNS. The
# phases' durations are printed, the bulk load included. Exit 0 when it measured (targets met
# or not); the figures say whether they were met.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"

DRAFTS=${BENCH_DRAFTS:-1000000}
EVENTS=${BENCH_EVENTS:-5000000}

ag_install_packages
SECONDS=0
ag_build "$AG_ROOT/build-bench" -DCMAKE_BUILD_TYPE=Release -DAGENTGATE_TESTS=OFF
(cd "$AG_ROOT/tests" && [ -d node_modules ] || npm ci --no-audit --no-fund --loglevel=error >/dev/null)
ag_say "built in ${SECONDS}s"

WORK=$(mktemp -d /tmp/agentgate-history-bench.XXXXXX)
chmod 755 "$WORK"
PGPORT=55497 # only names the unix socket, which lives in the private data directory
cleanup() { ag_pg_stop "$WORK/pg"; rm -rf "$WORK"; }
trap cleanup EXIT
ag_say "starting PostgreSQL (bulk load settings: fsync=off)"
ag_pg_start "$WORK/pg" "$PGPORT" fsync=off synchronous_commit=off full_page_writes=off \
  shared_buffers=1GB maintenance_work_mem=512MB max_wal_size=16GB checkpoint_timeout=30min \
  max_connections=100

DATABASE=history_bench
ag_psql "$WORK/pg" "$PGPORT" -c "CREATE DATABASE $DATABASE" >/dev/null
cat >"$WORK/migrate.conf" <<EOF
[server]
database = host=$WORK/pg port=$PGPORT dbname=$DATABASE user=postgres
auth = dev
[forum eng]
inbound_secret = $("$AG_ROOT/build-bench/agentgate" secret new)
EOF
"$AG_ROOT/build-bench/agentgate" --config "$WORK/migrate.conf" migrate

SECONDS=0
ag_say "generating $DRAFTS drafts (with revisions) and $EVENTS audit events"
ag_psql "$WORK/pg" "$PGPORT" -d "$DATABASE" -v drafts="$DRAFTS" -v events="$EVENTS" -f - \
  <"$AG_ROOT/tests/bench/history_data.sql" >/dev/null
GENERATED=$SECONDS
ag_psql "$WORK/pg" "$PGPORT" -d "$DATABASE" -c "VACUUM ANALYZE" >/dev/null
ag_say "generated in ${GENERATED}s, VACUUM ANALYZE in $((SECONDS - GENERATED))s"
ag_psql "$WORK/pg" "$PGPORT" -d "$DATABASE" -At -c "SELECT 'tables: drafts ' || (SELECT count(*)
  FROM drafts) || ', draft_revisions ' || (SELECT count(*) FROM draft_revisions) ||
  ', draft_search ' || (SELECT count(*) FROM draft_search) || ', audit_events ' ||
  (SELECT count(*) FROM audit_events) || '; database ' ||
  pg_size_pretty(pg_database_size(current_database()))"

cd "$AG_ROOT/tests"
SECONDS=0
AGENTGATE_TEST_PGHOST="$WORK/pg" AGENTGATE_TEST_PGPORT="$PGPORT" AGENTGATE_TEST_WORK="$WORK" \
  AGENTGATE_BIN="$AG_ROOT/build-bench/agentgate" BENCH_DATABASE="$DATABASE" node bench/history.mjs
ag_say "measured in ${SECONDS}s"
