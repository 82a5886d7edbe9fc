#!/usr/bin/env python3
"""Fixtures for the kl-shampoo / kl-soap cases of tests/optim/test_optim_ref.c: 10 steps on the same tiny
GPT-2 parameter set and gradient sequence as make_optim_fixtures.py (read from the committed
tests/optim/fixtures/model.safetensors, so the two scripts cannot drift apart).

There is no PyPI package of the paper's algorithm (Lin, Lowe, Dangel, Eschenhagen, Xu, Grosse,
"Understanding and Improving Shampoo and SOAP via Kullback-Leibler Minimization", ICLR 2026), so the
reference below is written here from the paper's update rules (TECHNIQUES.md section 6c, the 2-D case):

  first call: S_a = (1-b) G G^T / d_b, S_b = (1-b) G^T G / d_a; Q = eigenvectors (descending);
              lambda_a = lambda_b = init_factor; no parameter update
  each call, t = 1, 2, ...:
    kl-shampoo: m = lerp(m, G, 1-b1);  N = Q_a ((Q_a^T m Q_b) * s) Q_b^T,
                s = outer(lambda_a^-1/2, lambda_b^-1/2), s = s / (1 + eps s)
    kl-soap:    G' = Q_a^T G Q_b; m = lerp(m, G', 1-b1); v = lerp(v, G'^2, 1-b2);
                N = Q_a (m / (sqrt(v) + eps)) Q_b^T     (no bias correction, as the paper's code)
    W -= lr N;  W -= lr wd W
    kl-soap, t % f == 0: m back to the parameter basis (re-projected after the refresh below)
    S_a = b S_a + (1-b)/d_b G S_b^-1 G^T,  S_b^-1 = Q_b diag(1/lambda_b) Q_b^T  (old lambdas)
    S_b = b S_b + (1-b)/d_a G^T S_a^-1 G
    H = Q_a^T G Q_b;  lambda_a = lerp(lambda_a, mean_j H_ij^2 / lambda_b[j], 1-b), lambda_b likewise
    lambda^-1/2 clamped to <= max(10, min(d, clamp)); the clamped value is the state (lambda = its -2 power)
    t % f == 0: Q = qr(S Q).Q  (one power iteration; no re-sorting, unlike SOAP)

with b = shampoo_beta (< 0: b2). One extension, as in SOAP: a side longer than max_precond_dim keeps
Q = I (a diagonal Kronecker factor: lambda is still estimated by the rule above, S and the QR are
skipped). The fixture uses max_precond_dim 8: every rotated side is an 8x8 factor of full rank from
the first gradient (no degenerate eigenvalue, so the eigenbasis is unique up to column signs, which
neither update depends on: see src/optim/kl.c). The paper's code computes in bf16 except QR/eigh;
this reference and lmc run fp32. 1-D tensors run torch.optim.AdamW (the paper's code preconditions
matrices only).

Checked once (not committed, it is not on PyPI): with max_precond_dim large and fp32, this reference
equals github.com/yorkerlin/KL-Methods optim/kl_opt.py (KLOpt, using_klsoap False/True) to rounding.
heavyball 3.2.1's KLShampoo/KLSOAP are a different variant (eigenvalues re-read as diag(Q^T S Q)
instead of the per-step EMA, a bias-corrected factor beta, GG seeded with init_factor I, factor-norm
balancing) and are not the reference.

Run: /work/venv-torch/bin/python tests/reference/make_optim_kl_fixtures.py  (writes tests/optim/fixtures/)
"""
import os
import torch
from safetensors.torch import load_file, save_file

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "optim", "fixtures")
STEPS = 10
model = load_file(os.path.join(OUT, "model.safetensors"))
NAMES = [k[len("init."):] for k in model if k.startswith("init.")]


def lerp(a, b, w):
    return torch.lerp(a, b, w)


