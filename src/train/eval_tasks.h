/* train.eval_tasks: harness tasks (src/eval) run during training and logged to metrics.jsonl as
 * eval/<task>_<metric> (e.g. eval/blimp_acc, eval/wikitext_word_perplexity).
 *
 *   train:
 *     eval_tasks:
 *       - {task: blimp, data: "../shared/data/blimp/anaphor*.jsonl", every: 100, limit: 50}
 *       - {task: wikitext, data: ../shared/data/wikitext-2/test.txt, every: 500, limit: 3}
 *
 * task: blimp | mc | perplexity | wikitext | lambada; data: a file or a glob; every: steps between runs
 * (0 = only at the end; the last step always runs); limit: examples (BLiMP: per file; 0 = all). */
#ifndef LMC_TRAIN_EVAL_TASKS_H
#define LMC_TRAIN_EVAL_TASKS_H
#include <yaml.h>
#include "base/error.h"
#include "base/jsonl.h"
#include "base/mem.h"
#include "model/gpt2.h"
#include "train/config.h"

/* Parse the list after the key event *ev (which it deletes and replaces); leaves *ev at the list's end.
 * name: the config's path for messages. */
int train_eval_tasks_parse(yaml_parser_t *p, yaml_event_t *ev, train_config *c, const char *name, lmc_err *err);
/* Append "  eval_tasks:\n    - {...}" (nothing when the list is empty). */
int train_eval_tasks_to_yaml(const train_config *c, lmc_buf *out, lmc_err *err);

/* Results of the tasks due at one step, as metric keys and values. */
typedef struct train_eval_results {
    int n;
    char key[64][64];
    double val[64];
} train_eval_results;
/* Is any task due at this step? */
int train_eval_tasks_due(const train_config *c, int64_t step);
/* Run the tasks due at `step` on model m (tokenizer: a tokenizer.json), filling r. */
int train_eval_tasks_run(gpt2_model *m, const train_config *c, const char *tokenizer_json, int64_t step,
                         train_eval_results *r, lmc_err *err);
/* Add r's fields to the metrics record being written. */
void train_eval_tasks_log(lmc_jsonl *w, const train_eval_results *r);
#endif
