#!/bin/bash
# The merging scaling law experiment (issue 18, TECHNIQUES §8e), sized for the 2-core dev machine:
# 8 fine-tunes ("experts") of the tiny Llama base (tests/interop/fixtures/gguf/tiny_llama, 300 steps
# on tinyshakespeare) on 8 disjoint eighths of the training text, 60 steps each at lr 1e-3 from the
# base (fresh AdamW); the equal-weight merge of the first k experts (task arithmetic, weights 1/k),
# k = 1..8, evaluated on the validation text; then `lmc scaling merge-fit` (fit on k <= 4, k = 5..8 held
# out, and on all k).
# Usage: experiments/merge_scaling/run.sh WORK_DIR  (WORK_DIR holds ftruns/ft0..ft7 made with
# configs like the ones written below, val_cl.bin, and the base as an HF folder)
set -eu
W=$1
LMC=${LMC:-build/lmc}
BASE=$W/hfout
OUT=$W/merge_scaling
mkdir -p "$OUT"
echo "k,loss" > "$OUT/points.csv"
for k in 1 2 3 4 5 6 7 8; do
  models=(); ws=()
  for i in $(seq 0 $((k - 1))); do models+=("$W/ftruns/ft$i/checkpoints/step_00000060"); ws+=("$(awk -v k=$k 'BEGIN{printf "%.9g", 1/k}')"); done
  w=$(IFS=,; echo "${ws[*]}")
  "$LMC" merge -q -o "$OUT/merged_k$k" --base "$BASE" "${models[@]}" --method ta --weights "$w"
  loss=$("$LMC" eval -q --model "$OUT/merged_k$k" --data "$W/val_cl.bin" --seq-len 64 | sed 's/.*"loss": \([^,]*\),.*/\1/')
  echo "$k,$loss" >> "$OUT/points.csv"
  echo "k=$k loss=$loss"
done
base=$("$LMC" eval -q --model "$BASE" --data "$W/val_cl.bin" --seq-len 64 | sed 's/.*"loss": \([^,]*\),.*/\1/')
echo "base loss $base"
"$LMC" scaling merge-fit --holdout 5 "$OUT/points.csv"
"$LMC" scaling merge-fit "$OUT/points.csv"
