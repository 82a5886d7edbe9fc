#!/usr/bin/python3
"""Training-step throughput: lmc (bench/train_step.c) vs the PyTorch peer (bench/peers/gpt2_torch.py),
same config, same thread count, alternating A B A B after a warm-up, on configs from ../shared/BENCHMARKS.md.

  python3 bench/train_step.py [--config S|M|M64|S,M] [--reps 3] [--steps 5] [--threads 2]

Builds bench/train_step.c against build/liblmc.a (run `cmake --build build` first). The peer runs Debian's
python3-torch with LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp and ATEN_CPU_CAPABILITY=avx512
(the fastest PyTorch setup measured here). MFU = flops_per_token * tok/s / sgemm peak, flops_per_token =
6*(12*L*d^2 + d*V) + 12*L*d*T; the peak is OpenBLAS sgemm 2048^3 at the same thread count, measured in
this run. Prints a table of medians (min-max over reps), the ratio lmc/torch, peak RSS and lmc's per-kernel
breakdown of one step."""
import argparse, json, os, statistics, subprocess, sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CONFIGS = {"S": dict(L=6, H=6, d=384, T=256, B=8, V=8192), "M": dict(L=12, H=12, d=768, T=1024, B=4, V=50257),
           "M64": dict(L=12, H=12, d=768, T=64, B=4, V=50257),
           # config S's size as a Llama: RMSNorm, RoPE, SwiGLU (d_ff 1024 by the 8d/3 rule), GQA 6/2, untied;
           # peer: transformers' LlamaForCausalLM (bench/peers/llama_torch.py)
           "S-llama": dict(L=6, H=6, d=384, T=256, B=8, V=8192, llama=1, KV=2)}

ap = argparse.ArgumentParser()
ap.add_argument("--config", default="S")
ap.add_argument("--reps", type=int, default=3)
ap.add_argument("--steps", type=int, default=5)
ap.add_argument("--warmup", type=int, default=1)
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--torch-blas", default="/usr/lib/x86_64-linux-gnu/openblas-openmp")
ap.add_argument("--build", default=os.path.join(ROOT, "build"), help="cmake build folder with liblmc.a")
a = ap.parse_args()


def sh(cmd, env=None):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    if r.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{r.stderr[-2000:]}")
    return r


def pkg(*names):
    return sh(["pkg-config", *names]).stdout.split()


binary = os.path.join(a.build, "bench_train_step")
sh(["cc", "-O3", "-march=native", "-fopenmp", "-std=c11", "-D_GNU_SOURCE", "-I" + os.path.join(ROOT, "src"),
    "-I" + os.path.join(a.build, "generated"), *pkg("--cflags", "openblas"), os.path.join(HERE, "train_step.c"),
    "-o", binary, os.path.join(a.build, "liblmc.a"),
    *pkg("--libs", "openblas", "jansson", "yaml-0.1", "libpcre2-8", "libzstd", "zlib", "libxxhash", "liblbfgs"), "-lm"])


def result(out):
    for line in out.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    sys.exit("no RESULT line:\n" + out[-2000:])


def cfg_args(c):
    return [x for k, v in c.items() for x in ("--" + k, str(v))]


