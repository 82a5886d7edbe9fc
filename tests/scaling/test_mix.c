/* Mixture of Data Experts (src/scaling/mix*.c, `lmc scaling mix`).
 *  - L_MDE against float64 numpy on synthetic float32 per-token losses (tests/scaling/fixtures/mde.json,
 *    written by tests/reference/make_mixing_fixtures.py), 1e-12 relative: the same log/exp in double,
 *    only the summation order differs;
 *  - the linear + MDE regression against numpy.linalg.lstsq, 1e-8 relative (a QR of a 7 x 4 system here,
 *    an SVD there; both well inside that for this conditioning);
 *  - the search: deterministic for a seed, never worse than the vertices and the uniform mixture, and
 *    on a problem with a known interior optimum it gets there;
 *  - end to end: two experts trained by `lmc train` on two synthetic domains; the expert-loss table that
 *    `lmc scaling mix` writes (α = e_i) equals `lmc eval`'s loss of that checkpoint on that shard to 1e-5
 *    (the same per-token losses summed in the same order, so in practice to the printed digits). */
#include <stdio.h>
#include <sys/wait.h>

#include "base/base.h"
#include "data/shard.h"
#include "scaling/mix.h"
#include "test.h"

static double num(const json_t *a, size_t i) { return json_number_value(json_array_get(a, i)); }

