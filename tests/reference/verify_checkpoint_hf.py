#!/usr/bin/env python3
"""Manual check (CI has no Python): an lmc checkpoint folder loads in HF transformers as GPT-2, its
tokenizer.json loads in HF tokenizers, and both give what lmc gives.

usage: /usr/bin/python3 tests/reference/verify_checkpoint_hf.py CKPT_DIR SHARD.bin SEQ_LEN [LMC_BIN]
Compares the mean loss over consecutive non-overlapping windows (lmc eval's definition) and the
tokenizer's ids on a text sample. Needs torch, transformers and tokenizers."""
import json, subprocess, sys

import numpy as np
import torch
from tokenizers import Tokenizer
from transformers import GPT2LMHeadModel

ckpt, shard, T = sys.argv[1], sys.argv[2], int(sys.argv[3])
lmc = sys.argv[4] if len(sys.argv) > 4 else "build/lmc"
raw = np.fromfile(shard, dtype=np.int32, count=256)
assert raw[0] == 20240520, "expects a uint16 llm.c shard"
toks = np.fromfile(shard, dtype=np.uint16, offset=1024).astype(np.int64)
with open(f"{ckpt}/config.json") as f:
    sw = json.load(f).get("lmc_switches")
if sw is not None:  # e.g. attention lssa/lssar, qk_norm, RoPE on arch gpt2: transformers would run another model
    sys.exit(f"{ckpt}: config.json has lmc_switches {sw}: transformers cannot represent this model "
             "(it would load the tensors and silently compute something else); evaluate it with lmc eval")
model = GPT2LMHeadModel.from_pretrained(ckpt).eval()
nwin = (len(toks) - 1) // T
total, count = 0.0, 0
with torch.no_grad():
    for j in range(0, nwin, 16):
        k = min(16, nwin - j)
        x = torch.tensor(np.stack([toks[(j + i) * T:(j + i) * T + T] for i in range(k)]))
        y = torch.tensor(np.stack([toks[(j + i) * T + 1:(j + i) * T + T + 1] for i in range(k)]))
        logits = model(x).logits.double()
        total += torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1), reduction="sum").item()
        count += y.numel()
out = subprocess.run([lmc, "eval", "--model", ckpt, "--data", shard, "--seq-len", str(T), "--quiet"],
                     capture_output=True, text=True, check=True).stdout
ours = json.loads(out.strip().splitlines()[-1])
print(f"transformers loss {total / count:.8f} over {count} tokens; lmc eval {ours['loss']:.8f} over {ours['tokens']}")
assert ours["tokens"] == count and abs(ours["loss"] - total / count) <= 1e-5 * abs(total / count)

tok = Tokenizer.from_file(f"{ckpt}/tokenizer.json")
text = "The meaning of life is 42, isn't it?\n\tQ: What's a programmer's favourite café? ünïcödé 日本語"
ids = tok.encode(text).ids
with open("/tmp/lmc_verify.txt", "w") as f:
    f.write(text)
ours = [int(t) for t in subprocess.run([lmc, "tokenizer", "encode", "-t", f"{ckpt}/tokenizer.json", "--ids",
                                        "/tmp/lmc_verify.txt"], capture_output=True, text=True, check=True).stdout.split()]
print("tokenizer ids equal:", ours == ids)
assert ours == ids
print("OK")
