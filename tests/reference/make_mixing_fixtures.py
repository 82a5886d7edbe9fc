#!/usr/bin/env python3
"""Reference for tests/train/test_mixing.c and tests/scaling/test_mix.c: the domain-weight rules of TECHNIQUES.md §11 in float64
numpy, Chameleon's kernel centred by sklearn's KernelCenterer (as LIONS-EPFL/Chameleon does) and S
from an explicit numpy inverse, so the C side (Cholesky solve via LAPACKE) is checked against a
different route to the same numbers.

MDE (§11e): L_MDE,j(α) = mean -log Σ_i α_i exp(-ℓ_i,t) over synthetic float32 per-token losses, and the
linear + MDE regression by numpy.linalg.lstsq.

Writes tests/train/fixtures/mixing.json and tests/scaling/fixtures/mde.json. Run from the repository root:
    /work/venv-torch/bin/python tests/reference/make_mixing_fixtures.py
"""
import json
import os

import numpy as np
from sklearn.preprocessing import KernelCenterer

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "tests", "train", "fixtures", "mixing.json")
OUT_MDE = os.path.join(ROOT, "tests", "scaling", "fixtures", "mde.json")


def doremi(w, excess, eta, c):
    z = eta * np.asarray(excess, dtype=np.float64)
    a = np.asarray(w) * np.exp(z - z.max())  # the shift cancels in a / a.sum(); without it 800 nats overflow
    k = len(w)
    return (1 - c) * a / a.sum() + c / k


def velocitune(w, now, init, target):
    now, init, target = map(np.asarray, (now, init, target))
    gap = init - target
    v = np.where(gap > 0, np.clip((now - target) / np.where(gap > 0, gap, 1.0), 0, 1), 0.0)
    a = np.asarray(w) * np.exp(v)
    return a / a.sum(), v


def softmax(z):
    z = z - z.max()
    e = np.exp(z)
    return e / e.sum()


def chameleon(emb, lam, tau, finetune):
    emb = np.asarray(emb, dtype=np.float64)
    k = emb.shape[0]
    om = KernelCenterer().fit_transform(emb @ emb.T)
    s = np.diag(om @ np.linalg.inv(om + lam * k * np.eye(k)))
    s = s / s.sum()
    w = softmax(s / tau) if finetune else softmax((1.0 / (s + 1e-12)) / tau)
    return w, s


def mde_loss(nll, alpha):
    """nll[j]: (k, n_j) float32 losses; returns L_MDE,j for every domain j (float64)."""
    out = []
    for lj in nll:
        p = np.asarray(alpha)[:, None] * np.exp(-lj.astype(np.float64))
        out.append(float(np.mean(-np.log(p.sum(axis=0)))))
    return out


def write(path, obj):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path + ".tmp", "w") as f:
        json.dump(obj, f, indent=1)
        f.write("\n")
    os.replace(path + ".tmp", path)
    print("wrote", path)


def make_mde(rng):
    k, ntok = 3, [40, 25, 60]
    # expert i is good on domain i (lower losses), worse elsewhere
    nll = [np.stack([rng.gamma(2.0, 0.8 if i == j else 1.6, n) for i in range(k)]).astype(np.float32)
           for j, n in enumerate(ntok)]
    alphas = [rng.dirichlet(np.ones(k)).tolist() for _ in range(4)] + [[0.5, 0.0, 0.5], [0.2, 0.3, 0.5]]
    evals = [{"alpha": a, "l_mde": mde_loss(nll, a)} for a in alphas]
    # true "runs": a loss that is linear in [α, L_MDE] plus noise, fitted per domain by least squares
    ra = rng.dirichlet(np.ones(k), 7)
    lm = np.array([mde_loss(nll, a) for a in ra])
    btrue = rng.normal(0, 0.3, (k, k + 1))
    btrue[:, k] = 0.8
    y = np.stack([np.c_[ra, lm[:, j]] @ btrue[j] for j in range(k)], axis=1) + rng.normal(0, 0.01, (7, k))
    coef, rmse = [], []
    for j in range(k):
        X = np.c_[ra, lm[:, j]]
        b = np.linalg.lstsq(X, y[:, j], rcond=None)[0]
        coef.append(b.tolist())
        rmse.append(float(np.sqrt(np.mean((X @ b - y[:, j]) ** 2))))
    return {"generator": "tests/reference/make_mixing_fixtures.py", "k": k, "ntok": ntok,
            "nll": [lj.ravel().tolist() for lj in nll], "evals": evals,
            "runs": {"alpha": ra.ravel().tolist(), "loss": y.ravel().tolist(), "coef": coef, "rmse": rmse}}


