#!/usr/bin/env python3
"""Fixture for tests/data/test_data_agree.c: synthetic documents (seeded, no real data) with datatrove's
verdicts for each rule set, so CI can check lmc's filters against datatrove without Python.

Usage: python3 tests/reference/datatrove_filter_fixture.py > tests/data/fixtures/datatrove_filters.jsonl
Needs: pip install datatrove spacy   (datatrove 0.10.1 was used; English words come from spaCy)."""
import json
import random

from datatrove.data import Document
from datatrove.pipeline.filters import (C4QualityFilter, FineWebQualityFilter, GopherQualityFilter,
                                        GopherRepetitionFilter)

rng = random.Random(2024)
WORDS = ("the of and to in a is that for it as was with be by on not he this are or his from at which but have "
         "an they you were her she there been one all we their has would when if so no will can more about what up "
         "out them into some could than other time these two may then do first any my now such like our over man me "
         "even most made after also did many before must through back years where much your way well down should "
         "because each just those people how too little state good very make world still own see men work long get "
         "here between both life being under never day same another know while last might us great old year off come "
         "since against go came right used take three river castle music army light garden winter doctor").split()
EXTRA = ["don't", "it's", "we'll", "they're", "I've", "well-known", "twenty-one", "U.S.", "e.g.", "Dr.", "3.5",
         "1,200", "(see", "below)", "\"quoted\"", "'single'", "café", "naïve", "#tag", "a#b", "x...y", "—", "–", "&",
         "50%", "$20", "C++", "email@example.com", "http://example.com/a-b", "...", "…", ";", ":", "[1]", "[edit]"]


def word():
    r = rng.random()
    if r < 0.08:
        return rng.choice(EXTRA)
    if r < 0.12:
        return str(rng.randint(0, 3000))
    w = rng.choice(WORDS)
    return w.capitalize() if rng.random() < 0.1 else w


def sentence():
    n = rng.randint(2, 18)
    ws = [word() for _ in range(n)]
    ws[0] = ws[0].capitalize()
    for i in range(1, n - 1):
        if rng.random() < 0.08:
            ws[i] += ","
    return " ".join(ws) + rng.choice([".", ".", ".", "!", "?", "...", "…", "", ".\"", ":"])


def line(prev):
    k = rng.random()
    if k < 0.45:
        return " ".join(sentence() for _ in range(rng.randint(1, 4)))
    if k < 0.55:
        return rng.choice(["- ", "• ", "* ", "  - "]) + " ".join(word() for _ in range(rng.randint(1, 8)))
    if k < 0.62:
        return "# " + " ".join(word() for _ in range(rng.randint(1, 5)))
    if k < 0.70 and prev:
        return rng.choice(prev)
    if k < 0.76:
        return " ".join(str(rng.randint(0, 99)) for _ in range(rng.randint(1, 6)))
    if k < 0.80:
        return ""
    if k < 0.83:
        return rng.choice(["Please enable JavaScript to view this page.", "Read our privacy policy.",
                           "Lorem ipsum dolor sit amet.", "function f() { return 1; }",
                           "This site uses cookies to improve your experience."])
    return " ".join(word() for _ in range(rng.randint(1, 12)))


def document():
    lines = []
    for _ in range(rng.choice([1, 2, 3, 5, 8, 12, 20, 30, 45])):
        lines.append(line(lines))
    sep = rng.choice(["\n", "\n", "\n\n", "\n\n\n"])
    t = sep.join(lines)
    if rng.random() < 0.1:  # repeated block
        t = t + "\n\n" + t[: len(t) // 2]
    return t


filters = [("gopher-repetition", GopherRepetitionFilter()), ("gopher-quality", GopherQualityFilter()),
           ("c4", C4QualityFilter()), ("fineweb", FineWebQualityFilter())]
for i in range(400):
    text = document()
    if not text.strip():
        continue
    out = {"text": text}
    for name, f in filters:
        doc = Document(text=text, id=str(i))
        r = f.filter(doc)
        out[name] = "keep" if r is True else (r[1] if isinstance(r, tuple) else "drop")
    print(json.dumps(out, ensure_ascii=False))
