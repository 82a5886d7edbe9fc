#!/usr/bin/env python3
"""lmc's TensorBoard event files against the real reader (the tensorboard package's event loader).

  /work/venv-torch/bin/python tests/reference/verify_tensorboard.py [--lmc build/lmc]

1. tests/train/fixtures/tb/lmc/: the event file lmc writes for fixtures/tb/metrics.jsonl (made by
   `LMC_WRITE_FIXTURES=1 build/train_test_tb_events`). EventAccumulator must read every number of
   every record back, equal to float32(value), at its step, with the wall time lmc gave it; what it
   read is written to fixtures/tb/lmc_expected.json (the C test compares lmc's own reader with it).
2. tests/train/fixtures/tb/torch/: an event file written by torch.utils.tensorboard.SummaryWriter
   (scalars, plus a histogram and a text summary that a scalar reader must skip), made here if absent,
   and what EventAccumulator reads of it -> fixtures/tb/torch_expected.json (lmc report overlays it).
3. With --lmc: a real 12-step `lmc train` with run.tensorboard: true on random tokens; every scalar
   of its metrics.jsonl must come back from RUN/tb equal (float32), and nothing else.
Prints one line per check and exits 1 on any mismatch."""
import argparse, glob, json, os, struct, subprocess, sys, tempfile

import numpy as np
from tensorboard.backend.event_processing import event_accumulator

HERE = os.path.dirname(os.path.abspath(__file__))
FIX = os.path.join(HERE, "..", "train", "fixtures", "tb")
ap = argparse.ArgumentParser()
ap.add_argument("--lmc", help="lmc binary: also check a real training run")
args = ap.parse_args()
fails = 0


def load(path):
    acc = event_accumulator.EventAccumulator(path, size_guidance={event_accumulator.SCALARS: 0})
    acc.Reload()
    return {t: [[e.step, e.value, e.wall_time] for e in acc.Scalars(t)] for t in sorted(acc.Tags()["scalars"])}


def f32(v):
    return float(np.float32(v))


def flatten(rec, prefix=""):
    out = {}
    for k, v in rec.items():
        key = prefix + ("/" if prefix else "") + k
        if not prefix and k == "step":
            continue
        if isinstance(v, dict):
            out.update(flatten(v, key))
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            out[key] = v
    return out


def expect_equal(name, got, records, wall_of=None):
    global fails
    want = {}
    for r in records:
        for k, v in flatten(r).items():
            want.setdefault(k, []).append((r["step"], f32(v)))
    bad = []
    if sorted(got) != sorted(want):
        bad.append(f"tags {sorted(got)} != {sorted(want)}")
    for tag in want:
        g = [(s, v) for s, v, _ in got.get(tag, [])]
        if g != want[tag]:
            bad.append(f"{tag}: {g[:3]}... != {want[tag][:3]}...")
        if wall_of:
            for s, _, w in got.get(tag, []):
                if w != wall_of(s):
                    bad.append(f"{tag} step {s}: wall_time {w} != {wall_of(s)}")
                    break
    n = sum(len(v) for v in want.values())
    print(f"{'ok' if not bad else 'FAIL'}: {name}: {n} scalars in {len(want)} tags" + ("".join("\n  " + b for b in bad)))
    fails += bool(bad)


# 1. lmc's fixture event file
recs = [json.loads(l) for l in open(os.path.join(FIX, "metrics.jsonl"))]
lmc_dir = os.path.join(FIX, "lmc")
got = load(lmc_dir)
expect_equal("lmc fixture event file (TFRecord CRCs, Event/Summary/Value) read by EventAccumulator", got, recs,
             lambda s: 1767225600.0 + 0.5 * s)
json.dump(got, open(os.path.join(FIX, "lmc_expected.json"), "w"), indent=0)

# 2. PyTorch's SummaryWriter
torch_dir = os.path.join(FIX, "torch")
if not glob.glob(os.path.join(torch_dir, "events.out.tfevents.*")):
    from torch.utils.tensorboard import SummaryWriter
    w = SummaryWriter(log_dir=torch_dir)
    for step in range(0, 40, 2):
        t = 1767225600.0 + step
        w.add_scalar("loss", 7.0 * 0.97 ** step + 0.01 * (step % 3), step, walltime=t)
        w.add_scalar("lr", 1e-3 * min(1.0, (step + 1) / 10), step, walltime=t)
        if step % 10 == 0:
            w.add_scalar("val_loss", 7.1 * 0.97 ** step, step, walltime=t)
            w.add_histogram("weights", np.arange(10, dtype=np.float32) * (step + 1), step, walltime=t)
            w.add_text("note", f"step {step}", step, walltime=t)
    w.close()
tgot = load(torch_dir)
print(f"ok: SummaryWriter file: tags {sorted(tgot)}, {sum(len(v) for v in tgot.values())} scalars")
json.dump(tgot, open(os.path.join(FIX, "torch_expected.json"), "w"), indent=0)

# 3. a real run
if args.lmc:
    with tempfile.TemporaryDirectory() as d:
        rng = np.random.default_rng(1)
        for name, n in (("train", 4000), ("val", 1000)):
            toks = (np.arange(n) % 64).astype(np.uint16)
            noise = rng.random(n) < 0.25
            toks[noise] = rng.integers(0, 64, size=int(noise.sum()))
            hdr = np.zeros(256, dtype=np.int32)
            hdr[0], hdr[1], hdr[2] = 20240520, 1, n
            with open(os.path.join(d, name + ".bin"), "wb") as f:
                f.write(hdr.tobytes())
                f.write(toks.tobytes())
        cfg = os.path.join(d, "run.yaml")
        open(cfg, "w").write(
            f"run: {{name: tb, dir: {d}/runs, tensorboard: true, sample_tokens: 0, peak_tflops: 1}}\n"
            f"data: {{train: {d}/train.bin, val: {d}/val.bin}}\n"
            "model: {n_layer: 2, n_head: 2, d_model: 32, seq_len: 16, vocab_size: 64}\n"
            "train: {steps: 12, batch_size: 4, micro_batch: 2, warmup_steps: 2, eval_every: 4, eval_batches: 2, lr: 0.003}\n")
        subprocess.run([args.lmc, "-q", "train", cfg], check=True)
        run = os.path.join(d, "runs", "tb")
        recs = [json.loads(l) for l in open(os.path.join(run, "metrics.jsonl"))]
        expect_equal("lmc train with run.tensorboard: every metrics.jsonl scalar", load(os.path.join(run, "tb")), recs)
sys.exit(1 if fails else 0)
