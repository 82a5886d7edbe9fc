#!/usr/bin/env python3
"""Planted-duplicate corpus for `lmc data dedup`, built like the one issue 17 describes: pages that share
boilerplate sections (pairwise word-5-gram Jaccard 0.5-0.8, the links that chain union-find clusters),
each page with 0-2 planted copies (exact, or near: ~2% of words replaced, J about 0.9). Runs one or more
lmc binaries and reports, per binary:
  - planted clusters (a page and its copies) with exactly one survivor, and with none;
  - removed documents by word-5-gram Jaccard to the kept document they were removed for (the kept
    document of their cluster in the report): how many below 0.8, 0.6, 0.5, and the lowest;
  - pages (originals) removed although no other page is at J >= 0.8 to them.
Usage: bench/dedup_planted.py LMC [LMC...] [--pages 400] [--seed 3]"""
import argparse
import json
import os
import random
import subprocess
import tempfile


def shingles(words, n=5):
    return {tuple(words[i:i + n]) for i in range(len(words) - n + 1)}


def jaccard(a, b):
    return len(a & b) / len(a | b) if a or b else 1.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("lmc", nargs="+")
    ap.add_argument("--pages", type=int, default=400)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    vocab = sorted({"".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(3, 9))) for _ in range(6000)})
    boiler = [[rng.choice(vocab) for _ in range(100)] for _ in range(3)]
    docs = []  # (words, cluster id, is_page)
    for p in range(a.pages):
        body = [rng.choice(vocab) for _ in range(rng.randint(25, 200))]
        words = body + boiler[rng.randrange(3)] if rng.random() < 0.7 else body
        docs.append((words, p, True))
        for _ in range(rng.choice([0, 0, 1, 2])):
            if rng.random() < 0.3:
                docs.append((list(words), p, False))
            else:
                w = list(words)
                for _ in range(max(1, len(w) // 50)):
                    w[rng.randrange(len(w))] = rng.choice(vocab)
                docs.append((w, p, False))
    # shuffle, pages before their copies (so "the first of the cluster" is the page)
    order = list(range(len(docs)))
    rng.shuffle(order)
    pos = {}
    for i, d in enumerate(order):
        pos.setdefault(docs[d][1], []).append(i)
    ordered = [docs[d] for d in order]
    for c, idx in pos.items():  # move the page to the cluster's first slot
        pi = next(i for i in idx if ordered[i][2])
        if pi != idx[0]:
            ordered[pi], ordered[idx[0]] = ordered[idx[0]], ordered[pi]
    sh = [shingles(w) for w, _, _ in ordered]
    tmp = tempfile.mkdtemp(prefix="lmc-dedup-planted-")
    path = os.path.join(tmp, "planted.jsonl")
    with open(path, "w") as f:
        for i, (w, c, pg) in enumerate(ordered):
            f.write(json.dumps({"id": i, "text": " ".join(w), "cluster": c}) + "\n")
    clusters = {}
    for i, (_, c, _) in enumerate(ordered):
        clusters.setdefault(c, []).append(i)
    planted = {c: m for c, m in clusters.items() if len(m) > 1}
    # pages with another page at J >= 0.8 (legitimate near duplicates of each other): none expected
    pages = [i for i, d in enumerate(ordered) if d[2]]
    # clusters whose every copy is at J >= 0.8 to the page: these must end with exactly one survivor
    high = {c: m for c, m in planted.items() if all(jaccard(sh[m[0]], sh[i]) >= 0.8 for i in m[1:])}
    nbytes = os.path.getsize(path)
    print(f"corpus: {len(ordered)} documents ({nbytes} bytes), {len(pages)} pages, {len(planted)} planted clusters")
    for lmc in a.lmc:
        rep = os.path.join(tmp, "rep.json")
        subprocess.run([lmc, "--quiet", "data", "dedup", path, "-o", os.path.join(tmp, "out.jsonl"), "--report", rep,
                        "--threads", str(a.threads)], check=True, stderr=subprocess.DEVNULL)
        r = json.load(open(rep))["dedup"]
        kept = set(range(len(ordered)))
        partner = {}
        for cl in r["clusters"]:
            k = cl["kept"]["doc"]
            for m in cl["removed"]:
                kept.discard(m["doc"])
                partner[m["doc"]] = k
        one = sum(1 for m in planted.values() if sum(i in kept for i in m) == 1)
        none = sum(1 for m in planted.values() if not any(i in kept for i in m))
        one_high = sum(1 for m in high.values() if sum(i in kept for i in m) == 1)
        js = sorted(jaccard(sh[d], sh[k]) for d, k in partner.items())
        pages_removed = sum(1 for i in pages if i not in kept)
        pages_removed_far = sum(1 for i in pages if i not in kept and jaccard(sh[i], sh[partner[i]]) < 0.8)
        largest = max((cl["size"] for cl in r["clusters"]), default=0)
        print(json.dumps({"lmc": lmc, "planted_clusters": len(planted), "exactly_one_survivor": one, "no_survivor": none,
                          "clusters_at_0.8": len(high), "of_those_exactly_one": one_high,
                          "removed": len(js), "removed_below_0.8": sum(j < 0.8 for j in js),
                          "removed_below_0.6": sum(j < 0.6 for j in js), "removed_below_0.5": sum(j < 0.5 for j in js),
                          "lowest_jaccard": round(js[0], 3) if js else None, "pages_removed": pages_removed,
                          "pages_removed_below_0.8": pages_removed_far, "largest_cluster": largest,
                          "seconds": round(json.load(open(rep))["seconds"], 3)}))


if __name__ == "__main__":
    main()