base_env = dict(os.environ, OMP_NUM_THREADS=str(a.threads))
torch_env = dict(base_env, LD_LIBRARY_PATH=a.torch_blas, ATEN_CPU_CAPABILITY="avx512")
# On a shared, oversubscribed machine OpenMP's spin-waiting hurts PyTorch badly; the passive wait policy
# is the peer's best setup there, so it runs too and the faster of the two is the reference.
torch_passive_env = dict(torch_env, OMP_WAIT_POLICY="PASSIVE")
lmc_passive_env = dict(base_env, OMP_WAIT_POLICY="PASSIVE")
for name in a.config.split(","):
    c = CONFIGS[name]
    common = cfg_args(c) + ["--steps", str(a.steps), "--warmup", str(a.warmup), "--threads", str(a.threads)]
    lmc_runs, lmc_passive_runs, torch_runs, passive_runs, peak = [], [], [], [], []
    # warm-up run of each (page cache, CPU clocks), not counted
    sh([binary] + cfg_args(c) + ["--steps", "1", "--warmup", "0", "--threads", str(a.threads)], base_env)
    for rep in range(a.reps):
        r = result(sh([binary] + common + ["--peak", "1"], base_env).stdout)
        lmc_runs.append(r)
        peak.append(r["sgemm_peak_gflops"])
        lmc_passive_runs.append(result(sh([binary] + common, lmc_passive_env).stdout))
        peer_py = "llama_torch.py" if c.get("llama") else "gpt2_torch.py"
        peer = ["/usr/bin/python3", os.path.join(HERE, "peers", peer_py)] + common
        torch_runs.append(result(sh(peer, torch_env).stdout))
        passive_runs.append(result(sh(peer, torch_passive_env).stdout))
        print(f"[{name} rep {rep}] lmc {lmc_runs[-1]['tok_s']:.0f} tok/s, lmc passive "
              f"{lmc_passive_runs[-1]['tok_s']:.0f} tok/s, torch {torch_runs[-1]['tok_s']:.0f} tok/s, "
              f"torch passive {passive_runs[-1]['tok_s']:.0f} tok/s", file=sys.stderr, flush=True)
    pk = max(peak)
    fpt = lmc_runs[0]["flops_per_tok"]
    print(f"\nconfig {name}: L={c['L']} H={c['H']} d={c['d']} T={c['T']} B={c['B']} V={c['V']}, {a.threads} threads, "
          f"{a.reps} alternating runs x {a.steps} steps; sgemm peak {pk:.0f} GFLOP/s (best of the runs)")
    print(f"{'impl':13} {'ms/step median (min-max)':>28} {'tok/s':>8} {'MFU':>6} {'MFU@210':>8} {'CPU ms/step':>12} {'peak RSS MB':>12}")
    meds = {}
    for impl, runs in (("lmc", lmc_runs), ("lmc-passive", lmc_passive_runs), ("torch", torch_runs),
                       ("torch-passive", passive_runs)):
        ms = [r["ms_step"] for r in runs]
        med = statistics.median(ms)
        meds[impl] = med
        tok = c["B"] * c["T"] / (med / 1e3)
        rss = max(r["max_rss_mb"] for r in runs)
        cpu_ms = statistics.median(r["cpu_ms_step"] for r in runs)
        meds[impl + ":cpu"] = cpu_ms
        print(f"{impl:13} {med:12.1f} ({min(ms):7.1f}-{max(ms):7.1f}) {tok:8.0f} {100 * fpt * tok / 1e9 / pk:5.1f}% "
              f"{100 * fpt * tok / 1e9 / 210:7.1f}% {cpu_ms:12.1f} {rss:12.0f}")
    best = "torch" if meds["torch"] <= meds["torch-passive"] else "torch-passive"
    best_runs = torch_runs if best == "torch" else passive_runs
    mine = "lmc" if meds["lmc"] <= meds["lmc-passive"] else "lmc-passive"
    my_runs = lmc_runs if mine == "lmc" else lmc_passive_runs
    ratios = sorted(t["ms_step"] / l["ms_step"] for l, t in zip(my_runs, best_runs))
    print(f"speedup best lmc ({mine}) vs best torch ({best}): {meds[best] / meds[mine]:.2f}x "
          f"(per-pair min-max {ratios[0]:.2f}-{ratios[-1]:.2f}); MFU@210 = against the quiet-machine 2-thread sgemm "
          f"peak of ../shared/BENCHMARKS.md")
    cpu_best = min(meds["torch:cpu"], meds["torch-passive:cpu"])
    print(f"CPU time per step, torch / lmc: {cpu_best / meds['lmc:cpu']:.2f}x (process CPU seconds: robust to other "
          f"load when --threads 1; with more threads spin-waiting counts too)")
    k = my_runs[-1]["kernels_ms"]
    tot = sum(k.values())
    print("lmc one step by kernel (ms): " + ", ".join(f"{n} {v:.1f} ({100 * v / tot:.0f}%)" for n, v in
                                                       sorted(k.items(), key=lambda kv: -kv[1])))
