#!/usr/bin/env python3
"""Benchmark `lmc data filter` (per rule set) and `lmc data dedup --minhash` against the datatrove
package (bench/peers/datatrove_peer.py) on the same JSONL, one core each, and compare which documents
each removes. Runs alternate lmc / datatrove after a warm-up; medians are printed, in MB/s of document
text per core, by wall clock and by CPU time (the machine is shared, so CPU time is the steadier one).

Usage: bench/data_bench.py [--lmc build/lmc] [--python PY_WITH_DATATROVE] [--shared ../shared] [--runs 3]
Needs: pip install datatrove spacy "xxhash<4"  (datatrove 0.10 calls xxhash with str)."""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
RULESETS = ["gopher-repetition", "gopher-quality", "c4", "fineweb"]


def timed(cmd):
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    w0 = time.perf_counter()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    w = time.perf_counter() - w0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode:
        sys.exit(f"failed: {' '.join(cmd)}\n{p.stderr}")
    return w, (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime), p.stdout


def ids(path):
    out = set()
    if os.path.exists(path):
        for line in open(path, encoding="utf-8"):
            out.add(int(json.loads(line)["id"]))
    return out


def agree(a, b, n):
    return {"lmc": len(a), "datatrove": len(b), "both": len(a & b), "only_lmc": len(a - b), "only_datatrove": len(b - a),
            "agreement": 1 - len(a ^ b) / n}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lmc", default=os.path.join(HERE, "..", "build", "lmc"))
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--shared", default=os.path.join(HERE, "..", "..", "shared"))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--peer-runs", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=8, help="lmc is also timed on the corpus repeated this often")
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="lmc-data-bench-")
    corpus = os.path.join(tmp, "corpus.jsonl")
    subprocess.run([sys.executable, os.path.join(HERE, "data_make_corpus.py"), a.shared, corpus, "1"], check=True)
    ndocs = sum(1 for _ in open(corpus))
    nbytes = sum(len(json.loads(l)["text"].encode("utf-8")) for l in open(corpus))
    peer = [a.python, os.path.join(HERE, "peers", "datatrove_peer.py")]
    # the same documents repeated: lmc's fixed costs (process start, fsync of the outputs) amortized
    big = os.path.join(tmp, "corpus-x%d.jsonl" % a.repeat)
    with open(big, "w", encoding="utf-8") as f:
        body = open(corpus, encoding="utf-8").read()
        for _ in range(a.repeat):
            f.write(body)

    def lmc_filter(rs, src=corpus, tag=""):
        return timed([a.lmc, "--quiet", "data", "filter", "--threads", "1", "--rules", rs, src, "-o",
                      f"{tmp}/kept-{rs}{tag}.jsonl", "--rejected", f"{tmp}/rej-{rs}{tag}.jsonl"])

    def lmc_minhash(src=corpus, tag=""):
        return timed([a.lmc, "--quiet", "data", "dedup", "--minhash", "--threads", "1", src, "-o",
                      f"{tmp}/dedup{tag}.jsonl", "--rejected", f"{tmp}/rej-minhash{tag}.jsonl"])

    for rs in RULESETS:  # warm-up
        lmc_filter(rs)
    lmc_minhash()
    lm = {rs: [] for rs in RULESETS + ["minhash"]}
    lmbig = {rs: [] for rs in RULESETS + ["minhash"]}
    dt = {rs: [] for rs in RULESETS + ["minhash"]}
    dt_removed = None
    for k in range(a.runs):
        for rs in RULESETS:
            w, c, _ = lmc_filter(rs)
            lm[rs].append((w, c))
        w, c, _ = lmc_minhash()
        lm["minhash"].append((w, c))
        for rs in RULESETS:
            w, c, _ = lmc_filter(rs, big, "-big")
            lmbig[rs].append((w, c))
        w, c, _ = lmc_minhash(big, "-big")
        lmbig["minhash"].append((w, c))
        if k < a.peer_runs:
            _, _, out = timed(peer + ["filters", corpus])
            r = json.loads(out)
            dt_removed = r["removed"]
            for rs in RULESETS:
                dt[rs].append((r["wall"][rs], r["cpu"][rs]))
            _, _, out = timed(peer + ["minhash", corpus])
            r = json.loads(out)
            dt["minhash"].append((r["wall"], r["cpu"]))
    _, _, out = timed(peer + ["minhash-full", corpus, f"{tmp}/dtwork"])
    dt_mh_removed = set(json.loads(out)["removed"])

    mb = nbytes / 1e6
    print(f"corpus: {ndocs} documents, {mb:.2f} MB of text (WikiText-2 articles, Tiny Shakespeare scenes, planted dups)")
    print(f"lmc runs: {a.runs}, datatrove runs: {a.peer_runs}; medians; MB/s per core (1 thread / 1 process)")
    print(f"lmc x{a.repeat}: lmc on the corpus repeated {a.repeat} times ({mb * a.repeat:.1f} MB), fixed costs amortized")
    print(f"{'stage':<18} {'lmc wall':>9} {'lmc cpu':>8} {'lmc x%d cpu' % a.repeat:>11} {'dt wall':>8} {'dt cpu':>7} "
          f"{'ratio cpu':>10} {'ratio x%d cpu' % a.repeat:>13}")
    for rs in RULESETS + ["minhash"]:
        lw = mb / statistics.median(x[0] for x in lm[rs])
        lc = mb / statistics.median(x[1] for x in lm[rs])
        lb = mb * a.repeat / statistics.median(x[1] for x in lmbig[rs])
        dw = mb / statistics.median(x[0] for x in dt[rs])
        dc = mb / statistics.median(x[1] for x in dt[rs])
        print(f"{rs:<18} {lw:9.2f} {lc:8.2f} {lb:11.2f} {dw:8.3f} {dc:7.3f} {lc / dc:9.1f}x {lb / dc:12.1f}x")
    print("(MB/s of document text per core; minhash: lmc = the whole `dedup --minhash` (read twice, signatures,"
          " clusters, write); datatrove = signatures only (get_shingles + get_signature), the cheaper part)")
    print("\nremoved documents, lmc vs datatrove:")
    for rs in RULESETS:
        print(f"  {rs:<18} {json.dumps(agree(ids(f'{tmp}/rej-{rs}.jsonl'), set(dt_removed[rs]), ndocs))}")
    print(f"  {'minhash':<18} {json.dumps(agree(ids(f'{tmp}/rej-minhash.jsonl'), dt_mh_removed, ndocs))}")
    print(f"(work files in {tmp})")


if __name__ == "__main__":
    main()
