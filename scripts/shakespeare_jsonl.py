#!/usr/bin/env python3
"""tinyshakespeare -> train.jsonl / val.jsonl (one paragraph a document, the last 5% to val), for
configs/shakespeare_tiny.yaml. Usage: shakespeare_jsonl.py TINYSHAKESPEARE.txt OUT_DIR"""
import json, os, sys

src, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
paras = [p for p in open(src, encoding="utf-8").read().split("\n\n") if p.strip()]
cut = int(len(paras) * 0.95)
for name, part in (("train", paras[:cut]), ("val", paras[cut:])):
    with open(os.path.join(out, name + ".jsonl"), "w", encoding="utf-8") as f:
        for p in part:
            f.write(json.dumps({"text": p + "\n"}) + "\n")
