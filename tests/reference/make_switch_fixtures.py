#!/usr/bin/python3
"""Writes the research-switch fixtures (tests/model/fixtures/switch_<variant>.safetensors) for
tests/model/test_switch_ref.c: LayerNorm Scaling, the learnable Hermite / Fourier / tropical
activations and multi-token prediction heads, on top of the family reference of
make_family_fixtures.py (same weights layout, names, float64 math, file format).

- LNS (Sun et al., "The Curse of Depth in LLMs", NeurIPS 2025): both pre-sublayer norm outputs of
  block l (1-based) times 1/sqrt(l); the final norm is not scaled.
- Activations (Khalfaoui-Hassani & Kesselheim, ICLR 2026; torchortho): one activation per MLP with
  scalar coefficients "h.L.mlp.act.coef" replacing GELU; hermite F = sum a_k He_k/k!, fourier
  F = b + sum a_k cos(f_k x - p_k)/k!, tropical F = sqrt2/n max_k(k x + c_k).
- MTP (Gloeckle et al. 2024; LL heads of Aynetdinov & Akbik, ACL 2025): extra heads "mtp.I.weight"
  [V, d] on the final-norm output; head I predicts targets[t + I]; training loss = sum over heads of
  each head's mean CE. "loss" is the next-token loss, "loss_total" the sum, the grads are of the sum.

- anGPT (Franke et al., NeurIPS 2025): forward_angpt; its attention-sum factors by an independent numpy
  Monte Carlo (stored as "angpt.nu_att"; the C test compares lmc's own estimate with it, then runs
  with these values) and nu_act by scipy quadrature ("angpt.nu_act").

Run: /work/venv-torch/bin/python tests/reference/make_switch_fixtures.py [variant ...]
"""
import math, os, sys
import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_family_fixtures as fam  # noqa: E402

B, T, V = fam.B, fam.T, fam.V
STEPS, LR, BETAS, EPS, WD, CLIP = fam.STEPS, fam.LR, fam.BETAS, fam.EPS, fam.WD, fam.CLIP
OUT = fam.OUT

GPT2 = dict(H=4, KV=4, D=32, FF=0, norm="layernorm", pos="learned", mlp="gelu", bias=True, tie=True)
LLAMA = dict(H=4, KV=2, D=32, FF=0, norm="rmsnorm", pos="rope", mlp="swiglu", bias=False, tie=False)
VARIANTS = {
    "lns_gpt2":  dict(GPT2, L=3, lns=True, act="mlp", deg=3, mtp=0),
    "lns_llama": dict(LLAMA, L=3, lns=True, act="mlp", deg=3, mtp=0),
    "hermite":   dict(GPT2, L=2, lns=False, act="hermite", deg=3, mtp=0),
    "fourier":   dict(GPT2, L=2, lns=False, act="fourier", deg=3, mtp=0),
    "tropical":  dict(GPT2, L=2, lns=False, act="tropical", deg=4, mtp=0),
    "hermite5_lns": dict(GPT2, L=2, lns=True, act="hermite", deg=5, mtp=0, norm="rmsnorm", bias=False),
    "mtp2_llama": dict(LLAMA, L=2, lns=False, act="mlp", deg=3, mtp=2),
    "mtp3_gpt2": dict(GPT2, L=2, lns=True, act="tropical", deg=3, mtp=3),
    "ngpt":      dict(LLAMA, KV=4, L=2, lns=False, act="mlp", deg=3, mtp=0, ngpt=True),
    "ngpt_nope": dict(LLAMA, KV=4, L=3, lns=False, act="mlp", deg=3, mtp=0, ngpt=True, pos="none", FF=48),
    "angpt":     dict(LLAMA, KV=4, L=2, lns=False, act="mlp", deg=3, mtp=0, angpt=True, qk=True, FF=80),
    "angpt_noqk": dict(LLAMA, KV=4, L=3, lns=False, act="mlp", deg=3, mtp=0, angpt=True, qk=False, pos="none", FF=48),
}
ANGPT_DRAWS = 200000  # Monte Carlo draws of the attention-sum factor (lmc's own estimate uses 256)


