#!/usr/bin/env python3
"""Counts new rule example lines (match*/no_match values of 45+ characters added since BASE)
that appear in any corpus post's body, title or note, every split included. Prints counts only.
Usage: examples_check.py BASE [REPO]"""
import glob, json, os, re, subprocess, sys
base = sys.argv[1]; repo = sys.argv[2] if len(sys.argv) > 2 else "/work/main"
diff = subprocess.run(["git", "-C", repo, "diff", base, "--", "rules/"], capture_output=True, text=True).stdout
examples = []
for line in diff.splitlines():
    m = re.match(r"^\+\s*(match|no_match|match_critical|match_warning|match_info)\s*=\s?(.*)$", line)
    if m and len(m.group(2)) >= 45:
        examples.append(m.group(2).replace("\\n", "\n"))
texts = []
for path in glob.glob(os.path.join(repo, "tests/flags/corpus/*/*.jsonl")):
    for l in open(path, encoding="utf-8"):
        p = json.loads(l)
        texts.append("\n".join(str(p.get(k) or "") for k in ("title", "body", "note")))
hits = sum(1 for e in examples if any(e in t for t in texts))
print("%d new example lines of 45+ characters; %d appear in a corpus post" % (len(examples), hits))
sys.exit(1 if hits else 0)
