"""Proof with the real client: llama.cpp (llama-cpp-python, built from llama.cpp's source) runs the GGUF
files lmc exports, and computes what lmc computes.

For the lmc-trained tiny GPT-2 and Llama checkpoints in tests/interop/fixtures/gguf/tiny_{gpt2,llama}
and each --dtype (f32, f16, bf16, q8_0):
  1. `lmc export --format gguf` writes the file; the `gguf` package (gguf-py) reads it back: keys,
     tensor shapes and types, data offsets aligned to 32, and (f32) token_embd equal to the checkpoint.
  2. llama.cpp loads it; its tokenizer gives lmc's token ids for a fixed text; the next-token
     log-probabilities of a fixed 48-token sequence match lmc's (`lmc eval` on the same file: mean
     loss) within the stated tolerance; greedy generation from a prompt (llama.cpp, argmax of its
     logits) equals `lmc sample --temperature 0`.
  3. The numbers go to tests/interop/fixtures/gguf/llamacpp_ref.json, which tests/interop/test_gguf.c
     compares against lmc's own per-position log-probs and greedy tokens in CI (no Python there).

llama.cpp runs with an f32 KV cache (type_k = type_v = f32; its default f16 cache rounds keys and
values, which alone gives ~7e-5 relative differences on f32 weights).
Tolerances (max |lp_llama.cpp - lp_lmc| / max |lp|): f32 1e-4 (both compute in f32; llama.cpp uses
its own kernels); f16 / bf16 / q8_0: llama.cpp also rounds the *activations* to the weight type in
its dot products (f16, bf16, q8_0 blocks) where lmc dequantises the weights to f32, so they differ by
that rounding (and the GPT-2 file by ggml's fp16 GELU table, ~3e-5): f16 1e-3, bf16 5e-3, q8_0 1e-2.

Run from the repository root after building: /work/venv-torch/bin/python tests/reference/verify_gguf_llamacpp.py
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import gguf
import llama_cpp.llama_cpp as llama_cpp_lib
from llama_cpp import Llama

# llama.cpp's AMX extra buffer type (weight repacking for Q8_0 on AMX CPUs) dies with SIGILL in
# ggml_backend_amx_mul_mat on this project's machine (AMX tiles present, but not usable by ggml here);
# use the plain CPU kernels (llama_model_params.use_extra_bufts = false, llama.cpp's --no-repack).
_default_params = llama_cpp_lib.llama_model_default_params


def _params_without_extra_bufts():
    p = _default_params()
    p.use_extra_bufts = False
    return p


llama_cpp_lib.llama_model_default_params = _params_without_extra_bufts

root = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
lmc = os.path.join(root, "build", "lmc")
fix = os.path.join(root, "tests", "interop", "fixtures", "gguf")
TOL = {"f32": 1e-4, "f16": 1e-3, "bf16": 5e-3, "q8_0": 1e-2}
TEXT = ("KATHARINA:\nI'll see thee hang'd on Sunday first.\n\nGREMIO:\nHark, Petruchio; she says she'll see thee\n"
        "hang'd first.\n\nTRANIO:\nIs this your speeding? nay, then, good night our part!\n")
PROMPT = "PETRUCHIO:\nBe patient, gentlemen"
N_TOK, N_GEN = 48, 24


def run(*args):
    return subprocess.run([lmc, *args], check=True, capture_output=True, text=True).stdout


def lmc_ids(tok, text, tmp):
    p = os.path.join(tmp, "t.txt")
    with open(p, "w") as f:
        f.write(text)
    return [int(x) for x in run("tokenizer", "encode", "-q", "-t", tok, "--ids", p).split()]


def log_softmax(x):
    x = x.astype(np.float64)
    m = x.max(axis=-1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=-1, keepdims=True))


def check_gguf_package(path, arch, dtype, ckpt):
    r = gguf.GGUFReader(path)
    f = {k: v.contents() for k, v in r.fields.items() if not k.startswith("tokenizer.ggml.tokens")
         and not k.startswith("tokenizer.ggml.merges") and k != "tokenizer.ggml.token_type"}
    assert f["general.architecture"] == arch, f
    assert f[f"{arch}.block_count"] == 2 and f[f"{arch}.embedding_length"] == 64
    assert f["tokenizer.ggml.pre"] == ("gpt-2" if arch == "gpt2" else "llama-bpe")
    assert len(r.fields["tokenizer.ggml.tokens"].data) == 512
    for t in r.tensors:
        assert t.data_offset % 32 == 0, (t.name, t.data_offset)
        want = gguf.GGMLQuantizationType.F32 if len(t.shape) == 1 else {
            "f32": gguf.GGMLQuantizationType.F32, "f16": gguf.GGMLQuantizationType.F16,
            "bf16": gguf.GGMLQuantizationType.BF16, "q8_0": gguf.GGMLQuantizationType.Q8_0}[dtype]
        assert t.tensor_type == want, (t.name, t.tensor_type, want)
    te = next(t for t in r.tensors if t.name == "token_embd.weight")
    assert list(te.shape) == [64, 512]
    if dtype == "f32":
        from safetensors.numpy import load_file
        st = load_file(os.path.join(ckpt, "model.safetensors"))
        wte = st.get("transformer.wte.weight", st.get("model.embed_tokens.weight"))
        assert np.array_equal(np.asarray(te.data).reshape(512, 64), wte), "token_embd differs"
    return len(r.tensors)


def main():
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        for arch in ("gpt2", "llama"):
            ckpt = os.path.join(fix, f"tiny_{arch}")
            tok = os.path.join(ckpt, "tokenizer.json")
            ids = lmc_ids(tok, TEXT, tmp)[:N_TOK]
            prompt = lmc_ids(tok, PROMPT, tmp)
            assert len(ids) == N_TOK
            shard = os.path.join(tmp, f"{arch}.bin")
            with open(os.path.join(tmp, "text.txt"), "w") as f:
                f.write(TEXT)
            run("tokenizer", "encode", "-q", "-t", tok, "-o", shard, os.path.join(tmp, "text.txt"))
            rec = {"tokens": ids, "prompt": prompt, "text": TEXT, "prompt_text": PROMPT, "llamacpp": {}}
            for dtype in ("f32", "f16", "bf16", "q8_0"):
                g = os.path.join(tmp, f"{arch}-{dtype}.gguf")
                run("export", "-q", "--model", ckpt, "-o", g, "--dtype", dtype)
                nt = check_gguf_package(g, arch, dtype, ckpt)
                llm = Llama(model_path=g, n_ctx=64, n_batch=64, logits_all=True, n_threads=1, verbose=False,
                            type_k=0, type_v=0)  # f32 KV cache (llama.cpp's default is f16)
                cpp_ids = llm.tokenize(TEXT.encode(), add_bos=False, special=False)[:N_TOK]
                assert cpp_ids == ids, f"{arch}: llama.cpp tokenizes differently: {cpp_ids[:20]} vs {ids[:20]}"
                llm.reset()
                llm.eval(ids[:-1])
                lp = log_softmax(np.array(llm.scores[: N_TOK - 1]))
                lp = lp[np.arange(N_TOK - 1), ids[1:]]
                # greedy from the prompt
                llm.reset()
                llm.eval(prompt)
                greedy = []
                for _ in range(N_GEN):
                    t = int(np.argmax(llm.scores[llm.n_tokens - 1]))
                    greedy.append(t)
                    llm.eval([t])
                lmc_greedy = [int(x) for x in run("sample", "-q", "--model", g, "--tokenizer", tok, "--prompt", PROMPT,
                                                  "--temperature", "0", "--max-tokens", str(N_GEN), "--no-stop",
                                                  "--ids").split()]
                ev = json.loads(run("eval", "-q", "--model", g, "--data", shard, "--seq-len", str(N_TOK - 1),
                                    "--max-tokens", str(N_TOK - 1)))
                cpp_loss = float(-lp.mean())
                rel = abs(cpp_loss - ev["loss"]) / ev["loss"]
                print(f"{arch} {dtype}: {nt} tensors; llama.cpp mean loss {cpp_loss:.9f}, lmc eval {ev['loss']:.9f} "
                      f"(rel {rel:.2e}); greedy equal: {greedy == lmc_greedy}")
                assert rel <= TOL[dtype], (arch, dtype, rel)
                rec["llamacpp"][dtype] = {"logprobs": [float(v) for v in lp], "greedy": greedy,
                                          "lmc_greedy": lmc_greedy, "tolerance": TOL[dtype],
                                          "llamacpp_mean_loss": cpp_loss, "lmc_eval_loss": ev["loss"]}
                del llm
            out[arch] = rec
    import llama_cpp
    out["llama_cpp_python_version"] = llama_cpp.__version__
    out["gguf_version"] = getattr(gguf, "__version__", "0.19.0")
    with open(os.path.join(fix, "llamacpp_ref.json"), "w") as f:
        json.dump(out, f, indent=1)
    print("wrote", os.path.join(fix, "llamacpp_ref.json"))


if __name__ == "__main__":
    sys.exit(main())