def ncoef(c):
    n = c["deg"]
    return {"mlp": 0, "hermite": n + 1, "fourier": 3 * n + 1, "tropical": n + 1}[c["act"]]


def names(c):
    out = fam.names(c)
    if c["act"] != "mlp":
        out += [(f"h.{l}.mlp.act.coef", (ncoef(c),)) for l in range(c["L"])]
    out += [(f"mtp.{i}.weight", (V, c["D"])) for i in range(1, c["mtp"] + 1)]
    if c.get("ngpt"):
        for l in range(c["L"]):
            out += [(f"h.{l}.ngpt.alpha_attn", (c["D"],)), (f"h.{l}.ngpt.alpha_mlp", (c["D"],)),
                    (f"h.{l}.ngpt.sqk", (c["D"],)), (f"h.{l}.ngpt.suv", (2 * fam.d_ff(c),))]
        out.append(("ngpt.sz", (V,)))
    if c.get("angpt"):
        hd = c["D"] // c["H"]
        for l in range(c["L"]):
            if c["qk"]:
                out += [(f"h.{l}.attn.q_norm.weight", (hd,)), (f"h.{l}.attn.k_norm.weight", (hd,))]
            out += [(f"h.{l}.angpt.alpha_attn", (c["D"],)), (f"h.{l}.angpt.alpha_mlp", (c["D"],))]
        out.append(("angpt.sz", (V,)))
    return out


def angpt_nu_att(c, n_pos):
    """anGPT's attention-sum factor per query position t (n = t+1 keys): 1/sqrt(E sum_j a_j^2) for the
    softmax of n logits scale * cos(q, k), q, k independent uniform directions in hd dimensions, scale
    sqrt(hd) with QK-norm (|q| = |k| = sqrt(hd), 1/sqrt(hd) softmax scale), 1/sqrt(hd) without (unit
    heads). numpy Monte Carlo, independent of lmc's (different generator, 200000 draws)."""
    hd = c["D"] // c["H"]
    scale = math.sqrt(hd) if c["qk"] else 1.0 / math.sqrt(hd)
    rng = np.random.default_rng(12345)
    acc = np.zeros(n_pos)
    done = 0
    while done < ANGPT_DRAWS:
        m = min(20000, ANGPT_DRAWS - done)
        q = rng.standard_normal((m, 1, hd))
        k = rng.standard_normal((m, n_pos, hd))
        cos = (q * k).sum(-1) / np.linalg.norm(q, axis=-1) / np.linalg.norm(k, axis=-1)
        w = np.exp(scale * cos)
        acc += (np.cumsum(w * w, axis=1) / np.cumsum(w, axis=1) ** 2).sum(0)
        done += m
    return 1.0 / np.sqrt(acc / ANGPT_DRAWS)


def angpt_nu_act(c):
    """nu_act = 1/sqrt(E silu(g)^2), g ~ N(0, d/d_ff) (the gate's scale at init), by adaptive quadrature."""
    from scipy import integrate
    s = math.sqrt(c["D"] / fam.d_ff(c))
    f = lambda g: (g / (1 + math.exp(-g))) ** 2 * math.exp(-0.5 * (g / s) ** 2) / (s * math.sqrt(2 * math.pi))
    val, _ = integrate.quad(f, -40 * s, 40 * s, epsabs=0, epsrel=1e-13, limit=500)
    return 1.0 / math.sqrt(val)


