#!/usr/bin/env python3
"""Check the flag corpus: every line is a JSON object with the right keys and types,
ids are unique and match their file, labels are known families, no body appears twice
(across all splits), and each split (dev, tuning, tuning2, tuning3 to tuning43, holdout38, holdout39) has at
least the required number of posts and hard negatives. Prints counts only; exits 1 on any problem.

Usage: python3 tests/flags/corpus/check_corpus.py [CORPUS_DIR]
"""
import glob
import importlib.machinery
import importlib.util
import json
import os
import re
import sys
import tempfile

FAMILIES = ("secret", "access", "destructive", "pii", "mention")
FILES = FAMILIES + ("ordinary",)
# minimum number of posts per file, and of hard negatives in ordinary.jsonl
# dev: tuned on; tuning: the first held-out split, opened for tuning after its blind figures
# were recorded; tuning2: access, destructive and ordinary posts written to cover the general
# forms of those families (tuned on); tuning3: the second held-out split, opened for tuning
# after its blind figures were recorded; tuning4 to tuning9: the third to eighth, likewise
# (tuning7 was holdout/, tuning8 holdout2/, tuning9 holdout3/); tuning10 (was holdout4/): the
# ninth, opened after its blind figures were recorded; tuning11 (was holdout5/) and tuning12 (was
# holdout6/): the tenth and eleventh, likewise; tuning13 (was holdout7/) and tuning14 (was
# holdout8/): the twelfth and thirteenth, likewise; tuning15 (was holdout9/) and tuning16 (was
# holdout10/): the fourteenth and fifteenth, likewise; tuning17 (was holdout11/) and tuning18
# (was holdout12/): the sixteenth and seventeenth, likewise; tuning19 (was holdout13/): the
# eighteenth, likewise; tuning20 (was holdout14/): the nineteenth, likewise; tuning21 (was holdout15/): the
# twentieth, likewise; tuning22 (was holdout16/): the
# twenty-first, likewise; tuning23 (was holdout17/): the twenty-second, likewise; tuning24 (was holdout18/): the twenty-third, likewise; tuning25 (was holdout19/): the twenty-fourth, likewise; tuning26 (was holdout20/): the twenty-fifth, likewise; tuning27 (was holdout21/): the twenty-sixth, likewise; tuning28 (was holdout22/): the twenty-seventh, likewise; tuning29 (was holdout23/): the twenty-eighth, likewise; tuning30 (was holdout24/): the twenty-ninth, likewise; tuning31 (was holdout25/): the thirtieth, likewise; tuning32 (was holdout26/): the thirty-first, likewise; tuning33 (was holdout27/): the thirty-second, likewise; tuning34 (was holdout28/): the thirty-third, likewise; tuning35 (was holdout29/): the thirty-fourth, likewise; tuning36 (was holdout30/): the thirty-fifth, likewise; tuning37 (was holdout31/): the thirty-sixth, likewise; tuning38 (was holdout32/): the thirty-seventh, likewise; tuning39 (was holdout33/): the thirty-eighth, likewise; tuning40 (was holdout34/): the thirty-ninth, likewise; tuning41 (was holdout35/): the fortieth, likewise; tuning42 (was holdout36/): the forty-first, likewise; tuning43 (was holdout37/): the forty-second, likewise; holdout38 and holdout39: unseen splits of the same shape, for measurement only (whoever tunes
# the rules never reads them)
# The split list is evaluate's (tuning, opened and unseen splits): one list, edited once a round.
def _evaluate_splits():
    path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "evaluate")
    loader = importlib.machinery.SourceFileLoader("evaluate", path)
    module = importlib.util.module_from_spec(importlib.util.spec_from_loader("evaluate", loader))
    loader.exec_module(module)
    return module.SPLITS


SPLITS = _evaluate_splits()
# the files each split holds (every split but tuning2 holds all families)
SPLIT_FILES = {"tuning2": ("access", "destructive", "ordinary")}
# the least each split holds; the held-out splits (tuning3 on, and the unseen one) share one shape
SPLIT_MINIMUM = {"risk": 40, "ordinary": 160, "hard": 50}
MINIMUM = {split: SPLIT_MINIMUM for split in SPLITS}
# dev: 299 ordinary since round 28 (one relabelled access, see below)
MINIMUM.update({"dev": {"risk": 60, "ordinary": 299, "hard": 75},
                "tuning": {"risk": 25, "ordinary": 120, "hard": 30},
                "tuning2": {"risk": 60, "ordinary": 80, "hard": 30},
                # six of its access posts, least-privilege grants, were relabelled as ordinary
                # (README: "A read-only or least-privilege grant ...")
                "tuning23": {"risk": 34, "ordinary": 160, "hard": 50},
                # seven of its access posts likewise
                "tuning24": {"risk": 33, "ordinary": 160, "hard": 50}})
# Round 28: one ordinary post of each of these (and of dev), a write grant bound to one account
# (a policy statement of write actions on one resource, a writer role for one identity), was
# relabelled access (README: "Write, edit, owner and admin roles bound to one account ... are
# access")
MINIMUM.update({split: dict(SPLIT_MINIMUM, ordinary=159)
                for split in ("tuning5", "tuning6", "tuning7", "tuning11", "tuning14", "tuning15",
                              "tuning21")})
