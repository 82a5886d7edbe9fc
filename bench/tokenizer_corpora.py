#!/usr/bin/env python3
"""Build the tokenizer benchmark corpora under a directory (default /tmp/lmc_tok_bench):

  ts50.txt   tinyshakespeare repeated to ~50 MB (one document)
  ts10.txt   tinyshakespeare repeated 10 times (~11 MB; training)
  mix.txt    a multilingual/code mix (~20 MB): wikitext-2 (English), the Python standard library
             sources (code), the CJK sample texts shipped with CPython's tests, and the multilingual
             fixture texts (Arabic, Hebrew, Devanagari, Thai, Cyrillic, Greek, emoji, ...) repeated;
             the parts are interleaved in 64 KB blocks so no part is one long run.
  mix_heldout.txt, ts_heldout.txt  held-out text for compression (not in the training files)
"""
import glob, json, os, sys, sysconfig

out = sys.argv[1] if len(sys.argv) > 1 else "/tmp/lmc_tok_bench"
# the shared folder sits beside the repository (../shared from its root)
shared = os.environ.get("LMC_SHARED_DIR", os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared")))
os.makedirs(out, exist_ok=True)
ts = open(os.path.join(shared, "data", "tinyshakespeare.txt"), encoding="utf-8").read()
cut = int(len(ts) * 0.9)
cut = ts.rfind("\n", 0, cut) + 1
train, held = ts[:cut], ts[cut:]
open(os.path.join(out, "ts50.txt"), "w").write(ts * (50_000_000 // len(ts.encode()) + 1))
open(os.path.join(out, "ts10.txt"), "w").write(train * 10)
open(os.path.join(out, "ts_heldout.txt"), "w").write(held)

parts = []
parts.append(open(os.path.join(shared, "data", "wikitext-2", "test.txt"), encoding="utf-8").read())
parts.append(open(os.path.join(shared, "data", "wikitext-2", "valid.txt"), encoding="utf-8").read())
lib = sysconfig.get_paths()["stdlib"]
code = []
for p in sorted(glob.glob(os.path.join(lib, "*.py")) + sorted(glob.glob(os.path.join(lib, "*", "*.py")))):
    try:
        code.append(open(p, encoding="utf-8").read())
    except (UnicodeDecodeError, OSError):
        pass
parts.append("".join(code)[:12_000_000])
cjk = ""
for p in sorted(glob.glob(os.path.join(lib, "test", "cjkencodings", "*-utf8.txt"))):
    cjk += open(p, encoding="utf-8", errors="replace").read()
fx = json.load(open(os.path.join(os.path.dirname(__file__), "..", "tests", "tokenizer", "fixtures", "tiktoken_ids.json")))
multi = "\n".join(fx["texts"]) + "\n"
parts.append((cjk + multi) * 200)
blocks = []
for p in parts:
    blocks.append([p[i:i + 65536] for i in range(0, len(p), 65536)])
mix = []
i = 0
while any(blocks):
    b = blocks[i % len(blocks)]
    if b:
        mix.append(b.pop(0))
    i += 1
mix = "".join(mix)
mcut = mix.rfind("\n", 0, int(len(mix) * 0.95)) + 1
open(os.path.join(out, "mix.txt"), "w").write(mix[:mcut])
open(os.path.join(out, "mix_heldout.txt"), "w").write(mix[mcut:])
for f in sorted(os.listdir(out)):
    print(f, os.path.getsize(os.path.join(out, f)))
