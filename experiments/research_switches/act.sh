#!/usr/bin/env bash
# Activation families at equal parameters and steps (issue 13): a 6-layer d=64 GPT-2-style model,
# 600 steps of 16 x 64 tokens, the MLP activation switched: gelu (4d), swiglu (d_ff 170, so the three
# matrices hold as many weights as gelu's two), hermite / fourier / tropical of degree 3 (the paper's
# GPT-2 degree; 4, 10, 4 scalar coefficients per layer). Writes results/act_*.json and results/act.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
LMC=${LMC:-./build/lmc}
E=experiments/research_switches
R=runs/research_switches
STEPS=${STEPS:-600}
mkdir -p "$E/results"
"$E/prepare.sh" > /dev/null
for act in ${ACTS:-gelu swiglu hermite fourier tropical}; do
  name=act_$act
  extra=()
  [ $act = swiglu ] && extra=(--set model.d_ff=170)
  if [ ! -f "$R/$name/checkpoints/step_$(printf %08d "$STEPS")/DONE" ]; then
    rm -rf "$R/$name"
    nice -n 10 $LMC train "$E/base.yaml" -q --set run.name=$name --set model.n_layer=6 \
      --set model.activation=$act --set train.steps=$STEPS "${extra[@]}"
  fi
  params=$(head -1 "$R/$name/train.log" | sed 's/.*: \([0-9.]*[kM]\) parameters.*/\1/')
  grep '"val_loss"' "$R/$name/metrics.jsonl" | tail -1 |
    jq -c --arg p "$params" '{step, val_loss, loss, params: $p, tps: (.tokens / .elapsed_s)}' > "$E/results/$name.json"
done
python3 "$E/tables.py" act > "$E/results/act.md"
cat "$E/results/act.md"
