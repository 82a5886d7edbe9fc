#!/usr/bin/env bash
# Optimizer comparison (issue 14): tinyshakespeare, BPE 2048, a 2-layer d=64 GPT-2, 150 steps of
# 8 x 64 tokens (77k tokens) for every run; each optimizer gets a 3-5 point lr grid (factor 2 apart, extended until the best lr is inside it); runs under
# nice -n 10, two at a time (JOBS=2), one thread each. Sized for a 2-core machine shared by a load
# of ~20: about 25 minutes there. Prints a markdown table: best final val loss per optimizer (over its grid), its lr, and
# the tokens at which its val loss first reaches AdamW+cosine's best final val loss.
# Usage: experiments/optimizers/run.sh [BUILD_DIR] [OUT_DIR] [OPTIMIZERS...]
#   OPTIMIZERS: any of adamw-cosine adamw-wsd sf-adamw sf-adamw-refined muon soap kl-shampoo kl-soap galore
#   galore-importance (default: all)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
LMC=${1:-$root/build}/lmc
OUT=${2:-$root/runs/optimizers}
shift $(( $# >= 2 ? 2 : $# )) || true
OPTS=("$@")
[ ${#OPTS[@]} -gt 0 ] || OPTS=(adamw-cosine adamw-wsd sf-adamw sf-adamw-refined muon soap kl-shampoo kl-soap galore galore-importance)
TXT=${SHARED:-$root/../shared}/data/tinyshakespeare.txt   # SHARED: the shared folder when the checkout is elsewhere
[ -f "$TXT" ] || { echo "skip: $TXT not found" >&2; exit 0; }
mkdir -p "$OUT"
n=$(wc -l < "$TXT"); cut=$((n * 9 / 10))
[ -s "$OUT/train.txt" ] || head -n "$cut" "$TXT" > "$OUT/train.txt"
[ -s "$OUT/val.txt" ] || tail -n +"$((cut + 1))" "$TXT" > "$OUT/val.txt"
[ -s "$OUT/tok.json" ] || "$LMC" tokenizer train -o "$OUT/tok.json" --vocab-size 2048 --special '<|endoftext|>' "$OUT/train.txt" --quiet
[ -s "$OUT/train.bin" ] || "$LMC" tokenizer encode -t "$OUT/tok.json" -o "$OUT/train.bin" "$OUT/train.txt" --quiet
[ -s "$OUT/val.bin" ] || "$LMC" tokenizer encode -t "$OUT/tok.json" -o "$OUT/val.bin" "$OUT/val.txt" --quiet
grid() {   # the lr grid of each optimizer (Muon: train.muon.lr=0 -> its matrices use train.lr, match_rms_adamw)
  case $1 in
    adamw-cosine|adamw-wsd) echo "1.5e-3 3e-3 6e-3" ;;
    sf-adamw|sf-adamw-refined) echo "1.5e-3 3e-3 6e-3 1.2e-2" ;;
    muon) echo "3e-3 6e-3 1.2e-2 2.4e-2" ;;
    soap|kl-soap) echo "1.5e-3 3e-3 6e-3 1.2e-2 2.4e-2" ;;
    kl-shampoo) echo "1.5e-3 3e-3 6e-3 1.2e-2 2.4e-2 4.8e-2 9.6e-2" ;;
    galore|galore-importance) echo "6e-3 1.2e-2 2.4e-2 4.8e-2 9.6e-2" ;;
  esac
}
args() {
  case $1 in
    adamw-cosine) echo "--set train.optimizer=adamw --set train.schedule=cosine" ;;
    adamw-wsd) echo "--set train.optimizer=adamw --set train.schedule=wsd --set train.decay_fraction=0.2 --set train.decay_shape=1-sqrt" ;;
    sf-adamw) echo "--set train.optimizer=sf-adamw --set train.beta2=0.95" ;;
    sf-adamw-refined) echo "--set train.optimizer=sf-adamw-refined --set train.beta2=0.95 --set train.sf.C=200" ;;
    muon) echo "--set train.optimizer=muon --set train.schedule=cosine" ;;
    soap) echo "--set train.optimizer=soap --set train.schedule=cosine --set train.soap.max_precond_dim=512" ;;
    kl-shampoo|kl-soap) echo "--set train.optimizer=$1 --set train.schedule=cosine --set train.soap.max_precond_dim=512" ;;
    galore) echo "--set train.optimizer=galore --set train.schedule=cosine --set train.galore.rank=16 --set train.galore.update_proj_gap=50" ;;
    galore-importance) echo "--set train.optimizer=galore --set train.galore.subspace=importance --set train.schedule=cosine --set train.galore.rank=16 --set train.galore.update_proj_gap=50" ;;
  esac
}
JOBS=${JOBS:-2}
one() {   # one run (skipped when its final checkpoint exists)
  local o=$1 lr=$2 d="$OUT/$1/lr$2"
  [ -f "$d/opt/checkpoints/step_00000150/DONE" ] && return 0
  grep -q "non-finite steps in a row" "$d/opt/train.log" 2>/dev/null && return 0   # diverged before: keep the record
  rm -rf "$d"
  # shellcheck disable=SC2046
  nice -n 10 "$LMC" train "$here/config.yaml" --quiet --set run.dir="$d" --set train.lr="$lr" $(args "$o") \
    --set data.train="$OUT/train.bin" --set data.val="$OUT/val.bin" --set data.tokenizer="$OUT/tok.json" ||
    echo "$o lr $lr: the run failed (diverged?): see $d/opt/train.log" >&2
  return 0
}
for o in "${OPTS[@]}"; do
  for lr in $(grid "$o"); do
    while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n || true; done
    one "$o" "$lr" &
  done
done
wait
python3 "$here/table.py" "$OUT" "${OPTS[@]}"
