#!/bin/sh
# Training-loop overhead: `lmc train` (data loader, schedule, metrics.jsonl record and a status line
# every step, train.log) against the bare model-core step (bench/train_loop_bare.c: forward, backward,
# clip, AdamW on a fixed batch), same model, same threads.
# Per-step wall times: bare = time between consecutive steps; lmc train = differences of consecutive
# metrics.jsonl elapsed_s values, which cover everything the loop does between two steps.
# The median over all timed steps of all reps is robust to bursts of load on a shared machine.
# Runs alternate A B A B ... after a warm-up of each.
# Usage: bench/train_loop.sh [BUILD_DIR] [REPS]    (model: configs/quickstart.yaml's, V=4096)
set -eu
BUILD=${1:-build}
REPS=${2:-3}
L=6 H=6 D=192 T=256 B=16 V=4096 STEPS=20 WARMUP=3
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

libs=$(pkg-config --libs openblas libpcre2-8 libzstd zlib jansson yaml-0.1 libxxhash liblbfgs)
cc -O3 -march=native -std=c11 -D_GNU_SOURCE -I"$here/../src" -I"$BUILD/generated" "$here/train_loop_bare.c" \
   "$BUILD/liblmc.a" $libs -fopenmp -lm -o "$work/bare"

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
    "$BUILD/lmc" train "$work/loop.yaml" --set run.name=r$1 > /dev/null 2> "$work/r$1.err"
    awk -v w=$WARMUP '{ e = $0; sub(/.*"elapsed_s":/, "", e); sub(/[,}].*/, "", e);
                        s = $0; sub(/.*"step":/, "", s); sub(/,.*/, "", s);
                        if (s + 0 > w) printf "%.6f\n", e - prev; prev = e }' "$work/runs/r$1/metrics.jsonl"
}

run_bare > /dev/null; run_loop warm > /dev/null
: > "$work/A"; : > "$work/B"
i=1
while [ $i -le "$REPS" ]; do
    run_bare >> "$work/A"
    run_loop $i >> "$work/B"
    i=$((i + 1))
done
stats() { sort -g "$1" | awk '{a[NR]=$1} END {m = (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2; printf "%.4f %.4f %.4f %d\n", m, a[1], a[NR], NR}'; }
set -- $(stats "$work/A"); ma=$1; la=$2; ha=$3; na=$4
set -- $(stats "$work/B"); mb=$1; lb=$2; hb=$3; nb=$4
tok=$((B * T))
printf "model L=%d d=%d T=%d B=%d V=%d; %d+%d timed steps; OMP_NUM_THREADS=%s; %d reps alternating\n" \
    $L $D $T $B $V "$na" "$nb" "$OMP_NUM_THREADS" "$REPS"
printf "%-26s %14s %18s %10s\n" "" "median s/step" "min-max" "tok/s"
printf "%-26s %14.4f %18s %10.0f\n" "bare model step (A)" "$ma" "$la-$ha" "$(echo "$tok $ma" | awk '{print $1/$2}')"
printf "%-26s %14.4f %18s %10.0f\n" "lmc train loop (B)" "$mb" "$lb-$hb" "$(echo "$tok $mb" | awk '{print $1/$2}')"
echo "$ma $mb" | awk '{printf "loop overhead (B/A - 1, medians): %+.2f%%\n", ($2 / $1 - 1) * 100}'