class KLRef:
    """The paper's KL-Shampoo (soap=False) or KL-SOAP (soap=True) on one 2-D tensor, fp32."""

    def __init__(self, soap, h):
        self.soap, self.h, self.t = soap, h, 0
        self.beta = h["shampoo_beta"] if h["shampoo_beta"] >= 0 else h["beta2"]

    def clamp(self, s, d):
        return torch.clamp(s, max=float(max(10, min(d, self.h["clamp"])))) if self.h["clamp"] > 0 else s

    def step(self, p, G):
        h, b = self.h, self.beta
        r, c = G.shape
        dims = (r, c)
        if self.t == 0 and not hasattr(self, "Q"):
            self.rot = [d <= h["max_precond_dim"] for d in dims]
            self.S, self.Q = [], []
            for k in range(2):
                d = dims[k]
                if self.rot[k]:
                    F = (G @ G.T) / c if k == 0 else (G.T @ G) / r
                    S = torch.zeros(d, d).mul(b).add(F, alpha=1 - b)
                    _, Q = torch.linalg.eigh(S + 1e-30 * torch.eye(d))
                    self.S.append(S)
                    self.Q.append(torch.flip(Q, [1]).contiguous())
                else:
                    self.S.append(None)
                    self.Q.append(torch.eye(d))
            self.sinv = [torch.full((d,), 1.0) / torch.sqrt(torch.tensor(h["init_factor"])) for d in dims]
            self.m = torch.zeros(r, c)
            self.v = torch.zeros(r, c)
            return
        self.t += 1
        Qa, Qb = self.Q
        if self.soap:
            Gp = Qa.T @ G @ Qb
            self.m = lerp(self.m, Gp, 1 - h["beta1"])
            self.v = lerp(self.v, Gp * Gp, 1 - h["beta2"])
            N = Qa @ (self.m / (self.v.sqrt() + h["eps"])) @ Qb.T
        else:
            self.m = lerp(self.m, G, 1 - h["beta1"])
            s = torch.outer(self.sinv[0], self.sinv[1])
            s = s / (1.0 + s * h["eps"])
            N = Qa @ ((Qa.T @ self.m @ Qb) * s) @ Qb.T
        refresh = self.t % h["precondition_frequency"] == 0
        if self.soap and refresh:
            self.m = Qa @ self.m @ Qb.T
        # factor updates with the current (old) eigenvalues
        A = (G @ Qb) * self.sinv[1][None, :]          # G S_b^-1/2 in Q_b's basis
        B = (Qa.T @ G) * self.sinv[0][:, None]
        if self.rot[0]: self.S[0] = self.S[0] * b + (A @ A.T) * ((1 - b) / c)
        if self.rot[1]: self.S[1] = self.S[1] * b + (B.T @ B) * ((1 - b) / r)
        H = Qa.T @ G @ Qb
        dl = ((H * self.sinv[1][None, :]) ** 2).mean(1)
        dr = ((H * self.sinv[0][:, None]) ** 2).mean(0)
        for k, dg in ((0, dl), (1, dr)):
            D = torch.nan_to_num(1.0 / self.sinv[k] ** 2, nan=0.0, posinf=0.0, neginf=0.0)
            D = lerp(D, dg, 1 - b)
            sv = torch.nan_to_num(1.0 / torch.sqrt(D), nan=0.0, posinf=0.0, neginf=0.0)
            self.sinv[k] = self.clamp(sv, dims[k])
        if refresh:
            for k in range(2):
                if self.rot[k]:
                    self.Q[k] = torch.linalg.qr(self.S[k] @ self.Q[k])[0].contiguous()
            if self.soap:
                self.m = self.Q[0].T @ self.m @ self.Q[1]
        with torch.no_grad():
            p.add_(N, alpha=-h["lr"])
            if h["weight_decay"] > 0: p.add_(p, alpha=-h["lr"] * h["weight_decay"])


def run(soap, name):
    h = dict(lr=3e-3, beta1=0.9, beta2=0.98, eps=1e-8, weight_decay=0.01, precondition_frequency=3,
             max_precond_dim=8, shampoo_beta=-1.0, init_factor=0.1, clamp=4000)
    P = {n: model[f"init.{n}"].clone() for n in NAMES}
    vec = [torch.nn.Parameter(P[n]) for n in NAMES if P[n].ndim == 1]
    vec_names = [n for n in NAMES if P[n].ndim == 1]
    adam = torch.optim.AdamW(vec, lr=h["lr"], betas=(h["beta1"], h["beta2"]), eps=h["eps"], weight_decay=0.0,
                             foreach=False)
    kl = {n: KLRef(soap, h) for n in NAMES if P[n].ndim == 2}
    out = {}
    for t in range(STEPS):
        for n in kl: kl[n].step(P[n], model[f"grad.{t + 1}.{n}"])
        for p, n in zip(vec, vec_names): p.grad = model[f"grad.{t + 1}.{n}"].clone()
        adam.step()
        for p, n in zip(vec, vec_names): P[n] = p.detach()
        for n in NAMES: out[f"step.{t + 1}.{n}"] = P[n].clone().contiguous()
    meta = dict(h, optimizer="kl-soap" if soap else "kl-shampoo")
    save_file(out, os.path.join(OUT, name), metadata={k: repr(v) if isinstance(v, float) else str(v) for k, v in meta.items()})


run(False, "kl-shampoo.safetensors")
run(True, "kl-soap.safetensors")
print("wrote", OUT)
