#!/usr/bin/env bash
# Static vs DoReMi vs Velocitune vs MDE on a 3-domain mix (issue 15; TECHNIQUES.md §11), one thread.
#   static       uniform weights (1,1,1)
#   doremi       online DoReMi proxy (data.mixing: doremi, reference = the static run's final checkpoint),
#   doremi_avg   then a fresh static run on DoReMi's output, the proxy's averaged weights (the paper's protocol)
#   velocitune   data.mixing: velocitune; target_loss per domain from a power law L(t) = E + A t^-a fitted to the
#                first quarter of the static run's val curve, extrapolated to the last step (mixing.py targets)
#   expert_*     one run per domain alone (the MDE experts), then `lmc scaling mix` proposes weights:
#   mde          a static run on MDE's proposal (raw L_MDE), and
#   mde_linear   one on the linear + MDE regression's proposal fitted on the true runs above (the 3 experts
#                = the vertices, static = uniform, doremi_avg)
#   chameleon    data.mixing: chameleon every 100 steps (KRLS scores of the model's own embeddings)
# The static-mixture runs (static, doremi_avg, mde, mde_linear), velocitune and chameleon are repeated with seeds
# SEEDS (model init and data order; the proposals stay those of seed 1) to show the seed noise.
# Every final checkpoint is evaluated with `lmc eval` on the first EVAL_TOKENS of each domain's val shard;
# mixing.py table prints per-domain val loss, the mean over seeds, the final weights, and the L_MDE of
# each static mixture (`lmc scaling mix --eval`) beside its true loss.
# Usage: experiments/data/mixing/run.sh [BUILD_DIR] [OUT_DIR]   (env STEPS, BATCH, EVAL_TOKENS; resumable:
# finished runs are skipped)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
BUILD=${1:-$root/build}
LMC=$BUILD/lmc
OUT=${2:-$root/runs/mixing}
STEPS=${STEPS:-1000}
BATCH=${BATCH:-16}
EVAL_TOKENS=${EVAL_TOKENS:-32768}
SEEDS=${SEEDS:-"2 3"}
PY=${PYTHON:-python3}
DOMAINS="wiki shakespeare code"
rc=0; "$here/prep.sh" "$BUILD" "$OUT" 2> /dev/null || rc=$?
[ "$rc" -eq 0 ] || { [ "$rc" -eq 77 ] && { echo "skip: shared data absent" >&2; exit 0; }; exit "$rc"; }
S=$OUT/shards
mkdir -p "$OUT/cfg" "$OUT/runs" "$OUT/eval"
ck=$(printf 'step_%08d' "$STEPS")

