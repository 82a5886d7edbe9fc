#!/usr/bin/env python3
"""PyTorch peer of bench/optim_step.c: the same GPT-2 parameter shapes (lmc's view table, weights as
[out, in] for the block matrices), random gradients, one optimizer step per reference implementation,
median step time. Same thread count via --threads (torch.set_num_threads).
usage: /work/venv-torch/bin/python bench/optim_step.py --config S --steps 5 --threads 1 [--soap-ref DIR]
       [--soap-max-dim 10000] [--galore-rank 128]
  (--soap-ref: a checkout of github.com/nikhilvyas/SOAP for its soap.py; without it SOAP is skipped)
kl-shampoo / kl-soap: heavyball's KLShampoo / KLSOAP (the only packaged implementations; a variant of the
paper's algorithm, see tests/reference/make_optim_kl_fixtures.py, with the same per-step work: two
factor updates, the projections, a QR every 10 steps) on every 2-D tensor, torch.optim.AdamW on 1-D."""
import argparse, statistics, sys, time
import torch

CONFIGS = {"S": dict(L=6, d=384, T=256, V=8192), "M": dict(L=12, d=768, T=1024, V=50257)}
ap = argparse.ArgumentParser()
ap.add_argument("--config", default="S")
ap.add_argument("--steps", type=int, default=5)
ap.add_argument("--threads", type=int, default=1)
ap.add_argument("--soap-ref", default=None)
ap.add_argument("--galore-rank", type=int, default=128)
ap.add_argument("--soap-max-dim", type=int, default=10000)
a = ap.parse_args()
torch.set_num_threads(a.threads)
c = CONFIGS[a.config]
L, d, T, V = c["L"], c["d"], c["T"], c["V"]
shapes = [("wte", (V, d), False), ("wpe", (T, d), False)]
for l in range(L):
    shapes += [(f"h{l}.ln1w", (d,), False), (f"h{l}.ln1b", (d,), False), (f"h{l}.qkv", (3 * d, d), True),
               (f"h{l}.qkvb", (3 * d,), False), (f"h{l}.proj", (d, d), True), (f"h{l}.projb", (d,), False),
               (f"h{l}.ln2w", (d,), False), (f"h{l}.ln2b", (d,), False), (f"h{l}.fc", (4 * d, d), True),
               (f"h{l}.fcb", (4 * d,), False), (f"h{l}.fcproj", (d, 4 * d), True), (f"h{l}.fcprojb", (d,), False)]
shapes += [("lnfw", (d,), False), ("lnfb", (d,), False)]
g = torch.Generator().manual_seed(0)
P = [(n, torch.nn.Parameter(0.02 * torch.randn(s, generator=g)), blk) for n, s, blk in shapes]
for _, p, _ in P: p.grad = 1e-3 * (torch.rand(p.shape, generator=g) - 0.5)
mat = [p for _, p, b in P if b]; other2 = [p for _, p, b in P if not b and p.ndim == 2]; vec = [p for _, p, b in P if p.ndim == 1]
def grp(wd_params, nd_params, **kw):
    return [dict(params=wd_params, weight_decay=0.1, **kw), dict(params=nd_params, weight_decay=0.0)]

makers = {
    "adamw": lambda: [torch.optim.AdamW(grp(mat + other2, vec), lr=1e-3, betas=(0.9, 0.95))],
    "sf-adamw": None, "muon": lambda: [torch.optim.Muon(mat, lr=1e-3, adjust_lr_fn="match_rms_adamw"),
                                       torch.optim.AdamW(grp(other2, vec), lr=1e-3, betas=(0.9, 0.95))],
    "soap": None, "galore": None, "kl-shampoo": None, "kl-soap": None,
}
try:
    import schedulefree
    def sf():
        o = schedulefree.AdamWScheduleFree(grp(mat + other2, vec), lr=1e-3, betas=(0.9, 0.95))
        o.train()
        return [o]
    makers["sf-adamw"] = sf
except ImportError: pass
if a.soap_ref:
    sys.path.insert(0, a.soap_ref)
    from soap import SOAP
    makers["soap"] = lambda: [SOAP(grp(mat + other2, vec), lr=1e-3, betas=(0.9, 0.95), shampoo_beta=0.95,
                                   precondition_frequency=10, max_precond_dim=a.soap_max_dim)]
try:
    from galore_torch import GaLoreAdamW
    makers["galore"] = lambda: [GaLoreAdamW([dict(params=mat, rank=a.galore_rank, update_proj_gap=200, scale=0.25,
                                                  proj_type="std", weight_decay=0.1),
                                             dict(params=other2, weight_decay=0.1), dict(params=vec, weight_decay=0.0)],
                                            lr=1e-3, no_deprecation_warning=True)]
except ImportError: pass
try:
    import heavyball
    def kl(cls):
        return lambda: [cls(mat + other2, lr=1e-3, betas=(0.9, 0.95), shampoo_beta=0.95, weight_decay=0.1,
                            precondition_frequency=10, max_precond_dim=a.soap_max_dim, use_precond_schedule=False),
                        torch.optim.AdamW(vec, lr=1e-3, betas=(0.9, 0.95), weight_decay=0.0)]
    makers["kl-shampoo"], makers["kl-soap"] = kl(heavyball.KLShampoo), kl(heavyball.KLSOAP)
except ImportError: pass
print(f"config {a.config}: {sum(p.numel() for _, p, _ in P):,} parameters, {a.threads} threads, torch {torch.__version__}")
print("| optimizer | step ms (median) | first step ms |\n|---|---|---|")
# heavyball's optimizers consume p.grad (set it to None after a step), so a second step would find no
# gradient and return at once: every step gets the same gradients back, outside the timed region.
grads = [(p, p.grad.clone()) for _, p, _ in P]
def regrad():
    for p, g in grads:
        if p.grad is None: p.grad = g.clone()
for name, mk in makers.items():
    if mk is None: continue
    opts = mk()
    regrad()
    t0 = time.perf_counter()
    for o in opts: o.step()
    first = time.perf_counter() - t0
    ts = []
    for _ in range(a.steps):
        regrad()
        t0 = time.perf_counter()
        for o in opts: o.step()
        ts.append(time.perf_counter() - t0)
    print(f"| {name} | {1e3 * statistics.median(ts):.1f} | {1e3 * first:.1f} |")
