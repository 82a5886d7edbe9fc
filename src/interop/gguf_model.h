/* lmc models <-> GGUF files llama.cpp runs (architectures gpt2 and llama; ../shared/TECHNIQUES.md §27).
 *
 * Export writes the keys and tensor names llama.cpp's convert_hf_to_gguf.py writes for the architecture
 * (gguf-py constants): general.architecture / name / type / file_type / quantization_version,
 * {arch}.block_count, context_length, embedding_length, feed_forward_length, attention.head_count,
 * (llama) attention.head_count_kv, rope.freq_base, rope.dimension_count, vocab_size, and the norm
 * epsilon; tensors token_embd, [position_embd], output_norm, [output] (absent = tied), blk.N.attn_norm,
 * attn_qkv (gpt2, fused) or attn_q/attn_k/attn_v (llama), attn_output, ffn_norm, [ffn_gate], ffn_up,
 * ffn_down, with .bias for gpt2. Weights are written [out, in] row-major (ne0 = in). Llama's q/k rows
 * are permuted per head from HF's rotate-half pairs (j, j + hd/2) to llama.cpp's adjacent pairs
 * (2j, 2j+1): new_row[2j + s] = old_row[s hd/2 + j]. 1-D tensors are always F32; 2-D weights take the
 * chosen dtype (Q8_0 falls back to F16 for a tensor whose rows are not a multiple of 32).
 *
 * Tokenizer (byte-level BPE): tokenizer.ggml.model "gpt2", tokenizer.ggml.pre from the pre-tokenizer
 * pattern ("gpt-2" for GPT-2's, "llama-bpe" for cl100k's = Llama 3's, "gpt-4o" for o200k's; another
 * pattern needs an explicit name), tokens in the byte-to-unicode alphabet (added tokens as their text,
 * ids without a token "[PAD<id>]"), token_type (1 normal, 3 control = special, 4 user-defined = added
 * non-special, 5 unused = padding), merges "a b" in rank order, bos/eos ids (the model's, else
 * <|endoftext|>), add_bos_token / add_eos_token false (lmc models are trained without BOS).
 *
 * Load reads such a file (any of F32/F16/BF16/Q8_0 tensors) back into a gpt2_model, inverting the
 * permutation; every expected tensor must be present with its exact shape, nothing else may be, and
 * values must be finite. */
#ifndef LMC_INTEROP_GGUF_MODEL_H
#define LMC_INTEROP_GGUF_MODEL_H

#include "base/error.h"
#include "model/gpt2.h"
#include "tokenizer/tokenizer.h"

typedef struct gguf_export_opts {
    uint32_t dtype;      /* GGML_T_F32 / F16 / BF16 / Q8_0 for the 2-D weights */
    const char *name;    /* general.name (NULL = "lmc") */
    const char *pre;     /* tokenizer.ggml.pre (NULL = from the tokenizer's pattern) */
} gguf_export_opts;

/* The llama.cpp pre-tokenizer name of a pattern kind, or NULL. */
const char *gguf_pre_name(tok_pattern_kind k);
/* Parse "f32" / "f16" / "bf16" / "q8_0" into a GGML_T_*; -1 if unknown. */
int gguf_dtype_parse(const char *s);

int gguf_export_model(const gpt2_model *m, const tok_tokenizer *tok, const gguf_export_opts *o, const char *path,
                      lmc_err *err);
int gpt2_load_gguf(const char *path, gpt2_model **out, lmc_err *err);
/* 1 if path is a regular file that starts with the GGUF magic. */
int gguf_is_file(const char *path);
/* A .gguf file (gpt2_load_gguf) or an HF folder (gpt2_load_hf). */
int gpt2_load_any(const char *path, gpt2_model **out, lmc_err *err);

/* The per-head row permutation (exposed for tests): rows [n_head * hd][cols], in -> out. inverse = 1
 * undoes it. */
void gguf_permute_qk(const float *in, float *out, int n_head, int hd, int64_t cols, int inverse);

#endif
