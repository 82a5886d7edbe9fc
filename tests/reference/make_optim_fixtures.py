#!/usr/bin/env python3
"""Fixtures for tests/optim/test_optim_ref.c: 10 optimizer steps on a tiny GPT-2-layout parameter set
(the view table of lmc's gpt2_model for V=32, d=8, n_head=2, max_seq=8, 1 layer) from fixed weights
and a fixed gradient sequence, through the reference implementations:

  adamw.safetensors        torch.optim.AdamW (decay on the 2-D tensors only, as lmc)
  sf-adamw.safetensors     schedulefree.AdamWScheduleFree (package schedulefree), two param groups
                           (weight decay on 2-D tensors, none on the rest); y after each step and the
                           evaluation point x (optimizer.eval()) after the last
  sf-adamw-refined.safetensors  "Through the River" refined SF, a reference written here from the paper
                           (explicit x, y, z; C = 20 so the clip c_t = 1 acts for the first steps only)
  muon.safetensors         torch.optim.Muon (adjust_lr_fn="match_rms_adamw", nesterov) on the 2-D
                           block weights + torch.optim.AdamW on the rest, a varying lr schedule
  muon-original.safetensors  the same with adjust_lr_fn="original", nesterov off, muon lr 0.02

  galore.safetensors       galore_torch.GaLoreAdamW (rank 3, update_proj_gap 4, scale 0.25, proj_type std;
                           singular vectors sign-normalised as lmc does, see _canon_gom)
                           on the 2-D block weights (seen as [out, in]), the same Adam unprojected on the rest
  galore-importance.safetensors  the same with SARA's importance-sampled subspace (a reference written
                           here from the paper: there is no package), see mk_galore_imp
  soap.safetensors         the SOAP authors' soap.py (github.com/nikhilvyas/SOAP, not on PyPI: set
                           SOAP_REF_DIR to a checkout; without it the committed soap fixture is kept),
                           max_precond_dim 8 so every rotated side is an 8x8 factor of full rank (no
                           degenerate eigenvalues, so the eigenbasis is unique up to signs, which the
                           update does not depend on), precondition_frequency 3

torch.optim.Muon casts to bfloat16 inside _zeropower_via_newtonschulz; for an fp32 comparison the
module's `torch.bfloat16` is redirected to float32 while generating (the code path is otherwise the
package's own). The bf16 trajectory's distance from the fp32 one is printed for the docs.

Weights are stored in lmc's layout ([in, out] Conv1D); torch's Muon sees the transposes ([out, in],
nn.Linear's), as it would in an HF/PyTorch model.

Run: /work/venv-torch/bin/python tests/reference/make_optim_fixtures.py  (writes tests/optim/fixtures/)
"""
import os, sys, math
import torch
from safetensors.torch import save_file
import schedulefree
import torch.optim._muon as muon_mod

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "optim", "fixtures")
V, D, T, F = 32, 8, 8, 32
STEPS = 10

def views():
    v = [("wte.weight", (V, D)), ("wpe.weight", (T, D))]
    for l in range(1):
        p = f"h.{l}."
        v += [(p + "ln_1.weight", (D,)), (p + "ln_1.bias", (D,)),
              (p + "attn.c_attn.weight", (D, 3 * D)), (p + "attn.c_attn.bias", (3 * D,)),
              (p + "attn.c_proj.weight", (D, D)), (p + "attn.c_proj.bias", (D,)),
              (p + "ln_2.weight", (D,)), (p + "ln_2.bias", (D,)),
              (p + "mlp.c_fc.weight", (D, F)), (p + "mlp.c_fc.bias", (F,)),
              (p + "mlp.c_proj.weight", (F, D)), (p + "mlp.c_proj.bias", (D,))]
    v += [("ln_f.weight", (D,)), ("ln_f.bias", (D,))]
    return v

VIEWS = views()
def is_muon(name, shape): return len(shape) == 2 and name.startswith("h.")

