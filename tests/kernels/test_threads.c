/* Threads hold on any install (issue: on a stock Debian install `threads: 2` ran on one core, because
 * the OpenMP OpenBLAS's openblas_set_num_threads(1) is omp_set_num_threads(1)). Functional checks, no
 * timing: after lmc_kernels_set_threads(2)
 *   1. OpenMP's count is 2 and stays 2 after a full forward/backward/AdamW step;
 *   2. the step's GEMMs ran on 2 threads (the teams that ran GEMM parts, or the team oneDNN was given)
 *      and our other kernels' parallel regions had 2 threads, on every GEMM path (oneDNN and BLAS);
 *   3. two distinct OS threads accumulated CPU time during a large GEMM (/proc/self/task). */
#include "test.h"
#include "kernels/cpu/kernels.h"
#include "kernels/cpu/gemm.h"
#include "model/gpt2.h"
#include "base/rng.h"
#include <dirent.h>
#include <omp.h>

static void one_step(gpt2_model *m, int B, int T, int V) {
    int32_t *x = malloc((size_t)B * T * 4), *y = malloc((size_t)B * T * 4);
    for (int i = 0; i < B * T; i++) { x[i] = (i * 7) % V; y[i] = (i * 13 + 1) % V; }
    lmc_err err;
    gpt2_adamw hp = {1e-3f, 0.9f, 0.95f, 1e-8f, 0.1f};
    float loss;
    gpt2_zero_grad(m);
    CHECK(gpt2_forward(m, x, y, B, T, &loss, &err) == 0);
    CHECK(gpt2_backward(m, 1.0f, &err) == 0);
    CHECK(gpt2_adamw_step(m, &hp, &err) == 0);
    free(x); free(y);
}

/* CPU ticks (utime + stime) of every thread of this process, by tid; returns the count. */
static int task_ticks(long *tid, long *ticks, int cap) {
    DIR *d = opendir("/proc/self/task");
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < cap) {
        if (e->d_name[0] == '.') continue;
        char path[300], buf[1024];
        snprintf(path, sizeof path, "/proc/self/task/%s/stat", e->d_name);
        FILE *f = fopen(path, "r");
        if (!f) continue;
        size_t len = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[len] = 0;
        char *p = strrchr(buf, ')');   /* fields after the command name: state is field 3 */
        if (!p) continue;
        long ut = 0, st = 0;
        /* fields 3..13 skipped, 14 utime, 15 stime */
        if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %ld %ld", &ut, &st) != 2) continue;
        tid[n] = atol(e->d_name);
        ticks[n] = ut + st;
        n++;
    }
    closedir(d);
    return n;
}

static int busy_threads_during_gemm(void) {
    int n = 1536;
    float *a = malloc((size_t)n * n * 4), *b = malloc((size_t)n * n * 4), *c = malloc((size_t)n * n * 4);
    for (size_t i = 0; i < (size_t)n * n; i++) { a[i] = (float)(i % 7) * 0.1f; b[i] = (float)(i % 5) * 0.1f; }
    k_gemm(0, 0, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);   /* thread pool started before the snapshot */
    long tid0[256], t0[256], tid1[256], t1[256];
    int n0 = task_ticks(tid0, t0, 256);
    for (int r = 0; r < 6; r++) k_gemm(0, 0, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
    int n1 = task_ticks(tid1, t1, 256);
    int busy = 0;
    for (int i = 0; i < n1; i++) {
        long before = 0;
        for (int j = 0; j < n0; j++) if (tid0[j] == tid1[i]) before = t0[j];
        if (t1[i] > before) busy++;
    }
    free(a); free(b); free(c);
    return busy;
}

int main(void) {
    lmc_kernels_set_threads(2);
    CHECK_EQ_INT(lmc_kernels_get_threads(), 2);
    CHECK_EQ_INT(omp_get_max_threads(), 2);
    fprintf(stderr, "GEMM backend: %s; BLAS threading: %s\n", lmc_kernels_gemm_backend(), lmc_kernels_blas_threading());

    gpt2_config cfg = {.n_layer = 2, .n_head = 4, .d_model = 128, .max_seq = 64, .vocab_size = 512};
    gpt2_model *m;
    lmc_err err;
    if (gpt2_create(&m, &cfg, &err) || gpt2_enable_training(m, &err)) { fprintf(stderr, "%s\n", err.msg); return 1; }
    gpt2_init_random(m, 1);
    for (int path = 0; path < 2; path++) {   /* 0: the default GEMM path, 1: BLAS split */
        k_gemm_force_blas(path == 1);
        lmc_kernels_thread_stats_reset();
        one_step(m, 8, 64, 512);
        int g = 0, k = 0;
        lmc_kernels_thread_stats(&g, &k);
        fprintf(stderr, "%s path: GEMMs on %d threads, other kernels on %d\n", path ? "BLAS" : "default", g, k);
        CHECK_EQ_INT(g, 2);
        CHECK_EQ_INT(k, 2);
        CHECK_EQ_INT(omp_get_max_threads(), 2);
    }
    k_gemm_force_blas(0);
    int busy = 0;
    for (int tries = 0; tries < 3 && busy < 2; tries++) busy = busy_threads_during_gemm();
    fprintf(stderr, "OS threads with CPU time during a 1536^3 GEMM x6: %d\n", busy);
    CHECK(busy >= 2);
    gpt2_free(m);
    return test_summary("kernels/test_threads");
}
