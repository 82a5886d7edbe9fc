/* lmc eval: mean loss / perplexity of a GPT-2 checkpoint folder on a token shard. */
#include "cli/cli.h"
#include "cli/cmd_eval_task.h"
#include "dist/dist.h"
#include "model/gpt2.h"
#include "model/gpt2_context.h"
#include "model/posdiag.h"
#include "interop/gguf_model.h"
#include "kernels/cpu/kernels.h"
#include "data/shard.h"
#include "base/progress.h"
#include "base/io.h"
#include "tokenizer/tokenizer.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const lmc_opt eval_opts[] = {
    {"model", 'm', OPT_STR, NULL, "DIR", "HF GPT-2/Llama folder (config.json + model.safetensors) or a .gguf file"},
    {"data", 'd', OPT_LIST, NULL, "FILE", "token shard (llm.c .bin, uint16/uint32; nanoGPT uint16 with --data-format); with --task its input files (more may follow as arguments)"},
    LMC_EVAL_TASK_OPTS
    {"data-format", 0, OPT_STR, "llmc", "llmc|nanogpt", "shard layout: llmc (header required) or nanogpt (headerless uint16)"},
    {"seq-len", 't', OPT_INT, NULL, "T", "window length (at most the model's n_positions; not with --task)"},
    {"max-tokens", 'n', OPT_INT, "0", "N", "stop after N predicted tokens (0 = all windows that fit)"},
    {"batch", 'b', OPT_INT, "0", "B", "windows per forward pass (0 = about 2048 tokens per pass)"},
    {"threads", 0, OPT_INT, "0", "N", "worker threads (0 = all cores)"},
    {"precision", 0, OPT_STR, "fp32", "P", "GEMM precision: fp32, bf16 or auto (bf16 where the CPU has it)"},
    {"tokenizer", 0, OPT_STR, NULL, "FILE", "tokenizer for bits per byte (default: DIR/tokenizer.json when present)"},
    {"diag", 0, OPT_FLAG, NULL, NULL, "also print the positional diagnostic (logit decomposition, per-head ablation; docs/model.md)"},
    {"diag-windows", 0, OPT_INT, "8", "N", "--diag: probe batch of the first N windows"},
    {"extrapolate", 0, OPT_FLAG, NULL, NULL, "allow --seq-len beyond n_positions (RoPE/ALiBi/NoPE models: length extrapolation)"},
    LMC_OPTS_END};

static void json_num(double v) {
    if (isfinite(v)) printf("%.6g", v);
    else printf("null");
}

/* --diag: posdiag on the first nw windows; one JSON line {"diag": {...}} on stdout, a table on stderr. */
static int run_diag(gpt2_model *m, lmc_shard *sh, int64_t T, int64_t nw, lmc_err *err) {
    int32_t *x = (int32_t *)malloc((size_t)(nw * T) * sizeof(int32_t));
    int32_t *y = (int32_t *)malloc((size_t)(nw * T) * sizeof(int32_t));
    if (!x || !y) { free(x); free(y); return lmc_errf(err, LMC_ENOMEM, "out of memory"); }
    for (int64_t b = 0; b < nw; b++) {
        lmc_shard_read(sh, (uint64_t)(b * T), (uint64_t)T, x + b * T);
        lmc_shard_read(sh, (uint64_t)(b * T) + 1, (uint64_t)T, y + b * T);
    }
    posdiag d;
    int rc = posdiag_run(m, x, y, (int)nw, (int)T, &d, err);
    free(x);
    free(y);
    if (rc) return rc;
    static const char *pos[] = {"learned", "rope", "alibi", "none"}, *att[] = {"softmax", "lssa", "lssar"};
    printf("{\"diag\": {\"position\": \"%s\", \"attention\": \"%s\", \"qk_norm\": %s, \"windows\": %lld, \"seq_len\": %lld, "
           "\"pairs_per_head\": %lld, \"base_loss\": ", pos[d.position], att[m->cfg.attention], m->cfg.qk_norm ? "true" : "false",
           (long long)nw, (long long)T, (long long)d.pairs);
    json_num(d.base_loss);
    printf(", \"layers\": [");
    fprintf(stderr, "positional diagnostic (%s, %lld windows x %lld): per head position share of the logit variance | ablation dloss\n",
            pos[d.position], (long long)nw, (long long)T);
    for (int l = 0; l < d.n_layer; l++) {
        const double *ps = d.pos_share + (size_t)l * d.n_head, *ab = d.ablate + (size_t)l * d.n_head;
        int top = 0;
        double tot = 0;
        for (int h = 0; h < d.n_head; h++) {
            if (ab[h] > ab[top]) top = h;
            if (ab[h] > 0) tot += ab[h];
        }
        printf("%s{\"layer\": %d, \"pos_share\": [", l ? ", " : "", l);
        for (int h = 0; h < d.n_head; h++) { if (h) printf(", "); json_num(ps[h]); }
        printf("], \"ablate\": [");
        for (int h = 0; h < d.n_head; h++) { if (h) printf(", "); json_num(ab[h]); }
        printf("], \"top_head\": %d, \"top_share\": ", top);
        json_num(tot > 0 ? (ab[top] > 0 ? ab[top] : 0) / tot : NAN);
        printf("}");
        fprintf(stderr, "layer %2d |", l);
        for (int h = 0; h < d.n_head; h++) fprintf(stderr, " %6.3f", ps[h]);
        fprintf(stderr, " |");
        for (int h = 0; h < d.n_head; h++) fprintf(stderr, " %+7.4f", ab[h]);
        fprintf(stderr, " | top head %d (%.0f%% of the layer's ablation loss)\n", top, tot > 0 && ab[top] > 0 ? 100 * ab[top] / tot : 0.0);
    }
    printf("]");
    if (d.terms) {
        printf(", \"layer0_terms\": {\"order\": [\"cc\", \"cp\", \"pc\", \"pp\"], \"shares\": [");
        for (int h = 0; h < d.n_head; h++) {
            printf("%s[", h ? ", " : "");
            for (int t = 0; t < 4; t++) { if (t) printf(", "); json_num(d.terms[h * 4 + t]); }
            printf("]");
        }
        printf("], \"recon_err\": ");
        json_num(d.recon_err);
        printf("}");
    }
    printf("}}\n");
    posdiag_free(&d);
    return 0;
}

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

