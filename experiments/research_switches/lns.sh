#!/usr/bin/env bash
# LNS vs Pre-LN (issue 13): a 12-layer d=64 GPT-2-style model (LayerNorm, learned positions, GELU),
# 400 steps of 16 x 64 tokens, then `lmc depth-stats` on the validation shard at initialisation and
# after training: per-layer residual variance and angular distance between each block's input and
# output, and the final val loss. Writes results/lns_*.json and results/lns.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
LMC=${LMC:-./build/lmc}
E=experiments/research_switches
R=runs/research_switches
STEPS=${STEPS:-400}
mkdir -p "$E/results"
"$E/prepare.sh" > /dev/null
for mode in none lns; do
  name=lns_$mode
  if [ ! -f "$R/$name/checkpoints/step_$(printf %08d "$STEPS")/DONE" ]; then
    rm -rf "$R/$name"
    nice -n 10 $LMC train "$E/base.yaml" -q --set run.name=$name --set model.n_layer=12 \
      --set model.depth_scaling=$mode --set train.steps=$STEPS
  fi
  ck=$(ls -d "$R/$name"/checkpoints/step_* | tail -1)
  nice -n 10 $LMC depth-stats --model "$ck" --data "$R/data/val.bin" --seq-len 64 --batch 8 --batches 8 --threads 1 \
    --random-init 1337 > "$E/results/${name}_init.json"
  nice -n 10 $LMC depth-stats --model "$ck" --data "$R/data/val.bin" --seq-len 64 --batch 8 --batches 8 --threads 1 \
    > "$E/results/${name}_trained.json"
  grep '"val_loss"' "$R/$name/metrics.jsonl" | tail -1 | jq -c '{step, val_loss, loss}' > "$E/results/${name}_loss.json"
done
python3 "$E/tables.py" lns > "$E/results/lns.md"
cat "$E/results/lns.md"
