#!/usr/bin/env python3
"""Training-step throughput, lmc against PyTorch, same config and threads, alternating A B A B ... after a
warm-up of each (../shared/BENCHMARKS.md). Configs S, M, M64 from BENCHMARKS.md.

  python3 bench/train_step.py [--config S|M|M64|S,M] [--precision fp32|bf16|fp32,bf16] [--reps 3] [--steps 5]
                              [--threads 2] [--torch-python /path/to/venv/bin/python] [--build build]

lmc: bench/train_step.c (target bench_train_step, built here with cmake against the same liblmc as `lmc`).
Peers, each run in the same alternation:
  bf16: the current PyTorch (a venv's python, --torch-python) running ../shared/reference/bench/torch_modern.py
        with --compile 1 --amp 1 (torch.compile + bf16 autocast, SDPA attention, fused AdamW);
  fp32: the same script eager and compiled without autocast, and Debian's python3-torch running
        bench/peers/gpt2_torch.py with the OpenMP OpenBLAS when /usr/bin/python3 has torch;
        the faster one is the reference.
Reports median ms/step (min-max), tok/s, MFU against lmc's GEMM peak (square 2048^3 on lmc's own GEMM
path, same precision and threads, measured in the same run), CPU time / wall time (are the cores busy?
lmc's per timed step, a peer's over its whole process), peak RSS (getrusage of each child), the ratio
lmc / best peer with the per-pair min-max, and lmc's per-kernel split of one step. bf16 on a CPU without bf16 instructions (neither AMX-BF16 nor AVX512_BF16) is
skipped with lmc's message; the other precisions still run."""
import argparse, json, os, resource, statistics, subprocess, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SHARED = os.path.join(ROOT, "..", "shared")
CONFIGS = {"S": dict(L=6, H=6, d=384, T=256, B=8, V=8192), "M": dict(L=12, H=12, d=768, T=1024, B=4, V=50257),
           "M64": dict(L=12, H=12, d=768, T=64, B=4, V=50257),
           # config S's size as a Llama: RMSNorm, RoPE, SwiGLU (d_ff 1024), GQA 6/2, untied head;
           # peer: transformers' LlamaForCausalLM (bench/peers/llama_torch.py, --torch-python's torch)
           "S-llama": dict(L=6, H=6, d=384, T=256, B=8, V=8192, llama=1, KV=2)}

ap = argparse.ArgumentParser()
ap.add_argument("--config", default="S")
ap.add_argument("--precision", default="fp32,bf16")
ap.add_argument("--reps", type=int, default=3)
ap.add_argument("--steps", type=int, default=5)
ap.add_argument("--warmup", type=int, default=2)
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--torch-python", default=os.environ.get("TORCH_PYTHON", ""), help="python of a venv with PyPI torch")
ap.add_argument("--debian-torch", type=int, default=1, help="also run Debian's python3-torch for fp32 when present")
ap.add_argument("--build", default=os.path.join(ROOT, "build"))
a = ap.parse_args()


class Failed(Exception):
    pass


def run(cmd, env):
    """Run a child; return (stdout, stderr, process CPU time / wall time). The CPU ratio covers the whole
    process (start-up and compilation included), from the rusage of reaped children: a peer reports no
    per-step CPU time of its own."""
    ru0, t0 = resource.getrusage(resource.RUSAGE_CHILDREN), time.monotonic()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    ru1, wall = resource.getrusage(resource.RUSAGE_CHILDREN), time.monotonic() - t0
    if p.returncode != 0:
        raise Failed(f"failed: {' '.join(cmd)}\n{p.stderr[-3000:]}")
    cpu = (ru1.ru_utime + ru1.ru_stime) - (ru0.ru_utime + ru0.ru_stime)
    return p.stdout, p.stderr, cpu / wall


def result(out):
    for line in out.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    sys.exit("no RESULT line:\n" + out[-2000:])


def child_rss(cmd, env):
    """Peak RSS (MB) of one child alone, via GNU time (Debian package `time`)."""
    if os.path.exists("/usr/bin/time"):
        out, err, cpu = run(["/usr/bin/time", "-f", "MAXRSS_KB %M"] + cmd, env)
        rss = next((int(l.split()[1]) / 1024 for l in err.splitlines() if l.startswith("MAXRSS_KB")), None)
        return out, err, rss, cpu
    out, err, cpu = run(cmd, env)
    return out, err, None, cpu


subprocess.run(["cmake", "--build", a.build, "--target", "bench_train_step", "-j2"], check=True,
               stdout=subprocess.DEVNULL)
binary = os.path.join(a.build, "bench_train_step")
env = dict(os.environ, OMP_NUM_THREADS=str(a.threads))
modern = os.path.join(SHARED, "reference", "bench", "torch_modern.py")
debian_torch = a.debian_torch and subprocess.run(["/usr/bin/python3", "-c", "import torch"],
                                                  capture_output=True).returncode == 0
if not a.torch_python:
    print("note: no --torch-python (a venv with PyPI torch): the torch_modern peer is skipped", file=sys.stderr)


def cfg_args(c):
    return [x for k, v in c.items() for x in ("--" + k, str(v))]


