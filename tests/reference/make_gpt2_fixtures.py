#!/usr/bin/python3
"""Writes the GPT-2 fixtures the C tests compare against (tests/model/fixtures/).

A small GPT-2 (L=2, H=4, d=64, n_positions=64, V=1000 -- not a multiple of 128, so the padded
vocabulary is exercised) written as plain PyTorch (explicit causal softmax attention, GELU-tanh,
pre-LN, tied head), with weights in HF GPT-2 names and HF Conv1D [in, out] layout.

Files (each < 2 MB):
  gpt2_tiny/config.json, gpt2_tiny/model.safetensors  HF folder ("transformer." prefix, F32, no lm_head)
  gpt2_tiny_ref.safetensors   inputs, targets (B=4, T=32), logits (B,T,V), loss, grad.<name> for every
                              parameter, the 10-step AdamW+clipping loss and grad-norm trajectories
                              (fp64 reference and fp32 PyTorch), computed in float64 unless named fp32
  gpt2_tiny_eval.bin          a llm.c uint16 token shard (1024-byte header) of 1000 tokens
  gpt2_tiny_eval.json         PyTorch's eval loss over non-overlapping windows of T=32 (all and first 200 tokens)

Run: /usr/bin/python3 tests/reference/make_gpt2_fixtures.py   (Debian python3-torch 1.13)
"""
import json, math, os, struct, sys
import numpy as np
import torch
import torch.nn.functional as F

L, H, D, NPOS, V, B, T = 2, 4, 64, 64, 1000, 4, 32
STEPS, LR, BETAS, EPS, WD, CLIP = 10, 1e-3, (0.9, 0.95), 1e-8, 0.1, 1.0
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "model", "fixtures")


def names():
    out = [("wte.weight", (V, D)), ("wpe.weight", (NPOS, D))]
    for l in range(L):
        p = f"h.{l}."
        out += [(p + "ln_1.weight", (D,)), (p + "ln_1.bias", (D,)),
                (p + "attn.c_attn.weight", (D, 3 * D)), (p + "attn.c_attn.bias", (3 * D,)),
                (p + "attn.c_proj.weight", (D, D)), (p + "attn.c_proj.bias", (D,)),
                (p + "ln_2.weight", (D,)), (p + "ln_2.bias", (D,)),
                (p + "mlp.c_fc.weight", (D, 4 * D)), (p + "mlp.c_fc.bias", (4 * D,)),
                (p + "mlp.c_proj.weight", (4 * D, D)), (p + "mlp.c_proj.bias", (D,))]
    return out + [("ln_f.weight", (D,)), ("ln_f.bias", (D,))]


def init_params(gen):
    """GPT-2 init, with LN weights/biases perturbed so their gradients are tested non-trivially."""
    ps = {}
    for n, shape in names():
        if len(shape) == 2:
            std = 0.02 / math.sqrt(2 * L) if n.endswith("c_proj.weight") else 0.02
            t = torch.randn(shape, generator=gen, dtype=torch.float64) * std
        elif n.endswith("weight"):
            t = 1.0 + 0.1 * torch.randn(shape, generator=gen, dtype=torch.float64)
        else:
            t = 0.02 * torch.randn(shape, generator=gen, dtype=torch.float64)
        ps[n] = t
    # make a few weights larger so activations are not all near zero
    ps["wte.weight"] *= 5.0
    ps["wpe.weight"] *= 3.0
    return ps


