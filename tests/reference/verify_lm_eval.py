#!/usr/bin/env python3
"""lm-evaluation-harness reference outputs for tests/eval/test_harness_agreement.c.

Runs lm-eval (PyPI lm_eval 0.4, its HF backend: transformers AutoModelForCausalLM + AutoTokenizer on
the checkpoint folder, float32, CPU) on the committed tiny lmc checkpoints (tests/eval/fixtures/gpt2,
tests/eval/fixtures/llama) and the committed small inputs, with task YAMLs written here that read the
local files (`dataset_path: json` + `data_files`), and writes the harness's metrics and per-example
log-likelihoods to tests/eval/fixtures/harness_<arch>.json. The C test runs lmc on the same files and
compares (BLiMP decisions identical, mc acc/acc_norm equal, rolling perplexity within 1e-4 relative).

  --make-inputs  (re)writes the small inputs from ../shared/data first (deterministic):
                 fixtures/blimp/*.jsonl (first 50 pairs of 4 phenomena), fixtures/wikitext.txt (the
                 first 3 articles of WikiText-2 test), fixtures/mc_hellaswag.jsonl and fixtures/mc_arc.jsonl
                 (choices built from tinyshakespeare lines), fixtures/lambada.jsonl.
  --time N       also times N alternating runs of the harness and of lmc (build/lmc) on full BLiMP
                 (all 67 files, --limit given by --time-limit) and prints medians.

Run from the repository root: /work/venv-torch/bin/python tests/reference/verify_lm_eval.py [--make-inputs]
"""
import argparse
import json
import os
import random
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIX = os.path.join(ROOT, "tests", "eval", "fixtures")
SHARED = os.path.join(ROOT, "..", "shared", "data")
BLIMP = ["anaphor_gender_agreement", "determiner_noun_agreement_1", "irregular_past_participle_adjectives",
         "wh_vs_that_no_gap"]


def wikitext_articles(text):
    """Articles of a WikiText file as EleutherAI/wikitext_document_level's loader cuts them: a new
    article starts at a line that, with '= =' closed up and stripped, reads '= Title ='."""
    pages, cur = [], []
    for line in text.split("\n"):
        r = line.replace("= = =", "===").replace("= =", "==").strip()
        if r.startswith("= ") and r.endswith(" ="):
            if "\n".join(cur).strip():
                pages.append("\n".join(cur))
            cur = []
        cur.append(line)
    pages.append("\n".join(cur))
    return pages


