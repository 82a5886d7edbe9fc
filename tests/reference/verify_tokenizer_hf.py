#!/usr/bin/env python3
"""Interop checks that need Python (run by hand; CI runs the C tests on committed fixtures):

  python3 tests/reference/verify_tokenizer_hf.py [--lmc build/lmc] [--shared ../shared]

1. `lmc tokenizer train` (patterns gpt2, cl100k_base, o200k_base) writes a tokenizer.json that HF
   tokenizers loads and that encodes the fixture corpus and held-out text to the same ids as
   `lmc tokenizer encode --special all`.
2. `lmc tokenizer convert` of gpt2/cl100k_base/o200k_base .tiktoken files loads in HF; HF's ids are
   compared with tiktoken's on the fixture corpus and tinyshakespeare (reported, not asserted: HF's
   merge-list BPE can differ from tiktoken's rank-by-bytes BPE on a few pieces).
Prints one line per check and exits 1 if a check of part 1 fails.
"""
import argparse, json, os, subprocess, sys, tempfile

from tokenizers import Tokenizer
import tiktoken, tiktoken.load
from tiktoken_ext import openai_public as op
import unittest.mock as um

HERE = os.path.dirname(os.path.abspath(__file__))
ap = argparse.ArgumentParser()
ap.add_argument("--lmc", default=os.path.join(HERE, "..", "..", "build", "lmc"))
# the shared folder sits beside the repository (../shared from its root)
ap.add_argument("--shared", default=os.environ.get("LMC_SHARED_DIR", os.path.normpath(os.path.join(HERE, "..", "..", "..", "shared"))))
args = ap.parse_args()
tmp = tempfile.mkdtemp()
texts = json.load(open(os.path.join(HERE, "..", "tokenizer", "fixtures", "tiktoken_ids.json")))["texts"]
ts = open(os.path.join(args.shared, "data", "tinyshakespeare.txt"), encoding="utf-8").read()
train, held = ts[:1000000], ts[1000000:]
open(os.path.join(tmp, "train.txt"), "w").write(train + "\n".join(texts) * 20)
failed = 0


def lmc_ids(tok, text, special="all"):
    p = os.path.join(tmp, "in.txt")
    open(p, "w", encoding="utf-8").write(text)
    out = subprocess.run([args.lmc, "tokenizer", "encode", "-t", tok, "--ids", "--special", special, p],
                         check=True, capture_output=True, text=True).stdout
    return [int(x) for x in out.split()]


for pat in ("gpt2", "cl100k_base", "o200k_base"):
    out = os.path.join(tmp, f"lmc_{pat}.json")
    subprocess.run([args.lmc, "--quiet", "tokenizer", "train", "-o", out, "--vocab-size", "4000", "--pattern", pat,
                    "--special", "<|endoftext|>", os.path.join(tmp, "train.txt")], check=True)
    hf = Tokenizer.from_file(out)
    bad = [i for i, t in enumerate(texts + [held]) if hf.encode(t).ids != lmc_ids(out, t)]
    ok = not bad
    failed += not ok
    print(f"train --pattern {pat}: HF loads lmc's tokenizer.json; same ids on {len(texts) + 1 - len(bad)}/{len(texts) + 1} texts"
          + ("" if ok else f" (differ: {bad})"))

for name, ctor in (("gpt2", op.r50k_base), ("cl100k_base", op.cl100k_base), ("o200k_base", op.o200k_base)):
    src = os.path.join(args.shared, "vocab", name + ".tiktoken")
    out = os.path.join(tmp, f"{name}.json")
    subprocess.run([args.lmc, "tokenizer", "convert", "-t", src, "-o", out], check=True)
    with um.patch.object(op, "load_tiktoken_bpe", lambda *a, **k: {}):
        spec = ctor()
    enc = tiktoken.Encoding(name, pat_str=spec["pat_str"], mergeable_ranks=tiktoken.load.load_tiktoken_bpe(src),
                            special_tokens=spec["special_tokens"])
    hf = Tokenizer.from_file(out)
    docs = texts + [ts]
    same = sum(hf.encode(t).ids == enc.encode(t, allowed_special="all") for t in docs)
    print(f"convert {name}: HF loads it; HF ids == tiktoken ids on {same}/{len(docs)} texts (incl. all of tinyshakespeare)")
sys.exit(1 if failed else 0)