def forward(ps, idx, targets):
    Bn, Tn = idx.shape
    x = ps["wte.weight"][idx] + ps["wpe.weight"][:Tn]
    mask = torch.tril(torch.ones(Tn, Tn, dtype=torch.bool))
    for l in range(L):
        p = lambda s: ps[f"h.{l}.{s}"]
        h = F.layer_norm(x, (D,), p("ln_1.weight"), p("ln_1.bias"), 1e-5)
        qkv = h @ p("attn.c_attn.weight") + p("attn.c_attn.bias")
        q, k, v = qkv.split(D, dim=2)
        q = q.view(Bn, Tn, H, D // H).transpose(1, 2)
        k = k.view(Bn, Tn, H, D // H).transpose(1, 2)
        v = v.view(Bn, Tn, H, D // H).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(D // H))
        att = att.masked_fill(~mask, float("-inf")).softmax(dim=-1)
        y = (att @ v).transpose(1, 2).contiguous().view(Bn, Tn, D)
        x = x + y @ p("attn.c_proj.weight") + p("attn.c_proj.bias")
        h = F.layer_norm(x, (D,), p("ln_2.weight"), p("ln_2.bias"), 1e-5)
        h = F.gelu(h @ p("mlp.c_fc.weight") + p("mlp.c_fc.bias"), approximate="tanh")
        x = x + h @ p("mlp.c_proj.weight") + p("mlp.c_proj.bias")
    x = F.layer_norm(x, (D,), ps["ln_f.weight"], ps["ln_f.bias"], 1e-5)
    logits = x @ ps["wte.weight"].t()
    loss = None
    if targets is not None:
        loss = F.cross_entropy(logits.reshape(-1, V), targets.reshape(-1))
    return logits, loss


def write_safetensors(path, tensors, metadata=None):
    """Minimal spec-following writer: sorted by name, packed, header padded with spaces to 8."""
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


def train_losses(ps0, idx, tgt, dtype):
    ps = {n: t.detach().clone().to(dtype).requires_grad_(True) for n, t in ps0.items()}
    decay = [ps[n] for n, _ in names() if ps[n].dim() == 2]
    nodecay = [ps[n] for n, _ in names() if ps[n].dim() < 2]
    opt = torch.optim.AdamW([dict(params=decay, weight_decay=WD), dict(params=nodecay, weight_decay=0.0)],
                            lr=LR, betas=BETAS, eps=EPS, foreach=False)
    losses, norms = [], []
    for _ in range(STEPS):
        opt.zero_grad(set_to_none=True)
        _, loss = forward(ps, idx, tgt)
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_([ps[n] for n, _ in names()], CLIP)
        opt.step()
        losses.append(loss.item())
        norms.append(float(norm))
    return losses, norms


def main():
    torch.set_num_threads(1)
    os.makedirs(os.path.join(OUT, "gpt2_tiny"), exist_ok=True)
    gen = torch.Generator().manual_seed(1234)
    ps = init_params(gen)
    # store weights as float32 and use exactly those values (rounded) for the float64 reference
    ps = {n: t.float().double() for n, t in ps.items()}
    idx = torch.randint(0, V, (B, T), generator=gen)
    tgt = torch.randint(0, V, (B, T), generator=gen)

    with open(os.path.join(OUT, "gpt2_tiny", "config.json"), "w") as f:
        json.dump({"architectures": ["GPT2LMHeadModel"], "model_type": "gpt2", "activation_function": "gelu_new",
                   "n_layer": L, "n_head": H, "n_embd": D, "n_positions": NPOS, "n_ctx": NPOS, "vocab_size": V,
                   "layer_norm_epsilon": 1e-5, "initializer_range": 0.02, "bos_token_id": V - 1,
                   "eos_token_id": V - 1, "torch_dtype": "float32"}, f, indent=2)
    write_safetensors(os.path.join(OUT, "gpt2_tiny", "model.safetensors"),
                      {"transformer." + n: t.float().numpy() for n, t in ps.items()}, {"format": "pt"})

    leaf = {n: t.clone().requires_grad_(True) for n, t in ps.items()}
    logits, loss = forward(leaf, idx, tgt)
    loss.backward()
    ref = {"inputs": idx.int().numpy(), "targets": tgt.int().numpy(),
           "logits": logits.detach().float().numpy(), "loss": np.array([loss.item()], np.float64)}
    for n, _ in names():
        ref["grad." + n] = leaf[n].grad.float().numpy()
    l64, n64 = train_losses(ps, idx, tgt, torch.float64)
    l32, n32 = train_losses(ps, idx, tgt, torch.float32)
    ref["train_losses"] = np.array(l64, np.float64)
    ref["train_norms"] = np.array(n64, np.float64)
    ref["train_losses_fp32"] = np.array(l32, np.float64)
    ref["train_norms_fp32"] = np.array(n32, np.float64)
    write_safetensors(os.path.join(OUT, "gpt2_tiny_ref.safetensors"), ref,
                      {"lr": str(LR), "beta1": str(BETAS[0]), "beta2": str(BETAS[1]), "eps": str(EPS),
                       "weight_decay": str(WD), "clip": str(CLIP), "steps": str(STEPS)})

    # eval fixture: a token shard and PyTorch's mean loss over consecutive windows
    toks = torch.randint(0, V, (1000,), generator=gen)
    with open(os.path.join(OUT, "gpt2_tiny_eval.bin"), "wb") as f:
        hdr = [0] * 256
        hdr[0], hdr[1], hdr[2] = 20240520, 1, len(toks)
        f.write(struct.pack("<256i", *hdr))
        f.write(toks.numpy().astype("<u2").tobytes())
    res = {}
    for name, max_tokens in (("all", None), ("max200", 200)):
        nwin = (len(toks) - 1) // T
        tot, cnt = 0.0, 0
        for j in range(nwin):
            x = toks[j * T:(j + 1) * T].view(1, T)
            y = toks[j * T + 1:(j + 1) * T + 1].view(1, T)
            n_use = T if max_tokens is None else min(T, max_tokens - cnt)
            if n_use <= 0:
                break
            with torch.no_grad():
                lg, _ = forward({n: t.float() for n, t in ps.items()}, x, None)
                lp = F.cross_entropy(lg.view(-1, V).double(), y.view(-1), reduction="none")
            tot += lp[:n_use].sum().item()
            cnt += n_use
        res[name] = {"seq_len": T, "max_tokens": max_tokens, "loss": tot / cnt, "ppl": math.exp(tot / cnt),
                     "tokens": cnt}
    with open(os.path.join(OUT, "gpt2_tiny_eval.json"), "w") as f:
        json.dump(res, f, indent=2)
    print("loss", loss.item(), "train", l64[0], "->", l64[-1], "fp32", l32[-1], "eval", res, file=sys.stderr)


if __name__ == "__main__":
    main()
