#!/usr/bin/env python3
"""Peer for bench/tokenizer_train.py: train HF tokenizers' BpeTrainer (byte-level, GPT-2 pattern) and
print the seconds spent in train() (peak RSS is measured outside, with /usr/bin/time).
  hf_train.py CORPUS VOCAB_SIZE OUT.json"""
import sys, time
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

corpus, vocab, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
tok = Tokenizer(models.BPE())
tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
tok.decoder = decoders.ByteLevel()
tr = trainers.BpeTrainer(vocab_size=vocab, special_tokens=["<|endoftext|>"], show_progress=False,
                         initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
t = time.perf_counter()
tok.train([corpus], tr)
dt = time.perf_counter() - t
tok.save(out)
print(f"{dt:.4f}")
