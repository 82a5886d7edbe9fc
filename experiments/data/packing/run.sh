#!/usr/bin/env bash
# Packing and document masking (issue 15): concat vs seamless vs seamless + doc_mask at equal training
# tokens (same seed, steps, batch; seamless windows are full, so every step trains batch x seq_len targets).
# Data: WikiText-2 split into articles (prep.py; its test split trains, valid evaluates: the train split
# is not in ../shared), a BPE-2048 tokenizer trained on the training text (GPT-2's 50k vocabulary would
# spend the 1-thread budget on the output head). Evaluation, the same for every model:
#   concat: the consecutive seq_len windows of the val shard (`lmc eval`; a doc_mask model masks them);
#   per-document: every val article scored alone, rolling windows (`lmc eval --task perplexity`).
# Usage: experiments/data/packing/run.sh [BUILD_DIR] [OUT_DIR]   (env STEPS, THREADS, SHARED)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
LMC=${1:-$root/build}/lmc
OUT=${2:-$root/runs/packing}
STEPS=${STEPS:-400}
THREADS=${THREADS:-1}
SHARED=${SHARED:-$root/../shared}
WT=$SHARED/data/wikitext-2
[ -f "$WT/test.txt" ] || { echo "skip: $WT not found" >&2; exit 0; }
mkdir -p "$OUT"
[ -s "$OUT/train.jsonl" ] || python3 "$here/prep.py" "$WT/test.txt" "$OUT/train.jsonl"
[ -s "$OUT/val.jsonl" ] || python3 "$here/prep.py" "$WT/valid.txt" "$OUT/val.jsonl"
[ -s "$OUT/tok.json" ] || "$LMC" tokenizer train -o "$OUT/tok.json" --vocab-size 2048 --special '<|endoftext|>' "$WT/test.txt" --quiet
[ -s "$OUT/train.bin" ] || "$LMC" tokenizer encode -t "$OUT/tok.json" -o "$OUT/train.bin" "$OUT/train.jsonl" --threads 1 --quiet
[ -s "$OUT/val.bin" ] || "$LMC" tokenizer encode -t "$OUT/tok.json" -o "$OUT/val.bin" "$OUT/val.jsonl" --threads 1 --quiet
ck=$(printf 'step_%08d' "$STEPS")
for v in concat seamless seamless_docmask; do
  packing=${v%%_*}; mask=false; [ "$v" = seamless_docmask ] && mask=true
  if [ ! -f "$OUT/$v/wt2/checkpoints/$ck/DONE" ]; then
    rm -rf "$OUT/$v"
    s0=$(date +%s)
    "$LMC" train "$here/config.yaml" --quiet --set run.dir="$OUT/$v" --set data.packing="$packing" \
      --set model.doc_mask=$mask --set train.steps="$STEPS" --set train.checkpoint_every="$STEPS" \
      --set train.warmup_steps=$((STEPS / 10)) --set train.threads="$THREADS" \
      --set data.train="$OUT/train.bin" --set data.val="$OUT/val.bin" --set data.tokenizer="$OUT/tok.json"
    echo "$v: trained $STEPS steps in $(( $(date +%s) - s0 )) s" >&2
  fi
  m="$OUT/$v/wt2/checkpoints/$ck"
  [ -s "$OUT/$v.concat.json" ] || "$LMC" eval --model "$m" --data "$OUT/val.bin" --seq-len 128 --threads "$THREADS" > "$OUT/$v.concat.json"
  [ -s "$OUT/$v.perdoc.json" ] || "$LMC" eval --model "$m" --task perplexity --data "$OUT/val.jsonl" --threads "$THREADS" --json > "$OUT/$v.perdoc.json"
done
python3 - "$OUT" <<'PY'
import json, re, sys
o = sys.argv[1]
def last_json(p):
    return json.loads([l for l in open(p) if l.strip().startswith("{")][-1])
print(f"{'run':18s} {'packing stats (train.log)':>10s}")
for v in ["concat", "seamless", "seamless_docmask"]:
    log = open(f"{o}/{v}/wt2/train.log").read()
    st = re.search(r"seamless packing: .*", log)
    print(f"{v:18s} {st.group(0) if st else 'concat windows'}")
print()
print(f"{'run':18s} {'val loss (concat windows)':>26s} {'tokens':>8s} {'per-doc bits/byte':>18s} {'per-doc word ppl':>17s}")
for v in ["concat", "seamless", "seamless_docmask"]:
    c = last_json(f"{o}/{v}.concat.json")
    d = last_json(f"{o}/{v}.perdoc.json")
    d = d.get("results", d)
    bpb = d.get("bits_per_byte", float("nan")); wp = d.get("word_perplexity", float("nan"))
    print(f"{v:18s} {c['loss']:26.4f} {c['tokens']:8d} {bpb:18.4f} {wp:17.2f}")
PY
