/* fastText-style classifier (src/data/classify*.c):
 *  - the hash is FNV-1a 32 (published test vectors) with bytes sign-extended;
 *  - agreement: on the fixture split (tests/reference/make_classify_fixture.py), lmc's test accuracy over seeds
 *    0..4 is within 1.5 points of the PyPI fastText package's (tests/reference/verify_fasttext.py, same
 *    hyper-parameters; committed in classify_fasttext_ref.json) and far above chance (0.5);
 *  - training is deterministic (same bytes for the same seed), save/load gives the same predictions;
 *  - the loader rejects truncated, oversized, inconsistent and non-finite files with a message;
 *  - `score` appends the columns before the closing brace, keeps every original byte, is the same for 1 and 2
 *    threads; the ensemble bucket is the max of the per-model buckets and the weighted column the weighted sum;
 *  - weighted percentiles and np.digitize on hand-made values. */
#include "test.h"
#include "base/io.h"
#include "data/classify_run.h"

#include <string.h>

static char *tmp;

typedef struct exs { data_clf_example *e; size_t n; } exs;

static exs load(const char *name) {
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/data/fixtures/%s", test_source_dir(), name);
    FILE *f = fopen(path, "r");
    if (!f) TEST_SKIP("%s missing", path);
    exs x = {calloc(8192, sizeof(data_clf_example)), 0};
    char line[8192];
    while (fgets(line, sizeof line, f) && x.n < 8192) {
        json_error_t je;
        json_t *o = json_loads(line, 0, &je);
        if (!o) continue;
        const char *t = json_string_value(json_object_get(o, "text")), *l = json_string_value(json_object_get(o, "label"));
        x.e[x.n++] = (data_clf_example){strdup(t), strlen(t), strdup(l), strlen(l)};
        json_decref(o);
    }
    fclose(f);
    return x;
}

static void exs_free(exs *x) {
    for (size_t i = 0; i < x->n; i++) {
        free((void *)x->e[i].text);
        free((void *)x->e[i].label);
    }
    free(x->e);
}

static void params(data_clf_params *p, uint64_t seed) {
    data_clf_params_default(p);
    p->dim = 32;
    p->bucket = 100000;
    p->seed = seed;
}

static void test_hash(void) {
    CHECK_EQ_INT(data_clf_hash("", 0), 0x811c9dc5u);
    CHECK_EQ_INT(data_clf_hash("a", 1), 0xe40c292cu);
    CHECK_EQ_INT(data_clf_hash("foobar", 6), 0xbf9cf968u);
    /* a byte >= 0x80 is XORed sign-extended: 0xFFFFFFC3 instead of 0xC3 */
    uint32_t h = 2166136261u;
    h ^= 0xFFFFFFC3u;
    h *= 16777619u;
    CHECK_EQ_INT(data_clf_hash("\xc3", 1), h);
}

static void test_agreement(void) {
    exs tr = load("classify_train.jsonl"), te = load("classify_test.jsonl");
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/data/fixtures/classify_fasttext_ref.json", test_source_dir());
    json_error_t je;
    json_t *ref = json_load_file(path, 0, &je);
    CHECK(ref != NULL);
    double ft = json_real_value(json_object_get(ref, "mean_test_accuracy"));
    CHECK_EQ_INT(tr.n, 3000);
    CHECK_EQ_INT(te.n, 1000);
    double sum = 0;
    for (uint64_t seed = 0; seed < 5; seed++) {
        data_clf_params p;
        params(&p, seed);
        data_clf *m = NULL;
        lmc_err err = {0};
        double loss;
        CHECK_EQ_INT(data_clf_train(&p, tr.e, tr.n, &m, &loss, &err), 0);
        size_t ok = 0;
        CHECK_EQ_INT(data_classify_accuracy(m, te.e, te.n, &ok, &err), 0);
        sum += (double)ok / (double)te.n;
        if (seed == 0) {
            /* same vocabulary as fastText: every distinct word of the training split plus "</s>" */
            CHECK_EQ_INT(data_clf_nwords(m), json_integer_value(json_object_get(ref, "nwords")));
            CHECK_EQ_INT(data_clf_nlabels(m), 2);
        }
        data_clf_free(m);
    }
    double acc = sum / 5;
    printf("test accuracy: lmc %.4f, fastText %.4f (mean of seeds 0..4)\n", acc, ft);
    CHECK_MSG(fabs(acc - ft) <= 0.015, "lmc %.4f vs fastText %.4f", acc, ft);
    CHECK(acc > 0.8);
    json_decref(ref);
    exs_free(&tr);
    exs_free(&te);
}