def make_inputs():
    os.makedirs(os.path.join(FIX, "blimp"), exist_ok=True)
    for name in BLIMP:
        with open(os.path.join(SHARED, "blimp", name + ".jsonl")) as f:
            lines = [l for l in f if l.strip()][:50]
        with open(os.path.join(FIX, "blimp", name + ".jsonl"), "w") as f:
            f.writelines(lines)
    with open(os.path.join(SHARED, "wikitext-2", "test.txt"), encoding="utf-8") as f:
        text = f.read()
    # cut after the third article: the file is a prefix of test.txt, ending where article 4 begins
    lines, n_titles, out = text.split("\n"), 0, []
    for line in lines:
        r = line.replace("= = =", "===").replace("= =", "==").strip()
        if r.startswith("= ") and r.endswith(" ="):
            n_titles += 1
            if n_titles == 4:
                break
        out.append(line)
    with open(os.path.join(FIX, "wikitext.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")
    with open(os.path.join(SHARED, "tinyshakespeare.txt"), encoding="utf-8") as f:
        sl = [l.strip() for l in f if len(l.strip().split()) >= 6]
    rng = random.Random(16)
    with open(os.path.join(FIX, "mc_hellaswag.jsonl"), "w") as f:
        for i in range(40):
            j = rng.randrange(len(sl) - 1)
            w = sl[j].split()
            k = len(w) // 2
            ctx, true = " ".join(w[:k]), " ".join(w[k:])
            endings = [true] + [" ".join(sl[rng.randrange(len(sl))].split()[k:]) or "and so" for _ in range(3)]
            order = list(range(4))
            rng.shuffle(order)
            f.write(json.dumps({"ctx": ctx, "endings": [endings[o] for o in order], "label": order.index(0)}) + "\n")
    with open(os.path.join(FIX, "mc_arc.jsonl"), "w") as f:
        for i in range(30):
            j = rng.randrange(len(sl) - 1)
            q = sl[j] + " What comes next?"
            nxt = sl[j + 1]
            opts = [nxt] + [sl[rng.randrange(len(sl))] for _ in range(rng.choice([2, 3]))]
            order = list(range(len(opts)))
            rng.shuffle(order)
            labels = ["A", "B", "C", "D"][:len(opts)] if i % 2 == 0 else ["1", "2", "3", "4"][:len(opts)]
            f.write(json.dumps({"question": q, "choices": {"text": [opts[o] for o in order], "label": labels},
                                "answerKey": labels[order.index(0)]}) + "\n")
    with open(os.path.join(FIX, "lambada.jsonl"), "w") as f:
        for i in range(40):
            j = rng.randrange(len(sl) - 3)
            f.write(json.dumps({"text": " ".join(sl[j:j + 3])}) + "\n")
        # texts ending in "of the": a last word a small model can get right (greedy is tested both ways)
        ofthe = [l[:l.index(" of the ") + 7] for l in sl if " of the " in l]
        for i in range(20):
            f.write(json.dumps({"text": ofthe[rng.randrange(len(ofthe))]}) + "\n")


def make_hellaswag_raw():
    """HellaSwag-shaped raw rows (activity_label, ctx_a, ctx_b, endings, label as a string) with the
    artifacts the harness's hellaswag preprocess() cleans: " [title]", [bracketed] spans, double spaces."""
    with open(os.path.join(SHARED, "tinyshakespeare.txt"), encoding="utf-8") as f:
        sl = [l.strip() for l in f if len(l.strip().split()) >= 6]
    rng = random.Random(1616)
    with open(os.path.join(FIX, "mc_hellaswag_raw.jsonl"), "w") as f:
        for i in range(30):
            w = sl[rng.randrange(len(sl))].split()
            k = len(w) // 2
            ctx_a = " ".join(w[:2]) + (" [title]" if i % 3 == 0 else "")
            ctx_b = " ".join(w[2:k]).lower() + (" [header] x" if i % 4 == 0 else "")
            ends = [" ".join(w[k:]) + ("  again" if i % 5 == 0 else "")] + \
                   [" ".join(sl[rng.randrange(len(sl))].split()[k:]) + (" [step]" if j == 0 else "") or "so"
                    for j in range(3)]
            order = list(range(4))
            rng.shuffle(order)
            f.write(json.dumps({"activity_label": ["Cooking", "Making a fire", "Sword fighting"][i % 3],
                                "ctx_a": ctx_a, "ctx_b": ctx_b, "endings": [ends[o] for o in order],
                                "label": str(order.index(0))}) + "\n")


def task_yamls(d):
    """Task YAMLs (and the wikitext helper module) in directory d; returns the task names."""
    def ds(path):
        return f"dataset_path: json\ndataset_kwargs:\n  data_files:\n    test: {json.dumps(path)}\ntest_split: test\n"
    names = []
    for name in BLIMP:
        t = "lmcx_blimp_" + name
        with open(os.path.join(d, t + ".yaml"), "w") as f:
            f.write(f"task: {t}\n" + ds(os.path.join(FIX, "blimp", name + ".jsonl")) +
                    "output_type: multiple_choice\ndoc_to_text: \"\"\ndoc_to_target: 0\n"
                    "doc_to_choice: \"{{[sentence_good, sentence_bad]}}\"\nnum_fewshot: 0\n"
                    "metric_list:\n  - metric: acc\n")
        names.append(t)
    with open(os.path.join(d, "lmcx_mc_hellaswag.yaml"), "w") as f:
        f.write("task: lmcx_mc_hellaswag\n" + ds(os.path.join(FIX, "mc_hellaswag.jsonl")) +
                "output_type: multiple_choice\ndoc_to_text: \"{{ctx}}\"\ndoc_to_target: \"{{label}}\"\n"
                "doc_to_choice: \"{{endings}}\"\nmetric_list:\n  - metric: acc\n  - metric: acc_norm\n")
    with open(os.path.join(d, "lmcx_hs_utils.py"), "w") as f:
        f.write("from lm_eval.tasks.hellaswag.utils import process_docs\n")
    with open(os.path.join(d, "lmcx_mc_hellaswag_raw.yaml"), "w") as f:
        f.write("task: lmcx_mc_hellaswag_raw\n" + ds(os.path.join(FIX, "mc_hellaswag_raw.jsonl")) +
                "output_type: multiple_choice\nprocess_docs: !function lmcx_hs_utils.process_docs\n"
                "doc_to_text: \"{{query}}\"\ndoc_to_target: \"{{label}}\"\ndoc_to_choice: \"choices\"\n"
                "metric_list:\n  - metric: acc\n  - metric: acc_norm\n")
    with open(os.path.join(d, "lmcx_mc_arc.yaml"), "w") as f:
        f.write("task: lmcx_mc_arc\n" + ds(os.path.join(FIX, "mc_arc.jsonl")) +
                "output_type: multiple_choice\ndoc_to_text: \"Question: {{question}}\\nAnswer:\"\n"
                "doc_to_target: \"{{choices.label.index(answerKey)}}\"\ndoc_to_choice: \"{{choices.text}}\"\n"
                "metric_list:\n  - metric: acc\n  - metric: acc_norm\n")
    with open(os.path.join(d, "lmcx_lambada.yaml"), "w") as f:
        f.write("task: lmcx_lambada\n" + ds(os.path.join(FIX, "lambada.jsonl")) +
                "output_type: loglikelihood\ndoc_to_text: \"{{text.split(' ')[:-1]|join(' ')}}\"\n"
                "doc_to_target: \"{{' '+text.split(' ')[-1]}}\"\nmetric_list:\n"
                "  - metric: perplexity\n    aggregation: perplexity\n    higher_is_better: false\n"
                "  - metric: acc\n    aggregation: mean\n    higher_is_better: true\n")
    # wikitext: the harness's own detokenizer and word/byte counting, on articles of the local file
    with open(os.path.join(FIX, "wikitext.txt"), encoding="utf-8") as f:
        pages = wikitext_articles(f.read())
    wj = os.path.join(d, "wikitext_pages.jsonl")
    with open(wj, "w") as f:
        for p in pages:
            f.write(json.dumps({"page": p}) + "\n")
    with open(os.path.join(d, "lmcx_wikitext_utils.py"), "w") as f:
        f.write("from lm_eval.tasks.wikitext.preprocess_wikitext import wikitext_detokenizer, process_results\n")
    with open(os.path.join(d, "lmcx_wikitext.yaml"), "w") as f:
        f.write("task: lmcx_wikitext\n" + ds(wj) +
                "output_type: loglikelihood_rolling\ndoc_to_text: \"\"\n"
                "doc_to_target: !function lmcx_wikitext_utils.wikitext_detokenizer\n"
                "process_results: !function lmcx_wikitext_utils.process_results\n"
                "metric_list:\n  - metric: word_perplexity\n  - metric: byte_perplexity\n  - metric: bits_per_byte\n")
    names += ["lmcx_mc_hellaswag", "lmcx_mc_hellaswag_raw", "lmcx_mc_arc", "lmcx_lambada", "lmcx_wikitext"]
    return names, len(pages)


def run_harness(model_dir, tasks, include, batch_size=1, limit=None, threads=None):
    import torch
    if threads:
        torch.set_num_threads(threads)
    import lm_eval
    from lm_eval.tasks import TaskManager
    tm = TaskManager(include_path=include)
    return lm_eval.simple_evaluate(model="hf", model_args=f"pretrained={model_dir},dtype=float32", tasks=tasks,
                                   batch_size=batch_size, device="cpu", log_samples=True, task_manager=tm,
                                   limit=limit, bootstrap_iters=0)


SCORE_TIME = [0.0, 0.0]


def time_scoring():
    """Accumulate wall and CPU time spent inside HFLM.loglikelihood (the scoring, without model load and
    task setup) into SCORE_TIME."""
    from lm_eval.models.huggingface import HFLM
    orig = HFLM.loglikelihood

    def timed(self, *a, **k):
        t, c = time.time(), time.process_time()
        try:
            return orig(self, *a, **k)
        finally:
            SCORE_TIME[0] += time.time() - t
            SCORE_TIME[1] += time.process_time() - c
    HFLM.loglikelihood = timed


def first_metric(m, key):
    for k, v in m.items():
        if k.split(",")[0] == key:
            return v
    return None


def reference(arch, include, tasks):
    res = run_harness(os.path.join(FIX, arch), tasks, include)
    out = {"lm_eval_version": __import__("lm_eval").__version__,
           "transformers_version": __import__("transformers").__version__, "tasks": {}}
    for t in tasks:
        samples = sorted(res["samples"][t], key=lambda s: s["doc_id"])
        m = res["results"][t]
        entry = {"metrics": {k.split(",")[0]: v for k, v in m.items() if not k.startswith("alias") and "stderr" not in k},
                 "first_arguments": [list(a) for a in samples[0]["arguments"]] if "arguments" in samples[0] else None}
        if t.startswith("lmcx_blimp") or t.startswith("lmcx_mc"):
            entry["ll"] = [[float(r[0]) for r in s["filtered_resps"]] for s in samples]
            entry["acc"] = [float(s["acc"]) for s in samples]
            if "acc_norm" in samples[0]:
                entry["acc_norm"] = [float(s["acc_norm"]) for s in samples]
        elif t == "lmcx_lambada":
            entry["ll"] = [float(s["filtered_resps"][0][0]) for s in samples]
            entry["greedy"] = [bool(s["filtered_resps"][0][1]) for s in samples]
        else:
            entry["ll"] = [float(s["filtered_resps"][0]) if not isinstance(s["filtered_resps"][0], (list, tuple))
                           else float(s["filtered_resps"][0][0]) for s in samples]
            entry["words"] = [int(s["word_perplexity"][1]) for s in samples]
            entry["bytes"] = [int(s["bits_per_byte"][1]) for s in samples]
        out["tasks"][t] = entry
    path = os.path.join(FIX, f"harness_{arch}.json")
    with open(path + ".tmp", "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    os.replace(path + ".tmp", path)
    print(f"wrote {path}")
    for t in tasks:
        print(arch, t, out["tasks"][t]["metrics"])


def time_runs(n, limit, threads, include):
    """Alternating timings on full BLiMP (67 files, --limit per file): harness (HF, batch 32) vs lmc."""
    d = tempfile.mkdtemp()
    files = sorted(f for f in os.listdir(os.path.join(SHARED, "blimp")) if f.endswith(".jsonl"))
    # the first `limit` pairs of each file whose sentences fit the fixtures' 64-token context (the
    # harness asserts on longer ones, lmc stops with an error): the same files for both
    from transformers import AutoTokenizer
    tok = AutoTokenizer.from_pretrained(os.path.join(FIX, "gpt2"))
    data = os.path.join(d, "blimp")
    os.makedirs(data)
    for fn in files:
        keep = []
        with open(os.path.join(SHARED, "blimp", fn)) as f:
            for l in f:
                j = json.loads(l)
                if all(len(tok.encode(" " + j[k])) <= 63 for k in ("sentence_good", "sentence_bad")):
                    keep.append(l)
                if len(keep) == limit:
                    break
        with open(os.path.join(data, fn), "w") as f:
            f.writelines(keep)
    tasks = []
    for fn in files:
        t = "lmct_" + fn[:-6]
        with open(os.path.join(d, t + ".yaml"), "w") as f:
            f.write(f"task: {t}\ndataset_path: json\ndataset_kwargs:\n  data_files:\n    test: "
                    f"{json.dumps(os.path.join(data, fn))}\ntest_split: test\n"
                    "output_type: multiple_choice\ndoc_to_text: \"\"\ndoc_to_target: 0\n"
                    "doc_to_choice: \"{{[sentence_good, sentence_bad]}}\"\nmetric_list:\n  - metric: acc\n")
        tasks.append(t)
    lmc = os.path.join(ROOT, "build", "lmc")
    th, tl = [], []
    for arch in ["gpt2", "llama"]:
        for i in range(n):
            cmd = [sys.executable, "-c",
                   "import sys; sys.path.insert(0, %r); import verify_lm_eval as v; import time, resource; t=time.time(); "
                   "r0=resource.getrusage(resource.RUSAGE_SELF); "
                   "v.time_scoring(); v.run_harness(%r, %r, %r, batch_size=32, limit=%d, threads=%d); "
                   "r1=resource.getrusage(resource.RUSAGE_SELF); "
                   "print('T', time.time()-t, r1.ru_utime+r1.ru_stime-r0.ru_utime-r0.ru_stime, *v.SCORE_TIME)"
                   % (os.path.dirname(os.path.abspath(__file__)), os.path.join(FIX, arch), tasks, d, limit, threads)]
            r = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ, OMP_NUM_THREADS=str(threads)))
            t = [tuple(float(x) for x in l.split()[1:5]) for l in r.stdout.splitlines() if l.startswith("T ")]
            if not t:
                print(r.stderr[-3000:])
                raise SystemExit("harness run failed")
            th.append((arch,) + t[0])
            t0 = time.time()
            c0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            out = subprocess.run([lmc, "eval", "--model", os.path.join(FIX, arch), "--task", "blimp", "--limit", str(limit),
                                  "--threads", str(threads), "--json", "--quiet", "--data"] +
                                 [os.path.join(data, f) for f in files], check=True, capture_output=True, text=True)
            c1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            score = json.loads(out.stdout)["seconds"]
            tl.append((arch, time.time() - t0, c1.ru_utime + c1.ru_stime - c0.ru_utime - c0.ru_stime, score, float("nan")))
            print(arch, "harness %.2fs (cpu %.2fs; scoring %.2fs, cpu %.2fs) lmc %.2fs (cpu %.2fs; scoring %.2fs)"
                  % (th[-1][1:] + tl[-1][1:4]), flush=True)
    for arch in ["gpt2", "llama"]:
        # whole = model load + task setup + scoring (harness in-process, lmc the whole process);
        # scoring = HFLM.loglikelihood / lmc's "seconds" (tokenization + forwards)
        for k, what in ((1, "whole wall"), (2, "whole cpu"), (3, "scoring wall")):
            mh = statistics.median(x[k] for x in th if x[0] == arch)
            ml = statistics.median(x[k] for x in tl if x[0] == arch)
            print(f"{arch}: {what}: median harness {mh:.2f}s lmc {ml:.2f}s ratio {mh / ml:.2f}x")
        mh = statistics.median(x[4] for x in th if x[0] == arch)
        ml = statistics.median(x[2] for x in tl if x[0] == arch)
        print(f"{arch}: scoring cpu: median harness {mh:.2f}s, lmc's whole process {ml:.2f}s: ratio >= {mh / ml:.2f}x")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--make-inputs", action="store_true")
    ap.add_argument("--time", type=int, default=0)
    ap.add_argument("--time-limit", type=int, default=100)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--arch", default="gpt2,llama")
    a = ap.parse_args()
    if a.make_inputs:
        make_inputs()
        make_hellaswag_raw()
    d = tempfile.mkdtemp()
    tasks, npages = task_yamls(d)
    if a.time:
        time_runs(a.time, a.time_limit, a.threads, d)
        return
    import torch
    torch.set_num_threads(a.threads)
    for arch in a.arch.split(","):
        reference(arch, d, tasks)


if __name__ == "__main__":
    main()