# Round 31: likewise one of tuning27 (a Cassandra app role given MODIFY on one table)
MINIMUM["tuning27"] = dict(SPLIT_MINIMUM, ordinary=159)
# ids name their file and split; longer split names first, so that "tuning2" is not read as "tuning"
ID = re.compile(r"^(%s)-(%s)-\d{3}$" % ("|".join(FILES), "|".join(sorted(SPLITS, key=len, reverse=True))))


def check_file(path, family, split, seen, problems):
    counts = {"posts": 0, "hard": 0, "critical": 0, "titled": 0, "multi": 0}
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            where = "%s:%d" % (path, n)
            if not line.strip():
                problems.append("%s: empty line" % where)
                continue
            try:
                o = json.loads(line)
            except ValueError as e:
                problems.append("%s: not JSON (%s)" % (where, e))
                continue
            if not isinstance(o, dict):
                problems.append("%s: not an object" % where)
                continue
            keys = {"id", "labels", "title", "body", "note"}
            allowed = keys | ({"hard"} if family == "ordinary" else {"critical"})
            missing = keys - set(o)
            extra = set(o) - allowed
            if missing:
                problems.append("%s: missing %s" % (where, sorted(missing)))
            if extra:
                problems.append("%s: unexpected %s" % (where, sorted(extra)))
            pid = o.get("id")
            m = ID.match(pid) if isinstance(pid, str) else None
            if not m or m.group(1) != family or m.group(2) != split:
                problems.append("%s: bad id %r for %s/%s" % (where, pid, split, family))
            if pid in seen:
                problems.append("%s: duplicate id %r (also %s)" % (where, pid, seen[pid]))
            seen[pid] = where
            labels = o.get("labels")
            if not isinstance(labels, list) or any(l not in FAMILIES for l in labels) \
                    or len(set(labels)) != len(labels or []):
                problems.append("%s: bad labels %r" % (where, labels))
                labels = []
            if family == "ordinary":
                if labels:
                    problems.append("%s: ordinary post with labels %r" % (where, labels))
                if not isinstance(o.get("hard"), bool):
                    problems.append("%s: ordinary post needs boolean 'hard'" % where)
                elif o["hard"]:
                    counts["hard"] += 1
            else:
                if family not in labels:
                    problems.append("%s: %s post without the %r label" % (where, family, family))
                if "critical" in o and not isinstance(o["critical"], bool):
                    problems.append("%s: 'critical' must be boolean" % where)
                if o.get("critical"):
                    counts["critical"] += 1
                if len(labels) > 1:
                    counts["multi"] += 1
            if not (o.get("title") is None or (isinstance(o.get("title"), str) and o["title"].strip())):
                problems.append("%s: title must be null or a non-empty string" % where)
            elif o.get("title"):
                counts["titled"] += 1
            for k in ("body", "note"):
                if not isinstance(o.get(k), str) or not o[k].strip():
                    problems.append("%s: %s must be a non-empty string" % (where, k))
            if isinstance(o.get("note"), str) and "\n" in o["note"]:
                problems.append("%s: note must be one line" % where)
            counts["posts"] += 1
    return counts


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    problems, seen = [], {}
    bodies = {}
    for split in SPLITS:
        for family in SPLIT_FILES.get(split, FILES):
            path = os.path.join(root, split, family + ".jsonl")
            parts = sorted(glob.glob(os.path.join(root, split, family + "-part*.jsonl")))
            if not os.path.exists(path) and parts:
                # a split still being written in parts: checked as their concatenation
                path = os.path.join(tempfile.mkdtemp(), family + ".jsonl")
                with open(path, "w", encoding="utf-8") as out:
                    for part in parts:
                        out.write(open(part, encoding="utf-8").read())
            if not os.path.exists(path):
                problems.append("%s: missing" % path)
                continue
            c = check_file(path, family, split, seen, problems)
            need = MINIMUM[split]["ordinary" if family == "ordinary" else "risk"]
            if c["posts"] < need:
                problems.append("%s: %d posts, need at least %d" % (path, c["posts"], need))
            if family == "ordinary" and c["hard"] < MINIMUM[split]["hard"]:
                problems.append("%s: %d hard negatives, need at least %d" % (path, c["hard"], MINIMUM[split]["hard"]))
            extra = ("hard %d" % c["hard"]) if family == "ordinary" else \
                ("critical %d, multi-label %d" % (c["critical"], c["multi"]))
            print("%-8s %-12s %4d posts  titled %3d  %s" % (split, family, c["posts"], c["titled"], extra))
            with open(path, encoding="utf-8") as f:
                for line in f:
                    try:
                        o = json.loads(line)
                    except ValueError:
                        continue
                    b = o.get("body")
                    if isinstance(b, str):
                        if b in bodies:
                            problems.append("%s: same body as %s" % (o.get("id"), bodies[b]))
                        bodies[b] = o.get("id")
    for p in problems:
        print("PROBLEM", p)
    print("%d posts, %d problems" % (len(seen), len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