static void test_determinism_and_file(void) {
    exs all = load("classify_train.jsonl"), tr = all;
    tr.n = 500;
    data_clf_params p;
    params(&p, 7);
    p.bucket = 2000;
    p.dim = 8;
    data_clf *a = NULL, *b = NULL, *c = NULL;
    lmc_err err = {0};
    CHECK_EQ_INT(data_clf_train(&p, tr.e, tr.n, &a, NULL, &err), 0);
    CHECK_EQ_INT(data_clf_train(&p, tr.e, tr.n, &b, NULL, &err), 0);
    char pa[4200], pb[4200];
    snprintf(pa, sizeof pa, "%s/a.lmcft", tmp);
    snprintf(pb, sizeof pb, "%s/b.lmcft", tmp);
    CHECK_EQ_INT(data_clf_save(a, pa, &err), 0);
    CHECK_EQ_INT(data_clf_save(b, pb, &err), 0);
    char *da, *db;
    size_t la, lb;
    CHECK_EQ_INT(lmc_read_file(pa, &da, &la, &err), 0);
    CHECK_EQ_INT(lmc_read_file(pb, &db, &lb, &err), 0);
    CHECK(la == lb && !memcmp(da, db, la));
    CHECK_EQ_INT(data_clf_load(pa, &c, &err), 0);
    data_clf_scratch s = {0};
    float p1[2], p2[2];
    int same = 1;
    for (size_t i = 0; i < tr.n; i++) {
        data_clf_predict(a, tr.e[i].text, tr.e[i].text_len, p1, &s, &err);
        data_clf_predict(c, tr.e[i].text, tr.e[i].text_len, p2, &s, &err);
        same &= p1[0] == p2[0] && p1[1] == p2[1];
    }
    CHECK(same);
    /* a different seed gives a different model */
    data_clf *d = NULL;
    p.seed = 8;
    CHECK_EQ_INT(data_clf_train(&p, tr.e, tr.n, &d, NULL, &err), 0);
    data_clf_predict(d, tr.e[0].text, tr.e[0].text_len, p2, &s, &err);
    data_clf_predict(a, tr.e[0].text, tr.e[0].text_len, p1, &s, &err);
    CHECK(p1[0] != p2[0]);

    /* bad files */
    data_clf *x = NULL;
    CHECK(data_clf_load_mem(da, 7, "m", &x, &err) < 0 && x == NULL);
    CHECK_STR_CONTAINS(err.msg, "magic");
    for (size_t cut = 8; cut < la; cut += la / 50 + 1) {
        CHECK(data_clf_load_mem(da, cut, "m", &x, &err) < 0);
    }
    CHECK(data_clf_load_mem(da, la - 1, "m", &x, &err) < 0);
    char *bad = malloc(la + 4);
    memcpy(bad, da, la);
    memset(bad + la, 0, 4);
    CHECK(data_clf_load_mem(bad, la + 4, "m", &x, &err) < 0);
    CHECK_STR_CONTAINS(err.msg, "weights left");
    bad[7] = 2;
    CHECK(data_clf_load_mem(bad, la, "m", &x, &err) < 0);
    CHECK_STR_CONTAINS(err.msg, "version");
    memcpy(bad, da, la);
    bad[20] = bad[21] = bad[22] = (char)0xff;   /* nwords ~ 16M: more than the file holds */
    CHECK(data_clf_load_mem(bad, la, "m", &x, &err) < 0);
    CHECK_STR_CONTAINS(err.msg, "needs at least");
    memcpy(bad, da, la);
    bad[8] = 0; bad[9] = 0x20;   /* dim 8192 */
    CHECK(data_clf_load_mem(bad, la, "m", &x, &err) < 0);
    CHECK_STR_CONTAINS(err.msg, "dim");
    memcpy(bad, da, la);
    /* the first label's bytes start at 36: a NUL inside */
    bad[37] = 0;
    CHECK(data_clf_load_mem(bad, la, "m", &x, &err) < 0);
    CHECK_STR_CONTAINS(err.msg, "NUL");
    memcpy(bad, da, la);
    memset(bad + la - 4, 0xff, 4);   /* NaN weight */
    CHECK(data_clf_load_mem(bad, la, "m", &x, &err) < 0);
    CHECK_STR_CONTAINS(err.msg, "not finite");
    CHECK(data_clf_load_mem(da, la, "m", &x, &err) == 0 && x);
    data_clf_free(x);
    free(bad);
    free(da);
    free(db);
    data_clf_scratch_free(&s);
    data_clf_free(a);
    data_clf_free(b);
    data_clf_free(c);
    data_clf_free(d);
    exs_free(&all);
}

