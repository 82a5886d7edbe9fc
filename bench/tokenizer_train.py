#!/usr/bin/env python3
"""Training speed and memory: `lmc tokenizer train` vs HF tokenizers' BpeTrainer, same corpus, same
pattern (GPT-2), same special token, same vocab size, all cores for both.

  python3 bench/tokenizer_corpora.py            # once: builds /tmp/lmc_tok_bench
  python3 bench/tokenizer_train.py [--reps 3] [--lmc build/lmc]

lmc is timed as a whole process (reading, counting, merging, writing tokenizer.json); HF only inside
train() (its import and save are not counted); peak RSS of each process from /usr/bin/time. Runs alternate A B A B after a warm-up; medians. For each setting the script also reports
whether lmc's merges and vocab equal HF's, whether HF loading lmc's tokenizer.json encodes the
held-out text to the same ids as lmc, and the compression (bytes per token on held-out text) of both.
"""
import argparse, json, os, statistics, subprocess, sys, time

ap = argparse.ArgumentParser()
ap.add_argument("--reps", type=int, default=3)
ap.add_argument("--lmc", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "build", "lmc"))
ap.add_argument("--dir", default="/tmp/lmc_tok_bench")
args = ap.parse_args()
peer = os.path.join(os.path.dirname(os.path.abspath(__file__)), "peers", "hf_train.py")


def timed(cmd):
    """Run under /usr/bin/time (a small parent, so the child's peak RSS is its own: Linux carries
    ru_maxrss across fork+exec, which would charge this Python process's RSS to the child)."""
    r = subprocess.run(["/usr/bin/time", "-f", "TIME %e %M"] + cmd, check=True, capture_output=True, text=True)
    line = [l for l in r.stderr.splitlines() if l.startswith("TIME ")][-1].split()
    return float(line[1]), int(line[2]), r.stdout


def run_lmc(corpus, vocab, out):
    dt, rss, _ = timed([args.lmc, "--quiet", "tokenizer", "train", "-o", out, "--vocab-size", str(vocab),
                        "--special", "<|endoftext|>", corpus])
    return dt, rss


def run_hf(corpus, vocab, out):
    _, rss, so = timed([sys.executable, peer, corpus, str(vocab), out])
    return float(so.split()[0]), rss


from tokenizers import Tokenizer

rows = []
for corpus, held in (("ts10.txt", "ts_heldout.txt"), ("mix.txt", "mix_heldout.txt")):
    cpath, hpath = os.path.join(args.dir, corpus), os.path.join(args.dir, held)
    heldtext = open(hpath, encoding="utf-8").read()
    hb = len(heldtext.encode())
    for vocab in (8000, 32000):
        lo, ho = f"/tmp/lmc_bench_{corpus}_{vocab}.json", f"/tmp/hf_bench_{corpus}_{vocab}.json"
        run_lmc(cpath, vocab, lo)
        run_hf(cpath, vocab, ho)
        a, b = [], []
        for _ in range(args.reps):
            a.append(run_lmc(cpath, vocab, lo))
            b.append(run_hf(cpath, vocab, ho))
        lt, lr = statistics.median(x[0] for x in a), statistics.median(x[1] for x in a)
        ht, hr = statistics.median(x[0] for x in b), statistics.median(x[1] for x in b)
        L, H = json.load(open(lo)), json.load(open(ho))
        same = L["model"]["vocab"] == H["model"]["vocab"] and [list(m) if isinstance(m, list) else m.split(" ") for m in L["model"]["merges"]] == [list(m) if isinstance(m, list) else m.split(" ") for m in H["model"]["merges"]]
        tl, th = Tokenizer.from_file(lo), Tokenizer.from_file(ho)
        ids_l_in_hf = tl.encode(heldtext).ids
        lmc_ids = subprocess.run([args.lmc, "tokenizer", "encode", "-t", lo, "--ids", "--special", "all", hpath],
                                 check=True, capture_output=True, text=True).stdout.split()
        enc_same = [int(x) for x in lmc_ids] == ids_l_in_hf
        ntl, nth = len(ids_l_in_hf), len(th.encode(heldtext).ids)
        rows.append((corpus, vocab, lt, ht, ht / lt, lr / 1024, hr / 1024, same, enc_same, hb / ntl, hb / nth,
                     len(L["model"]["vocab"])))
        r = rows[-1]
        print(f"{corpus:8} vocab {vocab:6}: lmc {lt:6.2f} s {r[5]:6.0f} MB | HF {ht:6.2f} s {r[6]:6.0f} MB | "
              f"speed {r[4]:4.2f}x | merges equal {same} | HF encodes lmc's json like lmc: {enc_same} | "
              f"bytes/token lmc {r[9]:.4f} HF {r[10]:.4f}", flush=True)

print("\n| corpus | vocab | lmc s | HF s | lmc / HF speed | lmc peak MB | HF peak MB | same merges | HF(lmc json) == lmc ids | bytes/token lmc | HF | final vocab |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|")
for r in rows:
    print(f"| {r[0]} | {r[1]} | {r[2]:.2f} | {r[3]:.2f} | {r[4]:.2f}x | {r[5]:.0f} | {r[6]:.0f} | {r[7]} | {r[8]} | "
          f"{r[9]:.4f} | {r[10]:.4f} | {r[11]} |")