# cfg NAME MIXING "W_wiki W_shakespeare W_code" ["T_wiki T_shakespeare T_code"] [EXTRA_DATA_KEYS] [SEED]
cfg() {
  local name=$1 mixing=$2 w=($3) t=(${4:-}) extra=${5:-} seed=${6:-1} i=0 f=$OUT/cfg/$1.yaml
  {
    echo "run: {name: $name, dir: $OUT/runs, seed: $seed, log_every: 50, sample_every: 0}"
    echo "data:"
    echo "  tokenizer: $OUT/tok.json"
    echo "  sources:"
    for d in $DOMAINS; do
      echo -n "    - {name: $d, train: \"$S/${d}_train.bin\", val: \"$S/${d}_val.bin\", weight: ${w[$i]}"
      [ ${#t[@]} -eq 0 ] || echo -n ", target_loss: ${t[$i]}"
      echo "}"
      i=$((i + 1))
    done
    echo "  mixing: $mixing"
    [ -z "$extra" ] || echo "$extra"
    echo "model: {n_layer: 2, n_head: 2, d_model: 64, seq_len: 64, vocab_size: 2048}"
    echo "train: {steps: $STEPS, batch_size: $BATCH, micro_batch: $BATCH, lr: 0.003, warmup_steps: $((STEPS / 20)),"
    echo "        schedule: cosine, min_lr_ratio: 0.1, weight_decay: 0.1, grad_clip: 1.0, eval_every: $((STEPS / 20)),"
    echo "        eval_batches: 8, checkpoint_every: $STEPS, keep_checkpoints: 1, threads: 1}"
  } > "$f"
}
# an expert: its domain alone (a single-source mixture, so its val loss is logged the same way)
cfg_expert() {
  local d=$1 f=$OUT/cfg/expert_$1.yaml
  {
    echo "run: {name: expert_$d, dir: $OUT/runs, seed: 1, log_every: 50, sample_every: 0}"
    echo "data:"
    echo "  tokenizer: $OUT/tok.json"
    echo "  sources:"
    echo "    - {name: $d, train: \"$S/${d}_train.bin\", val: \"$S/${d}_val.bin\", weight: 1}"
    echo "model: {n_layer: 2, n_head: 2, d_model: 64, seq_len: 64, vocab_size: 2048}"
    echo "train: {steps: $STEPS, batch_size: $BATCH, micro_batch: $BATCH, lr: 0.003, warmup_steps: $((STEPS / 20)),"
    echo "        schedule: cosine, min_lr_ratio: 0.1, weight_decay: 0.1, grad_clip: 1.0, eval_every: $((STEPS / 20)),"
    echo "        eval_batches: 8, checkpoint_every: $STEPS, keep_checkpoints: 1, threads: 1}"
  } > "$f"
}
train() { # NAME: train (unless finished) and evaluate on every domain
  local name=$1
  if [ ! -f "$OUT/runs/$name/checkpoints/$ck/DONE" ]; then
    rm -rf "$OUT/runs/$name"
    local s0; s0=$(date +%s)
    "$LMC" train "$OUT/cfg/$name.yaml" --quiet
    echo "$name: $STEPS steps in $(( $(date +%s) - s0 )) s" >&2
  fi
  for d in $DOMAINS; do
    [ -s "$OUT/eval/$name.$d.json" ] || "$LMC" eval --model "$OUT/runs/$name/checkpoints/$ck" --data "$S/${d}_val.bin" \
      --seq-len 64 --max-tokens "$EVAL_TOKENS" --threads 1 > "$OUT/eval/$name.$d.json" 2> /dev/null
  done
}

cfg static static "1 1 1"; train static
cfg doremi doremi "1 1 1" "" "  mixing_every: 20
  mixing_reference: $OUT/runs/static/checkpoints/$ck"
train doremi
w_doremi=$($PY "$here/mixing.py" avg-weights "$OUT/runs/doremi" $DOMAINS)
cfg doremi_avg static "$w_doremi"; train doremi_avg
tg=$($PY "$here/mixing.py" targets "$OUT/runs/static" "$STEPS" $DOMAINS)
echo "velocitune targets (wiki shakespeare code): $tg" >&2
cfg velocitune velocitune "1 1 1" "$tg" "  mixing_every: 20"; train velocitune
# chameleon (online here: the training model's own middle-layer embeddings every 100 steps, pretraining form)
cfg chameleon chameleon "1 1 1" "" "  mixing_every: 100"; train chameleon
for d in $DOMAINS; do cfg_expert "$d"; train "expert_$d"; done

# MDE: the experts' cached val probabilities -> proposals (raw, and linear + MDE on the true runs)
ex=(); for d in $DOMAINS; do ex+=(--expert "$OUT/runs/expert_$d/checkpoints/$ck" --val "$S/${d}_val.bin"); done
[ -s "$OUT/mde.json" ] || "$LMC" scaling mix "${ex[@]}" --names wiki,shakespeare,code --seq-len 64 \
  --max-tokens "$EVAL_TOKENS" --threads 1 --seed 1 -o "$OUT/mde.json" > "$OUT/mde.txt"
$PY "$here/mixing.py" runs-csv "$OUT" expert_wiki expert_shakespeare expert_code static doremi_avg > "$OUT/true_runs.csv"
[ -s "$OUT/mde_linear.json" ] || "$LMC" scaling mix "${ex[@]}" --names wiki,shakespeare,code --seq-len 64 \
  --max-tokens "$EVAL_TOKENS" --threads 1 --seed 1 --runs "$OUT/true_runs.csv" -o "$OUT/mde_linear.json" > "$OUT/mde_linear.txt"
w_mde=$($PY "$here/mixing.py" proposal "$OUT/mde.json")
w_lin=$($PY "$here/mixing.py" proposal "$OUT/mde_linear.json")
cfg mde static "$w_mde"; train mde
cfg mde_linear static "$w_lin"; train mde_linear

# seed repeats
for s in $SEEDS; do
  cfg static_s$s static "1 1 1" "" "" "$s"; train static_s$s
  cfg doremi_avg_s$s static "$w_doremi" "" "" "$s"; train doremi_avg_s$s
  cfg velocitune_s$s velocitune "1 1 1" "$tg" "  mixing_every: 20" "$s"; train velocitune_s$s
  cfg chameleon_s$s chameleon "1 1 1" "" "  mixing_every: 100" "$s"; train chameleon_s$s
  cfg mde_s$s static "$w_mde" "" "" "$s"; train mde_s$s
  cfg mde_linear_s$s static "$w_lin" "" "" "$s"; train mde_linear_s$s
done

# L_MDE of every static mixture that was trained, beside its true loss (mixing.py table)
ev=(); for w in "$w_doremi" "$w_mde" "$w_lin"; do ev+=(--eval "$(echo $w | tr ' ' ,)"); done
[ -s "$OUT/mde_check.json" ] || "$LMC" scaling mix "${ex[@]}" --names wiki,shakespeare,code --seq-len 64 \
  --max-tokens "$EVAL_TOKENS" --threads 1 --samples 0 --refine 0 "${ev[@]}" -o "$OUT/mde_check.json" > /dev/null
$PY "$here/mixing.py" table "$OUT" static doremi doremi_avg velocitune chameleon mde mde_linear expert_wiki expert_shakespeare expert_code \
  | tee "$OUT/results.md"
