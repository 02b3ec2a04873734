#!/usr/bin/env bash
# Delivery latency benchmark: how long from an approval's commit until the forum has it.
#
#   tests/bench/delivery.sh        (as root, like scripts/run-tests; about half a minute)
#
# One run: builds a Release agentgate into build-bench/, starts a private PostgreSQL with
# durable commits (fsync=on, synchronous_commit=on) and track_commit_timestamp=on, starts
# agentgate with its delivery workers and a test forum (tests/lib/fake_forum.mjs, which checks
# every signature), holds BENCH_DRAFTS drafts (default 1000) and approves them all through the
# signed decision API, BENCH_CONCURRENCY at a time (default 8). For every draft it takes the
# commit time of the approving transaction from PostgreSQL (pg_xact_commit_timestamp of the
# draft.approve audit event, which is never updated) and the time the forum received the
# draft.approved event, both from this machine's clock, and prints p50, p99 and max of the
# difference. Targets: p50 <= 20 ms, p99 <= 100 ms. Exit 0 when it measured.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"

ag_install_packages
ag_build "$AG_ROOT/build-bench" -DCMAKE_BUILD_TYPE=Release -DAGENTGATE_TESTS=OFF
(cd "$AG_ROOT/tests" && [ -d node_modules ] || npm ci --no-audit --no-fund --loglevel=error >/dev/null)

WORK=$(mktemp -d /tmp/agentgate-delivery-bench.XXXXXX)
chmod 755 "$WORK"
PGPORT=55498
cleanup() { ag_pg_stop "$WORK/pg"; rm -rf "$WORK"; }
trap cleanup EXIT
ag_say "starting PostgreSQL (durable commits, track_commit_timestamp=on)"
ag_pg_start "$WORK/pg" "$PGPORT" fsync=on synchronous_commit=on track_commit_timestamp=on \
  shared_buffers=256MB max_connections=200

cd "$AG_ROOT/tests"
AGENTGATE_TEST_PGHOST="$WORK/pg" AGENTGATE_TEST_PGPORT="$PGPORT" AGENTGATE_TEST_WORK="$WORK" \
  AGENTGATE_BIN="$AG_ROOT/build-bench/agentgate" node bench/delivery.mjs
