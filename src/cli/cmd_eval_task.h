/* lmc eval --task NAME: the harness-equal tasks of src/eval (options shared with cmd_eval.c's table). */
#ifndef LMC_CLI_CMD_EVAL_TASK_H
#define LMC_CLI_CMD_EVAL_TASK_H
#include "cli/cli.h"

#define LMC_EVAL_TASK_OPTS \
    {"task", 0, OPT_STR, NULL, "NAME", "blimp, mc, perplexity, wikitext, lambada, heads or trec (docs/eval.md)"}, \
    {"run", 0, OPT_STR, NULL, "RUN_DIR", "--task trec: the run whose training batches are re-evaluated"}, \
    {"every", 0, OPT_INT, "0", "K", "--task trec: every K-th step (0 = steps/50)"}, \
    {"threshold", 0, OPT_FLOAT, "0.3", "TAU", "--task heads: AHON_LN below TAU is inactive"}, \
    {"limit", 0, OPT_INT, "0", "N", "--task: first N examples (BLiMP: per file; 0 = all)"}, \
    {"field", 0, OPT_STR, "text", "NAME", "--task perplexity/lambada: JSONL text field"}, \
    {"json", 0, OPT_FLAG, NULL, NULL, "--task: print only the one JSON line of results"}, \
    {"output", 'o', OPT_STR, NULL, "FILE", "--task: per-example scores as JSON Lines (written atomically)"}, \
    {"max-length", 0, OPT_INT, "0", "N", "--task: context length (0 = the model's n_positions)"}, \
    {"prefix-token", 0, OPT_INT, "-1", "ID", "--task: token an empty context conditions on (-1 = BOS, else EOS)"}, \
    {"batch-tokens", 0, OPT_INT, "4096", "N", "--task: tokens per forward pass (rows x longest row)"},

#define LMC_EVAL_TASK_HELP \
    "With --task NAME the inputs are scored as lm-evaluation-harness scores them (HF backend):\n" \
    "  blimp       BLiMP JSONL files (sentence_good, sentence_bad): acc (mean over phenomena), acc per phenomenon\n" \
    "  mc          multiple choice JSONL (ctx/endings/label, query/choices/gold, or ARC question/choices/answerKey):\n" \
    "              acc, acc_norm (ll / choice length), acc_bytes\n" \
    "  perplexity  rolling log-likelihood over JSONL documents or plain-text files: word_perplexity,\n" \
    "              byte_perplexity, bits_per_byte\n" \
    "  wikitext    the same over WikiText files split into articles and detokenized as the harness's wikitext\n" \
    "  lambada     last-word accuracy and perplexity of JSONL texts\n" \
    "  heads       inactive attention heads (AHON, layer-normalised) on a probe set of texts (a diagnostic)\n" \
    "  trec        training re-evaluation curve: --run RUN_DIR [--model CKPT] re-scores each step's training batch\n" \
    "Example: lmc eval --model DIR --task blimp --data ../shared/data/blimp/*.jsonl --threads 2 --json"

int lmc_cmd_eval_task(lmc_args *a);
#endif
