#!/usr/bin/env bash
# train.eval_tasks: tasks run at their steps and at the end, logged to metrics.jsonl as eval/<task>_<metric>;
# the value logged at the last step equals `lmc eval --task` on the final checkpoint; bad lists are errors
# naming the line.
set -euo pipefail
LMC=$1; SRC=$2
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
F=$SRC/tests/eval/fixtures
"$LMC" tokenizer encode -q -t "$F/gpt2/tokenizer.json" -o "$T/train.bin" "$F/wikitext.txt"
cat > "$T/c.yaml" <<YAML
run: {name: r, dir: $T/runs, seed: 3}
data: {train: $T/train.bin, val: $T/train.bin, tokenizer: $F/gpt2/tokenizer.json}
model: {arch: gpt2, n_layer: 1, n_head: 2, d_model: 32, seq_len: 64}
train:
  steps: 6
  batch_size: 4
  micro_batch: 4
  warmup_steps: 1
  eval_every: 0
  eval_batches: 1
  checkpoint_every: 0
  precision: fp32
  threads: 1
  diag_every: 3
  eval_tasks:
    - {task: blimp, data: "$F/blimp/*.jsonl", every: 4, limit: 10}
    - {task: lambada, data: $F/lambada.jsonl, limit: 5}
YAML
"$LMC" train -q "$T/c.yaml"
M=$T/runs/r/metrics.jsonl
steps=$(grep -n '"eval/blimp_acc"' "$M" | cut -d: -f1 | tr '\n' ' ')
[ "$steps" = "4 6 " ] || { echo "eval/blimp_acc at lines '$steps', want '4 6 '"; exit 1; }
[ "$(grep -c '"eval/lambada_acc"' "$M")" = 1 ] || { echo "lambada: want one record (the end)"; exit 1; }
grep -q '"eval/lambada_perplexity"' <(tail -1 "$M") || { echo "lambada perplexity missing at the end"; exit 1; }
logged=$(tail -1 "$M" | grep -o '"eval/blimp_acc":[0-9.e-]*' | cut -d: -f2)
ck=$(ls -d "$T"/runs/r/checkpoints/step_* | tail -1)
direct=$("$LMC" eval -q --model "$ck" --task blimp --limit 10 --threads 1 --json --data "$F"/blimp/*.jsonl |
         grep -o '"acc":[0-9.e-]*' | cut -d: -f2)
python3 -c "import sys; a,b=float('$logged'),float('$direct'); sys.exit(0 if a==b else 1)" ||
    { echo "logged $logged != lmc eval $direct"; exit 1; }
grep -q 'eval_tasks:' "$T/runs/r/config.yaml" || { echo "config.yaml lost the list"; exit 1; }
# train.diag_every: zsl_D / gwa at steps 3 and 6, D in [0, 1]; the probe forwards and the tasks leave
# training untouched: the same run without them has bitwise the same losses
steps=$(grep -n '"zsl_D"' "$M" | cut -d: -f1 | tr '\n' ' ')
[ "$steps" = "3 6 " ] || { echo "zsl_D at lines '$steps', want '3 6 '"; exit 1; }
grep -o '"zsl_D":[^,]*' "$M" | cut -d: -f2 | python3 -c "import sys; v=[float(x) for x in sys.stdin]; sys.exit(0 if all(0 <= x <= 1 for x in v) else 1)" ||
    { echo "zsl_D outside [0, 1]"; exit 1; }
grep -q '"gwa":' "$M" || { echo "gwa missing"; exit 1; }
sed -e '/eval_tasks:/,$d' -e '/diag_every/d' -e 's/name: r,/name: plain,/' "$T/c.yaml" > "$T/plain.yaml"
"$LMC" train -q "$T/plain.yaml"
diff <(grep -o '"loss":[^,]*' "$M") <(grep -o '"loss":[^,]*' "$T/runs/plain/metrics.jsonl") ||
    { echo "eval_tasks / diag_every changed the training losses"; exit 1; }
# bad lists
sed 's/limit: 5}/limt: 5}/' "$T/c.yaml" > "$T/bad.yaml"
if msg=$("$LMC" train --print-config "$T/bad.yaml" 2>&1); then echo "unknown field accepted"; exit 1; fi
echo "$msg" | grep -q 'bad.yaml:[0-9]*:[0-9]*: train.eval_tasks: unknown field' || { echo "message: $msg"; exit 1; }
sed 's/task: lambada/task: hellaswagx/' "$T/c.yaml" > "$T/bad.yaml"
if "$LMC" train --print-config "$T/bad.yaml" > /dev/null 2>&1; then echo "unknown task accepted"; exit 1; fi
echo "ok: eval/blimp_acc at steps 4 and 6 = lmc eval ($direct)"