def main():
    rng = np.random.default_rng(20260512)
    cases = {"doremi": [], "velocitune": [], "chameleon": []}

    # DoReMi: random steps chained (the running average is checked over the chain), a zero-excess step
    # and a large-excess step (exp overflow without the max shift)
    for k, steps, scale in [(3, 5, 0.5), (5, 4, 2.0), (4, 1, 800.0)]:
        w = rng.dirichlet(np.ones(k))
        w0 = w.copy()
        avg = np.zeros(k)
        exs = []
        for _ in range(steps):
            ex = np.maximum(rng.normal(0.3, 1.0, k) * scale, 0)
            w = doremi(w, ex, 1.0, 1e-3)
            avg += w
            exs.append(ex.tolist())
        cases["doremi"].append({"k": k, "eta": 1.0, "smoothing": 1e-3, "w0": w0.tolist(), "excess": exs,
                                "w": w.tolist(), "avg": avg.tolist()})
    w0 = np.array([0.5, 0.3, 0.2])
    cases["doremi"].append({"k": 3, "eta": 1.0, "smoothing": 1e-3, "w0": w0.tolist(), "excess": [[0, 0, 0]],
                            "w": doremi(w0, np.zeros(3), 1.0, 1e-3).tolist(),
                            "avg": doremi(w0, np.zeros(3), 1.0, 1e-3).tolist()})

    # Velocitune: generic, one domain past its target (V clamps at 0), one above its start (V = 1),
    # one whose start is already below target (V = 0)
    for k in (3, 6):
        w0 = rng.dirichlet(np.ones(k))
        target = rng.uniform(2.0, 4.0, k)
        init = target + rng.uniform(0.5, 3.0, k)
        now = target + rng.uniform(-0.5, 1.2, k) * (init - target)
        if k == 6:
            init[5] = target[5] - 0.1
        w, v = velocitune(w0, now, init, target)
        cases["velocitune"].append({"k": k, "w0": w0.tolist(), "now": now.tolist(), "init": init.tolist(),
                                    "target": target.tolist(), "w": w.tolist(), "v": v.tolist()})

    # Chameleon: random embeddings in both modes, several λ
    for k, d, lam, tau, ft in [(3, 8, 10.0, 5.0, 0), (3, 8, 10.0, 0.2, 1), (5, 16, 1.0, 5.0, 0),
                               (5, 16, 0.1, 0.2, 1), (7, 4, 10.0, 5.0, 0), (2, 3, 10.0, 0.2, 1)]:
        emb = rng.normal(0, 1, (k, d)) + rng.normal(0, 2, (1, d))  # a shared offset, as real hidden states have
        w, s = chameleon(emb, lam, tau, ft)
        cases["chameleon"].append({"k": k, "d": d, "lambda": lam, "tau": tau, "finetune": ft,
                                   "emb": emb.ravel().tolist(), "w": w.tolist(), "s": s.tolist()})

    write(OUT, {"generator": "tests/reference/make_mixing_fixtures.py", "cases": cases})
    write(OUT_MDE, make_mde(rng))


if __name__ == "__main__":
    main()
