#!/usr/bin/env python3
"""Make the tokenizer exactness fixtures (tests/tokenizer/fixtures/) with pip tiktoken and tokenizers.

  python3 tests/reference/make_tokenizer_fixtures.py [--shared ../shared]

Writes:
  tiktoken_ids.json  texts of a varied corpus and tiktoken's ids for gpt2, cl100k_base, o200k_base
                     (encode_ordinary), plus generated long inputs (the 1 MB word, ...) given by a
                     generator spec and checked by count + FNV-1a-64 of the ids (too big to commit).
  hf_small.json      a byte-level BPE tokenizer.json trained by HF BpeTrainer (vocab 1000) on the
                     first 300,000 bytes of tinyshakespeare (whole lines)
  hf_small_ids.json  HF's ids for the corpus texts with hf_small.json
The C tests read these; CI never runs Python.
"""
import argparse, json, os, sys

import tiktoken
import tiktoken.load
from tiktoken_ext import openai_public as op

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "tokenizer", "fixtures")

def encodings(shared):
    vocab = os.path.join(shared, "vocab")
    encs = {}
    for name, ctor in (("gpt2", op.r50k_base), ("cl100k_base", op.cl100k_base), ("o200k_base", op.o200k_base)):
        # The constructors download; take only their pattern and special tokens and load ranks offline.
        import unittest.mock as um
        with um.patch.object(op, "load_tiktoken_bpe", lambda *a, **k: {}):
            spec = ctor()
        ranks = tiktoken.load.load_tiktoken_bpe(os.path.join(vocab, name + ".tiktoken"))
        encs[name] = tiktoken.Encoding(name, pat_str=spec["pat_str"], mergeable_ranks=ranks,
                                       special_tokens=spec["special_tokens"])
    return encs


def corpus():
    t = []
    t.append("Hello, world! The quick brown fox jumps over the lazy dog. It's 5 o'clock somewhere.")
    t.append("I'm sure you'll see they've said we'd done it. DON'T YOU'LL I'M WE'VE THEY'RE SHE'D IT'S")
    t.append("'s 't 're 've 'm 'll 'd 'S 'T 'RE 'VE 'M 'LL 'D x's X'S o'Reilly 'ſ 'K ’s")
    t.append("def f(x):\n    return {'a': [1, 2, 3], \"b\": x ** 2}  # comment\n\nif __name__ == '__main__':\n\tprint(f(3))\n")
    t.append("#include <stdio.h>\nint main(void) { for (int i = 0; i < 10; ++i) printf(\"%d\\n\", i); return 0; }\r\n")
    t.append("<html><body><div class=\"x\">a&amp;b</div></body></html> https://example.com/path?q=1&r=2#frag")
    t.append("日本語のテキストです。東京は大きな都市です。中文文本：我们今天去公园。한국어 문장입니다.")
    t.append("العربية لغة جميلة، وهي مكتوبة من اليمين إلى اليسار. ١٢٣٤٥ أرقام")
    t.append("עברית היא שפה שמית. שלום עולם!")
    t.append("हिन्दी भारत की एक भाषा है। नमस्ते दुनिया १२३")
    t.append("ภาษาไทยไม่มีการเว้นวรรคระหว่างคำ สวัสดีครับ")
    t.append("Русский текст: Съешь же ещё этих мягких французских булок, да выпей чаю.")
    t.append("Ελληνικά: Ξεσκεπάζω την ψυχοφθόρα βδελυγμία. ΑΒΓΔ αβγδ")
    t.append("Emoji: 👍🏽 👨‍👩‍👧‍👦 🏳️‍🌈 🧑🏿‍💻 ❤️ 🇯🇵🇺🇸 😀😀😀 ✋🏻✋🏼✋🏽✋🏾✋🏿")
    t.append("Combining: e\u0301 a\u0300\u0301\u0302 n\u0303 Z\u0351\u0352\u0353\u0354 \u0301start ǅ ǈ ǋ ᾈ")
    t.append("spaces:  two   three    four     five\t\ttabs\t \t mixed \u00a0nbsp\u3000ideo\u2003em \u0085nel\u2028ls")
    t.append("\n\n\nnewlines\n \n  \n\r\n\r\n\rcr\r\rend   \n\t\n")
    t.append("trailing spaces   ")
    t.append("   leading spaces")
    t.append("CRLF line one\r\nline two\r\n\r\nline four\r\n")
    t.append(" ".join(str(10 ** k + 7 * k) for k in range(0, 25)) + " 0 00 000 0000 00000 3.14159 1,234,567 -42 +7 1e10 ٣٤٥ ๑๒๓ ²³ ½")
    t.append("1234567890123456789012345678901234567890 9876543210")
    t.append("MixedCASE camelCase snake_case kebab-case SCREAMING_CASE PascalCase iPhone eBay McDonald")
    t.append("punctuation!!! ??? ... --- *** /// \\\\ ||| ~~~ ^^^ %%% $$$ ### @@@ &&& ((( ))) [[[ ]]] {{{ }}}")
    t.append("<|endoftext|> is plain text here <|fim_prefix|><|endofprompt|>")
    t.append("a/b/c //comment /path/to/file.txt C:\\Windows\\System32 ../up")
    t.append("\u200b\u200c\u200d\ufeff\u2060 zero-width \U0001F600\U0001F3FB \U00010348 \U0001D11E 𝔘𝔫𝔦𝔠𝔬𝔡𝔢")
    t.append("x" * 300 + " " + "ab" * 150 + " " + "🙂" * 60 + " " + "1" * 100)
    t.append("")
    t.append(" ")
    t.append("\n")
    t.append("a")
    t.append("Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore "
             "et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris.")
    return t


