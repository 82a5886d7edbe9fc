#!/usr/bin/env bash
# QK-norm stability (issue 13, TECHNIQUES.md §18 test 5): the wt2.yaml Llama-style model with and without
# model.qk_norm at the baseline's lr 3e-3 and at 3x, 10x, 33x and 100x it (AdamW wd 0.1, 30 warmup
# steps, cosine), 300 steps each. Non-finite steps are skipped by lmc train, which stops after several in a
# row; such a run is reported as diverged (its last step < the steps asked for). Writes results/qknorm_*.json and results/qknorm.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
LMC=${LMC:-./build/lmc}
E=experiments/research_switches
R=runs/research_switches
STEPS=${STEPS:-300}
mkdir -p "$E/results"
"$E/prepare_wt2.sh" > /dev/null
for qk in true false; do
  for lr in ${LRS:-0.003 0.009 0.03 0.1 0.3}; do
    name=qknorm_${qk}_$lr
    if [ ! -f "$R/$name/checkpoints/step_$(printf %08d "$STEPS")/DONE" ]; then
      rm -rf "$R/$name"
      nice -n 10 $LMC train "$E/wt2.yaml" -q --set run.name=$name --set model.qk_norm=$qk --set train.lr=$lr \
        --set train.steps=$STEPS > "$R/$name.log" 2>&1 || true
    fi
    jq -s -c --arg qk "$qk" --arg lr "$lr" --argjson steps "$STEPS" \
      '{qk_norm: $qk, lr: ($lr | tonumber), steps: $steps, last_step: (map(.step) | max),
        val: ([.[] | select(.val_loss != null) | [.step, .val_loss]]),
        max_loss: (map(.loss) | max), max_loss_late: ([.[] | select(.step > 50) | .loss] | max), final_loss: .[-1].loss}' "$R/$name/metrics.jsonl" > "$E/results/$name.json"
  done
done
python3 "$E/tables.py" qknorm > "$E/results/qknorm.md"
cat "$E/results/qknorm.md"
