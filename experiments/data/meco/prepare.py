#!/usr/bin/env python3
"""MeCo experiment data (docs/research.md, issue 15 "MeCo"): documents of three real corpora from
../shared/data and Debian's fortunes, each with the URL of the place the corpus comes from. No corpus there
carries per-document URLs, so the metadata is the SOURCE DOMAIN (the paper shows hashed URLs work as a
grouping signal, so a domain name is a fair stand-in, though a much coarser one):
  WikiText-2 valid+test articles         https://en.wikipedia.org/wiki/<title>   -> en.wikipedia.org
  tinyshakespeare, ~2000-byte passages   https://github.com/karpathy/char-rnn     -> github.com
  Debian fortunes, 8 quotations per doc  https://packages.debian.org/fortunes     -> packages.debian.org
Per source the documents are shuffled (seed 15) and split 5% validation / 9.5% cooldown pool / rest stage 1;
each source is capped at MAX_BYTES so no source dominates.
Writes OUT/{stage1,cool,val}.jsonl ({"text", "url"}) and OUT/tok_train.txt (stage-1 text, for the tokenizer).
Usage: prepare.py SHARED_DATA_DIR FORTUNES_DIR OUT_DIR"""
import json, os, random, re, sys

MAX_BYTES = 1_000_000


def wikitext(d):
    docs = []
    for split in ("valid.txt", "test.txt"):
        cur, title = [], None
        for line in open(os.path.join(d, "wikitext-2", split), encoding="utf-8"):
            m = re.match(r"^ = ([^=].*[^=]) = $", line.rstrip("\n"))
            if m:
                if title and cur: docs.append((title, "".join(cur).strip()))
                title, cur = m.group(1), [line]
            elif title:
                cur.append(line)
        if title and cur: docs.append((title, "".join(cur).strip()))
    return [(text, "https://en.wikipedia.org/wiki/" + title.replace(" ", "_")) for title, text in docs]


def shakespeare(d):
    text = open(os.path.join(d, "tinyshakespeare.txt"), encoding="utf-8").read()
    docs, cur = [], ""
    for para in text.split("\n\n"):
        cur = cur + "\n\n" + para if cur else para
        if len(cur) >= 2000:
            docs.append(cur)
            cur = ""
    if cur: docs.append(cur)
    return [(t, "https://github.com/karpathy/char-rnn/blob/master/data/tinyshakespeare/input.txt") for t in docs]


def fortunes(d):
    quotes = []
    for name in sorted(os.listdir(d)):
        p = os.path.join(d, name)
        if "." in name or not os.path.isfile(p) or os.path.islink(p): continue
        try:
            body = open(p, encoding="utf-8").read()
        except UnicodeDecodeError:
            continue
        quotes += [q.strip("\n") for q in body.split("\n%\n") if q.strip()]
    return [("\n\n".join(quotes[i:i + 8]), "https://packages.debian.org/sid/fortunes")
            for i in range(0, len(quotes), 8)]


def main():
    shared, fdir, out = sys.argv[1:4]
    os.makedirs(out, exist_ok=True)
    splits = {"stage1": [], "cool": [], "val": []}
    rng = random.Random(15)
    for name, docs in (("wikitext", wikitext(shared)), ("shakespeare", shakespeare(shared)), ("fortunes", fortunes(fdir))):
        rng.shuffle(docs)
        kept, size = [], 0
        for t, u in docs:
            if size >= MAX_BYTES: break
            kept.append((t, u))
            size += len(t.encode())
        n = len(kept)
        nv, nc = max(1, n * 5 // 100), max(1, n * 95 // 1000)
        parts = {"val": kept[:nv], "cool": kept[nv:nv + nc], "stage1": kept[nv + nc:]}
        for k, v in parts.items():
            splits[k] += v
        print(f"{name}: {n} documents, {size} bytes; val {nv}, cooldown {nc}, stage 1 {n - nv - nc}", file=sys.stderr)
    for k, v in splits.items():
        rng.shuffle(v)
        with open(os.path.join(out, k + ".jsonl"), "w", encoding="utf-8") as f:
            for t, u in v:
                f.write(json.dumps({"text": t, "url": u}) + "\n")
    with open(os.path.join(out, "tok_train.txt"), "w", encoding="utf-8") as f:
        for t, _ in splits["stage1"]:
            f.write(t + "\n\n")


if __name__ == "__main__":
    main()
