/* Decontamination (GPT-3 rules: cut the matched n-gram plus a 200-character window on each side, drop
 * pieces under 200 characters, drop documents split into more than 10 pieces) and the train-test overlap
 * report (per eval set: examples with any n-gram in the training corpus; BLiMP pairs; short examples). */
#include "test.h"
#include "data/data.h"

static char *tmp;

static char *pathf(const char *name) {
    static char b[4][4096];
    static int k;
    k = (k + 1) % 4;
    snprintf(b[k], sizeof b[k], "%s/%s", tmp, name);
    return b[k];
}

static void put(const char *name, const char *s) {
    FILE *f = fopen(pathf(name), "w");
    fputs(s, f);
    fclose(f);
}

static const char *EVAL_SENT = "the quick brown fox jumps over the lazy dog while seven wise owls watch from the old oak tree";

/* n words of filler "fNNN" */
static void filler(char *b, int start, int n) {
    for (int i = 0; i < n; i++) b += sprintf(b, "f%03d ", start + i);
}

static void test_pieces(void) {
    data_decont_cfg c;
    data_decont_cfg_default(&c);
    CHECK_EQ_INT(c.ngram, 13);
    CHECK_EQ_INT(c.window, 200);
    CHECK_EQ_INT(c.min_slice, 200);
    CHECK_EQ_INT(c.too_dirty, 10);
    put("eval.txt", "The Quick, brown fox jumps over the lazy dog; while seven wise owls watch from the old oak tree!\nshort line\n");
    data_eval_set set;
    lmc_err err = {0};
    CHECK_EQ_INT(data_eval_load(pathf("eval.txt"), NULL, &set, &err), 0);
    CHECK_EQ_INT(set.nexamples, 2);
    data_ngram_index *ix = data_ngram_index_new(13, 8, &err);
    CHECK_EQ_INT(data_ngram_index_add(ix, &set, &err), 0);
    CHECK_EQ_INT(data_ngram_index_size(ix), 19 - 13 + 1);
    /* 100 filler words (500 chars), the sentence, 100 filler words */
    static char doc[20000];
    filler(doc, 0, 100);
    strcat(doc, EVAL_SENT);
    strcat(doc, " ");
    filler(doc + strlen(doc), 100, 100);
    size_t n = strlen(doc);
    data_match *m = NULL;
    size_t nm, mcap = 0;
    data_nwords nw = {0};
    CHECK_EQ_INT(data_ngram_scan(ix, doc, n, &m, &nm, &mcap, &nw, &err), 0);
    CHECK_EQ_INT(nm, 7);
    size_t *ps = NULL, *pe = NULL, pcap = 0, before;
    long np = data_decont_pieces(&c, doc, n, m, nm, &ps, &pe, &pcap, &before);
    CHECK_EQ_INT(np, 2);
    CHECK_EQ_INT(before, 2);
    size_t s0 = 500;  /* the sentence starts at byte 500 */
    CHECK_EQ_INT(pe[0], s0 - 200);
    CHECK_EQ_INT(ps[0], 0);
    CHECK_EQ_INT(ps[1], s0 + strlen(EVAL_SENT) + 200);
    CHECK_EQ_INT(pe[1], n);
    /* a piece under min_slice is dropped: the sentence 350 chars in leaves 150 before it */
    filler(doc, 0, 70);
    strcat(doc, EVAL_SENT);
    strcat(doc, " ");
    filler(doc + strlen(doc), 100, 100);
    n = strlen(doc);
    data_ngram_scan(ix, doc, n, &m, &nm, &mcap, &nw, &err);
    np = data_decont_pieces(&c, doc, n, m, nm, &ps, &pe, &pcap, &before);
    CHECK_EQ_INT(np, 1);
    CHECK_EQ_INT(before, 2);
    /* too dirty: 11 matches 500+ chars apart make 12 pieces > 10 */
    doc[0] = 0;
    for (int k = 0; k < 11; k++) {
        filler(doc + strlen(doc), k * 100, 100);
        strcat(doc, EVAL_SENT);
        strcat(doc, " ");
    }
    filler(doc + strlen(doc), 2000, 100);
    n = strlen(doc);
    data_ngram_scan(ix, doc, n, &m, &nm, &mcap, &nw, &err);
    np = data_decont_pieces(&c, doc, n, m, nm, &ps, &pe, &pcap, &before);
    CHECK_EQ_INT(np, -1);
    CHECK_EQ_INT(before, 12);
    c.too_dirty = 12;
    np = data_decont_pieces(&c, doc, n, m, nm, &ps, &pe, &pcap, &before);
    /* kept: 300 chars before the first match, 201 between the last two (6-char filler words from
     * f1000 on), 401 after the last; the 101-char gaps in between are under min_slice */
    CHECK_EQ_INT(np, 3);
    CHECK_EQ_INT(pe[1] - ps[1], 201);
    /* the short eval line (2 words < min 8) is not indexed: nothing matches it */
    data_ngram_scan(ix, "a short line here", 17, &m, &nm, &mcap, &nw, &err);
    CHECK_EQ_INT(nm, 0);
    free(m);
    free(ps);
    free(pe);
    data_nwords_free(&nw);
    data_ngram_index_free(ix);
    data_eval_free(&set);
}

