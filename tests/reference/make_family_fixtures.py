#!/usr/bin/python3
"""Writes the transformer-family fixtures (tests/model/fixtures/family_<variant>.safetensors).

Each variant is a tiny model written as plain PyTorch in float64 -- explicit causal softmax attention
with n_kv_head key/value heads (GQA/MQA by repeating kv heads), RoPE in HF LlamaForCausalLM's
rotate-half convention, ALiBi with the standard slopes, LayerNorm or RMSNorm, GELU-tanh or SwiGLU,
optional biases, tied or untied head -- with weights in lmc's internal layout and names (Conv1D
[in, out]; attn.c_attn = q | k | v; mlp.c_fc = gate | up for SwiGLU). Together the variants cover every
value of every switch. The GPT-2 preset itself is tests/reference/make_gpt2_fixtures.py.

Each file: p.<name> weights (F32, the exact values the reference uses), inputs/targets (B=2, T=16),
logits, loss, grad.<name> for every parameter, and train_losses / train_norms of 10 AdamW steps with
clipping on the same batch; the config is in __metadata__.

Run: /usr/bin/python3 tests/reference/make_family_fixtures.py   (Debian python3-torch 1.13)
"""
import json, math, os, struct, sys
import numpy as np
import torch
import torch.nn.functional as F

B, T, V = 2, 16, 200
STEPS, LR, BETAS, EPS, WD, CLIP = 10, 1e-3, (0.9, 0.95), 1e-8, 0.1, 1.0
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "model", "fixtures")

VARIANTS = {
    # name: L, H, KV, D, d_ff (0 = rule), norm, position, mlp, bias, tie
    "llama":        dict(L=2, H=4, KV=2, D=32, FF=0,  norm="rmsnorm",   pos="rope",    mlp="swiglu", bias=False, tie=False),
    "llama_mqa":    dict(L=2, H=4, KV=1, D=32, FF=48, norm="rmsnorm",   pos="rope",    mlp="swiglu", bias=False, tie=True),
    "alibi":        dict(L=2, H=4, KV=4, D=32, FF=64, norm="layernorm", pos="alibi",   mlp="gelu",   bias=True,  tie=True),
    "nope":         dict(L=2, H=4, KV=4, D=32, FF=64, norm="rmsnorm",   pos="none",    mlp="gelu",   bias=False, tie=True),
    "ln_rope_swiglu": dict(L=2, H=4, KV=2, D=32, FF=40, norm="layernorm", pos="rope",  mlp="swiglu", bias=True,  tie=False),
    "learned_rms":  dict(L=2, H=2, KV=2, D=32, FF=48, norm="rmsnorm",   pos="learned", mlp="swiglu", bias=False, tie=False),
}


def d_ff(c):
    if c["FF"]:
        return c["FF"]
    if c["mlp"] == "gelu":
        return 4 * c["D"]
    h = int(8 * c["D"] / 3)
    return (h + 255) // 256 * 256


def names(c):
    D, hd = c["D"], c["D"] // c["H"]
    Q = (c["H"] + 2 * c["KV"]) * hd
    FF = d_ff(c)
    FC = 2 * FF if c["mlp"] == "swiglu" else FF
    nb = c["norm"] == "layernorm" and c["bias"]
    out = [("wte.weight", (V, D))]
    if c["pos"] == "learned":
        out.append(("wpe.weight", (T, D)))
    for l in range(c["L"]):
        p = f"h.{l}."
        out.append((p + "ln_1.weight", (D,)))
        if nb: out.append((p + "ln_1.bias", (D,)))
        out.append((p + "attn.c_attn.weight", (D, Q)))
        if c["bias"]: out.append((p + "attn.c_attn.bias", (Q,)))
        out.append((p + "attn.c_proj.weight", (D, D)))
        if c["bias"]: out.append((p + "attn.c_proj.bias", (D,)))
        out.append((p + "ln_2.weight", (D,)))
        if nb: out.append((p + "ln_2.bias", (D,)))
        out.append((p + "mlp.c_fc.weight", (D, FC)))
        if c["bias"]: out.append((p + "mlp.c_fc.bias", (FC,)))
        out.append((p + "mlp.c_proj.weight", (FF, D)))
        if c["bias"]: out.append((p + "mlp.c_proj.bias", (D,)))
    out.append(("ln_f.weight", (D,)))
    if nb: out.append(("ln_f.bias", (D,)))
    if not c["tie"]:
        out.append(("lm_head.weight", (V, D)))
    return out


