/* Benchmark: full GPT-2 training steps (forward + backward + clip + AdamW) on random tokens, fp32.
 * Prints per-step times, a per-kernel breakdown of one step, and a RESULT JSON line.
 * usage: train_step --L 6 --H 6 --d 384 --T 256 --B 8 --V 8192 --steps 10 --warmup 2 --threads 2 [--peak 1]
 * --peak 1 also measures the GEMM peak (square 2048, same threads and precision) for the MFU denominator.
 * --precision fp32|bf16|auto (default fp32). --llama 1 --KV 2: the llama preset (RMSNorm, RoPE, SwiGLU,
 * untied head) with that many key/value heads (0 = H). Steps run as lmc train runs them (gpt2_forward_backward:
 * the JSON's ms_fwd is then forward + backward and ms_bwd 0); --full-logits 1: separate forward and backward,
 * all N x V logits at once. */
#include "model/gpt2.h"
#include "kernels/cpu/kernels.h"
#include "base/progress.h"
#include "base/rng.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static double cpu_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    int L = 6, H = 6, d = 384, T = 256, B = 8, V = 8192, steps = 10, warmup = 2, threads = 2, peak = 0;
    lmc_precision prec = LMC_PREC_FP32;
    int llama = 0, KV = 0, full_logits = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        int v = atoi(argv[i + 1]);
        if (!strcmp(argv[i], "--precision")) {
            int p = lmc_precision_parse(argv[i + 1]);
            if (p < 0) { fprintf(stderr, "--precision: auto, fp32 or bf16\n"); return 2; }
            prec = (lmc_precision)p;
        }
        else if (!strcmp(argv[i], "--L")) L = v;
        else if (!strcmp(argv[i], "--H")) H = v;
        else if (!strcmp(argv[i], "--d")) d = v;
        else if (!strcmp(argv[i], "--T")) T = v;
        else if (!strcmp(argv[i], "--B")) B = v;
        else if (!strcmp(argv[i], "--V")) V = v;
        else if (!strcmp(argv[i], "--steps")) steps = v;
        else if (!strcmp(argv[i], "--warmup")) warmup = v;
        else if (!strcmp(argv[i], "--threads")) threads = v;
        else if (!strcmp(argv[i], "--peak")) peak = v;
        else if (!strcmp(argv[i], "--llama")) llama = v;
        else if (!strcmp(argv[i], "--KV")) KV = v;
        else if (!strcmp(argv[i], "--full-logits")) full_logits = v;   /* 1: all N x V logits at once (pre-chunking) */
        else { fprintf(stderr, "unknown option %s\n", argv[i]); return 2; }
    }
    lmc_kernels_set_threads(threads);
    lmc_err perr;
    if (lmc_kernels_set_precision(prec, &perr)) { fprintf(stderr, "%s\n", perr.msg); return 1; }
    prec = lmc_kernels_get_precision();
    fprintf(stderr, "GEMM: %s, precision %s, %d threads\n", lmc_kernels_gemm_backend(), lmc_precision_name(prec), threads);
    /* The MFU denominator: the best square 2048^3 GEMM on lmc's own GEMM path, in this run's precision. */
    double peak_gf = peak ? lmc_kernels_gemm_peak(2048, 1.0) / 1e9 : 0.0;
    if (peak) fprintf(stderr, "GEMM peak 2048^3 (%s, %d threads): %.1f GFLOP/s\n", lmc_precision_name(prec), threads, peak_gf);
    gpt2_config cfg;
    gpt2_config_preset(&cfg, llama ? GPT2_ARCH_LLAMA : GPT2_ARCH_GPT2);
    cfg.n_layer = L; cfg.n_head = H; cfg.n_kv_head = KV; cfg.d_model = d; cfg.max_seq = T; cfg.vocab_size = V;
    gpt2_model *m;
    lmc_err err;
    if (gpt2_create(&m, &cfg, &err) || gpt2_enable_training(m, &err)) { fprintf(stderr, "%s\n", err.msg); return 1; }
    gpt2_set_loss_only(m, !full_logits);   /* as lmc train runs it */
    gpt2_init_random(m, 0);
    int32_t *x = malloc((size_t)B * T * 4), *y = malloc((size_t)B * T * 4);
    lmc_rng r;
    lmc_rng_init(&r, 1);
    gpt2_adamw hp = {3e-4f, 0.9f, 0.95f, 1e-8f, 0.1f};
    double *ts = malloc(sizeof(double) * (steps + 1)), *tf = malloc(sizeof(double) * (steps + 1)),
           *tb = malloc(sizeof(double) * (steps + 1)), *to = malloc(sizeof(double) * (steps + 1)),
           *tc = malloc(sizeof(double) * (steps + 1));
    double prof[GPT2_PROF_N] = {0};
    for (int s = 0; s < warmup + steps; s++) {
        for (int i = 0; i < B * T; i++) { x[i] = (int32_t)lmc_rng_below(&r, V); y[i] = (int32_t)lmc_rng_below(&r, V); }
        int k = s - warmup;
        m->profile = k == steps - 1;  /* profile the last step only (the timers add syncs nowhere) */
        memset(m->prof_s, 0, sizeof m->prof_s);
        double c0 = cpu_now();
        double t0 = lmc_now();
        float loss;
        gpt2_zero_grad(m);
        /* as lmc train calls it: one gpt2_forward_backward (with several head chunks the head's backward
         * runs inside the forward, so there is no separate forward time: reported as fwd+bwd, bwd 0);
         * --full-logits 1 keeps the two calls */
        double t1;
        if (full_logits) {
            if (gpt2_forward(m, x, y, B, T, &loss, &err)) { fprintf(stderr, "%s\n", err.msg); return 1; }
            t1 = lmc_now();
            if (gpt2_backward(m, 1.0f, &err)) { fprintf(stderr, "%s\n", err.msg); return 1; }
        } else {
            if (gpt2_forward_backward(m, x, y, B, T, 1.0f, &loss, &err)) { fprintf(stderr, "%s\n", err.msg); return 1; }
            t1 = lmc_now();
        }
        double t2 = lmc_now();
        gpt2_clip_grad(m, 1.0);
        gpt2_adamw_step(m, &hp, &err);
        double t3 = lmc_now();
        double c3 = cpu_now();
        if (k >= 0) tc[k] = c3 - c0;
        if (k >= 0) { ts[k] = t3 - t0; tf[k] = t1 - t0; tb[k] = t2 - t1; to[k] = t3 - t2; }
        if (m->profile) memcpy(prof, m->prof_s, sizeof prof);
        fprintf(stderr, "step %d loss %.4f total %.1f ms (%s %.1f bwd %.1f opt %.1f)\n", s, loss, 1e3 * (t3 - t0),
                full_logits ? "fwd" : "fwd+bwd", 1e3 * (t1 - t0), 1e3 * (t2 - t1), 1e3 * (t3 - t2));
    }
    const double t_prof = ts[steps - 1];   /* the profiled step's own time: "other" is measured within it */
    double mn = ts[0], mx = ts[0];
    for (int k = 0; k < steps; k++) { if (ts[k] < mn) mn = ts[k]; if (ts[k] > mx) mx = ts[k]; }
    qsort(ts, steps, sizeof(double), cmp_d);
    qsort(tf, steps, sizeof(double), cmp_d);
    qsort(tb, steps, sizeof(double), cmp_d);
    qsort(to, steps, sizeof(double), cmp_d);
    qsort(tc, steps, sizeof(double), cmp_d);
    double med = ts[steps / 2], tok_s = (double)B * T / med;
    double fpt = gpt2_flops_per_token(&cfg, T);
    double prof_total = 0;
    for (int i = 0; i < GPT2_PROF_N; i++) prof_total += prof[i];
    fprintf(stderr, "per-kernel time of one step (ms):");
    for (int i = 0; i < GPT2_PROF_N; i++) fprintf(stderr, " %s %.1f", gpt2_prof_name(i), 1e3 * prof[i]);
    fprintf(stderr, " | other %.1f (of that step's %.1f)\n", 1e3 * (t_prof - prof_total), 1e3 * t_prof);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("RESULT {\"impl\": \"lmc\", \"precision\": \"%s\", \"threads\": %d, \"L\": %d, \"H\": %d, \"d\": %d, \"T\": %d, \"B\": %d, \"V\": %d, "
           "\"steps\": %d, \"ms_step\": %.2f, \"ms_fwd\": %.2f, \"ms_bwd\": %.2f, \"ms_opt\": %.2f, \"ms_min\": %.2f, "
           "\"ms_max\": %.2f, \"cpu_ms_step\": %.2f, \"tok_s\": %.1f, \"flops_per_tok\": %.0f, \"gflops_achieved\": %.1f, \"gemm_peak_gflops\": %.1f, "
           "\"max_rss_mb\": %.1f, \"kernels_ms\": {",
           lmc_precision_name(prec), threads, L, H, d, T, B, V, steps, 1e3 * med, 1e3 * tf[steps / 2], 1e3 * tb[steps / 2], 1e3 * to[steps / 2],
           1e3 * mn, 1e3 * mx, 1e3 * tc[steps / 2], tok_s, fpt, fpt * tok_s / 1e9, peak_gf, ru.ru_maxrss / 1024.0);
    for (int i = 0; i < GPT2_PROF_N; i++) printf("%s\"%s\": %.2f", i ? ", " : "", gpt2_prof_name(i), 1e3 * prof[i]);
    printf("}}\n");
    gpt2_free(m);
    free(x); free(y); free(ts); free(tf); free(tb); free(to); free(tc);
    return 0;
}