/* Window batch `batch` (B windows from window batch*B): inputs x, targets y (-1 past `want`); returns
 * the number of windows in it (0 past the end). */
static int64_t read_batch(lmc_shard *sh, uint64_t batch, int64_t B, int64_t T, uint64_t need_win, uint64_t want,
                          int32_t *x, int32_t *y) {
    int64_t b = 0;
    for (uint64_t win = batch * (uint64_t)B; b < B && win < need_win; b++, win++) {
        uint64_t start = win * (uint64_t)T;
        if (x) lmc_shard_read(sh, start, (uint64_t)T, x + b * T);
        lmc_shard_read(sh, start + 1, (uint64_t)T, y + b * T);
        for (int64_t t = 0; t < T; t++)
            if (start + (uint64_t)t >= want) y[b * T + t] = -1;  /* past --max-tokens: not counted */
    }
    return b;
}

static int run_eval_inner(lmc_args *a, dist_ctx *d);

/* Under mpirun the ranks split the window batches (batch q of each round of N goes to rank q) and rank 0
 * adds the gathered per-token losses in the one-process order: the same sum, bit for bit. */
static int run_eval(lmc_args *a) {
    if (lmc_arg_is_set(a, "task")) return lmc_cmd_eval_task(a); /* one process: src/eval */
    dist_ctx d;
    lmc_err err = {0};
    if (dist_init(&d, 600, &err)) return lmc_fail(a, "%s", err.msg);
    int rc = run_eval_inner(a, &d);
    if (rc && d.size > 1) dist_abort(&d, rc);
    dist_finalize(&d);
    return rc;
}

