/* Dedup on a planted corpus: near-duplicate clusters at Jaccard >= 0.85 over word 5-grams must end with
 * one survivor (>= 95% of clusters), documents without a partner above J = 0.5 must stay (< 1% removed),
 * the survivor of each cluster is its first document in input order, written byte-for-byte, every removed
 * document names a kept partner at Jaccard >= 0.8 (checked here independently), and the output is
 * byte-identical for 1 and 2 threads. Chains A~B~C with A !~ C keep C. Also: exact dedup alone, the
 * signature, the shingle set and the two Jaccard measures. */
#include "test.h"
#include "data/data.h"

static char *tmp;
static lmc_rng rng;

#define VOCAB 3000
static char vocab[VOCAB][12];

/* distinct words, so that Jaccard over word ids (here) equals Jaccard over the text (lmc) */
static void make_vocab(void) {
    for (int i = 0; i < VOCAB; i++) {
        int dup;
        do {
            int len = 3 + (int)lmc_rng_below(&rng, 7);
            for (int k = 0; k < len; k++) vocab[i][k] = (char)('a' + lmc_rng_below(&rng, 26));
            vocab[i][len] = 0;
            dup = 0;
            for (int j = 0; j < i && !dup; j++) dup = !strcmp(vocab[i], vocab[j]);
        } while (dup);
    }
}

typedef struct doc { int w[260]; int n; int cluster; int is_orig; } doc;

/* Jaccard of the word 5-gram sets of two documents (words are plain lowercase ASCII here). */
static double jaccard(const doc *a, const doc *b) {
    int na = a->n - 4, nb = b->n - 4, inter = 0;
    for (int i = 0; i < na; i++) {
        int dup = 0;
        for (int k = 0; k < i && !dup; k++) dup = !memcmp(&a->w[k], &a->w[i], 5 * sizeof(int));
        if (dup) continue;
        for (int j = 0; j < nb; j++)
            if (!memcmp(&a->w[i], &b->w[j], 5 * sizeof(int))) { inter++; break; }
    }
    /* sets: distinct counts (random 5-grams repeat with negligible probability; checked) */
    return (double)inter / (double)(na + nb - inter);
}

static void write_doc(FILE *f, const doc *d, int id) {
    fprintf(f, "{\"id\": %d, \"text\": \"", id);
    for (int i = 0; i < d->n; i++) {
        fputs(vocab[d->w[i]], f);
        if (i + 1 < d->n) fputs(i % 17 == 16 ? "\\n" : " ", f);
    }
    fprintf(f, "\", \"meta\": {\"k\": [%d, 1.50]}}\n", id * 7);
}

