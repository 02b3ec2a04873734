#!/usr/bin/env python3
"""Writes the flag benchmark's inputs (tests/bench/flags.sh, tests/flags/differential.sh).

Usage: bench_inputs.py CORPUS_DEV_DIR OUT_DIR
Writes OUT_DIR/inputs.jsonl (one post each: "1 KiB answer", the ordinary dev post closest to
1024 bytes; "64 KiB ordinary", ordinary dev posts concatenated to 65536 bytes; "64 KiB risky",
posts of every family interleaved with ordinary ones, concatenated to 65536 bytes) and
OUT_DIR/forum.rules (200 extra forum rules, each with its own example).
"""
import json, os, sys
corpus, work = sys.argv[1], sys.argv[2]
posts = {}
for name in ("secret", "access", "destructive", "pii", "mention", "ordinary"):
    with open(os.path.join(corpus, name + ".jsonl"), encoding="utf-8") as f:
        posts[name] = [json.loads(line) for line in f if line.strip()]
ordinary = posts["ordinary"]
typical = min(ordinary, key=lambda p: abs(len(p["body"].encode()) - 1024))
big, size = [], 0
order = [p for i in range(300) for n in posts for p in posts[n][i:i + 1]]
for p in order:
    chunk = p["body"] + "\n\n"
    if size + len(chunk.encode()) > 65536:
        break
    big.append(chunk)
    size += len(chunk.encode())
body = "".join(big)
body += "x" * (65536 - len(body.encode()))
plain, i = "", 0
while len(plain.encode()) < 65536:
    plain += ordinary[i % len(ordinary)]["body"] + "\n\n"
    i += 1
plain = plain.encode()[:65536].decode(errors="ignore")
with open(os.path.join(work, "inputs.jsonl"), "w", encoding="utf-8") as f:
    f.write(json.dumps({"id": "1 KiB answer", "body": typical["body"]}) + "\n")
    f.write(json.dumps({"id": "64 KiB ordinary", "body": plain}) + "\n")
    f.write(json.dumps({"id": "64 KiB risky", "body": body}) + "\n")
words = ["orion", "vega", "lyra", "draco", "hydra", "cygnus", "atlas", "nova", "pulsar", "quasar"]
with open(os.path.join(work, "forum.rules"), "w", encoding="utf-8") as f:
    for i in range(200):
        w = words[i % 10] + str(i)
        kind = i % 4
        if kind == 0:
            pattern, example = r"\b(?<value>%s_[A-Za-z0-9]{24})\b" % w, "%s_Zk3x9QpL7mW2vR8tY5nB1cD4" % w
        elif kind == 1:
            pattern, example = r"(?i)\b%s-(?:prod|live)-db\d{2}\.corp\b" % w, "%s-prod-db07.corp" % w
        elif kind == 2:
            pattern, example = r"(?i)\bproject\s{1,8}%s\b[^\n]{0,40}\bconfidential\b" % w, "project %s is confidential" % w
        else:
            pattern, example = r"\b%s\.internal/api/v\d{1,3}/admin\b" % w, "https://%s.internal/api/v2/admin" % w
        family = ("secret", "access", "pii", "destructive")[kind]
        f.write("[%s.forum_rule_%d]\nseverity = warning\nmessage = Forum rule %d.\n"
                "pattern = %s\nmatch = %s\n\n" % (family, i, i, pattern, example))