static void test_pipeline_decont(void) {
    static char doc[20000], line[30000];
    FILE *f = fopen(pathf("train.jsonl"), "w");
    /* doc 0: clean; doc 1: contaminated in the middle -> two pieces; doc 2: too dirty */
    filler(doc, 0, 300);
    fprintf(f, "{\"text\": \"%s\", \"id\": 0}\n", doc);
    filler(doc, 0, 100);
    strcat(doc, EVAL_SENT);
    strcat(doc, " ");
    filler(doc + strlen(doc), 100, 100);
    snprintf(line, sizeof line, "{\"id\": 1, \"text\": \"%s\", \"src\": \"web\"}\n", doc);
    fputs(line, f);
    doc[0] = 0;
    for (int k = 0; k < 11; k++) {
        filler(doc + strlen(doc), k * 100, 100);
        strcat(doc, EVAL_SENT);
        strcat(doc, " ");
    }
    fprintf(f, "{\"text\": \"%s\", \"id\": 2}\n", doc);
    fclose(f);
    put("eval.jsonl", "{\"text\": \"the quick brown fox jumps over the lazy dog while seven wise owls watch\"}\n");
    for (int ro = 0; ro < 2; ro++) {
        data_pipeline_cfg c;
        data_pipeline_cfg_default(&c);
        const char *in[] = {pathf("train.jsonl")};
        const char *ev[] = {pathf("eval.jsonl")};
        c.inputs = in;
        c.ninputs = 1;
        c.output = pathf("dec.jsonl");
        c.rejected = pathf("decrej.jsonl");
        c.nstages = 1;
        c.stages[0].kind = DATA_STAGE_DECONT;
        data_decont_cfg_default(&c.stages[0].decont);
        c.stages[0].eval = ev;
        c.stages[0].neval = 1;
        c.stages[0].report_only = ro;
        json_t *rep = NULL;
        lmc_err err = {0};
        CHECK_EQ_INT(data_pipeline_run(&c, &rep, &err), 0);
        json_t *st = json_array_get(json_object_get(rep, "stages"), 0);
        CHECK_EQ_INT(json_integer_value(json_object_get(st, "contaminated_documents")), 2);
        CHECK_EQ_INT(json_integer_value(json_object_get(rep, "documents_out")), ro ? 3 : 3);
        if (!ro) {
            CHECK_EQ_INT(json_integer_value(json_object_get(st, "removed")), 1);
            CHECK_EQ_INT(json_integer_value(json_object_get(json_object_get(st, "removed_by_rule"), "decontaminate/too_dirty")), 1);
            CHECK_EQ_INT(json_integer_value(json_object_get(st, "cut_documents")), 1);
            /* the pieces keep the other fields; the clean document is byte-for-byte */
            char *o;
            size_t l;
            CHECK_EQ_INT(lmc_read_file(pathf("dec.jsonl"), &o, &l, &err), 0);
            CHECK(!strncmp(o, "{\"text\": \"f000 f001", 19));
            CHECK_STR_CONTAINS(o, "\", \"src\": \"web\"}");  /* other fields byte-for-byte */
            CHECK(strstr(o, "quick brown") == NULL);
            free(o);
            CHECK_EQ_INT(lmc_read_file(pathf("decrej.jsonl"), &o, &l, &err), 0);
            CHECK_STR_CONTAINS(o, "\"lmc_reason\":\"decontaminate/too_dirty\"");
            free(o);
        } else {
            char *o, *i;
            size_t l, il;
            CHECK_EQ_INT(lmc_read_file(pathf("dec.jsonl"), &o, &l, &err), 0);
            CHECK_EQ_INT(lmc_read_file(pathf("train.jsonl"), &i, &il, &err), 0);
            CHECK(l == il && !memcmp(o, i, l));
            free(o);
            free(i);
        }
        json_decref(rep);
    }
}

