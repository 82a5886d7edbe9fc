#!/usr/bin/env python3
"""Table of experiments/optimizers/run.sh: per optimizer the best final val loss over its lr grid,
the lr, val loss at half the steps, and tokens to reach AdamW+cosine's best final val loss."""
import json, os, sys
out, opts = sys.argv[1], sys.argv[2:]
def curve(d):
    pts = []
    with open(os.path.join(d, "opt", "metrics.jsonl")) as f:
        for line in f:
            r = json.loads(line)
            if "val_loss" in r: pts.append((r["tokens"], r["step"], r["val_loss"]))
    return pts
res = {}
for o in opts:
    od = os.path.join(out, o)
    if not os.path.isdir(od): continue
    runs = {}
    for lr in sorted(os.listdir(od)):
        try: runs[lr[2:]] = curve(os.path.join(od, lr))
        except OSError: pass
    if runs: res[o] = runs
FINAL = max(c[-1][1] for runs in res.values() for c in runs.values() if c)
target = None
if "adamw-cosine" in res:
    target = min(c[-1][2] for c in res["adamw-cosine"].values() if c and c[-1][1] == FINAL)
print("| optimizer | lr grid: final val loss | best lr | best final val loss | tokens to AdamW+cosine's final loss |")
print("|---|---|---|---|---|")
for o, runs in res.items():
    finals = {lr: c[-1][2] for lr, c in runs.items() if c and c[-1][1] == FINAL}
    diverged = sorted((lr for lr, c in runs.items() if not c or c[-1][1] != FINAL), key=float)
    best = min(finals, key=finals.get)
    reach = "-"
    if target is not None:
        hit = [t for t, s, v in runs[best] if v <= target + 1e-12]
        reach = f"{hit[0]:,} ({100 * hit[0] / runs[best][-1][0]:.0f}%)" if hit else "not reached"
    grid = ", ".join([f"{lr}: {v:.4f}" for lr, v in sorted(finals.items(), key=lambda x: float(x[0]))] +
                     [f"{lr}: diverged" for lr in diverged])
    print(f"| {o} | {grid} | {best} | {finals[best]:.4f} | {reach} |")