g = torch.Generator().manual_seed(1234)
init = {}
for n, s in VIEWS:
    if n.endswith("ln_1.weight") or n.endswith("ln_2.weight") or n == "ln_f.weight":
        init[n] = 1.0 + 0.1 * torch.randn(s, generator=g)
    else:
        init[n] = 0.02 * torch.randn(s, generator=g) * (5.0 if len(s) == 2 else 1.0)
grads = []
for t in range(STEPS):
    gs = {}
    for n, s in VIEWS:
        x = torch.randn(s, generator=g) * (0.3 + 0.2 * t) * 0.1
        if t == 3: x = x * 0.0 + x * (torch.rand(s, generator=g) < 0.3)   # sparse step
        gs[n] = x
    grads.append(gs)

model = {f"init.{n}": init[n].contiguous() for n, _ in VIEWS}
for t in range(STEPS):
    for n, _ in VIEWS: model[f"grad.{t + 1}.{n}"] = grads[t][n].contiguous()
os.makedirs(OUT, exist_ok=True)
save_file(model, os.path.join(OUT, "model.safetensors"), metadata={"steps": str(STEPS)})

def run(make, sched, meta, name, transpose_muon=False, finish=None):
    P = {}
    for n, s in VIEWS:
        x = init[n].clone()
        if transpose_muon and is_muon(n, s): x = x.t().contiguous()
        P[n] = torch.nn.Parameter(x)
    opts = make(P)
    out = {}
    for t in range(STEPS):
        for n, s in VIEWS:
            gg = grads[t][n].clone()
            if transpose_muon and is_muon(n, s): gg = gg.t().contiguous()
            P[n].grad = gg
        sched(opts, t)
        for o in opts: o.step()
        for n, s in VIEWS:
            x = P[n].detach()
            if transpose_muon and is_muon(n, s): x = x.t()
            out[f"step.{t + 1}.{n}"] = x.clone().contiguous()
    if finish: finish(opts, P, out)
    save_file(out, os.path.join(OUT, name), metadata={k: repr(v) if isinstance(v, float) else str(v) for k, v in meta.items()})
    return out

def groups(P, pred):
    return [P[n] for n, s in VIEWS if pred(n, s)]

# ---- adamw ----
A = dict(lr=1e-2, beta1=0.9, beta2=0.95, eps=1e-8, weight_decay=0.1)
def mk_adamw(P):
    return [torch.optim.AdamW([{"params": groups(P, lambda n, s: len(s) == 2), "weight_decay": A["weight_decay"]},
                               {"params": groups(P, lambda n, s: len(s) != 2), "weight_decay": 0.0}],
                              lr=A["lr"], betas=(A["beta1"], A["beta2"]), eps=A["eps"], foreach=False)]
run(mk_adamw, lambda o, t: None, dict(A, optimizer="adamw"), "adamw.safetensors")

# ---- sf-adamw ----
S = dict(lr=1e-2, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.1, warmup_steps=3, r=0.5, weight_lr_power=2.0)
def mk_sf(P):
    o = schedulefree.AdamWScheduleFree(
        [{"params": groups(P, lambda n, s: len(s) == 2), "weight_decay": S["weight_decay"]},
         {"params": groups(P, lambda n, s: len(s) != 2), "weight_decay": 0.0}],
        lr=S["lr"], betas=(S["beta1"], S["beta2"]), eps=S["eps"], warmup_steps=S["warmup_steps"], r=S["r"],
        weight_lr_power=S["weight_lr_power"])
    o.train()
    return [o]
def sf_finish(opts, P, out):
    opts[0].eval()
    for n, _ in VIEWS: out[f"x.{n}"] = P[n].detach().clone().contiguous()
run(mk_sf, lambda o, t: None, dict(S, optimizer="sf-adamw"), "sf-adamw.safetensors", finish=sf_finish)

