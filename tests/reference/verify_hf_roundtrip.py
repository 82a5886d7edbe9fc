#!/usr/bin/python3
"""Manual check (CI has no Python; its committed counterpart is tests/interop/test_hf_llama): an lmc
checkpoint folder (GPT-2 or Llama) loads with AutoModelForCausalLM and gives the loss `lmc eval`
gives; AutoTokenizer loads it, and generate() knows its eos id (from generation_config.json).

usage: /usr/bin/python3 tests/reference/verify_hf_roundtrip.py CKPT_DIR SHARD.bin SEQ_LEN [LMC_BIN]
Loss: mean over consecutive non-overlapping windows of SEQ_LEN (lmc eval's definition)."""
import json, subprocess, sys

import numpy as np
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, GenerationConfig

ckpt, shard, T = sys.argv[1], sys.argv[2], int(sys.argv[3])
lmc = sys.argv[4] if len(sys.argv) > 4 else "build/lmc"
raw = np.fromfile(shard, dtype=np.int32, count=256)
assert raw[0] == 20240520, "expects a uint16 llm.c shard"
toks = np.fromfile(shard, dtype=np.uint16, offset=1024).astype(np.int64)
model = AutoModelForCausalLM.from_pretrained(ckpt, torch_dtype=torch.float32).eval()
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
rel = abs(ours["loss"] - total / count) / abs(total / count)
print(f"{type(model).__name__}: transformers loss {total / count:.8f} over {count} tokens; "
      f"lmc eval {ours['loss']:.8f} over {ours['tokens']} (rel {rel:.2g})")
assert ours["tokens"] == count and rel <= 1e-4

gc = GenerationConfig.from_pretrained(ckpt)
tok = AutoTokenizer.from_pretrained(ckpt)
print("generation_config eos", gc.eos_token_id, "bos", gc.bos_token_id, "| tokenizer eos", tok.eos_token, tok.eos_token_id)
assert gc.eos_token_id is not None and tok.eos_token_id == gc.eos_token_id
ids = tok("The meaning of life is", return_tensors="pt").input_ids
torch.manual_seed(0)
g = model.generate(ids, max_new_tokens=200, do_sample=True, top_k=40, temperature=0.8)[0].tolist()
stopped = g[-1] == gc.eos_token_id
print(f"generate: {len(g) - ids.shape[1]} new tokens, stopped at eos: {stopped}")
print(repr(tok.decode(g[ids.shape[1]:])))