def init_params(c, gen):
    ps = {}
    for n, shape in names(c):
        if len(shape) == 2:
            t = torch.randn(shape, generator=gen, dtype=torch.float64) * 0.05
        elif n.endswith("weight"):
            t = 1.0 + 0.1 * torch.randn(shape, generator=gen, dtype=torch.float64)
        else:
            t = 0.05 * torch.randn(shape, generator=gen, dtype=torch.float64)
        ps[n] = t
    ps["wte.weight"] *= 20.0 if not c["tie"] else 4.0
    return ps


def alibi_slopes(n):
    p = 2 ** math.floor(math.log2(n))
    base = 2.0 ** (-8.0 / p)
    s = [base ** (i + 1) for i in range(p)]
    if p < n:
        extra = 2.0 ** (-4.0 / p)
        s += [extra ** (2 * i + 1) for i in range(n - p)]
    return torch.tensor(s, dtype=torch.float64)


def rotate_half(x):
    x1, x2 = x[..., : x.shape[-1] // 2], x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


def norm(c, x, w, b):
    if c["norm"] == "rmsnorm":
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * w
    return F.layer_norm(x, (x.shape[-1],), w, b, 1e-5)


def forward(c, ps, idx, targets):
    Bn, Tn = idx.shape
    H, KV, D = c["H"], c["KV"], c["D"]
    hd, G, FF = D // H, H // KV, d_ff(c)
    x = ps["wte.weight"][idx]
    if c["pos"] == "learned":
        x = x + ps["wpe.weight"][:Tn]
    mask = torch.tril(torch.ones(Tn, Tn, dtype=torch.bool))
    inv = 1.0 / (10000.0 ** (torch.arange(0, hd, 2, dtype=torch.float64) / hd))
    ang = torch.arange(Tn, dtype=torch.float64)[:, None] * inv[None, :]
    emb = torch.cat((ang, ang), dim=-1)
    cos, sin = emb.cos(), emb.sin()
    pos = torch.arange(Tn, dtype=torch.float64)
    alibi = alibi_slopes(H)[:, None, None] * (pos[None, None, :] - pos[None, :, None])  # (H, i, j): s*(j-i)
    g = lambda n: ps.get(n)
    for l in range(c["L"]):
        p = lambda s: g(f"h.{l}.{s}")
        h = norm(c, x, p("ln_1.weight"), p("ln_1.bias"))
        qkv = h @ p("attn.c_attn.weight")
        if c["bias"]: qkv = qkv + p("attn.c_attn.bias")
        q, k, v = qkv.split([H * hd, KV * hd, KV * hd], dim=2)
        q = q.view(Bn, Tn, H, hd).transpose(1, 2)
        k = k.view(Bn, Tn, KV, hd).transpose(1, 2)
        v = v.view(Bn, Tn, KV, hd).transpose(1, 2)
        if c["pos"] == "rope":
            q = q * cos + rotate_half(q) * sin
            k = k * cos + rotate_half(k) * sin
        k = k.repeat_interleave(G, dim=1)
        v = v.repeat_interleave(G, dim=1)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(hd))
        if c["pos"] == "alibi":
            att = att + alibi[None]
        att = att.masked_fill(~mask, float("-inf")).softmax(dim=-1)
        y = (att @ v).transpose(1, 2).contiguous().view(Bn, Tn, D)
        y = y @ p("attn.c_proj.weight")
        if c["bias"]: y = y + p("attn.c_proj.bias")
        x = x + y
        h = norm(c, x, p("ln_2.weight"), p("ln_2.bias"))
        h = h @ p("mlp.c_fc.weight")
        if c["bias"]: h = h + p("mlp.c_fc.bias")
        if c["mlp"] == "swiglu":
            h = F.silu(h[..., :FF]) * h[..., FF:]
        else:
            h = F.gelu(h, approximate="tanh")
        h = h @ p("mlp.c_proj.weight")
        if c["bias"]: h = h + p("mlp.c_proj.bias")
        x = x + h
    x = norm(c, x, ps["ln_f.weight"], ps.get("ln_f.bias"))
    head = ps["wte.weight"] if c["tie"] else ps["lm_head.weight"]
    logits = x @ head.t()
    loss = F.cross_entropy(logits.reshape(-1, V), targets.reshape(-1)) if targets is not None else None
    return logits, loss


