#!/usr/bin/env bash
# Delivery latency benchmark: how long from an approval's commit until the forum has it.
#
#   tests/bench/delivery.sh        (as root, like scripts/run-tests; a few minutes)
#
# Builds a Release agentgate into build-bench/, starts a private PostgreSQL with durable commits
# (fsync=on, synchronous_commit=on) and track_commit_timestamp=on and a test forum in a process
# of its own (tests/bench/forum_process.mjs, which checks every signature). Then, BENCH_RUNS
# times (default 3), for each mode in BENCH_MODES (default "paced,unpaced"): a fresh database
# and agentgate with 4 delivery workers, BENCH_DRAFTS drafts held (default 1000), and all of
# them approved through the signed decision API, BENCH_CONCURRENCY at a time (default 8), paced
# at BENCH_RATE approvals per second (default 100) or as fast as they go.
#
# What "commit" is: the commit time PostgreSQL records for the approving transaction
# (pg_xact_commit_timestamp, taken as the commit record is written, just before it is flushed
# and becomes visible to the delivery workers). To know that transaction, the benchmark adds to
# its own database a trigger that writes, inside the approving transaction, one row per
# draft.approve event into a table nothing else touches; that row's xmin is the approving
# transaction's xid for good. (An earlier version took the xmin of the draft.approve audit
# event itself; the sealer UPDATEs audit events, so that was the sealer's commit, later than
# the delivery, and gave negative latencies.) "Received" is when the forum process has read
# and checked the request, on the same machine's clock.
#
# Every figure is checked before it is used: the noted row still carries the xid noted with it
# (no later transaction rewrote it), its commit is not earlier than its own write, the forum
# received every approval, and each latency lies between 0 and the run's duration. Anything
# else is an impossible figure: the benchmark stops with exit 1 and says which. Otherwise it
# prints p50, p99, min and max per run, then per mode the median and the worst p50 and p99
# over the runs, against the targets p50 <= 20 ms and p99 <= 100 ms, and exits 0 whether or
# not they are met.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bench_pg.sh"
bench_run_node delivery.mjs 55498
