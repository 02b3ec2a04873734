#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, AddressSanitizer + UndefinedBehaviorSanitizer, into
# build-fuzz/) and runs each for a bounded time, starting from the seeds in
# tests/fuzz/corpus/<target>/. Any finding fails the run: a crash or a failed check (abort), a
# memory error, a leak, an UBSan report, an input that takes longer than FUZZ_TIMEOUT, or one
# that needs more than 2 GB. It prints executions and executions/s per target.
#
#   tests/fuzz/run.sh [TARGET...]      (as root, like scripts/run-tests)
#
# Targets: signature intake_json config form template markdown flags (fuzz_<target>.c each).
# Knobs: FUZZ_SECONDS (per target, default 20; use 60 or more for a real hunt), FUZZ_JOBS
# (targets run at once, default 2), FUZZ_TIMEOUT (seconds one input may take, default 10).
# What the fuzzer learns stays in a temporary folder; the seeds in the repository do not change.
# A finding's input is kept in tests/artifacts/fuzz/ and the report printed; replay it with
#   build-fuzz/tests/fuzz/fuzz_<target> tests/artifacts/fuzz/<target>-crash-...
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"

FUZZ_DIR="$AG_ROOT/tests/fuzz"
ALL_TARGETS=(signature intake_json config form template markdown flags)
SECONDS_EACH=${FUZZ_SECONDS:-20}
JOBS=${FUZZ_JOBS:-2}
TIMEOUT=${FUZZ_TIMEOUT:-10}
ARTIFACTS="$AG_ROOT/tests/artifacts/fuzz"
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=("${ALL_TARGETS[@]}")
for t in "${TARGETS[@]}"; do
  [ -f "$FUZZ_DIR/fuzz_$t.c" ] || ag_die "unknown fuzz target $t (known: ${ALL_TARGETS[*]})"
done

ag_install_packages $AG_FUZZ_PACKAGES
ag_say "building the fuzz targets (clang, ASan + UBSan + libFuzzer) into build-fuzz/"
ag_build "$AG_ROOT/build-fuzz" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DAGENTGATE_FUZZ=ON -DAGENTGATE_TESTS=OFF
BIN_DIR="$AG_ROOT/build-fuzz/tests/fuzz"

WORK=$(mktemp -d /tmp/agentgate-fuzz.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$ARTIFACTS"

run_target() {
  local t=$1 dict=()
  mkdir -p "$WORK/$t"
  [ -f "$FUZZ_DIR/$t.dict" ] && dict=(-dict="$FUZZ_DIR/$t.dict")
  # Leaks are findings (LeakSanitizer runs after each input that allocated more than it freed);
  # UBSan stops at its first report (the build also passes -fno-sanitize-recover=undefined).
  set +e
  ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1:handle_abort=1 \
    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    nice -n 5 "$BIN_DIR/fuzz_$t" -max_total_time="$SECONDS_EACH" -timeout="$TIMEOUT" \
    -rss_limit_mb=2048 -malloc_limit_mb=2048 -max_len=16384 -print_final_stats=1 \
    -artifact_prefix="$ARTIFACTS/$t-" "${dict[@]}" "$WORK/$t" "$FUZZ_DIR/corpus/$t" \
    >"$WORK/$t.log" 2>&1
  echo $? >"$WORK/$t.rc"
  set -e
}

ag_say "fuzzing ${TARGETS[*]}: ${SECONDS_EACH}s each, $JOBS at a time"
running=0
for t in "${TARGETS[@]}"; do
  if [ "$running" -ge "$JOBS" ]; then
    wait -n
    running=$((running - 1))
  fi
  run_target "$t" &
  running=$((running + 1))
done
wait

stat() { sed -n "s/^stat::$2: *//p" "$WORK/$1.log" | tail -1; }
failed=()
printf '\n%-12s %-8s %12s %10s %10s %8s\n' target result executions "exec/s" "new units" "rss MB"
for t in "${TARGETS[@]}"; do
  rc=$(cat "$WORK/$t.rc")
  result=ok
  [ "$rc" -eq 0 ] || { result=FINDING; failed+=("$t"); }
  printf '%-12s %-8s %12s %10s %10s %8s\n' "$t" "$result" "$(stat "$t" number_of_executed_units)" \
    "$(stat "$t" average_exec_per_sec)" "$(stat "$t" new_units_added)" "$(stat "$t" peak_rss_mb)"
done
for t in "${failed[@]}"; do
  printf '\n==== fuzz_%s found a problem (exit %s); report:\n' "$t" "$(cat "$WORK/$t.rc")" >&2
  grep -v -E '^#[0-9]+\s+(NEW|REDUCE|pulse|INITED|RELOAD)' "$WORK/$t.log" | tail -60 >&2
  ls -1 "$ARTIFACTS"/"$t"-* 2>/dev/null | sed 's/^/input kept: /' >&2 || true
done
[ ${#failed[@]} -eq 0 ] || ag_die "fuzzing found problems in: ${failed[*]}"
ag_say "fuzzing found nothing in ${#TARGETS[@]} targets"
