/* CPU time of one attention forward + backward: softmax (attention.c) vs LSSA / LSSAR
 * (attention_lssa.c), 1 thread, process CPU time (robust on a loaded machine), best of R repeats.
 * usage: bench_attn_switch [B T NH hd R]   (default 8 128 4 32 5) */
#include "kernels/cpu/kernels.h"
#include "kernels/cpu/attn_switch.h"
#include "base/rng.h"
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double cpu_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(int argc, char **argv) {
    int B = argc > 1 ? atoi(argv[1]) : 8, T = argc > 2 ? atoi(argv[2]) : 128, NH = argc > 3 ? atoi(argv[3]) : 4;
    int hd = argc > 4 ? atoi(argv[4]) : 32, R = argc > 5 ? atoi(argv[5]) : 5;
    lmc_kernels_set_threads(1);
    size_t W = (size_t)3 * NH * hd, N = (size_t)B * T;
    float *qkv = malloc(N * W * 4), *out = malloc(N * NH * hd * 4), *dout = malloc(N * NH * hd * 4);
    float *dqkv = malloc(N * W * 4), *lse = malloc(N * NH * 4);
    lmc_rng r;
    lmc_rng_init(&r, 1);
    for (size_t i = 0; i < N * W; i++) qkv[i] = lmc_rng_normal(&r);
    for (size_t i = 0; i < N * NH * hd; i++) dout[i] = lmc_rng_normal(&r);
    const char *name[] = {"softmax", "lssa", "lssar p=15"};
    double base = 0;
    for (int k = 0; k < 3; k++) {
        double bf = 1e30, bb = 1e30;
        for (int rep = 0; rep < R; rep++) {
            double t0 = cpu_s();
            if (k == 0) k_attention_fwd_gqa(out, lse, qkv, B, T, NH, NH, hd, NULL);
            else k_attention_lssa_fwd(out, qkv, B, T, NH, NH, hd, k == 2 ? 15 : 0);
            double t1 = cpu_s();
            if (k == 0) k_attention_bwd_gqa(dqkv, dout, qkv, out, lse, B, T, NH, NH, hd, NULL);
            else k_attention_lssa_bwd(dqkv, dout, qkv, B, T, NH, NH, hd, k == 2 ? 15 : 0);
            double t2 = cpu_s();
            if (t1 - t0 < bf) bf = t1 - t0;
            if (t2 - t1 < bb) bb = t2 - t1;
        }
        if (k == 0) base = bf + bb;
        printf("%-11s B=%d T=%d H=%d hd=%d: forward %.2f ms, backward %.2f ms, total %.2fx softmax\n", name[k], B, T, NH,
               hd, 1e3 * bf, 1e3 * bb, (bf + bb) / base);
    }
    free(qkv); free(out); free(dout); free(dqkv); free(lse);
    return 0;
}
