#!/bin/sh
# Training-loop overhead: `lmc train` (data loader, schedule, metrics.jsonl per step, status line every
# step, train.log) against the bare model-core step (bench/train_loop_bare.c: forward, backward, clip,
# AdamW on a fixed batch), same model, same threads. Both time steps (WARMUP, STEPS]; lmc train's
# time comes from metrics.jsonl elapsed_s, which includes everything the loop does per step.
# Runs alternate A B A B ... after a warm-up; prints medians, min-max and the ratio.
# Usage: bench/train_loop.sh [BUILD_DIR] [REPS]      (config S of ../shared/BENCHMARKS.md)
set -eu
BUILD=${1:-build}
REPS=${2:-3}
L=6 H=6 D=384 T=256 B=8 V=8192 STEPS=12 WARMUP=2
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

libs=$(pkg-config --libs openblas libpcre2-8 libzstd zlib jansson yaml-0.1 libxxhash liblbfgs)
cc -O3 -march=native -std=c11 -D_GNU_SOURCE -I"$here/../src" -I"$BUILD/generated" "$here/train_loop_bare.c" \
   "$BUILD/liblmc.a" $libs -fopenmp -lm -o "$work/bare"

# A shard of random tokens (B*T*(STEPS+1) sequences' worth) written with python-free tools: od/awk.
python3 - "$work/train.bin" "$V" <<'PY'
import array, random, sys
n = 400000
h = array.array('i', [0] * 256); h[0] = 20240520; h[1] = 1; h[2] = n
random.seed(1)
t = array.array('H', [random.randrange(int(sys.argv[2])) for _ in range(n)])
open(sys.argv[1], 'wb').write(h.tobytes() + t.tobytes())
PY
cat > "$work/loop.yaml" <<YAML
run: {dir: $work/runs, sample_tokens: 0, log_every: 1, peak_tflops: 0.21}
data: {train: $work/train.bin}
model: {n_layer: $L, n_head: $H, d_model: $D, seq_len: $T, vocab_size: $V}
train: {steps: $STEPS, batch_size: $B, micro_batch: $B, warmup_steps: 2, eval_batches: 0, checkpoint_every: 0}
YAML

run_bare() { "$work/bare" $L $H $D $T $B $V $STEPS $WARMUP; }
run_loop() {
    name=r$1
    "$BUILD/lmc" train "$work/loop.yaml" --set run.name=$name > /dev/null 2> "$work/$name.err"
    awk -v w=$WARMUP -v s=$STEPS -F'"elapsed_s":' '
        { split($2, a, /[,}]/); step = $0; sub(/.*"step":/, "", step); sub(/,.*/, "", step);
          if (step == w) t0 = a[1]; if (step == s) t1 = a[1] }
        END { printf "%.6f\n", t1 - t0 }' "$work/runs/$name/metrics.jsonl"
}

run_bare > /dev/null; run_loop warm > /dev/null   # warm-up
A="" ; Bt=""
i=1
while [ $i -le "$REPS" ]; do
    A="$A $(run_bare)"
    Bt="$Bt $(run_loop $i)"
    i=$((i + 1))
done
median() { echo "$@" | tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print (NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2}'; }
minmax() { echo "$@" | tr ' ' '\n' | grep . | sort -g | awk 'NR==1{lo=$1} {hi=$1} END {printf "%.3f-%.3f", lo, hi}'; }
n=$((STEPS - WARMUP)); tok=$((B * T * n))
ma=$(median $A); mb=$(median $Bt)
printf "config S: L=%d d=%d T=%d B=%d V=%d, %d timed steps, OMP_NUM_THREADS=%s, %d reps\n" $L $D $T $B $V $n "$OMP_NUM_THREADS" "$REPS"
printf "%-28s %12s %14s %12s\n" "" "median s" "min-max s" "tok/s"
printf "%-28s %12.3f %14s %12.0f\n" "bare model step (A)" "$ma" "$(minmax $A)" "$(echo "$tok $ma" | awk '{print $1/$2}')"
printf "%-28s %12.3f %14s %12.0f\n" "lmc train loop (B)" "$mb" "$(minmax $Bt)" "$(echo "$tok $mb" | awk '{print $1/$2}')"
echo "$ma $mb" | awk '{printf "loop overhead B/A - 1: %+.2f%%\n", ($2 / $1 - 1) * 100}'
