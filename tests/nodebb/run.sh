#!/usr/bin/env bash
# The NodeBB plugin's tests (plugin/nodebb-plugin-agentgate, CONTRACT §11) against a real,
# stock NodeBB 4.10.3 brought up by ../shared/nodebb/start.sh (found through
# AGENTGATE_NODEBB_DIR, else $REPO/../shared/nodebb, else /work/shared/nodebb). A stage of
# scripts/run-tests: expects its environment (AGENTGATE_BIN, AGENTGATE_TEST_PGHOST,
# AGENTGATE_TEST_PGPORT, AGENTGATE_TEST_WORK, tests/node_modules). NodeBB's own settings pass
# through: NODEBB_ROOT (default /tmp/nodebb-real), NODEBB_PORT, NODEBB_PGPORT.
#
# The first run on a NODEBB_ROOT builds NodeBB and the plugin (a few minutes); later runs reuse
# them and only restart NodeBB. NodeBB is stopped at the end, its data kept. The whole stage
# is bounded by AGENTGATE_NODEBB_TIMEOUT seconds (default 1500).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)

for var in AGENTGATE_BIN AGENTGATE_TEST_PGHOST AGENTGATE_TEST_WORK; do
	[ -n "${!var:-}" ] || { echo "tests/nodebb/run.sh: $var is not set (run it through scripts/run-tests)" >&2; exit 2; }
done

if [ -z "${AGENTGATE_NODEBB_DIR:-}" ]; then
	AGENTGATE_NODEBB_DIR="$REPO/../shared/nodebb"
	[ -x "$AGENTGATE_NODEBB_DIR/start.sh" ] || AGENTGATE_NODEBB_DIR=/work/shared/nodebb
fi
[ -x "$AGENTGATE_NODEBB_DIR/start.sh" ] || { echo "tests/nodebb/run.sh: no NodeBB launcher in $AGENTGATE_NODEBB_DIR (set AGENTGATE_NODEBB_DIR)" >&2; exit 2; }
export AGENTGATE_NODEBB_DIR

stop_nodebb() { "$AGENTGATE_NODEBB_DIR/stop.sh" >/dev/null 2>&1 || echo "tests/nodebb/run.sh: stop.sh failed" >&2; }
trap stop_nodebb EXIT

cd "$REPO/tests"
started=$(date +%s)
status=0
timeout --kill-after=30 "${AGENTGATE_NODEBB_TIMEOUT:-1500}" \
	node --test --test-concurrency=1 nodebb/ || status=$?
echo "tests/nodebb/run.sh: NodeBB stage took $(( $(date +%s) - started )) s (exit $status)" >&2
exit "$status"
