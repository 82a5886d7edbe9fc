#!/usr/bin/env python3
"""WikiText-2 split into documents, one JSON line each, so `lmc tokenizer encode` writes each as a
document followed by <|endoftext|>. articles: a " = Title = " top-level heading starts one (62 long
documents in the test split); sections: every heading (" = = Section = = " too) starts one (~700, a
fifth shorter than 129 tokens), so packing and masking have short documents to work on.
Usage: prep.py IN.txt OUT.jsonl [articles|sections]"""
import json, re, sys

level = sys.argv[3] if len(sys.argv) > 3 else "articles"
head = re.compile(r"^ = [^=].* =$" if level == "articles" else r"^ = (= )*[^=].* (= )*=$")
docs, cur = [], []
for line in open(sys.argv[1], encoding="utf-8"):
    if head.match(line.rstrip()) and cur:
        docs.append("".join(cur))
        cur = []
    cur.append(line)
if cur:
    docs.append("".join(cur))
with open(sys.argv[2], "w", encoding="utf-8") as f:
    for d in docs:
        if d.strip():
            f.write(json.dumps({"text": d}) + "\n")
print(f"{sys.argv[1]}: {len(docs)} {level}", file=sys.stderr)