# ---- sf-adamw-refined ("Through the River", Song, Baek, Ahn, Yun 2025; no package): written here from
# the paper as explicit z, x, y sequences (the layout of schedulefree's AdamWScheduleFreeReference, a
# different code path from the memory-light form lmc and AdamWScheduleFree use), with the averaging
# weight c_t = min(1, (1 - beta1) C / t), t = k + 1 (the clip at 1 and this indexing are our reading). ----
class RefinedSF(torch.optim.Optimizer):
    def __init__(self, params, lr, betas, eps, weight_decay, warmup_steps, C):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      warmup_steps=warmup_steps, C=C, k=0))
    @torch.no_grad()
    def step(self):
        for gr in self.param_groups:
            k, (b1, b2) = gr["k"], gr["betas"]
            lr = gr["lr"] * ((k + 1) / gr["warmup_steps"] if k < gr["warmup_steps"] else 1.0)
            c = min(1.0, (1 - b1) * gr["C"] / (k + 1))
            bc2 = 1 - b2 ** (k + 1)
            for p in gr["params"]:
                st = self.state[p]
                if not st:
                    st["z"], st["x"], st["v"] = p.clone(), p.clone(), torch.zeros_like(p)
                z, x, v, y = st["z"], st["x"], st["v"], p
                if gr["weight_decay"]: z.sub_(y, alpha=lr * gr["weight_decay"])   # decay at y
                v.mul_(b2).addcmul_(p.grad, p.grad, value=1 - b2)
                z.addcdiv_(p.grad, v.div(bc2).sqrt_().add_(gr["eps"]), value=-lr)
                x.mul_(1 - c).add_(z, alpha=c)
                y.copy_(x.mul(b1).add_(z, alpha=1 - b1))
            gr["k"] = k + 1
    @torch.no_grad()
    def eval_point(self, P):
        for n, _ in VIEWS: P[n].copy_(self.state[P[n]]["x"])
R = dict(lr=1e-2, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.1, warmup_steps=3, C=20.0, r=0.0, weight_lr_power=2.0)
def mk_rsf(P):
    return [RefinedSF([{"params": groups(P, lambda n, s: len(s) == 2), "weight_decay": R["weight_decay"]},
                       {"params": groups(P, lambda n, s: len(s) != 2), "weight_decay": 0.0}],
                      lr=R["lr"], betas=(R["beta1"], R["beta2"]), eps=R["eps"], weight_decay=R["weight_decay"],
                      warmup_steps=R["warmup_steps"], C=R["C"])]
def rsf_finish(opts, P, out):
    opts[0].eval_point(P)
    for n, _ in VIEWS: out[f"x.{n}"] = P[n].detach().clone().contiguous()
run(mk_rsf, lambda o, t: None, dict(R, optimizer="sf-adamw-refined"), "sf-adamw-refined.safetensors", finish=rsf_finish)

# ---- muon ----
class Fp32Torch:
    """torch with bfloat16 -> float32, for the Newton-Schulz of torch.optim._muon only."""
    bfloat16 = torch.float32
    def __getattr__(self, k): return getattr(torch, k)

def lr_factor(t): return 0.5 + 0.1 * t

def muon_case(M, fname, fp32=True):
    def mk(P):
        mu = torch.optim.Muon(groups(P, is_muon), lr=M["muon_lr_eff"], weight_decay=M["muon_weight_decay"],
                              momentum=M["muon_momentum"], nesterov=M["muon_nesterov"] == "true",
                              eps=M["muon_eps"], ns_steps=M["muon_ns_steps"], adjust_lr_fn=M["muon_adjust_lr"])
        ad = torch.optim.AdamW([{"params": groups(P, lambda n, s: len(s) == 2 and not is_muon(n, s)),
                                 "weight_decay": M["weight_decay"]},
                                {"params": groups(P, lambda n, s: len(s) != 2), "weight_decay": 0.0}],
                               lr=M["lr"], betas=(M["beta1"], M["beta2"]), eps=M["eps"], foreach=False)
        return [mu, ad]
    def sched(opts, t):
        for gr in opts[0].param_groups: gr["lr"] = M["muon_lr_eff"] * lr_factor(t)
        for gr in opts[1].param_groups: gr["lr"] = M["lr"] * lr_factor(t)
    saved = muon_mod.torch
    if fp32: muon_mod.torch = Fp32Torch()
    try:
        return run(mk, sched, dict(M, optimizer="muon", lr_schedule="0.5+0.1*t"), fname, transpose_muon=True)
    finally:
        muon_mod.torch = saved