def forward_angpt(c, ps, idx, targets):
    """anGPT (Franke et al., NeurIPS 2025; TECHNIQUES.md 3b) as src/model/angpt.c derives its factors, in
    lmc's layout. The attention-sum factors come from c["nu_att"] (angpt_nu_att), nu_act from c["nu_act"]."""
    Bn, Tn = idx.shape
    H, D = c["H"], c["D"]
    hd, FF = D // H, fam.d_ff(c)
    base = 1.0 / math.sqrt(D)
    x = ps["wte.weight"][idx]
    mask = torch.tril(torch.ones(Tn, Tn, dtype=torch.bool))
    inv = 1.0 / (10000.0 ** (torch.arange(0, hd, 2, dtype=torch.float64) / hd))
    ang = torch.arange(Tn, dtype=torch.float64)[:, None] * inv[None, :]
    emb = torch.cat((ang, ang), dim=-1)
    cos, sin = emb.cos(), emb.sin()
    nu_att = torch.tensor(c["nu_att"][:Tn], dtype=torch.float64)
    rms = lambda t, w: t * torch.rsqrt(t.pow(2).mean(-1, keepdim=True) + 1e-5) * w
    lerp = lambda h, u, a: (h + a * (u - h)) / torch.sqrt(a * a + (1 - a) ** 2)
    for l in range(c["L"]):
        p = lambda s: ps[f"h.{l}.{s}"]
        qkv = (x @ p("attn.c_attn.weight")) * math.sqrt(D / hd)
        q, k, v = qkv.split([D, D, D], dim=2)
        q = q.view(Bn, Tn, H, hd)
        k = k.view(Bn, Tn, H, hd)
        if c["qk"]:
            q = rms(q, p("attn.q_norm.weight"))
            k = rms(k, p("attn.k_norm.weight"))
        q, k = q.transpose(1, 2), k.transpose(1, 2)
        v = v.view(Bn, Tn, H, hd).transpose(1, 2)
        if c["pos"] == "rope":
            q = q * cos + fam.rotate_half(q) * sin
            k = k * cos + fam.rotate_half(k) * sin
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(hd))
        att = att.masked_fill(~mask, float("-inf")).softmax(dim=-1)
        y = (att @ v).transpose(1, 2).contiguous().view(Bn, Tn, D) * nu_att[None, :, None]
        xA = (y @ p("attn.c_proj.weight")) * math.sqrt(hd / D)
        x = lerp(x, xA, torch.abs(p("angpt.alpha_attn") * (0.05 / base)))
        uv = x @ p("mlp.c_fc.weight")
        g = uv[..., :FF] * (math.sqrt(D / FF) * math.sqrt(D))
        u = uv[..., FF:] * math.sqrt(D / FF)
        xM = (F.silu(g) * u * c["nu_act"]) @ p("mlp.c_proj.weight")
        x = lerp(x, xM, torch.abs(p("angpt.alpha_mlp") * (0.05 / base)))
    logits = (x @ ps["lm_head.weight"].t()) * (ps["angpt.sz"] * (1.0 / base))
    loss = F.cross_entropy(logits.reshape(-1, V), targets.reshape(-1))
    return logits, loss, loss


def angpt_project(c, ps, exact=False):
    """anGPT's bound after each optimizer step (exact=True: the normalised init), on the same d-long
    vectors nGPT normalises."""
    with torch.no_grad():
        def bound(t, dim):
            n = t.norm(dim=dim, keepdim=True)
            t.copy_(t / n if exact else t / torch.clamp(n, min=1.0))
        bound(ps["wte.weight"], 1)
        bound(ps["lm_head.weight"], 1)
        for l in range(c["L"]):
            for n, dim in (("attn.c_attn.weight", 0), ("attn.c_proj.weight", 1), ("mlp.c_fc.weight", 0), ("mlp.c_proj.weight", 1)):
                bound(ps[f"h.{l}.{n}"], dim)


def justnorm(x, dim=-1):
    return x / x.norm(dim=dim, keepdim=True)


