#!/usr/bin/env python3
"""Encoding speed: lmc vs the tiktoken Python package (native Rust), same text, same thread count.

  python3 bench/tokenizer_corpora.py            # once: builds /tmp/lmc_tok_bench
  python3 bench/tokenizer_encode.py [--reps 3] [--lmc build/lmc]

lmc is timed as a whole process (`lmc tokenizer encode -o OUT.bin`: loading the rank file, reading,
encoding, writing the shard); tiktoken only inside encode_ordinary (its loading is not counted), so
the ratio is conservative for lmc. Runs alternate A B A B after one warm-up of each; medians.
2 threads: lmc shard encoding with --threads 2 vs tiktoken encode_ordinary_batch(num_threads=2) on the
text cut into ~1 MB documents at line ends.
"""
import argparse, os, statistics, subprocess, sys, time

import tiktoken, tiktoken.load
from tiktoken_ext import openai_public as op
import unittest.mock as um

ap = argparse.ArgumentParser()
ap.add_argument("--reps", type=int, default=3)
ap.add_argument("--lmc", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "build", "lmc"))
ap.add_argument("--dir", default="/tmp/lmc_tok_bench")
# the shared folder sits beside the repository (../shared from its root)
ap.add_argument("--shared", default=os.environ.get("LMC_SHARED_DIR", os.path.normpath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared"))))
args = ap.parse_args()


def tiktoken_enc(name):
    ctor = {"cl100k_base": op.cl100k_base, "o200k_base": op.o200k_base}[name]
    with um.patch.object(op, "load_tiktoken_bpe", lambda *a, **k: {}):
        spec = ctor()
    ranks = tiktoken.load.load_tiktoken_bpe(os.path.join(args.shared, "vocab", name + ".tiktoken"))
    return tiktoken.Encoding(name, pat_str=spec["pat_str"], mergeable_ranks=ranks, special_tokens=spec["special_tokens"])


def run_lmc(name, path, threads):
    t = time.perf_counter()
    subprocess.run([args.lmc, "--quiet", "tokenizer", "encode", "-t",
                    os.path.join(args.shared, "vocab", name + ".tiktoken"), "-o", "/tmp/lmc_tok_bench_out.bin",
                    "--threads", str(threads), path], check=True)
    return time.perf_counter() - t


def docs_of(text, size=1 << 20):
    out, i = [], 0
    while i < len(text):
        j = text.find("\n", i + size)
        j = len(text) if j < 0 else j + 1
        out.append(text[i:j])
        i = j
    return out


rows = []
for name in ("cl100k_base", "o200k_base"):
    enc = tiktoken_enc(name)
    for corpus in ("ts50.txt", "mix.txt"):
        path = os.path.join(args.dir, corpus)
        text = open(path, encoding="utf-8").read()
        mb = os.path.getsize(path) / 1e6
        docs = docs_of(text)
        for threads in (1, 2):
            def peer():
                t = time.perf_counter()
                if threads == 1:
                    enc.encode_ordinary(text)
                else:
                    enc.encode_ordinary_batch(docs, num_threads=2)
                return time.perf_counter() - t
            run_lmc(name, path, threads)
            peer()
            a, b = [], []
            for _ in range(args.reps):
                a.append(run_lmc(name, path, threads))
                b.append(peer())
            la, lb = statistics.median(a), statistics.median(b)
            rows.append((name, corpus, threads, mb / la, mb / lb, lb / la))
            print(f"{name:12} {corpus:9} threads={threads}  lmc {mb / la:7.1f} MB/s  tiktoken {mb / lb:7.1f} MB/s  "
                  f"ratio {lb / la:5.2f}x", flush=True)

print("\n| encoding | text | threads | lmc MB/s | tiktoken MB/s | lmc / tiktoken |")
print("|---|---|---|---|---|---|")
for r in rows:
    print(f"| {r[0]} | {r[1]} | {r[2]} | {r[3]:.1f} | {r[4]:.1f} | {r[5]:.2f}x |")
by = {(r[0], r[1], r[2]): r[3] for r in rows}
for name in ("cl100k_base", "o200k_base"):
    for corpus in ("ts50.txt", "mix.txt"):
        print(f"lmc 2-thread scaling {name} {corpus}: {by[(name, corpus, 2)] / by[(name, corpus, 1)]:.2f}x")
