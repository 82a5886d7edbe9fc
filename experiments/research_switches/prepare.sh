#!/usr/bin/env bash
# Data for the issue-13 experiments: tinyshakespeare (../shared/data), first 90% of the lines train,
# last 10% validation, a 1024-id byte-level BPE trained on the training part. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/../.."
D=runs/research_switches/data
SRC=${SRC:-../shared/data/tinyshakespeare.txt}
LMC=${LMC:-./build/lmc}
mkdir -p "$D"
if [ ! -s "$D/val.bin" ]; then
  n=$(wc -l < "$SRC"); cut=$((n * 9 / 10))
  head -n "$cut" "$SRC" > "$D/train.txt"
  tail -n +"$((cut + 1))" "$SRC" > "$D/val.txt"
  nice $LMC tokenizer train -q -o "$D/tokenizer.json" --vocab-size 1024 --special '<|endoftext|>' "$D/train.txt"
  nice $LMC tokenizer encode -t "$D/tokenizer.json" -o "$D/train.bin" "$D/train.txt"
  nice $LMC tokenizer encode -t "$D/tokenizer.json" -o "$D/val.bin" "$D/val.txt"
fi
ls -la "$D"