def forward_ngpt(c, ps, idx, targets):
    """nGPT (Loshchilov et al., ICLR 2025; NVIDIA/ngpt model.py) in lmc's layout (Conv1D [in, out])."""
    Bn, Tn = idx.shape
    H, D = c["H"], c["D"]
    hd, FF = D // H, fam.d_ff(c)
    base = 1.0 / math.sqrt(D)
    x = ps["wte.weight"][idx]
    mask = torch.tril(torch.ones(Tn, Tn, dtype=torch.bool))
    inv = 1.0 / (10000.0 ** (torch.arange(0, hd, 2, dtype=torch.float64) / hd))
    ang = torch.arange(Tn, dtype=torch.float64)[:, None] * inv[None, :]
    emb = torch.cat((ang, ang), dim=-1)
    cos, sin = emb.cos(), emb.sin()
    for l in range(c["L"]):
        p = lambda s: ps[f"h.{l}.{s}"]
        qkv = x @ p("attn.c_attn.weight")
        q, k, v = qkv.split([D, D, D], dim=2)
        q = q.view(Bn, Tn, H, hd).transpose(1, 2)
        k = k.view(Bn, Tn, H, hd).transpose(1, 2)
        v = v.view(Bn, Tn, H, hd).transpose(1, 2)
        if c["pos"] == "rope":
            q = q * cos + fam.rotate_half(q) * sin
            k = k * cos + fam.rotate_half(k) * sin
        sqk = (p("ngpt.sqk") * (1.0 / base)).view(1, H, 1, hd)
        q = sqk * justnorm(q)
        k = sqk * justnorm(k)
        att = (q @ k.transpose(-2, -1)) * math.sqrt(hd)
        att = att.masked_fill(~mask, float("-inf")).softmax(dim=-1)
        y = (att @ v).transpose(1, 2).contiguous().view(Bn, Tn, D)
        hA = justnorm(y @ p("attn.c_proj.weight"))
        aA = torch.abs(p("ngpt.alpha_attn") * (0.05 / base))
        x = justnorm(x + aA * (hA - x))
        uv = (x @ p("mlp.c_fc.weight")) * (p("ngpt.suv") * math.sqrt(D))
        hM = justnorm((F.silu(uv[..., :FF]) * uv[..., FF:]) @ p("mlp.c_proj.weight"))
        aM = torch.abs(p("ngpt.alpha_mlp") * (0.05 / base))
        x = justnorm(x + aM * (hM - x))
    logits = (x @ ps["lm_head.weight"].t()) * (ps["ngpt.sz"] * (1.0 / base))
    loss = F.cross_entropy(logits.reshape(-1, V), targets.reshape(-1))
    return logits, loss, loss


def ngpt_project(c, ps):
    """The weight projection after each optimizer step, on lmc's layout."""
    with torch.no_grad():
        ps["wte.weight"].copy_(justnorm(ps["wte.weight"], 1))
        ps["lm_head.weight"].copy_(justnorm(ps["lm_head.weight"], 1))
        for l in range(c["L"]):
            for n, dim in (("attn.c_attn.weight", 0), ("attn.c_proj.weight", 1), ("mlp.c_fc.weight", 0), ("mlp.c_proj.weight", 1)):
                t = ps[f"h.{l}.{n}"]
                t.copy_(justnorm(t, dim))


def init_coef(c, gen):
    n = c["deg"]
    noise = lambda k: 0.1 * torch.randn(k, generator=gen, dtype=torch.float64)
    if c["act"] == "hermite":
        a = torch.full((n + 1,), math.exp(-0.5), dtype=torch.float64)
        a[0] = math.exp(-0.5) * math.sqrt(1 - 1 / math.factorial(n))
        return a + noise(n + 1)
    if c["act"] == "fourier":
        a = 0.66232645879
        b = a * math.sqrt(1 - 1 / math.factorial(n) ** 2)
        ks = torch.arange(1, n + 1, dtype=torch.float64)
        return torch.cat([torch.tensor([b]), torch.full((n,), a, dtype=torch.float64), ks,
                          torch.full((n,), math.pi / 4, dtype=torch.float64)]) + noise(3 * n + 1)
    return 1.0 + 0.5 * torch.randn(n + 1, generator=gen, dtype=torch.float64)  # tropical: spread the argmax


def activation(c, x, coef):
    n = c["deg"]
    if c["act"] == "hermite":
        hs = [torch.ones_like(x), x]
        for k in range(1, n):
            hs.append((x * hs[k] - hs[k - 1]) / (k + 1))
        return sum(coef[k] * hs[k] for k in range(n + 1))
    if c["act"] == "fourier":
        out = coef[0] + 0 * x
        for k in range(1, n + 1):
            out = out + coef[k] * torch.cos(coef[n + k] * x - coef[2 * n + k]) / math.factorial(k)
        return out
    ks = torch.arange(n + 1, dtype=torch.float64)
    z = x[..., None] * ks + coef
    return math.sqrt(2) / n * torch.max(z, dim=-1).values


