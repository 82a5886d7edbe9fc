#!/usr/bin/env python3
"""Reference for tests/train/test_mixing.c: the domain-weight rules of TECHNIQUES.md §11 in float64
numpy, Chameleon's kernel centred by sklearn's KernelCenterer (as LIONS-EPFL/Chameleon does) and S
from an explicit numpy inverse, so the C side (Cholesky solve via LAPACKE) is checked against a
different route to the same numbers.

Writes tests/train/fixtures/mixing.json. Run from the repository root:
    /work/venv-torch/bin/python tests/reference/make_mixing_fixtures.py
"""
import json
import os

import numpy as np
from sklearn.preprocessing import KernelCenterer

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "tests", "train", "fixtures", "mixing.json")


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

    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT + ".tmp", "w") as f:
        json.dump({"generator": "tests/reference/make_mixing_fixtures.py", "cases": cases}, f, indent=1)
        f.write("\n")
    os.replace(OUT + ".tmp", OUT)
    print("wrote", OUT)


if __name__ == "__main__":
    main()
