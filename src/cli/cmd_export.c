/* lmc export: a checkpoint as a GGUF file (llama.cpp) or an HF folder with a model card. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/io.h"
#include "cli/cli.h"
#include "interop/resize_vocab.h"
#include "interop/gguf.h"
#include "interop/gguf_model.h"
#include "interop/model_card.h"
#include "model/gpt2.h"
#include "tokenizer/tokenizer.h"
#include "train/checkpoint.h"

static const lmc_opt export_opts[] = {
    {"model", 'm', OPT_STR, NULL, "DIR", "checkpoint folder (HF GPT-2 / Llama) or a run directory (newest checkpoint)"},
    {"format", 'f', OPT_STR, "gguf", "gguf|hf", "output format: a GGUF file for llama.cpp, or an HF folder with a model card"},
    {"output", 'o', OPT_STR, NULL, "OUT", "output file (gguf) or folder (hf)"},
    {"dtype", 0, OPT_STR, "f32", "f32|f16|bf16|q8_0", "gguf: type of the 2-D weights (norms and biases stay f32)"},
    {"tokenizer", 0, OPT_STR, NULL, "FILE", "tokenizer (default: DIR/tokenizer.json)"},
    {"name", 0, OPT_STR, NULL, "NAME", "gguf general.name / model card title (default: the folder name)"},
    {"pre", 0, OPT_STR, NULL, "NAME", "gguf: llama.cpp pre-tokenizer name (default: from the tokenizer's pattern)"},
    {"license", 0, OPT_STR, NULL, "ID", "hf: licence for the model card (default: from the run's data, else unknown)"},
    {"resize-vocab", 0, OPT_STR, NULL, "EXT.json", "export resized to an extended tokenizer (lmc tokenizer extend): new rows = mean of their base tokens' rows"},
    LMC_OPTS_END};

static int run_export(lmc_args *a) {
    lmc_err err = {0};
    const char *model = lmc_arg_str(a, "model"), *outp = lmc_arg_str(a, "output"), *fmt = lmc_arg_str(a, "format");
    if (!model) return lmc_usage_error(a, "--model DIR is required");
    if (!outp) return lmc_usage_error(a, "-o OUT is required");
    int gguf = !strcmp(fmt, "gguf");
    if (!gguf && strcmp(fmt, "hf")) return lmc_usage_error(a, "--format must be gguf or hf");
    int dtype = gguf_dtype_parse(lmc_arg_str(a, "dtype"));
    if (dtype < 0) return lmc_usage_error(a, "--dtype must be f32, f16, bf16 or q8_0");
    if (!gguf && lmc_arg_is_set(a, "dtype")) return lmc_usage_error(a, "--dtype applies to --format gguf only");
    char *dir = NULL;
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
    int rc = 0;
    const char *tok_path = lmc_arg_str(a, "tokenizer");
    char *def_tok = lmc_path_join(model, "tokenizer.json");
    if (!tok_path && def_tok && lmc_file_exists(def_tok)) tok_path = def_tok;
    char name[256];
    const char *nm = lmc_arg_str(a, "name");
    if (!nm) {
        /* the folder's last component (a run's checkpoint folder: the run's name) */
        const char *src = dir ? lmc_arg_str(a, "model") : model;
        size_t n = strlen(src);
        while (n > 1 && src[n - 1] == '/') n--;
        size_t s = n;
        while (s > 0 && src[s - 1] != '/') s--;
        snprintf(name, sizeof name, "%.*s", (int)(n - s), src + s);
        nm = name;
    }
    if (!tok_path) { rc = lmc_fail(a, "%s has no tokenizer.json (give --tokenizer FILE)", model); goto out; }
    if (tok_load(&tok, tok_path, NULL, &err)) { rc = lmc_fail(a, "%s", err.msg); goto out; }
    if (gpt2_load_hf(model, &m, &err)) { rc = lmc_fail(a, "%s", err.msg); goto out; }
    const char *ext_path = lmc_arg_str(a, "resize-vocab");
    if (ext_path) { /* the model resized to the extension, exported with the extended tokenizer (issue 20) */
        tok_tokenizer *ext = NULL;
        gpt2_model *resized = NULL;
        if (tok_load(&ext, ext_path, NULL, &err) || resize_vocab(m, ext, &resized, &err)) {
            if (ext) tok_free(ext);
            rc = lmc_fail(a, "--resize-vocab %s: %s", ext_path, err.msg);
            goto out;
        }
        gpt2_free(m);
        m = resized;
        tok_free(tok);
        tok = ext;
        tok_path = ext_path;
    }
    if (gguf) {
        gguf_export_opts o = {(uint32_t)dtype, nm, lmc_arg_str(a, "pre")};
        if (gguf_export_model(m, tok, &o, outp, &err)) { rc = lmc_fail(a, "%s", err.msg); goto out; }
    } else {
        model_card_opts o = {nm, lmc_arg_str(a, "license"), tok_path};
        if (model_card_export_hf(m, tok, model, &o, outp, &err)) { rc = lmc_fail(a, "%s", err.msg); goto out; }
    }
    fprintf(stderr, "wrote %s (%s%s%s, %s, %d layers, d_model %d, vocab %d)\n", outp, fmt, gguf ? " " : "",
            gguf ? ggml_type_name((uint32_t)dtype) : "", m->cfg.arch == GPT2_ARCH_LLAMA ? "llama" : "gpt2",
            m->cfg.n_layer, m->cfg.d_model, m->cfg.vocab_size);
out:
    free(def_tok);
    if (tok) tok_free(tok);
    gpt2_free(m);
    free(dir);
    return rc;
}

static const lmc_command export_cmd = {
    "export", "export a checkpoint to GGUF (llama.cpp) or an HF folder with a model card", "--model DIR -o OUT [options]",
    "--format gguf writes one GGUF v3 file that llama.cpp (and what is built on it) loads: the keys and\n"
    "tensor names llama.cpp's converter writes for gpt2 / llama, Llama's q/k rows permuted for its RoPE,\n"
    "the tokenizer (tokens, types, merges, bos/eos, the pre-tokenizer name of the pattern), 2-D weights\n"
    "in --dtype (q8_0 = ggml's Q8_0 blocks). lmc eval/sample read the file back (--model FILE.gguf).\n"
    "--format hf writes the HF folder (config.json, model.safetensors, tokenizer files) and a README.md\n"
    "model card (config, data, tokens, loss, licence where the run records them). See docs/export.md.",
    export_opts, 0, 0, run_export, NULL, 55};
LMC_COMMAND(export_cmd)