static void test_overlap(void) {
    /* BLiMP-style pairs: short sentences matched whole (min_ngram 5 here) */
    put("blimp.jsonl",
        "{\"sentence_good\": \"Who should Derek hug after shocking Richard?\", \"sentence_bad\": \"Who should Derek hug Richard after shocking?\", \"UID\": \"x\"}\n"
        "{\"sentence_good\": \"The cats that ate were sleeping.\", \"sentence_bad\": \"The cats that ate was sleeping.\"}\n"
        "{\"sentence_good\": \"Nothing here matches at all today.\", \"sentence_bad\": \"Nothing here match at all today.\"}\n"
        "{\"sentence_good\": \"Too short.\", \"sentence_bad\": \"Short too.\"}\n");
    put("train2.txt", "Yesterday I read that who should derek hug after shocking richard was a question.\n"
                      "The cats that ate was sleeping, they said. The cats that ate was sleeping!");
    data_pipeline_cfg c;
    data_pipeline_cfg_default(&c);
    const char *in[] = {pathf("train2.txt")};
    const char *ev[] = {pathf("blimp.jsonl")};
    c.inputs = in;
    c.ninputs = 1;
    c.nstages = 1;
    c.stages[0].kind = DATA_STAGE_OVERLAP;
    data_decont_cfg_default(&c.stages[0].decont);
    c.stages[0].decont.min_ngram = 5;
    c.stages[0].eval = ev;
    c.stages[0].neval = 1;
    json_t *rep = NULL;
    lmc_err err = {0};
    CHECK_EQ_INT(data_pipeline_run(&c, &rep, &err), 0);
    json_t *st = json_array_get(json_object_get(rep, "stages"), 0);
    json_t *s = json_array_get(json_object_get(st, "eval_sets"), 0);
    CHECK_EQ_INT(json_integer_value(json_object_get(s, "examples")), 4);
    CHECK_EQ_INT(json_integer_value(json_object_get(s, "too_short_examples")), 1);
    CHECK_EQ_INT(json_integer_value(json_object_get(s, "testable_examples")), 3);
    CHECK_EQ_INT(json_integer_value(json_object_get(s, "overlapping_examples")), 2);
    CHECK_CLOSE(json_real_value(json_object_get(s, "overlap_share")), 0.5, 1e-12, 0);
    json_t *l = json_object_get(s, "listed");
    CHECK_EQ_INT(json_array_size(l), 2);
    CHECK_EQ_INT(json_integer_value(json_object_get(json_array_get(l, 0), "line")), 1);
    CHECK_EQ_INT(json_integer_value(json_object_get(json_array_get(l, 1), "train_ngram_matches")), 2);
    CHECK_STR_CONTAINS(json_string_value(json_object_get(st, "method")), "word 13-grams");
    json_decref(rep);
}

/* Real data: WikiText-2 test against itself overlaps on every testable line; the CLI prints the table. */
static void test_real(void) {
    const char *bin = getenv("LMC_BIN");
    char wt[4096], bl[4096], cmd[16384];
    snprintf(wt, sizeof wt, "%s/data/wikitext-2/test.txt", test_shared_dir());
    snprintf(bl, sizeof bl, "%s/data/blimp/anaphor_gender_agreement.jsonl", test_shared_dir());
    if (!lmc_file_exists(wt) || !lmc_file_exists(bl) || !bin) {
        printf("skipping the real-data overlap check (no ../shared/data or LMC_BIN)\n");
        return;
    }
    snprintf(cmd, sizeof cmd, "%s --quiet data overlap --train %s --eval %s --eval %s --report %s > %s 2>&1", bin, wt, wt,
             bl, pathf("ov.json"), pathf("ov.txt"));
    CHECK_EQ_INT(system(cmd), 0);
    lmc_err err = {0};
    json_t *rep = lmc_json_load_file(pathf("ov.json"), &err);
    CHECK(rep != NULL);
    json_t *sets = json_object_get(json_array_get(json_object_get(rep, "stages"), 0), "eval_sets");
    json_t *w = json_array_get(sets, 0), *b = json_array_get(sets, 1);
    CHECK(json_integer_value(json_object_get(w, "testable_examples")) > 1000);
    CHECK_EQ_INT(json_integer_value(json_object_get(w, "overlapping_examples")),
                 json_integer_value(json_object_get(w, "testable_examples")));
    CHECK_EQ_INT(json_integer_value(json_object_get(b, "examples")), 1000);
    json_decref(rep);
}

int main(void) {
    tmp = test_tmpdir();
    test_pieces();
    test_pipeline_decont();
    test_overlap();
    test_real();
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
    if (system(cmd)) {}
    free(tmp);
    return test_summary("data_decont");
}
