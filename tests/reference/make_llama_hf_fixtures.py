#!/usr/bin/python3
"""Writes the HF Llama fixtures (tests/interop/fixtures/) with transformers' own LlamaForCausalLM.

  llama_tiny/            save_pretrained of a random LlamaForCausalLM (L=2, H=4, n_kv_head=2 (GQA),
                         d=64, intermediate 96, V=250, untied head), F32, single model.safetensors
  llama_tiny_bf16/       the same architecture with a tied head, saved in BF16 and sharded
                         (model.safetensors.index.json + several shards)
  qwen2_tiny/            save_pretrained of a random Qwen2ForCausalLM (q/k/v biases, tied head), F32
  llama_tiny_ref.safetensors  inputs/targets (B=2, T=24), logits and loss of the models as
                         transformers computes them (the BF16 model upcast to float32)
  llama_tiny_eval.bin/.json   a uint16 llm.c shard and transformers' loss over non-overlapping
                         windows of T=24 (lmc eval's definition) for llama_tiny

Run: /usr/bin/python3 tests/reference/make_llama_hf_fixtures.py
     (Debian python3-torch 1.13 + transformers 4.45 from PyPI)
"""
import json, os, struct, sys
import numpy as np
import torch
import torch.nn.functional as F
from transformers import LlamaConfig, LlamaForCausalLM, Qwen2Config, Qwen2ForCausalLM

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "interop", "fixtures")
V, B, T = 250, 2, 24


def make(tie, seed):
    torch.manual_seed(seed)
    cfg = LlamaConfig(vocab_size=V, hidden_size=64, intermediate_size=96, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64,
                      rms_norm_eps=1e-5, rope_theta=10000.0, tie_word_embeddings=tie,
                      bos_token_id=1, eos_token_id=2, initializer_range=0.1)
    m = LlamaForCausalLM(cfg).eval()
    with torch.no_grad():  # norm weights away from 1 so they matter
        for n, p in m.named_parameters():
            if "norm" in n:
                p.add_(0.2 * torch.randn_like(p))
    return m


def write_safetensors(path, tensors):
    header, blobs, off = {}, [], 0
    for n in sorted(tensors):
        a = np.ascontiguousarray(tensors[n])
        dt = {np.dtype(np.float32): "F32", np.dtype(np.int32): "I32", np.dtype(np.float64): "F64"}[a.dtype]
        b = a.astype(a.dtype.newbyteorder("<")).tobytes()
        header[n] = {"dtype": dt, "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def main():
    torch.set_num_threads(1)
    os.makedirs(OUT, exist_ok=True)
    g = torch.Generator().manual_seed(7)
    idx = torch.randint(0, V, (B, T), generator=g)
    tgt = torch.randint(0, V, (B, T), generator=g)
    ref = {"inputs": idx.int().numpy(), "targets": tgt.int().numpy()}

    m = make(False, 1)
    m.save_pretrained(os.path.join(OUT, "llama_tiny"), safe_serialization=True)
    with torch.no_grad():
        lg = m(idx).logits.float()
    ref["logits"] = lg.numpy()
    ref["loss"] = np.array([F.cross_entropy(lg.double().reshape(-1, V), tgt.reshape(-1)).item()], np.float64)

    mb = make(True, 2).to(torch.bfloat16)
    mb.save_pretrained(os.path.join(OUT, "llama_tiny_bf16"), safe_serialization=True, max_shard_size="40KB")
    # reference: the BF16 weights in a float32 model (mb.float() would also keep the RoPE inv_freq
    # buffer that .to(bfloat16) rounded; a fresh float32 model computes it exactly, as lmc does)
    m32 = make(True, 2)
    m32.load_state_dict({k: v.float() for k, v in mb.state_dict().items()})
    with torch.no_grad():
        lg = m32(idx).logits.float()
    ref["logits_bf16"] = lg.numpy()
    ref["loss_bf16"] = np.array([F.cross_entropy(lg.double().reshape(-1, V), tgt.reshape(-1)).item()], np.float64)
    # Qwen2: Llama with q/k/v biases (biases made non-zero so they matter)
    torch.manual_seed(3)
    qc = Qwen2Config(vocab_size=V, hidden_size=64, intermediate_size=96, num_hidden_layers=2, num_attention_heads=4,
                     num_key_value_heads=2, max_position_embeddings=64, rms_norm_eps=1e-5, rope_theta=10000.0,
                     tie_word_embeddings=True, initializer_range=0.1, bos_token_id=1, eos_token_id=2)
    mq = Qwen2ForCausalLM(qc).eval()
    with torch.no_grad():
        for n, p in mq.named_parameters():
            if n.endswith("bias"):
                p.normal_(0.0, 0.1)
    mq.save_pretrained(os.path.join(OUT, "qwen2_tiny"), safe_serialization=True)
    with torch.no_grad():
        lg = mq(idx).logits.float()
    ref["logits_qwen2"] = lg.numpy()
    ref["loss_qwen2"] = np.array([F.cross_entropy(lg.double().reshape(-1, V), tgt.reshape(-1)).item()], np.float64)
    write_safetensors(os.path.join(OUT, "llama_tiny_ref.safetensors"), ref)

    toks = torch.randint(0, V, (600,), generator=g)
    with open(os.path.join(OUT, "llama_tiny_eval.bin"), "wb") as f:
        hdr = [0] * 256
        hdr[0], hdr[1], hdr[2] = 20240520, 1, len(toks)
        f.write(struct.pack("<256i", *hdr))
        f.write(toks.numpy().astype("<u2").tobytes())
    nwin = (len(toks) - 1) // T
    x = torch.stack([toks[j * T:(j + 1) * T] for j in range(nwin)])
    y = torch.stack([toks[j * T + 1:(j + 1) * T + 1] for j in range(nwin)])
    with torch.no_grad():
        lg = m(x).logits.double()
    loss = F.cross_entropy(lg.reshape(-1, V), y.reshape(-1)).item()
    with open(os.path.join(OUT, "llama_tiny_eval.json"), "w") as f:
        json.dump({"seq_len": T, "loss": loss, "tokens": int(y.numel())}, f, indent=2)
    print("loss", ref["loss"], "bf16", ref["loss_bf16"], "eval", loss, file=sys.stderr)


if __name__ == "__main__":
    main()