def write_safetensors(path, tensors, metadata=None):
    header, blobs, off = {}, [], 0
    for n in sorted(tensors):
        a = np.ascontiguousarray(tensors[n])
        dt = {np.dtype(np.float32): "F32", np.dtype(np.int32): "I32", np.dtype(np.float64): "F64"}[a.dtype]
        b = a.astype(a.dtype.newbyteorder("<")).tobytes()
        header[n] = {"dtype": dt, "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    if metadata:
        header["__metadata__"] = metadata
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def train(c, ps0, idx, tgt):
    ps = {n: t.detach().clone().requires_grad_(True) for n, t in ps0.items()}
    nm = [n for n, _ in names(c)]
    decay = [ps[n] for n in nm if ps[n].dim() == 2]
    nodecay = [ps[n] for n in nm if ps[n].dim() < 2]
    opt = torch.optim.AdamW([dict(params=decay, weight_decay=WD), dict(params=nodecay, weight_decay=0.0)],
                            lr=LR, betas=BETAS, eps=EPS, foreach=False)
    losses, norms = [], []
    for _ in range(STEPS):
        opt.zero_grad(set_to_none=True)
        _, loss = forward(c, ps, idx, tgt)
        loss.backward()
        norms.append(float(torch.nn.utils.clip_grad_norm_([ps[n] for n in nm], CLIP)))
        opt.step()
        losses.append(loss.item())
    return losses, norms


def main():
    torch.set_num_threads(1)
    for vi, (vname, c) in enumerate(VARIANTS.items()):
        gen = torch.Generator().manual_seed(100 + vi)
        ps = {n: t.float().double() for n, t in init_params(c, gen).items()}
        idx = torch.randint(0, V, (B, T), generator=gen)
        tgt = torch.randint(0, V, (B, T), generator=gen)
        tgt[0, 3] = -100  # an ignored target (lmc: < 0)
        leaf = {n: t.clone().requires_grad_(True) for n, t in ps.items()}
        logits, loss = forward(c, leaf, idx, tgt)
        loss.backward()
        ref = {"inputs": idx.int().numpy(), "targets": tgt.int().numpy(),
               "logits": logits.detach().float().numpy(), "loss": np.array([loss.item()], np.float64)}
        for n, _ in names(c):
            ref["p." + n] = ps[n].float().numpy()
            ref["grad." + n] = leaf[n].grad.float().numpy()
        l64, n64 = train(c, ps, idx, tgt)
        ref["train_losses"] = np.array(l64, np.float64)
        ref["train_norms"] = np.array(n64, np.float64)
        meta = {"n_layer": str(c["L"]), "n_head": str(c["H"]), "n_kv_head": str(c["KV"]), "d_model": str(c["D"]),
                "d_ff": str(c["FF"]), "seq_len": str(T), "vocab_size": str(V), "norm": c["norm"],
                "position": c["pos"], "mlp": c["mlp"], "bias": str(c["bias"]).lower(),
                "tie_embeddings": str(c["tie"]).lower(), "norm_eps": "1e-5", "rope_theta": "10000"}
        write_safetensors(os.path.join(OUT, f"family_{vname}.safetensors"), ref, meta)
        print(vname, "loss", loss.item(), "train", l64[0], "->", l64[-1], file=sys.stderr)


if __name__ == "__main__":
    main()
