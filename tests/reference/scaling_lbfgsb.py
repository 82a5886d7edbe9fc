#!/usr/bin/python3
"""Reference for tests/scaling/test_scipy_ref.c: the Approach-3 objective (summed Huber on log L
against the log-sum-exp form) minimized by SciPy's L-BFGS-B from given starts.

Writes tests/scaling/fixtures/scaling_synth_runs.csv (a small synthetic run set, committed) and
tests/scaling/fixtures/scaling_lbfgsb.json (objective/gradient at fixed points and the L-BFGS-B
optimum for each case). The runs_240 case reads ../shared/data/chinchilla/runs_240.csv.

Run from the repository root (Debian python3 with numpy/scipy):  /usr/bin/python3 tests/reference/scaling_lbfgsb.py
"""
import json
import os
import sys

import numpy as np
from scipy.optimize import minimize
from scipy.special import logsumexp

DELTA = 1e-3
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIX = os.path.join(ROOT, "tests", "scaling", "fixtures")


def objective(x, lnN, lnD, lnL, delta=DELTA):
    a, b, e, al, be = x
    u = np.stack([a - al * lnN, b - be * lnD, np.full_like(lnN, e)])
    lse = logsumexp(u, axis=0)
    r = lse - lnL
    ar = np.abs(r)
    h = np.where(ar <= delta, 0.5 * r * r, delta * (ar - 0.5 * delta))
    dh = np.where(ar <= delta, r, delta * np.sign(r))
    w = np.exp(u - lse)
    g = np.array([
        np.sum(dh * w[0]), np.sum(dh * w[1]), np.sum(dh * w[2]),
        np.sum(-dh * w[0] * lnN), np.sum(-dh * w[1] * lnD)])
    return float(np.sum(h)), g


def fit_from(x0, lnN, lnD, lnL):
    res = minimize(objective, np.array(x0, dtype=float), args=(lnN, lnD, lnL), jac=True,
                   method="L-BFGS-B",
                   options={"ftol": 1e-15, "gtol": 1e-12, "maxiter": 20000, "maxfun": 100000, "maxcor": 10})
    return res


def case(name, csv, lnN, lnD, lnL, starts, points):
    out = {"name": name, "csv": csv, "n": int(lnN.size), "delta": DELTA, "evals": [], "fits": []}
    for x in points:
        f, g = objective(np.array(x, dtype=float), lnN, lnD, lnL)
        out["evals"].append({"x": list(map(float, x)), "f": f, "grad": list(map(float, g))})
    for x0 in starts:
        res = fit_from(x0, lnN, lnD, lnL)
        out["fits"].append({"x0": list(map(float, x0)), "fx": float(res.fun), "x": list(map(float, res.x)),
                            "nit": int(res.nit), "message": str(res.message)})
        print(name, x0, "->", res.fun, res.x, res.message, file=sys.stderr)
    return out


def main():
    cases = []
    # Synthetic: Epoch's parameters on a log grid with 1% multiplicative noise (fixed seed).
    rng = np.random.default_rng(20240410)
    E, A, B, al, be = 1.8172, 482.01, 2085.43, 0.3478, 0.3658
    Ns = np.exp(np.linspace(np.log(7e7), np.log(1.6e10), 8))
    Ds = np.exp(np.linspace(np.log(5e9), np.log(5e11), 6))
    rows = []
    for N in Ns:
        for D in Ds:
            L = (E + A / N ** al + B / D ** be) * np.exp(0.01 * rng.standard_normal())
            rows.append((N, D, L))
    path = os.path.join(FIX, "scaling_synth_runs.csv")
    with open(path, "w") as f:
        f.write("params,tokens,loss\n")
        for N, D, L in rows:
            f.write("%.17g,%.17g,%.17g\n" % (N, D, L))
    arr = np.loadtxt(path, delimiter=",", skiprows=1)
    lnN, lnD, lnL = np.log(arr[:, 0]), np.log(arr[:, 1]), np.log(arr[:, 2])
    points = [[6.0, 7.6, 0.6, 0.35, 0.37], [0, 20, 0, 0, 0], [5, 5, 0.5, 0.5, 0.5]]
    starts = [[5, 10, 0.5, 0.5, 0.5], [10, 5, 0.5, 1.0, 0.5]]
    cases.append(case("synthetic", "fixtures/scaling_synth_runs.csv", lnN, lnD, lnL, starts, points))

    shared = None
    for base in [os.environ.get("LMC_SHARED_DIR"), os.path.join(ROOT, "..", "shared"),
                 os.path.join(ROOT, "..", "..", "shared")]:
        if base and os.path.exists(os.path.join(base, "data", "chinchilla", "runs_240.csv")):
            shared = os.path.join(base, "data", "chinchilla", "runs_240.csv")
            break
    if shared:
        arr = np.loadtxt(shared, delimiter=",", skiprows=1)
        N, C, L = arr[:, 0], arr[:, 1], arr[:, 2]
        D = C / (6 * N)
        lnN, lnD, lnL = np.log(N), np.log(D), np.log(L)
        starts = [[0, 20, 0, 0, 0], [5, 10, 0.5, 0.5, 0.5]]
        cases.append(case("runs_240", "shared:chinchilla/runs_240.csv", lnN, lnD, lnL, starts, points))
    else:
        print("runs_240.csv not found; that case is left out", file=sys.stderr)

    # Compute-optimal allocation in float64 for the Epoch fit (TECHNIQUES §8a): G, N*(C), D*(C).
    alloc = []
    for C in [1e18, 1e21, 1e24]:
        G = (al * A / (be * B)) ** (1.0 / (al + be))
        Nopt = G * (C / 6) ** (be / (al + be))
        Dopt = (1.0 / G) * (C / 6) ** (al / (al + be))
        alloc.append({"E": E, "A": A, "B": B, "alpha": al, "beta": be, "C": C, "G": G, "N": Nopt, "D": Dopt,
                      "L": E + A / Nopt ** al + B / Dopt ** be})

    with open(os.path.join(FIX, "scaling_lbfgsb.json"), "w") as f:
        json.dump({"generator": "tests/reference/scaling_lbfgsb.py", "cases": cases, "alloc": alloc}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
