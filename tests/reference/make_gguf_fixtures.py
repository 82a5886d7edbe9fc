"""Fixtures for tests/interop/test_gguf.c and the fuzz corpus of tests/fuzz/fuzz_gguf.c, written with
the `gguf` package (llama.cpp's gguf-py, PyPI `gguf`):

  tests/interop/fixtures/gguf/q8_0.safetensors   x: F32 [n] inputs; q: U8 [n/32*34] gguf.quants Q8_0 bytes
  tests/fuzz/corpus/gguf/*.gguf                   a valid small file from gguf.GGUFWriter, and corruptions
                                                  of it (one per GGUF parser bug class)

Run: /work/venv-torch/bin/python tests/reference/make_gguf_fixtures.py (from the repository root)."""
import os
import struct

import numpy as np
from gguf import GGUFWriter, GGMLQuantizationType
from gguf.quants import quantize
from safetensors.numpy import save_file

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
fix = os.path.join(root, "tests", "interop", "fixtures", "gguf")
corpus = os.path.join(root, "tests", "fuzz", "corpus", "gguf")
os.makedirs(fix, exist_ok=True)
os.makedirs(corpus, exist_ok=True)

# ---- Q8_0: random blocks of several scales plus the edge cases of the rounding rule ----
rng = np.random.default_rng(18)
blocks = [rng.standard_normal(32).astype(np.float32) * s for s in (1e-4, 0.02, 1.0, 300.0)]
blocks.append(np.zeros(32, np.float32))                                     # d = 0
b = np.zeros(32, np.float32); b[0] = 127.0; b[1:] = np.arange(31) + 0.5      # exact .5 ties: away from zero
blocks.append(b)
blocks.append(-b)
b = np.full(32, 1e-8, np.float32); b[3] = -3e-8                              # fp16 subnormal scale
blocks.append(b)
b = rng.uniform(-1, 1, 32).astype(np.float32); b[7] = 60000.0                # one outlier
blocks.append(b)
blocks += [rng.standard_normal(32).astype(np.float32) * 0.05 for _ in range(55)]
x = np.concatenate(blocks).astype(np.float32)
q = quantize(x.reshape(-1, 32), GGMLQuantizationType.Q8_0).reshape(-1).view(np.uint8)
assert q.size == x.size // 32 * 34
save_file({"x": x, "q": q.copy()}, os.path.join(fix, "q8_0.safetensors"))

# ---- fuzz seeds ----
def valid(path):
    w = GGUFWriter(path, "llama")
    w.add_block_count(1)
    w.add_uint32("test.count", 7)
    w.add_float32("test.eps", 1e-5)
    w.add_bool("test.flag", True)
    w.add_string("test.name", "seed")
    w.add_array("test.ints", [1, 2, 3])
    w.add_array("test.strs", ["a", "bc", ""])
    w.add_tensor("a.weight", np.arange(64, dtype=np.float32).reshape(2, 32))
    w.add_tensor("b.weight", np.ones(40, dtype=np.float16))
    w.add_tensor("c.weight", quantize(np.linspace(-1, 1, 64, dtype=np.float32).reshape(2, 32), GGMLQuantizationType.Q8_0),
                 raw_dtype=GGMLQuantizationType.Q8_0)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()

base = os.path.join(corpus, "valid.gguf")
valid(base)
data = bytearray(open(base, "rb").read())

def put(name, d):
    with open(os.path.join(corpus, name), "wb") as f:
        f.write(bytes(d))

def patched(off, fmt, val):
    d = bytearray(data)
    struct.pack_into(fmt, d, off, val)
    return d

put("bad_magic.gguf", patched(0, "<I", 0x46554746))
put("version1.gguf", patched(4, "<I", 1))
put("n_tensors_huge.gguf", patched(8, "<Q", 2**64 - 1))
put("n_kv_huge.gguf", patched(16, "<Q", 2**63))
put("key_len_huge.gguf", patched(24, "<Q", 2**64 - 2))        # calloc(n + 1) wrap (CVE-2024-23496)
put("truncated.gguf", data[: len(data) // 2])
put("header_only.gguf", data[:24])
# find the array of ints: key "test.ints" then type 9, elem type, count
i = data.find(b"test.ints") + len(b"test.ints")
put("array_count_wrap.gguf", patched(i + 8, "<Q", 2**62))    # n * 4 wraps to 0
put("array_elem_type_bad.gguf", patched(i + 4, "<I", 99))
put("array_nested.gguf", patched(i + 4, "<I", 9))
j = data.find(b"test.strs") + len(b"test.strs")
put("string_array_count_huge.gguf", patched(j + 8, "<Q", 2**61))
k = data.find(b"test.flag") + len(b"test.flag")
put("bool_2.gguf", patched(k + 4, "<B", 2))
put("kv_type_bad.gguf", patched(k, "<I", 13))
# tensor infos: "a.weight" n_dims, ne...
t = data.find(b"a.weight") + len(b"a.weight")
put("n_dims_5.gguf", patched(t, "<I", 5))
put("n_dims_0.gguf", patched(t, "<I", 0))
put("ne_zero.gguf", patched(t + 4, "<Q", 0))
put("ne_overflow.gguf", patched(t + 4, "<Q", 2**62))
put("ne_wrap_bytes.gguf", patched(t + 12, "<Q", 2**57))       # ne0 * ne1 * 4 wraps (CVE-2026-33298)
put("type_unknown.gguf", patched(t + 20, "<I", 2))            # q4_0: not supported by lmc
put("type_huge.gguf", patched(t + 20, "<I", 0xFFFFFFFF))
u = data.find(b"b.weight") + len(b"b.weight")
put("offset_bad.gguf", patched(u + 4 + 8 + 4, "<Q", 64))
put("offset_past_end.gguf", patched(u + 4 + 8 + 4, "<Q", 2**63))
v = data.find(b"c.weight") + len(b"c.weight")
put("q8_0_row_not_32.gguf", patched(v + 4, "<Q", 33))
d = bytearray(data); d[t - 8:t] = b"b.weight"
put("duplicate_tensor.gguf", d)
d = bytearray(data); kk = data.find(b"test.name"); d[kk:kk + 9] = b"test.ints"
put("duplicate_key.gguf", d)
print("wrote", os.path.join(fix, "q8_0.safetensors"), "and", len(os.listdir(corpus)), "corpus files")
