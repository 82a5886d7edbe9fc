#!/usr/bin/env python3
"""Helpers of experiments/data/mixing/run.sh (numpy only).

  avg-weights RUN D...        DoReMi's output: the last logged mix/<d>/avg_weight of each domain
  targets RUN STEPS D...      Velocitune targets: per domain, L(t) = E + A t^-a least-squares fitted to the val
                              curve of RUN at steps <= STEPS/4 (a on a grid, E and A linear), evaluated at STEPS
  runs-csv OUT RUN...         true runs for `lmc scaling mix --runs`: final weights and lmc eval losses
  proposal MIX.json           the proposed weights of `lmc scaling mix -o`
  table OUT RUN...            markdown table: per-domain lmc eval loss (mean over RUN and its seed repeats
                              RUN_s<n>), the mean over domains with its spread over seeds, final weights,
                              and for static mixtures their mean L_MDE (OUT/mde_check.json); then the
                              Spearman rank correlation of L_MDE with the true mean loss over those mixtures
"""
import json
import os
import sys

import numpy as np

DOMAINS = ["wiki", "shakespeare", "code"]


def records(run):
    with open(os.path.join(run, "metrics.jsonl")) as f:
        return [json.loads(line) for line in f if line.strip()]


def last(recs, key):
    for r in reversed(recs):
        if key in r:
            return r[key]
    return None


def final_weights(run, domains):
    recs = records(run)
    return [last(recs, f"mix/{d}/weight") or 0.0 for d in domains]


def eval_loss(out, run, d):
    with open(os.path.join(out, "eval", f"{run}.{d}.json")) as f:
        return json.load(f)["loss"]


def fit_power(t, y, horizon):
    best = None
    for a in np.linspace(0.02, 3.0, 600):
        X = np.c_[np.ones_like(t), t ** -a]
        coef, *_ = np.linalg.lstsq(X, y, rcond=None)
        sse = float(np.sum((X @ coef - y) ** 2))
        if best is None or sse < best[0]:
            best = (sse, a, coef)
    _, a, (E, A) = best
    return E + A * horizon ** -a


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "avg-weights":
        recs = records(args[0])
        w = [last(recs, f"mix/{d}/avg_weight") for d in args[1:]]
        if any(v is None for v in w):
            sys.exit(f"{args[0]}: no mix/<name>/avg_weight in metrics.jsonl")
        print(" ".join(f"{v:.6g}" for v in w))
    elif cmd == "targets":
        run, steps, doms = args[0], int(args[1]), args[2:]
        recs = records(run)
        out = []
        for d in doms:
            pts = [(r["step"], r[f"val/{d}/loss"]) for r in recs
                   if f"val/{d}/loss" in r and 0 < r["step"] <= steps // 4]
            if len(pts) < 3:
                sys.exit(f"{run}: fewer than 3 val points of {d} in the first quarter")
            t, y = np.array(pts, dtype=float).T
            tgt = fit_power(t, y, float(steps))
            out.append(min(tgt, float(y[-1])))  # a target above the last seen loss would be meaningless
        print(" ".join(f"{v:.4f}" for v in out))
    elif cmd == "runs-csv":
        out, runs = args[0], args[1:]
        print("run," + ",".join(f"w_{d}" for d in DOMAINS) + "," + ",".join(f"loss_{d}" for d in DOMAINS))
        for r in runs:
            recs = records(os.path.join(out, "runs", r))
            w = [last(recs, f"mix/{d}/weight") or 0.0 for d in DOMAINS]
            ls = [eval_loss(out, r, d) for d in DOMAINS]
            print(r + "," + ",".join(f"{v:.9g}" for v in w) + "," + ",".join(f"{v:.9g}" for v in ls))
    elif cmd == "proposal":
        with open(args[0]) as f:
            a = json.load(f)["proposal"]["alpha"]
        print(" ".join(f"{max(v, 1e-6):.6g}" for v in a))  # data.sources weights must be positive
    elif cmd == "table":
        out, runs = args[0], args[1:]
        check = None
        if os.path.exists(os.path.join(out, "mde_check.json")):
            with open(os.path.join(out, "mde_check.json")) as f:
                check = json.load(f)["candidates"]
        print("| run | seeds | " + " | ".join(f"val {d}" for d in DOMAINS) +
              " | mean (spread over seeds) | Δ mean vs static, paired by seed | mean L_MDE | final weights (" +
              ", ".join(DOMAINS) + ") |")
        print("|---|---|" + "---|" * (len(DOMAINS) + 4))
        pairs = []
        base = {}  # seed suffix -> static's mean loss
        for r in runs:
            names = [r] + sorted(n for n in os.listdir(os.path.join(out, "runs"))
                                 if n.startswith(r + "_s") and n[len(r) + 2:].isdigit())
            names = [n for n in names if all(os.path.exists(os.path.join(out, "eval", f"{n}.{d}.json")) for d in DOMAINS)]
            ls = np.array([[eval_loss(out, n, d) for d in DOMAINS] for n in names])
            means = ls.mean(axis=1)
            sfx = [n[len(r):] for n in names]
            if r == "static":
                base = dict(zip(sfx, means))
            dl = [m - base[x] for x, m in zip(sfx, means) if x in base]
            delta = "–" if r == "static" or not dl else (
                f"{np.mean(dl):+.4f}" + (f" ({min(dl):+.4f} … {max(dl):+.4f})" if len(dl) > 1 else ""))
            recs = records(os.path.join(out, "runs", r))
            w = [last(recs, f"mix/{d}/weight") or 0.0 for d in DOMAINS]
            avg = [last(recs, f"mix/{d}/avg_weight") for d in DOMAINS]
            ws = ", ".join(f"{v:.3f}" for v in w)
            if all(v is not None for v in avg):
                ws += " (avg " + ", ".join(f"{v:.3f}" for v in avg) + ")"
            lm = "–"
            dynamic = any(f"mix/{d}/velocity" in rr or f"mix/{d}/avg_weight" in rr for rr in recs for d in DOMAINS)
            if check and not dynamic:
                for c in check:
                    if max(abs(a - b) for a, b in zip(c["alpha"], w)) < 2e-6:
                        lm = f"{c['objective']:.4f}"
                        pairs.append((c["objective"], float(means.mean()), r))
                        break
            spread = f" ({means.min():.4f}–{means.max():.4f})" if len(means) > 1 else ""
            print(f"| {r} | {len(names)} | " + " | ".join(f"{v:.4f}" for v in ls.mean(axis=0)) +
                  f" | {means.mean():.4f}{spread} | {delta} | {lm} | {ws} |")
        if len(pairs) >= 3:
            def spearman(p):
                a = np.argsort(np.argsort([x[0] for x in p]))
                b = np.argsort(np.argsort([x[1] for x in p]))
                return float(np.corrcoef(a, b)[0, 1])
            inner = [p for p in pairs if not p[2].startswith("expert_")]
            print(f"\nSpearman(L_MDE, true mean loss): {spearman(pairs):.3f} over {len(pairs)} static mixtures"
                  + (f", {spearman(inner):.3f} over the {len(inner)} that are not single domains" if len(inner) >= 3 else ""))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
