#!/usr/bin/env bash
# The positional diagnostic for each position encoding: trains a 2-layer d=64 GPT-2-style model at
# T = 64 with model.position = learned | rope | alibi | none, then runs `lmc eval --diag` on 16
# validation windows and prints per layer the position share of the logit variance (mean over
# heads) and the head whose ablation costs most (and its share of the layer's ablation cost).
# Needs the data of experiments/lssar/run.sh. Usage: experiments/posdiag/run.sh [BUILD_DIR] [LSSAR_OUT] [OUT]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
LMC=${1:-$root/build}/lmc
DATA=${2:-$root/runs/lssar}
OUT=${3:-$root/runs/posdiag}
[ -s "$DATA/val.bin" ] || { echo "skip: run experiments/lssar/run.sh first ($DATA/val.bin)" >&2; exit 0; }
mkdir -p "$OUT"
for p in learned rope alibi none; do
  ck="$OUT/$p/tinyshakespeare/checkpoints/step_00000150"
  if [ ! -f "$ck/DONE" ]; then
    rm -rf "$OUT/$p"
    "$LMC" train "$here/config.yaml" --quiet --set run.dir="$OUT/$p" --set model.position=$p \
      --set data.train="$DATA/train.bin" --set data.val="$DATA/val.bin" --set data.tokenizer="$DATA/tok.json"
  fi
  [ -s "$OUT/$p.diag.json" ] || "$LMC" eval --model "$ck" --data "$DATA/val.bin" --seq-len 64 --max-tokens 4096 \
    --diag --diag-windows 16 --threads 2 > "$OUT/$p.diag.json" 2> "$OUT/$p.diag.txt"
done
python3 - "$OUT" <<'PY'
import json, sys, math
o = sys.argv[1]
print(f"{'position':8s} {'val loss':>8s}  per layer: mean position share | top ablation head (share of layer's ablation cost, dloss)")
for p in ["learned", "rope", "alibi", "none"]:
    lines = open(f"{o}/{p}.diag.json").read().splitlines()
    loss, d = json.loads(lines[0])["loss"], json.loads(lines[1])["diag"]
    cells = []
    for L in d["layers"]:
        ps = [x for x in L["pos_share"] if x is not None]
        m = sum(ps) / len(ps) if ps else float("nan")
        cells.append(f"L{L['layer']}: {m:5.3f} | h{L['top_head']} {100 * (L['top_share'] or 0):3.0f}% {max(L['ablate']):+.3f}")
    print(f"{p:8s} {loss:8.4f}  " + "   ".join(cells))
    if "layer0_terms" in d:
        t = d["layer0_terms"]["shares"]
        avg = [sum(h[k] for h in t) / len(t) for k in range(4)]
        print(f"{'':8s} {'':8s}  layer 0 terms (mean over heads): cc {avg[0]:.3f} cp {avg[1]:.3f} pc {avg[2]:.3f} pp {avg[3]:.3f}")
PY
