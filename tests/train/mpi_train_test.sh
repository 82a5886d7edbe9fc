#!/bin/sh
# Data-parallel training over MPI (src/train/dp.h):
#  1. mpirun -np 1, 2 and 4 (oversubscribed) give the same losses, val losses, final weights and AdamW
#     state, bit for bit, as one process with train.grad_accum: tree (same threads per rank);
#  2. a run stopped on 2 ranks resumes on 1 rank (and the reverse) and ends bit for bit where the
#     uninterrupted run ends;
#  3. a rank killed mid-run stops the job (non-zero exit, bounded time), the last checkpoint stays usable;
#     a rank that hangs makes the others fail after train.dist_timeout_s with a message naming it.
# Usage: mpi_train_test.sh LMC MPIEXEC
set -eu
lmc=$1 mpiexec=$2
command -v perl > /dev/null || { echo "SKIP: perl not found (writes the test shards)"; exit 77; }
"$lmc" --version | grep -q mpi || { echo "SKIP: lmc built without MPI"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mpi="$mpiexec --oversubscribe --bind-to none"
[ "$(id -u)" = 0 ] && mpi="$mpi --allow-run-as-root"

# llm.c shards of a noisy counter (256 x int32 header: magic, version 1, token count; then uint16 tokens)
shard() {
    perl -e 'my ($n, $seed) = @ARGV; srand($seed); my @t;
             for my $i (0 .. $n - 1) { push @t, rand(4) < 1 ? int(rand(64)) : $i % 64 }
             print pack("l<256", 20240520, 1, $n, (0) x 253), pack("S<*", @t)' "$1" "$2"
}
shard 4000 1 > "$tmp/train.bin"
shard 1000 2 > "$tmp/val.bin"
cat > "$tmp/cfg.yaml" <<EOF
run: {dir: $tmp/runs, log_every: 100, sample_every: 0, sample_tokens: 0, peak_tflops: 1}
data: {train: $tmp/train.bin, val: $tmp/val.bin}
model: {vocab_size: 64, n_layer: 3, n_head: 4, d_model: 96, seq_len: 16}
train: {steps: 12, batch_size: 8, micro_batch: 2, lr: 0.003, warmup_steps: 2, eval_every: 4, eval_batches: 4,
        checkpoint_every: 5, keep_checkpoints: 3, threads: 1, grad_accum: tree, precision: fp32}
EOF

# what must agree: every metrics field but the timings
norm() { sed -E 's/,"(tokens_per_s|mfu|elapsed_s|comm_s)":[^,}]*//g' "$1"; }
same_run() { # RUN_A RUN_B: metrics and the final checkpoint's tensors
    norm "$tmp/runs/$1/metrics.jsonl" > "$tmp/a.txt"
    norm "$tmp/runs/$2/metrics.jsonl" > "$tmp/b.txt"
    cmp "$tmp/a.txt" "$tmp/b.txt" || { echo "FAIL: metrics of $1 and $2 differ"; diff "$tmp/a.txt" "$tmp/b.txt" | head; exit 1; }
    for f in model.safetensors optimizer.safetensors; do
        cmp "$tmp/runs/$1/checkpoints/step_00000012/$f" "$tmp/runs/$2/checkpoints/step_00000012/$f" ||
            { echo "FAIL: $f of $1 and $2 differ"; exit 1; }
    done
    echo "ok: $1 == $2 (losses, val losses, weights, AdamW state)"
}

"$lmc" --quiet train "$tmp/cfg.yaml" --set run.name=one
for np in 1 2 4; do
    $mpi -np $np "$lmc" --quiet train "$tmp/cfg.yaml" --set run.name=np$np
    same_run one np$np
done
grep -q "data parallel: 4 ranks" "$tmp/runs/np4/train.log" || { echo "FAIL: np4 did not run on 4 ranks"; exit 1; }
grep -q "sharded over the ranks (ZeRO-1)" "$tmp/runs/np4/train.log" || { echo "FAIL: no ZeRO-1 on 4 ranks"; exit 1; }
grep -q '"comm_s"' "$tmp/runs/np2/metrics.jsonl" || { echo "FAIL: no comm_s metric"; exit 1; }
# the replicated optimizer (every rank updates everything) is the same computation
$mpi -np 2 "$lmc" --quiet train "$tmp/cfg.yaml" --set run.name=np2rep --set train.shard_optimizer=false
same_run one np2rep

# an optimizer that needs whole matrices runs replicated on every rank: the same bits too
"$lmc" --quiet train "$tmp/cfg.yaml" --set run.name=muon1 --set train.optimizer=muon
$mpi -np 2 "$lmc" --quiet train "$tmp/cfg.yaml" --set run.name=muon2 --set train.optimizer=muon
same_run muon1 muon2
# galore too (its moments live at their low-rank sizes in the optimizer, the model's m / v are freed)
"$lmc" --quiet train "$tmp/cfg.yaml" --set run.name=gal1 --set train.optimizer=galore --set train.galore.rank=8 \
    --set train.galore.update_proj_gap=3
$mpi -np 2 "$lmc" --quiet train "$tmp/cfg.yaml" --set run.name=gal2 --set train.optimizer=galore --set train.galore.rank=8 \
    --set train.galore.update_proj_gap=3
same_run gal1 gal2

# resume across rank counts: 2 ranks to step 6, then 1 process; 1 process to 6, then 4 ranks
$mpi -np 2 "$lmc" --quiet train "$tmp/cfg.yaml" --set run.name=r21 --stop-at 6
"$lmc" --quiet train "$tmp/cfg.yaml" --set run.name=r21 --resume
same_run one r21
"$lmc" --quiet train "$tmp/cfg.yaml" --set run.name=r14 --stop-at 6
$mpi -np 4 "$lmc" --quiet train "$tmp/cfg.yaml" --set run.name=r14 --resume
same_run one r14

# a rank killed at step 8: the job stops (mpirun reports it), the step-5 checkpoint is complete and resumes
set +e
LMC_DIST_CRASH=1:8 timeout 120 $mpi -x LMC_DIST_CRASH -np 2 "$lmc" --quiet train "$tmp/cfg.yaml" \
    --set run.name=kill > "$tmp/kill.out" 2>&1
code=$?
set -e
[ "$code" -ne 0 ] && [ "$code" -ne 124 ] || { echo "FAIL: killed rank: exit $code (124 = hung)"; cat "$tmp/kill.out"; exit 1; }
[ -f "$tmp/runs/kill/checkpoints/step_00000005/DONE" ] || { echo "FAIL: no complete step-5 checkpoint"; exit 1; }
"$lmc" --quiet train "$tmp/cfg.yaml" --set run.name=kill --resume
same_run one kill

# a rank that hangs at step 8: rank 0 gives up after the timeout and names the operation
set +e
LMC_DIST_CRASH=1:8:hang timeout 120 $mpi -x LMC_DIST_CRASH -np 2 "$lmc" --quiet train "$tmp/cfg.yaml" \
    --set run.name=hang --set train.dist_timeout_s=3 > "$tmp/hang.out" 2>&1
code=$?
set -e
[ "$code" -ne 0 ] && [ "$code" -ne 124 ] || { echo "FAIL: hung rank: exit $code (124 = hung)"; cat "$tmp/hang.out"; exit 1; }
grep -q "rank 0: gradient reduce-scatter with rank 1 timed out after 3 s" "$tmp/hang.out" ||
    { echo "FAIL: no timeout message"; cat "$tmp/hang.out"; exit 1; }
echo "ok: killed and hung ranks stop the job with a message; the last checkpoint resumes exactly"

# data-parallel eval adds the same per-token losses in the same order: the same numbers
ck="$tmp/runs/one/checkpoints/step_00000012"
"$lmc" --quiet eval -m "$ck" -d "$tmp/val.bin" -t 16 -b 3 > "$tmp/e1.json"
for np in 2 4; do
    $mpi -np $np "$lmc" --quiet eval -m "$ck" -d "$tmp/val.bin" -t 16 -b 3 | sed 's/, "ranks": [0-9]*//' > "$tmp/e$np.json"
    cmp "$tmp/e1.json" "$tmp/e$np.json" || { echo "FAIL: eval on $np ranks"; cat "$tmp/e1.json" "$tmp/e$np.json"; exit 1; }
done
echo "ok: mpirun -np 2 / 4 lmc eval == one process: $(cat "$tmp/e1.json")"

# an uneven split is refused with a message
set +e
$mpi -np 2 "$lmc" --quiet train "$tmp/cfg.yaml" --set run.name=bad --set train.batch_size=6 > "$tmp/bad.out" 2>&1
code=$?
set -e
[ "$code" -ne 0 ] && grep -q "cannot be split over 2 ranks" "$tmp/bad.out" ||
    { echo "FAIL: uneven split not refused"; cat "$tmp/bad.out"; exit 1; }
echo "PASS"
