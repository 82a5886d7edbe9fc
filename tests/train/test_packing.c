/* Seamless packing (data.packing: seamless, src/train/packing.h): the sliding-window rule on hand-made
 * documents, every document token in some window or counted as dropped (and nothing else dropped), the
 * token balance window = document + overlap - dropped + padding, windows of exactly seq_len + 1 tokens
 * whose pieces are spans of one document, padding with target -1, determinism (a pure function of the
 * shards), and a trainer run with seamless packing + doc_mask that resumes bitwise. */
#include "test.h"
#include "tiny_run.h"
#include "train/loader.h"
#include "train/packing.h"
#include "train/train.h"

enum { SEP = 0, VOCAB = 5000 };

/* A shard of documents of the given lengths: SEP then distinct tokens (their shard offset mod VOCAB). */
static void doc_shard(const char *path, const int *lens, int n) {
    size_t tot = 0;
    for (int i = 0; i < n; i++) tot += (size_t)lens[i];
    uint32_t *t = malloc(tot * sizeof *t);
    size_t k = 0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < lens[i]; j++, k++) t[k] = j == 0 ? SEP : (uint32_t)(1 + k % (VOCAB - 1));
    lmc_shard_writer w;
    lmc_err err;
    if (lmc_shard_writer_open(&w, path, VOCAB, &err) || lmc_shard_writer_put(&w, t, tot, &err) ||
        lmc_shard_writer_commit(&w, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        exit(1);
    }
    free(t);
}

/* Coverage of every shard position, and the table's own invariants. */
static void check_table(const train_loader *l, const train_packing *p, int pad) {
    const uint64_t L = (uint64_t)p->L;
    uint64_t tot = 0;
    for (size_t s = 0; s < l->nshards; s++) tot += l->shards[s].s.ntok;
    CHECK_EQ_INT(p->doc_tokens, tot);
    int **cov = calloc(l->nshards, sizeof *cov);
    for (size_t s = 0; s < l->nshards; s++) cov[s] = calloc(l->shards[s].s.ntok, sizeof(int));
    uint64_t padding = 0;
    int ok_doc = 1;
    for (uint64_t w = 0; w < p->nwin; w++) {
        uint64_t used = 0;
        for (uint64_t i = p->win_off[w]; i < p->win_off[w + 1]; i++) {
            const train_piece *pc = &p->pieces[i];
            const lmc_shard *sh = &l->shards[pc->shard].s;
            CHECK(pc->len > 0 && pc->start + pc->len <= sh->ntok);
            for (uint64_t j = 0; j < pc->len; j++) {
                cov[pc->shard][pc->start + j]++;
                if (j > 0 && lmc_shard_get(sh, pc->start + j) == SEP) ok_doc = 0;  /* a piece is inside one document */
            }
            used += pc->len;
        }
        CHECK(used <= L);
        if (!pad) CHECK_EQ_INT(used, L);
        padding += L - used;
    }
    CHECK(ok_doc);
    uint64_t zero = 0, extra = 0;
    for (size_t s = 0; s < l->nshards; s++)
        for (uint64_t k = 0; k < l->shards[s].s.ntok; k++) {
            zero += cov[s][k] == 0;
            extra += cov[s][k] > 1 ? (uint64_t)cov[s][k] - 1 : 0;
        }
    CHECK_EQ_INT(zero, p->dropped_tokens);
    CHECK_EQ_INT(extra, p->overlap_tokens);
    CHECK_EQ_INT(padding, p->pad_tokens);
    CHECK_EQ_INT(p->window_tokens, p->doc_tokens + p->overlap_tokens - p->dropped_tokens + p->pad_tokens);
    if (pad) CHECK_EQ_INT(p->dropped_tokens, 0);
    for (size_t s = 0; s < l->nshards; s++) free(cov[s]);
    free(cov);
}