static void fixture(void) {
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/scaling/fixtures/mde.json", test_source_dir());
    lmc_err err = {0};
    json_t *root = lmc_json_load_file(path, &err);
    CHECK_MSG(root != NULL, "%s", err.msg);
    if (!root) return;
    int k = (int)json_integer_value(json_object_get(root, "k"));
    CHECK_EQ_INT(k, 3);
    uint64_t ntok[3];
    float *nll[3];
    for (int j = 0; j < k; j++) {
        ntok[j] = (uint64_t)json_integer_value(json_array_get(json_object_get(root, "ntok"), (size_t)j));
        const json_t *v = json_array_get(json_object_get(root, "nll"), (size_t)j);
        nll[j] = malloc(json_array_size(v) * sizeof(float));
        for (size_t t = 0; t < json_array_size(v); t++) nll[j][t] = (float)num(v, t);
    }
    mde_cache c;
    CHECK_EQ_INT(mde_cache_from(&c, k, ntok, (const float *const *)nll, &err), 0);
    double L[3], alpha[3];
    /* vertices: the expert's own mean loss, bit for bit (summed in token order as lmc eval does) */
    for (int i = 0; i < k; i++) {
        for (int q = 0; q < k; q++) alpha[q] = q == i;
        mde_loss(&c, alpha, L);
        for (int j = 0; j < k; j++) {
            double s = 0;
            for (uint64_t t = 0; t < ntok[j]; t++) s += nll[j][(size_t)i * ntok[j] + t];
            CHECK_MSG(L[j] == s / (double)ntok[j], "vertex %d domain %d: %.17g vs %.17g", i, j, L[j], s / (double)ntok[j]);
        }
    }
    json_t *e;
    size_t q;
    json_array_foreach(json_object_get(root, "evals"), q, e) {
        for (int i = 0; i < k; i++) alpha[i] = num(json_object_get(e, "alpha"), (size_t)i);
        mde_loss(&c, alpha, L);
        for (int j = 0; j < k; j++) CHECK_CLOSE(L[j], num(json_object_get(e, "l_mde"), (size_t)j), 0, 1e-12);
    }
    /* regression */
    json_t *runs = json_object_get(root, "runs");
    int n = (int)json_array_size(json_object_get(runs, "alpha")) / k;
    double *ra = malloc((size_t)n * k * sizeof *ra), *rl = malloc((size_t)n * k * sizeof *rl);
    for (int i = 0; i < n * k; i++) {
        ra[i] = num(json_object_get(runs, "alpha"), (size_t)i);
        rl[i] = num(json_object_get(runs, "loss"), (size_t)i);
    }
    mde_regression g;
    int rc = mde_regression_fit(&g, &c, ra, rl, n, &err);
    CHECK_MSG(rc == 0, "%s", err.msg);
    if (rc == 0) {
        for (int j = 0; j < k; j++) {
            const json_t *cj = json_array_get(json_object_get(runs, "coef"), (size_t)j);
            for (int p = 0; p <= k; p++) CHECK_CLOSE(g.coef[j * (k + 1) + p], num(cj, (size_t)p), 1e-10, 1e-8);
            CHECK_CLOSE(g.rmse[j], num(json_object_get(runs, "rmse"), (size_t)j), 1e-12, 1e-6);
        }
        mde_regression_free(&g);
    }
    /* too few runs, and runs that repeat one mixture, are refused */
    CHECK(mde_regression_fit(&g, &c, ra, rl, k, &err) < 0);
    CHECK_STR_CONTAINS(err.msg, "needs at least 4 runs");
    for (int r = 1; r < n; r++) memcpy(ra + r * k, ra, (size_t)k * sizeof *ra);
    CHECK(mde_regression_fit(&g, &c, ra, rl, n, &err) < 0);
    CHECK_STR_CONTAINS(err.msg, "determine only");

    /* search: deterministic, at least as good as every vertex and the uniform mixture */
    mde_search_opts o = {NULL, 64, 1.0, 64, 7, NULL, NULL, 0};
    mde_candidate *c1, *c2;
    int n1, n2;
    CHECK_EQ_INT(mde_search(&c, &o, &c1, &n1, &err), 0);
    CHECK_EQ_INT(mde_search(&c, &o, &c2, &n2, &err), 0);
    CHECK_EQ_INT(n1, k + 1 + 64 + 64);
    CHECK_EQ_INT(n1, n2);
    for (int i = 0; i < n1 && i < n2; i++) {
        CHECK(c1[i].objective == c2[i].objective);
        for (int j = 0; j < k; j++) CHECK(c1[i].alpha[j] == c2[i].alpha[j]);
    }
    for (int i = 1; i < n1; i++) CHECK(c1[i].objective >= c1[0].objective);
    double s = 0;
    for (int j = 0; j < k; j++) s += c1[0].alpha[j];
    CHECK_CLOSE(s, 1.0, 1e-12, 0);
    mde_candidates_free(c2, n2);
    o.seed = 8;
    CHECK_EQ_INT(mde_search(&c, &o, &c2, &n2, &err), 0);
    CHECK(c2[k + 1].objective != c1[k + 1].objective || c2[0].alpha[0] != c1[0].alpha[0]); /* another seed, other draws */
    mde_candidates_free(c1, n1);
    mde_candidates_free(c2, n2);
    /* given mixtures are scored as candidates: the fixture's last α, with its numpy L_MDE */
    json_t *lastev = json_array_get(json_object_get(root, "evals"), json_array_size(json_object_get(root, "evals")) - 1);
    double given[3];
    for (int i = 0; i < k; i++) given[i] = num(json_object_get(lastev, "alpha"), (size_t)i);
    o.given = given;
    o.n_given = 1;
    CHECK_EQ_INT(mde_search(&c, &o, &c1, &n1, &err), 0);
    int seen = 0;
    for (int i = 0; i < n1; i++)
        if (c1[i].origin == MDE_CAND_GIVEN) {
            seen++;
            CHECK_EQ_INT(c1[i].index, k + 1); /* after the vertices and uniform */
            for (int j = 0; j < k; j++) CHECK_CLOSE(c1[i].lmde[j], num(json_object_get(lastev, "l_mde"), (size_t)j), 0, 1e-12);
        }
    CHECK_EQ_INT(seen, 1);
    mde_candidates_free(c1, n1);
    given[0] += 0.5; /* no longer sums to 1 */
    CHECK(mde_search(&c, &o, &c1, &n1, &err) < 0);
    CHECK_STR_CONTAINS(err.msg, "given mixture 1");
    o.n_given = 0;
    o.concentration = 0;
    CHECK(mde_search(&c, &o, &c1, &n1, &err) < 0);
    CHECK_STR_CONTAINS(err.msg, "concentration");
    mde_cache_free(&c);
    for (int j = 0; j < k; j++) free(nll[j]);
    free(ra);
    free(rl);
    json_decref(root);
}

/* Two domains, each half of its tokens easy for one expert: ℓ = a or b nats. With P_MDE = α p1 + (1-α) p2
 * the optimum of the mean over both domains is α = 1/2 by symmetry; the search must find it closely. */
