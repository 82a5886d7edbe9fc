#!/usr/bin/python3
"""Writes the attention-switch fixtures of issue 13 (tests/model/fixtures/attn_<variant>.safetensors):
model.qk_norm (per-head RMSNorm of q and k before RoPE, gains [head_dim], as transformers'
Qwen3Attention) and model.attention = lssa | lssar (softplus attention, arXiv 2501.13428), written
as plain float64 PyTorch that materialises the T x T weights -- the formula, not lmc's tiled kernel.
Reuses make_family_fixtures.py (parameter names, init, safetensors writer, the AdamW run); same file
layout, plus metadata attention / lssar_power / qk_norm.

Run: /usr/bin/python3 tests/reference/make_attn_fixtures.py   (or /work/venv-torch/bin/python)
"""
import math, os, sys
import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_family_fixtures as fam  # noqa: E402

_fam_names = fam.names

B, T, V = fam.B, fam.T, fam.V

VARIANTS = {
    # fam.VARIANTS fields + attention (softmax|lssa|lssar), p (lssar power), qk (qk_norm)
    "qknorm":        dict(L=2, H=4, KV=2, D=32, FF=0,  norm="rmsnorm", pos="rope", mlp="swiglu", bias=False, tie=False,
                          attention="softmax", p=15, qk=True),
    "lssa":          dict(L=2, H=4, KV=4, D=32, FF=64, norm="rmsnorm", pos="rope", mlp="gelu", bias=False, tie=True,
                          attention="lssa", p=15, qk=False),
    "lssar3":        dict(L=2, H=4, KV=2, D=32, FF=48, norm="rmsnorm", pos="rope", mlp="swiglu", bias=False, tie=False,
                          attention="lssar", p=3, qk=False),
    "lssar15_qknorm": dict(L=2, H=2, KV=2, D=32, FF=64, norm="layernorm", pos="learned", mlp="gelu", bias=True, tie=True,
                          attention="lssar", p=15, qk=True),
}


def names(c):
    out = _fam_names(c)
    if c["qk"]:
        hd = c["D"] // c["H"]
        for l in range(c["L"]):
            out += [(f"h.{l}.attn.q_norm.weight", (hd,)), (f"h.{l}.attn.k_norm.weight", (hd,))]
    return out


def init_params(c, gen):
    ps = fam.init_params(c, gen)  # fam.names is names() here (main patches it): gains 1 + 0.1 N(0,1)
    for n, shape in names(c)[len(_fam_names(c)):]:
        ps[n] = 1.0 + 0.3 * torch.randn(shape, generator=gen, dtype=torch.float64)
    return ps


def rms(x, w, eps=1e-5):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def lssa_weights(q, k, power, reweight):
    """q (B,H,T,hd), k (B,H,T,hd) after RoPE -> A' (B,H,T,T), the paper's two stages with a multiplying mask."""
    Tn, hd = q.shape[-2], q.shape[-1]
    cos = F.normalize(q, dim=-1) @ F.normalize(k, dim=-1).transpose(-2, -1)
    n = torch.arange(1, Tn + 1, dtype=q.dtype)[:, None]                 # keys of row i (causal)
    M = torch.tril(torch.ones(Tn, Tn, dtype=q.dtype))
    S = F.softplus(math.log(hd) * torch.log(n) * cos) * M
    A = S / S.sum(-1, keepdim=True)
    if not reweight:
        return A
    O = torch.ones(Tn, 1, dtype=q.dtype)
    O[:3] = 0.0
    Bm = torch.relu(n * A - O) ** power * M
    return Bm / Bm.sum(-1, keepdim=True)


