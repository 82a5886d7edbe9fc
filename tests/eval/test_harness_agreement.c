/* lmc's task scores against lm-evaluation-harness (lm_eval 0.4.13, HF backend, float32) on the committed
 * tiny GPT-2 and Llama checkpoints and inputs; the harness outputs are fixtures made by
 * tests/reference/verify_lm_eval.py (harness_<arch>.json). Checked:
 *   BLiMP: every pair's decision identical, per-phenomenon accuracy equal, each log-likelihood within
 *          1e-5 relative (float32 forwards in two implementations);
 *   mc (HellaSwag- and ARC-shaped, and raw HellaSwag rows through the harness's hellaswag process_docs):
 *          acc and acc_norm equal, per-document acc / acc_norm identical;
 *   lambada: per-text greedy identical, acc equal, perplexity within 1e-4 relative;
 *   wikitext (rolling): article count, words and bytes equal; word/byte perplexity and bits per byte
 *          within 1e-4 relative. */
#include "test.h"
#include "eval/eval.h"
#include "base/json.h"

static json_t *run(lmc_eval_lm *lm, const char *task, const char **files, int n, json_t **ex) {
    lmc_eval_opts o = {files, n, 0, NULL, 0};
    json_t *s = NULL;
    lmc_err err = {0};
    int rc = lmc_eval_task(lm, task, &o, &s, ex, &err);
    CHECK_MSG(rc == 0, "%s: %s", task, err.msg);
    return rc ? NULL : s;
}

static double num(json_t *o, const char *k) { return json_number_value(json_object_get(o, k)); }