def lcg_word(n):
    """The 1 MB word: n lowercase letters from a 64-bit LCG (the C test generates the same)."""
    x = 12345
    out = bytearray(n)
    letters = b"abcdefghijklmnopqrstuvwxyz"
    for i in range(n):
        x = (x * 6364136223846793005 + 1442695040888963407) & 0xFFFFFFFFFFFFFFFF
        out[i] = letters[(x >> 33) % 26]
    return out.decode()


GENERATED = [
    {"name": "lcg_word_1mb", "kind": "lcg", "n": 1000000},
    {"name": "a_200k", "kind": "repeat", "unit": "a", "n": 200000},
    {"name": "spaces_100k_x", "kind": "repeat_then", "unit": " ", "n": 100000, "then": "x"},
    {"name": "emoji_50k", "kind": "repeat", "unit": "🙂", "n": 50000},
    {"name": "digits_100k", "kind": "repeat", "unit": "7", "n": 100000},
]


def generate(g):
    if g["kind"] == "lcg":
        return lcg_word(g["n"])
    if g["kind"] == "repeat":
        return g["unit"] * g["n"]
    return g["unit"] * g["n"] + g["then"]


def fnv64(ids):
    h = 0xcbf29ce484222325
    for i in ids:
        for b in int(i).to_bytes(4, "little"):
            h ^= b
            h = (h * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return "%016x" % h


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default=os.path.join(HERE, "..", "..", "..", "shared"))
    args = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    encs = encodings(args.shared)
    texts = corpus()
    fx = {"texts": texts, "ids": {}, "generated": GENERATED, "generated_ids": {}}
    for name, enc in encs.items():
        fx["ids"][name] = [enc.encode_ordinary(s) for s in texts]
        fx["generated_ids"][name] = []
        for g in GENERATED:
            ids = enc.encode_ordinary(generate(g))
            fx["generated_ids"][name].append({"n": len(ids), "fnv64": fnv64(ids), "head": ids[:20], "tail": ids[-20:]})
    with open(os.path.join(OUT, "tiktoken_ids.json"), "w") as f:
        json.dump(fx, f, ensure_ascii=True, separators=(",", ":"))
        f.write("\n")

    # HF: a small byte-level BPE trained by BpeTrainer; our loader must encode as HF does and our trainer
    # must reproduce its merges.
    from tokenizers import Tokenizer, models, pre_tokenizers, decoders, trainers
    src = os.path.join(args.shared, "data", "tinyshakespeare.txt")
    with open(src, encoding="utf-8") as f:
        lines, n = [], 0
        for line in f:
            if n + len(line.encode()) > 300000:
                break
            lines.append(line)
            n += len(line.encode())
    train_path = "/tmp/lmc_hf_small_train.txt"
    with open(train_path, "w", encoding="utf-8") as f:
        f.write("".join(lines))
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tr = trainers.BpeTrainer(vocab_size=1000, special_tokens=["<|endoftext|>"], show_progress=False,
                             initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train([train_path], tr)
    tok.save(os.path.join(OUT, "hf_small.json"))
    hf_ids = [tok.encode(s).ids for s in texts]
    with open(os.path.join(OUT, "hf_small_ids.json"), "w") as f:
        json.dump({"train_bytes": n, "train_lines": len(lines), "vocab_size": 1000, "ids": hf_ids}, f,
                  separators=(",", ":"))
        f.write("\n")
    print("wrote", OUT)


if __name__ == "__main__":
    sys.exit(main())
