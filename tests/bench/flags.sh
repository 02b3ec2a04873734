#!/usr/bin/env bash
# Flag scanner benchmark: microseconds to scan one body, and that time's share of one
# intake's CPU (issue 11: <= 1 ms for 64 KiB, never more than 10 % of an intake's CPU).
#
#   tests/bench/flags.sh [--intake] [--by-rule]
#
# What one run does:
#   1. builds a Release tree into build-bench/ (flagscan, and agentgate for --intake).
#   2. makes the inputs, from the dev corpus (tests/flags/corpus/dev/):
#      - "1 KiB answer": the ordinary dev post closest to 1024 bytes (a typical answer);
#      - "64 KiB ordinary": ordinary dev posts concatenated to 65536 bytes (a long technical
#        post: code blocks, commands, configs; few findings);
#      - "64 KiB risky": dev posts of every family and ordinary ones interleaved, concatenated
#        to 65536 bytes (secrets, commands, personal data on every page: ~420 flags, the
#        worst case for the confirmation and context steps);
#      - a forum rule file of 200 extra rules (tokens, hostnames, project words; each with its
#        own example), to measure the built-in rules plus 200 forum rules.
#   3. times each input with `flagscan --time 300` (300 scans of the body in one process after
#      one warm-up; per scan the CPU µs of flags_scan_with, median and worst: CPU, not wall
#      time, because the machine is shared), for both
#      rule sets, and repeats the whole measurement RUNS times (default 3). It prints, per
#      input and rule set, the median of the runs' medians and the worst scan seen.
#   4. the share of an intake: with --intake it runs tests/bench/intake.sh for
#      BENCH_DURATION=5 and reads agentgate's and PostgreSQL's CPU per held post from its
#      "per tx" line (the whole request path: TLS-less HTTP, signature check, JSON, flags,
#      SQL); otherwise it uses INTAKE_CPU_MS (agentgate's CPU per intake in ms, default 0.20,
#      from tests/bench/intake.sh's "per tx" lines on 2026-12-01: 0.18-0.21 ms) and
#      INTAKE_PG_MS (PostgreSQL's, optional). Share = 1 KiB scan time /
#      agentgate's CPU per intake (the intake body is a ~800 byte reply, so the 1 KiB figure
#      is the one that applies).
#   5. with --by-rule, where the Hyperscan pass spends its time (tests/flags/flagcost.c): per
#      input, one scan of the whole database, of the database without each family (the
#      family's share is the difference) and of each rule's patterns alone (the TOP costliest,
#      default 15; alone costs overlap and do not add up to the whole). Each figure is the
#      median CPU µs of 21 scans, from RUNS runs: the median and the worst of those medians.
# Knobs: RUNS (3), ROUNDS (300), TOP (15), INTAKE_CPU_MS, INTAKE_PG_MS.
# Exit status: 0 when it measured (targets are printed, not asserted); 1 when a step failed.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"

RUNS=${RUNS:-3}
ROUNDS=${ROUNDS:-300}
WITH_INTAKE=0 BY_RULE=0
for arg in "$@"; do
  case "$arg" in
    --intake) WITH_INTAKE=1 ;;
    --by-rule) BY_RULE=1 ;;
    *) ag_die "usage: tests/bench/flags.sh [--intake] [--by-rule]" ;;
  esac
done

BUILD="$AG_ROOT/build-bench"
ag_say "building a Release flagscan into $BUILD"
ag_build "$BUILD" -DCMAKE_BUILD_TYPE=Release -DAGENTGATE_TESTS=OFF
FLAGSCAN="$BUILD/flagscan"
if [ "$BY_RULE" = 1 ]; then
  cmake --build "$BUILD" --target flagcost >/dev/null || ag_die "--by-rule needs a Hyperscan build (flagcost)"
