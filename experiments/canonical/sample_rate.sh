#!/usr/bin/env bash
# Share of non-canonical token sequences sampled by `lmc sample` at temperature 1 (no top-k / top-p),
# with and without --canonical (issue 20). Usage:
#   experiments/canonical/sample_rate.sh LMC MODEL_DIR N_SAMPLES N_TOKENS OUT_DIR
# Each sample starts at <|endoftext|> and stops at it or after N_TOKENS. A sample that ended at
# <|endoftext|> is judged as a whole (lmc tokenizer canonical); one cut at N_TOKENS as a prefix
# (--prefix: the text after it could still change the last piece).
set -euo pipefail
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}  # one thread: a tiny model gains nothing from more, and spins on a loaded machine
LMC=$1 MODEL=$2 N=$3 T=$4 OUT=$5
mkdir -p "$OUT"
TOK=$MODEL/tokenizer.json
EOT=$("$LMC" -q tokenizer encode -t "$TOK" --special all <(printf '<|endoftext|>'))
for mode in plain canonical; do
  : > "$OUT/$mode.ended"; : > "$OUT/$mode.cut"
  flag=""; [ $mode = canonical ] && flag=--canonical
  for s in $(seq 1 "$N"); do
    ids=$("$LMC" -q sample -m "$MODEL" -n "$T" --temperature 1 --top-k 0 --seed "$s" --ids $flag)
    last=${ids##* }
    if [ "$last" = "$EOT" ]; then echo "$ids" >> "$OUT/$mode.ended"; else echo "$ids" >> "$OUT/$mode.cut"; fi
  done
  for kind in ended cut; do
    f=$OUT/$mode.$kind; [ -s "$f" ] || { echo "$mode $kind: 0 samples"; continue; }
    p=""; [ $kind = cut ] && p=--prefix
    r=$("$LMC" -q tokenizer canonical -t "$TOK" --ids "$f" --count $p | grep 'sequences non-canonical' || true)
    echo "$mode $kind: $r"
  done
done | tee "$OUT/summary.txt"
