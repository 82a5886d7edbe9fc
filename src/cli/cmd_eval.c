/* lmc eval: mean loss / perplexity of a GPT-2 checkpoint folder on a token shard. */
#include "cli/cli.h"
#include "model/gpt2.h"
#include "interop/gguf_model.h"
#include "kernels/cpu/kernels.h"
#include "data/shard.h"
#include "base/progress.h"
#include "base/io.h"
#include "tokenizer/tokenizer.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static const lmc_opt eval_opts[] = {
    {"model", 'm', OPT_STR, NULL, "DIR", "HF GPT-2/Llama folder (config.json + model.safetensors) or a .gguf file"},
    {"data", 'd', OPT_STR, NULL, "SHARD", "token shard (llm.c .bin, uint16/uint32; nanoGPT uint16 with --data-format)"},
    {"data-format", 0, OPT_STR, "llmc", "llmc|nanogpt", "shard layout: llmc (header required) or nanogpt (headerless uint16)"},
    {"seq-len", 't', OPT_INT, NULL, "T", "window length (at most the model's n_positions)"},
    {"max-tokens", 'n', OPT_INT, "0", "N", "stop after N predicted tokens (0 = all windows that fit)"},
    {"batch", 'b', OPT_INT, "0", "B", "windows per forward pass (0 = about 2048 tokens per pass)"},
    {"threads", 0, OPT_INT, "0", "N", "worker threads (0 = all cores)"},
    {"precision", 0, OPT_STR, "fp32", "P", "GEMM precision: fp32, bf16 or auto (bf16 where the CPU has it)"},
    {"tokenizer", 0, OPT_STR, NULL, "FILE", "tokenizer for bits per byte (default: DIR/tokenizer.json when present)"},
    LMC_OPTS_END};

/* Bytes each id stands for, for bits per byte; special tokens (<|endoftext|>) stand for no text. */
static uint32_t *token_byte_lengths(const char *path, int V, lmc_err *err) {
    tok_tokenizer *t;
    if (tok_load(&t, path, NULL, err)) return NULL;
    uint32_t *len = calloc((size_t)V, sizeof *len);
    for (int i = 0; len && i < V; i++) {
        size_t n = 0;
        if (tok_token_bytes(t, (uint32_t)i, &n)) len[i] = (uint32_t)n;
    }
    for (size_t k = 0; len && k < tok_n_special(t); k++) {
        size_t n;
        uint32_t id;
        tok_special(t, k, &n, &id);
        if (id < (uint32_t)V) len[id] = 0;
    }
    tok_free(t);
    return len;
}

