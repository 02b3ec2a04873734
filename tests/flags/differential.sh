#!/usr/bin/env bash
# Differential check of the flag scanner: a change that should not change what is flagged
# (a speed-up, a refactoring) must give byte-identical flagscan output.
#
#   tests/flags/differential.sh record FILE [FLAGSCAN]   writes the scanner's output to FILE
#   tests/flags/differential.sh check FILE [FLAGSCAN]    compares it with FILE
#
# FLAGSCAN defaults to build/flagscan. Record with the scanner before the change, check with
# the one after. The output is flagscan's JSON for:
#   - every post of tests/flags/corpus/dev and tuning (title and body), built-in rules;
#   - the benchmark's inputs (tests/flags/bench_inputs.py: 1 KiB answer, 64 KiB ordinary,
#     64 KiB risky) and 8 shuffled mixes of dev and tuning posts (16 and 64 KiB, some cut at
#     an odd offset), each with the built-in rules and with the benchmark's 200 forum rules.
# The holdout splits are left out: nobody tuning rules should see its flags.
# Exit status: 0 when recorded or identical; 1 when the output differs (the first differing
# lines are printed) or the scanner failed; 2 on bad usage.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

mode=${1:-}
file=${2:-}
FLAGSCAN=${3:-$ROOT/build/flagscan}
if [ -z "$file" ] || { [ "$mode" != record ] && [ "$mode" != check ]; }; then
  echo "usage: $0 record|check FILE [FLAGSCAN]" >&2
  exit 2
fi
[ -x "$FLAGSCAN" ] || { echo "differential: no scanner at $FLAGSCAN" >&2; exit 2; }

WORK=$(mktemp -d /tmp/agentgate-flags-diff.XXXXXX)
trap '[ -n "${KEEP:-}" ] || rm -rf "$WORK"' EXIT
CORPUS="$ROOT/tests/flags/corpus"
python3 "$ROOT/tests/flags/bench_inputs.py" "$CORPUS/dev" "$WORK"
python3 - "$CORPUS" "$WORK" <<'EOF'
import json, os, random, sys
corpus, work = sys.argv[1], sys.argv[2]
posts = []
for split in ("dev", "tuning"):
    for name in sorted(os.listdir(os.path.join(corpus, split))):
        if name.endswith(".jsonl"):
            with open(os.path.join(corpus, split, name), encoding="utf-8") as f:
                posts += [json.loads(line) for line in f if line.strip()]
with open(os.path.join(work, "posts.jsonl"), "w", encoding="utf-8") as f:
    for p in posts:
        f.write(json.dumps({"id": p["id"], "title": p.get("title"), "body": p["body"]}) + "\n")
with open(os.path.join(work, "mixes.jsonl"), "w", encoding="utf-8") as f:
    for seed in range(8):
        rng = random.Random(seed)
        size = 16384 if seed % 2 else 65536
        order = posts[:]
        rng.shuffle(order)
        body = b""
        for p in order:
            chunk = (p["body"] + rng.choice(["\n\n", "\n", " "])).encode()
            if len(body) + len(chunk) > size:
                break
            body += chunk
        if seed >= 4:  # cut at an odd offset, possibly inside a code block or a token
            body = body[rng.randrange(1, 500):len(body) - rng.randrange(0, 500)]
        text = body.decode(errors="ignore")
        f.write(json.dumps({"id": "mix %d" % seed, "body": text}) + "\n")
EOF

out="$WORK/out"
{
  echo "== corpus posts, built-in rules"
  "$FLAGSCAN" <"$WORK/posts.jsonl"
  echo "== benchmark inputs and mixes, built-in rules"
  cat "$WORK/inputs.jsonl" "$WORK/mixes.jsonl" | "$FLAGSCAN"
  echo "== benchmark inputs and mixes, built-in + 200 forum rules"
  cat "$WORK/inputs.jsonl" "$WORK/mixes.jsonl" | "$FLAGSCAN" --rules "$WORK/forum.rules"
} >"$out" || { echo "differential: flagscan failed" >&2; exit 1; }

if [ "$mode" = record ]; then
  cp "$out" "$file"
  echo "differential: recorded $(wc -l <"$file") lines, $(grep -o '"code"' "$file" | wc -l) flags into $file"
  exit 0
fi
if cmp -s "$out" "$file"; then
  echo "differential: identical ($(wc -l <"$file") lines, $(grep -o '"code"' "$file" | wc -l) flags)"
  exit 0
fi
echo "differential: output differs from $file:" >&2
diff <(tr '{' '\n' <"$file") <(tr '{' '\n' <"$out") | head -40 >&2
exit 1
