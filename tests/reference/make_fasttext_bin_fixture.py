#!/usr/bin/env python3
"""A small fastText .bin model and its predictions, for the C reader of fastText models
(tests/data/test_data_classify.c, src/data/classify_ftbin.c).

    /work/venv-torch/bin/python tests/reference/make_fasttext_bin_fixture.py

Trains fastText (fasttext-wheel) on tests/data/fixtures/classify_train.jsonl with dim 4, bucket 1000,
wordNgrams 2, one thread, and writes tests/data/fixtures/classify_fasttext.bin plus
classify_fasttext_pred.json: P(label) of the first 200 test texts as fastText's predict computes it
(the C++ predict returns p + 1e-5 clipped: we record exp(log(p + 1e-5)) - 1e-5 is NOT what it gives, so the
raw value is stored and the test subtracts 1e-5).
"""
import json, os, tempfile

import fasttext

HERE = os.path.dirname(os.path.abspath(__file__))
FIX = os.path.join(os.path.dirname(HERE), "data", "fixtures")


def main():
    train = [json.loads(l) for l in open(os.path.join(FIX, "classify_train.jsonl"))]
    test = [json.loads(l) for l in open(os.path.join(FIX, "classify_test.jsonl"))][:200]
    with tempfile.TemporaryDirectory() as td:
        tr = os.path.join(td, "train.txt")
        with open(tr, "w") as f:
            for e in train:
                f.write("__label__%s %s\n" % (e["label"], e["text"]))
        m = fasttext.train_supervised(tr, dim=4, epoch=5, lr=0.1, wordNgrams=2, bucket=1000, minCount=1, thread=1,
                                      loss="softmax", seed=0, verbose=0)
        m.save_model(os.path.join(FIX, "classify_fasttext.bin"))
    out = []
    for e in test:
        # all labels, as (probability, label) pairs; the C++ code reports exp(log(p + 1e-5)) = p + 1e-5
        pairs = m.f.predict(e["text"] + "\n", -1, -1.0, "strict")
        out.append({"text": e["text"], "p": {l: p for p, l in pairs}})
    with open(os.path.join(FIX, "classify_fasttext_pred.json"), "w") as f:
        json.dump({"predict_adds": 1e-5, "examples": out}, f)
        f.write("\n")


if __name__ == "__main__":
    main()