static int run_eval(lmc_args *a) {
    const char *dir = lmc_arg_str(a, "model"), *data = lmc_arg_str(a, "data");
    if (!dir) return lmc_usage_error(a, "--model DIR is required");
    if (!data) return lmc_usage_error(a, "--data SHARD is required");
    if (!lmc_arg_is_set(a, "seq-len")) return lmc_usage_error(a, "--seq-len T is required");
    int64_t T = lmc_arg_int(a, "seq-len"), max_tokens = lmc_arg_int(a, "max-tokens"), B = lmc_arg_int(a, "batch");
    int64_t threads = lmc_arg_int(a, "threads");
    if (T <= 0) return lmc_usage_error(a, "--seq-len must be positive");
    if (max_tokens < 0) return lmc_usage_error(a, "--max-tokens must be >= 0");
    if (B < 0) return lmc_usage_error(a, "--batch must be >= 0");
    if (threads < 0) return lmc_usage_error(a, "--threads must be >= 0");
    lmc_kernels_set_threads((int)threads);
    int prec = lmc_precision_parse(lmc_arg_str(a, "precision"));
    if (prec < 0) return lmc_usage_error(a, "--precision must be auto, fp32 or bf16");

    lmc_shard_kind kind;
    if (lmc_shard_kind_parse(lmc_arg_str(a, "data-format"), &kind))
        return lmc_usage_error(a, "--data-format must be llmc or nanogpt");

    lmc_err err = {0};
    if (lmc_kernels_set_precision((lmc_precision)prec, &err)) return lmc_fail(a, "--precision: %s", err.msg);
    gpt2_model *m = NULL;
    if (gpt2_load_any(dir, &m, &err)) return lmc_fail(a, "%s", err.msg);
    if (T > m->cfg.max_seq) {
        gpt2_free(m);
        return lmc_fail(a, "--seq-len %lld exceeds the model's n_positions %d", (long long)T, m->cfg.max_seq);
    }
    const char *tok_path = lmc_arg_str(a, "tokenizer");
    char *def_tok = lmc_path_join(dir, "tokenizer.json");
    if (!tok_path && def_tok && lmc_file_exists(def_tok)) tok_path = def_tok;
    uint32_t *tok_bytes = tok_path ? token_byte_lengths(tok_path, m->cfg.vocab_size, &err) : NULL;
    free(def_tok);
    if (tok_path && !tok_bytes) { gpt2_free(m); return lmc_fail(a, "%s", err.msg); }
    uint64_t bytes = 0;
    lmc_shard sh;
    if (lmc_shard_open_kind(&sh, data, kind, &err)) {
        free(tok_bytes);
        gpt2_free(m);
        return lmc_fail(a, "%s", err.msg);
    }
    uint64_t nwin = sh.ntok > 0 ? (sh.ntok - 1) / (uint64_t)T : 0;
    uint64_t want = nwin * (uint64_t)T;
    if (max_tokens > 0 && (uint64_t)max_tokens < want) want = (uint64_t)max_tokens;
    if (want == 0) {
        uint64_t ntok = sh.ntok; /* lmc_shard_close zeroes sh */
        lmc_shard_close(&sh);
        free(tok_bytes);
        gpt2_free(m);
        return lmc_fail(a, "%s: %llu tokens is not enough for one window of %lld + 1", data,
                        (unsigned long long)ntok, (long long)T);
    }
    if (B == 0) B = 2048 / T > 0 ? 2048 / T : 1;
    uint64_t need_win = (want + (uint64_t)T - 1) / (uint64_t)T;
    if ((uint64_t)B > need_win) B = (int64_t)need_win;
    int32_t *x = (int32_t *)malloc((size_t)(B * T) * sizeof(int32_t));
    int32_t *y = (int32_t *)malloc((size_t)(B * T) * sizeof(int32_t));
    if (!x || !y) {
        free(x); free(y); lmc_shard_close(&sh); gpt2_free(m);
        return lmc_fail(a, "out of memory");
    }
    lmc_progress prog;
    lmc_progress_start(&prog, "eval", want, "tok");
    double sum = 0.0;
    uint64_t done = 0, win = 0;
    int rc = 0;
    while (done < want) {
        int64_t b = 0;
        for (; b < B && win < need_win; b++, win++) {
            uint64_t start = win * (uint64_t)T;
            lmc_shard_read(&sh, start, (uint64_t)T, x + b * T);
            lmc_shard_read(&sh, start + 1, (uint64_t)T, y + b * T);
            for (int64_t t = 0; t < T; t++)
                if (start + (uint64_t)t >= want) y[b * T + t] = -1;  /* past --max-tokens: not counted */
        }
        if ((rc = gpt2_forward(m, x, y, (int)b, (int)T, NULL, &err))) break;
        for (int64_t i = 0; i < b * T; i++)
            if (y[i] >= 0) {
                sum += m->losses[i];
                done++;
                if (tok_bytes && y[i] < m->cfg.vocab_size) bytes += tok_bytes[y[i]];
            }
        lmc_progress_set(&prog, done);
        lmc_progress_note(&prog, "loss %.4f", sum / (double)done);
    }
    lmc_progress_finish(&prog);
    free(x);
    free(y);
    free(tok_bytes);
    lmc_shard_close(&sh);
    gpt2_free(m);
    if (rc) return lmc_fail(a, "%s: %s", data, err.msg);
    double loss = sum / (double)done;
    printf("{\"loss\": %.9g, \"ppl\": %.9g, \"tokens\": %llu", loss, exp(loss), (unsigned long long)done);
    /* bits per byte: total nats / ln 2 over the UTF-8 bytes of the predicted tokens */
    if (tok_path && bytes) printf(", \"bytes\": %llu, \"bpb\": %.9g", (unsigned long long)bytes, sum / log(2.0) / (double)bytes);
    printf(", \"precision\": \"%s\"}\n", lmc_precision_name(lmc_kernels_get_precision()));
    return 0;
}

static const lmc_command eval_cmd = {
    "eval", "loss and perplexity of a GPT-2 checkpoint on a token shard", "[options]",
    "Evaluates consecutive non-overlapping windows from the start of the shard: window j has inputs\n"
    "tokens[jT, jT+T) and targets the next tokens. Prints one JSON line {\"loss\": mean nats per\n"
    "token, \"ppl\": exp(loss), \"tokens\": predicted tokens counted}; with a tokenizer also \"bytes\"\n"
    "(UTF-8 bytes of the predicted tokens, special tokens 0) and \"bpb\" (bits per byte). Loads HF GPT-2 folders as the\n"
    "hub serves them (with or without the transformer. prefix, F32/F16/BF16).",
    eval_opts, 0, 0, run_eval, NULL, 40};
LMC_COMMAND(eval_cmd)