static int run_eval_inner(lmc_args *a, dist_ctx *d) {
    const char *dir = lmc_arg_str(a, "model"), *data = lmc_arg_str(a, "data");
    if (!dir) return lmc_usage_error(a, "--model DIR is required");
    if (!data) return lmc_usage_error(a, "--data SHARD is required");
    int nd = 0;
    lmc_arg_list(a, "data", &nd);
    if (nd != 1 || lmc_arg_npos(a) > 0) return lmc_usage_error(a, "one --data SHARD without --task");
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
    if (T > m->cfg.max_seq && lmc_arg_flag(a, "extrapolate") && gpt2_set_context(m, (int)T, &err)) {
        gpt2_free(m);
        return lmc_fail(a, "--extrapolate: %s", err.msg);
    }
    if (T > m->cfg.max_seq) {
        gpt2_free(m);
        return lmc_fail(a, "--seq-len %lld exceeds the model's n_positions %d (--extrapolate evaluates longer windows with RoPE/ALiBi/NoPE)", (long long)T, m->cfg.max_seq);
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
    int N = d->size;
    double *round = N > 1 ? calloc((size_t)N * (size_t)(B * T), sizeof *round) : NULL;
    if (N > 1 && !round) {
        free(x); free(y); lmc_shard_close(&sh); gpt2_free(m);
        return lmc_fail(a, "out of memory");
    }
    lmc_progress prog;
    if (d->rank == 0) lmc_progress_start(&prog, "eval", want, "tok");
    double sum = 0.0;
    uint64_t done = 0, batch = 0;
    int rc = 0;
    while (done < want && !rc) {
        if (N == 1) {
            int64_t b = read_batch(&sh, batch++, B, T, need_win, want, x, y);
            if ((rc = gpt2_forward(m, x, y, (int)b, (int)T, NULL, &err))) break;
            for (int64_t i = 0; i < b * T; i++)
                if (y[i] >= 0) {
                    sum += m->losses[i];
                    done++;
                    if (tok_bytes && y[i] < m->cfg.vocab_size) bytes += tok_bytes[y[i]];
                }
        } else {
            memset(round, 0, (size_t)N * (size_t)(B * T) * sizeof *round);
            int64_t b = read_batch(&sh, batch + (uint64_t)d->rank, B, T, need_win, want, x, y);
            if (b > 0 && (rc = gpt2_forward(m, x, y, (int)b, (int)T, NULL, &err))) break;
            for (int64_t i = 0; i < b * T; i++)
                if (y[i] >= 0) round[(size_t)d->rank * (size_t)(B * T) + (size_t)i] = m->losses[i];
            if ((rc = dist_combine_disjoint(d, round, N * (int)(B * T), &err))) break;
            for (int q = 0; q < N; q++) { /* in batch order, as one process adds them */
                int64_t bq = read_batch(&sh, batch + (uint64_t)q, B, T, need_win, want, NULL, y);
                for (int64_t i = 0; i < bq * T; i++)
                    if (y[i] >= 0) {
                        sum += round[(size_t)q * (size_t)(B * T) + (size_t)i];
                        done++;
                        if (tok_bytes && y[i] < m->cfg.vocab_size) bytes += tok_bytes[y[i]];
                    }
            }
            batch += (uint64_t)N;
        }
        if (d->rank == 0) {
            lmc_progress_set(&prog, done);
            lmc_progress_note(&prog, "loss %.4f", sum / (double)done);
        }
    }
    if (d->rank == 0) lmc_progress_finish(&prog);
    free(round);
    free(x);
    free(y);
    int64_t dwin = lmc_arg_int(a, "diag-windows");
    if (dwin > (int64_t)nwin) dwin = (int64_t)nwin;
    int diag = !rc && lmc_arg_flag(a, "diag");
    if (diag && dwin < 1) {
        free(tok_bytes); lmc_shard_close(&sh); gpt2_free(m);
        return lmc_usage_error(a, "--diag-windows must be >= 1");
    }
    free(tok_bytes);
    if (rc) { lmc_shard_close(&sh); gpt2_free(m); return lmc_fail(a, "%s: %s", data, err.msg); }
    if (d->rank != 0) { lmc_shard_close(&sh); gpt2_free(m); return 0; }
    double loss = sum / (double)done;
    printf("{\"loss\": %.9g, \"ppl\": %.9g, \"tokens\": %llu", loss, exp(loss), (unsigned long long)done);
    /* bits per byte: total nats / ln 2 over the UTF-8 bytes of the predicted tokens */
    if (tok_path && bytes) printf(", \"bytes\": %llu, \"bpb\": %.9g", (unsigned long long)bytes, sum / log(2.0) / (double)bytes);
    printf(", \"precision\": \"%s\"", lmc_precision_name(lmc_kernels_get_precision()));
    if (N > 1) printf(", \"ranks\": %d", N);
    printf("}\n");
    fflush(stdout);
    if (diag) rc = run_diag(m, &sh, T, dwin, &err);
    lmc_shard_close(&sh);
    gpt2_free(m);
    if (rc) return lmc_fail(a, "--diag: %s", err.msg);
    return 0;
}

static const lmc_command eval_cmd = {
    "eval", "loss and perplexity on a token shard; harness tasks (BLiMP, multiple choice, rolling perplexity, lambada)", "[options] [FILE...]",
    "Evaluates consecutive non-overlapping windows from the start of the shard: window j has inputs\n"
    "tokens[jT, jT+T) and targets the next tokens. Prints one JSON line {\"loss\": mean nats per\n"
    "token, \"ppl\": exp(loss), \"tokens\": predicted tokens counted}; with a tokenizer also \"bytes\"\n"
    "(UTF-8 bytes of the predicted tokens, special tokens 0) and \"bpb\" (bits per byte). Loads HF GPT-2 folders as the\n"
    "hub serves them (with or without the transformer. prefix, F32/F16/BF16). --diag adds a second JSON line\n"
    "{\"diag\": ...}: per layer and head the share of the attention-logit variance carried by position\n"
    "(RoPE, ALiBi, learned at layer 0) and the loss increase when the head is ablated (docs/model.md).\n"
    "--extrapolate evaluates RoPE/ALiBi/NoPE models past their training context.\n\n"
    LMC_EVAL_TASK_HELP,
    eval_opts, 0, -1, run_eval, NULL, 40};
LMC_COMMAND(eval_cmd)
