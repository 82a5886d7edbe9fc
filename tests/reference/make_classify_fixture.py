#!/usr/bin/env python3
"""Labelled fixture for the classifier agreement test (tests/data/test_data_classify.c).

Short windows (8 words) of two sources in ../shared/data, lowercased, punctuation removed, so that the task
is not trivially separable: label "shakespeare" (tinyshakespeare.txt) vs "wiki" (wikitext-2/valid.txt).
Writes tests/data/fixtures/classify_{train,test}.jsonl (shuffled, seeded; 3000 + 1000 examples).
    python3 tests/reference/make_classify_fixture.py
"""
import json, os, random, re

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DATA = os.path.join(ROOT, "..", "shared", "data")
OUT = os.path.join(ROOT, "tests", "data", "fixtures")
WIN = 8


def words(path):
    t = open(path, encoding="utf-8").read().lower()
    t = re.sub(r"@.@", " ", t)
    t = re.sub(r"<unk>", " ", t)
    t = re.sub(r"[^a-z0-9' ]+", " ", t)
    return t.split()


def windows(ws, n, rng):
    starts = rng.sample(range(0, len(ws) - WIN), n)
    return [" ".join(ws[s:s + WIN]) for s in starts]


def main():
    rng = random.Random(17)
    sh = words(os.path.join(DATA, "tinyshakespeare.txt"))
    wk = words(os.path.join(DATA, "wikitext-2", "valid.txt"))
    ex = [(t, "shakespeare") for t in windows(sh, 2000, rng)] + [(t, "wiki") for t in windows(wk, 2000, rng)]
    rng.shuffle(ex)
    for name, part in (("train", ex[:3000]), ("test", ex[3000:])):
        with open(os.path.join(OUT, "classify_%s.jsonl" % name), "w") as f:
            for t, l in part:
                f.write(json.dumps({"text": t, "label": l}) + "\n")


if __name__ == "__main__":
    main()