M1 = dict(lr=1e-2, beta1=0.9, beta2=0.95, eps=1e-8, weight_decay=0.1, muon_lr=0.0, muon_lr_eff=1e-2,
          muon_momentum=0.95, muon_nesterov="true", muon_ns_steps=5, muon_weight_decay=0.1, muon_eps=1e-7,
          muon_adjust_lr="match_rms_adamw")
r32 = muon_case(M1, "muon.safetensors")
M2 = dict(M1, muon_lr=0.02, muon_lr_eff=0.02, muon_nesterov="false", muon_adjust_lr="original", muon_ns_steps=4)
muon_case(M2, "muon-original.safetensors")
# how far torch's own bf16 Newton-Schulz lands from the fp32 one (for the docs; not a fixture)
r16 = muon_case(M1, "muon-bf16.tmp.safetensors", fp32=False)
os.remove(os.path.join(OUT, "muon-bf16.tmp.safetensors"))
num = sum(float((r16[k] - r32[k]).pow(2).sum()) for k in r32 if k.startswith("step.10."))
den = sum(float(r32[k].pow(2).sum()) for k in r32 if k.startswith("step.10."))
print(f"muon after 10 steps: ||bf16 NS - fp32 NS|| / ||fp32|| = {math.sqrt(num / den):.3e}")

# ---- galore (galore-torch GaLoreAdamW, proj_type std) on the 2-D block weights, the rest in the same
# optimizer without projection, as galore-torch's examples group them ----
from galore_torch import GaLoreAdamW
from galore_torch.galore_projector import GaLoreProjector
_orig_gom = GaLoreProjector.get_orthogonal_matrix
def _canon_gom(self, weights, rank, type):
    """galore-torch's projector with sign-normalised singular vectors (largest-|.| entry positive), as
    lmc does: the SVD's signs differ between LAPACK builds, and GaLore's moments carry over a subspace
    switch, so without a convention the trajectory after the first switch depends on the build."""
    M = _orig_gom(self, weights, rank, type)
    if type == "right":   # rows are the vectors
        idx = M.abs().argmax(dim=1)
        sg = torch.sign(M[torch.arange(M.shape[0]), idx])
        return M * sg[:, None]
    if type == "left":    # columns are the vectors
        idx = M.abs().argmax(dim=0)
        sg = torch.sign(M[idx, torch.arange(M.shape[1])])
        return M * sg[None, :]
    raise ValueError(type)
GaLoreProjector.get_orthogonal_matrix = _canon_gom
Gp = dict(lr=1e-2, beta1=0.9, beta2=0.999, eps=1e-6, weight_decay=0.1, rank=3, update_proj_gap=4, scale=0.25)
def mk_galore(P):
    return [GaLoreAdamW([{"params": groups(P, is_muon), "rank": Gp["rank"], "update_proj_gap": Gp["update_proj_gap"],
                          "scale": Gp["scale"], "proj_type": "std", "weight_decay": Gp["weight_decay"]},
                         {"params": groups(P, lambda n, s: len(s) == 2 and not is_muon(n, s)), "weight_decay": Gp["weight_decay"]},
                         {"params": groups(P, lambda n, s: len(s) != 2), "weight_decay": 0.0}],
                        lr=Gp["lr"], betas=(Gp["beta1"], Gp["beta2"]), eps=Gp["eps"], no_deprecation_warning=True)]
