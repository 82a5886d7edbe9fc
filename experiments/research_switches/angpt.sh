#!/usr/bin/env bash
# Baseline (Llama-style + QK-norm, AdamW wd 0.1, 30 warmup steps) vs nGPT vs anGPT (both: wd 0, no
# warmup, the papers' recipe; anGPT keeps QK-norm) on WikiText-2 (wt2.yaml, prepare_wt2.sh): 4 layers,
# d = 64, 600 steps of 16 x 64 tokens, val loss every 25 steps, at lr 3e-3 (LR1E2=1 adds lr 1e-2;
# same cosine schedule for all). Reports the first evaluated step at which nGPT / anGPT reach the baseline's final
# val loss at the same lr, and the tokens/s of each run (rough: a loaded shared machine).
# Writes results/angpt_*.json and results/angpt.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
LMC=${LMC:-./build/lmc}
E=experiments/research_switches
R=runs/research_switches
STEPS=${STEPS:-600}
mkdir -p "$E/results"
"$E/prepare_wt2.sh" > /dev/null
RUNS="base:none:true:0.1:30:0.003 ngpt:ngpt:false:0:0:0.003 angpt:angpt:true:0:0:0.003"
[ "${LR1E2:-0}" = 1 ] && RUNS="$RUNS base_lr1e-2:none:true:0.1:30:0.01 ngpt_lr1e-2:ngpt:false:0:0:0.01 angpt_lr1e-2:angpt:true:0:0:0.01"
for run in $RUNS; do
  IFS=: read -r tag norm qk wd wu lr <<< "$run"
  name=angpt_$tag
  if [ ! -f "$R/$name/checkpoints/step_$(printf %08d "$STEPS")/DONE" ]; then
    rm -rf "$R/$name"
    nice -n 10 $LMC train "$E/wt2.yaml" -q --set run.name=$name --set model.normalized=$norm --set model.qk_norm=$qk \
      --set train.weight_decay=$wd --set train.warmup_steps=$wu --set train.lr=$lr --set train.steps=$STEPS
  fi
  grep '"val_loss"' "$R/$name/metrics.jsonl" | jq -s -c --arg t "$tag" \
    '{run: $t, curve: [.[] | [.step, .val_loss]], final: .[-1].val_loss, tps: (.[-1].tokens / .[-1].elapsed_s)}' > "$E/results/$name.json"
done
python3 "$E/tables.py" angpt > "$E/results/angpt.md"
cat "$E/results/angpt.md"
