#!/bin/sh
# Shards for configs/mix3.yaml: a 3-source mixture (WikiText-2, tinyshakespeare, this repository's own C
# sources), one BPE tokenizer (vocab 1024) trained on all three training splits. Run from the repository
# root after building lmc:
#   sh experiments/data/make_mix3.sh [OUT=runs/mix3/data]
# wiki: WikiText-2 valid.txt (one paragraph a document) to train, the first 10% of test.txt to val;
# shakespeare: paragraphs, the last 5% to val; code: src/**/*.c and .h, every 10th file (sorted) to val.
set -eu
OUT=${1:-runs/mix3/data}
SHARED=${LMC_SHARED_DIR:-../shared}
LMC=${LMC:-build/lmc}
for f in "$SHARED/data/wikitext-2/valid.txt" "$SHARED/data/wikitext-2/test.txt" "$SHARED/data/tinyshakespeare.txt"; do
  [ -f "$f" ] || { echo "make_mix3.sh: $f is missing (set LMC_SHARED_DIR)" >&2; exit 1; }
done
mkdir -p "$OUT"
python3 - "$SHARED/data" "$OUT" <<'PY'
import glob, json, os, sys
data, out = sys.argv[1], sys.argv[2]
def write(name, docs):
    with open(os.path.join(out, name + ".jsonl"), "w", encoding="utf-8") as f:
        for d in docs:
            f.write(json.dumps({"text": d}) + "\n")
def paras(text):
    return [p.strip() + "\n" for p in text.split("\n\n") if p.strip()]
wiki_lines = lambda p: [l.strip() + "\n" for l in open(p, encoding="utf-8") if l.strip() and not l.strip().startswith("=")]
write("wiki_train", wiki_lines(os.path.join(data, "wikitext-2/valid.txt")))
test = wiki_lines(os.path.join(data, "wikitext-2/test.txt"))
write("wiki_val", test[: len(test) // 10])
sh = paras(open(os.path.join(data, "tinyshakespeare.txt"), encoding="utf-8").read())
cut = int(len(sh) * 0.95)
write("shakespeare_train", sh[:cut])
write("shakespeare_val", sh[cut:])
files = sorted(glob.glob("src/**/*.c", recursive=True) + glob.glob("src/**/*.h", recursive=True))
code = [open(f, encoding="utf-8", errors="replace").read() for f in files]
write("code_train", [c for i, c in enumerate(code) if i % 10])
write("code_val", [c for i, c in enumerate(code) if i % 10 == 0])
PY
"$LMC" tokenizer train -o "$OUT/tok.json" --vocab-size 1024 --special '<|endoftext|>' \
  "$OUT/wiki_train.jsonl" "$OUT/shakespeare_train.jsonl" "$OUT/code_train.jsonl"
for s in wiki shakespeare code; do
  for split in train val; do
    "$LMC" tokenizer encode -q -t "$OUT/tok.json" -o "$OUT/${s}_$split.bin" "$OUT/${s}_$split.jsonl"
  done
done
echo "make_mix3.sh: shards in $OUT"
