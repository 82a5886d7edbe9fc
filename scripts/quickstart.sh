#!/usr/bin/env bash
# The quickstart: install what is missing, build, and run lmc's whole pipeline on a corpus that ships
# as a Debian package (fortunes, ~2.6 MB of English in /usr/share/games/fortunes):
#   documents (split on '%' lines, 1 in 20 to validation) -> exact + MinHash dedup -> BPE tokenizer (4096)
#   -> token shards
#   -> a 6-layer GPT-2 trained for ~5-10 minutes on 2 cores -> samples -> HTML report. Its width follows the
#      precision lmc picks for this CPU: d=384 in bf16 (AMX-BF16 or AVX512_BF16), d=192 in fp32 elsewhere.
# Everything lands in runs/quickstart/. Re-running is safe: finished steps are skipped, and an
# interrupted training run (Ctrl-C) continues exactly where it stopped.
set -euo pipefail
cd "$(dirname "$0")/.."
Q=runs/quickstart
FORTUNES=${FORTUNES:-/usr/share/games/fortunes}

scripts/deps.sh
scripts/build.sh release
LMC=./build/lmc
mkdir -p "$Q/data"

step() { printf '\n== %s\n' "$*" >&2; }

if [ ! -s "$Q/data/train.jsonl" ]; then
  step "1/7 documents: $FORTUNES -> $Q/data/{train,val}.jsonl"
  files=$(ls "$FORTUNES" | grep -v '\.\(dat\|u8\)$' | sed "s|^|$FORTUNES/|")
  # shellcheck disable=SC2086
  awk -v train="$Q/data/train.jsonl.tmp" -v val="$Q/data/val.jsonl.tmp" -f scripts/fortunes_to_jsonl.awk $files
  mv "$Q/data/val.jsonl.tmp" "$Q/data/val.jsonl"
  mv "$Q/data/train.jsonl.tmp" "$Q/data/train.jsonl"
fi
if [ ! -s "$Q/data/train.dedup.jsonl" ]; then
  step "2/7 dedup: exact + MinHash near-duplicates out of the training documents"
  $LMC data dedup "$Q/data/train.jsonl" -o "$Q/data/train.dedup.jsonl" --report "$Q/data/dedup.json"
fi
if [ ! -s "$Q/data/tokenizer.json" ]; then
  step "3/7 tokenizer: byte-level BPE, 4096 ids -> $Q/data/tokenizer.json"
  $LMC tokenizer train -o "$Q/data/tokenizer.json" --vocab-size 4096 --special '<|endoftext|>' "$Q/data/train.dedup.jsonl"
fi
if [ ! -s "$Q/data/val.bin" ]; then
  step "4/7 token shards -> $Q/data/{train,val}.bin"
  $LMC tokenizer encode -t "$Q/data/tokenizer.json" -o "$Q/data/train.bin" "$Q/data/train.dedup.jsonl"
  $LMC tokenizer encode -t "$Q/data/tokenizer.json" -o "$Q/data/val.bin" "$Q/data/val.jsonl"
fi

# configs/quickstart.yaml is the d=384 model (12.3M parameters) for bf16. Without bf16 instructions
# `precision: auto` resolves to fp32 (lmc --version says which), where d=384 needs ~22 min for its 500
# steps on 2 AVX2 cores (1.6k tokens/s on a Zen 3): there the first quickstart's d=192 model (3.5M
# parameters, lr 2e-3, its tuned value) keeps the run at ~10 min. Both resume the same way.
SIZE=()
if ! $LMC --version | grep -q 'precision auto -> bf16'; then
  SIZE=(--set model.d_model=192 --set train.lr=0.002)
fi
step "5/7 training (configs/quickstart.yaml${SIZE:+ ${SIZE[*]}}; Ctrl-C stops cleanly, re-run to continue)"
$LMC train configs/quickstart.yaml --resume "${SIZE[@]}"

RUN=$Q/fortunes
step "6/7 evaluation of the final checkpoint on the validation shard (loss, perplexity, bits per byte)"
CKPT=$(ls -d "$RUN"/checkpoints/step_* | tail -1)
$LMC eval --model "$CKPT" --data "$Q/data/val.bin" --seq-len 256 | tee "$Q/eval.json"

step "7/7 samples (KV cache; same --seed gives the same text)"
for prompt in "The meaning of life is" "Q: What do you call a programmer"; do
  printf -- '--- prompt: %s\n' "$prompt"
  $LMC sample --model "$RUN" --prompt "$prompt" --max-tokens 80 --temperature 0.8 --top-k 40 --seed 1
done
$LMC report "$RUN"

# One number: lmc eval's loss on the whole validation shard (the in-training val_loss in
# metrics.jsonl is a few batches only), rounded.
val=$(sed -n 's/.*"loss": \([0-9.e+-]*\).*"tokens": \([0-9]*\).*/\1 \2/p' "$Q/eval.json" |
      awk '{printf "%.3f nats/token (perplexity %.0f) on the whole validation shard, %d tokens (lmc eval)", $1, exp($1), $2}')
cat >&2 <<MSG

== done
  corpus       $Q/data/train.jsonl (deduplicated: train.dedup.jsonl, dedup.json), $Q/data/val.jsonl
  tokenizer    $Q/data/tokenizer.json
  shards       $Q/data/train.bin, $Q/data/val.bin
  run          $RUN  (config.yaml, metrics.jsonl, train.log, samples.txt)
  checkpoints  $RUN/checkpoints/  (HF GPT-2 folders: config.json, model.safetensors, tokenizer.json)
  report       $RUN/report.html
  val loss     ${val:-? (see $Q/eval.json)}
  try:         $LMC sample --model $RUN --prompt "Your text"
MSG
