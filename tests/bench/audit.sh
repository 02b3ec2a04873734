#!/usr/bin/env bash
# Audit chain benchmark: how fast events are sealed under load, how long an event stays
# unsealed, what sealing costs alone, and how long `agentgate audit verify` takes.
#
#   tests/bench/audit.sh           (as root, like scripts/run-tests; a few minutes)
#
# Builds a Release agentgate into build-bench/ and starts a private PostgreSQL with durable
# commits (fsync=on, synchronous_commit=on) and track_commit_timestamp=on. Then, in one database:
#
#   1. Load: two `serve` processes (threads 16, 2 delivery workers each, a test forum that
#      checks signatures) take signed intakes from BENCH_CLIENTS clients (default 64) for
#      BENCH_DURATION seconds (default 20), split over both; one draft in four is approved
#      through the decision API and delivered. The serve processes' own sealers seal. A trigger
#      the benchmark adds notes each event's writing transaction in a table nothing else writes,
#      so that for every event it knows two commit times exactly: its writer's
#      (pg_xact_commit_timestamp of the noted row) and its seal's (of the event row, whose last
#      writer is the sealer). It prints events written and sealed per second, and the time from
#      an event's commit to its seal's commit: p50, p99, max.
#   2. Sealing alone: with the serve processes stopped, BENCH_BULK events (default 100000) are
#      inserted in one statement and sealed by audit_seal(5000) until nothing is left: events
#      per second for the insert (the id/time/limits trigger) and for the seal.
#   3. Verification: `agentgate audit verify` over the whole chain, timed.
#
# Exit 0 when it measured; 1 when a step failed, when the chain did not verify or a figure is
# impossible (a seal committed before its event, more sealed than written).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bench_pg.sh"
bench_run_node audit.mjs 55497