fi
WORK=$(mktemp -d /tmp/agentgate-flags-bench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

python3 "$AG_ROOT/tests/flags/bench_inputs.py" "$AG_ROOT/tests/flags/corpus/dev" "$WORK"

measure() { # $1: extra flagscan arguments; prints "id median worst" per input, one run
  "$FLAGSCAN" $1 --time "$ROUNDS" <"$WORK/inputs.jsonl" |
    python3 -c 'import json,sys
for l in sys.stdin:
    o = json.loads(l); print("%s\t%.1f\t%.1f" % (o["id"], o["median_us"], o["worst_us"]))'
}

ag_say "engine: $("$FLAGSCAN" --info)"
declare -A MEDIANS WORST
for set in builtin forum; do
  args=""
  [ "$set" = forum ] && args="--rules $WORK/forum.rules"
  for run in $(seq "$RUNS"); do
    while IFS=$'\t' read -r id median worst; do
      MEDIANS["$set|$id"]="${MEDIANS["$set|$id"]:-} $median"
      prev=${WORST["$set|$id"]:-0}
      WORST["$set|$id"]=$(python3 -c "print(max($prev, $worst))")
    done < <(measure "$args" || ag_die "flagscan failed")
  done
done

INTAKE_CPU_MS=${INTAKE_CPU_MS:-0.20}
PG_CPU_MS=${INTAKE_PG_MS:-}
if [ "$WITH_INTAKE" = 1 ]; then
  ag_say "measuring an intake's CPU with tests/bench/intake.sh (BENCH_DURATION=5)"
  line=$(BENCH_DURATION=5 bash "$AG_ROOT/tests/bench/intake.sh" 2>&1 | grep 'per tx' | grep -v pgbench | head -1)
  INTAKE_CPU_MS=$(sed -E 's/.*agentgate ([0-9.]+) ms.*/\1/' <<<"$line")
  PG_CPU_MS=$(sed -E 's/.*postgres ([0-9.]+) ms.*/\1/' <<<"$line")
  echo "  intake.sh: $line"
fi

printf '\nflag scan, %d runs of %d scans each (µs per scan: median of run medians, worst scan)\n' "$RUNS" "$ROUNDS"
printf '  %-16s %-28s %10s %10s\n' input "rule set" median worst
for id in "1 KiB answer" "64 KiB ordinary" "64 KiB risky"; do
  for set in builtin forum; do
    label=$([ "$set" = builtin ] && echo "built-in" || echo "built-in + 200 forum rules")
    median=$(python3 -c "import statistics; print('%.1f' % statistics.median([float(x) for x in '${MEDIANS["$set|$id"]}'.split()]))")
    printf '  %-16s %-28s %10s %10s\n' "$id" "$label" "$median" "${WORST["$set|$id"]}"
    [ "$id" = "1 KiB answer" ] && [ "$set" = builtin ] && ONE_KIB=$median
    [ "$id" = "1 KiB answer" ] && [ "$set" = forum ] && ONE_KIB_FORUM=$median
    [ "$id" = "64 KiB ordinary" ] && [ "$set" = builtin ] && BIG=$median
    [ "$id" = "64 KiB risky" ] && [ "$set" = builtin ] && RISKY=$median
  done
done
printf '\ntarget: 64 KiB in <= 1000 µs: ordinary %s µs, risky %s µs\n' "$BIG" "$RISKY"
python3 - "$ONE_KIB" "$ONE_KIB_FORUM" "$INTAKE_CPU_MS" "${PG_CPU_MS:-}" <<'EOF'
import sys
scan, scan_forum, intake_ms = float(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
pg = float(sys.argv[4]) if sys.argv[4] else None
print("share of one intake's CPU (agentgate %.3f ms per held post%s):" % (
    intake_ms, ", PostgreSQL %.3f ms" % pg if pg is not None else ""))
for label, us in (("built-in", scan), ("+200 forum rules", scan_forum)):
    line = "  %-17s %.1f µs = %.1f %% of agentgate's CPU" % (label, us, 100 * us / (intake_ms * 1000))
    if pg is not None:
        line += ", %.1f %% with PostgreSQL's" % (100 * us / ((intake_ms + pg) * 1000))
    print(line + " (target <= 10 %)")
EOF

[ "$BY_RULE" = 1 ] || exit 0
printf '\nwhere the Hyperscan pass spends its time (%d runs; µs per scan: median of runs / worst run)\n' "$RUNS"
for run in $(seq "$RUNS"); do
  "$BUILD/flagcost" --top "${TOP:-15}" <"$WORK/inputs.jsonl" >"$WORK/cost.$run.jsonl" || ag_die "flagcost failed"
done
python3 - "$WORK" "$RUNS" <<'EOF'
import json, statistics, sys
work, runs = sys.argv[1], int(sys.argv[2])
results = [[json.loads(l) for l in open("%s/cost.%d.jsonl" % (work, r + 1))] for r in range(runs)]
def fig(values):
    return "%8.1f / %8.1f" % (statistics.median(values), max(values))
for i, post in enumerate(results[0]):
    runs_of = [r[i] for r in results]
    whole = [p["whole_us"] for p in runs_of]
    print("  %s (%d bytes, %d candidate ends): whole database %s" % (
        post["id"], post["bytes"], post["candidates"], fig(whole)))
    for family in post["without"]:
        share = [p["whole_us"] - p["without"][family] for p in runs_of]
        print("    %-12s share (whole - without it) %s%s" % (family, fig(share),
              " (below the noise)" if statistics.median(share) <= 0 else ""))
    solo = {}
    for p in runs_of:
        for rule in p["rules"]:
            solo.setdefault(rule["code"], []).append(rule["solo_us"])
    ranked = sorted(solo.items(), key=lambda kv: -statistics.median(kv[1]))
    for code, values in ranked[:len(post["rules"])]:
        print("    %-44s alone %s%s" % (code, fig(values),
              "" if len(values) == runs else " (among the costliest in %d of %d runs)" % (len(values), runs)))
EOF
