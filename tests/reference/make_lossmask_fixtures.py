#!/usr/bin/python3
"""Writes the loss-mask fixture tests/train/test_masked_loss.c compares against
(tests/train/fixtures/lossmask_ref.safetensors).

The model is the tiny GPT-2 of make_gpt2_fixtures.py (its forward, and its weights read back from
tests/model/fixtures/gpt2_tiny/model.safetensors). One optimizer step of 3 micro-batches x 2 sequences x
T = 32 with masked targets (label -100, as HF does): micro-batch 0 has about 30% of its targets masked,
micro-batch 1 about 70%, micro-batch 2 none. The step's loss is PyTorch's
cross_entropy(ignore_index=-100, reduction="sum") over all three divided by the number of unmasked
targets of the whole step (not the mean of the three per-micro-batch means, which is stored too, as
`mean_of_means`, so the test can show the two differ), with its gradient, in float64.

Run: /work/venv-torch/bin/python tests/reference/make_lossmask_fixtures.py
"""
import json, os, struct, sys
import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import make_gpt2_fixtures as g  # noqa: E402

ACCUM, MB, T = 3, 2, 32
OUT = os.path.join(HERE, "..", "train", "fixtures")


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        head = json.loads(f.read(n))
        blob = f.read()
    out = {}
    for name, v in head.items():
        if name == "__metadata__":
            continue
        a, b = v["data_offsets"]
        assert v["dtype"] == "F32"
        out[name] = np.frombuffer(blob[a:b], dtype="<f4").reshape(v["shape"])
    return out


def main():
    torch.set_num_threads(1)
    w = read_safetensors(os.path.join(HERE, "..", "model", "fixtures", "gpt2_tiny", "model.safetensors"))
    ps = {n: torch.tensor(w["transformer." + n].astype(np.float64), requires_grad=True) for n, _ in g.names()}
    gen = torch.Generator().manual_seed(20251202)
    idx = torch.randint(0, g.V, (ACCUM * MB, T), generator=gen)
    tgt = torch.randint(0, g.V, (ACCUM * MB, T), generator=gen)
    share = [0.3, 0.7, 0.0]  # masked share per micro-batch
    for k in range(ACCUM):
        drop = torch.rand((MB, T), generator=gen) < share[k]
        tgt[k * MB:(k + 1) * MB][drop] = -100
    total = int((tgt >= 0).sum())
    loss_sum, means = 0.0, []
    for k in range(ACCUM):
        logits, _ = g.forward(ps, idx[k * MB:(k + 1) * MB], None)
        tk = tgt[k * MB:(k + 1) * MB].reshape(-1)
        s = F.cross_entropy(logits.reshape(-1, g.V), tk, ignore_index=-100, reduction="sum")
        loss_sum = loss_sum + s
        means.append(s.item() / int((tk >= 0).sum()))
    loss = loss_sum / total
    loss.backward()
    ref = {"inputs": idx.int().numpy(), "targets": tgt.int().numpy(),
           "loss": np.array([loss.item()], np.float64), "n_targets": np.array([total], np.int32),
           "mean_of_means": np.array([sum(means) / ACCUM], np.float64)}
    for n, _ in g.names():
        ref["grad." + n] = ps[n].grad.float().numpy()
    os.makedirs(OUT, exist_ok=True)
    g.write_safetensors(os.path.join(OUT, "lossmask_ref.safetensors"), ref)
    print(f"loss {loss.item():.8f} over {total} of {ACCUM * MB * T} targets; mean of means {sum(means) / ACCUM:.8f}")


if __name__ == "__main__":
    main()