static void test_percentiles(void) {
    double sc[5] = {0.5, 0.1, 0.9, 0.3, 0.7}, w[5] = {1, 1, 1, 1, 1}, thr[4];
    size_t idx[5];
    /* quartiles of 5 equal weights, inverted CDF: cum 0.2 0.4 0.6 0.8 1.0 -> 0.25 at 0.3, 0.5 at 0.5, 0.75 at 0.7 */
    data_weighted_percentiles(sc, w, 5, 3, thr, idx);
    CHECK(thr[0] == 0.3 && thr[1] == 0.5 && thr[2] == 0.7);
    /* weight by length: one long document at 0.1 holds most of the mass */
    double w2[5] = {1, 10, 1, 1, 1};
    data_weighted_percentiles(sc, w2, 5, 3, thr, idx);
    CHECK(thr[0] == 0.1 && thr[1] == 0.1 && thr[2] == 0.3);   /* 3.5, 7, 10.5 of 14 */
    double t3[3] = {0.3, 0.5, 0.7};
    CHECK_EQ_INT(data_digitize(0.29, t3, 3), 0);
    CHECK_EQ_INT(data_digitize(0.3, t3, 3), 1);
    CHECK_EQ_INT(data_digitize(0.6, t3, 3), 2);
    CHECK_EQ_INT(data_digitize(0.99, t3, 3), 3);
}

static void write_file(const char *p, const char *s) {
    FILE *f = fopen(p, "w");
    fputs(s, f);
    fclose(f);
}

static json_t *score(const char *in, const char *out, const char **models, int nm, const char *pos, int buckets,
                     const double *w, int threads) {
    data_classify_score_cfg c;
    data_classify_score_cfg_default(&c);
    const char *ins[] = {in};
    c.inputs = ins;
    c.ninputs = 1;
    c.output = out;
    c.nmodels = nm;
    static const char *names[] = {"qa", "qb", "qc"};
    for (int j = 0; j < nm; j++) {
        c.models[j] = models[j];
        c.names[j] = names[j];
    }
    c.positive[0] = pos;
    c.buckets = buckets;
    if (w) {
        c.nweights = nm;
        for (int j = 0; j < nm; j++) c.weights[j] = w[j];
    }
    c.threads = threads;
    json_t *rep = NULL;
    lmc_err err = {0};
    int rc = data_classify_score_run(&c, &rep, &err);
    CHECK_MSG(rc == 0, "%s", err.msg);
    return rep;
}