static void check_arch(const char *arch) {
    char dir[4096], path[4096];
    const char *src = test_source_dir();
    snprintf(dir, sizeof dir, "%s/tests/eval/fixtures/%s", src, arch);
    snprintf(path, sizeof path, "%s/tests/eval/fixtures/harness_%s.json", src, arch);
    lmc_err err = {0};
    json_t *ref = lmc_json_load_file(path, &err);
    CHECK_MSG(ref != NULL, "%s", err.msg);
    if (!ref) return;
    json_t *tasks = json_object_get(ref, "tasks");
    lmc_eval_lm lm;
    CHECK_MSG(lmc_eval_lm_open(&lm, dir, 0, -1, 0, &err) == 0, "%s", err.msg);
    if (err.code) { json_decref(ref); return; }
    CHECK_EQ_INT(lm.max_len, 64);

    /* BLiMP, one file at a time (one harness task per file) */
    static const char *blimp[] = {"anaphor_gender_agreement", "determiner_noun_agreement_1",
                                  "irregular_past_participle_adjectives", "wh_vs_that_no_gap"};
    for (int f = 0; f < 4; f++) {
        char file[4096], tname[256];
        snprintf(file, sizeof file, "%s/tests/eval/fixtures/blimp/%s.jsonl", src, blimp[f]);
        snprintf(tname, sizeof tname, "lmcx_blimp_%s", blimp[f]);
        json_t *h = json_object_get(tasks, tname), *ex = NULL;
        const char *files[] = {file};
        json_t *s = run(&lm, "blimp", files, 1, &ex);
        if (!s || !h) { CHECK(h != NULL); continue; }
        json_t *hll = json_object_get(h, "ll"), *hacc = json_object_get(h, "acc");
        CHECK_EQ_INT(json_array_size(ex), json_array_size(hll));
        int same = 0;
        double worst = 0;
        for (size_t i = 0; i < json_array_size(ex) && i < json_array_size(hll); i++) {
            json_t *e = json_array_get(ex, i), *p = json_array_get(hll, i);
            int mine = (int)json_integer_value(json_object_get(e, "correct"));
            int theirs = json_number_value(json_array_get(hacc, i)) > 0.5;
            same += mine == theirs;
            for (int k = 0; k < 2; k++) {
                double a = num(e, k ? "ll_bad" : "ll_good"), b = json_number_value(json_array_get(p, (size_t)k));
                double rel = fabs(a - b) / fabs(b);
                if (rel > worst) worst = rel;
            }
        }
        CHECK_MSG(same == (int)json_array_size(hll), "%s %s: %d of %zu decisions equal", arch, tname, same, json_array_size(hll));
        CHECK_MSG(worst < 1e-5, "%s %s: log-likelihood relative error %.3g", arch, tname, worst);
        CHECK_CLOSE(num(s, "acc"), num(json_object_get(h, "metrics"), "acc"), 1e-12, 0);
        printf("%s blimp %-40s acc %.3f (harness %.3f), decisions %d/%zu equal, max ll rel err %.2g\n", arch, blimp[f],
               num(s, "acc"), num(json_object_get(h, "metrics"), "acc"), same, json_array_size(hll), worst);
        json_decref(s);
        json_decref(ex);
    }

    /* multiple choice */
    static const char *mc[][2] = {{"mc_hellaswag.jsonl", "lmcx_mc_hellaswag"}, {"mc_arc.jsonl", "lmcx_mc_arc"},
                                  {"mc_hellaswag_raw.jsonl", "lmcx_mc_hellaswag_raw"}};
    for (int k = 0; k < 3; k++) {
        char file[4096];
        snprintf(file, sizeof file, "%s/tests/eval/fixtures/%s", src, mc[k][0]);
        const char *files[] = {file};
        json_t *h = json_object_get(tasks, mc[k][1]), *ex = NULL, *s = run(&lm, "mc", files, 1, &ex);
        if (!s || !h) { CHECK(h != NULL); continue; }
        json_t *hm = json_object_get(h, "metrics");
        CHECK_CLOSE(num(s, "acc"), num(hm, "acc"), 1e-12, 0);
        CHECK_CLOSE(num(s, "acc_norm"), num(hm, "acc_norm"), 1e-12, 0);
        int same = 0;
        size_t nd = json_array_size(json_object_get(h, "acc"));
        CHECK_EQ_INT(json_array_size(ex), nd);
        for (size_t i = 0; i < nd && i < json_array_size(ex); i++) {
            json_t *e = json_array_get(ex, i);
            int64_t gold = json_integer_value(json_object_get(e, "gold"));
            int a = json_integer_value(json_object_get(e, "pred")) == gold;
            int an = json_integer_value(json_object_get(e, "pred_norm")) == gold;
            same += a == (json_number_value(json_array_get(json_object_get(h, "acc"), i)) > 0.5) &&
                    an == (json_number_value(json_array_get(json_object_get(h, "acc_norm"), i)) > 0.5);
        }
        CHECK_EQ_INT(same, nd);
        printf("%s %s acc %.4f acc_norm %.4f (harness %.4f %.4f)\n", arch, mc[k][1], num(s, "acc"), num(s, "acc_norm"),
               num(hm, "acc"), num(hm, "acc_norm"));
        json_decref(s);
        json_decref(ex);
    }

    /* lambada */
    {
        char file[4096];
        snprintf(file, sizeof file, "%s/tests/eval/fixtures/lambada.jsonl", src);
        const char *files[] = {file};
        json_t *h = json_object_get(tasks, "lmcx_lambada"), *ex = NULL, *s = run(&lm, "lambada", files, 1, &ex);
        if (s && h) {
            json_t *hm = json_object_get(h, "metrics"), *hg = json_object_get(h, "greedy");
            CHECK_CLOSE(num(s, "acc"), num(hm, "acc"), 1e-12, 0);
            CHECK_CLOSE(num(s, "perplexity"), num(hm, "perplexity"), 0, 1e-4);
            CHECK_EQ_INT(json_array_size(ex), json_array_size(hg));
            int same = 0;
            for (size_t i = 0; i < json_array_size(ex); i++)
                same += json_is_true(json_object_get(json_array_get(ex, i), "greedy")) == json_is_true(json_array_get(hg, i));
            CHECK_EQ_INT(same, json_array_size(hg));
            printf("%s lambada acc %.4f ppl %.6g (harness %.4f %.6g)\n", arch, num(s, "acc"), num(s, "perplexity"),
                   num(hm, "acc"), num(hm, "perplexity"));
        } else
            CHECK(h != NULL);
        json_decref(s);
        json_decref(ex);
    }

    /* wikitext: rolling log-likelihood */
    {
        char file[4096];
        snprintf(file, sizeof file, "%s/tests/eval/fixtures/wikitext.txt", src);
        const char *files[] = {file};
        json_t *h = json_object_get(tasks, "lmcx_wikitext"), *ex = NULL, *s = run(&lm, "wikitext", files, 1, &ex);
        if (s && h) {
            json_t *hm = json_object_get(h, "metrics");
            CHECK_EQ_INT(json_array_size(ex), json_array_size(json_object_get(h, "ll")));
            for (size_t i = 0; i < json_array_size(ex); i++) {
                json_t *e = json_array_get(ex, i);
                CHECK_EQ_INT(json_integer_value(json_object_get(e, "words")),
                             json_integer_value(json_array_get(json_object_get(h, "words"), i)));
                CHECK_EQ_INT(json_integer_value(json_object_get(e, "bytes")),
                             json_integer_value(json_array_get(json_object_get(h, "bytes"), i)));
                CHECK_CLOSE(num(e, "ll"), json_number_value(json_array_get(json_object_get(h, "ll"), i)), 0, 1e-5);
            }
            static const char *keys[] = {"word_perplexity", "byte_perplexity", "bits_per_byte"};
            for (int k = 0; k < 3; k++) CHECK_CLOSE(num(s, keys[k]), num(hm, keys[k]), 0, 1e-4);
            printf("%s wikitext word_ppl %.8g byte_ppl %.8g bpb %.8g (harness %.8g %.8g %.8g; rel %.2g)\n", arch,
                   num(s, keys[0]), num(s, keys[1]), num(s, keys[2]), num(hm, keys[0]), num(hm, keys[1]), num(hm, keys[2]),
                   fabs(num(s, keys[0]) - num(hm, keys[0])) / num(hm, keys[0]));
        } else
            CHECK(h != NULL);
        json_decref(s);
        json_decref(ex);
    }
    lmc_eval_lm_close(&lm);
    json_decref(ref);
}

int main(void) {
    check_arch("gpt2");
    check_arch("llama");
    printf("%d checks, %d failures\n", lmc_test_checks, lmc_test_failures);
    return lmc_test_failures != 0;
}
