#!/usr/bin/env bash
# WikiText-2 data for the anGPT and QK-norm experiments (issue 13): ../shared/data/wikitext-2 has the
# validation and test splits only, so test.txt trains and valid.txt validates; a 1024-id byte-level BPE
# trained on the training part. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/../.."
D=runs/research_switches/wt2
SHARED=${LMC_SHARED:-$( [ -d ../shared ] && echo ../shared || echo /work/shared )}
SRC=${SRC:-$SHARED/data/wikitext-2}
LMC=${LMC:-./build/lmc}
mkdir -p "$D"
if [ ! -s "$D/val.bin" ]; then
  nice $LMC tokenizer train -q -o "$D/tokenizer.json" --vocab-size 1024 --special '<|endoftext|>' "$SRC/test.txt"
  nice $LMC tokenizer encode -t "$D/tokenizer.json" -o "$D/train.bin" "$SRC/test.txt"
  nice $LMC tokenizer encode -t "$D/tokenizer.json" -o "$D/val.bin" "$SRC/valid.txt"
fi
ls -la "$D"
