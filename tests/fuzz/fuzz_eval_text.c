/* Fuzz target: the text side of lmc eval --task (src/eval): WikiText article splitting, the harness's
 * wikitext detokenizer, Python-style word and character counts, and the JSONL reader of the task inputs.
 * Any bytes: spans stay inside the input, in order, without overlap; the detokenizer returns a string or
 * an error; a JSONL error names the file. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "eval/eval.h"
#include "fuzz_util.h"

static int count_line(void *ctx, json_t *obj, const char *path, uint64_t line, lmc_err *err) {
    (void)obj; (void)path; (void)line; (void)err;
    (*(int *)ctx)++;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *text = (const char *)data;
    lmc_err err = {0};
    size_t *sp = NULL, n = 0;
    if (lmc_wikitext_split(text, size, &sp, &n, &err) == 0) {
        size_t end = 0;
        for (size_t i = 0; i < n; i++) {
            if (sp[2 * i] < end || sp[2 * i] + sp[2 * i + 1] > size) abort();
            end = sp[2 * i] + sp[2 * i + 1];
            char *d = NULL;
            size_t dl = 0;
            if (lmc_wikitext_detok(text + sp[2 * i], sp[2 * i + 1], &d, &dl, &err) == 0) {
                if (strlen(d) != dl) abort();
                free(d);
            }
            (void)lmc_eval_count_words(text + sp[2 * i], sp[2 * i + 1]);
        }
        free(sp);
    }
    if (lmc_eval_count_chars(text, size) > size) abort();
    if (lmc_eval_count_words(text, size) > size + 1) abort();
    const char *path = fuzz_file("tasks.jsonl", data, size);
    int lines = 0;
    if (lmc_eval_read_jsonl(path, 0, count_line, &lines, &err) && !strstr(err.msg, "tasks.jsonl")) abort();
    return 0;
}