def forward(c, ps, idx, targets):
    """Returns next-token logits, next-token loss, total (summed) loss."""
    if c.get("ngpt"):
        return forward_ngpt(c, ps, idx, targets)
    if c.get("angpt"):
        return forward_angpt(c, ps, idx, targets)
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
        s = 1.0 / math.sqrt(l + 1) if c["lns"] else 1.0
        h = fam.norm(c, x, p("ln_1.weight"), p("ln_1.bias")) * s
        qkv = h @ p("attn.c_attn.weight")
        if c["bias"]: qkv = qkv + p("attn.c_attn.bias")
        q, k, v = qkv.split([H * hd, KV * hd, KV * hd], dim=2)
        q = q.view(Bn, Tn, H, hd).transpose(1, 2)
        k = k.view(Bn, Tn, KV, hd).transpose(1, 2)
        v = v.view(Bn, Tn, KV, hd).transpose(1, 2)
        if c["pos"] == "rope":
            q = q * cos + fam.rotate_half(q) * sin
            k = k * cos + fam.rotate_half(k) * sin
        k = k.repeat_interleave(G, dim=1)
        v = v.repeat_interleave(G, dim=1)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(hd))
        att = att.masked_fill(~mask, float("-inf")).softmax(dim=-1)
        y = (att @ v).transpose(1, 2).contiguous().view(Bn, Tn, D)
        y = y @ p("attn.c_proj.weight")
        if c["bias"]: y = y + p("attn.c_proj.bias")
        x = x + y
        h = fam.norm(c, x, p("ln_2.weight"), p("ln_2.bias")) * s
        h = h @ p("mlp.c_fc.weight")
        if c["bias"]: h = h + p("mlp.c_fc.bias")
        if c["mlp"] == "swiglu":
            h = F.silu(h[..., :FF]) * h[..., FF:]
        elif c["act"] != "mlp":
            h = activation(c, h, p("mlp.act.coef"))
        else:
            h = F.gelu(h, approximate="tanh")
        h = h @ p("mlp.c_proj.weight")
        if c["bias"]: h = h + p("mlp.c_proj.bias")
        x = x + h
    x = fam.norm(c, x, ps["ln_f.weight"], ps.get("ln_f.bias"))
    head = ps["wte.weight"] if c["tie"] else ps["lm_head.weight"]
    logits = x @ head.t()
    loss = F.cross_entropy(logits.reshape(-1, V), targets.reshape(-1))
    total = loss
    for i in range(1, c["mtp"] + 1):
        tg = torch.full_like(targets, -100)
        tg[:, : Tn - i] = targets[:, i:]
        li = x @ ps[f"mtp.{i}.weight"].t()
        total = total + F.cross_entropy(li.reshape(-1, V), tg.reshape(-1))
    return logits, loss, total


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
        _, loss, total = forward(c, ps, idx, tgt)
        total.backward()
        norms.append(float(torch.nn.utils.clip_grad_norm_([ps[n] for n in nm], CLIP)))
        opt.step()
        if c.get("ngpt"):
            ngpt_project(c, ps)
        if c.get("angpt"):
            angpt_project(c, ps)
        losses.append(loss.item())
    return losses, norms


