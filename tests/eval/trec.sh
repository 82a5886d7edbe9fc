#!/usr/bin/env bash
# lmc eval --task trec: the training batch of step t is rebuilt exactly, so the checkpoint of step k
# re-evaluated on the batch of step k+1 gives the training loss logged at step k+1, bit for bit
# (same precision and threads); the default model is the newest checkpoint; bad runs are errors.
set -euo pipefail
LMC=$1; SRC=$2
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
F=$SRC/tests/eval/fixtures
"$LMC" tokenizer encode -q -t "$F/gpt2/tokenizer.json" -o "$T/train.bin" "$F/wikitext.txt"
cat > "$T/c.yaml" <<YAML
run: {name: r, dir: $T/runs, seed: 5}
data: {train: $T/train.bin, tokenizer: $F/gpt2/tokenizer.json}
model: {arch: llama, n_layer: 1, n_head: 2, d_model: 32, seq_len: 32}
train: {steps: 8, batch_size: 6, micro_batch: 3, warmup_steps: 1, checkpoint_every: 2, keep_checkpoints: 10,
        precision: fp32, threads: 1, eval_batches: 0}
YAML
"$LMC" train -q "$T/c.yaml"
R=$T/runs/r
for k in 2 4 6; do
  ck=$R/checkpoints/$(printf 'step_%08d' $k)
  "$LMC" eval -q --task trec --run "$R" --model "$ck" --every 1 --threads 1 --json -o "$T/t$k.jsonl" > /dev/null
  want=$(sed -n "$((k + 1))p" "$R/metrics.jsonl" | grep -o '"loss":[^,]*' | cut -d: -f2)
  got=$(sed -n "$((k + 1))p" "$T/t$k.jsonl" | grep -o '"loss":[^,]*' | cut -d: -f2)
  python3 -c "import sys; sys.exit(0 if float('$want') == float('$got') else 1)" ||
      { echo "step $((k + 1)): TREC with step_$k gives $got, training logged $want"; exit 1; }
done
out=$("$LMC" eval -q --task trec --run "$R" --every 3 --json)
echo "$out" | grep -q 'step_00000008' || { echo "default model is not the newest checkpoint: $out"; exit 1; }
echo "$out" | grep -q '"points":3' || { echo "want 3 points (steps 1, 4, 7): $out"; exit 1; }
if "$LMC" eval -q --task trec --run "$T/nothing" 2> "$T/err"; then echo "missing run accepted"; exit 1; fi
grep -q 'config.yaml' "$T/err" || { echo "message: $(cat "$T/err")"; exit 1; }
echo "ok: TREC(k+1) with checkpoint k equals the logged training loss for k = 2, 4, 6"
