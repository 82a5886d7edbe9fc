/* End to end through the lmc binary: fit --json -> predict; plan -> (synthetic finished runs) ->
 * collect -> fit; shapes files; powerlines. Plus the Power Lines arithmetic. */
#include <stdarg.h>
#include <stdio.h>
#include <sys/wait.h>

#include "base/base.h"
#include "scaling/scaling.h"
#include "test.h"

static const char *bin;
static char *dir;

static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int run(const char *fmt, ...) {
    char cmd[16384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static char *slurp(const char *name) {
    char *p = lmc_path_join(dir, name), *txt = NULL;
    size_t len;
    lmc_err err;
    if (lmc_read_file(p, &txt, &len, &err) < 0) txt = NULL;
    free(p);
    return txt;
}

static json_t *load_json(const char *name) {
    char *p = lmc_path_join(dir, name);
    lmc_err err = {0};
    json_t *j = lmc_json_load_file(p, &err);
    CHECK_MSG(j != NULL, "%s", err.msg);
    free(p);
    return j;
}

static double num(const json_t *o, const char *k) { return json_number_value(json_object_get(o, k)); }
static int64_t inum(const json_t *o, const char *sec, const char *k) {
    return json_integer_value(json_object_get(json_object_get(o, sec), k));
}

static void test_powerlines_math(void) {
    double B = 256 * 2048.0, D = 2e10, lr = 3e-3;
    for (double tau = 0.05; tau < 2; tau *= 1.7) {
        double wd = scaling_wd_for_tau(B, lr, D, tau);
        CHECK_CLOSE(scaling_tau(B, lr, wd, D), tau, 0, 1e-14);       /* round trip */
        CHECK_CLOSE(scaling_wd_for_tau(2 * B, lr, D, tau), 2 * wd, 0, 1e-15); /* doubling B doubles lambda */
    }
    CHECK_CLOSE(scaling_tau_opt(20, SCALING_C_TAU, SCALING_M_TAU), pow(20, -0.52), 0, 1e-15);
    CHECK_CLOSE(scaling_tau_opt(20, SCALING_C_TAU, SCALING_M_TAU), 0.21, 0.005, 0); /* the paper's anchor */
    /* 4x the tokens per parameter: tau_opt falls by 4^0.52 ≈ 2.06 */
    CHECK_CLOSE(scaling_tau_opt(20, 1, -0.52) / scaling_tau_opt(80, 1, -0.52), pow(4, 0.52), 0, 1e-14);
}

int main(void) {
    test_powerlines_math();
    bin = getenv("LMC_BIN");
    if (!bin) TEST_SKIP("LMC_BIN not set");
    dir = test_tmpdir();
    lmc_err err = {0};
    char synth[4096];
    snprintf(synth, sizeof synth, "%s/tests/scaling/fixtures/scaling_synth_runs.csv", test_source_dir());

    /* fit --json: exactly one line; the keys. */
    CHECK_EQ_INT(run("%s scaling fit %s --json --bootstrap 16 --plot %s/fit.svg > %s/fit.json", bin, synth, dir, dir), 0);
    char *txt = slurp("fit.json");
    CHECK(txt && strchr(txt, '\n') == txt + strlen(txt) - 1);
    free(txt);
    json_t *fj = load_json("fit.json");
    scaling_law law;
    char *fpath = lmc_path_join(dir, "fit.json");
    CHECK_MSG(scaling_law_load_json(fpath, &law, &err) == 0, "%s", err.msg);
    if (fj) {
        static const char *const keys[] = {"E", "A", "B", "alpha", "beta", "objective", "N_opt_exp", "bootstrap"};
        for (int k = 0; k < 8; k++) CHECK_MSG(json_object_get(fj, keys[k]) != NULL, "key %s", keys[k]);
        CHECK_CLOSE(num(fj, "alpha"), 0.3876, 0.002, 0); /* SciPy's optimum on this file (fixture) */
        json_t *bs = json_object_get(fj, "bootstrap");
        CHECK_EQ_INT(json_integer_value(json_object_get(bs, "K")), 16);
        CHECK(num(json_object_get(bs, "se"), "alpha") > 0 && num(json_object_get(bs, "se"), "alpha") < 0.2);
        json_t *ci = json_object_get(bs, "alpha");
        CHECK(json_array_size(ci) == 2 && num(fj, "alpha") > json_number_value(json_array_get(ci, 0)) - 1e-9 &&
              num(fj, "alpha") < json_number_value(json_array_get(ci, 1)) + 1e-9);
        json_decref(fj);
    }
    txt = slurp("fit.svg");
    CHECK(txt != NULL);
    if (txt) {
        CHECK(strncmp(txt, "<svg", 4) == 0);
        CHECK_STR_CONTAINS(txt, "</svg>");
        CHECK_STR_CONTAINS(txt, "<polyline");
        int circles = 0;
        for (const char *p = txt; (p = strstr(p, "<circle")); p++) circles++;
        CHECK_EQ_INT(circles, 48 + 6); /* the runs and the legend */
        free(txt);
    }

    /* --holdout: fit without the largest-FLOP runs, report the extrapolation error */
    CHECK_EQ_INT(run("%s scaling fit %s --json --holdout 0.25 > %s/ho.json", bin, synth, dir), 0);
    json_t *ho = load_json("ho.json");
    if (ho) {
        json_t *h = json_object_get(ho, "holdout");
        CHECK_EQ_INT(json_integer_value(json_object_get(h, "n")), 12);
        CHECK_EQ_INT(json_integer_value(json_object_get(ho, "n_runs")), 36);
        CHECK(num(h, "mean_abs_rel") > 0 && num(h, "mean_abs_rel") < 0.05);
        json_decref(ho);
    }
    CHECK_EQ_INT(run("%s scaling fit %s --holdout 0.95 2>/dev/null", bin, synth), 1);

    /* predict: given (N, D); compute-optimal for C; C with N. */
    CHECK_EQ_INT(run("%s scaling predict --fit %s --params 1e9 --tokens 2e10 --json > %s/p1.json", bin, fpath, dir), 0);
    json_t *p = load_json("p1.json");
    if (p) {
        CHECK_CLOSE(num(p, "loss"), scaling_law_loss(&law, 1e9, 2e10), 0, 1e-13);
        CHECK_CLOSE(num(p, "flops"), 1.2e20, 0, 1e-15);
        json_decref(p);
    }
    CHECK_EQ_INT(run("%s scaling predict --fit %s --flops 1e21 --json > %s/p2.json", bin, fpath, dir), 0);
    p = load_json("p2.json");
    if (p) {
        scaling_alloc al;
        double N, D;
        CHECK(scaling_law_alloc(&law, &al, &err) == 0);
        scaling_optimal(&al, 1e21, &N, &D);
        CHECK_CLOSE(num(p, "params"), N, 0, 1e-13);
        CHECK_CLOSE(num(p, "tokens"), D, 0, 1e-13);
        CHECK_CLOSE(num(p, "params") * num(p, "tokens"), 1e21 / 6, 0, 1e-15);
        CHECK_CLOSE(num(p, "loss"), scaling_law_loss(&law, N, D), 0, 1e-13);
        json_decref(p);
    }
    CHECK_EQ_INT(run("%s scaling predict --fit %s --flops 6e20 --params 1e9 --json > %s/p3.json", bin, fpath, dir), 0);
    p = load_json("p3.json");
    if (p) {
        CHECK_CLOSE(num(p, "tokens"), 1e11, 0, 1e-15);
        json_decref(p);
    }
    CHECK_EQ_INT(run("%s scaling predict --fit %s --params 1e9 2>/dev/null", bin, fpath), 2);
    CHECK_EQ_INT(run("%s scaling predict --params 1e9 --tokens 1e9 2>/dev/null", bin), 2);
    CHECK_EQ_INT(run("echo '{\"E\":1,\"A\":2}' > %s/bad.json; %s scaling predict --fit %s/bad.json --flops 1e20 2> %s/err.txt",
                     dir, bin, dir, dir), 1);
    txt = slurp("err.txt");
    CHECK_STR_CONTAINS(txt, "key 'B' is missing");
    free(txt);

    /* plan: two budgets, small batches, default shapes. */
    CHECK_EQ_INT(run("%s scaling plan --flops 1e15,1e16 -o %s/sweep --batch-size 24 --seq-len 256 --train 't/*.bin' "
                     "--val 'v/*.bin' --tokenizer tok.json --runs-dir %s/runs --wd-from-tau > %s/plan.txt", bin, dir, dir, dir), 0);
    char *plancsv = slurp("sweep/plan.csv");
    CHECK(plancsv != NULL);
    int nconf = 0;
    char **runs = calloc(64, sizeof *runs);
    if (plancsv) {
        char *save, *line = strtok_r(plancsv, "\n", &save);
        CHECK_STR_CONTAINS(line, "name,flops_budget,n_layer");
        while ((line = strtok_r(NULL, "\n", &save)) && nconf < 64) {
            char *cfg = strrchr(line, ',') + 1;
            lmc_err e2 = {0};
            json_t *y = lmc_yaml_load_file(cfg, &e2);
            CHECK_MSG(y != NULL, "%s", e2.msg);
            if (!y) continue;
            double C = atof(strchr(line, ',') + 1);
            CHECK(C == 1e15 || C == 1e16);
            const char *arch = json_string_value(json_object_get(json_object_get(y, "model"), "arch"));
            CHECK(arch && !strcmp(arch, "gpt2"));
            CHECK(json_is_string(json_object_get(json_object_get(y, "data"), "train")));
            CHECK(json_is_string(json_object_get(json_object_get(y, "data"), "val")));
            CHECK(json_is_string(json_object_get(json_object_get(y, "data"), "tokenizer")));
            CHECK(json_is_string(json_object_get(json_object_get(y, "run"), "name")));
            CHECK_EQ_INT(inum(y, "run", "seed"), 1337);
            CHECK_EQ_INT(inum(y, "model", "seq_len"), 256);
            CHECK_EQ_INT(inum(y, "model", "vocab_size"), 0);
            CHECK_EQ_INT(inum(y, "train", "batch_size"), 24);
            CHECK_EQ_INT(inum(y, "train", "micro_batch"), 12);
            CHECK(json_number_value(json_object_get(json_object_get(y, "train"), "lr")) == 6e-4);
            CHECK(json_number_value(json_object_get(json_object_get(y, "train"), "weight_decay")) > 0);
            scaling_shape s = {(int)inum(y, "model", "n_layer"), (int)inum(y, "model", "n_head"),
                               (int)inum(y, "model", "d_model")};
            CHECK_EQ_INT(s.d_model % s.n_head, 0);
            double N = scaling_shape_params(&s), D = (double)inum(y, "train", "steps") * 24 * 256;
            /* 6ND = C up to rounding the steps: within half a step of tokens */
            CHECK_MSG(fabs(6 * N * D - C) <= 6 * N * 24 * 256 * 0.5 + 1e-9 * C, "6ND %g vs C %g", 6 * N * D, C);
            /* a synthetic finished run: config.yaml + metrics.jsonl with a val_loss from a known law */
            char rd[4200];
            snprintf(rd, sizeof rd, "%s/runs/run%d", dir, nconf);
            CHECK(lmc_mkdirs(rd, &e2) == 0);
            char *cy = lmc_path_join(rd, "config.yaml"), *mj = lmc_path_join(rd, "metrics.jsonl");
            CHECK(lmc_json_save_file(y, cy, &e2) == 0); /* JSON is YAML */
            int64_t steps = inum(y, "train", "steps");
            CHECK_EQ_INT(inum(y, "train", "warmup_steps"), llround(0.05 * (double)steps));
            CHECK_EQ_INT(inum(y, "train", "eval_every"), steps);
            lmc_buf m = {0};
            double vl = scaling_law_loss(&(scaling_law){1.8, 400, 2000, 0.34, 0.37}, N, D);
            lmc_buf_printf(&m, NULL, "{\"step\":1,\"loss\":9.1,\"lr\":1e-4,\"grad_norm\":1.2,\"tokens_per_s\":1000,\"mfu\":0.1}\n");
            lmc_buf_printf(&m, NULL, "{\"step\":%lld,\"loss\":%.6f,\"lr\":1e-4,\"grad_norm\":1.2,\"tokens_per_s\":1000,"
                           "\"mfu\":0.1,\"val_loss\":%.17g}\n", (long long)steps, vl + 0.1, vl);
            CHECK(lmc_write_file_atomic(mj, m.data, m.len, &e2) == 0);
            lmc_buf_free(&m);
            free(cy);
            free(mj);
            runs[nconf++] = strdup(rd);
            json_decref(y);
        }
        free(plancsv);
    }
    CHECK(nconf >= 6);
    /* collect them and fit the result */
    lmc_buf cmd = {0};
    lmc_buf_printf(&cmd, NULL, "%s scaling collect", bin);
    for (int i = 0; i < nconf; i++) lmc_buf_printf(&cmd, NULL, " %s", runs[i]);
    lmc_buf_printf(&cmd, NULL, " -o %s/collected.csv > /dev/null", dir);
    CHECK_EQ_INT(run("%s", cmd.data), 0);
    scaling_runs r;
    char *cpath = lmc_path_join(dir, "collected.csv");
    CHECK_MSG(scaling_runs_load_csv(cpath, 5, &r, &err) == 0, "%s", err.msg);
    CHECK_EQ_INT(r.n, nconf);
    for (size_t i = 0; i < r.n; i++) {
        CHECK_CLOSE(r.flops[i], 6 * r.params[i] * r.tokens[i], 0, 1e-15);
        CHECK_CLOSE(r.loss[i], scaling_law_loss(&(scaling_law){1.8, 400, 2000, 0.34, 0.37}, r.params[i], r.tokens[i]), 0, 1e-15);
    }
    if (r.n) scaling_runs_free(&r);
    /* the collected runs share budgets: Approach 2 applies */
    CHECK_EQ_INT(run("%s scaling fit %s --approach 2 > /dev/null", bin, cpath), 0);

    /* collect errors: no val_loss, unfinished, a broken line (file:line) */
    char *m0 = lmc_path_join(runs[0], "metrics.jsonl");
    lmc_write_file_atomic(m0, "{\"step\":1,\"loss\":3}\n", 20, &err);
    CHECK_EQ_INT(run("%s scaling collect %s -o %s/c.csv 2> %s/err.txt", bin, runs[0], dir, dir), 1);
    txt = slurp("err.txt");
    CHECK_STR_CONTAINS(txt, "no line has a val_loss");
    free(txt);
    lmc_write_file_atomic(m0, "{\"step\":1,\"val_loss\":3}\n", 24, &err);
    CHECK_EQ_INT(run("%s scaling collect %s -o %s/c.csv 2> %s/err.txt", bin, runs[0], dir, dir), 1);
    txt = slurp("err.txt");
    CHECK_STR_CONTAINS(txt, "run not finished");
    free(txt);
    /* the val_loss must be the final step's */
    char mtxt[256];
    snprintf(mtxt, sizeof mtxt, "{\"step\":1,\"val_loss\":3}\n{\"step\":%d,\"loss\":3}\n", 1 << 30);
    lmc_write_file_atomic(m0, mtxt, strlen(mtxt), &err);
    CHECK_EQ_INT(run("%s scaling collect %s -o %s/c.csv 2> %s/err.txt", bin, runs[0], dir, dir), 1);
    txt = slurp("err.txt");
    CHECK_STR_CONTAINS(txt, "not at the final step");
    free(txt);
    lmc_write_file_atomic(m0, "{\"step\":1,\"val_loss\":3}\n{\"step\":2,\"val\n", 40, &err);
    CHECK_EQ_INT(run("%s scaling collect %s -o %s/c.csv 2> %s/err.txt", bin, runs[0], dir, dir), 1);
    txt = slurp("err.txt");
    char want[4200];
    snprintf(want, sizeof want, "%s:2", m0);
    CHECK_STR_CONTAINS(txt, want);
    free(txt);
    char *c0 = lmc_path_join(runs[0], "config.yaml");
    lmc_write_file_atomic(c0, "model:\n  n_layer: 2\n  d_model: 64\ntrain:\n  steps: 1\n  batch_size: 1\n", 66, &err);
    CHECK_EQ_INT(run("%s scaling collect %s -o %s/c.csv 2> %s/err.txt", bin, runs[0], dir, dir), 1);
    txt = slurp("err.txt");
    CHECK_STR_CONTAINS(txt, "model.seq_len is missing");
    free(txt);
    free(c0);
    free(m0);

    /* --shapes: CSV and YAML; a bad one names file:line */
    CHECK_EQ_INT(run("printf 'n_layer,n_head,d_model\\n2,2,128\\n3,3,192\\n4,4,256\\n' > %s/s.csv && "
                     "%s scaling plan --flops 1e14 --shapes %s/s.csv -o %s/s1 --batch-size 4 --seq-len 128 > /dev/null",
                     dir, bin, dir, dir), 0);
    txt = slurp("s1/plan.csv");
    CHECK_STR_CONTAINS(txt, "isoflop_C1e14_L3_d192");
    free(txt);
    CHECK_EQ_INT(run("printf 'shapes:\\n  - {n_layer: 2, d_model: 128}\\n  - {n_layer: 3, d_model: 192}\\n"
                     "  - {n_layer: 4, n_head: 8, d_model: 256}\\n' > %s/s.yaml && "
                     "%s scaling plan --flops 1e14 --shapes %s/s.yaml -o %s/s2 --batch-size 4 --seq-len 128 > /dev/null",
                     dir, bin, dir, dir), 0);
    txt = slurp("s2/isoflop_C1e14_L4_d256.yaml");
    CHECK_STR_CONTAINS(txt, "n_head: 8");
    free(txt);
    CHECK_EQ_INT(run("printf 'n_layer,n_head,d_model\\n2,2,128\\n3,3,190\\n' > %s/b.csv && "
                     "%s scaling plan --flops 1e14 --shapes %s/b.csv -o %s/s3 2> %s/err.txt", dir, bin, dir, dir, dir), 1);
    txt = slurp("err.txt");
    snprintf(want, sizeof want, "%s/b.csv:3", dir);
    CHECK_STR_CONTAINS(txt, want);
    CHECK_STR_CONTAINS(txt, "not a multiple of n_head");
    free(txt);
    /* --fit centres the sweep on N*(C) of the fit instead of 20 tokens/param */
    CHECK_EQ_INT(run("%s scaling plan --flops 1e19 --fit %s -o %s/s6 --span 2 > /dev/null", bin, fpath, dir), 0);
    {
        scaling_alloc al;
        double Nc, Dc;
        CHECK(scaling_law_alloc(&law, &al, &err) == 0);
        scaling_optimal(&al, 1e19, &Nc, &Dc);
        txt = slurp("s6/plan.csv");
        int rows = 0;
        for (char *q = txt ? strchr(txt, '\n') : NULL; q && q[1]; q = strchr(q + 1, '\n')) {
            int L, h, d;
            CHECK(sscanf(strchr(q + 1, ',') + 1, "%*[^,],%d,%d,%d", &L, &h, &d) == 3);
            double N = scaling_shape_params(&(scaling_shape){L, h, d});
            CHECK_MSG(N >= Nc / 2 && N <= Nc * 2, "N %g outside [N*/2, 2N*] with N* = %g", N, Nc);
            rows++;
        }
        CHECK(rows >= 3);
        free(txt);
    }
    /* a budget no shape fits */
    CHECK_EQ_INT(run("%s scaling plan --flops 1e30 -o %s/s4 2> %s/err.txt", bin, dir, dir), 1);
    txt = slurp("err.txt");
    CHECK_STR_CONTAINS(txt, "budget 1e+30 FLOPs");
    free(txt);
    CHECK_EQ_INT(run("%s scaling plan --flops 1e17,x -o %s/s5 2>/dev/null", bin, dir), 2);

    /* powerlines through the CLI */
    CHECK_EQ_INT(run("%s scaling powerlines --batch 524288 --tokens 1.2e10 --lr 6e-4 --params 6e8 --wd 0.1 --json > %s/pl.json",
                     bin, dir), 0);
    p = load_json("pl.json");
    if (p) {
        double tau = pow(20, -0.52);
        CHECK_CLOSE(num(p, "tau_opt"), tau, 0, 1e-12);
        CHECK_CLOSE(num(p, "weight_decay"), 524288 / (6e-4 * 1.2e10 * tau), 0, 1e-12);
        CHECK_CLOSE(num(p, "tau"), 524288 / (6e-4 * 0.1 * 1.2e10), 0, 1e-12);
        json_decref(p);
    }
    CHECK_EQ_INT(run("%s scaling powerlines --batch 1048576 --tokens 1.2e10 --lr 6e-4 --tau 0.3 --json > %s/pl2.json", bin, dir), 0);
    p = load_json("pl2.json");
    if (p) {
        CHECK_CLOSE(num(p, "weight_decay"), 1048576 / (6e-4 * 1.2e10 * 0.3), 0, 1e-12);
        json_decref(p);
    }
    CHECK_EQ_INT(run("%s scaling powerlines --batch 1 --tokens 1 --lr 1 2>/dev/null", bin), 2);

    for (int i = 0; i < nconf; i++) free(runs[i]);
    free(runs);
    free(cpath);
    free(fpath);
    lmc_buf_free(&cmd);
    lmc_remove_tree(dir, &err);
    free(dir);
    return test_summary("scaling/cli");
}
