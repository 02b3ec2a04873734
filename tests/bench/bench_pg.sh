# Shared by the benchmarks that drive agentgate from node (tests/bench/delivery.sh, audit.sh).
# Source it, then call bench_run_node SCRIPT PORT: installs what is missing, builds a Release
# agentgate into build-bench/, starts a private PostgreSQL with durable commits (fsync=on,
# synchronous_commit=on) and track_commit_timestamp=on on unix socket PORT, runs
# `node tests/bench/SCRIPT` against it and stops it again, whatever happens.
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"

bench_run_node() {
  local script=$1 port=$2
  ag_install_packages
  ag_build "$AG_ROOT/build-bench" -DCMAKE_BUILD_TYPE=Release -DAGENTGATE_TESTS=OFF
  (cd "$AG_ROOT/tests" && [ -d node_modules ] || npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  BENCH_WORK=$(mktemp -d /tmp/agentgate-bench.XXXXXX)
  chmod 755 "$BENCH_WORK"
  trap 'ag_pg_stop "$BENCH_WORK/pg"; rm -rf "$BENCH_WORK"' EXIT
  ag_say "starting PostgreSQL (durable commits, track_commit_timestamp=on)"
  ag_pg_start "$BENCH_WORK/pg" "$port" fsync=on synchronous_commit=on track_commit_timestamp=on \
    shared_buffers=256MB max_connections=200
  (cd "$AG_ROOT/tests" && AGENTGATE_TEST_PGHOST="$BENCH_WORK/pg" AGENTGATE_TEST_PGPORT="$port" \
    AGENTGATE_TEST_WORK="$BENCH_WORK" AGENTGATE_BIN="$AG_ROOT/build-bench/agentgate" \
    node "bench/$script")
}