static void test_table(const char *dir) {
    char p[4200], glob[4200];
    /* T = 9 -> L = 10, r = 0.3.  25: n = 2, 25 + ceil(2 * 0.3 * 10) = 31 >= 30 -> sliding, X = 5, o = 3: windows
     * at 0, 7, 15.  22: 22 + 6 < 30 -> windows at 0, 10 and a tail of 2.  10: one window.  The rest short. */
    const int a[] = {25, 22, 10, 3, 4, 7, 6, 1, 9, 8, 2, 5};
    const int b[] = {13, 30, 6, 6, 6, 4};
    snprintf(p, sizeof p, "%s/d_000.bin", dir);
    doc_shard(p, a, (int)(sizeof a / sizeof a[0]));
    snprintf(p, sizeof p, "%s/d_001.bin", dir);
    doc_shard(p, b, (int)(sizeof b / sizeof b[0]));
    snprintf(glob, sizeof glob, "%s/d_*.bin", dir);
    lmc_err err = {0};
    for (int pad = 0; pad <= 1; pad++) {
        train_loader l, l2;
        CHECK_EQ_INT(train_loader_open(&l, glob, 9, 1, 1, VOCAB, LMC_SHARD_LLMC, &err), 0);
        CHECK_EQ_INT(train_loader_open(&l2, glob, 9, 2, 1, VOCAB, LMC_SHARD_LLMC, &err), 0);
        train_packing_params pp = {0.3, 2, pad, SEP};
        CHECK_MSG(train_loader_set_packing(&l, &pp, &err) == 0, "%s", err.msg);
        CHECK_MSG(train_loader_set_packing(&l2, &pp, &err) == 0, "%s", err.msg);
        const train_packing *t = l.pack;
        /* the first three windows are document 0's sliding windows, then document 1's two */
        CHECK_EQ_INT(t->pieces[0].start, 0);
        CHECK_EQ_INT(t->pieces[1].start, 7);
        CHECK_EQ_INT(t->pieces[2].start, 15);
        CHECK_EQ_INT(t->pieces[3].start, 25);
        CHECK_EQ_INT(t->pieces[4].start, 35);
        CHECK_EQ_INT(t->pieces[5].start, 47);  /* document 2, exactly L */
        CHECK_EQ_INT(t->overlap_tokens, 3 * 10 - 25);  /* only document 0 slides (b's 30 is 3 L exactly) */
        check_table(&l, t, pad);
        /* a pure function of the shards: another seed, the same table */
        CHECK_EQ_INT(l2.pack->nwin, t->nwin);
        CHECK(!memcmp(l2.pack->win_off, t->win_off, (t->nwin + 1) * sizeof(uint64_t)));
        CHECK(!memcmp(l2.pack->pieces, t->pieces, t->npieces * sizeof(train_piece)));
        /* the loader hands out table windows: inputs/targets shifted by one, padding = SEP input, -1 target */
        int32_t in[9], tg[9];
        int padded = 0;
        for (uint64_t w = 0; w < l.nseq; w++) {
            CHECK_EQ_INT(train_loader_fixed(&l, w, 1, in, tg, &err), 0);
            uint64_t used = 0;
            for (uint64_t i = t->win_off[w]; i < t->win_off[w + 1]; i++) used += t->pieces[i].len;
            for (uint64_t k = 0; k + 1 < 9; k++)
                if (k + 1 < used) CHECK(tg[k] == in[k + 1]);
            for (uint64_t k = used ? used - 1 : 0; k < 9; k++) CHECK_EQ_INT(tg[k], -1);
            for (uint64_t k = used; k < 9; k++) CHECK_EQ_INT(in[k], SEP);
            padded += used < 10;
            CHECK_EQ_INT(in[0], lmc_shard_get(&l.shards[t->pieces[t->win_off[w]].shard].s, t->pieces[t->win_off[w]].start));
        }
        CHECK(pad ? padded > 0 : padded == 0);
        char line[512];
        train_packing_describe(t, line, sizeof line);
        printf("pad=%d: %s\n", pad, line);
        /* a whole epoch of windows through the shuffled reader */
        int32_t all[64 * 9], tga[64 * 9];
        CHECK(l.nseq <= 64);
        CHECK_EQ_INT(train_loader_next(&l, (int64_t)l.nseq, all, tga, &err), 0);
        train_loader_close(&l);
        train_loader_close(&l2);
    }
    /* bad parameters and data name what is wrong */
    train_loader l;
    CHECK_EQ_INT(train_loader_open(&l, glob, 9, 1, 1, VOCAB, LMC_SHARD_LLMC, &err), 0);
    train_packing_params bad = {1.5, 2, 0, SEP};
    CHECK(train_loader_set_packing(&l, &bad, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "packing_overlap");
    train_packing_params nosep = {0.3, 2, 0, -1};
    CHECK(train_loader_set_packing(&l, &nosep, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "end-of-text");
    train_loader_close(&l);
}

/* A bigger random table: many documents, all invariants, FFD's bins never over capacity before the cut. */
static void test_random(const char *dir) {
    lmc_rng r;
    lmc_rng_init(&r, 99);
    int lens[400];
    for (int i = 0; i < 400; i++) lens[i] = 1 + (int)lmc_rng_below(&r, lmc_rng_below(&r, 4) ? 40 : 300);
    char p[4200];
    snprintf(p, sizeof p, "%s/r.bin", dir);
    doc_shard(p, lens, 400);
    lmc_err err = {0};
    for (int pad = 0; pad <= 1; pad++) {
        train_loader l;
        CHECK_EQ_INT(train_loader_open(&l, p, 63, 1, 1, VOCAB, LMC_SHARD_LLMC, &err), 0);
        train_packing_params pp = {0.3, 5, pad, SEP};
        CHECK_MSG(train_loader_set_packing(&l, &pp, &err) == 0, "%s", err.msg);
        check_table(&l, l.pack, pad);
        char line[512];
        train_packing_describe(l.pack, line, sizeof line);
        printf("random pad=%d: %s\n", pad, line);
        train_loader_close(&l);
    }
}

static int run(const train_config *c, int resume, int64_t stop_at, train_result *res, lmc_err *err) {
    train_opts o;
    memset(&o, 0, sizeof o);
    o.resume = resume;
    o.stop_at = stop_at;
    return train_run(c, &o, res, err);
}

/* The trainer with seamless packing and doc_mask: stopped and resumed = uninterrupted, bitwise. */
static void test_resume(const char *dir) {
    train_config a, b;
    train_result res;
    lmc_err err = {0};
    tiny_config(&a, dir, "pa");
    tiny_config(&b, dir, "pb");
    train_config *cs[2] = {&a, &b};
    for (int i = 0; i < 2; i++) {
        snprintf(cs[i]->data_packing, sizeof cs[i]->data_packing, "seamless");
        snprintf(cs[i]->doc_mask, sizeof cs[i]->doc_mask, "true");
        cs[i]->doc_sep_id = 0;  /* tiny_shard's counter passes 0 every 64 tokens: documents up to 64 long */
        cs[i]->packing_extra = 3;
    }
    CHECK_MSG(run(&a, 0, 0, &res, &err) == 0, "%s", err.msg);
    CHECK_EQ_INT(res.step, 12);
    CHECK_MSG(run(&b, 0, 7, &res, &err) == 0, "%s", err.msg);
    CHECK_MSG(run(&b, 1, 0, &res, &err) == 0, "%s", err.msg);
    CHECK_EQ_INT(res.step, 12);
    char *ma = tiny_metrics(&a), *mb = tiny_metrics(&b);
    CHECK_MSG(ma && mb && !strcmp(ma, mb), "metrics differ:\n--- uninterrupted\n%s--- resumed\n%s", ma, mb);
    char da[4200], db[4200];
    snprintf(da, sizeof da, "%s/runs/pa/checkpoints/step_00000012", dir);
    snprintf(db, sizeof db, "%s/runs/pb/checkpoints/step_00000012", dir);
    size_t la = 0, lb = 0;
    char *x = tiny_file(da, "model.safetensors", &la), *y = tiny_file(db, "model.safetensors", &lb);
    CHECK(x && y && la == lb && !memcmp(x, y, la));
    free(x); free(y);
    /* the packing statistics are in train.log, and the checkpoint keeps doc_mask */
    x = tiny_file(dir, "runs/pa/train.log", &la);
    CHECK(x && strstr(x, "seamless packing:") && strstr(x, "padding"));
    free(x);
    x = tiny_file(da, "config.json", &la);
    CHECK(x && strstr(x, "\"doc_mask\": true"));
    free(x);
    free(ma); free(mb);
}

/* No separator anywhere (no tokenizer, doc_sep_id -1): both switches refuse to start, naming the key. */
static void test_config_errors(const char *dir) {
    train_config c;
    train_result res;
    lmc_err err = {0};
    tiny_config(&c, dir, "perr");
    snprintf(c.data_packing, sizeof c.data_packing, "seamless");
    CHECK(run(&c, 0, 0, &res, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "data.packing");
    tiny_config(&c, dir, "perr2");
    snprintf(c.doc_mask, sizeof c.doc_mask, "true");
    CHECK(run(&c, 0, 0, &res, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "model.doc_mask");
}

int main(void) {
    char *dir = test_tmpdir();
    test_table(dir);
    test_random(dir);
    test_resume(dir);
    test_config_errors(dir);
    return test_summary("test_packing");
}