static void test_score(void) {
    exs tr = load("classify_train.jsonl");
    data_clf_params p;
    params(&p, 0);
    p.dim = 8;
    p.bucket = 5000;
    char ma[4200], mb[4200], in[4200], o1[4200], o2[4200];
    snprintf(ma, sizeof ma, "%s/qa.lmcft", tmp);
    snprintf(mb, sizeof mb, "%s/qb.lmcft", tmp);
    lmc_err err = {0};
    for (int k = 0; k < 2; k++) {
        data_clf *m = NULL;
        p.seed = (uint64_t)k;
        p.epoch = k ? 2 : 5;
        CHECK_EQ_INT(data_clf_train(&p, tr.e, tr.n, &m, NULL, &err), 0);
        CHECK_EQ_INT(data_clf_save(m, k ? mb : ma, &err), 0);
        data_clf_free(m);
    }
    /* input: fixture documents with odd spacing and extra fields, and an empty-ish object */
    snprintf(in, sizeof in, "%s/in.jsonl", tmp);
    FILE *f = fopen(in, "w");
    for (size_t i = 0; i < 300; i++) fprintf(f, "{ \"id\" : %zu, \"text\":\"%s\" }  \n", i, tr.e[i].text);
    fprintf(f, "{\"text\":\"\"}\n");
    fprintf(f, "{}\n");   /* no text field: skipped by the reader, counted */
    fclose(f);
    snprintf(o1, sizeof o1, "%s/o1.jsonl", tmp);
    snprintf(o2, sizeof o2, "%s/o2.jsonl", tmp);
    const char *models[] = {ma, mb};
    double w[2] = {0.25, 0.75};
    json_t *r1 = score(in, o1, models, 2, "shakespeare", 4, w, 1);
    json_t *r2 = score(in, o2, models, 2, "shakespeare", 4, w, 2);
    char *d1, *d2, *din;
    size_t l1, l2, lin;
    CHECK_EQ_INT(lmc_read_file(o1, &d1, &l1, &err), 0);
    CHECK_EQ_INT(lmc_read_file(o2, &d2, &l2, &err), 0);
    CHECK_EQ_INT(lmc_read_file(in, &din, &lin, &err), 0);
    CHECK(l1 == l2 && !memcmp(d1, d2, l1));
    CHECK_EQ_INT(json_integer_value(json_object_get(r1, "documents")), 301);
    /* line by line: original bytes up to the closing brace, then the columns */
    const char *a = din, *b = d1;
    int lines = 0, okprefix = 1, okmax = 1, okw = 1, okcol = 1;
    json_t *thr = json_object_get(json_object_get(r1, "ensemble"), "thresholds");
    data_clf *m0, *m1;
    CHECK_EQ_INT(data_clf_load(ma, &m0, &err), 0);
    CHECK_EQ_INT(data_clf_load(mb, &m1, &err), 0);
    data_clf_scratch s = {0};
    CHECK_EQ_INT(json_integer_value(json_object_get(r1, "skipped_input_lines")), 1);
    while (*a && lines < 301) {
        const char *ea = strchr(a, '\n'), *eb = strchr(b, '\n');
        const char *close = ea;
        while (close > a && close[-1] != '}') close--;
        size_t pre = (size_t)(close - 1 - a);
        okprefix &= !memcmp(a, b, pre);
        okprefix &= !strncmp(b + pre, ",\"qa\":", 6);
        okprefix &= !memcmp(eb - (ea - (close - 1)), close - 1, (size_t)(ea - (close - 1)));   /* "}" and what followed */
        json_error_t je;
        json_t *o = json_loadb(b, (size_t)(eb - b), 0, &je);
        CHECK(o != NULL);
        double qa = json_real_value(json_object_get(o, "qa")), qb = json_real_value(json_object_get(o, "qb"));
        int bk = (int)json_integer_value(json_object_get(o, "quality_bucket"));
        double qw = json_real_value(json_object_get(o, "quality_weighted"));
        double ta[3], tb[3];
        for (int k = 0; k < 3; k++) {
            ta[k] = json_real_value(json_array_get(json_array_get(thr, 0), (size_t)k));
            tb[k] = json_real_value(json_array_get(json_array_get(thr, 1), (size_t)k));
        }
        /* the report's thresholds are exact doubles; the columns have 6 decimals: recompute from the models */
        const char *text = json_string_value(json_object_get(o, "text"));
        float pa[2], pb[2];
        data_clf_predict(m0, text, strlen(text), pa, &s, &err);
        data_clf_predict(m1, text, strlen(text), pb, &s, &err);
        int ia = data_clf_label_index(m0, "shakespeare"), ib = data_clf_label_index(m1, "shakespeare");
        okcol &= fabs(qa - pa[ia]) < 1e-6 && fabs(qb - pb[ib]) < 1e-6;
        int ba = data_digitize(pa[ia], ta, 3), bb = data_digitize(pb[ib], tb, 3);
        okmax &= bk == (ba > bb ? ba : bb);
        okw &= fabs(qw - (0.25 * pa[ia] + 0.75 * pb[ib])) < 2e-6;
        json_decref(o);
        lines++;
        a = ea + 1;
        b = eb + 1;
    }
    CHECK_EQ_INT(lines, 301);
    CHECK(okprefix);
    CHECK(okcol);
    CHECK(okmax);
    CHECK(okw);
    /* 4 buckets by byte-weighted quartiles: every bucket holds some documents */
    json_t *h = json_object_get(json_object_get(r1, "ensemble"), "documents_per_bucket");
    for (size_t k = 0; k < 4; k++) CHECK(json_integer_value(json_array_get(h, k)) > 0);
    json_decref(r1);
    json_decref(r2);
    /* without --positive: one column per label */
    json_t *r3 = score(in, o1, models, 1, NULL, 0, NULL, 1);
    char *d3;
    size_t l3;
    CHECK_EQ_INT(lmc_read_file(o1, &d3, &l3, &err), 0);
    CHECK_STR_CONTAINS(d3, "\"qa_shakespeare\":");
    CHECK_STR_CONTAINS(d3, "\"qa_wiki\":");
    json_decref(r3);
    /* a positive label the model lacks is an error */
    data_classify_score_cfg c;
    data_classify_score_cfg_default(&c);
    const char *ins[] = {in};
    c.inputs = ins;
    c.ninputs = 1;
    c.output = o1;
    c.nmodels = 1;
    c.models[0] = ma;
    c.names[0] = "qa";
    c.positive[0] = "hq";
    json_t *rep = NULL;
    CHECK(data_classify_score_run(&c, &rep, &err) < 0);
    CHECK_STR_CONTAINS(err.msg, "no label \"hq\"");
    free(d1); free(d2); free(d3); free(din);
    data_clf_scratch_free(&s);
    data_clf_free(m0);
    data_clf_free(m1);
    exs_free(&tr);
}

