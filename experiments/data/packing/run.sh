#!/usr/bin/env bash
# Packing and document masking (issue 15): concat vs seamless vs seamless + doc_mask at equal training
# tokens (same seed, steps, batch; seamless windows are full, so every step trains batch x seq_len targets).
# Data: WikiText-2 split into documents (prep.py: LEVELS articles and/or sections); its test split trains,
# valid evaluates (the train split is not in ../shared); a BPE-2048 tokenizer trained on the training
# text (GPT-2's 50k vocabulary would spend the 1-thread budget on the output head). Evaluation, the same
# for every model of a level:
#   concat:       the consecutive 128-token windows of the val shard (`lmc eval`; a doc_mask model masks them);
#   per-document: every val document scored alone, rolling 128-token windows (`lmc eval --task perplexity`).
# Usage: experiments/data/packing/run.sh [BUILD_DIR] [OUT_DIR]   (env STEPS, THREADS, LEVELS, SHARED, SEED)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
LMC=${1:-$root/build}/lmc
OUT=${2:-$root/runs/packing}
STEPS=${STEPS:-400}
THREADS=${THREADS:-1}
SEED=${SEED:-1337}
LEVELS=${LEVELS:-"articles sections"}
SHARED=${SHARED:-$root/../shared}
WT=$SHARED/data/wikitext-2
[ -f "$WT/test.txt" ] || { echo "skip: $WT not found" >&2; exit 0; }
mkdir -p "$OUT"
[ -s "$OUT/tok.json" ] || "$LMC" tokenizer train -o "$OUT/tok.json" --vocab-size 2048 --special '<|endoftext|>' "$WT/test.txt" --quiet
ck=$(printf 'step_%08d' "$STEPS")
for lv in $LEVELS; do
  D=$OUT/$lv
  mkdir -p "$D"
  [ -s "$D/train.jsonl" ] || python3 "$here/prep.py" "$WT/test.txt" "$D/train.jsonl" "$lv"
  [ -s "$D/val.jsonl" ] || python3 "$here/prep.py" "$WT/valid.txt" "$D/val.jsonl" "$lv"
  [ -s "$D/train.bin" ] || "$LMC" tokenizer encode -t "$OUT/tok.json" -o "$D/train.bin" "$D/train.jsonl" --threads 1 --quiet
  [ -s "$D/val.bin" ] || "$LMC" tokenizer encode -t "$OUT/tok.json" -o "$D/val.bin" "$D/val.jsonl" --threads 1 --quiet
  for v in concat seamless seamless_docmask; do
    packing=${v%%_*}; mask=false; [ "$v" = seamless_docmask ] && mask=true
    if [ ! -f "$D/$v/wt2/checkpoints/$ck/DONE" ]; then
      rm -rf "$D/$v"
      s0=$(date +%s)
      "$LMC" train "$here/config.yaml" --quiet --set run.dir="$D/$v" --set data.packing="$packing" \
        --set model.doc_mask=$mask --set run.seed="$SEED" --set train.steps="$STEPS" --set train.checkpoint_every="$STEPS" \
        --set train.warmup_steps=$((STEPS / 10)) --set train.threads="$THREADS" \
        --set data.train="$D/train.bin" --set data.val="$D/val.bin" --set data.tokenizer="$OUT/tok.json"
      echo "$lv/$v: trained $STEPS steps in $(( $(date +%s) - s0 )) s" >&2
    fi
    m="$D/$v/wt2/checkpoints/$ck"
    [ -s "$D/$v.concat.json" ] || "$LMC" eval --model "$m" --data "$D/val.bin" --seq-len 128 --threads "$THREADS" > "$D/$v.concat.json"
    [ -s "$D/$v.perdoc.json" ] || "$LMC" eval --model "$m" --task perplexity --data "$D/val.jsonl" --threads "$THREADS" --json > "$D/$v.perdoc.json"
  done
done
python3 - "$OUT" $LEVELS <<'PY'
import json, re, sys
o, levels = sys.argv[1], sys.argv[2:]
runs = ["concat", "seamless", "seamless_docmask"]
def last_json(p):
    return json.loads([l for l in open(p) if l.strip().startswith("{")][-1])
for lv in levels:
    print(f"== documents = {lv}")
    log = open(f"{o}/{lv}/seamless/wt2/train.log").read()
    st = re.search(r"seamless packing: .*", log)
    print(st.group(0) if st else "(no packing line)")
    print(f"{'run':18s} {'train loss (last 50)':>20s} {'val loss, concat windows':>25s} {'per-doc bits/byte':>18s} {'per-doc word ppl':>17s}")
    for v in runs:
        tl = [l for l in open(f"{o}/{lv}/{v}/wt2/train.log") if l.startswith("step ") and "| loss" in l][-1]
        tr = float(re.search(r"\| loss ([0-9.]+)", tl).group(1))
        c = last_json(f"{o}/{lv}/{v}.concat.json")
        d = last_json(f"{o}/{lv}/{v}.perdoc.json")
        print(f"{v:18s} {tr:20.4f} {c['loss']:25.4f} {d['bits_per_byte']:18.4f} {d['word_perplexity']:17.1f}")
    print()
PY
