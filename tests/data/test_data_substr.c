/* Exact-substring dedup: the spans from the suffix array agree with a brute-force longest-previous-factor
 * (keep first) and longest-repeat (keep none) on random strings with separators; on a planted corpus a
 * 120-byte boilerplate paragraph in 12 documents stays only in the first (none: in no document), a shared
 * 30-byte phrase (below --min-len 50) stays everywhere, other text is untouched, the output is valid UTF-8
 * and unchanged documents are written byte-for-byte. */
#include "test.h"
#include "data/data.h"

static char *tmp;
static lmc_rng rng;

/* brute force: longest prefix of s[p..] (no 0xFF) equal to one starting at another position q
 * (q < p when first_only) */
static int32_t brute_len(const uint8_t *s, int32_t n, int32_t p, int first_only) {
    int32_t best = 0;
    for (int32_t q = 0; q < n; q++) {
        if (q == p || (first_only && q > p)) continue;
        int32_t h = 0;
        while (p + h < n && q + h < n && s[p + h] == s[q + h] && s[p + h] != 0xFF) h++;
        if (h > best) best = h;
    }
    return best;
}

static void test_brute(void) {
    for (int trial = 0; trial < 300; trial++) {
        int32_t n = 1 + (int32_t)lmc_rng_below(&rng, 120);
        int alpha = 1 + (int)lmc_rng_below(&rng, 4);
        uint8_t s[128];
        for (int32_t i = 0; i < n; i++) s[i] = lmc_rng_below(&rng, 10) == 0 ? 0xFF : (uint8_t)('a' + lmc_rng_below(&rng, (uint64_t)alpha));
        int32_t min_len = 1 + (int32_t)lmc_rng_below(&rng, 6);
        for (int first = 0; first <= 1; first++) {
            data_span *sp;
            size_t nsp;
            lmc_err err = {0};
            CHECK_EQ_INT(data_substr_spans(s, n, min_len, first, &sp, &nsp, &err), 0);
            uint8_t want[128] = {0}, got[128] = {0};
            for (int32_t p = 0; p < n; p++) {
                int32_t l = brute_len(s, n, p, first);
                if (l >= min_len)
                    for (int32_t k = p; k < p + l; k++) want[k] = 1;
            }
            for (size_t i = 0; i < nsp; i++) {
                CHECK(sp[i].start < sp[i].end && sp[i].end <= (uint32_t)n);
                if (i) CHECK(sp[i - 1].end < sp[i].start);  /* sorted, disjoint, merged */
                for (uint32_t k = sp[i].start; k < sp[i].end; k++) {
                    got[k] = 1;
                    CHECK(s[k] != 0xFF);
                }
            }
            int same = !memcmp(want, got, (size_t)n);
            CHECK_MSG(same, "trial %d n %d min %d first %d", trial, n, min_len, first);
            free(sp);
            if (!same) return;
        }
    }
}

#define VOCAB 2000
static char vocab[VOCAB][12];

static void random_words(lmc_buf *b, int n) {
    for (int i = 0; i < n; i++) {
        const char *w = vocab[lmc_rng_below(&rng, VOCAB)];
        lmc_buf_append(b, w, strlen(w), NULL);
        lmc_buf_append(b, i % 15 == 14 ? "\\n" : " ", i % 15 == 14 ? 2 : 1, NULL);
    }
}

