#!/bin/sh
# Data mixtures (data.sources) under MPI data parallelism: each rank takes its own sequences from their
# sources and skips the other ranks' (src/train/mixture.h), so
#  1. mpirun -np 2 and 4 give the same losses, per-source metrics, final weights and mixture state, bit
#     for bit, as one process with train.grad_accum: tree -- statically and with the dynamic rules
#     (velocitune, doremi with a reference checkpoint, chameleon);
#  2. a mixture run stopped on 2 ranks resumes in one process and ends where the uninterrupted run ends.
# Usage: mpi_mix_test.sh LMC MPIEXEC
set -eu
lmc=$1 mpiexec=$2
command -v perl > /dev/null || { echo "SKIP: perl not found (writes the test shards)"; exit 77; }
"$lmc" --version | grep -q mpi || { echo "SKIP: lmc built without MPI"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mpi="$mpiexec --oversubscribe --bind-to none"
[ "$(id -u)" = 0 ] && mpi="$mpi --allow-run-as-root"

shard() { # llm.c shard of a noisy counter: N SEED
    perl -e 'my ($n, $seed) = @ARGV; srand($seed); my @t;
             for my $i (0 .. $n - 1) { push @t, rand(4) < 1 ? int(rand(64)) : $i % 64 }
             print pack("l<256", 20240520, 1, $n, (0) x 253), pack("S<*", @t)' "$1" "$2"
}
shard 1500 1 > "$tmp/a.bin"; shard 700 2 > "$tmp/b.bin"; shard 200 3 > "$tmp/c.bin"
shard 300 4 > "$tmp/av.bin"; shard 300 5 > "$tmp/bv.bin"; shard 300 6 > "$tmp/cv.bin"
cat > "$tmp/cfg.yaml" <<EOF
run: {dir: $tmp/runs, log_every: 100, sample_every: 0, sample_tokens: 0, peak_tflops: 1}
data:
  mixing_every: 3
  sources:
    - {name: a, train: $tmp/a.bin, val: $tmp/av.bin, weight: 0.5, target_loss: 3.0}
    - {name: b, train: $tmp/b.bin, val: $tmp/bv.bin, weight: 0.3, target_loss: 3.2}
    - {name: c, train: $tmp/c.bin, val: $tmp/cv.bin, weight: 0.2, target_loss: 2.8}
model: {vocab_size: 64, n_layer: 2, n_head: 2, d_model: 32, seq_len: 16}
train: {steps: 12, batch_size: 8, micro_batch: 2, lr: 0.003, warmup_steps: 2, eval_every: 4, eval_batches: 2,
        checkpoint_every: 5, keep_checkpoints: 3, threads: 1, grad_accum: tree, precision: fp32}
EOF
norm() { sed -E 's/,"(tokens_per_s|mfu|elapsed_s|comm_s)":[^,}]*//g' "$1"; }
same_run() {
    norm "$tmp/runs/$1/metrics.jsonl" > "$tmp/x.txt"
    norm "$tmp/runs/$2/metrics.jsonl" > "$tmp/y.txt"
    cmp "$tmp/x.txt" "$tmp/y.txt" || { echo "FAIL: metrics of $1 and $2 differ"; diff "$tmp/x.txt" "$tmp/y.txt" | head; exit 1; }
    grep -q '"mix/c/tokens"' "$tmp/x.txt" || { echo "FAIL: no mixture metrics in $1"; exit 1; }
    for f in model.safetensors optimizer.safetensors; do
        cmp "$tmp/runs/$1/checkpoints/step_00000012/$f" "$tmp/runs/$2/checkpoints/step_00000012/$f" ||
            { echo "FAIL: $f of $1 and $2 differ"; exit 1; }
    done
    # the mixture state (loader positions, weights) is in trainer_state.json; elapsed_s is wall time
    for r in "$1" "$2"; do
        sed -E 's/"elapsed_s": [^,}]*//' "$tmp/runs/$r/checkpoints/step_00000012/trainer_state.json" > "$tmp/$r.state"
    done
    cmp "$tmp/$1.state" "$tmp/$2.state" || { echo "FAIL: trainer state of $1 and $2 differs"; exit 1; }
    echo "ok: $1 == $2"
}
"$lmc" --quiet train "$tmp/cfg.yaml" --set run.name=static1
for np in 2 4; do
    $mpi -np $np "$lmc" --quiet train "$tmp/cfg.yaml" --set run.name=static$np
    same_run static1 static$np
done
ref="$tmp/runs/static1/checkpoints/step_00000012"
for rule in velocitune doremi chameleon; do
    "$lmc" --quiet train "$tmp/cfg.yaml" --set run.name=${rule}1 --set data.mixing=$rule --set data.mixing_reference=$ref
    $mpi -np 2 "$lmc" --quiet train "$tmp/cfg.yaml" --set run.name=${rule}2 --set data.mixing=$rule \
        --set data.mixing_reference=$ref
    same_run ${rule}1 ${rule}2
done
# stopped on 2 ranks, resumed in one process
$mpi -np 2 "$lmc" --quiet train "$tmp/cfg.yaml" --set run.name=r21 --set data.mixing=doremi \
    --set data.mixing_reference=$ref --stop-at 7
"$lmc" --quiet train "$tmp/cfg.yaml" --set run.name=r21 --set data.mixing=doremi --set data.mixing_reference=$ref --resume
same_run doremi1 r21
echo "PASS"
