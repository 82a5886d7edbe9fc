"""PyTorch reference for lmc merge (src/merge/merge.h), written from the papers:
  Task Arithmetic (Ilharco et al., ICLR 2023): theta_0 + lambda * sum_t w_t tau_t
  TIES-Merging (Yadav et al., NeurIPS 2023): trim to top-k |tau|, elect sign of the (weighted) sum,
      disjoint (weighted) mean of the entries that agree with the elected sign
  DARE (Yu et al., ICML 2024): Bernoulli drop with keep probability density, rescale by 1/density,
      then Task Arithmetic. The mask is defined by lmc's Philox4x32-10 stream (reimplemented here with
      numpy) so both sides draw the same masks: entry i of tensor v of model t is kept iff
      (philox(i // 4, derive(derive(seed, t), v))[i % 4] >> 8) * 2**-24 < density.
  Contrastive weight steering (Fierro & Roger, ICLR 2026): theta + k * (theta_plus - theta_minus)
Every operation is float32, in the order lmc does them, so the C test compares bit for bit.

Writes tests/merge/fixtures/merge_ref.safetensors. Run: /work/venv-torch/bin/python tests/reference/merge_reference.py
"""
import math
import os

import numpy as np
import torch
from safetensors.torch import save_file

M64 = (1 << 64) - 1


def derive(seed, stream):
    z = (seed + 0x9E3779B97F4A7C15 * (stream + 1)) & M64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return z ^ (z >> 31)


def philox_words(n, key):
    """Words 0..n-1 of the Philox4x32-10 stream with this key (block i // 4, word i % 4)."""
    nb = (n + 3) // 4
    ctr = np.arange(nb, dtype=np.uint64)
    m32 = np.uint64(0xFFFFFFFF)
    c0, c1 = ctr & m32, ctr >> np.uint64(32)
    c2 = np.zeros(nb, np.uint64)
    c3 = np.zeros(nb, np.uint64)
    k0, k1 = key & 0xFFFFFFFF, key >> 32
    for _ in range(10):
        p0 = np.uint64(0xD2511F53) * c0
        p1 = np.uint64(0xCD9E8D57) * c2
        n0 = (p1 >> np.uint64(32)) ^ c1 ^ np.uint64(k0)
        n1 = p1 & m32
        n2 = (p0 >> np.uint64(32)) ^ c3 ^ np.uint64(k1)
        n3 = p0 & m32
        c0, c1, c2, c3 = n0, n1, n2, n3
        k0 = (k0 + 0x9E3779B9) & 0xFFFFFFFF
        k1 = (k1 + 0xBB67AE85) & 0xFFFFFFFF
    return np.stack([c0, c1, c2, c3], axis=1).reshape(-1)[:n].astype(np.uint32)


def dare_mask(n, seed, t, v, density):
    w = philox_words(n, derive(derive(seed, t), v))
    u = (w >> 8).astype(np.float32) * np.float32(1.0 / 16777216.0)
    return torch.from_numpy(u < np.float32(density))


def f32(x):
    return torch.tensor(x, dtype=torch.float32)


def ta(base, models, w, scale):
    acc = torch.zeros_like(base)
    for t, m in enumerate(models):
        acc = acc + f32(w[t]) * (m - base)
    return base + f32(scale) * acc


def dare(base, models, w, scale, density, seed, v):
    acc = torch.zeros_like(base)
    for t, m in enumerate(models):
        tau = m - base
        keep = dare_mask(base.numel(), seed, t, v, density)
        kept = torch.where(keep, tau / f32(density), torch.zeros_like(tau))
        acc = acc + f32(w[t]) * kept
    return base + f32(scale) * acc


def ties(base, models, w, scale, density):
    n = base.numel()
    k = math.floor(float(np.float32(density)) * n)
    taus = []
    for m in models:
        tau = m - base
        if k < n:
            order = torch.sort(-tau.abs(), stable=True).indices  # largest |tau| first, lower index on ties
            keep = torch.zeros(n, dtype=torch.bool)
            keep[order[:k]] = True
            tau = torch.where(keep, tau, torch.zeros_like(tau))
        taus.append(tau)
    s = torch.zeros_like(base)
    for t, tau in enumerate(taus):
        s = s + f32(w[t]) * tau
    g = torch.where(s >= 0, 1.0, -1.0)
    num = torch.zeros_like(base)
    den = torch.zeros_like(base)
    for t, tau in enumerate(taus):
        agree = (tau != 0) & (torch.sign(tau) == g)
        num = torch.where(agree, num + f32(w[t]) * tau, num)
        den = torch.where(agree, den + f32(w[t]), den)
    merged = torch.where(den != 0, num / torch.where(den != 0, den, f32(1.0)), torch.zeros_like(num))
    return base + f32(scale) * merged


def steer(base, pos, neg, scale):
    return base + f32(scale) * (pos - neg)


def main():
    g = torch.Generator().manual_seed(13)
    sizes = [185, 64, 12]
    out = {}
    W_TA, S_TA = [0.5, 1.0, -0.3], 0.7
    W_TIES, D_TIES, S_TIES = [0.5, 1.0, 0.8], 0.3, 1.0
    W_DARE, D_DARE, S_DARE, SEED = [1.0, 0.5, 1.0], 0.4, 0.9, 1234
    S_STEER = 1.5
    for v, n in enumerate(sizes):
        base = torch.randn(n, generator=g)
        models = [base + 0.1 * torch.randn(n, generator=g) for _ in range(3)]
        if v == 2:  # equal magnitudes with both signs: the trim's tie-break and the sign election's
            d = torch.tensor([0.5, -0.5, 0.5, 0.25, -0.25, 0.0, 0.5, -0.5, 0.1, -0.1, 0.5, 0.5])
            models = [base + d, base - d, base + d.flip(0)]
        out[f"base.{v}"] = base
        for t, m in enumerate(models):
            out[f"m{t}.{v}"] = m
            out[f"mask{t}.{v}"] = dare_mask(n, SEED, t, v, D_DARE).to(torch.uint8)
        out[f"ta.{v}"] = ta(base, models, W_TA, S_TA)
        out[f"ties.{v}"] = ties(base, models, W_TIES, S_TIES, D_TIES)
        out[f"dare.{v}"] = dare(base, models, W_DARE, S_DARE, D_DARE, SEED, v)
        out[f"steer.{v}"] = steer(base, models[0], models[1], S_STEER)
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "merge", "fixtures", "merge_ref.safetensors")
    save_file({k: v.contiguous() for k, v in out.items()}, path)
    print("wrote", os.path.normpath(path))


if __name__ == "__main__":
    main()