static void test_planted(void) {
    for (int i = 0; i < VOCAB; i++) {
        int len = 3 + (int)lmc_rng_below(&rng, 7);
        for (int k = 0; k < len; k++) vocab[i][k] = (char)('a' + lmc_rng_below(&rng, 26));
        vocab[i][len] = 0;
    }
    /* 120 bytes, with a two-byte character at both ends so a byte span must be widened to stay UTF-8 */
    const char *boiler = "\xC3\xA9 Subscribe to our newsletter for weekly updates, exclusive offers and the latest news from "
                         "our team. Unsubscribe any time \xC3\xA9";
    const char *phrase = "according to the annual report";  /* 30 bytes */
    enum { NDOC = 60 };
    char path[4096], out[4096];
    snprintf(path, sizeof path, "%s/planted.jsonl", tmp);
    FILE *f = fopen(path, "w");
    int has_boiler[NDOC] = {0}, has_phrase[NDOC] = {0};
    for (int d = 0; d < NDOC; d++) {
        lmc_buf b = {0};
        random_words(&b, 40);
        if (d % 5 == 2) {
            lmc_buf_append(&b, boiler, strlen(boiler), NULL);
            lmc_buf_append(&b, " ", 1, NULL);
            has_boiler[d] = 1;
        }
        if (d % 4 == 1 && !has_boiler[d]) {
            lmc_buf_append(&b, phrase, strlen(phrase), NULL);
            lmc_buf_append(&b, " ", 1, NULL);
            has_phrase[d] = 1;
        }
        random_words(&b, 40);
        fprintf(f, "{\"id\": %d, \"text\": \"%.*s\", \"source\": \"s%d\"}\n", d, (int)b.len, b.data, d % 3);
        lmc_buf_free(&b);
    }
    fclose(f);
    for (int first = 1; first >= 0; first--) {
        data_substr_cfg c;
        data_substr_cfg_default(&c);
        const char *in[] = {path};
        c.inputs = in;
        c.ninputs = 1;
        snprintf(out, sizeof out, "%s/out%d.jsonl", tmp, first);
        c.output = out;
        c.keep_first = first;
        c.threads = 2;
        json_t *rep = NULL;
        lmc_err err = {0};
        CHECK_EQ_INT(data_substr_run(&c, &rep, &err), 0);
        json_t *sd = json_object_get(rep, "substring_dedup");
        int nb = 0;
        for (int d = 0; d < NDOC; d++) nb += has_boiler[d];
        long long removed = json_integer_value(json_object_get(sd, "bytes_removed"));
        /* the boilerplate copies, each with the spaces around it and perhaps the first letters of the next
         * word when two documents happen to continue alike */
        long long k = first ? nb - 1 : nb, bl = (long long)strlen(boiler);
        CHECK_MSG(removed >= (bl + 2) * k && removed <= (bl + 6) * k, "removed %lld", removed);
        CHECK_EQ_INT(json_integer_value(json_object_get(sd, "documents_changed")), first ? nb - 1 : nb);
        CHECK(json_real_value(json_object_get(sd, "memory_bytes_per_input_byte")) < 10);
        json_decref(rep);
        /* read back: boilerplate only in the first document that had it; phrase everywhere it was */
        char *o, *src;
        size_t ol, sl;
        CHECK_EQ_INT(lmc_read_file(out, &o, &ol, &err), 0);
        CHECK_EQ_INT(lmc_read_file(path, &src, &sl, &err), 0);
        const char *p = o, *q = src;
        int seen_boiler = 0, bad = 0, byte_for_byte = 0;
        for (int d = 0; d < NDOC; d++) {
            const char *pe = strchr(p, '\n'), *qe = strchr(q, '\n');
            size_t pl = (size_t)(pe - p);
            lmc_buf txt = {0};
            int found;
            const char *msg;
            size_t col;
            CHECK_EQ_INT(data_json_line_field(p, pl, "text", &txt, &found, &msg, &col), 0);
            CHECK(data_utf8_valid(txt.data, txt.len, NULL));
            int hb = memmem(txt.data, txt.len, boiler + 2, strlen(boiler) - 4) != NULL;
            int hp = memmem(txt.data, txt.len, phrase, strlen(phrase)) != NULL;
            int want_b = has_boiler[d] && first && !seen_boiler;
            if (has_boiler[d]) seen_boiler = 1;
            bad += hb != want_b || hp != has_phrase[d];
            bad += memmem(p, pl, "\"source\": \"s", 12) == NULL;  /* other fields kept */
            if (!has_boiler[d] || want_b) byte_for_byte += pl == (size_t)(qe - q) && !memcmp(p, q, pl);
            lmc_buf_free(&txt);
            p = pe + 1;
            q = qe + 1;
        }
        CHECK_MSG(bad == 0, "keep %s: %d documents wrong", first ? "first" : "none", bad);
        CHECK_EQ_INT(byte_for_byte, first ? NDOC - nb + 1 : NDOC - nb);
        CHECK(p == o + ol);
        free(o);
        free(src);
    }
    /* the YAML pipeline: dedup (nothing to remove here) then substring gives the same bytes as the direct run */
    {
        char yp[4096], yo[4096];
        snprintf(yp, sizeof yp, "%s/p.yaml", tmp);
        snprintf(yo, sizeof yo, "%s/yaml-out.jsonl", tmp);
        FILE *y = fopen(yp, "w");
        fprintf(y, "inputs: [%s]\noutput: %s\nstages:\n  - stats: {}\n  - dedup: {}\n  - substring: {min_len: 50, keep: first}\n",
                path, yo);
        fclose(y);
        data_pipeline_cfg pc;
        json_t *holder = NULL, *rep = NULL;
        lmc_err err = {0};
        CHECK_EQ_INT(data_pipeline_load(yp, &pc, &holder, &err), 0);
        CHECK_EQ_INT(data_pipeline_run(&pc, &rep, &err), 0);
        CHECK(json_object_get(rep, "substring_dedup") != NULL);
        CHECK_EQ_INT(json_integer_value(json_object_get(rep, "documents_out")), NDOC);
        json_decref(rep);
        data_pipeline_cfg_release(&pc);
        json_decref(holder);
        char *a, *b;
        size_t al, bl;
        snprintf(out, sizeof out, "%s/out1.jsonl", tmp);
        CHECK_EQ_INT(lmc_read_file(out, &a, &al, &err), 0);
        CHECK_EQ_INT(lmc_read_file(yo, &b, &bl, &err), 0);
        CHECK(al == bl && !memcmp(a, b, al));
        free(a);
        free(b);
        y = fopen(yp, "w");
        fprintf(y, "inputs: [%s]\noutput: %s\nstages:\n  - substring: {}\n  - stats: {}\n", path, yo);
        fclose(y);
        CHECK(data_pipeline_load(yp, &pc, &holder, &err) < 0);
        CHECK(strstr(err.msg, "substring must be the last stage") != NULL);
        data_pipeline_cfg_release(&pc);
        json_decref(holder);
    }
    /* the CLI, report only */
    const char *bin = getenv("LMC_BIN");
    if (bin) {
        char cmd[16384], rp[4200];
        snprintf(rp, sizeof rp, "%s/sub.json", tmp);
        snprintf(cmd, sizeof cmd, "%s --quiet data dedup --substring --min-len 50 --report-only %s --report %s 2>/dev/null",
                 bin, path, rp);
        CHECK_EQ_INT(system(cmd), 0);
        lmc_err err = {0};
        json_t *r = lmc_json_load_file(rp, &err);
        json_t *sd = json_object_get(r, "substring_dedup");
        CHECK_EQ_INT(json_integer_value(json_object_get(sd, "spans")), 11);
        CHECK_EQ_INT(json_array_size(json_object_get(sd, "listed")), 11);
        json_decref(r);
        snprintf(cmd, sizeof cmd, "%s --quiet data dedup --substring --min-len 0 %s -o %s/x.jsonl 2>/dev/null", bin, path, tmp);
        CHECK(system(cmd) != 0);
    }
}

int main(void) {
    tmp = test_tmpdir();
    lmc_rng_init(&rng, 777);
    test_brute();
    test_planted();
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
    if (system(cmd)) {}
    free(tmp);
    return test_summary("data_substr");
}
