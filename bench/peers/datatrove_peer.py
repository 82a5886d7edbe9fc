#!/usr/bin/env python3
"""The datatrove peer for bench/data_bench.sh: runs datatrove's own filter and MinHash classes on a
JSONL corpus, single process, and prints timings and the ids of removed documents as JSON.
datatrove 0.10 tokenizes English with spaCy (spacy.blank("en") + sentencizer): pip install datatrove spacy.

Usage: datatrove_peer.py filters|minhash|minhash-full CORPUS.jsonl [WORKDIR]"""
import json
import sys
import time

from datatrove.data import Document


def read(path):
    with open(path, encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            yield Document(text=d["text"], id=str(d["id"]), metadata={})


def filters(path):
    """Each rule set on every document (so each is timed on the same bytes); C4 rewrites doc.text, so
    every rule set gets the original text."""
    from datatrove.pipeline.filters import (C4QualityFilter, FineWebQualityFilter, GopherQualityFilter,
                                            GopherRepetitionFilter)
    stages = [("gopher-repetition", GopherRepetitionFilter()), ("gopher-quality", GopherQualityFilter()),
              ("c4", C4QualityFilter()), ("fineweb", FineWebQualityFilter())]
    docs = list(read(path))
    nbytes = sum(len(d.text.encode("utf-8")) for d in docs)
    out = {"bytes": nbytes, "wall": {}, "cpu": {}, "removed": {}}
    for name, f in stages:
        w0, c0 = time.perf_counter(), time.process_time()
        removed = []
        for doc in docs:
            text = doc.text
            r = f.filter(doc)
            doc.text = text
            if r is not True and (r is False or r[0] is False):
                removed.append(int(doc.id))
        out["wall"][name] = time.perf_counter() - w0
        out["cpu"][name] = time.process_time() - c0
        out["removed"][name] = removed
    return out


def minhash_sigs(path):
    from datatrove.pipeline.dedup.minhash import MinhashConfig, MinhashDedupSignature
    s = MinhashDedupSignature(output_folder="/tmp/unused-dt-sigs", config=MinhashConfig())
    docs = list(read(path))
    nbytes = sum(len(d.text.encode("utf-8")) for d in docs)
    w0, c0 = time.perf_counter(), time.process_time()
    for doc in docs:
        sh = s.get_shingles(doc.text)
        if sh.size:
            s.get_signature(sh)
    return {"wall": time.perf_counter() - w0, "cpu": time.process_time() - c0, "bytes": nbytes}


def minhash_full(path, work):
    """datatrove's four MinHash stages (signatures, buckets, clusters, filter); ids of removed docs."""
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.dedup.minhash import (MinhashConfig, MinhashDedupBuckets, MinhashDedupCluster,
                                                  MinhashDedupFilter, MinhashDedupSignature)
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.pipeline.writers import JsonlWriter
    import os
    cfg = MinhashConfig()
    d = os.path.dirname(os.path.abspath(path))
    name = os.path.basename(path)
    rd = lambda: JsonlReader(d, glob_pattern=name, id_key="id")  # noqa: E731
    t0 = time.perf_counter()
    LocalPipelineExecutor([rd(), MinhashDedupSignature(f"{work}/sigs", config=cfg)], tasks=1,
                          logging_dir=f"{work}/l1").run()
    LocalPipelineExecutor([MinhashDedupBuckets(f"{work}/sigs", f"{work}/buckets", config=cfg)], tasks=cfg.num_buckets,
                          logging_dir=f"{work}/l2").run()
    LocalPipelineExecutor([MinhashDedupCluster(f"{work}/buckets", f"{work}/remove_ids", config=cfg)], tasks=1,
                          logging_dir=f"{work}/l3").run()
    LocalPipelineExecutor([rd(), MinhashDedupFilter(f"{work}/remove_ids"),
                           JsonlWriter(f"{work}/out", compression=None,
                                       adapter=lambda self, doc: {"id": doc.id, "text": doc.text})],
                          tasks=1, logging_dir=f"{work}/l4").run()
    dt = time.perf_counter() - t0
    kept = set()
    for fn in os.listdir(f"{work}/out"):
        for line in open(f"{work}/out/{fn}"):
            kept.add(int(json.loads(line)["id"]))
    ids = [int(json.loads(line)["id"]) for line in open(path)]
    return {"seconds": dt, "removed": sorted(set(ids) - kept)}


if __name__ == "__main__":
    mode, path = sys.argv[1], sys.argv[2]
    if mode == "filters":
        r = filters(path)
    elif mode == "minhash":
        r = minhash_sigs(path)
    else:
        r = minhash_full(path, sys.argv[3])
    print(json.dumps(r))
