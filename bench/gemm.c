/* GEMM backends on the model's own shapes: OpenBLAS split over lmc's threads, oneDNN's matmul primitive
 * (fp32, and bf16 with lmc's rounding of the activation operand included, B as a weight passed plain or
 * kept packed in oneDNN's layout), and dnnl_sgemm, each through the same call lmc makes. --clock cpu times with
 * process CPU time instead of wall time (robust to other load with --threads 1). Prints GFLOP/s per shape (best of --reps) and a RESULT JSON line.
 * usage: bench_gemm [--d 384] [--N 2048] [--V 8192] [--threads 2] [--reps 5] [--clock wall|cpu] */
#include "kernels/cpu/kernels.h"
#include "kernels/cpu/gemm.h"
#include "base/progress.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef LMC_HAVE_DNNL
#include <oneapi/dnnl/dnnl.h>
#endif

static int use_cpu_clock;
static double clock_s(void) {
    if (!use_cpu_clock) return lmc_now();
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef struct shape { const char *name; int ta, tb, M, N, K; } shape;

static float *rnd(size_t n) {
    float *p = malloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++) p[i] = (float)((i * 2654435761u) % 1000) / 1000.0f - 0.5f;
    return p;
}

enum { BLAS, DNNL_F32, DNNL_SGEMM, DNNL_BF16, DNNL_BF16_PACKED, NB };
static const char *bname[NB] = {"openblas-split", "onednn-matmul-f32", "dnnl_sgemm", "onednn-bf16-plainB",
                                "onednn-bf16-packedB"};

static double run(int b, const shape *s, const float *A, const float *B, float *C, int reps) {
    int lda = s->ta ? s->M : s->K, ldb = s->tb ? s->K : s->N;
    double best = 0;
    lmc_err err;
    for (int r = 0; r < reps + 1; r++) {   /* first call: primitive creation, not timed */
        double t0 = clock_s();
        if (b == DNNL_SGEMM) {
#ifdef LMC_HAVE_DNNL
            dnnl_sgemm(s->ta ? 'T' : 'N', s->tb ? 'T' : 'N', s->M, s->N, s->K, 1.0f, A, lda, B, ldb, 0.0f, C, s->N);
#else
            return 0;
#endif
        } else {
            k_gemm_force_blas(b == BLAS);
            k_gemm_packed_weights(b == DNNL_BF16_PACKED);
            int bf = b == DNNL_BF16 || b == DNNL_BF16_PACKED;
            if (lmc_kernels_set_precision(bf ? LMC_PREC_BF16 : LMC_PREC_FP32, &err)) return 0;
            k_opnd a = {A, NULL, lda, 0}, w = {B, NULL, ldb, 1};
            k_gemm_run(s->ta, s->tb, s->M, s->N, s->K, 1.0f, a, w, 0.0f, C, s->N, NULL);
        }
        double g = 2.0 * s->M * s->N * s->K / (clock_s() - t0) / 1e9;
        if (r && g > best) best = g;
    }
    return best;
}

int main(int argc, char **argv) {
    int d = 384, N = 2048, V = 8192, threads = 2, reps = 5;
    for (int i = 1; i + 1 < argc; i += 2) {
        int v = atoi(argv[i + 1]);
        if (!strcmp(argv[i], "--d")) d = v;
        else if (!strcmp(argv[i], "--N")) N = v;
        else if (!strcmp(argv[i], "--V")) V = v;
        else if (!strcmp(argv[i], "--threads")) threads = v;
        else if (!strcmp(argv[i], "--reps")) reps = v;
        else if (!strcmp(argv[i], "--clock")) use_cpu_clock = !strcmp(argv[i + 1], "cpu");
        else { fprintf(stderr, "unknown option %s\n", argv[i]); return 2; }
    }
    lmc_kernels_set_threads(threads);
    int Vp = (V + 127) / 128 * 128;
    shape sh[] = {
        {"qkv fwd", 0, 0, N, 3 * d, d}, {"fc fwd", 0, 0, N, 4 * d, d}, {"fcproj fwd", 0, 0, N, d, 4 * d},
        {"fc dinp", 0, 1, N, d, 4 * d}, {"qkv dw", 1, 0, d, 3 * d, N}, {"attproj dw", 1, 0, d, d, N},
        {"fc dw", 1, 0, d, 4 * d, N}, {"fcproj dw", 1, 0, 4 * d, d, N}, {"lmhead fwd", 0, 1, N, Vp, d},
        {"lmhead dx", 0, 0, N, d, Vp}, {"lmhead dw", 1, 0, Vp, d, N},
    };
    int ns = (int)(sizeof sh / sizeof sh[0]);
    size_t mx = 0;
    for (int i = 0; i < ns; i++) {
        size_t a = (size_t)sh[i].M * sh[i].K, b = (size_t)sh[i].K * sh[i].N, c = (size_t)sh[i].M * sh[i].N;
        if (a > mx) mx = a;
        if (b > mx) mx = b;
        if (c > mx) mx = c;
    }
    float *A = rnd(mx), *B = rnd(mx), *C = rnd(mx);
    lmc_cpu_features f = lmc_cpu_detect();
    int bf16 = lmc_cpu_has_bf16(&f);
    printf("GEMM GFLOP/s, %d threads, d=%d N=%d Vp=%d; oneDNN: %s\n", threads, d, N, Vp, lmc_kernels_gemm_backend());
    printf("%-12s %6s %6s %6s", "shape", "M", "N", "K");
    for (int b = 0; b < NB; b++) printf(" %19s", bname[b]);
    printf("\n");
    double tot[NB] = {0}, flops = 0;
    for (int i = 0; i < ns; i++) {
        printf("%-12s %6d %6d %6d", sh[i].name, sh[i].M, sh[i].N, sh[i].K);
        double fl = 2.0 * sh[i].M * sh[i].N * sh[i].K;
        flops += fl;
        for (int b = 0; b < NB; b++) {
            double g = (b >= DNNL_BF16 && !bf16) ? 0 : run(b, &sh[i], A, B, C, reps);
            tot[b] += g > 0 ? fl / g : 0;
            printf(" %19.1f", g);
        }
        printf("\n");
    }
    printf("RESULT {\"threads\": %d, \"d\": %d", threads, d);
    for (int b = 0; b < NB; b++) printf(", \"%s\": %.1f", bname[b], tot[b] > 0 ? flops / tot[b] : 0);
    printf("}\n");
    free(A); free(B); free(C);
    return 0;
}
