/* lmc sample: generate text from a checkpoint with a KV cache. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/base.h"
#include "cli/cli.h"
#include "gen/gen.h"
#include "gen/gen_canon.h"
#include "gen/spec.h"
#include "kernels/cpu/kernels.h"
#include "model/gpt2.h"
#include "interop/gguf_model.h"
#include "tokenizer/tokenizer.h"
#include "train/checkpoint.h"

typedef struct {
    const tok_tokenizer *tok;
    int ids;
    int n;
    int64_t stop;  /* the end-of-text id generation stops at: not printed as text */
} stream_ctx;

/* Print each token's bytes as soon as it exists: byte-level tokens may split a UTF-8 character, and
 * the terminal reassembles it from consecutive writes. */
static void stream_token(void *ctx, int32_t id) {
    stream_ctx *s = ctx;
    if (s->ids || !s->tok) {
        printf("%s%d", s->n++ ? " " : "", id);
    } else if (id != s->stop) {
        size_t len;
        const uint8_t *b = tok_token_bytes(s->tok, (uint32_t)id, &len);
        if (b) fwrite(b, 1, len, stdout);
    }
    fflush(stdout);
}

/* --speculative: load the draft (and FR-Spec's vocabulary) and generate with spec_generate. */
static int run_speculative(lmc_args *a, const gpt2_model *m, const int32_t *prompt, int n_prompt, const gen_params *gp,
                           lmc_rng *rng, int32_t *out, int *n_out, spec_stats *ss, stream_ctx *sc) {
    lmc_err err = {0};
    const char *dpath = lmc_arg_str(a, "draft");
    if (!dpath) return lmc_usage_error(a, "--speculative needs --draft DIR");
    int64_t gamma = lmc_arg_int(a, "gamma"), kv = lmc_arg_int(a, "frspec-vocab");
    const char *counts = lmc_arg_str(a, "frspec-counts");
    if (gamma < 1 || gamma > 63) return lmc_usage_error(a, "--gamma must be in [1, 63]");
    if (kv < 0 || (kv > 0) != (counts != NULL)) return lmc_usage_error(a, "--frspec-vocab N and --frspec-counts FILE go together");
    gpt2_model *d = NULL;
    if (gpt2_load_any(dpath, &d, &err)) return lmc_fail(a, "%s", err.msg);
    spec_opts so = {(int)gamma, NULL, 0};
    int32_t *vh = NULL;
    int rc = 0;
    if (counts) {
        int n;
        if (spec_read_vhigh(counts, (int)kv, m->cfg.vocab_size, &vh, &n, &err)) { rc = lmc_fail(a, "%s", err.msg); goto done; }
        so.vhigh = vh;
        so.n_vhigh = n;
    }
    if (spec_generate(m, d, prompt, n_prompt, gp, &so, rng, out, n_out, ss, stream_token, sc, &err)) rc = lmc_fail(a, "%s", err.msg);
done:
    free(vh);
    gpt2_free(d);
    return rc;
}