static void test_planted(void) {
    enum { NUNIQ = 400, NCLUST = 120, NLOW = 60 };
    static doc docs[NUNIQ + NCLUST * 4 + NLOW * 2];
    int n = 0;
    /* unique documents */
    for (int i = 0; i < NUNIQ; i++, n++) {
        docs[n].n = 150 + (int)lmc_rng_below(&rng, 100);
        for (int k = 0; k < docs[n].n; k++) docs[n].w[k] = (int)lmc_rng_below(&rng, VOCAB);
        docs[n].cluster = -1;
    }
    /* planted clusters: an original plus 1..3 copies with 1..3 word substitutions */
    for (int c = 0; c < NCLUST; c++) {
        doc *o = &docs[n++];
        o->n = 200 + (int)lmc_rng_below(&rng, 50);
        for (int k = 0; k < o->n; k++) o->w[k] = (int)lmc_rng_below(&rng, VOCAB);
        o->cluster = c;
        o->is_orig = 1;
        int copies = 1 + (int)lmc_rng_below(&rng, 3);
        for (int k = 0; k < copies; k++) {
            doc *d = &docs[n++];
            *d = *o;
            d->is_orig = 0;
            int edits = 1 + (int)lmc_rng_below(&rng, 2);
            for (int e = 0; e < edits; e++) d->w[lmc_rng_below(&rng, (uint64_t)d->n)] = (int)lmc_rng_below(&rng, VOCAB);
        }
    }
    /* low-similarity pairs: a shared half, J about 0.3 */
    for (int p = 0; p < NLOW; p++) {
        doc *a = &docs[n++], *b = &docs[n++];
        a->n = b->n = 200;
        for (int k = 0; k < 200; k++) a->w[k] = (int)lmc_rng_below(&rng, VOCAB);
        *b = *a;
        for (int k = 100; k < 200; k++) b->w[k] = (int)lmc_rng_below(&rng, VOCAB);
        a->cluster = b->cluster = -1;
        a->is_orig = b->is_orig = 0;
    }
    /* shuffle the order, but every cluster's original must come before its copies: keep a random
     * permutation and then fix each cluster by swapping the original to the first slot */
    int *perm = malloc((size_t)n * sizeof *perm);
    for (int i = 0; i < n; i++) perm[i] = i;
    for (int i = n - 1; i > 0; i--) {
        int j = (int)lmc_rng_below(&rng, (uint64_t)i + 1), t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
    doc *ord = malloc((size_t)n * sizeof *ord);
    for (int i = 0; i < n; i++) ord[i] = docs[perm[i]];
    char path[4096], out1[4096], out2[4096], rep[4096];
    snprintf(path, sizeof path, "%s/planted.jsonl", tmp);
    FILE *f = fopen(path, "w");
    for (int i = 0; i < n; i++) write_doc(f, &ord[i], i);
    fclose(f);

    /* the truth: which documents should survive */
    int *first_of = malloc(NCLUST * sizeof(int));
    for (int c = 0; c < NCLUST; c++) first_of[c] = -1;
    for (int i = 0; i < n; i++)
        if (ord[i].cluster >= 0 && first_of[ord[i].cluster] < 0) first_of[ord[i].cluster] = i;
    /* check the planted similarity: J >= 0.85 between the first member and every other member */
    int high_clusters = 0;
    int *is_high = calloc(NCLUST, sizeof(int));
    for (int c = 0; c < NCLUST; c++) {
        int ok = 1;
        for (int i = 0; i < n; i++)
            if (ord[i].cluster == c && i != first_of[c] && jaccard(&ord[first_of[c]], &ord[i]) < 0.85) ok = 0;
        is_high[c] = ok;
        high_clusters += ok;
    }
    CHECK(high_clusters >= NCLUST * 8 / 10);

    for (int t = 1; t <= 2; t++) {
        data_pipeline_cfg c;
        data_pipeline_cfg_default(&c);
        const char *in[] = {path};
        c.inputs = in;
        c.ninputs = 1;
        snprintf(t == 1 ? out1 : out2, 4096, "%s/out%d.jsonl", tmp, t);
        snprintf(rep, sizeof rep, "%s/rejected%d.jsonl", tmp, t);
        c.output = t == 1 ? out1 : out2;
        c.rejected = rep;
        c.threads = t;
        c.dedup = 1;
        json_t *report = NULL;
        lmc_err err = {0};
        CHECK_EQ_INT(data_pipeline_run(&c, &report, &err), 0);
        if (t == 1) {
            json_t *dd = json_object_get(report, "dedup");
            CHECK(json_integer_value(json_object_get(dd, "index_bytes")) > 0);
            json_t *cls = json_object_get(dd, "clusters");
            CHECK(json_array_size(cls) > 0);
            /* every removed document: its kept partner and their similarity, which is the exact Jaccard */
            int nrem = 0, below = 0, wrong = 0;
            for (size_t ci = 0; ci < json_array_size(cls); ci++) {
                json_t *cl = json_array_get(cls, ci);
                int kd = (int)json_integer_value(json_object_get(json_object_get(cl, "kept"), "doc"));
                json_t *rm = json_object_get(cl, "removed");
                for (size_t ri = 0; ri < json_array_size(rm); ri++) {
                    json_t *o = json_array_get(rm, ri);
                    int d = (int)json_integer_value(json_object_get(o, "doc"));
                    double sim = json_real_value(json_object_get(o, "similarity"));
                    double j = jaccard(&ord[kd], &ord[d]);
                    nrem++;
                    below += j < 0.8;
                    wrong += fabs(j - sim) > 1e-6;
                }
            }
            CHECK_MSG(below == 0, "%d of %d removed documents below J = 0.8 with their kept partner", below, nrem);
            CHECK_MSG(wrong == 0, "%d of %d reported similarities differ from the Jaccard", wrong, nrem);
        }
        json_decref(report);
    }
    char *o1, *o2;
    size_t l1, l2;
    lmc_err err = {0};
    CHECK_EQ_INT(lmc_read_file(out1, &o1, &l1, &err), 0);
    CHECK_EQ_INT(lmc_read_file(out2, &o2, &l2, &err), 0);
    CHECK(l1 == l2 && memcmp(o1, o2, l1) == 0);

    /* which input lines survived? the output lines are input lines, byte-for-byte and in order */
    char *in;
    size_t il;
    CHECK_EQ_INT(lmc_read_file(path, &in, &il, &err), 0);
    int *kept = calloc((size_t)n, sizeof(int));
    {
        const char *p = o1, *q = in;
        int line = 0;
        while (p < o1 + l1 && line < n) {
            const char *qe = strchr(q, '\n'), *pe = strchr(p, '\n');
            if ((size_t)(pe - p) == (size_t)(qe - q) && !memcmp(p, q, (size_t)(pe - p))) {
                kept[line] = 1;
                p = pe + 1;
            }
            q = qe + 1;
            line++;
        }
        CHECK_MSG(p == o1 + l1, "output has a line that is not an input line in order");
    }
    int one_survivor = 0, first_kept = 0;
    for (int c = 0; c < NCLUST; c++) {
        if (!is_high[c]) continue;
        int surv = 0;
        for (int i = 0; i < n; i++) surv += ord[i].cluster == c && kept[i];
        one_survivor += surv == 1;
        first_kept += kept[first_of[c]];
    }
    CHECK_MSG(one_survivor * 100 >= high_clusters * 95, "%d of %d clusters with one survivor", one_survivor, high_clusters);
    CHECK_MSG(first_kept * 100 >= high_clusters * 95, "first kept in %d of %d", first_kept, high_clusters);
    int lone = 0, lone_removed = 0;
    for (int i = 0; i < n; i++) {
        if (ord[i].cluster >= 0) continue;
        lone++;
        lone_removed += !kept[i];
    }
    CHECK_MSG(lone_removed * 100 < lone, "%d of %d documents without a partner removed", lone_removed, lone);
    printf("planted: %d docs, %d clusters at J>=0.85: %d with one survivor; %d/%d partnerless removed\n", n,
           high_clusters, one_survivor, lone_removed, lone);
    free(o1);
    free(o2);
    free(in);
    free(kept);
    free(is_high);
    free(first_of);
    free(perm);
    free(ord);
}

static void test_units(void) {
    lmc_err err = {0};
    /* exact key: white-space runs do not matter, case does */
    uint64_t a[2], b[2], c[2];
    lmc_buf t = {0};
    data_exact_key("  hello \n world ", 16, a, &t);
    data_exact_key("hello world", 11, b, &t);
    data_exact_key("Hello world", 11, c, &t);
    CHECK(a[0] == b[0] && a[1] == b[1]);
    CHECK(a[0] != c[0]);
    /* signature: simplify_text makes punctuation, case, numbers and diacritics irrelevant */
    data_minhash m;
    data_minhash_cfg mc = {5, 14, 8, 1};
    CHECK_EQ_INT(data_minhash_init(&m, &mc, &err), 0);
    uint64_t s1[112], s2[112];
    const char *x = "The caf\xC3\xA9 opened in 1999, and it sold 3.5 cups of tea to everyone who came by.";
    const char *y = "the cafe opened in 2024 and it sold 7,25 cups of tea -- to everyone who came by!!";
    CHECK(data_minhash_signature(&m, x, strlen(x), s1, &t, &err) > 0);
    CHECK(data_minhash_signature(&m, y, strlen(y), s2, &t, &err) > 0);
    CHECK(memcmp(s1, s2, sizeof s1) == 0);
    CHECK_EQ_INT(data_minhash_signature(&m, "too short doc", 13, s1, &t, &err), 0);
    for (int i = 0; i < 112; i++) CHECK(m.a[i] >= 1 && m.a[i] < (1ULL << 61) - 1);
    /* the shingle set and the two Jaccard measures */
    uint64_t *set = NULL;
    const char *z = "one two three four five six seven one two three four five";  /* 8 shingles, 7 distinct */
    CHECK_EQ_INT(data_minhash_shingle_set(&m, z, strlen(z), &set, &t, &err), 7);
    for (int i = 1; i < 7; i++) CHECK(set[i - 1] < set[i]);
    free(set);
    uint64_t sa[] = {1, 2, 3, 4}, sbb[] = {2, 3, 4, 5, 6};
    CHECK(fabs(data_jaccard_sorted(sa, 4, sbb, 5) - 3.0 / 6.0) < 1e-12);
    CHECK(data_jaccard_sorted(sa, 0, sbb, 0) == 1.0);
    memcpy(s2, s1, sizeof s1);
    for (int i = 0; i < 28; i++) s2[i * 4] ^= 1;
    CHECK(fabs(data_minhash_estimate(&m, s1, s2) - 84.0 / 112.0) < 1e-12);
    lmc_buf sim = {0};
    CHECK_EQ_INT(data_simplify(x, strlen(x), 0, &sim, &err), 0);
    CHECK(sim.len == strlen("the cafe opened in 0 and it sold 0 cups of tea to everyone who came by") &&
          !memcmp(sim.data, "the cafe opened in 0 and it sold 0 cups of tea to everyone who came by", sim.len));
    lmc_buf_free(&sim);
    /* Issue 11, D2: invalid bytes expand to a 3-byte U+FFFD, so the output outgrows the input and the
     * space owed before the next word must be bounds-checked (a heap overflow under ASan before). */
    {
        char bad[200];
        const char *head = "{\"text\": \"hello world\", \"id\":";
        size_t hn = strlen(head);
        memcpy(bad, head, hn);
        memset(bad + hn, 0xFF, 70);
        for (int fresh = 0; fresh < 2; fresh++) {
            lmc_buf sb = {0};
            CHECK_EQ_INT(data_simplify(bad, hn + 70, 0, &sb, &err), 0);
            CHECK(sb.len <= sb.cap);
            lmc_buf_free(&sb);
            lmc_buf t2 = {0};
            (void)data_minhash_signature(&m, bad, hn + 70, s1, &t2, &err);
            lmc_buf_free(&t2);
        }
        /* every output length around the buffer's capacity: a prefix, x invalid bytes, then a space
         * owed and a word ("a" + 85 x 0xFF + " b" filled the buffer exactly before the space) */
        for (int p = 0; p < 3; p++)
            for (int nx = 1; nx < 400; nx++) {
                char in[512];
                memcpy(in, "abc", (size_t)p);
                memset(in + p, 0xFF, (size_t)nx);
                memcpy(in + p + nx, " z", 2);
                lmc_buf sb = {0};
                CHECK_EQ_INT(data_simplify(in, (size_t)(p + nx + 2), 0, &sb, &err), 0);
                CHECK_EQ_INT(sb.len, p + 3 * nx + 2);
                lmc_buf_free(&sb);
            }
        /* mixed: words between the invalid bytes, so spaces are owed many times */
        lmc_buf mixed = {0}, mb = {0};
        for (int i = 0; i < 200; i++) CHECK(lmc_buf_append(&mixed, "\xFF\xFF a", 4, &err) == 0);
        CHECK_EQ_INT(data_simplify(mixed.data, mixed.len, 0, &mb, &err), 0);
        lmc_buf_free(&mb);
        lmc_buf_free(&mixed);
    }
    data_minhash_free(&m);
    lmc_buf_free(&t);
}

/* Chains A~B~C~D~E: each document is the previous one shifted by 15 words (200 words, J = 181/211 = 0.858
 * between neighbours, 166/226 = 0.735 two apart). Union-find over candidate pairs (the old behaviour,
 * and datatrove's) puts a whole chain in one cluster and keeps only A; verified greedy dedup must keep
 * C (below 0.8 to A, its only kept candidate) and remove B for A at exactly J = 181/211. */
static void test_chains(void) {
    enum { NCHAIN = 30, LEN = 5, SHIFT = 15, N = 200 };
    static doc docs[NCHAIN * LEN];
    for (int c = 0; c < NCHAIN; c++) {
        int base[N + SHIFT * LEN];
        for (int k = 0; k < N + SHIFT * LEN; k++) base[k] = (int)lmc_rng_below(&rng, VOCAB);
        for (int m = 0; m < LEN; m++) {
            doc *d = &docs[c * LEN + m];
            d->n = N;
            memcpy(d->w, base + m * SHIFT, N * sizeof(int));
        }
    }
    CHECK(fabs(jaccard(&docs[0], &docs[1]) - 181.0 / 211.0) < 1e-12);
    CHECK(fabs(jaccard(&docs[0], &docs[2]) - 166.0 / 226.0) < 1e-12);
    char path[4096], out[4096];
    snprintf(path, sizeof path, "%s/chains.jsonl", tmp);
    snprintf(out, sizeof out, "%s/chains-out.jsonl", tmp);
    FILE *f = fopen(path, "w");
    for (int i = 0; i < NCHAIN * LEN; i++) write_doc(f, &docs[i], i);
    fclose(f);
    for (int v = DATA_VERIFY_JACCARD; v <= DATA_VERIFY_BOTH; v++) {
        data_pipeline_cfg c;
        data_pipeline_cfg_default(&c);
        const char *in[] = {path};
        c.inputs = in;
        c.ninputs = 1;
        c.output = out;
        c.dedup = 1;
        c.dedup_verify = v;
        c.threads = 2;
        json_t *report = NULL;
        lmc_err err = {0};
        CHECK_EQ_INT(data_pipeline_run(&c, &report, &err), 0);
        int partner[NCHAIN * LEN];
        double sim[NCHAIN * LEN];
        for (int i = 0; i < NCHAIN * LEN; i++) partner[i] = i, sim[i] = 1;
        json_t *dd = json_object_get(report, "dedup"), *cls = json_object_get(dd, "clusters");
        for (size_t ci = 0; ci < json_array_size(cls); ci++) {
            json_t *cl = json_array_get(cls, ci);
            int kd = (int)json_integer_value(json_object_get(json_object_get(cl, "kept"), "doc"));
            json_t *rm = json_object_get(cl, "removed");
            for (size_t ri = 0; ri < json_array_size(rm); ri++) {
                json_t *o = json_array_get(rm, ri);
                int d = (int)json_integer_value(json_object_get(o, "doc"));
                partner[d] = kd;
                sim[d] = json_real_value(json_object_get(o, "similarity"));
            }
        }
        int c_kept = 0, b_removed = 0, bad = 0;
        for (int ch = 0; ch < NCHAIN; ch++) {
            int a = ch * LEN;
            c_kept += partner[a + 2] == a + 2 && partner[a] == a;
            if (partner[a + 1] == a && fabs(sim[a + 1] - (v == DATA_VERIFY_SIGNATURE ? sim[a + 1] : 181.0 / 211.0)) < 1e-6)
                b_removed++;
            for (int m = 0; m < LEN; m++) {
                int d = a + m;
                if (partner[d] == d) continue;
                /* the partner is kept, and (exact Jaccard modes) at or above 0.8 */
                bad += partner[partner[d]] != partner[d];
                if (v != DATA_VERIFY_SIGNATURE) bad += jaccard(&docs[partner[d]], &docs[d]) < 0.8;
            }
        }
        CHECK_MSG(bad == 0, "verify %d: %d removed documents without a kept partner at J >= 0.8", v, bad);
        if (v != DATA_VERIFY_SIGNATURE) {  /* the estimate (std error 0.038) may put C above 0.8 to A */
            CHECK_MSG(c_kept == NCHAIN, "verify %d: C kept in %d of %d chains", v, c_kept, NCHAIN);
        }
        CHECK_MSG(b_removed >= NCHAIN * 9 / 10, "verify %d: B removed for A in %d of %d chains", v, b_removed, NCHAIN);
        json_t *vr = json_object_get(dd, "verification");
        if (v == DATA_VERIFY_BOTH) {
            double mae = json_real_value(json_object_get(vr, "estimate_mean_abs_error"));
            CHECK(mae > 0 && mae < 0.1);
            printf("chains: %lld pairs compared, signature estimate mean |error| %.4f, max %.4f, %lld decisions differ\n",
                   (long long)json_integer_value(json_object_get(vr, "pairs_compared")), mae,
                   json_real_value(json_object_get(vr, "estimate_max_abs_error")),
                   (long long)json_integer_value(json_object_get(vr, "estimate_decisions_differing")));
        }
        printf("chains (verify %d): C kept in %d/%d, B removed for A in %d/%d\n", v, c_kept, NCHAIN, b_removed, NCHAIN);
        json_decref(report);
    }
}

/* Documents equal after simplify_text (case, punctuation, numbers) but not exactly: removed for the first at
 * similarity 1 through the simplified-text key, without a shingle set being compared. */
static void test_simplified_copies(void) {
    char path[4096], out[4096];
    snprintf(path, sizeof path, "%s/simp.jsonl", tmp);
    snprintf(out, sizeof out, "%s/simp-out.jsonl", tmp);
    FILE *f = fopen(path, "w");
    fprintf(f, "{\"text\": \"the quick brown fox jumps over the lazy dog near 12 old barns\"}\n");
    fprintf(f, "{\"text\": \"an unrelated sentence about rivers hills and seven small boats\"}\n");
    fprintf(f, "{\"text\": \"The Quick, brown fox -- jumps over the LAZY dog near 99 old barns!\"}\n");
    fclose(f);
    data_pipeline_cfg c;
    data_pipeline_cfg_default(&c);
    const char *in[] = {path};
    c.inputs = in;
    c.ninputs = 1;
    c.output = out;
    c.dedup = 1;
    json_t *rep = NULL;
    lmc_err err = {0};
    CHECK_EQ_INT(data_pipeline_run(&c, &rep, &err), 0);
    json_t *dd = json_object_get(rep, "dedup");
    CHECK_EQ_INT(json_integer_value(json_object_get(dd, "removed_near")), 1);
    CHECK_EQ_INT(json_integer_value(json_object_get(dd, "removed_exact")), 0);
    CHECK_EQ_INT(json_integer_value(json_object_get(json_object_get(dd, "verification"), "pairs_compared")), 0);
    json_t *rm = json_array_get(json_object_get(json_array_get(json_object_get(dd, "clusters"), 0), "removed"), 0);
    CHECK_EQ_INT(json_integer_value(json_object_get(rm, "doc")), 2);
    CHECK(json_real_value(json_object_get(rm, "similarity")) == 1.0);
    json_decref(rep);
}

/* --exact only on plain text documents split by a separator; then the CLI with --threads 1 / 2. */
static void test_cli(void) {
    const char *bin = getenv("LMC_BIN");
    if (!bin) return;
    char p[4096], cmd[16384];
    snprintf(p, sizeof p, "%s/docs.txt", tmp);
    FILE *f = fopen(p, "w");
    fprintf(f, "alpha beta gamma\n---\nalpha   beta\ngamma\n---\nalpha beta delta\n---\nalpha beta gamma");
    fclose(f);
    snprintf(cmd, sizeof cmd, "%s --quiet data dedup --exact --doc-separator '\\n---\\n' %s -o %s/ex.jsonl --report %s/ex.json 2>/dev/null",
             bin, p, tmp, tmp);
    CHECK_EQ_INT(system(cmd), 0);
    char q[4200], *o;
    size_t l;
    lmc_err err = {0};
    snprintf(q, sizeof q, "%s/ex.jsonl", tmp);
    CHECK_EQ_INT(lmc_read_file(q, &o, &l, &err), 0);
    const char *want = "{\"text\":\"alpha beta gamma\"}\n{\"text\":\"alpha beta delta\"}\n";
    CHECK_MSG(l == strlen(want) && !memcmp(o, want, l), "got %.*s", (int)l, o);
    free(o);
    snprintf(q, sizeof q, "%s/ex.json", tmp);
    json_t *r = lmc_json_load_file(q, &err);
    json_t *cl = json_array_get(json_object_get(json_object_get(r, "dedup"), "clusters"), 0);
    CHECK_EQ_INT(json_integer_value(json_object_get(cl, "size")), 3);
    CHECK_EQ_INT(json_integer_value(json_object_get(json_object_get(cl, "kept"), "line")), 1);
    CHECK_EQ_INT(json_integer_value(json_object_get(json_array_get(json_object_get(cl, "removed"), 0), "line")), 3);
    json_decref(r);
    for (int t = 1; t <= 2; t++) {
        snprintf(cmd, sizeof cmd, "%s --quiet data dedup --threads %d %s/planted.jsonl -o %s/cli%d.jsonl.zst 2>/dev/null",
                 bin, t, tmp, tmp, t);
        CHECK_EQ_INT(system(cmd), 0);
    }
    snprintf(cmd, sizeof cmd, "cmp -s %s/cli1.jsonl.zst %s/cli2.jsonl.zst", tmp, tmp);
    CHECK_EQ_INT(system(cmd), 0);
}

int main(void) {
    tmp = test_tmpdir();
    lmc_rng_init(&rng, 12345);
    make_vocab();
    test_units();
    test_planted();
    test_chains();
    test_simplified_copies();
    test_cli();
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
    if (system(cmd)) {}
    free(tmp);
    return test_summary("data_dedup");
}
