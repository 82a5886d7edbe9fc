#!/usr/bin/env bash
# MeCo (metadata conditioning then cooldown, TECHNIQUES.md §9a) vs plain training at equal steps
# (= equal tokens processed; the unmasked targets are printed too), issue 15. Three arms, same model, seed,
# data order, lr schedule:
#   plain   stage 1 plain documents, the final 10% of steps on the plain cooldown pool
#   meco    stage 1 "URL: <domain>\n\n" + document (metadata loss-masked), the final 10% on the same plain pool
#   meco100 URL-conditioned throughout (no cooldown; the paper's ablation), first seed only
#   plain100 plain stage-1 data throughout (no cooldown pool): meco100's counterpart, first seed only
# Validation: plain, URL-free held-out documents of the same three sources. Data: prepare.py (source domains
# as the metadata). About 4.7 min of CPU per arm at 1 thread (283 s measured uncontended): 4 runs for one seed.
# Usage: experiments/data/meco/run.sh [BUILD_DIR] [OUT_DIR]   (env STEPS, SEEDS, LMC_SHARED_DIR)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
LMC=${1:-$root/build}/lmc
OUT=${2:-$root/runs/meco}
STEPS=${STEPS:-800}
SEEDS=${SEEDS:-"1337"}   # docs/research.md used SEEDS="1337 2" (6 runs, about 28 min of CPU)
SHARED=${LMC_SHARED_DIR:-$root/../shared}/data  # LMC_SHARED_DIR as the tests read it
FORT=/usr/share/games/fortunes
[ -f "$SHARED/tinyshakespeare.txt" ] || { echo "skip: $SHARED not found" >&2; exit 0; }
[ -d "$FORT" ] || { echo "skip: $FORT not found (Debian package fortunes)" >&2; exit 0; }
mkdir -p "$OUT"
D=$OUT/data
[ -s "$D/stage1.jsonl" ] || python3 "$here/prepare.py" "$SHARED" "$FORT" "$D"
[ -s "$D/tok.json" ] || "$LMC" tokenizer train -o "$D/tok.json" --vocab-size 2048 --special '<|endoftext|>' "$D/tok_train.txt" --quiet
enc() { [ -s "$D/$2.bin" ] || "$LMC" tokenizer encode -t "$D/tok.json" $3 -o "$D/$2.bin" "$D/$1.jsonl"; }
enc stage1 stage1_meco "--meco-field url"
enc stage1 stage1_plain ""
enc cool cool ""
enc val val ""
arm() { # name seed train-shard cooldown-fraction
  local dir=$OUT/$1.s$2
  [ -f "$dir/meco/metrics.jsonl" ] && grep -q "\"step\":$STEPS," "$dir/meco/metrics.jsonl" && return 0
  rm -rf "$dir"
  local cool=()
  [ "$4" != 0 ] && cool=(--set train.meco_cooldown_fraction="$4" --set data.cooldown_train="$D/cool.bin")
  s0=$(date +%s)
  "$LMC" train "$here/config.yaml" --quiet --set run.dir="$dir" --set run.seed="$2" --set train.steps="$STEPS" \
    --set train.checkpoint_every="$STEPS" --set data.train="$D/$3.bin" --set data.val="$D/val.bin" \
    --set data.tokenizer="$D/tok.json" "${cool[@]}"
  echo "$1 seed $2: $STEPS steps in $(( $(date +%s) - s0 )) s" >&2
}
for s in $SEEDS; do
  arm plain "$s" stage1_plain 0.1
  arm meco "$s" stage1_meco 0.1
done
arm meco100 "${SEEDS%% *}" stage1_meco 0
arm plain100 "${SEEDS%% *}" stage1_plain 0
# per-source validation loss of every final checkpoint (plain text of one source each)
for src in en.wikipedia.org github.com packages.debian.org; do
  [ -s "$D/val_$src.jsonl" ] || grep -F "\"url\": \"https://$src/" "$D/val.jsonl" > "$D/val_$src.jsonl"
  enc "val_$src" "val_$src" ""
done
ck=$(printf 'step_%08d' "$STEPS")
for dir in "$OUT"/*.s*/; do
  for src in en.wikipedia.org github.com packages.debian.org; do
    [ -s "$dir/eval_$src.json" ] || "$LMC" eval --model "$dir/meco/checkpoints/$ck" --data "$D/val_$src.bin" \
      --seq-len 128 --threads 1 > "$dir/eval_$src.json"
  done
done
python3 - "$OUT" "$STEPS" $SEEDS <<'PY'
import json, statistics, sys
out, steps, seeds = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
def rec(arm, s):
    r = [json.loads(l) for l in open(f"{out}/{arm}.s{s}/meco/metrics.jsonl")]
    return {x["step"]: x for x in r}
print(f"val loss on plain held-out text (nats/token), step {steps}; tokens = unmasked training targets")
srcs = ["en.wikipedia.org", "github.com", "packages.debian.org"]
print(f"{'arm':9s} {'seed':>5s} {'val@90%':>9s} {'val@end':>9s} {'tokens':>9s} {'tokens_all':>10s}  per source: " + " ".join(f"{x[:10]:>10s}" for x in srcs))
for arm in ("plain", "meco", "meco100", "plain100"):
    vals = []
    for s in seeds:
        try: r = rec(arm, s)
        except FileNotFoundError: continue
        v90 = [x["val_loss"] for k, x in sorted(r.items()) if "val_loss" in x and k <= int(steps * 0.9)][-1]
        end = r[steps]
        vals.append(end["val_loss"])
        per = [json.load(open(f"{out}/{arm}.s{s}/eval_{x}.json"))["loss"] for x in srcs]
        print(f"{arm:9s} {s:>5s} {v90:9.4f} {end['val_loss']:9.4f} {end['tokens']:9d} {end.get('tokens_all', end['tokens']):10d}  "
              + "             " + " ".join(f"{x:10.4f}" for x in per))
    if len(vals) > 1: print(f"{arm:9s} {'mean':>5s} {'':9s} {statistics.mean(vals):9.4f}")
PY
