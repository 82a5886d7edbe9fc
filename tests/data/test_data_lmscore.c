/* `lmc data score --model DIR` (src/data/lmscore.c), with a tokenizer trained here on the classifier fixture
 * and tiny GPT-2 checkpoints built here:
 *  - an all-zero model predicts the uniform distribution, so every document's perplexity is exactly the
 *    vocabulary size (whatever the windows);
 *  - a randomly initialised model: each document's column equals exp(mean NLL) computed here from the logits
 *    (log-softmax in double) over the same windows of --context tokens, the first token predicted from
 *    <|endoftext|>;
 *  - DavIR: with the zero model as reference the column is 1 - ln V / L_base; with the model itself, 0;
 *  - CCNet buckets: each document's head/middle/tail agrees with the report's thresholds, the three are about
 *    a third each, and every original byte of a line is kept before the added columns. */
#include "test.h"
#include "base/io.h"
#include "data/lmscore.h"
#include "model/gpt2.h"
#include "tokenizer/tokenizer.h"

#include <omp.h>
#include <string.h>

static char *tmp;
#define NDOC 60

static const char *texts[NDOC];

static tok_tokenizer *make_tokenizer(void) {
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/data/fixtures/classify_train.jsonl", test_source_dir());
    FILE *f = fopen(path, "r");
    if (!f) TEST_SKIP("%s missing", path);
    static char lines[NDOC][2048];
    const char *seqs[NDOC];
    size_t lens[NDOC];
    for (int i = 0; i < NDOC; i++) {
        char l[1024];
        if (!fgets(l, sizeof l, f)) TEST_SKIP("fixture too short");
        json_t *o = json_loads(l, 0, NULL);
        /* every 7th document is three texts joined: longer than one window */
        snprintf(lines[i], 600, "%s", json_string_value(json_object_get(o, "text")));
        if (i % 7 == 3) {
            char one[600];
            snprintf(one, sizeof one, "%s", lines[i]);
            snprintf(lines[i], sizeof lines[i], "%s %s, %s.", one, one, one);
        }
        json_decref(o);
        texts[i] = lines[i];
        seqs[i] = lines[i];
        lens[i] = strlen(lines[i]);
    }
    fclose(f);
    const char *specials[] = {"<|endoftext|>"};
    tok_train_opts o = {300, "gpt2", specials, 1, 1, 1, NULL};
    tok_trainer *tr;
    lmc_err err = {0};
    CHECK(tok_trainer_new(&tr, &o, &err) == 0);
    CHECK(tok_trainer_feed(tr, seqs, lens, NDOC, &err) == 0);
    tok_tokenizer *t = NULL;
    CHECK_MSG(tok_trainer_finish(tr, &t, &err) == 0, "%s", err.msg);
    tok_trainer_free(tr);
    return t;
}

static gpt2_model *make_model(const char *dir, int vocab, int random, const tok_tokenizer *t) {
    gpt2_config c;
    gpt2_config_preset(&c, 0);
    c.n_layer = 2;
    c.n_head = 2;
    c.d_model = 32;
    c.max_seq = 32;
    c.vocab_size = vocab;
    lmc_err err = {0};
    CHECK_EQ_INT(gpt2_config_check(&c, &err), 0);
    gpt2_model *m = NULL;
    CHECK_EQ_INT(gpt2_create(&m, &c, &err), 0);
    if (random) gpt2_init_random(m, 5);
    CHECK_EQ_INT(lmc_mkdirs(dir, &err), 0);
    CHECK_MSG(gpt2_save_hf(m, dir, &err) == 0, "%s", err.msg);
    char tp[4200];
    snprintf(tp, sizeof tp, "%s/tokenizer.json", dir);
    CHECK_EQ_INT(tok_save_hf_json(t, tp, &err), 0);
    return m;
}

static json_t *run(const char *dir, const char *in, const char *out, int context, int buckets) {
    data_lmscore_cfg c;
    data_lmscore_cfg_default(&c);
    const char *ins[] = {in};
    c.inputs = ins;
    c.ninputs = 1;
    c.output = out;
    c.model_dir = dir;
    c.context = context;
    if (buckets) {
        c.quantiles[0] = 0.33;
        c.quantiles[1] = 0.66;
        c.nquantiles = 2;
    }
    json_t *rep = NULL;
    lmc_err err = {0};
    int rc = data_lmscore_run(&c, &rep, &err);
    CHECK_MSG(rc == 0, "%s", err.msg);
    return rep;
}

