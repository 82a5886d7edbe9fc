#!/usr/bin/env python3
"""Build the benchmark corpus for bench/data_bench.sh from ../shared/data (no network):
WikiText-2 valid+test split into articles, Tiny Shakespeare cut into ~2 kB scenes, plus planted near
duplicates (10% of documents copied with 1-3 word edits) and some exact copies. Writes JSONL with
"id", "text" and a "source" field.  Usage: data_make_corpus.py SHARED_DIR OUT.jsonl [COPIES]"""
import json
import random
import re
import sys

shared, out = sys.argv[1], sys.argv[2]
copies = int(sys.argv[3]) if len(sys.argv) > 3 else 1
rng = random.Random(7)
docs = []
for split in ("valid", "test"):
    art = []
    for line in open(f"{shared}/data/wikitext-2/{split}.txt", encoding="utf-8"):
        if re.match(r"^ = [^=].* = $", line.rstrip("\n")) and art:
            docs.append(("wikitext", "".join(art).strip()))
            art = []
        art.append(line)
    if art:
        docs.append(("wikitext", "".join(art).strip()))
text = open(f"{shared}/data/tinyshakespeare.txt", encoding="utf-8").read()
cur = []
for para in text.split("\n\n"):
    cur.append(para)
    if sum(len(p) for p in cur) > 2000:
        docs.append(("shakespeare", "\n\n".join(cur)))
        cur = []
docs = docs * copies
base = list(docs)
for src, t in rng.sample(base, len(base) // 10):
    w = t.split(" ")
    for _ in range(rng.randint(1, 3)):
        w[rng.randrange(len(w))] = rng.choice(["river", "castle", "music", "army", "light"])
    docs.append((src + "-near", " ".join(w)))
for src, t in rng.sample(base, len(base) // 20):
    docs.append((src + "-exact", t))
rng.shuffle(docs)
with open(out, "w", encoding="utf-8") as f:
    for i, (src, t) in enumerate(docs):
        if t:
            f.write(json.dumps({"id": i, "text": t, "source": src}, ensure_ascii=False) + "\n")