for name in a.config.split(","):
    c = CONFIGS[name]
    common = cfg_args(c) + ["--steps", str(a.steps), "--warmup", str(a.warmup), "--threads", str(a.threads)]
    for prec in a.precision.split(","):
        impls = {"lmc": [binary] + common + ["--precision", prec]}
        if c.get("llama"):
            peer = [a.torch_python or "/usr/bin/python3", os.path.join(HERE, "peers", "llama_torch.py")] + common
            if prec == "bf16":
                impls["transformers compile+bf16"] = peer + ["--compile", "1", "--amp", "1"]
            else:
                impls["transformers eager fp32"] = peer
                if a.torch_python:
                    impls["transformers compile fp32"] = peer + ["--compile", "1"]
        elif a.torch_python:
            if prec == "bf16":
                impls["torch compile+bf16"] = [a.torch_python, modern] + common + ["--compile", "1", "--amp", "1"]
            else:
                impls["torch eager fp32"] = [a.torch_python, modern] + common + ["--compile", "0", "--amp", "0"]
                impls["torch compile fp32"] = [a.torch_python, modern] + common + ["--compile", "1", "--amp", "0"]
        if prec == "fp32" and debian_torch and not c.get("llama"):
            impls["torch debian fp32"] = ["/usr/bin/python3", os.path.join(HERE, "peers", "gpt2_torch.py")] + common
        runs = {k: [] for k in impls}
        rss = {k: 0.0 for k in impls}
        pcpu = {k: [] for k in impls}
        peak = []
        try:
            for k, cmd in impls.items():   # warm-up of each (page cache, compile caches, clocks), not counted
                run(cmd, env)
        except Failed as e:
            # bf16 asked for on a CPU without bf16 instructions: lmc refuses (it names the missing features);
            # the rest of the bench still runs, and the peer alone would be no comparison
            if prec == "bf16" and "no bf16 instructions" in str(e):
                msg = str(e).strip().splitlines()[-1]
                print(f"\nconfig {name} bf16: skipped: {msg}", flush=True)
                continue
            sys.exit(str(e))
        for rep in range(a.reps):
            for k, cmd in impls.items():
                extra = ["--peak", "1"] if k == "lmc" else []
                try:
                    out, err, r, cpu = child_rss(cmd + extra, env)
                except Failed as e:
                    sys.exit(str(e))
                res = result(out)
                runs[k].append(res)
                pcpu[k].append(cpu)
                rss[k] = max(rss[k], r or 0)
                if k == "lmc":
                    peak.append(res["gemm_peak_gflops"])
            print(f"[{name} {prec} rep {rep}] " + ", ".join(f"{k} {runs[k][-1]['tok_s']:.0f} tok/s" for k in impls),
                  file=sys.stderr, flush=True)
        pk = max(peak)
        fpt = runs["lmc"][0]["flops_per_tok"]   # the model's own count (every variant), docs/model.md
        print(f"\nconfig {name} {prec}: L={c['L']} H={c['H']} d={c['d']} T={c['T']} B={c['B']} V={c['V']}, "
              f"{a.threads} threads, {a.reps} alternating runs x {a.steps} steps; lmc GEMM peak {pk:.0f} GFLOP/s ({prec})")
        print(f"{'impl':20} {'ms/step median (min-max)':>28} {'tok/s':>8} {'MFU':>6} {'CPU/wall':>9} {'peak RSS MB':>12}")
        med = {}
        for k in impls:
            ms = [r["ms_step"] for r in runs[k]]
            med[k] = statistics.median(ms)
            tok = c["B"] * c["T"] / (med[k] / 1e3)
            if "cpu_ms_step" in runs[k][0]:   # per timed step
                cpu = f"{statistics.median(r['cpu_ms_step'] / r['ms_step'] for r in runs[k]):9.2f}"
            else:                              # whole process, start-up included (marked *)
                cpu = f"{statistics.median(pcpu[k]):8.2f}*"
            print(f"{k:20} {med[k]:12.1f} ({min(ms):7.1f}-{max(ms):7.1f}) {tok:8.0f} {100 * fpt * tok / 1e9 / pk:5.1f}% "
                  f"{cpu} {rss[k]:12.0f}")
        if any("cpu_ms_step" not in runs[k][0] for k in impls):
            print("  * CPU/wall of the whole process (start-up, compilation and warm-up steps included)")
        peers = [k for k in impls if k != "lmc"]
        if peers:
            best = min(peers, key=lambda k: med[k])
            pairs = sorted(t["ms_step"] / l["ms_step"] for l, t in zip(runs["lmc"], runs[best]))
            print(f"lmc vs best peer ({best}): {med[best] / med['lmc']:.2f}x (per-pair {pairs[0]:.2f}-{pairs[-1]:.2f})")
        kern = runs["lmc"][-1]["kernels_ms"]
        tot = sum(kern.values())
        print("lmc one step by kernel (ms): " + ", ".join(f"{n} {v:.1f} ({100 * v / tot:.0f}%)" for n, v in
                                                           sorted(kern.items(), key=lambda kv: -kv[1]) if v > 0))
        print("RESULT " + json.dumps(dict(config=name, precision=prec, threads=a.threads, peak_gflops=pk,
                                          ms_step={k: med[k] for k in impls}, rss_mb=rss)))
