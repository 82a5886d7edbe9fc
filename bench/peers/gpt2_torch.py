#!/usr/bin/python3
"""PyTorch peer for bench/train_step.sh: a plain GPT-2 as a user would write it (pre-LN, LayerNorm with
bias, learned positions, causal softmax attention written out, GELU-tanh 4x MLP, head tied to the token
embedding, nn.Linear with bias), fp32, AdamW (lr 3e-4, betas 0.9/0.95, weight decay 0.1 on 2-D weights),
gradient clipping at 1.0, random tokens. Times whole steps: zero_grad + forward + backward + clip + step.
Prints one RESULT JSON line (median step time, tokens/s, peak RSS).
usage: gpt2_torch.py --L 6 --H 6 --d 384 --T 256 --B 8 --V 8192 --steps 10 --warmup 2 --threads 2
"""
import argparse, json, math, resource, statistics, time
import torch
import torch.nn as nn
import torch.nn.functional as F

ap = argparse.ArgumentParser()
for name, default in (("L", 6), ("H", 6), ("d", 384), ("T", 256), ("B", 8), ("V", 8192), ("steps", 10),
                      ("warmup", 2), ("threads", 2)):
    ap.add_argument("--" + name, type=int, default=default)
args = ap.parse_args()
torch.set_num_threads(args.threads)
torch.manual_seed(0)


class Attention(nn.Module):
    def __init__(self, d, n_head, max_t):
        super().__init__()
        self.n_head = n_head
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.register_buffer("causal", torch.ones(max_t, max_t, dtype=torch.bool).tril())

    def forward(self, x):
        b, t, d = x.shape
        hd = d // self.n_head
        q, k, v = (z.reshape(b, t, self.n_head, hd).transpose(1, 2) for z in self.qkv(x).chunk(3, dim=-1))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(hd)
        scores = scores.masked_fill(~self.causal[:t, :t], float("-inf"))
        y = torch.matmul(scores.softmax(dim=-1), v)
        return self.proj(y.transpose(1, 2).reshape(b, t, d))


class Block(nn.Module):
    def __init__(self, d, n_head, max_t):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.attn = Attention(d, n_head, max_t)
        self.fc, self.fc_proj = nn.Linear(d, 4 * d), nn.Linear(4 * d, d)

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.fc_proj(F.gelu(self.fc(self.ln2(x)), approximate="tanh"))


class GPT2(nn.Module):
    def __init__(self, n_layer, n_head, d, vocab, max_t):
        super().__init__()
        self.tok, self.pos = nn.Embedding(vocab, d), nn.Embedding(max_t, d)
        self.blocks = nn.ModuleList(Block(d, n_head, max_t) for _ in range(n_layer))
        self.ln_f = nn.LayerNorm(d)
        for name, p in self.named_parameters():
            if p.dim() == 2:
                resid = name.endswith("attn.proj.weight") or name.endswith("fc_proj.weight")
                nn.init.normal_(p, 0.0, 0.02 / math.sqrt(2 * n_layer) if resid else 0.02)
            elif name.endswith("bias"):
                nn.init.zeros_(p)

    def forward(self, idx, targets):
        x = self.tok(idx) + self.pos(torch.arange(idx.shape[1]))
        for blk in self.blocks:
            x = blk(x)
        logits = self.ln_f(x) @ self.tok.weight.t()
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))


model = GPT2(args.L, args.H, args.d, args.V, args.T)
params = list(model.parameters())
opt = torch.optim.AdamW([{"params": [p for p in params if p.dim() >= 2], "weight_decay": 0.1},
                         {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0}],
                        lr=3e-4, betas=(0.9, 0.95), eps=1e-8)
gen = torch.Generator().manual_seed(1)
times, cpu_times = [], []
for step in range(args.warmup + args.steps):
    x = torch.randint(0, args.V, (args.B, args.T), generator=gen)
    y = torch.randint(0, args.V, (args.B, args.T), generator=gen)
    c0 = time.process_time()
    t0 = time.perf_counter()
    opt.zero_grad(set_to_none=True)
    loss = model(x, y)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(params, 1.0)
    opt.step()
    dt = time.perf_counter() - t0
    dc = time.process_time() - c0
    if step >= args.warmup:
        times.append(dt)
        cpu_times.append(dc)
    print(f"step {step} loss {loss.item():.4f} {1e3 * dt:.1f} ms", flush=True)
med = statistics.median(times)
d, L, T, V = args.d, args.L, args.T, args.V
flops_per_tok = 6 * (12 * L * d * d + d * V) + 12 * L * d * T
res = dict(impl="torch", torch=torch.__version__, threads=args.threads, L=L, H=args.H, d=d, T=T, B=args.B, V=V,
           steps=len(times), ms_step=1e3 * med, cpu_ms_step=1e3 * statistics.median(cpu_times), ms_min=1e3 * min(times), ms_max=1e3 * max(times),
           tok_s=args.B * T / med, flops_per_tok=flops_per_tok, gflops_achieved=flops_per_tok * args.B * T / med / 1e9,
           max_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0)
print("RESULT " + json.dumps(res), flush=True)
