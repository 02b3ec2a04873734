#!/usr/bin/env bash
# Memory benchmark: agentgate's resident memory over 200,000 mixed requests (intake, decisions,
# page views, 404s); see tests/ops/memory.mjs for the mix and the knobs. Builds build/ if
# needed, starts a throwaway PostgreSQL, prints start and end RSS, exits 1 when memory grew.
#
#   tests/ops/memory.sh          (as root, like scripts/run-tests; a few minutes)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"

ag_install_packages
[ -x "$AG_ROOT/build/agentgate" ] || ag_build "$AG_ROOT/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo
(cd "$AG_ROOT/tests" && [ -d node_modules ] || npm ci --no-audit --no-fund --loglevel=error >/dev/null)
WORK=$(mktemp -d /tmp/agentgate-memory.XXXXXX)
chmod 755 "$WORK"
trap 'ag_pg_stop "$WORK/pg"; rm -rf "$WORK"' EXIT
ag_pg_start "$WORK/pg" 55498 fsync=off synchronous_commit=off full_page_writes=off max_connections=100
ag_say "mixed load against ${AGENTGATE_BIN:-$AG_ROOT/build/agentgate}"
cd "$AG_ROOT/tests"
AGENTGATE_TEST_PGHOST="$WORK/pg" AGENTGATE_TEST_PGPORT=55498 AGENTGATE_TEST_WORK="$WORK" \
  AGENTGATE_BIN="${AGENTGATE_BIN:-$AG_ROOT/build/agentgate}" node ops/memory.mjs