static int run_sample(lmc_args *a) {
    lmc_err err = {0};
    const char *model = lmc_arg_str(a, "model");
    if (!model) return lmc_usage_error(a, "--model DIR is required");
    int prec = lmc_precision_parse(lmc_arg_str(a, "precision"));
    if (prec < 0) return lmc_usage_error(a, "--precision must be auto, fp32 or bf16");
    if (lmc_kernels_set_precision((lmc_precision)prec, &err)) return lmc_fail(a, "--precision: %s", err.msg);
    char *dir = NULL;
    /* A run directory works too: use its newest checkpoint. */
    char *cfgjson = lmc_path_join(model, "config.json");
    if (!lmc_file_exists(cfgjson)) {
        char *root = lmc_path_join(model, "checkpoints");
        int64_t step;
        if (lmc_is_dir(root) && !train_ckpt_latest(root, &dir, &step, &err)) model = dir;
        free(root);
    }
    free(cfgjson);

    gpt2_model *m = NULL;
    tok_tokenizer *tok = NULL;
    tok_ids prompt = {0};
    int32_t *ids = NULL;
    tok_canon *canon = NULL;
    int rc = 0;
    if (gpt2_load_any(model, &m, &err)) { rc = lmc_fail(a, "%s", err.msg); goto out; }
    const char *tok_path = lmc_arg_str(a, "tokenizer");
    char *def_tok = lmc_path_join(model, "tokenizer.json");
    if (!tok_path && lmc_file_exists(def_tok)) tok_path = def_tok;
    if (tok_path && tok_load(&tok, tok_path, NULL, &err)) {
        free(def_tok);
        rc = lmc_fail(a, "%s", err.msg);
        goto out;
    }
    free(def_tok);
    const char *text = lmc_arg_str(a, "prompt");
    if (text && *text) {
        if (!tok) { rc = lmc_fail(a, "--prompt needs a tokenizer (%s/tokenizer.json or --tokenizer)", model); goto out; }
        tok_encoder *e;
        if (tok_encoder_new(&e, tok, &err) || tok_encode(e, text, strlen(text), 0, &prompt, &err)) {
            rc = lmc_fail(a, "%s", err.msg);
            goto out;
        }
        tok_encoder_free(e);
    }
    int64_t eot = tok ? tok_eot_id(tok) : -1;
    if (eot < 0 && m->eos_id >= 0) eot = m->eos_id;  /* an HF folder's own eos_token_id (config.json) */
    if (!prompt.n && tok_ids_push(&prompt, eot >= 0 ? (uint32_t)eot : 0, &err)) { rc = lmc_fail(a, "%s", err.msg); goto out; }
    for (size_t i = 0; i < prompt.n; i++)
        if (prompt.v[i] >= (uint32_t)m->cfg.vocab_size) {
            rc = lmc_fail(a, "prompt token %u is outside the model's vocabulary (%d): wrong tokenizer?", prompt.v[i],
                          m->cfg.vocab_size);
            goto out;
        }
    gen_params gp;
    gp.max_tokens = (int)lmc_arg_int(a, "max-tokens");
    gp.temperature = (float)lmc_arg_float(a, "temperature");
    gp.top_k = (int)lmc_arg_int(a, "top-k");
    gp.top_p = (float)lmc_arg_float(a, "top-p");
    gp.stop_token = lmc_arg_flag(a, "no-stop") ? -1 : eot;
    if (gp.max_tokens < 0 || gp.temperature < 0 || gp.top_k < 0 || !(gp.top_p > 0 && gp.top_p <= 1))
        { rc = lmc_usage_error(a, "need --max-tokens >= 0, --temperature >= 0, --top-k >= 0, 0 < --top-p <= 1"); goto out; }
    int n_prompt = (int)prompt.n;
    if (n_prompt > m->cfg.max_seq - 1) {
        rc = lmc_fail(a, "the prompt has %d tokens; the model's context is %d", n_prompt, m->cfg.max_seq);
        goto out;
    }
    ids = malloc(((size_t)n_prompt + (size_t)gp.max_tokens + 1) * sizeof *ids);
    if (!ids) { rc = lmc_fail(a, "out of memory"); goto out; }
    for (int i = 0; i < n_prompt; i++) ids[i] = (int32_t)prompt.v[i];
    lmc_rng rng;
    lmc_rng_init(&rng, (uint64_t)lmc_arg_int(a, "seed"));
    stream_ctx sc = {tok, lmc_arg_flag(a, "ids"), 0, gp.stop_token};
    if (text && *text && !sc.ids) fputs(text, stdout);
    int n_out = 0, slide = lmc_arg_flag(a, "slide"), slides = 0, T = m->cfg.max_seq;
    int canonical = lmc_arg_flag(a, "canonical");
    gen_canon_stats cst = {0, 0};
    spec_stats ss = {0};
    int spec = lmc_arg_flag(a, "speculative");
    if (spec && (slide || canonical)) { rc = lmc_usage_error(a, "--speculative does not combine with --slide or --canonical"); goto out; }
    if (canonical && !tok) { rc = lmc_fail(a, "--canonical needs a tokenizer (%s/tokenizer.json or --tokenizer)", model); goto out; }
    if (canonical && tok_canon_new(&canon, tok, &err)) { rc = lmc_fail(a, "%s", err.msg); goto out; }
    double t0 = lmc_now();
    if (spec) {
        rc = run_speculative(a, m, ids, n_prompt, &gp, &rng, ids + n_prompt, &n_out, &ss, &sc);
        if (rc) goto out;
    }
    /* The first pass continues the prompt until --max-tokens, the end-of-text token or the context
     * is full. With --slide, a full context is followed by another pass over the last T/2 tokens as
     * a fresh prompt (positions restart at 0, the KV cache is rebuilt by one prefill): the window
     * nanoGPT's generate crops to, valid for every position encoding, learned ones included, since
     * no position beyond T-1 is ever used. */
    while (!spec) {
        int len = n_prompt + n_out, got;
        gen_params gq = gp;
        gq.max_tokens = gp.max_tokens - n_out;
        int start = slides ? len - T / 2 : 0, plen = slides ? T / 2 : n_prompt;
        if (canonical ? gen_generate_canonical(m, canon, ids + start, plen, &gq, &rng, ids + len, &got, stream_token,
                                               &sc, &cst, &err)
                      : gen_generate(m, ids + start, plen, &gq, &rng, ids + len, &got, stream_token, &sc, &err)) {
            rc = lmc_fail(a, "%s", err.msg);
            goto out;
        }
        n_out += got;
        int hit_stop = got > 0 && ids[n_prompt + n_out - 1] == gp.stop_token;
        if (n_out >= gp.max_tokens || hit_stop || got == 0 || !slide) break;
        slides++;
    }
    double dt = lmc_now() - t0;
    printf("\n");
    fflush(stdout); /* before the stderr summary */
    if (canonical && lmc_progress_default_mode() != LMC_PROGRESS_QUIET)
        fprintf(stderr, "[canonical: %ld sampled tokens masked, %ld dead ends]\n", cst.rejected, cst.dead_ends);
    int at_limit = n_out < gp.max_tokens && !(n_out > 0 && ids[n_prompt + n_out - 1] == gp.stop_token);
    if (at_limit)
        fprintf(stderr, "note: stopped after %d of %d tokens: the prompt and the output filled the model's context "
                        "(%d tokens); --slide continues past it on a sliding window of the last %d tokens\n",
                n_out, gp.max_tokens, T, T / 2);
    if (lmc_progress_default_mode() != LMC_PROGRESS_QUIET) {
        fprintf(stderr, "[%d tokens in %.2f s, %.1f tok/s, model %s", n_out, dt, dt > 0 ? n_out / dt : 0, model);
        if (slides)
            fprintf(stderr, "; context %d full, slid %d time%s to a window of the last %d tokens", T, slides,
                    slides == 1 ? "" : "s", T / 2);
        fprintf(stderr, "]\n");
    }
    if (spec && lmc_progress_default_mode() != LMC_PROGRESS_QUIET)
        fprintf(stderr, "[speculative: %lld target passes, %lld drafted, %lld accepted (acceptance %.3f), %.2f tokens per target pass]\n",
                (long long)ss.rounds, (long long)ss.drafted, (long long)ss.accepted,
                ss.drafted ? (double)ss.accepted / (double)ss.drafted : 0.0, ss.rounds ? (double)ss.emitted / (double)ss.rounds : 0.0);
out:
    tok_canon_free(canon);
    free(ids);
    tok_ids_free(&prompt);
    if (tok) tok_free(tok);
    gpt2_free(m);
    free(dir);
    return rc;
}

