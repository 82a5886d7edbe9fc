#!/usr/bin/python3
"""Peer for bench/scaling_fit.sh: the same Approach-3 fit as `lmc scaling fit` (summed Huber,
delta 1e-3, on log L against the log-sum-exp form; L-BFGS-B from the 4,500-point grid of Besiroglu
et al.; best objective kept), in NumPy/SciPy, single process. Prints the fit and the seconds taken.

usage: scaling_fit_scipy.py RUNS.csv   (columns params,flops,loss or params,tokens,loss)
"""
import itertools
import sys
import time

import numpy as np
from scipy.optimize import minimize
from scipy.special import logsumexp

DELTA = 1e-3


def objective(x, lnN, lnD, lnL):
    a, b, e, al, be = x
    u = np.stack([a - al * lnN, b - be * lnD, np.full_like(lnN, e)])
    lse = logsumexp(u, axis=0)
    r = lse - lnL
    ar = np.abs(r)
    h = np.where(ar <= DELTA, 0.5 * r * r, DELTA * (ar - 0.5 * DELTA))
    dh = np.where(ar <= DELTA, r, DELTA * np.sign(r))
    w = np.exp(u - lse)
    g = np.array([np.sum(dh * w[0]), np.sum(dh * w[1]), np.sum(dh * w[2]),
                  np.sum(-dh * w[0] * lnN), np.sum(-dh * w[1] * lnD)])
    return float(np.sum(h)), g


def main():
    path = sys.argv[1]
    with open(path) as f:
        header = f.readline().strip().split(",")
    arr = np.loadtxt(path, delimiter=",", skiprows=1, usecols=range(3))
    col = {k: i for i, k in enumerate(header[:3])}
    N, L = arr[:, col["params"]], arr[:, col["loss"]]
    D = arr[:, col["tokens"]] if "tokens" in col else arr[:, col["flops"]] / (6 * N)
    lnN, lnD, lnL = np.log(N), np.log(D), np.log(L)
    t0 = time.perf_counter()
    best = None
    g_ab = [0, 0.5, 1.0, 1.5, 2.0]
    for al, be, e, a, b in itertools.product(g_ab, g_ab, [-1, -0.5, 0, 0.5, 1], range(0, 30, 5), range(0, 30, 5)):
        res = minimize(objective, np.array([a, b, e, al, be], float), args=(lnN, lnD, lnL), jac=True,
                       method="L-BFGS-B")
        if np.isfinite(res.fun) and (best is None or res.fun < best.fun):
            best = res
    dt = time.perf_counter() - t0
    a, b, e, al, be = best.x
    print("E=%.4f A=%.2f B=%.2f alpha=%.4f beta=%.4f objective=%.10g seconds=%.3f"
          % (np.exp(e), np.exp(a), np.exp(b), al, be, best.fun, dt))


if __name__ == "__main__":
    main()