static void known_optimum(void) {
    enum { N = 100 };
    float d1[2 * N], d2[2 * N];
    for (int t = 0; t < N; t++) {
        d1[t] = 0.1f;            /* expert 1 on domain 1 */
        d1[N + t] = 3.0f;        /* expert 2 on domain 1 */
        d2[t] = 3.0f;            /* expert 1 on domain 2 */
        d2[N + t] = 0.1f;        /* expert 2 on domain 2 */
    }
    const float *nll[2] = {d1, d2};
    uint64_t ntok[2] = {N, N};
    mde_cache c;
    lmc_err err = {0};
    CHECK_EQ_INT(mde_cache_from(&c, 2, ntok, nll, &err), 0);
    mde_search_opts o = {NULL, 16, 1.0, 200, 1, NULL, NULL, 0};
    mde_candidate *cd;
    int n;
    CHECK_EQ_INT(mde_search(&c, &o, &cd, &n, &err), 0);
    /* uniform is a candidate and is optimal; refinement may only find points equal to it up to rounding */
    CHECK_CLOSE(cd[0].alpha[0], 0.5, 1e-6, 0);
    for (int i = 0; i < n; i++)
        if (cd[i].origin == MDE_CAND_UNIFORM) CHECK_CLOSE(cd[i].objective, cd[0].objective, 1e-14, 0);
    mde_candidates_free(cd, n);
    /* domain 1 weighted 3:1: the optimum moves toward expert 1. Objective 3 f1 + f2 with
     * f_j(α) = -log(α e^-a + (1-α) e^-b) terms; its stationary point solved by bisection here. */
    double dw[2] = {3, 1};
    o.domain_weight = dw;
    CHECK_EQ_INT(mde_search(&c, &o, &cd, &n, &err), 0);
    double p = exp(-0.1f), qv = exp(-3.0f), lo = 0, hi = 1;
    for (int it = 0; it < 200; it++) { /* d/dα [3 -log(αp+(1-α)q) - log(αq+(1-α)p)] = 0 */
        double a = 0.5 * (lo + hi);
        double g = -3 * (p - qv) / (a * p + (1 - a) * qv) - (qv - p) / (a * qv + (1 - a) * p);
        if (g < 0) lo = a; else hi = a;
    }
    CHECK_CLOSE(cd[0].alpha[0], 0.5 * (lo + hi), 2e-3, 0);
    CHECK(cd[0].alpha[0] > 0.6);
    mde_candidates_free(cd, n);
    mde_cache_free(&c);
    /* errors */
    uint64_t zero[2] = {N, 0};
    CHECK(mde_cache_from(&c, 2, zero, nll, &err) < 0);
    CHECK_STR_CONTAINS(err.msg, "domain 2 has no validation tokens");
    CHECK(mde_cache_from(&c, 1, ntok, nll, &err) < 0);
}

static void runs_csv(void) {
    char *dir = test_tmpdir();
    lmc_err err = {0};
    char *p = lmc_path_join(dir, "runs.csv");
    const char *names[2] = {"wiki", "code"};
    const char *good = "run,w_code,w_wiki,loss_wiki,loss_code\nr1,1,3,4.5,2.25\n\nr2,0.5,0.5,4.75,2.0\n";
    CHECK_EQ_INT(lmc_write_file_atomic(p, good, strlen(good), &err), 0);
    double *a, *l;
    int n;
    CHECK_EQ_INT(mde_runs_load_csv(p, names, 2, &a, &l, &n, &err), 0);
    CHECK_EQ_INT(n, 2);
    if (n == 2) {
        CHECK_CLOSE(a[0], 0.75, 1e-15, 0); /* normalised, in --names order */
        CHECK_CLOSE(a[1], 0.25, 1e-15, 0);
        CHECK_CLOSE(l[0], 4.5, 0, 0);
        CHECK_CLOSE(l[1], 2.25, 0, 0);
        CHECK_CLOSE(l[3], 2.0, 0, 0);
    }
    free(a);
    free(l);
    const char *nocol = "w_wiki,loss_wiki,loss_code\n1,2,3\n";
    CHECK_EQ_INT(lmc_write_file_atomic(p, nocol, strlen(nocol), &err), 0);
    CHECK(mde_runs_load_csv(p, names, 2, &a, &l, &n, &err) < 0);
    CHECK_STR_CONTAINS(err.msg, "runs.csv:1: the header has no column \"w_code\"");
    const char *bad = "w_wiki,w_code,loss_wiki,loss_code\n1,1,2,3\n1,x,2,3\n";
    CHECK_EQ_INT(lmc_write_file_atomic(p, bad, strlen(bad), &err), 0);
    CHECK(mde_runs_load_csv(p, names, 2, &a, &l, &n, &err) < 0);
    CHECK_STR_CONTAINS(err.msg, "runs.csv:3: field 2 (w_code) is \"x\"");
    const char *short_ = "w_wiki,w_code,loss_wiki,loss_code\n1,1,2\n";
    CHECK_EQ_INT(lmc_write_file_atomic(p, short_, strlen(short_), &err), 0);
    CHECK(mde_runs_load_csv(p, names, 2, &a, &l, &n, &err) < 0);
    CHECK_STR_CONTAINS(err.msg, "3 fields, but the header has 4");
    free(p);
    lmc_remove_tree(dir, &err);
    free(dir);
}

