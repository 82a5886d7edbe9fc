#!/usr/bin/env bash
# Data for the mixing experiment (issue 15): three domains, each split into train/val text, one BPE
# tokenizer (vocab 2048) trained on equal-sized samples of the three train texts, and llm.c shards.
#   wiki:        WikiText-2 (../shared/data/wikitext-2): test.txt trains, the first 2,000 lines of valid.txt validate
#   shakespeare: ../shared/data/tinyshakespeare.txt, the first 90% of lines train, the rest validate
#   code:        this repository's C sources (src/**/*.c, *.h, sorted): every 10th file validates
# Usage: experiments/data/mixing/prep.sh [BUILD_DIR] [OUT_DIR]      (idempotent: existing files are kept)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
LMC=${1:-$root/build}/lmc
OUT=${2:-$root/runs/mixing}
SHARED=${LMC_SHARED_DIR:-$root/../shared}
WT=$SHARED/data/wikitext-2
SH=$SHARED/data/tinyshakespeare.txt
for f in "$WT/test.txt" "$WT/valid.txt" "$SH"; do [ -f "$f" ] || { echo "skip: $f not found" >&2; exit 77; }; done
mkdir -p "$OUT/text" "$OUT/shards"
T=$OUT/text
[ -s "$T/wiki.train.txt" ] || cp "$WT/test.txt" "$T/wiki.train.txt"
[ -s "$T/wiki.val.txt" ] || head -n 2000 "$WT/valid.txt" > "$T/wiki.val.txt"
n=$(wc -l < "$SH"); cut=$((n * 9 / 10))
[ -s "$T/shakespeare.train.txt" ] || head -n "$cut" "$SH" > "$T/shakespeare.train.txt"
[ -s "$T/shakespeare.val.txt" ] || tail -n +"$((cut + 1))" "$SH" > "$T/shakespeare.val.txt"
if [ ! -s "$T/code.train.txt" ]; then
  # the sources as they are in this checkout; sorted so the split is the same on every machine
  (cd "$root" && find src -name '*.[ch]' | LC_ALL=C sort) > "$T/code.files"
  : > "$T/code.train.tmp"; : > "$T/code.val.tmp"
  i=0
  while read -r f; do
    if [ $((i % 10)) -eq 9 ]; then cat "$root/$f" >> "$T/code.val.tmp"; else cat "$root/$f" >> "$T/code.train.tmp"; fi
    i=$((i + 1))
  done < "$T/code.files"
  mv "$T/code.val.tmp" "$T/code.val.txt"; mv "$T/code.train.tmp" "$T/code.train.txt"
fi
# tokenizer: 300 KB of each domain's train text, so no domain owns the merges
if [ ! -s "$OUT/tok.json" ]; then
  for d in wiki shakespeare code; do head -c 300000 "$T/$d.train.txt" > "$T/$d.tokfit.txt"; done
  "$LMC" tokenizer train -o "$OUT/tok.json" --vocab-size 2048 --special '<|endoftext|>' --threads 1 --quiet \
    "$T/wiki.tokfit.txt" "$T/shakespeare.tokfit.txt" "$T/code.tokfit.txt"
fi
for d in wiki shakespeare code; do
  for s in train val; do
    [ -s "$OUT/shards/${d}_$s.bin" ] || "$LMC" tokenizer encode -t "$OUT/tok.json" -o "$OUT/shards/${d}_$s.bin" \
      --threads 1 --quiet "$T/$d.$s.txt"
  done
done
ls -l "$OUT/shards" >&2
