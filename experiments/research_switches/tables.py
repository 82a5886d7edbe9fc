#!/usr/bin/env python3
"""Markdown tables from experiments/research_switches/results/*.json (lns | act | mtp)."""
import json, os, sys

R = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")


def load(n):
    with open(os.path.join(R, n)) as f:
        return json.loads(f.readline())


def lns():
    rows = {m: {k: load(f"lns_{m}_{k}.json") for k in ("init", "trained", "loss")} for m in ("none", "lns")}
    L = rows["none"]["init"]["layers"]
    print("| layer l | var Pre-LN init | var LNS init | var Pre-LN trained | var LNS trained | ang Pre-LN trained | ang LNS trained |")
    print("|---|---|---|---|---|---|---|")
    for l in range(1, L + 1):
        a, b = rows["none"], rows["lns"]
        print(f"| {l} | {a['init']['var'][l]:.4g} | {b['init']['var'][l]:.4g} | {a['trained']['var'][l]:.4g} | "
              f"{b['trained']['var'][l]:.4g} | {a['trained']['angular'][l-1]:.4f} | {b['trained']['angular'][l-1]:.4f} |")
    for m, name in (("none", "Pre-LN"), ("lns", "LNS")):
        v = rows[m]["trained"]["var"]
        ang = rows[m]["trained"]["angular"]
        deep = sum(ang[L // 2:]) / (L - L // 2)
        print(f"\n{name}: val loss {rows[m]['loss']['val_loss']:.4f} (step {rows[m]['loss']['step']}); "
              f"var(L)/var(1) trained {v[L] / v[1]:.3g}; mean angular distance of the deeper half {deep:.4f}", end="")
    print()


def act():
    names = [n[4:-5] for n in sorted(os.listdir(R)) if n.startswith("act_") and n.endswith(".json")]
    print("| activation | parameters | val loss | final train loss | tokens/s |")
    print("|---|---|---|---|---|")
    for n in names:
        r = load(f"act_{n}.json")
        print(f"| {n} | {r.get('params', '?')} | {r['val_loss']:.4f} | {r['loss']:.4f} | {r.get('tps', 0):.0f} |")


def mtp():
    names = [n[4:-5] for n in sorted(os.listdir(R)) if n.startswith("mtp_") and n.endswith(".json")]
    print("| run | K extra heads | curriculum | next-token val loss (train eval) | head val losses (mtp-stats) | draft agreement heads 1..K | tokens / verification pass | train tokens/s |")
    print("|---|---|---|---|---|---|---|---|")
    for n in names:
        r = load(f"mtp_{n}.json")
        hl = " / ".join(f"{x:.3f}" for x in r.get("head_loss", [])) or "-"
        ag = " / ".join(f"{x:.3f}" for x in r.get("agree", [])) or "-"
        tp = f"{r['tokens_per_pass']:.3f}" if "tokens_per_pass" in r else "1"
        print(f"| {n} | {r['K']} | {r['curriculum']} | {r['val_loss']:.4f} | {hl} | {ag} | {tp} | {r.get('tps', 0):.0f} |")


def ngpt():
    for suffix, lr in (("", "3e-3"), ("_lr1e-2", "1e-2")):
        if not os.path.exists(os.path.join(R, f"ngpt_base{suffix}.json")):
            continue
        b, n = load(f"ngpt_base{suffix}.json"), load(f"ngpt_ngpt{suffix}.json")
        target = b["final"]
        reach = next((s for s, v in n["curve"] if v <= target), None)
        breach = next((s for s, v in b["curve"] if v <= target), None)
        print(f"\nlr {lr}:\n")
        print("| step | baseline val loss | nGPT val loss |")
        print("|---|---|---|")
        nb = dict((s, v) for s, v in n["curve"])
        for s, v in b["curve"]:
            if s % 100 == 0 or s == b["curve"][-1][0] or s == reach:
                print(f"| {s} | {v:.4f} | {nb.get(s, float('nan')):.4f} |")
        sp = f"at step {reach} ({breach / reach:.2f}x fewer steps)" if reach else "never"
        print(f"\nbaseline final val loss {target:.4f} at step {breach}; nGPT reaches it {sp}; "
              f"nGPT final {n['final']:.4f}; train tokens/s baseline {b['tps']:.0f}, nGPT {n['tps']:.0f}")


def angpt():
    for suffix, lr in (("", "3e-3"), ("_lr1e-2", "1e-2")):
        if not os.path.exists(os.path.join(R, f"angpt_base{suffix}.json")):
            continue
        runs = {k: load(f"angpt_{k}{suffix}.json") for k in ("base", "ngpt", "angpt")}
        b = runs["base"]
        target = b["final"]
        breach = next((s for s, v in b["curve"] if v <= target), None)
        print(f"\nlr {lr}:\n")
        print("| step | baseline (QK-norm) val loss | nGPT val loss | anGPT val loss |")
        print("|---|---|---|---|")
        cur = {k: dict((s, v) for s, v in r["curve"]) for k, r in runs.items()}
        for s, v in b["curve"]:
            if s % 100 == 0 or s == b["curve"][-1][0]:
                print(f"| {s} | {v:.4f} | {cur['ngpt'].get(s, float('nan')):.4f} | {cur['angpt'].get(s, float('nan')):.4f} |")
        print(f"\n| model | final val loss | first step at or below the baseline's final {target:.4f} | speed-up | tokens/s | step time vs baseline |")
        print("|---|---|---|---|---|---|")
        for k, name in (("base", "baseline + QK-norm"), ("ngpt", "nGPT"), ("angpt", "anGPT")):
            r = runs[k]
            reach = next((s for s, v in r["curve"] if v <= target), None)
            sp = f"{breach / reach:.2f}x" if reach else "not reached"
            print(f"| {name} | {r['final']:.4f} | {reach if reach else '-'} | {sp} | {r['tps']:.0f} | {b['tps'] / r['tps']:.2f} |")


    # across lrs: the baseline's best final loss, and when each model's run at each lr first reaches it
    have = [(suffix, lr) for suffix, lr in (("", "3e-3"), ("_lr1e-2", "1e-2"))
            if os.path.exists(os.path.join(R, f"angpt_base{suffix}.json"))]
    if len(have) < 2:
        return
    runs = {(k, lr): load(f"angpt_{k}{suffix}.json") for suffix, lr in have for k in ("base", "ngpt", "angpt")}
    best = min(runs[("base", lr)]["final"] for _, lr in have)
    blr = next(lr for _, lr in have if runs[("base", lr)]["final"] == best)
    bsteps = next(s for s, v in runs[("base", blr)]["curve"] if v <= best)
    print(f"\nEach at its own lr, against the baseline's best final val loss {best:.4f} (lr {blr}, step {bsteps}):\n")
    print("| model | lr | final val loss | first step at or below it | speed-up |")
    print("|---|---|---|---|---|")
    for k, name in (("base", "baseline + QK-norm"), ("ngpt", "nGPT"), ("angpt", "anGPT")):
        for _, lr in have:
            r = runs[(k, lr)]
            reach = next((s for s, v in r["curve"] if v <= best), None)
            print(f"| {name} | {lr} | {r['final']:.4f} | {reach if reach else '-'} | "
                  f"{f'{bsteps / reach:.2f}x' if reach else 'not reached'} |")


def qknorm():
    rows = [load(n) for n in sorted(os.listdir(R)) if n.startswith("qknorm_") and n.endswith(".json")]
    rows.sort(key=lambda r: (r["qk_norm"] != "true", r["lr"]))
    print("| QK-norm | lr | x baseline lr | steps run | final val loss | max logged train loss after step 50 (every 25 steps) | final train loss |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        val = r["val"][-1][1] if r["val"] else float("nan")
        print(f"| {r['qk_norm']} | {r['lr']:g} | {r['lr'] / 0.003:.0f} | {r['last_step']}/{r['steps']} | {val:.4f} | "
              f"{r.get('max_loss_late', r['max_loss']):.3f} | {r['final_loss']:.4f} |")


{"lns": lns, "act": act, "mtp": mtp, "ngpt": ngpt, "angpt": angpt, "qknorm": qknorm}[sys.argv[1]]()