/* Domain d's stream: a noisy cycle with its own stride, so each expert is better on its own domain. */
static void domain_shard(const char *path, size_t n, int stride, uint64_t seed) {
    lmc_rng r;
    lmc_rng_init(&r, seed);
    uint32_t *t = malloc(n * sizeof *t);
    for (size_t i = 0; i < n; i++)
        t[i] = lmc_rng_below(&r, 5) == 0 ? (uint32_t)lmc_rng_below(&r, 64) : (uint32_t)((i * (size_t)stride) % 64);
    lmc_shard_writer w;
    lmc_err err;
    if (lmc_shard_writer_open(&w, path, 64, &err) || lmc_shard_writer_put(&w, t, n, &err) ||
        lmc_shard_writer_commit(&w, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        exit(1);
    }
    free(t);
}

static double json_field(const char *path, const char *key) {
    lmc_err err = {0};
    json_t *j = lmc_json_load_file(path, &err);
    if (!j) return NAN;
    double v = json_number_value(json_object_get(j, key));
    json_decref(j);
    return v;
}

static void end_to_end(void) {
    const char *bin = getenv("LMC_BIN");
    char cmd[16384];
    if (!bin) {
        fprintf(stderr, "note: LMC_BIN not set, end-to-end part not run\n");
        return;
    }
    snprintf(cmd, sizeof cmd, "%s train --help > /dev/null 2>&1", bin);
    if (system(cmd) != 0) {
        fprintf(stderr, "note: this lmc has no train command, end-to-end part not run\n");
        return;
    }
    char *dir = test_tmpdir();
    lmc_err err = {0};
    const int strides[2] = {1, 7};
    for (int d = 0; d < 2; d++) {
        char p[4200];
        snprintf(p, sizeof p, "%s/train%d.bin", dir, d);
        domain_shard(p, 4000, strides[d], 10 + (uint64_t)d);
        snprintf(p, sizeof p, "%s/val%d.bin", dir, d);
        domain_shard(p, 700, strides[d], 20 + (uint64_t)d);
    }
    const char *cfg =
        "run: {name: expert, seed: 5, log_every: 10, sample_every: 0}\n"
        "model: {n_layer: 1, n_head: 2, d_model: 32, seq_len: 16, vocab_size: 64}\n"
        "train: {steps: 30, batch_size: 4, micro_batch: 4, lr: 0.01, warmup_steps: 3, eval_every: 0,\n"
        "        checkpoint_every: 30, keep_checkpoints: 1, threads: 1}\n";
    char *cp = lmc_path_join(dir, "cfg.yaml");
    CHECK_EQ_INT(lmc_write_file_atomic(cp, cfg, strlen(cfg), &err), 0);
    int ok = 1;
    for (int d = 0; d < 2 && ok; d++) {
        snprintf(cmd, sizeof cmd,
                 "cd %s && %s train -q cfg.yaml --set run.dir=e%d --set data.train=train%d.bin --set data.val=val%d.bin "
                 "--set data.tokenizer= > /dev/null 2>> err.txt",
                 dir, bin, d, d, d);
        int st = system(cmd);
        ok = WIFEXITED(st) && WEXITSTATUS(st) == 0;
        CHECK_MSG(ok, "lmc train failed (see %s/err.txt)", dir);
    }
    if (ok) {
        snprintf(cmd, sizeof cmd,
                 "cd %s && %s scaling mix --expert e0/expert/checkpoints/step_00000030 --val val0.bin "
                 "--expert e1/expert/checkpoints/step_00000030 --val val1.bin --names a,b --seq-len 16 --samples 32 "
                 "--refine 32 --threads 1 --eval 3,1 -o mix.json > mix.txt 2>> err.txt",
                 dir, bin);
        CHECK_EQ_INT(system(cmd), 0);
        char *mp = lmc_path_join(dir, "mix.json");
        json_t *mj = lmc_json_load_file(mp, &err);
        CHECK_MSG(mj != NULL, "%s", err.msg);
        free(mp);
        for (int i = 0; mj && i < 2; i++)
            for (int j = 0; j < 2; j++) {
                snprintf(cmd, sizeof cmd,
                         "cd %s && %s eval --model e%d/expert/checkpoints/step_00000030 --data val%d.bin --seq-len 16 "
                         "--threads 1 > eval_%d_%d.json 2>> err.txt",
                         dir, bin, i, j, i, j);
                CHECK_EQ_INT(system(cmd), 0);
                char ep[4200];
                snprintf(ep, sizeof ep, "%s/eval_%d_%d.json", dir, i, j);
                double ev = json_field(ep, "loss");
                double mv = json_number_value(json_array_get(json_array_get(json_object_get(mj, "expert_loss"), (size_t)i), (size_t)j));
                CHECK_MSG(fabs(ev - mv) <= 1e-5, "expert %d on domain %d: lmc eval %.9g, lmc scaling mix %.9g", i, j, ev, mv);
                if (i == j) CHECK(isfinite(mv) && mv < 4.16); /* learned something: below ln 64 */
            }
        if (mj) {
            /* own-domain experts are better: the diagonal wins, and the proposal mixes both */
            const json_t *el = json_object_get(mj, "expert_loss");
            CHECK(num(json_array_get(el, 0), 0) < num(json_array_get(el, 1), 0));
            CHECK(num(json_array_get(el, 1), 1) < num(json_array_get(el, 0), 1));
            const json_t *pa = json_object_get(json_object_get(mj, "proposal"), "alpha");
            CHECK(num(pa, 0) > 0.05 && num(pa, 1) > 0.05);
            /* --eval 3,1 is scored, normalised to (0.75, 0.25) */
            int given = 0;
            json_t *cd;
            size_t ci;
            json_array_foreach(json_object_get(mj, "candidates"), ci, cd) {
                if (strcmp(json_string_value(json_object_get(cd, "origin")), "given") != 0) continue;
                given++;
                CHECK_CLOSE(num(json_object_get(cd, "alpha"), 0), 0.75, 1e-15, 0);
            }
            CHECK_EQ_INT(given, 1);
            json_decref(mj);
        }
        /* a mismatched count is a usage error naming both options */
        snprintf(cmd, sizeof cmd,
                 "cd %s && %s scaling mix --expert e0/expert/checkpoints/step_00000030 --val val0.bin "
                 "--expert e1/expert/checkpoints/step_00000030 --seq-len 16 > /dev/null 2> usage.txt",
                 dir, bin);
        int st = system(cmd);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 2);
        /* a shard too short for one window names the shard */
        char sp[4200];
        snprintf(sp, sizeof sp, "%s/tiny.bin", dir);
        domain_shard(sp, 10, 1, 3);
        snprintf(cmd, sizeof cmd,
                 "cd %s && %s scaling mix --expert e0/expert/checkpoints/step_00000030 --val val0.bin "
                 "--expert e1/expert/checkpoints/step_00000030 --val tiny.bin --seq-len 16 > /dev/null 2> short.txt",
                 dir, bin);
        st = system(cmd);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 1);
        char *txt = NULL;
        size_t len;
        snprintf(sp, sizeof sp, "%s/short.txt", dir);
        if (lmc_read_file(sp, &txt, &len, &err) == 0) {
            CHECK_STR_CONTAINS(txt, "tiny.bin: 10 tokens is not enough for one window of 16 + 1");
            free(txt);
        }
    }
    free(cp);
    if (!lmc_test_failures) lmc_remove_tree(dir, &err);
    else fprintf(stderr, "note: files kept in %s\n", dir);
    free(dir);
}

int main(void) {
    fixture();
    known_optimum();
    runs_csv();
    end_to_end();
    return test_summary("scaling/mix");
}
