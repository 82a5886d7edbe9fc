#!/usr/bin/env bash
# nGPT vs the baseline (issue 13): a 6-layer d=64 Llama-style model (RMSNorm, RoPE, SwiGLU, untied),
# 600 steps of 16 x 64 tokens, val loss every 25 steps. Baseline: AdamW wd 0.1, 30 warmup steps;
# nGPT: model.normalized ngpt, wd 0, no warmup (the paper's recipe), same lr and cosine schedule;
# both at lr 3e-3 (base.yaml) and at 1e-2. Reports the first evaluated step at which nGPT reaches the
# baseline's final val loss at the same lr.
# Writes results/ngpt_*.json and results/ngpt.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
LMC=${LMC:-./build/lmc}
E=experiments/research_switches
R=runs/research_switches
STEPS=${STEPS:-600}
mkdir -p "$E/results"
"$E/prepare.sh" > /dev/null
for run in base:none:0.1:30:0.003 ngpt:ngpt:0:0:0.003 base_lr1e-2:none:0.1:30:0.01 ngpt_lr1e-2:ngpt:0:0:0.01; do
  IFS=: read -r tag norm wd wu lr <<< "$run"
  name=ngpt_$tag
  if [ ! -f "$R/$name/checkpoints/step_$(printf %08d "$STEPS")/DONE" ]; then
    rm -rf "$R/$name"
    nice -n 10 $LMC train "$E/base.yaml" -q --set run.name=$name --set model.arch=llama --set model.n_layer=6 \
      --set model.normalized=$norm --set train.weight_decay=$wd --set train.warmup_steps=$wu \
      --set train.lr=$lr --set train.steps=$STEPS --set train.eval_every=25
  fi
  grep '"val_loss"' "$R/$name/metrics.jsonl" | jq -s -c --arg t "$tag" \
    '{run: $t, curve: [.[] | [.step, .val_loss]], final: .[-1].val_loss, tps: (.[-1].tokens / .[-1].elapsed_s)}' > "$E/results/$name.json"
done
python3 "$E/tables.py" ngpt > "$E/results/ngpt.md"
cat "$E/results/ngpt.md"