/* fastText's own .bin (tests/reference/make_fasttext_bin_fixture.py): the probabilities of fastText's
 * predict (which reports p + 1e-5) to 1e-6 on 200 texts; unsupported variants are errors naming them. */
static void test_fasttext_bin(void) {
    char path[4096], pp[4096];
    snprintf(path, sizeof path, "%s/tests/data/fixtures/classify_fasttext.bin", test_source_dir());
    snprintf(pp, sizeof pp, "%s/tests/data/fixtures/classify_fasttext_pred.json", test_source_dir());
    data_clf *m = NULL;
    lmc_err err = {0};
    CHECK_MSG(data_clf_load(path, &m, &err) == 0, "%s", err.msg);
    if (!m) return;
    CHECK_EQ_INT(data_clf_nlabels(m), 2);
    CHECK_EQ_INT(data_clf_dim(m), 4);
    json_t *ref = json_load_file(pp, 0, NULL);
    json_t *list = json_object_get(ref, "examples");
    CHECK_EQ_INT(json_array_size(list), 200);
    data_clf_scratch s = {0};
    float p[2];
    double worst = 0;
    for (size_t i = 0; i < json_array_size(list); i++) {
        json_t *e = json_array_get(list, i);
        const char *t = json_string_value(json_object_get(e, "text"));
        CHECK_EQ_INT(data_clf_predict(m, t, strlen(t), p, &s, &err), 0);
        for (int k = 0; k < 2; k++) {
            double want = json_real_value(json_object_get(json_object_get(e, "p"), data_clf_label(m, k))) - 1e-5;
            double d = fabs(want - p[k]);
            worst = d > worst ? d : worst;
        }
    }
    printf("fastText .bin: worst |p_lmc - p_fastText| over 200 texts %.2e\n", worst);
    CHECK(worst < 1e-6);
    json_decref(ref);
    data_clf_scratch_free(&s);
    data_clf_free(m);
    char *d;
    size_t n;
    CHECK_EQ_INT(lmc_read_file(path, &d, &n, &err), 0);
    data_clf *x = NULL;
    char *b = malloc(n);
    memcpy(b, d, n);
    b[32] = 4;   /* loss ova */
    CHECK(data_clf_load_mem(b, n, "ft.bin", &x, &err) < 0);
    CHECK_STR_CONTAINS(err.msg, "ova");
    memcpy(b, d, n);
    b[48] = 6;   /* maxn 6: subwords */
    CHECK(data_clf_load_mem(b, n, "ft.bin", &x, &err) < 0);
    CHECK_STR_CONTAINS(err.msg, "subword");
    memcpy(b, d, n);
    b[4] = 11;   /* version */
    CHECK(data_clf_load_mem(b, n, "ft.bin", &x, &err) < 0);
    CHECK_STR_CONTAINS(err.msg, "version 11");
    for (size_t cut = 4; cut < n; cut += n / 40 + 1) CHECK(data_clf_load_mem(d, cut, "ft.bin", &x, &err) < 0 && !x);
    CHECK(data_clf_load_mem(d, n - 1, "ft.bin", &x, &err) < 0);
    free(b);
    free(d);
}

static void test_train_errors(void) {
    char in[4200];
    snprintf(in, sizeof in, "%s/nolabel.jsonl", tmp);
    write_file(in, "{\"text\":\"a b\",\"label\":\"x\"}\n{\"text\":\"c d\"}\n");
    data_classify_train_cfg c;
    data_classify_train_cfg_default(&c);
    const char *ins[] = {in};
    c.inputs = ins;
    c.ninputs = 1;
    c.params.bucket = 100;
    c.params.dim = 4;
    json_t *rep = NULL;
    lmc_err err = {0};
    CHECK(data_classify_train_run(&c, &rep, &err) < 0);
    CHECK_STR_CONTAINS(err.msg, "nolabel.jsonl:2:");
}

int main(void) {
    tmp = test_tmpdir();
    test_hash();
    test_percentiles();
    test_agreement();
    test_determinism_and_file();
    test_score();
    test_train_errors();
    test_fasttext_bin();
    lmc_remove_tree(tmp, NULL);
    free(tmp);
    return test_summary("test_data_classify");
}
