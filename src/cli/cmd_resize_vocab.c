/* lmc tokenizer resize-model: a checkpoint resized to an extended tokenizer (issue 20). The work is in
 * src/interop/resize_vocab.c; this is only its command line (kept apart so `lmc export` can call the
 * same function as --resize-vocab). */
#include <stdio.h>
#include <stdlib.h>
#include "base/base.h"
#include "cli/cli.h"
#include "interop/resize_vocab.h"
#include "model/gpt2.h"
#include "tokenizer/tokenizer.h"

extern const lmc_command tok_resize_cmd;

static const lmc_opt resize_opts[] = {
    {"model", 'm', OPT_STR, NULL, "DIR", "checkpoint folder (HF GPT-2 / Llama)"},
    {"tok", 't', OPT_STR, NULL, "EXT.json", "extended tokenizer (lmc tokenizer extend)"},
    {"output", 'o', OPT_STR, NULL, "OUTDIR", "folder for the resized checkpoint and its tokenizer.json"},
    LMC_OPTS_END};

static int run_resize(lmc_args *a) {
    const char *model = lmc_arg_str(a, "model"), *tokp = lmc_arg_str(a, "tok"), *out = lmc_arg_str(a, "output");
    if (!model || !tokp || !out) return lmc_usage_error(a, "need --model DIR, -t EXT.json and -o OUTDIR");
    lmc_err err = {0};
    gpt2_model *m = NULL, *n = NULL;
    tok_tokenizer *t = NULL;
    int rc = 0;
    if (gpt2_load_hf(model, &m, &err) || tok_load(&t, tokp, NULL, &err) || resize_vocab(m, t, &n, &err) ||
        gpt2_save_hf(n, out, &err)) {
        rc = lmc_fail(a, "%s", err.msg);
    } else {
        char *tp = lmc_path_join(out, "tokenizer.json");
        if (tok_save_hf_json(t, tp, &err)) rc = lmc_fail(a, "%s", err.msg);
        else if (lmc_progress_default_mode() != LMC_PROGRESS_QUIET)
            fprintf(stderr, "%s: vocabulary %d -> %d (new rows: mean of the base tokens they are made of)\n", out,
                    m->cfg.vocab_size, n->cfg.vocab_size);
        free(tp);
    }
    gpt2_free(n);
    gpt2_free(m);
    if (t) tok_free(t);
    return rc;
}

const lmc_command tok_resize_cmd = {"resize-model", "resize a checkpoint's embedding (and head) to an extended tokenizer",
    "[options]",
    "Ids below the model's vocabulary keep their rows; each new id gets the mean of the embedding rows of the\n"
    "base tokens it is made of (Herold et al. 2025), in the untied head too. Continue training afterwards.",
    resize_opts, 0, 0, run_resize, NULL, 0};