def forward(c, ps, idx, targets):
    Bn, Tn = idx.shape
    H, KV, D = c["H"], c["KV"], c["D"]
    hd, G, FF = D // H, H // KV, fam.d_ff(c)
    x = ps["wte.weight"][idx]
    if c["pos"] == "learned":
        x = x + ps["wpe.weight"][:Tn]
    mask = torch.tril(torch.ones(Tn, Tn, dtype=torch.bool))
    inv = 1.0 / (10000.0 ** (torch.arange(0, hd, 2, dtype=torch.float64) / hd))
    ang = torch.arange(Tn, dtype=torch.float64)[:, None] * inv[None, :]
    emb = torch.cat((ang, ang), dim=-1)
    cos, sin = emb.cos(), emb.sin()
    g = lambda n: ps.get(n)
    for l in range(c["L"]):
        p = lambda s: g(f"h.{l}.{s}")
        h = fam.norm(c, x, p("ln_1.weight"), p("ln_1.bias"))
        qkv = h @ p("attn.c_attn.weight")
        if c["bias"]: qkv = qkv + p("attn.c_attn.bias")
        q, k, v = qkv.split([H * hd, KV * hd, KV * hd], dim=2)
        q = q.view(Bn, Tn, H, hd).transpose(1, 2)
        k = k.view(Bn, Tn, KV, hd).transpose(1, 2)
        v = v.view(Bn, Tn, KV, hd).transpose(1, 2)
        if c["qk"]:  # Qwen3Attention: q_norm / k_norm over head_dim, before RoPE
            q = rms(q, p("attn.q_norm.weight"))
            k = rms(k, p("attn.k_norm.weight"))
        if c["pos"] == "rope":
            q = q * cos + fam.rotate_half(q) * sin
            k = k * cos + fam.rotate_half(k) * sin
        k = k.repeat_interleave(G, dim=1)
        v = v.repeat_interleave(G, dim=1)
        if c["attention"] == "softmax":
            att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(hd))
            att = att.masked_fill(~mask, float("-inf")).softmax(dim=-1)
        else:
            att = lssa_weights(q, k, c["p"], c["attention"] == "lssar")
        y = (att @ v).transpose(1, 2).contiguous().view(Bn, Tn, D)
        y = y @ p("attn.c_proj.weight")
        if c["bias"]: y = y + p("attn.c_proj.bias")
        x = x + y
        h = fam.norm(c, x, p("ln_2.weight"), p("ln_2.bias"))
        h = h @ p("mlp.c_fc.weight")
        if c["bias"]: h = h + p("mlp.c_fc.bias")
        if c["mlp"] == "swiglu":
            h = F.silu(h[..., :FF]) * h[..., FF:]
        else:
            h = F.gelu(h, approximate="tanh")
        h = h @ p("mlp.c_proj.weight")
        if c["bias"]: h = h + p("mlp.c_proj.bias")
        x = x + h
    x = fam.norm(c, x, ps["ln_f.weight"], ps.get("ln_f.bias"))
    head = ps["wte.weight"] if c["tie"] else ps["lm_head.weight"]
    logits = x @ head.t()
    loss = F.cross_entropy(logits.reshape(-1, V), targets.reshape(-1)) if targets is not None else None
    return logits, loss


def main():
    torch.set_num_threads(1)
    fam.names, fam.forward = names, forward  # fam.train calls these
    for vi, (vname, c) in enumerate(VARIANTS.items()):
        gen = torch.Generator().manual_seed(300 + vi)
        ps = {n: t.float().double() for n, t in init_params(c, gen).items()}
        idx = torch.randint(0, V, (B, T), generator=gen)
        tgt = torch.randint(0, V, (B, T), generator=gen)
        tgt[0, 3] = -100
        leaf = {n: t.clone().requires_grad_(True) for n, t in ps.items()}
        logits, loss = forward(c, leaf, idx, tgt)
        loss.backward()
        ref = {"inputs": idx.int().numpy(), "targets": tgt.int().numpy(),
               "logits": logits.detach().float().numpy(), "loss": np.array([loss.item()], np.float64)}
        for n, _ in names(c):
            ref["p." + n] = ps[n].float().numpy()
            ref["grad." + n] = leaf[n].grad.float().numpy()
        l64, n64 = fam.train(c, ps, idx, tgt)
        ref["train_losses"] = np.array(l64, np.float64)
        ref["train_norms"] = np.array(n64, np.float64)
        meta = {"n_layer": str(c["L"]), "n_head": str(c["H"]), "n_kv_head": str(c["KV"]), "d_model": str(c["D"]),
                "d_ff": str(c["FF"]), "seq_len": str(T), "vocab_size": str(V), "norm": c["norm"],
                "position": c["pos"], "mlp": c["mlp"], "bias": str(c["bias"]).lower(),
                "tie_embeddings": str(c["tie"]).lower(), "norm_eps": "1e-5", "rope_theta": "10000",
                "attention": c["attention"], "lssar_power": str(c["p"]), "qk_norm": str(c["qk"]).lower()}
        fam.write_safetensors(os.path.join(fam.OUT, f"attn_{vname}.safetensors"), ref, meta)
        print(vname, "loss", loss.item(), "train", l64[0], "->", l64[-1], file=sys.stderr)


if __name__ == "__main__":
    main()
