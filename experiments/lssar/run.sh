#!/usr/bin/env bash
# LSSAR vs softmax length extrapolation (issue 13, TECHNIQUES §2): train at T = 128 with
# model.attention = softmax | lssa | lssar (same seed, data, schedule), evaluate each at
# T = 128/256/512/1024 on the first EVAL_TOKENS validation tokens, print the table.
# Usage: experiments/lssar/run.sh [BUILD_DIR] [OUT_DIR]   (env STEPS, EVAL_TOKENS, ATTNS to scale)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
LMC=${1:-$root/build}/lmc
OUT=${2:-$root/runs/lssar}
STEPS=${STEPS:-200}
EVAL_TOKENS=${EVAL_TOKENS:-16384}
ATTNS=${ATTNS:-"softmax lssar"}  # "softmax lssar lssa" adds LSSA
TXT=$root/../shared/data/tinyshakespeare.txt
[ -f "$TXT" ] || { echo "skip: $TXT not found" >&2; exit 0; }
mkdir -p "$OUT"
n=$(wc -l < "$TXT"); cut=$((n * 9 / 10))
[ -s "$OUT/train.txt" ] || head -n "$cut" "$TXT" > "$OUT/train.txt"
[ -s "$OUT/val.txt" ] || tail -n +"$((cut + 1))" "$TXT" > "$OUT/val.txt"
[ -s "$OUT/tok.json" ] || "$LMC" tokenizer train -o "$OUT/tok.json" --vocab-size 2048 --special '<|endoftext|>' "$OUT/train.txt" --quiet
[ -s "$OUT/train.bin" ] || "$LMC" tokenizer encode -t "$OUT/tok.json" -o "$OUT/train.bin" "$OUT/train.txt" --quiet
[ -s "$OUT/val.bin" ] || "$LMC" tokenizer encode -t "$OUT/tok.json" -o "$OUT/val.bin" "$OUT/val.txt" --quiet
ck=$(printf 'step_%08d' "$STEPS")
for a in $ATTNS; do
  if [ ! -f "$OUT/$a/tinyshakespeare/checkpoints/$ck/DONE" ]; then
    rm -rf "$OUT/$a"
    s0=$(date +%s)
    "$LMC" train "$here/config.yaml" --quiet --set run.dir="$OUT/$a" --set model.attention=$a \
      --set train.steps="$STEPS" --set train.checkpoint_every="$STEPS" --set train.warmup_steps=$((STEPS / 10)) \
      --set data.train="$OUT/train.bin" --set data.val="$OUT/val.bin" --set data.tokenizer="$OUT/tok.json"
    echo "$a: trained $STEPS steps in $(( $(date +%s) - s0 )) s" >&2
  fi
  for T in 128 256 512 1024; do
    [ -s "$OUT/$a.T$T.json" ] || "$LMC" eval --model "$OUT/$a/tinyshakespeare/checkpoints/$ck" --data "$OUT/val.bin" \
      --seq-len $T --extrapolate --max-tokens "$EVAL_TOKENS" --threads 2 > "$OUT/$a.T$T.json"
  done
done
python3 - "$OUT" $ATTNS <<'PY'
import json, sys
o, attns = sys.argv[1], sys.argv[2:]
Ts = [128, 256, 512, 1024]
print("val loss (nats/token) by evaluation length; trained at T = 128")
print(f"{'attention':10s}" + "".join(f"{T:>9d}" for T in Ts) + "   1024-128")
for a in attns:
    r = [json.load(open(f"{o}/{a}.T{T}.json"))["loss"] for T in Ts]
    print(f"{a:10s}" + "".join(f"{x:9.4f}" for x in r) + f"{r[-1] - r[0]:+10.4f}")
PY