/* the output's lines parsed */
static json_t *lines_of(const char *path) {
    char *d;
    size_t l;
    lmc_err err = {0};
    CHECK_EQ_INT(lmc_read_file(path, &d, &l, &err), 0);
    json_t *a = json_array();
    for (char *p = d; *p;) {
        char *e = strchr(p, '\n');
        json_array_append_new(a, json_loadb(p, (size_t)(e - p), 0, NULL));
        p = e + 1;
    }
    free(d);
    return a;
}

/* exp(mean NLL) from the logits, windows of T tokens */
static double reference_ppl(gpt2_model *m, const tok_tokenizer *t, const char *text, int T) {
    tok_encoder *e;
    lmc_err err = {0};
    tok_encoder_new(&e, t, &err);
    tok_ids ids = {0};
    tok_ids_push(&ids, (uint32_t)tok_eot_id(t), &err);
    tok_encode(e, text, strlen(text), 0, &ids, &err);
    double s = 0;
    size_t n = 0;
    int32_t x[64];
    for (size_t k = 0; k + 1 < ids.n; k += (size_t)T) {
        int w = (int)(ids.n - 1 - k < (size_t)T ? ids.n - 1 - k : (size_t)T);
        for (int i = 0; i < w; i++) x[i] = (int32_t)ids.v[k + (size_t)i];
        CHECK_EQ_INT(gpt2_forward(m, x, NULL, 1, w, NULL, &err), 0);
        for (int i = 0; i < w; i++) {
            const float *lg = m->logits + (size_t)i * (size_t)m->cfg.padded_vocab;
            double mx = lg[0], z = 0;
            for (int v = 0; v < m->cfg.vocab_size; v++) mx = lg[v] > mx ? lg[v] : mx;
            for (int v = 0; v < m->cfg.vocab_size; v++) z += exp((double)lg[v] - mx);
            s += -((double)lg[ids.v[k + (size_t)i + 1]] - mx - log(z));
            n++;
        }
    }
    tok_ids_free(&ids);
    tok_encoder_free(e);
    return exp(s / (double)n);
}

