#!/usr/bin/python3
"""PyTorch peer for the Llama bench config (bench/train_step.py --config S-llama): transformers'
LlamaForCausalLM as a user would train it (RMSNorm, RoPE, SwiGLU with intermediate_size by Llama's 8d/3
rule, num_key_value_heads, no biases, untied head), fp32, eager attention, AdamW (lr 3e-4, betas
0.9/0.95, weight decay 0.1 on 2-D weights), clipping at 1.0, random tokens. Debian's torch 1.13 has no
torch.compile, so there the peer runs eager; with a current PyTorch, --compile 1 --amp 1 adds torch.compile
and bf16 autocast (bench/train_step.py uses them for the bf16 comparison). Times whole steps like bench/peers/gpt2_torch.py and prints one
RESULT JSON line.
usage: llama_torch.py --L 6 --H 6 --d 384 --T 256 --B 8 --V 8192 --KV 2 --steps 10 --warmup 2 --threads 2
"""
import argparse, json, resource, statistics, time
import torch
from transformers import LlamaConfig, LlamaForCausalLM

ap = argparse.ArgumentParser()
for name, default in (("L", 6), ("H", 6), ("d", 384), ("T", 256), ("B", 8), ("V", 8192), ("KV", 0), ("llama", 1),
                      ("steps", 10), ("warmup", 2), ("threads", 2), ("compile", 0), ("amp", 0)):
    ap.add_argument("--" + name, type=int, default=default)
args = ap.parse_args()
torch.set_num_threads(args.threads)
torch.manual_seed(0)
d, L, T, V, H = args.d, args.L, args.T, args.V, args.H
KV = args.KV or H
ff = (int(8 * d / 3) + 255) // 256 * 256
cfg = LlamaConfig(vocab_size=V, hidden_size=d, intermediate_size=ff, num_hidden_layers=L, num_attention_heads=H,
                  num_key_value_heads=KV, max_position_embeddings=T, rms_norm_eps=1e-5, tie_word_embeddings=False,
                  attn_implementation="eager", use_cache=False)
model = LlamaForCausalLM(cfg).train()
fwd = torch.compile(model) if args.compile else model   # --compile 1: torch.compile (PyTorch 2.x)
params = list(model.parameters())
opt = torch.optim.AdamW([{"params": [p for p in params if p.dim() >= 2], "weight_decay": 0.1},
                         {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0}],
                        lr=3e-4, betas=(0.9, 0.95), eps=1e-8)
gen = torch.Generator().manual_seed(1)
times, cpu_times = [], []
for step in range(args.warmup + args.steps):
    x = torch.randint(0, V, (args.B, T), generator=gen)
    y = torch.randint(0, V, (args.B, T), generator=gen)
    c0 = time.process_time()
    t0 = time.perf_counter()
    opt.zero_grad(set_to_none=True)
    with torch.autocast(device_type="cpu", dtype=torch.bfloat16, enabled=bool(args.amp)):   # --amp 1: bf16 autocast
        logits = fwd(input_ids=x).logits
    loss = torch.nn.functional.cross_entropy(logits.reshape(-1, V).float(), y.reshape(-1))
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
hd = d // H
flops_per_tok = 6 * (L * (d * (H + 2 * KV) * hd + H * hd * d + 3 * d * ff) + d * V) + 12 * L * H * hd * T
res = dict(impl="torch-llama", torch=torch.__version__, compile=args.compile, amp=args.amp, threads=args.threads, L=L, H=H, KV=KV, d=d, T=T, B=args.B,
           V=V, steps=len(times), ms_step=1e3 * med, cpu_ms_step=1e3 * statistics.median(cpu_times),
           ms_min=1e3 * min(times), ms_max=1e3 * max(times), tok_s=args.B * T / med, flops_per_tok=flops_per_tok,
           gflops_achieved=flops_per_tok * args.B * T / med / 1e9,
           max_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0)
print("RESULT " + json.dumps(res), flush=True)
