#!/usr/bin/python3
"""Writes tests/kernels/fixtures/docmask_attn.safetensors: document-masked attention (issue 15,
model.doc_mask) computed by PyTorch in float64 with an explicit block-causal T x T mask -- the formula,
not lmc's tiled kernel. Query t of a window sees keys j with ds[t] <= j <= t (ds = its document's first
position). Cases: softmax MHA, GQA, MQA, ALiBi through F.scaled_dot_product_attention(attn_mask=...),
and LSSA / LSSAR (softplus attention, arXiv 2501.13428) whose per-row key count n_i, length scale
log(hd) log(n_i) and offset o_i count from the document start (a packed row = its document's row alone).
Per case <c>.qkv [B,T,(H+2KV)hd] F32, <c>.ds [B,T] I32, <c>.dout [B,T,H hd], <c>.out, <c>.dqkv (F64
autograd of sum(out * dout), stored F32); metadata <c> = "H,KV,hd,alibi,power" (power -1 = softmax, 0 = LSSA).

Run: /work/venv-torch/bin/python tests/reference/make_docmask_fixtures.py
"""
import math, os, sys
import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_family_fixtures import write_safetensors  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "kernels", "fixtures")
B, T = 2, 130  # T > 2 query blocks of 64, documents cross block edges

CASES = {  # H, KV, hd, alibi, power
    "mha": (2, 2, 8, 0, -1),
    "gqa": (4, 2, 4, 0, -1),
    "mqa": (3, 1, 4, 0, -1),
    "alibi": (2, 2, 8, 1, -1),
    "alibi_gqa": (6, 3, 4, 1, -1),
    "lssa": (2, 2, 4, 0, 0),
    "lssar3": (4, 2, 4, 0, 3),
}


def alibi_slopes(n):
    """lmc's k_alibi_slopes (HF build_alibi_tensor), in float32 as lmc stores them."""
    p = 1
    while p * 2 <= n:
        p *= 2
    base = 2.0 ** (-8.0 / p)
    s = [base ** (h + 1) for h in range(p)]
    extra = 2.0 ** (-4.0 / p)
    s += [extra ** (2 * h + 1) for h in range(n - p)]
    return torch.tensor(np.array(s, dtype=np.float32).astype(np.float64))


def doc_starts(gen):
    """Row 0: documents of random lengths (one of length 1, one exactly at a block edge); row 1: one
    document (the window starts mid-document: no separator)."""
    ds = np.zeros((B, T), dtype=np.int32)
    cuts = [0, 1, 2, 40, 64, 100, 101, 129]  # document starts of row 0
    for t in range(T):
        ds[0, t] = max(c for c in cuts if c <= t)
    return ds


def mask_of(ds):
    j = torch.arange(T)[None, None, :]
    i = torch.arange(T)[None, :, None]
    d = torch.tensor(ds, dtype=torch.long)[:, :, None]
    return (j >= d) & (j <= i)  # (B, T, T)


def softmax_attn(q, k, v, ds, slopes):
    m = mask_of(ds)[:, None]  # (B,1,T,T)
    if slopes is None:
        return F.scaled_dot_product_attention(q, k, v, attn_mask=m)
    rel = (torch.arange(T)[None, :] - torch.arange(T)[:, None]).double()  # j - i
    bias = slopes[None, :, None, None] * rel[None, None]
    bias = bias.masked_fill(~m, float("-inf"))
    return F.scaled_dot_product_attention(q, k, v, attn_mask=bias)


def lssa_attn(q, k, v, ds, power):
    hd = q.shape[-1]
    m = mask_of(ds)[:, None].double()
    cos = F.normalize(q, dim=-1) @ F.normalize(k, dim=-1).transpose(-2, -1)
    i = torch.arange(T)[None, :]
    rel = (i - torch.tensor(ds, dtype=torch.long)).double()  # row index inside its document
    n = (rel + 1.0)[:, None, :, None]  # (B,1,T,1)
    S = F.softplus(math.log(hd) * torch.log(n) * cos) * m
    A = S / S.sum(-1, keepdim=True)
    if power <= 0:
        return A @ v
    O = (rel >= 3).double()[:, None, :, None]
    Bm = torch.relu(n * A - O) ** power * m
    return (Bm / Bm.sum(-1, keepdim=True)) @ v


def case(name, H, KV, hd, alibi, power, gen):
    W = (H + 2 * KV) * hd
    qkv32 = (torch.randn(B, T, W, generator=gen, dtype=torch.float64) * 1.5).float()
    dout32 = torch.randn(B, T, H * hd, generator=gen, dtype=torch.float64).float()
    ds = doc_starts(gen)
    x = qkv32.double().requires_grad_(True)
    q = x[..., : H * hd].reshape(B, T, H, hd).transpose(1, 2)
    k = x[..., H * hd:(H + KV) * hd].reshape(B, T, KV, hd).transpose(1, 2)
    v = x[..., (H + KV) * hd:].reshape(B, T, KV, hd).transpose(1, 2)
    k = k.repeat_interleave(H // KV, dim=1)
    v = v.repeat_interleave(H // KV, dim=1)
    if power < 0:
        o = softmax_attn(q, k, v, ds, alibi_slopes(H) if alibi else None)
    else:
        o = lssa_attn(q, k, v, ds, power)
    o = o.transpose(1, 2).reshape(B, T, H * hd)
    (o * dout32.double()).sum().backward()
    return {f"{name}.qkv": qkv32.numpy(), f"{name}.ds": ds, f"{name}.dout": dout32.numpy(),
            f"{name}.out": o.detach().float().numpy(), f"{name}.dqkv": x.grad.float().numpy()}


def main():
    gen = torch.Generator().manual_seed(1515)
    tensors, meta = {}, {}
    for name, (H, KV, hd, alibi, power) in CASES.items():
        tensors.update(case(name, H, KV, hd, alibi, power, gen))
        meta[name] = f"{H},{KV},{hd},{alibi},{power}"
    meta["cases"] = ",".join(CASES)
    os.makedirs(OUT, exist_ok=True)
    write_safetensors(os.path.join(OUT, "docmask_attn.safetensors"), tensors, meta)


if __name__ == "__main__":
    main()