static const lmc_opt sample_opts[] = {
    {"model", 'm', OPT_STR, NULL, "DIR", "checkpoint folder (HF GPT-2/Llama), a run directory (newest checkpoint) or a .gguf file"},
    {"prompt", 'p', OPT_STR, NULL, "TEXT", "text to continue (default: start of a document)"},
    {"max-tokens", 'n', OPT_INT, "200", "N", "tokens to generate"},
    {"temperature", 't', OPT_FLOAT, "1.0", "T", "softmax temperature (0 = greedy)"},
    {"top-k", 'k', OPT_INT, "40", "K", "sample among the K most likely tokens (0 = all)"},
    {"top-p", 0, OPT_FLOAT, "1.0", "P", "nucleus sampling: smallest set with probability mass >= P (1 = off)"},
    {"seed", 's', OPT_INT, "1337", "S", "random seed (same seed, same text)"},
    {"precision", 0, OPT_STR, "fp32", "P", "GEMM precision: fp32, bf16 or auto (bf16 where the CPU has it)"},
    {"tokenizer", 0, OPT_STR, NULL, "FILE", "tokenizer.json (default: DIR/tokenizer.json)"},
    {"ids", 0, OPT_FLAG, NULL, NULL, "print token ids instead of text"},
    {"no-stop", 0, OPT_FLAG, NULL, NULL, "do not stop at the end-of-text token"},
    {"slide", 0, OPT_FLAG, NULL, NULL, "when the context is full, go on from the last half of it (re-encoded)"},
    {"canonical", 0, OPT_FLAG, NULL, NULL, "mask next tokens after which the text cannot be canonical (per-step renormalised)"},
    {"speculative", 0, OPT_FLAG, NULL, NULL, "speculative sampling with --draft (same output distribution, fewer target passes)"},
    {"draft", 0, OPT_STR, NULL, "DIR", "draft model for --speculative (same vocabulary; a folder or .gguf)"},
    {"gamma", 0, OPT_INT, "4", "N", "--speculative: draft tokens per target pass"},
    {"frspec-vocab", 0, OPT_INT, "0", "K", "FR-Spec: the draft samples from the K most frequent tokens only"},
    {"frspec-counts", 0, OPT_STR, NULL, "FILE", "FR-Spec: token counts from `lmc tokenizer count`"},
    LMC_OPTS_END};

static const lmc_command sample_cmd = {
    "sample", "generate text from a model (KV cache)", "--model DIR [options]",
    "Continues --prompt (or starts a new document) with tokens sampled from the model, printing\n"
    "them as they come. A KV cache makes each new token cost linear, not quadratic, time in the\n"
    "context length. The same --seed gives the same text. Generation stops when the prompt and the\n"
    "output fill the model's context (a note on stderr says so); --slide goes on instead, each time\n"
    "from the last half of the context re-encoded at positions 0.. (any position encoding).",
    sample_opts, 0, 0, run_sample, NULL, 50};
LMC_COMMAND(sample_cmd)
