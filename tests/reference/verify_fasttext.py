#!/usr/bin/env python3
"""Train the PyPI fastText package on the classifier fixture and record its test accuracy.

    /work/venv-torch/bin/python tests/reference/verify_fasttext.py [--lmc build/lmc]

Same hyper-parameters as tests/data/test_data_classify.c: supervised, softmax, dim 32, epoch 5, lr 0.1,
wordNgrams 2, bucket 100000, minCount 1, one thread; seeds 0..4 (fastText is deterministic with one
thread). Writes tests/data/fixtures/classify_fasttext_ref.json (per-seed and mean test accuracy); with
--lmc also trains `lmc data classify train` with the same flags and prints both accuracies.
"""
import argparse, json, os, subprocess, tempfile

import fasttext

HERE = os.path.dirname(os.path.abspath(__file__))
FIX = os.path.join(os.path.dirname(HERE), "data", "fixtures")
PARAMS = dict(dim=32, epoch=5, lr=0.1, wordNgrams=2, bucket=100000, minCount=1, thread=1, loss="softmax")


def load(name):
    return [json.loads(l) for l in open(os.path.join(FIX, name))]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lmc")
    args = ap.parse_args()
    train, test = load("classify_train.jsonl"), load("classify_test.jsonl")
    with tempfile.TemporaryDirectory() as td:
        tr = os.path.join(td, "train.txt")
        with open(tr, "w") as f:
            for e in train:   # newlines would end the example: the text has none
                f.write("__label__%s %s\n" % (e["label"], e["text"].replace("\n", " ")))
        accs = []
        for seed in range(5):
            m = fasttext.train_supervised(tr, seed=seed, verbose=0, **PARAMS)
            nwords = len(m.words)
            # m.predict() trips on NumPy 2 (np.array(copy=False)); the C++ call underneath is the same: it
            # appends "\n" and returns [(probability, label)] for the top k
            ok = sum(m.f.predict(e["text"] + "\n", 1, 0.0, "strict")[0][1] == "__label__" + e["label"] for e in test)
            accs.append(ok / len(test))
        ref = {"params": PARAMS, "seeds": list(range(5)), "test_accuracy": accs,
               "mean_test_accuracy": sum(accs) / len(accs), "nwords": nwords, "test_examples": len(test),
               "train_examples": len(train), "fasttext": getattr(fasttext, "__version__", "fasttext-wheel")}
        with open(os.path.join(FIX, "classify_fasttext_ref.json"), "w") as f:
            json.dump(ref, f, indent=1)
            f.write("\n")
        print("fastText test accuracy per seed:", " ".join("%.4f" % a for a in accs), "mean %.4f" % ref["mean_test_accuracy"])
        if args.lmc:
            for seed in range(5):
                out = subprocess.run([args.lmc, "data", "classify", "train", os.path.join(FIX, "classify_train.jsonl"),
                                      "-o", os.path.join(td, "m.lmcft"), "--test", os.path.join(FIX, "classify_test.jsonl"),
                                      "--dim", "32", "--epoch", "5", "--lr", "0.1", "--word-ngrams", "2", "--bucket",
                                      "100000", "--seed", str(seed), "--report", os.path.join(td, "r.json")],
                                     capture_output=True, text=True, check=True)
                r = json.load(open(os.path.join(td, "r.json")))
                print("lmc seed %d test accuracy %.4f" % (seed, r["test_accuracy"]))


if __name__ == "__main__":
    main()