run(mk_galore, lambda o, t: None, dict(Gp, optimizer="galore"), "galore.safetensors", transpose_muon=True)

# ---- galore with the importance-sampled subspace (SARA, Zhang et al. NeurIPS 2025; no official code,
# so this reference is written here from the paper): k of the singular vectors drawn without
# replacement with probability proportional to sigma_i (Efraimidis-Spirakis keys log(u)/sigma), u from
# the same splitmix64 hash of (seed, view index, refresh count, i) lmc uses, chosen vectors in
# ascending index order, sign-normalised as above; the rest is galore-torch unchanged. ----
M64 = (1 << 64) - 1
def mix64(x):
    x = (x + 0x9E3779B97F4A7C15) & M64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & M64
    return x ^ (x >> 31)
def uniform_key(seed, view, refresh, i):
    x = mix64(mix64(mix64(mix64(seed) ^ view) ^ refresh) ^ i)
    return ((x >> 11) + 0.5) / 9007199254740992.0
Gi = dict(Gp, subspace="importance", seed=1337, rank=3)
def importance_gom(self, weights, rank, type):
    U, sv, Vh = torch.linalg.svd(weights.data.float(), full_matrices=False)
    keys = [math.log(uniform_key(Gi["seed"], self.view_index, self.refreshes, i)) / float(sv[i]) if sv[i] > 0
            else -math.inf for i in range(sv.shape[0])]
    order = sorted(range(len(keys)), key=lambda i: (-keys[i], i))[:rank]
    sel = torch.tensor(sorted(order))
    self.refreshes += 1
    M = Vh[sel, :] if type == "right" else U[:, sel]
    return _canon_sign(M, type)
def _canon_sign(M, type):
    if type == "right":
        sg = torch.sign(M[torch.arange(M.shape[0]), M.abs().argmax(dim=1)])
        return M * sg[:, None]
    sg = torch.sign(M[M.abs().argmax(dim=0), torch.arange(M.shape[1])])
    return M * sg[None, :]
def mk_galore_imp(P):
    opts = mk_galore(P)
    for i, (n, s) in enumerate(VIEWS):
        if is_muon(n, s):
            pr = GaLoreProjector(Gi["rank"], update_proj_gap=Gi["update_proj_gap"], scale=Gi["scale"], proj_type="std")
            pr.view_index, pr.refreshes = i, 0
            pr.get_orthogonal_matrix = importance_gom.__get__(pr)
            opts[0].state[P[n]]["projector"] = pr
    return opts
run(mk_galore_imp, lambda o, t: None, dict(Gi, optimizer="galore"), "galore-importance.safetensors", transpose_muon=True)

# ---- soap (the authors' reference) ----
ref = os.environ.get("SOAP_REF_DIR")
if ref:
    sys.path.insert(0, ref)
    from soap import SOAP
    Sp = dict(lr=3e-3, beta1=0.95, beta2=0.95, eps=1e-8, weight_decay=0.01, precondition_frequency=3,
              max_precond_dim=8, shampoo_beta=-1.0)
    def mk_soap(P):
        return [SOAP([{"params": groups(P, lambda n, s: len(s) == 2), "weight_decay": Sp["weight_decay"]},
                      {"params": groups(P, lambda n, s: len(s) != 2), "weight_decay": 0.0}],
                     lr=Sp["lr"], betas=(Sp["beta1"], Sp["beta2"]), shampoo_beta=Sp["shampoo_beta"], eps=Sp["eps"],
                     precondition_frequency=Sp["precondition_frequency"], max_precond_dim=Sp["max_precond_dim"])]
    run(mk_soap, lambda o, t: None, dict(Sp, optimizer="soap"), "soap.safetensors")
else:
    print("SOAP_REF_DIR not set: soap.safetensors left as it is")
print("wrote", OUT)
