#!/usr/bin/env python3
"""WikiText-2 split into its articles (the " = Title = " top-level headings start one), one JSON line
per article, so `lmc tokenizer encode` writes each as a document followed by <|endoftext|>.
Usage: prep.py IN.txt OUT.jsonl"""
import json, re, sys

head = re.compile(r"^ = [^=].* = $")
docs, cur = [], []
for line in open(sys.argv[1], encoding="utf-8"):
    if head.match(line.rstrip("\n")) and cur:
        docs.append("".join(cur))
        cur = []
    cur.append(line)
if cur:
    docs.append("".join(cur))
with open(sys.argv[2], "w", encoding="utf-8") as f:
    for d in docs:
        if d.strip():
            f.write(json.dumps({"text": d}) + "\n")
print(f"{sys.argv[1]}: {len(docs)} articles", file=sys.stderr)