int main(void) {
    omp_set_num_threads(2);   /* tiny matrices: more threads only oversubscribe a busy machine */
    tmp = test_tmpdir();
    tok_tokenizer *t = make_tokenizer();
    int V = (int)tok_n_vocab(t);
    CHECK(tok_eot_id(t) >= 0);
    char in[4200], out[4200], zdir[4200], rdir[4200];
    snprintf(in, sizeof in, "%s/in.jsonl", tmp);
    snprintf(out, sizeof out, "%s/out.jsonl", tmp);
    snprintf(zdir, sizeof zdir, "%s/zero", tmp);
    snprintf(rdir, sizeof rdir, "%s/rand", tmp);
    FILE *f = fopen(in, "w");
    for (int i = 0; i < NDOC; i++) fprintf(f, "{\"id\": %d, \"text\": \"%s\" } \n", i, texts[i]);
    fprintf(f, "{\"text\": \"\"}\n");   /* nothing to predict: null */
    fclose(f);

    gpt2_model *mz = make_model(zdir, V, 0, t);
    json_t *rep = run(zdir, in, out, 8, 0);
    json_t *ls = lines_of(out);
    CHECK_EQ_INT(json_array_size(ls), NDOC + 1);
    int okz = 1;
    for (int i = 0; i < NDOC; i++) okz &= fabs(json_real_value(json_object_get(json_array_get(ls, (size_t)i), "ppl")) - V) < 1e-3;
    CHECK_MSG(okz, "zero model: perplexity %g, expected %d", json_real_value(json_object_get(json_array_get(ls, 0), "ppl")), V);
    CHECK(json_is_null(json_object_get(json_array_get(ls, NDOC), "ppl")));
    CHECK_EQ_INT(json_integer_value(json_object_get(rep, "documents_without_score")), 1);
    json_decref(ls);
    json_decref(rep);

    gpt2_model *mr = make_model(rdir, V, 1, t);
    rep = run(rdir, in, out, 8, 1);
    ls = lines_of(out);
    json_t *thr = json_object_get(json_object_get(rep, "buckets"), "thresholds");
    double t0 = json_real_value(json_array_get(thr, 0)), t1 = json_real_value(json_array_get(thr, 1));
    CHECK(t0 < t1);
    int okr = 1, okb = 1, nb[3] = {0};
    double worst = 0;
    for (int i = 0; i < NDOC; i++) {
        json_t *o = json_array_get(ls, (size_t)i);
        double p = json_real_value(json_object_get(o, "ppl")), ref = reference_ppl(mr, t, texts[i], 8);
        double rel = fabs(p - ref) / ref;
        worst = rel > worst ? rel : worst;
        okr &= rel < 1e-4;
        const char *b = json_string_value(json_object_get(o, "ppl_bucket"));
        int want = ref <= t0 * (1 + 1e-4) ? 0 : ref <= t1 * (1 + 1e-4) ? 1 : 2;
        int got = !strcmp(b, "head") ? 0 : !strcmp(b, "middle") ? 1 : 2;
        /* at a threshold itself the 4-decimal column cannot decide: allow either side */
        okb &= got == want || fabs(ref - t0) / t0 < 1e-4 || fabs(ref - t1) / t1 < 1e-4;
        nb[got]++;
        CHECK_EQ_INT(json_integer_value(json_object_get(o, "id")), i);
    }
    printf("random model: worst relative difference to the reference perplexity %.2e; buckets %d/%d/%d\n", worst,
           nb[0], nb[1], nb[2]);
    CHECK(okr);
    CHECK(okb);
    CHECK(nb[0] >= 15 && nb[1] >= 15 && nb[2] >= 15);
    /* original bytes kept: the output line starts with the input line up to its closing brace */
    char *di, *dout;
    size_t li, lo;
    lmc_err err = {0};
    CHECK_EQ_INT(lmc_read_file(in, &di, &li, &err), 0);
    CHECK_EQ_INT(lmc_read_file(out, &dout, &lo, &err), 0);
    const char *p = di, *q = dout;
    int okbytes = 1;
    for (int i = 0; i < NDOC; i++) {
        const char *e = strstr(p, "} \n");
        size_t pre = (size_t)(e - p);
        okbytes &= !memcmp(p, q, pre) && !strncmp(q + pre, ",\"ppl\":", 7);
        const char *qe = strchr(q, '\n');
        okbytes &= qe - q >= 2 && !memcmp(qe - 2, "} ", 2);
        p = e + 3;
        q = qe + 1;
    }
    CHECK(okbytes);
    free(di);
    free(dout);
    json_decref(ls);
    json_decref(rep);
    /* DavIR: reference = the all-zero model (L_ref = ln V): davir = 1 - ln V / L_base; reference = the model
     * itself: 0 */
    {
        data_lmscore_cfg dc;
        data_lmscore_cfg_default(&dc);
        const char *din_[] = {in};
        dc.inputs = din_;
        dc.ninputs = 1;
        dc.output = out;
        dc.model_dir = rdir;
        dc.ref_model_dir = zdir;
        dc.context = 8;
        json_t *dr = NULL;
        CHECK_MSG(data_lmscore_run(&dc, &dr, &err) == 0, "%s", err.msg);
        json_decref(dr);
        json_t *dl = lines_of(out);
        int okd = 1;
        for (int i = 0; i < NDOC; i++) {
            double lb = log(reference_ppl(mr, t, texts[i], 8));
            double want = 1 - log((double)V) / lb;
            okd &= fabs(json_real_value(json_object_get(json_array_get(dl, (size_t)i), "davir")) - want) < 2e-6;
        }
        CHECK(okd);
        CHECK(json_is_null(json_object_get(json_array_get(dl, NDOC), "davir")));
        json_decref(dl);
        dc.ref_model_dir = rdir;
        CHECK_MSG(data_lmscore_run(&dc, &dr, &err) == 0, "%s", err.msg);
        json_decref(dr);
        dl = lines_of(out);
        int ok0 = 1;
        for (int i = 0; i < NDOC; i++) ok0 &= fabs(json_real_value(json_object_get(json_array_get(dl, (size_t)i), "davir"))) < 1e-6;
        CHECK(ok0);
        json_decref(dl);
    }
    /* a model whose vocabulary is smaller than the tokenizer's: an error naming the document */
    char sdir[4200];
    snprintf(sdir, sizeof sdir, "%s/small", tmp);
    gpt2_model *ms = make_model(sdir, 100, 1, t);
    data_lmscore_cfg c;
    data_lmscore_cfg_default(&c);
    const char *ins[] = {in};
    c.inputs = ins;
    c.ninputs = 1;
    c.output = out;
    c.model_dir = sdir;
    CHECK(data_lmscore_run(&c, &rep, &err) < 0);
    CHECK_STR_CONTAINS(err.msg, "outside the model's vocabulary");
    CHECK_STR_CONTAINS(err.msg, "in.jsonl:1");
    gpt2_free(ms);
    gpt2_free(mz);
    gpt2_free(mr);
    tok_free(t);
    lmc_remove_tree(tmp, NULL);
    free(tmp);
    return test_summary("test_data_lmscore");
}