def main():
    torch.set_num_threads(1)
    only = sys.argv[1:]  # optional variant names: write only those fixtures
    for vi, (vname, c) in enumerate(VARIANTS.items()):
        if only and vname not in only:
            continue
        gen = torch.Generator().manual_seed(300 + vi)
        ps = fam.init_params(c, gen)
        for l in range(c["L"]):
            if c["act"] != "mlp":
                ps[f"h.{l}.mlp.act.coef"] = init_coef(c, gen)
        for i in range(1, c["mtp"] + 1):
            ps[f"mtp.{i}.weight"] = torch.randn((V, c["D"]), generator=gen, dtype=torch.float64) * 0.5
        if c.get("ngpt"):
            base = 1.0 / math.sqrt(c["D"])
            for l in range(c["L"]):
                for n in ("alpha_attn", "alpha_mlp", "sqk"):
                    ps[f"h.{l}.ngpt.{n}"] = base * (1.0 + 0.3 * torch.randn(c["D"], generator=gen, dtype=torch.float64))
                ps[f"h.{l}.ngpt.suv"] = 1.0 + 0.3 * torch.randn(2 * fam.d_ff(c), generator=gen, dtype=torch.float64)
            ps["ngpt.sz"] = base * (1.0 + 0.3 * torch.randn(V, generator=gen, dtype=torch.float64))
            ngpt_project(c, ps)
        if c.get("angpt"):
            base = 1.0 / math.sqrt(c["D"])
            for l in range(c["L"]):
                for n in ("q_norm", "k_norm") if c["qk"] else ():
                    ps[f"h.{l}.attn.{n}.weight"] = 1.0 + 0.2 * torch.randn(c["D"] // c["H"], generator=gen, dtype=torch.float64)
                for n in ("alpha_attn", "alpha_mlp"):
                    ps[f"h.{l}.angpt.{n}"] = base * (1.0 + 0.3 * torch.randn(c["D"], generator=gen, dtype=torch.float64))
            ps["angpt.sz"] = base * (1.0 + 0.3 * torch.randn(V, generator=gen, dtype=torch.float64))
            # larger weights than the unit init so that the bound (not only the init) is exercised
            for n in list(ps):
                if ps[n].dim() == 2 and n != "wte.weight":
                    ps[n] = ps[n] * 3.0
            angpt_project(c, ps)
            c["nu_att"] = angpt_nu_att(c, T)
            c["nu_act"] = angpt_nu_act(c)
        ps = {n: t.float().double() for n, t in ps.items()}
        idx = torch.randint(0, V, (B, T), generator=gen)
        tgt = torch.randint(0, V, (B, T), generator=gen)
        tgt[0, 3] = -100
        leaf = {n: t.clone().requires_grad_(True) for n, t in ps.items()}
        logits, loss, total = forward(c, leaf, idx, tgt)
        total.backward()
        ref = {"inputs": idx.int().numpy(), "targets": tgt.int().numpy(),
               "logits": logits.detach().float().numpy(), "loss": np.array([loss.item()], np.float64),
               "loss_total": np.array([total.item()], np.float64)}
        for n, _ in names(c):
            ref["p." + n] = ps[n].float().numpy()
            g = leaf[n].grad if leaf[n].grad is not None else torch.zeros_like(leaf[n])  # nGPT: unused norm gains
            ref["grad." + n] = g.float().numpy()
        l64, n64 = train(c, ps, idx, tgt)
        ref["train_losses"] = np.array(l64, np.float64)
        ref["train_norms"] = np.array(n64, np.float64)
        if c.get("angpt"):
            ref["angpt.nu_att"] = np.array(c["nu_att"], np.float32)
            ref["angpt.nu_act"] = np.array([c["nu_act"]], np.float64)
        meta = {"n_layer": str(c["L"]), "n_head": str(c["H"]), "n_kv_head": str(c["KV"]), "d_model": str(c["D"]),
                "d_ff": str(c["FF"]), "seq_len": str(T), "vocab_size": str(V), "norm": c["norm"],
                "position": c["pos"], "mlp": c["mlp"], "bias": str(c["bias"]).lower(),
                "tie_embeddings": str(c["tie"]).lower(), "norm_eps": "1e-5", "rope_theta": "10000",
                "depth_scaling": "lns" if c["lns"] else "none", "activation": c["act"],
                "activation_degree": str(c["deg"]), "mtp_heads": str(c["mtp"]),
                "normalized": "ngpt" if c.get("ngpt") else "angpt" if c.get("angpt") else "none",
                "qk_norm": "true" if c.get("qk") else "false"}
        fam.write_safetensors(os.path.join(OUT, f"switch_{vname}.safetensors"), ref, meta)
        print(vname, "loss", loss.item(), "total", total.item(), "train", l64[0], "->", l64[-1], file=sys.stderr)


if __name__ == "__main__":
    main()
