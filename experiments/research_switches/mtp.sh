#!/usr/bin/env bash
# Multi-token prediction and its curriculum (issue 13): a 6-layer d=64 GPT-2-style model, 600 steps of
# 16 x 64 tokens: next-token only (ntp), static MTP with K = 3 extra heads (k_max = 4, the paper's),
# the forward curriculum (1 -> 4 heads) and the reverse one (4 -> 1), in 4 equal stages. Reports the
# next-token head's val loss and, from `lmc mtp-stats`, each head's val loss, draft agreement and
# tokens per verification pass (teacher-forced self-speculation). Writes results/mtp_*.json, mtp.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
LMC=${LMC:-./build/lmc}
E=experiments/research_switches
R=runs/research_switches
STEPS=${STEPS:-600}
mkdir -p "$E/results"
"$E/prepare.sh" > /dev/null
for run in ntp:0:none static:3:none forward:3:forward reverse:3:reverse; do
  IFS=: read -r tag K cur <<< "$run"
  name=mtp_$tag
  if [ ! -f "$R/$name/checkpoints/step_$(printf %08d "$STEPS")/DONE" ]; then
    rm -rf "$R/$name"
    nice -n 10 $LMC train "$E/base.yaml" -q --set run.name=$name --set model.n_layer=6 \
      --set model.mtp_heads=$K --set train.mtp_curriculum=$cur --set train.steps=$STEPS
  fi
  ck=$(ls -d "$R/$name"/checkpoints/step_* | tail -1)
  stats='{}'
  if [ "$K" -gt 0 ]; then
    stats=$(nice -n 10 $LMC mtp-stats --model "$ck" --data "$R/data/val.bin" --seq-len 64 --batch 8 --batches 8 --threads 1)
  fi
  grep '"val_loss"' "$R/$name/metrics.jsonl" | tail -1 |
    jq -c --argjson s "$stats" --arg K "$K" --arg c "$cur" \
      '{step, val_loss, loss, K: ($K|tonumber), curriculum: $c, tps: (.tokens / .elapsed_s)} + $s' > "$E/results/$name.json"
done
python3 "$E/tables.py" mtp > "$E/results/mtp.md"
cat "$E/results/mtp.md"
